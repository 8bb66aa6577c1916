/* SPDX-License-Identifier: Apache-2.0 */
/* DescribeAcls (key 29), versions 0-3, on the control thread. As Kafka
 * 3.9: DESCRIBE on the cluster (else CLUSTER_AUTHORIZATION_FAILED),
 * SECURITY_DISABLED without an authorizer, else the bindings the filter
 * matches (AclBindingFilter.matches), grouped by resource pattern. A filter
 * with UNKNOWN elements, or a v0 one with a pattern other than LITERAL or
 * ANY, fails to parse in Kafka: the connection is closed. */
#include "protocol/gen/kp_msg_describe_acls.h"
#include "protocol/kp_int.h"

/* Collects the matching bindings: the store calls in the index order, so
 * one resource pattern's bindings come together. */
struct describe_acls_out {
	int16_t version;
	struct kp_writer resources;     /* encoded resources */
	struct kp_writer acls;          /* the current resource's descriptions */
	int32_t resource_count;
	int32_t acl_count;
	struct kp_acl cur;              /* the current resource's pattern */
	bool have;
};

static void
describe_acls_flush(struct describe_acls_out *o)
{
	struct kp_describe_acls_response_describe_acls_resource r;

	if (!o->have)
		return;
	kp_describe_acls_response_describe_acls_resource_init(&r);
	r.resource_type = o->cur.rtype;
	r.resource_name = o->cur.name;
	r.pattern_type = o->cur.pattern;
	r.acls = kp_array_wire(o->acl_count, &o->acls);
	kp_describe_acls_response_describe_acls_resource_encode(&o->resources, o->version, &r);
	o->resource_count++;
	o->acls.len = 0;
	o->acl_count = 0;
	o->have = false;
}

static void
describe_acls_one(void *arg, const struct kp_acl *acl)
{
	struct describe_acls_out *o = arg;
	struct kp_describe_acls_response_acl_description d;

	if (o->have && (o->cur.rtype != acl->rtype || o->cur.pattern != acl->pattern ||
			!kp_str_eq(o->cur.name, acl->name)))
		describe_acls_flush(o);
	o->cur = *acl;
	o->have = true;
	kp_describe_acls_response_acl_description_init(&d);
	d.principal = acl->principal;
	d.host = acl->host;
	d.operation = acl->op;
	d.permission_type = acl->perm;
	kp_describe_acls_response_acl_description_encode(&o->acls, o->version, &d);
	o->acl_count++;
}

enum kp_verdict
kp_handle_describe_acls(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_describe_acls_response resp;
	struct kp_describe_acls_request req;
	struct describe_acls_out o = { .version = version };
	struct kp_acl_filter f;

	if (kp_describe_acls_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	f = (struct kp_acl_filter){
		kp_acl_code(req.resource_type_filter, KP_RES_TYPES),
		kp_acl_code(req.pattern_type_filter, KP_PAT_PREFIXED + 1),
		kp_acl_code(req.operation, KP_ACL_OPS),
		kp_acl_code(req.permission_type, KP_PERM_ALLOW + 1),
		req.resource_name_filter, req.principal_filter, req.host_filter,
	};
	if (version == 0 && f.pattern == KP_PAT_ANY)
		f.pattern = KP_PAT_LITERAL;
	if ((version == 0 && f.pattern != KP_PAT_LITERAL) || f.pattern == KP_PAT_UNKNOWN ||
	    f.rtype == KP_RES_UNKNOWN || f.perm == KP_PERM_UNKNOWN || f.op == KP_ACL_OP_UNKNOWN)
		return KP_VERDICT_CLOSE;
	kp_describe_acls_response_init(&resp);
	if (!kp_authorize(call->env, KP_ACL_DESCRIBE, KP_RES_CLUSTER,
			  kp_str_c(KP_ACL_CLUSTER_NAME))) {
		resp.error_code = KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
		resp.error_message = kp_str_c("Cluster authorization failed.");
	} else if (call->env->md->acl == NULL) {
		resp.error_code = KP_ERR_SECURITY_DISABLED;
		resp.error_message = kp_str_c("No Authorizer is configured on the broker");
	}
	kp_writer_init(&o.resources, 256);
	kp_writer_init(&o.acls, 256);
	if (resp.error_code == KP_ERR_NONE) {
		call->env->admin->acls_describe(call->env->admin_ctx, &f, describe_acls_one, &o);
		describe_acls_flush(&o);
	}
	resp.resources = kp_array_wire(o.resource_count, &o.resources);
	kp_describe_acls_response_encode(call->w, version, &resp);
	kp_writer_free(&o.resources);
	kp_writer_free(&o.acls);
	return KP_VERDICT_REPLY;
}
