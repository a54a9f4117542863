/* p2vkit imaging engine: the receiving end of the stream protocol (see
 * stream-recv.h and, for the protocol, stream.h).
 */
#include "stream-recv.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "error.h"

#define MS_PER_SECOND 1000

int
stream_recv_disk_restart (struct stream_recv_disk *d)
{
  d->resume = 0;
  digest_free (d->digest);
  d->digest = digest_new ();
  if (d->digest == NULL)
    return -1;
  return 0;
}

int
stream_recv_violation (struct stream_recv *r, const char *fmt, ...)
{
  char msg[512];
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  r->lied = true;
  return error ("%s: stream: %s", r->h.name, msg);
}

/* Tell the sender what went wrong (the error recorded last), once. */
static void
tell_peer (struct stream_recv *r)
{
  if (!r->oneway && !r->told_peer && r->w.rbuf)
    r->told_peer = stream_send_error (&r->w, error_message ()) == 0;
}

/* A sender of rounds reads only between disks: closing on what it is
 * still sending would reset the connection and lose the ERROR it was
 * sent.  Read and drop what comes until it goes away (it will, once it
 * has read the ERROR), for STREAM_RECV_DRAIN_SECONDS at most.
 */
static void
drain (struct stream_recv *r)
{
  double until = (double) time (NULL) + STREAM_RECV_DRAIN_SECONDS;
  struct pollfd p = { .fd = r->w.rfd, .events = POLLIN };
  ssize_t n;

  shutdown (r->w.wfd, SHUT_WR);
  while ((double) time (NULL) < until) {
    if (poll (&p, 1, MS_PER_SECOND) <= 0)
      continue;
    n = read (r->w.rfd, r->buf, STREAM_MAX_DATA);
    if (n == 0 || (n == -1 && errno != EINTR && errno != EAGAIN))
      break;
  }
}

static int
handshake (struct stream_recv *r)
{
  unsigned char hello_hash[STREAM_MAC_SIZE], mac[STREAM_MAC_SIZE];
  struct stream_challenge ch = { .auth = r->auth };
  struct stream_welcome wl = { .n_disks = 0 };
  struct frame f;
  uint32_t i;
  int ret;

  ret = wire_recv (&r->w, &f);
  if (ret == 0)
    return error ("%s: closed before saying hello", r->w.peer);
  if (ret == -1)
    return -1;
  if (stream_decode_hello (&f, &r->h, hello_hash) == -1)
    return error_prefix ("%s", r->w.peer);
  r->oneway = r->h.flags & STREAM_HELLO_ONEWAY;
  r->rounds = r->h.flags & STREAM_HELLO_ROUNDS;
  ch.version = r->h.version;
  if (r->rounds && !r->rounds_ok)
    return error ("%s: machine '%s': this receiver takes no rounds "
                  "(pre-copy)",
                  r->w.peer, r->h.name);

  if (r->oneway && r->auth)
    return error ("%s: a one-way stream cannot authenticate: refused",
                  r->w.peer);
  if (!r->oneway) {
    stream_nonce (ch.nonce);
    if (stream_send_challenge (&r->w, &ch) == -1)
      return -1;
  }
  if (r->auth) {
    ret = wire_recv (&r->w, &f);
    if (ret == 0)
      return error ("%s: closed before authenticating", r->w.peer);
    if (ret == -1)
      return -1;
    stream_mac_sender (r->token, ch.nonce, r->h.nonce, hello_hash, mac);
    if (f.type != STREAM_AUTH || f.len != STREAM_MAC_SIZE
        || !stream_mac_equal (mac, f.payload)) {
      r->told_peer
        = stream_send_error (&r->w, "authentication failed: wrong token") == 0;
      return error ("%s: machine '%s': authentication failed (wrong token)",
                    r->w.peer, r->h.name);
    }
    stream_mac_receiver (r->token, r->h.nonce, ch.nonce, wl.mac);
  }

  /* Only now, authenticated, does the owner look at its outputs. */
  for (i = 0; i < r->h.n_disks; i++) {
    r->disks[i].digest = digest_new ();
    if (r->disks[i].digest == NULL)
      return -1;
    if (r->rounds
        && blockhash_init (&r->disks[i].hashes, r->h.disks[i].size) == -1)
      return -1;
  }
  if (r->ops->prepare (r) == -1)
    return -1;
  wl.n_disks = r->h.n_disks;
  for (i = 0; i < r->h.n_disks; i++) {
    struct stream_recv_disk *d = &r->disks[i];

    d->next = d->checkpointed = d->resume;
    wl.resume[i] = d->resume;
  }
  if (!r->oneway && stream_send_welcome (&r->w, &wl) == -1)
    return -1;
  return 0;
}

static int
checkpoint (struct stream_recv *r, uint32_t i)
{
  struct stream_recv_disk *d = &r->disks[i];

  if (r->ops->checkpoint == NULL || r->oneway)
    return 0;
  if (r->ops->checkpoint (r, i) == -1)
    return -1;
  d->checkpointed = d->next;
  return 0;
}

static int
on_inventory (struct stream_recv *r, const struct frame *f)
{
  char *xml = NULL;
  size_t len;

  if (r->had_inventory)
    return stream_recv_violation (r, "a second INVENTORY");
  r->had_inventory = true;
  if (f->flags & WIRE_FLAG_ZSTD) {
    unsigned long long n = ZSTD_getFrameContentSize (f->payload, f->len);

    if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN
        || n > STREAM_MAX_INVENTORY)
      return stream_recv_violation (r, "INVENTORY: bad compressed size");
    xml = malloc (n + 1);
    if (xml == NULL)
      return error ("out of memory");
    len = ZSTD_decompressDCtx (r->dctx, xml, n, f->payload, f->len);
    if (ZSTD_isError (len) || len != n) {
      free (xml);
      return stream_recv_violation (r, "INVENTORY: does not decompress");
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
  if (r->ops->inventory == NULL) {
    free (xml);
    return 0;
  }
  if (r->ops->inventory (r, xml, len) == -1) {
    free (xml);
    return -1;
  }
  return 0;
}

static int
on_disk (struct stream_recv *r, const struct frame *f)
{
  struct stream_recv_disk *d;
  struct rbuf b;
  uint32_t i;
  uint64_t start;

  rbuf_init (&b, f->payload, f->len, "DISK");
  i = rbuf_u32 (&b);
  start = rbuf_u64 (&b);
  if (rbuf_done (&b) == -1)
    return stream_recv_violation (r, "%s", error_message ());
  if (r->current != -1)
    return stream_recv_violation (r, "DISK before the previous disk ended");
  if (r->rounds && !r->in_round)
    return stream_recv_violation (r, "DISK outside a round");
  if (i >= r->h.n_disks || r->disks[i].done)
    return stream_recv_violation (r, "DISK %" PRIu32 ": no such disk, or done",
                                  i);
  d = &r->disks[i];
  if (start != d->resume)
    return stream_recv_violation (
      r, "DISK %" PRIu32 " starts at %" PRIu64 ", not %" PRIu64, i, start,
      d->resume);
  d->next = d->checkpointed = start;
  if (r->ops->begin (r, i) == -1)
    return -1;
  r->current = (int) i;
  {
    /* Built aside: GCC cannot tell d->label from the names in r. */
    char label[sizeof d->label];

    snprintf (label, sizeof label, "%s-%s", r->h.name, r->h.disks[i].name);
    memcpy (d->label, label, sizeof label);
  }
  progress_start (&d->progress, r->progress_mode, d->label, r->h.disks[i].size);
  progress_update (&d->progress, d->next);
  return 0;
}

/* Check a DATA or ZERO frame's place: the current disk, where the last
 * frame ended, inside the disk, on a block boundary.
 */
static int
check_range (struct stream_recv *r, const char *what, uint32_t i, uint64_t off,
             uint64_t len)
{
  struct stream_recv_disk *d;
  uint64_t size;

  if (r->current == -1 || i != (uint32_t) r->current)
    return stream_recv_violation (
      r, "%s for disk %" PRIu32 ", which is not open", what, i);
  d = &r->disks[i];
  size = r->h.disks[i].size;
  if (d->delta ? off < d->next || off % STREAM_BLOCK_SIZE != 0 : off != d->next)
    return stream_recv_violation (
      r, "%s at offset %" PRIu64 ", expected %s%" PRIu64 "%s", what, off,
      d->delta ? "a block from " : "", d->next, d->delta ? " on" : "");
  if (len == 0 || len > size || off > size - len)
    return stream_recv_violation (r,
                                  "%s of %" PRIu64 " bytes at %" PRIu64
                                  " runs past the end of the disk (%" PRIu64
                                  " bytes)",
                                  what, len, off, size);
  if (len % STREAM_BLOCK_SIZE && off + len != size)
    return stream_recv_violation (
      r, "%s of %" PRIu64 " bytes is not whole blocks", what, len);
  return 0;
}

static int
after_range (struct stream_recv *r, uint32_t i, uint64_t off, uint64_t len)
{
  struct stream_recv_disk *d = &r->disks[i];

  d->next = off + len;
  progress_update (&d->progress, d->next);
  /* A resume starts on a block boundary: not at the end of a disk whose
   * size is not whole blocks.  A delta is never resumed: the next round
   * sends what is still missing.
   */
  if (!d->delta && d->next - d->checkpointed >= r->checkpoint_bytes
      && d->next % STREAM_BLOCK_SIZE == 0)
    return checkpoint (r, i);
  return 0;
}

static int
on_data (struct stream_recv *r, const struct frame *f)
{
  const unsigned char *body;
  struct stream_recv_disk *d;
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
    return stream_recv_violation (r, "%s", error_message ());
  if (raw > STREAM_MAX_DATA)
    return stream_recv_violation (
      r, "DATA frame length %" PRIu32 " exceeds the limit", raw);
  if (check_range (r, "DATA", i, off, raw) == -1)
    return -1;
  d = &r->disks[i];
  if (f->flags & WIRE_FLAG_ZSTD) {
    got = ZSTD_decompressDCtx (r->dctx, r->buf, raw, body, n);
    if (ZSTD_isError (got) || got != raw)
      return stream_recv_violation (r,
                                    "DATA at offset %" PRIu64
                                    " does not decompress to %" PRIu32 " bytes",
                                    off, raw);
    body = r->buf;
  }
  else if (n != raw)
    return stream_recv_violation (
      r, "DATA at offset %" PRIu64 " holds %zu bytes, not %" PRIu32, off, n,
      raw);
  digest_data (d->digest, body, raw);
  if (d->sink->ops->write (d->sink, body, raw, off) == -1) {
    r->sink_failed = true;
    return -1;
  }
  if (r->rounds)
    blockhash_set_data (&d->hashes, off, body, raw);
  return after_range (r, i, off, raw);
}

static int
on_zero (struct stream_recv *r, const struct frame *f)
{
  struct stream_recv_disk *d;
  uint64_t off, len;
  struct rbuf b;
  uint32_t i;

  rbuf_init (&b, f->payload, f->len, "ZERO");
  i = rbuf_u32 (&b);
  off = rbuf_u64 (&b);
  len = rbuf_u64 (&b);
  if (rbuf_done (&b) == -1)
    return stream_recv_violation (r, "%s", error_message ());
  if (check_range (r, "ZERO", i, off, len) == -1)
    return -1;
  d = &r->disks[i];
  digest_zero (d->digest, len);
  if (d->sink->ops->zero (d->sink, off, len) == -1) {
    r->sink_failed = true;
    return -1;
  }
  if (r->rounds)
    blockhash_set_zero (&d->hashes, off, len);
  return after_range (r, i, off, len);
}

static int
on_disk_end (struct stream_recv *r, const struct frame *f)
{
  char mine[DIGEST_HEX_LENGTH + 1], theirs[DIGEST_HEX_LENGTH + 1];
  struct stream_recv_disk *d;
  const unsigned char *p;
  struct rbuf b;
  uint32_t i;

  rbuf_init (&b, f->payload, f->len, "DISK_END");
  i = rbuf_u32 (&b);
  p = rbuf_bytes (&b, DIGEST_HEX_LENGTH);
  if (rbuf_done (&b) == -1)
    return stream_recv_violation (r, "%s", error_message ());
  if (r->current == -1 || i != (uint32_t) r->current)
    return stream_recv_violation (
      r, "DISK_END for disk %" PRIu32 ", which is not open", i);
  d = &r->disks[i];
  if (!d->delta && d->next != r->h.disks[i].size)
    return stream_recv_violation (
      r, "disk '%s' ended at %" PRIu64 " of %" PRIu64 " bytes",
      r->h.disks[i].name, d->next, r->h.disks[i].size);
  memcpy (theirs, p, DIGEST_HEX_LENGTH);
  theirs[DIGEST_HEX_LENGTH] = '\0';
  /* With rounds, the copy's digest follows from its block hashes. */
  if (r->rounds)
    blockhash_digest (&d->hashes, mine);
  else
    digest_final (d->digest, mine);
  if (strcmp (mine, theirs) != 0)
    return stream_recv_violation (r,
                                  "disk '%s': digest mismatch: sent %.32s, "
                                  "received %s",
                                  r->h.disks[i].name, theirs, mine);
  if (d->sink->ops->finish (d->sink) == -1)
    return -1;
  progress_end (&d->progress);
  sink_free (d->sink);
  d->sink = NULL;
  d->done = true;
  if (r->rounds) {
    d->have_copy = true;
    d->hashes.valid = r->h.disks[i].size;
  }
  r->current = -1;
  if (r->ops->disk_done && r->ops->disk_done (r, i, mine) == -1)
    return -1;
  return 0;
}

/* ROUND: what the copy of each disk holds goes back as HASHES. */
static int
on_round (struct stream_recv *r, const struct frame *f)
{
  struct stream_round rd;
  unsigned char *buf;
  uint32_t i;
  int ret = 0;

  if (!r->rounds)
    return stream_recv_violation (r, "unexpected frame type %u", f->type);
  if (r->in_round || r->final_done)
    return stream_recv_violation (r,
                                  "ROUND inside a round or after the "
                                  "final one");
  if (stream_decode_round (f, r->rounds_done + 1, &rd) == -1)
    return stream_recv_violation (r, "%s", error_message ());
  if (r->ops->round_begin
      && r->ops->round_begin (r, rd.number, rd.flags & STREAM_ROUND_FINAL)
        == -1)
    return -1;
  buf = malloc (WIRE_MAX_PAYLOAD);
  if (buf == NULL)
    return error ("out of memory");
  for (i = 0; i < r->h.n_disks && ret == 0; i++) {
    struct stream_recv_disk *d = &r->disks[i];

    d->done = false;
    d->delta = d->have_copy;
    /* The WELCOME's resume points hold for the first round only. */
    if (r->rounds_done > 0 || d->delta)
      d->resume = 0;
    ret = stream_send_hashes (&r->w, i, d->have_copy ? &d->hashes : NULL, buf);
  }
  free (buf);
  r->in_round = true;
  r->round_final = rd.flags & STREAM_ROUND_FINAL;
  return ret;
}

static int
on_round_end (struct stream_recv *r, const struct frame *f)
{
  uint32_t i;

  if (!r->rounds || !r->in_round)
    return stream_recv_violation (r, "ROUND_END outside a round");
  if (stream_decode_round_number (f, STREAM_ROUND_END, r->rounds_done + 1)
      == -1)
    return stream_recv_violation (r, "%s", error_message ());
  for (i = 0; i < r->h.n_disks; i++)
    if (!r->disks[i].done)
      return stream_recv_violation (r, "ROUND_END before disk '%s' was sent",
                                    r->h.disks[i].name);
  if (r->ops->round_end (r, r->rounds_done + 1, r->round_final) == -1)
    return -1;
  r->in_round = false;
  r->rounds_done++;
  r->final_done = r->round_final;
  return stream_send_round_number (&r->w, STREAM_ROUND_DONE, r->rounds_done);
}

static int
on_figures (struct stream_recv *r, const struct frame *f)
{
  if (!r->rounds || r->in_round || r->figures)
    return stream_recv_violation (r, "FIGURES out of place");
  r->figures = malloc (sizeof *r->figures);
  if (r->figures == NULL)
    return error ("out of memory");
  if (stream_decode_figures (f, r->figures) == -1)
    return stream_recv_violation (r, "%s", error_message ());
  if (r->figures->rounds != r->rounds_done
      || !(r->figures->flags & STREAM_ROUND_FINAL) != !r->final_done)
    return stream_recv_violation (
      r, "FIGURES of %" PRIu32 " rounds, %" PRIu32 " were sent",
      r->figures->rounds, r->rounds_done);
  return 0;
}

static int
on_end (struct stream_recv *r)
{
  uint32_t i;

  if (r->rounds) {
    if (r->in_round || r->rounds_done == 0)
      return stream_recv_violation (
        r, "END %s", r->in_round ? "inside a round" : "before any round");
    return r->ops->end ? r->ops->end (r) : 0;
  }
  for (i = 0; i < r->h.n_disks; i++)
    if (!r->disks[i].done)
      return stream_recv_violation (r, "END before disk '%s' was sent",
                                    r->h.disks[i].name);
  if (r->ops->end)
    return r->ops->end (r);
  return 0;
}

static int
receive_frames (struct stream_recv *r)
{
  struct frame f;
  int ret;

  for (;;) {
    ret = wire_recv (&r->w, &f);
    if (ret == -1)
      return -1;
    if (ret == 0)
      return error ("%s: machine '%s': the sender went away in the middle",
                    r->w.peer, r->h.name);
    switch (f.type) {
    case STREAM_INVENTORY:
      ret = on_inventory (r, &f);
      break;
    case STREAM_DISK:
      ret = on_disk (r, &f);
      break;
    case STREAM_DATA:
      ret = on_data (r, &f);
      break;
    case STREAM_ZERO:
      ret = on_zero (r, &f);
      break;
    case STREAM_DISK_END:
      ret = on_disk_end (r, &f);
      break;
    case STREAM_ROUND:
      ret = on_round (r, &f);
      break;
    case STREAM_ROUND_END:
      ret = on_round_end (r, &f);
      break;
    case STREAM_FIGURES:
      ret = on_figures (r, &f);
      break;
    case STREAM_END:
      return on_end (r);
    case STREAM_ERROR:
      return stream_peer_error (&r->w, &f);
    default:
      return stream_recv_violation (r, "unexpected frame type %u", f.type);
    }
    if (ret == -1)
      return -1;
  }
}

/* The connection broke (not a lie): save a resume point at the last whole
 * frame of the disk being received.  A resume starts on a block boundary.
 */
static void
checkpoint_at_break (struct stream_recv *r)
{
  struct stream_recv_disk *d;
  char saved[1024];

  if (r->current == -1 || r->lied || r->sink_failed)
    return;
  d = &r->disks[r->current];
  if (d->delta)
    return;
  if (d->next > d->checkpointed && d->next % STREAM_BLOCK_SIZE == 0) {
    /* The session's error stays the one recorded. */
    snprintf (saved, sizeof saved, "%s", error_message ());
    checkpoint (r, (uint32_t) r->current);
    error_set_message (saved);
  }
}

int
stream_recv_session (struct stream_recv *r, int rfd, int wfd, const char *peer)
{
  r->current = -1;
  /* Until a HELLO says otherwise, the sender may not be listening: a pipe
   * into our stdin, with our stdout on a terminal.
   */
  r->oneway = true;
  if (wire_init (&r->w, rfd, wfd, peer) == -1)
    return -1;
  r->w.cancel = r->cancel;
  /* Whoever connects must speak up quickly; a sender who has, may then
   * pause for longer (a slow disk, a busy link).
   */
  r->w.timeout = STREAM_RECV_HANDSHAKE_TIMEOUT;
  r->buf = malloc (STREAM_MAX_DATA);
  r->dctx = ZSTD_createDCtx ();
  if (r->buf == NULL || r->dctx == NULL)
    return error ("out of memory");
  if (handshake (r) == -1)
    goto fail;
  r->w.timeout = STREAM_RECV_TIMEOUT;
  if (receive_frames (r) == -1)
    goto fail;
  if (!r->oneway && wire_send (&r->w, STREAM_DONE, 0, NULL, 0) == -1)
    goto fail;
  return 0;

fail:
  /* Garbled frames are lies too; and a one-way stream cannot resume. */
  if (r->w.garbled || r->oneway)
    r->lied = true;
  checkpoint_at_break (r);
  return -1;
}

void
stream_recv_close (struct stream_recv *r, bool failed)
{
  uint32_t i;

  if (failed)
    tell_peer (r);
  if (failed && r->rounds && r->told_peer && r->buf)
    drain (r);
  for (i = 0; i < STREAM_MAX_DISKS; i++) {
    digest_free (r->disks[i].digest);
    r->disks[i].digest = NULL;
    blockhash_free (&r->disks[i].hashes);
  }
  free (r->figures);
  r->figures = NULL;
  ZSTD_freeDCtx (r->dctx);
  r->dctx = NULL;
  free (r->buf);
  r->buf = NULL;
  wire_free (&r->w);
}
