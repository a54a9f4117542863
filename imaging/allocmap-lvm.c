/* p2vkit imaging engine: the logical volumes of an LVM2 physical volume,
 * for the allocation maps (see allocmap.h).
 *
 * The on-disk format (LVM2's lib/format_text/layout.h; integers
 * little-endian): a label in one of the PV's first four sectors
 * ("LABELONE", the sector's own number, a CRC, "LVM2 001") points to the
 * PV header: the PV's UUID (32 characters), its size, then two lists of
 * (offset, size) pairs, each ended by a zero offset: the data area (where
 * the physical extents start) and the metadata areas.  A metadata area
 * starts with a header (a magic, its own offset and size) whose first
 * "raw location" gives the current metadata: text, at an offset in the
 * area (wrapping around past its end to just after the header), with a
 * CRC of its own.  The text describes the volume group in nested
 * sections: its extent size, its PVs (each with its UUID and first
 * extent) and its logical volumes, each a list of segments that map a run
 * of its extents onto extents of PVs.
 *
 * Only what is plain is mapped: every segment of every LV in the volume
 * group must be linear (type "striped", one stripe); a snapshot, thin
 * pool, mirror, RAID or cache anywhere makes the whole PV read in full, as
 * do LVs whose extents overlap on this PV.  An LV with extents on other
 * PVs is left out (read in full).  The text is untrusted: every number is
 * checked before use and nothing is allocated from it beyond fixed limits.
 */
#include "allocmap-lvm.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define LVM_SECTOR 512
#define LVM_LABEL_SECTORS 4
#define LVM_LABEL_ID "LABELONE"
#define LVM_LABEL_TYPE "LVM2 001"
#define LVM_LABEL_SECTOR_OFF 8
#define LVM_LABEL_CRC_OFF 16
#define LVM_LABEL_CONTENTS_OFF 20
#define LVM_LABEL_PVH_OFF 20
#define LVM_LABEL_TYPE_OFF 24
#define LVM_PVH_UUID_LEN 32
#define LVM_PVH_LISTS_OFF 40    /* after the UUID and the device size */
#define LVM_LOCN_SIZE 16
#define LVM_MDA_HEADER_SIZE 512
#define LVM_MDA_MAGIC " LVM2 x[5A%r0N*>"
#define LVM_MDA_MAGIC_OFF 4
#define LVM_MDA_VERSION_OFF 20
#define LVM_MDA_START_OFF 24
#define LVM_MDA_SIZE_OFF 32
#define LVM_MDA_LOCN_OFF 40
#define LVM_MDA_VERSION 1
#define LVM_LOCN_CRC_OFF 16 /* of a raw location: offset, size, crc, flags */
#define LVM_LOCN_FLAGS_OFF 20
#define LVM_LOCN_IGNORED 1
#define LVM_CRC_INITIAL 0xf597a6cfu
#define LVM_CRC_POLY 0xedb88320u
#define LVM_MAX_TEXT (4 * 1024 * 1024)
#define LVM_MAX_DEPTH 8
#define LVM_MAX_PVS 256
#define LVM_MAX_SEGS 1024
#define LVM_NAME_MAX 256 /* a name or word of the text, cut there */

static uint32_t
le32 (const unsigned char *p)
{
  return allocmap_le32 (p);
}

static uint64_t
le64 (const unsigned char *p)
{
  return (uint64_t) allocmap_le32 (p + 4) << 32 | allocmap_le32 (p);
}

/* LVM2's CRC: CRC-32 (reflected) from LVM_CRC_INITIAL, no final xor. */
static uint32_t
lvm_crc (uint32_t crc, const unsigned char *p, size_t len)
{
  size_t i;
  int k;

  for (i = 0; i < len; i++) {
    crc ^= p[i];
    for (k = 0; k < 8; k++)
      crc = crc & 1 ? (crc >> 1) ^ LVM_CRC_POLY : crc >> 1;
  }
  return crc;
}

/* The parsed volume group: what the mapping needs. */
struct pvdesc {
  char name[LVM_NAME_MAX]; /* "pv0" */
  char uuid[LVM_PVH_UUID_LEN + 1]; /* without dashes */
  uint64_t pe_start; /* sectors */
  uint64_t pe_count; /* extents */
};

struct segdesc {
  char lv[LVM_NAME_MAX];
  uint64_t start_extent, extent_count, stripe_count;
  char type[LVM_NAME_MAX];
  char pv[LVM_NAME_MAX]; /* of the one stripe */
  uint64_t pe; /* its first extent there */
  int n_stripe_items; /* items of the stripes array */
  unsigned seen; /* bit mask of the keys above seen */
};

struct vg {
  uint64_t extent_size; /* sectors */
  struct pvdesc pv[LVM_MAX_PVS];
  unsigned n_pv;
  struct segdesc seg[LVM_MAX_SEGS];
  unsigned n_seg;
  unsigned n_sections; /* top-level sections: the VG, once */
};

enum { SEEN_START = 1, SEEN_COUNT = 2, SEEN_TYPE = 4, SEEN_STRIPES = 8 };

/* The tokenizer. */
enum tok {
  T_END,
  T_WORD,
  T_STRING,
  T_LBRACE,
  T_RBRACE,
  T_LBRACKET,
  T_RBRACKET,
  T_EQUALS,
  T_COMMA,
  T_BAD
};

struct lexer {
  const char *p, *end;
  char text[LVM_NAME_MAX]; /* of the last WORD or STRING, cut */
};

static enum tok
next (struct lexer *l)
{
  size_t n = 0;

  for (;;) {
    while (l->p < l->end
           && (*l->p == ' ' || *l->p == '\t' || *l->p == '\n' || *l->p == '\r'))
      l->p++;
    if (l->p < l->end && *l->p == '#') {
      while (l->p < l->end && *l->p != '\n')
        l->p++;
      continue;
    }
    break;
  }
  if (l->p >= l->end || *l->p == '\0')
    return T_END;
  switch (*l->p) {
  case '{':
    l->p++;
    return T_LBRACE;
  case '}':
    l->p++;
    return T_RBRACE;
  case '[':
    l->p++;
    return T_LBRACKET;
  case ']':
    l->p++;
    return T_RBRACKET;
  case '=':
    l->p++;
    return T_EQUALS;
  case ',':
    l->p++;
    return T_COMMA;
  case '"':
    l->p++;
    while (l->p < l->end && *l->p != '"') {
      if (*l->p == '\\' && l->p + 1 < l->end)
        l->p++;
      if (n < sizeof l->text - 1)
        l->text[n++] = *l->p;
      l->p++;
    }
    if (l->p >= l->end)
      return T_BAD;
    l->p++;
    l->text[n] = '\0';
    return T_STRING;
  default:
    while (l->p < l->end
           && (((*l->p | 0x20) >= 'a' && (*l->p | 0x20) <= 'z')
               || (*l->p >= '0' && *l->p <= '9') || *l->p == '_' || *l->p == '.'
               || *l->p == '-' || *l->p == '+')) {
      if (n < sizeof l->text - 1)
        l->text[n++] = *l->p;
      l->p++;
    }
    if (n == 0)
      return T_BAD;
    l->text[n] = '\0';
    return T_WORD;
  }
}

static bool
number (const char *s, uint64_t *v)
{
  char *end;

  if (*s < '0' || *s > '9')
    return false;
  errno = 0;
  *v = strtoull (s, &end, 10);
  return errno == 0 && *end == '\0';
}

/* Where the parser is: the section names from the top. */
struct path {
  char name[LVM_MAX_DEPTH][LVM_NAME_MAX];
  unsigned depth;
};

/* The segment PATH is in (logical_volumes/LV/segmentN), or NULL. */
static struct segdesc *
path_segment (struct vg *vg, const struct path *path)
{
  if (path->depth != 4 || strcmp (path->name[1], "logical_volumes") != 0
      || vg->n_seg == 0)
    return NULL;
  return &vg->seg[vg->n_seg - 1];
}

/* KEY = the value that starts with token T. */
static int
value (struct lexer *l, struct vg *vg, const struct path *path, const char *key,
       enum tok t)
{
  struct segdesc *s = path_segment (vg, path);
  uint64_t v;
  int items = 0;

  if (t == T_LBRACKET) {
    for (;;) {
      t = next (l);
      if (t == T_RBRACKET)
        break;
      if (t == T_COMMA)
        continue;
      if (t != T_WORD && t != T_STRING)
        return error ("metadata: a list holds something else");
      if (s && strcmp (key, "stripes") == 0) {
        if (items == 0 && t == T_STRING)
          snprintf (s->pv, sizeof s->pv, "%s", l->text);
        else if (items == 1 && t == T_WORD && number (l->text, &v))
          s->pe = v;
        s->seen |= SEEN_STRIPES;
      }
      items++;
    }
    if (s && strcmp (key, "stripes") == 0)
      s->n_stripe_items = items;
    return 0;
  }
  if (t != T_WORD && t != T_STRING)
    return error ("metadata: '%s' has no value", key);

  if (path->depth == 1 && strcmp (key, "extent_size") == 0) {
    if (!number (l->text, &vg->extent_size))
      return error ("metadata: extent_size '%s'", l->text);
  }
  else if (path->depth == 3 && strcmp (path->name[1], "physical_volumes") == 0
           && vg->n_pv > 0) {
    struct pvdesc *pv = &vg->pv[vg->n_pv - 1];

    if (strcmp (key, "id") == 0) {
      size_t i, n = 0;

      for (i = 0; l->text[i] && n < LVM_PVH_UUID_LEN; i++)
        if (l->text[i] != '-')
          pv->uuid[n++] = l->text[i];
      pv->uuid[n] = '\0';
    }
    else if (strcmp (key, "pe_start") == 0 && !number (l->text, &pv->pe_start))
      return error ("metadata: pe_start '%s'", l->text);
    else if (strcmp (key, "pe_count") == 0 && !number (l->text, &pv->pe_count))
      return error ("metadata: pe_count '%s'", l->text);
  }
  else if (s) {
    if (strcmp (key, "start_extent") == 0 && number (l->text, &v)) {
      s->start_extent = v;
      s->seen |= SEEN_START;
    }
    else if (strcmp (key, "extent_count") == 0 && number (l->text, &v)) {
      s->extent_count = v;
      s->seen |= SEEN_COUNT;
    }
    else if (strcmp (key, "stripe_count") == 0 && number (l->text, &v))
      s->stripe_count = v;
    else if (strcmp (key, "type") == 0) {
      snprintf (s->type, sizeof s->type, "%s", l->text);
      s->seen |= SEEN_TYPE;
    }
  }
  return 0;
}

/* The items of a section (or of the top level) up to its '}' (or the
 * end).
 */
static int
items (struct lexer *l, struct vg *vg, struct path *path)
{
  char key[LVM_NAME_MAX];
  enum tok t;

  for (;;) {
    t = next (l);
    if (t == T_END)
      return path->depth == 0 ? 0 : error ("metadata: a section is not closed");
    if (t == T_RBRACE)
      return path->depth > 0 ? 0 : error ("metadata: a '}' too many");
    if (t != T_WORD)
      return error ("metadata: a name expected");
    snprintf (key, sizeof key, "%s", l->text);
    t = next (l);
    if (t == T_EQUALS) {
      if (value (l, vg, path, key, next (l)) == -1)
        return -1;
      continue;
    }
    if (t != T_LBRACE)
      return error ("metadata: '=' or '{' expected after '%s'", key);
    if (path->depth + 1 >= LVM_MAX_DEPTH)
      return error ("metadata: sections nested too deep");
    snprintf (path->name[path->depth], sizeof path->name[0], "%s", key);
    path->depth++;
    if (path->depth == 1 && vg->n_sections++ > 0)
      return error ("metadata: more than one volume group");
    if (path->depth == 3 && strcmp (path->name[1], "physical_volumes") == 0) {
      if (vg->n_pv == LVM_MAX_PVS)
        return error ("metadata: too many physical volumes");
      memset (&vg->pv[vg->n_pv], 0, sizeof vg->pv[0]);
      snprintf (vg->pv[vg->n_pv].name, sizeof vg->pv[0].name, "%s", key);
      vg->n_pv++;
    }
    if (path->depth == 4 && strcmp (path->name[1], "logical_volumes") == 0) {
      if (vg->n_seg == LVM_MAX_SEGS)
        return error ("metadata: too many segments");
      memset (&vg->seg[vg->n_seg], 0, sizeof vg->seg[0]);
      snprintf (vg->seg[vg->n_seg].lv, sizeof vg->seg[0].lv, "%s",
                path->name[2]);
      vg->n_seg++;
    }
    if (items (l, vg, path) == -1)
      return -1;
    path->depth--;
  }
}

/* Read the PV's current metadata text (caller frees) into *TEXT. */
static int
read_metadata (struct source *src, uint64_t start, uint64_t length,
               const unsigned char *label, size_t pvh, char **text,
               size_t *text_len, char uuid[LVM_PVH_UUID_LEN + 1],
               uint64_t *data_start)
{
  const unsigned char *p = label + pvh + LVM_PVH_LISTS_OFF;
  const unsigned char *end = label + LVM_SECTOR;
  unsigned char hdr[LVM_MDA_HEADER_SIZE];
  uint64_t mda = 0, mda_size = 0, off, size, first;
  char *t;
  int list = 0;

  memcpy (uuid, label + pvh, LVM_PVH_UUID_LEN);
  uuid[LVM_PVH_UUID_LEN] = '\0';
  *data_start = 0;
  /* Two lists, each ended by a zero offset: data areas, metadata areas. */
  while (list < 2) {
    if (p + LVM_LOCN_SIZE > end)
      return error ("PV header: its lists do not end");
    off = le64 (p);
    size = le64 (p + 8);
    p += LVM_LOCN_SIZE;
    if (off == 0) {
      list++;
      continue;
    }
    if (list == 0 && *data_start == 0)
      *data_start = off;
    if (list == 1 && mda == 0) {
      mda = off;
      mda_size = size;
    }
  }
  if (mda == 0 || mda_size <= LVM_MDA_HEADER_SIZE || mda > length
      || mda_size > length - mda)
    return error ("PV header: no metadata area inside the PV");
  if (src->ops->pread (src, hdr, sizeof hdr, start + mda) == -1)
    return -1;
  if (memcmp (hdr + LVM_MDA_MAGIC_OFF, LVM_MDA_MAGIC, strlen (LVM_MDA_MAGIC))
        != 0
      || le32 (hdr + LVM_MDA_VERSION_OFF) != LVM_MDA_VERSION
      || le64 (hdr + LVM_MDA_START_OFF) != mda
      || le64 (hdr + LVM_MDA_SIZE_OFF) != mda_size
      || le32 (hdr) != lvm_crc (LVM_CRC_INITIAL, hdr + 4, sizeof hdr - 4))
    return error ("metadata area header damaged");
  /* An ignored area (metadataignore) is not kept up to date. */
  if (le32 (hdr + LVM_MDA_LOCN_OFF + LVM_LOCN_FLAGS_OFF) & LVM_LOCN_IGNORED)
    return error ("metadata area: ignored, so maybe out of date");
  off = le64 (hdr + LVM_MDA_LOCN_OFF);
  size = le64 (hdr + LVM_MDA_LOCN_OFF + 8);
  if (size == 0 || size > LVM_MAX_TEXT || off < LVM_MDA_HEADER_SIZE
      || off >= mda_size || size > mda_size - LVM_MDA_HEADER_SIZE)
    return error ("metadata area: no current metadata in it");
  t = malloc (size + 1);
  if (t == NULL)
    return error ("out of memory");
  /* The text may wrap around the end of the area. */
  first = mda_size - off < size ? mda_size - off : size;
  if (src->ops->pread (src, t, first, start + mda + off) == -1
      || (first < size
          && src->ops->pread (src, t + first, size - first,
                              start + mda + LVM_MDA_HEADER_SIZE)
            == -1)) {
    free (t);
    return -1;
  }
  if (lvm_crc (LVM_CRC_INITIAL, (unsigned char *) t, size)
      != le32 (hdr + LVM_MDA_LOCN_OFF + LVM_LOCN_CRC_OFF)) {
    free (t);
    return error ("metadata: checksum does not match");
  }
  t[size] = '\0';
  *text = t;
  *text_len = size;
  return 0;
}

static int
cmp_seg_lv (const void *a, const void *b)
{
  const struct segdesc *x = a, *y = b;
  int c = strcmp (x->lv, y->lv);

  if (c)
    return c;
  return x->start_extent < y->start_extent ? -1
                                           : x->start_extent > y->start_extent;
}

static int
cmp_range (const void *a, const void *b)
{
  const struct allocmap_range *x = a, *y = b;

  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

void
allocmap_pv_free (struct allocmap_pv *pv)
{
  if (pv) {
    free (pv->free);
    free (pv->lv);
    free (pv->seg);
    free (pv);
  }
}

int
allocmap_pv_read (struct source *src, uint64_t start, uint64_t length,
                  struct allocmap_pv **pvp)
{
  unsigned char label[LVM_SECTOR];
  char uuid[LVM_PVH_UUID_LEN + 1], *text = NULL;
  struct allocmap_range *used = NULL;
  struct allocmap_pv *pv = NULL;
  struct lexer l;
  struct path path = { .depth = 0 };
  struct vg *vg = NULL;
  uint64_t data_start, ext_bytes, pe_bytes, pv_end;
  size_t text_len = 0, n_used = 0;
  unsigned i, s, me = 0;
  bool found = false;
  int ret = -1;

  *pvp = NULL;
  for (i = 0; i < LVM_LABEL_SECTORS && !found; i++) {
    if ((uint64_t) (i + 1) * LVM_SECTOR > length)
      return 0;
    if (src->ops->pread (src, label, sizeof label, start + i * LVM_SECTOR)
        == -1)
      return -1;
    found = memcmp (label, LVM_LABEL_ID, strlen (LVM_LABEL_ID)) == 0
      && le64 (label + LVM_LABEL_SECTOR_OFF) == i
      && memcmp (label + LVM_LABEL_TYPE_OFF, LVM_LABEL_TYPE,
                 strlen (LVM_LABEL_TYPE))
        == 0;
  }
  if (!found)
    return 0;
  if (le32 (label + LVM_LABEL_CRC_OFF)
      != lvm_crc (LVM_CRC_INITIAL, label + LVM_LABEL_CONTENTS_OFF,
                  sizeof label - LVM_LABEL_CONTENTS_OFF))
    return error ("label: checksum does not match");
  {
    uint32_t pvh = le32 (label + LVM_LABEL_PVH_OFF);

    if (pvh < LVM_LABEL_TYPE_OFF + 8
        || pvh > LVM_SECTOR - LVM_PVH_LISTS_OFF - 2 * LVM_LOCN_SIZE)
      return error ("label: PV header out of place");
    if (read_metadata (src, start, length, label, pvh, &text, &text_len, uuid,
                       &data_start)
        == -1)
      return -1;
  }

  vg = calloc (1, sizeof *vg);
  if (vg == NULL) {
    error ("out of memory");
    goto out;
  }
  l.p = text;
  l.end = text + text_len;
  if (items (&l, vg, &path) == -1)
    goto out;
  if (vg->n_sections != 1 || vg->extent_size == 0
      || vg->extent_size > UINT64_MAX / LVM_SECTOR / 2) {
    error ("metadata: no volume group with an extent size");
    goto out;
  }
  for (me = 0; me < vg->n_pv; me++)
    if (strcmp (vg->pv[me].uuid, uuid) == 0)
      break;
  if (me == vg->n_pv) {
    error ("metadata: this PV is not in its volume group");
    goto out;
  }
  ext_bytes = vg->extent_size * LVM_SECTOR;
  pe_bytes = vg->pv[me].pe_start * LVM_SECTOR;
  if (pe_bytes != data_start || pe_bytes > length) {
    error ("metadata: the first extent is not where the PV header says");
    goto out;
  }
  if (vg->pv[me].pe_count > (length - pe_bytes) / ext_bytes) {
    error ("metadata: the PV's extents do not fit it");
    goto out;
  }

  /* Only linear segments anywhere in the volume group. */
  for (s = 0; s < vg->n_seg; s++) {
    const struct segdesc *g = &vg->seg[s];

    if ((g->seen & (SEEN_START | SEEN_COUNT | SEEN_TYPE | SEEN_STRIPES))
          != (SEEN_START | SEEN_COUNT | SEEN_TYPE | SEEN_STRIPES)
        || strcmp (g->type, "striped") != 0 || g->stripe_count != 1
        || g->n_stripe_items != 2 || g->extent_count == 0) {
      error ("logical volume %s is not linear (%s): only linear ones are "
             "mapped",
             g->lv, g->type);
      goto out;
    }
  }
  qsort (vg->seg, vg->n_seg, sizeof vg->seg[0], cmp_seg_lv);

  pv = calloc (1, sizeof *pv);
  if (pv == NULL
      || (pv->free = calloc (vg->n_seg + 1, sizeof *pv->free)) == NULL
      || (vg->n_seg
          && ((pv->lv = calloc (vg->n_seg, sizeof *pv->lv)) == NULL
              || (pv->seg = calloc (vg->n_seg, sizeof *pv->seg)) == NULL
              || (used = calloc (vg->n_seg, sizeof *used)) == NULL))) {
    error ("out of memory");
    goto out;
  }
  pv_end = pe_bytes + vg->pv[me].pe_count * ext_bytes;
  /* Each LV whose segments are all on this PV, in order and whole. */
  for (s = 0; s < vg->n_seg;) {
    unsigned first = s, k;
    uint64_t next_extent = 0;
    bool mine = true;

    for (; s < vg->n_seg && strcmp (vg->seg[s].lv, vg->seg[first].lv) == 0;
         s++) {
      const struct segdesc *g = &vg->seg[s];

      if (g->start_extent != next_extent) {
        error ("logical volume %s: its segments do not follow each other",
               g->lv);
        goto out;
      }
      next_extent += g->extent_count;
      if (strcmp (g->pv, vg->pv[me].name) != 0)
        mine = false;
      else if (g->pe > (pv_end - pe_bytes) / ext_bytes
               || g->extent_count > (pv_end - pe_bytes) / ext_bytes - g->pe) {
        error ("logical volume %s: extents past the end of the PV", g->lv);
        goto out;
      }
      if (g->pv[0] && strcmp (g->pv, vg->pv[me].name) == 0) {
        used[n_used].offset = pe_bytes + g->pe * ext_bytes;
        used[n_used].length = g->extent_count * ext_bytes;
        n_used++;
      }
    }
    if (!mine)
      continue; /* partly elsewhere: read in full */
    snprintf (pv->lv[pv->n_lv].name, sizeof pv->lv[0].name, "%s",
              vg->seg[first].lv);
    pv->lv[pv->n_lv].first_seg = pv->n_seg;
    for (k = first; k < s; k++) {
      pv->seg[pv->n_seg].lv_offset = vg->seg[k].start_extent * ext_bytes;
      pv->seg[pv->n_seg].pv_offset = pe_bytes + vg->seg[k].pe * ext_bytes;
      pv->seg[pv->n_seg].length = vg->seg[k].extent_count * ext_bytes;
      pv->n_seg++;
    }
    pv->lv[pv->n_lv].n_seg = s - first;
    pv->lv[pv->n_lv].size = next_extent * ext_bytes;
    pv->n_lv++;
  }
  /* No two LVs share an extent of this PV. */
  qsort (used, n_used, sizeof *used, cmp_range);
  for (i = 1; i < n_used; i++)
    if (used[i].offset < used[i - 1].offset + used[i - 1].length) {
      error ("logical volumes overlap on this PV");
      goto out;
    }
  /* The extents no LV has are the volume group's free space. */
  {
    uint64_t at = pe_bytes;

    for (i = 0; i <= n_used; i++) {
      uint64_t to = i < n_used ? used[i].offset : pv_end;

      if (to > at) {
        pv->free[pv->n_free].offset = at;
        pv->free[pv->n_free].length = to - at;
        pv->n_free++;
      }
      if (i < n_used)
        at = used[i].offset + used[i].length;
    }
  }
  *pvp = pv;
  pv = NULL;
  ret = 1;

out:
  allocmap_pv_free (pv);
  free (used);
  free (vg);
  free (text);
  return ret;
}

/* A logical volume as a source: its segments' bytes in order. */
struct lv_source {
  struct source s; /* must be first */
  struct source *disk;
  uint64_t start; /* of the PV on the disk */
  const struct allocmap_pv_seg *seg;
  unsigned n_seg;
};

static int
lv_pread (struct source *s, void *buf, size_t len, uint64_t offset)
{
  struct lv_source *v = (struct lv_source *) s;
  unsigned char *p = buf;
  unsigned i = 0;

  if (offset > s->size || len > s->size - offset)
    return error ("%s: read past its end", s->name);
  while (len > 0) {
    const struct allocmap_pv_seg *g;
    uint64_t in, n;

    while (i < v->n_seg && v->seg[i].lv_offset + v->seg[i].length <= offset)
      i++;
    if (i == v->n_seg)
      return error ("%s: read past its end", s->name);
    g = &v->seg[i];
    in = offset - g->lv_offset;
    n = g->length - in < len ? g->length - in : len;
    if (v->disk->ops->pread (v->disk, p, n, v->start + g->pv_offset + in) == -1)
      return -1;
    p += n;
    len -= n;
    offset += n;
  }
  return 0;
}

static void
lv_close (struct source *s)
{
  free (s->name);
  free (s);
}

static const struct source_ops lv_ops = {
  .format = "lv",
  .extent = source_extent_all_data,
  .pread = lv_pread,
  .close = lv_close,
};

struct source *
allocmap_lv_source (struct source *disk, uint64_t start,
                    const struct allocmap_pv *pv, unsigned lv)
{
  struct lv_source *v = calloc (1, sizeof *v);

  if (v == NULL || (v->s.name = strdup (disk->name)) == NULL) {
    free (v);
    error ("out of memory");
    return NULL;
  }
  v->s.ops = &lv_ops;
  v->s.size = pv->lv[lv].size;
  v->s.fd = -1;
  v->disk = disk;
  v->start = start;
  v->seg = pv->seg + pv->lv[lv].first_seg;
  v->n_seg = pv->lv[lv].n_seg;
  return &v->s;
}

int
allocmap_lv_to_disk (const struct allocmap_pv *pv, unsigned lv, uint64_t start,
                     const struct allocmap *in, struct allocmap_range **out,
                     size_t *n_out, size_t *alloc_out)
{
  const struct allocmap_pv_seg *seg = pv->seg + pv->lv[lv].first_seg;
  unsigned n_seg = pv->lv[lv].n_seg, k;
  size_t i;

  for (i = 0; i < in->n; i++) {
    uint64_t off = in->ranges[i].offset, end = off + in->ranges[i].length;

    for (k = 0; k < n_seg && off < end; k++) {
      uint64_t s0 = seg[k].lv_offset, s1 = s0 + seg[k].length, a, b;

      if (end <= s0 || off >= s1)
        continue;
      a = off > s0 ? off : s0;
      b = end < s1 ? end : s1;
      if (allocmap_ranges_append (out, n_out, alloc_out,
                                  start + seg[k].pv_offset + (a - s0), b - a)
          == -1)
        return -1;
    }
  }
  return 0;
}

int
allocmap_ranges_append (struct allocmap_range **out, size_t *n_out,
                        size_t *alloc_out, uint64_t offset, uint64_t length)
{
  if (*n_out == *alloc_out) {
    size_t alloc = *alloc_out ? *alloc_out * 2 : 64;
    struct allocmap_range *r = realloc (*out, alloc * sizeof *r);

    if (r == NULL)
      return error ("out of memory");
    *out = r;
    *alloc_out = alloc;
  }
  (*out)[*n_out].offset = offset;
  (*out)[*n_out].length = length;
  (*n_out)++;
  return 0;
}

void
allocmap_sort_ranges (struct allocmap_range *r, size_t n)
{
  qsort (r, n, sizeof *r, cmp_range);
}
