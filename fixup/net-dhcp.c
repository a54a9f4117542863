/* p2vkit fixup: switching static addresses to DHCP, p2v-fixup --network
 * dhcp (see net.h).
 *
 * Each rewriter reads its file with the reader of its syntax and notes
 * the edits (net-internal.h); the ones that must know the whole file
 * first (is there a static address? a DHCP= line?) read it twice.
 */
#include "net-internal.h"

#include <errno.h>
#include <stdlib.h>

#include "error.h"

#define DHCP "dhcp"
#define YES "yes"
#define AUTO "auto"

/* Is IN[S, E) one of the words of the NULL-terminated list WORDS? */
static bool
span_in (const char *in, size_t s, size_t e, const char *const *words)
{
  for (; *words != NULL; words++)
    if (span_is (in, s, e, *words))
      return true;
  return false;
}

/* Does IN[S, E) start with PREFIX, followed by digits only? */
static bool
prefix_digits (const char *in, size_t s, size_t e, const char *prefix)
{
  size_t n = strlen (prefix);

  if (e - s < n || memcmp (in + s, prefix, n) != 0)
    return false;
  for (s += n; s < e; s++)
    if (in[s] < '0' || in[s] > '9')
      return false;
  return true;
}

/* ---------------------------------------------------------------------
 * ifupdown.
 */

/* The options of a static stanza that DHCP gives instead. */
static const char *const ifupdown_static_options[] = {
  "address", "netmask", "broadcast", "network", "gateway", "pointopoint", NULL,
};

int
net_dhcp_ifupdown (const char *in, size_t len, char **out, size_t *out_len,
                   struct rewrite_log *log)
{
  char buf[SHOW_SIZE];
  struct lines it;
  struct lline l;
  struct edit e;
  bool switched = false; /* in a stanza switched to DHCP */
  int ret = -1;

  if (edit_init (&e, in, len) == -1)
    return -1;
  lines_init (&it, in, len, CONT_IFUPDOWN, "#");
  while (lines_next (&it, &l)) {
    size_t i = l.start, ws, we, name, name_end;

    if (l.comment || !words_next (&it, &i, l.end, &ws, &we))
      continue;
    if (span_is (in, ws, we, "iface")) {
      /* iface NAME inet|inet6 static */
      switched = false;
      if (!words_next (&it, &i, l.end, &name, &name_end)
          || !words_next (&it, &i, l.end, &ws, &we)
          || (!span_is (in, ws, we, "inet") && !span_is (in, ws, we, "inet6"))
          || !words_next (&it, &i, l.end, &ws, &we)
          || !span_is (in, ws, we, "static")
          || span_is (in, name, name_end, "lo"))
        continue;
      if (memchr (in + name, ':', name_end - name) != NULL) {
        if (edit_warning (&e, l.start,
                          "'%s' is an alias: its static address stays",
                          show (in + name, name_end - name, buf))
            == -1)
          goto out;
        continue;
      }
      if (edit_replace (&e, ws, we - ws, DHCP) == -1)
        goto out;
      switched = true;
    }
    else if (ifupdown_lists_interfaces (in, ws, we)
             || ifupdown_ends_stanza (in, ws, we))
      switched = false;
    else if (switched && span_in (in, ws, we, ifupdown_static_options)
             && comment_out (&e, &it, &l) == -1)
      goto out;
  }
  ret = edit_finish (&e, out, out_len, log);
out:
  edit_free (&e);
  return ret;
}

/* ---------------------------------------------------------------------
 * systemd-networkd.
 */

/* The values of DHCP= that ask for DHCP (parse_boolean's true, and the
 * old "both").
 */
static const char *const true_values[] = {
  "yes", "y", "true", "t", "on", "1", "both", NULL,
};

static bool
is_true (const char *in, size_t s, size_t e)
{
  size_t i;

  for (i = 0; true_values[i] != NULL; i++)
    if (span_is_nocase (in, s, e, true_values[i]))
      return true;
  return false;
}

enum nd_section { ND_OTHER, ND_NETWORK, ND_ADDRESS, ND_ROUTE };

static enum nd_section
nd_section (const char *in, const struct ini *p)
{
  if (span_is (in, p->name, p->name_end, "Network"))
    return ND_NETWORK;
  if (span_is (in, p->name, p->name_end, "Address"))
    return ND_ADDRESS;
  if (span_is (in, p->name, p->name_end, "Route"))
    return ND_ROUTE;
  return ND_OTHER;
}

/* What the first reading of a .network file finds. */
struct nd_file {
  bool has_static;   /* an Address= in [Network], or an [Address] */
  bool has_network;  /* a [Network] section */
  bool has_dhcp;     /* a DHCP= in [Network] that can be set in place */
  bool *route_gw;    /* for each [Route], does it name a gateway? */
  size_t n_routes, alloc;
};

/* Is a DHCP= value one that can be changed in place: on the line of its
 * key?
 */
static bool
one_line (const char *in, const struct ini *p)
{
  return memchr (in + p->name, '\n', p->value_end - p->name) == NULL;
}

static int
nd_read (const char *in, size_t len, struct nd_file *f)
{
  enum nd_section sec = ND_OTHER;
  struct lines it;
  struct lline l;
  struct ini p;

  lines_init (&it, in, len, CONT_SYSTEMD, "#;");
  while (lines_next (&it, &l)) {
    ini_parse (&it, &l, &p);
    if (p.kind == INI_SECTION) {
      sec = nd_section (in, &p);
      f->has_static = f->has_static || sec == ND_ADDRESS;
      f->has_network = f->has_network || sec == ND_NETWORK;
      if (sec != ND_ROUTE)
        continue;
      if (f->n_routes == f->alloc) {
        size_t alloc = f->alloc ? f->alloc * 2 : 8;
        bool *r = realloc (f->route_gw, alloc * sizeof *r);

        if (r == NULL)
          return error_errno (errno, "rewrite");
        f->route_gw = r;
        f->alloc = alloc;
      }
      f->route_gw[f->n_routes++] = false;
      continue;
    }
    if (p.kind != INI_KEY)
      continue;
    if (sec == ND_NETWORK && span_is (in, p.name, p.name_end, "Address")
        && p.value < p.value_end)
      f->has_static = true;
    else if (sec == ND_NETWORK && span_is (in, p.name, p.name_end, "DHCP")
             && one_line (in, &p))
      f->has_dhcp = true;
    /* A gateway address; _dhcp4 and _ipv6ra come from DHCP. */
    else if (sec == ND_ROUTE && span_is (in, p.name, p.name_end, "Gateway")
             && p.value < p.value_end && in[p.value] != '_')
      f->route_gw[f->n_routes - 1] = true;
  }
  return 0;
}

int
net_dhcp_networkd (const char *in, size_t len, char **out, size_t *out_len,
                   struct rewrite_log *log)
{
  struct nd_file f = { 0 };
  enum nd_section sec = ND_OTHER;
  bool drop = false; /* comment out the whole section */
  bool added = false;
  size_t route = 0;
  struct lines it;
  struct lline l;
  struct edit e;
  struct ini p;
  int ret = -1;

  if (edit_init (&e, in, len) == -1)
    return -1;
  if (nd_read (in, len, &f) == -1)
    goto out;
  lines_init (&it, in, len, CONT_SYSTEMD, "#;");
  while (f.has_static && lines_next (&it, &l)) {
    ini_parse (&it, &l, &p);
    if (p.kind == INI_SECTION) {
      sec = nd_section (in, &p);
      drop = sec == ND_ADDRESS || (sec == ND_ROUTE && f.route_gw[route++]);
      if (drop && comment_out (&e, &it, &l) == -1)
        goto out;
      /* DHCP=yes right after the first [Network], if no DHCP= says it. */
      if (sec == ND_NETWORK && !f.has_dhcp && !added) {
        if (edit_add_line (&e, l.end, "DHCP=" YES) == -1)
          goto out;
        added = true;
      }
      continue;
    }
    if (l.comment || l.first == l.end)
      continue;
    if (drop) {
      if (comment_out (&e, &it, &l) == -1)
        goto out;
      continue;
    }
    if (sec != ND_NETWORK || p.kind != INI_KEY)
      continue;
    if (span_is (in, p.name, p.name_end, "Address")
        || span_is (in, p.name, p.name_end, "Gateway")
        || (span_is (in, p.name, p.name_end, "DHCP") && !one_line (in, &p))) {
      if (comment_out (&e, &it, &l) == -1)
        goto out;
    }
    else if (span_is (in, p.name, p.name_end, "DHCP")
             && !is_true (in, p.value, p.value_end)
             && edit_replace (&e, p.value, p.value_end - p.value, YES) == -1)
      goto out;
  }
  if (f.has_static && !f.has_network
      && (edit_add_line (&e, len, "[Network]") == -1
          || edit_add_line (&e, len, "DHCP=" YES) == -1))
    goto out;
  ret = edit_finish (&e, out, out_len, log);
out:
  free (f.route_gw);
  edit_free (&e);
  return ret;
}

/* ---------------------------------------------------------------------
 * NetworkManager keyfiles.
 */

/* [ipv4] is 0, [ipv6] 1, others -1. */
static int
nm_family (const char *in, const struct ini *p)
{
  if (span_is (in, p->name, p->name_end, "ipv4"))
    return 0;
  if (span_is (in, p->name, p->name_end, "ipv6"))
    return 1;
  return -1;
}

/* address, addresses, address1, addresses1..., gateway. */
static bool
nm_static_key (const char *in, size_t s, size_t e)
{
  return prefix_digits (in, s, e, "address")
    || prefix_digits (in, s, e, "addresses") || span_is (in, s, e, "gateway");
}

int
net_dhcp_nm_keyfile (const char *in, size_t len, char **out, size_t *out_len,
                     struct rewrite_log *log)
{
  bool manual[2] = { false, false };
  int fam = -1;
  struct lines it;
  struct lline l;
  struct edit e;
  struct ini p;
  int ret = -1;

  if (edit_init (&e, in, len) == -1)
    return -1;

  /* The method of each family: the last method= of its sections. */
  lines_init (&it, in, len, CONT_NONE, "#");
  while (lines_next (&it, &l)) {
    ini_parse (&it, &l, &p);
    if (p.kind == INI_SECTION)
      fam = nm_family (in, &p);
    else if (p.kind == INI_KEY && fam >= 0
             && span_is (in, p.name, p.name_end, "method"))
      manual[fam] = span_is (in, p.value, p.value_end, "manual");
  }

  fam = -1;
  lines_init (&it, in, len, CONT_NONE, "#");
  while ((manual[0] || manual[1]) && lines_next (&it, &l)) {
    ini_parse (&it, &l, &p);
    if (p.kind == INI_SECTION)
      fam = nm_family (in, &p);
    if (p.kind != INI_KEY || fam < 0 || !manual[fam])
      continue;
    if (span_is (in, p.name, p.name_end, "method")
        && span_is (in, p.value, p.value_end, "manual")) {
      if (edit_replace (&e, p.value, p.value_end - p.value, AUTO) == -1)
        goto out;
    }
    else if (nm_static_key (in, p.name, p.name_end)
             && comment_out (&e, &it, &l) == -1)
      goto out;
  }
  ret = edit_finish (&e, out, out_len, log);
out:
  edit_free (&e);
  return ret;
}

/* ---------------------------------------------------------------------
 * ifcfg.
 */

/* The BOOTPROTO values of a static configuration. */
static bool
is_static_bootproto (const char *in, size_t s, size_t e)
{
  return s == e || span_is_nocase (in, s, e, "static")
    || span_is_nocase (in, s, e, "none");
}

static bool
ifcfg_v4_key (const char *in, size_t s, size_t e)
{
  return prefix_digits (in, s, e, "IPADDR")
    || prefix_digits (in, s, e, "NETMASK") || prefix_digits (in, s, e, "PREFIX")
    || prefix_digits (in, s, e, "GATEWAY");
}

static const char *const ifcfg_v6_keys[] = {
  "IPV6ADDR",
  "IPV6ADDR_SECONDARIES",
  "IPV6_DEFAULTGW",
  NULL,
};

int
net_dhcp_ifcfg (const char *in, size_t len, char **out, size_t *out_len,
                struct rewrite_log *log)
{
  bool v4 = false, v6 = false, bootproto = false, bootproto_static = false;
  size_t name, name_end, value, value_end, device_off = 0;
  bool alias = false;
  char buf[SHOW_SIZE];
  struct lines it;
  struct lline l;
  struct edit e;
  int ret = -1;

  if (edit_init (&e, in, len) == -1)
    return -1;

  lines_init (&it, in, len, CONT_NONE, "#");
  while (lines_next (&it, &l)) {
    if (l.comment
        || !shell_assignment (in, l.start, l.end, &name, &name_end, &value,
                              &value_end))
      continue;
    if (span_is (in, name, name_end, "BOOTPROTO")) {
      bootproto = true;
      bootproto_static = is_static_bootproto (in, value, value_end);
    }
    else if (prefix_digits (in, name, name_end, "IPADDR"))
      v4 = v4 || value < value_end;
    else if (span_is (in, name, name_end, "IPV6ADDR"))
      v6 = v6 || value < value_end;
    else if (span_is (in, name, name_end, "DEVICE")) {
      alias = memchr (in + value, ':', value_end - value) != NULL;
      device_off = l.start;
      show (in + value, value_end - value, buf);
    }
  }
  v4 = v4 && (!bootproto || bootproto_static);
  if (alias && (v4 || v6)) {
    if (edit_warning (&e, device_off,
                      "'%s' is an alias: its static address stays", buf)
        == -1)
      goto out;
    v4 = v6 = false;
  }

  lines_init (&it, in, len, CONT_NONE, "#");
  while ((v4 || v6) && lines_next (&it, &l)) {
    if (l.comment
        || !shell_assignment (in, l.start, l.end, &name, &name_end, &value,
                              &value_end))
      continue;
    if (v4 && span_is (in, name, name_end, "BOOTPROTO")
        && is_static_bootproto (in, value, value_end)) {
      if (edit_replace (&e, value, value_end - value, DHCP) == -1)
        goto out;
    }
    else if ((v4 && ifcfg_v4_key (in, name, name_end))
             || (v6 && span_in (in, name, name_end, ifcfg_v6_keys))) {
      if (comment_out (&e, &it, &l) == -1)
        goto out;
    }
    else if (v6 && span_is (in, name, name_end, "IPV6_AUTOCONF")
             && span_is_nocase (in, value, value_end, "no")
             && edit_replace (&e, value, value_end - value, YES) == -1)
      goto out;
  }
  if (v4 && !bootproto && edit_add_line (&e, len, "BOOTPROTO=" DHCP) == -1)
    goto out;
  ret = edit_finish (&e, out, out_len, log);
out:
  edit_free (&e);
  return ret;
}
