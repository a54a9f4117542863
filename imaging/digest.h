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

/* The XXH3-64 of one block (at most DIGEST_BLOCK_SIZE bytes): the hash the
 * digest is taken over, each as 8 big-endian bytes (blockhash.h keeps them
 * for a whole disk).  Thread safe.
 */
uint64_t digest_block_hash (const void *buf, size_t len);

/* Saving a digest part way, to carry on in another process (a resumed
 * transfer keeps it with its checkpoint, see qcow2_sink_checkpoint).
 *
 * digest_save() writes D's state into BUF, which has room for
 * digest_state_size() bytes.  digest_restore() replaces D's state (D from
 * digest_new(), in any state) with one saved in LEN bytes at BUF, so that
 * D goes on as the saved digest would have.  The saved bytes hold
 * xxHash's internal state as this build of the library lays it out: they
 * can be restored only with the same library version and layout, and
 * digest_restore() refuses anything else.  Returns 0, or -1 with an error
 * recorded (D is then unchanged).
 */
size_t digest_state_size (void);
void digest_save (const struct digest *d, void *buf);
int digest_restore (struct digest *d, const void *buf, size_t len);

/* Internal: XXH3-64 built for AVX2 (digest-avx2.c).  Call only where the
 * processor has AVX2; digest.c checks.
 */
uint64_t digest_block_hash_avx2 (const void *buf, size_t len);

#endif /* P2V_DIGEST_H */
