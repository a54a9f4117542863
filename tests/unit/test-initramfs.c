/* Unit tests of fixup/initramfs.h: finding a module in a kernel's module
 * lists, and setting or removing p2v-fixup's block in a configuration
 * file.  Run by tests/t-fixup-rewrite.sh.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "initramfs.h"

static const char modules_dep[]
  = "kernel/arch/x86/crypto/aesni-intel.ko.xz: "
    "kernel/crypto/crypto_simd.ko.xz\n"
    "kernel/drivers/block/virtio_blk.ko.xz:\n"
    "kernel/drivers/scsi/virtio_scsi.ko.zst: kernel/drivers/scsi/scsi_mod.ko\n"
    "kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko\n"
    "kernel/drivers/virtio/virtio_pci_legacy_dev.ko.xz:\n"
    "kernel/drivers/ata/ahci.ko\n"; /* no ':' : a builtin-style line */

static const char modules_builtin[]
  = "kernel/drivers/virtio/virtio.ko\r\n"
    "kernel/drivers/virtio/virtio-pci.ko"; /* no final newline */

static void
test_module_listed (void)
{
  static const struct {
    const char *name;
    bool in_dep, in_builtin;
  } cases[] = {
    { "virtio_blk", true, false },
    { "virtio_scsi", true, false },
    { "virtio_net", true, false },
    { "virtio-net", true, false },     /* - is _ */
    { "virtio_pci", false, true },     /* not virtio_pci_legacy_dev */
    { "aesni_intel", true, false },
    { "ahci", true, false },
    { "virtio", false, true },         /* CRLF */
    { "crypto_simd", false, false },   /* a dependency, not a module line */
    { "scsi_mod", false, false },
    { "virtio_bl", false, false },     /* a prefix */
    { "blk", false, false },           /* a suffix */
    { "", false, false },
  };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (initramfs_module_listed (modules_dep, strlen (modules_dep),
                                 cases[i].name)
        != cases[i].in_dep)
      check_fail ("modules.dep: '%s': wrong answer", cases[i].name);
    if (initramfs_module_listed (modules_builtin, strlen (modules_builtin),
                                 cases[i].name)
        != cases[i].in_builtin)
      check_fail ("modules.builtin: '%s': wrong answer", cases[i].name);
  }
  CHECK (!initramfs_module_listed ("", 0, "virtio_blk"));
  CHECK (!initramfs_module_listed (NULL, 0, "virtio_blk"));
  CHECK (initramfs_module_listed ("virtio_blk.ko", 13, "virtio_blk"));
  CHECK (!initramfs_module_listed ("virtio_blk.ko", 12, "virtio_blk"));
  CHECK (!initramfs_module_listed ("virtio_blk.kobj", 15, "virtio_blk"));
}

#define BLOCK                                                                  \
  INITRAMFS_BLOCK_BEGIN " (test)\nvirtio_blk\n" INITRAMFS_BLOCK_END "\n"

static void
test_set_block (void)
{
  static const struct {
    const char *in;
    const char *block;
    const char *want;
  } cases[] = {
    { "", BLOCK, BLOCK },
    { "", NULL, "" },
    { "# modules\nloop\n", BLOCK, "# modules\nloop\n" BLOCK },
    { "# modules\nloop", BLOCK, "# modules\nloop\n" BLOCK },
    /* A block already there is replaced, wherever it is. */
    { "a\n" BLOCK "b\n", BLOCK, "a\nb\n" BLOCK },
    { "a\n" BLOCK "b\n", NULL, "a\nb\n" },
    { "a\n# p2vkit: begin\nx\n# p2vkit: end", NULL, "a\n" },
    /* An unterminated block runs to the end. */
    { "a\n# p2vkit: begin\nx\ny\n", NULL, "a\n" },
    /* Markers only count at the start of a line. */
    { " # p2vkit: begin\nz\n", NULL, " # p2vkit: begin\nz\n" },
    { "a\r\n" BLOCK, NULL, "a\r\n" },
  };
  char *out;
  size_t i, out_len;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    out = NULL;
    if (initramfs_set_block (cases[i].in, strlen (cases[i].in), cases[i].block,
                             &out, &out_len)
        == -1) {
      check_fail ("set_block case %zu: failed", i);
      continue;
    }
    if (strcmp (out, cases[i].want) != 0 || out_len != strlen (out))
      check_fail ("set_block case %zu: got '%s', wanted '%s'", i, out,
                  cases[i].want);
    free (out);
  }
  /* A NUL byte is just a byte. */
  CHECK (initramfs_set_block ("a\0b\n", 4, NULL, &out, &out_len) == 0
         && out_len == 4 && memcmp (out, "a\0b\n", 4) == 0);
  free (out);
}

int
main (void)
{
  test_module_listed ();
  test_set_block ();
  return check_exit ();
}
