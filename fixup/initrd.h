/* p2vkit fixup: the names of the files in an initramfs image, read on
 * the host.
 *
 * An initramfs is what the kernel unpacks into its first root: one or
 * more cpio archives in the "newc" format (070701, or 070702 with
 * checksums), one after the other, with NUL bytes between them, each
 * either as it is or compressed.  Debian's and dracut's images start with
 * an uncompressed archive of early microcode and follow it with the main
 * archive compressed with gzip, zstd, xz, lz4, lzma, bzip2 or lzo.  This
 * reads the uncompressed, gzip and zstd parts (zlib and libzstd), and
 * says so when it meets another compression, so that the caller can ask
 * the guest's own lister instead.
 *
 * The image comes from a guest, so it is untrusted: any bytes.  Every
 * length and offset in it is checked against the data there is; the
 * unpacked size of a compressed part is bounded by the caller.
 * Time is linear in the unpacked size.  No state is shared: any number of
 * calls may run at once.
 */
#ifndef P2V_INITRD_H
#define P2V_INITRD_H

#include <stddef.h>

/* The most bytes one compressed part may unpack to, for p2v-fixup:
 * generic initramfs images are a few hundred MiB at most.
 */
#define INITRD_UNPACKED_MAX ((size_t) 2048 * 1024 * 1024)

/* Results of initrd_list besides 0 and -1. */
#define INITRD_UNSUPPORTED 1

/* Called for each entry of each archive, in order, the trailers left
 * out: NAME is the entry's name as the archive gives it
 * ("usr/lib/modules/6.1.0-27-amd64/kernel/drivers/block/virtio_blk.ko"),
 * NUL-terminated, valid during the call only; any bytes but NUL.  A
 * non-zero return stops the listing, and initrd_list returns it.
 */
typedef int initrd_name_fn (const char *name, void *opaque);

/* List the entries of the image IMAGE (LEN bytes), calling FN (with
 * OPAQUE) for each.  A compressed part may unpack to at most
 * UNPACKED_MAX bytes (INITRD_UNPACKED_MAX; less in tests).  Returns 0 when the
 * whole image was read; INITRD_UNSUPPORTED, with the reason recorded (error.h:
 * "xz compression at offset 10240"), when a part is compressed in a way this
 * cannot read (FN was called for the entries before it); what FN returned, if
 * not 0; or -1 with an error recorded when the image is not a valid initramfs
 * (truncated, corrupt, a length beyond its data) or too large unpacked, or
 * memory ran out.
 */
int initrd_list (const void *image, size_t len, size_t unpacked_max,
                 initrd_name_fn *fn, void *opaque);

#endif /* P2V_INITRD_H */
