/* p2vkit imaging engine: partition tables (see parttable.h).
 *
 * Layouts: the MBR as every PC BIOS reads it (four entries of 16 bytes at
 * byte 446, the signature 55 AA at 510; logical partitions in a chain of
 * extended boot records, each giving its logical partition relative to
 * itself and the next record relative to the extended partition's start),
 * and the GPT of the UEFI specification (chapter 5: a header in the second
 * sector, an array of partition entries, both with CRC32s, and a backup of
 * both at the end of the disk).  All fields are little-endian.
 */
#include "parttable.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "error.h"
#include "file.h"

#define MBR_SIGNATURE_OFFSET 510
#define MBR_ENTRIES_OFFSET PARTTABLE_MBR_ENTRIES_OFFSET
#define MBR_ENTRY_SIZE 16
#define MBR_ENTRIES 4
#define MBR_OFF_BOOT 0
#define MBR_OFF_TYPE 4
#define MBR_OFF_START 8
#define MBR_OFF_SECTORS 12
#define MBR_TYPE_EMPTY 0x00
#define MBR_TYPE_GPT 0xee
#define MBR_BOOT_ACTIVE 0x80
#define MBR_FIRST_LOGICAL 5     /* Linux numbers logical partitions from 5 */

#define GPT_SIGNATURE "EFI PART"
#define GPT_HEADER_LBA 1
#define GPT_MIN_HEADER_SIZE 92
#define GPT_MIN_ENTRY_SIZE 128
#define GPT_OFF_HEADER_SIZE 12
#define GPT_OFF_HEADER_CRC 16
#define GPT_OFF_MY_LBA 24
#define GPT_OFF_ALTERNATE_LBA 32
#define GPT_OFF_FIRST_USABLE 40
#define GPT_OFF_LAST_USABLE 48
#define GPT_OFF_ENTRIES_LBA 72
#define GPT_OFF_N_ENTRIES 80
#define GPT_OFF_ENTRY_SIZE 84
#define GPT_OFF_ENTRIES_CRC 88
#define GPT_ENTRY_OFF_TYPE 0
#define GPT_ENTRY_TYPE_SIZE 16
#define GPT_ENTRY_OFF_FIRST 32
#define GPT_ENTRY_OFF_LAST 40

static uint32_t
le32_get (const unsigned char *p)
{
  uint32_t v;

  memcpy (&v, p, sizeof v);
  return le32toh (v);
}

static uint64_t
le64_get (const unsigned char *p)
{
  uint64_t v;

  memcpy (&v, p, sizeof v);
  return le64toh (v);
}

static void
le32_put (unsigned char *p, uint32_t v)
{
  v = htole32 (v);
  memcpy (p, &v, sizeof v);
}

static void
le64_put (unsigned char *p, uint64_t v)
{
  v = htole64 (v);
  memcpy (p, &v, sizeof v);
}

static bool
mbr_signed (const unsigned char *sector)
{
  return sector[MBR_SIGNATURE_OFFSET] == 0x55
    && sector[MBR_SIGNATURE_OFFSET + 1] == 0xaa;
}

static bool
mbr_type_extended (unsigned type)
{
  return type == 0x05 || type == 0x0f || type == 0x85;
}

struct mbr_entry {
  unsigned boot, type;
  uint64_t start, sectors;      /* as written: relative to something */
};

static void
mbr_entry (const unsigned char *sector, unsigned i, struct mbr_entry *e)
{
  const unsigned char *p = sector + MBR_ENTRIES_OFFSET + i * MBR_ENTRY_SIZE;

  e->boot = p[MBR_OFF_BOOT];
  e->type = p[MBR_OFF_TYPE];
  e->start = le32_get (p + MBR_OFF_START);
  e->sectors = le32_get (p + MBR_OFF_SECTORS);
}

/* List partition NUMBER, SECTORS sectors (of SS bytes) at START, in PT
 * (may be NULL: no list).
 */
static void
list_partition (struct parttable *pt, unsigned number, uint64_t start,
                uint64_t sectors, uint32_t ss)
{
  if (pt && pt->n_listed < PARTTABLE_MAX_LISTED) {
    pt->listed[pt->n_listed].number = number;
    pt->listed[pt->n_listed].start = start * ss;
    pt->listed[pt->n_listed].length = sectors * ss;
    pt->n_listed++;
  }
}

/* Is [START, START + SECTORS) a sane place inside [LO, HI)? */
static bool
inside (uint64_t start, uint64_t sectors, uint64_t lo, uint64_t hi)
{
  return sectors > 0 && start >= lo && start < hi && sectors <= hi - start;
}

/* The logical partitions of the extended partition at [EXT, EXT_END)
 * (sectors): raise *END to the end of each and count them in *N.  Clears
 * *SANE if the chain is not sane.  Returns 0, or -1 if a read failed.
 */
static int
mbr_logical (parttable_read_fn *read, void *arg, uint64_t ext, uint64_t ext_end,
             uint64_t *end, unsigned *n, bool *sane, struct parttable *pt)
{
  unsigned char sector[PARTTABLE_SECTOR_SIZE];
  struct mbr_entry part, next;
  uint64_t ebr = ext;
  unsigned i, logical = 0;

  for (i = 0; i < PARTTABLE_MAX_LOGICAL; i++) {
    if (read (arg, sector, sizeof sector, ebr * PARTTABLE_SECTOR_SIZE) == -1)
      return -1;
    if (!mbr_signed (sector))
      return 0;                 /* an empty extended partition: fine */
    mbr_entry (sector, 0, &part);
    mbr_entry (sector, 1, &next);
    if (part.type != MBR_TYPE_EMPTY) {
      if (!inside (ebr + part.start, part.sectors, ebr + 1, ext_end)
          || part.start == 0) {
        *sane = false;
        return 0;
      }
      if (ebr + part.start + part.sectors > *end)
        *end = ebr + part.start + part.sectors;
      (*n)++;
      list_partition (pt, MBR_FIRST_LOGICAL + logical++, ebr + part.start,
                      part.sectors, PARTTABLE_SECTOR_SIZE);
    }
    if (next.type == MBR_TYPE_EMPTY)
      return 0;
    /* The chain only goes forward: no loops. */
    if (!mbr_type_extended (next.type)
        || !inside (ext + next.start, next.sectors, ebr + 1, ext_end)) {
      *sane = false;
      return 0;
    }
    ebr = ext + next.start;
  }
  *sane = false;                /* more than we follow */
  return 0;
}

/* The MBR in SECTOR of a disk of DISK_SECTORS: fills *PT if it is one this
 * code understands.
 */
static int
probe_mbr (parttable_read_fn *read, void *arg, const unsigned char *sector,
           uint64_t disk_sectors, struct parttable *pt)
{
  struct mbr_entry e;
  uint64_t end = 0;
  unsigned i, n = 0, extended = 0;
  bool sane = true;

  for (i = 0; i < MBR_ENTRIES; i++) {
    mbr_entry (sector, i, &e);
    if (e.type == MBR_TYPE_EMPTY)
      continue;
    /* A boot sector of a filesystem also ends in 55 AA: what it has
     * where the entries would be is not this.
     */
    if ((e.boot != 0 && e.boot != MBR_BOOT_ACTIVE)
        || !inside (e.start, e.sectors, 1, disk_sectors))
      return 0;
    if (e.start + e.sectors > end)
      end = e.start + e.sectors;
    n++;
    if (mbr_type_extended (e.type)) {
      if (extended++ > 0)
        return 0;               /* only one extended partition */
      if (mbr_logical (read, arg, e.start, e.start + e.sectors, &end, &n, &sane,
                       pt)
          == -1)
        return -1;
      if (!sane)
        return 0;
    }
    else
      list_partition (pt, i + 1, e.start, e.sectors, PARTTABLE_SECTOR_SIZE);
  }
  if (n == 0)
    return 0;
  pt->type = PARTTABLE_MBR;
  pt->sector_size = PARTTABLE_SECTOR_SIZE;
  pt->n_partitions = n;
  pt->needed = end * PARTTABLE_SECTOR_SIZE;
  return 0;
}

/* The fields of a GPT header that matter here. */
struct gpt_header {
  uint32_t header_size;
  uint64_t alternate, first_usable, last_usable, entries_lba;
  uint32_t n_entries, entry_size, entries_crc;
  uint64_t array_sectors;       /* sectors the entry array takes */
};

/* The GPT header in HDR (one sector of SS bytes, read at LBA 1) into *G,
 * checked.  False if it is not a valid primary header.
 */
static bool
gpt_header (const unsigned char *hdr, uint32_t ss, struct gpt_header *g)
{
  unsigned char copy[PARTTABLE_MAX_SECTOR_SIZE];
  uint64_t array;

  if (memcmp (hdr, GPT_SIGNATURE, strlen (GPT_SIGNATURE)) != 0)
    return false;
  g->header_size = le32_get (hdr + GPT_OFF_HEADER_SIZE);
  if (g->header_size < GPT_MIN_HEADER_SIZE || g->header_size > ss)
    return false;
  memcpy (copy, hdr, g->header_size);
  memset (copy + GPT_OFF_HEADER_CRC, 0, 4);
  if (crc32 (0, copy, g->header_size) != le32_get (hdr + GPT_OFF_HEADER_CRC))
    return false;
  if (le64_get (hdr + GPT_OFF_MY_LBA) != GPT_HEADER_LBA)
    return false;
  g->alternate = le64_get (hdr + GPT_OFF_ALTERNATE_LBA);
  g->first_usable = le64_get (hdr + GPT_OFF_FIRST_USABLE);
  g->last_usable = le64_get (hdr + GPT_OFF_LAST_USABLE);
  g->entries_lba = le64_get (hdr + GPT_OFF_ENTRIES_LBA);
  g->n_entries = le32_get (hdr + GPT_OFF_N_ENTRIES);
  g->entry_size = le32_get (hdr + GPT_OFF_ENTRY_SIZE);
  g->entries_crc = le32_get (hdr + GPT_OFF_ENTRIES_CRC);
  if (g->entry_size < GPT_MIN_ENTRY_SIZE || g->entry_size % 8
      || g->n_entries == 0
      || g->n_entries > PARTTABLE_MAX_ARRAY / g->entry_size)
    return false;
  array = (uint64_t) g->n_entries * g->entry_size;
  g->array_sectors = (array + ss - 1) / ss;
  /* The array lies between the header and the first usable sector. */
  return g->entries_lba > GPT_HEADER_LBA && g->entries_lba < g->first_usable
    && g->array_sectors <= g->first_usable - g->entries_lba
    && g->first_usable <= g->last_usable;
}

/* Read and check the entry array of G into a new buffer (caller frees);
 * NULL with nothing recorded when its CRC does not match, NULL with an
 * error recorded (and *IO_FAILED) when it could not be read.
 */
static unsigned char *
gpt_entries (parttable_read_fn *read, void *arg, uint32_t ss,
             const struct gpt_header *g, bool *io_failed)
{
  size_t len = (size_t) g->array_sectors * ss;
  unsigned char *a = malloc (len);

  *io_failed = false;
  if (a == NULL) {
    error ("out of memory");
    *io_failed = true;
    return NULL;
  }
  if (read (arg, a, len, g->entries_lba * ss) == -1) {
    *io_failed = true;
    free (a);
    return NULL;
  }
  if (crc32 (0, a, (uInt) g->n_entries * g->entry_size) != g->entries_crc) {
    free (a);
    return NULL;
  }
  return a;
}

/* The last sector any partition of G's array A uses, in *LAST, and how
 * many are in use, in *N, each listed in PT (may be NULL; SS-byte
 * sectors); false if an entry is not inside [G's first usable sector,
 * LAST_USABLE].
 */
static bool
gpt_last_sector (const struct gpt_header *g, const unsigned char *a,
                 uint64_t last_usable, uint64_t *last, unsigned *n,
                 struct parttable *pt, uint32_t ss)
{
  static const unsigned char unused[GPT_ENTRY_TYPE_SIZE];
  uint32_t i;

  *last = g->first_usable - 1;
  *n = 0;
  for (i = 0; i < g->n_entries; i++) {
    const unsigned char *e = a + (size_t) i * g->entry_size;
    uint64_t first = le64_get (e + GPT_ENTRY_OFF_FIRST);
    uint64_t end = le64_get (e + GPT_ENTRY_OFF_LAST);

    if (memcmp (e + GPT_ENTRY_OFF_TYPE, unused, sizeof unused) == 0)
      continue;
    if (first < g->first_usable || first > end || end > last_usable)
      return false;
    if (end > *last)
      *last = end;
    (*n)++;
    list_partition (pt, i + 1, first, end - first + 1, ss);
  }
  return true;
}

/* A GPT with SS-byte sectors: fills *PT if there is a valid one. */
static int
probe_gpt (parttable_read_fn *read, void *arg, uint32_t ss, uint64_t disk_size,
           struct parttable *pt)
{
  unsigned char hdr[PARTTABLE_MAX_SECTOR_SIZE];
  uint64_t disk_sectors = disk_size / ss, last;
  struct gpt_header g;
  unsigned char *a;
  unsigned n;
  bool io_failed;

  if (disk_sectors < GPT_HEADER_LBA + 2)
    return 0;
  if (read (arg, hdr, ss, GPT_HEADER_LBA * ss) == -1)
    return -1;
  if (!gpt_header (hdr, ss, &g) || g.first_usable >= disk_sectors)
    return 0;
  a = gpt_entries (read, arg, ss, &g, &io_failed);
  if (a == NULL)
    return io_failed ? -1 : 0;
  /* The partitions must be inside this disk, whatever the header says of
   * its last usable sector.
   */
  pt->n_listed = 0;
  if (gpt_last_sector (&g, a, disk_sectors - 1, &last, &n, pt, ss)) {
    pt->type = PARTTABLE_GPT;
    pt->sector_size = ss;
    pt->n_partitions = n;
    /* The partitions, then the backup array and header. */
    pt->needed = (last + 1 + g.array_sectors + 1) * ss;
    if (pt->needed > disk_size)
      pt->needed = disk_size;
  }
  free (a);
  return 0;
}

int
parttable_probe (parttable_read_fn *read, void *arg, uint64_t disk_size,
                 struct parttable *pt)
{
  static const uint32_t gpt_sizes[]
    = { PARTTABLE_SECTOR_SIZE, PARTTABLE_MAX_SECTOR_SIZE };
  unsigned char sector[PARTTABLE_SECTOR_SIZE];
  struct mbr_entry e;
  unsigned i;
  bool protective = false;

  memset (pt, 0, sizeof *pt);
  pt->type = PARTTABLE_NONE;
  pt->sector_size = PARTTABLE_SECTOR_SIZE;
  pt->needed = disk_size;
  if (disk_size < PARTTABLE_SECTOR_SIZE)
    return 0;
  if (read (arg, sector, sizeof sector, 0) == -1)
    return -1;
  if (!mbr_signed (sector))
    return 0;
  for (i = 0; i < MBR_ENTRIES; i++) {
    mbr_entry (sector, i, &e);
    if (e.type == MBR_TYPE_GPT)
      protective = true;
  }
  if (!protective) {
    if (probe_mbr (read, arg, sector, disk_size / PARTTABLE_SECTOR_SIZE, pt)
        == -1)
      return -1;
    if (pt->type == PARTTABLE_NONE)
      pt->n_listed = 0;         /* what a table not understood listed */
    return 0;
  }
  /* A GPT (a hybrid MBR is read as its GPT), or nothing understood. */
  for (i = 0; i < sizeof gpt_sizes / sizeof gpt_sizes[0]; i++) {
    if (probe_gpt (read, arg, gpt_sizes[i], disk_size, pt) == -1)
      return -1;
    if (pt->type == PARTTABLE_GPT)
      break;
  }
  if (pt->type == PARTTABLE_NONE)
    pt->n_listed = 0;
  return 0;
}

static int
sync_fd (int fd)
{
  if (fdatasync (fd) == -1)
    return error_errno (errno, "flush");
  return 0;
}

static int
read_source (void *arg, void *buf, size_t len, uint64_t offset)
{
  struct source *src = arg;

  return src->ops->pread (src, buf, len, offset);
}

int
parttable_probe_source (struct source *src, struct parttable *pt)
{
  return parttable_probe (read_source, src, src->size, pt);
}

static int
pread_all (int fd, void *buf, size_t len, uint64_t offset)
{
  unsigned char *p = buf;
  ssize_t r;

  while (len > 0) {
    r = pread (fd, p, len, offset);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1)
      return error_errno (errno, "read at offset %" PRIu64, offset);
    if (r == 0)
      return error ("read at offset %" PRIu64 ": past the end", offset);
    p += r;
    len -= r;
    offset += r;
  }
  return 0;
}

static int
read_fd (void *arg, void *buf, size_t len, uint64_t offset)
{
  return pread_all (*(int *) arg, buf, len, offset);
}

int
parttable_probe_fd (int fd, uint64_t disk_size, struct parttable *pt)
{
  return parttable_probe (read_fd, &fd, disk_size, pt);
}

const char *
parttable_type_name (enum parttable_type type)
{
  switch (type) {
  case PARTTABLE_MBR:
    return "MBR";
  case PARTTABLE_GPT:
    return "GPT";
  default:
    return "no partition table";
  }
}

/* Set a header's checksum. */
static void
gpt_seal (unsigned char *hdr, uint32_t header_size)
{
  memset (hdr + GPT_OFF_HEADER_CRC, 0, 4);
  le32_put (hdr + GPT_OFF_HEADER_CRC, crc32 (0, hdr, header_size));
}

/* The protective MBR's one entry covers the disk of DISK_SECTORS (at most
 * what 32 bits say); a hybrid MBR, with other entries, is left alone.
 * Sets *DIRTY when SECTOR changed.
 */
static void
fit_protective_mbr (unsigned char *sector, uint64_t disk_sectors, bool *dirty)
{
  struct mbr_entry e;
  unsigned i, gpt = MBR_ENTRIES, others = 0;
  uint64_t want = disk_sectors - 1;

  for (i = 0; i < MBR_ENTRIES; i++) {
    mbr_entry (sector, i, &e);
    if (e.type == MBR_TYPE_GPT && e.start == GPT_HEADER_LBA)
      gpt = i;
    else if (e.type != MBR_TYPE_EMPTY)
      others++;
  }
  if (gpt == MBR_ENTRIES || others > 0 || !mbr_signed (sector))
    return;
  if (want > UINT32_MAX)
    want = UINT32_MAX;
  mbr_entry (sector, gpt, &e);
  if (e.sectors != want) {
    le32_put (sector + MBR_ENTRIES_OFFSET + gpt * MBR_ENTRY_SIZE
                + MBR_OFF_SECTORS,
              (uint32_t) want);
    *dirty = true;
  }
}

int
parttable_fit_gpt (int fd, uint32_t ss, uint64_t disk_size, bool *changed)
{
  unsigned char hdr[PARTTABLE_MAX_SECTOR_SIZE];
  unsigned char backup[PARTTABLE_MAX_SECTOR_SIZE];
  unsigned char mbr[PARTTABLE_SECTOR_SIZE];
  uint64_t disk_sectors = disk_size / ss, last, last_usable, backup_array;
  struct gpt_header g;
  unsigned char *a = NULL;
  unsigned n;
  bool io_failed, mbr_dirty = false;
  int ret = -1;

  *changed = false;
  if (ss < PARTTABLE_SECTOR_SIZE || ss > PARTTABLE_MAX_SECTOR_SIZE)
    return error ("GPT: sector size %" PRIu32 " not supported", ss);
  if (pread_all (fd, mbr, sizeof mbr, 0) == -1
      || pread_all (fd, hdr, ss, GPT_HEADER_LBA * ss) == -1)
    return error_prefix ("GPT");
  if (!gpt_header (hdr, ss, &g))
    return error ("GPT: no valid primary GPT header");
  a = gpt_entries (read_fd, &fd, ss, &g, &io_failed);
  if (a == NULL) {
    if (io_failed)
      return error_prefix ("GPT");
    return error ("GPT: the partition entries do not match their checksum");
  }
  if (disk_sectors < g.first_usable + g.array_sectors + 1) {
    error ("GPT: a disk of %" PRIu64 " sectors is too small for it",
           disk_sectors);
    goto out;
  }
  backup_array = disk_sectors - 1 - g.array_sectors;
  last_usable = backup_array - 1;
  if (!gpt_last_sector (&g, a, last_usable, &last, &n, NULL, ss)) {
    error ("GPT: a partition ends past sector %" PRIu64
           ", the last usable one of a disk of %" PRIu64 " sectors",
           last_usable, disk_sectors);
    goto out;
  }
  fit_protective_mbr (mbr, disk_sectors, &mbr_dirty);

  /* Already fitting, with a valid backup where it belongs? */
  if (g.alternate == disk_sectors - 1 && g.last_usable == last_usable
      && !mbr_dirty && pread_all (fd, backup, ss, g.alternate * ss) == 0
      && memcmp (backup, GPT_SIGNATURE, strlen (GPT_SIGNATURE)) == 0) {
    ret = 0;
    goto out;
  }

  /* The backup first, so that a crash leaves the old primary (still
   * valid for the old size) or a complete new pair.
   */
  le64_put (hdr + GPT_OFF_LAST_USABLE, last_usable);
  memcpy (backup, hdr, ss);
  le64_put (backup + GPT_OFF_MY_LBA, disk_sectors - 1);
  le64_put (backup + GPT_OFF_ALTERNATE_LBA, GPT_HEADER_LBA);
  le64_put (backup + GPT_OFF_ENTRIES_LBA, backup_array);
  gpt_seal (backup, g.header_size);
  if (file_pwrite_all (fd, a, g.array_sectors * ss, backup_array * ss) == -1
      || file_pwrite_all (fd, backup, ss, (disk_sectors - 1) * ss) == -1
      || sync_fd (fd) == -1) {
    error_prefix ("GPT: writing the backup");
    goto out;
  }
  /* The old backup header, if it is inside this disk, would confuse
   * whoever looks for one.
   */
  if (g.alternate > g.first_usable && g.alternate < backup_array
      && g.alternate != disk_sectors - 1) {
    memset (backup, 0, ss);
    if (file_pwrite_all (fd, backup, ss, g.alternate * ss) == -1) {
      error_prefix ("GPT: wiping the old backup header");
      goto out;
    }
  }
  le64_put (hdr + GPT_OFF_ALTERNATE_LBA, disk_sectors - 1);
  gpt_seal (hdr, g.header_size);
  if (file_pwrite_all (fd, hdr, ss, GPT_HEADER_LBA * ss) == -1
      || (mbr_dirty && file_pwrite_all (fd, mbr, sizeof mbr, 0) == -1)
      || sync_fd (fd) == -1) {
    error_prefix ("GPT: writing the primary header");
    goto out;
  }
  *changed = true;
  ret = 0;

out:
  free (a);
  return ret;
}
