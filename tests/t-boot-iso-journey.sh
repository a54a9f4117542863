#!/bin/bash
# tier: boot
# timeout: 3600
# Both journeys end to end through the live ISO, one machine all the
# way: P2V from a physical machine to a KVM guest that real libvirt
# boots, then V2P of that guest's image onto a bare-metal machine that
# boots it.
#
# P2V.  The initramfs-tools test guest (tests/guests/build-debian) is the
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
# snapshot), is unchanged: its digest before and after.  The domain's
# name carries this run's PID, so that a domain left behind by a killed
# run (tests/guests/libvirt-setup undefines those) is never in the way.
#
# V2P.  What a user does with that KVM guest's qcow2, as the guest left
# it, before V2P: p2v-fixup --target physical, without an inventory (the
# pins of the first fixup give the MACs); its report must say so.  The
# "bare metal" machine is a second qemu TCG machine (tests/guests/
# boot-iso): an empty, sparse 5 GiB raw disk on AHCI (sda), e1000 NICs
# with the same MACs in PCI slots 3 and 4, booted from a live ISO without
# boot menu arguments (its kernel and initramfs direct, with
# p2v.mode=v2p-recv p2v.listen=4444 p2v.disks=sda p2v.grow=1 p2v.token=...
# p2v.post=poweroff).  Its user network has restrict=on; only its port
# 4444 is reachable, as 127.0.0.1:PORT here (hostfwd).  v2p-send --token
# sends the qcow2 there as soon as v2p-recv listens; the live system
# writes it, grows the last partition (sda3, the root filesystem) to the
# end of the disk and its ext4 with it, prints its outcome block and
# powers off.  The outcome must say the disk was written with the image's
# size; the console, that partition 3 grew.  On the disk, before it
# boots: sda3 ends at the disk's end (sfdisk -J), the other partitions and
# the disk identifier as in the image, and the root ext4 (dumpe2fs -h on
# a read-only loop device of sda3) has more blocks than the image's (the
# image read as raw the same way) and is clean (e2fsck -n).  Then that
# disk boots as the physical machine (tests/guests/boot --physical: AHCI,
# e1000 in slots 3 and 4): its report shows root on /dev/sda3, no virtio
# module, ens3 and ens4 with their MACs and ens3's static address.
#
# This is also the initramfs-tools guest's round trip through p2v-fixup
# (--target virt by p2v-recv --convert, then --target physical), which
# tests/t-boot-fixup.sh therefore leaves to this test: it keeps the
# physical boot and the unconverted guest's failure as a KVM guest.
#
# Every step's time is printed; each p2v-fixup run is bounded by
# timeout(1), each boot by its --timeout.
#
# Times here (2 cores, TCG, the guest and the ISO's Debian part cached),
# when the two journeys were tests of their own: P2V 688 s (the ISO boot
# and send 192 s, the 3 GiB disk's 695 MiB of data sent in 104 s, 217 MiB
# on the wire; p2v-recv's conversion 287 s after that, the libvirt boot
# 149 s); V2P 832 s, of which a fixup for virt 269 s (now P2V's), the
# fixup for physical 322 s, the bare-metal machine 144 s (v2p-recv
# listening after 55 s, the 3 GiB image sent in 68 s, then grown: sda3
# 2.5 GiB -> 4.5 GiB, its ext4 655104 -> 1179392 blocks of 4 KiB), the
# physical boot 65 s.
. "$(dirname "$0")/functions.sh"
for p in p2v-make-iso p2v-send p2v-recv p2v-fixup p2v-domxml v2p-send v2p-recv; do
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
requires qemu-img --version
requires sfdisk --version
requires jq --version
requires dumpe2fs -V
requires losetup --version
requires python3 --version
[[ -d /usr/lib/grub/i386-pc ]] || skip "needs grub-pc-bin"
[[ $(id -u) == 0 ]] ||
  skip "needs root (the guest's build, p2v-make-iso, libvirt, loop devices)"

export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS-force_tcg}
# p2v-fixup rebuilds the initramfs inside the appliance, under TCG: 5 to
# over 10 minutes when the machine is busy.
FIXUP_TIMEOUT=1800
BOOT_TIMEOUT=900
NAME="p2vkit-t-iso-journey-$$"
TOKEN='t-boot-iso-journey-7d2e91'
V2P_TOKEN='t-boot-iso-journey-41c9e3'
TARGET_SIZE=5G
ROOT_PART=3
MAC1=52:54:00:12:34:01
MAC2=52:54:00:12:34:02

# fixup TARGET [OPTIONS]: p2v-fixup --target TARGET on vm.qcow2, bounded,
# its report to TARGET-report.xml, checked against the schema and for
# TARGET, a rebuilt initramfs and both NICs pinned to their MACs.
fixup ()
{
  local target=$1 t=$SECONDS status=0 nic
  shift
  # shellcheck disable=SC2086 # $VG is words, or nothing
  timeout "$FIXUP_TIMEOUT" $VG p2v-fixup -v --target "$target" "$@" \
    --report "$target-report.xml" vm.qcow2 >"fixup-$target.log" 2>&1 ||
    status=$?
  echo "p2v-fixup --target $target: exit status $status in $((SECONDS - t)) s"
  if [[ $status != 0 ]]; then
    tail -n 60 "fixup-$target.log"
    [[ $status != 124 ]] ||
      fail "p2v-fixup --target $target did not finish in $FIXUP_TIMEOUT s"
    fail "p2v-fixup --target $target failed (exit status $status)"
  fi
  echo "--- $target-report.xml:"
  cat "$target-report.xml"
  xmllint --noout --relaxng "$top/templates/fixup-report.rng" \
    "$target-report.xml" || fail "$target-report.xml: not valid"
  has "$target-report.xml" \
    "/fixup-report[@version='1' and @target='$target' and @dry-run='no']" \
    "not the report of a fixup for $target"
  has "$target-report.xml" "/fixup-report/kernels/kernel[@rebuilt='yes']" \
    "no initramfs rebuilt"
  has "$target-report.xml" "not(/fixup-report/kernels/kernel[@rebuilt!='yes'])" \
    "an initramfs not rebuilt"
  for nic in ens3=$MAC1 ens4=$MAC2; do
    has "$target-report.xml" \
      "/fixup-report/nics/nic[@name='${nic%%=*}' and @mac='${nic#*=}' and @pinned]" \
      "${nic%%=*} is not pinned to ${nic#*=}"
  done
}

# has FILE XPATH WHAT: FILE holds XPATH, else fail saying WHAT.
has ()
{
  [[ $(xmllint --xpath "boolean($2)" "$1") == true ]] ||
    fail "$1: $3 (wanted: $2)"
}

# root_blocks DISK START SIZE: set $blocks to the block count of the ext4
# of DISK's partition ROOT_PART (at sector START, SIZE sectors: a
# read-only loop device over it), after checking that it is clean.
root_blocks ()
{
  local loop clean=1
  loop=$(losetup --find --show --read-only --offset $(($2 * 512)) \
           --sizelimit $(($3 * 512)) "$1") || fail "losetup $1 failed"
  e2fsck -fn "$loop" >"$1.fsck" 2>&1 || clean=0
  blocks=$(dumpe2fs -h "$loop" 2>/dev/null |
             awk -F: '/^Block count/ { print $2 + 0 }')
  losetup -d "$loop"
  [[ -n $blocks ]] || fail "no block count for $1's partition $ROOT_PART"
  [[ $clean == 1 ]] ||
    { cat "$1.fsck"; fail "$1: partition $ROOT_PART's ext4 is not clean"; }
}

start=$SECONDS

# --- 1. P2V: the physical machine boots the ISO and sends its disk ----------

t=$SECONDS
cached=$("$srcdir/guests/build-debian" initramfs-tools) ||
  fail "build-debian initramfs-tools failed"
cached_stat=$(stat -c '%s %Y' "$cached")
# The physical machine's disk: a copy, which the live system may write
# (the cached image must never change, whatever happens).
cp --sparse=always "$cached" disk.img
sha256sum disk.img >disk.sum
echo "step 1: guest image $cached, copied and its digest taken ($((SECONDS - t)) s)"

t=$SECONDS
"$bin/p2v-make-iso" --out p2v.iso --timeout 1 --append \
  "p2v.server=tcp://10.0.2.100:4444 p2v.token=$TOKEN p2v.name=$NAME p2v.post=poweroff" ||
  fail "p2v-make-iso failed"
echo "step 1: ISO $(du -h p2v.iso | cut -f1) in $((SECONDS - t)) s"

"$srcdir/guests/libvirt-setup" || fail "libvirt-setup failed"
mkdir recv
start_receiver recv --token "$TOKEN" --once --convert --bridge p2vkit0

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

# --- 2. p2v-recv --convert; libvirt boots its XML --------------------------

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
echo "P2V: the source disk unchanged ($((SECONDS - t)) s)"

# --- 3. V2P: p2v-fixup --target physical on the KVM guest's image ----------

t=$SECONDS
# As a user would: the qcow2 as the KVM guest left it; no inventory, the
# pins of the first fixup give the MACs.
ln "$dir/$NAME-sda.qcow2" vm.qcow2
fixup physical
sha256sum vm.qcow2 >vm.sum
echo "step 3: p2v-fixup --target physical ($((SECONDS - t)) s)"

# --- 4. The bare-metal machine boots the ISO in V2P mode --------------------

t=$SECONDS
"$bin/p2v-make-iso" --out live.iso || fail "p2v-make-iso failed"
echo "step 4: ISO $(du -h live.iso | cut -f1) in $((SECONDS - t)) s"

truncate -s "$TARGET_SIZE" target.img
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

t=$SECONDS
"$srcdir/guests/boot-iso" -v --disk target.img --mac "$MAC1" --mac "$MAC2" \
  --nic-slots 3,4 --hostfwd "$port" --timeout "$BOOT_TIMEOUT" \
  --log console.log --append \
  "p2v.mode=v2p-recv p2v.listen=4444 p2v.disks=sda p2v.grow=1 p2v.token=$V2P_TOKEN p2v.post=poweroff" \
  live.iso >v2p.result 2>boot.err &
boot_pid=$!
cleanup_fn kill "$boot_pid"

# --- 5. v2p-send, as soon as v2p-recv listens --------------------------------

v2p_send_when_listening "$boot_pid" "$BOOT_TIMEOUT" "$port" "$V2P_TOKEN" vm.qcow2
echo "step 5: listening after $((t_send - t)) s; sent, grown and powered off $((SECONDS - t_send)) s later"
echo "--- outcome (booted, received, grown and powered off in $((SECONDS - t)) s):"
cat v2p.result
grep -qx 'result   ok' v2p.result || fail "the outcome is not 'result ok'"
vsize=$(qemu-img info --output=json vm.qcow2 | jq '."virtual-size"')
grep -q "^disk     /dev/sda size=$vsize digest=" v2p.result ||
  fail "the outcome does not list /dev/sda with the image's size ($vsize)"
tr -d '\r' <console.log | grep -a -q "partition $ROOT_PART grown" ||
  fail "the console does not say partition $ROOT_PART was grown"
sha256sum --quiet -c vm.sum || fail "v2p-send changed the image"

# --- 6. The disk: sda3 and its ext4 grown; then it boots as the machine -----

t=$SECONDS
qemu-img convert -O raw vm.qcow2 vm.raw || fail "qemu-img convert to raw failed"
sfdisk -J vm.raw >vm.json || fail "sfdisk -J vm.raw failed"
sfdisk -J target.img >target.json || fail "sfdisk -J target.img failed"
echo "--- target.img:"
cat target.json
sectors=$(($(stat -c %s target.img) / 512))
# jq: the partitions as "start size type" lines; the disk identifier.
parts () { jq -r '.partitiontable.partitions[] | "\(.start) \(.size) \(.type)"' "$1"; }
[[ $(jq -r .partitiontable.id target.json) == $(jq -r .partitiontable.id vm.json) ]] ||
  fail "the disk identifier changed"
[[ $(parts target.json | wc -l) == "$ROOT_PART" ]] ||
  fail "target.img does not have $ROOT_PART partitions"
[[ $(parts target.json | head -n $((ROOT_PART - 1))) == \
   $(parts vm.json | head -n $((ROOT_PART - 1))) ]] ||
  fail "partitions 1 to $((ROOT_PART - 1)) changed"
read -r pstart psize _ < <(parts target.json | sed -n "${ROOT_PART}p")
read -r vstart vsize_s _ < <(parts vm.json | sed -n "${ROOT_PART}p")
[[ $pstart == "$vstart" ]] || fail "partition $ROOT_PART moved ($vstart -> $pstart)"
((psize > vsize_s)) || fail "partition $ROOT_PART did not grow ($vsize_s -> $psize sectors)"
# To the end, but for 1 MiB alignment at most.
((pstart + psize <= sectors && pstart + psize > sectors - 2048)) ||
  fail "partition $ROOT_PART ends at sector $((pstart + psize)), the disk at $sectors"
root_blocks vm.raw "$vstart" "$vsize_s"
blocks_before=$blocks
root_blocks target.img "$pstart" "$psize"
blocks_after=$blocks
echo "partition $ROOT_PART: $vsize_s -> $psize sectors; its ext4: $blocks_before -> $blocks_after blocks"
((blocks_after > blocks_before)) ||
  fail "the root ext4 did not grow ($blocks_before -> $blocks_after blocks)"
rm -f vm.raw
echo "step 6: the disk checked ($((SECONDS - t)) s)"

t=$SECONDS
status=0
"$srcdir/guests/boot" --physical --mac1 "$MAC1" --mac2 "$MAC2" \
  --timeout "$BOOT_TIMEOUT" --log physical.log target.img >physical.report \
  2>physical.err || status=$?
echo "--- report (the physical machine's boot in $((SECONDS - t)) s):"
cat physical.report physical.err
[[ $status == 0 ]] || fail "the physical machine did not boot from its disk"
"$srcdir/guests/check-report" --physical physical.report "$MAC1" "$MAC2" ||
  fail "the report is not that of the physical machine"
if tr -d '\r' <physical.log |
     grep -E 'Gave up waiting for|Timed out waiting for device'; then
  fail "the physical machine waited for a device that is gone"
fi

echo "total $((SECONDS - start)) s"
