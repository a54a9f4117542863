/* p2v-fixup: the report (--report FILE), as templates/fixup-report.md
 * describes it and templates/fixup-report.rng checks it.
 *
 * Texts from the guest's files (the lines changed) are bytes, not
 * necessarily UTF-8: a byte that is not part of valid UTF-8, or a control
 * character, is written as U+FFFD so that the document stays well formed.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/chvalid.h>
#include <libxml/xmlwriter.h>

#include "error.h"
#include "file.h"
#include "p2v-fixup.h"

#define REPORT_VERSION "1"

/* S as valid XML character data: invalid UTF-8 and control characters
 * become U+FFFD.  Caller frees.
 */
static char *
clean_text (const char *s)
{
  size_t len = strlen (s), i = 0, used = 0;
  char *out = malloc (len * 3 + 1);

  if (out == NULL)
    return NULL;
  while (i < len) {
    int n = len - i > INT_MAX ? INT_MAX : (int) (len - i);
    int c = xmlGetUTF8Char ((const unsigned char *) s + i, &n);

    if (c < 0 || n <= 0 || !xmlIsCharQ (c)) {
      memcpy (out + used, "\xef\xbf\xbd", 3);
      used += 3;
      i++;
      continue;
    }
    memcpy (out + used, s + i, n);
    used += n;
    i += n;
  }
  out[used] = '\0';
  return out;
}

static int
attr (xmlTextWriterPtr w, const char *name, const char *value)
{
  char *clean;
  int r;

  if (value == NULL)
    return 0;
  clean = clean_text (value);
  if (clean == NULL)
    return -1;
  r = xmlTextWriterWriteAttribute (w, BAD_CAST name, BAD_CAST clean);
  free (clean);
  return r < 0 ? -1 : 0;
}

static int
element_text (xmlTextWriterPtr w, const char *name, const char *text)
{
  char *clean = clean_text (text);
  int r;

  if (clean == NULL)
    return -1;
  r = xmlTextWriterWriteElement (w, BAD_CAST name, BAD_CAST clean);
  free (clean);
  return r < 0 ? -1 : 0;
}

static const char *
action_name (enum file_action a)
{
  switch (a) {
  case FILE_CREATED:
    return "created";
  case FILE_DELETED:
    return "deleted";
  default:
    return "changed";
  }
}

static const char *
rebuild_name (enum rebuild_status s)
{
  switch (s) {
  case REBUILD_YES:
    return "yes";
  case REBUILD_SKIPPED:
    return "skipped";
  default:
    return "no";
  }
}

static const char *
mac_source_name (enum mac_source s)
{
  switch (s) {
  case MAC_FROM_INVENTORY:
    return "inventory";
  case MAC_FROM_CONFIG:
    return "config";
  case MAC_GENERATED:
    return "generated";
  default:
    return "none";
  }
}

/* The log's entries about PATH. */
static int
write_file_entries (xmlTextWriterPtr w, const struct fixup *f, const char *path)
{
  const struct rewrite_log_entry *e;
  char line[32];
  size_t i;

  for (i = 0; i < f->log.n; i++) {
    e = &f->log.entries[i];
    if (e->file == NULL || strcmp (e->file, path) != 0)
      continue;
    snprintf (line, sizeof line, "%zu", e->line);
    if (e->kind == REWRITE_CHANGE) {
      if (xmlTextWriterStartElement (w, BAD_CAST "change") < 0
          || attr (w, "line", line) == -1
          || element_text (w, "old", e->old_text) == -1
          || element_text (w, "new", e->new_text) == -1
          || xmlTextWriterEndElement (w) < 0)
        return -1;
    }
    else if (xmlTextWriterStartElement (w, BAD_CAST "warning") < 0
             || attr (w, "line", line) == -1
             || xmlTextWriterWriteString (w, BAD_CAST e->message) < 0
             || xmlTextWriterEndElement (w) < 0)
      return -1;
  }
  return 0;
}

/* Files with only warnings (nothing changed) are reported too. */
static bool
file_noted (const struct fixup *f, const char *path)
{
  size_t i;

  for (i = 0; i < f->n_files; i++)
    if (strcmp (f->files[i].path, path) == 0)
      return true;
  return false;
}

static int
write_files (xmlTextWriterPtr w, const struct fixup *f)
{
  const char *last = NULL;
  size_t i;

  if (xmlTextWriterStartElement (w, BAD_CAST "files") < 0)
    return -1;
  for (i = 0; i < f->n_files; i++) {
    if (xmlTextWriterStartElement (w, BAD_CAST "file") < 0
        || attr (w, "path", f->files[i].path) == -1
        || attr (w, "action", action_name (f->files[i].action)) == -1
        || write_file_entries (w, f, f->files[i].path) == -1
        || xmlTextWriterEndElement (w) < 0)
      return -1;
  }
  for (i = 0; i < f->log.n; i++) {
    const char *file = f->log.entries[i].file;

    if (file == NULL || file_noted (f, file)
        || (last && strcmp (last, file) == 0))
      continue;
    last = file;
    if (xmlTextWriterStartElement (w, BAD_CAST "file") < 0
        || attr (w, "path", file) == -1 || attr (w, "action", "none") == -1
        || write_file_entries (w, f, file) == -1
        || xmlTextWriterEndElement (w) < 0)
      return -1;
  }
  return xmlTextWriterEndElement (w) < 0 ? -1 : 0;
}

static int
write_kernels (xmlTextWriterPtr w, const struct fixup *f)
{
  const struct kernel_record *k;
  char seconds[32];
  size_t i;

  if (xmlTextWriterStartElement (w, BAD_CAST "kernels") < 0)
    return -1;
  for (i = 0; i < f->n_kernels; i++) {
    k = &f->kernels[i];
    snprintf (seconds, sizeof seconds, "%.1f", k->seconds);
    if (xmlTextWriterStartElement (w, BAD_CAST "kernel") < 0
        || attr (w, "version", k->version) == -1
        || attr (w, "initramfs", k->initramfs) == -1
        || attr (w, "virtio", k->missing ? "no" : "yes") == -1
        || attr (w, "missing", k->missing) == -1
        || attr (w, "rebuilt", rebuild_name (k->rebuilt)) == -1
        || (k->rebuilt == REBUILD_YES && attr (w, "seconds", seconds) == -1)
        || xmlTextWriterEndElement (w) < 0)
      return -1;
  }
  return xmlTextWriterEndElement (w) < 0 ? -1 : 0;
}

static int
write_nics (xmlTextWriterPtr w, const struct fixup *f)
{
  const struct nic_record *nic;
  size_t i, j;

  if (xmlTextWriterStartElement (w, BAD_CAST "nics") < 0)
    return -1;
  for (i = 0; i < f->n_nics; i++) {
    nic = &f->nics[i];
    if (xmlTextWriterStartElement (w, BAD_CAST "nic") < 0
        || attr (w, "name", nic->name) == -1 || attr (w, "mac", nic->mac) == -1
        || attr (w, "driver", nic->driver) == -1
        || attr (w, "mac-from", mac_source_name (nic->mac_from)) == -1
        || attr (w, "in-inventory", nic->in_inventory ? "yes" : "no") == -1
        || attr (w, "pinned", nic->pinned) == -1)
      return -1;
    for (j = 0; j < nic->n_configs; j++)
      if (xmlTextWriterStartElement (w, BAD_CAST "config") < 0
          || attr (w, "file", nic->configs[j]) == -1
          || xmlTextWriterEndElement (w) < 0)
        return -1;
    if (xmlTextWriterEndElement (w) < 0)
      return -1;
  }
  return xmlTextWriterEndElement (w) < 0 ? -1 : 0;
}

static int
write_document (xmlTextWriterPtr w, const struct fixup *f)
{
  char num[32];
  size_t i;

  if (xmlTextWriterSetIndent (w, 1) < 0
      || xmlTextWriterSetIndentString (w, BAD_CAST "  ") < 0
      || xmlTextWriterStartDocument (w, NULL, "UTF-8", NULL) < 0
      || xmlTextWriterStartElement (w, BAD_CAST "fixup-report") < 0
      || attr (w, "version", REPORT_VERSION) == -1
      || attr (w, "program", "p2v-fixup " P2V_VERSION) == -1
      || attr (w, "target", target_name (f->target)) == -1
      || attr (w, "network", f->dhcp ? "dhcp" : "keep") == -1
      || attr (w, "dry-run", f->dry_run ? "yes" : "no") == -1)
    return -1;

  snprintf (num, sizeof num, "%d.%d", f->major, f->minor);
  if (xmlTextWriterStartElement (w, BAD_CAST "guest") < 0
      || attr (w, "root", f->root) == -1 || attr (w, "type", f->type) == -1
      || attr (w, "distro", f->distro) == -1 || attr (w, "version", num) == -1
      || attr (w, "product", f->product) == -1
      || attr (w, "hostname", f->hostname) == -1
      || attr (w, "arch", f->arch) == -1
      || attr (w, "initramfs-tool", tool_name (f->tool)) == -1
      || attr (w, "nic-pinning",
               f->systemd_udev ? "systemd-link" : "udev-rules")
        == -1
      || xmlTextWriterEndElement (w) < 0)
    return -1;

  if (xmlTextWriterStartElement (w, BAD_CAST "disks") < 0)
    return -1;
  for (i = 0; i < f->n_images; i++) {
    char *abs = realpath (f->images[i], NULL);
    int r;

    snprintf (num, sizeof num, "%zu", i);
    r = xmlTextWriterStartElement (w, BAD_CAST "disk") < 0
      || attr (w, "index", num) == -1
      || attr (w, "image", abs ? abs : f->images[i]) == -1
      || attr (w, "format", f->formats ? f->formats[i] : NULL) == -1
      || xmlTextWriterEndElement (w) < 0;
    free (abs);
    if (r)
      return -1;
  }
  if (xmlTextWriterEndElement (w) < 0)
    return -1;

  if (write_files (w, f) == -1 || write_kernels (w, f) == -1
      || write_nics (w, f) == -1)
    return -1;

  if (xmlTextWriterStartElement (w, BAD_CAST "warnings") < 0)
    return -1;
  for (i = 0; i < f->n_warnings; i++)
    if (element_text (w, "warning", f->warnings[i]) == -1)
      return -1;
  if (f->log.n_dropped) {
    snprintf (num, sizeof num, "%zu", f->log.n_dropped);
    if (xmlTextWriterStartElement (w, BAD_CAST "warning") < 0
        || xmlTextWriterWriteFormatString (
             w, "%s more changes and warnings not listed", num)
          < 0
        || xmlTextWriterEndElement (w) < 0)
      return -1;
  }
  if (xmlTextWriterEndElement (w) < 0 || xmlTextWriterEndElement (w) < 0
      || xmlTextWriterEndDocument (w) < 0)
    return -1;
  return 0;
}

int
report_write (struct fixup *f)
{
  struct sink_options opts = { .force = f->cli->force, .sync = true };
  xmlBufferPtr buf = NULL;
  xmlTextWriterPtr w = NULL;
  char *final = NULL, *tmp = NULL;
  int fd = -1, ret = -1;

  if (f->report_path == NULL)
    return 0;
  buf = xmlBufferCreate ();
  if (buf == NULL || (w = xmlNewTextWriterMemory (buf, 0)) == NULL) {
    error ("out of memory");
    goto out;
  }
  if (write_document (w, f) == -1) {
    error ("--report: cannot build the XML");
    goto out;
  }
  xmlFreeTextWriter (w);
  w = NULL;

  if (strcmp (f->report_path, "-") == 0) {
    if (fwrite (xmlBufferContent (buf), 1, xmlBufferLength (buf), stdout)
          != (size_t) xmlBufferLength (buf)
        || fflush (stdout) == EOF) {
      error_errno (errno, "--report: stdout");
      goto out;
    }
    ret = 0;
    goto out;
  }
  fd = file_create_temp (f->report_path, f->cli->force, &final, &tmp);
  if (fd == -1) {
    error_prefix ("--report");
    goto out;
  }
  if (file_pwrite_all (fd, xmlBufferContent (buf), xmlBufferLength (buf), 0)
      == -1) {
    error_prefix ("--report: %s", tmp);
    close (fd);
    unlink (tmp);
    goto out;
  }
  if (file_commit (fd, tmp, final, &opts) == -1) {
    error_prefix ("--report");
    unlink (tmp);
    goto out;
  }
  fixup_step (f, "Report written to %s", f->report_path);
  ret = 0;
out:
  if (w)
    xmlFreeTextWriter (w);
  if (buf)
    xmlBufferFree (buf);
  free (final);
  free (tmp);
  return ret;
}
