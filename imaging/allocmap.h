/* p2vkit imaging engine: reading only what the filesystems use.
 *
 * A 2 TB disk holding 200 GB of data should travel as 200 GB.  The
 * allocation map of a disk lists the byte ranges that no filesystem uses:
 * those are not read, and copy as zeros (unallocated in a qcow2 image, a
 * ZERO record on the stream), as holes do.  Everything else is read:
 * partition tables, the space between and after partitions, filesystems
 * this code does not know, and every filesystem whose metadata it cannot
 * trust.  So a range is in the map only when a filesystem's own metadata
 * says that it is free.
 *
 * Per partition (parttable.h; a disk without a partition table is one
 * filesystem or nothing):
 *
 *   ext2/3/4  the block bitmaps, through libext2fs (allocmap-ext.c);
 *   XFS       the free-space B-trees by block number (allocmap-xfs.c);
 *   swap      its header only: the first page, with its UUID and label;
 *             the rest is zeros (a hibernation image is read in full);
 *   LVM2 PV   its label and metadata, and each linear logical volume that
 *             lies wholly on it mapped as above, through its segments;
 *             the extents no volume has are zeros (allocmap-lvm.c).  A
 *             PV with active volumes (held by the device mapper) is read
 *             in full, with a warning.
 *
 * A filesystem whose metadata is damaged (a bad checksum, a bitmap or
 * B-tree that contradicts its superblock, a filesystem larger than its
 * partition, a journal not yet replayed) is read in full, with a warning.
 * So is one that is mounted read-write (allocmap-mount.c): its bitmaps on
 * disk lag behind the kernel's, and its copy is crash-consistent at best
 * unless it is frozen.  The source itself is never written.
 *
 * XXX An LV with extents on other PVs, and a volume group with anything
 * but linear volumes (snapshots, thin pools, RAID, mirrors, caches), are
 * read in full.
 *
 * Thread use: allocmap_source() runs before the copy, on one thread; the
 * source it returns is used like any source (source.h).
 */
#ifndef P2V_ALLOCMAP_H
#define P2V_ALLOCMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"

/* Byte ranges of a disk, sorted, disjoint and not adjacent. */
struct allocmap {
  struct allocmap_range {
    uint64_t offset;
    uint64_t length;            /* > 0 */
  } *ranges;
  size_t n;
  size_t alloc;
};

/* Add [OFFSET, OFFSET + LENGTH) to M, after every range already in it
 * (OFFSET at or past the end of the last one; adjacent ranges merge).
 * LENGTH 0 adds nothing.  Returns 0, or -1 (out of memory, or out of
 * order) with an error recorded.
 */
int allocmap_add (struct allocmap *m, uint64_t offset, uint64_t length);

/* The bytes M covers. */
uint64_t allocmap_bytes (const struct allocmap *m);

/* Release M's ranges (M itself is the caller's). */
void allocmap_free (struct allocmap *m);

struct allocmap_options {
  /* Called with a warning for the user ("partition 2 (ext4): block bitmap
   * checksum does not match: read in full"), and with what each
   * filesystem leaves unused, for -v.  Either may be NULL.
   */
  void (*warn) (void *arg, const char *msg);
  void (*note) (void *arg, const char *msg);
  void *arg;
};

/* Find what the filesystems of *SRC leave unused and replace *SRC with a
 * source that reads those ranges as zeros without reading them: its
 * extents say ZERO there, and pread() fills them with zeros.  The new
 * source owns the old one (closing it closes both).  When nothing is
 * unused, *SRC stays as it was.  Returns 0, or -1 with an error recorded
 * (out of memory; *SRC is unchanged and still the caller's).  What the
 * filesystems hold is never a reason to fail: at worst it is all read.
 */
int allocmap_source (struct source **src, const struct allocmap_options *o);

/* A little-endian 32-bit field of a filesystem's metadata. */
static inline uint32_t
allocmap_le32 (const unsigned char *p)
{
  return (uint32_t) p[3] << 24 | (uint32_t) p[2] << 16 | (uint32_t) p[1] << 8
    | p[0];
}

/* The filesystems' mappers, used by allocmap_source().  Each looks at the
 * LENGTH bytes at START of SRC (a partition, or the whole disk) and
 * returns 0 when no filesystem of its kind is there (nothing recorded);
 * 1 when there is one, with its free ranges added to MAP (disk offsets,
 * in order) and *TYPE set to its name; or -1 with *TYPE set and an error
 * recorded that says why its metadata cannot be trusted (the caller
 * drops what was added and reads it all).
 */
typedef int allocmap_fs_fn (struct source *src, uint64_t start, uint64_t length,
                            struct allocmap *map, const char **type);

allocmap_fs_fn allocmap_ext;    /* allocmap-ext.c */
allocmap_fs_fn allocmap_xfs;    /* allocmap-xfs.c */
allocmap_fs_fn allocmap_swap;   /* allocmap-swap.c */

/* Is the filesystem at byte START of the source open on FD mounted?  A
 * block device's partitions and a file's loop devices are looked at (a
 * qcow2 file exported otherwise is not seen).  Returns 0 when it is not,
 * 1 when it is mounted read-only only, 2 when read-write; at 1 and 2
 * POINT (POINT_LEN bytes) says where.
 */
int allocmap_mounted (int fd, uint64_t start, char *point, size_t point_len);

/* Does a device mapper (an active logical volume, RAID) hold the device
 * whose first byte is START of the source open on FD?  Then HOLDER
 * (HOLDER_LEN bytes) names one ("dm-0").
 */
bool allocmap_held (int fd, uint64_t start, char *holder, size_t holder_len);

#endif /* P2V_ALLOCMAP_H */
