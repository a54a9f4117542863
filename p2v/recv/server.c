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

#include "error.h"
#include "listen.h"

extern volatile sig_atomic_t recv_interrupted;

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
  char shown[LISTEN_NAME_MAX], peer[LISTEN_NAME_MAX];
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
    listen_peer_name (&ss, len, peer, sizeof peer);
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
