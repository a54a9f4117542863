/* p2vkit imaging engine: block sinks.
 *
 * A sink receives a virtual disk in one pass, front to back: calls to
 * write() and zero() come with strictly increasing, non-overlapping
 * offsets.  Every byte of [0, size) is covered by exactly one call, so a
 * sink may rely on gaps never happening.
 *
 * A new output file is written under a temporary name ("NAME.part" beside
 * it) and only finish() renames it into place: an interrupted run never
 * leaves a file that looks complete.  abort() removes the temporary file.
 *
 * Thread use: one sink is used by one thread at a time.
 */
#ifndef P2V_SINK_H
#define P2V_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sink;

struct sink_ops {
  /* Write LEN bytes of data at OFFSET.  LEN is a multiple of the sink's
   * block size (sink->block_size) unless the write ends the disk.
   */
  int (*write) (struct sink *k, const void *buf, size_t len, uint64_t offset);

  /* [OFFSET, OFFSET + LEN) reads as zeros. */
  int (*zero) (struct sink *k, uint64_t offset, uint64_t len);

  /* Complete the output: write metadata, flush, rename into place.
   * Returns 0 or -1; either way the sink must still be released with
   * sink_free().
   */
  int (*finish) (struct sink *k);

  /* Release the sink; if finish() did not succeed, remove any partial
   * output.  Never fails.
   */
  void (*free) (struct sink *k);
};

struct sink {
  const struct sink_ops *ops;
  char *name;                   /* the final path, for messages; owned */
  uint64_t size;                /* virtual size in bytes */
  uint32_t block_size;          /* write granularity (cluster size) */
  uint64_t bytes_written;       /* bytes written so far, metadata included */
};

static inline void
sink_free (struct sink *k)
{
  if (k)
    k->ops->free (k);
}

/* Options shared by the sinks. */
struct sink_options {
  bool force;                   /* replace an existing file */
  bool sync;                    /* fdatasync before finish() renames */
  /* raw_sink_open: the new file's size; 0 for the disk's.  Smaller drops
   * the disk's end, larger adds zeros (see raw_sink_fd).
   */
  uint64_t file_size;
};

/* Compression of qcow2 data clusters. */
enum qcow2_compression {
  QCOW2_COMPRESS_NONE,
  QCOW2_COMPRESS_ZLIB,
  QCOW2_COMPRESS_ZSTD,
};

struct qcow2_options {
  unsigned cluster_bits;        /* 9..21; 16 (64 KiB) by default */
  enum qcow2_compression compression;
  int level;                    /* compression level, 0 = library default */
};

/* Create a new qcow2 (version 3) image of SIZE bytes at PATH.  Returns NULL
 * with an error recorded.
 */
struct sink *qcow2_sink_create (const char *path, uint64_t size,
                                const struct qcow2_options *qopts,
                                const struct sink_options *opts);

/* Resuming an interrupted qcow2 image.
 *
 * A receiver that may lose its connection calls qcow2_sink_checkpoint()
 * every so often.  If the transfer breaks, it frees the sink after
 * qcow2_sink_keep_partial(), which leaves NAME.part and NAME.part.state
 * behind; a later process calls qcow2_sink_resume() and goes on writing
 * from the guest offset the state records.  Whatever was written after
 * the checkpoint is discarded and must be written again.
 *
 * The state file is checked as untrusted input: damage, a state saved for
 * another NAME.part or for another disk size or format gives an error,
 * never a crash or an unbounded allocation.  A successful finish() removes
 * it; so does sink_free() of an unfinished sink without keep_partial, and
 * qcow2_sink_create(), which always starts afresh.
 */

/* Appended to NAME.part: the state saved by the last checkpoint. */
#define QCOW2_STATE_SUFFIX ".state"

/* The most caller's bytes a checkpoint keeps (see qcow2_sink_checkpoint). */
#define QCOW2_STATE_EXTRA_MAX (1024 * 1024)

/* Make everything written so far durable and save the writer's state,
 * with the caller's EXTRA bytes (at most QCOW2_STATE_EXTRA_MAX), in
 * NAME.part.state (written as a temporary file, fsync'ed, renamed, so a
 * crash leaves the old state or the new one).  The state records the next
 * guest offset the sink expects (all of [0, offset) has been given to
 * write()/zero()).  Fails on a sink that is not a qcow2 sink, that is
 * finished, or whose write(), zero() or finish() failed.  Returns 0 or -1
 * with an error recorded.
 */
int qcow2_sink_checkpoint (struct sink *k, const void *extra, size_t extra_len);

/* Keep NAME.part and its state when the sink is freed unfinished (a
 * transfer that may resume), instead of removing them.  Without a state
 * to resume from (no checkpoint yet), NAME.part is removed all the same.
 * Does nothing to a sink that is not a qcow2 sink.
 */
void qcow2_sink_keep_partial (struct sink *k);

/* Resume writing NAME from NAME.part and NAME.part.state left by a
 * checkpoint.  SIZE and QOPTS must match what the state records (else an
 * error says what differs).  On success *OFFSET is the guest offset to
 * continue from (the next write() or zero() must start there), and the
 * EXTRA bytes saved with the state are copied to EXTRA (capacity
 * *EXTRA_LEN, set to their length; EXTRA_LEN may be NULL when none are
 * expected).  NAME.part is cut back to what the checkpoint made durable.
 * Returns NULL with an error recorded if there is nothing to resume or
 * the state is damaged or does not fit the image (the caller then starts
 * afresh with qcow2_sink_create, which replaces NAME.part); the files are
 * left as they were.
 */
struct sink *qcow2_sink_resume (const char *path, uint64_t size,
                                const struct qcow2_options *qopts,
                                const struct sink_options *opts,
                                uint64_t *offset, void *extra,
                                size_t *extra_len);

/* Does PATH have a NAME.part and a NAME.part.state to resume from? */
bool qcow2_sink_can_resume (const char *path);

/* Write a raw disk of SIZE bytes into a new regular file at PATH (an
 * existing empty one, or with OPTS->force any existing file, is replaced),
 * created under a temporary name, left sparse and OPTS->file_size bytes
 * long.  Returns NULL with an error recorded.
 */
struct sink *raw_sink_open (const char *path, uint64_t size,
                            const struct sink_options *opts);

/* Write a raw disk of SIZE bytes in place onto FD, a block device (opened
 * with blockdev_open_exclusive()) or a file of TARGET_SIZE bytes, named
 * NAME in messages.  FD is not the sink's: finish() flushes it, only the
 * caller closes it.  A larger target is the sink's size (a copy zeroes
 * the rest).  On a smaller one, whatever the disk holds past its end is
 * dropped, not written: the caller has made sure that nothing of value
 * lies there (parttable.h).  Returns NULL with an error recorded.
 */
struct sink *raw_sink_fd (int fd, const char *name, uint64_t size,
                          uint64_t target_size);

#endif /* P2V_SINK_H */
