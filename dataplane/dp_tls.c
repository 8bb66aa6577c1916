/* SPDX-License-Identifier: Apache-2.0 */
/* One connection's TLS over memory BIOs (see dp_tls.h). OpenSSL does all
 * the cryptography; this file moves bytes between its BIOs and the caller's
 * buffers and turns its results into dp_tls_result. @thread dataplane,
 * except the context constructor (control). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "dataplane/dp_tls.h"
#include "protocol/kp_session.h"

struct dp_tls_ctx *
dp_tls_ctx_new(SSL_CTX *ssl_ctx, struct dp_tls_rules *rules)
{
	struct dp_tls_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL) {
		SSL_CTX_free(ssl_ctx);
		dp_tls_rules_free(rules);
		return NULL;
	}
	ctx->ssl_ctx = ssl_ctx;
	ctx->rules = rules;
	ctx->refs = 1;
	return ctx;
}

void
dp_tls_ctx_ref(struct dp_tls_ctx *ctx)
{
	__atomic_fetch_add(&ctx->refs, 1, __ATOMIC_RELAXED);
}

/* The last reference frees it: acq_rel orders every holder's use before
 * the free. */
void
dp_tls_ctx_unref(struct dp_tls_ctx *ctx)
{
	if (ctx == NULL || __atomic_sub_fetch(&ctx->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	dp_tls_rules_free(ctx->rules);
	free(ctx);
}

int
dp_tls_init(struct dp_tls *t, struct dp_tls_ctx *ctx, uint64_t deadline_ns)
{
	memset(t, 0, sizeof(*t));
	t->ssl = SSL_new(ctx->ssl_ctx);
	t->rbio = BIO_new(BIO_s_mem());
	t->wbio = BIO_new(BIO_s_mem());
	t->plain = malloc(DP_TLS_PLAIN_BYTES);
	t->file = malloc(DP_TLS_FILE_BYTES);
	t->cipher = malloc(DP_TLS_CIPHER_BYTES);
	if (t->ssl == NULL || t->rbio == NULL || t->wbio == NULL || t->plain == NULL ||
	    t->file == NULL || t->cipher == NULL) {
		BIO_free(t->rbio);
		BIO_free(t->wbio);
		t->rbio = NULL;
		t->wbio = NULL;
		dp_tls_fini(t);
		return -ENOMEM;
	}
	/* An empty memory BIO reads as "retry", not as end of file. */
	BIO_set_mem_eof_return(t->rbio, -1);
	BIO_set_mem_eof_return(t->wbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);  /* the SSL owns both now */
	SSL_set_accept_state(t->ssl);
	dp_tls_ctx_ref(ctx);
	t->ctx = ctx;
	t->deadline_ns = deadline_ns;
	return 0;
}

void
dp_tls_fini(struct dp_tls *t)
{
	SSL_free(t->ssl);       /* frees the BIOs it owns */
	free(t->plain);
	free(t->file);
	free(t->in);
	free(t->cipher);
	dp_tls_ctx_unref(t->ctx);
	memset(t, 0, sizeof(*t));
}

bool
dp_tls_feed(struct dp_tls *t, const void *data, uint32_t len)
{
	ASSERT_HOT(len <= INT32_MAX);
	return len == 0 || BIO_write(t->rbio, data, (int)len) == (int)len;
}

uint8_t *
dp_tls_in_buf(struct dp_tls *t)
{
	if (t->in == NULL)
		t->in = malloc(DP_TLS_IN_MAX);
	return t->in;
}

uint32_t
dp_tls_in_pending(const struct dp_tls *t)
{
	return (uint32_t)BIO_ctrl_pending(t->rbio);
}

bool
dp_tls_rx_more(const struct dp_tls *t)
{
	return dp_tls_in_pending(t) > 0 || SSL_pending(t->ssl) > 0;
}

/* The error queue is per thread: clear what a failed call left so that
 * the next call's SSL_get_error() sees only its own. */
static enum dp_tls_result
dp_tls_result_of(struct dp_tls *t, int rc)
{
	switch (SSL_get_error(t->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return DP_TLS_AGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return DP_TLS_EOF;
	default:
		ERR_clear_error();
		return DP_TLS_ERR;
	}
}

enum dp_tls_result
dp_tls_handshake(struct dp_tls *t)
{
	int rc;

	if (t->open)
		return DP_TLS_OK;
	rc = SSL_do_handshake(t->ssl);
	if (rc == 1) {
		t->open = true;
		return DP_TLS_OK;
	}
	/* close_notify during the handshake is a failed handshake too. */
	return rc == 0 ? (ERR_clear_error(), DP_TLS_ERR) : dp_tls_result_of(t, rc);
}

enum dp_tls_result
dp_tls_read(struct dp_tls *t, uint8_t *out, uint32_t cap, uint32_t *got)
{
	enum dp_tls_result r = DP_TLS_AGAIN;

	ASSERT_HOT(t->open);
	*got = 0;
	while (*got < cap) {
		size_t n = 0;
		int rc = SSL_read_ex(t->ssl, out + *got, cap - *got, &n);

		if (rc <= 0) {
			r = dp_tls_result_of(t, rc);
			break;
		}
		*got += (uint32_t)n;
	}
	return *got > 0 && r != DP_TLS_ERR ? DP_TLS_OK : r;
}

bool
dp_tls_write(struct dp_tls *t, const void *data, uint32_t len)
{
	size_t n = 0;

	if (len == 0)
		return true;
	if (SSL_write_ex(t->ssl, data, len, &n) != 1 || n != len) {
		ERR_clear_error();
		return false;
	}
	return true;
}

uint32_t
dp_tls_out_pending(const struct dp_tls *t)
{
	return (uint32_t)BIO_ctrl_pending(t->wbio);
}

uint32_t
dp_tls_out_take(struct dp_tls *t, uint8_t *out, uint32_t cap)
{
	int n;

	if (cap == 0 || dp_tls_out_pending(t) == 0)
		return 0;
	n = BIO_read(t->wbio, out, (int)MIN(cap, (uint32_t)INT32_MAX));
	return n > 0 ? (uint32_t)n : 0;
}

/* Java's X500Principal.getName() is RFC 2253 with UTF-8 kept as is:
 * OpenSSL's RFC 2253 flags less the escaping of non-ASCII bytes. */
int
dp_tls_subject_dn(X509 *cert, char *out, size_t out_size)
{
	unsigned long flags = XN_FLAG_RFC2253 & ~(unsigned long)ASN1_STRFLGS_ESC_MSB;
	BIO *mem = BIO_new(BIO_s_mem());
	int len = -1;
	char *data;
	long n;

	if (mem == NULL)
		return -1;
	if (X509_NAME_print_ex(mem, X509_get_subject_name(cert), 0, flags) >= 0) {
		n = BIO_get_mem_data(mem, &data);
		if (n >= 0 && (size_t)n < out_size && memchr(data, '\0', (size_t)n) == NULL) {
			memcpy(out, data, (size_t)n);
			out[n] = '\0';
			len = (int)n;
		}
	}
	BIO_free(mem);
	return len;
}

int
dp_tls_principal(const struct dp_tls *t, char *out, size_t out_size)
{
	static const char user[] = "User:";
	char dn[DP_TLS_DN_MAX];
	X509 *cert = SSL_get1_peer_certificate(t->ssl);
	int len;

	ASSERT(out_size > sizeof(KP_PRINCIPAL_ANONYMOUS));
	if (cert == NULL) {
		memcpy(out, KP_PRINCIPAL_ANONYMOUS, sizeof(KP_PRINCIPAL_ANONYMOUS));
		return (int)sizeof(KP_PRINCIPAL_ANONYMOUS) - 1;
	}
	len = dp_tls_subject_dn(cert, dn, sizeof(dn));
	X509_free(cert);
	if (len < 0)
		return -1;
	memcpy(out, user, sizeof(user) - 1);
	len = dp_tls_rules_apply(t->ctx->rules, dn, out + sizeof(user) - 1,
				 out_size - (sizeof(user) - 1));
	return len < 0 ? -1 : len + (int)sizeof(user) - 1;
}
