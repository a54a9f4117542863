/* p2vkit imaging engine: the stream protocol.
 *
 * A sender (p2v-send, v2p-send: stream-send.h) streams disks, and p2v-send
 * a hardware inventory, to a receiver (p2v-recv, v2p-recv) in frames
 * (wire.h), over TCP, ssh or a pipe.  Version 1:
 *
 *   sender                                receiver
 *   HELLO  version, flags, name, disks,   ->
 *          nonce_s
 *                                         <- CHALLENGE  version, auth?, nonce_r
 *   AUTH   mac_s                          ->   (when the receiver asks)
 *                                         <- WELCOME  mac_r, resume offset
 *                                                      of each disk
 *   INVENTORY  XML (zstd)                 ->
 *   for each disk:
 *     DISK  index, start offset           ->
 *     DATA  index, offset, length, bytes  ->   (zstd-compressed or not)
 *     ZERO  index, offset, length         ->
 *     DISK_END  index, digest             ->
 *   END                                   ->
 *                                         <- DONE  message
 *
 * Either side may send ERROR (a message) instead, and closes.
 *
 * Version 2 (STREAM_VERSION_ROUNDS, with the HELLO flag STREAM_HELLO_ROUNDS)
 * sends the disks in rounds, for pre-copy: see stream-rounds.h.  A
 * receiver answers the CHALLENGE in the version of the HELLO.
 *
 * With the HELLO flag STREAM_HELLO_EXTENT, each disk of the HELLO also
 * says what its partition table is and how much of the disk a smaller
 * target must hold (parttable.h): what v2p-recv checks its disks against
 * before anything is written.  Without it, a disk needs all of itself.
 *
 * A one-way stream (HELLO flag STREAM_HELLO_ONEWAY: a pipe, where the
 * sender cannot read answers) has no CHALLENGE, AUTH or WELCOME: it cannot
 * authenticate and cannot resume, and the receiver sends nothing back.
 *
 * Authentication: both sides know a token.  The sender proves it with
 * mac_s = HMAC-SHA256(token, "p2vkit sender" | nonce_r | nonce_s |
 * SHA-256 of the HELLO payload), the receiver with mac_r = HMAC-SHA256
 * (token, "p2vkit receiver" | nonce_s | nonce_r).  The token itself never
 * travels.
 *
 * Every DATA and ZERO frame must start exactly where the previous one of
 * its disk ended, at a multiple of STREAM_BLOCK_SIZE, and stay inside the
 * disk; DATA carries at most STREAM_BLOCK_SIZE bytes.  The receiver checks
 * all of it, and every name, count and size in HELLO, before it writes.
 */
#ifndef P2V_STREAM_H
#define P2V_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "parttable.h"
#include "wire.h"

#define STREAM_VERSION 1
/* Version 2 adds rounds (pre-copy, stream-rounds.h); a receiver speaks
 * both, a sender the lowest that does what it needs.
 */
#define STREAM_VERSION_ROUNDS 2
#define STREAM_VERSION_MAX STREAM_VERSION_ROUNDS

enum stream_type {
  STREAM_HELLO = 1,
  STREAM_CHALLENGE = 2,
  STREAM_AUTH = 3,
  STREAM_WELCOME = 4,
  STREAM_INVENTORY = 5,
  STREAM_DISK = 6,
  STREAM_DATA = 7,
  STREAM_ZERO = 8,
  STREAM_DISK_END = 9,
  STREAM_END = 10,
  STREAM_DONE = 11,
  STREAM_ERROR = 12,
  /* Version 2, with STREAM_HELLO_ROUNDS (stream-rounds.h). */
  STREAM_ROUND = 13,
  STREAM_HASHES = 14,
  STREAM_ROUND_END = 15,
  STREAM_ROUND_DONE = 16,
  STREAM_FIGURES = 17,
};

#define STREAM_MAX_DISKS 64
#define STREAM_MAX_NAME 64              /* bytes of a machine or disk name */
#define STREAM_MAX_MESSAGE 1024
#define STREAM_NONCE_SIZE 32
#define STREAM_MAC_SIZE 32
/* DATA frames carry the disk in blocks of this size: the receiver's qcow2
 * cluster size, so every block lands on whole clusters.
 */
#define STREAM_BLOCK_SIZE (64 * 1024)
#define STREAM_MAX_DATA (1024 * 1024)   /* bytes of disk in one DATA */
#define STREAM_DATA_HEADER 16           /* disk, offset, raw length */
#define STREAM_MAX_DISK_SIZE (1ULL << 50)       /* 1 PiB */
#define STREAM_MAX_INVENTORY (4 * 1024 * 1024)
/* zstd level 1: on the 2-core test machine it keeps up with gigabit
 * (level 3 did not) and sends only about 3% more.
 */
#define STREAM_DEFAULT_LEVEL 1

struct stream_disk {
  char name[STREAM_MAX_NAME + 1];       /* "sda", "nvme0n1" */
  uint64_t size;                        /* bytes */
  uint32_t sector_size;                 /* 512 or 4096 */
  /* With STREAM_HELLO_EXTENT; otherwise PARTTABLE_NONE and SIZE. */
  enum parttable_type table;
  uint64_t needed;                      /* bytes, at most SIZE */
};

#define STREAM_HELLO_ONEWAY 0x1
#define STREAM_HELLO_EXTENT 0x2
#define STREAM_HELLO_ROUNDS 0x4   /* version 2: see stream-rounds.h */
#define STREAM_HELLO_FLAGS                                                     \
  (STREAM_HELLO_ONEWAY | STREAM_HELLO_EXTENT | STREAM_HELLO_ROUNDS)

struct stream_hello {
  uint32_t version;
  uint32_t flags;                       /* STREAM_HELLO_* */
  char name[STREAM_MAX_NAME + 1];       /* the machine */
  uint32_t n_disks;
  struct stream_disk disks[STREAM_MAX_DISKS];
  unsigned char nonce[STREAM_NONCE_SIZE];
};

struct stream_challenge {
  uint32_t version;
  bool auth;                            /* AUTH expected */
  unsigned char nonce[STREAM_NONCE_SIZE];
};

struct stream_welcome {
  unsigned char mac[STREAM_MAC_SIZE];   /* zeros when there is no token */
  uint32_t n_disks;
  uint64_t resume[STREAM_MAX_DISKS];    /* where each disk continues */
};

/* Is NAME acceptable as a machine or disk name: 1 to STREAM_MAX_NAME of
 * [A-Za-z0-9._-], not starting with '.' or '-'?  Such a name is safe as a
 * file name component.
 */
bool stream_name_ok (const char *name);
bool stream_name_char_ok (char c);

/* Each message: encode into the frame payload buffer BUF (at least
 * WIRE_MAX_PAYLOAD bytes) and send, or decode a received frame with every
 * field checked.  All return 0, or -1 with an error recorded.
 */
int stream_send_hello (struct wire *w, const struct stream_hello *h,
                       unsigned char hello_hash[STREAM_MAC_SIZE]);
int stream_decode_hello (const struct frame *f, struct stream_hello *h,
                         unsigned char hello_hash[STREAM_MAC_SIZE]);

int stream_send_challenge (struct wire *w, const struct stream_challenge *c);
int stream_decode_challenge (const struct frame *f, struct stream_challenge *c);

int stream_send_welcome (struct wire *w, const struct stream_welcome *wl);
/* The resume offsets are checked against the disks of H. */
int stream_decode_welcome (const struct frame *f, const struct stream_hello *h,
                           struct stream_welcome *wl);

/* Send ERROR with MESSAGE.  Returns 0 if it went out, -1 if not; either
 * way the error recorded last is left as it was.
 */
int stream_send_error (struct wire *w, const char *message);
/* For a received ERROR frame: record "PEER: MESSAGE" and return -1. */
int stream_peer_error (const struct wire *w, const struct frame *f);

/* Generate a random nonce. */
void stream_nonce (unsigned char nonce[STREAM_NONCE_SIZE]);

/* The MACs of the handshake (see the top of this file). */
void stream_mac_sender (const char *token,
                        const unsigned char nonce_r[STREAM_NONCE_SIZE],
                        const unsigned char nonce_s[STREAM_NONCE_SIZE],
                        const unsigned char hello_hash[STREAM_MAC_SIZE],
                        unsigned char mac[STREAM_MAC_SIZE]);
void stream_mac_receiver (const char *token,
                          const unsigned char nonce_s[STREAM_NONCE_SIZE],
                          const unsigned char nonce_r[STREAM_NONCE_SIZE],
                          unsigned char mac[STREAM_MAC_SIZE]);
/* Compare two MACs in constant time. */
bool stream_mac_equal (const unsigned char a[STREAM_MAC_SIZE],
                       const unsigned char b[STREAM_MAC_SIZE]);

/* A new random token: 32 hex digits, NUL-terminated. */
#define STREAM_TOKEN_LENGTH 32
void stream_new_token (char token[STREAM_TOKEN_LENGTH + 1]);

/* Start libsodium; returns -1 with an error recorded if it cannot. */
int stream_crypto_init (void);

#endif /* P2V_STREAM_H */
