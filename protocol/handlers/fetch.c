/* SPDX-License-Identifier: Apache-2.0 */
/* Fetch (key 1), versions 4-12. Each partition's storage worker returns a
 * file region of whole batches; the response carries the regions as holes
 * that the dataplane splices from the segment files, so record bytes never
 * pass through userspace. Below min_bytes the request waits (watches on the
 * partitions' log ends) until data arrives or max_wait_ms passes. Fetch
 * sessions are declined: SessionId is always 0. @thread dataplane */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "protocol/gen/kp_msg_fetch.h"
#include "protocol/kp_core_int.h"

static bool fetch_finish(struct kp_core *kc, struct kp_pending *p, struct kp_done *done);
static void fetch_read_all(struct kp_core *kc, struct kp_pending *p);
static void fetch_encode(const struct kp_pending *p, struct kp_writer *w);

static const struct kp_pending_ops fetch_ops = { fetch_finish, fetch_read_all };

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

static void
fetch_decode(const struct kp_pending *p, struct kp_fetch_request *req)
{
	struct kp_cursor body = p->body;
	int rc = kp_fetch_request_decode(&body, p->hdr.api_version, req);

	ASSERT(rc == 0);                /* it decoded at dispatch */
}

/* Submit a READ for every partition that is known (topic id set). */
static void
fetch_read_all(struct kp_core *kc, struct kp_pending *p)
{
	struct kp_fetch_request req;
	uint32_t index = 0;

	fetch_decode(p, &req);
	FETCH_FOR_EACH(&req, p->hdr.api_version, t, fp, {
		struct kp_part *pt = &p->parts[index];

		if (pt->error == KP_ERR_NONE) {
			struct st_req sr;

			memset(&sr, 0, sizeof(sr));
			sr.type = ST_REQ_READ;
			sr.read.offset = fp.fetch_offset;
			sr.read.max_bytes = fp.partition_max_bytes;
			sr.read.isolation = p->isolation;
			kp_pending_submit(kc, p, index, &sr);
		}
		index++;
	});
}

enum kp_verdict
kp_handle_fetch(struct kp_call *call)
{
	int16_t version = call->hdr.api_version;
	const struct kp_md *md = call->env->md;
	struct kp_fetch_request req;
	struct kp_pending *p;
	uint32_t count = 0;
	uint32_t index = 0;

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
	FETCH_FOR_EACH(&req, version, t, fp, { (void)fp; count++; });
	p = kp_pending_get(call->env->kc, call, &fetch_ops, count);
	if (p == NULL)
		return KP_VERDICT_CLOSE;
	p->min_bytes = req.min_bytes;
	p->max_bytes = req.max_bytes > 0 ? req.max_bytes : INT32_MAX;
	p->isolation = req.isolation_level;
	/* 0: the next answer is final (no wait left). */
	p->deadline_ns = req.max_wait_ms > 0
			 ? clock_mono_ns() + (uint64_t)req.max_wait_ms * 1000000ull : 0;
	FETCH_FOR_EACH(&req, version, t, fp, {
		const struct kp_md_topic *topic = kp_md_topic_by_name(md, t.topic);
		struct kp_part *pt = &p->parts[index++];

		pt->partition = fp.partition;
		if (topic == NULL || fp.partition < 0 || fp.partition >= topic->partition_count)
			pt->error = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
		else
			memcpy(pt->topic_id, topic->id.b, sizeof(pt->topic_id));
	});
	fetch_read_all(call->env->kc, p);
	if (p->part_left > 0)
		return KP_VERDICT_PENDING;
	/* Nothing to read (every partition unknown): answer now, no holes. */
	fetch_encode(p, call->w);
	kp_pending_put(call->env->kc, p);
	return KP_VERDICT_REPLY;
}

/* Decide which regions go in the response: in request order while they fit
 * max_bytes, but always the first non-empty one (Kafka returns a whole batch
 * even above the limit, so a consumer always progresses). Returns the total. */
static int64_t
fetch_cut(struct kp_core *kc, struct kp_pending *p)
{
	int64_t total = 0;

	(void)kc;
	for (uint32_t i = 0; i < p->part_count; i++) {
		struct kp_part *pt = &p->parts[i];

		pt->cut = false;
		if (pt->len <= 0 || pt->error != KP_ERR_NONE)
			continue;
		if (total == 0 || total + pt->len <= p->max_bytes)
			total += pt->len;
		else
			pt->cut = true; /* released with the leftovers after encoding */
	}
	return total;
}

/* Too little data: give the regions back and watch every readable
 * partition's log end until data arrives or the deadline passes. */
static void
fetch_wait(struct kp_core *kc, struct kp_pending *p)
{
	kp_pending_release_reads(kc, p);
	kp_pending_next_round(p);
	for (uint32_t i = 0; i < p->part_count; i++) {
		struct kp_part *pt = &p->parts[i];
		struct st_req sr;

		if (pt->error != KP_ERR_NONE)
			continue;
		memset(&sr, 0, sizeof(sr));
		sr.type = ST_REQ_WATCH;
		sr.watch.offset = pt->high_watermark;
		sr.watch.deadline_ns = p->deadline_ns;
		kp_pending_submit(kc, p, i, &sr);
	}
	kp_pending_wait(kc, p);
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
 * endpoints). */
static void
fetch_encode(const struct kp_pending *p, struct kp_writer *w)
{
	int16_t version = p->hdr.api_version;
	bool flexible = version >= 12;
	struct kp_fetch_request req;
	uint32_t index = 0;
	struct kp_cursor it;

	fetch_decode(p, &req);
	kp_write_i32(w, 0);                             /* throttle_time_ms */
	if (version >= 7) {
		kp_write_i16(w, KP_ERR_NONE);           /* error_code */
		kp_write_i32(w, 0);                     /* session_id: declined */
	}
	kp_write_array_len(w, kp_count0(req.topics.count), flexible);
	it = kp_array_cursor(&req.topics);
	for (int32_t i = 0; i < req.topics.count; i++) {
		struct kp_fetch_request_fetch_topic t;

		kp_fetch_request_fetch_topic_decode(&it, version, &t);
		kp_write_string(w, t.topic, flexible);
		kp_write_array_len(w, kp_count0(t.partitions.count), flexible);
		for (int32_t j = 0; j < t.partitions.count; j++)
			fetch_encode_partition(w, version, &p->parts[index++], p->isolation);
		if (flexible)
			kp_write_uvarint(w, 0);         /* topic tagged fields */
	}
	if (flexible)
		kp_write_uvarint(w, 0);                 /* response tagged fields */
}

static bool
fetch_finish(struct kp_core *kc, struct kp_pending *p, struct kp_done *done)
{
	struct kp_hole *holes = calloc(p->part_count + 1, sizeof(*holes));
	bool errors = false;
	struct kp_writer w;
	int64_t total;

	/* Like Kafka, any partition error answers at once. */
	for (uint32_t i = 0; i < p->part_count; i++)
		errors = errors || p->parts[i].error != KP_ERR_NONE;
	total = fetch_cut(kc, p);
	if (total < p->min_bytes && !errors && p->deadline_ns != 0 && holes != NULL &&
	    p->part_count > 0) {
		free(holes);
		fetch_wait(kc, p);
		return false;
	}
	done->verdict = KP_VERDICT_REPLY;
	kp_writer_init(&w, 256 + 64 * (size_t)p->part_count);
	w.holes = holes;
	w.hole_cap = holes != NULL ? p->part_count : 0;
	kp_response_begin(&w, &p->hdr);
	fetch_encode(p, &w);
	done->pieces = w.hole_count > 0 ? calloc(w.hole_count, sizeof(*done->pieces)) : NULL;
	if ((w.hole_count > 0 && done->pieces == NULL) || !kp_response_end(&w, &done->resp)) {
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
