/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/pstate.c against Kafka's idempotence rules (requirements
 * doc section 5.5): duplicates of the last 5 batches, epoch fencing, new
 * epoch from sequence 0, sequence wrap, unknown producers, expiration,
 * truncation, the snapshot round trip and its corruption check, and a table
 * that grows to many producers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/kafka_errors.h"
#include "storage/pstate.h"
#include "storage/st.h"

/* Every test starts from an empty table; chk() reports through err, dup. */
static struct pstate *ps;
static struct pstate_dup dup;
static int16_t err;

static void
setup(void)
{
	ps = pstate_create();
	cr_assert_not_null(ps);
	err = -1;
}

static void
teardown(void)
{
}

TestSuite(pstate, .init = setup, .fini = teardown);

static enum pstate_verdict
chk(struct pstate *ps, int64_t pid, int16_t epoch, int32_t first, int32_t last, int16_t *err,
    struct pstate_dup *dup)
{
	return pstate_check(ps, pid, epoch, first, last, dup, err);
}

/* Check then record, as the storage worker does; returns the verdict. */
static enum pstate_verdict
append(struct pstate *ps, int64_t pid, int16_t epoch, int32_t first, int32_t n, int64_t base,
       int64_t ts)
{
	struct pstate_dup dup;
	int16_t err;
	int32_t last = (int32_t)(((int64_t)first + n - 1) & INT32_MAX);
	enum pstate_verdict v = chk(ps, pid, epoch, first, last, &err, &dup);

	if (v == PSTATE_APPEND)
		cr_assert_eq(pstate_record(ps, pid, epoch, first, last, base, base + n - 1, ts), 0);
	return v;
}

Test(pstate, unknown_producer_accepts_any_sequence)
{
	cr_assert_eq(chk(ps, 7, 3, 12345, 12349, &err, &dup), PSTATE_APPEND);
	cr_assert_eq(err, KP_ERR_NONE);
	cr_assert_eq(pstate_producer_count(ps), 0);
}

Test(pstate, in_sequence_and_out_of_order)
{
	cr_assert_eq(append(ps, 1, 0, 0, 10, 0, 100), PSTATE_APPEND);
	cr_assert_eq(append(ps, 1, 0, 10, 5, 10, 101), PSTATE_APPEND);
	cr_assert_eq(chk(ps, 1, 0, 16, 20, &err, &dup), PSTATE_REJECT);       /* gap */
	cr_assert_eq(err, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	cr_assert_eq(chk(ps, 1, 0, 12, 16, &err, &dup), PSTATE_REJECT);       /* overlap */
	cr_assert_eq(err, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	cr_assert_eq(chk(ps, 1, 0, 15, 15, &err, &dup), PSTATE_APPEND);
	cr_assert_eq(pstate_producer_count(ps), 1);
}

Test(pstate, duplicates_of_last_five_batches)
{
	for (int i = 0; i < 6; i++)
		cr_assert_eq(append(ps, 9, 2, i * 10, 10, 1000 + i * 10, 500 + i), PSTATE_APPEND);
	/* Batches 1..5 are remembered: original offset and timestamp back. */
	for (int i = 1; i < 6; i++) {
		cr_assert_eq(chk(ps, 9, 2, i * 10, i * 10 + 9, &err, &dup), PSTATE_DUPLICATE);
		cr_assert_eq(dup.base_offset, 1000 + i * 10);
		cr_assert_eq(dup.timestamp, 500 + i);
		cr_assert_eq(err, KP_ERR_NONE);
	}
	/* Batch 0 fell out of the window: now just out of order. */
	cr_assert_eq(chk(ps, 9, 2, 0, 9, &err, &dup), PSTATE_REJECT);
	cr_assert_eq(err, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	/* Same first sequence, different last: not a duplicate. */
	cr_assert_eq(chk(ps, 9, 2, 50, 58, &err, &dup), PSTATE_REJECT);
	/* A duplicate needs the same epoch. */
	cr_assert_eq(chk(ps, 9, 3, 50, 59, &err, &dup), PSTATE_REJECT);
	cr_assert_eq(err, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
}

Test(pstate, epoch_rules)
{
	cr_assert_eq(append(ps, 4, 5, 0, 3, 0, 1), PSTATE_APPEND);
	cr_assert_eq(chk(ps, 4, 4, 3, 3, &err, &dup), PSTATE_REJECT);
	cr_assert_eq(err, KP_ERR_INVALID_PRODUCER_EPOCH);
	cr_assert_eq(chk(ps, 4, 4, 0, 2, &err, &dup), PSTATE_REJECT);        /* old epoch dup */
	cr_assert_eq(err, KP_ERR_INVALID_PRODUCER_EPOCH);
	cr_assert_eq(chk(ps, 4, 6, 3, 3, &err, &dup), PSTATE_REJECT);        /* new epoch, seq 3 */
	cr_assert_eq(err, KP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
	cr_assert_eq(append(ps, 4, 6, 0, 2, 3, 2), PSTATE_APPEND);           /* new epoch, seq 0 */
	/* The bump forgot the old epoch's batches and fences it. */
	cr_assert_eq(chk(ps, 4, 5, 0, 2, &err, &dup), PSTATE_REJECT);
	cr_assert_eq(err, KP_ERR_INVALID_PRODUCER_EPOCH);
	cr_assert_eq(chk(ps, 4, 6, 2, 2, &err, &dup), PSTATE_APPEND);
}

Test(pstate, sequence_wraps_at_int32_max)
{
	cr_assert_eq(pstate_record(ps, 2, 0, INT32_MAX - 4, INT32_MAX, 0, 4, 1), 0);
	cr_assert_eq(chk(ps, 2, 0, 0, 9, &err, &dup), PSTATE_APPEND);
	cr_assert_eq(chk(ps, 2, 0, 1, 9, &err, &dup), PSTATE_REJECT);
	/* A batch that itself wraps: first near the top, last small. */
	cr_assert_eq(pstate_record(ps, 3, 0, INT32_MAX - 1, 2, 0, 4, 1), 0);
	cr_assert_eq(chk(ps, 3, 0, INT32_MAX - 1, 2, &err, &dup), PSTATE_DUPLICATE);
	cr_assert_eq(chk(ps, 3, 0, 3, 5, &err, &dup), PSTATE_APPEND);
}

Test(pstate, expiration)
{
	cr_assert_eq(append(ps, 1, 0, 0, 1, 0, 1000), PSTATE_APPEND);
	cr_assert_eq(append(ps, 2, 0, 0, 1, 1, 5000), PSTATE_APPEND);
	pstate_expire(ps, 3999, 3000);          /* 2999 < 3000: kept */
	cr_assert_eq(pstate_producer_count(ps), 2);
	pstate_expire(ps, 4000, 3000);          /* Kafka: now - last >= expiration */
	cr_assert_eq(pstate_producer_count(ps), 1);
	/* Expired: unknown again, any sequence. */
	cr_assert_eq(chk(ps, 1, 0, 77, 77, &err, &dup), PSTATE_APPEND);
	cr_assert_eq(chk(ps, 2, 0, 77, 77, &err, &dup), PSTATE_REJECT);
}

Test(pstate, truncate)
{
	cr_assert_eq(append(ps, 1, 0, 0, 10, 0, 1), PSTATE_APPEND);     /* 0..9 */
	cr_assert_eq(append(ps, 1, 0, 10, 10, 10, 2), PSTATE_APPEND);   /* 10..19 */
	cr_assert_eq(append(ps, 2, 0, 0, 5, 20, 3), PSTATE_APPEND);     /* 20..24 */
	pstate_truncate(ps, 15);        /* a failed write from offset 15 */
	cr_assert_eq(pstate_producer_count(ps), 1);
	cr_assert_eq(chk(ps, 1, 0, 10, 19, &err, &dup), PSTATE_APPEND); /* retry is new again */
	cr_assert_eq(chk(ps, 1, 0, 0, 9, &err, &dup), PSTATE_DUPLICATE);
	cr_assert_eq(chk(ps, 2, 0, 9, 9, &err, &dup), PSTATE_APPEND);   /* producer 2 forgotten */
	pstate_truncate(ps, 0);
	cr_assert_eq(pstate_producer_count(ps), 0);
}

Test(pstate, many_producers_grow_and_remove)
{
	for (int64_t pid = 0; pid < 5000; pid++)
		cr_assert_eq(append(ps, pid * 7919, 0, 0, 1, pid, pid), PSTATE_APPEND);
	cr_assert_eq(pstate_producer_count(ps), 5000);
	pstate_expire(ps, 3000, 500);           /* drops pids with ts <= 2500 */
	cr_assert_eq(pstate_producer_count(ps), 2499);
	for (int64_t pid = 0; pid < 5000; pid++)
		cr_assert_eq(chk(ps, pid * 7919, 0, 0, 0, &err, &dup),
			     pid <= 2500 ? PSTATE_APPEND : PSTATE_DUPLICATE, "pid %ld", (long)pid);
}

Test(pstate, snapshot_round_trip)
{
	struct pstate *back = pstate_create();
	size_t n;
	uint8_t *img;

	for (int64_t pid = 0; pid < 100; pid++)
		for (int i = 0; i < (int)(pid % 7) + 1; i++)
			append(ps, pid, (int16_t)(pid % 3), i * 4, 4, pid * 100 + i * 4, 10 + i);
	n = pstate_snapshot_size(ps);
	img = malloc(n);
	pstate_snapshot_write(ps, img);
	cr_assert_eq(pstate_snapshot_read(back, img, n), 0);
	cr_assert_eq(pstate_producer_count(back), 100);
	for (int64_t pid = 0; pid < 100; pid++) {
		int top = (int)(pid % 7) + 1;
		int kept = top > PSTATE_BATCHES ? PSTATE_BATCHES : top;

		for (int i = top - kept; i < top; i++) {
			int16_t epoch = (int16_t)(pid % 3);

			cr_assert_eq(chk(back, pid, epoch, i * 4, i * 4 + 3, &err, &dup),
				     PSTATE_DUPLICATE);
			cr_assert_eq(dup.base_offset, pid * 100 + i * 4);
		}
		cr_assert_eq(chk(back, pid, (int16_t)(pid % 3), top * 4, top * 4, &err, &dup),
			     PSTATE_APPEND);
	}
	/* Same state, same image. */
	{
		uint8_t *img2 = malloc(n);

		cr_assert_eq(pstate_snapshot_size(back), n);
		pstate_snapshot_write(back, img2);
		pstate_destroy(back);
		back = pstate_create();
		cr_assert_eq(pstate_snapshot_read(back, img2, n), 0);
		free(img2);
	}
	pstate_destroy(back);
	free(img);
}

Test(pstate, snapshot_corruption_detected)
{
	size_t n;
	uint8_t *img;

	for (int64_t pid = 0; pid < 3; pid++)
		append(ps, pid, 0, 0, 2, pid * 2, 1);
	n = pstate_snapshot_size(ps);
	img = malloc(n);
	pstate_snapshot_write(ps, img);
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			struct pstate *back = pstate_create();

			img[i] ^= (uint8_t)(1u << bit);
			cr_assert_eq(pstate_snapshot_read(back, img, n), -EINVAL, "byte %zu", i);
			cr_assert_eq(pstate_producer_count(back), 0);
			img[i] ^= (uint8_t)(1u << bit);
			pstate_destroy(back);
		}
	}
	for (size_t len = 0; len < n; len++) {
		struct pstate *back = pstate_create();

		cr_assert_eq(pstate_snapshot_read(back, img, len), -EINVAL);
		pstate_destroy(back);
	}
	{
		struct pstate *empty = pstate_create(), *back = pstate_create();
		uint8_t small[64];

		cr_assert_leq(pstate_snapshot_size(empty), sizeof(small));
		pstate_snapshot_write(empty, small);
		cr_assert_eq(pstate_snapshot_read(back, small, pstate_snapshot_size(empty)), 0);
		pstate_destroy(empty);
		pstate_destroy(back);
	}
	free(img);
}

/* DescribeProducers' view: sorted by producer id, the epoch, the last
 * batch's last sequence and its timestamp; a new epoch's batches replace
 * the old ones; max bounds what is written. */
Test(pstate, list_for_describe_producers)
{
	struct st_producer out[8];

	cr_assert_eq(pstate_list(ps, out, 8), 0);
	for (int64_t pid = 9; pid >= 0; pid -= 3)               /* 9, 6, 3, 0 */
		cr_assert_eq(append(ps, pid * 1000, 0, 0, 4, pid * 10, 100 + pid), PSTATE_APPEND);
	cr_assert_eq(append(ps, 6000, 0, 4, 2, 200, 555), PSTATE_APPEND);
	cr_assert_eq(append(ps, 3000, 2, 0, 3, 210, 777), PSTATE_APPEND);  /* new epoch */
	cr_assert_eq(pstate_list(ps, out, 8), 4);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(out[i].producer_id, i * 3000, "sorted: %d", i);
	cr_assert(out[0].epoch == 0 && out[0].last_sequence == 3 && out[0].last_timestamp == 100);
	cr_assert(out[1].epoch == 2 && out[1].last_sequence == 2 && out[1].last_timestamp == 777);
	cr_assert(out[2].epoch == 0 && out[2].last_sequence == 5 && out[2].last_timestamp == 555);
	cr_assert(out[3].epoch == 0 && out[3].last_sequence == 3 && out[3].last_timestamp == 109);
	memset(out, 0xff, sizeof(out));
	cr_assert_eq(pstate_list(ps, out, 2), 2);
	cr_assert_eq(out[2].producer_id, -1, "nothing written past max");
	pstate_expire(ps, 10000, 500);
	cr_assert_eq(pstate_list(ps, out, 8), 0, "expired producers are not listed");
}
