#!/bin/bash
# tier: fast
# timeout: 120
# V2P over the network, XFS in a logical partition of an MBR: v2p-send
# streams a raw image (a 16 MiB primary ext4, then an extended partition
# holding a 320 MiB XFS with files) over TCP on loopback to v2p-recv
# --grow, onto a 700 MiB disk.  The extended and the logical partition
# then reach the end of the disk with their starts unchanged, the disk
# identifier and so every PARTUUID are the image's (libparted writes a new
# one into an MBR without boot code), xfs_repair -n finds nothing, the
# files are identical, and the XFS has grown (df).
. "$(dirname "$0")/functions.sh"
. "$srcdir/v2p-lib.sh"
v2p_requires
requires mkfs.xfs
requires xfs_repair
requires mkfs.ext4

truncate -s 400M vm.img
sfdisk -q vm.img <<EOF
label: dos
,16M,L,*
,,E
,320M,L
EOF
make_tree tree 11
mkfs.ext4 -q -L boot "$(part_loop vm.img 1)"
xfs=$(part_loop vm.img 5)
mkfs.xfs -q -L data "$xfs"
mount_at "$xfs" src
cp -a tree/. src/
umount src
want=$(tree_digest tree)
start5=$(part_field vm.img 5 start)
start2=$(part_field vm.img 2 start)
ids=$(disk_ids vm.img)

truncate -s 700M metal.img
dev=$(new_loop metal.img)

token=0123456789abcdef0123456789abcdef
start_v2p_receiver --disk "$dev" --grow --once --token "$token"
$VG v2p-send vm.img --to "tcp://127.0.0.1:$v2p_port" --token "$token" -q
status=0
wait "$v2p_pid" || status=$?
cat v2p.err
[[ $status == 0 ]] || fail "v2p-recv exited $status"

sectors=$(disk_sectors "$dev")
sfdisk -d "$dev"
for n in 2 5; do
  end=$(($(part_field "$dev" $n start) + $(part_field "$dev" $n size)))
  [[ $end == "$sectors" ]] || fail "partition $n ends at $end, not $sectors"
done
[[ $(part_field "$dev" 2 start) == "$start2" ]] || fail "partition 2 moved"
[[ $(part_field "$dev" 5 start) == "$start5" ]] || fail "partition 5 moved"
same_ids "$dev" "$ids"
grep -q "partition 5 grown from 320.0 MiB to" v2p.err ||
  fail "v2p-recv did not say it grew partition 5"

data=$(part_dev "$dev" 5)
xfs_repair -n "$data"
mount_at "$data" mnt ro
[[ $(tree_digest mnt) == "$want" ]] || fail "the files differ"
size=$(df -B1 --output=size mnt | tail -1)
echo "XFS: $size bytes"
((size > 600 * 1024 * 1024)) || fail "XFS is $size bytes, not grown"
