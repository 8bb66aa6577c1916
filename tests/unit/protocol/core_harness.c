/* SPDX-License-Identifier: Apache-2.0 */
/* The protocol core's test harness (see core_harness.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_msg_fetch.h"
#include "protocol/gen/kp_msg_header.h"
#include "protocol/gen/kp_msg_list_offsets.h"
#include "protocol/gen/kp_msg_offset_for_leader_epoch.h"
#include "protocol/gen/kp_msg_produce.h"
#include "tests/unit/protocol/core_harness.h"
#include "tests/unit/protocol/tmd.h"

#define H_ENTRIES_MAX 16

static struct kp_md_topic h_topics[2];
static const struct kp_md_topic *h_by_id[2];
struct kp_md h_md;
struct kp_core *h_kc;
static uint8_t h_batch_buf[4096];
static uint32_t h_batch_len;

int32_t h_fetch_replica_id = -1;
int32_t h_epoch_asked;

void
h_setup(void)
{
	struct st *st = fake_st_reset();
	static const char *const names[] = { "alpha", "beta" };
	static const int32_t counts[] = { 3, 1 };

	h_fetch_replica_id = -1;
	h_epoch_asked = 0;
	memset(&h_md, 0, sizeof(h_md));
	h_md.broker_id = 1;
	h_md.cluster_id = "AAAAAAAAAAAAAAAAAAAAAA";
	h_md.endpoint_count = 1;
	h_md.endpoints[0] = (struct kp_md_endpoint){ "PLAINTEXT", "127.0.0.1", 9092, 0 };
	for (int i = 0; i < 2; i++) {
		memset(&h_topics[i], 0, sizeof(h_topics[i]));
		h_topics[i].name = kp_str_c(names[i]);
		h_topics[i].id.b[0] = (uint8_t)(i + 1);
		h_topics[i].partition_count = counts[i];
		h_topics[i].max_message_bytes = 1 << 20;
		h_by_id[i] = &h_topics[i];
	}
	h_md.topic_count = 2;
	h_md.topics = h_topics;
	h_md.by_id = h_by_id;
	tmd_single(&h_md, h_topics, 2);
	h_kc = kp_core_create(st, 0, H_SLOTS);
	cr_assert_not_null(h_kc);
}

void
h_teardown(void)
{
	kp_core_destroy(h_kc);
	h_kc = NULL;
}

const uint8_t *
h_batch(uint32_t *len)
{
	if (h_batch_len == 0) {
		FILE *f = fopen(REC_GOLDEN_DIR "/kcat-none.bin", "rb");

		cr_assert_not_null(f);
		h_batch_len = (uint32_t)fread(h_batch_buf, 1, sizeof(h_batch_buf), f);
		fclose(f);
		cr_assert_gt(h_batch_len, 61);
	}
	*len = h_batch_len;
	return h_batch_buf;
}

struct kp_writer
h_frame_begin(int16_t key, int16_t version, int32_t correlation)
{
	struct kp_writer w;

	struct kp_request_header hdr = { key, version, correlation, kp_str_c("t") };

	kp_writer_init(&w, 256);
	kp_request_header_encode(&w, 1, &hdr);
	return w;
}

enum kp_verdict
h_dispatch(struct kp_writer *frame, uint32_t slot, struct kp_out *out)
{
	struct kp_env env = {
		.md = &h_md, .request_bytes_max = 1 << 20, .kc = h_kc,
		.tag = 100 + slot, .frame_tag = 200 + slot, .slot = slot, .conn = slot / 2,
	};
	enum kp_verdict v;

	memset(out, 0, sizeof(*out));
	cr_assert_eq(frame->err, 0);
	v = kp_dispatch(&env, frame->buf, (uint32_t)frame->len, out);
	/* The frame is gone once dispatch returns (frame_keep is off). */
	memset(frame->buf, 0xee, frame->len);
	kp_writer_free(frame);
	return v;
}

unsigned
h_poll(uint64_t now, struct kp_done *done, unsigned max)
{
	struct kp_env env = { .md = &h_md, .kc = h_kc };

	return kp_core_poll(h_kc, &env, now, done, max);
}

struct kp_cursor
h_body(const struct kp_buf *resp, int32_t correlation)
{
	struct kp_cursor c = kp_cursor_make(resp->data, resp->len);

	cr_assert_not_null(resp->data);
	(void)kp_read_i32(&c);
	cr_assert_eq(kp_read_i32(&c), correlation);
	return c;
}

void
h_done_free(struct kp_done *d)
{
	free(d->resp.data);
	d->resp.data = NULL;
	kp_core_pieces_release(h_kc, d->pieces, d->piece_count);
	d->pieces = NULL;
	d->piece_count = 0;
}

/* Group consecutive equal topic names into entries, as a client would. */
static int
h_group(const char *const *topics, int n, int *first, int *count)
{
	int k = 0;

	for (int i = 0; i < n; i++) {
		if (k > 0 && strcmp(topics[first[k - 1]], topics[i]) == 0 && topics[i][0] != '!') {
			count[k - 1]++;
			continue;
		}
		first[k] = i;
		count[k] = 1;
		k++;
	}
	return k;
}

/* A leading '!' in a name starts a new topic entry even after the same
 * name (a topic listed twice); it is not part of the name. */
static struct kp_str
h_name(const char *name)
{
	return kp_str_c(name[0] == '!' ? name + 1 : name);
}

void
h_produce(struct kp_writer *w, int16_t acks, const char *const *topics, const int32_t *parts,
	  int n)
{
	struct kp_produce_request_partition_produce_data pd[H_ENTRIES_MAX];
	struct kp_produce_request_topic_produce_data td[H_ENTRIES_MAX];
	int first[H_ENTRIES_MAX], count[H_ENTRIES_MAX], k = h_group(topics, n, first, count);
	struct kp_produce_request req;
	uint32_t len;
	const uint8_t *batch = h_batch(&len);

	for (int i = 0; i < n; i++) {
		kp_produce_request_partition_produce_data_init(&pd[i]);
		pd[i].index = parts[i];
		pd[i].records.ptr = batch;
		pd[i].records.len = (int32_t)len;
	}
	for (int i = 0; i < k; i++) {
		kp_produce_request_topic_produce_data_init(&td[i]);
		td[i].name = h_name(topics[first[i]]);
		td[i].partition_data.count = count[i];
		td[i].partition_data.items = &pd[first[i]];
	}
	kp_produce_request_init(&req);
	req.transactional_id = kp_str_c(NULL);
	req.acks = acks;
	req.timeout_ms = 1000;
	req.topic_data.count = k;
	req.topic_data.items = td;
	kp_produce_request_encode(w, 8, &req);
}

void
h_fetch(struct kp_writer *w, int32_t max_wait_ms, int32_t min_bytes, int8_t isolation,
	int32_t session_id, const char *const *topics, const int32_t *parts, int n)
{
	struct kp_fetch_request_fetch_partition fp[H_ENTRIES_MAX];
	struct kp_fetch_request_fetch_topic ft[H_ENTRIES_MAX];
	int first[H_ENTRIES_MAX], count[H_ENTRIES_MAX], k = h_group(topics, n, first, count);
	struct kp_fetch_request req;

	for (int i = 0; i < n; i++) {
		kp_fetch_request_fetch_partition_init(&fp[i]);
		fp[i].partition = parts[i];
		fp[i].current_leader_epoch = -1;
		fp[i].fetch_offset = 3;
		fp[i].partition_max_bytes = 1 << 20;
	}
	for (int i = 0; i < k; i++) {
		kp_fetch_request_fetch_topic_init(&ft[i]);
		ft[i].topic = h_name(topics[first[i]]);
		ft[i].partitions.count = count[i];
		ft[i].partitions.items = &fp[first[i]];
	}
	kp_fetch_request_init(&req);
	req.replica_id = h_fetch_replica_id;
	req.max_wait_ms = max_wait_ms;
	req.min_bytes = min_bytes;
	req.max_bytes = 1 << 20;
	req.isolation_level = isolation;
	req.session_id = session_id;
	req.session_epoch = -1;
	req.topics.count = k;
	req.topics.items = ft;
	kp_fetch_request_encode(w, 11, &req);
}

void
h_list_offsets(struct kp_writer *w, int16_t version, const char *const *topics,
	       const int32_t *parts, int n)
{
	struct kp_list_offsets_request_list_offsets_partition lp[H_ENTRIES_MAX];
	struct kp_list_offsets_request_list_offsets_topic lt[H_ENTRIES_MAX];
	int first[H_ENTRIES_MAX], count[H_ENTRIES_MAX], k = h_group(topics, n, first, count);
	struct kp_list_offsets_request req;

	for (int i = 0; i < n; i++) {
		kp_list_offsets_request_list_offsets_partition_init(&lp[i]);
		lp[i].partition_index = parts[i];
		lp[i].current_leader_epoch = -1;
		lp[i].timestamp = ST_OFFSET_LATEST;
	}
	for (int i = 0; i < k; i++) {
		kp_list_offsets_request_list_offsets_topic_init(&lt[i]);
		lt[i].name = h_name(topics[first[i]]);
		lt[i].partitions.count = count[i];
		lt[i].partitions.items = &lp[first[i]];
	}
	kp_list_offsets_request_init(&req);
	req.replica_id = -1;
	req.topics.count = k;
	req.topics.items = lt;
	kp_list_offsets_request_encode(w, version, &req);
}

void
h_epoch(struct kp_writer *w, int32_t current_leader_epoch, const char *const *topics,
	const int32_t *parts, int n)
{
	struct kp_offset_for_leader_epoch_request_offset_for_leader_partition lp[H_ENTRIES_MAX];
	struct kp_offset_for_leader_epoch_request_offset_for_leader_topic lt[H_ENTRIES_MAX];
	int first[H_ENTRIES_MAX], count[H_ENTRIES_MAX], k = h_group(topics, n, first, count);
	struct kp_offset_for_leader_epoch_request req;

	for (int i = 0; i < n; i++) {
		kp_offset_for_leader_epoch_request_offset_for_leader_partition_init(&lp[i]);
		lp[i].partition = parts[i];
		lp[i].current_leader_epoch = current_leader_epoch;
		lp[i].leader_epoch = h_epoch_asked;
	}
	for (int i = 0; i < k; i++) {
		kp_offset_for_leader_epoch_request_offset_for_leader_topic_init(&lt[i]);
		lt[i].topic = h_name(topics[first[i]]);
		lt[i].partitions.count = count[i];
		lt[i].partitions.items = &lp[first[i]];
	}
	kp_offset_for_leader_epoch_request_init(&req);
	req.replica_id = -2;
	req.topics.count = k;
	req.topics.items = lt;
	kp_offset_for_leader_epoch_request_encode(w, 3, &req);
}
