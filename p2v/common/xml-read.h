/* p2vkit: reading XML that anyone may have written, with libxml2.
 *
 * The inventory (from the network), the fixup report and the domain
 * template (from the user) are read the same way: the size is bounded
 * before parsing; a document with a DTD is refused as soon as the parser
 * meets it, so no entity is ever declared, expanded or fetched; the
 * network is off; libxml2's own limits on depth and text sizes stay; and
 * a RELAX NG schema built into the program checks the document.  What
 * libxml2 says is kept to one line for the error message.
 *
 * Every function returns 0 (or a pointer) on success and -1 (or NULL)
 * with an error recorded (error.h), prefixed by WHAT ("inventory",
 * "--fixup-report: report.xml").  They may be called from any thread.
 */
#ifndef P2V_XML_READ_H
#define P2V_XML_READ_H

#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* What libxml2 says, kept to one line of this length. */
#define XML_MESSAGE_MAX 256

/* A RELAX NG schema built into the program, compiled on first use.
 * Define one per schema with XML_SCHEMA_INIT (TEXT_FN), TEXT_FN being a
 * function that returns the schema's text and sets its length.
 */
struct xml_schema {
  const char *(*text) (size_t *len);
  pthread_mutex_t lock;         /* libxml2 does not promise that one
                         * compiled schema validates in several
                         * threads at once */
  bool compiled;                /* tried, at least */
  xmlRelaxNGPtr rng;            /* NULL if it did not compile */
  char message[XML_MESSAGE_MAX]; /* why not */
};
#define XML_SCHEMA_INIT(text_fn)                                               \
  {                                                                            \
    .text = (text_fn), .lock = PTHREAD_MUTEX_INITIALIZER                       \
  }

/* Parse LEN bytes at BUF into a tree (caller frees with xmlFreeDoc),
 * refusing any DTD.  OPTIONS are added to libxml2's parser options (0, or
 * XML_PARSE_NOBLANKS to drop the white space between elements).
 */
xmlDocPtr xml_read_untrusted (const char *buf, size_t len, const char *what,
                              int options);

/* Check DOC against SCHEMA. */
int xml_validate (struct xml_schema *schema, xmlDocPtr doc, const char *what);

/* Read the whole file PATH, at most MAX bytes, into *BUF (NUL-terminated,
 * caller frees) and its length into *LEN.  Messages name PATH after WHAT:
 * "--template: my.xml: No such file or directory".
 */
int xml_read_file (const char *path, size_t max, const char *what, char **buf,
                   size_t *len);

/* The structured error handler that keeps the first message of libxml2
 * (DATA is a char[XML_MESSAGE_MAX]), on one line, with its line number.
 */
void xml_keep_first_error (void *data, xmlErrorPtr err);

/* Is NODE an element called NAME? */
bool xml_is_element (xmlNodePtr node, const char *name);

/* The first child element of NODE called NAME, or NULL. */
xmlNodePtr xml_child (xmlNodePtr node, const char *name);

#endif /* P2V_XML_READ_H */
