/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/st.c and st_worker.c end to end on real io_uring in a temp
 * dir: two workers, two "cores" (this thread plays both), appends with
 * acks=1 and acks=all through st_submit/st_flush/st_reap, READ with a
 * segment reference and RELEASE, OFFSET, EPOCH, WATCH, unknown partitions,
 * reopen after stop (recovery on real files), and topic deletion (the
 * directory moved aside at once, removed by the reaper thread). Suite
 * st_sim runs workers (not started: admin calls run inline) on the
 * simulated sio: a create that fails midway leaves nothing, a stale
 * directory is replaced, and the start-up sweep. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/be.h"
#include "common/clock.h"
#include "common/rbatch.h"
#include "storage/st.h"
#include "storage/st_int.h"
#include "storage/txn_marker.h"
#include "tests/sim/sio_sim.h"
#include "tests/unit/storage/tbatch.h"

#define CORES 2
#define PARTS 4

static const uint8_t topic[16] = { 0xab, 0xcd, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
static char dir[64];
static int wake[CORES];

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
				.ring_slots = 64 };
	struct st_log_config lc = cfg();
	char err[128];
	struct st *st = st_create(&sc, err, sizeof(err));
	int c;

	cr_assert_not_null(st, "%s", err);
	for (c = 0; c < CORES; c++)
		st_attach_core(st, c, wake[c]);
	cr_assert_eq(st_start(st), 0);
	cr_assert_eq(st_partitions_open(st, topic, "e2e", 0, PARTS, &lc), 0);
	return st;
}

/* Wait for exactly n completions on core c. */
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
	int c;

	snprintf(dir, sizeof(dir), "/tmp/st-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	for (c = 0; c < CORES; c++)
		wake[c] = eventfd(0, EFD_NONBLOCK);
}

static void
teardown(void)
{
	char cmd[128];
	int c;

	for (c = 0; c < CORES; c++)
		close(wake[c]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(st, .init = setup, .fini = teardown);

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
append_all(struct st *st, uint8_t **bufs, int rounds)
{
	struct st_cpl cpl[CORES * PARTS];
	int64_t next[PARTS] = { 0 };
	struct tbatch_spec s;
	struct st_req r;
	uint32_t len;
	int c, p, k, i, base = 0;

	for (i = 0; i < rounds; i++) {
		for (c = 0; c < CORES; c++) {
			for (p = 0; p < PARTS; p++) {
				s = tbatch_spec(3, 100, 1000 + i);
				k = base + c * PARTS + p;
				bufs[k] = tbatch_build(&s, &len);
				r = req(ST_REQ_APPEND, p, (uint64_t)k);
				r.acks = c == 0 ? -1 : 1;
				r.append.batch = bufs[k];
				r.append.len = len;
				cr_assert(st_submit(st, c, &r));
			}
			st_flush(st, c);
		}
		for (c = 0; c < CORES; c++) {
			reap(st, c, cpl, PARTS);
			for (k = 0; k < PARTS; k++) {
				cr_assert_eq(cpl[k].type, ST_REQ_APPEND);
				cr_assert_eq(cpl[k].error, 0);
				cr_assert_eq(cpl[k].append.base_offset % 3, 0);
				cr_assert_geq(cpl[k].high_watermark, cpl[k].append.base_offset + 3);
				if (cpl[k].append.base_offset + 3 > next[cpl[k].partition])
					next[cpl[k].partition] = cpl[k].append.base_offset + 3;
			}
		}
		base += CORES * PARTS;
	}
	for (p = 0; p < PARTS; p++)
		cr_assert_eq(next[p], rounds * CORES * 3);
}

/* Wait until dir holds n entries (meta files of the test aside). */
static void
wait_dir_entries(int n)
{
	uint64_t deadline = clock_mono_ns() + 5000000000ull;
	char cmd[128];
	FILE *f;
	int got = -1;

	snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", dir);
	while (clock_mono_ns() < deadline) {
		f = popen(cmd, "r");
		cr_assert_not_null(f);
		cr_assert_eq(fscanf(f, "%d", &got), 1);
		pclose(f);
		if (got <= n)
			return;
		usleep(10000);
	}
	cr_assert_leq(got, n, "%d entries left in %s", got, dir);
}

/* DeleteRecords on partition 0 (25 records): the new start comes back,
 * errors as Kafka's, and the start survives a restart. Returns the
 * restarted storage. */
static struct st *
check_delete_records(struct st *st)
{
	struct st_cpl cpl[3];
	struct st_req r;
	unsigned i;

	r = req(ST_REQ_DELETE_RECORDS, 0, 13);
	r.delete_records.offset = 20;
	cr_assert(st_submit(st, 0, &r));
	r = req(ST_REQ_DELETE_RECORDS, 0, 14);
	r.delete_records.offset = 26;
	cr_assert(st_submit(st, 0, &r));
	r = req(ST_REQ_DELETE_RECORDS, 99, 15);
	cr_assert(st_submit(st, 0, &r));
	st_flush(st, 0);
	reap(st, 0, cpl, 3);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(cpl[i].type, ST_REQ_DELETE_RECORDS);
		if (cpl[i].token == 13)
			cr_assert(cpl[i].error == 0 && cpl[i].log_start_offset == 20);
		if (cpl[i].token == 14)
			cr_assert(cpl[i].error == 1 && cpl[i].log_start_offset == -1);
		if (cpl[i].token == 15)
			cr_assert_eq(cpl[i].error, 3);
	}
	st_stop(st);
	st_destroy(st);
	st = start();
	r = req(ST_REQ_OFFSET, 0, 16);
	r.offset.timestamp = ST_OFFSET_EARLIEST;
	cr_assert(st_submit(st, 0, &r));
	st_flush(st, 0);
	reap(st, 0, cpl, 1);
	cr_assert_eq(cpl[0].offset.offset, 20);
	cr_assert_eq(cpl[0].log_start_offset, 20);
	return st;
}

Test(st, end_to_end)
{
	uint8_t *bufs[CORES * PARTS * 4], hdr[RBATCH_HEADER_BYTES];
	struct rbatch_header h;
	struct st_cpl cpl[4];
	struct st_req r;
	struct st *st;
	unsigned i;

	st = start();
	cr_assert_neq(st_worker_of(st, topic, 0) == st_worker_of(st, topic, 1) &&
		      st_worker_of(st, topic, 1) == st_worker_of(st, topic, 2) &&
		      st_worker_of(st, topic, 2) == st_worker_of(st, topic, 3), 1,
		      "both workers own partitions");
	append_all(st, bufs, 4);

	/* READ from inside a batch: the whole batch from its start. */
	r = req(ST_REQ_READ, 2, 77);
	r.read.offset = 4;
	r.read.max_bytes = 1 << 20;
	cr_assert(st_submit(st, 1, &r));
	st_flush(st, 1);
	reap(st, 1, cpl, 1);
	cr_assert_eq(cpl[0].error, 0);
	cr_assert_eq(cpl[0].token, 77);
	cr_assert_eq(cpl[0].high_watermark, 24);
	cr_assert_eq(cpl[0].last_stable_offset, 24);
	cr_assert_gt(cpl[0].read.len, 0);
	cr_assert_eq(pread(cpl[0].read.fd, hdr, sizeof(hdr), cpl[0].read.pos), sizeof(hdr));
	rbatch_header_parse(hdr, sizeof(hdr), &h);
	cr_assert_eq(h.base_offset, 3);
	cr_assert_eq(h.partition_leader_epoch, 0);
	r = req(ST_REQ_RELEASE, 2, 0);
	r.release.ref = cpl[0].read.ref;
	cr_assert(st_submit(st, 1, &r));

	r = req(ST_REQ_OFFSET, 1, 5);
	r.offset.timestamp = ST_OFFSET_LATEST;
	cr_assert(st_submit(st, 0, &r));
	r = req(ST_REQ_EPOCH, 1, 6);
	r.epoch.leader_epoch = 0;
	cr_assert(st_submit(st, 0, &r));
	r = req(ST_REQ_READ, 99, 7);
	cr_assert(st_submit(st, 0, &r));
	r = req(ST_REQ_READ, 1, 8);
	r.read.offset = 25;
	cr_assert(st_submit(st, 0, &r));
	st_flush(st, 0);
	reap(st, 0, cpl, 4);
	for (i = 0; i < 4; i++) {
		if (cpl[i].token == 5)
			cr_assert_eq(cpl[i].offset.offset, 24);
		if (cpl[i].token == 6)
			cr_assert_eq(cpl[i].epoch.end_offset, 24);
		if (cpl[i].token == 7)
			cr_assert_eq(cpl[i].error, 3);
		if (cpl[i].token == 8)
			cr_assert_eq(cpl[i].error, 1);
	}

	/* WATCH waits for the next append. */
	r = req(ST_REQ_WATCH, 0, 9);
	r.watch.offset = 24;
	r.watch.deadline_ns = clock_mono_ns() + 5000000000ull;
	cr_assert(st_submit(st, 1, &r));
	st_flush(st, 1);
	usleep(20000);
	cr_assert_eq(st_reap(st, 1, cpl, 4), 0);
	{
		struct tbatch_spec s = tbatch_spec(1, 10, 5);
		uint32_t len;
		uint8_t *b = tbatch_build(&s, &len);

		r = req(ST_REQ_APPEND, 0, 10);
		r.acks = 1;
		r.append.batch = b;
		r.append.len = len;
		cr_assert(st_submit(st, 0, &r));
		st_flush(st, 0);
		reap(st, 1, cpl, 1);
		cr_assert_eq(cpl[0].type, ST_REQ_WATCH);
		cr_assert_eq(cpl[0].token, 9);
		reap(st, 0, cpl, 1);
		cr_assert_eq(cpl[0].append.base_offset, 24);
		free(b);
	}
	st_stop(st);
	st_destroy(st);
	for (i = 0; i < CORES * PARTS * 4; i++)
		free(bufs[i]);

	/* Reopen: recovery over real files keeps every offset. */
	st = start();
	r = req(ST_REQ_OFFSET, 0, 11);
	r.offset.timestamp = ST_OFFSET_LATEST;
	cr_assert(st_submit(st, 0, &r));
	st_flush(st, 0);
	reap(st, 0, cpl, 1);
	cr_assert_eq(cpl[0].offset.offset, 25);

	st = check_delete_records(st);

	cr_assert_eq(st_topic_delete(st, topic, "e2e", PARTS), 0);
	{
		char path[128];
		struct stat sb;

		snprintf(path, sizeof(path), "%s/e2e-0", dir);
		cr_assert_neq(stat(path, &sb), 0, "partition directory moved aside");
		wait_dir_entries(2);    /* the reaper removed the "-delete" ones */
	}
	r = req(ST_REQ_OFFSET, 0, 12);
	cr_assert(st_submit(st, 0, &r));
	st_flush(st, 0);
	reap(st, 0, cpl, 1);
	cr_assert_eq(cpl[0].error, 3);
	st_stop(st);
	st_destroy(st);
}

/* DescribeProducers' request: the owning worker lists the partition's
 * producers (malloc'd, the receiver frees it), none where no idempotent
 * batch landed, UNKNOWN_TOPIC_OR_PARTITION for a partition it lacks. */
Test(st, producers)
{
	struct tbatch_spec s = tbatch_spec(3, 10, 5000);
	struct st *st = start();
	struct st_cpl cpl[3];
	struct st_req r;
	uint32_t len;
	uint8_t *b;

	s.producer_id = 42;
	s.producer_epoch = 1;
	s.base_sequence = 0;
	b = tbatch_build(&s, &len);
	r = req(ST_REQ_APPEND, 0, 1);
	r.acks = 1;
	r.append.batch = b;
	r.append.len = len;
	cr_assert(st_submit(st, 0, &r));
	st_flush(st, 0);
	reap(st, 0, cpl, 1);
	cr_assert_eq(cpl[0].error, 0);
	for (int p = 0; p < 3; p++) {
		r = req(ST_REQ_PRODUCERS, p == 2 ? 99 : p, 10 + (uint64_t)p);
		cr_assert(st_submit(st, 0, &r));
	}
	st_flush(st, 0);
	reap(st, 0, cpl, 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(cpl[i].type, ST_REQ_PRODUCERS);
		if (cpl[i].token == 10) {
			const struct st_producer *sp = cpl[i].producers.list;

			cr_assert(cpl[i].error == 0 && cpl[i].producers.count == 1);
			cr_assert(sp->producer_id == 42 && sp->epoch == 1 &&
				  sp->last_sequence == 2 && sp->last_timestamp == 5002);
		} else if (cpl[i].token == 11) {
			cr_assert(cpl[i].error == 0 && cpl[i].producers.count == 0);
			cr_assert_null(cpl[i].producers.list);
		} else {
			cr_assert_eq(cpl[i].error, 3);
			cr_assert_eq(cpl[i].producers.count, 0);
		}
		free(cpl[i].producers.list);
	}
	free(b);
	st_stop(st);
	st_destroy(st);
}

/* One batch to partition 0 on core 0 (acks=all unless append_acks): its
 * completion. */
static int8_t append_acks = -1;

static struct st_cpl
append_one(struct st *st, uint8_t *b, uint32_t len, uint8_t flags)
{
	struct st_req r = req(ST_REQ_APPEND, 0, 1);
	struct st_cpl cpl;

	r.acks = append_acks;
	r.flags = flags;
	r.append.batch = b;
	r.append.len = len;
	cr_assert(st_submit(st, 0, &r));
	st_flush(st, 0);
	reap(st, 0, &cpl, 1);
	return cpl;
}

static uint8_t *
txn_batch(int64_t pid, int records, uint32_t *len)
{
	struct tbatch_spec s = tbatch_spec(records, 10, 5000);
	uint8_t *b;

	s.producer_id = pid;
	s.producer_epoch = 0;
	s.base_sequence = 0;
	b = tbatch_build(&s, len);
	be_write16(b + 21, be_read16(b + 21) | RBATCH_ATTR_TRANSACTIONAL);
	be_write32(b + 17, rbatch_crc_compute(b, *len));
	return b;
}

static struct st_cpl
marker(struct st *st, int64_t pid, int16_t type, uint8_t *b)
{
	struct txn_marker m = { .producer_id = pid, .type = type, .timestamp_ms = 6000 };

	txn_marker_build(&m, b);
	return append_one(st, b, TXN_MARKER_BYTES, ST_APPEND_MARKER);
}

/* READ of partition 0 from offset at an isolation level; the batches of
 * the region returned (base offsets) go to bases. */
static struct st_cpl
read_at(struct st *st, int64_t offset, int8_t isolation, int64_t *bases, int *n)
{
	struct st_req r = req(ST_REQ_READ, 0, 2);
	uint8_t hdr[RBATCH_HEADER_BYTES];
	struct rbatch_header h;
	struct st_cpl cpl;
	int64_t pos;

	r.read.offset = offset;
	r.read.max_bytes = 1 << 20;
	r.read.isolation = isolation;
	r.read.replica_id = -1;
	cr_assert(st_submit(st, 0, &r));
	st_flush(st, 0);
	reap(st, 0, &cpl, 1);
	cr_assert_eq(cpl.error, 0);
	*n = 0;
	for (pos = cpl.read.pos; cpl.read.len > 0 && pos < cpl.read.pos + cpl.read.len;
	     pos += rbatch_total_bytes(&h)) {
		cr_assert_eq(pread(cpl.read.fd, hdr, sizeof(hdr), pos), sizeof(hdr));
		rbatch_header_parse(hdr, sizeof(hdr), &h);
		bases[(*n)++] = h.base_offset;
	}
	if (cpl.read.len > 0) {
		r = req(ST_REQ_RELEASE, 0, 0);
		r.release.ref = cpl.read.ref;
		cr_assert(st_submit(st, 0, &r));
		st_flush(st, 0);
	}
	return cpl;
}

static int64_t
latest(struct st *st, int8_t isolation)
{
	struct st_req r = req(ST_REQ_OFFSET, 0, 3);
	struct st_cpl cpl;

	r.offset.timestamp = ST_OFFSET_LATEST;
	r.offset.isolation = isolation;
	cr_assert(st_submit(st, 0, &r));
	st_flush(st, 0);
	reap(st, 0, &cpl, 1);
	return cpl.offset.offset;
}

/* read_committed through the workers: the LSO bounds the read, the
 * completion lists the aborted transactions, ListOffsets LATEST = LSO. */
Test(st, read_committed)
{
	uint8_t *a, *c, *d, m1[TXN_MARKER_BYTES], m2[TXN_MARKER_BYTES];
	struct tbatch_spec s = tbatch_spec(2, 10, 5000);
	struct st *st = start();
	struct st_cpl cpl;
	int64_t bases[16];
	uint32_t len;
	int n;

	a = txn_batch(42, 3, &len);
	cr_assert_eq(append_one(st, a, len, 0).append.base_offset, 0);          /* 0-2 */
	c = tbatch_build(&s, &len);
	cr_assert_eq(append_one(st, c, len, 0).append.base_offset, 3);          /* 3-4 */
	d = txn_batch(43, 1, &len);
	cr_assert_eq(append_one(st, d, len, 0).append.base_offset, 5);          /* 5 */
	cr_assert_eq(latest(st, 1), 0);
	cpl = marker(st, 42, TXN_MARKER_ABORT, m1);                             /* 6 */
	cr_assert_eq(cpl.error, 0);
	cr_assert_eq(cpl.append.base_offset, 6);
	cr_assert_eq(cpl.last_stable_offset, 5);
	cr_assert_eq(latest(st, 1), 5);
	cr_assert_eq(latest(st, 0), 7);

	cpl = read_at(st, 0, 1, bases, &n);
	cr_assert_eq(cpl.high_watermark, 7);
	cr_assert_eq(cpl.last_stable_offset, 5);
	cr_assert(n == 2 && bases[0] == 0 && bases[1] == 3, "read_committed stops at the LSO");
	cr_assert_eq(cpl.read.aborted_count, 1);
	cr_assert(cpl.read.aborted[0].producer_id == 42 && cpl.read.aborted[0].first_offset == 0);
	free(cpl.read.aborted);
	cpl = read_at(st, 0, 0, bases, &n);
	cr_assert_eq(n, 4, "read_uncommitted reads to the high watermark");
	cr_assert_null(cpl.read.aborted);

	cr_assert_eq(marker(st, 43, TXN_MARKER_COMMIT, m2).error, 0);          /* 7 */
	cr_assert_eq(latest(st, 1), 8);
	cpl = read_at(st, 3, 1, bases, &n);
	cr_assert_eq(cpl.last_stable_offset, 8);
	cr_assert_eq(n, 4);
	cr_assert_eq(cpl.read.aborted_count, 1, "the abort's marker (6) is in the data");
	free(cpl.read.aborted);
	cpl = read_at(st, 7, 1, bases, &n);
	cr_assert_eq(cpl.read.aborted_count, 0, "ended before the fetch offset");
	cr_assert_null(cpl.read.aborted);
	free(a);
	free(c);
	free(d);
	st_stop(st);
	st_destroy(st);
}

/* More aborted transactions in a read_committed read than a completion
 * carries (ST_ABORTED_MAX): the read shrinks to its first batch and lists
 * only what overlaps it. */
Test(st, read_committed_too_many_aborts)
{
	enum { N = ST_ABORTED_MAX + 10 };
	uint8_t *bufs[N], (*marks)[TXN_MARKER_BYTES] = calloc(N, TXN_MARKER_BYTES);
	struct st *st = start();
	struct st_cpl cpl;
	int64_t bases[16];
	uint32_t len;
	int n;

	cr_assert_not_null(marks);
	append_acks = 1;
	for (int i = 0; i < N; i++) {
		bufs[i] = txn_batch(1000 + i, 1, &len);
		cr_assert_eq(append_one(st, bufs[i], len, 0).error, 0);
		cr_assert_eq(marker(st, 1000 + i, TXN_MARKER_ABORT, marks[i]).error, 0);
	}
	append_acks = -1;
	cpl = read_at(st, 0, 1, bases, &n);
	cr_assert_eq(cpl.last_stable_offset, 2 * N);
	cr_assert(n == 1 && bases[0] == 0, "only the first batch");
	cr_assert_eq(cpl.read.aborted_count, 1);
	cr_assert_eq(cpl.read.aborted[0].producer_id, 1000);
	free(cpl.read.aborted);
	cpl = read_at(st, 2 * N - 4, 1, bases, &n);
	cr_assert_eq(n, 4, "a read with few aborts is whole");
	cr_assert_eq(cpl.read.aborted_count, 2);
	free(cpl.read.aborted);
	for (int i = 0; i < N; i++)
		free(bufs[i]);
	free(marks);
	st_stop(st);
	st_destroy(st);
}

/* ---- on the simulated sio ---- */

static struct sio *sim;

static struct sio *
sim_factory(unsigned entries, int *err)
{
	(void)entries;
	*err = 0;
	return sim;
}

static struct st *
sim_st(void)
{
	struct st_config sc = { .log_dir = "/data", .worker_count = 1, .core_count = 1,
				.ring_slots = 64, .open_files_max = 4 };
	char err[128];
	struct st *st;

	sim = sio_sim_create(5);
	cr_assert_eq(sio_mkdir(sim, "/data", 0755), 0);
	st_sio_create = sim_factory;
	st = st_create(&sc, err, sizeof(err));
	cr_assert_not_null(st, "%s", err);
	return st;
}

struct sim_count {
	const char *prefix;
	int n;
};

static int
count_prefixed(void *arg, const char *name)
{
	struct sim_count *c = arg;

	if (strncmp(name, c->prefix, strlen(c->prefix)) == 0)
		c->n++;
	return 0;
}

static int
sim_dirs(const char *prefix)
{
	struct sim_count c = { prefix, 0 };

	cr_assert_eq(sio_list(sim, "/data", count_prefixed, &c), 0);
	return c.n;
}

struct sim_stats {
	int partitions;
	uint32_t files_open;
	uint32_t files_max;
	uint32_t maps_open;
};

static void
on_part(void *arg, const struct st_partition_stats *ps)
{
	struct sim_stats *ss = arg;

	(void)ps;
	ss->partitions++;
}

static void
on_worker(void *arg, const struct st_worker_stats *ws)
{
	struct sim_stats *ss = arg;

	ss->files_open += ws->files_open;
	ss->files_max += ws->files_max;
	ss->maps_open += ws->maps_open;
}

static struct sim_stats
sim_stats(struct st *st)
{
	struct sim_stats ss = { 0 };

	cr_assert_eq(st_stats_collect(st, on_part, on_worker, &ss), 0);
	return ss;
}

TestSuite(st_sim);

Test(st_sim, create_failing_midway_leaves_nothing)
{
	struct st *st = sim_st();
	struct st_log_config lc = cfg();
	struct sim_stats ss;

	static const uint8_t other[16] = { 0xee, 1 };

	/* Another topic's partition: it must stay. */
	cr_assert_eq(st_partitions_create(st, other, "other", 0, 1, &lc), 0);
	/* Opens of every kind count: this fails a few partitions in. */
	sio_sim_fail(sim, SIO_SIM_OPEN, 40, ENOSPC);
	cr_assert_eq(st_partitions_create(st, topic, "c", 0, 20, &lc), -ENOSPC);
	cr_assert_eq(sim_dirs("c-"), 0, "no directory, not even a -delete one");
	ss = sim_stats(st);
	cr_assert_eq(ss.partitions, 1, "only the other topic's partition");
	cr_assert_eq(sio_sim_fds_open(sim), ss.files_open, "no descriptor outside the cache");
	cr_assert_eq(sio_sim_maps_open(sim), ss.maps_open);
	cr_assert_leq(ss.files_open, ss.files_max);
	/* The same request again succeeds, from scratch. */
	cr_assert_eq(st_partitions_create(st, topic, "c", 0, 20, &lc), 0);
	cr_assert_eq(sim_dirs("c-"), 20);
	ss = sim_stats(st);
	cr_assert_eq(ss.partitions, 21);
	cr_assert_leq(ss.files_open, ss.files_max, "the budget");
	st_destroy(st);
}

Test(st_sim, create_replaces_a_stale_directory)
{
	struct st *st = sim_st();
	struct st_log_config lc = cfg();
	int fd;

	cr_assert_eq(sio_mkdir(sim, "/data/s-1", 0755), 0);
	fd = sio_open(sim, "/data/s-1/00000000000000000000.log", O_RDWR | O_CREAT, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(sio_pwrite(sim, fd, "stale bytes of an old incarnation", 33, 0), 33);
	sio_close(sim, fd);
	cr_assert_eq(st_partitions_create(st, topic, "s", 0, 2, &lc), 0);
	cr_assert_eq(sio_sim_file_size(sim, "/data/s-1/00000000000000000000.log"), 0);
	cr_assert_eq(sim_dirs("s-"), 2);
	/* Opening at start-up recovers instead: data there is the topic's. */
	st_destroy(st);
}

static bool
sim_known(void *arg, const char *name, int32_t partition)
{
	(void)arg;
	return strcmp(name, "k") == 0 && partition == 0;
}

Test(st_sim, log_dir_sweep)
{
	struct st *st = sim_st();

	cr_assert_eq(sio_mkdir(sim, "/data/k-0", 0755), 0);
	cr_assert_eq(sio_mkdir(sim, "/data/k-1", 0755), 0);
	cr_assert_eq(sio_mkdir(sim, "/data/k-2.0123456789abcdef0123456789abcdef-delete", 0755), 0);
	cr_assert_eq(st_log_dir_clean(st, sim_known, NULL), 0);
	cr_assert(sio_sim_exists(sim, "/data/k-0"));
	cr_assert_eq(sim_dirs("k-"), 1);
	st_destroy(st);
}
