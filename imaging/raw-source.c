/* p2vkit imaging engine: raw files and block devices as sources.
 *
 * Holes are found with SEEK_DATA/SEEK_HOLE, so a sparse file's holes are
 * never read.  A block device has no holes to report: all of it is data,
 * and zero detection in the copy loop finds its zeros.
 */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "file.h"

struct raw_source {
  struct source s;              /* must be first */
  int seek_works;               /* SEEK_DATA/SEEK_HOLE usable */
};

static int
raw_extent (struct source *s, uint64_t offset, uint64_t max_len,
            struct extent *e)
{
  struct raw_source *r = (struct raw_source *) s;
  uint64_t end = offset + max_len;
  off_t data, hole;

  if (end > s->size)
    end = s->size;
  e->offset = offset;
  e->type = EXTENT_DATA;
  e->length = end - offset;
  if (!r->seek_works)
    return 0;

  data = lseek (s->fd, offset, SEEK_DATA);
  if (data == -1) {
    if (errno == ENXIO) {       /* a hole up to the end of the file */
      e->type = EXTENT_ZERO;
      return 0;
    }
    if (errno == EINVAL || errno == EOPNOTSUPP) {
      r->seek_works = 0;
      return 0;
    }
    return error_errno (errno, "%s: seek for data at offset %" PRIu64, s->name,
                        offset);
  }
  if ((uint64_t) data > offset) {
    e->type = EXTENT_ZERO;
    if ((uint64_t) data < end)
      e->length = data - offset;
    return 0;
  }

  hole = lseek (s->fd, offset, SEEK_HOLE);
  if (hole == -1)
    return error_errno (errno, "%s: seek for a hole at offset %" PRIu64,
                        s->name, offset);
  if ((uint64_t) hole < end)
    e->length = hole - offset;
  return 0;
}

static int
raw_pread (struct source *s, void *buf, size_t len, uint64_t offset)
{
  char *p = buf;
  ssize_t r;

  while (len > 0) {
    r = pread (s->fd, p, len, offset);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return error_errno (errno, "%s: read at offset %" PRIu64, s->name,
                          offset);
    }
    if (r == 0)
      return error ("%s: read at offset %" PRIu64 ": unexpected end of file",
                    s->name, offset);
    p += r;
    len -= r;
    offset += r;
  }
  return 0;
}

static int
raw_map (struct source *s, uint64_t offset, size_t len, const void **addr)
{
  return file_map (s->fd, offset, len, addr) == 0;
}

static void
raw_unmap (struct source *s, uint64_t offset, size_t len, const void *addr)
{
  (void) s;
  (void) offset;
  file_unmap (addr, len);
}

static void
raw_close (struct source *s)
{
  close (s->fd);
  free (s->name);
  free (s);
}

static const struct source_ops raw_ops = {
  .format = "raw",
  .extent = raw_extent,
  .pread = raw_pread,
  .close = raw_close,
};

/* Regular files are also read through mappings: one copy less. */
static const struct source_ops raw_file_ops = {
  .format = "raw",
  .extent = raw_extent,
  .pread = raw_pread,
  .map = raw_map,
  .unmap = raw_unmap,
  .close = raw_close,
};

struct source *
raw_source_open (const char *path, int fd)
{
  struct raw_source *r;
  struct stat st;
  uint64_t size;

  if (fstat (fd, &st) == -1) {
    error_errno (errno, "%s: stat", path);
    return NULL;
  }
  if (S_ISBLK (st.st_mode)) {
    if (ioctl (fd, BLKGETSIZE64, &size) == -1) {
      error_errno (errno, "%s: get block device size", path);
      return NULL;
    }
  }
  else if (S_ISREG (st.st_mode))
    size = st.st_size;
  else {
    error ("%s: not a regular file or block device", path);
    return NULL;
  }

  r = calloc (1, sizeof *r);
  if (r == NULL || (r->s.name = strdup (path)) == NULL) {
    free (r);
    error ("%s: out of memory", path);
    return NULL;
  }
  r->s.ops = S_ISREG (st.st_mode) ? &raw_file_ops : &raw_ops;
  r->s.size = size;
  r->s.fd = fd;
  r->seek_works = S_ISREG (st.st_mode);
  posix_fadvise (fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return &r->s;
}
