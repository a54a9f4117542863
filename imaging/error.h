/* p2vkit imaging engine: error reporting.
 *
 * Library code never prints and never exits.  A function that fails
 * records one message with error() or error_errno() and returns -1 (or
 * NULL); the caller may add context with error_prefix().  Only main()
 * prints, with the program name in front:
 *
 *   p2v-send: disk.raw: read at offset 4096: Input/output error
 *
 * The message is kept per thread, so worker threads may fail on their own
 * without disturbing each other.
 */
#ifndef P2V_ERROR_H
#define P2V_ERROR_H

#include <stdarg.h>

/* Record a message (printf format) and return -1. */
int error (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* Record "message: strerror(errnum)" and return -1. */
int error_errno (int errnum, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

/* Put "prefix: " in front of the message recorded last, keeping it.
 * Returns -1 so it can end a failing path.
 */
int error_prefix (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* The message recorded last in this thread ("" if none).  Valid until the
 * next call to error*() in the same thread.
 */
const char *error_message (void);

/* Move a message recorded in another thread into this one. */
void error_set_message (const char *msg);

#endif /* P2V_ERROR_H */
