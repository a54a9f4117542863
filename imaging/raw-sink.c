/* p2vkit imaging engine: raw files and block devices as sinks.
 *
 * A new regular file is written as a sparse file under a temporary name
 * (see file.h): zero runs become holes by not being written at all.
 *
 * A block device (opened by the caller: blockdev.h), or a file the caller
 * opened, is written in place.  Its old contents cannot be trusted to be
 * zeros, so zero runs are zeroed with the device's own zeroing (fallocate,
 * falling back to BLKZEROOUT), which on most devices is a discard or a
 * write-zeroes command rather than a data write.
 *
 * A target smaller than the disk takes the disk's beginning: writes at or
 * past its end are dropped (the caller has checked that nothing of value
 * lies there).
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
  bool own_fd;                  /* close it, else the caller does */
  uint64_t limit;               /* the target's size: nothing at or past */
  char *final_path;             /* NULL when written in place */
  char *tmp_path;               /* NULL when written in place */
  struct sink_options opts;
  bool finished;
};

/* Cut [OFFSET, OFFSET + *LEN) at the target's end; false if nothing is
 * left of it.
 */
static bool
clip (const struct raw_sink *r, uint64_t offset, uint64_t *len)
{
  if (offset >= r->limit)
    return false;
  if (*len > r->limit - offset)
    *len = r->limit - offset;
  return true;
}

static int
raw_write (struct sink *k, const void *buf, size_t len, uint64_t offset)
{
  struct raw_sink *r = (struct raw_sink *) k;
  uint64_t n = len;

  if (!clip (r, offset, &n))
    return 0;
  if (file_pwrite_all (r->fd, buf, n, offset) == -1)
    return error_prefix ("%s", k->name);
  k->bytes_written += n;
  return 0;
}

static int
raw_zero (struct sink *k, uint64_t offset, uint64_t len)
{
  struct raw_sink *r = (struct raw_sink *) k;
  uint64_t range[2];

  if (r->tmp_path || !clip (r, offset, &len))   /* a new file: zeros */
    return 0;
  range[0] = offset;
  range[1] = len;
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

  if (r->tmp_path == NULL) {    /* in place: always flush */
    if (fsync (fd) == -1)
      return error_errno (errno, "%s: flush", k->name);
    if (r->own_fd) {
      r->fd = -1;
      if (close (fd) == -1)
        return error_errno (errno, "%s: close", k->name);
    }
  }
  else {
    r->fd = -1;
    if (file_commit (fd, r->tmp_path, r->final_path, &r->opts) == -1)
      return -1;
  }
  r->finished = true;
  return 0;
}

static void
raw_free (struct sink *k)
{
  struct raw_sink *r = (struct raw_sink *) k;

  if (r->fd >= 0 && r->own_fd)
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

/* A sink of SIZE bytes on a target of TARGET_SIZE bytes. */
static struct raw_sink *
new_sink (const char *name, uint64_t size, uint64_t target_size)
{
  struct raw_sink *r;

  r = calloc (1, sizeof *r);
  if (r == NULL || (r->k.name = strdup (name)) == NULL) {
    free (r);
    error ("%s: out of memory", name);
    return NULL;
  }
  r->fd = -1;
  r->k.ops = &raw_sink_ops;
  r->k.size = target_size > size ? target_size : size;
  r->k.block_size = RAW_SINK_BLOCK_SIZE;
  r->limit = target_size;
  return r;
}

struct sink *
raw_sink_fd (int fd, const char *name, uint64_t size, uint64_t target_size)
{
  struct raw_sink *r = new_sink (name, size, target_size);

  if (r == NULL)
    return NULL;
  r->fd = fd;
  return &r->k;
}

struct sink *
raw_sink_open (const char *path, uint64_t size, const struct sink_options *opts)
{
  uint64_t file_size = opts->file_size ? opts->file_size : size;
  struct raw_sink *r;
  struct stat st;
  bool force = opts->force;

  r = new_sink (path, size, file_size);
  if (r == NULL)
    return NULL;
  r->own_fd = true;
  r->opts = *opts;
  if (stat (path, &st) == 0) {
    if (!S_ISREG (st.st_mode)) {
      error ("%s: not a regular file", path);
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
  if (ftruncate (r->fd, file_size) == -1) {
    error_errno (errno, "%s: set size", r->tmp_path);
    goto err;
  }
  return &r->k;

err:
  raw_free (&r->k);
  return NULL;
}
