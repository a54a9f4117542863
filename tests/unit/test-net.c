/* Unit tests of the fixup's network and Xorg rules (fixup/net.h): names,
 * MACs and new random ones, the scanners of every format, the DHCP
 * rewriters and the Xorg rewriter (table-driven, exact output and log),
 * the .link file and udev rules and reading them back, then limits and
 * refused inputs.  Run by tests/t-fixup-net.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "error.h"
#include "net.h"

/* ---------------------------------------------------------------------
 * Names and MACs.
 */

static void
test_names (void)
{
  static const char *const valid[] = {
    "eth0",
    "ens3",
    "enp3s0",
    "enp0s31f6",
    "wlp2s0",
    "br0",
    "bond0",
    "eth0.100",
    "lan-0",
    "x",
    "a_b",
    "0eth",
    "123456789abcdef",
    "eth#1",
    "lo",
    "veth@if3",
    "ENP3S0",
    "e~",
  };
  static const char *const invalid[] = {
    "",
    "1234567890abcdef", /* 16 bytes */
    "eth0:1",
    "eth/0",
    "eth 0",
    "eth\t0",
    "eth0\n",
    "\x7f",
    "eth\xc3\xa9",
    "en*",
    "en?",
    "en[0-9]",
    "!eth0",
    "eth%d",
    "eth\"0",
    "eth'0",
    "eth\\0",
    "eth$0",
    ".",
    "..",
    "all",
    "default",
    "42",
  };
  size_t i;

  for (i = 0; i < sizeof valid / sizeof valid[0]; i++)
    if (!net_name_is_valid (valid[i]))
      check_fail ("'%s' should be a valid name", valid[i]);
  for (i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
    if (net_name_is_valid (invalid[i]))
      check_fail ("'%s' should not be a valid name", invalid[i]);
  CHECK (!net_name_is_valid (NULL));
  CHECK (net_name_is_valid ("..."));
  CHECK (net_name_is_valid ("alla"));
}

static void
test_macs (void)
{
  static const struct {
    const char *in;
    const char *out; /* NULL: refused */
  } cases[] = {
    { "52:54:00:12:34:56", "52:54:00:12:34:56" },
    { "52:54:00:AB:cd:Ef", "52:54:00:ab:cd:ef" },
    { "52-54-00-AB-CD-EF", "52:54:00:ab:cd:ef" },
    { "5254.00ab.cdef", "52:54:00:ab:cd:ef" },
    { "02:00:00:00:00:00", "02:00:00:00:00:00" },
    { "fe:ff:ff:ff:ff:ff", "fe:ff:ff:ff:ff:ff" },
    { "52:54:00-12:34:56", NULL },
    { "52-54-00:12-34-56", NULL },
    { "52:54:00:12:34", NULL },
    { "52:54:00:12:34:56:", NULL },
    { "52:54:00:12:34:5g", NULL },
    { "52:54:0:12:34:56", NULL },
    { "525400123456", NULL },
    { "5254.00ab-cdef", NULL },
    { " 52:54:00:12:34:56", NULL },
    { "52:54:00:12:34:56 ", NULL },
    { "00:00:00:00:00:00", NULL },
    { "ff:ff:ff:ff:ff:ff", NULL },
    { "01:00:5e:00:00:01", NULL },
    { "33:33:00:00:00:01", NULL },
    { "", NULL },
    { "random", NULL },
  };
  char out[NET_MAC_SIZE];
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int r = net_mac_normalize (cases[i].in, out);

    if (cases[i].out == NULL && r != -1)
      check_fail ("MAC '%s' should be refused", cases[i].in);
    else if (cases[i].out != NULL
             && (r != 0 || strcmp (out, cases[i].out) != 0))
      check_fail ("MAC '%s': got %d '%s', wanted '%s'", cases[i].in, r,
                  r == 0 ? out : "", cases[i].out);
  }
  CHECK (net_mac_normalize ("ff:ff:ff:ff:ff:ff", out) == -1
         && strcmp (error_message (), "'ff:ff:ff:ff:ff:ff': not a MAC address")
           == 0);
  CHECK (net_mac_normalize ("a'b\n", out) == -1
         && strcmp (error_message (), "'a\\x27b\\x0a': not a MAC address")
           == 0);
  CHECK (net_mac_normalize (NULL, out) == -1);
}

/* ---------------------------------------------------------------------
 * Logs as text.
 */

/* The log as text, one entry a line: "change LINE" ("add LINE: TEXT" for
 * a line added), "warning LINE: MESSAGE".  Caller frees.
 */
static char *
log_summary (const struct rewrite_log *log)
{
  char *buf = NULL;
  size_t size = 0, i;
  FILE *fp = open_memstream (&buf, &size);

  for (i = 0; i < log->n; i++) {
    const struct rewrite_log_entry *e = &log->entries[i];

    if (i > 0)
      fputc ('\n', fp);
    if (e->kind == REWRITE_WARNING)
      fprintf (fp, "warning %zu: %s", e->line, e->message);
    else if (e->old_text[0] == '\0')
      fprintf (fp, "add %zu: %s", e->line, e->new_text);
    else
      fprintf (fp, "change %zu", e->line);
  }
  fclose (fp);
  return buf;
}

/* The list as text: "name=mac name ...".  Caller frees. */
static char *
refs_summary (const struct net_refs *refs)
{
  char *buf = NULL;
  size_t size = 0, i;
  FILE *fp = open_memstream (&buf, &size);

  for (i = 0; i < refs->n; i++)
    fprintf (fp, "%s%s%s%s", i ? " " : "", refs->refs[i].name,
             refs->refs[i].mac ? "=" : "",
             refs->refs[i].mac ? refs->refs[i].mac : "");
  fclose (fp);
  return buf;
}

/* The line of TEXT that starts at *P (to its "\n" included), or NULL at
 * the end; *P moves past it.  *LEN is its length with the line end, and
 * *CLEN without.
 */
static const char *
take_line (const char *text, size_t text_len, size_t *p, size_t *len,
           size_t *clen)
{
  const char *s = text + *p, *nl;

  if (*p >= text_len)
    return NULL;
  nl = memchr (s, '\n', text_len - *p);
  *len = nl ? (size_t) (nl + 1 - s) : text_len - *p;
  *clen = nl ? (size_t) (nl - s) : *len;
  if (*clen > 0 && s[*clen - 1] == '\r')
    (*clen)--;
  *p += *len;
  return s;
}

/* What every rewriter's result must keep to: replaying the log on the
 * input gives the output, line by line.  A changed line shows its text
 * before and after, and keeps its line end; an added line (old text
 * empty) comes after the line it names; every other line is the same,
 * line end included.
 */
static void
check_replay (const char *name, const char *in, size_t in_len, const char *out,
              size_t out_len, const struct rewrite_log *log)
{
  size_t ip = 0, op = 0, line = 0, k = 0;
  size_t alen, aclen, blen, bclen;
  const char *a, *b;

  for (;;) {
    /* The entries about line LINE (0 before the first). */
    for (; k < log->n && log->entries[k].line <= line; k++) {
      const struct rewrite_log_entry *e = &log->entries[k];

      CHECK (e->file != NULL && strcmp (e->file, "test-file") == 0);
      if (e->line < line) {
        check_fail ("%s: log entry for line %zu out of order", name, e->line);
        continue;
      }
      if (e->kind != REWRITE_CHANGE || e->old_text[0] != '\0')
        continue;
      b = take_line (out, out_len, &op, &blen, &bclen);
      if (b == NULL || strlen (e->new_text) != bclen
          || memcmp (b, e->new_text, bclen) != 0)
        check_fail ("%s: line added after %zu: '%s' is not in the output", name,
                    line, e->new_text);
    }
    a = take_line (in, in_len, &ip, &alen, &aclen);
    if (a == NULL)
      break;
    line++;
    b = take_line (out, out_len, &op, &blen, &bclen);
    if (b == NULL) {
      check_fail ("%s: output ends before input line %zu", name, line);
      return;
    }
    /* A last line without a line end gets one if lines follow it: compare
     * the contents only.
     */
    if (ip == in_len && a[alen - 1] != '\n' && op < out_len) {
      alen = aclen;
      blen = bclen;
    }
    if (k < log->n && log->entries[k].line == line
        && log->entries[k].kind == REWRITE_CHANGE
        && log->entries[k].old_text[0] != '\0') {
      const struct rewrite_log_entry *e = &log->entries[k++];

      if (strlen (e->old_text) != aclen || memcmp (e->old_text, a, aclen) != 0
          || strlen (e->new_text) != bclen
          || memcmp (e->new_text, b, bclen) != 0 || alen - aclen != blen - bclen
          || memcmp (a + aclen, b + bclen, alen - aclen) != 0
          || strcmp (e->old_text, e->new_text) == 0)
        check_fail ("%s: line %zu: log '%s' -> '%s' is not the line", name,
                    line, e->old_text, e->new_text);
    }
    else if (alen != blen || memcmp (a, b, alen) != 0)
      check_fail ("%s: line %zu changed without a log entry", name, line);
  }
  /* Lines added after the last one. */
  for (; k < log->n; k++) {
    const struct rewrite_log_entry *e = &log->entries[k];

    if (e->kind != REWRITE_CHANGE || e->old_text[0] != '\0')
      continue;
    b = take_line (out, out_len, &op, &blen, &bclen);
    if (b == NULL || strlen (e->new_text) != bclen
        || memcmp (b, e->new_text, bclen) != 0)
      check_fail ("%s: line added at the end: '%s' is not in the output", name,
                  e->new_text);
  }
  if (op != out_len)
    check_fail ("%s: the output has more lines than the log says", name);
}

/* ---------------------------------------------------------------------
 * Rewriters: cases.
 */

struct rcase {
  const char *name;
  net_rewrite_fn *fn;
  const char *in;
  const char *out; /* NULL: the same as IN */
  const char *log;
};

static void
run_rewrite (const char *name, net_rewrite_fn *fn, const char *in,
             size_t in_len, const char *want, size_t want_len,
             const char *want_log)
{
  struct rewrite_log log = { 0 };
  char *out = NULL, *out2 = NULL, *summary;
  size_t out_len = 0, out2_len = 0, i;
  int r, changes = 0;

  CHECK (rewrite_log_set_file (&log, "test-file") == 0);
  r = fn (in, in_len, &out, &out_len, &log);
  if (r == -1) {
    check_fail ("%s: failed: %s", name, error_message ());
    rewrite_log_free (&log);
    return;
  }
  for (i = 0; i < log.n; i++)
    changes += log.entries[i].kind == REWRITE_CHANGE;
  if (r != changes)
    check_fail ("%s: returned %d, logged %d changes", name, r, changes);
  CHECK (out[out_len] == '\0');
  if (out_len != want_len || memcmp (out, want, want_len) != 0)
    check_fail ("%s: output differs\n--- wanted:\n%s\n--- got:\n%s", name, want,
                out);
  summary = log_summary (&log);
  if (strcmp (summary, want_log) != 0)
    check_fail ("%s: log differs\n--- wanted:\n%s\n--- got:\n%s", name,
                want_log, summary);
  check_replay (name, in, in_len, out, out_len, &log);

  /* A second pass changes nothing. */
  if (fn (out, out_len, &out2, &out2_len, NULL) != 0 || out2_len != out_len
      || memcmp (out, out2, out_len) != 0)
    check_fail ("%s: a second pass changed something", name);
  free (out2);
  free (summary);
  free (out);
  rewrite_log_free (&log);
}

#define DEBIAN_INTERFACES_HEAD                                                 \
  "# This file describes the network interfaces available on your system\n"    \
  "# and how to activate them. For more information, see interfaces(5).\n"     \
  "\n"                                                                         \
  "source /etc/network/interfaces.d/*\n"                                       \
  "\n"                                                                         \
  "# The loopback network interface\n"                                         \
  "auto lo\n"                                                                  \
  "iface lo inet loopback\n"                                                   \
  "\n"                                                                         \
  "# The primary network interface\n"                                          \
  "allow-hotplug ens3\n"

static const struct rcase rcases[] = {
  /* ifupdown */
  { "ifupdown debian", net_dhcp_ifupdown,
    DEBIAN_INTERFACES_HEAD
    "iface ens3 inet static\n"
    "\taddress 192.0.2.10/24\n"
    "\tgateway 192.0.2.1\n"
    "\t# dns-* options are implemented by the resolvconf package\n"
    "\tdns-nameservers 192.0.2.53\n"
    "\tdns-search example.org\n"
    "\n"
    "iface ens3 inet6 static\n"
    "\taddress 2001:db8::10/64\n"
    "\tgateway 2001:db8::1\n",
    DEBIAN_INTERFACES_HEAD
    "iface ens3 inet dhcp\n"
    "# p2vkit: \taddress 192.0.2.10/24\n"
    "# p2vkit: \tgateway 192.0.2.1\n"
    "\t# dns-* options are implemented by the resolvconf package\n"
    "\tdns-nameservers 192.0.2.53\n"
    "\tdns-search example.org\n"
    "\n"
    "iface ens3 inet6 dhcp\n"
    "# p2vkit: \taddress 2001:db8::10/64\n"
    "# p2vkit: \tgateway 2001:db8::1\n",
    "change 12\nchange 13\nchange 14\nchange 19\nchange 20\nchange 21" },
  { "ifupdown old style", net_dhcp_ifupdown,
    "auto eth0 eth1\n"
    "iface eth0 inet static\n"
    "    address 192.0.2.10\n"
    "    netmask 255.255.255.0\n"
    "    network 192.0.2.0\n"
    "    broadcast 192.0.2.255\n"
    "    gateway 192.0.2.1\n"
    "    hwaddress ether 52:54:00:12:34:56\n"
    "    mtu 9000\n"
    "    up ip route add 198.51.100.0/24 via 192.0.2.254\n"
    "iface eth1 inet static\n"
    "  address 203.0.113.1\n"
    "  pointopoint 203.0.113.2\n"
    "iface eth2 inet manual\n"
    "  address 192.0.2.99\n"
    "iface eth3 inet dhcp\n"
    "  hostname box\n",
    "auto eth0 eth1\n"
    "iface eth0 inet dhcp\n"
    "# p2vkit:     address 192.0.2.10\n"
    "# p2vkit:     netmask 255.255.255.0\n"
    "# p2vkit:     network 192.0.2.0\n"
    "# p2vkit:     broadcast 192.0.2.255\n"
    "# p2vkit:     gateway 192.0.2.1\n"
    "    hwaddress ether 52:54:00:12:34:56\n"
    "    mtu 9000\n"
    "    up ip route add 198.51.100.0/24 via 192.0.2.254\n"
    "iface eth1 inet dhcp\n"
    "# p2vkit:   address 203.0.113.1\n"
    "# p2vkit:   pointopoint 203.0.113.2\n"
    "iface eth2 inet manual\n"
    "  address 192.0.2.99\n"
    "iface eth3 inet dhcp\n"
    "  hostname box\n",
    "change 2\nchange 3\nchange 4\nchange 5\nchange 6\nchange 7\n"
    "change 11\nchange 12\nchange 13" },
  { "ifupdown odd", net_dhcp_ifupdown,
    "iface lo inet static\r\n"
    "  address 127.0.0.1\r\n"
    "iface\teth0\tinet\tstatic\r\n"
    "\taddress\t192.0.2.10/24 # not a comment to ifupdown\r\n"
    "  #address 192.0.2.11/24\r\n"
    "  gateway \\\r\n"
    "    192.0.2.1\r\n"
    "auto eth0\r\n"
    "  address 192.0.2.12/24\r\n"
    "iface eth0:1 inet static\r\n"
    "  address 192.0.2.13/24\r\n"
    "mapping eth*\r\n"
    "  script /usr/local/sbin/map-scheme\r\n"
    "iface eth4 inet \\\r\n"
    "  static\r\n"
    "  address 192.0.2.14/24\r\n"
    "iface eth5 inet static extra\r\n"
    "iface eth6 inet6 Static\r\n"
    "  addresses 192.0.2.16/24\r\n"
    "# iface eth7 inet static \\\r\n"
    "iface eth7 inet static\r\n"
    "  address 192.0.2.17",
    "iface lo inet static\r\n"
    "  address 127.0.0.1\r\n"
    "iface\teth0\tinet\tdhcp\r\n"
    "# p2vkit: \taddress\t192.0.2.10/24 # not a comment to ifupdown\r\n"
    "  #address 192.0.2.11/24\r\n"
    "# p2vkit:   gateway \\\r\n"
    "# p2vkit:     192.0.2.1\r\n"
    "auto eth0\r\n"
    "  address 192.0.2.12/24\r\n"
    "iface eth0:1 inet static\r\n"
    "  address 192.0.2.13/24\r\n"
    "mapping eth*\r\n"
    "  script /usr/local/sbin/map-scheme\r\n"
    "iface eth4 inet \\\r\n"
    "  dhcp\r\n"
    "# p2vkit:   address 192.0.2.14/24\r\n"
    "iface eth5 inet dhcp extra\r\n"
    "iface eth6 inet6 Static\r\n"
    "  addresses 192.0.2.16/24\r\n"
    "# iface eth7 inet static \\\r\n"
    "iface eth7 inet static\r\n"
    "  address 192.0.2.17",
    "change 3\nchange 4\nchange 6\nchange 7\n"
    "warning 10: 'eth0:1' is an alias: its static address stays\n"
    "change 15\nchange 16\nchange 17" },
  { "ifupdown dhcp already", net_dhcp_ifupdown,
    "auto lo eth0\niface lo inet loopback\niface eth0 inet dhcp\n", NULL, "" },
  { "ifupdown empty", net_dhcp_ifupdown, "", NULL, "" },

  /* systemd-networkd */
  { "networkd static", net_dhcp_networkd,
    "[Match]\n"
    "Name=enp3s0\n"
    "\n"
    "[Network]\n"
    "Address=192.0.2.10/24\n"
    "Gateway=192.0.2.1\n"
    "DNS=192.0.2.53\n"
    "Domains=example.org\n",
    "[Match]\n"
    "Name=enp3s0\n"
    "\n"
    "[Network]\n"
    "DHCP=yes\n"
    "# p2vkit: Address=192.0.2.10/24\n"
    "# p2vkit: Gateway=192.0.2.1\n"
    "DNS=192.0.2.53\n"
    "Domains=example.org\n",
    "add 4: DHCP=yes\nchange 5\nchange 6" },
  { "networkd sections", net_dhcp_networkd,
    "# static config\r\n"
    "[Match]\r\n"
    "Name=eth0 eth1\r\n"
    "[Network]\r\n"
    "DHCP=no\r\n"
    "LinkLocalAddressing = no\r\n"
    "  Address = 192.0.2.10/24\r\n"
    "; Address=192.0.2.11/24\r\n"
    "DNS=192.0.2.53\r\n"
    "[Address]\r\n"
    "Address=192.0.2.12/24\r\n"
    "# a comment\r\n"
    "\r\n"
    "Label=eth0:1\r\n"
    "[Route]\r\n"
    "Gateway=192.0.2.1\r\n"
    "Destination=198.51.100.0/24\r\n"
    "[Route]\r\n"
    "Gateway=_dhcp4\r\n"
    "Metric=10\r\n"
    "[Route]\r\n"
    "Destination=203.0.113.0/24\r\n"
    "Type=blackhole\r\n"
    "[Network]\r\n"
    "DHCP=ipv6\r\n"
    "Gateway=\\\r\n"
    "# inside\r\n"
    " 192.0.2.1\r\n",
    "# static config\r\n"
    "[Match]\r\n"
    "Name=eth0 eth1\r\n"
    "[Network]\r\n"
    "DHCP=yes\r\n"
    "LinkLocalAddressing = no\r\n"
    "# p2vkit:   Address = 192.0.2.10/24\r\n"
    "; Address=192.0.2.11/24\r\n"
    "DNS=192.0.2.53\r\n"
    "# p2vkit: [Address]\r\n"
    "# p2vkit: Address=192.0.2.12/24\r\n"
    "# a comment\r\n"
    "\r\n"
    "# p2vkit: Label=eth0:1\r\n"
    "# p2vkit: [Route]\r\n"
    "# p2vkit: Gateway=192.0.2.1\r\n"
    "# p2vkit: Destination=198.51.100.0/24\r\n"
    "[Route]\r\n"
    "Gateway=_dhcp4\r\n"
    "Metric=10\r\n"
    "[Route]\r\n"
    "Destination=203.0.113.0/24\r\n"
    "Type=blackhole\r\n"
    "[Network]\r\n"
    "DHCP=yes\r\n"
    "# p2vkit: Gateway=\\\r\n"
    "# inside\r\n"
    "# p2vkit:  192.0.2.1\r\n",
    "change 5\nchange 7\nchange 10\nchange 11\nchange 14\nchange 15\n"
    "change 16\nchange 17\nchange 25\nchange 26\nchange 28" },
  { "networkd no Network section", net_dhcp_networkd,
    "[Match]\nName=eth0\n\n[Address]\nAddress=192.0.2.10/24",
    "[Match]\nName=eth0\n\n"
    "# p2vkit: [Address]\n"
    "# p2vkit: Address=192.0.2.10/24\n[Network]\nDHCP=yes",
    "change 4\nchange 5\nadd 5: [Network]\nadd 5: DHCP=yes" },
  { "networkd no Network section, crlf", net_dhcp_networkd,
    "[Address]\r\nAddress=192.0.2.10/24\r\n",
    "# p2vkit: [Address]\r\n"
    "# p2vkit: Address=192.0.2.10/24\r\n[Network]\r\nDHCP=yes\r\n",
    "change 1\nchange 2\nadd 2: [Network]\nadd 2: DHCP=yes" },
  { "networkd header last", net_dhcp_networkd,
    "[Address]\nAddress=192.0.2.10/24\n[Network]",
    "# p2vkit: [Address]\n"
    "# p2vkit: Address=192.0.2.10/24\n[Network]\nDHCP=yes",
    "change 1\nchange 2\nadd 3: DHCP=yes" },
  /* Found by fuzz-net: blank lines in a continuation, a header with
   * another line end than the file's.
   */
  { "networkd continued onto blank lines", net_dhcp_networkd,
    "[Network]\r\n"
    "DHCP=\\\n"
    "\r\n"
    "Address=192.0.2.10/24\r\n"
    "Gateway=192.0.2.1 \\\r\n"
    "; inside\r\n"
    "\r\n",
    "[Network]\r\n"
    "DHCP=yes\r\n"
    "# p2vkit: DHCP=\\\n"
    "\r\n"
    "# p2vkit: Address=192.0.2.10/24\r\n"
    "# p2vkit: Gateway=192.0.2.1 \\\r\n"
    "; inside\r\n"
    "\r\n",
    "add 1: DHCP=yes\nchange 2\nchange 4\nchange 5" },
  { "networkd LF header in a CRLF file", net_dhcp_networkd,
    "[Address]\r\nAddress=192.0.2.10/24\r\n[Network]\nDNS=192.0.2.53\r\n",
    "# p2vkit: [Address]\r\n# p2vkit: Address=192.0.2.10/24\r\n[Network]\n"
    "DHCP=yes\nDNS=192.0.2.53\r\n",
    "change 1\nchange 2\nadd 3: DHCP=yes" },
  { "networkd DHCP on", net_dhcp_networkd,
    "[Network]\nDHCP=True\nAddress=192.0.2.10/24\nDHCP=\n[Network]\n",
    "[Network]\nDHCP=True\n"
    "# p2vkit: Address=192.0.2.10/24\nDHCP=yes\n[Network]\n",
    "change 3\nchange 4" },
  { "networkd dhcp already", net_dhcp_networkd,
    "[Match]\nName=en*\n[Network]\nDHCP=yes\nAddress=\n[Route]\n"
    "Gateway=192.0.2.1\n",
    NULL, "" },
  { "networkd link file", net_dhcp_networkd,
    "[Match]\nMACAddress=52:54:00:12:34:56\n[Link]\nName=lan0\n", NULL, "" },

  /* NetworkManager */
  { "nm keyfile", net_dhcp_nm_keyfile,
    "[connection]\n"
    "id=Wired connection 1\n"
    "uuid=0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d\n"
    "type=ethernet\n"
    "interface-name=enp3s0\n"
    "\n"
    "[ethernet]\n"
    "mac-address=52:54:00:12:34:56\n"
    "\n"
    "[ipv4]\n"
    "address1=192.0.2.10/24,192.0.2.1\n"
    "address2=192.0.2.11/24\n"
    "dns=192.0.2.53;\n"
    "method=manual\n"
    "route1=198.51.100.0/24,192.0.2.254\n"
    "\n"
    "[ipv6]\n"
    "addr-gen-mode=stable-privacy\n"
    "method=auto\n"
    "\n"
    "[proxy]\n",
    "[connection]\n"
    "id=Wired connection 1\n"
    "uuid=0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d\n"
    "type=ethernet\n"
    "interface-name=enp3s0\n"
    "\n"
    "[ethernet]\n"
    "mac-address=52:54:00:12:34:56\n"
    "\n"
    "[ipv4]\n"
    "# p2vkit: address1=192.0.2.10/24,192.0.2.1\n"
    "# p2vkit: address2=192.0.2.11/24\n"
    "dns=192.0.2.53;\n"
    "method=auto\n"
    "route1=198.51.100.0/24,192.0.2.254\n"
    "\n"
    "[ipv6]\n"
    "addr-gen-mode=stable-privacy\n"
    "method=auto\n"
    "\n"
    "[proxy]\n",
    "change 11\nchange 12\nchange 14" },
  { "nm keyfile both, old keys", net_dhcp_nm_keyfile,
    "[ipv4]\r\n"
    "method = manual \r\n"
    "addresses1=192.0.2.10;24;192.0.2.1;\r\n"
    "gateway=192.0.2.1\r\n"
    "  # address1=192.0.2.12/24\r\n"
    "addressx=1\r\n"
    "[ipv6]\r\n"
    "address=2001:db8::10/64\r\n"
    "method=manual\r\n"
    "[vpn]\r\n"
    "address1=x\r\n"
    "method=manual",
    "[ipv4]\r\n"
    "method = auto \r\n"
    "# p2vkit: addresses1=192.0.2.10;24;192.0.2.1;\r\n"
    "# p2vkit: gateway=192.0.2.1\r\n"
    "  # address1=192.0.2.12/24\r\n"
    "addressx=1\r\n"
    "[ipv6]\r\n"
    "# p2vkit: address=2001:db8::10/64\r\n"
    "method=auto\r\n"
    "[vpn]\r\n"
    "address1=x\r\n"
    "method=manual",
    "change 2\nchange 3\nchange 4\nchange 8\nchange 9" },
  { "nm keyfile overridden", net_dhcp_nm_keyfile,
    "[ipv4]\nmethod=manual\naddress1=192.0.2.10/24\n[ipv4]\nmethod=disabled\n",
    NULL, "" },

  /* ifcfg */
  { "ifcfg rhel", net_dhcp_ifcfg,
    "TYPE=Ethernet\n"
    "PROXY_METHOD=none\n"
    "BROWSER_ONLY=no\n"
    "BOOTPROTO=none\n"
    "DEFROUTE=yes\n"
    "IPV4_FAILURE_FATAL=no\n"
    "IPV6INIT=yes\n"
    "IPV6_AUTOCONF=no\n"
    "IPV6ADDR=2001:db8::10/64\n"
    "IPV6_DEFAULTGW=2001:db8::1\n"
    "NAME=ens3\n"
    "UUID=0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d\n"
    "DEVICE=ens3\n"
    "ONBOOT=yes\n"
    "IPADDR=192.0.2.10\n"
    "PREFIX=24\n"
    "GATEWAY=192.0.2.1\n"
    "DNS1=192.0.2.53\n",
    "TYPE=Ethernet\n"
    "PROXY_METHOD=none\n"
    "BROWSER_ONLY=no\n"
    "BOOTPROTO=dhcp\n"
    "DEFROUTE=yes\n"
    "IPV4_FAILURE_FATAL=no\n"
    "IPV6INIT=yes\n"
    "IPV6_AUTOCONF=yes\n"
    "# p2vkit: IPV6ADDR=2001:db8::10/64\n"
    "# p2vkit: IPV6_DEFAULTGW=2001:db8::1\n"
    "NAME=ens3\n"
    "UUID=0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d\n"
    "DEVICE=ens3\n"
    "ONBOOT=yes\n"
    "# p2vkit: IPADDR=192.0.2.10\n"
    "# p2vkit: PREFIX=24\n"
    "# p2vkit: GATEWAY=192.0.2.1\n"
    "DNS1=192.0.2.53\n",
    "change 4\nchange 8\nchange 9\nchange 10\nchange 15\nchange 16\n"
    "change 17" },
  { "ifcfg quoted, no BOOTPROTO", net_dhcp_ifcfg,
    "DEVICE=\"eth0\"\r\n"
    "# IPADDR=192.0.2.9\r\n"
    "IPADDR0='192.0.2.10'\r\n"
    "NETMASK0=\"255.255.255.0\"\r\n"
    "IPADDR_START=192.0.2.20\r\n"
    "GATEWAY=192.0.2.1 # the router\r\n"
    "HWADDR=52:54:00:12:34:56",
    "DEVICE=\"eth0\"\r\n"
    "# IPADDR=192.0.2.9\r\n"
    "# p2vkit: IPADDR0='192.0.2.10'\r\n"
    "# p2vkit: NETMASK0=\"255.255.255.0\"\r\n"
    "IPADDR_START=192.0.2.20\r\n"
    "# p2vkit: GATEWAY=192.0.2.1 # the router\r\n"
    "HWADDR=52:54:00:12:34:56\r\nBOOTPROTO=dhcp",
    "change 3\nchange 4\nchange 6\nadd 7: BOOTPROTO=dhcp" },
  { "ifcfg quoted static", net_dhcp_ifcfg,
    "BOOTPROTO=\"static\"\nIPADDR=192.0.2.10\nBOOTPROTO=\nPREFIX=24\n",
    "BOOTPROTO=\"dhcp\"\n"
    "# p2vkit: IPADDR=192.0.2.10\nBOOTPROTO=dhcp\n"
    "# p2vkit: PREFIX=24\n",
    "change 1\nchange 2\nchange 3\nchange 4" },
  { "ifcfg alias", net_dhcp_ifcfg,
    "DEVICE=eth0:1\nBOOTPROTO=static\nIPADDR=192.0.2.11\n", NULL,
    "warning 1: 'eth0:1' is an alias: its static address stays" },
  { "ifcfg bond slave", net_dhcp_ifcfg,
    "DEVICE=eth1\nBOOTPROTO=none\nMASTER=bond0\nSLAVE=yes\n", NULL, "" },
  { "ifcfg dhcp already", net_dhcp_ifcfg,
    "DEVICE=eth1\nBOOTPROTO=dhcp\nIPADDR=192.0.2.10\n", NULL, "" },

  /* Xorg */
  { "xorg nvidia", xorg_remove_drivers,
    "Section \"ServerLayout\"\n"
    "    Identifier     \"Layout0\"\n"
    "    Screen      0  \"Screen0\"\n"
    "EndSection\n"
    "\n"
    "Section \"Device\"\n"
    "    Identifier     \"Device0\"\n"
    "    Driver         \"nvidia\"\n"
    "    VendorName     \"NVIDIA Corporation\"\n"
    "    BoardName      \"Quadro P400\"\n"
    "    BusID          \"PCI:1:0:0\"\n"
    "EndSection\n"
    "\n"
    "Section \"Screen\"\n"
    "    Identifier     \"Screen0\"\n"
    "    Device         \"Device0\"\n"
    "    DefaultDepth    24\n"
    "    SubSection     \"Display\"\n"
    "        Depth       24\n"
    "    EndSubSection\n"
    "EndSection\n",
    "Section \"ServerLayout\"\n"
    "    Identifier     \"Layout0\"\n"
    "    Screen      0  \"Screen0\"\n"
    "EndSection\n"
    "\n"
    "Section \"Device\"\n"
    "    Identifier     \"Device0\"\n"
    "# p2vkit:     Driver         \"nvidia\"\n"
    "    VendorName     \"NVIDIA Corporation\"\n"
    "    BoardName      \"Quadro P400\"\n"
    "# p2vkit:     BusID          \"PCI:1:0:0\"\n"
    "EndSection\n"
    "\n"
    "Section \"Screen\"\n"
    "    Identifier     \"Screen0\"\n"
    "    Device         \"Device0\"\n"
    "    DefaultDepth    24\n"
    "    SubSection     \"Display\"\n"
    "        Depth       24\n"
    "    EndSubSection\n"
    "EndSection\n",
    "change 8\nchange 11" },
  { "xorg odd", xorg_remove_drivers,
    "# Driver \"nvidia\"\r\n"
    "section \"device\"\r\n"
    "\tdriver \"intel\" # the laptop's\r\n"
    "\tDRIVER \"Modesetting\"\r\n"
    "\tDriver \"fbdev\"\r\n"
    "\tDriver vesa\r\n"
    "\tBus_ID \"PCI:0:2:0\"\r\n"
    "\tOption \"Driver\" \"x\"\r\n"
    "\tDriver \"amdgpu\" Option \"TearFree\" \"true\"\r\n"
    "\tDriver\r\n"
    "\t\"radeon\"\r\n"
    "\tIdentifier \"Card #0\" Driver \"nouveau\"\r\n"
    "EndSection\r\n"
    "Section \"OutputClass\"\r\n"
    "\tMatchDriver \"nvidia-drm\"\r\n"
    "\tDriver \"nvidia\"\r\n"
    "End_Section\r\n"
    "Section \"Device\" Driver \"radeon\"\r\n"
    "EndSection Section \"Device\"\r\n"
    "  Driver \"qxl\"\r\n"
    "EndSection",
    "# Driver \"nvidia\"\r\n"
    "section \"device\"\r\n"
    "# p2vkit: \tdriver \"intel\" # the laptop's\r\n"
    "\tDRIVER \"Modesetting\"\r\n"
    "\tDriver \"fbdev\"\r\n"
    "\tDriver vesa\r\n"
    "# p2vkit: \tBus_ID \"PCI:0:2:0\"\r\n"
    "\tOption \"Driver\" \"x\"\r\n"
    "\tDriver \"amdgpu\" Option \"TearFree\" \"true\"\r\n"
    "\tDriver\r\n"
    "\t\"radeon\"\r\n"
    "\tIdentifier \"Card #0\" Driver \"nouveau\"\r\n"
    "EndSection\r\n"
    "Section \"OutputClass\"\r\n"
    "\tMatchDriver \"nvidia-drm\"\r\n"
    "\tDriver \"nvidia\"\r\n"
    "End_Section\r\n"
    "Section \"Device\" Driver \"radeon\"\r\n"
    "EndSection Section \"Device\"\r\n"
    "# p2vkit:   Driver \"qxl\"\r\n"
    "EndSection",
    "change 3\nchange 7\n"
    "warning 9: Driver 'amdgpu' shares its line: left as it is\n"
    "warning 10: Driver without its value on its line: left as it is\n"
    "warning 12: Driver 'nouveau' shares its line: left as it is\n"
    "warning 18: Driver 'radeon' shares its line: left as it is\n"
    "change 20" },
  { "xorg generic only", xorg_remove_drivers,
    "Section \"Device\"\n  Identifier \"c\"\n  Driver \"modesetting\"\n"
    "EndSection\nSection \"Module\"\n  Load \"glx\"\nEndSection\n"
    "Driver \"nvidia\"\n",
    NULL, "" },
};

/* ---------------------------------------------------------------------
 * Scanners: cases.
 */

struct scase {
  const char *name;
  net_scan_fn *fn;
  const char *in;
  const char *refs; /* refs_summary of the list after */
  int added;        /* what the scanner returns */
  const char *log;  /* log_summary */
};

static const struct scase scases[] = {
  /* ifupdown */
  { "scan ifupdown debian", net_scan_ifupdown,
    DEBIAN_INTERFACES_HEAD "iface ens3 inet dhcp\n", "ens3", 1, "" },
  { "scan ifupdown", net_scan_ifupdown,
    "auto lo eth0 eth1\n"
    "allow-hotplug\teth2  eth3\n"
    "allow-auto eth4\n"
    "allow-ovs br0\n"
    "iface eth0 inet static\n"
    "  hwaddress ether 52:54:00:AB:CD:01\n"
    "  address 192.0.2.10/24\n"
    "iface eth0:1 inet static\n"
    "  address 192.0.2.11/24\n"
    "iface eth1 inet dhcp\n"
    "  hwaddress 52-54-00-ab-cd-02\n"
    "# iface eth9 inet dhcp\n"
    "  # hwaddress 52:54:00:ab:cd:09\n"
    "iface eth5 inet manual \\\n"
    "  # continued\n"
    "mapping eth6\n"
    "  hwaddress 52:54:00:ab:cd:06\n"
    "iface bond0.100 inet6 auto\n"
    "no-scripts eth7\n"
    "source /etc/network/interfaces.d/*\n"
    "iface eth8\n",
    "eth0=52:54:00:ab:cd:01 eth1=52:54:00:ab:cd:02 eth2 eth3 eth4 br0 eth5 "
    "bond0.100 eth7 eth8",
    10, "" },
  { "scan ifupdown invalid", net_scan_ifupdown,
    "auto eth%d averyveryverylongname0 :1\r\n"
    "iface eth-\xc3\xa9 inet dhcp\r\n"
    "  hwaddress ether 52:54:00:00:00:01\r\n"
    "iface ens3 inet dhcp\r\n"
    "  hwaddress ether 01:00:5e:00:00:01\r\n"
    "  hwaddress random\r\n"
    "  hwaddress ether\r\n"
    "iface lo inet loopback\r\n"
    "  hwaddress ether 52:54:00:00:00:02\r\n"
    "iface ens4 inet dhcp\r\n"
    "  hwaddress ether 52:54:00:00:00:04\r\n"
    "iface ens4 inet6 auto\r\n"
    "  hwaddress ether 52:54:00:00:00:05\r\n",
    "ens3 ens4=52:54:00:00:00:04", 2,
    "warning 1: 'eth%d': not a valid interface name: skipped\n"
    "warning 1: 'averyveryverylongname0': not a valid interface name: "
    "skipped\n"
    "warning 1: ':1': not a valid interface name: skipped\n"
    "warning 2: 'eth-\\xc3\\xa9': not a valid interface name: skipped\n"
    "warning 5: ens3: '01:00:5e:00:00:01': not a MAC address: ignored\n"
    "warning 6: ens3: 'random': not a MAC address: ignored\n"
    "warning 13: ens4: MAC 52:54:00:00:00:04, and also 52:54:00:00:00:05: "
    "kept 52:54:00:00:00:04" },

  /* systemd-networkd */
  { "scan networkd", net_scan_networkd,
    "[Match]\nName=enp3s0\nMACAddress=52:54:00:AB:CD:01\n\n[Network]\n"
    "DHCP=yes\n",
    "enp3s0=52:54:00:ab:cd:01", 1, "" },
  { "scan networkd list", net_scan_networkd,
    "[Match]\n"
    "Name=eth0 eth1\n"
    "Name=en* wl?s0 eth[23]\n"
    "MACAddress=52:54:00:ab:cd:01\n",
    "eth0 eth1", 2, "" },
  { "scan networkd negated", net_scan_networkd,
    "[Match]\nName=!eth0 eth1\nMACAddress=52:54:00:ab:cd:01\n"
    "[Match]\nName=eth2\n",
    "eth2", 1, "" },
  { "scan networkd reset", net_scan_networkd,
    "[Match]\nName=en*\nName=eth0\nName=\nName=eth1\n"
    "MACAddress=52:54:00:ab:cd:01 52:54:00:ab:cd:02\n"
    "MACAddress=\n"
    "PermanentMACAddress=5254.00ab.cd03\n",
    "eth1=52:54:00:ab:cd:03", 1, "" },
  { "scan networkd two MACs", net_scan_networkd,
    "[Match]\r\nName = eth1\r\n"
    "MACAddress=52:54:00:ab:cd:01\r\n"
    "PermanentMACAddress=52:54:00:ab:cd:02\r\n",
    "eth1", 1, "" },
  { "scan networkd same MAC twice", net_scan_networkd,
    "[Match]\nName=eth1\nMACAddress=52:54:00:ab:cd:01 52-54-00-AB-CD-01\n"
    "PermanentMACAddress=52:54:00:ab:cd:01\n",
    "eth1=52:54:00:ab:cd:01", 1, "" },
  { "scan networkd link", net_scan_networkd,
    "# Written by p2v-fixup: this NIC keeps the name it had on the source "
    "machine.\n"
    "[Match]\n"
    "MACAddress=52:54:00:12:34:56\n"
    "Type=ether\n"
    "\n"
    "[Link]\n"
    "Name=ens3\n",
    "ens3=52:54:00:12:34:56", 1, "" },
  { "scan networkd link and match", net_scan_networkd,
    "[Match]\nOriginalName=eth*\nName=eth0\nMACAddress=52:54:00:12:34:56\n"
    "[Link]\nName=lan0\nMACAddress=52:54:00:99:99:99\n",
    "lan0=52:54:00:12:34:56 eth0", 2, "" },
  { "scan networkd odd", net_scan_networkd,
    "; comment\n"
    "[Match]\n"
    "Name=eth0 \\\n"
    "# comment inside\n"
    "  eth1\\\\\n"
    "Name=eth2\\\\\\\n"
    "eth3\n"
    "# Name=eth4\n"
    "MACAddress=52:54:00:ab:cd:01 nonsense\n"
    "[Network]\n"
    "Name=eth5\n"
    "[match]\n"
    "Name=eth6\n"
    "Name\n"
    "[Match\n"
    "Name=eth7\n",
    "eth0 eth3", 2,
    "warning 9: 'nonsense': not a MAC address: ignored\n"
    "warning 3: 'eth1\\x5c\\x5c': not a valid interface name: skipped\n"
    "warning 6: 'eth2\\x5c\\x5c': not a valid interface name: skipped" },

  /* NetworkManager */
  { "scan nm keyfile", net_scan_nm_keyfile,
    "[connection]\nid=Wired connection 1\ntype=ethernet\n"
    "interface-name=enp3s0\n\n[ethernet]\nmac-address=52:54:00:AB:CD:01\n"
    "\n[ipv4]\nmethod=auto\n",
    "enp3s0=52:54:00:ab:cd:01", 1, "" },
  { "scan nm keyfile old", net_scan_nm_keyfile,
    "[802-3-ethernet]\r\nmac-address=82;84;0;171;205;1;\r\n"
    "[connection]\r\ninterface-name = eth0 \r\n",
    "eth0=52:54:00:ab:cd:01", 1, "" },
  { "scan nm keyfile no name", net_scan_nm_keyfile,
    "[connection]\nid=x\n[ethernet]\nmac-address=52:54:00:AB:CD:01\n"
    "[wifi]\ninterface-name=wlan0\n",
    "", 0, "" },
  { "scan nm keyfile bad MAC", net_scan_nm_keyfile,
    "[connection]\ninterface-name=eth0\n[ethernet]\n"
    "mac-address=82;84;0;171;205;256;\n#mac-address=x\n",
    "eth0", 1,
    "warning 2: eth0: '82;84;0;171;205;256;': not a MAC address: "
    "ignored" },

  /* ifcfg */
  { "scan ifcfg", net_scan_ifcfg,
    "TYPE=Ethernet\nBOOTPROTO=dhcp\nNAME=\"System eth0\"\nDEVICE=eth0\n"
    "HWADDR=52:54:00:AB:CD:01\nONBOOT=yes\n",
    "eth0=52:54:00:ab:cd:01", 1, "" },
  { "scan ifcfg quoted alias", net_scan_ifcfg,
    "# DEVICE=eth9\r\nDEVICE=\"eth0:1\"\r\nHWADDR='52-54-00-ab-cd-01'\r\n",
    "eth0=52:54:00:ab:cd:01", 1, "" },
  { "scan ifcfg no device", net_scan_ifcfg,
    "HWADDR=52:54:00:ab:cd:01\nDEVICE=\"eth0\n", "", 0, "" },

  /* netplan */
  { "scan netplan", net_scan_netplan,
    "# This is the network config written by 'subiquity'\n"
    "network:\n"
    "  version: 2\n"
    "  renderer: networkd\n"
    "  ethernets:\n"
    "    enp3s0:\n"
    "      dhcp4: true\n"
    "    lan:\n"
    "      match:\n"
    "        macaddress: \"52:54:00:AB:CD:01\"\n"
    "      set-name: lan0\n"
    "      addresses:\n"
    "        - 192.0.2.10/24\n"
    "      routes:\n"
    "        - to: default\n"
    "          via: 192.0.2.1\n"
    "    'eth1':\n"
    "      match: \n"
    "        name: eth1 # kernel name\n"
    "        macaddress: 52:54:00:ab:cd:02\n"
    "    any:\n"
    "      match:\n"
    "        name: en*\n"
    "  bonds:\n"
    "    bond0:\n"
    "      interfaces: [enp3s0, lan0]\n",
    "enp3s0 lan0=52:54:00:ab:cd:01 eth1=52:54:00:ab:cd:02", 3, "" },
  { "scan netplan odd", net_scan_netplan,
    "---\n"
    "network:\n"
    "    ethernets:\n"
    "        eth0: {dhcp4: true}\n"
    "        \"eth2\" :\n"
    "            description: |\n"
    "              eth3:\n"
    "                set-name: nope\n"
    "\n"
    "            macaddress: 52:54:00:ab:cd:09\n"
    "        eth4:\n"
    "\t  dhcp4: true\n"
    "        eth5: # comment\n"
    "          match:\n"
    "            macaddress: '52:54:00:ab:cd:05'\n"
    "          set-name: \"\"\n"
    "        bad/name:\n"
    "  wifis:\n"
    "    wlan0:\n"
    "ethernets:\n"
    "  eth6:\n"
    "network:\n"
    "  ethernets:\n"
    "    - eth7\n"
    "    eth8:\n"
    "      set-name: eth8-renamed\n",
    "eth0 eth2 eth4 eth8-renamed", 4,
    "warning 17: 'bad/name': not a valid interface name: skipped" },

  /* udev rules */
  { "scan udev rules", net_scan_udev_rules,
    "# Written by p2v-fixup: these NICs keep the names they had on the "
    "source machine.\n"
    "SUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"?*\", "
    "ATTR{address}==\"52:54:00:12:34:56\", ATTR{type}==\"1\", NAME=\"ens3\"\n"
    "SUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"?*\", "
    "ATTR{address}==\"52:54:00:ab:cd:ef\", ATTR{type}==\"1\", NAME=\"lan0\"\n",
    "ens3=52:54:00:12:34:56 lan0=52:54:00:ab:cd:ef", 2, "" },
  { "scan udev persistent", net_scan_udev_rules,
    "# This file was automatically generated by the /lib/udev/write_net_rules\n"
    "# program, run by the persistent-net-generator.rules rules file.\n"
    "\n"
    "# PCI device 0x8086:0x100e (e1000)\n"
    "SUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"?*\", "
    "ATTR{address}==\"52:54:00:AB:CD:01\", ATTR{dev_id}==\"0x0\", "
    "ATTR{type}==\"1\", KERNEL==\"eth*\", NAME=\"eth0\"\r\n"
    "\n"
    "# PCI device 0x10ec:0x8139 (8139too)\n"
    "SUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"?*\", "
    "ATTR{address}==\"52:54:00:ab:cd:02\", ATTR{dev_id}==\"0x0\", "
    "ATTR{type}==\"1\", KERNEL==\"eth*\", NAME=\"eth1\"",
    "eth0=52:54:00:ab:cd:01 eth1=52:54:00:ab:cd:02", 2, "" },
  { "scan udev odd", net_scan_udev_rules,
    "SUBSYSTEM==\"net\", ATTR{address}==\"52:54:00:ab:cd:01\", \\\n"
    "  NAME:=\"lan0\"\n"
    "ATTR{address}!=\"52:54:00:ab:cd:02\", NAME=\"lan1\"\n"
    "ATTR{address}==\"52:54:00:ab:cd:*\", NAME=\"lan2\"\n"
    "KERNEL==\"eth*\", NAME=\"%k\"\n"
    "ATTR{address} == \"52:54:00:ab:cd:06\" NAME = \"lan6\"\n"
    "ATTR{address}==\"52:54:00:ab:cd:07\", NAME=lan7\n"
    "  # NAME=\"lan8\"\n"
    "NAME=\"lo\"\n"
    "ATTR{address}==\"52:54:00:ab:cd:0a\", NAME+=\"lan10\"\n"
    "ACTION==\"add\", NAME=\"lan11\", NAME=\"lan12\"\n"
    "ATTRS{address}==\"52:54:00:ab:cd:0c\", NAME=\"lan13\"\n"
    "NAME=\"lan14\n"
    "ATTR{address==\"52:54:00:ab:cd:0e\", NAME=\"lan15\"\n",
    "lan0=52:54:00:ab:cd:01 lan1 lan2 lan6=52:54:00:ab:cd:06 lan12 lan13", 6,
    "warning 4: lan2: '52:54:00:ab:cd:*': not a MAC address: ignored\n"
    "warning 5: '%k': not a valid interface name: skipped\n"
    "warning 7: udev rule not understood at 'NAME=lan7': skipped\n"
    "warning 13: udev rule not understood at 'NAME=\"lan14': skipped\n"
    "warning 14: udev rule not understood at "
    "'ATTR{address==\"52:54:00:ab:cd:0e\", NAME=\"lan15\"': skipped" },
};

static void
run_scan (const struct scase *c)
{
  struct rewrite_log log = { 0 };
  struct net_refs refs = { .log = &log };
  char *summary, *lsummary;
  int r;

  CHECK (rewrite_log_set_file (&log, "test-file") == 0);
  r = c->fn (c->in, strlen (c->in), &refs);
  if (r != c->added)
    check_fail ("%s: returned %d, wanted %d (%s)", c->name, r, c->added,
                r == -1 ? error_message () : "");
  summary = refs_summary (&refs);
  if (strcmp (summary, c->refs) != 0)
    check_fail ("%s: list differs\n--- wanted:\n%s\n--- got:\n%s", c->name,
                c->refs, summary);
  lsummary = log_summary (&log);
  if (strcmp (lsummary, c->log) != 0)
    check_fail ("%s: log differs\n--- wanted:\n%s\n--- got:\n%s", c->name,
                c->log, lsummary);
  free (summary);
  free (lsummary);
  net_refs_free (&refs);
  CHECK (refs.n == 0 && refs.refs == NULL && refs.log == NULL);
  rewrite_log_free (&log);
}

/* Several files into one list: merging, and the list's own functions. */
static void
test_refs (void)
{
  static const char ifupdown[] = "auto eth0 eth1\niface eth1 inet dhcp\n";
  static const char networkd[]
    = "[Match]\nName=eth1\nMACAddress=52:54:00:00:00:01\n";
  static const char networkd2[]
    = "[Match]\nName=eth1\nMACAddress=52:54:00:00:00:02\n";
  static const char ifcfg[] = "DEVICE=eth0\nHWADDR=52:54:00:00:00:03\n";
  struct rewrite_log log = { 0 };
  struct net_refs refs = { 0 };
  char *s;

  CHECK (net_refs_add (&refs, "ens3", "52-54-00-00-00-0A") == 0);
  CHECK (net_refs_add (&refs, "ens3", NULL) == 0);
  CHECK (net_refs_add (&refs, "ens3", "52:54:00:00:00:0a") == 0);
  CHECK (net_refs_add (&refs, "ens3", "52:54:00:00:00:0b") == -1
         && strcmp (error_message (),
                    "ens3: MAC 52:54:00:00:00:0a, and also 52:54:00:00:00:0b")
           == 0);
  CHECK (net_refs_add (&refs, "eth0", NULL) == 0);
  CHECK (net_refs_add (&refs, "eth*", NULL) == -1
         && strcmp (error_message (), "'eth*': not a valid interface name")
           == 0);
  CHECK (net_refs_add (&refs, "eth2", "xx") == -1
         && strcmp (error_message (), "eth2: 'xx': not a MAC address") == 0);
  CHECK (net_refs_add (&refs, NULL, NULL) == -1);
  CHECK (refs.n == 2);

  /* Without a log: warnings are not kept. */
  CHECK (net_scan_ifupdown (ifupdown, strlen (ifupdown), &refs) == 1);
  refs.log = &log;
  CHECK (net_scan_networkd (networkd, strlen (networkd), &refs) == 0);
  CHECK (net_scan_networkd (networkd2, strlen (networkd2), &refs) == 0);
  CHECK (net_scan_ifcfg (ifcfg, strlen (ifcfg), &refs) == 0);
  s = refs_summary (&refs);
  CHECK (strcmp (s,
                 "ens3=52:54:00:00:00:0a eth0=52:54:00:00:00:03 "
                 "eth1=52:54:00:00:00:01")
         == 0);
  free (s);
  s = log_summary (&log);
  CHECK (strcmp (s,
                 "warning 2: eth1: MAC 52:54:00:00:00:01, and also "
                 "52:54:00:00:00:02: kept 52:54:00:00:00:01")
         == 0);
  free (s);
  CHECK (net_refs_find (&refs, "eth1") == &refs.refs[2]);
  CHECK (net_refs_find (&refs, "eth9") == NULL);

  /* A failure leaves the list and its log as they were. */
  CHECK (net_scan_ifupdown ("auto eth5 eth*\n\0", 16, &refs) == -1);
  CHECK (strcmp (error_message (), "NUL byte at offset 15: not a text file")
         == 0);
  CHECK (refs.n == 3 && log.n == 1);

  net_refs_free (&refs);
  CHECK (refs.n == 0 && refs.refs == NULL && refs.log == NULL);
  rewrite_log_free (&log);
}

/* ---------------------------------------------------------------------
 * Pinning.
 */

static void
test_pin (void)
{
  static const struct net_ref good[] = {
    { (char *) "ens3", (char *) "52:54:00:12:34:56" },
    { (char *) "lan0", (char *) "52-54-00-AB-CD-EF" },
  };
  struct net_ref bad[2];
  char *out = (char *) "untouched";

  CHECK (net_link_file ("ens3", "52:54:00:12:34:56", &out) == 0);
  CHECK (strcmp (out,
                 "# Written by p2v-fixup: this NIC keeps the name it had on "
                 "the source machine.\n"
                 "[Match]\n"
                 "MACAddress=52:54:00:12:34:56\n"
                 "Type=ether\n"
                 "\n"
                 "[Link]\n"
                 "Name=ens3\n")
         == 0);
  free (out);
  CHECK (net_link_file ("lan0", "5254.00AB.CDEF", &out) == 0);
  CHECK (strstr (out, "MACAddress=52:54:00:ab:cd:ef\n") != NULL
         && strstr (out, "Name=lan0\n") != NULL);
  free (out);
  out = (char *) "untouched";
  CHECK (net_link_file ("eth0:1", "52:54:00:12:34:56", &out) == -1
         && strcmp (error_message (), "'eth0:1': not a valid interface name")
           == 0);
  CHECK (
    net_link_file ("ens3", "ff:ff:ff:ff:ff:ff", &out) == -1
    && strcmp (error_message (), "ens3: 'ff:ff:ff:ff:ff:ff': not a MAC address")
      == 0);
  CHECK (net_link_file ("ens3", NULL, &out) == -1);
  CHECK (net_link_file (NULL, "52:54:00:12:34:56", &out) == -1);
  CHECK (strcmp (out, "untouched") == 0);

  CHECK (net_udev_rules (good, 2, &out) == 0);
  CHECK (strcmp (out,
                 "# Written by p2v-fixup: these NICs keep the names they had "
                 "on the source machine.\n"
                 "SUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"?*\", "
                 "ATTR{address}==\"52:54:00:12:34:56\", ATTR{type}==\"1\", "
                 "NAME=\"ens3\"\n"
                 "SUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"?*\", "
                 "ATTR{address}==\"52:54:00:ab:cd:ef\", ATTR{type}==\"1\", "
                 "NAME=\"lan0\"\n")
         == 0);
  free (out);
  CHECK (net_udev_rules (good, 0, &out) == 0);
  CHECK (strcmp (out,
                 "# Written by p2v-fixup: these NICs keep the names "
                 "they had on the source machine.\n")
         == 0);
  free (out);

  out = (char *) "untouched";
  bad[0] = good[0];
  bad[1] = good[0];
  CHECK (net_udev_rules (bad, 2, &out) == -1
         && strcmp (error_message (), "ens3: named twice") == 0);
  bad[1].name = (char *) "ens4";
  CHECK (net_udev_rules (bad, 2, &out) == -1
         && strcmp (error_message (),
                    "ens3 and ens4: the same MAC 52:54:00:12:34:56")
           == 0);
  bad[1].mac = NULL;
  CHECK (net_udev_rules (bad, 2, &out) == -1
         && strcmp (error_message (), "ens4: no MAC address") == 0);
  bad[1].name = (char *) "en\"s4";
  bad[1].mac = (char *) "52:54:00:12:34:57";
  CHECK (net_udev_rules (bad, 2, &out) == -1
         && strcmp (error_message (), "'en\"s4': not a valid interface name")
           == 0);
  CHECK (net_udev_rules (bad, NET_REFS_MAX + 1, &out) == -1);
  CHECK (strcmp (out, "untouched") == 0);
}

/* What p2v-fixup pins, a later run reads back (as the configuration's
 * MAC): the .link file through the networkd scanner, the udev rules
 * through theirs.
 */
static void
test_pin_read_back (void)
{
  static const struct net_ref pins[] = {
    { (char *) "ens3", (char *) "52:54:00:12:34:56" },
    { (char *) "lan0", (char *) "b6:0e:41:9c:27:d3" },
  };
  struct net_refs refs = { 0 };
  char *out = NULL, *summary;

  CHECK (net_udev_rules (pins, 2, &out) == 0);
  CHECK (net_scan_udev_rules (out, strlen (out), &refs) == 2);
  summary = refs_summary (&refs);
  CHECK (strcmp (summary, "ens3=52:54:00:12:34:56 lan0=b6:0e:41:9c:27:d3")
         == 0);
  free (summary);
  free (out);
  net_refs_free (&refs);

  CHECK (net_link_file ("lan0", "b6:0e:41:9c:27:d3", &out) == 0);
  CHECK (net_scan_networkd (out, strlen (out), &refs) == 1);
  summary = refs_summary (&refs);
  CHECK (strcmp (summary, "lan0=b6:0e:41:9c:27:d3") == 0);
  free (summary);
  free (out);
  net_refs_free (&refs);
}

/* net_mac_random: N MACs, each normalised, locally administered,
 * unicast, in SLAP's administrators' quadrant (low nibble of the first
 * octet 2), all different, and every random nibble varies.
 */
#define N_RANDOM_MACS 1000

static void
test_mac_random (void)
{
  static char macs[N_RANDOM_MACS][NET_MAC_SIZE];
  char norm[NET_MAC_SIZE];
  unsigned seen[12] = { 0 }; /* per nibble: a bit per value seen */
  size_t i, j;

  for (i = 0; i < N_RANDOM_MACS; i++) {
    if (net_mac_random (macs[i]) == -1) {
      check_fail ("net_mac_random: %s", error_message ());
      return;
    }
    if (net_mac_normalize (macs[i], norm) == -1 || strcmp (norm, macs[i]) != 0)
      check_fail ("net_mac_random: '%s': not a normalised MAC", macs[i]);
    if (macs[i][1] != '2')
      check_fail ("net_mac_random: '%s': first octet not x2", macs[i]);
    for (j = 0; j < 12; j++) {
      char c = macs[i][j / 2 * 3 + j % 2];

      seen[j] |= 1u << (c <= '9' ? c - '0' : c - 'a' + 10);
    }
  }
  /* Sorted, neighbours differ: all different. */
  qsort (macs, N_RANDOM_MACS, NET_MAC_SIZE,
         (int (*) (const void *, const void *)) strcmp);
  for (i = 1; i < N_RANDOM_MACS; i++)
    if (strcmp (macs[i - 1], macs[i]) == 0)
      check_fail ("net_mac_random: '%s' twice", macs[i]);
  /* A nibble that misses one of its 16 values in 1000 draws: one chance
   * in about 10^27 if it is random.
   */
  for (j = 0; j < 12; j++)
    if (j != 1 && seen[j] != 0xffff)
      check_fail ("net_mac_random: nibble %zu takes only the values %#x", j,
                  seen[j]);
}

/* ---------------------------------------------------------------------
 * Errors and limits.
 */

static net_rewrite_fn *const rewriters[] = {
  net_dhcp_ifupdown, net_dhcp_networkd,   net_dhcp_nm_keyfile,
  net_dhcp_ifcfg,    xorg_remove_drivers,
};
#define N_REWRITERS (sizeof rewriters / sizeof rewriters[0])

static net_scan_fn *const scanners[] = {
  net_scan_ifupdown, net_scan_networkd, net_scan_nm_keyfile,
  net_scan_ifcfg,    net_scan_netplan,  net_scan_udev_rules,
};
#define N_SCANNERS (sizeof scanners / sizeof scanners[0])

/* Inputs refused by everything, with the output, list and log untouched. */
static void
test_errors (void)
{
  static const char nul[] = "[ipv4]\nmethod=manual\n\0address1=x\n";
  struct rewrite_log log = { 0 };
  struct net_refs refs = { .log = &log };
  char *out = (char *) "untouched";
  size_t len = 12345, i;
  char *big = malloc (REWRITE_INPUT_MAX + 1);

  memset (big, ' ', REWRITE_INPUT_MAX + 1);
  CHECK (net_refs_add (&refs, "eth0", NULL) == 0);
  CHECK (net_dhcp_ifcfg ("DEVICE=a:1\nIPADDR=1\n", 20, &out, &len, &log) == 0);
  free (out);
  out = (char *) "untouched";
  len = 12345;
  for (i = 0; i < N_REWRITERS; i++) {
    CHECK (rewriters[i](nul, sizeof nul - 1, &out, &len, &log) == -1);
    CHECK (strcmp (error_message (), "NUL byte at offset 21: not a text file")
           == 0);
    CHECK (rewriters[i](big, REWRITE_INPUT_MAX + 1, &out, &len, &log) == -1);
    CHECK (strcmp (error_message (),
                   "too large: 16777217 bytes, the limit is 16777216")
           == 0);
    CHECK (strcmp (out, "untouched") == 0 && len == 12345);
    CHECK (log.n == 1);
  }
  for (i = 0; i < N_SCANNERS; i++) {
    CHECK (scanners[i](nul, sizeof nul - 1, &refs) == -1);
    CHECK (strcmp (error_message (), "NUL byte at offset 21: not a text file")
           == 0);
    CHECK (scanners[i](big, REWRITE_INPUT_MAX + 1, &refs) == -1);
    CHECK (refs.n == 1 && log.n == 1);
  }
  /* The limit itself is fine. */
  CHECK (net_dhcp_networkd (big, REWRITE_INPUT_MAX, &out, &len, &log) == 0);
  CHECK (len == REWRITE_INPUT_MAX && memcmp (out, big, len) == 0);
  free (out);
  CHECK (net_scan_netplan (big, REWRITE_INPUT_MAX, &refs) == 0);
  free (big);
  net_refs_free (&refs);
  rewrite_log_free (&log);
}

/* Long lines, many lines, full lists: all in linear time. */
static void
test_large (void)
{
  const size_t n_names = 20000, n_stanzas = 10000, line_len = 256 * 1024;
  struct rewrite_log log = { 0 };
  struct net_refs refs = { .log = &log };
  char *in, *want, *p, *q, *out;
  clock_t start = clock ();
  size_t i, len;
  char *s;

  /* One auto line of 20000 names, more than a list holds, each twice. */
  in = malloc (n_names * 2 * 12 + 10);
  p = in + sprintf (in, "auto");
  for (i = 0; i < n_names * 2; i++)
    p += sprintf (p, " e%zu", i % n_names);
  *p++ = '\n';
  CHECK (net_scan_ifupdown (in, p - in, &refs) == NET_REFS_MAX);
  CHECK (refs.n == NET_REFS_MAX);
  CHECK (strcmp (refs.refs[NET_REFS_MAX - 1].name, "e1023") == 0);
  s = log_summary (&log);
  CHECK (strcmp (s,
                 "warning 1: more than 1024 interface names: 'e1024' and "
                 "the names after it skipped")
         == 0);
  free (s);
  /* Again, into the full list: every name known or skipped. */
  CHECK (net_scan_ifupdown (in, p - in, &refs) == 0);
  CHECK (refs.n == NET_REFS_MAX && log.n == 2);
  free (in);
  net_refs_free (&refs);
  rewrite_log_free (&log);

  /* 10000 static stanzas: more changes than a log keeps. */
  in = malloc (n_stanzas * 60);
  want = malloc (n_stanzas * 80);
  for (p = in, q = want, i = 0; i < n_stanzas; i++) {
    p += sprintf (p, "iface e%zu inet static\n  address 192.0.2.1/24\n", i);
    q += sprintf (
      q, "iface e%zu inet dhcp\n" NET_COMMENT "  address 192.0.2.1/24\n", i);
  }
  CHECK (net_dhcp_ifupdown (in, p - in, &out, &len, &log)
         == (int) (2 * n_stanzas));
  CHECK (len == (size_t) (q - want) && memcmp (out, want, len) == 0);
  CHECK (log.n == REWRITE_LOG_MAX && log.n_dropped == 2 * n_stanzas - log.n);
  free (out);
  free (in);
  free (want);
  rewrite_log_free (&log);

  /* Long lines of Name= and of Xorg tokens, and a long line of
   * continuations.
   */
  in = malloc (2 * line_len);
  p = in + sprintf (in, "[Match]\nName=");
  for (i = 0; i < line_len / 2; i++)
    *p++ = i % 2 ? ' ' : 'x';
  p += sprintf (p, "\n[Network]\nAddress=1\n");
  CHECK (net_scan_networkd (in, p - in, &refs) == 1);
  CHECK (net_dhcp_networkd (in, p - in, &out, &len, NULL) == 2);
  free (out);
  p = in + sprintf (in, "Section \"Device\"\n");
  for (i = 0; i < line_len / 8; i++)
    p += sprintf (p, "Driver \"");
  CHECK (xorg_remove_drivers (in, p - in, &out, &len, NULL) == 0);
  free (out);
  p = in + sprintf (in, "[Network]\nAddress=");
  for (i = 0; i < line_len / 8; i++)
    p += sprintf (p, "1\\\n#\n");
  CHECK (net_dhcp_networkd (in, p - in, &out, &len, NULL)
         == (int) (1 + line_len / 8));
  free (out);
  free (in);
  net_refs_free (&refs);

  /* Generous: well under a second of work, valgrind included. */
  if ((clock () - start) / CLOCKS_PER_SEC > 60)
    check_fail ("test_large: too slow");
}

int
main (void)
{
  size_t i;

  test_names ();
  test_macs ();
  test_mac_random ();
  for (i = 0; i < sizeof scases / sizeof scases[0]; i++)
    run_scan (&scases[i]);
  test_refs ();
  for (i = 0; i < sizeof rcases / sizeof rcases[0]; i++) {
    const struct rcase *c = &rcases[i];
    const char *want = c->out ? c->out : c->in;

    run_rewrite (c->name, c->fn, c->in, strlen (c->in), want, strlen (want),
                 c->log);
  }
  test_pin ();
  test_pin_read_back ();
  test_errors ();
  test_large ();
  printf ("%zu scanner cases, %zu rewriter cases\n",
          sizeof scases / sizeof scases[0], sizeof rcases / sizeof rcases[0]);
  return check_exit ();
}
