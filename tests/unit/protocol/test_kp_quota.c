/* SPDX-License-Identifier: Apache-2.0 */
/* Tests protocol/kp_quota.c: Kafka's Rate arithmetic (window padding to
 * samples - 1 windows, sample expiry), the throttle time Kafka's
 * QuotaUtils.throttleTime gives, a client that honours its throttle
 * settling at its quota, the DefaultQuotaCallback precedence, and the
 * per-core table's bound. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/kp_quota.h"

Test(kp_rate, first_record_divides_by_ten_windows)
{
	struct kp_rate r = { 0 };

	/* Kafka pads the elapsed time to quota.window.num - 1 full windows. */
	kp_rate_record(&r, 2000, 5000);
	cr_assert_eq(kp_rate_window_ms(&r, 5000), 10000);
	cr_assert_float_eq(kp_rate_measure(&r, 5000), 200.0, 1e-9);
	cr_assert_eq(kp_rate_window_ms(&r, 5500), 10500);
}

Test(kp_rate, throttle_is_kafkas_formula)
{
	struct kp_rate r = { 0 };

	/* 2000 bytes at once, quota 100 B/s: rate 200 over a 10 s window,
	 * (200 - 100) / 100 * 10000 ms. */
	cr_assert_eq(kp_rate_record_throttle(&r, 2000, 100, 0), 10000);
	/* Within the quota: no throttle. */
	memset(&r, 0, sizeof(r));
	cr_assert_eq(kp_rate_record_throttle(&r, 1000, 100, 0), 0);
	/* 1001 bytes: rate 100.1, rounded (0.1 / 100 * 10000 = 10 ms). */
	memset(&r, 0, sizeof(r));
	cr_assert_eq(kp_rate_record_throttle(&r, 1001, 100, 0), 10);
}

Test(kp_rate, samples_expire_after_the_window)
{
	struct kp_rate r = { 0 };

	for (int64_t t = 0; t < 5000; t += 100)
		kp_rate_record(&r, 100, t);
	cr_assert_gt(kp_rate_measure(&r, 5000), 0);
	/* Nothing for quota.window.num x window.size: every sample purged. */
	cr_assert_float_eq(kp_rate_measure(&r, 5000 + 11 * 1000 + 100), 0.0, 1e-9);
}

/* A producer sending 3x its quota that waits out every throttle (as
 * clients do, KIP-219) ends up within 10% of the quota over 60 s. */
Test(kp_rate, honoured_throttle_settles_at_the_quota)
{
	const double quota = 100000, batch = 16384;
	struct kp_rate r = { 0 };
	double sent = 0;
	int64_t t = 0;

	while (t < 60000) {
		int32_t ms = kp_rate_record_throttle(&r, batch, quota, t);

		sent += batch;
		/* The client would send every 55 ms (3x the quota). */
		t += ms > 55 ? ms : 55;
	}
	cr_assert(fabs(sent / (t / 1000.0) - quota) / quota < 0.10, "rate %f",
		  sent / (t / 1000.0));
}

static struct kp_md_quota
mq(int user, const char *uname, int client, const char *cname, enum kp_quota_key key, double v)
{
	struct kp_md_quota q;

	memset(&q, 0, sizeof(q));
	for (int t = 0; t < KP_QUOTA_TYPES; t++)
		q.entity.name[t] = (struct kp_str){ NULL, -1 };
	if (user) {
		q.entity.present |= 1u << KP_QUOTA_USER;
		if (uname != NULL)
			q.entity.name[KP_QUOTA_USER] = kp_str_c(uname);
	}
	if (client) {
		q.entity.present |= 1u << KP_QUOTA_CLIENT_ID;
		if (cname != NULL)
			q.entity.name[KP_QUOTA_CLIENT_ID] = kp_str_c(cname);
	}
	q.values.set = (uint8_t)(1u << key);
	q.values.value[key] = v;
	return q;
}

static int
cmp(const void *a, const void *b)
{
	return kp_md_quota_cmp(a, b);
}

/* md over the first n of qs, sorted as control publishes them. */
static void
use(struct kp_md *md, const struct kp_md_quota *qs, int n)
{
	static struct kp_md_quota sorted[1000];

	cr_assert(n <= 1000);
	memcpy(sorted, qs, sizeof(*qs) * (size_t)n);
	qsort(sorted, (size_t)n, sizeof(*sorted), cmp);
	md->quotas = sorted;
	md->quota_count = n;
}

Test(kp_quota, lookup_among_many_client_ids)
{
	static struct kp_md_quota qs[1000];
	static char names[1000][16];
	struct kp_md md = { 0 };
	double bound;
	bool tu, tc;

	for (int i = 0; i < 1000; i++) {
		snprintf(names[i], sizeof(names[i]), "c%d", i * 7 % 1000);
		qs[i] = mq(0, NULL, 1, names[i], KP_QUOTA_PRODUCER_BYTE_RATE, i * 7 % 1000 + 1);
	}
	use(&md, qs, 1000);
	for (int i = 0; i < 1000; i += 37) {
		char want[16];

		snprintf(want, sizeof(want), "c%d", i);
		cr_assert(kp_quota_resolve(&md, KP_QUOTA_PRODUCER_BYTE_RATE, kp_str_c(want), &bound,
					   &tu, &tc));
		cr_assert_float_eq(bound, i + 1, 1e-9);
	}
	cr_assert_not(kp_quota_resolve(&md, KP_QUOTA_PRODUCER_BYTE_RATE, kp_str_c("zz"), &bound,
				       &tu, &tc));
}

Test(kp_quota, precedence_as_kafka)
{
	enum kp_quota_key P = KP_QUOTA_PRODUCER_BYTE_RATE;
	struct kp_md_quota qs[8];
	struct kp_md md = { 0 };
	double bound = 0;
	bool tu, tc;

	/* Listed least specific first, so order in the array cannot decide. */
	qs[0] = mq(0, NULL, 1, NULL, P, 8);             /* /config/clients/<default> */
	qs[1] = mq(0, NULL, 1, "app", P, 7);            /* /config/clients/app */
	qs[2] = mq(1, NULL, 0, NULL, P, 6);             /* /config/users/<default> */
	qs[3] = mq(1, NULL, 1, NULL, P, 5);
	qs[4] = mq(1, NULL, 1, "app", P, 4);
	qs[5] = mq(1, "ANONYMOUS", 0, NULL, P, 3);
	qs[6] = mq(1, "ANONYMOUS", 1, NULL, P, 2);
	qs[7] = mq(1, "ANONYMOUS", 1, "app", P, 1);
	for (int n = 8; n >= 1; n--) {
		/* With only the first n entities, the most specific applies. */
		use(&md, qs, n);
		cr_assert(kp_quota_resolve(&md, P, kp_str_c("app"), &bound, &tu, &tc));
		cr_assert_float_eq(bound, 9 - n, 1e-9, "n=%d bound=%f", n, bound);
	}
	/* Tags: user-only entities share one rate per user, client ones per
	 * client id. */
	use(&md, qs, 3);
	cr_assert(kp_quota_resolve(&md, P, kp_str_c("app"), &bound, &tu, &tc));
	cr_assert(tu && !tc);
	use(&md, qs, 2);
	cr_assert(kp_quota_resolve(&md, P, kp_str_c("app"), &bound, &tu, &tc));
	cr_assert(!tu && tc);
	/* Another client id falls to the default; another key has none. */
	cr_assert(kp_quota_resolve(&md, P, kp_str_c("other"), &bound, &tu, &tc));
	cr_assert_float_eq(bound, 8, 1e-9);
	cr_assert_not(kp_quota_resolve(&md, KP_QUOTA_CONSUMER_BYTE_RATE, kp_str_c("app"), &bound,
				       &tu, &tc));
	md.quota_count = 0;
	cr_assert_not(kp_quota_resolve(&md, P, kp_str_c("app"), &bound, &tu, &tc));
}

Test(kp_quota, table_is_bounded_and_keeps_throttling)
{
	struct kp_quota_table *qt = kp_quota_table_create();
	struct kp_md_quota q = mq(0, NULL, 1, NULL, KP_QUOTA_PRODUCER_BYTE_RATE, 100);
	struct kp_md md = { .quota_count = 1, .quotas = &q };
	char name[32];

	cr_assert_not_null(qt);
	/* Many more clients than slots: nothing grows, each gets a rate. */
	for (int i = 0; i < 4 * KP_QUOTA_CLIENTS_MAX; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		cr_assert_eq(kp_quota_record(qt, &md, KP_QUOTA_PRODUCER_BYTE_RATE, kp_str_c(name),
					     2000, i), 10000);
	}
	/* The latest client is still tracked: its rate adds up. */
	cr_assert_gt(kp_quota_record(qt, &md, KP_QUOTA_PRODUCER_BYTE_RATE, kp_str_c(name), 2000,
				     4 * KP_QUOTA_CLIENTS_MAX), 10000);
	/* No quota: nothing counted, no throttle. */
	md.quota_count = 0;
	cr_assert_eq(kp_quota_record(qt, &md, KP_QUOTA_PRODUCER_BYTE_RATE, kp_str_c(name), 1e9, 0),
		     0);
	kp_quota_table_destroy(qt);
}

Test(kp_quota, entity_format_as_kafka)
{
	struct kp_md_quota q = mq(1, NULL, 1, "x", KP_QUOTA_PRODUCER_BYTE_RATE, 1);
	char out[128];

	kp_quota_entity_format(&q.entity, out, sizeof(out));
	cr_assert_str_eq(out, "ClientQuotaEntity(entries={client-id=x, user=null})");
}

/* ---- request_percentage (ClientRequestQuotaManager) ---- */

Test(kp_quota_request, nanos_are_percent_of_a_thread_second)
{
	cr_assert_float_eq(kp_quota_ns_percent(1000000000ull), 100.0, 1e-9);
	cr_assert_float_eq(kp_quota_ns_percent(1000000ull), 0.1, 1e-12);
	cr_assert_float_eq(kp_quota_ns_percent(0), 0.0, 1e-12);
}

Test(kp_quota_request, throttle_is_kafkas_formula_bounded_by_a_window)
{
	struct kp_quota_table *qt = kp_quota_table_create();
	struct kp_quota_hit hit = { .bound = 100, .tags_client = true };
	struct kp_str id = kp_str_c("X");

	cr_assert_not_null(qt);
	/* 10.5 s of one thread's time in a fresh 10 s window: 105 %, over a
	 * 100 % quota by 5 %: (105 - 100) / 100 x 10000 ms. */
	cr_assert_eq(kp_quota_record_request(qt, &hit, id, 10500000000ull, 0), 500);
	kp_quota_table_destroy(qt);

	/* A tiny quota (0.01 %): 0.5 ms of handling is within it (0.05 over
	 * 10 s), 2 ms more is 15 s over, and the throttle is capped at
	 * quota.window.size.seconds as Kafka's maxThrottleTimeMs. */
	qt = kp_quota_table_create();
	hit.bound = 0.01;
	cr_assert_eq(kp_quota_record_request(qt, &hit, id, 500000ull, 0), 0);
	cr_assert_eq(kp_quota_record_request(qt, &hit, id, 2000000ull, 1),
		     KP_QUOTA_REQUEST_THROTTLE_MAX_MS);
	/* Another client id has its own rate. */
	cr_assert_eq(kp_quota_record_request(qt, &hit, kp_str_c("Y"), 500000ull, 1), 0);
	kp_quota_table_destroy(qt);
}
