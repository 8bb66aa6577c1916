/* SPDX-License-Identifier: Apache-2.0 */
/* Client quota enforcement on one dataplane core (internal to protocol/):
 * which quota applies to a client (Kafka's DefaultQuotaCallback
 * precedence), Kafka's sampled Rate over quota.window.num x
 * quota.window.size.seconds, and the throttle time Kafka would send. The
 * per-client rates live in a fixed table allocated with the core: a full
 * table evicts its least recently used entry, so no client makes the core
 * hold more. No locks: each core keeps its own rates. @thread dataplane */
#ifndef PROTOCOL_KP_QUOTA_H
#define PROTOCOL_KP_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol/kp.h"

/* Kafka's quota.window.num and quota.window.size.seconds defaults. */
#define KP_QUOTA_SAMPLES 11
#define KP_QUOTA_WINDOW_MS 1000
/* Per-client rates one core keeps (producer and consumer each take one). */
#define KP_QUOTA_CLIENTS_MAX 1024
/* The principal of every connection until SASL exists. */
#define KP_QUOTA_USER_ANONYMOUS "ANONYMOUS"

/* Kafka's Rate over a WindowedSum (org.apache.kafka.common.metrics.stats,
 * 3.9): samples + 1 slots, the extra one for a sample overlapping the
 * monitored window. */
#define KP_RATE_SLOTS (KP_QUOTA_SAMPLES + 1)
struct kp_rate {
	int64_t start_ms[KP_RATE_SLOTS];        /* each sample's startTimeMs */
	int64_t last_ms[KP_RATE_SLOTS];         /* and lastEventMs */
	double value[KP_RATE_SLOTS];
	uint8_t count;                          /* samples created so far */
	uint8_t cur;
};

void kp_rate_record(struct kp_rate *r, double v, int64_t now_ms);
/* Rate.windowSize(): the elapsed ms the rate divides by. */
int64_t kp_rate_window_ms(struct kp_rate *r, int64_t now_ms);
/* Rate.measure(): units per second. */
double kp_rate_measure(struct kp_rate *r, int64_t now_ms);
/* Record v, then Kafka's throttle: 0 within bound, else
 * round((rate - bound) / bound * windowSize) (QuotaUtils.throttleTime). */
int32_t kp_rate_record_throttle(struct kp_rate *r, double v, double bound, int64_t now_ms);

/* The quota of key that applies to a client of this snapshot, and the
 * metric it is counted under (Kafka's metric tags): *tags_user says the
 * user is in the tags, *tags_client the client id. False: no quota. */
bool kp_quota_resolve(const struct kp_md *md, enum kp_quota_key key, struct kp_str client_id,
		      double *bound, bool *tags_user, bool *tags_client);

struct kp_quota_table;

struct kp_quota_table *kp_quota_table_create(void);
void kp_quota_table_destroy(struct kp_quota_table *qt);

/* One client's quota as kp_quota_resolve() found it. */
struct kp_quota_hit {
	double bound;
	bool tags_user;
	bool tags_client;
};

/* Count v under the client's resolved quota and return Kafka's throttle. */
int32_t kp_quota_record_hit(struct kp_quota_table *qt, enum kp_quota_key key,
			    const struct kp_quota_hit *hit, struct kp_str client_id, double v,
			    int64_t now_ms);

/* Count bytes for the client under key (producer or consumer byte rate)
 * and return the throttle time Kafka would send; 0 when no quota applies
 * (then nothing is counted, as Kafka records only with quotas on). */
int32_t kp_quota_record(struct kp_quota_table *qt, const struct kp_md *md, enum kp_quota_key key,
			struct kp_str client_id, double bytes, int64_t now_ms);

/* request_percentage (Kafka's ClientRequestQuotaManager): a request's
 * handling time counts as the percent of one thread's second it took, so
 * the rate is the percent of a thread the client keeps busy; its throttle
 * is capped at one quota window (maxThrottleTimeMs). */
#define KP_QUOTA_REQUEST_THROTTLE_MAX_MS KP_QUOTA_WINDOW_MS
/* Kafka's nanosToPercentage: ns x 100 / 1e9. */
double kp_quota_ns_percent(uint64_t ns);
/* Count ns of handling under the client's request_percentage quota and
 * return Kafka's throttle, bounded by KP_QUOTA_REQUEST_THROTTLE_MAX_MS. */
int32_t kp_quota_record_request(struct kp_quota_table *qt, const struct kp_quota_hit *hit,
				struct kp_str client_id, uint64_t ns, int64_t now_ms);

#endif
