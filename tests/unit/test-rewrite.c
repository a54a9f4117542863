/* Unit tests of the fixup's rewrite rules (fixup/rewrite.h) and device map
 * (fixup/devmap.h): table-driven cases for every rewriter, with the exact
 * output and log expected, then limits and errors.  Run by
 * tests/t-fixup-rewrite.sh.  Prints a line per failed check; exit 0 if
 * all passed, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "devmap.h"
#include "error.h"
#include "rewrite.h"

/* The guest of the tests: disk 0 has /boot, /, swap, a LUKS partition and
 * /home; disk 1 a FAT /srv; disk 27 a filesystem on the whole disk.
 */
#define BOOT "0d3f5a7c-1e2b-4c6d-8f90-a1b2c3d4e5f6" /* disk 0, partition 1 */
#define ROOT "6f0a1d2c-3b4e-4f5a-8b6c-7d8e9f0a1b2c" /* disk 0, partition 2 */
#define SWAP "9c4d2e1f-0a3b-4c5d-9e6f-1a2b3c4d5e6f" /* disk 0, partition 3 */
#define LUKS "5d2e8a41-7b3c-4e9f-a0d1-c2b3a4958671" /* disk 0, partition 5 */
#define HOME "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901" /* disk 0, partition 6 */
#define SRV "4A1B-2C3D"                             /* disk 1, partition 1 */
#define BIG "c0ffee00-1234-4abc-8def-0123456789ab"  /* disk 27 */

/* Names the inventory would give: by-id and by-path links. */
#define BY_ID_ROOT "/dev/disk/by-id/ata-ST1000DM003-1SB102_Z9A1B2C3-part2"
#define BY_PATH_HOME "/dev/disk/by-path/pci-0000:00:1f.2-ata-1.0-part6"
#define BY_ID_SWAP                                                             \
  "/dev/disk/by-id/nvme-Samsung_SSD_970_EVO_1TB_S467NX0M123456-part3"
/* udev escapes a space in a serial number as \x20. */
#define BY_ID_USB "/dev/disk/by-id/usb-My\\x20Disk_0123-0:0-part1"

static struct devmap map;

static void
make_map (void)
{
  CHECK (devmap_add (&map, BY_ID_ROOT, ROOT) == 0);
  CHECK (devmap_add (&map, BY_PATH_HOME, HOME) == 0);
  CHECK (devmap_add (&map, BY_ID_SWAP, SWAP) == 0);
  CHECK (devmap_add (&map, BY_ID_USB, SRV) == 0);
  CHECK (devmap_add_partition (&map, 0, 1, BOOT) == 0);
  CHECK (devmap_add_partition (&map, 0, 2, ROOT) == 0);
  CHECK (devmap_add_partition (&map, 0, 3, SWAP) == 0);
  CHECK (devmap_add_partition (&map, 0, 5, LUKS) == 0);
  CHECK (devmap_add_partition (&map, 0, 6, HOME) == 0);
  CHECK (devmap_add_partition (&map, 1, 1, SRV) == 0);
  CHECK (devmap_add_partition (&map, 27, 0, BIG) == 0);
  CHECK (map.n == 4 + 7 * 5);
}

static void
test_devmap (void)
{
  struct devmap m = { 0 };
  static const char *const unstable[] = {
    "/dev/sda",
    "/dev/sda1",
    "/dev/sdaa12",
    "/dev/hdc",
    "/dev/vdb3",
    "/dev/xvda1",
    "/dev/nvme0n1",
    "/dev/nvme0n1p3",
    "/dev/nvme10n2p15",
    "/dev/disk/by-id/ata-X-part1",
    "/dev/disk/by-path/pci-0000:00:1f.2-ata-1",
  };
  static const char *const stable[] = {
    "/dev/mapper/vg0-root",
    "/dev/vg0/root",
    "/dev/sdvg/root",
    "/dev/md0",
    "/dev/sr0",
    "/dev/loop0",
    "/dev/disk/by-uuid/" ROOT,
    "/dev/disk/by-label/root",
    "/dev/disk/by-id/",
    "/dev/nvme0",
    "/dev/nvme0n",
    "/dev/nvme0n1p",
    "/dev/nvme0c0n1",
    "/dev/sd",
    "/dev/sda1a",
    "/dev/sdA1",
    "UUID=" ROOT,
    "LABEL=root",
    "sda1",
    "tmpfs",
    "server:/srv",
    "",
    "/dev/",
  };
  size_t i;

  /* What devmap_add refuses. */
  CHECK (devmap_add (&m, "sda1", ROOT) == -1
         && strcmp (error_message (), "device map: 'sda1': not a device name")
           == 0);
  CHECK (devmap_add (&m, "/dev/", ROOT) == -1);
  CHECK (devmap_add (&m, "/dev/sd a", ROOT) == -1);
  CHECK (devmap_add (&m, "/dev/sda\n", ROOT) == -1);
  CHECK (devmap_add (&m, "/dev/\"sda", ROOT) == -1);
  CHECK (devmap_add (&m, "/dev/sda1", "") == -1);
  CHECK (devmap_add (&m, "/dev/sda1", "6f0a1d2c 3b4e") == -1);
  CHECK (
    devmap_add (&m, "/dev/sda1", "xyz") == -1
    && strcmp (error_message (), "device map: /dev/sda1: 'xyz': not a UUID")
      == 0);
  CHECK (m.n == 0);

  /* The same name twice: fine with the same UUID, not with another. */
  CHECK (devmap_add (&m, "/dev/sdb1", SRV) == 0);
  CHECK (devmap_add (&m, "/dev/sdb1", SRV) == 0);
  CHECK (devmap_add (&m, "/dev/sdb1", ROOT) == -1
         && strcmp (error_message (),
                    "device map: /dev/sdb1: UUID " SRV ", and also " ROOT)
           == 0);
  CHECK (m.n == 1);

  /* A conventional name never overrides a known one. */
  CHECK (devmap_add_partition (&m, 1, 1, HOME) == 0);
  CHECK (strcmp (devmap_lookup (&m, "/dev/sdb1", 9), SRV) == 0);
  CHECK (strcmp (devmap_lookup (&m, "/dev/vdb1", 9), HOME) == 0);
  CHECK (strcmp (devmap_lookup (&m, "/dev/nvme1n1p1", 14), HOME) == 0);
  CHECK (m.n == 5);

  /* Letters as the kernel counts disks; whole disks. */
  CHECK (devmap_add_partition (&m, 25, 0, BIG) == 0);
  CHECK (devmap_add_partition (&m, 26, 3, BIG) == 0);
  CHECK (devmap_add_partition (&m, 701, 0, BIG) == 0);
  CHECK (devmap_add_partition (&m, 702, 4096, BIG) == 0);
  CHECK (devmap_lookup (&m, "/dev/sdz", 8) != NULL);
  CHECK (devmap_lookup (&m, "/dev/hdz", 8) != NULL);
  CHECK (devmap_lookup (&m, "/dev/nvme25n1", 13) != NULL);
  CHECK (devmap_lookup (&m, "/dev/sdaa3", 10) != NULL);
  CHECK (devmap_lookup (&m, "/dev/xvdaa3", 11) != NULL);
  CHECK (devmap_lookup (&m, "/dev/nvme26n1p3", 15) != NULL);
  CHECK (devmap_lookup (&m, "/dev/vdzz", 9) != NULL);
  CHECK (devmap_lookup (&m, "/dev/sdaaa4096", 14) != NULL);
  CHECK (devmap_lookup (&m, "/dev/nvme702n1p4096", 19) != NULL);
  CHECK (devmap_lookup (&m, "/dev/sdaa", 9) == NULL);
  CHECK (devmap_add_partition (&m, DEVMAP_MAX_DISKS, 1, BIG) == -1);
  CHECK (devmap_add_partition (&m, 0, DEVMAP_MAX_PARTITION + 1, BIG) == -1);
  CHECK (devmap_add_partition (&m, 0, 1, "not-a-uuid") == -1);

  /* Lookups take a length, and match exactly. */
  CHECK (strcmp (devmap_lookup (&m, "/dev/sdb1xyz", 9), SRV) == 0);
  CHECK (devmap_lookup (&m, "/dev/sdb", 8) == NULL);
  CHECK (devmap_lookup (&m, "/dev/sdb11", 10) == NULL);
  CHECK (devmap_lookup (&m, "/dev//sdb1", 10) == NULL);
  CHECK (devmap_lookup (&m, "", 0) == NULL);

  for (i = 0; i < sizeof unstable / sizeof unstable[0]; i++)
    if (!devmap_name_is_unstable (unstable[i], strlen (unstable[i]))) {
      check_fail ("'%s' should be unstable", unstable[i]);
    }
  for (i = 0; i < sizeof stable / sizeof stable[0]; i++)
    if (devmap_name_is_unstable (stable[i], strlen (stable[i]))) {
      check_fail ("'%s' should not be unstable", stable[i]);
    }

  devmap_free (&m);
  CHECK (m.n == 0 && m.entries == NULL);
}

/* One case: a rewriter, its input, the output expected (NULL: the same
 * as the input) and the log expected, as log_summary writes it.
 */
struct rcase {
  const char *name;
  rewrite_fn *fn;
  const char *in;
  const char *out;
  const char *log;
};

/* The log as text: "change LINE" for a change (its texts are checked
 * against the input and output by check_log_lines), "warning LINE:
 * MESSAGE" for a warning, one a line.  Caller frees.
 */
static char *
log_summary (const struct rewrite_log *log)
{
  char *buf = NULL;
  size_t size = 0, i;
  FILE *fp = open_memstream (&buf, &size);

  for (i = 0; i < log->n; i++) {
    const struct rewrite_log_entry *e = &log->entries[i];

    if (e->kind == REWRITE_CHANGE)
      fprintf (fp, "%schange %zu", i ? "\n" : "", e->line);
    else
      fprintf (fp, "%swarning %zu: %s", i ? "\n" : "", e->line, e->message);
  }
  fclose (fp);
  return buf;
}

/* Line number LINE (from 1) of TEXT: its start, and its length without
 * the line end ("\n", "\r\n") in *LEN and with it in *FULL.
 */
static const char *
line_of (const char *text, size_t text_len, size_t line, size_t *len,
         size_t *full)
{
  const char *p = text, *end = text + text_len, *nl;

  for (; line > 1; line--) {
    nl = memchr (p, '\n', end - p);
    if (nl == NULL)
      return NULL;
    p = nl + 1;
  }
  if (p == end && line == 1 && p != text && p[-1] == '\n')
    return NULL;
  nl = memchr (p, '\n', end - p);
  *full = nl ? (size_t) (nl + 1 - p) : (size_t) (end - p);
  *len = nl ? (size_t) (nl - p) : (size_t) (end - p);
  if (*len > 0 && p[*len - 1] == '\r')
    (*len)--;
  return p;
}

static size_t
count_lines (const char *text, size_t len)
{
  size_t n = 0, i;

  for (i = 0; i < len; i++)
    n += text[i] == '\n';
  return n + (len > 0 && text[len - 1] != '\n');
}

/* What every result must keep to: each change shows its line before and
 * after, the output has as many lines as the input, and a line without a
 * change is byte for byte the same, line end included.
 */
static void
check_log_lines (const char *name, const char *in, size_t in_len,
                 const char *out, size_t out_len, const struct rewrite_log *log,
                 size_t first)
{
  size_t nlines = count_lines (in, in_len), line, i;
  char *changed = calloc (nlines + 1, 1);

  if (count_lines (out, out_len) != nlines) {
    check_fail ("%s: %zu lines in, %zu out", name, nlines,
                count_lines (out, out_len));
  }
  for (i = first; i < log->n; i++) {
    const struct rewrite_log_entry *e = &log->entries[i];
    size_t a, b, fa, fb;
    const char *pa, *pb;

    CHECK (e->file != NULL && strcmp (e->file, "test-file") == 0);
    if (e->kind != REWRITE_CHANGE)
      continue;
    CHECK (e->line >= 1 && e->line <= nlines);
    if (e->line < 1 || e->line > nlines)
      continue;
    changed[e->line] = 1;
    pa = line_of (in, in_len, e->line, &a, &fa);
    pb = line_of (out, out_len, e->line, &b, &fb);
    if (pa == NULL || pb == NULL || strlen (e->old_text) != a
        || memcmp (e->old_text, pa, a) != 0 || strlen (e->new_text) != b
        || memcmp (e->new_text, pb, b) != 0
        || strcmp (e->old_text, e->new_text) == 0 || fa - a != fb - b
        || memcmp (pa + a, pb + b, fa - a) != 0) {
      check_fail ("%s: line %zu: log '%s' -> '%s' is not the line", name,
                  e->line, e->old_text, e->new_text);
    }
  }
  for (line = 1; line <= nlines; line++) {
    size_t a, b, fa, fb;
    const char *pa, *pb;

    if (changed[line])
      continue;
    pa = line_of (in, in_len, line, &a, &fa);
    pb = line_of (out, out_len, line, &b, &fb);
    if (pa == NULL || pb == NULL || fa != fb || memcmp (pa, pb, fa) != 0) {
      check_fail ("%s: line %zu changed without a log entry", name, line);
    }
  }
  free (changed);
}

/* Run REWRITE on IN; check the output and the log against the expected
 * ones.
 */
static void
run (const char *name, rewrite_fn *rewrite, const char *in, size_t in_len,
     const char *want, size_t want_len, const char *want_log)
{
  struct rewrite_log log = { 0 };
  char *out = NULL, *summary;
  size_t out_len = 0, i;
  int r, changes = 0;

  CHECK (rewrite_log_set_file (&log, "test-file") == 0);
  r = rewrite (in, in_len, &map, &out, &out_len, &log);
  if (r == -1) {
    check_fail ("%s: failed: %s", name, error_message ());
    rewrite_log_free (&log);
    return;
  }
  for (i = 0; i < log.n; i++)
    changes += log.entries[i].kind == REWRITE_CHANGE;
  if (r != changes) {
    check_fail ("%s: returned %d, logged %d changes", name, r, changes);
  }
  CHECK (out[out_len] == '\0');
  if (out_len != want_len || memcmp (out, want, want_len) != 0) {
    check_fail ("%s: output differs\n--- wanted:\n%s\n--- got:\n%s", name, want,
                out);
  }
  summary = log_summary (&log);
  if (strcmp (summary, want_log) != 0) {
    check_fail ("%s: log differs\n--- wanted:\n%s\n--- got:\n%s", name,
                want_log, summary);
  }
  check_log_lines (name, in, in_len, out, out_len, &log, 0);
  free (summary);
  free (out);
  rewrite_log_free (&log);
}

static void
run_case (const struct rcase *c)
{
  const char *want = c->out ? c->out : c->in;

  run (c->name, c->fn, c->in, strlen (c->in), want, strlen (want), c->log);
}

/* A Debian 12 installation's /etc/fstab, as the installer writes it
 * without UUIDs.
 */
#define DEBIAN_FSTAB_HEAD                                                      \
  "# /etc/fstab: static file system information.\n"                            \
  "#\n"                                                                        \
  "# <file system> <mount point>   <type>  <options>       <dump>  <pass>\n"   \
  "# / was on /dev/sda2 during installation\n"

static const struct rcase cases[] = {
  /* fstab */
  { "fstab debian", rewrite_fstab,
    DEBIAN_FSTAB_HEAD
    "/dev/sda2\t/\text4\terrors=remount-ro\t0\t1\n"
    "# /boot was on /dev/sda1 during installation\n"
    "/dev/sda1       /boot           ext2    defaults        0       2\n"
    "# swap was on /dev/sda3 during installation\n"
    "/dev/sda3       none            swap    sw              0       0\n"
    "/dev/sr0        /media/cdrom0   udf,iso9660 user,noauto     0       0\n",
    DEBIAN_FSTAB_HEAD
    "UUID=" ROOT "\t/\text4\terrors=remount-ro\t0\t1\n"
    "# /boot was on /dev/sda1 during installation\n"
    "UUID=" BOOT "       /boot           ext2    defaults        0       2\n"
    "# swap was on /dev/sda3 during installation\n"
    "UUID=" SWAP "       none            swap    sw              0       0\n"
    "/dev/sr0        /media/cdrom0   udf,iso9660 user,noauto     0       0\n",
    "change 5\nchange 7\nchange 9" },
  { "fstab odd lines", rewrite_fstab,
    "  /dev/sda6 /home ext4 defaults,nofail 0 2  # home, indented\n"
    "#/dev/sda6 /home ext4 defaults 0 2\n"
    "\t# /dev/sda2 / ext4 defaults 0 1\n"
    "\n"
    "   \t \n"
    "/srv/data /var/data none bind 0 0\n"
    "/srv/www\t/var/www\tnone\trbind,nofail\t0\t0\n"
    "server:/export /mnt/nfs nfs4 defaults,_netdev 0 0\n"
    "192.0.2.10:/srv /mnt/nfs3 nfs vers=3,nofail 0 0\n"
    "//fs.example/share /mnt/share cifs credentials=/root/.smb 0 0\n"
    "LABEL=data /data xfs defaults 0 0\n"
    "UUID=" ROOT " / ext4 defaults 0 1\n"
    "PARTUUID=0a1b2c3d-02 /alt ext4 defaults 0 2\n"
    "/dev/mapper/vg0-root / ext4 defaults 0 1\n"
    "/dev/vg0/var /var ext4 defaults 0 2\n"
    "tmpfs /tmp tmpfs defaults,size=2G 0 0\n"
    "proc /proc proc defaults 0 0\n"
    "/dev/sdc1 /data ext4 defaults 0 2\n"
    "/dev/sda3 none swap sw,pri=1 0 0\n"
    "/dev/sda6 /mnt/my\\040home ext4 noauto,x-systemd.requires=/dev/sda2 0 "
    "0\n"
    "/dev/sda2\n",
    "  UUID=" HOME " /home ext4 defaults,nofail 0 2  # home, indented\n"
    "#/dev/sda6 /home ext4 defaults 0 2\n"
    "\t# /dev/sda2 / ext4 defaults 0 1\n"
    "\n"
    "   \t \n"
    "/srv/data /var/data none bind 0 0\n"
    "/srv/www\t/var/www\tnone\trbind,nofail\t0\t0\n"
    "server:/export /mnt/nfs nfs4 defaults,_netdev 0 0\n"
    "192.0.2.10:/srv /mnt/nfs3 nfs vers=3,nofail 0 0\n"
    "//fs.example/share /mnt/share cifs credentials=/root/.smb 0 0\n"
    "LABEL=data /data xfs defaults 0 0\n"
    "UUID=" ROOT " / ext4 defaults 0 1\n"
    "PARTUUID=0a1b2c3d-02 /alt ext4 defaults 0 2\n"
    "/dev/mapper/vg0-root / ext4 defaults 0 1\n"
    "/dev/vg0/var /var ext4 defaults 0 2\n"
    "tmpfs /tmp tmpfs defaults,size=2G 0 0\n"
    "proc /proc proc defaults 0 0\n"
    "/dev/sdc1 /data ext4 defaults 0 2\n"
    "UUID=" SWAP " none swap sw,pri=1 0 0\n"
    "UUID=" HOME " /mnt/my\\040home ext4 noauto,x-systemd.requires=/dev/sda2 "
    "0 0\n"
    "UUID=" ROOT "\n",
    "change 1\n"
    "warning 18: unknown device '/dev/sdc1': left as it is\n"
    "change 19\nchange 20\nchange 21" },
  { "fstab names", rewrite_fstab,
    "/dev/nvme0n1p2 / ext4 defaults 0 1\n"
    "/dev/xvda6 /home ext4 defaults 0 2\n"
    "/dev/hda3 none swap sw 0 0\n"
    "/dev/vdb1 /srv vfat umask=077 0 2\n" BY_ID_ROOT
    " / ext4 defaults 0 1\n" BY_PATH_HOME "\t/home\text4\tdefaults\t0\t2\n"
    "/dev/disk/by-id/usb-My\\134x20Disk_0123-0:0-part1 /mnt/usb vfat noauto "
    "0 0\n"
    "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4-part1 /x ext4 defaults 0 2\n"
    "/dev/sdab /big ext4 defaults 0 2\n"
    "/dev/nvme27n1 /big2 ext4 defaults 0 2\n"
    "/dev/nvme0n1p9 /nine ext4 defaults 0 2\n"
    "/dev/sda2\\040x /odd ext4 defaults 0 2\n",
    "UUID=" ROOT " / ext4 defaults 0 1\n"
    "UUID=" HOME " /home ext4 defaults 0 2\n"
    "UUID=" SWAP " none swap sw 0 0\n"
    "UUID=" SRV " /srv vfat umask=077 0 2\n"
    "UUID=" ROOT " / ext4 defaults 0 1\n"
    "UUID=" HOME "\t/home\text4\tdefaults\t0\t2\n"
    "UUID=" SRV " /mnt/usb vfat noauto 0 0\n"
    "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4-part1 /x ext4 defaults 0 2\n"
    "UUID=" BIG " /big ext4 defaults 0 2\n"
    "UUID=" BIG " /big2 ext4 defaults 0 2\n"
    "/dev/nvme0n1p9 /nine ext4 defaults 0 2\n"
    "/dev/sda2\\040x /odd ext4 defaults 0 2\n",
    "change 1\nchange 2\nchange 3\nchange 4\nchange 5\nchange 6\nchange 7\n"
    "warning 8: unknown device "
    "'/dev/disk/by-id/wwn-0x5000c500a1b2c3d4-part1': left as it is\n"
    "change 9\nchange 10\n"
    "warning 11: unknown device '/dev/nvme0n1p9': left as it is" },
  { "fstab no newline", rewrite_fstab, "/dev/sda2 / ext4 defaults 0 1",
    "UUID=" ROOT " / ext4 defaults 0 1", "change 1" },
  { "fstab crlf", rewrite_fstab,
    "# c\r\n/dev/sda2 / ext4 defaults 0 1\r\n/dev/sda1 /boot ext2 defaults 0 "
    "2\r\n\r\n/dev/sdc1\r",
    "# c\r\nUUID=" ROOT " / ext4 defaults 0 1\r\nUUID=" BOOT
    " /boot ext2 defaults 0 2\r\n\r\n/dev/sdc1\r",
    "change 2\nchange 3\n"
    "warning 5: unknown device '/dev/sdc1': left as it is" },
  { "fstab empty", rewrite_fstab, "", NULL, "" },
  { "fstab binary junk", rewrite_fstab,
    "\xff\xfe/dev/sda2 x\n\x01\x02 /dev/sda2\n\x7f\n/dev/disk/by-id/\x1b[1m "
    "/x\n",
    NULL,
    "warning 4: unknown device '/dev/disk/by-id/\\x1b[1m': left as it is" },

  /* crypttab */
  { "crypttab", rewrite_crypttab,
    "# <target name>\t<source device>\t\t<key file>\t<options>\n"
    "sda5_crypt /dev/sda5 none luks,discard\n"
    "home_crypt\tUUID=" LUKS "\tnone\tluks\n"
    "data_crypt  " BY_ID_ROOT "  /dev/sdb1  luks,keyscript=decrypt_keyctl\n"
    "lost_crypt /dev/sdd2 none luks\n"
    "onlyname\n"
    "/dev/sda5\n"
    "\n"
    "  # sda5_crypt /dev/sda5 none luks\n"
    "lvm_crypt /dev/mapper/vg0-secret none luks",
    "# <target name>\t<source device>\t\t<key file>\t<options>\n"
    "sda5_crypt UUID=" LUKS " none luks,discard\n"
    "home_crypt\tUUID=" LUKS "\tnone\tluks\n"
    "data_crypt  UUID=" ROOT "  /dev/sdb1  luks,keyscript=decrypt_keyctl\n"
    "lost_crypt /dev/sdd2 none luks\n"
    "onlyname\n"
    "/dev/sda5\n"
    "\n"
    "  # sda5_crypt /dev/sda5 none luks\n"
    "lvm_crypt /dev/mapper/vg0-secret none luks",
    "change 2\nchange 4\n"
    "warning 5: unknown device '/dev/sdd2': left as it is" },

  /* Kernel command lines. */
  { "cmdline proc", rewrite_cmdline,
    "BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=/dev/sda2 ro quiet\n",
    "BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=UUID=" ROOT " ro quiet\n",
    "change 1" },
  { "cmdline first", rewrite_cmdline, "root=/dev/sda2", "root=UUID=" ROOT,
    "change 1" },
  { "cmdline last", rewrite_cmdline, "ro quiet root=/dev/nvme0n1p2",
    "ro quiet root=UUID=" ROOT, "change 1" },
  { "cmdline two", rewrite_cmdline,
    "  root=/dev/sda2  resume=/dev/sda3 resume_offset=0 rootfstype=ext4\t"
    "quiet  ",
    "  root=UUID=" ROOT "  resume=UUID=" SWAP
    " resume_offset=0 rootfstype=ext4\tquiet  ",
    "change 1" },
  { "cmdline uuid already", rewrite_cmdline,
    "root=UUID=" ROOT " ro resume=UUID=" SWAP " quiet\n", NULL, "" },
  { "cmdline stable", rewrite_cmdline,
    "root=LABEL=root ro resume=PARTUUID=0a1b2c3d-03 root=/dev/mapper/vg0-root "
    "resume=/dev/vg0/swap root=/dev/md0 root=8:2\n",
    NULL, "" },
  { "cmdline not root", rewrite_cmdline,
    "xroot=/dev/sda2 noresume=/dev/sda3 root= rootdelay=/dev/sda2 "
    "ROOT=/dev/sda2 /dev/sda2\n",
    NULL, "" },
  { "cmdline quotes", rewrite_cmdline,
    "root=\"/dev/sda2\" dyndbg=\"file x root=/dev/sda2 +p\" resume='/dev/sda3' "
    "ro\n",
    "root=\"UUID=" ROOT "\" dyndbg=\"file x root=/dev/sda2 +p\" "
    "resume='/dev/sda3' ro\n",
    "change 1" },
  { "cmdline unknown", rewrite_cmdline,
    "root=/dev/sdc2 ro resume=/dev/sda3 root=/dev/disk/by-id/x\xc3\xa9\n",
    "root=/dev/sdc2 ro resume=UUID=" SWAP " root=/dev/disk/by-id/x\xc3\xa9\n",
    "change 1\n"
    "warning 1: unknown device '/dev/sdc2': left as it is\n"
    "warning 1: unknown device '/dev/disk/by-id/x\\xc3\\xa9': left as it is" },
  { "cmdline twice", rewrite_cmdline,
    "root=/dev/sda2 root=/dev/sda2\nroot=/dev/hda2\n",
    "root=UUID=" ROOT " root=UUID=" ROOT "\nroot=UUID=" ROOT "\n",
    "change 1\nchange 2" },

  /* /etc/default/grub */
  { "grub default debian", rewrite_grub_default,
    "# If you change this file, run 'update-grub' afterwards to update\n"
    "# /boot/grub/grub.cfg.\n"
    "# For full documentation of the options in this file, see:\n"
    "#   info -f grub -n 'Simple configuration'\n"
    "\n"
    "GRUB_DEFAULT=0\n"
    "GRUB_TIMEOUT=5\n"
    "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet resume=/dev/sda3\"\n"
    "GRUB_CMDLINE_LINUX=\"root=/dev/sda2 console=ttyS0,115200n8\"\n"
    "\n"
    "# Uncomment to disable generation of recovery mode menu entries\n"
    "#GRUB_DISABLE_RECOVERY=\"true\"\n"
    "#GRUB_CMDLINE_LINUX=\"root=/dev/sda2\"\n"
    "GRUB_DISABLE_LINUX_UUID=true\n",
    "# If you change this file, run 'update-grub' afterwards to update\n"
    "# /boot/grub/grub.cfg.\n"
    "# For full documentation of the options in this file, see:\n"
    "#   info -f grub -n 'Simple configuration'\n"
    "\n"
    "GRUB_DEFAULT=0\n"
    "GRUB_TIMEOUT=5\n"
    "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\n"
    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet resume=UUID=" SWAP "\"\n"
    "GRUB_CMDLINE_LINUX=\"root=UUID=" ROOT " console=ttyS0,115200n8\"\n"
    "\n"
    "# Uncomment to disable generation of recovery mode menu entries\n"
    "#GRUB_DISABLE_RECOVERY=\"true\"\n"
    "#GRUB_CMDLINE_LINUX=\"root=/dev/sda2\"\n"
    "GRUB_DISABLE_LINUX_UUID=true\n",
    "change 9\nchange 10" },
  { "grub default single quotes", rewrite_grub_default,
    "GRUB_CMDLINE_LINUX='root=/dev/sda2 quiet'\n",
    "GRUB_CMDLINE_LINUX='root=UUID=" ROOT " quiet'\n", "change 1" },
  { "grub default escaped quote", rewrite_grub_default,
    "GRUB_CMDLINE_LINUX=\"foo=\\\"a b\\\" root=/dev/sda2 bar=\\\"\"\n",
    "GRUB_CMDLINE_LINUX=\"foo=\\\"a b\\\" root=UUID=" ROOT " bar=\\\"\"\n",
    "change 1" },
  { "grub default unquoted", rewrite_grub_default,
    "GRUB_CMDLINE_LINUX=root=/dev/sda2\n"
    "GRUB_CMDLINE_LINUX_DEFAULT=resume=/dev/sda3;GRUB_TIMEOUT=1\n",
    "GRUB_CMDLINE_LINUX=root=UUID=" ROOT "\n"
    "GRUB_CMDLINE_LINUX_DEFAULT=resume=UUID=" SWAP ";GRUB_TIMEOUT=1\n",
    "change 1\nchange 2" },
  { "grub default export, append", rewrite_grub_default,
    "export GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
    "  GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX resume=/dev/sda3\"\n"
    "\texport\tGRUB_CMDLINE_LINUX_RECOVERY=\"single root=/dev/sda2\"\n",
    "export GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n"
    "  GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX resume=UUID=" SWAP "\"\n"
    "\texport\tGRUB_CMDLINE_LINUX_RECOVERY=\"single root=UUID=" ROOT "\"\n",
    "change 2\nchange 3" },
  { "grub default over lines", rewrite_grub_default,
    "GRUB_CMDLINE_LINUX=\"quiet\n"
    "  root=/dev/sda2\n"
    "  resume=/dev/sda3\" # was root=/dev/sda2\n"
    "GRUB_TIMEOUT=5\n",
    "GRUB_CMDLINE_LINUX=\"quiet\n"
    "  root=UUID=" ROOT "\n"
    "  resume=UUID=" SWAP "\" # was root=/dev/sda2\n"
    "GRUB_TIMEOUT=5\n",
    "change 2\nchange 3" },
  { "grub default left alone", rewrite_grub_default,
    "GRUB_CMDLINE_LINUX=\"quiet\" # root=/dev/sda2\n"
    "GRUB_CMDLINE_XEN=\"root=/dev/sda2\"\n"
    "GRUB_DEVICE=/dev/sda2\n"
    "MY_GRUB_CMDLINE_LINUX=\"root=/dev/sda2\"\n"
    "GRUB_CMDLINE_LINUX=root=\"/dev/sda2\"\n"
    "GRUB_CMDLINE_LINUX=\"root=UUID=" ROOT " root=LABEL=r\"\n"
    "echo GRUB_CMDLINE_LINUX=\"root=/dev/sda2\"\n"
    "GRUB_CMDLINE_LINUX =\"root=/dev/sda2\"\n",
    NULL, "" },
  { "grub default crlf, unknown", rewrite_grub_default,
    "GRUB_CMDLINE_LINUX=\"root=/dev/sda2\"\r\n"
    "GRUB_CMDLINE_LINUX=root=/dev/sda2\r\n"
    "GRUB_CMDLINE_LINUX=\"root=/dev/sdc2\"\r\n",
    "GRUB_CMDLINE_LINUX=\"root=UUID=" ROOT "\"\r\n"
    "GRUB_CMDLINE_LINUX=root=UUID=" ROOT "\r\n"
    "GRUB_CMDLINE_LINUX=\"root=/dev/sdc2\"\r\n",
    "change 1\nchange 2\n"
    "warning 3: unknown device '/dev/sdc2': left as it is" },
  { "grub default unterminated", rewrite_grub_default,
    "GRUB_CMDLINE_LINUX=\"root=/dev/sda2\nGRUB_CMDLINE_LINUX=\"x",
    "GRUB_CMDLINE_LINUX=\"root=UUID=" ROOT "\nGRUB_CMDLINE_LINUX=\"x",
    "change 1" },

  /* grub.cfg: see test_grub_cfg for a whole one. */
  { "grub.cfg commands", rewrite_grub_cfg,
    "\tlinux16 /vmlinuz root=/dev/sda2\n"
    "\tlinuxefi /vmlinuz root='/dev/sda2' resume=\"/dev/sda3\"\n"
    "\techo 'root=/dev/sda2'\n"
    "\techo root=/dev/sda2 is the root\n"
    "\tset root='hd0,msdos2'\n"
    "\tsearch --no-floppy --fs-uuid --set=root " ROOT "\n"
    "\tlinux /vmlinuz 'foo root=/dev/sda2' root=/dev/sdc2\n"
    "\tmodule2 /vmlinuz-6.1 placeholder root=/dev/sda2\n"
    "# linux /vmlinuz root=/dev/sda2\n"
    "\tlinuxx /vmlinuz root=/dev/sda2\n",
    "\tlinux16 /vmlinuz root=UUID=" ROOT "\n"
    "\tlinuxefi /vmlinuz root='UUID=" ROOT "' resume=\"UUID=" SWAP "\"\n"
    "\techo 'root=/dev/sda2'\n"
    "\techo root=/dev/sda2 is the root\n"
    "\tset root='hd0,msdos2'\n"
    "\tsearch --no-floppy --fs-uuid --set=root " ROOT "\n"
    "\tlinux /vmlinuz 'foo root=/dev/sda2' root=/dev/sdc2\n"
    "\tmodule2 /vmlinuz-6.1 placeholder root=UUID=" ROOT "\n"
    "# linux /vmlinuz root=/dev/sda2\n"
    "\tlinuxx /vmlinuz root=/dev/sda2\n",
    "change 1\nchange 2\n"
    "warning 7: unknown device '/dev/sdc2': left as it is\n"
    "change 8" },
  { "menu.lst", rewrite_grub_cfg,
    "default 0\ntimeout 5\n\ntitle Debian GNU/Linux\nroot (hd0,0)\n"
    "kernel /vmlinuz-2.6.32-5-686 root=/dev/hda2 ro\n"
    "initrd /initrd.img-2.6.32-5-686\n",
    "default 0\ntimeout 5\n\ntitle Debian GNU/Linux\nroot (hd0,0)\n"
    "kernel /vmlinuz-2.6.32-5-686 root=UUID=" ROOT " ro\n"
    "initrd /initrd.img-2.6.32-5-686\n",
    "change 6" },

  /* initramfs-tools' resume */
  { "resume", rewrite_resume_conf, "RESUME=/dev/sda3\n",
    "RESUME=UUID=" SWAP "\n", "change 1" },
  { "resume quoted", rewrite_resume_conf,
    "# resume from the swap of the old disk\n"
    "export RESUME=\"" BY_ID_SWAP "\"\n",
    "# resume from the swap of the old disk\n"
    "export RESUME=\"UUID=" SWAP "\"\n",
    "change 2" },
  { "resume single quotes, comment", rewrite_resume_conf,
    "RESUME='/dev/sda3' # swap\nRESUME=/dev/sda3",
    "RESUME='UUID=" SWAP "' # swap\nRESUME=UUID=" SWAP, "change 1\nchange 2" },
  { "resume left alone", rewrite_resume_conf,
    "# RESUME=/dev/sda3\nRESUME=none\nRESUME=auto\nRESUME=UUID=" SWAP
    "\nXRESUME=/dev/sda3\nRESUME_OFFSET=1234\nRESUME_FROM=/dev/sda3\n"
    "RESUME=/dev/mapper/vg0-swap\n",
    NULL, "" },
  { "resume unknown", rewrite_resume_conf, "RESUME=/dev/sdc3\n", NULL,
    "warning 1: unknown device '/dev/sdc3': left as it is" },
};

/* grub.cfg as grub-mkconfig writes it on Debian 12 with a separate /boot
 * and GRUB_DISABLE_LINUX_UUID=true (cut: the theme and fallback parts).
 */
static const char grub_cfg[]
  = "#\n"
    "# DO NOT EDIT THIS FILE\n"
    "#\n"
    "# It is automatically generated by grub-mkconfig using templates\n"
    "# from /etc/grub.d and settings from /etc/default/grub\n"
    "#\n"
    "\n"
    "### BEGIN /etc/grub.d/00_header ###\n"
    "if [ -s $prefix/grubenv ]; then\n"
    "  set have_grubenv=true\n"
    "  load_env\n"
    "fi\n"
    "if [ \"${next_entry}\" ] ; then\n"
    "   set default=\"${next_entry}\"\n"
    "   set next_entry=\n"
    "   save_env next_entry\n"
    "   set boot_once=true\n"
    "else\n"
    "   set default=\"0\"\n"
    "fi\n"
    "\n"
    "function load_video {\n"
    "  if [ x$feature_all_video_module = xy ]; then\n"
    "    insmod all_video\n"
    "  else\n"
    "    insmod efi_gop\n"
    "    insmod efi_uga\n"
    "    insmod ieee1275_fb\n"
    "    insmod vbe\n"
    "    insmod vga\n"
    "    insmod video_bochs\n"
    "    insmod video_cirrus\n"
    "  fi\n"
    "}\n"
    "\n"
    "if [ x$feature_default_font_path = xy ] ; then\n"
    "   font=unicode\n"
    "else\n"
    "insmod part_msdos\n"
    "insmod ext2\n"
    "set root='hd0,msdos2'\n"
    "if [ x$feature_platform_search_hint = xy ]; then\n"
    "  search --no-floppy --fs-uuid --set=root --hint-bios=hd0,msdos2 "
    "--hint-efi=hd0,msdos2 --hint-baremetal=ahci0,msdos2  " ROOT "\n"
    "else\n"
    "  search --no-floppy --fs-uuid --set=root " ROOT "\n"
    "fi\n"
    "    font=\"/usr/share/grub/unicode.pf2\"\n"
    "fi\n"
    "\n"
    "if loadfont $font ; then\n"
    "  set gfxmode=auto\n"
    "  load_video\n"
    "  insmod gfxterm\n"
    "fi\n"
    "terminal_input console serial\n"
    "terminal_output gfxterm serial\n"
    "if [ \"${recordfail}\" = 1 ] ; then\n"
    "  set timeout=30\n"
    "else\n"
    "  if [ x$feature_timeout_style = xy ] ; then\n"
    "    set timeout_style=menu\n"
    "    set timeout=5\n"
    "  else\n"
    "    set timeout=5\n"
    "  fi\n"
    "fi\n"
    "### END /etc/grub.d/00_header ###\n"
    "\n"
    "### BEGIN /etc/grub.d/10_linux ###\n"
    "function gfxmode {\n"
    "\tset gfxpayload=\"${1}\"\n"
    "}\n"
    "set linux_gfx_mode=\n"
    "export linux_gfx_mode\n"
    "menuentry 'Debian GNU/Linux' --class debian --class gnu-linux --class gnu "
    "--class os $menuentry_id_option 'gnulinux-simple-" ROOT "' {\n"
    "\tload_video\n"
    "\tinsmod gzio\n"
    "\tif [ x$grub_platform = xxen ]; then insmod xzio; insmod lzopio; fi\n"
    "\tinsmod part_msdos\n"
    "\tinsmod ext2\n"
    "\tset root='hd0,msdos1'\n"
    "\tif [ x$feature_platform_search_hint = xy ]; then\n"
    "\t  search --no-floppy --fs-uuid --set=root --hint-bios=hd0,msdos1 "
    "--hint-efi=hd0,msdos1 --hint-baremetal=ahci0,msdos1  " BOOT "\n"
    "\telse\n"
    "\t  search --no-floppy --fs-uuid --set=root " BOOT "\n"
    "\tfi\n"
    "\techo\t'Loading Linux 6.1.0-18-amd64 ...'\n"
    "\tlinux\t/vmlinuz-6.1.0-18-amd64 root=/dev/sda2 ro "
    "console=ttyS0,115200n8 quiet resume=/dev/sda3\n"
    "\techo\t'Loading initial ramdisk ...'\n"
    "\tinitrd\t/initrd.img-6.1.0-18-amd64\n"
    "}\n"
    "submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option "
    "'gnulinux-advanced-" ROOT "' {\n"
    "\tmenuentry 'Debian GNU/Linux, with Linux 6.1.0-18-amd64' --class debian "
    "--class gnu-linux --class gnu --class os $menuentry_id_option "
    "'gnulinux-6.1.0-18-amd64-advanced-" ROOT "' {\n"
    "\t\tload_video\n"
    "\t\tinsmod gzio\n"
    "\t\tif [ x$grub_platform = xxen ]; then insmod xzio; insmod lzopio; fi\n"
    "\t\tinsmod part_msdos\n"
    "\t\tinsmod ext2\n"
    "\t\tset root='hd0,msdos1'\n"
    "\t\tif [ x$feature_platform_search_hint = xy ]; then\n"
    "\t\t  search --no-floppy --fs-uuid --set=root --hint-bios=hd0,msdos1 "
    "--hint-efi=hd0,msdos1 --hint-baremetal=ahci0,msdos1  " BOOT "\n"
    "\t\telse\n"
    "\t\t  search --no-floppy --fs-uuid --set=root " BOOT "\n"
    "\t\tfi\n"
    "\t\techo\t'Loading Linux 6.1.0-18-amd64 ...'\n"
    "\t\tlinux\t/vmlinuz-6.1.0-18-amd64 root=/dev/sda2 ro "
    "console=ttyS0,115200n8 quiet resume=/dev/sda3\n"
    "\t\techo\t'Loading initial ramdisk ...'\n"
    "\t\tinitrd\t/initrd.img-6.1.0-18-amd64\n"
    "\t}\n"
    "\tmenuentry 'Debian GNU/Linux, with Linux 6.1.0-18-amd64 (recovery mode)' "
    "--class debian --class gnu-linux --class gnu --class os "
    "$menuentry_id_option 'gnulinux-6.1.0-18-amd64-recovery-" ROOT "' {\n"
    "\t\tload_video\n"
    "\t\tinsmod gzio\n"
    "\t\tif [ x$grub_platform = xxen ]; then insmod xzio; insmod lzopio; fi\n"
    "\t\tinsmod part_msdos\n"
    "\t\tinsmod ext2\n"
    "\t\tset root='hd0,msdos1'\n"
    "\t\tif [ x$feature_platform_search_hint = xy ]; then\n"
    "\t\t  search --no-floppy --fs-uuid --set=root --hint-bios=hd0,msdos1 "
    "--hint-efi=hd0,msdos1 --hint-baremetal=ahci0,msdos1  " BOOT "\n"
    "\t\telse\n"
    "\t\t  search --no-floppy --fs-uuid --set=root " BOOT "\n"
    "\t\tfi\n"
    "\t\techo\t'Loading Linux 6.1.0-18-amd64 ...'\n"
    "\t\tlinux\t/vmlinuz-6.1.0-18-amd64 root=/dev/sda2 ro single "
    "console=ttyS0,115200n8\n"
    "\t\techo\t'Loading initial ramdisk ...'\n"
    "\t\tinitrd\t/initrd.img-6.1.0-18-amd64\n"
    "\t}\n"
    "}\n"
    "\n"
    "### END /etc/grub.d/10_linux ###\n"
    "\n"
    "### BEGIN /etc/grub.d/30_uefi-firmware ###\n"
    "if [ \"$grub_platform\" = \"efi\" ]; then\n"
    "\tfwsetup --is-supported\n"
    "\tif [ \"$?\" = 0 ]; then\n"
    "\t\tmenuentry 'UEFI Firmware Settings' $menuentry_id_option "
    "'uefi-firmware' {\n"
    "\t\t\tfwsetup\n"
    "\t\t}\n"
    "\tfi\n"
    "fi\n"
    "### END /etc/grub.d/30_uefi-firmware ###\n"
    "\n"
    "### BEGIN /etc/grub.d/40_custom ###\n"
    "# This file provides an easy way to add custom menu entries.  Simply type "
    "the\n"
    "# menu entries you want to add after this comment.  Be careful not to "
    "change\n"
    "# the 'exec tail' line above.\n"
    "### END /etc/grub.d/40_custom ###\n";

/* S with every FROM replaced by TO.  Caller frees. */
static char *
replace_all (const char *s, const char *from, const char *to)
{
  char *buf = NULL;
  size_t size = 0, flen = strlen (from);
  FILE *fp = open_memstream (&buf, &size);
  const char *p;

  while ((p = strstr (s, from)) != NULL) {
    fwrite (s, 1, p - s, fp);
    fputs (to, fp);
    s = p + flen;
  }
  fputs (s, fp);
  fclose (fp);
  return buf;
}

static void
test_grub_cfg (void)
{
  char *a = replace_all (grub_cfg, "root=/dev/sda2", "root=UUID=" ROOT);
  char *b = replace_all (a, "resume=/dev/sda3", "resume=UUID=" SWAP);
  const char *line, *p;
  size_t n = 1;

  /* The three linux lines, and nothing else (GRUB's own names stay). */
  CHECK (strstr (b, "set root='hd0,msdos1'") != NULL);
  CHECK (strstr (b, "--set=root " BOOT "\n") != NULL);
  run ("grub.cfg debian", rewrite_grub_cfg, grub_cfg, strlen (grub_cfg), b,
       strlen (b), "change 88\nchange 106\nchange 123");
  /* (Those are the lines of the linux commands.) */
  for (p = grub_cfg; (line = strstr (p, "\tlinux\t")) != NULL; p = line + 1) {
    const char *q;

    for (q = grub_cfg, n = 1; q < line; q++)
      n += *q == '\n';
    CHECK (n == 88 || n == 106 || n == 123);
  }
  free (a);
  free (b);
}

/* The texts of the log, exactly, and file names across files. */
static void
test_log (void)
{
  static const char fstab[] = "# x\n/dev/sda2\t/\text4\tdefaults\t0\t1\r\n";
  static const char crypttab[] = "c /dev/sda5 none luks\nd /dev/sdx9 none\n";
  struct rewrite_log log = { 0 };
  char *out;
  size_t len;

  CHECK (rewrite_log_set_file (&log, "/etc/fstab") == 0);
  CHECK (rewrite_fstab (fstab, strlen (fstab), &map, &out, &len, &log) == 1);
  free (out);
  CHECK (rewrite_log_set_file (&log, "/etc/crypttab") == 0);
  CHECK (rewrite_crypttab (crypttab, strlen (crypttab), &map, &out, &len, &log)
         == 1);
  free (out);
  CHECK (rewrite_log_set_file (&log, NULL) == 0);
  CHECK (rewrite_cmdline ("root=/dev/sda2", 14, &map, &out, &len, &log) == 1);
  free (out);
  /* Without a log. */
  CHECK (rewrite_cmdline ("root=/dev/sda2", 14, &map, &out, &len, NULL) == 1);
  free (out);

  CHECK (log.n == 4 && log.n_dropped == 0);
  if (log.n != 4) {
    rewrite_log_free (&log);
    return;
  }
  CHECK (log.entries[0].kind == REWRITE_CHANGE);
  CHECK (strcmp (log.entries[0].file, "/etc/fstab") == 0);
  CHECK (log.entries[0].line == 2);
  CHECK (strcmp (log.entries[0].old_text, "/dev/sda2\t/\text4\tdefaults\t0\t1")
         == 0);
  CHECK (
    strcmp (log.entries[0].new_text, "UUID=" ROOT "\t/\text4\tdefaults\t0\t1")
    == 0);
  CHECK (log.entries[0].message == NULL);
  CHECK (log.entries[1].kind == REWRITE_CHANGE);
  CHECK (strcmp (log.entries[1].file, "/etc/crypttab") == 0);
  CHECK (log.entries[1].line == 1);
  CHECK (strcmp (log.entries[1].old_text, "c /dev/sda5 none luks") == 0);
  CHECK (strcmp (log.entries[1].new_text, "c UUID=" LUKS " none luks") == 0);
  CHECK (log.entries[2].kind == REWRITE_WARNING);
  CHECK (strcmp (log.entries[2].file, "/etc/crypttab") == 0);
  CHECK (log.entries[2].line == 2);
  CHECK (log.entries[2].old_text == NULL && log.entries[2].new_text == NULL);
  CHECK (
    strcmp (log.entries[2].message, "unknown device '/dev/sdx9': left as it is")
    == 0);
  CHECK (log.entries[3].file == NULL && log.entries[3].line == 1);
  rewrite_log_free (&log);
  CHECK (log.n == 0 && log.entries == NULL && log.file == NULL);
}

static rewrite_fn *const rewriters[] = {
  rewrite_fstab,        rewrite_crypttab, rewrite_cmdline,
  rewrite_grub_default, rewrite_grub_cfg, rewrite_resume_conf,
};
#define N_REWRITERS (sizeof rewriters / sizeof rewriters[0])

/* Inputs refused, by every rewriter, with the output and log untouched. */
static void
test_errors (void)
{
  static const char nul[] = "/dev/sda2 / ext4\n\0/dev/sda1\n";
  struct rewrite_log log = { 0 };
  char *out = (char *) "untouched";
  size_t len = 12345, i;
  char *big = malloc (REWRITE_INPUT_MAX + 1);

  memset (big, ' ', REWRITE_INPUT_MAX + 1);
  CHECK (rewrite_cmdline ("root=/dev/sdc1", 14, &map, &out, &len, &log) == 0);
  free (out);
  out = (char *) "untouched";
  len = 12345;
  for (i = 0; i < N_REWRITERS; i++) {
    CHECK (rewriters[i](nul, sizeof nul - 1, &map, &out, &len, &log) == -1);
    CHECK (strcmp (error_message (), "NUL byte at offset 17: not a text file")
           == 0);
    CHECK (rewriters[i](big, REWRITE_INPUT_MAX + 1, &map, &out, &len, &log)
           == -1);
    CHECK (strcmp (error_message (),
                   "too large: 16777217 bytes, the limit is 16777216")
           == 0);
    CHECK (strcmp (out, "untouched") == 0 && len == 12345);
    CHECK (log.n == 1);
  }
  /* The limit itself is fine. */
  CHECK (rewrite_fstab (big, REWRITE_INPUT_MAX, &map, &out, &len, &log) == 0);
  CHECK (len == REWRITE_INPUT_MAX && memcmp (out, big, len) == 0);
  free (out);
  free (big);
  rewrite_log_free (&log);
}

/* Long lines, many lines, a full log: all in linear time. */
static void
test_large (void)
{
  const size_t long_len = 1024 * 1024, n_words = 100000;
  struct rewrite_log log = { 0 };
  char *in, *want, *out, *p;
  size_t len, i;
  clock_t start = clock ();

  /* One fstab line with a megabyte of options. */
  in = malloc (long_len + 100);
  want = malloc (long_len + 100);
  p = in + sprintf (in, "/dev/sda2 / ext4 ");
  memset (p, 'o', long_len);
  strcpy (p + long_len, " 0 1\n");
  p = want + sprintf (want, "UUID=" ROOT " / ext4 ");
  memset (p, 'o', long_len);
  strcpy (p + long_len, " 0 1\n");
  run ("fstab long line", rewrite_fstab, in, strlen (in), want, strlen (want),
       "change 1");
  free (in);
  free (want);

  /* One command line of 100000 root= words, the last one unknown. */
  in = malloc (n_words * 20);
  want = malloc (n_words * 60);
  for (p = in, i = 0; i < n_words - 1; i++)
    p += sprintf (p, "root=/dev/sda2 ");
  strcpy (p, "root=/dev/sdc2");
  for (p = want, i = 0; i < n_words - 1; i++)
    p += sprintf (p, "root=UUID=" ROOT " ");
  strcpy (p, "root=/dev/sdc2");
  run ("cmdline long", rewrite_cmdline, in, strlen (in), want, strlen (want),
       "change 1\nwarning 1: unknown device '/dev/sdc2': left as it is");
  free (in);
  free (want);

  /* More warnings than a log keeps. */
  in = malloc ((REWRITE_LOG_MAX + 2) * 10 + 1);
  for (p = in, i = 0; i < REWRITE_LOG_MAX + 2; i++)
    p += sprintf (p, "/dev/sdc1\n");
  CHECK (rewrite_fstab (in, strlen (in), &map, &out, &len, &log) == 0);
  CHECK (log.n == REWRITE_LOG_MAX && log.n_dropped == 2);
  CHECK (len == strlen (in) && strcmp (out, in) == 0);
  free (out);
  free (in);
  rewrite_log_free (&log);

  /* Generous: a few milliseconds of work, valgrind included. */
  if ((clock () - start) / CLOCKS_PER_SEC > 60) {
    check_fail ("test_large: too slow");
  }
}

int
main (void)
{
  size_t i;

  test_devmap ();
  make_map ();
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    run_case (&cases[i]);
  test_grub_cfg ();
  test_log ();
  test_errors ();
  test_large ();
  devmap_free (&map);

  printf ("%zu cases\n", sizeof cases / sizeof cases[0]);
  return check_exit ();
}
