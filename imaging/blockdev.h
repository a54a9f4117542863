/* p2vkit imaging engine: block devices to write a disk onto.
 *
 * A disk is written onto a block device only when nothing else uses it:
 * the device is opened with O_EXCL, which the kernel refuses while the
 * device or one of its partitions is mounted, or held by swap, LVM, RAID,
 * a device mapper or another exclusive opener.  When it refuses, the
 * error says who holds the device, as far as /proc and /sys tell.
 */
#ifndef P2V_BLOCKDEV_H
#define P2V_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Open the block device PATH read-write and exclusively.  Returns the
 * descriptor (close-on-exec), or -1 with an error recorded:
 *
 *   /dev/sdb: in use: /dev/sdb1 is mounted on /mnt
 *   /dev/sdb: in use: /dev/sdb2 is swap
 *   /dev/sdb: in use: /dev/sdb3 is held by dm-0 (LVM, RAID or another
 *     device mapper)
 *   /dev/sdb: in use: opened exclusively by another program
 */
int blockdev_open_exclusive (const char *path);

/* The size in bytes and the logical sector size of the block device open
 * on FD (PATH for messages).  Returns 0, or -1 with an error recorded.
 */
int blockdev_size (int fd, const char *path, uint64_t *size,
                   uint32_t *sector_size);

/* Read "MAJ:MIN" from the dev file of the sysfs directory DIR (of a disk
 * or partition) into *DEV.  False if there is none.
 */
bool blockdev_sysfs_dev (const char *dir, dev_t *dev);

/* Why the block device PATH is busy, as in blockdev_open_exclusive's
 * errors, into WHY (WHY_LEN bytes).
 */
void blockdev_busy_reason (const char *path, char *why, size_t why_len);

#endif /* P2V_BLOCKDEV_H */
