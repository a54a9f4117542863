/* v2p: a loop device over part of a disk (see loop.h). */
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "error.h"

/* Another program may take the free device we were given first. */
#define LOOP_TRIES 10

int
loop_attach (const char *path, uint64_t offset, uint64_t size, char *dev,
             size_t dev_len)
{
  struct loop_config config;
  int ctl = -1, backing = -1, fd = -1, n, tries;

  backing = open (path, O_RDWR | O_CLOEXEC);
  if (backing == -1)
    return error_errno (errno, "%s: open", path);
  ctl = open ("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl == -1) {
    error_errno (errno, "/dev/loop-control");
    goto out;
  }
  for (tries = 0; tries < LOOP_TRIES; tries++) {
    n = ioctl (ctl, LOOP_CTL_GET_FREE);
    if (n < 0) {
      error_errno (errno, "/dev/loop-control: no free loop device");
      goto out;
    }
    snprintf (dev, dev_len, "/dev/loop%d", n);
    fd = open (dev, O_RDWR | O_CLOEXEC);
    if (fd == -1) {
      error_errno (errno, "%s", dev);
      goto out;
    }
    memset (&config, 0, sizeof config);
    config.fd = backing;
    config.info.lo_offset = offset;
    config.info.lo_sizelimit = size;
    /* Gone when the last opener closes it, even if we die. */
    config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
    snprintf ((char *) config.info.lo_file_name, LO_NAME_SIZE, "%s", path);
    if (ioctl (fd, LOOP_CONFIGURE, &config) == 0)
      goto out;
    if (errno != EBUSY) {
      error_errno (errno, "%s: attach %s at offset %" PRIu64, dev, path,
                   offset);
      close (fd);
      fd = -1;
      goto out;
    }
    close (fd);
    fd = -1;
  }
  error ("no loop device stayed free for %s", path);

out:
  if (ctl >= 0)
    close (ctl);
  close (backing);
  return fd;
}

void
loop_detach (int fd)
{
  if (fd >= 0) {
    ioctl (fd, LOOP_CLR_FD, 0);
    close (fd);
  }
}
