#!/bin/bash
# tier: fast
# timeout: 300
# An interrupted p2v-send never leaves a file that looks complete: killed
# with SIGTERM or SIGINT it removes its partial output; killed with SIGKILL
# it can leave only NAME.part, which has no qcow2 header yet (the header is
# written last), and the next run replaces it.
. "$(dirname "$0")/functions.sh"
requires qemu-img

# Slow enough to be caught in the middle: dense data, heavy compression.
head -c $((256 * 1024 * 1024)) /dev/urandom >disk.raw

start_and_wait_for_part ()
{
  p2v-send disk.raw --to out.qcow2 --compress zstd:19 -q &
  pid=$!
  for _ in $(seq 100); do
    [[ -s out.qcow2.part ]] && return 0
    sleep 0.1
  done
  fail "p2v-send did not start writing"
}

for sig in TERM INT; do
  start_and_wait_for_part
  kill -s $sig $pid
  status=0
  wait $pid || status=$?
  [[ $status == 1 ]] || fail "SIG$sig: exit status $status, wanted 1"
  [[ ! -e out.qcow2 && ! -e out.qcow2.part ]] ||
    fail "SIG$sig left output behind: $(ls)"
done

start_and_wait_for_part
kill -s KILL $pid
wait $pid || true
[[ ! -e out.qcow2 ]] || fail "SIGKILL left out.qcow2"
[[ -e out.qcow2.part ]] || fail "no out.qcow2.part after SIGKILL"
magic=$(head -c 4 out.qcow2.part | od -An -tx1 | tr -d ' ')
[[ $magic != 514649fb ]] || fail "out.qcow2.part has a qcow2 header"
qemu-img info out.qcow2.part | grep -q '^file format: raw' ||
  fail "qemu-img takes out.qcow2.part for an image"

# The next run starts over and completes.
head -c $((4 * 1024 * 1024)) disk.raw >small.raw
p2v-send small.raw --to out.qcow2
[[ ! -e out.qcow2.part ]] || fail "out.qcow2.part left after success"
qemu-img compare -q small.raw out.qcow2
