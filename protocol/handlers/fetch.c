/* SPDX-License-Identifier: Apache-2.0 */
/* Fetch (key 1), versions 4-12. Each partition's storage worker returns a
 * file region of whole batches; the response carries the regions as holes
 * that the dataplane splices from the segment files, so record bytes never
 * pass through userspace. Below min_bytes the request waits (subscribed to
 * the partitions' log ends, kp_sub.c) until data arrives or max_wait_ms
 * passes. Partitions listed more than once are merged as Kafka merges them
 * (first position, last values), known partitions before unknown ones.
 * Fetch sessions are declined: SessionId is always 0. @thread dataplane */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/compiler.h"
#include "protocol/gen/kp_msg_fetch.h"
#include "protocol/kp_core_int.h"

static bool fetch_finish(struct kp_core *kc, struct kp_pending *p, struct kp_done *done);
static void fetch_wake(struct kp_core *kc, struct kp_pending *p);
static void fetch_encode(const struct kp_pending *p, struct kp_writer *w, int16_t top_error);

static const struct kp_pending_ops fetch_ops = { fetch_finish, fetch_wake };

/* Visit every requested partition in request order. */
#define FETCH_FOR_EACH(req, version, t, fp, body)                                     \
	do {                                                                          \
		struct kp_cursor it_ = kp_array_cursor(&(req)->topics);               \
		for (int32_t i_ = 0; i_ < (req)->topics.count; i_++) {                 \
			struct kp_fetch_request_fetch_topic t;                        \
			struct kp_cursor pit_;                                        \
			kp_fetch_request_fetch_topic_decode(&it_, version, &t);       \
			pit_ = kp_array_cursor(&t.partitions);                        \
			for (int32_t j_ = 0; j_ < t.partitions.count; j_++) {          \
				struct kp_fetch_request_fetch_partition fp;           \
				kp_fetch_request_fetch_partition_decode(&pit_, version, &fp); \
				body                                                  \
			}                                                             \
		}                                                                     \
	} while (0)

/* One pass over the request: a part per distinct (topic, partition), at its
 * first appearance with the values of its last (Kafka's merge), then the
 * known partitions moved before the unknown ones, keeping their order.
 * Linear in the request: one metadata lookup per topic entry, one hash
 * probe per partition. -1 when out of memory. */
static int
fetch_collect(struct kp_pending *p, const struct kp_fetch_request *req, const struct kp_md *md,
	      struct kp_part_map *map)
{
	int16_t version = p->hdr.request_api_version;
	struct kp_cursor it = kp_array_cursor(&req->topics);
	uint32_t unknown = 0;
	struct kp_part *tmp;

	for (int32_t i = 0; i < req->topics.count; i++) {
		struct kp_fetch_request_fetch_topic t;
		const struct kp_md_topic *topic;
		struct kp_cursor pit;

		kp_fetch_request_fetch_topic_decode(&it, version, &t);
		topic = kp_md_topic_by_name(md, t.topic);
		pit = kp_array_cursor(&t.partitions);
		for (int32_t j = 0; j < t.partitions.count; j++) {
			struct kp_fetch_request_fetch_partition fp;
			struct kp_part *pt = &p->parts[p->part_count];
			bool known;
			uint32_t at;

			kp_fetch_request_fetch_partition_decode(&pit, version, &fp);
			known = topic != NULL && fp.partition >= 0 &&
				fp.partition < topic->partition_count;
			pt->topic = t.topic;
			pt->partition = fp.partition;
			at = kp_part_map_put(map, p->parts, p->part_count);
			if (at == p->part_count) {
				p->part_count++;
				unknown += !known;
			}
			pt = &p->parts[at];
			if (known)
				memcpy(pt->topic_id, topic->id.b, sizeof(pt->topic_id));
			pt->in_offset = fp.fetch_offset;        /* the last listing wins */
			pt->part_max = fp.partition_max_bytes;
			pt->error = known ? kp_leader_epoch_check(
						    version >= 9 ? fp.current_leader_epoch : -1)
					  : KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		}
	}
	if (unknown == 0 || unknown == p->part_count)
		return 0;
	tmp = malloc(sizeof(*tmp) * unknown);
	if (tmp == NULL)
		return -1;
	{
		uint32_t k = 0, u = 0;

		for (uint32_t i = 0; i < p->part_count; i++) {
			if (p->parts[i].error == KP_ERR_UNKNOWN_TOPIC_OR_PARTITION)
				tmp[u++] = p->parts[i];
			else
				p->parts[k++] = p->parts[i];
		}
		memcpy(&p->parts[k], tmp, sizeof(*tmp) * u);
	}
	free(tmp);
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

/* An isolation level Kafka does not know: it answers every partition (as
 * listed) and the request with UNKNOWN_SERVER_ERROR. */
static void
fetch_encode_bad_isolation(const struct kp_fetch_request *req, int16_t version,
			   struct kp_writer *w)
{
	bool flexible = version >= 12;
	struct kp_cursor it = kp_array_cursor(&req->topics);

	kp_write_i32(w, 0);
	if (version >= 7) {
		kp_write_i16(w, KP_ERR_UNKNOWN_SERVER_ERROR);
		kp_write_i32(w, 0);
	}
	kp_write_array_len(w, kp_count0(req->topics.count), flexible);
	for (int32_t i = 0; i < req->topics.count; i++) {
		struct kp_fetch_request_fetch_topic t;
		struct kp_cursor pit;

		kp_fetch_request_fetch_topic_decode(&it, version, &t);
		kp_write_string(w, t.topic, flexible);
		kp_write_array_len(w, kp_count0(t.partitions.count), flexible);
		pit = kp_array_cursor(&t.partitions);
		for (int32_t j = 0; j < t.partitions.count; j++) {
			struct kp_fetch_request_fetch_partition fp;
			struct kp_fetch_response_partition_data pd;

			kp_fetch_request_fetch_partition_decode(&pit, version, &fp);
			kp_fetch_response_partition_data_init(&pd);
			pd.partition_index = fp.partition;
			pd.error_code = KP_ERR_UNKNOWN_SERVER_ERROR;
			pd.high_watermark = pd.last_stable_offset = pd.log_start_offset = -1;
			pd.aborted_transactions.count = version >= 4 ? 0 : -1;
			pd.preferred_read_replica = -1;
			pd.records.ptr = NULL;
			pd.records.len = -1;
			kp_fetch_response_partition_data_encode(w, version, &pd);
		}
		if (flexible)
			kp_write_uvarint(w, 0);
	}
	if (flexible)
		kp_write_uvarint(w, 0);
}

enum kp_verdict
kp_handle_fetch(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	const struct kp_md *md = call->env->md;
	struct kp_fetch_request req;
	struct kp_part_map map;
	struct kp_pending *p;
	uint32_t count = 0;

	if (kp_fetch_request_decode(&call->body, version, &req) != 0 || call->env->kc == NULL)
		return KP_VERDICT_CLOSE;
	if (version >= 7 && req.session_id != 0) {
		/* A session we never granted (we always answer SessionId 0):
		 * Kafka's top-level answer for an unknown session id. */
		kp_write_i32(call->w, 0);
		kp_write_i16(call->w, KP_ERR_FETCH_SESSION_ID_NOT_FOUND);
		kp_write_i32(call->w, 0);
		kp_write_array_len(call->w, 0, version >= 12);
		if (version >= 12)
			kp_write_uvarint(call->w, 0);
		return KP_VERDICT_REPLY;
	}
	if (req.isolation_level != 0 && req.isolation_level != 1) {
		fetch_encode_bad_isolation(&req, version, call->w);
		return KP_VERDICT_REPLY;
	}
	FETCH_FOR_EACH(&req, version, t, fp, { (void)fp; count++; });
	p = kp_pending_get(call->env->kc, call, &fetch_ops, count);
	if (p == NULL)
		return KP_VERDICT_CLOSE;
	if (kp_part_map_init(&map, count) != 0) {
		kp_pending_put(call->env->kc, p);
		return KP_VERDICT_CLOSE;
	}
	/* Decode again from the record's memory: the parts keep topic names. */
	{
		struct kp_cursor body = p->body;

		if (kp_fetch_request_decode(&body, version, &req) != 0)
			PANIC("fetch request decoded at dispatch but not from its copy");
	}
	p->part_count = 0;
	if (fetch_collect(p, &req, md, &map) != 0) {
		kp_part_map_free(&map);
		kp_pending_put(call->env->kc, p);
		return KP_VERDICT_CLOSE;
	}
	kp_part_map_free(&map);
	p->min_bytes = req.min_bytes;
	p->max_bytes = req.max_bytes;
	p->isolation = req.isolation_level;
	/* 0: the next answer is final (no wait left). */
	p->deadline_ns = req.max_wait_ms > 0
			 ? clock_mono_ns() + (uint64_t)req.max_wait_ms * 1000000ull : 0;
	fetch_read_all(p);
	if (kp_pending_start(call->env->kc, p))
		return KP_VERDICT_PENDING;
	/* Nothing to read (every partition unknown): answer now, no holes. */
	fetch_encode(p, call->w, KP_ERR_NONE);
	kp_pending_put(call->env->kc, p);
	return KP_VERDICT_REPLY;
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

static void
fetch_encode_partition(struct kp_writer *w, int16_t version, const struct kp_part *pt,
		       int8_t isolation)
{
	struct kp_fetch_response_partition_data pd;
	bool ok = pt->error == KP_ERR_NONE;

	kp_fetch_response_partition_data_init(&pd);
	pd.partition_index = pt->partition;
	pd.error_code = pt->error;
	pd.high_watermark = ok ? pt->high_watermark : -1;
	pd.last_stable_offset = ok ? pt->last_stable_offset : -1;
	pd.log_start_offset = ok ? pt->log_start_offset : -1;
	/* No transactions yet: an empty list for read_committed, null else,
	 * as Kafka answers. */
	pd.aborted_transactions.count = isolation == 1 ? 0 : -1;
	pd.preferred_read_replica = -1;
	pd.records.ptr = ok && pt->len > 0 && !pt->cut ? kp_bytes_external : (const uint8_t *)"";
	pd.records.len = ok && !pt->cut ? pt->len : 0;
	kp_fetch_response_partition_data_encode(w, version, &pd);
}

/* The response, written by hand at the top level so that the record holes
 * land in the final writer (versions 4-12: no topic ids, no node
 * endpoints). Consecutive parts of one topic share a topic entry. */
static void
fetch_encode(const struct kp_pending *p, struct kp_writer *w, int16_t top_error)
{
	int16_t version = p->hdr.request_api_version;
	bool flexible = version >= 12;
	uint32_t topics = 0;

	for (uint32_t i = 0; i < p->part_count; i++)
		if (i == 0 || !kp_str_eq(p->parts[i].topic, p->parts[i - 1].topic))
			topics++;
	kp_write_i32(w, 0);                             /* throttle_time_ms */
	if (version >= 7) {
		kp_write_i16(w, top_error);
		kp_write_i32(w, 0);                     /* session_id: declined */
	}
	kp_write_array_len(w, (int32_t)topics, flexible);
	for (uint32_t i = 0; i < p->part_count;) {
		uint32_t end = i + 1;

		while (end < p->part_count && kp_str_eq(p->parts[end].topic, p->parts[i].topic))
			end++;
		kp_write_string(w, p->parts[i].topic, flexible);
		kp_write_array_len(w, (int32_t)(end - i), flexible);
		for (; i < end; i++)
			fetch_encode_partition(w, version, &p->parts[i], p->isolation);
		if (flexible)
			kp_write_uvarint(w, 0);         /* topic tagged fields */
	}
	if (flexible)
		kp_write_uvarint(w, 0);                 /* response tagged fields */
}

static bool
fetch_finish(struct kp_core *kc, struct kp_pending *p, struct kp_done *done)
{
	struct kp_hole *holes;
	bool errors = false;
	struct kp_writer w;
	int64_t total;

	/* Like Kafka, any partition error answers at once. */
	for (uint32_t i = 0; i < p->part_count; i++)
		errors = errors || p->parts[i].error != KP_ERR_NONE;
	total = fetch_cut(p);
	if (total < p->min_bytes && !errors && p->deadline_ns != 0 && p->part_count > 0) {
		kp_pending_release_reads(kc, p);
		kp_pending_wait(kc, p);
		return false;
	}
	holes = calloc(p->part_count + 1, sizeof(*holes));
	done->verdict = KP_VERDICT_REPLY;
	kp_writer_init(&w, 256 + 64 * (size_t)p->part_count);
	w.holes = holes;
	w.hole_cap = holes != NULL ? p->part_count : 0;
	kp_response_begin(&w, &p->hdr);
	fetch_encode(p, &w, KP_ERR_NONE);
	done->pieces = w.hole_count > 0 ? calloc(w.hole_count, sizeof(*done->pieces)) : NULL;
	if (holes == NULL || (w.hole_count > 0 && done->pieces == NULL) ||
	    !kp_response_end(&w, &done->resp)) {
		kp_writer_free(&w);
		free(done->pieces);
		done->pieces = NULL;
		kp_pending_release_reads(kc, p);
		free(holes);
		done->verdict = KP_VERDICT_CLOSE;
		return true;
	}
	/* Holes were recorded in partition order, for the regions kept. */
	for (uint32_t i = 0, h = 0; i < p->part_count; i++) {
		struct kp_part *pt = &p->parts[i];
		struct kp_piece *piece;

		if (pt->len <= 0 || pt->error != KP_ERR_NONE || pt->cut)
			continue;
		ASSERT(h < w.hole_count && w.holes[h].len == (uint32_t)pt->len);
		piece = &done->pieces[h];
		piece->at = (uint32_t)w.holes[h].at;
		piece->len = (uint32_t)pt->len;
		piece->fd = pt->fd;
		piece->pos = pt->pos;
		piece->ref = pt->ref;
		piece->partition = pt->partition;
		memcpy(piece->topic_id, pt->topic_id, sizeof(piece->topic_id));
		pt->fd = -1;            /* the reply owns it now */
		pt->len = 0;
		h++;
	}
	done->piece_count = w.hole_count;
	kp_pending_release_reads(kc, p);        /* regions cut by max_bytes */
	free(holes);
	return true;
}
