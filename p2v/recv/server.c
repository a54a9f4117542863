/* p2v-recv: listening for senders.  Each connection is served by a child
 * process of its own, so that senders run side by side and one that fails
 * (or lies) cannot disturb another.
 */
#include "recv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "address.h"
#include "error.h"

#define LISTEN_BACKLOG 16

extern volatile sig_atomic_t recv_interrupted;

/* Parse "[ADDR:]PORT" and bind a listening socket. */
static int
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

static void
peer_name (const struct sockaddr_storage *ss, socklen_t len, char *out,
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

/* Collect finished children, saying how each went.  Returns how many. */
static unsigned
reap (bool verbose)
{
  unsigned n = 0;
  int status;
  pid_t pid;

  while ((pid = waitpid (-1, &status, WNOHANG)) > 0) {
    n++;
    if (verbose)
      fprintf (stderr, "p2v-recv: session %d ended with status %d\n", (int) pid,
               WIFEXITED (status) ? WEXITSTATUS (status) : -1);
  }
  return n;
}

/* Too many senders at once: tell this one, briefly, and let it go. */
static void
refuse_busy (int fd, const char *peer)
{
  struct wire w;

  if (wire_init (&w, fd, fd, peer) == -1)
    return;
  w.timeout = 1;
  stream_send_error (&w,
                     "the receiver is busy with other senders: try "
                     "again later");
  wire_free (&w);
}

int
recv_listen (const struct recv_options *opts)
{
  char shown[NI_MAXHOST + NI_MAXSERV + 2], peer[NI_MAXHOST + NI_MAXSERV + 2];
  struct sockaddr_storage ss;
  socklen_t len;
  int lfd, cfd, ret = -1;
  unsigned sessions = 0;
  bool told;
  pid_t pid;

  lfd = listen_on (opts->listen, shown, sizeof shown);
  if (lfd == -1)
    return -1;
  if (opts->cli.machine_readable)
    printf ("listening %s\n", shown);
  fprintf (stderr, "p2v-recv: listening on %s, writing to %s\n", shown,
           opts->out);
  fflush (stdout);

  while (!recv_interrupted) {
    len = sizeof ss;
    cfd = accept4 (lfd, (struct sockaddr *) &ss, &len, SOCK_CLOEXEC);
    if (cfd == -1) {
      if (errno == EINTR) {
        sessions -= reap (opts->cli.verbose);
        continue;
      }
      error_errno (errno, "accept");
      goto out;
    }
    peer_name (&ss, len, peer, sizeof peer);
    sessions -= reap (opts->cli.verbose);
    if (sessions >= RECV_MAX_SESSIONS) {
      refuse_busy (cfd, peer);
      close (cfd);
      continue;
    }
    if (opts->once) {
      ret = recv_session (opts, cfd, cfd, peer, true, &told);
      close (cfd);
      goto out;
    }
    pid = fork ();
    if (pid == -1) {
      error_errno (errno, "fork");
      close (cfd);
      goto out;
    }
    if (pid == 0) {
      close (lfd);
      if (recv_session (opts, cfd, cfd, peer, true, &told) == -1) {
        fprintf (stderr, "%s: %s\n", opts->cli.prog, error_message ());
        _exit (EXIT_FAILURE);
      }
      _exit (EXIT_SUCCESS);
    }
    close (cfd);
    sessions++;
  }
  error ("interrupted");

out:
  close (lfd);
  return ret;
}
