/* libFuzzer target for the inventory parser (p2v/common/inventory-xml.c).
 *
 * The input is an inventory.xml as a sender might send it.  It is given
 * to inventory_parse_xml(), and the contract checked: a failure leaves one
 * line of message and an all-zero struct; a success passes
 * inventory_check() and comes back from inventory_to_xml() as a document
 * that parses again to the same XML (nothing accepted is lost or changed
 * by a round trip).
 *
 *   make tests/fuzz/fuzz-inventory
 *   tests/fuzz/fuzz-inventory -max_len=65536 tests/fuzz/fuzz-inventory-corpus
 */
#include "inventory.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "inventory-internal.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Stop the fuzzer on a broken contract: that is a bug to report. */
static void
broken (const char *what)
{
  fprintf (stderr, "fuzz-inventory: contract broken: %s (%s)\n", what,
           error_message ());
  abort ();
}

static void
check_error (const struct inventory *inv)
{
  static const struct inventory zero;
  const char *msg = error_message ();

  if (msg[0] == '\0' || strchr (msg, '\n') != NULL)
    broken ("error message empty or not one line");
  if (memcmp (inv, &zero, sizeof zero) != 0)
    broken ("a failed parse left something in the struct");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct inventory inv = { 0 }, again = { 0 };
  char *xml = NULL, *xml2 = NULL;
  size_t len, len2;

  error_set_message ("");
  if (inventory_parse_xml ((const char *) data, size, &inv) == -1) {
    check_error (&inv);
    return 0;
  }
  if (inventory_check (&inv) == -1)
    broken ("accepted an inventory that inventory_check() refuses");
  xml = inventory_to_xml (&inv, &len);
  if (xml == NULL)
    broken ("cannot write what was accepted");
  if (inventory_parse_xml (xml, len, &again) == -1)
    broken ("cannot read back what was written");
  xml2 = inventory_to_xml (&again, &len2);
  if (xml2 == NULL || len2 != len || memcmp (xml, xml2, len) != 0)
    broken ("a round trip changed the inventory");

  free (xml);
  free (xml2);
  inventory_free (&inv);
  inventory_free (&again);
  return 0;
}
