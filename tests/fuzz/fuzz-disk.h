/* What the libFuzzer targets that read a disk from their input share:
 * the disk of SIZE bytes is the input's LEN bytes at DATA from offset 0,
 * and zeros past them.  A read past the disk's end is a broken contract
 * of the code under test: the target PROG aborts.
 */
#ifndef P2V_FUZZ_DISK_H
#define P2V_FUZZ_DISK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void
fuzz_disk_read (const char *prog, const uint8_t *data, size_t len,
                uint64_t size, void *buf, size_t n, uint64_t offset)
{
  if (offset > size || n > size - offset) {
    fprintf (stderr, "%s: read of %zu at %llu past the end\n", prog, n,
             (unsigned long long) offset);
    abort ();
  }
  memset (buf, 0, n);
  if (offset < len)
    memcpy (buf, data + offset, len - offset < n ? len - offset : n);
}

#endif /* P2V_FUZZ_DISK_H */
