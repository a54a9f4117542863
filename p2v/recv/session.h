/* p2v-recv: what a session keeps, shared by session.c and, for the rounds
 * of a pre-copy, rounds.c.
 */
#ifndef P2V_RECV_SESSION_H
#define P2V_RECV_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recv.h"
#include "stream-recv.h"

/* What p2v-recv keeps for a session, beside the engine's. */
struct session {
  const struct recv_options *opts;
  char *paths[STREAM_MAX_DISKS];        /* OUT/NAME/NAME-DISK.qcow2 */
  int lock_fd;
  char *dir;                            /* OUT/NAME */
  char *inventory;                      /* the validated XML, or NULL */
  size_t inventory_len;
  /* Rounds (rounds.c): the copy while it is a pre-copy, PATH.precopy, and
   * its block hashes, PATH.hashes.
   */
  char *work[STREAM_MAX_DISKS];
  char *store[STREAM_MAX_DISKS];
};

/* The copy's names while rounds run, and its block hashes' store. */
#define ROUNDS_WORK_SUFFIX ".precopy"

/* prepare() for a sender of rounds: for each disk, the copy there is (a
 * pre-copy, or an earlier P2V's image, which becomes one), with its block
 * hashes (from the store, or computed again), or a first copy to make or
 * resume.  Returns 0, or -1 with an error recorded.
 */
int rounds_prepare (struct stream_recv *r, struct session *s);

/* begin() of disk I in a round: its sink. */
int rounds_begin (struct stream_recv *r, struct session *s, uint32_t i);

/* A checkpoint of disk I's first copy: its hashes so far go with it. */
int rounds_checkpoint (struct stream_recv *r, struct session *s, uint32_t i);

/* round_end(): every disk's hashes saved with its copy; with FINAL, the
 * copies renamed to their final names.
 */
int rounds_round_end (struct stream_recv *r, uint32_t number, bool final);

/* After a session that did not lie: a disk whose delta was under way is
 * flushed, and its hashes saved (a round that broke leaves a copy that
 * its hashes describe).
 */
void rounds_after (struct stream_recv *r, struct session *s);

/* The inventory XML S holds, with the sender's migration figures added
 * (templates/inventory.md, <migration>).  Returns 0, or -1 with an error
 * recorded.
 */
int rounds_inventory (struct stream_recv *r, struct session *s);

#endif /* P2V_RECV_SESSION_H */
