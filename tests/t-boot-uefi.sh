#!/bin/bash
# tier: boot
# timeout: 2400
# The domain XML of a UEFI source boots with OVMF in real libvirt.  The
# source is the uefi test guest (tests/guests/build-debian uefi: GPT, an
# EFI system partition on /boot/efi, GRUB on the removable-media path,
# UUIDs, an initramfs that has virtio already and NIC names pinned to
# the MACs 52:54:00:12:34:01 and :02, so that it needs no fixup) and its
# machine's inventory (tests/guests/make-inventory: firmware uefi).
# p2v-send copies the disk into qcow2; p2v-domxml makes the domain XML
# of the inventory (a q35 domain with <os firmware='efi'>, its NICs on
# the isolated bridge p2vkit0); libvirt-setup and libvirt-boot define
# and boot that XML unchanged, libvirt choosing OVMF and making the
# domain's NVRAM.  The guest's report must say it was booted by UEFI
# (/sys/firmware/efi), with root, /boot, swap and the EFI system
# partition on the virtio disk, and the NICs ens3 and ens4 up with the
# inventory's MACs: their names are pinned to those MACs, so a NIC
# without its MAC would get another name.  Then the same disk as a BIOS
# domain (--firmware bios) must not boot: SeaBIOS finds nothing to boot
# on a GPT disk without a BIOS boot partition (it is still retrying at
# the timeout), which shows that the test would notice the wrong
# firmware.
#
# Times here (2 cores, TCG, two other boot tests running): the guest 65 s
# to build with its root tarball cached, 300 s without (mmdebstrap); the
# OVMF boot to the report and power off 161 s (about 50 s of it OVMF
# before GRUB); the whole test about 5 minutes with the guest cached.
. "$(dirname "$0")/functions.sh"
[[ -x $bin/p2v-domxml && -x $bin/p2v-send ]] || skip "bin/p2v-domxml not built"
requires mmdebstrap --version
requires virsh --version
requires virt-xml-validate --version
requires xmllint --version
[[ $(id -u) == 0 ]] || skip "needs root (the guest's build, libvirt)"

# The MACs the guest's NIC names are pinned to (build-debian).
MAC1=52:54:00:12:34:01
MAC2=52:54:00:12:34:02
BRIDGE=p2vkit0
NAME="p2vkit-t-boot-uefi-$$"
BOOT_TIMEOUT=900
# SeaBIOS finds nothing to boot on the GPT disk and says so at once; a
# minute is plenty to tell it did not boot.
BIOS_TIMEOUT=60

start=$SECONDS
image=$("$srcdir/guests/build-debian" uefi) || fail "build-debian uefi failed"
echo "guest image $image ($((SECONDS - start)) s)"
sha256sum "$image" >image.sum

"$srcdir/guests/make-inventory" "$image" "$MAC1" "$MAC2" >inventory.xml ||
  fail "make-inventory failed"
xmllint --noout --relaxng "$top/templates/inventory.rng" inventory.xml ||
  fail "make-inventory: the inventory is not valid"
grep -q 'firmware="uefi"' inventory.xml ||
  fail "inventory.xml: the machine's firmware is not uefi"

"$srcdir/guests/libvirt-setup" || fail "libvirt-setup failed"

# shellcheck disable=SC2086 # $VG is words, or nothing
$VG p2v-send -q "$image" --to "$scratch/uefi.qcow2" || fail "p2v-send failed"

# xml_has FILE WHAT XPATH: the XPath expression holds in FILE.
xml_has ()
{
  [[ $(xmllint --xpath "boolean($3)" "$1" 2>/dev/null) == true ]] ||
    fail "$1: $2 (wanted: $3)"
}

# shellcheck disable=SC2086
$VG p2v-domxml -v --inventory inventory.xml --disk "$scratch/uefi.qcow2" \
  --name "$NAME" --type qemu --bridge "$BRIDGE" -o uefi.xml ||
  fail "p2v-domxml failed"
echo "--- uefi.xml:"
cat uefi.xml
virt-xml-validate uefi.xml domain >/dev/null || fail "uefi.xml: not valid"
xml_has uefi.xml "not a UEFI domain" "/domain/os[@firmware='efi']"
xml_has uefi.xml "not a q35 machine" \
  "starts-with(/domain/os/type/@machine, 'pc-q35') or /domain/os/type/@machine='q35'"
for mac in "$MAC1" "$MAC2"; do
  xml_has uefi.xml "no NIC with the inventory's MAC $mac" \
    "/domain/devices/interface/mac[@address='$mac']"
done

t=$SECONDS
"$srcdir/guests/libvirt-boot" -v --timeout "$BOOT_TIMEOUT" --log uefi.log \
  uefi.xml >uefi.report || fail "the UEFI domain did not boot"
echo "--- report (OVMF boot in $((SECONDS - t)) s):"
cat uefi.report
"$srcdir/guests/check-report" --firmware uefi --no-dhcp --virt uefi.report \
  "$MAC1" "$MAC2" || fail "the UEFI guest's report is not as it should be"

# The same disk with BIOS: SeaBIOS finds nothing to boot.
# shellcheck disable=SC2086
$VG p2v-domxml --inventory inventory.xml --disk "$scratch/uefi.qcow2" \
  --name "$NAME-bios" --type qemu --firmware bios --bridge "$BRIDGE" \
  -o bios.xml || fail "p2v-domxml --firmware bios failed"
xml_has bios.xml "not a BIOS domain" "not(/domain/os/@firmware)"
status=0
"$srcdir/guests/libvirt-boot" --timeout "$BIOS_TIMEOUT" --log bios.log \
  bios.xml >bios.report 2>bios.err || status=$?
cat bios.err
[[ $status == 1 && ! -s bios.report ]] ||
  fail "the GPT/UEFI disk booted with BIOS firmware (status $status)"
# It must have failed for that reason, not because libvirt refused it.
grep -q "timed out after $BIOS_TIMEOUT s" bios.err ||
  fail "the BIOS domain did not start and run until the timeout"

sha256sum --quiet -c image.sum || fail "the cached image changed"
echo "total $((SECONDS - start)) s"
