/* p2vkit: the libvirt domain XML of a converted machine (p2v-domxml).
 *
 * domxml_build() starts from a template (templates/domain.xml, built into
 * the program, or the user's copy), sets what it owns from the source
 * machine's inventory, its disk images and p2v-fixup's report, and keeps
 * everything else of the template.  Every rule is written down in
 * templates/domain.md.
 *
 * Functions return 0 (or a pointer) on success and -1 (or NULL) with an
 * error recorded (error.h).  They may be called from any thread, but
 * domxml_resolve_type() forks (see kvm-probe.h).
 */
#ifndef P2V_DOMXML_H
#define P2V_DOMXML_H

#include <stdbool.h>
#include <stddef.h>

#include "fixup-report.h"
#include "inventory.h"
#include "kvm-probe.h"
#include "stream.h"

/* At most this many disks (vda..vdiv). */
#define DOMXML_MAX_DISKS 256

/* The largest template read. */
#define DOMXML_TEMPLATE_MAX (1024 * 1024)

/* What a machine without an inventory gets. */
#define DOMXML_DEFAULT_MEMORY_MIB 2048
#define DOMXML_DEFAULT_VCPUS 2

/* The libvirt network interfaces are put on by default. */
#define DOMXML_DEFAULT_NETWORK "default"

enum domxml_type {
  DOMXML_TYPE_AUTO,             /* kvm if kvm_probe() says so, else qemu */
  DOMXML_TYPE_KVM,
  DOMXML_TYPE_QEMU,             /* TCG */
};

enum domxml_firmware {
  DOMXML_FIRMWARE_AUTO,         /* the inventory's, else the first disk's */
  DOMXML_FIRMWARE_BIOS,
  DOMXML_FIRMWARE_EFI,
};

struct domxml_options {
  const struct inventory *inv;  /* the source machine, or NULL */
  const struct fixup_report *report; /* p2v-fixup's report, or NULL */
  char *const *disks;           /* image files or block devices, in order */
  size_t n_disks;
  const char *name;             /* NULL: the inventory's short host name,
                     * else the first disk's base name */
  enum domxml_type type;        /* KVM or QEMU: resolve AUTO first */
  enum domxml_firmware firmware;
  const char *template_path;    /* NULL: the built-in template */
  const char *network;          /* libvirt network; NULL: "default" */
  const char *bridge;           /* a host bridge instead of a network */
  const char *cpu_model;        /* NULL: host-model */
};

/* What domxml_build() chose, for the caller to tell. */
struct domxml_result {
  char name[STREAM_MAX_NAME + 1]; /* the domain's name */
  bool efi;
  bool virtio;                  /* else SATA and e1000 */
  size_t n_nics;
};

/* Build the domain XML for O: a NUL-terminated document (caller frees),
 * its length in *LEN.  RESULT (may be NULL) says what was chosen.
 */
char *domxml_build (const struct domxml_options *o, size_t *len,
                    struct domxml_result *result);

/* Resolve DOMXML_TYPE_AUTO: KVM if kvm_probe() says it works.  REASON
 * (KVM_PROBE_REASON_MAX bytes, may be NULL) gets the probe's answer.
 * Other types are returned as they are.
 */
enum domxml_type domxml_resolve_type (enum domxml_type type, char *reason,
                                      size_t reason_max);

/* "kvm" or "qemu" (libvirt's domain types), "auto". */
const char *domxml_type_name (enum domxml_type type);

/* The template built into the program (templates/domain.xml),
 * NUL-terminated; its length in *LEN if LEN is not NULL.
 */
const char *domxml_builtin_template (size_t *len);

#endif /* P2V_DOMXML_H */
