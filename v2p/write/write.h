/* v2p-write: write a disk image onto a block device or into a raw file. */
#ifndef V2P_WRITE_H
#define V2P_WRITE_H

#include <signal.h>
#include <stdint.h>

#include "cli.h"

struct write_options {
  struct cli cli;
  const char *format;           /* --source-format, NULL: detect */
  bool sync;                    /* --sync (always for block devices) */
  bool grow;                    /* --grow */
  uint64_t size;                /* --size, of a TARGET file; 0: the image's */
};

extern volatile sig_atomic_t write_interrupted;

/* Write IMAGE onto TARGET, then fit its partition table to it and, with
 * --grow, grow its last partition.  Returns 0 or -1 with an error
 * recorded.
 */
int write_image (const struct write_options *opts, const char *image,
                 const char *target);

#endif /* V2P_WRITE_H */
