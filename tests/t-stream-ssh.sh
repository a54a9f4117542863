#!/bin/bash
# tier: fast
# timeout: 300
# The ssh transport: p2v-send --to ssh://USER@127.0.0.1:PORT/DIR runs
# p2v-recv --stdio there, through a real sshd started by this test on
# loopback, and the image arrives identical.
. "$(dirname "$0")/functions.sh"
requires qemu-img
requires ssh-keygen
[[ -x /usr/sbin/sshd ]] || skip "needs sshd (openssh-server)"
[[ $(id -u) == 0 ]] || skip "needs root to run sshd"

start_sshd
export P2V_REMOTE_RECV=$bin/p2v-recv

"$srcdir/make-disk" --size 40M --data 0.5 --seed 41 disk.raw
mkdir out
$VG p2v-send disk.raw --to "ssh://root@127.0.0.1:$ssh_port$PWD/out" --name viassh -q
qemu-img check -q out/viassh/viassh-disk.qcow2
qemu-img compare -q disk.raw out/viassh/viassh-disk.qcow2
[[ -f out/viassh/inventory.xml ]] || fail "no inventory over ssh"

# An error on the far side comes back as one line.
expect_error "already exists" \
  p2v-send disk.raw --to "ssh://root@127.0.0.1:$ssh_port$PWD/out" --name viassh
