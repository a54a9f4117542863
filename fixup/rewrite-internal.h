/* p2vkit fixup: what the rewriters (rewrite.h) share.
 *
 * A rewriter only finds things: it walks its input with the parser of its
 * file's syntax and hands each device name it meets to scan_device(),
 * which looks it up in the device map and notes, in input order, either a
 * replacement (UUID=...) or a warning.  scan_finish() then writes the
 * output, applying the replacements, and logs a change per changed line
 * and the warnings, with their line numbers.  Parsing stays free of
 * output and bookkeeping, and every rewriter keeps the same guarantees:
 * bytes outside the device names never change, and the work is linear in
 * the size of the input.
 */
#ifndef P2V_REWRITE_INTERNAL_H
#define P2V_REWRITE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "devmap.h"
#include "rewrite.h"

/* A device name found in the input: its bytes IN[OFF, OFF + LEN), and the
 * UUID they are to become, or NULL for a warning (an unknown device).
 */
struct scan_item {
  size_t off;
  size_t len;
  const char *uuid;             /* belongs to the map */
};

struct scan {
  const char *in;
  size_t len;
  const struct devmap *map;
  bool decode_octal;            /* fstab: look names up with \040 decoded */
  struct scan_item *items;      /* in increasing order of OFF */
  size_t n;
  size_t alloc;
};

/* Refuse what no rule reads: more than REWRITE_INPUT_MAX bytes, or a NUL
 * byte.  Returns 0, or -1 with the reason in error().
 */
int rewrite_check_input (const char *in, size_t len);

/* Check the input (rewrite_check_input) and start a scan of it.  DECODE_OCTAL
 * as in struct scan.
 */
int scan_init (struct scan *s, const char *in, size_t len,
               const struct devmap *map, bool decode_octal);

/* The device name IN[OFF, OFF + LEN): replace it if it is in the map, or
 * warn if it is unknown and unstable; else nothing.  Calls must come in
 * increasing order of OFF, and the name must not hold a newline.
 */
int scan_device (struct scan *s, size_t off, size_t len);

/* If the word IN[OFF, OFF + LEN) is a kernel parameter root= or resume=,
 * scan its value as a device, without the quotes around it if it is in a
 * pair of one of the QUOTES.
 */
int scan_cmdline_word (struct scan *s, size_t off, size_t len,
                       const char *quotes);

/* Split IN[START, END) into kernel command line words: at whitespace
 * outside quotes, where QUOTES lists the quote characters ("\"" for the
 * kernel; GRUB's script has "\"'").  scan_cmdline_word() each word.
 */
int scan_cmdline_words (struct scan *s, size_t start, size_t end,
                        const char *quotes);

/* Write the output and log (rewrite.h's contract), and return the number
 * of lines changed; or -1, with LOG as it was.
 */
int scan_finish (struct scan *s, char **out, size_t *out_len,
                 struct rewrite_log *log);

/* Release what the scan holds (not the input or the map). */
void scan_free (struct scan *s);

/* The line that starts at *POS, if *POS < LEN: its contents are
 * IN[*START, *END), without the "\n" and a "\r" before it (or at the end
 * of a last line without "\n").  *POS moves to the next line.
 */
bool next_line (const char *in, size_t len, size_t *pos, size_t *start,
                size_t *end);

/* A space or a tab: what separates the fields of fstab and crypttab. */
static inline bool
is_blank (char c)
{
  return c == ' ' || c == '\t';
}

/* Whitespace between command line words (the kernel's isspace), with the
 * "\r" of CRLF files.
 */
static inline bool
is_space (char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'
    || c == '\f';
}

/* Log entries (rewrite-log.c).  A full log counts instead (n_dropped). */
int log_change (struct rewrite_log *log, size_t line, const char *old_text,
                size_t old_len, const char *new_text, size_t new_len);
/* Add a warning about LINE to LOG (if not NULL).  The message must be
 * printable ASCII: guest bytes are escaped by the caller.  A full log
 * counts it (n_dropped).
 */
int log_warning (struct rewrite_log *log, size_t line, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));
int log_unknown_device (struct rewrite_log *log, size_t line, const char *name,
                        size_t len);

/* Drop the entries after the first N, and set n_dropped back to
 * N_DROPPED: undo what a failed rewriter logged.
 */
void log_truncate (struct rewrite_log *log, size_t n, size_t n_dropped);

#endif /* P2V_REWRITE_INTERNAL_H */
