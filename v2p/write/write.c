/* v2p-write: one image onto one target. */
#include "write.h"

#include "copy.h"
#include "error.h"
#include "file.h"
#include "progress.h"
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
  struct copy_options copts = { .cancel = &write_interrupted };
  struct copy_result res;
  struct progress progress;
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

  progress_start (&progress, cli_progress_mode (&opts->cli), "v2p-write",
                  src->size);
  if (copy_disk (src, dst, &progress, &copts, &res) == -1)
    goto out;
  cli_report_copy (&opts->cli, src, dst, &res, progress_elapsed (&progress));
  ret = 0;

out:
  sink_free (dst);
  source_close (src);
  return ret;
}
