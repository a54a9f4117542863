/* p2vkit imaging engine: rounds, the stream protocol's version 2.
 *
 * Pre-copy (precopy.h) sends a disk several times over one connection:
 * the first round everything, each later round only the blocks whose
 * content differs from what the receiver holds.  A HELLO of version
 * STREAM_VERSION_ROUNDS with the flag STREAM_HELLO_ROUNDS (never one-way)
 * asks for it; after the handshake (and the INVENTORY):
 *
 *   sender                                receiver
 *   ROUND  number, flags                  ->
 *                                         <- HASHES  for each disk in turn:
 *                                                    what the receiver
 *                                                    holds of it
 *   for each disk:
 *     DISK, DATA, ZERO, DISK_END          ->   (as in version 1, below)
 *   ROUND_END  number                     ->
 *                                         <- ROUND_DONE  number: all of the
 *                                                    round is on stable
 *                                                    storage
 *   ... more rounds ...
 *   FIGURES  the migration's figures      ->   (once, after the last round)
 *   END                                   ->
 *                                         <- DONE
 *
 * ROUND: u32 number (1, 2, ... in order, at most STREAM_MAX_ROUNDS), u32
 * flags (STREAM_ROUND_FINAL: the source is quiesced, and the receiver's
 * copy is complete once this round is done).
 *
 * HASHES: u32 disk, u8 kind, u64 first block, u32 count, then count
 * XXH3-64 block hashes (blockhash.h).  Kind STREAM_HASHES_NONE (count 0,
 * first 0, one frame): the receiver holds no copy of the disk, and the
 * disk comes whole, as in version 1, from the WELCOME's resume offset.
 * Kind STREAM_HASHES_BLOCKS: the frames of one disk cover its blocks in
 * order, at most STREAM_MAX_HASHES a frame, and the disks come in order.
 *
 * A disk whose receiver holds a copy comes as a delta: its DATA and ZERO
 * frames skip the blocks that are the same (those keep what the copy
 * holds), so each starts at or after where the last one ended, on a
 * block boundary; DISK starts at 0.  Its DISK_END digest is the digest of
 * the disk as the sender read it in this round, which the receiver's
 * block hashes must give once updated.
 *
 * FIGURES: u32 rounds, u32 flags (STREAM_ROUND_FINAL: the last round was
 * final), u64 total milliseconds, u64 downtime milliseconds (the final
 * round's, 0 without one), then for each round u64 data bytes, u64 wire
 * bytes, u64 milliseconds.
 *
 * Every count and offset is checked against the HELLO's disks by the
 * side that receives it; nothing is sized from the wire.
 */
#ifndef P2V_STREAM_ROUNDS_H
#define P2V_STREAM_ROUNDS_H

#include <stdbool.h>
#include <stdint.h>

#include "blockhash.h"
#include "stream.h"
#include "wire.h"

#define STREAM_MAX_ROUNDS 1000
#define STREAM_ROUND_FINAL 0x1
#define STREAM_ROUND_FLAGS STREAM_ROUND_FINAL

#define STREAM_HASHES_NONE 0
#define STREAM_HASHES_BLOCKS 1
#define STREAM_HASHES_HEADER 17         /* disk, kind, first, count */
#define STREAM_MAX_HASHES (128 * 1024)  /* in one frame: 1 MiB of them */

struct stream_round {
  uint32_t number;
  uint32_t flags;
};

struct stream_round_figures {
  uint64_t data;                /* disk bytes sent as DATA */
  uint64_t wire;                /* bytes on the wire, headers included */
  uint64_t ms;
};

struct stream_figures {
  uint32_t rounds;
  uint32_t flags;               /* STREAM_ROUND_FINAL */
  uint64_t total_ms;
  uint64_t downtime_ms;
  struct stream_round_figures round[STREAM_MAX_ROUNDS];
};

/* Send or decode (every field checked) each message.  All return 0, or -1
 * with an error recorded.
 */
int stream_send_round (struct wire *w, const struct stream_round *rd);
/* EXPECTED: the number this ROUND must have. */
int stream_decode_round (const struct frame *f, uint32_t expected,
                         struct stream_round *rd);

int stream_send_round_number (struct wire *w, unsigned type, uint32_t number);
int stream_decode_round_number (const struct frame *f, unsigned type,
                                uint32_t expected);

/* Send what B holds of disk DISK (B NULL: none) as HASHES frames, using
 * BUF (WIRE_MAX_PAYLOAD bytes).
 */
int stream_send_hashes (struct wire *w, uint32_t disk,
                        const struct blockhash *b, unsigned char *buf);

/* Decode one HASHES frame of disk DISK into B (set up for the disk's
 * size), whose [0, *NEXT) blocks came before: *NEXT moves on.  Sets *NONE
 * for a STREAM_HASHES_NONE frame.  The disk is complete when *NEXT is
 * B->n (or *NONE).
 */
int stream_decode_hashes (const struct frame *f, uint32_t disk,
                          struct blockhash *b, uint64_t *next, bool *none);

int stream_send_figures (struct wire *w, const struct stream_figures *fg);
int stream_decode_figures (const struct frame *f, struct stream_figures *fg);

#endif /* P2V_STREAM_ROUNDS_H */
