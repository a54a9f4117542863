/* p2vkit fixup: the device map, from the names a guest's configuration may
 * give its block devices to the UUIDs that name them on any hardware.
 *
 * A guest's /etc/fstab, /etc/crypttab and kernel command line often name
 * devices by the kernel's names (/dev/sda1, /dev/hda1, /dev/vda1,
 * /dev/xvda1, /dev/nvme0n1p1) or by udev's /dev/disk/by-id and by-path
 * links.  None of them survives new hardware: /dev/sda1 becomes /dev/vda1
 * under virtio-blk, the by-id names hold the disk's model and serial
 * number, the by-path names its controller's address.  The rewriters
 * (rewrite.h) replace each name found in the map by UUID=... .
 *
 * The map holds, for each name, the UUID of what is on that device: the
 * filesystem UUID, the swap UUID for swap, the LUKS UUID for an encrypted
 * device, as libblkid reports it (the inventory's filesystem uuid).
 *
 * Ownership: a struct devmap owns its entries and their strings;
 * devmap_free() releases them.  Start from an all-zero one ({ 0 }).  The
 * map is trusted: it is built by the caller from the inventory and the
 * image, not from the guest's files.
 *
 * Functions that can fail return -1 with an error recorded (error.h) and
 * leave the map as it was.  None is thread-safe on the same map; lookups
 * on a map that no longer changes may run in any number of threads.
 */
#ifndef P2V_DEVMAP_H
#define P2V_DEVMAP_H

#include <stdbool.h>
#include <stddef.h>

/* Limits of what devmap_add accepts: far above any real name or UUID. */
#define DEVMAP_NAME_MAX 4096      /* bytes in a device name */
#define DEVMAP_UUID_MAX 64        /* bytes in a UUID */
#define DEVMAP_MAX_ENTRIES 65536  /* names in one map */

/* devmap_add_partition: disks and partitions it can name. */
#define DEVMAP_MAX_DISKS 4096
#define DEVMAP_MAX_PARTITION 4096

struct devmap_entry {
  char *name;                   /* /dev/sda1 */
  char *uuid;                   /* 0b1c...: what UUID= is to say */
};

struct devmap {
  struct devmap_entry *entries; /* sorted by name, for devmap_lookup */
  size_t n;
  size_t alloc;
};

/* Map the device NAME to UUID.
 *
 * NAME must start with "/dev/", be at most DEVMAP_NAME_MAX bytes and hold
 * no whitespace, control character or quote (' or "): no device name
 * does, and so a name can never cross the boundaries of the words and
 * fields the rewriters split their input into.  UUID is 1 to
 * DEVMAP_UUID_MAX hexadecimal digits and dashes, as libblkid gives them
 * (1234-ABCD for FAT, 2023-06-10-10-54-09-00 for ISO 9660); it is written
 * as given, so keep its case.
 *
 * Adding a name again with the same UUID does nothing; with another UUID
 * it fails: one name cannot mean two devices.  O(n): the map is a sorted
 * array (a full one of DEVMAP_MAX_ENTRIES names is built in about a
 * second).
 */
int devmap_add (struct devmap *map, const char *name, const char *uuid);

/* Add the kernel's conventional names for partition PARTITION (1 to
 * DEVMAP_MAX_PARTITION; 0 means the whole disk) of the guest's disk number
 * DISK (0 to DEVMAP_MAX_DISKS - 1, in the order of the guest's disks),
 * under every driver the guest may have used:
 *
 *   disk 0, partition 1:  /dev/sda1 /dev/hda1 /dev/vda1 /dev/xvda1
 *                         /dev/nvme0n1p1
 *   disk 1, partition 2:  /dev/sdb2 /dev/hdb2 /dev/vdb2 /dev/xvdb2
 *                         /dev/nvme1n1p2
 *   disk 27, whole disk:  /dev/sdab /dev/hdab /dev/vdab /dev/xvdab
 *                         /dev/nvme27n1
 *
 * (Letters go on as the kernel's sd driver counts: z, aa, ab... zz, aaa.)
 * These are guesses about the source machine; the names it really used
 * (from the inventory: its /dev path, by-id and by-path links) should be
 * added first with devmap_add.  A name already in the map keeps its UUID
 * here, so a guess never overrides what is known.
 */
int devmap_add_partition (struct devmap *map, unsigned disk, unsigned partition,
                          const char *uuid);

/* The UUID that NAME (LEN bytes, not necessarily NUL-terminated, any
 * bytes) maps to, or NULL.  The match is exact: "/dev//sda1" is not
 * "/dev/sda1".  The string belongs to the map.  O(log n).
 */
const char *devmap_lookup (const struct devmap *map, const char *name,
                           size_t len);

/* Is NAME (LEN bytes, any bytes) one of the names that do not survive a
 * move to new hardware, the kind this map is for: /dev/sdX[N],
 * /dev/hdX[N], /dev/vdX[N], /dev/xvdX[N], /dev/nvmeCnN[pP] or a
 * /dev/disk/by-id or by-path link?  The rewriters warn about such a name
 * when it is not in the map.  /dev/mapper/..., /dev/VG/LV, /dev/md0,
 * /dev/sr0 and the by-uuid, by-label and by-partuuid links are not.
 */
bool devmap_name_is_unstable (const char *name, size_t len);

/* Release everything MAP holds and zero it. */
void devmap_free (struct devmap *map);

#endif /* P2V_DEVMAP_H */
