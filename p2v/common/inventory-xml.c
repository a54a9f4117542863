/* p2vkit: the inventory as XML, written and read with libxml2 (see
 * inventory.h and templates/inventory.md).
 *
 * Reading is written for hostile input: the size is bounded before
 * parsing; a document with a DTD is refused as soon as the parser meets
 * it, so no entity is ever declared, expanded or fetched; the network is
 * off; the document must match the schema; and every count and number is
 * checked again here while the struct is filled in (inventory_check()).
 */
#include "inventory.h"

#include <errno.h>
#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "file.h"
#include "inventory-internal.h"
#include "xml-read.h"

/* Room for a number as text. */
#define NUMBER_MAX sizeof "18446744073709551615"

/* The name of the document in messages. */
#define DOCUMENT_URL "inventory"

/* ------------------------------------------------------------------ */
/* Writing. */

/* An XML writer that remembers its first failure, so that the code
 * below can say what to write without checking every call.
 */
struct writer {
  xmlTextWriterPtr w;
  bool failed;
};

static void
start (struct writer *wr, const char *name)
{
  if (!wr->failed && xmlTextWriterStartElement (wr->w, BAD_CAST name) < 0)
    wr->failed = true;
}

static void
end (struct writer *wr)
{
  if (!wr->failed && xmlTextWriterEndElement (wr->w) < 0)
    wr->failed = true;
}

/* Write the attribute NAME, unless VALUE is NULL. */
static void
attr (struct writer *wr, const char *name, const char *value)
{
  if (!wr->failed && value
      && xmlTextWriterWriteAttribute (wr->w, BAD_CAST name, BAD_CAST value) < 0)
    wr->failed = true;
}

static void
attr_number (struct writer *wr, const char *name, uint64_t value)
{
  char buf[NUMBER_MAX];

  snprintf (buf, sizeof buf, "%" PRIu64, value);
  attr (wr, name, buf);
}

static void
write_filesystem (struct writer *wr, const struct inventory_filesystem *fs)
{
  if (fs == NULL)
    return;
  start (wr, "filesystem");
  attr (wr, "type", fs->type);
  attr (wr, "uuid", fs->uuid);
  attr (wr, "label", fs->label);
  attr (wr, "vg", fs->vg);
  end (wr);
}

static void
write_partition (struct writer *wr, const struct inventory_partition *p)
{
  size_t i;

  start (wr, "partition");
  attr_number (wr, "number", p->number);
  attr (wr, "kind", inventory_partition_kind_name (p->kind));
  attr_number (wr, "start", p->start);
  attr_number (wr, "size", p->size);
  attr (wr, "name", p->name);
  attr (wr, "type", p->type);
  attr (wr, "uuid", p->uuid);
  for (i = 0; i < p->n_flags; i++) {
    start (wr, "flag");
    attr (wr, "name", p->flags[i]);
    end (wr);
  }
  write_filesystem (wr, p->filesystem);
  end (wr);
}

static void
write_disk (struct writer *wr, const struct inventory_disk *d)
{
  size_t i;

  start (wr, "disk");
  attr (wr, "path", d->path);
  attr (wr, "source", inventory_disk_source_name (d->source));
  attr_number (wr, "size", d->size);
  attr_number (wr, "logical-sector-size", d->logical_sector_size);
  attr_number (wr, "physical-sector-size", d->physical_sector_size);
  attr (wr, "model", d->model);
  attr (wr, "serial", d->serial);
  if (d->table_type) {
    start (wr, "table");
    attr (wr, "type", d->table_type);
    attr (wr, "uuid", d->table_uuid);
    for (i = 0; i < d->n_partitions; i++)
      write_partition (wr, &d->partitions[i]);
    end (wr);
  }
  write_filesystem (wr, d->filesystem);
  end (wr);
}

static void
write_nic (struct writer *wr, const struct inventory_nic *nic)
{
  const struct inventory_address *a;
  size_t i;

  start (wr, "nic");
  attr (wr, "name", nic->name);
  attr (wr, "mac", nic->mac);
  attr (wr, "driver", nic->driver);
  attr (wr, "bus", nic->bus);
  attr (wr, "pci-address", nic->pci_address);
  attr (wr, "state", inventory_link_state_name (nic->state));
  if (nic->carrier >= 0)
    attr_number (wr, "carrier", nic->carrier);
  if (nic->speed >= 0)
    attr_number (wr, "speed", nic->speed);
  if (nic->mtu > 0)
    attr_number (wr, "mtu", nic->mtu);
  for (i = 0; i < nic->n_addresses; i++) {
    a = &nic->addresses[i];
    start (wr, "address");
    attr (wr, "family", inventory_address_family_name (a->family));
    attr (wr, "address", a->address);
    attr_number (wr, "prefix", a->prefix);
    end (wr);
  }
  end (wr);
}

static void
write_inventory (struct writer *wr, const struct inventory *inv)
{
  size_t i;

  if (xmlTextWriterSetIndent (wr->w, 1) < 0
      || xmlTextWriterSetIndentString (wr->w, BAD_CAST "  ") < 0
      || xmlTextWriterStartDocument (wr->w, NULL, "UTF-8", NULL) < 0)
    wr->failed = true;
  start (wr, "inventory");
  attr_number (wr, "version", INVENTORY_VERSION);

  start (wr, "machine");
  attr (wr, "hostname", inv->hostname);
  attr (wr, "firmware", inventory_firmware_name (inv->firmware));
  start (wr, "cpu");
  attr_number (wr, "count", inv->cpu.count);
  attr_number (wr, "sockets", inv->cpu.sockets);
  attr_number (wr, "cores", inv->cpu.cores);
  attr_number (wr, "threads", inv->cpu.threads);
  attr (wr, "model", inv->cpu.model);
  end (wr);
  start (wr, "memory");
  attr_number (wr, "bytes", inv->memory);
  end (wr);
  end (wr);

  start (wr, "disks");
  for (i = 0; i < inv->n_disks; i++)
    write_disk (wr, &inv->disks[i]);
  end (wr);
  start (wr, "nics");
  for (i = 0; i < inv->n_nics; i++)
    write_nic (wr, &inv->nics[i]);
  end (wr);

  end (wr);
  if (!wr->failed && xmlTextWriterEndDocument (wr->w) < 0)
    wr->failed = true;
}

char *
inventory_to_xml (const struct inventory *inv, size_t *len)
{
  struct writer wr = { .w = NULL, .failed = false };
  xmlBufferPtr buf = NULL;
  char *ret = NULL;

  if (inventory_check (inv) == -1) {
    error_prefix ("inventory");
    return NULL;
  }
  buf = xmlBufferCreate ();
  if (buf == NULL) {
    error ("out of memory");
    goto out;
  }
  wr.w = xmlNewTextWriterMemory (buf, 0);
  if (wr.w == NULL) {
    error ("out of memory");
    goto out;
  }
  write_inventory (&wr, inv);
  /* The writer holds what it has not passed to the buffer yet. */
  xmlFreeTextWriter (wr.w);
  wr.w = NULL;
  if (wr.failed) {
    error ("inventory: writing the XML failed");
    goto out;
  }
  ret = strndup ((const char *) xmlBufferContent (buf), xmlBufferLength (buf));
  if (ret == NULL) {
    error ("out of memory");
    goto out;
  }
  if (len)
    *len = xmlBufferLength (buf);

out:
  if (wr.w)
    xmlFreeTextWriter (wr.w);
  if (buf)
    xmlBufferFree (buf);
  return ret;
}

static int
write_all (int fd, const char *buf, size_t len, const char *name)
{
  ssize_t r;

  while (len > 0) {
    r = write (fd, buf, len);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return error_errno (errno, "%s: write", name);
    }
    buf += r;
    len -= r;
  }
  return 0;
}

int
inventory_write_xml (const struct inventory *inv, const char *path, bool force)
{
  struct sink_options opts = { .force = force, .sync = false };
  char *xml, *tmp = NULL, *final = NULL;
  size_t len;
  int fd = -1, ret = -1;

  xml = inventory_to_xml (inv, &len);
  if (xml == NULL)
    return -1;
  if (strcmp (path, "-") == 0) {
    ret = write_all (STDOUT_FILENO, xml, len, "stdout");
    goto out;
  }
  fd = file_create_temp (path, force, &final, &tmp);
  if (fd == -1)
    goto out;
  if (write_all (fd, xml, len, tmp) == -1)
    goto out;
  ret = file_commit (fd, tmp, final, &opts);
  fd = -1;

out:
  if (fd >= 0) {
    close (fd);
    unlink (tmp);
  }
  free (tmp);
  free (final);
  free (xml);
  return ret;
}

/* ------------------------------------------------------------------ */
/* Reading. */

static struct xml_schema schema = XML_SCHEMA_INIT (inventory_schema);

/* A copy of the attribute NAME of NODE into *OUT (caller frees), NULL if
 * it is absent and may be.
 */
static int
get_string (xmlNodePtr node, const char *name, bool required, char **out)
{
  xmlChar *value = xmlGetNoNsProp (node, BAD_CAST name);

  *out = NULL;
  if (value == NULL)
    return required ? error ("inventory: <%s>: no %s attribute",
                             (const char *) node->name, name)
                    : 0;
  *out = strdup ((const char *) value);
  xmlFree (value);
  if (*out == NULL)
    return error ("out of memory");
  return 0;
}

/* The attribute NAME of NODE as a decimal number from 0 to MAX, without
 * sign, spaces or leading zeros.  *PRESENT (if not NULL) says whether it
 * is there; without PRESENT it is required.
 */
static int
get_number (xmlNodePtr node, const char *name, uint64_t max, uint64_t *v,
            bool *present)
{
  char *s, q[INVENTORY_QUOTE_MAX + 1];
  const char *p;
  uint64_t n = 0;
  int ret = -1;

  if (get_string (node, name, present == NULL, &s) == -1)
    return -1;
  if (present)
    *present = s != NULL;
  if (s == NULL)
    return 0;
  if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0')
      || strspn (s, "0123456789") != strlen (s))
    goto bad;
  for (p = s; *p; p++) {
    if (n > (UINT64_MAX - (uint64_t) (*p - '0')) / 10)
      goto bad;
    n = n * 10 + (uint64_t) (*p - '0');
  }
  if (n > max)
    goto bad;
  *v = n;
  ret = 0;
  goto out;

bad:
  error ("inventory: <%s %s='%s'>: not a number from 0 to %" PRIu64,
         (const char *) node->name, name, inventory_quote (s, q), max);
out:
  free (s);
  return ret;
}

static int
get_unsigned (xmlNodePtr node, const char *name, unsigned max, unsigned *v)
{
  uint64_t n;

  if (get_number (node, name, max, &n, NULL) == -1)
    return -1;
  *v = (unsigned) n;
  return 0;
}

/* The attribute NAME of NODE, one of the N NAMES. */
static int
get_enum (xmlNodePtr node, const char *name, const char *const *names, size_t n,
          int *v)
{
  char *s, q[INVENTORY_QUOTE_MAX + 1];

  if (get_string (node, name, true, &s) == -1)
    return -1;
  *v = inventory_name_index (names, n, s);
  if (*v < 0)
    error ("inventory: <%s %s='%s'>: unknown value", (const char *) node->name,
           name, inventory_quote (s, q));
  free (s);
  return *v < 0 ? -1 : 0;
}

/* Count the children of NODE called NAME, and allocate an array of that
 * many elements of SIZE bytes in *ARRAY, if there are no more than MAX.
 */
static int
alloc_children (xmlNodePtr node, const char *name, size_t max, size_t size,
                void **array, size_t *count)
{
  xmlNodePtr c;
  size_t n = 0;

  *array = NULL;
  for (c = node->children; c; c = c->next)
    if (xml_is_element (c, name) && ++n > max)
      return error ("inventory: more than %zu <%s> in <%s>", max, name,
                    (const char *) node->name);
  *count = n;
  if (n == 0)
    return 0;
  *array = calloc (n, size);
  if (*array == NULL)
    return error ("out of memory");
  return 0;
}

static int
read_filesystem (xmlNodePtr node, struct inventory_filesystem **out)
{
  struct inventory_filesystem *fs;

  *out = NULL;
  if (node == NULL)
    return 0;
  fs = calloc (1, sizeof *fs);
  if (fs == NULL)
    return error ("out of memory");
  *out = fs;
  if (get_string (node, "type", true, &fs->type) == -1
      || get_string (node, "uuid", false, &fs->uuid) == -1
      || get_string (node, "label", false, &fs->label) == -1
      || get_string (node, "vg", false, &fs->vg) == -1)
    return -1;
  return 0;
}

static int
read_partition (xmlNodePtr node, struct inventory_partition *p)
{
  xmlNodePtr c;
  void *flags;
  int kind;

  if (get_unsigned (node, "number", INVENTORY_MAX_PARTITION_NUMBER, &p->number)
        == -1
      || get_enum (node, "kind", inventory_partition_kind_names,
                   inventory_partition_kind_count, &kind)
        == -1
      || get_number (node, "start", INVENTORY_MAX_BYTES, &p->start, NULL) == -1
      || get_number (node, "size", INVENTORY_MAX_BYTES, &p->size, NULL) == -1
      || get_string (node, "name", false, &p->name) == -1
      || get_string (node, "type", false, &p->type) == -1
      || get_string (node, "uuid", false, &p->uuid) == -1)
    return -1;
  p->kind = kind;
  if (alloc_children (node, "flag", INVENTORY_MAX_FLAGS, sizeof (char *),
                      &flags, &p->n_flags)
      == -1)
    return -1;
  p->flags = flags;
  p->n_flags = 0;
  for (c = node->children; c; c = c->next)
    if (xml_is_element (c, "flag")
        && get_string (c, "name", true, &p->flags[p->n_flags++]) == -1)
      return -1;
  return read_filesystem (xml_child (node, "filesystem"), &p->filesystem);
}

static int
read_disk (xmlNodePtr node, struct inventory_disk *d)
{
  xmlNodePtr table, c;
  void *parts;
  int source;

  if (get_string (node, "path", true, &d->path) == -1
      || get_enum (node, "source", inventory_disk_source_names,
                   inventory_disk_source_count, &source)
        == -1
      || get_number (node, "size", INVENTORY_MAX_BYTES, &d->size, NULL) == -1
      || get_unsigned (node, "logical-sector-size", INVENTORY_MAX_SECTOR_SIZE,
                       &d->logical_sector_size)
        == -1
      || get_unsigned (node, "physical-sector-size", INVENTORY_MAX_SECTOR_SIZE,
                       &d->physical_sector_size)
        == -1
      || get_string (node, "model", false, &d->model) == -1
      || get_string (node, "serial", false, &d->serial) == -1)
    return -1;
  d->source = source;

  table = xml_child (node, "table");
  if (table == NULL)
    return read_filesystem (xml_child (node, "filesystem"), &d->filesystem);
  if (get_string (table, "type", true, &d->table_type) == -1
      || get_string (table, "uuid", false, &d->table_uuid) == -1
      || alloc_children (table, "partition", INVENTORY_MAX_PARTITIONS,
                         sizeof *d->partitions, &parts, &d->n_partitions)
        == -1)
    return -1;
  d->partitions = parts;
  d->n_partitions = 0;
  for (c = table->children; c; c = c->next)
    if (xml_is_element (c, "partition")
        && read_partition (c, &d->partitions[d->n_partitions++]) == -1)
      return -1;
  return 0;
}

static int
read_address (xmlNodePtr node, struct inventory_address *a)
{
  char *s;
  int family;

  if (get_enum (node, "family", inventory_address_family_names,
                inventory_address_family_count, &family)
        == -1
      || get_unsigned (node, "prefix", UINT8_MAX, &a->prefix) == -1
      || get_string (node, "address", true, &s) == -1)
    return -1;
  a->family = family;
  if (strlen (s) >= sizeof a->address) {
    free (s);
    return error ("inventory: <address>: too long for an IP address");
  }
  strcpy (a->address, s);
  free (s);
  return 0;
}

static int
read_nic (xmlNodePtr node, struct inventory_nic *nic)
{
  xmlNodePtr c;
  void *addrs;
  uint64_t n;
  bool present;
  int state;

  if (get_string (node, "name", true, &nic->name) == -1
      || get_string (node, "mac", false, &nic->mac) == -1
      || get_string (node, "driver", false, &nic->driver) == -1
      || get_string (node, "bus", false, &nic->bus) == -1
      || get_string (node, "pci-address", false, &nic->pci_address) == -1
      || get_enum (node, "state", inventory_link_state_names,
                   inventory_link_state_count, &state)
        == -1)
    return -1;
  nic->state = state;
  if (get_number (node, "carrier", 1, &n, &present) == -1)
    return -1;
  nic->carrier = present ? (int) n : -1;
  if (get_number (node, "speed", INVENTORY_MAX_SPEED, &n, &present) == -1)
    return -1;
  nic->speed = present ? (int64_t) n : -1;
  if (get_number (node, "mtu", INVENTORY_MAX_MTU, &n, &present) == -1)
    return -1;
  nic->mtu = present ? (unsigned) n : 0;

  if (alloc_children (node, "address", INVENTORY_MAX_ADDRESSES,
                      sizeof *nic->addresses, &addrs, &nic->n_addresses)
      == -1)
    return -1;
  nic->addresses = addrs;
  nic->n_addresses = 0;
  for (c = node->children; c; c = c->next)
    if (xml_is_element (c, "address")
        && read_address (c, &nic->addresses[nic->n_addresses++]) == -1)
      return -1;
  return 0;
}

static int
read_inventory (xmlNodePtr root, struct inventory *inv)
{
  xmlNodePtr machine, cpu, memory, disks, nics, c;
  void *array;
  int firmware;

  machine = xml_child (root, "machine");
  cpu = machine ? xml_child (machine, "cpu") : NULL;
  memory = machine ? xml_child (machine, "memory") : NULL;
  disks = xml_child (root, "disks");
  nics = xml_child (root, "nics");
  if (cpu == NULL || memory == NULL || disks == NULL || nics == NULL)
    return error ("inventory: incomplete");

  if (get_string (machine, "hostname", false, &inv->hostname) == -1
      || get_enum (machine, "firmware", inventory_firmware_names,
                   inventory_firmware_count, &firmware)
        == -1
      || get_unsigned (cpu, "count", INVENTORY_MAX_CPUS, &inv->cpu.count) == -1
      || get_unsigned (cpu, "sockets", INVENTORY_MAX_CPUS, &inv->cpu.sockets)
        == -1
      || get_unsigned (cpu, "cores", INVENTORY_MAX_CPUS, &inv->cpu.cores) == -1
      || get_unsigned (cpu, "threads", INVENTORY_MAX_CPUS, &inv->cpu.threads)
        == -1
      || get_string (cpu, "model", false, &inv->cpu.model) == -1
      || get_number (memory, "bytes", INVENTORY_MAX_BYTES, &inv->memory, NULL)
        == -1)
    return -1;
  inv->firmware = firmware;

  if (alloc_children (disks, "disk", INVENTORY_MAX_DISKS, sizeof *inv->disks,
                      &array, &inv->n_disks)
      == -1)
    return -1;
  inv->disks = array;
  inv->n_disks = 0;
  for (c = disks->children; c; c = c->next)
    if (xml_is_element (c, "disk")
        && read_disk (c, &inv->disks[inv->n_disks++]) == -1)
      return -1;

  if (alloc_children (nics, "nic", INVENTORY_MAX_NICS, sizeof *inv->nics,
                      &array, &inv->n_nics)
      == -1)
    return -1;
  inv->nics = array;
  inv->n_nics = 0;
  for (c = nics->children; c; c = c->next)
    if (xml_is_element (c, "nic")
        && read_nic (c, &inv->nics[inv->n_nics++]) == -1)
      return -1;
  return 0;
}

int
inventory_parse_xml (const char *buf, size_t len, struct inventory *inv)
{
  char want[NUMBER_MAX], q[INVENTORY_QUOTE_MAX + 1];
  xmlDocPtr doc = NULL;
  xmlNodePtr root;
  xmlChar *version = NULL;
  int ret = -1;

  if (len > INVENTORY_XML_MAX)
    return error ("inventory: %zu bytes, more than the limit of %d", len,
                  INVENTORY_XML_MAX);
  if (len == 0)
    return error ("inventory: empty");
  doc = xml_read_untrusted (buf, len, DOCUMENT_URL, 0);
  if (doc == NULL)
    return -1;

  /* The version first, so that a newer inventory gets a clear message
   * rather than a schema error.
   */
  root = xmlDocGetRootElement (doc);
  if (root == NULL || !xml_is_element (root, "inventory") || root->ns) {
    error ("inventory: the root element is not <inventory>");
    goto out;
  }
  version = xmlGetNoNsProp (root, BAD_CAST "version");
  snprintf (want, sizeof want, "%d", INVENTORY_VERSION);
  if (version == NULL || strcmp ((const char *) version, want) != 0) {
    error ("inventory: version '%s' is not supported (only %s is)",
           version ? inventory_quote ((const char *) version, q) : "", want);
    goto out;
  }
  if (xml_validate (&schema, doc, DOCUMENT_URL) == -1
      || read_inventory (root, inv) == -1)
    goto out;
  if (inventory_check (inv) == -1) {
    error_prefix ("inventory");
    goto out;
  }
  ret = 0;

out:
  if (ret == -1)
    inventory_free (inv);
  xmlFree (version);
  xmlFreeDoc (doc);
  return ret;
}

int
inventory_read_file (const char *path, struct inventory *inv)
{
  char *buf;
  size_t len;
  int ret;

  if (xml_read_file (path, INVENTORY_XML_MAX, "--inventory", &buf, &len) == -1)
    return -1;
  ret = inventory_parse_xml (buf, len, inv);
  if (ret == -1)
    error_prefix ("--inventory: %s", path);
  free (buf);
  return ret;
}
