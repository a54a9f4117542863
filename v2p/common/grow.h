/* v2p: the partitions of a disk an image was written onto (libparted).
 *
 * grow_tell_kernel() gives the kernel the partitions of the new table
 * (libparted's BLKPG calls, which work even where the kernel cannot read
 * the table itself), so that /dev/sdb1... are the image's.
 *
 * grow_disk() grows the partition that ends last to the end of the disk
 * (for a logical partition, the extended one around it first; a GPT must
 * already describe the whole disk: target_settle()), keeping its start,
 * and then what it holds (fsgrow.h).  It looks first: a partition whose
 * contents p2vkit cannot grow (vfat, NTFS, RAID, unknown) is left as it
 * is, and the result says so as a warning, not an error.  A disk without
 * a partition table that holds a filesystem has that filesystem grown.
 *
 * The filesystem is grown through the partition's device when the kernel
 * has it with the new size, else through a loop device over the
 * partition's bytes (a raw image file; a kernel that cannot show the
 * partitions).
 *
 * The disk must not be open exclusively (mounting or checking its
 * partitions needs them): close the target first.  Not thread-safe
 * (libparted's exception handler is global; programs run).
 */
#ifndef V2P_GROW_H
#define V2P_GROW_H

#include <stdbool.h>
#include <stddef.h>

#define GROW_MESSAGE_MAX 1024

struct grow_result {
  /* Something was not grown that a user may want grown: the message says
   * what and why.
   */
  bool warning;
  char message[GROW_MESSAGE_MAX];       /* one line: what was done */
};

/* Tell the kernel about the partitions of the block device PATH.  Returns
 * 0, or -1 with an error recorded (the table is written all the same: a
 * reboot or partprobe shows it).
 */
int grow_tell_kernel (const char *path);

/* Grow the last partition of the disk at PATH (a block device or a raw
 * image file) and its contents, as above.  Returns 0 with *RES filled, or
 * -1 with an error recorded (libparted could not read or write the table,
 * a filesystem check or resize failed).
 */
int grow_disk (const char *path, bool verbose, struct grow_result *res);

#endif /* V2P_GROW_H */
