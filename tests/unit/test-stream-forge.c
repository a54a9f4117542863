/* A lying sender: writes a one-way stream (stream.h) to stdout that breaks
 * the protocol in the way SCENARIO names, for tests/t-stream-lies.sh to
 * feed to p2v-recv --stdio.  "good" is a correct stream of one small disk,
 * to show the tool itself is right.
 *
 *   test-stream-forge SCENARIO > stream
 *
 * With rounds (stream-rounds.h) the receiver must answer: the forge runs
 * it, CMD (p2v-recv --stdio ...), on a pair of pipes, speaks version 2 to
 * it, lies as "rounds-SCENARIO" says, and exits with its status (its
 * stderr is the forge's).  "rounds-good" sends two rounds, the second a
 * delta of one block, and writes the disk it sent to expected.raw.
 *
 *   test-stream-forge rounds-SCENARIO CMD...
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blockhash.h"
#include "digest.h"
#include "error.h"
#include "qcow2.h"
#include "stream-rounds.h"
#include "stream.h"
#include "wire.h"

#define DISK_SIZE (4 * STREAM_BLOCK_SIZE)

static struct wire w;

static void
die (const char *what)
{
  fprintf (stderr, "test-stream-forge: %s\n", what);
  exit (2);
}

static void
send_frame (unsigned type, const void *p, size_t len)
{
  if (wire_send (&w, type, 0, p, len) == -1)
    die ("send");
}

static void
hello (const char *machine, const char *disk, uint64_t size)
{
  unsigned char hash[STREAM_MAC_SIZE];
  struct stream_hello h = {
    .version = STREAM_VERSION,
    .flags = STREAM_HELLO_ONEWAY,
    .n_disks = 1,
  };

  snprintf (h.name, sizeof h.name, "%s", machine);
  snprintf (h.disks[0].name, sizeof h.disks[0].name, "%s", disk);
  h.disks[0].size = size;
  h.disks[0].sector_size = 512;
  if (stream_send_hello (&w, &h, hash) == -1)
    die ("hello");
}

static void
disk_begin (void)
{
  unsigned char b[12];

  be32_put (b, 0);
  be64_put (b + 4, 0);
  send_frame (STREAM_DISK, b, sizeof b);
}

static void
data (uint64_t offset, const unsigned char *buf, uint32_t len)
{
  unsigned char *b = malloc (STREAM_DATA_HEADER + len);

  be32_put (b, 0);
  be64_put (b + 4, offset);
  be32_put (b + 12, len);
  memcpy (b + STREAM_DATA_HEADER, buf, len);
  send_frame (STREAM_DATA, b, STREAM_DATA_HEADER + len);
  free (b);
}

static void
disk_end (const char *digest)
{
  unsigned char b[4 + DIGEST_HEX_LENGTH];

  be32_put (b, 0);
  memcpy (b + 4, digest, DIGEST_HEX_LENGTH);
  send_frame (STREAM_DISK_END, b, sizeof b);
}

/* The receiver's next frame; its ERROR or its end stops the forge. */
static pid_t child;

static void __attribute__ ((noreturn)) finish (void)
{
  int status;

  close (w.wfd);
  close (w.rfd);
  if (waitpid (child, &status, 0) == -1)
    die ("waitpid");
  exit (WIFEXITED (status) ? WEXITSTATUS (status) : 2);
}

/* Receive a frame into *F: the receiver's ERROR is said on stderr, as a
 * sender says it, and ends the forge like its going away.
 */
static void
reply (struct frame *f, unsigned type)
{
  if (wire_recv (&w, f) != 1)
    finish ();
  if (f->type == STREAM_ERROR) {
    stream_peer_error (&w, f);
    fprintf (stderr, "test-stream-forge: %s\n", error_message ());
    finish ();
  }
  if (f->type != type)
    die ("an unexpected frame from the receiver");
}

static void
expect (unsigned type)
{
  struct frame f;

  reply (&f, type);
}

static void
round_begin (uint32_t number, uint32_t flags, bool hashes)
{
  struct stream_round rd = { .number = number, .flags = flags };
  struct frame f;

  if (stream_send_round (&w, &rd) == -1)
    die ("round");
  /* One HASHES frame for a disk this small, with hashes or none. */
  reply (&f, STREAM_HASHES);
  if (f.len
      != (hashes ? STREAM_HASHES_HEADER + 8 * (DISK_SIZE / STREAM_BLOCK_SIZE)
                 : STREAM_HASHES_HEADER))
    die ("the receiver's HASHES are not what it holds");
}

static void
round_end (uint32_t number)
{
  if (stream_send_round_number (&w, STREAM_ROUND_END, number) == -1)
    die ("round end");
  expect (STREAM_ROUND_DONE);
}

static void
data_at (uint64_t offset, const unsigned char *buf, uint32_t len)
{
  unsigned char *b = malloc (STREAM_DATA_HEADER + len);

  be32_put (b, 0);
  be64_put (b + 4, offset);
  be32_put (b + 12, len);
  memcpy (b + STREAM_DATA_HEADER, buf, len);
  send_frame (STREAM_DATA, b, STREAM_DATA_HEADER + len);
  free (b);
}

static int
rounds (const char *sc, char **cmd)
{
  static unsigned char disk[DISK_SIZE], block2[STREAM_BLOCK_SIZE];
  unsigned char hash[STREAM_MAC_SIZE];
  char digest1[DIGEST_HEX_LENGTH + 1], digest2[DIGEST_HEX_LENGTH + 1];
  struct stream_hello h = {
    .version = STREAM_VERSION_ROUNDS,
    .flags = STREAM_HELLO_ROUNDS,
    .n_disks = 1,
  };
  struct stream_figures fg
    = { .rounds = 2,
        .total_ms = 2,
        .round = {
          { .data = DISK_SIZE, .wire = DISK_SIZE, .ms = 1 },
          { .data = STREAM_BLOCK_SIZE, .wire = STREAM_BLOCK_SIZE, .ms = 1 } } };
  int to[2], from[2];
  struct blockhash b;
  struct frame f;
  FILE *fp;
  size_t i;

  for (i = 0; i < sizeof disk; i++)
    disk[i] = (unsigned char) (i * 7 + 1);
  for (i = 0; i < sizeof block2; i++)
    block2[i] = (unsigned char) (i * 13 + 5);
  if (blockhash_init (&b, DISK_SIZE) == -1)
    die ("hashes");
  blockhash_set_data (&b, 0, disk, DISK_SIZE);
  blockhash_digest (&b, digest1);
  blockhash_set_data (&b, 2 * STREAM_BLOCK_SIZE, block2, STREAM_BLOCK_SIZE);
  blockhash_digest (&b, digest2);
  blockhash_free (&b);

  if (strcmp (sc, "oneway") == 0) {
    h.flags |= STREAM_HELLO_ONEWAY;
    snprintf (h.name, sizeof h.name, "m");
    snprintf (h.disks[0].name, sizeof h.disks[0].name, "sda");
    h.disks[0].size = DISK_SIZE;
    h.disks[0].sector_size = 512;
    if (stream_send_hello (&w, &h, hash) == -1)
      die ("hello");
    return 0;
  }
  if (pipe (to) == -1 || pipe (from) == -1)
    die ("pipe");
  child = fork ();
  if (child == -1)
    die ("fork");
  if (child == 0) {
    dup2 (to[0], STDIN_FILENO);
    dup2 (from[1], STDOUT_FILENO);
    close (to[0]);
    close (to[1]);
    close (from[0]);
    close (from[1]);
    execvp (cmd[0], cmd);
    _exit (127);
  }
  close (to[0]);
  close (from[1]);
  wire_free (&w);
  if (wire_init (&w, from[0], to[1], "receiver") == -1)
    die ("init");

  snprintf (h.name, sizeof h.name, "m");
  snprintf (h.disks[0].name, sizeof h.disks[0].name, "sda");
  h.disks[0].size = DISK_SIZE;
  h.disks[0].sector_size = 512;
  if (stream_send_hello (&w, &h, hash) == -1)
    die ("hello");
  expect (STREAM_CHALLENGE);
  expect (STREAM_WELCOME);

  /* Round 1: the whole disk. */
  if (strcmp (sc, "round-number") == 0)
    round_begin (2, 0, false);
  else if (strcmp (sc, "round-flags") == 0)
    round_begin (1, 0x80, false);
  else if (strcmp (sc, "disk-outside-round") == 0)
    disk_begin ();
  else
    round_begin (1, 0, false);
  disk_begin ();
  data (0, disk, DISK_SIZE);
  disk_end (digest1);
  round_end (1);

  /* Round 2: a delta of block 2. */
  round_begin (2, 0, true);
  if (strcmp (sc, "end-in-round") == 0)
    send_frame (STREAM_END, NULL, 0);
  if (strcmp (sc, "round-end-early") == 0)
    round_end (2);
  disk_begin ();
  if (strcmp (sc, "delta-backwards") == 0) {
    data_at (2 * STREAM_BLOCK_SIZE, block2, STREAM_BLOCK_SIZE);
    data_at (STREAM_BLOCK_SIZE, block2, STREAM_BLOCK_SIZE);
  }
  else if (strcmp (sc, "delta-unaligned") == 0)
    data_at (1000, block2, STREAM_BLOCK_SIZE);
  else if (strcmp (sc, "delta-past-end") == 0)
    data_at (DISK_SIZE, block2, STREAM_BLOCK_SIZE);
  else
    data_at (2 * STREAM_BLOCK_SIZE, block2, STREAM_BLOCK_SIZE);
  disk_end (strcmp (sc, "delta-digest") == 0 ? digest1 : digest2);
  round_end (2);
  if (strcmp (sc, "figures-count") == 0)
    fg.rounds = 5;
  if (stream_send_figures (&w, &fg) == -1)
    die ("figures");
  send_frame (STREAM_END, NULL, 0);
  reply (&f, STREAM_DONE);
  if (strcmp (sc, "good") == 0) {
    memcpy (disk + 2 * STREAM_BLOCK_SIZE, block2, STREAM_BLOCK_SIZE);
    fp = fopen ("expected.raw", "w");
    if (fp == NULL || fwrite (disk, 1, sizeof disk, fp) != sizeof disk
        || fclose (fp) != 0)
      die ("expected.raw");
  }
  finish ();
}

int
main (int argc, char *argv[])
{
  static unsigned char block[2 * DISK_SIZE];
  char digest[DIGEST_HEX_LENGTH + 1];
  const char *sc;
  struct digest *d;
  size_t i;

  if (argc < 2)
    die ("usage: test-stream-forge SCENARIO");
  sc = argv[1];
  if (wire_init (&w, -1, STDOUT_FILENO, "stdout") == -1)
    die ("init");
  if (strncmp (sc, "rounds-", 7) == 0)
    return rounds (sc + 7, argv + 2);
  if (argc != 2)
    die ("usage: test-stream-forge SCENARIO");
  for (i = 0; i < sizeof block; i++)
    block[i] = (unsigned char) (i * 7 + 1);
  d = digest_new ();
  digest_data (d, block, DISK_SIZE);
  digest_final (d, digest);
  digest_free (d);

  if (strcmp (sc, "bad-name-slash") == 0)
    hello ("m", "a/b", DISK_SIZE);
  else if (strcmp (sc, "bad-name-dotdot") == 0)
    hello ("..", "sda", DISK_SIZE);
  else if (strcmp (sc, "huge-disk") == 0)
    hello ("m", "sda", STREAM_MAX_DISK_SIZE + 1);
  else
    hello ("m", "sda", DISK_SIZE);

  if (strcmp (sc, "oversized-frame") == 0) {
    unsigned char h[WIRE_HEADER_SIZE] = { 0 };

    be32_put (h, WIRE_MAGIC);
    h[4] = STREAM_DATA;
    be32_put (h + 8, 1U << 31);
    if (write (STDOUT_FILENO, h, sizeof h) != sizeof h)
      die ("write");
    return 0;
  }
  if (strcmp (sc, "bad-checksum") == 0) {
    unsigned char h[WIRE_HEADER_SIZE + 4] = { 0 };

    be32_put (h, WIRE_MAGIC);
    h[4] = STREAM_END;
    be32_put (h + 8, 4);
    if (write (STDOUT_FILENO, h, sizeof h) != sizeof h)
      die ("write");
    return 0;
  }

  disk_begin ();
  if (strcmp (sc, "past-end") == 0) {
    data (0, block, DISK_SIZE + STREAM_BLOCK_SIZE);
    return 0;
  }
  if (strcmp (sc, "gap") == 0) {
    data (STREAM_BLOCK_SIZE, block, STREAM_BLOCK_SIZE);
    return 0;
  }
  if (strcmp (sc, "unaligned") == 0) {
    data (0, block, 1000);
    return 0;
  }
  if (strcmp (sc, "short") == 0) {
    data (0, block, STREAM_BLOCK_SIZE);
    disk_end (digest);
    send_frame (STREAM_END, NULL, 0);
    return 0;
  }
  data (0, block, DISK_SIZE);
  if (strcmp (sc, "digest-mismatch") == 0)
    digest[0] = digest[0] == '0' ? '1' : '0';
  disk_end (digest);
  send_frame (STREAM_END, NULL, 0);
  wire_free (&w);
  return 0;
}
