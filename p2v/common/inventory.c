/* p2vkit: the inventory in memory: names, strings, limits, freeing (see
 * inventory.h).
 */
#include "inventory.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "inventory-internal.h"

#define COUNT(a) (sizeof (a) / sizeof ((a)[0]))

const char *const inventory_firmware_names[] = { "bios", "uefi" };
const char *const inventory_disk_source_names[] = { "device", "file" };
const char *const inventory_partition_kind_names[]
  = { "primary", "logical", "extended" };
const char *const inventory_link_state_names[] = {
  "unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up",
};
const char *const inventory_address_family_names[] = { "ipv4", "ipv6" };
const size_t inventory_firmware_count = COUNT (inventory_firmware_names);
const size_t inventory_disk_source_count = COUNT (inventory_disk_source_names);
const size_t inventory_partition_kind_count
  = COUNT (inventory_partition_kind_names);
const size_t inventory_link_state_count = COUNT (inventory_link_state_names);
const size_t inventory_address_family_count
  = COUNT (inventory_address_family_names);

/* Tokens (table types, flag names, filesystem types) are short. */
#define TOKEN_MAX 64
/* MAC addresses: Ethernet has 6 octets, InfiniBand 20. */
#define MAC_MAX_OCTETS 32
#define IPV4_MAX_PREFIX 32
#define IPV6_MAX_PREFIX 128
/* Where a fact is, for messages: "disk 3: partition 12: filesystem". */
#define WHAT_MAX 64

/* Say where a fact is, into WHAT (WHAT_MAX bytes); a long one is cut. */
static void __attribute__ ((format (printf, 2, 3)))
where (char *what, const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vsnprintf (what, WHAT_MAX, fmt, ap);
  va_end (ap);
}

static const char *
name_of (const char *const *names, size_t n, unsigned i)
{
  return i < n ? names[i] : "?";
}

const char *
inventory_firmware_name (enum inventory_firmware f)
{
  return name_of (inventory_firmware_names, inventory_firmware_count, f);
}

const char *
inventory_disk_source_name (enum inventory_disk_source s)
{
  return name_of (inventory_disk_source_names, inventory_disk_source_count, s);
}

const char *
inventory_partition_kind_name (enum inventory_partition_kind k)
{
  return name_of (inventory_partition_kind_names,
                  inventory_partition_kind_count, k);
}

const char *
inventory_link_state_name (enum inventory_link_state s)
{
  return name_of (inventory_link_state_names, inventory_link_state_count, s);
}

const char *
inventory_address_family_name (enum inventory_address_family f)
{
  return name_of (inventory_address_family_names,
                  inventory_address_family_count, f);
}

int
inventory_name_index (const char *const *names, size_t n, const char *s)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strcmp (names[i], s) == 0)
      return (int) i;
  return -1;
}

/* The length of the UTF-8 sequence at S (at most LEN bytes) if it is a
 * character XML allows other than a control character, else 0.
 */
static size_t
utf8_char (const unsigned char *s, size_t len)
{
  uint32_t c;
  size_t n, i;

  if (s[0] < 0x80)
    return s[0] >= 0x20 && s[0] != 0x7f ? 1 : 0;
  if (s[0] >= 0xc2 && s[0] <= 0xdf)
    n = 2, c = s[0] & 0x1f;
  else if (s[0] >= 0xe0 && s[0] <= 0xef)
    n = 3, c = s[0] & 0x0f;
  else if (s[0] >= 0xf0 && s[0] <= 0xf4)
    n = 4, c = s[0] & 0x07;
  else
    return 0;
  if (n > len)
    return 0;
  for (i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    c = c << 6 | (s[i] & 0x3f);
  }
  /* Overlong forms, surrogates, and what XML 1.0 excludes. */
  if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff
      || (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
    return 0;
  return n;
}

const char *
inventory_quote (const char *s, char buf[INVENTORY_QUOTE_MAX + 1])
{
  size_t i;

  for (i = 0; i < INVENTORY_QUOTE_MAX && s[i]; i++)
    buf[i] = (unsigned char) s[i] < ' ' || s[i] == 0x7f ? '?' : s[i];
  buf[i] = '\0';
  return buf;
}

int
inventory_clean_string (const char *s, size_t len, char **out)
{
  const unsigned char *p = (const unsigned char *) s;
  char *r, *q;
  size_t n, i;

  while (len > 0 && (p[0] == ' ' || (p[0] >= '\t' && p[0] <= '\r')))
    p++, len--;
  while (len > 0
         && (p[len - 1] == ' ' || (p[len - 1] >= '\t' && p[len - 1] <= '\r')))
    len--;
  *out = NULL;
  if (len == 0)
    return 0;

  /* At worst every byte becomes four. */
  r = q = malloc (len * 4 + 1);
  if (r == NULL)
    return error ("out of memory");
  for (i = 0; i < len; i += n) {
    n = utf8_char (p + i, len - i);
    if (n > 0)
      memcpy (q, p + i, n), q += n;
    else {
      q += sprintf (q, "\\x%02x", p[i]);
      n = 1;
    }
  }
  *q = '\0';
  *out = r;
  return 0;
}

/* Check the string S (WHAT names it in the message): valid UTF-8, no
 * control characters, 1 to INVENTORY_MAX_STRING characters.  NULL is
 * accepted when OPTIONAL.
 */
static int
check_string (const char *s, bool optional, const char *what)
{
  const unsigned char *p = (const unsigned char *) s;
  size_t len, i, n, chars = 0;

  if (s == NULL)
    return optional ? 0 : error ("%s: missing", what);
  len = strlen (s);
  if (len == 0)
    return error ("%s: empty", what);
  for (i = 0; i < len; i += n, chars++) {
    n = utf8_char (p + i, len - i);
    if (n == 0)
      return error ("%s: not UTF-8 or has control characters", what);
  }
  if (chars > INVENTORY_MAX_STRING)
    return error ("%s: longer than %d characters", what, INVENTORY_MAX_STRING);
  return 0;
}

/* A token: 1 to TOKEN_MAX characters from [A-Za-z0-9_.+-]; FLAG_LIKE
 * allows only lower case letters, digits, '_' and '-'.
 */
static int
check_token (const char *s, bool flag_like, const char *what)
{
  const char *allowed = flag_like ? "abcdefghijklmnopqrstuvwxyz0123456789_-"
                                  : "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "abcdefghijklmnopqrstuvwxyz0123456789_.+-";
  char q[INVENTORY_QUOTE_MAX + 1];
  size_t len;

  if (s == NULL)
    return error ("%s: missing", what);
  len = strlen (s);
  if (len == 0 || len > TOKEN_MAX || strspn (s, allowed) != len)
    return error ("%s: '%s' is not a valid name", what, inventory_quote (s, q));
  return 0;
}

static int
check_mac (const char *s, const char *what)
{
  char q[INVENTORY_QUOTE_MAX + 1];
  size_t len = strlen (s), i;

  for (i = 0; i < len; i++)
    if (i % 3 == 2 ? s[i] != ':' : !strchr ("0123456789abcdef", s[i]))
      break;
  if (i < len || len < 2 || len > MAC_MAX_OCTETS * 3 - 1 || len % 3 != 2)
    return error ("%s: '%s' is not a MAC address", what,
                  inventory_quote (s, q));
  return 0;
}

/* A PCI address as sysfs writes it: DOMAIN:BUS:DEVICE.FUNCTION, e.g.
 * 0000:00:1f.6.
 */
static int
check_pci_address (const char *s, const char *what)
{
  const char *hex = "0123456789abcdef";
  size_t domain = strspn (s, hex);
  char q[INVENTORY_QUOTE_MAX + 1];

  if (domain < 4 || domain > 8 || s[domain] != ':'
      || strspn (s + domain + 1, hex) != 2 || s[domain + 3] != ':'
      || strspn (s + domain + 4, hex) != 2 || s[domain + 6] != '.'
      || s[domain + 7] < '0' || s[domain + 7] > '7' || s[domain + 8] != '\0')
    return error ("%s: '%s' is not a PCI address", what,
                  inventory_quote (s, q));
  return 0;
}

static int
check_address (const struct inventory_address *a, const char *what)
{
  int af = a->family == INVENTORY_IPV4 ? AF_INET : AF_INET6;
  unsigned char bin[sizeof (struct in6_addr)];
  char canonical[INET6_ADDRSTRLEN];

  if ((unsigned) a->family >= inventory_address_family_count)
    return error ("%s: unknown address family", what);
  if (memchr (a->address, '\0', sizeof a->address) == NULL
      || inet_pton (af, a->address, bin) != 1
      || inet_ntop (af, bin, canonical, sizeof canonical) == NULL
      || strcmp (canonical, a->address) != 0)
    return error ("%s: not a numeric %s address in canonical form", what,
                  inventory_address_family_name (a->family));
  if (a->prefix > (af == AF_INET ? IPV4_MAX_PREFIX : IPV6_MAX_PREFIX))
    return error ("%s: prefix length %u out of range", what, a->prefix);
  return 0;
}

static int
check_filesystem (const struct inventory_filesystem *fs, const char *place)
{
  char what[WHAT_MAX];

  where (what, "%s: filesystem", place);
  if (check_token (fs->type, false, what) == -1
      || check_string (fs->uuid, true, what) == -1
      || check_string (fs->label, true, what) == -1
      || check_string (fs->vg, true, what) == -1)
    return -1;
  if (fs->vg && strcmp (fs->type, "LVM2_member") != 0)
    return error ("%s: a volume group on a %s filesystem", what, fs->type);
  return 0;
}

static bool
power_of_two_in (unsigned n, unsigned min, unsigned max)
{
  return n >= min && n <= max && (n & (n - 1)) == 0;
}

static int
check_partition (const struct inventory_disk *d,
                 const struct inventory_partition *p, const char *what)
{
  size_t i;

  if (p->number < 1 || p->number > INVENTORY_MAX_PARTITION_NUMBER)
    return error ("%s: number %u out of range (1 to %d)", what, p->number,
                  INVENTORY_MAX_PARTITION_NUMBER);
  if ((unsigned) p->kind >= inventory_partition_kind_count)
    return error ("%s: unknown kind", what);
  if (p->start > d->size || p->size > d->size - p->start)
    return error ("%s: start %" PRIu64 " and size %" PRIu64
                  " go past the end of the disk (%" PRIu64 " bytes)",
                  what, p->start, p->size, d->size);
  if (check_string (p->name, true, what) == -1
      || check_string (p->type, true, what) == -1
      || check_string (p->uuid, true, what) == -1)
    return -1;
  if (p->n_flags > INVENTORY_MAX_FLAGS)
    return error ("%s: too many flags (%zu, at most %d)", what, p->n_flags,
                  INVENTORY_MAX_FLAGS);
  for (i = 0; i < p->n_flags; i++)
    if (check_token (p->flags[i], true, what) == -1)
      return -1;
  if (p->filesystem)
    return check_filesystem (p->filesystem, what);
  return 0;
}

static int
check_disk (const struct inventory_disk *d, const char *what)
{
  char pwhat[WHAT_MAX];
  size_t i, j;

  if (check_string (d->path, false, what) == -1)
    return -1;
  if ((unsigned) d->source >= inventory_disk_source_count)
    return error ("%s: unknown source", what);
  if (d->size > INVENTORY_MAX_BYTES)
    return error ("%s: size %" PRIu64 " out of range", what, d->size);
  if (!power_of_two_in (d->logical_sector_size, INVENTORY_MIN_SECTOR_SIZE,
                        INVENTORY_MAX_SECTOR_SIZE)
      || !power_of_two_in (d->physical_sector_size, INVENTORY_MIN_SECTOR_SIZE,
                           INVENTORY_MAX_SECTOR_SIZE))
    return error ("%s: sector size %u/%u: not a power of two from %d to %d",
                  what, d->logical_sector_size, d->physical_sector_size,
                  INVENTORY_MIN_SECTOR_SIZE, INVENTORY_MAX_SECTOR_SIZE);
  if (check_string (d->model, true, what) == -1
      || check_string (d->serial, true, what) == -1)
    return -1;
  if (d->table_type == NULL) {
    if (d->n_partitions > 0 || d->table_uuid)
      return error ("%s: partitions without a partition table", what);
  }
  else {
    if (check_token (d->table_type, true, what) == -1
        || check_string (d->table_uuid, true, what) == -1)
      return -1;
    if (d->filesystem)
      return error ("%s: a partition table and a filesystem", what);
  }
  if (d->n_partitions > INVENTORY_MAX_PARTITIONS)
    return error ("%s: too many partitions (%zu, at most %d)", what,
                  d->n_partitions, INVENTORY_MAX_PARTITIONS);
  for (i = 0; i < d->n_partitions; i++) {
    where (pwhat, "%s: partition %zu", what, i + 1);
    if (check_partition (d, &d->partitions[i], pwhat) == -1)
      return -1;
    for (j = 0; j < i; j++)
      if (d->partitions[j].number == d->partitions[i].number)
        return error ("%s: partition number %u appears twice", what,
                      d->partitions[i].number);
  }
  if (d->filesystem)
    return check_filesystem (d->filesystem, what);
  return 0;
}

static int
check_nic (const struct inventory_nic *nic, const char *what)
{
  char awhat[WHAT_MAX];
  size_t i;

  if (check_string (nic->name, false, what) == -1)
    return -1;
  if (nic->mac && check_mac (nic->mac, what) == -1)
    return -1;
  if (check_string (nic->driver, true, what) == -1
      || check_string (nic->bus, true, what) == -1)
    return -1;
  if (nic->pci_address && check_pci_address (nic->pci_address, what) == -1)
    return -1;
  if ((unsigned) nic->state >= inventory_link_state_count)
    return error ("%s: unknown link state", what);
  if (nic->carrier < -1 || nic->carrier > 1)
    return error ("%s: carrier %d out of range", what, nic->carrier);
  if (nic->speed < -1 || nic->speed > INVENTORY_MAX_SPEED)
    return error ("%s: speed %" PRId64 " out of range", what, nic->speed);
  if (nic->mtu > INVENTORY_MAX_MTU)
    return error ("%s: MTU %u out of range", what, nic->mtu);
  if (nic->n_addresses > INVENTORY_MAX_ADDRESSES)
    return error ("%s: too many addresses (%zu, at most %d)", what,
                  nic->n_addresses, INVENTORY_MAX_ADDRESSES);
  for (i = 0; i < nic->n_addresses; i++) {
    where (awhat, "%s: address %zu", what, i + 1);
    if (check_address (&nic->addresses[i], awhat) == -1)
      return -1;
  }
  return 0;
}

int
inventory_check (const struct inventory *inv)
{
  const struct inventory_cpu *cpu = &inv->cpu;
  char what[WHAT_MAX];
  size_t i, j;

  if (check_string (inv->hostname, true, "hostname") == -1)
    return -1;
  if ((unsigned) inv->firmware >= inventory_firmware_count)
    return error ("unknown firmware");
  if (cpu->count < 1 || cpu->count > INVENTORY_MAX_CPUS || cpu->sockets < 1
      || cpu->sockets > INVENTORY_MAX_CPUS || cpu->cores < 1
      || cpu->cores > INVENTORY_MAX_CPUS || cpu->threads < 1
      || cpu->threads > INVENTORY_MAX_CPUS)
    return error ("cpu: count, sockets, cores or threads out of range (1 to "
                  "%d)",
                  INVENTORY_MAX_CPUS);
  if (check_string (cpu->model, true, "cpu model") == -1)
    return -1;
  if (inv->memory < 1 || inv->memory > INVENTORY_MAX_BYTES)
    return error ("memory: %" PRIu64 " bytes out of range", inv->memory);

  if (inv->n_disks > INVENTORY_MAX_DISKS)
    return error ("too many disks (%zu, at most %d)", inv->n_disks,
                  INVENTORY_MAX_DISKS);
  for (i = 0; i < inv->n_disks; i++) {
    where (what, "disk %zu", i + 1);
    if (check_disk (&inv->disks[i], what) == -1)
      return -1;
    for (j = 0; j < i; j++)
      if (strcmp (inv->disks[j].path, inv->disks[i].path) == 0)
        return error ("%s: '%s' appears twice", what, inv->disks[i].path);
  }

  if (inv->n_nics > INVENTORY_MAX_NICS)
    return error ("too many NICs (%zu, at most %d)", inv->n_nics,
                  INVENTORY_MAX_NICS);
  for (i = 0; i < inv->n_nics; i++) {
    where (what, "NIC %zu", i + 1);
    if (check_nic (&inv->nics[i], what) == -1)
      return -1;
    for (j = 0; j < i; j++)
      if (strcmp (inv->nics[j].name, inv->nics[i].name) == 0)
        return error ("%s: '%s' appears twice", what, inv->nics[i].name);
  }
  return 0;
}

static void
free_filesystem (struct inventory_filesystem *fs)
{
  if (fs == NULL)
    return;
  free (fs->type);
  free (fs->uuid);
  free (fs->label);
  free (fs->vg);
  free (fs);
}

static void
free_disk (struct inventory_disk *d)
{
  struct inventory_partition *p;
  size_t i, j;

  free (d->path);
  free (d->model);
  free (d->serial);
  free (d->table_type);
  free (d->table_uuid);
  for (i = 0; i < d->n_partitions; i++) {
    p = &d->partitions[i];
    free (p->name);
    free (p->type);
    free (p->uuid);
    for (j = 0; j < p->n_flags; j++)
      free (p->flags[j]);
    free (p->flags);
    free_filesystem (p->filesystem);
  }
  free (d->partitions);
  free_filesystem (d->filesystem);
}

void
inventory_free (struct inventory *inv)
{
  struct inventory_nic *nic;
  size_t i;

  free (inv->hostname);
  free (inv->cpu.model);
  for (i = 0; i < inv->n_disks; i++)
    free_disk (&inv->disks[i]);
  free (inv->disks);
  for (i = 0; i < inv->n_nics; i++) {
    nic = &inv->nics[i];
    free (nic->name);
    free (nic->mac);
    free (nic->driver);
    free (nic->bus);
    free (nic->pci_address);
    free (nic->addresses);
  }
  free (inv->nics);
  memset (inv, 0, sizeof *inv);
}
