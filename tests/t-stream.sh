#!/bin/bash
# tier: fast
# timeout: 600
# p2v-send streams disks to p2v-recv over TCP on loopback: one sender with
# two disks, and three senders at once, each into its own directory; the
# qcow2 images are identical to their sources, the inventory is valid, a
# pipe works one-way, and a wrong token is refused before anything is
# written.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires xmllint

"$srcdir/make-disk" --size 48M+512 --data 0.4 --zero-runs 0.05 --seed 21 a.raw
"$srcdir/make-disk" --size 16M --data 1 --seed 22 b.raw
mkdir out
token=0123456789abcdef0123456789abcdef
start_receiver out --token "$token"
dest=tcp://127.0.0.1:$recv_port

# One sender, two disks.
$VG p2v-send a.raw b.raw --to "$dest" --token "$token" --name web1 \
  --machine-readable >send.out
qemu-img check -q out/web1/web1-a.qcow2
qemu-img compare -q a.raw out/web1/web1-a.qcow2
qemu-img compare -q b.raw out/web1/web1-b.qcow2
xmllint --noout --relaxng "$top/templates/inventory.rng" out/web1/inventory.xml
grep -q '^disk a size=' send.out || fail "no per-disk line: $(cat send.out)"
[[ -z $(find out -name '*.part*') ]] || fail "partial files left: $(find out)"

# The token from a file and from the environment work too.
echo "$token" >token.txt
p2v-send a.raw --to "$dest" --token-file token.txt --name web2 -q
P2V_TOKEN=$token p2v-send b.raw --to "$dest" --name web3 -q
qemu-img compare -q a.raw out/web2/web2-a.qcow2
qemu-img compare -q b.raw out/web3/web3-b.qcow2

# A bandwidth cap and no compression change nothing in the result.
p2v-send b.raw --to "$dest" --token "$token" --name capped -q \
  --bandwidth 200 --compress none
qemu-img compare -q b.raw out/capped/capped-b.qcow2
expect_error "--bandwidth: 'fast'" \
  p2v-send b.raw --to "$dest" --token "$token" --bandwidth fast
expect_error "a stream is compressed with zstd or not at all" \
  p2v-send b.raw --to "$dest" --token "$token" --compress zlib

# Three senders at once.
for n in 1 2 3; do
  p2v-send a.raw b.raw --to "$dest" --token "$token" --name db$n -q &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent sender failed"; done
for n in 1 2 3; do
  qemu-img compare -q a.raw out/db$n/db$n-a.qcow2
  qemu-img compare -q b.raw out/db$n/db$n-b.qcow2
done

# No overwrite without the receiver's --force.
expect_error "already exists" \
  p2v-send a.raw --to "$dest" --token "$token" --name web2

# A wrong token, or none: refused, and nothing is written.
expect_error "authentication failed" \
  p2v-send a.raw --to "$dest" --token wrong --name intruder
expect_error "wants a token" p2v-send a.raw --to "$dest" --name intruder
[[ ! -e out/intruder ]] || fail "a refused sender got a directory"

# One-way through a pipe.
mkdir piped
p2v-send a.raw --to - --name piped -q | $VG p2v-recv --stdio --out piped
qemu-img compare -q a.raw piped/piped/piped-a.qcow2

# A qcow2 source travels too (the inventory then describes the machine
# only: libparted cannot look inside qcow2).
p2v-send a.raw --to a.qcow2
mkdir fromq
p2v-send a.qcow2 --to - --name q -q | p2v-recv --stdio --out fromq
qemu-img compare -q a.raw fromq/q/q-a.qcow2

# Two sources of one name: the second is numbered.
mkdir d1 d2 twins
cp b.raw d1/x.raw
cp b.raw d2/x.raw
p2v-send d1/x.raw d2/x.raw --to - --name twin -q | p2v-recv --stdio --out twins
qemu-img compare -q b.raw twins/twin/twin-x.qcow2
qemu-img compare -q b.raw twins/twin/twin-x-1.qcow2
