/* p2vkit fixup: the device map (see devmap.h). */
#include "devmap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define DEV_PREFIX "/dev/"
#define DEV_PREFIX_LEN (sizeof DEV_PREFIX - 1)

/* The kernel's names for one disk under each driver: PREFIX + letters, or
 * for NVMe "nvme" + number + "n1".  SEPARATOR goes between the disk's name
 * and a partition number: "p" where the name ends in a digit.
 */
struct naming {
  const char *prefix;
  bool letters;                 /* sda, or nvme0n1 */
  const char *separator;
};

static const struct naming namings[] = {
  { "sd", true, "" },  { "hd", true, "" },     { "vd", true, "" },
  { "xvd", true, "" }, { "nvme", false, "p" },
};

/* Longest conventional name: "/dev/nvme" + disk + "n1p" + partition. */
#define CONVENTIONAL_NAME_MAX 64

static bool
uuid_ok (const char *uuid)
{
  size_t len = strlen (uuid);

  if (len == 0 || len > DEVMAP_UUID_MAX)
    return false;
  return strspn (uuid, "0123456789abcdefABCDEF-") == len;
}

static bool
name_ok (const char *name)
{
  size_t len = strlen (name);
  const unsigned char *p;

  if (len <= DEV_PREFIX_LEN || len > DEVMAP_NAME_MAX
      || strncmp (name, DEV_PREFIX, DEV_PREFIX_LEN) != 0)
    return false;
  for (p = (const unsigned char *) name; *p; p++)
    if (*p <= ' ' || *p == 0x7f || *p == '"' || *p == '\'')
      return false;
  return true;
}

/* Compare NAME of LEN bytes with ENTRY's name, as memcmp orders them. */
static int
compare (const char *name, size_t len, const struct devmap_entry *entry)
{
  size_t elen = strlen (entry->name);
  int r = memcmp (name, entry->name, len < elen ? len : elen);

  if (r != 0)
    return r;
  return len < elen ? -1 : len > elen;
}

/* Binary search: the index of NAME in MAP, or where it would go; *FOUND
 * says which.
 */
static size_t
search (const struct devmap *map, const char *name, size_t len, bool *found)
{
  size_t lo = 0, hi = map->n;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int r = compare (name, len, &map->entries[mid]);

    if (r == 0) {
      *found = true;
      return mid;
    }
    if (r < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  *found = false;
  return lo;
}

const char *
devmap_lookup (const struct devmap *map, const char *name, size_t len)
{
  bool found;
  size_t i;

  if (map->n == 0)
    return NULL;
  i = search (map, name, len, &found);
  return found ? map->entries[i].uuid : NULL;
}

/* Insert NAME -> UUID at index I.  Both are already checked. */
static int
insert (struct devmap *map, size_t i, const char *name, const char *uuid)
{
  struct devmap_entry e = { NULL, NULL };
  int ret = -1;

  if (map->n >= DEVMAP_MAX_ENTRIES) {
    ret = error ("device map: more than %d names", DEVMAP_MAX_ENTRIES);
    goto out;
  }
  if (map->n == map->alloc) {
    size_t alloc = map->alloc ? map->alloc * 2 : 16;
    struct devmap_entry *entries;

    entries = realloc (map->entries, alloc * sizeof *entries);
    if (entries == NULL) {
      ret = error_errno (errno, "device map");
      goto out;
    }
    map->entries = entries;
    map->alloc = alloc;
  }
  e.name = strdup (name);
  e.uuid = strdup (uuid);
  if (e.name == NULL || e.uuid == NULL) {
    ret = error_errno (errno, "device map");
    goto out;
  }
  memmove (&map->entries[i + 1], &map->entries[i],
           (map->n - i) * sizeof map->entries[0]);
  map->entries[i] = e;
  map->n++;
  e.name = e.uuid = NULL;
  ret = 0;
out:
  free (e.name);
  free (e.uuid);
  return ret;
}

int
devmap_add (struct devmap *map, const char *name, const char *uuid)
{
  bool found;
  size_t i;

  if (!name_ok (name))
    return error ("device map: '%.*s': not a device name", 200, name);
  if (!uuid_ok (uuid))
    return error ("device map: %s: '%.*s': not a UUID", name, 200, uuid);
  i = search (map, name, strlen (name), &found);
  if (found) {
    if (strcmp (map->entries[i].uuid, uuid) == 0)
      return 0;
    return error ("device map: %s: UUID %s, and also %s", name,
                  map->entries[i].uuid, uuid);
  }
  return insert (map, i, name, uuid);
}

/* The sd driver's letters for disk INDEX: a..z, aa..zz, aaa... (the
 * kernel's sd_format_disk_name).  BUF has room for them.
 */
static void
disk_letters (unsigned index, char *buf, size_t size)
{
  char tmp[16];
  char *p = tmp + sizeof tmp;
  long i = index;

  *--p = '\0';
  do {
    *--p = 'a' + i % 26;
    i = i / 26 - 1;
  } while (i >= 0);
  snprintf (buf, size, "%s", p);
}

int
devmap_add_partition (struct devmap *map, unsigned disk, unsigned partition,
                      const char *uuid)
{
  char name[CONVENTIONAL_NAME_MAX], letters[16];
  size_t i;

  if (disk >= DEVMAP_MAX_DISKS)
    return error ("device map: disk %u: more than %d disks", disk,
                  DEVMAP_MAX_DISKS);
  if (partition > DEVMAP_MAX_PARTITION)
    return error ("device map: partition %u: at most %d", partition,
                  DEVMAP_MAX_PARTITION);
  if (!uuid_ok (uuid))
    return error ("device map: disk %u partition %u: '%.*s': not a UUID", disk,
                  partition, 200, uuid);
  disk_letters (disk, letters, sizeof letters);

  for (i = 0; i < sizeof namings / sizeof namings[0]; i++) {
    const struct naming *n = &namings[i];
    int len;
    size_t at;
    bool found;

    if (n->letters)
      len = snprintf (name, sizeof name, DEV_PREFIX "%s%s", n->prefix, letters);
    else
      len = snprintf (name, sizeof name, DEV_PREFIX "%s%un1", n->prefix, disk);
    if (partition > 0)
      len += snprintf (name + len, sizeof name - len, "%s%u", n->separator,
                       partition);
    /* A name already there stays as it is: see devmap.h. */
    at = search (map, name, len, &found);
    if (!found && insert (map, at, name, uuid) == -1)
      return -1;
  }
  return 0;
}

/* Does S of LEN bytes start with the NUL-terminated PREFIX? */
static bool
starts_with (const char *s, size_t len, const char *prefix)
{
  size_t plen = strlen (prefix);

  return len >= plen && memcmp (s, prefix, plen) == 0;
}

/* How many bytes of S (LEN bytes) from the start are in [LO, HI]. */
static size_t
span (const char *s, size_t len, char lo, char hi)
{
  size_t i = 0;

  while (i < len && s[i] >= lo && s[i] <= hi)
    i++;
  return i;
}

bool
devmap_name_is_unstable (const char *name, size_t len)
{
  static const char *const letter_drivers[] = { "sd", "hd", "vd", "xvd" };
  static const char *const links[] = { "disk/by-id/", "disk/by-path/" };
  const char *s;
  size_t i, n;

  if (!starts_with (name, len, DEV_PREFIX))
    return false;
  s = name + DEV_PREFIX_LEN;
  len -= DEV_PREFIX_LEN;

  for (i = 0; i < sizeof links / sizeof links[0]; i++)
    if (starts_with (s, len, links[i]) && len > strlen (links[i]))
      return true;

  /* sdX, sdXN, sdXYN... */
  for (i = 0; i < sizeof letter_drivers / sizeof letter_drivers[0]; i++) {
    size_t plen = strlen (letter_drivers[i]);

    if (!starts_with (s, len, letter_drivers[i]))
      continue;
    n = span (s + plen, len - plen, 'a', 'z');
    if (n == 0)
      continue;
    n += plen;
    n += span (s + n, len - n, '0', '9');
    if (n == len)
      return true;
  }

  /* nvmeCnN, nvmeCnNpP. */
  if (!starts_with (s, len, "nvme"))
    return false;
  n = 4;
  i = span (s + n, len - n, '0', '9');
  if (i == 0 || n + i >= len || s[n + i] != 'n')
    return false;
  n += i + 1;
  i = span (s + n, len - n, '0', '9');
  if (i == 0)
    return false;
  n += i;
  if (n == len)
    return true;
  if (s[n] != 'p')
    return false;
  n++;
  i = span (s + n, len - n, '0', '9');
  return i > 0 && n + i == len;
}

void
devmap_free (struct devmap *map)
{
  size_t i;

  for (i = 0; i < map->n; i++) {
    free (map->entries[i].name);
    free (map->entries[i].uuid);
  }
  free (map->entries);
  memset (map, 0, sizeof *map);
}
