/* libFuzzer target for the partition table reader (imaging/parttable.c):
 * what v2p-send and v2p-write read from an image's first sectors to know
 * how much of the disk a smaller target must hold.
 *
 * The first 8 bytes give the disk's size (a multiple of 512, from 1 KiB to
 * 1 TiB); the rest is the disk from offset 0, which reads as zeros past
 * the input.  What the reader says must be sane: the disk needs at most
 * all of itself, and every error is one line of text.
 *
 *   make tests/fuzz/fuzz-parttable
 *   tests/fuzz/fuzz-parttable tests/fuzz/fuzz-parttable-corpus
 */
#include "parttable.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fuzz-disk.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define SIZE_BYTES 8
#define MIN_DISK 1024ULL
#define MAX_DISK (1ULL << 40)

struct disk {
  const uint8_t *data;
  size_t len;
  uint64_t size;
};

static int
read_disk (void *arg, void *buf, size_t len, uint64_t offset)
{
  const struct disk *d = arg;

  fuzz_disk_read ("fuzz-parttable", d->data, d->len, d->size, buf, len, offset);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct parttable pt;
  struct disk d;
  uint64_t n = 0;
  size_t i;

  if (size < SIZE_BYTES)
    return 0;
  for (i = 0; i < SIZE_BYTES; i++)
    n = n << 8 | data[i];
  d.size = (MIN_DISK + n % MAX_DISK) / 512 * 512;
  d.data = data + SIZE_BYTES;
  d.len = size - SIZE_BYTES;
  if (parttable_probe (read_disk, &d, d.size, &pt) == -1 || pt.needed == 0
      || pt.needed > d.size
      || (pt.type == PARTTABLE_NONE && pt.needed != d.size)) {
    fprintf (stderr, "fuzz-parttable: bad answer: %s, needed %llu of %llu\n",
             parttable_type_name (pt.type), (unsigned long long) pt.needed,
             (unsigned long long) d.size);
    abort ();
  }
  return 0;
}
