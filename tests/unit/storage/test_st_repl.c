/* SPDX-License-Identifier: Apache-2.0 */
/* Tests cluster mode through the storage workers on real io_uring in a
 * temp dir: one core ring plus the replica fetcher's ring (index
 * core_count). A leader partition (st_partition_role) holds an acks=all
 * append until both followers' fetches (READ with replica_id, on the
 * replica ring) pass it, a consumer WATCH wakes when the high watermark
 * moves, st_leaders_collect reports the followers; a follower partition
 * takes ST_APPEND_REPLICA appends, REPLICA_HW, TRUNCATE and EPOCH -1 on
 * the replica ring, and refuses a client's append. */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/kafka_errors.h"
#include "common/rbatch.h"
#include "storage/st.h"
#include "tests/unit/storage/tbatch.h"

#define CORES 1
#define RING_REPL CORES         /* the replica fetcher's ring index */
#define RINGS (CORES + 1)

static const uint8_t topic[16] = { 0x5e, 0x11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
static char dir[64];
static int wake[RINGS];

static struct st_log_config
cfg(void)
{
	struct st_log_config c = {
		.segment_bytes = 1 << 20, .segment_ms = 86400000, .retention_ms = -1,
		.retention_bytes = -1, .max_message_bytes = 1 << 20,
		.index_interval_bytes = 4096, .segment_index_bytes = 1 << 20,
		.flush_messages = INT64_MAX, .flush_ms = INT64_MAX,
		.producer_id_expiration_ms = 86400000, .delete_policy = true,
	};

	return c;
}

static struct st *
start(void)
{
	struct st_config sc = { .log_dir = dir, .worker_count = 2, .core_count = CORES,
				.ring_slots = 64, .replica_ring = true };
	struct st_log_config lc = cfg();
	char err[128];
	struct st *st = st_create(&sc, err, sizeof(err));

	cr_assert_not_null(st, "%s", err);
	for (int c = 0; c < RINGS; c++)
		st_attach_core(st, c, wake[c]);
	cr_assert_eq(st_start(st), 0);
	cr_assert_eq(st_partitions_open(st, topic, "repl", 0, 2, &lc), 0);
	return st;
}

/* Wait for exactly n completions on ring c. */
static void
reap(struct st *st, int c, struct st_cpl *out, unsigned n)
{
	uint64_t deadline = clock_mono_ns() + 5000000000ull, v;
	struct pollfd pfd = { .fd = wake[c], .events = POLLIN };
	unsigned got = 0;

	while (got < n) {
		got += st_reap(st, c, out + got, n - got);
		if (got < n) {
			cr_assert_lt(clock_mono_ns(), deadline, "timed out with %u of %u", got, n);
			if (poll(&pfd, 1, 10) > 0)
				cr_assert_eq(read(wake[c], &v, 8), 8);
		}
	}
}

/* Nothing arrives on ring c for a while. */
static void
reap_none(struct st *st, int c)
{
	struct st_cpl cpl;

	usleep(50000);
	cr_assert_eq(st_reap(st, c, &cpl, 1), 0);
}

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/st-repl-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	for (int c = 0; c < RINGS; c++)
		wake[c] = eventfd(0, EFD_NONBLOCK);
}

static void
teardown(void)
{
	char cmd[128];

	for (int c = 0; c < RINGS; c++)
		close(wake[c]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(st_repl, .init = setup, .fini = teardown);

static struct st_req
req(uint8_t type, int32_t p, uint64_t token)
{
	struct st_req r;

	memset(&r, 0, sizeof(r));
	r.type = type;
	r.partition = p;
	r.token = token;
	memcpy(r.topic_id, topic, 16);
	return r;
}

static void
submit(struct st *st, int c, const struct st_req *r)
{
	cr_assert(st_submit(st, c, r));
	st_flush(st, c);
}

static struct st_cpl
call(struct st *st, int c, const struct st_req *r)
{
	struct st_cpl cpl;

	submit(st, c, r);
	reap(st, c, &cpl, 1);
	cr_assert_eq(cpl.token, r->token);
	return cpl;
}

static struct st_cpl
fetch(struct st *st, int32_t p, int32_t replica, int64_t offset)
{
	struct st_req r = req(ST_REQ_READ, p, 100 + (uint64_t)replica);
	struct st_cpl cpl;

	r.read.offset = offset;
	r.read.max_bytes = 1 << 20;
	r.read.replica_id = replica;
	cpl = call(st, replica >= 0 ? RING_REPL : 0, &r);
	if (cpl.read.len > 0) {
		r = req(ST_REQ_RELEASE, p, 0);
		r.release.ref = cpl.read.ref;
		submit(st, replica >= 0 ? RING_REPL : 0, &r);
	}
	return cpl;
}

struct collected {
	int count;
	struct st_leader_stats ls;
};

static void
collect(void *arg, const struct st_leader_stats *ls)
{
	struct collected *c = arg;

	c->count++;
	c->ls = *ls;
}

Test(st_repl, leader_waits_for_followers_on_the_replica_ring)
{
	struct st_role role = { .self_id = 1, .leader = true, .leader_epoch = 2,
				.min_insync_replicas = 2, .replica_count = 3,
				.replicas = { 1, 2, 3 }, .isr_count = 3, .isr = { 1, 2, 3 } };
	struct tbatch_spec s = tbatch_spec(4, 50, 1000);
	struct st *st = start();
	struct collected col = { 0 };
	struct st_cpl cpl, cpls[2];
	struct st_req r;
	uint32_t len;
	uint8_t *b = tbatch_build(&s, &len);

	cr_assert_eq(st_partition_role(st, topic, 0, &role), 0);
	r = req(ST_REQ_WATCH, 0, 7);
	r.watch.offset = 0;
	r.watch.deadline_ns = UINT64_MAX;
	r.watch.replica_id = -1;
	submit(st, 0, &r);
	r = req(ST_REQ_APPEND, 0, 1);
	r.acks = -1;
	r.append.batch = b;
	r.append.len = len;
	submit(st, 0, &r);
	reap_none(st, 0);
	cpl = fetch(st, 0, -1, 0);
	cr_assert_eq(cpl.read.len, 0, "a consumer reads up to the high watermark");
	cr_assert_eq(cpl.high_watermark, 0);
	cpl = fetch(st, 0, 2, 0);
	cr_assert_eq(cpl.error, 0);
	cr_assert_eq(cpl.read.len, (int32_t)len, "a follower reads up to the log end");
	fetch(st, 0, 2, 4);
	reap_none(st, 0);
	cpl = fetch(st, 0, 3, 4);
	cr_assert_eq(cpl.high_watermark, 4);
	reap(st, 0, cpls, 2);
	for (int i = 0; i < 2; i++) {
		if (cpls[i].type == ST_REQ_APPEND) {
			cr_assert_eq(cpls[i].error, 0);
			cr_assert_eq(cpls[i].append.base_offset, 0);
		} else {
			cr_assert_eq(cpls[i].type, ST_REQ_WATCH);
			cr_assert_eq(cpls[i].high_watermark, 4);
		}
	}
	cr_assert_eq(fetch(st, 0, -1, 0).read.len, (int32_t)len);
	cr_assert_eq(st_leaders_collect(st, collect, &col), 0);
	cr_assert_eq(col.count, 1);
	cr_assert_eq(col.ls.partition, 0);
	cr_assert_eq(col.ls.leader_epoch, 2);
	cr_assert_eq(col.ls.high_watermark, 4);
	cr_assert_eq(col.ls.follower_count, 2);
	cr_assert_eq(col.ls.followers[1].log_end_offset, 4);
	cr_assert_gt(col.ls.followers[1].last_caught_up_ms, 0);
	/* Below min ISR: refused before the write. */
	role.isr_count = 1;
	cr_assert_eq(st_partition_role(st, topic, 0, &role), 0);
	cpl = call(st, 0, &r);
	cr_assert_eq(cpl.error, KP_ERR_NOT_ENOUGH_REPLICAS);
	r = req(ST_REQ_EPOCH, 0, 9);
	r.epoch.leader_epoch = -1;
	cpl = call(st, 0, &r);
	cr_assert_eq(cpl.epoch.leader_epoch, 2);
	cr_assert_eq(cpl.epoch.end_offset, 4);
	st_stop(st);
	st_destroy(st);
	free(b);
}

static uint8_t *
leader_batch(int64_t base, int32_t epoch, int records, uint32_t *len)
{
	struct tbatch_spec s = tbatch_spec(records, 30, 1000);
	uint8_t *b = tbatch_build(&s, len);

	rbatch_set_base_offset(b, base);
	rbatch_set_leader_epoch(b, epoch);
	return b;
}

static struct st_cpl
replica_append(struct st *st, uint8_t *b, uint32_t len)
{
	struct st_req r = req(ST_REQ_APPEND, 1, 3);

	r.acks = -1;
	r.flags = ST_APPEND_REPLICA;
	r.append.batch = b;
	r.append.len = len;
	return call(st, RING_REPL, &r);
}

Test(st_repl, follower_appends_truncates_on_the_replica_ring)
{
	struct st_role role = { .self_id = 1, .leader = false, .leader_epoch = 5,
				.min_insync_replicas = 1, .replica_count = 2,
				.replicas = { 2, 1 }, .isr_count = 2, .isr = { 2, 1 } };
	struct st *st = start();
	uint8_t *b[3];
	uint32_t len[3];
	struct st_cpl cpl;
	struct st_req r;

	cr_assert_eq(st_partition_role(st, topic, 1, &role), 0);
	b[0] = leader_batch(0, 4, 5, &len[0]);
	b[1] = leader_batch(5, 5, 5, &len[1]);
	b[2] = leader_batch(3, 6, 5, &len[2]);
	cpl = replica_append(st, b[0], len[0]);
	cr_assert_eq(cpl.error, 0);
	cr_assert_eq(cpl.append.base_offset, 0);
	cr_assert_eq(replica_append(st, b[1], len[1]).append.base_offset, 5);
	cr_assert_eq(replica_append(st, b[2], len[2]).error, KP_ERR_OFFSET_OUT_OF_RANGE);
	r = req(ST_REQ_REPLICA_HW, 1, 4);
	r.hw.offset = 8;
	cr_assert_eq(call(st, RING_REPL, &r).high_watermark, 8);
	cr_assert_eq(fetch(st, 1, -1, 8).read.len, 0, "stops at the high watermark");
	r = req(ST_REQ_EPOCH, 1, 5);
	r.epoch.leader_epoch = -1;
	cpl = call(st, RING_REPL, &r);
	cr_assert_eq(cpl.epoch.leader_epoch, 5);
	cr_assert_eq(cpl.epoch.end_offset, 10);
	r.epoch.leader_epoch = 4;
	cpl = call(st, RING_REPL, &r);
	cr_assert_eq(cpl.epoch.end_offset, 5);
	r = req(ST_REQ_TRUNCATE, 1, 6);
	r.truncate.offset = 5;
	cpl = call(st, RING_REPL, &r);
	cr_assert_eq(cpl.error, 0);
	cr_assert_eq(cpl.truncate.log_end_offset, 5);
	cr_assert_eq(cpl.high_watermark, 5);
	free(b[2]);
	b[2] = leader_batch(5, 6, 5, &len[2]);
	cr_assert_eq(replica_append(st, b[2], len[2]).append.base_offset, 5);
	r = req(ST_REQ_EPOCH, 1, 5);
	r.epoch.leader_epoch = 5;
	cpl = call(st, RING_REPL, &r);
	cr_assert_eq(cpl.epoch.leader_epoch, 4);
	cr_assert_eq(cpl.epoch.end_offset, 5);
	/* A client's append to a follower; a follower's fetch from one. */
	r = req(ST_REQ_APPEND, 1, 8);
	r.acks = 1;
	r.append.batch = b[0];
	r.append.len = len[0];
	cr_assert_eq(call(st, 0, &r).error, KP_ERR_NOT_LEADER_OR_FOLLOWER);
	cr_assert_eq(fetch(st, 1, 2, 0).error, KP_ERR_NOT_LEADER_OR_FOLLOWER);
	st_stop(st);
	st_destroy(st);
	for (int i = 0; i < 3; i++)
		free(b[i]);
}

/* Produce's timeout_ms per partition (ST_APPEND_TIMEOUT): partition 1 (the
 * leader alone in its ISR) completes NONE at once; partition 0 (followers
 * that never fetch) completes REQUEST_TIMED_OUT with its offsets once the
 * worker's tick finds its deadline passed, not before. */
Test(st_repl, acks_all_wait_times_out_per_partition)
{
	struct st_role role = { .self_id = 1, .leader = true, .leader_epoch = 1,
				.min_insync_replicas = 1, .replica_count = 3,
				.replicas = { 1, 2, 3 }, .isr_count = 3, .isr = { 1, 2, 3 } };
	struct tbatch_spec s = tbatch_spec(3, 50, 1000);
	struct st *st = start();
	struct st_cpl cpl;
	struct st_req r;
	uint64_t t0, waited;
	uint32_t len;
	uint8_t *b0 = tbatch_build(&s, &len), *b1 = tbatch_build(&s, &len);

	cr_assert_eq(st_partition_role(st, topic, 0, &role), 0);
	role.isr_count = 1;
	cr_assert_eq(st_partition_role(st, topic, 1, &role), 0);
	t0 = clock_mono_ns();
	for (int32_t p = 0; p < 2; p++) {
		r = req(ST_REQ_APPEND, p, 10 + (uint64_t)p);
		r.acks = -1;
		r.flags = ST_APPEND_TIMEOUT;
		r.append.timeout_ms = 300;
		r.append.batch = p == 0 ? b0 : b1;
		r.append.len = len;
		submit(st, 0, &r);
	}
	reap(st, 0, &cpl, 1);
	cr_assert_eq(cpl.token, 11, "the leader alone: replicated at once");
	cr_assert_eq(cpl.error, 0);
	cr_assert_eq(cpl.append.base_offset, 0);
	reap(st, 0, &cpl, 1);
	waited = clock_mono_ns() - t0;
	cr_assert_eq(cpl.token, 10);
	cr_assert_eq(cpl.error, KP_ERR_REQUEST_TIMED_OUT);
	cr_assert_eq(cpl.append.base_offset, 0, "appended: its offsets kept");
	cr_assert_eq(cpl.high_watermark, 0);
	cr_assert_geq(waited, 300000000ull, "answered after %lu ns", (unsigned long)waited);
	cr_assert_lt(waited, 2000000000ull, "answered after %lu ns", (unsigned long)waited);
	cr_assert_eq(fetch(st, 0, 2, 0).read.len, (int32_t)len, "the records stay");
	st_stop(st);
	st_destroy(st);
	free(b0);
	free(b1);
}
