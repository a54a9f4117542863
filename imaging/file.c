/* p2vkit imaging engine: output files that appear only when complete
 * (see file.h).
 */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

int
file_create_temp (const char *path, bool force, char **final_path,
                  char **tmp_path)
{
  struct stat st;
  char *final = NULL, *tmp = NULL;
  int fd = -1;

  if (stat (path, &st) == 0) {
    /* Never rename over a device, a directory or a pipe: only a file. */
    if (!S_ISREG (st.st_mode))
      return error ("%s: exists and is not a regular file", path);
    if (!force)
      return error ("%s: already exists (use --force to replace it)", path);
  }
  /* Replacing a symbolic link means replacing the file it points to. */
  if (lstat (path, &st) == 0 && S_ISLNK (st.st_mode))
    final = realpath (path, NULL);
  if (final == NULL)
    final = strdup (path);
  if (final == NULL || asprintf (&tmp, "%s%s", final, FILE_PART_SUFFIX) == -1) {
    tmp = NULL;
    error ("%s: out of memory", path);
    goto out;
  }
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd == -1) {
    error_errno (errno, "%s: create", path);
    goto out;
  }
  *final_path = final;
  *tmp_path = tmp;
  return fd;

out:
  free (final);
  free (tmp);
  return -1;
}

int
file_sync_dir (const char *path)
{
  char *copy = strdup (path);
  int fd, r = 0;

  if (copy == NULL)
    return error ("%s: out of memory", path);
  fd = open (dirname (copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1 || fsync (fd) == -1)
    r = error_errno (errno, "%s: sync directory", path);
  if (fd >= 0)
    close (fd);
  free (copy);
  return r;
}

int
file_commit (int fd, const char *tmp_path, const char *path,
             const struct sink_options *opts)
{
  int r;

  if (opts->sync && fdatasync (fd) == -1) {
    error_errno (errno, "%s: sync", tmp_path);
    close (fd);
    return -1;
  }
  if (close (fd) == -1)
    return error_errno (errno, "%s: close", tmp_path);

  if (opts->force)
    r = rename (tmp_path, path);
  else {
    r = renameat2 (AT_FDCWD, tmp_path, AT_FDCWD, path, RENAME_NOREPLACE);
    if (r == -1 && errno == EINVAL)     /* the filesystem cannot say */
      r = rename (tmp_path, path);
  }
  if (r == -1) {
    if (errno == EEXIST)
      return error ("%s: appeared while writing (use --force to replace "
                    "it)",
                    path);
    return error_errno (errno, "%s: rename to %s", tmp_path, path);
  }
  if (opts->sync)
    return file_sync_dir (path);
  return 0;
}

int
file_pwrite_all (int fd, const void *buf, size_t len, uint64_t offset)
{
  const char *p = buf;
  ssize_t r;

  while (len > 0) {
    r = pwrite (fd, p, len, offset);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return error_errno (errno, "write at offset %" PRIu64, offset);
    }
    p += r;
    len -= r;
    offset += r;
  }
  return 0;
}

int
file_map (int fd, uint64_t offset, size_t len, const void **addr)
{
  uint64_t delta = offset % (uint64_t) sysconf (_SC_PAGESIZE);
  void *p;

  /* MAP_POPULATE maps the whole range at once instead of taking one page
   * fault per page.
   */
  p = mmap (NULL, len + delta, PROT_READ, MAP_SHARED | MAP_POPULATE, fd,
            offset - delta);
  if (p == MAP_FAILED)
    return -1;
  *addr = (const char *) p + delta;
  return 0;
}

void
file_unmap (const void *addr, size_t len)
{
  uintptr_t delta = (uintptr_t) addr % (uintptr_t) sysconf (_SC_PAGESIZE);

  munmap ((char *) addr - delta, len + delta);
}

bool
file_same (const char *a, const char *b)
{
  struct stat sa, sb;

  if (stat (a, &sa) == -1 || stat (b, &sb) == -1)
    return false;
  if (S_ISBLK (sa.st_mode) && S_ISBLK (sb.st_mode))
    return sa.st_rdev == sb.st_rdev;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
