/* p2vkit imaging engine: whole-disk digests.
 *
 * The digest of a virtual disk is XXH3-128 over the sequence of XXH3-64
 * hashes of its 64 KiB blocks (the last block may be shorter), each hash
 * stored as 8 big-endian bytes.  Hashing blocks first lets a run of zeros
 * cost one precomputed hash per block instead of hashing the zeros, so a
 * sparse 2 TB disk is digested at the speed of its data.  The digest
 * depends only on the disk's contents, never on its format: a raw file and
 * a qcow2 image of the same disk have the same digest.
 *
 * Bytes must be fed in order, from offset 0 to the end.  Not thread safe:
 * one digest per thread.
 */
#ifndef P2V_DIGEST_H
#define P2V_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_BLOCK_SIZE (64 * 1024)
#define DIGEST_HEX_LENGTH 32    /* characters, without the NUL */

struct digest;

/* Returns NULL with an error recorded when out of memory. */
struct digest *digest_new (void);
void digest_free (struct digest *d);

/* Feed LEN bytes of data, or LEN zero bytes. */
void digest_data (struct digest *d, const void *buf, size_t len);
void digest_zero (struct digest *d, uint64_t len);

/* Finish and write the digest as lower-case hex into HEX (33 bytes). The
 * digest must not be fed afterwards.
 */
void digest_final (struct digest *d, char hex[DIGEST_HEX_LENGTH + 1]);

/* Internal: XXH3-64 built for AVX2 (digest-avx2.c).  Call only where the
 * processor has AVX2; digest.c checks.
 */
uint64_t digest_block_hash_avx2 (const void *buf, size_t len);

#endif /* P2V_DIGEST_H */
