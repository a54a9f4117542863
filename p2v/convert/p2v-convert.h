/* p2v-convert: disk images of a machine into a virtual machine. */
#ifndef P2V_CONVERT_PROGRAM_H
#define P2V_CONVERT_PROGRAM_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

struct convert_options {
  struct cli cli;
  char **images;                /* IMAGE..., in the guest's disk order */
  size_t n_images;
  const char *out;              /* --out DIR */
  const char *name;             /* --name, or NULL: derived */
  const char *inventory;        /* --inventory, or NULL */
  const char *network;          /* --network */
  const char *bridge;           /* --bridge */
  const char *type;             /* --type */
  const char *source_format;    /* --source-format, or NULL: detect */
  bool all_blocks;              /* --all-blocks */
};

/* Set by SIGINT, SIGTERM and SIGHUP: stop and remove what was made. */
extern volatile sig_atomic_t convert_interrupted;

/* The whole conversion.  Returns 0, or -1 with an error recorded and
 * nothing left in OPTS->out that was not there before.
 */
int convert_run (const struct convert_options *opts);

#endif /* P2V_CONVERT_PROGRAM_H */
