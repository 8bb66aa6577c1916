/* SPDX-License-Identifier: Apache-2.0 */
/* Tests the coordinator's log (control/group/grp_log*.c) against a real ctl
 * and real storage workers in a temp dir: __consumer_offsets is created by
 * the first ensure (COORDINATOR_NOT_AVAILABLE, as Kafka answers, then
 * NONE; group requests before it get NOT_COORDINATOR); batches appended and
 * loaded back after a restart round-trip every field in offset order (last
 * wins, tombstones as NULL); a group's requests wait (LOAD_IN_PROGRESS)
 * until its partition is loaded, with a bounded number of scans in flight;
 * done runs once and never inside the commit; failed batches (too large,
 * no topic, no memory) complete later with Kafka's error codes. Cluster
 * mode: partitions load when led and unload when not (NOT_COORDINATOR),
 * stale leader epochs are ignored, a reload sees what was committed before
 * and waits for the appends of the groups unloaded. The
 * coordinator here is a double that records what loading hands to
 * membership (grp_load_group) and offsets (off_load_offset). */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/compiler.h"
#include "common/rbatch.h"
#include "control/config.h"
#include "control/ctl_int.h"
#include "control/ctl_log.h"
#include "control/group/grp_log_int.h"
#include "control/group/grp_rec.h"
#include "storage/st.h"
#include "tests/unit/control/tdir.h"

#define PARTS 3
#define EVENTS_MAX 64

/* ---- the coordinator double: records what loading calls ---- */

struct event {
	char kind;                      /* 'g': group, 'o': offset */
	char group[64];
	char topic[64];
	int32_t partition;
	bool tombstone;
	struct grp_rec_offset off;
	char metadata[64];
	int32_t generation;
	char protocol[32];
	char leader[32];
	int32_t member_count;
	char member0[32];
	int32_t assign0_len;
};

struct grp_coord {
	struct ctl *ctl;
	const struct config *cfg;
	struct grp_log *log;
	int event_count;
	struct event events[EVENTS_MAX];
};

static struct grp_coord *coord;
static bool cluster_mode;               /* the next boot starts in cluster mode */
static int32_t lead_at_start = -1;      /* cluster mode: led before the start */

static void
copy(char *dst, size_t size, struct kp_str s)
{
	snprintf(dst, size, "%.*s", s.len < 0 ? 0 : (int)s.len, s.ptr);
}

struct grp_coord *
grp_coord_create(struct ctl *ctl, const struct config *cfg)
{
	struct grp_coord *c = calloc(1, sizeof(*c));

	c->ctl = ctl;
	c->cfg = cfg;
	c->log = grp_log_create(c);
	coord = c;
	return c;
}

void
grp_coord_destroy(struct grp_coord *c)
{
	grp_log_destroy(c->log);
	free(c);
	coord = NULL;
}

void
grp_coord_start(struct grp_coord *c)
{
	if (cluster_mode)
		grp_log_set_cluster(c->log);
	if (cluster_mode && lead_at_start >= 0) {
		grp_log_partition_lead(c->log, lead_at_start, 0);
		cr_assert_eq(c->log->scans_inflight, 0, "no scan before the start");
	}
	grp_log_start(c->log);
}

void
grp_coord_set_cluster(struct grp_coord *c, bool cluster)
{
	if (cluster)
		grp_log_set_cluster(c->log);
}

void
grp_coord_partition_role(struct grp_coord *c, int32_t partition, bool leader,
			 int32_t leader_epoch)
{
	if (leader)
		grp_log_partition_lead(c->log, partition, leader_epoch);
	else
		(void)grp_log_partition_resign(c->log, partition, leader_epoch);
}

enum kp_verdict
grp_coord_handle(struct grp_coord *c, struct kp_group_call *call)
{
	(void)c;
	(void)call;
	return KP_VERDICT_CLOSE;
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

struct ctl *
grp_coord_ctl(const struct grp_coord *c)
{
	return c->ctl;
}

const struct config *
grp_coord_config(const struct grp_coord *c)
{
	return c->cfg;
}

static struct event *
event_new(struct grp_coord *c, char kind, struct kp_str group)
{
	struct event *e;

	cr_assert_lt(c->event_count, EVENTS_MAX);
	e = &c->events[c->event_count++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	copy(e->group, sizeof(e->group), group);
	return e;
}

void
grp_load_group(struct grp_coord *c, struct kp_str group_id, const struct grp_rec_group *value)
{
	struct event *e = event_new(c, 'g', group_id);

	e->tombstone = value == NULL;
	if (value == NULL)
		return;
	e->generation = value->generation;
	copy(e->protocol, sizeof(e->protocol), value->protocol);
	copy(e->leader, sizeof(e->leader), value->leader);
	e->member_count = value->member_count;
	if (value->member_count > 0) {
		copy(e->member0, sizeof(e->member0), value->members[0].member_id);
		e->assign0_len = value->members[0].assignment.len;
	}
}

void
off_load_offset(struct grp_coord *c, struct kp_str group_id, struct kp_str topic,
		int32_t partition, const struct grp_rec_offset *value)
{
	struct event *e = event_new(c, 'o', group_id);

	copy(e->topic, sizeof(e->topic), topic);
	e->partition = partition;
	e->tombstone = value == NULL;
	if (value != NULL) {
		e->off = *value;
		copy(e->metadata, sizeof(e->metadata), value->metadata);
		e->off.metadata = kp_str_c("");
	}
}

/* ---- a broker: ctl + storage workers over tdir_path ---- */

static struct config cfg;
static struct ctl *ctl;
static struct st *st;

static void
boot(const char *extra)
{
	char dirs[300], err[256];
	const char *ov[4] = { dirs, "spillway.dataplane.cores=1", "offsets.topic.num.partitions=3",
			      extra };
	struct st_config sc = { .worker_count = 1, .core_count = 2, .ring_slots = 64 };

	snprintf(dirs, sizeof(dirs), "log.dirs=%s", tdir_path);
	cr_assert_eq(config_load(&cfg, NULL, extra != NULL ? 4 : 3, ov, err, sizeof(err)), 0,
		     "%s", err);
	ctl = ctl_create(&cfg, err, sizeof(err));
	cr_assert_not_null(ctl, "%s", err);
	sc.log_dir = tdir_path;
	st = st_create(&sc, err, sizeof(err));
	cr_assert_not_null(st, "%s", err);
	cr_assert_eq(ctl_attach_storage_ring(ctl, st, NULL, 0), 0);
	cr_assert_eq(st_start(st), 0);
	cr_assert_eq(ctl_attach_storage(ctl, st), 0);   /* starts the log */
}

static void
halt(void)
{
	ctl_destroy(ctl);
	st_stop(st);
	st_destroy(st);
	config_free(&cfg);
	ctl = NULL;
}

static void
setup(void)
{
	tdir_setup();
	cluster_mode = false;
	lead_at_start = -1;
}

static void
teardown(void)
{
	if (ctl != NULL)
		halt();
	tdir_teardown();
}

TestSuite(grp_log, .init = setup, .fini = teardown);

/* Run control's storage completions until nothing is in flight. */
static void
run(void)
{
	uint64_t until = clock_mono_ns() + 10000000000ull;

	while (ctl_log_inflight(ctl) > 0) {
		struct pollfd pfd = { .fd = ctl_log_eventfd(ctl->log), .events = POLLIN };
		uint64_t v;

		cr_assert_lt(clock_mono_ns(), until, "storage never answered");
		if (ctl_log_poll(ctl))
			continue;
		if (poll(&pfd, 1, 10) > 0)
			cr_assert_eq(read(pfd.fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	}
}

struct done {
	int count;
	int16_t error;
};

static void
done_fn(void *arg, int16_t error)
{
	struct done *d = arg;

	d->count++;
	d->error = error;
}

static void
create_topic(void)
{
	cr_assert_eq(grp_log_ensure(coord->log), KP_ERR_COORDINATOR_NOT_AVAILABLE);
	cr_assert_eq(grp_log_ensure(coord->log), KP_ERR_NONE);
	cr_assert_not_null(grp_log_topic(coord->log));
}

static const struct grp_rec_member members[2] = {
	{ { "m-1", 3 }, { NULL, -1 }, { "client", 6 }, { "/127.0.0.1", 10 }, 30000, 10000,
	  { (const uint8_t *)"sub", 3 }, { (const uint8_t *)"assign", 6 } },
	{ { "m-2", 3 }, { "static", 6 }, { "client", 6 }, { "/127.0.0.1", 10 }, 30000, 10000,
	  { (const uint8_t *)"sub", 3 }, { (const uint8_t *)"", 0 } },
};

static struct grp_rec_group
group_value(int32_t generation)
{
	struct grp_rec_group v = {
		.protocol_type = kp_str_c("consumer"), .generation = generation,
		.protocol = kp_str_c("range"), .leader = kp_str_c("m-1"),
		.current_state_timestamp = 1700000000000, .member_count = 2,
		.members = members,
	};
	return v;
}

static void
commit_offset(const char *group, int32_t partition, int64_t offset, struct done *d)
{
	struct grp_log_batch *b = grp_log_batch_begin(coord->log, kp_str_c(group));
	struct grp_rec_offset o = { offset, 7, kp_str_c("meta"), 1700000000001, -1 };

	grp_log_batch_offset(b, kp_str_c("t"), partition, &o);
	grp_log_batch_commit(b, done_fn, d);
}

Test(grp_log, first_ensure_creates_the_topic_as_kafka_answers)
{
	boot(NULL);
	run();
	cr_assert_null(grp_log_topic(coord->log));
	create_topic();
	cr_assert_eq(grp_log_topic(coord->log)->partition_count, PARTS);
	/* created after start: empty, so ready at once */
	cr_assert_eq(grp_log_ready(coord->log, kp_str_c("g")), KP_ERR_NONE);
	halt();
	boot(NULL);
	cr_assert_eq(grp_log_ready(coord->log, kp_str_c("g")), KP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
	run();
	cr_assert_eq(grp_log_ready(coord->log, kp_str_c("g")), KP_ERR_NONE);
	cr_assert_eq(coord->event_count, 0);
}

Test(grp_log, without_the_topic_no_group_is_ours)
{
	boot(NULL);
	run();
	/* Kafka answers group requests before the first FindCoordinator with
	 * NOT_COORDINATOR and does not create the topic for them. */
	cr_assert_eq(grp_log_ready(coord->log, kp_str_c("g")), KP_ERR_NOT_COORDINATOR);
	cr_assert_null(grp_log_topic(coord->log));
}

Test(grp_log, batches_round_trip_through_a_restart)
{
	static struct done d1, d2;
	struct grp_rec_group v = group_value(5);
	struct grp_rec_offset o = { 42, 3, kp_str_c("hello"), 1700000000123, -1 };
	struct grp_log_batch *b;
	char group[16] = "grp-a";

	boot(NULL);
	create_topic();
	b = grp_log_batch_begin(coord->log, kp_str_c(group));
	memcpy(group, "XXXXX", 5);      /* the batch copied it */
	grp_log_batch_group(b, &v);
	grp_log_batch_offset(b, kp_str_c("topic-1"), 0, &o);
	grp_log_batch_offset(b, kp_str_c("topic-1"), 1, NULL);
	grp_log_batch_commit(b, done_fn, &d1);
	b = grp_log_batch_begin(coord->log, kp_str_c("grp-b"));
	grp_log_batch_group(b, NULL);
	grp_log_batch_commit(b, done_fn, &d2);
	cr_assert_eq(d1.count, 0);      /* never inside the commit */
	cr_assert_eq(d2.count, 0);
	run();
	cr_assert_eq(d1.count, 1);
	cr_assert_eq(d1.error, KP_ERR_NONE);
	cr_assert_eq(d2.count, 1);
	cr_assert_eq(d2.error, KP_ERR_NONE);
	cr_assert_eq(coord->event_count, 0);
	halt();

	boot(NULL);
	run();
	cr_assert_eq(coord->event_count, 4);
	struct event *e = coord->events;
	/* grp-a and grp-b may sit in different partitions: find grp-a's */
	int a = strcmp(e[0].group, "grp-a") == 0 ? 0 : 1;

	cr_assert_str_eq(e[a].group, "grp-a");
	cr_assert_eq(e[a].kind, 'g');
	cr_assert_not(e[a].tombstone);
	cr_assert_eq(e[a].generation, 5);
	cr_assert_str_eq(e[a].protocol, "range");
	cr_assert_str_eq(e[a].leader, "m-1");
	cr_assert_eq(e[a].member_count, 2);
	cr_assert_str_eq(e[a].member0, "m-1");
	cr_assert_eq(e[a].assign0_len, 6);
	cr_assert_eq(e[a + 1].kind, 'o');
	cr_assert_str_eq(e[a + 1].group, "grp-a");
	cr_assert_str_eq(e[a + 1].topic, "topic-1");
	cr_assert_eq(e[a + 1].partition, 0);
	cr_assert_eq(e[a + 1].off.offset, 42);
	cr_assert_eq(e[a + 1].off.leader_epoch, 3);
	cr_assert_str_eq(e[a + 1].metadata, "hello");
	cr_assert_eq(e[a + 1].off.commit_timestamp_ms, 1700000000123);
	cr_assert_eq(e[a + 2].kind, 'o');
	cr_assert_eq(e[a + 2].partition, 1);
	cr_assert(e[a + 2].tombstone);
	int bi = a == 0 ? 3 : 0;

	cr_assert_str_eq(e[bi].group, "grp-b");
	cr_assert_eq(e[bi].kind, 'g');
	cr_assert(e[bi].tombstone);
}

Test(grp_log, loading_keeps_offset_order)
{
	static struct done d[4];

	boot(NULL);
	create_topic();
	commit_offset("g", 0, 1, &d[0]);
	commit_offset("g", 0, 2, &d[1]);
	commit_offset("g", 0, 3, &d[2]);
	struct grp_log_batch *b = grp_log_batch_begin(coord->log, kp_str_c("g"));

	grp_log_batch_offset(b, kp_str_c("t"), 0, NULL);
	grp_log_batch_commit(b, done_fn, &d[3]);
	run();
	for (int i = 0; i < 4; i++)
		cr_assert_eq(d[i].count, 1);
	halt();
	boot(NULL);
	run();
	cr_assert_eq(coord->event_count, 4);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(coord->events[i].off.offset, i + 1);
	cr_assert(coord->events[3].tombstone);
}

Test(grp_log, ready_waits_for_the_groups_partition)
{
	static struct done d;
	const char *groups[] = { "a", "b", "c", "d", "e", "f", "g", "h" };
	bool seen[PARTS] = { false };

	boot(NULL);
	create_topic();
	for (size_t i = 0; i < ARRAY_LEN(groups); i++)
		commit_offset(groups[i], 0, 1, &d);
	run();
	cr_assert_eq(d.count, (int)ARRAY_LEN(groups));
	halt();
	boot(NULL);
	for (size_t i = 0; i < ARRAY_LEN(groups); i++) {
		seen[grp_log_partition_of(kp_str_c(groups[i]), PARTS)] = true;
		cr_assert_eq(grp_log_ready(coord->log, kp_str_c(groups[i])),
			     KP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
	}
	run();
	for (size_t i = 0; i < ARRAY_LEN(groups); i++)
		cr_assert_eq(grp_log_ready(coord->log, kp_str_c(groups[i])), KP_ERR_NONE);
	cr_assert_eq(coord->event_count, (int)ARRAY_LEN(groups));
	cr_assert(seen[0] || seen[1] || seen[2]);
}

Test(grp_log, loading_bounds_the_scans_in_flight)
{
	static struct done d;
	char name[8];

	boot("offsets.topic.num.partitions=10");
	create_topic();
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "g%d", i);
		commit_offset(name, 0, i, &d);
	}
	run();
	cr_assert_eq(d.count, 20);
	halt();
	boot("offsets.topic.num.partitions=10");
	cr_assert_eq(ctl_log_inflight(ctl), GRP_LOG_SCANS_MAX);
	cr_assert_eq(coord->log->scans_inflight, GRP_LOG_SCANS_MAX);
	run();
	cr_assert_eq(coord->log->loaded_count, 10);
	cr_assert_eq(coord->event_count, 20);
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "g%d", i);
		cr_assert_eq(grp_log_ready(coord->log, kp_str_c(name)), KP_ERR_NONE);
	}
}

Test(grp_log, too_large_batches_fail_later_with_kafkas_codes)
{
	static struct done d1, d2;
	static uint8_t big[4096];
	struct grp_rec_member m = members[0];
	struct grp_rec_group v = group_value(1);
	struct grp_log_batch *b;

	boot("message.max.bytes=2000");
	create_topic();
	m.assignment = (struct kp_bytes){ big, sizeof(big) };
	v.members = &m;
	v.member_count = 1;
	b = grp_log_batch_begin(coord->log, kp_str_c("g"));
	grp_log_batch_group(b, &v);
	grp_log_batch_commit(b, done_fn, &d1);
	b = grp_log_batch_begin(coord->log, kp_str_c("g"));
	for (int p = 0; p < 100; p++) {
		struct grp_rec_offset o = { p, -1, kp_str_c("some metadata"), 1, -1 };

		grp_log_batch_offset(b, kp_str_c("a-topic-name"), p, &o);
	}
	grp_log_batch_commit(b, done_fn, &d2);
	cr_assert_eq(d1.count, 0);
	cr_assert_eq(d2.count, 0);
	run();
	cr_assert_eq(d1.count, 1);
	cr_assert_eq(d1.error, KP_ERR_UNKNOWN_SERVER_ERROR);     /* storeGroup */
	cr_assert_eq(d2.count, 1);
	cr_assert_eq(d2.error, KP_ERR_INVALID_COMMIT_OFFSET_SIZE); /* storeOffsets */
}

Test(grp_log, no_topic_and_no_memory_fail_later)
{
	static struct done d1, d2, d3;
	struct grp_log_batch *b;

	boot(NULL);
	run();
	commit_offset("g", 0, 1, &d1);          /* no __consumer_offsets yet */
	/* What grp_log_batch_begin hands out when it cannot allocate. */
	b = &coord->log->oom_batch;
	grp_log_batch_offset(b, kp_str_c("t"), 0, NULL);
	grp_log_batch_group(b, NULL);
	grp_log_batch_commit(b, done_fn, &d2);
	grp_log_batch_commit(b, done_fn, &d3);
	cr_assert_eq(d1.count + d2.count + d3.count, 0);
	run();
	cr_assert_eq(d1.count, 1);
	cr_assert_eq(d1.error, KP_ERR_COORDINATOR_NOT_AVAILABLE);
	cr_assert_eq(d2.count, 1);
	cr_assert_eq(d2.error, KP_ERR_UNKNOWN_SERVER_ERROR);
	cr_assert_eq(d3.count, 1);
	cr_assert_eq(d3.error, KP_ERR_UNKNOWN_SERVER_ERROR);
	run();
	cr_assert_eq(d1.count + d2.count + d3.count, 3);
}

/* A stored batch with these attributes holding one group record. */
static uint8_t *
raw_batch(int16_t attributes, const char *group, uint32_t *len)
{
	struct kp_writer k, r, w;
	struct grp_rec_group v = group_value(9);
	struct kp_writer val;
	uint8_t *out;

	kp_writer_init(&k, 64);
	grp_rec_group_key_encode(&k, kp_str_c(group));
	kp_writer_init(&val, 64);
	grp_rec_group_value_encode(&val, &v);
	kp_writer_init(&r, 256);
	kp_write_i8(&r, 0);
	kp_write_varlong(&r, 0);
	kp_write_varint(&r, 0);
	kp_write_varint(&r, (int32_t)k.len);
	kp_write_raw(&r, k.buf, k.len);
	kp_write_varint(&r, (int32_t)val.len);
	kp_write_raw(&r, val.buf, val.len);
	kp_write_varint(&r, 0);
	kp_writer_init(&w, 512);
	kp_write_i64(&w, 0);
	kp_write_i32(&w, 0);
	kp_write_i32(&w, 0);
	kp_write_i8(&w, 2);
	kp_write_u32(&w, 0);
	kp_write_i16(&w, attributes);
	kp_write_i32(&w, 0);
	kp_write_i64(&w, 1);
	kp_write_i64(&w, 1);
	kp_write_i64(&w, -1);
	kp_write_i16(&w, -1);
	kp_write_i32(&w, -1);
	kp_write_i32(&w, 1);
	kp_write_varint(&w, (int32_t)r.len);
	kp_write_raw(&w, r.buf, r.len);
	kp_write_put_i32(&w, 8, (int32_t)(w.len - 12));
	out = malloc(w.len);
	memcpy(out, w.buf, w.len);
	*len = (uint32_t)w.len;
	kp_writer_free(&k);
	kp_writer_free(&val);
	kp_writer_free(&r);
	kp_writer_free(&w);
	return out;
}

Test(grp_log, control_transactional_compressed_and_malformed_batches_are_skipped)
{
	struct grp_coord c = { 0 };
	int16_t skipped[] = { RBATCH_ATTR_CONTROL, RBATCH_ATTR_TRANSACTIONAL, RBATCH_CODEC_GZIP };
	uint32_t len;
	uint8_t *b;

	for (size_t i = 0; i < ARRAY_LEN(skipped); i++) {
		b = raw_batch(skipped[i], "g", &len);
		cr_assert_eq(grp_log_load_batch(&c, 0, b, len), 0);
		free(b);
	}
	b = raw_batch(0, "g", &len);
	cr_assert_eq(grp_log_load_batch(&c, 0, b, len - 1), 0);        /* truncated */
	b[len - 1] = 5;                                 /* a header count past the end */
	cr_assert_eq(grp_log_load_batch(&c, 0, b, len), 0);
	b[len - 1] = 0;
	cr_assert_eq(grp_log_load_batch(&c, 0, b, len), 1);
	cr_assert_eq(c.event_count, 1);
	cr_assert_eq(c.events[0].generation, 9);
	free(b);
}

/* ---- cluster mode: partitions with leadership ---- */

/* Two groups in different partitions of PARTS. */
static void
two_groups(const char **a, const char **b)
{
	static const char *names[] = { "a", "b", "c", "d", "e", "f", "g", "h" };

	*a = names[0];
	for (size_t i = 1; i < ARRAY_LEN(names); i++) {
		if (grp_log_partition_of(kp_str_c(names[i]), PARTS) !=
		    grp_log_partition_of(kp_str_c(*a), PARTS)) {
			*b = names[i];
			return;
		}
	}
	cr_assert_fail("no two groups in different partitions");
}

static int32_t
part_of(const char *group)
{
	return grp_log_partition_of(kp_str_c(group), PARTS);
}

static int16_t
ready(const char *group)
{
	return grp_log_ready(coord->log, kp_str_c(group));
}

/* The topic with one offset committed for each of a and b, then a restart
 * in cluster mode. */
static void
cluster_boot(const char *a, const char *b)
{
	static struct done d;

	boot(NULL);
	create_topic();
	commit_offset(a, 0, 10, &d);
	commit_offset(b, 0, 20, &d);
	run();
	cr_assert_eq(d.count, 2);
	cr_assert_eq(d.error, KP_ERR_NONE);
	halt();
	cluster_mode = true;
	boot(NULL);
	run();
}

Test(grp_log, cluster_mode_loads_a_partition_when_led)
{
	const char *a, *b;

	two_groups(&a, &b);
	cluster_boot(a, b);
	/* Nothing loads at start: no partition is ours yet. */
	cr_assert_eq(coord->event_count, 0);
	cr_assert_eq(ready(a), KP_ERR_NOT_COORDINATOR);
	cr_assert_eq(ready(b), KP_ERR_NOT_COORDINATOR);
	cr_assert_not(grp_log_loading(coord->log));
	grp_coord_partition_role(coord, part_of(a), true, 0);
	cr_assert_eq(ready(a), KP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
	cr_assert(grp_log_loading(coord->log));
	cr_assert_eq(ready(b), KP_ERR_NOT_COORDINATOR);
	run();
	cr_assert_eq(ready(a), KP_ERR_NONE);
	cr_assert_eq(ready(b), KP_ERR_NOT_COORDINATOR);
	cr_assert_not(grp_log_loading(coord->log));
	cr_assert_eq(coord->event_count, 1);
	cr_assert_str_eq(coord->events[0].group, a);
	cr_assert_eq(coord->events[0].off.offset, 10);
	/* Led again at the same or a later epoch: already loaded, no scan. */
	grp_coord_partition_role(coord, part_of(a), true, 1);
	cr_assert_eq(ctl_log_inflight(ctl), 0);
	cr_assert_eq(ready(a), KP_ERR_NONE);
}

Test(grp_log, cluster_mode_unloads_and_reloads_what_was_committed)
{
	static struct done d;
	const char *a, *b;
	int32_t pa;

	two_groups(&a, &b);
	cluster_boot(a, b);
	pa = part_of(a);
	grp_coord_partition_role(coord, pa, true, 0);
	run();
	commit_offset(a, 1, 11, &d);           /* committed while leader */
	run();
	cr_assert_eq(d.error, KP_ERR_NONE);
	/* Not the leader any more: its groups are not ours. */
	cr_assert_eq(grp_log_partition_resign(coord->log, pa, 1), PARTS);
	cr_assert_eq(ready(a), KP_ERR_NOT_COORDINATOR);
	cr_assert_eq(grp_log_partition_resign(coord->log, pa, 1), -1);  /* not ours */
	/* A stale leadership (epoch 0 < 1) changes nothing. */
	grp_coord_partition_role(coord, pa, true, 0);
	cr_assert_eq(ready(a), KP_ERR_NOT_COORDINATOR);
	coord->event_count = 0;
	grp_coord_partition_role(coord, pa, true, 2);
	cr_assert_eq(ready(a), KP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
	run();
	cr_assert_eq(ready(a), KP_ERR_NONE);
	/* Loaded again from the log: both commits, in order. */
	cr_assert_eq(coord->event_count, 2);
	cr_assert_eq(coord->events[0].off.offset, 10);
	cr_assert_eq(coord->events[1].off.offset, 11);
	cr_assert_eq(coord->events[1].partition, 1);
	/* A stale resignation leaves it loaded. */
	cr_assert_eq(grp_log_partition_resign(coord->log, pa, 1), -1);
	cr_assert_eq(ready(a), KP_ERR_NONE);
}

Test(grp_log, cluster_mode_reload_waits_for_the_old_groups_appends)
{
	static struct done d;
	const char *a, *b;
	int32_t pa;

	two_groups(&a, &b);
	cluster_boot(a, b);
	pa = part_of(a);
	grp_coord_partition_role(coord, pa, true, 0);
	run();
	commit_offset(a, 2, 12, &d);           /* in flight across the role changes */
	cr_assert_eq(grp_log_partition_resign(coord->log, pa, 1), PARTS);
	grp_coord_partition_role(coord, pa, true, 2);
	/* Waiting: no scan until the append's callback ran. */
	cr_assert_eq(coord->log->scans_inflight, 0);
	cr_assert_eq(ready(a), KP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
	coord->event_count = 0;
	run();
	cr_assert_eq(d.count, 1);
	cr_assert_eq(ready(a), KP_ERR_NONE);
	cr_assert_eq(coord->event_count, 2);
	cr_assert_eq(coord->events[1].off.offset, 12);
}

Test(grp_log, cluster_mode_unload_during_a_scan_loads_nothing_more)
{
	const char *a, *b;
	int32_t pa;

	two_groups(&a, &b);
	cluster_boot(a, b);
	pa = part_of(a);
	grp_coord_partition_role(coord, pa, true, 0);
	cr_assert_eq(coord->log->scans_inflight, 1);
	cr_assert_eq(grp_log_partition_resign(coord->log, pa, 0), PARTS);
	run();
	cr_assert_eq(coord->event_count, 0);
	cr_assert_eq(coord->log->scans_inflight, 0);
	cr_assert_eq(ready(a), KP_ERR_NOT_COORDINATOR);
}

Test(grp_log, append_errors_map_as_kafkas_group_metadata_manager)
{
	static const struct {
		int16_t storage, offsets, group;
	} map[] = {
		{ KP_ERR_NONE, KP_ERR_NONE, KP_ERR_NONE },
		{ KP_ERR_UNKNOWN_TOPIC_OR_PARTITION, KP_ERR_COORDINATOR_NOT_AVAILABLE,
		  KP_ERR_COORDINATOR_NOT_AVAILABLE },
		{ KP_ERR_NOT_ENOUGH_REPLICAS, KP_ERR_COORDINATOR_NOT_AVAILABLE,
		  KP_ERR_COORDINATOR_NOT_AVAILABLE },
		{ KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, KP_ERR_COORDINATOR_NOT_AVAILABLE,
		  KP_ERR_COORDINATOR_NOT_AVAILABLE },
		{ KP_ERR_NOT_LEADER_OR_FOLLOWER, KP_ERR_NOT_COORDINATOR, KP_ERR_NOT_COORDINATOR },
		{ KP_ERR_KAFKA_STORAGE_ERROR, KP_ERR_NOT_COORDINATOR, KP_ERR_NOT_COORDINATOR },
		/* storeOffsets passes a timeout on; storeGroup asks for a rejoin */
		{ KP_ERR_REQUEST_TIMED_OUT, KP_ERR_REQUEST_TIMED_OUT,
		  KP_ERR_REBALANCE_IN_PROGRESS },
		{ KP_ERR_MESSAGE_TOO_LARGE, KP_ERR_INVALID_COMMIT_OFFSET_SIZE,
		  KP_ERR_UNKNOWN_SERVER_ERROR },
		{ KP_ERR_RECORD_LIST_TOO_LARGE, KP_ERR_INVALID_COMMIT_OFFSET_SIZE,
		  KP_ERR_UNKNOWN_SERVER_ERROR },
		{ KP_ERR_INVALID_FETCH_SIZE, KP_ERR_INVALID_COMMIT_OFFSET_SIZE,
		  KP_ERR_UNKNOWN_SERVER_ERROR },
		{ KP_ERR_CORRUPT_MESSAGE, KP_ERR_CORRUPT_MESSAGE, KP_ERR_CORRUPT_MESSAGE },
	};

	for (size_t i = 0; i < ARRAY_LEN(map); i++) {
		cr_assert_eq(grp_log_append_error(true, map[i].storage), map[i].offsets,
			     "offsets, storage error %d", map[i].storage);
		cr_assert_eq(grp_log_append_error(false, map[i].storage), map[i].group,
			     "group, storage error %d", map[i].storage);
	}
}

Test(grp_log, cluster_mode_a_partition_led_before_the_start_loads_at_start)
{
	const char *a, *b;

	two_groups(&a, &b);
	lead_at_start = part_of(a);
	cluster_boot(a, b);
	cr_assert_eq(ready(a), KP_ERR_NONE);
	cr_assert_eq(ready(b), KP_ERR_NOT_COORDINATOR);
	cr_assert_eq(coord->event_count, 1);
	cr_assert_str_eq(coord->events[0].group, a);
}
