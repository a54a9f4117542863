/* v2p: growing what a partition holds to the partition's new size.
 *
 *   ext2, ext3, ext4   e2fsck -f -p, then resize2fs
 *   xfs                mounted on a private temporary directory (in a
 *                      mount namespace of its own, so that nobody sees
 *                      it and it cannot outlive us), xfs_growfs -d, then
 *                      unmounted
 *   swap               mkswap again, with the same UUID and label (a
 *                      swap area holds nothing to keep; a hibernation
 *                      image is not "swap" to libblkid, and not grown)
 *   LVM2_member        pvresize (the volume group gains free extents;
 *                      which logical volume should have them is for the
 *                      administrator to say, with lvextend)
 *   btrfs              nothing here: it grows while mounted (btrfs
 *                      filesystem resize max), which the report says
 *
 * Anything else (vfat, NTFS, a RAID member whose superblock lies at the
 * end of its device, encrypted or unknown contents) is not grown: the
 * partition stays as it is.
 *
 * Not thread-safe (runs programs: run.h).
 */
#ifndef V2P_FSGROW_H
#define V2P_FSGROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fs_kind {
  FS_NONE,                      /* no signature found */
  FS_EXT,
  FS_XFS,
  FS_SWAP,
  FS_LVM_PV,
  FS_BTRFS,                     /* the partition may grow, not the fs */
  FS_OTHER,                     /* not grown */
};

#define FS_FIELD_MAX 128

struct fs_info {
  enum fs_kind kind;
  char type[FS_FIELD_MAX];      /* libblkid's TYPE: "ext4", "xfs" */
  char uuid[FS_FIELD_MAX];      /* "" when none */
  char label[FS_FIELD_MAX];     /* "" when none */
};

/* What [OFFSET, OFFSET + SIZE) of the disk open on FD holds (libblkid).
 * Returns 0 with *FS filled (FS_NONE when nothing is recognised), or -1
 * with an error recorded.
 */
int fs_probe (int fd, uint64_t offset, uint64_t size, struct fs_info *fs);

/* May the partition holding FS grow? */
bool fs_partition_may_grow (const struct fs_info *fs);

/* Grow FS, on the device DEV, to fill it.  Says what was done in DONE
 * (DONE_LEN bytes: "resize2fs", "xfs_growfs", ...).  VERBOSE passes the
 * programs' output on.  Returns 0, or -1 with an error recorded.
 */
int fs_grow (const char *dev, const struct fs_info *fs, bool verbose,
             char *done, size_t done_len);

#endif /* V2P_FSGROW_H */
