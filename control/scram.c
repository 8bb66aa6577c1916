/* SPDX-License-Identifier: Apache-2.0 */
/* SCRAM server side (RFC 5802 with RFC 7677's SHA-256 and Kafka's
 * SHA-512): credentials, message parsing and proof checking. Every digest,
 * HMAC, PBKDF2, compare and random byte comes from OpenSSL. */
#include "control/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

const char *scram_test_server_nonce;

/* Random bytes behind the server's part of the nonce (base64: 32 chars). */
#define SCRAM_SERVER_NONCE_RAW 24

static const char *const scram_names[SCRAM_MECHS] = { "SCRAM-SHA-256", "SCRAM-SHA-512" };

const char *
scram_mech_name(enum scram_mech mech)
{
	return mech < SCRAM_MECHS ? scram_names[mech] : "?";
}

int
scram_mech_from_name(const char *name, size_t len)
{
	for (int m = 0; m < SCRAM_MECHS; m++)
		if (strlen(scram_names[m]) == len && memcmp(scram_names[m], name, len) == 0)
			return m;
	return -1;
}

size_t
scram_key_bytes(enum scram_mech mech)
{
	return mech == SCRAM_SHA_512 ? 64 : 32;
}

static const EVP_MD *
scram_md(enum scram_mech mech)
{
	return mech == SCRAM_SHA_512 ? EVP_sha512() : EVP_sha256();
}

static int
scram_hmac(enum scram_mech mech, const uint8_t *key, size_t key_len, const void *data,
	   size_t len, uint8_t *out)
{
	unsigned out_len = 0;

	if (HMAC(scram_md(mech), key, (int)key_len, data, len, out, &out_len) == NULL)
		return -1;
	return out_len == scram_key_bytes(mech) ? 0 : -1;
}

static int
scram_hash(enum scram_mech mech, const uint8_t *data, size_t len, uint8_t *out)
{
	unsigned out_len = 0;

	if (EVP_Digest(data, len, out, &out_len, scram_md(mech), NULL) != 1)
		return -1;
	return out_len == scram_key_bytes(mech) ? 0 : -1;
}

int
scram_cred_from_salted(enum scram_mech mech, const uint8_t *salted, size_t salted_len,
		       const uint8_t *salt, size_t salt_len, int32_t iterations,
		       struct scram_cred *cred)
{
	uint8_t client_key[SCRAM_KEY_BYTES_MAX];
	size_t n = scram_key_bytes(mech);
	int rc;

	if (mech >= SCRAM_MECHS || salt_len > SCRAM_SALT_BYTES_MAX || salted_len == 0 ||
	    salted_len > SCRAM_SALTED_BYTES_MAX)
		return -1;
	memset(cred, 0, sizeof(*cred));
	cred->mech = (uint8_t)mech;
	cred->iterations = iterations;
	cred->salt_len = (uint32_t)salt_len;
	memcpy(cred->salt, salt, salt_len);
	rc = scram_hmac(mech, salted, salted_len, "Client Key", 10, client_key);
	if (rc == 0)
		rc = scram_hash(mech, client_key, n, cred->stored_key);
	if (rc == 0)
		rc = scram_hmac(mech, salted, salted_len, "Server Key", 10, cred->server_key);
	OPENSSL_cleanse(client_key, sizeof(client_key));
	return rc;
}

int
scram_cred_from_password(enum scram_mech mech, const char *password, size_t password_len,
			 const uint8_t *salt, size_t salt_len, int32_t iterations,
			 struct scram_cred *cred)
{
	uint8_t salted[SCRAM_KEY_BYTES_MAX];
	size_t n = scram_key_bytes(mech);
	int rc;

	if (mech >= SCRAM_MECHS || iterations < 1 || password_len > INT32_MAX)
		return -1;
	if (PKCS5_PBKDF2_HMAC(password, (int)password_len, salt, (int)salt_len, iterations,
			      scram_md(mech), (int)n, salted) != 1)
		return -1;
	rc = scram_cred_from_salted(mech, salted, n, salt, salt_len, iterations, cred);
	OPENSSL_cleanse(salted, sizeof(salted));
	return rc;
}

int
scram_b64_encode(const uint8_t *in, size_t len, char *out, size_t out_size)
{
	if (len > 3 * 1024 || out_size < 4 * ((len + 2) / 3) + 1)
		return -1;
	return EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

int
scram_b64_decode(const char *in, size_t len, uint8_t *out, size_t out_size)
{
	uint8_t buf[3 * 1024];
	int n, pad = 0;

	if (len == 0)
		return 0;
	if (len % 4 != 0 || len / 4 * 3 > sizeof(buf))
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '+' || c == '/';

		if (c == '=' && i >= len - 2 && (i == len - 1 || in[len - 1] == '='))
			pad++;
		else if (!ok)
			return -1;
	}
	n = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)len);
	if (n < 0 || n - pad < 0 || (size_t)(n - pad) > out_size)
		return -1;
	memcpy(out, buf, (size_t)(n - pad));
	OPENSSL_cleanse(buf, sizeof(buf));
	return n - pad;
}

/* A saslname (RFC 5802: "=2C" is ',', "=3D" is '=') into out. */
static int
scram_unescape(const char *in, size_t len, char *out, size_t out_size)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (c == '=') {
			if (i + 3 > len)
				return -1;
			if (in[i + 1] == '2' && in[i + 2] == 'C')
				c = ',';
			else if (in[i + 1] == '3' && in[i + 2] == 'D')
				c = '=';
			else
				return -1;
			i += 2;
		} else if (c == '\0' || c == ',') {
			return -1;
		}
		if (o + 1 >= out_size)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return (int)o;
}

/* The next comma-separated attribute of [*pos, end): "x=value". */
static bool
scram_attr(const char **pos, const char *end, char *key, const char **val, size_t *val_len)
{
	const char *p = *pos;
	const char *comma;

	if (p >= end || end - p < 2 || p[1] != '=')
		return false;
	*key = p[0];
	comma = memchr(p, ',', (size_t)(end - p));
	*val = p + 2;
	*val_len = (size_t)((comma != NULL ? comma : end) - *val);
	*pos = comma != NULL ? comma + 1 : end;
	return true;
}

/* Printable ASCII but ',' (RFC 5802 "printable"). */
static bool
scram_printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == ',')
			return false;
	return len > 0;
}

/* The gs2 header of client-first: "n,," / "y,," / "n,a=name,"; sets
 * s->gs2 and returns where client-first-bare starts, or NULL. */
static const char *
scram_gs2(struct scram_server *s, const char *msg, const char *end)
{
	const char *c1, *c2;
	char authz[SCRAM_NAME_BYTES_MAX + 1];

	if (end - msg < 3 || (msg[0] != 'n' && msg[0] != 'y') || msg[1] != ',')
		return NULL;    /* 'p': channel binding, which Kafka does not offer */
	c1 = msg + 1;
	c2 = memchr(c1 + 1, ',', (size_t)(end - c1 - 1));
	if (c2 == NULL || (size_t)(c2 + 1 - msg) >= sizeof(s->gs2))
		return NULL;
	if (c2 > c1 + 1) {
		if (c2 - c1 < 3 || c1[1] != 'a' || c1[2] != '=' ||
		    scram_unescape(c1 + 3, (size_t)(c2 - c1 - 3), authz, sizeof(authz)) < 0)
			return NULL;
		s->user_len = 0;        /* compared once the user is read */
		memcpy(s->auth, authz, strlen(authz) + 1);      /* parked here */
	} else {
		s->auth[0] = '\0';
	}
	s->gs2_len = (uint32_t)(c2 + 1 - msg);
	memcpy(s->gs2, msg, s->gs2_len);
	return c2 + 1;
}

/* client-first-bare: "n=user,r=nonce[,ext=...]"; the user and nonce. */
static bool
scram_first_bare(struct scram_server *s, const char *bare, const char *end, const char **cnonce,
		 size_t *cnonce_len)
{
	const char *pos = bare, *val;
	size_t len;
	char key;
	int n;

	if (!scram_attr(&pos, end, &key, &val, &len) || key != 'n')
		return false;   /* also "m=": a mandatory extension we do not know */
	n = scram_unescape(val, len, s->user, sizeof(s->user));
	if (n <= 0)
		return false;
	s->user_len = (uint32_t)n;
	if (s->auth[0] != '\0' && strcmp(s->auth, s->user) != 0)
		return false;   /* Kafka: authzid must be the user name */
	if (!scram_attr(&pos, end, &key, &val, &len) || key != 'r' || !scram_printable(val, len))
		return false;
	*cnonce = val;
	*cnonce_len = len;
	while (pos < end) {     /* extensions: Kafka's tokenauth is not served */
		const char *comma = memchr(pos, ',', (size_t)(end - pos));
		const char *stop = comma != NULL ? comma : end;

		if ((stop - pos > 9 && memcmp(pos, "tokenauth", 9) == 0) ||
		    memchr(pos, '=', (size_t)(stop - pos)) == NULL)
			return false;
		pos = comma != NULL ? comma + 1 : end;
	}
	return true;
}

/* Append the server's part of the nonce to cnonce. */
static int
scram_nonce(struct scram_server *s, const char *cnonce, size_t cnonce_len)
{
	uint8_t raw[SCRAM_SERVER_NONCE_RAW];
	char snonce[64];
	size_t sn;

	if (scram_test_server_nonce != NULL) {
		sn = strlen(scram_test_server_nonce);
		if (sn >= sizeof(snonce))
			return -1;
		memcpy(snonce, scram_test_server_nonce, sn + 1);
	} else {
		if (RAND_bytes(raw, sizeof(raw)) != 1)
			return -1;
		sn = (size_t)scram_b64_encode(raw, sizeof(raw), snonce, sizeof(snonce));
	}
	if (cnonce_len + sn >= sizeof(s->nonce))
		return -1;
	memcpy(s->nonce, cnonce, cnonce_len);
	memcpy(s->nonce + cnonce_len, snonce, sn);
	s->nonce_len = (uint32_t)(cnonce_len + sn);
	return 0;
}

int
scram_server_first(struct scram_server *s, enum scram_mech mech, const char *msg,
		   size_t len, scram_lookup_fn *lookup, void *arg, char *out, size_t out_size)
{
	const char *end = msg + len, *bare, *cnonce = NULL;
	size_t cnonce_len = 0;
	char salt[SCRAM_SALT_BYTES_MAX * 2];
	int n;

	memset(s, 0, sizeof(*s));
	s->mech = (uint8_t)mech;
	s->stage = SCRAM_STAGE_FAILED;
	if (len == 0 || len > SCRAM_MSG_BYTES_MAX || memchr(msg, '\0', len) != NULL)
		return -1;
	bare = scram_gs2(s, msg, end);
	if (bare == NULL || !scram_first_bare(s, bare, end, &cnonce, &cnonce_len))
		return -1;
	if (!lookup(arg, s->user, s->user_len, mech, &s->cred) || scram_nonce(s, cnonce,
									    cnonce_len) != 0)
		return -1;
	if (scram_b64_encode(s->cred.salt, s->cred.salt_len, salt, sizeof(salt)) < 0)
		return -1;
	n = snprintf(out, out_size, "r=%.*s,s=%s,i=%d", (int)s->nonce_len, s->nonce, salt,
		     (int)s->cred.iterations);
	if (n < 0 || (size_t)n >= out_size ||
	    (size_t)(end - bare) + 1 + (size_t)n >= sizeof(s->auth))
		return -1;
	s->auth_len = (uint32_t)snprintf(s->auth, sizeof(s->auth), "%.*s,%s", (int)(end - bare),
					 bare, out);
	s->stage = SCRAM_STAGE_FINAL;
	return n;
}

/* client-final's c= (the gs2 header again) and r= (the whole nonce). */
static bool
scram_final_check(const struct scram_server *s, const char *msg, const char *end,
		  const char **proof_attr)
{
	const char *pos = msg, *val;
	uint8_t cb[sizeof(s->gs2)];
	size_t len;
	char key;
	int n;

	if (!scram_attr(&pos, end, &key, &val, &len) || key != 'c')
		return false;
	n = scram_b64_decode(val, len, cb, sizeof(cb));
	if (n < 0 || (uint32_t)n != s->gs2_len || memcmp(cb, s->gs2, s->gs2_len) != 0)
		return false;
	/* The nonce must end with the whole nonce sent in server-first, as
	 * Kafka's ScramSaslServer checks it (librdkafka puts its own part
	 * in front once more); the proof covers whatever came before. */
	if (!scram_attr(&pos, end, &key, &val, &len) || key != 'r' || len < s->nonce_len ||
	    CRYPTO_memcmp(val + len - s->nonce_len, s->nonce, s->nonce_len) != 0)
		return false;
	/* Extensions, then p= last. */
	for (const char *p = pos; p < end;) {
		const char *at = p;

		if (!scram_attr(&p, end, &key, &val, &len))
			return false;
		if (key == 'p') {
			if (p != end)
				return false;
			*proof_attr = at;
			return true;
		}
	}
	return false;
}

int
scram_server_final(struct scram_server *s, const char *msg, size_t len, char *out,
		   size_t out_size)
{
	enum scram_mech mech = (enum scram_mech)s->mech;
	size_t kb = scram_key_bytes(mech);
	uint8_t proof[SCRAM_KEY_BYTES_MAX], sig[SCRAM_KEY_BYTES_MAX];
	uint8_t key[SCRAM_KEY_BYTES_MAX], stored[SCRAM_KEY_BYTES_MAX];
	const char *end = msg + len, *p_attr = NULL;
	char b64[SCRAM_KEY_BYTES_MAX * 2];
	bool ok = false;
	int n;

	if (s->stage != SCRAM_STAGE_FINAL)
		return -1;      /* a replayed or out-of-order client-final */
	s->stage = SCRAM_STAGE_FAILED;
	if (len == 0 || len > SCRAM_MSG_BYTES_MAX || memchr(msg, '\0', len) != NULL ||
	    !scram_final_check(s, msg, end, &p_attr))
		return -1;
	n = scram_b64_decode(p_attr + 2, (size_t)(end - p_attr - 2), proof, sizeof(proof));
	if (n != (int)kb)
		return -1;
	/* AuthMessage = client-first-bare "," server-first "," without-proof */
	if (s->auth_len + 1 + (size_t)(p_attr - 1 - msg) >= sizeof(s->auth))
		return -1;
	s->auth[s->auth_len] = ',';
	memcpy(s->auth + s->auth_len + 1, msg, (size_t)(p_attr - 1 - msg));
	s->auth_len += 1 + (uint32_t)(p_attr - 1 - msg);
	if (scram_hmac(mech, s->cred.stored_key, kb, s->auth, s->auth_len, sig) == 0) {
		for (size_t i = 0; i < kb; i++)
			key[i] = proof[i] ^ sig[i];
		ok = scram_hash(mech, key, kb, stored) == 0 &&
		     CRYPTO_memcmp(stored, s->cred.stored_key, kb) == 0;
	}
	OPENSSL_cleanse(key, sizeof(key));
	if (!ok || scram_hmac(mech, s->cred.server_key, kb, s->auth, s->auth_len, sig) != 0 ||
	    scram_b64_encode(sig, kb, b64, sizeof(b64)) < 0)
		return -1;
	n = snprintf(out, out_size, "v=%s", b64);
	if (n < 0 || (size_t)n >= out_size)
		return -1;
	s->stage = SCRAM_STAGE_DONE;
	return n;
}
