/* p2vkit fixup: applying the edits of the network and Xorg rewriters (see
 * net-internal.h).
 */
#include "net-internal.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"

int
edit_init (struct edit *e, const char *in, size_t len)
{
  memset (e, 0, sizeof *e);
  if (rewrite_check_input (in, len) == -1)
    return -1;
  e->in = in;
  e->len = len;
  return 0;
}

void
edit_free (struct edit *e)
{
  size_t i;

  for (i = 0; i < e->n; i++)
    free (e->items[i].message);
  free (e->items);
  e->items = NULL;
  e->n = e->alloc = 0;
}

static int
add_item (struct edit *e, const struct edit_item *item)
{
  /* Rewriters note their edits in input order; replacements never
   * overlap, and stay inside their line.
   */
  assert (e->n == 0 || item->off >= e->items[e->n - 1].off);
  assert (e->n == 0 || e->items[e->n - 1].kind != EDIT_REPLACE
          || item->off >= e->items[e->n - 1].off + e->items[e->n - 1].len);
  assert (item->off + item->len <= e->len
          && memchr (e->in + item->off, '\n', item->len) == NULL);
  if (e->n == e->alloc) {
    size_t alloc = e->alloc ? e->alloc * 2 : 16;
    struct edit_item *items = realloc (e->items, alloc * sizeof *items);

    if (items == NULL)
      return error_errno (errno, "rewrite");
    e->items = items;
    e->alloc = alloc;
  }
  e->items[e->n++] = *item;
  return 0;
}

int
edit_replace (struct edit *e, size_t off, size_t len, const char *text)
{
  struct edit_item item
    = { .kind = EDIT_REPLACE, .off = off, .len = len, .text = text };

  assert (strchr (text, '\n') == NULL && strchr (text, '\r') == NULL);
  return add_item (e, &item);
}

int
edit_add_line (struct edit *e, size_t off, const char *text)
{
  struct edit_item item = { .kind = EDIT_ADD_LINE, .off = off, .text = text };

  assert (text[0] != '\0' && strchr (text, '\n') == NULL
          && strchr (text, '\r') == NULL);
  return add_item (e, &item);
}

int
edit_warning (struct edit *e, size_t off, const char *fmt, ...)
{
  struct edit_item item = { .kind = EDIT_WARNING, .off = off };
  va_list ap;
  int r;

  va_start (ap, fmt);
  r = vasprintf (&item.message, fmt, ap);
  va_end (ap);
  if (r == -1)
    return error_errno (errno, "rewrite");
  if (add_item (e, &item) == -1) {
    free (item.message);
    return -1;
  }
  return 0;
}

/* The line end for a line added after the line IN[LINE_START, LINE_END)
 * (LINE_END is its "\n" or the end of the input) whose contents end at
 * CONTENT_END: its own, or if it has none (the last line), the one of the
 * line before it.
 */
static const char *
line_end_of (const char *in, size_t len, size_t line_start, size_t content_end,
             size_t line_end)
{
  if (content_end < line_end)
    return "\r\n";
  if (line_end == len && line_start >= 2 && in[line_start - 2] == '\r')
    return "\r\n";
  return "\n";
}

int
edit_finish (struct edit *e, char **out, size_t *out_len,
             struct rewrite_log *log)
{
  size_t log_n = log ? log->n : 0, log_dropped = log ? log->n_dropped : 0;
  size_t size = e->len, ipos = 0, opos = 0, i, j, k;
  size_t line = 1, counted = 0, line_start = 0;
  const char *in = e->in;
  int changed = 0, ret = -1;
  char *buf = NULL;

  /* Replacements never overlap: SIZE never goes below 0. */
  for (i = 0; i < e->n; i++)
    if (e->items[i].kind == EDIT_REPLACE)
      size = size - e->items[i].len + strlen (e->items[i].text);
    else if (e->items[i].kind == EDIT_ADD_LINE)
      size += strlen (e->items[i].text) + 2;
  buf = malloc (size + 1);
  if (buf == NULL) {
    ret = error_errno (errno, "rewrite");
    goto out;
  }

  for (i = 0; i < e->n; i = j) {
    size_t off = e->items[i].off, line_end, content_end, new_start;
    const char *nl, *eol;
    bool line_changed = false, after_last;

    /* The line of this item: count the newlines since the last one. */
    while ((nl = memchr (in + counted, '\n', off - counted)) != NULL) {
      line++;
      counted = line_start = nl - in + 1;
    }
    counted = off;
    nl = memchr (in + off, '\n', e->len - off);
    line_end = nl != NULL ? (size_t) (nl - in) : e->len;
    content_end = line_end;
    if (content_end > line_start && in[content_end - 1] == '\r')
      content_end--;
    for (j = i; j < e->n && e->items[j].off <= line_end; j++)
      ;
    /* Lines added at the end of a file whose last line has its "\n". */
    after_last = line_start == e->len;

    memcpy (buf + opos, in + ipos, line_start - ipos);
    opos += line_start - ipos;
    ipos = line_start;
    new_start = opos;
    for (k = i; k < j; k++) {
      const struct edit_item *it = &e->items[k];
      size_t tlen;

      if (it->kind != EDIT_REPLACE)
        continue;
      memcpy (buf + opos, in + ipos, it->off - ipos);
      opos += it->off - ipos;
      tlen = strlen (it->text);
      memcpy (buf + opos, it->text, tlen);
      opos += tlen;
      ipos = it->off + it->len;
      line_changed = true;
    }
    assert (ipos <= content_end);
    memcpy (buf + opos, in + ipos, content_end - ipos);
    opos += content_end - ipos;
    ipos = content_end;
    if (line_changed) {
      /* An empty old text in the log is a line added. */
      assert (content_end > line_start);
      changed++;
      if (log_change (log, line, in + line_start, content_end - line_start,
                      buf + new_start, opos - new_start)
          == -1)
        goto out;
    }

    if (after_last)
      eol = e->len >= 2 && in[e->len - 2] == '\r' ? "\r\n" : "\n";
    else
      eol = line_end_of (in, e->len, line_start, content_end, line_end);
    for (k = i; k < j; k++) {
      const struct edit_item *it = &e->items[k];
      size_t tlen;

      if (it->kind != EDIT_ADD_LINE)
        continue;
      tlen = strlen (it->text);
      if (!after_last) {
        memcpy (buf + opos, eol, strlen (eol));
        opos += strlen (eol);
      }
      memcpy (buf + opos, it->text, tlen);
      opos += tlen;
      if (after_last) {
        memcpy (buf + opos, eol, strlen (eol));
        opos += strlen (eol);
      }
      changed++;
      /* An added line is logged after the line it follows. */
      if (log_change (log, after_last && line > 1 ? line - 1 : line, "", 0,
                      it->text, tlen)
          == -1)
        goto out;
    }
    for (k = i; k < j; k++)
      if (e->items[k].kind == EDIT_WARNING
          && log_warning (log, after_last && line > 1 ? line - 1 : line, "%s",
                          e->items[k].message)
            == -1)
        goto out;
  }
  memcpy (buf + opos, in + ipos, e->len - ipos);
  opos += e->len - ipos;
  buf[opos] = '\0';
  assert (opos <= size);

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
