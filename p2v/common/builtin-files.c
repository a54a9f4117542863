/* p2vkit: files of templates/ built into the programs: the domain
 * template of p2v-domxml (domxml.h) and the fixup report's schema
 * (fixup-report.h).
 *
 * As in inventory-schema.c, the assembler copies each file (an absolute
 * path given by the Makefile) into read-only data, followed by a NUL, so
 * that a program never depends on finding it at run time.
 */
#include "domxml.h"
#include "fixup-report.h"

#if !defined DOMAIN_TEMPLATE_FILE || !defined FIXUP_REPORT_SCHEMA_FILE
#error                                                                         \
  "DOMAIN_TEMPLATE_FILE and FIXUP_REPORT_SCHEMA_FILE must name templates/domain.xml and templates/fixup-report.rng"
#endif

/* clang-format off */
#define BUILTIN_FILE(symbol, file)                                            \
  __asm__ (                                                                   \
    "  .section .rodata\n"                                                    \
    "  .globl " #symbol "_start\n"                                            \
    "  .hidden " #symbol "_start\n"                                           \
    "  .globl " #symbol "_end\n"                                              \
    "  .hidden " #symbol "_end\n"                                             \
    #symbol "_start:\n"                                                       \
    "  .incbin \"" file "\"\n"                                                \
    #symbol "_end:\n"                                                         \
    "  .byte 0\n"                                                             \
    "  .previous\n");                                                         \
  extern const char symbol##_start[];                                         \
  extern const char symbol##_end[];
/* clang-format on */

BUILTIN_FILE (p2v_domain_template, DOMAIN_TEMPLATE_FILE)
BUILTIN_FILE (p2v_fixup_report_schema, FIXUP_REPORT_SCHEMA_FILE)

const char *
domxml_builtin_template (size_t *len)
{
  if (len)
    *len = p2v_domain_template_end - p2v_domain_template_start;
  return p2v_domain_template_start;
}

const char *
fixup_report_schema (size_t *len)
{
  if (len)
    *len = p2v_fixup_report_schema_end - p2v_fixup_report_schema_start;
  return p2v_fixup_report_schema_start;
}
