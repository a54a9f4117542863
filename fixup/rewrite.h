/* p2vkit fixup: rewriting the device names in a guest's configuration.
 *
 * Each rewriter takes the contents of one file of the guest, replaces the
 * device names it finds in the device map (devmap.h) by UUID=..., and
 * gives back the new contents.  Nothing else changes: comments, blank
 * lines, options, order, the whitespace between fields and words, the
 * line ends (LF or CRLF, and a last line without one) stay byte for byte.
 * They work on memory only; reading and writing the guest's files is the
 * caller's business.
 *
 * Names that are not in the map stay as they are.  When such a name is
 * one that will not survive new hardware (devmap_name_is_unstable: a
 * /dev/sdc1 that no disk of the guest has), the log gets a warning
 * "unknown device".  Names that are stable already are left alone
 * silently: LABEL=, UUID=, PARTUUID=, /dev/mapper/..., /dev/VG/LV (LVM),
 * /dev/md0, network filesystems (server:/path, //server/share), bind
 * mounts (their first field is a directory), tmpfs, proc...
 *
 * The input is a guest's file, so it is untrusted: any bytes.  It must be
 * at most REWRITE_INPUT_MAX bytes and must not hold a NUL byte: the
 * programs that read these files stop at a NUL, so its meaning is not
 * certain, and such a file is refused with an error (change nothing).
 * Every other byte is taken literally.  Time and memory are linear in
 * the size of the input.
 *
 * Every rewriter has the same contract:
 *
 *   int rewrite_X (const char *in, size_t len, const struct devmap *map,
 *                  char **out, size_t *out_len, struct rewrite_log *log);
 *
 * IN is LEN bytes (not necessarily NUL-terminated).  On success it sets
 * *OUT to the new contents, NUL-terminated (caller frees), *OUT_LEN to
 * their length without the NUL, adds the changes and warnings to LOG (if
 * LOG is not NULL), and returns the number of lines changed: 0 means *OUT
 * is the same as IN, and the file need not be written back.  On failure
 * it returns -1 with an error recorded (error.h), leaves *OUT and
 * *OUT_LEN alone and LOG as it was.
 *
 * Thread use: different calls may run in different threads if they use
 * different logs.
 */
#ifndef P2V_REWRITE_H
#define P2V_REWRITE_H

#include <stddef.h>

#include "devmap.h"

/* The largest input accepted: config files are kilobytes. */
#define REWRITE_INPUT_MAX (16 * 1024 * 1024)

/* The most entries a log keeps; more are only counted (n_dropped).  Real
 * files are far below it; it keeps a hostile file from making a report
 * of millions of warnings.
 */
#define REWRITE_LOG_MAX 10000

enum rewrite_log_kind {
  REWRITE_CHANGE,               /* a line changed */
  REWRITE_WARNING,              /* something the caller should know */
};

/* One entry of the log.  The texts are bytes from the guest's file, not
 * checked for UTF-8 (but never holding a NUL or a newline); a report
 * writer must escape them for its format.
 */
struct rewrite_log_entry {
  enum rewrite_log_kind kind;
  char *file; /* as given to rewrite_log_set_file, or NULL */
  size_t line; /* 1 for the first line */
  char *old_text; /* change: the line before (no line end) */
  char *new_text; /* change: the line after */
  char *message; /* warning: printable ASCII, one line */
};

/* The changes and warnings of the rewriters, in the order of the files
 * and, within a file, of the lines.  Start from an all-zero one ({ 0 });
 * rewrite_log_free() releases everything it holds.
 */
struct rewrite_log {
  char *file; /* the file the next entries are about */
  struct rewrite_log_entry *entries;
  size_t n;
  size_t alloc;
  size_t n_dropped; /* entries beyond REWRITE_LOG_MAX */
};

/* The file that the entries added from now on are about (copied), as the
 * report should name it: "/etc/fstab".  FILE may be NULL.
 */
int rewrite_log_set_file (struct rewrite_log *log, const char *file);

/* Release everything LOG holds and zero it. */
void rewrite_log_free (struct rewrite_log *log);

/* /etc/fstab: the first field of each entry (fs_spec).  Fields are split
 * at spaces and tabs; a field's octal escapes (\040 for a space, as
 * getmntent and libmount decode them) are decoded to look the name up,
 * and a field that is not rewritten keeps them.
 *
 *   /dev/sda1\t/\text4\terrors=remount-ro 0 1
 *   -> UUID=0b1c...\t/\text4\terrors=remount-ro 0 1
 */
int rewrite_fstab (const char *in, size_t len, const struct devmap *map,
                   char **out, size_t *out_len, struct rewrite_log *log);

/* /etc/crypttab: the second field of each entry (the encrypted source
 * device), taken literally.  The key file (third field) stays.
 *
 *   sda5_crypt /dev/sda5 none luks,discard
 *   -> sda5_crypt UUID=5d2e... none luks,discard
 */
int rewrite_crypttab (const char *in, size_t len, const struct devmap *map,
                      char **out, size_t *out_len, struct rewrite_log *log);

/* A kernel command line (/proc/cmdline, /etc/kernel/cmdline): the values
 * of the root= and resume= parameters, anywhere, on any line.  Words are
 * split at whitespace outside double quotes, as the kernel splits them;
 * a value in double quotes (root="/dev/sda3") is looked up without them.
 *
 *   BOOT_IMAGE=/vmlinuz root=/dev/sda3 ro resume=/dev/sda2 quiet
 *   -> BOOT_IMAGE=/vmlinuz root=UUID=6f0a... ro resume=UUID=9c4d... quiet
 */
int rewrite_cmdline (const char *in, size_t len, const struct devmap *map,
                     char **out, size_t *out_len, struct rewrite_log *log);

/* /etc/default/grub: the command lines in the values of the shell
 * variables GRUB_CMDLINE_LINUX, GRUB_CMDLINE_LINUX_DEFAULT and the other
 * GRUB_CMDLINE_LINUX* (as rewrite_cmdline, inside the value), in "..."
 * (with its backslash escapes), '...' or unquoted, a value that goes on
 * over several lines too.  Assignments in comments stay; a word that is
 * only partly quoted (root="/dev/sda3" in the shell) is not recognised.
 */
int rewrite_grub_default (const char *in, size_t len, const struct devmap *map,
                          char **out, size_t *out_len, struct rewrite_log *log);

/* A generated GRUB configuration (/boot/grub/grub.cfg, or GRUB legacy's
 * menu.lst): the command line (as rewrite_cmdline) on the lines that load
 * a kernel: linux, linux16, linuxefi, kernel, module, module2.  Words in
 * '...' are kept whole as GRUB's script does, and root='/dev/sda3' is
 * looked up without the quotes.  Everything else stays,
 * including GRUB's own device names (set root='hd0,msdos1') and search
 * commands.
 *
 * XXX A linux line continued on the next line with a backslash is looked
 * at on its first line only; grub-mkconfig does not write them.
 */
int rewrite_grub_cfg (const char *in, size_t len, const struct devmap *map,
                      char **out, size_t *out_len, struct rewrite_log *log);

/* initramfs-tools' resume configuration
 * (/etc/initramfs-tools/conf.d/resume): the value of the shell variable
 * RESUME, quoted or not.  RESUME=none and RESUME=auto stay.
 *
 *   RESUME=/dev/sda2  ->  RESUME=UUID=9c4d...
 */
int rewrite_resume_conf (const char *in, size_t len, const struct devmap *map,
                         char **out, size_t *out_len, struct rewrite_log *log);

/* The type of every rewriter above, for tables of them. */
typedef int rewrite_fn (const char *in, size_t len, const struct devmap *map,
                        char **out, size_t *out_len, struct rewrite_log *log);

#endif /* P2V_REWRITE_H */
