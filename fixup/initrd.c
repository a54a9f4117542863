/* p2vkit fixup: the names of the files in an initramfs image (initrd.h).
 *
 * The image is read as the kernel's own unpacker (init/initramfs.c)
 * reads it: NUL bytes are skipped; "07070" starts a cpio archive, which
 * ends with its TRAILER!!! entry; anything else is a compressed part,
 * known by its magic number, whose unpacked bytes are archives and NULs
 * again; after it the image goes on where the compressed data ended.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "error.h"
#include "initrd.h"

/* A newc header: the magic, then 13 fields of 8 hexadecimal digits. */
#define CPIO_HEADER_SIZE 110
#define CPIO_MAGIC_PREFIX "07070" /* then '1', or '2' with checksums */
#define CPIO_MAGIC_PREFIX_LEN 5
#define CPIO_FIELD_DIGITS 8
#define CPIO_FILESIZE_OFFSET 54
#define CPIO_NAMESIZE_OFFSET 94
/* Headers, names and data are padded to this, from the archive's start. */
#define CPIO_ALIGN 4
#define CPIO_TRAILER "TRAILER!!!"

/* The first unpacked buffer of a compressed part, and its growth. */
#define UNPACK_START (1024 * 1024)

/* zstd's smallest window (1 KiB) and its decoder's default largest
 * (128 MiB), as log2 (zstd.h has them only for static linking).
 */
#define ZSTD_WINDOW_LOG_MIN 10
#define ZSTD_WINDOW_LOG_DEFAULT_MAX 27

/* zlib's windowBits for a gzip stream (not zlib, not raw deflate). */
#define GZIP_WINDOW_BITS (16 + MAX_WBITS)

/* Magic numbers of compressed parts, as the kernel's decompress_method()
 * knows them.
 */
static const struct {
  const char *name;
  const unsigned char *magic;
  size_t len;
} compressions[] = {
  { "gzip", (const unsigned char *) "\x1f\x8b", 2 },
  { "gzip", (const unsigned char *) "\x1f\x9e", 2 }, /* old gzip */
  { "zstd", (const unsigned char *) "\x28\xb5\x2f\xfd", 4 },
  { "xz", (const unsigned char *) "\xfd\x37\x7a\x58\x5a\x00", 6 },
  { "bzip2", (const unsigned char *) "BZh", 3 },
  { "lzma", (const unsigned char *) "\x5d\x00\x00", 3 },
  { "lzo", (const unsigned char *) "\x89\x4c\x5a\x4f", 4 },
  { "lz4", (const unsigned char *) "\x02\x21\x4c\x18", 4 },
};

static size_t
align_up (size_t n)
{
  return (n + CPIO_ALIGN - 1) & ~(size_t) (CPIO_ALIGN - 1);
}

/* The 8 hexadecimal digits at P as a number, or -1. */
static int64_t
hex_field (const unsigned char *p)
{
  int64_t v = 0;
  int i, d;

  for (i = 0; i < CPIO_FIELD_DIGITS; i++) {
    if (p[i] >= '0' && p[i] <= '9')
      d = p[i] - '0';
    else if (p[i] >= 'a' && p[i] <= 'f')
      d = p[i] - 'a' + 10;
    else if (p[i] >= 'A' && p[i] <= 'F')
      d = p[i] - 'A' + 10;
    else
      return -1;
    v = v * 16 + d;
  }
  return v;
}

/* One archive from BUF[*POS], which starts with the cpio magic, to its
 * trailer; *POS moves past it.  BASE is where BUF is in the image, for
 * the messages.
 */
static int
parse_archive (const unsigned char *buf, size_t len, size_t *pos, size_t base,
               initrd_name_fn *fn, void *opaque)
{
  size_t start = *pos, off = start, namesize, filesize, data, next;
  const unsigned char *name;
  int64_t v;
  bool trailer;
  int r;

  for (;;) {
    if (len - off < CPIO_HEADER_SIZE)
      return error ("cpio header at offset %zu: truncated", base + off);
    if (memcmp (buf + off, CPIO_MAGIC_PREFIX, CPIO_MAGIC_PREFIX_LEN) != 0
        || (buf[off + CPIO_MAGIC_PREFIX_LEN] != '1'
            && buf[off + CPIO_MAGIC_PREFIX_LEN] != '2'))
      return error ("offset %zu: not a cpio header (newc)", base + off);
    v = hex_field (buf + off + CPIO_NAMESIZE_OFFSET);
    if (v < 0)
      return error ("cpio header at offset %zu: bad name size", base + off);
    namesize = v;
    v = hex_field (buf + off + CPIO_FILESIZE_OFFSET);
    if (v < 0)
      return error ("cpio header at offset %zu: bad file size", base + off);
    filesize = v;

    /* The name, with its NUL, within the data there is. */
    if (namesize == 0 || namesize > len - off - CPIO_HEADER_SIZE)
      return error ("cpio entry at offset %zu: name of %zu bytes beyond the "
                    "end",
                    base + off, namesize);
    name = buf + off + CPIO_HEADER_SIZE;
    if (name[namesize - 1] != '\0' || memchr (name, '\0', namesize - 1) != NULL)
      return error ("cpio entry at offset %zu: name not NUL-terminated",
                    base + off);
    trailer = namesize == sizeof CPIO_TRAILER
      && memcmp (name, CPIO_TRAILER, namesize) == 0;

    /* Offsets relative to the archive's start are at most LEN, so none
     * of these sums can overflow.
     */
    data = start + align_up (off - start + CPIO_HEADER_SIZE + namesize);
    if (data > len) {
      if (!trailer)
        return error ("cpio entry at offset %zu: truncated", base + off);
      data = len; /* a last trailer without its padding */
    }
    if (filesize > len - data)
      return error ("cpio entry at offset %zu: %zu bytes of data beyond the "
                    "end",
                    base + off, filesize);
    next = start + align_up (data - start + filesize);
    if (next > len) {
      if (filesize > 0 && !trailer)
        return error ("cpio entry at offset %zu: truncated", base + off);
      next = len;
    }
    if (trailer) {
      *pos = next;
      return 0;
    }
    r = fn ((const char *) name, opaque);
    if (r != 0)
      return r;
    off = next;
  }
}

/* Unpacked bytes: archives and NULs only. */
static int
parse_unpacked (const unsigned char *buf, size_t len, size_t base,
                initrd_name_fn *fn, void *opaque)
{
  size_t pos = 0;
  int r;

  while (pos < len) {
    if (buf[pos] == '\0') {
      pos++;
      continue;
    }
    r = parse_archive (buf, len, &pos, base, fn, opaque);
    if (r != 0)
      return r;
  }
  return 0;
}

/* A growing buffer of unpacked bytes, at most MAX. */
struct unpacked {
  unsigned char *buf;
  size_t len;
  size_t alloc;
  size_t max;
};

/* Room for at least one more byte. */
static int
unpacked_grow (struct unpacked *u, size_t where)
{
  size_t n;
  unsigned char *nb;

  if (u->len < u->alloc)
    return 0;
  if (u->alloc >= u->max)
    return error ("compressed part at offset %zu: more than %zu bytes "
                  "unpacked",
                  where, u->max);
  n = u->alloc ? u->alloc * 2 : UNPACK_START;
  if (n > u->max)
    n = u->max;
  nb = realloc (u->buf, n);
  if (nb == NULL)
    return error ("out of memory");
  u->buf = nb;
  u->alloc = n;
  return 0;
}

/* Unpack one gzip member at IN (LEN bytes, at offset WHERE of the image);
 * *USED is how many bytes of IN it took.
 */
static int
gunzip (const unsigned char *in, size_t len, size_t where, struct unpacked *u,
        size_t *used)
{
  z_stream z;
  size_t left = len;
  int r, ret = -1;

  memset (&z, 0, sizeof z);
  if (inflateInit2 (&z, GZIP_WINDOW_BITS) != Z_OK)
    return error ("gzip: cannot start zlib");
  z.next_in = (unsigned char *) in;
  for (;;) {
    if (z.avail_in == 0 && left > 0) {
      z.avail_in = left > UINT_MAX ? UINT_MAX : left;
      left -= z.avail_in;
    }
    if (unpacked_grow (u, where) == -1)
      goto out;
    z.next_out = u->buf + u->len;
    z.avail_out = u->alloc - u->len > UINT_MAX ? UINT_MAX : u->alloc - u->len;
    {
      size_t before = z.avail_out;

      r = inflate (&z, Z_NO_FLUSH);
      u->len += before - z.avail_out;
    }
    if (r == Z_STREAM_END)
      break;
    if (r == Z_BUF_ERROR && z.avail_in == 0 && left == 0) {
      error ("gzip part at offset %zu: truncated", where);
      goto out;
    }
    if (r != Z_OK && r != Z_BUF_ERROR) {
      error ("gzip part at offset %zu: %s", where,
             z.msg ? z.msg : "corrupt data");
      goto out;
    }
  }
  *used = len - left - z.avail_in;
  ret = 0;
out:
  inflateEnd (&z);
  return ret;
}

/* The largest zstd window (its log2) for at most MAX bytes unpacked:
 * zstd's own default limit (128 MiB) or less.
 */
static int
window_log_max (size_t max)
{
  int log = ZSTD_WINDOW_LOG_MIN;

  while (log < ZSTD_WINDOW_LOG_DEFAULT_MAX && ((size_t) 1 << (log + 1)) <= max)
    log++;
  return log;
}

/* Unpack the zstd frames at IN (LEN bytes, at offset WHERE of the image),
 * one after the other as long as another follows; *USED is how many
 * bytes of IN they took.
 */
static int
unzstd (const unsigned char *in, size_t len, size_t where, struct unpacked *u,
        size_t *used)
{
  ZSTD_DStream *z = ZSTD_createDStream ();
  ZSTD_inBuffer ib = { in, len, 0 };
  ZSTD_outBuffer ob;
  size_t r;
  int ret = -1;

  if (z == NULL)
    return error ("out of memory");
  ZSTD_initDStream (z);
  /* A frame's header says how large a window to allocate: no larger
   * than what it may unpack to.
   */
  ZSTD_DCtx_setParameter (z, ZSTD_d_windowLogMax, window_log_max (u->max));
  for (;;) {
    if (unpacked_grow (u, where) == -1)
      goto out;
    ob.dst = u->buf;
    ob.size = u->alloc;
    ob.pos = u->len;
    r = ZSTD_decompressStream (z, &ob, &ib);
    u->len = ob.pos;
    if (ZSTD_isError (r)) {
      error ("zstd part at offset %zu: %s", where, ZSTD_getErrorName (r));
      goto out;
    }
    if (r == 0) {
      /* A frame ended: go on if another one (or a skippable frame)
       * follows at once, as zstd's own tools do.
       */
      if (len - ib.pos >= 4
          && (memcmp (in + ib.pos, "\x28\xb5\x2f\xfd", 4) == 0
              || ((in[ib.pos] & 0xf0) == 0x50
                  && memcmp (in + ib.pos + 1, "\x2a\x4d\x18", 3) == 0)))
        continue;
      break;
    }
    if (ib.pos == len && ob.pos < ob.size) {
      error ("zstd part at offset %zu: truncated", where);
      goto out;
    }
  }
  *used = ib.pos;
  ret = 0;
out:
  ZSTD_freeDStream (z);
  return ret;
}

int
initrd_list (const void *image, size_t len, size_t unpacked_max,
             initrd_name_fn *fn, void *opaque)
{
  const unsigned char *buf = image;
  struct unpacked u = { NULL, 0, 0, unpacked_max };
  size_t pos = 0, used = 0, i;
  int r;

  while (pos < len) {
    if (buf[pos] == '\0') {
      pos++;
      continue;
    }
    if (len - pos >= CPIO_MAGIC_PREFIX_LEN
        && memcmp (buf + pos, CPIO_MAGIC_PREFIX, CPIO_MAGIC_PREFIX_LEN) == 0) {
      r = parse_archive (buf, len, &pos, 0, fn, opaque);
      if (r != 0)
        goto out;
      continue;
    }
    for (i = 0; i < sizeof compressions / sizeof compressions[0]; i++)
      if (len - pos >= compressions[i].len
          && memcmp (buf + pos, compressions[i].magic, compressions[i].len)
            == 0)
        break;
    if (i == sizeof compressions / sizeof compressions[0]) {
      r = error ("offset %zu: neither a cpio archive nor compressed data", pos);
      goto out;
    }
    u.len = 0;
    if (strcmp (compressions[i].name, "gzip") == 0)
      r = gunzip (buf + pos, len - pos, pos, &u, &used);
    else if (strcmp (compressions[i].name, "zstd") == 0)
      r = unzstd (buf + pos, len - pos, pos, &u, &used);
    else {
      error ("%s compression at offset %zu", compressions[i].name, pos);
      r = INITRD_UNSUPPORTED;
      goto out;
    }
    if (r != 0)
      goto out;
    r = parse_unpacked (u.buf, u.len, 0, fn, opaque);
    if (r != 0) {
      if (r == -1)
        error_prefix ("%s part at offset %zu, unpacked", compressions[i].name,
                      pos);
      goto out;
    }
    pos += used;
  }
  r = 0;
out:
  free (u.buf);
  return r;
}
