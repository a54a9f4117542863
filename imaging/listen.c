/* p2vkit imaging engine: listening for senders (see listen.h). */
#include "listen.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "address.h"
#include "error.h"

#define LISTEN_BACKLOG 16

int
listen_on (const char *spec, char *shown, size_t shown_len)
{
  struct addrinfo hints = {
    .ai_socktype = SOCK_STREAM,
    .ai_flags = AI_PASSIVE,
  };
  struct addrinfo *res = NULL, *ai;
  struct sockaddr_storage ss;
  socklen_t sslen = sizeof ss;
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  struct address a;
  int fd = -1, one = 1, r;

  if (address_parse (spec, ADDRESS_LISTEN, &a) == -1)
    return error_prefix ("--listen: '%s'", spec);
  r = getaddrinfo (a.host[0] ? a.host : NULL, a.port, &hints, &res);
  if (r != 0)
    return error ("--listen: %s: %s", a.host, gai_strerror (r));
  for (ai = res; ai; ai = ai->ai_next) {
    fd
      = socket (ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd == -1)
      continue;
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind (fd, ai->ai_addr, ai->ai_addrlen) == 0
        && listen (fd, LISTEN_BACKLOG) == 0)
      break;
    r = errno;
    close (fd);
    fd = -1;
    errno = r;
  }
  freeaddrinfo (res);
  if (fd == -1)
    return error_errno (errno, "--listen: %s", a.port);
  if (getsockname (fd, (struct sockaddr *) &ss, &sslen) == 0
      && getnameinfo ((struct sockaddr *) &ss, sslen, host, sizeof host, serv,
                      sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV)
        == 0)
    snprintf (shown, shown_len, "%s:%s", host, serv);
  else
    snprintf (shown, shown_len, "port %s", a.port);
  return fd;
}

void
listen_peer_name (const struct sockaddr_storage *ss, socklen_t len, char *out,
                  size_t out_len)
{
  char host[NI_MAXHOST], serv[NI_MAXSERV];

  if (getnameinfo ((const struct sockaddr *) ss, len, host, sizeof host, serv,
                   sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV)
      == 0)
    snprintf (out, out_len, "%s:%s", host, serv);
  else
    snprintf (out, out_len, "a sender");
}
