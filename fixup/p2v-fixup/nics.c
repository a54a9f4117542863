/* p2v-fixup: the network interfaces, their names pinned to their MACs,
 * --network dhcp, and the Xorg drivers.
 *
 * The NIC map is the union of the NICs of the inventory (the source
 * machine's real interfaces, with their MACs and drivers) and of those
 * the guest's network configuration names (ifupdown, systemd-networkd,
 * NetworkManager, ifcfg, netplan), each with the files that name it.
 * Every NIC with a known MAC gets its name pinned to it: a systemd .link
 * file (10-p2vkit-NAME.link, read by systemd-udevd, in the initramfs
 * too), or one udev rules file where udev is not systemd's.  The name
 * then no longer depends on the PCI slot or the driver, and the
 * configuration that names it keeps working on new hardware.
 *
 * Where the MAC comes from, first found first: the inventory; the
 * guest's network configuration; the pin of an earlier run (so that a
 * second run keeps what the first pinned, a MAC of an inventory not
 * given again or a new one); with --new-macs, a new random one, for the
 * NICs that the inventory does not list (those are real NICs, whose MAC
 * only the hardware knows).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "net.h"
#include "p2v-fixup.h"

#define LINK_DIR "/etc/systemd/network"
#define LINK_PREFIX "10-p2vkit-"
#define LINK_SUFFIX ".link"
#define UDEV_RULES "/etc/udev/rules.d/70-p2vkit-net.rules"

/* Draws of a new MAC before giving up: with 44 random bits, a second
 * draw is needed once in billions of runs; many mean a broken random
 * source.
 */
#define NEW_MAC_TRIES 16

typedef int scan_fn (const char *in, size_t len, struct net_refs *refs);

/* The network configurations we read: a file, or the files of a
 * directory whose names start with PREFIX and end with SUFFIX.
 */
static const struct {
  const char *path;
  bool is_dir;
  const char *prefix;
  const char *suffix;
  scan_fn *scan;
  edit_fn *dhcp;                /* NULL: --network dhcp leaves it */
} configs[] = {
  { "/etc/network/interfaces", false, "", "", net_scan_ifupdown,
    net_dhcp_ifupdown },
  { "/etc/network/interfaces.d", true, "", "", net_scan_ifupdown,
    net_dhcp_ifupdown },
  { "/etc/systemd/network", true, "", ".network", net_scan_networkd,
    net_dhcp_networkd },
  { "/etc/NetworkManager/system-connections", true, "", "", net_scan_nm_keyfile,
    net_dhcp_nm_keyfile },
  { "/etc/sysconfig/network-scripts", true, "ifcfg-", "", net_scan_ifcfg,
    net_dhcp_ifcfg },
  /* XXX netplan: names and MACs are read, --network dhcp leaves it. */
  { "/etc/netplan", true, "", ".yaml", net_scan_netplan, NULL },
};

static struct nic_record *
find_nic (struct fixup *f, const char *name)
{
  size_t i;

  for (i = 0; i < f->n_nics; i++)
    if (strcmp (f->nics[i].name, name) == 0)
      return &f->nics[i];
  return NULL;
}

static struct nic_record *
add_nic (struct fixup *f, const char *name)
{
  struct nic_record *n, *nic = find_nic (f, name);

  if (nic)
    return nic;
  n = realloc (f->nics, (f->n_nics + 1) * sizeof *n);
  if (n == NULL) {
    error ("out of memory");
    return NULL;
  }
  f->nics = n;
  nic = &n[f->n_nics];
  memset (nic, 0, sizeof *nic);
  nic->name = strdup (name);
  if (nic->name == NULL) {
    error ("out of memory");
    return NULL;
  }
  f->n_nics++;
  return nic;
}

static int
add_config (struct nic_record *nic, const char *path)
{
  char **n;
  size_t i;

  for (i = 0; i < nic->n_configs; i++)
    if (strcmp (nic->configs[i], path) == 0)
      return 0;
  n = realloc (nic->configs, (nic->n_configs + 1) * sizeof *n);
  if (n == NULL)
    return error ("out of memory");
  nic->configs = n;
  n[nic->n_configs] = strdup (path);
  if (n[nic->n_configs] == NULL)
    return error ("out of memory");
  nic->n_configs++;
  return 0;
}

/* Read the NICs that PATH names into the map, then switch it to DHCP if
 * asked.
 */
static int
scan_file (struct fixup *f, const char *path, scan_fn *scan, edit_fn *dhcp)
{
  struct net_refs refs = { 0 };
  struct nic_record *nic;
  char *buf = NULL;
  size_t len, i;
  int ret = -1;

  if (guest_read (f, path, &buf, &len) == -1)
    return -1;
  if (scan (buf, len, &refs) == -1) {
    /* An odd file is no reason to give up the conversion. */
    fixup_warn (f, "%s: not read: %s", path, error_message ());
    ret = 0;
    goto out;
  }
  for (i = 0; i < refs.n; i++) {
    nic = add_nic (f, refs.refs[i].name);
    if (nic == NULL || add_config (nic, path) == -1)
      goto out;
    if (nic->mac == NULL && refs.refs[i].mac) {
      nic->mac = strdup (refs.refs[i].mac);
      if (nic->mac == NULL) {
        error ("out of memory");
        goto out;
      }
      nic->mac_from = MAC_FROM_CONFIG;
    }
  }
  if (f->dhcp && dhcp && guest_edit (f, path, dhcp) == -1)
    goto out;
  ret = 0;
out:
  net_refs_free (&refs);
  free (buf);
  return ret;
}

static bool
has_prefix (const char *path, const char *prefix)
{
  const char *base = strrchr (path, '/');

  base = base ? base + 1 : path;
  return strncmp (base, prefix, strlen (prefix)) == 0;
}

static int
scan_configs (struct fixup *f)
{
  char **paths;
  size_t i, j, n;
  int ret = 0;

  for (i = 0; i < sizeof configs / sizeof configs[0] && ret == 0; i++) {
    if (!configs[i].is_dir) {
      if (guest_is_file (f, configs[i].path))
        ret = scan_file (f, configs[i].path, configs[i].scan, configs[i].dhcp);
      continue;
    }
    if (guest_list (f, configs[i].path, configs[i].suffix, &paths, &n) == -1)
      return -1;
    for (j = 0; j < n && ret == 0; j++)
      if (has_prefix (paths[j], configs[i].prefix))
        ret = scan_file (f, paths[j], configs[i].scan, configs[i].dhcp);
    free_list (paths, n);
  }
  return ret;
}

/* The inventory's NICs: the source machine's, with their MACs, which
 * win over any MAC a configuration gives.
 */
static int
add_inventory_nics (struct fixup *f)
{
  const struct inventory_nic *in;
  struct nic_record *nic;
  char mac[18];
  size_t i;

  for (i = 0; i < f->inv.n_nics; i++) {
    in = &f->inv.nics[i];
    if (!net_name_is_valid (in->name)) {
      fixup_warn (f, "inventory: NIC '%s': not a usable interface name",
                  in->name);
      continue;
    }
    nic = add_nic (f, in->name);
    if (nic == NULL)
      return -1;
    nic->in_inventory = true;
    if (in->driver && nic->driver == NULL
        && (nic->driver = strdup (in->driver)) == NULL)
      return error ("out of memory");
    if (in->mac == NULL || net_mac_normalize (in->mac, mac) == -1)
      continue;
    free (nic->mac);
    nic->mac = strdup (mac);
    if (nic->mac == NULL)
      return error ("out of memory");
    nic->mac_from = MAC_FROM_INVENTORY;
  }
  return 0;
}

/* Does a NIC of the map other than SELF, or one of the inventory, have
 * the (normalised) MAC?
 */
static bool
mac_taken (const struct fixup *f, const struct nic_record *self,
           const char *mac)
{
  char norm[NET_MAC_SIZE];
  size_t i;

  for (i = 0; i < f->n_nics; i++)
    if (&f->nics[i] != self && f->nics[i].mac
        && strcmp (f->nics[i].mac, mac) == 0)
      return true;
  for (i = 0; i < f->inv.n_nics; i++)
    if (f->inv.nics[i].mac && net_mac_normalize (f->inv.nics[i].mac, norm) == 0
        && strcmp (norm, mac) == 0)
      return true;
  return false;
}

/* Read the pin file PATH, if there is one, with SCAN into REFS.  A file
 * that cannot be scanned is no pin (a warning).
 */
static int
read_pin (struct fixup *f, const char *path, scan_fn *scan,
          struct net_refs *refs)
{
  char *buf = NULL;
  size_t len;

  if (!guest_is_file (f, path))
    return 0;
  if (guest_read (f, path, &buf, &len) == -1)
    return -1;
  if (scan (buf, len, refs) == -1)
    fixup_warn (f, "%s: not read: %s", path, error_message ());
  free (buf);
  return 0;
}

/* Give NIC the MAC that the pin file PATH gives it, if any and if no
 * other NIC has that MAC now.
 */
static int
take_pin (struct fixup *f, struct nic_record *nic, const char *path,
          const struct net_refs *refs)
{
  const struct net_ref *ref = net_refs_find (refs, nic->name);

  if (ref == NULL || ref->mac == NULL)
    return 0;
  if (mac_taken (f, nic, ref->mac)) {
    fixup_warn (f, "%s: %s pins it to %s, which another NIC has now: not kept",
                nic->name, path, ref->mac);
    return 0;
  }
  nic->mac = strdup (ref->mac);
  if (nic->mac == NULL)
    return error ("out of memory");
  nic->mac_from = MAC_FROM_CONFIG;
  return add_config (nic, path);
}

/* The .link file that pins NAME: caller frees; NULL with an error
 * recorded.
 */
static char *
link_path (const char *name)
{
  char *path;

  if (asprintf (&path, "%s/%s%s%s", LINK_DIR, LINK_PREFIX, name, LINK_SUFFIX)
      == -1) {
    error ("out of memory");
    return NULL;
  }
  return path;
}

/* The MACs that an earlier run pinned, for the NICs that have none now:
 * our .link files, or our udev rules (whichever this guest uses).  Only
 * for NICs already in the map: the pins of a NIC that left the
 * configuration go (pin_with_links, pin_with_udev_rules).
 */
static int
read_old_pins (struct fixup *f)
{
  struct net_refs refs = { 0 };
  struct nic_record *nic;
  char *path = NULL;
  size_t i;
  int ret = -1;

  if (!f->systemd_udev
      && read_pin (f, UDEV_RULES, net_scan_udev_rules, &refs) == -1)
    goto out;
  for (i = 0; i < f->n_nics; i++) {
    nic = &f->nics[i];
    if (nic->mac != NULL)
      continue;
    if (!f->systemd_udev) {
      if (take_pin (f, nic, UDEV_RULES, &refs) == -1)
        goto out;
      continue;
    }
    path = link_path (nic->name);
    if (path == NULL)
      goto out;
    if (read_pin (f, path, net_scan_networkd, &refs) == -1
        || take_pin (f, nic, path, &refs) == -1)
      goto out;
    net_refs_free (&refs);
    free (path);
    path = NULL;
  }
  ret = 0;
out:
  net_refs_free (&refs);
  free (path);
  return ret;
}

/* --new-macs: a new MAC for each NIC that has none and that the
 * inventory does not list, different from every MAC known.
 */
static int
give_new_macs (struct fixup *f)
{
  struct nic_record *nic;
  char mac[NET_MAC_SIZE];
  size_t i, tries;

  for (i = 0; i < f->n_nics; i++) {
    nic = &f->nics[i];
    if (nic->mac != NULL || nic->in_inventory)
      continue;
    for (tries = 0;; tries++) {
      if (tries == NEW_MAC_TRIES)
        return error ("%s: no new MAC unlike the others in %d draws", nic->name,
                      NEW_MAC_TRIES);
      if (net_mac_random (mac) == -1)
        return error_prefix ("%s: new MAC", nic->name);
      if (!mac_taken (f, nic, mac))
        break;
    }
    nic->mac = strdup (mac);
    if (nic->mac == NULL)
      return error ("out of memory");
    nic->mac_from = MAC_GENERATED;
  }
  return 0;
}

/* Pin each NIC with a MAC; remove the pins of ours that are no longer
 * wanted (a NIC that left since an earlier run).
 */
static int
pin_with_links (struct fixup *f)
{
  struct nic_record *nic;
  char *path = NULL, *text = NULL, **old;
  size_t i, j, n;
  int ret = -1;

  for (i = 0; i < f->n_nics; i++) {
    nic = &f->nics[i];
    if (nic->mac == NULL)
      continue;
    path = link_path (nic->name);
    if (path == NULL)
      goto out;
    if (net_link_file (nic->name, nic->mac, &text) == -1
        || guest_set_file (f, path, text, GUEST_CONFIG_MODE) == -1)
      goto out;
    nic->pinned = path;
    path = NULL;
    free (text);
    text = NULL;
  }

  if (guest_list (f, LINK_DIR, LINK_SUFFIX, &old, &n) == -1)
    goto out;
  for (j = 0; j < n; j++) {
    bool wanted = !has_prefix (old[j], LINK_PREFIX);

    for (i = 0; i < f->n_nics && !wanted; i++)
      wanted = f->nics[i].pinned && strcmp (f->nics[i].pinned, old[j]) == 0;
    if (!wanted && guest_remove (f, old[j]) == -1) {
      free_list (old, n);
      goto out;
    }
  }
  free_list (old, n);
  ret = 0;
out:
  free (path);
  free (text);
  return ret;
}

static int
pin_with_udev_rules (struct fixup *f)
{
  struct net_ref *refs;
  char *text = NULL;
  size_t i, n = 0;
  int ret = -1;

  refs = calloc (f->n_nics + 1, sizeof *refs);
  if (refs == NULL)
    return error ("out of memory");
  for (i = 0; i < f->n_nics; i++)
    if (f->nics[i].mac) {
      refs[n].name = f->nics[i].name;
      refs[n].mac = f->nics[i].mac;
      n++;
    }
  if (n == 0) {
    ret = guest_set_file (f, UDEV_RULES, NULL, GUEST_CONFIG_MODE);
    goto out;
  }
  if (net_udev_rules (refs, n, &text) == -1
      || guest_set_file (f, UDEV_RULES, text, GUEST_CONFIG_MODE) == -1)
    goto out;
  for (i = 0; i < f->n_nics; i++)
    if (f->nics[i].mac && (f->nics[i].pinned = strdup (UDEV_RULES)) == NULL) {
      error ("out of memory");
      goto out;
    }
  ret = 0;
out:
  free (text);
  free (refs);
  return ret;
}

static int
fix_xorg (struct fixup *f)
{
  char **paths;
  size_t i, n;
  int ret = 0;

  if (guest_edit (f, "/etc/X11/xorg.conf", xorg_remove_drivers) == -1)
    return -1;
  if (guest_list (f, "/etc/X11/xorg.conf.d", ".conf", &paths, &n) == -1)
    return -1;
  for (i = 0; i < n && ret == 0; i++)
    ret = guest_edit (f, paths[i], xorg_remove_drivers);
  free_list (paths, n);
  return ret;
}

int
nics_fixup (struct fixup *f)
{
  struct nic_record *nic;
  size_t i;

  fixup_step (f, "Recording the network interfaces%s",
              f->dhcp ? " and switching them to DHCP" : "");
  if (scan_configs (f) == -1 || add_inventory_nics (f) == -1
      || read_old_pins (f) == -1 || (f->new_macs && give_new_macs (f) == -1))
    return -1;
  for (i = 0; i < f->n_nics; i++) {
    nic = &f->nics[i];
    if (f->have_inventory && !nic->in_inventory)
      fixup_warn (f,
                  "%s is configured in %s but the source machine had no "
                  "such NIC",
                  nic->name, nic->configs[0]);
    if (nic->mac == NULL)
      fixup_warn (f,
                  "%s: no MAC known (none in the inventory or the "
                  "configuration), so its name is not pinned%s",
                  nic->name,
                  f->new_macs ? " (--new-macs makes none for a NIC of the "
                                "source machine's inventory)"
                              : "");
  }
  if ((f->systemd_udev ? pin_with_links (f) : pin_with_udev_rules (f)) == -1)
    return -1;
  for (i = 0; i < f->n_nics; i++) {
    nic = &f->nics[i];
    if (nic->pinned)
      fixup_step (f, "%s pinned to %s (%s%s)", nic->name, nic->mac,
                  nic->mac_from == MAC_GENERATED ? "a new MAC; " : "",
                  nic->pinned);
  }
  if (!f->keep_xorg && fix_xorg (f) == -1)
    return -1;
  return 0;
}
