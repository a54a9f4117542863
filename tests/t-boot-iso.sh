#!/bin/bash
# tier: boot
# timeout: 1800
# The live ISO: p2v-make-iso builds it (the Debian part cached), with the
# kernel arguments of a P2V run added to its boot menu (--append); a
# "physical machine" (qemu TCG, i440FX PC with SeaBIOS, 1.5 GiB, two
# AHCI disks: the ISO as if written to a USB stick that says it is not
# removable, and a disk with an MBR and an ext4 filesystem holding known
# files; an e1000 NIC whose user network reaches nothing but
# 10.0.2.100:4444, relayed to p2v-recv on this machine's loopback) boots
# it through the ISO's own boot loader (its hybrid partition table); the
# live system gets an address by DHCP, runs p2v-send auto with its
# progress on the serial console, prints its outcome block and powers
# off.  p2v-recv --once must have received the disk: the qcow2 image is
# the source disk's copy (qemu-img compare), the inventory names the
# e1000 NIC with the MAC qemu gave it (and BIOS firmware), and the
# outcome block says what was sent (one disk, sdb: the disk the system
# booted from, sda, is left out).  The source disk is unchanged (its
# digest before and after).  Then an ISO without kernel arguments boots
# from the CD drive by UEFI (OVMF): p2v-live asks on the serial console
# (tests/guests/boot-iso --answer); a wrong token gives a failed outcome
# with p2v-send's error, then a shell, where p2v-live asks again and
# sends; that inventory says UEFI.  Between the two, the BIOS machine
# boots once more, from an ISO with p2v.resync=1, after a file was added
# to its disk: only the changed blocks travel (a few MiB of the copy's
# 17), and the copy is the changed disk again.
#
# Times here (2 cores, TCG): each ISO 3 s with its Debian part cached
# (about 5 minutes without: mmdebstrap 70 s, zstd -19 2 to 4 minutes);
# the BIOS boot about 60 s in all (GRUB loads the 75 MB from the CD in
# about 20 s, the kernel unpacks them in 13 s, systemd is up 20 s
# later), the sending a few seconds; the UEFI boot 70 s to the banner,
# 100 s in all with the answers; the test about 3 minutes.
. "$(dirname "$0")/functions.sh"
[[ -x $bin/p2v-make-iso && -x $bin/p2v-recv ]] || skip "bin/p2v-make-iso not built"
requires mmdebstrap --version
requires grub-mkrescue --version
requires xorriso --version
requires qemu-system-x86_64 --version
requires qemu-img --version
requires socat -V
requires xmllint --version
requires sfdisk --version
requires mkfs.ext4 -V
requires debugfs -V
[[ -d /usr/lib/grub/i386-pc && -d /usr/lib/grub/x86_64-efi ]] ||
  skip "needs grub-pc-bin and grub-efi-amd64-bin"
[[ $(id -u) == 0 ]] || skip "needs root (p2v-make-iso)"

MAC=52:54:00:12:34:56
TOKEN=t-boot-iso-3c1f0a
NAME=t-boot-iso
BOOT_TIMEOUT=600
DISK_SIZE=64M
PART_OFFSET=1048576

# The source disk: an MBR with one partition holding an ext4 filesystem
# with known files (written at the partition's offset: no loop device).
mkdir files
echo "p2vkit t-boot-iso" >files/hello.txt
head -c 16M /dev/urandom >files/random.bin
cp -r /usr/share/common-licenses files/
truncate -s "$DISK_SIZE" disk.img
printf 'label: dos\nstart=%s, type=83\n' "$((PART_OFFSET / 512))" |
  sfdisk -q disk.img
part_size=$(($(stat -c %s disk.img) - PART_OFFSET))
mkfs.ext4 -q -F -E offset=$PART_OFFSET -d files disk.img "$((part_size / 1024))k"
[[ $(blkid -p -O "$PART_OFFSET" -s TYPE -o value disk.img) == ext4 ]] ||
  fail "disk.img: no ext4 filesystem in its partition"
sha256sum disk.img >disk.sum

# The ISO, with the P2V run's kernel arguments on its boot menu.
t=$SECONDS
"$bin/p2v-make-iso" -v --out p2v.iso --timeout 1 --append \
  "p2v.server=tcp://10.0.2.100:4444 p2v.token=$TOKEN p2v.name=$NAME p2v.post=poweroff" ||
  fail "p2v-make-iso failed"
echo "ISO $(du -h p2v.iso | cut -f1) in $((SECONDS - t)) s"
xorriso -osirrox on -indev p2v.iso -extract /boot/grub/grub.cfg grub.cfg \
  >/dev/null 2>&1 || fail "p2v.iso: no /boot/grub/grub.cfg"
grep -q "p2v.server=tcp://10.0.2.100:4444 p2v.token=$TOKEN" grub.cfg ||
  fail "grub.cfg: the --append arguments are not on its kernel command line"

mkdir recv
start_receiver recv --token "$TOKEN" --once

# bios_send ISO NAME WHAT: boot ISO by BIOS, through its boot loader on a
# disk (a USB stick), with disk.img as the other disk, to its outcome
# (NAME.result; the console in NAME.log); then the p2v-recv --once of
# start_receiver must have ended well.
bios_send ()
{
  local iso=$1 name=$2 what=$3 t0=$SECONDS status=0
  "$srcdir/guests/boot-iso" -v --iso-on-disk --disk disk.img --mac "$MAC" \
    --forward "$recv_port" --timeout "$BOOT_TIMEOUT" --log "$name.log" "$iso" \
    >"$name.result" || fail "the $what boot of the ISO did not end with an outcome"
  echo "--- outcome ($what boot, sent and powered off in $((SECONDS - t0)) s):"
  cat "$name.result"
  wait "$recv_pid" || status=$?
  echo "--- p2v-recv:"
  cat recv.err
  [[ $status == 0 ]] || fail "p2v-recv: exit status $status"
}

# BIOS: the whole P2V run.
bios_send p2v.iso bios BIOS

grep -qx 'result   ok' bios.result || fail "the outcome is not 'result ok'"
[[ $(grep -c '^disk ' bios.result) == 1 ]] ||
  fail "the outcome does not list exactly one disk (the ISO's must be left out)"
grep -q "^disk     sdb size=$(stat -c %s disk.img) " bios.result ||
  fail "the outcome does not list sdb with the disk's size"
grep -q '^total    data=[1-9][0-9]* wire=[1-9][0-9]* seconds=' bios.result ||
  fail "the outcome has no totals"
# The console showed p2v-send's progress.
tr -d '\r' <bios.log | grep -a -q '^Running: p2v-send --machine-readable auto --to tcp://10.0.2.100:4444' ||
  fail "the console does not show p2v-send auto running"

dir=recv/$NAME
image=$dir/$NAME-sdb.qcow2
[[ -f $image && -f $dir/inventory.xml ]] ||
  fail "p2v-recv wrote no image or inventory: $(ls -R recv)"
# check_copy WHEN: the image is sound and disk.img's copy, the
# inventory valid.
check_copy ()
{
  qemu-img check -q "$image" || fail "$image: qemu-img check failed $1"
  qemu-img compare -q -f raw -F qcow2 disk.img "$image" ||
    fail "$image: not the same disk as disk.img $1"
  xmllint --noout --relaxng "$top/templates/inventory.rng" "$dir/inventory.xml" ||
    fail "$dir/inventory.xml: not valid $1"
}
check_copy "after the first copy"
# xml_has WHAT XPATH: the inventory holds XPATH.
xml_has ()
{
  [[ $(xmllint --xpath "boolean($2)" "$dir/inventory.xml") == true ]] ||
    fail "$dir/inventory.xml: $1 (wanted: $2)"
}
xml_has "no e1000 NIC with the MAC $MAC" \
  "/inventory/nics/nic[@mac='$MAC' and @driver='e1000']"
xml_has "not BIOS firmware" "/inventory/machine[@firmware='bios']"
xml_has "no 64 MiB disk /dev/sdb with its ext4 partition" \
  "/inventory/disks/disk[@path='/dev/sdb' and @size='$(stat -c %s disk.img)']/table/partition/filesystem[@type='ext4']"
sha256sum --quiet -c disk.sum || fail "the source disk changed"
full_data=$(sed -n 's/^total    data=\([0-9]*\) .*/\1/p' bios.result)

# The same machine after a change, booted from an ISO with p2v.resync=1
# added: the live system brings p2v-recv's copy up to date, sending only
# the blocks that differ (a pre-copy's final round, or the refresh of an
# old copy).  The change: a new 1 MiB file, and with it some metadata.
head -c 1M /dev/urandom >new.bin
debugfs -w -R "write new.bin new.bin" "disk.img?offset=$PART_OFFSET" \
  >/dev/null 2>&1 || fail "debugfs could not add a file to disk.img"
sha256sum disk.img >disk.sum
"$bin/p2v-make-iso" --out resync.iso --timeout 1 --append \
  "p2v.server=tcp://10.0.2.100:4444 p2v.token=$TOKEN p2v.name=$NAME p2v.post=poweroff p2v.resync=1" ||
  fail "p2v-make-iso failed"
start_receiver recv --token "$TOKEN" --once
bios_send resync.iso resync "p2v.resync=1 (BIOS)"
grep -qx 'result   ok' resync.result || fail "the resync's outcome is not 'result ok'"
grep -qx 'mode     p2v-send --resync' resync.result ||
  fail "the outcome does not say it was a resync"
grep -q '^precopy  rounds=1 final=1 ' resync.result ||
  fail "the outcome has no final round"
data=$(sed -n 's/^total    data=\([0-9]*\) .*/\1/p' resync.result)
echo "the resync sent $data bytes of data, the first copy $full_data"
if [[ -z $data ]] || ((data < 1048576 || data > 3 * 1048576)); then
  fail "the resync sent '$data' bytes of data, not the 1 MiB file and a few blocks of metadata"
fi
check_copy "after the resync"
xml_has "no migration figures of one final round" \
  "/inventory/migration[@rounds='1' and @final='yes']"
sha256sum --quiet -c disk.sum || fail "the source disk changed in the resync"

# UEFI (OVMF), through the EFI boot loader of an ISO without kernel
# arguments: p2v-live asks on the serial console.  A wrong token first:
# the outcome says the run failed and why, then a shell, where p2v-live
# asks again, and runs with the right token.
t=$SECONDS
"$bin/p2v-make-iso" --out plain.iso --timeout 1 || fail "p2v-make-iso failed"
xorriso -osirrox on -indev plain.iso -extract /boot/grub/grub.cfg plain.cfg \
  >/dev/null 2>&1 || fail "plain.iso: no /boot/grub/grub.cfg"
if grep -q 'p2v.server=' plain.cfg; then
  fail "plain.cfg: p2v.server= without --append"
fi
echo "plain ISO in $((SECONDS - t)) s"
mkdir recv2
start_receiver recv2 --token "$TOKEN-2"
t=$SECONDS
"$srcdir/guests/boot-iso" -v --uefi --disk disk.img --mac "$MAC" \
  --forward "$recv_port" --timeout "$BOOT_TIMEOUT" --log uefi.log \
  --answer "Press Enter=" \
  --answer "Conversion host (=tcp://10.0.2.100:4444" \
  --answer "Token (=wrong-token" --answer "Disks to send=" \
  --answer "Name of this machine=$NAME-uefi" --answer "Afterwards:=" \
  --answer "Send now?=" \
  --answer "A root shell=p2v-live" \
  --answer "Conversion host (=tcp://10.0.2.100:4444" \
  --answer "Token (=$TOKEN-2" --answer "Disks to send=sda" \
  --answer "Name of this machine=$NAME-uefi" --answer "Afterwards:=poweroff" \
  --answer "Send now?=" \
  plain.iso >uefi.result || fail "the UEFI boot of the ISO did not end with an outcome"
echo "--- outcomes (UEFI boot, asked, failed, asked again, sent and powered off in $((SECONDS - t)) s):"
cat uefi.result
tr -d '\r' <uefi.log | grep -a -q '(UEFI) on ttyS0: P2V' ||
  fail "the banner does not say UEFI on ttyS0: $(tr -d '\r' <uefi.log |
         grep -a 'p2vkit live' | head -n 3 | tr '\n' '|')"
[[ $(grep -c '^result ' uefi.result) == 2 ]] || fail "not two outcomes"
grep -m1 '^result ' uefi.result | grep -qx 'result   failed' ||
  fail "the wrong token's outcome is not 'result failed'"
grep -m1 '^error ' uefi.result | grep -q '^error    p2v-send: .*token' ||
  fail "the wrong token's outcome does not give p2v-send's error"
grep '^result ' uefi.result | tail -n 1 | grep -qx 'result   ok' ||
  fail "the second outcome is not 'result ok'"
dir=recv2/$NAME-uefi
image=$dir/$NAME-uefi-sda.qcow2
[[ -f $image && -f $dir/inventory.xml ]] ||
  fail "p2v-recv wrote no image or inventory: $(ls -R recv2)"
qemu-img compare -q -f raw -F qcow2 disk.img "$image" ||
  fail "$image: not the same disk as disk.img"
xml_has "not UEFI firmware" "/inventory/machine[@firmware='uefi']"
sha256sum --quiet -c disk.sum || fail "the source disk changed"
