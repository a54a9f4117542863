/* p2v-send: option parsing.  The work is in local.c. */
#include "send.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "qcow2.h"
#include "size.h"

enum {
  TO_OPTION = CLI_FIRST_PROGRAM_OPTION,
  COMPRESS_OPTION,
  CLUSTER_SIZE_OPTION,
  SOURCE_FORMAT_OPTION,
  SYNC_OPTION,
};

volatile sig_atomic_t send_interrupted;

static struct send_options opts = {
  .cli.prog = "p2v-send",
  .qcow2.cluster_bits = QCOW2_DEFAULT_CLUSTER_BITS,
};

static void
usage (FILE *fp, int exitcode)
{
  /* clang-format off */
  fprintf (fp,
"Usage: p2v-send [OPTIONS] SOURCE --to OUT.qcow2\n"
"\n"
"Copy the disk SOURCE (a block device, or a raw or qcow2 image file) into a\n"
"new qcow2 image.  Only data travels: holes in SOURCE are never read, and\n"
"all-zero clusters are never written (they stay unallocated in the image).\n"
"SOURCE is opened read-only and never written.  The image is written as\n"
"OUT.qcow2.part and renamed to OUT.qcow2 only when it is complete.  A\n"
"SOURCE whose size is not a whole number of 512-byte sectors is padded\n"
"with zeros to the next sector, as qemu-img does, with a warning.\n"
"\n"
"Options:\n"
"  --to OUT.qcow2         the image to create (required)\n"
"  --compress METHOD[:LEVEL]\n"
"                         compress the image's clusters: none (the default),\n"
"                         zlib or zstd; LEVEL is the method's level\n"
"  --cluster-size SIZE    qcow2 cluster size, a power of two from 512 to 2M\n"
"                         (default 64K)\n"
"  --source-format raw|qcow2\n"
"                         do not guess the format of SOURCE from its contents\n"
"  --force                replace OUT.qcow2 if it exists\n"
"  --sync                 flush the image to stable storage before renaming\n"
"  -q, --quiet            no progress bar\n"
"  --machine-readable     progress and result as lines on stdout:\n"
"                           progress p2v-send DONE TOTAL\n"
"                           done SOURCE DEST size=N read=N data=N zero=N\n"
"                                written=N digest=HEX seconds=S\n"
"  -v, --verbose          say what was done\n"
"  --help                 this text\n"
"  --version              the version\n"
"\n"
"The digest is the p2vkit disk digest (XXH3-128 over the XXH3-64 of each\n"
"64 KiB block) of the disk in the image: the same for a disk whatever its\n"
"format, so v2p-write prints the same digest when it writes the image\n"
"out again.\n"
"\n"
"Exit status: 0 on success, 1 on failure with one line on stderr.\n"
"\n"
"Example:\n"
"  p2v-send /dev/sda --to /srv/vms/server-sda.qcow2\n");
  /* clang-format on */
  exit (exitcode);
}

static int
parse_compress (const char *arg)
{
  const char *colon = strchr (arg, ':');
  size_t len = colon ? (size_t) (colon - arg) : strlen (arg);
  char *end;
  long level = 0;

  if (colon) {
    level = strtol (colon + 1, &end, 10);
    if (colon[1] == '\0' || *end || level < 1 || level > 22)
      return error ("--compress: '%s': expected a level, 1-9 for zlib or "
                    "1-22 for zstd", arg);
  }
  if (len == 4 && strncmp (arg, "none", 4) == 0 && !colon)
    opts.qcow2.compression = QCOW2_COMPRESS_NONE;
  else if (len == 4 && strncmp (arg, "zstd", 4) == 0)
    opts.qcow2.compression = QCOW2_COMPRESS_ZSTD;
  else if (len == 4 && strncmp (arg, "zlib", 4) == 0 && level <= 9)
    opts.qcow2.compression = QCOW2_COMPRESS_ZLIB;
  else
    return error ("--compress: '%s': expected none, zlib[:1-9] or "
                  "zstd[:1-22]",
                  arg);
  opts.qcow2.level = (int) level;
  return 0;
}

static int
parse_cluster_size (const char *arg)
{
  uint64_t n;
  unsigned bits;

  if (size_parse (arg, &n) == -1)
    return error_prefix ("--cluster-size");
  for (bits = QCOW2_MIN_CLUSTER_BITS; bits <= QCOW2_MAX_CLUSTER_BITS; bits++)
    if (n == 1ULL << bits) {
      opts.qcow2.cluster_bits = bits;
      return 0;
    }
  return error ("--cluster-size: '%s': must be a power of two from 512 to 2M",
                arg);
}

static bool
ends_with (const char *s, const char *suffix)
{
  size_t n = strlen (s), m = strlen (suffix);

  return n >= m && strcmp (s + n - m, suffix) == 0;
}

int
main (int argc, char *argv[])
{
  static const struct option long_options[] = {
    CLI_COMMON_LONG_OPTIONS,
    { "to", required_argument, NULL, TO_OPTION },
    { "compress", required_argument, NULL, COMPRESS_OPTION },
    { "cluster-size", required_argument, NULL, CLUSTER_SIZE_OPTION },
    { "source-format", required_argument, NULL, SOURCE_FORMAT_OPTION },
    { "sync", no_argument, NULL, SYNC_OPTION },
    { NULL, 0, NULL, 0 },
  };
  int c;

  while (
    (c = getopt_long (argc, argv, CLI_COMMON_SHORT_OPTIONS, long_options, NULL))
    != -1) {
    switch (c) {
    case TO_OPTION:
      opts.to = optarg;
      break;
    case COMPRESS_OPTION:
      if (parse_compress (optarg) == -1)
        goto fail;
      break;
    case CLUSTER_SIZE_OPTION:
      if (parse_cluster_size (optarg) == -1)
        goto fail;
      break;
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

  if (opts.to == NULL) {
    error ("--to is required (see p2v-send --help)");
    goto fail;
  }
  if (argc - optind != 1) {
    error ("%s (see p2v-send --help)",
           argc == optind ? "no SOURCE given"
                          : "writing to a file takes one SOURCE");
    goto fail;
  }
  /* XXX Network destinations (tcp://, ssh://, -) come with the stream
   * protocol; until then only a local image can be written.
   */
  if (!ends_with (opts.to, ".qcow2")) {
    error ("--to: '%s': expected a file name ending in .qcow2", opts.to);
    goto fail;
  }

  cli_catch_signals (&send_interrupted);
  if (send_to_file (&opts, argv[optind]) == -1)
    goto fail;
  return EXIT_SUCCESS;

fail:
  cli_report_error (&opts.cli);
  return EXIT_FAILURE;
}
