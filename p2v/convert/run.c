/* p2v-convert: the work.  The images are copied into qcow2 in a private
 * directory inside DIR, fixed up there, and renamed into DIR only when
 * the fixup has worked; the domain XML comes last.  A failure or an
 * interruption at any point removes what this run made.
 */
#include "p2v-convert.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert.h"
#include "error.h"
#include "file.h"
#include "inventory.h"
#include "qcow2.h"
#include "source.h"
#include "stream.h"

volatile sig_atomic_t convert_interrupted;

/* Everything one run makes, so that it can be removed again. */
struct run {
  const struct convert_options *o;
  char *name;
  char *stage;                  /* the private directory, or NULL */
  char **staged;                /* stage/diskN.qcow2 */
  char *staged_report;          /* stage/fixup.xml */
  char **finals;                /* DIR/NAME-diskN.qcow2 */
  char *report;                 /* DIR/NAME-fixup.xml */
  char *xml;                    /* DIR/NAME.xml */
  struct source **sources;      /* the IMAGEs, open before anything is made */
  bool made_out;                /* DIR did not exist: we made it */
  size_t n_placed;              /* finals renamed into place so far */
  bool report_placed;
};

static void say (const struct run *r, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

static void
say (const struct run *r, const char *fmt, ...)
{
  va_list ap;

  if (r->o->cli.quiet)
    return;
  printf ("%s: ", r->o->cli.prog);
  va_start (ap, fmt);
  vprintf (fmt, ap);
  va_end (ap);
  putchar ('\n');
  fflush (stdout);
}

/* The host name in the inventory at PATH (NULL if it has none) in
 * *HOSTNAME; the inventory is read and checked against the schema, so a
 * bad one is refused before any work.  Returns 0 or -1.
 */
static int
inventory_hostname (const char *path, char **hostname)
{
  struct inventory inv = { 0 };
  int ret = 0;

  *hostname = NULL;
  if (inventory_read_file (path, &inv) == -1)
    return -1;
  if (inv.hostname && (*hostname = strdup (inv.hostname)) == NULL)
    ret = error ("out of memory");
  inventory_free (&inv);
  return ret;
}

/* --name; else the inventory's host name (its first label); else the
 * first image's file name without its extension.
 */
static int
choose_name (struct run *r)
{
  const struct convert_options *o = r->o;
  char *hostname = NULL, *base, *dot;

  if (o->inventory && inventory_hostname (o->inventory, &hostname) == -1)
    return -1;
  if (o->name)
    r->name = strdup (o->name);
  else if (hostname) {
    r->name = strndup (hostname, strcspn (hostname, "."));
  }
  else {
    base = strrchr (o->images[0], '/');
    r->name = strdup (base ? base + 1 : o->images[0]);
    if (r->name && (dot = strrchr (r->name, '.')) != NULL && dot != r->name)
      *dot = '\0';
  }
  free (hostname);
  if (r->name == NULL)
    return error ("out of memory");
  if (!stream_name_ok (r->name))
    return error ("'%s' cannot name a virtual machine: use --name NAME (at "
                  "most %d letters, digits, '.', '_' and '-', not starting "
                  "with '.' or '-')",
                  r->name, STREAM_MAX_NAME);
  return 0;
}

/* The paths of everything the run makes; refuses to replace an existing
 * output without --force.
 */
static int
plan_outputs (struct run *r)
{
  const struct convert_options *o = r->o;
  struct stat st;
  size_t i;

  if (mkdir (o->out, 0755) == 0)
    r->made_out = true;
  else if (errno != EEXIST)
    return error_errno (errno, "--out: %s", o->out);
  if (stat (o->out, &st) == -1)
    return error_errno (errno, "--out: %s", o->out);
  if (!S_ISDIR (st.st_mode))
    return error ("--out: %s: not a directory", o->out);

  r->finals = calloc (o->n_images, sizeof *r->finals);
  r->staged = calloc (o->n_images, sizeof *r->staged);
  if (r->finals == NULL || r->staged == NULL)
    return error ("out of memory");
  for (i = 0; i < o->n_images; i++)
    if (asprintf (&r->finals[i], "%s/%s-disk%zu.qcow2", o->out, r->name, i + 1)
        == -1) {
      r->finals[i] = NULL;
      return error ("out of memory");
    }
  if (asprintf (&r->report, "%s/%s-fixup.xml", o->out, r->name) == -1) {
    r->report = NULL;
    return error ("out of memory");
  }
  if (asprintf (&r->xml, "%s/%s.xml", o->out, r->name) == -1) {
    r->xml = NULL;
    return error ("out of memory");
  }

  for (i = 0; i <= o->n_images + 1; i++) {
    const char *path = i < o->n_images ? r->finals[i]
      : i == o->n_images               ? r->report
                                       : r->xml;
    if (!o->cli.force && lstat (path, &st) == 0)
      return error ("%s exists (--force replaces it)", path);
    if (i < o->n_images && file_same (o->images[i], path))
      return error ("%s: is the output %s itself", o->images[i], path);
  }

  if (asprintf (&r->stage, "%s/.%s.p2v-convert-XXXXXX", o->out, r->name)
      == -1) {
    r->stage = NULL;
    return error ("out of memory");
  }
  if (mkdtemp (r->stage) == NULL) {
    error_errno (errno, "%s", r->stage);
    free (r->stage);
    r->stage = NULL;
    return -1;
  }
  for (i = 0; i < o->n_images; i++)
    if (asprintf (&r->staged[i], "%s/disk%zu.qcow2", r->stage, i + 1) == -1) {
      r->staged[i] = NULL;
      return error ("out of memory");
    }
  if (asprintf (&r->staged_report, "%s/fixup.xml", r->stage) == -1) {
    r->staged_report = NULL;
    return error ("out of memory");
  }
  return 0;
}

/* Image I into qcow2 in the private directory. */
static int
copy_image (struct run *r, size_t i)
{
  const struct convert_options *o = r->o;
  struct qcow2_options qopts = { .cluster_bits = QCOW2_DEFAULT_CLUSTER_BITS };
  struct sink_options sopts = { .force = true };
  struct source *src = r->sources[i];
  struct sink *dst = NULL;
  uint64_t size;
  int ret = -1;

  say (r, "copying %s into qcow2 (disk %zu of %zu)", o->images[i], i + 1,
       o->n_images);
  size = (src->size + QCOW2_SIZE_ALIGNMENT - 1) / QCOW2_SIZE_ALIGNMENT
    * QCOW2_SIZE_ALIGNMENT;
  dst = qcow2_sink_create (r->staged[i], size, &qopts, &sopts);
  if (dst)
    ret = cli_copy (&o->cli, o->images[i], src, dst, &convert_interrupted);
  sink_free (dst);
  return ret;
}

/* Move the fixed-up disks and the report from the private directory into
 * DIR.
 */
static int
place_outputs (struct run *r)
{
  for (; r->n_placed < r->o->n_images; r->n_placed++)
    if (rename (r->staged[r->n_placed], r->finals[r->n_placed]) == -1)
      return error_errno (errno, "%s", r->finals[r->n_placed]);
  if (rename (r->staged_report, r->report) == -1)
    return error_errno (errno, "%s", r->report);
  r->report_placed = true;
  return 0;
}

/* Remove what the run made: everything after a failure, only the
 * private directory after success.
 */
static void
clean_up (struct run *r, bool failed)
{
  size_t i;

  if (failed) {
    for (i = 0; i < r->n_placed; i++)
      unlink (r->finals[i]);
    if (r->report_placed)
      unlink (r->report);
  }
  if (r->stage) {
    for (i = 0; i < r->o->n_images; i++)
      if (r->staged && r->staged[i]) {
        char *part;

        unlink (r->staged[i]);
        if (asprintf (&part, "%s%s", r->staged[i], FILE_PART_SUFFIX) != -1) {
          unlink (part);
          free (part);
        }
      }
    if (r->staged_report)
      unlink (r->staged_report);
    if (rmdir (r->stage) == -1 && failed)
      fprintf (stderr, "%s: warning: %s: not removed: %s\n", r->o->cli.prog,
               r->stage, strerror (errno));
  }
  if (failed && r->made_out)
    rmdir (r->o->out);
}

static void
free_run (struct run *r)
{
  size_t i;

  for (i = 0; i < r->o->n_images; i++) {
    if (r->sources)
      source_close (r->sources[i]);
    if (r->finals)
      free (r->finals[i]);
    if (r->staged)
      free (r->staged[i]);
  }
  free (r->sources);
  free (r->finals);
  free (r->staged);
  free (r->staged_report);
  free (r->report);
  free (r->xml);
  free (r->stage);
  free (r->name);
}

int
convert_run (const struct convert_options *o)
{
  struct run r = { .o = o };
  struct convert_job job = {
    .prog = o->cli.prog,
    .inventory = o->inventory,
    .n_images = o->n_images,
    .network = o->network,
    .bridge = o->bridge,
    .type = o->type,
    .cancel = &convert_interrupted,
    .quiet = o->cli.quiet,
    .verbose = o->cli.verbose,
  };
  size_t i;
  int ret = -1;

  /* Every IMAGE must open before DIR is touched. */
  r.sources = calloc (o->n_images, sizeof *r.sources);
  if (r.sources == NULL) {
    error ("out of memory");
    goto out;
  }
  for (i = 0; i < o->n_images; i++)
    if ((r.sources[i] = source_open (o->images[i], o->source_format)) == NULL
        || cli_used_blocks (&o->cli, o->all_blocks, &r.sources[i]) == -1)
      goto out;
  if (choose_name (&r) == -1 || plan_outputs (&r) == -1)
    goto out;
  job.name = r.name;

  for (i = 0; i < o->n_images; i++)
    if (copy_image (&r, i) == -1)
      goto out;

  say (&r,
       "fixing up the guest (p2v-fixup --target virt; minutes without "
       "KVM)");
  job.images = r.staged;
  job.report = r.staged_report;
  /* Without an inventory, the guest's configuration is all there is to
   * know its NICs by: those it names without a MAC get new ones.
   */
  job.new_macs = o->inventory == NULL;
  if (convert_fixup (&job) == -1)
    goto out;
  if (convert_interrupted) {
    error ("interrupted");
    goto out;
  }
  if (place_outputs (&r) == -1)
    goto out;

  say (&r, "writing the domain XML (p2v-domxml)");
  job.images = r.finals;
  job.report = r.report;
  job.xml = r.xml;
  if (convert_domxml (&job) == -1)
    goto out;

  if (!o->cli.quiet) {
    say (&r, "done: %s", r.name);
    for (i = 0; i < o->n_images; i++)
      printf ("  disk %zu:        %s\n", i + 1, r.finals[i]);
    printf ("  fixup report:  %s\n", r.report);
    printf ("  domain XML:    %s\n", r.xml);
    printf ("  to start it:   virsh define %s && virsh start %s\n", r.xml,
            r.name);
  }
  ret = 0;

out:
  clean_up (&r, ret == -1);
  free_run (&r);
  return ret;
}
