#!/bin/bash
# tier: fast
# timeout: 300
# Changes in place in qcow2 images (imaging/qcow2-patch.c, what a
# pre-copy round does to the receiver's copy): random data and zeros,
# whole clusters and parts of one, over holes, allocated clusters and the
# disk's end, applied alike to the image and to a raw copy; the image
# passes qemu-img check (no leak, no error) and equals the raw file.  On
# images of p2vkit's writer (64 KiB and 512-byte clusters) and of
# qemu-img (version 3 and version 2); with 512-byte clusters whose refcount blocks
# cover 128 KiB of file each, so that new refcount blocks and L2 tables
# are made, and the refcount table is moved and grown (it has room for a
# few MiB of file only).  A compressed cluster in the way is refused with
# one line, the image still passing qemu-img check.
. "$(dirname "$0")/functions.sh"
requires qemu-img

patch=$top/tests/unit/test-qcow2-patch
"$srcdir/make-disk" --size 24M+3584 --data 0.3 --seed 7 disk.raw

check ()
{
  local name=$1 image=$2 seed
  cp --sparse=always disk.raw "$name.raw"
  for seed in 1 2 3; do
    "$patch" "$image" "$name.raw" "$seed" 300
    qemu-img check -q "$image" || fail "$name: qemu-img check after round $seed"
    qemu-img compare -q "$name.raw" "$image" ||
      fail "$name: the image differs from the raw file after round $seed"
  done
  echo "ok: $name"
}

p2v-send disk.raw --to ours.qcow2 -q
check ours ours.qcow2
qemu-img convert -O qcow2 disk.raw qemu3.qcow2
check qemu3 qemu3.qcow2
qemu-img convert -O qcow2 -o compat=0.10 disk.raw qemu2.qcow2
check qemu2 qemu2.qcow2
p2v-send disk.raw --to oursmall.qcow2 --cluster-size 512 -q
check oursmall oursmall.qcow2

# qemu-img sizes the refcount table of a 512-byte-cluster image to the
# file (one cluster: 8 MiB of it): it is moved and grown.
qemu-img convert -O qcow2 -o cluster_size=512 disk.raw small.qcow2
# refcount_table_clusters, header bytes 56-59.
table_clusters ()
{
  od -An -tu4 --endian=big -j56 -N4 "$1" | tr -d ' '
}
[[ $(table_clusters small.qcow2) == 1 ]] || fail "small.qcow2: not one cluster of table"
check small small.qcow2
[[ $(table_clusters small.qcow2) -gt 1 ]] || fail "the refcount table did not grow"

# Compressed clusters cannot be overwritten in place.
qemu-img convert -c -O qcow2 disk.raw compressed.qcow2
cp --sparse=always disk.raw compressed.raw
expect_error "compressed cluster" \
  "$patch" compressed.qcow2 compressed.raw 1 300
qemu-img check -q compressed.qcow2 || fail "a refused change damaged the image"
