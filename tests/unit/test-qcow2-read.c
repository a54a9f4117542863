/* Read a disk image through the source layer and write its contents to a
 * raw file, checking the source's contract on the way.
 *
 *   test-qcow2-read IMAGE OUT.raw [MAP]
 *
 * OUT.raw is truncated to the virtual size first, so ZERO extents stay
 * holes; DATA extents are read and written.  OUT.raw "-" reads the data
 * but writes nothing.  MAP, if given, receives the extents, adjacent ones
 * of the same type merged, one "START LENGTH data|zero" line each, to be
 * compared with `qemu-img map`.
 *
 * The checks: the image is detected as qcow2, extents are contiguous,
 * non-empty, within the request and of a known type, and ZERO extents
 * read as zeros.  Once OUT.raw is written, reads across every extent
 * boundary and at pseudo-random places must return the same bytes as the
 * sequential copy.  Shell tests (tests/t-qcow2-*.sh) compare OUT.raw with
 * the original.
 *
 * Exit status: 0 success, 1 failure (with one line on stderr), 77 when
 * run without arguments (by a harness that runs every unit program).
 */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

#define EXIT_SKIP 77

/* The size of each of the two read buffers: no read is longer. */
#define BUF_SIZE (256 * 1024)

/* Reads go in pieces of this size, deliberately not a multiple of any
 * cluster size so that reads start and end inside clusters.
 */
#define READ_CHUNK (3 * 65536 + 4097)

/* How much of each ZERO extent is read back to check it is zeros. */
#define ZERO_CHECK_MAX BUF_SIZE

/* The second pass reads this far on both sides of each extent boundary,
 * then makes RANDOM_READS reads of at most RANDOM_READ_MAX bytes at
 * places drawn from a fixed seed (the same every run).
 */
#define BOUNDARY_REACH_MAX 100000
static const uint64_t boundary_reach[] = { 1, 4097, BOUNDARY_REACH_MAX };
#define RANDOM_READS 200
#define RANDOM_READ_MAX BUF_SIZE
#define RANDOM_SEED UINT64_C (0x9e3779b97f4a7c15)

_Static_assert (READ_CHUNK <= BUF_SIZE && 2 * BOUNDARY_REACH_MAX <= BUF_SIZE,
                "reads must fit the buffers");

static const char *prog = "test-qcow2-read";

/* Write LEN bytes of BUF at OFFSET of FD. */
static int
write_exact (int fd, const char *path, const unsigned char *buf, size_t len,
             uint64_t offset)
{
  ssize_t r;

  while (len > 0) {
    r = pwrite (fd, buf, len, offset);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return error_errno (errno, "%s: write at offset %" PRIu64, path, offset);
    }
    buf += r;
    len -= r;
    offset += r;
  }
  return 0;
}

/* Read the DATA extent E of S, and write it to FD unless FD is -1. */
static int
copy_data (struct source *s, const struct extent *e, unsigned char *buf, int fd,
           const char *out)
{
  uint64_t pos, n;

  for (pos = e->offset; pos < e->offset + e->length; pos += n) {
    n = e->offset + e->length - pos;
    if (n > READ_CHUNK)
      n = READ_CHUNK;
    if (s->ops->pread (s, buf, n, pos) == -1)
      return -1;
    if (fd >= 0 && write_exact (fd, out, buf, n, pos) == -1)
      return -1;
  }
  return 0;
}

/* Check that the start of the ZERO extent E reads as zeros. */
static int
check_zero (struct source *s, const struct extent *e, unsigned char *buf)
{
  uint64_t n = e->length < ZERO_CHECK_MAX ? e->length : ZERO_CHECK_MAX;
  uint64_t i;

  if (s->ops->pread (s, buf, n, e->offset) == -1)
    return -1;
  for (i = 0; i < n; i++)
    if (buf[i] != 0)
      return error ("%s: ZERO extent at offset %" PRIu64
                    " reads non-zero at offset %" PRIu64,
                    s->name, e->offset, e->offset + i);
  return 0;
}

/* The next pseudo-random number (xorshift64). */
static uint64_t
next_random (uint64_t *x)
{
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

/* Check that LEN bytes at OFFSET read the same from S as from OUT (FD),
 * using the buffers A and B.
 */
static int
compare_range (struct source *s, int fd, const char *out, uint64_t offset,
               uint64_t len, unsigned char *a, unsigned char *b)
{
  uint64_t done;
  ssize_t r;

  if (s->ops->pread (s, a, len, offset) == -1)
    return -1;
  for (done = 0; done < len; done += r) {
    r = pread (fd, b + done, len - done, offset + done);
    if (r == -1 && errno == EINTR)
      r = 0;
    else if (r == -1)
      return error_errno (errno, "%s: read", out);
    else if (r == 0)
      return error ("%s: unexpected end of file", out);
  }
  if (memcmp (a, b, len) != 0)
    return error ("%s: read of %" PRIu64 " bytes at offset %" PRIu64
                  " differs from the sequential copy",
                  s->name, len, offset);
  return 0;
}

/* Read S again around every extent boundary and at pseudo-random places,
 * comparing with the complete copy OUT (FD).
 */
static int
check_reads (struct source *s, int fd, const char *out, unsigned char *a,
             unsigned char *b)
{
  uint64_t offset = 0, boundary, lo, hi, x = RANDOM_SEED, len, max;
  struct extent e;
  size_t i;

  while (offset < s->size) {
    if (s->ops->extent (s, offset, s->size - offset, &e) == -1)
      return -1;
    boundary = e.offset + e.length;
    for (i = 0; boundary < s->size
         && i < sizeof boundary_reach / sizeof boundary_reach[0];
         i++) {
      lo = boundary > boundary_reach[i] ? boundary - boundary_reach[i] : 0;
      hi = s->size - boundary > boundary_reach[i] ? boundary + boundary_reach[i]
                                                  : s->size;
      if (compare_range (s, fd, out, lo, hi - lo, a, b) == -1)
        return -1;
    }
    offset = boundary;
  }

  for (i = 0; s->size > 0 && i < RANDOM_READS; i++) {
    offset = next_random (&x) % s->size;
    max
      = s->size - offset < RANDOM_READ_MAX ? s->size - offset : RANDOM_READ_MAX;
    len = 1 + next_random (&x) % max;
    if (compare_range (s, fd, out, offset, len, a, b) == -1)
      return -1;
  }
  return 0;
}

/* Walk all extents of S, copying DATA to OUT (unless "-") and listing
 * the extents in MAP (unless NULL).
 */
static int
copy_image (struct source *s, const char *out, const char *map)
{
  unsigned char *buf = NULL, *buf2 = NULL;
  uint64_t offset = 0, extents = 0, data = 0, zero = 0;
  uint64_t run_start = 0, run_length = 0;
  enum extent_type run_type = EXTENT_DATA;
  struct extent e;
  FILE *mapf = NULL;
  int fd = -1, ret = -1;

  buf = malloc (BUF_SIZE);
  buf2 = malloc (BUF_SIZE);
  if (buf == NULL || buf2 == NULL) {
    error ("out of memory");
    goto out;
  }
  if (strcmp (out, "-") != 0) {
    fd = open (out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1) {
      error_errno (errno, "%s: open", out);
      goto out;
    }
    if (ftruncate (fd, s->size) == -1) {
      error_errno (errno, "%s: truncate", out);
      goto out;
    }
  }
  if (map) {
    mapf = fopen (map, "w");
    if (mapf == NULL) {
      error_errno (errno, "%s: open", map);
      goto out;
    }
  }

  while (offset < s->size) {
    if (s->ops->extent (s, offset, s->size - offset, &e) == -1)
      goto out;
    if (e.offset != offset || e.length == 0 || e.length > s->size - offset) {
      error ("%s: bad extent at offset %" PRIu64 ": offset %" PRIu64
             " length %" PRIu64,
             s->name, offset, e.offset, e.length);
      goto out;
    }
    switch (e.type) {
    case EXTENT_DATA:
      if (copy_data (s, &e, buf, fd, out) == -1)
        goto out;
      data += e.length;
      break;
    case EXTENT_ZERO:
      if (check_zero (s, &e, buf) == -1)
        goto out;
      zero += e.length;
      break;
    default:
      error ("%s: extent of unknown type %d", s->name, (int) e.type);
      goto out;
    }

    if (mapf && run_length > 0 && e.type != run_type) {
      fprintf (mapf, "%" PRIu64 " %" PRIu64 " %s\n", run_start, run_length,
               run_type == EXTENT_DATA ? "data" : "zero");
      run_length = 0;
    }
    if (run_length == 0) {
      run_start = e.offset;
      run_type = e.type;
    }
    run_length += e.length;
    offset += e.length;
    extents++;
  }

  if (mapf) {
    if (run_length > 0)
      fprintf (mapf, "%" PRIu64 " %" PRIu64 " %s\n", run_start, run_length,
               run_type == EXTENT_DATA ? "data" : "zero");
    if (fclose (mapf) == EOF) {
      mapf = NULL;
      error_errno (errno, "%s: write", map);
      goto out;
    }
    mapf = NULL;
  }
  if (fd >= 0) {
    if (check_reads (s, fd, out, buf, buf2) == -1)
      goto out;
    if (close (fd) == -1) {
      fd = -1;
      error_errno (errno, "%s: close", out);
      goto out;
    }
    fd = -1;
  }
  printf ("%s: %" PRIu64 " extents, %" PRIu64 " bytes data, %" PRIu64
          " bytes zero\n",
          s->name, extents, data, zero);
  ret = 0;

out:
  if (mapf)
    fclose (mapf);
  if (fd >= 0)
    close (fd);
  free (buf);
  free (buf2);
  return ret;
}

int
main (int argc, char *argv[])
{
  struct source *s = NULL;
  int ret = EXIT_FAILURE;

  if (argc == 1) {
    fprintf (stderr, "%s: usage: %s IMAGE OUT.raw [MAP] (skipped: no image)\n",
             prog, prog);
    exit (EXIT_SKIP);
  }
  if (argc != 3 && argc != 4) {
    fprintf (stderr, "%s: usage: %s IMAGE OUT.raw [MAP]\n", prog, prog);
    exit (EXIT_FAILURE);
  }

  s = source_open (argv[1], NULL);
  if (s == NULL)
    goto out;
  if (strcmp (s->ops->format, "qcow2") != 0) {
    error ("%s: detected as %s, not qcow2", argv[1], s->ops->format);
    goto out;
  }
  if (copy_image (s, argv[2], argc == 4 ? argv[3] : NULL) == -1)
    goto out;
  ret = EXIT_SUCCESS;

out:
  if (ret != EXIT_SUCCESS)
    fprintf (stderr, "%s: %s\n", prog, error_message ());
  source_close (s);
  return ret;
}
