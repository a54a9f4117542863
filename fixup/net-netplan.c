/* p2vkit fixup: which NICs a netplan file names (see net.h).
 *
 * netplan's files are YAML.  A full YAML parser is more than these files
 * need: they are block mappings, one key a line, nested by indentation.
 * This reader follows the keys of each line by their indentation (a
 * stack of the keys above it), and looks at the few paths that name
 * interfaces:
 *
 *   network: ethernets: ID:                    an interface, or a label
 *   network: ethernets: ID: set-name: NAME     the name it gets
 *   network: ethernets: ID: match: name: NAME  the name it has
 *   network: ethernets: ID: match: macaddress: MAC
 *
 * Sequence items ("- ...") are skipped; the text of block scalars (| and
 * >) too.  What it does not understand is in net.h.
 */
#include "net-internal.h"

/* The depth of the deepest path above: network, ethernets, ID, match,
 * macaddress.  Deeper keys are not followed.
 */
#define DEPTH_MAX 5

/* A part of the input (without quotes), and its line. */
struct np_span {
  size_t s, e;
  size_t line;
};

struct level {
  size_t indent;
  struct np_span key;
};

/* The device being read. */
struct device {
  bool active;
  struct np_span id;
  bool has_match;
  struct np_span set_name, match_name, match_mac;
};

/* IN[S, E) without the quotes around it, if it is quoted. */
static void
unquote (const char *in, size_t *s, size_t *e)
{
  if (*e - *s >= 2 && (in[*s] == '"' || in[*s] == '\'')
      && in[*e - 1] == in[*s]) {
    (*s)++;
    (*e)--;
  }
}

/* The end of a quoted scalar that starts at S (a quote), or E if it does
 * not end on the line.  In '...', '' is a quote; in "...", \ escapes.
 */
static size_t
quoted_end (const char *in, size_t s, size_t e)
{
  char q = in[s];
  size_t i = s + 1;

  while (i < e) {
    if (q == '"' && in[i] == '\\')
      i += 2;
    else if (in[i] == q && q == '\'' && i + 1 < e && in[i + 1] == '\'')
      i += 2;
    else if (in[i] == q)
      return i + 1;
    else
      i++;
  }
  return e;
}

/* Parse "KEY: VALUE # comment" in IN[S, E): the key and the value (both
 * without quotes; the value empty if none).  False if the line is not a
 * mapping entry.
 */
static bool
parse_entry (const char *in, size_t s, size_t e, size_t line,
             struct np_span *key, struct np_span *value)
{
  size_t i = s, v;

  if (in[s] == '"' || in[s] == '\'') {
    i = quoted_end (in, s, e);
    key->s = s;
    key->e = i;
    while (i < e && is_blank (in[i]))
      i++;
    if (i == e || in[i] != ':')
      return false;
  }
  else {
    /* A plain key ends at the first ": " (or ':' at the end); " #"
     * starts a comment.
     */
    for (; i < e; i++) {
      if (in[i] == ':' && (i + 1 == e || is_blank (in[i + 1])))
        break;
      if (in[i] == '#' && i > s && is_blank (in[i - 1]))
        return false;
    }
    if (i == e)
      return false;
    key->s = s;
    key->e = i;
    while (key->e > key->s && is_blank (in[key->e - 1]))
      key->e--;
  }
  unquote (in, &key->s, &key->e);
  key->line = line;

  /* The value, to a comment. */
  v = i + 1;
  while (v < e && is_blank (in[v]))
    v++;
  value->s = v;
  value->line = line;
  if (v < e && (in[v] == '"' || in[v] == '\''))
    value->e = quoted_end (in, v, e);
  else {
    for (i = v; i < e && !(in[i] == '#' && (i == v || is_blank (in[i - 1])));
         i++)
      ;
    while (i > v && is_blank (in[i - 1]))
      i--;
    value->e = i;
  }
  unquote (in, &value->s, &value->e);
  return true;
}

/* Is the value a block scalar's header (|, >, with - + or a digit)? */
static bool
is_block_scalar (const char *in, const struct np_span *v)
{
  size_t i;

  if (v->e == v->s || (in[v->s] != '|' && in[v->s] != '>'))
    return false;
  for (i = v->s + 1; i < v->e; i++)
    if (in[i] != '-' && in[i] != '+' && !(in[i] >= '1' && in[i] <= '9'))
      return false;
  return true;
}

/* The name of the device D, and its MAC, into the scan. */
static int
device_add (struct ref_scan *s, const char *in, struct device *d)
{
  const struct np_span *name = NULL;
  const struct np_span *mac = &d->match_mac;

  if (!d->active)
    return 0;
  d->active = false;
  if (d->set_name.e > d->set_name.s)
    name = &d->set_name;
  else if (!d->has_match)
    name = &d->id;
  else if (d->match_name.e > d->match_name.s
           && !is_glob (in, d->match_name.s, d->match_name.e))
    name = &d->match_name;
  if (name == NULL)
    return 0;
  return ref_scan_add (s, name->line, in + name->s, name->e - name->s,
                       in + mac->s, d->has_match ? mac->e - mac->s : 0)
      == -1
    ? -1
    : 0;
}

static bool
key_is (const char *in, const struct level *l, const char *word)
{
  return span_is (in, l->key.s, l->key.e, word);
}

/* The entry KEY: VALUE, indented by INDENT, below the DEPTH keys of
 * STACK: end the device D if the entry is not in it, push the key, and
 * note what it says of a device.
 */
static int
follow (struct ref_scan *s, const char *in, struct level *stack, size_t *depth,
        size_t indent, const struct np_span *key, const struct np_span *value,
        struct device *d)
{
  size_t at = *depth;

  if (at < 3 && device_add (s, in, d) == -1)
    return -1;
  stack[at].indent = indent;
  stack[at].key = *key;
  (*depth)++;

  if (at == 2 && key_is (in, &stack[0], "network")
      && key_is (in, &stack[1], "ethernets")) {
    memset (d, 0, sizeof *d);
    d->active = true;
    d->id = *key;
  }
  else if (at == 3 && d->active && span_is (in, key->s, key->e, "match"))
    d->has_match = true;
  else if (at == 3 && d->active && span_is (in, key->s, key->e, "set-name"))
    d->set_name = *value;
  else if (at == 4 && d->active && key_is (in, &stack[3], "match")) {
    if (span_is (in, key->s, key->e, "macaddress"))
      d->match_mac = *value;
    else if (span_is (in, key->s, key->e, "name"))
      d->match_name = *value;
  }
  return 0;
}

int
net_scan_netplan (const char *in, size_t len, struct net_refs *refs)
{
  struct level stack[DEPTH_MAX];
  struct device dev = { 0 };
  struct ref_scan s;
  struct lines it;
  struct lline l;
  size_t depth = 0, block_indent = 0;
  bool in_block = false;
  int ret = -1;

  if (ref_scan_begin (&s, in, len, refs) == -1)
    return -1;
  lines_init (&it, in, len, CONT_NONE, "#");
  while (lines_next (&it, &l)) {
    struct np_span key, value;
    size_t indent = l.first - l.start, i;

    /* The text of a block scalar: blank lines, and lines indented more
     * than its key.
     */
    if (in_block && (l.first == l.end || indent > block_indent))
      continue;
    in_block = false;
    if (l.comment || l.first == l.end)
      continue;
    /* Indentation is spaces; YAML refuses tabs there. */
    for (i = l.start; i < l.first; i++)
      if (in[i] != ' ')
        break;
    if (i < l.first)
      continue;
    /* Sequence items and document markers. */
    if ((in[l.first] == '-'
         && (l.first + 1 == l.end || is_blank (in[l.first + 1])))
        || (indent == 0 && l.end - l.first >= 3
            && (memcmp (in + l.first, "---", 3) == 0
                || memcmp (in + l.first, "...", 3) == 0)))
      continue;
    if (!parse_entry (in, l.first, l.end, l.line, &key, &value))
      continue;

    while (depth > 0 && stack[depth - 1].indent >= indent)
      depth--;
    /* (At DEPTH_MAX, the key is deeper than the paths we follow.) */
    if (depth < DEPTH_MAX
        && follow (&s, in, stack, &depth, indent, &key, &value, &dev) == -1)
      goto out;
    if (is_block_scalar (in, &value)) {
      in_block = true;
      block_indent = indent;
    }
  }
  ret = device_add (&s, in, &dev);
out:
  return ref_scan_end (&s, ret);
}
