/* p2v-recv: option parsing.  The work is in server.c and session.c. */
#include "recv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

enum {
  LISTEN_OPTION = CLI_FIRST_PROGRAM_OPTION,
  STDIO_OPTION,
  OUT_OPTION,
  TOKEN_OPTION,
  TOKEN_FILE_OPTION,
  ONCE_OPTION,
  CONVERT_OPTION,
  NETWORK_OPTION,
  BRIDGE_OPTION,
};

volatile sig_atomic_t recv_interrupted;

static struct recv_options opts = {
  .cli.prog = "p2v-recv",
};

static void
usage (FILE *fp, int exitcode)
{
  /* clang-format off */
  fprintf (fp,
"Usage: p2v-recv --listen [ADDR:]PORT --out DIR [OPTIONS]\n"
"       p2v-recv --stdio --out DIR [OPTIONS]\n"
"\n"
"Receive the disks that p2v-send streams from a machine, and write each as\n"
"a qcow2 image: DIR/NAME/NAME-DISK.qcow2, where NAME is the machine's name\n"
"(p2v-send --name) and DISK the disk's; the machine's hardware inventory\n"
"goes to DIR/NAME/inventory.xml.\n"
"\n"
"With --listen, senders connect over TCP, several at once, each served on\n"
"its own.  They must prove they know the token, which is printed at start\n"
"unless given with --token or --token-file; it never travels on the\n"
"network.  With --stdio, one sender talks on stdin and stdout, as\n"
"p2v-send --to ssh://HOST/DIR arranges (ssh has authenticated it; a token\n"
"is asked for only if one is given), or `p2v-send --to - | p2v-recv\n"
"--stdio` (one-way: no token, no resume).\n"
"\n"
"Nothing the sender says is trusted: names are confined to DIR, every\n"
"length and offset is checked, and a sender that breaks the protocol or\n"
"whose data does not match its digest leaves nothing behind.  An image\n"
"appears only when complete (it is written as .part and renamed).  If a\n"
"connection breaks, the partial image is kept, and the same p2v-send run\n"
"again resumes where it stopped.\n"
"\n"
"Options:\n"
"  --listen [ADDR:]PORT   listen for senders on PORT (0: any free port)\n"
"  --stdio                serve one sender on stdin and stdout\n"
"  --out DIR              where the machines go (required; must exist)\n"
"  --token TOKEN          the token senders must know\n"
"  --token-file FILE      read the token from FILE\n"
"  --once                 serve one sender, then exit with its status\n"
"  --convert              when a sender has finished, make its machine a\n"
"                         virtual machine, as p2v-convert does: p2v-fixup\n"
"                         --target virt on the images in place (with the\n"
"                         inventory, if the sender sent one), the report in\n"
"                         DIR/NAME/NAME-fixup.xml, and p2v-domxml's\n"
"                         DIR/NAME/NAME.xml for virsh define.  Minutes\n"
"                         without KVM; the sender does not wait for it\n"
"  --network NET, --bridge BRIDGE\n"
"                         with --convert: the NICs join libvirt network NET\n"
"                         (default \"default\") or host bridge BRIDGE\n"
"  --force                replace images that exist\n"
"  -q, --quiet            say less\n"
"  --machine-readable     lines on stdout: listening ADDR:PORT,\n"
"                         token TOKEN, disk PATH size=N digest=HEX\n"
"  -v, --verbose          say more\n"
"  --help                 this text\n"
"  --version              the version\n"
"\n"
"Exit status: 0 on success, 1 on failure with one line on stderr.\n"
"\n"
"Example:\n"
"  conv-host$ p2v-recv --listen 4444 --out /srv/p2v\n"
"  p2v-recv: token 3f9a0c...\n"
"  server$ P2V_TOKEN=3f9a0c... p2v-send /dev/sda --to tcp://conv-host:4444\n");
  /* clang-format on */
  exit (exitcode);
}

int
main (int argc, char *argv[])
{
  static const struct option long_options[] = {
    CLI_COMMON_LONG_OPTIONS,
    { "listen", required_argument, NULL, LISTEN_OPTION },
    { "stdio", no_argument, NULL, STDIO_OPTION },
    { "out", required_argument, NULL, OUT_OPTION },
    { "token", required_argument, NULL, TOKEN_OPTION },
    { "token-file", required_argument, NULL, TOKEN_FILE_OPTION },
    { "once", no_argument, NULL, ONCE_OPTION },
    { "convert", no_argument, NULL, CONVERT_OPTION },
    { "network", required_argument, NULL, NETWORK_OPTION },
    { "bridge", required_argument, NULL, BRIDGE_OPTION },
    { NULL, 0, NULL, 0 },
  };
  static char token[STREAM_TOKEN_LENGTH + 1];
  struct stat st;
  int c;

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
    case OUT_OPTION:
      opts.out = optarg;
      break;
    case TOKEN_OPTION:
      opts.token = optarg;
      break;
    case TOKEN_FILE_OPTION:
      if (cli_token_file (optarg, &opts.token) == -1)
        goto fail;
      break;
    case CONVERT_OPTION:
      opts.convert = true;
      break;
    case NETWORK_OPTION:
      opts.network = optarg;
      break;
    case BRIDGE_OPTION:
      opts.bridge = optarg;
      break;
    case ONCE_OPTION:
      opts.once = true;
      break;
    default:
      cli_common_option (&opts.cli, c, usage);
    }
  }

  if (optind != argc) {
    error ("unexpected argument '%s' (see p2v-recv --help)", argv[optind]);
    goto fail;
  }
  if (!opts.listen == !opts.stdio) {
    error ("give one of --listen or --stdio (see p2v-recv --help)");
    goto fail;
  }
  if (opts.out == NULL) {
    error ("--out is required (see p2v-recv --help)");
    goto fail;
  }
  if ((opts.network || opts.bridge) && !opts.convert) {
    error ("--network and --bridge go with --convert");
    goto fail;
  }
  if (opts.network && opts.bridge) {
    error ("--network and --bridge: one or the other");
    goto fail;
  }
  if (opts.stdio && opts.cli.machine_readable) {
    error ("--machine-readable: stdout carries the stream with --stdio");
    goto fail;
  }
  if (stat (opts.out, &st) == -1) {
    error_errno (errno, "--out: %s", opts.out);
    goto fail;
  }
  if (!S_ISDIR (st.st_mode)) {
    error ("--out: %s: not a directory", opts.out);
    goto fail;
  }
  if (stream_crypto_init () == -1)
    goto fail;

  cli_catch_signals (&recv_interrupted);
  if (opts.stdio) {
    bool told;

    if (recv_session (&opts, STDIN_FILENO, STDOUT_FILENO, "stdin",
                      opts.token != NULL, &told)
        == -1) {
      /* The sender has it, and says it, in one line: once is enough. */
      if (told)
        return EXIT_FAILURE;
      goto fail;
    }
    return EXIT_SUCCESS;
  }

  if (opts.token == NULL) {
    stream_new_token (token);
    opts.token = token;
    fprintf (stderr, "p2v-recv: token %s\n", token);
    if (opts.cli.machine_readable)
      printf ("token %s\n", token);
  }
  if (recv_listen (&opts) == -1)
    goto fail;
  return EXIT_SUCCESS;

fail:
  cli_report_error (&opts.cli);
  return EXIT_FAILURE;
}
