/* p2vkit fixup: module lists and our configuration block (initramfs.h). */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "initramfs.h"

static bool
same_module_char (char a, char b)
{
  return (a == '-' ? '_' : a) == (b == '-' ? '_' : b);
}

bool
initramfs_module_listed (const char *in, size_t len, const char *name)
{
  size_t pos = 0, start, end, base, i, nlen = strlen (name);

  while (pos < len) {
    start = pos;
    while (pos < len && in[pos] != '\n')
      pos++;
    pos++;
    /* The path: up to the ':' of modules.dep, or the whole line. */
    for (end = start; end < len && in[end] != '\n' && in[end] != ':'; end++)
      ;
    base = start;
    for (i = start; i < end; i++)
      if (in[i] == '/')
        base = i + 1;
    if (end - base < nlen + 3 || memcmp (in + base + nlen, ".ko", 3) != 0)
      continue;
    /* .ko, .ko.xz, .ko.zst, .ko.gz; not .kobj */
    i = base + nlen + 3;
    if (i < end && in[i] != '.' && in[i] != ' ' && in[i] != '\t'
        && in[i] != '\r')
      continue;
    for (i = 0; i < nlen && same_module_char (in[base + i], name[i]); i++)
      ;
    if (i == nlen)
      return true;
  }
  return false;
}

static bool
line_starts (const char *line, size_t len, const char *marker)
{
  size_t mlen = strlen (marker);

  return len >= mlen && memcmp (line, marker, mlen) == 0;
}

int
initramfs_set_block (const char *in, size_t len, const char *block, char **out,
                     size_t *out_len)
{
  size_t pos = 0, start, used = 0, blen = block ? strlen (block) : 0;
  bool inside = false;
  char *buf;

  buf = malloc (len + blen + 2);
  if (buf == NULL)
    return error ("out of memory");
  while (pos < len) {
    start = pos;
    while (pos < len && in[pos] != '\n')
      pos++;
    if (pos < len)
      pos++;                    /* the line with its newline */
    if (!inside && line_starts (in + start, pos - start, INITRAMFS_BLOCK_BEGIN))
      inside = true;
    else if (inside) {
      if (line_starts (in + start, pos - start, INITRAMFS_BLOCK_END))
        inside = false;
    }
    else {
      memcpy (buf + used, in + start, pos - start);
      used += pos - start;
    }
  }
  if (block) {
    if (used > 0 && buf[used - 1] != '\n')
      buf[used++] = '\n';
    memcpy (buf + used, block, blen);
    used += blen;
  }
  buf[used] = '\0';
  *out = buf;
  *out_len = used;
  return 0;
}
