/* v2p-recv: listening for senders, one at a time: the disks are one
 * machine's, and a second sender could only overwrite the first.
 */
#include "recv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"
#include "listen.h"

/* Say how a session that is not the last ended, and go on. */
static void
carry_on (const struct recv_options *opts, const char *then)
{
  fprintf (stderr, "%s: %s%s\n", opts->cli.prog, error_message (), then);
}

int
recv_serve (struct receiver *rc, int lfd, const char *shown)
{
  const struct recv_options *opts = rc->opts;
  char peer[LISTEN_NAME_MAX];
  struct sockaddr_storage ss;
  enum session_end end;
  socklen_t len;
  int cfd, ret = -1;
  size_t i;
  bool told;

  if (opts->cli.machine_readable)
    printf ("listening %s\n", shown);
  fflush (stdout);
  fprintf (stderr, "%s: listening on %s, writing to", opts->cli.prog, shown);
  for (i = 0; i < opts->n_disks; i++)
    fprintf (stderr, " %s", opts->disks[i]);
  fprintf (stderr, "\n");

  while (!recv_interrupted) {
    len = sizeof ss;
    cfd = accept4 (lfd, (struct sockaddr *) &ss, &len, SOCK_CLOEXEC);
    if (cfd == -1) {
      if (errno == EINTR)
        continue;
      error_errno (errno, "accept");
      goto out;
    }
    listen_peer_name (&ss, len, peer, sizeof peer);
    end = recv_session (rc, cfd, cfd, peer, true, &told);
    close (cfd);
    switch (end) {
    case SESSION_DONE:
      if (opts->once) {
        ret = 0;
        goto out;
      }
      /* The next sender writes the disks again: they must still be free. */
      if (recv_open_disks (rc) == -1)
        goto out;
      fprintf (stderr, "%s: waiting for the next sender\n", opts->cli.prog);
      break;
    case SESSION_PRECOPY:
      /* Even with --once: the final round is still to come. */
      break;
    case SESSION_UNKNOWN:
      /* Not the sender we wait for (a wrong token, a port scan). */
      carry_on (opts, "");
      break;
    case SESSION_BROKEN:
      carry_on (opts, ": waiting for the sender to resume");
      break;
    case SESSION_REFUSED:
    case SESSION_FAILED:
      if (opts->once || recv_interrupted)
        goto out;
      carry_on (opts, "");
      /* A failed grow let the disks go. */
      if (rc->targets[0].fd == -1 && recv_open_disks (rc) == -1)
        goto out;
      break;
    }
  }
  error ("interrupted");

out:
  return ret;
}
