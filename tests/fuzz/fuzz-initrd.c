/* libFuzzer target for the initramfs lister (fixup/initrd.h): what
 * p2v-fixup reads on the host from a guest's rebuilt initramfs.
 *
 * The input, any bytes, is listed, and the contract is checked:
 *
 * - the result is 0, INITRD_UNSUPPORTED or -1, and a message of one line
 *   is recorded for the last two;
 * - every name is a NUL-terminated string the callback can read whole;
 *   there are at most as many as the input and what it unpacks to have
 *   room for (a header takes 110 bytes);
 * - a callback that stops the listing stops it: the second listing,
 *   stopped at the first name, returns what the callback returned after
 *   exactly one name;
 * - a compressed part unpacks to at most the limit given (4 MiB here,
 *   so that a small input cannot ask for gigabytes).
 *
 *   make tests/fuzz/fuzz-initrd
 *   tests/fuzz/fuzz-initrd -max_len=65536 tests/fuzz/fuzz-initrd-corpus
 */
#include "initrd.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define UNPACKED_LIMIT ((size_t) 4 * 1024 * 1024)
#define CPIO_HEADER_SIZE 110
#define STOPPED 42

struct count {
  size_t names;
  size_t bytes;
  int stop;
};

static int
count_name (const char *name, void *opaque)
{
  struct count *c = opaque;

  c->names++;
  c->bytes += strlen (name); /* reads it to its NUL */
  return c->stop ? STOPPED : 0;
}

static void
check_message (int r)
{
  const char *msg = error_message ();

  if (msg[0] == '\0' || strchr (msg, '\n') != NULL) {
    fprintf (stderr, "result %d with message '%s'\n", r, msg);
    abort ();
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct count c = { 0, 0, 0 }, s = { 0, 0, 1 };
  int r, r2;

  r = initrd_list (data, size, UNPACKED_LIMIT, count_name, &c);
  if (r != 0 && r != INITRD_UNSUPPORTED && r != -1) {
    fprintf (stderr, "initrd_list returned %d\n", r);
    abort ();
  }
  if (r != 0)
    check_message (r);
  /* Every name has a header of its own, in the input or unpacked. */
  if (c.names > (size + UNPACKED_LIMIT) / CPIO_HEADER_SIZE + 1) {
    fprintf (stderr, "%zu names from %zu bytes\n", c.names, size);
    abort ();
  }
  r2 = initrd_list (data, size, UNPACKED_LIMIT, count_name, &s);
  if (c.names > 0 && (r2 != STOPPED || s.names != 1)) {
    fprintf (stderr, "stopped listing: %d after %zu names\n", r2, s.names);
    abort ();
  }
  if (c.names == 0 && (r2 != r || s.names != 0)) {
    fprintf (stderr, "second listing: %d, first %d\n", r2, r);
    abort ();
  }
  return 0;
}
