/* p2vkit imaging engine: the sending end of the stream protocol (see
 * stream-send.h and, for the protocol, stream.h).
 */
#include "stream-send.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "address.h"
#include "copy.h"
#include "error.h"
#include "parttable.h"
#include "precopy.h"
#include "progress.h"
#include "qcow2.h"
#include "stream-sink.h"
#include "stream.h"

/* Seconds a read or write on the connection may stall. */
#define NET_TIMEOUT 300
/* The longest "[USER@]HOST[:PORT]" of an ssh destination. */
#define SSH_HOSTPORT_MAX 511

struct connection {
  int rfd, wfd;                 /* -1 when not open */
  pid_t ssh;                    /* the ssh child, or 0 */
  char peer[256];
  bool oneway;                  /* to stdout: no answers */
};

/* "tcp://HOST:PORT": HOST may be [v6]. */
static int
connect_tcp (struct connection *c, const char *dest)
{
  struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
  struct address a;
  int fd = -1, r;

  if (address_parse (dest + strlen ("tcp://"), ADDRESS_HOST_PORT, &a) == -1)
    return error_prefix ("--to: '%s'", dest);
  r = getaddrinfo (a.host, a.port, &hints, &res);
  if (r != 0)
    return error ("%s: %s", dest, gai_strerror (r));
  for (ai = res; ai; ai = ai->ai_next) {
    fd
      = socket (ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd == -1)
      continue;
    if (connect (fd, ai->ai_addr, ai->ai_addrlen) == 0)
      break;
    r = errno;
    close (fd);
    fd = -1;
    errno = r;
  }
  freeaddrinfo (res);
  if (fd == -1)
    return error_errno (errno, "%s: connect", dest);
  c->rfd = c->wfd = fd;
  snprintf (c->peer, sizeof c->peer, "%s", dest);
  return 0;
}

/* "ssh://[USER@]HOST[:PORT]/PATH": run the receiver's command for PATH
 * (OPTS->remote_command) on HOST.
 */
static int
connect_ssh (struct connection *c, const struct stream_send_options *opts)
{
  const char *dest = opts->to;
  const char *spec = dest + strlen ("ssh://");
  const char *slash = strchr (spec, '/');
  char hostport[SSH_HOSTPORT_MAX + 1], *host, *user = NULL;
  char *cmd = NULL;
  const char *argv[16];
  struct address a;
  int to_ssh[2] = { -1, -1 }, from_ssh[2] = { -1, -1 };
  int argc = 0, ret = -1;
  pid_t pid;

  if (slash == NULL || slash == spec || slash[1] == '\0'
      || (size_t) (slash - spec) >= sizeof hostport)
    return error ("--to: '%s': expected ssh://[USER@]HOST[:PORT]/PATH", dest);
  memcpy (hostport, spec, slash - spec);
  hostport[slash - spec] = '\0';
  if ((host = strchr (hostport, '@')) != NULL) {
    *host++ = '\0';
    user = hostport;
  }
  else
    host = hostport;
  if (address_parse (host, ADDRESS_HOST, &a) == -1)
    return error_prefix ("--to: '%s'", dest);

  cmd = opts->remote_command (slash, opts->arg);
  if (cmd == NULL)
    return error_prefix ("--to: '%s'", dest);

  argv[argc++] = "ssh";
  argv[argc++] = "-o";
  argv[argc++] = "BatchMode=yes";
  if (a.port[0]) {
    argv[argc++] = "-p";
    argv[argc++] = a.port;
  }
  if (user) {
    argv[argc++] = "-l";
    argv[argc++] = user;
  }
  argv[argc++] = "--";
  argv[argc++] = a.host;
  argv[argc++] = cmd;
  argv[argc] = NULL;

  if (pipe2 (to_ssh, O_CLOEXEC) == -1 || pipe2 (from_ssh, O_CLOEXEC) == -1) {
    error_errno (errno, "pipe");
    goto out;
  }
  pid = fork ();
  if (pid == -1) {
    error_errno (errno, "fork");
    goto out;
  }
  if (pid == 0) {
    dup2 (to_ssh[0], STDIN_FILENO);
    dup2 (from_ssh[1], STDOUT_FILENO);
    execvp ("ssh", (char **) argv);
    fprintf (stderr, "%s: ssh: %s\n", opts->cli->prog, strerror (errno));
    _exit (EXIT_FAILURE);
  }
  c->ssh = pid;
  c->wfd = to_ssh[1];
  c->rfd = from_ssh[0];
  to_ssh[1] = from_ssh[0] = -1;
  snprintf (c->peer, sizeof c->peer, "%s", dest);
  ret = 0;

out:
  if (to_ssh[0] >= 0)
    close (to_ssh[0]);
  if (to_ssh[1] >= 0)
    close (to_ssh[1]);
  if (from_ssh[0] >= 0)
    close (from_ssh[0]);
  if (from_ssh[1] >= 0)
    close (from_ssh[1]);
  free (cmd);
  return ret;
}

static void
disconnect (struct connection *c)
{
  int status;

  if (c->wfd >= 0 && c->wfd != c->rfd && c->wfd != STDOUT_FILENO)
    close (c->wfd);
  if (c->rfd >= 0)
    close (c->rfd);
  c->rfd = c->wfd = -1;
  if (c->ssh > 0)
    waitpid (c->ssh, &status, 0);
  c->ssh = 0;
}

void
stream_disk_name (const char *path, char name[STREAM_MAX_NAME + 1])
{
  static const char *const endings[] = { ".qcow2", ".raw", ".img" };
  const char *base = strrchr (path, '/');
  size_t n, i;

  base = base ? base + 1 : path;
  snprintf (name, STREAM_MAX_NAME + 1, "%s", base);
  for (i = 0; i < sizeof endings / sizeof endings[0]; i++) {
    n = strlen (name);
    if (n > strlen (endings[i])
        && strcmp (name + n - strlen (endings[i]), endings[i]) == 0)
      name[n - strlen (endings[i])] = '\0';
  }
  for (i = 0; name[i]; i++)
    if (!stream_name_char_ok (name[i]))
      name[i] = '_';
  if (name[0] == '\0' || name[0] == '.' || name[0] == '-')
    name[0] = 'd';
}

/* Does one of the first N disks of H have NAME? */
static bool
name_taken (const struct stream_hello *h, uint32_t n, const char *name)
{
  uint32_t j;

  for (j = 0; j < n; j++)
    if (strcmp (h->disks[j].name, name) == 0)
      return true;
  return false;
}

/* The machine's name: --name, or the host name. */
static int
machine_name (const struct stream_send_options *opts,
              char name[STREAM_MAX_NAME + 1])
{
  char host[256];

  if (opts->name) {
    if (!stream_name_ok (opts->name))
      return error ("--name: '%s': use 1-%d of A-Z a-z 0-9 . _ -, not "
                    "starting with . or -",
                    opts->name, STREAM_MAX_NAME);
    snprintf (name, STREAM_MAX_NAME + 1, "%s", opts->name);
    return 0;
  }
  if (gethostname (host, sizeof host) == -1)
    return error_errno (errno, "gethostname");
  host[sizeof host - 1] = '\0';
  host[strcspn (host, ".")] = '\0';     /* the short name */
  if (!stream_name_ok (host))
    return error ("host name '%s' cannot name the machine: use --name", host);
  memcpy (name, host, strlen (host) + 1);
  return 0;
}

/* The partition table of SRC into D's HELLO entry: a receiver writing
 * onto a smaller disk needs to know how much of it matters.
 */
static int
describe_disk (struct source *src, struct stream_disk *d)
{
  struct parttable pt;

  if (parttable_probe_source (src, &pt) == -1)
    return -1;
  d->table = pt.type;
  d->sector_size = pt.sector_size;
  /* The sector padding (cli_disk_size) is zeros: not needed. */
  d->needed = pt.needed < d->size ? pt.needed : d->size;
  if (pt.type == PARTTABLE_NONE)
    d->needed = d->size;
  return 0;
}

bool
stream_send_dest_ok (const char *to)
{
  return strcmp (to, "-") == 0 || strncmp (to, "tcp://", 6) == 0
    || strncmp (to, "ssh://", 6) == 0;
}

/* The receiver's next frame into *F; its ERROR, or its going away, is
 * an error.
 */
static int
recv_reply (struct wire *w, const struct connection *c, struct frame *f)
{
  int r = wire_recv (w, f);

  if (r == 0)
    return error ("%s: the receiver closed the connection", c->peer);
  if (r == -1)
    return -1;
  if (f->type == STREAM_ERROR)
    return stream_peer_error (w, f);
  return 0;
}

/* The handshake, up to WELCOME. */
static int
handshake (struct wire *w, const struct connection *c,
           const struct stream_send_options *opts, struct stream_hello *h,
           struct stream_welcome *wl)
{
  unsigned char hello_hash[STREAM_MAC_SIZE], mac[STREAM_MAC_SIZE];
  struct stream_challenge ch;
  struct frame f;

  if (stream_send_hello (w, h, hello_hash) == -1)
    return -1;
  if (c->oneway) {
    memset (wl, 0, sizeof *wl);
    wl->n_disks = h->n_disks;
    return 0;
  }

  if (recv_reply (w, c, &f) == -1)
    return -1;
  if (stream_decode_challenge (&f, &ch) == -1)
    return error_prefix ("%s", c->peer);
  if (ch.version != h->version)
    return error ("%s: the receiver answers in protocol version %" PRIu32
                  ", not %" PRIu32 " (an older p2vkit?)",
                  c->peer, ch.version, h->version);
  if (ch.auth) {
    if (opts->token == NULL)
      return error ("%s: the receiver wants a token: give --token or "
                    "P2V_TOKEN",
                    c->peer);
    stream_mac_sender (opts->token, ch.nonce, h->nonce, hello_hash, mac);
    if (wire_send (w, STREAM_AUTH, 0, mac, sizeof mac) == -1)
      return -1;
  }

  if (recv_reply (w, c, &f) == -1)
    return -1;
  if (stream_decode_welcome (&f, h, wl) == -1)
    return error_prefix ("%s", c->peer);
  /* The receiver proves it knows the token too. */
  if (ch.auth) {
    stream_mac_receiver (opts->token, h->nonce, ch.nonce, mac);
    if (!stream_mac_equal (mac, wl->mac))
      return error ("%s: the receiver does not know the token", c->peer);
  }
  return 0;
}

int
stream_send_disk (struct wire *w, const struct stream_send_options *opts,
                  struct source *src, uint32_t index,
                  const struct stream_disk *d, uint64_t resume,
                  struct stream_sink_stats *stats)
{
  struct copy_options copts = {
    .cancel = opts->cancel,
    .resume = resume,
  };
  unsigned char buf[4 + 8 + DIGEST_HEX_LENGTH];
  uint64_t wire_before = w->bytes_out;
  struct progress progress;
  struct copy_result res;
  struct sink *k = NULL;
  char label[STREAM_MAX_NAME + 16];
  int ret = -1;

  be32_put (buf, index);
  be64_put (buf + 4, resume);
  if (wire_send (w, STREAM_DISK, 0, buf, 12) == -1)
    goto out;
  k = stream_sink_new (w, index, d->name, d->size, opts->level, stats);
  if (k == NULL)
    goto out;
  snprintf (label, sizeof label, "%s", d->name);
  progress_start (&progress, cli_progress_mode (opts->cli), label, d->size);
  if (copy_disk (src, k, &progress, &copts, &res) == -1)
    goto out;

  be32_put (buf, index);
  memcpy (buf + 4, res.digest, DIGEST_HEX_LENGTH);
  if (wire_send (w, STREAM_DISK_END, 0, buf, 4 + DIGEST_HEX_LENGTH) == -1)
    goto out;
  if (opts->cli->machine_readable) {
    printf ("disk %s size=%" PRIu64 " resumed-at=%" PRIu64 " data=%" PRIu64
            " wire=%" PRIu64 " digest=%s seconds=%.3f\n",
            d->name, d->size, resume, res.bytes_data,
            w->bytes_out - wire_before, res.digest,
            progress_elapsed (&progress));
    fflush (stdout);
  }
  ret = 0;

out:
  sink_free (k);
  return ret;
}

int
stream_send (const struct stream_send_options *opts, char **sources,
             size_t n_sources)
{
  struct connection c = { .rfd = -1, .wfd = -1 };
  struct source *src[STREAM_MAX_DISKS] = { NULL };
  struct stream_sink_stats stats = { 0 };
  struct stream_hello h = { .version = STREAM_VERSION };
  struct stream_welcome wl;
  struct wire w = { .rbuf = NULL };
  struct progress total;
  struct frame f;
  uint32_t i;
  int ret = -1, r;

  if (n_sources > STREAM_MAX_DISKS)
    return error ("at most %d disks in one session", STREAM_MAX_DISKS);
  if (stream_crypto_init () == -1 || machine_name (opts, h.name) == -1)
    return -1;

  for (i = 0; i < n_sources; i++) {
    struct stream_disk *d = &h.disks[i];

    src[i] = source_open (sources[i], opts->format);
    if (src[i] == NULL
        || cli_used_blocks (opts->cli, opts->all_blocks, &src[i]) == -1)
      goto out;
    stream_disk_name (sources[i], d->name);
    if (name_taken (&h, i, d->name)) {
      /* Two sources of one name (/dev/sda and img/sda): number this one. */
      size_t len = strlen (d->name);

      if (len > STREAM_MAX_NAME - 4)
        len = STREAM_MAX_NAME - 4;
      snprintf (d->name + len, STREAM_MAX_NAME + 1 - len, "-%" PRIu32, i);
      if (name_taken (&h, i, d->name)) {
        error ("%s: cannot find the disk a name of its own", sources[i]);
        goto out;
      }
    }
    d->size = cli_disk_size (opts->cli, sources[i], src[i]);
    if (d->size == 0 || d->size > STREAM_MAX_DISK_SIZE) {
      error ("%s: size %" PRIu64 " cannot be sent", sources[i], d->size);
      goto out;
    }
    if (describe_disk (src[i], d) == -1) {
      error_prefix ("%s: partition table", sources[i]);
      goto out;
    }
  }
  h.n_disks = n_sources;
  h.flags |= STREAM_HELLO_EXTENT;
  if (opts->precopy && precopy_wanted (opts->precopy)) {
    h.version = STREAM_VERSION_ROUNDS;
    h.flags |= STREAM_HELLO_ROUNDS;
  }
  stream_nonce (h.nonce);

  if (strcmp (opts->to, "-") == 0) {
    c.wfd = STDOUT_FILENO;
    c.oneway = true;
    h.flags |= STREAM_HELLO_ONEWAY;
    snprintf (c.peer, sizeof c.peer, "stdout");
  }
  else if (strncmp (opts->to, "tcp://", 6) == 0) {
    if (connect_tcp (&c, opts->to) == -1)
      goto out;
  }
  else if (strncmp (opts->to, "ssh://", 6) == 0) {
    if (connect_ssh (&c, opts) == -1)
      goto out;
  }
  else {
    error ("--to: '%s': expected tcp://HOST:PORT, "
           "ssh://[USER@]HOST[:PORT]/PATH or -",
           opts->to);
    goto out;
  }
  if (wire_init (&w, c.rfd, c.wfd, c.peer) == -1)
    goto out;
  w.timeout = NET_TIMEOUT;
  w.bandwidth = opts->bandwidth;
  /* A signal also ends a send or receive that waits for the receiver
   * (say, in a final round with the filesystems frozen).
   */
  w.cancel = opts->cancel;

  if (handshake (&w, &c, opts, &h, &wl) == -1)
    goto out;
  progress_start (&total, PROGRESS_NONE, opts->cli->prog, 0);
  if (opts->before_disks
      && opts->before_disks (&w, src, n_sources, opts->arg) == -1)
    goto out;
  if (h.flags & STREAM_HELLO_ROUNDS) {
    if (precopy_run (&w, opts, src, sources, &h, wl.resume, &stats) == -1)
      goto out;
  }
  else
    for (i = 0; i < h.n_disks; i++)
      if (stream_send_disk (&w, opts, src[i], i, &h.disks[i], wl.resume[i],
                            &stats)
          == -1)
        goto out;
  if (wire_send (&w, STREAM_END, 0, NULL, 0) == -1)
    goto out;

  if (!c.oneway) {
    r = wire_recv (&w, &f);
    if (r == -1)
      goto out;
    if (r == 0) {
      error ("%s: the receiver closed the connection before saying it "
             "was done",
             c.peer);
      goto out;
    }
    if (f.type == STREAM_ERROR) {
      stream_peer_error (&w, &f);
      goto out;
    }
    if (f.type != STREAM_DONE) {
      error ("%s: stream: expected DONE, got frame type %u", c.peer, f.type);
      goto out;
    }
  }
  if (opts->cli->machine_readable)
    printf ("done %s wire=%" PRIu64 " data=%" PRIu64 " seconds=%.3f\n",
            opts->to, w.bytes_out, stats.data_bytes, progress_elapsed (&total));
  if (opts->cli->verbose)
    fprintf (stderr,
             "%s: %" PRIu32 " disk(s) to %s: %" PRIu64
             " bytes of data, %" PRIu64 " on the wire in %.1f s\n",
             opts->cli->prog, h.n_disks, opts->to, stats.data_bytes,
             w.bytes_out, progress_elapsed (&total));
  ret = 0;

out:
  if (ret == -1 && w.rbuf && !c.oneway)
    stream_send_error (&w, error_message ());
  wire_free (&w);
  disconnect (&c);
  for (i = 0; i < n_sources; i++)
    source_close (src[i]);
  return ret;
}
