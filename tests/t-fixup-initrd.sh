#!/bin/bash
# tier: fast
# timeout: 300
# p2v-fixup lists a rebuilt initramfs on the host (fixup/initrd.h): the
# unit tests of tests/unit/test-initrd.c (archives made in memory, every
# truncation, corrupt headers), then images made as mkinitramfs and
# dracut make them, by cpio -H newc, gzip and zstd: each listed exactly
# as cpio lists it; truncated and corrupt ones refused (exit status 1),
# xz and lz4 ones said to be unreadable here (2), so that p2v-fixup asks
# the guest's own lister.
. "$(dirname "$0")/functions.sh"
requires cpio --version
requires gzip --version
requires zstd --version

$VG "$top/tests/unit/test-initrd"

# A tree as an initramfs has it: the early microcode archive, and the main
# one with modules (a name with a space too).
mkdir -p early/kernel/x86/microcode main/usr/lib/modules/6.1.0-1-amd64/kernel/drivers/block main/etc main/bin
echo microcode >early/kernel/x86/microcode/GenuineIntel.bin
echo module >main/usr/lib/modules/6.1.0-1-amd64/kernel/drivers/block/virtio_blk.ko
echo module >main/usr/lib/modules/6.1.0-1-amd64/kernel/drivers/block/virtio_scsi.ko.zst
echo '#!/bin/sh' >main/init
echo 'a b' >"main/etc/name with space"
ln -s ../init main/bin/init-link
head -c 100000 /dev/urandom >main/bin/busybox
mkfifo main/fifo

# cpio_of DIR: DIR's tree as a newc archive on stdout, names without ./.
cpio_of ()
{
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet)
}

cpio_of early >early.cpio
cpio_of main >main.cpio
(cd early && find . -mindepth 1 | LC_ALL=C sort) >early.names
(cd main && find . -mindepth 1 | LC_ALL=C sort) >main.names
sed -i 's|^\./||' early.names main.names
gzip -n -1 -c main.cpio >main.cpio.gz
zstd -q -1 -c main.cpio >main.cpio.zst
cat early.names main.names >both.names

# The images, and what each must list.
cp main.cpio plain.img
cp main.names plain.want
cat early.cpio main.cpio.gz >gzip.img          # dracut --compress gzip
cp both.names gzip.want
cat early.cpio main.cpio.zst >zstd.img         # mkinitramfs, COMPRESS=zstd
cp both.names zstd.want
# zstd in several frames (zstd -T0 may write more than one), then NULs.
split -b 3000 main.cpio part.
for p in part.*; do zstd -q -c "$p"; done >frames.zst
{ cat early.cpio frames.zst; head -c 512 /dev/zero; } >frames.img
cp both.names frames.want
# A second gzip'd archive after the first.
cat early.cpio main.cpio.gz main.cpio.gz >twice.img
cat early.names main.names main.names >twice.want

for img in plain gzip zstd frames twice; do
  echo "+ $img.img"
  $VG "$top/tests/unit/test-initrd" list "$img.img" >"$img.got" ||
    fail "$img.img: exit status $?"
  diff -u "$img.want" "$img.got" || fail "$img.img: not listed as cpio lists it"
done

# status WANTED IMG: test-initrd list IMG exits with WANTED, saying why.
status ()
{
  local s=0
  $VG "$top/tests/unit/test-initrd" list "$2" >/dev/null 2>"$2.err" || s=$?
  [[ $s == "$1" ]] || fail "$2: exit status $s, wanted $1 ($(cat "$2.err"))"
  [[ $1 == 0 || -s $2.err ]] || fail "$2: refused without a reason"
  echo "+ $2: $s $(cat "$2.err")"
}

size=$(stat -c %s zstd.img)
head -c $((size - 100)) zstd.img >cut-zstd.img
status 1 cut-zstd.img
size=$(stat -c %s gzip.img)
head -c $((size - 5)) gzip.img >cut-gzip.img
status 1 cut-gzip.img
head -c 1000 main.cpio >cut-cpio.img
status 1 cut-cpio.img
# A corrupt header (a name size beyond the end) in the main archive.
cp plain.img bad-header.img
printf 'FFFFFFF0' | dd of=bad-header.img bs=1 seek=94 conv=notrunc status=none
status 1 bad-header.img
# Corrupt compressed data: gzip's check, zstd's.
cp gzip.img bad-gzip.img
printf 'XXXXXXXX' | dd of=bad-gzip.img bs=1 seek=$(($(stat -c %s early.cpio) + 200)) \
  conv=notrunc status=none
status 1 bad-gzip.img
cp zstd.img bad-zstd.img
printf 'XXXXXXXX' | dd of=bad-zstd.img bs=1 seek=$(($(stat -c %s early.cpio) + 200)) \
  conv=notrunc status=none
status 1 bad-zstd.img
# Junk after the archives.
{ cat zstd.img; echo junk; } >junk.img
status 1 junk.img

if command -v xz >/dev/null; then
  { cat early.cpio; xz --check=crc32 -c main.cpio; } >xz.img
  status 2 xz.img
fi
if command -v lz4 >/dev/null; then
  { cat early.cpio; lz4 -l -q -c main.cpio; } >lz4.img
  status 2 lz4.img
fi
echo "all checks passed"
