/* v2p: growing what a partition holds (see fsgrow.h). */
#include "fsgrow.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <blkid.h>

#include "error.h"
#include "run.h"

/* e2fsck -p exit statuses up to this one mean a clean or mended
 * filesystem (1: errors corrected, 2: and the system should reboot).
 */
#define E2FSCK_MENDED 2
/* Where XFS is mounted for xfs_growfs, in a namespace of our own. */
#define XFS_MOUNT_TEMPLATE "/tmp/v2p-grow.XXXXXX"

static const struct {
  const char *type;
  enum fs_kind kind;
} kinds[] = {
  { "ext2", FS_EXT },    { "ext3", FS_EXT },  { "ext4", FS_EXT },
  { "xfs", FS_XFS },     { "swap", FS_SWAP }, { "LVM2_member", FS_LVM_PV },
  { "btrfs", FS_BTRFS },
};

static void
copy_value (blkid_probe pr, const char *name, char *out)
{
  const char *v;

  if (blkid_probe_lookup_value (pr, name, &v, NULL) == 0)
    snprintf (out, FS_FIELD_MAX, "%s", v);
}

int
fs_probe (int fd, uint64_t offset, uint64_t size, struct fs_info *fs)
{
  blkid_probe pr;
  size_t i;
  int r;

  memset (fs, 0, sizeof *fs);
  fs->kind = FS_NONE;
  pr = blkid_new_probe ();
  if (pr == NULL)
    return error ("libblkid: out of memory");
  if (blkid_probe_set_device (pr, fd, offset, size) != 0) {
    blkid_free_probe (pr);
    return error ("libblkid: cannot probe at offset %llu",
                  (unsigned long long) offset);
  }
  blkid_probe_enable_superblocks (pr, 1);
  blkid_probe_set_superblocks_flags (
    pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL);
  r = blkid_do_safeprobe (pr);
  if (r == 0) {
    copy_value (pr, "TYPE", fs->type);
    copy_value (pr, "UUID", fs->uuid);
    copy_value (pr, "LABEL", fs->label);
    fs->kind = FS_OTHER;
    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
      if (strcmp (fs->type, kinds[i].type) == 0)
        fs->kind = kinds[i].kind;
  }
  else if (r == -2) {
    fs->kind = FS_OTHER;
    snprintf (fs->type, sizeof fs->type, "several signatures");
  }
  blkid_free_probe (pr);
  if (r == -1)
    return error ("libblkid: probing at offset %llu failed",
                  (unsigned long long) offset);
  return 0;
}

bool
fs_partition_may_grow (const struct fs_info *fs)
{
  return fs->kind != FS_NONE && fs->kind != FS_OTHER;
}

static int
grow_ext (const char *dev, bool verbose)
{
  char *fsck[] = { "e2fsck", "-f", "-p", (char *) dev, NULL };
  char *resize[] = { "resize2fs", (char *) dev, NULL };
  int st;

  st = run_command (fsck, verbose);
  if (st == -1)
    return -1;
  if (st > E2FSCK_MENDED)
    return error_prefix ("%s: e2fsck -f -p found what it cannot mend alone "
                         "(exit status %d)",
                         dev, st);
  if (run_command (resize, verbose) != 0)
    return error_prefix ("%s", dev);
  return 0;
}

/* In a child of run_child(), in a mount namespace of its own: mount the
 * XFS on ARG (the device), grow it, unmount it.
 */
static int
xfs_child (void *arg)
{
  const char *dev = arg;
  char dir[] = XFS_MOUNT_TEMPLATE;
  char *growfs[] = { "xfs_growfs", "-d", dir, NULL };
  int st;

  /* Source and type mean nothing to a change of propagation. */
  if (unshare (CLONE_NEWNS) == -1
      || mount ("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == -1) {
    fprintf (stderr, "a mount namespace of our own: %s\n", strerror (errno));
    return 1;
  }
  if (mkdtemp (dir) == NULL) {
    fprintf (stderr, "%s: %s\n", dir, strerror (errno));
    return 1;
  }
  /* nouuid: the image's source may be mounted here too, with the same
   * UUID.
   */
  if (mount (dev, dir, "xfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "nouuid")
      == -1) {
    fprintf (stderr, "mount %s: %s\n", dev, strerror (errno));
    rmdir (dir);
    return 1;
  }
  st = run_exec (growfs);
  if (umount2 (dir, 0) == -1) {
    fprintf (stderr, "unmount %s: %s\n", dev, strerror (errno));
    st = st ? st : 1;
  }
  else
    rmdir (dir);
  return st;
}

static int
grow_swap (const char *dev, const struct fs_info *fs, bool verbose)
{
  char *argv[8];
  int argc = 0;

  argv[argc++] = "mkswap";
  if (fs->uuid[0]) {
    argv[argc++] = "-U";
    argv[argc++] = (char *) fs->uuid;
  }
  if (fs->label[0]) {
    argv[argc++] = "-L";
    argv[argc++] = (char *) fs->label;
  }
  argv[argc++] = (char *) dev;
  argv[argc] = NULL;
  if (run_command (argv, verbose) != 0)
    return error_prefix ("%s", dev);
  return 0;
}

static int
grow_pv (const char *dev, bool verbose)
{
  /* --devices: LVM looks at this device only, whatever its configuration
   * says and whatever duplicates other disks hold.
   */
  char *argv[] = { "pvresize", "--devices", (char *) dev, (char *) dev, NULL };

  /* LVM complains of every descriptor it inherits. */
  setenv ("LVM_SUPPRESS_FD_WARNINGS", "1", 1);
  if (run_command (argv, verbose) != 0)
    return error_prefix ("%s", dev);
  return 0;
}

int
fs_grow (const char *dev, const struct fs_info *fs, bool verbose, char *done,
         size_t done_len)
{
  done[0] = '\0';
  switch (fs->kind) {
  case FS_EXT:
    if (grow_ext (dev, verbose) == -1)
      return -1;
    snprintf (done, done_len, "%s grown with resize2fs", fs->type);
    return 0;
  case FS_XFS:
    if (run_child ("xfs_growfs", xfs_child, (void *) dev, verbose) != 0)
      return error_prefix ("%s", dev);
    snprintf (done, done_len, "xfs grown with xfs_growfs");
    return 0;
  case FS_SWAP:
    if (grow_swap (dev, fs, verbose) == -1)
      return -1;
    snprintf (done, done_len, "swap area made again with its UUID and label");
    return 0;
  case FS_LVM_PV:
    if (grow_pv (dev, verbose) == -1)
      return -1;
    snprintf (done, done_len,
              "LVM physical volume grown with pvresize: its volume group "
              "has the new space free (lvextend to use it)");
    return 0;
  case FS_BTRFS:
    snprintf (done, done_len,
              "btrfs not grown: mount it and run btrfs filesystem resize "
              "max on it");
    return 0;
  default:
    return error ("%s: %s: not a filesystem p2vkit grows", dev,
                  fs->type[0] ? fs->type : "nothing recognised");
  }
}
