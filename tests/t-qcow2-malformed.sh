#!/bin/bash
# tier: fast
# timeout: 300
# The qcow2 reader (imaging/qcow2-read.c) refuses damaged, malicious and
# unsupported images the way every p2vkit program fails: exit status 1 and
# one clear line on stderr, quickly, without crashing.  Each image is a
# valid qemu-img image with one field patched, or an image qemu-img makes
# with a feature we do not support.
. "$(dirname "$0")/functions.sh"
requires qemu-img --version
requires gzip --version
requires zstd --version

tool=$top/tests/unit/test-qcow2-read
[[ -x $tool ]] || fail "$tool is not built (run make)"

# Seconds one read of a small image may take, even under valgrind.
LIMIT=60

# Header fields (byte offset, width), as in imaging/qcow2.h.
OFF_VERSION=4
OFF_BACKING_FILE_OFFSET=8
OFF_CLUSTER_BITS=20
OFF_SIZE=24
OFF_CRYPT_METHOD=32
OFF_L1_SIZE=36
OFF_L1_TABLE_OFFSET=40
OFF_REFCOUNT_TABLE_OFFSET=48
OFF_INCOMPATIBLE_FEATURES=72
OFF_REFCOUNT_ORDER=96
OFF_HEADER_LENGTH=100
OFF_COMPRESSION_TYPE=104
OFFSET_MASK=$((0x00fffffffffffe00))
COMPRESSED=$((1 << 62))

# poke FILE OFFSET WIDTH VALUE: write VALUE (a number, or 0x and hex
# digits) as a WIDTH-byte big-endian number at OFFSET of FILE.
poke ()
{
  local hex bytes= i
  printf -v hex '%0*x' $(($3 * 2)) "$4"
  for ((i = 0; i < $3 * 2; i += 2)); do
    bytes+="\\x${hex:i:2}"
  done
  # shellcheck disable=SC2059 # the format is the bytes
  printf "$bytes" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# peek FILE OFFSET WIDTH: the WIDTH-byte big-endian number at OFFSET.
peek ()
{
  echo $((16#$(od -An -tx1 -v -j "$2" -N "$3" "$1" | tr -d ' \n')))
}

# l2_table FILE: the offset of the first L2 table.
l2_table ()
{
  local l1
  l1=$(peek "$1" $OFF_L1_TABLE_OFFSET 8)
  echo $(($(peek "$1" "$l1" 8) & OFFSET_MASK))
}

# refuse NAME SUBSTRING IMAGE: reading IMAGE must fail properly, with
# SUBSTRING in the message.  The message goes to the log too.
refuse ()
{
  echo "$1"
  expect_error "$2" timeout $LIMIT $VG "$tool" "$3" out.raw
  timeout $LIMIT "$tool" "$3" out.raw 2>&1 >/dev/null | sed 's/^/  /' || :
}

# A small valid image: 64 KiB clusters, data in the first clusters.
head -c 200000 /dev/urandom >random.bin
seq 1 100000 >seq.bin
truncate -s 1M disk.raw
dd if=random.bin of=disk.raw conv=notrunc status=none
dd if=seq.bin of=disk.raw bs=64K seek=4 conv=notrunc status=none
qemu-img convert -f raw -O qcow2 disk.raw good.qcow2
qemu-img convert -f raw -O qcow2 -c disk.raw zlib.qcow2
qemu-img convert -f raw -O qcow2 -c -o compression_type=zstd disk.raw \
  zstd.qcow2
qemu-img convert -f raw -O qcow2 -o compat=0.10 disk.raw v2.qcow2
for f in good zlib zstd v2; do
  $VG "$tool" $f.qcow2 out.raw >/dev/null || fail "$f.qcow2 does not read"
  cmp disk.raw out.raw || fail "$f.qcow2 reads wrong"
done

# bad NAME [BASE]: a fresh copy of BASE (good) to patch, named NAME.qcow2.
bad ()
{
  cp "${2:-good}.qcow2" "$1.qcow2"
}

# Truncated files: in the header, in the metadata, in the data.
for len in 0 50 100 4096 70000 200000 $(($(stat -c %s good.qcow2) - 1000))
do
  bad trunc
  truncate -s "$len" trunc.qcow2
  case $len in
    0) want="not qcow2" ;;            # too short for the magic: raw
    50 | 100) want="header is truncated" ;;
    *) want="end of" ;;              # file ends early, or offset beyond it
  esac
  refuse "truncated to $len bytes" "$want" trunc.qcow2
done

bad version
poke version.qcow2 $OFF_VERSION 4 4
refuse "version 4" "unsupported qcow2 version 4" version.qcow2

for bits in 8 22 255 $((0xffffffff)); do
  bad cbits
  poke cbits.qcow2 $OFF_CLUSTER_BITS 4 "$bits"
  refuse "cluster_bits $bits" "cluster_bits $bits" cbits.qcow2
done

for len in 0 4 100 108 65544 $((0xffffffff)); do
  bad hlen
  poke hlen.qcow2 $OFF_HEADER_LENGTH 4 "$len"
  refuse "header_length $len" "invalid qcow2 header length" hlen.qcow2
done

bad size
poke size.qcow2 $OFF_SIZE 8 0xffffffffffffffff
refuse "size 2^64-1" "too large" size.qcow2
bad size
poke size.qcow2 $OFF_SIZE 8 $((1 << 50))
refuse "size 1 PiB with a small L1 table" "too small" size.qcow2

bad l1size
poke l1size.qcow2 $OFF_L1_SIZE 4 $((16 * 1024 * 1024))
refuse "L1 table of 128 MiB" "L1 table is too large" l1size.qcow2
bad l1size
poke l1size.qcow2 $OFF_L1_SIZE 4 $((1024 * 1024))
refuse "L1 table past the end of the file" "end of the file" l1size.qcow2

bad l1off
poke l1off.qcow2 $OFF_L1_TABLE_OFFSET 8 0x7fff000000000000
refuse "L1 offset wild" "end of the file" l1off.qcow2
bad l1off
poke l1off.qcow2 $OFF_L1_TABLE_OFFSET 8 $((0x30000 + 512))
refuse "L1 offset unaligned" "invalid qcow2 L1 table offset" l1off.qcow2
bad l1off
poke l1off.qcow2 $OFF_L1_TABLE_OFFSET 8 0
refuse "L1 offset 0" "invalid qcow2 L1 table offset" l1off.qcow2

bad rtoff
poke rtoff.qcow2 $OFF_REFCOUNT_TABLE_OFFSET 8 0x00ff000000000000
refuse "refcount table offset wild" "refcount table" rtoff.qcow2
bad rtoff
poke rtoff.qcow2 $OFF_REFCOUNT_TABLE_OFFSET 8 $((0x10000 + 8))
refuse "refcount table offset unaligned" "refcount table" rtoff.qcow2

bad rorder
poke rorder.qcow2 $OFF_REFCOUNT_ORDER 4 7
refuse "refcount_order 7" "refcount_order" rorder.qcow2

# L1 and L2 entries.
l1=$(peek good.qcow2 $OFF_L1_TABLE_OFFSET 8)
l2=$(l2_table good.qcow2)
bad l2off
poke l2off.qcow2 "$l1" 8 0x8000ff0000000000
refuse "L2 offset wild" "end of the file" l2off.qcow2
bad l2off
poke l2off.qcow2 "$l1" 8 $((l2 + 512))
refuse "L2 offset unaligned" "not aligned" l2off.qcow2
bad l2off
poke l2off.qcow2 "$l1" 8 $((l2 | 2))
refuse "L1 entry reserved bit" "reserved bits" l2off.qcow2

bad data
poke data.qcow2 "$l2" 8 0x80000f0000000000
refuse "data cluster offset wild" "end of the file" data.qcow2
bad data
poke data.qcow2 "$l2" 8 $(((1 << 63) | 0x50000 + 512))
refuse "data cluster offset unaligned" "not aligned" data.qcow2
bad data
poke data.qcow2 "$l2" 8 $(((1 << 63) | 0x50000 | (1 << 57)))
refuse "L2 entry reserved bit" "reserved bits" data.qcow2
bad data v2
poke data.qcow2 "$(l2_table v2.qcow2)" 8 1
refuse "zero flag in a version 2 image" "reserved bits" data.qcow2

# Compressed cluster descriptors (64 KiB clusters: 54 bits of offset,
# then 8 bits of sector count).
OFFSET_BITS=54
for base in zlib zstd; do
  l2=$(l2_table $base.qcow2)
  entry=$(peek $base.qcow2 "$((l2 + 4 * 8))" 8)
  ((entry & COMPRESSED)) || fail "$base.qcow2: cluster 4 is not compressed"
  bad comp $base
  poke comp.qcow2 "$l2" 8 $((COMPRESSED | 0xf0000000000))
  refuse "$base: compressed cluster past the end" "end of the file" comp.qcow2
  bad comp $base
  poke comp.qcow2 "$((l2 + 4 * 8))" 8 \
    $((COMPRESSED | 3 << OFFSET_BITS | ($(stat -c %s comp.qcow2) - 100)))
  refuse "$base: compressed data past the end" "end of the file" comp.qcow2
  bad comp $base
  poke comp.qcow2 "$l2" 8 $((COMPRESSED | 3 << OFFSET_BITS | 100))
  refuse "$base: compressed cluster on the header" "$base" comp.qcow2
done

# Compressed streams that end before a whole cluster: 1000 bytes, raw
# deflate taken out of gzip's wrapping (its 10-byte header), and zstd.
for base in zlib zstd; do
  bad short $base
  end=$(stat -c %s short.qcow2)
  if [[ $base == zlib ]]; then
    head -c 1000 seq.bin | gzip -n -c | tail -c +11 >>short.qcow2
  else
    head -c 1000 seq.bin | zstd -q -c >>short.qcow2
  fi
  poke short.qcow2 "$(l2_table short.qcow2)" 8 $((COMPRESSED | end))
  refuse "$base: compressed cluster too short" \
    "decompressed to 1000 bytes instead of 65536" short.qcow2
done

# Header fields for what we do not support.
bad backing
poke backing.qcow2 $OFF_BACKING_FILE_OFFSET 8 0x1000
refuse "backing file offset set" "backing files are not supported" \
  backing.qcow2
bad crypt
poke crypt.qcow2 $OFF_CRYPT_METHOD 4 1
refuse "crypt_method 1" "encrypted qcow2 images are not supported" \
  crypt.qcow2
for bit in 0 1 2 4 5 63; do
  case $bit in
    0) want="qemu-img check -r all" ;;
    1) want="marked corrupt" ;;
    2) want="external data files are not supported" ;;
    4) want="extended L2 entries are not supported" ;;
    *) want="unsupported qcow2 incompatible features" ;;
  esac
  bad feature
  poke feature.qcow2 $OFF_INCOMPATIBLE_FEATURES 8 $((1 << bit))
  refuse "incompatible feature bit $bit" "$want" feature.qcow2
done
bad ctype
poke ctype.qcow2 $OFF_COMPRESSION_TYPE 1 1
refuse "zstd without its feature bit" "compression type" ctype.qcow2
bad ctype
poke ctype.qcow2 $OFF_INCOMPATIBLE_FEATURES 8 8
poke ctype.qcow2 $OFF_COMPRESSION_TYPE 1 2
refuse "compression type 2" "unsupported qcow2 compression type 2" \
  ctype.qcow2

# The same features as qemu-img makes them.
qemu-img create -q -f qcow2 base.qcow2 1M
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 overlay.qcow2
refuse "qemu-img backing file" "backing files are not supported" \
  overlay.qcow2
# qemu-img times its PBKDF by the thread's CPU time, and on a loaded
# (or tick-accounted) machine it may see none pass and give up with
# "Unable to get accurate CPU usage" (seen in CI): a few tries.
for try in 1 2 3 4 5; do
  qemu-img create -q -f qcow2 --object secret,id=sec0,data=p2vkit \
    -o encrypt.format=luks,encrypt.key-secret=sec0 luks.qcow2 1M \
    2>luks.err && break
  grep -q 'Unable to get accurate CPU usage' luks.err ||
    fail "qemu-img could not make a LUKS qcow2: $(cat luks.err)"
  ((try < 5)) || fail "qemu-img could not make a LUKS qcow2: $(cat luks.err)"
  rm -f luks.qcow2
done
refuse "qemu-img LUKS encryption" "encrypted" luks.qcow2
qemu-img create -q -f qcow2 -o data_file=data.raw external.qcow2 1M
refuse "qemu-img external data file" "external data files" external.qcow2
qemu-img create -q -f qcow2 -o extended_l2=on extl2.qcow2 1M
refuse "qemu-img extended L2" "extended L2" extl2.qcow2

echo "all malformed images refused"
