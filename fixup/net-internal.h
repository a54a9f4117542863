/* p2vkit fixup: what the network and Xorg rules (net.h) share.
 *
 * - Reading: the lines of a file, logical lines that go on over several
 *   with a backslash (ifupdown's and systemd's rules), the words of a
 *   line, a Key=Value or [Section] line, a shell assignment.
 * - Scanning: a ref_scan collects the names a file gives, checks them,
 *   merges them with the list, and adds them to it only at the end, so
 *   that a failure leaves the list as it was.
 * - Editing: a rewriter only notes what changes (an edit: replacements,
 *   lines added, warnings, in input order); edit_finish() writes the
 *   output and the log, as scan_finish() does for rewrite.h's rewriters.
 *
 * All of it is linear in the size of the input.
 */
#ifndef P2V_NET_INTERNAL_H
#define P2V_NET_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net.h"
#include "rewrite-internal.h"

/* ---------------------------------------------------------------------
 * Checks and messages (net-text.c).
 */

/* Room for show(): each byte shown as itself or \xNN, then "...". */
#define SHOW_MAX 64
#define SHOW_SIZE (SHOW_MAX * 4 + 4)

/* S (LEN bytes from a guest) as printable ASCII for a message, in BUF:
 * the first SHOW_MAX bytes, other bytes than printable ASCII as \xNN and
 * ' as \x27 (messages quote it), then "..." if cut.  Returns BUF.
 */
const char *show (const char *s, size_t len, char buf[SHOW_SIZE]);

/* ---------------------------------------------------------------------
 * Lines and words (net-text.c).
 */

/* How lines go on to the next one. */
enum cont_mode {
  CONT_NONE,     /* they do not */
  CONT_IFUPDOWN, /* a line ending with a backslash goes on; comments are
                  * recognised on the line joined */
  CONT_SYSTEMD,  /* a line ending with a backslash that is not escaped by
                 * another goes on; comment lines neither start nor end a
                 * continuation, and are skipped inside one */
};

struct lines {
  const char *in;
  size_t len;
  enum cont_mode mode;
  const char *comments; /* the characters that start a comment line */
  size_t pos;           /* the next line starts here */
  size_t lineno;        /* its number */
};

/* A logical line: IN[START, END), from the start of its first line to the
 * end of the contents of its last (without the line end).  Inside, every
 * newline but those of skipped comment lines follows a backslash (and a
 * "\r").
 */
struct lline {
  size_t start;
  size_t end;
  size_t first;  /* the first byte that is not a blank (END if none) */
  size_t line;   /* the number of its first line */
  bool comment;  /* a comment line */
};

void lines_init (struct lines *it, const char *in, size_t len,
                 enum cont_mode mode, const char *comments);
bool lines_next (struct lines *it, struct lline *l);

/* Whitespace inside a line. */
static inline bool
is_ws (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The next word of IN[*I, END) in the logical line L: its bytes
 * IN[*WS, *WE).  Words are separated by whitespace and line
 * continuations (a backslash with its line end, and in CONT_SYSTEMD the
 * comment lines after it).  False when there are no more.
 */
bool words_next (const struct lines *it, size_t *i, size_t end, size_t *ws,
                 size_t *we);

/* Past the whitespace and line continuations at P, up to END. */
size_t skip_gap (const struct lines *it, size_t p, size_t end);

/* Does IN[S, E) hold exactly the string WORD? */
static inline bool
span_is (const char *in, size_t s, size_t e, const char *word)
{
  size_t n = strlen (word);

  return e - s == n && memcmp (in + s, word, n) == 0;
}

/* The same without case (ASCII). */
bool span_is_nocase (const char *in, size_t s, size_t e, const char *word);

/* Add a comment-out of every line of L to the edit E (defined below):
 * NET_COMMENT at the start of each, but blank lines and the comment lines
 * CONT_SYSTEMD skips.
 */
struct edit;
int comment_out (struct edit *e, const struct lines *it, const struct lline *l);

/* The kind of a line of an ini-style file (systemd's, GKeyFile's). */
enum ini_kind {
  INI_OTHER,   /* blank, comment, or not understood */
  INI_SECTION, /* [NAME] */
  INI_KEY,     /* KEY=VALUE */
};

struct ini {
  enum ini_kind kind;
  size_t name, name_end;   /* the section's name, or the key */
  size_t value, value_end; /* the value, blanks around it removed */
};

/* Parse the logical line L of IT's input. */
void ini_parse (const struct lines *it, const struct lline *l, struct ini *p);

/* A simple shell assignment on the line IN[START, END): blanks, NAME=,
 * and a value in "..." (where \ escapes), '...' or unquoted (to a blank).
 * Sets the name and the value without its quotes; false if the line is
 * no such assignment or its quote does not close on the line.
 */
bool shell_assignment (const char *in, size_t start, size_t end, size_t *name,
                       size_t *name_end, size_t *value, size_t *value_end);

/* ---------------------------------------------------------------------
 * Names, MACs, scanning (net-refs.c).
 */

/* net_name_is_valid and net_mac_normalize on LEN bytes. */
bool name_valid (const char *s, size_t len);
bool mac_parse (const char *s, size_t len, char out[NET_MAC_SIZE]);

/* The length of the interface that S (LEN bytes) names: an alias, eth0:1,
 * names eth0.  (":1" stays whole, and is not valid.)
 */
size_t alias_base (const char *s, size_t len);

/* ifupdown: is the word IN[WS, WE) one that starts a line listing
 * interfaces (auto, allow-CLASS, and ifupdown 0.8's no-auto-down and
 * no-scripts)?  One that starts another stanza than iface (mapping,
 * source, source-directory, rename)?
 */
bool ifupdown_lists_interfaces (const char *in, size_t ws, size_t we);
bool ifupdown_ends_stanza (const char *in, size_t ws, size_t we);

/* Does IN[S, E) hold a glob pattern character (* ? [)? */
bool is_glob (const char *in, size_t s, size_t e);

struct pending;

struct ref_scan {
  struct net_refs *refs;
  size_t n0;            /* the entries REFS had */
  struct pending *p;    /* new names, and MACs for entries without */
  size_t np, palloc;
  size_t n_new;         /* new names among P */
  uint32_t *table;      /* hash table of the names: 1 + index, 0 if free */
  uint32_t seed;
  size_t log_n, log_dropped; /* to undo the warnings */
  bool full;            /* warned that the list is full */
};

/* Check the input and start a scan into REFS. */
int ref_scan_begin (struct ref_scan *s, const char *in, size_t len,
                    struct net_refs *refs);

/* The name IN[NAME, NAME + NAME_LEN) with the MAC IN[MAC, MAC + MAC_LEN)
 * (MAC_LEN 0 if none), found on LINE: skipped if "lo", skipped with a
 * warning if not valid; the MAC dropped with a warning if not valid;
 * else merged into the list.  Returns 1 if the name is in the list now,
 * 0 if skipped, -1 on failure.
 */
int ref_scan_add (struct ref_scan *s, size_t line, const char *name,
                  size_t name_len, const char *mac, size_t mac_len);

/* End the scan: with RET 0, add what was found to the list and return the
 * number of new names (or -1 if that fails); with RET -1, undo and
 * return -1.
 */
int ref_scan_end (struct ref_scan *s, int ret);

/* ---------------------------------------------------------------------
 * Edits (net-edit.c).
 */

enum edit_kind {
  EDIT_REPLACE,  /* LEN bytes at OFF become TEXT (LEN 0: inserted) */
  EDIT_ADD_LINE, /* the line TEXT added after the line whose contents end
                  * at OFF, or at the end (OFF is the input's length) */
  EDIT_WARNING,  /* MESSAGE about the line of OFF */
};

struct edit_item {
  enum edit_kind kind;
  size_t off;
  size_t len;
  const char *text; /* static */
  char *message;    /* owned */
};

struct edit {
  const char *in;
  size_t len;
  struct edit_item *items; /* in increasing order of OFF */
  size_t n, alloc;
};

/* Check the input and start an edit of it. */
int edit_init (struct edit *e, const char *in, size_t len);

/* Note a change.  Calls must come in increasing order of OFF, and a
 * replacement must not hold or cross a line end.
 */
int edit_replace (struct edit *e, size_t off, size_t len, const char *text);
int edit_add_line (struct edit *e, size_t off, const char *text);
int edit_warning (struct edit *e, size_t off, const char *fmt, ...)
  __attribute__ ((format (printf, 3, 4)));

/* Write the output and the log (net.h's rewriter contract), and return
 * the number of lines changed or added; or -1, with LOG as it was.
 */
int edit_finish (struct edit *e, char **out, size_t *out_len,
                 struct rewrite_log *log);

void edit_free (struct edit *e);

#endif /* P2V_NET_INTERNAL_H */
