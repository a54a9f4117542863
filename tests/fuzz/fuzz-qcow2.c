/* libFuzzer target for the qcow2 reader (imaging/qcow2-read.c).
 *
 * The input is an image file.  It is put in a memfd, opened with
 * qcow2_source_open(), and its extents are walked and read, with the
 * source contract checked on the way: extents start where asked, are
 * non-empty and within the request, ZERO extents read as zeros, and
 * every error is one line.  The work per input is capped, since a tiny
 * file can describe a huge disk.
 *
 *   make tests/fuzz/fuzz-qcow2
 *   tests/fuzz/fuzz-qcow2 -max_len=65536 tests/fuzz/fuzz-qcow2-corpus
 */
#include "source.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"

/* Limits on the work done for one input. */
#define MAX_EXTENTS 64
#define MAX_EXTENT_REQUEST (64 * 1024 * 1024)
#define MAX_READ_TOTAL (1024 * 1024)
#define MAX_READ_ONE (256 * 1024)

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static unsigned char buf[MAX_READ_ONE];

/* Stop the fuzzer on a broken contract: that is a bug to report. */
static void
broken (const char *what)
{
  fprintf (stderr, "fuzz-qcow2: contract broken: %s\n", what);
  abort ();
}

/* A failure must leave one line to print. */
static void
check_error (void)
{
  const char *msg = error_message ();

  if (msg[0] == '\0' || strchr (msg, '\n') != NULL)
    broken ("error message empty or not one line");
}

/* Read LEN bytes at OFFSET of S, if the budget allows; ZERO says they
 * must be zeros.  Returns -1 when reading failed.
 */
static int
read_some (struct source *s, uint64_t offset, uint64_t len, int zero,
           uint64_t *budget)
{
  uint64_t i;

  if (len > MAX_READ_ONE)
    len = MAX_READ_ONE;
  if (len > *budget)
    len = *budget;
  if (len == 0)
    return 0;
  *budget -= len;
  if (s->ops->pread (s, buf, len, offset) == -1) {
    check_error ();
    return -1;
  }
  if (zero)
    for (i = 0; i < len; i++)
      if (buf[i] != 0)
        broken ("ZERO extent does not read as zeros");
  return 0;
}

/* Describe and read the extent at OFFSET; set *NEXT after it. */
static int
visit (struct source *s, uint64_t offset, uint64_t *next, uint64_t *budget)
{
  uint64_t max_len = s->size - offset;
  struct extent e;

  if (max_len > MAX_EXTENT_REQUEST)
    max_len = MAX_EXTENT_REQUEST;
  if (s->ops->extent (s, offset, max_len, &e) == -1) {
    check_error ();
    return -1;
  }
  if (e.offset != offset || e.length == 0 || e.length > max_len)
    broken ("extent out of the request");
  if (e.type != EXTENT_DATA && e.type != EXTENT_ZERO)
    broken ("extent of unknown type");
  *next = offset + e.length;
  return read_some (s, offset, e.length, e.type == EXTENT_ZERO, budget);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct source *s;
  uint64_t offset = 0, next, budget = MAX_READ_TOTAL;
  size_t done = 0;
  ssize_t r;
  int fd, i;

  fd = memfd_create ("fuzz-qcow2", MFD_CLOEXEC);
  if (fd == -1) {
    perror ("memfd_create");
    abort ();
  }
  while (done < size) {
    r = write (fd, data + done, size - done);
    if (r <= 0) {
      perror ("write");
      abort ();
    }
    done += r;
  }

  s = qcow2_source_open ("fuzz.qcow2", fd);
  if (s == NULL) {
    check_error ();
    close (fd);
    return 0;
  }

  /* The extents from the start, then a few far into the disk. */
  for (i = 0; i < MAX_EXTENTS && offset < s->size; i++) {
    if (visit (s, offset, &next, &budget) == -1)
      break;
    offset = next;
  }
  if (s->size > 0) {
    visit (s, s->size - 1, &next, &budget);
    visit (s, s->size / 2, &next, &budget);
    visit (s, s->size / 3 + 1, &next, &budget);
    /* One read that crosses extents, from an odd offset. */
    if (s->size > 1)
      read_some (s, 1, s->size - 1, 0, &budget);
  }

  source_close (s);
  return 0;
}
