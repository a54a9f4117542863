#!/bin/bash
# tier: fast
# timeout: 300
# The fixup's network and Xorg rules (tests/unit/test-net.c): interface
# names and MACs; which NICs ifupdown, systemd-networkd, NetworkManager,
# ifcfg and netplan files name; static addresses switched to DHCP; the
# Xorg drivers taken out; the .link file and udev rules that pin names to
# MACs.  Exact output and log on realistic and odd files; limits and
# refused inputs.
. "$(dirname "$0")/functions.sh"

$VG "$top/tests/unit/test-net"
