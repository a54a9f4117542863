/* p2vkit fixup: the network and Xorg rules of p2v-fixup.
 *
 * A guest's network configuration names its NICs (eth0, ens3, enp3s0),
 * and those names come from the hardware: the kernel's probe order, or
 * the PCI slot and the driver (udev's predictable names).  On new
 * hardware the NICs get other names, and the configuration configures
 * nothing.  p2v-fixup therefore records which names the configuration
 * uses, and with which MACs (the scanners below), pins each name to its
 * MAC so that it survives the move (net_link_file, net_udev_rules),
 * and, with --network dhcp, switches static addresses to DHCP (the
 * net_dhcp_* rewriters).  An Xorg configuration may name a driver of the
 * old machine's graphics card; xorg_remove_drivers takes it out.
 *
 * Everything here works on memory only: reading and writing the guest's
 * files is the caller's business.  The inputs are a guest's files, so
 * untrusted: any bytes, at most REWRITE_INPUT_MAX of them, and no NUL
 * byte (refused with an error, as rewrite.h's rewriters do).  Time and
 * memory are linear in the size of the input.
 *
 * Functions that can fail return -1 with an error recorded (error.h) and
 * change nothing they were given.  Thread use: different calls may run in
 * different threads if they use different lists and logs.
 */
#ifndef P2V_NET_H
#define P2V_NET_H

#include <stdbool.h>
#include <stddef.h>

#include "rewrite.h"

/* The longest interface name (IFNAMSIZ - 1). */
#define NET_NAME_MAX 15

/* A normalised MAC, "aa:bb:cc:dd:ee:ff", with its NUL. */
#define NET_MAC_SIZE 18

/* The most names a list holds.  Real machines have a few NICs; the limit
 * keeps a hostile file from making a list of millions.
 */
#define NET_REFS_MAX 1024

/* The prefix of every line that the rewriters below comment out: what
 * p2v-fixup took out, and how to put it back.
 */
#define NET_COMMENT "# p2vkit: "

/* ---------------------------------------------------------------------
 * Names and MACs.
 */

/* Is NAME usable as a network interface name?  It must be what both the
 * kernel and systemd-udevd accept, and safe to write unquoted into a
 * .link file and quoted into a udev rule: 1 to NET_NAME_MAX bytes of
 * printable ASCII (no space, no control character, nothing above 0x7e),
 * none of
 *
 *   / :          (the kernel refuses them; eth0:1 is an ifupdown alias)
 *   %            (the kernel's "eth%d" templates)
 *   * ? [ ] !    (glob patterns and negations in systemd's Name=)
 *   " ' \ $      (quoting and substitutions in udev rules and shells)
 *
 * not all digits (systemd takes those for interface indexes), and not
 * ".", "..", "all" or "default" (the kernel's
 * /proc/sys/net/ipv4/conf/all and default).
 *
 *   net_name_is_valid ("enp3s0")  -> true
 *   net_name_is_valid ("eth0:1")  -> false
 *   net_name_is_valid ("en*")     -> false
 */
bool net_name_is_valid (const char *name);

/* Normalise the MAC IN to lower case and colons in OUT.  IN is six octets
 * of two hexadecimal digits, in either case, separated by ':' or by '-'
 * (the same throughout), or three groups of four digits separated by '.'
 * (systemd's third form).  The address must be one a NIC can have: not
 * all zero and not multicast (the lowest bit of the first octet clear),
 * as the kernel requires (is_valid_ether_addr).  Returns 0, or -1 with
 * an error recorded and OUT undefined.
 *
 *   "52-54-00-AB-CD-EF"  -> "52:54:00:ab:cd:ef"
 *   "5254.00ab.cdef"     -> "52:54:00:ab:cd:ef"
 *   "ff:ff:ff:ff:ff:ff"  -> -1 (broadcast)
 */
int net_mac_normalize (const char *in, char out[NET_MAC_SIZE]);

/* A new MAC for a NIC that has none (p2v-fixup --new-macs), in OUT,
 * normalised: a locally administered unicast address (the lowest two
 * bits of the first octet 1 0), in the quadrant that IEEE 802c (SLAP)
 * leaves to administrators (the low four bits of the first octet 0010,
 * as QEMU's 52:54:00), the other 44 bits from getrandom(2).  44 random
 * bits make a collision unlikely even among many machines on one LAN
 * (about one in 35 million among 1000 such MACs); a fixed prefix of our
 * own would cost bits and mean something only to those who know it, so
 * there is none: the fixup report says which MACs are new.  The caller
 * checks the MAC against those it knows and draws again if it must.
 * Blocks only until the kernel's random pool is ready (at boot).
 * Returns 0, or -1 with an error recorded.
 *
 *   net_mac_random (out) -> 0, out "b6:0e:41:9c:27:d3" (for example)
 */
int net_mac_random (char out[NET_MAC_SIZE]);

/* ---------------------------------------------------------------------
 * Which NICs a configuration file names.
 */

/* A NIC named by a configuration, with the MAC it gives, if any. */
struct net_ref {
  char *name; /* valid (net_name_is_valid) */
  char *mac;  /* normalised (net_mac_normalize), or NULL */
};

/* A list of names, each once, in the order first found.  Start from an
 * all-zero one ({ 0 }); net_refs_free() releases it.
 *
 * LOG, if the caller sets it, gets the scanners' warnings (an invalid
 * name or MAC skipped, a name given two MACs, a list full), with the
 * line of the input they are about.  The list does not own it.
 */
struct net_refs {
  struct net_ref *refs;
  size_t n;
  size_t alloc;
  struct rewrite_log *log; /* borrowed, may be NULL */
};

/* Add the NIC NAME with MAC (NULL if none) to REFS, for a caller that
 * knows of a NIC by other means (the inventory).  A name already in the
 * list gets the MAC if it had none.  Fails (-1, error recorded, REFS as
 * it was) for an invalid name or MAC, a name that has another MAC
 * already, or a list full (NET_REFS_MAX).
 *
 *   net_refs_add (&refs, "ens3", "52:54:00:12:34:56")
 */
int net_refs_add (struct net_refs *refs, const char *name, const char *mac);

/* The entry of REFS named NAME, or NULL.  Linear in the size of the
 * list.
 */
const struct net_ref *net_refs_find (const struct net_refs *refs,
                                     const char *name);

/* Release what REFS holds (not its log) and zero it. */
void net_refs_free (struct net_refs *refs);

/* Every scanner has this contract:
 *
 *   int net_scan_X (const char *in, size_t len, struct net_refs *refs);
 *
 * It reads IN (LEN bytes, not necessarily NUL-terminated) and adds to
 * REFS every interface name it names, with the MAC it gives that
 * interface, if any.  A name already in the list is merged: a MAC fills
 * in one that was missing; a different MAC is a warning, and the first
 * stays.  Names that are not valid (net_name_is_valid) and MACs that are
 * not (net_mac_normalize) are skipped with a warning; "lo", and the glob
 * patterns and negations of systemd's Name=, are skipped silently.  The
 * names of virtual interfaces (bond0, br0, eth0.100) are names too: the
 * caller knows which of them are real NICs.
 *
 * Returns the number of names added to the list (0 if they were all in
 * it already).  On failure (a NUL byte, too large, out of memory) it
 * returns -1 with an error recorded, and REFS and its log are as they
 * were.
 */
typedef int net_scan_fn (const char *in, size_t len, struct net_refs *refs);

/* ifupdown's /etc/network/interfaces and /etc/network/interfaces.d/ files.
 * Names come from "iface NAME ...", "auto NAME..." and every
 * "allow-CLASS NAME..." (allow-hotplug, allow-auto...); the MAC from
 * "hwaddress [ether] MAC" inside an iface stanza.  An alias (eth0:1)
 * names its interface (eth0).  "source" and "source-directory" lines are
 * not followed: the caller reads those files itself.  As ifupdown does,
 * a line ending with a backslash goes on on the next, and a line whose
 * first non-blank character is '#' is a comment.
 *
 *   auto lo ens3
 *   iface ens3 inet static
 *       hwaddress ether 52:54:00:12:34:56
 *   -> ens3 (52:54:00:12:34:56)
 *
 * XXX The logical names of "mapping" stanzas ("iface home inet dhcp")
 * look like interface names.  A word broken over two lines by a
 * backslash is taken as two.
 */
int net_scan_ifupdown (const char *in, size_t len, struct net_refs *refs);

/* systemd-networkd's .network files and systemd-udevd's .link files
 * (systemd.syntax: sections, Key=Value, comments starting with '#' or
 * ';', a backslash at the end of a line to go on).  Names come from the
 * whitespace-separated list of [Match] Name= (globs and lists starting
 * with '!' are skipped) and from a .link's [Link] Name=; MACs from the
 * lists of [Match] MACAddress= and PermanentMACAddress=.  An empty
 * assignment resets its list, as in systemd.  The MAC goes with the name
 * only when the file gives exactly one of each (a .link's [Link] Name=
 * counting before [Match] Name=): a file that matches several names or
 * MACs does not say which is which.
 *
 *   [Match]
 *   MACAddress=52:54:00:12:34:56
 *   [Link]
 *   Name=lan0
 *   -> lan0 (52:54:00:12:34:56)
 */
int net_scan_networkd (const char *in, size_t len, struct net_refs *refs);

/* NetworkManager's keyfiles (/etc/NetworkManager/system-connections/):
 * [connection] interface-name= and [ethernet] (or [802-3-ethernet])
 * mac-address=, as text or in the old form of decimal bytes
 * ("82;84;0;18;52;86;").  Comments start with '#'.
 *
 * XXX The [match] section of NetworkManager 1.14 and later is not read.
 */
int net_scan_nm_keyfile (const char *in, size_t len, struct net_refs *refs);

/* Red Hat's ifcfg files (/etc/sysconfig/network-scripts/ifcfg-*): the
 * shell variables DEVICE= and HWADDR=, their values quoted ("..." or
 * '...') or not.  An alias (DEVICE=eth0:1) names its interface.
 *
 * XXX A file without DEVICE= names the interface in its file name
 * (ifcfg-eth0); the caller knows it, this function does not.
 */
int net_scan_ifcfg (const char *in, size_t len, struct net_refs *refs);

/* netplan's YAML (the .yaml files of /etc/netplan), read line by line by
 * indentation: the devices under network: ethernets:.  A device's ID is
 * its interface name unless it has a match: (then the ID is only a
 * label); set-name: gives the name it gets, match: name: the name it has
 * (if not a glob); match: macaddress: its MAC.  Comments, quoted keys and
 * values, and block scalars (| and >) are understood.
 *
 *   network:
 *     ethernets:
 *       lan:
 *         match:
 *           macaddress: "52:54:00:12:34:56"
 *         set-name: lan0
 *   -> lan0 (52:54:00:12:34:56)
 *
 * XXX Not understood: flow style ({ } and [ ] collections), anchors and
 * aliases, several documents in one file, tabs in indentation (netplan
 * refuses them), bonds:, bridges:, vlans: and wifis: (their interfaces
 * are named under ethernets: too, usually), and the device's own
 * macaddress: (the MAC it is given, not the one it has).
 */
int net_scan_netplan (const char *in, size_t len, struct net_refs *refs);

/* udev rules files (the .rules files of /etc/udev/rules.d), such as the one
 * net_udev_rules writes, or the 70-persistent-net.rules of older
 * distributions: a rule is a line of comma-separated KEY OP "VALUE"
 * pairs (KEY may have an {ATTRIBUTE}); '#' starts a comment line, and
 * a backslash at the end of a line goes on on the next.  A rule that
 * assigns NAME (NAME="..." or NAME:="...") names that interface; its
 * MAC is the value of its ATTR{address}=="..." match, if any.  A rule
 * that the function does not understand (a value without its quotes,
 * an unknown operator) is skipped with a warning.
 *
 *   SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*",
 *   ATTR{address}=="52:54:00:12:34:56", ATTR{type}=="1", NAME="ens3"
 *   -> ens3 (52:54:00:12:34:56)
 *
 * XXX udev's e"..." strings (with escapes) and substitutions in NAME
 * (%k, $env{...}) are not understood; the latter are not valid names,
 * and are skipped with a warning.  A MAC with glob characters is not one
 * (a warning, the name kept without it).
 */
int net_scan_udev_rules (const char *in, size_t len, struct net_refs *refs);

/* ---------------------------------------------------------------------
 * Static addresses to DHCP (p2v-fixup --network dhcp).
 *
 * Each rewriter has the contract of rewrite.h's (without a device map):
 *
 *   int net_dhcp_X (const char *in, size_t len, char **out, size_t *out_len,
 *                   struct rewrite_log *log);
 *
 * On success *OUT is the new contents (NUL-terminated, caller frees),
 * *OUT_LEN their length, each line changed or added is in LOG (if not
 * NULL) and the return value is their number: 0 means *OUT is the same as
 * IN.  On failure: -1, error recorded, *OUT, *OUT_LEN and LOG untouched.
 *
 * A line taken out is commented out: NET_COMMENT in front of it, the
 * line itself kept, so that removing the prefix puts it back.  A line
 * that goes on over several lines (with a backslash) is commented out on
 * each of them.  Every other byte stays as it was: comments, blank lines,
 * order, whitespace, line ends (LF or CRLF).  A line added (only where the
 * file has nowhere to say "DHCP", see below) ends as the line it follows
 * does (or the line before that, if that one is the last and has no line
 * end), and is logged as a change whose old text is empty and whose line
 * is the number of the input line it follows.
 *
 * DNS servers and search domains stay: a DHCP server that gives none
 * would leave the guest without any.  A second pass over the output
 * changes nothing.
 */
typedef int net_rewrite_fn (const char *in, size_t len, char **out,
                            size_t *out_len, struct rewrite_log *log);

/* ifupdown: "iface NAME inet static" becomes "iface NAME inet dhcp", and
 * so does "inet6 static" (DHCPv6, with the router advertisements the
 * kernel takes anyway); in those stanzas, the address, netmask,
 * broadcast, network, gateway and pointopoint options are commented out.
 * Not changed: lo, other methods (manual, loopback, dhcp...), and
 * aliases (iface eth0:1 inet static: a second static address, which DHCP
 * cannot give), which get a warning.
 *
 *   iface ens3 inet static          iface ens3 inet dhcp
 *       address 192.0.2.10/24   ->  # p2vkit:     address 192.0.2.10/24
 *       gateway 192.0.2.1           # p2vkit:     gateway 192.0.2.1
 *       dns-nameservers 192.0.2.53      dns-nameservers 192.0.2.53
 *
 * XXX Two stanzas for the same interface and family (a second address)
 * both become DHCP.  ifupdown2's stanzas without a method are left.
 */
int net_dhcp_ifupdown (const char *in, size_t len, char **out, size_t *out_len,
                       struct rewrite_log *log);

/* systemd-networkd's .network files, if they have a static address (an
 * Address= in [Network] or an [Address] section): in [Network], Address=
 * and Gateway= are commented out, and DHCP= is set to yes (a value that
 * is not true already, such as no or ipv6, is replaced; without a DHCP=,
 * "DHCP=yes" is added after the first [Network] line, or "[Network]" and
 * "DHCP=yes" at the end if there is none); [Address] sections and the
 * [Route] sections that name a Gateway= address (a next hop of the old
 * network) are commented out whole.  Files without a static address
 * change nothing.
 *
 *   [Network]                    [Network]
 *   Address=192.0.2.10/24   ->   DHCP=yes
 *   Gateway=192.0.2.1            # p2vkit: Address=192.0.2.10/24
 *                                # p2vkit: Gateway=192.0.2.1
 */
int net_dhcp_networkd (const char *in, size_t len, char **out, size_t *out_len,
                       struct rewrite_log *log);

/* NetworkManager keyfiles: in [ipv4] and in [ipv6], when the method is
 * manual, "method=manual" becomes "method=auto" and the address1=,
 * address=, addresses= (and numbered) and gateway= keys are commented
 * out.  Static routes stay.
 *
 *   [ipv4]                                [ipv4]
 *   address1=192.0.2.10/24,192.0.2.1  ->  # p2vkit: address1=192.0.2.10/24,...
 *   method=manual                         method=auto
 */
int net_dhcp_nm_keyfile (const char *in, size_t len, char **out,
                         size_t *out_len, struct rewrite_log *log);

/* Red Hat's ifcfg files with an IPADDR (or IPADDR0, IPADDR1...):
 * BOOTPROTO=static, none or empty becomes BOOTPROTO=dhcp (inside its
 * quotes, if any; added at the end if there is no BOOTPROTO), and
 * IPADDR*, NETMASK*, PREFIX* and GATEWAY* are commented out.  With an
 * IPV6ADDR: IPV6ADDR, IPV6ADDR_SECONDARIES and IPV6_DEFAULTGW are
 * commented out and IPV6_AUTOCONF=no becomes yes.  Aliases
 * (DEVICE=eth0:1) are left with a warning; files without an address
 * (bond slaves, BOOTPROTO=none for a bridge port) change nothing.
 *
 *   BOOTPROTO=none              BOOTPROTO=dhcp
 *   IPADDR=192.0.2.10      ->   # p2vkit: IPADDR=192.0.2.10
 *   PREFIX=24                   # p2vkit: PREFIX=24
 */
int net_dhcp_ifcfg (const char *in, size_t len, char **out, size_t *out_len,
                    struct rewrite_log *log);

/* XXX netplan files are not switched to DHCP. */

/* ---------------------------------------------------------------------
 * Pinning names to MACs.
 */

/* The text of a systemd .link file that gives the Ethernet NIC with MAC
 * the name NAME (caller frees *OUT).  Type=ether keeps it from matching
 * the VLANs, bonds and bridges that take the NIC's MAC (systemd 252's
 * systemd.link documents Type= in [Match]; they have their own DEVTYPE).
 * Wireless NICs (Type wlan) are not matched.  Refuses (-1) an invalid
 * name or MAC.
 *
 * Only the first .link file (in name order) that matches a NIC applies:
 * install it in /etc/systemd/network with a name that sorts before the
 * others, 10-p2vkit-NAME.link.  Some initramfs tools copy .link files:
 * rebuild the initramfs after.
 *
 *   net_link_file ("ens3", "52:54:00:12:34:56", &out) ->
 *
 *   # Written by p2v-fixup: this NIC keeps the name it had on the source
 *   machine.
 *   [Match]
 *   MACAddress=52:54:00:12:34:56
 *   Type=ether
 *
 *   [Link]
 *   Name=ens3
 *
 * (The comment is one line.)  A name that the kernel gives too (eth0)
 * races with the kernel's own naming: systemd.link warns about it.
 */
int net_link_file (const char *name, const char *mac, char **out);

/* The text of a udev rules file (for guests whose udev is not
 * systemd-udevd's, or too old for .link files) that gives each of the N
 * NICs of REFS its name (caller frees *OUT): a comment, then one line per
 * NIC, in order.  DRIVERS=="?*" and ATTR{type}=="1" keep the rule to
 * real Ethernet NICs (a VLAN or a bond has the same MAC, no driver).
 * Refuses (-1) an invalid name or MAC, an entry without a MAC, two
 * entries with the same name or MAC, and more than NET_REFS_MAX entries.
 *
 *   # Written by p2v-fixup: these NICs keep the names they had on the
 *   source machine.
 *   SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*",
 *   ATTR{address}=="52:54:00:12:34:56", ATTR{type}=="1", NAME="ens3"
 *
 * (The comment is one line, and so is each rule.)  Install it as
 * /etc/udev/rules.d/70-p2vkit-net.rules.
 */
int net_udev_rules (const struct net_ref *refs, size_t n, char **out);

/* ---------------------------------------------------------------------
 * Xorg.
 */

/* /etc/X11/xorg.conf and the .conf files of /etc/X11/xorg.conf.d, with
 * the rewriter contract above: in each Section "Device", a Driver line
 * whose driver is not one that works on any hardware (modesetting,
 * fbdev, vesa) is commented out, and so is a BusID line (the PCI slot of the
 * old card). Xorg then picks the driver itself.  Keywords and the section name
 * are compared as Xorg does (case and '_' do not matter); the driver name
 * without case.  '#' starts a comment anywhere outside quotes.
 *
 *   Section "Device"               Section "Device"
 *       Identifier "Card0"    ->       Identifier "Card0"
 *       Driver     "nvidia"        # p2vkit:     Driver     "nvidia"
 *       BusID      "PCI:1:0:0"     # p2vkit:     BusID      "PCI:1:0:0"
 *   EndSection                     EndSection
 *
 * XXX Xorg's syntax is free-form; a Driver or BusID that shares its line
 * with other entries, or whose value is on the next line, is left with a
 * warning.  The Section keyword and its name must be on one line.
 */
int xorg_remove_drivers (const char *in, size_t len, char **out,
                         size_t *out_len, struct rewrite_log *log);

#endif /* P2V_NET_H */
