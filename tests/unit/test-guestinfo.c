/* Unit tests of fixup/guestinfo.h: os-release, versions, first lines,
 * fstab entries, mount options and device-mapper names, on realistic and
 * odd files.  Run by tests/t-fixup-guestinfo.sh.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "guestinfo.h"

static void
same (const char *what, const char *got, const char *want)
{
  if ((got == NULL) != (want == NULL)
      || (got && want && strcmp (got, want) != 0))
    check_fail ("%s: got '%s', wanted '%s'", what, got ? got : "(null)",
                want ? want : "(null)");
}

static void
test_os_release (void)
{
  static const char debian[]
    = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
      "NAME=\"Debian GNU/Linux\"\n"
      "VERSION_ID=\"12\"\n"
      "VERSION=\"12 (bookworm)\"\n"
      "ID=debian\n";
  static const char odd[]
    = "# a comment: ID=wrong\n"
      "  ID='rhel'  # trailing comment\r\n"
      "PRETTY_NAME=\"Red Hat \\\"Enterprise\\\" \\$Linux\\\\ 9.3\"\n"
      "VERSION_ID=9.3\n"
      "ID_LIKE=\"fedora\"\n"
      "VERSION_ID\n"
      "=broken\n"
      "PRETTY_NAME_X=no\n"
      "VERSION_ID=\"9.4\"\n"; /* the last one wins */
  struct os_release r;
  int major = -1, minor = -1;

  CHECK (guestinfo_os_release (debian, strlen (debian), &r) == 0);
  same ("debian ID", r.id, "debian");
  same ("debian PRETTY_NAME", r.pretty_name, "Debian GNU/Linux 12 (bookworm)");
  same ("debian VERSION_ID", r.version_id, "12");
  CHECK (guestinfo_version (r.version_id, &major, &minor) && major == 12
         && minor == 0);
  same ("debian distro", guestinfo_distro (r.id), "debian");
  os_release_free (&r);

  CHECK (guestinfo_os_release (odd, strlen (odd), &r) == 0);
  same ("odd ID", r.id, "rhel");
  same ("odd PRETTY_NAME", r.pretty_name,
        "Red Hat \"Enterprise\" $Linux\\ 9.3");
  same ("odd VERSION_ID", r.version_id, "9.4");
  os_release_free (&r);

  /* Empty, NUL inside (the rest is not read), no newline at the end. */
  CHECK (guestinfo_os_release ("", 0, &r) == 0 && r.id == NULL
         && r.pretty_name == NULL && r.version_id == NULL);
  os_release_free (&r);
  CHECK (guestinfo_os_release ("ID=a\0ID=b\n", 10, &r) == 0);
  same ("NUL", r.id, "a");
  os_release_free (&r);
  CHECK (guestinfo_os_release ("ID=\"unterminated", 16, &r) == 0);
  same ("unterminated", r.id, "unterminated");
  os_release_free (&r);

  /* A value too long is left out; input too large is refused. */
  {
    size_t n = GUESTINFO_VALUE_MAX + 100;
    char *big = malloc (n + 4);

    memcpy (big, "ID=", 3);
    memset (big + 3, 'x', n);
    CHECK (guestinfo_os_release (big, n + 3, &r) == 0 && r.id == NULL);
    os_release_free (&r);
    free (big);
  }
  CHECK (guestinfo_os_release ("ID=x", (size_t) GUESTINFO_INPUT_MAX + 1, &r)
         == -1);

  same ("opensuse-leap", guestinfo_distro ("opensuse-leap"), "opensuse");
  same ("arch", guestinfo_distro ("arch"), "archlinux");
  same ("sled", guestinfo_distro ("sled"), "sles");
  same ("unknown", guestinfo_distro ("plan9"), "unknown");
  same ("NULL", guestinfo_distro (NULL), "unknown");
}

static void
test_versions (void)
{
  static const struct {
    const char *s;
    bool ok;
    int major, minor;
  } cases[] = {
    { "12", true, 12, 0 },           { "22.04", true, 22, 4 },
    { "12.5", true, 12, 5 },         { "8.10.1", true, 8, 10 },
    { "12.", true, 12, 0 },          { "7.9.2009", true, 7, 9 },
    { "bookworm/sid", false, 0, 0 }, { "", false, 0, 0 },
    { ".5", false, 0, 0 },           { "99999999999999", false, 0, 0 },
  };
  size_t i;
  int major, minor;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    major = minor = -1;
    if (guestinfo_version (cases[i].s, &major, &minor) != cases[i].ok
        || (cases[i].ok
            && (major != cases[i].major || minor != cases[i].minor)))
      check_fail ("version '%s': got %d.%d", cases[i].s, major, minor);
  }
  CHECK (!guestinfo_version (NULL, &major, &minor));
  CHECK (guestinfo_release_version ("CentOS Linux release 7.9.2009 (Core)",
                                    &major, &minor)
         && major == 7 && minor == 9);
  CHECK (guestinfo_release_version ("Red Hat Enterprise Linux Server release "
                                    "6 (Santiago)",
                                    &major, &minor)
         && major == 6 && minor == 0);
  CHECK (!guestinfo_release_version ("Fedora", &major, &minor));
}

static void
test_first_line (void)
{
  char *s;

  s = guestinfo_first_line ("  phony \t\r\nsecond\n", 19);
  same ("first line", s, "phony");
  free (s);
  s = guestinfo_first_line ("12.5", 4);
  same ("no newline", s, "12.5");
  free (s);
  CHECK (guestinfo_first_line ("\nsecond\n", 8) == NULL);
  CHECK (guestinfo_first_line ("", 0) == NULL);
  CHECK (guestinfo_first_line ("\0abc", 4) == NULL);
}

static void
test_fstab (void)
{
  static const char fstab[]
    = "# /etc/fstab\n"
      "\n"
      "UUID=0b1c-2d\t/\text4\terrors=remount-ro\t0\t1\n"
      "   # indented comment\n"
      "PARTUUID=5eed0a00-01  /boot  ext4  defaults,nofail  0 2\n"
      "LABEL=my\\040disk /mnt/my\\040data ext4\n"
      "/dev/sda2 none swap sw 0 0   \n"
      "lonely\n"
      "/srv/www /var/www none bind 0 0\r\n"
      "/dev/sdb1 /srv";
  struct fstab_entry *e;
  size_t n;

  CHECK (guestinfo_fstab (fstab, strlen (fstab), &e, &n) == 0);
  if (n != 6) {
    check_fail ("fstab: %zu entries, wanted 6", n);
    fstab_free (e, n);
    return;
  }
  same ("spec 0", e[0].spec, "UUID=0b1c-2d");
  same ("file 0", e[0].file, "/");
  same ("type 0", e[0].vfstype, "ext4");
  same ("opts 0", e[0].mntops, "errors=remount-ro");
  CHECK (e[0].line == 3);
  same ("spec 1", e[1].spec, "PARTUUID=5eed0a00-01");
  CHECK (e[1].line == 5);
  same ("spec 2", e[2].spec, "LABEL=my disk");
  same ("file 2", e[2].file, "/mnt/my data");
  same ("opts 2", e[2].mntops, "");
  same ("type 3", e[3].vfstype, "swap");
  same ("opts 4", e[4].mntops, "bind"); /* without the \r */
  same ("spec 5", e[5].spec, "/dev/sdb1");
  same ("type 5", e[5].vfstype, "");
  fstab_free (e, n);

  CHECK (guestinfo_fstab ("", 0, &e, &n) == 0 && n == 0);
  fstab_free (e, n);
  CHECK (guestinfo_fstab ("/dev/a /x\0/dev/b /y\n", 20, &e, &n) == 0 && n == 1);
  fstab_free (e, n);
  /* \000 is dropped, a bad escape stays as it is. */
  CHECK (guestinfo_fstab ("a\\000b /x\\9y", 12, &e, &n) == 0 && n == 1);
  if (n == 1) {
    same ("\\000", e[0].spec, "ab");
    same ("\\9", e[0].file, "/x\\9y");
  }
  fstab_free (e, n);
}

static void
test_options (void)
{
  char *v;

  CHECK (guestinfo_has_option ("defaults,nofail", "nofail", NULL));
  CHECK (!guestinfo_has_option ("defaults,nofail", "fail", NULL));
  CHECK (!guestinfo_has_option ("nofailx", "nofail", NULL));
  CHECK (!guestinfo_has_option ("", "bind", NULL));
  CHECK (guestinfo_has_option ("rw,subvol=@home,compress=zstd", "subvol", &v));
  same ("subvol", v, "@home");
  free (v);
  CHECK (guestinfo_has_option ("subvol", "subvol", &v) && v == NULL);
  CHECK (!guestinfo_has_option ("subvolid=5", "subvol", &v) && v == NULL);
}

static void
test_dm (void)
{
  static const struct {
    const char *in, *out;
  } cases[] = {
    { "/dev/mapper/vg0-home", "/dev/vg0/home" },
    { "/dev/mapper/my--vg-lv--1", "/dev/my-vg/lv-1" },
    { "/dev/mapper/sda5_crypt", NULL },
    { "/dev/mapper/a-b-c", NULL },
    { "/dev/mapper/-b", NULL },
    { "/dev/mapper/a-", NULL },
    { "/dev/mapper/a/b-c", NULL },
    { "/dev/sda1", NULL },
    { "/dev/mapper/", NULL },
  };
  size_t i;
  char *s;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    s = guestinfo_dm_to_lv (cases[i].in);
    same (cases[i].in, s, cases[i].out);
    free (s);
  }
}

int
main (void)
{
  test_os_release ();
  test_versions ();
  test_first_line ();
  test_fstab ();
  test_options ();
  test_dm ();
  return check_exit ();
}
