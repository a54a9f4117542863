/* p2vkit imaging engine: frames on a byte stream.
 *
 * The stream protocol (stream.h) travels as frames over any pair of file
 * descriptors: a TCP socket, ssh's stdin and stdout, a pipe.  Each frame:
 *
 *   offset  size  field
 *   0       4     magic "P2VF"
 *   4       1     type (STREAM_* in stream.h)
 *   5       1     flags (WIRE_FLAG_*)
 *   6       2     zero
 *   8       4     payload length, at most WIRE_MAX_PAYLOAD
 *   12      8     XXH3-64 of the payload, seeded with the XXH3-64 of
 *                 bytes 0-11
 *   20            the payload
 *
 * All integers are big-endian.  The checksum catches damage, not malice:
 * who may send is settled by the handshake (stream.h).
 *
 * The reader trusts nothing: a bad magic, a non-zero reserved field, a
 * length over the limit or a wrong checksum is an error, and no buffer is
 * ever sized from the wire beyond WIRE_MAX_PAYLOAD.
 *
 * Payloads are built with struct wbuf and taken apart with struct rbuf,
 * whose getters fail (once, with a message) on running past the end.
 *
 * Thread use: one thread sends and one thread receives on a wire.
 */
#ifndef P2V_WIRE_H
#define P2V_WIRE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_MAGIC 0x50325646U          /* "P2VF" */
#define WIRE_HEADER_SIZE 20
/* A DATA frame holds a 1 MiB block, compressed or not, and its header. */
#define WIRE_MAX_PAYLOAD (1024 * 1024 + 4096)

#define WIRE_FLAG_ZSTD 0x01             /* the body is zstd-compressed */
#define WIRE_FLAGS_KNOWN WIRE_FLAG_ZSTD

/* A limit of 0 (timeout, bandwidth) means no limit. */
struct wire {
  int rfd, wfd;
  const char *peer;             /* for messages: "127.0.0.1:4444", "stdin" */
  uint64_t bytes_in;            /* on the wire, headers included */
  uint64_t bytes_out;
  unsigned timeout;             /* seconds a read or write may stall; 0 */
  double bandwidth;             /* bytes a second to send at most; 0 */
  double since;                 /* monotonic seconds */
  /* When *CANCEL (may be NULL) is non-zero, a read or write that a signal
   * interrupts fails with "interrupted".
   */
  const volatile sig_atomic_t *cancel;
  unsigned char *rbuf;          /* one payload, WIRE_MAX_PAYLOAD bytes */
  /* A frame broke the format: a lie, not merely a broken connection. */
  bool garbled;
};

struct frame {
  unsigned type;
  unsigned flags;
  const unsigned char *payload; /* valid until the next wire_recv */
  size_t len;
};

/* Set up W on descriptors RFD and WFD (not owned: the caller closes them).
 * Returns 0, or -1 with an error recorded.
 */
int wire_init (struct wire *w, int rfd, int wfd, const char *peer);
void wire_free (struct wire *w);

/* Send one frame.  Returns 0, or -1 with an error recorded. */
int wire_send (struct wire *w, unsigned type, unsigned flags,
               const void *payload, size_t len);

/* Receive one frame into *F.  At a clean end of stream before any byte of
 * a frame returns 0 with F->type 0; otherwise 1, or -1 with an error
 * recorded.
 */
int wire_recv (struct wire *w, struct frame *f);

/* Check a frame header (WIRE_HEADER_SIZE bytes) and give its payload
 * length.  The part of wire_recv that judges what came in, shared with the
 * fuzz target.
 */
int wire_check_header (const unsigned char *h, unsigned *type, unsigned *flags,
                       size_t *len);

/* Building a payload: a fixed buffer; putting past its end sets
 * overflow, which wbuf_done() reports.
 */
struct wbuf {
  unsigned char *p;
  size_t len, cap;
  bool overflow;
};

void wbuf_init (struct wbuf *b, void *buf, size_t cap);
void wbuf_u8 (struct wbuf *b, uint8_t v);
void wbuf_u32 (struct wbuf *b, uint32_t v);
void wbuf_u64 (struct wbuf *b, uint64_t v);
void wbuf_bytes (struct wbuf *b, const void *p, size_t n);
/* A string: 16-bit length, then the bytes (no NUL). */
void wbuf_str (struct wbuf *b, const char *s);
/* Returns the length, or -1 with an error recorded on overflow. */
int wbuf_done (struct wbuf *b, size_t *len);

/* Taking a payload apart.  The first getter to run past the end records
 * "WHAT: frame too short" and sets failed; later getters then return
 * zeros, so a decoder checks once at the end with rbuf_done().
 */
struct rbuf {
  const unsigned char *p;
  size_t len, pos;
  const char *what;             /* the frame, for messages */
  bool failed;
};

void rbuf_init (struct rbuf *b, const void *p, size_t len, const char *what);
uint8_t rbuf_u8 (struct rbuf *b);
uint32_t rbuf_u32 (struct rbuf *b);
uint64_t rbuf_u64 (struct rbuf *b);
/* N bytes; returns a pointer into the payload (NULL once failed). */
const unsigned char *rbuf_bytes (struct rbuf *b, size_t n);
/* A string of at most MAX bytes, copied NUL-terminated into OUT (MAX + 1
 * bytes).  A longer string, or one holding a NUL, fails.
 */
void rbuf_str (struct rbuf *b, char *out, size_t max);
/* The rest of the payload. */
const unsigned char *rbuf_rest (struct rbuf *b, size_t *n);
/* 0 if everything was there and all of it was read, else -1 with an error
 * recorded.
 */
int rbuf_done (struct rbuf *b);

#endif /* P2V_WIRE_H */
