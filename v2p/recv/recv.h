/* v2p-recv: receive disk images streamed by v2p-send (or p2v-send) and
 * write them onto this machine's disks.
 */
#ifndef V2P_RECV_H
#define V2P_RECV_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blockhash.h"
#include "cli.h"
#include "stream-recv.h"
#include "stream.h"
#include "target.h"

struct recv_options {
  struct cli cli;
  const char *listen;           /* --listen [ADDR:]PORT, or NULL */
  bool stdio;                   /* --stdio */
  bool once;                    /* --once */
  bool grow;                    /* --grow */
  const char *token;            /* --token, --token-file; NULL: none */
  char **disks;                 /* --disk, in order */
  size_t n_disks;
};

extern volatile sig_atomic_t recv_interrupted;

/* Disk bytes between resume points: at most this much is sent again when
 * a transfer resumes.
 */
#define RECV_CHECKPOINT_BYTES (64 * 1024 * 1024)

/* Where a broken transfer resumes, kept while v2p-recv runs: the sender's
 * HELLO, and for each disk an offset and the digest of what came before.
 */
struct resume {
  bool valid;
  struct stream_hello h;
  uint64_t offset[STREAM_MAX_DISKS];
  unsigned char *digest[STREAM_MAX_DISKS];      /* digest_state_size () */
};

/* What the disks hold after rounds of a pre-copy (stream-rounds.h), kept
 * while v2p-recv runs for the same sender's next round or connection: the
 * block hashes of each disk's copy, up to VALID bytes of it (the disk's
 * size, or a first copy's resume point).
 */
struct copy_hashes {
  bool valid;
  struct stream_hello h;
  struct blockhash hashes[STREAM_MAX_DISKS];
};

/* How a session ended. */
enum session_end {
  SESSION_DONE,                 /* the disks are written */
  SESSION_PRECOPY,              /* rounds, but no final one yet: waiting */
  SESSION_UNKNOWN,              /* failed before the sender authenticated */
  SESSION_REFUSED,              /* the disks do not fit the sender's */
  SESSION_BROKEN,               /* the connection broke: it may resume */
  SESSION_FAILED,               /* a lie, a write error: start again */
};

/* The receiver: its disks, held open exclusively between sessions. */
struct receiver {
  const struct recv_options *opts;
  struct target targets[STREAM_MAX_DISKS];
  struct resume resume;
  struct copy_hashes copy;
};

/* Open every --disk exclusively.  Returns 0, or -1 with an error
 * recorded.
 */
int recv_open_disks (struct receiver *rc);
void recv_close_disks (struct receiver *rc);

/* Serve one sender on RFD/WFD: receive, write, and grow.  AUTH: a token
 * is needed.  Returns how it ended; on anything but SESSION_DONE an error
 * is recorded, and *TOLD_PEER says whether the sender was told it.
 */
enum session_end recv_session (struct receiver *rc, int rfd, int wfd,
                               const char *peer, bool auth, bool *told_peer);

/* Rounds (rounds.c).  rounds_prepare(): for a sender of rounds, the
 * hashes kept from the same sender's earlier rounds (a delta), or a first
 * copy.  rounds_keep(): keep the session's hashes (a round ended, or the
 * connection broke; DISK -1: every disk, else that one up to NEXT).
 * rounds_forget(): the disks changed in ways the hashes do not know.
 */
int rounds_prepare (struct stream_recv *r, struct receiver *rc);
int rounds_keep (struct stream_recv *r, struct receiver *rc, int disk);
/* A round starts: a resync with no hashes in memory reads the disks. */
int rounds_begin (struct stream_recv *r, struct receiver *rc, uint32_t number,
                  bool final);
void rounds_forget (struct receiver *rc);

/* Serve the senders that connect to the listening socket LFD (bound to
 * SHOWN, "ADDR:PORT") one at a time (see --once).  Returns 0 or -1 with
 * an error recorded.
 */
int recv_serve (struct receiver *rc, int lfd, const char *shown);

#endif /* V2P_RECV_H */
