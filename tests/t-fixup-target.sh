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
# xfs) must land in the image directory.  Three libguestfs launches.
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
fixup virt --target virt --no-initramfs --report virt.xml d0.img d1.img

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

[[ $(sha256sum "${cached[@]}") == "$cached_sums" ]] ||
  fail "the cached images changed"
