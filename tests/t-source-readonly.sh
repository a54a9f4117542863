#!/bin/bash
# tier: fast
# timeout: 120
# Sources are opened read-only and never written: p2v-send and v2p-write
# work on immutable files, and leave their contents and times alone.
. "$(dirname "$0")/functions.sh"
requires chattr
[[ $(id -u) == 0 ]] || skip "needs root for chattr +i"

"$srcdir/make-disk" --size 16M --data 0.5 --seed 11 disk.raw
chattr +i disk.raw 2>/dev/null || skip "filesystem has no immutable flag"
cleanup_fn chattr -i "$PWD/disk.raw"
before=$(stat -c '%s %Y %Z' disk.raw; sha256sum <disk.raw)

p2v-send disk.raw --to disk.qcow2
chattr +i disk.qcow2
cleanup_fn chattr -i "$PWD/disk.qcow2"
v2p-write disk.qcow2 back.raw
cmp disk.raw back.raw

after=$(stat -c '%s %Y %Z' disk.raw; sha256sum <disk.raw)
[[ $before == "$after" ]] || fail "the source changed"
