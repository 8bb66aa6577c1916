/* SPDX-License-Identifier: Apache-2.0 */
/* Fetch (key 1), versions 4-17. Each partition's storage worker returns a
 * file region of whole batches; the response carries the regions as holes
 * that the dataplane splices from the segment files, so record bytes never
 * pass through userspace. Below min_bytes the request waits (subscribed to
 * the partitions' log ends, kp_sub.c) until data arrives or max_wait_ms
 * passes. Partitions listed more than once are merged as Kafka merges them
 * (first position, last values), known partitions before unknown ones.
 * From v13 topics are named by id (UNKNOWN_TOPIC_ID for an id the snapshot
 * does not know); from v16 a partition answered NOT_LEADER_OR_FOLLOWER or
 * FENCED_LEADER_EPOCH names its current leader, and the response the
 * leaders' endpoints (KIP-951). Fetch sessions are declined: SessionId is
 * always 0, and a request naming a session is answered
 * FETCH_SESSION_ID_NOT_FOUND. @thread dataplane */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/compiler.h"
#include "protocol/gen/kp_msg_fetch.h"
#include "protocol/kp_core_int.h"
#include "protocol/kp_quota.h"

/* The first version naming topics by id (and its length). */
#define FETCH_BY_ID 13
#define FETCH_ID_BYTES 16
/* The first version with KIP-951's leader hints. */
#define FETCH_HINTS 16

/* The request's shape (kp_core_int.h), written out rather than with
 * KP_SHAPE_DEFINE: from v13 a topic entry names its topic by id, and its
 * name for the parts is then the id's 16 bytes as they lie in the request
 * (the entry's first field), which the parts' duplicate map and topic runs
 * compare as they compare names. The snapshot is never asked by that
 * "name": fetch_topic looks topics up itself. */
static int
fetch_shape_request(struct kp_cursor *c, int16_t v, void *r, struct kp_array *out)
{
	int rc = kp_fetch_request_decode(c, v, r);

	*out = ((struct kp_fetch_request *)r)->topics;
	return rc;
}

static struct kp_str
fetch_shape_topic(struct kp_cursor *it, int16_t v, struct kp_array *out)
{
	const uint8_t *at = it->pos;
	struct kp_fetch_request_fetch_topic t;

	(void)kp_fetch_request_fetch_topic_decode(it, v, &t);
	*out = t.partitions;
	if (v >= FETCH_BY_ID)
		return (struct kp_str){ (const char *)at, FETCH_ID_BYTES };
	return t.topic;
}

static void
fetch_shape_part(struct kp_cursor *it, int16_t v, void *e)
{
	(void)kp_fetch_request_fetch_partition_decode(it, v, e);
}

static const struct kp_shape fetch_shape = { fetch_shape_request, fetch_shape_topic,
					     fetch_shape_part };

static bool fetch_again(struct kp_core *kc, struct kp_pending *p);
static void fetch_wake(struct kp_core *kc, struct kp_pending *p);
static void fetch_encode(const struct kp_pending *p, struct kp_writer *w);
static void fetch_encode_top(const struct kp_pending *p, struct kp_writer *w, int16_t top_error);

static const struct kp_pending_ops fetch_ops = {
	.shape = &fetch_shape,
	.encode = fetch_encode,
	.again = fetch_again,
	.wake = fetch_wake,
};

struct fetch_fill {
	struct kp_pending *p;
	struct kp_part_map map;
	uint32_t unknown;       /* distinct partitions unknown or not authorized */
	const struct kp_env *env;
	const struct kp_md_topic *topic; /* the current topic entry's, or NULL */
	bool by_id;             /* v13+: topic entries name ids */
	bool denied;            /* the current topic: no READ on it */
	bool hints;             /* some part names its leader (v16+) */
	/* A follower's fetch (replica_id >= 0): CLUSTER_ACTION on the
	 * cluster instead of READ on each topic, as Kafka authorizes it. */
	bool replica;
	bool cluster_action;
};

/* Each topic entry once: its topic by name or id, then READ on it,
 * checked before its existence; an id nothing has is answered
 * UNKNOWN_TOPIC_ID before any authorization (a follower without
 * CLUSTER_ACTION excepted), as Kafka's handleFetchRequest. */
static void
fetch_topic(void *arg, struct kp_str name, uint32_t first, uint32_t count)
{
	struct fetch_fill *fill = arg;
	const struct kp_md *md = fill->env->md;

	(void)first;
	(void)count;
	if (fill->by_id) {
		struct kp_uuid id;

		ASSERT(name.len == FETCH_ID_BYTES);
		memcpy(id.b, name.ptr, sizeof(id.b));
		fill->topic = kp_md_topic_by_id(md, &id);
		if (fill->topic != NULL)
			name = fill->topic->name;
	} else {
		fill->topic = kp_md_topic_by_name(md, name);
	}
	if (fill->replica)
		fill->denied = !fill->cluster_action;
	else if (fill->by_id && fill->topic == NULL)
		fill->denied = false;
	else
		fill->denied = !kp_authorize(fill->env, KP_ACL_READ, KP_RES_TOPIC, name);
}

/* A partition Kafka refuses before reading (its "erroneous" ones). */
static bool
fetch_refused(int16_t error)
{
	return error == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION ||
	       error == KP_ERR_TOPIC_AUTHORIZATION_FAILED || error == KP_ERR_UNKNOWN_TOPIC_ID;
}

/* A partition's error known before reading it. Kafka takes any negative
 * current_leader_epoch for "not set". */
static int16_t
fetch_error(const struct fetch_fill *fill, const struct kp_fetch_request_fetch_partition *fp,
	    int16_t version)
{
	int32_t epoch = version >= 9 && fp->current_leader_epoch >= 0 ? fp->current_leader_epoch
								      : -1;

	if (fill->denied)
		return KP_ERR_TOPIC_AUTHORIZATION_FAILED;
	if (fill->topic == NULL && fill->by_id)
		return KP_ERR_UNKNOWN_TOPIC_ID;
	if (!kp_visit_known(fill->topic, fp->partition))
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	return kp_leader_check(fill->env->md, fill->topic, fp->partition, epoch, true);
}

/* KIP-951 (v16+): a partition answered NOT_LEADER_OR_FOLLOWER or
 * FENCED_LEADER_EPOCH names the leader and epoch the snapshot knows
 * (Kafka's getCurrentLeader); every other part names none (-1, -1). */
static void
fetch_hint(struct fetch_fill *fill, struct kp_part *pt, int16_t version)
{
	const struct kp_md_partition *mp;

	pt->leader_id = -1;
	pt->leader_epoch = -1;
	if (version < FETCH_HINTS || (pt->error != KP_ERR_NOT_LEADER_OR_FOLLOWER &&
				      pt->error != KP_ERR_FENCED_LEADER_EPOCH))
		return;
	mp = kp_md_partition(fill->topic, pt->partition);
	ASSERT(mp != NULL);
	pt->leader_id = mp->leader;
	pt->leader_epoch = mp->leader_epoch;
	fill->hints = fill->hints || mp->leader >= 0;
}

/* A partition listing: a part at its first appearance, the values of its
 * last (Kafka's merge), one hash probe. */
static void
fetch_fill(void *arg, const struct kp_visit_part *vp)
{
	struct fetch_fill *fill = arg;
	struct kp_pending *p = fill->p;
	const struct kp_fetch_request_fetch_partition *fp = vp->entry;
	int16_t version = p->hdr.request_api_version;
	struct kp_part *pt = &p->parts[p->part_count];
	uint32_t at;

	pt->topic = vp->name;
	pt->partition = fp->partition;
	at = kp_part_map_put(&fill->map, p->parts, p->part_count);
	pt = &p->parts[at];
	pt->error = fetch_error(fill, fp, version);
	if (at == p->part_count) {
		p->part_count++;
		fill->unknown += fetch_refused(pt->error);
	}
	/* v13+: the request's id, known or not (the response names it). */
	if (fill->by_id)
		memcpy(pt->topic_id, vp->name.ptr, sizeof(pt->topic_id));
	else if (fill->topic != NULL)
		memcpy(pt->topic_id, fill->topic->id.b, sizeof(pt->topic_id));
	pt->in_offset = fp->fetch_offset;       /* the last listing wins */
	pt->part_max = fp->partition_max_bytes;
	fetch_hint(fill, pt, version);
}

/* Where Kafka's answer puts a part: the partitions it reads (0), then its
 * "erroneous" ones in the order it found them: a consumer's unknown topic
 * ids first (its first pass), then unauthorized and unknown partitions
 * (its second); a follower's in one pass. */
static int
fetch_rank(const struct kp_pending *p, int16_t error)
{
	if (!fetch_refused(error))
		return 0;
	return error == KP_ERR_UNKNOWN_TOPIC_ID && !p->replica ? 1 : 2;
}

/* Stable-sort p's parts by fetch_rank. -1 when out of memory. */
static int
fetch_order(struct kp_pending *p)
{
	uint32_t at[3] = { 0, 0, 0 };
	struct kp_part *tmp = malloc(sizeof(*tmp) * p->part_count);

	if (tmp == NULL)
		return -1;
	for (uint32_t i = 0; i < p->part_count; i++)
		at[fetch_rank(p, p->parts[i].error)]++;
	at[2] = at[0] + at[1];
	at[1] = at[0];
	at[0] = 0;
	for (uint32_t i = 0; i < p->part_count; i++)
		tmp[at[fetch_rank(p, p->parts[i].error)]++] = p->parts[i];
	memcpy(p->parts, tmp, sizeof(*tmp) * p->part_count);
	free(tmp);
	return 0;
}

/* One pass over the request: a part per distinct (topic, partition) (see
 * fetch_fill), then the parts in the order Kafka answers them (fetch_rank).
 * Linear in the request: one metadata lookup per topic entry, one hash
 * probe per partition. -1 when out of memory. */
static int
fetch_collect(struct kp_pending *p, const struct kp_env *env, bool *hints)
{
	struct fetch_fill fill = { .p = p, .env = env, .replica = p->replica,
				   .by_id = p->hdr.request_api_version >= FETCH_BY_ID };
	struct kp_fetch_request_fetch_partition entry;

	if (kp_part_map_init(&fill.map, p->part_count) != 0)
		return -1;
	if (p->replica)
		fill.cluster_action = kp_authorize(env, KP_ACL_CLUSTER_ACTION, KP_RES_CLUSTER,
						   kp_str_c(KP_ACL_CLUSTER_NAME));
	p->part_count = 0;
	/* No md: fetch_topic looks each topic up (by name or by id). */
	kp_pending_visit(p, &(struct kp_visit){ .entry = &entry, .topic = fetch_topic,
						.part = fetch_fill, .arg = &fill });
	kp_part_map_free(&fill.map);
	*hints = fill.hints;
	if (fill.unknown == 0)
		return 0;
	return fetch_order(p);
}

/* KIP-951's node_endpoints (v16+): each live leader a part names, with its
 * endpoint for the client's listener, in id order (Kafka lists them from a
 * hash map of small ids, whose order that is), copied out of the snapshot
 * into p->api. */
struct fetch_leaders {
	int32_t count;
	struct kp_fetch_response_node_endpoint items[];
	/* then the hosts and racks */
};

/* Distinct leaders one response names at most (a bound on the stack, far
 * above any cluster this broker runs in). */
#define FETCH_LEADERS_MAX 64

/* The distinct leader ids p's parts name, ascending, into ids; how many. */
static int32_t
fetch_leader_ids(const struct kp_pending *p, int32_t *ids)
{
	int32_t n = 0;

	for (uint32_t i = 0; i < p->part_count; i++) {
		int32_t id = p->parts[i].leader_id, k = n;

		if (id < 0)
			continue;
		while (k > 0 && ids[k - 1] > id)
			k--;
		if ((k > 0 && ids[k - 1] == id) || n == FETCH_LEADERS_MAX)
			continue;
		memmove(&ids[k + 1], &ids[k], sizeof(*ids) * (size_t)(n - k));
		ids[k] = id;
		n++;
	}
	return n;
}

/* p->api: the leaders' endpoints (struct fetch_leaders). -1 when out of
 * memory. */
static int
fetch_collect_leaders(struct kp_pending *p, const struct kp_env *env)
{
	int32_t ids[FETCH_LEADERS_MAX];
	const struct kp_md_endpoint *ep[FETCH_LEADERS_MAX];
	const struct kp_md_broker *b[FETCH_LEADERS_MAX];
	int32_t count = fetch_leader_ids(p, ids), n = 0;
	struct fetch_leaders *out;
	size_t bytes = 0;
	char *pos;

	for (int32_t i = 0; i < count; i++) {
		b[n] = kp_md_broker(env->md, ids[i]);
		ep[n] = b[n] != NULL ? kp_md_broker_endpoint(env->md, b[n], env->session) : NULL;
		if (ep[n] == NULL)
			continue;       /* not alive, or not on this listener */
		bytes += strlen(ep[n]->host) + 1;
		bytes += b[n]->rack != NULL ? strlen(b[n]->rack) + 1 : 0;
		n++;
	}
	if (n == 0)
		return 0;
	out = malloc(sizeof(*out) + (size_t)n * sizeof(out->items[0]) + bytes);
	if (out == NULL)
		return -1;
	pos = (char *)&out->items[n];
	for (int32_t i = 0; i < n; i++) {
		struct kp_fetch_response_node_endpoint *e = &out->items[i];

		kp_fetch_response_node_endpoint_init(e);
		e->node_id = b[i]->id;
		e->port = ep[i]->port;
		e->host = (struct kp_str){ pos, (int32_t)strlen(ep[i]->host) };
		pos = stpcpy(pos, ep[i]->host) + 1;
		if (b[i]->rack != NULL) {
			e->rack = (struct kp_str){ pos, (int32_t)strlen(b[i]->rack) };
			pos = stpcpy(pos, b[i]->rack) + 1;
		}
	}
	out->count = n;
	p->api = out;
	return 0;
}

/* Storage reads with at most this many bytes per partition: Kafka reads the
 * first partition with min(partition max, response max) and always at
 * least one batch (storage's reads do too). */
static int32_t
fetch_read_limit(const struct kp_pending *p, const struct kp_part *pt)
{
	int32_t limit = MIN(pt->part_max, p->max_bytes);

	return limit > 0 ? limit : 0;
}

/* Ask storage for every partition still without an error. */
static void
fetch_read_all(struct kp_pending *p)
{
	for (uint32_t i = 0; i < p->part_count; i++) {
		struct kp_part *pt = &p->parts[i];

		pt->op = pt->error == KP_ERR_NONE ? ST_REQ_READ : 0;
		pt->in_limit = fetch_read_limit(p, pt);
	}
}

static void
fetch_wake(struct kp_core *kc, struct kp_pending *p)
{
	fetch_read_all(p);
	for (uint32_t i = 0; i < p->part_count; i++)
		if (p->parts[i].unchanged)
			p->parts[i].op = 0;     /* its last answer stands */
	(void)kp_pending_start(kc, p);
}

struct fetch_bad {
	struct kp_writer *w;
	int16_t version;
	bool topic_open;        /* a topic entry awaits its tagged fields */
	int32_t session_id;     /* the request's */
};

static void
fetch_bad_topic(void *arg, struct kp_str name, uint32_t first, uint32_t count)
{
	struct fetch_bad *bad = arg;
	bool flexible = bad->version >= 12;

	(void)first;
	if (flexible && bad->topic_open)
		kp_write_uvarint(bad->w, 0);
	bad->topic_open = true;
	kp_write_string(bad->w, name, flexible);        /* before v13 only */
	kp_write_array_len(bad->w, (int32_t)count, flexible);
}

static void
fetch_bad_part(void *arg, const struct kp_visit_part *vp)
{
	struct fetch_bad *bad = arg;
	const struct kp_fetch_request_fetch_partition *fp = vp->entry;
	struct kp_fetch_response_partition_data pd;

	kp_fetch_response_partition_data_init(&pd);
	pd.partition_index = fp->partition;
	pd.error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
	pd.high_watermark = pd.last_stable_offset = pd.log_start_offset = -1;
	pd.aborted_transactions.count = bad->version >= 4 ? 0 : -1;
	pd.preferred_read_replica = -1;
	pd.records.ptr = NULL;
	pd.records.len = -1;
	kp_fetch_response_partition_data_encode(bad->w, bad->version, &pd);
}

/* An isolation level Kafka does not know: it answers the request with
 * UNKNOWN_SERVER_ERROR and the request's session id (FetchRequest.
 * getErrorResponse), before v13 every partition (as listed) too. */
static void
fetch_encode_bad_isolation(const struct kp_pending *p, struct kp_writer *w, int32_t session_id)
{
	struct fetch_bad bad = { w, p->hdr.request_api_version, false, session_id };
	struct kp_fetch_request_fetch_partition entry;
	bool flexible = bad.version >= 12;
	bool parts = bad.version < FETCH_BY_ID;

	kp_write_i32(w, 0);
	if (bad.version >= 7) {
		kp_write_i16(w, KP_ERR_UNKNOWN_SERVER_ERROR);
		kp_write_i32(w, bad.session_id);
	}
	kp_write_array_len(w, parts ? kp_count0(p->topics.count) : 0, flexible);
	if (parts)
		kp_pending_visit(p, &(struct kp_visit){ .entry = &entry, .topic = fetch_bad_topic,
							.part = fetch_bad_part, .arg = &bad });
	if (flexible && bad.topic_open)
		kp_write_uvarint(w, 0);
	if (flexible)
		kp_write_uvarint(w, 0);
}

/* Answer in the dispatch call without storage: the record goes back. */
static enum kp_verdict
fetch_answer_now(struct kp_core *kc, struct kp_pending *p, struct kp_call *call,
		 int16_t top_error, int32_t session_id)
{
	if (top_error == KP_ERR_UNKNOWN_SERVER_ERROR) {
		fetch_encode_bad_isolation(p, call->w, session_id);
	} else {
		p->part_count = 0;
		fetch_encode_top(p, call->w, top_error);
	}
	kp_pending_put(kc, p);
	return KP_VERDICT_REPLY;
}

/* consumer_byte_rate: Kafka caps the response at what one quota window
 * holds (quota x (quota.window.num - 1) x quota.window.size), and throttles
 * when it answers (fetch_quota_end). The quota is resolved now: the
 * snapshot may be gone by then. */
static void
fetch_quota_begin(struct kp_pending *p, const struct kp_call *call)
{
	double bound, window_bytes;
	bool tu, tc;

	if (!kp_quota_resolve(call->env->md, KP_QUOTA_CONSUMER_BYTE_RATE, call->hdr.client_id,
			      &bound, &tu, &tc))
		return;
	p->quota_bound = bound;
	p->quota_tags_user = tu;
	p->quota_tags_client = tc;
	window_bytes = bound * (KP_QUOTA_SAMPLES - 1) * (KP_QUOTA_WINDOW_MS / 1000);
	if (window_bytes < (double)p->max_bytes)
		p->max_bytes = (int32_t)window_bytes;
}

/* A follower's fetch (cluster mode): it reads up to the log end, its
 * offset tells the leader its log end (storage's READ with replica_id),
 * it waits on the log end, and no client quota applies to it. */
static void
fetch_replica(struct kp_pending *p, const struct kp_fetch_request *req)
{
	int32_t id = p->hdr.request_api_version >= 15 ? req->replica_state.replica_id
						      : req->replica_id;

	/* Any negative id is a consumer's (-1, the debugging -2, or garbage):
	 * storage must never see one as a follower's. */
	p->replica = id >= 0;
	p->replica_id = id >= 0 ? id : -1;
}

enum kp_verdict
kp_handle_fetch(struct kp_call *call)
{
	struct kp_core *kc = call->env->kc;
	struct kp_fetch_request req;
	struct kp_pending *p = kp_pending_begin(call, &fetch_ops, &req);
	bool hints;

	if (p == NULL)
		return KP_VERDICT_CLOSE;
	/* A session we never granted (we always answer SessionId 0): Kafka's
	 * top-level answer for an unknown session id. */
	if (p->hdr.request_api_version >= 7 && req.session_id != 0)
		return fetch_answer_now(kc, p, call, KP_ERR_FETCH_SESSION_ID_NOT_FOUND, 0);
	if (req.isolation_level != 0 && req.isolation_level != 1)
		return fetch_answer_now(kc, p, call, KP_ERR_UNKNOWN_SERVER_ERROR, req.session_id);
	fetch_replica(p, &req);
	if (fetch_collect(p, call->env, &hints) != 0 ||
	    (hints && fetch_collect_leaders(p, call->env) != 0)) {
		kp_pending_put(kc, p);
		return KP_VERDICT_CLOSE;
	}
	p->min_bytes = req.min_bytes;
	p->max_bytes = req.max_bytes;
	if (!p->replica)
		fetch_quota_begin(p, call);     /* replication is no client's quota */
	p->isolation = req.isolation_level;
	/* 0: the next answer is final (no wait left). */
	p->deadline_ns = req.max_wait_ms > 0
			 ? clock_mono_ns() + (uint64_t)req.max_wait_ms * 1000000ull : 0;
	fetch_read_all(p);
	/* Nothing to read (every partition unknown): answered now, no holes. */
	return kp_pending_run(kc, p, call);
}

/* Decide which regions go in the response, in order, as Kafka's
 * readFromLog: each partition may take min(its max, what the response has
 * left), the first one with data at least one batch; the limit left is
 * max(0, limit - bytes taken). A negative limit is Kafka's
 * UNKNOWN_SERVER_ERROR for a partition with data. Returns the total. */
static int64_t
fetch_cut(struct kp_pending *p)
{
	int64_t limit = p->max_bytes;
	int64_t total = 0;
	bool min_one = true;

	for (uint32_t i = 0; i < p->part_count; i++) {
		struct kp_part *pt = &p->parts[i];
		int64_t allowed = MIN((int64_t)pt->part_max, limit);
		int64_t taken = 0;

		pt->cut = false;
		if (pt->error != KP_ERR_NONE)
			continue;
		if (pt->len > 0) {
			if (allowed < 0) {
				pt->error = KP_ERR_UNKNOWN_SERVER_ERROR;
				pt->cut = true;
			} else if (pt->len <= allowed || min_one) {
				taken = pt->len;
				min_one = false;
			} else {
				pt->cut = true; /* released after encoding */
			}
		}
		total += taken;
		limit = MAX(0, limit - taken);
	}
	return total;
}

/* read_committed: storage's aborted transactions as the schema's items
 * (a copy, for the encoder's type); false when out of memory. */
static bool
fetch_aborted_items(const struct kp_part *pt, struct kp_array *a,
		    struct kp_fetch_response_aborted_transaction **items)
{
	*items = NULL;
	a->count = 0;
	if (pt->aborted_count == 0)
		return true;
	*items = calloc(pt->aborted_count, sizeof(**items));
	if (*items == NULL)
		return false;
	for (uint32_t i = 0; i < pt->aborted_count; i++) {
		(*items)[i].producer_id = pt->aborted[i].producer_id;
		(*items)[i].first_offset = pt->aborted[i].first_offset;
	}
	a->count = (int32_t)pt->aborted_count;
	a->items = *items;
	return true;
}

static void
fetch_encode_partition(struct kp_writer *w, int16_t version, const struct kp_part *pt,
		       int8_t isolation)
{
	struct kp_fetch_response_aborted_transaction *items = NULL;
	struct kp_fetch_response_partition_data pd;
	bool ok = pt->error == KP_ERR_NONE;

	kp_fetch_response_partition_data_init(&pd);
	pd.partition_index = pt->partition;
	pd.error_code = pt->error;
	pd.high_watermark = ok ? pt->high_watermark : -1;
	pd.last_stable_offset = ok ? pt->last_stable_offset : -1;
	pd.log_start_offset = ok ? pt->log_start_offset : -1;
	/* A read_committed read: the aborted transactions in its data (an
	 * empty list when none); null else (a failed read too), as Kafka
	 * answers. A partition Kafka refuses before reading (unknown or
	 * unauthorized: FetchResponse.partitionResponse) keeps the schema's
	 * default, an empty list. */
	pd.aborted_transactions.count =
		(ok && isolation == 1) || fetch_refused(pt->error) ? 0 : -1;
	if (ok && isolation == 1 && !pt->cut &&
	    !fetch_aborted_items(pt, &pd.aborted_transactions, &items))
		kp_writer_fail(w, KP_WIRE_NOMEM);
	pd.preferred_read_replica = -1;
	pd.records.ptr = ok && pt->len > 0 && !pt->cut ? kp_bytes_external : (const uint8_t *)"";
	pd.records.len = ok && !pt->cut ? pt->len : 0;
	/* KIP-951 (fetch_hint): -1, -1 is the field's default, not written. */
	pd.current_leader.leader_id = pt->leader_id;
	pd.current_leader.leader_epoch = pt->leader_epoch;
	kp_fetch_response_partition_data_encode(w, version, &pd);
	free(items);
}

/* The response's tagged fields: from v16 the leaders' endpoints
 * (fetch_collect_leaders), which Kafka sends with a throttled (empty)
 * response too. */
static void
fetch_encode_tags(const struct kp_pending *p, struct kp_writer *w, int16_t version)
{
	const struct fetch_leaders *leaders = p->api;
	size_t at;

	if (version < FETCH_HINTS || leaders == NULL) {
		kp_write_uvarint(w, 0);
		return;
	}
	kp_write_uvarint(w, 1);
	at = kp_write_tagged_begin(w, 0);               /* node_endpoints */
	kp_write_array_len(w, leaders->count, true);
	for (int32_t i = 0; i < leaders->count; i++)
		kp_fetch_response_node_endpoint_encode(w, version, &leaders->items[i]);
	kp_write_tagged_end(w, at);
}

/* The response, written by hand at the top level so that the record holes
 * land in the final writer. Consecutive parts of one topic (v13+: one
 * topic id, as Kafka's matchingTopic) share a topic entry. */
static void
fetch_encode_top(const struct kp_pending *p, struct kp_writer *w, int16_t top_error)
{
	int16_t version = p->hdr.request_api_version;
	bool flexible = version >= 12;
	uint32_t topics = 0;
	/* Throttled by a quota: Kafka's empty response (getThrottledResponse). */
	uint32_t part_count = p->throttle_ms > 0 ? 0 : p->part_count;

	for (uint32_t i = 0; i < part_count; i++)
		if (i == 0 || !kp_str_eq(p->parts[i].topic, p->parts[i - 1].topic))
			topics++;
	kp_write_i32(w, p->throttle_ms);                /* throttle_time_ms */
	if (version >= 7) {
		kp_write_i16(w, top_error);
		kp_write_i32(w, 0);                     /* session_id: declined */
	}
	kp_write_array_len(w, (int32_t)topics, flexible);
	for (uint32_t i = 0; i < part_count;) {
		uint32_t end = kp_pending_topic_run(p, i);

		if (version >= FETCH_BY_ID)
			kp_write_raw(w, p->parts[i].topic_id, FETCH_ID_BYTES);
		else
			kp_write_string(w, p->parts[i].topic, flexible);
		kp_write_array_len(w, (int32_t)(end - i), flexible);
		for (; i < end; i++)
			fetch_encode_partition(w, version, &p->parts[i], p->isolation);
		if (flexible)
			kp_write_uvarint(w, 0);         /* topic tagged fields */
	}
	if (flexible)
		fetch_encode_tags(p, w, version);
}

static void
fetch_encode(const struct kp_pending *p, struct kp_writer *w)
{
	fetch_encode_top(p, w, KP_ERR_NONE);
}

/* Bytes of the response, about: the records and a partition entry each
 * (Kafka counts its exact encoded size). */
#define FETCH_QUOTA_PART_BYTES 48

/* The response is final with total bytes of records: count them against
 * the client's consumer_byte_rate. Over it, or over request_percentage
 * (p->req_throttle_ms, counted at dispatch), Kafka takes the bytes back and
 * answers an empty response with the larger throttle time (then mutes). */
static void
fetch_quota_end(struct kp_core *kc, struct kp_pending *p, int64_t total)
{
	struct kp_quota_hit hit = { p->quota_bound, p->quota_tags_user, p->quota_tags_client };
	double size = (double)total + FETCH_QUOTA_PART_BYTES * (double)p->part_count;
	int32_t ms = 0;

	if (p->replica)
		return;         /* exempt from throttling, as Kafka's follower fetches */
	if (p->quota_bound > 0)
		ms = kp_core_quota_record_hit(kc, KP_QUOTA_CONSUMER_BYTE_RATE, &hit,
					      p->hdr.client_id, size);
	ms = MAX(ms, p->req_throttle_ms);
	if (ms <= 0)
		return;
	if (p->quota_bound > 0)
		kp_core_quota_record_hit(kc, KP_QUOTA_CONSUMER_BYTE_RATE, &hit, p->hdr.client_id,
					 -size);
	p->throttle_ms = ms;
	for (uint32_t i = 0; i < p->part_count; i++)
		p->parts[i].cut = true;         /* nothing sent; released after encoding */
}

/* Like Kafka, any partition error answers at once; below min_bytes, with
 * time left, the request waits for data instead. */
static bool
fetch_again(struct kp_core *kc, struct kp_pending *p)
{
	bool errors = false;
	int64_t total;

	for (uint32_t i = 0; i < p->part_count; i++)
		errors = errors || p->parts[i].error != KP_ERR_NONE;
	total = fetch_cut(p);
	if (total < p->min_bytes && !errors && p->deadline_ns != 0 && p->part_count > 0 &&
	    p->wakes_at_once < KP_WAKES_AT_ONCE_MAX) {
		kp_pending_release_reads(kc, p);
		kp_pending_wait(kc, p);
		return true;
	}
	fetch_quota_end(kc, p, total);
	return false;
}
