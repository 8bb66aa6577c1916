/* SPDX-License-Identifier: Apache-2.0 */
/* User, client-id and ip entity configs in ZooKeeper, as Kafka's
 * ZooKeeper mode keeps them (layout in control/cluster_sec.h): SCRAM
 * credentials and client quotas share the /config/users/<u> znodes. A
 * change rewrites the entity's znode conditionally on its version and
 * adds a /config/changes notification; every broker's watch reloads. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/log.h"
#include "control/cluster_int.h"
#include "control/cluster_sec.h"

#define ENTITY_RETRIES 16
#define ENTITY_DEFAULT "<default>"
#define ENTITY_KEYS_MAX 64

/* Kafka's Sanitizer: URL-encoding that keeps [A-Za-z0-9._-] (and "*" as
 * %2A, " " as %20); the default entity stays "<default>". -1: too long. */
static int
sanitize(char *out, size_t size, const char *name)
{
	size_t o = 0;

	if (strcmp(name, ENTITY_DEFAULT) == 0)
		return snprintf(out, size, "%s", name) < (int)size ? 0 : -1;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		bool keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_';

		if (o + 4 > size)
			return -1;
		if (keep)
			out[o++] = (char)*p;
		else
			o += (size_t)snprintf(out + o, size - o, "%%%02X", *p);
	}
	if (o == 0 || o >= size)
		return -1;
	out[o] = '\0';
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Kafka's Sanitizer.desanitize (URL decoding) in place. */
static void
desanitize(char *s)
{
	char *o = s;

	for (char *p = s; *p != '\0'; p++) {
		if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
			*o++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

/* "users/<u>", "clients/<c>", "users/<u>/clients/<c>" or "ips/<ip>". */
static int
entity_path(char *out, size_t size, const struct cluster_entity *e)
{
	char u[CL_PATH_MAX / 4], c[CL_PATH_MAX / 4];
	int n;

	if (e->ip != NULL) {
		if (strchr(e->ip, '/') != NULL || strlen(e->ip) >= sizeof(u))
			return -1;
		n = snprintf(out, size, "ips/%s", e->ip);
	} else if (e->user != NULL && e->client != NULL) {
		if (sanitize(u, sizeof(u), e->user) != 0 || sanitize(c, sizeof(c), e->client) != 0)
			return -1;
		n = snprintf(out, size, "users/%s/clients/%s", u, c);
	} else if (e->user != NULL) {
		if (sanitize(u, sizeof(u), e->user) != 0)
			return -1;
		n = snprintf(out, size, "users/%s", u);
	} else if (e->client != NULL) {
		if (sanitize(c, sizeof(c), e->client) != 0)
			return -1;
		n = snprintf(out, size, "clients/%s", c);
	} else {
		return -1;
	}
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* Read one entity znode and call fn with its config (absent or
 * unreadable: nothing). A ZK code. */
static int
entity_read(struct cluster *cl, const char *path, struct cluster_entity *e,
	    cluster_entity_fn *fn, void *arg)
{
	struct cluster_kv kv[ENTITY_KEYS_MAX];
	struct Stat st;
	char *data = NULL;
	json_t *j, *cfg, *v;
	const char *k;
	int rc = cluster_zk_get(cl, path, false, &data, &st);

	if (rc == ZNONODE)
		return ZOK;
	if (rc != ZOK)
		return rc;
	j = json_loads(data, 0, NULL);
	cfg = json_object_get(j, "config");
	e->count = 0;
	json_object_foreach(cfg, k, v) {
		if (json_is_string(v) && e->count < ENTITY_KEYS_MAX)
			kv[e->count++] = (struct cluster_kv){ k, json_string_value(v) };
	}
	e->kv = kv;
	if (e->count > 0)
		fn(arg, e);
	json_decref(j);
	free(data);
	return ZOK;
}

/* Every entity under /config/<kind>; users also their clients. */
static int
load_kind(struct cluster *cl, const char *kind, cluster_entity_fn *fn, void *arg)
{
	struct String_vector kids = { 0 };
	char dir[64], path[CL_PATH_MAX * 2];
	int rc;

	snprintf(dir, sizeof(dir), "/config/%s", kind);
	rc = zoo_get_children(cl->zh, dir, 0, &kids);
	if (rc == ZNONODE)
		return ZOK;
	for (int32_t i = 0; rc == ZOK && i < kids.count; i++) {
		char name[CL_PATH_MAX];
		struct cluster_entity e = { 0 };
		struct String_vector sub = { 0 };

		snprintf(name, sizeof(name), "%s", kids.data[i]);
		desanitize(name);
		if (strcmp(kind, "users") == 0)
			e.user = name;
		else if (strcmp(kind, "clients") == 0)
			e.client = name;
		else
			e.ip = name;
		snprintf(path, sizeof(path), "%s/%s", dir, kids.data[i]);
		rc = entity_read(cl, path, &e, fn, arg);
		if (rc != ZOK || e.user == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s/clients", dir, kids.data[i]);
		rc = zoo_get_children(cl->zh, path, 0, &sub);
		if (rc == ZNONODE)
			rc = ZOK;
		for (int32_t k = 0; rc == ZOK && k < sub.count; k++) {
			char client[CL_PATH_MAX], sub_path[CL_PATH_MAX * 3];

			snprintf(client, sizeof(client), "%s", sub.data[k]);
			desanitize(client);
			e.client = client;
			snprintf(sub_path, sizeof(sub_path), "%s/%s", path, sub.data[k]);
			rc = entity_read(cl, sub_path, &e, fn, arg);
		}
		deallocate_String_vector(&sub);
	}
	deallocate_String_vector(&kids);
	return rc;
}

int
cluster_entity_load(struct cluster *cl, cluster_entity_fn *fn, void *arg)
{
	static const char *const kinds[] = { "users", "clients", "ips" };
	struct String_vector kids = { 0 };
	int rc = cluster_zk_mkdirs(cl->zh, "/config/changes");

	if (rc == ZOK)
		rc = zoo_wget_children(cl->zh, "/config/changes", cluster_sec_watcher, cl, &kids);
	deallocate_String_vector(&kids);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && rc == ZOK; i++)
		rc = load_kind(cl, kinds[i], fn, arg);
	if (rc == ZOK)
		return 0;
	log_warn("cluster", "reading user / client / ip configs from ZooKeeper: %s",
		 zerror(rc));
	return -EIO;
}

/* One read-modify-write of /config/<epath>. A ZK code. */
static int
alter_once(struct cluster *cl, const char *path, const struct cluster_entity *e)
{
	struct Stat st;
	char *data = NULL, *out;
	json_t *j = NULL, *cfg;
	int rc = cluster_zk_get(cl, path, false, &data, &st);
	bool exists = rc == ZOK;

	if (rc != ZOK && rc != ZNONODE)
		return rc;
	if (exists)
		j = json_loads(data, 0, NULL);
	free(data);
	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	cfg = json_object_get(j, "config");
	if (!json_is_object(cfg)) {
		cfg = json_object();
		json_object_set_new(j, "config", cfg);
	}
	json_object_set_new(j, "version", json_integer(1));
	for (int32_t i = 0; i < e->count; i++) {
		if (e->kv[i].value != NULL)
			json_object_set_new(cfg, e->kv[i].key, json_string(e->kv[i].value));
		else
			json_object_del(cfg, e->kv[i].key);
	}
	out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	ASSERT(out != NULL);
	if (exists) {
		rc = zoo_set(cl->zh, path, out, (int)strlen(out), st.version);
	} else {
		char parent[CL_PATH_MAX + 16];

		snprintf(parent, sizeof(parent), "%s", path);
		*strrchr(parent, '/') = '\0';
		rc = cluster_zk_mkdirs(cl->zh, parent);
		if (rc == ZOK)
			rc = zoo_create(cl->zh, path, out, (int)strlen(out), &ZOO_OPEN_ACL_UNSAFE,
					ZOO_PERSISTENT, NULL, 0);
	}
	free(out);
	return rc;
}

int
cluster_entity_alter(struct cluster *cl, const struct cluster_entity *e)
{
	char epath[CL_PATH_MAX], path[CL_PATH_MAX + 16], note[CL_PATH_MAX + 64];
	int rc = ZBADVERSION;

	if (entity_path(epath, sizeof(epath), e) != 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/config/%s", epath);
	for (int attempt = 0; attempt < ENTITY_RETRIES &&
	     (rc == ZBADVERSION || rc == ZNODEEXISTS || rc == ZNONODE); attempt++)
		rc = alter_once(cl, path, e);
	/* Kafka's change notification: every broker re-reads the entity. */
	snprintf(note, sizeof(note), "{\"version\":2,\"entity_path\":\"%s\"}", epath);
	if (rc == ZOK)
		rc = zoo_create(cl->zh, "/config/changes/config_change_", note, (int)strlen(note),
				&ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_SEQUENTIAL, NULL, 0);
	if (rc == ZOK) {
		cluster_changes_expire(cl, "/config/changes");
		return 0;
	}
	log_warn("cluster", "writing /config/%s: %s", epath, zerror(rc));
	return -EIO;
}
