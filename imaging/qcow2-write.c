/* p2vkit imaging engine: the streaming qcow2 writer.
 *
 * The disk arrives front to back (see sink.h), so the image is laid out
 * the way it arrives, and nothing is ever read back or rewritten except the
 * header, the L1 table and the last refcount block at the end:
 *
 *   cluster 0          header (written last, so a half-written image has
 *                      no valid magic)
 *   cluster 1          refcount block of refcount window 0
 *   clusters 2..       L1 table (fixed size, written last)
 *   then, appended in order: data clusters (or packed compressed data),
 *   each L2 table after the data it maps, the refcount block of each
 *   later window, and at the end the refcount table.
 *
 * Refcounts.  A refcount block of 16-bit counts covers a "window" of
 * cluster_size / 2 host clusters.  Host clusters are handed out in
 * increasing order, so only the current window's counts are kept in
 * memory.  The first cluster of every window after window 0 is reserved
 * for that window's own refcount block, which is written when allocation
 * moves on to the next window.  Memory use is therefore a few clusters
 * plus the L1 table and the refcount table, whatever the disk size.
 *
 * Zero clusters are left unallocated: with no backing file they read as
 * zeros.  A whole L2 table of them is not written at all.
 */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "error.h"
#include "file.h"
#include "qcow2.h"

/* QEMU refuses L1 tables larger than this; so do we. */
#define QCOW2_MAX_L1_BYTES (32 * 1024 * 1024)

/* zlib's raw deflate window, as QEMU uses for compressed clusters. */
#define QCOW2_ZLIB_WINDOW_BITS (-12)
#define QCOW2_ZLIB_MEM_LEVEL 9

#define REFCOUNT_MAX UINT16_MAX

struct qcow2_sink {
  struct sink k;                /* must be first */
  int fd;
  char *final_path;             /* NAME, symbolic links resolved; owned */
  char *tmp_path;               /* NAME.part, owned */
  struct sink_options opts;
  bool finished;

  unsigned cluster_bits;
  uint64_t cluster_size;
  uint64_t l2_entries;          /* entries per L2 table */

  uint64_t *l1;                 /* host byte order */
  uint64_t l1_size;             /* entries */
  uint64_t l1_offset;

  uint64_t *l2;                 /* the L2 table being filled */
  uint64_t l2_index;            /* its index in L1 */
  bool l2_used;                 /* it maps at least one cluster */

  uint64_t next_cluster;        /* next free host cluster */
  /* Where packed compressed data goes next; 0 when no cluster is open. */
  uint64_t cbyte;

  uint64_t rc_entries;          /* refcounts per refcount block */
  uint64_t rc_window;           /* the window being counted */
  uint16_t *rc;                 /* its counts */
  uint64_t *rc_table;           /* host offset of each window's block */
  size_t rc_table_len;
  size_t rc_table_cap;

  enum qcow2_compression compression;
  int level;
  z_stream zs;
  bool zs_ready;
  ZSTD_CCtx *zctx;
  unsigned char *cbuf;          /* compressed output, one cluster */
  unsigned char *meta;          /* a metadata cluster being written */
  unsigned char *pad;           /* a zero-padded last cluster */
};

static int
write_at (struct qcow2_sink *q, const void *buf, size_t len, uint64_t off)
{
  if (file_pwrite_all (q->fd, buf, len, off) == -1)
    return error_prefix ("%s", q->tmp_path);
  q->k.bytes_written += len;
  return 0;
}

/* Write the current window's refcount block to its place. */
static int
write_refcount_block (struct qcow2_sink *q)
{
  unsigned char *buf = q->meta;
  uint64_t i;

  for (i = 0; i < q->rc_entries; i++)
    be16_put (buf + 2 * i, q->rc[i]);
  return write_at (q, buf, q->cluster_size, q->rc_table[q->rc_window]);
}

/* Allocation has reached cluster C, the first of a new window: write the
 * finished window's block and start counting the new one, whose own block
 * takes cluster C.
 */
static int
start_window (struct qcow2_sink *q, uint64_t c)
{
  uint64_t *t;

  if (write_refcount_block (q) == -1)
    return -1;
  q->rc_window = c / q->rc_entries;
  if (q->rc_window >= q->rc_table_cap) {
    size_t cap = q->rc_table_cap * 2;

    while (cap <= q->rc_window)
      cap *= 2;
    t = realloc (q->rc_table, cap * sizeof *t);
    if (t == NULL)
      return error ("%s: out of memory", q->k.name);
    memset (t + q->rc_table_cap, 0, (cap - q->rc_table_cap) * sizeof *t);
    q->rc_table = t;
    q->rc_table_cap = cap;
  }
  q->rc_table[q->rc_window] = c << q->cluster_bits;
  q->rc_table_len = q->rc_window + 1;
  memset (q->rc, 0, q->rc_entries * sizeof *q->rc);
  q->rc[0] = 1;
  return 0;
}

/* Allocate N contiguous host clusters (N < rc_entries) and count them.
 * Returns the host offset of the first, or -1.  Closes any open cluster of
 * packed compressed data.
 */
static int64_t
alloc_clusters (struct qcow2_sink *q, uint64_t n)
{
  uint64_t c = q->next_cluster;
  uint64_t i;

  q->cbyte = 0;
  if (c / q->rc_entries != (c + n - 1) / q->rc_entries) {
    /* The run would straddle a window start: begin it after the start. */
    c = (c / q->rc_entries + 1) * q->rc_entries;
  }
  if (c % q->rc_entries == 0 && c > 0) {
    if (start_window (q, c) == -1)
      return -1;
    c++;
  }
  for (i = 0; i < n; i++)
    q->rc[(c + i) % q->rc_entries]++;
  q->next_cluster = c + n;
  return (int64_t) (c << q->cluster_bits);
}

static int
flush_l2 (struct qcow2_sink *q)
{
  unsigned char *buf = q->meta;
  int64_t host;
  uint64_t i;

  if (!q->l2_used)
    return 0;
  host = alloc_clusters (q, 1);
  if (host == -1)
    return -1;
  for (i = 0; i < q->l2_entries; i++)
    be64_put (buf + 8 * i, q->l2[i]);
  if (write_at (q, buf, q->cluster_size, host) == -1)
    return -1;
  q->l1[q->l2_index] = (uint64_t) host | QCOW2_OFLAG_COPIED;
  memset (q->l2, 0, q->cluster_size);
  q->l2_used = false;
  return 0;
}

/* Map guest cluster GC to L2 entry ENTRY. */
static int
set_l2 (struct qcow2_sink *q, uint64_t gc, uint64_t entry)
{
  uint64_t idx = gc / q->l2_entries;

  if (idx != q->l2_index) {
    if (flush_l2 (q) == -1)
      return -1;
    q->l2_index = idx;
  }
  q->l2[gc % q->l2_entries] = entry;
  q->l2_used = true;
  return 0;
}

/* Compress one cluster into q->cbuf.  Returns the compressed length, or 0
 * when it does not get smaller than a cluster (then it is stored as is).
 */
static size_t
compress_cluster (struct qcow2_sink *q, const void *buf)
{
  size_t out_max = q->cluster_size - 1;
  size_t r;

  if (q->compression == QCOW2_COMPRESS_ZSTD) {
    r = ZSTD_compressCCtx (q->zctx, q->cbuf, out_max, buf, q->cluster_size,
                           q->level);
    return ZSTD_isError (r) ? 0 : r;
  }

  deflateReset (&q->zs);
  q->zs.next_in = (unsigned char *) buf;
  q->zs.avail_in = q->cluster_size;
  q->zs.next_out = q->cbuf;
  q->zs.avail_out = out_max;
  if (deflate (&q->zs, Z_FINISH) != Z_STREAM_END)
    return 0;
  return out_max - q->zs.avail_out;
}

/* Place LEN bytes of compressed data, packed after the previous ones.
 * Returns the host byte offset, or -1.
 */
static int64_t
alloc_compressed (struct qcow2_sink *q, size_t len)
{
  uint64_t off = q->cbyte;
  uint64_t cs = q->cluster_size;
  uint64_t cur = off >> q->cluster_bits;
  int64_t next;

  if (off == 0 || q->rc[cur % q->rc_entries] >= REFCOUNT_MAX - 1) {
    next = alloc_clusters (q, 1);
    if (next == -1)
      return -1;
    off = next;
  }
  else if (off % cs + len <= cs)
    q->rc[cur % q->rc_entries]++;
  else {
    /* It runs into the next cluster.  If that one comes straight after,
     * the data straddles both; otherwise it starts in the new one.
     */
    next = alloc_clusters (q, 1);
    if (next == -1)
      return -1;
    if ((uint64_t) next == (cur + 1) * cs)
      q->rc[cur % q->rc_entries]++;
    else
      off = next;
  }
  q->cbyte = (off + len) % cs ? off + len : 0;
  return (int64_t) off;
}

/* Write the CLEN bytes in q->cbuf as guest cluster GC. */
static int
write_compressed (struct qcow2_sink *q, uint64_t gc, size_t clen)
{
  unsigned x = 62 - (q->cluster_bits - 8);
  uint64_t sectors;
  int64_t off;

  off = alloc_compressed (q, clen);
  if (off == -1 || write_at (q, q->cbuf, clen, off) == -1)
    return -1;
  sectors = (((uint64_t) off + clen - 1) / QCOW2_COMPRESSED_SECTOR_SIZE)
    - ((uint64_t) off / QCOW2_COMPRESSED_SECTOR_SIZE);
  return set_l2 (q, gc, QCOW2_OFLAG_COMPRESSED | sectors << x | (uint64_t) off);
}

static int
qcow2_write (struct sink *k, const void *buf, size_t len, uint64_t offset)
{
  struct qcow2_sink *q = (struct qcow2_sink *) k;
  const unsigned char *p = buf;
  const unsigned char *run = NULL;      /* data not yet written */
  uint64_t run_host = 0, run_len = 0;
  uint64_t cs = q->cluster_size;
  uint64_t gc;
  int64_t host;
  size_t clen;

  if (offset % cs || offset + len > k->size
      || (len % cs && offset + len != k->size))
    return error ("%s: unaligned write of %zu bytes at offset %" PRIu64,
                  k->name, len, offset);

  for (gc = offset >> q->cluster_bits; len > 0; gc++) {
    const unsigned char *cluster = p;
    size_t n = len < cs ? len : cs;

    if (n < cs) {               /* the last, partial cluster */
      memcpy (q->pad, p, n);
      memset (q->pad + n, 0, cs - n);
      cluster = q->pad;
    }

    clen = q->compression != QCOW2_COMPRESS_NONE ? compress_cluster (q, cluster)
                                                 : 0;
    if (clen > 0) {
      if (write_compressed (q, gc, clen) == -1)
        return -1;
    }
    else {
      host = alloc_clusters (q, 1);
      if (host == -1)
        return -1;
      if (run_len > 0 && (uint64_t) host != run_host + run_len) {
        if (write_at (q, run, run_len, run_host) == -1)
          return -1;
        run_len = 0;
      }
      if (cluster == q->pad) {  /* partial: cannot join a run */
        if (run_len > 0 && write_at (q, run, run_len, run_host) == -1)
          return -1;
        run_len = 0;
        if (write_at (q, q->pad, cs, host) == -1)
          return -1;
      }
      else if (run_len == 0) {
        run = p;
        run_host = host;
        run_len = cs;
      }
      else
        run_len += cs;
      if (set_l2 (q, gc, (uint64_t) host | QCOW2_OFLAG_COPIED) == -1)
        return -1;
    }
    p += n;
    len -= n;
  }
  if (run_len > 0 && write_at (q, run, run_len, run_host) == -1)
    return -1;
  return 0;
}

static int
qcow2_zero (struct sink *k, uint64_t offset, uint64_t len)
{
  /* Unallocated clusters read as zeros: nothing to write. */
  if (offset % k->block_size || offset + len > k->size
      || (len % k->block_size && offset + len != k->size))
    return error ("%s: unaligned zero range of %" PRIu64 " bytes at offset "
                  "%" PRIu64,
                  k->name, len, offset);
  return 0;
}

static int
write_header (struct qcow2_sink *q, uint64_t rc_table_offset,
              uint64_t rc_table_clusters)
{
  unsigned char *h = q->meta;
  uint64_t incompat = 0;
  unsigned char ctype = QCOW2_COMPRESSION_TYPE_ZLIB;

  if (q->compression == QCOW2_COMPRESS_ZSTD) {
    incompat |= QCOW2_INCOMPAT_COMPRESSION;
    ctype = QCOW2_COMPRESSION_TYPE_ZSTD;
  }
  memset (h, 0, q->cluster_size);
  be32_put (h + QCOW2_OFF_MAGIC, QCOW2_MAGIC);
  be32_put (h + QCOW2_OFF_VERSION, 3);
  be32_put (h + QCOW2_OFF_CLUSTER_BITS, q->cluster_bits);
  be64_put (h + QCOW2_OFF_SIZE, q->k.size);
  be32_put (h + QCOW2_OFF_L1_SIZE, q->l1_size);
  be64_put (h + QCOW2_OFF_L1_TABLE_OFFSET, q->l1_offset);
  be64_put (h + QCOW2_OFF_REFCOUNT_TABLE_OFFSET, rc_table_offset);
  be32_put (h + QCOW2_OFF_REFCOUNT_TABLE_CLUSTERS, rc_table_clusters);
  be64_put (h + QCOW2_OFF_INCOMPATIBLE_FEATURES, incompat);
  be32_put (h + QCOW2_OFF_REFCOUNT_ORDER, QCOW2_DEFAULT_REFCOUNT_ORDER);
  be32_put (h + QCOW2_OFF_HEADER_LENGTH, QCOW2_V3_HEADER_LENGTH_COMPRESSION);
  h[QCOW2_OFF_COMPRESSION_TYPE] = ctype;
  /* The header extension area that follows holds only the end marker,
   * which is all zeros.
   */
  return write_at (q, h, q->cluster_size, 0);
}

static int
write_table (struct qcow2_sink *q, const uint64_t *t, uint64_t n,
             uint64_t clusters, uint64_t off)
{
  uint64_t bytes = clusters << q->cluster_bits;
  unsigned char *buf;
  uint64_t i;
  int r;

  buf = calloc (1, bytes);
  if (buf == NULL)
    return error ("%s: out of memory", q->k.name);
  for (i = 0; i < n; i++)
    be64_put (buf + 8 * i, t[i]);
  r = write_at (q, buf, bytes, off);
  free (buf);
  return r;
}

static int
qcow2_finish (struct sink *k)
{
  struct qcow2_sink *q = (struct qcow2_sink *) k;
  uint64_t rt_clusters, l1_clusters;
  int64_t rt_offset;
  int fd;

  if (flush_l2 (q) == -1)
    return -1;

  /* The refcount table goes last.  Allocating it can start at most one
   * more window, so room for one more entry is enough.
   */
  rt_clusters
    = ((q->rc_window + 2) * 8 + q->cluster_size - 1) >> q->cluster_bits;
  if (rt_clusters >= q->rc_entries)
    return error ("%s: image too large for its cluster size", k->name);
  rt_offset = alloc_clusters (q, rt_clusters);
  if (rt_offset == -1 || write_refcount_block (q) == -1)
    return -1;
  if (write_table (q, q->rc_table, q->rc_table_len, rt_clusters, rt_offset)
      == -1)
    return -1;

  l1_clusters = (q->l1_size * 8 + q->cluster_size - 1) >> q->cluster_bits;
  if (l1_clusters > 0
      && write_table (q, q->l1, q->l1_size, l1_clusters, q->l1_offset) == -1)
    return -1;

  if (ftruncate (q->fd, q->next_cluster << q->cluster_bits) == -1)
    return error_errno (errno, "%s: truncate", q->tmp_path);
  if (write_header (q, rt_offset, rt_clusters) == -1)
    return -1;

  fd = q->fd;
  q->fd = -1;
  if (file_commit (fd, q->tmp_path, q->final_path, &q->opts) == -1)
    return -1;
  q->finished = true;
  return 0;
}

static void
qcow2_free (struct sink *k)
{
  struct qcow2_sink *q = (struct qcow2_sink *) k;

  if (q->fd >= 0)
    close (q->fd);
  if (!q->finished && q->tmp_path)
    unlink (q->tmp_path);
  if (q->zs_ready)
    deflateEnd (&q->zs);
  ZSTD_freeCCtx (q->zctx);
  free (q->tmp_path);
  free (q->final_path);
  free (q->k.name);
  free (q->l1);
  free (q->l2);
  free (q->rc);
  free (q->rc_table);
  free (q->cbuf);
  free (q->meta);
  free (q->pad);
  free (q);
}

static const struct sink_ops qcow2_sink_ops = {
  .write = qcow2_write,
  .zero = qcow2_zero,
  .finish = qcow2_finish,
  .free = qcow2_free,
};

static int
setup_compression (struct qcow2_sink *q, const struct qcow2_options *o)
{
  q->compression = o->compression;
  q->level = o->level;
  if (o->compression == QCOW2_COMPRESS_ZSTD) {
    q->zctx = ZSTD_createCCtx ();
    if (q->zctx == NULL)
      return error ("%s: out of memory", q->k.name);
    if (q->level == 0)
      q->level = ZSTD_CLEVEL_DEFAULT;
  }
  else if (o->compression == QCOW2_COMPRESS_ZLIB) {
    if (deflateInit2 (&q->zs, q->level ? q->level : Z_DEFAULT_COMPRESSION,
                      Z_DEFLATED, QCOW2_ZLIB_WINDOW_BITS, QCOW2_ZLIB_MEM_LEVEL,
                      Z_DEFAULT_STRATEGY)
        != Z_OK)
      return error ("%s: cannot set up zlib compression", q->k.name);
    q->zs_ready = true;
  }
  return 0;
}

struct sink *
qcow2_sink_create (const char *path, uint64_t size,
                   const struct qcow2_options *qopts,
                   const struct sink_options *opts)
{
  struct qcow2_options defaults = {
    .cluster_bits = QCOW2_DEFAULT_CLUSTER_BITS,
  };
  struct qcow2_sink *q;
  uint64_t l1_clusters, per_l2;

  if (qopts == NULL)
    qopts = &defaults;
  if (qopts->cluster_bits < QCOW2_MIN_CLUSTER_BITS
      || qopts->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
    error ("%s: cluster size must be a power of two from %u to %u bytes", path,
           1U << QCOW2_MIN_CLUSTER_BITS, 1U << QCOW2_MAX_CLUSTER_BITS);
    return NULL;
  }

  q = calloc (1, sizeof *q);
  if (q == NULL) {
    error ("%s: out of memory", path);
    return NULL;
  }
  q->fd = -1;
  q->k.ops = &qcow2_sink_ops;
  q->k.size = size;
  q->opts = *opts;
  q->cluster_bits = qopts->cluster_bits;
  q->cluster_size = 1ULL << q->cluster_bits;
  q->k.block_size = q->cluster_size;
  q->l2_entries = q->cluster_size / 8;
  q->rc_entries = q->cluster_size * 8 / (1U << QCOW2_DEFAULT_REFCOUNT_ORDER);
  per_l2 = q->l2_entries << q->cluster_bits;
  q->l1_size = size / per_l2 + (size % per_l2 != 0);
  l1_clusters = (q->l1_size * 8 + q->cluster_size - 1) >> q->cluster_bits;

  q->k.name = strdup (path);
  if (q->k.name == NULL)
    goto nomem;
  if (q->l1_size * 8 > QCOW2_MAX_L1_BYTES || l1_clusters + 2 > q->rc_entries) {
    error ("%s: a disk of %" PRIu64 " bytes is too large for %" PRIu64
           "-byte clusters",
           path, size, q->cluster_size);
    goto err;
  }

  q->l1 = calloc (q->l1_size ? q->l1_size : 1, sizeof *q->l1);
  q->l2 = calloc (1, q->cluster_size);
  q->rc = calloc (q->rc_entries, sizeof *q->rc);
  q->rc_table_cap = 16;
  q->rc_table = calloc (q->rc_table_cap, sizeof *q->rc_table);
  q->cbuf = malloc (q->cluster_size);
  q->meta = malloc (q->cluster_size);
  q->pad = malloc (q->cluster_size);
  if (!q->l1 || !q->l2 || !q->rc || !q->rc_table || !q->cbuf || !q->meta
      || !q->pad)
    goto nomem;
  if (setup_compression (q, qopts) == -1)
    goto err;

  /* Cluster 0: header; 1: refcount block of window 0; then L1. */
  q->rc_table[0] = 1ULL << q->cluster_bits;
  q->rc_table_len = 1;
  q->l1_offset = 2ULL << q->cluster_bits;
  q->next_cluster = 2 + l1_clusters;
  for (uint64_t c = 0; c < q->next_cluster; c++)
    q->rc[c] = 1;
  q->l2_index = 0;

  q->fd = file_create_temp (path, opts->force, &q->final_path,
                              &q->tmp_path);
  if (q->fd == -1)
    goto err;
  return &q->k;

nomem:
  error ("%s: out of memory", path);
err:
  qcow2_free (&q->k);
  return NULL;
}
