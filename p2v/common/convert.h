/* p2vkit: the steps that turn qcow2 images of a machine's disks into a
 * virtual machine: the guest fixup (p2v-fixup --target virt) and the
 * domain XML (p2v-domxml).  p2v-convert runs them on the images it has
 * just made, p2v-recv --convert on the images a sender has just sent.
 *
 * Both steps run as programs: the p2v-fixup and p2v-domxml installed
 * beside the running program (the directory of /proc/self/exe), or else
 * the first in PATH.  Their progress goes to our stdout and their
 * warnings to our stderr as they come; when one fails, its last line of
 * stderr becomes our error ("p2v-fixup: no operating system found on
 * disk.img"), so that the user still sees one line that says why.
 *
 * Not thread-safe (fork, and the child's signals).
 */
#ifndef P2V_CONVERT_H
#define P2V_CONVERT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

struct convert_job {
  const char *prog;             /* who we are, for messages */
  const char *name;             /* the domain's name (p2v-domxml --name) */
  const char *inventory;        /* inventory.xml, or NULL: none */
  char *const *images;          /* the disks, in the guest's order */
  size_t n_images;
  const char *report;           /* the fixup report to write */
  const char *xml;              /* the domain XML to write */
  const char *network;          /* p2v-domxml --network, or NULL */
  const char *bridge;           /* p2v-domxml --bridge, or NULL */
  const char *type;             /* p2v-domxml --type, or NULL: auto */
  /* NICs that the guest's configuration names without a MAC get new ones
   * (p2v-fixup --new-macs): what p2v-convert does without an inventory.
   */
  bool new_macs;
  /* When *CANCEL (may be NULL) becomes non-zero (a signal handler sets
   * it), the running program is sent SIGINT, so that it stops and cleans
   * up as after a Ctrl-C, even when only we were signalled.
   */
  const volatile sig_atomic_t *cancel;
  bool quiet;                   /* no progress from the programs */
  /* Their stdout (progress) goes to our stderr: where our stdout is not
   * the user's (p2v-recv --stdio talks to the sender on it).
   */
  bool progress_to_stderr;
  int verbose;                  /* their -v, as many times */
};

/* p2v-fixup --target virt of JOB's images, writing JOB->report.  Returns
 * 0, or -1 with an error recorded.
 */
int convert_fixup (const struct convert_job *job);

/* p2v-domxml for JOB's images (and the fixup report, if there is one),
 * writing JOB->xml (replaced if it exists).  Returns 0, or -1 with an
 * error recorded.
 */
int convert_domxml (const struct convert_job *job);

#endif /* P2V_CONVERT_H */
