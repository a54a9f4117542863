#!/bin/bash
# tier: fast
# timeout: 600
# A transfer cut at half way resumes: the same p2v-send command run again
# sends at most the rest plus one frame, and the image is identical to the
# source.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires python3

# Random data: compression cannot shrink it, so bytes on the wire track
# bytes of disk.
"$srcdir/make-disk" --size 200M --data 1 --seed 31 disk.raw
mkdir full out
token=0123456789abcdef0123456789abcdef
start_receiver full --token "$token"

# The whole transfer, for its size on the wire.
p2v-send disk.raw --to tcp://127.0.0.1:$recv_port --token "$token" \
  --name m --machine-readable >full.out
total=$(awk '$1 == "done" { sub (/wire=/, "", $3); print $3 }' full.out)
kill "$recv_pid"; wait "$recv_pid" 2>/dev/null || true

start_receiver out --token "$token"
cut=$((total / 2))
"$srcdir/cut-proxy" port1 "$recv_port" "$cut" &
proxy=$!
for _ in $(seq 100); do [[ -s port1 ]] && break; sleep 0.05; done
status=0
p2v-send disk.raw --to tcp://127.0.0.1:"$(cat port1)" --token "$token" \
  --name m -q 2>cut.err || status=$?
wait "$proxy" || true
[[ $status == 1 ]] || fail "the cut transfer exited $status, wanted 1"
[[ ! -e out/m/m-disk.qcow2 ]] || fail "a cut transfer left a finished image"
ls out/m/m-disk.qcow2.part out/m/m-disk.qcow2.part.state >/dev/null

# The same command again, through a proxy that does not cut.
"$srcdir/cut-proxy" port2 "$recv_port" $((total * 2)) &
proxy=$!
for _ in $(seq 100); do [[ -s port2 ]] && break; sleep 0.05; done
p2v-send disk.raw --to tcp://127.0.0.1:"$(cat port2)" --token "$token" \
  --name m --machine-readable >resume.out
wait "$proxy" || true
resumed=$(awk '$1 == "done" { sub (/wire=/, "", $3); print $3 }' resume.out)
at=$(awk '$1 == "disk" { sub (/resumed-at=/, "", $4); print $4 }' resume.out)
echo "whole: $total bytes on the wire; cut after $cut; resumed at disk" \
     "offset $at and sent $resumed"
# The rest, plus one frame (1 MiB of data and its header).
limit=$((total - cut + 1024 * 1024 + 4096))
(( resumed <= limit )) ||
  fail "the resumed run sent $resumed bytes, more than the rest + one frame ($limit)"
(( at > 0 )) || fail "the transfer started over"
qemu-img check -q out/m/m-disk.qcow2
qemu-img compare -q disk.raw out/m/m-disk.qcow2
[[ -z $(find out -name '*.part*') ]] || fail "partial files left: $(find out -ls)"
