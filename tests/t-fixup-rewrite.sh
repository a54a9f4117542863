#!/bin/bash
# tier: fast
# timeout: 300
# The fixup's rewrite rules (tests/unit/test-rewrite.c): the device map,
# and every rewriter (fstab, crypttab, kernel command line, GRUB's
# default and generated configuration, initramfs-tools' resume) on odd and
# realistic files, exact output and log; limits and refused inputs.
# And tests/unit/test-initramfs.c: module lists (modules.dep,
# modules.builtin) and p2v-fixup's block in /etc/initramfs-tools/modules.
. "$(dirname "$0")/functions.sh"

$VG "$top/tests/unit/test-rewrite"
$VG "$top/tests/unit/test-initramfs"
