/* p2vkit: what p2v-domxml reads from p2v-fixup's report.
 *
 * The report (templates/fixup-report.md, checked against the schema
 * templates/fixup-report.rng built into the program) says, per installed
 * kernel of the guest, whether it has the virtio drivers, and per network
 * interface the MAC its name is pinned to.  Only that is kept here.
 *
 * Ownership: struct fixup_report owns its strings and arrays;
 * fixup_report_free() releases them.  Start from an all-zero struct,
 * which is also what a failing function leaves.  Functions return 0 or -1
 * with an error recorded (error.h).
 */
#ifndef P2V_FIXUP_REPORT_H
#define P2V_FIXUP_REPORT_H

#include <stdbool.h>
#include <stddef.h>

/* The largest report read. */
#define FIXUP_REPORT_MAX (16 * 1024 * 1024)

struct fixup_report_kernel {
  char *version;                /* 6.1.0-27-amd64 */
  bool virtio;                  /* virtio="yes" */
};

struct fixup_report_nic {
  char *name;                   /* ens3 */
  char *mac;                    /* NULL: none known */
};

struct fixup_report {
  struct fixup_report_kernel *kernels;
  size_t n_kernels;
  struct fixup_report_nic *nics; /* in the report's order */
  size_t n_nics;
};

/* Read and check the report file PATH into *R.  Messages start
 * "--fixup-report: PATH".
 */
int fixup_report_read_file (const char *path, struct fixup_report *r);

/* Can the guest use virtio disks and NICs?  Yes unless the report lists
 * kernels and none of them has virtio: a kernel that has it is the one
 * p2v-fixup prepared for KVM (its initramfs has the virtio drivers and
 * perhaps no others).
 */
bool fixup_report_virtio (const struct fixup_report *r);

/* The MAC the report pins the NIC NAME to, or NULL. */
const char *fixup_report_mac (const struct fixup_report *r, const char *name);

void fixup_report_free (struct fixup_report *r);

/* The RELAX NG schema templates/fixup-report.rng built into the program,
 * NUL-terminated; its length in *LEN if LEN is not NULL.
 */
const char *fixup_report_schema (size_t *len);

#endif /* P2V_FIXUP_REPORT_H */
