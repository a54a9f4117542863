/* p2vkit: make the calling thread unable to write to files or disks.
 *
 * Libraries that read disks do not all open them read-only: libparted
 * opens every disk read-write (and, on close, flushes it and opens its
 * partitions for writing), even when asked only to read the partition
 * table.  On a source disk that is not acceptable, and closing a disk
 * opened for writing makes udev re-read its partition table.  So code
 * that examines source disks runs in a thread of its own that has called
 * readonly_thread() first.
 *
 * From then on the kernel refuses that thread, and the threads and
 * processes it starts, any open() or openat() for writing, creating or
 * truncating (they fail with EROFS, and libparted falls back to reading),
 * truncate(), and the ioctls that change a block device (re-reading or
 * editing its partition table, flushing its buffers, setting it read-only,
 * discarding or zeroing blocks).  Descriptors opened before are not
 * affected.  This is a seccomp filter: it cannot be removed, and ends with
 * the thread.
 */
#ifndef P2V_READONLY_THREAD_H
#define P2V_READONLY_THREAD_H

/* Returns 0, or -1 with an error recorded (the kernel has no seccomp, or
 * the processor architecture is not one this file knows).
 */
int readonly_thread (void);

#endif /* P2V_READONLY_THREAD_H */
