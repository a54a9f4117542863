#!/bin/bash
# tier: fast
# timeout: 900
# p2v-fixup's own inspection on a guest the other phony guests do not
# cover, made here without libguestfs (sfdisk, mke2fs -d): a GPT disk
# whose root has only /usr/lib/os-release (Ubuntu 22.04: version 22.4,
# its PRETTY_NAME as the product), its architecture only in /usr/bin/env,
# and a fstab that names /boot by PARTUUID=, /data by
# /dev/disk/by-uuid/, /srv by a /dev/disk/by-id link (partition 5 of the
# one disk, as libguestfs guessed), the swap by /dev/sda2, and a nofail
# filesystem no disk has.  The report says what the guest is; /boot,
# /data and /srv are mounted (-v says so, and grub.cfg on /boot is
# rewritten); the missing filesystem is a warning.  One libguestfs
# launch, a dry run.
. "$(dirname "$0")/functions.sh"
[[ -x $bin/p2v-fixup ]] || skip "bin/p2v-fixup not built"
requires guestfish --version
PATH=$PATH:/usr/sbin:/sbin
requires sfdisk --version
requires mke2fs -V
requires mkswap --version

export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS-force_tcg}

UUID_BOOT=c0ffee00-0000-4000-8000-0000000007a1
UUID_SWAP=c0ffee00-0000-4000-8000-0000000007a2
UUID_ROOT=c0ffee00-0000-4000-8000-0000000007a3
UUID_DATA=c0ffee00-0000-4000-8000-0000000007a4
UUID_SRV=c0ffee00-0000-4000-8000-0000000007a5
UUID_GONE=c0ffee00-0000-4000-8000-0000000007ff
BY_ID_SRV=/dev/disk/by-id/ata-PHONY_DISK_P2V-INSPECT-part5
PARTUUID_BOOT=5eed7a00-0000-4000-8000-0000000000b1
DISK_GUID=5eed7a00-0000-4000-8000-000000000000
HOSTNAME_=inspect-phony

# put FILE [MODE]: stdin to FILE, making its directory.
put ()
{
  mkdir -p "$(dirname "$1")"
  cat >"$1"
  [[ -z ${2:-} ]] || chmod "$2" "$1"
}

# The root: merged /usr, no /etc/os-release, no /bin/bash, ls or sh.
root=$scratch/root boot=$scratch/boot data=$scratch/data srv=$scratch/srv
mkdir -p "$root"/{etc,usr/bin,usr/sbin,usr/lib,boot,data,srv,mnt/gone,tmp} \
  "$boot/grub" "$data" "$srv"
for d in bin sbin lib; do
  ln -s "usr/$d" "$root/$d"
done
# The 64 bytes of an x86-64 ELF header: all `file` needs.
{
  printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000'
  printf '\002\000\076\000\001\000\000\000'
  head -c 32 /dev/zero
  printf '\000\000\000\000\100\000\070\000\000\000\100\000\000\000\000\000'
} | put "$root/usr/bin/env" 755
put "$root/usr/lib/os-release" <<'EOF'
PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
ID=ubuntu
ID_LIKE=debian
EOF
echo "$HOSTNAME_" | put "$root/etc/hostname"
put "$root/etc/fstab" <<EOF
# <file system> <mount point> <type> <options> <dump> <pass>
/dev/sda3 / ext4 errors=remount-ro 0 1
PARTUUID=$PARTUUID_BOOT /boot ext4 defaults 0 2
/dev/sda2 none swap sw 0 0
/dev/disk/by-uuid/$UUID_DATA /data ext4 defaults 0 2
$BY_ID_SRV /srv ext4 defaults 0 2
UUID=$UUID_GONE /mnt/gone ext4 defaults,nofail 0 2
EOF
# A kernel with the virtio drivers (nothing is rebuilt).
k=6.1.0-phony
mkdir -p "$root/usr/lib/modules/$k"
printf '%s:\n' kernel/drivers/block/virtio_blk.ko kernel/drivers/scsi/virtio_scsi.ko \
  kernel/drivers/net/virtio_net.ko >"$root/usr/lib/modules/$k/modules.dep"
echo kernel/drivers/virtio/virtio_pci.ko >"$root/usr/lib/modules/$k/modules.builtin"
echo "phony kernel" | put "$boot/vmlinuz-$k"
echo "phony initramfs" | put "$boot/initrd.img-$k"
put "$boot/grub/grub.cfg" <<EOF
menuentry 'Ubuntu' {
	linux	/vmlinuz-$k root=/dev/sda3 ro quiet
	initrd	/initrd.img-$k
}
EOF
echo "data" | put "$data/README"
echo "srv" | put "$srv/README"

# The disk: GPT, each filesystem made in a file and copied in.
truncate -s 16M boot.fs
mke2fs -q -F -t ext4 -U "$UUID_BOOT" -E root_owner=0:0 -d "$boot" boot.fs
truncate -s 8M swap.fs
chmod 600 swap.fs
mkswap -U "$UUID_SWAP" swap.fs >mkswap.log 2>&1 || {
  cat mkswap.log >&2
  fail "mkswap failed"
}
truncate -s 40M root.fs
mke2fs -q -F -t ext4 -U "$UUID_ROOT" -L rootfs -E root_owner=0:0 -d "$root" root.fs
truncate -s 8M data.fs
mke2fs -q -F -t ext4 -U "$UUID_DATA" -E root_owner=0:0 -d "$data" data.fs
truncate -s 8M srv.fs
mke2fs -q -F -t ext4 -U "$UUID_SRV" -E root_owner=0:0 -d "$srv" srv.fs
truncate -s 96M disk.img
sfdisk --quiet disk.img <<EOF
label: gpt
label-id: $DISK_GUID
size=16MiB, type=linux, uuid=$PARTUUID_BOOT, name=boot
size=8MiB, type=swap
size=40MiB, type=linux, name=root
size=8MiB, type=linux, name=data
size=8MiB, type=linux, name=srv
EOF
n=0
for fs in boot swap root data srv; do
  n=$((n + 1))
  start=$(sfdisk --dump disk.img |
    awk -v node="disk.img$n" '$1 == node { match ($0, /start= *[0-9]+/);
      s = substr ($0, RSTART, RLENGTH); sub (/[^0-9]+/, "", s); print s }')
  dd if="$fs.fs" of=disk.img bs=512 seek="$start" conv=notrunc,sparse status=none
done
sha256sum disk.img >disk.sum

echo "+ p2v-fixup -v --dry-run --no-initramfs --report r.xml disk.img"
# shellcheck disable=SC2086 # $VG is words, or nothing
$VG p2v-fixup -v --dry-run --no-initramfs --report r.xml disk.img \
  >out.txt 2>err.txt || {
  cat out.txt err.txt >&2
  fail "p2v-fixup: exit status $?"
}
cat out.txt err.txt
sha256sum --quiet -c disk.sum || fail "the dry run changed disk.img"

guest=$(grep -o '<guest [^>]*>' r.xml) || fail "r.xml: no <guest>"
for want in 'root="/dev/sda3"' 'type="linux"' 'distro="ubuntu"' \
            'version="22.4"' 'product="Ubuntu 22.04.4 LTS"' \
            "hostname=\"$HOSTNAME_\"" 'arch="x86_64"'; do
  [[ $guest == *"$want"* ]] || fail "r.xml: $guest: no $want"
done
grep -q '^\[.*\] /dev/sda1 (PARTUUID=[^)]*) mounted on /boot$' out.txt ||
  fail "/boot (PARTUUID=) not mounted"
grep -q "^\[.*\] /dev/sda4 (/dev/disk/by-uuid/$UUID_DATA) mounted on /data\$" out.txt ||
  fail "/data (by-uuid) not mounted"
grep -q "^\[.*\] /dev/sda5 ($BY_ID_SRV) mounted on /srv\$" out.txt ||
  fail "/srv (by-id, the one disk) not mounted"
grep -q '/boot/grub/grub.cfg: 1 line changed' out.txt ||
  fail "grub.cfg on /boot not rewritten"
grep -q "warning: /mnt/gone (UUID=$UUID_GONE) not mounted" err.txt ||
  fail "no warning about the filesystem no disk has"
# The by-id name is not in the device map without an inventory, so the
# fstab rewrite leaves it, with a warning.
if grep -i 'warning' err.txt |
   grep -v -e /mnt/gone -e 'no MAC known' -e "unknown device '$BY_ID_SRV'"; then
  fail "unexpected warnings"
fi
echo "all checks passed"
