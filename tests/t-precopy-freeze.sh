#!/bin/bash
# tier: fast
# timeout: 600
# p2v-send --precopy --freeze of an ext4 filesystem mounted from a loop
# device while a writer adds files to it all along: round 1 sends the disk,
# the later rounds only what changed, the final round runs with the
# filesystem frozen (the writer waits) and then thaws it.  The image
# passes qemu-img check and e2fsck -fn, holds every file whose writing had
# ended before the freeze with its content, and no file begun after it;
# the inventory carries the figures the sender printed.  Then a resync
# with --freeze is killed during its final round, by SIGKILL and by
# SIGTERM: the filesystem is thawed both times.
. "$(dirname "$0")/functions.sh"
. "$srcdir/v2p-lib.sh"
v2p_requires
requires mkfs.ext4
requires e2fsck
requires qemu-img
requires mount

# The content of file N: deterministic, 40 to 280 KiB.
content ()
{
  { yes "file $1 $(printf '%0100d' "$1")" || :; } |
    head -c $(( ($1 % 7 + 1) * 40960 ))
}

truncate -s 256M disk.img
mkfs.ext4 -q -F disk.img
dev=$(new_loop disk.img)
name=$(basename "$dev")
mount_at "$dev" mnt
mkdir out
start_receiver out --token tok

# 32 MiB that round 1 sends and later rounds do not.
head -c 32M /dev/urandom >mnt/base
sync -f mnt/base

# The writer: one file after the other, each flushed (so that the rounds
# see it, not only the final one) and logged with the time its writing
# ended, until told to stop.
writer ()
{
  local i=0
  while [[ ! -e stop ]]; do
    i=$((i + 1))
    content "$i" | dd of="mnt/f$i" conv=fsync status=none
    echo "$i $(date +%s.%N)" >>written.log
    sleep 0.05
  done
}
: >written.log
writer &
writer_pid=$!
cleanup_fn kill "$writer_pid"
sleep 1

start=$(date +%s.%N)
P2V_TOKEN=tok $VG p2v-send --precopy --freeze --max-downtime 0.001 \
  --max-rounds 4 --name pc --machine-readable "$dev" \
  --to "tcp://127.0.0.1:$recv_port" >send.out 2>send.err ||
  { cat send.err; fail "p2v-send --precopy --freeze failed"; }
sleep 1
touch stop
wait "$writer_pid"
cat send.err

freeze_at=$(awk '$1 == "freeze" { sub (/at=/, "", $3); print $3 }' send.out)
thaw_at=$(awk '$1 == "thaw" { sub (/at=/, "", $2); print $2 }' send.out)
[[ -n $freeze_at && -n $thaw_at ]] || fail "no freeze or thaw line"
grep -q '^freeze filesystems=1 ' send.out ||
  fail "the filesystem on $dev was not the one frozen"
rounds=$(awk '$1 == "precopy" { sub (/rounds=/, "", $2); print $2 }' send.out)
grep -q '^precopy rounds=[0-9]* final=1 ' send.out || fail "no final round"
[[ $rounds -ge 3 ]] || fail "only $rounds round(s)"
# Round 1 sends the filesystem; later rounds only changes: less.
awk '$1 == "round" {
       for (i = 3; i <= NF; i++) if ($i ~ /^data=/) d[$2] = substr ($i, 6) + 0 }
     END { for (r = 2; r in d; r++) if (d[r] >= d[1]) exit 1 }' send.out ||
  fail "a later round sent as much as round 1"

image=out/pc/pc-$name.qcow2
[[ -f $image && ! -e $image.precopy ]] || fail "no complete image"
[[ -f $image.hashes ]] || fail "no block hashes beside the image"
qemu-img check -q "$image"
qemu-img convert -O raw "$image" final.raw
e2fsck -fn final.raw

# The files: every one ended before the freeze, with its content; none
# begun after it (the one being written then may be there in part).
before=$(awk -v t="$freeze_at" '$2 < t { n = $1 } END { print n + 0 }' \
           written.log)
during=$(awk -v s="$start" -v t="$freeze_at" '$2 > s && $2 < t' written.log |
           wc -l)
after=$(awk -v t="$thaw_at" '$2 > t' written.log | wc -l)
echo "files: $before before the freeze ($during during the pre-copy)," \
     "$after after the thaw"
[[ $before -ge 10 && $during -ge 5 ]] ||
  fail "too few files written before the freeze to show anything"
[[ $after -ge 1 ]] || fail "the writer wrote nothing after the thaw"
mount_at "$(new_loop final.raw)" img ro
for ((i = 1; i <= before; i++)); do
  cmp -s <(content "$i") "img/f$i" || fail "f$i is missing or wrong"
done
for f in img/f*; do
  n=${f#img/f}
  [[ $n -le $((before + 1)) ]] || fail "f$n was begun after the freeze"
done
umount img

# The migration's figures in the inventory.
grep -q "<migration method=\"precopy\" rounds=\"$rounds\" final=\"yes\"" \
  out/pc/inventory.xml || fail "no migration figures in the inventory"
[[ $(grep -c '<round number=' out/pc/inventory.xml) == "$rounds" ]] ||
  fail "the inventory lists another number of rounds"

# Killing the sender in its final round leaves the filesystem thawed.  A
# resync with a slow link and 8 MiB of new data keeps that round going.
thawed ()
{
  timeout 10 sh -c "echo x >mnt/probe && sync -f mnt/probe" ||
    fail "mnt is still frozen after p2v-send was killed by $1"
}
for sig in KILL TERM; do
  head -c 8M /dev/urandom >mnt/noise
  sync -f mnt/noise
  : >kill.out
  P2V_TOKEN=tok p2v-send --resync --freeze --bandwidth 1 --no-inventory \
    --name pc --machine-readable "$dev" --to "tcp://127.0.0.1:$recv_port" \
    >kill.out 2>kill.err &
  pid=$!
  for i in $(seq 100); do
    grep -q '^freeze ' kill.out && break
    sleep 0.1
  done
  grep -q '^freeze ' kill.out || { cat kill.err; fail "no freeze"; }
  sleep 1
  kill -"$sig" "$pid"
  status=0
  wait "$pid" || status=$?
  [[ $status != 0 ]] || fail "p2v-send finished before SIG$sig"
  grep -q '^thaw ' kill.out && fail "the round ended before SIG$sig"
  thawed "SIG$sig"
  echo "SIG$sig: exit status $status, thawed"
done
