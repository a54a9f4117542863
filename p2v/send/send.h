/* p2v-send: stream disks to a conversion host or into a local image. */
#ifndef P2V_SEND_H
#define P2V_SEND_H

#include <signal.h>

#include "cli.h"
#include "sink.h"

struct send_options {
  struct cli cli;
  const char *to;               /* --to */
  const char *format;           /* --source-format, NULL: detect */
  struct qcow2_options qcow2;   /* --cluster-size, --compress */
  bool sync;                    /* --sync */
};

extern volatile sig_atomic_t send_interrupted;

/* Copy SOURCE into the local qcow2 file OPTS->to.  Returns 0 or -1 with an
 * error recorded.
 */
int send_to_file (const struct send_options *opts, const char *source);

#endif /* P2V_SEND_H */
