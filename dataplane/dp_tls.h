/* SPDX-License-Identifier: Apache-2.0 */
/* TLS for one connection: an OpenSSL server SSL over two memory BIOs, so the
 * same code serves io_uring sockets and utcp (DESIGN.md). Ciphertext from
 * the network is fed in (dp_tls_feed), plaintext comes out of dp_tls_read;
 * plaintext replies go in through dp_tls_write and their ciphertext comes
 * out of dp_tls_out_take. No I/O here and nothing about dp_core: the glue
 * to the core loop is dp_tls_conn.c. The contexts (certificates, trust,
 * principal rules) are built by control and published per listener.
 * Internal to dataplane/ (control builds contexts through dp_tls_ctx_new). */
#ifndef DATAPLANE_DP_TLS_H
#define DATAPLANE_DP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "dataplane/dp.h"

/* Listeners a TLS context can be published for (session.listener). */
#define DP_TLS_LISTENERS_MAX DP_LISTENERS_MAX
/* Plaintext decrypted ahead of the frame parser (the conn's stash). */
#define DP_TLS_PLAIN_BYTES 32768u
/* Plaintext encrypted per fill of the ciphertext buffer (a few records). */
#define DP_TLS_TX_PLAIN_BYTES 49152u
/* Ciphertext buffer: one fill plus record overhead, or a handshake flight. */
#define DP_TLS_CIPHER_BYTES 65536u
/* A file region is read and encrypted this much at a time (one record). */
#define DP_TLS_FILE_BYTES 16384u
/* Ciphertext taken off the network and not yet decrypted: above this the
 * conn stops reading until it is parsed (its chunks stay queued). */
#define DP_TLS_IN_MAX 65536u
/* Handshake steps a core takes per loop turn (a step: what one received
 * flight allows, one signature at most); more wait for the next turn, so a
 * burst of new TLS clients cannot hold the core from the others. */
#define DP_TLS_HANDSHAKES_PER_TURN 4u
/* Longest subject DN kept (RFC 2253 text). */
#define DP_TLS_DN_MAX 1024

struct dp_tls_rules;

/* What control publishes for a listener: an SSL_CTX and the principal
 * mapping rules. Immutable once published; a connection keeps a reference
 * for its lifetime (a reload publishes a new one, old conns keep theirs). */
struct dp_tls_ctx {
	SSL_CTX *ssl_ctx;
	struct dp_tls_rules *rules;
	int refs;               /* atomic */
};

/* Takes both (freed with the context). NULL on allocation failure (both
 * freed). @thread control */
struct dp_tls_ctx *dp_tls_ctx_new(SSL_CTX *ssl_ctx, struct dp_tls_rules *rules);
/* @thread any */
void dp_tls_ctx_ref(struct dp_tls_ctx *ctx);
void dp_tls_ctx_unref(struct dp_tls_ctx *ctx);

enum dp_tls_result {
	DP_TLS_OK = 0,          /* progress (handshake done, or bytes read) */
	DP_TLS_AGAIN,           /* needs more input */
	DP_TLS_EOF,             /* the peer sent close_notify */
	DP_TLS_ERR,             /* fatal: close the connection */
};

/* One connection's TLS state; buffers are sized once, at accept. */
struct dp_tls {
	struct dp_tls_ctx *ctx;
	SSL *ssl;
	BIO *rbio;              /* network -> SSL */
	BIO *wbio;              /* SSL -> network */
	uint64_t deadline_ns;   /* handshake must finish by then */
	bool open;              /* handshake complete */
	bool deferred;          /* handshake step left for the next turn */
	uint8_t *plain;         /* DP_TLS_PLAIN_BYTES: decrypted, the conn's stash */
	uint8_t *file;          /* DP_TLS_FILE_BYTES: a file region slice */
	uint8_t *in;            /* DP_TLS_IN_MAX: ciphertext of a large frame's
				 * direct recv (uring), made on first use */
	/* Ciphertext being sent: [acked, handed) is with the transport,
	 * [handed, len) not handed yet; refilled once all is acked. */
	uint8_t *cipher;        /* DP_TLS_CIPHER_BYTES */
	uint32_t cipher_len;
	uint32_t cipher_handed;
	uint32_t cipher_acked;
};

/* Set up t for a new connection on ctx (takes a reference). Returns 0 or
 * -ENOMEM. @thread dataplane */
int dp_tls_init(struct dp_tls *t, struct dp_tls_ctx *ctx, uint64_t deadline_ns);
void dp_tls_fini(struct dp_tls *t);
/* Queue received ciphertext. False on allocation failure. */
bool dp_tls_feed(struct dp_tls *t, const void *data, uint32_t len);
/* The buffer a large frame's ciphertext is received into (made on first
 * use, kept with the conn); NULL when out of memory. */
uint8_t *dp_tls_in_buf(struct dp_tls *t);
/* Ciphertext queued and not yet decrypted. */
uint32_t dp_tls_in_pending(const struct dp_tls *t);
/* Bytes of plaintext that dp_tls_read would return without more input
 * (decrypted inside OpenSSL already), or in_pending > 0. */
bool dp_tls_rx_more(const struct dp_tls *t);
/* Advance the handshake with what was fed. DP_TLS_OK once complete. */
enum dp_tls_result dp_tls_handshake(struct dp_tls *t);
/* Decrypt up to cap bytes into out (*got). OK with *got > 0, AGAIN, EOF,
 * ERR. Requires t->open. */
enum dp_tls_result dp_tls_read(struct dp_tls *t, uint8_t *out, uint32_t cap, uint32_t *got);
/* Encrypt len bytes (all of them: the memory BIO takes any amount). */
bool dp_tls_write(struct dp_tls *t, const void *data, uint32_t len);
/* Ciphertext waiting to be sent. */
uint32_t dp_tls_out_pending(const struct dp_tls *t);
/* Move up to cap bytes of it into out; returns how many. */
uint32_t dp_tls_out_take(struct dp_tls *t, uint8_t *out, uint32_t cap);
/* The principal after the handshake: "User:" and the client certificate's
 * subject DN (RFC 2253) mapped by the listener's rules, or User:ANONYMOUS
 * without a certificate. Returns its length, or -1 when no rule applies
 * (Kafka fails the authentication then). */
int dp_tls_principal(const struct dp_tls *t, char *out, size_t out_size);
/* The subject DN of cert as Java's X500Principal.getName() (RFC 2253);
 * returns its length or -1. */
int dp_tls_subject_dn(X509 *cert, char *out, size_t out_size);

/* ssl.principal.mapping.rules (Kafka's SslPrincipalMapper): parse the
 * comma-separated rules; NULL with err set when one is malformed.
 * @thread control */
struct dp_tls_rules *dp_tls_rules_parse(const char *text, char *err, size_t err_size);
void dp_tls_rules_free(struct dp_tls_rules *rules);
/* Map dn by the first rule that applies into out; its length, or -1 when
 * none applies (or out is too small). @thread any */
int dp_tls_rules_apply(const struct dp_tls_rules *rules, const char *dn, char *out,
		       size_t out_size);

#endif
