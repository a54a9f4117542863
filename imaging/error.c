/* p2vkit imaging engine: error reporting (see error.h). */
#include "error.h"

#include <stdio.h>
#include <string.h>

/* Long enough for a path and an explanation; longer messages are cut. */
#define ERROR_MAX 1024

static __thread char message[ERROR_MAX];

static void
record (const char *fmt, va_list ap)
{
  vsnprintf (message, sizeof message, fmt, ap);
}

int
error (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  record (fmt, ap);
  va_end (ap);
  return -1;
}

int
error_errno (int errnum, const char *fmt, ...)
{
  va_list ap;
  size_t len;

  va_start (ap, fmt);
  record (fmt, ap);
  va_end (ap);
  len = strlen (message);
  snprintf (message + len, sizeof message - len, ": %s", strerror (errnum));
  return -1;
}

int
error_prefix (const char *fmt, ...)
{
  char prefix[ERROR_MAX];
  size_t plen, mlen;
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (prefix, sizeof prefix - 2, fmt, ap);
  va_end (ap);
  strcat (prefix, ": ");
  plen = strlen (prefix);
  mlen = strlen (message);
  /* Shift the message right and put the prefix in front, cutting the end
   * if the two do not fit.
   */
  if (plen + mlen >= sizeof message)
    mlen = sizeof message - 1 - plen;
  memmove (message + plen, message, mlen);
  message[plen + mlen] = '\0';
  memcpy (message, prefix, plen);
  return -1;
}

const char *
error_message (void)
{
  return message;
}

void
error_set_message (const char *msg)
{
  snprintf (message, sizeof message, "%s", msg);
}
