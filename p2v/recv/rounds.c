/* p2v-recv: the rounds of a pre-copy (imaging/stream-rounds.h).
 *
 * The copy of each disk lives as OUT/NAME/NAME-DISK.qcow2.precopy while a
 * pre-copy runs, and becomes NAME-DISK.qcow2 when a final round (the
 * source quiesced) is done.  Its block hashes are kept beside it in
 * NAME-DISK.qcow2.hashes (imaging/blockhash.h), saved after every round
 * with the copy's inode, size and time, so the next round, connection or
 * resync starts from them; a copy that changed since (p2v-fixup ran on
 * it, a crash in the middle of a round) has its hashes computed again
 * from the image.  A resync of an earlier P2V renames its NAME-DISK.qcow2
 * to the .precopy name first: until the final round is done it is no
 * longer a complete copy.
 *
 * Round 1 of a disk with no copy is written as one pass is (a new qcow2
 * image, checkpoints, a resume with the hashes of what came before); a
 * delta is written in place (imaging/qcow2-patch.h), and its store is
 * removed first, so that a copy changed by a round that never ended is
 * never taken for what the store says.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blockhash.h"
#include "digest.h"
#include "error.h"
#include "file.h"
#include "inventory.h"
#include "qcow2-patch.h"
#include "session.h"
#include "sink.h"
#include "source.h"

#define MS_PER_SECOND 1000

static void note (const struct session *s, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

/* Tell the user, as session.c does (under ssh only with -v). */
static void
note (const struct session *s, const char *fmt, ...)
{
  va_list ap;

  if (s->opts->cli.quiet || (s->opts->stdio && !s->opts->cli.verbose))
    return;
  va_start (ap, fmt);
  fprintf (stderr, "%s: ", s->opts->cli.prog);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
}

/* The hashes of the complete copy S->work[I]: from its store, or read. */
static int
copy_hashes (struct stream_recv *r, struct session *s, uint32_t i)
{
  struct stream_recv_disk *d = &r->disks[i];
  const char *why = NULL;
  struct source *src;
  struct stat st;
  int ret;

  if (stat (s->work[i], &st) == -1)
    return error_errno (errno, "%s", s->work[i]);
  ret = blockhash_load (&d->hashes, s->store[i], &st, &why);
  if (ret != 0)
    return ret == 1 ? 0 : -1;
  note (s, "%s: computing its block hashes (%s)", s->work[i], why);
  src = source_open (s->work[i], "qcow2");
  if (src == NULL)
    return error_prefix ("the copy to bring up to date");
  if (src->size != r->h.disks[i].size) {
    error ("%s: a disk of %" PRIu64 " bytes, the sender's has %" PRIu64,
           s->work[i], src->size, r->h.disks[i].size);
    source_close (src);
    return -1;
  }
  ret = blockhash_of_source (&d->hashes, src, r->cancel);
  source_close (src);
  return ret;
}

/* A first copy broken off part way: resume it if its hashes so far were
 * saved with the same point.
 */
static int
resume_first_copy (struct stream_recv *r, struct session *s, uint32_t i)
{
  struct sink_options sopts = { .force = true, .sync = true };
  struct stream_recv_disk *d = &r->disks[i];
  size_t extra_len = digest_state_size ();
  unsigned char *extra = malloc (extra_len);
  const char *why = NULL;
  int ret = 0;

  if (extra == NULL)
    return error ("out of memory");
  d->sink = qcow2_sink_resume (s->work[i], r->h.disks[i].size, NULL, &sopts,
                               &d->resume, extra, &extra_len);
  if (d->sink
      && (digest_restore (d->digest, extra, extra_len) == -1
          || (ret = blockhash_load (&d->hashes, s->store[i], NULL, &why)) != 1
          || d->hashes.valid != d->resume)) {
    if (ret == 1)
      why = "its block hashes are for another point";
    else if (why == NULL)
      why = error_message ();
    sink_free (d->sink);
    d->sink = NULL;
  }
  free (extra);
  if (ret == -1)
    return -1;
  if (d->sink == NULL) {
    note (s, "%s: cannot resume (%s): starting again", s->work[i],
          why ? why : error_message ());
    d->hashes.valid = 0;
    if (stream_recv_disk_restart (d) == -1)
      return -1;
  }
  return 0;
}

int
rounds_prepare (struct stream_recv *r, struct session *s)
{
  struct stat st;
  uint32_t i;

  for (i = 0; i < r->h.n_disks; i++) {
    if (asprintf (&s->work[i], "%s" ROUNDS_WORK_SUFFIX, s->paths[i]) == -1
        || asprintf (&s->store[i], "%s" BLOCKHASH_SUFFIX, s->paths[i]) == -1)
      return error ("out of memory");
    /* An earlier P2V's image is the copy to bring up to date. */
    if (stat (s->work[i], &st) == -1 && stat (s->paths[i], &st) == 0) {
      if (rename (s->paths[i], s->work[i]) == -1)
        return error_errno (errno, "%s: rename to %s", s->paths[i], s->work[i]);
      if (file_sync_dir (s->work[i]) == -1)
        return -1;
      note (s, "%s: brought up to date as %s", s->paths[i], s->work[i]);
    }
    if (stat (s->work[i], &st) == 0) {
      if (copy_hashes (r, s, i) == -1)
        return error_prefix ("%s", s->work[i]);
      r->disks[i].have_copy = true;
      r->disks[i].resume = 0;
    }
    else if (qcow2_sink_can_resume (s->work[i])
             && resume_first_copy (r, s, i) == -1)
      return -1;
  }
  return 0;
}

int
rounds_begin (struct stream_recv *r, struct session *s, uint32_t i)
{
  struct sink_options sopts = { .force = true, .sync = true };
  struct stream_recv_disk *d = &r->disks[i];

  if (d->sink)
    return 0;
  if (!d->delta) {
    d->sink = qcow2_sink_create (s->work[i], r->h.disks[i].size, NULL, &sopts);
    return d->sink ? 0 : -1;
  }
  /* The copy is about to change: its store no longer holds. */
  if (unlink (s->store[i]) == -1 && errno != ENOENT)
    return error_errno (errno, "%s: remove", s->store[i]);
  d->sink = qcow2_patch_open (s->work[i], r->h.disks[i].size);
  return d->sink ? 0 : -1;
}

int
rounds_checkpoint (struct stream_recv *r, struct session *s, uint32_t i)
{
  r->disks[i].hashes.valid = r->disks[i].next;
  return blockhash_save (&r->disks[i].hashes, s->store[i], NULL);
}

/* Save disk I's hashes with its copy, as it is now on stable storage. */
static int
save_hashes (struct stream_recv *r, struct session *s, uint32_t i)
{
  struct stat st;

  if (stat (s->work[i], &st) == -1)
    return error_errno (errno, "%s", s->work[i]);
  return blockhash_save (&r->disks[i].hashes, s->store[i], &st);
}

int
rounds_round_end (struct stream_recv *r, uint32_t number, bool final)
{
  struct session *s = r->data;
  uint32_t i;

  /* Each disk's sink was finished (flushed) at its DISK_END. */
  for (i = 0; i < r->h.n_disks; i++) {
    if (save_hashes (r, s, i) == -1)
      return -1;
    if (final) {
      if (rename (s->work[i], s->paths[i]) == -1)
        return error_errno (errno, "%s: rename to %s", s->work[i], s->paths[i]);
      if (file_sync_dir (s->paths[i]) == -1)
        return -1;
    }
  }
  note (s, "machine '%s': round %" PRIu32 " done%s", r->h.name, number,
        final ? ": the final round, the copies are complete" : "");
  return 0;
}

void
rounds_after (struct stream_recv *r, struct session *s)
{
  char saved[1024];
  uint32_t i;

  if (r->lied || r->sink_failed)
    return;
  snprintf (saved, sizeof saved, "%s", error_message ());
  for (i = 0; i < r->h.n_disks; i++) {
    struct stream_recv_disk *d = &r->disks[i];

    if (d->sink == NULL || !d->delta)
      continue;
    if (d->sink->ops->finish (d->sink) == 0 && save_hashes (r, s, i) == 0)
      d->hashes.valid = r->h.disks[i].size;
    sink_free (d->sink);
    d->sink = NULL;
  }
  error_set_message (saved);
}

int
rounds_inventory (struct stream_recv *r, struct session *s)
{
  const struct stream_figures *fg = r->figures;
  const char *close_tag = "</inventory>";
  char *end, *xml = NULL;
  struct inventory inv;
  size_t len = 0, head;
  uint32_t i;
  FILE *fp;

  if (s->inventory == NULL || fg == NULL)
    return 0;
  end = strstr (s->inventory, close_tag);
  if (end == NULL)
    return error ("the inventory has no end");
  head = end - s->inventory;
  fp = open_memstream (&xml, &len);
  if (fp == NULL)
    return error ("out of memory");
  fwrite (s->inventory, 1, head, fp);
  fprintf (fp,
           "  <migration method=\"precopy\" rounds=\"%" PRIu32
           "\" final=\"%s\" total-seconds=\"%" PRIu64 ".%03" PRIu64
           "\" downtime-seconds=\"%" PRIu64 ".%03" PRIu64 "\">\n",
           fg->rounds, (fg->flags & STREAM_ROUND_FINAL) ? "yes" : "no",
           fg->total_ms / MS_PER_SECOND, fg->total_ms % MS_PER_SECOND,
           fg->downtime_ms / MS_PER_SECOND, fg->downtime_ms % MS_PER_SECOND);
  for (i = 0; i < fg->rounds; i++)
    fprintf (fp,
             "    <round number=\"%" PRIu32 "\" data-bytes=\"%" PRIu64
             "\" wire-bytes=\"%" PRIu64 "\" seconds=\"%" PRIu64 ".%03" PRIu64
             "\"/>\n",
             i + 1, fg->round[i].data, fg->round[i].wire,
             fg->round[i].ms / MS_PER_SECOND, fg->round[i].ms % MS_PER_SECOND);
  fprintf (fp, "  </migration>\n%s", end);
  if (fclose (fp) != 0) {
    free (xml);
    return error ("out of memory");
  }
  /* What is written must read back as an inventory. */
  memset (&inv, 0, sizeof inv);
  if (inventory_parse_xml (xml, len, &inv) == -1) {
    free (xml);
    return error_prefix ("the inventory with the migration's figures");
  }
  inventory_free (&inv);
  free (s->inventory);
  s->inventory = xml;
  s->inventory_len = len;
  return 0;
}
