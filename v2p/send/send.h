/* v2p-send: stream disk images to v2p-recv on a bare-metal machine. */
#ifndef V2P_SEND_H
#define V2P_SEND_H

#include <signal.h>
#include <stddef.h>

#include "cli.h"
#include "precopy.h"

struct send_options {
  struct cli cli;
  const char *to;               /* --to */
  const char *format;           /* --source-format, NULL: detect */
  const char *name;             /* --name, NULL: the first image's */
  const char *token;            /* --token, --token-file, $P2V_TOKEN */
  int level;                    /* --compress: zstd level, 0 for none */
  double bandwidth;             /* --bandwidth, MB/s; 0: no limit */
  bool grow;                    /* --grow: for ssh://, v2p-recv --grow */
  bool all_blocks;              /* --all-blocks */
  struct precopy_options precopy;       /* --precopy, --resync, ... */
};

extern volatile sig_atomic_t send_interrupted;

/* Stream the N IMAGES to v2p-recv at OPTS->to.  Returns 0 or -1 with an
 * error recorded.
 */
int send_images (const struct send_options *opts, char **images, size_t n);

#endif /* V2P_SEND_H */
