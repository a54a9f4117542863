#!/bin/bash
# tier: fast
# timeout: 300
# The fixup's rewrite rules (tests/unit/test-rewrite.c): the device map,
# and every rewriter (fstab, crypttab, kernel command line, GRUB's
# default and generated configuration, initramfs-tools' resume) on odd and
# realistic files, exact output and log; limits and refused inputs.
. "$(dirname "$0")/functions.sh"

$VG "$top/tests/unit/test-rewrite"
