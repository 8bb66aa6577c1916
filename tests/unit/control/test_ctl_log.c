/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/ctl_log.c against real storage workers in a temp dir:
 * control's ring pair is the one past the cores' (index CORES). Appends
 * complete later (never inside the call) with consecutive base offsets;
 * a scan from the log start returns every batch byte for byte with its
 * offset, then ends at the log end; an unknown partition fails both; more
 * appends than a worker ring holds wait and go through (backpressure); an
 * empty partition scans to 0. The ctl is a bare struct with only st and
 * log set: ctl_log needs nothing else. */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/rbatch.h"
#include "control/ctl_int.h"
#include "control/ctl_log.h"
#include "protocol/kp_error.h"
#include "storage/st.h"
#include "tests/unit/control/tdir.h"
#include "tests/unit/storage/tbatch.h"

#define CORES 1                 /* dataplane cores; control is index CORES */
#define PARTS 2
#define BATCHES 100             /* more than the ring's 64 slots */

static const uint8_t topic[16] = { 0x11, 0x22, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static struct ctl ctl;

static void
setup(void)
{
	struct st_config sc = { .worker_count = 2, .core_count = CORES + 1, .ring_slots = 64 };
	struct st_log_config lc = {
		.segment_bytes = 64 << 10, .segment_ms = 86400000, .retention_ms = -1,
		.retention_bytes = -1, .max_message_bytes = 1 << 20,
		.index_interval_bytes = 4096, .segment_index_bytes = 1 << 20,
		.flush_messages = INT64_MAX, .flush_ms = INT64_MAX,
		.producer_id_expiration_ms = 86400000,
	};
	char err[128];

	tdir_setup();
	sc.log_dir = tdir_path;
	memset(&ctl, 0, sizeof(ctl));
	ctl.log = ctl_log_create(CORES);
	cr_assert_not_null(ctl.log);
	ctl.st = st_create(&sc, err, sizeof(err));
	cr_assert_not_null(ctl.st, "%s", err);
	st_attach_core(ctl.st, CORES, ctl_log_eventfd(ctl.log));
	cr_assert_eq(st_start(ctl.st), 0);
	cr_assert_eq(st_partitions_open(ctl.st, topic, "__consumer_offsets", 0, PARTS, &lc), 0);
}

static void
teardown(void)
{
	st_stop(ctl.st);
	st_destroy(ctl.st);
	ctl_log_destroy(ctl.log);
	tdir_teardown();
}

TestSuite(ctl_log, .init = setup, .fini = teardown);

/* Run the loop's part until nothing is in flight (or 10 s pass). */
static void
run(void)
{
	uint64_t until = clock_mono_ns() + 10000000000ull;

	while (ctl_log_inflight(&ctl) > 0) {
		struct pollfd pfd = { .fd = ctl_log_eventfd(ctl.log), .events = POLLIN };
		uint64_t v;

		cr_assert_lt(clock_mono_ns(), until, "storage never answered");
		if (ctl_log_poll(&ctl))
			continue;
		if (poll(&pfd, 1, 10) > 0)
			cr_assert_eq(read(pfd.fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	}
}

struct appended {
	int count;
	int16_t error[BATCHES];
	int64_t base[BATCHES];
};

static void
append_done(void *arg, int16_t error, int64_t base_offset)
{
	struct appended *a = arg;

	cr_assert_lt(a->count, BATCHES);
	a->error[a->count] = error;
	a->base[a->count++] = base_offset;
}

struct scanned {
	int count;
	int ends;
	int16_t error;
	int64_t end;
	int64_t base[BATCHES];
	uint8_t *bytes[BATCHES];
	uint32_t len[BATCHES];
};

static void
scan_batch(void *arg, const uint8_t *batch, uint32_t len)
{
	struct scanned *s = arg;
	struct rbatch_header h;

	cr_assert_lt(s->count, BATCHES);
	cr_assert_eq(s->ends, 0);
	cr_assert_eq(rbatch_header_parse(batch, len, &h), 0);
	cr_assert_eq(rbatch_total_bytes(&h), len);
	s->base[s->count] = h.base_offset;
	s->bytes[s->count] = malloc(len);
	memcpy(s->bytes[s->count], batch, len);
	s->len[s->count++] = len;
}

static void
scan_end(void *arg, int16_t error, int64_t end_offset)
{
	struct scanned *s = arg;

	s->ends++;
	s->error = error;
	s->end = end_offset;
}

static void
scanned_free(struct scanned *s)
{
	for (int i = 0; i < s->count; i++)
		free(s->bytes[i]);
}

Test(ctl_log, append_then_scan_returns_every_batch)
{
	static struct appended a;
	static struct scanned s;
	uint8_t *copies[BATCHES];
	uint32_t lens[BATCHES];
	int64_t next = 0;

	memset(&a, 0, sizeof(a));
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < BATCHES; i++) {
		struct tbatch_spec spec = tbatch_spec(1 + i % 5, 100 + i, 1000 + i);
		uint8_t *b;

		spec.fill = (uint8_t)i;
		b = tbatch_build(&spec, &lens[i]);
		copies[i] = malloc(lens[i]);
		memcpy(copies[i], b, lens[i]);
		ctl_log_append(&ctl, topic, 1, b, lens[i], append_done, &a);
	}
	cr_assert_eq(a.count, 0);       /* never inside the call */
	run();
	cr_assert_eq(a.count, BATCHES);
	for (int i = 0; i < BATCHES; i++) {
		cr_assert_eq(a.error[i], KP_ERR_NONE);
		cr_assert_eq(a.base[i], next, "batch %d", i);
		next += 1 + i % 5;
	}
	ctl_log_scan(&ctl, topic, 1, scan_batch, scan_end, &s);
	cr_assert_eq(s.ends, 0);
	run();
	cr_assert_eq(s.ends, 1);
	cr_assert_eq(s.error, KP_ERR_NONE);
	cr_assert_eq(s.end, next);
	cr_assert_eq(s.count, BATCHES);
	for (int i = 0; i < BATCHES; i++) {
		cr_assert_eq(s.base[i], a.base[i]);
		cr_assert_eq(s.len[i], lens[i]);
		/* the stored batch is the appended one with its offset set */
		rbatch_set_base_offset(copies[i], a.base[i]);
		cr_assert_eq(memcmp(s.bytes[i], copies[i], 12), 0, "batch %d", i);
		cr_assert_eq(memcmp(s.bytes[i] + 16, copies[i] + 16, lens[i] - 16), 0,
			     "batch %d", i);
		free(copies[i]);
	}
	scanned_free(&s);
}

Test(ctl_log, unknown_partition_fails_append_and_scan)
{
	static struct appended a;
	static struct scanned s;
	struct tbatch_spec spec = tbatch_spec(1, 10, 1);
	uint32_t len;
	uint8_t *b = tbatch_build(&spec, &len);

	memset(&a, 0, sizeof(a));
	memset(&s, 0, sizeof(s));
	ctl_log_append(&ctl, topic, PARTS + 3, b, len, append_done, &a);
	ctl_log_scan(&ctl, topic, PARTS + 3, scan_batch, scan_end, &s);
	run();
	cr_assert_eq(a.count, 1);
	cr_assert_eq(a.error[0], KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	cr_assert_eq(a.base[0], -1);
	cr_assert_eq(s.ends, 1);
	cr_assert_eq(s.count, 0);
	cr_assert_eq(s.error, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
}

Test(ctl_log, empty_partition_scans_to_zero)
{
	static struct scanned s;

	memset(&s, 0, sizeof(s));
	ctl_log_scan(&ctl, topic, 0, scan_batch, scan_end, &s);
	run();
	cr_assert_eq(s.ends, 1);
	cr_assert_eq(s.error, KP_ERR_NONE);
	cr_assert_eq(s.count, 0);
	cr_assert_eq(s.end, 0);
}

Test(ctl_log, quiesce_finishes_what_is_in_flight)
{
	static struct appended a;

	memset(&a, 0, sizeof(a));
	for (int i = 0; i < 10; i++) {
		struct tbatch_spec spec = tbatch_spec(1, 10, i);
		uint32_t len;
		uint8_t *b = tbatch_build(&spec, &len);

		ctl_log_append(&ctl, topic, 0, b, len, append_done, &a);
	}
	ctl_log_quiesce(&ctl, 10000000000ull);
	cr_assert_eq(ctl_log_inflight(&ctl), 0);
	cr_assert_eq(a.count, 10);
}
