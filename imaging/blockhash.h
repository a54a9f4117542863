/* p2vkit imaging engine: the block hashes of a disk, and their store.
 *
 * Pre-copy (precopy.h) sends only the blocks whose content differs from
 * what the receiver holds.  The receiver knows what it holds by the
 * XXH3-64 of each DIGEST_BLOCK_SIZE block of its copy (the last block may
 * be shorter): the same hashes the disk digest is taken over (digest.h),
 * so the digest of a copy follows from its hashes without reading it.
 *
 * The store keeps them beside the copy between rounds and connections,
 * in a file of its own (IMAGE.hashes for p2v-recv):
 *
 *   offset  size  field (big-endian)
 *   0       8     magic "P2VHASH1"
 *   8       4     version (1)
 *   12      4     block size (65536)
 *   16      8     disk size in bytes
 *   24      8     valid: the hashes describe [0, valid) of the copy; the
 *                 disk size once the copy is complete, less for a first
 *                 copy that stopped part way (a resume point)
 *   32      8     the copy's inode number when the store was saved
 *   40      8     the copy's size in bytes then
 *   48      8     the copy's modification time then, in nanoseconds
 *   56      8     zero
 *   64      8*N   the N = ceil(disk size / block size) hashes
 *   64+8N   8     XXH3-64 of everything before it
 *
 * The store is trusted only for the copy it was saved with: a copy
 * changed since (by p2v-fixup, by hand, by a crash in the middle of a
 * round) has another modification time, and its hashes are then computed
 * again from the copy itself.  The file is read as untrusted input: its
 * size must be exactly what the expected disk size needs before anything
 * is read, so nothing is ever allocated from what it says.
 *
 * Thread use: one struct blockhash per thread; the hashers below write
 * to disjoint blocks of one.
 */
#ifndef P2V_BLOCKHASH_H
#define P2V_BLOCKHASH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "digest.h"
#include "source.h"

#define BLOCKHASH_BLOCK_SIZE DIGEST_BLOCK_SIZE
#define BLOCKHASH_SUFFIX ".hashes"
#define BLOCKHASH_MAGIC "P2VHASH1"
#define BLOCKHASH_VERSION 1
#define BLOCKHASH_HEADER_SIZE 64

struct blockhash {
  uint64_t size;                /* the disk's bytes */
  uint64_t n;                   /* its blocks */
  uint64_t *h;                  /* N hashes; owned */
  uint64_t valid;               /* [0, valid) is described */
};

/* The number of blocks of a disk of SIZE bytes. */
uint64_t blockhash_count (uint64_t size);

/* Set up B for a disk of SIZE bytes, every block a zero block (what an
 * empty copy holds), VALID 0.  Returns 0, or -1 with an error recorded
 * (out of memory: 8 bytes a block).
 */
int blockhash_init (struct blockhash *b, uint64_t size);
void blockhash_free (struct blockhash *b);

/* The hash of block I of B as zeros. */
uint64_t blockhash_zero (const struct blockhash *b, uint64_t i);

/* LEN bytes of data at OFFSET (a block boundary; LEN whole blocks unless
 * it ends the disk) are now in the copy: their hashes replace the
 * blocks'.  blockhash_set_zero(): the same for zeros.  The caller has
 * checked the range.
 */
void blockhash_set_data (struct blockhash *b, uint64_t offset, const void *buf,
                         size_t len);
void blockhash_set_zero (struct blockhash *b, uint64_t offset, uint64_t len);

/* Hashing on several threads: blockhash_hashers_set_data() is
 * blockhash_set_data() with the blocks shared out among THREADS threads,
 * the caller's among them.  A pre-copy's final round reads and hashes the
 * whole disk while the source is quiesced; on a disk in the page cache,
 * or a fast one, that is bound by the hashing.
 */
struct blockhash_hashers;

/* THREADS (at least 1; 1 starts no thread) hashers.  Returns NULL with an
 * error recorded when a thread cannot be started.
 */
struct blockhash_hashers *blockhash_hashers_new (unsigned threads);
void blockhash_hashers_set_data (struct blockhash_hashers *hs,
                                 struct blockhash *b, uint64_t offset,
                                 const void *buf, size_t len);
void blockhash_hashers_free (struct blockhash_hashers *hs);

/* The disk digest (digest.h) of a copy with these hashes. */
void blockhash_digest (const struct blockhash *b,
                       char hex[DIGEST_HEX_LENGTH + 1]);

/* Compute B's hashes from SRC (of B->size bytes), reading what is not a
 * hole; stops with "interrupted" when *CANCEL (may be NULL) is set.
 * Returns 0 (B->valid is then the size), or -1 with an error recorded.
 */
int blockhash_of_source (struct blockhash *b, struct source *src,
                         const volatile sig_atomic_t *cancel);

/* Load the store at PATH into B (set up for its disk size) if it was
 * saved with the copy whose status is IMAGE (NULL: a copy that is not
 * complete yet, see blockhash_save).  Returns 1 when loaded, 0 when there
 * is no store or it does not fit (B is left as it was; *WHY, if not
 * NULL, says why it does not fit), or -1 with an error recorded (it
 * could not be read).
 */
int blockhash_load (struct blockhash *b, const char *path,
                    const struct stat *image, const char **why);

/* Save B at PATH (written as PATH.tmp, flushed, renamed), as the hashes
 * of the copy whose status is IMAGE, taken after the copy was flushed;
 * NULL for a copy that is not complete yet (its store is then bound to
 * nothing but VALID).  Returns 0, or -1 with an error recorded.
 */
int blockhash_save (const struct blockhash *b, const char *path,
                    const struct stat *image);

#endif /* P2V_BLOCKHASH_H */
