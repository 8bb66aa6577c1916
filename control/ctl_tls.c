/* SPDX-License-Identifier: Apache-2.0 */
/* A listener's TLS context from Kafka's ssl.* keys (per-listener
 * listener.name.<listener>.ssl.* first, as Kafka): PEM key stores only
 * (file or inline), PEM trust stores, enabled protocols, cipher suites by
 * their IANA or OpenSSL names, ssl.client.auth, and the principal mapping
 * rules. Built on control at startup (an error names the key and stops
 * it) and again on a reload, then published to the cores (dp_tls_publish).
 * The context type and the rules belong to dataplane/dp_tls.h, which
 * control includes for this one purpose. @thread control */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "common/compiler.h"
#include "control/ctl_int.h"
#include "control/ctl_tls.h"
#include "dataplane/dp.h"
#include "dataplane/dp_tls.h"
#include "protocol/kp_session.h"

/* Kafka 3.9's defaults of the keys read here. */
static const char *const ctl_tls_defaults[][2] = {
	{ "ssl.keystore.type", "JKS" }, { "ssl.truststore.type", "JKS" },
	{ "ssl.protocol", "TLSv1.3" }, { "ssl.enabled.protocols", "TLSv1.2,TLSv1.3" },
	{ "ssl.client.auth", "none" }, { "ssl.principal.mapping.rules", "DEFAULT" },
	{ "ssl.endpoint.identification.algorithm", "https" },
};

/* Where the keys come from, most specific first: this broker's dynamic
 * configs, the cluster default's, then the file and overrides. */
struct ctl_tls_src {
	const struct config *cfg;
	const struct config_dyn_entry *dyn[2];
	int32_t dyn_count[2];
};

/* A key's value for listener: listener.name.<listener lower-cased>.<key>,
 * else <key>, each from the layers of src, else Kafka's default (NULL:
 * none). name is the key used. */
struct ctl_tls_val {
	const char *text;
	char name[160];
};

static const char *
ctl_tls_layers(const struct ctl_tls_src *src, const char *key)
{
	for (int l = 0; l < 2; l++) {
		for (int32_t i = 0; i < src->dyn_count[l]; i++) {
			if (strcmp(src->dyn[l][i].name, key) == 0)
				return src->dyn[l][i].value;
		}
	}
	return config_ssl_get(src->cfg, key);
}

static void
ctl_tls_get(const struct ctl_tls_src *src, const char *listener, const char *key,
	    struct ctl_tls_val *v)
{
	size_t n = (size_t)snprintf(v->name, sizeof(v->name), "listener.name.%s.%s",
				    listener, key);

	for (size_t i = 14; i < n && v->name[i] != '.'; i++)
		v->name[i] = (char)((v->name[i] >= 'A' && v->name[i] <= 'Z') ? v->name[i] + 32
									      : v->name[i]);
	v->text = ctl_tls_layers(src, v->name);
	if (v->text == NULL) {
		snprintf(v->name, sizeof(v->name), "%s", key);
		v->text = ctl_tls_layers(src, key);
	}
	for (size_t i = 0; v->text == NULL && i < ARRAY_LEN(ctl_tls_defaults); i++) {
		if (strcmp(ctl_tls_defaults[i][0], key) == 0)
			v->text = ctl_tls_defaults[i][1];
	}
	if (v->text != NULL && v->text[0] == '\0')
		v->text = NULL;         /* set empty: as unset (Kafka's null) */
}

static void __attribute__((format(printf, 3, 4)))
ctl_tls_err(char *err, size_t err_size, const char *fmt, ...)
{
	char why[160] = "";
	unsigned long e = ERR_peek_last_error();
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	n = (size_t)vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
	if (e != 0 && n < err_size) {
		ERR_error_string_n(e, why, sizeof(why));
		snprintf(err + n, err_size - n, " (%s)", why);
	}
	ERR_clear_error();
}

/* Whole file into a memory BIO (it holds PEM blocks); NULL when it cannot
 * be read. */
static BIO *
ctl_tls_file(const char *path)
{
	BIO *file = BIO_new_file(path, "r");
	BIO *mem;
	char buf[4096];
	int n;

	if (file == NULL)
		return NULL;
	mem = BIO_new(BIO_s_mem());
	while (mem != NULL && (n = BIO_read(file, buf, sizeof(buf))) > 0) {
		if (BIO_write(mem, buf, n) != n) {
			BIO_free(mem);
			mem = NULL;
		}
	}
	BIO_free(file);
	return mem;
}

/* The PEM text of a store: inline text (key inline_key) or a file. */
static BIO *
ctl_tls_pem(const struct ctl_tls_val *inline_text, const struct ctl_tls_val *location,
	    char *err, size_t err_size)
{
	BIO *b;

	if (inline_text != NULL && inline_text->text != NULL) {
		b = BIO_new_mem_buf(inline_text->text, -1);
		if (b == NULL)
			ctl_tls_err(err, err_size, "%s: out of memory", inline_text->name);
		return b;
	}
	b = ctl_tls_file(location->text);
	if (b == NULL)
		ctl_tls_err(err, err_size, "%s: cannot read '%s'", location->name, location->text);
	return b;
}

static int
ctl_tls_password_cb(char *buf, int size, int rwflag, void *arg)
{
	const char *password = arg;
	size_t n = password != NULL ? strlen(password) : 0;

	(void)rwflag;
	if (n == 0 || n >= (size_t)size)
		return 0;
	memcpy(buf, password, n);
	return (int)n;
}

static bool
ctl_tls_type_pem(const struct ctl_tls_val *type, char *err, size_t err_size)
{
	if (type->text != NULL && strcasecmp(type->text, "PEM") == 0)
		return true;
	snprintf(err, err_size, "%s=%s is not supported: Spillway reads PEM stores only (set "
		 "%s=PEM with PEM files or inline PEM text)", type->name,
		 type->text != NULL ? type->text : "", type->name);
	return false;
}

/* The key and certificate chain: ssl.keystore.certificate.chain and
 * ssl.keystore.key inline, else the PEM file ssl.keystore.location (key
 * and chain, leaf first), the key decrypted with ssl.key.password. */
static int
ctl_tls_keystore(SSL_CTX *ctx, const struct ctl_tls_src *src, const char *l, char *err,
		 size_t err_size)
{
	struct ctl_tls_val type, loc, chain, key, pass;
	/* The callback only reads the password; the union drops const. */
	union { const char *ro; void *rw; } pw;
	BIO *kb, *cb;
	EVP_PKEY *pkey;
	X509 *cert;
	int rc = -EINVAL;

	ctl_tls_get(src, l, "ssl.keystore.type", &type);
	ctl_tls_get(src, l, "ssl.keystore.location", &loc);
	ctl_tls_get(src, l, "ssl.keystore.certificate.chain", &chain);
	ctl_tls_get(src, l, "ssl.keystore.key", &key);
	ctl_tls_get(src, l, "ssl.key.password", &pass);
	if (!ctl_tls_type_pem(&type, err, err_size))
		return -EINVAL;
	if ((chain.text == NULL) != (key.text == NULL)) {
		snprintf(err, err_size, "%s and %s go together", chain.name, key.name);
		return -EINVAL;
	}
	if (chain.text == NULL && loc.text == NULL) {
		snprintf(err, err_size, "listener %s: ssl.keystore.location (or "
			 "ssl.keystore.certificate.chain and ssl.keystore.key) is required", l);
		return -EINVAL;
	}
	kb = ctl_tls_pem(chain.text != NULL ? &key : NULL, &loc, err, err_size);
	cb = kb == NULL ? NULL : ctl_tls_pem(chain.text != NULL ? &chain : NULL, &loc, err,
					     err_size);
	if (cb == NULL) {
		BIO_free(kb);
		return -EINVAL;
	}
	pw.ro = pass.text;
	pkey = PEM_read_bio_PrivateKey(kb, NULL, ctl_tls_password_cb, pw.rw);
	cert = PEM_read_bio_X509_AUX(cb, NULL, NULL, NULL);
	if (pkey == NULL) {
		ctl_tls_err(err, err_size, "%s: no private key that %s decrypts",
			    chain.text != NULL ? key.name : loc.name, pass.name);
	} else if (cert == NULL) {
		ctl_tls_err(err, err_size, "%s: no certificate",
			    chain.text != NULL ? chain.name : loc.name);
	} else if (SSL_CTX_use_certificate(ctx, cert) != 1 ||
		   SSL_CTX_use_PrivateKey(ctx, pkey) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		ctl_tls_err(err, err_size, "%s: the private key does not match the certificate",
			    chain.text != NULL ? key.name : loc.name);
	} else {
		X509 *ca;

		rc = 0;
		while ((ca = PEM_read_bio_X509(cb, NULL, NULL, NULL)) != NULL) {
			if (SSL_CTX_add0_chain_cert(ctx, ca) != 1) {
				X509_free(ca);
				rc = -EINVAL;
			}
		}
		ERR_clear_error();      /* the end of the PEM text */
	}
	EVP_PKEY_free(pkey);
	X509_free(cert);
	BIO_free(kb);
	BIO_free(cb);
	return rc;
}

/* Trusted CAs for client certificates: ssl.truststore.certificates inline
 * or the PEM file ssl.truststore.location. */
static int
ctl_tls_truststore(SSL_CTX *ctx, const struct ctl_tls_src *src, const char *l, bool needed,
		   char *err, size_t err_size)
{
	struct ctl_tls_val type, loc, certs;
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	X509 *ca;
	int count = 0;
	BIO *b;

	ctl_tls_get(src, l, "ssl.truststore.type", &type);
	ctl_tls_get(src, l, "ssl.truststore.location", &loc);
	ctl_tls_get(src, l, "ssl.truststore.certificates", &certs);
	if (loc.text == NULL && certs.text == NULL) {
		if (!needed)
			return 0;
		snprintf(err, err_size, "listener %s: ssl.client.auth needs the CAs of client "
			 "certificates in ssl.truststore.location or ssl.truststore.certificates",
			 l);
		return -EINVAL;
	}
	if (!ctl_tls_type_pem(&type, err, err_size))
		return -EINVAL;
	b = ctl_tls_pem(certs.text != NULL ? &certs : NULL, &loc, err, err_size);
	if (b == NULL)
		return -EINVAL;
	while ((ca = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(store, ca) == 1)
			count++;
		X509_free(ca);
	}
	ERR_clear_error();
	BIO_free(b);
	if (count == 0) {
		snprintf(err, err_size, "%s: no certificate in it",
			 certs.text != NULL ? certs.name : loc.name);
		return -EINVAL;
	}
	return 0;
}

static int
ctl_tls_version_of(const char *name)
{
	if (strcmp(name, "TLSv1.2") == 0)
		return TLS1_2_VERSION;
	if (strcmp(name, "TLSv1.3") == 0)
		return TLS1_3_VERSION;
	return 0;
}

/* ssl.enabled.protocols (TLSv1.2, TLSv1.3) sets the version range;
 * ssl.protocol is checked (Kafka passes it to SSLContext.getInstance). */
static int
ctl_tls_protocols(SSL_CTX *ctx, const struct ctl_tls_src *src, const char *l, char *err,
		  size_t err_size)
{
	struct ctl_tls_val list, proto;
	char buf[256], *save = NULL;
	int lo = 0, hi = 0;

	ctl_tls_get(src, l, "ssl.enabled.protocols", &list);
	ctl_tls_get(src, l, "ssl.protocol", &proto);
	if (proto.text != NULL && strcmp(proto.text, "TLS") != 0 &&
	    ctl_tls_version_of(proto.text) == 0) {
		snprintf(err, err_size, "%s=%s: expected TLS, TLSv1.2 or TLSv1.3", proto.name,
			 proto.text);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", list.text != NULL ? list.text : "TLSv1.2,TLSv1.3");
	for (char *p = strtok_r(buf, ", ", &save); p != NULL; p = strtok_r(NULL, ", ", &save)) {
		int v = ctl_tls_version_of(p);

		if (v == 0) {
			snprintf(err, err_size, "%s: '%s' is not supported (TLSv1.2, TLSv1.3)",
				 list.name, p);
			return -EINVAL;
		}
		lo = lo == 0 ? v : MIN(lo, v);
		hi = MAX(hi, v);
	}
	if (lo == 0 || SSL_CTX_set_min_proto_version(ctx, lo) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, hi) != 1) {
		snprintf(err, err_size, "%s: no protocol enabled", list.name);
		return -EINVAL;
	}
	return 0;
}

/* The OpenSSL name of a TLS 1.2 suite given by its IANA name (Kafka's
 * configs use the JSSE/IANA names) or its OpenSSL name; NULL if unknown. */
static const char *
ctl_tls_cipher_name(STACK_OF(SSL_CIPHER) *all, const char *name)
{
	for (int i = 0; i < sk_SSL_CIPHER_num(all); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(all, i);
		const char *std = SSL_CIPHER_standard_name(c);

		if ((std != NULL && strcmp(std, name) == 0) ||
		    strcmp(SSL_CIPHER_get_name(c), name) == 0)
			return SSL_CIPHER_get_name(c);
	}
	return NULL;
}

/* ssl.cipher.suites: TLS 1.3 suites (TLS_AES_...) and TLS 1.2 ones, by
 * IANA or OpenSSL name; empty: OpenSSL's defaults. */
static int
ctl_tls_ciphers(SSL_CTX *ctx, const struct ctl_tls_src *src, const char *l, char *err,
		size_t err_size)
{
	static const char *const tls13[] = {
		"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
		"TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256",
	};
	struct ctl_tls_val list;
	char buf[2048], v12[2048] = "", v13[512] = "", *save = NULL;
	SSL_CTX *probe;
	STACK_OF(SSL_CIPHER) *all;
	int rc = 0;

	ctl_tls_get(src, l, "ssl.cipher.suites", &list);
	if (list.text == NULL)
		return 0;
	probe = SSL_CTX_new(TLS_server_method());
	if (probe == NULL || SSL_CTX_set_cipher_list(probe, "ALL:COMPLEMENTOFALL") != 1) {
		SSL_CTX_free(probe);
		snprintf(err, err_size, "%s: out of memory", list.name);
		return -ENOMEM;
	}
	all = SSL_CTX_get_ciphers(probe);
	snprintf(buf, sizeof(buf), "%s", list.text);
	for (char *p = strtok_r(buf, ", ", &save); p != NULL && rc == 0;
	     p = strtok_r(NULL, ", ", &save)) {
		const char *name = NULL;
		bool is13 = false;

		for (size_t i = 0; i < ARRAY_LEN(tls13) && !is13; i++)
			is13 = strcmp(p, tls13[i]) == 0;
		if (!is13)
			name = ctl_tls_cipher_name(all, p);
		if (!is13 && name == NULL) {
			snprintf(err, err_size, "%s: unknown cipher suite '%s'", list.name, p);
			rc = -EINVAL;
			break;
		}
		if (is13)
			snprintf(v13 + strlen(v13), sizeof(v13) - strlen(v13), "%s%s",
				 v13[0] ? ":" : "", p);
		else
			snprintf(v12 + strlen(v12), sizeof(v12) - strlen(v12), "%s%s",
				 v12[0] ? ":" : "", name);
	}
	SSL_CTX_free(probe);
	/* A version with none of its suites listed is off (Kafka's list is
	 * the whole set). */
	if (rc == 0 && (SSL_CTX_set_ciphersuites(ctx, v13) != 1 ||
			(v12[0] != '\0' && SSL_CTX_set_cipher_list(ctx, v12) != 1))) {
		ctl_tls_err(err, err_size, "%s: not usable", list.name);
		rc = -EINVAL;
	}
	if (rc == 0 && v12[0] == '\0')
		SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (rc == 0 && v13[0] == '\0')
		SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	return rc;
}

/* ssl.client.auth: none, requested (verify a certificate when sent) or
 * required. Returns the SSL_VERIFY_* mode, or -1. */
static int
ctl_tls_client_auth(const struct ctl_tls_src *src, const char *l, char *err, size_t err_size)
{
	struct ctl_tls_val v;

	ctl_tls_get(src, l, "ssl.client.auth", &v);
	if (v.text == NULL || strcmp(v.text, "none") == 0)
		return SSL_VERIFY_NONE;
	if (strcmp(v.text, "requested") == 0)
		return SSL_VERIFY_PEER;
	if (strcmp(v.text, "required") == 0)
		return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	snprintf(err, err_size, "%s=%s: expected required, requested or none", v.name, v.text);
	return -1;
}

static int
ctl_tls_configure(SSL_CTX *ctx, const struct ctl_tls_src *src, const char *l, char *err,
		  size_t err_size)
{
	static const unsigned char sid[] = "spillway";
	int verify = ctl_tls_client_auth(src, l, err, err_size);

	if (verify < 0 || ctl_tls_keystore(ctx, src, l, err, err_size) != 0 ||
	    ctl_tls_truststore(ctx, src, l, verify != SSL_VERIFY_NONE, err, err_size) != 0 ||
	    ctl_tls_protocols(ctx, src, l, err, err_size) != 0 ||
	    ctl_tls_ciphers(ctx, src, l, err, err_size) != 0)
		return -EINVAL;
	SSL_CTX_set_verify(ctx, verify, NULL);
	/* Renegotiation is refused: a handshake is one bounded exchange. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
	return 0;
}

static struct dp_tls_ctx *
ctl_tls_build_src(const struct ctl_tls_src *src, const char *listener, char *err,
		  size_t err_size)
{
	struct ctl_tls_val rules_text;
	struct dp_tls_rules *rules;
	char why[256] = "";
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		ctl_tls_err(err, err_size, "listener %s: cannot create a TLS context", listener);
		return NULL;
	}
	if (ctl_tls_configure(ctx, src, listener, err, err_size) != 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	ctl_tls_get(src, listener, "ssl.principal.mapping.rules", &rules_text);
	rules = dp_tls_rules_parse(rules_text.text, why, sizeof(why));
	if (rules == NULL) {
		snprintf(err, err_size, "%s: %s", rules_text.name, why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return dp_tls_ctx_new(ctx, rules);
}

int
ctl_tls_handshake_ms(const struct config *cfg, char *err, size_t err_size)
{
	const char *text = config_ssl_get(cfg, CONFIG_SSL_HANDSHAKE_TIMEOUT_KEY);
	char *end;
	long v;

	if (text == NULL)
		return CTL_TLS_HANDSHAKE_MS_DEFAULT;
	v = strtol(text, &end, 10);
	if (end == text || *end != '\0' || v < 1 || v > 3600000) {
		snprintf(err, err_size, "%s=%s: expected 1..3600000",
			 CONFIG_SSL_HANDSHAKE_TIMEOUT_KEY, text);
		return -1;
	}
	return (int)v;
}

struct dp_tls_ctx *
ctl_tls_build(const struct config *cfg, const char *listener, char *err, size_t err_size)
{
	struct ctl_tls_src src = { .cfg = cfg };

	return ctl_tls_build_src(&src, listener, err, err_size);
}

/* Build every TLS listener's context into ctx[] from src; -EINVAL with err
 * (and none kept) when one fails. */
static int
ctl_tls_build_all(const struct ctl_tls_src *src, struct dp_tls_ctx **ctx, char *err,
		  size_t err_size)
{
	const struct config *cfg = src->cfg;

	for (int i = 0; i < cfg->listener_count; i++) {
		ctx[i] = NULL;
		if (!kp_sec_is_tls(cfg->listeners[i].protocol))
			continue;
		ctx[i] = ctl_tls_build_src(src, cfg->listeners[i].name, err, err_size);
		if (ctx[i] == NULL) {
			ctl_tls_discard(ctx);
			return -EINVAL;
		}
	}
	return 0;
}

void
ctl_tls_discard(struct dp_tls_ctx **ctx)
{
	for (int i = 0; i < CONFIG_LISTENERS_MAX; i++) {
		dp_tls_ctx_unref(ctx[i]);
		ctx[i] = NULL;
	}
}

void
ctl_tls_commit(struct dp *dp, struct dp_tls_ctx **ctx)
{
	for (int i = 0; i < CONFIG_LISTENERS_MAX; i++) {
		if (ctx[i] != NULL)
			dp_tls_publish(dp, i, ctx[i]);
		ctx[i] = NULL;
	}
}

int
ctl_tls_publish(struct dp *dp, struct ctl *ctl, char *err, size_t err_size)
{
	const struct ctl_dyn_set *b = ctl_dyn_get(ctl, true), *d = ctl_dyn_get(ctl, false);
	struct ctl_tls_src src = { ctl->cfg, { b->e, d->e }, { b->count, d->count } };
	struct dp_tls_ctx *ctx[CONFIG_LISTENERS_MAX] = { 0 };

	if (ctl_tls_build_all(&src, ctx, err, err_size) != 0)
		return -EINVAL;
	ctl_tls_commit(dp, ctx);
	return 0;
}

bool
ctl_tls_key(const char *name, size_t len)
{
	static const char prefix[] = "listener.name.";

	if (len >= 4 && memcmp(name, "ssl.", 4) == 0)
		return true;
	if (len < sizeof(prefix) || memcmp(name, prefix, sizeof(prefix) - 1) != 0)
		return false;
	for (size_t i = sizeof(prefix) - 1; i + 5 <= len; i++) {
		if (memcmp(name + i, ".ssl.", 5) == 0)
			return true;
	}
	return false;
}

int
ctl_tls_prepare(struct ctl *ctl, bool per_broker, const struct config_dyn_entry *e,
		int32_t n, struct dp_tls_ctx **ctx, char *err, size_t err_size)
{
	const struct ctl_dyn_set *b = ctl_dyn_get(ctl, true), *d = ctl_dyn_get(ctl, false);
	struct ctl_tls_src src = { ctl->cfg, { b->e, d->e }, { b->count, d->count } };
	int l = per_broker ? 0 : 1;

	src.dyn[l] = e;         /* the layer as it would become */
	src.dyn_count[l] = n;
	return ctl_tls_build_all(&src, ctx, err, err_size);
}
