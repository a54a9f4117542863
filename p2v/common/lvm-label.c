/* p2vkit: the volume group of an LVM2 physical volume (see lvm-label.h).
 *
 * The layout, all little-endian:
 *
 *   one of sectors 0-3:  label header   "LABELONE", its sector number (8),
 *                                       crc (4), offset of the PV header
 *                                       (4), "LVM2 001"
 *   PV header:           PV UUID (32), device size (8), then two lists of
 *                        (offset, size) pairs of 8 bytes each, each ended
 *                        by a zero offset: data areas, metadata areas
 *   metadata area:       header: checksum (4), magic (16), version (4),
 *                        its own offset (8), size of the area (8), then
 *                        (offset, size, checksum, flags) of the current
 *                        metadata text, relative to the area; the text
 *                        wraps around to just after the header
 *   metadata text:       "VGNAME {\n..."
 *
 * XXX Checksums are not verified: a damaged label at worst gives a wrong
 * name, which is only informational in the inventory.
 */
#include "lvm-label.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

#define SECTOR_SIZE 512
#define LABEL_SCAN_SECTORS 4
#define LABEL_ID "LABELONE"
#define LABEL_TYPE "LVM2 001"
#define LABEL_ID_LEN 8
#define LABEL_SECTOR_OFFSET 8
#define LABEL_CONTENTS_OFFSET 20
#define LABEL_TYPE_OFFSET 24
#define LABEL_HEADER_SIZE 32
#define PV_HEADER_FIXED_SIZE 40 /* UUID and device size */
#define DISK_LOCN_SIZE 16

#define MDA_HEADER_SIZE 512
#define MDA_MAGIC " LVM2 x[5A%r0N*>"
#define MDA_MAGIC_OFFSET 4
#define MDA_MAGIC_LEN 16
#define MDA_VERSION_OFFSET 20
#define MDA_VERSION 1
#define MDA_START_OFFSET 24
#define MDA_SIZE_OFFSET 32
#define MDA_RAW_LOCN_OFFSET 40
#define RAW_LOCN_FLAGS_OFFSET 20
#define RAW_LOCN_IGNORED 1

/* More metadata areas than LVM ever makes (it makes one or two). */
#define MAX_METADATA_AREAS 8

/* LVM's NAME_LEN is 128 with the NUL. */
#define VG_NAME_MAX 127
#define VG_NAME_CHARS                                                          \
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+_.-"

static uint64_t
le64 (const unsigned char *p)
{
  uint64_t v = 0;
  int i;

  for (i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

static uint32_t
le32 (const unsigned char *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
    | (uint32_t) p[3] << 24;
}

/* Read LEN bytes at OFFSET.  Returns 0, 1 if the file ends first, or -1
 * with an error recorded.
 */
static int
read_at (int fd, void *buf, size_t len, uint64_t offset)
{
  char *p = buf;
  ssize_t r;

  while (len > 0) {
    r = pread (fd, p, len, offset);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return error_errno (errno, "read LVM label at offset %llu",
                          (unsigned long long) offset);
    }
    if (r == 0)
      return 1;
    p += r;
    len -= r;
    offset += r;
  }
  return 0;
}

/* The VG name at the start of TEXT (LEN bytes), or NULL. */
static char *
name_from_text (const char *text, size_t len)
{
  size_t n = 0;

  while (n < len && n <= VG_NAME_MAX && strchr (VG_NAME_CHARS, text[n])
         && text[n] != '\0')
    n++;
  if (n == 0 || n > VG_NAME_MAX || n == len
      || (text[n] != ' ' && text[n] != '{'))
    return NULL;
  return strndup (text, n);
}

/* Look at the metadata area of MSIZE bytes at MOFF of the PV.  Returns 0
 * with *VG set or left NULL, or -1.
 */
static int
read_metadata_area (int fd, uint64_t offset, uint64_t size, uint64_t moff,
                    uint64_t msize, char **vg)
{
  unsigned char header[MDA_HEADER_SIZE];
  const unsigned char *locn = header + MDA_RAW_LOCN_OFFSET;
  char text[VG_NAME_MAX + 2];
  uint64_t toff, tsize;
  size_t want, first;
  int r;

  if (moff > size || msize <= MDA_HEADER_SIZE || msize > size - moff)
    return 0;
  r = read_at (fd, header, sizeof header, offset + moff);
  if (r != 0)
    return r == 1 ? 0 : -1;
  if (memcmp (header + MDA_MAGIC_OFFSET, MDA_MAGIC, MDA_MAGIC_LEN) != 0
      || le32 (header + MDA_VERSION_OFFSET) != MDA_VERSION
      || le64 (header + MDA_START_OFFSET) != moff
      || le64 (header + MDA_SIZE_OFFSET) != msize)
    return 0;

  toff = le64 (locn);
  tsize = le64 (locn + 8);
  if (toff == 0 || tsize == 0
      || (le32 (locn + RAW_LOCN_FLAGS_OFFSET) & RAW_LOCN_IGNORED)
      || toff < MDA_HEADER_SIZE || toff >= msize)
    return 0;

  /* The text may wrap around to just after the header. */
  want = tsize < sizeof text ? tsize : sizeof text;
  first = msize - toff < want ? msize - toff : want;
  r = read_at (fd, text, first, offset + moff + toff);
  if (r == 0 && first < want)
    r = read_at (fd, text + first, want - first,
                 offset + moff + MDA_HEADER_SIZE);
  if (r != 0)
    return r == 1 ? 0 : -1;
  *vg = name_from_text (text, want);
  return 0;
}

int
lvm_label_vg_name (int fd, uint64_t offset, uint64_t size, char **vg)
{
  unsigned char sectors[LABEL_SCAN_SECTORS * SECTOR_SIZE];
  const unsigned char *label = NULL, *p, *end;
  uint32_t contents;
  uint64_t moff, msize;
  unsigned i;
  bool data_areas = true;
  int r;

  *vg = NULL;
  if (size < sizeof sectors)
    return 0;
  r = read_at (fd, sectors, sizeof sectors, offset);
  if (r != 0)
    return r == 1 ? 0 : -1;
  for (i = 0; i < LABEL_SCAN_SECTORS && label == NULL; i++) {
    p = sectors + i * SECTOR_SIZE;
    if (memcmp (p, LABEL_ID, LABEL_ID_LEN) == 0
        && le64 (p + LABEL_SECTOR_OFFSET) == i
        && memcmp (p + LABEL_TYPE_OFFSET, LABEL_TYPE, LABEL_ID_LEN) == 0)
      label = p;
  }
  if (label == NULL)
    return 0;
  contents = le32 (label + LABEL_CONTENTS_OFFSET);
  if (contents < LABEL_HEADER_SIZE
      || contents > SECTOR_SIZE - PV_HEADER_FIXED_SIZE)
    return 0;

  /* Skip the data areas, then try each metadata area in turn. */
  end = label + SECTOR_SIZE;
  p = label + contents + PV_HEADER_FIXED_SIZE;
  for (i = 0; p + DISK_LOCN_SIZE <= end && i < MAX_METADATA_AREAS;
       p += DISK_LOCN_SIZE) {
    moff = le64 (p);
    msize = le64 (p + 8);
    if (data_areas) {
      if (moff == 0)
        data_areas = false;
      continue;
    }
    if (moff == 0)
      break;
    i++;
    if (read_metadata_area (fd, offset, size, moff, msize, vg) == -1)
      return -1;
    if (*vg)
      break;
  }
  return 0;
}
