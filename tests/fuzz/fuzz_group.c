/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the group coordinator (control/group/: membership and
 * offsets, the real code) driven by a sequence of group requests, on a fake
 * clock, over doubles for the __consumer_offsets log (appends held until
 * the input completes them, successfully or not) and for parked replies.
 *
 * Input: a sequence of steps, each
 *   op (1 byte): low 4 bits pick the API (fuzz_apis[op % count]); bit 4:
 *     advance the clock by the next byte x 100 ms and run the timers;
 *     bit 5: complete the held appends (bit 6: with an error);
 *   version (1 byte): modulo the API's advertised range;
 *   length (2 bytes, little-endian) and that many body bytes (fewer when
 *     the input ends).
 * Oracles: no crash or sanitizer report (leaks included: each input
 * creates and destroys its own coordinator); every reply, immediate or
 * parked, decodes with the generated response decoder of its API and
 * version and uses all its bytes; no more replies than requests. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/config.h"
#include "control/ctl_int.h"
#include "control/ctl_park.h"
#include "control/group/grp_coord.h"
#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_delete_groups.h"
#include "protocol/gen/kp_msg_describe_groups.h"
#include "protocol/gen/kp_msg_find_coordinator.h"
#include "protocol/gen/kp_msg_heartbeat.h"
#include "protocol/gen/kp_msg_join_group.h"
#include "protocol/gen/kp_msg_leave_group.h"
#include "protocol/gen/kp_msg_list_groups.h"
#include "protocol/gen/kp_msg_offset_commit.h"
#include "protocol/gen/kp_msg_offset_delete.h"
#include "protocol/gen/kp_msg_offset_fetch.h"
#include "protocol/gen/kp_msg_sync_group.h"
#include "protocol/kp_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_HELD_MAX 256               /* appends held before forced completion */

static const int16_t fuzz_apis[] = {
	KP_API_FIND_COORDINATOR, KP_API_JOIN_GROUP, KP_API_SYNC_GROUP, KP_API_HEARTBEAT,
	KP_API_LEAVE_GROUP, KP_API_OFFSET_COMMIT, KP_API_OFFSET_FETCH, KP_API_OFFSET_DELETE,
	KP_API_DESCRIBE_GROUPS, KP_API_LIST_GROUPS, KP_API_DELETE_GROUPS,
};
#define FUZZ_API_COUNT ((int)(sizeof(fuzz_apis) / sizeof(fuzz_apis[0])))

static struct config fuzz_cfg;
static uint64_t fuzz_now_ns;
static int16_t fuzz_cur_api, fuzz_cur_version;
static int32_t fuzz_cur_corr;
static long fuzz_requests, fuzz_replies, fuzz_parked;

/* ---- control doubles: metadata, parked replies ---- */

static const int32_t fuzz_self = 1;
#define FUZZ_PART { .leader = 1, .replica_count = 1, .isr_count = 1, .replicas = &fuzz_self, \
		    .isr = &fuzz_self, .offline = &fuzz_self }
static const struct kp_md_partition fuzz_parts[] = { FUZZ_PART, FUZZ_PART, FUZZ_PART };
static const struct kp_md_topic fuzz_topics[] = {
	{ .name = { "alpha", 5 }, .id = { { 1 } }, .partition_count = 3,
	  .max_message_bytes = 1048588, .min_insync_replicas = 1, .partitions = fuzz_parts },
	{ .name = { "t", 1 }, .id = { { 2 } }, .partition_count = 2,
	  .max_message_bytes = 1048588, .min_insync_replicas = 1, .partitions = fuzz_parts },
};
static const struct kp_md_broker fuzz_brokers[] = {
	{ .id = 1, .endpoint_count = 1, .endpoints = { { "PLAINTEXT", "127.0.0.1", 9092, 0 } } },
};
static const struct kp_md_topic *const fuzz_by_id[] = { &fuzz_topics[0], &fuzz_topics[1] };
static const struct kp_md fuzz_md = {
	.broker_id = 1, .controller_id = 1, .cluster_id = "AAAAAAAAAAAAAAAAAAAAAA",
	.endpoint_count = 1, .endpoints = { { "PLAINTEXT", "127.0.0.1", 9092, 0 } },
	.broker_count = 1, .brokers = fuzz_brokers,
	.num_partitions = 1, .default_replication_factor = 1, .topic_count = 2,
	.topics = fuzz_topics, .by_id = fuzz_by_id, .epoch = 1,
};

const struct kp_md *
ctl_md(struct ctl *ctl)
{
	(void)ctl;
	return &fuzz_md;
}

static void
fuzz_check_reply(int16_t api, int16_t v, const uint8_t *buf, size_t len)
{
	struct kp_cursor c = kp_cursor_make(buf, len);
	int rc;

	fuzz_replies++;
	switch (api) {
#define FUZZ_DECODE(key, name)                                          \
	case key: {                                                     \
		struct kp_##name##_response r;                          \
		rc = kp_##name##_response_decode(&c, v, &r);            \
		break;                                                  \
	}
	FUZZ_DECODE(KP_API_FIND_COORDINATOR, find_coordinator)
	FUZZ_DECODE(KP_API_JOIN_GROUP, join_group)
	FUZZ_DECODE(KP_API_SYNC_GROUP, sync_group)
	FUZZ_DECODE(KP_API_HEARTBEAT, heartbeat)
	FUZZ_DECODE(KP_API_LEAVE_GROUP, leave_group)
	FUZZ_DECODE(KP_API_OFFSET_COMMIT, offset_commit)
	FUZZ_DECODE(KP_API_OFFSET_FETCH, offset_fetch)
	FUZZ_DECODE(KP_API_OFFSET_DELETE, offset_delete)
	FUZZ_DECODE(KP_API_DESCRIBE_GROUPS, describe_groups)
	FUZZ_DECODE(KP_API_LIST_GROUPS, list_groups)
	FUZZ_DECODE(KP_API_DELETE_GROUPS, delete_groups)
#undef FUZZ_DECODE
	default:
		abort();
	}
	if (rc != 0 || c.pos != c.end) {
		fprintf(stderr, "reply to api %d v%d does not decode (rc %d, %zu bytes left)\n",
			api, v, rc, (size_t)(c.end - c.pos));
		abort();
	}
}

struct ctl_park *
ctl_park_take(struct ctl *ctl)
{
	struct ctl_park *p = calloc(1, sizeof(*p));

	(void)ctl;
	if (p == NULL)
		return NULL;
	p->api_key = fuzz_cur_api;
	p->api_version = fuzz_cur_version;
	p->correlation_id = fuzz_cur_corr;
	fuzz_parked++;
	return p;
}

void
ctl_park_begin(const struct ctl_park *p, struct kp_writer *w)
{
	(void)p;
	kp_writer_init(w, 64);  /* body only */
}

void
ctl_park_send(struct ctl *ctl, struct ctl_park *p, struct kp_writer *w)
{
	(void)ctl;
	if (w->err == 0)
		fuzz_check_reply(p->api_key, p->api_version, w->buf, w->len);
	kp_writer_free(w);
	fuzz_parked--;
	free(p);
}

void
ctl_park_drop(struct ctl *ctl, struct ctl_park *p)
{
	(void)ctl;
	fuzz_replies++;
	fuzz_parked--;
	free(p);
}

uint32_t
ctl_park_count(const struct ctl *ctl)
{
	(void)ctl;
	return (uint32_t)fuzz_parked;
}

/* ---- the __consumer_offsets double: appends held until completed ---- */

struct grp_log {
	int unused;
};

struct grp_log_batch {
	void (*done)(void *arg, int16_t error);
	void *arg;
};

static struct grp_log fuzz_log;
static struct grp_log_batch *fuzz_held[FUZZ_HELD_MAX];
static int fuzz_held_count;

static void
fuzz_complete(int16_t error)
{
	/* A completion may append again: take the held set first. */
	while (fuzz_held_count > 0) {
		struct grp_log_batch *b = fuzz_held[0];

		memmove(fuzz_held, fuzz_held + 1, (size_t)--fuzz_held_count * sizeof(*fuzz_held));
		b->done(b->arg, error);
		free(b);
	}
}

struct grp_log *
grp_log_create(struct grp_coord *c)
{
	(void)c;
	return &fuzz_log;
}

void
grp_log_destroy(struct grp_log *l)
{
	(void)l;
	fuzz_complete(KP_ERR_COORDINATOR_NOT_AVAILABLE);
}

void
grp_log_start(struct grp_log *l)
{
	(void)l;
}

int16_t
grp_log_ensure(struct grp_log *l)
{
	(void)l;
	return KP_ERR_NONE;
}

int16_t
grp_log_ready(struct grp_log *l, struct kp_str group_id)
{
	(void)l;
	(void)group_id;
	return KP_ERR_NONE;
}

void
grp_log_set_cluster(struct grp_log *l)
{
	(void)l;
}

void
grp_log_partition_lead(struct grp_log *l, int32_t partition, int32_t leader_epoch)
{
	(void)l;
	(void)partition;
	(void)leader_epoch;
}

int32_t
grp_log_partition_resign(struct grp_log *l, int32_t partition, int32_t leader_epoch)
{
	(void)l;
	(void)partition;
	(void)leader_epoch;
	return -1;
}

bool
grp_log_loading(const struct grp_log *l)
{
	(void)l;
	return false;
}

struct grp_log_batch *
grp_log_batch_begin(struct grp_log *l, struct kp_str group_id)
{
	struct grp_log_batch *b = calloc(1, sizeof(*b));

	(void)l;
	(void)group_id;
	if (b == NULL)
		abort();        /* the real log never returns NULL either */
	return b;
}

void
grp_log_batch_offset(struct grp_log_batch *b, struct kp_str topic, int32_t partition,
		     const struct grp_rec_offset *value)
{
	(void)b;
	(void)topic;
	(void)partition;
	(void)value;
}

void
grp_log_batch_group(struct grp_log_batch *b, const struct grp_rec_group *value)
{
	(void)b;
	(void)value;
}

void
grp_log_batch_commit(struct grp_log_batch *b, void (*done)(void *arg, int16_t error), void *arg)
{
	b->done = done;
	b->arg = arg;
	if (fuzz_held_count == FUZZ_HELD_MAX)
		fuzz_complete(KP_ERR_NONE);
	fuzz_held[fuzz_held_count++] = b;
}

/* ---- the driver ---- */

static uint64_t
fuzz_clock(void)
{
	return fuzz_now_ns;
}

/* Member ids "fuzz-00000000-0000-4000-8000-0000000000NN" (NN: 01, 02, ...
 * per input, in hex), so seeds can sync and heartbeat as the member they
 * joined as. */
static uint32_t fuzz_ids;

static void
fuzz_random(uint8_t *buf, size_t len)
{
	memset(buf, 0, len);
	fuzz_ids++;
	buf[len - 1] = (uint8_t)fuzz_ids;
	buf[len - 2] = (uint8_t)(fuzz_ids >> 8);
}

static const struct kp_api_row *
fuzz_row(int16_t api)
{
	for (int i = 0; i < kp_api_table_len; i++)
		if (kp_api_table[i].api_key == api)
			return &kp_api_table[i];
	abort();
}

static void
fuzz_init(void)
{
	static const char *const overrides[] = {
		"group.initial.rebalance.delay.ms=0", "group.min.session.timeout.ms=100",
	};
	char err[256];

	if (config_load(&fuzz_cfg, NULL, 2, overrides, err, sizeof(err)) != 0) {
		fprintf(stderr, "config: %s\n", err);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;

	if (!ready) {
		fuzz_init();
		ready = true;
	}
	fuzz_now_ns = 1000000000ull;
	fuzz_requests = fuzz_replies = 0;
	struct grp_coord *c = grp_coord_create(NULL, &fuzz_cfg);

	if (c == NULL)
		abort();
	grp_coord_set_clock(c, fuzz_clock);
	grp_coord_set_random(c, fuzz_random);
	fuzz_ids = 0;
	grp_coord_start(c);
	size_t i = 0;

	while (i + 4 <= size) {
		uint8_t op = data[i];
		int16_t api = fuzz_apis[(op & 0x0f) % FUZZ_API_COUNT];
		const struct kp_api_row *row = fuzz_row(api);
		int16_t v = (int16_t)(row->accept_min +
				      data[i + 1] % (row->version_max - row->accept_min + 1));
		size_t len = (size_t)data[i + 2] | (size_t)data[i + 3] << 8;

		i += 4;
		if (len > size - i)
			len = size - i;
		if (op & 0x10) {
			uint8_t step = len > 0 ? data[i] : 1;

			fuzz_now_ns += (uint64_t)step * 100000000ull;
			grp_coord_tick(c, fuzz_now_ns);
		}
		if (op & 0x20)
			fuzz_complete((op & 0x40) ? KP_ERR_NOT_COORDINATOR : KP_ERR_NONE);
		struct kp_writer w;
		struct kp_group_call call = {
			.api_key = api,
			.api_version = v,
			.correlation_id = (int32_t)fuzz_requests,
			.client_id = kp_str_c("fuzz"),
			.client_host = kp_str_c("/127.0.0.1"),
			.body = kp_cursor_make(data + i, len),
			.w = &w,
		};

		i += len;
		fuzz_cur_api = api;
		fuzz_cur_version = v;
		fuzz_cur_corr = call.correlation_id;
		fuzz_requests++;
		kp_writer_init(&w, 64);
		enum kp_verdict verdict = grp_coord_handle(c, &call);

		if (verdict == KP_VERDICT_REPLY && w.err == 0)
			fuzz_check_reply(api, v, w.buf, w.len);
		else if (verdict != KP_VERDICT_PARKED)
			fuzz_replies++;
		kp_writer_free(&w);
		if (fuzz_replies > fuzz_requests)
			abort();
	}
	/* Let every timer fire, then complete what is held. */
	fuzz_now_ns += 3600ull * 1000000000ull;
	grp_coord_tick(c, fuzz_now_ns);
	fuzz_complete(KP_ERR_NONE);
	grp_coord_destroy(c);
	if (fuzz_parked != 0 || fuzz_replies > fuzz_requests)
		abort();
	return 0;
}
