/* Unit tests of resuming a qcow2 image (qcow2_sink_checkpoint and
 * qcow2_sink_resume) and of saving a digest part way (digest_save and
 * digest_restore).  Run by tests/t-qcow2-resume.sh with a scratch
 * directory as the current directory.  Prints a line per failed check;
 * exit 0 if all passed, 1 otherwise.
 *
 * It leaves, for the script to check with qemu-img: one finished image
 * per variant, resume-cBITS-COMPRESSION.qcow2, each written through two
 * simulated crashes, and resume-ref.raw, the disk they all hold.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "check.h"
#include "copy.h"
#include "digest.h"
#include "error.h"
#include "qcow2.h"
#include "sink.h"
#include "source.h"

/* The disk every variant writes: a few MiB and a few sectors, so that the
 * last cluster is partial for every cluster size above 512 bytes.
 */
#define DISK_SIZE (6 * 1024 * 1024 + 3 * 512)
#define PIECE 4096
#define REFERENCE "resume-ref.raw"

/* What a receiver keeps with a checkpoint: a tag, then its digest. */
#define TAG_LENGTH 16

static unsigned char *disk;

static uint64_t
rnd (uint64_t *s)
{
  /* xorshift64* */
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545f4914f6cdd1dULL;
}

/* Pieces of random bytes (incompressible), of text (compressible), of
 * zeros and half zeros; and a long run of zeros in the middle.
 */
static void
make_disk (void)
{
  static const char text[] = "p2vkit resumes a broken transfer. ";
  uint64_t s = 42, off, i, left = 0;
  unsigned kind = 0;
  FILE *fp;

  disk = calloc (1, DISK_SIZE);
  for (off = 0; off < DISK_SIZE; off += PIECE) {
    size_t n = DISK_SIZE - off < PIECE ? DISK_SIZE - off : PIECE;

    /* A kind lasts for a run of up to 40 pieces. */
    if (left == 0) {
      kind = rnd (&s) % 6;
      left = 1 + rnd (&s) % 40;
    }
    left--;
    if (off >= 2 * 1024 * 1024 && off < 3 * 1024 * 1024 + 8192)
      kind = 0;
    for (i = 0; i < n; i++) {
      switch (kind) {
      case 2:
        disk[off + i] = (unsigned char) rnd (&s);
        break;
      case 3:
      case 4:
        disk[off + i] = text[(off + i) % (sizeof text - 1)];
        break;
      case 5:
        disk[off + i] = i < n / 2 ? 0 : (unsigned char) (off / PIECE + i);
        break;
      default:                  /* zeros */
        break;
      }
    }
  }
  fp = fopen (REFERENCE, "w");
  CHECK (fp != NULL && fwrite (disk, 1, DISK_SIZE, fp) == DISK_SIZE
         && fclose (fp) == 0);
}

static bool
exists (const char *path)
{
  return access (path, F_OK) == 0;
}

static uint64_t
file_size (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0 ? (uint64_t) st.st_size : 0;
}

/* Give the sink [FROM, TO) of the disk the way the copy loop does: runs of
 * data clusters to write() (of varying lengths) and runs of zero clusters
 * to zero(); feed the same to the digest D (may be NULL).  Returns 0, or -1
 * with the sink's error.
 */
static int
feed (struct sink *k, struct digest *d, uint64_t from, uint64_t to)
{
  uint64_t cs = k->block_size, off = from, s = from + 1;

  while (off < to) {
    uint64_t n = to - off < cs ? to - off : cs;
    bool z = is_zero (disk + off, n);
    uint64_t end = off + n, max = (1 + rnd (&s) % 5) * cs;

    /* Extend the run while the kind stays the same. */
    while (end < to && end - off < max) {
      uint64_t m = to - end < cs ? to - end : cs;

      if (is_zero (disk + end, m) != z)
        break;
      end += m;
    }
    if (z ? k->ops->zero (k, off, end - off) == -1
          : k->ops->write (k, disk + off, end - off, off) == -1) {
      fprintf (stderr, "%s\n", error_message ());
      return -1;
    }
    if (d && z)
      digest_zero (d, end - off);
    else if (d)
      digest_data (d, disk + off, end - off);
    off = end;
  }
  return 0;
}

static void
digest_of_disk (char hex[DIGEST_HEX_LENGTH + 1])
{
  struct digest *d = digest_new ();

  digest_data (d, disk, DISK_SIZE);
  digest_final (d, hex);
  digest_free (d);
}

/* Does the image at PATH read back as the disk? */
static bool
reads_as_disk (const char *path)
{
  struct source *src = source_open (path, NULL);
  unsigned char *buf = malloc (1024 * 1024);
  uint64_t off, n;
  bool ok;

  ok = src != NULL && strcmp (src->ops->format, "qcow2") == 0
    && src->size == DISK_SIZE;
  if (src == NULL)
    fprintf (stderr, "%s\n", error_message ());
  for (off = 0; ok && off < DISK_SIZE; off += n) {
    n = DISK_SIZE - off < 1024 * 1024 ? DISK_SIZE - off : 1024 * 1024;
    ok = src->ops->pread (src, buf, n, off) == 0
      && memcmp (buf, disk + off, n) == 0;
    if (!ok)
      fprintf (stderr, "%s: differs in [%" PRIu64 ", %" PRIu64 ")\n", path, off,
               off + n);
  }
  source_close (src);
  free (buf);
  return ok;
}

static void
file_names (const char *name, char *part, char *state, char *tmp, size_t len)
{
  snprintf (part, len, "%s.part", name);
  snprintf (state, len, "%s.part%s", name, QCOW2_STATE_SUFFIX);
  snprintf (tmp, len, "%s.part%s.tmp", name, QCOW2_STATE_SUFFIX);
}

static bool
no_leftovers (const char *name)
{
  char part[256], state[256], tmp[256];

  file_names (name, part, state, tmp, sizeof part);
  return !exists (part) && !exists (state) && !exists (tmp)
    && !qcow2_sink_can_resume (name);
}

/* Checkpoint K at its current offset, keeping TAG and D's state. */
static int
checkpoint (struct sink *k, struct digest *d, const char *tag)
{
  size_t len = TAG_LENGTH + digest_state_size ();
  unsigned char *extra = calloc (1, len);
  int r;

  snprintf ((char *) extra, TAG_LENGTH, "%s", tag);
  digest_save (d, extra + TAG_LENGTH);
  r = qcow2_sink_checkpoint (k, extra, len);
  if (r == -1)
    fprintf (stderr, "%s\n", error_message ());
  free (extra);
  return r;
}

/* Resume NAME, check that it resumes at WANT with TAG, and restore D. */
static struct sink *
resume (const char *name, const struct qcow2_options *qo,
        const struct sink_options *so, struct digest *d, uint64_t want,
        const char *tag)
{
  size_t len = TAG_LENGTH + digest_state_size () + 100;
  unsigned char *extra = malloc (len);
  uint64_t offset = UINT64_MAX;
  struct sink *k;

  CHECK (qcow2_sink_can_resume (name));
  k = qcow2_sink_resume (name, DISK_SIZE, qo, so, &offset, extra, &len);
  CHECK (k != NULL);
  if (k == NULL) {
    fprintf (stderr, "%s: %s\n", name, error_message ());
    goto out;
  }
  CHECK (offset == want);
  CHECK (len == TAG_LENGTH + digest_state_size ());
  CHECK (strcmp ((char *) extra, tag) == 0);
  CHECK (digest_restore (d, extra + TAG_LENGTH, len - TAG_LENGTH) == 0);
  CHECK (k->size == DISK_SIZE && k->block_size == (1U << qo->cluster_bits));
  if (offset != want) {
    sink_free (k);
    k = NULL;
  }
out:
  free (extra);
  return k;
}

static uint64_t
round_down (uint64_t n, uint64_t to)
{
  return n / to * to;
}

/* Write the disk as NAME with two simulated crashes: checkpoints at A and
 * B, a crash after writing on to C; resumed at B, a checkpoint at D, a
 * crash after writing on to the end; resumed at D, finished.
 */
static void
test_variant (unsigned bits, enum qcow2_compression comp, const char *cname)
{
  struct qcow2_options qo = { .cluster_bits = bits, .compression = comp };
  struct sink_options so = { .force = true };
  uint64_t cs = 1ULL << bits;
  uint64_t a = round_down (DISK_SIZE / 5, cs);
  uint64_t b = round_down (DISK_SIZE * 2 / 5, cs);
  uint64_t c = round_down (DISK_SIZE * 3 / 5, cs) + cs;
  uint64_t dd = round_down (DISK_SIZE * 4 / 5, cs);
  char name[64], part[256], state[256], tmp[256];
  char want[DIGEST_HEX_LENGTH + 1], got[DIGEST_HEX_LENGTH + 1];
  struct digest *d = digest_new ();
  struct sink *k;
  uint64_t before;

  snprintf (name, sizeof name, "resume-c%u-%s.qcow2", bits, cname);
  file_names (name, part, state, tmp, sizeof part);
  unlink (name);
  digest_of_disk (want);

  k = qcow2_sink_create (name, DISK_SIZE, &qo, &so);
  CHECK (k != NULL);
  if (k == NULL) {
    fprintf (stderr, "%s: %s\n", name, error_message ());
    goto out;
  }
  CHECK (feed (k, d, 0, a) == 0);
  CHECK (checkpoint (k, d, "first") == 0);
  CHECK (exists (state) && !exists (tmp));
  CHECK (feed (k, d, a, b) == 0);
  CHECK (checkpoint (k, d, "second") == 0);
  CHECK (feed (k, NULL, b, c) == 0);
  qcow2_sink_keep_partial (k);
  sink_free (k);
  CHECK (!exists (name) && exists (part) && exists (state) && !exists (tmp));

  /* What came after the checkpoint is cut off. */
  before = file_size (part);
  k = resume (name, &qo, &so, d, b, "second");
  if (k == NULL)
    goto out;
  CHECK (file_size (part) <= before);
  CHECK (feed (k, d, b, dd) == 0);
  CHECK (checkpoint (k, d, "third") == 0);
  CHECK (feed (k, NULL, dd, DISK_SIZE) == 0);
  qcow2_sink_keep_partial (k);
  sink_free (k);

  k = resume (name, &qo, &so, d, dd, "third");
  if (k == NULL)
    goto out;
  CHECK (feed (k, d, dd, DISK_SIZE) == 0);
  CHECK (k->ops->finish (k) == 0);
  sink_free (k);
  digest_final (d, got);
  CHECK (strcmp (want, got) == 0);
  CHECK (no_leftovers (name));
  CHECK (reads_as_disk (name));
  CHECK (qcow2_sink_resume (name, DISK_SIZE, &qo, &so, &before, NULL, NULL)
         == NULL);

out:
  digest_free (d);
}

/* Checkpoints where nothing has been written yet and where everything
 * has; a second sink that is never told to keep its files.
 */
static void
test_edges (void)
{
  struct qcow2_options qo
    = { .cluster_bits = 9, .compression = QCOW2_COMPRESS_ZSTD };
  struct sink_options so = { .force = true };
  const char *name = "edges.qcow2";
  char part[256], state[256], tmp[256], extra[256];
  uint64_t offset = 1;
  size_t len;
  struct sink *k;

  file_names (name, part, state, tmp, sizeof part);
  unlink (name);
  CHECK (!qcow2_sink_can_resume (name));
  CHECK (qcow2_sink_resume (name, DISK_SIZE, &qo, &so, &offset, NULL, NULL)
         == NULL);
  CHECK (strstr (error_message (), "edges.qcow2.part") != NULL);

  k = qcow2_sink_create (name, DISK_SIZE, &qo, &so);
  CHECK (k != NULL);
  if (k == NULL)
    return;
  CHECK (qcow2_sink_checkpoint (k, NULL, 0) == 0);
  qcow2_sink_keep_partial (k);
  sink_free (k);

  len = 0;
  k = qcow2_sink_resume (name, DISK_SIZE, &qo, &so, &offset, NULL, &len);
  CHECK (k != NULL && offset == 0 && len == 0);
  if (k == NULL)
    return;
  CHECK (feed (k, NULL, 0, DISK_SIZE) == 0);
  CHECK (qcow2_sink_checkpoint (k, "x", 1) == 0);
  qcow2_sink_keep_partial (k);
  sink_free (k);

  len = 1;
  k = qcow2_sink_resume (name, DISK_SIZE, &qo, &so, &offset, extra, &len);
  CHECK (k != NULL && offset == DISK_SIZE && len == 1 && extra[0] == 'x');
  if (k == NULL)
    return;
  /* Anything but the next offset is refused; the sink cannot be
   * checkpointed after that, but its state stays for another try.
   */
  CHECK (k->ops->zero (k, 0, 512) == -1
         && strstr (error_message (), "expected at offset") != NULL);
  CHECK (qcow2_sink_checkpoint (k, NULL, 0) == -1);
  qcow2_sink_keep_partial (k);
  sink_free (k);

  k = qcow2_sink_resume (name, DISK_SIZE, &qo, &so, &offset, NULL, NULL);
  CHECK (k == NULL && strstr (error_message (), "more than") != NULL);
  len = sizeof extra;
  k = qcow2_sink_resume (name, DISK_SIZE, &qo, &so, &offset, extra, &len);
  CHECK (k != NULL && offset == DISK_SIZE);
  if (k == NULL)
    return;
  CHECK (k->ops->finish (k) == 0);
  CHECK (qcow2_sink_checkpoint (k, NULL, 0) == -1);
  sink_free (k);
  CHECK (no_leftovers (name));
  CHECK (reads_as_disk (name));

  /* Unfinished and not kept: nothing remains. */
  k = qcow2_sink_create (name, DISK_SIZE, &qo, &so);
  CHECK (k != NULL);
  if (k == NULL)
    return;
  CHECK (feed (k, NULL, 0, 64 * 1024) == 0);
  CHECK (qcow2_sink_checkpoint (k, NULL, 0) == 0);
  CHECK (exists (state));
  sink_free (k);
  CHECK (no_leftovers (name));

  /* Kept, but with no checkpoint there is nothing to keep. */
  k = qcow2_sink_create (name, DISK_SIZE, &qo, &so);
  CHECK (k != NULL);
  if (k == NULL)
    return;
  CHECK (feed (k, NULL, 0, 64 * 1024) == 0);
  qcow2_sink_keep_partial (k);
  sink_free (k);
  CHECK (no_leftovers (name));
  unlink (name);
}

static unsigned char *
read_file (const char *path, size_t *len)
{
  FILE *fp = fopen (path, "r");
  unsigned char *buf;

  *len = file_size (path);
  buf = malloc (*len ? *len : 1);
  CHECK (fp != NULL && fread (buf, 1, *len, fp) == *len);
  if (fp)
    fclose (fp);
  return buf;
}

static void
write_file (const char *path, const unsigned char *buf, size_t len)
{
  FILE *fp = fopen (path, "w");

  CHECK (fp != NULL && fwrite (buf, 1, len, fp) == len && fclose (fp) == 0);
}

/* Try to resume NAME with the state file holding BUF; it must fail
 * (unless MAY_WORK), never crash, and leave the files.
 */
static void
try_state (const char *name, const char *part, const char *state,
           const struct qcow2_options *qo, const unsigned char *buf, size_t len,
           bool may_work, const char *what, size_t where)
{
  struct sink_options so = { .force = true };
  unsigned char extra[64];
  size_t extra_len = sizeof extra;
  uint64_t offset;
  struct sink *k;

  write_file (state, buf, len);
  k = qcow2_sink_resume (name, DISK_SIZE, qo, &so, &offset, extra, &extra_len);
  if (k != NULL && !may_work)
    fprintf (stderr, "%s at %zu: resumed\n", what, where);
  CHECK (k == NULL || may_work);
  CHECK (k != NULL || error_message ()[0] != '\0');
  if (k) {
    qcow2_sink_keep_partial (k);
    sink_free (k);
  }
  CHECK (exists (part) && exists (state));
}

static void
put_checksum (unsigned char *buf, size_t len)
{
  be64_put (buf + len - 8, XXH3_64bits (buf, len - 8));
}

/* Damaged states give an error, never a crash. */
static void
test_damaged (unsigned bits, enum qcow2_compression comp)
{
  struct qcow2_options qo = { .cluster_bits = bits, .compression = comp };
  struct qcow2_options other;
  struct sink_options so = { .force = true };
  const char *name = "damaged.qcow2";
  char part[256], state[256], tmp[256];
  unsigned char *good, *bad, *old;
  size_t len, old_len, i, cut;
  unsigned char extra[64];
  size_t extra_len;
  uint64_t offset;
  struct sink *k;

  file_names (name, part, state, tmp, sizeof part);
  k = qcow2_sink_create (name, DISK_SIZE, &qo, &so);
  CHECK (k != NULL);
  if (k == NULL)
    return;
  CHECK (feed (k, NULL, 0, round_down (DISK_SIZE / 2, 1ULL << bits)) == 0);
  CHECK (qcow2_sink_checkpoint (k, "extra", 5) == 0);
  CHECK (feed (k, NULL, round_down (DISK_SIZE / 2, 1ULL << bits),
               round_down (DISK_SIZE * 3 / 4, 1ULL << bits))
         == 0);
  qcow2_sink_keep_partial (k);
  sink_free (k);
  good = read_file (state, &len);

  /* Truncated anywhere. */
  for (cut = 0; cut < len; cut += cut < 200 ? 1 : 97)
    try_state (name, part, state, &qo, good, cut, false, "truncated", cut);
  /* Longer. */
  bad = malloc (len + 1);
  memcpy (bad, good, len);
  bad[len] = 0;
  try_state (name, part, state, &qo, bad, len + 1, false, "longer", len);

  /* Any byte flipped: the checksum sees it.  With the checksum made
   * right again, the checks behind it must hold (a flip in the count of
   * bytes written or in the caller's bytes goes through).
   */
  for (i = 0; i < len; i++) {
    memcpy (bad, good, len);
    bad[i] ^= 0x5a;
    try_state (name, part, state, &qo, bad, len, false, "flipped", i);
    if (i >= len - 8)
      continue;
    put_checksum (bad, len);
    try_state (name, part, state, &qo, bad, len, true, "flipped+sum", i);
    bad[i] = good[i] ^ 0x80;
    put_checksum (bad, len);
    try_state (name, part, state, &qo, bad, len, true, "flipped+sum", i);
  }
  /* Lengths and counts made huge, checksum right. */
  for (i = 16; i < 112; i += 4) {
    if (i >= 88 && i < 96)      /* bytes written: any count will do */
      continue;
    memcpy (bad, good, len);
    memset (bad + i, 0xff, 4);
    put_checksum (bad, len);
    try_state (name, part, state, &qo, bad, len, false, "huge", i);
  }
  /* Not a state file at all. */
  memset (bad, 'x', len);
  try_state (name, part, state, &qo, bad, len, false, "garbage", 0);

  /* The good state works; with another size or format it does not. */
  write_file (state, good, len);
  other = qo;
  extra_len = sizeof extra;
  k = qcow2_sink_resume (name, DISK_SIZE + 512, &qo, &so, &offset, extra,
                         &extra_len);
  CHECK (k == NULL && strstr (error_message (), "saved for a disk") != NULL);
  other.cluster_bits = bits == 16 ? 12 : 16;
  k = qcow2_sink_resume (name, DISK_SIZE, &other, &so, &offset, extra,
                         &extra_len);
  CHECK (k == NULL && strstr (error_message (), "clusters") != NULL);
  other = qo;
  other.compression
    = comp == QCOW2_COMPRESS_ZSTD ? QCOW2_COMPRESS_ZLIB : QCOW2_COMPRESS_ZSTD;
  k = qcow2_sink_resume (name, DISK_SIZE, &other, &so, &offset, extra,
                         &extra_len);
  CHECK (k == NULL && strstr (error_message (), "compression") != NULL);
  other = qo;
  other.level = 3;
  k = qcow2_sink_resume (name, DISK_SIZE, &other, &so, &offset, extra,
                         &extra_len);
  CHECK (k == NULL && strstr (error_message (), "level") != NULL);
  extra_len = 4;
  k = qcow2_sink_resume (name, DISK_SIZE, &qo, &so, &offset, extra, &extra_len);
  CHECK (k == NULL);
  /* Without force, an existing NAME is not to be replaced. */
  write_file (name, (const unsigned char *) "", 0);
  so.force = false;
  extra_len = sizeof extra;
  k = qcow2_sink_resume (name, DISK_SIZE, &qo, &so, &offset, extra, &extra_len);
  CHECK (k == NULL && strstr (error_message (), "already exists") != NULL);
  so.force = true;
  unlink (name);
  k = qcow2_sink_resume (name, DISK_SIZE, &qo, &so, &offset, extra, &extra_len);
  CHECK (k != NULL && extra_len == 5 && memcmp (extra, "extra", 5) == 0);
  if (k) {
    qcow2_sink_keep_partial (k);
    sink_free (k);
  }

  /* A state never fits another NAME.part, even a longer one; and
   * creating the image afresh removes the state.
   */
  old = read_file (state, &old_len);
  k = qcow2_sink_create (name, DISK_SIZE, &qo, &so);
  CHECK (k != NULL);
  if (k == NULL)
    goto out;
  CHECK (!exists (state));
  CHECK (feed (k, NULL, 0, DISK_SIZE) == 0);
  CHECK (qcow2_sink_checkpoint (k, NULL, 0) == 0);
  qcow2_sink_keep_partial (k);
  sink_free (k);
  try_state (name, part, state, &qo, old, old_len, false, "other part", 0);
  CHECK (strstr (error_message (), "not the file") != NULL);
  free (old);

  /* A NAME.part shorter than its state says. */
  CHECK (truncate (part, 1024) == 0);
  write_file (state, good, len);
  extra_len = sizeof extra;
  k = qcow2_sink_resume (name, DISK_SIZE, &qo, &so, &offset, extra, &extra_len);
  CHECK (k == NULL);

out:
  unlink (part);
  unlink (state);
  free (good);
  free (bad);
}

/* A digest saved part way and restored, in a new digest object, goes on
 * as if it had never stopped.
 */
static void
test_digest_save (void)
{
  static const uint64_t cuts[] = {
    0,     1,     255,     256,           4096,      65535,
    65536, 65537, 1000000, DISK_SIZE - 1, DISK_SIZE,
  };
  char want[DIGEST_HEX_LENGTH + 1], got[DIGEST_HEX_LENGTH + 1];
  size_t len = digest_state_size ();
  unsigned char *buf = malloc (len), *bad = malloc (len);
  struct digest *d, *e;
  size_t i, off;

  digest_of_disk (want);
  for (i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    d = digest_new ();
    e = digest_new ();
    /* Fed in odd pieces, zeros as zeros. */
    for (off = 0; off < cuts[i]; off += 3000) {
      size_t n = cuts[i] - off < 3000 ? cuts[i] - off : 3000;

      if (is_zero (disk + off, n))
        digest_zero (d, n);
      else
        digest_data (d, disk + off, n);
    }
    digest_save (d, buf);
    digest_free (d);
    /* E has seen something else: restoring replaces it all. */
    digest_data (e, "other", 5);
    CHECK (digest_restore (e, buf, len) == 0);
    digest_data (e, disk + cuts[i], DISK_SIZE - cuts[i]);
    digest_final (e, got);
    digest_free (e);
    CHECK (strcmp (want, got) == 0);
  }

  /* Saved with something else, or damaged: refused. */
  d = digest_new ();
  digest_data (d, disk, 1000000);
  digest_save (d, buf);
  CHECK (digest_restore (d, buf, len - 1) == -1);
  memcpy (bad, buf, len);
  bad[0] ^= 1;
  CHECK (digest_restore (d, bad, len) == -1);
  memcpy (bad, buf, len);
  be32_put (bad + 8, XXH_versionNumber () + 1);     /* the xxHash version */
  CHECK (digest_restore (d, bad, len) == -1
         && strstr (error_message (), "xxHash") != NULL);
  memcpy (bad, buf, len);
  be32_put (bad + 12, sizeof (XXH3_state_t) + 64); /* its state's size */
  CHECK (digest_restore (d, bad, len) == -1);
  memcpy (bad, buf, len);
  be32_put (bad + 16, DIGEST_BLOCK_SIZE);           /* the block's fill */
  CHECK (digest_restore (d, bad, len) == -1);
  memcpy (bad, buf, len);
  memset (bad + 20 + offsetof (XXH3_state_t, bufferedSize), 0xff, 4);
  CHECK (digest_restore (d, bad, len) == -1);
  memcpy (bad, buf, len);
  memset (bad + 20 + offsetof (XXH3_state_t, nbStripesSoFar), 0xff, 4);
  CHECK (digest_restore (d, bad, len) == -1);
  /* And D is as it was after all that. */
  digest_data (d, disk + 1000000, DISK_SIZE - 1000000);
  digest_final (d, got);
  CHECK (strcmp (want, got) == 0);
  digest_free (d);
  free (buf);
  free (bad);
}

int
main (void)
{
  make_disk ();
  test_digest_save ();
  test_variant (9, QCOW2_COMPRESS_NONE, "none");
  test_variant (9, QCOW2_COMPRESS_ZLIB, "zlib");
  test_variant (12, QCOW2_COMPRESS_ZSTD, "zstd");
  test_variant (16, QCOW2_COMPRESS_NONE, "none");
  test_variant (16, QCOW2_COMPRESS_ZLIB, "zlib");
  test_variant (16, QCOW2_COMPRESS_ZSTD, "zstd");
  test_variant (21, QCOW2_COMPRESS_ZSTD, "zstd");
  test_variant (21, QCOW2_COMPRESS_NONE, "none");
  test_edges ();
  test_damaged (9, QCOW2_COMPRESS_ZLIB);
  test_damaged (16, QCOW2_COMPRESS_ZSTD);
  free (disk);
  return check_exit ();
}
