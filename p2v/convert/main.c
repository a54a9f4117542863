/* p2v-convert: option parsing.  The work is in run.c. */
#include "p2v-convert.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

enum {
  OUT_OPTION = CLI_FIRST_PROGRAM_OPTION,
  NAME_OPTION,
  INVENTORY_OPTION,
  NETWORK_OPTION,
  BRIDGE_OPTION,
  TYPE_OPTION,
  SOURCE_FORMAT_OPTION,
  ALL_BLOCKS_OPTION,
};

static struct convert_options opts = { .cli.prog = "p2v-convert" };

static void
usage (FILE *fp, int exitcode)
{
  /* clang-format off */
  fprintf (fp,
"Usage: p2v-convert IMAGE... --out DIR [--name NAME] [--inventory FILE]\n"
"                   [--network NET | --bridge BRIDGE] [--type auto|kvm|qemu]\n"
"\n"
"Turn the disk images of a Linux machine (a dd image of a physical disk,\n"
"the raw or qcow2 disks of an old virtual machine) into a KVM virtual\n"
"machine that libvirt boots, in one command:\n"
"\n"
"  1. each IMAGE is copied into a new qcow2 image (holes and all-zero\n"
"     blocks are neither read nor written, nor are the free blocks of\n"
"     ext2/3/4 and XFS and a swap area after its header);\n"
"  2. p2v-fixup --target virt fixes the guest up in those copies: device\n"
"     names to UUID=, an initramfs with the virtio drivers, the NIC names\n"
"     pinned to their MACs (this takes minutes without KVM);\n"
"  3. p2v-domxml writes the libvirt domain XML for them.\n"
"\n"
"The IMAGEs are the disks of one machine, in its order (the first one\n"
"boots); they are only ever read.  Everything is made in a private\n"
"directory inside DIR and appears in DIR only when it is complete, so a\n"
"failure or Ctrl-C leaves DIR as it was:\n"
"\n"
"  DIR/NAME-disk1.qcow2 ...  the disks, fixed up\n"
"  DIR/NAME-fixup.xml        what the fixup changed (templates/fixup-report.md)\n"
"  DIR/NAME.xml              the domain, for virsh define\n"
"\n"
"Without --inventory, what the machine was is derived from the images and\n"
"the guest: BIOS or UEFI from the partition table, the NICs from the\n"
"guest's network configuration.  A NIC that the configuration names\n"
"without a MAC gets a new locally administered one, its name is pinned to\n"
"it, and the domain XML gives it to the NIC, so that every name survives.\n"
"The processors and memory are then p2v-domxml's defaults.\n"
"\n"
"Options:\n"
"  --out DIR              where the results go (made if missing; required)\n"
"  --name NAME            the virtual machine's name (default: the\n"
"                         inventory's host name, else the first IMAGE's file\n"
"                         name without its extension)\n"
"  --inventory FILE       the source machine's inventory.xml (p2v-inventory):\n"
"                         processors, memory, firmware, NIC MACs\n"
"  --network NET          the NICs join libvirt network NET (default:\n"
"                         \"default\")\n"
"  --bridge BRIDGE        the NICs join host bridge BRIDGE instead\n"
"  --type auto|kvm|qemu   the domain type (default auto: kvm where KVM\n"
"                         works, qemu otherwise)\n"
"  --source-format raw|qcow2\n"
"                         do not guess the IMAGEs' format from their contents\n"
"  --all-blocks           read every block of the IMAGEs, free ones too\n"
"  --force                replace the results of an earlier run in DIR\n"
"  -q, --quiet            no progress\n"
"  -v, --verbose          more detail, from every step\n"
"  --help                 this text\n"
"  --version              the version\n"
"\n"
"Exit status: 0 on success, 1 on failure with one line on stderr.\n"
"\n"
"Examples:\n"
"  p2v-convert old-server.img --out /var/lib/libvirt/images\n"
"  p2v-convert sda.img sdb.img --name web1 --inventory inventory.xml \\\n"
"      --bridge br0 --out vms/\n"
"  virsh define vms/web1.xml && virsh start web1\n");
  /* clang-format on */
  exit (exitcode);
}

int
main (int argc, char *argv[])
{
  static const struct option long_options[] = {
    CLI_COMMON_LONG_OPTIONS,
    { "out", required_argument, NULL, OUT_OPTION },
    { "name", required_argument, NULL, NAME_OPTION },
    { "inventory", required_argument, NULL, INVENTORY_OPTION },
    { "network", required_argument, NULL, NETWORK_OPTION },
    { "bridge", required_argument, NULL, BRIDGE_OPTION },
    { "type", required_argument, NULL, TYPE_OPTION },
    { "source-format", required_argument, NULL, SOURCE_FORMAT_OPTION },
    { "all-blocks", no_argument, NULL, ALL_BLOCKS_OPTION },
    { NULL, 0, NULL, 0 },
  };
  int c;

  while (
    (c = getopt_long (argc, argv, CLI_COMMON_SHORT_OPTIONS, long_options, NULL))
    != -1) {
    switch (c) {
    case OUT_OPTION:
      opts.out = optarg;
      break;
    case NAME_OPTION:
      opts.name = optarg;
      break;
    case INVENTORY_OPTION:
      opts.inventory = optarg;
      break;
    case NETWORK_OPTION:
      opts.network = optarg;
      break;
    case BRIDGE_OPTION:
      opts.bridge = optarg;
      break;
    case TYPE_OPTION:
      if (strcmp (optarg, "auto") != 0 && strcmp (optarg, "kvm") != 0
          && strcmp (optarg, "qemu") != 0) {
        error ("--type: '%s': auto, kvm or qemu", optarg);
        goto fail;
      }
      opts.type = optarg;
      break;
    case SOURCE_FORMAT_OPTION:
      if (cli_parse_source_format (optarg, &opts.source_format) == -1)
        goto fail;
      break;
    case ALL_BLOCKS_OPTION:
      opts.all_blocks = true;
      break;
    default:
      cli_common_option (&opts.cli, c, usage);
    }
  }
  opts.images = argv + optind;
  opts.n_images = argc - optind;
  if (opts.n_images == 0) {
    error ("no IMAGE given (see p2v-convert --help)");
    goto fail;
  }
  if (opts.out == NULL) {
    error ("--out DIR is required (see p2v-convert --help)");
    goto fail;
  }
  if (opts.network && opts.bridge) {
    error ("--network and --bridge: one or the other");
    goto fail;
  }

  cli_catch_signals (&convert_interrupted);
  if (convert_run (&opts) == -1)
    goto fail;
  return EXIT_SUCCESS;

fail:
  cli_report_error (&opts.cli);
  return EXIT_FAILURE;
}
