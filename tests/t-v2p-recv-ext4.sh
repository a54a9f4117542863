#!/bin/bash
# tier: fast
# timeout: 120
# V2P over the network, ext4 on GPT: v2p-send streams a qcow2 image (a
# 16 MiB ext4 partition, a 120 MiB ext4 one with files, on a 200 MiB
# disk) over TCP on loopback to v2p-recv --grow, onto a 400 MiB disk that
# held other data before.  The GPT then describes the whole disk, the last
# partition reaches its last usable sector, the disk GUID and the
# partitions' (PARTUUIDs) are the image's, both filesystems check clean,
# the files are identical, the root filesystem has grown (dumpe2fs), and
# both ends report the same disk digest.
. "$(dirname "$0")/functions.sh"
. "$srcdir/v2p-lib.sh"
v2p_requires
requires qemu-img
requires mkfs.ext4
requires dumpe2fs
requires e2fsck

# The virtual machine's disk.
truncate -s 200M vm.img
sfdisk -q vm.img <<EOF
label: gpt
,16M
,120M
EOF
make_tree tree 7
mkfs.ext4 -q -L boot "$(part_loop vm.img 1)"
mkfs.ext4 -q -L root -d tree "$(part_loop vm.img 2)"
want=$(tree_digest tree)
ids=$(disk_ids vm.img)
qemu-img convert -O qcow2 vm.img vm.qcow2

# The bare-metal disk: larger, and not empty (an old table, old data).
truncate -s 400M metal.img
sfdisk -q metal.img <<EOF
label: gpt
,300M
EOF
head -c 8M /dev/urandom | dd of=metal.img bs=1M seek=100 conv=notrunc \
  status=none
dev=$(new_loop metal.img)

token=0123456789abcdef0123456789abcdef
start_v2p_receiver --disk "$dev" --grow --once --token "$token"
$VG v2p-send vm.qcow2 --to "tcp://127.0.0.1:$v2p_port" --token "$token" \
  --machine-readable -q >send.out
status=0
wait "$v2p_pid" || status=$?
cat v2p.err
[[ $status == 0 ]] || fail "v2p-recv exited $status"

# The same disk digest at both ends.
sent=$(awk '$1 == "disk" { sub (/.*digest=/, ""); print $1 }' send.out)
got=$(awk '$1 == "disk" { sub (/.*digest=/, ""); print $1 }' v2p.out)
[[ -n $sent && $sent == "$got" ]] || fail "digest sent $sent, received $got"

# The GPT covers the disk, and partition 2 reaches its last usable sector.
sfdisk --verify "$dev" >verify.out || { cat verify.out; fail "sfdisk --verify"; }
sectors=$(disk_sectors "$dev")
last_lba=$(sfdisk -d "$dev" | awk '$1 == "last-lba:" { print $2 }')
[[ $last_lba == $((sectors - 34)) ]] ||
  fail "the GPT's last usable sector is $last_lba, not $((sectors - 34))"
end=$(($(part_field "$dev" 2 start) + $(part_field "$dev" 2 size) - 1))
[[ $end == "$last_lba" ]] || fail "partition 2 ends at $end, not $last_lba"
grep -q "partition 2 grown from 120.0 MiB to" v2p.err ||
  fail "v2p-recv did not say it grew partition 2"
same_ids "$dev" "$ids"

# Both filesystems check clean; the root one fills its partition.
boot=$(part_dev "$dev" 1)
root=$(part_dev "$dev" 2)
e2fsck -fn "$boot"
e2fsck -fn "$root"
blocks=$(dumpe2fs -h "$root" 2>/dev/null | awk -F: '/^Block count/ { print $2 }')
bsize=$(dumpe2fs -h "$root" 2>/dev/null | awk -F: '/^Block size/ { print $2 }')
psize=$(($(part_field "$dev" 2 size) * 512))
echo "root: $((blocks * bsize)) bytes of ext4 in a partition of $psize"
((blocks * bsize > 200 * 1024 * 1024 && blocks * bsize <= psize)) ||
  fail "ext4 is $((blocks * bsize)) bytes in a partition of $psize"

mount_at "$root" mnt ro
[[ $(tree_digest mnt) == "$want" ]] || fail "the files differ"
[[ $(blkid -o value -s LABEL "$boot") == boot ]] || fail "partition 1 changed"
