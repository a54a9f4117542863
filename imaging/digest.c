/* p2vkit imaging engine: whole-disk digests (see digest.h). */
#include "digest.h"

#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* For struct XXH3_state_s, which digest_save() and digest_restore() copy. */
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "error.h"
#include "qcow2.h"

/* A saved digest (digest_save): the magic, xxHash's version, the size of
 * its state and the fill of our block (4 bytes each, big-endian), then the
 * XXH3 state as it is in memory, then the whole block.
 */
#define DIGEST_STATE_MAGIC "P2VDGST1"
#define DIGEST_STATE_MAGIC_LENGTH 8
#define DIGEST_STATE_HEADER_LENGTH (DIGEST_STATE_MAGIC_LENGTH + 3 * 4)

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
  /* Every byte of the state defined, so that digest_save() copies no
   * uninitialised memory (the reset leaves parts it does not use).
   */
  memset (d->outer, 0, sizeof *d->outer);
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

uint64_t
digest_block_hash (const void *buf, size_t len)
{
  pthread_once (&choose_once, choose_block_hash);
  return block_hash (buf, len);
}

size_t
digest_state_size (void)
{
  return DIGEST_STATE_HEADER_LENGTH + sizeof (XXH3_state_t) + DIGEST_BLOCK_SIZE;
}

void
digest_save (const struct digest *d, void *buf)
{
  unsigned char *p = buf;
  unsigned char *state;

  memcpy (p, DIGEST_STATE_MAGIC, DIGEST_STATE_MAGIC_LENGTH);
  p += DIGEST_STATE_MAGIC_LENGTH;
  be32_put (p, XXH_versionNumber ());
  be32_put (p + 4, sizeof (XXH3_state_t));
  be32_put (p + 8, d->fill);
  p += 12;
  state = p;
  memcpy (state, d->outer, sizeof (XXH3_state_t));
  /* A pointer into this process's copy of the library: meaningless
   * elsewhere, and digest_restore() keeps its own.
   */
  memset (state + offsetof (XXH3_state_t, extSecret), 0,
          sizeof d->outer->extSecret);
  p += sizeof (XXH3_state_t);
  memcpy (p, d->block, DIGEST_BLOCK_SIZE);
}

int
digest_restore (struct digest *d, const void *buf, size_t len)
{
  const unsigned char *p = buf;
  XXH3_state_t *s = d->outer;
  uint32_t version, state_size, fill;
  const unsigned char *ext_secret;
  XXH3_state_t *saved;
  int r = -1;

  if (len != digest_state_size ()
      || memcmp (p, DIGEST_STATE_MAGIC, DIGEST_STATE_MAGIC_LENGTH) != 0)
    return error ("digest: not a saved digest");
  p += DIGEST_STATE_MAGIC_LENGTH;
  version = be32_get (p);
  state_size = be32_get (p + 4);
  fill = be32_get (p + 8);
  p += 12;
  if (version != XXH_versionNumber () || state_size != sizeof (XXH3_state_t))
    return error ("digest: saved by xxHash %" PRIu32 " with a %" PRIu32
                  "-byte state, not by this xxHash %u with a %zu-byte state",
                  version, state_size, XXH_versionNumber (),
                  sizeof (XXH3_state_t));
  if (fill >= DIGEST_BLOCK_SIZE)
    return error ("digest: damaged saved digest (block fill %" PRIu32 ")",
                  fill);

  /* Check the copy (aligned as the library needs) against D's state, which
   * digest_new() reset the same way: a damaged one could make xxHash read
   * out of bounds.
   */
  saved = XXH3_createState ();
  if (saved == NULL)
    return error ("digest: out of memory");
  memcpy (saved, p, sizeof *saved);
  if (saved->bufferedSize > XXH3_INTERNALBUFFER_SIZE
      || saved->nbStripesPerBlock != s->nbStripesPerBlock
      || saved->nbStripesSoFar >= s->nbStripesPerBlock
      || saved->secretLimit != s->secretLimit || saved->seed != s->seed
      || saved->useSeed != s->useSeed) {
    error ("digest: damaged saved digest");
    goto out;
  }
  ext_secret = s->extSecret;
  memcpy (s, saved, sizeof *s);
  s->extSecret = ext_secret;
  memcpy (d->block, p + sizeof *saved, DIGEST_BLOCK_SIZE);
  d->fill = fill;
  r = 0;

out:
  XXH3_freeState (saved);
  return r;
}
