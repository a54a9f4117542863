/* p2vkit imaging engine: what an ext2, ext3 or ext4 filesystem leaves
 * unused, from its block bitmaps (see allocmap.h).
 *
 * libext2fs reads the filesystem through an I/O manager of ours that
 * reads the source (a partition of a raw disk, a block device or a qcow2
 * image alike), read-only: its write functions fail.  libext2fs checks
 * what it reads (superblock and group descriptor checksums, block bitmap
 * checksums with metadata_csum, the sizes and counts): whatever it
 * refuses, the filesystem is read in full.
 */
#include "allocmap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* com_err's error_message(errcode_t) has the name of error.h's: keep
 * its declaration out of the way.  libext2fs's own calls to it resolve
 * to ours, which returns a string too.
 */
#define error_message com_err_error_message
#include <ext2fs/ext2fs.h>
#undef error_message

#include "error.h"

#define EXT_SUPERBLOCK_OFFSET 1024
#define EXT_MAGIC_OFFSET 56     /* of s_magic in the superblock */
#define EXT_MAGIC 0xef53        /* little-endian on disk */
#define EXT_FIRST_BLOCK_SIZE 1024       /* until libext2fs sets its own */

/* The filesystem's place, for the I/O manager's channel. */
struct ext_place {
  struct source *src;
  uint64_t start, length;
};

/* The place io_open() opens: libext2fs passes only a name.  Set around
 * ext2fs_open2() on this thread.
 */
static __thread const struct ext_place *opening;

static io_manager source_io_manager;

static errcode_t
io_open (const char *name, int flags, io_channel *channel)
{
  io_channel io;

  if (opening == NULL)
    return EXT2_ET_BAD_DEVICE_NAME;
  if (flags & IO_FLAG_RW)
    return EROFS;
  io = calloc (1, sizeof *io);
  if (io == NULL || (io->name = strdup (name)) == NULL) {
    free (io);
    return EXT2_ET_NO_MEMORY;
  }
  io->magic = EXT2_ET_MAGIC_IO_CHANNEL;
  io->manager = source_io_manager;
  io->block_size = EXT_FIRST_BLOCK_SIZE;
  io->refcount = 1;
  io->private_data = (void *) opening;
  *channel = io;
  return 0;
}

static errcode_t
io_close (io_channel io)
{
  if (--io->refcount > 0)
    return 0;
  free (io->name);
  free (io);
  return 0;
}

static errcode_t
io_set_blksize (io_channel io, int blksize)
{
  io->block_size = blksize;
  return 0;
}

static errcode_t
io_read_blk64 (io_channel io, unsigned long long block, int count, void *data)
{
  const struct ext_place *p = io->private_data;
  /* A negative count is in bytes. */
  uint64_t len = count < 0 ? (uint64_t) - (int64_t) count
                           : (uint64_t) count * io->block_size;
  uint64_t offset = block * io->block_size;

  if (block > p->length / io->block_size || len > p->length - offset)
    return EXT2_ET_SHORT_READ;
  if (p->src->ops->pread (p->src, data, len, p->start + offset) == -1)
    return EIO;
  return 0;
}

static errcode_t
io_read_blk (io_channel io, unsigned long block, int count, void *data)
{
  return io_read_blk64 (io, block, count, data);
}

static errcode_t
io_write_blk64 (io_channel io, unsigned long long block, int count,
                const void *data)
{
  (void) io;
  (void) block;
  (void) count;
  (void) data;
  return EROFS;                 /* a source is never written */
}

static errcode_t
io_write_blk (io_channel io, unsigned long block, int count, const void *data)
{
  return io_write_blk64 (io, block, count, data);
}

static errcode_t
io_flush (io_channel io)
{
  (void) io;
  return 0;
}

static errcode_t
io_set_option (io_channel io, const char *option, const char *arg)
{
  (void) io;
  (void) option;
  (void) arg;
  return EXT2_ET_INVALID_ARGUMENT;
}

static struct struct_io_manager source_io_manager_struct = {
  .magic = EXT2_ET_MAGIC_IO_MANAGER,
  .name = "p2vkit source",
  .open = io_open,
  .close = io_close,
  .set_blksize = io_set_blksize,
  .read_blk = io_read_blk,
  .write_blk = io_write_blk,
  .flush = io_flush,
  .set_option = io_set_option,
  .read_blk64 = io_read_blk64,
  .write_blk64 = io_write_blk64,
};

static io_manager source_io_manager = &source_io_manager_struct;

/* libext2fs's words for CODE (its own codes, or an errno). */
static const char *
ext_strerror (errcode_t code)
{
  const struct error_table *t = &et_ext2_error_table;

  if (code >= t->base && code < t->base + t->n_msgs)
    return t->msgs[code - t->base];
  return strerror ((int) code);
}

int
allocmap_ext (struct source *src, uint64_t start, uint64_t length,
              struct allocmap *map, const char **type)
{
  unsigned char magic[2];
  struct ext_place place = { .src = src, .start = start, .length = length };
  ext2_filsys fs = NULL;
  ext2fs_block_bitmap bm;
  blk64_t b, end, zero, set;
  uint64_t bs;
  errcode_t err;
  int ret = -1;

  *type = "ext";
  if (length < EXT_SUPERBLOCK_OFFSET * 2)
    return 0;
  if (src->ops->pread (src, magic, sizeof magic,
                       start + EXT_SUPERBLOCK_OFFSET + EXT_MAGIC_OFFSET)
      == -1)
    return -1;
  if ((magic[0] | magic[1] << 8) != EXT_MAGIC)
    return 0;

  opening = &place;
  err = ext2fs_open2 (src->name, NULL, EXT2_FLAG_64BITS, 0, 0,
                      source_io_manager, &fs);
  opening = NULL;
  if (err) {
    error ("superblock or group descriptors: %s", ext_strerror (err));
    fs = NULL;
    goto out;
  }
  if (ext2fs_has_feature_extents (fs->super)
      || ext2fs_has_feature_64bit (fs->super)
      || ext2fs_has_feature_flex_bg (fs->super))
    *type = "ext4";
  else
    *type = ext2fs_has_feature_journal (fs->super) ? "ext3" : "ext2";

  bs = fs->blocksize;
  if (ext2fs_blocks_count (fs->super) > length / bs) {
    error ("its %llu blocks of %" PRIu64 " bytes do not fit its %" PRIu64
           "-byte partition",
           (unsigned long long) ext2fs_blocks_count (fs->super), bs, length);
    goto out;
  }
  /* Unreplayed journal transactions may allocate blocks the bitmaps on
   * disk still say are free.
   */
  if (ext2fs_has_feature_journal_needs_recovery (fs->super)) {
    error ("its journal needs recovery (it was not cleanly unmounted)");
    goto out;
  }
  if (fs->super->s_state & EXT2_ERROR_FS) {
    error ("it is marked as having errors (run e2fsck)");
    goto out;
  }
  /* Without a journal, a crash leaves the bitmaps as they were. */
  if (!(fs->super->s_state & EXT2_VALID_FS)) {
    error ("it was not cleanly unmounted (run e2fsck)");
    goto out;
  }
  err = ext2fs_read_block_bitmap (fs);
  if (err) {
    error ("block bitmaps: %s", ext_strerror (err));
    goto out;
  }

  /* Blocks before the bitmap's start (the boot block of a filesystem
   * of 1 KiB blocks) and after its end are read.
   */
  bm = fs->block_map;
  b = ext2fs_get_block_bitmap_start2 (bm);
  end = ext2fs_get_block_bitmap_end2 (bm);
  if (end >= ext2fs_blocks_count (fs->super))
    end = ext2fs_blocks_count (fs->super) - 1;
  while (b <= end) {
    if (ext2fs_find_first_zero_block_bitmap2 (bm, b, end, &zero) != 0)
      break;                    /* no free block left */
    if (ext2fs_find_first_set_block_bitmap2 (bm, zero, end, &set) != 0)
      set = end + 1;
    if (allocmap_add (map, start + zero * bs, (set - zero) * bs) == -1)
      goto out;
    b = set;
  }
  ret = 1;

out:
  if (fs)
    ext2fs_close_free (&fs);
  return ret;
}
