/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/cleaner_log.c and cleaner_swap.c on the simulated sio: a
 * keyed log with updates and tombstones (plain and compressed batches) is
 * compacted by cleaner_log_clean() and swapped in by cleaner_swap_plog(),
 * then read back from the segment files and through plog_read() and
 * compared with an in-test model: the latest record per key in the closed
 * segments, the active segment byte for byte untouched, offsets unchanged,
 * tombstones gone after delete.retention.ms; the result survives a reopen;
 * and stopping after each step of the swap and reopening (recovery) leaves
 * the old segment or the new one, never a mix. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "storage/cleaner_int.h"
#include "tests/sim/sio_sim.h"
#include "tests/unit/storage/tkeyed.h"
#include "tests/unit/storage/tplog.h"

#define KEYS 13
#define MODEL_MAX TK_RECORDS_MAX

TP_TEST_SUITE(cleaner_log, 71);

struct model {
	struct tk_read recs[MODEL_MAX];
	int count;
};

static struct model model;
static struct cleaner_map map;
static int swap_last_step = CLEANER_SWAP_LOG;   /* < LOG: stop after that step */
static int swaps;

static void
cl_config(void)
{
	tp.cfg.compact = true;
	tp.cfg.delete_retention_ms = 1000;
	tp.cfg.min_cleanable_dirty_ratio = 0.0;
	tp.cfg.max_compaction_lag_ms = INT64_MAX;
	tp.cfg.index_interval_bytes = 200;
}

/* Append batches of per records (keys cycling pseudo-randomly, every 5th
 * a tombstone) with codec, each landing before the next. */
static void
produce(int batches, int per, int codec, uint32_t seed)
{
	struct tk_rec recs[64];

	for (int b = 0; b < batches; b++) {
		struct tk_batch tb = { recs, per, codec, 0, tp.now_ms, -1, -1, -1 };
		struct plog_append *app;
		uint32_t len;
		uint8_t *batch;

		for (int i = 0; i < per; i++) {
			seed = seed * 1103515245u + 12345u;
			recs[i].key = (int)((seed >> 16) % KEYS);
			recs[i].value = (seed >> 8) % 5 == 0 ? -1 : model.count + i;
		}
		batch = tk_build(&tb, &len);
		app = tp_append(&tp, batch, len, 1);
		tp_run(&tp);
		cr_assert_eq(app->error, 0);
		for (int i = 0; i < per; i++) {
			struct tk_read *r = &model.recs[model.count++];

			r->offset = app->base_offset + i;
			r->key = recs[i].key;
			r->value = recs[i].value;
		}
	}
}

static int64_t
seg_of(const int64_t *bases, int n, int64_t offset)
{
	int64_t b = bases[0];

	for (int i = 0; i < n && bases[i] <= offset; i++)
		b = bases[i];
	return b;
}

/* The model after cleaning the segments whose bases are in cleaned[]:
 * there, only each key's latest record below active_base remains
 * (tombstones too unless drop_tombstones). */
static void
expect(struct model *out, const int64_t *bases, int nbases, const int64_t *cleaned, int ncleaned,
       int64_t active_base, bool drop_tombstones)
{
	out->count = 0;
	for (int i = 0; i < model.count; i++) {
		const struct tk_read *r = &model.recs[i];
		int64_t seg = seg_of(bases, nbases, r->offset);
		bool in_cleaned = false, latest = true;

		for (int k = 0; k < ncleaned; k++)
			in_cleaned |= cleaned[k] == seg;
		if (r->offset >= active_base || !in_cleaned) {
			out->recs[out->count++] = *r;
			continue;
		}
		for (int j = i + 1; j < model.count; j++)
			if (model.recs[j].key == r->key && model.recs[j].offset < active_base)
				latest = false;
		if (latest && !(drop_tombstones && r->value < 0))
			out->recs[out->count++] = *r;
	}
}

static void
check_log(const struct model *want)
{
	struct tk_log *got = calloc(1, sizeof(*got));

	tk_read_plog(tp.plog, got);
	cr_assert_eq(got->count, want->count, "records: got %d, want %d", got->count,
		     want->count);
	for (int i = 0; i < want->count; i++) {
		cr_assert_eq(got->recs[i].offset, want->recs[i].offset, "record %d", i);
		cr_assert_eq(got->recs[i].key, want->recs[i].key, "record %d", i);
		cr_assert_eq(got->recs[i].value, want->recs[i].value, "record %d", i);
	}
	/* Every kept offset is found through the indexes. */
	for (int i = 0; i < want->count; i++) {
		struct plog_region r;
		struct rbatch_header h;

		cr_assert_eq(plog_read(tp.plog, want->recs[i].offset, 1, &r), 0);
		cr_assert_gt(r.len, 0, "offset %lld", (long long)want->recs[i].offset);
		cr_assert_eq(segment_pin(r.seg), 0);
		h = tp_region_first(&tp, &r);
		segment_unpin(r.seg);
		cr_assert_leq(h.base_offset, want->recs[i].offset);
		cr_assert_geq(h.base_offset + h.last_offset_delta, want->recs[i].offset);
	}
	free(got);
}

static void
target_of(struct cleaner_target *t)
{
	struct plog *plog = tp.plog;

	memset(t, 0, sizeof(*t));
	t->dir = plog->dir;
	t->cfg = plog->cfg;
	t->seg_count = plog->seg_count - 1;
	t->segs = calloc(t->seg_count + 1, sizeof(*t->segs));
	for (uint32_t i = 0; i < t->seg_count; i++) {
		t->segs[i].base_offset = plog->segs[i]->base_offset;
		t->segs[i].next_offset = plog->segs[i]->next_offset;
		t->segs[i].size = plog->segs[i]->size;
		t->segs[i].max_timestamp = plog->segs[i]->max_timestamp;
	}
	t->active_base = plog_active(plog)->base_offset;
}

static int
test_swap(void *arg, const struct cleaner_target *t, int64_t base, int64_t max_timestamp)
{
	(void)arg;
	swaps++;
	if (swap_last_step >= CLEANER_SWAP_LOG)
		return cleaner_swap_plog(tp.plog, base, max_timestamp, tp.now_ms);
	cr_assert_eq(cleaner_swap_files(tp.sio, t->dir, base, swap_last_step), 0);
	return -EINTR;          /* "killed" right after that step */
}

static int
clean(struct cleaner_log_stats *st)
{
	struct cleaner_ctx ctx = { .sio = tp.sio, .map = &map, .swap = test_swap };
	struct cleaner_target t;
	int rc;

	target_of(&t);
	rc = cleaner_log_clean(&ctx, &t, tp.now_ms, st);
	free(t.segs);
	return rc;
}

/* Bases of the segments, and how many. */
static int
bases_of(int64_t *bases)
{
	for (uint32_t i = 0; i < tp.plog->seg_count; i++)
		bases[i] = tp.plog->segs[i]->base_offset;
	return (int)tp.plog->seg_count;
}

static void
build_log(int codec_a, int codec_b)
{
	cl_config();
	cr_assert_eq(tp_open(&tp), 0);
	cr_assert_eq(cleaner_map_init(&map, 1024), 0);
	model.count = 0;
	swaps = 0;
	swap_last_step = CLEANER_SWAP_LOG;
	produce(6, 7, codec_a, 1);
	cr_assert_eq(plog_roll(tp.plog), 0);
	produce(5, 9, codec_b, 2);
	cr_assert_eq(plog_roll(tp.plog), 0);
	produce(4, 5, codec_a, 3);
	cr_assert_eq(plog_roll(tp.plog), 0);
	produce(2, 6, codec_b, 4);              /* the active segment */
}

static void
compacts_to_model(int codec_a, int codec_b)
{
	struct cleaner_log_stats st;
	struct model *want = calloc(1, sizeof(*want));
	int64_t bases[8], active;
	int n;

	build_log(codec_a, codec_b);
	n = bases_of(bases);
	active = bases[n - 1];
	cr_assert_eq(clean(&st), 0);
	cr_assert(st.cleaned);
	cr_assert_eq(st.segments_cleaned, 3);
	cr_assert_gt(st.bytes_reclaimed, 0);
	expect(want, bases, n, bases, n - 1, active, false);
	cr_assert_lt(want->count, model.count);
	check_log(want);
	/* Nothing dirty is left: the next pass does nothing. */
	cr_assert_eq(clean(&st), 0);
	cr_assert(!st.cleaned);
	/* It survives a reopen (recovery of the cleaned segments). */
	tp_close(&tp);
	cr_assert_eq(tp_open(&tp), 0);
	check_log(want);
	/* After delete.retention.ms the tombstones go too. */
	tp.now_ms += 2000;
	cr_assert_eq(clean(&st), 0);
	cr_assert(st.cleaned);
	expect(want, bases, n, bases, n - 1, active, true);
	check_log(want);
	cleaner_map_fini(&map);
	free(want);
}

Test(cleaner_log, compacts_plain_batches_to_model) { compacts_to_model(0, 0); }
Test(cleaner_log, compacts_gzip_and_zstd_to_model) { compacts_to_model(1, 4); }
Test(cleaner_log, compacts_snappy_and_lz4_to_model) { compacts_to_model(2, 3); }

static uint8_t *
file_bytes(const char *path, int64_t *size)
{
	int fd = sio_open(tp.sio, path, O_RDONLY, 0);
	uint8_t *buf;

	cr_assert_geq(fd, 0);
	*size = sio_size(tp.sio, fd);
	buf = malloc((size_t)*size + 1);
	cr_assert_eq(sio_pread(tp.sio, fd, buf, (size_t)*size, 0), *size);
	sio_close(tp.sio, fd);
	return buf;
}

Test(cleaner_log, leaves_the_active_segment_alone)
{
	struct cleaner_log_stats st;
	char path[SEGMENT_PATH_MAX];
	int64_t a, b;
	uint8_t *before, *after;

	build_log(0, 0);
	segment_path(tp.plog->dir, plog_active(tp.plog)->base_offset, ".log", path, sizeof(path));
	before = file_bytes(path, &a);
	cr_assert_eq(clean(&st), 0);
	after = file_bytes(path, &b);
	cr_assert_eq(a, b);
	cr_assert_eq(memcmp(before, after, (size_t)a), 0);
	/* Appends go on after the swaps, at the next offsets. */
	produce(1, 3, 0, 9);
	cr_assert_eq(model.recs[model.count - 1].offset, tp.plog->next_offset - 1);
	free(before);
	free(after);
	cleaner_map_fini(&map);
}

Test(cleaner_log, min_dirty_ratio_and_compaction_lag_hold_it_back)
{
	struct cleaner_log_stats st;

	build_log(0, 0);
	tp.plog->cfg.min_cleanable_dirty_ratio = 0.5;
	cr_assert_eq(clean(&st), 0);
	cr_assert(st.cleaned, "all dirty: ratio 1");
	produce(1, 3, 0, 11);
	cr_assert_eq(plog_roll(tp.plog), 0);
	produce(1, 3, 0, 12);
	cr_assert_eq(clean(&st), 0);
	cr_assert(!st.cleaned, "ratio %f below 0.5", st.dirty_ratio);
	cr_assert_gt(st.dirty_ratio, 0.0);
	tp.plog->cfg.min_cleanable_dirty_ratio = 0.0;
	tp.plog->cfg.min_compaction_lag_ms = 3600 * 1000;
	cr_assert_eq(clean(&st), 0);
	cr_assert(!st.cleaned, "records younger than min.compaction.lag.ms");
	/* max.compaction.lag.ms makes an old dirty segment due at any ratio. */
	tp.plog->cfg.min_compaction_lag_ms = 0;
	tp.plog->cfg.min_cleanable_dirty_ratio = 0.99;
	tp.plog->cfg.max_compaction_lag_ms = 60000;
	cr_assert_eq(clean(&st), 0);
	cr_assert(!st.cleaned);
	tp.now_ms += 120000;
	cr_assert_eq(clean(&st), 0);
	cr_assert(st.cleaned, "dirty for longer than max.compaction.lag.ms");
	cleaner_map_fini(&map);
}

/* Stop after each step of the first segment's swap, reopen (recovery),
 * and find the old segment or the cleaned one, whole. */
Test(cleaner_log, crash_at_each_swap_step_leaves_old_or_new)
{
	struct model *want = calloc(1, sizeof(*want));

	for (int step = 0; step <= CLEANER_SWAP_LOG - 1; step++) {
		struct cleaner_log_stats st;
		int64_t bases[8], active;
		int n;

		if (step > 0) {
			tp_teardown(&tp);
			tp_setup(&tp, 71 + (uint64_t)step);
		}
		build_log(step % 2 ? 4 : 0, 1);
		n = bases_of(bases);
		active = bases[n - 1];
		swap_last_step = step;
		cr_assert_lt(clean(&st), 0);
		cr_assert_eq(swaps, 1);
		tp_close(&tp);
		cr_assert_eq(tp_open(&tp), 0);
		/* Before the commit: the old set; from the commit on: the new. */
		expect(want, bases, n, bases, step >= CLEANER_SWAP_COMMIT ? 1 : 0, active, false);
		check_log(want);
		for (int e = 0; e < 3; e++) {
			char path[SEGMENT_PATH_MAX];
			static const char *const exts[] = { ".log.cleaned", ".log.swap",
							    ".index.cleaned" };

			segment_path(tp.plog->dir, bases[0], exts[e], path, sizeof(path));
			cr_assert(!sio_sim_exists(tp.sio, path), "step %d left %s", step, path);
		}
		/* And the cleaner finishes the job afterwards. */
		swap_last_step = CLEANER_SWAP_LOG;
		cr_assert_eq(clean(&st), 0);
		expect(want, bases, n, bases, n - 1, active, false);
		check_log(want);
		cleaner_map_fini(&map);
	}
	free(want);
}

/* A READ that holds a segment's region across the swap keeps reading the
 * old file through its descriptor; new reads see the cleaned segment. */
Test(cleaner_log, reads_in_flight_survive_the_swap)
{
	struct cleaner_log_stats st;
	struct plog_region r;
	struct rbatch_header before, after;
	struct model *want = calloc(1, sizeof(*want));
	int64_t bases[8];
	uint8_t *old_bytes, *again;
	int n;

	build_log(2, 0);
	n = bases_of(bases);
	cr_assert_eq(plog_read(tp.plog, 0, 1 << 20, &r), 0);
	cr_assert_gt(r.len, 0);
	cr_assert_eq(segment_hold(r.seg), 0);
	before = tp_region_first(&tp, &r);
	old_bytes = malloc((size_t)r.len);
	again = malloc((size_t)r.len);
	cr_assert_eq(sio_pread(tp.sio, r.seg->fd, old_bytes, (size_t)r.len, r.pos), r.len);
	cr_assert_eq(clean(&st), 0);
	cr_assert_eq(st.segments_cleaned, (uint64_t)n - 1);
	cr_assert_neq(tp.plog->segs[0], r.seg, "the segment was swapped");
	after = tp_region_first(&tp, &r);
	cr_assert_eq(after.base_offset, before.base_offset);
	cr_assert_eq(sio_pread(tp.sio, r.seg->fd, again, (size_t)r.len, r.pos), r.len);
	cr_assert_eq(memcmp(old_bytes, again, (size_t)r.len), 0, "old file intact");
	segment_release(r.seg);
	expect(want, bases, n, bases, n - 1, bases[n - 1], false);
	check_log(want);
	free(old_bytes);
	free(again);
	free(want);
	cleaner_map_fini(&map);
}

static void check_latest(void);

/* Read the log as a consumer does (librdkafka, Kafka's Java client): a
 * fetch at the next offset, its records at or past that offset taken, then
 * the next fetch at the last batch's lastOffset + 1, which for a cleaned
 * segment whose tail batches were all removed lies in a gap below the next
 * segment's base. max_bytes 1: one batch per fetch. */
static void
consume(struct tk_log *out)
{
	int64_t offset = tp.plog->log_start_offset;
	struct tk_log *one = calloc(1, sizeof(*one));

	memset(out, 0, sizeof(*out));
	while (offset < tp.plog->hw) {
		struct plog_region r;
		uint8_t *buf;

		cr_assert_eq(plog_read(tp.plog, offset, 1, &r), 0);
		cr_assert_gt(r.len, 0, "fetch at %lld below hw %lld returned nothing",
			     (long long)offset, (long long)tp.plog->hw);
		buf = malloc((size_t)r.len);
		cr_assert_eq(segment_pin(r.seg), 0);
		cr_assert_eq(sio_pread(tp.sio, r.seg->fd, buf, (size_t)r.len, r.pos), r.len);
		segment_unpin(r.seg);
		memset(one, 0, sizeof(*one));
		tk_parse(buf, (size_t)r.len, one);
		free(buf);
		cr_assert_gt(one->batches, 0);
		for (int i = 0; i < one->count; i++)
			if (one->recs[i].offset >= offset)
				out->recs[out->count++] = one->recs[i];
		cr_assert_gt(one->last_offsets[one->batches - 1], offset - 1);
		offset = one->last_offsets[one->batches - 1] + 1;
	}
	free(one);
}

/* What a consumer reads is what the segment files hold, record for record. */
static void
check_consumed(void)
{
	struct tk_log *files = calloc(1, sizeof(*files)), *read = calloc(1, sizeof(*read));

	tk_read_plog(tp.plog, files);
	consume(read);
	cr_assert_eq(read->count, files->count, "consumed %d records, the files hold %d",
		     read->count, files->count);
	for (int i = 0; i < files->count; i++) {
		cr_assert_eq(read->recs[i].offset, files->recs[i].offset, "record %d", i);
		cr_assert_eq(read->recs[i].key, files->recs[i].key, "record %d", i);
		cr_assert_eq(read->recs[i].value, files->recs[i].value, "record %d", i);
	}
	free(files);
	free(read);
}

/* Append one plain batch of the given keys (values: the model index). */
static void
produce_keys(const int *keys, int count)
{
	struct tk_rec recs[16];
	struct tk_batch tb = { recs, count, 0, 0, 0, -1, -1, -1 };
	struct plog_append *app;
	uint32_t len;
	uint8_t *batch;

	tb.ts = tp.now_ms;
	for (int i = 0; i < count; i++) {
		recs[i].key = keys[i];
		recs[i].value = model.count + i;
	}
	batch = tk_build(&tb, &len);
	app = tp_append(&tp, batch, len, 1);
	tp_run(&tp);
	cr_assert_eq(app->error, 0);
	for (int i = 0; i < count; i++) {
		struct tk_read *r = &model.recs[model.count++];

		r->offset = app->base_offset + i;
		r->key = keys[i];
		r->value = recs[i].value;
	}
}

/* A cleaned segment whose last batch was removed whole ends below the next
 * segment's base: the consumer's next fetch lands in that gap and must get
 * the next segment from its first batch, not from where the next segment's
 * offset index would put an offset 2^32 past its base (the test_compaction
 * failure: key-14's latest record skipped after a kill -9 and restart). */
Test(cleaner_log, a_fetch_in_the_gap_after_a_cleaned_segment_reads_the_next_from_its_start)
{
	static const int a[] = { 0, 1 }, b[] = { 2, 3 };
	struct cleaner_log_stats st;
	struct plog_region r;
	struct rbatch_header h;

	cl_config();
	cr_assert_eq(tp_open(&tp), 0);
	cr_assert_eq(cleaner_map_init(&map, 1024), 0);
	model.count = 0;
	produce_keys(a, 2);                     /* offsets 0-1: kept */
	produce_keys(b, 2);                     /* 2-3: superseded by 4-5 */
	cr_assert_eq(plog_roll(tp.plog), 0);
	produce_keys(b, 2);                     /* 4-5: the latest of keys 2 and 3 */
	for (int k = 4; k < KEYS; k += 2)     /* 6-14: one batch per two keys, kept */
		produce_keys((const int[]){ k, k + 1 }, k + 1 < KEYS ? 2 : 1);
	cr_assert_eq(plog_roll(tp.plog), 0);
	produce_keys(a, 1);                     /* the active segment */
	cr_assert_gt(tp.plog->segs[1]->oidx.entry_count, 0, "the index has entries");
	cr_assert_eq(clean(&st), 0);
	cr_assert_eq(st.segments_cleaned, 1, "only the first segment changed");
	cr_assert_eq(plog_read(tp.plog, 2, 1, &r), 0);
	cr_assert_gt(r.len, 0);
	cr_assert_eq(segment_pin(r.seg), 0);
	h = tp_region_first(&tp, &r);
	segment_unpin(r.seg);
	cr_assert_eq(h.base_offset, 4, "a fetch at 2 starts at batch %lld, not at 4",
		     (long long)h.base_offset);
	check_consumed();
	check_latest();
	cleaner_map_fini(&map);
}

/* The latest record of every key is where the model says, and every
 * record read is the model's record at its offset. */
static void
check_latest(void)
{
	struct tk_log *got = calloc(1, sizeof(*got));
	int latest[KEYS], found[KEYS];

	for (int k = 0; k < KEYS; k++)
		latest[k] = found[k] = -1;
	for (int i = 0; i < model.count; i++)
		latest[model.recs[i].key] = i;
	tk_read_plog(tp.plog, got);
	for (int i = 0, j = 0; i < got->count; i++) {
		while (j < model.count && model.recs[j].offset < got->recs[i].offset)
			j++;
		cr_assert_lt(j, model.count);
		cr_assert_eq(model.recs[j].offset, got->recs[i].offset);
		cr_assert_eq(model.recs[j].key, got->recs[i].key);
		cr_assert_eq(model.recs[j].value, got->recs[i].value);
		found[got->recs[i].key] = j;
	}
	for (int k = 0; k < KEYS; k++) {
		/* A tombstone past its horizon may be gone, with all before it. */
		if (latest[k] >= 0 && model.recs[latest[k]].value < 0 && found[k] == -1)
			continue;
		cr_assert_eq(found[k], latest[k], "key %d: latest at model %d, found %d", k,
			     latest[k], found[k]);
	}
	free(got);
}

/* Random produce / roll / clean / stop-mid-swap / reopen sequences. */
Test(cleaner_log, random_interleavings_keep_every_latest_record, .timeout = 120)
{
	for (uint32_t seed = 1; seed <= 12; seed++) {
		uint32_t rnd = seed * 2654435761u;
		struct cleaner_log_stats st;

		if (seed > 1) {
			tp_teardown(&tp);
			tp_setup(&tp, seed);
		}
		cl_config();
		tp.cfg.delete_retention_ms = 1000000;
		cr_assert_eq(tp_open(&tp), 0);
		cr_assert_eq(cleaner_map_init(&map, seed % 2 ? 64 : 4096), 0);
		model.count = 0;
		for (int step = 0; step < 40; step++) {
			rnd = rnd * 1103515245u + 12345u;
			switch ((rnd >> 16) % 7) {
			case 0:
			case 1:
				produce(1 + (int)((rnd >> 8) % 3), 1 + (int)((rnd >> 4) % 9),
					(int)((rnd >> 12) % 5), rnd);
				break;
			case 2:
				if (plog_active(tp.plog)->size > 0)
					cr_assert_eq(plog_roll(tp.plog), 0);
				break;
			case 3:
			case 4:
				swap_last_step = (rnd >> 9) % 5 == 0 ? (int)((rnd >> 3) % 3)
								     : CLEANER_SWAP_LOG;
				(void)clean(&st);
				if (swap_last_step < CLEANER_SWAP_LOG) {
					tp_close(&tp);
					cr_assert_eq(tp_open(&tp), 0);
				}
				break;
			case 5:
				if ((rnd >> 7) % 3 == 0)
					tp.now_ms += 600000;    /* horizons pass */
				/* fall through */
			default:
				tp_close(&tp);
				cr_assert_eq(tp_open(&tp), 0);
				break;
			}
			check_latest();
			check_consumed();
		}
		cleaner_map_fini(&map);
	}
}
