/* v2p: the disk an image is written onto, before and after.
 *
 * A target is a block device (opened exclusively: refused while it or a
 * partition of it is mounted or in use, see blockdev.h) or a raw image
 * file.  Before anything is written, target_fits() decides whether the
 * image goes onto it:
 *
 *   - a target at least as large as the image: yes;
 *   - a smaller one: only if the image has a partition table (MBR or GPT)
 *     whose partitions, and for GPT the backup table after them, end
 *     before the target's end (parttable.h): what lies past that is
 *     outside every partition, and is not written.  An image without a
 *     partition table needs all of itself (a filesystem on the whole disk
 *     records the disk's size);
 *   - a target whose sectors differ in size from those the image's
 *     partition table counts in: no (its partitions would not be found).
 *
 * After writing, target_settle() makes the target's GPT describe the
 * target (backup at its end, like `sgdisk -e`), and target_clear_tail()
 * zeroes what lies past the image where that is cheap.
 */
#ifndef V2P_TARGET_H
#define V2P_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parttable.h"

/* The part of a larger target's end that is always zeroed: an old GPT's
 * backup lies there, and would confuse whoever reads the new table.
 */
#define TARGET_TAIL_WIPE (1024 * 1024)

struct target {
  char *path;                   /* owned */
  int fd;                       /* -1 when closed */
  bool device;                  /* a block device, else a regular file */
  uint64_t size;                /* bytes */
  uint32_t sector_size;         /* logical; 512 for a file */
};

/* Open PATH: a block device exclusively, or an existing regular file.
 * Returns 0, or -1 with an error recorded.
 */
int target_open (struct target *t, const char *path);

/* Close T's descriptor (letting the device go) and free T's path. */
void target_close (struct target *t);

/* May a disk of SIZE bytes, whose partition table is PT, go onto a target
 * NAME of TARGET_SIZE bytes with SECTOR_SIZE-byte sectors?  Returns 0,
 * with NOTE (NOTE_LEN bytes) empty, or when the target is smaller than the
 * disk, a sentence saying what is left out; or -1 with an error recorded
 * ("NAME: too small: ...").
 */
int target_fits (const char *name, uint64_t target_size, uint32_t sector_size,
                 uint64_t size, const struct parttable *pt, char *note,
                 size_t note_len);

/* T holds a disk of SIZE bytes with partition table PT, flushed.  Make a
 * GPT describe T; check that an MBR's partitions are inside it.  Sets
 * *CHANGED when the GPT was rewritten.  Returns 0, or -1 with an error
 * recorded.
 */
int target_settle (struct target *t, uint64_t size, const struct parttable *pt,
                   bool *changed);

/* Zero [FROM, T's end): with the device's own zeroing where it has one
 * that writes nothing (discard, write-zeroes), and in any case the last
 * TARGET_TAIL_WIPE bytes.  Sets *ALL when everything was zeroed.  Returns
 * 0, or -1 with an error recorded.
 */
int target_clear_tail (struct target *t, uint64_t from, bool *all);

#endif /* V2P_TARGET_H */
