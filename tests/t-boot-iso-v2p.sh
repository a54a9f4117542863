#!/bin/bash
# tier: boot
# timeout: 1200
# V2P onto a machine booted from the live ISO: a "bare metal" machine
# (qemu TCG, i440FX PC, 1.5 GiB, an empty 96 MiB AHCI disk, an e1000 NIC
# whose user network reaches nothing; only its port 4444 is reachable,
# from this machine's loopback) boots the ISO's kernel and initramfs
# (tests/guests/boot-iso --append: no boot loader, the kernel arguments
# given) with p2v.mode=v2p-recv p2v.listen=4444 p2v.disks=sda p2v.grow=1
# p2v.token=... p2v.post=poweroff.  v2p-send sends it a 64 MiB disk (an
# MBR, an ext4 filesystem with known files) as soon as it listens.  The
# outcome block must say the disk was written; the target disk then has
# the partition grown to its end, the ext4 filesystem grown with it and
# clean, and the files as they were.  The image is unchanged.
#
# Times here (2 cores, TCG): the ISO 3 s with its Debian part cached; the
# boot about 45 s to the banner, 55 s in all.
. "$(dirname "$0")/functions.sh"
for p in p2v-make-iso v2p-send v2p-recv; do
  [[ -x $bin/$p ]] || skip "bin/$p not built"
done
requires mmdebstrap --version
requires grub-mkrescue --version
requires xorriso --version
requires qemu-system-x86_64 --version
requires sfdisk --version
requires mkfs.ext4 -V
requires debugfs -V
requires python3 --version
[[ $(id -u) == 0 ]] || skip "needs root (p2v-make-iso)"

TOKEN=t-boot-iso-v2p-7d2e
BOOT_TIMEOUT=600
SOURCE_SIZE=64M
TARGET_SIZE=96M
PART_OFFSET=1048576

# The image: an MBR with one partition holding an ext4 filesystem with
# known files.
mkdir files
echo "p2vkit t-boot-iso-v2p" >files/hello.txt
head -c 3M /dev/urandom >files/random.bin
truncate -s "$SOURCE_SIZE" disk.img
printf 'label: dos\nstart=%s, type=83\n' "$((PART_OFFSET / 512))" |
  sfdisk -q disk.img
part_size=$(($(stat -c %s disk.img) - PART_OFFSET))
mkfs.ext4 -q -F -E offset=$PART_OFFSET -d files disk.img "$((part_size / 1024))k"
sha256sum disk.img >disk.sum
truncate -s "$TARGET_SIZE" target.img

t=$SECONDS
"$bin/p2v-make-iso" --out live.iso || fail "p2v-make-iso failed"
echo "ISO in $((SECONDS - t)) s"

# A free port on loopback for qemu's hostfwd.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

t=$SECONDS
"$srcdir/guests/boot-iso" -v --disk target.img --hostfwd "$port" \
  --timeout "$BOOT_TIMEOUT" --log console.log --append \
  "p2v.mode=v2p-recv p2v.listen=4444 p2v.disks=sda p2v.grow=1 p2v.token=$TOKEN p2v.post=poweroff" \
  live.iso >v2p.result 2>boot.err &
boot_pid=$!
cleanup_fn kill "$boot_pid"

v2p_send_when_listening "$boot_pid" "$BOOT_TIMEOUT" "$port" "$TOKEN" disk.img
echo "sent after $((t_send - t)) s"
echo "--- outcome (boot, received, grown and powered off in $((SECONDS - t)) s):"
cat v2p.result
grep -qx 'result   ok' v2p.result || fail "the outcome is not 'result ok'"
grep -q "^disk     /dev/sda size=$(stat -c %s disk.img) digest=" v2p.result ||
  fail "the outcome does not list /dev/sda with the image's size"
tr -d '\r' <console.log | grep -a -q 'partition 1 grown' ||
  fail "the console does not say the partition was grown"

# The target: one partition, to the end of the disk; its ext4 grown,
# clean, with the files.
sfdisk -d target.img >target.sfdisk
echo "--- target.img:"
cat target.sfdisk
start=$(awk -F'[=,]' '/^target.img1/ { gsub (/ /, ""); print $2 }' target.sfdisk)
size=$(awk -F'[=,]' '/^target.img1/ { gsub (/ /, ""); print $4 }' target.sfdisk)
[[ $start == $((PART_OFFSET / 512)) ]] || fail "target.img1 starts at $start"
(((start + size) * 512 > $(stat -c %s target.img) - PART_OFFSET)) ||
  fail "target.img1 does not reach the end of the disk (size $size)"
dd if=target.img of=part.img bs=1M skip=1 status=none
e2fsck -fn part.img >fsck.out 2>&1 || { cat fsck.out; fail "the grown ext4 is not clean"; }
blocks=$(dumpe2fs -h part.img 2>/dev/null | awk -F: '/^Block count/ { print $2 + 0 }')
bsize=$(dumpe2fs -h part.img 2>/dev/null | awk -F: '/^Block size/ { print $2 + 0 }')
((blocks * bsize > part_size)) ||
  fail "the ext4 was not grown ($blocks blocks of $bsize bytes)"
for f in hello.txt random.bin; do
  debugfs -R "cat /$f" part.img 2>/dev/null | cmp - "files/$f" ||
    fail "$f differs on the target"
done
sha256sum --quiet -c disk.sum || fail "the image changed"
