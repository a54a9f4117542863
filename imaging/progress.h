/* p2vkit imaging engine: progress of long work.
 *
 * Three ways to show it, chosen by the program from its options and from
 * whether stderr is a terminal (progress_mode_for()):
 *
 *   PROGRESS_BAR       a bar on stderr, redrawn at most PROGRESS_BAR_HZ times
 *                      a second, with bytes, rate and time left;
 *   PROGRESS_MACHINE   lines on stdout for scripts, at most one a second
 *                      and one at the end:
 *                        progress LABEL DONE TOTAL
 *   PROGRESS_NONE      nothing.
 *
 * A struct progress belongs to the thread that updates it.
 */
#ifndef P2V_PROGRESS_H
#define P2V_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

enum progress_mode {
  PROGRESS_NONE,
  PROGRESS_BAR,
  PROGRESS_MACHINE,
};

#define PROGRESS_BAR_HZ 10

struct progress {
  enum progress_mode mode;
  const char *label;            /* not owned; must outlive the progress */
  uint64_t total;
  uint64_t done;
  struct timespec start;
  struct timespec last;         /* last redraw */
  bool drawn;                   /* something is on the terminal line */
};

/* --quiet wins, then --machine-readable, then a bar if stderr is a tty. */
enum progress_mode progress_mode_for (bool quiet, bool machine_readable);

void progress_start (struct progress *p, enum progress_mode mode,
                     const char *label, uint64_t total);

/* DONE bytes of TOTAL are done.  Cheap when called often. */
void progress_update (struct progress *p, uint64_t done);

/* Draw the final state and end the line. */
void progress_end (struct progress *p);

/* Seconds since progress_start(). */
double progress_elapsed (const struct progress *p);

#endif /* P2V_PROGRESS_H */
