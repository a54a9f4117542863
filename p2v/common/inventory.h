/* p2vkit: the hardware inventory of a machine (inventory.xml).
 *
 * A struct inventory describes the machine a P2V conversion starts from:
 * its firmware, processors and memory, its disks with their partition
 * tables, partitions and filesystems, and its network interfaces.  It is
 * collected on the source machine (inventory_collect), written as XML
 * (inventory_to_xml, inventory_write_xml) and sent to the conversion host,
 * which reads it back (inventory_parse_xml) to build the virtual machine.
 * The XML format is documented in templates/inventory.md and defined by
 * the RELAX NG schema templates/inventory.rng, which is built into the
 * program (inventory_schema).
 *
 * Ownership: a struct inventory owns every string and array it points
 * to; inventory_free() releases them all.  The struct itself belongs to
 * the caller: start from an all-zero one ({ 0 }), which is also what every
 * function here leaves behind when it fails.  Optional strings are NULL
 * when unknown, never empty.
 *
 * Every function returns 0 (or a pointer) on success and -1 (or NULL)
 * with an error recorded (error.h) on failure.  None is thread-safe on the
 * same struct; different structs may be used in different threads.
 */
#ifndef P2V_INVENTORY_H
#define P2V_INVENTORY_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The version of the XML format written and read here. */
#define INVENTORY_VERSION 1

/* Limits on what the parser accepts (the collector keeps to them too).
 * A real machine is far below each one; they exist so that an inventory
 * from the network cannot make the receiver allocate without bound.
 */
#define INVENTORY_XML_MAX (4 * 1024 * 1024) /* bytes of XML */
#define INVENTORY_MAX_DISKS 256
#define INVENTORY_MAX_PARTITIONS 256        /* per disk, Linux's own limit */
#define INVENTORY_MAX_PARTITION_NUMBER 4096
#define INVENTORY_MAX_FLAGS 32              /* per partition */
#define INVENTORY_MAX_NICS 256
#define INVENTORY_MAX_ADDRESSES 256         /* per NIC */
#define INVENTORY_MAX_CPUS 65536
#define INVENTORY_MAX_STRING 4096           /* characters in any string */
#define INVENTORY_MAX_BYTES INT64_MAX       /* sizes and offsets */
#define INVENTORY_MIN_SECTOR_SIZE 512
#define INVENTORY_MAX_SECTOR_SIZE 65536
#define INVENTORY_MAX_MTU 65536
#define INVENTORY_MAX_SPEED INT32_MAX       /* Mb/s */

enum inventory_firmware {
  INVENTORY_FIRMWARE_BIOS,
  INVENTORY_FIRMWARE_UEFI,
};

/* Where a disk's facts came from. */
enum inventory_disk_source {
  INVENTORY_DISK_DEVICE,        /* a block device */
  INVENTORY_DISK_FILE,          /* a raw image file */
};

enum inventory_partition_kind {
  INVENTORY_PARTITION_PRIMARY,  /* every GPT partition is primary */
  INVENTORY_PARTITION_LOGICAL,
  INVENTORY_PARTITION_EXTENDED,
};

/* The kernel's operational state of a NIC (/sys/class/net/NIC/operstate,
 * RFC 2863).
 */
enum inventory_link_state {
  INVENTORY_LINK_UNKNOWN,
  INVENTORY_LINK_NOTPRESENT,
  INVENTORY_LINK_DOWN,
  INVENTORY_LINK_LOWERLAYERDOWN,
  INVENTORY_LINK_TESTING,
  INVENTORY_LINK_DORMANT,
  INVENTORY_LINK_UP,
};

enum inventory_address_family {
  INVENTORY_IPV4,
  INVENTORY_IPV6,
};

/* What libblkid found on a partition or an unpartitioned disk. */
struct inventory_filesystem {
  char *type;                   /* TYPE: ext4, vfat, swap, LVM2_member... */
  char *uuid;                   /* UUID (for LVM2_member the PV UUID) */
  char *label;                  /* LABEL */
  char *vg;                     /* LVM2_member: its volume group's name */
};

struct inventory_partition {
  unsigned number;              /* 1 to INVENTORY_MAX_PARTITION_NUMBER */
  enum inventory_partition_kind kind;
  uint64_t start;               /* bytes from the start of the disk */
  uint64_t size;                /* bytes */
  char *name;                   /* GPT partition name */
  char *type;                   /* GPT type GUID, or MBR type as "0x83" */
  char *uuid;                   /* PARTUUID */
  char **flags;                 /* libparted's flag names: boot, esp... */
  size_t n_flags;
  struct inventory_filesystem *filesystem; /* NULL: none recognised */
};

struct inventory_disk {
  char *path;                   /* as given: /dev/sda, disk.img */
  enum inventory_disk_source source;
  uint64_t size;                /* bytes */
  unsigned logical_sector_size; /* bytes, a power of two */
  unsigned physical_sector_size;
  char *model;                  /* devices only */
  char *serial;                 /* devices only */
  /* The partition table: libparted's name for its type (gpt, msdos...),
   * or NULL when the disk is not partitioned.
   */
  char *table_type;
  char *table_uuid;             /* GPT disk GUID or MBR disk identifier */
  struct inventory_partition *partitions; /* only with a table */
  size_t n_partitions;
  struct inventory_filesystem *filesystem; /* only without a table */
};

struct inventory_address {
  enum inventory_address_family family;
  char address[INET6_ADDRSTRLEN]; /* numeric, as inet_ntop() writes it */
  unsigned prefix;              /* 0-32 for IPv4, 0-128 for IPv6 */
};

struct inventory_nic {
  char *name;                   /* eth0, enp3s0 */
  char *mac;                    /* lower-case hex pairs with colons */
  char *driver;                 /* kernel driver: e1000e, virtio_net */
  char *bus;                    /* pci, usb, virtio... */
  char *pci_address;            /* the PCI function it is or sits behind */
  enum inventory_link_state state;
  int carrier;                  /* 1, 0, or -1: unknown */
  int64_t speed;                /* Mb/s, or -1: unknown */
  unsigned mtu;                 /* 0: unknown */
  struct inventory_address *addresses;
  size_t n_addresses;
};

struct inventory_cpu {
  /* Logical CPUs present (cpuN in sysfs).  nproc --all counts the
   * possible ones, more where processors can be hot-plugged.
   */
  unsigned count;
  unsigned sockets;             /* processor packages */
  unsigned cores;               /* cores per socket (the largest) */
  unsigned threads;             /* threads per core (the largest) */
  char *model;                  /* "model name" of /proc/cpuinfo */
};

struct inventory {
  char *hostname;
  enum inventory_firmware firmware;
  struct inventory_cpu cpu;
  uint64_t memory;              /* bytes, MemTotal of /proc/meminfo */
  struct inventory_disk *disks;
  size_t n_disks;
  struct inventory_nic *nics;
  size_t n_nics;
};

/* Collect the facts of this machine, and of each of the N DISKS (block
 * devices or raw image files), into *INV, which must be all zero.
 *
 * The disks are only ever read: they are examined by a thread that the
 * kernel forbids (with a seccomp filter) to open any file for writing or
 * to change a block device, so that neither libparted, which would open
 * them read-write, nor libblkid can change them.
 */
int inventory_collect (struct inventory *inv, char *const *disks, size_t n);

/* The local disks worth converting: every block device in /sys/block
 * except removable ones, empty ones, and loop, ram, zram, device-mapper,
 * md, CD and floppy devices, as /dev paths in name order.  Sets *DISKS
 * (caller frees each string and the array) and *N.
 */
int inventory_local_disks (char ***disks, size_t *n);

/* Release everything INV points to and zero it. */
void inventory_free (struct inventory *inv);

/* The inventory as an XML document (NUL-terminated, caller frees), its
 * length in *LEN if LEN is not NULL.  Fails if a string is not valid
 * UTF-8 or a number is out of range, so that what is written can always
 * be read back.
 */
char *inventory_to_xml (const struct inventory *inv, size_t *len);

/* Write the XML to PATH: as PATH.part, renamed to PATH when complete.
 * An existing PATH is replaced only if FORCE.  PATH "-" is stdout.
 */
int inventory_write_xml (const struct inventory *inv, const char *path,
                         bool force);

/* Parse the XML document BUF of LEN bytes, which may come from anyone:
 * it must be at most INVENTORY_XML_MAX bytes, of INVENTORY_VERSION, have
 * no DTD (so no entities), be valid against the schema, and keep to the
 * limits above.  Nothing is fetched from the network or the filesystem.
 * Fills *INV, which must be all zero.  Strings are only checked to be
 * UTF-8 without control characters: a caller that uses one as a file name
 * or in a command must check it for that use.
 */
int inventory_parse_xml (const char *buf, size_t len, struct inventory *inv);

/* Read the inventory file PATH (at most INVENTORY_XML_MAX bytes) and parse
 * it as inventory_parse_xml() does.  Messages start "--inventory: PATH".
 */
int inventory_read_file (const char *path, struct inventory *inv);

/* The RELAX NG schema (templates/inventory.rng) built into the program,
 * NUL-terminated; its length in *LEN if LEN is not NULL.
 */
const char *inventory_schema (size_t *len);

/* Names of the enumerations as the XML writes them. */
const char *inventory_firmware_name (enum inventory_firmware f);
const char *inventory_disk_source_name (enum inventory_disk_source s);
const char *inventory_partition_kind_name (enum inventory_partition_kind k);
const char *inventory_link_state_name (enum inventory_link_state s);
const char *inventory_address_family_name (enum inventory_address_family f);

#endif /* P2V_INVENTORY_H */
