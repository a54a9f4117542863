/* p2vkit: what p2v-domxml reads from p2v-fixup's report (see
 * fixup-report.h).
 */
#include "fixup-report.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "xml-read.h"

static struct xml_schema schema = XML_SCHEMA_INIT (fixup_report_schema);

/* A copy of the attribute NAME of NODE into *OUT (caller frees); NULL
 * when it is absent.  The schema has said which are required.
 */
static int
get (xmlNodePtr node, const char *name, char **out)
{
  xmlChar *v = xmlGetNoNsProp (node, BAD_CAST name);

  *out = NULL;
  if (v == NULL)
    return 0;
  *out = strdup ((const char *) v);
  xmlFree (v);
  return *out ? 0 : error ("out of memory");
}

/* Count the children of LIST called NAME and allocate as many elements
 * of SIZE bytes.
 */
static int
alloc_list (xmlNodePtr list, const char *name, size_t size, void **array,
            size_t *n)
{
  xmlNodePtr c;
  size_t count = 0;

  *array = NULL;
  *n = 0;
  for (c = list ? list->children : NULL; c; c = c->next)
    count += xml_is_element (c, name);
  if (count == 0)
    return 0;
  *array = calloc (count, size);
  return *array ? 0 : error ("out of memory");
}

static int
read_report (xmlNodePtr root, struct fixup_report *r)
{
  xmlNodePtr kernels, nics, c;
  void *array;
  char *virtio;

  kernels = xml_child (root, "kernels");
  nics = xml_child (root, "nics");
  if (alloc_list (kernels, "kernel", sizeof *r->kernels, &array, &r->n_kernels)
      == -1)
    return -1;
  r->kernels = array;
  for (c = kernels ? kernels->children : NULL; c; c = c->next) {
    struct fixup_report_kernel *k = &r->kernels[r->n_kernels];

    if (!xml_is_element (c, "kernel"))
      continue;
    r->n_kernels++;
    if (get (c, "version", &k->version) == -1
        || get (c, "virtio", &virtio) == -1)
      return -1;
    k->virtio = virtio && strcmp (virtio, "yes") == 0;
    free (virtio);
  }

  if (alloc_list (nics, "nic", sizeof *r->nics, &array, &r->n_nics) == -1)
    return -1;
  r->nics = array;
  for (c = nics ? nics->children : NULL; c; c = c->next) {
    struct fixup_report_nic *nic = &r->nics[r->n_nics];

    if (!xml_is_element (c, "nic"))
      continue;
    r->n_nics++;
    if (get (c, "name", &nic->name) == -1 || get (c, "mac", &nic->mac) == -1)
      return -1;
  }
  return 0;
}

int
fixup_report_read_file (const char *path, struct fixup_report *r)
{
  char *buf = NULL, *what = NULL;
  xmlDocPtr doc = NULL;
  size_t len;
  int ret = -1;

  if (asprintf (&what, "--fixup-report: %s", path) == -1) {
    what = NULL;
    return error ("out of memory");
  }
  if (xml_read_file (path, FIXUP_REPORT_MAX, "--fixup-report", &buf, &len)
      == -1)
    goto out;
  doc = xml_read_untrusted (buf, len, what, 0);
  if (doc == NULL || xml_validate (&schema, doc, what) == -1)
    goto out;
  if (read_report (xmlDocGetRootElement (doc), r) == -1) {
    error_prefix ("%s", what);
    goto out;
  }
  ret = 0;
out:
  if (ret == -1)
    fixup_report_free (r);
  if (doc)
    xmlFreeDoc (doc);
  free (buf);
  free (what);
  return ret;
}

bool
fixup_report_virtio (const struct fixup_report *r)
{
  size_t i;

  if (r == NULL || r->n_kernels == 0)
    return true;
  for (i = 0; i < r->n_kernels; i++)
    if (r->kernels[i].virtio)
      return true;
  return false;
}

const char *
fixup_report_mac (const struct fixup_report *r, const char *name)
{
  size_t i;

  for (i = 0; r && i < r->n_nics; i++)
    if (strcmp (r->nics[i].name, name) == 0 && r->nics[i].mac)
      return r->nics[i].mac;
  return NULL;
}

void
fixup_report_free (struct fixup_report *r)
{
  size_t i;

  for (i = 0; i < r->n_kernels; i++)
    free (r->kernels[i].version);
  free (r->kernels);
  for (i = 0; i < r->n_nics; i++) {
    free (r->nics[i].name);
    free (r->nics[i].mac);
  }
  free (r->nics);
  memset (r, 0, sizeof *r);
}
