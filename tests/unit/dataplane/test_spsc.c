/* SPDX-License-Identifier: Apache-2.0 */
/* Tests common/spsc.h (the ck_ring wrapper): capacity and FIFO order on one
 * thread, then a producer and a consumer thread passing a long numbered
 * sequence of by-value messages. Built twice: as a Criterion test, and with
 * -fsanitize=thread and -DSPSC_TSAN_MAIN as a plain program (Criterion's
 * runner does not start under TSan), where the two-thread run is the point. */
#include <pthread.h>
#include <stdint.h>

#include <stdio.h>
#include <stdlib.h>

#if defined(SPSC_TSAN_MAIN)
#define CHECK(cond) do { if (!(cond)) { fprintf(stderr, "FAIL %s:%d %s\n", \
	__FILE__, __LINE__, #cond); exit(1); } } while (0)
#else
#include <criterion/criterion.h>
#define CHECK(cond) cr_assert(cond)
#endif

#include "common/spsc.h"

struct item {
	uint64_t seq;
	uint64_t check;
	uint32_t pad[4];
};

SPSC_PROTOTYPE(item, item)

#if defined(__SANITIZE_THREAD__)
#define ITEM_COUNT 200000u
#else
#define ITEM_COUNT 2000000u
#endif

#if !defined(SPSC_TSAN_MAIN)
Test(spsc, capacity_and_order)
{
	struct spsc q;
	struct item it = { 0 };
	uint32_t i, pushed = 0;

	cr_assert_eq(spsc_init(&q, 100, sizeof(struct item)), 0);
	cr_assert_geq(q.slot_count - 1, 100u);
	for (i = 0; i < 1000; i++) {
		it.seq = i;
		if (!spsc_push_item(&q, &it))
			break;
		pushed++;
	}
	cr_assert_eq(pushed, q.slot_count - 1, "holds exactly slot_count - 1");
	cr_assert_eq(spsc_count(&q), pushed);
	for (i = 0; i < pushed; i++) {
		cr_assert(spsc_pop_item(&q, &it));
		cr_assert_eq(it.seq, i);
	}
	cr_assert_not(spsc_pop_item(&q, &it));
	spsc_fini(&q);
}

Test(spsc, bad_capacity)
{
	struct spsc q;

	cr_assert_eq(spsc_init(&q, 0, 8), -EINVAL);
}

#endif

static struct spsc ring2;

static void *
producer(void *arg)
{
	uint64_t i;

	(void)arg;
	for (i = 0; i < ITEM_COUNT; i++) {
		struct item it = { .seq = i, .check = ~i };

		while (!spsc_push_item(&ring2, &it))
			sched_yield();
	}
	return NULL;
}

/* Consumer on this thread, producer on another; checks every value. */
static void
two_threads_fifo(void)
{
	pthread_t th;
	uint64_t expect = 0;
	struct item it;

	CHECK(spsc_init(&ring2, 64, sizeof(struct item)) == 0);
	CHECK(pthread_create(&th, NULL, producer, NULL) == 0);
	while (expect < ITEM_COUNT) {
		if (!spsc_pop_item(&ring2, &it)) {
			sched_yield();
			continue;
		}
		CHECK(it.seq == expect);
		CHECK(it.check == ~expect);
		expect++;
	}
	pthread_join(th, NULL);
	CHECK(!spsc_pop_item(&ring2, &it));
	spsc_fini(&ring2);
}

#if defined(SPSC_TSAN_MAIN)
int
main(void)
{
	two_threads_fifo();
	printf("spsc: %u values through the ring under TSan\n", ITEM_COUNT);
	return 0;
}
#else
Test(spsc, two_threads_fifo, .timeout = 120)
{
	two_threads_fifo();
}
#endif
