#!/bin/bash
# tier: boot
# timeout: 1200
# The initramfs-tools test guest (tests/guests/build-debian, cached) boots
# as the physical machine it stands for: AHCI disk, root on /dev/sda3,
# /boot and swap from fstab's /dev/sdaN, both e1000 NICs under their
# predictable names with the MACs given, the static address up, no virtio
# module loaded.  And, unconverted, it does NOT boot as a KVM guest
# (virtio-blk disk, virtio-net NICs): its host-only initramfs has no
# virtio_blk, so the initramfs gives up on /dev/sda3.  That is the failure
# p2v-fixup --target virt has to cure.  Both boots run at once, on a
# snapshot and on a copy: the cached image never changes.
. "$(dirname "$0")/functions.sh"
requires qemu-system-x86_64 --version
requires mmdebstrap --version
requires losetup
[[ $(id -u) == 0 ]] || skip "needs root to build the guest (loop devices, chroot)"

mac1=52:54:00:a1:b2:01
mac2=52:54:00:a1:b2:02

start=$SECONDS
image=$("$srcdir/guests/build-debian" initramfs-tools)
echo "guest image: $image ($((SECONDS - start)) s)"
before=$(stat -c '%s %Y' "$image")

cp --sparse=always "$image" virt.img

# kill_quietly PID: stop a boot still running (at exit).
kill_quietly ()
{
  kill "$1" 2>/dev/null || true
}

boot_start=$SECONDS
"$srcdir/guests/boot" --physical --snapshot --mac1 "$mac1" --mac2 "$mac2" \
  --log physical.log "$image" >physical.report 2>physical.err &
physical_pid=$!
cleanup_fn kill_quietly "$physical_pid"
"$srcdir/guests/boot" --virt --mac1 "$mac1" --mac2 "$mac2" \
  --timeout 400 --log virt.log virt.img >virt.report 2>virt.err &
virt_pid=$!
cleanup_fn kill_quietly "$virt_pid"

physical_status=0
wait "$physical_pid" || physical_status=$?
echo "physical boot: exit status $physical_status after" \
     "$((SECONDS - boot_start)) s"
virt_status=0
wait "$virt_pid" || virt_status=$?
echo "virt boot: exit status $virt_status after $((SECONDS - boot_start)) s"

# --- As the physical machine: boots, and the report says what it should ---

echo "--- physical report:"
cat physical.report physical.err
[[ $physical_status == 0 ]] ||
  fail "the guest did not boot as the physical machine: $(cat physical.err)"

"$srcdir/guests/check-report" --physical physical.report "$mac1" "$mac2" ||
  fail "the physical machine's report is not as it should be"

# --- As a KVM guest, unconverted: the initramfs finds no root device -------

echo "--- virt boot:"
cat virt.err
[[ $virt_status == 1 ]] ||
  fail "the unconverted guest booted with virtio (exit status $virt_status)"
[[ ! -s virt.report ]] || fail "the unconverted guest wrote a report"
grep -q 'no root device' virt.err ||
  fail "the virt boot failed, but not for want of a root device"
tr -d '\r' <virt.log | grep -q 'ALERT!  /dev/sda3 does not exist' ||
  fail "the console does not show the initramfs giving up on /dev/sda3"

[[ $(stat -c '%s %Y' "$image") == "$before" ]] ||
  fail "$image: the cached image changed"
echo "total $((SECONDS - start)) s"
