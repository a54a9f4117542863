/* p2vkit imaging engine: copying a source into a sink (see copy.h). */
#include "copy.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

enum slot_kind {
  SLOT_DATA,                    /* buf holds len bytes read at offset */
  SLOT_ZERO,                    /* [offset, offset + len) is a hole */
  SLOT_END,                     /* the reader is done (or failed) */
};

struct slot {
  enum slot_kind kind;
  uint64_t offset;
  uint64_t len;
  const unsigned char *data;    /* buf, or a mapping of the source */
  bool mapped;
  unsigned char *buf;
};

/* The ring shared by the reader and the writer.  Slots are filled in order
 * at 'head' by the reader and emptied in order at 'tail' by the writer.
 */
struct ring {
  pthread_mutex_t lock;
  pthread_cond_t filled;        /* the writer waits for a slot */
  pthread_cond_t emptied;       /* the reader waits for room */
  struct slot slots[COPY_SLOTS];
  unsigned head, tail, count;
  bool stop;                    /* the writer failed: reader, give up */
  char reader_error[1024];      /* set before the reader's SLOT_END */
  bool reader_failed;

  struct source *src;
  uint32_t block_size;
  uint64_t end;                 /* the reader covers [0, end) */
  uint64_t padding;             /* zeros after the source in the digest */
  struct extent extent;         /* the source's extent read last */
  size_t buffer_size;           /* of each slot, a multiple of block_size */
  const volatile sig_atomic_t *cancel;
  uint64_t resume;              /* the sink already has [0, resume) */
  struct digest *digest;
  uint64_t bytes_read;
};

bool
is_zero (const void *buf, size_t len)
{
  const unsigned char *p = buf;
  static const unsigned char zeros[16];

  /* Check a short head by hand, then compare the buffer with itself
   * shifted by that much: memcmp is vectorised, and random data fails on
   * the first word.
   */
  if (len <= sizeof zeros)
    return memcmp (p, zeros, len) == 0;
  return memcmp (p, zeros, sizeof zeros) == 0
    && memcmp (p, p + sizeof zeros, len - sizeof zeros) == 0;
}

static struct slot *
reader_get_slot (struct ring *r)
{
  struct slot *s = NULL;

  pthread_mutex_lock (&r->lock);
  while (r->count == COPY_SLOTS && !r->stop)
    pthread_cond_wait (&r->emptied, &r->lock);
  if (!r->stop)
    s = &r->slots[r->head];
  pthread_mutex_unlock (&r->lock);
  return s;
}

static void
reader_put_slot (struct ring *r)
{
  pthread_mutex_lock (&r->lock);
  r->head = (r->head + 1) % COPY_SLOTS;
  r->count++;
  pthread_cond_signal (&r->filled);
  pthread_mutex_unlock (&r->lock);
}

static uint64_t
round_up (uint64_t n, uint64_t to)
{
  return (n + to - 1) / to * to;
}

/* Fill slot S with the next piece of the disk at *OFFSET. */
static int
read_next (struct ring *r, struct slot *s, uint64_t *offset)
{
  struct source *src = r->src;
  uint64_t off = *offset;
  uint64_t end;
  struct extent e;

  /* Ask the source once per extent, not once per buffer. */
  if (off < r->extent.offset || off >= r->extent.offset + r->extent.length) {
    if (src->ops->extent (src, off, src->size - off, &r->extent) == -1)
      return -1;
  }
  e.type = r->extent.type;
  e.offset = off;
  e.length = r->extent.offset + r->extent.length - off;

  if (e.type == EXTENT_ZERO) {
    /* A hole counts as one only in whole blocks (or up to the end). */
    end = off + e.length;
    if (end != src->size)
      end -= end % r->block_size;
    if (end > off) {
      digest_zero (r->digest, end - off);
      if (end == src->size) {   /* the padding is zeros too */
        digest_zero (r->digest, r->padding);
        end = r->end;
      }
      s->kind = SLOT_ZERO;
      s->offset = off;
      s->len = end - off;
      *offset = end;
      return 0;
    }
  }

  /* Data, or a hole shorter than a block: read whole blocks. */
  end = round_up (e.offset + e.length, r->block_size);
  if (end > off + r->buffer_size)
    end = off + r->buffer_size;
  if (end > src->size)
    end = src->size;
  s->kind = SLOT_DATA;
  s->offset = off;
  s->len = end - off;
  s->mapped = false;
  s->data = s->buf;
  if (end == src->size && r->end > end) {
    /* The source ends inside the sink's last block: pad it with zeros.
     * The digest covers the source's bytes only.
     */
    if (src->ops->pread (src, s->buf, s->len, off) == -1)
      return -1;
    digest_data (r->digest, s->data, s->len);
    digest_zero (r->digest, r->padding);
    memset (s->buf + s->len, 0, r->end - end);
    s->len = r->end - off;
    r->bytes_read += end - off;
    *offset = r->end;
    return 0;
  }
  if (src->ops->map) {
    int m = src->ops->map (src, off, s->len, (const void **) &s->data);

    if (m == -1)
      return -1;
    s->mapped = m == 1;
  }
  if (!s->mapped && src->ops->pread (src, s->buf, s->len, off) == -1)
    return -1;
  digest_data (r->digest, s->data, s->len);
  r->bytes_read += s->len;
  *offset = end;
  return 0;
}

static void *
reader_thread (void *arg)
{
  struct ring *r = arg;
  uint64_t offset = 0;
  struct slot *s;

  while (offset < r->end) {
    s = reader_get_slot (r);
    if (s == NULL)
      return NULL;
    if (r->cancel && *r->cancel) {
      error ("interrupted");
      goto failed;
    }
    if (read_next (r, s, &offset) == -1)
      goto failed;
    reader_put_slot (r);
  }
  s = reader_get_slot (r);
  if (s == NULL)
    return NULL;
  s->kind = SLOT_END;
  reader_put_slot (r);
  return NULL;

failed:
  snprintf (r->reader_error, sizeof r->reader_error, "%s", error_message ());
  r->reader_failed = true;
  s->kind = SLOT_END;
  reader_put_slot (r);
  return NULL;
}

/* Hand one DATA slot to the sink, leaving out its all-zero blocks. */
static int
write_slot (struct sink *dst, const struct slot *s, uint32_t bs,
            struct copy_result *res)
{
  uint64_t pos = 0, run = 0;    /* [run, pos) is pending non-zero data */
  uint64_t zrun = 0;            /* [zrun, pos) is pending zeros */
  bool in_data = false;

  while (pos < s->len) {
    uint64_t n = s->len - pos < bs ? s->len - pos : bs;
    bool z = is_zero (s->data + pos, n);

    if (!z && !in_data) {
      if (pos > zrun
          && dst->ops->zero (dst, s->offset + zrun, pos - zrun) == -1)
        return -1;
      res->bytes_zero += pos - zrun;
      run = pos;
      in_data = true;
    }
    else if (z && in_data) {
      if (dst->ops->write (dst, s->data + run, pos - run, s->offset + run)
          == -1)
        return -1;
      res->bytes_data += pos - run;
      zrun = pos;
      in_data = false;
    }
    pos += n;
  }
  if (in_data) {
    if (dst->ops->write (dst, s->data + run, pos - run, s->offset + run) == -1)
      return -1;
    res->bytes_data += pos - run;
  }
  else if (pos > zrun) {
    if (dst->ops->zero (dst, s->offset + zrun, pos - zrun) == -1)
      return -1;
    res->bytes_zero += pos - zrun;
  }
  return 0;
}

static int
writer_loop (struct ring *r, struct sink *dst, struct progress *progress,
             struct copy_result *res)
{
  struct slot *s;

  for (;;) {
    pthread_mutex_lock (&r->lock);
    while (r->count == 0)
      pthread_cond_wait (&r->filled, &r->lock);
    s = &r->slots[r->tail];
    pthread_mutex_unlock (&r->lock);

    if (s->kind == SLOT_END)
      break;
    if (s->offset + s->len <= r->resume)
      ;                         /* the sink has it from before */
    else if (s->kind == SLOT_ZERO) {
      uint64_t from = s->offset > r->resume ? s->offset : r->resume;

      if (dst->ops->zero (dst, from, s->offset + s->len - from) == -1)
        return -1;
      res->bytes_zero += s->offset + s->len - from;
    }
    else {
      struct slot part = *s;
      int w;

      if (part.offset < r->resume) {
        part.data += r->resume - part.offset;
        part.len -= r->resume - part.offset;
        part.offset = r->resume;
      }
      w = write_slot (dst, &part, r->block_size, res);

      if (s->mapped) {
        r->src->ops->unmap (r->src, s->offset, s->len, s->data);
        s->mapped = false;
      }
      if (w == -1)
        return -1;
    }
    if (progress)
      progress_update (progress, s->offset + s->len);

    pthread_mutex_lock (&r->lock);
    r->tail = (r->tail + 1) % COPY_SLOTS;
    r->count--;
    pthread_cond_signal (&r->emptied);
    pthread_mutex_unlock (&r->lock);
  }

  if (r->reader_failed) {
    error_set_message (r->reader_error);
    return -1;
  }
  return 0;
}

int
copy_disk (struct source *src, struct sink *dst, struct progress *progress,
           const struct copy_options *opts, struct copy_result *result)
{
  static const struct copy_options defaults;
  struct ring r = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .filled = PTHREAD_COND_INITIALIZER,
    .emptied = PTHREAD_COND_INITIALIZER,
    .src = src,
    .block_size = dst->block_size,
  };
  struct slot *s;
  bool started = false;
  pthread_t reader;
  int ret = -1;
  unsigned i;
  int err;

  memset (result, 0, sizeof *result);
  if (opts == NULL)
    opts = &defaults;
  r.cancel = opts->cancel;
  r.resume = opts->resume;
  if (r.resume % dst->block_size || r.resume > src->size) {
    error ("%s: cannot resume at offset %" PRIu64, dst->name, r.resume);
    goto out;
  }
  if (dst->size < src->size) {
    error ("%s: too small for %s (%" PRIu64 " < %" PRIu64 " bytes)", dst->name,
           src->name, dst->size, src->size);
    goto out;
  }
  /* The last block is completed with zeros when the sink is larger. */
  r.end = round_up (src->size, dst->block_size);
  if (r.end > dst->size)
    r.end = dst->size;
  if (r.end < src->size)
    r.end = src->size;
  r.buffer_size = round_up (COPY_BUFFER_SIZE, r.block_size);
  /* The digest covers the disk the sink ends up with, in whole sectors:
   * a sink that rounds the size up (qcow2) holds padding; a larger device
   * holds more than the disk.
   */
  r.padding = round_up (src->size, COPY_SECTOR_SIZE);
  if (r.padding > dst->size)
    r.padding = dst->size;
  r.padding = r.padding > src->size ? r.padding - src->size : 0;
  r.digest = digest_new ();
  if (r.digest == NULL)
    goto out;
  for (i = 0; i < COPY_SLOTS; i++) {
    r.slots[i].buf = aligned_alloc (COPY_BUFFER_ALIGNMENT, r.buffer_size);
    if (r.slots[i].buf == NULL) {
      error ("out of memory");
      goto out;
    }
  }

  err = pthread_create (&reader, NULL, reader_thread, &r);
  if (err) {
    error_errno (err, "cannot start the reader thread");
    goto out;
  }
  started = true;

  if (writer_loop (&r, dst, progress, result) == -1)
    goto out;
  if (dst->size > r.end && dst->ops->zero (dst, r.end, dst->size - r.end) == -1)
    goto out;
  if (progress)
    progress_end (progress);
  if (dst->ops->finish (dst) == -1)
    goto out;
  result->bytes_read = r.bytes_read;
  digest_final (r.digest, result->digest);
  ret = 0;

out:
  if (started) {
    pthread_mutex_lock (&r.lock);
    r.stop = true;
    pthread_cond_signal (&r.emptied);
    pthread_mutex_unlock (&r.lock);
    pthread_join (reader, NULL);
    /* Release what the writer did not get to. */
    for (; r.count > 0; r.count--, r.tail = (r.tail + 1) % COPY_SLOTS) {
      s = &r.slots[r.tail];
      if (s->kind == SLOT_DATA && s->mapped)
        src->ops->unmap (src, s->offset, s->len, s->data);
    }
  }
  for (i = 0; i < COPY_SLOTS; i++)
    free (r.slots[i].buf);
  digest_free (r.digest);
  return ret;
}
