/* p2v-domxml: option parsing.  The work is in p2v/common/domxml.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "domxml.h"
#include "error.h"
#include "file.h"
#include "fixup-report.h"
#include "inventory.h"

enum {
  INVENTORY_OPTION = CLI_FIRST_PROGRAM_OPTION,
  DISK_OPTION,
  NAME_OPTION,
  TYPE_OPTION,
  FIRMWARE_OPTION,
  FIXUP_REPORT_OPTION,
  TEMPLATE_OPTION,
  NETWORK_OPTION,
  BRIDGE_OPTION,
  CPU_MODEL_OPTION,
};

static struct cli cli = { .prog = "p2v-domxml" };
static const char *inventory_path;  /* --inventory */
static const char *report_path;     /* --fixup-report */
static const char *output = "-";    /* -o */
static char **disks;                /* --disk, repeatable */
static size_t n_disks;

static void
usage (FILE *fp, int exitcode)
{
  /* clang-format off */
  fprintf (fp,
"Usage: p2v-domxml --inventory FILE --disk IMAGE... [--name NAME]\n"
"                  [--type auto|kvm|qemu] [--firmware auto|bios|efi]\n"
"                  [--fixup-report FILE] [--template FILE]\n"
"                  [--network NAME | --bridge NAME] [--cpu-model NAME]\n"
"                  [-o FILE]\n"
"\n"
"Write the libvirt domain XML of a converted machine, for `virsh define`:\n"
"its name, memory, vCPUs and CPU topology from the source machine's\n"
"inventory (p2v-inventory, p2v-recv), BIOS or UEFI as the source booted,\n"
"one disk per IMAGE in the order given (the first is the boot disk), one\n"
"network interface per NIC of the source with its MAC, a serial console.\n"
"\n"
"The XML is built from a template, templates/domain.xml (built into the\n"
"program; --template gives your own copy): p2v-domxml sets the domain's\n"
"type, name, memory, vCPUs, <os> and <cpu>, adds the disks and\n"
"interfaces, and keeps everything else of the template.  Every rule is\n"
"in templates/domain.md.\n"
"\n"
"  - disks: virtio (vda, vdb...), qcow2 or raw as each image is, with\n"
"    cache='none' (so `virsh migrate --live` over shared storage needs no\n"
"    --unsafe), io='native', discard='unmap'.  When the fixup report says\n"
"    that no kernel of the guest has the virtio drivers: SATA (sda,\n"
"    sdb...) and e1000 NICs instead.\n"
"  - UEFI: <os firmware='efi'> on a Q35 machine: libvirt picks OVMF\n"
"    (without Secure Boot) and makes the domain its own NVRAM.  BIOS: an\n"
"    i440FX machine ('pc').\n"
"  - CPU: host-model for KVM, or --cpu-model for a model every host of\n"
"    a migration has; for qemu (TCG), QEMU's own default model, which\n"
"    TCG emulates best.\n"
"\n"
"Options:\n"
"  --inventory FILE       the source machine's inventory.xml\n"
"                         (templates/inventory.md); without it: %d vCPUs,\n"
"                         %d MiB, the firmware from the first disk's\n"
"                         partition table, the NICs of the fixup report\n"
"  --disk IMAGE           a disk image (qcow2 or raw) or block device;\n"
"                         repeat for each disk, the boot disk first\n"
"  --name NAME            the domain's name (default: the inventory's short\n"
"                         host name, else the first IMAGE's name without\n"
"                         extension): 1-%d of A-Z a-z 0-9 . _ -, not\n"
"                         starting with . or -\n"
"  --type auto|kvm|qemu   the domain type: kvm, or qemu (TCG, no KVM).\n"
"                         auto (the default) runs a tiny KVM guest that\n"
"                         writes 4 MiB, and says kvm only if it finishes\n"
"                         within %d ms (working KVM: a few ms)\n"
"  --firmware auto|bios|efi  auto (the default): as the inventory says\n"
"  --fixup-report FILE    p2v-fixup's report (templates/fixup-report.md):\n"
"                         whether the guest's kernels have virtio, and the\n"
"                         MACs of NICs the inventory has none for\n"
"  --template FILE        start from FILE instead of the built-in template\n"
"  --network NAME         put the interfaces on the libvirt network NAME\n"
"                         (default: %s)\n"
"  --bridge NAME          put them on the host bridge NAME instead\n"
"  --cpu-model NAME       <cpu mode='custom'> with the model NAME (as\n"
"                         `virsh cpu-models x86_64` lists them), exactly,\n"
"                         instead of host-model (or QEMU's default)\n"
"  -o, --output FILE      write the XML to FILE (as FILE.part, renamed when\n"
"                         complete) instead of stdout\n"
"  --force                replace FILE if it exists\n"
"  -v, --verbose          say what was chosen and why, on stderr\n"
"  --help                 this text\n"
"  --version              the version\n"
"\n"
"Exit status: 0 on success, 1 on failure with one line on stderr (and no\n"
"output file).\n"
"\n"
"Examples:\n"
"  p2v-domxml --inventory server1/inventory.xml \\\n"
"    --disk server1/server1-sda.qcow2 -o server1.xml && virsh define server1.xml\n"
"  p2v-domxml --inventory inventory.xml --fixup-report fixup.xml \\\n"
"    --disk sda.qcow2 --disk sdb.qcow2 --bridge br0 --cpu-model Haswell-noTSX\n",
           DOMXML_DEFAULT_VCPUS, DOMXML_DEFAULT_MEMORY_MIB, STREAM_MAX_NAME,
           KVM_PROBE_TIMEOUT_MS, DOMXML_DEFAULT_NETWORK);
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

/* Write LEN bytes of XML to stdout, or to OUTPUT through OUTPUT.part. */
static int
write_output (const char *xml, size_t len)
{
  struct sink_options opts = { .force = cli.force, .sync = false };
  char *tmp = NULL, *final = NULL;
  int fd = STDOUT_FILENO, ret = -1;
  ssize_t r;

  if (strcmp (output, "-") != 0) {
    fd = file_create_temp (output, cli.force, &final, &tmp);
    if (fd == -1)
      return error_prefix ("-o");
  }
  while (len > 0) {
    r = write (fd, xml, len);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1) {
      error_errno (errno, "%s: write", tmp ? tmp : "stdout");
      goto out;
    }
    xml += r;
    len -= r;
  }
  if (tmp) {
    ret = file_commit (fd, tmp, final, &opts);
    fd = -1;
  }
  else
    ret = 0;

out:
  if (tmp && fd >= 0) {
    close (fd);
    unlink (tmp);
  }
  free (tmp);
  free (final);
  return ret;
}

int
main (int argc, char *argv[])
{
  static const struct option long_options[] = {
    CLI_COMMON_LONG_OPTIONS,
    { "inventory", required_argument, NULL, INVENTORY_OPTION },
    { "disk", required_argument, NULL, DISK_OPTION },
    { "name", required_argument, NULL, NAME_OPTION },
    { "type", required_argument, NULL, TYPE_OPTION },
    { "firmware", required_argument, NULL, FIRMWARE_OPTION },
    { "fixup-report", required_argument, NULL, FIXUP_REPORT_OPTION },
    { "template", required_argument, NULL, TEMPLATE_OPTION },
    { "network", required_argument, NULL, NETWORK_OPTION },
    { "bridge", required_argument, NULL, BRIDGE_OPTION },
    { "cpu-model", required_argument, NULL, CPU_MODEL_OPTION },
    { "output", required_argument, NULL, 'o' },
    { NULL, 0, NULL, 0 },
  };
  struct domxml_options o = { .type = DOMXML_TYPE_AUTO };
  struct domxml_result res;
  struct inventory inv = { 0 };
  struct fixup_report report = { 0 };
  char reason[KVM_PROBE_REASON_MAX] = "";
  char *xml = NULL;
  size_t len;
  int c, status = EXIT_FAILURE;

  while ((c = getopt_long (argc, argv,
                           CLI_COMMON_SHORT_OPTIONS "o:", long_options, NULL))
         != -1) {
    switch (c) {
    case INVENTORY_OPTION:
      inventory_path = optarg;
      break;
    case DISK_OPTION:
      if (add_disk (optarg) == -1)
        goto out;
      break;
    case NAME_OPTION:
      o.name = optarg;
      break;
    case TYPE_OPTION:
      if (strcmp (optarg, "auto") == 0)
        o.type = DOMXML_TYPE_AUTO;
      else if (strcmp (optarg, "kvm") == 0)
        o.type = DOMXML_TYPE_KVM;
      else if (strcmp (optarg, "qemu") == 0)
        o.type = DOMXML_TYPE_QEMU;
      else {
        error ("--type: '%s': must be auto, kvm or qemu", optarg);
        goto out;
      }
      break;
    case FIRMWARE_OPTION:
      if (strcmp (optarg, "auto") == 0)
        o.firmware = DOMXML_FIRMWARE_AUTO;
      else if (strcmp (optarg, "bios") == 0)
        o.firmware = DOMXML_FIRMWARE_BIOS;
      else if (strcmp (optarg, "efi") == 0)
        o.firmware = DOMXML_FIRMWARE_EFI;
      else {
        error ("--firmware: '%s': must be auto, bios or efi", optarg);
        goto out;
      }
      break;
    case FIXUP_REPORT_OPTION:
      report_path = optarg;
      break;
    case TEMPLATE_OPTION:
      o.template_path = optarg;
      break;
    case NETWORK_OPTION:
      o.network = optarg;
      break;
    case BRIDGE_OPTION:
      o.bridge = optarg;
      break;
    case CPU_MODEL_OPTION:
      o.cpu_model = optarg;
      break;
    case 'o':
      output = optarg;
      break;
    default:
      cli_common_option (&cli, c, usage);
    }
  }
  if (optind != argc) {
    error ("unexpected argument '%s' (see p2v-domxml --help)", argv[optind]);
    goto out;
  }
  if (n_disks == 0) {
    error ("no --disk given (see p2v-domxml --help)");
    goto out;
  }
  if (inventory_path) {
    if (inventory_read_file (inventory_path, &inv) == -1)
      goto out;
    o.inv = &inv;
  }
  if (report_path) {
    if (fixup_report_read_file (report_path, &report) == -1)
      goto out;
    o.report = &report;
  }
  o.disks = disks;
  o.n_disks = n_disks;

  if (o.type == DOMXML_TYPE_AUTO) {
    o.type = domxml_resolve_type (o.type, reason, sizeof reason);
    if (cli.verbose)
      fprintf (stderr, "%s: type %s: the KVM probe: %s\n", cli.prog,
               domxml_type_name (o.type), reason);
  }
  xml = domxml_build (&o, &len, &res);
  if (xml == NULL || write_output (xml, len) == -1)
    goto out;
  if (cli.verbose)
    fprintf (stderr, "%s: %s: %s, %s, %zu %s disks, %zu %s NICs\n", cli.prog,
             res.name, domxml_type_name (o.type), res.efi ? "UEFI" : "BIOS",
             n_disks, res.virtio ? "virtio" : "SATA", res.n_nics,
             res.virtio ? "virtio" : "e1000");
  status = EXIT_SUCCESS;

out:
  if (status != EXIT_SUCCESS)
    cli_report_error (&cli);
  free (xml);
  inventory_free (&inv);
  fixup_report_free (&report);
  free (disks);
  return status;
}
