/* libFuzzer target for what p2v-fixup's inspection reads from a guest's
 * files (fixup/guestinfo.h): os-release, first lines, /etc/fstab, mount
 * options and device-mapper names.
 *
 * The input, any bytes, goes to each reader, and the contract is checked:
 *
 * - nothing fails (the input is below GUESTINFO_INPUT_MAX) but for
 *   memory;
 * - os-release values and the first line hold no newline, no NUL before
 *   their end, and are at most GUESTINFO_VALUE_MAX bytes; the first line
 *   has no blank at either end;
 * - fstab entries come in increasing line order, each line at most the
 *   number of lines in the input, with a non-empty spec and mount point,
 *   no field holding a newline or longer than GUESTINFO_VALUE_MAX;
 * - the input's first line as a device-mapper name gives an LVM name of
 *   /dev/VG/LV form or none, and as mount options a value only when the
 *   option is there.
 *
 *   make tests/fuzz/fuzz-guestinfo
 *   tests/fuzz/fuzz-guestinfo -max_len=65536 tests/fuzz/fuzz-guestinfo-corpus
 */
#include "guestinfo.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_value (const char *what, const char *v)
{
  if (v == NULL)
    return;
  if (strchr (v, '\n') != NULL || strlen (v) > GUESTINFO_VALUE_MAX) {
    fprintf (stderr, "%s: bad value '%s'\n", what, v);
    abort ();
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *in = (const char *) data;
  struct os_release r;
  struct fstab_entry *e;
  size_t n, i, lines = 1;
  char *line, *s, *value;
  int major, minor;

  for (i = 0; i < size; i++)
    lines += data[i] == '\n';

  if (guestinfo_os_release (in, size, &r) == 0) {
    check_value ("ID", r.id);
    check_value ("PRETTY_NAME", r.pretty_name);
    check_value ("VERSION_ID", r.version_id);
    guestinfo_distro (r.id);
    guestinfo_version (r.version_id, &major, &minor);
    os_release_free (&r);
  }

  line = guestinfo_first_line (in, size);
  check_value ("first line", line);
  if (line
      && (line[0] == ' ' || line[0] == '\t' || line[strlen (line) - 1] == ' '
          || line[strlen (line) - 1] == '\t')) {
    fprintf (stderr, "first line not trimmed: '%s'\n", line);
    abort ();
  }
  if (line) {
    guestinfo_release_version (line, &major, &minor);
    s = guestinfo_dm_to_lv (line);
    if (s
        && (strncmp (s, "/dev/", 5) != 0 || strchr (s + 5, '/') == NULL
            || strchr (strchr (s + 5, '/') + 1, '/') != NULL)) {
      fprintf (stderr, "dm name '%s' -> '%s'\n", line, s);
      abort ();
    }
    free (s);
    if (guestinfo_has_option (line, "subvol", &value) && value
        && strstr (line, "subvol=") == NULL) {
      fprintf (stderr, "option value '%s' from '%s'\n", value, line);
      abort ();
    }
    free (value);
  }
  free (line);

  if (guestinfo_fstab (in, size, &e, &n) == 0) {
    for (i = 0; i < n; i++) {
      if (e[i].line == 0 || e[i].line > lines
          || (i > 0 && e[i].line <= e[i - 1].line) || e[i].spec[0] == '\0'
          || e[i].file[0] == '\0') {
        fprintf (stderr, "fstab entry %zu: line %zu of %zu\n", i, e[i].line,
                 lines);
        abort ();
      }
      check_value ("spec", e[i].spec);
      check_value ("file", e[i].file);
      check_value ("vfstype", e[i].vfstype);
      check_value ("mntops", e[i].mntops);
    }
    fstab_free (e, n);
  }
  return 0;
}
