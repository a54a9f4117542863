/* p2v-fixup: the kernels, their drivers, and the initramfs.
 *
 * Each kernel with modules in /lib/modules and an image in /boot is
 * checked for the virtio drivers (a module in modules.dep, or built in:
 * modules.builtin).  The initramfs tool's configuration is then set for
 * the target, in files of our own or a marked block, so that the guest's
 * later kernel updates build the same kind of initramfs:
 *
 *   initramfs-tools, virt:      the drivers in /etc/initramfs-tools/modules
 *                               (between "# p2vkit: begin" and "end");
 *                               conf.d/p2vkit and hooks/p2vkit removed
 *   initramfs-tools, physical:  that block removed; conf.d/p2vkit says
 *                               MODULES=list and hooks/p2vkit adds the
 *                               storage, USB keyboard and filesystem
 *                               drivers of common PC and server hardware
 *   dracut, virt:               /etc/dracut.conf.d/90-p2vkit.conf adds the
 *                               drivers (host-only or not, as it was)
 *   dracut, physical:           the same file says hostonly="no"
 *
 * and each initramfs is rebuilt with the guest's own tool, run in the
 * guest (guestfs_command), then listed to check that the virtio modules
 * are really in it: here, from a copy (initrd.h), or by the guest's own
 * lister (lsinitramfs, lsinitrd) in the appliance when the image is
 * compressed in a way initrd.h cannot read.
 *
 * Neither physical image depends on the machine it is built on (here the
 * libguestfs appliance).  initramfs-tools' own generic setting,
 * MODULES=most, copies some 750 modules, a few processes each, and under
 * TCG its rebuild took 1136 s here, against 407 s for the list (about
 * 120 modules).  dracut's generic image is large (130 MB before
 * compression), and with dracut's gzip -9 its rebuild did not end in 30
 * minutes, so each rebuild is compressed with "gzip -n -1", which every
 * kernel can unpack (430 s); the guest's own later rebuilds compress as
 * it says.
 *
 * initramfs-tools keeps the guest's compressor but runs it at level 1
 * (COMPRESSLEVEL in the environment, which mkinitramfs reads unless
 * initramfs.conf sets one): Debian 12's default, zstd -9, took 22 s of
 * a 141 s rebuild under TCG here, zstd -1 a few.  The image is some 15%
 * larger; again the guest's own later rebuilds use its level.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "initramfs.h"
#include "initrd.h"
#include "p2v-fixup.h"

/* What a KVM guest needs: the PCI transport, the disk (virtio-blk or
 * virtio-scsi) and the NIC.
 */
static const char *const virtio_drivers[] = {
  "virtio_pci",
  "virtio_blk",
  "virtio_scsi",
  "virtio_net",
};
#define N_VIRTIO (sizeof virtio_drivers / sizeof virtio_drivers[0])
/* Room for all their names, space-separated. */
#define DRIVER_NAMES_SIZE 128

#define MODULES_FILE "/etc/initramfs-tools/modules"
#define INITRAMFS_TOOLS_CONF "/etc/initramfs-tools/conf.d/p2vkit"
#define INITRAMFS_TOOLS_HOOK "/etc/initramfs-tools/hooks/p2vkit"
/* What dracut compresses our rebuilds with (see above). */
#define DRACUT_COMPRESS "gzip -n -1"
/* The level mkinitramfs compresses our rebuilds with (see above). */
#define INITRAMFS_TOOLS_LEVEL "COMPRESSLEVEL=1"
#define DRACUT_CONF "/etc/dracut.conf.d/90-p2vkit.conf"
/* The largest initramfs listed here: generic ones are some 100 MiB. */
#define INITRD_IMAGE_MAX ((int64_t) 1024 * 1024 * 1024)
/* What note_module returns to stop the listing: all found. */
#define INITRD_ALL_FOUND 2

static const char *const dracut_paths[] = {
  "/usr/bin/dracut",
  "/usr/sbin/dracut",
  "/sbin/dracut",
};
static const char *const update_initramfs_paths[] = {
  "/usr/sbin/update-initramfs",
  "/sbin/update-initramfs",
};

/* Read PATH if it is a file; an absent one is empty. */
static int
read_optional (struct fixup *f, const char *path, char **buf, size_t *len)
{
  *buf = NULL;
  *len = 0;
  if (!guest_is_file (f, path))
    return 0;
  return guest_read (f, path, buf, len);
}

/* The names of the virtio drivers in MASK (bit i: virtio_drivers[i]),
 * space-separated, in BUF.
 */
static char *
driver_names (unsigned mask, char buf[DRIVER_NAMES_SIZE])
{
  size_t i, used = 0;

  buf[0] = '\0';
  for (i = 0; i < N_VIRTIO; i++)
    if (mask & (1u << i))
      used += snprintf (buf + used, DRIVER_NAMES_SIZE - used, "%s%s",
                        used ? " " : "", virtio_drivers[i]);
  return buf;
}

/* Which virtio drivers kernel KR has as modules (KR->modules), built in,
 * or not at all (KR->missing: NULL if none, else "virtio_net
 * virtio_scsi").
 */
static int
check_drivers (struct fixup *f, struct kernel_record *kr)
{
  char *dep = NULL, *builtin = NULL, *path = NULL;
  char names[DRIVER_NAMES_SIZE];
  size_t dep_len, builtin_len, i;
  unsigned missing = 0;
  int ret = -1;

  if (asprintf (&path, "/lib/modules/%s/modules.dep", kr->version) == -1) {
    path = NULL;
    return error ("out of memory");
  }
  if (read_optional (f, path, &dep, &dep_len) == -1)
    goto out;
  free (path);
  if (asprintf (&path, "/lib/modules/%s/modules.builtin", kr->version) == -1) {
    path = NULL;
    error ("out of memory");
    goto out;
  }
  if (read_optional (f, path, &builtin, &builtin_len) == -1)
    goto out;
  for (i = 0; i < N_VIRTIO; i++) {
    if (initramfs_module_listed (builtin, builtin_len, virtio_drivers[i]))
      continue;
    if (initramfs_module_listed (dep, dep_len, virtio_drivers[i]))
      kr->modules |= 1u << i;
    else
      missing |= 1u << i;
  }
  if (missing
      && (kr->missing = strdup (driver_names (missing, names))) == NULL) {
    error ("out of memory");
    goto out;
  }
  ret = 0;
out:
  free (path);
  free (dep);
  free (builtin);
  return ret;
}

static const char *
find_program (struct fixup *f, const char *const *paths, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (guest_is_file (f, paths[i]))
      return paths[i];
  return NULL;
}

/* The initramfs of kernel K: the one that exists, else the name the
 * distribution gives it.
 */
static char *
initramfs_path (struct fixup *f, const char *k)
{
  char *debian = NULL, *redhat = NULL;

  if (asprintf (&debian, "/boot/initrd.img-%s", k) == -1
      || asprintf (&redhat, "/boot/initramfs-%s.img", k) == -1) {
    free (debian);
    return NULL;
  }
  if (guest_is_file (f, redhat)
      || (!guest_is_file (f, debian) && f->tool == TOOL_DRACUT
          && strcmp (f->distro, "debian") != 0
          && strcmp (f->distro, "ubuntu") != 0)) {
    free (debian);
    return redhat;
  }
  free (redhat);
  return debian;
}

static int
add_kernel (struct fixup *f, const char *k)
{
  struct kernel_record *nk, *kr;

  nk = realloc (f->kernels, (f->n_kernels + 1) * sizeof *nk);
  if (nk == NULL)
    return error ("out of memory");
  f->kernels = nk;
  kr = &nk[f->n_kernels];
  memset (kr, 0, sizeof *kr);
  kr->version = strdup (k);
  if (kr->version == NULL)
    return error ("out of memory");
  f->n_kernels++;
  kr->initramfs = initramfs_path (f, k);
  if (kr->initramfs == NULL)
    return error ("out of memory");
  if (check_drivers (f, kr) == -1)
    return -1;
  if (!f->rebuild)
    kr->rebuilt = REBUILD_SKIPPED;
  else if (f->target == TARGET_VIRT && kr->missing)
    kr->rebuilt = REBUILD_NO;
  else
    kr->rebuilt = REBUILD_YES;  /* to do, for now */
  return 0;
}

int
kernels_find (struct fixup *f)
{
  char **names = NULL, *image = NULL;
  size_t i, usable = 0;
  int ret = -1;

  f->tool_path = find_program (f, dracut_paths,
                               sizeof dracut_paths / sizeof *dracut_paths);
  if (f->tool_path)
    f->tool = TOOL_DRACUT;
  else {
    f->tool_path = find_program (f, update_initramfs_paths,
                                 sizeof update_initramfs_paths
                                   / sizeof *update_initramfs_paths);
    if (f->tool_path)
      f->tool = TOOL_INITRAMFS_TOOLS;
  }
  if (f->rebuild && f->tool == TOOL_NONE)
    return error ("%s %d.%d: neither initramfs-tools nor dracut is "
                  "installed, so its initramfs cannot be rebuilt "
                  "(--no-initramfs changes only its configuration)",
                  f->distro, f->major, f->minor);

  if (guest_is_dir (f, "/lib/modules")) {
    names = guestfs_ls (f->g, "/lib/modules");
    if (names == NULL)
      return guest_error (f, "/lib/modules");
  }
  for (i = 0; names && names[i]; i++) {
    if (asprintf (&image, "/boot/vmlinuz-%s", names[i]) == -1) {
      image = NULL;
      error ("out of memory");
      goto out;
    }
    if (!guest_is_file (f, image)) {
      if (f->cli->verbose)
        fixup_step (f, "/lib/modules/%s: no %s, not an installed kernel",
                    names[i], image);
    }
    else if (add_kernel (f, names[i]) == -1)
      goto out;
    free (image);
    image = NULL;
  }
  if (f->n_kernels == 0) {
    error ("%s %d.%d: no installed kernel found (/boot/vmlinuz-VERSION "
           "with /lib/modules/VERSION)",
           f->distro, f->major, f->minor);
    goto out;
  }
  for (i = 0; i < f->n_kernels; i++) {
    if (f->kernels[i].missing == NULL) {
      usable++;
      fixup_step (f, "Kernel %s has the virtio drivers", f->kernels[i].version);
    }
    else
      fixup_warn (f,
                  "kernel %s lacks %s: it cannot boot with virtio disks "
                  "and NICs%s",
                  f->kernels[i].version, f->kernels[i].missing,
                  f->target == TARGET_VIRT ? ", so its initramfs is left as it "
                                             "is"
                                           : "");
  }
  if (f->target == TARGET_VIRT && usable == 0)
    fixup_warn (f,
                "no kernel has the virtio drivers: the virtual machine "
                "needs emulated hardware (SATA disk, e1000 NICs)");
  ret = 0;
out:
  free (image);
  if (names) {
    for (i = 0; names[i]; i++)
      free (names[i]);
    free (names);
  }
  return ret;
}

static int
configure_initramfs_tools (struct fixup *f)
{
  static const char block[] = INITRAMFS_BLOCK_BEGIN
    " (p2v-fixup --target virt: drivers of a KVM guest)\n"
    "virtio_pci\nvirtio_blk\nvirtio_scsi\nvirtio_net\n" INITRAMFS_BLOCK_END
    "\n";
  static const char generic[]
    = "# Written by p2v-fixup --target physical: this machine moved to new\n"
      "# hardware, so the initramfs is not built for the machine it is made\n"
      "# on (MODULES=dep) but holds the drivers that hooks/p2vkit lists.\n"
      "# Remove both files to go back to the MODULES= of initramfs.conf.\n"
      "MODULES=list\n";
  static const char hook[]
    = "#!/bin/sh\n"
      "# Written by p2v-fixup --target physical: the drivers this machine\n"
      "# may need on new hardware (disk controllers, USB keyboards,\n"
      "# filesystems), loaded at boot only if their hardware is there.\n"
      "# Remove this file and conf.d/p2vkit to go back to the MODULES= of\n"
      "# initramfs.conf.\n"
      "[ \"$1\" = prereqs ] && exit 0\n"
      ". /usr/share/initramfs-tools/hook-functions\n"
      "# SATA, IDE\n"
      "manual_add_modules ahci ata_piix ata_generic pata_amd pata_atiixp \\\n"
      "  pata_jmicron pata_marvell pata_sis pata_via sata_mv \\\n"
      "  sata_nv sata_promise sata_sil sata_sil24 sata_sis sata_svw \\\n"
      "  sata_uli sata_via\n"
      "# NVMe, SAS and RAID adapters, Fibre Channel, hypervisors' disks\n"
      "manual_add_modules nvme vmd sd_mod megaraid_sas mpt3sas mptsas \\\n"
      "  mptspi mptfc hpsa smartpqi aacraid arcmsr 3w-9xxx 3w-sas mvsas \\\n"
      "  pm80xx isci hptiop qla2xxx lpfc bfa vmw_pvscsi hv_storvsc \\\n"
      "  xen-blkfront\n"
      "# USB disks and keyboards, SD cards\n"
      "manual_add_modules usb_storage uas xhci_pci ehci_pci ohci_pci \\\n"
      "  uhci_hcd usbhid hid_generic atkbd i8042 mmc_block sdhci_pci \\\n"
      "  sdhci_acpi\n"
      "# Filesystems, software RAID, device mapper\n"
      "manual_add_modules ext4 xfs btrfs vfat nls_cp437 nls_ascii dm_mod \\\n"
      "  md_mod raid0 raid1 raid10 raid456\n";
  char *in = NULL, *out = NULL;
  size_t len = 0, out_len = 0;
  int ret = -1;

  if (read_optional (f, MODULES_FILE, &in, &len) == -1)
    return -1;
  if (initramfs_set_block (in, len, f->target == TARGET_VIRT ? block : NULL,
                           &out, &out_len)
      == -1)
    goto out;
  if ((in == NULL && out_len > 0)
      || (in && (out_len != len || memcmp (in, out, len) != 0))) {
    if (guest_write (f, MODULES_FILE, out, out_len,
                     in ? FILE_CHANGED : FILE_CREATED, GUEST_CONFIG_MODE)
        == -1)
      goto out;
  }
  if (guest_set_file (f, INITRAMFS_TOOLS_CONF,
                      f->target == TARGET_PHYSICAL ? generic : NULL,
                      GUEST_CONFIG_MODE)
        == -1
      || guest_set_file (f, INITRAMFS_TOOLS_HOOK,
                         f->target == TARGET_PHYSICAL ? hook : NULL,
                         GUEST_SCRIPT_MODE)
        == -1)
    goto out;
  ret = 0;
out:
  free (in);
  free (out);
  return ret;
}

static int
configure_dracut (struct fixup *f)
{
  static const char virt[]
    = "# Written by p2v-fixup --target virt: the drivers of a KVM guest.\n"
      "add_drivers+=\" virtio_pci virtio_blk virtio_scsi virtio_net \"\n";
  static const char physical[]
    = "# Written by p2v-fixup --target physical: this machine moved to new\n"
      "# hardware, so the initramfs is generic, not built for the machine\n"
      "# it was made on.\n"
      "hostonly=\"no\"\n"
      "hostonly_cmdline=\"no\"\n";

  return guest_set_file (f, DRACUT_CONF,
                         f->target == TARGET_VIRT ? virt : physical,
                         GUEST_CONFIG_MODE);
}

int
kernels_configure (struct fixup *f)
{
  if (f->tool == TOOL_NONE)
    return 0;
  fixup_step (f, "Configuring %s for a %s machine", tool_name (f->tool),
              f->target == TARGET_VIRT ? "KVM" : "physical");
  if (f->tool == TOOL_INITRAMFS_TOOLS)
    return configure_initramfs_tools (f);
  return configure_dracut (f);
}

/* The virtio drivers in MASK whose module is among NAMES (a listing, one
 * name a line, or one name): "/virtio_blk.ko" anywhere in a name, so
 * virtio_blk.ko.xz and .ko.zst too.
 */
static unsigned
modules_found (const char *names, unsigned mask)
{
  char pattern[64];
  unsigned found = 0;
  size_t i;

  for (i = 0; i < N_VIRTIO; i++) {
    snprintf (pattern, sizeof pattern, "/%s.ko", virtio_drivers[i]);
    if ((mask & (1u << i)) && strstr (names, pattern) != NULL)
      found |= 1u << i;
  }
  return found;
}

/* What list_on_host looks for, and has found so far. */
struct module_search {
  unsigned wanted;
  unsigned found;
};

static int
note_module (const char *name, void *opaque)
{
  struct module_search *s = opaque;

  s->found |= modules_found (name, s->wanted);
  /* Every one found: the rest of the image need not be read. */
  return s->found == s->wanted ? INITRD_ALL_FOUND : 0;
}

/* The virtio modules of K that its initramfs holds (*FOUND), listed here
 * from a copy (TMPDIR/initrd) with initrd.h: a download and a few
 * seconds of unpacking, where the guest's lister, a shell script under
 * TCG, took several.  Returns 0, INITRD_UNSUPPORTED, or -1 with the
 * reason recorded; the caller asks the guest's lister for anything but
 * 0.
 */
static int
list_on_host (struct fixup *f, const struct kernel_record *k, unsigned *found)
{
  struct module_search s = { k->modules, 0 };
  char *copy = NULL;
  void *map = MAP_FAILED;
  struct stat st;
  int64_t size;
  int fd = -1, r = -1;

  /* Only the regular file the rebuild wrote, never through a link (it
   * would be followed in the appliance), and of a sane size.
   */
  if (!guest_is_file (f, k->initramfs))
    return error ("not a regular file");
  size = guestfs_filesize (f->g, k->initramfs);
  if (size == -1)
    return guest_error (f, k->initramfs);
  if (size > INITRD_IMAGE_MAX)
    return error ("%lld bytes, more than %lld", (long long) size,
                  (long long) INITRD_IMAGE_MAX);
  if (asprintf (&copy, "%s/initrd", f->tmpdir) == -1) {
    copy = NULL;
    return error ("out of memory");
  }
  if (guestfs_download (f->g, k->initramfs, copy) == -1) {
    guest_error (f, "download");
    goto out;
  }
  fd = open (copy, O_RDONLY | O_CLOEXEC);
  if (fd == -1 || fstat (fd, &st) == -1) {
    error_errno (errno, "%s", copy);
    goto out;
  }
  if (st.st_size > 0) {
    map = mmap (NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      error_errno (errno, "%s", copy);
      goto out;
    }
  }
  r = initrd_list (map == MAP_FAILED ? NULL : map, st.st_size,
                   INITRD_UNPACKED_MAX, note_module, &s);
  if (r == INITRD_ALL_FOUND)
    r = 0;
  *found = s.found;
out:
  if (map != MAP_FAILED)
    munmap (map, st.st_size);
  if (fd != -1)
    close (fd);
  unlink (copy);
  free (copy);
  return r;
}

/* The virtio modules of K that its initramfs holds, listed by the
 * guest's own tool (lsinitramfs, lsinitrd) in the appliance.
 */
static int
list_in_guest (struct fixup *f, const struct kernel_record *k, unsigned *found)
{
  const char *lister = f->tool == TOOL_DRACUT ? "lsinitrd" : "lsinitramfs";
  char *argv[] = { (char *) lister, k->initramfs, NULL };
  char *listing;

  listing = guestfs_command (f->g, argv);
  if (listing == NULL)
    return guest_error (f, k->initramfs);
  *found = modules_found (listing, k->modules);
  free (listing);
  return 0;
}

/* The files in kernel K's new initramfs hold the virtio drivers that
 * are modules.
 */
static int
verify_initramfs (struct fixup *f, const struct kernel_record *k)
{
  char names[DRIVER_NAMES_SIZE];
  unsigned found = 0, absent;
  double t0 = fixup_now ();
  int r;

  r = list_on_host (f, k, &found);
  if (r != 0) {
    if (f->cli->verbose)
      fixup_step (f, "%s: not listed here (%s): asking %s", k->initramfs,
                  error_message (),
                  f->tool == TOOL_DRACUT ? "lsinitrd" : "lsinitramfs");
    if (list_in_guest (f, k, &found) == -1)
      return -1;
  }
  if (f->cli->verbose)
    fixup_step (f, "%s listed %s in %.1f s", k->initramfs,
                r == 0 ? "here" : "in the guest", fixup_now () - t0);
  absent = k->modules & ~found;
  if (absent)
    return error ("%s: rebuilt, but %s not in it", k->initramfs,
                  driver_names (absent, names));
  return 0;
}

int
kernels_rebuild (struct fixup *f)
{
  struct kernel_record *k;
  double t0;
  size_t i;

  for (i = 0; i < f->n_kernels; i++) {
    k = &f->kernels[i];
    if (k->rebuilt != REBUILD_YES)
      continue;
    fixup_step (f, "Rebuilding %s with %s (this takes minutes without KVM)",
                k->initramfs, tool_name (f->tool));
    t0 = fixup_now ();
    if (f->tool == TOOL_INITRAMFS_TOOLS) {
      char *argv[] = { "/usr/bin/env",
                       INITRAMFS_TOOLS_LEVEL,
                       (char *) f->tool_path,
                       guest_is_file (f, k->initramfs) ? "-u" : "-c",
                       "-k",
                       k->version,
                       NULL };
      char *out = guestfs_command (f->g, argv);
      if (out == NULL)
        return guest_error (f, k->initramfs);
      free (out);
    }
    else {
      char *argv[]
        = { (char *) f->tool_path, "--force",  "--compress", DRACUT_COMPRESS,
            k->initramfs,          k->version, NULL };
      char *out = guestfs_command (f->g, argv);
      if (out == NULL)
        return guest_error (f, k->initramfs);
      free (out);
    }
    if (fixup_note_file (f, k->initramfs, FILE_CHANGED) == -1)
      return -1;
    if (f->target == TARGET_VIRT && verify_initramfs (f, k) == -1)
      return -1;
    k->seconds = fixup_now () - t0;
    fixup_step (f, "%s rebuilt in %.0f s", k->initramfs, k->seconds);
    if (fixup_check_cancel (f) == -1)
      return -1;
  }
  return 0;
}
