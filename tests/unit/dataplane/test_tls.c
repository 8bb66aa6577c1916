/* SPDX-License-Identifier: Apache-2.0 */
/* Tests dataplane/dp_tls.c and dp_tls_rules.c over memory: a client SSL of
 * the test talks to the server side through dp_tls_feed / dp_tls_out_take,
 * with certificates made here (a CA, a server and a client certificate);
 * and Kafka's SslPrincipalMapper cases for ssl.principal.mapping.rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/compiler.h"
#include "dataplane/dp_tls.h"

/* ---- ssl.principal.mapping.rules (Kafka's SslPrincipalMapperTest) ---- */

static struct dp_tls_rules *
rules_of(const char *text)
{
	char err[256];
	struct dp_tls_rules *rules = dp_tls_rules_parse(text, err, sizeof(err));

	cr_assert_not_null(rules, "%s: %s", text, err);
	return rules;
}

static void
rules_invalid(const char *text)
{
	char err[256] = "";

	cr_expect_null(dp_tls_rules_parse(text, err, sizeof(err)), "accepted: %s", text);
	cr_expect_neq(err[0], '\0');
}

Test(tls_rules, valid_rules_parse)
{
	const char *ok[] = {
		"DEFAULT", "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, DEFAULT",
		"RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/",
		"RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L",
		"RULE:^cn=(.?),ou=(.?),dc=(.?),dc=(.?)$/$1@$2/U",
		"RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1/", "RULE:^CN=([^,DEFAULT,]+)(,.*|$)/$1/",
		"", ",   , , ,      , , ,   ", "RULE://", "  RULE:// ,  DEFAULT  ",
		"  RULE:([A-Z]*)/$1/U   ,RULE:([a-z]+)/$1/,   DEFAULT  ",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		dp_tls_rules_free(rules_of(ok[i]));
}

Test(tls_rules, invalid_rules_refused)
{
	rules_invalid("default");
	rules_invalid("DEFAUL");
	rules_invalid("DEFAULT/L");
	rules_invalid("DEFAULT/U");
	rules_invalid("RULE:CN=(.*?),OU=ServiceUsers.*/$1");
	rules_invalid("rule:^CN=(.*?),OU=ServiceUsers.*$/$1/");
	rules_invalid("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U");
	rules_invalid("RULE:^CN=(.*?),OU=ServiceUsers.*$/L");
	rules_invalid("RULE:^CN=(.*?),OU=ServiceUsers.*$/U");
	rules_invalid("RULE:^CN=(.*?),OU=ServiceUsers.*$/LU");
	rules_invalid("RULE:^CN=((.*$/$1/");      /* not a regex */
}

static void
expect_map(const struct dp_tls_rules *rules, const char *dn, const char *want)
{
	char out[256];
	int len = dp_tls_rules_apply(rules, dn, out, sizeof(out));

	if (want == NULL) {
		cr_expect_eq(len, -1, "%s mapped to %s", dn, out);
		return;
	}
	cr_assert_geq(len, 0, "%s: no rule applied", dn);
	cr_expect_str_eq(out, want);
	cr_expect_eq((size_t)len, strlen(want));
}

Test(tls_rules, kafka_mapper_cases)
{
	struct dp_tls_rules *rules = rules_of(
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, "
		"RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L, "
		"RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U, "
		"RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U, DEFAULT");

	expect_map(rules, "CN=Duke,OU=ServiceUsers,O=Org,C=US", "duke");
	expect_map(rules, "CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US", "duke@sme");
	expect_map(rules, "cn=duke,ou=sme,dc=mycp,dc=com", "DUKE@SME");
	expect_map(rules, "cN=duke,OU=JavaSoft,O=Sun Microsystems", "DUKE");
	expect_map(rules, "OU=JavaSoft,O=Sun Microsystems,C=US",
		   "OU=JavaSoft,O=Sun Microsystems,C=US");
	dp_tls_rules_free(rules);
}

Test(tls_rules, comma_with_whitespace_and_literal_groups)
{
	struct dp_tls_rules *rules = rules_of("RULE:^CN=((\\\\, *|\\w)+)(,.*|$)/$1/,DEFAULT");

	expect_map(rules, "CN=Tkac\\, Adam,OU=ITZ,DC=geodis,DC=cz", "Tkac\\, Adam");
	dp_tls_rules_free(rules);
	/* $4 past the groups is literal; \$ is a literal $. */
	rules = rules_of("RULE:^CN=(\\w+),O=(\\w+)$/$1@$4\\$$2/");
	expect_map(rules, "CN=alice,O=acme", "alice@$4$acme");
	dp_tls_rules_free(rules);
}

Test(tls_rules, no_rule_applies)
{
	struct dp_tls_rules *rules = rules_of("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/");

	expect_map(rules, "CN=Duke,OU=Other", NULL);
	dp_tls_rules_free(rules);
	rules = rules_of("");
	expect_map(rules, "CN=x", NULL);
	dp_tls_rules_free(rules);
	rules = rules_of(NULL);         /* unset: DEFAULT */
	expect_map(rules, "CN=x,O=y", "CN=x,O=y");
	dp_tls_rules_free(rules);
}

/* ---- the engine over memory ---- */

static EVP_PKEY *
key_new(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");

	cr_assert_not_null(key);
	return key;
}

/* A certificate for subject (";"-free "CN=..,O=.." text) signed by
 * issuer_key (self-signed when issuer is NULL). */
static X509 *
cert_new(EVP_PKEY *key, const char *cn, const char *org, X509 *issuer, EVP_PKEY *issuer_key,
	 bool ca)
{
	X509 *cert = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	cr_assert_not_null(cert);
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), (long)(uintptr_t)cert & 0x7fffffff);
	X509_gmtime_adj(X509_getm_notBefore(cert), -60);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	X509_set_pubkey(cert, key);
	X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)org, -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(cert, name);
	X509_set_issuer_name(cert, issuer != NULL ? X509_get_subject_name(issuer) : name);
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : cert, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
				  ca ? "critical,CA:TRUE" : "CA:FALSE");
	X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	cr_assert(X509_sign(cert, issuer_key != NULL ? issuer_key : key, EVP_sha256()) > 0);
	X509_NAME_free(name);
	return cert;
}

static struct {
	EVP_PKEY *ca_key, *server_key, *client_key;
	X509 *ca, *server, *client;
} pki;

static void
pki_setup(void)
{
	pki.ca_key = key_new();
	pki.server_key = key_new();
	pki.client_key = key_new();
	pki.ca = cert_new(pki.ca_key, "test-ca", "Spillway", NULL, NULL, true);
	pki.server = cert_new(pki.server_key, "localhost", "Spillway", pki.ca, pki.ca_key, false);
	pki.client = cert_new(pki.client_key, "alice", "Acme", pki.ca, pki.ca_key, false);
}

static void
pki_teardown(void)
{
	X509_free(pki.ca);
	X509_free(pki.server);
	X509_free(pki.client);
	EVP_PKEY_free(pki.ca_key);
	EVP_PKEY_free(pki.server_key);
	EVP_PKEY_free(pki.client_key);
}

/* The server context as control builds it: key, chain, trust, verify. */
static struct dp_tls_ctx *
server_ctx(int verify, const char *rules_text)
{
	SSL_CTX *ssl_ctx = SSL_CTX_new(TLS_server_method());
	char err[128];
	struct dp_tls_rules *rules = dp_tls_rules_parse(rules_text, err, sizeof(err));

	cr_assert_not_null(rules);
	cr_assert(SSL_CTX_use_certificate(ssl_ctx, pki.server) == 1);
	cr_assert(SSL_CTX_use_PrivateKey(ssl_ctx, pki.server_key) == 1);
	cr_assert(X509_STORE_add_cert(SSL_CTX_get_cert_store(ssl_ctx), pki.ca) == 1);
	SSL_CTX_set_verify(ssl_ctx, verify, NULL);
	return dp_tls_ctx_new(ssl_ctx, rules);
}

/* The client end: an SSL over its own memory BIOs. */
struct client {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *in, *out;
};

static void
client_init(struct client *c, bool with_cert)
{
	c->ctx = SSL_CTX_new(TLS_client_method());
	cr_assert(X509_STORE_add_cert(SSL_CTX_get_cert_store(c->ctx), pki.ca) == 1);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (with_cert) {
		cr_assert(SSL_CTX_use_certificate(c->ctx, pki.client) == 1);
		cr_assert(SSL_CTX_use_PrivateKey(c->ctx, pki.client_key) == 1);
	}
	c->ssl = SSL_new(c->ctx);
	c->in = BIO_new(BIO_s_mem());
	c->out = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(c->in, -1);
	SSL_set_bio(c->ssl, c->in, c->out);
	SSL_set_connect_state(c->ssl);
	/* OpenSSL's macro casts the name to void *: not a literal (clang
	 * -Wcast-qual). */
	static char sni[] = "localhost";

	SSL_set_tlsext_host_name(c->ssl, sni);
	SSL_set1_host(c->ssl, "localhost");
}

static void
client_fini(struct client *c)
{
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
}

/* Move what each side wrote to the other, in chunks of at most chunk
 * bytes (1: byte by byte, as a slow network would). */
static void
pump(struct client *c, struct dp_tls *t, uint32_t chunk)
{
	uint8_t buf[70000];
	int n;
	uint32_t got;

	while ((n = BIO_read(c->out, buf, (int)MIN(sizeof(buf), chunk))) > 0)
		cr_assert(dp_tls_feed(t, buf, (uint32_t)n));
	while ((got = dp_tls_out_take(t, buf, MIN(sizeof(buf), chunk))) > 0)
		cr_assert(BIO_write(c->in, buf, (int)got) == (int)got);
}

/* Run the handshake to its end on both sides; the server's last result. */
static enum dp_tls_result
handshake(struct client *c, struct dp_tls *t, uint32_t chunk)
{
	enum dp_tls_result r = DP_TLS_AGAIN;

	for (int round = 0; round < 20000; round++) {
		int rc = SSL_do_handshake(c->ssl);
		int err = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, rc);

		pump(c, t, chunk);
		r = dp_tls_handshake(t);
		pump(c, t, chunk);
		if (r == DP_TLS_ERR) {
			if (getenv("TLS_TEST_DEBUG") != NULL)
				fprintf(stderr, "server failed at round %d\n", round);
			return r;
		}
		if (rc == 1 && r == DP_TLS_OK)
			return r;
		if (rc <= 0 && err != SSL_ERROR_WANT_READ) {
			if (getenv("TLS_TEST_DEBUG") != NULL) {
				fprintf(stderr, "client error %d round %d\n", err, round);
				ERR_print_errors_fp(stderr);
			}
			return DP_TLS_ERR;      /* the client refused */
		}
	}
	return r;
}

TestSuite(tls, .init = pki_setup, .fini = pki_teardown);

Test(tls, handshake_and_data_both_ways_anonymous)
{
	struct dp_tls_ctx *ctx = server_ctx(SSL_VERIFY_NONE, NULL);
	struct dp_tls t;
	struct client c;
	char principal[256];
	uint8_t big[100000], back[100000];
	uint32_t got, have = 0;
	size_t n;

	cr_assert_eq(dp_tls_init(&t, ctx, 1), 0);
	dp_tls_ctx_unref(ctx);  /* the conn's reference keeps it */
	client_init(&c, false);
	cr_assert_eq(handshake(&c, &t, 65536), DP_TLS_OK);
	cr_expect(t.open);
	cr_expect_eq(dp_tls_principal(&t, principal, sizeof(principal)), 14);
	cr_expect_str_eq(principal, "User:ANONYMOUS");

	/* client -> server: 100 KB, decrypted in pieces of the plain buffer. */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	cr_assert(SSL_write_ex(c.ssl, big, sizeof(big), &n) == 1);
	pump(&c, &t, 16384);
	while (have < sizeof(big)) {
		enum dp_tls_result r = dp_tls_read(&t, back + have, DP_TLS_PLAIN_BYTES, &got);

		cr_assert(r == DP_TLS_OK || (r == DP_TLS_AGAIN && got == 0));
		if (got == 0)
			break;
		have += got;
	}
	cr_expect_eq(have, sizeof(big));
	cr_expect_eq(memcmp(back, big, sizeof(big)), 0);
	cr_expect_not(dp_tls_rx_more(&t));

	/* server -> client. */
	cr_assert(dp_tls_write(&t, big, sizeof(big)));
	cr_expect_gt(dp_tls_out_pending(&t), sizeof(big));
	pump(&c, &t, 65536);
	cr_assert(SSL_read_ex(c.ssl, back, sizeof(back), &n) == 1);
	have = (uint32_t)n;
	while (have < sizeof(big) && SSL_read_ex(c.ssl, back + have, sizeof(back) - have, &n))
		have += (uint32_t)n;
	cr_expect_eq(have, sizeof(big));
	cr_expect_eq(memcmp(back, big, sizeof(big)), 0);

	/* close_notify reads as EOF. */
	SSL_shutdown(c.ssl);
	pump(&c, &t, 65536);
	cr_expect_eq(dp_tls_read(&t, back, 100, &got), DP_TLS_EOF);
	client_fini(&c);
	dp_tls_fini(&t);
}

Test(tls, byte_by_byte_handshake)
{
	struct dp_tls_ctx *ctx = server_ctx(SSL_VERIFY_NONE, NULL);
	struct dp_tls t;
	struct client c;

	cr_assert_eq(dp_tls_init(&t, ctx, 1), 0);
	dp_tls_ctx_unref(ctx);
	client_init(&c, false);
	cr_expect_eq(handshake(&c, &t, 1), DP_TLS_OK);
	client_fini(&c);
	dp_tls_fini(&t);
}

Test(tls, client_certificate_gives_mapped_principal)
{
	struct dp_tls_ctx *ctx = server_ctx(SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
					    "RULE:^CN=(.*?),O=Acme.*$/$1/U,DEFAULT");
	struct dp_tls t;
	struct client c;
	char principal[256];

	cr_assert_eq(dp_tls_init(&t, ctx, 1), 0);
	dp_tls_ctx_unref(ctx);
	client_init(&c, true);
	cr_assert_eq(handshake(&c, &t, 65536), DP_TLS_OK);
	cr_expect_eq(dp_tls_principal(&t, principal, sizeof(principal)), 10);
	cr_expect_str_eq(principal, "User:ALICE");
	client_fini(&c);
	dp_tls_fini(&t);
}

Test(tls, subject_dn_is_rfc2253)
{
	char dn[256];

	cr_assert_gt(dp_tls_subject_dn(pki.client, dn, sizeof(dn)), 0);
	cr_expect_str_eq(dn, "CN=alice,O=Acme,C=US");
}

Test(tls, missing_client_certificate_under_required_fails)
{
	struct dp_tls_ctx *ctx = server_ctx(SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
					    NULL);
	struct dp_tls t;
	struct client c;

	cr_assert_eq(dp_tls_init(&t, ctx, 1), 0);
	dp_tls_ctx_unref(ctx);
	client_init(&c, false);
	cr_expect_eq(handshake(&c, &t, 65536), DP_TLS_ERR);
	cr_expect_not(t.open);
	client_fini(&c);
	dp_tls_fini(&t);
}

Test(tls, garbage_and_plaintext_kafka_fail_the_handshake)
{
	static const uint8_t api_versions[] = {
		0, 0, 0, 0x14, 0, 18, 0, 3, 0, 0, 0, 1, 0, 4, 'k', 'c', 'a', 't', 0, 0, 0, 0
	};
	static const char garbage[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	const void *inputs[] = { api_versions, garbage };
	const uint32_t lens[] = { sizeof(api_versions), sizeof(garbage) - 1 };

	for (int i = 0; i < 2; i++) {
		struct dp_tls_ctx *ctx = server_ctx(SSL_VERIFY_NONE, NULL);
		struct dp_tls t;

		cr_assert_eq(dp_tls_init(&t, ctx, 1), 0);
		dp_tls_ctx_unref(ctx);
		cr_assert(dp_tls_feed(&t, inputs[i], lens[i]));
		cr_expect_eq(dp_tls_handshake(&t), DP_TLS_ERR);
		dp_tls_fini(&t);
	}
	cr_expect_eq(ERR_peek_error(), 0ul, "the error queue is left clean");
}

Test(tls, partial_client_hello_waits)
{
	struct dp_tls_ctx *ctx = server_ctx(SSL_VERIFY_NONE, NULL);
	struct dp_tls t;
	struct client c;
	uint8_t buf[4096];
	int n;

	cr_assert_eq(dp_tls_init(&t, ctx, 1), 0);
	dp_tls_ctx_unref(ctx);
	client_init(&c, false);
	cr_assert(SSL_do_handshake(c.ssl) <= 0);
	n = BIO_read(c.out, buf, sizeof(buf));
	cr_assert_gt(n, 10);
	cr_assert(dp_tls_feed(&t, buf, (uint32_t)n / 2));
	cr_expect_eq(dp_tls_handshake(&t), DP_TLS_AGAIN);
	cr_expect_eq(dp_tls_out_pending(&t), 0u);
	client_fini(&c);
	dp_tls_fini(&t);
}
