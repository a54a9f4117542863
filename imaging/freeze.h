/* p2vkit imaging engine: freezing the filesystems of the source disks.
 *
 * The final round of a pre-copy (precopy.h) reads the source disks with
 * their mounted filesystems frozen (FIFREEZE, as fsfreeze(8) does): every
 * write to them waits, and what is on the disks is a consistent state of
 * each filesystem.  The filesystems are those mounted from the disks
 * themselves, from their partitions, and from whatever holds those
 * (device-mapper, LVM, RAID), found through sysfs and mountinfo.
 *
 * Freezing and thawing are done by a helper process, forked when the
 * freezer is made, that holds a directory of each filesystem open and
 * takes orders on a pipe.  Whatever ends the program, even SIGKILL, the
 * pipe closes and the helper thaws everything it froze, then exits; it
 * ignores the signals a terminal sends the whole process group.  It also
 * thaws by itself after TIMEOUT seconds frozen, so that a program stuck
 * (on a write to a frozen filesystem, say) cannot keep the machine frozen;
 * freezer_thaw() then fails, as the source was not frozen all along.
 *
 * The program must not write to a frozen filesystem (its output, its
 * logs): the writes would wait until the timeout.
 *
 * Thread use: one thread.
 */
#ifndef P2V_FREEZE_H
#define P2V_FREEZE_H

#include <stddef.h>

struct freezer;

/* Find the filesystems mounted from the N disks at PATHS (sources that are
 * not block devices have none) and start the helper.  Returns the freezer
 * (possibly with no filesystem at all), or NULL with an error recorded.
 */
struct freezer *freezer_new (char *const *paths, size_t n, unsigned timeout);

/* The number of filesystems, and where the Ith is mounted. */
size_t freezer_count (const struct freezer *fz);
const char *freezer_mount (const struct freezer *fz, size_t i);

/* Freeze them all, or none (those frozen are thawed again on failure).
 * Returns 0, or -1 with an error recorded.
 */
int freezer_freeze (struct freezer *fz);

/* Thaw them all.  Returns 0, or -1 with an error recorded (the helper had
 * thawed them at the timeout, or is gone).
 */
int freezer_thaw (struct freezer *fz);

/* Thaw (if frozen) and stop the helper.  Never fails. */
void freezer_free (struct freezer *fz);

#endif /* P2V_FREEZE_H */
