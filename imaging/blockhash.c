/* p2vkit imaging engine: block hashes and their store (see blockhash.h). */
#include "blockhash.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "error.h"
#include "file.h"
#include "qcow2.h"

#define BLOCKHASH_MAGIC_LENGTH 8
#define BLOCKHASH_CHECKSUM_SIZE 8
#define BLOCKHASH_TMP_SUFFIX ".tmp"
/* Blocks read from a source at once while hashing it. */
#define BLOCKHASH_READ_BLOCKS 16
#define NS_PER_SECOND 1000000000ULL

uint64_t
blockhash_count (uint64_t size)
{
  return (size + BLOCKHASH_BLOCK_SIZE - 1) / BLOCKHASH_BLOCK_SIZE;
}

static uint64_t whole_zero_hash;
static pthread_once_t whole_zero_once = PTHREAD_ONCE_INIT;

static void
compute_whole_zero_hash (void)
{
  static const unsigned char zeros[BLOCKHASH_BLOCK_SIZE];

  whole_zero_hash = digest_block_hash (zeros, BLOCKHASH_BLOCK_SIZE);
}

/* The hash of LEN zero bytes: a whole block's is computed once (a disk
 * has millions of them), a short last block's each time.
 */
static uint64_t
zero_hash (size_t len)
{
  static const unsigned char zeros[BLOCKHASH_BLOCK_SIZE];

  if (len == BLOCKHASH_BLOCK_SIZE) {
    pthread_once (&whole_zero_once, compute_whole_zero_hash);
    return whole_zero_hash;
  }
  return digest_block_hash (zeros, len);
}

static size_t
block_len (const struct blockhash *b, uint64_t i)
{
  uint64_t start = i * BLOCKHASH_BLOCK_SIZE;

  return b->size - start < BLOCKHASH_BLOCK_SIZE ? (size_t) (b->size - start)
                                                : BLOCKHASH_BLOCK_SIZE;
}

uint64_t
blockhash_zero (const struct blockhash *b, uint64_t i)
{
  return zero_hash (block_len (b, i));
}

int
blockhash_init (struct blockhash *b, uint64_t size)
{
  uint64_t i, whole;

  memset (b, 0, sizeof *b);
  b->size = size;
  b->n = blockhash_count (size);
  if (b->n > SIZE_MAX / sizeof *b->h
      || (b->h = malloc (b->n * sizeof *b->h)) == NULL)
    return error ("block hashes of %" PRIu64 " blocks: out of memory", b->n);
  whole = size / BLOCKHASH_BLOCK_SIZE;
  for (i = 0; i < whole; i++)
    b->h[i] = zero_hash (BLOCKHASH_BLOCK_SIZE);
  if (whole < b->n)
    b->h[whole] = zero_hash (size - whole * BLOCKHASH_BLOCK_SIZE);
  return 0;
}

void
blockhash_free (struct blockhash *b)
{
  free (b->h);
  b->h = NULL;
  b->n = 0;
}

void
blockhash_set_data (struct blockhash *b, uint64_t offset, const void *buf,
                    size_t len)
{
  const unsigned char *p = buf;
  uint64_t i = offset / BLOCKHASH_BLOCK_SIZE;

  while (len > 0 && i < b->n) {
    size_t n = len < BLOCKHASH_BLOCK_SIZE ? len : BLOCKHASH_BLOCK_SIZE;

    b->h[i++] = digest_block_hash (p, n);
    p += n;
    len -= n;
  }
}

/* The hashers' shared state.  The caller posts a job (a buffer's blocks)
 * by raising GENERATION; helper K hashes share K of it, the caller share
 * 0, and the caller waits until every helper has counted itself DONE.
 */
struct blockhash_hashers {
  unsigned threads;             /* helpers + 1 */
  pthread_t *helpers;
  unsigned started;             /* helpers running */
  pthread_mutex_t lock;
  pthread_cond_t posted;        /* the helpers wait for a job */
  pthread_cond_t finished;      /* the caller waits for the helpers */
  uint64_t generation;          /* raised for each job */
  unsigned done;                /* helpers finished with this job */
  bool quit;
  /* The job. */
  struct blockhash *b;
  uint64_t offset;
  const unsigned char *buf;
  size_t len;
};

struct helper_arg {
  struct blockhash_hashers *hs;
  unsigned share;
};

/* Hash share SHARE of the job: a run of whole blocks. */
static void
hash_share (struct blockhash_hashers *hs, unsigned share)
{
  size_t blocks = (hs->len + BLOCKHASH_BLOCK_SIZE - 1) / BLOCKHASH_BLOCK_SIZE;
  size_t first = blocks * share / hs->threads;
  size_t last = blocks * (share + 1) / hs->threads;
  size_t from = first * BLOCKHASH_BLOCK_SIZE;
  size_t to = last * BLOCKHASH_BLOCK_SIZE < hs->len
    ? last * BLOCKHASH_BLOCK_SIZE
    : hs->len;

  if (from < to)
    blockhash_set_data (hs->b, hs->offset + from, hs->buf + from, to - from);
}

static void *
helper (void *arg)
{
  struct helper_arg *a = arg;
  struct blockhash_hashers *hs = a->hs;
  unsigned share = a->share;
  uint64_t seen = 0;

  free (a);
  pthread_mutex_lock (&hs->lock);
  for (;;) {
    while (!hs->quit && hs->generation == seen)
      pthread_cond_wait (&hs->posted, &hs->lock);
    if (hs->quit)
      break;
    seen = hs->generation;
    pthread_mutex_unlock (&hs->lock);
    hash_share (hs, share);
    pthread_mutex_lock (&hs->lock);
    if (++hs->done == hs->threads - 1)
      pthread_cond_signal (&hs->finished);
  }
  pthread_mutex_unlock (&hs->lock);
  return NULL;
}

struct blockhash_hashers *
blockhash_hashers_new (unsigned threads)
{
  struct blockhash_hashers *hs = calloc (1, sizeof *hs);
  unsigned k;
  int err;

  if (hs == NULL || threads == 0) {
    free (hs);
    error ("out of memory");
    return NULL;
  }
  hs->threads = threads;
  pthread_mutex_init (&hs->lock, NULL);
  pthread_cond_init (&hs->posted, NULL);
  pthread_cond_init (&hs->finished, NULL);
  hs->helpers = calloc (threads, sizeof *hs->helpers);
  if (hs->helpers == NULL) {
    error ("out of memory");
    goto fail;
  }
  for (k = 1; k < threads; k++) {
    struct helper_arg *a = malloc (sizeof *a);

    if (a == NULL) {
      error ("out of memory");
      goto fail;
    }
    a->hs = hs;
    a->share = k;
    err = pthread_create (&hs->helpers[hs->started], NULL, helper, a);
    if (err != 0) {
      free (a);
      error_errno (err, "hashing: cannot start a thread");
      goto fail;
    }
    hs->started++;
  }
  return hs;

fail:
  blockhash_hashers_free (hs);
  return NULL;
}

void
blockhash_hashers_set_data (struct blockhash_hashers *hs, struct blockhash *b,
                            uint64_t offset, const void *buf, size_t len)
{
  if (hs->threads == 1 || len <= BLOCKHASH_BLOCK_SIZE) {
    blockhash_set_data (b, offset, buf, len);
    return;
  }
  pthread_mutex_lock (&hs->lock);
  hs->b = b;
  hs->offset = offset;
  hs->buf = buf;
  hs->len = len;
  hs->done = 0;
  hs->generation++;
  pthread_cond_broadcast (&hs->posted);
  pthread_mutex_unlock (&hs->lock);

  hash_share (hs, 0);

  pthread_mutex_lock (&hs->lock);
  while (hs->done < hs->threads - 1)
    pthread_cond_wait (&hs->finished, &hs->lock);
  pthread_mutex_unlock (&hs->lock);
}

void
blockhash_hashers_free (struct blockhash_hashers *hs)
{
  unsigned k;

  if (hs == NULL)
    return;
  pthread_mutex_lock (&hs->lock);
  hs->quit = true;
  pthread_cond_broadcast (&hs->posted);
  pthread_mutex_unlock (&hs->lock);
  for (k = 0; k < hs->started; k++)
    pthread_join (hs->helpers[k], NULL);
  pthread_mutex_destroy (&hs->lock);
  pthread_cond_destroy (&hs->posted);
  pthread_cond_destroy (&hs->finished);
  free (hs->helpers);
  free (hs);
}

void
blockhash_set_zero (struct blockhash *b, uint64_t offset, uint64_t len)
{
  uint64_t i = offset / BLOCKHASH_BLOCK_SIZE;
  uint64_t end = blockhash_count (offset + len);

  for (; i < end && i < b->n; i++)
    b->h[i] = blockhash_zero (b, i);
}

void
blockhash_digest (const struct blockhash *b, char hex[DIGEST_HEX_LENGTH + 1])
{
  unsigned char be[BLOCKHASH_READ_BLOCKS * 8];
  XXH3_state_t *st = XXH3_createState ();
  XXH128_hash_t h;
  uint64_t i = 0;
  size_t k;

  /* Out of memory here would leave no digest: a mismatch, never a lie. */
  if (st == NULL) {
    snprintf (hex, DIGEST_HEX_LENGTH + 1, "%s", "out-of-memory");
    return;
  }
  XXH3_128bits_reset (st);
  while (i < b->n) {
    for (k = 0; k < BLOCKHASH_READ_BLOCKS && i < b->n; k++, i++)
      be64_put (be + 8 * k, b->h[i]);
    XXH3_128bits_update (st, be, 8 * k);
  }
  h = XXH3_128bits_digest (st);
  XXH3_freeState (st);
  snprintf (hex, DIGEST_HEX_LENGTH + 1, "%016llx%016llx",
            (unsigned long long) h.high64, (unsigned long long) h.low64);
}

int
blockhash_of_source (struct blockhash *b, struct source *src,
                     const volatile sig_atomic_t *cancel)
{
  const size_t chunk = BLOCKHASH_READ_BLOCKS * BLOCKHASH_BLOCK_SIZE;
  unsigned char *buf = malloc (chunk);
  uint64_t off = 0;
  struct extent e;
  int ret = -1;

  if (buf == NULL)
    return error ("%s: out of memory", src->name);
  while (off < b->size) {
    uint64_t len, end;

    if (cancel && *cancel) {
      error ("interrupted");
      goto out;
    }
    if (src->ops->extent (src, off, b->size - off, &e) == -1)
      goto out;
    /* Whole blocks only: a block is zero when all of it is. */
    end = off + e.length;
    if (e.type == EXTENT_ZERO && end % BLOCKHASH_BLOCK_SIZE != 0
        && end != b->size)
      end = end / BLOCKHASH_BLOCK_SIZE * BLOCKHASH_BLOCK_SIZE;
    if (e.type == EXTENT_ZERO && end > off) {
      blockhash_set_zero (b, off, end - off);
      off = end;
      continue;
    }
    len = b->size - off < chunk ? b->size - off : chunk;
    if (src->ops->pread (src, buf, len, off) == -1)
      goto out;
    blockhash_set_data (b, off, buf, len);
    off += len;
  }
  b->valid = b->size;
  ret = 0;

out:
  free (buf);
  return ret;
}

/* What binds a store to its copy (zeros for none). */
static void
identity (const struct stat *st, uint64_t id[3])
{
  if (st == NULL) {
    id[0] = id[1] = id[2] = 0;
    return;
  }
  id[0] = st->st_ino;
  id[1] = st->st_size;
  id[2] = (uint64_t) st->st_mtim.tv_sec * NS_PER_SECOND
    + (uint64_t) st->st_mtim.tv_nsec;
}

int
blockhash_load (struct blockhash *b, const char *path, const struct stat *image,
                const char **why)
{
  uint64_t n = blockhash_count (b->size), id[3], i, valid;
  size_t len = BLOCKHASH_HEADER_SIZE + 8 * n + BLOCKHASH_CHECKSUM_SIZE;
  unsigned char *buf = NULL;
  const char *reason = NULL;
  struct stat st;
  ssize_t r;
  int fd, ret = -1;

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd == -1) {
    if (errno == ENOENT) {
      reason = "no block hashes";
      ret = 0;
      goto out;
    }
    error_errno (errno, "%s", path);
    goto out;
  }
  if (fstat (fd, &st) == -1) {
    error_errno (errno, "%s", path);
    goto out;
  }
  if (!S_ISREG (st.st_mode) || (uint64_t) st.st_size != len) {
    reason = "the block hashes do not fit the disk's size";
    ret = 0;
    goto out;
  }
  buf = malloc (len);
  if (buf == NULL) {
    error ("%s: out of memory", path);
    goto out;
  }
  r = pread (fd, buf, len, 0);
  if (r == -1) {
    error_errno (errno, "%s: read", path);
    goto out;
  }
  ret = 0;
  identity (image, id);
  valid = be64_get (buf + 24);
  if ((size_t) r != len
      || XXH3_64bits (buf, len - BLOCKHASH_CHECKSUM_SIZE)
        != be64_get (buf + len - BLOCKHASH_CHECKSUM_SIZE))
    reason = "the block hashes are damaged";
  else if (memcmp (buf, BLOCKHASH_MAGIC, BLOCKHASH_MAGIC_LENGTH) != 0
           || be32_get (buf + 8) != BLOCKHASH_VERSION
           || be32_get (buf + 12) != BLOCKHASH_BLOCK_SIZE
           || be64_get (buf + 16) != b->size || be64_get (buf + 56) != 0
           || valid > b->size
           || (valid % BLOCKHASH_BLOCK_SIZE != 0 && valid != b->size))
    reason = "the block hashes are not for this disk";
  else if (be64_get (buf + 32) != id[0] || be64_get (buf + 40) != id[1]
           || be64_get (buf + 48) != id[2])
    reason = "the copy changed since its block hashes were saved";
  if (reason)
    goto out;
  for (i = 0; i < n; i++)
    b->h[i] = be64_get (buf + BLOCKHASH_HEADER_SIZE + 8 * i);
  b->valid = valid;
  ret = 1;

out:
  if (why)
    *why = reason;
  if (fd >= 0)
    close (fd);
  free (buf);
  return ret;
}

int
blockhash_save (const struct blockhash *b, const char *path,
                const struct stat *image)
{
  size_t len = BLOCKHASH_HEADER_SIZE + 8 * b->n + BLOCKHASH_CHECKSUM_SIZE;
  unsigned char *buf = calloc (1, len);
  char *tmp = NULL;
  uint64_t id[3], i;
  int fd = -1, ret = -1;

  if (buf == NULL || asprintf (&tmp, "%s" BLOCKHASH_TMP_SUFFIX, path) == -1) {
    tmp = NULL;
    error ("%s: out of memory", path);
    goto out;
  }
  identity (image, id);
  memcpy (buf, BLOCKHASH_MAGIC, BLOCKHASH_MAGIC_LENGTH);
  be32_put (buf + 8, BLOCKHASH_VERSION);
  be32_put (buf + 12, BLOCKHASH_BLOCK_SIZE);
  be64_put (buf + 16, b->size);
  be64_put (buf + 24, b->valid);
  be64_put (buf + 32, id[0]);
  be64_put (buf + 40, id[1]);
  be64_put (buf + 48, id[2]);
  for (i = 0; i < b->n; i++)
    be64_put (buf + BLOCKHASH_HEADER_SIZE + 8 * i, b->h[i]);
  be64_put (buf + len - BLOCKHASH_CHECKSUM_SIZE,
            XXH3_64bits (buf, len - BLOCKHASH_CHECKSUM_SIZE));
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd == -1) {
    error_errno (errno, "%s: create", tmp);
    goto out;
  }
  if (file_pwrite_all (fd, buf, len, 0) == -1) {
    error_prefix ("%s", tmp);
    goto out;
  }
  if (fdatasync (fd) == -1) {
    error_errno (errno, "%s: flush", tmp);
    goto out;
  }
  if (rename (tmp, path) == -1) {
    error_errno (errno, "%s: rename to %s", tmp, path);
    goto out;
  }
  ret = file_sync_dir (path);

out:
  if (fd >= 0)
    close (fd);
  if (ret == -1 && tmp)
    unlink (tmp);
  free (tmp);
  free (buf);
  return ret;
}
