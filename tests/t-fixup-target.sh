#!/bin/bash
# tier: fast
# timeout: 1800
# What p2v-fixup --target physical and then --target virt leave in the
# phony Debian guest's initramfs-tools configuration (--no-initramfs: the
# phony kernels cannot be rebuilt; the boot tier rebuilds real ones):
#
#   physical: conf.d/p2vkit says MODULES=list, hooks/p2vkit is an
#             executable shell script adding the generic drivers, and
#             /etc/initramfs-tools/modules holds no virtio block;
#   virt:     both files deleted again, the virtio block there.
#
# The report lists each file created, changed or deleted.  The hook is
# then run as mkinitramfs runs it, against this machine's own kernel (the
# one libguestfs boots its appliance with, a Debian 12 kernel like the
# guests'): every driver it names must exist there, as a module or built
# in, and the common ones (AHCI, NVMe, megaraid_sas, usb-storage, ext4,
# xfs) must land in the image directory.
#
# The same runs check the NIC names of a machine without an inventory
# (p2v-convert's case): ens3 and ens4 are configured without a MAC.  The
# physical run (without --new-macs) warns that their names are not
# pinned; the virt run, with --new-macs, gives each a new MAC (locally
# administered, unicast, all different) that a .link file pins and the
# report gives (mac-from="generated", valid against the schema); a third
# run with --new-macs reads those MACs back from the .link files and
# keeps them.  Four libguestfs launches.
. "$(dirname "$0")/functions.sh"
[[ -x $bin/p2v-fixup ]] || skip "bin/p2v-fixup not built"
requires guestfish --version
requires xmllint --version
PATH=$PATH:/usr/sbin:/sbin
requires modprobe --version
hook_functions=/usr/share/initramfs-tools/hook-functions
[[ -f $hook_functions ]] || fail "$hook_functions: missing (initramfs-tools)"

# Under nested virtualisation KVM hangs here: TCG unless told otherwise.
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS-force_tcg}

conf=/etc/initramfs-tools/conf.d/p2vkit
hook=/etc/initramfs-tools/hooks/p2vkit
modules=/etc/initramfs-tools/modules
link_dir=/etc/systemd/network

mapfile -t cached < <("$srcdir/guests/build-phony" debian)
[[ ${#cached[@]} == 2 ]] || fail "build-phony debian: not two images"
cached_sums=$(sha256sum "${cached[@]}")
for i in 0 1; do
  cp --sparse=always "${cached[i]}" "d$i.img"
done

# fixup NAME ARGS...: p2v-fixup, its stderr in NAME.err.
fixup ()
{
  local name=$1 t=$SECONDS
  shift
  echo "+ p2v-fixup $*"
  $VG p2v-fixup -q "$@" 2>"$name.err" || {
    cat "$name.err" >&2
    fail "p2v-fixup ($name) failed"
  }
  echo "$name: $((SECONDS - t)) s"
}

fixup physical --target physical --no-initramfs --report physical.xml \
  d0.img d1.img
# Keep the physical result; the virt run goes on from it.
for i in 0 1; do
  cp --sparse=always "d$i.img" "p$i.img"
done
fixup virt --target virt --no-initramfs --new-macs --report virt.xml \
  d0.img d1.img
# Run again on the result: the new MACs must stay.
fixup again --target virt --no-initramfs --new-macs --report again.xml \
  d0.img d1.img

# Read back both: the physical copy at /p, the virt one at /v.
mkdir p v
{
  echo "run"
  echo "mkmountpoint /p"
  echo "mkmountpoint /v"
  echo "mount-ro /dev/sda3 /p"
  echo "mount-ro /dev/sdc3 /v"
  for d in p v; do
    echo "-download /$d$conf $d/conf"
    echo "-download /$d$hook $d/hook"
    echo "-download /$d$modules $d/modules"
  done
  # Deleted by the virt run: "false" twice.
  echo "echo ==== v"
  echo "exists /v$conf"
  echo "exists /v$hook"
  echo "echo ==== mode"
  echo "-stat /p$hook"
  for n in ens3 ens4; do
    echo "-download /v$link_dir/10-p2vkit-$n.link v/link-$n"
  done
} >readback.fish
guestfish --ro --format=raw -a p0.img -a p1.img -a d0.img -a d1.img \
  -f readback.fish >readback.out 2>readback.err || {
  cat readback.err >&2
  fail "guestfish could not read the guests back"
}
sed 's/^/  /' readback.out

# --- physical ----------------------------------------------------------------

[[ -f p/conf && -f p/hook && -f p/modules ]] ||
  fail "physical: $conf, $hook or $modules missing"
grep -qx 'MODULES=list' p/conf || fail "physical: $conf: no MODULES=list"
mode=$(awk '$1 == "mode:" { print $2 }' readback.out)
[[ $mode == $((8#100755)) ]] ||
  fail "physical: $hook: mode $(printf '%o' "${mode:-0}"), not 100755"
sh -n p/hook || fail "physical: $hook: not a valid shell script"
! grep -q 'p2vkit: begin' p/modules ||
  fail "physical: $modules: the virtio block is still there"

# The hook against this machine's kernel.
kver=
for dir in /lib/modules/*/; do
  [[ -f $dir/modules.dep ]] && kver=$(basename "$dir")
done
[[ -n $kver ]] || fail "no kernel with modules.dep in /lib/modules"
mapfile -t names < <(sed -n '/^manual_add_modules/,/[^\\]$/p' p/hook |
                       sed 's/manual_add_modules//; s/\\$//' | tr -s ' ' '\n' |
                       grep .)
[[ ${#names[@]} -ge 40 ]] ||
  fail "physical: $hook names ${#names[@]} drivers, not 40 or more"
for name in "${names[@]}"; do
  modprobe --set-version="$kver" --show-depends "$name" >/dev/null 2>&1 ||
    fail "physical: $hook: $name: no such module in kernel $kver"
done
mkdir initramfs
DESTDIR=$PWD/initramfs version=$kver verbose=n \
  CONFDIR=/etc/initramfs-tools MODULESDIR=/lib/modules/$kver \
  sh p/hook >hook.out 2>&1 || {
  cat hook.out >&2
  fail "physical: $hook failed against kernel $kver"
}
for ko in ahci nvme megaraid_sas usb-storage ext4 xfs; do
  [[ -n $(find initramfs -name "$ko.ko*" -print -quit) ]] ||
    fail "physical: $hook did not add $ko (kernel $kver)"
done
echo "the hook adds $(find initramfs -name '*.ko*' | wc -l) modules" \
     "of kernel $kver"

# --- virt --------------------------------------------------------------------

[[ $(sed -n '/^==== v$/,/^====/p' readback.out | grep -c '^false$') == 2 ]] ||
  fail "virt: $conf or $hook still exists"
for driver in virtio_pci virtio_blk virtio_scsi virtio_net; do
  sed -n '/p2vkit: begin/,/p2vkit: end/p' v/modules | grep -qx "$driver" ||
    fail "virt: $modules: no $driver in the p2vkit block"
done

# --- the reports ---------------------------------------------------------------

# action REPORT PATH: the action the report gives for the file PATH.
action ()
{
  xmllint --xpath "string(/fixup-report/files/file[@path='$2']/@action)" "$1"
}
for f in "$conf" "$hook"; do
  [[ $(action physical.xml "$f") == created ]] ||
    fail "physical.xml: $f not created but '$(action physical.xml "$f")'"
  [[ $(action virt.xml "$f") == deleted ]] ||
    fail "virt.xml: $f not deleted but '$(action virt.xml "$f")'"
done
[[ $(action virt.xml "$modules") =~ ^(changed|created)$ ]] ||
  fail "virt.xml: $modules not changed"

# --- NICs without a MAC ---------------------------------------------------------

for report in physical.xml virt.xml again.xml; do
  xmllint --noout --relaxng "$top/templates/fixup-report.rng" "$report" ||
    fail "$report: not valid against templates/fixup-report.rng"
done
# nic REPORT NAME ATTRIBUTE: the attribute of the NIC NAME in REPORT.
nic ()
{
  xmllint --xpath "string(/fixup-report/nics/nic[@name='$2']/@$3)" "$1"
}
# Without --new-macs: no MAC, not pinned, the warning as it was.
for n in ens3 ens4; do
  [[ $(nic physical.xml $n mac-from) == none && -z $(nic physical.xml $n mac) &&
     -z $(nic physical.xml $n pinned) ]] ||
    fail "physical.xml: $n: mac-from '$(nic physical.xml $n mac-from)'," \
         "mac '$(nic physical.xml $n mac)', not none and no MAC"
  grep -qxF "p2v-fixup: warning: $n: no MAC known (none in the inventory or the configuration), so its name is not pinned" \
    physical.err || fail "physical.err: no warning about $n's MAC"
done
# With --new-macs: a new MAC each, all different, pinned; ens5 keeps the
# MAC of its networkd file.
[[ $(nic virt.xml ens5 mac) == 52:54:00:aa:00:05 &&
   $(nic virt.xml ens5 mac-from) == config ]] ||
  fail "virt.xml: ens5: not the MAC of its configuration"
declare -A new_mac
for n in ens3 ens4; do
  mac=$(nic virt.xml $n mac)
  # Locally administered, unicast: the first octet's low bits 1 0.
  [[ $mac =~ ^[0-9a-f][26ae](:[0-9a-f]{2}){5}$ ]] ||
    fail "virt.xml: $n: '$mac' is no locally administered unicast MAC"
  [[ $(nic virt.xml $n mac-from) == generated &&
     $(nic virt.xml $n in-inventory) == no &&
     $(nic virt.xml $n pinned) == "$link_dir/10-p2vkit-$n.link" ]] ||
    fail "virt.xml: $n: mac-from '$(nic virt.xml $n mac-from)', pinned" \
         "'$(nic virt.xml $n pinned)'"
  new_mac[$n]=$mac
done
[[ ${new_mac[ens3]} != "${new_mac[ens4]}" &&
   ${new_mac[ens3]} != 52:54:00:aa:00:05 &&
   ${new_mac[ens4]} != 52:54:00:aa:00:05 ]] ||
  fail "virt.xml: the MACs are not all different: ${new_mac[*]}"
! grep -q 'no MAC known' virt.err ||
  fail "virt.err: a NIC without a MAC despite --new-macs: $(cat virt.err)"
# Again: the same MACs, read from the pins (the configuration's now),
# and the .link files left as they were.
for n in ens3 ens4; do
  [[ $(nic again.xml $n mac) == "${new_mac[$n]}" &&
     $(nic again.xml $n mac-from) == config ]] ||
    fail "again.xml: $n: MAC '$(nic again.xml $n mac)' from" \
         "'$(nic again.xml $n mac-from)', not ${new_mac[$n]} from config"
  [[ -z $(action again.xml "$link_dir/10-p2vkit-$n.link") ]] ||
    fail "again.xml: 10-p2vkit-$n.link was written again"
  # The .link file pins the name to the MAC.
  [[ -f v/link-$n ]] || fail "virt: $link_dir/10-p2vkit-$n.link missing"
  printf '[Match]\nMACAddress=%s\nType=ether\n[Link]\nName=%s\n' \
    "${new_mac[$n]}" "$n" >expected.link-$n
  grep -v -E '^[[:space:]]*([#;]|$)' "v/link-$n" >got.link-$n || true
  diff -u expected.link-$n got.link-$n ||
    fail "virt: 10-p2vkit-$n.link does not pin $n to ${new_mac[$n]}"
done
echo "new MACs: ens3 ${new_mac[ens3]}, ens4 ${new_mac[ens4]}"

[[ $(sha256sum "${cached[@]}") == "$cached_sums" ]] ||
  fail "the cached images changed"
