#!/bin/bash
# tier: fast
# timeout: 300
# The fixup's network and Xorg rules (tests/unit/test-net.c): interface
# names and MACs, new random MACs (locally administered, all different);
# which NICs ifupdown, systemd-networkd, NetworkManager, ifcfg, netplan
# and udev rules files name; static addresses switched to DHCP; the Xorg
# drivers taken out; the .link file and udev rules that pin names to
# MACs, and read back by the scanners.  Exact output and log on realistic and odd files; limits and
# refused inputs.
. "$(dirname "$0")/functions.sh"

$VG "$top/tests/unit/test-net"
