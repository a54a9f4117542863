/* p2vkit: what every program's main() shares (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "allocmap.h"
#include "error.h"
#include "qcow2.h"
#include "size.h"

void
cli_common_option (struct cli *cli, int c,
                   void (*usage) (FILE *fp, int exitcode))
{
  switch (c) {
  case CLI_HELP_OPTION:
    usage (stdout, EXIT_SUCCESS);
    break;
  case CLI_VERSION_OPTION:
    printf ("%s (p2vkit) %s\n", cli->prog, P2V_VERSION);
    exit (EXIT_SUCCESS);
  case 'v':
    cli->verbose++;
    break;
  case 'q':
    cli->quiet = true;
    break;
  case CLI_MACHINE_READABLE_OPTION:
    cli->machine_readable = true;
    break;
  case CLI_FORCE_OPTION:
    cli->force = true;
    break;
  default:
    /* getopt_long has said what was wrong, in one line. */
    exit (EXIT_FAILURE);
  }
}

enum progress_mode
cli_progress_mode (const struct cli *cli)
{
  return progress_mode_for (cli->quiet, cli->machine_readable);
}

int
cli_token_file (const char *path, const char **token)
{
  static char buf[CLI_TOKEN_MAX + 1];
  FILE *fp = fopen (path, "r");

  if (fp == NULL)
    return error_errno (errno, "--token-file: %s", path);
  if (fgets (buf, sizeof buf, fp) == NULL)
    buf[0] = '\0';
  fclose (fp);
  buf[strcspn (buf, "\r\n")] = '\0';
  if (buf[0] == '\0')
    return error ("--token-file: %s: no token in it", path);
  *token = buf;
  return 0;
}

int
cli_parse_bandwidth (const char *arg, double *mbps)
{
  char *end;
  double v;

  errno = 0;
  v = strtod (arg, &end);
  if (errno || end == arg || *end || !(v > 0))
    return error ("--bandwidth: '%s': expected megabytes a second, e.g. 100",
                  arg);
  *mbps = v;
  return 0;
}

void
cli_report_error (const struct cli *cli)
{
  fprintf (stderr, "%s: %s\n", cli->prog, error_message ());
}

static volatile sig_atomic_t *signal_flag;

static void
on_signal (int sig)
{
  (void) sig;
  *signal_flag = 1;
}

void
cli_catch_signals (volatile sig_atomic_t *flag)
{
  struct sigaction sa;

  signal_flag = flag;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
  sa.sa_handler = SIG_IGN;
  sigaction (SIGPIPE, &sa, NULL);
}

uint64_t
cli_disk_size (const struct cli *cli, const char *source,
               const struct source *src)
{
  uint64_t size = (src->size + QCOW2_SIZE_ALIGNMENT - 1) / QCOW2_SIZE_ALIGNMENT
    * QCOW2_SIZE_ALIGNMENT;

  if (size != src->size && !cli->quiet)
    fprintf (stderr,
             "%s: warning: %s: %" PRIu64 " bytes is not a whole number of "
             "%d-byte sectors: the image is padded with zeros to %" PRIu64
             " bytes\n",
             cli->prog, source, src->size, QCOW2_SIZE_ALIGNMENT, size);
  return size;
}

void
cli_report_copy (const struct cli *cli, const struct source *src,
                 const struct sink *dst, const struct copy_result *res,
                 double seconds)
{
  char size[SIZE_HUMAN_MAX], data[SIZE_HUMAN_MAX], written[SIZE_HUMAN_MAX];

  if (cli->machine_readable) {
    printf ("done %s %s size=%" PRIu64 " read=%" PRIu64 " data=%" PRIu64
            " zero=%" PRIu64 " written=%" PRIu64 " digest=%s seconds=%.3f\n",
            src->name, dst->name, src->size, res->bytes_read, res->bytes_data,
            res->bytes_zero, dst->bytes_written, res->digest, seconds);
    fflush (stdout);
  }
  if (cli->verbose || cli_progress_mode (cli) == PROGRESS_BAR)
    fprintf (stderr,
             "%s: %s -> %s: %s disk, %s of data, %s written in "
             "%.1f s (digest %s)\n",
             cli->prog, src->name, dst->name, size_human (src->size, size),
             size_human (res->bytes_data, data),
             size_human (dst->bytes_written, written), seconds, res->digest);
}

int
cli_copy (const struct cli *cli, const char *label, struct source *src,
          struct sink *dst, const volatile sig_atomic_t *cancel)
{
  struct copy_options copts = { .cancel = cancel };
  struct progress progress;
  struct copy_result res;

  progress_start (&progress, cli_progress_mode (cli), label, src->size);
  if (copy_disk (src, dst, &progress, &copts, &res) == -1)
    return -1;
  cli_report_copy (cli, src, dst, &res, progress_elapsed (&progress));
  return 0;
}

int
cli_parse_source_format (const char *arg, const char **format)
{
  if (strcmp (arg, "raw") != 0 && strcmp (arg, "qcow2") != 0)
    return error ("--source-format: '%s': expected raw or qcow2", arg);
  *format = arg;
  return 0;
}

static void
used_blocks_warn (void *arg, const char *msg)
{
  const struct cli *cli = arg;

  if (!cli->quiet)
    fprintf (stderr, "%s: warning: %s\n", cli->prog, msg);
}

static void
used_blocks_note (void *arg, const char *msg)
{
  const struct cli *cli = arg;

  if (cli->verbose)
    fprintf (stderr, "%s: %s\n", cli->prog, msg);
}

int
cli_used_blocks (const struct cli *cli, bool all_blocks, struct source **src)
{
  struct allocmap_options o = {
    .warn = used_blocks_warn,
    .note = used_blocks_note,
    .arg = (void *) cli,
  };

  if (all_blocks)
    return 0;
  return allocmap_source (src, &o);
}
