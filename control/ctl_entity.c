/* SPDX-License-Identifier: Apache-2.0 */
/* Cluster mode: SCRAM credentials and client quotas are ZooKeeper's user /
 * client-id / ip entity configs (control/cluster_sec.h); ctl->scram and
 * ctl->quotas are in-memory copies rebuilt from them at start and on every
 * change notification, and AlterUserScramCredentials / AlterClientQuotas
 * write ZooKeeper first. Values as Kafka writes them: SCRAM as
 * "salt=<b64>,stored_key=<b64>,server_key=<b64>,iterations=<n>", quotas
 * as numbers in strings. @thread control */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "control/cluster_sec.h"
#include "control/ctl_cluster_int.h"
#include "control/ctl_entity.h"
#include "control/ctl_int.h"

#define SCRAM_TEXT_MAX 768

static struct cluster *
ctl_entity_zk(const struct ctl *ctl)
{
	return ctl->cluster != NULL ? ctl->cluster->cl : NULL;
}

bool
ctl_entity_clustered(const struct ctl *ctl)
{
	return ctl_entity_zk(ctl) != NULL;
}

static size_t
scram_key_len(enum scram_mech mech)
{
	return mech == SCRAM_SHA_512 ? 64 : 32;
}

/* "salt=..,stored_key=..,server_key=..,iterations=.." -> cred. 0 or -1. */
static int
scram_parse(enum scram_mech mech, const char *text, struct scram_cred *c)
{
	char buf[SCRAM_TEXT_MAX];
	char *save = NULL;
	int got = 0;

	if (strlen(text) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", text);
	memset(c, 0, sizeof(*c));
	c->mech = (uint8_t)mech;
	for (char *kv = strtok_r(buf, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');
		int n;

		if (v == NULL)
			return -1;
		*v++ = '\0';
		if (strcmp(kv, "salt") == 0) {
			n = scram_b64_decode(v, strlen(v), c->salt, sizeof(c->salt));
			c->salt_len = n > 0 ? (uint32_t)n : 0;
			got |= n > 0 ? 1 : 0;
		} else if (strcmp(kv, "stored_key") == 0) {
			n = scram_b64_decode(v, strlen(v), c->stored_key, sizeof(c->stored_key));
			got |= n == (int)scram_key_len(mech) ? 2 : 0;
		} else if (strcmp(kv, "server_key") == 0) {
			n = scram_b64_decode(v, strlen(v), c->server_key, sizeof(c->server_key));
			got |= n == (int)scram_key_len(mech) ? 4 : 0;
		} else if (strcmp(kv, "iterations") == 0) {
			c->iterations = atoi(v);
			got |= c->iterations > 0 ? 8 : 0;
		}
	}
	return got == 15 ? 0 : -1;
}

int
ctl_entity_scram_text(const struct scram_cred *c, char *out, size_t out_size)
{
	char salt[256], stored[128], server[128];
	size_t klen = scram_key_len((enum scram_mech)c->mech);
	int n;

	if (scram_b64_encode(c->salt, c->salt_len, salt, sizeof(salt)) < 0 ||
	    scram_b64_encode(c->stored_key, klen, stored, sizeof(stored)) < 0 ||
	    scram_b64_encode(c->server_key, klen, server, sizeof(server)) < 0)
		return -1;
	n = snprintf(out, out_size, "salt=%s,stored_key=%s,server_key=%s,iterations=%d", salt,
		     stored, server, c->iterations);
	return n > 0 && (size_t)n < out_size ? 0 : -1;
}

struct entity_load {
	struct quota_store quotas;
	struct scram_store scram;
};

static struct kp_str
entity_name(const char *s)
{
	if (s == NULL || strcmp(s, "<default>") == 0)
		return (struct kp_str){ NULL, -1 };
	return (struct kp_str){ s, (int32_t)strlen(s) };
}

static void
entity_quotas(struct quota_store *qs, const struct cluster_entity *e)
{
	struct kp_quota_entity ent = { 0 };
	struct kp_quota_op ops[KP_QUOTA_KEYS];
	int32_t n = 0;
	bool changed;
	char msg[256];

	if (e->user != NULL) {
		ent.present |= 1u << KP_QUOTA_USER;
		ent.name[KP_QUOTA_USER] = entity_name(e->user);
	}
	if (e->client != NULL) {
		ent.present |= 1u << KP_QUOTA_CLIENT_ID;
		ent.name[KP_QUOTA_CLIENT_ID] = entity_name(e->client);
	}
	if (e->ip != NULL) {
		ent.present |= 1u << KP_QUOTA_IP;
		ent.name[KP_QUOTA_IP] = entity_name(e->ip);
	}
	for (int32_t i = 0; i < e->count; i++)
		for (int k = 0; k < KP_QUOTA_KEYS && n < KP_QUOTA_KEYS; k++)
			if (strcmp(e->kv[i].key, kp_quota_key_name((enum kp_quota_key)k)) == 0)
				ops[n++] = (struct kp_quota_op){
					.key = { e->kv[i].key, (int32_t)strlen(e->kv[i].key) },
					.value = strtod(e->kv[i].value, NULL),
				};
	if (n > 0 && quota_store_alter(qs, &ent, (struct kp_str){ NULL, -1 }, ops, n, false,
				       &changed, msg, sizeof(msg)) != KP_ERR_NONE)
		log_warn("control", "ZooKeeper quota config skipped: %s", msg);
}

static void
entity_add(void *arg, const struct cluster_entity *e)
{
	struct entity_load *l = arg;

	entity_quotas(&l->quotas, e);
	if (e->user == NULL || e->client != NULL || e->ip != NULL)
		return;
	for (int32_t i = 0; i < e->count; i++) {
		for (int m = 0; m < SCRAM_MECHS; m++) {
			struct scram_cred c;

			if (strcmp(e->kv[i].key, scram_mech_name((enum scram_mech)m)) != 0)
				continue;
			if (scram_parse((enum scram_mech)m, e->kv[i].value, &c) != 0 ||
			    scram_store_upsert(&l->scram, e->user, strlen(e->user), &c) != 0)
				log_warn("control", "ZooKeeper SCRAM credential of %s skipped",
					 e->user);
			OPENSSL_cleanse(&c, sizeof(c));
		}
	}
}

int
ctl_entity_sync(struct ctl *ctl)
{
	struct entity_load l;

	if (ctl_entity_zk(ctl) == NULL)
		return 0;
	memset(&l, 0, sizeof(l));       /* dir "": in memory only */
	if (cluster_entity_load(ctl_entity_zk(ctl), entity_add, &l) != 0) {
		quota_store_close(&l.quotas);
		scram_store_close(&l.scram);
		return -EIO;
	}
	quota_store_close(&ctl->quotas);
	ctl->quotas = l.quotas;
	scram_store_close(&ctl->scram);
	ctl->scram = l.scram;
	ctl->md_dirty = true;
	return 0;
}

int
ctl_entity_alter(struct ctl *ctl, const struct cluster_entity *e)
{
	int rc = cluster_entity_alter(ctl_entity_zk(ctl), e);

	(void)ctl_entity_sync(ctl);
	return rc;
}
