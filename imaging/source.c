/* p2vkit imaging engine: opening a source (see source.h). */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "qcow2.h"

struct source *
source_open (const char *path, const char *format)
{
  unsigned char magic[4];
  struct source *s = NULL;
  struct stat st;
  ssize_t r;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    error_errno (errno, "%s: open", path);
    return NULL;
  }

  if (fstat (fd, &st) == -1) {
    error_errno (errno, "%s: stat", path);
    goto out;
  }
  if (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode)) {
    error ("%s: not a regular file or block device", path);
    goto out;
  }

  if (format == NULL) {
    r = pread (fd, magic, sizeof magic, 0);
    if (r == -1) {
      error_errno (errno, "%s: read", path);
      goto out;
    }
    format
      = r == sizeof magic && be32_get (magic) == QCOW2_MAGIC ? "qcow2" : "raw";
  }

  if (strcmp (format, "qcow2") == 0)
    s = qcow2_source_open (path, fd);
  else if (strcmp (format, "raw") == 0)
    s = raw_source_open (path, fd);
  else
    error ("%s: unknown format '%s'", path, format);

out:
  if (s == NULL)
    close (fd);
  return s;
}

int
source_extent_all_data (struct source *s, uint64_t offset, uint64_t max_len,
                        struct extent *e)
{
  e->offset = offset;
  e->length = s->size - offset < max_len ? s->size - offset : max_len;
  e->type = EXTENT_DATA;
  return 0;
}
