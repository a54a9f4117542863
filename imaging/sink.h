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

/* Write a raw disk at PATH.  A new or --force'd regular file is created
 * under a temporary name and left sparse; an existing block device (or,
 * with force, an existing file) is written in place after checking that it
 * is not mounted or otherwise in use, and must be at least SIZE bytes.
 * Returns NULL with an error recorded.
 */
struct sink *raw_sink_open (const char *path, uint64_t size,
                            const struct sink_options *opts);

#endif /* P2V_SINK_H */
