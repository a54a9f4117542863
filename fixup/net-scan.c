/* p2vkit fixup: which NICs ifupdown, systemd-networkd, NetworkManager and
 * ifcfg files name (see net.h).
 */
#include "net-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"

/* A part of the input, and the line it is on. */
struct span {
  size_t s, e;
  size_t line;
};

/* A list of spans, of at most NET_REFS_MAX: more names than a list can
 * hold anyway.
 */
struct spans {
  struct span *v;
  size_t n, alloc;
};

static int
spans_add (struct spans *l, size_t s, size_t e, size_t line)
{
  if (l->n >= NET_REFS_MAX)
    return 0;
  if (l->n == l->alloc) {
    size_t alloc = l->alloc ? l->alloc * 2 : 8;
    struct span *v = realloc (l->v, alloc * sizeof *v);

    if (v == NULL)
      return error_errno (errno, "interface list");
    l->v = v;
    l->alloc = alloc;
  }
  l->v[l->n].s = s;
  l->v[l->n].e = e;
  l->v[l->n].line = line;
  l->n++;
  return 0;
}

size_t
alias_base (const char *s, size_t len)
{
  const char *colon = memchr (s, ':', len);

  return colon != NULL && colon > s ? (size_t) (colon - s) : len;
}

bool
ifupdown_lists_interfaces (const char *in, size_t ws, size_t we)
{
  return span_is (in, ws, we, "auto")
    || (we - ws > 6 && memcmp (in + ws, "allow-", 6) == 0)
    || span_is (in, ws, we, "no-auto-down")
    || span_is (in, ws, we, "no-scripts");
}

bool
ifupdown_ends_stanza (const char *in, size_t ws, size_t we)
{
  return span_is (in, ws, we, "mapping") || span_is (in, ws, we, "source")
    || span_is (in, ws, we, "source-directory")
    || span_is (in, ws, we, "rename");
}

int
net_scan_ifupdown (const char *in, size_t len, struct net_refs *refs)
{
  struct ref_scan s;
  struct lines it;
  struct lline l;
  size_t iface = 0, iface_len = 0; /* the stanza's interface, if any */
  int ret = -1, r;

  if (ref_scan_begin (&s, in, len, refs) == -1)
    return -1;
  lines_init (&it, in, len, CONT_IFUPDOWN, "#");
  while (lines_next (&it, &l)) {
    size_t i = l.start, ws, we;

    if (l.comment || !words_next (&it, &i, l.end, &ws, &we))
      continue;
    if (span_is (in, ws, we, "iface")) {
      iface_len = 0;
      if (!words_next (&it, &i, l.end, &ws, &we))
        continue;
      we = ws + alias_base (in + ws, we - ws);
      r = ref_scan_add (&s, l.line, in + ws, we - ws, NULL, 0);
      if (r == -1)
        goto out;
      if (r == 1) {
        iface = ws;
        iface_len = we - ws;
      }
    }
    else if (ifupdown_lists_interfaces (in, ws, we)) {
      iface_len = 0;
      while (words_next (&it, &i, l.end, &ws, &we))
        if (ref_scan_add (&s, l.line, in + ws, alias_base (in + ws, we - ws),
                          NULL, 0)
            == -1)
          goto out;
    }
    else if (ifupdown_ends_stanza (in, ws, we))
      iface_len = 0;
    else if (iface_len > 0 && span_is (in, ws, we, "hwaddress")) {
      if (!words_next (&it, &i, l.end, &ws, &we)
          || (span_is (in, ws, we, "ether")
              && !words_next (&it, &i, l.end, &ws, &we)))
        continue;
      if (ref_scan_add (&s, l.line, in + iface, iface_len, in + ws, we - ws)
          == -1)
        goto out;
    }
  }
  ret = 0;
out:
  return ref_scan_end (&s, ret);
}

/* What a networkd file gives: the names and MACs of its [Match], and the
 * Name= of a .link's [Link].
 */
struct networkd {
  struct spans names;
  bool odd_names; /* a glob or a negated list: not only these names */
  char mac[2][NET_MAC_SIZE]; /* MACAddress=, PermanentMACAddress= */
  int n_macs[2];             /* 0, 1, or 2 for several */
  struct span link_name;
};

/* Read the MACs of the list IN[VALUE, VALUE_END) into N->mac[K]. */
static int
networkd_macs (struct ref_scan *s, const struct lines *it, size_t line,
               size_t value, size_t value_end, struct networkd *n, int k)
{
  const char *in = it->in;
  char norm[NET_MAC_SIZE], buf[SHOW_SIZE];
  size_t i = value, ws, we;

  if (value == value_end)
    n->n_macs[k] = 0;
  while (words_next (it, &i, value_end, &ws, &we)) {
    if (!mac_parse (in + ws, we - ws, norm)) {
      if (log_warning (s->refs->log, line, "'%s': not a MAC address: ignored",
                       show (in + ws, we - ws, buf))
          == -1)
        return -1;
    }
    else if (n->n_macs[k] == 0) {
      memcpy (n->mac[k], norm, sizeof norm);
      n->n_macs[k] = 1;
    }
    else if (strcmp (n->mac[k], norm) != 0)
      n->n_macs[k] = 2;
  }
  return 0;
}

/* Add what N found to the scan. */
static int
networkd_add (struct ref_scan *s, const char *in, const struct networkd *n)
{
  const char *mac = NULL;
  size_t i, mac_len;
  bool paired = false;

  /* The MAC, if the file gives exactly one. */
  if (n->n_macs[0] == 1 && n->n_macs[1] == 1)
    mac = strcmp (n->mac[0], n->mac[1]) == 0 ? n->mac[0] : NULL;
  else if (n->n_macs[0] < 2 && n->n_macs[1] < 2)
    mac = n->n_macs[0] == 1 ? n->mac[0] : n->n_macs[1] == 1 ? n->mac[1] : NULL;
  mac_len = mac != NULL ? strlen (mac) : 0;

  if (n->link_name.e > n->link_name.s) {
    if (ref_scan_add (s, n->link_name.line, in + n->link_name.s,
                      n->link_name.e - n->link_name.s, mac, mac_len)
        == -1)
      return -1;
    paired = true;
  }
  for (i = 0; i < n->names.n; i++) {
    const struct span *sp = &n->names.v[i];
    bool with_mac = !paired && n->names.n == 1 && !n->odd_names;

    if (ref_scan_add (s, sp->line, in + sp->s, sp->e - sp->s,
                      with_mac ? mac : NULL, with_mac ? mac_len : 0)
        == -1)
      return -1;
  }
  return 0;
}

int
net_scan_networkd (const char *in, size_t len, struct net_refs *refs)
{
  enum { SEC_OTHER, SEC_MATCH, SEC_LINK } sec = SEC_OTHER;
  struct networkd n = { 0 };
  struct ref_scan s;
  struct lines it;
  struct lline l;
  struct ini p;
  int ret = -1;

  if (ref_scan_begin (&s, in, len, refs) == -1)
    return -1;
  lines_init (&it, in, len, CONT_SYSTEMD, "#;");
  while (lines_next (&it, &l)) {
    size_t i, ws, we;

    ini_parse (&it, &l, &p);
    if (p.kind == INI_SECTION) {
      sec = span_is (in, p.name, p.name_end, "Match") ? SEC_MATCH
        : span_is (in, p.name, p.name_end, "Link")    ? SEC_LINK
                                                      : SEC_OTHER;
      continue;
    }
    if (p.kind != INI_KEY)
      continue;
    if (sec == SEC_MATCH && span_is (in, p.name, p.name_end, "Name")) {
      /* An empty value resets the list; "!" negates all of it. */
      if (p.value == p.value_end) {
        n.names.n = 0;
        n.odd_names = false;
        continue;
      }
      if (in[p.value] == '!') {
        n.odd_names = true;
        continue;
      }
      i = p.value;
      while (words_next (&it, &i, p.value_end, &ws, &we))
        if (is_glob (in, ws, we))
          n.odd_names = true;
        else if (spans_add (&n.names, ws, we, l.line) == -1)
          goto out;
    }
    else if (sec == SEC_MATCH
             && (span_is (in, p.name, p.name_end, "MACAddress")
                 || span_is (in, p.name, p.name_end, "PermanentMACAddress"))) {
      if (networkd_macs (&s, &it, l.line, p.value, p.value_end, &n,
                         in[p.name] == 'P')
          == -1)
        goto out;
    }
    else if (sec == SEC_LINK && span_is (in, p.name, p.name_end, "Name")) {
      n.link_name.s = p.value;
      n.link_name.e = p.value_end;
      n.link_name.line = l.line;
    }
  }
  ret = networkd_add (&s, in, &n);
out:
  free (n.names.v);
  return ref_scan_end (&s, ret);
}

/* NetworkManager's old form of a MAC, decimal bytes: "82;84;0;18;52;86;".
 * Writes the usual form into OUT (for mac_parse); false if it is not
 * that form.
 */
static bool
nm_byte_list (const char *in, size_t s, size_t e, char out[NET_MAC_SIZE])
{
  unsigned byte[6];
  size_t n = 0;

  while (s < e && n < 6) {
    unsigned v = 0;
    size_t digits = 0;

    while (s < e && in[s] >= '0' && in[s] <= '9' && digits < 4) {
      v = v * 10 + (in[s++] - '0');
      digits++;
    }
    if (digits == 0 || v > 255 || (s < e && in[s] != ';'))
      return false;
    byte[n++] = v;
    s++;
  }
  if (n != 6 || s < e)
    return false;
  snprintf (out, NET_MAC_SIZE, "%02x:%02x:%02x:%02x:%02x:%02x", byte[0],
            byte[1], byte[2], byte[3], byte[4], byte[5]);
  return true;
}

int
net_scan_nm_keyfile (const char *in, size_t len, struct net_refs *refs)
{
  enum { SEC_OTHER, SEC_CONNECTION, SEC_ETHERNET } sec = SEC_OTHER;
  struct span name = { 0 }, mac = { 0 };
  char bytes[NET_MAC_SIZE];
  struct ref_scan s;
  struct lines it;
  struct lline l;
  struct ini p;
  int ret = -1;

  if (ref_scan_begin (&s, in, len, refs) == -1)
    return -1;
  lines_init (&it, in, len, CONT_NONE, "#");
  while (lines_next (&it, &l)) {
    ini_parse (&it, &l, &p);
    if (p.kind == INI_SECTION) {
      sec = span_is (in, p.name, p.name_end, "connection") ? SEC_CONNECTION
        : span_is (in, p.name, p.name_end, "ethernet")
          || span_is (in, p.name, p.name_end, "802-3-ethernet")
        ? SEC_ETHERNET
        : SEC_OTHER;
      continue;
    }
    if (p.kind != INI_KEY)
      continue;
    if (sec == SEC_CONNECTION
        && span_is (in, p.name, p.name_end, "interface-name")) {
      name.s = p.value;
      name.e = p.value_end;
      name.line = l.line;
    }
    else if (sec == SEC_ETHERNET
             && span_is (in, p.name, p.name_end, "mac-address")) {
      mac.s = p.value;
      mac.e = p.value_end;
      mac.line = l.line;
    }
  }
  ret = 0;
  if (name.e > name.s) {
    const char *m = in + mac.s;
    size_t m_len = mac.e - mac.s;

    if (nm_byte_list (in, mac.s, mac.e, bytes)) {
      m = bytes;
      m_len = strlen (bytes);
    }
    if (ref_scan_add (&s, name.line, in + name.s, name.e - name.s, m, m_len)
        == -1)
      ret = -1;
  }
  return ref_scan_end (&s, ret);
}

int
net_scan_ifcfg (const char *in, size_t len, struct net_refs *refs)
{
  struct span device = { 0 }, hwaddr = { 0 };
  struct ref_scan s;
  struct lines it;
  struct lline l;
  int ret = 0;

  if (ref_scan_begin (&s, in, len, refs) == -1)
    return -1;
  lines_init (&it, in, len, CONT_NONE, "#");
  while (lines_next (&it, &l)) {
    size_t name, name_end, value, value_end;

    if (l.comment
        || !shell_assignment (in, l.start, l.end, &name, &name_end, &value,
                              &value_end))
      continue;
    if (span_is (in, name, name_end, "DEVICE")) {
      device.s = value;
      device.e = value_end;
      device.line = l.line;
    }
    else if (span_is (in, name, name_end, "HWADDR")) {
      hwaddr.s = value;
      hwaddr.e = value_end;
      hwaddr.line = l.line;
    }
  }
  if (device.e > device.s
      && ref_scan_add (&s, device.line, in + device.s,
                       alias_base (in + device.s, device.e - device.s),
                       in + hwaddr.s, hwaddr.e - hwaddr.s)
        == -1)
    ret = -1;
  return ref_scan_end (&s, ret);
}

/* The operators of udev rules. */
enum udev_op {
  UDEV_MATCH,   /* == */
  UDEV_NOMATCH, /* != */
  UDEV_ASSIGN,  /* = and := */
  UDEV_ADD,     /* += and -= */
};

static bool
is_key_char (char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
    || (c >= '0' && c <= '9') || c == '_';
}

/* One KEY OP "VALUE" of the logical line ending at END, from *P; on
 * success *P is past it and past the comma after it, if any.  False if
 * it is not one.
 */
static bool
udev_pair (const struct lines *it, size_t end, size_t *p, struct span *key,
           enum udev_op *op, struct span *value)
{
  const char *in = it->in;
  size_t i = *p;

  key->s = i;
  while (i < end && is_key_char (in[i]))
    i++;
  if (i == key->s)
    return false;
  if (i < end && in[i] == '{') {
    while (i < end && in[i] != '}' && in[i] != '\n')
      i++;
    if (i == end || in[i] != '}')
      return false;
    i++;
  }
  key->e = i;
  i = skip_gap (it, i, end);
  if (end - i >= 2 && in[i + 1] == '=' && strchr ("=!:+-", in[i]) != NULL) {
    *op = in[i] == '=' ? UDEV_MATCH
      : in[i] == '!'   ? UDEV_NOMATCH
      : in[i] == ':'   ? UDEV_ASSIGN
                       : UDEV_ADD;
    i += 2;
  }
  else if (i < end && in[i] == '=') {
    *op = UDEV_ASSIGN;
    i++;
  }
  else
    return false;
  i = skip_gap (it, i, end);
  if (i == end || in[i] != '"')
    return false;
  value->s = ++i;
  while (i < end && in[i] != '"' && in[i] != '\n')
    i += in[i] == '\\' && i + 1 < end ? 2 : 1;
  if (i >= end || in[i] != '"')
    return false;
  value->e = i++;
  i = skip_gap (it, i, end);
  if (i < end && in[i] == ',')
    i++;
  *p = i;
  return true;
}

int
net_scan_udev_rules (const char *in, size_t len, struct net_refs *refs)
{
  char buf[SHOW_SIZE];
  struct ref_scan s;
  struct lines it;
  struct lline l;
  int ret = -1;

  if (ref_scan_begin (&s, in, len, refs) == -1)
    return -1;
  lines_init (&it, in, len, CONT_IFUPDOWN, "#");
  while (lines_next (&it, &l)) {
    struct span name = { 0 }, mac = { 0 }, key, value;
    enum udev_op op;
    size_t p = skip_gap (&it, l.first, l.end);
    bool understood = true;

    if (l.comment)
      continue;
    while (p < l.end && understood) {
      size_t at = p;

      understood = udev_pair (&it, l.end, &p, &key, &op, &value);
      if (!understood) {
        if (log_warning (refs->log, l.line,
                         "udev rule not understood at '%s': skipped",
                         show (in + at, l.end - at, buf))
            == -1)
          goto out;
      }
      else if (op == UDEV_ASSIGN && span_is (in, key.s, key.e, "NAME"))
        name = value;
      else if (op == UDEV_MATCH && span_is (in, key.s, key.e, "ATTR{address}"))
        mac = value;
      p = skip_gap (&it, p, l.end);
    }
    if (understood && name.e > name.s
        && ref_scan_add (&s, l.line, in + name.s, name.e - name.s, in + mac.s,
                         mac.e - mac.s)
          == -1)
      goto out;
  }
  ret = 0;
out:
  return ref_scan_end (&s, ret);
}
