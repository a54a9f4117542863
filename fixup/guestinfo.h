/* p2vkit fixup: what a Linux guest is, read from its own files:
 * os-release (distribution, version, product name), the first line of a
 * file (/etc/hostname, /etc/debian_version), the mount table
 * (/etc/fstab), and the names the guest gives devices.
 *
 * p2v-fixup finds the guest's root filesystem itself (a filesystem with
 * /etc/fstab and an os-release file) and reads these files through
 * libguestfs; the parsing is here, on memory only.  The files come from
 * the guest, so they are untrusted: any bytes, at most
 * GUESTINFO_INPUT_MAX of them (a larger input is refused); a NUL ends
 * the text, as it would for the guest's own readers.  Time and memory
 * are linear in the input.
 *
 * Functions that allocate return -1 (or NULL) with an error recorded
 * (error.h) only when memory runs out or the input is too large; odd
 * contents are never an error: what cannot be read is left out.  No
 * state is shared: any number of calls may run at once.
 */
#ifndef P2V_GUESTINFO_H
#define P2V_GUESTINFO_H

#include <stdbool.h>
#include <stddef.h>

/* The largest file read: configuration files are kilobytes. */
#define GUESTINFO_INPUT_MAX (16 * 1024 * 1024)

/* The longest value kept (a product name, a host name, a fstab field). */
#define GUESTINFO_VALUE_MAX 4096

/* What os-release(5) says, each NULL if it does not say. */
struct os_release {
  char *id;          /* ID=debian */
  char *pretty_name; /* PRETTY_NAME="Debian GNU/Linux 12 (bookworm)" */
  char *version_id;  /* VERSION_ID="12" */
};

/* Parse an os-release file: KEY=VALUE lines, the value unquoted as the
 * shell would ("...", with \" \\ \$ \` escapes; '...'; or bare), comments
 * and other lines ignored, the last assignment of a key winning.  Sets
 * *OUT (all three NULL at worst); release it with os_release_free.
 */
int guestinfo_os_release (const char *in, size_t len, struct os_release *out);
void os_release_free (struct os_release *r);

/* libguestfs's name for the distribution whose os-release ID is ID
 * ("debian", "rhel", "opensuse" for opensuse-leap...), as
 * guestfs_inspect_get_distro gives it; "unknown" for an ID it has none
 * for.  A static string.
 */
const char *guestinfo_distro (const char *id);

/* The version in S: "12" -> 12.0, "22.04" -> 22.4, "12.5" -> 12.5,
 * "8.10.1" -> 8.10.  Returns false (and leaves *MAJOR, *MINOR alone) if S
 * does not start with a number.
 */
bool guestinfo_version (const char *s, int *major, int *minor);

/* The first line of IN, without surrounding blanks; NULL (no error) if
 * it is empty.  Caller frees.
 */
char *guestinfo_first_line (const char *in, size_t len);

/* "release N.M" or "release N" in a line such as /etc/redhat-release's
 * "CentOS Linux release 7.9.2009 (Core)" -> 7.9.
 */
bool guestinfo_release_version (const char *line, int *major, int *minor);

/* One entry of /etc/fstab, its fields with the octal escapes (\040)
 * decoded.  Fields after the fourth (dump, pass) are not kept; a line
 * with fewer than two fields is no entry.
 */
struct fstab_entry {
  char *spec;    /* /dev/sda1, UUID=..., LABEL=..., server:/export */
  char *file;    /* the mount point: /boot */
  char *vfstype; /* ext4, or "" */
  char *mntops;  /* defaults,nofail, or "" */
  size_t line;   /* 1 for the first */
};

/* The entries of fstab IN, in order (*ENTRIES, caller frees with
 * fstab_free).  Comments (a first field starting with '#') and blank
 * lines are skipped, and so are fields longer than GUESTINFO_VALUE_MAX.
 */
int guestinfo_fstab (const char *in, size_t len, struct fstab_entry **entries,
                     size_t *n);
void fstab_free (struct fstab_entry *entries, size_t n);

/* Is NAME among the comma-separated mount options OPTS?  "nofail" is in
 * "defaults,nofail"; with VALUE not NULL, "subvol" matches "subvol=@"
 * and *VALUE is set to the part after '=' (caller frees; NULL if out of
 * memory, or for an option without '=').
 */
bool guestinfo_has_option (const char *opts, const char *name, char **value);

/* The LVM name of a device-mapper name, as lvm makes them:
 * /dev/mapper/vg0-home -> /dev/vg0/home, /dev/mapper/my--vg-lv--1 ->
 * /dev/my-vg/lv-1.  NULL (no error) if NAME is not one (a LUKS mapping
 * such as /dev/mapper/sda5_crypt has no single dash); caller frees.
 */
char *guestinfo_dm_to_lv (const char *name);

#endif /* P2V_GUESTINFO_H */
