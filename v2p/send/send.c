/* v2p-send: the images over the stream protocol (imaging/stream-send.c),
 * and the v2p-recv command an ssh destination runs.
 */
#include "send.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "stream-send.h"
#include "stream.h"

#define MB (1000.0 * 1000.0)

struct remote {
  const struct send_options *opts;
  size_t n_images;
};

/* "ssh://[USER@]HOST[:PORT]/DEV[,DEV...]" runs v2p-recv --stdio --disk DEV
 * ... there (or $V2P_REMOTE_RECV instead of v2p-recv), one disk an image.
 */
static char *
remote_command (const char *devs, void *arg)
{
  const struct remote *rm = arg;
  const char *recv = getenv ("V2P_REMOTE_RECV");
  char *cmd = NULL, *list = NULL, *dev, *save = NULL;
  size_t len = 0, n = 0;
  FILE *fp;

  /* The devices go through the remote shell: quoted. */
  if (strchr (devs, '\'') != NULL) {
    error ("a device may not hold a quote");
    return NULL;
  }
  list = strdup (devs);
  fp = open_memstream (&cmd, &len);
  if (list == NULL || fp == NULL) {
    free (list);
    error ("out of memory");
    return NULL;
  }
  fprintf (fp, "%s --stdio", recv ? recv : "v2p-recv");
  for (dev = strtok_r (list, ",", &save); dev;
       dev = strtok_r (NULL, ",", &save))
    if (dev[0]) {
      fprintf (fp, " --disk '%s'", dev);
      n++;
    }
  if (rm->opts->grow)
    fprintf (fp, " --grow");
  if (rm->opts->cli.verbose)
    fprintf (fp, " -v");
  free (list);
  if (fclose (fp) != 0) {
    free (cmd);
    error ("out of memory");
    return NULL;
  }
  if (n != rm->n_images) {
    error ("%zu image(s) but %zu disk(s) after the host", rm->n_images, n);
    free (cmd);
    return NULL;
  }
  return cmd;
}

int
send_images (const struct send_options *opts, char **images, size_t n)
{
  char name[STREAM_MAX_NAME + 1];
  struct remote rm = { .opts = opts, .n_images = n };
  struct stream_send_options sopts = {
    .cli = &opts->cli,
    .to = opts->to,
    .format = opts->format,
    .all_blocks = opts->all_blocks,
    .name = opts->name,
    .token = opts->token,
    .level = opts->level,
    .bandwidth = opts->bandwidth * MB,
    .cancel = &send_interrupted,
    .remote_command = remote_command,
    .arg = &rm,
    .precopy = &opts->precopy,
  };

  /* The machine is the one the first image is of. */
  if (sopts.name == NULL) {
    stream_disk_name (images[0], name);
    sopts.name = name;
  }
  return stream_send (&sopts, images, n);
}
