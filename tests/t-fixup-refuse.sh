#!/bin/bash
# tier: fast
# timeout: 1800
# p2v-fixup refuses what it cannot convert with one line "p2v-fixup: ..."
# on stderr and exit status 1, writes no report and leaves the images as
# they were: the phony guests of tests/guests/build-phony without an
# operating system (noos), with Windows, with the root encrypted (luks),
# with two operating systems (dual), and with neither initramfs-tools nor
# dracut (noinit).  One libguestfs launch each.  Mistakes on the command
# line (no image, a missing image, a bad --target or --network, an
# --inventory that is missing or not XML) are refused before any launch.
# --help and --version work.  The cached images never change.  Without
# LIBGUESTFS_BACKEND_SETTINGS, p2v-fixup chooses TCG where the KVM probe
# says KVM does not work, as p2v-domxml chooses the domain type.
. "$(dirname "$0")/functions.sh"
[[ -x $bin/p2v-fixup ]] || skip "bin/p2v-fixup not built"
requires guestfish --version

# Under nested virtualisation KVM hangs here: TCG unless told otherwise.
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS-force_tcg}

# refused SUBSTRING CMD...: CMD fails with exit status 1 and exactly one
# line on stderr, which starts with "p2v-fixup: " and contains SUBSTRING.
refused ()
{
  local substring=$1 status=0
  shift
  "$@" </dev/null >refused.out 2>refused.err || status=$?
  if [[ $status != 1 || $(wc -l <refused.err) != 1 ]] ||
     ! grep -q '^p2v-fixup: ' refused.err ||
     ! grep -qF -- "$substring" refused.err; then
    echo "FAIL: $*" >&2
    echo "  wanted: exit status 1, one line 'p2v-fixup: ...$substring...'" >&2
    echo "  got:    exit status $status, stderr:" >&2
    sed 's/^/    /' refused.err >&2
    exit 1
  fi
  echo "  refused: $(cat refused.err)"
}

# --- The command line: no launch -------------------------------------------

# Were p2v-fixup to launch the appliance, it would fail at once, with
# another message than the ones expected.
export LIBGUESTFS_HV=/nonexistent/qemu-for-t-fixup-refuse

truncate -s 16M disk.img
sha256sum disk.img >disk.sum
echo '<inventory version="1"><machine/>' >broken.xml
for bad in "no disk image:image:" \
           "missing image:does-not-exist.img:does-not-exist.img" \
           "bad --target:--target:--target=kvm disk.img" \
           "bad --network:--network:--network=static disk.img" \
           "missing --inventory:nope.xml:--inventory=nope.xml disk.img" \
           "not XML --inventory:broken.xml:--inventory=broken.xml disk.img"
do
  IFS=: read -r what substring args <<<"$bad"
  echo "+ $what: p2v-fixup $args"
  # shellcheck disable=SC2086 # $args are words
  refused "$substring" $VG p2v-fixup $args
done
sha256sum --quiet -c disk.sum || fail "disk.img changed"

$VG p2v-fixup --help >help.out 2>help.err || fail "--help: exit status $?"
[[ ! -s help.err ]] || fail "--help wrote on stderr: $(cat help.err)"
grep -q -- '--target' help.out || fail "--help does not tell of --target"
$VG p2v-fixup --version >version.out 2>version.err ||
  fail "--version: exit status $?"
if [[ $(wc -l <version.out) != 1 ]] || ! grep -q '^p2v-fixup ' version.out
then
  fail "--version printed '$(cat version.out)'"
fi
unset LIBGUESTFS_HV

# --- Guests it refuses --------------------------------------------------------

guests=(noos windows luks dual noinit)
declare -A cached
for guest in "${guests[@]}"; do
  image=$("$srcdir/guests/build-phony" "$guest")
  [[ -f $image ]] || fail "build-phony $guest: no image"
  cached[$guest]=$image
  sha256sum "$image" >"$guest.cached.sum"
  cp --sparse=always "$image" "$guest.img"
  sha256sum "$guest.img" >"$guest.sum"
done

# refuse GUEST SUBSTRING: p2v-fixup refuses GUEST's image (a copy) with one
# line containing SUBSTRING, writes no report, changes no byte.
refuse ()
{
  local t=$SECONDS
  echo "+ p2v-fixup --report $1.xml $1.img"
  # shellcheck disable=SC2086 # $VG is words, or nothing
  refused "$2" $VG p2v-fixup --report "$1.xml" "$1.img"
  sha256sum --quiet -c "$1.sum" || fail "$1: the image changed"
  [[ ! -e $1.xml ]] || fail "$1: a report was written"
  echo "  ($((SECONDS - t)) s)"
}

# noos with LIBGUESTFS_BACKEND_SETTINGS unset: p2v-fixup asks the KVM
# probe, and where it says no (here: nested KVM, far too slow) runs the
# appliance under TCG and says so.  Were it to launch with that KVM, the
# appliance would not come up within the test's time.  Its verdict must
# be p2v-domxml's, from the same probe.
settings=$LIBGUESTFS_BACKEND_SETTINGS
unset LIBGUESTFS_BACKEND_SETTINGS
refuse noos "no operating system"
export LIBGUESTFS_BACKEND_SETTINGS=$settings
$VG p2v-domxml -v --disk noos.img -o probe.xml 2>probe.err ||
  fail "p2v-domxml --type auto: $(cat probe.err)"
if grep -q '^p2v-domxml: type qemu: the KVM probe: ' probe.err; then
  grep -q 'The appliance runs under TCG: KVM does not work here (.*)' \
    refused.out || fail "the probe says no KVM, and p2v-fixup did not say TCG"
else
  ! grep -q 'KVM does not work here' refused.out ||
    fail "the probe says KVM works, and p2v-fixup chose TCG"
fi
echo "  $(grep 'KVM does not work' refused.out || echo 'KVM works: libguestfs chooses')"
refuse windows "Windows"
refuse luks "LUKS"
refuse dual "operating systems"
refuse noinit "dracut"

for guest in "${guests[@]}"; do
  sha256sum --quiet -c "$guest.cached.sum" ||
    fail "the cached image of $guest (${cached[$guest]}) changed"
done
