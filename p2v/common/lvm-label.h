/* p2vkit: the volume group of an LVM2 physical volume, from its label.
 *
 * libblkid recognises a PV (TYPE LVM2_member, UUID the PV's) but does not
 * say which volume group it belongs to.  The name is the first word of the
 * text metadata that LVM keeps in the PV's metadata area, found through
 * the label in one of its first four sectors (the format is LVM2's
 * lib/format_text/layout.h).  Every offset and length read from the disk
 * is checked against the PV's size before use.
 */
#ifndef P2V_LVM_LABEL_H
#define P2V_LVM_LABEL_H

#include <stdint.h>

/* Read the PV of SIZE bytes at OFFSET of FD.  Sets *VG to the name of its
 * volume group (caller frees), or to NULL when it has none that can be
 * read (an orphan PV, no metadata area, damaged metadata).  Returns -1
 * with an error recorded only when reading fails.
 */
int lvm_label_vg_name (int fd, uint64_t offset, uint64_t size, char **vg);

#endif /* P2V_LVM_LABEL_H */
