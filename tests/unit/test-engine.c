/* Unit tests of the imaging engine: sizes, zero detection, digests, error
 * messages, and the qcow2 writer read back through the qcow2 reader, in
 * one process.  Run by tests/t-unit-engine.sh with a scratch directory as
 * the current directory.  Prints a line per failed check; exit 0 if all
 * passed, 1 otherwise.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blockhash.h"
#include "check.h"
#include "copy.h"
#include "digest.h"
#include "error.h"
#include "qcow2.h"
#include "sink.h"
#include "size.h"
#include "source.h"

static void
test_size (void)
{
  char buf[SIZE_HUMAN_MAX];
  uint64_t n = 0;

  CHECK (size_parse ("512", &n) == 0 && n == 512);
  CHECK (size_parse ("64K", &n) == 0 && n == 65536);
  CHECK (size_parse ("64k", &n) == 0 && n == 65536);
  CHECK (size_parse ("2M", &n) == 0 && n == 2 * 1024 * 1024);
  CHECK (size_parse ("1GiB", &n) == 0 && n == 1024 * 1024 * 1024);
  CHECK (size_parse ("3T", &n) == 0 && n == 3ULL << 40);
  CHECK (size_parse ("15E", &n) == 0 && n == 15ULL << 60);
  CHECK (size_parse ("16E", &n) == -1);
  CHECK (size_parse ("99999999999999999999", &n) == -1);
  CHECK (size_parse ("-1", &n) == -1);
  CHECK (size_parse ("", &n) == -1);
  CHECK (size_parse ("1.5K", &n) == -1);
  CHECK (size_parse ("1Kb", &n) == -1);
  CHECK (size_parse ("abc", &n) == -1
         && strcmp (error_message (), "'abc': not a size") == 0);

  CHECK (strcmp (size_human (0, buf), "0 B") == 0);
  CHECK (strcmp (size_human (1023, buf), "1023 B") == 0);
  CHECK (strcmp (size_human (1536, buf), "1.5 KiB") == 0);
  CHECK (strcmp (size_human (8ULL << 30, buf), "8.0 GiB") == 0);
  CHECK (strcmp (size_human (UINT64_MAX, buf), "16.0 EiB") == 0);
}

static void
test_is_zero (void)
{
  unsigned char buf[200];
  size_t len, i;

  memset (buf, 0, sizeof buf);
  for (len = 0; len <= sizeof buf; len++)
    CHECK (is_zero (buf, len));
  /* A single non-zero byte anywhere is seen, at every length. */
  for (len = 1; len <= sizeof buf; len += 7)
    for (i = 0; i < len; i++) {
      buf[i] = 0x80;
      CHECK (!is_zero (buf, len));
      buf[i] = 0;
    }
}

static void
digest_of (const unsigned char *data, size_t len, size_t step,
           char hex[DIGEST_HEX_LENGTH + 1])
{
  struct digest *d = digest_new ();
  size_t off, n;

  for (off = 0; off < len; off += n) {
    n = len - off < step ? len - off : step;
    if (is_zero (data + off, n))
      digest_zero (d, n);
    else
      digest_data (d, data + off, n);
  }
  digest_final (d, hex);
  digest_free (d);
}

static void
test_digest (void)
{
  const size_t len = 3 * DIGEST_BLOCK_SIZE + 1234;
  char a[DIGEST_HEX_LENGTH + 1], b[DIGEST_HEX_LENGTH + 1];
  static const size_t steps[] = { 1000, 4096, 65536, 100000, 3 * 65536 };
  unsigned char *data = calloc (1, len);
  size_t i;

  /* Data with zero stretches that straddle block boundaries. */
  for (i = 0; i < len; i++)
    if ((i / 5000) % 3 == 1)
      data[i] = (unsigned char) (i * 31 + 7);
  digest_of (data, len, len, a);
  CHECK (strlen (a) == DIGEST_HEX_LENGTH);
  /* However the bytes are cut up, and whether zeros come as data or as
   * zero runs, the digest is the same.
   */
  for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    digest_of (data, len, steps[i], b);
    CHECK (strcmp (a, b) == 0);
  }
  /* And it changes when one bit does. */
  data[len - 1] ^= 1;
  digest_of (data, len, len, b);
  CHECK (strcmp (a, b) != 0);
  free (data);
}

/* Hashers on 1, 2, 3 and 5 threads give each block the hash one thread
 * gives it, for lengths that do not share out evenly, a short last block,
 * and an offset that is not the disk's start.
 */
static void
test_hashers (void)
{
  const uint64_t size = 23 * BLOCKHASH_BLOCK_SIZE + 777;
  static const unsigned threads[] = { 1, 2, 3, 5 };
  struct blockhash one, many;
  unsigned char *data = malloc (size);
  uint64_t i, start = 2 * BLOCKHASH_BLOCK_SIZE;
  size_t t;

  for (i = 0; i < size; i++)
    data[i] = (unsigned char) (i * 2654435761U >> 13);
  CHECK (blockhash_init (&one, size) == 0);
  blockhash_set_data (&one, start, data + start, size - start);
  for (t = 0; t < sizeof threads / sizeof threads[0]; t++) {
    struct blockhash_hashers *hs = blockhash_hashers_new (threads[t]);

    CHECK (hs != NULL);
    CHECK (blockhash_init (&many, size) == 0);
    if (hs == NULL || many.h == NULL)
      continue;
    /* Twice: a helper must take the second job as well as the first. */
    blockhash_hashers_set_data (hs, &many, start, data + start,
                                7 * BLOCKHASH_BLOCK_SIZE);
    blockhash_hashers_set_data (hs, &many, start + 7 * BLOCKHASH_BLOCK_SIZE,
                                data + start + 7 * BLOCKHASH_BLOCK_SIZE,
                                size - start - 7 * BLOCKHASH_BLOCK_SIZE);
    CHECK (memcmp (one.h, many.h, one.n * sizeof one.h[0]) == 0);
    blockhash_hashers_free (hs);
    blockhash_free (&many);
  }
  blockhash_free (&one);
  free (data);
}

static void
test_error (void)
{
  char big[3000];

  CHECK (error ("x %d", 1) == -1 && strcmp (error_message (), "x 1") == 0);
  CHECK (error_prefix ("disk.raw") == -1
         && strcmp (error_message (), "disk.raw: x 1") == 0);
  CHECK (error_errno (2, "open") == -1
         && strcmp (error_message (), "open: No such file or directory") == 0);
  /* Long messages are cut, never overflow. */
  memset (big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  error ("%s", big);
  error_prefix ("%s", big);
  CHECK (strlen (error_message ()) < sizeof big);
}

/* Write a disk through the qcow2 sink, cluster by cluster: cluster I is
 * zero when PATTERN(I) is 0, else filled with bytes derived from I.
 */
static int
pattern (uint64_t i)
{
  return (i % 7) != 3 && (i % 1000) < 900;
}

static void
fill (unsigned char *buf, size_t len, uint64_t i)
{
  size_t j;

  for (j = 0; j < len; j++)
    buf[j] = (unsigned char) (i * 131 + j * 7 + (j >> 9));
}

static void
test_qcow2_roundtrip (unsigned cluster_bits, enum qcow2_compression comp,
                      uint64_t size)
{
  struct qcow2_options qo
    = { .cluster_bits = cluster_bits, .compression = comp };
  struct sink_options so = { .force = true };
  uint64_t cs = 1ULL << cluster_bits, i, off, n;
  unsigned char *buf = malloc (cs), *got = malloc (cs);
  struct source *src;
  struct sink *k;
  struct extent e;
  int bad = 0;

  k = qcow2_sink_create ("t.qcow2", size, &qo, &so);
  CHECK (k != NULL);
  if (k == NULL) {
    fprintf (stderr, "%s\n", error_message ());
    goto out;
  }
  for (i = 0, off = 0; off < size; i++, off += n) {
    n = size - off < cs ? size - off : cs;
    if (pattern (i)) {
      fill (buf, n, i);
      CHECK (k->ops->write (k, buf, n, off) == 0);
    }
    else
      CHECK (k->ops->zero (k, off, n) == 0);
  }
  CHECK (k->ops->finish (k) == 0);
  sink_free (k);

  src = source_open ("t.qcow2", NULL);
  CHECK (src != NULL);
  if (src == NULL) {
    fprintf (stderr, "%s\n", error_message ());
    goto out;
  }
  CHECK (strcmp (src->ops->format, "qcow2") == 0);
  CHECK (src->size == size);
  for (i = 0, off = 0; off < size && !bad; i++, off += n) {
    n = size - off < cs ? size - off : cs;
    CHECK (src->ops->pread (src, got, n, off) == 0);
    if (pattern (i)) {
      fill (buf, n, i);
      bad = memcmp (buf, got, n) != 0;
    }
    else {
      bad = !is_zero (got, n);
      /* Zero clusters are left unallocated: the reader says so. */
      CHECK (src->ops->extent (src, off, n, &e) == 0 && e.type == EXTENT_ZERO);
    }
  }
  CHECK (!bad);
  source_close (src);

out:
  free (buf);
  free (got);
}

/* An output that appears while we write is not replaced without force. */
static void
test_no_replace (void)
{
  struct sink_options so = { .force = false };
  struct sink *k;
  FILE *fp;

  unlink ("r.qcow2");
  k = qcow2_sink_create ("r.qcow2", 1 << 20, NULL, &so);
  CHECK (k != NULL);
  fp = fopen ("r.qcow2", "w");
  fclose (fp);
  CHECK (k->ops->zero (k, 0, 1 << 20) == 0);
  CHECK (k->ops->finish (k) == -1
         && strstr (error_message (), "appeared while writing") != NULL);
  sink_free (k);
  CHECK (access ("r.qcow2.part", F_OK) == -1);
}

int
main (void)
{
  test_size ();
  test_is_zero ();
  test_digest ();
  test_hashers ();
  test_error ();
  /* 512-byte clusters: refcount windows of 256 clusters are crossed many
   * times, by data and by packed compressed clusters.
   */
  test_qcow2_roundtrip (9, QCOW2_COMPRESS_NONE, 3 * 1024 * 1024 + 512);
  test_qcow2_roundtrip (9, QCOW2_COMPRESS_ZLIB, 3 * 1024 * 1024 + 512);
  test_qcow2_roundtrip (12, QCOW2_COMPRESS_ZSTD, 9 * 1024 * 1024 + 1536);
  test_qcow2_roundtrip (16, QCOW2_COMPRESS_NONE, 200 * 1024 * 1024 + 4096);
  test_qcow2_roundtrip (21, QCOW2_COMPRESS_ZSTD, 9 * 1024 * 1024);
  test_no_replace ();

  return check_exit ();
}
