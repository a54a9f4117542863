/* p2v-fixup: what its files share.
 *
 * The run, in order (main.c):
 *
 *   overlay.c   each image gets a temporary qcow2 overlay; libguestfs
 *               works on the overlays, so the images change only at the
 *               very end (overlay_commit_all), and a refusal, an error,
 *               an interruption or --dry-run leaves them as they were
 *   guest.c     launch the appliance, inspect the guest (our own
 *               inspection), refuse what we cannot handle, build the
 *               device map, mount
 *   files.c     device names in fstab, crypttab, GRUB, resume -> UUID=
 *   nics.c      the NIC map, names pinned to MACs (new ones with
 *               --new-macs), --network dhcp, Xorg
 *   kernels.c   each kernel's drivers, the initramfs configuration and
 *               its rebuild with the guest's own tool
 *   report.c    the report (XML, templates/fixup-report.md)
 *
 * Everything is in one struct fixup, owned by main().  Functions return 0,
 * or -1 with an error recorded (error.h); only main() prints and exits.
 * Warnings for the user go through fixup_warn(): on stderr and in the
 * report.
 */
#ifndef P2V_FIXUP_H
#define P2V_FIXUP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <guestfs.h>

#include "cli.h"
#include "devmap.h"
#include "inventory.h"
#include "rewrite.h"

enum fixup_target {
  TARGET_VIRT,                  /* a KVM guest: virtio */
  TARGET_PHYSICAL, /* unknown real hardware: a generic initramfs */
};

enum initramfs_tool {
  TOOL_NONE,
  TOOL_INITRAMFS_TOOLS,
  TOOL_DRACUT,
};

/* What happened to a file of the guest. */
enum file_action {
  FILE_CHANGED,
  FILE_CREATED,
  FILE_DELETED,
};

struct file_record {
  char *path; /* in the guest: /etc/fstab */
  enum file_action action;
};

enum rebuild_status {
  REBUILD_NO, /* not attempted: the kernel lacks drivers */
  REBUILD_YES,
  REBUILD_SKIPPED, /* --no-initramfs */
};

struct kernel_record {
  char *version; /* 6.1.0-27-amd64 */
  char *initramfs; /* /boot/initrd.img-6.1.0-27-amd64 */
  char *missing; /* "virtio_net virtio_scsi", or NULL */
  unsigned modules; /* the virtio drivers that are modules (kernels.c) */
  enum rebuild_status rebuilt;
  double seconds; /* the rebuild's time */
};

enum mac_source {
  MAC_NONE,
  MAC_FROM_INVENTORY,
  MAC_FROM_CONFIG, /* a network configuration, or an earlier run's pin */
  MAC_GENERATED,   /* new, random (--new-macs) */
};

struct nic_record {
  char *name; /* ens3 */
  char *mac; /* 52:54:00:12:34:56, or NULL */
  char *driver; /* from the inventory, or NULL */
  enum mac_source mac_from;
  bool in_inventory;
  char *pinned; /* the file that pins it, or NULL */
  char **configs; /* the guest's files that name it */
  size_t n_configs;
};

/* A block device of the guest, as guest.c probed it (blkid). */
struct guest_device {
  char *dev;  /* the appliance's name: /dev/sda3, /dev/vg0/root */
  char *type; /* ext4, swap, crypto_LUKS, LVM2_member..., or "" */
  char *uuid, *label, *partuuid, *partlabel; /* "" when it has none */
  int disk;           /* the index of its image; -1 for an LV or array */
  unsigned partition; /* its number; 0 for a whole disk */
};

struct fixup {
  /* Options (main.c). */
  const struct cli *cli;
  enum fixup_target target; /* --target */
  const char *inventory_path; /* --inventory */
  const char *report_path; /* --report */
  bool dhcp; /* --network dhcp */
  bool rebuild; /* not --no-initramfs */
  bool dry_run; /* --dry-run */
  bool keep_xorg; /* --keep-xorg */
  bool new_macs; /* --new-macs */
  char **images; /* the operands, in order */
  size_t n_images;
  const volatile sig_atomic_t *cancel; /* set by SIGINT, SIGTERM, SIGHUP */
  FILE *progress;               /* stdout, or stderr with --report - */

  struct inventory inv; /* all zero without --inventory */
  bool have_inventory;
  double start; /* monotonic seconds at the start */

  /* overlay.c */
  char *tmpdir;
  char **formats; /* "raw" or "qcow2", per image */
  char **overlays; /* per image */

  /* guest.c */
  guestfs_h *g;
  char *root; /* the root filesystem, appliance name */
  char *type, *distro, *product, *hostname, *arch;
  int major, minor;
  bool systemd_udev; /* .link files work (systemd-udevd) */
  enum initramfs_tool tool;
  const char *tool_path; /* its program in the guest */
  struct devmap map;
  struct guest_device *devices; /* every one with something on it */
  size_t n_devices;

  /* What was done, for the report. */
  struct rewrite_log log; /* line changes and warnings, per file */
  struct file_record *files;
  size_t n_files;
  struct kernel_record *kernels;
  size_t n_kernels;
  struct nic_record *nics;
  size_t n_nics;
  char **warnings;
  size_t n_warnings;
};

/* main.c */
void fixup_step (struct fixup *f, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
void fixup_warn (struct fixup *f, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));
int fixup_note_file (struct fixup *f, const char *path,
                     enum file_action action);
int fixup_check_cancel (const struct fixup *f);
double fixup_now (void);
const char *target_name (enum fixup_target target);
const char *tool_name (enum initramfs_tool tool);

/* overlay.c */
int overlay_create_all (struct fixup *f);
int overlay_commit_all (struct fixup *f);
void overlay_remove_all (struct fixup *f);

/* guest.c */
int guest_open (struct fixup *f);
/* Find the one root, refuse what we cannot convert, mount the root. */
int guest_inspect (struct fixup *f);
int guest_build_devmap (struct fixup *f);
/* Mount the rest, as the guest's /etc/fstab says. */
int guest_mount (struct fixup *f);
int guest_close (struct fixup *f);
void guest_free_devices (struct fixup *f);
/* The guest's error, as an error recorded: "WHAT: libguestfs's message". */
int guest_error (struct fixup *f, const char *what);

/* files.c: reading and writing the guest's files. */
/* Modes of the files we create: configuration, readable by all; a
 * script the guest runs.
 */
#define GUEST_CONFIG_MODE 0644
#define GUEST_SCRIPT_MODE 0755
int guest_read (struct fixup *f, const char *path, char **buf, size_t *len);
/* Write BUF to PATH; a file it creates (ACTION FILE_CREATED) gets MODE,
 * an existing one keeps its own.
 */
int guest_write (struct fixup *f, const char *path, const char *buf, size_t len,
                 enum file_action action, int mode);
int guest_remove (struct fixup *f, const char *path);
bool guest_is_file (struct fixup *f, const char *path);
bool guest_is_dir (struct fixup *f, const char *path);
/* A regular file or a symbolic link (not followed) at PATH. */
bool guest_exists (struct fixup *f, const char *path);
/* The regular files in DIR (not following links) whose names end in
 * SUFFIX ("" for all), as full paths in name order; caller frees.
 */
int guest_list (struct fixup *f, const char *dir, const char *suffix,
                char ***paths, size_t *n);
void free_list (char **list, size_t n);
/* Apply REWRITE to PATH, if it is a regular file, and write it back if
 * it changed.
 */
int guest_rewrite (struct fixup *f, const char *path, rewrite_fn *rewrite);
/* The same with an edit that needs no device map (net.h's rules). */
typedef int edit_fn (const char *in, size_t len, char **out, size_t *out_len,
                     struct rewrite_log *log);
int guest_edit (struct fixup *f, const char *path, edit_fn *edit);
/* Make PATH hold CONTENTS (created if need be, with MODE), or remove it
 * when CONTENTS is NULL; nothing is written when it holds them already.
 */
int guest_set_file (struct fixup *f, const char *path, const char *contents,
                    int mode);
int files_rewrite_devices (struct fixup *f);

/* nics.c */
int nics_fixup (struct fixup *f);

/* kernels.c */
int kernels_find (struct fixup *f);
int kernels_configure (struct fixup *f);
int kernels_rebuild (struct fixup *f);

/* report.c */
int report_write (struct fixup *f);

#endif /* P2V_FIXUP_H */
