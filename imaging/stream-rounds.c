/* p2vkit imaging engine: the messages of rounds (see stream-rounds.h). */
#include "stream-rounds.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "qcow2.h"

#define FIGURES_HEADER 24
#define FIGURES_PER_ROUND 24

int
stream_send_round (struct wire *w, const struct stream_round *rd)
{
  unsigned char buf[8];

  be32_put (buf, rd->number);
  be32_put (buf + 4, rd->flags);
  return wire_send (w, STREAM_ROUND, 0, buf, sizeof buf);
}

int
stream_decode_round (const struct frame *f, uint32_t expected,
                     struct stream_round *rd)
{
  struct rbuf b;

  rbuf_init (&b, f->payload, f->len, "ROUND");
  rd->number = rbuf_u32 (&b);
  rd->flags = rbuf_u32 (&b);
  if (rbuf_done (&b) == -1)
    return -1;
  if (rd->number != expected || expected > STREAM_MAX_ROUNDS)
    return error ("stream: ROUND %" PRIu32 ", expected %" PRIu32
                  " (at most %d)",
                  rd->number, expected, STREAM_MAX_ROUNDS);
  if (rd->flags & ~(uint32_t) STREAM_ROUND_FLAGS)
    return error ("stream: ROUND: unknown flags 0x%" PRIx32, rd->flags);
  return 0;
}

int
stream_send_round_number (struct wire *w, unsigned type, uint32_t number)
{
  unsigned char buf[4];

  be32_put (buf, number);
  return wire_send (w, type, 0, buf, sizeof buf);
}

int
stream_decode_round_number (const struct frame *f, unsigned type,
                            uint32_t expected)
{
  const char *what = type == STREAM_ROUND_END ? "ROUND_END" : "ROUND_DONE";
  struct rbuf b;
  uint32_t n;

  if (f->type != type)
    return error ("stream: expected %s, got frame type %u", what, f->type);
  rbuf_init (&b, f->payload, f->len, what);
  n = rbuf_u32 (&b);
  if (rbuf_done (&b) == -1)
    return -1;
  if (n != expected)
    return error ("stream: %s %" PRIu32 ", expected %" PRIu32, what, n,
                  expected);
  return 0;
}

int
stream_send_hashes (struct wire *w, uint32_t disk, const struct blockhash *b,
                    unsigned char *buf)
{
  uint64_t first = 0, i;
  uint32_t count;

  if (b == NULL) {
    be32_put (buf, disk);
    buf[4] = STREAM_HASHES_NONE;
    be64_put (buf + 5, 0);
    be32_put (buf + 13, 0);
    return wire_send (w, STREAM_HASHES, 0, buf, STREAM_HASHES_HEADER);
  }
  do {
    count = b->n - first < STREAM_MAX_HASHES ? (uint32_t) (b->n - first)
                                             : STREAM_MAX_HASHES;
    be32_put (buf, disk);
    buf[4] = STREAM_HASHES_BLOCKS;
    be64_put (buf + 5, first);
    be32_put (buf + 13, count);
    for (i = 0; i < count; i++)
      be64_put (buf + STREAM_HASHES_HEADER + 8 * i, b->h[first + i]);
    if (wire_send (w, STREAM_HASHES, 0, buf,
                   STREAM_HASHES_HEADER + 8 * (size_t) count)
        == -1)
      return -1;
    first += count;
  } while (first < b->n);
  return 0;
}

int
stream_decode_hashes (const struct frame *f, uint32_t disk, struct blockhash *b,
                      uint64_t *next, bool *none)
{
  const unsigned char *p;
  uint64_t first, i;
  uint32_t d, count;
  struct rbuf rb;
  uint8_t kind;

  if (f->type != STREAM_HASHES)
    return error ("stream: expected HASHES, got frame type %u", f->type);
  rbuf_init (&rb, f->payload, f->len, "HASHES");
  d = rbuf_u32 (&rb);
  kind = rbuf_u8 (&rb);
  first = rbuf_u64 (&rb);
  count = rbuf_u32 (&rb);
  if (rb.failed)
    return -1;
  if (d != disk)
    return error ("stream: HASHES for disk %" PRIu32 ", expected %" PRIu32, d,
                  disk);
  *none = false;
  if (kind == STREAM_HASHES_NONE) {
    if (first != 0 || count != 0 || *next != 0)
      return error ("stream: HASHES: a disk with no copy has no blocks");
    *none = true;
    return rbuf_done (&rb);
  }
  if (kind != STREAM_HASHES_BLOCKS)
    return error ("stream: HASHES: unknown kind %u", kind);
  if (first != *next || count == 0 || count > STREAM_MAX_HASHES
      || count > b->n - first)
    return error ("stream: HASHES: blocks %" PRIu64 " to %" PRIu64
                  " do not follow block %" PRIu64 " of %" PRIu64,
                  first, first + count, *next, b->n);
  p = rbuf_bytes (&rb, 8 * (size_t) count);
  if (rbuf_done (&rb) == -1)
    return -1;
  for (i = 0; i < count; i++)
    b->h[first + i] = be64_get (p + 8 * i);
  *next = first + count;
  return 0;
}

int
stream_send_figures (struct wire *w, const struct stream_figures *fg)
{
  size_t len = FIGURES_HEADER + FIGURES_PER_ROUND * (size_t) fg->rounds;
  unsigned char *buf;
  uint32_t i;
  int ret;

  if (fg->rounds > STREAM_MAX_ROUNDS)
    return error ("stream: %" PRIu32 " rounds: too many", fg->rounds);
  buf = malloc (len);
  if (buf == NULL)
    return error ("out of memory");
  be32_put (buf, fg->rounds);
  be32_put (buf + 4, fg->flags);
  be64_put (buf + 8, fg->total_ms);
  be64_put (buf + 16, fg->downtime_ms);
  for (i = 0; i < fg->rounds; i++) {
    unsigned char *p = buf + FIGURES_HEADER + FIGURES_PER_ROUND * i;

    be64_put (p, fg->round[i].data);
    be64_put (p + 8, fg->round[i].wire);
    be64_put (p + 16, fg->round[i].ms);
  }
  ret = wire_send (w, STREAM_FIGURES, 0, buf, len);
  free (buf);
  return ret;
}

int
stream_decode_figures (const struct frame *f, struct stream_figures *fg)
{
  struct rbuf b;
  uint32_t i;

  rbuf_init (&b, f->payload, f->len, "FIGURES");
  fg->rounds = rbuf_u32 (&b);
  fg->flags = rbuf_u32 (&b);
  fg->total_ms = rbuf_u64 (&b);
  fg->downtime_ms = rbuf_u64 (&b);
  if (b.failed)
    return -1;
  if (fg->rounds == 0 || fg->rounds > STREAM_MAX_ROUNDS)
    return error ("stream: FIGURES: %" PRIu32 " rounds (1 to %d allowed)",
                  fg->rounds, STREAM_MAX_ROUNDS);
  if (fg->flags & ~(uint32_t) STREAM_ROUND_FLAGS)
    return error ("stream: FIGURES: unknown flags 0x%" PRIx32, fg->flags);
  for (i = 0; i < fg->rounds; i++) {
    fg->round[i].data = rbuf_u64 (&b);
    fg->round[i].wire = rbuf_u64 (&b);
    fg->round[i].ms = rbuf_u64 (&b);
  }
  if (rbuf_done (&b) == -1)
    return -1;
  if (fg->downtime_ms > fg->total_ms
      || (!(fg->flags & STREAM_ROUND_FINAL) && fg->downtime_ms != 0))
    return error ("stream: FIGURES: the downtime does not fit the total");
  return 0;
}
