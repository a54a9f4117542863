/* Changes in place in a qcow2 image (imaging/qcow2-patch.h), for
 * tests/t-qcow2-patch.sh: apply the same random changes to IMAGE (qcow2)
 * and to RAW (its contents as a raw file), so that the script can compare
 * them with qemu-img.
 *
 *   test-qcow2-patch IMAGE RAW SEED COUNT
 *
 * Each change is, at random: data over one or more whole clusters, data
 * inside one cluster, or zeros; at random places (holes, allocated
 * clusters, the end of the disk), in increasing order as a round sends
 * them.  Exit status 0, or 1 with the error on stderr.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "file.h"
#include "qcow2-patch.h"
#include "sink.h"

#define MAX_CHANGE (256 * 1024)

/* xorshift64: the same changes for the same seed. */
static uint64_t state;

static uint64_t
next (void)
{
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

static int
compare_offsets (const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

  return x < y ? -1 : x > y;
}

int
main (int argc, char *argv[])
{
  static unsigned char buf[MAX_CHANGE];
  uint64_t size, *offsets = NULL, end = 0;
  struct sink *k = NULL;
  long count, i;
  int raw, ret = 1;
  size_t j;

  if (argc != 5) {
    fprintf (stderr, "usage: test-qcow2-patch IMAGE RAW SEED COUNT\n");
    return 2;
  }
  state = strtoull (argv[3], NULL, 10) * 2654435761ULL + 1;
  count = strtol (argv[4], NULL, 10);
  raw = open (argv[2], O_WRONLY);
  if (raw == -1) {
    perror (argv[2]);
    return 1;
  }
  size = (uint64_t) lseek (raw, 0, SEEK_END);
  k = qcow2_patch_open (argv[1], size);
  offsets = malloc (count * sizeof *offsets);
  if (k == NULL || offsets == NULL)
    goto out;
  for (i = 0; i < count; i++)
    offsets[i] = next () % size;
  qsort (offsets, count, sizeof *offsets, compare_offsets);
  for (i = 0; i < count; i++) {
    uint64_t off = offsets[i], len;
    unsigned kind = next () % 3;
    int r;

    if (off < end)
      off = end;
    if (off >= size)
      break;
    len = 1 + next () % (kind == 1 ? 4096 : MAX_CHANGE);
    if (len > size - off)
      len = size - off;
    if (kind == 2) {
      memset (buf, 0, len);
      r = k->ops->zero (k, off, len);
    }
    else {
      for (j = 0; j < len; j++)
        buf[j] = (unsigned char) next ();
      r = k->ops->write (k, buf, len, off);
    }
    if (r == -1 || file_pwrite_all (raw, buf, len, off) == -1)
      goto out;
    end = off + len;
  }
  if (k->ops->finish (k) == -1)
    goto out;
  ret = 0;

out:
  if (ret)
    fprintf (stderr, "test-qcow2-patch: %s\n", error_message ());
  sink_free (k);
  free (offsets);
  close (raw);
  return ret;
}
