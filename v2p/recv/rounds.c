/* v2p-recv: the rounds of a pre-copy (imaging/stream-rounds.h).
 *
 * The copy is the disk itself: a delta is written in place, where it
 * lies, by the same raw sink as a whole image.  Its block hashes are kept
 * in memory (struct copy_hashes) while v2p-recv runs, for the next round
 * and for the same sender's next connection (a resync after a pre-copy
 * without --freeze, or after a broken connection); a new v2p-recv starts
 * with a full copy, but for a resync (a final round first): then the
 * disks are read and hashed, so that only what differs travels, whatever
 * they held.  Only the final round's end settles the disks (the space
 * past the image, the GPT, --grow), which changes them: the hashes are
 * forgotten then.
 */
#include "recv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "source.h"

/* Is B the sender A was: the same machine, disks and sizes? */
static bool
same_disks (const struct stream_hello *a, const struct stream_hello *b)
{
  uint32_t i;

  if (strcmp (a->name, b->name) != 0 || a->n_disks != b->n_disks)
    return false;
  for (i = 0; i < a->n_disks; i++)
    if (strcmp (a->disks[i].name, b->disks[i].name) != 0
        || a->disks[i].size != b->disks[i].size)
      return false;
  return true;
}

void
rounds_forget (struct receiver *rc)
{
  uint32_t i;

  for (i = 0; i < STREAM_MAX_DISKS; i++)
    blockhash_free (&rc->copy.hashes[i]);
  rc->copy.valid = false;
}

int
rounds_prepare (struct stream_recv *r, struct receiver *rc)
{
  struct copy_hashes *c = &rc->copy;
  uint32_t i;

  if (!c->valid || !same_disks (&c->h, &r->h)) {
    rounds_forget (rc);
    return 0;
  }
  for (i = 0; i < r->h.n_disks; i++) {
    struct stream_recv_disk *d = &r->disks[i];
    const struct blockhash *b = &c->hashes[i];

    if (b->h == NULL || b->n != d->hashes.n)
      continue;
    memcpy (d->hashes.h, b->h, b->n * sizeof *b->h);
    d->hashes.valid = b->valid;
    if (b->valid == r->h.disks[i].size) {
      d->have_copy = true;
      d->resume = 0;
    }
    /* A first copy resumes only where its hashes go up to. */
    else if (d->resume != b->valid && stream_recv_disk_restart (d) == -1)
      return -1;
  }
  return 0;
}

int
rounds_begin (struct stream_recv *r, struct receiver *rc, uint32_t number,
              bool final)
{
  const struct recv_options *opts = rc->opts;
  struct source *src;
  uint32_t i;
  int fd, ret;

  if (number != 1 || !final)
    return 0;
  for (i = 0; i < r->h.n_disks; i++) {
    struct stream_recv_disk *d = &r->disks[i];
    const struct target *t = &rc->targets[i];

    /* A disk smaller than the image holds no copy of all of it. */
    if (d->have_copy || d->resume != 0 || t->size < r->h.disks[i].size)
      continue;
    if (!opts->cli.quiet)
      fprintf (stderr,
               "%s: %s: a resync: reading the disk for the hashes of its "
               "blocks\n",
               opts->cli.prog, t->path);
    fd = dup (t->fd);
    if (fd == -1)
      return error_errno (errno, "%s: dup", t->path);
    src = raw_source_open (t->path, fd);
    if (src == NULL) {
      close (fd);
      return -1;
    }
    ret = blockhash_of_source (&d->hashes, src, r->cancel);
    source_close (src);
    if (ret == -1)
      return error_prefix ("%s", t->path);
    d->have_copy = true;
  }
  return 0;
}

int
rounds_keep (struct stream_recv *r, struct receiver *rc, int disk)
{
  struct copy_hashes *c = &rc->copy;
  uint32_t i;

  if (!c->valid || !same_disks (&c->h, &r->h)) {
    rounds_forget (rc);
    c->h = r->h;
    c->valid = true;
  }
  for (i = 0; i < r->h.n_disks; i++) {
    struct stream_recv_disk *d = &r->disks[i];
    struct blockhash *b = &c->hashes[i];

    /* A first copy's hashes go with its resume points (DISK >= 0). */
    if (disk >= 0 ? i != (uint32_t) disk : !d->have_copy)
      continue;
    if (b->h == NULL && blockhash_init (b, r->h.disks[i].size) == -1)
      return -1;
    memcpy (b->h, d->hashes.h, b->n * sizeof *b->h);
    b->valid = disk >= 0 ? d->next : r->h.disks[i].size;
  }
  return 0;
}
