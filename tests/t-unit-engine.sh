#!/bin/bash
# tier: fast
# timeout: 300
# The engine's unit tests (tests/unit/test-engine.c): sizes, zero
# detection, digests, errors, and qcow2 written and read in one process.
. "$(dirname "$0")/functions.sh"

$VG "$top/tests/unit/test-engine"
