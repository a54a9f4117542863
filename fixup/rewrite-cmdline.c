/* p2vkit fixup: kernel command lines, on their own and in a generated GRUB
 * configuration (see rewrite.h).
 */
#include "rewrite-internal.h"

#include <string.h>

/* The commands of GRUB's script (and GRUB legacy's menu.lst) whose
 * arguments, after the kernel's file name, are a kernel command line.
 */
static const char *const kernel_commands[] = {
  "linux", "linux16", "linuxefi", "kernel", "module", "module2",
};

int
rewrite_cmdline (const char *in, size_t len, const struct devmap *map,
                 char **out, size_t *out_len, struct rewrite_log *log)
{
  struct scan s;
  int ret = -1;

  if (scan_init (&s, in, len, map, false) == -1)
    goto out;
  if (scan_cmdline_words (&s, 0, len, "\"") == -1)
    goto out;
  ret = scan_finish (&s, out, out_len, log);
out:
  scan_free (&s);
  return ret;
}

/* Is IN[START, END) a command that loads a kernel?  Then set *ARGS to the
 * start of its arguments.
 */
static bool
is_kernel_command (const char *in, size_t start, size_t end, size_t *args)
{
  size_t i = start, word, k;

  while (i < end && is_blank (in[i]))
    i++;
  word = i;
  while (i < end && !is_blank (in[i]))
    i++;
  for (k = 0; k < sizeof kernel_commands / sizeof kernel_commands[0]; k++)
    if (strlen (kernel_commands[k]) == i - word
        && memcmp (in + word, kernel_commands[k], i - word) == 0) {
      *args = i;
      return true;
    }
  return false;
}

int
rewrite_grub_cfg (const char *in, size_t len, const struct devmap *map,
                  char **out, size_t *out_len, struct rewrite_log *log)
{
  struct scan s;
  size_t pos = 0, start, end, args;
  int ret = -1;

  if (scan_init (&s, in, len, map, false) == -1)
    goto out;
  while (next_line (in, len, &pos, &start, &end))
    if (is_kernel_command (in, start, end, &args)
        && scan_cmdline_words (&s, args, end, "\"'") == -1)
      goto out;
  ret = scan_finish (&s, out, out_len, log);
out:
  scan_free (&s);
  return ret;
}
