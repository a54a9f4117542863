/* p2vkit imaging engine: how much of a disk its partition table uses,
 * and fitting a GPT to a disk of another size.
 *
 * A disk image can be written onto a smaller disk when everything of value
 * lies before that disk's end: its partitions and its partition table.
 * parttable_probe() reads an MBR (primary partitions, and logical ones in
 * an extended partition) or a GPT (512- or 4096-byte sectors) and says how
 * large a disk must be to hold them: the end of the partition that ends
 * last (the extended container included), and for GPT the backup entries
 * and header after it.  A disk without a partition table, or with one this
 * code does not understand or trust, needs all of itself: a filesystem on
 * the whole disk records the whole disk's size.
 *
 * The table is untrusted input: every offset and count is checked before
 * it is used, and nothing is allocated from it beyond PARTTABLE_MAX_ARRAY
 * bytes.  A damaged table is not an error, only not understood.
 *
 * Thread use: none of its own; the caller's read function decides.
 */
#ifndef P2V_PARTTABLE_H
#define P2V_PARTTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"

enum parttable_type {
  PARTTABLE_NONE = 0,           /* none, or not understood */
  PARTTABLE_MBR = 1,
  PARTTABLE_GPT = 2,
};

#define PARTTABLE_SECTOR_SIZE 512       /* MBR's, and GPT's usual */
#define PARTTABLE_MAX_SECTOR_SIZE 4096
/* Where an MBR's partition entries begin.  Before them: boot code, the
 * disk identifier at byte 440 (every PARTUUID of the disk is made from
 * it), and two reserved bytes.
 */
#define PARTTABLE_MBR_ENTRIES_OFFSET 446
/* The most logical partitions followed in an extended partition. */
#define PARTTABLE_MAX_LOGICAL 128
/* The largest GPT partition entry array read (the usual is 16 KiB). */
#define PARTTABLE_MAX_ARRAY (1024 * 1024)
/* The most partitions listed one by one (the others still count). */
#define PARTTABLE_MAX_LISTED 128

/* Where a partition lies on the disk, in bytes, and its number as Linux
 * gives it (MBR: 1-4 primary, 5 up logical; GPT: its entry's, from 1).
 */
struct parttable_partition {
  uint64_t start;
  uint64_t length;
  unsigned number;
};

struct parttable {
  enum parttable_type type;
  uint32_t sector_size;         /* of the table: 512, or 4096 for a GPT */
  unsigned n_partitions;        /* in use (an extended container counts) */
  /* Bytes a disk needs to hold the partitions and the table, at most the
   * disk's size: the whole disk for PARTTABLE_NONE.
   */
  uint64_t needed;
  /* The partitions that hold something (not an extended container), in
   * table order, the first PARTTABLE_MAX_LISTED of them.
   */
  unsigned n_listed;
  struct parttable_partition listed[PARTTABLE_MAX_LISTED];
};

/* Reads LEN bytes at OFFSET (inside the disk) into BUF; returns 0, or -1
 * with an error recorded.
 */
typedef int parttable_read_fn (void *arg, void *buf, size_t len,
                               uint64_t offset);

/* Probe the partition table of a disk of DISK_SIZE bytes read through
 * READ.  Returns 0 with *PT filled, or -1 when a read failed (error
 * recorded).
 */
int parttable_probe (parttable_read_fn *read, void *arg, uint64_t disk_size,
                     struct parttable *pt);

/* The same through a source, or an open file or block device. */
int parttable_probe_source (struct source *src, struct parttable *pt);
int parttable_probe_fd (int fd, uint64_t disk_size, struct parttable *pt);

/* A word for messages: "GPT", "MBR", "no partition table". */
const char *parttable_type_name (enum parttable_type type);

/* Make the GPT on FD (a disk of DISK_SIZE bytes, SECTOR_SIZE-byte sectors)
 * describe that disk, as `sgdisk -e` does: the backup partition entries and
 * header at its end, the last usable sector just before them, and a
 * protective MBR covering it; an old backup header left inside the disk is
 * wiped.  Nothing moves and no partition changes.  Sets *CHANGED when
 * anything was written (everything already fitting writes nothing), and
 * flushes FD then.  Returns 0, or -1 with an error recorded (no valid
 * primary GPT, a partition past the new last usable sector, I/O).
 */
int parttable_fit_gpt (int fd, uint32_t sector_size, uint64_t disk_size,
                       bool *changed);

#endif /* P2V_PARTTABLE_H */
