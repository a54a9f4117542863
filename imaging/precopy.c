/* p2vkit imaging engine: pre-copy rounds, the sending end (see
 * precopy.h; the protocol is stream-rounds.h).
 */
#include "precopy.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blockhash.h"
#include "copy.h"
#include "error.h"
#include "freeze.h"
#include "progress.h"
#include "qcow2.h"
#include "stream-send.h"
#include "stream-sink.h"

#define MS_PER_SECOND 1000.0
/* Bytes read (or mapped) from a source at once while scanning it: enough
 * to share out among the hashing threads, and few unmaps, each of which
 * interrupts the other processors to flush their TLBs once the hashers
 * have touched the pages (4 MiB at a time cost a 4 GiB file's resync
 * about a fifth of its time).
 */
#define SCAN_CHUNK (512 * BLOCKHASH_BLOCK_SIZE)
/* Hashing threads at most. */
#define SCAN_THREADS_MAX 4
#define MAX_DOWNTIME_LIMIT 86400.0

void
precopy_defaults (struct precopy_options *p)
{
  memset (p, 0, sizeof *p);
  p->max_downtime = PRECOPY_DEFAULT_MAX_DOWNTIME;
  p->max_rounds = PRECOPY_DEFAULT_MAX_ROUNDS;
}

int
precopy_option (struct precopy_options *p, int c, const char *arg)
{
  char *end;
  double d;
  long n;

  switch (c) {
  case PRECOPY_OPTION:
    p->precopy = true;
    return 1;
  case RESYNC_OPTION:
    p->resync = true;
    return 1;
  case FREEZE_OPTION:
    p->freeze = true;
    return 1;
  case MAX_DOWNTIME_OPTION:
    errno = 0;
    d = strtod (arg, &end);
    if (errno || end == arg || *end || !(d > 0) || d > MAX_DOWNTIME_LIMIT)
      return error ("--max-downtime: '%s': expected seconds, more than 0 "
                    "and at most %.0f",
                    arg, MAX_DOWNTIME_LIMIT);
    p->max_downtime = d;
    p->downtime_given = true;
    return 1;
  case MAX_ROUNDS_OPTION:
    errno = 0;
    n = strtol (arg, &end, 10);
    if (errno || end == arg || *end || n < 1 || n >= STREAM_MAX_ROUNDS)
      return error ("--max-rounds: '%s': expected 1 to %d", arg,
                    STREAM_MAX_ROUNDS - 1);
    p->max_rounds = (unsigned) n;
    p->rounds_given = true;
    return 1;
  }
  return 0;
}

bool
precopy_wanted (const struct precopy_options *p)
{
  return p->precopy || p->resync;
}

int
precopy_check (const struct precopy_options *p, const char *to)
{
  if (p->precopy && p->resync)
    return error ("--precopy and --resync: one or the other (--resync is the "
                  "final round alone)");
  if (p->freeze && !precopy_wanted (p))
    return error ("--freeze needs --precopy or --resync");
  if ((p->downtime_given || p->rounds_given) && !p->precopy)
    return error ("--max-downtime and --max-rounds need --precopy");
  if (precopy_wanted (p) && strncmp (to, "tcp://", 6) != 0
      && strncmp (to, "ssh://", 6) != 0)
    return error ("--%s: the receiver must answer: --to tcp:// or ssh://",
                  p->precopy ? "precopy" : "resync");
  return 0;
}

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double
wall_clock (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_REALTIME, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* The receiver's next frame, which must not be ERROR nor the end. */
static int
next_frame (struct wire *w, struct frame *f)
{
  int r = wire_recv (w, f);

  if (r == 0)
    return error ("%s: the receiver closed the connection", w->peer);
  if (r == -1)
    return -1;
  if (f->type == STREAM_ERROR)
    return stream_peer_error (w, f);
  return 0;
}

/* Drop what the page cache holds of each block device: a mounted
 * filesystem writes its data around it.
 */
static void
drop_caches (struct source *const *src, size_t n)
{
  struct stat st;
  size_t i;

  for (i = 0; i < n; i++)
    if (fstat (src[i]->fd, &st) == 0 && S_ISBLK (st.st_mode))
      posix_fadvise (src[i]->fd, 0, 0, POSIX_FADV_DONTNEED);
}

/* A run of changed blocks waiting to be sent. */
struct run {
  bool data;
  uint64_t offset, len;
  const unsigned char *buf;     /* data: where it is */
};

static int
flush_run (struct sink *k, struct run *r)
{
  int ret = 0;

  if (r->len == 0)
    return 0;
  if (r->data)
    ret = k->ops->write (k, r->buf, r->len, r->offset);
  else
    ret = k->ops->zero (k, r->offset, r->len);
  r->len = 0;
  return ret;
}

/* Add a changed block to the run, sending the run first when the block
 * does not continue it.
 */
static int
add_block (struct sink *k, struct run *r, bool data, uint64_t off, size_t len,
           const unsigned char *buf)
{
  if (r->len && (r->data != data || r->offset + r->len != off)
      && flush_run (k, r) == -1)
    return -1;
  if (r->len == 0) {
    r->data = data;
    r->offset = off;
    r->buf = buf;
  }
  r->len += len;
  return 0;
}

/* The hashing threads: one a processor, up to SCAN_THREADS_MAX. */
static unsigned
scan_threads (void)
{
  long n = sysconf (_SC_NPROCESSORS_ONLN);

  if (n < 1)
    return 1;
  return n < SCAN_THREADS_MAX ? (unsigned) n : SCAN_THREADS_MAX;
}

/* One disk as a delta against THEIRS: read it all, send what differs. */
static int
send_delta (struct wire *w, const struct stream_send_options *opts,
            struct source *src, uint32_t index, const struct stream_disk *d,
            const struct blockhash *theirs, struct stream_sink_stats *stats,
            uint64_t *changed)
{
  unsigned char head[4 + 8 + DIGEST_HEX_LENGTH];
  char digest[DIGEST_HEX_LENGTH + 1];
  uint64_t wire_before = w->bytes_out, data_before = stats->data_bytes;
  struct blockhash mine = { .h = NULL };
  struct blockhash_hashers *hashers = NULL;
  struct run run = { .len = 0 };
  unsigned char *buf = NULL;
  struct progress progress;
  const unsigned char *data;
  const void *map = NULL;
  struct sink *k = NULL;
  uint64_t off = 0, len = 0;
  struct extent e;
  int ret = -1;

  *changed = 0;
  be32_put (head, index);
  be64_put (head + 4, 0);
  if (wire_send (w, STREAM_DISK, 0, head, 12) == -1)
    goto out;
  if (blockhash_init (&mine, d->size) == -1)
    goto out;
  buf = malloc (SCAN_CHUNK);
  if (buf == NULL) {
    error ("out of memory");
    goto out;
  }
  hashers = blockhash_hashers_new (scan_threads ());
  if (hashers == NULL)
    goto out;
  k = stream_sink_new (w, index, d->name, d->size, opts->level, stats);
  if (k == NULL)
    goto out;
  progress_start (&progress, cli_progress_mode (opts->cli), d->name, d->size);
  while (off < d->size) {
    uint64_t end, b;

    len = d->size - off < SCAN_CHUNK ? d->size - off : SCAN_CHUNK;

    if (opts->cancel && *opts->cancel) {
      error ("interrupted");
      goto out;
    }
    /* The source's size may end inside the last block: src->size. */
    if (off < src->size
        && src->ops->extent (src, off, src->size - off, &e) == -1)
      goto out;
    if (off >= src->size) {
      e.type = EXTENT_ZERO;
      e.length = d->size - off;
    }
    end = off + e.length;
    if (e.type == EXTENT_ZERO && end < d->size)
      end = end / BLOCKHASH_BLOCK_SIZE * BLOCKHASH_BLOCK_SIZE;
    if (e.type == EXTENT_ZERO && end > off) {
      /* Whole zero blocks: nothing to read. */
      for (b = off / BLOCKHASH_BLOCK_SIZE; b < blockhash_count (end); b++) {
        uint64_t boff = b * BLOCKHASH_BLOCK_SIZE;
        size_t blen = d->size - boff < BLOCKHASH_BLOCK_SIZE
          ? (size_t) (d->size - boff)
          : BLOCKHASH_BLOCK_SIZE;

        mine.h[b] = blockhash_zero (&mine, b);
        if (theirs->h[b] != mine.h[b]) {
          if (add_block (k, &run, false, boff, blen, NULL) == -1)
            goto out;
          *changed += blen;
        }
      }
      off = end;
      progress_update (&progress, off);
      continue;
    }
    /* A file's page cache is read in place; anything else into BUF. */
    data = buf;
    map = NULL;
    if (off + len <= src->size && src->ops->map) {
      int r = src->ops->map (src, off, len, &map);

      if (r == -1)
        goto out;
      if (r == 1)
        data = map;
      else
        map = NULL;
    }
    if (map == NULL && off + len > src->size) {
      memset (buf, 0, len);
      if (src->size > off
          && src->ops->pread (src, buf, src->size - off, off) == -1)
        goto out;
    }
    else if (map == NULL && src->ops->pread (src, buf, len, off) == -1)
      goto out;
    blockhash_hashers_set_data (hashers, &mine, off, data, len);
    for (b = off / BLOCKHASH_BLOCK_SIZE; b < blockhash_count (off + len); b++) {
      uint64_t boff = b * BLOCKHASH_BLOCK_SIZE;
      size_t blen = (size_t) (off + len - boff) < BLOCKHASH_BLOCK_SIZE
        ? (size_t) (off + len - boff)
        : BLOCKHASH_BLOCK_SIZE;
      const unsigned char *p = data + (boff - off);
      bool zero;

      if (theirs->h[b] == mine.h[b])
        continue;
      zero = mine.h[b] == blockhash_zero (&mine, b) && is_zero (p, blen);
      if (add_block (k, &run, !zero, boff, blen, zero ? NULL : p) == -1)
        goto unmap;
      *changed += blen;
    }
    /* The run of data points into DATA: it goes before DATA does. */
    if (run.data && flush_run (k, &run) == -1)
      goto unmap;
    if (map)
      src->ops->unmap (src, off, len, map);
    map = NULL;
    off += len;
    progress_update (&progress, off);
  }
  if (flush_run (k, &run) == -1)
    goto out;
  progress_end (&progress);
  blockhash_digest (&mine, digest);
  be32_put (head, index);
  memcpy (head + 4, digest, DIGEST_HEX_LENGTH);
  if (wire_send (w, STREAM_DISK_END, 0, head, 4 + DIGEST_HEX_LENGTH) == -1)
    goto out;
  if (opts->cli->machine_readable) {
    printf ("disk %s size=%" PRIu64 " resumed-at=0 data=%" PRIu64
            " wire=%" PRIu64 " digest=%s seconds=%.3f\n",
            d->name, d->size, stats->data_bytes - data_before,
            w->bytes_out - wire_before, digest, progress_elapsed (&progress));
    fflush (stdout);
  }
  ret = 0;
  goto out;

unmap:
  if (map)
    src->ops->unmap (src, off, len, map);
out:
  sink_free (k);
  blockhash_hashers_free (hashers);
  free (buf);
  blockhash_free (&mine);
  return ret;
}

/* What the receiver holds of each disk, from its HASHES. */
static int
receive_hashes (struct wire *w, const struct stream_hello *h,
                struct blockhash *theirs, bool *none)
{
  struct frame f;
  uint32_t i;

  for (i = 0; i < h->n_disks; i++) {
    uint64_t next = 0;

    do {
      if (next_frame (w, &f) == -1)
        return -1;
      if (stream_decode_hashes (&f, i, &theirs[i], &next, &none[i]) == -1)
        return error_prefix ("%s", w->peer);
    } while (!none[i] && next < theirs[i].n);
  }
  return 0;
}

/* One round.  Sets *CHANGED to the bytes that differed. */
static int
run_round (struct wire *w, const struct stream_send_options *opts,
           struct source *const *src, const struct stream_hello *h,
           const uint64_t *resume, const struct stream_round *rd,
           struct blockhash *theirs, struct stream_sink_stats *stats,
           uint64_t *changed)
{
  bool none[STREAM_MAX_DISKS];
  struct frame f;
  uint64_t c;
  uint32_t i;

  *changed = 0;
  drop_caches (src, h->n_disks);
  if (stream_send_round (w, rd) == -1
      || receive_hashes (w, h, theirs, none) == -1)
    return -1;
  for (i = 0; i < h->n_disks; i++) {
    if (none[i]) {
      uint64_t before = stats->data_bytes;

      /* No copy there: all of it, as one pass would. */
      if (stream_send_disk (w, opts, src[i], i, &h->disks[i],
                            rd->number == 1 ? resume[i] : 0, stats)
          == -1)
        return -1;
      *changed += stats->data_bytes - before;
      continue;
    }
    if (send_delta (w, opts, src[i], i, &h->disks[i], &theirs[i], stats, &c)
        == -1)
      return -1;
    *changed += c;
  }
  if (stream_send_round_number (w, STREAM_ROUND_END, rd->number) == -1
      || next_frame (w, &f) == -1)
    return -1;
  if (stream_decode_round_number (&f, STREAM_ROUND_DONE, rd->number) == -1)
    return error_prefix ("%s", w->peer);
  return 0;
}

static void
report (const struct stream_send_options *opts, const struct stream_figures *fg,
        bool final, const char *why)
{
  const struct cli *cli = opts->cli;
  uint32_t i;

  if (cli->machine_readable) {
    printf ("precopy rounds=%" PRIu32 " final=%d total-seconds=%.3f "
            "downtime-seconds=%.3f\n",
            fg->rounds, final, fg->total_ms / MS_PER_SECOND,
            fg->downtime_ms / MS_PER_SECOND);
    fflush (stdout);
  }
  if (cli->quiet)
    return;
  fprintf (stderr, "%s: pre-copy: %" PRIu32 " round(s) in %.1f s; ", cli->prog,
           fg->rounds, fg->total_ms / MS_PER_SECOND);
  if (final)
    fprintf (stderr, "downtime %.1f s (the final round)\n",
             fg->downtime_ms / MS_PER_SECOND);
  else
    fprintf (stderr,
             "no final round (%s): finish with --resync from the "
             "live system\n",
             why);
  for (i = 0; i < fg->rounds; i++)
    fprintf (stderr,
             "%s:   round %" PRIu32 ": %" PRIu64 " bytes of data, %" PRIu64
             " on the wire, %.1f s\n",
             cli->prog, i + 1, fg->round[i].data, fg->round[i].wire,
             fg->round[i].ms / MS_PER_SECOND);
}

int
precopy_run (struct wire *w, const struct stream_send_options *opts,
             struct source *const *src, char *const *paths,
             const struct stream_hello *h, const uint64_t *resume,
             struct stream_sink_stats *stats)
{
  const struct precopy_options *p = opts->precopy;
  struct blockhash theirs[STREAM_MAX_DISKS];
  struct stream_figures *fg = calloc (1, sizeof *fg);
  struct freezer *fz = NULL;
  double start = now (), best_rate = 0;
  uint64_t prev_changed = UINT64_MAX;
  const char *why = "";
  bool final = false;
  uint32_t i, n_ok = 0;
  int ret = -1;

  memset (theirs, 0, sizeof theirs);
  if (fg == NULL)
    return error ("out of memory");
  for (i = 0; i < h->n_disks; i++, n_ok++)
    if (blockhash_init (&theirs[i], h->disks[i].size) == -1)
      goto out;
  if (p->freeze) {
    unsigned timeout
      = (unsigned) (p->max_downtime * PRECOPY_FREEZE_TIMEOUT_FACTOR);

    if (timeout < PRECOPY_MIN_FREEZE_TIMEOUT)
      timeout = PRECOPY_MIN_FREEZE_TIMEOUT;
    fz = freezer_new (paths, h->n_disks, timeout);
    if (fz == NULL)
      goto out;
    if (freezer_count (fz) == 0 && !opts->cli->quiet)
      fprintf (stderr,
               "%s: warning: --freeze: no filesystem is mounted from the "
               "sources: nothing to freeze\n",
               opts->cli->prog);
    if (opts->cli->verbose)
      for (i = 0; i < freezer_count (fz); i++)
        fprintf (stderr, "%s: the final round freezes %s\n", opts->cli->prog,
                 freezer_mount (fz, i));
  }
  /* --resync: the final round alone. */
  final = p->resync;

  for (;;) {
    struct stream_round rd = { .number = fg->rounds + 1 };
    uint64_t wire_before = w->bytes_out + w->bytes_in;
    uint64_t data_before = stats->data_bytes, changed;
    struct stream_round_figures *rf = &fg->round[fg->rounds];
    double t0, t1, secs, rate, est;

    if (final)
      rd.flags |= STREAM_ROUND_FINAL;
    t0 = now ();
    /* --bandwidth: the time a round spent reading is no credit for the
     * next one to send faster than the cap.
     */
    if (w->bandwidth > 0
        && w->since < t0 - (double) w->bytes_out / w->bandwidth)
      w->since = t0 - (double) w->bytes_out / w->bandwidth;
    if (final && fz) {
      if (freezer_freeze (fz) == -1)
        goto out;
      if (opts->cli->machine_readable) {
        printf ("freeze filesystems=%zu at=%.6f\n", freezer_count (fz),
                wall_clock ());
        fflush (stdout);
      }
    }
    if (run_round (w, opts, src, h, resume, &rd, theirs, stats, &changed) == -1)
      goto out;
    if (final && fz) {
      if (freezer_thaw (fz) == -1)
        goto out;
      if (opts->cli->machine_readable) {
        printf ("thaw at=%.6f\n", wall_clock ());
        fflush (stdout);
      }
    }
    t1 = now ();
    secs = t1 - t0;
    rf->data = stats->data_bytes - data_before;
    rf->wire = w->bytes_out + w->bytes_in - wire_before;
    rf->ms = (uint64_t) (secs * MS_PER_SECOND + 0.5);
    fg->rounds++;
    if (opts->cli->machine_readable) {
      printf ("round %" PRIu32 " changed=%" PRIu64 " data=%" PRIu64
              " wire=%" PRIu64 " seconds=%.3f final=%d\n",
              rd.number, changed, rf->data, rf->wire, secs, final);
      fflush (stdout);
    }
    else if (opts->cli->verbose)
      fprintf (stderr,
               "%s: round %" PRIu32 ": %" PRIu64 " bytes changed, %.1f s\n",
               opts->cli->prog, rd.number, changed, secs);
    if (final) {
      fg->flags = STREAM_ROUND_FINAL;
      fg->downtime_ms = rf->ms;
      break;
    }

    /* Whether to go on pre-copying. */
    rate = secs > 0 ? (double) rf->data / secs : 0;
    if (rate > best_rate)
      best_rate = rate;
    est = best_rate > 0 ? (double) changed / best_rate : 0;
    why = NULL;
    if (rd.number >= 2 && est <= p->max_downtime)
      why = "the rest fits --max-downtime";
    else if (rd.number >= 2 && changed >= prev_changed)
      why = "the changes no longer shrink";
    else if (rd.number >= p->max_rounds)
      why = "--max-rounds";
    if (rd.number >= 2)
      prev_changed = changed;
    if (why == NULL)
      continue;
    if (opts->cli->verbose)
      fprintf (stderr, "%s: pre-copy stops after round %" PRIu32 ": %s\n",
               opts->cli->prog, rd.number, why);
    if (!p->freeze)
      break;
    final = true;
  }
  fg->total_ms = (uint64_t) ((now () - start) * MS_PER_SECOND + 0.5);
  if (stream_send_figures (w, fg) == -1)
    goto out;
  report (opts, fg, final, why ? why : "");
  ret = 0;

out:
  /* Thawed on every path: here, and by the helper if we die. */
  freezer_free (fz);
  for (i = 0; i < n_ok; i++)
    blockhash_free (&theirs[i]);
  free (fg);
  return ret;
}
