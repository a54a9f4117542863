/* Unit tests of address_parse() (imaging/address.h): every form, IPv6 in
 * brackets, the port's range, and the exact message of each refusal.
 * Run by tests/t-address.sh.  Prints a line per failed check; exit 0 if
 * all passed, 1 otherwise.
 */
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "check.h"
#include "error.h"

struct address_case {
  const char *spec;
  enum address_form form;
  const char *host;  /* wanted; NULL when refused */
  const char *port;  /* wanted, or the wanted message when refused */
};

static const struct address_case cases[] = {
  /* HOST:PORT, as in tcp://HOST:PORT. */
  { "conv-host:4444", ADDRESS_HOST_PORT, "conv-host", "4444" },
  { "127.0.0.1:1", ADDRESS_HOST_PORT, "127.0.0.1", "1" },
  { "[::1]:65535", ADDRESS_HOST_PORT, "::1", "65535" },
  { "[fe80::1%eth0]:4444", ADDRESS_HOST_PORT, "fe80::1%eth0", "4444" },
  { "h:004444", ADDRESS_HOST_PORT, "h", "4444" },
  { "h:0000000000000000000080", ADDRESS_HOST_PORT, "h", "80" },
  { "", ADDRESS_HOST_PORT, NULL, "expected HOST:PORT" },
  { "conv-host", ADDRESS_HOST_PORT, NULL, "expected HOST:PORT: no port" },
  { "conv-host:", ADDRESS_HOST_PORT, NULL,
    "expected HOST:PORT: no port after ':'" },
  { ":4444", ADDRESS_HOST_PORT, NULL, "expected HOST:PORT: no host" },
  { "[]:4444", ADDRESS_HOST_PORT, NULL, "no address between '[' and ']'" },
  { "[::1]", ADDRESS_HOST_PORT, NULL, "expected HOST:PORT: no port" },
  { "[::1:4444", ADDRESS_HOST_PORT, NULL, "no ']' after the IPv6 address" },
  { "[::1]4444", ADDRESS_HOST_PORT, NULL,
    "expected ':' after ']', then the port" },
  { "[::1]]:4444", ADDRESS_HOST_PORT, NULL,
    "expected ':' after ']', then the port" },
  { "::1:4444", ADDRESS_HOST_PORT, NULL,
    "an IPv6 address goes in brackets: [ADDR]:PORT" },
  { "fe80::1", ADDRESS_HOST_PORT, NULL,
    "an IPv6 address goes in brackets: [ADDR]:PORT" },
  { "h:0", ADDRESS_HOST_PORT, NULL, "port '0' is out of range (1 to 65535)" },
  { "h:65536", ADDRESS_HOST_PORT, NULL,
    "port '65536' is out of range (1 to 65535)" },
  { "h:99999999999999999999999", ADDRESS_HOST_PORT, NULL,
    "port '99999999999999999999999' is out of range (1 to 65535)" },
  { "h:http", ADDRESS_HOST_PORT, NULL, "port 'http' is not a number" },
  { "h:-1", ADDRESS_HOST_PORT, NULL, "port '-1' is not a number" },
  { "h:+80", ADDRESS_HOST_PORT, NULL, "port '+80' is not a number" },
  { "h: 80", ADDRESS_HOST_PORT, NULL, "port ' 80' is not a number" },
  { "h:80 ", ADDRESS_HOST_PORT, NULL, "port '80 ' is not a number" },
  { "a b:80", ADDRESS_HOST_PORT, NULL, "'a b' is not a host name or address" },
  { "a\tb:80", ADDRESS_HOST_PORT, NULL,
    "'a\tb' is not a host name or address" },
  { "a]:80", ADDRESS_HOST_PORT, NULL, "'a]' is not a host name or address" },
  { "[a[b]:80", ADDRESS_HOST_PORT, NULL,
    "'a[b' is not a host name or address" },

  /* [ADDR:]PORT, as in --listen. */
  { "4444", ADDRESS_LISTEN, "", "4444" },
  { "0", ADDRESS_LISTEN, "", "0" },
  { "127.0.0.1:0", ADDRESS_LISTEN, "127.0.0.1", "0" },
  { ":4444", ADDRESS_LISTEN, "", "4444" },
  { "[::]:4444", ADDRESS_LISTEN, "::", "4444" },
  { "localhost:65535", ADDRESS_LISTEN, "localhost", "65535" },
  { "", ADDRESS_LISTEN, NULL, "expected [ADDR:]PORT" },
  { "127.0.0.1", ADDRESS_LISTEN, NULL, "port '127.0.0.1' is not a number" },
  { "127.0.0.1:", ADDRESS_LISTEN, NULL,
    "expected [ADDR:]PORT: no port after ':'" },
  { "[::]", ADDRESS_LISTEN, NULL, "expected [ADDR:]PORT: no port" },
  { "::1:4444", ADDRESS_LISTEN, NULL,
    "an IPv6 address goes in brackets: [ADDR]:PORT" },
  { "65536", ADDRESS_LISTEN, NULL,
    "port '65536' is out of range (0 to 65535)" },
  { "44x", ADDRESS_LISTEN, NULL, "port '44x' is not a number" },

  /* HOST[:PORT], as in ssh://[USER@]HOST[:PORT]/DIR. */
  { "conv-host", ADDRESS_HOST, "conv-host", "" },
  { "conv-host:2222", ADDRESS_HOST, "conv-host", "2222" },
  { "[::1]", ADDRESS_HOST, "::1", "" },
  { "[::1]:22", ADDRESS_HOST, "::1", "22" },
  { "4444", ADDRESS_HOST, "4444", "" },
  { "", ADDRESS_HOST, NULL, "expected HOST[:PORT]" },
  { ":22", ADDRESS_HOST, NULL, "expected HOST[:PORT]: no host" },
  { "conv-host:", ADDRESS_HOST, NULL,
    "expected HOST[:PORT]: no port after ':'" },
  { "conv-host:0", ADDRESS_HOST, NULL,
    "port '0' is out of range (1 to 65535)" },
  { "::1", ADDRESS_HOST, NULL,
    "an IPv6 address goes in brackets: [ADDR]:PORT" },
};

static const char *const form_names[] = {
  [ADDRESS_HOST_PORT] = "HOST:PORT",
  [ADDRESS_LISTEN] = "LISTEN",
  [ADDRESS_HOST] = "HOST",
};

static void
run_case (const struct address_case *c)
{
  struct address a;
  int r;

  memset (&a, 'x', sizeof a);
  r = address_parse (c->spec, c->form, &a);
  if (c->host == NULL) {
    if (r != -1)
      check_fail ("%s '%s': accepted (host '%s', port '%s'), wanted '%s'",
                  form_names[c->form], c->spec, a.host, a.port, c->port);
    else if (strcmp (error_message (), c->port) != 0)
      check_fail ("%s '%s': message '%s', wanted '%s'", form_names[c->form],
                  c->spec, error_message (), c->port);
  }
  else if (r != 0)
    check_fail ("%s '%s': refused: %s", form_names[c->form], c->spec,
                error_message ());
  else if (strcmp (a.host, c->host) != 0 || strcmp (a.port, c->port) != 0)
    check_fail ("%s '%s': host '%s', port '%s', wanted '%s', '%s'",
                form_names[c->form], c->spec, a.host, a.port, c->host, c->port);
}

/* The longest host fits; one byte more does not. */
static void
test_host_length (void)
{
  char spec[ADDRESS_HOST_MAX + 16];
  struct address a;

  memset (spec, 'h', ADDRESS_HOST_MAX);
  strcpy (spec + ADDRESS_HOST_MAX, ":80");
  CHECK (address_parse (spec, ADDRESS_HOST_PORT, &a) == 0
         && strlen (a.host) == ADDRESS_HOST_MAX && strcmp (a.port, "80") == 0);
  memset (spec, 'h', ADDRESS_HOST_MAX + 1);
  strcpy (spec + ADDRESS_HOST_MAX + 1, ":80");
  CHECK (
    address_parse (spec, ADDRESS_HOST_PORT, &a) == -1
    && strcmp (error_message (), "host name too long (the limit is 255 bytes)")
      == 0);
  spec[0] = '[';
  strcpy (spec + ADDRESS_HOST_MAX + 1, "]:80");
  CHECK (address_parse (spec, ADDRESS_LISTEN, &a) == 0
         && strlen (a.host) == ADDRESS_HOST_MAX);
}

int
main (void)
{
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    run_case (&cases[i]);
  test_host_length ();
  printf ("%zu cases\n", sizeof cases / sizeof cases[0]);
  return check_exit ();
}
