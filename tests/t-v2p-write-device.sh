#!/bin/bash
# tier: fast
# timeout: 300
# v2p-write onto a block device (a loop device): the device ends up holding
# exactly the image, even where it held other data before (zero runs are
# zeroed, not skipped), space past the image is zeroed, and a device that
# is mounted or too small is refused.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires losetup
requires mkfs.ext4
[[ $(id -u) == 0 ]] || skip "needs root for loop devices"
losetup -f >/dev/null 2>&1 || skip "no free loop device"

size=$((48 * 1024 * 1024))
"$srcdir/make-disk" --size $size --data 0.3 --zero-runs 0.1 --seed 3 disk.raw
p2v-send disk.raw --to disk.qcow2

# The target starts out full of random bytes, and is 16 MiB larger.
head -c $((size + 16 * 1024 * 1024)) /dev/urandom >target.img
dev=$(losetup --show -f target.img)
cleanup_fn losetup -d "$dev"

$VG v2p-write disk.qcow2 "$dev"
cmp -n $size disk.raw "$dev" || fail "device differs from the image"
cmp -n $((16 * 1024 * 1024)) -i $size:$size /dev/zero "$dev" ||
  fail "space past the image was not zeroed"

# Mounted: refused, and the filesystem is untouched.
mkfs.ext4 -q -F "$dev"
mkdir mnt
mount "$dev" mnt
cleanup_fn umount "$PWD/mnt"
echo hello >mnt/file
expect_error "$dev: in use: $dev is mounted on $PWD/mnt" \
  v2p-write disk.qcow2 "$dev"
[[ $(cat mnt/file) == hello ]] || fail "mounted filesystem changed"
umount mnt

# Too small: refused.
truncate -s 1M small.img
sdev=$(losetup --show -f small.img)
cleanup_fn losetup -d "$sdev"
expect_error "too small" v2p-write disk.qcow2 "$sdev"
