/* p2vkit imaging engine: the sending end of the stream protocol.
 *
 * stream_send() streams disks (block devices, or raw or qcow2 images, all
 * opened read-only) to a receiver: p2v-recv, which writes them as qcow2
 * images, or v2p-recv, which writes them onto disks.  The destination is
 *
 *   tcp://HOST:PORT               the receiver listening there;
 *   ssh://[USER@]HOST[:PORT]/PATH the receiver's --stdio run over ssh (the
 *                                 command comes from remote_command());
 *   -                             our stdout: one-way, so no handshake
 *                                 answers, no authentication, no resume.
 *
 * Each disk's HELLO entry carries its size and what its partition table
 * uses (parttable.h).  If the receiver saved part of a disk before (a
 * broken connection), the WELCOME says where to resume; the disk is still
 * read from the start for its digest, but sent from there.
 *
 * Not thread-safe (fork for ssh).  Prints progress and, with
 * --machine-readable, result lines as cli.h's options say.
 */
#ifndef P2V_STREAM_SEND_H
#define P2V_STREAM_SEND_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "source.h"
#include "stream.h"
#include "wire.h"

struct stream_send_options {
  const struct cli *cli;        /* the program's name, -q, -v, ... */
  const char *to;               /* the destination, as above */
  const char *format;           /* of the sources; NULL: detect */
  bool all_blocks;              /* read every block (cli_used_blocks()) */
  const char *name;             /* the machine's; NULL: the host name */
  const char *token;            /* the receiver's; NULL: none */
  int level;                    /* zstd level, 0 for none */
  double bandwidth;             /* bytes a second at most; 0: no limit */
  /* The copy stops ("interrupted") when *CANCEL becomes non-zero. */
  const volatile sig_atomic_t *cancel;
  /* For ssh://: the command to run on HOST, for the PATH after it (which
   * starts with '/').  Returns a new string (caller frees), or NULL with
   * an error recorded.
   */
  char *(*remote_command) (const char *path, void *arg);
  /* May be NULL: called after the handshake and before the disks, to send
   * more frames (p2v-send's inventory).  Returns 0, or -1 with an error
   * recorded.
   */
  int (*before_disks) (struct wire *w, struct source *const *src, size_t n,
                       void *arg);
  void *arg;                    /* for the two above */
  /* NULL, or its precopy or resync set: send in rounds (precopy.h). */
  const struct precopy_options *precopy;
};

struct precopy_options;
struct stream_sink_stats;

/* A disk name for the receiver from a source's PATH: its last component
 * without a .raw, .img or .qcow2 ending, with anything a file name should
 * not hold turned into '_'.
 */
void stream_disk_name (const char *path, char name[STREAM_MAX_NAME + 1]);

/* Is TO one of the destinations above (checked no further)? */
bool stream_send_dest_ok (const char *to);

/* Send disk INDEX of the HELLO, D, from SRC, all of it from RESUME on,
 * as one DISK ... DISK_END, adding to STATS.  Returns 0, or -1 with an
 * error recorded.
 */
int stream_send_disk (struct wire *w, const struct stream_send_options *opts,
                      struct source *src, uint32_t index,
                      const struct stream_disk *d, uint64_t resume,
                      struct stream_sink_stats *stats);

/* Stream the N SOURCES as OPTS say.  Returns 0 once the receiver has said
 * it is done (or, one-way, once everything is sent), or -1 with an error
 * recorded.
 */
int stream_send (const struct stream_send_options *opts, char **sources,
                 size_t n);

#endif /* P2V_STREAM_SEND_H */
