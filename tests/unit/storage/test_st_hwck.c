/* SPDX-License-Identifier: Apache-2.0 */
/* Tests the high-watermark checkpoint (replication-offset-checkpoint per
 * log dir, st_hw_checkpoint) and full truncation (ST_REQ_TRUNCATE_FULL)
 * through the storage workers on real io_uring in a temp dir: a leader
 * restarted with records past the checkpointed high watermark shows
 * consumers only up to it until its ISR has them; without a checkpoint it
 * starts at 0, as Kafka's; a follower truncated fully starts empty at the
 * new offset, appends there, and keeps the start across a restart. */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/st-hwck-XXXXXX");
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

TestSuite(st_hwck, .init = setup, .fini = teardown);

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
append(struct st *st, int c, int32_t p, uint8_t *b, uint32_t len, uint8_t flags)
{
	struct st_req r = req(ST_REQ_APPEND, p, 3);

	r.acks = 1;
	r.flags = flags;
	r.append.batch = b;
	r.append.len = len;
	return call(st, c, &r);
}

static char *
slurp(const char *path)
{
	static char text[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f, "%s", path);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return text;
}

static const struct st_role leader_role = {
	.self_id = 1, .leader = true, .leader_epoch = 2, .min_insync_replicas = 1,
	.replica_count = 2, .replicas = { 1, 2 }, .isr_count = 2, .isr = { 1, 2 },
};

Test(st_hwck, restart_starts_the_high_watermark_at_the_checkpoint)
{
	struct tbatch_spec s1 = tbatch_spec(4, 50, 1000), s2 = tbatch_spec(3, 50, 1000);
	struct st_role role = leader_role;
	struct st *st = start();
	char path[128];
	uint32_t len1, len2;
	uint8_t *b1 = tbatch_build(&s1, &len1), *b2 = tbatch_build(&s2, &len2);

	cr_assert_eq(st_partition_role(st, topic, 0, &role), 0);
	cr_assert_eq(append(st, 0, 0, b1, len1, 0).append.base_offset, 0);
	cr_assert_eq(fetch(st, 0, 2, 4).high_watermark, 4, "the follower has 0..3");
	cr_assert_eq(append(st, 0, 0, b2, len2, 0).append.base_offset, 4);
	cr_assert_eq(fetch(st, 0, -1, 0).high_watermark, 4, "4..6 not on the ISR");
	cr_assert_eq(st_hw_checkpoint(st), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, ST_HWCK_FILE);
	/* Partition 1 never had a role: its checkpoint says 0 (none before). */
	cr_assert(strcmp(slurp(path), "0\n2\nrepl 0 4\nrepl 1 0\n") == 0 ||
		  strcmp(slurp(path), "0\n2\nrepl 1 0\nrepl 0 4\n") == 0, "%s", slurp(path));
	st_stop(st);
	st_destroy(st);

	/* Leader again after a restart: 4..6 stay hidden until the ISR has
	 * them. */
	st = start();
	role.leader_epoch = 3;
	cr_assert_eq(st_partition_role(st, topic, 0, &role), 0);
	cr_assert_eq(fetch(st, 0, -1, 0).high_watermark, 4);
	cr_assert_eq(fetch(st, 0, 2, 7).high_watermark, 7);
	cr_assert_eq(fetch(st, 0, -1, 0).high_watermark, 7);
	st_stop(st);
	st_destroy(st);

	/* No checkpoint: 0, as Kafka's; a leader alone in its ISR has it all. */
	cr_assert_eq(unlink(path), 0);
	st = start();
	cr_assert_eq(st_partition_role(st, topic, 0, &role), 0);
	cr_assert_eq(fetch(st, 0, -1, 0).high_watermark, 0);
	role.isr_count = 1;
	cr_assert_eq(st_partition_role(st, topic, 0, &role), 0);
	cr_assert_eq(fetch(st, 0, -1, 0).high_watermark, 7);
	st_stop(st);
	st_destroy(st);

	/* A checkpoint beyond the log end is capped at it; a malformed one
	 * counts as none. */
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs("0\n1\nrepl 0 1000\n", f);
	fclose(f);
	st = start();
	role.isr_count = 2;
	cr_assert_eq(st_partition_role(st, topic, 0, &role), 0);
	cr_assert_eq(fetch(st, 0, -1, 0).high_watermark, 7);
	st_stop(st);
	st_destroy(st);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("0\n2\nrepl 0 5\n", f);
	fclose(f);
	st = start();
	cr_assert_eq(st_partition_role(st, topic, 0, &role), 0);
	cr_assert_eq(fetch(st, 0, -1, 0).high_watermark, 0);
	st_stop(st);
	st_destroy(st);
	free(b1);
	free(b2);
}

Test(st_hwck, truncate_full_starts_the_log_at_the_offset)
{
	struct st_role role = { .self_id = 1, .leader = false, .leader_epoch = 5,
				.min_insync_replicas = 1, .replica_count = 2,
				.replicas = { 2, 1 }, .isr_count = 2, .isr = { 2, 1 } };
	struct st *st = start();
	uint32_t len0, len1;
	uint8_t *b0 = leader_batch(0, 4, 5, &len0), *b1 = leader_batch(20, 5, 3, &len1);
	struct st_cpl cpl;
	struct st_req r;

	cr_assert_eq(st_partition_role(st, topic, 1, &role), 0);
	cr_assert_eq(append(st, RING_REPL, 1, b0, len0, ST_APPEND_REPLICA).append.base_offset, 0);
	r = req(ST_REQ_TRUNCATE_FULL, 1, 6);
	r.truncate.offset = 20;
	cpl = call(st, RING_REPL, &r);
	cr_assert_eq(cpl.error, 0);
	cr_assert_eq(cpl.truncate.log_end_offset, 20);
	cr_assert_eq(cpl.high_watermark, 20);
	cr_assert_eq(cpl.log_start_offset, 20);
	r = req(ST_REQ_EPOCH, 1, 7);
	r.epoch.leader_epoch = -1;
	cpl = call(st, RING_REPL, &r);
	cr_assert_eq(cpl.epoch.leader_epoch, -1, "the epoch cache is cleared");
	cpl = append(st, RING_REPL, 1, b1, len1, ST_APPEND_REPLICA);
	cr_assert_eq(cpl.error, 0);
	cr_assert_eq(cpl.append.base_offset, 20);
	cpl = call(st, RING_REPL, &r);
	cr_assert_eq(cpl.epoch.leader_epoch, 5);
	cr_assert_eq(cpl.epoch.end_offset, 23);
	cr_assert_eq(fetch(st, 1, -1, 0).error, KP_ERR_OFFSET_OUT_OF_RANGE);
	/* A leader refuses it, as it refuses TRUNCATE. */
	role.leader = true;
	role.isr_count = 1;
	role.isr[0] = 1;
	cr_assert_eq(st_partition_role(st, topic, 1, &role), 0);
	r = req(ST_REQ_TRUNCATE_FULL, 1, 8);
	r.truncate.offset = 40;
	cr_assert_eq(call(st, RING_REPL, &r).error, KP_ERR_NOT_LEADER_OR_FOLLOWER);
	st_stop(st);
	st_destroy(st);

	/* The start survives a restart. */
	st = start();
	r = req(ST_REQ_OFFSET, 1, 9);
	r.offset.timestamp = ST_OFFSET_EARLIEST;
	cpl = call(st, 0, &r);
	cr_assert_eq(cpl.offset.offset, 20);
	r.offset.timestamp = ST_OFFSET_LATEST;
	cr_assert_eq(call(st, 0, &r).offset.offset, 23);
	st_stop(st);
	st_destroy(st);
	free(b0);
	free(b1);
}
