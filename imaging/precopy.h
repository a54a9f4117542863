/* p2vkit imaging engine: pre-copy, the sending end of rounds.
 *
 * A server that cannot be down for the whole copy is copied while it
 * runs, the way KVM live migration copies memory: round 1 sends every
 * disk (or, where the receiver holds a copy already, only what differs
 * from it); each later round reads every disk again and sends only the
 * blocks whose XXH3-64 differs from the receiver's (stream-rounds.h).
 *
 * When to stop pre-copying, after each round from the second on:
 *
 *   - the blocks that round changed would take at most --max-downtime
 *     seconds at the measured bandwidth (the best rate of data sent in
 *     one round so far): the rest fits the downtime;
 *   - the round changed no fewer bytes than the one before: the source
 *     writes as fast as we send, and more rounds will not help;
 *   - --max-rounds rounds have run.
 *
 * Then, with --freeze, one final round with the source's filesystems
 * frozen (freeze.h), after which the receiver's copy is complete and
 * consistent; without it the copy stays a pre-copy, to be finished by
 * `p2v-send --resync` from the live system (the source quiesced: nothing
 * mounted), which runs the final round alone and sends only the blocks
 * that differ.  --resync also refreshes a copy made long ago.
 *
 * Before each round, the page cache of every source block device is
 * dropped: a mounted filesystem writes its data past the device's cache,
 * which would otherwise go on showing what an earlier round read.
 *
 * The figures (rounds, bytes and time of each, total time, downtime: the
 * final round's time from freeze to thaw) go on stderr (unless --quiet),
 * as `round` and `precopy` lines with --machine-readable, and to the
 * receiver, which puts them in the inventory.
 */
#ifndef P2V_PRECOPY_H
#define P2V_PRECOPY_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "source.h"
#include "stream-rounds.h"
#include "stream.h"
#include "wire.h"

#define PRECOPY_DEFAULT_MAX_DOWNTIME 30.0       /* seconds */
#define PRECOPY_DEFAULT_MAX_ROUNDS 30
/* Seconds the filesystems may stay frozen before the helper thaws them by
 * itself: the downtime allowed, times this, and at least the minimum.
 */
#define PRECOPY_FREEZE_TIMEOUT_FACTOR 10
#define PRECOPY_MIN_FREEZE_TIMEOUT 300

struct precopy_options {
  bool precopy;                 /* --precopy */
  bool resync;                  /* --resync */
  bool freeze;                  /* --freeze */
  double max_downtime;          /* --max-downtime, seconds */
  unsigned max_rounds;          /* --max-rounds */
  bool downtime_given, rounds_given;
};

/* The options p2v-send and v2p-send share, parsed in one place: put
 * PRECOPY_LONG_OPTIONS in the long options, and pass every option to
 * precopy_option() before the program's own.
 */
enum {
  PRECOPY_OPTION = CLI_FIRST_PROGRAM_OPTION + 100,
  RESYNC_OPTION,
  FREEZE_OPTION,
  MAX_DOWNTIME_OPTION,
  MAX_ROUNDS_OPTION,
};

/* clang-format off */
#define PRECOPY_LONG_OPTIONS                                                  \
  { "precopy", no_argument, NULL, PRECOPY_OPTION },                           \
  { "resync", no_argument, NULL, RESYNC_OPTION },                             \
  { "freeze", no_argument, NULL, FREEZE_OPTION },                             \
  { "max-downtime", required_argument, NULL, MAX_DOWNTIME_OPTION },           \
  { "max-rounds", required_argument, NULL, MAX_ROUNDS_OPTION }
/* clang-format on */

#define PRECOPY_HELP                                                           \
  "  --precopy              copy while the source runs, in rounds; later\n"    \
  "                         rounds send only the blocks that changed (see\n"   \
  "                         the man page for when rounds stop)\n"              \
  "  --max-downtime S       stop pre-copying when the changed blocks would\n"  \
  "                         take at most S seconds to send (default 30)\n"     \
  "  --max-rounds N         at most N pre-copy rounds (default 30)\n"          \
  "  --freeze               then freeze the source disks' mounted\n"           \
  "                         filesystems for one final round, and thaw them\n"  \
  "                         (without it, finish with --resync)\n"              \
  "  --resync               one final round that sends only what differs\n"    \
  "                         from the receiver's copy (from the live system,\n" \
  "                         after --precopy, or to refresh an old copy)\n"

/* Set the defaults. */
void precopy_defaults (struct precopy_options *p);

/* Handle option C (with ARG) if it is one of the above.  Returns 1 if it
 * was, 0 if not, -1 with an error recorded for a bad value.
 */
int precopy_option (struct precopy_options *p, int c, const char *arg);

/* Check the options together, for a stream to TO.  Returns 0, or -1 with
 * an error recorded.
 */
int precopy_check (const struct precopy_options *p, const char *to);

/* Does P ask for rounds at all? */
bool precopy_wanted (const struct precopy_options *p);

/* The sender's side of one stream_send() call (stream-send.c calls it). */
struct stream_send_options;
struct stream_sink_stats;

/* Run the rounds over W for the N sources SRC (opened from PATHS) of
 * HELLO H, the first round resuming where the WELCOME's RESUME says.
 * Returns 0, or -1 with an error recorded; the filesystems are thawed
 * either way.
 */
int precopy_run (struct wire *w, const struct stream_send_options *opts,
                 struct source *const *src, char *const *paths,
                 const struct stream_hello *h, const uint64_t *resume,
                 struct stream_sink_stats *stats);

#endif /* P2V_PRECOPY_H */
