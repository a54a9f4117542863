/* p2vkit: reading XML that anyone may have written (see xml-read.h). */
#include "xml-read.h"

#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

void
xml_keep_first_error (void *data, xmlErrorPtr err)
{
  char *msg = data, *p;

  if (msg[0] != '\0' || err == NULL || err->message == NULL)
    return;
  if (err->line > 0)
    snprintf (msg, XML_MESSAGE_MAX, "line %d: %s", err->line, err->message);
  else
    snprintf (msg, XML_MESSAGE_MAX, "%s", err->message);
  for (p = msg; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  while (p > msg && p[-1] == ' ')
    *--p = '\0';
}

/* The SAX callbacks that see a DTD: stop the parser there. */
static void
refuse_dtd (void *ctx, const xmlChar *name, const xmlChar *external_id,
            const xmlChar *system_id)
{
  xmlParserCtxtPtr ctxt = ctx;

  (void) name;
  (void) external_id;
  (void) system_id;
  *(bool *) ctxt->_private = true;
  xmlStopParser (ctxt);
}

static void
refuse_entity (void *ctx, const xmlChar *name, int type,
               const xmlChar *public_id, const xmlChar *system_id,
               xmlChar *content)
{
  (void) type;
  (void) content;
  refuse_dtd (ctx, name, public_id, system_id);
}

xmlDocPtr
xml_read_untrusted (const char *buf, size_t len, const char *what, int options)
{
  char msg[XML_MESSAGE_MAX] = "";
  xmlParserCtxtPtr ctxt;
  xmlDocPtr doc;
  bool dtd = false;

  if (len > INT_MAX) {
    error ("%s: too large", what);
    return NULL;
  }
  ctxt = xmlNewParserCtxt ();
  if (ctxt == NULL || ctxt->sax == NULL) {
    if (ctxt)
      xmlFreeParserCtxt (ctxt);
    error ("out of memory");
    return NULL;
  }
  ctxt->_private = &dtd;
  ctxt->sax->internalSubset = refuse_dtd;
  ctxt->sax->externalSubset = refuse_dtd;
  ctxt->sax->entityDecl = refuse_entity;
  /* No XML_PARSE_NOENT (entities are not substituted), no DTDLOAD or
   * DTDATTR (nothing is loaded), no HUGE (libxml2's limits on depth and
   * text sizes stay).  The URL only names the document in messages.
   */
  doc = xmlCtxtReadMemory (ctxt, buf, (int) len, what, "UTF-8",
                           XML_PARSE_NONET | XML_PARSE_NOERROR
                             | XML_PARSE_NOWARNING | options);
  xml_keep_first_error (msg, xmlCtxtGetLastError (ctxt));
  xmlFreeParserCtxt (ctxt);
  if (dtd) {
    if (doc)
      xmlFreeDoc (doc);
    error ("%s: has a DTD (<!DOCTYPE>): not allowed", what);
    return NULL;
  }
  if (doc == NULL)
    error ("%s: not well-formed XML: %s", what, msg[0] ? msg : "empty");
  return doc;
}

/* Compile SCHEMA, once; called with its lock held. */
static void
compile (struct xml_schema *schema)
{
  xmlRelaxNGParserCtxtPtr ctxt;
  const char *text;
  size_t len;

  schema->compiled = true;
  text = schema->text (&len);
  xmlInitParser ();
  ctxt = xmlRelaxNGNewMemParserCtxt (text, (int) len);
  if (ctxt == NULL) {
    snprintf (schema->message, sizeof schema->message, "out of memory");
    return;
  }
  xmlRelaxNGSetParserStructuredErrors (ctxt, xml_keep_first_error,
                                       schema->message);
  schema->rng = xmlRelaxNGParse (ctxt);
  xmlRelaxNGFreeParserCtxt (ctxt);
}

int
xml_validate (struct xml_schema *schema, xmlDocPtr doc, const char *what)
{
  char msg[XML_MESSAGE_MAX] = "";
  xmlRelaxNGValidCtxtPtr ctxt;
  int r, ret = -1;

  pthread_mutex_lock (&schema->lock);
  if (!schema->compiled)
    compile (schema);
  if (schema->rng == NULL) {
    error ("%s: the built-in schema does not compile: %s", what,
           schema->message);
    goto out;
  }
  ctxt = xmlRelaxNGNewValidCtxt (schema->rng);
  if (ctxt == NULL) {
    error ("out of memory");
    goto out;
  }
  xmlRelaxNGSetValidStructuredErrors (ctxt, xml_keep_first_error, msg);
  r = xmlRelaxNGValidateDoc (ctxt, doc);
  xmlRelaxNGFreeValidCtxt (ctxt);
  if (r != 0) {
    error ("%s: does not match the schema: %s", what, msg[0] ? msg : "invalid");
    goto out;
  }
  ret = 0;
out:
  pthread_mutex_unlock (&schema->lock);
  return ret;
}

int
xml_read_file (const char *path, size_t max, const char *what, char **buf,
               size_t *len)
{
  char *b = NULL;
  size_t n = 0;
  ssize_t r;
  int fd, ret = -1;

  *buf = NULL;
  *len = 0;
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd == -1)
    return error_errno (errno, "%s: %s", what, path);
  b = malloc (max + 1);
  if (b == NULL) {
    error ("out of memory");
    goto out;
  }
  /* One byte more than MAX tells a file that is too large. */
  while ((r = read (fd, b + n, max + 1 - n)) != 0) {
    if (r == -1) {
      if (errno == EINTR)
        continue;
      error_errno (errno, "%s: %s", what, path);
      goto out;
    }
    n += r;
    if (n > max) {
      error ("%s: %s: larger than %zu bytes", what, path, max);
      goto out;
    }
  }
  b[n] = '\0';
  *buf = b;
  *len = n;
  b = NULL;
  ret = 0;
out:
  close (fd);
  free (b);
  return ret;
}

bool
xml_is_element (xmlNodePtr node, const char *name)
{
  return node->type == XML_ELEMENT_NODE
    && strcmp ((const char *) node->name, name) == 0;
}

xmlNodePtr
xml_child (xmlNodePtr node, const char *name)
{
  xmlNodePtr c;

  for (c = node->children; c; c = c->next)
    if (xml_is_element (c, name))
      return c;
  return NULL;
}
