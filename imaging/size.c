/* p2vkit imaging engine: sizes for people and from people (see size.h). */
#include "size.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static const char units[] = "KMGTPE";

char *
size_human (uint64_t n, char buf[SIZE_HUMAN_MAX])
{
  double v = (double) n;
  int u = -1;

  while (v >= 1024 && u < (int) sizeof units - 2) {
    v /= 1024;
    u++;
  }
  if (u < 0)
    snprintf (buf, SIZE_HUMAN_MAX, "%" PRIu64 " B", n);
  else
    snprintf (buf, SIZE_HUMAN_MAX, "%.1f %ciB", v, units[u]);
  return buf;
}

int
size_parse (const char *s, uint64_t *n)
{
  char *end;
  unsigned long long v;
  const char *u;
  int shift = 0;

  if (s[0] < '0' || s[0] > '9')
    return error ("'%s': not a size", s);
  errno = 0;
  v = strtoull (s, &end, 10);
  if (errno)
    return error ("'%s': not a size", s);
  if (*end) {
    u = strchr (units, toupper ((unsigned char) *end));
    if (u == NULL || *end == '\0')
      return error ("'%s': unknown size suffix", s);
    shift = 10 * (int) (u - units + 1);
    end++;
    if (strcmp (end, "") != 0 && strcmp (end, "iB") != 0
        && strcmp (end, "B") != 0)
      return error ("'%s': unknown size suffix", s);
  }
  if (shift && v > (UINT64_MAX >> shift))
    return error ("'%s': size too large", s);
  *n = (uint64_t) v << shift;
  return 0;
}
