/* p2vkit fixup: /etc/fstab and /etc/crypttab (see rewrite.h).
 *
 * Both are tables of fields separated by spaces and tabs, one entry a
 * line, with comments from a "#" at the start of a line; fstab(5),
 * crypttab(5).  Only one field of each changes: fstab's first, the device
 * to mount, and crypttab's second, the encrypted device.  Whatever the
 * other fields say, a first field in the map is a device of the guest:
 * a bind mount's or a network filesystem's first field is not a /dev name,
 * and is never in the map.
 */
#include "rewrite-internal.h"

#define FSTAB_DEVICE_FIELD 1
#define CRYPTTAB_DEVICE_FIELD 2

/* Find field number FIELD (from 1) of the entry IN[START, END) and scan
 * it as a device.  Blank lines, comments and short entries have none.
 */
static int
scan_field (struct scan *s, size_t start, size_t end, int field)
{
  size_t i = start, f;
  int n;

  for (n = 1;; n++) {
    while (i < end && is_blank (s->in[i]))
      i++;
    if (i == end || (n == 1 && s->in[i] == '#'))
      return 0;
    f = i;
    while (i < end && !is_blank (s->in[i]))
      i++;
    if (n == field)
      return scan_device (s, f, i - f);
  }
}

static int
rewrite_table (const char *in, size_t len, const struct devmap *map, char **out,
               size_t *out_len, struct rewrite_log *log, int field,
               bool decode_octal)
{
  struct scan s;
  size_t pos = 0, start, end;
  int ret = -1;

  if (scan_init (&s, in, len, map, decode_octal) == -1)
    goto out;
  while (next_line (in, len, &pos, &start, &end))
    if (scan_field (&s, start, end, field) == -1)
      goto out;
  ret = scan_finish (&s, out, out_len, log);
out:
  scan_free (&s);
  return ret;
}

int
rewrite_fstab (const char *in, size_t len, const struct devmap *map, char **out,
               size_t *out_len, struct rewrite_log *log)
{
  return rewrite_table (in, len, map, out, out_len, log, FSTAB_DEVICE_FIELD,
                        true);
}

/* The source field is looked up as it is: device names need no escapes,
 * and crypttab's readers do not agree on any.
 */
int
rewrite_crypttab (const char *in, size_t len, const struct devmap *map,
                  char **out, size_t *out_len, struct rewrite_log *log)
{
  return rewrite_table (in, len, map, out, out_len, log, CRYPTTAB_DEVICE_FIELD,
                        false);
}
