/* p2vkit imaging engine: qcow2 images as sources (see source.h).
 *
 * The reader follows QEMU's docs/interop/qcow2.txt.  It reads the active
 * layer of version 2 and 3 images, with zlib or zstd compressed clusters
 * and zero clusters.  It refuses what it cannot read correctly: backing
 * files, encryption, external data files, extended L2 entries, unknown
 * incompatible features, and images marked corrupt or dirty.  Snapshots
 * are ignored.
 *
 * The image is untrusted input.  Every offset and length taken from it is
 * checked against the file before use, every allocation is bounded by a
 * constant, and every loop is bounded by the caller's request or by a
 * constant, so a malicious image can only make the reader fail with one
 * clear message.
 *
 * Memory: the L1 table is kept in memory in windows of at most
 * L1_WINDOW_BYTES, L2 tables in a small cache of at most L2_CACHE_BYTES,
 * and compressed clusters need one buffer of two clusters plus one of a
 * cluster.  With the largest clusters (2 MiB) that is about 11 MiB plus
 * the zstd window, whatever the virtual size.
 */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "error.h"
#include "file.h"
#include "qcow2.h"

/* The largest virtual size we accept: 64 PiB, the most that L2 entries
 * (56-bit host offsets) can map.
 */
#define MAX_VIRTUAL_SIZE (1ULL << 56)

/* The largest L1 table we accept, as QEMU does (its QCOW_MAX_L1_SIZE). */
#define MAX_L1_BYTES (32 * 1024 * 1024)

/* How much of the L1 table is kept in memory at once. */
#define L1_WINDOW_BYTES (1024 * 1024)

/* The L2 cache: at most this many bytes of tables and this many tables.
 * Reading is mostly sequential, so a few tables are plenty.
 */
#define L2_CACHE_BYTES (4 * 1024 * 1024)
#define L2_CACHE_MAX_SLOTS 16

/* Each extent() call examines at most this many mappings (an L2 entry or
 * a whole unallocated L2 table each), so that a small image whose L1
 * entries all point to the same L2 table cannot keep one call busy for
 * long.  A shorter extent is always a correct answer.
 */
#define EXTENT_MAX_STEPS (1 << 20)

/* The largest refcount_order the specification allows (64-bit refcounts). */
#define MAX_REFCOUNT_ORDER 6

/* Header lengths of version 3 images are multiples of this. */
#define HEADER_LENGTH_ALIGN 8

/* Compressed clusters are raw deflate streams with a 4 KiB window: the
 * negative value tells zlib there is no zlib header.
 */
#define ZLIB_WINDOW_BITS (-12)

/* The largest zstd window we accept (4 MiB).  QEMU compresses each
 * cluster as one frame whose window is at most the cluster size (2 MiB at
 * most); the limit keeps a malicious frame from asking for more memory.
 */
#define ZSTD_WINDOW_LOG_MAX (QCOW2_MAX_CLUSTER_BITS + 1)

/* Bits 0-8 and 56-62 of an L1 entry are reserved. */
#define L1E_RESERVED_MASK (~(QCOW2_L1E_OFFSET_MASK | QCOW2_OFLAG_COPIED))

/* Bits 1-8 and 56-61 of a standard L2 entry are reserved. */
#define L2E_STANDARD_RESERVED_MASK                                             \
  (~(QCOW2_L2E_OFFSET_MASK | QCOW2_OFLAG_COPIED | QCOW2_OFLAG_COMPRESSED       \
     | QCOW2_OFLAG_ZERO))

/* Compressed descriptors: the host offset field may not reach beyond bit
 * 55, like every other host offset.
 */
#define HOST_OFFSET_LIMIT (1ULL << 56)

/* The size in bytes of one L1 or L2 entry. */
#define ENTRY_SIZE 8

/* The bits of the compressed descriptor's sector count field start at
 * 62 - (cluster_bits - 8).
 */
#define COMPRESSED_FIELD_END 62
#define COMPRESSED_SECTOR_BITS 8

/* The supported incompatible features: the others are refused. */
#define INCOMPAT_KNOWN                                                         \
  ((uint64_t) (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT                   \
               | QCOW2_INCOMPAT_DATA_FILE | QCOW2_INCOMPAT_COMPRESSION         \
               | QCOW2_INCOMPAT_EXTL2))

/* Even with the largest clusters the cache holds two tables. */
_Static_assert (L2_CACHE_BYTES >> QCOW2_MAX_CLUSTER_BITS >= 2,
                "L2 cache too small for the largest clusters");

struct l2_slot {
  uint64_t offset;              /* host offset of the table, 0: empty */
  uint64_t last_use;            /* for LRU replacement */
  unsigned char *table;         /* one cluster, big-endian entries */
};

struct qcow2_source {
  struct source s;              /* must be first */

  uint64_t file_size;
  uint32_t version;
  uint32_t cluster_bits;
  uint64_t cluster_size;
  uint32_t l2_bits;             /* log2 of the entries in an L2 table */
  int compression_type;         /* QCOW2_COMPRESSION_TYPE_* */

  /* The active L1 table: the entries that map the virtual size. */
  uint64_t l1_offset;
  uint64_t l1_entries;

  /* The part of the L1 table in memory: entries [l1_first, l1_first +
   * l1_count).
   */
  unsigned char *l1_window;
  size_t l1_window_entries;     /* capacity */
  uint64_t l1_first;
  uint64_t l1_count;            /* 0: nothing loaded */

  struct l2_slot l2_cache[L2_CACHE_MAX_SLOTS];
  unsigned l2_slots;
  uint64_t l2_clock;
  /* The slot used last: reads are mostly sequential, so it is looked at
   * first.
   */
  struct l2_slot *l2_last;

  /* Compressed clusters: the compressed bytes (two clusters at most), the
   * decompressed cluster, and the L2 entry it came from.
   */
  unsigned char *cbuf;
  unsigned char *dbuf;
  uint64_t dbuf_entry;
  int dbuf_valid;
  z_stream zs;
  int zs_ready;
  ZSTD_DCtx *zstd;
};

/* How one guest cluster (or a run of them) is stored. */
enum mapping_kind {
  MAPPING_ZERO,                 /* reads as zeros */
  MAPPING_DATA,                 /* a standard cluster at HOST */
  MAPPING_COMPRESSED,           /* a compressed cluster, descriptor ENTRY */
};

struct mapping {
  enum mapping_kind kind;
  uint64_t host;                /* MAPPING_DATA: host offset of the cluster */
  uint64_t entry;               /* MAPPING_COMPRESSED: the L2 entry */
  uint64_t clusters;            /* guest clusters mapped alike, >= 1 */
};

/* Read exactly LEN bytes at OFFSET of the image file.  WHAT names the
 * structure for the message.
 */
static int
read_exact (struct qcow2_source *q, void *buf, size_t len, uint64_t offset,
            const char *what)
{
  unsigned char *p = buf;
  ssize_t r;

  while (len > 0) {
    r = pread (q->s.fd, p, len, offset);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return error_errno (errno, "%s: read %s at offset %" PRIu64, q->s.name,
                          what, offset);
    }
    if (r == 0)
      return error ("%s: read %s at offset %" PRIu64
                    ": unexpected end of file (truncated image?)",
                    q->s.name, what, offset);
    p += r;
    len -= r;
    offset += r;
  }
  return 0;
}

/* Is [OFFSET, OFFSET + LEN) inside the image file? */
static int
in_file (const struct qcow2_source *q, uint64_t offset, uint64_t len)
{
  return offset <= q->file_size && len <= q->file_size - offset;
}

/* Check the header in H (LEN bytes of it were read) and fill in Q. */
static int
parse_header (struct qcow2_source *q, const unsigned char *h, size_t len)
{
  const char *name = q->s.name;
  uint64_t incompat = 0, size, l1_offset, rt_offset, l2_span, needed;
  uint32_t header_length = QCOW2_V2_HEADER_LENGTH;
  uint32_t refcount_order = QCOW2_DEFAULT_REFCOUNT_ORDER;
  uint32_t crypt_method, l1_size, rt_clusters, compression_type = 0;

  if (len < QCOW2_V2_HEADER_LENGTH)
    return error ("%s: qcow2 header is truncated (file has %zu bytes)", name,
                  len);
  if (be32_get (h + QCOW2_OFF_MAGIC) != QCOW2_MAGIC)
    return error ("%s: not a qcow2 image (bad magic)", name);

  q->version = be32_get (h + QCOW2_OFF_VERSION);
  if (q->version != 2 && q->version != 3)
    return error ("%s: unsupported qcow2 version %" PRIu32, name, q->version);

  q->cluster_bits = be32_get (h + QCOW2_OFF_CLUSTER_BITS);
  if (q->cluster_bits < QCOW2_MIN_CLUSTER_BITS
      || q->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
    return error ("%s: unsupported qcow2 cluster_bits %" PRIu32, name,
                  q->cluster_bits);
  q->cluster_size = UINT64_C (1) << q->cluster_bits;
  q->l2_bits = q->cluster_bits - 3;

  if (q->version >= 3) {
    if (len < QCOW2_V3_HEADER_LENGTH)
      return error ("%s: qcow2 header is truncated (file has %zu bytes)", name,
                    len);
    header_length = be32_get (h + QCOW2_OFF_HEADER_LENGTH);
    if (header_length < QCOW2_V3_HEADER_LENGTH
        || header_length > q->cluster_size
        || header_length % HEADER_LENGTH_ALIGN != 0)
      return error ("%s: invalid qcow2 header length %" PRIu32, name,
                    header_length);
    incompat = be64_get (h + QCOW2_OFF_INCOMPATIBLE_FEATURES);
    refcount_order = be32_get (h + QCOW2_OFF_REFCOUNT_ORDER);
    if (header_length > QCOW2_OFF_COMPRESSION_TYPE) {
      if (len <= QCOW2_OFF_COMPRESSION_TYPE)
        return error ("%s: qcow2 header is truncated (file has %zu bytes)",
                      name, len);
      compression_type = h[QCOW2_OFF_COMPRESSION_TYPE];
    }
  }

  /* Features we cannot read correctly, most fundamental first. */
  if (incompat & ~INCOMPAT_KNOWN)
    return error ("%s: unsupported qcow2 incompatible features 0x%" PRIx64,
                  name, incompat & ~INCOMPAT_KNOWN);
  if (incompat & QCOW2_INCOMPAT_CORRUPT)
    return error ("%s: qcow2 image is marked corrupt; "
                  "repair it with 'qemu-img check -r all'",
                  name);
  if (incompat & QCOW2_INCOMPAT_DIRTY)
    return error ("%s: qcow2 image was not closed cleanly (dirty bit set); "
                  "repair it with 'qemu-img check -r all'",
                  name);
  if (incompat & QCOW2_INCOMPAT_DATA_FILE)
    return error ("%s: qcow2 external data files are not supported", name);
  if (incompat & QCOW2_INCOMPAT_EXTL2)
    return error ("%s: qcow2 extended L2 entries are not supported", name);
  /* The compression type bit is set exactly when the type is not zlib. */
  if (!(incompat & QCOW2_INCOMPAT_COMPRESSION)
      != (compression_type == QCOW2_COMPRESSION_TYPE_ZLIB))
    return error ("%s: qcow2 compression type %" PRIu32
                  " does not match the compression type feature bit",
                  name, compression_type);
  if (compression_type != QCOW2_COMPRESSION_TYPE_ZLIB
      && compression_type != QCOW2_COMPRESSION_TYPE_ZSTD)
    return error ("%s: unsupported qcow2 compression type %" PRIu32, name,
                  compression_type);
  q->compression_type = compression_type;

  crypt_method = be32_get (h + QCOW2_OFF_CRYPT_METHOD);
  if (crypt_method != 0)
    return error ("%s: encrypted qcow2 images are not supported", name);
  if (be64_get (h + QCOW2_OFF_BACKING_FILE_OFFSET) != 0)
    return error ("%s: qcow2 backing files are not supported "
                  "(flatten the image with 'qemu-img convert' first)",
                  name);
  if (refcount_order > MAX_REFCOUNT_ORDER)
    return error ("%s: invalid qcow2 refcount_order %" PRIu32, name,
                  refcount_order);

  size = be64_get (h + QCOW2_OFF_SIZE);
  if (size > MAX_VIRTUAL_SIZE)
    return error ("%s: qcow2 virtual size %" PRIu64 " is too large", name,
                  size);
  q->s.size = size;

  /* The L1 table must map the whole virtual size.  It may be larger (an
   * image that was shrunk), but we only ever look at the entries needed.
   */
  l1_size = be32_get (h + QCOW2_OFF_L1_SIZE);
  l1_offset = be64_get (h + QCOW2_OFF_L1_TABLE_OFFSET);
  if ((uint64_t) l1_size * ENTRY_SIZE > MAX_L1_BYTES)
    return error ("%s: qcow2 L1 table is too large (%" PRIu32 " entries)", name,
                  l1_size);
  l2_span = UINT64_C (1) << (q->cluster_bits + q->l2_bits);
  needed = size / l2_span + (size % l2_span != 0);
  if (l1_size < needed)
    return error ("%s: qcow2 L1 table is too small (%" PRIu32
                  " entries) for the virtual size %" PRIu64,
                  name, l1_size, size);
  if (l1_size > 0) {
    if (l1_offset == 0 || l1_offset % q->cluster_size != 0)
      return error ("%s: invalid qcow2 L1 table offset 0x%" PRIx64, name,
                    l1_offset);
    if (!in_file (q, l1_offset, (uint64_t) l1_size * ENTRY_SIZE))
      return error ("%s: qcow2 L1 table at offset 0x%" PRIx64
                    " lies beyond the end of the file",
                    name, l1_offset);
  }
  q->l1_offset = l1_offset;
  q->l1_entries = needed;

  /* We never read refcounts, but a refcount table outside the file is a
   * sure sign of a damaged image.
   */
  rt_offset = be64_get (h + QCOW2_OFF_REFCOUNT_TABLE_OFFSET);
  rt_clusters = be32_get (h + QCOW2_OFF_REFCOUNT_TABLE_CLUSTERS);
  if (rt_offset == 0 || rt_offset % q->cluster_size != 0)
    return error ("%s: invalid qcow2 refcount table offset 0x%" PRIx64, name,
                  rt_offset);
  if (rt_clusters == 0)
    return error ("%s: qcow2 refcount table is empty", name);
  if (!in_file (q, rt_offset, (uint64_t) rt_clusters << q->cluster_bits))
    return error ("%s: qcow2 refcount table at offset 0x%" PRIx64
                  " lies beyond the end of the file",
                  name, rt_offset);
  return 0;
}

/* Get L1 entry INDEX (< l1_entries) into *ENTRY, loading the window of
 * the L1 table that holds it if needed.
 */
static int
get_l1_entry (struct qcow2_source *q, uint64_t index, uint64_t *entry)
{
  uint64_t first, count;

  if (index < q->l1_first || index - q->l1_first >= q->l1_count) {
    first = index - index % q->l1_window_entries;
    count = q->l1_entries - first;
    if (count > q->l1_window_entries)
      count = q->l1_window_entries;
    q->l1_count = 0;
    if (read_exact (q, q->l1_window, count * ENTRY_SIZE,
                    q->l1_offset + first * ENTRY_SIZE, "L1 table")
        == -1)
      return -1;
    q->l1_first = first;
    q->l1_count = count;
  }
  *entry = be64_get (q->l1_window + (index - q->l1_first) * ENTRY_SIZE);
  return 0;
}

/* Return the L2 table at host OFFSET (checked by the caller), from the
 * cache or read into it.  NULL on error.
 */
static const unsigned char *
get_l2_table (struct qcow2_source *q, uint64_t offset)
{
  struct l2_slot *slot = NULL;
  unsigned i;

  if (q->l2_last && q->l2_last->offset == offset) {
    q->l2_last->last_use = ++q->l2_clock;
    return q->l2_last->table;
  }
  for (i = 0; i < q->l2_slots; i++) {
    if (q->l2_cache[i].offset == offset) {
      q->l2_cache[i].last_use = ++q->l2_clock;
      q->l2_last = &q->l2_cache[i];
      return q->l2_cache[i].table;
    }
  }

  /* Not cached: take an empty slot, or else the least recently used. */
  for (i = 0; i < q->l2_slots; i++) {
    if (slot == NULL || q->l2_cache[i].last_use < slot->last_use)
      slot = &q->l2_cache[i];
    if (q->l2_cache[i].offset == 0) {
      slot = &q->l2_cache[i];
      break;
    }
  }
  if (slot->table == NULL) {
    slot->table = malloc (q->cluster_size);
    if (slot->table == NULL) {
      error ("%s: out of memory", q->s.name);
      return NULL;
    }
  }
  slot->offset = 0;
  if (read_exact (q, slot->table, q->cluster_size, offset, "L2 table") == -1)
    return NULL;
  slot->offset = offset;
  slot->last_use = ++q->l2_clock;
  q->l2_last = slot;
  return slot->table;
}

/* Check the compressed cluster descriptor ENTRY and return where its
 * bytes lie: *HOST, and *LEN bytes of the file from there.
 */
static int
compressed_extent (struct qcow2_source *q, uint64_t entry, uint64_t *host,
                   uint64_t *len)
{
  unsigned offset_bits
    = COMPRESSED_FIELD_END - (q->cluster_bits - COMPRESSED_SECTOR_BITS);
  uint64_t sectors_mask
    = (UINT64_C (1) << (q->cluster_bits - COMPRESSED_SECTOR_BITS)) - 1;
  uint64_t offset, sectors, end, file_end;

  offset = entry & ((UINT64_C (1) << offset_bits) - 1);
  sectors = (entry >> offset_bits) & sectors_mask;
  if (offset >= HOST_OFFSET_LIMIT || offset >= q->file_size)
    return error ("%s: qcow2 compressed cluster at offset 0x%" PRIx64
                  " lies beyond the end of the file",
                  q->s.name, offset);

  /* The data runs to the end of the sector holding OFFSET, plus SECTORS
   * more sectors.  QEMU may leave the last sector short at the end of the
   * file, so only a whole sector beyond the end is an error.
   */
  end = (offset | (QCOW2_COMPRESSED_SECTOR_SIZE - 1)) + 1
    + sectors * QCOW2_COMPRESSED_SECTOR_SIZE;
  file_end = q->file_size + QCOW2_COMPRESSED_SECTOR_SIZE - 1;
  file_end -= file_end % QCOW2_COMPRESSED_SECTOR_SIZE;
  if (end > file_end)
    return error ("%s: qcow2 compressed cluster at offset 0x%" PRIx64
                  " extends beyond the end of the file",
                  q->s.name, offset);
  if (end > q->file_size)
    end = q->file_size;
  *host = offset;
  *len = end - offset;
  return 0;
}

/* Find how guest cluster CLUSTER (< the clusters of the virtual size) is
 * stored.  Every entry used is checked here, so that extent() already
 * reports a damaged mapping.
 */
static int
map_cluster (struct qcow2_source *q, uint64_t cluster, struct mapping *m)
{
  const char *name = q->s.name;
  uint64_t l1_index = cluster >> q->l2_bits;
  uint64_t l2_index = cluster & ((UINT64_C (1) << q->l2_bits) - 1);
  const unsigned char *table;
  uint64_t l1e, l2_offset, l2e, host, len;

  if (get_l1_entry (q, l1_index, &l1e) == -1)
    return -1;
  if (l1e & L1E_RESERVED_MASK)
    return error ("%s: invalid qcow2 L1 entry %" PRIu64 " (0x%016" PRIx64
                  "): reserved bits set",
                  name, l1_index, l1e);
  l2_offset = l1e & QCOW2_L1E_OFFSET_MASK;

  /* No L2 table: every cluster it would map is unallocated. */
  if (l2_offset == 0) {
    m->kind = MAPPING_ZERO;
    m->clusters = (UINT64_C (1) << q->l2_bits) - l2_index;
    return 0;
  }
  if (l2_offset % q->cluster_size != 0)
    return error ("%s: qcow2 L2 table offset 0x%" PRIx64
                  " is not aligned to a cluster",
                  name, l2_offset);
  if (!in_file (q, l2_offset, q->cluster_size))
    return error ("%s: qcow2 L2 table at offset 0x%" PRIx64
                  " lies beyond the end of the file",
                  name, l2_offset);

  table = get_l2_table (q, l2_offset);
  if (table == NULL)
    return -1;
  l2e = be64_get (table + l2_index * ENTRY_SIZE);
  m->clusters = 1;

  if (l2e & QCOW2_OFLAG_COMPRESSED) {
    if (compressed_extent (q, l2e, &host, &len) == -1)
      return -1;
    m->kind = MAPPING_COMPRESSED;
    m->entry = l2e;
    return 0;
  }

  if (l2e & L2E_STANDARD_RESERVED_MASK
      || (q->version < 3 && (l2e & QCOW2_OFLAG_ZERO)))
    return error ("%s: invalid qcow2 L2 entry for guest offset %" PRIu64
                  " (0x%016" PRIx64 "): reserved bits set",
                  name, cluster << q->cluster_bits, l2e);
  if (l2e & QCOW2_OFLAG_ZERO) {
    m->kind = MAPPING_ZERO;
    return 0;
  }
  host = l2e & QCOW2_L2E_OFFSET_MASK;
  if (host == 0) {
    /* Offset 0 with the copied flag only makes sense in an external data
     * file, which we refused at open.
     */
    if (l2e & QCOW2_OFLAG_COPIED)
      return error ("%s: invalid qcow2 L2 entry for guest offset %" PRIu64
                    " (0x%016" PRIx64 "): cluster at offset 0",
                    name, cluster << q->cluster_bits, l2e);
    m->kind = MAPPING_ZERO;
    return 0;
  }
  if (host % q->cluster_size != 0)
    return error ("%s: qcow2 data cluster offset 0x%" PRIx64
                  " is not aligned to a cluster",
                  name, host);
  if (host >= q->file_size)
    return error ("%s: qcow2 data cluster at offset 0x%" PRIx64
                  " lies beyond the end of the file",
                  name, host);
  m->kind = MAPPING_DATA;
  m->host = host;
  return 0;
}

static int
qcow2_extent (struct source *s, uint64_t offset, uint64_t max_len,
              struct extent *e)
{
  struct qcow2_source *q = (struct qcow2_source *) s;
  enum extent_type type;
  struct mapping m;
  uint64_t end, pos, steps;

  if (offset >= s->size || max_len == 0)
    return error ("%s: extent at offset %" PRIu64 " is out of range", s->name,
                  offset);
  end = s->size - offset < max_len ? s->size : offset + max_len;

  if (map_cluster (q, offset >> q->cluster_bits, &m) == -1)
    return -1;
  type = m.kind == MAPPING_ZERO ? EXTENT_ZERO : EXTENT_DATA;
  pos = ((offset >> q->cluster_bits) + m.clusters) << q->cluster_bits;

  /* Merge the following clusters of the same type. */
  for (steps = 1; pos < end && steps < EXTENT_MAX_STEPS; steps++) {
    if (map_cluster (q, pos >> q->cluster_bits, &m) == -1)
      return -1;
    if ((m.kind == MAPPING_ZERO ? EXTENT_ZERO : EXTENT_DATA) != type)
      break;
    pos += m.clusters << q->cluster_bits;
  }

  e->offset = offset;
  e->type = type;
  e->length = (pos < end ? pos : end) - offset;
  return 0;
}

/* Allocate what compressed clusters need, on first use. */
static int
init_decompression (struct qcow2_source *q)
{
  size_t r;
  int zr;

  if (q->cbuf == NULL) {
    /* The descriptor's sector count limits compressed data to two
     * clusters.
     */
    q->cbuf = malloc (2 * q->cluster_size);
    q->dbuf = malloc (q->cluster_size);
    if (q->cbuf == NULL || q->dbuf == NULL)
      return error ("%s: out of memory", q->s.name);
  }

  if (q->compression_type == QCOW2_COMPRESSION_TYPE_ZLIB && !q->zs_ready) {
    memset (&q->zs, 0, sizeof q->zs);
    zr = inflateInit2 (&q->zs, ZLIB_WINDOW_BITS);
    if (zr != Z_OK)
      return error ("%s: zlib initialization failed: %s", q->s.name,
                    q->zs.msg ? q->zs.msg : zError (zr));
    q->zs_ready = 1;
  }
  if (q->compression_type == QCOW2_COMPRESSION_TYPE_ZSTD && q->zstd == NULL) {
    q->zstd = ZSTD_createDCtx ();
    if (q->zstd == NULL)
      return error ("%s: out of memory", q->s.name);
    r = ZSTD_DCtx_setParameter (q->zstd, ZSTD_d_windowLogMax,
                                ZSTD_WINDOW_LOG_MAX);
    if (ZSTD_isError (r))
      return error ("%s: zstd initialization failed: %s", q->s.name,
                    ZSTD_getErrorName (r));
  }
  return 0;
}

/* Inflate LEN bytes of q->cbuf into the cluster buffer. */
static int
inflate_cluster (struct qcow2_source *q, size_t len, uint64_t host)
{
  int r;

  if (inflateReset (&q->zs) != Z_OK)
    return error ("%s: zlib reset failed", q->s.name);
  q->zs.next_in = q->cbuf;
  q->zs.avail_in = len;
  q->zs.next_out = q->dbuf;
  q->zs.avail_out = q->cluster_size;

  /* With all the input and room for the whole cluster, one call does all
   * the work.  The stream may go on beyond the cluster or end inside the
   * last sector's junk: only a full cluster of output counts.
   */
  r = inflate (&q->zs, Z_FINISH);
  if (q->zs.avail_out == 0
      && (r == Z_STREAM_END || r == Z_OK || r == Z_BUF_ERROR))
    return 0;
  if (r == Z_STREAM_END || r == Z_BUF_ERROR)
    return error ("%s: qcow2 compressed cluster at offset 0x%" PRIx64
                  ": decompressed to %lu bytes instead of %" PRIu64,
                  q->s.name, host, q->zs.total_out, q->cluster_size);
  return error ("%s: qcow2 compressed cluster at offset 0x%" PRIx64
                ": zlib: %s",
                q->s.name, host, q->zs.msg ? q->zs.msg : zError (r));
}

/* Decompress LEN bytes of zstd frames in q->cbuf into the cluster buffer.
 * Streaming, because the frames need not record their content size.
 */
static int
unzstd_cluster (struct qcow2_source *q, size_t len, uint64_t host)
{
  ZSTD_inBuffer in = { q->cbuf, len, 0 };
  ZSTD_outBuffer out = { q->dbuf, q->cluster_size, 0 };
  size_t r, in_pos, out_pos;

  r = ZSTD_DCtx_reset (q->zstd, ZSTD_reset_session_only);
  if (ZSTD_isError (r))
    return error ("%s: zstd reset failed: %s", q->s.name,
                  ZSTD_getErrorName (r));

  /* Every round consumes input or produces output, or we stop: the loop
   * ends within LEN + cluster_size rounds at worst.
   */
  while (out.pos < out.size) {
    in_pos = in.pos;
    out_pos = out.pos;
    r = ZSTD_decompressStream (q->zstd, &out, &in);
    if (ZSTD_isError (r))
      return error ("%s: qcow2 compressed cluster at offset 0x%" PRIx64
                    ": zstd: %s",
                    q->s.name, host, ZSTD_getErrorName (r));
    if (in.pos == in_pos && out.pos == out_pos)
      return error ("%s: qcow2 compressed cluster at offset 0x%" PRIx64
                    ": decompressed to %zu bytes instead of %" PRIu64,
                    q->s.name, host, out.pos, q->cluster_size);
  }
  return 0;
}

/* Make the cluster buffer hold the compressed cluster ENTRY. */
static int
decompress_cluster (struct qcow2_source *q, uint64_t entry)
{
  uint64_t host, len;

  if (q->dbuf_valid && q->dbuf_entry == entry)
    return 0;
  q->dbuf_valid = 0;
  if (compressed_extent (q, entry, &host, &len) == -1
      || init_decompression (q) == -1
      || read_exact (q, q->cbuf, len, host, "compressed cluster") == -1)
    return -1;
  if (q->compression_type == QCOW2_COMPRESSION_TYPE_ZSTD) {
    if (unzstd_cluster (q, len, host) == -1)
      return -1;
  }
  else if (inflate_cluster (q, len, host) == -1)
    return -1;
  q->dbuf_entry = entry;
  q->dbuf_valid = 1;
  return 0;
}

static int
qcow2_pread (struct source *s, void *buf, size_t len, uint64_t offset)
{
  struct qcow2_source *q = (struct qcow2_source *) s;
  unsigned char *p = buf;
  struct mapping m, next;
  uint64_t in_cluster, n, span, host_end;

  if (offset > s->size || len > s->size - offset)
    return error ("%s: read of %zu bytes at offset %" PRIu64 " is out of range",
                  s->name, len, offset);

  while (len > 0) {
    in_cluster = offset & (q->cluster_size - 1);
    if (map_cluster (q, offset >> q->cluster_bits, &m) == -1)
      return -1;
    span = (m.clusters << q->cluster_bits) - in_cluster;
    n = len < span ? len : span;

    switch (m.kind) {
    case MAPPING_ZERO:
      memset (p, 0, n);
      break;

    case MAPPING_COMPRESSED:
      if (decompress_cluster (q, m.entry) == -1)
        return -1;
      memcpy (p, q->dbuf + in_cluster, n);
      break;

    case MAPPING_DATA:
      /* Extend the read over the following clusters while they lie
       * next to each other in the file, so that it is one pread.
       */
      host_end = m.host + q->cluster_size;
      while (n < len) {
        if (map_cluster (q, (offset + n) >> q->cluster_bits, &next) == -1)
          return -1;
        if (next.kind != MAPPING_DATA || next.host != host_end)
          break;
        n += len - n < q->cluster_size ? len - n : q->cluster_size;
        host_end += q->cluster_size;
      }
      if (read_exact (q, p, n, m.host + in_cluster, "data cluster") == -1)
        return -1;
      break;
    }
    p += n;
    len -= n;
    offset += n;
  }
  return 0;
}

/* Map [OFFSET, OFFSET + LEN) straight from the file when it is one run of
 * standard clusters lying next to each other there, as in the images
 * p2v-send writes.  Anything else (zero or compressed clusters, a run that
 * jumps) is left to qcow2_pread.
 */
static int
qcow2_map (struct source *s, uint64_t offset, size_t len, const void **addr)
{
  struct qcow2_source *q = (struct qcow2_source *) s;
  uint64_t in_cluster = offset & (q->cluster_size - 1);
  uint64_t pos, host;
  struct mapping m;

  if (len == 0 || offset > s->size || len > s->size - offset)
    return 0;
  if (map_cluster (q, offset >> q->cluster_bits, &m) == -1)
    return -1;
  if (m.kind != MAPPING_DATA)
    return 0;
  host = m.host + in_cluster;
  for (pos = offset - in_cluster + q->cluster_size; pos < offset + len;
       pos += q->cluster_size) {
    uint64_t want = m.host + (pos - (offset - in_cluster));
    struct mapping next;

    if (map_cluster (q, pos >> q->cluster_bits, &next) == -1)
      return -1;
    if (next.kind != MAPPING_DATA || next.host != want)
      return 0;
  }
  /* Touching a mapping past the end of the file raises SIGBUS: a
   * truncated image is left to pread, which reports it.
   */
  if (!in_file (q, host, len))
    return 0;

  return file_map (s->fd, host, len, addr) == 0;
}

static void
qcow2_unmap (struct source *s, uint64_t offset, size_t len, const void *addr)
{
  (void) s;
  (void) offset;
  file_unmap (addr, len);
}

/* Release everything but the file descriptor. */
static void
free_qcow2 (struct qcow2_source *q)
{
  unsigned i;

  for (i = 0; i < L2_CACHE_MAX_SLOTS; i++)
    free (q->l2_cache[i].table);
  free (q->l1_window);
  free (q->cbuf);
  free (q->dbuf);
  if (q->zs_ready)
    inflateEnd (&q->zs);
  ZSTD_freeDCtx (q->zstd);
  free (q->s.name);
  free (q);
}

static void
qcow2_close (struct source *s)
{
  struct qcow2_source *q = (struct qcow2_source *) s;

  close (s->fd);
  free_qcow2 (q);
}

static const struct source_ops qcow2_ops = {
  .format = "qcow2",
  .extent = qcow2_extent,
  .pread = qcow2_pread,
  .map = qcow2_map,
  .unmap = qcow2_unmap,
  .close = qcow2_close,
};

struct source *
qcow2_source_open (const char *path, int fd)
{
  unsigned char header[QCOW2_V3_HEADER_LENGTH_COMPRESSION];
  struct qcow2_source *q;
  struct source *ret = NULL;
  uint64_t window;
  off_t end;
  size_t len;

  q = calloc (1, sizeof *q);
  if (q == NULL || (q->s.name = strdup (path)) == NULL) {
    free (q);
    error ("%s: out of memory", path);
    return NULL;
  }
  q->s.ops = &qcow2_ops;
  q->s.fd = fd;

  /* lseek works for regular files and block devices alike. */
  end = lseek (fd, 0, SEEK_END);
  if (end == -1) {
    error_errno (errno, "%s: find the file size", path);
    goto out;
  }
  q->file_size = end;

  len = q->file_size < sizeof header ? q->file_size : sizeof header;
  if (read_exact (q, header, len, 0, "qcow2 header") == -1
      || parse_header (q, header, len) == -1)
    goto out;

  window = L1_WINDOW_BYTES / ENTRY_SIZE;
  q->l1_window_entries = q->l1_entries < window ? q->l1_entries : window;
  if (q->l1_window_entries > 0) {
    q->l1_window = malloc (q->l1_window_entries * ENTRY_SIZE);
    if (q->l1_window == NULL) {
      error ("%s: out of memory", path);
      goto out;
    }
  }
  q->l2_slots = L2_CACHE_BYTES >> q->cluster_bits;
  if (q->l2_slots > L2_CACHE_MAX_SLOTS)
    q->l2_slots = L2_CACHE_MAX_SLOTS;

  posix_fadvise (fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  ret = &q->s;

out:
  /* On failure the caller still owns FD and closes it. */
  if (ret == NULL)
    free_qcow2 (q);
  return ret;
}
