#!/bin/bash
# tier: fast
# timeout: 300
# p2v-send --resync brings an earlier P2V copy up to date sending only the
# blocks that differ: the receiver computes the block hashes of an image
# that has none (then keeps them beside it), the changed blocks (data,
# zeros, a new L2 table's worth past the old data, the short last block)
# are the only data sent, and the image passes qemu-img check and equals
# the source.  A second resync with nothing changed sends no data and
# reads the image no more; a copy changed behind the store's back, or a
# damaged store, is hashed again and made equal once more.  A pre-copy
# without --freeze leaves NAME-DISK.qcow2.precopy, not the image, and
# p2v-recv --convert does not convert it.  A copy with compressed clusters
# where a change falls is refused in one line.  Over ssh too (when sshd is
# there).
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires qemu-io
requires python3

# 1 GiB and 3584 bytes: the last 64 KiB block is short.
size=$((1024 * 1024 * 1024 + 3584))
python3 - disk.img "$size" <<'EOF'
import os, random, sys
path, size = sys.argv[1], int(sys.argv[2])
r = random.Random(1)
with open(path, "wb") as f:
    f.truncate(size)
    f.seek(1 << 20)
    f.write(r.randbytes(40 << 20))
    f.seek(size - 3000)
    f.write(r.randbytes(3000))
EOF

mkdir out
start_receiver out --token tok
to=tcp://127.0.0.1:$recv_port
export P2V_TOKEN=tok
image=out/m/m-disk.qcow2

# field LINE NAME FILE: NAME=VALUE of the first line starting with LINE.
field ()
{
  awk -v l="$1" -v n="$2" '$1 == l { for (i = 2; i <= NF; i++)
      if (index ($i, n "=") == 1) { print substr ($i, length (n) + 2); exit } }' \
    "$3"
}

# An earlier P2V: one pass, no block hashes.
$VG p2v-send disk.img --name m --no-inventory -q --to "$to"
[[ -f $image && ! -e $image.hashes ]] || fail "no plain copy"

# change OFFSET LENGTH [zero]: new random bytes (or zeros) in disk.img.
change ()
{
  python3 - disk.img "$1" "$2" "${3:-}" <<'EOF'
import os, random, sys
path, off, n, zero = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
fd = os.open(path, os.O_WRONLY)
os.pwrite(fd, bytes(n) if zero else random.Random(off).randbytes(n), off)
os.close(fd)
EOF
}
block=65536
change $((2 << 20)) 100                   # 1 block, a few bytes of it
change $((10 << 20)) $((3 * block))       # 3 blocks
change $((20 << 20)) $((2 * block)) zero  # 2 blocks become zeros
change $((700 << 20)) $block              # in a hole past an L2 table's reach
change $((size - 100)) 50                 # the short last block
# Changed blocks holding data: 1 + 3 + 1 whole, and the short last one.
expect_data=$((5 * block + size % block))

$VG p2v-send disk.img --resync --name m --no-inventory -q \
  --machine-readable --to "$to" >resync.out
data=$(field round data resync.out)
[[ $data == "$expect_data" ]] ||
  fail "the resync sent $data bytes of data, not the $expect_data changed"
grep -q "computing its block hashes" recv.err ||
  fail "the receiver did not say it computed the hashes of the old copy"
grep -q '^precopy rounds=1 final=1 ' resync.out || fail "no final round"
[[ -f $image && -f $image.hashes && ! -e $image.precopy ]] ||
  fail "the image or its hashes are not in place"
qemu-img check -q "$image"
qemu-img compare -q disk.img "$image"

# Nothing changed: no data, and the store is used.
$VG p2v-send disk.img --resync --name m --no-inventory -q \
  --machine-readable --to "$to" >resync2.out
[[ $(field round data resync2.out) == 0 ]] || fail "a resync of nothing sent data"
[[ $(grep -c "computing its block hashes" recv.err) == 1 ]] ||
  fail "the receiver hashed its copy again though the store fits"

# The copy changed behind the store's back (as p2v-fixup changes it).
qemu-io -f qcow2 -c "write -P 0x55 $((30 << 20)) 4096" "$image" >/dev/null
$VG p2v-send disk.img --resync --name m --no-inventory -q \
  --machine-readable --to "$to" >resync3.out
[[ $(field round data resync3.out) == "$block" ]] ||
  fail "the block changed on the receiver was not sent back"
[[ $(grep -c "computing its block hashes" recv.err) == 2 ]] ||
  fail "the changed copy was not hashed again"
qemu-img compare -q disk.img "$image"

# A damaged store is not believed.
printf '\xff' | dd of="$image.hashes" bs=1 seek=100 conv=notrunc status=none
change $((11 << 20)) 10
$VG p2v-send disk.img --resync --name m --no-inventory -q \
  --machine-readable --to "$to" >resync4.out
grep -q "block hashes are damaged" recv.err || fail "the damage went unseen"
qemu-img compare -q disk.img "$image"

# A pre-copy without --freeze: the copy stays a pre-copy.
change $((12 << 20)) 10
$VG p2v-send disk.img --precopy --name m --no-inventory \
  --machine-readable --to "$to" >pre.out 2>pre.err
grep -q '^precopy rounds=[0-9]* final=0 ' pre.out || fail "a final round ran"
grep -q "finish with --resync" pre.err || fail "no word of --resync"
[[ -f $image.precopy && ! -e $image ]] ||
  fail "the pre-copy was not kept as $image.precopy"
qemu-img check -q "$image.precopy"
qemu-img compare -q disk.img "$image.precopy"
$VG p2v-send disk.img --resync --name m --no-inventory -q --to "$to"
[[ -f $image && ! -e $image.precopy ]] || fail "the resync did not finish it"

# A copy with compressed clusters where a change falls: refused.
python3 -c 'import os, sys
fd = os.open ("disk.img", os.O_WRONLY)
os.pwrite (fd, b"compressible " * 10000, 45 << 20)' 
qemu-img convert -c -O qcow2 disk.img out/m/m-disk.qcow2.new
mv out/m/m-disk.qcow2.new "$image"
change $((45 << 20)) 10
expect_error "cannot be changed in place" \
  p2v-send disk.img --resync --name m --no-inventory -q --to "$to"

# Over ssh (p2v-recv --stdio on the far side) as well: a pre-copy, a
# change, a resync sending only that block.
if [[ -x /usr/sbin/sshd && $(id -u) == 0 ]] && command -v ssh-keygen >/dev/null
then
  start_sshd
  export P2V_REMOTE_RECV=$bin/p2v-recv
  mkdir viassh
  dest=ssh://root@127.0.0.1:$ssh_port$PWD/viassh
  $VG p2v-send disk.img --precopy --name s --no-inventory -q \
    --machine-readable --to "$dest" >ssh1.out
  grep -q '^precopy rounds=[0-9]* final=0 ' ssh1.out || fail "no pre-copy over ssh"
  change $((13 << 20)) 10
  $VG p2v-send disk.img --resync --name s --no-inventory -q \
    --machine-readable --to "$dest" >ssh2.out
  [[ $(field round data ssh2.out) == "$block" ]] ||
    fail "the resync over ssh sent $(field round data ssh2.out) bytes"
  qemu-img compare -q disk.img viassh/s/s-disk.qcow2
  echo "ok: over ssh"
else
  echo "no sshd: the ssh part is left out"
fi
