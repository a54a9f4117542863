/* p2vkit imaging engine: changing blocks of a qcow2 image in place (see
 * qcow2-patch.h).
 */
#include "qcow2-patch.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "file.h"
#include "qcow2.h"

/* Tables larger than these are refused rather than loaded. */
#define PATCH_MAX_L1_BYTES (32 * 1024 * 1024)
#define PATCH_MAX_REFCOUNT_TABLE_BYTES (8 * 1024 * 1024)
#define PATCH_REFCOUNT_BYTES 2  /* refcount_order 4 */

struct qcow2_patch {
  struct sink k;                /* must be first */
  int fd;
  unsigned cluster_bits;
  uint64_t cluster_size;
  uint64_t l2_entries;          /* per table */
  uint64_t rc_entries;          /* refcounts per block */

  uint64_t *l1;                 /* entries as on disk, host byte order */
  uint64_t l1_size;
  uint64_t l1_offset;

  uint64_t *l2;                 /* the table of l2_index, host order */
  uint64_t l2_index;
  uint64_t l2_offset;           /* its place; 0 when none is loaded */

  uint64_t *rct;                /* the refcount table, host order */
  uint64_t rct_len;             /* entries it has room for */
  uint64_t rct_offset;

  uint64_t next_free;           /* the first cluster past the file */
  unsigned char *cluster;       /* scratch: one cluster */
  unsigned char *rcblock;       /* scratch: a new refcount block */
};

static int
damaged (struct qcow2_patch *q, const char *what)
{
  return error ("%s: %s: the image is damaged", q->k.name, what);
}

static int
read_at (struct qcow2_patch *q, void *buf, size_t len, uint64_t off)
{
  ssize_t r = pread (q->fd, buf, len, off);

  if (r == -1)
    return error_errno (errno, "%s: read at offset %" PRIu64, q->k.name, off);
  if ((size_t) r != len)
    return damaged (q, "a table lies past the end of the file");
  return 0;
}

static int
write_at (struct qcow2_patch *q, const void *buf, size_t len, uint64_t off)
{
  if (file_pwrite_all (q->fd, buf, len, off) == -1)
    return error_prefix ("%s", q->k.name);
  q->k.bytes_written += len;
  return 0;
}

static int
write_entry (struct qcow2_patch *q, uint64_t off, uint64_t e)
{
  unsigned char be[8];

  be64_put (be, e);
  return write_at (q, be, sizeof be, off);
}

/* Load a table of N 64-bit entries at OFF into a new array (caller
 * frees), or NULL with an error recorded.
 */
static uint64_t *
load_table (struct qcow2_patch *q, uint64_t off, uint64_t n)
{
  unsigned char *raw = malloc (n * 8);
  uint64_t *t = malloc (n * sizeof *t), i;

  if (raw == NULL || t == NULL) {
    error ("%s: out of memory", q->k.name);
    goto fail;
  }
  if (read_at (q, raw, n * 8, off) == -1)
    goto fail;
  for (i = 0; i < n; i++)
    t[i] = be64_get (raw + 8 * i);
  free (raw);
  return t;

fail:
  free (raw);
  free (t);
  return NULL;
}

/* The refcount table has no entry for window W: move it to the end of
 * the file, larger, with the refcount blocks that the windows of the new
 * clusters lack laid out before it (each new cluster counted in its
 * window's block), then point the header to it and free the old one.  An
 * interruption before the header is written leaves the old table in
 * place and new clusters that nothing uses.  Returns 0, or -1 with an
 * error recorded.
 */
static int
grow_refcount_table (struct qcow2_patch *q, uint64_t w)
{
  uint64_t len = q->rct_len * 2 > w + 1 ? q->rct_len * 2 : w + 1;
  uint64_t table_clusters, start = q->next_free, k = 0, m, c, i, *t = NULL;
  uint64_t first_w, last_w, entries_per_cluster = q->cluster_size / 8;
  unsigned char *buf = NULL, be[12];
  int ret = -1;

  len = (len + entries_per_cluster - 1) / entries_per_cluster
    * entries_per_cluster;
  table_clusters = len / entries_per_cluster;
  if (table_clusters > PATCH_MAX_REFCOUNT_TABLE_BYTES / q->cluster_size)
    return error ("%s: its refcount table would grow past %d bytes", q->k.name,
                  PATCH_MAX_REFCOUNT_TABLE_BYTES);
  /* K new blocks, for the windows of the K + table_clusters new clusters
   * that have none: until K covers them.
   */
  for (;;) {
    first_w = start / q->rc_entries;
    last_w = (start + k + table_clusters - 1) / q->rc_entries;
    for (m = 0, i = first_w; i <= last_w; i++)
      if (i >= q->rct_len || q->rct[i] == 0)
        m++;
    if (m == k)
      break;
    k = m;
  }
  t = calloc (len, sizeof *t);
  buf = calloc (1, q->cluster_size * (k > 0 ? k : 1));
  if (t == NULL || buf == NULL) {
    error ("%s: out of memory", q->k.name);
    goto out;
  }
  memcpy (t, q->rct, q->rct_len * sizeof *t);
  for (m = 0, i = first_w; i <= last_w; i++)
    if (t[i] == 0)
      t[i] = (start + m++) << q->cluster_bits;
  /* Count the new clusters: in the new blocks (BUF) or the old ones. */
  for (c = start; c < start + k + table_clusters; c++) {
    uint64_t cw = c / q->rc_entries, slot = c % q->rc_entries;
    uint64_t blk = t[cw] >> q->cluster_bits;
    unsigned char one[PATCH_REFCOUNT_BYTES];

    if (blk >= start && blk < start + k)
      be16_put (
        buf + (blk - start) * q->cluster_size + PATCH_REFCOUNT_BYTES * slot, 1);
    else {
      be16_put (one, 1);
      if (write_at (q, one, sizeof one, t[cw] + PATCH_REFCOUNT_BYTES * slot)
          == -1)
        goto out;
    }
  }
  if (k > 0
      && write_at (q, buf, q->cluster_size * k, start << q->cluster_bits) == -1)
    goto out;
  free (buf);
  buf = malloc (len * 8);
  if (buf == NULL) {
    error ("%s: out of memory", q->k.name);
    goto out;
  }
  for (i = 0; i < len; i++)
    be64_put (buf + 8 * i, t[i]);
  if (write_at (q, buf, len * 8, (start + k) << q->cluster_bits) == -1)
    goto out;
  if (fdatasync (q->fd) == -1) {
    error_errno (errno, "%s: flush", q->k.name);
    goto out;
  }
  /* The header's table offset and size, one write. */
  be64_put (be, (start + k) << q->cluster_bits);
  be32_put (be + 8, (uint32_t) table_clusters);
  if (write_at (q, be, sizeof be, QCOW2_OFF_REFCOUNT_TABLE_OFFSET) == -1)
    goto out;
  /* The old table's clusters are free now. */
  for (c = q->rct_offset >> q->cluster_bits; c
       < (q->rct_offset >> q->cluster_bits) + q->rct_len * 8 / q->cluster_size;
       c++) {
    unsigned char zero[PATCH_REFCOUNT_BYTES] = { 0 };

    if (write_at (q, zero, sizeof zero,
                  t[c / q->rc_entries]
                    + PATCH_REFCOUNT_BYTES * (c % q->rc_entries))
        == -1)
      goto out;
  }
  free (q->rct);
  q->rct = t;
  t = NULL;
  q->rct_len = len;
  q->rct_offset = (start + k) << q->cluster_bits;
  q->next_free = start + k + table_clusters;
  ret = 0;

out:
  free (t);
  free (buf);
  return ret;
}

/* A host cluster for new data: the next past the file, filled with
 * CONTENT (a whole cluster) and then counted in its window's refcount
 * block (made first where the window has none).  Returns the cluster's
 * byte offset, or 0 with an error recorded.
 */
static uint64_t
alloc_cluster (struct qcow2_patch *q, const unsigned char *content)
{
  unsigned char rc[PATCH_REFCOUNT_BYTES];

  for (;;) {
    uint64_t c = q->next_free, w = c / q->rc_entries;
    uint64_t slot = c % q->rc_entries;

    if (w >= q->rct_len) {
      /* Then again from the new end of the file. */
      if (grow_refcount_table (q, w) == -1)
        return 0;
      continue;
    }
    if (q->rct[w] == 0) {
      /* The window's block, counting itself, in its first free cluster. */
      memset (q->rcblock, 0, q->cluster_size);
      be16_put (q->rcblock + PATCH_REFCOUNT_BYTES * slot, 1);
      if (write_at (q, q->rcblock, q->cluster_size, c << q->cluster_bits) == -1
          || write_entry (q, q->rct_offset + 8 * w, c << q->cluster_bits) == -1)
        return 0;
      q->rct[w] = c << q->cluster_bits;
      q->next_free = c + 1;
      continue;
    }
    if (read_at (q, rc, sizeof rc, q->rct[w] + PATCH_REFCOUNT_BYTES * slot)
        == -1)
      return 0;
    if (rc[0] || rc[1]) {
      damaged (q, "a cluster past the end of the file is counted");
      return 0;
    }
    be16_put (rc, 1);
    if (write_at (q, content, q->cluster_size, c << q->cluster_bits) == -1
        || write_at (q, rc, sizeof rc, q->rct[w] + PATCH_REFCOUNT_BYTES * slot)
          == -1)
      return 0;
    q->next_free = c + 1;
    return c << q->cluster_bits;
  }
}

static bool
host_ok (const struct qcow2_patch *q, uint64_t off)
{
  return off % q->cluster_size == 0 && (off >> q->cluster_bits) < q->next_free;
}

/* Make the L2 table of L1 entry I the loaded one; with CREATE, make one
 * where there is none.  Returns 1 when loaded, 0 when there is none (and
 * not CREATE), -1 with an error recorded.
 */
static int
load_l2 (struct qcow2_patch *q, uint64_t i, bool create)
{
  uint64_t e = q->l1[i], off = e & QCOW2_L1E_OFFSET_MASK, *t;

  if (q->l2_offset && q->l2_index == i)
    return 1;
  if (off == 0) {
    if (!create)
      return 0;
    memset (q->cluster, 0, q->cluster_size);
    off = alloc_cluster (q, q->cluster);
    if (off == 0
        || write_entry (q, q->l1_offset + 8 * i, off | QCOW2_OFLAG_COPIED)
          == -1)
      return -1;
    q->l1[i] = off | QCOW2_OFLAG_COPIED;
    memset (q->l2, 0, q->l2_entries * sizeof *q->l2);
  }
  else {
    if (!host_ok (q, off) || !(e & QCOW2_OFLAG_COPIED))
      return damaged (q, "an L1 entry");
    t = load_table (q, off, q->l2_entries);
    if (t == NULL)
      return -1;
    memcpy (q->l2, t, q->l2_entries * sizeof *t);
    free (t);
  }
  q->l2_index = i;
  q->l2_offset = off;
  return 1;
}

/* Put N bytes of DATA (NULL: zeros) at IN inside guest cluster GC. */
static int
patch_cluster (struct qcow2_patch *q, uint64_t gc, uint64_t in, size_t n,
               const unsigned char *data)
{
  uint64_t i = gc / q->l2_entries, j = gc % q->l2_entries, e, host;
  int r;

  if (i >= q->l1_size)
    return damaged (q, "the L1 table is too small for the disk");
  r = load_l2 (q, i, data != NULL);
  if (r <= 0)
    return r;
  e = q->l2[j];
  host = e & QCOW2_L2E_OFFSET_MASK;
  if (e & QCOW2_OFLAG_COMPRESSED)
    return error ("%s: guest offset %" PRIu64 " is a compressed cluster: it "
                  "cannot be changed in place",
                  q->k.name, gc << q->cluster_bits);
  if (host && (!host_ok (q, host) || !(e & QCOW2_OFLAG_COPIED)))
    return error ("%s: guest offset %" PRIu64 " is a shared or damaged "
                  "cluster: it cannot be changed in place",
                  q->k.name, gc << q->cluster_bits);

  if (host == 0 || (e & QCOW2_OFLAG_ZERO)) {
    /* Reads as zeros now: zeros change nothing; data fills a cluster. */
    if (data == NULL)
      return 0;
    memset (q->cluster, 0, q->cluster_size);
    memcpy (q->cluster + in, data, n);
    if (host == 0)
      host = alloc_cluster (q, q->cluster);
    else if (write_at (q, q->cluster, q->cluster_size, host) == -1)
      host = 0;
    if (host == 0
        || write_entry (q, q->l2_offset + 8 * j, host | QCOW2_OFLAG_COPIED)
          == -1)
      return -1;
    q->l2[j] = host | QCOW2_OFLAG_COPIED;
    return 0;
  }

  if (data)
    return write_at (q, data, n, host + in);
  if (n == q->cluster_size
      && fallocate (q->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, host, n)
        == 0)
    return 0;
  memset (q->cluster, 0, q->cluster_size);
  return write_at (q, q->cluster, n, host + in);
}

static int
patch_range (struct sink *k, const unsigned char *data, uint64_t len,
             uint64_t offset)
{
  struct qcow2_patch *q = (struct qcow2_patch *) k;

  if (offset > k->size || len > k->size - offset)
    return error ("%s: change at %" PRIu64 " runs past the disk", k->name,
                  offset);
  while (len > 0) {
    uint64_t in = offset & (q->cluster_size - 1);
    size_t n = q->cluster_size - in < len ? q->cluster_size - in : len;

    if (patch_cluster (q, offset >> q->cluster_bits, in, n, data) == -1)
      return -1;
    if (data)
      data += n;
    offset += n;
    len -= n;
  }
  return 0;
}

static int
patch_write (struct sink *k, const void *buf, size_t len, uint64_t offset)
{
  return patch_range (k, buf, len, offset);
}

static int
patch_zero (struct sink *k, uint64_t offset, uint64_t len)
{
  return patch_range (k, NULL, len, offset);
}

static int
patch_finish (struct sink *k)
{
  struct qcow2_patch *q = (struct qcow2_patch *) k;

  if (fdatasync (q->fd) == -1)
    return error_errno (errno, "%s: flush", k->name);
  return 0;
}

static void
patch_free (struct sink *k)
{
  struct qcow2_patch *q = (struct qcow2_patch *) k;

  if (q->fd >= 0)
    close (q->fd);
  free (q->l1);
  free (q->l2);
  free (q->rct);
  free (q->cluster);
  free (q->rcblock);
  free (q->k.name);
  free (q);
}

static const struct sink_ops patch_ops = {
  .write = patch_write,
  .zero = patch_zero,
  .finish = patch_finish,
  .free = patch_free,
};

/* Read and check the header; set up Q's geometry and tables. */
static int
open_header (struct qcow2_patch *q, uint64_t size)
{
  unsigned char h[QCOW2_V3_HEADER_LENGTH];
  uint32_t version, l1_size, rct_clusters;
  uint64_t needed_l1, file_size;
  struct stat st;

  if (fstat (q->fd, &st) == -1)
    return error_errno (errno, "%s", q->k.name);
  file_size = st.st_size;
  memset (h, 0, sizeof h);
  if (pread (q->fd, h, sizeof h, 0) < QCOW2_V2_HEADER_LENGTH
      || be32_get (h + QCOW2_OFF_MAGIC) != QCOW2_MAGIC)
    return error ("%s: not a qcow2 image", q->k.name);
  version = be32_get (h + QCOW2_OFF_VERSION);
  if (version != 2 && version != 3)
    return error ("%s: qcow2 version %" PRIu32 " cannot be changed in place",
                  q->k.name, version);
  if (be64_get (h + QCOW2_OFF_BACKING_FILE_OFFSET) != 0
      || be32_get (h + QCOW2_OFF_CRYPT_METHOD) != 0
      || be32_get (h + QCOW2_OFF_NB_SNAPSHOTS) != 0)
    return error ("%s: an image with a backing file, encryption or snapshots "
                  "cannot be changed in place",
                  q->k.name);
  if (version == 3
      && ((be64_get (h + QCOW2_OFF_INCOMPATIBLE_FEATURES)
           & ~QCOW2_INCOMPAT_COMPRESSION)
            != 0
          || be32_get (h + QCOW2_OFF_REFCOUNT_ORDER)
            != QCOW2_DEFAULT_REFCOUNT_ORDER))
    return error ("%s: an image with incompatible features (dirty, corrupt, "
                  "external data, extended L2) or refcounts other than "
                  "16 bits cannot be changed in place",
                  q->k.name);
  q->cluster_bits = be32_get (h + QCOW2_OFF_CLUSTER_BITS);
  if (q->cluster_bits < QCOW2_MIN_CLUSTER_BITS
      || q->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
    return damaged (q, "cluster size");
  q->cluster_size = 1ULL << q->cluster_bits;
  q->l2_entries = q->cluster_size / 8;
  q->rc_entries = q->cluster_size / PATCH_REFCOUNT_BYTES;
  if (be64_get (h + QCOW2_OFF_SIZE) != size)
    return error ("%s: a disk of %" PRIu64 " bytes, not %" PRIu64, q->k.name,
                  be64_get (h + QCOW2_OFF_SIZE), size);
  q->next_free = (file_size + q->cluster_size - 1) >> q->cluster_bits;

  l1_size = be32_get (h + QCOW2_OFF_L1_SIZE);
  needed_l1 = (size + (q->cluster_size * q->l2_entries) - 1)
    / (q->cluster_size * q->l2_entries);
  q->l1_offset = be64_get (h + QCOW2_OFF_L1_TABLE_OFFSET);
  if (l1_size < needed_l1 || (uint64_t) l1_size * 8 > PATCH_MAX_L1_BYTES
      || !host_ok (q, q->l1_offset))
    return damaged (q, "the L1 table");
  q->l1_size = l1_size;
  rct_clusters = be32_get (h + QCOW2_OFF_REFCOUNT_TABLE_CLUSTERS);
  q->rct_offset = be64_get (h + QCOW2_OFF_REFCOUNT_TABLE_OFFSET);
  if (rct_clusters == 0
      || (uint64_t) rct_clusters * q->cluster_size
        > PATCH_MAX_REFCOUNT_TABLE_BYTES
      || !host_ok (q, q->rct_offset))
    return damaged (q, "the refcount table");
  q->rct_len = (uint64_t) rct_clusters * q->cluster_size / 8;
  q->l1 = load_table (q, q->l1_offset, q->l1_size);
  if (q->l1 == NULL)
    return -1;
  q->rct = load_table (q, q->rct_offset, q->rct_len);
  if (q->rct == NULL)
    return -1;
  for (uint64_t i = 0; i < q->rct_len; i++)
    if (q->rct[i] && !host_ok (q, q->rct[i]))
      return damaged (q, "a refcount table entry");
  return 0;
}

struct sink *
qcow2_patch_open (const char *path, uint64_t size)
{
  struct qcow2_patch *q = calloc (1, sizeof *q);

  if (q == NULL) {
    error ("%s: out of memory", path);
    return NULL;
  }
  q->fd = -1;
  q->k.ops = &patch_ops;
  q->k.size = size;
  q->k.name = strdup (path);
  if (q->k.name == NULL) {
    error ("%s: out of memory", path);
    goto fail;
  }
  q->fd = open (path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (q->fd == -1) {
    error_errno (errno, "%s", path);
    goto fail;
  }
  if (open_header (q, size) == -1)
    goto fail;
  q->k.block_size = q->cluster_size;
  q->l2 = malloc (q->l2_entries * sizeof *q->l2);
  q->cluster = malloc (q->cluster_size);
  q->rcblock = malloc (q->cluster_size);
  if (q->l2 == NULL || q->cluster == NULL || q->rcblock == NULL) {
    error ("%s: out of memory", path);
    goto fail;
  }
  return &q->k;

fail:
  patch_free (&q->k);
  return NULL;
}
