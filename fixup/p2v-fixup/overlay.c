/* p2v-fixup: the temporary overlays that keep the images unchanged until
 * the end.
 *
 * Each image gets a qcow2 overlay in a private temporary directory
 * (qemu-img create -b IMAGE); libguestfs opens only the overlays, so the
 * guest's changes land there.  When everything has worked, qemu-img
 * commit writes them back into the images; a refusal, a failure, an
 * interruption or --dry-run just removes the directory.  Creating the
 * overlay also takes qemu's shared lock on the image, so an image that a
 * running virtual machine has open for writing is refused.
 *
 * The commit runs in its own process group with SIGINT, SIGTERM and SIGHUP
 * held back: a Ctrl-C then does not leave an image half written.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "p2v-fixup.h"

#define QCOW2_MAGIC "QFI\xfb"
#define QEMU_IMG "qemu-img"
/* What is kept of a command's stderr for its error message. */
#define COMMAND_ERROR_MAX 4096

/* Run ARGV (a program looked up in PATH) with stdin and stdout on
 * /dev/null; fail with its stderr's last line.  With SHIELD, it runs in a
 * process group of its own and our fatal signals wait until it is done.
 */
static int
run_command (char *const argv[], bool shield)
{
  char buf[COMMAND_ERROR_MAX], *line, *end;
  size_t len = 0;
  sigset_t block, old;
  int pipefd[2], status, devnull;
  ssize_t r;
  pid_t pid;

  if (pipe2 (pipefd, O_CLOEXEC) == -1)
    return error_errno (errno, "pipe");
  sigemptyset (&block);
  if (shield) {
    sigaddset (&block, SIGINT);
    sigaddset (&block, SIGTERM);
    sigaddset (&block, SIGHUP);
  }
  sigprocmask (SIG_BLOCK, &block, &old);
  pid = fork ();
  if (pid == -1) {
    sigprocmask (SIG_SETMASK, &old, NULL);
    close (pipefd[0]);
    close (pipefd[1]);
    return error_errno (errno, "fork");
  }
  if (pid == 0) {
    if (shield)
      setpgid (0, 0);
    sigprocmask (SIG_SETMASK, &old, NULL);
    devnull = open ("/dev/null", O_RDWR);
    if (devnull == -1 || dup2 (devnull, 0) == -1 || dup2 (devnull, 1) == -1
        || dup2 (pipefd[1], 2) == -1)
      _exit (126);
    execvp (argv[0], argv);
    dprintf (2, "%s: %s\n", argv[0], strerror (errno));
    _exit (127);
  }
  close (pipefd[1]);
  for (;;) {
    if (len == sizeof buf - 1) {
      /* Keep the end, where the reason is. */
      memmove (buf, buf + len / 2, len - len / 2);
      len -= len / 2;
    }
    r = read (pipefd[0], buf + len, sizeof buf - 1 - len);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    len += r;
  }
  close (pipefd[0]);
  while (waitpid (pid, &status, 0) == -1 && errno == EINTR)
    ;
  sigprocmask (SIG_SETMASK, &old, NULL);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;

  buf[len] = '\0';
  while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
    buf[--len] = '\0';
  line = strrchr (buf, '\n');
  line = line ? line + 1 : buf;
  for (end = line; *end; end++)
    if ((unsigned char) *end < ' ')
      *end = ' ';
  if (*line)
    return error ("%s failed: %s", argv[0], line);
  if (WIFSIGNALED (status))
    return error ("%s killed by signal %d", argv[0], WTERMSIG (status));
  return error ("%s failed with exit status %d", argv[0], WEXITSTATUS (status));
}

/* "qcow2" if PATH starts with qcow2's magic, else "raw". */
static int
detect_format (const char *path, char **format)
{
  char magic[4];
  ssize_t r;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd == -1)
    return error_errno (errno, "%s", path);
  r = pread (fd, magic, sizeof magic, 0);
  close (fd);
  if (r == -1)
    return error_errno (errno, "%s: read", path);
  *format = strdup (
    r == sizeof magic && memcmp (magic, QCOW2_MAGIC, 4) == 0 ? "qcow2" : "raw");
  if (*format == NULL)
    return error ("out of memory");
  return 0;
}

int
overlay_create_all (struct fixup *f)
{
  const char *tmp = getenv ("TMPDIR");
  char *abs = NULL;
  size_t i;
  int ret = -1;

  if (tmp == NULL || *tmp == '\0')
    tmp = "/var/tmp";
  if (asprintf (&f->tmpdir, "%s/p2v-fixup.XXXXXX", tmp) == -1) {
    f->tmpdir = NULL;
    return error ("out of memory");
  }
  if (mkdtemp (f->tmpdir) == NULL) {
    error_errno (errno, "%s", f->tmpdir);
    free (f->tmpdir);
    f->tmpdir = NULL;
    return -1;
  }
  f->formats = calloc (f->n_images, sizeof *f->formats);
  f->overlays = calloc (f->n_images, sizeof *f->overlays);
  if (f->formats == NULL || f->overlays == NULL)
    return error ("out of memory");

  for (i = 0; i < f->n_images; i++) {
    if (detect_format (f->images[i], &f->formats[i]) == -1)
      goto out;
    abs = realpath (f->images[i], NULL);
    if (abs == NULL) {
      error_errno (errno, "%s", f->images[i]);
      goto out;
    }
    if (asprintf (&f->overlays[i], "%s/disk%zu.qcow2", f->tmpdir, i) == -1) {
      f->overlays[i] = NULL;
      error ("out of memory");
      goto out;
    }
    {
      char *argv[]
        = { QEMU_IMG, "create", "-q",          "-f",           "qcow2", "-b",
            abs,      "-F",     f->formats[i], f->overlays[i], NULL };
      if (run_command (argv, false) == -1) {
        error_prefix ("%s", f->images[i]);
        goto out;
      }
    }
    free (abs);
    abs = NULL;
  }
  ret = 0;
out:
  free (abs);
  return ret;
}

int
overlay_commit_all (struct fixup *f)
{
  size_t i;

  for (i = 0; i < f->n_images; i++) {
    char *argv[]
      = { QEMU_IMG, "commit", "-q", "-d", "-f", "qcow2", f->overlays[i], NULL };

    fixup_step (f, "Writing the changes into %s", f->images[i]);
    if (run_command (argv, true) == -1) {
      return error_prefix ("%s: writing back the changes%s", f->images[i],
                           i > 0 ? " (the images before it were written)" : "");
    }
  }
  return 0;
}

void
overlay_remove_all (struct fixup *f)
{
  size_t i;

  for (i = 0; i < f->n_images; i++) {
    if (f->overlays && f->overlays[i]) {
      unlink (f->overlays[i]);
      free (f->overlays[i]);
    }
    if (f->formats)
      free (f->formats[i]);
  }
  free (f->overlays);
  free (f->formats);
  f->overlays = NULL;
  f->formats = NULL;
  if (f->tmpdir) {
    rmdir (f->tmpdir);
    free (f->tmpdir);
    f->tmpdir = NULL;
  }
}
