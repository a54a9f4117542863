/* p2vkit: the inventory's RELAX NG schema, built into the program.
 *
 * The assembler copies templates/inventory.rng (INVENTORY_SCHEMA_FILE,
 * an absolute path given by the Makefile) into read-only data, followed
 * by a NUL, so that a program never depends on finding the file at run
 * time and no generated source file is needed.
 */
#include "inventory.h"

#ifndef INVENTORY_SCHEMA_FILE
#error "INVENTORY_SCHEMA_FILE must name templates/inventory.rng"
#endif

/* clang-format off */
__asm__ (
  "  .section .rodata\n"
  "  .globl p2v_inventory_schema_start\n"
  "  .hidden p2v_inventory_schema_start\n"
  "  .globl p2v_inventory_schema_end\n"
  "  .hidden p2v_inventory_schema_end\n"
  "p2v_inventory_schema_start:\n"
  "  .incbin \"" INVENTORY_SCHEMA_FILE "\"\n"
  "p2v_inventory_schema_end:\n"
  "  .byte 0\n"
  "  .previous\n");
/* clang-format on */

extern const char p2v_inventory_schema_start[];
extern const char p2v_inventory_schema_end[];

const char *
inventory_schema (size_t *len)
{
  if (len)
    *len = p2v_inventory_schema_end - p2v_inventory_schema_start;
  return p2v_inventory_schema_start;
}
