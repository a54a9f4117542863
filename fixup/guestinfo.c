/* p2vkit fixup: what a Linux guest is, read from its own files
 * (guestinfo.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "guestinfo.h"

/* A value being built, at most GUESTINFO_VALUE_MAX bytes (longer ones are
 * marked too long and dropped).
 */
struct value {
  char buf[GUESTINFO_VALUE_MAX + 1];
  size_t len;
  bool too_long;
};

static void
value_add (struct value *v, char c)
{
  if (v->len < GUESTINFO_VALUE_MAX)
    v->buf[v->len++] = c;
  else
    v->too_long = true;
}

/* The length of IN up to its first NUL: the guest's readers stop there. */
static size_t
text_len (const char *in, size_t len)
{
  const char *nul = in ? memchr (in, '\0', len) : NULL;

  return nul ? (size_t) (nul - in) : in ? len : 0;
}

static int
check_input (size_t len)
{
  if (len > GUESTINFO_INPUT_MAX)
    return error ("%zu bytes, more than a configuration file can be (%d)", len,
                  GUESTINFO_INPUT_MAX);
  return 0;
}

static bool
is_blank (char c)
{
  return c == ' ' || c == '\t' || c == '\r';
}

/* Set *FIELD to a copy of V (replacing what it held). */
static int
keep (char **field, const struct value *v)
{
  char *s = strndup (v->buf, v->len);

  if (s == NULL)
    return error ("out of memory");
  free (*field);
  *field = s;
  return 0;
}

/* The shell's unquoting of the value IN[*POS, END), into V. */
static void
unquote (const char *in, size_t end, size_t pos, struct value *v)
{
  char c;

  while (pos < end) {
    c = in[pos++];
    if (c == '"') {
      while (pos < end && in[pos] != '"') {
        if (in[pos] == '\\' && pos + 1 < end
            && strchr ("\"\\$`", in[pos + 1]) != NULL)
          pos++;
        value_add (v, in[pos++]);
      }
      pos++; /* the closing quote, if any */
    }
    else if (c == '\'') {
      while (pos < end && in[pos] != '\'')
        value_add (v, in[pos++]);
      pos++;
    }
    else if (c == '\\' && pos < end)
      value_add (v, in[pos++]);
    else if (is_blank (c))
      break; /* the end of the word: a comment may follow */
    else
      value_add (v, c);
  }
}

int
guestinfo_os_release (const char *in, size_t len, struct os_release *out)
{
  size_t pos = 0, start, end, key_end;
  struct value *v = NULL;
  char **field;
  int ret = -1;

  memset (out, 0, sizeof *out);
  if (check_input (len) == -1)
    return -1;
  len = text_len (in, len);
  v = malloc (sizeof *v);
  if (v == NULL)
    return error ("out of memory");
  while (pos < len) {
    start = pos;
    while (pos < len && in[pos] != '\n')
      pos++;
    end = pos;
    if (pos < len)
      pos++;
    while (start < end && is_blank (in[start]))
      start++;
    key_end = start;
    while (key_end < end
           && (isalnum ((unsigned char) in[key_end]) || in[key_end] == '_'))
      key_end++;
    if (key_end == start || key_end == end || in[key_end] != '=')
      continue;
#define KEY_IS(k)                                                              \
  (key_end - start == sizeof k - 1                                             \
   && memcmp (in + start, k, key_end - start) == 0)
    if (KEY_IS ("ID"))
      field = &out->id;
    else if (KEY_IS ("PRETTY_NAME"))
      field = &out->pretty_name;
    else if (KEY_IS ("VERSION_ID"))
      field = &out->version_id;
    else
      continue;
#undef KEY_IS
    v->len = 0;
    v->too_long = false;
    unquote (in, end, key_end + 1, v);
    if (v->too_long)
      continue;
    if (keep (field, v) == -1)
      goto out;
  }
  ret = 0;
out:
  if (ret == -1)
    os_release_free (out);
  free (v);
  return ret;
}

void
os_release_free (struct os_release *r)
{
  free (r->id);
  free (r->pretty_name);
  free (r->version_id);
  memset (r, 0, sizeof *r);
}

const char *
guestinfo_distro (const char *id)
{
  /* os-release IDs and libguestfs's names for them (its
   * inspect_get_distro).
   */
  static const struct {
    const char *id;
    const char *distro;
  } distros[] = {
    { "almalinux", "almalinux" },
    { "alpine", "alpinelinux" },
    { "altlinux", "altlinux" },
    { "arch", "archlinux" },
    { "centos", "centos" },
    { "coreos", "coreos" },
    { "debian", "debian" },
    { "fedora", "fedora" },
    { "frugalware", "frugalware" },
    { "kali", "kalilinux" },
    { "mageia", "mageia" },
    { "neokylin", "neokylin" },
    { "ol", "oraclelinux" },
    { "opensuse", "opensuse" },
    { "pld", "pldlinux" },
    { "rhel", "rhel" },
    { "rocky", "rocky" },
    { "sled", "sles" },
    { "sles", "sles" },
    { "ubuntu", "ubuntu" },
    { "void", "voidlinux" },
  };
  size_t i;

  if (id == NULL)
    return "unknown";
  if (strncmp (id, "opensuse-", 9) == 0)
    return "opensuse";
  for (i = 0; i < sizeof distros / sizeof distros[0]; i++)
    if (strcmp (id, distros[i].id) == 0)
      return distros[i].distro;
  return "unknown";
}

/* A decimal number at *P of at most a few digits, moving *P past it. */
static bool
number (const char **p, int *n)
{
  long v = 0;
  int digits = 0;

  while (isdigit ((unsigned char) **p)) {
    if (digits++ < 9)
      v = v * 10 + (**p - '0');
    (*p)++;
  }
  if (digits == 0 || digits > 9)
    return false;
  *n = v;
  return true;
}

bool
guestinfo_version (const char *s, int *major, int *minor)
{
  int ma, mi = 0;

  if (s == NULL || !number (&s, &ma))
    return false;
  if (*s == '.') {
    s++;
    if (!number (&s, &mi))
      mi = 0;
  }
  *major = ma;
  *minor = mi;
  return true;
}

bool
guestinfo_release_version (const char *line, int *major, int *minor)
{
  const char *p = line;

  while (p && (p = strstr (p, "release ")) != NULL) {
    p += strlen ("release ");
    if (guestinfo_version (p, major, minor))
      return true;
  }
  return false;
}

char *
guestinfo_first_line (const char *in, size_t len)
{
  size_t start = 0, end;
  char *s;

  len = text_len (in, len > GUESTINFO_INPUT_MAX ? GUESTINFO_INPUT_MAX : len);
  end = 0;
  while (end < len && in[end] != '\n')
    end++;
  while (start < end && (is_blank (in[start]) || in[start] == '\v'))
    start++;
  while (end > start && is_blank (in[end - 1]))
    end--;
  if (end == start || end - start > GUESTINFO_VALUE_MAX)
    return NULL;
  s = strndup (in + start, end - start);
  if (s == NULL)
    error ("out of memory");
  return s;
}

/* The fstab field IN[START, END) with its octal escapes decoded, into V. */
static void
fstab_field (const char *in, size_t start, size_t end, struct value *v)
{
  size_t i;

  v->len = 0;
  v->too_long = false;
  for (i = start; i < end; i++) {
    if (in[i] == '\\' && end - i >= 4 && in[i + 1] >= '0' && in[i + 1] <= '3'
        && in[i + 2] >= '0' && in[i + 2] <= '7' && in[i + 3] >= '0'
        && in[i + 3] <= '7') {
      char c
        = (in[i + 1] - '0') * 64 + (in[i + 2] - '0') * 8 + (in[i + 3] - '0');
      if (c != '\0')
        value_add (v, c);
      i += 3;
    }
    else
      value_add (v, in[i]);
  }
}

static void
entry_free (struct fstab_entry *e)
{
  free (e->spec);
  free (e->file);
  free (e->vfstype);
  free (e->mntops);
}

void
fstab_free (struct fstab_entry *entries, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    entry_free (&entries[i]);
  free (entries);
}

int
guestinfo_fstab (const char *in, size_t len, struct fstab_entry **entries,
                 size_t *n)
{
  struct fstab_entry *list = NULL, *nl, e;
  size_t count = 0, alloc = 0, pos = 0, end, line = 0, f, fs[4], fe[4];
  struct value *v = NULL;
  char **fields[4];
  bool too_long;
  int ret = -1;

  *entries = NULL;
  *n = 0;
  if (check_input (len) == -1)
    return -1;
  len = text_len (in, len);
  v = malloc (sizeof *v);
  if (v == NULL)
    return error ("out of memory");
  while (pos < len) {
    line++;
    end = pos;
    while (end < len && in[end] != '\n')
      end++;
    /* Up to four fields, split at blanks. */
    for (f = 0; f < 4; f++) {
      while (pos < end && is_blank (in[pos]))
        pos++;
      fs[f] = pos;
      while (pos < end && !is_blank (in[pos]))
        pos++;
      fe[f] = pos;
    }
    pos = end < len ? end + 1 : end;
    if (fe[0] == fs[0] || in[fs[0]] == '#' || fe[1] == fs[1])
      continue;

    memset (&e, 0, sizeof e);
    e.line = line;
    fields[0] = &e.spec;
    fields[1] = &e.file;
    fields[2] = &e.vfstype;
    fields[3] = &e.mntops;
    too_long = false;
    for (f = 0; f < 4; f++) {
      fstab_field (in, fs[f], fe[f], v);
      too_long |= v->too_long;
      if (keep (fields[f], v) == -1) {
        entry_free (&e);
        goto out;
      }
    }
    if (too_long) {
      entry_free (&e);
      continue;
    }
    if (count == alloc) {
      alloc = alloc ? alloc * 2 : 16;
      nl = realloc (list, alloc * sizeof *nl);
      if (nl == NULL) {
        entry_free (&e);
        error ("out of memory");
        goto out;
      }
      list = nl;
    }
    list[count++] = e;
  }
  *entries = list;
  *n = count;
  list = NULL;
  count = 0;
  ret = 0;
out:
  fstab_free (list, count);
  free (v);
  return ret;
}

bool
guestinfo_has_option (const char *opts, const char *name, char **value)
{
  size_t nlen = strlen (name), olen;
  const char *p = opts, *comma;

  if (value)
    *value = NULL;
  while (p && *p) {
    comma = strchr (p, ',');
    olen = comma ? (size_t) (comma - p) : strlen (p);
    if (olen >= nlen && memcmp (p, name, nlen) == 0
        && (olen == nlen || p[nlen] == '=')) {
      if (value && olen > nlen)
        *value = strndup (p + nlen + 1, olen - nlen - 1);
      return true;
    }
    p = comma ? comma + 1 : NULL;
  }
  return false;
}

char *
guestinfo_dm_to_lv (const char *name)
{
  static const char prefix[] = "/dev/mapper/";
  const char *p;
  char *out, *o;
  size_t dashes = 0;

  if (strncmp (name, prefix, sizeof prefix - 1) != 0)
    return NULL;
  p = name + sizeof prefix - 1;
  /* The one single dash (not part of "--") splits VG from LV. */
  out = malloc (strlen ("/dev/") + strlen (p) + 1);
  if (out == NULL) {
    error ("out of memory");
    return NULL;
  }
  o = out + strlen ("/dev/");
  memcpy (out, "/dev/", strlen ("/dev/"));
  for (; *p; p++) {
    if (*p == '-' && p[1] == '-') {
      *o++ = '-';
      p++;
    }
    else if (*p == '-') {
      *o++ = '/';
      dashes++;
    }
    else if (*p == '/') {
      dashes = 2; /* not a device-mapper name */
      break;
    }
    else
      *o++ = *p;
  }
  *o = '\0';
  if (dashes != 1 || o[-1] == '/' || out[strlen ("/dev/")] == '/') {
    free (out);
    return NULL;
  }
  return out;
}
