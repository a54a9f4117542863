/* v2p-write: one image onto one target. */
#include "write.h"

#include "error.h"
#include "file.h"
#include "sink.h"
#include "source.h"

int
write_image (const struct write_options *opts, const char *image,
             const char *target)
{
  struct sink_options sopts = {
    .force = opts->cli.force,
    .sync = opts->sync,
  };
  struct source *src = NULL;
  struct sink *dst = NULL;
  int ret = -1;

  if (file_same (image, target)) {
    error ("%s: is the source itself", target);
    goto out;
  }
  src = source_open (image, opts->format);
  if (src == NULL)
    goto out;
  dst = raw_sink_open (target, src->size, &sopts);
  if (dst == NULL)
    goto out;

  ret = cli_copy (&opts->cli, "v2p-write", src, dst, &write_interrupted);

out:
  sink_free (dst);
  source_close (src);
  return ret;
}
