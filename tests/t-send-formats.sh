#!/bin/bash
# tier: fast
# timeout: 600
# p2v-send writes qcow2 that qemu-img checks clean and finds identical to
# the source, for every cluster size from 512 bytes to 2 MiB, with and
# without zlib and zstd compressed clusters; v2p-write reads it back byte
# for byte; both print the same disk digest.  Disks of odd sizes too: a
# size that is not a whole number of sectors is padded with zeros, as
# qemu-img does, with a warning.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires python3

# 64 MiB and 7 sectors: not a multiple of any cluster size above 512.
size=$((64 * 1024 * 1024 + 7 * 512))
"$srcdir/make-disk" --size $size --data 0.4 --zero-runs 0.1 --seed 7 disk.raw

# roundtrip SOURCE REFERENCE.raw WHAT [p2v-send OPTIONS]
roundtrip ()
{
  local src=$1 ref=$2 what=$3 d1 d2
  shift 3

  rm -f out.qcow2 back.raw
  d1=$($VG p2v-send "$src" --to out.qcow2 --machine-readable "$@" |
         done_field digest)
  qemu-img check -q out.qcow2 || fail "$what: qemu-img check"
  qemu-img compare -q "$ref" out.qcow2 || fail "$what: qemu-img compare"
  d2=$($VG v2p-write out.qcow2 back.raw --machine-readable | done_field digest)
  # qcow2 disks are whole sectors: compare the source's bytes, and check
  # that what the rounding added is zeros.
  size=$(stat -c %s "$ref")
  cmp -n "$size" "$ref" back.raw || fail "$what: read back"
  [[ $(stat -c %s back.raw) == $(( (size + 511) / 512 * 512 )) ]] ||
    fail "$what: read-back size"
  cmp -n $(( (size + 511) / 512 * 512 - size )) -i 0:"$size" /dev/zero back.raw ||
    fail "$what: the padding to a whole sector is not zeros"
  [[ -n $d1 && $d1 == "$d2" ]] || fail "$what: digests differ: $d1 $d2"
  echo "ok: $what"
}

for cs in 512 4K 64K 2M; do
  for c in none zlib zstd; do
    roundtrip disk.raw disk.raw "cluster $cs, compress $c" --cluster-size $cs --compress $c
  done
done

# Compressed clusters must really be there, and smaller than the source.
rm -f out.qcow2
p2v-send disk.raw --to out.qcow2 --compress zstd
qemu-img check out.qcow2 | grep -E '[1-9][0-9.]*% compressed clusters' ||
  fail "no compressed clusters in a --compress zstd image"

# Odd sizes: empty, one byte, one sector, one cluster plus one sector.
: >empty.raw
roundtrip empty.raw empty.raw "empty disk"
printf x >one.raw
roundtrip one.raw one.raw "one-byte disk"
head -c 512 /dev/urandom >sector.raw
roundtrip sector.raw sector.raw "one-sector disk"
head -c $((65536 + 512)) /dev/urandom >cluster.raw
roundtrip cluster.raw cluster.raw "cluster-and-a-sector disk"

# A disk of zeros (allocated, not a hole) allocates no data clusters.
head -c $((8 * 1024 * 1024)) /dev/zero >zeros.raw
roundtrip zeros.raw zeros.raw "all-zero disk"
qemu-img map --output=json out.qcow2 >zeros.map
! grep -q '"data": true' zeros.map || fail "an all-zero disk got data clusters"

# A qcow2 source (ours) converts again, identically.
p2v-send disk.raw --to a.qcow2
roundtrip a.qcow2 disk.raw "qcow2 source"

# The padding is announced.
p2v-send one.raw --to warn.qcow2 2>warn.txt
grep -q "warning: one.raw: 1 bytes is not a whole number of 512-byte sectors" warn.txt ||
  fail "no warning about padding: $(cat warn.txt)"
