/* p2vkit: the fixup and domain XML steps of a conversion (see convert.h). */
#include "convert.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"

/* Arguments of one program run, at most. */
#define CONVERT_MAX_ARGS 32
/* What is kept of the line a failing program ends with. */
#define CONVERT_LINE_MAX 4096

/* The path of PROGRAM beside the running program, if it is there;
 * otherwise PROGRAM alone, for execvp to find in PATH.  Caller frees.
 */
static char *
program_path (const char *program)
{
  char self[PATH_MAX], *path;
  ssize_t len;

  len = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (len > 0) {
    self[len] = '\0';
    if (asprintf (&path, "%s/%s", dirname (self), program) != -1) {
      if (access (path, X_OK) == 0)
        return path;
      free (path);
    }
  }
  return strdup (program);
}

/* Write out LINE (LEN bytes, no newline) on stderr. */
static void
pass_line (const char *line, size_t len)
{
  fwrite (line, 1, len, stderr);
  fputc ('\n', stderr);
  fflush (stderr);
}

/* Run ARGV[0] (a bare program name: see program_path) with ARGV, stdin on
 * /dev/null and stdout ours (or our stderr: JOB->progress_to_stderr).  Its
 * stderr passes through a line late: the last line is held back, and if the
 * program fails it is the error recorded, not printed.  Returns 0 or -1.
 */
static int
run_program (const struct convert_job *job, char *argv[])
{
  char *path = NULL, held[CONVERT_LINE_MAX], buf[CONVERT_LINE_MAX];
  size_t held_len = 0, len = 0, i;
  bool have_held = false, forwarded = false;
  int pipefd[2] = { -1, -1 }, status, devnull, ret = -1;
  ssize_t r;
  pid_t pid;

  path = program_path (argv[0]);
  if (path == NULL)
    return error ("out of memory");
  if (pipe2 (pipefd, O_CLOEXEC) == -1) {
    ret = error_errno (errno, "pipe");
    goto out;
  }
  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  if (pid == -1) {
    ret = error_errno (errno, "fork");
    goto out;
  }
  if (pid == 0) {
    devnull = open ("/dev/null", O_RDONLY);
    if (devnull == -1 || dup2 (devnull, 0) == -1
        || (job->progress_to_stderr && dup2 (2, 1) == -1)
        || dup2 (pipefd[1], 2) == -1)
      _exit (126);
    execvp (path, argv);
    dprintf (2, "%s: %s\n", path, strerror (errno));
    _exit (127);
  }
  close (pipefd[1]);
  pipefd[1] = -1;

  /* Lines of stderr: each is printed when the next one is complete. */
  for (;;) {
    r = read (pipefd[0], buf + len, sizeof buf - len);
    if (r == -1 && errno == EINTR) {
      if (job->cancel && *job->cancel && !forwarded) {
        kill (pid, SIGINT);
        forwarded = true;
      }
      continue;
    }
    if (r <= 0)
      break;
    len += r;
    for (;;) {
      char *nl = memchr (buf, '\n', len);
      size_t line_len;

      if (nl == NULL) {
        if (len < sizeof buf)
          break;
        nl = buf + len - 1;     /* a line too long: cut it */
      }
      line_len = nl - buf;
      if (have_held)
        pass_line (held, held_len);
      memcpy (held, buf, line_len);
      held_len = line_len;
      have_held = true;
      len -= line_len + 1;
      memmove (buf, nl + 1, len);
    }
  }
  if (len > 0) {                /* a last line without a newline */
    if (have_held)
      pass_line (held, held_len);
    memcpy (held, buf, len);
    held_len = len;
    have_held = true;
  }
  while (waitpid (pid, &status, 0) == -1)
    if (errno != EINTR) {
      ret = error_errno (errno, "waiting for %s", argv[0]);
      goto out;
    }

  if (WIFEXITED (status) && WEXITSTATUS (status) == 0) {
    if (have_held)
      pass_line (held, held_len);
    ret = 0;
    goto out;
  }
  for (i = 0; i < held_len; i++)
    if ((unsigned char) held[i] < ' ')
      held[i] = ' ';
  if (have_held && held_len > 0)
    ret = error ("%.*s", (int) held_len, held);
  else if (WIFSIGNALED (status))
    ret = error ("%s killed by signal %d", argv[0], WTERMSIG (status));
  else
    ret
      = error ("%s failed with exit status %d", argv[0], WEXITSTATUS (status));

out:
  if (pipefd[0] != -1)
    close (pipefd[0]);
  if (pipefd[1] != -1)
    close (pipefd[1]);
  free (path);
  return ret;
}

/* Append the options JOB passes to every program: -q or -v. */
static size_t
common_args (const struct convert_job *job, char **argv, size_t n)
{
  int v;

  if (job->quiet)
    argv[n++] = "-q";
  for (v = 0; v < job->verbose && v < 2; v++)
    argv[n++] = "-v";
  return n;
}

int
convert_fixup (const struct convert_job *job)
{
  char *argv[CONVERT_MAX_ARGS + 1];
  size_t n = 0, i;

  if (job->n_images > CONVERT_MAX_ARGS - 12)
    return error ("%zu disks: at most %d", job->n_images,
                  CONVERT_MAX_ARGS - 12);
  argv[n++] = "p2v-fixup";
  argv[n++] = "--target";
  argv[n++] = "virt";
  argv[n++] = "--force";
  argv[n++] = "--report";
  argv[n++] = (char *) job->report;
  if (job->inventory) {
    argv[n++] = "--inventory";
    argv[n++] = (char *) job->inventory;
  }
  if (job->new_macs)
    argv[n++] = "--new-macs";
  n = common_args (job, argv, n);
  for (i = 0; i < job->n_images; i++)
    argv[n++] = job->images[i];
  argv[n] = NULL;
  return run_program (job, argv);
}

int
convert_domxml (const struct convert_job *job)
{
  char *argv[2 * CONVERT_MAX_ARGS + 1];
  size_t n = 0, i;

  if (job->n_images > CONVERT_MAX_ARGS - 12)
    return error ("%zu disks: at most %d", job->n_images,
                  CONVERT_MAX_ARGS - 12);
  argv[n++] = "p2v-domxml";
  argv[n++] = "--name";
  argv[n++] = (char *) job->name;
  argv[n++] = "--force";
  argv[n++] = "-o";
  argv[n++] = (char *) job->xml;
  if (job->inventory) {
    argv[n++] = "--inventory";
    argv[n++] = (char *) job->inventory;
  }
  if (job->report) {
    argv[n++] = "--fixup-report";
    argv[n++] = (char *) job->report;
  }
  if (job->network) {
    argv[n++] = "--network";
    argv[n++] = (char *) job->network;
  }
  if (job->bridge) {
    argv[n++] = "--bridge";
    argv[n++] = (char *) job->bridge;
  }
  if (job->type) {
    argv[n++] = "--type";
    argv[n++] = (char *) job->type;
  }
  if (job->verbose)
    argv[n++] = "-v";
  for (i = 0; i < job->n_images; i++) {
    argv[n++] = "--disk";
    argv[n++] = job->images[i];
  }
  argv[n] = NULL;
  return run_program (job, argv);
}
