/* SPDX-License-Identifier: Apache-2.0 */
/* SASL exchanges and SCRAM credentials on the control thread (ctl_sasl.h).
 *
 * Each connection in an exchange has a record here, found by the core,
 * connection id and generation of the request being handled (ctl->cur):
 * its mechanism, whether it framed tokens the legacy v0 way, and the SCRAM
 * server state. Records are bounded in number (SASL_CONNS_MAX) and time
 * (SASL_CONN_TTL_NS): a client that starts an exchange and vanishes only
 * holds one until it is reused. The outcome reaches the connection's core
 * with the reply (struct dp_auth), so the session changes in order with
 * the answer. */
#include "control/ctl_sasl.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "control/ctl_entity.h"
#include "control/ctl_int.h"
#include "control/jaas.h"
#include "control/mx.h"
#include "control/scram.h"
#include "control/scram_store.h"

#define SASL_CONNS_MAX 512
#define SASL_CONN_TTL_NS (60ull * 1000000000ull)
/* Longest client token read (PLAIN: user and password; SCRAM messages). */
#define SASL_TOKEN_BYTES_MAX 4096
#define SASL_LISTENERS_MAX 16
#define SASL_LISTENER_NAME_MAX 64

enum sasl_mech {
	SASL_PLAIN = 0,
	SASL_SCRAM_SHA_256 = 1,
	SASL_SCRAM_SHA_512 = 2,
	SASL_MECHS = 3,
};

static const char *const sasl_mech_names[SASL_MECHS] = {
	"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512",
};

/* Kafka's default is GSSAPI, which Spillway does not offer. */
#define SASL_MECHS_DEFAULT "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"

struct sasl_conn {
	bool used;
	bool legacy;                    /* v0 SaslHandshake: bare tokens */
	bool reauth;                    /* the connection was authenticated */
	bool other_mech;                /* reauth with another mechanism than before */
	uint8_t mech;                   /* enum sasl_mech */
	int core;
	uint32_t conn_id;
	uint32_t conn_gen;
	uint64_t start_ns;
	struct scram_server scram;
};

struct ctl_sasl {
	bool auth_pending;
	struct dp_auth auth;
	uint64_t ok[SASL_LISTENERS_MAX][SASL_MECHS];
	uint64_t failed[SASL_LISTENERS_MAX][SASL_MECHS];
	char listener[SASL_LISTENERS_MAX][SASL_LISTENER_NAME_MAX];
	struct sasl_conn conns[SASL_CONNS_MAX];
};

/* ---- configuration ---- */

/* The listener's name as Kafka's listener.name.<name>. keys spell it
 * (lower case). */
static void
sasl_listener_name(const struct ctl *ctl, const struct kp_session *s, char *out,
		   size_t out_size)
{
	const char *name = s->listener < ctl->cfg->listener_count
		? ctl->cfg->listeners[s->listener].name : "unknown";
	size_t i;

	for (i = 0; name[i] != '\0' && i + 1 < out_size; i++)
		out[i] = (char)tolower((unsigned char)name[i]);
	out[i] = '\0';
}

/* The listener's value of a SASL key: listener.name.<l>.[<mech>.]key,
 * else key, else NULL. */
static const char *
sasl_key(const struct ctl *ctl, const struct kp_session *s, const char *mech, const char *key)
{
	char l[SASL_LISTENER_NAME_MAX], full[256];
	const char *v;

	sasl_listener_name(ctl, s, l, sizeof(l));
	snprintf(full, sizeof(full), "listener.name.%s.%s%s%s", l, mech != NULL ? mech : "",
		 mech != NULL ? "." : "", key);
	v = config_sasl_get(ctl->cfg, full);
	return v != NULL ? v : config_sasl_get(ctl->cfg, key);
}

/* The listener's sasl.enabled.mechanisms as bits of enum sasl_mech. */
static unsigned
sasl_enabled(const struct ctl *ctl, const struct kp_session *s)
{
	const char *text = sasl_key(ctl, s, NULL, "sasl.enabled.mechanisms");
	unsigned bits = 0;

	if (text == NULL)
		text = SASL_MECHS_DEFAULT;
	for (const char *p = text; *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		const char *a = p, *b = p + len;

		while (a < b && isspace((unsigned char)*a))
			a++;
		while (b > a && isspace((unsigned char)b[-1]))
			b--;
		for (int m = 0; m < SASL_MECHS; m++)
			if (strlen(sasl_mech_names[m]) == (size_t)(b - a) &&
			    memcmp(sasl_mech_names[m], a, (size_t)(b - a)) == 0)
				bits |= 1u << m;
		p = end != NULL ? end + 1 : p + len;
	}
	return bits;
}

/* connections.max.reauth.ms of the listener (0: no re-authentication). */
static int64_t
sasl_reauth_ms(const struct ctl *ctl, const struct kp_session *s)
{
	const char *text = sasl_key(ctl, s, NULL, "connections.max.reauth.ms");
	long long v;

	if (text == NULL || sscanf(text, "%lld", &v) != 1 || v < 0)
		return 0;
	return v;
}

/* ---- connection records ---- */

static struct sasl_conn *
sasl_conn_find(struct ctl *ctl)
{
	struct ctl_sasl *cs = ctl->sasl;
	uint64_t now = clock_mono_ns();

	for (int i = 0; i < SASL_CONNS_MAX; i++) {
		struct sasl_conn *c = &cs->conns[i];

		if (!c->used || c->core != ctl->cur.core || c->conn_id != ctl->cur.conn_id)
			continue;
		if (c->conn_gen != ctl->cur.conn_gen || now - c->start_ns > SASL_CONN_TTL_NS) {
			c->used = false;        /* a closed connection's, or too old */
			return NULL;
		}
		return c;
	}
	return NULL;
}

/* A record for the request's connection: its own, a free one, an expired
 * one, or else the oldest (whose client then fails). */
static struct sasl_conn *
sasl_conn_new(struct ctl *ctl)
{
	struct ctl_sasl *cs = ctl->sasl;
	struct sasl_conn *c = sasl_conn_find(ctl), *oldest = &cs->conns[0];
	uint64_t now = clock_mono_ns();

	for (int i = 0; c == NULL && i < SASL_CONNS_MAX; i++) {
		struct sasl_conn *o = &cs->conns[i];

		if (!o->used || now - o->start_ns > SASL_CONN_TTL_NS)
			c = o;
		else if (o->start_ns < oldest->start_ns)
			oldest = o;
	}
	if (c == NULL)
		c = oldest;
	OPENSSL_cleanse(c, sizeof(*c));
	c->used = true;
	c->core = ctl->cur.core;
	c->conn_id = ctl->cur.conn_id;
	c->conn_gen = ctl->cur.conn_gen;
	c->start_ns = now;
	return c;
}

static void
sasl_conn_drop(struct sasl_conn *c)
{
	OPENSSL_cleanse(c, sizeof(*c));
}

/* ---- outcome and counters ---- */

static void
sasl_count(struct ctl *ctl, const struct kp_session *s, enum sasl_mech mech, bool ok)
{
	struct ctl_sasl *cs = ctl->sasl;
	int l = s->listener < SASL_LISTENERS_MAX ? s->listener : SASL_LISTENERS_MAX - 1;

	if (cs->listener[l][0] == '\0')
		snprintf(cs->listener[l], sizeof(cs->listener[l]), "%s",
			 s->listener < ctl->cfg->listener_count
			 ? ctl->cfg->listeners[s->listener].name : "unknown");
	if (ok)
		cs->ok[l][mech]++;
	else
		cs->failed[l][mech]++;
}

static void
sasl_pending(struct ctl *ctl, uint8_t flags)
{
	ctl->sasl->auth_pending = true;
	ctl->sasl->auth.flags |= flags;
}

bool
ctl_sasl_take_auth(struct ctl *ctl, struct dp_auth *auth)
{
	struct ctl_sasl *cs = ctl->sasl;

	if (cs == NULL || !cs->auth_pending)
		return false;
	*auth = cs->auth;
	memset(&cs->auth, 0, sizeof(cs->auth));
	cs->auth_pending = false;
	return true;
}

/* ---- SaslHandshake ---- */

int16_t
ctl_sasl_handshake(void *ctx, const struct kp_session *session, int16_t version,
		   struct kp_str mechanism, struct kp_sasl_mechs *mechs)
{
	struct ctl *ctl = ctx;
	unsigned enabled = sasl_enabled(ctl, session);
	struct sasl_conn *c;
	int mech = -1;

	mechs->count = 0;
	/* Without SASL on the listener, or authenticated while re-authentication
	 * is off (no connections.max.reauth.ms), Kafka's KafkaApis answers. */
	if (!kp_sec_is_sasl(session->protocol) ||
	    (session->authenticated && sasl_reauth_ms(ctl, session) == 0))
		return KP_ERR_ILLEGAL_SASL_STATE;
	for (int m = 0; m < SASL_MECHS; m++) {
		if (!(enabled & (1u << m)))
			continue;
		mechs->names[mechs->count++] = sasl_mech_names[m];
		if (kp_str_eq(mechanism, kp_str_c(sasl_mech_names[m])))
			mech = m;
	}
	if (mech < 0) {
		sasl_pending(ctl, DP_AUTH_CLOSE);       /* Kafka closes after answering */
		return KP_ERR_UNSUPPORTED_SASL_MECHANISM;
	}
	c = sasl_conn_new(ctl);
	c->mech = (uint8_t)mech;
	c->legacy = version == 0;
	/* A connection that had a SASL session (ended or not) re-authenticates:
	 * same principal and mechanism, as Kafka after a session's end. */
	c->reauth = session->authenticated || session->sasl_mech != 0;
	c->other_mech = c->reauth && session->sasl_mech != mech + 1;
	if (c->legacy)
		sasl_pending(ctl, DP_AUTH_RAW_ON);
	return KP_ERR_NONE;
}

/* ---- SaslAuthenticate ---- */

static bool
sasl_scram_lookup(void *arg, const char *user, size_t len, enum scram_mech mech,
		  struct scram_cred *cred)
{
	struct ctl *ctl = arg;
	const struct scram_cred *c = scram_store_get(&ctl->scram, user, len, mech);

	if (c == NULL)
		return false;
	*cred = *c;
	return true;
}

/* PLAIN's password against the SCRAM store: the user's SHA-256 (else
 * SHA-512) credential recomputed from it. */
static bool
sasl_plain_scram(struct ctl *ctl, const char *user, size_t ulen, const char *pw, size_t plen)
{
	for (int m = 0; m < SCRAM_MECHS; m++) {
		const struct scram_cred *c = scram_store_get(&ctl->scram, user, ulen,
							     (enum scram_mech)m);
		struct scram_cred mine;
		bool ok;

		if (c == NULL)
			continue;
		if (scram_cred_from_password((enum scram_mech)m, pw, plen, c->salt, c->salt_len,
					     c->iterations, &mine) != 0)
			return false;
		ok = CRYPTO_memcmp(mine.stored_key, c->stored_key,
				   scram_key_bytes((enum scram_mech)m)) == 0;
		OPENSSL_cleanse(&mine, sizeof(mine));
		return ok;
	}
	return false;
}

/* PLAIN: "authzid NUL user NUL password"; the user into user. */
static bool
sasl_plain(struct ctl *ctl, const struct kp_session *s, struct kp_bytes tok, char *user,
	   size_t user_size)
{
	const char *p = (const char *)tok.ptr, *end = p + tok.len;
	const char *z1 = memchr(p, '\0', (size_t)(end - p));
	const char *z2 = z1 != NULL ? memchr(z1 + 1, '\0', (size_t)(end - z1 - 1)) : NULL;
	size_t alen, ulen, plen;
	const char *jtext;
	bool ok = false;

	if (z2 == NULL || memchr(z2 + 1, '\0', (size_t)(end - z2 - 1)) != NULL)
		return false;
	alen = (size_t)(z1 - p);
	ulen = (size_t)(z2 - z1 - 1);
	plen = (size_t)(end - z2 - 1);
	if (ulen == 0 || plen == 0 || ulen >= user_size ||
	    (alen > 0 && (alen != ulen || memcmp(p, z1 + 1, ulen) != 0)))
		return false;
	memcpy(user, z1 + 1, ulen);
	user[ulen] = '\0';
	jtext = sasl_key(ctl, s, "plain", "sasl.jaas.config");
	if (jtext != NULL) {
		struct jaas_plain jp;
		char err[128];
		bool known = false;

		if (jaas_plain_parse(jtext, &jp, err, sizeof(err)) == 0) {
			for (int i = 0; i < jp.count && !known; i++)
				known = strcmp(jp.users[i].name, user) == 0;
			ok = jaas_plain_check(&jp, user, ulen, z2 + 1, plen);
			jaas_plain_free(&jp);
		}
		if (known)
			return ok;
	}
	return sasl_plain_scram(ctl, user, ulen, z2 + 1, plen);
}

/* One token of c's exchange: true and *done when it succeeded (user set),
 * true without done when a SCRAM challenge was written, false when it
 * failed. */
static bool
sasl_step(struct ctl *ctl, const struct kp_session *s, struct sasl_conn *c, struct kp_bytes tok,
	  struct kp_sasl_reply *reply, char *user, size_t user_size, bool *done)
{
	enum scram_mech sm = c->mech == SASL_SCRAM_SHA_512 ? SCRAM_SHA_512 : SCRAM_SHA_256;
	int n;

	*done = false;
	if (tok.len <= 0 || tok.len > SASL_TOKEN_BYTES_MAX)
		return false;
	if (c->mech == SASL_PLAIN) {
		*done = sasl_plain(ctl, s, tok, user, user_size);
		return *done;
	}
	if (c->scram.stage == SCRAM_STAGE_FIRST && c->scram.user_len == 0) {
		n = scram_server_first(&c->scram, sm, (const char *)tok.ptr, (size_t)tok.len,
				       sasl_scram_lookup, ctl, (char *)reply->token,
				       sizeof(reply->token));
		if (n < 0)
			return false;
		reply->token_len = (uint32_t)n;
		return true;
	}
	n = scram_server_final(&c->scram, (const char *)tok.ptr, (size_t)tok.len,
			       (char *)reply->token, sizeof(reply->token));
	if (n < 0 || c->scram.user_len >= user_size)
		return false;
	reply->token_len = (uint32_t)n;
	memcpy(user, c->scram.user, c->scram.user_len + 1);
	*done = true;
	return true;
}

static int16_t
sasl_fail(struct ctl *ctl, const struct kp_session *s, struct sasl_conn *c, char *msg,
	  size_t msg_size, const char *why)
{
	enum sasl_mech mech = (enum sasl_mech)c->mech;

	snprintf(msg, msg_size, "Authentication failed during %s due to invalid credentials "
		 "with SASL mechanism %s", c->reauth ? "re-authentication" : "authentication",
		 sasl_mech_names[mech]);
	log_debug("sasl", "listener %d: %s failed (%s)", s->listener, sasl_mech_names[mech], why);
	sasl_count(ctl, s, mech, false);
	sasl_pending(ctl, DP_AUTH_CLOSE);
	sasl_conn_drop(c);
	return KP_ERR_SASL_AUTHENTICATION_FAILED;
}

/* A re-authentication with another mechanism than the session's: refused
 * with Kafka's REAUTH_BAD_MECHANISM message (checked once the exchange
 * succeeded, so a changed principal still reads as invalid credentials). */
static int16_t
sasl_other_mech(struct ctl *ctl, const struct kp_session *s, struct sasl_conn *c, char *msg,
		size_t msg_size)
{
	unsigned before = s->sasl_mech > 0 ? s->sasl_mech - 1u : 0u;
	const char *now = sasl_mech_names[c->mech];

	sasl_fail(ctl, s, c, msg, msg_size, "mechanism changed (re-authentication)");
	snprintf(msg, msg_size, "SASL mechanism '%s' requested by client is not supported for "
		 "re-authentication of mechanism '%s'", now,
		 before < SASL_MECHS ? sasl_mech_names[before] : "?");
	return KP_ERR_SASL_AUTHENTICATION_FAILED;
}

/* The exchange succeeded for user: the new session, for the core. */
static int16_t
sasl_success(struct ctl *ctl, const struct kp_session *s, struct sasl_conn *c, int16_t version,
	     const char *user, struct kp_sasl_reply *reply, char *msg, size_t msg_size)
{
	struct dp_auth *a = &ctl->sasl->auth;
	int64_t lifetime = sasl_reauth_ms(ctl, s);
	char principal[KP_PRINCIPAL_MAX + 2];
	int n = snprintf(principal, sizeof(principal), "User:%s", user);

	if (n < 0 || n > KP_PRINCIPAL_MAX)
		return sasl_fail(ctl, s, c, msg, msg_size, "principal too long");
	if (c->reauth && strcmp(principal, s->principal) != 0)
		return sasl_fail(ctl, s, c, msg, msg_size, "principal changed (re-authentication)");
	if (c->other_mech)
		return sasl_other_mech(ctl, s, c, msg, msg_size);
	sasl_count(ctl, s, (enum sasl_mech)c->mech, true);
	sasl_pending(ctl, DP_AUTH_SET | (c->legacy ? DP_AUTH_RAW_OFF : 0));
	a->sasl_mech = (uint8_t)(c->mech + 1);
	a->principal_len = (uint8_t)n;
	memcpy(a->principal, principal, (size_t)n + 1);
	a->lifetime_ms = lifetime;
	reply->session_lifetime_ms = version >= 1 ? lifetime : 0;
	sasl_conn_drop(c);
	return KP_ERR_NONE;
}

int16_t
ctl_sasl_authenticate(void *ctx, const struct kp_session *session, int16_t version,
		      struct kp_bytes token, struct kp_sasl_reply *reply, char *msg,
		      size_t msg_size)
{
	struct ctl *ctl = ctx;
	struct sasl_conn *c = kp_sec_is_sasl(session->protocol) ? sasl_conn_find(ctl) : NULL;
	char user[SCRAM_NAME_BYTES_MAX + 1];
	bool done;

	reply->token_len = 0;
	reply->session_lifetime_ms = 0;
	if (c == NULL) {
		/* No handshake before: Kafka's KafkaApis answers this on an
		 * authenticated connection; the handler closes an
		 * unauthenticated one, as Kafka's authenticator does. */
		snprintf(msg, msg_size, "%s",
			 "SaslAuthenticate request received after successful authentication");
		return KP_ERR_ILLEGAL_SASL_STATE;
	}
	reply->raw = c->legacy;
	if (!sasl_step(ctl, session, c, token, reply, user, sizeof(user), &done))
		return sasl_fail(ctl, session, c, msg, msg_size, "bad credentials or message");
	if (!done)
		return KP_ERR_NONE;
	return sasl_success(ctl, session, c, version, user, reply, msg, msg_size);
}

/* ---- SCRAM credentials ---- */

static void
sasl_scram_fill(const struct scram_user *u, struct kp_scram_user *out)
{
	out->name = (struct kp_str){ u->name, (int32_t)u->name_len };
	out->count = 0;
	for (int m = 0; m < SCRAM_MECHS; m++) {
		if (!(u->has & (1u << m)))
			continue;
		out->info[out->count].mechanism = (int8_t)(m + 1);
		out->info[out->count].iterations = u->cred[m].iterations;
		out->count++;
	}
}

bool
ctl_scram_user(void *ctx, struct kp_str name, struct kp_scram_user *user)
{
	struct ctl *ctl = ctx;
	const struct scram_user *u;

	if (name.len <= 0)
		return false;
	u = scram_store_user(&ctl->scram, name.ptr, (size_t)name.len);
	if (u == NULL)
		return false;
	sasl_scram_fill(u, user);
	return true;
}

bool
ctl_scram_user_at(void *ctx, int32_t index, struct kp_scram_user *user)
{
	struct ctl *ctl = ctx;

	if (index < 0 || index >= ctl->scram.count)
		return false;
	sasl_scram_fill(&ctl->scram.users[index], user);
	return true;
}

/* Kafka's ScramControlManager checks, in its order. */
static int16_t
sasl_scram_check(struct ctl *ctl, const struct kp_scram_op *op, char *msg, size_t msg_size)
{
	if (op->mechanism != 1 && op->mechanism != 2) {
		snprintf(msg, msg_size, "Unknown SCRAM mechanism");
		return KP_ERR_UNSUPPORTED_SASL_MECHANISM;
	}
	if (op->name.len <= 0 || op->name.len > SCRAM_NAME_BYTES_MAX) {
		snprintf(msg, msg_size, "Username must not be empty or longer than %d bytes.",
			 SCRAM_NAME_BYTES_MAX);
		return KP_ERR_UNACCEPTABLE_CREDENTIAL;
	}
	if (op->remove) {
		if (scram_store_get(&ctl->scram, op->name.ptr, (size_t)op->name.len,
				    (enum scram_mech)(op->mechanism - 1)) == NULL) {
			snprintf(msg, msg_size,
				 "Attempt to delete a user credential that does not exist");
			return KP_ERR_RESOURCE_NOT_FOUND;
		}
		return KP_ERR_NONE;
	}
	if (op->iterations < SCRAM_ITERATIONS_MIN) {
		snprintf(msg, msg_size, "Too few iterations");
		return KP_ERR_UNACCEPTABLE_CREDENTIAL;
	}
	if (op->iterations > SCRAM_ITERATIONS_MAX) {
		snprintf(msg, msg_size, "Too many iterations");
		return KP_ERR_UNACCEPTABLE_CREDENTIAL;
	}
	if (op->salt.len <= 0 || op->salt.len > SCRAM_SALT_BYTES_MAX ||
	    op->salted_password.len <= 0 || op->salted_password.len > SCRAM_SALTED_BYTES_MAX) {
		snprintf(msg, msg_size, "Salt and salted password must be 1 to %d bytes",
			 SCRAM_SALT_BYTES_MAX);
		return KP_ERR_UNACCEPTABLE_CREDENTIAL;
	}
	return KP_ERR_NONE;
}

/* Cluster mode: the credential to /config/users/<user> in ZooKeeper. */
static int16_t
sasl_scram_zk(struct ctl *ctl, const struct kp_scram_op *op, char *msg, size_t msg_size)
{
	enum scram_mech mech = (enum scram_mech)(op->mechanism - 1);
	char user[SCRAM_NAME_BYTES_MAX + 1], text[768];
	struct scram_cred cred;
	struct cluster_kv kv = { scram_mech_name(mech), NULL };
	int rc = 0;

	snprintf(user, sizeof(user), "%.*s", (int)op->name.len, op->name.ptr);
	if (!op->remove) {
		rc = scram_cred_from_salted(mech, op->salted_password.ptr,
					    (size_t)op->salted_password.len, op->salt.ptr,
					    (size_t)op->salt.len, op->iterations, &cred);
		if (rc == 0)
			rc = ctl_entity_scram_text(&cred, text, sizeof(text));
		OPENSSL_cleanse(&cred, sizeof(cred));
		kv.value = text;
	}
	if (rc == 0)
		rc = ctl_entity_alter(ctl, &(struct cluster_entity){ .user = user, .count = 1,
								     .kv = &kv });
	OPENSSL_cleanse(text, sizeof(text));
	if (rc == 0)
		return KP_ERR_NONE;
	snprintf(msg, msg_size, "Cannot store the SCRAM credential in ZooKeeper");
	return KP_ERR_UNKNOWN_SERVER_ERROR;
}

int16_t
ctl_scram_alter(void *ctx, const struct kp_scram_op *op, bool check_only, char *msg,
		size_t msg_size)
{
	struct ctl *ctl = ctx;
	enum scram_mech mech = (enum scram_mech)(op->mechanism - 1);
	struct scram_cred cred;
	int16_t err = sasl_scram_check(ctl, op, msg, msg_size);
	int rc;

	if (err != KP_ERR_NONE || check_only)
		return err;
	if (ctl_entity_clustered(ctl))
		return sasl_scram_zk(ctl, op, msg, msg_size);
	if (op->remove) {
		rc = scram_store_delete(&ctl->scram, op->name.ptr, (size_t)op->name.len, mech);
	} else {
		rc = scram_cred_from_salted(mech, op->salted_password.ptr,
					    (size_t)op->salted_password.len, op->salt.ptr,
					    (size_t)op->salt.len, op->iterations, &cred);
		rc = rc != 0 ? -EINVAL : scram_store_upsert(&ctl->scram, op->name.ptr,
							   (size_t)op->name.len, &cred);
		OPENSSL_cleanse(&cred, sizeof(cred));
	}
	if (rc == 0)
		return KP_ERR_NONE;
	snprintf(msg, msg_size, "Cannot store the SCRAM credential: %s", strerror(-rc));
	return KP_ERR_UNKNOWN_SERVER_ERROR;
}

/* ---- lifecycle, metrics ---- */

int
ctl_sasl_open(struct ctl *ctl, char *err, size_t err_size)
{
	const struct config_sasl *cs = &ctl->cfg->sasl;
	int rc;

	for (int i = 0; i < cs->count; i++) {
		struct jaas_plain jp;
		char why[256];
		size_t k = strlen(cs->key[i]);

		if (k < 16 || strcmp(cs->key[i] + k - 16, "sasl.jaas.config") != 0)
			continue;
		if (jaas_plain_parse(cs->value[i], &jp, why, sizeof(why)) != 0) {
			snprintf(err, err_size, "%s: %s", cs->key[i], why);
			return -EINVAL;
		}
		jaas_plain_free(&jp);
	}
	ctl->sasl = calloc(1, sizeof(*ctl->sasl));
	if (ctl->sasl == NULL) {
		snprintf(err, err_size, "sasl: out of memory");
		return -ENOMEM;
	}
	rc = scram_store_open(&ctl->scram, ctl->cfg->log_dir, err, err_size);
	if (rc != 0) {
		free(ctl->sasl);
		ctl->sasl = NULL;
	}
	return rc;
}

void
ctl_sasl_close(struct ctl *ctl)
{
	scram_store_close(&ctl->scram);
	if (ctl->sasl != NULL)
		OPENSSL_cleanse(ctl->sasl, sizeof(*ctl->sasl));
	free(ctl->sasl);
	ctl->sasl = NULL;
}

void
ctl_sasl_metrics(struct ctl *ctl, struct mx_buf *b)
{
	struct ctl_sasl *cs = ctl->sasl;

	if (cs == NULL)
		return;
	mx_family(b, "spillway_sasl_authentications_total", "counter",
		  "SASL authentications by listener, mechanism and result.");
	for (int l = 0; l < SASL_LISTENERS_MAX; l++) {
		for (int m = 0; m < SASL_MECHS; m++) {
			const char *ok[] = { "listener", cs->listener[l], "mechanism",
					     sasl_mech_names[m], "result", "succeeded", NULL };
			const char *bad[] = { "listener", cs->listener[l], "mechanism",
					      sasl_mech_names[m], "result", "failed", NULL };

			if (cs->ok[l][m] == 0 && cs->failed[l][m] == 0)
				continue;
			mx_sample(b, "spillway_sasl_authentications_total", ok,
				  (double)cs->ok[l][m]);
			mx_sample(b, "spillway_sasl_authentications_total", bad,
				  (double)cs->failed[l][m]);
		}
	}
}
