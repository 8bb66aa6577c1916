/* SPDX-License-Identifier: Apache-2.0 */
/* CreateAcls (key 30), versions 0-3, on the control thread. As Kafka 3.9's
 * broker and controller: ALTER on the cluster, SECURITY_DISABLED without
 * an authorizer, the broker's checks (the CLUSTER resource is only
 * "kafka-cluster", no empty name), then the controller's (AclControlManager
 * validateNewAcl); the valid bindings are added together, durably, and
 * reach the cores in the next snapshot. A binding with an ANY or MATCH code
 * fails the whole request (UNKNOWN_SERVER_ERROR, as Kafka's broker cannot
 * build it). A request with UNKNOWN elements,
 * or a v0 one with a non-literal pattern, fails to parse in Kafka: the
 * connection is closed. */
#include <stdio.h>
#include <stdlib.h>

#include "protocol/gen/kp_msg_create_acls.h"
#include "protocol/kp_int.h"

/* Creations per request (Kafka's MAX_RECORDS_PER_USER_OP). */
#define CREATE_ACLS_MAX 10000

static struct kp_acl
create_acls_binding(const struct kp_create_acls_request_acl_creation *c)
{
	return (struct kp_acl){
		kp_acl_code(c->resource_type, KP_RES_TYPES),
		kp_acl_code(c->resource_pattern_type, KP_PAT_PREFIXED + 1),
		kp_acl_code(c->operation, KP_ACL_OPS),
		kp_acl_code(c->permission_type, KP_PERM_ALLOW + 1),
		c->resource_name, c->principal, c->host,
	};
}

/* Whether Kafka's request parser refuses the whole request. */
static bool
create_acls_unparsable(const struct kp_acl *acls, int32_t n, int16_t version)
{
	for (int32_t i = 0; i < n; i++) {
		if (version == 0 && acls[i].pattern != KP_PAT_LITERAL)
			return true;
		if (acls[i].pattern == KP_PAT_UNKNOWN || acls[i].rtype == KP_RES_UNKNOWN ||
		    acls[i].perm == KP_PERM_UNKNOWN || acls[i].op == KP_ACL_OP_UNKNOWN)
			return true;
	}
	return false;
}

/* Whether a binding has an ANY / MATCH code: Kafka's broker cannot even
 * build it (ResourcePattern, AccessControlEntry throw), and the whole
 * request fails UNKNOWN_SERVER_ERROR without a message. */
static bool
create_acls_unbuildable(const struct kp_acl *acls, int32_t n)
{
	for (int32_t i = 0; i < n; i++)
		if (acls[i].rtype == KP_RES_ANY || acls[i].pattern == KP_PAT_ANY ||
		    acls[i].pattern == KP_PAT_MATCH || acls[i].op == KP_ACL_OP_ANY ||
		    acls[i].perm == KP_PERM_ANY)
			return true;
	return false;
}

/* The broker's and the controller's checks of one binding. */
static int16_t
create_acls_check(const struct kp_acl *a, char *msg, size_t size)
{
	if (a->rtype == KP_RES_CLUSTER && !kp_str_eq(a->name, kp_str_c(KP_ACL_CLUSTER_NAME))) {
		snprintf(msg, size, "The only valid name for the CLUSTER resource is "
			 KP_ACL_CLUSTER_NAME);
		return KP_ERR_INVALID_REQUEST;
	}
	if (a->name.len <= 0) {
		snprintf(msg, size, "Invalid empty resource name");
		return KP_ERR_INVALID_REQUEST;
	}
	return kp_acl_validate(a, msg, size);
}

/* Every result: code and message, or the per-binding checks then the
 * store's answer for the valid ones. */
static void
create_acls_answer(struct kp_call *call, const struct kp_acl *acls, int32_t n, int16_t all,
		   const char *all_msg, struct kp_writer *scratch)
{
	int16_t *codes = calloc((size_t)n + 1, sizeof(*codes));
	struct kp_acl *valid = calloc((size_t)n + 1, sizeof(*valid));
	char (*msgs)[256] = calloc((size_t)n + 1, sizeof(*msgs));
	int32_t nvalid = 0;
	int16_t store = KP_ERR_NONE;
	char store_msg[256] = "";

	if (codes == NULL || valid == NULL || msgs == NULL) {
		all = KP_ERR_UNKNOWN_SERVER_ERROR;
		all_msg = "out of memory";
	}
	for (int32_t i = 0; all == KP_ERR_NONE && i < n; i++) {
		codes[i] = create_acls_check(&acls[i], msgs[i], sizeof(msgs[i]));
		if (codes[i] == KP_ERR_NONE)
			valid[nvalid++] = acls[i];
	}
	if (all == KP_ERR_NONE && nvalid > 0)
		store = call->env->admin->acls_create(call->env->admin_ctx, valid, nvalid,
						      store_msg, sizeof(store_msg));
	for (int32_t i = 0; i < n; i++) {
		struct kp_create_acls_response_acl_creation_result r;

		kp_create_acls_response_acl_creation_result_init(&r);
		if (all != KP_ERR_NONE) {
			r.error_code = all;
			r.error_message = kp_str_c(all_msg);
		} else if (codes[i] != KP_ERR_NONE) {
			r.error_code = codes[i];
			r.error_message = kp_str_c(msgs[i]);
		} else if (store != KP_ERR_NONE) {
			r.error_code = store;
			r.error_message = kp_str_c(store_msg);
		}
		kp_create_acls_response_acl_creation_result_encode(
			scratch, call->hdr.request_api_version, &r);
	}
	free(codes);
	free(valid);
	free(msgs);
}

enum kp_verdict
kp_handle_create_acls(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_create_acls_response resp;
	struct kp_create_acls_request req;
	struct kp_writer scratch;
	struct kp_acl *acls;
	struct kp_cursor it;
	int16_t all = KP_ERR_NONE;
	const char *all_msg = NULL;

	if (kp_create_acls_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	if (req.creations.count > CREATE_ACLS_MAX)
		return KP_VERDICT_CLOSE;        /* more than Kafka's controller takes */
	acls = calloc((size_t)kp_count0(req.creations.count) + 1, sizeof(*acls));
	if (acls == NULL)
		return KP_VERDICT_CLOSE;
	it = kp_array_cursor(&req.creations);
	for (int32_t i = 0; i < req.creations.count; i++) {
		struct kp_create_acls_request_acl_creation c;

		kp_create_acls_request_acl_creation_decode(&it, version, &c);
		acls[i] = create_acls_binding(&c);
	}
	if (create_acls_unparsable(acls, kp_count0(req.creations.count), version)) {
		free(acls);
		return KP_VERDICT_CLOSE;
	}
	if (!kp_authorize(call->env, KP_ACL_ALTER, KP_RES_CLUSTER,
			  kp_str_c(KP_ACL_CLUSTER_NAME))) {
		all = KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
		all_msg = "Cluster authorization failed.";
	} else if (call->env->md->acl == NULL) {
		all = KP_ERR_SECURITY_DISABLED;
		all_msg = "No Authorizer is configured.";
	} else if (create_acls_unbuildable(acls, kp_count0(req.creations.count))) {
		all = KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	kp_create_acls_response_init(&resp);
	kp_writer_init(&scratch, 256);
	create_acls_answer(call, acls, kp_count0(req.creations.count), all, all_msg, &scratch);
	resp.results = kp_array_wire(kp_count0(req.creations.count), &scratch);
	kp_create_acls_response_encode(call->w, version, &resp);
	kp_writer_free(&scratch);
	free(acls);
	return KP_VERDICT_REPLY;
}
