/* v2p: running the programs that grow filesystems (e2fsck, resize2fs,
 * xfs_growfs, mkswap, pvresize).
 *
 * A program runs with stdin on /dev/null and its stdout and stderr
 * captured: with VERBOSE they are passed on to our stderr as they come;
 * when it fails, the last line it wrote becomes the error, so that the
 * user sees one line that says why.  Programs are looked for in PATH,
 * then in /usr/sbin and /sbin (a user's PATH may lack them).
 *
 * Not thread-safe (fork).
 */
#ifndef V2P_RUN_H
#define V2P_RUN_H

#include <stdbool.h>

/* What is kept of the last line a program writes. */
#define RUN_LINE_MAX 512

/* Run ARGV.  Returns its exit status (0 to 255): on a non-zero one, the
 * error recorded is "ARGV[0]: ITS LAST LINE" (or "ARGV[0]: exit status
 * N").  Returns -1 with an error recorded if it could not run or was
 * killed by a signal.
 */
int run_command (char *const argv[], bool verbose);

/* Run FN (ARG) in a child process whose stdout and stderr are captured as
 * above (WHAT names it in messages; FN's return value is its exit
 * status).  The child may run programs with run_exec().  Returns as
 * run_command() does.
 */
int run_child (const char *what, int (*fn) (void *arg), void *arg,
               bool verbose);

/* In a child of run_child(): run ARGV there, with the same stdout and
 * stderr, and wait for it.  Returns its exit status, or 127 if it could
 * not run (having said why on stderr).
 */
int run_exec (char *const argv[]);

#endif /* V2P_RUN_H */
