/* Read an inventory, parse it as the receiver of untrusted input would,
 * and write it back.
 *
 *   test-inventory IN.xml [OUT.xml]
 *
 * IN.xml "-" is stdin.  It is read whole (up to one byte more than the
 * parser's limit, so that the parser sees an oversized input as such),
 * given to inventory_parse_xml(), and the result written with
 * inventory_write_xml() to OUT.xml (replacing it), or to stdout.
 * tests/t-inventory.sh checks that what p2v-inventory writes comes back
 * unchanged and that hostile inputs are refused.
 *
 * Exit status: 0 success, 1 failure (with one line on stderr), 77 when
 * run without arguments (by a harness that runs every unit program).
 */
#include "inventory.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

#define EXIT_SKIP 77

/* One byte more than the parser accepts. */
#define READ_MAX (INVENTORY_XML_MAX + 1)

static const char *prog = "test-inventory";

/* Read up to READ_MAX bytes of PATH into *BUF (caller frees). */
static int
read_input (const char *path, char **buf, size_t *len)
{
  char *b;
  size_t n = 0;
  ssize_t r;
  int fd, ret = -1;

  fd = strcmp (path, "-") == 0 ? STDIN_FILENO
                               : open (path, O_RDONLY | O_CLOEXEC);
  if (fd == -1)
    return error_errno (errno, "%s: open", path);
  b = malloc (READ_MAX);
  if (b == NULL) {
    error ("out of memory");
    goto out;
  }
  while (n < READ_MAX) {
    r = read (fd, b + n, READ_MAX - n);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      error_errno (errno, "%s: read", path);
      goto out;
    }
    if (r == 0)
      break;
    n += r;
  }
  *buf = b;
  *len = n;
  b = NULL;
  ret = 0;

out:
  free (b);
  if (fd != STDIN_FILENO)
    close (fd);
  return ret;
}

int
main (int argc, char *argv[])
{
  struct inventory inv = { 0 };
  char *buf = NULL;
  size_t len = 0;
  int status = EXIT_FAILURE;

  if (argc == 1) {
    fprintf (stderr, "%s: usage: %s IN.xml [OUT.xml] (nothing to do)\n", prog,
             prog);
    exit (EXIT_SKIP);
  }
  if (argc > 3) {
    fprintf (stderr, "%s: usage: %s IN.xml [OUT.xml]\n", prog, prog);
    exit (EXIT_FAILURE);
  }

  if (read_input (argv[1], &buf, &len) == -1)
    goto out;
  if (inventory_parse_xml (buf, len, &inv) == -1) {
    error_prefix ("%s", argv[1]);
    goto out;
  }
  if (inventory_write_xml (&inv, argc == 3 ? argv[2] : "-", true) == -1)
    goto out;
  status = EXIT_SUCCESS;

out:
  if (status != EXIT_SUCCESS)
    fprintf (stderr, "%s: %s\n", prog, error_message ());
  inventory_free (&inv);
  free (buf);
  return status;
}
