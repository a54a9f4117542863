/* p2vkit imaging engine: what a Linux swap area leaves unused (see
 * allocmap.h).
 *
 * A swap area's first page is its header (mkswap's: the version, the
 * last page, the bad pages, the UUID and the label) and ends with the
 * signature "SWAPSPACE2"; the pages after it hold only what was swapped
 * out while the system ran, of no use once it is off.  So the header is
 * read and the pages up to the last one it names are not.  An area that
 * holds a hibernation image instead (its signature replaced by one of
 * the kernel's or uswsusp's) is read in full: the image is the system's memory.
 * The header is in the byte order of the machine that made it; only
 * little-endian ones are understood here.
 */
#include "allocmap.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "error.h"

#define SWAP_SIGNATURE "SWAPSPACE2"
#define SWAP_SIGNATURE_LEN 10
#define SWAP_MIN_PAGE 4096
#define SWAP_MAX_PAGE 65536
#define SWAP_OFF_VERSION 1024
#define SWAP_OFF_LAST_PAGE 1028
#define SWAP_VERSION 1

/* Signatures that replace the swap one while a hibernation image is in
 * the area.
 */
static bool
hibernation (const unsigned char *sig)
{
  static const char *const sigs[]
    = { "S1SUSPEND", "S2SUSPEND", "ULSUSPEND", "LINHIB0001" };
  size_t i;

  for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (memcmp (sig, sigs[i], strlen (sigs[i])) == 0)
      return true;
  return false;
}

int
allocmap_swap (struct source *src, uint64_t start, uint64_t length,
               struct allocmap *map, const char **type)
{
  unsigned char page[SWAP_MAX_PAGE];
  uint64_t page_size, last;

  *type = "swap";
  for (page_size = SWAP_MIN_PAGE; page_size <= SWAP_MAX_PAGE; page_size *= 2) {
    const unsigned char *sig;

    if (page_size > length)
      return 0;
    if (src->ops->pread (src, page, page_size, start) == -1)
      return -1;
    sig = page + page_size - SWAP_SIGNATURE_LEN;
    if (hibernation (sig))
      return error ("it holds a hibernation image");
    if (memcmp (sig, SWAP_SIGNATURE, SWAP_SIGNATURE_LEN) != 0)
      continue;
    if (allocmap_le32 (page + SWAP_OFF_VERSION) != SWAP_VERSION)
      return error ("header version %" PRIu32 " not understood",
                    allocmap_le32 (page + SWAP_OFF_VERSION));
    last = allocmap_le32 (page + SWAP_OFF_LAST_PAGE);
    if (last == 0 || last >= length / page_size)
      return error ("its last page %" PRIu64 " is not inside it", last);
    return allocmap_add (map, start + page_size, last * page_size) == -1 ? -1
                                                                         : 1;
  }
  return 0;
}
