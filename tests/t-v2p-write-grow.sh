#!/bin/bash
# tier: fast
# timeout: 180
# v2p-write --grow, into raw image files (--size), where the filesystem is
# reached through a loop device over the partition: an MBR whose last
# primary partition holds ext4 (grown, files kept, the disk identifier and
# so the PARTUUIDs unchanged); swap (made again with its UUID and label);
# an LVM physical volume (pvresize); vfat (left as it is, with a warning);
# ext4 on a disk without a partition table (the filesystem grown); a GPT
# (grown, its disk and partition GUIDs kept).  A GPT image into a smaller
# file that holds its partitions passes sfdisk --verify; a file too small
# is refused.
. "$(dirname "$0")/functions.sh"
. "$srcdir/v2p-lib.sh"
v2p_requires
requires mkfs.ext4
requires dumpe2fs
requires mkswap
requires mkfs.vfat
requires blkid

# end_of DISK N: where partition N ends (sectors).
end_of ()
{
  echo $(($(part_field "$1" "$2" start) + $(part_field "$1" "$2" size)))
}

# ext4 in the last primary partition.
truncate -s 64M ext.img
sfdisk -q ext.img <<EOF
label: dos
,8M
,40M
EOF
make_tree tree 9
mkfs.ext4 -q -d tree "$(part_loop ext.img 2)"
$VG v2p-write ext.img ext-big.img --size 256M --grow -q
[[ $(stat -c %s ext-big.img) == $((256 * 1024 * 1024)) ]] || fail "--size"
[[ $(end_of ext-big.img 2) == $((256 * 2048)) ]] ||
  fail "partition 2 ends at $(end_of ext-big.img 2)"
same_ids ext-big.img "$(disk_ids ext.img)"
p=$(part_loop ext-big.img 2)
e2fsck -fn "$p"
blocks=$(dumpe2fs -h "$p" 2>/dev/null | awk -F: '/^Block count/ { print $2 }')
bsize=$(dumpe2fs -h "$p" 2>/dev/null | awk -F: '/^Block size/ { print $2 }')
((blocks * bsize > 200 * 1024 * 1024)) || fail "ext4 not grown"
mount_at "$p" mnt ro
[[ $(tree_digest mnt) == "$(tree_digest tree)" ]] || fail "the files differ"
umount mnt

# Swap: the same UUID and label, the whole partition.
truncate -s 32M swap.img
sfdisk -q swap.img <<EOF
label: dos
,8M
,8M,S
EOF
mkswap -q -L sw -U 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 "$(part_loop swap.img 2)"
$VG v2p-write swap.img swap-big.img --size 64M --grow -q
p=$(part_loop swap-big.img 2)
[[ $(blkid -o value -s UUID "$p") == 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 &&
   $(blkid -o value -s LABEL "$p") == sw ]] || fail "swap lost its UUID or label"
[[ $(end_of swap-big.img 2) == $((64 * 2048)) ]] || fail "swap partition not grown"

# An LVM physical volume.
if command -v pvcreate >/dev/null; then
  export LVM_SUPPRESS_FD_WARNINGS=1
  truncate -s 32M pv.img
  sfdisk -q pv.img <<EOF
label: dos
,8M
,16M,8e
EOF
  p=$(part_loop pv.img 2)
  pvcreate -q --devices "$p" "$p"
  $VG v2p-write pv.img pv-big.img --size 64M --grow 2>pv.err
  cat pv.err
  grep -q "LVM physical volume grown with pvresize" pv.err || fail "pvresize"
  p=$(part_loop pv-big.img 2)
  pvsize=$(pvs --devices "$p" --noheadings --units b --nosuffix -o pv_size "$p")
  echo "PV: $pvsize bytes"
  ((pvsize > 50 * 1024 * 1024)) || fail "the PV is $pvsize bytes: not grown"
fi

# vfat: not grown, and said so.
truncate -s 32M vfat.img
sfdisk -q vfat.img <<EOF
label: dos
,8M
,16M,c
EOF
mkfs.vfat "$(part_loop vfat.img 2)" >/dev/null
$VG v2p-write vfat.img vfat-big.img --size 64M --grow 2>vfat.err
cat vfat.err
grep -q "warning: vfat-big.img: partition 2 not grown: it holds vfat" vfat.err ||
  fail "no warning for vfat"
[[ $(end_of vfat-big.img 2) == $(end_of vfat.img 2) ]] ||
  fail "the vfat partition changed"

# No partition table: the filesystem on the whole disk grows.
truncate -s 32M whole.img
mkfs.ext4 -q -d tree whole.img
$VG v2p-write whole.img whole-big.img --size 64M --grow -q
e2fsck -fn whole-big.img
blocks=$(dumpe2fs -h whole-big.img 2>/dev/null | awk -F: '/^Block count/ { print $2 }')
bsize=$(dumpe2fs -h whole-big.img 2>/dev/null | awk -F: '/^Block size/ { print $2 }')
[[ $((blocks * bsize)) == $((64 * 1024 * 1024)) ]] || fail "whole-disk ext4 not grown"

# GPT: grown, its GUIDs kept.
truncate -s 64M gpt-grow.img
sfdisk -q gpt-grow.img <<EOF
label: gpt
,8M
,40M
EOF
mkfs.ext4 -q -d tree "$(part_loop gpt-grow.img 2)"
$VG v2p-write gpt-grow.img gpt-big.img --size 128M --grow -q
sfdisk --verify gpt-big.img
[[ $(end_of gpt-big.img 2) == $((128 * 2048 - 33)) ]] ||
  fail "GPT partition 2 ends at $(end_of gpt-big.img 2)"
same_ids gpt-big.img "$(disk_ids gpt-grow.img)"

# GPT into a smaller file that holds its partitions, and one that does not.
truncate -s 128M gpt.img
sfdisk -q gpt.img <<EOF
label: gpt
,40M
EOF
$VG v2p-write gpt.img gpt-small.img --size 48M 2>small.err
grep -q "gpt-small.img is 48.0 MiB, smaller than the image (128.0 MiB)" small.err ||
  { cat small.err; fail "no note about the smaller file"; }
sfdisk --verify gpt-small.img
expect_error "gpt-tiny.img: too small" v2p-write gpt.img gpt-tiny.img --size 40M
[[ ! -e gpt-tiny.img ]] || fail "a refused file was made"
