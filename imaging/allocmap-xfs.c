/* p2vkit imaging engine: what an XFS filesystem leaves unused, from its
 * free-space B-trees (see allocmap.h).
 *
 * The on-disk format (XFS Algorithms & Data Structures, "Allocation
 * Groups" and "B+trees"; all fields big-endian unless said): the
 * superblock at byte 0 gives the block and sector sizes and cuts the data
 * device into allocation groups (AGs) of sb_agblocks blocks, the last
 * one shorter.  The second sector of each AG is its AGF, which roots the
 * B-tree of its free extents sorted by block number (the "bno" tree).
 * Its leaves hold (start, count) records of 32-bit AG block numbers and
 * are chained left to right by sibling pointers; the AGF counts the free
 * blocks they hold (agf_freeblks).  Everything not in a free extent is
 * read: the AG headers, every B-tree block, the free list's blocks, the
 * internal log, inodes and data.
 *
 * Version 5 filesystems carry CRC32c checksums (stored little-endian) on
 * the superblock, the AGF and every B-tree block, and each B-tree block
 * names its own disk address and AG.  Every number is checked before
 * use; anything that does not hold together makes the filesystem read in
 * full.  The free blocks counted must equal the AGF's count.
 *
 * XXX A filesystem that crashed and was never mounted again may have
 * allocations in its log that the B-trees do not show yet; the log is
 * not looked at.
 */
#include "allocmap.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "qcow2.h"                /* be32_get, be64_get */

#define XFS_SB_MAGIC 0x58465342         /* "XFSB" */
#define XFS_AGF_MAGIC 0x58414746        /* "XAGF" */
#define XFS_AGF_VERSION 1
#define XFS_BNO_MAGIC_V4 0x41425442     /* "ABTB" */
#define XFS_BNO_MAGIC_V5 0x41423342     /* "AB3B" */
#define XFS_VERSION_MASK 0x000f
#define XFS_VERSION_4 4
#define XFS_VERSION_5 5
#define XFS_NULL_AGBLOCK 0xffffffffu
#define XFS_MAX_LEVELS 16       /* far more than any real tree */
#define XFS_BASIC_BLOCK 512     /* disk addresses count these */
#define XFS_MIN_BLOCK_SIZE 512
#define XFS_MAX_BLOCK_SIZE 65536
#define XFS_MIN_SECTOR_SIZE 512
#define XFS_MAX_SECTOR_SIZE 32768

/* Superblock fields. */
#define SB_MAGIC 0
#define SB_BLOCKSIZE 4
#define SB_DBLOCKS 8
#define SB_AGBLOCKS 84
#define SB_AGCOUNT 88
#define SB_VERSIONNUM 100
#define SB_SECTSIZE 102
#define SB_INPROGRESS 126
#define SB_CRC 224

/* AGF fields. */
#define AGF_MAGIC 0
#define AGF_VERSION 4
#define AGF_SEQNO 8
#define AGF_LENGTH 12
#define AGF_BNO_ROOT 16
#define AGF_BNO_LEVEL 28
#define AGF_FREEBLKS 52
#define AGF_CRC 216

/* Short-form B-tree block header. */
#define BT_MAGIC 0
#define BT_LEVEL 4
#define BT_NUMRECS 6
#define BT_LEFTSIB 8
#define BT_RIGHTSIB 12
#define BT_HEADER_V4 16
#define BT_BLKNO 16             /* v5: the block's own disk address */
#define BT_OWNER 48             /* v5: its AG */
#define BT_CRC 52
#define BT_HEADER_V5 56
#define BT_REC_SIZE 8           /* a record: start, count */
#define BT_KEY_SIZE 8
#define BT_PTR_SIZE 4

#define CRC32C_POLY 0x82f63b78u /* reversed Castagnoli */

struct xfs {
  struct source *src;
  uint64_t start;               /* of the filesystem on the disk */
  uint32_t bs;                  /* block size */
  uint32_t ss;                  /* sector size */
  uint32_t agblocks, agcount;
  uint64_t dblocks;
  bool v5;
  uint32_t hdr;                 /* B-tree block header size */
  uint32_t crc_table[256];
  unsigned char *block;         /* one block, bs bytes */
};

static uint16_t
be16 (const unsigned char *p)
{
  return (uint16_t) (p[0] << 8 | p[1]);
}

static void
crc_init (struct xfs *x)
{
  uint32_t i, c;
  int k;

  for (i = 0; i < 256; i++) {
    c = i;
    for (k = 0; k < 8; k++)
      c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
    x->crc_table[i] = c;
  }
}

/* Does the CRC32c of BUF (LEN bytes, the 4 at CRC_OFF counted as zeros)
 * match the one stored there?
 */
static bool
crc_ok (const struct xfs *x, const unsigned char *buf, size_t len,
        size_t crc_off)
{
  uint32_t c = 0xffffffffu;
  size_t i;

  for (i = 0; i < len; i++) {
    unsigned char b = i >= crc_off && i < crc_off + 4 ? 0 : buf[i];

    c = x->crc_table[(c ^ b) & 0xff] ^ (c >> 8);
  }
  return ~c == allocmap_le32 (buf + crc_off);
}

static bool
power_of_2 (uint32_t n, uint32_t lo, uint32_t hi)
{
  return n >= lo && n <= hi && (n & (n - 1)) == 0;
}

/* Read the superblock of the filesystem of LENGTH bytes at X->start into
 * X.  Returns 0 when it is not XFS, 1 when it is, -1 when it is damaged
 * (or unreadable).
 */
static int
read_super (struct xfs *x, uint64_t length)
{
  unsigned char sb[XFS_MAX_SECTOR_SIZE];
  unsigned version;

  if (length < XFS_MIN_SECTOR_SIZE)
    return 0;
  if (x->src->ops->pread (x->src, sb, XFS_MIN_SECTOR_SIZE, x->start) == -1)
    return -1;
  if (be32_get (sb + SB_MAGIC) != XFS_SB_MAGIC)
    return 0;
  x->bs = be32_get (sb + SB_BLOCKSIZE);
  x->ss = be16 (sb + SB_SECTSIZE);
  x->dblocks = be64_get (sb + SB_DBLOCKS);
  x->agblocks = be32_get (sb + SB_AGBLOCKS);
  x->agcount = be32_get (sb + SB_AGCOUNT);
  version = be16 (sb + SB_VERSIONNUM) & XFS_VERSION_MASK;
  if (version != XFS_VERSION_4 && version != XFS_VERSION_5)
    return error ("superblock: version %u not understood", version);
  x->v5 = version == XFS_VERSION_5;
  x->hdr = x->v5 ? BT_HEADER_V5 : BT_HEADER_V4;
  if (!power_of_2 (x->bs, XFS_MIN_BLOCK_SIZE, XFS_MAX_BLOCK_SIZE)
      || !power_of_2 (x->ss, XFS_MIN_SECTOR_SIZE, XFS_MAX_SECTOR_SIZE)
      || x->ss > x->bs || x->agblocks == 0 || x->agcount == 0
      || x->dblocks > (uint64_t) x->agcount * x->agblocks
      || x->dblocks <= (uint64_t) (x->agcount - 1) * x->agblocks)
    return error ("superblock: sizes do not hold together");
  if (sb[SB_INPROGRESS])
    return error ("superblock: mkfs.xfs did not finish");
  if (x->dblocks > length / x->bs)
    return error ("its %" PRIu64 " blocks of %" PRIu32 " bytes do not fit its "
                  "%" PRIu64 "-byte partition",
                  x->dblocks, x->bs, length);
  if (x->v5) {
    if (x->src->ops->pread (x->src, sb, x->ss, x->start) == -1)
      return -1;
    if (!crc_ok (x, sb, x->ss, SB_CRC))
      return error ("superblock: checksum does not match");
  }
  return 1;
}

/* Read block AGBNO of AG AGNO (AGLEN blocks) into X->block and check its
 * header as a bno B-tree block at LEVEL.  Returns its record count, or
 * -1 with an error recorded.
 */
static int
read_node (struct xfs *x, uint32_t agno, uint32_t aglen, uint32_t agbno,
           unsigned level)
{
  uint64_t fsblock = (uint64_t) agno * x->agblocks + agbno;
  const unsigned char *b = x->block;
  uint32_t maxrecs;
  unsigned numrecs;

  if (agbno >= aglen)
    return error ("AG %" PRIu32 ": B-tree block %" PRIu32 " outside the AG",
                  agno, agbno);
  if (x->src->ops->pread (x->src, x->block, x->bs, x->start + fsblock * x->bs)
      == -1)
    return -1;
  if (be32_get (b + BT_MAGIC) != (x->v5 ? XFS_BNO_MAGIC_V5 : XFS_BNO_MAGIC_V4)
      || be16 (b + BT_LEVEL) != level)
    return error ("AG %" PRIu32 ": block %" PRIu32
                  " is not the free-space B-tree block it should be",
                  agno, agbno);
  if (x->v5
      && (be64_get (b + BT_BLKNO) != fsblock * (x->bs / XFS_BASIC_BLOCK)
          || be32_get (b + BT_OWNER) != agno || !crc_ok (x, b, x->bs, BT_CRC)))
    return error ("AG %" PRIu32 ": free-space B-tree block %" PRIu32
                  ": checksum or address does not match",
                  agno, agbno);
  numrecs = be16 (b + BT_NUMRECS);
  maxrecs
    = (x->bs - x->hdr) / (level ? BT_KEY_SIZE + BT_PTR_SIZE : BT_REC_SIZE);
  if (numrecs > maxrecs)
    return error ("AG %" PRIu32 ": free-space B-tree block %" PRIu32
                  ": %u records",
                  agno, agbno, numrecs);
  return (int) numrecs;
}

/* Add the free extents of AG AGNO to MAP. */
static int
map_ag (struct xfs *x, uint32_t agno, struct allocmap *map)
{
  unsigned char agf[XFS_MAX_SECTOR_SIZE];
  uint64_t agstart = (uint64_t) agno * x->agblocks;
  uint32_t aglen = x->dblocks - agstart < x->agblocks
    ? (uint32_t) (x->dblocks - agstart)
    : x->agblocks;
  uint32_t agbno, left = XFS_NULL_AGBLOCK, next_free = 0, leaves = 0;
  uint64_t counted = 0;
  unsigned level, levels;
  int n, i;

  if (x->src->ops->pread (x->src, agf, x->ss,
                          x->start + agstart * x->bs + x->ss)
      == -1)
    return -1;
  if (be32_get (agf + AGF_MAGIC) != XFS_AGF_MAGIC
      || be32_get (agf + AGF_VERSION) != XFS_AGF_VERSION
      || be32_get (agf + AGF_SEQNO) != agno
      || be32_get (agf + AGF_LENGTH) != aglen)
    return error ("AG %" PRIu32 ": AGF header damaged", agno);
  if (x->v5 && !crc_ok (x, agf, x->ss, AGF_CRC))
    return error ("AG %" PRIu32 ": AGF checksum does not match", agno);
  agbno = be32_get (agf + AGF_BNO_ROOT);
  levels = be32_get (agf + AGF_BNO_LEVEL);
  if (levels < 1 || levels > XFS_MAX_LEVELS)
    return error ("AG %" PRIu32 ": free-space B-tree of %u levels", agno,
                  levels);

  /* Down the left edge to the first leaf: its first pointer each time,
   * after the node's keys (room for the most it can hold).
   */
  for (level = levels - 1; level > 0; level--) {
    uint32_t maxrecs = (x->bs - x->hdr) / (BT_KEY_SIZE + BT_PTR_SIZE);

    n = read_node (x, agno, aglen, agbno, level);
    if (n == -1)
      return -1;
    if (n == 0)
      return error ("AG %" PRIu32 ": empty free-space B-tree node", agno);
    agbno = be32_get (x->block + x->hdr + maxrecs * BT_KEY_SIZE);
  }

  /* Then the leaves, left to right. */
  for (;;) {
    const unsigned char *rec;

    n = read_node (x, agno, aglen, agbno, 0);
    if (n == -1)
      return -1;
    if (be32_get (x->block + BT_LEFTSIB) != left || ++leaves > aglen)
      return error ("AG %" PRIu32 ": free-space B-tree leaves badly chained",
                    agno);
    for (i = 0, rec = x->block + x->hdr; i < n; i++, rec += BT_REC_SIZE) {
      uint32_t start = be32_get (rec), count = be32_get (rec + 4);

      /* In order, apart, inside the AG. */
      if (count == 0 || start < next_free || start > aglen
          || count > aglen - start)
        return error ("AG %" PRIu32 ": free extent %" PRIu32 "+%" PRIu32
                      " out of place",
                      agno, start, count);
      if (allocmap_add (map, x->start + (agstart + start) * x->bs,
                        (uint64_t) count * x->bs)
          == -1)
        return -1;
      counted += count;
      next_free = start + count;
    }
    left = agbno;
    agbno = be32_get (x->block + BT_RIGHTSIB);
    if (agbno == XFS_NULL_AGBLOCK)
      break;
    if (n == 0)
      return error ("AG %" PRIu32 ": empty free-space B-tree leaf", agno);
  }
  if (counted != be32_get (agf + AGF_FREEBLKS))
    return error ("AG %" PRIu32 ": the free-space B-tree holds %" PRIu64
                  " free blocks, the AGF counts %" PRIu32,
                  agno, counted, be32_get (agf + AGF_FREEBLKS));
  return 0;
}

int
allocmap_xfs (struct source *src, uint64_t start, uint64_t length,
              struct allocmap *map, const char **type)
{
  struct xfs *x;
  uint32_t agno;
  int r, ret = -1;

  *type = "xfs";
  x = calloc (1, sizeof *x);
  if (x == NULL)
    return error ("out of memory");
  x->src = src;
  x->start = start;
  crc_init (x);
  r = read_super (x, length);
  if (r != 1) {
    ret = r;
    goto out;
  }
  x->block = malloc (x->bs);
  if (x->block == NULL) {
    error ("out of memory");
    goto out;
  }
  for (agno = 0; agno < x->agcount; agno++)
    if (map_ag (x, agno, map) == -1)
      goto out;
  ret = 1;

out:
  if (x)
    free (x->block);
  free (x);
  return ret;
}
