/* v2p-write: option parsing.  The work is in write.c. */
#include "write.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

enum {
  SOURCE_FORMAT_OPTION = CLI_FIRST_PROGRAM_OPTION,
  SYNC_OPTION,
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
"a raw image file.  IMAGE is opened read-only.\n"
"\n"
"TARGET a block device: it must be at least as large as the image, and\n"
"not mounted or in use (it is opened exclusively, which the kernel refuses\n"
"while any of its partitions is mounted, or used by swap, LVM or RAID).\n"
"Only the image's data is written; its zero runs are zeroed with the\n"
"device's own zeroing (discard or write-zeroes), not with written zeros.\n"
"Any space past the end of the image is zeroed too.  The device is flushed\n"
"before v2p-write exits.\n"
"\n"
"TARGET a file: it is written as TARGET.part, sparse, and renamed to\n"
"TARGET when complete.  An existing non-empty TARGET is replaced only\n"
"with --force.\n"
"\n"
"Options:\n"
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
"  v2p-write server.qcow2 /dev/sdb\n"
"  v2p-write server.qcow2 server.img\n");
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
    { NULL, 0, NULL, 0 },
  };
  int c;

  while (
    (c = getopt_long (argc, argv, CLI_COMMON_SHORT_OPTIONS, long_options, NULL))
    != -1) {
    switch (c) {
    case SOURCE_FORMAT_OPTION:
      if (strcmp (optarg, "raw") && strcmp (optarg, "qcow2")) {
        error ("--source-format: '%s': expected raw or qcow2", optarg);
        goto fail;
      }
      opts.format = optarg;
      break;
    case SYNC_OPTION:
      opts.sync = true;
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
