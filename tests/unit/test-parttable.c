/* Unit tests of imaging/parttable.c: how much of a disk its MBR or GPT
 * uses, tables that are not trusted, and a GPT fitted to a larger and a
 * smaller disk.  The disks are sparse temporary files.
 */
#include "parttable.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "check.h"
#include "error.h"

#define MiB (1024 * 1024)

static char path[] = "/tmp/p2vkit-test-parttable.XXXXXX";
static int fd = -1;

/* A new empty disk of SIZE bytes. */
static void
new_disk (uint64_t size)
{
  if (ftruncate (fd, 0) == -1 || ftruncate (fd, size) == -1) {
    perror ("ftruncate");
    exit (1);
  }
}

static void
put (const void *buf, size_t len, uint64_t offset)
{
  if (pwrite (fd, buf, len, offset) != (ssize_t) len) {
    perror ("pwrite");
    exit (1);
  }
}

static void
le32 (unsigned char *p, uint32_t v)
{
  v = htole32 (v);
  memcpy (p, &v, 4);
}

static void
le64 (unsigned char *p, uint64_t v)
{
  v = htole64 (v);
  memcpy (p, &v, 8);
}

/* An MBR (or EBR) sector at SECTOR with up to two entries. */
static void
mbr (uint64_t sector, unsigned boot, unsigned type0, uint32_t start0,
     uint32_t n0, unsigned type1, uint32_t start1, uint32_t n1)
{
  unsigned char s[512] = { 0 };

  s[446] = boot;
  s[446 + 4] = type0;
  le32 (s + 446 + 8, start0);
  le32 (s + 446 + 12, n0);
  s[462 + 4] = type1;
  le32 (s + 462 + 8, start1);
  le32 (s + 462 + 12, n1);
  s[510] = 0x55;
  s[511] = 0xaa;
  put (s, sizeof s, sector * 512);
}

struct part {
  uint64_t first, last;
};

/* A GPT with SS-byte sectors for a disk of SIZE bytes, 128 entries, the
 * partitions P; with BREAK, the entries' checksum is wrong.
 */
static void
gpt (uint32_t ss, uint64_t size, const struct part *p, unsigned n, bool brk)
{
  uint64_t sectors = size / ss, esec = 128 * 128 / ss;
  unsigned char hdr[4096] = { 0 }, entries[128 * 128] = { 0 };
  unsigned i;

  mbr (0, 0, 0xee, 1, sectors - 1 > 0xffffffff ? 0xffffffff : sectors - 1, 0, 0,
       0);
  for (i = 0; i < n; i++) {
    memset (entries + i * 128, 0xaf, 16);       /* a type GUID */
    entries[i * 128 + 16] = i + 1;              /* a partition GUID */
    le64 (entries + i * 128 + 32, p[i].first);
    le64 (entries + i * 128 + 40, p[i].last);
  }
  memcpy (hdr, "EFI PART", 8);
  le32 (hdr + 8, 0x00010000);
  le32 (hdr + 12, 92);
  le64 (hdr + 24, 1);
  le64 (hdr + 32, sectors - 1);
  le64 (hdr + 40, 2 + esec);
  le64 (hdr + 48, sectors - 2 - esec);
  le64 (hdr + 72, 2);
  le32 (hdr + 80, 128);
  le32 (hdr + 84, 128);
  le32 (hdr + 88, crc32 (0, entries, sizeof entries) ^ (brk ? 1 : 0));
  le32 (hdr + 16, crc32 (0, hdr, 92));
  put (hdr, ss, ss);
  put (entries, sizeof entries, 2 * ss);
  /* The backup. */
  le64 (hdr + 24, sectors - 1);
  le64 (hdr + 32, 1);
  le64 (hdr + 72, sectors - 1 - esec);
  le32 (hdr + 16, 0);
  le32 (hdr + 16, crc32 (0, hdr, 92));
  put (entries, sizeof entries, (sectors - 1 - esec) * ss);
  put (hdr, ss, (sectors - 1) * ss);
}

static void
probe (const char *what, uint64_t size, enum parttable_type type,
       unsigned n_partitions, uint64_t needed)
{
  struct parttable pt;

  if (parttable_probe_fd (fd, size, &pt) == -1) {
    check_fail ("%s: probe failed: %s", what, error_message ());
    return;
  }
  if (pt.type != type || pt.n_partitions != n_partitions || pt.needed != needed)
    check_fail ("%s: got %s, %u partitions, needed %llu; wanted %s, %u, %llu",
                what, parttable_type_name (pt.type), pt.n_partitions,
                (unsigned long long) pt.needed, parttable_type_name (type),
                n_partitions, (unsigned long long) needed);
}

static void
test_mbr (void)
{
  uint64_t size = 64 * MiB;

  new_disk (size);
  probe ("empty", size, PARTTABLE_NONE, 0, size);

  new_disk (size);
  mbr (0, 0x80, 0x83, 2048, 1000, 0x83, 4096, 2048);
  probe ("two primaries", size, PARTTABLE_MBR, 2, 6144 * 512);

  /* An extended partition [10000, 30000) with two logicals; it ends
   * after them, and so does what the disk needs.
   */
  new_disk (size);
  mbr (0, 0, 0x83, 2048, 1000, 0x05, 10000, 20000);
  mbr (10000, 0, 0x83, 63, 1000, 0x05, 5000, 3000);
  mbr (15000, 0, 0x83, 63, 2000, 0, 0, 0);
  probe ("logicals", size, PARTTABLE_MBR, 4, 30000 * 512);

  /* The chain going back to itself is not followed. */
  mbr (15000, 0, 0x83, 63, 2000, 0x05, 0, 3000);
  probe ("EBR loop", size, PARTTABLE_NONE, 0, size);

  /* A logical partition outside its extended one. */
  mbr (15000, 0, 0x83, 63, 200000, 0, 0, 0);
  probe ("logical outside", size, PARTTABLE_NONE, 0, size);

  /* A filesystem's boot sector is not a partition table. */
  new_disk (size);
  mbr (0, 0x12, 0x83, 2048, 1000, 0, 0, 0);
  probe ("bad boot flag", size, PARTTABLE_NONE, 0, size);
  mbr (0, 0, 0x83, 2048, 1000000, 0, 0, 0);
  probe ("past the end", size, PARTTABLE_NONE, 0, size);
  mbr (0, 0, 0, 0, 0, 0, 0, 0);
  probe ("no entries", size, PARTTABLE_NONE, 0, size);
}

static void
test_gpt (void)
{
  static const struct part p[] = { { 2048, 4095 }, { 4096, 8191 } };
  uint64_t size = 64 * MiB;

  new_disk (size);
  gpt (512, size, p, 2, false);
  probe ("GPT", size, PARTTABLE_GPT, 2, (8192 + 32 + 1) * 512);

  new_disk (size);
  gpt (512, size, p, 2, true);
  probe ("GPT bad checksum", size, PARTTABLE_NONE, 0, size);

  new_disk (size);
  gpt (4096, size, p, 2, false);
  probe ("GPT 4K", size, PARTTABLE_GPT, 2, (8192 + 4 + 1) * 4096ULL);

  /* A partition up to the last usable sector: the whole disk. */
  {
    struct part q = { 2048, size / 512 - 34 };

    new_disk (size);
    gpt (512, size, &q, 1, false);
    probe ("GPT full", size, PARTTABLE_GPT, 1, size);
  }
}

static void
test_fit (void)
{
  static const struct part p[] = { { 2048, 8191 } };
  uint64_t size = 16 * MiB, big = 32 * MiB, small = 8 * MiB;
  unsigned char last[512];
  bool changed;

  /* Onto a larger disk: the backup moves to its end, once. */
  new_disk (size);
  gpt (512, size, p, 1, false);
  CHECK (ftruncate (fd, big) == 0);
  CHECK (parttable_fit_gpt (fd, 512, big, &changed) == 0 && changed);
  CHECK (pread (fd, last, 512, big - 512) == 512
         && memcmp (last, "EFI PART", 8) == 0);
  /* The old backup header is wiped. */
  CHECK (pread (fd, last, 512, size - 512) == 512 && last[0] == 0);
  probe ("fitted larger", big, PARTTABLE_GPT, 1, (8192 + 33) * 512);
  CHECK (parttable_fit_gpt (fd, 512, big, &changed) == 0 && !changed);

  /* Onto a smaller one that holds the partition. */
  new_disk (size);
  gpt (512, size, p, 1, false);
  CHECK (ftruncate (fd, small) == 0);
  CHECK (parttable_fit_gpt (fd, 512, small, &changed) == 0 && changed);
  probe ("fitted smaller", small, PARTTABLE_GPT, 1, (8192 + 33) * 512);

  /* Onto one that does not. */
  new_disk (size);
  gpt (512, size, p, 1, false);
  CHECK (parttable_fit_gpt (fd, 512, 4 * MiB, &changed) == -1 && !changed);
  CHECK (strstr (error_message (), "ends past sector") != NULL);

  /* Without a GPT. */
  new_disk (size);
  CHECK (parttable_fit_gpt (fd, 512, size, &changed) == -1);
}

int
main (void)
{
  fd = mkstemp (path);
  if (fd == -1) {
    perror (path);
    return 1;
  }
  unlink (path);
  test_mbr ();
  test_gpt ();
  test_fit ();
  close (fd);
  return check_exit ();
}
