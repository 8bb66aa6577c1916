/* SPDX-License-Identifier: Apache-2.0 */
/* See grp_harness.h. */
#include "tests/unit/control/group/grp_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_msg_heartbeat.h"
#include "protocol/gen/kp_msg_leave_group.h"

static uint64_t
th_clock(void)
{
	return th.now_ns;
}

void
th_setup(const char *const *overrides)
{
	char err[256];
	int n = 0;

	memset(&th, 0, sizeof(th));
	while (overrides != NULL && overrides[n] != NULL)
		n++;
	if (config_load(&th.cfg, NULL, n, overrides, err, sizeof(err)) != 0) {
		fprintf(stderr, "config: %s\n", err);
		abort();
	}
	th.now_ns = 1000000000ull;
	th.next_corr = 1;
	th.c = grp_coord_create(NULL, &th.cfg);
	grp_coord_set_clock(th.c, th_clock);
	grp_coord_start(th.c);
}

void
th_teardown(void)
{
	grp_coord_destroy(th.c);
	for (int i = 0; i < th.reply_count; i++)
		free(th.replies[i].data);
	config_free(&th.cfg);
}

void
th_advance_ms(uint64_t ms)
{
	th.now_ns += ms * 1000000ull;
	grp_coord_tick(th.c, th.now_ns);
}

int32_t
th_send(int16_t api, int16_t version, const struct kp_writer *body)
{
	struct kp_writer w;
	struct kp_group_call call = {
		.api_key = api,
		.api_version = version,
		.correlation_id = th.next_corr++,
		.client_id = kp_str_c(th.client != NULL ? th.client : "client"),
		.client_host = kp_str_c("/127.0.0.1"),
		.body = kp_cursor_make(body->buf, body->len),
		.w = &w,
	};

	kp_writer_init(&w, 64);
	th.cur_api = api;
	th.cur_version = version;
	th.cur_corr = call.correlation_id;
	enum kp_verdict v = grp_coord_handle(th.c, &call);

	if (v == KP_VERDICT_REPLY)
		th_record(api, version, call.correlation_id, &w, false);
	else if (v == KP_VERDICT_CLOSE)
		th_record(api, version, call.correlation_id, NULL, true);
	kp_writer_free(&w);
	return call.correlation_id;
}

const struct th_reply *
th_reply(int32_t corr)
{
	for (int i = th.reply_count - 1; i >= 0; i--)
		if (th.replies[i].corr == corr)
			return &th.replies[i];
	return NULL;
}

static char th_meta[64][64];
static int th_meta_next;

int32_t
th_join(int16_t v, const char *group, const char *member, const char *instance,
	const char *client, int32_t protos)
{
	struct kp_join_group_request r;
	struct kp_join_group_request_join_group_request_protocol p[8];
	struct kp_writer w;

	kp_join_group_request_init(&r);
	r.group_id = kp_str_c(group);
	r.session_timeout_ms = th.join_session_ms != 0 ? th.join_session_ms : 10000;
	r.rebalance_timeout_ms = 30000;
	r.member_id = kp_str_c(member != NULL ? member : "");
	r.group_instance_id = kp_str_c(instance);
	r.protocol_type = kp_str_c(th.join_protocol_type != NULL ? th.join_protocol_type
								   : "consumer");
	for (int32_t i = 0; i < protos && i < 8; i++) {
		char *m = th_meta[th_meta_next++ % 64];

		kp_join_group_request_join_group_request_protocol_init(&p[i]);
		snprintf(m, 64, "%s:p%d", client, (int)i);
		p[i].name = kp_str_c(i == 0 ? "p0" : i == 1 ? "p1" : "p2");
		p[i].metadata = (struct kp_bytes){ (const uint8_t *)m, (int32_t)strlen(m) };
	}
	r.protocols.count = protos;
	r.protocols.items = p;
	kp_writer_init(&w, 128);
	th.client = client;
	kp_join_group_request_encode(&w, v, &r);
	int32_t corr = th_send(KP_API_JOIN_GROUP, v, &w);

	th.client = NULL;
	kp_writer_free(&w);
	return corr;
}

bool
th_join_resp(int32_t corr, struct kp_join_group_response *out)
{
	const struct th_reply *r = th_reply(corr);

	if (r == NULL || r->dropped)
		return false;
	struct kp_cursor c = kp_cursor_make(r->data, r->len);

	kp_join_group_response_init(out);
	return kp_join_group_response_decode(&c, r->version, out) == 0;
}

int32_t
th_join_new(int16_t v, const char *group, const char *client, struct kp_str *id)
{
	struct kp_join_group_response resp;
	int32_t corr = th_join(v, group, "", NULL, client, 1);

	if (!th_join_resp(corr, &resp) || resp.error_code != KP_ERR_MEMBER_ID_REQUIRED)
		abort();
	*id = resp.member_id;
	char buf[256];

	snprintf(buf, sizeof(buf), "%.*s", (int)id->len, id->ptr);
	return th_join(v, group, buf, NULL, client, 1);
}

int32_t
th_sync(int16_t v, const char *group, int32_t gen, struct kp_str member, int32_t n,
	const struct kp_str *members, const char *const *assign)
{
	struct kp_sync_group_request r;
	struct kp_sync_group_request_sync_group_request_assignment a[16];
	struct kp_writer w;

	kp_sync_group_request_init(&r);
	r.group_id = kp_str_c(group);
	r.generation_id = gen;
	r.member_id = member;
	/* v5+ must name them (else INCONSISTENT_GROUP_PROTOCOL, as Kafka):
	 * what th_join offers, its first protocol chosen. */
	if (!th.sync_null_protocol) {
		r.protocol_type = kp_str_c(th.join_protocol_type != NULL
					   ? th.join_protocol_type : "consumer");
		r.protocol_name = kp_str_c("p0");
	}
	for (int32_t i = 0; i < n; i++) {
		kp_sync_group_request_sync_group_request_assignment_init(&a[i]);
		a[i].member_id = members[i];
		a[i].assignment = (struct kp_bytes){ (const uint8_t *)assign[i],
						     (int32_t)strlen(assign[i]) };
	}
	r.assignments.count = n;
	r.assignments.items = a;
	kp_writer_init(&w, 128);
	kp_sync_group_request_encode(&w, v, &r);
	int32_t corr = th_send(KP_API_SYNC_GROUP, v, &w);

	kp_writer_free(&w);
	return corr;
}

bool
th_sync_resp(int32_t corr, struct kp_sync_group_response *out)
{
	const struct th_reply *r = th_reply(corr);

	if (r == NULL || r->dropped)
		return false;
	struct kp_cursor c = kp_cursor_make(r->data, r->len);

	kp_sync_group_response_init(out);
	return kp_sync_group_response_decode(&c, r->version, out) == 0;
}

int16_t
th_heartbeat(int16_t v, const char *group, int32_t gen, struct kp_str member,
	     const char *instance)
{
	struct kp_heartbeat_request r;
	struct kp_heartbeat_response resp;
	struct kp_writer w;

	kp_heartbeat_request_init(&r);
	r.group_id = kp_str_c(group);
	r.generation_id = gen;
	r.member_id = member;
	r.group_instance_id = kp_str_c(instance);
	kp_writer_init(&w, 64);
	kp_heartbeat_request_encode(&w, v, &r);
	const struct th_reply *rep = th_reply(th_send(KP_API_HEARTBEAT, v, &w));

	kp_writer_free(&w);
	struct kp_cursor c = kp_cursor_make(rep->data, rep->len);

	if (rep->dropped || kp_heartbeat_response_decode(&c, v, &resp) != 0)
		return -1000;
	return resp.error_code;
}

int16_t
th_leave(int16_t v, const char *group, struct kp_str member)
{
	struct kp_leave_group_request r;
	struct kp_leave_group_request_member_identity mi;
	struct kp_leave_group_response resp;
	struct kp_writer w;

	kp_leave_group_request_init(&r);
	r.group_id = kp_str_c(group);
	if (v < 3) {
		r.member_id = member;
	} else {
		kp_leave_group_request_member_identity_init(&mi);
		mi.member_id = member;
		r.members.count = 1;
		r.members.items = &mi;
	}
	kp_writer_init(&w, 64);
	kp_leave_group_request_encode(&w, v, &r);
	const struct th_reply *rep = th_reply(th_send(KP_API_LEAVE_GROUP, v, &w));

	kp_writer_free(&w);
	struct kp_cursor c = kp_cursor_make(rep->data, rep->len);

	if (rep->dropped || kp_leave_group_response_decode(&c, v, &resp) != 0)
		return -1000;
	if (v >= 3) {
		struct kp_cursor it = kp_array_cursor(&resp.members);
		struct kp_leave_group_response_member_response mr;

		if (resp.members.count != 1 ||
		    kp_leave_group_response_member_response_decode(&it, v, &mr) != 0)
			return -1001;
		return mr.error_code;
	}
	return resp.error_code;
}

int32_t
th_stable(const char *group, int n, struct kp_str *ids, int *leader)
{
	int32_t corr[8], sync[8];
	struct kp_join_group_response jr;
	struct kp_str tmp;
	const char *assign[8] = { "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7" };

	for (int i = 0; i < n; i++) {
		snprintf(th.client_names[i], sizeof(th.client_names[i]), "c%d", i);
		corr[i] = th_join_new(5, group, th.client_names[i], &tmp);
	}
	th_advance_ms(1);
	th_advance_ms(1);
	int32_t gen = -1;

	*leader = -1;
	for (int i = 0; i < n; i++) {
		if (!th_join_resp(corr[i], &jr) || jr.error_code != KP_ERR_NONE)
			abort();
		ids[i] = jr.member_id;
		gen = jr.generation_id;
		if (kp_str_eq(jr.leader, jr.member_id))
			*leader = i;
	}
	for (int i = 0; i < n; i++)
		sync[i] = th_sync(5, group, gen, ids[i], i == *leader ? n : 0, ids, assign);
	th_log_complete(KP_ERR_NONE);
	for (int i = 0; i < n; i++) {
		struct kp_sync_group_response sr;

		if (!th_sync_resp(sync[i], &sr) || sr.error_code != KP_ERR_NONE)
			abort();
	}
	return gen;
}
