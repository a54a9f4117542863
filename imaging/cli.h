/* p2vkit: what every program's main() shares.
 *
 * The options every tool has (--help, --version, -v, --quiet,
 * --machine-readable, --force) are parsed in one place:
 *
 *   static const struct option long_options[] = {
 *     CLI_COMMON_LONG_OPTIONS,
 *     { "to", required_argument, NULL, TO_OPTION },
 *     { NULL }
 *   };
 *   ...
 *   while ((c = getopt_long (argc, argv, CLI_COMMON_SHORT_OPTIONS, ...)))
 *     switch (c) {
 *     case TO_OPTION: ...
 *     default:
 *       cli_common_option (&cli, c, usage);
 *     }
 *
 * Program-specific long options take values from CLI_FIRST_PROGRAM_OPTION
 * up.
 */
#ifndef P2V_CLI_H
#define P2V_CLI_H

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "copy.h"
#include "progress.h"

enum {
  CLI_HELP_OPTION = CHAR_MAX + 1,
  CLI_VERSION_OPTION,
  CLI_MACHINE_READABLE_OPTION,
  CLI_FORCE_OPTION,
  CLI_FIRST_PROGRAM_OPTION,
};

#define CLI_COMMON_SHORT_OPTIONS "vq"
/* clang-format off */
#define CLI_COMMON_LONG_OPTIONS                                               \
  { "help", no_argument, NULL, CLI_HELP_OPTION },                             \
  { "version", no_argument, NULL, CLI_VERSION_OPTION },                       \
  { "verbose", no_argument, NULL, 'v' },                                      \
  { "quiet", no_argument, NULL, 'q' },                                        \
  { "machine-readable", no_argument, NULL, CLI_MACHINE_READABLE_OPTION },     \
  { "force", no_argument, NULL, CLI_FORCE_OPTION }
/* clang-format on */

struct cli {
  const char *prog;
  int verbose;                  /* -v, repeatable */
  bool quiet;                   /* --quiet */
  bool machine_readable;        /* --machine-readable */
  bool force;                   /* --force */
};

/* Handle option C if it is a common one: --help calls USAGE (stdout, 0),
 * which never returns; an unknown option (which getopt_long has reported)
 * exits with status 1.
 */
void cli_common_option (struct cli *cli, int c,
                        void (*usage) (FILE *fp, int exitcode));

/* How to show progress, from the options (see progress.h). */
enum progress_mode cli_progress_mode (const struct cli *cli);

/* The longest token read from a file. */
#define CLI_TOKEN_MAX 255

/* Read a token from the first line of PATH (--token-file) into *TOKEN,
 * which stays valid while the program runs.  Returns 0, or -1 with an
 * error recorded ("--token-file: PATH: ...").
 */
int cli_token_file (const char *path, const char **token);

/* Parse ARG of --bandwidth, megabytes a second, into *MBPS.  Returns 0,
 * or -1 with an error recorded.
 */
int cli_parse_bandwidth (const char *arg, double *mbps);

/* Check ARG of --source-format (raw or qcow2) and set *FORMAT to it.
 * Returns 0, or -1 with an error recorded.
 */
int cli_parse_source_format (const char *arg, const char **format);

/* Unless ALL_BLOCKS (--all-blocks), make *SRC read only what its
 * filesystems use (allocmap_source()): their warnings on stderr (unless
 * --quiet), with -v what each uses.  Returns 0, or -1 with an error
 * recorded (*SRC unchanged).
 */
int cli_used_blocks (const struct cli *cli, bool all_blocks,
                     struct source **src);

/* Print "PROG: MESSAGE" with the message recorded last (error.h). */
void cli_report_error (const struct cli *cli);

/* Make SIGINT, SIGTERM and SIGHUP set *FLAG instead of killing the
 * program, so that it can remove partial output; ignore SIGPIPE.
 */
void cli_catch_signals (volatile sig_atomic_t *flag);

/* The size SOURCE (opened as SRC) travels or is written as, as a disk of
 * whole 512-byte sectors: padded with zeros, with a warning (unless
 * --quiet) when that changes it, as qemu-img does.
 */
uint64_t cli_disk_size (const struct cli *cli, const char *source,
                        const struct source *src);

/* Tell how a copy went: with --machine-readable one line on stdout
 *
 *   done SOURCE DEST size=N read=N data=N zero=N written=N digest=HEX seconds=S
 *
 * and with -v (or a progress bar) a sentence on stderr.
 */
void cli_report_copy (const struct cli *cli, const struct source *src,
                      const struct sink *dst, const struct copy_result *res,
                      double seconds);

/* The whole of a one-disk copy: copy SRC into DST (copy_disk), with
 * progress labelled LABEL as the options say, stopping when *CANCEL is
 * set, then report it (cli_report_copy).  Returns 0 or -1 with an error
 * recorded.
 */
int cli_copy (const struct cli *cli, const char *label, struct source *src,
              struct sink *dst, const volatile sig_atomic_t *cancel);

#endif /* P2V_CLI_H */
