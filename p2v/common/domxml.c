/* p2vkit: the libvirt domain XML of a converted machine (see domxml.h and
 * templates/domain.md, which states every rule applied here).
 */
#include "domxml.h"

#include <errno.h>
#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "source.h"
#include "xml-read.h"

#define MIB 1048576ULL
#define KIB_PER_MIB 1024ULL

/* Machine types: i440fx for BIOS (the oldest guests know it best), Q35
 * for UEFI (OVMF's usual machine).  libvirt expands them to the newest
 * version QEMU has.
 */
#define MACHINE_BIOS "pc"
#define MACHINE_EFI "q35"

/* The CPU model given where --cpu-model is not: see templates/domain.md. */
#define CPU_MODEL_MAX 64

/* A libvirt network or bridge name: what we let through. */
#define NET_NAME_MAX 255

/* Ethernet MACs, as the inventory writes them: "52:54:00:12:34:56". */
#define MAC_LENGTH 17

/* What the GPT of a disk looks like (UEFI specification, chapter 5). */
#define GPT_SIGNATURE "EFI PART"
#define GPT_ENTRIES_LBA_OFFSET 72
#define GPT_N_ENTRIES_OFFSET 80
#define GPT_ENTRY_SIZE_OFFSET 84
#define GPT_MAX_ENTRIES 128
#define GPT_MIN_ENTRY_SIZE 128
#define GPT_MAX_ENTRY_SIZE 512
#define GPT_GUID_SIZE 16
/* Partition type GUIDs, as the disk stores them (mixed endian). */
static const unsigned char gpt_esp_type[GPT_GUID_SIZE]
  = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
      0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
static const unsigned char gpt_bios_boot_type[GPT_GUID_SIZE]
  = { 0x48, 0x61, 0x68, 0x21, 0x49, 0x64, 0x6f, 0x6e,
      0x74, 0x4e, 0x65, 0x65, 0x64, 0x45, 0x46, 0x49 };
static const unsigned sector_sizes[] = { 512, 4096 };

/* One disk as the domain gets it. */
struct disk {
  char *path;                   /* absolute */
  const char *format;           /* "raw", "qcow2" (static) */
  bool block;                   /* a block device, else a file */
};

/* The document being built.  Helpers do nothing once something failed;
 * the caller checks FAILED at the end ("out of memory": libxml2 fails
 * for no other reason here).
 */
struct builder {
  xmlDocPtr doc;
  bool failed;
};

static xmlNodePtr
check (struct builder *b, xmlNodePtr node)
{
  if (node == NULL)
    b->failed = true;
  return node;
}

/* A new element NAME appended to PARENT (or put first if FIRST). */
static xmlNodePtr
add (struct builder *b, xmlNodePtr parent, const char *name, bool first)
{
  xmlNodePtr node;

  if (b->failed)
    return NULL;
  node = check (b, xmlNewDocNode (b->doc, NULL, BAD_CAST name, NULL));
  if (node == NULL)
    return NULL;
  if (first && parent->children)
    xmlAddPrevSibling (parent->children, node);
  else
    xmlAddChild (parent, node);
  return node;
}

/* The first child of PARENT called NAME, created (at the end, or first if
 * FIRST) if there is none.
 */
static xmlNodePtr
ensure (struct builder *b, xmlNodePtr parent, const char *name, bool first)
{
  xmlNodePtr node;

  if (b->failed)
    return NULL;
  node = xml_child (parent, name);
  return node ? node : add (b, parent, name, first);
}

static void
set_attr (struct builder *b, xmlNodePtr node, const char *name,
          const char *value)
{
  if (!b->failed && xmlSetProp (node, BAD_CAST name, BAD_CAST value) == NULL)
    b->failed = true;
}

/* Make TEXT the only content of NODE (escaped when written). */
static void
set_text (struct builder *b, xmlNodePtr node, const char *text)
{
  if (b->failed)
    return;
  xmlNodeSetContent (node, NULL);
  if (xmlAddChild (node, check (b, xmlNewDocText (b->doc, BAD_CAST text)))
      == NULL)
    b->failed = true;
}

static void
set_text_number (struct builder *b, xmlNodePtr node, uint64_t n)
{
  char buf[sizeof "18446744073709551615"];

  snprintf (buf, sizeof buf, "%" PRIu64, n);
  set_text (b, node, buf);
}

static void
remove_node (xmlNodePtr node)
{
  xmlUnlinkNode (node);
  xmlFreeNode (node);
}

/* Remove the children of PARENT called NAME. */
static void
remove_children (xmlNodePtr parent, const char *name)
{
  xmlNodePtr c, next;

  for (c = parent->children; c; c = next) {
    next = c->next;
    if (xml_is_element (c, name))
      remove_node (c);
  }
}

/* ------------------------------------------------------------------ */
/* Checking the inputs. */

const char *
domxml_type_name (enum domxml_type type)
{
  switch (type) {
  case DOMXML_TYPE_KVM:
    return "kvm";
  case DOMXML_TYPE_QEMU:
    return "qemu";
  default:
    return "auto";
  }
}

enum domxml_type
domxml_resolve_type (enum domxml_type type, char *reason, size_t reason_max)
{
  if (type != DOMXML_TYPE_AUTO)
    return type;
  return kvm_probe (KVM_PROBE_TIMEOUT_MS, reason, reason_max)
    ? DOMXML_TYPE_KVM
    : DOMXML_TYPE_QEMU;
}

/* The domain's name into RESULT->name: see templates/domain.md. */
static int
choose_name (const struct domxml_options *o, struct domxml_result *result)
{
  char buf[PATH_MAX], *dot;
  const char *base;

  if (o->name) {
    if (!stream_name_ok (o->name))
      return error ("--name: '%s': use 1-%d of A-Z a-z 0-9 . _ -, not "
                    "starting with . or -",
                    o->name, STREAM_MAX_NAME);
    memcpy (result->name, o->name, strlen (o->name) + 1);
    return 0;
  }
  if (o->inv && o->inv->hostname) {
    snprintf (buf, sizeof buf, "%s", o->inv->hostname);
    buf[strcspn (buf, ".")] = '\0'; /* the short name */
    if (!stream_name_ok (buf))
      return error ("the inventory's host name '%s' cannot name the domain: "
                    "use --name",
                    o->inv->hostname);
  }
  else {
    base = strrchr (o->disks[0], '/');
    snprintf (buf, sizeof buf, "%s", base ? base + 1 : o->disks[0]);
    dot = strrchr (buf, '.');
    if (dot && dot != buf)
      *dot = '\0';
    if (!stream_name_ok (buf))
      return error ("%s: its name cannot name the domain: use --name",
                    o->disks[0]);
  }
  /* stream_name_ok() has checked the length. */
  memcpy (result->name, buf, strlen (buf) + 1);
  return 0;
}

/* A name libvirt is given for a network, a bridge or a CPU model:
 * printable ASCII without quotes, slashes or spaces.
 */
static int
check_word (const char *what, const char *s, size_t max)
{
  size_t i, n = strlen (s);

  if (n == 0 || n > max)
    return error ("%s: '%s': 1 to %zu characters", what, s, max);
  for (i = 0; i < n; i++)
    if (s[i] <= ' ' || s[i] > '~' || strchr ("/\\'\"<>&", s[i]))
      return error ("%s: '%s': only letters, digits and . _ - : + are "
                    "allowed",
                    what, s);
  return 0;
}

/* An Ethernet MAC libvirt takes: six octets, not multicast (the lowest
 * bit of the first octet), not all zero.
 */
static int
check_mac (const char *nic, const char *mac)
{
  unsigned first;

  if (strlen (mac) != MAC_LENGTH || sscanf (mac, "%2x:", &first) != 1)
    return error ("NIC '%s': MAC '%s' is not a 6-byte Ethernet address", nic,
                  mac);
  if (first & 1)
    return error ("NIC '%s': MAC '%s' is a multicast address", nic, mac);
  if (strcmp (mac, "00:00:00:00:00:00") == 0)
    return error ("NIC '%s': MAC '%s' is all zero", nic, mac);
  return 0;
}

/* Open each disk: absolute path, format, file or block device. */
static int
open_disks (const struct domxml_options *o, struct disk *disks)
{
  struct source *src;
  struct stat st;
  size_t i, j;

  if (o->n_disks == 0)
    return error ("no --disk given");
  if (o->n_disks > DOMXML_MAX_DISKS)
    return error ("%zu disks: at most %d", o->n_disks, DOMXML_MAX_DISKS);
  for (i = 0; i < o->n_disks; i++) {
    if (stat (o->disks[i], &st) == -1)
      return error_errno (errno, "--disk: %s", o->disks[i]);
    if (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode))
      return error ("--disk: %s: not a disk image or block device",
                    o->disks[i]);
    disks[i].block = S_ISBLK (st.st_mode);
    disks[i].path = realpath (o->disks[i], NULL);
    if (disks[i].path == NULL)
      return error_errno (errno, "--disk: %s", o->disks[i]);
    for (j = 0; j < i; j++)
      if (strcmp (disks[i].path, disks[j].path) == 0)
        return error ("--disk: %s: given twice (as %s too)", o->disks[i],
                      o->disks[j]);
    src = source_open (disks[i].path, NULL);
    if (src == NULL)
      return error_prefix ("--disk");
    disks[i].format = src->ops->format;
    source_close (src);
  }
  return 0;
}

/* Does the GPT of disk PATH (any format we read) have an EFI system
 * partition and no BIOS boot partition?  False for anything else: an MBR,
 * no table, a hybrid disk made to boot both ways.
 */
static bool
disk_looks_efi (const char *path)
{
  unsigned char header[GPT_N_ENTRIES_OFFSET + 8];
  unsigned char entries[GPT_MAX_ENTRIES * GPT_MIN_ENTRY_SIZE];
  uint64_t lba;
  uint32_t n, size;
  struct source *src;
  bool esp = false, bios_boot = false;
  size_t i, s;

  src = source_open (path, NULL);
  if (src == NULL)
    return false;
  for (s = 0; s < sizeof sector_sizes / sizeof sector_sizes[0]; s++) {
    if (src->size < 2 * sector_sizes[s]
        || src->ops->pread (src, header, sizeof header, sector_sizes[s]) == -1
        || memcmp (header, GPT_SIGNATURE, strlen (GPT_SIGNATURE)) != 0)
      continue;
    memcpy (&lba, header + GPT_ENTRIES_LBA_OFFSET, sizeof lba);
    memcpy (&n, header + GPT_N_ENTRIES_OFFSET, sizeof n);
    memcpy (&size, header + GPT_ENTRY_SIZE_OFFSET, sizeof size);
    lba = le64toh (lba);
    n = le32toh (n);
    size = le32toh (size);
    if (size < GPT_MIN_ENTRY_SIZE || size > GPT_MAX_ENTRY_SIZE
        || (size & (size - 1)) != 0)
      break;
    /* The first GPT_MAX_ENTRIES entries' worth of bytes: every entry a
     * Linux tool makes (128 of 128 bytes).
     */
    if (n > sizeof entries / size)
      n = sizeof entries / size;
    if (lba > src->size / sector_sizes[s]
        || lba * sector_sizes[s] + (uint64_t) n * size > src->size
        || src->ops->pread (src, entries, (size_t) n * size,
                            lba * sector_sizes[s])
          == -1)
      break;
    for (i = 0; i < n; i++) {
      esp |= memcmp (entries + i * size, gpt_esp_type, GPT_GUID_SIZE) == 0;
      bios_boot
        |= memcmp (entries + i * size, gpt_bios_boot_type, GPT_GUID_SIZE) == 0;
    }
    break;
  }
  source_close (src);
  return esp && !bios_boot;
}

/* ------------------------------------------------------------------ */
/* The parts of the domain. */

/* The target name of disk I: vda..vdz, vdaa.. (libvirt's own order). */
static void
disk_target (char *buf, size_t size, const char *prefix, size_t i)
{
  char letters[8];
  size_t n = 0, k;

  i++;
  while (i > 0 && n < sizeof letters) {
    letters[n++] = 'a' + (i - 1) % 26;
    i = (i - 1) / 26;
  }
  k = snprintf (buf, size, "%s", prefix);
  while (n > 0 && k + 1 < size)
    buf[k++] = letters[--n];
  buf[k] = '\0';
}

static void
add_disk (struct builder *b, xmlNodePtr devices, xmlNodePtr before,
          const struct disk *d, size_t i, bool virtio)
{
  char target[16];
  xmlNodePtr disk, node;

  if (b->failed)
    return;
  disk = check (b, xmlNewDocNode (b->doc, NULL, BAD_CAST "disk", NULL));
  if (disk == NULL)
    return;
  if (before)
    xmlAddPrevSibling (before, disk);
  else
    xmlAddChild (devices, disk);
  set_attr (b, disk, "type", d->block ? "block" : "file");
  set_attr (b, disk, "device", "disk");
  node = add (b, disk, "driver", false);
  set_attr (b, node, "name", "qemu");
  set_attr (b, node, "type", d->format);
  set_attr (b, node, "cache", "none");
  set_attr (b, node, "io", "native");
  set_attr (b, node, "discard", "unmap");
  node = add (b, disk, "source", false);
  set_attr (b, node, d->block ? "dev" : "file", d->path);
  disk_target (target, sizeof target, virtio ? "vd" : "sd", i);
  node = add (b, disk, "target", false);
  set_attr (b, node, "dev", target);
  set_attr (b, node, "bus", virtio ? "virtio" : "sata");
  if (i == 0) {
    node = add (b, disk, "boot", false);
    set_attr (b, node, "order", "1");
  }
}

static void
add_interface (struct builder *b, xmlNodePtr devices, xmlNodePtr before,
               const struct domxml_options *o, const char *mac, bool virtio)
{
  xmlNodePtr nic, node;

  if (b->failed)
    return;
  nic = check (b, xmlNewDocNode (b->doc, NULL, BAD_CAST "interface", NULL));
  if (nic == NULL)
    return;
  if (before)
    xmlAddPrevSibling (before, nic);
  else
    xmlAddChild (devices, nic);
  set_attr (b, nic, "type", o->bridge ? "bridge" : "network");
  node = add (b, nic, "mac", false);
  set_attr (b, node, "address", mac);
  node = add (b, nic, "source", false);
  if (o->bridge)
    set_attr (b, node, "bridge", o->bridge);
  else
    set_attr (b, node, "network",
              o->network ? o->network : DOMXML_DEFAULT_NETWORK);
  node = add (b, nic, "model", false);
  set_attr (b, node, "type", virtio ? "virtio" : "e1000");
}

/* The MACs of the interfaces, in order (pointers into the inventory or
 * the report): one per inventory NIC, or without an inventory one per
 * NIC of the report that has a MAC.
 */
static int
choose_macs (const struct domxml_options *o, const char **macs, size_t *n)
{
  const struct inventory_nic *nic;
  const char *mac;
  size_t i;

  *n = 0;
  if (o->inv == NULL) {
    for (i = 0; o->report && i < o->report->n_nics; i++)
      if (o->report->nics[i].mac) {
        if (check_mac (o->report->nics[i].name, o->report->nics[i].mac) == -1)
          return error_prefix ("--fixup-report");
        macs[(*n)++] = o->report->nics[i].mac;
      }
    return 0;
  }
  for (i = 0; i < o->inv->n_nics; i++) {
    nic = &o->inv->nics[i];
    mac = nic->mac ? nic->mac : fixup_report_mac (o->report, nic->name);
    if (mac == NULL)
      return error ("NIC '%s' has no MAC address in the inventory%s: give "
                    "one in the fixup report's NIC map",
                    nic->name, o->report ? " nor in the fixup report" : "");
    if (check_mac (nic->name, mac) == -1)
      return -1;
    macs[(*n)++] = mac;
  }
  return 0;
}

static void
set_os (struct builder *b, xmlNodePtr root, bool efi)
{
  xmlNodePtr os, type, fw, feature;

  os = ensure (b, root, "os", false);
  if (b->failed)
    return;
  remove_children (os, "loader");
  remove_children (os, "nvram");
  remove_children (os, "boot");
  remove_children (os, "firmware");
  xmlUnsetProp (os, BAD_CAST "firmware");
  type = ensure (b, os, "type", true);
  set_attr (b, type, "arch", "x86_64");
  set_attr (b, type, "machine", efi ? MACHINE_EFI : MACHINE_BIOS);
  set_text (b, type, "hvm");
  if (!efi)
    return;
  /* libvirt picks OVMF without Secure Boot from QEMU's firmware
   * descriptors and makes the domain its own NVRAM.
   */
  set_attr (b, os, "firmware", "efi");
  fw = add (b, os, "firmware", false);
  feature = add (b, fw, "feature", false);
  set_attr (b, feature, "enabled", "no");
  set_attr (b, feature, "name", "secure-boot");
}

static void
set_cpu (struct builder *b, xmlNodePtr root, const struct domxml_options *o)
{
  xmlNodePtr cpu, old, next, model, topology;
  const struct inventory_cpu *c = o->inv ? &o->inv->cpu : NULL;
  char buf[sizeof "4294967295"];

  if (b->failed)
    return;
  /* In the template's place, if it has one. */
  cpu = check (b, xmlNewDocNode (b->doc, NULL, BAD_CAST "cpu", NULL));
  if (cpu == NULL)
    return;
  old = xml_child (root, "cpu");
  if (old) {
    xmlReplaceNode (old, cpu);
    xmlFreeNode (old);
    for (old = cpu->next; old; old = next) {
      next = old->next;
      if (xml_is_element (old, "cpu"))
        remove_node (old);
    }
  }
  else
    xmlAddChild (root, cpu);
  if (o->cpu_model) {
    set_attr (b, cpu, "mode", "custom");
    set_attr (b, cpu, "match", "exact");
    model = add (b, cpu, "model", false);
    set_attr (b, model, "fallback", "forbid");
    set_text (b, model, o->cpu_model);
  }
  else if (o->type == DOMXML_TYPE_KVM)
    set_attr (b, cpu, "mode", "host-model");
  /* Under TCG, QEMU's default model, the one TCG guests are run with.
   * host-model there is what libvirt makes of the features TCG
   * emulates: here an AMD EPYC with 5-level paging (LA57) on an Intel
   * host, which libguestfs, for one, switches off for its TCG appliance.
   */
  if (c
      && (uint64_t) c->sockets * c->cores * c->threads == (uint64_t) c->count) {
    topology = add (b, cpu, "topology", false);
    snprintf (buf, sizeof buf, "%u", c->sockets);
    set_attr (b, topology, "sockets", buf);
    snprintf (buf, sizeof buf, "%u", c->cores);
    set_attr (b, topology, "cores", buf);
    snprintf (buf, sizeof buf, "%u", c->threads);
    set_attr (b, topology, "threads", buf);
  }
  /* Nothing to say: no <cpu/>. */
  if (cpu->children == NULL && cpu->properties == NULL) {
    xmlUnlinkNode (cpu);
    xmlFreeNode (cpu);
  }
}

/* Put the disks and interfaces into <devices>, before what the template
 * has there, removing the template's own.
 */
static void
set_devices (struct builder *b, xmlNodePtr root, const struct disk *disks,
             size_t n_disks, const struct domxml_options *o, const char **macs,
             size_t n_macs, bool virtio)
{
  xmlNodePtr devices, c, next, first;
  xmlChar *device;
  size_t i;

  devices = ensure (b, root, "devices", false);
  if (b->failed)
    return;
  for (c = devices->children; c; c = next) {
    next = c->next;
    if (xml_is_element (c, "interface"))
      remove_node (c);
    else if (xml_is_element (c, "disk")) {
      device = xmlGetNoNsProp (c, BAD_CAST "device");
      if (device == NULL || strcmp ((const char *) device, "disk") == 0)
        remove_node (c);
      xmlFree (device);
    }
  }
  first = devices->children;
  for (i = 0; i < n_disks; i++)
    add_disk (b, devices, first, &disks[i], i, virtio);
  for (i = 0; i < n_macs; i++)
    add_interface (b, devices, first, o, macs[i], virtio);
}

/* Remove the comments and processing instructions around the root: the
 * template's explanation is not for the domain.
 */
static void
remove_prologue (xmlDocPtr doc, xmlNodePtr root)
{
  xmlNodePtr c, next;

  for (c = doc->children; c; c = next) {
    next = c->next;
    if (c != root && (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE))
      remove_node (c);
  }
}

/* Parse the template: the user's file, or the built-in one. */
static xmlDocPtr
read_template (const struct domxml_options *o)
{
  char *buf = NULL, *what = NULL;
  const char *text;
  xmlDocPtr doc = NULL;
  xmlNodePtr root;
  size_t len;

  if (o->template_path == NULL) {
    text = domxml_builtin_template (&len);
    doc
      = xml_read_untrusted (text, len, "built-in template", XML_PARSE_NOBLANKS);
    return doc;
  }
  if (asprintf (&what, "--template: %s", o->template_path) == -1) {
    error ("out of memory");
    return NULL;
  }
  if (xml_read_file (o->template_path, DOMXML_TEMPLATE_MAX, "--template", &buf,
                     &len)
      == -1)
    goto out;
  doc = xml_read_untrusted (buf, len, what, XML_PARSE_NOBLANKS);
  if (doc == NULL)
    goto out;
  root = xmlDocGetRootElement (doc);
  if (root == NULL || !xml_is_element (root, "domain") || root->ns) {
    error ("%s: the root element is not <domain>", what);
    xmlFreeDoc (doc);
    doc = NULL;
  }
out:
  free (buf);
  free (what);
  return doc;
}

char *
domxml_build (const struct domxml_options *o, size_t *len,
              struct domxml_result *result)
{
  struct domxml_result res = { 0 };
  struct builder b = { 0 };
  struct disk *disks = NULL;
  const char **macs = NULL;
  xmlNodePtr root;
  xmlChar *text = NULL;
  char *ret = NULL;
  uint64_t mib;
  size_t n_macs = 0, i;
  int n;

  if (o->type != DOMXML_TYPE_KVM && o->type != DOMXML_TYPE_QEMU) {
    error ("domxml_build: the domain type must be kvm or qemu");
    return NULL;
  }
  if ((o->network && check_word ("--network", o->network, NET_NAME_MAX) == -1)
      || (o->bridge && check_word ("--bridge", o->bridge, NET_NAME_MAX) == -1)
      || (o->cpu_model
          && check_word ("--cpu-model", o->cpu_model, CPU_MODEL_MAX) == -1))
    return NULL;
  if (o->network && o->bridge) {
    error ("--network and --bridge: give one of them");
    return NULL;
  }
  disks = calloc (o->n_disks ? o->n_disks : 1, sizeof *disks);
  macs = calloc (INVENTORY_MAX_NICS + (o->report ? o->report->n_nics : 0),
                 sizeof *macs);
  if (disks == NULL || macs == NULL) {
    error ("out of memory");
    goto out;
  }
  if (open_disks (o, disks) == -1 || choose_name (o, &res) == -1
      || choose_macs (o, macs, &n_macs) == -1)
    goto out;
  if (o->firmware == DOMXML_FIRMWARE_AUTO)
    res.efi = o->inv ? o->inv->firmware == INVENTORY_FIRMWARE_UEFI
                     : disk_looks_efi (disks[0].path);
  else
    res.efi = o->firmware == DOMXML_FIRMWARE_EFI;
  res.virtio = fixup_report_virtio (o->report);
  res.n_nics = n_macs;

  b.doc = read_template (o);
  if (b.doc == NULL)
    goto out;
  root = xmlDocGetRootElement (b.doc);
  remove_prologue (b.doc, root);
  set_attr (&b, root, "type", domxml_type_name (o->type));
  set_text (&b, ensure (&b, root, "name", true), res.name);
  remove_children (root, "uuid");
  remove_children (root, "currentMemory");
  /* The inventory's bytes, rounded up to MiB, written in KiB. */
  mib = o->inv ? (o->inv->memory + MIB - 1) / MIB : DOMXML_DEFAULT_MEMORY_MIB;
  if (!b.failed) {
    xmlNodePtr memory = ensure (&b, root, "memory", false);

    set_attr (&b, memory, "unit", "KiB");
    set_text_number (&b, memory, mib * KIB_PER_MIB);
  }
  set_text_number (&b, ensure (&b, root, "vcpu", false),
                   o->inv ? o->inv->cpu.count : DOMXML_DEFAULT_VCPUS);
  set_os (&b, root, res.efi);
  set_cpu (&b, root, o);
  set_devices (&b, root, disks, o->n_disks, o, macs, n_macs, res.virtio);
  if (b.failed) {
    error ("out of memory");
    goto out;
  }

  xmlDocDumpFormatMemoryEnc (b.doc, &text, &n, "UTF-8", 1);
  if (text == NULL || n < 0) {
    error ("out of memory");
    goto out;
  }
  ret = malloc ((size_t) n + 1);
  if (ret == NULL) {
    error ("out of memory");
    goto out;
  }
  memcpy (ret, text, n);
  ret[n] = '\0';
  if (len)
    *len = n;
  if (result)
    *result = res;

out:
  xmlFree (text);
  if (b.doc)
    xmlFreeDoc (b.doc);
  for (i = 0; disks && i < o->n_disks; i++)
    free (disks[i].path);
  free (disks);
  free (macs);
  return ret;
}
