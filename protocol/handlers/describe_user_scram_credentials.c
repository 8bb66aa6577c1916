/* SPDX-License-Identifier: Apache-2.0 */
/* DescribeUserScramCredentials (key 50), version 0, on the control thread,
 * over control's SCRAM store (control/ctl_sasl.c): each listed user's
 * mechanisms and iteration counts, RESOURCE_NOT_FOUND for a user without
 * credentials, DUPLICATE_RESOURCE for a user listed twice, and every user
 * with credentials for "all users" (null or empty list), as Kafka 3.9.
 * Kafka's kafka-configs --describe --entity-type users asks this. */
#include <stdio.h>

#include "protocol/gen/kp_msg_describe_user_scram_credentials.h"
#include "protocol/kp_int.h"

/* The generated result type and its functions (a long name). */
#define SCRAM_RESULT(suffix) \
	kp_describe_user_scram_credentials_response_describe_user_scram_credentials_result##suffix

/* Kafka's messages (ScramImage), followed by the user name. */
#define SCRAM_DUPLICATE \
	"Cannot describe SCRAM credentials for the same user twice in a single request: "
#define SCRAM_NOT_FOUND "Attempt to describe a user credential that does not exist: "

/* Users per request this broker reads (duplicates are found pairwise). */
#define DESCRIBE_SCRAM_USERS_MAX 2000

/* How often name is listed in users. */
static int
describe_scram_listed(const struct kp_array *users, struct kp_str name, int32_t *first)
{
	struct kp_cursor it = kp_array_cursor(users);
	int n = 0;

	for (int32_t i = 0; i < users->count; i++) {
		struct kp_describe_user_scram_credentials_request_user_name u;

		kp_describe_user_scram_credentials_request_user_name_decode(&it, 0, &u);
		if (kp_str_eq(u.name, name) && n++ == 0)
			*first = i;
	}
	return n;
}

/* Encode one user's result: its credentials, or the error with msg. */
static void
describe_scram_result(struct kp_writer *w, struct kp_str name, const struct kp_scram_user *u,
		      int16_t error, const char *msg)
{
	struct kp_describe_user_scram_credentials_response_credential_info infos[2];
	struct SCRAM_RESULT() r;

	SCRAM_RESULT(_init)(&r);
	r.user = name;
	r.error_code = error;
	r.error_message = kp_str_c("");         /* Kafka answers "" with credentials */
	if (error != KP_ERR_NONE) {
		r.error_message = kp_str_c(msg);
	} else {
		for (int32_t k = 0; k < u->count && k < 2; k++) {
			kp_describe_user_scram_credentials_response_credential_info_init(&infos[k]);
			infos[k].mechanism = u->info[k].mechanism;
			infos[k].iterations = u->info[k].iterations;
		}
		r.credential_infos = (struct kp_array){ u->count, NULL, NULL, infos };
	}
	SCRAM_RESULT(_encode)(w, 0, &r);
}

/* Every user with credentials. */
static int32_t
describe_scram_all(const struct kp_env *env, struct kp_writer *w)
{
	struct kp_scram_user u;
	int32_t i = 0;

	while (env->admin->scram_user_at(env->admin_ctx, i, &u)) {
		describe_scram_result(w, u.name, &u, KP_ERR_NONE, "");
		i++;
	}
	return i;
}

enum kp_verdict
kp_handle_describe_user_scram_credentials(struct kp_call *call)
{
	const struct kp_env *env = call->env;
	struct kp_describe_user_scram_credentials_response resp;
	struct kp_describe_user_scram_credentials_request req;
	struct kp_writer scratch;
	struct kp_cursor it;
	int32_t count = 0;
	char msg[400];

	if (kp_describe_user_scram_credentials_request_decode(&call->body, 0, &req) != 0)
		return KP_VERDICT_CLOSE;
	kp_describe_user_scram_credentials_response_init(&resp);
	kp_writer_init(&scratch, 256);
	if (!kp_authorize(call->env, KP_ACL_DESCRIBE, KP_RES_CLUSTER,
			  kp_str_c(KP_ACL_CLUSTER_NAME))) {
		resp.error_code = KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
		resp.error_message = kp_str_c("Cluster authorization failed.");
	} else if (req.users.count > DESCRIBE_SCRAM_USERS_MAX) {
		resp.error_code = KP_ERR_INVALID_REQUEST;
		snprintf(msg, sizeof(msg), "At most %d users per request",
			 DESCRIBE_SCRAM_USERS_MAX);
		resp.error_message = kp_str_c(msg);
	} else if (req.users.count <= 0) {
		count = describe_scram_all(env, &scratch);
	}
	it = kp_array_cursor(&req.users);
	for (int32_t i = 0; resp.error_code == KP_ERR_NONE && i < req.users.count; i++) {
		struct kp_describe_user_scram_credentials_request_user_name u;
		struct kp_scram_user cred;
		int32_t first = -1;
		int n;

		kp_describe_user_scram_credentials_request_user_name_decode(&it, 0, &u);
		n = describe_scram_listed(&req.users, u.name, &first);
		if (first != i)
			continue;       /* answered at its first listing */
		if (n > 1) {
			snprintf(msg, sizeof(msg), "%s%.*s", SCRAM_DUPLICATE, (int)u.name.len,
				 u.name.ptr);
			describe_scram_result(&scratch, u.name, NULL, KP_ERR_DUPLICATE_RESOURCE,
					      msg);
		} else if (!env->admin->scram_user(env->admin_ctx, u.name, &cred)) {
			snprintf(msg, sizeof(msg), "%s%.*s", SCRAM_NOT_FOUND, (int)u.name.len,
				 u.name.ptr);
			describe_scram_result(&scratch, u.name, NULL, KP_ERR_RESOURCE_NOT_FOUND,
					      msg);
		} else {
			describe_scram_result(&scratch, u.name, &cred, KP_ERR_NONE, "");
		}
		count++;
	}
	resp.results = kp_array_wire(count, &scratch);
	kp_describe_user_scram_credentials_response_encode(call->w, 0, &resp);
	kp_writer_free(&scratch);
	return KP_VERDICT_REPLY;
}
