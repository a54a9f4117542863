/* p2vkit: does KVM really work on this machine? (see kvm-probe.h) */
#include "kvm-probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KVM_DEVICE "/dev/kvm"

/* The KVM API every kernel since 2.6.22 reports. */
#define KVM_API_EXPECTED 12

/* The test guest, in real mode: code at guest physical address 0, and
 * a 64 KiB data segment after it that the code writes GUEST_WRITES bytes
 * into, round and round, before its `hlt`.  A working KVM runs this in
 * a few milliseconds (about a nanosecond a write).  Where each guest
 * write to memory traps into the host kernel (nested virtualisation
 * without the help it needs), a write takes microseconds: 1.5 us on the
 * machine this was written on, so the loop takes 6 s.  Such a KVM is not
 * dead, only a thousand times too slow: a real guest seems to hang in
 * its firmware or while its kernel decompresses itself.  The time limit
 * (KVM_PROBE_TIMEOUT_MS, a hundred times what a working KVM needs)
 * turns that into "no".
 */
#define GUEST_MEMORY_SIZE 0x20000 /* 128 KiB: code, then data */
#define GUEST_DATA_SEGMENT 0x1000 /* real-mode segment of the data: 64 KiB */
#define GUEST_WRITES (1U << 22) /* 4 MiB */
#define X86_RFLAGS_RESERVED 0x2 /* bit 1 is always set */

/* clang-format off */
static const unsigned char guest_code[] = {
  0x66, 0xb9, 0, 0, 0, 0,       /*    mov ecx, GUEST_WRITES (below) */
  0x88, 0x07,                   /* 1: mov [bx], al */
  0x43,                         /*    inc bx */
  0x66, 0x49,                   /*    dec ecx */
  0x75, 0xf9,                   /*    jnz 1b */
  0xf4,                         /*    hlt */
};
/* clang-format on */
#define GUEST_CODE_COUNT_OFFSET 2 /* where the mov's immediate goes */

/* After SIGKILL, how long to wait for the child to be reaped. */
#define REAP_WAIT_MS 200
#define REAP_STEP_MS 10

/* What the child writes on the pipe: '1' (it worked) or '0', then one
 * line of reason.
 */

static void __attribute__ ((format (printf, 2, 3), noreturn))
child_exit (int fd, const char *fmt, ...)
{
  char buf[KVM_PROBE_REASON_MAX + 1];
  va_list ap;
  int n;

  va_start (ap, fmt);
  n = vsnprintf (buf, sizeof buf, fmt, ap);
  va_end (ap);
  if (n < 0)
    n = 0;
  if ((size_t) n >= sizeof buf)
    n = sizeof buf - 1;
  if (write (fd, buf, n) != n)
    _exit (1);
  _exit (0);
}

static double
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The child: run the test guest and say how it went on FD. */
static void __attribute__ ((noreturn)) child (int fd, int timeout_ms)
{
  struct kvm_userspace_memory_region region;
  struct kvm_sregs sregs;
  struct kvm_regs regs;
  struct kvm_run *run;
  unsigned char *mem;
  uint32_t writes;
  double started;
  int kvm, vm, vcpu, api, run_size;

  /* If the kernel lets signals through, this ends a hung KVM_RUN; the
   * parent kills us anyway.
   */
  alarm ((unsigned) (timeout_ms / 1000) + 1);

  kvm = open (KVM_DEVICE, O_RDWR | O_CLOEXEC);
  if (kvm == -1)
    child_exit (fd, "0%s: %s", KVM_DEVICE, strerror (errno));
  api = ioctl (kvm, KVM_GET_API_VERSION, 0);
  if (api != KVM_API_EXPECTED)
    child_exit (fd, "0KVM_GET_API_VERSION: %d, not %d", api, KVM_API_EXPECTED);
  vm = ioctl (kvm, KVM_CREATE_VM, 0);
  if (vm == -1)
    child_exit (fd, "0KVM_CREATE_VM: %s", strerror (errno));

  mem = mmap (NULL, GUEST_MEMORY_SIZE, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED)
    child_exit (fd, "0mmap: %s", strerror (errno));
  memcpy (mem, guest_code, sizeof guest_code);
  writes = GUEST_WRITES;
  memcpy (mem + GUEST_CODE_COUNT_OFFSET, &writes, sizeof writes);
  memset (&region, 0, sizeof region);
  region.slot = 0;
  region.guest_phys_addr = 0;
  region.memory_size = GUEST_MEMORY_SIZE;
  region.userspace_addr = (uintptr_t) mem;
  if (ioctl (vm, KVM_SET_USER_MEMORY_REGION, &region) == -1)
    child_exit (fd, "0KVM_SET_USER_MEMORY_REGION: %s", strerror (errno));

  vcpu = ioctl (vm, KVM_CREATE_VCPU, 0);
  if (vcpu == -1)
    child_exit (fd, "0KVM_CREATE_VCPU: %s", strerror (errno));
  run_size = ioctl (kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size < (int) sizeof *run)
    child_exit (fd, "0KVM_GET_VCPU_MMAP_SIZE: %d", run_size);
  run = mmap (NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED)
    child_exit (fd, "0mmap of the vCPU: %s", strerror (errno));

  if (ioctl (vcpu, KVM_GET_SREGS, &sregs) == -1)
    child_exit (fd, "0KVM_GET_SREGS: %s", strerror (errno));
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  sregs.ds.base = GUEST_DATA_SEGMENT * 16;
  sregs.ds.selector = GUEST_DATA_SEGMENT;
  if (ioctl (vcpu, KVM_SET_SREGS, &sregs) == -1)
    child_exit (fd, "0KVM_SET_SREGS: %s", strerror (errno));
  memset (&regs, 0, sizeof regs);
  regs.rip = 0;
  regs.rflags = X86_RFLAGS_RESERVED;
  if (ioctl (vcpu, KVM_SET_REGS, &regs) == -1)
    child_exit (fd, "0KVM_SET_REGS: %s", strerror (errno));

  started = now_ms ();
  if (ioctl (vcpu, KVM_RUN, 0) == -1)
    child_exit (fd, "0KVM_RUN: %s", strerror (errno));
  if (run->exit_reason != KVM_EXIT_HLT)
    child_exit (fd, "0KVM_RUN: exit reason %u, not KVM_EXIT_HLT (%u)",
                run->exit_reason, KVM_EXIT_HLT);
  child_exit (fd, "1a test guest wrote %u bytes and ran to its hlt in %.1f ms",
              GUEST_WRITES, now_ms () - started);
}

static void
set_reason (char *reason, size_t max, const char *fmt, ...)
{
  va_list ap;

  if (reason == NULL || max == 0)
    return;
  va_start (ap, fmt);
  vsnprintf (reason, max, fmt, ap);
  va_end (ap);
}

/* Kill PID and reap it if it goes within REAP_WAIT_MS.  A child stuck in
 * the kernel is left behind rather than hanging this process too.
 */
static void
kill_child (pid_t pid)
{
  struct timespec step = { 0, REAP_STEP_MS * 1000000L };
  int waited;

  kill (pid, SIGKILL);
  for (waited = 0; waited < REAP_WAIT_MS; waited += REAP_STEP_MS) {
    if (waitpid (pid, NULL, WNOHANG) != 0)
      return;
    nanosleep (&step, NULL);
  }
}

bool
kvm_probe (int timeout_ms, char *reason, size_t reason_max)
{
  char buf[KVM_PROBE_REASON_MAX + 1];
  struct pollfd pfd;
  double deadline, left;
  size_t len = 0;
  ssize_t r;
  pid_t pid;
  int fds[2], status;

  if (pipe2 (fds, O_CLOEXEC) == -1) {
    set_reason (reason, reason_max, "pipe: %s", strerror (errno));
    return false;
  }
  pid = fork ();
  if (pid == -1) {
    set_reason (reason, reason_max, "fork: %s", strerror (errno));
    close (fds[0]);
    close (fds[1]);
    return false;
  }
  if (pid == 0) {
    close (fds[0]);
    child (fds[1], timeout_ms);
  }
  close (fds[1]);

  /* Read until the child closes the pipe (it exits), or the time is up. */
  deadline = now_ms () + timeout_ms;
  pfd.fd = fds[0];
  pfd.events = POLLIN;
  for (;;) {
    left = deadline - now_ms ();
    if (left <= 0) {
      close (fds[0]);
      kill_child (pid);
      set_reason (reason, reason_max,
                  "a test guest writing %u bytes did not finish in %d ms, "
                  "where a working KVM takes a few",
                  GUEST_WRITES, timeout_ms);
      return false;
    }
    r = poll (&pfd, 1, (int) left + 1);
    if (r == -1 && errno != EINTR)
      break;
    if (r <= 0)
      continue;
    r = read (fds[0], buf + len, sizeof buf - 1 - len);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    len += r;
    if (len == sizeof buf - 1)
      break;
  }
  close (fds[0]);
  buf[len] = '\0';

  while (waitpid (pid, &status, 0) == -1 && errno == EINTR)
    ;
  if (len == 0) {
    if (WIFSIGNALED (status))
      set_reason (reason, reason_max, "the test guest's process died: %s",
                  strsignal (WTERMSIG (status)));
    else
      set_reason (reason, reason_max, "the test guest's process said nothing");
    return false;
  }
  set_reason (reason, reason_max, "%s", buf + 1);
  return buf[0] == '1';
}
