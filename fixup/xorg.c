/* p2vkit fixup: taking the old machine's graphics driver out of the Xorg
 * configuration (see net.h, xorg_remove_drivers).
 *
 * Xorg's configuration is a stream of tokens: keywords, numbers, "..."
 * strings; '#' outside a string starts a comment to the end of the line.
 * Entries are a keyword and its arguments, usually one a line, between
 * Section "NAME" and EndSection.  The reader below goes through the
 * tokens line by line, follows the sections, and comments out the Driver
 * and BusID lines of Device sections.
 */
#include "net-internal.h"

#include <ctype.h>

/* The drivers that work on any hardware: kernel modesetting, the
 * framebuffer, VESA.
 */
static const char *const generic_drivers[] = { "modesetting", "fbdev", "vesa" };

struct token {
  size_t s, e; /* without the quotes */
  bool quoted;
};

/* The next token of IN[*I, END), up to a comment; false if none.  A
 * string that does not end on its line ends there.
 */
static bool
next_token (const char *in, size_t *i, size_t end, struct token *t)
{
  size_t p = *i;

  while (p < end && is_ws (in[p]))
    p++;
  if (p == end || in[p] == '#') {
    *i = end;
    return false;
  }
  if (in[p] == '"') {
    const char *q = memchr (in + p + 1, '"', end - p - 1);

    t->s = p + 1;
    t->e = q != NULL ? (size_t) (q - in) : end;
    t->quoted = true;
    *i = q != NULL ? t->e + 1 : end;
    return true;
  }
  t->s = p;
  while (p < end && !is_ws (in[p]) && in[p] != '"' && in[p] != '#')
    p++;
  t->e = *i = p;
  t->quoted = false;
  return true;
}

/* Does the token T spell WORD (lower case) as Xorg compares names
 * (xf86nameCompare): without case, '_' and blanks?
 */
static bool
name_is (const char *in, const struct token *t, const char *word)
{
  size_t i = t->s;

  for (; *word != '\0'; word++) {
    while (i < t->e && (in[i] == '_' || is_ws (in[i])))
      i++;
    if (i == t->e || tolower ((unsigned char) in[i]) != *word)
      return false;
    i++;
  }
  while (i < t->e && (in[i] == '_' || is_ws (in[i])))
    i++;
  return i == t->e;
}

static bool
keyword_is (const char *in, const struct token *t, const char *word)
{
  return !t->quoted && name_is (in, t, word);
}

static bool
is_generic (const char *in, const struct token *t)
{
  size_t i;

  for (i = 0; i < sizeof generic_drivers / sizeof generic_drivers[0]; i++)
    if (span_is_nocase (in, t->s, t->e, generic_drivers[i]))
      return true;
  return false;
}

/* The Driver or BusID entry KEY of a Device section, the FIRST token of
 * the line IN[*I, END) or not: comment the line out if the entry is all
 * it holds, else warn.
 */
static int
device_entry (struct edit *e, const char *in, const struct lline *l, size_t *i,
              const struct token *key, bool first)
{
  bool driver = keyword_is (in, key, "driver");
  const char *what = driver ? "Driver" : "BusID";
  char buf[SHOW_SIZE];
  struct token value, more;
  size_t after;

  if (!next_token (in, i, l->end, &value))
    return edit_warning (
      e, l->start, "%s without its value on its line: left as it is", what);
  if (driver && is_generic (in, &value))
    return 0;
  after = *i;
  if (first && !next_token (in, &after, l->end, &more))
    return edit_replace (e, l->start, 0, NET_COMMENT);
  return edit_warning (e, l->start, "%s '%s' shares its line: left as it is",
                       what, show (in + value.s, value.e - value.s, buf));
}

int
xorg_remove_drivers (const char *in, size_t len, char **out, size_t *out_len,
                     struct rewrite_log *log)
{
  bool in_device = false;
  struct lines it;
  struct lline l;
  struct edit e;
  int ret = -1;

  if (edit_init (&e, in, len) == -1)
    return -1;
  lines_init (&it, in, len, CONT_NONE, "#");
  while (lines_next (&it, &l)) {
    struct token t, name;
    size_t i = l.start;
    bool first = true;

    for (; next_token (in, &i, l.end, &t); first = false) {
      if (keyword_is (in, &t, "section"))
        /* The section's name is on the same line, or not understood. */
        in_device
          = next_token (in, &i, l.end, &name) && name_is (in, &name, "device");
      else if (keyword_is (in, &t, "endsection"))
        in_device = false;
      else if (in_device
               && (keyword_is (in, &t, "driver")
                   || keyword_is (in, &t, "busid"))
               && device_entry (&e, in, &l, &i, &t, first) == -1)
        goto out;
    }
  }
  ret = edit_finish (&e, out, out_len, log);
out:
  edit_free (&e);
  return ret;
}
