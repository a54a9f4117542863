/* p2vkit imaging engine: whole-disk digests (see digest.h). */
#include "digest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "error.h"
#include "qcow2.h"

struct digest {
  XXH3_state_t *outer;          /* over the block hashes */
  unsigned char *block;         /* the block being filled */
  size_t fill;                  /* bytes in block */
  unsigned char zero_hash[8];   /* hash of a whole zero block */
};

static uint64_t (*block_hash) (const void *, size_t);
static pthread_once_t choose_once = PTHREAD_ONCE_INIT;

static uint64_t
block_hash_generic (const void *buf, size_t len)
{
  return XXH3_64bits (buf, len);
}

/* Choose the fastest block hash this processor runs (see digest-avx2.c).
 * Both give the same results.
 */
static void
choose_block_hash (void)
{
#if defined(__x86_64__)
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx2")) {
    block_hash = digest_block_hash_avx2;
    return;
  }
#endif
  block_hash = block_hash_generic;
}

static void
add_block_hash (struct digest *d, const void *buf, size_t len)
{
  unsigned char h[8];

  be64_put (h, block_hash (buf, len));
  XXH3_128bits_update (d->outer, h, sizeof h);
}

struct digest *
digest_new (void)
{
  struct digest *d;

  d = calloc (1, sizeof *d);
  if (d == NULL)
    goto nomem;
  d->outer = XXH3_createState ();
  d->block = calloc (1, DIGEST_BLOCK_SIZE);
  if (d->outer == NULL || d->block == NULL)
    goto nomem;
  XXH3_128bits_reset (d->outer);
  pthread_once (&choose_once, choose_block_hash);
  /* d->block is all zeros here. */
  be64_put (d->zero_hash, block_hash (d->block, DIGEST_BLOCK_SIZE));
  return d;

nomem:
  digest_free (d);
  error ("digest: out of memory");
  return NULL;
}

void
digest_free (struct digest *d)
{
  if (d == NULL)
    return;
  if (d->outer)
    XXH3_freeState (d->outer);
  free (d->block);
  free (d);
}

void
digest_data (struct digest *d, const void *buf, size_t len)
{
  const unsigned char *p = buf;

  /* Top up a partly filled block first. */
  if (d->fill > 0) {
    size_t n = DIGEST_BLOCK_SIZE - d->fill;

    if (n > len)
      n = len;
    memcpy (d->block + d->fill, p, n);
    d->fill += n;
    p += n;
    len -= n;
    if (d->fill < DIGEST_BLOCK_SIZE)
      return;
    add_block_hash (d, d->block, DIGEST_BLOCK_SIZE);
    d->fill = 0;
  }

  /* Whole blocks straight from the caller's buffer. */
  while (len >= DIGEST_BLOCK_SIZE) {
    add_block_hash (d, p, DIGEST_BLOCK_SIZE);
    p += DIGEST_BLOCK_SIZE;
    len -= DIGEST_BLOCK_SIZE;
  }

  memcpy (d->block, p, len);
  d->fill = len;
}

void
digest_zero (struct digest *d, uint64_t len)
{
  if (d->fill > 0) {
    size_t n = DIGEST_BLOCK_SIZE - d->fill;

    if (n > len)
      n = len;
    memset (d->block + d->fill, 0, n);
    d->fill += n;
    len -= n;
    if (d->fill < DIGEST_BLOCK_SIZE)
      return;
    add_block_hash (d, d->block, DIGEST_BLOCK_SIZE);
    d->fill = 0;
  }

  for (; len >= DIGEST_BLOCK_SIZE; len -= DIGEST_BLOCK_SIZE)
    XXH3_128bits_update (d->outer, d->zero_hash, sizeof d->zero_hash);

  memset (d->block, 0, len);
  d->fill = len;
}

void
digest_final (struct digest *d, char hex[DIGEST_HEX_LENGTH + 1])
{
  XXH128_hash_t h;

  if (d->fill > 0) {
    add_block_hash (d, d->block, d->fill);
    d->fill = 0;
  }
  h = XXH3_128bits_digest (d->outer);
  snprintf (hex, DIGEST_HEX_LENGTH + 1, "%016llx%016llx",
            (unsigned long long) h.high64, (unsigned long long) h.low64);
}
