/* p2vkit imaging engine: block devices to write a disk onto (see
 * blockdev.h).
 */
#include "blockdev.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "error.h"

/* A disk and its partitions, as sysfs lists them. */
#define BLOCKDEV_MAX_MEMBERS 256

struct member {
  char name[NAME_MAX + 1];      /* "sdb1" */
  char sysfs[PATH_MAX];         /* its directory in /sys */
  dev_t dev;
};

bool
blockdev_sysfs_dev (const char *dir, dev_t *dev)
{
  char path[PATH_MAX + 8];
  unsigned maj, min;
  FILE *fp;
  bool ok;

  snprintf (path, sizeof path, "%s/dev", dir);
  fp = fopen (path, "re");
  if (fp == NULL)
    return false;
  ok = fscanf (fp, "%u:%u", &maj, &min) == 2;
  fclose (fp);
  if (ok)
    *dev = makedev (maj, min);
  return ok;
}

/* The device RDEV and its partitions into M; returns how many. */
static size_t
members (dev_t rdev, struct member *m, size_t max)
{
  char link[64], *dir;
  struct dirent *e;
  size_t n = 0;
  DIR *d;

  snprintf (link, sizeof link, "/sys/dev/block/%u:%u", major (rdev),
            minor (rdev));
  dir = realpath (link, NULL);
  if (dir == NULL)
    return 0;
  snprintf (m[n].sysfs, sizeof m[n].sysfs, "%s", dir);
  snprintf (m[n].name, sizeof m[n].name, "%s", strrchr (dir, '/') + 1);
  m[n++].dev = rdev;
  d = opendir (dir);
  while (d && (e = readdir (d)) != NULL && n < max) {
    char part[PATH_MAX + NAME_MAX + 16];

    if (e->d_name[0] == '.')
      continue;
    snprintf (part, sizeof part, "%s/%s/partition", dir, e->d_name);
    if (access (part, F_OK) != 0)
      continue;
    snprintf (m[n].sysfs, sizeof m[n].sysfs, "%s/%s", dir, e->d_name);
    snprintf (m[n].name, sizeof m[n].name, "%s", e->d_name);
    if (blockdev_sysfs_dev (m[n].sysfs, &m[n].dev))
      n++;
  }
  if (d)
    closedir (d);
  free (dir);
  return n;
}

/* Is one of M mounted?  Says where in WHY. */
static bool
mounted (const struct member *m, size_t n, char *why, size_t why_len)
{
  char line[4096], point[4096];
  unsigned maj, min;
  bool found = false;
  size_t i;
  FILE *fp;

  fp = fopen ("/proc/self/mountinfo", "re");
  if (fp == NULL)
    return false;
  while (!found && fgets (line, sizeof line, fp)) {
    /* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... */
    if (sscanf (line, "%*u %*u %u:%u %*s %4095s", &maj, &min, point) != 3)
      continue;
    for (i = 0; i < n; i++)
      if (m[i].dev == makedev (maj, min)) {
        snprintf (why, why_len, "/dev/%s is mounted on %s", m[i].name, point);
        found = true;
        break;
      }
  }
  fclose (fp);
  return found;
}

/* Is one of M swap? */
static bool
swap (const struct member *m, size_t n, char *why, size_t why_len)
{
  char line[4096], file[4096];
  bool found = false;
  struct stat st;
  size_t i;
  FILE *fp;

  fp = fopen ("/proc/swaps", "re");
  if (fp == NULL)
    return false;
  while (!found && fgets (line, sizeof line, fp)) {
    if (sscanf (line, "%4095s", file) != 1 || file[0] != '/'
        || stat (file, &st) == -1 || !S_ISBLK (st.st_mode))
      continue;
    for (i = 0; i < n; i++)
      if (m[i].dev == st.st_rdev) {
        snprintf (why, why_len, "/dev/%s is swap", m[i].name);
        found = true;
        break;
      }
  }
  fclose (fp);
  return found;
}

/* Does something (dm, md, bcache) hold one of M? */
static bool
held (const struct member *m, size_t n, char *why, size_t why_len)
{
  char dir[PATH_MAX + 16];
  struct dirent *e;
  size_t i;
  DIR *d;

  for (i = 0; i < n; i++) {
    snprintf (dir, sizeof dir, "%s/holders", m[i].sysfs);
    d = opendir (dir);
    if (d == NULL)
      continue;
    while ((e = readdir (d)) != NULL)
      if (e->d_name[0] != '.') {
        snprintf (why, why_len,
                  "/dev/%s is held by %s (LVM, RAID or another device "
                  "mapper)",
                  m[i].name, e->d_name);
        closedir (d);
        return true;
      }
    closedir (d);
  }
  return false;
}

void
blockdev_busy_reason (const char *path, char *why, size_t why_len)
{
  struct member *m;
  struct stat st;
  size_t n = 0;

  snprintf (why, why_len, "opened exclusively by another program");
  if (stat (path, &st) == -1 || !S_ISBLK (st.st_mode))
    return;
  m = calloc (BLOCKDEV_MAX_MEMBERS, sizeof *m);
  if (m == NULL)
    return;
  n = members (st.st_rdev, m, BLOCKDEV_MAX_MEMBERS);
  if (!mounted (m, n, why, why_len) && !swap (m, n, why, why_len))
    held (m, n, why, why_len);
  free (m);
}

int
blockdev_open_exclusive (const char *path)
{
  char why[512];
  struct stat st;
  int fd;

  fd = open (path, O_RDWR | O_EXCL | O_CLOEXEC);
  if (fd == -1) {
    if (errno == EBUSY) {
      blockdev_busy_reason (path, why, sizeof why);
      return error ("%s: in use: %s", path, why);
    }
    return error_errno (errno, "%s: open", path);
  }
  if (fstat (fd, &st) == -1 || !S_ISBLK (st.st_mode)) {
    close (fd);
    return error ("%s: not a block device", path);
  }
  return fd;
}

int
blockdev_size (int fd, const char *path, uint64_t *size, uint32_t *sector_size)
{
  int ss;

  if (ioctl (fd, BLKGETSIZE64, size) == -1)
    return error_errno (errno, "%s: get block device size", path);
  if (ioctl (fd, BLKSSZGET, &ss) == -1)
    return error_errno (errno, "%s: get sector size", path);
  *sector_size = (uint32_t) ss;
  return 0;
}
