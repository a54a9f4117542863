/* p2vkit imaging engine: changing blocks of an existing qcow2 image in
 * place.
 *
 * The streaming writer (qcow2-write.c) lays an image out once, front to
 * back.  A pre-copy round (precopy.h) then changes a few blocks here and
 * there of the image the receiver keeps: qcow2_patch_open() gives a sink
 * whose write() and zero() may skip any range (what they skip keeps its
 * content) as long as their offsets increase.
 *
 *   - A cluster already allocated (refcount 1: the COPIED flag) is
 *     overwritten where it lies; zeroing a whole one punches a hole in the
 *     file (the cluster stays allocated, and reads as zeros).
 *   - An unallocated or zero cluster that gets data is appended at the end
 *     of the file, with its refcount and, when its L2 table does not exist,
 *     a new L2 table; a window of clusters with no refcount block gets one,
 *     at its own first free cluster.  A refcount table with no room for a
 *     new window is moved to the end of the file, twice as large, with the
 *     refcount blocks its own clusters need, and the old one freed.
 *   - Images it cannot change in place are refused with one line: other
 *     than versions 2 and 3, a backing or external data file, encryption,
 *     snapshots, the dirty or corrupt bit, extended L2 entries, other than
 *     16-bit refcounts; and a compressed or shared cluster that a write
 *     touches.
 *
 * Every change is written through to the file (data, then refcounts, then
 * the L2 and L1 entries that point to it, so an interruption leaks at
 * worst a cluster); finish() flushes it.  The image stays a valid qcow2
 * that `qemu-img check` passes after every finish().
 *
 * Thread use: one sink, one thread.
 */
#ifndef P2V_QCOW2_PATCH_H
#define P2V_QCOW2_PATCH_H

#include <stdint.h>

#include "sink.h"

/* Open the qcow2 image at PATH (of SIZE bytes of disk, rounded up to
 * whole sectors as the writer does) for changes in place.  Returns a sink
 * (its finish() flushes, its free() closes; the file stays either way),
 * or NULL with an error recorded.
 */
struct sink *qcow2_patch_open (const char *path, uint64_t size);

#endif /* P2V_QCOW2_PATCH_H */
