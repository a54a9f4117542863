/* v2p-recv: option parsing.  The work is in server.c and session.c. */
#include "recv.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "file.h"
#include "listen.h"

enum {
  LISTEN_OPTION = CLI_FIRST_PROGRAM_OPTION,
  STDIO_OPTION,
  DISK_OPTION,
  GROW_OPTION,
  TOKEN_OPTION,
  TOKEN_FILE_OPTION,
  ONCE_OPTION,
};

volatile sig_atomic_t recv_interrupted;

static char *disks[STREAM_MAX_DISKS];

static struct recv_options opts = {
  .cli.prog = "v2p-recv",
  .disks = disks,
};

static void
usage (FILE *fp, int exitcode)
{
  /* clang-format off */
  fprintf (fp,
"Usage: v2p-recv --listen [ADDR:]PORT --disk DEV... [OPTIONS]\n"
"       v2p-recv --stdio --disk DEV... [OPTIONS]\n"
"\n"
"Receive the disk images that v2p-send (or p2v-send) streams, and write\n"
"image N straight onto this machine's disk N, the Nth --disk: V2P, a\n"
"virtual machine redeployed onto bare metal.  With --grow, the last\n"
"partition of each disk and its filesystem then grow to the end of the\n"
"disk.\n"
"\n"
"Before the first byte is written, and before a single one is received,\n"
"v2p-recv refuses with one line, and leaves the disks as they are:\n"
"  - a disk that is mounted, has a partition mounted, or is in use (swap,\n"
"    LVM, RAID, another program holding it exclusively): every --disk is\n"
"    opened exclusively at start, and held while v2p-recv waits;\n"
"  - a sender whose number of disks is not the number of --disk;\n"
"  - a disk smaller than its image, unless the image has a partition\n"
"    table (MBR or GPT) whose partitions, and for GPT the backup table,\n"
"    end before the disk does: then only what lies after them, outside\n"
"    every partition, is left out (the sender tells where they end).  An\n"
"    image without a partition table needs a disk at least its size;\n"
"  - a disk whose sectors differ in size from those the image's partition\n"
"    table counts in.\n"
"\n"
"Each disk gets the image's data; its zero runs, and the space past the\n"
"image, are zeroed with the disk's own zeroing (discard, write-zeroes)\n"
"where it has one (else only the last MiB past the image, where an old\n"
"GPT keeps its backup).  A GPT is made to describe the whole disk (its\n"
"backup moved to the disk's end, as sgdisk -e does).  Every disk is\n"
"flushed, and only then is the sender told it is done; then the kernel is\n"
"told about the new partitions, and --grow grows them.\n"
"\n"
"--grow grows the partition that ends last (a logical one with its\n"
"extended partition), keeping its start, and what it holds: ext2, ext3\n"
"and ext4 with e2fsck -f -p and resize2fs, XFS with xfs_growfs (mounted on\n"
"a private temporary directory meanwhile), swap made again with its UUID\n"
"and label, an LVM physical volume with pvresize (the volume group gains\n"
"the space, free for lvextend); btrfs gets the partition only (btrfs\n"
"filesystem resize max, once mounted).  A partition holding anything else\n"
"is not grown, with a warning.\n"
"\n"
"With --listen, a sender connects over TCP and must prove it knows the\n"
"token, which is printed at start unless given with --token or\n"
"--token-file; it never travels on the network.  Senders are served one\n"
"at a time.  If a connection breaks, the same v2p-send run again resumes\n"
"where it stopped, as long as this v2p-recv runs.  With --stdio, one\n"
"sender talks on stdin and stdout, as v2p-send --to ssh://HOST/DEV\n"
"arranges (ssh has authenticated it; a token is asked for only if one is\n"
"given), or `v2p-send --to - | v2p-recv --stdio` (one-way: no resume).\n"
"\n"
"Nothing the sender says is trusted: every name, length, offset and\n"
"count is checked, and each disk's digest must match the sender's.\n"
"\n"
"Options:\n"
"  --listen [ADDR:]PORT   listen for a sender on PORT (0: any free port)\n"
"  --stdio                serve one sender on stdin and stdout\n"
"  --disk DEV             the disk the next image goes onto (repeat it, in\n"
"                         the sender's order; at least one)\n"
"  --grow                 grow each disk's last partition and its\n"
"                         filesystem to the end of the disk\n"
"  --token TOKEN          the token senders must know\n"
"  --token-file FILE      read the token from FILE\n"
"  --once                 exit after the first sender that finishes, with\n"
"                         its status (0, or 1 when it was refused or\n"
"                         failed); one that fails to authenticate, or\n"
"                         whose connection breaks (it may resume), does\n"
"                         not count.  Without it, v2p-recv serves sender\n"
"                         after sender\n"
"  -q, --quiet            say less\n"
"  --machine-readable     lines on stdout: listening ADDR:PORT,\n"
"                         token TOKEN, progress NAME DONE TOTAL,\n"
"                         disk DEV size=N digest=HEX\n"
"  -v, --verbose          say more (and show what e2fsck, resize2fs,\n"
"                         xfs_growfs print)\n"
"  --help                 this text\n"
"  --version              the version\n"
"\n"
"Exit status: 0 on success, 1 on failure with one line on stderr.\n"
"\n"
"Example:\n"
"  baremetal# v2p-recv --listen 4444 --disk /dev/sda --grow --once\n"
"  v2p-recv: token 3f9a0c...\n"
"  kvm-host$ P2V_TOKEN=3f9a0c... v2p-send vm.qcow2 --to tcp://baremetal:4444\n");
  /* clang-format on */
  exit (exitcode);
}

static int
add_disk (const char *dev)
{
  size_t i;

  if (opts.n_disks == STREAM_MAX_DISKS)
    return error ("--disk: at most %d disks", STREAM_MAX_DISKS);
  for (i = 0; i < opts.n_disks; i++)
    if (strcmp (disks[i], dev) == 0 || file_same (disks[i], dev))
      return error ("--disk: %s given twice", dev);
  disks[opts.n_disks++] = (char *) dev;
  return 0;
}

int
main (int argc, char *argv[])
{
  static const struct option long_options[] = {
    CLI_COMMON_LONG_OPTIONS,
    { "listen", required_argument, NULL, LISTEN_OPTION },
    { "stdio", no_argument, NULL, STDIO_OPTION },
    { "disk", required_argument, NULL, DISK_OPTION },
    { "grow", no_argument, NULL, GROW_OPTION },
    { "token", required_argument, NULL, TOKEN_OPTION },
    { "token-file", required_argument, NULL, TOKEN_FILE_OPTION },
    { "once", no_argument, NULL, ONCE_OPTION },
    { NULL, 0, NULL, 0 },
  };
  static char token[STREAM_TOKEN_LENGTH + 1];
  static struct receiver rc = { .opts = &opts };
  char shown[LISTEN_NAME_MAX];
  enum session_end end;
  bool told;
  size_t i;
  int c, lfd, r;

  for (i = 0; i < STREAM_MAX_DISKS; i++)
    rc.targets[i].fd = -1;
  while (
    (c = getopt_long (argc, argv, CLI_COMMON_SHORT_OPTIONS, long_options, NULL))
    != -1) {
    switch (c) {
    case LISTEN_OPTION:
      opts.listen = optarg;
      break;
    case STDIO_OPTION:
      opts.stdio = true;
      break;
    case DISK_OPTION:
      if (add_disk (optarg) == -1)
        goto fail;
      break;
    case GROW_OPTION:
      opts.grow = true;
      break;
    case TOKEN_OPTION:
      opts.token = optarg;
      break;
    case TOKEN_FILE_OPTION:
      if (cli_token_file (optarg, &opts.token) == -1)
        goto fail;
      break;
    case ONCE_OPTION:
      opts.once = true;
      break;
    default:
      cli_common_option (&opts.cli, c, usage);
    }
  }

  if (optind != argc) {
    error ("unexpected argument '%s' (see v2p-recv --help)", argv[optind]);
    goto fail;
  }
  if (!opts.listen == !opts.stdio) {
    error ("give one of --listen or --stdio (see v2p-recv --help)");
    goto fail;
  }
  if (opts.n_disks == 0) {
    error ("--disk is required (see v2p-recv --help)");
    goto fail;
  }
  if (opts.stdio && opts.cli.machine_readable) {
    error ("--machine-readable: stdout carries the stream with --stdio");
    goto fail;
  }
  if (stream_crypto_init () == -1)
    goto fail;
  /* Every disk is ours, or none is. */
  if (recv_open_disks (&rc) == -1)
    goto fail;

  cli_catch_signals (&recv_interrupted);
  if (opts.stdio) {
    end = recv_session (&rc, STDIN_FILENO, STDOUT_FILENO, "stdin",
                        opts.token != NULL, &told);
    recv_close_disks (&rc);
    /* A pre-copy's hashes go with this process: the resync that ends it
     * over ssh reads the disks for them again.
     */
    if (end == SESSION_DONE || end == SESSION_PRECOPY)
      return EXIT_SUCCESS;
    /* The sender has it, and says it, in one line: once is enough. */
    if (told)
      return EXIT_FAILURE;
    goto fail;
  }

  lfd = listen_on (opts.listen, shown, sizeof shown);
  if (lfd == -1) {
    recv_close_disks (&rc);
    goto fail;
  }
  if (opts.token == NULL) {
    stream_new_token (token);
    opts.token = token;
    fprintf (stderr, "%s: token %s\n", opts.cli.prog, token);
    if (opts.cli.machine_readable)
      printf ("token %s\n", token);
  }
  r = recv_serve (&rc, lfd, shown);
  close (lfd);
  recv_close_disks (&rc);
  if (r == -1)
    goto fail;
  return EXIT_SUCCESS;

fail:
  cli_report_error (&opts.cli);
  return EXIT_FAILURE;
}
