/* p2vkit imaging engine: network addresses as people write them (see
 * address.h).
 */
#include "address.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

/* What each form accepts, for messages. */
static const char *const expected[] = {
  [ADDRESS_HOST_PORT] = "HOST:PORT",
  [ADDRESS_LISTEN] = "[ADDR:]PORT",
  [ADDRESS_HOST] = "HOST[:PORT]",
};

/* Check PORT and write it, without leading zeros, to A->port.  Port 0 is
 * taken only when ZERO_OK.
 */
static int
set_port (struct address *a, const char *port, bool zero_ok)
{
  unsigned long v = 0;
  const char *p;

  if (port[0] == '\0' || port[strspn (port, "0123456789")] != '\0')
    return error ("port '%s' is not a number", port);
  /* Stop early: no overflow, however many digits. */
  for (p = port; *p && v <= ADDRESS_PORT_MAX; p++)
    v = v * 10 + (unsigned long) (*p - '0');
  if (v > ADDRESS_PORT_MAX || (v == 0 && !zero_ok))
    return error ("port '%s' is out of range (%d to %d)", port, zero_ok ? 0 : 1,
                  ADDRESS_PORT_MAX);
  snprintf (a->port, sizeof a->port, "%lu", v);
  return 0;
}

/* Check the LEN bytes of HOST and copy them to A->host. */
static int
set_host (struct address *a, const char *host, size_t len)
{
  size_t i;

  if (len > ADDRESS_HOST_MAX)
    return error ("host name too long (the limit is %d bytes)",
                  ADDRESS_HOST_MAX);
  for (i = 0; i < len; i++)
    if ((unsigned char) host[i] <= ' ' || host[i] == 0x7f || host[i] == '['
        || host[i] == ']')
      return error ("'%.*s' is not a host name or address", (int) len, host);
  memcpy (a->host, host, len);
  a->host[len] = '\0';
  return 0;
}

int
address_parse (const char *spec, enum address_form form, struct address *a)
{
  const char *host = spec, *host_end, *port = NULL, *colon;
  bool need_host = form != ADDRESS_LISTEN;

  a->host[0] = a->port[0] = '\0';

  if (spec[0] == '\0')
    return error ("expected %s", expected[form]);
  if (spec[0] == '[') {
    /* "[v6]" and "[v6]:PORT". */
    host = spec + 1;
    host_end = strchr (host, ']');
    if (host_end == NULL)
      return error ("no ']' after the IPv6 address");
    if (host_end == host)
      return error ("no address between '[' and ']'");
    if (host_end[1] == ':')
      port = host_end + 2;
    else if (host_end[1] != '\0')
      return error ("expected ':' after ']', then the port");
  }
  else {
    colon = strrchr (spec, ':');
    if (colon) {
      host_end = colon;
      port = colon + 1;
    }
    else if (form == ADDRESS_LISTEN) {
      /* A lone "PORT". */
      host_end = spec;
      port = spec;
    }
    else
      host_end = spec + strlen (spec);
    if (memchr (spec, ':', host_end - spec) != NULL)
      return error ("an IPv6 address goes in brackets: [ADDR]:PORT");
  }

  if (need_host && host_end == host)
    return error ("expected %s: no host", expected[form]);
  if (port == NULL && form != ADDRESS_HOST)
    return error ("expected %s: no port", expected[form]);
  if (port && port[0] == '\0')
    return error ("expected %s: no port after ':'", expected[form]);
  if (set_host (a, host, host_end - host) == -1)
    return -1;
  if (port && set_port (a, port, form == ADDRESS_LISTEN) == -1)
    return -1;
  return 0;
}
