/* libFuzzer target for the fixup's network and Xorg rules (fixup/net.h):
 * what p2v-fixup reads from a guest's ifupdown, systemd-networkd,
 * NetworkManager, ifcfg, netplan, udev rules and Xorg files.
 *
 * The input, any bytes, goes to every scanner and every rewriter, and the
 * contract is checked:
 *
 * - a failure is one line of message, for an input with a NUL byte only
 *   (the fuzzer's inputs are below the size limit), and leaves the list,
 *   the output and the log as they were;
 * - a scanner's list holds valid names, each once, with normalised MACs
 *   or none, at most NET_REFS_MAX of them, and the count it returns is
 *   the count of names added; the same input scanned again changes
 *   nothing;
 * - a rewriter's output is NUL-terminated; replaying its log on the input
 *   gives the output line by line: a line changed is the line commented
 *   out (NET_COMMENT in front) or with one word replaced by dhcp, yes or
 *   auto, a line added is one of the few the rewriters add, and every
 *   other line is byte for byte the same; the count returned is the count
 *   of changes; a second pass over the output changes nothing;
 * - every warning is one line of printable ASCII about a line of the
 *   input;
 * - the input's first line, as a name and as a MAC: net_name_is_valid,
 *   net_mac_normalize and net_link_file agree.
 *
 *   make tests/fuzz/fuzz-net
 *   tests/fuzz/fuzz-net -max_len=65536 tests/fuzz/fuzz-net-corpus
 */
#include "net.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const struct {
  const char *name;
  net_scan_fn *fn;
} scanners[] = {
  { "scan_ifupdown", net_scan_ifupdown },
  { "scan_networkd", net_scan_networkd },
  { "scan_nm_keyfile", net_scan_nm_keyfile },
  { "scan_ifcfg", net_scan_ifcfg },
  { "scan_netplan", net_scan_netplan },
  { "scan_udev_rules", net_scan_udev_rules },
};

static const struct {
  const char *name;
  net_rewrite_fn *fn;
} rewriters[] = {
  { "dhcp_ifupdown", net_dhcp_ifupdown },
  { "dhcp_networkd", net_dhcp_networkd },
  { "dhcp_nm_keyfile", net_dhcp_nm_keyfile },
  { "dhcp_ifcfg", net_dhcp_ifcfg },
  { "xorg_remove_drivers", xorg_remove_drivers },
};

/* The only lines a rewriter adds. */
static const char *const added_lines[]
  = { "DHCP=yes", "[Network]", "BOOTPROTO=dhcp" };

/* The only words a rewriter puts in place of another. */
static const char *const new_words[] = { "dhcp", "yes", "auto" };

static void
broken (const char *who, const char *what)
{
  fprintf (stderr, "fuzz-net: %s: contract broken: %s (%s)\n", who, what,
           error_message ());
  abort ();
}

static size_t
count_lines (const char *in, size_t len)
{
  size_t n = 0, i;

  for (i = 0; i < len; i++)
    n += in[i] == '\n';
  return n + (len > 0 && in[len - 1] != '\n');
}

/* The log of a scan (ORDERED false: a scanner may warn about a name
 * after reading the file) or of a rewriter.
 */
static void
check_log (const char *who, const struct rewrite_log *log, size_t n_lines,
           bool ordered)
{
  size_t i;

  for (i = 0; i < log->n; i++) {
    const struct rewrite_log_entry *e = &log->entries[i];
    const unsigned char *m;

    if (e->file == NULL || strcmp (e->file, "f") != 0 || e->line < 1
        || e->line > n_lines)
      broken (who, "log entry without its file and line");
    if (ordered && i > 0 && e->line < log->entries[i - 1].line)
      broken (who, "log entries out of line order");
    if (e->kind == REWRITE_CHANGE) {
      if (e->old_text == NULL || e->new_text == NULL || e->message != NULL
          || strchr (e->old_text, '\n') || strchr (e->new_text, '\n'))
        broken (who, "bad change entry");
      continue;
    }
    if (e->message == NULL || e->old_text != NULL || e->new_text != NULL)
      broken (who, "bad warning entry");
    for (m = (const unsigned char *) e->message; *m; m++)
      if (*m < ' ' || *m > '~')
        broken (who, "warning not printable ASCII");
  }
}

/* The line at *P of TEXT, as in tests/unit/test-net.c: its length with
 * (*LEN) and without (*CLEN) its line end.
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

/* Is NEW (a line changed) OLD commented out, or OLD with one word
 * replaced by one of NEW_WORDS?
 */
static bool
good_change (const char *old, const char *new)
{
  size_t ol = strlen (old), nl = strlen (new), pre = 0, suf = 0, i;

  if (nl == ol + strlen (NET_COMMENT)
      && memcmp (new, NET_COMMENT, strlen (NET_COMMENT)) == 0
      && memcmp (new + strlen (NET_COMMENT), old, ol) == 0)
    return true;
  while (pre < ol && pre < nl && old[pre] == new[pre])
    pre++;
  while (suf < ol - pre && suf < nl - pre
         && old[ol - 1 - suf] == new[nl - 1 - suf])
    suf++;
  for (i = 0; i < sizeof new_words / sizeof new_words[0]; i++)
    if (memmem (new_words[i], strlen (new_words[i]), new + pre, nl - pre - suf))
      return true;
  return false;
}

static bool
good_added (const char *text)
{
  size_t i;

  for (i = 0; i < sizeof added_lines / sizeof added_lines[0]; i++)
    if (strcmp (text, added_lines[i]) == 0)
      return true;
  return false;
}

/* Replay the log of a rewriter on IN; it must give OUT. */
static void
check_replay (const char *who, const char *in, size_t in_len, const char *out,
              size_t out_len, const struct rewrite_log *log)
{
  size_t ip = 0, op = 0, line = 0, k = 0;
  size_t alen, aclen, blen, bclen;
  const char *a, *b;

  for (;;) {
    for (; k < log->n && log->entries[k].line <= line; k++) {
      const struct rewrite_log_entry *e = &log->entries[k];

      if (e->kind != REWRITE_CHANGE || e->old_text[0] != '\0')
        continue;
      b = take_line (out, out_len, &op, &blen, &bclen);
      if (b == NULL || strlen (e->new_text) != bclen
          || memcmp (b, e->new_text, bclen) != 0 || !good_added (e->new_text))
        broken (who, "a line added is not in the output, or odd");
    }
    a = take_line (in, in_len, &ip, &alen, &aclen);
    if (a == NULL)
      break;
    line++;
    b = take_line (out, out_len, &op, &blen, &bclen);
    if (b == NULL)
      broken (who, "fewer lines out than in");
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
          || memcmp (a + aclen, b + bclen, alen - aclen) != 0)
        broken (who, "a change in the log is not the line");
      if (!good_change (e->old_text, e->new_text))
        broken (who, "a line changed in an unexpected way");
    }
    else if (alen != blen || memcmp (a, b, alen) != 0)
      broken (who, "a line changed without a log entry");
  }
  for (; k < log->n; k++) {
    const struct rewrite_log_entry *e = &log->entries[k];

    if (e->kind != REWRITE_CHANGE || e->old_text[0] != '\0')
      continue;
    b = take_line (out, out_len, &op, &blen, &bclen);
    if (b == NULL || strlen (e->new_text) != bclen
        || memcmp (b, e->new_text, bclen) != 0 || !good_added (e->new_text))
      broken (who, "a line added at the end is not in the output, or odd");
  }
  if (op != out_len)
    broken (who, "more lines out than the log says");
}

static void
check_refs (const char *who, const struct net_refs *refs)
{
  char norm[NET_MAC_SIZE];
  size_t i, j;

  if (refs->n > NET_REFS_MAX)
    broken (who, "too many names");
  for (i = 0; i < refs->n; i++) {
    const struct net_ref *r = &refs->refs[i];

    if (!net_name_is_valid (r->name) || strcmp (r->name, "lo") == 0)
      broken (who, "invalid name in the list");
    if (r->mac != NULL
        && (net_mac_normalize (r->mac, norm) == -1 || strcmp (norm, r->mac)))
      broken (who, "MAC not normalised");
    /* Quadratic, but on small lists: fuzz inputs are short. */
    for (j = 0; j < i && refs->n < 200; j++)
      if (strcmp (refs->refs[j].name, r->name) == 0)
        broken (who, "a name twice");
  }
}

static bool
same_refs (const struct net_refs *a, const struct net_refs *b)
{
  size_t i;

  if (a->n != b->n)
    return false;
  for (i = 0; i < a->n; i++)
    if (strcmp (a->refs[i].name, b->refs[i].name) != 0
        || (a->refs[i].mac == NULL) != (b->refs[i].mac == NULL)
        || (a->refs[i].mac && strcmp (a->refs[i].mac, b->refs[i].mac) != 0))
      return false;
  return true;
}

static void
fuzz_scanners (const char *in, size_t size, bool has_nul, size_t n_lines)
{
  size_t i;

  for (i = 0; i < sizeof scanners / sizeof scanners[0]; i++) {
    const char *who = scanners[i].name;
    struct rewrite_log log = { 0 };
    struct net_refs refs = { .log = &log }, copy = { 0 };
    size_t before, j;
    int r;

    /* A list with a name already, without a MAC: a scan may fill it. */
    if (net_refs_add (&refs, "eth0", NULL) == -1
        || rewrite_log_set_file (&log, "f") == -1)
      broken (who, "cannot start");
    before = refs.n;
    error ("%s", "");
    r = scanners[i].fn (in, size, &refs);
    if (r == -1) {
      const char *msg = error_message ();

      if (!has_nul)
        broken (who, "failed on an input without NUL");
      if (msg[0] == '\0' || strchr (msg, '\n') != NULL)
        broken (who, "bad error message");
      if (refs.n != before || refs.refs[0].mac != NULL || log.n != 0)
        broken (who, "failure changed the list or the log");
    }
    else {
      if (has_nul)
        broken (who, "took an input with a NUL byte");
      if ((size_t) r != refs.n - before)
        broken (who, "count of names added");
      check_refs (who, &refs);
      check_log (who, &log, n_lines, false);

      /* Again: nothing new. */
      for (j = 0; j < refs.n; j++)
        if (net_refs_add (&copy, refs.refs[j].name, refs.refs[j].mac) == -1)
          broken (who, "cannot copy the list");
      if (scanners[i].fn (in, size, &refs) != 0 || !same_refs (&refs, &copy))
        broken (who, "a second scan changed the list");
    }
    net_refs_free (&copy);
    net_refs_free (&refs);
    rewrite_log_free (&log);
  }
}

static void
fuzz_rewriters (const char *in, size_t size, bool has_nul, size_t n_lines)
{
  size_t i;

  for (i = 0; i < sizeof rewriters / sizeof rewriters[0]; i++) {
    const char *who = rewriters[i].name;
    struct rewrite_log log = { 0 };
    char *out = NULL, *out2 = NULL;
    size_t out_len = 0, out2_len = 0, j;
    int r, changes = 0;

    if (rewrite_log_set_file (&log, "f") == -1)
      broken (who, "rewrite_log_set_file");
    error ("%s", "");
    r = rewriters[i].fn (in, size, &out, &out_len, &log);
    if (r == -1) {
      const char *msg = error_message ();

      if (!has_nul)
        broken (who, "failed on an input without NUL");
      if (msg[0] == '\0' || strchr (msg, '\n') != NULL)
        broken (who, "bad error message");
      if (out != NULL || log.n != 0)
        broken (who, "failure left output or log");
      rewrite_log_free (&log);
      continue;
    }
    if (has_nul)
      broken (who, "took an input with a NUL byte");
    if (out == NULL || out[out_len] != '\0' || strlen (out) != out_len)
      broken (who, "output not NUL-terminated text");
    for (j = 0; j < log.n; j++)
      changes += log.entries[j].kind == REWRITE_CHANGE;
    if ((log.n_dropped == 0 && r != changes)
        || (r == 0 && (out_len != size || memcmp (out, in, size) != 0)))
      broken (who, "count of changes");
    check_log (who, &log, n_lines, true);
    if (log.n_dropped == 0)
      check_replay (who, in, size, out, out_len, &log);

    if (rewriters[i].fn (out, out_len, &out2, &out2_len, NULL) != 0
        || out2_len != out_len || memcmp (out, out2, out_len) != 0)
      broken (who, "a second pass changed something");
    free (out2);
    free (out);
    rewrite_log_free (&log);
  }
}

/* The first line of the input as a name and as a MAC. */
static void
fuzz_name_mac (const char *in, size_t size)
{
  char s[65], norm[NET_MAC_SIZE], norm2[NET_MAC_SIZE], *text;
  const char *nl = memchr (in, '\n', size);
  size_t len = nl ? (size_t) (nl - in) : size;
  bool valid;

  if (len >= sizeof s || memchr (in, '\0', len) != NULL)
    return;
  memcpy (s, in, len);
  s[len] = '\0';

  valid = net_name_is_valid (s);
  if (valid != (net_link_file (s, "52:54:00:12:34:56", &text) == 0))
    broken ("net_link_file", "disagrees with net_name_is_valid on the name");
  if (valid) {
    if (strstr (text, s) == NULL)
      broken ("net_link_file", "name not in the file");
    free (text);
  }
  if (net_mac_normalize (s, norm) == 0) {
    if (strlen (norm) != NET_MAC_SIZE - 1
        || net_mac_normalize (norm, norm2) == -1 || strcmp (norm, norm2) != 0)
      broken ("net_mac_normalize", "output not normalised");
    if (net_link_file ("eth0", s, &text) == -1 || strstr (text, norm) == NULL)
      broken ("net_link_file", "disagrees with net_mac_normalize");
    free (text);
  }
  else if (net_link_file ("eth0", s, &text) == 0)
    broken ("net_link_file", "took a MAC net_mac_normalize refuses");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *in = (const char *) data;
  bool has_nul = memchr (in, '\0', size) != NULL;
  size_t n_lines = count_lines (in, size);

  fuzz_scanners (in, size, has_nul, n_lines);
  fuzz_rewriters (in, size, has_nul, n_lines);
  fuzz_name_mac (in, size);
  return 0;
}
