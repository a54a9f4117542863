/* p2v-send: option parsing.  The work is in local.c. */
#include "send.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "qcow2.h"
#include "size.h"
#include "stream-send.h"

enum {
  TO_OPTION = CLI_FIRST_PROGRAM_OPTION,
  COMPRESS_OPTION,
  CLUSTER_SIZE_OPTION,
  SOURCE_FORMAT_OPTION,
  SYNC_OPTION,
  NAME_OPTION,
  TOKEN_OPTION,
  TOKEN_FILE_OPTION,
  BANDWIDTH_OPTION,
  NO_INVENTORY_OPTION,
  ALL_BLOCKS_OPTION,
};

volatile sig_atomic_t send_interrupted;

/* --compress was given: otherwise a stream defaults to zstd. */
static bool compression_given;

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
"       p2v-send [OPTIONS] SOURCE... --to tcp://HOST:PORT\n"
"       p2v-send [OPTIONS] SOURCE... --to ssh://[USER@]HOST[:PORT]/DIR\n"
"       p2v-send [OPTIONS] SOURCE... --to -\n"
"\n"
"Copy disks (block devices, or raw or qcow2 image files; `auto` for every\n"
"local non-removable disk except the one the running system is on) into a\n"
"new qcow2 image, or stream them to p2v-recv on a conversion host, which\n"
"writes one qcow2 image per disk.  Only data travels: holes in a SOURCE are\n"
"never read, all-zero blocks are never written or sent.  Every SOURCE is\n"
"opened read-only and never written.\n"
"\n"
"Only what the filesystems use is read: the free blocks of ext2/3/4 and XFS\n"
"(from their block bitmaps and free-space B-trees) and a swap area after its\n"
"header arrive as zeros, in partitions and in the linear logical volumes of\n"
"an LVM2 physical volume (whose free extents are zeros too).  Partition\n"
"tables, the space outside partitions, other filesystems, and a filesystem\n"
"that is damaged or mounted read-write (with a warning: its copy is\n"
"crash-consistent at best unless frozen) are read in full.\n"
"\n"
"Destinations:\n"
"  OUT.qcow2              a new image, written as OUT.qcow2.part and renamed\n"
"                         when complete.  A SOURCE whose size is not a whole\n"
"                         number of 512-byte sectors is padded with zeros to\n"
"                         the next sector, as qemu-img does, with a warning.\n"
"  tcp://HOST:PORT        p2v-recv --listen PORT on HOST.  Authenticated by a\n"
"                         token (challenge-response: the token never travels)\n"
"  ssh://[USER@]HOST[:PORT]/DIR\n"
"                         runs p2v-recv --stdio --out DIR on HOST over ssh\n"
"                         (the command is $P2V_REMOTE_RECV if set)\n"
"  -                      the stream on stdout, one-way, for a pipe into\n"
"                         p2v-recv --stdio (no resume)\n"
"\n"
"A stream is compressed with zstd, checksummed frame by frame, and each\n"
"disk's digest is checked by the receiver at the end.  If the connection\n"
"breaks, running the same command again resumes each disk from the last\n"
"point the receiver saved.\n"
"\n"
"Options:\n"
"  --to DEST              where the disks go (required)\n"
"  --name NAME            the machine's name at the receiver (default: the\n"
"                         short host name); disks are named after SOURCE\n"
"  --token TOKEN          the receiver's token (or $P2V_TOKEN)\n"
"  --token-file FILE      read the token from FILE\n"
"  --compress METHOD[:LEVEL]\n"
"                         none, zlib or zstd.  For a stream: zstd (level 1)\n"
"                         by default, or none.  For an image: compressed\n"
"                         clusters, none by default\n"
"  --bandwidth MB/s       send at most this many megabytes a second\n"
PRECOPY_HELP
"  --no-inventory         send no hardware inventory of this machine: the\n"
"                         SOURCEs are images of another machine, whose\n"
"                         hardware this one is not (p2v-recv --convert then\n"
"                         learns what it can from the guest itself)\n"
"  --cluster-size SIZE    qcow2 cluster size of OUT.qcow2, a power of two\n"
"                         from 512 to 2M (default 64K)\n"
"  --source-format raw|qcow2\n"
"                         do not guess the format of SOURCE from its contents\n"
"  --all-blocks           read every block, free ones too\n"
"  --force                replace OUT.qcow2, or the receiver's images, if\n"
"                         they exist\n"
"  --sync                 flush OUT.qcow2 to stable storage before renaming\n"
"  -q, --quiet            no progress bar\n"
"  --machine-readable     progress and results as lines on stdout:\n"
"                           progress LABEL DONE TOTAL\n"
"                           done SOURCE DEST size=N read=N data=N zero=N\n"
"                                written=N digest=HEX seconds=S  (image)\n"
"                           disk NAME size=N resumed-at=N data=N wire=N\n"
"                                digest=HEX seconds=S            (stream)\n"
"                           done DEST wire=N data=N seconds=S    (stream)\n"
"  -v, --verbose          say what was done\n"
"  --help                 this text\n"
"  --version              the version\n"
"\n"
"The digest is the p2vkit disk digest (XXH3-128 over the XXH3-64 of each\n"
"64 KiB block) of the disk: the same for a disk whatever its format, so\n"
"v2p-write prints the same digest when it writes the image out again.\n"
"\n"
"Exit status: 0 on success, 1 on failure with one line on stderr.\n"
"\n"
"Examples:\n"
"  p2v-send /dev/sda --to /srv/vms/server-sda.qcow2\n"
"  P2V_TOKEN=3f9a... p2v-send /dev/sda /dev/sdb --to tcp://conv-host:4444\n"
"  p2v-send /dev/sda --to ssh://admin@conv-host/srv/p2v\n");
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
                    "1-22 for zstd",
                    arg);
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
  compression_given = true;
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
    { "name", required_argument, NULL, NAME_OPTION },
    { "token", required_argument, NULL, TOKEN_OPTION },
    { "token-file", required_argument, NULL, TOKEN_FILE_OPTION },
    { "bandwidth", required_argument, NULL, BANDWIDTH_OPTION },
    { "no-inventory", no_argument, NULL, NO_INVENTORY_OPTION },
    PRECOPY_LONG_OPTIONS,
    { "all-blocks", no_argument, NULL, ALL_BLOCKS_OPTION },
    { NULL, 0, NULL, 0 },
  };
  int c, pr;

  precopy_defaults (&opts.precopy);
  while (
    (c = getopt_long (argc, argv, CLI_COMMON_SHORT_OPTIONS, long_options, NULL))
    != -1) {
    if ((pr = precopy_option (&opts.precopy, c, optarg)) != 0) {
      if (pr == -1)
        goto fail;
      continue;
    }
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
      if (cli_parse_source_format (optarg, &opts.format) == -1)
        goto fail;
      break;
    case SYNC_OPTION:
      opts.sync = true;
      break;
    case NAME_OPTION:
      opts.name = optarg;
      break;
    case TOKEN_OPTION:
      opts.token = optarg;
      break;
    case TOKEN_FILE_OPTION:
      if (cli_token_file (optarg, &opts.token) == -1)
        goto fail;
      break;
    case NO_INVENTORY_OPTION:
      opts.no_inventory = true;
      break;
    case ALL_BLOCKS_OPTION:
      opts.all_blocks = true;
      break;
    case BANDWIDTH_OPTION:
      if (cli_parse_bandwidth (optarg, &opts.bandwidth) == -1)
        goto fail;
      break;
    default:
      cli_common_option (&opts.cli, c, usage);
    }
  }

  if (opts.to == NULL) {
    error ("--to is required (see p2v-send --help)");
    goto fail;
  }
  if (argc == optind) {
    error ("no SOURCE given (see p2v-send --help)");
    goto fail;
  }
  if (opts.token == NULL)
    opts.token = getenv ("P2V_TOKEN");

  if (precopy_check (&opts.precopy, opts.to) == -1)
    goto fail;
  cli_catch_signals (&send_interrupted);
  if (ends_with (opts.to, ".qcow2")) {
    if (argc - optind != 1) {
      error ("writing to a file takes one SOURCE (see p2v-send --help)");
      goto fail;
    }
    if (send_to_file (&opts, argv[optind]) == -1)
      goto fail;
    return EXIT_SUCCESS;
  }

  if (!stream_send_dest_ok (opts.to)) {
    error ("--to: '%s': expected FILE.qcow2, tcp://HOST:PORT, "
           "ssh://[USER@]HOST[:PORT]/DIR or -",
           opts.to);
    goto fail;
  }
  if (!compression_given)
    opts.qcow2.compression = QCOW2_COMPRESS_ZSTD;
  if (opts.qcow2.compression == QCOW2_COMPRESS_ZLIB) {
    error ("--compress: a stream is compressed with zstd or not at all");
    goto fail;
  }
  if (strcmp (opts.to, "-") == 0 && opts.cli.machine_readable) {
    error ("--machine-readable: stdout carries the stream with --to -");
    goto fail;
  }
  if (argc - optind == 1 && strcmp (argv[optind], "auto") == 0) {
    char **disks;
    size_t n, i;
    int r;

    if (send_auto_disks (&disks, &n) == -1)
      goto fail;
    r = send_to_stream (&opts, disks, n);
    for (i = 0; i < n; i++)
      free (disks[i]);
    free (disks);
    if (r == -1)
      goto fail;
    return EXIT_SUCCESS;
  }
  if (send_to_stream (&opts, &argv[optind], argc - optind) == -1)
    goto fail;
  return EXIT_SUCCESS;

fail:
  cli_report_error (&opts.cli);
  return EXIT_FAILURE;
}
