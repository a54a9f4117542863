/* p2vkit imaging engine: raw files and block devices as sinks.
 *
 * A regular file is always written as a new sparse file under a temporary
 * name (see file.h): zero runs become holes by not being written at all.
 *
 * A block device is written in place.  It is opened with O_EXCL, which the
 * kernel refuses while the device or one of its partitions is mounted or
 * held by another user (LVM, RAID, swap, another writer).  Its old contents
 * cannot be trusted to be zeros, so zero runs are zeroed with the device's
 * own zeroing (fallocate, falling back to BLKZEROOUT), which on most
 * devices is a discard or a write-zeroes command rather than a data write.
 */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "file.h"

#define RAW_SINK_BLOCK_SIZE 4096

struct raw_sink {
  struct sink k;                /* must be first */
  int fd;
  char *final_path;             /* NULL for a block device */
  char *tmp_path;               /* NULL for a block device */
  struct sink_options opts;
  bool finished;
};

static int
raw_write (struct sink *k, const void *buf, size_t len, uint64_t offset)
{
  struct raw_sink *r = (struct raw_sink *) k;

  if (file_pwrite_all (r->fd, buf, len, offset) == -1)
    return error_prefix ("%s", k->name);
  k->bytes_written += len;
  return 0;
}

static int
raw_zero (struct sink *k, uint64_t offset, uint64_t len)
{
  struct raw_sink *r = (struct raw_sink *) k;
  uint64_t range[2] = { offset, len };

  if (r->tmp_path)              /* a new sparse file: already zeros */
    return 0;
  if (fallocate (r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, len)
      == 0)
    return 0;
  if (ioctl (r->fd, BLKZEROOUT, range) == 0)
    return 0;
  return error_errno (errno, "%s: zero %" PRIu64 " bytes at offset %" PRIu64,
                      k->name, len, offset);
}

static int
raw_finish (struct sink *k)
{
  struct raw_sink *r = (struct raw_sink *) k;
  int fd = r->fd;

  r->fd = -1;
  if (r->tmp_path == NULL) {    /* a block device: always flush */
    if (fsync (fd) == -1) {
      error_errno (errno, "%s: flush", k->name);
      close (fd);
      return -1;
    }
    if (close (fd) == -1)
      return error_errno (errno, "%s: close", k->name);
  }
  else if (file_commit (fd, r->tmp_path, r->final_path, &r->opts) == -1)
    return -1;
  r->finished = true;
  return 0;
}

static void
raw_free (struct sink *k)
{
  struct raw_sink *r = (struct raw_sink *) k;

  if (r->fd >= 0)
    close (r->fd);
  if (!r->finished && r->tmp_path)
    unlink (r->tmp_path);
  free (r->tmp_path);
  free (r->final_path);
  free (r->k.name);
  free (r);
}

static const struct sink_ops raw_sink_ops = {
  .write = raw_write,
  .zero = raw_zero,
  .finish = raw_finish,
  .free = raw_free,
};

static int
open_block_device (struct raw_sink *r, const char *path, uint64_t size)
{
  uint64_t dev_size;

  r->fd = open (path, O_WRONLY | O_EXCL | O_CLOEXEC);
  if (r->fd == -1) {
    if (errno == EBUSY)
      return error ("%s: in use (mounted, or held by another program)", path);
    return error_errno (errno, "%s: open", path);
  }
  if (ioctl (r->fd, BLKGETSIZE64, &dev_size) == -1)
    return error_errno (errno, "%s: get block device size", path);
  if (dev_size < size)
    return error ("%s: too small: %" PRIu64 " bytes, the image needs %" PRIu64,
                  path, dev_size, size);
  r->k.size = dev_size;
  return 0;
}

struct sink *
raw_sink_open (const char *path, uint64_t size, const struct sink_options *opts)
{
  struct raw_sink *r;
  struct stat st;
  bool force = opts->force;

  r = calloc (1, sizeof *r);
  if (r == NULL || (r->k.name = strdup (path)) == NULL) {
    free (r);
    error ("%s: out of memory", path);
    return NULL;
  }
  r->fd = -1;
  r->k.ops = &raw_sink_ops;
  r->k.size = size;
  r->k.block_size = RAW_SINK_BLOCK_SIZE;
  r->opts = *opts;

  if (stat (path, &st) == 0 && S_ISBLK (st.st_mode)) {
    if (open_block_device (r, path, size) == -1)
      goto err;
    return &r->k;
  }
  if (stat (path, &st) == 0) {
    if (!S_ISREG (st.st_mode)) {
      error ("%s: not a regular file or block device", path);
      goto err;
    }
    if (st.st_size > 0 && !force) {
      error ("%s: exists and is not empty (use --force to replace it)", path);
      goto err;
    }
    force = true;               /* an empty file may be replaced */
  }
  r->fd = file_create_temp (path, force, &r->final_path, &r->tmp_path);
  if (r->fd == -1)
    goto err;
  r->opts.force = force;
  if (ftruncate (r->fd, size) == -1) {
    error_errno (errno, "%s: set size", r->tmp_path);
    goto err;
  }
  return &r->k;

err:
  raw_free (&r->k);
  return NULL;
}
