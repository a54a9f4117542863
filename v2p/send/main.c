/* v2p-send: option parsing.  The work is in send.c. */
#include "send.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "stream-send.h"
#include "stream.h"

enum {
  TO_OPTION = CLI_FIRST_PROGRAM_OPTION,
  COMPRESS_OPTION,
  SOURCE_FORMAT_OPTION,
  NAME_OPTION,
  TOKEN_OPTION,
  TOKEN_FILE_OPTION,
  BANDWIDTH_OPTION,
  GROW_OPTION,
  ALL_BLOCKS_OPTION,
};

/* The highest zstd level. */
#define ZSTD_MAX_LEVEL 22

volatile sig_atomic_t send_interrupted;

static struct send_options opts = {
  .cli.prog = "v2p-send",
  .level = STREAM_DEFAULT_LEVEL,
};

static void
usage (FILE *fp, int exitcode)
{
  /* clang-format off */
  fprintf (fp,
"Usage: v2p-send [OPTIONS] IMAGE... --to tcp://HOST:PORT\n"
"       v2p-send [OPTIONS] IMAGE... --to ssh://[USER@]HOST[:PORT]/DEV[,DEV...]\n"
"       v2p-send [OPTIONS] IMAGE... --to -\n"
"\n"
"Stream disk images (raw or qcow2, e.g. the disks of a virtual machine\n"
"after p2v-fixup --target physical) to v2p-recv on a bare-metal machine,\n"
"which writes image N onto its disk N (v2p-recv --disk).  Only data\n"
"travels: holes in an IMAGE are never read, all-zero blocks are never\n"
"sent.  Every IMAGE is opened read-only and never written.  Only what\n"
"its filesystems use is read: the free blocks of ext2/3/4 and XFS and a\n"
"swap area after its header are sent as zeros (see p2v-send --help).\n"
"\n"
"Each image's partition table tells the receiver how much of it a smaller\n"
"disk must hold (the end of its partitions, and for GPT of its backup\n"
"table): v2p-recv refuses a disk smaller than that, or one in use, before\n"
"anything is written.\n"
"\n"
"Destinations:\n"
"  tcp://HOST:PORT        v2p-recv --listen PORT on HOST.  Authenticated by a\n"
"                         token (challenge-response: the token never travels)\n"
"  ssh://[USER@]HOST[:PORT]/DEV[,DEV...]\n"
"                         runs v2p-recv --stdio --disk DEV... on HOST over\n"
"                         ssh, one DEV an IMAGE (the command is\n"
"                         $V2P_REMOTE_RECV if set)\n"
"  -                      the stream on stdout, one-way, for a pipe into\n"
"                         v2p-recv --stdio (no resume)\n"
"\n"
"The stream is compressed with zstd, checksummed frame by frame, and each\n"
"disk's digest is checked by the receiver at the end.  v2p-send ends when\n"
"the receiver has written and flushed every disk; growing partitions\n"
"(v2p-recv --grow) comes after, on the receiver.  If the connection\n"
"breaks, running the same command again resumes each disk where the\n"
"receiver stopped, while that v2p-recv still runs.\n"
"\n"
"Options:\n"
"  --to DEST              where the images go (required)\n"
"  --name NAME            the machine's name at the receiver (default: the\n"
"                         first IMAGE's file name without .qcow2, .raw or\n"
"                         .img)\n"
"  --token TOKEN          the receiver's token (or $P2V_TOKEN)\n"
"  --token-file FILE      read the token from FILE\n"
"  --compress METHOD[:LEVEL]\n"
"                         zstd (level 1 by default, up to 22) or none\n"
"  --bandwidth MB/s       send at most this many megabytes a second\n"
PRECOPY_HELP
"  --grow                 for ssh://: run v2p-recv with --grow, which grows\n"
"                         each disk's last partition and its filesystem to\n"
"                         the end of the disk (for tcp://, the receiver's\n"
"                         own --grow decides)\n"
"  --source-format raw|qcow2\n"
"                         do not guess the format of IMAGE from its contents\n"
"  --all-blocks           read every block, free ones too\n"
"  -q, --quiet            no progress bar\n"
"  --machine-readable     progress and results as lines on stdout:\n"
"                           progress NAME DONE TOTAL\n"
"                           disk NAME size=N resumed-at=N data=N wire=N\n"
"                                digest=HEX seconds=S\n"
"                           done DEST wire=N data=N seconds=S\n"
"  -v, --verbose          say what was done\n"
"  --help                 this text\n"
"  --version              the version\n"
"\n"
"The digest is the p2vkit disk digest of each image (see p2v-send --help):\n"
"v2p-write prints the same for the same image.\n"
"\n"
"Exit status: 0 on success, 1 on failure with one line on stderr.\n"
"\n"
"Examples:\n"
"  baremetal# v2p-recv --listen 4444 --disk /dev/sda --grow\n"
"  v2p-recv: token 3f9a...\n"
"  P2V_TOKEN=3f9a... v2p-send vm.qcow2 --to tcp://baremetal:4444\n"
"  v2p-send sda.qcow2 sdb.qcow2 --grow \\\n"
"    --to ssh://root@baremetal/dev/sda,/dev/sdb\n");
  /* clang-format on */
  exit (exitcode);
}

/* none, zstd or zstd:LEVEL. */
static int
parse_compress (const char *arg)
{
  char *end;
  long level;

  if (strcmp (arg, "none") == 0)
    opts.level = 0;
  else if (strcmp (arg, "zstd") == 0)
    opts.level = STREAM_DEFAULT_LEVEL;
  else if (strncmp (arg, "zstd:", 5) == 0) {
    errno = 0;
    level = strtol (arg + 5, &end, 10);
    if (errno || arg[5] == '\0' || *end || level < 1 || level > ZSTD_MAX_LEVEL)
      return error ("--compress: '%s': expected a level from 1 to %d", arg,
                    ZSTD_MAX_LEVEL);
    opts.level = (int) level;
  }
  else
    return error ("--compress: '%s': expected none or zstd[:1-%d]", arg,
                  ZSTD_MAX_LEVEL);
  return 0;
}

int
main (int argc, char *argv[])
{
  static const struct option long_options[] = {
    CLI_COMMON_LONG_OPTIONS,
    { "to", required_argument, NULL, TO_OPTION },
    { "compress", required_argument, NULL, COMPRESS_OPTION },
    { "source-format", required_argument, NULL, SOURCE_FORMAT_OPTION },
    { "name", required_argument, NULL, NAME_OPTION },
    { "token", required_argument, NULL, TOKEN_OPTION },
    { "token-file", required_argument, NULL, TOKEN_FILE_OPTION },
    { "bandwidth", required_argument, NULL, BANDWIDTH_OPTION },
    { "grow", no_argument, NULL, GROW_OPTION },
    { "all-blocks", no_argument, NULL, ALL_BLOCKS_OPTION },
    PRECOPY_LONG_OPTIONS,
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
    case SOURCE_FORMAT_OPTION:
      if (cli_parse_source_format (optarg, &opts.format) == -1)
        goto fail;
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
    case BANDWIDTH_OPTION:
      if (cli_parse_bandwidth (optarg, &opts.bandwidth) == -1)
        goto fail;
      break;
    case GROW_OPTION:
      opts.grow = true;
      break;
    case ALL_BLOCKS_OPTION:
      opts.all_blocks = true;
      break;
    default:
      cli_common_option (&opts.cli, c, usage);
    }
  }

  if (opts.to == NULL) {
    error ("--to is required (see v2p-send --help)");
    goto fail;
  }
  if (argc == optind) {
    error ("no IMAGE given (see v2p-send --help)");
    goto fail;
  }
  if (argc - optind > STREAM_MAX_DISKS) {
    error ("at most %d images in one session", STREAM_MAX_DISKS);
    goto fail;
  }
  if (!stream_send_dest_ok (opts.to)) {
    error ("--to: '%s': expected tcp://HOST:PORT, "
           "ssh://[USER@]HOST[:PORT]/DEV[,DEV...] or -",
           opts.to);
    goto fail;
  }
  if (opts.grow && strncmp (opts.to, "ssh://", 6) != 0) {
    error ("--grow: only for ssh://; for tcp:// and -, give v2p-recv --grow");
    goto fail;
  }
  if (strcmp (opts.to, "-") == 0 && opts.cli.machine_readable) {
    error ("--machine-readable: stdout carries the stream with --to -");
    goto fail;
  }
  if (precopy_check (&opts.precopy, opts.to) == -1)
    goto fail;
  if (opts.token == NULL)
    opts.token = getenv ("P2V_TOKEN");

  cli_catch_signals (&send_interrupted);
  if (send_images (&opts, &argv[optind], argc - optind) == -1)
    goto fail;
  return EXIT_SUCCESS;

fail:
  cli_report_error (&opts.cli);
  return EXIT_FAILURE;
}
