/* p2vkit imaging engine: a sink that sends a disk as stream frames.
 *
 * The copy loop (copy.h) writes into it as into a file; it turns each
 * write into DATA frames of at most STREAM_MAX_DATA bytes, compressed with
 * zstd when that makes them smaller, and each zero run into one ZERO
 * frame.  DISK and DISK_END frames are the session's business.
 */
#include "stream-sink.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "error.h"
#include "qcow2.h"

struct stream_sink {
  struct sink k;                /* must be first */
  struct wire *w;
  uint32_t disk;
  int level;                    /* 0: no compression */
  ZSTD_CCtx *zctx;
  unsigned char *frame;         /* one DATA payload */
  struct stream_sink_stats *stats;
};

static int
send_data (struct stream_sink *t, const unsigned char *buf, size_t len,
           uint64_t offset)
{
  unsigned char *body = t->frame + STREAM_DATA_HEADER;
  size_t cap = WIRE_MAX_PAYLOAD - STREAM_DATA_HEADER;
  unsigned flags = 0;
  size_t n = len;

  be32_put (t->frame, t->disk);
  be64_put (t->frame + 4, offset);
  be32_put (t->frame + 12, (uint32_t) len);
  if (t->level > 0) {
    size_t z = ZSTD_compressCCtx (t->zctx, body, cap, buf, len, t->level);

    if (!ZSTD_isError (z) && z < len) {
      flags = WIRE_FLAG_ZSTD;
      n = z;
    }
  }
  if (flags == 0)
    memcpy (body, buf, len);
  t->stats->data_bytes += len;
  t->stats->payload_bytes += n;
  return wire_send (t->w, STREAM_DATA, flags, t->frame, STREAM_DATA_HEADER + n);
}

static int
stream_write (struct sink *k, const void *buf, size_t len, uint64_t offset)
{
  struct stream_sink *t = (struct stream_sink *) k;
  const unsigned char *p = buf;
  size_t n;

  while (len > 0) {
    n = len < STREAM_MAX_DATA ? len : STREAM_MAX_DATA;
    if (send_data (t, p, n, offset) == -1)
      return -1;
    p += n;
    len -= n;
    offset += n;
  }
  return 0;
}

static int
stream_zero (struct sink *k, uint64_t offset, uint64_t len)
{
  struct stream_sink *t = (struct stream_sink *) k;
  unsigned char buf[20];

  be32_put (buf, t->disk);
  be64_put (buf + 4, offset);
  be64_put (buf + 12, len);
  return wire_send (t->w, STREAM_ZERO, 0, buf, sizeof buf);
}

static int
stream_finish (struct sink *k)
{
  (void) k;
  return 0;
}

static void
stream_free (struct sink *k)
{
  struct stream_sink *t = (struct stream_sink *) k;

  ZSTD_freeCCtx (t->zctx);
  free (t->frame);
  free (t->k.name);
  free (t);
}

static const struct sink_ops stream_sink_ops = {
  .write = stream_write,
  .zero = stream_zero,
  .finish = stream_finish,
  .free = stream_free,
};

struct sink *
stream_sink_new (struct wire *w, uint32_t disk, const char *name, uint64_t size,
                 int level, struct stream_sink_stats *stats)
{
  struct stream_sink *t;

  t = calloc (1, sizeof *t);
  if (t == NULL)
    goto nomem;
  t->k.ops = &stream_sink_ops;
  t->k.size = size;
  t->k.block_size = STREAM_BLOCK_SIZE;
  t->w = w;
  t->disk = disk;
  t->level = level;
  t->stats = stats;
  t->k.name = strdup (name);
  t->frame = malloc (WIRE_MAX_PAYLOAD);
  if (t->k.name == NULL || t->frame == NULL)
    goto nomem;
  if (level > 0) {
    t->zctx = ZSTD_createCCtx ();
    if (t->zctx == NULL)
      goto nomem;
  }
  return &t->k;

nomem:
  if (t)
    stream_free (&t->k);
  error ("%s: out of memory", name);
  return NULL;
}
