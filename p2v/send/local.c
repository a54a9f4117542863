/* p2v-send: one disk into a local qcow2 image. */
#include "send.h"

#include "error.h"
#include "file.h"
#include "qcow2.h"
#include "source.h"

int
send_to_file (const struct send_options *opts, const char *source)
{
  struct sink_options sopts = {
    .force = opts->cli.force,
    .sync = opts->sync,
  };
  struct source *src = NULL;
  struct sink *dst = NULL;
  int ret = -1;

  if (file_same (source, opts->to)) {
    error ("%s: is the source itself", opts->to);
    goto out;
  }
  src = source_open (source, opts->format);
  if (src == NULL || cli_used_blocks (&opts->cli, opts->all_blocks, &src) == -1)
    goto out;
  dst = qcow2_sink_create (opts->to, cli_disk_size (&opts->cli, source, src),
                           &opts->qcow2, &sopts);
  if (dst == NULL)
    goto out;
  ret = cli_copy (&opts->cli, "p2v-send", src, dst, &send_interrupted);

out:
  sink_free (dst);
  source_close (src);
  return ret;
}
