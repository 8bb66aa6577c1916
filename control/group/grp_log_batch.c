/* SPDX-License-Identifier: Apache-2.0 */
/* Appends to __consumer_offsets: the records of one batch encoded as they
 * are added (callers free their data right after), then one record batch
 * v2 as Kafka's coordinator writes it (magic 2, uncompressed, producer id
 * -1, timestamps now, CRC-32C) appended through ctl_log with acks=all to
 * the group's partition. Storage errors become what Kafka's
 * GroupMetadataManager answers. A batch that failed to build completes
 * after a storage round trip of its own (the kick), so done never runs
 * inside the commit. @thread control */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/assert.h"
#include "common/be.h"
#include "common/log.h"
#include "common/rbatch.h"
#include "control/config.h"
#include "control/ctl_int.h"
#include "control/ctl_log.h"
#include "control/group/grp_log_int.h"
#include "control/group/grp_rec.h"

struct grp_log_batch *
grp_log_batch_begin(struct grp_log *l, struct kp_str group_id)
{
	struct grp_log_batch *b = calloc(1, sizeof(*b));
	const struct md_topic *t = grp_log_topic(l);

	ASSERT(group_id.len >= 0);
	if (b == NULL)
		return &l->oom_batch;
	b->l = l;
	b->partition = -1;
	b->bytes_max = t != NULL ? ctl_storage_topic_max_message_bytes(grp_coord_config(l->c), t)
				 : grp_coord_config(l->c)->message_max_bytes;
	b->group = malloc((size_t)group_id.len + 1);
	if (b->group == NULL) {
		b->error = KP_ERR_UNKNOWN_SERVER_ERROR;
		return b;
	}
	if (group_id.len > 0)
		memcpy(b->group, group_id.ptr, (size_t)group_id.len);
	b->group[group_id.len] = '\0';
	b->group_len = group_id.len;
	return b;
}

void
grp_log_batch_free(struct grp_log_batch *b)
{
	if (b->oom)
		return;
	free(b->group);
	free(b->recs);
	free(b);
}

/* Add one record (value NULL: a tombstone) unless the batch failed. */
static void
grp_log_batch_record(struct grp_log_batch *b, const struct kp_writer *key,
		     const struct kp_writer *value)
{
	struct kp_writer body;
	struct kp_writer out;

	if (key->err != 0 || (value != NULL && value->err != 0)) {
		b->error = KP_ERR_UNKNOWN_SERVER_ERROR;
		return;
	}
	kp_writer_init(&body, key->len + (value != NULL ? value->len : 0) + 32);
	kp_write_i8(&body, 0);                          /* attributes */
	kp_write_varlong(&body, 0);                     /* timestamp delta */
	kp_write_varint(&body, b->count);               /* offset delta */
	kp_write_varint(&body, (int32_t)key->len);
	kp_write_raw(&body, key->buf, key->len);
	kp_write_varint(&body, value != NULL ? (int32_t)value->len : -1);
	if (value != NULL)
		kp_write_raw(&body, value->buf, value->len);
	kp_write_varint(&body, 0);                      /* headers */
	if (body.err != 0) {
		kp_writer_free(&body);
		b->error = KP_ERR_UNKNOWN_SERVER_ERROR;
		return;
	}
	if ((int64_t)(RBATCH_HEADER_BYTES + b->recs_len + body.len + 5) > b->bytes_max) {
		/* Kafka's log refuses the batch: RECORD_LIST_TOO_LARGE. */
		kp_writer_free(&body);
		free(b->recs);
		b->recs = NULL;
		b->recs_len = b->recs_cap = 0;
		b->error = KP_ERR_RECORD_LIST_TOO_LARGE;
		return;
	}
	if (b->recs_len + body.len + 5 > b->recs_cap) {
		size_t cap = (b->recs_cap ? b->recs_cap * 2 : 256) + body.len + 5;
		uint8_t *p = realloc(b->recs, cap);

		if (p == NULL) {
			kp_writer_free(&body);
			b->error = KP_ERR_UNKNOWN_SERVER_ERROR;
			return;
		}
		b->recs = p;
		b->recs_cap = cap;
	}
	kp_writer_init_fixed(&out, b->recs + b->recs_len, b->recs_cap - b->recs_len);
	kp_write_varint(&out, (int32_t)body.len);
	kp_write_raw(&out, body.buf, body.len);
	ASSERT(out.err == 0);
	b->recs_len += out.len;
	b->count++;
	kp_writer_free(&body);
}

void
grp_log_batch_offset(struct grp_log_batch *b, struct kp_str topic, int32_t partition,
		     const struct grp_rec_offset *value)
{
	struct kp_writer k, v;

	if (b->oom)
		return;         /* shared by every batch begun without memory */
	b->has_offsets = true;
	if (b->error != KP_ERR_NONE)
		return;
	kp_writer_init(&k, 64);
	grp_rec_offset_key_encode(&k, (struct kp_str){ b->group, b->group_len }, topic, partition);
	if (value != NULL) {
		kp_writer_init(&v, 64);
		grp_rec_offset_value_encode(&v, value);
	}
	grp_log_batch_record(b, &k, value != NULL ? &v : NULL);
	kp_writer_free(&k);
	if (value != NULL)
		kp_writer_free(&v);
}

void
grp_log_batch_group(struct grp_log_batch *b, const struct grp_rec_group *value)
{
	struct kp_writer k, v;

	if (b->error != KP_ERR_NONE)
		return;
	kp_writer_init(&k, 64);
	grp_rec_group_key_encode(&k, (struct kp_str){ b->group, b->group_len });
	if (value != NULL) {
		kp_writer_init(&v, 256);
		grp_rec_group_value_encode(&v, value);
	}
	grp_log_batch_record(b, &k, value != NULL ? &v : NULL);
	kp_writer_free(&k);
	if (value != NULL)
		kp_writer_free(&v);
}

/* Kafka's GroupMetadataManager: storeOffsets / storeGroup's mapping of the
 * log's append errors (the ZooKeeper-mode coordinator's, which 3.9 runs
 * with ZooKeeper; the KIP-848 coordinator maps a few differently). */
int16_t
grp_log_append_error(bool offsets, int16_t error)
{
	switch (error) {
	case KP_ERR_NONE:
		return KP_ERR_NONE;
	case KP_ERR_UNKNOWN_TOPIC_OR_PARTITION:
	case KP_ERR_NOT_ENOUGH_REPLICAS:
	case KP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	case KP_ERR_NOT_LEADER_OR_FOLLOWER:
	case KP_ERR_KAFKA_STORAGE_ERROR:
		return KP_ERR_NOT_COORDINATOR;
	case KP_ERR_REQUEST_TIMED_OUT:
		return offsets ? error : KP_ERR_REBALANCE_IN_PROGRESS;
	case KP_ERR_MESSAGE_TOO_LARGE:
	case KP_ERR_RECORD_LIST_TOO_LARGE:
	case KP_ERR_INVALID_FETCH_SIZE:
		return offsets ? KP_ERR_INVALID_COMMIT_OFFSET_SIZE : KP_ERR_UNKNOWN_SERVER_ERROR;
	default:
		return error;
	}
}

static int16_t
grp_log_batch_error(const struct grp_log_batch *b, int16_t error)
{
	return grp_log_append_error(b->has_offsets, error);
}

static void grp_log_kick(struct grp_log *l);

static void
grp_log_kick_batch(void *arg, const uint8_t *batch, uint32_t len)
{
	(void)arg;
	(void)batch;
	(void)len;
}

/* The kick came back: complete every failed batch queued before it. */
static void
grp_log_kick_end(void *arg, int16_t error, int64_t end_offset)
{
	struct grp_log *l = arg;
	struct grp_log_batch *head = l->failed_head;
	int32_t oom_count = l->oom_count;
	struct grp_log_oom oom[GRP_LOG_OOM_MAX];

	(void)error;
	(void)end_offset;
	l->kick_inflight = false;
	if (l->destroyed) {
		grp_log_maybe_free(l);
		return;
	}
	l->failed_head = l->failed_tail = NULL;
	memcpy(oom, l->oom, (size_t)oom_count * sizeof(oom[0]));
	l->oom_count = 0;
	while (head != NULL) {
		struct grp_log_batch *b = head;
		int16_t err = grp_log_batch_error(b, b->error);
		int32_t partition = b->partition;

		head = b->next;
		b->done(b->arg, err);
		grp_log_batch_free(b);
		grp_log_cluster_appends(l, partition, -1);
	}
	for (int32_t i = 0; i < oom_count; i++)
		oom[i].done(oom[i].arg, KP_ERR_UNKNOWN_SERVER_ERROR);
	if (l->failed_head != NULL || l->oom_count > 0)
		grp_log_kick(l);        /* failed meanwhile: their own round trip */
}

static void
grp_log_kick(struct grp_log *l)
{
	static const uint8_t none[16];  /* no topic has the zero id */

	if (l->kick_inflight)
		return;
	l->kick_inflight = true;
	ctl_log_scan(l->ctl, none, 0, grp_log_kick_batch, grp_log_kick_end, l);
}

static void
grp_log_batch_fail(struct grp_log_batch *b, int16_t error)
{
	struct grp_log *l = b->l;

	if (b->oom) {
		if (l->oom_count == GRP_LOG_OOM_MAX)
			PANIC("group: out of memory for __consumer_offsets batches");
		l->oom[l->oom_count].done = b->done;
		l->oom[l->oom_count++].arg = b->arg;
	} else {
		b->error = error;
		b->next = NULL;
		if (l->failed_tail != NULL)
			l->failed_tail->next = b;
		else
			l->failed_head = b;
		l->failed_tail = b;
	}
	grp_log_kick(l);
}

static void
grp_log_append_done(void *arg, int16_t error, int64_t base_offset)
{
	struct grp_log_batch *b = arg;
	struct grp_log *l = b->l;

	(void)base_offset;
	ASSERT(l->appends_inflight > 0);
	l->appends_inflight--;
	if (l->destroyed) {
		grp_log_batch_free(b);
		grp_log_maybe_free(l);
		return;
	}
	if (error != KP_ERR_NONE)
		log_warn("group", "group %s: appending to __consumer_offsets failed (error %d)",
			 b->group, error);
	int32_t partition = b->partition;

	b->done(b->arg, grp_log_batch_error(b, error));
	grp_log_batch_free(b);
	grp_log_cluster_appends(l, partition, -1);
}

static int64_t
grp_log_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The batch around b's records; NULL when out of memory. */
static uint8_t *
grp_log_batch_build(const struct grp_log_batch *b, uint32_t *len_out)
{
	size_t len = RBATCH_HEADER_BYTES + b->recs_len;
	uint8_t *buf = malloc(len);
	int64_t now = grp_log_now_ms();
	struct kp_writer w;

	if (buf == NULL)
		return NULL;
	kp_writer_init_fixed(&w, buf, len);
	kp_write_i64(&w, 0);                            /* base offset: storage's */
	kp_write_i32(&w, (int32_t)(len - RBATCH_LOG_OVERHEAD));
	kp_write_i32(&w, -1);                           /* partition leader epoch */
	kp_write_i8(&w, RBATCH_MAGIC_V2);
	kp_write_u32(&w, 0);                            /* CRC, below */
	kp_write_i16(&w, 0);                            /* attributes: none */
	kp_write_i32(&w, b->count - 1);                 /* last offset delta */
	kp_write_i64(&w, now);                          /* base timestamp */
	kp_write_i64(&w, now);                          /* max timestamp */
	kp_write_i64(&w, -1);                           /* producer id */
	kp_write_i16(&w, -1);                           /* producer epoch */
	kp_write_i32(&w, -1);                           /* base sequence */
	kp_write_i32(&w, b->count);
	ASSERT(w.len == RBATCH_HEADER_BYTES);
	kp_write_raw(&w, b->recs, b->recs_len);
	ASSERT(w.err == 0 && w.len == len);
	be_write32(buf + 17, rbatch_crc_compute(buf, len));     /* after the magic */
	ASSERT(rbatch_crc_ok(buf, len));
	*len_out = (uint32_t)len;
	return buf;
}

void
grp_log_batch_commit(struct grp_log_batch *b, void (*done)(void *arg, int16_t error), void *arg)
{
	struct grp_log *l = b->l;
	const struct md_topic *t;
	uint8_t *buf;
	uint32_t len;

	ASSERT(done != NULL);
	ASSERT(!l->destroyed);
	b->done = done;
	b->arg = arg;
	t = grp_log_topic(l);
	if (l->cluster && !b->oom && t != NULL) {
		/* Counted until done ran: a reload of the partition waits. */
		b->partition = grp_log_partition_of((struct kp_str){ b->group, b->group_len },
						    t->partition_count);
		grp_log_cluster_appends(l, b->partition, 1);
	}
	if (b->oom || b->error != KP_ERR_NONE) {
		grp_log_batch_fail(b, b->error);
		return;
	}
	if (t == NULL) {
		grp_log_batch_fail(b, KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
		return;
	}
	if (b->count == 0) {
		grp_log_batch_fail(b, KP_ERR_NONE);     /* nothing to write */
		return;
	}
	buf = grp_log_batch_build(b, &len);
	if (buf == NULL) {
		grp_log_batch_fail(b, KP_ERR_UNKNOWN_SERVER_ERROR);
		return;
	}
	free(b->recs);
	b->recs = NULL;
	l->appends_inflight++;
	ctl_log_append(l->ctl, t->id.b, grp_log_partition_of((struct kp_str){ b->group,
				b->group_len }, t->partition_count),
		       buf, len, grp_log_append_done, b);
}
