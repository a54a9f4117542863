/* p2vkit: does KVM really work on this machine?
 *
 * /dev/kvm existing is not enough: under nested virtualisation every
 * ioctl may succeed and a guest still never boot (here: each guest write
 * to memory traps into the host kernel, a thousand times too slow, and
 * qemu -accel kvm seems to hang in the firmware, or where the guest's
 * kernel decompresses itself).  kvm_probe() therefore
 * runs a guest: in a child process it creates a virtual machine with
 * 128 KiB of memory and one vCPU in real mode, whose code writes 4 MiB
 * into its memory and then halts, and expects the exit KVM_EXIT_HLT.  The
 * parent waits at most TIMEOUT_MS for the answer and kills the child when
 * it does not come (a child stuck in the kernel may stay a zombie until
 * this process ends: it is not waited for).  A working KVM answers in a
 * few milliseconds.
 *
 * Not thread-safe (it forks); call it from the main thread.
 */
#ifndef P2V_KVM_PROBE_H
#define P2V_KVM_PROBE_H

#include <stdbool.h>
#include <stddef.h>

/* How long the probe may take: a working KVM answers in a few
 * milliseconds; a nested one that traps every write would need seconds.
 */
#define KVM_PROBE_TIMEOUT_MS 500

/* Room for the reason kvm_probe() gives. */
#define KVM_PROBE_REASON_MAX 256

/* True if the test guest ran to its `hlt` in time.  REASON (REASON_MAX
 * bytes, may be NULL) receives one line saying what happened ("a test
 * guest wrote 4194304 bytes and ran to its hlt in 2.1 ms") or what
 * failed ("/dev/kvm: No such file or directory", "a test guest writing
 * 4194304 bytes did not finish in 500 ms ...").  Never fails otherwise: any failure
 * means KVM does not work.
 */
bool kvm_probe (int timeout_ms, char *reason, size_t reason_max);

#endif /* P2V_KVM_PROBE_H */
