/* libFuzzer target for the allocation maps (imaging/allocmap*.c): what
 * p2v-send, v2p-send and p2v-convert read from a disk's partition table,
 * ext2/3/4 superblock and bitmaps (through libext2fs), XFS superblock,
 * AGFs and free-space B-trees, swap header, and LVM2 label, metadata
 * area and text, to leave out the blocks that nothing uses.
 *
 * The first 4 bytes give the disk's size (a multiple of 512, from 64 KiB
 * to 64 MiB); the rest is the disk from offset 0, which reads as zeros
 * past the input.  Whatever the disk holds, allocmap_source() must not
 * fail, and the source it returns must describe the whole disk as
 * extents that tile it, in order, and read as the disk or as zeros.
 *
 *   make tests/fuzz/fuzz-allocmap
 *   tests/fuzz/fuzz-allocmap tests/fuzz/fuzz-allocmap-corpus
 */
#include "allocmap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "fuzz-disk.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define SIZE_BYTES 4
#define MIN_DISK (64ULL * 1024)
#define MAX_DISK (64ULL * 1024 * 1024)
#define PROBE_LEN 4096

struct disk {
  struct source s;              /* must be first */
  const uint8_t *data;
  size_t len;
};

static int
disk_pread (struct source *s, void *buf, size_t len, uint64_t offset)
{
  const struct disk *d = (const struct disk *) s;

  fuzz_disk_read ("fuzz-allocmap", d->data, d->len, s->size, buf, len, offset);
  return 0;
}

static void
disk_close (struct source *s)
{
  (void) s;
}

static const struct source_ops disk_ops = {
  .format = "raw",
  .extent = source_extent_all_data,
  .pread = disk_pread,
  .close = disk_close,
};

static void
bad (const char *what, uint64_t offset)
{
  fprintf (stderr, "fuzz-allocmap: %s at %llu: %s\n", what,
           (unsigned long long) offset, error_message ());
  abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  unsigned char got[PROBE_LEN], want[PROBE_LEN];
  struct disk d
    = { .s = { .ops = &disk_ops, .name = (char *) "fuzz", .fd = -1 } };
  struct source *src = &d.s;
  uint64_t n = 0, offset = 0;
  struct extent e;
  size_t i;

  if (size < SIZE_BYTES)
    return 0;
  for (i = 0; i < SIZE_BYTES; i++)
    n = n << 8 | data[i];
  d.s.size = (MIN_DISK + n % MAX_DISK) / 512 * 512;
  d.data = data + SIZE_BYTES;
  d.len = size - SIZE_BYTES;
  if (allocmap_source (&src, NULL) == -1)
    bad ("allocmap_source failed", 0);

  /* The extents tile the disk; each one's first bytes read as the disk
   * (DATA) or as zeros (ZERO).
   */
  while (offset < src->size) {
    size_t len;

    if (src->ops->extent (src, offset, src->size - offset, &e) == -1)
      bad ("extent failed", offset);
    if (e.offset != offset || e.length == 0 || e.length > src->size - offset)
      bad ("extent out of place", offset);
    len = e.length < PROBE_LEN ? e.length : PROBE_LEN;
    if (src->ops->pread (src, got, len, offset) == -1)
      bad ("pread failed", offset);
    disk_pread (&d.s, want, len, offset);
    if (e.type == EXTENT_ZERO)
      memset (want, 0, len);
    if (memcmp (got, want, len) != 0)
      bad ("wrong bytes", offset);
    offset += e.length;
  }
  source_close (src);           /* the wrapper, which closes the disk */
  return 0;
}
