#!/bin/bash
# tier: fast
# timeout: 300
# v2p-send --precopy and --resync onto v2p-recv (a loop device): the
# pre-copy writes the image onto the disk in rounds and leaves v2p-recv
# (even with --once) waiting for the final round, with the disk's block
# hashes in memory; a resync after changes sends only the changed blocks,
# and after it the disk holds the image, v2p-recv settles it and, with
# --once, exits.  A new v2p-recv reads its disk for a resync, which again
# sends only what changed.  The figures come on v2p-send's console.
. "$(dirname "$0")/functions.sh"
. "$srcdir/v2p-lib.sh"
v2p_requires

python3 - src.img <<'EOF'
import random, sys
r = random.Random(7)
with open(sys.argv[1], "wb") as f:
    f.truncate(64 << 20)
    for off in (0, 5 << 20, 33 << 20):
        f.seek(off)
        f.write(r.randbytes(3 << 20))
EOF
truncate -s 96M target.img
head -c 1M /dev/urandom | dd of=target.img bs=1M seek=40 conv=notrunc \
  status=none
dev=$(new_loop target.img)
start_v2p_receiver --disk "$dev" --token tok --once
to=tcp://127.0.0.1:$v2p_port
export P2V_TOKEN=tok

field ()
{
  awk -v l="$1" -v n="$2" '$1 == l { for (i = 2; i <= NF; i++)
      if (index ($i, n "=") == 1) { print substr ($i, length (n) + 2); exit } }' \
    "$3"
}

$VG v2p-send src.img --precopy --max-rounds 2 --machine-readable \
  --to "$to" >pre.out 2>pre.err
grep -q '^precopy rounds=2 final=0 ' pre.out || fail "not a pre-copy of 2 rounds"
[[ $(awk '$1 == "round" && $2 == 2' pre.out | grep -c 'data=0 ') == 1 ]] ||
  fail "round 2 sent data though nothing changed"
grep -q "no final round" pre.err || fail "no word of the missing final round"
sleep 0.5
kill -0 "$v2p_pid" || fail "v2p-recv --once did not wait for the final round"
grep -q "waiting for its final round" v2p.err || fail "v2p-recv did not say so"
cmp -n $((64 << 20)) src.img "$dev" || fail "the pre-copy is not on the disk"

# Change 3 blocks, zero 1, then the final round.
python3 - src.img <<'EOF'
import os, random, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
r = random.Random(9)
for off in (1 << 20, 6 << 20, 50 << 20):
    os.pwrite(fd, r.randbytes(65536), off)
os.pwrite(fd, bytes(65536), 34 << 20)
os.close(fd)
EOF
$VG v2p-send src.img --resync --machine-readable --to "$to" >resync.out
[[ $(field round data resync.out) == $((3 * 65536)) ]] ||
  fail "the resync sent $(field round data resync.out) bytes of data"
grep -q '^precopy rounds=1 final=1 ' resync.out || fail "no final round"
for i in $(seq 100); do
  kill -0 "$v2p_pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$v2p_pid" 2>/dev/null && fail "v2p-recv --once did not end"
wait "$v2p_pid" || fail "v2p-recv failed: $(cat v2p.err)"
cmp -n $((64 << 20)) src.img "$dev" || fail "the disk does not hold the image"
# Past the image, v2p-recv zeroed what it could (the old data at 40 MiB is
# inside the image; the tail is the space after it).
cmp -s -i $((64 << 20)) -n $((32 << 20)) "$dev" /dev/zero ||
  fail "the space past the image was not cleared"

# A new v2p-recv knows nothing of the disk: a resync reads it for the
# hashes of its blocks, and only the 2 blocks changed since travel.
start_v2p_receiver --disk "$dev" --token tok --once
to=tcp://127.0.0.1:$v2p_port
python3 - src.img <<'EOF'
import os, random, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
r = random.Random(10)
for off in (2 << 20, 60 << 20):
    os.pwrite(fd, r.randbytes(65536), off)
os.close(fd)
EOF
$VG v2p-send src.img --resync --machine-readable --to "$to" >resync2.out
grep -q "a resync: reading the disk" v2p.err || fail "v2p-recv did not read its disk"
[[ $(field round data resync2.out) == $((2 * 65536)) ]] ||
  fail "the resync to a new v2p-recv sent $(field round data resync2.out) bytes"
wait "$v2p_pid" || fail "v2p-recv failed: $(cat v2p.err)"
cmp -n $((64 << 20)) src.img "$dev" || fail "the disk does not hold the image"
