/* SPDX-License-Identifier: Apache-2.0 */
/* DescribeUserScramCredentials (key 50), version 0, on the control thread.
 * Spillway has no SASL/SCRAM credential store yet, so no user has
 * credentials: every listed user is answered as Kafka 3.9 answers one
 * without (RESOURCE_NOT_FOUND), a user listed twice DUPLICATE_RESOURCE,
 * and "all users" (null or empty list) is an empty result. Kafka's
 * kafka-configs --describe --entity-type users asks this after the quotas.
 * A credential store, when it comes, answers here. */
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

enum kp_verdict
kp_handle_describe_user_scram_credentials(struct kp_call *call)
{
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
	}
	it = kp_array_cursor(&req.users);
	for (int32_t i = 0; resp.error_code == KP_ERR_NONE && i < req.users.count; i++) {
		struct SCRAM_RESULT() r;
		struct kp_describe_user_scram_credentials_request_user_name u;
		int32_t first = -1;
		int n;

		kp_describe_user_scram_credentials_request_user_name_decode(&it, 0, &u);
		n = describe_scram_listed(&req.users, u.name, &first);
		if (first != i)
			continue;       /* answered at its first listing */
		SCRAM_RESULT(_init)(&r);
		r.user = u.name;
		r.error_code = n > 1 ? KP_ERR_DUPLICATE_RESOURCE : KP_ERR_RESOURCE_NOT_FOUND;
		snprintf(msg, sizeof(msg), "%s%.*s", n > 1 ? SCRAM_DUPLICATE : SCRAM_NOT_FOUND,
			 (int)u.name.len, u.name.ptr);
		r.error_message = kp_str_c(msg);
		SCRAM_RESULT(_encode)(&scratch, 0, &r);
		count++;
	}
	resp.results = kp_array_wire(count, &scratch);
	kp_describe_user_scram_credentials_response_encode(call->w, 0, &resp);
	kp_writer_free(&scratch);
	return KP_VERDICT_REPLY;
}
