/* p2v-send: disks over the stream protocol to p2v-recv (the sending end is
 * imaging/stream-send.c): what p2v-send adds is the hardware inventory
 * and the p2v-recv command an ssh destination runs.
 */
#include "send.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "error.h"
#include "inventory.h"
#include "stream-send.h"
#include "stream.h"

#define MB (1000.0 * 1000.0)

/* "ssh://[USER@]HOST[:PORT]/DIR" runs p2v-recv --stdio --out DIR there (or
 * $P2V_REMOTE_RECV instead of p2v-recv).
 */
static char *
remote_command (const char *dir, void *arg)
{
  const struct send_options *opts = arg;
  const char *recv = getenv ("P2V_REMOTE_RECV");
  char *cmd;

  /* The directory goes through the remote shell: quote it. */
  if (strchr (dir, '\'') != NULL) {
    error ("the directory may not hold a quote");
    return NULL;
  }
  if (asprintf (&cmd, "%s --stdio --out '%s'%s", recv ? recv : "p2v-recv", dir,
                opts->cli.force ? " --force" : "")
      == -1) {
    error ("out of memory");
    return NULL;
  }
  return cmd;
}

/* The hardware inventory of this machine and the disks, as XML.  If it
 * cannot be collected, the disks still travel, with a warning.
 */
static int
send_inventory (struct wire *w, const struct send_options *opts,
                char *const *sources, size_t n)
{
  struct inventory inv;
  char *xml = NULL;
  void *z = NULL;
  size_t len, zlen;
  int ret = -1;

  memset (&inv, 0, sizeof inv);
  if (inventory_collect (&inv, sources, n) == -1
      || (xml = inventory_to_xml (&inv, &len)) == NULL) {
    fprintf (stderr, "%s: warning: no hardware inventory: %s\n", opts->cli.prog,
             error_message ());
    ret = 0;
    goto out;
  }
  zlen = ZSTD_compressBound (len);
  if (len > STREAM_MAX_INVENTORY || zlen > WIRE_MAX_PAYLOAD) {
    error ("the inventory is too large to send (%zu bytes)", len);
    goto out;
  }
  z = malloc (zlen);
  if (z == NULL) {
    error ("out of memory");
    goto out;
  }
  zlen = ZSTD_compress (z, zlen, xml, len, STREAM_DEFAULT_LEVEL);
  if (ZSTD_isError (zlen)) {
    error ("inventory: %s", ZSTD_getErrorName (zlen));
    goto out;
  }
  ret = wire_send (w, STREAM_INVENTORY, WIRE_FLAG_ZSTD, z, zlen);

out:
  free (z);
  free (xml);
  inventory_free (&inv);
  return ret;
}

/* After the handshake: the inventory of the raw sources (libparted cannot
 * look inside a qcow2 image).  Without one the disks still travel.
 */
static int
before_disks (struct wire *w, struct source *const *src, size_t n, void *arg)
{
  const struct send_options *opts = arg;
  char *raw[STREAM_MAX_DISKS];
  size_t n_raw = 0, i;

  if (opts->no_inventory)
    return 0;
  for (i = 0; i < n; i++)
    if (strcmp (src[i]->ops->format, "raw") == 0)
      raw[n_raw++] = src[i]->name;
  return send_inventory (w, opts, raw, n_raw);
}

int
send_to_stream (const struct send_options *opts, char **sources, size_t n)
{
  struct stream_send_options sopts = {
    .cli = &opts->cli,
    .to = opts->to,
    .format = opts->format,
    .all_blocks = opts->all_blocks,
    .name = opts->name,
    .token = opts->token,
    .bandwidth = opts->bandwidth * MB,
    .cancel = &send_interrupted,
    .remote_command = remote_command,
    .before_disks = before_disks,
    .arg = (void *) opts,
    .precopy = &opts->precopy,
  };

  if (opts->qcow2.compression != QCOW2_COMPRESS_NONE)
    sopts.level = opts->qcow2.level ? opts->qcow2.level : STREAM_DEFAULT_LEVEL;
  return stream_send (&sopts, sources, n);
}
