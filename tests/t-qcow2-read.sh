#!/bin/bash
# tier: fast
# timeout: 300
# The qcow2 reader (imaging/qcow2-read.c) reads back, byte for byte, what
# qemu-img writes in every variant (v2 and v3, zlib and zstd compression,
# 512-byte to 2 MiB clusters, zero clusters, preallocation, snapshots,
# huge sparse images), and its extent map matches `qemu-img map`.
. "$(dirname "$0")/functions.sh"
requires qemu-img --version
requires qemu-io --version

tool=$top/tests/unit/test-qcow2-read
[[ -x $tool ]] || fail "$tool is not built (run make)"

KiB=1024
MiB=$((1024 * KiB))

# put FILE OFFSET LENGTH SOURCE: copy LENGTH bytes of SOURCE into FILE at
# OFFSET, keeping the rest of FILE.
put ()
{
  dd if="$4" of="$1" bs=64K iflag=count_bytes oflag=seek_bytes \
     seek="$2" count="$3" conv=notrunc status=none
}

# qemu_map IMAGE: `qemu-img map` as "START LENGTH data|zero" lines,
# adjacent runs of the same type merged, as test-qcow2-read writes them.
qemu_map ()
{
  qemu-img map --output=json "$1" | awk '
    match ($0, /"start": [0-9]+/) {
      start = substr ($0, RSTART + 9, RLENGTH - 9) + 0
      match ($0, /"length": [0-9]+/)
      len = substr ($0, RSTART + 10, RLENGTH - 10) + 0
      type = $0 ~ /"data": true/ ? "data" : "zero"
      if (len == 0)
        next
      if (n > 0 && type == cur_type && start == cur_start + cur_len)
        cur_len += len
      else {
        if (n > 0)
          printf "%.0f %.0f %s\n", cur_start, cur_len, cur_type
        cur_start = start; cur_len = len; cur_type = type; n++
      }
    }
    END { if (n > 0) printf "%.0f %.0f %s\n", cur_start, cur_len, cur_type }'
}

# check_image IMAGE REFERENCE.raw: our reader must produce REFERENCE.raw
# exactly, and the same map as qemu-img.
check_image ()
{
  local image=$1 reference=$2

  $VG "$tool" "$image" out.raw map.ours >/dev/null \
    || fail "$image: test-qcow2-read failed"
  cmp "$reference" out.raw || fail "$image: contents differ from $reference"
  qemu_map "$image" >map.qemu
  diff -u map.qemu map.ours || fail "$image: extent map differs from qemu-img"
  rm -f out.raw map.ours map.qemu
}

# The input: random data, a hole, written zeros, compressible text, and a
# size that is a multiple of 512 bytes (qemu-img rounds to that) but of no
# cluster size.  Regions start and end inside clusters.
size=$((6 * MiB + 2560))
head -c $((2 * MiB)) /dev/urandom >random.bin
base64 random.bin >text.bin
seq 1 200000 >seq.bin
truncate -s "$size" disk.raw
put disk.raw 0 100000 random.bin
put disk.raw $((1536 * KiB + 1000)) 600000 random.bin
put disk.raw $((2560 * KiB)) $((1 * MiB)) /dev/zero
put disk.raw $((3584 * KiB + 7)) $((1 * MiB + 12345)) text.bin
put disk.raw $((4864 * KiB + 3)) $((800 * KiB)) seq.bin
put disk.raw $((size - 70000)) 70000 random.bin

variants=(
  ""
  "-c"
  "-c -o compression_type=zstd"
  "-o compat=0.10"
  "-c -o compat=0.10"
  "-o cluster_size=512"
  "-o cluster_size=2M"
  "-c -o cluster_size=512"
  "-c -o cluster_size=2M,compression_type=zstd"
  "-c -o cluster_size=4k,compression_type=zstd"
  "-o cluster_size=4k,refcount_bits=1"
  "-o refcount_bits=64,lazy_refcounts=on"
)
for v in "${variants[@]}"; do
  echo "qemu-img convert -O qcow2 $v"
  # shellcheck disable=SC2086 # $v is a list of options
  qemu-img convert -f raw -O qcow2 $v disk.raw img.qcow2
  check_image img.qcow2 disk.raw
done

# Compression really happened: otherwise the variants above tested
# nothing new.
qemu-img convert -f raw -O qcow2 disk.raw plain.qcow2
for c in zlib zstd; do
  qemu-img convert -f raw -O qcow2 -c -o compression_type=$c disk.raw c.qcow2
  [[ $(stat -c %s c.qcow2) -lt $(($(stat -c %s plain.qcow2) - MiB / 2)) ]] \
    || fail "qemu-img -c with $c did not compress"
done

# Zero clusters (version 3): unallocated ones ("write -z -u") and
# preallocated ones with the zero flag ("write -z" over data).
qemu-img create -q -f qcow2 z.qcow2 $((3 * MiB + 512))
qemu-io -f qcow2 -c "write -P 0xa5 0 2M" -c "write -z 64k 64k" \
  -c "write -z -u 256k 128k" -c "write -z 1M 200k" \
  -c "write -P 0x5a 3M 512" z.qcow2 >/dev/null
qemu-img convert -f qcow2 -O raw z.qcow2 z.raw
check_image z.qcow2 z.raw

# Preallocated metadata: v3 marks the clusters zero, v2 points them at
# sparse space in the file.
for compat in 1.1 0.10; do
  qemu-img create -q -f qcow2 -o preallocation=metadata,compat=$compat \
    pre.qcow2 $((2 * MiB + 1024))
  qemu-io -f qcow2 -c "write -P 0x11 100k 300k" pre.qcow2 >/dev/null
  qemu-img convert -f qcow2 -O raw pre.qcow2 pre.raw
  check_image pre.qcow2 pre.raw
done

# Internal snapshots are ignored: the active layer is read.
qemu-img create -q -f qcow2 snap.qcow2 1M
qemu-io -f qcow2 -c "write -P 0x01 0 512k" snap.qcow2 >/dev/null
qemu-img snapshot -c first snap.qcow2
qemu-io -f qcow2 -c "write -P 0x02 64k 64k" -c "write -z 256k 64k" \
  snap.qcow2 >/dev/null
qemu-img convert -f qcow2 -O raw snap.qcow2 snap.raw
check_image snap.qcow2 snap.raw

# An empty disk.
qemu-img create -q -f qcow2 empty.qcow2 0
: >empty.raw
check_image empty.qcow2 empty.raw

# Huge sparse images: 4 TiB with 64 KiB clusters, and 64 GiB with 512-byte
# clusters, whose 16 MiB L1 table is more than the reader keeps in memory
# at once.  Nothing is compared byte for byte (the raw files would be far
# too large to read); the map must match and the written patterns must be
# where they belong.
for spec in "4T 65536 3T" "64G 512 63G"; do
  read -r vsize csize far <<<"$spec"
  qemu-img create -q -f qcow2 -o cluster_size="$csize" big.qcow2 "$vsize"
  qemu-io -f qcow2 -c "write -P 0x33 1M 100k" -c "write -P 0x44 $far 1M" \
    big.qcow2 >/dev/null
  if [[ -z $VG && -z ${ASAN_OPTIONS:-} && -x /usr/bin/time ]]; then
    # The reader's memory must not grow with the virtual size.
    /usr/bin/time -f %M -o rss "$tool" big.qcow2 - map.ours >/dev/null \
      || fail "big.qcow2 ($vsize): test-qcow2-read failed"
    [[ $(cat rss) -lt $((64 * 1024)) ]] \
      || fail "big.qcow2 ($vsize): peak RSS $(cat rss) KiB"
  fi
  $VG "$tool" big.qcow2 out.raw map.ours >/dev/null \
    || fail "big.qcow2 ($vsize): test-qcow2-read failed"
  qemu_map big.qcow2 >map.qemu
  diff -u map.qemu map.ours || fail "big.qcow2 ($vsize): map differs"
  qemu-io -f raw -c "read -P 0x33 1M 100k" -c "read -P 0x44 $far 1M" \
    out.raw >verify.log
  if grep -q "Pattern verification failed" verify.log \
    || [[ $(grep -c '^read ' verify.log) != 2 ]]; then
    fail "big.qcow2 ($vsize): data differ: $(cat verify.log)"
  fi
  rm -f big.qcow2 out.raw map.ours map.qemu
done

echo "all qcow2 variants read correctly"
