/* SPDX-License-Identifier: Apache-2.0 */
/* AlterClientQuotas (key 49), versions 0-1, on the control thread. Each
 * entry's entity is read as Kafka reads it (a map by entity type: a
 * repeated type keeps its last name) and handed to control's quota store
 * (control/quota.c), which validates and applies it. As Kafka's controller
 * does: an entity listed twice is answered once, "Ignoring duplicate
 * entity" (its first listing still applies), and an entry repeating a key
 * is not applied. Nothing is allocated: duplicates are found by re-reading
 * the request, whose size the entry bound keeps small. */
#include <stdio.h>

#include "protocol/gen/kp_msg_alter_client_quotas.h"
#include "protocol/kp_int.h"

/* Entries per request, entity parts and ops per entry this broker reads. */
#define ALTER_CLIENT_QUOTAS_ENTRIES_MAX 1000
#define ALTER_CLIENT_QUOTAS_PARTS_MAX 8
#define ALTER_CLIENT_QUOTAS_OPS_MAX 32

/* One request entry, read into fixed arrays. */
struct alter_client_quotas_entry {
	struct kp_quota_entity entity;
	struct kp_str bad_type;         /* the first unknown entity type, or len -1 */
	struct kp_str bad_name;
	struct kp_quota_op ops[ALTER_CLIENT_QUOTAS_OPS_MAX];
	int32_t op_count;
	bool too_big;                   /* more parts or ops than read */
};

static struct kp_quota_entity
alter_client_quotas_entity_none(void)
{
	struct kp_quota_entity e = { 0 };

	for (int t = 0; t < KP_QUOTA_TYPES; t++)
		e.name[t] = (struct kp_str){ NULL, -1 };
	return e;
}

static void
alter_client_quotas_read(struct kp_cursor *it, int16_t version,
			 struct alter_client_quotas_entry *out)
{
	struct kp_alter_client_quotas_request_entry_data d;
	struct kp_cursor parts, ops;

	kp_alter_client_quotas_request_entry_data_decode(it, version, &d);
	out->entity = alter_client_quotas_entity_none();
	out->bad_type = (struct kp_str){ NULL, -1 };
	out->bad_name = (struct kp_str){ NULL, -1 };
	out->op_count = 0;
	out->too_big = d.entity.count > ALTER_CLIENT_QUOTAS_PARTS_MAX ||
		       d.ops.count > ALTER_CLIENT_QUOTAS_OPS_MAX;
	if (out->too_big)
		return;
	parts = kp_array_cursor(&d.entity);
	for (int32_t i = 0; i < d.entity.count; i++) {
		struct kp_alter_client_quotas_request_entity_data p;
		int type = -1;

		kp_alter_client_quotas_request_entity_data_decode(&parts, version, &p);
		for (int t = 0; t < KP_QUOTA_TYPES; t++)
			if (kp_str_eq(p.entity_type,
				      kp_str_c(kp_quota_type_name((enum kp_quota_type)t))))
				type = t;
		if (type < 0 && out->bad_type.len < 0) {
			out->bad_type = p.entity_type;
			out->bad_name = p.entity_name;
		} else if (type >= 0) {
			out->entity.present |= (uint8_t)(1u << type);
			out->entity.name[type] = p.entity_name;
		}
	}
	ops = kp_array_cursor(&d.ops);
	for (int32_t i = 0; i < d.ops.count; i++) {
		struct kp_alter_client_quotas_request_op_data o;

		kp_alter_client_quotas_request_op_data_decode(&ops, version, &o);
		out->ops[i] = (struct kp_quota_op){ o.key, o.value, o.remove };
		out->op_count++;
	}
}

static bool
alter_client_quotas_same(const struct alter_client_quotas_entry *a,
			 const struct alter_client_quotas_entry *b)
{
	if (a->entity.present != b->entity.present || !kp_str_eq(a->bad_type, b->bad_type) ||
	    !kp_str_eq(a->bad_name, b->bad_name))
		return false;
	for (int t = 0; t < KP_QUOTA_TYPES; t++)
		if ((a->entity.present & (1u << t)) &&
		    !kp_str_eq(a->entity.name[t], b->entity.name[t]))
			return false;
	return true;
}

static bool
alter_client_quotas_dup_key(const struct alter_client_quotas_entry *e)
{
	for (int32_t i = 0; i < e->op_count; i++)
		for (int32_t j = 0; j < i; j++)
			if (kp_str_eq(e->ops[i].key, e->ops[j].key))
				return true;
	return false;
}

/* Whether an entry before index (before = true) or after it lists the
 * same entity as e. */
static bool
alter_client_quotas_listed(const struct kp_alter_client_quotas_request *req, int16_t version,
			   int32_t index, const struct alter_client_quotas_entry *e, bool before)
{
	static struct alter_client_quotas_entry other;  /* control is one thread */
	struct kp_cursor it = kp_array_cursor(&req->entries);

	for (int32_t j = 0; j < req->entries.count; j++) {
		alter_client_quotas_read(&it, version, &other);
		if ((before ? j < index : j > index) && !other.too_big &&
		    alter_client_quotas_same(&other, e))
			return true;
	}
	return false;
}

/* The response entry for e: its entity as the request named it. */
static void
alter_client_quotas_answer(struct kp_writer *w, int16_t version,
			   const struct alter_client_quotas_entry *e, int16_t error,
			   const char *msg)
{
	struct kp_alter_client_quotas_response_entity_data parts[KP_QUOTA_TYPES + 1];
	struct kp_alter_client_quotas_response_entry_data r;
	int32_t np = 0;

	for (int t = 0; t < KP_QUOTA_TYPES; t++) {
		if (!(e->entity.present & (1u << t)))
			continue;
		kp_alter_client_quotas_response_entity_data_init(&parts[np]);
		parts[np].entity_type = kp_str_c(kp_quota_type_name((enum kp_quota_type)t));
		parts[np].entity_name = e->entity.name[t];
		np++;
	}
	if (e->bad_type.len >= 0) {
		kp_alter_client_quotas_response_entity_data_init(&parts[np]);
		parts[np].entity_type = e->bad_type;
		parts[np].entity_name = e->bad_name;
		np++;
	}
	kp_alter_client_quotas_response_entry_data_init(&r);
	r.error_code = error;
	r.error_message = kp_str_c(msg);
	r.entity = (struct kp_array){ np, NULL, NULL, parts };
	kp_alter_client_quotas_response_entry_data_encode(w, version, &r);
}

/* Alter entry index (e) unless an earlier entry listed its entity; answer
 * it. Returns whether an answer was written. */
static bool
alter_client_quotas_one(struct kp_call *call, const struct kp_alter_client_quotas_request *req,
			int32_t index, const struct alter_client_quotas_entry *e,
			struct kp_writer *scratch)
{
	int16_t version = call->hdr.request_api_version;
	char msg[640] = "";
	char ent[512];
	int16_t rc;

	if (alter_client_quotas_listed(req, version, index, e, true))
		return false;
	if (!kp_acl_allowed(call->env->md->acl, call->env->session, KP_ACL_ALTER_CONFIGS,
			    KP_RES_CLUSTER, kp_str_c(KP_ACL_CLUSTER_NAME))) {
		/* ALTER_CONFIGS on the cluster: every entry refused. */
		alter_client_quotas_answer(scratch, version, e, KP_ERR_CLUSTER_AUTHORIZATION_FAILED,
					   "Cluster authorization failed.");
		return true;
	}
	if (e->too_big) {
		rc = KP_ERR_INVALID_REQUEST;
		snprintf(msg, sizeof(msg), "At most %d entity parts and %d ops per entry",
			 ALTER_CLIENT_QUOTAS_PARTS_MAX, ALTER_CLIENT_QUOTAS_OPS_MAX);
		alter_client_quotas_answer(scratch, version, e, rc, msg);
		return true;
	}
	kp_quota_entity_format(&e->entity, ent, sizeof(ent));
	if (alter_client_quotas_dup_key(e)) {
		/* Kafka records "Duplicate quota key" and then, finding the
		 * entity answered, overwrites it with this; nothing applies. */
		rc = KP_ERR_INVALID_REQUEST;
		snprintf(msg, sizeof(msg), "Ignoring duplicate entity %s", ent);
	} else {
		rc = call->env->admin->quota_alter(call->env->admin_ctx, &e->entity, e->bad_type,
						   e->ops, e->op_count, req->validate_only, msg,
						   sizeof(msg));
		if (alter_client_quotas_listed(req, version, index, e, false)) {
			rc = KP_ERR_INVALID_REQUEST;
			snprintf(msg, sizeof(msg), "Ignoring duplicate entity %s", ent);
		}
	}
	alter_client_quotas_answer(scratch, version, e, rc, rc == KP_ERR_NONE ? NULL : msg);
	return true;
}

enum kp_verdict
kp_handle_alter_client_quotas(struct kp_call *call)
{
	static struct alter_client_quotas_entry e;      /* control is one thread */
	int16_t version = call->hdr.request_api_version;
	struct kp_alter_client_quotas_response resp;
	struct kp_alter_client_quotas_request req;
	struct kp_writer scratch;
	int32_t count = 0;
	struct kp_cursor it;

	if (kp_alter_client_quotas_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	if (req.entries.count > ALTER_CLIENT_QUOTAS_ENTRIES_MAX)
		return KP_VERDICT_CLOSE;        /* no per-request error to answer with */
	kp_alter_client_quotas_response_init(&resp);
	kp_writer_init(&scratch, 256);
	(void)kp_authorize(call->env, KP_ACL_ALTER_CONFIGS, KP_RES_CLUSTER,
			   kp_str_c(KP_ACL_CLUSTER_NAME));     /* counts a denial once */
	it = kp_array_cursor(&req.entries);
	for (int32_t i = 0; i < req.entries.count; i++) {
		alter_client_quotas_read(&it, version, &e);
		count += alter_client_quotas_one(call, &req, i, &e, &scratch);
	}
	resp.entries = kp_array_wire(count, &scratch);
	kp_alter_client_quotas_response_encode(call->w, version, &resp);
	kp_writer_free(&scratch);
	return KP_VERDICT_REPLY;
}
