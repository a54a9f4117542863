#!/bin/bash
# tier: fast
# timeout: 600
# Reading only what the filesystems use.  A 640 MiB MBR disk whose every
# byte held old non-zero data before it was partitioned: ext4 (files, some
# deleted), XFS (the same), swap (a label and a UUID), and a partition of
# old data with no filesystem.  p2v-send reads less than half of what
# --all-blocks reads; in its image both filesystems check clean and hold
# the same files, the swap area keeps its UUID and label and swapon takes
# it, the unknown partition and everything outside partitions are
# identical, and the free blocks are zeros.  The stream (p2v-send --to -
# into p2v-recv --stdio) carries the same disk, and so does v2p-send from
# a qcow2 image of it onto a disk; a GPT's partitions are mapped alike.
# A damaged block bitmap,
# ext4 superblock or XFS AGF makes that filesystem read in full with one
# warning each, as do an ext4 not cleanly unmounted and a swap area that
# holds a hibernation image; so does an ext4 mounted read-write (a
# crash-consistency warning); one mounted read-only is still mapped.  The source is never
# written.
. "$(dirname "$0")/functions.sh"
. "$srcdir/v2p-lib.sh"
v2p_requires
requires qemu-img
requires mkfs.ext4
requires mkfs.xfs
requires xfs_repair
requires mkswap
requires swapon
requires e2fsck
requires debugfs
requires xfs_db

# The old data: a recognisable line, over the whole disk.
old=p2vkit-old-data-in-free-blocks
{ yes "$old" || true; } | head -c 640M >disk.img
sfdisk -q disk.img <<EOF
label: dos
,160M,83
,300M,83
,32M,82
,64M,83
EOF
make_tree tree 11
make_tree tree/gone 12
head -c 40M /dev/urandom >tree/gone/big
mkfs.ext4 -q -E nodiscard -L p2v-ext4 -d tree "$(part_loop disk.img 1)"
mkfs.xfs -q -K -L p2v-xfs "$(part_loop disk.img 2)"
mount_at "$(part_loop disk.img 2)" mnt
cp -a tree/. mnt/
umount mnt
mkswap -L p2v-swap -U 5e3c1a2b-0f4e-4d6a-9b7c-112233445566 \
  "$(part_loop disk.img 3)" >/dev/null
# Deleted files leave their old contents in free blocks.
debugfs -w -R "rm /gone/big" "$(part_loop disk.img 1)" 2>/dev/null
mount_at "$(part_loop disk.img 2)" mnt
rm mnt/gone/big
umount mnt
rm tree/gone/big
want=$(tree_digest tree)
_detach_scratch_loops
before=$(sha256sum <disk.img)

# done_read FILE: the read= of p2v-send's done line.
done_read ()
{
  awk '$1 == "done" { sub (/.*read=/, ""); print $1 }' "$1"
}

# part_bytes IMAGE N: partition N of raw IMAGE, on stdout.
part_bytes ()
{
  local start size
  start=$(part_field "$1" "$2" start)
  size=$(part_field "$1" "$2" size)
  dd if="$1" bs=512 skip="$start" count="$size" status=none
}

$VG p2v-send disk.img --to used.qcow2 --machine-readable -q -v \
  >used.out 2>used.err
cat used.err
$VG p2v-send disk.img --all-blocks --to all.qcow2 --machine-readable -q \
  >all.out 2>all.err
[[ ! -s all.err ]] || { cat all.err; fail "--all-blocks said something"; }
used_read=$(done_read used.out)
all_read=$(done_read all.out)
echo "read: $used_read used only, $all_read with --all-blocks"
((used_read > 0 && used_read * 2 < all_read)) ||
  fail "read $used_read bytes, not under half of $all_read"
grep -q "partition 1 (ext4): .* used" used.err || fail "no note for ext4"
grep -q "partition 2 (xfs): .* used" used.err || fail "no note for XFS"
grep -q "partition 3 (swap): 4.0 KiB of" used.err || fail "no note for swap"
if grep -q "partition 4" used.err; then fail "partition 4 was mapped"; fi
[[ $(sha256sum <disk.img) == "$before" ]] || fail "the source changed"

qemu-img check -q used.qcow2
qemu-img convert -O raw used.qcow2 used.img
qemu-img convert -O raw all.qcow2 all.img
cmp -s used.img all.img && fail "the free blocks were copied"
e2fsck -fn "$(part_loop used.img 1)" >fsck.out 2>&1 ||
  { cat fsck.out; fail "e2fsck of the ext4 copy"; }
xfs_repair -n "$(part_loop used.img 2)" >repair.out 2>&1 ||
  { cat repair.out; fail "xfs_repair -n of the XFS copy"; }
mount_at "$(part_loop used.img 1)" ext ro
[[ $(tree_digest ext) == "$want" ]] || fail "ext4: files differ"
mount_at "$(part_loop used.img 2)" xfs ro,norecovery
[[ $(tree_digest xfs) == "$want" ]] || fail "XFS: files differ"
umount ext xfs
swap=$(part_loop used.img 3)
[[ $(blkid -o value -s UUID "$swap") == 5e3c1a2b-0f4e-4d6a-9b7c-112233445566 ]] ||
  fail "swap UUID lost"
[[ $(blkid -o value -s LABEL "$swap") == p2v-swap ]] || fail "swap label lost"
swapon "$swap" || fail "swapon refuses the swap copy"
swapoff "$swap"
# The swap pages after the header are zeros; the unknown partition is
# the old data, as are the bytes before partition 1.
[[ $(part_bytes used.img 3 | tail -c +4097 | tr -d '\0' | wc -c) == 0 ]] ||
  fail "swap pages copied"
cmp -s <(part_bytes used.img 4) <(part_bytes disk.img 4) ||
  fail "the partition without a filesystem differs"
cmp -s <(head -c 1M used.img) <(head -c 1M disk.img) ||
  fail "the first MiB differs"
# The old data is gone from the free blocks: what is left of it is in
# allocated blocks that mkfs never wrote whole (inode tables, the log),
# far less than the filesystems held.
for n in 1 2; do
  n_used=$(part_bytes used.img $n | grep -c -a "$old" || true)
  n_all=$(part_bytes all.img $n | grep -c -a "$old" || true)
  ((n_used * 4 < n_all)) ||
    fail "partition $n: $n_used lines of old data left of $n_all"
done

# The stream carries the same disk.
mkdir recv
$VG p2v-send disk.img --to - --name m --no-inventory -q |
  $VG p2v-recv --stdio --out recv -q
qemu-img compare -q recv/m/m-disk.qcow2 used.qcow2 ||
  fail "the streamed disk differs"

# v2p-send from a qcow2 image of the disk onto a disk: the same disk.
qemu-img convert -O qcow2 disk.img disk.qcow2
truncate -s 640M metal.img
metal=$(new_loop metal.img)
$VG v2p-send disk.qcow2 --to - -q | $VG v2p-recv --stdio --disk "$metal" -q
cmp metal.img used.img || fail "v2p-send wrote another disk"
_detach_scratch_loops
rm disk.qcow2 metal.img

# A GPT: its partitions are mapped too.
truncate -s 100M gpt.img
sfdisk -q gpt.img <<EOF
label: gpt
,8M
,64M
EOF
mkfs.ext4 -q -E nodiscard -d tree "$(part_loop gpt.img 2)"
$VG p2v-send gpt.img --to gpt.qcow2 -q -v 2>gpt.err
grep -q "gpt.img: partition 2 (ext4): .* of 64.0 MiB used" gpt.err ||
  { cat gpt.err; fail "no note for the ext4 of the GPT"; }
qemu-img convert -O raw gpt.qcow2 gpt-copy.img
e2fsck -fn "$(part_loop gpt-copy.img 2)" >fsck.out 2>&1 ||
  { cat fsck.out; fail "e2fsck of the GPT's ext4 copy"; }
_detach_scratch_loops

# Damaged metadata: that filesystem is read in full, with a warning.
cp disk.img bad.img
# Group 0's block bitmap: one bit flipped, so its checksum fails.
dumpe2fs "$(part_loop bad.img 1)" >dumpe2fs.out 2>/dev/null
bitmap=$(awk '/Block bitmap at/ && !n++ { print $4 }' dumpe2fs.out)
bs=$(awk '/^Block size:/ { print $3 }' dumpe2fs.out)
start1=$(part_field bad.img 1 start)
off=$((start1 * 512 + bitmap * bs + 100))
printf '\x5a' | dd of=bad.img bs=1 seek=$off conv=notrunc status=none
# AG 1's AGF: its free block count changed, so its checksum fails.
agblocks=$(xfs_db -r -c "sb 0" -c "p agblocks" "$(part_loop bad.img 2)" |
  awk '{ print $3 }')
start2=$(part_field bad.img 2 start)
off=$((start2 * 512 + agblocks * 4096 + 512 + 52))
printf '\x01' | dd of=bad.img bs=1 seek=$off conv=notrunc status=none
_detach_scratch_loops
$VG p2v-send bad.img --to bad.qcow2 --machine-readable >bad.out 2>bad.err
cat bad.err
grep -q "warning: bad.img: partition 1 (ext4): block bitmaps: .*checksum.*: read in full" bad.err ||
  fail "no warning for the ext4 block bitmap"
grep -q "warning: bad.img: partition 2 (xfs): AG 1: AGF checksum does not match: read in full" bad.err ||
  fail "no warning for the XFS AGF"
[[ $(wc -l <bad.err) == 2 ]] || fail "more than two lines"
qemu-img convert -O raw bad.qcow2 bad-copy.img
for n in 1 2; do
  cmp -s <(part_bytes bad-copy.img $n) <(part_bytes bad.img $n) ||
    fail "damaged partition $n not copied in full"
done
cmp -s <(part_bytes bad-copy.img 3) <(part_bytes used.img 3) ||
  fail "the swap area of bad.img was not mapped"

# A damaged ext4 superblock (its checksum fails).
cp disk.img badsb.img
off=$((start1 * 512 + 1024 + 120))      # s_volume_name
printf 'X' | dd of=badsb.img bs=1 seek=$off conv=notrunc status=none
$VG p2v-send badsb.img --to badsb.qcow2 2>badsb.err
cat badsb.err
grep -q "warning: badsb.img: partition 1 (ext): superblock or group descriptors: .*: read in full" badsb.err ||
  fail "no warning for the ext4 superblock"

# An ext4 not cleanly unmounted, and a swap area holding a hibernation
# image: both read in full, with a warning each.
cp disk.img dirty.img
debugfs -w -R "ssv state 0" "$(part_loop dirty.img 1)" 2>/dev/null
start3=$(part_field dirty.img 3 start)
printf 'S1SUSPEND\0' | dd of=dirty.img bs=1 seek=$((start3 * 512 + 4096 - 10)) \
  conv=notrunc status=none
_detach_scratch_loops
$VG p2v-send dirty.img --to dirty.qcow2 2>dirty.err
cat dirty.err
grep -q "warning: dirty.img: partition 1 (ext4): it was not cleanly unmounted (run e2fsck): read in full" dirty.err ||
  fail "no warning for the ext4 not cleanly unmounted"
grep -q "warning: dirty.img: partition 3 (swap): it holds a hibernation image: read in full" dirty.err ||
  fail "no warning for the hibernation image"
qemu-img convert -O raw dirty.qcow2 dirty-copy.img
for n in 1 3; do
  cmp -s <(part_bytes dirty-copy.img $n) <(part_bytes dirty.img $n) ||
    fail "dirty.img: partition $n not copied in full"
done
rm dirty.img dirty-copy.img

# Mounted read-write: read in full, with the crash-consistency warning;
# mounted read-only: mapped.
cp disk.img mounted.img
mount_at "$(part_loop mounted.img 1)" rw
$VG p2v-send mounted.img --to rw.qcow2 --machine-readable >rw.out 2>rw.err
cat rw.err
grep -q "warning: mounted.img: partition 1 (ext4) is mounted read-write on $scratch/rw: read in full, and its copy is crash-consistent at best unless it is frozen" rw.err ||
  fail "no warning for the mounted ext4"
umount rw
_detach_scratch_loops
mount_at "$(part_loop disk.img 1)" ro ro
$VG p2v-send disk.img --to ro.qcow2 -q -v 2>ro.err
grep -q "partition 1 (ext4, mounted read-only): " ro.err ||
  { cat ro.err; fail "the read-only ext4 was not mapped"; }
umount ro
[[ $(sha256sum <disk.img) == "$before" ]] || fail "the source changed"
echo "used blocks: ok"
