/* v2p-write: one image onto one target. */
#include "write.h"

#include <stdio.h>
#include <sys/stat.h>

#include "error.h"
#include "file.h"
#include "grow.h"
#include "parttable.h"
#include "sink.h"
#include "source.h"
#include "target.h"

/* Say NOTE (a sentence about the target) unless --quiet. */
static void
say (const struct write_options *opts, const char *note)
{
  if (note[0] && !opts->cli.quiet)
    fprintf (stderr, "%s: %s\n", opts->cli.prog, note);
}

/* The sink for IMAGE (SRC, whose partition table is PT) on TARGET: the
 * block device T (opened here), or a new file.
 */
static struct sink *
open_sink (const struct write_options *opts, struct source *src,
           const struct parttable *pt, const char *target, bool device,
           struct target *t)
{
  struct sink_options sopts = {
    .force = opts->cli.force,
    .sync = opts->sync,
    .file_size = opts->size,
  };
  char note[512];

  if (device) {
    if (opts->size) {
      error ("--size: %s is a block device: its size is its own", target);
      return NULL;
    }
    if (target_open (t, target) == -1
        || target_fits (target, t->size, t->sector_size, src->size, pt, note,
                        sizeof note)
          == -1)
      return NULL;
    say (opts, note);
    return raw_sink_fd (t->fd, target, src->size, t->size);
  }
  /* A file takes the image's sectors, whatever they are. */
  if (target_fits (target, opts->size ? opts->size : src->size, 0, src->size,
                   pt, note, sizeof note)
      == -1)
    return NULL;
  say (opts, note);
  return raw_sink_open (target, src->size, &sopts);
}

/* The image is on TARGET (T, open for a device): fit its partition table
 * to TARGET, tell the kernel, grow.
 */
static int
settle (const struct write_options *opts, const char *target, bool device,
        struct target *t, uint64_t size, const struct parttable *pt)
{
  struct grow_result res;
  bool changed;

  if (!device && target_open (t, target) == -1)
    return -1;
  if (target_settle (t, size, pt, &changed) == -1)
    return -1;
  if (changed && opts->cli.verbose)
    fprintf (stderr, "%s: %s: the GPT now describes the whole disk\n",
             opts->cli.prog, target);
  /* The partitions need the disk to be ours no more. */
  target_close (t);
  if (device && grow_tell_kernel (target) == -1)
    fprintf (stderr, "%s: warning: %s\n", opts->cli.prog, error_message ());
  if (!opts->grow)
    return 0;
  if (grow_disk (target, opts->cli.verbose, &res) == -1)
    return -1;
  if (res.warning)
    fprintf (stderr, "%s: warning: %s\n", opts->cli.prog, res.message);
  else
    say (opts, res.message);
  return 0;
}

int
write_image (const struct write_options *opts, const char *image,
             const char *target)
{
  struct target t = { .fd = -1 };
  struct source *src = NULL;
  struct sink *dst = NULL;
  struct parttable pt;
  struct stat st;
  bool device;
  int ret = -1;

  if (file_same (image, target)) {
    error ("%s: is the source itself", target);
    goto out;
  }
  src = source_open (image, opts->format);
  if (src == NULL)
    goto out;
  if (parttable_probe_source (src, &pt) == -1) {
    error_prefix ("%s: partition table", image);
    goto out;
  }
  device = false;
  if (stat (target, &st) == 0) {
    device = S_ISBLK (st.st_mode);
    if (!device && !S_ISREG (st.st_mode)) {
      error ("%s: not a regular file or block device", target);
      goto out;
    }
  }
  dst = open_sink (opts, src, &pt, target, device, &t);
  if (dst == NULL)
    goto out;
  if (cli_copy (&opts->cli, "v2p-write", src, dst, &write_interrupted) == -1)
    goto out;
  sink_free (dst);
  dst = NULL;
  ret = settle (opts, target, device, &t, src->size, &pt);

out:
  sink_free (dst);
  target_close (&t);
  source_close (src);
  return ret;
}
