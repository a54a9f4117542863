/* p2v-send: stream disks to a conversion host or into a local image. */
#ifndef P2V_SEND_H
#define P2V_SEND_H

#include <signal.h>

#include "cli.h"
#include "precopy.h"
#include "qcow2.h"
#include "sink.h"
#include "source.h"

struct send_options {
  struct cli cli;
  const char *to;               /* --to */
  const char *format;           /* --source-format, NULL: detect */
  struct qcow2_options qcow2;   /* --cluster-size, --compress */
  bool sync;                    /* --sync */
  const char *name;             /* --name */
  const char *token;            /* --token, --token-file, $P2V_TOKEN */
  double bandwidth;             /* --bandwidth, MB/s; 0: no limit */
  bool no_inventory;            /* --no-inventory */
  struct precopy_options precopy;       /* --precopy, --resync, ... */
  bool all_blocks;              /* --all-blocks */
};

extern volatile sig_atomic_t send_interrupted;

/* Copy SOURCE into the local qcow2 file OPTS->to.  Returns 0 or -1 with an
 * error recorded.
 */
int send_to_file (const struct send_options *opts, const char *source);

/* Stream the N SOURCES to p2v-recv at OPTS->to (tcp://, ssh:// or -).
 * Returns 0 or -1 with an error recorded.
 */
int send_to_stream (const struct send_options *opts, char **sources, size_t n);

/* The disks `auto` stands for (see auto.c).  Sets *DISKS (caller frees
 * each and the array) and *N; -1 with an error recorded if there are none.
 */
int send_auto_disks (char ***disks, size_t *n);

#endif /* P2V_SEND_H */
