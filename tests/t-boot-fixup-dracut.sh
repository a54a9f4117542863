#!/bin/bash
# tier: boot
# timeout: 3600
# The dracut test guest (tests/guests/build-debian: hostonly=yes strict,
# /dev/sdaN names and resume=/dev/sda2 on the kernel command line,
# systemd-networkd) goes from the physical machine to a KVM guest and back
# with p2v-fixup --target virt, then --target physical, and boots each
# time: as the physical machine, as a KVM guest with its NICs in other
# PCI slots (the names stay, pinned to the MACs), and as the physical
# machine again with no virtio module loaded.  Unconverted, it does not
# boot as a KVM guest: dracut waits for /dev/sda3 for ever.  See
# tests/guests/journey for the steps.
exec "$(dirname "$0")/guests/journey" dracut
