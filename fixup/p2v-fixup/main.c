/* p2v-fixup: option parsing and the order of the work (p2v-fixup.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "file.h"
#include "p2v-fixup.h"

enum {
  TARGET_OPTION = CLI_FIRST_PROGRAM_OPTION,
  INVENTORY_OPTION,
  REPORT_OPTION,
  NETWORK_OPTION,
  NO_INITRAMFS_OPTION,
  DRY_RUN_OPTION,
  KEEP_XORG_OPTION,
  NEW_MACS_OPTION,
};

/* The most disks of one guest: libguestfs names them sda..sdzzz, and
 * the device map counts as far (DEVMAP_MAX_DISKS).
 */
#define MAX_IMAGES 255

/* The largest inventory read (the parser's own limit is checked too). */
#define INVENTORY_FILE_MAX (4 * 1024 * 1024)

static struct cli cli = { .prog = "p2v-fixup" };
static volatile sig_atomic_t cancel; /* SIGINT, SIGTERM, SIGHUP */

static void
usage (FILE *fp, int exitcode)
{
  /* clang-format off */
  fprintf (fp,
"Usage: p2v-fixup [--target virt|physical] [--inventory FILE] [--report FILE]\n"
"                 [--network keep|dhcp] [--new-macs] [OPTIONS] IMAGE...\n"
"\n"
"Make a Linux machine's disks boot on other hardware: as a KVM guest\n"
"(--target virt, the default) or, back from a virtual machine, on a real\n"
"one (--target physical).  IMAGE... are all the disks of one machine, raw\n"
"or qcow2, in the order the source machine had them (the first was its\n"
"sda); they are changed in place, through libguestfs.\n"
"\n"
"What it does:\n"
"  - device names that change with the hardware (/dev/sda1, /dev/hda1,\n"
"    /dev/vda1, /dev/xvda1, /dev/nvme0n1p1, /dev/disk/by-id/...,\n"
"    /dev/disk/by-path/...) become UUID=... in /etc/fstab, /etc/crypttab,\n"
"    the root= and resume= of the kernel command line (/etc/default/grub,\n"
"    the generated grub.cfg, /etc/kernel/cmdline, boot loader entries)\n"
"    and initramfs-tools' resume configuration.  Comments, options and\n"
"    order stay; LABEL=, UUID=, LVM, network and bind mounts are left\n"
"    alone.\n"
"  - each installed kernel is checked for virtio_blk, virtio_scsi,\n"
"    virtio_net and virtio_pci (modules or built in), and its initramfs is\n"
"    rebuilt with the guest's own tool (initramfs-tools or dracut): with\n"
"    the virtio drivers for virt; for physical, not built for the machine\n"
"    it is made on but for any common PC or server: initramfs-tools gets\n"
"    MODULES=list and a hook adding the usual disk controller, USB\n"
"    keyboard and filesystem drivers, dracut gets hostonly=\"no\".  The\n"
"    choice is kept in the guest's configuration\n"
"    (/etc/initramfs-tools/modules, conf.d/p2vkit and hooks/p2vkit, or\n"
"    /etc/dracut.conf.d/90-p2vkit.conf), so later kernel updates keep it.\n"
"  - every network interface the guest's configuration names, and every\n"
"    one in the inventory, is recorded (name, MAC, driver, config files),\n"
"    and its name is pinned to its MAC (a systemd .link file in\n"
"    /etc/systemd/network, or udev rules without systemd-udevd), so\n"
"    that eth0 or enp3s0 keeps its name and its configuration on new\n"
"    hardware.  The MACs come from the inventory, or from the\n"
"    configuration where it gives them (an earlier run's pin counts), or\n"
"    with --new-macs are new; a NIC without one keeps a name that is\n"
"    not pinned, with a warning.\n"
"  - hardware-specific Xorg drivers (Driver \"nvidia\", BusID) are\n"
"    commented out.\n"
"\n"
"Nothing is changed until everything has worked: libguestfs works on a\n"
"temporary overlay of each image, written back only at the end.  A guest\n"
"it cannot handle (no operating system, Windows, several operating\n"
"systems, neither initramfs-tools nor dracut) is refused with one line,\n"
"and so is any failure: the images stay as they were.\n"
"\n"
"Options:\n"
"  --target virt|physical  the hardware the machine is to boot on\n"
"                          (default: virt)\n"
"  --inventory FILE        the source machine's inventory.xml (p2v-inventory,\n"
"                          p2v-recv): its NICs' MACs and drivers, its disks'\n"
"                          names\n"
"  --report FILE           write what was done, file by file, the kernels and\n"
"                          the NIC map, as XML (templates/fixup-report.md);\n"
"                          refuses an existing FILE without --force\n"
"  --network keep|dhcp     dhcp: switch static addresses to DHCP (ifupdown,\n"
"                          systemd-networkd, NetworkManager, ifcfg);\n"
"                          default: keep\n"
"  --no-initramfs          do not rebuild the initramfs (the kernels are\n"
"                          still checked and reported)\n"
"  --keep-xorg             leave the Xorg configuration alone\n"
"  --new-macs              each NIC of the guest's configuration whose MAC\n"
"                          neither the inventory nor the configuration gives\n"
"                          (as without --inventory: p2v-convert) gets a new\n"
"                          random MAC, locally administered and unicast\n"
"                          (first octet x2) and unlike every other MAC known;\n"
"                          its name is pinned to it, and the report says\n"
"                          mac-from=\"generated\", for p2v-domxml to give it\n"
"                          to the virtual NIC.  A NIC that the inventory\n"
"                          lists never gets one: its MAC is the real NIC's.\n"
"                          Run again, p2v-fixup reads the MAC back from the\n"
"                          pin, and keeps it\n"
"  --dry-run               do everything on the overlays, report, and\n"
"                          leave the images unchanged\n"
"  --force                 replace an existing --report FILE\n"
"  -q, --quiet             no progress messages (they go to stdout; warnings\n"
"                          and errors to stderr)\n"
"  -v, --verbose           more detail (-vv: libguestfs's own trace)\n"
"  --help                  this text\n"
"  --version               the version\n"
"\n"
"Environment: LIBGUESTFS_BACKEND and LIBGUESTFS_BACKEND_SETTINGS as\n"
"libguestfs reads them.  Without LIBGUESTFS_BACKEND_SETTINGS, p2v-fixup\n"
"runs p2v-domxml's KVM probe, and where KVM does not work (none, or a\n"
"nested one too slow to use) the appliance runs under TCG (force_tcg).\n"
"TMPDIR for the overlays (default /var/tmp).\n"
"\n"
"Exit status: 0 on success, 1 on failure with one line on stderr.\n"
"\n"
"Examples:\n"
"  p2v-fixup --inventory server1/inventory.xml server1/server1-sda.qcow2\n"
"  p2v-fixup --target physical --report fixup.xml vm.qcow2\n"
"  p2v-fixup --dry-run --report - old-server.img\n"
"  p2v-fixup --new-macs --report fixup.xml old-server.qcow2\n");
  /* clang-format on */
  exit (exitcode);
}

double
fixup_now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A progress message on stdout: "[  12.3] Inspecting the guest".  Stderr
 * is for warnings and the one line of a failure; with --report - the
 * report has stdout, and the progress goes to stderr.
 */
void
fixup_step (struct fixup *f, const char *fmt, ...)
{
  va_list ap;

  if (f->cli->quiet)
    return;
  fprintf (f->progress, "[%6.1f] ", fixup_now () - f->start);
  va_start (ap, fmt);
  vfprintf (f->progress, fmt, ap);
  va_end (ap);
  fputc ('\n', f->progress);
  fflush (f->progress);
}

void
fixup_warn (struct fixup *f, const char *fmt, ...)
{
  va_list ap;
  char *msg = NULL, **nw;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) == -1)
    msg = NULL;
  va_end (ap);
  if (msg == NULL)
    return;
  fprintf (stderr, "%s: warning: %s\n", f->cli->prog, msg);
  nw = realloc (f->warnings, (f->n_warnings + 1) * sizeof *nw);
  if (nw == NULL) {
    free (msg);
    return;
  }
  f->warnings = nw;
  f->warnings[f->n_warnings++] = msg;
}

int
fixup_note_file (struct fixup *f, const char *path, enum file_action action)
{
  struct file_record *nf;
  size_t i;

  /* A file changed twice (by two rules) is one record; created then
   * changed is still created.
   */
  for (i = 0; i < f->n_files; i++)
    if (strcmp (f->files[i].path, path) == 0) {
      if (f->files[i].action != FILE_CREATED || action == FILE_DELETED)
        f->files[i].action = action;
      return 0;
    }
  nf = realloc (f->files, (f->n_files + 1) * sizeof *nf);
  if (nf == NULL)
    return error ("out of memory");
  f->files = nf;
  nf[f->n_files].path = strdup (path);
  if (nf[f->n_files].path == NULL)
    return error ("out of memory");
  nf[f->n_files].action = action;
  f->n_files++;
  return 0;
}

int
fixup_check_cancel (const struct fixup *f)
{
  if (*f->cancel)
    return error ("interrupted: the images are unchanged");
  return 0;
}

const char *
target_name (enum fixup_target target)
{
  return target == TARGET_VIRT ? "virt" : "physical";
}

const char *
tool_name (enum initramfs_tool tool)
{
  switch (tool) {
  case TOOL_INITRAMFS_TOOLS:
    return "initramfs-tools";
  case TOOL_DRACUT:
    return "dracut";
  default:
    return "none";
  }
}

static int
read_inventory (struct fixup *f)
{
  char *buf = NULL;
  size_t len = 0;
  ssize_t r;
  int fd, ret = -1;

  fd = open (f->inventory_path, O_RDONLY | O_CLOEXEC);
  if (fd == -1)
    return error_errno (errno, "--inventory: %s", f->inventory_path);
  buf = malloc (INVENTORY_FILE_MAX + 1);
  if (buf == NULL) {
    error ("out of memory");
    goto out;
  }
  while ((r = read (fd, buf + len, INVENTORY_FILE_MAX + 1 - len)) != 0) {
    if (r == -1) {
      if (errno == EINTR)
        continue;
      error_errno (errno, "--inventory: %s", f->inventory_path);
      goto out;
    }
    len += r;
    if (len > INVENTORY_FILE_MAX) {
      error ("--inventory: %s: larger than %d bytes", f->inventory_path,
             INVENTORY_FILE_MAX);
      goto out;
    }
  }
  if (inventory_parse_xml (buf, len, &f->inv) == -1) {
    error_prefix ("--inventory: %s", f->inventory_path);
    goto out;
  }
  f->have_inventory = true;
  ret = 0;
out:
  close (fd);
  free (buf);
  return ret;
}

/* Each image must be a file or block device we can read, and write
 * unless --dry-run: found now rather than after minutes of work.
 */
static int
check_images (struct fixup *f)
{
  struct stat st;
  size_t i, j;

  for (i = 0; i < f->n_images; i++) {
    if (stat (f->images[i], &st) == -1)
      return error_errno (errno, "%s", f->images[i]);
    if (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode))
      return error ("%s: not a disk image or block device", f->images[i]);
    if (access (f->images[i], f->dry_run ? R_OK : R_OK | W_OK) == -1)
      return error_errno (errno, "%s", f->images[i]);
    for (j = 0; j < i; j++)
      if (file_same (f->images[i], f->images[j]))
        return error ("%s: given twice (as %s too)", f->images[i],
                      f->images[j]);
  }
  return 0;
}

static int
check_report_path (struct fixup *f)
{
  struct stat st;

  if (f->report_path == NULL || strcmp (f->report_path, "-") == 0)
    return 0;
  if (!f->cli->force && lstat (f->report_path, &st) == 0)
    return error ("--report: %s: already exists (use --force to replace it)",
                  f->report_path);
  return 0;
}

static void
fixup_free (struct fixup *f)
{
  size_t i;

  inventory_free (&f->inv);
  devmap_free (&f->map);
  guest_free_devices (f);
  rewrite_log_free (&f->log);
  free (f->root);
  free (f->type);
  free (f->distro);
  free (f->product);
  free (f->hostname);
  free (f->arch);
  for (i = 0; i < f->n_files; i++)
    free (f->files[i].path);
  free (f->files);
  for (i = 0; i < f->n_kernels; i++) {
    free (f->kernels[i].version);
    free (f->kernels[i].initramfs);
    free (f->kernels[i].missing);
  }
  free (f->kernels);
  for (i = 0; i < f->n_nics; i++) {
    free (f->nics[i].name);
    free (f->nics[i].mac);
    free (f->nics[i].driver);
    free (f->nics[i].pinned);
    free_list (f->nics[i].configs, f->nics[i].n_configs);
  }
  free (f->nics);
  free_list (f->warnings, f->n_warnings);
}

/* The work, in order; see p2v-fixup.h. */
static int
run (struct fixup *f)
{
  size_t rebuilt = 0, pinned = 0, i;

  if (overlay_create_all (f) == -1 || fixup_check_cancel (f) == -1)
    return -1;
  if (guest_open (f) == -1 || fixup_check_cancel (f) == -1)
    return -1;
  if (guest_inspect (f) == -1 || guest_build_devmap (f) == -1
      || guest_mount (f) == -1 || kernels_find (f) == -1
      || fixup_check_cancel (f) == -1)
    return -1;
  if (files_rewrite_devices (f) == -1 || nics_fixup (f) == -1
      || kernels_configure (f) == -1 || fixup_check_cancel (f) == -1)
    return -1;
  if (kernels_rebuild (f) == -1 || fixup_check_cancel (f) == -1)
    return -1;
  if (guest_close (f) == -1 || fixup_check_cancel (f) == -1)
    return -1;
  if (f->dry_run)
    fixup_step (f, "Dry run: the images are unchanged");
  else if (overlay_commit_all (f) == -1)
    return -1;
  if (report_write (f) == -1)
    return -1;

  for (i = 0; i < f->n_kernels; i++)
    rebuilt += f->kernels[i].rebuilt == REBUILD_YES;
  for (i = 0; i < f->n_nics; i++)
    pinned += f->nics[i].pinned != NULL;
  fixup_step (f,
              "Done: %zu files changed, %zu of %zu initramfs rebuilt, "
              "%zu NICs pinned, %zu warnings",
              f->n_files, rebuilt, f->n_kernels, pinned, f->n_warnings);
  return 0;
}

int
main (int argc, char *argv[])
{
  static const struct option long_options[] = {
    CLI_COMMON_LONG_OPTIONS,
    { "target", required_argument, NULL, TARGET_OPTION },
    { "inventory", required_argument, NULL, INVENTORY_OPTION },
    { "report", required_argument, NULL, REPORT_OPTION },
    { "network", required_argument, NULL, NETWORK_OPTION },
    { "no-initramfs", no_argument, NULL, NO_INITRAMFS_OPTION },
    { "dry-run", no_argument, NULL, DRY_RUN_OPTION },
    { "keep-xorg", no_argument, NULL, KEEP_XORG_OPTION },
    { "new-macs", no_argument, NULL, NEW_MACS_OPTION },
    { NULL, 0, NULL, 0 },
  };
  struct fixup f = {
    .cli = &cli,
    .target = TARGET_VIRT,
    .rebuild = true,
    .cancel = &cancel,
  };
  int c, status = EXIT_FAILURE;

  f.start = fixup_now ();
  while (
    (c = getopt_long (argc, argv, CLI_COMMON_SHORT_OPTIONS, long_options, NULL))
    != -1) {
    switch (c) {
    case TARGET_OPTION:
      if (strcmp (optarg, "virt") == 0)
        f.target = TARGET_VIRT;
      else if (strcmp (optarg, "physical") == 0)
        f.target = TARGET_PHYSICAL;
      else {
        error ("--target: '%s': must be virt or physical", optarg);
        goto out;
      }
      break;
    case INVENTORY_OPTION:
      f.inventory_path = optarg;
      break;
    case REPORT_OPTION:
      f.report_path = optarg;
      break;
    case NETWORK_OPTION:
      if (strcmp (optarg, "keep") == 0)
        f.dhcp = false;
      else if (strcmp (optarg, "dhcp") == 0)
        f.dhcp = true;
      else {
        error ("--network: '%s': must be keep or dhcp", optarg);
        goto out;
      }
      break;
    case NO_INITRAMFS_OPTION:
      f.rebuild = false;
      break;
    case DRY_RUN_OPTION:
      f.dry_run = true;
      break;
    case KEEP_XORG_OPTION:
      f.keep_xorg = true;
      break;
    case NEW_MACS_OPTION:
      f.new_macs = true;
      break;
    default:
      cli_common_option (&cli, c, usage);
    }
  }
  if (optind == argc) {
    error ("no disk image given (see p2v-fixup --help)");
    goto out;
  }
  f.progress
    = f.report_path && strcmp (f.report_path, "-") == 0 ? stderr : stdout;
  f.images = &argv[optind];
  f.n_images = argc - optind;
  if (f.n_images > MAX_IMAGES) {
    error ("%zu disk images: at most %d", f.n_images, MAX_IMAGES);
    goto out;
  }
  if (check_images (&f) == -1 || check_report_path (&f) == -1)
    goto out;
  if (f.inventory_path && read_inventory (&f) == -1)
    goto out;

  cli_catch_signals (&cancel);
  if (run (&f) == -1)
    goto out;
  status = EXIT_SUCCESS;

out:
  if (status != EXIT_SUCCESS)
    cli_report_error (&cli);
  if (f.g)
    guestfs_close (f.g);
  overlay_remove_all (&f);
  fixup_free (&f);
  return status;
}
