/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/replica_fetcher.c with real parts only: a spillway broker
 * process (the built binary) is the leader; this process holds a follower's
 * storage (st with replica_ring, same topic ids and partitions, follower
 * roles) and runs the fetcher against the leader. Checked: the local logs
 * hold the leader's batches byte for byte at the same offsets (read back
 * through storage), new records keep flowing, a killed and restarted leader
 * is reconnected to (and the fetcher sleeps while it is down), and a local
 * tail the leader does not have is truncated when the partition is followed
 * again (KIP-279: same epoch -> the leader's end; an epoch the leader does
 * not know -> UNDEFINED -> the high watermark), and a removal with appends
 * in flight followed by the log's deletion, and a stop mid-stream, leave
 * nothing behind (run under ASan). */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/rbatch.h"
#include "control/replica_fetcher.h"
#include "storage/st.h"
#include "tests/unit/control/tkafka.h"
#include "tests/unit/storage/tbatch.h"

#define TOPICS 2
#define PARTS 2
#define SELF 2
#define LEADER 1

static const char *names[TOPICS] = { "rf-alpha", "rf-beta" };
static uint8_t ids[TOPICS][16];
static struct tk_broker leader;
static int kfd = -1;
static char dir[64];
static int wake0 = -1;
static struct st *st;
static struct rf *rf;

static struct st_log_config
log_cfg(void)
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

static void
reap1(struct st_cpl *cpl)
{
	uint64_t deadline = clock_mono_ns() + 5000000000ull, v;
	struct pollfd pfd = { .fd = wake0, .events = POLLIN };

	while (st_reap(st, 0, cpl, 1) == 0) {
		cr_assert_lt(clock_mono_ns(), deadline, "storage did not answer");
		if (poll(&pfd, 1, 10) > 0)
			cr_assert_eq(read(wake0, &v, 8), 8);
	}
}

static struct st_cpl
call(struct st_req *r, int t, int32_t p)
{
	struct st_cpl cpl;

	memcpy(r->topic_id, ids[t], 16);
	r->partition = p;
	cr_assert(st_submit(st, 0, r));
	st_flush(st, 0);
	reap1(&cpl);
	return cpl;
}

/* Every batch of a local partition up to its high watermark. */
static uint8_t *
local_read_all(int t, int32_t p, size_t *len)
{
	uint8_t *out = NULL;
	int64_t off = 0;

	*len = 0;
	for (;;) {
		struct st_req r = { .type = ST_REQ_READ };
		struct st_cpl cpl;
		size_t pos = 0;
		uint8_t *buf;

		r.read.offset = off;
		r.read.max_bytes = 1 << 20;
		r.read.replica_id = -1;
		cpl = call(&r, t, p);
		cr_assert_eq(cpl.error, 0, "local read error %d", cpl.error);
		if (cpl.read.len == 0)
			return out != NULL ? out : malloc(1);
		buf = malloc((size_t)cpl.read.len);
		cr_assert_eq(pread(cpl.read.fd, buf, (size_t)cpl.read.len, cpl.read.pos),
			     cpl.read.len);
		memset(&r, 0, sizeof(r));
		r.type = ST_REQ_RELEASE;
		r.release.ref = cpl.read.ref;
		memcpy(r.topic_id, ids[t], 16);
		r.partition = p;
		cr_assert(st_submit(st, 0, &r));
		st_flush(st, 0);
		while ((size_t)cpl.read.len - pos >= RBATCH_HEADER_BYTES) {
			struct rbatch_header h;
			size_t total;

			rbatch_header_parse(buf + pos, (size_t)cpl.read.len - pos, &h);
			total = (size_t)rbatch_total_bytes(&h);
			if (total > (size_t)cpl.read.len - pos || h.base_offset < off)
				break;
			out = realloc(out, *len + total);
			memcpy(out + *len, buf + pos, total);
			*len += total;
			pos += total;
			off = h.base_offset + h.last_offset_delta + 1;
		}
		free(buf);
		if (pos == 0)
			return out != NULL ? out : malloc(1);
	}
}

/* Do all local partitions hold exactly the leader's batches? */
static bool
synced(bool verbose)
{
	int t, p;

	for (t = 0; t < TOPICS; t++) {
		for (p = 0; p < PARTS; p++) {
			size_t ll, rl;
			uint8_t *l = local_read_all(t, p, &ll);
			uint8_t *r = tk_read_all(kfd, names[t], p, &rl);
			bool same;

			cr_assert_not_null(r, "leader read failed");
			same = ll == rl && memcmp(l, r, ll) == 0;
			if (!same && verbose)
				cr_log_error("%s-%d: local %zu bytes, leader %zu", names[t], p, ll,
					     rl);
			free(l);
			free(r);
			if (!same)
				return false;
		}
	}
	return true;
}

static void
await_synced(void)
{
	uint64_t deadline = clock_mono_ns() + 15000000000ull;

	while (!synced(false)) {
		if (clock_mono_ns() > deadline) {
			cr_assert(synced(true), "the follower did not catch up");
			return;
		}
		usleep(50000);
	}
}

static void
produce_round(int batches, uint8_t fill)
{
	int t, p, i;

	for (t = 0; t < TOPICS; t++)
		for (p = 0; p < PARTS; p++)
			for (i = 0; i < batches; i++)
				cr_assert_geq(tk_produce(kfd, names[t], p, 1 + i % 3, fill), 0);
}

static void
follow(int t, int32_t p, int32_t leader_id, int32_t epoch)
{
	struct rf_partition rp = {
		.topic = names[t], .partition = p, .leader_id = leader_id,
		.leader_epoch = epoch, .host = "127.0.0.1", .port = leader.port,
	};

	memcpy(rp.topic_id, ids[t], 16);
	rf_update(rf, &rp, 1);
}

static void
local_start(void)
{
	struct st_config sc = { .log_dir = dir, .worker_count = 1, .core_count = 1,
				.ring_slots = 64, .replica_ring = true };
	struct rf_config fc = {
		.broker_id = SELF, .ring = 1, .fetch_max_bytes = 10 << 20,
		.partition_max_bytes = 1 << 20, .fetch_wait_max_ms = 200, .fetch_min_bytes = 1,
		.backoff_ms = 100, .socket_timeout_ms = 5000, .client_id = "broker-2-fetcher-0",
	};
	struct st_log_config lc = log_cfg();
	struct st_role role = { .self_id = SELF, .leader = false, .leader_epoch = 0,
				.min_insync_replicas = 1, .replica_count = 2,
				.replicas = { LEADER, SELF }, .isr_count = 2,
				.isr = { LEADER, SELF } };
	char err[128];
	int t, p;

	st = st_create(&sc, err, sizeof(err));
	cr_assert_not_null(st, "%s", err);
	st_attach_core(st, 0, wake0);
	rf = rf_create(st, &fc, err, sizeof(err));
	cr_assert_not_null(rf, "%s", err);
	cr_assert_eq(st_start(st), 0);
	for (t = 0; t < TOPICS; t++) {
		cr_assert_eq(st_partitions_create(st, ids[t], names[t], 0, PARTS, &lc), 0);
		for (p = 0; p < PARTS; p++)
			cr_assert_eq(st_partition_role(st, ids[t], p, &role), 0);
	}
	cr_assert_eq(rf_start(rf), 0);
	for (t = 0; t < TOPICS; t++)
		for (p = 0; p < PARTS; p++)
			follow(t, p, LEADER, 0);
}

static void
setup(void)
{
	int t;

	memset(&leader, 0, sizeof(leader));
	cr_assert_eq(tk_broker_start(&leader), 0, "leader did not start (SPILLWAY_BIN?)");
	kfd = tk_connect(leader.port);
	cr_assert_geq(kfd, 0);
	for (t = 0; t < TOPICS; t++) {
		cr_assert_eq(tk_create_topic(kfd, names[t], PARTS), 0);
		cr_assert_eq(tk_topic_id(kfd, names[t], ids[t]), 0);
	}
	produce_round(3, 'a');
	snprintf(dir, sizeof(dir), "/tmp/rf-follower-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	wake0 = eventfd(0, EFD_NONBLOCK);
	local_start();
}

static void
teardown(void)
{
	char cmd[160];

	rf_destroy(rf);
	st_stop(st);
	st_destroy(st);
	close(wake0);
	if (kfd >= 0)
		close(kfd);
	tk_broker_kill(&leader);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, leader.dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(replica_fetcher, .init = setup, .fini = teardown, .timeout = 120);

struct stats_seen {
	int count;
	int fetching;
};

static void
stats_fn(void *arg, const struct rf_partition_stats *ps)
{
	struct stats_seen *s = arg;

	s->count++;
	if (!ps->truncating && ps->leader_id == LEADER && ps->leader_high_watermark >= 0 &&
	    ps->fetch_offset == ps->leader_high_watermark && ps->last_error == 0)
		s->fetching++;
}

Test(replica_fetcher, follows_and_keeps_following)
{
	struct stats_seen s = { 0 };

	await_synced();
	produce_round(4, 'b');
	await_synced();
	usleep(300000);         /* a stats period */
	rf_stats(rf, stats_fn, &s);
	cr_assert_eq(s.count, TOPICS * PARTS);
	cr_assert_eq(s.fetching, TOPICS * PARTS);
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

Test(replica_fetcher, survives_leader_restart)
{
	double cpu;

	await_synced();
	close(kfd);
	kfd = -1;
	tk_broker_kill(&leader);
	cpu = cpu_seconds();
	usleep(1000000);
	cpu = cpu_seconds() - cpu;
	cr_assert_lt(cpu, 0.2, "the fetcher spun while the leader was down: %.3f s CPU", cpu);
	cr_assert_eq(tk_broker_start(&leader), 0);
	kfd = tk_connect(leader.port);
	cr_assert_geq(kfd, 0);
	produce_round(2, 'c');
	await_synced();
}

/* Append a batch of our own at the local log end, stamped with epoch. */
static void
local_tail(int t, int32_t p, int32_t epoch, int records)
{
	struct tbatch_spec spec = tbatch_spec(records, 50, 1000);
	struct st_req r = { .type = ST_REQ_EPOCH };
	struct st_cpl cpl;
	uint32_t len;
	uint8_t *b;

	r.epoch.leader_epoch = -1;
	cpl = call(&r, t, p);
	cr_assert_eq(cpl.error, 0);
	spec.fill = 'z';
	b = tbatch_build(&spec, &len);
	rbatch_set_base_offset(b, cpl.epoch.end_offset);
	rbatch_set_leader_epoch(b, epoch);
	memset(&r, 0, sizeof(r));
	r.type = ST_REQ_APPEND;
	r.acks = 1;
	r.flags = ST_APPEND_REPLICA;
	r.append.batch = b;
	r.append.len = len;
	cpl = call(&r, t, p);
	cr_assert_eq(cpl.error, 0, "local append: error %d", cpl.error);
	free(b);
}

static int64_t
local_leo(int t, int32_t p)
{
	struct st_req r = { .type = ST_REQ_EPOCH };
	struct st_cpl cpl;

	r.epoch.leader_epoch = -1;
	cpl = call(&r, t, p);
	cr_assert_eq(cpl.error, 0);
	return cpl.epoch.end_offset;
}

Test(replica_fetcher, truncates_a_divergent_tail)
{
	int64_t end0, end1;

	await_synced();
	end0 = local_leo(0, 0);
	end1 = local_leo(1, 1);
	/* Stop following two partitions and give each a tail the leader
	 * lacks: at the leader's epoch (its OffsetForLeaderEpoch answer ends
	 * it), and at an epoch the leader never had (UNDEFINED: back to the
	 * high watermark). */
	rf_remove_sync(rf, ids[0], 0);
	rf_remove_sync(rf, ids[1], 1);
	local_tail(0, 0, 0, 3);
	local_tail(1, 1, 5, 2);
	cr_assert_eq(local_leo(0, 0), end0 + 3);
	cr_assert_eq(local_leo(1, 1), end1 + 2);
	follow(0, 0, LEADER, 0);
	follow(1, 1, LEADER, 0);
	/* The leader's next records land where the tails were. */
	produce_round(1, 'd');
	await_synced();
	cr_assert_eq(local_leo(0, 0), end0 + 1);
	cr_assert_eq(local_leo(1, 1), end1 + 1);
}

/* rf_remove_sync with appends in flight, the log deleted right after (as
 * control does), and a stop in the middle of a catch-up: nothing of the
 * fetcher may touch storage or its buffers after (ASan checks). */
Test(replica_fetcher, removes_and_stops_mid_stream)
{
	struct rf_partition rp = { .topic = names[0], .partition = 0, .leader_id = -1,
				   .host = "", .port = 0 };
	struct stats_seen s = { 0 };
	int i;

	await_synced();
	memcpy(rp.topic_id, ids[0], 16);
	rf_update(rf, &rp, 1);
	rp.partition = 1;
	rf_update(rf, &rp, 1);
	for (i = 0; i < 200; i++) {
		cr_assert_geq(tk_produce(kfd, names[0], 0, 50, 'r'), 0);
		cr_assert_geq(tk_produce(kfd, names[0], 1, 50, 's'), 0);
	}
	follow(0, 0, LEADER, 0);
	follow(0, 1, LEADER, 0);
	usleep(20000);
	rf_remove_sync(rf, ids[0], 0);
	cr_assert_eq(st_partitions_delete(st, ids[0], names[0], 0, 1), 0);
	usleep(300000);
	rf_stats(rf, stats_fn, &s);
	cr_assert_eq(s.count, TOPICS * PARTS - 1);
	for (i = 0; i < 200; i++)
		cr_assert_geq(tk_produce(kfd, names[0], 1, 50, 't'), 0);
	usleep(5000);
	rf_destroy(rf);
	rf = NULL;
}
