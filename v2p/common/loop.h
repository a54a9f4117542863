/* v2p: a loop device over part of a disk.
 *
 * A filesystem in a partition is grown through the partition's own device
 * when the kernel has one; where it has none (the disk is a raw image
 * file, or the kernel cannot show its partitions), through a loop device
 * over the partition's bytes of the file or disk.
 */
#ifndef V2P_LOOP_H
#define V2P_LOOP_H

#include <stddef.h>
#include <stdint.h>

/* Attach a new loop device to [OFFSET, OFFSET + SIZE) of PATH (a file or
 * a block device), writable, and write its path ("/dev/loop3") into DEV
 * (DEV_LEN bytes).  The device goes away when the returned descriptor is
 * closed (loop_detach()) and nobody else has it open.  Returns the
 * descriptor, or -1 with an error recorded.
 */
int loop_attach (const char *path, uint64_t offset, uint64_t size, char *dev,
                 size_t dev_len);

/* Let the loop device open on FD go.  FD may be -1. */
void loop_detach (int fd);

#endif /* V2P_LOOP_H */
