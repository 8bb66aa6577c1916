/* SPDX-License-Identifier: Apache-2.0 */
/* ListGroups v0-5: every group this coordinator knows (Dead ones are being
 * deleted and are left out, as Kafka drops them from its cache), filtered
 * by state (v4) and by type (v5: all of ours are "classic"); in cluster
 * mode only those of loaded partitions, COORDINATOR_LOAD_IN_PROGRESS while
 * one loads, as Kafka. @thread control */
#include "control/group/grp_coord.h"

#include <string.h>
#include <strings.h>

#include "protocol/gen/kp_msg_list_groups.h"

enum kp_verdict grp_list_handle(struct grp_coord *c, struct kp_group_call *call);

/* Whether s matches one of the filter's strings (case-insensitive, as
 * Kafka parses states and types); an empty filter matches everything. */
static bool
grp_list_match(const struct kp_array *filter, bool flexible, const char *s, bool *bad)
{
	struct kp_cursor it = kp_array_cursor(filter);

	if (filter->count <= 0)
		return true;
	for (int32_t i = 0; i < filter->count; i++) {
		struct kp_str f = kp_read_string(&it, flexible);

		if (it.err != 0) {
			*bad = true;
			return false;
		}
		if (f.len >= 0 && (size_t)f.len == strlen(s) &&
		    strncasecmp(f.ptr, s, (size_t)f.len) == 0)
			return true;
	}
	return false;
}

enum kp_verdict
grp_list_handle(struct grp_coord *c, struct kp_group_call *call)
{
	struct kp_list_groups_request r;
	struct kp_list_groups_response resp;
	int16_t v = call->api_version;
	bool flexible = v >= 3, bad = false;

	if (kp_list_groups_request_decode(&call->body, v, &r) != 0)
		return KP_VERDICT_CLOSE;
	kp_list_groups_response_init(&resp);
	if (!grp_list_match(&r.types_filter, flexible, "classic", &bad)) {
		if (bad)
			return KP_VERDICT_CLOSE;
		resp.groups.count = 0;
		kp_list_groups_response_encode(call->w, v, &resp);
		return KP_VERDICT_REPLY;
	}
	struct kp_writer sub;
	int32_t n = 0;
	/* DESCRIBE on the cluster lists every group, else only the groups
	 * the principal may describe (no error either way, as Kafka). */
	const struct kp_env *env = call->env;
	bool all = env == NULL || kp_acl_allowed(env->md->acl, env->session, KP_ACL_DESCRIBE,
						 KP_RES_CLUSTER, kp_str_c(KP_ACL_CLUSTER_NAME));

	kp_writer_init(&sub, 256);
	for (uint32_t b = 0; b < c->bucket_count; b++) {
		for (const struct grp *g = c->buckets[b]; g != NULL; g = g->hnext) {
			const char *state = grp_state_name(g->state);
			struct kp_list_groups_response_listed_group e;

			if (g->state == GRP_DEAD ||
			    !grp_list_match(&r.states_filter, flexible, state, &bad))
				continue;
			/* Cluster mode: Kafka lists a partition's groups once it
			 * has loaded them all. */
			if (c->cluster && grp_log_ready(c->log, (struct kp_str){ g->id, g->id_len })
					  != KP_ERR_NONE)
				continue;
			if (!all && !kp_acl_allowed(env->md->acl, env->session, KP_ACL_DESCRIBE,
						    KP_RES_GROUP,
						    (struct kp_str){ g->id, g->id_len }))
				continue;
			kp_list_groups_response_listed_group_init(&e);
			e.group_id = (struct kp_str){ g->id, g->id_len };
			e.protocol_type = kp_str_c(g->protocol_type != NULL ? g->protocol_type
								   : "");
			e.group_state = kp_str_c(state);
			e.group_type = kp_str_c("classic");
			kp_list_groups_response_listed_group_encode(&sub, v, &e);
			n++;
		}
	}
	if (bad) {
		kp_writer_free(&sub);
		return KP_VERDICT_CLOSE;
	}
	resp.groups = kp_array_wire(n, &sub);
	/* Kafka's handleListGroups: the groups known, and this error while a
	 * partition is loading (cluster mode: partitions load with leadership). */
	if (c->cluster && grp_log_loading(c->log))
		resp.error_code = KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
	kp_list_groups_response_encode(call->w, v, &resp);
	kp_writer_free(&sub);
	return KP_VERDICT_REPLY;
}
