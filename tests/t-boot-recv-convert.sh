#!/bin/bash
# tier: boot
# timeout: 3600
# P2V over the network without an inventory, to a machine real libvirt
# boots: p2v-send --no-inventory streams the initramfs-tools test guest's disk
# (tests/guests/build-debian) over loopback TCP to p2v-recv --convert
# --bridge p2vkit0, which, once the sender has finished, runs p2v-fixup
# (no inventory: the NICs ens3 and ens4 that the guest's configuration
# names get new locally administered MACs, pinned) and p2v-domxml (the
# firmware from the partition table, the NICs from the fixup report).
# libvirt then defines and boots that XML unchanged: the guest's report
# must show root on the virtio disk, ens3 and ens4 under their names with
# the MACs the XML gave them (libvirt puts them in PCI slots 2 and 3,
# where unpinned they would be ens2 and ens3), and ens3's static address.
# The sent image is unchanged.
#
# Times here (2 cores, TCG, alone): the fixup about 4 minutes, the boot 2.
. "$(dirname "$0")/functions.sh"
for p in p2v-send p2v-recv p2v-fixup p2v-domxml; do
  [[ -x $bin/$p ]] || skip "bin/$p not built"
done
requires mmdebstrap --version
requires guestfish --version
requires virsh --version
requires xmllint --version
[[ $(id -u) == 0 ]] || skip "needs root (the guest's build, libvirt)"

export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS-force_tcg}
BOOT_TIMEOUT=900
NAME=p2vkit-t-recv-convert

start=$SECONDS
image=$("$srcdir/guests/build-debian" initramfs-tools) ||
  fail "build-debian initramfs-tools failed"
echo "guest image $image ($((SECONDS - start)) s)"
before=$(stat -c '%s %Y' "$image")
"$srcdir/guests/libvirt-setup" || fail "libvirt-setup failed"

mkdir recv
start_receiver recv --token t-recv-convert --once --convert --bridge p2vkit0
t=$SECONDS
# --no-inventory: this machine's hardware is not the guest's.
P2V_TOKEN=t-recv-convert $VG p2v-send "$image" --name "$NAME" -q \
  --no-inventory --to "tcp://127.0.0.1:$recv_port" ||
  fail "p2v-send: exit status $?"
echo "sent in $((SECONDS - t)) s; p2v-recv converts"
status=0
wait "$recv_pid" || status=$?
echo "--- p2v-recv (received and converted in $((SECONDS - t)) s):"
cat recv.err
[[ $status == 0 ]] || fail "p2v-recv --convert: exit status $status"

dir=recv/$NAME
[[ ! -e $dir/inventory.xml ]] || fail "p2v-send --no-inventory sent one"
report=$dir/$NAME-fixup.xml
xml=$dir/$NAME.xml
[[ -s $report && -s $xml ]] || fail "no fixup report or domain XML in $dir: $(ls "$dir")"
xmllint --noout --relaxng "$top/templates/fixup-report.rng" "$report" ||
  fail "$report: not valid"
virt-xml-validate "$xml" domain >/dev/null || fail "$xml: not valid"
echo "--- $xml:"
cat "$xml"

# mac_of FILE XPATH: the MAC attribute the XPath selects.
mac_of ()
{
  xmllint --xpath "string($2)" "$1"
}
declare -A mac
for nic in ens3 ens4; do
  mac[$nic]=$(mac_of "$report" \
    "/fixup-report/nics/nic[@name='$nic' and @mac-from='generated']/@mac")
  [[ ${mac[$nic]} =~ ^[0-9a-f][26ae](:[0-9a-f]{2}){5}$ ]] ||
    fail "$report: $nic has no new locally administered MAC ('${mac[$nic]}')"
  [[ $(xmllint --xpath "count(/domain/devices/interface/mac[@address='${mac[$nic]}'])" "$xml") == 1 ]] ||
    fail "$xml: no NIC with $nic's MAC ${mac[$nic]}"
done

t=$SECONDS
"$srcdir/guests/libvirt-boot" -v --timeout "$BOOT_TIMEOUT" --log console.log \
  "$xml" >boot.report || fail "the converted machine did not boot in libvirt"
echo "--- report (boot in $((SECONDS - t)) s):"
cat boot.report
"$srcdir/guests/check-report" --no-dhcp --virt boot.report "${mac[ens3]}" "${mac[ens4]}" ||
  fail "the report is not that of the converted machine"

[[ $(stat -c '%s %Y' "$image") == "$before" ]] || fail "$image changed"
echo "total $((SECONDS - start)) s"
