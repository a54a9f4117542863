/* p2vkit imaging engine: frames on a byte stream (see wire.h). */
#include "wire.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "error.h"
#include "qcow2.h"

#define MS_PER_SECOND 1000

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int
wire_init (struct wire *w, int rfd, int wfd, const char *peer)
{
  memset (w, 0, sizeof *w);
  w->rfd = rfd;
  w->wfd = wfd;
  w->peer = peer;
  w->since = now ();
  /* Frames are sent whole (one writev each) and the protocol waits for
   * answers: Nagle's algorithm would hold a small frame back until the
   * peer's delayed acknowledgement, 40 ms on Linux, at every exchange.
   * Not a TCP socket (a pipe to ssh): nothing to do, and no error.
   */
  setsockopt (wfd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof (int));
  w->rbuf = malloc (WIRE_MAX_PAYLOAD);
  if (w->rbuf == NULL)
    return error ("%s: out of memory", peer);
  return 0;
}

void
wire_free (struct wire *w)
{
  free (w->rbuf);
  w->rbuf = NULL;
}

/* A signal came: go on waiting, unless the owner wants to stop. */
static int
interrupted (const struct wire *w)
{
  if (w->cancel && *w->cancel)
    return error ("interrupted");
  return 0;
}

/* Wait until FD is ready for EVENTS, at most W->timeout seconds. */
static int
wait_fd (struct wire *w, int fd, short events, const char *doing)
{
  struct pollfd p = { .fd = fd, .events = events };
  int r;

  if (w->timeout == 0)
    return 0;
  do {
    r = poll (&p, 1, (int) w->timeout * MS_PER_SECOND);
    if (r == -1 && errno == EINTR && interrupted (w) == -1)
      return -1;
  } while (r == -1 && errno == EINTR);
  if (r == -1)
    return error_errno (errno, "%s: %s", w->peer, doing);
  if (r == 0)
    return error ("%s: %s: no progress for %u seconds", w->peer, doing,
                  w->timeout);
  return 0;
}

/* Write the N buffers of IOV in full (IOV is changed). */
static int
write_all (struct wire *w, struct iovec *iov, int n)
{
  ssize_t r;

  while (n > 0) {
    if (iov->iov_len == 0) {
      iov++;
      n--;
      continue;
    }
    if (wait_fd (w, w->wfd, POLLOUT, "send") == -1)
      return -1;
    r = writev (w->wfd, iov, n);
    if (r == -1) {
      if (errno == EINTR && interrupted (w) == -1)
        return -1;
      if (errno == EINTR || errno == EAGAIN)
        continue;
      return error_errno (errno, "%s: send", w->peer);
    }
    w->bytes_out += r;
    while (n > 0 && (size_t) r >= iov->iov_len) {
      r -= iov->iov_len;
      iov++;
      n--;
    }
    if (n > 0) {
      iov->iov_base = (char *) iov->iov_base + r;
      iov->iov_len -= r;
    }
  }
  return 0;
}

/* Read exactly LEN bytes.  Returns 1, 0 at end of stream before the first
 * byte when EOF_OK, or -1.
 */
static int
read_all (struct wire *w, void *buf, size_t len, bool eof_ok)
{
  char *p = buf;
  size_t got = 0;
  ssize_t r;

  while (got < len) {
    if (wait_fd (w, w->rfd, POLLIN, "receive") == -1)
      return -1;
    r = read (w->rfd, p + got, len - got);
    if (r == -1) {
      if (errno == EINTR && interrupted (w) == -1)
        return -1;
      if (errno == EINTR || errno == EAGAIN)
        continue;
      return error_errno (errno, "%s: receive", w->peer);
    }
    if (r == 0) {
      if (got == 0 && eof_ok)
        return 0;
      return error ("%s: connection closed in the middle of a frame", w->peer);
    }
    got += r;
    w->bytes_in += r;
  }
  return 1;
}

/* Keep to the bandwidth limit: sleep until what was sent fits it. */
static void
throttle (struct wire *w)
{
  double due, late;
  struct timespec ts;

  if (w->bandwidth <= 0)
    return;
  due = w->since + (double) w->bytes_out / w->bandwidth;
  late = due - now ();
  if (late <= 0)
    return;
  ts.tv_sec = (time_t) late;
  ts.tv_nsec = (long) ((late - (double) ts.tv_sec) * 1e9);
  while (nanosleep (&ts, &ts) == -1 && errno == EINTR)
    ;
}

/* The frame checksum: XXH3-64 of the payload, seeded with the XXH3-64 of
 * the header's first 12 bytes, so that both are covered.
 */
static uint64_t
checksum (const unsigned char *h, const void *payload, size_t len)
{
  return XXH3_64bits_withSeed (payload, len, XXH3_64bits (h, 12));
}

int
wire_send (struct wire *w, unsigned type, unsigned flags, const void *payload,
           size_t len)
{
  unsigned char h[WIRE_HEADER_SIZE];
  struct iovec iov[2];

  if (len > WIRE_MAX_PAYLOAD)
    return error ("%s: frame of %zu bytes is too large", w->peer, len);
  memset (h, 0, sizeof h);
  be32_put (h, WIRE_MAGIC);
  h[4] = type;
  h[5] = flags;
  be32_put (h + 8, len);
  be64_put (h + 12, checksum (h, payload, len));
  iov[0] = (struct iovec){ .iov_base = h, .iov_len = sizeof h };
  iov[1] = (struct iovec){ .iov_base = (void *) payload, .iov_len = len };
  if (write_all (w, iov, 2) == -1)
    return -1;
  throttle (w);
  return 0;
}

int
wire_check_header (const unsigned char *h, unsigned *type, unsigned *flags,
                   size_t *len)
{
  uint32_t n;

  if (be32_get (h) != WIRE_MAGIC)
    return error ("stream: bad frame magic 0x%08x (not a p2vkit stream?)",
                  be32_get (h));
  if (h[6] || h[7])
    return error ("stream: frame header has reserved bits set");
  if (h[5] & ~WIRE_FLAGS_KNOWN)
    return error ("stream: unknown frame flags 0x%02x", h[5]);
  n = be32_get (h + 8);
  if (n > WIRE_MAX_PAYLOAD)
    return error ("stream: frame length %u exceeds the limit of %d", n,
                  WIRE_MAX_PAYLOAD);
  *type = h[4];
  *flags = h[5];
  *len = n;
  return 0;
}

int
wire_recv (struct wire *w, struct frame *f)
{
  unsigned char h[WIRE_HEADER_SIZE];
  int r;

  f->type = 0;
  r = read_all (w, h, sizeof h, true);
  if (r <= 0)
    return r;
  if (wire_check_header (h, &f->type, &f->flags, &f->len) == -1) {
    w->garbled = true;
    return error_prefix ("%s", w->peer);
  }
  if (f->len > 0 && read_all (w, w->rbuf, f->len, false) == -1)
    return -1;
  if (checksum (h, w->rbuf, f->len) != be64_get (h + 12)) {
    w->garbled = true;
    return error ("%s: stream: frame checksum mismatch (data damaged in "
                  "transit)",
                  w->peer);
  }
  f->payload = w->rbuf;
  return 1;
}

void
wbuf_init (struct wbuf *b, void *buf, size_t cap)
{
  b->p = buf;
  b->len = 0;
  b->cap = cap;
  b->overflow = false;
}

static unsigned char *
wbuf_room (struct wbuf *b, size_t n)
{
  unsigned char *p;

  if (b->overflow || b->cap - b->len < n) {
    b->overflow = true;
    return NULL;
  }
  p = b->p + b->len;
  b->len += n;
  return p;
}

void
wbuf_u8 (struct wbuf *b, uint8_t v)
{
  unsigned char *p = wbuf_room (b, 1);

  if (p)
    *p = v;
}

void
wbuf_u32 (struct wbuf *b, uint32_t v)
{
  unsigned char *p = wbuf_room (b, 4);

  if (p)
    be32_put (p, v);
}

void
wbuf_u64 (struct wbuf *b, uint64_t v)
{
  unsigned char *p = wbuf_room (b, 8);

  if (p)
    be64_put (p, v);
}

void
wbuf_bytes (struct wbuf *b, const void *src, size_t n)
{
  unsigned char *p = wbuf_room (b, n);

  if (p && n)
    memcpy (p, src, n);
}

void
wbuf_str (struct wbuf *b, const char *s)
{
  size_t n = strlen (s);
  unsigned char *p;

  if (n > UINT16_MAX) {
    b->overflow = true;
    return;
  }
  p = wbuf_room (b, 2);
  if (p)
    be16_put (p, (uint16_t) n);
  wbuf_bytes (b, s, n);
}

int
wbuf_done (struct wbuf *b, size_t *len)
{
  if (b->overflow)
    return error ("stream: frame too large to build");
  *len = b->len;
  return 0;
}

void
rbuf_init (struct rbuf *b, const void *p, size_t len, const char *what)
{
  b->p = p;
  b->len = len;
  b->pos = 0;
  b->what = what;
  b->failed = false;
}

static const unsigned char *
rbuf_take (struct rbuf *b, size_t n)
{
  const unsigned char *p;

  if (b->failed)
    return NULL;
  if (b->len - b->pos < n) {
    b->failed = true;
    error ("stream: %s frame too short", b->what);
    return NULL;
  }
  p = b->p + b->pos;
  b->pos += n;
  return p;
}

uint8_t
rbuf_u8 (struct rbuf *b)
{
  const unsigned char *p = rbuf_take (b, 1);

  return p ? *p : 0;
}

uint32_t
rbuf_u32 (struct rbuf *b)
{
  const unsigned char *p = rbuf_take (b, 4);

  return p ? be32_get (p) : 0;
}

uint64_t
rbuf_u64 (struct rbuf *b)
{
  const unsigned char *p = rbuf_take (b, 8);

  return p ? be64_get (p) : 0;
}

const unsigned char *
rbuf_bytes (struct rbuf *b, size_t n)
{
  return rbuf_take (b, n);
}

void
rbuf_str (struct rbuf *b, char *out, size_t max)
{
  const unsigned char *p;
  size_t n;

  out[0] = '\0';
  p = rbuf_take (b, 2);
  if (p == NULL)
    return;
  n = (size_t) p[0] << 8 | p[1];
  if (n > max) {
    b->failed = true;
    error ("stream: %s frame: string of %zu bytes exceeds the limit of %zu",
           b->what, n, max);
    return;
  }
  p = rbuf_take (b, n);
  if (p == NULL)
    return;
  if (memchr (p, '\0', n)) {
    b->failed = true;
    error ("stream: %s frame: string holds a NUL byte", b->what);
    return;
  }
  memcpy (out, p, n);
  out[n] = '\0';
}

const unsigned char *
rbuf_rest (struct rbuf *b, size_t *n)
{
  *n = b->failed ? 0 : b->len - b->pos;
  return rbuf_take (b, *n);
}

int
rbuf_done (struct rbuf *b)
{
  if (b->failed)
    return -1;
  if (b->pos != b->len)
    return error ("stream: %s frame has %zu bytes too many", b->what,
                  b->len - b->pos);
  return 0;
}
