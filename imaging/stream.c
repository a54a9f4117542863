/* p2vkit imaging engine: the stream protocol's messages and handshake
 * (see stream.h).
 */
#include "stream.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "error.h"

static const char sender_label[] = "p2vkit sender";
static const char receiver_label[] = "p2vkit receiver";

int
stream_crypto_init (void)
{
  if (sodium_init () < 0)
    return error ("cannot initialise libsodium");
  return 0;
}

bool
stream_name_char_ok (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
    || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool
stream_name_ok (const char *name)
{
  size_t i, n = strlen (name);

  if (n == 0 || n > STREAM_MAX_NAME || name[0] == '.' || name[0] == '-')
    return false;
  for (i = 0; i < n; i++)
    if (!stream_name_char_ok (name[i]))
      return false;
  return true;
}

int
stream_send_hello (struct wire *w, const struct stream_hello *h,
                   unsigned char hello_hash[STREAM_MAC_SIZE])
{
  unsigned char buf[sizeof *h + STREAM_MAX_DISKS * 16];
  struct wbuf b;
  size_t len;
  uint32_t i;

  wbuf_init (&b, buf, sizeof buf);
  wbuf_u32 (&b, h->version);
  wbuf_u32 (&b, h->flags);
  wbuf_str (&b, h->name);
  wbuf_u32 (&b, h->n_disks);
  for (i = 0; i < h->n_disks; i++) {
    wbuf_str (&b, h->disks[i].name);
    wbuf_u64 (&b, h->disks[i].size);
    wbuf_u32 (&b, h->disks[i].sector_size);
    if (h->flags & STREAM_HELLO_EXTENT) {
      wbuf_u8 (&b, h->disks[i].table);
      wbuf_u64 (&b, h->disks[i].needed);
    }
  }
  wbuf_bytes (&b, h->nonce, STREAM_NONCE_SIZE);
  if (wbuf_done (&b, &len) == -1)
    return -1;
  crypto_hash_sha256 (hello_hash, buf, len);
  return wire_send (w, STREAM_HELLO, 0, buf, len);
}

int
stream_decode_hello (const struct frame *f, struct stream_hello *h,
                     unsigned char hello_hash[STREAM_MAC_SIZE])
{
  struct rbuf b;
  uint32_t i, j;

  if (f->type != STREAM_HELLO)
    return error ("stream: expected HELLO, got frame type %u", f->type);
  memset (h, 0, sizeof *h);
  rbuf_init (&b, f->payload, f->len, "HELLO");
  h->version = rbuf_u32 (&b);
  if (!b.failed
      && (h->version < STREAM_VERSION || h->version > STREAM_VERSION_MAX))
    return error ("stream: sender speaks protocol version %" PRIu32
                  ", this receiver versions %d to %d",
                  h->version, STREAM_VERSION, STREAM_VERSION_MAX);
  h->flags = rbuf_u32 (&b);
  if (h->flags & ~(uint32_t) STREAM_HELLO_FLAGS)
    return error ("stream: HELLO: unknown flags 0x%" PRIx32, h->flags);
  if ((h->flags & STREAM_HELLO_ROUNDS)
      && (h->version < STREAM_VERSION_ROUNDS
          || (h->flags & STREAM_HELLO_ONEWAY)))
    return error ("stream: HELLO: rounds need version %d and answers",
                  STREAM_VERSION_ROUNDS);
  rbuf_str (&b, h->name, STREAM_MAX_NAME);
  h->n_disks = rbuf_u32 (&b);
  if (b.failed)
    return -1;
  if (!stream_name_ok (h->name))
    return error ("stream: HELLO: bad machine name (1-%d of A-Z a-z 0-9 . _ "
                  "-, not starting with . or -)",
                  STREAM_MAX_NAME);
  if (h->n_disks == 0 || h->n_disks > STREAM_MAX_DISKS)
    return error ("stream: HELLO: %" PRIu32 " disks (1 to %d allowed)",
                  h->n_disks, STREAM_MAX_DISKS);
  for (i = 0; i < h->n_disks; i++) {
    struct stream_disk *d = &h->disks[i];

    rbuf_str (&b, d->name, STREAM_MAX_NAME);
    d->size = rbuf_u64 (&b);
    d->sector_size = rbuf_u32 (&b);
    if (b.failed)
      return -1;
    if (!stream_name_ok (d->name))
      return error ("stream: HELLO: bad name for disk %" PRIu32, i);
    for (j = 0; j < i; j++)
      if (strcmp (h->disks[j].name, d->name) == 0)
        return error ("stream: HELLO: disk name '%s' given twice", d->name);
    if (d->size == 0 || d->size > STREAM_MAX_DISK_SIZE)
      return error ("stream: HELLO: disk '%s': size %" PRIu64 " out of range",
                    d->name, d->size);
    if (d->sector_size != 512 && d->sector_size != 4096)
      return error ("stream: HELLO: disk '%s': sector size %" PRIu32
                    " is not 512 or 4096",
                    d->name, d->sector_size);
    d->table = PARTTABLE_NONE;
    d->needed = d->size;
    if (h->flags & STREAM_HELLO_EXTENT) {
      uint8_t table = rbuf_u8 (&b);

      d->needed = rbuf_u64 (&b);
      if (b.failed)
        return -1;
      if (table > PARTTABLE_GPT || d->needed == 0 || d->needed > d->size
          || (table == PARTTABLE_NONE && d->needed != d->size))
        return error ("stream: HELLO: disk '%s': bad partition table extent",
                      d->name);
      d->table = table;
    }
  }
  memcpy (h->nonce, rbuf_bytes (&b, STREAM_NONCE_SIZE) ?: h->nonce,
          STREAM_NONCE_SIZE);
  if (rbuf_done (&b) == -1)
    return -1;
  crypto_hash_sha256 (hello_hash, f->payload, f->len);
  return 0;
}

int
stream_send_challenge (struct wire *w, const struct stream_challenge *c)
{
  unsigned char buf[64];
  struct wbuf b;
  size_t len;

  wbuf_init (&b, buf, sizeof buf);
  wbuf_u32 (&b, c->version);
  wbuf_u8 (&b, c->auth);
  wbuf_bytes (&b, c->nonce, STREAM_NONCE_SIZE);
  if (wbuf_done (&b, &len) == -1)
    return -1;
  return wire_send (w, STREAM_CHALLENGE, 0, buf, len);
}

int
stream_decode_challenge (const struct frame *f, struct stream_challenge *c)
{
  const unsigned char *p;
  struct rbuf b;
  uint8_t auth;

  if (f->type != STREAM_CHALLENGE)
    return error ("stream: expected CHALLENGE, got frame type %u", f->type);
  rbuf_init (&b, f->payload, f->len, "CHALLENGE");
  c->version = rbuf_u32 (&b);
  auth = rbuf_u8 (&b);
  p = rbuf_bytes (&b, STREAM_NONCE_SIZE);
  if (rbuf_done (&b) == -1)
    return -1;
  if (c->version < STREAM_VERSION || c->version > STREAM_VERSION_MAX)
    return error ("stream: receiver speaks protocol version %" PRIu32
                  ", this sender versions %d to %d",
                  c->version, STREAM_VERSION, STREAM_VERSION_MAX);
  if (auth > 1)
    return error ("stream: CHALLENGE: bad authentication flag");
  c->auth = auth;
  memcpy (c->nonce, p, STREAM_NONCE_SIZE);
  return 0;
}

int
stream_send_welcome (struct wire *w, const struct stream_welcome *wl)
{
  unsigned char buf[STREAM_MAC_SIZE + 4 + 8 * STREAM_MAX_DISKS];
  struct wbuf b;
  size_t len;
  uint32_t i;

  wbuf_init (&b, buf, sizeof buf);
  wbuf_bytes (&b, wl->mac, STREAM_MAC_SIZE);
  wbuf_u32 (&b, wl->n_disks);
  for (i = 0; i < wl->n_disks; i++)
    wbuf_u64 (&b, wl->resume[i]);
  if (wbuf_done (&b, &len) == -1)
    return -1;
  return wire_send (w, STREAM_WELCOME, 0, buf, len);
}

int
stream_decode_welcome (const struct frame *f, const struct stream_hello *h,
                       struct stream_welcome *wl)
{
  const unsigned char *p;
  struct rbuf b;
  uint32_t i;

  if (f->type != STREAM_WELCOME)
    return error ("stream: expected WELCOME, got frame type %u", f->type);
  rbuf_init (&b, f->payload, f->len, "WELCOME");
  p = rbuf_bytes (&b, STREAM_MAC_SIZE);
  wl->n_disks = rbuf_u32 (&b);
  if (b.failed)
    return -1;
  if (wl->n_disks != h->n_disks)
    return error ("stream: WELCOME: %" PRIu32 " disks, %" PRIu32 " sent",
                  wl->n_disks, h->n_disks);
  memcpy (wl->mac, p, STREAM_MAC_SIZE);
  for (i = 0; i < wl->n_disks; i++) {
    wl->resume[i] = rbuf_u64 (&b);
    if (!b.failed
        && (wl->resume[i] > h->disks[i].size
            || wl->resume[i] % STREAM_BLOCK_SIZE != 0))
      return error ("stream: WELCOME: bad resume offset %" PRIu64
                    " for disk '%s'",
                    wl->resume[i], h->disks[i].name);
  }
  return rbuf_done (&b);
}

int
stream_send_error (struct wire *w, const char *message)
{
  char copy[STREAM_MAX_MESSAGE + 1];
  size_t n = strnlen (message, STREAM_MAX_MESSAGE);

  /* MESSAGE may be the error recorded last, which a failed send would
   * replace: keep it.
   */
  memcpy (copy, message, n);
  copy[n] = '\0';
  if (wire_send (w, STREAM_ERROR, 0, copy, n) == -1) {
    error_set_message (copy);
    return -1;
  }
  return 0;
}

int
stream_peer_error (const struct wire *w, const struct frame *f)
{
  char msg[STREAM_MAX_MESSAGE + 1];
  size_t n = f->len < STREAM_MAX_MESSAGE ? f->len : STREAM_MAX_MESSAGE;
  size_t i;

  memcpy (msg, f->payload, n);
  msg[n] = '\0';
  /* One line of printable text, whatever the peer sent. */
  for (i = 0; i < n; i++)
    if ((unsigned char) msg[i] < ' ' || msg[i] == 0x7f)
      msg[i] = '?';
  return error ("%s: %s", w->peer, msg);
}

void
stream_nonce (unsigned char nonce[STREAM_NONCE_SIZE])
{
  randombytes_buf (nonce, STREAM_NONCE_SIZE);
}

static void
mac (const char *token, const char *label, const unsigned char *a,
     const unsigned char *b, const unsigned char *c,
     unsigned char out[STREAM_MAC_SIZE])
{
  crypto_auth_hmacsha256_state st;

  crypto_auth_hmacsha256_init (&st, (const unsigned char *) token,
                               strlen (token));
  crypto_auth_hmacsha256_update (&st, (const unsigned char *) label,
                                 strlen (label));
  crypto_auth_hmacsha256_update (&st, a, STREAM_NONCE_SIZE);
  crypto_auth_hmacsha256_update (&st, b, STREAM_NONCE_SIZE);
  if (c)
    crypto_auth_hmacsha256_update (&st, c, STREAM_MAC_SIZE);
  crypto_auth_hmacsha256_final (&st, out);
  sodium_memzero (&st, sizeof st);
}

void
stream_mac_sender (const char *token,
                   const unsigned char nonce_r[STREAM_NONCE_SIZE],
                   const unsigned char nonce_s[STREAM_NONCE_SIZE],
                   const unsigned char hello_hash[STREAM_MAC_SIZE],
                   unsigned char out[STREAM_MAC_SIZE])
{
  mac (token, sender_label, nonce_r, nonce_s, hello_hash, out);
}

void
stream_mac_receiver (const char *token,
                     const unsigned char nonce_s[STREAM_NONCE_SIZE],
                     const unsigned char nonce_r[STREAM_NONCE_SIZE],
                     unsigned char out[STREAM_MAC_SIZE])
{
  mac (token, receiver_label, nonce_s, nonce_r, NULL, out);
}

bool
stream_mac_equal (const unsigned char a[STREAM_MAC_SIZE],
                  const unsigned char b[STREAM_MAC_SIZE])
{
  return sodium_memcmp (a, b, STREAM_MAC_SIZE) == 0;
}

void
stream_new_token (char token[STREAM_TOKEN_LENGTH + 1])
{
  unsigned char raw[STREAM_TOKEN_LENGTH / 2];

  randombytes_buf (raw, sizeof raw);
  sodium_bin2hex (token, STREAM_TOKEN_LENGTH + 1, raw, sizeof raw);
}
