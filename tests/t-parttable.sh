#!/bin/bash
# tier: fast
# timeout: 120
# The partition table reader (MBR with logical partitions, GPT with 512-
# and 4096-byte sectors, tables not to be trusted) and a GPT fitted to a
# larger and a smaller disk (tests/unit/test-parttable.c).
. "$(dirname "$0")/functions.sh"

$VG "$top/tests/unit/test-parttable"
