/* p2v-recv: one sender's session.  The protocol is imaging/stream-recv.c's;
 * what p2v-recv adds is where the disks go.
 *
 * Authentication comes before anything is created on disk.  Each disk is
 * written as OUT/NAME/NAME-DISK.qcow2.part and renamed when its digest
 * matches the sender's; a checkpoint every RECV_CHECKPOINT_BYTES lets a
 * broken transfer resume.  A sender that breaks the protocol or whose
 * digest does not match loses its partial output; one whose connection
 * merely broke keeps it for the resume.
 */
#include "session.h"
#include "recv.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert.h"
#include "digest.h"
#include "error.h"
#include "file.h"
#include "inventory.h"
#include "qcow2.h"
#include "sink.h"
#include "stream-recv.h"

/* Waiting for the machine's lock: 100 ms at a time, for 30 s. */
#define RECV_LOCK_WAIT_US 100000
#define RECV_LOCK_TRIES 300

/* The output directory OUT/NAME, created if needed (never through a
 * symbolic link), locked against a second sender of the same name.
 */
static int
open_machine_dir (struct session *s, const char *name)
{
  struct stat st;
  char *lock = NULL;
  int ret = -1, tries;

  if (asprintf (&s->dir, "%s/%s", s->opts->out, name) == -1) {
    s->dir = NULL;
    return error ("out of memory");
  }
  if (mkdir (s->dir, 0755) == -1 && errno != EEXIST)
    return error_errno (errno, "%s: create", s->dir);
  if (lstat (s->dir, &st) == -1)
    return error_errno (errno, "%s", s->dir);
  if (!S_ISDIR (st.st_mode))
    return error ("%s: not a directory", s->dir);
  if (asprintf (&lock, "%s/.lock", s->dir) == -1)
    return error ("out of memory");
  s->lock_fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (s->lock_fd == -1) {
    error_errno (errno, "%s: create", lock);
    goto out;
  }
  /* A session whose connection just broke may still be saving its last
   * checkpoint: give it a moment before calling the machine busy.
   */
  for (tries = 0; flock (s->lock_fd, LOCK_EX | LOCK_NB) == -1; tries++) {
    if (tries == RECV_LOCK_TRIES) {
      error ("%s: another sender is writing machine '%s' now", s->dir, name);
      goto out;
    }
    usleep (RECV_LOCK_WAIT_US);
  }
  ret = 0;

out:
  free (lock);
  return ret;
}

/* For each disk: refuse to overwrite, or find where to resume. */
static int
prepare_disks (struct stream_recv *r)
{
  struct session *s = r->data;
  struct sink_options sopts = { .force = s->opts->cli.force };
  size_t extra_cap = digest_state_size ();
  unsigned char *extra = NULL;
  struct stat st;
  uint32_t i;
  int ret = -1;

  extra = malloc (extra_cap);
  if (extra == NULL)
    return error ("out of memory");
  for (i = 0; i < r->h.n_disks; i++) {
    struct stream_recv_disk *d = &r->disks[i];
    size_t extra_len = extra_cap;

    if (asprintf (&s->paths[i], "%s/%s-%s.qcow2", s->dir, r->h.name,
                  r->h.disks[i].name)
        == -1) {
      s->paths[i] = NULL;
      error ("out of memory");
      goto out;
    }
    /* With rounds, an earlier copy is the one to bring up to date. */
    if (r->rounds)
      continue;
    if (!s->opts->cli.force && stat (s->paths[i], &st) == 0) {
      error ("%s: already exists (the receiver needs --force to replace it)",
             s->paths[i]);
      goto out;
    }
    if (r->oneway || !qcow2_sink_can_resume (s->paths[i]))
      continue;
    d->sink = qcow2_sink_resume (s->paths[i], r->h.disks[i].size, NULL, &sopts,
                                 &d->resume, extra, &extra_len);
    if (d->sink && digest_restore (d->digest, extra, extra_len) == -1) {
      sink_free (d->sink);
      d->sink = NULL;
    }
    if (d->sink == NULL) {
      fprintf (stderr, "%s: %s: cannot resume (%s): starting again\n",
               s->opts->cli.prog, s->paths[i], error_message ());
      if (stream_recv_disk_restart (d) == -1)
        goto out;
    }
    else if (s->opts->cli.verbose)
      fprintf (stderr, "%s: %s: resuming at offset %" PRIu64 "\n",
               s->opts->cli.prog, s->paths[i], d->resume);
  }
  ret = 0;

out:
  free (extra);
  return ret;
}

/* The sender is authenticated: the machine's directory and its disks. */
static int
on_prepare (struct stream_recv *r)
{
  struct session *s = r->data;

  if (open_machine_dir (s, r->h.name) == -1 || prepare_disks (r) == -1)
    return -1;
  return r->rounds ? rounds_prepare (r, s) : 0;
}

static int
on_checkpoint (struct stream_recv *r, uint32_t i)
{
  size_t n = digest_state_size ();
  unsigned char *extra;
  int ret;

  if (n > QCOW2_STATE_EXTRA_MAX)
    return error ("digest state too large to checkpoint");
  extra = malloc (n);
  if (extra == NULL)
    return error ("out of memory");
  digest_save (r->disks[i].digest, extra);
  ret = qcow2_sink_checkpoint (r->disks[i].sink, extra, n);
  free (extra);
  if (ret == 0 && r->rounds)
    ret = rounds_checkpoint (r, r->data, i);
  return ret;
}

static int
on_inventory (struct stream_recv *r, char *xml, size_t len)
{
  struct session *s = r->data;
  struct inventory inv;

  memset (&inv, 0, sizeof inv);
  if (inventory_parse_xml (xml, len, &inv) == -1)
    return stream_recv_violation (r, "INVENTORY: %s", error_message ());
  inventory_free (&inv);
  s->inventory = xml;
  s->inventory_len = len;
  return 0;
}

static int
on_begin (struct stream_recv *r, uint32_t i)
{
  struct session *s = r->data;
  struct sink_options sopts = { .force = s->opts->cli.force };

  if (r->rounds)
    return rounds_begin (r, s, i);
  if (r->disks[i].sink == NULL) {
    r->disks[i].sink
      = qcow2_sink_create (s->paths[i], r->h.disks[i].size, NULL, &sopts);
    if (r->disks[i].sink == NULL)
      return -1;
  }
  return 0;
}

static int
on_disk_done (struct stream_recv *r, uint32_t i, const char *digest)
{
  struct session *s = r->data;

  if (s->opts->cli.machine_readable) {
    printf ("disk %s size=%" PRIu64 " digest=%s\n", s->paths[i],
            r->h.disks[i].size, digest);
    fflush (stdout);
  }
  if (s->opts->cli.verbose)
    fprintf (stderr, "%s: received %s (digest %s)\n", s->opts->cli.prog,
             s->paths[i], digest);
  return 0;
}

/* Everything arrived: the inventory appears last, next to the images. */
static int
on_end (struct stream_recv *r)
{
  struct session *s = r->data;
  struct sink_options sopts = { .force = true };
  char *path = NULL, *final = NULL, *tmp = NULL;
  int fd = -1, ret = -1;

  if (r->rounds && rounds_inventory (r, s) == -1)
    return -1;
  if (s->inventory == NULL)
    return 0;
  if (asprintf (&path, "%s/inventory.xml", s->dir) == -1) {
    path = NULL;
    error ("out of memory");
    goto out;
  }
  fd = file_create_temp (path, true, &final, &tmp);
  if (fd == -1)
    goto out;
  if (file_pwrite_all (fd, s->inventory, s->inventory_len, 0) == -1) {
    error_prefix ("%s", path);
    close (fd);
    unlink (tmp);
    goto out;
  }
  if (file_commit (fd, tmp, final, &sopts) == -1) {
    unlink (tmp);
    goto out;
  }
  ret = 0;

out:
  free (path);
  free (final);
  free (tmp);
  return ret;
}

static const struct stream_recv_ops recv_ops = {
  .prepare = on_prepare,
  .inventory = on_inventory,
  .begin = on_begin,
  .checkpoint = on_checkpoint,
  .disk_done = on_disk_done,
  .end = on_end,
  .round_end = rounds_round_end,
};

/* --convert: the fixup and the domain XML for what arrived, as
 * p2v-convert makes them (p2v/common/convert.c).
 */
static int
convert_machine (struct session *s, const char *name, uint32_t n_disks)
{
  struct convert_job job = {
    .prog = s->opts->cli.prog,
    .name = name,
    .n_images = n_disks,
    .images = s->paths,
    .network = s->opts->network,
    .bridge = s->opts->bridge,
    .quiet = s->opts->cli.quiet,
    .verbose = s->opts->cli.verbose,
    .progress_to_stderr = true,
  };
  char *inventory = NULL, *report = NULL, *xml = NULL;
  int ret = -1;

  if ((s->inventory && asprintf (&inventory, "%s/inventory.xml", s->dir) == -1)
      || asprintf (&report, "%s/%s-fixup.xml", s->dir, name) == -1
      || asprintf (&xml, "%s/%s.xml", s->dir, name) == -1) {
    error ("out of memory");
    goto out;
  }
  job.inventory = inventory;
  job.report = report;
  job.xml = xml;
  /* Without an inventory the guest's own configuration names the NICs. */
  job.new_macs = inventory == NULL;
  if (!s->opts->cli.quiet)
    fprintf (stderr,
             "%s: machine '%s': converting (p2v-fixup, then "
             "p2v-domxml; minutes without KVM)\n",
             s->opts->cli.prog, name);
  if (convert_fixup (&job) == -1 || convert_domxml (&job) == -1) {
    error_prefix ("machine '%s': --convert", name);
    goto out;
  }
  if (!s->opts->cli.quiet)
    fprintf (stderr, "%s: machine '%s': converted: virsh define %s\n",
             s->opts->cli.prog, name, xml);
  ret = 0;
out:
  free (inventory);
  free (report);
  free (xml);
  return ret;
}

int
recv_session (const struct recv_options *opts, int rfd, int wfd,
              const char *peer, bool auth, bool *told_peer)
{
  struct session s = { .opts = opts, .lock_fd = -1 };
  struct stream_recv r = {
    .ops = &recv_ops,
    .data = &s,
    .cli = &opts->cli,
    .token = opts->token,
    .auth = auth,
    .checkpoint_bytes = RECV_CHECKPOINT_BYTES,
    /* Several senders may be at work: no bars, only lines for scripts. */
    .progress_mode
    = opts->cli.machine_readable ? PROGRESS_MACHINE : PROGRESS_NONE,
    .rounds_ok = true,
  };
  uint32_t i;
  int ret = -1;

  if (stream_recv_session (&r, rfd, wfd, peer) == -1)
    goto out;
  /* Under ssh, the sender's user would see this: only if asked for. */
  if (opts->stdio ? opts->cli.verbose : !opts->cli.quiet)
    fprintf (stderr, "%s: machine '%s': %" PRIu32 " disk(s) in %s\n",
             opts->cli.prog, r.h.name, r.h.n_disks, s.dir);
  /* Still under the machine's lock: no sender writes it meanwhile.  A
   * pre-copy without its final round is no machine yet.
   */
  if (opts->convert && r.rounds && !r.final_done)
    fprintf (stderr,
             "%s: machine '%s': not converted: the copies are a pre-copy "
             "(p2v-send --resync finishes them)\n",
             opts->cli.prog, r.h.name);
  else if (opts->convert && convert_machine (&s, r.h.name, r.h.n_disks) == -1)
    goto out;
  ret = 0;

out:
  if (r.rounds)
    rounds_after (&r, &s);
  stream_recv_close (&r, ret == -1);
  *told_peer = r.told_peer;
  for (i = 0; i < STREAM_MAX_DISKS; i++) {
    struct sink *k = r.disks[i].sink;

    /* A broken connection keeps what a resume needs (the engine has
     * checkpointed at the last whole frame); a lie keeps nothing.
     */
    if (k) {
      if (!r.lied)
        qcow2_sink_keep_partial (k);
      sink_free (k);
    }
    free (s.paths[i]);
    free (s.work[i]);
    free (s.store[i]);
  }
  if (s.lock_fd >= 0) {
    /* A liar leaves nothing: not even an empty directory for itself. */
    if (r.lied && s.dir) {
      char *lock = NULL;

      if (asprintf (&lock, "%s/.lock", s.dir) != -1) {
        unlink (lock);
        free (lock);
      }
      rmdir (s.dir);
    }
    close (s.lock_fd);
  }
  free (s.inventory);
  free (s.dir);
  return ret;
}
