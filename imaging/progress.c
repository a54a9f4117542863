/* p2vkit imaging engine: progress of long work (see progress.h). */
#include "progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "size.h"

#define BAR_WIDTH 30
#define MACHINE_INTERVAL 1.0    /* seconds between machine-readable lines */

static double
seconds_between (const struct timespec *a, const struct timespec *b)
{
  return (double) (b->tv_sec - a->tv_sec)
    + (double) (b->tv_nsec - a->tv_nsec) / 1e9;
}

enum progress_mode
progress_mode_for (bool quiet, bool machine_readable)
{
  if (quiet)
    return PROGRESS_NONE;
  if (machine_readable)
    return PROGRESS_MACHINE;
  if (isatty (STDERR_FILENO))
    return PROGRESS_BAR;
  return PROGRESS_NONE;
}

void
progress_start (struct progress *p, enum progress_mode mode, const char *label,
                uint64_t total)
{
  memset (p, 0, sizeof *p);
  p->mode = mode;
  p->label = label;
  p->total = total;
  clock_gettime (CLOCK_MONOTONIC, &p->start);
  p->last = p->start;
}

double
progress_elapsed (const struct progress *p)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  return seconds_between (&p->start, &now);
}

static void
draw_bar (struct progress *p, double elapsed, bool final)
{
  char done[SIZE_HUMAN_MAX], total[SIZE_HUMAN_MAX], rate[SIZE_HUMAN_MAX];
  char bar[BAR_WIDTH + 1];
  double frac = p->total ? (double) p->done / (double) p->total : 1.0;
  int filled = (int) (frac * BAR_WIDTH);
  double bps = elapsed > 0 ? (double) p->done / elapsed : 0;
  char eta[32] = "";

  memset (bar, '#', filled);
  memset (bar + filled, ' ', BAR_WIDTH - filled);
  bar[BAR_WIDTH] = '\0';
  size_human (p->done, done);
  size_human (p->total, total);
  size_human ((uint64_t) bps, rate);
  if (final)
    snprintf (eta, sizeof eta, "in %.1fs", elapsed);
  else if (bps > 0) {
    unsigned left = (unsigned) ((double) (p->total - p->done) / bps);
    snprintf (eta, sizeof eta, "ETA %u:%02u", left / 60, left % 60);
  }
  fprintf (stderr, "\r%s %3d%% [%s] %s/%s %s/s %s\033[K", p->label,
           (int) (frac * 100), bar, done, total, rate, eta);
  if (final)
    fputc ('\n', stderr);
  fflush (stderr);
  p->drawn = !final;
}

static void
draw (struct progress *p, bool final)
{
  struct timespec now;
  double since;

  if (p->mode == PROGRESS_NONE)
    return;
  clock_gettime (CLOCK_MONOTONIC, &now);
  since = seconds_between (&p->last, &now);
  if (!final) {
    if (p->mode == PROGRESS_BAR && since < 1.0 / PROGRESS_BAR_HZ)
      return;
    if (p->mode == PROGRESS_MACHINE && since < MACHINE_INTERVAL)
      return;
  }
  p->last = now;
  if (p->mode == PROGRESS_BAR)
    draw_bar (p, seconds_between (&p->start, &now), final);
  else {
    printf ("progress %s %" PRIu64 " %" PRIu64 "\n", p->label, p->done,
            p->total);
    fflush (stdout);
  }
}

void
progress_update (struct progress *p, uint64_t done)
{
  /* The last block may be padded past the total: never show over 100%. */
  p->done = done < p->total ? done : p->total;
  draw (p, false);
}

void
progress_end (struct progress *p)
{
  draw (p, true);
}
