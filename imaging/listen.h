/* p2vkit imaging engine: listening for senders (p2v-recv, v2p-recv). */
#ifndef P2V_LISTEN_H
#define P2V_LISTEN_H

#include <netdb.h>
#include <stddef.h>
#include <sys/socket.h>

/* Room for the "ADDR:PORT" listen_on() and listen_peer_name() write. */
#define LISTEN_NAME_MAX (NI_MAXHOST + NI_MAXSERV + 2)

/* Parse SPEC, "[ADDR:]PORT" (address.h: PORT 0 for any free port, no ADDR
 * for every address), and listen there.  Writes "ADDR:PORT" as bound
 * into SHOWN (SHOWN_LEN bytes).  Returns the socket (close-on-exec), or -1
 * with an error recorded ("--listen: ...").
 */
int listen_on (const char *spec, char *shown, size_t shown_len);

/* "ADDR:PORT" of a peer, numeric, into OUT (OUT_LEN bytes). */
void listen_peer_name (const struct sockaddr_storage *ss, socklen_t len,
                       char *out, size_t out_len);

#endif /* P2V_LISTEN_H */
