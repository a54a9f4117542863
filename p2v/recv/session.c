/* p2v-recv: one sender's session (see stream.h for the protocol).
 *
 * Nothing from the wire is trusted: names were checked by the HELLO
 * decoder (they are safe file name components), and every DATA and ZERO
 * frame must continue its disk exactly where the last one ended, inside
 * the disk, on a block boundary.  Authentication comes before anything is
 * created on disk.  Each disk is written as OUT/NAME/NAME-DISK.qcow2.part
 * and renamed when its digest matches the sender's; a checkpoint every
 * RECV_CHECKPOINT_BYTES lets a broken transfer resume.  A sender that
 * breaks the protocol or whose digest does not match loses its partial
 * output; one whose connection merely broke keeps it for the resume.
 */
#include "recv.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "convert.h"
#include "digest.h"
#include "error.h"
#include "file.h"
#include "inventory.h"
#include "progress.h"
#include "qcow2.h"
#include "sink.h"

/* Waiting for the machine's lock: 100 ms at a time, for 30 s. */
#define RECV_LOCK_WAIT_US 100000
#define RECV_LOCK_TRIES 300

struct disk_state {
  char *path;                   /* OUT/NAME/NAME-DISK.qcow2 */
  struct sink *sink;            /* NULL until begun, and when finished */
  struct digest *digest;
  uint64_t resume;              /* where the sender is to start */
  uint64_t next;                /* the next offset expected */
  uint64_t checkpointed;        /* offset of the last checkpoint */
  struct progress progress;     /* lines for scripts, or nothing */
  char label[2 * STREAM_MAX_NAME + 2];  /* MACHINE-DISK */
  bool done;
};

struct session {
  const struct recv_options *opts;
  struct wire w;
  struct stream_hello h;
  struct disk_state disks[STREAM_MAX_DISKS];
  int current;                  /* the disk being received, or -1 */
  int lock_fd;
  bool lied;                    /* a protocol violation: discard outputs */
  bool sink_failed;             /* writing failed: no checkpoint after it */
  char *dir;                    /* OUT/NAME */
  char *inventory;              /* the validated XML, or NULL */
  size_t inventory_len;
  unsigned char *buf;           /* a decompressed DATA body */
  ZSTD_DCtx *dctx;
};

/* A protocol violation: the partial outputs go. */
static int violation (struct session *s, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

static int
violation (struct session *s, const char *fmt, ...)
{
  char msg[512];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  s->lied = true;
  return error ("%s: stream: %s", s->h.name, msg);
}

/* The output directory OUT/NAME, created if needed (never through a
 * symbolic link), locked against a second sender of the same name.
 */
static int
open_machine_dir (struct session *s)
{
  struct stat st;
  char *lock = NULL;
  int ret = -1, tries;

  if (asprintf (&s->dir, "%s/%s", s->opts->out, s->h.name) == -1) {
    s->dir = NULL;
    return error ("out of memory");
  }
  if (mkdir (s->dir, 0755) == -1 && errno != EEXIST)
    return error_errno (errno, "%s: create", s->dir);
  if (lstat (s->dir, &st) == -1)
    return error_errno (errno, "%s", s->dir);
  if (!S_ISDIR (st.st_mode))
    return error ("%s: not a directory", s->dir);
  if (asprintf (&lock, "%s/.lock", s->dir) == -1)
    return error ("out of memory");
  s->lock_fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (s->lock_fd == -1) {
    error_errno (errno, "%s: create", lock);
    goto out;
  }
  /* A session whose connection just broke may still be saving its last
   * checkpoint: give it a moment before calling the machine busy.
   */
  for (tries = 0; flock (s->lock_fd, LOCK_EX | LOCK_NB) == -1; tries++) {
    if (tries == RECV_LOCK_TRIES) {
      error ("%s: another sender is writing machine '%s' now", s->dir,
             s->h.name);
      goto out;
    }
    usleep (RECV_LOCK_WAIT_US);
  }
  ret = 0;

out:
  free (lock);
  return ret;
}

/* For each disk: refuse to overwrite, or find where to resume. */
static int
prepare_disks (struct session *s, struct stream_welcome *wl)
{
  struct sink_options sopts = { .force = s->opts->cli.force };
  size_t extra_cap = digest_state_size ();
  unsigned char *extra = NULL;
  struct stat st;
  uint32_t i;
  int ret = -1;

  extra = malloc (extra_cap);
  if (extra == NULL)
    return error ("out of memory");
  wl->n_disks = s->h.n_disks;
  for (i = 0; i < s->h.n_disks; i++) {
    struct disk_state *d = &s->disks[i];
    size_t extra_len = extra_cap;

    if (asprintf (&d->path, "%s/%s-%s.qcow2", s->dir, s->h.name,
                  s->h.disks[i].name)
        == -1) {
      d->path = NULL;
      error ("out of memory");
      goto out;
    }
    d->digest = digest_new ();
    if (d->digest == NULL)
      goto out;
    if (!s->opts->cli.force && stat (d->path, &st) == 0) {
      error ("%s: already exists (the receiver needs --force to replace it)",
             d->path);
      goto out;
    }
    if (!(s->h.flags & STREAM_HELLO_ONEWAY)
        && qcow2_sink_can_resume (d->path)) {
      d->sink = qcow2_sink_resume (d->path, s->h.disks[i].size, NULL, &sopts,
                                   &d->resume, extra, &extra_len);
      if (d->sink && digest_restore (d->digest, extra, extra_len) == -1) {
        sink_free (d->sink);
        d->sink = NULL;
      }
      if (d->sink == NULL) {
        fprintf (stderr, "%s: %s: cannot resume (%s): starting again\n",
                 s->opts->cli.prog, d->path, error_message ());
        d->resume = 0;
        digest_free (d->digest);
        d->digest = digest_new ();
        if (d->digest == NULL)
          goto out;
      }
      else {
        if (s->opts->cli.verbose)
          fprintf (stderr, "%s: %s: resuming at offset %" PRIu64 "\n",
                   s->opts->cli.prog, d->path, d->resume);
      }
    }
    d->next = d->checkpointed = d->resume;
    wl->resume[i] = d->resume;
  }
  ret = 0;

out:
  free (extra);
  return ret;
}

static int
handshake (struct session *s, bool auth, bool *oneway_out)
{
  unsigned char hello_hash[STREAM_MAC_SIZE], mac[STREAM_MAC_SIZE];
  struct stream_challenge ch = { .version = STREAM_VERSION, .auth = auth };
  struct stream_welcome wl = { .n_disks = 0 };
  bool oneway;
  struct frame f;
  int r;

  r = wire_recv (&s->w, &f);
  if (r == 0)
    return error ("%s: closed before saying hello", s->w.peer);
  if (r == -1)
    return -1;
  if (stream_decode_hello (&f, &s->h, hello_hash) == -1)
    return error_prefix ("%s", s->w.peer);
  oneway = s->h.flags & STREAM_HELLO_ONEWAY;
  *oneway_out = oneway;

  if (oneway && auth)
    return error ("%s: a one-way stream cannot authenticate: refused",
                  s->w.peer);
  if (!oneway) {
    stream_nonce (ch.nonce);
    if (stream_send_challenge (&s->w, &ch) == -1)
      return -1;
  }
  if (auth) {
    r = wire_recv (&s->w, &f);
    if (r == 0)
      return error ("%s: closed before authenticating", s->w.peer);
    if (r == -1)
      return -1;
    stream_mac_sender (s->opts->token, ch.nonce, s->h.nonce, hello_hash, mac);
    if (f.type != STREAM_AUTH || f.len != STREAM_MAC_SIZE
        || !stream_mac_equal (mac, f.payload)) {
      stream_send_error (&s->w, "authentication failed: wrong token");
      return error ("%s: machine '%s': authentication failed (wrong token)",
                    s->w.peer, s->h.name);
    }
    stream_mac_receiver (s->opts->token, s->h.nonce, ch.nonce, wl.mac);
  }

  /* Only now, authenticated, does anything appear on disk. */
  if (open_machine_dir (s) == -1 || prepare_disks (s, &wl) == -1) {
    if (!oneway)
      stream_send_error (&s->w, error_message ());
    return -1;
  }
  if (!oneway && stream_send_welcome (&s->w, &wl) == -1)
    return -1;
  return 0;
}

static int
checkpoint (struct disk_state *d)
{
  size_t n = digest_state_size ();
  unsigned char *extra;
  int r;

  if (n > QCOW2_STATE_EXTRA_MAX)
    return error ("digest state too large to checkpoint");
  extra = malloc (n);
  if (extra == NULL)
    return error ("out of memory");
  digest_save (d->digest, extra);
  r = qcow2_sink_checkpoint (d->sink, extra, n);
  free (extra);
  if (r == 0)
    d->checkpointed = d->next;
  return r;
}

static int
on_inventory (struct session *s, const struct frame *f)
{
  struct inventory inv;
  char *xml = NULL;
  size_t len;

  if (s->inventory)
    return violation (s, "a second INVENTORY");
  if (f->flags & WIRE_FLAG_ZSTD) {
    unsigned long long n = ZSTD_getFrameContentSize (f->payload, f->len);

    if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN
        || n > STREAM_MAX_INVENTORY)
      return violation (s, "INVENTORY: bad compressed size");
    xml = malloc (n + 1);
    if (xml == NULL)
      return error ("out of memory");
    len = ZSTD_decompressDCtx (s->dctx, xml, n, f->payload, f->len);
    if (ZSTD_isError (len) || len != n) {
      free (xml);
      return violation (s, "INVENTORY: does not decompress");
    }
  }
  else {
    len = f->len;
    xml = malloc (len + 1);
    if (xml == NULL)
      return error ("out of memory");
    memcpy (xml, f->payload, len);
  }
  xml[len] = '\0';
  memset (&inv, 0, sizeof inv);
  if (inventory_parse_xml (xml, len, &inv) == -1) {
    free (xml);
    return violation (s, "INVENTORY: %s", error_message ());
  }
  inventory_free (&inv);
  s->inventory = xml;
  s->inventory_len = len;
  return 0;
}

static int
on_disk (struct session *s, const struct frame *f)
{
  struct sink_options sopts = { .force = s->opts->cli.force };
  struct disk_state *d;
  struct rbuf b;
  uint32_t i;
  uint64_t start;

  rbuf_init (&b, f->payload, f->len, "DISK");
  i = rbuf_u32 (&b);
  start = rbuf_u64 (&b);
  if (rbuf_done (&b) == -1)
    return violation (s, "%s", error_message ());
  if (s->current != -1)
    return violation (s, "DISK before the previous disk ended");
  if (i >= s->h.n_disks || s->disks[i].done)
    return violation (s, "DISK %" PRIu32 ": no such disk, or done", i);
  d = &s->disks[i];
  if (start != d->resume)
    return violation (s, "DISK %" PRIu32 " starts at %" PRIu64 ", not %" PRIu64,
                      i, start, d->resume);
  if (d->sink == NULL) {
    d->sink = qcow2_sink_create (d->path, s->h.disks[i].size, NULL, &sopts);
    if (d->sink == NULL)
      return -1;
  }
  s->current = (int) i;
  /* Several senders may be at work: no bars, only lines for scripts. */
  {
    /* Built aside: GCC cannot tell d->label from the names in s. */
    char label[sizeof d->label];

    snprintf (label, sizeof label, "%s-%s", s->h.name, s->h.disks[i].name);
    memcpy (d->label, label, sizeof label);
  }
  progress_start (&d->progress,
                  s->opts->cli.machine_readable ? PROGRESS_MACHINE
                                                : PROGRESS_NONE,
                  d->label, s->h.disks[i].size);
  progress_update (&d->progress, d->next);
  return 0;
}

/* Check a DATA or ZERO frame's place: the current disk, where the last
 * frame ended, inside the disk, on a block boundary.
 */
static int
check_range (struct session *s, const char *what, uint32_t i, uint64_t off,
             uint64_t len)
{
  struct disk_state *d;
  uint64_t size;

  if (s->current == -1 || i != (uint32_t) s->current)
    return violation (s, "%s for disk %" PRIu32 ", which is not open", what, i);
  d = &s->disks[i];
  size = s->h.disks[i].size;
  if (off != d->next)
    return violation (s, "%s at offset %" PRIu64 ", expected %" PRIu64, what,
                      off, d->next);
  if (len == 0 || len > size || off > size - len)
    return violation (s,
                      "%s of %" PRIu64 " bytes at %" PRIu64
                      " runs past the end of the disk (%" PRIu64 " bytes)",
                      what, len, off, size);
  if (len % STREAM_BLOCK_SIZE && off + len != size)
    return violation (s, "%s of %" PRIu64 " bytes is not whole blocks", what,
                      len);
  return 0;
}

static int
after_range (struct session *s, struct disk_state *d, uint64_t len)
{
  d->next += len;
  progress_update (&d->progress, d->next);
  if (d->next - d->checkpointed >= RECV_CHECKPOINT_BYTES
      && !(s->h.flags & STREAM_HELLO_ONEWAY))
    return checkpoint (d);
  return 0;
}

static int
on_data (struct session *s, const struct frame *f)
{
  const unsigned char *body;
  struct disk_state *d;
  uint32_t i, raw;
  uint64_t off;
  size_t n, got;
  struct rbuf b;

  rbuf_init (&b, f->payload, f->len, "DATA");
  i = rbuf_u32 (&b);
  off = rbuf_u64 (&b);
  raw = rbuf_u32 (&b);
  body = rbuf_rest (&b, &n);
  if (rbuf_done (&b) == -1)
    return violation (s, "%s", error_message ());
  if (raw > STREAM_MAX_DATA)
    return violation (s, "DATA frame length %" PRIu32 " exceeds the limit",
                      raw);
  if (check_range (s, "DATA", i, off, raw) == -1)
    return -1;
  d = &s->disks[i];
  if (f->flags & WIRE_FLAG_ZSTD) {
    got = ZSTD_decompressDCtx (s->dctx, s->buf, raw, body, n);
    if (ZSTD_isError (got) || got != raw)
      return violation (s,
                        "DATA at offset %" PRIu64
                        " does not decompress to %" PRIu32 " bytes",
                        off, raw);
    body = s->buf;
  }
  else if (n != raw)
    return violation (
      s, "DATA at offset %" PRIu64 " holds %zu bytes, not %" PRIu32, off, n,
      raw);
  digest_data (d->digest, body, raw);
  if (d->sink->ops->write (d->sink, body, raw, off) == -1) {
    s->sink_failed = true;
    return -1;
  }
  return after_range (s, d, raw);
}

static int
on_zero (struct session *s, const struct frame *f)
{
  struct disk_state *d;
  uint64_t off, len;
  struct rbuf b;
  uint32_t i;

  rbuf_init (&b, f->payload, f->len, "ZERO");
  i = rbuf_u32 (&b);
  off = rbuf_u64 (&b);
  len = rbuf_u64 (&b);
  if (rbuf_done (&b) == -1)
    return violation (s, "%s", error_message ());
  if (check_range (s, "ZERO", i, off, len) == -1)
    return -1;
  d = &s->disks[i];
  digest_zero (d->digest, len);
  if (d->sink->ops->zero (d->sink, off, len) == -1) {
    s->sink_failed = true;
    return -1;
  }
  return after_range (s, d, len);
}

static int
on_disk_end (struct session *s, const struct frame *f)
{
  char mine[DIGEST_HEX_LENGTH + 1], theirs[DIGEST_HEX_LENGTH + 1];
  struct disk_state *d;
  const unsigned char *p;
  struct rbuf b;
  uint32_t i;

  rbuf_init (&b, f->payload, f->len, "DISK_END");
  i = rbuf_u32 (&b);
  p = rbuf_bytes (&b, DIGEST_HEX_LENGTH);
  if (rbuf_done (&b) == -1)
    return violation (s, "%s", error_message ());
  if (s->current == -1 || i != (uint32_t) s->current)
    return violation (s, "DISK_END for disk %" PRIu32 ", which is not open", i);
  d = &s->disks[i];
  if (d->next != s->h.disks[i].size)
    return violation (s, "disk '%s' ended at %" PRIu64 " of %" PRIu64 " bytes",
                      s->h.disks[i].name, d->next, s->h.disks[i].size);
  memcpy (theirs, p, DIGEST_HEX_LENGTH);
  theirs[DIGEST_HEX_LENGTH] = '\0';
  digest_final (d->digest, mine);
  if (strcmp (mine, theirs) != 0)
    return violation (s,
                      "disk '%s': digest mismatch: sent %.32s, received "
                      "%s",
                      s->h.disks[i].name, theirs, mine);
  if (d->sink->ops->finish (d->sink) == -1)
    return -1;
  progress_end (&d->progress);
  sink_free (d->sink);
  d->sink = NULL;
  d->done = true;
  s->current = -1;
  if (s->opts->cli.machine_readable) {
    printf ("disk %s size=%" PRIu64 " digest=%s\n", d->path, s->h.disks[i].size,
            mine);
    fflush (stdout);
  }
  if (s->opts->cli.verbose)
    fprintf (stderr, "%s: received %s (digest %s)\n", s->opts->cli.prog,
             d->path, mine);
  return 0;
}

/* Everything arrived: the inventory appears last, next to the images. */
static int
on_end (struct session *s)
{
  struct sink_options sopts = { .force = true };
  char *path = NULL, *final = NULL, *tmp = NULL;
  uint32_t i;
  int fd = -1, ret = -1;

  for (i = 0; i < s->h.n_disks; i++)
    if (!s->disks[i].done)
      return violation (s, "END before disk '%s' was sent", s->h.disks[i].name);
  if (s->inventory == NULL)
    return 0;
  if (asprintf (&path, "%s/inventory.xml", s->dir) == -1) {
    path = NULL;
    error ("out of memory");
    goto out;
  }
  fd = file_create_temp (path, true, &final, &tmp);
  if (fd == -1)
    goto out;
  if (file_pwrite_all (fd, s->inventory, s->inventory_len, 0) == -1) {
    error_prefix ("%s", path);
    close (fd);
    unlink (tmp);
    goto out;
  }
  if (file_commit (fd, tmp, final, &sopts) == -1) {
    unlink (tmp);
    goto out;
  }
  ret = 0;

out:
  free (path);
  free (final);
  free (tmp);
  return ret;
}

/* --convert: the fixup and the domain XML for what arrived, as
 * p2v-convert makes them (p2v/common/convert.c).
 */
static int
convert_machine (struct session *s)
{
  struct convert_job job = {
    .prog = s->opts->cli.prog,
    .name = s->h.name,
    .n_images = s->h.n_disks,
    .network = s->opts->network,
    .bridge = s->opts->bridge,
    .quiet = s->opts->cli.quiet,
    .verbose = s->opts->cli.verbose,
    .progress_to_stderr = true,
  };
  char *images[STREAM_MAX_DISKS], *inventory = NULL, *report = NULL,
                                  *xml = NULL;
  uint32_t i;
  int ret = -1;

  for (i = 0; i < s->h.n_disks; i++)
    images[i] = s->disks[i].path;
  job.images = images;
  if ((s->inventory && asprintf (&inventory, "%s/inventory.xml", s->dir) == -1)
      || asprintf (&report, "%s/%s-fixup.xml", s->dir, s->h.name) == -1
      || asprintf (&xml, "%s/%s.xml", s->dir, s->h.name) == -1) {
    error ("out of memory");
    goto out;
  }
  job.inventory = inventory;
  job.report = report;
  job.xml = xml;
  /* Without an inventory the guest's own configuration names the NICs. */
  job.new_macs = inventory == NULL;
  if (!s->opts->cli.quiet)
    fprintf (stderr,
             "%s: machine '%s': converting (p2v-fixup, then "
             "p2v-domxml; minutes without KVM)\n",
             s->opts->cli.prog, s->h.name);
  if (convert_fixup (&job) == -1 || convert_domxml (&job) == -1) {
    error_prefix ("machine '%s': --convert", s->h.name);
    goto out;
  }
  if (!s->opts->cli.quiet)
    fprintf (stderr, "%s: machine '%s': converted: virsh define %s\n",
             s->opts->cli.prog, s->h.name, xml);
  ret = 0;
out:
  free (inventory);
  free (report);
  free (xml);
  return ret;
}

static int
receive_frames (struct session *s)
{
  struct frame f;
  int r;

  for (;;) {
    r = wire_recv (&s->w, &f);
    if (r == -1)
      return -1;
    if (r == 0)
      return error ("%s: machine '%s': the sender went away in the middle",
                    s->w.peer, s->h.name);
    switch (f.type) {
    case STREAM_INVENTORY:
      r = on_inventory (s, &f);
      break;
    case STREAM_DISK:
      r = on_disk (s, &f);
      break;
    case STREAM_DATA:
      r = on_data (s, &f);
      break;
    case STREAM_ZERO:
      r = on_zero (s, &f);
      break;
    case STREAM_DISK_END:
      r = on_disk_end (s, &f);
      break;
    case STREAM_END:
      return on_end (s);
    case STREAM_ERROR:
      return stream_peer_error (&s->w, &f);
    default:
      return violation (s, "unexpected frame type %u", f.type);
    }
    if (r == -1)
      return -1;
  }
}

int
recv_session (const struct recv_options *opts, int rfd, int wfd,
              const char *peer, bool auth, bool *told_peer)
{
  struct session s = { .opts = opts, .current = -1, .lock_fd = -1 };
  bool oneway = false;
  uint32_t i;
  int ret = -1;

  if (wire_init (&s.w, rfd, wfd, peer) == -1)
    return -1;
  /* Whoever connects must speak up quickly; a sender who has, may then
   * pause for longer (a slow disk, a busy link).
   */
  s.w.timeout = RECV_HANDSHAKE_TIMEOUT;
  s.buf = malloc (STREAM_MAX_DATA);
  s.dctx = ZSTD_createDCtx ();
  if (s.buf == NULL || s.dctx == NULL) {
    error ("out of memory");
    goto out;
  }
  /* Until a HELLO says otherwise, the sender may not be listening: a pipe
   * into our stdin, with our stdout on a terminal.
   */
  oneway = true;
  if (handshake (&s, auth, &oneway) == -1)
    goto out;
  s.w.timeout = RECV_TIMEOUT;
  if (receive_frames (&s) == -1)
    goto out;
  if (!oneway && wire_send (&s.w, STREAM_DONE, 0, NULL, 0) == -1)
    goto out;
  /* Under ssh, the sender's user would see this: only if asked for. */
  if (opts->stdio ? opts->cli.verbose : !opts->cli.quiet)
    fprintf (stderr, "%s: machine '%s': %" PRIu32 " disk(s) in %s\n",
             opts->cli.prog, s.h.name, s.h.n_disks, s.dir);
  /* Still under the machine's lock: no sender writes it meanwhile. */
  if (opts->convert && convert_machine (&s) == -1)
    goto out;
  ret = 0;

out:
  *told_peer = false;
  if (ret == -1 && !oneway && s.w.rbuf)
    *told_peer = stream_send_error (&s.w, error_message ()) == 0;
  /* Garbled frames are lies too; and a one-way stream cannot resume. */
  if (s.w.garbled || oneway)
    s.lied = true;
  for (i = 0; i < STREAM_MAX_DISKS; i++) {
    struct disk_state *d = &s.disks[i];

    /* A broken connection keeps what a resume needs, with a last
     * checkpoint at the last whole frame; a lie keeps nothing.
     */
    if (d->sink) {
      if (!s.lied) {
        if (!s.sink_failed && d->next > d->checkpointed)
          checkpoint (d);
        qcow2_sink_keep_partial (d->sink);
      }
      sink_free (d->sink);
    }
    digest_free (d->digest);
    free (d->path);
  }
  if (s.lock_fd >= 0) {
    /* A liar leaves nothing: not even an empty directory for itself. */
    if (s.lied && s.dir) {
      char *lock = NULL;

      if (asprintf (&lock, "%s/.lock", s.dir) != -1) {
        unlink (lock);
        free (lock);
      }
      rmdir (s.dir);
    }
    close (s.lock_fd);
  }
  ZSTD_freeDCtx (s.dctx);
  free (s.buf);
  free (s.inventory);
  free (s.dir);
  wire_free (&s.w);
  return ret;
}
