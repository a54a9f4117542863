/* A lying sender: writes a one-way stream (stream.h) to stdout that breaks
 * the protocol in the way SCENARIO names, for tests/t-stream-lies.sh to
 * feed to p2v-recv --stdio.  "good" is a correct stream of one small disk,
 * to show the tool itself is right.
 *
 *   test-stream-forge SCENARIO > stream
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "qcow2.h"
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

int
main (int argc, char *argv[])
{
  static unsigned char block[2 * DISK_SIZE];
  char digest[DIGEST_HEX_LENGTH + 1];
  const char *sc;
  struct digest *d;
  size_t i;

  if (argc != 2)
    die ("usage: test-stream-forge SCENARIO");
  sc = argv[1];
  if (wire_init (&w, -1, STDOUT_FILENO, "stdout") == -1)
    die ("init");
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
