/* p2vkit fixup: reading the guest's network and Xorg files: lines, words,
 * ini-style and shell lines, messages (see net-internal.h).
 */
#include "net-internal.h"

#include <stdio.h>
#include <strings.h>

const char *
show (const char *s, size_t len, char buf[SHOW_SIZE])
{
  size_t i, n = 0;

  for (i = 0; i < len && i < SHOW_MAX; i++) {
    unsigned char c = s[i];

    if (c < ' ' || c > '~' || c == '\'' || c == '\\')
      n += snprintf (buf + n, SHOW_SIZE - n, "\\x%02x", c);
    else
      buf[n++] = c;
  }
  if (i < len)
    n += snprintf (buf + n, SHOW_SIZE - n, "...");
  buf[n] = '\0';
  return buf;
}

void
lines_init (struct lines *it, const char *in, size_t len, enum cont_mode mode,
            const char *comments)
{
  it->in = in;
  it->len = len;
  it->mode = mode;
  it->comments = comments;
  it->pos = 0;
  it->lineno = 1;
}

static size_t
skip_ws (const char *in, size_t s, size_t e)
{
  while (s < e && is_ws (in[s]))
    s++;
  return s;
}

/* Is IN[S, E) a comment line? */
static bool
is_comment (const struct lines *it, size_t s, size_t e)
{
  size_t f = skip_ws (it->in, s, e);

  return f < e && it->in[f] != '\0' && strchr (it->comments, it->in[f]);
}

/* Does the line IN[S, E) go on on the next one? */
static bool
continues (const struct lines *it, size_t s, size_t e)
{
  size_t n = 0;

  switch (it->mode) {
  case CONT_NONE:
    return false;
  case CONT_IFUPDOWN:
    return e > s && it->in[e - 1] == '\\';
  case CONT_SYSTEMD:
    /* systemd reads "\\" as an escaped backslash. */
    while (e > s && it->in[e - 1] == '\\') {
      n++;
      e--;
    }
    return n % 2 == 1;
  }
  return false;
}

bool
lines_next (struct lines *it, struct lline *l)
{
  size_t s, e;
  bool more;

  if (!next_line (it->in, it->len, &it->pos, &s, &e))
    return false;
  l->start = s;
  l->line = it->lineno++;
  l->first = skip_ws (it->in, s, e);
  l->comment = is_comment (it, s, e);
  more = !(l->comment && it->mode == CONT_SYSTEMD) && continues (it, s, e);
  while (more && next_line (it->in, it->len, &it->pos, &s, &e)) {
    it->lineno++;
    if (it->mode == CONT_SYSTEMD && is_comment (it, s, e))
      continue;
    more = continues (it, s, e);
  }
  l->end = e;
  return true;
}

/* If a line end, with the backslash before it, starts at P: the position
 * after it and after the comment lines CONT_SYSTEMD skips there.  Else P.
 */
static size_t
skip_line_end (const struct lines *it, size_t p, size_t end)
{
  const char *in = it->in;
  size_t q = p;

  if (q < end && in[q] == '\\')
    q++;
  if (q < end && in[q] == '\r')
    q++;
  if (q >= end || in[q] != '\n')
    return p;
  q++;
  while (it->mode == CONT_SYSTEMD && q < end) {
    const char *nl = memchr (in + q, '\n', end - q);
    size_t e = nl != NULL ? (size_t) (nl - in) : end;

    if (!is_comment (it, q, e))
      break;
    q = nl != NULL ? e + 1 : end;
  }
  return q;
}

size_t
skip_gap (const struct lines *it, size_t p, size_t end)
{
  for (;;) {
    size_t q;

    p = skip_ws (it->in, p, end);
    q = skip_line_end (it, p, end);
    if (q == p)
      return p;
    p = q;
  }
}

bool
words_next (const struct lines *it, size_t *i, size_t end, size_t *ws,
            size_t *we)
{
  const char *in = it->in;
  size_t p = skip_gap (it, *i, end);

  if (p >= end) {
    *i = end;
    return false;
  }
  *ws = p;
  while (p < end && !is_ws (in[p]) && skip_line_end (it, p, end) == p)
    p++;
  *we = *i = p;
  return true;
}

bool
span_is_nocase (const char *in, size_t s, size_t e, const char *word)
{
  size_t n = strlen (word);

  return e - s == n && strncasecmp (in + s, word, n) == 0;
}

int
comment_out (struct edit *e, const struct lines *it, const struct lline *l)
{
  size_t p = l->start;

  for (;;) {
    const char *nl = memchr (it->in + p, '\n', l->end - p);
    size_t line_end = nl != NULL ? (size_t) (nl - it->in) : l->end;

    /* A blank line adds nothing to the line it goes on (and a changed
     * line is never empty: the log's empty old text is for lines added).
     */
    if (skip_ws (it->in, p, line_end) < line_end
        && !(p != l->start && it->mode == CONT_SYSTEMD
             && is_comment (it, p, line_end))
        && edit_replace (e, p, 0, NET_COMMENT) == -1)
      return -1;
    if (nl == NULL)
      return 0;
    p = line_end + 1;
  }
}

void
ini_parse (const struct lines *it, const struct lline *l, struct ini *p)
{
  const char *in = it->in, *eq;
  size_t s = l->first, e = l->end;

  p->kind = INI_OTHER;
  if (l->comment || s >= e)
    return;
  while (e > s && is_ws (in[e - 1]))
    e--;
  if (in[s] == '[') {
    if (e - s >= 2 && in[e - 1] == ']') {
      p->kind = INI_SECTION;
      p->name = s + 1;
      p->name_end = e - 1;
    }
    return;
  }
  eq = memchr (in + s, '=', e - s);
  if (eq == NULL)
    return;
  p->kind = INI_KEY;
  p->name = s;
  p->name_end = eq - in;
  while (p->name_end > s && is_ws (in[p->name_end - 1]))
    p->name_end--;
  p->value = skip_gap (it, eq - in + 1, e);
  p->value_end = e > p->value ? e : p->value;
}

static bool
is_name_char (char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
    || (c >= '0' && c <= '9') || c == '_';
}

bool
shell_assignment (const char *in, size_t start, size_t end, size_t *name,
                  size_t *name_end, size_t *value, size_t *value_end)
{
  size_t i = skip_ws (in, start, end);

  *name = i;
  while (i < end && is_name_char (in[i]))
    i++;
  if (i == *name || i == end || in[i] != '='
      || (in[*name] >= '0' && in[*name] <= '9'))
    return false;
  *name_end = i++;
  if (i < end && (in[i] == '"' || in[i] == '\'')) {
    char quote = in[i++];

    *value = i;
    while (i < end && in[i] != quote) {
      if (quote == '"' && in[i] == '\\' && i + 1 < end)
        i++;
      i++;
    }
    if (i >= end)
      return false;
    *value_end = i;
    return true;
  }
  *value = i;
  while (i < end && !is_ws (in[i]))
    i++;
  *value_end = i;
  return true;
}
