/* SPDX-License-Identifier: Apache-2.0 */
/* ACLs in ZooKeeper, as Kafka's ZooKeeper-mode authorizer (AclAuthorizer)
 * keeps them (layout in control/cluster_sec.h): one znode per resource
 * pattern holding its bindings, rewritten conditionally on its version
 * and announced by a sequential change notification that every broker
 * watches. The watches only flag; control reloads. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/assert.h"
#include "common/log.h"
#include "control/cluster_int.h"
#include "control/cluster_sec.h"

#define ACL_RETRIES 16

/* Kafka's names: SecurityUtils.resourceTypeName / operationName /
 * permissionTypeName, and the Java enum names of the change events. */
static const char *const rtype_names[KP_RES_TYPES] = {
	[KP_RES_TOPIC] = "Topic", [KP_RES_GROUP] = "Group", [KP_RES_CLUSTER] = "Cluster",
	[KP_RES_TRANSACTIONAL_ID] = "TransactionalId",
	[KP_RES_DELEGATION_TOKEN] = "DelegationToken", [KP_RES_USER] = "User",
};
static const char *const rtype_enum[KP_RES_TYPES] = {
	[KP_RES_TOPIC] = "TOPIC", [KP_RES_GROUP] = "GROUP", [KP_RES_CLUSTER] = "CLUSTER",
	[KP_RES_TRANSACTIONAL_ID] = "TRANSACTIONAL_ID",
	[KP_RES_DELEGATION_TOKEN] = "DELEGATION_TOKEN", [KP_RES_USER] = "USER",
};
static const char *const op_names[KP_ACL_OPS] = {
	[KP_ACL_ALL] = "All", [KP_ACL_READ] = "Read", [KP_ACL_WRITE] = "Write",
	[KP_ACL_CREATE] = "Create", [KP_ACL_DELETE] = "Delete", [KP_ACL_ALTER] = "Alter",
	[KP_ACL_DESCRIBE] = "Describe", [KP_ACL_CLUSTER_ACTION] = "ClusterAction",
	[KP_ACL_DESCRIBE_CONFIGS] = "DescribeConfigs", [KP_ACL_ALTER_CONFIGS] = "AlterConfigs",
	[KP_ACL_IDEMPOTENT_WRITE] = "IdempotentWrite", [KP_ACL_CREATE_TOKENS] = "CreateTokens",
	[KP_ACL_DESCRIBE_TOKENS] = "DescribeTokens",
};

static const char *const acl_roots[2] = { "/kafka-acl", "/kafka-acl-extended/prefixed" };
static const char *const change_paths[2] = { "/kafka-acl-changes",
					      "/kafka-acl-extended-changes" };

static int
name_index(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (names[i] != NULL && s != NULL && strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* @thread libzookeeper's completion thread: flags only. */
void
cluster_sec_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	struct cluster *cl = ctx;
	uint32_t bits = CLUSTER_SEC_ACL | CLUSTER_SEC_ENTITY;

	(void)zh;
	(void)state;
	if (type != ZOO_SESSION_EVENT && path != NULL)
		bits = strncmp(path, "/config", 7) == 0 ? CLUSTER_SEC_ENTITY : CLUSTER_SEC_ACL;
	atomic_fetch_or(&cl->sec_events, bits);
	cluster_flag(cl, 0);
}

uint32_t
cluster_sec_take(struct cluster *cl)
{
	return atomic_exchange(&cl->sec_events, 0);
}

void
cluster_sec_retry(struct cluster *cl, uint32_t bits)
{
	atomic_fetch_or(&cl->sec_events, bits);
}

/* A resource's znode path; -1 when the name cannot be one (empty, "/",
 * "." or ".."), as ZooKeeper would refuse it. */
static int
resource_path(char *out, size_t size, int8_t rtype, int8_t pattern, struct kp_str name)
{
	int n;

	if (rtype <= KP_RES_ANY || rtype >= KP_RES_TYPES || name.len <= 0 ||
	    memchr(name.ptr, '/', (size_t)name.len) != NULL ||
	    (name.len == 1 && name.ptr[0] == '.') ||
	    (name.len == 2 && name.ptr[0] == '.' && name.ptr[1] == '.'))
		return -1;
	n = snprintf(out, size, "%s/%s/%.*s", acl_roots[pattern == KP_PAT_PREFIXED],
		     rtype_names[rtype], (int)name.len, name.ptr);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

static json_t *
jstr(struct kp_str s)
{
	return json_stringn(s.ptr, (size_t)s.len);
}

/* The znode JSON of a store's bindings (all of one resource). */
static char *
acls_encode(const struct acl_store *as)
{
	json_t *j = json_object(), *arr = json_array();
	char *s;

	for (int32_t i = 0; i < as->count; i++) {
		const struct kp_acl *a = &as->entries[i].acl;
		json_t *e = json_object();

		json_object_set_new(e, "principal", jstr(a->principal));
		json_object_set_new(e, "permissionType",
				    json_string(a->perm == KP_PERM_DENY ? "Deny" : "Allow"));
		json_object_set_new(e, "operation", json_string(op_names[a->op]));
		json_object_set_new(e, "host", jstr(a->host));
		json_array_append_new(arr, e);
	}
	json_object_set_new(j, "version", json_integer(1));
	json_object_set_new(j, "acls", arr);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	ASSERT(s != NULL);
	return s;
}

static struct kp_str
kstr(json_t *v)
{
	return (struct kp_str){ json_string_value(v), (int32_t)json_string_length(v) };
}

/* Add the bindings of one resource znode's JSON to as. Unreadable
 * entries are skipped (logged). 0 or -ENOMEM. */
static int
acls_decode(struct acl_store *as, const char *json, int8_t rtype, int8_t pattern,
	    struct kp_str name)
{
	json_t *j = json_loads(json, 0, NULL), *arr = json_object_get(j, "acls"), *e;
	size_t i;
	int rc = 0;

	json_array_foreach(arr, i, e) {
		json_t *pr = json_object_get(e, "principal"), *h = json_object_get(e, "host");
		const char *perm = json_string_value(json_object_get(e, "permissionType"));
		int op = name_index(op_names, KP_ACL_OPS,
				    json_string_value(json_object_get(e, "operation")));
		struct kp_acl acl = {
			.rtype = rtype, .pattern = pattern, .op = (int8_t)op, .name = name,
			.perm = perm == NULL ? KP_PERM_UNKNOWN
			      : strcmp(perm, "Allow") == 0 ? KP_PERM_ALLOW
			      : strcmp(perm, "Deny") == 0 ? KP_PERM_DENY : KP_PERM_UNKNOWN,
		};
		char msg[256];
		bool changed;

		if (!json_is_string(pr) || !json_is_string(h) || op < 0) {
			log_warn("cluster", "ACL znode %.*s: unreadable entry skipped", name.len,
				 name.ptr);
			continue;
		}
		acl.principal = kstr(pr);
		acl.host = kstr(h);
		if (kp_acl_validate(&acl, msg, sizeof(msg)) != KP_ERR_NONE) {
			log_warn("cluster", "ACL znode %.*s: %s", name.len, name.ptr, msg);
			continue;
		}
		if (acl_store_add(as, &acl, 1, &changed) != 0)
			rc = -ENOMEM;
	}
	json_decref(j);
	return rc;
}

/* Read one resource znode into as (empty when absent); *version: its
 * version, -1 when absent. A ZK code. */
static int
resource_read(struct cluster *cl, const char *path, int8_t rtype, int8_t pattern,
	      struct kp_str name, struct acl_store *as, int32_t *version)
{
	struct Stat st;
	char *json = NULL;
	int rc = cluster_zk_get(cl, path, false, &json, &st);

	memset(as, 0, sizeof(*as));
	*version = -1;
	if (rc == ZNONODE)
		return ZOK;
	if (rc != ZOK)
		return rc;
	*version = st.version;
	rc = acls_decode(as, json, rtype, pattern, name) == 0 ? ZOK : ZSYSTEMERROR;
	free(json);
	return rc;
}

/* Load every resource of one type under one root. A ZK code. */
static int
load_type(struct cluster *cl, struct acl_store *as, int root, int8_t rtype)
{
	struct String_vector kids = { 0 };
	char dir[CL_PATH_MAX], path[CL_PATH_MAX * 2];
	int rc;

	snprintf(dir, sizeof(dir), "%s/%s", acl_roots[root], rtype_names[rtype]);
	rc = zoo_get_children(cl->zh, dir, 0, &kids);
	if (rc == ZNONODE)
		return ZOK;
	for (int32_t k = 0; rc == ZOK && k < kids.count; k++) {
		struct kp_str name = { kids.data[k], (int32_t)strlen(kids.data[k]) };
		struct Stat st;
		char *json = NULL;

		snprintf(path, sizeof(path), "%s/%s", dir, kids.data[k]);
		rc = cluster_zk_get(cl, path, false, &json, &st);
		if (rc == ZNONODE) {
			rc = ZOK;       /* deleted meanwhile */
			continue;
		}
		if (rc == ZOK && acls_decode(as, json, rtype,
					     root == 0 ? KP_PAT_LITERAL : KP_PAT_PREFIXED,
					     name) != 0)
			rc = ZSYSTEMERROR;
		free(json);
	}
	deallocate_String_vector(&kids);
	return rc;
}

/* The sequence number of "acl_changes_<seq>", -1 when not one. */
static int64_t
change_seq(const char *name)
{
	const char *p = name + strlen("acl_changes_");
	char *end;
	long long v;

	if (strncmp(name, "acl_changes_", strlen("acl_changes_")) != 0)
		return -1;
	v = strtoll(p, &end, 10);
	return *p != '\0' && *end == '\0' && v >= 0 ? (int64_t)v : -1;
}

/* List change path i (re-arming its watch). A ZK code. */
static int
changes_list(struct cluster *cl, int i, struct String_vector *kids)
{
	int rc = cluster_zk_mkdirs(cl->zh, change_paths[i]);

	if (rc == ZOK)
		rc = zoo_wget_children(cl->zh, change_paths[i], cluster_sec_watcher, cl, kids);
	return rc;
}

int
cluster_acl_load(struct cluster *cl, struct acl_store *as)
{
	int rc = ZOK;

	acl_store_close(as);
	memset(as, 0, sizeof(*as));
	for (int i = 0; i < 2 && rc == ZOK; i++) {
		struct String_vector kids = { 0 };

		cl->acl_seen[i] = -1;
		rc = changes_list(cl, i, &kids);
		for (int32_t k = 0; rc == ZOK && k < kids.count; k++)
			if (change_seq(kids.data[k]) > cl->acl_seen[i])
				cl->acl_seen[i] = change_seq(kids.data[k]);
		deallocate_String_vector(&kids);
	}
	for (int root = 0; root < 2 && rc == ZOK; root++)
		for (int8_t t = KP_RES_TOPIC; t < KP_RES_TYPES && rc == ZOK; t++)
			rc = load_type(cl, as, root, t);
	if (rc == ZOK)
		return 0;
	log_warn("cluster", "reading the ACLs from ZooKeeper: %s", zerror(rc));
	acl_store_close(as);
	return -EIO;
}

/* The resource a notification names: "TOPIC:name" (literal; Kafka's
 * ResourceType.fromString is case-blind) or the extended JSON. 0 or -1;
 * name points into buf / is copied into buf. */
static int
change_decode(int i, const char *data, char *buf, size_t size, struct kp_acl *r)
{
	memset(r, 0, sizeof(*r));
	r->pattern = i == 0 ? KP_PAT_LITERAL : KP_PAT_PREFIXED;
	if (i == 0) {
		const char *colon = strchr(data, ':');

		for (int8_t t = KP_RES_TOPIC; colon != NULL && t < KP_RES_TYPES; t++)
			if (strncasecmp(data, rtype_enum[t], (size_t)(colon - data)) == 0 &&
			    strlen(rtype_enum[t]) == (size_t)(colon - data))
				r->rtype = t;
		if (colon == NULL || r->rtype == 0 || strlen(colon + 1) >= size)
			return -1;
		snprintf(buf, size, "%s", colon + 1);
	} else {
		json_t *j = json_loads(data, 0, NULL);
		const char *type = json_string_value(json_object_get(j, "resourceType"));
		const char *name = json_string_value(json_object_get(j, "name"));
		const char *pat = json_string_value(json_object_get(j, "patternType"));
		int t = name_index(rtype_enum, KP_RES_TYPES, type);

		if (t > 0 && name != NULL && pat != NULL && strcmp(pat, "PREFIXED") == 0 &&
		    strlen(name) < size) {
			r->rtype = (int8_t)t;
			snprintf(buf, size, "%s", name);
		}
		json_decref(j);
		if (r->rtype == 0)
			return -1;
	}
	r->name = (struct kp_str){ buf, (int32_t)strlen(buf) };
	return 0;
}

static void
removed_none(void *arg, int32_t filter, const struct kp_acl *a)
{
	(void)arg;
	(void)filter;
	(void)a;
}

/* Replace r's bindings in as with what its znode holds now. A ZK code. */
static int
resource_refresh(struct cluster *cl, struct acl_store *as, const struct kp_acl *r)
{
	struct kp_acl_filter f = { .rtype = r->rtype, .pattern = r->pattern,
				   .op = KP_ACL_OP_ANY, .perm = KP_PERM_ANY, .name = r->name,
				   .principal = { NULL, -1 }, .host = { NULL, -1 } };
	char path[CL_PATH_MAX];
	struct acl_store now;
	int32_t version;
	bool skip = false, changed;
	int rc;

	if (resource_path(path, sizeof(path), r->rtype, r->pattern, r->name) != 0)
		return ZOK;
	rc = resource_read(cl, path, r->rtype, r->pattern, r->name, &now, &version);
	if (rc == ZOK && acl_store_remove(as, &f, &skip, 1, removed_none, NULL, &changed) != 0)
		rc = ZSYSTEMERROR;
	for (int32_t k = 0; rc == ZOK && k < now.count; k++)
		if (acl_store_add(as, &now.entries[k].acl, 1, &changed) != 0)
			rc = ZSYSTEMERROR;
	acl_store_close(&now);
	return rc;
}

int
cluster_acl_apply_changes(struct cluster *cl, struct acl_store *as)
{
	int rc = ZOK;

	for (int i = 0; i < 2 && rc == ZOK; i++) {
		struct String_vector kids = { 0 };
		int64_t seen = cl->acl_seen[i];

		rc = changes_list(cl, i, &kids);
		/* Sequence order: the children come unordered. */
		for (int64_t next = seen; rc == ZOK;) {
			int32_t at = -1;
			char path[CL_PATH_MAX + 64], *data = NULL, buf[CL_PATH_MAX];
			struct kp_acl r;
			struct Stat st;

			for (int32_t k = 0; k < kids.count; k++) {
				int64_t s = change_seq(kids.data[k]);

				if (s > seen && (at < 0 || s < next))
					at = k, next = s;
			}
			if (at < 0)
				break;
			snprintf(path, sizeof(path), "%s/%s", change_paths[i], kids.data[at]);
			rc = cluster_zk_get(cl, path, false, &data, &st);
			if (rc == ZNONODE)
				rc = ZOK;       /* expired meanwhile */
			else if (rc == ZOK && change_decode(i, data, buf, sizeof(buf), &r) == 0)
				rc = resource_refresh(cl, as, &r);
			else if (rc == ZOK)
				log_warn("cluster", "%s: unreadable ACL change notification", path);
			free(data);
			seen = next;
			cl->acl_seen[i] = seen;
		}
		deallocate_String_vector(&kids);
	}
	return rc == ZOK ? 0 : -EIO;
}

/* Once a request's notifications are written: drop the expired ones. */
static void
changes_expire(struct cluster *cl)
{
	for (int i = 0; i < 2; i++)
		cluster_changes_expire(cl, change_paths[i]);
}

/* Kafka's change notification naming one resource. A ZK code. */
static int
notify(struct cluster *cl, const struct kp_acl *a)
{
	char *data;
	int rc, n;

	if (a->pattern == KP_PAT_PREFIXED) {
		json_t *j = json_object();

		json_object_set_new(j, "version", json_integer(1));
		json_object_set_new(j, "resourceType", json_string(rtype_enum[a->rtype]));
		json_object_set_new(j, "name", jstr(a->name));
		json_object_set_new(j, "patternType", json_string("PREFIXED"));
		data = json_dumps(j, JSON_COMPACT);
		json_decref(j);
	} else {
		n = snprintf(NULL, 0, "%s:%.*s", rtype_enum[a->rtype], (int)a->name.len,
			     a->name.ptr);
		data = malloc((size_t)n + 1);
		if (data != NULL)
			snprintf(data, (size_t)n + 1, "%s:%.*s", rtype_enum[a->rtype],
				 (int)a->name.len, a->name.ptr);
	}
	if (data == NULL)
		return ZSYSTEMERROR;
	{
		char path[CL_PATH_MAX];

		snprintf(path, sizeof(path), "%s/acl_changes_",
			 change_paths[a->pattern == KP_PAT_PREFIXED]);
		rc = cluster_zk_mkdirs(cl->zh, change_paths[a->pattern == KP_PAT_PREFIXED]);
		if (rc == ZOK)
			rc = zoo_create(cl->zh, path, data, (int)strlen(data),
					&ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT_SEQUENTIAL, NULL, 0);
	}
	free(data);
	return rc;
}

/* Write a resource's bindings at the version read (-1: create it; none
 * left: delete it). ZOK, ZBADVERSION / ZNODEEXISTS / ZNONODE on a race. */
static int
resource_write(struct cluster *cl, const char *path, const struct acl_store *as,
	       int32_t version)
{
	char *json;
	int rc;

	if (as->count == 0)
		return version < 0 ? ZOK : zoo_delete(cl->zh, path, version);
	json = acls_encode(as);
	if (version < 0) {
		char parent[CL_PATH_MAX];

		snprintf(parent, sizeof(parent), "%s", path);
		*strrchr(parent, '/') = '\0';
		rc = cluster_zk_mkdirs(cl->zh, parent);
		if (rc == ZOK)
			rc = zoo_create(cl->zh, path, json, (int)strlen(json),
					&ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
	} else {
		rc = zoo_set(cl->zh, path, json, (int)strlen(json), version);
	}
	free(json);
	return rc;
}

static bool
race(int rc)
{
	return rc == ZBADVERSION || rc == ZNODEEXISTS || rc == ZNONODE || rc == ZNOTEMPTY;
}

static bool
same_resource(const struct kp_acl *a, const struct kp_acl *b)
{
	return a->rtype == b->rtype && a->pattern == b->pattern && a->name.len == b->name.len &&
	       memcmp(a->name.ptr, b->name.ptr, (size_t)a->name.len) == 0;
}

/* Add the bindings of acls that name acls[first]'s resource. A ZK code. */
static int
create_one(struct cluster *cl, const struct kp_acl *acls, int32_t count, int32_t first,
	   const char *path)
{
	const struct kp_acl *r = &acls[first];
	int rc = ZBADVERSION;

	for (int attempt = 0; attempt < ACL_RETRIES && race(rc); attempt++) {
		struct acl_store as;
		int32_t version;
		bool changed = false, any = false;

		rc = resource_read(cl, path, r->rtype, r->pattern, r->name, &as, &version);
		for (int32_t i = first; i < count && rc == ZOK; i++) {
			if (!same_resource(r, &acls[i]))
				continue;
			if (acl_store_add(&as, &acls[i], 1, &changed) != 0)
				rc = ZSYSTEMERROR;
			any = any || changed;
		}
		if (rc == ZOK && any)
			rc = resource_write(cl, path, &as, version);
		acl_store_close(&as);
		if (rc == ZOK && any)
			rc = notify(cl, r);
	}
	return rc;
}

int16_t
cluster_acl_create(struct cluster *cl, const struct kp_acl *acls, int32_t count, char *msg,
		   size_t msg_size)
{
	char path[CL_PATH_MAX];

	for (int32_t i = 0; i < count; i++) {
		bool seen = false;
		int rc;

		for (int32_t k = 0; k < i && !seen; k++)
			seen = same_resource(&acls[k], &acls[i]);
		if (seen)
			continue;
		if (resource_path(path, sizeof(path), acls[i].rtype, acls[i].pattern,
				  acls[i].name) != 0) {
			snprintf(msg, msg_size, "Invalid resource name for ZooKeeper: '%.*s'",
				 (int)acls[i].name.len, acls[i].name.ptr);
			return KP_ERR_INVALID_REQUEST;
		}
		rc = create_one(cl, acls, count, i, path);
		if (rc != ZOK) {
			snprintf(msg, msg_size, "Cannot store the ACLs in ZooKeeper: %s",
				 zerror(rc));
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		}
	}
	changes_expire(cl);
	return KP_ERR_NONE;
}

/* Bindings one DeleteAcls removed (copies), reported once all is written. */
struct removed {
	int32_t count, cap;
	struct {
		int32_t filter;
		struct kp_acl acl;
		char *buf;
	} *v;
	bool oom;
};

static void
removed_add(void *arg, int32_t filter, const struct kp_acl *a)
{
	struct removed *r = arg;
	size_t n = (size_t)a->name.len + (size_t)a->principal.len + (size_t)a->host.len;
	char *buf;

	if (r->count == r->cap) {
		int32_t cap = r->cap > 0 ? r->cap * 2 : 16;
		void *v = realloc(r->v, (size_t)cap * sizeof(*r->v));

		if (v == NULL) {
			r->oom = true;
			return;
		}
		r->v = v;
		r->cap = cap;
	}
	buf = malloc(n + 1);
	if (buf == NULL) {
		r->oom = true;
		return;
	}
	memcpy(buf, a->name.ptr, (size_t)a->name.len);
	memcpy(buf + a->name.len, a->principal.ptr, (size_t)a->principal.len);
	memcpy(buf + a->name.len + a->principal.len, a->host.ptr, (size_t)a->host.len);
	r->v[r->count].filter = filter;
	r->v[r->count].acl = *a;
	r->v[r->count].acl.name.ptr = buf;
	r->v[r->count].acl.principal.ptr = buf + a->name.len;
	r->v[r->count].acl.host.ptr = buf + a->name.len + a->principal.len;
	r->v[r->count].buf = buf;
	r->count++;
}

static void
removed_truncate(struct removed *r, int32_t count)
{
	while (r->count > count)
		free(r->v[--r->count].buf);
}

/* Remove the matching bindings of one resource. A ZK code. */
static int
delete_one(struct cluster *cl, const struct kp_acl *r, const struct kp_acl_filter *filters,
	   const bool *skip, int32_t count, struct removed *out)
{
	char path[CL_PATH_MAX];
	int rc = ZBADVERSION;
	int32_t mark = out->count;

	if (resource_path(path, sizeof(path), r->rtype, r->pattern, r->name) != 0)
		return ZOK;
	for (int attempt = 0; attempt < ACL_RETRIES && race(rc); attempt++) {
		struct acl_store as;
		int32_t version;
		bool changed = false;

		removed_truncate(out, mark);
		rc = resource_read(cl, path, r->rtype, r->pattern, r->name, &as, &version);
		if (rc == ZOK && acl_store_remove(&as, filters, skip, count, removed_add, out,
						  &changed) != 0)
			rc = ZSYSTEMERROR;
		if (rc == ZOK && changed)
			rc = resource_write(cl, path, &as, version);
		acl_store_close(&as);
		if (rc == ZOK && changed)
			rc = notify(cl, r);
	}
	return out->oom ? ZSYSTEMERROR : rc;
}

int16_t
cluster_acl_delete(struct cluster *cl, const struct acl_store *cache,
		   const struct kp_acl_filter *filters, const bool *skip, int32_t count,
		   kp_acl_removed_fn *fn, void *arg, char *msg, size_t msg_size)
{
	struct removed out = { 0 };
	int rc = ZOK;

	/* The cache is sorted by resource first: one group per resource. */
	for (int32_t i = 0, j; i < cache->count && rc == ZOK; i = j) {
		const struct kp_acl *a = &cache->entries[i].acl;
		bool match = false;

		for (j = i; j < cache->count && same_resource(&cache->entries[j].acl, a); j++)
			for (int32_t f = 0; f < count && !match; f++)
				match = !skip[f] &&
					kp_acl_filter_matches(&filters[f], &cache->entries[j].acl);
		if (match)
			rc = delete_one(cl, a, filters, skip, count, &out);
	}
	if (rc == ZOK)
		for (int32_t i = 0; i < out.count; i++)
			fn(arg, out.v[i].filter, &out.v[i].acl);
	removed_truncate(&out, 0);
	free(out.v);
	if (rc != ZOK) {
		snprintf(msg, msg_size, "Cannot store the ACLs in ZooKeeper: %s", zerror(rc));
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	changes_expire(cl);
	return KP_ERR_NONE;
}
