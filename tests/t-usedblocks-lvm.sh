#!/bin/bash
# tier: fast
# timeout: 300
# Reading only what the filesystems use, through LVM: a 200 MiB MBR disk of
# old non-zero data whose one partition is an LVM2 PV of a volume group
# with a 64 MiB ext4 logical volume in two segments out of order (extents
# 20-29, then 2-7) and an 8 MiB swap volume (made with vgcfgrestore, so no
# device mapper is needed).  p2v-send maps each volume's filesystem and
# the group's free extents: it reads under a quarter of what --all-blocks
# reads; in its copy the PV's label and metadata are the same (LVM lists
# the same volumes), the ext4 volume checks clean with the same files,
# the swap volume keeps its UUID and label and swapon takes it.  A PV
# whose metadata checksum fails is read in full with one warning.
. "$(dirname "$0")/functions.sh"
. "$srcdir/v2p-lib.sh"
v2p_requires
requires qemu-img
requires mkfs.ext4
requires mkswap
requires swapon
requires e2fsck
requires pvcreate
requires vgcreate
requires vgcfgbackup
requires vgcfgrestore
requires python3

vg=p2vkit-ub-$$
# No backups in /etc/lvm, no devices file, no waiting for udev.
lvmconf='devices { use_devicesfile = 0 } backup { backup = 0 archive = 0 }
activation { udev_sync = 0 udev_rules = 0 }'
lvm_quiet ()
{
  "$@" --config "$lvmconf" >lvm.out 2>&1 || { cat lvm.out; return 1; }
}
MB=$((1024 * 1024))
EXTENT=$((4 * MB))

{ yes p2vkit-old-data-in-free-blocks || true; } | head -c 200M >disk.img
sfdisk -q disk.img <<EOF
label: dos
,,8e
EOF
pv=$(part_loop disk.img 1)
pvstart=$(($(part_field disk.img 1 start) * 512))
lvm_quiet pvcreate -ff -y "$pv"
lvm_quiet vgcreate -s 4M "$vg" "$pv"
lvm_quiet vgcfgbackup -f vg.txt "$vg"
# Two volumes: root in two segments out of order, swap in one.
python3 - vg.txt <<'EOF'
import sys
s = open (sys.argv[1]).read ()
seg = """
			segment%d {
				start_extent = %d
				extent_count = %d
				type = "striped"
				stripe_count = 1
				stripes = [
					"pv0", %d
				]
			}"""
def lv (name, n, segs):
    body = "".join (seg % (i + 1, a, c, p) for i, (a, c, p) in enumerate (segs))
    return """
		%s {
			id = "p2vkit-test-lvid-test-aaaa-bbbb-%06d"
			status = ["READ", "WRITE", "VISIBLE"]
			flags = []
			segment_count = %d
%s
		}""" % (name, n, len (segs), body)
lvs = "\n\tlogical_volumes {" + lv ("root", 1, [(0, 10, 20), (10, 6, 2)]) \
    + lv ("swap", 2, [(0, 2, 40)]) + "\n\t}\n"
i = s.rindex ("}\n")
open (sys.argv[1], "w").write (s[:i] + lvs + s[i:])
EOF
lvm_quiet vgcfgrestore -f vg.txt "$vg"
vgchange -an --config "$lvmconf" "$vg" >/dev/null 2>&1 || true
pe_start=$(awk '$1 == "pe_start" { print $3 * 512 }' vg.txt)
[[ $pe_start -gt 0 ]] || fail "no pe_start in vg.txt"

# The volumes' contents, written where their extents are.
make_tree tree 21
truncate -s 64M root.img
mkfs.ext4 -q -E nodiscard -d tree root.img
want=$(tree_digest tree)
truncate -s 8M swap.img
mkswap -L p2v-lvswap -U 6a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3 swap.img \
  >/dev/null 2>&1
# put_mib FILE SKIP COUNT PV_EXTENT: COUNT extents of FILE from extent
# SKIP onto the PV at its extent PV_EXTENT (all whole MiB).
put_mib ()
{
  dd if="$1" of=disk.img bs=1M skip=$(($2 * 4)) count=$(($3 * 4)) \
    seek=$(((pvstart + pe_start + $4 * EXTENT) / MB)) conv=notrunc \
    status=none
}
put_mib root.img 0 10 20
put_mib root.img 10 6 2
put_mib swap.img 0 2 40
_detach_scratch_loops
before=$(sha256sum <disk.img)

# done_read FILE: the read= of p2v-send's done line.
done_read ()
{
  awk '$1 == "done" { sub (/.*read=/, ""); print $1 }' "$1"
}

$VG p2v-send disk.img --to used.qcow2 --machine-readable -q -v \
  >used.out 2>used.err
cat used.err
$VG p2v-send disk.img --all-blocks --to all.qcow2 --machine-readable -q \
  >all.out
used_read=$(done_read used.out)
all_read=$(done_read all.out)
echo "read: $used_read used only, $all_read with --all-blocks"
((used_read > 0 && used_read * 4 < all_read)) ||
  fail "read $used_read bytes, not under a quarter of $all_read"
grep -q "partition 1, logical volume root (ext4): .* of 64.0 MiB used" used.err ||
  fail "no note for the ext4 volume"
grep -q "partition 1, logical volume swap (swap): 4.0 KiB of 8.0 MiB used" used.err ||
  fail "no note for the swap volume"
grep -q "partition 1 (LVM2 PV): .* of free extents" used.err ||
  fail "no note for the free extents"
[[ $(sha256sum <disk.img) == "$before" ]] || fail "the source changed"

qemu-img convert -O raw used.qcow2 copy.img
# get_mib DISK FILE SKIP COUNT PV_EXTENT: the inverse of put_mib.
get_mib ()
{
  dd if="$1" of="$2" bs=1M skip=$(((pvstart + pe_start + $5 * EXTENT) / MB)) \
    count=$(($4 * 4)) seek=$(($3 * 4)) conv=notrunc status=none
}
get_mib copy.img root-copy.img 0 10 20
get_mib copy.img root-copy.img 10 6 2
get_mib copy.img swap-copy.img 0 2 40
cmp -s <(head -c $((pvstart + pe_start)) copy.img) \
  <(head -c $((pvstart + pe_start)) disk.img) ||
  fail "the label or metadata of the PV differ"
e2fsck -fn root-copy.img >fsck.out 2>&1 ||
  { cat fsck.out; fail "e2fsck of the ext4 volume's copy"; }
mount_at "$(new_loop root-copy.img)" root ro
[[ $(tree_digest root) == "$want" ]] || fail "the ext4 volume's files differ"
umount root
swap=$(new_loop swap-copy.img)
[[ $(blkid -o value -s UUID "$swap") == 6a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3 ]] ||
  fail "swap UUID lost"
[[ $(blkid -o value -s LABEL "$swap") == p2v-lvswap ]] || fail "swap label lost"
swapon "$swap" || fail "swapon refuses the swap volume's copy"
swapoff "$swap"
_detach_scratch_loops
# LVM reads the copy's volume group as the source's.
copypv=$(part_loop copy.img 1)
lvs --config "$lvmconf" --noheadings -o lv_name,lv_size --units m "$vg" \
  2>/dev/null | awk '{ print $1, $2 }' >lvs.out
[[ $(cat lvs.out) == $'root 64.00m\nswap 8.00m' ]] ||
  { cat lvs.out; fail "LVM does not see the copy's volumes"; }
_detach_scratch_loops

# The metadata's checksum fails: the PV is read in full.
cp disk.img bad.img
# The current text is the last one written.
off=$(head -c $((pvstart + pe_start)) bad.img | grep -obaF "$vg {" |
  tail -n 1 | cut -d: -f1)
[[ -n $off ]] || fail "no metadata text found"
printf 'Q' | dd of=bad.img bs=1 seek=$((off + 1)) conv=notrunc status=none
$VG p2v-send bad.img --to bad.qcow2 --machine-readable >bad.out 2>bad.err
cat bad.err
grep -q "warning: bad.img: partition 1 (LVM2 PV): metadata: checksum does not match: read in full" bad.err ||
  fail "no warning for the damaged metadata"
[[ $(wc -l <bad.err) == 1 ]] || fail "more than one line"
[[ $(done_read bad.out) == "$all_read" ]] || fail "bad.img not read in full"
echo "used blocks through LVM: ok"
