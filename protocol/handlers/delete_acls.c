/* SPDX-License-Identifier: Apache-2.0 */
/* DeleteAcls (key 31), versions 0-3, on the control thread. As Kafka 3.9:
 * ALTER on the cluster (else every filter CLUSTER_AUTHORIZATION_FAILED),
 * SECURITY_DISABLED without an authorizer, else every binding the filters
 * matched, removed together and durably. A filter with UNKNOWN elements, or
 * a v0 one with a pattern other than LITERAL or ANY, fails to parse in
 * Kafka: the connection is closed. */
#include <stdlib.h>

#include "protocol/gen/kp_msg_delete_acls.h"
#include "protocol/kp_int.h"

/* Filters per request (Kafka bounds the records one removal writes). */
#define DELETE_ACLS_FILTERS_MAX 10000

/* The removed bindings, encoded per filter. */
struct delete_acls_out {
	int16_t version;
	struct kp_writer *per_filter;   /* one writer per filter */
	int32_t *counts;
};

static void
delete_acls_removed(void *arg, int32_t filter, const struct kp_acl *acl)
{
	struct delete_acls_out *o = arg;
	struct kp_delete_acls_response_delete_acls_matching_acl m;

	kp_delete_acls_response_delete_acls_matching_acl_init(&m);
	m.error_message = (struct kp_str){ NULL, -1 };          /* null, as Kafka */
	m.resource_type = acl->rtype;
	m.resource_name = acl->name;
	m.pattern_type = acl->pattern;
	m.principal = acl->principal;
	m.host = acl->host;
	m.operation = acl->op;
	m.permission_type = acl->perm;
	kp_delete_acls_response_delete_acls_matching_acl_encode(&o->per_filter[filter], o->version,
								&m);
	o->counts[filter]++;
}

/* Read the filters; false when the request does not parse in Kafka. */
static bool
delete_acls_read(const struct kp_delete_acls_request *req, int16_t version,
		 struct kp_acl_filter *filters, bool *skip)
{
	struct kp_cursor it = kp_array_cursor(&req->filters);

	for (int32_t i = 0; i < req->filters.count; i++) {
		struct kp_delete_acls_request_delete_acls_filter d;
		struct kp_acl_filter *f = &filters[i];

		kp_delete_acls_request_delete_acls_filter_decode(&it, version, &d);
		*f = (struct kp_acl_filter){
			kp_acl_code(d.resource_type_filter, KP_RES_TYPES),
			kp_acl_code(d.pattern_type_filter, KP_PAT_PREFIXED + 1),
			kp_acl_code(d.operation, KP_ACL_OPS),
			kp_acl_code(d.permission_type, KP_PERM_ALLOW + 1),
			d.resource_name_filter, d.principal_filter, d.host_filter,
		};
		if (version == 0 && f->pattern == KP_PAT_ANY)
			f->pattern = KP_PAT_LITERAL;
		if (version == 0 && f->pattern != KP_PAT_LITERAL)
			return false;
		/* UNKNOWN elements: Kafka's broker cannot build the filter and
		 * closes the connection (checked against Kafka 3.9). */
		if (f->rtype == KP_RES_UNKNOWN || f->pattern == KP_PAT_UNKNOWN ||
		    f->op == KP_ACL_OP_UNKNOWN || f->perm == KP_PERM_UNKNOWN)
			return false;
		skip[i] = false;
	}
	return true;
}

static void
delete_acls_encode(struct kp_call *call, int32_t n, const int16_t *codes, const char **msgs,
		   struct delete_acls_out *o)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_delete_acls_response resp;
	struct kp_writer results;

	kp_delete_acls_response_init(&resp);
	kp_writer_init(&results, 256);
	for (int32_t i = 0; i < n; i++) {
		struct kp_delete_acls_response_delete_acls_filter_result r;

		kp_delete_acls_response_delete_acls_filter_result_init(&r);
		r.error_code = codes[i];
		r.error_message = msgs[i] != NULL ? kp_str_c(msgs[i]) : (struct kp_str){ NULL, -1 };
		r.matching_acls = kp_array_wire(o->counts[i], &o->per_filter[i]);
		kp_delete_acls_response_delete_acls_filter_result_encode(&results, version, &r);
	}
	resp.filter_results = kp_array_wire(n, &results);
	kp_delete_acls_response_encode(call->w, version, &resp);
	kp_writer_free(&results);
}

/* The answer to every filter, removing what the valid ones match. */
static void
delete_acls_run(struct kp_call *call, const struct kp_acl_filter *filters, bool *skip,
		int16_t *codes, const char **msgs, int32_t n, struct delete_acls_out *o)
{
	static char store_msg[256];     /* control is one thread */
	int16_t all = KP_ERR_NONE;
	const char *all_msg = NULL;

	if (!kp_authorize(call->env, KP_ACL_ALTER, KP_RES_CLUSTER,
			  kp_str_c(KP_ACL_CLUSTER_NAME))) {
		all = KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
		all_msg = "Cluster authorization failed.";
	} else if (call->env->md->acl == NULL) {
		all = KP_ERR_SECURITY_DISABLED;
		all_msg = "No Authorizer is configured.";
	} else {
		store_msg[0] = '\0';
		all = call->env->admin->acls_delete(call->env->admin_ctx, filters, skip, n,
						    delete_acls_removed, o, store_msg,
						    sizeof(store_msg));
		all_msg = store_msg;
	}
	for (int32_t i = 0; all != KP_ERR_NONE && i < n; i++) {
		codes[i] = all;
		msgs[i] = all_msg;
		o->counts[i] = 0;
		o->per_filter[i].len = 0;
	}
}

enum kp_verdict
kp_handle_delete_acls(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_delete_acls_request req;
	struct delete_acls_out o = { .version = version };
	struct kp_acl_filter *filters;
	const char **msgs;
	int16_t *codes;
	bool *skip;
	int32_t n;
	enum kp_verdict v = KP_VERDICT_REPLY;

	if (kp_delete_acls_request_decode(&call->body, version, &req) != 0 ||
	    req.filters.count > DELETE_ACLS_FILTERS_MAX)
		return KP_VERDICT_CLOSE;
	n = kp_count0(req.filters.count);
	filters = calloc((size_t)n + 1, sizeof(*filters));
	skip = calloc((size_t)n + 1, sizeof(*skip));
	codes = calloc((size_t)n + 1, sizeof(*codes));
	msgs = calloc((size_t)n + 1, sizeof(*msgs));
	o.per_filter = calloc((size_t)n + 1, sizeof(*o.per_filter));
	o.counts = calloc((size_t)n + 1, sizeof(*o.counts));
	if (filters == NULL || skip == NULL || codes == NULL || msgs == NULL ||
	    o.per_filter == NULL || o.counts == NULL ||
	    !delete_acls_read(&req, version, filters, skip)) {
		v = KP_VERDICT_CLOSE;
	} else {
		for (int32_t i = 0; i < n; i++)
			kp_writer_init(&o.per_filter[i], 0);
		delete_acls_run(call, filters, skip, codes, msgs, n, &o);
		delete_acls_encode(call, n, codes, msgs, &o);
		for (int32_t i = 0; i < n; i++)
			kp_writer_free(&o.per_filter[i]);
	}
	free(filters);
	free(skip);
	free(codes);
	free(msgs);
	free(o.per_filter);
	free(o.counts);
	return v;
}
