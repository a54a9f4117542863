/* p2v-send: one disk into a local qcow2 image. */
#include "send.h"

#include <inttypes.h>
#include <stdio.h>

#include "error.h"
#include "file.h"
#include "qcow2.h"
#include "source.h"

uint64_t
send_disk_size (const struct send_options *opts, const char *source,
                const struct source *src)
{
  uint64_t size = (src->size + QCOW2_SIZE_ALIGNMENT - 1) / QCOW2_SIZE_ALIGNMENT
    * QCOW2_SIZE_ALIGNMENT;

  if (size != src->size && !opts->cli.quiet)
    fprintf (stderr,
             "%s: warning: %s: %" PRIu64 " bytes is not a whole number of "
             "%d-byte sectors: the image is padded with zeros to %" PRIu64
             " bytes\n",
             opts->cli.prog, source, src->size, QCOW2_SIZE_ALIGNMENT, size);
  return size;
}

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
  if (src == NULL)
    goto out;
  dst = qcow2_sink_create (opts->to, send_disk_size (opts, source, src),
                           &opts->qcow2, &sopts);
  if (dst == NULL)
    goto out;
  ret = cli_copy (&opts->cli, "p2v-send", src, dst, &send_interrupted);

out:
  sink_free (dst);
  source_close (src);
  return ret;
}
