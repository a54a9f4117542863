#!/bin/bash
# tier: fast
# timeout: 120
# What v2p-recv refuses, each with one line and exit status 1, the disk
# left exactly as it was (its digest before and after): a disk too small
# for the image's partitions (the sender hears why, in one line too); a
# disk with a mounted partition; a disk another program holds open
# exclusively; a disk with a partition in use as swap; a sender with more
# or fewer disks than --disk.  A smaller disk that does hold the image's
# partitions is taken.  While v2p-recv waits, nobody can mount the disk.
. "$(dirname "$0")/functions.sh"
. "$srcdir/v2p-lib.sh"
v2p_requires
requires mkfs.ext4
requires mkswap
requires swapon

token=0123456789abcdef0123456789abcdef

# A 256 MiB image whose GPT partitions end at 131 MiB (and 16.5 KiB of
# backup table after them).
truncate -s 256M vm.img
sfdisk -q vm.img <<EOF
label: gpt
,2M
,128M
EOF
make_tree tree 3
mkfs.ext4 -q -d tree "$(part_loop vm.img 2)"

# A disk with old contents: a table, a filesystem, a swap area.
truncate -s 128M metal.img
sfdisk -q metal.img <<EOF
label: dos
,64M
,32M,S
EOF
dev=$(new_loop metal.img)
mkfs.ext4 -q "$(part_dev "$dev" 1)"
mkswap -q "$(part_dev "$dev" 2)"
before=$(sha256sum <"$dev")

untouched ()
{
  [[ $(sha256sum <"$dev") == "$before" ]] || fail "$1: the disk changed"
}

# refused WHAT PATTERN [v2p-recv options]: v2p-recv --disk $dev exits 1
# at start with one line matching PATTERN.
refused ()
{
  local what=$1 pattern=$2
  shift 2
  expect_error "$pattern" v2p-recv --listen 127.0.0.1:0 --disk "$dev" "$@"
  untouched "$what"
}

# Too small: 128 MiB for partitions that end at 131 MiB.  Both ends say
# so in one line.
start_v2p_receiver --disk "$dev" --once --token "$token"
expect_error "too small: 134217728 bytes (128.0 MiB), the image needs at least 137380352 (131.0 MiB)" \
  v2p-send vm.img --to "tcp://127.0.0.1:$v2p_port" --token "$token" -q
status=0
wait "$v2p_pid" || status=$?
[[ $status == 1 ]] || fail "v2p-recv exited $status after refusing, not 1"
tail -1 v2p.err | grep -q "^v2p-recv: machine 'vm', disk 'vm': $dev: too small" ||
  fail "v2p-recv's last line: $(tail -1 v2p.err)"
untouched "too small"

# The count of disks.
start_v2p_receiver --disk "$dev" --once --token "$token"
expect_error "machine 'vm' sends 2 disk(s), but v2p-recv was given 1 (--disk)" \
  v2p-send vm.img vm.img --to "tcp://127.0.0.1:$v2p_port" --token "$token" \
  --name vm -q
wait "$v2p_pid" || true
untouched "two disks for one"

truncate -s 64M other.img
dev2=$(new_loop other.img)
before2=$(sha256sum <"$dev2")
start_v2p_receiver --disk "$dev" --disk "$dev2" --once --token "$token"
expect_error "sends 1 disk(s), but v2p-recv was given 2" \
  v2p-send vm.img --to "tcp://127.0.0.1:$v2p_port" --token "$token" -q
wait "$v2p_pid" || true
untouched "one disk for two"
[[ $(sha256sum <"$dev2") == "$before2" ]] || fail "the second disk changed"

# While v2p-recv waits, the disk is its own: no mount.
start_v2p_receiver --disk "$dev" --once --token "$token"
mkdir m
if mount -o ro "$(part_dev "$dev" 1)" m 2>/dev/null; then
  umount m
  fail "a partition was mounted while v2p-recv held the disk"
fi
kill "$v2p_pid"
wait "$v2p_pid" || true

# Mounted.
mount_at "$(part_dev "$dev" 1)" mnt ro
refused "mounted" "$dev: in use: $(part_dev "$dev" 1) is mounted on $PWD/mnt"
umount mnt

# Swap.
swapon "$(part_dev "$dev" 2)"
cleanup_fn swapoff "$(part_dev "$dev" 2)"
refused "swap" "$dev: in use: $(part_dev "$dev" 2) is swap"
swapoff "$(part_dev "$dev" 2)"

# Held exclusively by another program.
python3 -c '
import os, sys, time
fd = os.open (sys.argv[1], os.O_RDONLY | os.O_EXCL)
print ("held", flush=True)
time.sleep (60)' "$dev" >held.out &
holder=$!
cleanup_fn kill "$holder"
for _ in $(seq 100); do [[ -s held.out ]] && break; sleep 0.05; done
refused "held" "$dev: in use: opened exclusively by another program"
kill "$holder"
wait "$holder" || true

# The same disk twice.
expect_error "--disk: $dev given twice" \
  v2p-recv --listen 127.0.0.1:0 --disk "$dev" --disk "$dev"

# Smaller than the image, but holding its partitions: taken, with a note.
truncate -s 160M fits.img
fdev=$(new_loop fits.img)
start_v2p_receiver --disk "$fdev" --once --token "$token"
$VG v2p-send vm.img --to "tcp://127.0.0.1:$v2p_port" --token "$token" -q
wait "$v2p_pid"
grep -q "$fdev is 160.0 MiB, smaller than the image (256.0 MiB), but the image's GPT partitions and backup table end at 131.0 MiB" v2p.err ||
  { cat v2p.err; fail "no note about the smaller disk"; }
sfdisk --verify "$fdev"
e2fsck -fn "$(part_dev "$fdev" 2)"
mount_at "$(part_dev "$fdev" 2)" fmnt ro
[[ $(tree_digest fmnt) == "$(tree_digest tree)" ]] || fail "the files differ"
