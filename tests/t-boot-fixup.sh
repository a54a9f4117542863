#!/bin/bash
# tier: boot
# timeout: 1800
# The initramfs-tools test guest (tests/guests/build-debian: MODULES=dep,
# /dev/sdaN names, ifupdown) boots as the physical machine (AHCI disk,
# e1000 NICs) and, unconverted, does not boot as a KVM guest: its
# initramfs gives up on /dev/sda3 (step a of tests/guests/journey).  Its
# round trip through p2v-fixup, --target virt and booted in libvirt, then
# --target physical and booted as the physical machine again, is
# tests/t-boot-iso-journey.sh's, through the live ISO as a user makes it;
# the dracut guest's, tests/t-boot-fixup-dracut.sh's.
exec "$(dirname "$0")/guests/journey" --step-a initramfs-tools
