#!/bin/bash
# tier: boot
# timeout: 3600
# V2P end to end, from a KVM guest to a physical machine, through the
# live ISO: the initramfs-tools test guest (tests/guests/build-debian,
# cached; MBR, sda1 /boot, sda2 swap, sda3 / to the end of its 3 GiB
# disk) as a KVM guest's image: a qcow2 copy that p2v-fixup --target virt
# made one (its NICs pinned to the MACs 52:54:00:12:34:01 and :02 of an
# inventory, tests/guests/make-inventory).  What a user then does before
# V2P: p2v-fixup --target physical on it (its report must say so).
#
# The "bare metal" machine is a second qemu TCG machine (tests/guests/
# boot-iso): an empty, sparse 5 GiB raw disk on AHCI (sda), e1000 NICs
# with the guest's MACs in PCI slots 3 and 4, booted from the live ISO
# (p2v-make-iso, its Debian part cached; its kernel and initramfs direct,
# with p2v.mode=v2p-recv p2v.listen=4444 p2v.disks=sda p2v.grow=1
# p2v.token=... p2v.post=poweroff).  Its user network has restrict=on;
# only its port 4444 is reachable, as 127.0.0.1:PORT here (hostfwd).
# v2p-send --token sends the qcow2 there as soon as v2p-recv listens;
# the live system writes it, grows the last partition (sda3, the root
# filesystem) to the end of the disk and its ext4 with it, prints its
# outcome block and powers off.  The outcome must say the disk was
# written with the image's size; the console, that partition 3 grew.
#
# On the disk, before it boots: sda3 ends at the disk's end (sfdisk -J),
# the other partitions and the disk identifier as in the image, and the
# root ext4 (dumpe2fs -h on a read-only loop device of sda3) has more
# blocks than the image's (the image read as raw the same way), and is
# clean (e2fsck -n).  Then that disk boots as the physical machine
# (tests/guests/boot --physical: AHCI, e1000 in slots 3 and 4): its report
# shows root on /dev/sda3, no virtio module, ens3 and ens4 with their
# MACs and ens3's static address.  The cached image is unchanged.
#
# Every step's time is printed; each p2v-fixup run is bounded by
# timeout(1), each boot by its --timeout.
#
# Times here (2 cores, TCG, the guest and the ISO's Debian part cached,
# a CI run alongside): the qcow2 copy 10 s, p2v-fixup --target virt
# 269 s, --target physical 322 s (301 s and 491 s in another run), the
# ISO 4 s, the bare-metal machine 144 s (v2p-recv listening after 55 s,
# the 3 GiB image sent in 68 s, then grown: sda3 2.5 GiB -> 4.5 GiB, its
# ext4 655104 -> 1179392 blocks of 4 KiB), the disk's checks 6 s, its
# boot as the physical machine 65 s: 832 s in all.
. "$(dirname "$0")/functions.sh"
for p in p2v-make-iso p2v-fixup v2p-send v2p-recv; do
  [[ -x $bin/$p ]] || skip "bin/$p not built"
done
requires mmdebstrap --version
requires grub-mkrescue --version
requires xorriso --version
requires qemu-system-x86_64 --version
requires qemu-img --version
requires guestfish --version
requires xmllint --version
requires sfdisk --version
requires jq --version
requires dumpe2fs -V
requires losetup --version
requires python3 --version
[[ -d /usr/lib/grub/i386-pc ]] || skip "needs grub-pc-bin"
[[ $(id -u) == 0 ]] ||
  skip "needs root (the guest's build, p2v-make-iso, loop devices)"

# p2v-fixup runs libguestfs's appliance under TCG: nested KVM hangs here.
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS-force_tcg}
# p2v-fixup rebuilds the initramfs inside the appliance, under TCG: 5 to
# over 10 minutes when the machine is busy.
FIXUP_TIMEOUT=1800
BOOT_TIMEOUT=900
TOKEN='t-boot-v2p-iso-41c9e3'
MAC1=52:54:00:12:34:01
MAC2=52:54:00:12:34:02
TARGET_SIZE=5G
ROOT_PART=3

start=$SECONDS

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

# --- 1. The KVM guest's image, then p2v-fixup --target physical -------------

t=$SECONDS
cached=$("$srcdir/guests/build-debian" initramfs-tools) ||
  fail "build-debian initramfs-tools failed"
cached_stat=$(stat -c '%s %Y' "$cached")
"$srcdir/guests/make-inventory" "$cached" "$MAC1" "$MAC2" >inventory.xml ||
  fail "make-inventory failed"
qemu-img convert -O qcow2 "$cached" vm.qcow2 || fail "qemu-img convert failed"
echo "step 1: guest image $cached, its qcow2 copy and inventory ($((SECONDS - t)) s)"

t=$SECONDS
fixup virt --inventory inventory.xml
echo "step 1: the KVM guest's image made ($((SECONDS - t)) s)"

t=$SECONDS
# As a user would: no inventory; the pins of the first run give the MACs.
fixup physical
echo "step 1: p2v-fixup --target physical ($((SECONDS - t)) s)"
sha256sum vm.qcow2 >vm.sum

# --- 2. The bare-metal machine boots the ISO in V2P mode --------------------

t=$SECONDS
"$bin/p2v-make-iso" --out live.iso || fail "p2v-make-iso failed"
echo "step 2: ISO $(du -h live.iso | cut -f1) in $((SECONDS - t)) s"

truncate -s "$TARGET_SIZE" target.img
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

t=$SECONDS
"$srcdir/guests/boot-iso" -v --disk target.img --mac "$MAC1" --mac "$MAC2" \
  --nic-slots 3,4 --hostfwd "$port" --timeout "$BOOT_TIMEOUT" \
  --log console.log --append \
  "p2v.mode=v2p-recv p2v.listen=4444 p2v.disks=sda p2v.grow=1 p2v.token=$TOKEN p2v.post=poweroff" \
  live.iso >v2p.result 2>boot.err &
boot_pid=$!
cleanup_fn kill "$boot_pid"

# --- 3. v2p-send, as soon as v2p-recv listens --------------------------------

# Until v2p-recv listens, qemu takes the connection and closes it.
sent=0
t_send=$SECONDS
while kill -0 "$boot_pid" 2>/dev/null && ((SECONDS - t < BOOT_TIMEOUT)); do
  if grep -a -q 'Listening on' console.log 2>/dev/null; then
    t_send=$SECONDS
    # shellcheck disable=SC2086 # $VG is words, or nothing
    if $VG v2p-send -q vm.qcow2 --to "tcp://127.0.0.1:$port" \
         --token "$TOKEN" 2>send.err; then
      sent=1
      break
    fi
  fi
  sleep 2
done
echo "step 3: listening after $((t_send - t)) s; sent in $((SECONDS - t_send)) s"
status=0
wait "$boot_pid" || status=$?
cat boot.err
[[ $sent == 1 ]] || fail "v2p-send never got through: $(cat send.err)"
[[ $status == 0 ]] || fail "the ISO's boot did not end with an outcome"
echo "--- outcome (booted, received, grown and powered off in $((SECONDS - t)) s):"
cat v2p.result
grep -qx 'result   ok' v2p.result || fail "the outcome is not 'result ok'"
vsize=$(qemu-img info --output=json vm.qcow2 | jq '."virtual-size"')
grep -q "^disk     /dev/sda size=$vsize digest=" v2p.result ||
  fail "the outcome does not list /dev/sda with the image's size ($vsize)"
tr -d '\r' <console.log | grep -a -q "partition $ROOT_PART grown" ||
  fail "the console does not say partition $ROOT_PART was grown"
sha256sum --quiet -c vm.sum || fail "v2p-send changed the image"

# --- 4. The disk: sda3 and its ext4 grown; then it boots as the machine -----

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
echo "step 4: the disk checked ($((SECONDS - t)) s)"

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

[[ $(stat -c '%s %Y' "$cached") == "$cached_stat" ]] || fail "$cached changed"
echo "total $((SECONDS - start)) s"
