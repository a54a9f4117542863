#!/bin/bash
# tier: fast
# timeout: 300
# What p2v-fixup's own inspection reads from a guest's files
# (tests/unit/test-guestinfo.c): os-release with the shell's quoting,
# versions, first lines (/etc/hostname), /etc/fstab entries with octal
# escapes, mount options and device-mapper names of LVs; odd and oversized
# inputs.
. "$(dirname "$0")/functions.sh"

$VG "$top/tests/unit/test-guestinfo"
