#!/bin/bash
# tier: fast
# timeout: 1500
# The issue's inputs at full size: an 8 GiB sparse disk with about 10%
# random data and a size that is not a multiple of the cluster size, a
# 2 GiB dense random disk, and a 4 GiB ext4 image of system files.  Each
# goes through p2v-send (qemu-img check clean, qemu-img compare identical)
# and back through v2p-write (byte-identical, same digest).  qcow2 images
# that qemu-img writes (zlib and zstd compressed, version 2) read back
# identically too.
. "$(dirname "$0")/functions.sh"
requires qemu-img
! is_fast_tier || skip "the full-size inputs are for the full run (make check)"

# check_input RAW: the round trip, then the input is removed.
check_input ()
{
  local raw=$1 d1 d2

  d1=$($VG p2v-send "$raw" --to out.qcow2 --machine-readable | done_field digest)
  qemu-img check -q out.qcow2 || fail "$raw: qemu-img check"
  qemu-img compare -q "$raw" out.qcow2 || fail "$raw: qemu-img compare"
  d2=$($VG v2p-write out.qcow2 back.raw --machine-readable | done_field digest)
  cmp "$raw" back.raw || fail "$raw: read back differs"
  [[ -n $d1 && $d1 == "$d2" ]] || fail "$raw: digests differ: $d1 $d2"
  # Sparse stays sparse: no more blocks than the input.
  (( $(stat -c %b back.raw) <= $(stat -c %b "$raw") + 8 )) ||
    fail "$raw: read back is less sparse than the input"
  rm -f out.qcow2 back.raw
  echo "ok: $raw"
}

# 8 GiB and 3 sectors: not a multiple of the 64 KiB cluster.
"$srcdir/make-disk" --size 8G+1536 --data 0.1 --zero-runs 0.01 --seed 1 sparse.raw
check_input sparse.raw
rm -f sparse.raw

"$srcdir/make-disk" --size 2G --data 1 --seed 2 dense.raw
check_input dense.raw
rm -f dense.raw

"$srcdir/make-disk" --ext4 4G --seed 3 ext4.raw
check_input ext4.raw

# qcow2 from qemu-img, in each variant, read back identically by
# v2p-write and converted again by p2v-send.
variants=(
  "zlib:-c"
  "zstd:-c -o compression_type=zstd"
  "v2:-o compat=0.10"
)
for v in "${variants[@]}"; do
  name=${v%%:*}
  # shellcheck disable=SC2086 # the options are words
  qemu-img convert -O qcow2 ${v#*:} ext4.raw "qemu-$name.qcow2"
  $VG v2p-write "qemu-$name.qcow2" back.raw
  cmp ext4.raw back.raw || fail "qemu-img $name image read back differs"
  $VG p2v-send "qemu-$name.qcow2" --to out.qcow2
  qemu-img compare -q ext4.raw out.qcow2 || fail "qemu-img $name: p2v-send"
  rm -f back.raw out.qcow2 "qemu-$name.qcow2"
  echo "ok: qemu-img $name image"
done
