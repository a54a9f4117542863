/* p2vkit imaging engine: copying a source into a sink.
 *
 * copy_disk() is the loop every tool runs.  Two threads share the work: a
 * reader walks the source's extents, reads DATA into a ring of buffers and
 * feeds the digest; the calling thread finds the all-zero blocks in what was
 * read and hands data and zero runs to the sink.  So holes are never read,
 * zeros are never written, and reading overlaps writing.
 *
 * Memory: COPY_SLOTS buffers of COPY_BUFFER_SIZE bytes (or of one block,
 * if the sink's blocks are larger), whatever the size of the disk.
 */
#ifndef P2V_COPY_H
#define P2V_COPY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "progress.h"
#include "sink.h"
#include "source.h"

#define COPY_BUFFER_SIZE (1024 * 1024)
#define COPY_SLOTS 8
#define COPY_SECTOR_SIZE 512
#define COPY_BUFFER_ALIGNMENT 4096      /* a page */

struct copy_result {
  uint64_t bytes_read;          /* data read from the source */
  uint64_t bytes_data;          /* non-zero data handed to the sink */
  uint64_t bytes_zero;          /* zeros, holes included */
  /* The digest (see digest.h) of the disk as the sink holds it: the
   * source, and where the sink is a little larger because it rounds sizes
   * up to whole sectors (qcow2), the zeros that pad the last sector.
   */
  char digest[DIGEST_HEX_LENGTH + 1];
};

struct copy_options {
  /* When *CANCEL (may be NULL) becomes non-zero, for instance from a signal
   * handler, the copy stops with the error "interrupted".
   */
  const volatile sig_atomic_t *cancel;
  /* Resume a copy that got this far before (a multiple of the sink's block
   * size): [0, RESUME) is still read for the digest, but not given to the
   * sink.
   */
  uint64_t resume;
};

/* Copy all of SRC into DST (which must be as large) and finish DST.
 * PROGRESS (may be NULL) is started by the caller and updated here.  OPTS
 * may be NULL.
 *
 * Returns 0 with *RESULT filled, or -1 with an error recorded; the sink is
 * not finished then, and the caller's sink_free() removes its output.
 */
int copy_disk (struct source *src, struct sink *dst, struct progress *progress,
               const struct copy_options *opts, struct copy_result *result);

/* Is BUF (LEN bytes) all zeros? */
bool is_zero (const void *buf, size_t len);

#endif /* P2V_COPY_H */
