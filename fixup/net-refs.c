/* p2vkit fixup: interface names, MACs, and the lists of them that the
 * scanners fill (see net.h and net-internal.h).
 */
#include "net-internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include "error.h"

/* Bytes an interface name must not hold, besides spaces and controls
 * (see net_name_is_valid in net.h).
 */
#define NAME_FORBIDDEN "/:%*?[]!\"'\\$"

/* The hash table of a scan: twice the names it can hold. */
#define TABLE_SIZE (2 * NET_REFS_MAX)

/* What a scan found: a new name (TARGET is NONE), or the MAC of an entry
 * of the list that had none (TARGET is its index; NAME is NULL).
 */
#define NONE SIZE_MAX
struct pending {
  char *name;
  char *mac;
  size_t target;
};

bool
name_valid (const char *s, size_t len)
{
  size_t i;
  bool digits = true;

  if (len == 0 || len > NET_NAME_MAX)
    return false;
  for (i = 0; i < len; i++) {
    unsigned char c = s[i];

    if (c <= ' ' || c > '~' || strchr (NAME_FORBIDDEN, c) != NULL)
      return false;
    digits = digits && c >= '0' && c <= '9';
  }
  return !digits && !span_is (s, 0, len, ".") && !span_is (s, 0, len, "..")
    && !span_is (s, 0, len, "all") && !span_is (s, 0, len, "default");
}

bool
net_name_is_valid (const char *name)
{
  return name != NULL && name_valid (name, strnlen (name, NET_NAME_MAX + 1));
}

static int
hex_digit (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool
mac_parse (const char *s, size_t len, char out[NET_MAC_SIZE])
{
  static const char hex[] = "0123456789abcdef";
  unsigned char octets[6];
  size_t i, n = 0, group, digits_per;
  char sep;

  /* 6 groups of 2 digits with ':' or '-', or 3 of 4 with '.'. */
  if (len == 17 && (s[2] == ':' || s[2] == '-')) {
    sep = s[2];
    digits_per = 2;
  }
  else if (len == 14 && s[4] == '.') {
    sep = '.';
    digits_per = 4;
  }
  else
    return false;
  for (i = 0; i < len; i += digits_per + 1) {
    for (group = 0; group < digits_per; group += 2) {
      int hi = hex_digit (s[i + group]), lo = hex_digit (s[i + group + 1]);

      if (hi < 0 || lo < 0)
        return false;
      octets[n++] = hi << 4 | lo;
    }
    if (i + digits_per < len && s[i + digits_per] != sep)
      return false;
  }
  /* What the kernel takes as a NIC's address (is_valid_ether_addr). */
  if ((octets[0] & 1) != 0
      || (octets[0] | octets[1] | octets[2] | octets[3] | octets[4] | octets[5])
        == 0)
    return false;
  for (i = 0; i < 6; i++) {
    out[i * 3] = hex[octets[i] >> 4];
    out[i * 3 + 1] = hex[octets[i] & 15];
    out[i * 3 + 2] = i < 5 ? ':' : '\0';
  }
  return true;
}

int
net_mac_normalize (const char *in, char out[NET_MAC_SIZE])
{
  char buf[SHOW_SIZE];
  size_t len;

  if (in == NULL)
    return error ("no MAC address");
  len = strnlen (in, SHOW_MAX + 1);
  if (!mac_parse (in, len, out))
    return error ("'%s': not a MAC address", show (in, len, buf));
  return 0;
}

/* net_mac_random's first octet: the low four bits say locally
 * administered, unicast, and SLAP's quadrant for administrators (AAI);
 * the high four are random.
 */
#define MAC_LOCAL_MASK 0x0f
#define MAC_LOCAL_AAI 0x02

int
net_mac_random (char out[NET_MAC_SIZE])
{
  unsigned char octets[6];
  size_t got = 0;
  ssize_t r;

  while (got < sizeof octets) {
    r = getrandom (octets + got, sizeof octets - got, 0);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return error_errno (errno, "getrandom");
    }
    got += r;
  }
  octets[0] = (octets[0] & ~MAC_LOCAL_MASK) | MAC_LOCAL_AAI;
  snprintf (out, NET_MAC_SIZE, "%02x:%02x:%02x:%02x:%02x:%02x", octets[0],
            octets[1], octets[2], octets[3], octets[4], octets[5]);
  return 0;
}

bool
is_glob (const char *in, size_t s, size_t e)
{
  for (; s < e; s++)
    if (in[s] == '*' || in[s] == '?' || in[s] == '[')
      return true;
  return false;
}

/* The index of NAME in REFS, or NONE. */
static size_t
find (const struct net_refs *refs, const char *name)
{
  size_t i;

  for (i = 0; i < refs->n; i++)
    if (strcmp (refs->refs[i].name, name) == 0)
      return i;
  return NONE;
}

const struct net_ref *
net_refs_find (const struct net_refs *refs, const char *name)
{
  size_t i = find (refs, name);

  return i == NONE ? NULL : &refs->refs[i];
}

void
net_refs_free (struct net_refs *refs)
{
  size_t i;

  for (i = 0; i < refs->n; i++) {
    free (refs->refs[i].name);
    free (refs->refs[i].mac);
  }
  free (refs->refs);
  memset (refs, 0, sizeof *refs);
}

/* Make room for N more entries in REFS. */
static int
refs_reserve (struct net_refs *refs, size_t n)
{
  struct net_ref *r;
  size_t alloc;

  if (refs->n + n <= refs->alloc)
    return 0;
  alloc = refs->alloc ? refs->alloc : 8;
  while (alloc < refs->n + n)
    alloc *= 2;
  r = realloc (refs->refs, alloc * sizeof *r);
  if (r == NULL)
    return error_errno (errno, "interface list");
  refs->refs = r;
  refs->alloc = alloc;
  return 0;
}

int
net_refs_add (struct net_refs *refs, const char *name, const char *mac)
{
  char norm[NET_MAC_SIZE], buf[SHOW_SIZE];
  struct net_ref *r;
  char *n = NULL, *m = NULL;
  size_t i;

  if (name == NULL)
    return error ("no interface name");
  if (!net_name_is_valid (name))
    return error ("'%s': not a valid interface name",
                  show (name, strlen (name), buf));
  if (mac != NULL && net_mac_normalize (mac, norm) == -1)
    return error_prefix ("%s", name);

  i = find (refs, name);
  if (i != NONE) {
    r = &refs->refs[i];
    if (mac == NULL || (r->mac != NULL && strcmp (r->mac, norm) == 0))
      return 0;
    if (r->mac != NULL)
      return error ("%s: MAC %s, and also %s", name, r->mac, norm);
    if ((r->mac = strdup (norm)) == NULL)
      return error_errno (errno, "interface list");
    return 0;
  }

  if (refs->n >= NET_REFS_MAX)
    return error ("%s: more than %d interfaces", name, NET_REFS_MAX);
  if (refs_reserve (refs, 1) == -1)
    return -1;
  if ((n = strdup (name)) == NULL || (mac && (m = strdup (norm)) == NULL)) {
    free (n);
    return error_errno (errno, "interface list");
  }
  refs->refs[refs->n].name = n;
  refs->refs[refs->n].mac = m;
  refs->n++;
  return 0;
}

/* FNV-1a, seeded, with a final mix so that the low bits vary. */
static uint32_t
hash (uint32_t seed, const char *s, size_t len)
{
  uint32_t h = 2166136261u ^ seed;
  size_t i;

  for (i = 0; i < len; i++) {
    h ^= (unsigned char) s[i];
    h *= 16777619u;
  }
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  return h;
}

/* The name and MAC of the entry at index C of the list as the scan sees
 * it: the list's entries, then the pending ones.
 */
static const char *
entry_name (const struct ref_scan *s, size_t c)
{
  const struct pending *p;

  if (c < s->n0)
    return s->refs->refs[c].name;
  p = &s->p[c - s->n0];
  return p->target == NONE ? p->name : s->refs->refs[p->target].name;
}

static const char *
entry_mac (const struct ref_scan *s, size_t c)
{
  return c < s->n0 ? s->refs->refs[c].mac : s->p[c - s->n0].mac;
}

/* The slot of NAME in the table: its entry's, or the free one where it
 * would go.  The table is never full (at most NET_REFS_MAX entries).
 */
static size_t
slot (const struct ref_scan *s, const char *name, size_t len)
{
  size_t i = hash (s->seed, name, len) & (TABLE_SIZE - 1);

  while (s->table[i] != 0) {
    const char *n = entry_name (s, s->table[i] - 1);

    if (strlen (n) == len && memcmp (n, name, len) == 0)
      return i;
    i = (i + 1) & (TABLE_SIZE - 1);
  }
  return i;
}

int
ref_scan_begin (struct ref_scan *s, const char *in, size_t len,
                struct net_refs *refs)
{
  size_t i;

  memset (s, 0, sizeof *s);
  if (rewrite_check_input (in, len) == -1)
    return -1;
  s->refs = refs;
  s->n0 = refs->n;
  s->log_n = refs->log ? refs->log->n : 0;
  s->log_dropped = refs->log ? refs->log->n_dropped : 0;
  s->table = calloc (TABLE_SIZE, sizeof *s->table);
  if (s->table == NULL)
    return error_errno (errno, "interface list");
  /* A seed that a file cannot know, so that it cannot make its names
   * collide.
   */
  s->seed = (uint32_t) ((uintptr_t) s->table >> 4) ^ 0x9e3779b9u;
  for (i = 0; i < s->n0 && i < NET_REFS_MAX; i++) {
    const char *n = refs->refs[i].name;
    size_t j = slot (s, n, strlen (n));

    if (s->table[j] == 0)
      s->table[j] = i + 1;
  }
  return 0;
}

static int
add_pending (struct ref_scan *s, const char *name, size_t name_len,
             const char *mac, size_t target)
{
  struct pending *p;

  if (s->np == s->palloc) {
    size_t alloc = s->palloc ? s->palloc * 2 : 8;

    p = realloc (s->p, alloc * sizeof *p);
    if (p == NULL)
      return error_errno (errno, "interface list");
    s->p = p;
    s->palloc = alloc;
  }
  p = &s->p[s->np];
  p->name = NULL;
  p->mac = NULL;
  p->target = target;
  if ((name != NULL && (p->name = strndup (name, name_len)) == NULL)
      || (mac != NULL && (p->mac = strdup (mac)) == NULL)) {
    free (p->name);
    return error_errno (errno, "interface list");
  }
  s->np++;
  return 0;
}

int
ref_scan_add (struct ref_scan *s, size_t line, const char *name,
              size_t name_len, const char *mac, size_t mac_len)
{
  struct rewrite_log *log = s->refs->log;
  char norm[NET_MAC_SIZE], buf[SHOW_SIZE], buf2[SHOW_SIZE];
  const char *m = NULL, *old;
  size_t i, c;

  if (span_is (name, 0, name_len, "lo"))
    return 0;
  if (!name_valid (name, name_len))
    return log_warning (log, line, "'%s': not a valid interface name: skipped",
                        show (name, name_len, buf));
  if (mac_len > 0) {
    if (mac_parse (mac, mac_len, norm))
      m = norm;
    else if (log_warning (log, line, "%s: '%s': not a MAC address: ignored",
                          show (name, name_len, buf), show (mac, mac_len, buf2))
             == -1)
      return -1;
  }

  i = slot (s, name, name_len);
  if (s->table[i] == 0) {
    if (s->n0 + s->n_new >= NET_REFS_MAX) {
      if (s->full)
        return 0;
      s->full = true;
      return log_warning (log, line,
                          "more than %d interface names: '%s' and the "
                          "names after it skipped",
                          NET_REFS_MAX, show (name, name_len, buf));
    }
    if (add_pending (s, name, name_len, m, NONE) == -1)
      return -1;
    s->n_new++;
    s->table[i] = s->n0 + s->np;
    return 1;
  }

  c = s->table[i] - 1;
  old = entry_mac (s, c);
  if (m == NULL || (old != NULL && strcmp (old, m) == 0))
    return 1;
  if (old != NULL)
    return log_warning (log, line, "%s: MAC %s, and also %s: kept %s",
                        show (name, name_len, buf), old, m, old)
        == -1
      ? -1
      : 1;
  if (c >= s->n0) {
    if ((s->p[c - s->n0].mac = strdup (m)) == NULL)
      return error_errno (errno, "interface list");
    return 1;
  }
  /* An entry of the list without a MAC: the pending one stands for it
   * from now on.
   */
  if (add_pending (s, NULL, 0, m, c) == -1)
    return -1;
  s->table[i] = s->n0 + s->np;
  return 1;
}

int
ref_scan_end (struct ref_scan *s, int ret)
{
  struct net_refs *refs = s->refs;
  size_t i, n_new = s->n_new;

  if (ret == 0 && refs_reserve (refs, n_new) == -1)
    ret = -1;
  for (i = 0; i < s->np; i++) {
    struct pending *p = &s->p[i];

    if (ret == -1) {
      free (p->name);
      free (p->mac);
    }
    else if (p->target != NONE)
      refs->refs[p->target].mac = p->mac;
    else {
      refs->refs[refs->n].name = p->name;
      refs->refs[refs->n].mac = p->mac;
      refs->n++;
    }
  }
  if (ret == -1 && refs->log != NULL)
    log_truncate (refs->log, s->log_n, s->log_dropped);
  free (s->p);
  free (s->table);
  memset (s, 0, sizeof *s);
  return ret == -1 ? -1 : (int) n_new;
}
