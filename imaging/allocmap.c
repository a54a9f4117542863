/* p2vkit imaging engine: reading only what the filesystems use (see
 * allocmap.h).
 *
 * allocmap_source() lists the partitions (parttable.h), asks each mapper
 * in turn about each partition, and wraps the source in one that reads
 * the unused ranges as zeros.  The wrapper reports them as ZERO extents,
 * so that the copy loop (copy.c) skips them as it skips holes; where it
 * still reads across one (the block that a short extent is rounded up
 * to), pread() fills it with zeros instead of reading it.
 */
#include "allocmap.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allocmap-lvm.h"
#include "error.h"
#include "parttable.h"
#include "size.h"

#define ALLOCMAP_MIN_ALLOC 64
#define ALLOCMAP_MESSAGE_MAX 1024

int
allocmap_add (struct allocmap *m, uint64_t offset, uint64_t length)
{
  struct allocmap_range *last = m->n ? &m->ranges[m->n - 1] : NULL;

  if (length == 0)
    return 0;
  if (last && offset < last->offset + last->length)
    return error ("allocation map: range at %" PRIu64 " out of order", offset);
  if (last && offset == last->offset + last->length) {
    last->length += length;
    return 0;
  }
  if (m->n == m->alloc) {
    size_t alloc = m->alloc ? m->alloc * 2 : ALLOCMAP_MIN_ALLOC;
    struct allocmap_range *r = realloc (m->ranges, alloc * sizeof *r);

    if (r == NULL)
      return error ("out of memory");
    m->ranges = r;
    m->alloc = alloc;
  }
  m->ranges[m->n].offset = offset;
  m->ranges[m->n].length = length;
  m->n++;
  return 0;
}

uint64_t
allocmap_bytes (const struct allocmap *m)
{
  uint64_t sum = 0;
  size_t i;

  for (i = 0; i < m->n; i++)
    sum += m->ranges[i].length;
  return sum;
}

void
allocmap_free (struct allocmap *m)
{
  free (m->ranges);
  m->ranges = NULL;
  m->n = m->alloc = 0;
}

/* The index of the first range of M that ends after OFFSET (M->n if
 * none): the one holding OFFSET, or the next one.
 */
static size_t
find_range (const struct allocmap *m, uint64_t offset)
{
  size_t lo = 0, hi = m->n;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;

    if (m->ranges[mid].offset + m->ranges[mid].length <= offset)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* The source that reads the map's ranges as zeros. */
struct used_source {
  struct source s;              /* must be first */
  struct source_ops ops;        /* the inner ops, wrapped */
  struct source *inner;         /* owned */
  struct allocmap map;          /* owned */
};

static int
used_extent (struct source *s, uint64_t offset, uint64_t max_len,
             struct extent *e)
{
  struct used_source *u = (struct used_source *) s;
  const struct allocmap_range *r;
  size_t i;

  if (u->inner->ops->extent (u->inner, offset, max_len, e) == -1)
    return -1;
  if (e->type == EXTENT_ZERO)
    return 0;
  i = find_range (&u->map, offset);
  if (i == u->map.n)
    return 0;
  r = &u->map.ranges[i];
  if (r->offset <= offset) {    /* unused: zeros, as far as both agree */
    e->type = EXTENT_ZERO;
    if (r->offset + r->length - offset < e->length)
      e->length = r->offset + r->length - offset;
  }
  else if (r->offset - offset < e->length)
    e->length = r->offset - offset;     /* data up to the unused range */
  return 0;
}

static int
used_pread (struct source *s, void *buf, size_t len, uint64_t offset)
{
  struct used_source *u = (struct used_source *) s;
  unsigned char *p = buf;
  uint64_t end = offset + len;
  size_t i = find_range (&u->map, offset);

  /* Read what is used, zero what is not, in order. */
  while (offset < end) {
    const struct allocmap_range *r = i < u->map.n ? &u->map.ranges[i] : NULL;
    uint64_t n;

    if (r && r->offset <= offset) {
      n = r->offset + r->length - offset;
      if (n > end - offset)
        n = end - offset;
      memset (p, 0, n);
      i++;
    }
    else {
      n = r && r->offset < end ? r->offset - offset : end - offset;
      if (u->inner->ops->pread (u->inner, p, n, offset) == -1)
        return -1;
    }
    p += n;
    offset += n;
  }
  return 0;
}

static int
used_map (struct source *s, uint64_t offset, size_t len, const void **addr)
{
  struct used_source *u = (struct used_source *) s;
  size_t i = find_range (&u->map, offset);

  /* Only ranges with nothing unused in them are mapped. */
  if (i < u->map.n && u->map.ranges[i].offset < offset + len)
    return 0;
  return u->inner->ops->map (u->inner, offset, len, addr);
}

static void
used_unmap (struct source *s, uint64_t offset, size_t len, const void *addr)
{
  struct used_source *u = (struct used_source *) s;

  u->inner->ops->unmap (u->inner, offset, len, addr);
}

static void
used_close (struct source *s)
{
  struct used_source *u = (struct used_source *) s;

  source_close (u->inner);
  allocmap_free (&u->map);
  free (u->s.name);
  free (u);
}

static void say (void (*fn) (void *, const char *), void *arg, const char *fmt,
                 ...) __attribute__ ((format (printf, 3, 4)));

static void
say (void (*fn) (void *, const char *), void *arg, const char *fmt, ...)
{
  char msg[ALLOCMAP_MESSAGE_MAX];
  va_list ap;

  if (fn == NULL)
    return;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  fn (arg, msg);
}

static allocmap_fs_fn *const mappers[] = {
  allocmap_ext,
  allocmap_xfs,
  allocmap_swap,
};

/* Does partition I of PT overlap another?  Then neither is mapped: the
 * free space of one may be the data of the other.
 */
static bool
overlaps (const struct parttable *pt, unsigned i)
{
  const struct parttable_partition *a = &pt->listed[i];
  unsigned j;

  for (j = 0; j < pt->n_listed; j++) {
    const struct parttable_partition *b = &pt->listed[j];

    if (j != i && a->start < b->start + b->length
        && b->start < a->start + a->length)
      return true;
  }
  return false;
}

static int map_pv (struct source *src, const char *what, uint64_t start,
                   uint64_t length, struct allocmap *m,
                   const struct allocmap_options *o);

/* Map the filesystem at [START, START + LENGTH) of SRC, called WHAT in
 * messages, into M; with LVM, an LVM2 PV's logical volumes too.  Returns
 * 0 (whatever it holds), or -1 when out of memory.
 */
static int
map_one (struct source *src, const char *what, uint64_t start, uint64_t length,
         struct allocmap *m, const struct allocmap_options *o, bool lvm)
{
  char point[ALLOCMAP_MESSAGE_MAX], used[SIZE_HUMAN_MAX], all[SIZE_HUMAN_MAX];
  size_t before = m->n, i;
  const char *type = NULL;
  int r = 0, mounted;

  for (i = 0; i < sizeof mappers / sizeof mappers[0] && r == 0; i++) {
    error_set_message ("");
    r = mappers[i](src, start, length, m, &type);
  }
  if (r == 0 && lvm)
    return map_pv (src, what, start, length, m, o);
  if (r == 0)
    return 0;                   /* unknown: read in full */
  if (r == -1 && strcmp (error_message (), "out of memory") == 0)
    return -1;
  mounted = allocmap_mounted (src->fd, start, point, sizeof point);
  if (mounted == 2) {
    /* Its bitmaps on disk lag behind the kernel's: read it all. */
    m->n = before;
    say (o->warn, o->arg,
         "%s: %s (%s) is mounted read-write on %s: read in full, and its "
         "copy is crash-consistent at best unless it is frozen (fsfreeze)",
         src->name, what, type, point);
    return 0;
  }
  if (r == -1) {
    m->n = before;
    say (o->warn, o->arg, "%s: %s (%s): %s: read in full", src->name, what,
         type, error_message ());
    return 0;
  }
  /* The ranges added since BEFORE are this filesystem's. */
  {
    struct allocmap mine = { .ranges = m->ranges + before, .n = m->n - before };

    say (o->note, o->arg, "%s: %s (%s%s): %s of %s used", src->name, what, type,
         mounted == 1 ? ", mounted read-only" : "",
         size_human (length - allocmap_bytes (&mine), used),
         size_human (length, all));
  }
  return 0;
}

/* The LVM2 PV at [START, START + LENGTH) of SRC, if there is one: map
 * each of its linear logical volumes as a filesystem of its own, the
 * ranges translated back to the disk and added to M in order.
 */
static int
map_pv (struct source *src, const char *what, uint64_t start, uint64_t length,
        struct allocmap *m, const struct allocmap_options *o)
{
  char holder[ALLOCMAP_MESSAGE_MAX], lvwhat[ALLOCMAP_MESSAGE_MAX];
  struct allocmap_range *r = NULL;
  struct allocmap_pv *pv = NULL;
  size_t n = 0, alloc = 0, i;
  unsigned lv;
  int p, ret = -1;

  error_set_message ("");
  p = allocmap_pv_read (src, start, length, &pv);
  if (p == -1 && strcmp (error_message (), "out of memory") == 0)
    return -1;
  if (p == -1) {
    say (o->warn, o->arg, "%s: %s (LVM2 PV): %s: read in full", src->name, what,
         error_message ());
    return 0;
  }
  if (p == 0)
    return 0;
  /* An active LV is the kernel's: what is on disk may lag. */
  if (allocmap_held (src->fd, start, holder, sizeof holder)) {
    say (o->warn, o->arg,
         "%s: %s (LVM2 PV) is in use by %s (active logical volumes): read in "
         "full, and the copy of a mounted one is crash-consistent at best "
         "unless it is frozen (fsfreeze)",
         src->name, what, holder);
    ret = 0;
    goto out;
  }
  for (lv = 0; lv < pv->n_lv; lv++) {
    struct allocmap lvmap = { .ranges = NULL };
    struct source *view = allocmap_lv_source (src, start, pv, lv);
    int q;

    if (view == NULL)
      goto out;
    snprintf (lvwhat, sizeof lvwhat, "%s, logical volume %s", what,
              pv->lv[lv].name);
    q = map_one (view, lvwhat, 0, view->size, &lvmap, o, false);
    if (q == 0)
      q = allocmap_lv_to_disk (pv, lv, start, &lvmap, &r, &n, &alloc);
    allocmap_free (&lvmap);
    source_close (view);
    if (q == -1)
      goto out;
  }
  /* And the extents of the volume group's free space. */
  for (i = 0; i < pv->n_free; i++)
    if (allocmap_ranges_append (&r, &n, &alloc, start + pv->free[i].offset,
                                pv->free[i].length)
        == -1)
      goto out;
  if (pv->n_free) {
    struct allocmap vgfree = { .ranges = pv->free, .n = pv->n_free };

    say (o->note, o->arg, "%s: %s (LVM2 PV): %s of free extents", src->name,
         what, size_human (allocmap_bytes (&vgfree), holder));
  }
  allocmap_sort_ranges (r, n);
  for (i = 0; i < n; i++)
    if (allocmap_add (m, r[i].offset, r[i].length) == -1)
      goto out;
  ret = 0;

out:
  free (r);
  allocmap_pv_free (pv);
  return ret;
}

int
allocmap_source (struct source **srcp, const struct allocmap_options *o)
{
  static const struct allocmap_options quiet;
  struct source *src = *srcp;
  struct allocmap m = { .ranges = NULL };
  struct used_source *u = NULL;
  struct parttable pt;
  char what[64];
  unsigned i;
  int ret = -1;

  if (o == NULL)
    o = &quiet;
  if (parttable_probe_source (src, &pt) == -1) {
    /* The table could not be read: the copy will say why. */
    say (o->warn, o->arg, "%s: %s: read in full", src->name, error_message ());
    ret = 0;
    goto out;
  }
  if (pt.type == PARTTABLE_NONE) {
    if (map_one (src, "the disk", 0, src->size, &m, o, true) == -1)
      goto out;
  }
  else {
    /* In disk order, as allocmap_add() needs: a sorted copy. */
    struct parttable_partition tmp;
    unsigned j;

    for (i = 1; i < pt.n_listed; i++)
      for (j = i; j > 0 && pt.listed[j - 1].start > pt.listed[j].start; j--) {
        tmp = pt.listed[j];
        pt.listed[j] = pt.listed[j - 1];
        pt.listed[j - 1] = tmp;
      }
    for (i = 0; i < pt.n_listed; i++) {
      snprintf (what, sizeof what, "partition %u", pt.listed[i].number);
      if (overlaps (&pt, i)) {
        say (o->warn, o->arg, "%s: %s overlaps another: read in full",
             src->name, what);
        continue;
      }
      if (map_one (src, what, pt.listed[i].start, pt.listed[i].length, &m, o,
                   true)
          == -1)
        goto out;
    }
  }
  ret = 0;
  if (m.n == 0)
    goto out;

  u = calloc (1, sizeof *u);
  if (u == NULL || (u->s.name = strdup (src->name)) == NULL) {
    free (u);
    ret = error ("out of memory");
    goto out;
  }
  u->ops = *src->ops;
  u->ops.extent = used_extent;
  u->ops.pread = used_pread;
  if (src->ops->map) {
    u->ops.map = used_map;
    u->ops.unmap = used_unmap;
  }
  u->ops.close = used_close;
  u->s.ops = &u->ops;
  u->s.size = src->size;
  u->s.fd = src->fd;
  u->inner = src;
  u->map = m;
  m.ranges = NULL;
  *srcp = &u->s;

out:
  allocmap_free (&m);
  return ret;
}
