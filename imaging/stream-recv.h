/* p2vkit imaging engine: the receiving end of the stream protocol.
 *
 * stream_recv_session() serves one sender (stream.h): it reads the HELLO,
 * asks for and checks the authentication, and then every frame, trusting
 * nothing: names were checked by the HELLO decoder, every DATA and ZERO
 * frame must continue its disk exactly where the last one ended, inside
 * the disk, on a block boundary, and each disk's digest must match the
 * sender's.  Where the disks go is the owner's business, through struct
 * stream_recv_ops: p2v-recv writes qcow2 images, v2p-recv block devices.
 *
 * The order of the callbacks:
 *
 *   prepare()          the sender is authenticated, nothing is written yet:
 *                      check the HELLO against the outputs, refuse (-1,
 *                      the sender is told why) or say where each disk
 *                      resumes
 *   inventory()        the sender's inventory, if it sends one
 *   begin(i)           disk i starts: set its sink (unless prepare() did)
 *   checkpoint(i)      every checkpoint_bytes of disk i, and when the
 *                      connection breaks: save what a resume needs
 *   disk_done(i)       disk i's digest matched and its sink is finished
 *   end()              the sender has sent everything; DONE follows
 *
 * A protocol violation, a garbled frame or a digest mismatch makes the
 * session a lie (r->lied): the owner should throw away what it wrote.  A
 * broken connection is not one: the owner may keep its outputs for a
 * resume (the engine has checkpointed each open disk at the last frame).
 *
 * Thread use: one session per struct stream_recv, in one thread.
 */
#ifndef P2V_STREAM_RECV_H
#define P2V_STREAM_RECV_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "digest.h"
#include "progress.h"
#include "sink.h"
#include "stream-rounds.h"
#include "stream.h"

/* Seconds a read or write on a connection may stall: before and after the
 * sender has authenticated.
 */
#define STREAM_RECV_HANDSHAKE_TIMEOUT 30
#define STREAM_RECV_TIMEOUT 300
/* Seconds a failed session of rounds waits for the sender to read its
 * ERROR and go (stream_recv_close).
 */
#define STREAM_RECV_DRAIN_SECONDS 30

struct stream_recv;

struct stream_recv_ops {
  /* Required.  Returns 0, or -1 with an error recorded. */
  int (*prepare) (struct stream_recv *r);
  /* May be NULL: the inventory is dropped.  XML (LEN bytes, NUL-
   * terminated) is the owner's to keep (and free) on success.  Returns 0,
   * or -1 with an error recorded (stream_recv_violation() for a bad one).
   */
  int (*inventory) (struct stream_recv *r, char *xml, size_t len);
  /* Required: set r->disks[I].sink if it is NULL.  0 or -1. */
  int (*begin) (struct stream_recv *r, uint32_t i);
  /* May be NULL: no resume.  0 or -1. */
  int (*checkpoint) (struct stream_recv *r, uint32_t i);
  /* May be NULL.  DIGEST is the disk's.  0 or -1. */
  int (*disk_done) (struct stream_recv *r, uint32_t i, const char *digest);
  /* May be NULL.  0 or -1. */
  int (*end) (struct stream_recv *r);
  /* Rounds (stream-rounds.h): required when the owner takes them
   * (r->rounds_ok).  Every disk of round NUMBER is in: make it durable
   * (the sender hears ROUND_DONE after this), and with FINAL, complete.
   * 0 or -1.
   */
  int (*round_end) (struct stream_recv *r, uint32_t number, bool final);
  /* May be NULL.  Round NUMBER starts (FINAL: the source is quiesced),
   * before the engine sends what each disk holds: the owner may find a
   * copy now (set have_copy and the hashes).  0 or -1.
   */
  int (*round_begin) (struct stream_recv *r, uint32_t number, bool final);
};

struct stream_recv_disk {
  /* The owner's: from prepare() (a resume) or begin(); the engine
   * finishes and frees it after a matching digest.  Whatever is left at
   * the end of the session, the owner frees.
   */
  struct sink *sink;
  /* Of [0, next): the engine's; prepare() restores it for a resume (or
   * replaces it with a new one: digest_new()).
   */
  struct digest *digest;
  uint64_t resume;              /* prepare() sets it: where to start */
  uint64_t next;                /* the next offset expected */
  uint64_t checkpointed;        /* where the last checkpoint was */
  struct progress progress;
  char label[2 * STREAM_MAX_NAME + 2];  /* MACHINE-DISK */
  bool done;
  /* Rounds only.  HASHES: what the copy holds, set up by the engine
   * (every block zero) before prepare(), which loads them and sets
   * HAVE_COPY when there is a complete copy (and, for a resume, the
   * hashes of [0, resume)); the engine keeps them up to date.  DELTA:
   * this round sends the disk as a delta (the owner's begin() opens a
   * sink that takes one, qcow2-patch.h).
   */
  struct blockhash hashes;
  bool have_copy;
  bool delta;
};

/* Start disk D again from its beginning, for a resume that cannot be
 * made: no resume point, and a new digest for D->digest.  Returns 0, or
 * -1 with an error recorded (out of memory).
 */
int stream_recv_disk_restart (struct stream_recv_disk *d);

struct stream_recv {
  /* Set by the owner. */
  const struct stream_recv_ops *ops;
  void *data;                   /* the owner's */
  const struct cli *cli;        /* the program's name, -v */
  const char *token;            /* NULL: none */
  bool auth;                    /* the sender must prove it knows TOKEN */
  uint64_t checkpoint_bytes;    /* disk bytes between checkpoints */
  enum progress_mode progress_mode;
  /* May be NULL: when *CANCEL becomes non-zero (a signal handler sets
   * it), the session fails with "interrupted" at the next signal.
   */
  const volatile sig_atomic_t *cancel;
  bool rounds_ok;               /* take a sender's rounds (pre-copy) */

  /* Set by the engine. */
  struct wire w;
  struct stream_hello h;        /* the sender's, once received */
  struct stream_recv_disk disks[STREAM_MAX_DISKS];
  bool oneway;                  /* no answers: no resume, no checkpoints */
  bool lied;                    /* a protocol violation: discard outputs */
  bool sink_failed;             /* writing failed: no checkpoint after it */
  bool told_peer;               /* the sender was sent the error */
  bool rounds;                  /* the sender sends rounds */
  uint32_t rounds_done;         /* in this session */
  bool final_done;              /* the final round is done */
  struct stream_figures *figures;       /* the sender's, or NULL */

  /* Private. */
  int current;                  /* the disk being received, or -1 */
  bool had_inventory;
  bool in_round;
  bool round_final;
  unsigned char *buf;           /* a decompressed DATA body */
  void *dctx;                   /* ZSTD_DCtx */
};

/* Serve one sender on RFD/WFD (not owned), named PEER in messages, up to
 * and including DONE.  R is new: all zeros but for the owner's fields.  Returns
 * 0, or -1 with an error recorded.  Either way the owner then does what it does
 * after a session, and calls stream_recv_close().
 */
int stream_recv_session (struct stream_recv *r, int rfd, int wfd,
                         const char *peer);

/* End the session: if FAILED, send the sender the error recorded last
 * (unless it was told already; r->told_peer says whether it was), then
 * release what the engine holds.  The sinks left in r->disks are the
 * owner's to free.
 */
void stream_recv_close (struct stream_recv *r, bool failed);

/* A protocol violation by the sender: records "NAME: stream: MESSAGE",
 * marks the session a lie, and returns -1.
 */
int stream_recv_violation (struct stream_recv *r, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

#endif /* P2V_STREAM_RECV_H */
