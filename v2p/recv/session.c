/* v2p-recv: one sender's session.  The protocol is imaging/stream-recv.c's;
 * what v2p-recv adds is where the disks go: disk I of the stream straight
 * onto --disk I, checked before anything is written (target.h), and after
 * the last frame the partition table fitted to each disk, then, with
 * --grow, the last partition grown (grow.h).
 *
 * Resuming: the disks stay open between sessions, and the resume points
 * (an offset and the digest before it, every RECV_CHECKPOINT_BYTES and
 * where a connection broke) are kept in memory for the next sender with
 * the same HELLO.  They go when a transfer completes or lies.
 */
#include "recv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "error.h"
#include "grow.h"
#include "parttable.h"
#include "size.h"
#include "stream-recv.h"

struct session {
  struct receiver *rc;
  bool prepared;                /* the sender authenticated */
  bool refused;                 /* its disks do not fit ours */
};

/* Tell the user, unless --quiet. */
static void say (const struct recv_options *opts, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

static void
say (const struct recv_options *opts, const char *fmt, ...)
{
  va_list ap;

  if (opts->cli.quiet)
    return;
  va_start (ap, fmt);
  fprintf (stderr, "%s: ", opts->cli.prog);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
}

/* What the sender says of disk D's partition table. */
static void
disk_table (const struct stream_disk *d, struct parttable *pt)
{
  memset (pt, 0, sizeof *pt);
  pt->type = d->table;
  pt->sector_size = d->sector_size;
  pt->needed = d->needed;
}

/* Is B the sender that A was: the same machine, disks and sizes? */
static bool
same_sender (const struct stream_hello *a, const struct stream_hello *b)
{
  uint32_t i;

  if (strcmp (a->name, b->name) != 0 || a->n_disks != b->n_disks)
    return false;
  for (i = 0; i < a->n_disks; i++)
    if (strcmp (a->disks[i].name, b->disks[i].name) != 0
        || a->disks[i].size != b->disks[i].size
        || a->disks[i].needed != b->disks[i].needed)
      return false;
  return true;
}

/* Where each disk resumes: from the points kept for the same sender, or
 * from the start (and from now on, the points are this sender's).
 */
static void
find_resume (struct stream_recv *r, struct resume *rs)
{
  const struct recv_options *opts = ((struct session *) r->data)->rc->opts;
  uint32_t i;

  if (rs->valid && same_sender (&rs->h, &r->h)) {
    for (i = 0; i < r->h.n_disks; i++) {
      if (rs->offset[i] == 0)
        continue;
      if (digest_restore (r->disks[i].digest, rs->digest[i],
                          digest_state_size ())
          == -1) {
        rs->offset[i] = 0;
        continue;
      }
      r->disks[i].resume = rs->offset[i];
      say (opts, "%s: resuming at offset %" PRIu64, opts->disks[i],
           rs->offset[i]);
    }
    return;
  }
  rs->valid = true;
  rs->h = r->h;
  memset (rs->offset, 0, sizeof rs->offset);
}

/* The sender is authenticated: do its disks go onto ours?  Nothing has
 * been written yet, and nothing is if they do not.
 */
static int
on_prepare (struct stream_recv *r)
{
  struct session *s = r->data;
  const struct recv_options *opts = s->rc->opts;
  char notes[STREAM_MAX_DISKS][512];
  char size[SIZE_HUMAN_MAX], tsize[SIZE_HUMAN_MAX];
  struct parttable pt;
  uint32_t i;

  s->prepared = true;
  if (r->h.n_disks != opts->n_disks) {
    s->refused = true;
    return error ("machine '%s' sends %" PRIu32 " disk(s), but v2p-recv was "
                  "given %zu (--disk)",
                  r->h.name, r->h.n_disks, opts->n_disks);
  }
  for (i = 0; i < r->h.n_disks; i++) {
    const struct target *t = &s->rc->targets[i];

    disk_table (&r->h.disks[i], &pt);
    if (target_fits (t->path, t->size, t->device ? t->sector_size : 0,
                     r->h.disks[i].size, &pt, notes[i], sizeof notes[i])
        == -1) {
      s->refused = true;
      return error_prefix ("machine '%s', disk '%s'", r->h.name,
                           r->h.disks[i].name);
    }
  }
  for (i = 0; i < r->h.n_disks; i++) {
    say (opts, "machine '%s' (%s): disk '%s' (%s, %s) onto %s (%s)", r->h.name,
         r->w.peer, r->h.disks[i].name, size_human (r->h.disks[i].size, size),
         parttable_type_name (r->h.disks[i].table), s->rc->targets[i].path,
         size_human (s->rc->targets[i].size, tsize));
    if (notes[i][0])
      say (opts, "%s", notes[i]);
  }
  find_resume (r, &s->rc->resume);
  return r->rounds ? rounds_prepare (r, s->rc) : 0;
}

static int
on_begin (struct stream_recv *r, uint32_t i)
{
  struct session *s = r->data;
  struct target *t = &s->rc->targets[i];

  r->disks[i].sink = raw_sink_fd (t->fd, t->path, r->h.disks[i].size, t->size);
  return r->disks[i].sink ? 0 : -1;
}

/* Everything up to here is on the disk (the same descriptor is read
 * after a resume, so the page cache is as good as the disk): keep the
 * point.
 */
static int
on_checkpoint (struct stream_recv *r, uint32_t i)
{
  struct resume *rs = &((struct session *) r->data)->rc->resume;

  if (rs->digest[i] == NULL) {
    rs->digest[i] = malloc (digest_state_size ());
    if (rs->digest[i] == NULL)
      return error ("out of memory");
  }
  digest_save (r->disks[i].digest, rs->digest[i]);
  rs->offset[i] = r->disks[i].next;
  return r->rounds ? rounds_keep (r, ((struct session *) r->data)->rc, (int) i)
                   : 0;
}

static int
on_disk_done (struct stream_recv *r, uint32_t i, const char *digest)
{
  const struct recv_options *opts = ((struct session *) r->data)->rc->opts;

  if (opts->cli.machine_readable) {
    printf ("disk %s size=%" PRIu64 " digest=%s\n", opts->disks[i],
            r->h.disks[i].size, digest);
    fflush (stdout);
  }
  if (opts->cli.verbose)
    fprintf (stderr, "%s: %s: written and flushed (digest %s)\n",
             opts->cli.prog, opts->disks[i], digest);
  return 0;
}

/* Every disk is written: zero what lies past each image, and make each
 * GPT describe its disk, before the sender hears DONE.
 */
static int
on_end (struct stream_recv *r)
{
  struct session *s = r->data;
  const struct recv_options *opts = s->rc->opts;
  struct parttable pt;
  bool all, changed;
  uint32_t i;

  /* A pre-copy is settled only after its final round. */
  if (r->rounds && !r->final_done)
    return 0;
  for (i = 0; i < r->h.n_disks; i++) {
    struct target *t = &s->rc->targets[i];
    uint64_t size = r->h.disks[i].size;

    if (target_clear_tail (t, size < t->size ? size : t->size, &all) == -1)
      return -1;
    if (!all && opts->cli.verbose)
      fprintf (stderr,
               "%s: %s: the space past the image is left as it was, but "
               "for its last %d KiB (the device cannot zero it without "
               "writing)\n",
               opts->cli.prog, t->path, TARGET_TAIL_WIPE / 1024);
    disk_table (&r->h.disks[i], &pt);
    if (target_settle (t, size, &pt, &changed) == -1)
      return -1;
    if (changed && opts->cli.verbose)
      fprintf (stderr, "%s: %s: the GPT now describes the whole disk\n",
               opts->cli.prog, t->path);
  }
  return 0;
}

/* Every disk of the round is written and flushed (at its DISK_END): keep
 * the hashes for the next round.
 */
static int
on_round_end (struct stream_recv *r, uint32_t number, bool final)
{
  struct session *s = r->data;

  say (s->rc->opts, "machine '%s': round %u done%s", r->h.name,
       (unsigned) number, final ? ": the final round" : "");
  return rounds_keep (r, s->rc, -1);
}

static int
on_round_begin (struct stream_recv *r, uint32_t number, bool final)
{
  return rounds_begin (r, ((struct session *) r->data)->rc, number, final);
}

static const struct stream_recv_ops recv_ops = {
  .round_begin = on_round_begin,
  .round_end = on_round_end,
  .prepare = on_prepare,
  .begin = on_begin,
  .checkpoint = on_checkpoint,
  .disk_done = on_disk_done,
  .end = on_end,
};

/* The disks are written: let them go, tell the kernel about their
 * partitions, and with --grow grow them.
 */
static int
after_session (struct receiver *rc)
{
  const struct recv_options *opts = rc->opts;
  struct grow_result res;
  size_t i;

  recv_close_disks (rc);
  for (i = 0; i < opts->n_disks; i++)
    if (grow_tell_kernel (opts->disks[i]) == -1)
      fprintf (stderr, "%s: warning: %s\n", opts->cli.prog, error_message ());
  if (!opts->grow)
    return 0;
  for (i = 0; i < opts->n_disks; i++) {
    if (grow_disk (opts->disks[i], opts->cli.verbose, &res) == -1)
      return -1;
    if (res.warning)
      fprintf (stderr, "%s: warning: %s\n", opts->cli.prog, res.message);
    else
      say (opts, "%s", res.message);
  }
  return 0;
}

enum session_end
recv_session (struct receiver *rc, int rfd, int wfd, const char *peer,
              bool auth, bool *told_peer)
{
  const struct recv_options *opts = rc->opts;
  struct session s = { .rc = rc };
  struct stream_recv r = {
    .ops = &recv_ops,
    .data = &s,
    .cli = &opts->cli,
    .token = opts->token,
    .auth = auth,
    .checkpoint_bytes = RECV_CHECKPOINT_BYTES,
    .cancel = &recv_interrupted,
    /* Under ssh, stderr is the sender's terminal, with its own bar. */
    .progress_mode
    = opts->stdio ? PROGRESS_NONE : cli_progress_mode (&opts->cli),
    .rounds_ok = true,
  };
  enum session_end end;
  uint32_t i;

  if (stream_recv_session (&r, rfd, wfd, peer) == 0)
    end = r.rounds && !r.final_done ? SESSION_PRECOPY : SESSION_DONE;
  else if (!s.prepared)
    end = SESSION_UNKNOWN;
  else if (s.refused)
    end = SESSION_REFUSED;
  else if (r.lied || r.sink_failed || recv_interrupted)
    end = SESSION_FAILED;
  else
    end = SESSION_BROKEN;
  /* The hashes of a delta broken off still describe the disks (each block
   * written is hashed): keep them before the engine lets them go.
   */
  if (end == SESSION_BROKEN && r.rounds && rounds_keep (&r, rc, -1) == -1)
    end = SESSION_FAILED;
  stream_recv_close (&r, end != SESSION_DONE && end != SESSION_PRECOPY);
  *told_peer = r.told_peer;
  for (i = 0; i < STREAM_MAX_DISKS; i++)
    sink_free (r.disks[i].sink);

  /* What a lie or a failed write left on the disks is no resume point;
   * nor is a finished transfer.  Settling the disks after a final round
   * changes them: their hashes go too.
   */
  if (end == SESSION_FAILED || end == SESSION_DONE)
    rc->resume.valid = false;
  if (end == SESSION_FAILED || end == SESSION_DONE)
    rounds_forget (rc);
  if (end == SESSION_PRECOPY)
    say (opts,
         "machine '%s': a pre-copy of %" PRIu32 " disk(s), waiting for "
         "its final round (v2p-send --resync)",
         r.h.name, r.h.n_disks);
  if (end == SESSION_DONE) {
    say (opts, "machine '%s': %" PRIu32 " disk(s) written", r.h.name,
         r.h.n_disks);
    if (after_session (rc) == -1)
      end = SESSION_FAILED;
  }
  return end;
}

int
recv_open_disks (struct receiver *rc)
{
  size_t i;

  for (i = 0; i < rc->opts->n_disks; i++)
    if (target_open (&rc->targets[i], rc->opts->disks[i]) == -1) {
      recv_close_disks (rc);
      return -1;
    }
  return 0;
}

void
recv_close_disks (struct receiver *rc)
{
  size_t i;

  for (i = 0; i < STREAM_MAX_DISKS; i++)
    target_close (&rc->targets[i]);
}
