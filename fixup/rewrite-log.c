/* p2vkit fixup: the log of the rewriters (see rewrite.h). */
#include "rewrite-internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* A warning shows at most this many bytes of a device name. */
#define NAME_SHOWN_MAX 256

int
rewrite_log_set_file (struct rewrite_log *log, const char *file)
{
  char *copy = NULL;

  if (file != NULL && (copy = strdup (file)) == NULL)
    return error_errno (errno, "rewrite log");
  free (log->file);
  log->file = copy;
  return 0;
}

static void
entry_free (struct rewrite_log_entry *e)
{
  free (e->file);
  free (e->old_text);
  free (e->new_text);
  free (e->message);
}

void
rewrite_log_free (struct rewrite_log *log)
{
  log_truncate (log, 0, 0);
  free (log->entries);
  free (log->file);
  memset (log, 0, sizeof *log);
}

void
log_truncate (struct rewrite_log *log, size_t n, size_t n_dropped)
{
  while (log->n > n)
    entry_free (&log->entries[--log->n]);
  log->n_dropped = n_dropped;
}

/* Add E (whose strings pass to the log, or are freed if it fails). */
static int
append (struct rewrite_log *log, struct rewrite_log_entry *e)
{
  int ret = -1;

  if (log->n >= REWRITE_LOG_MAX) {
    log->n_dropped++;
    entry_free (e);
    return 0;
  }
  if (log->file != NULL && (e->file = strdup (log->file)) == NULL) {
    ret = error_errno (errno, "rewrite log");
    goto out;
  }
  if (log->n == log->alloc) {
    size_t alloc = log->alloc ? log->alloc * 2 : 16;
    struct rewrite_log_entry *entries;

    entries = realloc (log->entries, alloc * sizeof *entries);
    if (entries == NULL) {
      ret = error_errno (errno, "rewrite log");
      goto out;
    }
    log->entries = entries;
    log->alloc = alloc;
  }
  log->entries[log->n++] = *e;
  return 0;
out:
  entry_free (e);
  return ret;
}

int
log_change (struct rewrite_log *log, size_t line, const char *old_text,
            size_t old_len, const char *new_text, size_t new_len)
{
  struct rewrite_log_entry e = { .kind = REWRITE_CHANGE, .line = line };

  if (log == NULL)
    return 0;
  e.old_text = strndup (old_text, old_len);
  e.new_text = strndup (new_text, new_len);
  if (e.old_text == NULL || e.new_text == NULL) {
    entry_free (&e);
    return error_errno (errno, "rewrite log");
  }
  return append (log, &e);
}

int
log_warning (struct rewrite_log *log, size_t line, const char *fmt, ...)
{
  struct rewrite_log_entry e = { .kind = REWRITE_WARNING, .line = line };
  va_list ap;
  int r;

  if (log == NULL)
    return 0;
  va_start (ap, fmt);
  r = vasprintf (&e.message, fmt, ap);
  va_end (ap);
  if (r == -1)
    return error_errno (errno, "rewrite log");
  return append (log, &e);
}

int
log_unknown_device (struct rewrite_log *log, size_t line, const char *name,
                    size_t len)
{
  /* Each byte shown as itself or as \xNN, then "...". */
  char shown[NAME_SHOWN_MAX * 4 + 4];
  size_t i, n = 0;

  if (log == NULL)
    return 0;
  /* The name comes from the guest: keep the message printable ASCII. */
  for (i = 0; i < len && i < NAME_SHOWN_MAX; i++) {
    unsigned char c = name[i];

    if (c < ' ' || c > '~')
      n += snprintf (shown + n, sizeof shown - n, "\\x%02x", c);
    else
      shown[n++] = c;
  }
  if (i < len)
    n += snprintf (shown + n, sizeof shown - n, "...");
  shown[n] = '\0';
  return log_warning (log, line, "unknown device '%s': left as it is", shown);
}
