/* v2p-write: option parsing.  The work is in write.c. */
#include "write.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "size.h"

enum {
  SOURCE_FORMAT_OPTION = CLI_FIRST_PROGRAM_OPTION,
  SYNC_OPTION,
  GROW_OPTION,
  SIZE_OPTION,
};

volatile sig_atomic_t write_interrupted;

static struct write_options opts = {
  .cli.prog = "v2p-write",
};

static void
usage (FILE *fp, int exitcode)
{
  /* clang-format off */
  fprintf (fp,
"Usage: v2p-write [OPTIONS] IMAGE TARGET\n"
"\n"
"Write the disk image IMAGE (qcow2 or raw) onto TARGET, a block device or\n"
"a raw image file, and with --grow make its last partition and the\n"
"filesystem in it fill TARGET.  IMAGE is opened read-only.\n"
"\n"
"TARGET a block device: it must not be mounted or in use (it is opened\n"
"exclusively, which the kernel refuses while any of its partitions is\n"
"mounted, or used by swap, LVM or RAID; the error says by what).  Only the\n"
"image's data is written; its zero runs are zeroed with the device's own\n"
"zeroing (discard or write-zeroes), not with written zeros.  Any space\n"
"past the end of the image is zeroed too.  The device is flushed before\n"
"v2p-write exits, and the kernel is told about the new partitions.\n"
"\n"
"TARGET a file: it is written as TARGET.part, sparse, and renamed to\n"
"TARGET when complete.  An existing non-empty TARGET is replaced only\n"
"with --force.  It is as large as the image, or --size.\n"
"\n"
"TARGET should be at least as large as the image.  It may be smaller when\n"
"the image has a partition table (MBR or GPT) whose partitions, and for\n"
"GPT the backup table, end before TARGET does: what lies after them,\n"
"outside every partition, is left out, with a note saying so.  An image\n"
"without a partition table needs all of its size.  A GPT is made to\n"
"describe TARGET, its backup moved to TARGET's end, as sgdisk -e does.\n"
"\n"
"--grow grows the partition that ends last to the end of TARGET (a\n"
"logical one with its extended partition), keeping its start, and then\n"
"what it holds: ext2, ext3 and ext4 with e2fsck -f -p and resize2fs, XFS\n"
"with xfs_growfs (mounted on a private temporary directory meanwhile),\n"
"swap made again with its UUID and label, an LVM physical volume with\n"
"pvresize (its volume group gains the space, free for lvextend); btrfs\n"
"gets the partition only (btrfs filesystem resize max, once mounted).  A\n"
"partition holding anything else (vfat, NTFS, RAID, unknown) is not\n"
"grown, with a warning.  An image without a partition table has the\n"
"filesystem on the whole disk grown.\n"
"\n"
"Options:\n"
"  --grow                 grow the last partition and its filesystem to\n"
"                         the end of TARGET\n"
"  --size SIZE            the size of a TARGET file (K, M, G, T suffixes);\n"
"                         default: the image's\n"
"  --force                replace a non-empty TARGET file\n"
"  --source-format raw|qcow2\n"
"                         do not guess the format of IMAGE from its contents\n"
"  --sync                 flush a TARGET file to stable storage before\n"
"                         renaming it (block devices are always flushed)\n"
"  -q, --quiet            no progress bar\n"
"  --machine-readable     progress and result as lines on stdout:\n"
"                           progress v2p-write DONE TOTAL\n"
"                           done IMAGE TARGET size=N read=N data=N zero=N\n"
"                                written=N digest=HEX seconds=S\n"
"  -v, --verbose          say what was done\n"
"  --help                 this text\n"
"  --version              the version\n"
"\n"
"The digest is the p2vkit disk digest of the image (see p2v-send --help).\n"
"\n"
"Exit status: 0 on success, 1 on failure with one line on stderr.\n"
"\n"
"Examples:\n"
"  v2p-write server.qcow2 /dev/sdb --grow\n"
"  v2p-write server.qcow2 server.img\n"
"  v2p-write server.qcow2 bigger.img --size 100G --grow\n");
  /* clang-format on */
  exit (exitcode);
}

int
main (int argc, char *argv[])
{
  static const struct option long_options[] = {
    CLI_COMMON_LONG_OPTIONS,
    { "source-format", required_argument, NULL, SOURCE_FORMAT_OPTION },
    { "sync", no_argument, NULL, SYNC_OPTION },
    { "grow", no_argument, NULL, GROW_OPTION },
    { "size", required_argument, NULL, SIZE_OPTION },
    { NULL, 0, NULL, 0 },
  };
  int c;

  while (
    (c = getopt_long (argc, argv, CLI_COMMON_SHORT_OPTIONS, long_options, NULL))
    != -1) {
    switch (c) {
    case SOURCE_FORMAT_OPTION:
      if (cli_parse_source_format (optarg, &opts.format) == -1)
        goto fail;
      break;
    case SYNC_OPTION:
      opts.sync = true;
      break;
    case GROW_OPTION:
      opts.grow = true;
      break;
    case SIZE_OPTION:
      if (size_parse (optarg, &opts.size) == -1 || opts.size == 0) {
        error ("--size: '%s': expected a size, e.g. 20G", optarg);
        goto fail;
      }
      break;
    default:
      cli_common_option (&opts.cli, c, usage);
    }
  }

  if (argc - optind != 2) {
    error ("expected IMAGE and TARGET (see v2p-write --help)");
    goto fail;
  }

  cli_catch_signals (&write_interrupted);
  if (write_image (&opts, argv[optind], argv[optind + 1]) == -1)
    goto fail;
  return EXIT_SUCCESS;

fail:
  cli_report_error (&opts.cli);
  return EXIT_FAILURE;
}
