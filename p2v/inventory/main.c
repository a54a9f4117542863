/* p2v-inventory: option parsing.  The work is in p2v/common/inventory*.c. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "inventory.h"
#include "size.h"

enum {
  DISK_OPTION = CLI_FIRST_PROGRAM_OPTION,
};

static struct cli cli = { .prog = "p2v-inventory" };
static char **disks;            /* --disk, repeatable */
static size_t n_disks;
static const char *output = "-"; /* -o */

static void
usage (FILE *fp, int exitcode)
{
  /* clang-format off */
  fprintf (fp,
"Usage: p2v-inventory [--disk DISK]... [-o FILE]\n"
"\n"
"Describe this machine's hardware as XML: hostname, firmware (BIOS or\n"
"UEFI), processors (count, sockets, cores per socket, threads per core,\n"
"model), memory, network interfaces (name, MAC address, driver, bus and\n"
"PCI address, link state, carrier, speed, MTU, IPv4 and IPv6 addresses),\n"
"and disks: size, sector sizes, model and serial number, partition table,\n"
"partitions (number, start, size, name, type, UUID, flags) and the\n"
"filesystem on each (type, UUID, label; the volume group of an LVM\n"
"physical volume).  This is the inventory.xml that p2v-send sends along\n"
"with the disks; its format is described in templates/inventory.md.\n"
"\n"
"Only physical network interfaces are listed (those with a device behind\n"
"them: not lo, bridges, bonds, VLANs or tunnels).  Disks are only ever\n"
"read, by a thread the kernel forbids to write (see --disk).\n"
"\n"
"Options:\n"
"  --disk DISK            describe DISK, a block device or a raw image\n"
"                         file; repeat for several disks.  Without\n"
"                         --disk: every local disk in /sys/block except\n"
"                         removable and empty ones and loop, ram, zram,\n"
"                         device-mapper, md, CD and floppy devices\n"
"  -o, --output FILE      write the XML to FILE (as FILE.part, renamed when\n"
"                         complete) instead of stdout\n"
"  --force                replace FILE if it exists\n"
"  -v, --verbose          also describe the disks and interfaces found on\n"
"                         stderr, one line each\n"
"  --help                 this text\n"
"  --version              the version\n"
"\n"
"Exit status: 0 on success, 1 on failure with one line on stderr.\n"
"\n"
"Examples:\n"
"  p2v-inventory -o inventory.xml\n"
"  p2v-inventory --disk /dev/sda --disk /dev/nvme0n1\n"
"  p2v-inventory --disk old-server.img\n");
  /* clang-format on */
  exit (exitcode);
}

static int
add_disk (char *path)
{
  char **nd;

  nd = realloc (disks, (n_disks + 1) * sizeof *nd);
  if (nd == NULL)
    return error ("out of memory");
  disks = nd;
  disks[n_disks++] = path;
  return 0;
}

/* With -v, one line per disk and per NIC. */
static void
describe (const struct inventory *inv)
{
  const struct inventory_disk *d;
  const struct inventory_nic *nic;
  char size[SIZE_HUMAN_MAX];
  size_t i;

  fprintf (stderr, "%s: %s: %s, %u CPUs, %s of memory\n", cli.prog,
           inv->hostname ? inv->hostname : "(no hostname)",
           inventory_firmware_name (inv->firmware), inv->cpu.count,
           size_human (inv->memory, size));
  for (i = 0; i < inv->n_disks; i++) {
    d = &inv->disks[i];
    fprintf (stderr, "%s: %s: %s, ", cli.prog, d->path,
             size_human (d->size, size));
    if (d->table_type)
      fprintf (stderr, "%s table, %zu partitions\n", d->table_type,
               d->n_partitions);
    else
      fprintf (stderr, "no partition table, %s\n",
               d->filesystem ? d->filesystem->type : "no filesystem");
  }
  for (i = 0; i < inv->n_nics; i++) {
    nic = &inv->nics[i];
    fprintf (stderr, "%s: %s: %s, %s, link %s, %zu addresses\n", cli.prog,
             nic->name, nic->mac ? nic->mac : "no MAC",
             nic->driver ? nic->driver : "no driver",
             inventory_link_state_name (nic->state), nic->n_addresses);
  }
}

int
main (int argc, char *argv[])
{
  static const struct option long_options[] = {
    CLI_COMMON_LONG_OPTIONS,
    { "disk", required_argument, NULL, DISK_OPTION },
    { "output", required_argument, NULL, 'o' },
    { NULL, 0, NULL, 0 },
  };
  struct inventory inv = { 0 };
  bool own_disks = false;
  size_t i;
  int c, status = EXIT_FAILURE;

  while ((c = getopt_long (argc, argv,
                           CLI_COMMON_SHORT_OPTIONS "o:", long_options, NULL))
         != -1) {
    switch (c) {
    case DISK_OPTION:
      if (add_disk (optarg) == -1)
        goto out;
      break;
    case 'o':
      output = optarg;
      break;
    default:
      cli_common_option (&cli, c, usage);
    }
  }
  if (optind != argc) {
    error ("unexpected argument '%s' (see p2v-inventory --help)", argv[optind]);
    goto out;
  }

  if (n_disks == 0) {
    if (inventory_local_disks (&disks, &n_disks) == -1)
      goto out;
    own_disks = true;
  }
  if (inventory_collect (&inv, disks, n_disks) == -1
      || inventory_write_xml (&inv, output, cli.force) == -1)
    goto out;
  if (cli.verbose)
    describe (&inv);
  status = EXIT_SUCCESS;

out:
  if (status != EXIT_SUCCESS)
    cli_report_error (&cli);
  inventory_free (&inv);
  if (own_disks)
    for (i = 0; i < n_disks; i++)
      free (disks[i]);
  free (disks);
  return status;
}
