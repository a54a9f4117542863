/* p2vkit imaging engine: the qcow2 on-disk format.
 *
 * Names and layout follow QEMU's docs/interop/qcow2.txt.  All fields are
 * big-endian on disk.  Shared by the writer (qcow2-write.c) and the reader
 * (qcow2-read.c).
 */
#ifndef P2V_QCOW2_H
#define P2V_QCOW2_H

#include <stdint.h>

#define QCOW2_MAGIC 0x514649fbU          /* "QFI\xfb" */

#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_DEFAULT_CLUSTER_BITS 16    /* 64 KiB */

/* Version 2 headers end at byte 72; version 3 headers are at least 104
 * bytes, 112 with the compression type field.
 */
#define QCOW2_V2_HEADER_LENGTH 72
#define QCOW2_V3_HEADER_LENGTH 104
#define QCOW2_V3_HEADER_LENGTH_COMPRESSION 112

/* Byte offsets of header fields. */
#define QCOW2_OFF_MAGIC 0
#define QCOW2_OFF_VERSION 4
#define QCOW2_OFF_BACKING_FILE_OFFSET 8
#define QCOW2_OFF_BACKING_FILE_SIZE 16
#define QCOW2_OFF_CLUSTER_BITS 20
#define QCOW2_OFF_SIZE 24
#define QCOW2_OFF_CRYPT_METHOD 32
#define QCOW2_OFF_L1_SIZE 36
#define QCOW2_OFF_L1_TABLE_OFFSET 40
#define QCOW2_OFF_REFCOUNT_TABLE_OFFSET 48
#define QCOW2_OFF_REFCOUNT_TABLE_CLUSTERS 56
#define QCOW2_OFF_NB_SNAPSHOTS 60
#define QCOW2_OFF_SNAPSHOTS_OFFSET 64
#define QCOW2_OFF_INCOMPATIBLE_FEATURES 72
#define QCOW2_OFF_COMPATIBLE_FEATURES 80
#define QCOW2_OFF_AUTOCLEAR_FEATURES 88
#define QCOW2_OFF_REFCOUNT_ORDER 96
#define QCOW2_OFF_HEADER_LENGTH 100
#define QCOW2_OFF_COMPRESSION_TYPE 104

/* Incompatible feature bits. */
#define QCOW2_INCOMPAT_DIRTY (1ULL << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ULL << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ULL << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ULL << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ULL << 4)

/* Compression types (header byte 104). */
#define QCOW2_COMPRESSION_TYPE_ZLIB 0
#define QCOW2_COMPRESSION_TYPE_ZSTD 1

/* Header extension types. */
#define QCOW2_EXT_END 0
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acaU
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857U
#define QCOW2_EXT_EXTERNAL_DATA_FILE 0x44415441U

/* L1 and L2 entries. */
#define QCOW2_OFLAG_COPIED (1ULL << 63)
#define QCOW2_OFLAG_COMPRESSED (1ULL << 62)
#define QCOW2_OFLAG_ZERO (1ULL << 0)
#define QCOW2_L1E_OFFSET_MASK 0x00fffffffffffe00ULL
#define QCOW2_L2E_OFFSET_MASK 0x00fffffffffffe00ULL

/* Compressed cluster descriptor: x = 62 - (cluster_bits - 8) bits of host
 * offset, then the number of additional 512-byte sectors.
 */
#define QCOW2_COMPRESSED_SECTOR_SIZE 512

/* QEMU sees disks in 512-byte sectors and rounds a qcow2 image's size down
 * to them, so the sizes we write are rounded up: a raw file of 1000 bytes
 * becomes a 1024-byte disk whose last 24 bytes are zeros, as with
 * `qemu-img convert`.
 */
#define QCOW2_SIZE_ALIGNMENT 512

/* Refcounts: we write refcount_order 4 (16-bit refcounts), as QEMU does. */
#define QCOW2_DEFAULT_REFCOUNT_ORDER 4

/* Big-endian helpers. */
static inline uint32_t
be32_get (const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8
    | p[3];
}

static inline uint64_t
be64_get (const unsigned char *p)
{
  return (uint64_t) be32_get (p) << 32 | be32_get (p + 4);
}

static inline void
be16_put (unsigned char *p, uint16_t v)
{
  p[0] = v >> 8;
  p[1] = v;
}

static inline void
be32_put (unsigned char *p, uint32_t v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

static inline void
be64_put (unsigned char *p, uint64_t v)
{
  be32_put (p, v >> 32);
  be32_put (p + 4, v);
}

#endif /* P2V_QCOW2_H */
