/* p2vkit imaging engine: output files that appear only when complete.
 *
 * An output NAME is written as NAME.part and renamed to NAME by
 * file_commit() once everything is in it, so a reader never sees a
 * half-written NAME.  A stale NAME.part from an interrupted run is
 * replaced.
 */
#ifndef P2V_FILE_H
#define P2V_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "sink.h"

#define FILE_PART_SUFFIX ".part"

/* Create PATH.part for writing.  Fails if PATH exists and FORCE is false.
 * If PATH is a symbolic link, the file it points to is the one replaced.
 * Returns the descriptor and sets *FINAL_PATH (where file_commit() must
 * rename to) and *TMP_PATH (both owned by the caller), or returns -1 with
 * an error recorded.
 */
int file_create_temp (const char *path, bool force, char **final_path,
                      char **tmp_path);

/* Flush (when OPTS->sync), close FD and rename TMP_PATH to PATH, refusing
 * to replace a PATH that appeared meanwhile unless OPTS->force.  FD is
 * closed whatever happens.  Returns 0, or -1 with an error recorded.
 */
int file_commit (int fd, const char *tmp_path, const char *path,
                 const struct sink_options *opts);

/* Make the directory entry of PATH durable: fsync its directory.
 * Returns 0, or -1 with an error recorded.
 */
int file_sync_dir (const char *path);

/* pwrite all of BUF, retrying short writes and EINTR.  Returns 0, or -1
 * with an error recorded ("write at offset N: why").
 */
int file_pwrite_all (int fd, const void *buf, size_t len, uint64_t offset);

/* Do paths A and B name the same file or block device? False when either
 * does not exist.
 */
bool file_same (const char *a, const char *b);

/* Map LEN bytes of FD at OFFSET (any alignment) read-only, populated in
 * one go.  Returns 0 with *ADDR set, or -1 (nothing recorded: callers fall
 * back to pread, which reports real errors).  Release with file_unmap().
 */
int file_map (int fd, uint64_t offset, size_t len, const void **addr);
void file_unmap (const void *addr, size_t len);

#endif /* P2V_FILE_H */
