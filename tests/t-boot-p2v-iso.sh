#!/bin/bash
# tier: boot
# timeout: 3600
# P2V end to end, from a physical machine to a KVM guest real libvirt
# boots: the initramfs-tools test guest (tests/guests/build-debian) is the
# "physical" machine, booted under qemu TCG as tests/guests/boot boots it
# (its disk on AHCI, sda; two e1000 NICs with the MACs 52:54:00:12:34:01
# and :02 in PCI slots 3 and 4, where the guest names them ens3 and ens4),
# but from the live ISO (p2v-make-iso, its Debian part cached) on the CD
# drive, with p2v.server= p2v.token= p2v.name= p2v.post=poweroff on its
# boot menu.  Its networks are qemu user networking with restrict=on:
# the first NIC reaches nothing but 10.0.2.100:4444, relayed to p2v-recv
# --once --convert --bridge p2vkit0 on this machine's loopback; the other
# nothing at all.  The live system sends the disk with its inventory
# (the NICs ens3 and ens4 with their MACs, as the live system names them
# in those slots) and powers off; p2v-recv writes the qcow2 and the
# inventory, then runs p2v-fixup (both NICs pinned to the inventory's
# MACs) and p2v-domxml.  libvirt defines and boots that XML unchanged:
# the guest's report must show root on /dev/vda3, virtio_blk and
# virtio_net loaded, ens3 and ens4 with the source machine's MACs
# (libvirt puts them in PCI slots 2 and 3, where unpinned they would be
# ens2 and ens3) and ens3's static address.  The source disk, a copy of
# the cached image that the live system boots with writes allowed (no
# snapshot), is unchanged: its digest before and after.
#
# Times here (2 cores, TCG, the guest and the ISO's Debian part cached,
# other tests running alongside): the copy and its digest 27 s, the ISO
# 4 s, the physical machine's boot of the ISO 192 s (the banner after
# 66 s, the 3 GiB disk's 695 MiB of data sent in 104 s, 217 MiB on the
# wire), p2v-recv's conversion 287 s after that (the initramfs rebuild
# most of it), the libvirt boot 149 s, the digest again 21 s: 688 s in
# all.
. "$(dirname "$0")/functions.sh"
for p in p2v-make-iso p2v-send p2v-recv p2v-fixup p2v-domxml; do
  [[ -x $bin/$p ]] || skip "bin/$p not built"
done
requires mmdebstrap --version
requires grub-mkrescue --version
requires xorriso --version
requires qemu-system-x86_64 --version
requires socat -V
requires guestfish --version
requires virsh --version
requires xmllint --version
[[ -d /usr/lib/grub/i386-pc ]] || skip "needs grub-pc-bin"
[[ $(id -u) == 0 ]] || skip "needs root (the guest's build, p2v-make-iso, libvirt)"

export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS-force_tcg}
BOOT_TIMEOUT=900
NAME='p2vkit-t-p2v-iso'
TOKEN='t-boot-p2v-iso-7d2e91'
MAC1=52:54:00:12:34:01
MAC2=52:54:00:12:34:02

start=$SECONDS
t=$SECONDS
cached=$("$srcdir/guests/build-debian" initramfs-tools) ||
  fail "build-debian initramfs-tools failed"
cached_stat=$(stat -c '%s %Y' "$cached")
# The physical machine's disk: a copy, which the live system may write
# (the cached image must never change, whatever happens).
cp --sparse=always "$cached" disk.img
sha256sum disk.img >disk.sum
echo "guest image $cached, copied and its digest taken ($((SECONDS - t)) s)"

t=$SECONDS
"$bin/p2v-make-iso" --out p2v.iso --timeout 1 --append \
  "p2v.server=tcp://10.0.2.100:4444 p2v.token=$TOKEN p2v.name=$NAME p2v.post=poweroff" ||
  fail "p2v-make-iso failed"
echo "ISO $(du -h p2v.iso | cut -f1) in $((SECONDS - t)) s"

"$srcdir/guests/libvirt-setup" || fail "libvirt-setup failed"
mkdir recv
start_receiver recv --token "$TOKEN" --once --convert --bridge p2vkit0

# The physical machine boots the ISO and sends its disk.
t=$SECONDS
"$srcdir/guests/boot-iso" -v --disk disk.img --mac "$MAC1" --mac "$MAC2" \
  --nic-slots 3,4 --forward "$recv_port" --timeout "$BOOT_TIMEOUT" \
  --log iso.log p2v.iso >iso.result ||
  fail "the physical machine's boot of the ISO did not end with an outcome"
echo "--- outcome (booted the ISO, sent and powered off in $((SECONDS - t)) s):"
cat iso.result
grep -qx 'result   ok' iso.result || fail "the outcome is not 'result ok'"
[[ $(grep -c '^disk ' iso.result) == 1 ]] ||
  fail "the outcome does not list exactly one disk"
grep -q "^disk     sda size=$(stat -c %s disk.img) " iso.result ||
  fail "the outcome does not list sda with the disk's size"

t=$SECONDS
status=0
wait "$recv_pid" || status=$?
echo "--- p2v-recv (converted $((SECONDS - t)) s after the sender's end):"
cat recv.err
[[ $status == 0 ]] || fail "p2v-recv --convert: exit status $status"

dir=recv/$NAME
inventory=$dir/inventory.xml
report=$dir/$NAME-fixup.xml
xml=$dir/$NAME.xml
[[ -f $dir/$NAME-sda.qcow2 && -s $inventory && -s $report && -s $xml ]] ||
  fail "no image, inventory, fixup report or domain XML in $dir: $(ls "$dir")"
xmllint --noout --relaxng "$top/templates/inventory.rng" "$inventory" ||
  fail "$inventory: not valid"
xmllint --noout --relaxng "$top/templates/fixup-report.rng" "$report" ||
  fail "$report: not valid"
virt-xml-validate "$xml" domain >/dev/null || fail "$xml: not valid"
echo "--- $xml:"
cat "$xml"
# has FILE XPATH WHAT: FILE holds XPATH, else fail saying WHAT.
has ()
{
  [[ $(xmllint --xpath "boolean($2)" "$1") == true ]] ||
    fail "$1: $3 (wanted: $2)"
}
for nic in ens3:$MAC1 ens4:$MAC2; do
  name=${nic%%:*} mac=${nic#*:}
  has "$inventory" "/inventory/nics/nic[@name='$name' and @mac='$mac' and @driver='e1000']" \
    "no e1000 NIC $name with $mac"
  has "$report" "/fixup-report/nics/nic[@name='$name' and @mac='$mac' and @mac-from='inventory']" \
    "$name is not pinned to the inventory's MAC $mac"
  has "$xml" "count(/domain/devices/interface/mac[@address='$mac']) = 1" \
    "no one NIC with $name's MAC $mac"
done

t=$SECONDS
"$srcdir/guests/libvirt-boot" -v --timeout "$BOOT_TIMEOUT" --log console.log \
  "$xml" >boot.report || fail "the converted machine did not boot in libvirt"
echo "--- report (libvirt boot in $((SECONDS - t)) s):"
cat boot.report
"$srcdir/guests/check-report" --no-dhcp --virt boot.report "$MAC1" "$MAC2" ||
  fail "the report is not that of the converted machine"

t=$SECONDS
sha256sum --quiet -c disk.sum || fail "the physical machine's disk changed"
[[ $(stat -c '%s %Y' "$cached") == "$cached_stat" ]] || fail "$cached changed"
echo "source disk unchanged ($((SECONDS - t)) s)"
echo "total $((SECONDS - start)) s"
