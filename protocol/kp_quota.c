/* SPDX-License-Identifier: Apache-2.0 */
/* Client quota enforcement on a core (protocol/kp_quota.h): Kafka's Rate
 * arithmetic, its quota precedence, and the fixed per-core table of client
 * rates. Also the quota key and entity type names, shared with control.
 * Allocates only in kp_quota_table_create(). */
#include "protocol/kp_quota.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"

const char *
kp_quota_key_name(enum kp_quota_key key)
{
	static const char *const names[KP_QUOTA_KEYS] = {
		"connection_creation_rate", "request_percentage", "producer_byte_rate",
		"consumer_byte_rate", "controller_mutation_rate",
	};

	ASSERT(key >= 0 && key < KP_QUOTA_KEYS);
	return names[key];
}

const char *
kp_quota_type_name(enum kp_quota_type type)
{
	static const char *const names[KP_QUOTA_TYPES] = { "client-id", "user", "ip" };

	ASSERT(type >= 0 && type < KP_QUOTA_TYPES);
	return names[type];
}

void
kp_quota_entity_format(const struct kp_quota_entity *entity, char *out, size_t out_size)
{
	size_t at = (size_t)snprintf(out, out_size, "ClientQuotaEntity(entries={");
	bool first = true;

	for (int t = 0; t < KP_QUOTA_TYPES && at < out_size; t++) {
		struct kp_str n = entity->name[t];

		if (!(entity->present & (1u << t)))
			continue;
		at += (size_t)snprintf(out + at, out_size - at, "%s%s=%.*s", first ? "" : ", ",
				       kp_quota_type_name((enum kp_quota_type)t),
				       n.len < 0 ? 4 : (int)n.len, n.len < 0 ? "null" : n.ptr);
		first = false;
	}
	if (at < out_size)
		snprintf(out + at, out_size - at, "})");
}

/* ---- Rate (SampledStat + WindowedSum + Rate, Kafka 3.9) ---- */

static void
kp_rate_sample_reset(struct kp_rate *r, int i, int64_t now_ms)
{
	r->start_ms[i] = now_ms;
	r->last_ms[i] = now_ms;
	r->value[i] = 0;
}

/* SampledStat.current(): the first record creates sample 0. */
static int
kp_rate_current(struct kp_rate *r, int64_t now_ms)
{
	if (r->count == 0) {
		kp_rate_sample_reset(r, 0, now_ms);
		r->count = 1;
		r->cur = 0;
	}
	return r->cur;
}

void
kp_rate_record(struct kp_rate *r, double v, int64_t now_ms)
{
	int i = kp_rate_current(r, now_ms);

	if (now_ms - r->start_ms[i] >= KP_QUOTA_WINDOW_MS) {    /* isComplete */
		r->cur = (uint8_t)((r->cur + 1) % KP_RATE_SLOTS);   /* advance */
		i = r->cur;
		if (i >= r->count)
			r->count = (uint8_t)(i + 1);
		kp_rate_sample_reset(r, i, now_ms);
	}
	r->value[i] += v;
	r->last_ms[i] = now_ms;
}

/* purgeObsoleteSamples(): samples without events in the monitored window. */
static void
kp_rate_purge(struct kp_rate *r, int64_t now_ms)
{
	for (int i = 0; i < r->count; i++)
		if (now_ms - r->last_ms[i] >= (int64_t)KP_QUOTA_SAMPLES * KP_QUOTA_WINDOW_MS)
			kp_rate_sample_reset(r, i, now_ms);
}

int64_t
kp_rate_window_ms(struct kp_rate *r, int64_t now_ms)
{
	int64_t oldest, elapsed, full;

	kp_rate_purge(r, now_ms);
	if (r->count == 0) {            /* oldest() creates a sample too */
		kp_rate_sample_reset(r, 0, now_ms);
		r->count = 1;
		r->cur = 0;
	}
	oldest = r->start_ms[0];
	for (int i = 1; i < r->count; i++)
		if (r->start_ms[i] < oldest)
			oldest = r->start_ms[i];
	elapsed = now_ms - oldest;
	full = elapsed / KP_QUOTA_WINDOW_MS;
	if (full < KP_QUOTA_SAMPLES - 1)
		elapsed += (KP_QUOTA_SAMPLES - 1 - full) * KP_QUOTA_WINDOW_MS;
	return elapsed > 1 ? elapsed : 1;
}

double
kp_rate_measure(struct kp_rate *r, int64_t now_ms)
{
	double sum = 0;

	kp_rate_purge(r, now_ms);
	for (int i = 0; i < r->count; i++)
		sum += r->value[i];
	return sum / ((double)kp_rate_window_ms(r, now_ms) / 1000.0);
}

int32_t
kp_rate_record_throttle(struct kp_rate *r, double v, double bound, int64_t now_ms)
{
	double rate, ms;

	ASSERT(bound > 0);
	kp_rate_record(r, v, now_ms);
	rate = kp_rate_measure(r, now_ms);
	if (rate <= bound)              /* Quota.acceptable(): an upper bound */
		return 0;
	ms = round((rate - bound) / bound * (double)kp_rate_window_ms(r, now_ms));
	return ms >= INT32_MAX ? INT32_MAX : (int32_t)ms;   /* Kafka's Long.toInt */
}

/* ---- which quota applies (DefaultQuotaCallback) ---- */

/* How an entity's part relates to the connection: absent, the default,
 * its own name, or another name (KP_QUOTA_OTHER: the entity does not apply). */
enum kp_quota_want { WANT_NONE, WANT_DEFAULT, WANT_OWN, KP_QUOTA_OTHER };

static enum kp_quota_want
kp_quota_part(const struct kp_quota_entity *e, int type, struct kp_str own)
{
	if (!(e->present & (1u << type)))
		return WANT_NONE;
	if (e->name[type].len < 0)
		return WANT_DEFAULT;
	return kp_str_eq(e->name[type], own) ? WANT_OWN : KP_QUOTA_OTHER;
}

/* Kafka's order: /config/users/<user>/clients/<client-id> first,
 * /config/clients/<default> last; user steps 3 and 6 count the user
 * alone, 7 and 8 the client id alone, the others both. */
static const struct {
	uint8_t user, client;
	bool tu, tc;
} kp_quota_steps[] = {
	{ WANT_OWN, WANT_OWN, true, true }, { WANT_OWN, WANT_DEFAULT, true, true },
	{ WANT_OWN, WANT_NONE, true, false }, { WANT_DEFAULT, WANT_OWN, true, true },
	{ WANT_DEFAULT, WANT_DEFAULT, true, true }, { WANT_DEFAULT, WANT_NONE, true, false },
	{ WANT_NONE, WANT_OWN, false, true }, { WANT_NONE, WANT_DEFAULT, false, true },
};
#define KP_QUOTA_STEPS ((int)(sizeof(kp_quota_steps) / sizeof(kp_quota_steps[0])))

/* q's step in the precedence for this connection, or KP_QUOTA_STEPS. */
static int
kp_quota_step(const struct kp_md_quota *q, enum kp_quota_key key, struct kp_str user,
	      struct kp_str client_id)
{
	enum kp_quota_want u, c;

	if (!(q->values.set & (1u << key)) || (q->entity.present & (1u << KP_QUOTA_IP)))
		return KP_QUOTA_STEPS;
	u = kp_quota_part(&q->entity, KP_QUOTA_USER, user);
	c = kp_quota_part(&q->entity, KP_QUOTA_CLIENT_ID, client_id);
	for (int s = 0; s < KP_QUOTA_STEPS; s++)
		if (kp_quota_steps[s].user == u && kp_quota_steps[s].client == c)
			return s;
	return KP_QUOTA_STEPS;
}

static bool
kp_quota_named_client(const struct kp_md_quota *q)
{
	return (q->entity.present & (1u << KP_QUOTA_CLIENT_ID)) &&
	       q->entity.name[KP_QUOTA_CLIENT_ID].len >= 0;
}

/* Order of the client-id names (bytes, then length). */
static int
kp_quota_name_cmp(struct kp_str a, struct kp_str b)
{
	int32_t n = a.len < b.len ? a.len : b.len;
	int c = n > 0 ? memcmp(a.ptr, b.ptr, (size_t)n) : 0;

	return c != 0 ? c : (a.len > b.len) - (a.len < b.len);
}

int
kp_md_quota_cmp(const struct kp_md_quota *a, const struct kp_md_quota *b)
{
	bool na = kp_quota_named_client(a), nb = kp_quota_named_client(b);

	if (na != nb)
		return na ? 1 : -1;
	return na ? kp_quota_name_cmp(a->entity.name[KP_QUOTA_CLIENT_ID],
				      b->entity.name[KP_QUOTA_CLIENT_ID]) : 0;
}

bool
kp_quota_resolve(const struct kp_md *md, enum kp_quota_key key, struct kp_str client_id,
		 double *bound, bool *tags_user, bool *tags_client)
{
	struct kp_str user = kp_str_c(KP_QUOTA_USER_ANONYMOUS);
	const struct kp_md_quota *best = NULL;
	int32_t i = 0, lo, hi;
	int step = KP_QUOTA_STEPS;

	if (md == NULL || md->quota_count == 0)
		return false;
	if (client_id.len < 0)
		client_id = kp_str_c("");
	/* The snapshot lists entities without a client-id name first (a few:
	 * control keeps only those that can apply), then by client-id name. */
	for (; i < md->quota_count && !kp_quota_named_client(&md->quotas[i]); i++) {
		int s = kp_quota_step(&md->quotas[i], key, user, client_id);

		if (s < step) {
			step = s;
			best = &md->quotas[i];
		}
	}
	for (lo = i, hi = md->quota_count; lo < hi;) {
		int32_t mid = lo + (hi - lo) / 2;

		struct kp_str name = md->quotas[mid].entity.name[KP_QUOTA_CLIENT_ID];

		if (kp_quota_name_cmp(name, client_id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < md->quota_count &&
		     kp_str_eq(md->quotas[i].entity.name[KP_QUOTA_CLIENT_ID], client_id); i++) {
		int s = kp_quota_step(&md->quotas[i], key, user, client_id);

		if (s < step) {
			step = s;
			best = &md->quotas[i];
		}
	}
	if (best == NULL)
		return false;
	*bound = best->values.value[key];
	*tags_user = kp_quota_steps[step].tu;
	*tags_client = kp_quota_steps[step].tc;
	return true;
}

/* ---- the per-core table ---- */

/* Slots probed from a key's hash before the least recently used of them
 * is evicted. */
#define KP_QUOTA_PROBE 8

struct kp_quota_slot {
	uint64_t key;                   /* 0: free */
	int64_t used_ms;
	struct kp_rate rate;
};

struct kp_quota_table {
	struct kp_quota_slot slots[KP_QUOTA_CLIENTS_MAX];
};

_Static_assert((KP_QUOTA_CLIENTS_MAX & (KP_QUOTA_CLIENTS_MAX - 1)) == 0,
	       "the table is indexed by a mask");

struct kp_quota_table *
kp_quota_table_create(void)
{
	return calloc(1, sizeof(struct kp_quota_table));
}

void
kp_quota_table_destroy(struct kp_quota_table *qt)
{
	free(qt);
}

/* FNV-1a over the metric's identity; never 0 (the free mark). */
static uint64_t
kp_quota_key(enum kp_quota_key key, bool tags_user, bool tags_client, struct kp_str client_id)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint8_t head[3] = { (uint8_t)key, tags_user, tags_client };

	for (size_t i = 0; i < sizeof(head); i++)
		h = (h ^ head[i]) * 0x100000001b3ull;
	for (int32_t i = 0; tags_client && i < client_id.len; i++)
		h = (h ^ (uint8_t)client_id.ptr[i]) * 0x100000001b3ull;
	return h == 0 ? 1 : h;
}

/* The slot of key: its own, a free one, or the least recently used of
 * the probed ones, reset. */
static struct kp_quota_slot *
kp_quota_slot_get(struct kp_quota_table *qt, uint64_t key)
{
	struct kp_quota_slot *victim = NULL;

	for (uint32_t p = 0; p < KP_QUOTA_PROBE; p++) {
		struct kp_quota_slot *s = &qt->slots[(key + p) & (KP_QUOTA_CLIENTS_MAX - 1)];

		if (s->key == key)
			return s;
		if (s->key == 0) {
			if (victim == NULL || victim->key != 0)
				victim = s;     /* the first free slot */
		} else if (victim == NULL || (victim->key != 0 && s->used_ms < victim->used_ms)) {
			victim = s;
		}
	}
	memset(victim, 0, sizeof(*victim));
	victim->key = key;
	return victim;
}

int32_t
kp_quota_record_hit(struct kp_quota_table *qt, enum kp_quota_key key,
		    const struct kp_quota_hit *hit, struct kp_str client_id, double v,
		    int64_t now_ms)
{
	struct kp_quota_slot *s;

	if (client_id.len < 0)
		client_id = kp_str_c("");
	s = kp_quota_slot_get(qt, kp_quota_key(key, hit->tags_user, hit->tags_client, client_id));
	s->used_ms = now_ms;
	return kp_rate_record_throttle(&s->rate, v, hit->bound, now_ms);
}

int32_t
kp_quota_record(struct kp_quota_table *qt, const struct kp_md *md, enum kp_quota_key key,
		struct kp_str client_id, double bytes, int64_t now_ms)
{
	struct kp_quota_hit hit;

	if (qt == NULL ||
	    !kp_quota_resolve(md, key, client_id, &hit.bound, &hit.tags_user, &hit.tags_client))
		return 0;
	return kp_quota_record_hit(qt, key, &hit, client_id, bytes, now_ms);
}

double
kp_quota_ns_percent(uint64_t ns)
{
	return (double)ns * (100.0 / 1e9);
}

int32_t
kp_quota_record_request(struct kp_quota_table *qt, const struct kp_quota_hit *hit,
			struct kp_str client_id, uint64_t ns, int64_t now_ms)
{
	int32_t ms = kp_quota_record_hit(qt, KP_QUOTA_REQUEST_PERCENTAGE, hit, client_id,
					 kp_quota_ns_percent(ns), now_ms);

	return MIN(ms, KP_QUOTA_REQUEST_THROTTLE_MAX_MS);
}
