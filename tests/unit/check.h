/* The checks of the unit test programs in tests/unit/.
 *
 *   CHECK (size_parse ("64K", &n) == 0 && n == 65536);
 *   if (strcmp (got, want) != 0)
 *     check_fail ("%s: got '%s', wanted '%s'", name, got, want);
 *   ...
 *   return check_exit ();
 *
 * A failed check prints one line on stderr and is counted; the program
 * goes on with the next check, so that one run shows every failure.
 * check_exit() ends main(): it prints the count and returns the exit
 * status, 0 if every check passed, 1 otherwise.
 *
 * Each test program is a single .c file that includes this header, so the
 * count is a static variable here.  Checks run in the main thread only.
 */
#ifndef P2V_TESTS_CHECK_H
#define P2V_TESTS_CHECK_H

#include <stdarg.h>
#include <stdio.h>

/* How many checks failed so far. */
static int failures;

/* Count a failure and print its description (printf format; the newline
 * is added).
 */
static inline void check_fail (const char *fmt, ...)
  __attribute__ ((format (printf, 1, 2)));

static inline void
check_fail (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  failures++;
}

/* Check that COND holds; if not, say where and what. */
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond))                                                               \
      check_fail ("%s:%d: check failed: %s", __FILE__, __LINE__, #cond);       \
  } while (0)

/* The end of main(): "all checks passed" on stdout and 0, or "N checks
 * failed" on stderr and 1.
 */
static inline int
check_exit (void)
{
  if (failures) {
    fprintf (stderr, "%d checks failed\n", failures);
    return 1;
  }
  printf ("all checks passed\n");
  return 0;
}

#endif /* P2V_TESTS_CHECK_H */
