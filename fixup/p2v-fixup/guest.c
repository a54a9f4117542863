/* p2v-fixup: the libguestfs appliance, the inspection of the guest, what
 * we refuse, the device map and the mounts.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "p2v-fixup.h"

/* Memory of the appliance: dracut and mkinitramfs compress a generic
 * initramfs of a few dozen MiB in it.
 */
#define APPLIANCE_MEMORY_MIB 1024
/* Virtual CPUs of the appliance: the initramfs compression uses them. */
#define APPLIANCE_MAX_CPUS 4

int
guest_error (struct fixup *f, const char *what)
{
  const char *msg = f->g ? guestfs_last_error (f->g) : NULL;

  if (msg == NULL)
    return error ("%s: libguestfs failed", what);
  return error ("%s: %s", what, msg);
}

static void
free_strings (char **list)
{
  size_t i;

  if (list == NULL)
    return;
  for (i = 0; list[i]; i++)
    free (list[i]);
  free (list);
}

int
guest_open (struct fixup *f)
{
  long cpus = sysconf (_SC_NPROCESSORS_ONLN);
  size_t i;

  f->g = guestfs_create ();
  if (f->g == NULL)
    return error ("cannot create a libguestfs handle");
  /* Errors come back to us (guest_error), not on stderr. */
  guestfs_set_error_handler (f->g, NULL, NULL);
  if (f->cli->verbose >= 2) {
    guestfs_set_verbose (f->g, 1);
    guestfs_set_trace (f->g, 1);
  }
  if (guestfs_get_memsize (f->g) < APPLIANCE_MEMORY_MIB
      && guestfs_set_memsize (f->g, APPLIANCE_MEMORY_MIB) == -1)
    return guest_error (f, "libguestfs");
  if (cpus > 1
      && guestfs_set_smp (
           f->g, cpus > APPLIANCE_MAX_CPUS ? APPLIANCE_MAX_CPUS : (int) cpus)
        == -1)
    return guest_error (f, "libguestfs");
  for (i = 0; i < f->n_images; i++)
    if (guestfs_add_drive_opts (f->g, f->overlays[i],
                                GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2", -1)
        == -1)
      return guest_error (f, f->images[i]);

  fixup_step (f, "Starting the libguestfs appliance (%zu disk%s)", f->n_images,
              f->n_images == 1 ? "" : "s");
  if (guestfs_launch (f->g) == -1)
    return guest_error (f, "starting the libguestfs appliance");
  return 0;
}

/* Is there a LUKS volume among the partitions?  Then a guest without a
 * root filesystem probably has it encrypted.  (list_filesystems leaves
 * LUKS volumes out.)
 */
static bool
has_luks (struct fixup *f)
{
  char **parts = guestfs_list_partitions (f->g), *type;
  bool found = false;
  size_t i;

  if (parts == NULL)
    return false;
  guestfs_push_error_handler (f->g, NULL, NULL);
  for (i = 0; parts[i]; i++) {
    type = guestfs_vfs_type (f->g, parts[i]);
    if (type && strcmp (type, "crypto_LUKS") == 0)
      found = true;
    free (type);
  }
  guestfs_pop_error_handler (f->g);
  free_strings (parts);
  return found;
}

int
guest_inspect (struct fixup *f)
{
  char **roots;
  size_t n;
  int ret = -1;

  fixup_step (f, "Inspecting the guest");
  roots = guestfs_inspect_os (f->g);
  if (roots == NULL)
    return guest_error (f, "inspecting the guest");
  for (n = 0; roots[n]; n++)
    ;
  if (n == 0) {
    if (has_luks (f))
      error ("no operating system found: the disks hold LUKS-encrypted "
             "volumes, which p2v-fixup cannot open");
    else
      error ("no operating system found on %s%s", f->images[0],
             f->n_images > 1 ? " and the other disks" : "");
    goto out;
  }
  if (n > 1) {
    error ("%zu operating systems found (roots %s, %s%s): p2v-fixup converts "
           "a machine with one",
           n, roots[0], roots[1], n > 2 ? "..." : "");
    goto out;
  }
  f->root = strdup (roots[0]);
  if (f->root == NULL) {
    error ("out of memory");
    goto out;
  }
  f->type = guestfs_inspect_get_type (f->g, f->root);
  f->distro = guestfs_inspect_get_distro (f->g, f->root);
  f->product = guestfs_inspect_get_product_name (f->g, f->root);
  f->hostname = guestfs_inspect_get_hostname (f->g, f->root);
  f->arch = guestfs_inspect_get_arch (f->g, f->root);
  f->major = guestfs_inspect_get_major_version (f->g, f->root);
  f->minor = guestfs_inspect_get_minor_version (f->g, f->root);
  if (f->type == NULL || f->distro == NULL || f->product == NULL
      || f->hostname == NULL || f->arch == NULL) {
    guest_error (f, "inspecting the guest");
    goto out;
  }
  if (strcmp (f->type, "windows") == 0) {
    error ("%s: Windows guests are not supported", f->product);
    goto out;
  }
  if (strcmp (f->type, "linux") != 0) {
    error ("%s: unsupported operating system type '%s' (p2v-fixup converts "
           "Linux)",
           f->product, f->type);
    goto out;
  }
  fixup_step (f, "Found %s %d.%d (%s, %s) on %s", f->distro, f->major, f->minor,
              f->product, f->arch, f->root);
  ret = 0;
out:
  free_strings (roots);
  return ret;
}

/* The name of partition NUMBER of the disk PATH, as the kernel makes it:
 * /dev/sda + 1 -> /dev/sda1, /dev/nvme0n1 + 1 -> /dev/nvme0n1p1.
 */
static char *
partition_name (const char *path, unsigned number)
{
  size_t len = strlen (path);
  char *name;

  if (asprintf (&name, "%s%s%u", path,
                len > 0 && isdigit ((unsigned char) path[len - 1]) ? "p" : "",
                number)
      == -1)
    return NULL;
  return name;
}

/* udev's /dev/disk/by-id name of an ATA or NVMe disk: its model and
 * serial number with spaces as underscores.  XXX A guess: udev takes them
 * from the device (ID_SERIAL), which may differ from what the inventory's
 * sysfs reading gave for SCSI and USB disks; those keep a warning.
 */
static char *
by_id_name (const char *bus, const char *model, const char *serial,
            unsigned number)
{
  char *name, *p;
  int r;

  if (number)
    r = asprintf (&name, "/dev/disk/by-id/%s-%s_%s-part%u", bus, model, serial,
                  number);
  else
    r = asprintf (&name, "/dev/disk/by-id/%s-%s_%s", bus, model, serial);
  if (r == -1)
    return NULL;
  for (p = name + strlen ("/dev/disk/by-id/"); *p; p++)
    if (*p == ' ')
      *p = '_';
  return name;
}

/* Map NAME to UUID; a name the map refuses (an odd inventory) is only
 * a warning: the guesses still apply.
 */
static void
add_known_name (struct fixup *f, const char *name, const char *uuid)
{
  if (name && devmap_add (&f->map, name, uuid) == -1)
    fixup_warn (f, "inventory: %s: not used: %s", name, error_message ());
}

/* The names the inventory says the source machine had. */
static void
add_inventory_names (struct fixup *f, char **uuids, size_t n_uuids)
{
  static const char *const buses[] = { "ata", "nvme" };
  const struct inventory_disk *d;
  const struct inventory_partition *p;
  char *name;
  size_t i, j, k, b;

  for (i = 0; i < f->inv.n_disks; i++) {
    d = &f->inv.disks[i];
    if (strncmp (d->path, "/dev/", 5) != 0)
      continue;
    for (j = 0; j < d->n_partitions; j++) {
      p = &d->partitions[j];
      if (p->filesystem == NULL || p->filesystem->uuid == NULL)
        continue;
      /* Only UUIDs the images really hold: the inventory may be of
       * another machine, or older than the images.
       */
      for (k = 0; k < n_uuids; k++)
        if (strcmp (uuids[k], p->filesystem->uuid) == 0)
          break;
      if (k == n_uuids)
        continue;
      name = partition_name (d->path, p->number);
      add_known_name (f, name, uuids[k]);
      free (name);
      if (d->model && d->serial)
        for (b = 0; b < sizeof buses / sizeof buses[0]; b++) {
          name = by_id_name (buses[b], d->model, d->serial, p->number);
          add_known_name (f, name, uuids[k]);
          free (name);
        }
    }
  }
}

/* Which disk (its index in DEVS) and partition number the appliance's
 * partition PART is: /dev/sdb2 -> 1, 2.  The appliance names them
 * /dev/sdXN; anything else is asked of libguestfs.  -1 if not on a disk
 * of DEVS.
 */
static int
locate_partition (struct fixup *f, char **devs, const char *part, int *partnum)
{
  size_t i, len;
  char *whole, *end;
  long num;
  int index;

  for (i = 0; devs[i]; i++) {
    len = strlen (devs[i]);
    if (strncmp (part, devs[i], len) != 0
        || !isdigit ((unsigned char) part[len]))
      continue;
    num = strtol (part + len, &end, 10);
    if (*end == '\0' && num > 0 && num <= DEVMAP_MAX_PARTITION) {
      *partnum = num;
      return i;
    }
  }
  guestfs_push_error_handler (f->g, NULL, NULL);
  whole = guestfs_part_to_dev (f->g, part);
  *partnum = guestfs_part_to_partnum (f->g, part);
  index = whole ? guestfs_device_index (f->g, whole) : -1;
  guestfs_pop_error_handler (f->g);
  free (whole);
  return *partnum > 0 ? index : -1;
}

int
guest_build_devmap (struct fixup *f)
{
  char **devs = NULL, **parts = NULL, **uuids = NULL, *dev, *uuid;
  unsigned *disk = NULL, *number = NULL;
  size_t n = 0, n_cand, n_parts, n_devs, c, i;
  int index, partnum, ret = -1;

  /* Not list_filesystems: it probes every device deeply, which takes
   * tens of seconds without KVM, and leaves LUKS volumes out.
   */
  devs = guestfs_list_devices (f->g);
  parts = guestfs_list_partitions (f->g);
  if (devs == NULL || parts == NULL) {
    guest_error (f, "listing the guest's disks");
    goto out;
  }
  for (n_parts = 0; parts[n_parts]; n_parts++)
    ;
  for (n_devs = 0; devs[n_devs]; n_devs++)
    ;
  /* The candidates: every partition (LUKS and swap too), then the whole
   * disks (a filesystem without a partition table; a partitioned disk
   * has no UUID of its own).  Logical volumes and RAID have stable names
   * already.
   */
  n_cand = n_parts + n_devs;
  uuids = calloc (n_cand + 1, sizeof *uuids);
  disk = calloc (n_cand + 1, sizeof *disk);
  number = calloc (n_cand + 1, sizeof *number);
  if (uuids == NULL || disk == NULL || number == NULL) {
    error ("out of memory");
    goto out;
  }

  for (c = 0; c < n_cand; c++) {
    if (c < n_parts) {
      dev = parts[c];
      index = locate_partition (f, devs, dev, &partnum);
    }
    else {
      dev = devs[c - n_parts];
      index = c - n_parts;
      partnum = 0;
    }
    if (index < 0)
      continue;                 /* not on one of our disks */
    guestfs_push_error_handler (f->g, NULL, NULL);
    uuid = guestfs_vfs_uuid (f->g, dev);
    guestfs_pop_error_handler (f->g);
    if (uuid == NULL || *uuid == '\0') {
      free (uuid);
      continue;
    }
    uuids[n] = uuid;
    disk[n] = index;
    number[n] = partnum;
    n++;
  }

  if (f->have_inventory)
    add_inventory_names (f, uuids, n);
  for (i = 0; i < n; i++)
    if (devmap_add_partition (&f->map, disk[i], number[i], uuids[i]) == -1) {
      error_prefix ("device map");
      goto out;
    }
  if (f->cli->verbose)
    fixup_step (f, "Device map: %zu filesystems, %zu names", n, f->map.n);
  ret = 0;
out:
  free_strings (devs);
  free_strings (parts);
  for (i = 0; i < n; i++)
    free (uuids[i]);
  free (uuids);
  free (disk);
  free (number);
  return ret;
}

static int
compare_mountpoints (const void *a, const void *b)
{
  const char *const *x = a, *const *y = b;
  size_t lx = strlen (x[0]), ly = strlen (y[0]);

  /* Shorter first: / before /boot before /boot/efi. */
  return lx < ly ? -1 : lx > ly ? 1 : strcmp (x[0], y[0]);
}

int
guest_mount (struct fixup *f)
{
  char **mps;
  size_t n, i;
  int ret = -1;

  mps = guestfs_inspect_get_mountpoints (f->g, f->root);
  if (mps == NULL)
    return guest_error (f, "the guest's mount points");
  for (n = 0; mps[n] && mps[n + 1]; n += 2)
    ;
  qsort (mps, n / 2, 2 * sizeof *mps, compare_mountpoints);
  for (i = 0; i < n; i += 2) {
    if (guestfs_mount (f->g, mps[i + 1], mps[i]) == 0)
      continue;
    if (strcmp (mps[i], "/") == 0) {
      guest_error (f, "mounting the root filesystem");
      goto out;
    }
    /* As the guest itself would, with nofail: go on without it. */
    fixup_warn (f, "%s (%s) not mounted: %s", mps[i], mps[i + 1],
                guestfs_last_error (f->g));
  }

  /* systemd's udevd reads .link files; it is a program or (systemd 247
   * and later) a symbolic link to udevadm.
   */
  f->systemd_udev = guest_exists (f, "/lib/systemd/systemd-udevd")
    || guest_exists (f, "/usr/lib/systemd/systemd-udevd");
  ret = 0;
out:
  free_strings (mps);
  return ret;
}

int
guest_close (struct fixup *f)
{
  int ret = 0;

  fixup_step (f, "Closing the guest");
  if (guestfs_umount_all (f->g) == -1)
    ret = guest_error (f, "unmounting the guest's filesystems");
  if (ret == 0 && guestfs_shutdown (f->g) == -1)
    ret = guest_error (f, "stopping the libguestfs appliance");
  guestfs_close (f->g);
  f->g = NULL;
  return ret;
}
