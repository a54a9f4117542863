/* p2vkit imaging engine: freezing the source disks' filesystems (see
 * freeze.h).
 */
#include "freeze.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"

#define FREEZE_MAX_DEVICES 256  /* block devices looked at */
#define FREEZE_MAX_MOUNTS 64    /* filesystems frozen */
#define FREEZE_MAX_DEPTH 8      /* of holders */
#define MS_PER_SECOND 1000

/* Orders on the pipe, and answers. */
#define ORDER_FREEZE 'F'
#define ORDER_THAW 'T'
#define ANSWER_OK 'K'
#define ANSWER_FAILED 'E'       /* then an int: errno, and an int: index */
#define ANSWER_TIMED_OUT 'L'

/* The helper's descriptors, after it has closed all others. */
#define HELPER_ORDERS_FD 3
#define HELPER_ANSWERS_FD 4
#define HELPER_FIRST_DIR_FD 5

struct freezer {
  size_t n;
  char *mounts[FREEZE_MAX_MOUNTS];
  pid_t helper;                 /* 0: none (no filesystem) */
  int orders, answers;          /* our ends of the pipes, or -1 */
  bool frozen;
};

struct devset {
  size_t n;
  dev_t dev[FREEZE_MAX_DEVICES];
};

static bool
devset_has (const struct devset *s, dev_t d)
{
  size_t i;

  for (i = 0; i < s->n; i++)
    if (s->dev[i] == d)
      return true;
  return false;
}

/* The dev_t in sysfs file PATH ("MAJ:MIN"), or 0. */
static dev_t
sysfs_dev (const char *path)
{
  unsigned maj, min;
  FILE *fp = fopen (path, "re");
  int r;

  if (fp == NULL)
    return 0;
  r = fscanf (fp, "%u:%u", &maj, &min);
  fclose (fp);
  return r == 2 ? makedev (maj, min) : 0;
}

/* Add D, its partitions and what holds them, to S. */
static int
add_device (struct devset *s, dev_t d, unsigned depth)
{
  char dir[128], path[512];
  struct dirent *e;
  DIR *dp;
  dev_t sub;
  int ret = 0;

  if (devset_has (s, d))
    return 0;
  if (s->n == FREEZE_MAX_DEVICES || depth > FREEZE_MAX_DEPTH)
    return error ("too many block devices on the source disks");
  s->dev[s->n++] = d;
  snprintf (dir, sizeof dir, "/sys/dev/block/%u:%u", major (d), minor (d));
  /* Partitions are subdirectories with a "partition" file. */
  dp = opendir (dir);
  if (dp == NULL)
    return 0;
  while (ret == 0 && (e = readdir (dp)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    snprintf (path, sizeof path, "%s/%s/partition", dir, e->d_name);
    if (access (path, F_OK) != 0)
      continue;
    snprintf (path, sizeof path, "%s/%s/dev", dir, e->d_name);
    if ((sub = sysfs_dev (path)) != 0)
      ret = add_device (s, sub, depth + 1);
  }
  closedir (dp);
  if (ret == -1)
    return -1;
  snprintf (path, sizeof path, "%s/holders", dir);
  dp = opendir (path);
  if (dp == NULL)
    return 0;
  while (ret == 0 && (e = readdir (dp)) != NULL) {
    char p2[600];

    if (e->d_name[0] == '.')
      continue;
    snprintf (p2, sizeof p2, "/sys/class/block/%s/dev", e->d_name);
    if ((sub = sysfs_dev (p2)) != 0)
      ret = add_device (s, sub, depth + 1);
  }
  closedir (dp);
  return ret;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void
unescape (char *s)
{
  char *out = s;

  while (*s) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7'
        && s[3] >= '0' && s[3] <= '7') {
      *out++ = (char) ((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
      s += 4;
    }
    else
      *out++ = *s++;
  }
  *out = '\0';
}

/* Each filesystem on a device of S, once (a filesystem mounted twice is
 * one superblock: frozen once).
 */
static int
find_mounts (struct freezer *fz, const struct devset *s)
{
  dev_t seen[FREEZE_MAX_MOUNTS];
  FILE *fp = fopen ("/proc/self/mountinfo", "re");
  char *line = NULL;
  size_t cap = 0, i;
  int ret = 0;

  if (fp == NULL)
    return error_errno (errno, "/proc/self/mountinfo");
  while (ret == 0 && getline (&line, &cap, fp) != -1) {
    unsigned maj, min;
    char mnt[4096];
    dev_t d;

    if (sscanf (line, "%*s %*s %u:%u %*s %4095s", &maj, &min, mnt) != 3)
      continue;
    d = makedev (maj, min);
    if (!devset_has (s, d))
      continue;
    for (i = 0; i < fz->n; i++)
      if (seen[i] == d)
        break;
    if (i < fz->n)
      continue;
    if (fz->n == FREEZE_MAX_MOUNTS) {
      ret = error ("more than %d filesystems on the source disks",
                   FREEZE_MAX_MOUNTS);
      break;
    }
    unescape (mnt);
    seen[fz->n] = d;
    fz->mounts[fz->n] = strdup (mnt);
    if (fz->mounts[fz->n] == NULL)
      ret = error ("out of memory");
    else
      fz->n++;
  }
  free (line);
  fclose (fp);
  return ret;
}

static void
thaw_all (const int *fds, size_t n)
{
  size_t i;

  for (i = n; i-- > 0;)
    ioctl (fds[i], FITHAW, 0);
}

static void
answer (char a, int err, int index)
{
  char buf[1 + 2 * sizeof (int)];
  ssize_t r;

  buf[0] = a;
  memcpy (buf + 1, &err, sizeof err);
  memcpy (buf + 1 + sizeof err, &index, sizeof index);
  r = write (HELPER_ANSWERS_FD, buf, sizeof buf);
  (void) r;
}

/* The helper: FDS are the filesystems' directories.  Runs until the pipe
 * closes, then thaws and exits.
 */
static void __attribute__ ((noreturn))
helper (const int *fds, size_t n, unsigned timeout)
{
  struct pollfd p = { .fd = HELPER_ORDERS_FD, .events = POLLIN };
  bool frozen = false, timed_out = false;
  size_t i;
  char c;
  int r;

  for (;;) {
    r = poll (&p, 1, frozen ? (int) (timeout * MS_PER_SECOND) : -1);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == 0) {
      /* Frozen too long: thaw, and say so at the next order. */
      thaw_all (fds, n);
      frozen = false;
      timed_out = true;
      continue;
    }
    if (r == -1 || read (HELPER_ORDERS_FD, &c, 1) != 1)
      break;
    if (c == ORDER_FREEZE && !frozen) {
      timed_out = false;
      for (i = 0; i < n; i++)
        if (ioctl (fds[i], FIFREEZE, 0) == -1) {
          int err = errno;

          thaw_all (fds, i);
          answer (ANSWER_FAILED, err, (int) i);
          break;
        }
      if (i == n) {
        frozen = true;
        answer (ANSWER_OK, 0, 0);
      }
    }
    else if (c == ORDER_THAW) {
      if (frozen)
        thaw_all (fds, n);
      answer (timed_out ? ANSWER_TIMED_OUT : ANSWER_OK, 0, 0);
      frozen = timed_out = false;
    }
    else
      answer (ANSWER_FAILED, EINVAL, -1);
  }
  if (frozen)
    thaw_all (fds, n);
  _exit (EXIT_SUCCESS);
}

static int
start_helper (struct freezer *fz, unsigned timeout)
{
  int orders[2] = { -1, -1 }, answers[2] = { -1, -1 };
  int fds[FREEZE_MAX_MOUNTS];
  size_t i;
  pid_t pid;

  if (pipe2 (orders, O_CLOEXEC) == -1 || pipe2 (answers, O_CLOEXEC) == -1) {
    error_errno (errno, "pipe");
    goto fail;
  }
  pid = fork ();
  if (pid == -1) {
    error_errno (errno, "fork");
    goto fail;
  }
  if (pid == 0) {
    /* Only the program's death, never the terminal's signals, stops it. */
    signal (SIGINT, SIG_IGN);
    signal (SIGTERM, SIG_IGN);
    signal (SIGHUP, SIG_IGN);
    signal (SIGQUIT, SIG_IGN);
    signal (SIGPIPE, SIG_IGN);
    /* Out of the way first: the pipes may be on descriptors 3 and 4. */
    int o = fcntl (orders[0], F_DUPFD, HELPER_FIRST_DIR_FD);
    int a = fcntl (answers[1], F_DUPFD, HELPER_FIRST_DIR_FD);

    if (o == -1 || a == -1 || dup2 (o, HELPER_ORDERS_FD) == -1
        || dup2 (a, HELPER_ANSWERS_FD) == -1)
      _exit (EXIT_FAILURE);
    /* Nothing else of the program's: not its connection, not our ends. */
    close_range (HELPER_FIRST_DIR_FD, ~0U, 0);
    for (i = 0; i < fz->n; i++) {
      fds[i] = open (fz->mounts[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fds[i] == -1) {
        answer (ANSWER_FAILED, errno, (int) i);
        _exit (EXIT_FAILURE);
      }
    }
    answer (ANSWER_OK, 0, 0);
    helper (fds, fz->n, timeout);
  }
  fz->helper = pid;
  close (orders[0]);
  close (answers[1]);
  fz->orders = orders[1];
  fz->answers = answers[0];
  return 0;

fail:
  for (i = 0; i < 2; i++) {
    if (orders[i] >= 0)
      close (orders[i]);
    if (answers[i] >= 0)
      close (answers[i]);
  }
  return -1;
}

/* Send ORDER (0: none) and read the answer. */
static int
order (struct freezer *fz, char o, const char *doing)
{
  char buf[1 + 2 * sizeof (int)];
  int err, index;
  ssize_t r;

  if (o && write (fz->orders, &o, 1) != 1)
    return error_errno (errno, "%s: the freezer is gone", doing);
  do
    r = read (fz->answers, buf, sizeof buf);
  while (r == -1 && errno == EINTR);
  if (r != (ssize_t) sizeof buf)
    return error ("%s: the freezer is gone", doing);
  memcpy (&err, buf + 1, sizeof err);
  memcpy (&index, buf + 1 + sizeof err, sizeof index);
  if (buf[0] == ANSWER_TIMED_OUT)
    return error ("%s: the filesystems were thawed at the freeze timeout",
                  doing);
  if (buf[0] != ANSWER_OK) {
    if (index >= 0 && (size_t) index < fz->n)
      return error_errno (err, "%s: %s", doing, fz->mounts[index]);
    return error_errno (err, "%s", doing);
  }
  return 0;
}

struct freezer *
freezer_new (char *const *paths, size_t n, unsigned timeout)
{
  struct freezer *fz = calloc (1, sizeof *fz);
  struct devset *s = calloc (1, sizeof *s);
  struct stat st;
  size_t i;

  if (fz == NULL || s == NULL) {
    error ("out of memory");
    goto fail;
  }
  fz->orders = fz->answers = -1;
  for (i = 0; i < n; i++) {
    if (stat (paths[i], &st) == -1) {
      error_errno (errno, "%s", paths[i]);
      goto fail;
    }
    /* An image file has no filesystem mounted from it. */
    if (S_ISBLK (st.st_mode) && add_device (s, st.st_rdev, 0) == -1)
      goto fail;
  }
  if (find_mounts (fz, s) == -1)
    goto fail;
  if (fz->n > 0
      && (start_helper (fz, timeout) == -1 || order (fz, 0, "freeze") == -1))
    goto fail;
  free (s);
  return fz;

fail:
  free (s);
  freezer_free (fz);
  return NULL;
}

size_t
freezer_count (const struct freezer *fz)
{
  return fz->n;
}

const char *
freezer_mount (const struct freezer *fz, size_t i)
{
  return fz->mounts[i];
}

int
freezer_freeze (struct freezer *fz)
{
  if (fz->n == 0)
    return 0;
  if (order (fz, ORDER_FREEZE, "freeze") == -1)
    return -1;
  fz->frozen = true;
  return 0;
}

int
freezer_thaw (struct freezer *fz)
{
  if (fz->n == 0 || !fz->frozen)
    return 0;
  fz->frozen = false;
  return order (fz, ORDER_THAW, "thaw");
}

void
freezer_free (struct freezer *fz)
{
  size_t i;
  int status;

  if (fz == NULL)
    return;
  /* Closing the pipe is the order to thaw and go. */
  if (fz->orders >= 0)
    close (fz->orders);
  if (fz->answers >= 0)
    close (fz->answers);
  if (fz->helper > 0)
    while (waitpid (fz->helper, &status, 0) == -1 && errno == EINTR)
      ;
  for (i = 0; i < fz->n; i++)
    free (fz->mounts[i]);
  free (fz);
}
