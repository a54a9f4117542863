#!/bin/bash
# tier: fast
# timeout: 60
# Network addresses (tests/unit/test-address.c): "HOST:PORT" of
# tcp://, "[ADDR:]PORT" of --listen and "HOST[:PORT]" of ssh://, IPv6 in
# brackets, the port's range, and the message of each refusal.
. "$(dirname "$0")/functions.sh"

$VG "$top/tests/unit/test-address"
