/* Unit tests of fixup/initrd.h: listing the files of an initramfs image
 * on the host.
 *
 *   test-initrd               archives made here, in memory: exact
 *                             listings, and every truncation and
 *                             corruption refused without reading
 *                             outside the image
 *   test-initrd list FILE     the names in FILE, one a line; exit status
 *                             0, 2 for a compression it cannot read, 1
 *                             for an invalid image (the reason on stderr)
 *
 * tests/t-fixup-initrd.sh runs both, the second on archives made by cpio,
 * gzip and zstd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "check.h"
#include "error.h"
#include "initrd.h"

#define BUF_MAX (64 * 1024)

/* --- Making archives -------------------------------------------------- */

struct buf {
  unsigned char data[BUF_MAX];
  size_t len;
};

static void
put (struct buf *b, const void *p, size_t n)
{
  if (b->len + n > BUF_MAX) {
    fprintf (stderr, "test-initrd: test buffer too small\n");
    exit (1);
  }
  memcpy (b->data + b->len, p, n);
  b->len += n;
}

static void
pad4 (struct buf *b, size_t start)
{
  static const unsigned char zeros[4];

  put (b, zeros, (4 - (b->len - start) % 4) % 4);
}

/* One newc entry of an archive that started at START. */
static void
entry (struct buf *b, size_t start, const char *name, const char *data)
{
  char hdr[160];
  size_t namesize = strlen (name) + 1, filesize = data ? strlen (data) : 0;

  snprintf (hdr, sizeof hdr,
            "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", 1u,
            data ? 0100644u : 040755u, 0u, 0u, 1u, 0u, (unsigned) filesize, 0u,
            0u, 0u, 0u, (unsigned) namesize, 0u);
  put (b, hdr, 110);
  put (b, name, namesize);
  pad4 (b, start);
  if (data) {
    put (b, data, filesize);
    pad4 (b, start);
  }
}

/* An archive of NAMES (directories if their data is NULL), with its
 * trailer.
 */
static void
archive (struct buf *b, const char *const *names, const char *const *datas,
         size_t n)
{
  size_t start = b->len, i;

  for (i = 0; i < n; i++)
    entry (b, start, names[i], datas[i]);
  entry (b, start, "TRAILER!!!", NULL);
}

/* --- Listing ------------------------------------------------------------ */

struct listing {
  char text[BUF_MAX];
  size_t len;
  int stop_at; /* return 7 at this entry (1 = first), or 0 */
  int count;
};

static int
collect (const char *name, void *opaque)
{
  struct listing *l = opaque;
  size_t n = strlen (name);

  l->count++;
  if (l->len + n + 2 < sizeof l->text) {
    memcpy (l->text + l->len, name, n);
    l->len += n;
    l->text[l->len++] = '\n';
    l->text[l->len] = '\0';
  }
  return l->stop_at == l->count ? 7 : 0;
}

static int
list (const void *p, size_t len, struct listing *l)
{
  int stop = l->stop_at;

  memset (l, 0, sizeof *l);
  l->stop_at = stop;
  /* A copy of exactly LEN bytes, so that a read beyond shows under
   * valgrind and ASan.
   */
  unsigned char *copy = malloc (len ? len : 1);
  int r;

  if (copy == NULL)
    exit (1);
  memcpy (copy, p, len);
  r = initrd_list (copy, len, INITRD_UNPACKED_MAX, collect, l);
  free (copy);
  return r;
}

static const char *const names[]
  = { ".", "usr", "usr/lib/modules/virtio_blk.ko", "init" };
static const char *const datas[]
  = { NULL, NULL, "\177ELF module", "#!/bin/sh\n" };
static const char expected[] = ".\nusr\nusr/lib/modules/virtio_blk.ko\ninit\n";
static const char *const early_names[] = { "kernel",
                                           "kernel/x86/microcode/"
                                           "GenuineIntel.bin" };
static const char *const early_datas[] = { NULL, "microcode" };
static const char early_expected[]
  = "kernel\nkernel/x86/microcode/GenuineIntel.bin\n";

static size_t
gzip_buf (const struct buf *in, unsigned char *out, size_t size)
{
  z_stream z;

  memset (&z, 0, sizeof z);
  if (deflateInit2 (&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY)
      != Z_OK)
    exit (1);
  z.next_in = (unsigned char *) in->data;
  z.avail_in = in->len;
  z.next_out = out;
  z.avail_out = size;
  if (deflate (&z, Z_FINISH) != Z_STREAM_END)
    exit (1);
  deflateEnd (&z);
  return size - z.avail_out;
}

static void
test_plain (void)
{
  struct buf b = { .len = 0 };
  struct listing l = { .stop_at = 0 };
  size_t full, trailer_end, i;
  int r;

  archive (&b, names, datas, 4);
  CHECK (list (b.data, b.len, &l) == 0);
  CHECK (strcmp (l.text, expected) == 0);

  /* Empty, and NULs only: nothing. */
  CHECK (list (b.data, 0, &l) == 0 && l.count == 0);
  {
    static const unsigned char zeros[512];
    CHECK (list (zeros, sizeof zeros, &l) == 0 && l.count == 0);
  }

  /* Every truncation before the trailer's name ends is refused; the
   * entries before the cut are listed on the way.
   */
  full = b.len;
  /* The trailer's 110 + 11 bytes are padded to 124: its name ends 3
   * bytes before the end.
   */
  trailer_end = full - 3;
  for (i = 1; i < full; i++) {
    r = list (b.data, i, &l);
    if (i < trailer_end && r != -1)
      check_fail ("plain archive cut at %zu of %zu: got %d, wanted -1", i, full,
                  r);
    if (i >= trailer_end && r != 0)
      check_fail ("plain archive cut in the trailer's padding at %zu: got %d",
                  i, r);
  }

  /* The callback stops the listing. */
  l.stop_at = 2;
  CHECK (list (b.data, b.len, &l) == 7 && l.count == 2);
  l.stop_at = 0;

  /* Two archives with NULs between them, as mkinitramfs makes them. */
  {
    struct buf two = { .len = 0 };
    static const unsigned char zeros[512];

    archive (&two, early_names, early_datas, 2);
    put (&two, zeros, 512 - two.len % 512);
    archive (&two, names, datas, 4);
    CHECK (list (two.data, two.len, &l) == 0);
    if (strncmp (l.text, early_expected, strlen (early_expected)) != 0
        || strcmp (l.text + strlen (early_expected), expected) != 0)
      check_fail ("two archives: got '%s'", l.text);
  }
}

/* Corrupt one field of the archive's second header (a copy of B). */
static int
corrupt (const struct buf *b, size_t field_offset, const char *value)
{
  struct buf c = *b;
  struct listing l = { .stop_at = 0 };
  /* The first entry is ".": its header and name, padded. */
  size_t second = (110 + 2 + 3) & ~(size_t) 3;

  memcpy (c.data + second + field_offset, value, strlen (value));
  return list (c.data, c.len, &l);
}

static void
test_corrupt (void)
{
  struct buf b = { .len = 0 };
  struct listing l = { .stop_at = 0 };

  archive (&b, names, datas, 4);
  CHECK (corrupt (&b, 0, "070707") == -1);      /* old ASCII cpio */
  CHECK (corrupt (&b, 0, "070702") == 0);       /* newc with checksums */
  CHECK (corrupt (&b, 94, "FFFFFFFF") == -1);   /* name size */
  CHECK (corrupt (&b, 94, "00000000") == -1);   /* no name */
  CHECK (corrupt (&b, 94, "0000000g") == -1);   /* not hexadecimal */
  CHECK (corrupt (&b, 94, "00000003") == -1);   /* "usr" without its NUL */
  CHECK (corrupt (&b, 94, "00000005") == -1);   /* a NUL inside the name */
  CHECK (corrupt (&b, 54, "FFFFFFFF") == -1);   /* file size */
  CHECK (corrupt (&b, 54, "7FFFFFFF") == -1);
  CHECK (corrupt (&b, 54, "-0000001") == -1);
  CHECK (corrupt (&b, 54, "00000100") == -1);   /* into the next header */

  /* Bytes that are neither cpio nor a known compression. */
  CHECK (list ("hello, world", 12, &l) == -1);
  CHECK (list ("0707", 4, &l) == -1);
}

static void
test_compressed (void)
{
  struct buf plain = { .len = 0 }, img = { .len = 0 };
  struct listing l = { .stop_at = 0 };
  static unsigned char packed[BUF_MAX];
  size_t n, i, early_len;
  int r;

  archive (&plain, names, datas, 4);

  /* The early archive as it is, then the main one compressed. */
  archive (&img, early_names, early_datas, 2);
  early_len = img.len;

  /* gzip */
  n = gzip_buf (&plain, packed, sizeof packed);
  put (&img, packed, n);
  CHECK (list (img.data, img.len, &l) == 0);
  if (strncmp (l.text, early_expected, strlen (early_expected)) != 0
      || strcmp (l.text + strlen (early_expected), expected) != 0)
    check_fail ("early + gzip: got '%s'", l.text);
  /* Every truncation of the compressed part is refused. */
  for (i = early_len + 1; i < img.len; i++)
    if ((r = list (img.data, i, &l)) != -1)
      check_fail ("early + gzip cut at %zu of %zu: got %d", i, img.len, r);
  /* A flipped byte in the deflate data. */
  img.data[early_len + n / 2] ^= 0x55;
  CHECK (list (img.data, img.len, &l) == -1);

  /* zstd, in two frames, after NUL padding. */
  img.len = early_len;
  {
    static const unsigned char zeros[16];
    struct buf half = { .len = 0 };

    put (&img, zeros, sizeof zeros);
    n = ZSTD_compress (packed, sizeof packed, plain.data, 200, 3);
    CHECK (!ZSTD_isError (n));
    put (&img, packed, n);
    memcpy (half.data, plain.data + 200, plain.len - 200);
    half.len = plain.len - 200;
    n = ZSTD_compress (packed, sizeof packed, half.data, half.len, 3);
    CHECK (!ZSTD_isError (n));
    put (&img, packed, n);
  }
  CHECK (list (img.data, img.len, &l) == 0);
  if (strncmp (l.text, early_expected, strlen (early_expected)) != 0
      || strcmp (l.text + strlen (early_expected), expected) != 0)
    check_fail ("early + zstd: got '%s'", l.text);
  for (i = early_len + 17; i < img.len; i++)
    if ((r = list (img.data, i, &l)) != -1)
      check_fail ("early + zstd cut at %zu of %zu: got %d", i, img.len, r);

  /* More unpacked than the caller allows. */
  CHECK (initrd_list (img.data, img.len, 100, collect, &l) == -1);
  CHECK (strstr (error_message (), "more than 100 bytes") != NULL);

  /* Compressed data that unpacks to something that is not cpio. */
  {
    struct buf junk = { .len = 0 };

    put (&junk, "not an archive at all", 21);
    n = gzip_buf (&junk, packed, sizeof packed);
    CHECK (list (packed, n, &l) == -1);
  }

  /* xz: not read here; the entries before it are listed. */
  img.len = early_len;
  put (&img, "\xfd\x37\x7a\x58\x5a\x00 and the rest", 18);
  CHECK (list (img.data, img.len, &l) == INITRD_UNSUPPORTED);
  CHECK (strcmp (l.text, early_expected) == 0);
  CHECK (strstr (error_message (), "xz") != NULL);
  for (i = 0; i < 3; i++) {
    static const char *const magics[]
      = { "BZh91AY", "\x02\x21\x4c\x18", "\x89\x4c\x5a\x4f" };
    CHECK (list (magics[i], strlen (magics[i]), &l) == INITRD_UNSUPPORTED);
  }
}

/* --- test-initrd list FILE ------------------------------------------- */

static int
print_name (const char *name, void *opaque)
{
  (void) opaque;
  puts (name);
  return 0;
}

static int
list_file (const char *path)
{
  struct stat st;
  void *p = NULL;
  int fd, r;

  fd = open (path, O_RDONLY);
  if (fd == -1 || fstat (fd, &st) == -1) {
    fprintf (stderr, "test-initrd: %s: %s\n", path, strerror (errno));
    return 1;
  }
  if (st.st_size > 0) {
    p = mmap (NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      fprintf (stderr, "test-initrd: %s: %s\n", path, strerror (errno));
      return 1;
    }
  }
  r = initrd_list (p, st.st_size, INITRD_UNPACKED_MAX, print_name, NULL);
  if (r != 0)
    fprintf (stderr, "test-initrd: %s: %s\n", path, error_message ());
  if (p)
    munmap (p, st.st_size);
  close (fd);
  return r == 0 ? 0 : r == INITRD_UNSUPPORTED ? 2 : 1;
}

int
main (int argc, char *argv[])
{
  if (argc == 3 && strcmp (argv[1], "list") == 0)
    return list_file (argv[2]);
  if (argc != 1) {
    fprintf (stderr, "usage: test-initrd [list FILE]\n");
    return 1;
  }
  test_plain ();
  test_corrupt ();
  test_compressed ();
  return check_exit ();
}
