#!/bin/bash
# tier: fast
# timeout: 600
# Broken connections in a pre-copy.  Round 1 cut at half way resumes where
# the receiver last saved (the resume of one pass, with the block hashes
# of what came before saved beside it).  A resync cut in the middle of its
# delta leaves a copy whose saved hashes describe it, blocks written so
# far included: the next resync sends only the rest, and the image equals
# the source.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires python3

"$srcdir/make-disk" --size 200M --data 1 --seed 31 disk.raw
mkdir out
token=0123456789abcdef0123456789abcdef
start_receiver out --token "$token"
export P2V_TOKEN=$token
image=out/m/m-disk.qcow2

field ()
{
  awk -v l="$1" -v n="$2" '$1 == l { for (i = 2; i <= NF; i++)
      if (index ($i, n "=") == 1) { print substr ($i, length (n) + 2); exit } }' \
    "$3"
}

# through CUT ARGS...: p2v-send ARGS through a proxy that cuts the
# connection after CUT bytes from the sender; its status in $status.
through ()
{
  local cut=$1 proxy
  shift
  rm -f port
  "$srcdir/cut-proxy" port "$recv_port" "$cut" &
  proxy=$!
  for _ in $(seq 100); do [[ -s port ]] && break; sleep 0.05; done
  status=0
  p2v-send disk.raw --to tcp://127.0.0.1:"$(cat port)" --name m \
    --no-inventory "$@" || status=$?
  wait "$proxy" || true
}

# Round 1, cut at half way, then again.
through $((100 << 20)) --precopy --max-rounds 1 -q 2>cut1.err
[[ $status == 1 ]] || fail "the cut round 1 exited $status"
ls "$image.precopy.part" "$image.precopy.part.state" "$image.hashes" \
  >/dev/null
through $((1 << 30)) --precopy --max-rounds 1 --machine-readable \
  >resume1.out
[[ $status == 0 ]] || fail "round 1 did not resume"
at=$(field disk resumed-at resume1.out)
echo "round 1 resumed at $at"
(( at > 0 )) || fail "round 1 started over"
qemu-img compare -q disk.raw "$image.precopy"

# 64 MiB of changes; the resync cut after about half of them.
python3 - disk.raw <<'EOF'
import os, random, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
r = random.Random(5)
for b in range(0, 1024, 16):
    os.pwrite(fd, r.randbytes(1 << 20), b << 16)
os.close(fd)
EOF
changed=$((64 << 20))
through $((32 << 20)) --resync -q 2>cut2.err
[[ $status == 1 ]] || fail "the cut resync exited $status"
through $((1 << 30)) --resync --machine-readable >resume2.out
[[ $status == 0 ]] || fail "the resync after the cut failed"
data=$(field round data resume2.out)
echo "the resync after the cut sent $data of $changed changed bytes"
(( data < changed - (16 << 20) )) ||
  fail "the resync sent $data bytes: what the cut one wrote was not kept"
qemu-img check -q "$image"
qemu-img compare -q disk.raw "$image"
