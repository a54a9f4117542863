/* p2vkit imaging engine: the digest's block hash, built with -mavx2.
 *
 * xxHash picks its vector code when it is compiled, and Debian's
 * libxxhash is built for plain x86-64 (SSE2).  Compiling XXH3 inline here
 * with -mavx2 hashes nearly twice as fast; digest.c calls it only on
 * processors that have AVX2.
 */
#include "digest.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t
digest_block_hash_avx2 (const void *buf, size_t len)
{
  return XXH3_64bits (buf, len);
}
