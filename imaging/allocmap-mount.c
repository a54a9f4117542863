/* p2vkit imaging engine: is a source's filesystem mounted (see
 * allocmap.h)?
 *
 * The kernel knows a filesystem by the block device it was mounted from.
 * A source that is a block device may have that filesystem on itself or
 * on one of its partitions (sysfs gives each partition's start); a
 * source that is a file may be attached to loop devices (sysfs gives
 * each one's backing file and offset), and those may have partitions
 * too.  Each device found whose start is the filesystem's is looked for
 * in /proc/self/mountinfo, whose superblock options say read-only or
 * read-write.
 */
#include "allocmap.h"

#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "blockdev.h"

#define MOUNT_SECTOR 512        /* sysfs counts partition starts in these */
#define MOUNT_MAX_DEVICES 64
#define MOUNT_LINE_MAX 8192

struct devices {
  dev_t dev[MOUNT_MAX_DEVICES];
  size_t n;
};

/* Read one unsigned number from the file at PATH. */
static bool
read_number (const char *path, uint64_t *n)
{
  FILE *fp = fopen (path, "re");
  bool ok;

  if (fp == NULL)
    return false;
  ok = fscanf (fp, "%" SCNu64, n) == 1;
  fclose (fp);
  return ok;
}

static void
add (struct devices *d, dev_t dev)
{
  if (d->n < MOUNT_MAX_DEVICES)
    d->dev[d->n++] = dev;
}

/* The disk DEV (whose first byte is byte BASE of the source) and its
 * partitions: add those that start at START to D.
 */
static void
disk_and_partitions (dev_t dev, uint64_t base, uint64_t start,
                     struct devices *d)
{
  char dir[64], path[PATH_MAX];
  struct dirent *e;
  uint64_t sector;
  dev_t part;
  DIR *dp;

  if (base == start)
    add (d, dev);
  snprintf (dir, sizeof dir, "/sys/dev/block/%u:%u", major (dev), minor (dev));
  dp = opendir (dir);
  while (dp && (e = readdir (dp)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    snprintf (path, sizeof path, "%s/%s/start", dir, e->d_name);
    if (!read_number (path, &sector) || base + sector * MOUNT_SECTOR != start)
      continue;
    snprintf (path, sizeof path, "%s/%s", dir, e->d_name);
    if (blockdev_sysfs_dev (path, &part))
      add (d, part);
  }
  if (dp)
    closedir (dp);
}

/* The loop devices backed by the file ST: each with its partitions. */
static void
loops (const struct stat *st, uint64_t start, struct devices *d)
{
  char path[PATH_MAX], file[PATH_MAX];
  struct stat bst;
  struct dirent *e;
  uint64_t offset;
  dev_t dev;
  DIR *dp;
  FILE *fp;

  dp = opendir ("/sys/block");
  while (dp && (e = readdir (dp)) != NULL) {
    if (strncmp (e->d_name, "loop", 4) != 0)
      continue;
    snprintf (path, sizeof path, "/sys/block/%s/loop/backing_file", e->d_name);
    fp = fopen (path, "re");
    if (fp == NULL)
      continue;
    if (fgets (file, sizeof file, fp) == NULL)
      file[0] = '\0';
    fclose (fp);
    file[strcspn (file, "\n")] = '\0';
    if (stat (file, &bst) == -1 || bst.st_dev != st->st_dev
        || bst.st_ino != st->st_ino)
      continue;
    snprintf (path, sizeof path, "/sys/block/%s/loop/offset", e->d_name);
    if (!read_number (path, &offset))
      offset = 0;
    snprintf (path, sizeof path, "/sys/block/%s", e->d_name);
    if (blockdev_sysfs_dev (path, &dev))
      disk_and_partitions (dev, offset, start, d);
  }
  if (dp)
    closedir (dp);
}

/* The devices whose first byte is byte START of the source open on FD. */
static void
devices_at (int fd, uint64_t start, struct devices *d)
{
  struct stat st;

  if (fstat (fd, &st) == -1)
    return;
  if (S_ISBLK (st.st_mode))
    disk_and_partitions (st.st_rdev, 0, start, d);
  else if (S_ISREG (st.st_mode))
    loops (&st, start, d);
}

int
allocmap_mounted (int fd, uint64_t start, char *point, size_t point_len)
{
  char line[MOUNT_LINE_MAX], where[MOUNT_LINE_MAX], opts[MOUNT_LINE_MAX];
  struct devices d = { .n = 0 };
  unsigned maj, min;
  int ret = 0;
  size_t i;
  FILE *fp;

  devices_at (fd, start, &d);
  if (d.n == 0)
    return 0;

  fp = fopen ("/proc/self/mountinfo", "re");
  while (fp && ret < 2 && fgets (line, sizeof line, fp)) {
    const char *sep = strstr (line, " - ");

    /* ID PARENT MAJ:MIN ROOT POINT OPTIONS ... - TYPE SOURCE SUPEROPTIONS */
    if (sep == NULL
        || sscanf (line, "%*u %*u %u:%u %*s %8191s", &maj, &min, where) != 3
        || sscanf (sep, " - %*s %*s %8191s", opts) != 1)
      continue;
    for (i = 0; i < d.n; i++)
      if (d.dev[i] == makedev (maj, min)) {
        int state = strncmp (opts, "rw", 2) == 0 ? 2 : 1;

        if (state > ret) {
          ret = state;
          snprintf (point, point_len, "%s", where);
        }
      }
  }
  if (fp)
    fclose (fp);
  return ret;
}

bool
allocmap_held (int fd, uint64_t start, char *holder, size_t holder_len)
{
  char dir[64];
  struct devices d = { .n = 0 };
  struct dirent *e;
  bool held = false;
  size_t i;
  DIR *dp;

  devices_at (fd, start, &d);
  for (i = 0; i < d.n && !held; i++) {
    snprintf (dir, sizeof dir, "/sys/dev/block/%u:%u/holders", major (d.dev[i]),
              minor (d.dev[i]));
    dp = opendir (dir);
    while (dp && !held && (e = readdir (dp)) != NULL)
      if (e->d_name[0] != '.') {
        snprintf (holder, holder_len, "%s", e->d_name);
        held = true;
      }
    if (dp)
      closedir (dp);
  }
  return held;
}
