/* p2vkit imaging engine: sizes for people and from people.
 *
 *   size_human (1536, buf)        ->  "1.5 KiB"
 *   size_parse ("64K", &n)        ->  n = 65536
 */
#ifndef P2V_SIZE_H
#define P2V_SIZE_H

#include <stdint.h>

#define SIZE_HUMAN_MAX 16       /* "1023.9 KiB" and the NUL fit */

/* Write a short human-readable form of N into BUF.  Returns BUF. */
char *size_human (uint64_t n, char buf[SIZE_HUMAN_MAX]);

/* Parse a number with an optional binary suffix (K, M, G, T, with or
 * without "iB"), e.g. "64K" or "2M".  Returns 0, or -1 with an error
 * recorded for anything else (negative, overflowing, trailing junk).
 */
int size_parse (const char *s, uint64_t *n);

#endif /* P2V_SIZE_H */
