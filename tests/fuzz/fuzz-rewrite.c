/* libFuzzer target for the fixup's rewriters (fixup/rewrite.h): what
 * p2v-fixup reads from a guest's /etc/fstab, /etc/crypttab, kernel
 * command line, /etc/default/grub, grub.cfg and initramfs-tools' resume.
 *
 * The input, any bytes, goes to every rewriter with a small fixed device
 * map, and the contract is checked:
 *
 * - a failure is one line of message, for an input with a NUL byte only
 *   (the fuzzer's inputs are below the size limit);
 * - a success gives a NUL-terminated output with as many lines as the
 *   input; a line that mentions no mapped name (nor a backslash, through
 *   which fstab's octal escapes could spell one) is byte for byte the
 *   same; every line that differs has a change in the log, which shows it
 *   before and after; the count returned is the count of changes;
 * - every warning is one line of printable ASCII;
 * - a second pass over the output changes nothing (what was rewritten is
 *   UUID=..., which is never in the map, and the words and fields around
 *   it stay as they were).
 *
 *   make tests/fuzz/fuzz-rewrite
 *   tests/fuzz/fuzz-rewrite -max_len=65536 tests/fuzz/fuzz-rewrite-corpus
 */
#include "rewrite.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devmap.h"
#include "error.h"
#include "initramfs.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const struct {
  const char *name;
  rewrite_fn *fn;
} rewriters[] = {
  { "fstab", rewrite_fstab },       { "crypttab", rewrite_crypttab },
  { "cmdline", rewrite_cmdline },   { "grub_default", rewrite_grub_default },
  { "grub_cfg", rewrite_grub_cfg }, { "resume_conf", rewrite_resume_conf },
};

static struct devmap map;

static void
broken (const char *rewriter, const char *what)
{
  fprintf (stderr, "fuzz-rewrite: %s: contract broken: %s (%s)\n", rewriter,
           what, error_message ());
  abort ();
}

static void
make_map (void)
{
  if (devmap_add (&map, "/dev/disk/by-id/ata-DISK_1234-part1",
                  "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d")
        == -1
      || devmap_add (&map, "/dev/disk/by-path/pci-0000:00:1f.2-ata-1-part2",
                     "9c4d2e1f-0a3b-4c5d-9e6f-1a2b3c4d5e6f")
        == -1
      || devmap_add_partition (&map, 0, 1,
                               "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d")
        == -1
      || devmap_add_partition (&map, 0, 2,
                               "9c4d2e1f-0a3b-4c5d-9e6f-1a2b3c4d5e6f")
        == -1
      || devmap_add_partition (&map, 0, 3, "ABCD-1234") == -1
      || devmap_add_partition (&map, 1, 0, "6f0a1d2c-3b4e-4f5a-8b6c") == -1)
    broken ("map", "cannot build the device map");
}

/* The line after *P in [*P, END): its start and length with its "\n";
 * false at the end.
 */
static bool
next (const char **p, const char *end, const char **line, size_t *len)
{
  const char *nl;

  if (*p >= end)
    return false;
  nl = memchr (*p, '\n', end - *p);
  *line = *p;
  *len = nl ? (size_t) (nl + 1 - *p) : (size_t) (end - *p);
  *p += *len;
  return true;
}

/* Does LINE (LEN bytes) name a device of the map, maybe in disguise? */
static bool
mentions_map (const char *line, size_t len)
{
  size_t i;

  if (memchr (line, '\\', len) != NULL)
    return true;
  for (i = 0; i < map.n; i++)
    if (memmem (line, len, map.entries[i].name, strlen (map.entries[i].name))
        != NULL)
      return true;
  return false;
}

static void
check_lines (const char *who, const char *in, size_t len, const char *out,
             size_t out_len, const struct rewrite_log *log)
{
  const char *p = in, *q = out, *a, *b;
  size_t alen, blen, n = 0, i;
  /* Which lines the log says changed (a line has at most one byte). */
  bool *logged = calloc (len + 2, sizeof *logged);

  if (logged == NULL)
    broken (who, "out of memory");
  for (i = 0; i < log->n; i++)
    if (log->entries[i].kind == REWRITE_CHANGE
        && log->entries[i].line <= len + 1)
      logged[log->entries[i].line] = true;

  while (next (&p, in + len, &a, &alen)) {
    n++;
    if (!next (&q, out + out_len, &b, &blen))
      broken (who, "fewer lines out than in");
    if (alen == blen && memcmp (a, b, alen) == 0)
      continue;
    if (!mentions_map (a, alen))
      broken (who, "a line without a mapped name changed");
    if (!logged[n] && log->n_dropped == 0)
      broken (who, "a line changed without a log entry");
  }
  free (logged);
  if (next (&q, out + out_len, &b, &blen))
    broken (who, "more lines out than in");

  for (i = 0; i < log->n; i++) {
    const struct rewrite_log_entry *e = &log->entries[i];
    const unsigned char *m;

    if (e->file == NULL || strcmp (e->file, "f") != 0 || e->line < 1
        || e->line > n)
      broken (who, "log entry without its file and line");
    if (e->kind == REWRITE_CHANGE) {
      if (e->old_text == NULL || e->new_text == NULL || e->message != NULL
          || strcmp (e->old_text, e->new_text) == 0
          || strstr (e->new_text, "UUID=") == NULL)
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

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *in = (const char *) data;
  bool has_nul = memchr (in, '\0', size) != NULL;
  size_t i;

  if (map.n == 0)
    make_map ();

  /* initramfs.h: any bytes; the block set twice is the same. */
  {
    char *out = NULL, *out2 = NULL;
    size_t out_len, out2_len;

    (void) initramfs_module_listed (in, size, "virtio_blk");
    if (initramfs_set_block (
          in, size, INITRAMFS_BLOCK_BEGIN "\nx\n" INITRAMFS_BLOCK_END "\n",
          &out, &out_len)
          == -1
        || initramfs_set_block (out, out_len, NULL, &out2, &out2_len) == -1)
      broken ("initramfs_set_block", "failed");
    if (out2_len > size + 1) /* + the newline a last line got */
      broken ("initramfs_set_block", "removing the block left more");
    free (out);
    free (out2);
  }

  for (i = 0; i < sizeof rewriters / sizeof rewriters[0]; i++) {
    const char *who = rewriters[i].name;
    struct rewrite_log log = { 0 };
    char *out = NULL, *out2 = NULL;
    size_t out_len = 0, out2_len = 0, j;
    int r, changes = 0;

    if (rewrite_log_set_file (&log, "f") == -1)
      broken (who, "rewrite_log_set_file");
    error ("%s", "");
    r = rewriters[i].fn (in, size, &map, &out, &out_len, &log);
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
    check_lines (who, in, size, out, out_len, &log);

    if (rewriters[i].fn (out, out_len, &map, &out2, &out2_len, NULL) != 0
        || out2_len != out_len || memcmp (out, out2, out_len) != 0)
      broken (who, "a second pass changed something");
    free (out2);
    free (out);
    rewrite_log_free (&log);
  }
  return 0;
}
