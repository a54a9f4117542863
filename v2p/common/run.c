/* v2p: running the programs that grow filesystems (see run.h). */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"

/* Where administrators' programs live when PATH does not say. */
static const char *const sbin_dirs[] = { "/usr/sbin", "/sbin" };

/* In a child: become ARGV.  Never returns. */
static void __attribute__ ((noreturn)) exec_program (char *const argv[])
{
  char path[4096];
  size_t i;
  int err;

  execvp (argv[0], argv);
  err = errno;
  if (err == ENOENT && strchr (argv[0], '/') == NULL)
    for (i = 0; i < sizeof sbin_dirs / sizeof sbin_dirs[0]; i++) {
      snprintf (path, sizeof path, "%s/%s", sbin_dirs[i], argv[0]);
      execv (path, argv);
    }
  dprintf (STDERR_FILENO, "%s: %s\n", argv[0], strerror (err));
  _exit (127);
}

static int
exec_fn (void *arg)
{
  exec_program (arg);
}

int
run_command (char *const argv[], bool verbose)
{
  return run_child (argv[0], exec_fn, (void *) argv, verbose);
}

/* Keep the last non-empty line of what comes in BUF (LEN bytes): LINE
 * holds the line being read, LAST the last complete one.
 */
static void
track_lines (const char *buf, size_t len, char *line, size_t *line_len,
             char *last)
{
  size_t i;

  for (i = 0; i < len; i++) {
    if (buf[i] == '\n') {
      if (*line_len > 0) {
        memcpy (last, line, *line_len);
        last[*line_len] = '\0';
      }
      *line_len = 0;
    }
    else if (*line_len < RUN_LINE_MAX - 1)
      line[(*line_len)++] = buf[i];
  }
}

int
run_child (const char *what, int (*fn) (void *arg), void *arg, bool verbose)
{
  char buf[4096], line[RUN_LINE_MAX], last[RUN_LINE_MAX] = "";
  size_t line_len = 0;
  int pipefd[2], status, devnull;
  ssize_t r;
  pid_t pid;

  if (pipe2 (pipefd, O_CLOEXEC) == -1)
    return error_errno (errno, "pipe");
  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  if (pid == -1) {
    close (pipefd[0]);
    close (pipefd[1]);
    return error_errno (errno, "fork");
  }
  if (pid == 0) {
    devnull = open ("/dev/null", O_RDONLY);
    if (devnull == -1 || dup2 (devnull, STDIN_FILENO) == -1
        || dup2 (pipefd[1], STDOUT_FILENO) == -1
        || dup2 (pipefd[1], STDERR_FILENO) == -1)
      _exit (126);
    _exit (fn (arg) & 0xff);
  }
  close (pipefd[1]);
  for (;;) {
    r = read (pipefd[0], buf, sizeof buf);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    if (verbose)
      fwrite (buf, 1, r, stderr);
    track_lines (buf, r, line, &line_len, last);
  }
  close (pipefd[0]);
  if (line_len > 0) {           /* a last line without a newline */
    memcpy (last, line, line_len);
    last[line_len] = '\0';
  }
  while (waitpid (pid, &status, 0) == -1)
    if (errno != EINTR)
      return error_errno (errno, "%s: wait", what);
  if (WIFSIGNALED (status))
    return error ("%s: killed by signal %d", what, WTERMSIG (status));
  if (WEXITSTATUS (status) != 0) {
    size_t n = strlen (what);

    /* Most programs start their messages with their name already. */
    if (strncmp (last, what, n) == 0 && last[n] == ':')
      error ("%s", last);
    else if (last[0])
      error ("%s: %s", what, last);
    else
      error ("%s: exit status %d", what, WEXITSTATUS (status));
  }
  return WEXITSTATUS (status);
}

int
run_exec (char *const argv[])
{
  int status;
  pid_t pid;

  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  if (pid == -1) {
    dprintf (STDERR_FILENO, "%s: fork: %s\n", argv[0], strerror (errno));
    return 127;
  }
  if (pid == 0)
    exec_program (argv);
  while (waitpid (pid, &status, 0) == -1)
    if (errno != EINTR)
      return 127;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 127;
}
