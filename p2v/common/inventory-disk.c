/* p2vkit: collect the inventory of disks: size and sector sizes (ioctls,
 * or stat for image files), model and serial (sysfs), the partition table
 * and partitions (libparted), partition types and UUIDs and the
 * filesystems (libblkid), volume groups (lvm-label.c).
 *
 * All of it runs in a thread of its own made read-only first
 * (readonly-thread.h): libparted opens disks read-write, and must not.
 * Partitions are probed through the whole disk's descriptor at their
 * offsets, so image files need no loop device and block devices no
 * partition nodes.
 */
#include "inventory.h"

#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <parted/parted.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "error.h"
#include "inventory-internal.h"
#include "lvm-label.h"
#include "readonly-thread.h"

#define SYS_DEV_BLOCK "/sys/dev/block"

/* Image files have no sectors of their own: they are read as disks with
 * 512-byte sectors, as libparted and the loop driver do.
 */
#define FILE_SECTOR_SIZE 512

/* qcow2 images start with this. */
#define QCOW2_MAGIC "QFI\xfb"
#define QCOW2_MAGIC_LEN 4

/* SCSI VPD page 0x80 (unit serial number): a 4-byte header with the
 * page code in byte 1 and the length in bytes 2-3, then the serial.
 */
#define VPD_PG80_CODE 0x80
#define VPD_HEADER_LEN 4
#define VPD_MAX 256

/* A libparted message, on one line. */
#define PED_MESSAGE_MAX 512

/* The filesystem type of an LVM physical volume in libblkid. */
#define LVM_PV_TYPE "LVM2_member"

/* What libparted said last in this thread (its exception handler). */
static __thread char ped_message[PED_MESSAGE_MAX];

/* libparted asks its caller what to do about each problem.  Answer as a
 * reader would: ignore what can be ignored (a GPT that does not reach the
 * end of the disk, a backup table that is damaged), accept what is only
 * information, and cancel the rest.  Never "fix": that would write.
 */
static PedExceptionOption
on_ped_exception (PedException *ex)
{
  char *p;

  snprintf (ped_message, sizeof ped_message, "%s", ex->message);
  for (p = ped_message; *p; p++)
    if (*p == '\n')
      *p = ' ';
  if (ex->options & PED_EXCEPTION_IGNORE)
    return PED_EXCEPTION_IGNORE;
  if (ex->options & PED_EXCEPTION_OK)
    return PED_EXCEPTION_OK;
  if (ex->options & PED_EXCEPTION_CANCEL)
    return PED_EXCEPTION_CANCEL;
  return PED_EXCEPTION_UNHANDLED;
}

static int
libparted_error (const char *path, const char *what)
{
  return error ("%s: %s: %s", path, what,
                ped_message[0] ? ped_message : "libparted failed");
}

/* The serial number in a SCSI VPD page 0x80 file, in *OUT. */
static int
read_vpd_serial (const char *dir, char **out)
{
  unsigned char buf[VPD_MAX];
  char path[PATH_MAX];
  size_t len;
  ssize_t n;
  int fd;

  *out = NULL;
  if (!inventory_path (path, "%s/vpd_pg80", dir))
    return 0;
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd == -1)
    return 0;
  n = read (fd, buf, sizeof buf);
  close (fd);
  if (n < VPD_HEADER_LEN || buf[1] != VPD_PG80_CODE)
    return 0;
  len = (size_t) buf[2] << 8 | buf[3];
  if (len > (size_t) n - VPD_HEADER_LEN)
    len = n - VPD_HEADER_LEN;
  return inventory_clean_string ((const char *) buf + VPD_HEADER_LEN, len, out);
}

/* Model and serial of a block device, from sysfs.  Where they are
 * depends on the driver: SCSI and ATA disks have device/model and the
 * serial in device/vpd_pg80, NVMe device/model and device/serial,
 * virtio-blk only a serial, in the disk's own directory.
 */
static int
device_model_serial (struct inventory_disk *d, dev_t rdev)
{
  char dir[PATH_MAX], device[PATH_MAX];

  if (!inventory_path (dir, "%s/%u:%u", SYS_DEV_BLOCK, major (rdev),
                       minor (rdev))
      || !inventory_path (device, "%s/device", dir))
    return 0;
  if (inventory_sysfs_string (device, "model", &d->model) == -1
      || inventory_sysfs_string (dir, "serial", &d->serial) == -1)
    return -1;
  if (d->serial == NULL
      && inventory_sysfs_string (device, "serial", &d->serial) == -1)
    return -1;
  if (d->serial == NULL && read_vpd_serial (device, &d->serial) == -1)
    return -1;
  return 0;
}

static int
device_facts (struct inventory_disk *d, int fd, const struct stat *st)
{
  uint64_t size;
  unsigned int physical;
  int logical;

  if (ioctl (fd, BLKGETSIZE64, &size) == -1)
    return error_errno (errno, "%s: BLKGETSIZE64", d->path);
  if (ioctl (fd, BLKSSZGET, &logical) == -1)
    return error_errno (errno, "%s: BLKSSZGET", d->path);
  if (ioctl (fd, BLKPBSZGET, &physical) == -1)
    return error_errno (errno, "%s: BLKPBSZGET", d->path);
  d->source = INVENTORY_DISK_DEVICE;
  d->size = size;
  d->logical_sector_size = logical;
  d->physical_sector_size = physical;
  return device_model_serial (d, st->st_rdev);
}

static int
file_facts (struct inventory_disk *d, int fd, const struct stat *st)
{
  char magic[QCOW2_MAGIC_LEN];

  /* XXX qcow2 sources (p2v-send takes them) would need the inventory to
   * read through the imaging layer; libparted cannot.
   */
  if (pread (fd, magic, sizeof magic, 0) == (ssize_t) sizeof magic
      && memcmp (magic, QCOW2_MAGIC, QCOW2_MAGIC_LEN) == 0)
    return error ("%s: a qcow2 image: only raw images and block devices "
                  "can be inventoried",
                  d->path);
  d->source = INVENTORY_DISK_FILE;
  d->size = st->st_size;
  d->logical_sector_size = FILE_SECTOR_SIZE;
  d->physical_sector_size = FILE_SECTOR_SIZE;
  return 0;
}

/* Copy the value NAME that probe PR found into *OUT (NULL if none). */
static int
probe_value (blkid_probe pr, const char *name, char **out)
{
  const char *data;
  size_t len;

  *out = NULL;
  if (blkid_probe_lookup_value (pr, name, &data, &len) != 0)
    return 0;
  return inventory_clean_string (data, strnlen (data, len), out);
}

/* Probe the SIZE bytes at OFFSET of FD for a filesystem (or any other
 * signature libblkid knows: swap, LVM PV, RAID member, LUKS...).  Sets
 * *OUT, or leaves it NULL when there is none.
 */
static int
probe_filesystem (const struct inventory_disk *d, int fd, uint64_t offset,
                  uint64_t size, struct inventory_filesystem **out)
{
  struct inventory_filesystem *fs = NULL;
  blkid_probe pr;
  int r, ret = -1;

  *out = NULL;
  pr = blkid_new_probe ();
  if (pr == NULL)
    return error ("out of memory");
  if (blkid_probe_set_device (pr, fd, offset, size) != 0) {
    error ("%s: libblkid cannot probe at offset %" PRIu64, d->path, offset);
    goto out;
  }
  blkid_probe_enable_partitions (pr, 0);
  blkid_probe_enable_superblocks (pr, 1);
  blkid_probe_set_superblocks_flags (
    pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL);
  r = blkid_do_safeprobe (pr);
  if (r == -1) {
    error ("%s: libblkid: probing at offset %" PRIu64 " failed", d->path,
           offset);
    goto out;
  }
  /* XXX r == -2: several signatures that contradict each other (a disk
   * reused without wiping): blkid -p says "ambivalent result"; it is left
   * out, like nothing.
   */
  if (r != 0) {
    ret = 0;
    goto out;
  }

  fs = calloc (1, sizeof *fs);
  if (fs == NULL) {
    error ("out of memory");
    goto out;
  }
  if (probe_value (pr, "TYPE", &fs->type) == -1
      || probe_value (pr, "UUID", &fs->uuid) == -1
      || probe_value (pr, "LABEL", &fs->label) == -1)
    goto out;
  if (fs->type == NULL) {
    ret = 0;
    goto out;
  }
  if (strcmp (fs->type, LVM_PV_TYPE) == 0
      && lvm_label_vg_name (fd, offset, size, &fs->vg) == -1) {
    error_prefix ("%s", d->path);
    goto out;
  }
  *out = fs;
  fs = NULL;
  ret = 0;

out:
  if (fs) {
    free (fs->type);
    free (fs->uuid);
    free (fs->label);
    free (fs->vg);
    free (fs);
  }
  blkid_free_probe (pr);
  return ret;
}

static int
add_flag (struct inventory_partition *p, const char *name)
{
  char **nf;

  if (p->n_flags >= INVENTORY_MAX_FLAGS)
    return error ("more than %d flags", INVENTORY_MAX_FLAGS);
  nf = realloc (p->flags, (p->n_flags + 1) * sizeof *nf);
  if (nf == NULL)
    return error ("out of memory");
  p->flags = nf;
  nf[p->n_flags] = strdup (name);
  if (nf[p->n_flags] == NULL)
    return error ("out of memory");
  p->n_flags++;
  return 0;
}

/* Fill P from libparted's PART, and from libblkid's view of the same
 * partition, PAR (may be NULL).
 */
static int
collect_partition (const struct inventory_disk *d, int fd, PedDisk *disk,
                   PedPartition *part, blkid_partition par,
                   struct inventory_partition *p)
{
  long long sector = disk->dev->sector_size;
  PedPartitionFlag flag;
  const char *s;
  char mbr_type[sizeof "0xff"];
  int type;

  if (part->num < 1 || part->num > INVENTORY_MAX_PARTITION_NUMBER)
    return error ("%s: partition number %d out of range", d->path, part->num);
  p->number = part->num;
  p->kind = part->type & PED_PARTITION_EXTENDED ? INVENTORY_PARTITION_EXTENDED
    : part->type & PED_PARTITION_LOGICAL        ? INVENTORY_PARTITION_LOGICAL
                                                : INVENTORY_PARTITION_PRIMARY;
  p->start = (uint64_t) part->geom.start * sector;
  p->size = (uint64_t) part->geom.length * sector;

  if (ped_disk_type_check_feature (disk->type, PED_DISK_TYPE_PARTITION_NAME)) {
    s = ped_partition_get_name (part);
    if (s && inventory_clean_string (s, strlen (s), &p->name) == -1)
      return -1;
  }
  for (flag = ped_partition_flag_next (0); flag;
       flag = ped_partition_flag_next (flag)) {
    s = ped_partition_flag_get_name (flag);
    if (s && ped_partition_is_flag_available (part, flag)
        && ped_partition_get_flag (part, flag) && add_flag (p, s) == -1)
      return error_prefix ("%s: partition %u", d->path, p->number);
  }

  if (par) {
    s = blkid_partition_get_type_string (par);
    type = blkid_partition_get_type (par);
    if (s == NULL && type > 0) {
      snprintf (mbr_type, sizeof mbr_type, "0x%02x", type & 0xff);
      s = mbr_type;
    }
    if (s && inventory_clean_string (s, strlen (s), &p->type) == -1)
      return -1;
    s = blkid_partition_get_uuid (par);
    if (s && inventory_clean_string (s, strlen (s), &p->uuid) == -1)
      return -1;
  }

  /* An extended partition holds only the table of the logical ones. */
  if (p->kind == INVENTORY_PARTITION_EXTENDED)
    return 0;
  return probe_filesystem (d, fd, p->start, p->size, &p->filesystem);
}

static bool
is_real_partition (const PedPartition *part)
{
  return part->num > 0
    && !(part->type & (PED_PARTITION_FREESPACE | PED_PARTITION_METADATA));
}

/* The partitions of DISK, seen by libparted and by libblkid. */
static int
collect_partitions (struct inventory_disk *d, int fd, PedDisk *disk)
{
  PedPartition *part;
  blkid_probe pr = NULL;
  blkid_partlist list = NULL;
  blkid_parttable table;
  const char *id;
  size_t n = 0;
  int ret = -1;

  d->table_type = strdup (disk->type->name);
  if (d->table_type == NULL)
    return error ("out of memory");
  for (part = ped_disk_next_partition (disk, NULL); part;
       part = ped_disk_next_partition (disk, part))
    if (is_real_partition (part))
      n++;
  if (n > INVENTORY_MAX_PARTITIONS)
    return error ("%s: %zu partitions, at most %d", d->path, n,
                  INVENTORY_MAX_PARTITIONS);

  /* libblkid knows the partition types and UUIDs, which libparted 3.5
   * does not give.
   */
  pr = blkid_new_probe ();
  if (pr == NULL)
    return error ("out of memory");
  if (blkid_probe_set_device (pr, fd, 0, d->size) == 0) {
    blkid_probe_enable_superblocks (pr, 0);
    blkid_probe_enable_partitions (pr, 1);
    blkid_probe_set_partitions_flags (pr, BLKID_PARTS_ENTRY_DETAILS);
    list = blkid_probe_get_partitions (pr);
  }
  table = list ? blkid_partlist_get_table (list) : NULL;
  id = table ? blkid_parttable_get_id (table) : NULL;
  if (id && inventory_clean_string (id, strlen (id), &d->table_uuid) == -1)
    goto out;

  if (n > 0) {
    d->partitions = calloc (n, sizeof *d->partitions);
    if (d->partitions == NULL) {
      error ("out of memory");
      goto out;
    }
  }
  for (part = ped_disk_next_partition (disk, NULL); part;
       part = ped_disk_next_partition (disk, part)) {
    if (!is_real_partition (part))
      continue;
    if (collect_partition (
          d, fd, disk, part,
          list ? blkid_partlist_get_partition_by_partno (list, part->num)
               : NULL,
          &d->partitions[d->n_partitions++])
        == -1)
      goto out;
  }
  ret = 0;

out:
  blkid_free_probe (pr);
  return ret;
}

/* The partition table, or the filesystem of an unpartitioned disk. */
static int
collect_contents (struct inventory_disk *d, int fd)
{
  PedDevice *dev;
  PedDiskType *type;
  PedDisk *disk = NULL;
  int ret = -1;

  ped_message[0] = '\0';
  dev = ped_device_get (d->path);
  if (dev == NULL)
    return libparted_error (d->path, "libparted");
  if (dev->sector_size != d->logical_sector_size) {
    error ("%s: libparted sees %lld-byte sectors, the kernel %u-byte ones",
           d->path, dev->sector_size, d->logical_sector_size);
    goto out;
  }
  /* libparted calls a disk holding a filesystem with no partition table a
   * "loop" table: that is an unpartitioned disk.
   */
  type = ped_disk_probe (dev);
  if (type == NULL || strcmp (type->name, "loop") == 0) {
    ret = probe_filesystem (d, fd, 0, d->size, &d->filesystem);
    goto out;
  }
  ped_message[0] = '\0';
  disk = ped_disk_new (dev);
  if (disk == NULL) {
    libparted_error (d->path, "reading the partition table");
    goto out;
  }
  ret = collect_partitions (d, fd, disk);

out:
  if (disk)
    ped_disk_destroy (disk);
  ped_device_destroy (dev);
  return ret;
}

/* Collect the disk at PATH into D; ST receives what stat says of it. */
static int
collect_disk (struct inventory_disk *d, const char *path, struct stat *st)
{
  int fd, ret = -1;

  d->path = strdup (path);
  if (d->path == NULL)
    return error ("out of memory");
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd == -1)
    return error_errno (errno, "%s: open", path);
  if (fstat (fd, st) == -1) {
    error_errno (errno, "%s: stat", path);
    goto out;
  }
  if (S_ISBLK (st->st_mode))
    ret = device_facts (d, fd, st);
  else if (S_ISREG (st->st_mode))
    ret = file_facts (d, fd, st);
  else
    ret = error ("%s: not a regular file or block device", path);
  /* An empty disk has nothing more to say (and libparted fails on it). */
  if (ret == 0 && d->size > 0)
    ret = collect_contents (d, fd);

out:
  close (fd);
  return ret;
}

static bool
same_file (const struct stat *a, const struct stat *b)
{
  if (S_ISBLK (a->st_mode) && S_ISBLK (b->st_mode))
    return a->st_rdev == b->st_rdev;
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The work of the read-only thread. */
struct disk_job {
  struct inventory *inv;
  char *const *paths;
  size_t n;
  int ret;
  char *message;                /* its error (errors are per thread) */
};

static void *
disk_thread (void *arg)
{
  struct disk_job *job = arg;
  struct inventory *inv = job->inv;
  struct stat *stats;
  size_t i, j;

  job->ret = -1;
  stats = calloc (job->n, sizeof *stats);
  if (stats == NULL) {
    error ("out of memory");
    goto out;
  }
  if (readonly_thread () == -1)
    goto out;
  ped_exception_set_handler (on_ped_exception);
  for (i = 0; i < job->n; i++) {
    inv->n_disks++;
    if (collect_disk (&inv->disks[i], job->paths[i], &stats[i]) == -1)
      goto out;
    for (j = 0; j < i; j++)
      if (same_file (&stats[i], &stats[j])) {
        error ("%s: the same disk as %s", job->paths[i], job->paths[j]);
        goto out;
      }
  }
  job->ret = 0;

out:
  ped_exception_set_handler (NULL);
  if (job->ret == -1)
    job->message = strdup (error_message ());
  free (stats);
  return NULL;
}

int
inventory_collect_disks (struct inventory *inv, char *const *paths, size_t n)
{
  struct disk_job job = { .inv = inv, .paths = paths, .n = n, .ret = -1 };
  pthread_t thread;
  int err;

  if (n == 0)
    return 0;
  if (n > INVENTORY_MAX_DISKS)
    return error ("%zu disks, at most %d", n, INVENTORY_MAX_DISKS);
  inv->disks = calloc (n, sizeof *inv->disks);
  if (inv->disks == NULL)
    return error ("out of memory");
  err = pthread_create (&thread, NULL, disk_thread, &job);
  if (err != 0)
    return error_errno (err, "pthread_create");
  pthread_join (thread, NULL);
  if (job.ret == -1) {
    error_set_message (job.message ? job.message : "out of memory");
    free (job.message);
  }
  return job.ret;
}
