/* p2vkit imaging engine: the logical volumes of an LVM2 physical volume,
 * for the allocation maps (allocmap-lvm.c; see allocmap.h).
 *
 * Thread use: none of its own.
 */
#ifndef P2V_ALLOCMAP_LVM_H
#define P2V_ALLOCMAP_LVM_H

#include <stddef.h>
#include <stdint.h>

#include "allocmap.h"
#include "source.h"

/* A piece of a logical volume: LENGTH bytes of it from LV_OFFSET lie at
 * PV_OFFSET of the PV.
 */
struct allocmap_pv_seg {
  uint64_t lv_offset, pv_offset, length;
};

/* The logical volumes that lie wholly on one PV, each with its pieces in
 * order.
 */
struct allocmap_pv {
  struct allocmap_pv_lv {
    char name[256];             /* LVM_NAME_MAX */
    uint64_t size;
    unsigned first_seg, n_seg;  /* in seg[] */
  } *lv;
  unsigned n_lv;
  struct allocmap_pv_seg *seg;
  unsigned n_seg;
  /* The PV's extents that no logical volume has, offsets in the PV, in
   * order.
   */
  struct allocmap_range *free;
  size_t n_free;
};

/* Is there an LVM2 PV at [START, START + LENGTH) of SRC?  Returns 0 when
 * there is none (nothing recorded); 1 with *PV set (caller frees with
 * allocmap_pv_free()) when its metadata is sound and every segment of its
 * volume group linear; -1 with an error recorded when it cannot be
 * trusted or holds anything but linear volumes (read it in full).
 */
int allocmap_pv_read (struct source *src, uint64_t start, uint64_t length,
                      struct allocmap_pv **pv);
void allocmap_pv_free (struct allocmap_pv *pv);

/* Logical volume LV of PV (whose PV starts at START of DISK) as a source,
 * which reads DISK and must not outlive it or PV.  NULL with an error
 * recorded when out of memory.
 */
struct source *allocmap_lv_source (struct source *disk, uint64_t start,
                                   const struct allocmap_pv *pv, unsigned lv);

/* Append the ranges of IN (offsets in logical volume LV) as ranges of the
 * disk (the PV starting at START) to *OUT (*N_OUT used of *ALLOC_OUT,
 * grown with realloc; caller frees).  Returns 0, or -1 with an error
 * recorded.
 */
int allocmap_lv_to_disk (const struct allocmap_pv *pv, unsigned lv,
                         uint64_t start, const struct allocmap *in,
                         struct allocmap_range **out, size_t *n_out,
                         size_t *alloc_out);

/* Append [OFFSET, OFFSET + LENGTH) to *OUT as allocmap_lv_to_disk()
 * does.  Returns 0, or -1 with an error recorded.
 */
int allocmap_ranges_append (struct allocmap_range **out, size_t *n_out,
                            size_t *alloc_out, uint64_t offset,
                            uint64_t length);

/* Sort N ranges by offset. */
void allocmap_sort_ranges (struct allocmap_range *r, size_t n);

#endif /* P2V_ALLOCMAP_LVM_H */
