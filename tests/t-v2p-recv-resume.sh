#!/bin/bash
# tier: fast
# timeout: 180
# A V2P transfer cut at half way resumes: v2p-recv --once keeps waiting
# after the break (it says so), the same v2p-send command run again sends
# at most the rest plus one frame, and the disk then holds the image.  A
# one-way stream (v2p-send --to - | v2p-recv --stdio) writes the same disk.
. "$(dirname "$0")/functions.sh"
. "$srcdir/v2p-lib.sh"
v2p_requires

# Random data sent without compression: bytes on the wire track bytes of
# disk.
size=$((160 * 1024 * 1024))
"$srcdir/make-disk" --size $size --data 1 --seed 37 disk.raw
truncate -s 192M metal.img
dev=$(new_loop metal.img)
token=0123456789abcdef0123456789abcdef

start_v2p_receiver --disk "$dev" --once --token "$token"
cut=$((size / 2))
"$srcdir/cut-proxy" port1 "$v2p_port" "$cut" &
proxy=$!
for _ in $(seq 100); do [[ -s port1 ]] && break; sleep 0.05; done
status=0
v2p-send disk.raw --to tcp://127.0.0.1:"$(cat port1)" --token "$token" \
  --compress none -q 2>cut.err || status=$?
wait "$proxy" || true
[[ $status == 1 ]] || fail "the cut transfer exited $status, wanted 1"
for _ in $(seq 100); do
  grep -q "waiting for the sender to resume" v2p.err && break
  sleep 0.05
done
grep -q "waiting for the sender to resume" v2p.err ||
  { cat v2p.err; fail "v2p-recv did not wait for the resume"; }
kill -0 "$v2p_pid" || fail "v2p-recv --once ended after a broken connection"

$VG v2p-send disk.raw --to tcp://127.0.0.1:"$v2p_port" --token "$token" \
  --compress none --machine-readable >resume.out
wait "$v2p_pid"
at=$(awk '$1 == "disk" { sub (/resumed-at=/, "", $4); print $4 }' resume.out)
wire=$(awk '$1 == "done" { sub (/wire=/, "", $3); print $3 }' resume.out)
echo "cut after $cut bytes; resumed at disk offset $at, sent $wire more"
((at > 0)) || fail "the transfer started over"
((wire <= size - at + 2 * 1024 * 1024)) ||
  fail "the resumed run sent $wire bytes, more than the rest + one frame"
grep -q "resuming at offset $at" v2p.err || fail "v2p-recv did not say it resumed"
cmp -n $size disk.raw "$dev" || fail "the disk differs from the image"

# One way, through a pipe, onto a disk holding other data.
truncate -s 192M other.img
head -c 4M /dev/urandom | dd of=other.img conv=notrunc status=none
dev2=$(new_loop other.img)
v2p-send disk.raw --to - | $VG v2p-recv --stdio --disk "$dev2"
cmp -n $size disk.raw "$dev2" || fail "the piped disk differs from the image"
