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
 *
 * Checkpoints (qcow2_sink_checkpoint, see sink.h).  Since the writer only
 * appends, everything below next_cluster is final except the header
 * (cluster 0), the L1 table and the current window's refcount block, which
 * are written at finish() from memory.  A checkpoint therefore flushes the
 * file and saves what is in memory to NAME.part.state; resuming loads it
 * and cuts NAME.part back to next_cluster, dropping whatever was appended
 * after the checkpoint.  What was written after it below next_cluster
 * (packed compressed data after cbyte, the current refcount block, the L1
 * table) is written again or lies where the image points to nothing; a
 * finish() that got as far as writing the header has replaced the mark
 * (below), and the state no longer fits.
 *
 * The state file holds, all big-endian:
 *
 *   the fixed part (STATE_HEADER_LENGTH bytes): magic, version,
 *   cluster_bits, compression, level, size, next_offset, next_cluster,
 *   cbyte, l2_index, rc_window, rc_table_len, l1_size, bytes_written,
 *   part_id, extra_len, a reserved zero word;
 *   the first state_l2_count() entries of the current L2 table (the
 *   others are zero: they map guest clusters not reached yet);
 *   the refcounts of the current window's clusters below next_cluster
 *   (the others are zero: not allocated yet);
 *   rc_table_len refcount table entries;
 *   l2_index L1 entries (the others are zero: their tables come later);
 *   extra_len bytes of the caller's;
 *   the XXH3-64 of all the above.
 *
 * Cluster 0 of NAME.part, which only the header fills at the end, holds
 * from the first checkpoint until then a mark with a random part_id that
 * the state records too, so a state is never applied to another
 * NAME.part.
 */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>
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

/* The checkpoint state file (see the top of this file). */
#define STATE_MAGIC "P2VQCKPT"
#define STATE_MAGIC_LENGTH 8
#define STATE_VERSION 1
#define STATE_HEADER_LENGTH 112
#define STATE_CHECKSUM_LENGTH 8
#define STATE_TMP_SUFFIX ".tmp"

/* Compression as the state file records it. */
#define STATE_COMPRESS_NONE 0
#define STATE_COMPRESS_ZLIB 1
#define STATE_COMPRESS_ZSTD 2

/* The mark in cluster 0 of NAME.part: magic, then part_id. */
#define PART_MARK_MAGIC "P2VPART1"
#define PART_MARK_MAGIC_LENGTH 8
#define PART_MARK_LENGTH 16

struct qcow2_sink {
  struct sink k;                /* must be first */
  int fd;
  char *final_path;             /* NAME, symbolic links resolved; owned */
  char *tmp_path;               /* NAME.part, owned */
  struct sink_options opts;
  bool finished;
  bool broken;                  /* write(), zero() or finish() failed */

  /* Checkpoints. */
  char *state_path;             /* NAME.part.state, owned */
  char *state_tmp_path;         /* NAME.part.state.tmp, owned */
  uint64_t next_offset;         /* where the next write() or zero() starts */
  uint64_t part_id;             /* the mark in cluster 0 (see the top) */
  bool part_marked;             /* the mark is in the file */
  bool has_state;               /* NAME.part.state fits NAME.part */
  bool keep_partial;

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
  int level;                    /* as used: 0 replaced by the default */
  int level_asked;              /* as in qcow2_options, for the state */
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
write_clusters (struct qcow2_sink *q, const void *buf, size_t len,
                uint64_t offset)
{
  const unsigned char *p = buf;
  const unsigned char *run = NULL;      /* data not yet written */
  uint64_t run_host = 0, run_len = 0;
  uint64_t cs = q->cluster_size;
  uint64_t gc;
  int64_t host;
  size_t clen;

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

/* Check that a write() or zero() of LEN bytes at OFFSET may go ahead:
 * aligned, inside the disk, and where the previous one ended (sink.h
 * promises it; a resumed sink must not be given anything else).
 */
static int
check_range (struct qcow2_sink *q, const char *what, uint64_t len,
             uint64_t offset)
{
  uint64_t cs = q->cluster_size;

  if (q->finished || q->fd == -1)
    return error ("%s: %s after finish", q->k.name, what);
  if (offset % cs || offset > q->k.size || len > q->k.size - offset
      || (len % cs && offset + len != q->k.size))
    return error ("%s: unaligned %s of %" PRIu64 " bytes at offset %" PRIu64,
                  q->k.name, what, len, offset);
  if (offset != q->next_offset)
    return error ("%s: %s at offset %" PRIu64 ", expected at offset %" PRIu64,
                  q->k.name, what, offset, q->next_offset);
  return 0;
}

static int
qcow2_write (struct sink *k, const void *buf, size_t len, uint64_t offset)
{
  struct qcow2_sink *q = (struct qcow2_sink *) k;

  if (check_range (q, "write", len, offset) == -1
      || write_clusters (q, buf, len, offset) == -1) {
    q->broken = true;
    return -1;
  }
  q->next_offset = offset + len;
  return 0;
}

static int
qcow2_zero (struct sink *k, uint64_t offset, uint64_t len)
{
  struct qcow2_sink *q = (struct qcow2_sink *) k;

  /* Unallocated clusters read as zeros: nothing to write. */
  if (check_range (q, "zero range", len, offset) == -1) {
    q->broken = true;
    return -1;
  }
  q->next_offset = offset + len;
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

/* Remove FILE; that it is not there is fine. */
static int
remove_file (const char *file)
{
  if (file && unlink (file) == -1 && errno != ENOENT)
    return error_errno (errno, "%s: remove", file);
  return 0;
}

static int
finish (struct qcow2_sink *q)
{
  struct sink *k = &q->k;
  uint64_t rt_clusters, l1_clusters;
  int64_t rt_offset;
  int fd;

  if (q->finished || q->fd == -1)
    return error ("%s: finished already", k->name);
  if (q->next_offset != k->size)
    return error ("%s: finish at offset %" PRIu64 " of %" PRIu64, k->name,
                  q->next_offset, k->size);
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

  /* The header has replaced the mark: no state fits NAME.part any more.
   * Remove it before NAME appears, so that nothing of it outlives a
   * finished image (file_commit syncs the directory for both).
   */
  q->has_state = false;
  if (remove_file (q->state_path) == -1
      || remove_file (q->state_tmp_path) == -1)
    return -1;

  fd = q->fd;
  q->fd = -1;
  if (file_commit (fd, q->tmp_path, q->final_path, &q->opts) == -1)
    return -1;
  q->finished = true;
  return 0;
}

static int
qcow2_finish (struct sink *k)
{
  struct qcow2_sink *q = (struct qcow2_sink *) k;

  if (finish (q) == -1) {
    q->broken = true;
    return -1;
  }
  return 0;
}

static void
qcow2_free (struct sink *k)
{
  struct qcow2_sink *q = (struct qcow2_sink *) k;

  if (q->fd >= 0)
    close (q->fd);
  if (!q->finished) {
    /* A temporary state file is what a failed checkpoint left. */
    if (q->state_tmp_path)
      unlink (q->state_tmp_path);
    if (!(q->keep_partial && q->has_state)) {
      if (q->state_path)
        unlink (q->state_path);
      if (q->tmp_path)
        unlink (q->tmp_path);
    }
  }
  if (q->zs_ready)
    deflateEnd (&q->zs);
  ZSTD_freeCCtx (q->zctx);
  free (q->tmp_path);
  free (q->final_path);
  free (q->state_path);
  free (q->state_tmp_path);
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
  q->level_asked = o->level;
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

static uint64_t
l1_clusters (const struct qcow2_sink *q)
{
  return (q->l1_size * 8 + q->cluster_size - 1) >> q->cluster_bits;
}

/* The first cluster after the header, the refcount block of window 0 and
 * the L1 table.
 */
static uint64_t
first_data_cluster (const struct qcow2_sink *q)
{
  return 2 + l1_clusters (q);
}

/* A sink for a disk of SIZE bytes at PATH, with no file yet.  Returns
 * NULL with an error recorded.
 */
static struct qcow2_sink *
new_sink (const char *path, uint64_t size, const struct qcow2_options *qopts,
          const struct sink_options *opts)
{
  struct qcow2_options defaults = {
    .cluster_bits = QCOW2_DEFAULT_CLUSTER_BITS,
  };
  struct qcow2_sink *q;
  uint64_t per_l2;

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

  q->k.name = strdup (path);
  if (q->k.name == NULL)
    goto nomem;
  if (q->l1_size * 8 > QCOW2_MAX_L1_BYTES
      || first_data_cluster (q) > q->rc_entries) {
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
  q->l1_offset = 2ULL << q->cluster_bits;
  return q;

nomem:
  error ("%s: out of memory", path);
err:
  qcow2_free (&q->k);
  return NULL;
}

/* Name the state files after q->tmp_path. */
static int
set_state_paths (struct qcow2_sink *q)
{
  if (asprintf (&q->state_path, "%s%s", q->tmp_path, QCOW2_STATE_SUFFIX)
      == -1) {
    q->state_path = NULL;
    return error ("%s: out of memory", q->k.name);
  }
  if (asprintf (&q->state_tmp_path, "%s%s", q->state_path, STATE_TMP_SUFFIX)
      == -1) {
    q->state_tmp_path = NULL;
    return error ("%s: out of memory", q->k.name);
  }
  return 0;
}

/* A new part_id.  It only has to tell one NAME.part from another. */
static uint64_t
new_part_id (void)
{
  struct timespec ts;
  uint64_t id;

  if (getrandom (&id, sizeof id, GRND_NONBLOCK) == (ssize_t) sizeof id)
    return id;
  clock_gettime (CLOCK_REALTIME, &ts);
  return ((uint64_t) ts.tv_sec * 1000000000 + (uint64_t) ts.tv_nsec)
    ^ ((uint64_t) getpid () << 32);
}

struct sink *
qcow2_sink_create (const char *path, uint64_t size,
                   const struct qcow2_options *qopts,
                   const struct sink_options *opts)
{
  struct qcow2_sink *q;

  q = new_sink (path, size, qopts, opts);
  if (q == NULL)
    return NULL;

  /* Cluster 0: header; 1: refcount block of window 0; then L1. */
  q->rc_table[0] = 1ULL << q->cluster_bits;
  q->rc_table_len = 1;
  q->next_cluster = first_data_cluster (q);
  for (uint64_t c = 0; c < q->next_cluster; c++)
    q->rc[c] = 1;
  q->l2_index = 0;
  q->part_id = new_part_id ();

  q->fd = file_create_temp (path, opts->force, &q->final_path, &q->tmp_path);
  if (q->fd == -1)
    goto err;
  /* A state left by an earlier NAME.part does not fit this one. */
  if (set_state_paths (q) == -1 || remove_file (q->state_path) == -1
      || remove_file (q->state_tmp_path) == -1)
    goto err;
  return &q->k;

err:
  qcow2_free (&q->k);
  return NULL;
}

/* Checkpoints and resuming (see the top of this file and sink.h). */

static unsigned char *
put32 (unsigned char *p, uint32_t v)
{
  be32_put (p, v);
  return p + 4;
}

static unsigned char *
put64 (unsigned char *p, uint64_t v)
{
  be64_put (p, v);
  return p + 8;
}

static uint32_t
get32 (const unsigned char **p)
{
  uint32_t v = be32_get (*p);

  *p += 4;
  return v;
}

static uint64_t
get64 (const unsigned char **p)
{
  uint64_t v = be64_get (*p);

  *p += 8;
  return v;
}

static uint32_t
state_compression (enum qcow2_compression c)
{
  switch (c) {
  case QCOW2_COMPRESS_ZLIB:
    return STATE_COMPRESS_ZLIB;
  case QCOW2_COMPRESS_ZSTD:
    return STATE_COMPRESS_ZSTD;
  default:
    return STATE_COMPRESS_NONE;
  }
}

static const char *
state_compression_name (uint32_t c)
{
  switch (c) {
  case STATE_COMPRESS_NONE:
    return "no";
  case STATE_COMPRESS_ZLIB:
    return "zlib";
  case STATE_COMPRESS_ZSTD:
    return "zstd";
  default:
    return "unknown";
  }
}

/* How many leading entries of the current L2 table (index L2_INDEX) map
 * guest clusters below NEXT_OFFSET: the state holds those, the others are
 * zero.
 */
static uint64_t
state_l2_count (const struct qcow2_sink *q, uint64_t l2_index,
                uint64_t next_offset)
{
  uint64_t done
    = (next_offset >> q->cluster_bits) + (next_offset % q->cluster_size != 0);
  uint64_t first = l2_index * q->l2_entries;

  if (done <= first)
    return 0;
  return done - first < q->l2_entries ? done - first : q->l2_entries;
}

/* The length of a state file, from the values it records. */
static uint64_t
state_length (const struct qcow2_sink *q, uint64_t l2_index,
              uint64_t next_offset, uint64_t next_cluster, uint64_t rc_window,
              uint64_t rc_table_len, uint64_t extra_len)
{
  return STATE_HEADER_LENGTH + 8 * state_l2_count (q, l2_index, next_offset)
    + 2 * (next_cluster - rc_window * q->rc_entries) + 8 * rc_table_len
    + 8 * l2_index + extra_len + STATE_CHECKSUM_LENGTH;
}

/* The state of Q with the caller's EXTRA, in a new buffer of *LEN bytes
 * (caller frees), or NULL with an error recorded.
 */
static unsigned char *
build_state (const struct qcow2_sink *q, const void *extra, size_t extra_len,
             size_t *len)
{
  uint64_t l2_count = state_l2_count (q, q->l2_index, q->next_offset);
  uint64_t rc_first = q->rc_window * q->rc_entries;
  unsigned char *buf, *p;
  uint64_t i;

  *len = state_length (q, q->l2_index, q->next_offset, q->next_cluster,
                       q->rc_window, q->rc_table_len, extra_len);
  buf = malloc (*len);
  if (buf == NULL) {
    error ("%s: out of memory", q->k.name);
    return NULL;
  }
  p = buf;
  memcpy (p, STATE_MAGIC, STATE_MAGIC_LENGTH);
  p += STATE_MAGIC_LENGTH;
  p = put32 (p, STATE_VERSION);
  p = put32 (p, q->cluster_bits);
  p = put32 (p, state_compression (q->compression));
  p = put32 (p, (uint32_t) q->level_asked);
  p = put64 (p, q->k.size);
  p = put64 (p, q->next_offset);
  p = put64 (p, q->next_cluster);
  p = put64 (p, q->cbyte);
  p = put64 (p, q->l2_index);
  p = put64 (p, q->rc_window);
  p = put64 (p, q->rc_table_len);
  p = put64 (p, q->l1_size);
  p = put64 (p, q->k.bytes_written);
  p = put64 (p, q->part_id);
  p = put32 (p, extra_len);
  p = put32 (p, 0);
  for (i = 0; i < l2_count; i++)
    p = put64 (p, q->l2[i]);
  for (i = 0; i < q->next_cluster - rc_first; i++, p += 2)
    be16_put (p, q->rc[i]);
  for (i = 0; i < q->rc_table_len; i++)
    p = put64 (p, q->rc_table[i]);
  for (i = 0; i < q->l2_index; i++)
    p = put64 (p, q->l1[i]);
  if (extra_len > 0)
    memcpy (p, extra, extra_len);
  p += extra_len;
  put64 (p, XXH3_64bits (buf, p - buf));
  return buf;
}

/* Write BUF as the new NAME.part.state: all of it or nothing. */
static int
save_state (struct qcow2_sink *q, const unsigned char *buf, size_t len)
{
  const char *tmp = q->state_tmp_path;
  int fd, r = -1;

  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd == -1)
    return error_errno (errno, "%s: create", tmp);
  if (file_pwrite_all (fd, buf, len, 0) == -1) {
    error_prefix ("%s", tmp);
    goto out;
  }
  if (fsync (fd) == -1) {
    error_errno (errno, "%s: sync", tmp);
    goto out;
  }
  r = close (fd);
  fd = -1;
  if (r == -1) {
    error_errno (errno, "%s: close", tmp);
    goto out;
  }
  r = rename (tmp, q->state_path);
  if (r == -1) {
    error_errno (errno, "%s: rename to %s", tmp, q->state_path);
    goto out;
  }
  r = file_sync_dir (q->state_path);

out:
  if (fd >= 0)
    close (fd);
  if (r == -1)
    unlink (tmp);
  return r;
}

int
qcow2_sink_checkpoint (struct sink *k, const void *extra, size_t extra_len)
{
  struct qcow2_sink *q = (struct qcow2_sink *) k;
  unsigned char mark[PART_MARK_LENGTH];
  unsigned char *buf;
  size_t len;
  int r;

  if (k->ops != &qcow2_sink_ops)
    return error ("%s: only a qcow2 image can be checkpointed", k->name);
  if (q->finished || q->fd == -1)
    return error ("%s: checkpoint after finish", k->name);
  if (q->broken)
    return error ("%s: checkpoint after a failed write", k->name);
  if (extra_len > QCOW2_STATE_EXTRA_MAX)
    return error ("%s: checkpoint: %zu extra bytes, more than %d", k->name,
                  extra_len, QCOW2_STATE_EXTRA_MAX);

  if (!q->part_marked) {
    memcpy (mark, PART_MARK_MAGIC, PART_MARK_MAGIC_LENGTH);
    be64_put (mark + PART_MARK_MAGIC_LENGTH, q->part_id);
    if (file_pwrite_all (q->fd, mark, sizeof mark, 0) == -1)
      return error_prefix ("%s", q->tmp_path);
    q->part_marked = true;
  }
  /* Everything the state points to is on disk before the state is.  The
   * file reaches next_cluster, as resuming checks, even where the end of
   * the last cluster is not written yet (packed compressed data) or at
   * all (the current refcount block).
   */
  if (ftruncate (q->fd, (off_t) (q->next_cluster << q->cluster_bits)) == -1)
    return error_errno (errno, "%s: truncate", q->tmp_path);
  if (fdatasync (q->fd) == -1)
    return error_errno (errno, "%s: sync", q->tmp_path);

  buf = build_state (q, extra, extra_len, &len);
  if (buf == NULL)
    return -1;
  r = save_state (q, buf, len);
  free (buf);
  if (r == 0)
    q->has_state = true;
  return r;
}

void
qcow2_sink_keep_partial (struct sink *k)
{
  if (k && k->ops == &qcow2_sink_ops)
    ((struct qcow2_sink *) k)->keep_partial = true;
}

/* NAME, or the file it links to, and that with FILE_PART_SUFFIX: the names
 * file_create_temp() uses.  Both owned by the caller.
 */
static int
part_paths (const char *path, char **final_path, char **tmp_path)
{
  struct stat st;
  char *final = NULL;

  if (lstat (path, &st) == 0 && S_ISLNK (st.st_mode))
    final = realpath (path, NULL);
  if (final == NULL)
    final = strdup (path);
  if (final == NULL
      || asprintf (tmp_path, "%s%s", final, FILE_PART_SUFFIX) == -1) {
    free (final);
    return error ("%s: out of memory", path);
  }
  *final_path = final;
  return 0;
}

bool
qcow2_sink_can_resume (const char *path)
{
  char *final = NULL, *tmp = NULL, *state = NULL;
  struct stat st;
  bool r = false;

  if (part_paths (path, &final, &tmp) == -1)
    return false;
  if (asprintf (&state, "%s%s", tmp, QCOW2_STATE_SUFFIX) == -1)
    state = NULL;
  else
    r = stat (tmp, &st) == 0 && S_ISREG (st.st_mode) && stat (state, &st) == 0
      && S_ISREG (st.st_mode);
  free (final);
  free (tmp);
  free (state);
  return r;
}

static int
read_all (int fd, void *buf, size_t len, const char *name)
{
  unsigned char *p = buf;
  uint64_t off = 0;
  ssize_t r;

  while (len > 0) {
    r = pread (fd, p, len, off);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return error_errno (errno, "%s: read at offset %" PRIu64, name, off);
    }
    if (r == 0)
      return error ("%s: damaged: shorter than it was", name);
    p += r;
    len -= r;
    off += r;
  }
  return 0;
}

/* Read NAME.part.state whole into a new buffer of *LEN bytes (caller
 * frees), after checking its magic, version and checksum; PART_SIZE, the
 * length of NAME.part, bounds it.  Returns NULL with an error recorded.
 */
static unsigned char *
read_state (const struct qcow2_sink *q, uint64_t part_size, size_t *len)
{
  const char *sp = q->state_path;
  const unsigned char *p;
  unsigned char *buf = NULL;
  struct stat st;
  uint64_t max;
  uint32_t version;
  int fd;

  /* The largest state a NAME.part of PART_SIZE bytes can have: an L2
   * table, a refcount block, an L1 table and the caller's bytes at most,
   * and a refcount table entry per window of the smallest clusters.
   */
  max = STATE_HEADER_LENGTH + 2 * (1ULL << QCOW2_MAX_CLUSTER_BITS)
    + QCOW2_MAX_L1_BYTES + QCOW2_STATE_EXTRA_MAX + STATE_CHECKSUM_LENGTH
    + 8 * ((part_size >> (2 * QCOW2_MIN_CLUSTER_BITS - 1)) + 1);

  fd = open (sp, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    if (errno == ENOENT)
      error ("%s: nothing to resume (no %s)", q->k.name, sp);
    else
      error_errno (errno, "%s: open", sp);
    return NULL;
  }
  if (fstat (fd, &st) == -1) {
    error_errno (errno, "%s: stat", sp);
    goto err;
  }
  if (!S_ISREG (st.st_mode)) {
    error ("%s: not a regular file", sp);
    goto err;
  }
  if (st.st_size < STATE_HEADER_LENGTH + STATE_CHECKSUM_LENGTH) {
    error ("%s: damaged: only %" PRIu64 " bytes long", sp,
           (uint64_t) st.st_size);
    goto err;
  }
  if ((uint64_t) st.st_size > max) {
    error ("%s: damaged: %" PRIu64 " bytes long, more than a state of %s "
           "can be",
           sp, (uint64_t) st.st_size, q->tmp_path);
    goto err;
  }
  *len = st.st_size;
  buf = malloc (*len);
  if (buf == NULL) {
    error ("%s: out of memory", sp);
    goto err;
  }
  if (read_all (fd, buf, *len, sp) == -1)
    goto err;

  if (memcmp (buf, STATE_MAGIC, STATE_MAGIC_LENGTH) != 0) {
    error ("%s: not a p2vkit qcow2 state file", sp);
    goto err;
  }
  p = buf + STATE_MAGIC_LENGTH;
  version = get32 (&p);
  if (version != STATE_VERSION) {
    error ("%s: state version %" PRIu32 " is not supported (only %d)", sp,
           version, STATE_VERSION);
    goto err;
  }
  if (XXH3_64bits (buf, *len - STATE_CHECKSUM_LENGTH)
      != be64_get (buf + *len - STATE_CHECKSUM_LENGTH)) {
    error ("%s: damaged: checksum mismatch", sp);
    goto err;
  }
  close (fd);
  return buf;

err:
  free (buf);
  close (fd);
  return NULL;
}

/* Is HOST the offset of a cluster the writer has handed out for data or
 * an L2 table before NEXT_CLUSTER?
 */
static bool
valid_host (const struct qcow2_sink *q, uint64_t host, uint64_t next_cluster)
{
  uint64_t c = host >> q->cluster_bits;

  return host % q->cluster_size == 0 && c >= first_data_cluster (q)
    && c < next_cluster && c % q->rc_entries != 0;
}

static bool
valid_l2_entry (const struct qcow2_sink *q, uint64_t e, uint64_t next_cluster)
{
  unsigned x = 62 - (q->cluster_bits - 8);
  uint64_t off, sectors;

  if (e == 0)
    return true;
  if (e & QCOW2_OFLAG_COMPRESSED) {
    if (e & QCOW2_OFLAG_COPIED)
      return false;
    off = e & ((1ULL << x) - 1);
    sectors = (e & ~QCOW2_OFLAG_COMPRESSED) >> x;
    /* Less than a cluster of data, whose last sector lies below
     * next_cluster.
     */
    return off >> q->cluster_bits >= first_data_cluster (q)
      && sectors <= q->cluster_size / QCOW2_COMPRESSED_SECTOR_SIZE
      && off / QCOW2_COMPRESSED_SECTOR_SIZE + sectors
      < (next_cluster << q->cluster_bits) / QCOW2_COMPRESSED_SECTOR_SIZE;
  }
  return (e & QCOW2_OFLAG_COPIED)
    && valid_host (q, e & ~QCOW2_OFLAG_COPIED, next_cluster);
}

/* Check the state in BUF (LEN bytes, checksum verified) against what the
 * caller asked for and against NAME.part (PART_SIZE bytes), and load it
 * into Q, which new_sink() made.  The caller's bytes are left in BUF:
 * *EXTRA points to them, *EXTRA_LEN (at most EXTRA_CAP) says how many.
 * Returns 0, or -1 with an error recorded.
 */
static int
load_state (struct qcow2_sink *q, const unsigned char *buf, size_t len,
            uint64_t part_size, size_t extra_cap, const unsigned char **extra,
            size_t *extra_len)
{
  const char *sp = q->state_path;
  const unsigned char *p = buf + STATE_MAGIC_LENGTH + 4;
  uint32_t cluster_bits, compression, level, n_extra, reserved;
  uint64_t size, next_offset, next_cluster, cbyte, l2_index, rc_window;
  uint64_t rc_table_len, l1_size, bytes_written, part_id;
  uint64_t per_l2, l2_count, rc_first, want, e, i;
  uint64_t *t;

  cluster_bits = get32 (&p);
  compression = get32 (&p);
  level = get32 (&p);
  size = get64 (&p);
  next_offset = get64 (&p);
  next_cluster = get64 (&p);
  cbyte = get64 (&p);
  l2_index = get64 (&p);
  rc_window = get64 (&p);
  rc_table_len = get64 (&p);
  l1_size = get64 (&p);
  bytes_written = get64 (&p);
  part_id = get64 (&p);
  n_extra = get32 (&p);
  reserved = get32 (&p);

  /* What the caller asks for must be what the state was saved for. */
  if (size != q->k.size)
    return error ("%s: saved for a disk of %" PRIu64 " bytes, not %" PRIu64, sp,
                  size, q->k.size);
  if (cluster_bits != q->cluster_bits) {
    if (cluster_bits < QCOW2_MIN_CLUSTER_BITS
        || cluster_bits > QCOW2_MAX_CLUSTER_BITS)
      return error ("%s: damaged: cluster bits %" PRIu32, sp, cluster_bits);
    return error ("%s: saved for %llu-byte clusters, not %" PRIu64, sp,
                  1ULL << cluster_bits, q->cluster_size);
  }
  if (compression != state_compression (q->compression))
    return error ("%s: saved with %s compression, not %s", sp,
                  state_compression_name (compression),
                  state_compression_name (state_compression (q->compression)));
  if ((int32_t) level != q->level_asked)
    return error ("%s: saved with compression level %" PRId32 ", not %d", sp,
                  (int32_t) level, q->level_asked);

  /* The rest must be a state this writer can have been in. */
  per_l2 = q->l2_entries << q->cluster_bits;
  if (l1_size != q->l1_size)
    return error ("%s: damaged: L1 size %" PRIu64 " for a disk of %" PRIu64
                  " bytes",
                  sp, l1_size, size);
  if (next_offset > size
      || (next_offset % q->cluster_size && next_offset != size))
    return error ("%s: damaged: next guest offset %" PRIu64, sp, next_offset);
  if (next_cluster > part_size >> q->cluster_bits)
    return error ("%s: holds %" PRIu64 " bytes, fewer than its state %s "
                  "records",
                  q->tmp_path, part_size, sp);
  if (next_cluster < first_data_cluster (q))
    return error ("%s: damaged: next cluster %" PRIu64, sp, next_cluster);
  if (rc_window != (next_cluster - 1) / q->rc_entries
      || rc_table_len != rc_window + 1)
    return error ("%s: damaged: refcount window %" PRIu64 " of %" PRIu64
                  " at cluster %" PRIu64,
                  sp, rc_window, rc_table_len, next_cluster);
  if (cbyte != 0
      && (cbyte >> q->cluster_bits != next_cluster - 1
          || cbyte % q->cluster_size == 0
          || cbyte >> q->cluster_bits < first_data_cluster (q)))
    return error ("%s: damaged: compressed data offset %" PRIu64, sp, cbyte);
  if ((l1_size == 0 ? l2_index != 0 : l2_index >= l1_size)
      || (l2_index > 0 && l2_index * per_l2 >= next_offset))
    return error ("%s: damaged: L2 table index %" PRIu64, sp, l2_index);
  if (n_extra > QCOW2_STATE_EXTRA_MAX || reserved != 0)
    return error ("%s: damaged: header", sp);
  want = state_length (q, l2_index, next_offset, next_cluster, rc_window,
                       rc_table_len, n_extra);
  if (len != want)
    return error ("%s: damaged: %zu bytes long, not %" PRIu64, sp, len, want);
  if (n_extra > extra_cap)
    return error ("%s: holds %" PRIu32 " bytes of the caller's, more than "
                  "the %zu expected",
                  sp, n_extra, extra_cap);

  /* The tables, each entry checked before it is used. */
  l2_count = state_l2_count (q, l2_index, next_offset);
  for (i = 0; i < l2_count; i++) {
    e = get64 (&p);
    if (!valid_l2_entry (q, e, next_cluster))
      return error ("%s: damaged: L2 entry %" PRIu64 " is %#" PRIx64, sp, i, e);
    q->l2[i] = e;
    if (e != 0)
      q->l2_used = true;
  }
  rc_first = rc_window * q->rc_entries;
  for (i = 0; i < next_cluster - rc_first; i++, p += 2) {
    q->rc[i] = (uint16_t) (p[0] << 8 | p[1]);
    if (q->rc[i] == 0)
      return error ("%s: damaged: no refcount for cluster %" PRIu64, sp,
                    rc_first + i);
  }
  if (rc_table_len > q->rc_table_cap) {
    t = realloc (q->rc_table, rc_table_len * sizeof *t);
    if (t == NULL)
      return error ("%s: out of memory", q->k.name);
    q->rc_table = t;
    q->rc_table_cap = rc_table_len;
  }
  for (i = 0; i < rc_table_len; i++) {
    /* Window 0 has its block in cluster 1, every other in its first. */
    e = get64 (&p);
    if (e != (i == 0 ? 1 : i * q->rc_entries) << q->cluster_bits)
      return error (
        "%s: damaged: refcount table entry %" PRIu64 " is %#" PRIx64, sp, i, e);
    q->rc_table[i] = e;
  }
  for (i = 0; i < l2_index; i++) {
    e = get64 (&p);
    if (e != 0
        && !((e & QCOW2_OFLAG_COPIED)
             && valid_host (q, e & ~QCOW2_OFLAG_COPIED, next_cluster)))
      return error ("%s: damaged: L1 entry %" PRIu64 " is %#" PRIx64, sp, i, e);
    q->l1[i] = e;
  }
  *extra = p;
  *extra_len = n_extra;

  q->next_offset = next_offset;
  q->next_cluster = next_cluster;
  q->cbyte = cbyte;
  q->l2_index = l2_index;
  q->rc_window = rc_window;
  q->rc_table_len = rc_table_len;
  q->k.bytes_written = bytes_written;
  q->part_id = part_id;
  return 0;
}

/* Check that NAME.part bears the mark of the state's part_id. */
static int
check_part_mark (struct qcow2_sink *q)
{
  unsigned char mark[PART_MARK_LENGTH];
  ssize_t r;

  do
    r = pread (q->fd, mark, sizeof mark, 0);
  while (r == -1 && errno == EINTR);
  if (r == -1)
    return error_errno (errno, "%s: read at offset 0", q->tmp_path);
  if (r != (ssize_t) sizeof mark
      || memcmp (mark, PART_MARK_MAGIC, PART_MARK_MAGIC_LENGTH) != 0
      || be64_get (mark + PART_MARK_MAGIC_LENGTH) != q->part_id)
    return error ("%s: not the file %s was saved for", q->tmp_path,
                  q->state_path);
  return 0;
}

struct sink *
qcow2_sink_resume (const char *path, uint64_t size,
                   const struct qcow2_options *qopts,
                   const struct sink_options *opts, uint64_t *offset,
                   void *extra, size_t *extra_len)
{
  size_t extra_cap = extra_len ? *extra_len : 0;
  const unsigned char *saved_extra = NULL;
  size_t n_extra = 0, len;
  unsigned char *buf = NULL;
  struct qcow2_sink *q;
  struct stat st;

  q = new_sink (path, size, qopts, opts);
  if (q == NULL)
    return NULL;
  /* Until everything has worked, the files are not this sink's to remove. */
  q->keep_partial = true;
  q->has_state = true;

  /* The checks of file_create_temp(), which made NAME.part. */
  if (stat (path, &st) == 0) {
    if (!S_ISREG (st.st_mode)) {
      error ("%s: exists and is not a regular file", path);
      goto err;
    }
    if (!opts->force) {
      error ("%s: already exists (use --force to replace it)", path);
      goto err;
    }
  }
  if (part_paths (path, &q->final_path, &q->tmp_path) == -1
      || set_state_paths (q) == -1)
    goto err;

  q->fd = open (q->tmp_path, O_RDWR | O_CLOEXEC);
  if (q->fd == -1) {
    if (errno == ENOENT)
      error ("%s: nothing to resume (no %s)", path, q->tmp_path);
    else
      error_errno (errno, "%s: open", q->tmp_path);
    goto err;
  }
  if (fstat (q->fd, &st) == -1) {
    error_errno (errno, "%s: stat", q->tmp_path);
    goto err;
  }
  if (!S_ISREG (st.st_mode)) {
    error ("%s: not a regular file", q->tmp_path);
    goto err;
  }
  buf = read_state (q, st.st_size, &len);
  if (buf == NULL
      || load_state (q, buf, len, st.st_size, extra_cap, &saved_extra, &n_extra)
        == -1
      || check_part_mark (q) == -1)
    goto err;
  q->part_marked = true;

  /* Drop what was appended after the checkpoint: it comes again. */
  if (ftruncate (q->fd, (off_t) (q->next_cluster << q->cluster_bits)) == -1) {
    error_errno (errno, "%s: truncate", q->tmp_path);
    goto err;
  }
  if (n_extra > 0)
    memcpy (extra, saved_extra, n_extra);
  if (extra_len)
    *extra_len = n_extra;
  *offset = q->next_offset;
  q->keep_partial = false;
  free (buf);
  return &q->k;

err:
  free (buf);
  qcow2_free (&q->k);
  return NULL;
}
