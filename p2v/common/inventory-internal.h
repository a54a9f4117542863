/* p2vkit: what the inventory's source files share (not for callers; see
 * inventory.h).
 */
#ifndef P2V_INVENTORY_INTERNAL_H
#define P2V_INVENTORY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "inventory.h"

/* The names of each enumeration, indexed by its values. */
extern const char *const inventory_firmware_names[];
extern const char *const inventory_disk_source_names[];
extern const char *const inventory_partition_kind_names[];
extern const char *const inventory_link_state_names[];
extern const char *const inventory_address_family_names[];
extern const size_t inventory_firmware_count, inventory_disk_source_count,
  inventory_partition_kind_count, inventory_link_state_count,
  inventory_address_family_count;

/* The index of S in NAMES (N of them), or -1. */
int inventory_name_index (const char *const *names, size_t n, const char *s);

/* Make a string for the inventory from LEN bytes at S, as a machine
 * reports it (sysfs, libblkid, libparted): leading and trailing white
 * space removed, and each byte that is a control character or not part of
 * valid UTF-8 written as \xNN, so that the result can go into XML.  Sets
 * *OUT (caller frees), or to NULL if nothing is left.
 */
int inventory_clean_string (const char *s, size_t len, char **out);

/* Format a path into PATH, PATH_MAX bytes.  Returns false if it does not
 * fit (nothing recorded: callers treat it as a missing file).
 */
bool inventory_path (char *path, const char *fmt, ...)
  __attribute__ ((format (printf, 2, 3)));

/* Read the sysfs attribute DIR/NAME (or any small file) as a cleaned
 * string into *OUT, NULL when it is missing or unreadable.
 */
int inventory_sysfs_string (const char *dir, const char *name, char **out);

/* Read DIR/NAME as a decimal integer; false when it is missing,
 * unreadable or not one.
 */
bool inventory_sysfs_long (const char *dir, const char *name, long *value);

/* How much of an untrusted value a message quotes. */
#define INVENTORY_QUOTE_MAX 32

/* Up to INVENTORY_QUOTE_MAX bytes of the untrusted string S, for a
 * message, in BUF: control characters (which an XML attribute may hold,
 * as &#10;) become '?', so that the message stays on one line.  Returns
 * BUF.
 */
const char *inventory_quote (const char *s, char buf[INVENTORY_QUOTE_MAX + 1]);

/* Check that every string, number and count in INV is within the limits
 * of inventory.h and the schema, that no two disks have the same path, no
 * two NICs the same name, and no two partitions of a disk the same number,
 * and that partitions lie inside their disk.
 */
int inventory_check (const struct inventory *inv);

/* Collect the disks of inventory_collect() into INV->disks (see
 * inventory-disk.c).
 */
int inventory_collect_disks (struct inventory *inv, char *const *paths,
                             size_t n);

#endif /* P2V_INVENTORY_INTERNAL_H */
