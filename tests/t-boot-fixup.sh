#!/bin/bash
# tier: boot
# timeout: 3600
# The initramfs-tools test guest (tests/guests/build-debian: MODULES=dep,
# /dev/sdaN names, ifupdown) goes from the physical machine to a KVM guest
# and back with p2v-fixup --target virt, then --target physical, and boots
# each time: as the physical machine, as a KVM guest with its NICs in
# other PCI slots (the names stay, pinned to the MACs), and as the
# physical machine again with no virtio module loaded.  Unconverted, it
# does not boot as a KVM guest: the initramfs gives up on /dev/sda3.  See
# tests/guests/journey for the steps.
exec "$(dirname "$0")/guests/journey" initramfs-tools
