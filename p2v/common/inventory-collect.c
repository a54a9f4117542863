/* p2vkit: collect the inventory of this machine: hostname, firmware,
 * processors, memory (sysfs and /proc) and network interfaces (sysfs and
 * getifaddrs).  The disks are in inventory-disk.c.
 */
#include "inventory.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "inventory-internal.h"

#define SYS_CPU "/sys/devices/system/cpu"
#define SYS_NET "/sys/class/net"
#define SYS_BLOCK "/sys/block"
#define SYS_DEVICES "/sys/devices"
#define SYS_EFI "/sys/firmware/efi"
#define PROC_CPUINFO "/proc/cpuinfo"
#define PROC_MEMINFO "/proc/meminfo"

/* A line of sysfs or /proc: values are short. */
#define LINE_MAX_LEN 4096
#define KIB 1024

/* Read the small file PATH into BUF (SIZE bytes) without its trailing
 * newline.  Returns its length, or -1 with errno set (nothing recorded:
 * many sysfs attributes are legitimately missing or unreadable).
 */
static ssize_t
read_small_file (const char *path, char *buf, size_t size)
{
  FILE *fp = fopen (path, "re");
  size_t n;

  if (fp == NULL)
    return -1;
  n = fread (buf, 1, size - 1, fp);
  if (ferror (fp)) {
    fclose (fp);
    errno = EIO;
    return -1;
  }
  fclose (fp);
  while (n > 0 && buf[n - 1] == '\n')
    n--;
  buf[n] = '\0';
  return n;
}

bool
inventory_path (char *path, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start (ap, fmt);
  n = vsnprintf (path, PATH_MAX, fmt, ap);
  va_end (ap);
  return n >= 0 && n < PATH_MAX;
}

int
inventory_sysfs_string (const char *dir, const char *name, char **out)
{
  char path[PATH_MAX], buf[LINE_MAX_LEN];
  ssize_t n;

  *out = NULL;
  if (!inventory_path (path, "%s/%s", dir, name))
    return 0;
  n = read_small_file (path, buf, sizeof buf);
  if (n == -1)
    return 0;
  return inventory_clean_string (buf, n, out);
}

bool
inventory_sysfs_long (const char *dir, const char *name, long *value)
{
  char path[PATH_MAX], buf[LINE_MAX_LEN], *end;

  if (!inventory_path (path, "%s/%s", dir, name)
      || read_small_file (path, buf, sizeof buf) <= 0)
    return false;
  errno = 0;
  *value = strtol (buf, &end, 10);
  return errno == 0 && end != buf && *end == '\0';
}

/* The last component of the symbolic link DIR/NAME, in *OUT (NULL when
 * there is no such link).
 */
static int
read_link_base (const char *dir, const char *name, char **out)
{
  char path[PATH_MAX], target[PATH_MAX], *base;
  ssize_t n;

  *out = NULL;
  if (!inventory_path (path, "%s/%s", dir, name))
    return 0;
  n = readlink (path, target, sizeof target - 1);
  if (n == -1)
    return 0;
  target[n] = '\0';
  base = strrchr (target, '/');
  base = base ? base + 1 : target;
  return inventory_clean_string (base, strlen (base), out);
}

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The names in directory DIR for which KEEP (if not NULL) says yes, in
 * name order, in *NAMES (caller frees each and the array).
 */
static int
list_dir (const char *dir, bool (*keep) (const char *dir, const char *name),
          char ***names, size_t *n)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  char **v = NULL, **nv;
  size_t count = 0, i;
  int ret = -1;

  if (d == NULL)
    return error_errno (errno, "%s", dir);
  while ((errno = 0, e = readdir (d)) != NULL) {
    if (e->d_name[0] == '.' || (keep && !keep (dir, e->d_name)))
      continue;
    nv = realloc (v, (count + 1) * sizeof *v);
    if (nv == NULL) {
      error ("out of memory");
      goto out;
    }
    v = nv;
    v[count] = strdup (e->d_name);
    if (v[count] == NULL) {
      error ("out of memory");
      goto out;
    }
    count++;
  }
  if (errno != 0) {
    error_errno (errno, "%s", dir);
    goto out;
  }
  if (count > 0)
    qsort (v, count, sizeof *v, compare_strings);
  *names = v;
  *n = count;
  v = NULL;
  count = 0;
  ret = 0;

out:
  for (i = 0; i < count; i++)
    free (v[i]);
  free (v);
  closedir (d);
  return ret;
}

/* The hostname, firmware and memory. */
static int
collect_system (struct inventory *inv)
{
  char host[HOST_NAME_MAX + 1], line[LINE_MAX_LEN];
  unsigned long long kib;
  struct stat st;
  FILE *fp;
  bool found = false;

  if (gethostname (host, sizeof host) == -1)
    return error_errno (errno, "gethostname");
  host[sizeof host - 1] = '\0';
  if (inventory_clean_string (host, strlen (host), &inv->hostname) == -1)
    return -1;

  inv->firmware = stat (SYS_EFI, &st) == 0 ? INVENTORY_FIRMWARE_UEFI
                                           : INVENTORY_FIRMWARE_BIOS;

  fp = fopen (PROC_MEMINFO, "re");
  if (fp == NULL)
    return error_errno (errno, "%s", PROC_MEMINFO);
  while (!found && fgets (line, sizeof line, fp))
    if (sscanf (line, "MemTotal: %llu kB", &kib) == 1)
      found = true;
  fclose (fp);
  if (!found || kib == 0 || kib > INVENTORY_MAX_BYTES / KIB)
    return error ("%s: no MemTotal line", PROC_MEMINFO);
  inv->memory = (uint64_t) kib * KIB;
  return 0;
}

static bool
is_cpu_dir (const char *dir, const char *name)
{
  (void) dir;
  return strncmp (name, "cpu", 3) == 0 && name[3] != '\0'
    && strspn (name + 3, "0123456789") == strlen (name + 3);
}

/* Where a logical CPU is: its socket and its core in the socket. */
struct cpu_place {
  long package;
  long core;
};

static int
compare_places (const void *a, const void *b)
{
  const struct cpu_place *x = a, *y = b;

  if (x->package != y->package)
    return x->package < y->package ? -1 : 1;
  if (x->core != y->core)
    return x->core < y->core ? -1 : 1;
  return 0;
}

/* The count of logical CPUs present (every cpuN directory; nproc --all
 * counts the possible ones, which include the empty sockets and slots
 * of machines that can hot-plug processors) and their topology: sockets are
 * distinct physical packages, cores the most distinct cores in one package,
 * threads the most logical CPUs on one core.  CPUs that are offline have no
 * topology and are left out of it.
 */
static int
collect_cpus (struct inventory_cpu *cpu)
{
  char **names = NULL, dir[PATH_MAX], line[LINE_MAX_LEN], *colon;
  struct cpu_place *places = NULL;
  size_t n = 0, n_places = 0, i;
  unsigned cores, threads;
  FILE *fp;
  int ret = -1;

  if (list_dir (SYS_CPU, is_cpu_dir, &names, &n) == -1)
    goto out;
  if (n == 0 || n > INVENTORY_MAX_CPUS) {
    error ("%s: %zu CPUs", SYS_CPU, n);
    goto out;
  }
  cpu->count = n;

  places = calloc (n, sizeof *places);
  if (places == NULL) {
    error ("out of memory");
    goto out;
  }
  for (i = 0; i < n; i++) {
    if (inventory_path (dir, "%s/%s/topology", SYS_CPU, names[i])
        && inventory_sysfs_long (dir, "physical_package_id",
                                 &places[n_places].package)
        && inventory_sysfs_long (dir, "core_id", &places[n_places].core))
      n_places++;
  }
  cpu->sockets = 1;
  cpu->cores = n;
  cpu->threads = 1;
  if (n_places > 0) {
    /* Sorted, each socket's cores are together, each core's threads too. */
    qsort (places, n_places, sizeof *places, compare_places);
    cpu->cores = cores = threads = 1;
    for (i = 1; i < n_places; i++) {
      if (places[i].package != places[i - 1].package) {
        cpu->sockets++;
        cores = threads = 1;
      }
      else if (places[i].core != places[i - 1].core) {
        cores++;
        threads = 1;
      }
      else
        threads++;
      if (cores > cpu->cores)
        cpu->cores = cores;
      if (threads > cpu->threads)
        cpu->threads = threads;
    }
  }

  /* The model: the first "model name" (x86; other processors may have
   * none).
   */
  fp = fopen (PROC_CPUINFO, "re");
  if (fp) {
    while (cpu->model == NULL && fgets (line, sizeof line, fp)) {
      colon = strchr (line, ':');
      if (strncmp (line, "model name", 10) == 0 && colon
          && inventory_clean_string (colon + 1, strlen (colon + 1), &cpu->model)
            == -1) {
        fclose (fp);
        goto out;
      }
    }
    fclose (fp);
  }
  ret = 0;

out:
  for (i = 0; i < n; i++)
    free (names[i]);
  free (names);
  free (places);
  return ret;
}

/* A network interface is physical when it has a device behind it: this
 * leaves out lo, bridges, bonds, VLANs, tun/tap, veth and the like.
 */
static bool
is_physical_nic (const char *dir, const char *name)
{
  char path[PATH_MAX];
  struct stat st;

  return strcmp (name, "lo") != 0
    && inventory_path (path, "%s/%s/device", dir, name)
    && stat (path, &st) == 0;
}

/* The PCI function that the device at sysfs path DEVICE is or sits
 * behind (a virtio NIC sits behind its virtio-pci function), in *OUT.
 */
static int
find_pci_address (const char *device, char **out)
{
  char path[PATH_MAX], *subsystem = NULL, *slash;
  int ret = 0;

  *out = NULL;
  if (realpath (device, path) == NULL)
    return 0;
  while (strncmp (path, SYS_DEVICES "/", strlen (SYS_DEVICES) + 1) == 0) {
    if (read_link_base (path, "subsystem", &subsystem) == -1)
      return -1;
    if (subsystem && strcmp (subsystem, "pci") == 0) {
      slash = strrchr (path, '/');
      ret = inventory_clean_string (slash + 1, strlen (slash + 1), out);
      break;
    }
    free (subsystem);
    subsystem = NULL;
    *strrchr (path, '/') = '\0';
  }
  free (subsystem);
  return ret;
}

/* The prefix length of the netmask at ADDR (LEN bytes). */
static unsigned
prefix_length (const unsigned char *mask, size_t len)
{
  unsigned bits = 0;
  size_t i;

  for (i = 0; i < len; i++)
    bits += __builtin_popcount (mask[i]);
  return bits;
}

static int
collect_addresses (struct inventory_nic *nic, const struct ifaddrs *all)
{
  const struct ifaddrs *ifa;
  struct inventory_address *a, *na;
  const void *addr, *mask;
  size_t mask_len;
  int family;

  for (ifa = all; ifa; ifa = ifa->ifa_next) {
    if (ifa->ifa_addr == NULL || strcmp (ifa->ifa_name, nic->name) != 0)
      continue;
    family = ifa->ifa_addr->sa_family;
    if (family == AF_INET) {
      addr = &((const struct sockaddr_in *) ifa->ifa_addr)->sin_addr;
      mask = ifa->ifa_netmask
        ? &((const struct sockaddr_in *) ifa->ifa_netmask)->sin_addr
        : NULL;
      mask_len = sizeof (struct in_addr);
    }
    else if (family == AF_INET6) {
      addr = &((const struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr;
      mask = ifa->ifa_netmask
        ? &((const struct sockaddr_in6 *) ifa->ifa_netmask)->sin6_addr
        : NULL;
      mask_len = sizeof (struct in6_addr);
    }
    else
      continue;
    if (nic->n_addresses >= INVENTORY_MAX_ADDRESSES)
      return error ("%s: more than %d addresses", nic->name,
                    INVENTORY_MAX_ADDRESSES);
    na = realloc (nic->addresses, (nic->n_addresses + 1) * sizeof *na);
    if (na == NULL)
      return error ("out of memory");
    nic->addresses = na;
    a = &na[nic->n_addresses];
    a->family = family == AF_INET ? INVENTORY_IPV4 : INVENTORY_IPV6;
    if (inet_ntop (family, addr, a->address, sizeof a->address) == NULL)
      return error_errno (errno, "%s: inet_ntop", nic->name);
    a->prefix = mask ? prefix_length (mask, mask_len) : mask_len * CHAR_BIT;
    nic->n_addresses++;
  }
  return 0;
}

static int
collect_nic (struct inventory_nic *nic, const char *name,
             const struct ifaddrs *addrs)
{
  char dir[PATH_MAX], device[PATH_MAX], *state = NULL;
  long value;
  int i;

  if (!inventory_path (dir, "%s/%s", SYS_NET, name)
      || !inventory_path (device, "%s/device", dir))
    return error ("name too long");
  nic->name = strdup (name);
  if (nic->name == NULL)
    return error ("out of memory");
  if (inventory_sysfs_string (dir, "address", &nic->mac) == -1
      || read_link_base (device, "driver", &nic->driver) == -1
      || read_link_base (device, "subsystem", &nic->bus) == -1
      || find_pci_address (device, &nic->pci_address) == -1
      || inventory_sysfs_string (dir, "operstate", &state) == -1)
    return -1;
  /* An interface without a link-layer address has an empty one; a
   * strange one is left out rather than failing the inventory.
   */
  if (nic->mac) {
    for (i = 0; nic->mac[i]; i++)
      nic->mac[i] = tolower ((unsigned char) nic->mac[i]);
    if (strspn (nic->mac, "0123456789abcdef:") != strlen (nic->mac)
        || strlen (nic->mac) % 3 != 2) {
      free (nic->mac);
      nic->mac = NULL;
    }
  }
  i = state ? inventory_name_index (inventory_link_state_names,
                                    inventory_link_state_count, state)
            : -1;
  nic->state = i >= 0 ? (enum inventory_link_state) i : INVENTORY_LINK_UNKNOWN;
  free (state);

  /* carrier and speed cannot be read while the interface is down. */
  nic->carrier
    = inventory_sysfs_long (dir, "carrier", &value) && value >= 0 && value <= 1
    ? (int) value
    : -1;
  nic->speed = inventory_sysfs_long (dir, "speed", &value) && value >= 0
      && value <= INVENTORY_MAX_SPEED
    ? value
    : -1;
  nic->mtu = inventory_sysfs_long (dir, "mtu", &value) && value > 0
      && value <= INVENTORY_MAX_MTU
    ? (unsigned) value
    : 0;
  return collect_addresses (nic, addrs);
}

static int
collect_nics (struct inventory *inv)
{
  struct ifaddrs *addrs = NULL;
  char **names = NULL;
  size_t n = 0, i;
  int ret = -1;

  if (getifaddrs (&addrs) == -1)
    return error_errno (errno, "getifaddrs");
  if (list_dir (SYS_NET, is_physical_nic, &names, &n) == -1)
    goto out;
  if (n > INVENTORY_MAX_NICS) {
    error ("%zu network interfaces, at most %d", n, INVENTORY_MAX_NICS);
    goto out;
  }
  if (n > 0) {
    inv->nics = calloc (n, sizeof *inv->nics);
    if (inv->nics == NULL) {
      error ("out of memory");
      goto out;
    }
  }
  for (i = 0; i < n; i++) {
    inv->n_nics++;
    if (collect_nic (&inv->nics[i], names[i], addrs) == -1) {
      error_prefix ("%s", names[i]);
      goto out;
    }
  }
  ret = 0;

out:
  for (i = 0; i < n; i++)
    free (names[i]);
  free (names);
  freeifaddrs (addrs);
  return ret;
}

int
inventory_collect (struct inventory *inv, char *const *disks, size_t n)
{
  if (collect_system (inv) == -1 || collect_cpus (&inv->cpu) == -1
      || collect_nics (inv) == -1
      || inventory_collect_disks (inv, disks, n) == -1
      || inventory_check (inv) == -1) {
    inventory_free (inv);
    return -1;
  }
  return 0;
}

/* Block devices that are not disks to convert, by name prefix. */
static const char *const not_disks[] = {
  "loop", "ram", "zram", "dm-", "md", "sr", "fd",
};

static bool
is_local_disk (const char *dir, const char *name)
{
  char path[PATH_MAX];
  long removable, size;
  size_t i;

  for (i = 0; i < sizeof not_disks / sizeof not_disks[0]; i++)
    if (strncmp (name, not_disks[i], strlen (not_disks[i])) == 0)
      return false;
  if (!inventory_path (path, "%s/%s", dir, name))
    return false;
  return !(inventory_sysfs_long (path, "removable", &removable)
           && removable != 0)
    && inventory_sysfs_long (path, "size", &size) && size > 0;
}

int
inventory_local_disks (char ***disks, size_t *n)
{
  char **names = NULL, *path, *p;
  size_t count = 0, i;

  if (list_dir (SYS_BLOCK, is_local_disk, &names, &count) == -1)
    return -1;
  /* Names of devices in subdirectories of /dev have '!' for '/'
   * (cciss!c0d0).
   */
  for (i = 0; i < count; i++) {
    if (asprintf (&path, "/dev/%s", names[i]) == -1) {
      for (i = 0; i < count; i++)
        free (names[i]);
      free (names);
      return error ("out of memory");
    }
    for (p = path; *p; p++)
      if (*p == '!')
        *p = '/';
    free (names[i]);
    names[i] = path;
  }
  *disks = names;
  *n = count;
  return 0;
}
