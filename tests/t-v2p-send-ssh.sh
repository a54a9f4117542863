#!/bin/bash
# tier: fast
# timeout: 180
# V2P over ssh: v2p-send IMAGE IMAGE --grow --to
# ssh://root@127.0.0.1:PORT/DEV1,DEV2 runs v2p-recv --stdio --disk DEV1
# --disk DEV2 --grow there, through a real sshd started by this test on
# loopback: each image lands on its disk and the ext4 in the last
# partition of the first grows.  A device list that does not match the
# images, and an error on the far side, are one line each.
. "$(dirname "$0")/functions.sh"
. "$srcdir/v2p-lib.sh"
v2p_requires
requires ssh-keygen
requires mkfs.ext4
requires dumpe2fs
[[ -x /usr/sbin/sshd ]] || skip "needs sshd (openssh-server)"

start_sshd
# sshd does not pass the sanitizers' settings of `make check-asan` on.
export V2P_REMOTE_RECV="${ASAN_OPTIONS:+env ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=${UBSAN_OPTIONS:-} }$bin/v2p-recv"

truncate -s 64M vm.img
sfdisk -q vm.img <<EOF
label: gpt
,40M
EOF
make_tree tree 5
mkfs.ext4 -q -d tree "$(part_loop vm.img 1)"
"$srcdir/make-disk" --size 16M --data 0.5 --seed 43 data.raw

truncate -s 128M metal1.img
truncate -s 32M metal2.img
dev1=$(new_loop metal1.img)
dev2=$(new_loop metal2.img)

$VG v2p-send vm.img data.raw --grow -q \
  --to "ssh://root@127.0.0.1:$ssh_port$dev1,$dev2" 2>ssh.err
cat ssh.err
grep -q "partition 1 grown from 40.0 MiB to" ssh.err ||
  fail "the far side did not say it grew partition 1"
cmp -n 16M data.raw "$dev2" || fail "the second disk differs from its image"
part=$(part_dev "$dev1" 1)
e2fsck -fn "$part"
mount_at "$part" mnt ro
[[ $(tree_digest mnt) == "$(tree_digest tree)" ]] || fail "the files differ"
size=$(df -B1 --output=size mnt | tail -1)
((size > 100 * 1024 * 1024)) || fail "ext4 is $size bytes: not grown"
umount mnt

expect_error "2 image(s) but 1 disk(s) after the host" \
  v2p-send vm.img data.raw --to "ssh://root@127.0.0.1:$ssh_port$dev1"
# The far side refuses a disk smaller than the image: one line comes back.
expect_error "too small" \
  v2p-send vm.img --to "ssh://root@127.0.0.1:$ssh_port$dev2"
