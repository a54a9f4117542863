/* p2vkit fixup: pinning interface names to MACs, with a systemd .link file
 * or udev rules (see net.h).
 */
#include "net-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"

#define LINK_COMMENT                                                           \
  "# Written by p2v-fixup: this NIC keeps the name it had on the source "      \
  "machine.\n"

#define RULES_COMMENT                                                          \
  "# Written by p2v-fixup: these NICs keep the names they had on the source "  \
  "machine.\n"

/* A rule: the MAC, then the name. */
#define RULE_FORMAT                                                            \
  "SUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"?*\", "                     \
  "ATTR{address}==\"%s\", ATTR{type}==\"1\", NAME=\"%s\"\n"

/* Check NAME and MAC, and normalise MAC into NORM. */
static int
check_nic (const char *name, const char *mac, char norm[NET_MAC_SIZE])
{
  char buf[SHOW_SIZE];

  if (name == NULL || !net_name_is_valid (name))
    return error ("'%s': not a valid interface name",
                  name ? show (name, strlen (name), buf) : "");
  if (mac == NULL)
    return error ("%s: no MAC address", name);
  if (net_mac_normalize (mac, norm) == -1)
    return error_prefix ("%s", name);
  return 0;
}

int
net_link_file (const char *name, const char *mac, char **out)
{
  char norm[NET_MAC_SIZE], *text;

  if (check_nic (name, mac, norm) == -1)
    return -1;
  if (asprintf (&text,
                LINK_COMMENT "[Match]\n"
                             "MACAddress=%s\n"
                             "Type=ether\n"
                             "\n"
                             "[Link]\n"
                             "Name=%s\n",
                norm, name)
      == -1)
    return error_errno (errno, "link file");
  *out = text;
  return 0;
}

int
net_udev_rules (const struct net_ref *refs, size_t n, char **out)
{
  char (*macs)[NET_MAC_SIZE] = NULL;
  char *text = NULL;
  size_t i, j, size, pos;
  int ret = -1;

  if (n > NET_REFS_MAX)
    return error ("udev rules: %zu interfaces, the limit is %d", n,
                  NET_REFS_MAX);
  if (n > 0 && (macs = malloc (n * sizeof *macs)) == NULL)
    return error_errno (errno, "udev rules");
  for (i = 0; i < n; i++) {
    if (check_nic (refs[i].name, refs[i].mac, macs[i]) == -1)
      goto out;
    for (j = 0; j < i; j++) {
      if (strcmp (refs[i].name, refs[j].name) == 0) {
        error ("%s: named twice", refs[i].name);
        goto out;
      }
      if (strcmp (macs[i], macs[j]) == 0) {
        error ("%s and %s: the same MAC %s", refs[j].name, refs[i].name,
               macs[i]);
        goto out;
      }
    }
  }

  /* Each rule is at most the format, a MAC and a name long. */
  size = sizeof RULES_COMMENT
    + n * (sizeof RULE_FORMAT + NET_MAC_SIZE + NET_NAME_MAX);
  text = malloc (size);
  if (text == NULL) {
    error_errno (errno, "udev rules");
    goto out;
  }
  pos = snprintf (text, size, "%s", RULES_COMMENT);
  for (i = 0; i < n; i++)
    pos
      += snprintf (text + pos, size - pos, RULE_FORMAT, macs[i], refs[i].name);
  *out = text;
  text = NULL;
  ret = 0;
out:
  free (text);
  free (macs);
  return ret;
}
