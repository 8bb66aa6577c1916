/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/ctl_park.c and its use by the control loop (ctl_loop.c
 * ctl_step): a parked request gives back its reply slot so later requests
 * of the same core are served and answered while it waits; its reply,
 * framed later, reaches the core with the request's conn, generation and
 * seq; a drop becomes a close; a full core ring keeps late replies queued
 * in order and retried each turn; the client's address reaches the
 * coordinator as Kafka prints it. A real ctl (temp dir, no dataplane, no
 * storage) runs requests pushed straight into its scheduler; replies go to
 * a recording ring. This file defines the grp_coord_* functions itself (a
 * scripted coordinator), so the linker takes no coordinator from libcontrol. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "control/config.h"
#include "control/ctl_int.h"
#include "control/ctl_park.h"
#include "control/group/grp.h"
#include "protocol/gen/kp_api.h"
#include "tests/unit/control/tdir.h"

/* ---- a scripted coordinator: JoinGroup parks, anything else answers ---- */

struct grp_coord {
	struct ctl *ctl;
	struct ctl_park *parked[256];
	int parked_count;
	char host[64];
};

struct grp_coord *
grp_coord_create(struct ctl *ctl, const struct config *cfg)
{
	struct grp_coord *c = calloc(1, sizeof(*c));

	(void)cfg;
	c->ctl = ctl;
	return c;
}

void
grp_coord_destroy(struct grp_coord *c)
{
	for (int i = 0; i < c->parked_count; i++)
		if (c->parked[i] != NULL)
			ctl_park_drop(c->ctl, c->parked[i]);
	free(c);
}

void
grp_coord_start(struct grp_coord *c)
{
	(void)c;
}

/* Cluster mode's hooks (ctl_cluster_apply.c): never called here. */
void
grp_coord_set_cluster(struct grp_coord *c, bool cluster)
{
	(void)c;
	(void)cluster;
}

void
grp_coord_partition_role(struct grp_coord *c, int32_t partition, bool leader,
			 int32_t leader_epoch)
{
	(void)c;
	(void)partition;
	(void)leader;
	(void)leader_epoch;
}

enum kp_verdict
grp_coord_handle(struct grp_coord *c, struct kp_group_call *call)
{
	snprintf(c->host, sizeof(c->host), "%.*s", (int)call->client_host.len,
		 call->client_host.ptr);
	if (call->api_key == KP_API_JOIN_GROUP) {
		struct ctl_park *p = ctl_park_take(c->ctl);

		if (p == NULL)
			return KP_VERDICT_CLOSE;
		c->parked[c->parked_count++] = p;
		return KP_VERDICT_PARKED;
	}
	kp_write_i16(call->w, 0);       /* error_code NONE */
	return KP_VERDICT_REPLY;
}

uint64_t
grp_coord_deadline(const struct grp_coord *c)
{
	(void)c;
	return UINT64_MAX;
}

void
grp_coord_tick(struct grp_coord *c, uint64_t now_ns)
{
	(void)c;
	(void)now_ns;
}

void
grp_coord_metrics(const struct grp_coord *c,
		  void (*group_fn)(void *arg, const struct grp_metrics_group *g),
		  void (*offset_fn)(void *arg, const struct grp_metrics_offset *o), void *arg)
{
	(void)c; (void)group_fn; (void)offset_fn; (void)arg;
}

/* ---- a recording core ring ---- */

struct ring {
	bool refuse[2];
	int count;
	struct dp_msg msgs[512];
	int cores[512];
};

static struct ring ring;

static bool
ring_send(void *arg, int core, const struct dp_msg *msg)
{
	struct ring *r = arg;

	if (r->refuse[core])
		return false;
	cr_assert_lt(r->count, 512);
	r->cores[r->count] = core;
	r->msgs[r->count++] = *msg;
	return true;
}

static void
ring_free(void)
{
	for (int i = 0; i < ring.count; i++)
		free(ring.msgs[i].buf.data);
	memset(&ring, 0, sizeof(ring));
}

/* ---- fixture ---- */

static struct config cfg;
static struct ctl *ctl;

static void
setup(void)
{
	char dirs[300], err[256];
	const char *ov[2] = { dirs, "spillway.dataplane.cores=2" };

	tdir_setup();
	snprintf(dirs, sizeof(dirs), "log.dirs=%s", tdir_path);
	cr_assert_eq(config_load(&cfg, NULL, 2, ov, err, sizeof(err)), 0, "%s", err);
	ctl = ctl_create(&cfg, err, sizeof(err));
	cr_assert_not_null(ctl, "%s", err);
	memset(&ring, 0, sizeof(ring));
	ctl->send = ring_send;
	ctl->send_arg = &ring;
}

static void
teardown(void)
{
	ctl_destroy(ctl);
	ring_free();
	config_free(&cfg);
	tdir_teardown();
}

TestSuite(ctl_park, .init = setup, .fini = teardown);

/* Push a request frame (header v1, client "c", 4 body bytes) from core's
 * conn with seq, the peer behind it as a core forwards it. */
static void
push_peer(int core, uint32_t conn, uint32_t seq, int16_t key, int16_t version,
	  int32_t correlation, const struct dp_peer *peer)
{
	static const uint8_t body[] = { 0, 1, 'c', 0, 0, 0, 0 };
	uint32_t len = 8 + sizeof(body);
	uint8_t *f = malloc(len + sizeof(struct dp_peer) + sizeof(struct kp_session));
	struct dp_msg m = { .type = DP_MSG_REQUEST, .conn_id = conn, .conn_gen = 7, .seq = seq };
	struct kp_session session;

	f[0] = (uint8_t)(key >> 8);
	f[1] = (uint8_t)key;
	f[2] = (uint8_t)(version >> 8);
	f[3] = (uint8_t)version;
	f[4] = (uint8_t)(correlation >> 24);
	f[5] = (uint8_t)(correlation >> 16);
	f[6] = (uint8_t)(correlation >> 8);
	f[7] = (uint8_t)correlation;
	memcpy(f + 8, body, sizeof(body));
	memcpy(f + len, peer, sizeof(*peer));
	kp_session_init(&session, 0, KP_SEC_PLAINTEXT);
	memcpy(f + len + sizeof(*peer), &session, sizeof(session));
	m.buf.data = f;
	m.buf.len = len;
	cr_assert(ctl_sched_can_take(ctl->sched, core));
	ctl_sched_push(ctl->sched, core, &m);
}

static void
push(int core, uint32_t conn, uint32_t seq, int16_t key, int32_t correlation)
{
	struct dp_peer peer = { .family = DP_PEER_IPV4, .addr = { 127, 0, 0, 1 } };

	push_peer(core, conn, seq, key, 0, correlation, &peer);
}

static void
steps(int n)
{
	for (int i = 0; i < n; i++)
		ctl_step(ctl);
}

static int32_t
reply_correlation(const struct dp_msg *m)
{
	const uint8_t *b = m->buf.data;

	cr_assert_eq(m->type, DP_MSG_REPLY);
	cr_assert_geq(m->buf.len, 8);
	cr_assert_eq((uint32_t)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]), m->buf.len - 4);
	return (int32_t)((uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 |
			 b[7]);
}

/* Answer the i-th parked request with an empty-error body. */
static void
answer(int i)
{
	struct kp_writer w;

	ctl_park_begin(ctl->groups->parked[i], &w);
	kp_write_i16(&w, 0);
	ctl_park_send(ctl, ctl->groups->parked[i], &w);
	ctl->groups->parked[i] = NULL;
}

Test(ctl_park, parked_request_lets_the_core_be_served_then_replies_later)
{
	push(0, 1, 0, KP_API_JOIN_GROUP, 100);
	push(0, 2, 0, KP_API_HEARTBEAT, 200);
	push(0, 2, 1, KP_API_HEARTBEAT, 201);
	push(1, 3, 5, KP_API_HEARTBEAT, 300);
	steps(8);
	cr_assert_eq(ctl_park_count(ctl), 1);
	cr_assert_eq(ring.count, 3);    /* every other request answered meanwhile */
	cr_assert_eq(reply_correlation(&ring.msgs[0]), 200);
	cr_assert_eq(ring.msgs[0].conn_id, 2);
	answer(0);
	cr_assert_eq(ctl_park_count(ctl), 0);
	cr_assert_eq(ring.count, 4);
	cr_assert_eq(ring.cores[3], 0);
	cr_assert_eq(ring.msgs[3].conn_id, 1);
	cr_assert_eq(ring.msgs[3].conn_gen, 7);
	cr_assert_eq(ring.msgs[3].seq, 0);
	cr_assert_eq(reply_correlation(&ring.msgs[3]), 100);
	cr_assert_eq(ring.msgs[3].buf.len, 4 + 4 + 2); /* JoinGroup v0: no header tags */
}

Test(ctl_park, many_parked_never_block_the_scheduler)
{
	for (uint32_t i = 0; i < 200; i++)
		push((int)(i % 2), 10 + i, 0, KP_API_JOIN_GROUP, (int32_t)i);
	push(0, 1, 0, KP_API_HEARTBEAT, 999);
	steps(300);
	cr_assert_eq(ctl_park_count(ctl), 200);
	cr_assert_eq(ring.count, 1);
	cr_assert_eq(reply_correlation(&ring.msgs[0]), 999);
	for (int i = 199; i >= 0; i--)  /* answered in any order */
		answer(i);
	cr_assert_eq(ring.count, 201);
	cr_assert_eq(ctl_park_count(ctl), 0);
}

Test(ctl_park, drop_closes_the_connection)
{
	push(1, 4, 9, KP_API_JOIN_GROUP, 1);
	steps(2);
	ctl_park_drop(ctl, ctl->groups->parked[0]);
	ctl->groups->parked[0] = NULL;
	cr_assert_eq(ring.count, 1);
	cr_assert_eq(ring.cores[0], 1);
	cr_assert_eq(ring.msgs[0].type, DP_MSG_CLOSE);
	cr_assert_eq(ring.msgs[0].conn_id, 4);
	cr_assert_eq(ring.msgs[0].seq, 9);
	cr_assert_null(ring.msgs[0].buf.data);
}

Test(ctl_park, full_ring_keeps_late_replies_in_order_and_retries)
{
	push(0, 1, 0, KP_API_JOIN_GROUP, 10);
	push(0, 2, 0, KP_API_JOIN_GROUP, 20);
	push(0, 3, 0, KP_API_JOIN_GROUP, 30);
	steps(4);
	ring.refuse[0] = true;
	answer(1);
	answer(0);
	ctl_park_drop(ctl, ctl->groups->parked[2]);
	ctl->groups->parked[2] = NULL;
	steps(3);
	cr_assert_eq(ring.count, 0);
	cr_assert_eq(ctl_park_count(ctl), 0);   /* sent, waiting for the ring */
	ring.refuse[0] = false;
	steps(1);
	cr_assert_eq(ring.count, 3);
	cr_assert_eq(reply_correlation(&ring.msgs[0]), 20);
	cr_assert_eq(reply_correlation(&ring.msgs[1]), 10);
	cr_assert_eq(ring.msgs[2].type, DP_MSG_CLOSE);
	cr_assert_eq(ring.msgs[2].conn_id, 3);
}

Test(ctl_park, queued_replies_are_freed_at_shutdown)
{
	push(0, 1, 0, KP_API_JOIN_GROUP, 10);
	steps(2);
	ring.refuse[0] = true;
	answer(0);
	/* teardown destroys ctl with the reply still queued: ASan checks it
	 * is freed, not leaked */
}

Test(ctl_park, parked_handle_dropped_by_coordinator_at_shutdown)
{
	push(0, 1, 0, KP_API_JOIN_GROUP, 10);
	steps(2);
	cr_assert_eq(ctl_park_count(ctl), 1);
	/* teardown: grp_coord_destroy() drops it, a close goes to the ring */
}

Test(ctl_park, flexible_version_reply_has_header_tags)
{
	struct dp_peer peer = { 0 };

	push_peer(0, 1, 0, KP_API_JOIN_GROUP, 6, 55, &peer);   /* v6+: flexible */
	steps(2);
	answer(0);
	cr_assert_eq(ring.count, 1);
	cr_assert_eq(reply_correlation(&ring.msgs[0]), 55);
	cr_assert_eq(ring.msgs[0].buf.len, 4 + 4 + 1 + 2);
}

Test(ctl_park, client_host_as_kafka_prints_it)
{
	struct dp_peer v4 = { .family = DP_PEER_IPV4, .addr = { 10, 1, 2, 3 } };
	struct dp_peer mapped = { .family = DP_PEER_IPV6 };
	struct dp_peer v6 = { .family = DP_PEER_IPV6 };
	struct dp_peer none = { 0 };

	mapped.addr[10] = mapped.addr[11] = 0xff;
	mapped.addr[12] = 127;
	mapped.addr[15] = 1;
	v6.addr[15] = 1;
	push_peer(0, 1, 0, KP_API_HEARTBEAT, 0, 1, &v4);
	steps(1);
	cr_assert_str_eq(ctl->groups->host, "/10.1.2.3");
	push_peer(0, 1, 1, KP_API_HEARTBEAT, 0, 2, &mapped);
	steps(1);
	cr_assert_str_eq(ctl->groups->host, "/127.0.0.1");
	push_peer(0, 1, 2, KP_API_HEARTBEAT, 0, 3, &v6);
	steps(1);
	cr_assert_str_eq(ctl->groups->host, "/::1");
	push_peer(0, 1, 3, KP_API_HEARTBEAT, 0, 4, &none);
	steps(1);
	cr_assert_str_eq(ctl->groups->host, "");
}
