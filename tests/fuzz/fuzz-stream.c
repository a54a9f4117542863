/* libFuzzer target for the stream protocol's parsers (imaging/wire.c,
 * imaging/stream.c, and the rounds of imaging/stream-rounds.c): what the
 * receivers and senders decode from the wire.
 *
 * The first WIRE_HEADER_SIZE bytes go to the frame header check; the next
 * byte picks a message type, and the rest is its payload for that type's
 * decoder.  (The frame checksum would keep the fuzzer from ever reaching
 * the decoders through wire_recv, so they are fed directly.)  Every error
 * must be one line of text.
 *
 *   make tests/fuzz/fuzz-stream
 *   tests/fuzz/fuzz-stream tests/fuzz/fuzz-stream-corpus
 */
#include "stream.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blockhash.h"
#include "error.h"
#include "stream-rounds.h"
#include "wire.h"

/* The disk a HASHES frame is decoded for: 20 blocks and a short one. */
#define FUZZ_HASHES_DISK (20 * BLOCKHASH_BLOCK_SIZE + 512)

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_message (int r)
{
  const char *m = error_message ();

  if (r == -1 && (m[0] == '\0' || strchr (m, '\n') != NULL)) {
    fprintf (stderr, "fuzz-stream: bad error message: '%s'\n", m);
    abort ();
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  unsigned char hash[STREAM_MAC_SIZE];
  struct stream_hello h;
  struct stream_challenge c;
  struct stream_welcome wl;
  struct frame f;
  unsigned type, flags;
  size_t len;

  if (size < WIRE_HEADER_SIZE + 1)
    return 0;
  error ("%s", "");
  check_message (wire_check_header (data, &type, &flags, &len));

  f.type = data[WIRE_HEADER_SIZE] % 8;
  f.flags = 0;
  f.payload = data + WIRE_HEADER_SIZE + 1;
  f.len = size - WIRE_HEADER_SIZE - 1;
  switch (f.type) {
  case 0:
    f.type = STREAM_HELLO;
    check_message (stream_decode_hello (&f, &h, hash));
    break;
  case 1:
    f.type = STREAM_CHALLENGE;
    check_message (stream_decode_challenge (&f, &c));
    break;
  case 2:
    /* A WELCOME is judged against a HELLO: use one of two disks. */
    memset (&h, 0, sizeof h);
    h.n_disks = 2;
    h.disks[0].size = 1 << 20;
    h.disks[1].size = 1ULL << 40;
    f.type = STREAM_WELCOME;
    check_message (stream_decode_welcome (&f, &h, &wl));
    break;
  case 4: {
    struct stream_round rd;

    f.type = STREAM_ROUND;
    check_message (stream_decode_round (&f, 1, &rd));
    break;
  }
  case 5: {
    /* HASHES: whatever decodes stays inside the disk's blocks, in order. */
    struct blockhash b;
    uint64_t next = 0;
    bool none;
    int r;

    if (blockhash_init (&b, FUZZ_HASHES_DISK) == -1)
      abort ();
    f.type = STREAM_HASHES;
    r = stream_decode_hashes (&f, 0, &b, &next, &none);
    check_message (r);
    if (r == 0 && (next > b.n || (none && next != 0)))
      abort ();
    blockhash_free (&b);
    break;
  }
  case 6: {
    struct stream_figures *fg = malloc (sizeof *fg);
    int r;

    if (fg == NULL)
      abort ();
    f.type = STREAM_FIGURES;
    r = stream_decode_figures (&f, fg);
    check_message (r);
    if (r == 0
        && (fg->rounds == 0 || fg->rounds > STREAM_MAX_ROUNDS
            || fg->downtime_ms > fg->total_ms))
      abort ();
    free (fg);
    break;
  }
  case 7:
    f.type = STREAM_ROUND_DONE;
    check_message (stream_decode_round_number (&f, STREAM_ROUND_DONE, 1));
    break;
  default:
    /* A HELLO that did decode must hold only names safe as file names. */
    f.type = STREAM_HELLO;
    if (stream_decode_hello (&f, &h, hash) == 0) {
      uint32_t i;

      if (!stream_name_ok (h.name))
        abort ();
      for (i = 0; i < h.n_disks; i++)
        if (!stream_name_ok (h.disks[i].name)
            || strchr (h.disks[i].name, '/') != NULL)
          abort ();
      /* What a smaller target must hold is never more than the disk. */
      for (i = 0; i < h.n_disks; i++)
        if (h.disks[i].needed == 0 || h.disks[i].needed > h.disks[i].size
            || h.disks[i].table > PARTTABLE_GPT)
          abort ();
    }
    break;
  }
  return 0;
}
