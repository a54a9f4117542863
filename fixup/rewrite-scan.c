/* p2vkit fixup: finding device names and applying the replacements (see
 * rewrite-internal.h).
 */
#include "rewrite-internal.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define UUID_PREFIX "UUID="
#define UUID_PREFIX_LEN (sizeof UUID_PREFIX - 1)

/* The kernel parameters whose value is a device. */
static const char *const device_params[] = { "root=", "resume=" };

int
rewrite_check_input (const char *in, size_t len)
{
  const char *nul;

  if (len > REWRITE_INPUT_MAX)
    return error ("too large: %zu bytes, the limit is %d", len,
                  REWRITE_INPUT_MAX);
  nul = memchr (in, '\0', len);
  if (nul != NULL)
    return error ("NUL byte at offset %zu: not a text file",
                  (size_t) (nul - in));
  return 0;
}

int
scan_init (struct scan *s, const char *in, size_t len, const struct devmap *map,
           bool decode_octal)
{
  memset (s, 0, sizeof *s);
  if (rewrite_check_input (in, len) == -1)
    return -1;
  s->in = in;
  s->len = len;
  s->map = map;
  s->decode_octal = decode_octal;
  return 0;
}

void
scan_free (struct scan *s)
{
  free (s->items);
  s->items = NULL;
  s->n = s->alloc = 0;
}

bool
next_line (const char *in, size_t len, size_t *pos, size_t *start, size_t *end)
{
  const char *nl;

  if (*pos >= len)
    return false;
  *start = *pos;
  nl = memchr (in + *pos, '\n', len - *pos);
  *end = nl != NULL ? (size_t) (nl - in) : len;
  *pos = nl != NULL ? *end + 1 : len;
  if (*end > *start && in[*end - 1] == '\r')
    (*end)--;
  return true;
}

static bool
is_octal (char c)
{
  return c >= '0' && c <= '7';
}

/* Decode the escapes of an fstab field as libmount does (\ and three
 * octal digits, and \\ as glibc's getmntent also takes) from S of LEN
 * bytes into BUF, which has room for LEN bytes.  Returns the length.
 */
static size_t
decode_octal (const char *s, size_t len, char *buf)
{
  size_t i = 0, n = 0;

  while (i < len) {
    if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3'
        && is_octal (s[i + 2]) && is_octal (s[i + 3])) {
      buf[n++] = (char) ((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3
                         | (s[i + 3] - '0'));
      i += 4;
    }
    else if (s[i] == '\\' && i + 1 < len && s[i + 1] == '\\') {
      buf[n++] = '\\';
      i += 2;
    }
    else
      buf[n++] = s[i++];
  }
  return n;
}

static int
add_item (struct scan *s, size_t off, size_t len, const char *uuid)
{
  /* The parsers find names in order, and names never overlap. */
  assert (s->n == 0 || off >= s->items[s->n - 1].off + s->items[s->n - 1].len);
  assert (off + len <= s->len && memchr (s->in + off, '\n', len) == NULL);
  if (s->n == s->alloc) {
    size_t alloc = s->alloc ? s->alloc * 2 : 16;
    struct scan_item *items = realloc (s->items, alloc * sizeof *items);

    if (items == NULL)
      return error_errno (errno, "rewrite");
    s->items = items;
    s->alloc = alloc;
  }
  s->items[s->n].off = off;
  s->items[s->n].len = len;
  s->items[s->n].uuid = uuid;
  s->n++;
  return 0;
}

int
scan_device (struct scan *s, size_t off, size_t len)
{
  char decoded[DEVMAP_NAME_MAX];
  const char *name = s->in + off;
  size_t name_len = len;
  const char *uuid;

  /* A quoted word may go on over lines; a name never does (and the log
   * shows lines).
   */
  if (memchr (name, '\n', len) != NULL)
    return 0;
  /* A name longer than DEVMAP_NAME_MAX is in no map: it is looked at as it
   * is, without decoding.
   */
  if (s->decode_octal && len <= sizeof decoded && memchr (name, '\\', len)) {
    name_len = decode_octal (name, len, decoded);
    name = decoded;
  }
  uuid = devmap_lookup (s->map, name, name_len);
  if (uuid != NULL)
    return add_item (s, off, len, uuid);
  if (devmap_name_is_unstable (name, name_len))
    return add_item (s, off, len, NULL);
  return 0;
}

int
scan_cmdline_word (struct scan *s, size_t off, size_t len, const char *quotes)
{
  const char *w = s->in + off;
  size_t i;

  for (i = 0; i < sizeof device_params / sizeof device_params[0]; i++) {
    size_t plen = strlen (device_params[i]);

    if (len < plen || memcmp (w, device_params[i], plen) != 0)
      continue;
    off += plen;
    len -= plen;
    /* root="/dev/sda3": the kernel (or GRUB's script) drops the quotes,
     * and so do we.
     */
    if (len >= 2 && s->in[off] != '\0' && strchr (quotes, s->in[off]) != NULL
        && s->in[off + len - 1] == s->in[off]) {
      off++;
      len -= 2;
    }
    if (len == 0)
      return 0;
    return scan_device (s, off, len);
  }
  return 0;
}

int
scan_cmdline_words (struct scan *s, size_t start, size_t end,
                    const char *quotes)
{
  size_t i = start;

  while (i < end) {
    size_t word;
    char quote = 0;

    while (i < end && is_space (s->in[i]))
      i++;
    if (i == end)
      break;
    word = i;
    for (; i < end; i++) {
      char c = s->in[i];

      if (quote == 0 && is_space (c))
        break;
      if (quote != 0 && c == quote)
        quote = 0;
      else if (quote == 0 && c != '\0' && strchr (quotes, c) != NULL)
        quote = c;
    }
    if (scan_cmdline_word (s, word, i - word, quotes) == -1)
      return -1;
  }
  return 0;
}

/* Apply the replacements.  The output is written in one pass; each line
 * with items is written as a whole, so that the log can show it before
 * (from the input) and after (from the output).
 */
int
scan_finish (struct scan *s, char **out, size_t *out_len,
             struct rewrite_log *log)
{
  size_t log_n = log ? log->n : 0, log_dropped = log ? log->n_dropped : 0;
  size_t size = s->len, ipos = 0, opos = 0, i, j;
  size_t line = 1, counted = 0, line_start = 0;
  int changed = 0, ret = -1;
  char *buf = NULL;

  /* Names do not overlap: SIZE never goes below 0. */
  for (i = 0; i < s->n; i++)
    if (s->items[i].uuid != NULL)
      size
        = size - s->items[i].len + UUID_PREFIX_LEN + strlen (s->items[i].uuid);
  buf = malloc (size + 1);
  if (buf == NULL) {
    ret = error_errno (errno, "rewrite");
    goto out;
  }

  for (i = 0; i < s->n; i = j) {
    size_t off = s->items[i].off, line_end, end, new_start;
    const char *nl;
    bool line_changed = false;

    /* The line of this item: count the newlines since the last one. */
    while ((nl = memchr (s->in + counted, '\n', off - counted)) != NULL) {
      line++;
      counted = line_start = nl - s->in + 1;
    }
    counted = off;
    nl = memchr (s->in + off, '\n', s->len - off);
    line_end = nl != NULL ? (size_t) (nl - s->in) : s->len;
    end = line_end;
    if (end > line_start && s->in[end - 1] == '\r')
      end--;

    /* Copy up to the line, then the line with its replacements. */
    memcpy (buf + opos, s->in + ipos, line_start - ipos);
    opos += line_start - ipos;
    ipos = line_start;
    new_start = opos;
    for (j = i; j < s->n && s->items[j].off < line_end; j++) {
      const struct scan_item *it = &s->items[j];
      size_t ulen;

      if (it->uuid == NULL)
        continue;
      memcpy (buf + opos, s->in + ipos, it->off - ipos);
      opos += it->off - ipos;
      memcpy (buf + opos, UUID_PREFIX, UUID_PREFIX_LEN);
      opos += UUID_PREFIX_LEN;
      ulen = strlen (it->uuid);
      memcpy (buf + opos, it->uuid, ulen);
      opos += ulen;
      ipos = it->off + it->len;
      line_changed = true;
    }
    /* A replaced name is from the map: it holds no "\r". */
    assert (ipos <= end);
    memcpy (buf + opos, s->in + ipos, end - ipos);
    opos += end - ipos;
    ipos = end;

    if (line_changed) {
      changed++;
      if (log_change (log, line, s->in + line_start, end - line_start,
                      buf + new_start, opos - new_start)
          == -1)
        goto out;
    }
    for (; i < j; i++)
      if (s->items[i].uuid == NULL
          && log_unknown_device (log, line, s->in + s->items[i].off,
                                 s->items[i].len)
            == -1)
        goto out;
  }
  memcpy (buf + opos, s->in + ipos, s->len - ipos);
  opos += s->len - ipos;
  buf[opos] = '\0';
  assert (opos == size);

  *out = buf;
  *out_len = opos;
  buf = NULL;
  ret = changed;
out:
  if (ret == -1 && log != NULL)
    log_truncate (log, log_n, log_dropped);
  free (buf);
  return ret;
}
