/* p2v-recv: receive disks streamed by p2v-send and write them as qcow2. */
#ifndef P2V_RECV_H
#define P2V_RECV_H

#include <signal.h>

#include "cli.h"
#include "stream.h"

struct recv_options {
  struct cli cli;
  const char *out;              /* --out DIR */
  const char *listen;           /* --listen [ADDR:]PORT, or NULL */
  bool stdio;                   /* --stdio */
  bool once;                    /* --once */
  const char *token;            /* --token, --token-file; NULL: none */
  bool convert;                 /* --convert */
  const char *network;          /* --network, or NULL */
  const char *bridge;           /* --bridge, or NULL */
};

/* Senders served at once; more are told the receiver is busy. */
#define RECV_MAX_SESSIONS 32
/* Guest bytes between checkpoints: at most this much is sent again when a
 * transfer resumes.
 */
#define RECV_CHECKPOINT_BYTES (64 * 1024 * 1024)

/* Receive one session from a sender on RFD/WFD.  AUTH: a token is needed
 * (always over TCP).  Returns 0 or -1 with an error recorded; then
 * *TOLD_PEER says whether the sender was sent the error too.
 */
int recv_session (const struct recv_options *opts, int rfd, int wfd,
                  const char *peer, bool auth, bool *told_peer);

/* Listen on OPTS->listen and serve each sender in a child process (or the
 * first one only, with --once).  Returns 0 or -1 with an error recorded.
 */
int recv_listen (const struct recv_options *opts);

#endif /* P2V_RECV_H */
