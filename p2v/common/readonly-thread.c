/* p2vkit: make the calling thread unable to write to files or disks (see
 * readonly-thread.h).
 */
#include "readonly-thread.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/blkpg.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "error.h"

/* The architecture the filter checks system calls against: a call made
 * through another one (int 0x80 on x86_64) is refused.
 */
#if defined(__x86_64__) && defined(__ILP32__)
#define NATIVE_ARCH 0           /* x32: not supported */
#elif defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__i386__)
#define NATIVE_ARCH AUDIT_ARCH_I386
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#elif defined(__arm__) && __BYTE_ORDER == __LITTLE_ENDIAN
#define NATIVE_ARCH AUDIT_ARCH_ARM
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_ARCH AUDIT_ARCH_RISCV64
#elif defined(__powerpc64__) && __BYTE_ORDER == __LITTLE_ENDIAN
#define NATIVE_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
#define NATIVE_ARCH AUDIT_ARCH_S390X
#else
#define NATIVE_ARCH 0
#endif

/* x86_64 also accepts x32 system calls, numbered from this bit up. */
#define X32_SYSCALL_BIT 0x40000000

/* The open flags that may write. */
#define WRITE_FLAGS (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)

/* Room for the whole filter. */
#define FILTER_MAX 64

/* Offset of the low 32 bits of argument I of a system call: BPF loads 32
 * bits at a time, and flags and ioctl numbers fit in them.
 */
#if __BYTE_ORDER == __LITTLE_ENDIAN
#define ARG_LOW(i) (offsetof (struct seccomp_data, args[i]))
#else
#define ARG_LOW(i) (offsetof (struct seccomp_data, args[i]) + 4)
#endif

/* The ioctls that change a block device, whatever the descriptor's mode. */
static const unsigned long refused_ioctls[] = {
  BLKRRPART, BLKPG,      BLKROSET,      BLKFLSBUF,
  BLKBSZSET, BLKDISCARD, BLKSECDISCARD, BLKZEROOUT,
};

struct filter {
  struct sock_filter insns[FILTER_MAX];
  unsigned short n;
};

static void
emit (struct filter *f, struct sock_filter insn)
{
  /* The filter is built from constants below: FILTER_MAX is checked once
   * in readonly_thread().
   */
  if (f->n < FILTER_MAX)
    f->insns[f->n] = insn;
  f->n++;
}

static void
load (struct filter *f, unsigned offset)
{
  emit (f, (struct sock_filter) BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offset));
}

/* A conditional jump: OP (BPF_JEQ, BPF_JGE, BPF_JSET) against K, skipping
 * JT instructions when true and JF when false.
 */
static void
jump (struct filter *f, unsigned short op, unsigned k, unsigned char jt,
      unsigned char jf)
{
  emit (f, (struct sock_filter) BPF_JUMP (BPF_JMP | op | BPF_K, k, jt, jf));
}

static void
ret (struct filter *f, unsigned value)
{
  emit (f, (struct sock_filter) BPF_STMT (BPF_RET | BPF_K, value));
}

/* If the system call is NR and its argument ARG has any of the bits
 * WRITE_FLAGS, fail it with EROFS; if it is NR without them, allow it.
 */
static void
open_call (struct filter *f, unsigned nr, unsigned arg)
{
  load (f, offsetof (struct seccomp_data, nr));
  jump (f, BPF_JEQ, nr, 0, 4);
  load (f, ARG_LOW (arg));
  jump (f, BPF_JSET, WRITE_FLAGS, 0, 1);
  ret (f, SECCOMP_RET_ERRNO | EROFS);
  ret (f, SECCOMP_RET_ALLOW);
}

/* If the system call is NR, fail it with ERR. */
static void
refuse_call (struct filter *f, unsigned nr, int err)
{
  load (f, offsetof (struct seccomp_data, nr));
  jump (f, BPF_JEQ, nr, 0, 1);
  ret (f, SECCOMP_RET_ERRNO | err);
}

static void
ioctl_call (struct filter *f)
{
  size_t n = sizeof refused_ioctls / sizeof refused_ioctls[0], i;

  load (f, offsetof (struct seccomp_data, nr));
  jump (f, BPF_JEQ, __NR_ioctl, 0, n + 3);
  load (f, ARG_LOW (1));
  for (i = 0; i < n; i++)
    jump (f, BPF_JEQ, (unsigned) refused_ioctls[i], n - i, 0);
  ret (f, SECCOMP_RET_ALLOW);
  ret (f, SECCOMP_RET_ERRNO | EPERM);
}

int
readonly_thread (void)
{
  struct filter f = { .n = 0 };
  struct sock_fprog prog;

  if (NATIVE_ARCH == 0)
    return error ("cannot make a thread read-only on this processor "
                  "architecture");

  load (&f, offsetof (struct seccomp_data, arch));
  jump (&f, BPF_JEQ, NATIVE_ARCH, 1, 0);
  ret (&f, SECCOMP_RET_ERRNO | ENOSYS);
#ifdef __x86_64__
  load (&f, offsetof (struct seccomp_data, nr));
  jump (&f, BPF_JGE, X32_SYSCALL_BIT, 0, 1);
  ret (&f, SECCOMP_RET_ERRNO | ENOSYS);
#endif
#ifdef __NR_open
  open_call (&f, __NR_open, 1);
#endif
  open_call (&f, __NR_openat, 2);
  open_call (&f, __NR_open_by_handle_at, 2);
#ifdef __NR_creat
  refuse_call (&f, __NR_creat, EROFS);
#endif
  refuse_call (&f, __NR_truncate, EROFS);
  /* openat2 passes its flags in a structure the filter cannot see; its
   * callers fall back to openat.
   */
#ifdef __NR_openat2
  refuse_call (&f, __NR_openat2, ENOSYS);
#endif
  ioctl_call (&f);
  ret (&f, SECCOMP_RET_ALLOW);

  if (f.n > FILTER_MAX)
    return error ("read-only filter: %u instructions do not fit in %d", f.n,
                  FILTER_MAX);
  prog.len = f.n;
  prog.filter = f.insns;
  /* Without no_new_privs an unprivileged thread may not install a filter;
   * it is per thread too.
   */
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
    return error_errno (errno, "prctl PR_SET_NO_NEW_PRIVS");
  if (prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1)
    return error_errno (errno, "cannot forbid writes to the disks (seccomp)");
  return 0;
}
