/* p2vkit fixup: reading a kernel's module lists, and keeping our block
 * in the initramfs tools' configuration.
 *
 * Both work on a guest's files in memory, so on untrusted bytes: any
 * bytes, in time linear in their length.  Not thread-specific: any
 * number of calls may run at once.
 */
#ifndef P2V_INITRAMFS_H
#define P2V_INITRAMFS_H

#include <stdbool.h>
#include <stddef.h>

/* The markers of the block p2v-fixup owns in a file the guest's owner
 * may edit too (/etc/initramfs-tools/modules).
 */
#define INITRAMFS_BLOCK_BEGIN "# p2vkit: begin"
#define INITRAMFS_BLOCK_END "# p2vkit: end"

/* Is the kernel module NAME in the list IN (LEN bytes)?  The list is a
 * kernel's modules.dep ("kernel/drivers/block/virtio_blk.ko.xz: DEPS"
 * lines) or modules.builtin ("kernel/drivers/virtio/virtio_pci.ko"
 * lines); the module is the file name up to ".ko", and - and _ are the
 * same in module names (virtio-blk is virtio_blk).
 */
bool initramfs_module_listed (const char *in, size_t len, const char *name);

/* IN (LEN bytes) without the lines from one that starts with
 * INITRAMFS_BLOCK_BEGIN to the next that starts with INITRAMFS_BLOCK_END
 * (to the end if there is none), and with BLOCK, if not NULL, appended
 * (after a newline if the last line had none).  Every other byte stays.
 * Sets *OUT (NUL-terminated, caller frees) and *OUT_LEN; returns 0, or -1
 * with an error recorded (out of memory).
 */
int initramfs_set_block (const char *in, size_t len, const char *block,
                         char **out, size_t *out_len);

#endif /* P2V_INITRAMFS_H */
