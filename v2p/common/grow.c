/* v2p: the partitions of a disk an image was written onto (see grow.h). */
#include "grow.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <parted/parted.h>

#include "error.h"
#include "file.h"
#include "fsgrow.h"
#include "loop.h"
#include "parttable.h"
#include "run.h"
#include "size.h"

/* sysfs counts partitions' start and size in these. */
#define SYSFS_SECTOR 512
/* Seconds to wait for udev to finish with a disk. */
#define UDEV_SETTLE_TIMEOUT "--timeout=30"

/* Let udev finish what it does when a disk changes (it rereads the
 * partition table of a disk closed after writing, and probes new
 * partitions), so that it does not do it at the same time as we do.
 * Nothing when there is no udev.
 */
static void
settle (void)
{
  char *argv[] = { "udevadm", "settle", UDEV_SETTLE_TIMEOUT, NULL };

  if (access ("/run/udev/control", F_OK) == 0)
    run_command (argv, false);
}

/* libparted's exceptions.  Its errors become ours; of its questions, a
 * warning offering to fix the table (a GPT not covering the disk) is
 * answered "fix", other warnings are ignored, and anything else is
 * refused.
 */
static PedExceptionOption
on_exception (PedException *ex)
{
  char msg[1024];
  size_t i;

  if (ex->type == PED_EXCEPTION_INFORMATION
      || ex->type == PED_EXCEPTION_WARNING) {
    if (ex->options & PED_EXCEPTION_FIX)
      return PED_EXCEPTION_FIX;
    if (ex->options & PED_EXCEPTION_IGNORE)
      return PED_EXCEPTION_IGNORE;
    if (ex->options & PED_EXCEPTION_OK)
      return PED_EXCEPTION_OK;
  }
  /* One line, whatever libparted wrote. */
  snprintf (msg, sizeof msg, "%s", ex->message);
  for (i = 0; msg[i]; i++)
    if (msg[i] == '\n')
      msg[i] = ' ';
  error ("libparted: %s", msg);
  if (ex->options & PED_EXCEPTION_CANCEL)
    return PED_EXCEPTION_CANCEL;
  if (ex->options & PED_EXCEPTION_NO)
    return PED_EXCEPTION_NO;
  return PED_EXCEPTION_UNHANDLED;
}

/* The disk at PATH with its partition table, or *DISK NULL when it has
 * none libparted reads (or only a filesystem on the whole disk, which
 * libparted calls a "loop" table).
 */
static int
open_disk (const char *path, PedDevice **dev, PedDisk **disk)
{
  PedDiskType *type;

  ped_exception_set_handler (on_exception);
  *disk = NULL;
  *dev = ped_device_get (path);
  if (*dev == NULL)
    return error_prefix ("%s", path);
  type = ped_disk_probe (*dev);
  if (type == NULL || strcmp (type->name, "loop") == 0)
    return 0;
  *disk = ped_disk_new (*dev);
  if (*disk == NULL)
    return error_prefix ("%s", path);
  return 0;
}

static void
close_disk (PedDevice *dev, PedDisk *disk)
{
  if (disk)
    ped_disk_destroy (disk);
  if (dev)
    ped_device_destroy (dev);
}

int
grow_tell_kernel (const char *path)
{
  PedDevice *dev = NULL;
  PedDisk *disk = NULL;
  int ret = -1;

  settle ();
  if (open_disk (path, &dev, &disk) == -1)
    goto out;
  if (disk && !ped_disk_commit_to_os (disk)) {
    error_prefix ("%s: telling the kernel about the partitions", path);
    goto out;
  }
  ret = 0;

out:
  close_disk (dev, disk);
  return ret;
}

/* Read the head of the MBR on FD into HEAD. */
static int
read_mbr_head (int fd, unsigned char head[PARTTABLE_MBR_ENTRIES_OFFSET])
{
  ssize_t r;

  do
    r = pread (fd, head, PARTTABLE_MBR_ENTRIES_OFFSET, 0);
  while (r == -1 && errno == EINTR);
  if (r == -1)
    return error_errno (errno, "reading the MBR");
  if (r != PARTTABLE_MBR_ENTRIES_OFFSET)
    return error ("reading the MBR: past the end");
  return 0;
}

/* Write HEAD back over the head of the MBR on FD, flushed. */
static int
write_mbr_head (int fd, const unsigned char head[PARTTABLE_MBR_ENTRIES_OFFSET])
{
  if (file_pwrite_all (fd, head, PARTTABLE_MBR_ENTRIES_OFFSET, 0) == -1)
    return -1;
  if (fdatasync (fd) == -1)
    return error_errno (errno, "flush");
  return 0;
}

/* Write DISK's table to PATH, keeping the head of an MBR (what comes
 * before its partition entries) as it was.  libparted (3.5's msdos_write)
 * takes an MBR whose first byte of boot code is zero, as sfdisk and most
 * partitioning tools leave a disk without boot code, for a new one: it
 * clears the whole sector, puts its own boot code there and makes up a
 * random disk identifier.  That identifier is in every PARTUUID, so a
 * system booting with root=PARTUUID=... would no longer find its root.
 * The head is written back after libparted, flushed.  A GPT's protective
 * MBR libparted keeps itself, and its GUIDs are read and written again.
 */
static int
commit_table (const char *path, PedDisk *disk)
{
  unsigned char head[PARTTABLE_MBR_ENTRIES_OFFSET],
    now[PARTTABLE_MBR_ENTRIES_OFFSET];
  int fd, ret = -1;

  if (strcmp (disk->type->name, "msdos") != 0)
    return ped_disk_commit_to_dev (disk) ? 0 : -1;
  fd = open (path, O_RDWR | O_CLOEXEC);
  if (fd == -1)
    return error_errno (errno, "open");
  if (read_mbr_head (fd, head) == -1 || !ped_disk_commit_to_dev (disk)
      || read_mbr_head (fd, now) == -1)
    goto out;
  if (memcmp (head, now, sizeof head) != 0 && write_mbr_head (fd, head) == -1) {
    error_prefix ("restoring the MBR's boot code and disk identifier");
    goto out;
  }
  ret = 0;

out:
  close (fd);
  return ret;
}

/* The partition that ends last (not an extended one), or NULL. */
static PedPartition *
last_partition (PedDisk *disk)
{
  PedPartition *p = NULL, *last = NULL;

  while ((p = ped_disk_next_partition (disk, p)) != NULL) {
    if (!ped_partition_is_active (p) || (p->type & PED_PARTITION_EXTENDED))
      continue;
    if (last == NULL || p->geom.end > last->geom.end)
      last = p;
  }
  return last;
}

/* Does the kernel's NODE hold [START, START + LENGTH) of SS-byte sectors
 * of its disk?  Then its page cache is dropped, so that nothing read
 * before the disk was written is seen.
 */
static bool
node_matches (const char *node, PedSector start, PedSector length, long long ss)
{
  char path[128];
  unsigned long long sys_start = 0, sys_size = 0;
  struct stat st;
  FILE *fp;
  int fd;

  if (stat (node, &st) == -1 || !S_ISBLK (st.st_mode))
    return false;
  snprintf (path, sizeof path, "/sys/dev/block/%u:%u/start", major (st.st_rdev),
            minor (st.st_rdev));
  fp = fopen (path, "re");
  if (fp == NULL || fscanf (fp, "%llu", &sys_start) != 1) {
    if (fp)
      fclose (fp);
    return false;
  }
  fclose (fp);
  snprintf (path, sizeof path, "/sys/dev/block/%u:%u/size", major (st.st_rdev),
            minor (st.st_rdev));
  fp = fopen (path, "re");
  if (fp == NULL || fscanf (fp, "%llu", &sys_size) != 1) {
    if (fp)
      fclose (fp);
    return false;
  }
  fclose (fp);
  if (sys_start != (unsigned long long) (start * ss / SYSFS_SECTOR)
      || sys_size != (unsigned long long) (length * ss / SYSFS_SECTOR))
    return false;
  fd = open (node, O_RDONLY | O_CLOEXEC);
  if (fd == -1)
    return false;
  ioctl (fd, BLKFLSBUF, 0);
  close (fd);
  return true;
}

/* Grow FS in [START, START + LENGTH) (SS-byte sectors) of the disk PATH:
 * through NODE if the kernel has it right, else a loop device.  Says
 * what was done in DONE.
 */
static int
grow_contents (const char *path, const char *node, PedSector start,
               PedSector length, long long ss, const struct fs_info *fs,
               bool verbose, char *done, size_t done_len)
{
  char loopdev[64];
  int loop = -1, ret;

  if (fs->kind == FS_BTRFS)     /* grown while mounted, by the user */
    return fs_grow (path, fs, verbose, done, done_len);
  if (node == NULL || !node_matches (node, start, length, ss)) {
    loop = loop_attach (path, (uint64_t) start * ss, (uint64_t) length * ss,
                        loopdev, sizeof loopdev);
    if (loop == -1)
      return -1;
    node = loopdev;
  }
  ret = fs_grow (node, fs, verbose, done, done_len);
  loop_detach (loop);
  return ret;
}

/* A disk without a partition table: grow the filesystem on all of it. */
static int
grow_whole (const char *path, bool device, int fd, uint64_t size, bool verbose,
            struct grow_result *res)
{
  char done[GROW_MESSAGE_MAX / 2];
  struct fs_info fs;
  int r;

  if (fs_probe (fd, 0, size, &fs) == -1)
    return error_prefix ("%s", path);
  if (!fs_partition_may_grow (&fs)) {
    res->warning = fs.kind != FS_NONE;
    snprintf (res->message, sizeof res->message,
              "%s: no partition table, and %s on the whole disk: not grown",
              path, fs.kind == FS_NONE ? "nothing recognised" : fs.type);
    return 0;
  }
  /* A block device is the filesystem's own device; a file needs a loop
   * device over all of it.
   */
  if (device)
    r = fs_grow (path, &fs, verbose, done, sizeof done);
  else
    r = grow_contents (path, NULL, 0, (PedSector) (size / SYSFS_SECTOR),
                       SYSFS_SECTOR, &fs, verbose, done, sizeof done);
  if (r == -1)
    return -1;
  res->warning = fs.kind == FS_BTRFS;
  snprintf (res->message, sizeof res->message,
            "%s: no partition table: the %s on the whole disk: %s", path,
            fs.type, done);
  return 0;
}

/* Move the end of P as far as the free space after it goes, its start
 * exactly where it is (the filesystem, or the chain of logical
 * partitions, begins there).  Sets *GREW when it moved.
 */
static int
grow_partition (PedDisk *disk, PedPartition *p, bool *grew)
{
  PedConstraint *any = NULL, *exact = NULL;
  PedGeometry *max = NULL, *range = NULL;
  PedSector start = p->geom.start;
  int ret = -1;

  *grew = false;
  any = ped_constraint_any (disk->dev);
  if (any == NULL)
    return error ("libparted: out of memory");
  max = ped_disk_get_max_partition_geometry (disk, p, any);
  if (max == NULL)
    goto out;
  if (max->end <= p->geom.end) {
    ret = 0;
    goto out;
  }
  range = ped_geometry_new (disk->dev, start, max->end - start + 1);
  exact = range ? ped_constraint_exact (range) : NULL;
  if (exact == NULL
      || !ped_disk_set_partition_geom (disk, p, exact, start, max->end))
    goto out;
  if (p->geom.start != start) {
    error ("libparted moved the start of partition %d (from sector %lld to "
           "%lld): refused",
           p->num, (long long) start, (long long) p->geom.start);
    goto out;
  }
  *grew = true;
  ret = 0;

out:
  if (exact)
    ped_constraint_destroy (exact);
  if (range)
    ped_geometry_destroy (range);
  if (max)
    ped_geometry_destroy (max);
  ped_constraint_destroy (any);
  return ret;
}

int
grow_disk (const char *path, bool verbose, struct grow_result *res)
{
  char before[SIZE_HUMAN_MAX], after[SIZE_HUMAN_MAX],
    done[GROW_MESSAGE_MAX / 2];
  PedDevice *dev = NULL;
  PedDisk *disk = NULL;
  PedPartition *last;
  char *node = NULL;
  struct fs_info fs;
  struct stat st;
  long long ss;
  bool device, grew;
  int fd = -1, ret = -1;

  memset (res, 0, sizeof *res);
  if (stat (path, &st) == -1)
    return error_errno (errno, "%s", path);
  device = S_ISBLK (st.st_mode);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd == -1)
    return error_errno (errno, "%s: open", path);
  if (open_disk (path, &dev, &disk) == -1)
    goto out;
  ss = dev->sector_size;
  if (disk == NULL) {
    ret = grow_whole (path, device, fd, (uint64_t) dev->length * ss, verbose,
                      res);
    goto out;
  }
  last = last_partition (disk);
  if (last == NULL) {
    snprintf (res->message, sizeof res->message,
              "%s: no partitions: nothing to grow", path);
    ret = 0;
    goto out;
  }
  if (fs_probe (fd, (uint64_t) last->geom.start * ss,
                (uint64_t) last->geom.length * ss, &fs)
      == -1) {
    error_prefix ("%s: partition %d", path, last->num);
    goto out;
  }
  if (!fs_partition_may_grow (&fs)) {
    res->warning = true;
    snprintf (res->message, sizeof res->message,
              "%s: partition %d not grown: it holds %s, and p2vkit grows "
              "partitions holding ext2, ext3, ext4, XFS, swap, LVM or btrfs",
              path, last->num,
              fs.kind == FS_NONE ? "nothing recognised" : fs.type);
    ret = 0;
    goto out;
  }

  /* Partitions stay where they are, not on the cylinder boundaries
   * libparted would otherwise round an MBR's to.
   */
  if (ped_disk_is_flag_available (disk, PED_DISK_CYLINDER_ALIGNMENT))
    ped_disk_set_flag (disk, PED_DISK_CYLINDER_ALIGNMENT, 0);
  size_human ((uint64_t) last->geom.length * ss, before);
  if ((last->type & PED_PARTITION_LOGICAL)
      && grow_partition (disk, ped_disk_extended_partition (disk), &grew)
        == -1) {
    error_prefix ("%s: the extended partition", path);
    goto out;
  }
  if (grow_partition (disk, last, &grew) == -1) {
    error_prefix ("%s: partition %d", path, last->num);
    goto out;
  }
  if (!grew) {
    snprintf (res->message, sizeof res->message,
              "%s: partition %d (%s, %s) already reaches the end of the disk",
              path, last->num, fs.type, before);
    ret = 0;
    goto out;
  }
  if (commit_table (path, disk) == -1) {
    error_prefix ("%s: partition %d", path, last->num);
    goto out;
  }
  size_human ((uint64_t) last->geom.length * ss, after);
  /* A kernel that cannot be told has no partition device to use. */
  if (device && ped_disk_commit_to_os (disk)) {
    settle ();
    node = ped_partition_get_path (last);
  }
  if (grow_contents (path, node, last->geom.start, last->geom.length, ss, &fs,
                     verbose, done, sizeof done)
      == -1) {
    error_prefix ("%s: partition %d grown from %s to %s, but", path, last->num,
                  before, after);
    goto out;
  }
  res->warning = fs.kind == FS_BTRFS;
  snprintf (res->message, sizeof res->message,
            "%s: partition %d grown from %s to %s; %s", path, last->num, before,
            after, done);
  ret = 0;

out:
  free (node);
  close_disk (dev, disk);
  close (fd);
  return ret;
}
