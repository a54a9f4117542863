/* v2p: the disk an image is written onto, before and after (see
 * target.h).
 */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blockdev.h"
#include "error.h"
#include "file.h"
#include "size.h"

int
target_open (struct target *t, const char *path)
{
  struct stat st;

  memset (t, 0, sizeof *t);
  t->fd = -1;
  t->path = strdup (path);
  if (t->path == NULL)
    return error ("out of memory");
  if (stat (path, &st) == -1)
    return error_errno (errno, "%s", path);
  if (S_ISBLK (st.st_mode)) {
    t->device = true;
    t->fd = blockdev_open_exclusive (path);
    if (t->fd == -1)
      return -1;
    return blockdev_size (t->fd, path, &t->size, &t->sector_size);
  }
  if (!S_ISREG (st.st_mode))
    return error ("%s: not a regular file or block device", path);
  t->fd = open (path, O_RDWR | O_CLOEXEC);
  if (t->fd == -1)
    return error_errno (errno, "%s: open", path);
  t->size = st.st_size;
  t->sector_size = PARTTABLE_SECTOR_SIZE;
  return 0;
}

void
target_close (struct target *t)
{
  if (t->fd >= 0)
    close (t->fd);
  t->fd = -1;
  free (t->path);
  t->path = NULL;
}

int
target_fits (const char *name, uint64_t target_size, uint32_t sector_size,
             uint64_t size, const struct parttable *pt, char *note,
             size_t note_len)
{
  char ts[SIZE_HUMAN_MAX], is[SIZE_HUMAN_MAX], ns[SIZE_HUMAN_MAX];
  char left[SIZE_HUMAN_MAX];
  const char *table = parttable_type_name (pt->type);

  note[0] = '\0';
  size_human (target_size, ts);
  size_human (size, is);
  size_human (pt->needed, ns);
  if (pt->type != PARTTABLE_NONE && sector_size
      && sector_size != pt->sector_size)
    return error ("%s: its sectors are %" PRIu32 " bytes, but the image's %s "
                  "counts in %" PRIu32 "-byte sectors: its partitions would "
                  "not be found",
                  name, sector_size, table, pt->sector_size);
  if (target_size >= size)
    return 0;
  if (pt->type == PARTTABLE_NONE)
    return error ("%s: too small: %" PRIu64 " bytes (%s), the image needs "
                  "%" PRIu64 " (%s): it has no partition table, so all of "
                  "it is needed",
                  name, target_size, ts, size, is);
  if (target_size < pt->needed)
    return error ("%s: too small: %" PRIu64 " bytes (%s), the image needs "
                  "at least %" PRIu64 " (%s), where its %s partitions%s end "
                  "(all of it is %s)",
                  name, target_size, ts, pt->needed, ns, table,
                  pt->type == PARTTABLE_GPT ? " and backup table" : "", is);
  snprintf (note, note_len,
            "%s is %s, smaller than the image (%s), but the image's %s "
            "partitions%s end at %s: the %s after them, outside every "
            "partition, are left out",
            name, ts, is, table,
            pt->type == PARTTABLE_GPT ? " and backup table" : "", ns,
            size_human (size - target_size, left));
  return 0;
}

int
target_settle (struct target *t, uint64_t size, const struct parttable *pt,
               bool *changed)
{
  struct parttable now;

  *changed = false;
  if (pt->type == PARTTABLE_GPT) {
    if (parttable_fit_gpt (t->fd, pt->sector_size, t->size, changed) == -1)
      return error_prefix ("%s", t->path);
    return 0;
  }
  if (pt->type == PARTTABLE_MBR && t->size < size) {
    /* What was written says the same as what was sent: check it. */
    if (parttable_probe_fd (t->fd, t->size, &now) == -1)
      return error_prefix ("%s", t->path);
    if (now.type != PARTTABLE_MBR || now.needed > t->size)
      return error ("%s: the image's MBR partitions do not fit after all",
                    t->path);
  }
  return 0;
}

int
target_clear_tail (struct target *t, uint64_t from, bool *all)
{
  static const unsigned char zeros[64 * 1024];
  uint64_t wipe, off;

  *all = false;
  if (from >= t->size)
    return 0;
  /* Punching a hole in a block device zeroes it without writing, or
   * fails (EOPNOTSUPP) where the device cannot.
   */
  if (fallocate (t->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, from,
                 t->size - from)
      == 0) {
    *all = true;
    return 0;
  }
  wipe = t->size - from < TARGET_TAIL_WIPE ? t->size - from : TARGET_TAIL_WIPE;
  for (off = t->size - wipe; off < t->size; off += sizeof zeros) {
    size_t n = t->size - off < sizeof zeros ? t->size - off : sizeof zeros;

    if (file_pwrite_all (t->fd, zeros, n, off) == -1)
      return error_prefix ("%s", t->path);
  }
  if (fdatasync (t->fd) == -1)
    return error_errno (errno, "%s: flush", t->path);
  *all = wipe == t->size - from;
  return 0;
}
