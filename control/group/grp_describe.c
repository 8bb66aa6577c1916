/* SPDX-License-Identifier: Apache-2.0 */
/* DescribeGroups v0-5 (Kafka's GroupMetadata.summary): state, protocol and
 * members of each group named; member metadata and assignments only while
 * Stable. An unknown group is described as Dead, as Kafka does.
 * @thread control */
#include "control/group/grp_coord.h"

#include <stdlib.h>

#include "protocol/gen/kp_msg_describe_groups.h"

enum kp_verdict grp_describe_handle(struct grp_coord *c, struct kp_group_call *call);

/* Kafka without an authorizer: every group operation (READ, DELETE,
 * DESCRIBE) as an AclOperation bit field. */
#define GRP_OPS_ALL ((1 << 3) | (1 << 6) | (1 << 8))
#define GRP_OPS_NONE INT32_MIN

static void
grp_describe_one(struct grp_coord *c, struct kp_writer *sub, int16_t v, struct kp_str id,
		 int32_t ops)
{
	struct kp_describe_groups_response_described_group e;
	struct kp_describe_groups_response_described_group_member *items = NULL;
	struct grp *g = NULL;

	kp_describe_groups_response_described_group_init(&e);
	e.group_id = id.len >= 0 ? id : kp_str_c("");
	e.group_state = kp_str_c("");
	e.protocol_type = kp_str_c("");
	e.protocol_data = kp_str_c("");
	/* What the principal may do on this group, when asked. */
	e.authorized_operations = ops == GRP_OPS_NONE || c->cur == NULL || c->cur->env == NULL
		? ops : kp_acl_ops(c->cur->env->md->acl, c->cur->env->session, KP_RES_GROUP,
				   e.group_id, ops);
	e.members.count = 0;
	e.error_code = grp_check_id(c, id, true);
	if (e.error_code == KP_ERR_NONE) {
		g = grp_find(c, id);
		e.group_state = kp_str_c(g != NULL ? grp_state_name(g->state) : "Dead");
	}
	if (g != NULL) {
		bool stable = g->state == GRP_STABLE;

		e.protocol_type = kp_str_c(g->protocol_type != NULL ? g->protocol_type : "");
		e.protocol_data = kp_str_c(stable && g->protocol != NULL ? g->protocol : "");
		if (g->member_count > 0)
			items = calloc((size_t)g->member_count, sizeof(*items));
		if (g->member_count > 0 && items == NULL)
			e.error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
		int32_t n = 0;

		for (const struct grp_member *m = g->members; items != NULL && m != NULL;
		     m = m->next, n++) {
			kp_describe_groups_response_described_group_member_init(&items[n]);
			items[n].member_id = kp_str_c(m->id);
			items[n].group_instance_id = grp_kstr(m->instance_id);
			items[n].client_id = kp_str_c(m->client_id);
			items[n].client_host = kp_str_c(m->client_host);
			items[n].member_metadata = (struct kp_bytes){ (const uint8_t *)"", 0 };
			items[n].member_assignment = (struct kp_bytes){ (const uint8_t *)"", 0 };
			if (stable) {
				items[n].member_metadata = grp_member_meta(m, g->protocol);
				if (m->assign != NULL)
					items[n].member_assignment =
						(struct kp_bytes){ m->assign, m->assign_len };
			}
		}
		e.members.count = n;
		e.members.items = items;
	}
	kp_describe_groups_response_described_group_encode(sub, v, &e);
	free(items);
}

enum kp_verdict
grp_describe_handle(struct grp_coord *c, struct kp_group_call *call)
{
	struct kp_describe_groups_request r;
	struct kp_describe_groups_response resp;
	int16_t v = call->api_version;

	if (kp_describe_groups_request_decode(&call->body, v, &r) != 0)
		return KP_VERDICT_CLOSE;
	int32_t ops = v >= 3 && r.include_authorized_operations ? GRP_OPS_ALL : GRP_OPS_NONE;
	struct kp_cursor it = kp_array_cursor(&r.groups);
	struct kp_writer sub;
	int32_t n = 0;

	kp_writer_init(&sub, 256);
	for (int32_t i = 0; i < r.groups.count; i++, n++) {
		struct kp_str id = kp_read_string(&it, v >= 5);

		if (it.err != 0) {
			kp_writer_free(&sub);
			return KP_VERDICT_CLOSE;
		}
		grp_describe_one(c, &sub, v, id, ops);
	}
	kp_describe_groups_response_init(&resp);
	resp.groups = kp_array_wire(n, &sub);
	kp_describe_groups_response_encode(call->w, v, &resp);
	kp_writer_free(&sub);
	return KP_VERDICT_REPLY;
}
