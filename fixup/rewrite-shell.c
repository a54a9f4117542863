/* p2vkit fixup: shell variables that hold device names or kernel command
 * lines: /etc/default/grub and initramfs-tools' resume configuration (see
 * rewrite.h).
 *
 * Both files are sourced by sh.  Only simple assignments are understood,
 * one at the start of a line (after blanks and an optional "export"):
 *
 *   GRUB_CMDLINE_LINUX="root=/dev/sda3 quiet"
 *   export RESUME=/dev/sda2
 *
 * The value goes on, as in sh, to the first unquoted blank, newline or
 * operator (; & | < > ( )), and may hold "..." (where \ escapes the next
 * character) and '...' (no escapes), over several lines.  Inside the
 * value, words are split at whitespace and at the quotes: a word is
 * recognised only if it is whole inside one quoted (or unquoted) part.
 * Anything sh would expand ($VAR, $(...)) is taken literally, and so
 * never matches a device name.
 */
#include "rewrite-internal.h"

#include <string.h>

#define EXPORT "export"
#define EXPORT_LEN (sizeof EXPORT - 1)

/* What the words of a value are. */
enum value_kind {
  VALUE_CMDLINE,                /* a kernel command line */
  VALUE_DEVICE,                 /* a device name */
};

/* The variables to look at. */
struct shell_var {
  const char *name;
  bool prefix;                  /* every variable whose name starts so */
  enum value_kind kind;
};

/* GRUB_CMDLINE_LINUX, GRUB_CMDLINE_LINUX_DEFAULT, and the rarer
 * GRUB_CMDLINE_LINUX_RECOVERY and GRUB_CMDLINE_LINUX_XEN_REPLACE[_DEFAULT].
 */
static const struct shell_var grub_default_var
  = { "GRUB_CMDLINE_LINUX", true, VALUE_CMDLINE };
static const struct shell_var resume_var = { "RESUME", false, VALUE_DEVICE };

static bool
is_name_char (char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
    || (c >= '0' && c <= '9') || c == '_';
}

/* Characters that end an unquoted word in sh, besides whitespace. */
static bool
is_operator (char c)
{
  return strchr (";&|<>()", c) != NULL;
}

/* Is the line IN[START, END) an assignment to VAR?  Then set *VALUE to
 * where its value starts.
 */
static bool
is_assignment (const char *in, size_t start, size_t end,
               const struct shell_var *var, size_t *value)
{
  size_t i = start, name, nlen = strlen (var->name);

  while (i < end && is_blank (in[i]))
    i++;
  if (end - i > EXPORT_LEN && memcmp (in + i, EXPORT, EXPORT_LEN) == 0
      && is_blank (in[i + EXPORT_LEN])) {
    i += EXPORT_LEN;
    while (i < end && is_blank (in[i]))
      i++;
  }
  name = i;
  while (i < end && is_name_char (in[i]))
    i++;
  if (i == end || in[i] != '=' || i - name < nlen
      || memcmp (in + name, var->name, nlen) != 0
      || (!var->prefix && i - name != nlen))
    return false;
  *value = i + 1;
  return true;
}

static int
scan_value_word (struct scan *s, size_t start, size_t end, enum value_kind kind)
{
  if (end == start)
    return 0;
  if (kind == VALUE_CMDLINE)
    return scan_cmdline_word (s, start, end - start, "\"");
  return scan_device (s, start, end - start);
}

/* Scan the value that starts at POS; set *STOP to where it ends. */
static int
scan_value (struct scan *s, size_t pos, enum value_kind kind, size_t *stop)
{
  size_t i = pos, word = pos;
  char quote = 0;

  while (i < s->len) {
    char c = s->in[i];

    if (quote == 0 && (is_space (c) || is_operator (c)))
      break;
    if (c == '\\' && quote != '\'') {
      /* The escaped character is part of the word.  (A word holding an
       * escaped newline holds a newline, and is no device name.)
       */
      i += i + 1 < s->len ? 2 : 1;
      continue;
    }
    if ((quote == 0 && (c == '"' || c == '\'')) || (quote != 0 && c == quote)
        || (quote != 0 && is_space (c))) {
      if (scan_value_word (s, word, i, kind) == -1)
        return -1;
      if (!is_space (c))
        quote = quote == 0 ? c : 0;
      word = i + 1;
    }
    i++;
  }
  *stop = i;
  return scan_value_word (s, word, i, kind);
}

static int
rewrite_shell (const char *in, size_t len, const struct devmap *map, char **out,
               size_t *out_len, struct rewrite_log *log,
               const struct shell_var *var)
{
  struct scan s;
  size_t pos = 0, start, end, value, stop;
  int ret = -1;

  if (scan_init (&s, in, len, map, false) == -1)
    goto out;
  while (next_line (in, len, &pos, &start, &end)) {
    if (!is_assignment (in, start, end, var, &value))
      continue;
    if (scan_value (&s, value, var->kind, &stop) == -1)
      goto out;
    /* A value that went on over lines: go on after the line it ends on. */
    if (stop > end) {
      const char *nl = memchr (in + stop, '\n', len - stop);

      pos = nl != NULL ? (size_t) (nl - in) + 1 : len;
    }
  }
  ret = scan_finish (&s, out, out_len, log);
out:
  scan_free (&s);
  return ret;
}

int
rewrite_grub_default (const char *in, size_t len, const struct devmap *map,
                      char **out, size_t *out_len, struct rewrite_log *log)
{
  return rewrite_shell (in, len, map, out, out_len, log, &grub_default_var);
}

int
rewrite_resume_conf (const char *in, size_t len, const struct devmap *map,
                     char **out, size_t *out_len, struct rewrite_log *log)
{
  return rewrite_shell (in, len, map, out, out_len, log, &resume_var);
}
