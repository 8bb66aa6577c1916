/* SPDX-License-Identifier: Apache-2.0 */
/* AlterUserScramCredentials (key 51), version 0, on the control thread.
 * Deletions and upsertions (salt and salted password computed by the
 * client, as kafka-configs does) go to control's SCRAM store
 * (control/ctl_sasl.c). As Kafka's controller: a user's credential for a
 * mechanism may be altered once per request (twice: DUPLICATE_RESOURCE for
 * that user); a user's changes are all checked, then all applied, and
 * answered with one result per user. */
#include <stdio.h>

#include "protocol/gen/kp_msg_alter_user_scram_credentials.h"
#include "protocol/kp_int.h"

#define ALTER_SCRAM_OPS_MAX 1000

#define ALTER_SCRAM_RESULT(suffix) \
	kp_alter_user_scram_credentials_response_alter_user_scram_credentials_result##suffix

#define ALTER_SCRAM_DUPLICATE "A user credential cannot be altered twice in the same request"

/* Deletions, then upsertions, into ops; the count, or -1 when undecodable
 * or too many. */
static int32_t
alter_scram_ops(const struct kp_alter_user_scram_credentials_request *req,
		struct kp_scram_op *ops)
{
	struct kp_cursor it;
	int32_t n = 0;

	if (req->deletions.count < 0 || req->upsertions.count < 0 ||
	    req->deletions.count + req->upsertions.count > ALTER_SCRAM_OPS_MAX)
		return -1;
	it = kp_array_cursor(&req->deletions);
	for (int32_t i = 0; i < req->deletions.count; i++, n++) {
		struct kp_alter_user_scram_credentials_request_scram_credential_deletion d;

		kp_alter_user_scram_credentials_request_scram_credential_deletion_decode(&it, 0, &d);
		ops[n] = (struct kp_scram_op){ .name = d.name, .remove = true,
					       .mechanism = d.mechanism };
	}
	it = kp_array_cursor(&req->upsertions);
	for (int32_t i = 0; i < req->upsertions.count; i++, n++) {
		struct kp_alter_user_scram_credentials_request_scram_credential_upsertion u;

		kp_alter_user_scram_credentials_request_scram_credential_upsertion_decode(&it, 0, &u);
		ops[n] = (struct kp_scram_op){ .name = u.name, .mechanism = u.mechanism,
					       .iterations = u.iterations, .salt = u.salt,
					       .salted_password = u.salted_password };
	}
	return n;
}

static bool
alter_scram_named_before(const struct kp_scram_op *ops, int32_t i)
{
	for (int32_t j = 0; j < i; j++)
		if (kp_str_eq(ops[j].name, ops[i].name))
			return true;
	return false;
}

/* True when op i's user and mechanism are altered twice in ops. */
static bool
alter_scram_duplicate(const struct kp_scram_op *ops, int32_t n, int32_t i)
{
	for (int32_t j = i; j < n; j++) {
		if (!kp_str_eq(ops[j].name, ops[i].name))
			continue;
		for (int32_t k = j + 1; k < n; k++)
			if (kp_str_eq(ops[k].name, ops[i].name) &&
			    ops[k].mechanism == ops[j].mechanism)
				return true;
	}
	return false;
}

/* Check every change of op i's user (from i on), then apply them all. */
static int16_t
alter_scram_user(const struct kp_env *env, const struct kp_scram_op *ops, int32_t n, int32_t i,
		 char *msg, size_t msg_size)
{
	int16_t err = KP_ERR_NONE;

	if (alter_scram_duplicate(ops, n, i)) {
		snprintf(msg, msg_size, "%s", ALTER_SCRAM_DUPLICATE);
		return KP_ERR_DUPLICATE_RESOURCE;
	}
	for (int pass = 0; pass < 2 && err == KP_ERR_NONE; pass++)
		for (int32_t j = i; j < n && err == KP_ERR_NONE; j++)
			if (kp_str_eq(ops[j].name, ops[i].name))
				err = env->admin->scram_alter(env->admin_ctx, &ops[j], pass == 0,
							      msg, msg_size);
	return err;
}

enum kp_verdict
kp_handle_alter_user_scram_credentials(struct kp_call *call)
{
	static struct kp_scram_op ops[ALTER_SCRAM_OPS_MAX];     /* control thread only */
	const struct kp_env *env = call->env;
	struct kp_alter_user_scram_credentials_response resp;
	struct kp_alter_user_scram_credentials_request req;
	struct kp_writer scratch;
	int32_t n, count = 0;

	if (kp_alter_user_scram_credentials_request_decode(&call->body, 0, &req) != 0)
		return KP_VERDICT_CLOSE;
	n = alter_scram_ops(&req, ops);
	if (n < 0)
		return KP_VERDICT_CLOSE;
	kp_alter_user_scram_credentials_response_init(&resp);
	kp_writer_init(&scratch, 256);
	for (int32_t i = 0; i < n; i++) {
		struct ALTER_SCRAM_RESULT() r;
		char msg[256] = "";

		if (alter_scram_named_before(ops, i))
			continue;       /* the user's result is already written */
		ALTER_SCRAM_RESULT(_init)(&r);
		r.user = ops[i].name;
		r.error_code = alter_scram_user(env, ops, n, i, msg, sizeof(msg));
		r.error_message = r.error_code != KP_ERR_NONE ? kp_str_c(msg)
							      : (struct kp_str){ NULL, -1 };
		ALTER_SCRAM_RESULT(_encode)(&scratch, 0, &r);
		count++;
	}
	resp.results = kp_array_wire(count, &scratch);
	kp_alter_user_scram_credentials_response_encode(call->w, 0, &resp);
	kp_writer_free(&scratch);
	return KP_VERDICT_REPLY;
}
