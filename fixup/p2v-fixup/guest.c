/* p2v-fixup: the libguestfs appliance, the inspection of the guest, what
 * we refuse, the device map and the mounts.
 *
 * The inspection is our own, through the libguestfs API but not its
 * inspection (guestfs_inspect_os, inspect_get_*), which probes every
 * filesystem for every kind of operating system it knows, and
 * guestfs_list_filesystems, which probes each device several times:
 * under TCG the two took 20 to 30 s here, where this takes a few.
 *
 *   devices      each partition, each disk without partitions, each LVM
 *                logical volume and RAID array: blkid, once each (type,
 *                UUID, label, PARTUUID, PARTLABEL)
 *   roots        each Linux filesystem mounted read-only: a root has
 *                /etc/fstab and os-release (/etc/os-release or
 *                /usr/lib/os-release; or an older release file); btrfs
 *                subvolumes too.  FAT and NTFS: \Windows\System32 is a
 *                Windows root
 *   the guest    the one root mounted, read-write: its distribution,
 *                version and product from os-release (then
 *                /etc/debian_version or /etc/redhat-release when
 *                os-release has no minor version, as libguestfs reads
 *                them), host name from /etc/hostname, architecture from
 *                a program (guestfs_file_architecture)
 *   mounts       the guest's /etc/fstab, its devices (UUID=, LABEL=,
 *                PARTUUID=, PARTLABEL=, /dev/disk/by-*, the kernel's and
 *                the inventory's names through the device map, LVM and
 *                device-mapper names) found among the devices above
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "error.h"
#include "guestinfo.h"
#include "kvm-probe.h"
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

/* libguestfs runs its appliance with KVM whenever /dev/kvm exists.
 * Where KVM is there in name only (nested, every guest write trapped: a
 * thousand times too slow, see kvm-probe.h), the appliance would seem to
 * hang.  Unless the user chose (LIBGUESTFS_BACKEND_SETTINGS, even empty),
 * ask the probe p2v-domxml asks, and use TCG when it says no.
 */
static int
choose_accelerator (struct fixup *f)
{
  char reason[KVM_PROBE_REASON_MAX];
  char *settings[] = { (char *) "force_tcg", NULL };

  if (getenv ("LIBGUESTFS_BACKEND_SETTINGS") != NULL)
    return 0;
  if (kvm_probe (KVM_PROBE_TIMEOUT_MS, reason, sizeof reason))
    return 0;
  if (guestfs_set_backend_settings (f->g, settings) == -1)
    return guest_error (f, "libguestfs");
  fixup_step (f, "The appliance runs under TCG: KVM does not work here (%s)",
              reason);
  return 0;
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
  if (choose_accelerator (f) == -1)
    return -1;
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

/* The filesystems a Linux root may be on. */
static const char *const linux_types[] = {
  "ext2", "ext3", "ext4", "xfs", "btrfs", "jfs", "reiserfs", "f2fs", "nilfs2",
};
/* And those a Windows root may be on (as libguestfs sees it: a FAT one
 * with \Windows\System32 too).
 */
static const char *const windows_types[] = { "ntfs", "vfat", "msdos" };

static bool
in_list (const char *s, const char *const *list, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strcmp (s, list[i]) == 0)
      return true;
  return false;
}

#define IN_LIST(s, list) in_list (s, list, sizeof list / sizeof list[0])

/* A copy of S, or of "" if S is NULL; NULL if out of memory. */
static char *
copy_or_empty (const char *s)
{
  return strdup (s ? s : "");
}

/* The value of KEY in the hash HASH (key, value, ..., NULL), or NULL. */
static const char *
hash_get (char **hash, const char *key)
{
  size_t i;

  for (i = 0; hash[i] && hash[i + 1]; i += 2)
    if (strcmp (hash[i], key) == 0)
      return hash[i + 1];
  return NULL;
}

/* Probe DEV with blkid and add it to f->devices (DISK and PARTITION as
 * in struct guest_device).  A device blkid finds nothing on is left out.
 */
static int
probe_device (struct fixup *f, const char *dev, int disk, unsigned partition)
{
  struct guest_device *nd, *d;
  char **hash;
  int ret = -1;

  guestfs_push_error_handler (f->g, NULL, NULL);
  hash = guestfs_blkid (f->g, dev);
  guestfs_pop_error_handler (f->g);
  if (hash == NULL)
    return 0;
  nd = realloc (f->devices, (f->n_devices + 1) * sizeof *nd);
  if (nd == NULL) {
    error ("out of memory");
    goto out;
  }
  f->devices = nd;
  d = &nd[f->n_devices];
  memset (d, 0, sizeof *d);
  d->disk = disk;
  d->partition = partition;
  d->dev = strdup (dev);
  d->type = copy_or_empty (hash_get (hash, "TYPE"));
  d->uuid = copy_or_empty (hash_get (hash, "UUID"));
  d->label = copy_or_empty (hash_get (hash, "LABEL"));
  d->partuuid = copy_or_empty (hash_get (hash, "PART_ENTRY_UUID"));
  d->partlabel = copy_or_empty (hash_get (hash, "PART_ENTRY_NAME"));
  f->n_devices++;
  if (d->dev == NULL || d->type == NULL || d->uuid == NULL || d->label == NULL
      || d->partuuid == NULL || d->partlabel == NULL) {
    error ("out of memory");
    goto out;
  }
  if (f->cli->verbose >= 2)
    fixup_step (f, "%s: type '%s' UUID '%s' label '%s' PARTUUID '%s'", dev,
                d->type, d->uuid, d->label, d->partuuid);
  ret = 0;
out:
  free_strings (hash);
  return ret;
}

static bool
have_type (struct fixup *f, const char *type)
{
  size_t i;

  for (i = 0; i < f->n_devices; i++)
    if (strcmp (f->devices[i].type, type) == 0)
      return true;
  return false;
}

/* Probe every LV or RAID array of LIST (from guestfs_lvs, or
 * guestfs_list_md_devices).
 */
static int
probe_list (struct fixup *f, char **list, const char *what)
{
  size_t i;
  int ret = 0;

  if (list == NULL)
    return guest_error (f, what);
  for (i = 0; list[i] && ret == 0; i++)
    ret = probe_device (f, list[i], -1, 0);
  free_strings (list);
  return ret;
}

/* f->devices: every partition of our disks, every disk without
 * partitions, every LV and RAID array, each probed once.
 */
static int
probe_devices (struct fixup *f)
{
  char **devs = NULL, **parts = NULL;
  bool *partitioned = NULL;
  size_t n_devs, i;
  int index, partnum, ret = -1;

  devs = guestfs_list_devices (f->g);
  parts = guestfs_list_partitions (f->g);
  if (devs == NULL || parts == NULL) {
    guest_error (f, "listing the guest's disks");
    goto out;
  }
  for (n_devs = 0; devs[n_devs]; n_devs++)
    ;
  partitioned = calloc (n_devs + 1, sizeof *partitioned);
  if (partitioned == NULL) {
    error ("out of memory");
    goto out;
  }
  for (i = 0; parts[i]; i++) {
    index = locate_partition (f, devs, parts[i], &partnum);
    if (index < 0)
      continue; /* not on one of our disks */
    partitioned[index] = true;
    if (probe_device (f, parts[i], index, partnum) == -1)
      goto out;
  }
  /* A whole disk is a filesystem (or a PV, or LUKS) only without a
   * partition table.
   */
  for (i = 0; i < n_devs; i++)
    if (!partitioned[i] && probe_device (f, devs[i], i, 0) == -1)
      goto out;
  if (have_type (f, "LVM2_member")
      && probe_list (f, guestfs_lvs (f->g), "listing the LVM volumes") == -1)
    goto out;
  if (have_type (f, "linux_raid_member")
      && probe_list (f, guestfs_list_md_devices (f->g),
                     "listing the RAID arrays")
        == -1)
    goto out;
  ret = 0;
out:
  free_strings (devs);
  free_strings (parts);
  free (partitioned);
  return ret;
}

/* Is there a file (or, with LINK, a symbolic link) at PREFIX PATH? */
static bool
has (struct fixup *f, const char *prefix, const char *path, bool link)
{
  char full[PATH_MAX];
  bool r;

  snprintf (full, sizeof full, "%s%s", prefix, path);
  r = guest_is_file (f, full);
  if (!r && link)
    r = guest_exists (f, full);
  return r;
}

/* Is the filesystem mounted at / (under PREFIX, a btrfs subvolume) a
 * Linux root: /etc/fstab, and os-release or an older release file?
 */
static bool
is_linux_root (struct fixup *f, const char *prefix)
{
  return has (f, prefix, "/etc/fstab", true)
    && (has (f, prefix, "/etc/os-release", true)
        || has (f, prefix, "/usr/lib/os-release", false)
        || has (f, prefix, "/etc/redhat-release", false)
        || has (f, prefix, "/etc/debian_version", false)
        || has (f, prefix, "/etc/SuSE-release", false));
}

/* Is the filesystem mounted at / a Windows system root? */
static bool
is_windows_root (struct fixup *f)
{
  char *path;
  bool r;

  guestfs_push_error_handler (f->g, NULL, NULL);
  path = guestfs_case_sensitive_path (f->g, "/windows/system32");
  guestfs_pop_error_handler (f->g);
  r = path && guest_is_dir (f, path);
  free (path);
  return r;
}

/* The roots found, as mountables (/dev/sda3, btrfsvol:/dev/sda2/@). */
struct roots {
  char **names;
  size_t n;
  size_t n_windows;
};

static int
add_root (struct roots *r, const char *dev, const char *subvol)
{
  char **nn, *name;
  int n;

  if (subvol)
    n = asprintf (&name, "btrfsvol:%s/%s", dev, subvol);
  else
    n = asprintf (&name, "%s", dev);
  if (n == -1)
    return error ("out of memory");
  nn = realloc (r->names, (r->n + 1) * sizeof *nn);
  if (nn == NULL) {
    free (name);
    return error ("out of memory");
  }
  r->names = nn;
  r->names[r->n++] = name;
  return 0;
}

/* The roots in the btrfs filesystem DEV, mounted (its top level) at /:
 * in its subvolumes.  Snapshots (snapper's .snapshots/N/snapshot) are not
 * systems of their own.
 */
static int
btrfs_roots (struct fixup *f, const char *dev, struct roots *roots)
{
  struct guestfs_btrfssubvolume_list *subvols;
  char prefix[PATH_MAX];
  const char *path;
  size_t i;
  int ret = 0;

  guestfs_push_error_handler (f->g, NULL, NULL);
  subvols = guestfs_btrfs_subvolume_list (f->g, "/");
  guestfs_pop_error_handler (f->g);
  if (subvols == NULL)
    return 0;
  for (i = 0; i < subvols->len && ret == 0; i++) {
    path = subvols->val[i].btrfssubvolume_path;
    if (path[0] == '\0' || strstr (path, ".snapshots") != NULL
        || strlen (path) + 2 > sizeof prefix)
      continue;
    snprintf (prefix, sizeof prefix, "/%s", path);
    if (is_linux_root (f, prefix))
      ret = add_root (roots, dev, path);
  }
  guestfs_free_btrfssubvolume_list (subvols);
  return ret;
}

/* Mount each filesystem that may hold a system, read-only, and look. */
static int
find_roots (struct fixup *f, struct roots *roots)
{
  const struct guest_device *d;
  bool linux_fs, btrfs;
  size_t i;
  int r, ret = 0;

  for (i = 0; i < f->n_devices && ret == 0; i++) {
    d = &f->devices[i];
    linux_fs = IN_LIST (d->type, linux_types);
    if (!linux_fs && !IN_LIST (d->type, windows_types))
      continue;
    btrfs = strcmp (d->type, "btrfs") == 0;
    guestfs_push_error_handler (f->g, NULL, NULL);
    /* btrfs: its top level, whatever the default subvolume is. */
    r = guestfs_mount_options (f->g, btrfs ? "ro,subvolid=5" : "ro", d->dev,
                               "/");
    /* XFS will not mount read-only with a log to replay (a machine copied
     * while running): look without replaying it.
     */
    if (r == -1 && strcmp (d->type, "xfs") == 0)
      r = guestfs_mount_options (f->g, "ro,norecovery", d->dev, "/");
    guestfs_pop_error_handler (f->g);
    if (r == -1) {
      if (f->cli->verbose)
        fixup_step (f, "%s (%s): not mounted, not looked at", d->dev, d->type);
      continue;
    }
    if (linux_fs && is_linux_root (f, ""))
      ret = add_root (roots, d->dev, NULL);
    else if (!linux_fs && is_windows_root (f)) {
      ret = add_root (roots, d->dev, NULL);
      roots->n_windows++;
    }
    if (ret == 0 && btrfs)
      ret = btrfs_roots (f, d->dev, roots);
    if (guestfs_umount (f->g, "/") == -1 && ret == 0)
      ret = guest_error (f, d->dev);
  }
  return ret;
}

/* Read PATH of the guest (a regular file, not through a link) into *BUF
 * (caller frees); *BUF NULL if there is no such file.
 */
static int
read_if_file (struct fixup *f, const char *path, char **buf, size_t *len)
{
  *buf = NULL;
  *len = 0;
  if (!guest_is_file (f, path))
    return 0;
  return guest_read (f, path, buf, len);
}

/* The first line of PATH, if it is a file with one; NULL (not an error)
 * if not.
 */
static int
first_line (struct fixup *f, const char *path, char **line)
{
  char *buf;
  size_t len;

  *line = NULL;
  if (read_if_file (f, path, &buf, &len) == -1)
    return -1;
  if (buf) {
    *line = guestinfo_first_line (buf, len);
    free (buf);
  }
  return 0;
}

/* Set *FIELD to a copy of VALUE. */
static int
set_field (char **field, const char *value)
{
  char *s = strdup (value);

  if (s == NULL)
    return error ("out of memory");
  free (*field);
  *field = s;
  return 0;
}

/* The distribution that /etc/redhat-release's LINE names. */
static const char *
redhat_distro (const char *line)
{
  static const struct {
    const char *prefix;
    const char *distro;
  } names[] = {
    { "CentOS", "centos" },
    { "Fedora", "fedora" },
    { "Red Hat", "rhel" },
    { "Scientific Linux", "scientificlinux" },
    { "Oracle Linux", "oraclelinux" },
  };
  size_t i;

  for (i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strncmp (line, names[i].prefix, strlen (names[i].prefix)) == 0)
      return names[i].distro;
  return "redhat-based";
}

/* Distribution, version and product of the mounted root: os-release, as
 * libguestfs reads it; where that lacks the minor version (Debian,
 * CentOS) or a version, or is not there, /etc/redhat-release or
 * /etc/debian_version.
 */
static int
read_release (struct fixup *f)
{
  struct os_release osr = { 0 };
  char *buf = NULL, *path = NULL, *line = NULL;
  size_t len;
  bool version = false;
  int ret = -1;

  /* /etc/os-release is a link to /usr/lib/os-release on most systems:
   * followed in the guest (guestfs_realpath), not in the appliance.
   */
  guestfs_push_error_handler (f->g, NULL, NULL);
  path = guestfs_realpath (f->g, "/etc/os-release");
  guestfs_pop_error_handler (f->g);
  if (path == NULL || !guest_is_file (f, path)) {
    free (path);
    path = strdup ("/usr/lib/os-release");
    if (path == NULL) {
      error ("out of memory");
      goto out;
    }
  }
  if (read_if_file (f, path, &buf, &len) == -1)
    goto out;
  if (buf && guestinfo_os_release (buf, len, &osr) == -1) {
    error_prefix ("%s", path);
    goto out;
  }
  if (set_field (&f->distro, guestinfo_distro (osr.id)) == -1
      || set_field (&f->product, osr.pretty_name ? osr.pretty_name : "unknown")
        == -1)
    goto out;
  version = guestinfo_version (osr.version_id, &f->major, &f->minor);

  if (osr.pretty_name == NULL || strcmp (f->distro, "unknown") == 0 || !version
      || (f->minor == 0
          && (strcmp (f->distro, "debian") == 0
              || strcmp (f->distro, "centos") == 0))) {
    if (first_line (f, "/etc/redhat-release", &line) == -1)
      goto out;
    if (line) {
      if (strcmp (f->distro, "unknown") == 0
          && set_field (&f->distro, redhat_distro (line)) == -1)
        goto out;
      guestinfo_release_version (line, &f->major, &f->minor);
    }
    else {
      if (first_line (f, "/etc/debian_version", &line) == -1)
        goto out;
      if (line) {
        if (strcmp (f->distro, "unknown") == 0
            && set_field (&f->distro, "debian") == -1)
          goto out;
        guestinfo_version (line, &f->major, &f->minor);
      }
    }
    if (line && set_field (&f->product, line) == -1)
      goto out;
  }
  ret = 0;
out:
  os_release_free (&osr);
  free (buf);
  free (path);
  free (line);
  return ret;
}

/* The host name, as libguestfs finds it; "unknown" without one. */
static int
read_hostname (struct fixup *f)
{
  static const char *const files[] = { "/etc/hostname", "/etc/HOSTNAME" };
  size_t i;

  for (i = 0; i < sizeof files / sizeof files[0]; i++) {
    if (first_line (f, files[i], &f->hostname) == -1)
      return -1;
    if (f->hostname)
      return 0;
  }
  return set_field (&f->hostname, "unknown");
}

/* The architecture of the guest's programs (x86_64, aarch64...):
 * libguestfs's reading of the first of these there is.
 */
static int
read_arch (struct fixup *f)
{
  static const char *const programs[] = {
    "/bin/bash",
    "/bin/ls",
    "/bin/sh",
    "/usr/bin/env",
  };
  char *path;
  size_t i;

  for (i = 0; i < sizeof programs / sizeof programs[0] && !f->arch; i++) {
    guestfs_push_error_handler (f->g, NULL, NULL);
    path = guestfs_realpath (f->g, programs[i]);
    if (path && guest_is_file (f, path))
      f->arch = guestfs_file_architecture (f->g, path);
    guestfs_pop_error_handler (f->g);
    free (path);
  }
  return f->arch ? 0 : set_field (&f->arch, "unknown");
}

int
guest_inspect (struct fixup *f)
{
  struct roots roots = { NULL, 0, 0 };
  size_t i;
  int ret = -1;

  fixup_step (f, "Inspecting the guest");
  if (probe_devices (f) == -1 || find_roots (f, &roots) == -1)
    goto out;
  if (roots.n == 0) {
    if (have_type (f, "crypto_LUKS"))
      error ("no operating system found: the disks hold LUKS-encrypted "
             "volumes, which p2v-fixup cannot open");
    else
      error ("no operating system found on %s%s", f->images[0],
             f->n_images > 1 ? " and the other disks" : "");
    goto out;
  }
  if (roots.n > 1) {
    error ("%zu operating systems found (roots %s, %s%s): p2v-fixup converts "
           "a machine with one",
           roots.n, roots.names[0], roots.names[1], roots.n > 2 ? "..." : "");
    goto out;
  }
  if (roots.n_windows) {
    error ("%s: Windows guests are not supported", roots.names[0]);
    goto out;
  }
  f->root = roots.names[0];
  roots.names[0] = NULL;
  if (set_field (&f->type, "linux") == -1)
    goto out;

  /* The root, now for good. */
  if (guestfs_mount (f->g, f->root, "/") == -1) {
    guest_error (f, "mounting the root filesystem");
    goto out;
  }
  if (read_release (f) == -1 || read_hostname (f) == -1 || read_arch (f) == -1)
    goto out;
  fixup_step (f, "Found %s %d.%d (%s, %s) on %s", f->distro, f->major, f->minor,
              f->product, f->arch, f->root);
  ret = 0;
out:
  for (i = 0; i < roots.n; i++)
    free (roots.names[i]);
  free (roots.names);
  return ret;
}

void
guest_free_devices (struct fixup *f)
{
  size_t i;

  for (i = 0; i < f->n_devices; i++) {
    free (f->devices[i].dev);
    free (f->devices[i].type);
    free (f->devices[i].uuid);
    free (f->devices[i].label);
    free (f->devices[i].partuuid);
    free (f->devices[i].partlabel);
  }
  free (f->devices);
  f->devices = NULL;
  f->n_devices = 0;
}

int
guest_build_devmap (struct fixup *f)
{
  const struct guest_device *d;
  char **uuids = NULL;
  size_t n = 0, i;
  int ret = -1;

  /* Every partition (LUKS and swap too) and whole disk with a UUID, as
   * probed: logical volumes and RAID have stable names already.
   */
  uuids = calloc (f->n_devices + 1, sizeof *uuids);
  if (uuids == NULL)
    return error ("out of memory");
  for (i = 0; i < f->n_devices; i++)
    if (f->devices[i].disk >= 0 && f->devices[i].uuid[0])
      uuids[n++] = f->devices[i].uuid;
  if (f->have_inventory)
    add_inventory_names (f, uuids, n);
  for (i = 0; i < f->n_devices; i++) {
    d = &f->devices[i];
    if (d->disk >= 0 && d->uuid[0]
        && devmap_add_partition (&f->map, d->disk, d->partition, d->uuid)
          == -1) {
      error_prefix ("device map");
      goto out;
    }
  }
  if (f->cli->verbose)
    fixup_step (f, "Device map: %zu filesystems, %zu names", n, f->map.n);
  ret = 0;
out:
  free (uuids);
  return ret;
}

/* The device of f->devices whose FIELD (offset of a char * in struct
 * guest_device) is VALUE (any case with IGNORE_CASE), or NULL.
 */
static const struct guest_device *
find_device (struct fixup *f, size_t field, const char *value, bool ignore_case)
{
  const char *v;
  size_t i;

  if (value == NULL || value[0] == '\0')
    return NULL;
  for (i = 0; i < f->n_devices; i++) {
    v = *(char *const *) ((const char *) &f->devices[i] + field);
    if (ignore_case ? strcasecmp (v, value) == 0 : strcmp (v, value) == 0)
      return &f->devices[i];
  }
  return NULL;
}

#define BY(field) offsetof (struct guest_device, field)

/* The partition that SPEC, a /dev/disk/by-id or by-path link to
 * partition N of some disk (...-partN), is when the guest has one disk;
 * NULL if it is none.  The device map knows such names only from an
 * inventory.
 */
static const struct guest_device *
single_disk_link (struct fixup *f, const char *spec)
{
  const char *part;
  char *end;
  long num;
  size_t i;

  if (strncmp (spec, "/dev/disk/by-id/", 16) != 0
      && strncmp (spec, "/dev/disk/by-path/", 18) != 0)
    return NULL;
  part = strrchr (spec, '-');
  if (part == NULL || strncmp (part, "-part", 5) != 0
      || !isdigit ((unsigned char) part[5]))
    return NULL;
  num = strtol (part + 5, &end, 10);
  if (*end != '\0' || num <= 0 || num > DEVMAP_MAX_PARTITION)
    return NULL;
  for (i = 0; i < f->n_devices; i++)
    if (f->devices[i].disk == 0 && f->devices[i].partition == (unsigned) num)
      return &f->devices[i];
  return NULL;
}

/* The appliance's device for the fstab spec SPEC; NULL if none of ours
 * is it.
 */
static const struct guest_device *
resolve_spec (struct fixup *f, const char *spec)
{
  static const struct {
    const char *prefix;
    size_t field;
    bool ignore_case;
  } tags[] = {
    { "UUID=", BY (uuid), true },
    { "LABEL=", BY (label), false },
    { "PARTUUID=", BY (partuuid), true },
    { "PARTLABEL=", BY (partlabel), false },
    { "/dev/disk/by-uuid/", BY (uuid), true },
    { "/dev/disk/by-label/", BY (label), false },
    { "/dev/disk/by-partuuid/", BY (partuuid), true },
    { "/dev/disk/by-partlabel/", BY (partlabel), false },
  };
  const struct guest_device *d = NULL;
  char value[GUESTINFO_VALUE_MAX + 1], *lv;
  const char *uuid;
  size_t i, plen, vlen;

  for (i = 0; i < sizeof tags / sizeof tags[0]; i++) {
    plen = strlen (tags[i].prefix);
    if (strncmp (spec, tags[i].prefix, plen) != 0)
      continue;
    /* UUID="..." as mount(8) takes it. */
    snprintf (value, sizeof value, "%s", spec + plen);
    vlen = strlen (value);
    if (vlen >= 2 && (value[0] == '"' || value[0] == '\'')
        && value[vlen - 1] == value[0]) {
      memmove (value, value + 1, vlen - 2);
      value[vlen - 2] = '\0';
    }
    return find_device (f, tags[i].field, value, tags[i].ignore_case);
  }
  if (strncmp (spec, "/dev/", 5) != 0)
    return NULL;
  /* The kernel's names (sda1, vda1, nvme0n1p1...) and the inventory's. */
  uuid = devmap_lookup (&f->map, spec, strlen (spec));
  if (uuid && (d = find_device (f, BY (uuid), uuid, false)) != NULL)
    return d;
  /* A by-id or by-path link to a partition of the one disk: that
   * partition, as libguestfs guesses it.
   */
  if (f->n_images == 1 && (d = single_disk_link (f, spec)) != NULL)
    return d;
  /* An LV or array as the appliance names it, or a device-mapper name of
   * an LV.
   */
  if ((d = find_device (f, BY (dev), spec, false)) != NULL)
    return d;
  lv = guestinfo_dm_to_lv (spec);
  if (lv)
    d = find_device (f, BY (dev), lv, false);
  free (lv);
  return d;
}

/* A mount point libguestfs's inspection leaves out: removable media,
 * the kernel's own filesystems.
 */
static bool
ignored_mountpoint (const char *mp)
{
  static const char *const dirs[]
    = { "/media", "/dev", "/proc", "/sys", "/selinux" };
  size_t i, len;

  if (mp[0] != '/' || strcmp (mp, "/") == 0)
    return true;
  for (i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    len = strlen (dirs[i]);
    if (strncmp (mp, dirs[i], len) == 0 && (mp[len] == '\0' || mp[len] == '/'))
      return true;
  }
  return false;
}

/* Is fstab entry E one for a local block device at all (not swap, a
 * network filesystem, a bind mount, tmpfs, a floppy or CD)?
 */
static bool
local_entry (const struct fstab_entry *e)
{
  static const char *const types[] = {
    "swap",  "nfs",   "nfs4",  "cifs",      "smbfs",    "smb3",     "tmpfs",
    "ramfs", "proc",  "sysfs", "none",      "devpts",   "devtmpfs", "9p",
    "fuse",  "sshfs", "ceph",  "glusterfs", "virtiofs", "iso9660",  "udf",
  };
  const char *spec = e->spec;

  if (IN_LIST (e->vfstype, types) || strncmp (e->vfstype, "fuse.", 5) == 0
      || guestinfo_has_option (e->mntops, "bind", NULL)
      || guestinfo_has_option (e->mntops, "rbind", NULL))
    return false;
  if (strncmp (spec, "/dev/fd", 7) == 0 || strncmp (spec, "/dev/sr", 7) == 0
      || strncmp (spec, "/dev/cd", 7) == 0 || strcmp (spec, "/dev/cdrom") == 0
      || strcmp (spec, "/dev/floppy") == 0)
    return false;
  return strncmp (spec, "/dev/", 5) == 0 || strchr (spec, '=') != NULL;
}

static int
compare_entries (const void *a, const void *b)
{
  const struct fstab_entry *x = a, *y = b;
  size_t lx = strlen (x->file), ly = strlen (y->file);

  /* Shorter first: /boot before /boot/efi; then in fstab's order. */
  if (lx != ly)
    return lx < ly ? -1 : 1;
  return x->line < y->line ? -1 : x->line > y->line;
}

int
guest_mount (struct fixup *f)
{
  struct fstab_entry *entries = NULL, *e;
  const struct guest_device *d;
  char *buf = NULL, *subvol;
  size_t len, n = 0, i;
  int r, ret = -1;

  /* The root is mounted (guest_inspect); the rest as its fstab says. */
  if (read_if_file (f, "/etc/fstab", &buf, &len) == -1)
    goto out;
  if (buf && guestinfo_fstab (buf, len, &entries, &n) == -1) {
    error_prefix ("/etc/fstab");
    goto out;
  }
  qsort (entries, n, sizeof *entries, compare_entries);
  for (i = 0; i < n; i++) {
    e = &entries[i];
    if (ignored_mountpoint (e->file) || !local_entry (e))
      continue;
    d = resolve_spec (f, e->spec);
    if (d == NULL) {
      /* As the guest itself would, with nofail: go on without it. */
      fixup_warn (f, "%s (%s) not mounted: no such device on the disks",
                  e->file, e->spec);
      continue;
    }
    subvol = NULL;
    if (strcmp (d->type, "btrfs") == 0
        && guestinfo_has_option (e->mntops, "subvol", &subvol) && subvol) {
      char *opts;

      if (asprintf (&opts, "subvol=%s", subvol) == -1) {
        free (subvol);
        error ("out of memory");
        goto out;
      }
      r = guestfs_mount_options (f->g, opts, d->dev, e->file);
      free (opts);
    }
    else
      r = guestfs_mount (f->g, d->dev, e->file);
    free (subvol);
    if (r == -1)
      fixup_warn (f, "%s (%s) not mounted: %s", e->file, e->spec,
                  guestfs_last_error (f->g));
    else if (f->cli->verbose)
      fixup_step (f, "%s (%s) mounted on %s", d->dev, e->spec, e->file);
  }

  /* systemd's udevd reads .link files; it is a program or (systemd 247
   * and later) a symbolic link to udevadm.
   */
  f->systemd_udev = guest_exists (f, "/lib/systemd/systemd-udevd")
    || guest_exists (f, "/usr/lib/systemd/systemd-udevd");
  ret = 0;
out:
  fstab_free (entries, n);
  free (buf);
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
