/* p2vkit imaging engine: network addresses as people write them.
 *
 *   address_parse ("conv-host:4444", ADDRESS_HOST_PORT, &a)
 *                                         ->  host "conv-host", port "4444"
 *   address_parse ("[fe80::1]:4444", ADDRESS_HOST_PORT, &a)
 *                                         ->  host "fe80::1", port "4444"
 *   address_parse ("4444", ADDRESS_LISTEN, &a)   ->  host "", port "4444"
 *   address_parse ("conv-host", ADDRESS_HOST, &a) ->  host "conv-host", port ""
 *
 * The port comes after the last colon.  An IPv6 address, which has colons
 * of its own, goes in brackets (as in a URL); one without brackets is
 * refused rather than guessed at ("fe80::1:4444" could be either).
 * Nothing is looked up: the parts go to getaddrinfo() or ssh as they are.
 */
#ifndef P2V_ADDRESS_H
#define P2V_ADDRESS_H

/* The longest host (a DNS name is at most 253 bytes). */
#define ADDRESS_HOST_MAX 255
/* The largest port, and room for it in decimal. */
#define ADDRESS_PORT_MAX 65535
#define ADDRESS_PORT_LEN sizeof "65535"

/* The forms of address_parse(), each named by what it accepts. */
enum address_form {
  /* "HOST:PORT": both, PORT from 1 to 65535 (somewhere to connect to). */
  ADDRESS_HOST_PORT,
  /* "[ADDR:]PORT": PORT from 0 to 65535, 0 for any free port (somewhere
   * to listen on); without ADDR, or with an empty one, every address.
   */
  ADDRESS_LISTEN,
  /* "HOST[:PORT]": PORT, if any, from 1 to 65535 (an ssh destination). */
  ADDRESS_HOST,
};

struct address {
  char host[ADDRESS_HOST_MAX + 1]; /* without brackets; "" when none */
  char port[ADDRESS_PORT_LEN]; /* decimal, no leading zeros; "" when none */
};

/* Split SPEC in FORM into *A.  Returns 0, or -1 with an error recorded
 * that says what is wrong but not where SPEC came from (the caller
 * prefixes that); *A is then undefined.  Thread safe.
 */
int address_parse (const char *spec, enum address_form form, struct address *a);

#endif /* P2V_ADDRESS_H */
