#!/bin/bash
# tier: fast
# timeout: 1200
# p2v-convert and p2v-recv --convert, short of a guest that converts (the
# boot tier's journeys convert and boot real ones): mistakes on the command
# line are refused with one line before anything is made; results of an
# earlier run are not replaced without --force; a guest p2v-fixup refuses
# (the phony guest without an operating system) fails p2v-convert with
# p2v-fixup's own reason in one line, and leaves DIR as it was (not even
# created) and the image unchanged; p2v-recv --convert runs the same fixup
# once a sender has finished, and says why it failed, the received image
# kept.  Two libguestfs launches.
. "$(dirname "$0")/functions.sh"
[[ -x $bin/p2v-convert && -x $bin/p2v-fixup ]] || skip "bin/p2v-convert not built"
requires guestfish --version
requires qemu-img --version

# Under nested virtualisation KVM hangs here: TCG unless told otherwise.
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS-force_tcg}

# --- The command line: nothing made, no launch -------------------------------

# Were p2v-fixup to launch the appliance, it would fail at once with
# another message than the ones expected.
export LIBGUESTFS_HV=/nonexistent/qemu-for-t-convert

truncate -s 16M disk.img
sha256sum disk.img >disk.sum
echo '<inventory version="1"><machine/>' >broken.xml
for bad in "no image:no IMAGE:--out out" \
           "no --out:--out DIR is required:disk.img" \
           "missing image:does-not-exist.img:does-not-exist.img --out out" \
           "bad --type:--type:--type=xen disk.img --out out" \
           "bad --source-format:--source-format:--source-format=vmdk disk.img --out out" \
           "network and bridge:one or the other:--network=a --bridge=b disk.img --out out" \
           "bad name:cannot name a virtual machine:--name=-x disk.img --out out" \
           "missing --inventory:nope.xml:--inventory=nope.xml disk.img --out out" \
           "not XML --inventory:broken.xml:--inventory=broken.xml disk.img --out out"
do
  IFS=: read -r what substring args <<<"$bad"
  echo "+ $what: p2v-convert $args"
  # shellcheck disable=SC2086 # $args are words
  expect_error "$substring" $VG p2v-convert $args
  [[ ! -e out ]] || fail "$what: out/ was made"
done

# The name comes from the image's file name; an earlier result is kept.
mkdir out
touch out/disk-disk1.qcow2
expect_error "out/disk-disk1.qcow2 exists" $VG p2v-convert disk.img --out out
[[ $(ls -A out) == disk-disk1.qcow2 && ! -s out/disk-disk1.qcow2 ]] ||
  fail "a refused run changed out/: $(ls -A out)"
rm -r out
sha256sum --quiet -c disk.sum || fail "disk.img changed"

$VG p2v-convert --help >help.out 2>help.err || fail "--help: exit status $?"
[[ ! -s help.err ]] || fail "--help wrote on stderr: $(cat help.err)"
grep -q -- '--inventory' help.out || fail "--help does not tell of --inventory"
$VG p2v-convert --version >version.out || fail "--version: exit status $?"
grep -q '^p2v-convert ' version.out || fail "--version printed '$(cat version.out)'"
unset LIBGUESTFS_HV

# --- A guest that p2v-fixup refuses -------------------------------------------

image=$("$srcdir/guests/build-phony" noos)
[[ -f $image ]] || fail "build-phony noos: no image"
sha256sum "$image" >noos.sum

echo "+ p2v-convert $image --out out"
t=$SECONDS
expect_error "p2v-convert: p2v-fixup: no operating system found" \
  $VG p2v-convert "$image" --out out
echo "  ($((SECONDS - t)) s)"
[[ ! -e out ]] || fail "a failed p2v-convert left out/: $(ls -A out)"
sha256sum --quiet -c noos.sum || fail "p2v-convert changed $image"

# --- p2v-recv --convert ---------------------------------------------------------

mkdir recv
start_receiver recv --token t-convert --once --convert
echo "+ p2v-send $image --name noos --to tcp://127.0.0.1:$recv_port; p2v-recv --convert"
t=$SECONDS
P2V_TOKEN=t-convert $VG p2v-send "$image" --name noos -q \
  --to "tcp://127.0.0.1:$recv_port" || fail "p2v-send: exit status $?"
status=0
wait "$recv_pid" || status=$?
echo "  ($((SECONDS - t)) s)"
[[ $status == 1 ]] || fail "p2v-recv --convert: exit status $status, not 1"
grep -q "^p2v-recv: machine 'noos': --convert: p2v-fixup: no operating system found" \
  recv.err || { cat recv.err >&2; fail "p2v-recv did not say why --convert failed"; }
qemu-img compare -q "$image" recv/noos/noos-*.qcow2 ||
  fail "the received image is not the one sent"
[[ ! -e recv/noos/noos.xml ]] || fail "a domain XML was written"
sha256sum --quiet -c noos.sum || fail "$image changed"
