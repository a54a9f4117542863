/* p2v-send: what `auto` means: every local disk worth converting (see
 * inventory_local_disks), except the one the running system lives on,
 * which on the live ISO is the boot medium, not the machine's.
 */
#include "send.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "error.h"
#include "inventory.h"

/* The places whose disks are the running system's own. */
static const char *const system_paths[] = { "/", "/run/live/medium" };

/* The whole disk (e.g. "sda") holding the filesystem of PATH, into DISK;
 * false if it is not on a disk (tmpfs, overlay, missing).
 */
static bool
disk_of (const char *path, char disk[NAME_MAX + 1])
{
  char link[PATH_MAX], target[PATH_MAX], *base;
  struct stat st;
  ssize_t n;

  if (stat (path, &st) == -1 || major (st.st_dev) == 0)
    return false;
  snprintf (link, sizeof link, "/sys/dev/block/%u:%u", major (st.st_dev),
            minor (st.st_dev));
  n = readlink (link, target, sizeof target - 1);
  if (n == -1)
    return false;
  target[n] = '\0';
  /* .../block/sda/sda1 for a partition, .../block/sda for a disk. */
  base = strstr (target, "/block/");
  if (base == NULL)
    return false;
  base += strlen ("/block/");
  base[strcspn (base, "/")] = '\0';
  snprintf (disk, NAME_MAX + 1, "%s", base);
  return true;
}

int
send_auto_disks (char ***disks, size_t *n)
{
  char own[sizeof system_paths / sizeof system_paths[0]][NAME_MAX + 1];
  size_t n_own = 0, i, j, kept = 0;
  char **all = NULL;
  size_t n_all = 0;

  for (i = 0; i < sizeof system_paths / sizeof system_paths[0]; i++)
    if (disk_of (system_paths[i], own[n_own]))
      n_own++;
  if (inventory_local_disks (&all, &n_all) == -1)
    return -1;
  for (i = 0; i < n_all; i++) {
    const char *name
      = strrchr (all[i], '/') ? strrchr (all[i], '/') + 1 : all[i];
    bool skip = false;

    for (j = 0; j < n_own; j++)
      if (strcmp (name, own[j]) == 0)
        skip = true;
    if (skip)
      free (all[i]);
    else
      all[kept++] = all[i];
  }
  if (kept == 0) {
    free (all);
    return error ("auto: no local disks to send (the running system's own "
                  "disk is left out)");
  }
  *disks = all;
  *n = kept;
  return 0;
}
