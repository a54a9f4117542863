/* p2v-fixup: the guest's files, and the device names in them.
 *
 * Only regular files are read and rewritten, never through a symbolic
 * link: a link in the guest may point anywhere (an absolute one would be
 * followed in the appliance, not in the guest), and the file it names is
 * found under its own name anyway (/etc/grub2.cfg -> /boot/grub2/grub.cfg).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "p2v-fixup.h"

static void print_log_warnings (struct fixup *f, size_t first);

/* The guestfs test TEST of PATH (symbolic links not followed), with no
 * error message: an error is "no".
 */
static bool
quiet_test (struct fixup *f, int (*test) (guestfs_h *, const char *),
            const char *path)
{
  int r;

  guestfs_push_error_handler (f->g, NULL, NULL);
  r = test (f->g, path);
  guestfs_pop_error_handler (f->g);
  return r == 1;
}

bool
guest_is_file (struct fixup *f, const char *path)
{
  return quiet_test (f, guestfs_is_file, path);
}

bool
guest_is_dir (struct fixup *f, const char *path)
{
  return quiet_test (f, guestfs_is_dir, path);
}

bool
guest_exists (struct fixup *f, const char *path)
{
  return quiet_test (f, guestfs_is_file, path)
    || quiet_test (f, guestfs_is_symlink, path);
}

int
guest_read (struct fixup *f, const char *path, char **buf, size_t *len)
{
  int64_t size;

  size = guestfs_filesize (f->g, path);
  if (size == -1)
    return guest_error (f, path);
  if (size > REWRITE_INPUT_MAX)
    return error ("%s: %lld bytes, more than a configuration file can be "
                  "(%d)",
                  path, (long long) size, REWRITE_INPUT_MAX);
  *buf = guestfs_read_file (f->g, path, len);
  if (*buf == NULL)
    return guest_error (f, path);
  return 0;
}

/* mkdir -p the directory PATH is in. */
static int
make_parent (struct fixup *f, const char *path)
{
  char *dir = strdup (path), *slash;
  int ret = 0;

  if (dir == NULL)
    return error ("out of memory");
  slash = strrchr (dir, '/');
  if (slash && slash != dir) {
    *slash = '\0';
    if (!guest_is_dir (f, dir) && guestfs_mkdir_p (f->g, dir) == -1)
      ret = guest_error (f, dir);
  }
  free (dir);
  return ret;
}

int
guest_write (struct fixup *f, const char *path, const char *buf, size_t len,
             enum file_action action, int mode)
{
  if (action == FILE_CREATED && make_parent (f, path) == -1)
    return -1;
  /* guestfs_write truncates an existing file: its owner and mode stay. */
  if (guestfs_write (f->g, path, buf, len) == -1)
    return guest_error (f, path);
  if (action == FILE_CREATED && guestfs_chmod (f->g, mode, path) == -1)
    return guest_error (f, path);
  return fixup_note_file (f, path, action);
}

int
guest_remove (struct fixup *f, const char *path)
{
  if (!guest_is_file (f, path))
    return 0;
  if (guestfs_rm (f->g, path) == -1)
    return guest_error (f, path);
  return fixup_note_file (f, path, FILE_DELETED);
}

void
free_list (char **list, size_t n)
{
  size_t i;

  if (list == NULL)
    return;
  for (i = 0; i < n; i++)
    free (list[i]);
  free (list);
}

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
guest_list (struct fixup *f, const char *dir, const char *suffix, char ***paths,
            size_t *n)
{
  char **names, **out = NULL, *path;
  size_t i, len, slen = strlen (suffix), count = 0;
  int ret = -1;

  *paths = NULL;
  *n = 0;
  if (!guest_is_dir (f, dir))
    return 0;
  names = guestfs_ls (f->g, dir);
  if (names == NULL)
    return guest_error (f, dir);
  for (i = 0; names[i]; i++)
    ;
  out = calloc (i + 1, sizeof *out);
  if (out == NULL) {
    error ("out of memory");
    goto out;
  }
  for (i = 0; names[i]; i++) {
    len = strlen (names[i]);
    if (len < slen || strcmp (names[i] + len - slen, suffix) != 0)
      continue;
    if (asprintf (&path, "%s/%s", dir, names[i]) == -1) {
      error ("out of memory");
      goto out;
    }
    if (!guest_is_file (f, path)) {
      free (path);
      continue;
    }
    out[count++] = path;
  }
  qsort (out, count, sizeof *out, compare_strings);
  *paths = out;
  *n = count;
  out = NULL;
  count = 0;
  ret = 0;
out:
  free_list (out, count);
  for (i = 0; names[i]; i++)
    free (names[i]);
  free (names);
  return ret;
}

int
guest_rewrite (struct fixup *f, const char *path, rewrite_fn *rewrite)
{
  char *in = NULL, *out = NULL;
  size_t len, out_len, first = f->log.n;
  int changed, ret = -1;

  if (!guest_is_file (f, path))
    return 0;
  if (guest_read (f, path, &in, &len) == -1)
    return -1;
  if (rewrite_log_set_file (&f->log, path) == -1)
    goto out;
  changed = rewrite (in, len, &f->map, &out, &out_len, &f->log);
  if (changed == -1) {
    error_prefix ("%s", path);
    goto out;
  }
  print_log_warnings (f, first);
  if (changed > 0) {
    if (guest_write (f, path, out, out_len, FILE_CHANGED, GUEST_CONFIG_MODE)
        == -1)
      goto out;
    fixup_step (f, "%s: %d line%s changed", path, changed,
                changed == 1 ? "" : "s");
  }
  ret = 0;
out:
  free (in);
  free (out);
  return ret;
}

int
guest_set_file (struct fixup *f, const char *path, const char *contents,
                int mode)
{
  char *old = NULL;
  size_t len;
  bool exists = guest_is_file (f, path), same;

  if (contents == NULL)
    return exists ? guest_remove (f, path) : 0;
  if (exists) {
    if (guest_read (f, path, &old, &len) == -1)
      return -1;
    same = len == strlen (contents) && memcmp (old, contents, len) == 0;
    free (old);
    if (same)
      return 0;
  }
  return guest_write (f, path, contents, strlen (contents),
                      exists ? FILE_CHANGED : FILE_CREATED, mode);
}

/* Print the warnings the log got from FIRST on. */
static void
print_log_warnings (struct fixup *f, size_t first)
{
  const struct rewrite_log_entry *e;
  size_t i;

  if (f->cli->quiet)
    return;
  for (i = first; i < f->log.n; i++) {
    e = &f->log.entries[i];
    if (e->kind == REWRITE_WARNING)
      fprintf (stderr, "%s: warning: %s:%zu: %s\n", f->cli->prog,
               e->file ? e->file : "?", e->line, e->message);
  }
}

int
guest_edit (struct fixup *f, const char *path, edit_fn *edit)
{
  char *in = NULL, *out = NULL;
  size_t len, out_len, first = f->log.n;
  int changed, ret = -1;

  if (!guest_is_file (f, path))
    return 0;
  if (guest_read (f, path, &in, &len) == -1)
    return -1;
  if (rewrite_log_set_file (&f->log, path) == -1)
    goto out;
  changed = edit (in, len, &out, &out_len, &f->log);
  if (changed == -1) {
    error_prefix ("%s", path);
    goto out;
  }
  print_log_warnings (f, first);
  if (changed > 0) {
    if (guest_write (f, path, out, out_len, FILE_CHANGED, GUEST_CONFIG_MODE)
        == -1)
      goto out;
    fixup_step (f, "%s: %d line%s changed", path, changed,
                changed == 1 ? "" : "s");
  }
  ret = 0;
out:
  free (in);
  free (out);
  return ret;
}

/* Where device names live, file by file. */
static const struct {
  const char *path;
  rewrite_fn *rewrite;
} device_files[] = {
  { "/etc/fstab", rewrite_fstab },
  { "/etc/crypttab", rewrite_crypttab },
  { "/etc/default/grub", rewrite_grub_default },
  { "/boot/grub/grub.cfg", rewrite_grub_cfg },
  { "/boot/grub2/grub.cfg", rewrite_grub_cfg },
  { "/boot/grub/menu.lst", rewrite_grub_cfg },
  { "/etc/kernel/cmdline", rewrite_cmdline },
  { "/etc/initramfs-tools/conf.d/resume", rewrite_resume_conf },
};

/* And directories of them. */
static const struct {
  const char *dir;
  const char *suffix;
  rewrite_fn *rewrite;
} device_dirs[] = {
  { "/etc/default/grub.d", ".cfg", rewrite_grub_default },
  { "/boot/loader/entries", ".conf", rewrite_cmdline },
};

int
files_rewrite_devices (struct fixup *f)
{
  char **paths;
  size_t i, j, n;

  fixup_step (f, "Rewriting device names to UUID=");
  for (i = 0; i < sizeof device_files / sizeof device_files[0]; i++)
    if (guest_rewrite (f, device_files[i].path, device_files[i].rewrite) == -1)
      return -1;
  for (i = 0; i < sizeof device_dirs / sizeof device_dirs[0]; i++) {
    if (guest_list (f, device_dirs[i].dir, device_dirs[i].suffix, &paths, &n)
        == -1)
      return -1;
    for (j = 0; j < n; j++)
      if (guest_rewrite (f, paths[j], device_dirs[i].rewrite) == -1) {
        free_list (paths, n);
        return -1;
      }
    free_list (paths, n);
  }
  return 0;
}
