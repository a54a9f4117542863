/* p2vkit imaging engine: block sources.
 *
 * A source is a virtual disk that can be read: a raw file, a block device
 * or a qcow2 image.  It is always opened read-only (O_RDONLY); nothing in
 * the engine ever writes to a source.
 *
 * A source describes itself as extents: DATA (bytes that must be read) and
 * ZERO (a hole, an unallocated or zero cluster: known to read as zeros
 * without reading).  DATA may still contain zeros; the copy loop detects
 * those.
 *
 * Thread use: one source is used by one thread at a time.
 */
#ifndef P2V_SOURCE_H
#define P2V_SOURCE_H

#include <stddef.h>
#include <stdint.h>

enum extent_type {
  EXTENT_DATA,
  EXTENT_ZERO,
};

struct extent {
  uint64_t offset;
  uint64_t length;              /* > 0 */
  enum extent_type type;
};

struct source;

struct source_ops {
  const char *format;           /* "raw", "qcow2" */

  /* Describe the extent that starts at OFFSET (< size), at most MAX_LEN
   * bytes long.  Returns 0 with *E filled, or -1 with an error recorded.
   */
  int (*extent) (struct source *s, uint64_t offset, uint64_t max_len,
                 struct extent *e);

  /* Read exactly LEN bytes at OFFSET (OFFSET + LEN <= size).  ZERO
   * extents read as zeros.  Returns 0, or -1 with an error recorded.
   */
  int (*pread) (struct source *s, void *buf, size_t len, uint64_t offset);

  /* Optional (NULL where the backend cannot): make LEN bytes at OFFSET
   * readable at *ADDR without copying them, until unmap() with the same
   * OFFSET, LEN and ADDR.  Only backends whose read errors cannot turn
   * into signals offer it (regular files, not block devices).  Returns 1
   * with *ADDR set, 0 when this range cannot be mapped (read it with
   * pread() instead), or -1 with an error recorded.
   */
  int (*map) (struct source *s, uint64_t offset, size_t len, const void **addr);
  void (*unmap) (struct source *s, uint64_t offset, size_t len,
                 const void *addr);

  /* Release everything.  Never fails. */
  void (*close) (struct source *s);
};

struct source {
  const struct source_ops *ops;
  char *name;                   /* the path, for messages; owned */
  uint64_t size;                /* virtual size in bytes */
  int fd;                       /* read-only descriptor of the file */
};

/* Open PATH read-only.  The format is taken from its contents: a qcow2
 * magic makes it qcow2, anything else is raw.  FORMAT may force "raw" or
 * "qcow2" (NULL: detect).  Returns NULL with an error recorded.  The caller
 * releases the source with source_close().
 */
struct source *source_open (const char *path, const char *format);

static inline void
source_close (struct source *s)
{
  if (s)
    s->ops->close (s);
}

/* An extent op for backends without holes: all of [OFFSET, end) is DATA,
 * at most MAX_LEN bytes of it.  Never fails.
 */
int source_extent_all_data (struct source *s, uint64_t offset, uint64_t max_len,
                            struct extent *e);

/* The raw backend (raw-source.c), used by source_open(). */
struct source *raw_source_open (const char *path, int fd);

/* The qcow2 backend (qcow2-read.c), used by source_open(). */
struct source *qcow2_source_open (const char *path, int fd);

#endif /* P2V_SOURCE_H */
