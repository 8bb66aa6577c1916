/* SPDX-License-Identifier: Apache-2.0 */
/* Writes fuzz seeds for fuzz_request, one size-prefixed frame (request
 * header + body) per file, into the directory given:
 *  - fill-*: every generated API x version with every field filled (from
 *    the test fill helpers), for the codec;
 *  - dispatch-*: requests that reach the handlers' deep paths under
 *    fuzz_request's environment (its topics alpha, beta and golden-topic,
 *    its storage double): Produce with a real client batch, Fetch that
 *    reads, waits or fails, ListOffsets, OffsetForLeaderEpoch, Metadata
 *    that auto-creates (forwarded to control), InitProducerId and
 *    DescribeProducers.
 * Run by hand after adding APIs or handlers:
 *   make_seeds tests/fuzz/corpus/request tests/golden/records/kcat-none.bin */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_fetch.h"
#include "protocol/gen/kp_msg_header.h"
#include "protocol/gen/kp_msg_init_producer_id.h"
#include "protocol/gen/kp_msg_describe_producers.h"
#include "protocol/gen/kp_msg_list_offsets.h"
#include "protocol/gen/kp_msg_metadata.h"
#include "protocol/gen/kp_msg_offset_for_leader_epoch.h"
#include "protocol/gen/kp_msg_produce.h"
#include "protocol/kp_wire.h"
#include "tests/unit/protocol/gen/kp_test_fill.h"

#define SEED_ARENA_BYTES (4u << 20)
#define SEED_BATCH_BYTES_MAX (1u << 20)

static const char *seed_dir;

/* Size prefix and request header; the body follows. */
static struct kp_writer
seed_begin(int16_t key, int16_t version)
{
	struct kp_request_header h;
	struct kp_writer w;

	kp_request_header_init(&h);
	h.request_api_key = key;
	h.request_api_version = version;
	h.correlation_id = 1;
	h.client_id = kp_str_c("seed");
	kp_writer_init(&w, 0);
	kp_write_i32(&w, 0);
	kp_request_header_encode(&w, kp_request_header_version(key, version), &h);
	return w;
}

static void
seed_end(struct kp_writer *w, const char *name)
{
	char path[512];
	FILE *f;

	if (w->err != 0) {
		fprintf(stderr, "make_seeds: %s does not encode\n", name);
		exit(1);
	}
	kp_write_put_i32(w, 0, (int32_t)(w->len - 4));
	snprintf(path, sizeof(path), "%s/%s.bin", seed_dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(w->buf, 1, w->len, f) != w->len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	kp_writer_free(w);
}

static void
seeds_fill(uint8_t *arena_buf)
{
	size_t count;
	const struct kp_api_info *apis = kp_api_info_list(&count);

	for (size_t i = 0; i < count; i++) {
		for (int16_t v = apis[i].min_version; v <= apis[i].max_version; v++) {
			struct kp_test_arena a = { arena_buf, 0, SEED_ARENA_BYTES };
			struct kp_writer w = seed_begin(apis[i].key, v);
			char name[128];

			if (kp_request_encode_test_any(apis[i].key, v, &a, &w) != 0)
				exit(1);
			snprintf(name, sizeof(name), "fill-%02d-%s-v%d", apis[i].key,
				 apis[i].name, v);
			seed_end(&w, name);
		}
	}
}

/* A dispatch seed's body: variant i of the request at version. */
typedef void seed_body_fn(struct kp_writer *w, int16_t version, size_t i);

static const uint8_t *seed_batch;
static size_t seed_batch_len;

/* alpha partitions 0 (data), 1 (storage answers an error) and 7 (unknown);
 * variant 0 with acks=0. */
static void
seed_produce(struct kp_writer *w, int16_t version, size_t i)
{
	struct kp_produce_request_partition_produce_data pd[3];
	struct kp_produce_request_topic_produce_data td;
	struct kp_produce_request req;

	for (int p = 0; p < 3; p++) {
		kp_produce_request_partition_produce_data_init(&pd[p]);
		pd[p].index = p == 2 ? 7 : p;
		pd[p].records.ptr = seed_batch;
		pd[p].records.len = (int32_t)seed_batch_len;
	}
	kp_produce_request_topic_produce_data_init(&td);
	td.name = kp_str_c("alpha");
	td.partition_data.count = 3;
	td.partition_data.items = pd;
	kp_produce_request_init(&req);
	req.topic_data = (struct kp_array){ .count = 1, .items = &td };
	req.timeout_ms = 30000;
	req.acks = i == 0 ? 0 : -1;     /* acks=0: no reply */
	kp_produce_request_encode(w, version, &req);
}

/* Even variants: alpha 0 reads data, 1 fails, 2 has nothing. Odd variants:
 * only alpha 2, which waits for min_bytes until max_wait. */
static void
seed_fetch(struct kp_writer *w, int16_t version, size_t i)
{
	struct kp_fetch_request req;
	struct kp_fetch_request_fetch_topic ft;
	struct kp_fetch_request_fetch_partition fp[3];

	for (int p = 0; p < 3; p++) {
		kp_fetch_request_fetch_partition_init(&fp[p]);
		fp[p].partition = p;
		fp[p].fetch_offset = p == 2 ? 100 : 0;
		fp[p].partition_max_bytes = 1 << 20;
	}
	kp_fetch_request_fetch_topic_init(&ft);
	ft.topic = kp_str_c("alpha");
	ft.partitions.count = i % 2 == 0 ? 3 : 1;
	ft.partitions.items = i % 2 == 0 ? fp : &fp[2];
	kp_fetch_request_init(&req);
	req.replica_id = -1;
	req.max_wait_ms = 500;
	req.min_bytes = i % 2 == 0 ? 1 : 1000;
	req.max_bytes = 50 << 20;
	req.topics.count = 1;
	req.topics.items = &ft;
	kp_fetch_request_encode(w, version, &req);
}

/* golden-topic 0 (latest) and 1 (earliest), beta 0 by timestamp. */
static void
seed_list_offsets(struct kp_writer *w, int16_t version, size_t i)
{
	static const int64_t timestamps[] = { -1, -2, 1700000000000 };
	struct kp_list_offsets_request_list_offsets_partition lp[3];
	struct kp_list_offsets_request_list_offsets_topic lt[2];
	struct kp_list_offsets_request req;

	(void)i;
	for (int p = 0; p < 3; p++) {
		kp_list_offsets_request_list_offsets_partition_init(&lp[p]);
		lp[p].partition_index = p % 2;
		lp[p].timestamp = timestamps[p];
	}
	kp_list_offsets_request_list_offsets_topic_init(&lt[0]);
	lt[0].name = kp_str_c("golden-topic");
	lt[0].partitions = (struct kp_array){ .count = 2, .items = lp };
	kp_list_offsets_request_list_offsets_topic_init(&lt[1]);
	lt[1].name = kp_str_c("beta");
	lt[1].partitions = (struct kp_array){ .count = 1, .items = &lp[2] };
	kp_list_offsets_request_init(&req);
	req.replica_id = -1;
	req.topics = (struct kp_array){ .count = 2, .items = lt };
	kp_list_offsets_request_encode(w, version, &req);
}

/* alpha 0 and 1 (storage answers an error), epoch 0. */
static void
seed_offset_for_leader_epoch(struct kp_writer *w, int16_t version, size_t i)
{
	struct kp_offset_for_leader_epoch_request_offset_for_leader_partition op[2];
	struct kp_offset_for_leader_epoch_request_offset_for_leader_topic ot;
	struct kp_offset_for_leader_epoch_request req;

	(void)i;        /* one variant */
	kp_offset_for_leader_epoch_request_offset_for_leader_partition_init(&op[0]);
	op[0].current_leader_epoch = 0;
	op[0].leader_epoch = 0;
	op[1] = op[0];
	op[1].partition = 1;
	kp_offset_for_leader_epoch_request_offset_for_leader_topic_init(&ot);
	ot.topic = kp_str_c("alpha");
	ot.partitions = (struct kp_array){ .count = 2, .items = op };
	kp_offset_for_leader_epoch_request_init(&req);
	req.replica_id = -1;
	req.topics = (struct kp_array){ .count = 1, .items = &ot };
	kp_offset_for_leader_epoch_request_encode(w, version, &req);
}

/* A known topic and one to auto-create (the core forwards to control). */
static void
seed_metadata(struct kp_writer *w, int16_t version, size_t i)
{
	struct kp_metadata_request_metadata_request_topic t[2];
	struct kp_metadata_request req;

	(void)i;
	kp_metadata_request_metadata_request_topic_init(&t[0]);
	kp_metadata_request_metadata_request_topic_init(&t[1]);
	t[0].name = kp_str_c("alpha");
	t[1].name = kp_str_c("newtopic");
	kp_metadata_request_init(&req);
	req.topics = (struct kp_array){ .count = 2, .items = t };
	req.allow_auto_topic_creation = true;
	kp_metadata_request_encode(w, version, &req);
}

/* An idempotent producer's first InitProducerId (answered on control). */
static void
seed_init_producer_id(struct kp_writer *w, int16_t version, size_t i)
{
	struct kp_init_producer_id_request req;

	(void)i;
	kp_init_producer_id_request_init(&req);
	req.transactional_id = kp_str_c(NULL);
	req.transaction_timeout_ms = 60000;
	req.producer_id = -1;
	req.producer_epoch = -1;
	kp_init_producer_id_request_encode(w, version, &req);
}

/* alpha 0-2 (storage lists producers, partition 1 an error), an unknown
 * topic and an invalid name (answered before storage). */
static void
seed_describe_producers(struct kp_writer *w, int16_t version, size_t i)
{
	static const int32_t parts[] = { 0, 1, 2 };
	static const char *const names[] = { "alpha", "nosuch", "bad/name" };
	struct kp_describe_producers_request_topic_request t[3];
	struct kp_describe_producers_request req;

	(void)i;
	for (int k = 0; k < 3; k++) {
		kp_describe_producers_request_topic_request_init(&t[k]);
		t[k].name = kp_str_c(names[k]);
		t[k].partition_indexes = (struct kp_array){ .count = k == 0 ? 3 : 1,
							    .items = parts };
	}
	kp_describe_producers_request_init(&req);
	req.topics = (struct kp_array){ .count = 3, .items = t };
	kp_describe_producers_request_encode(w, version, &req);
}

#define SEED_VERSIONS_MAX 8

static const struct {
	int16_t key;
	const char *name;
	seed_body_fn *body;
	int16_t versions[SEED_VERSIONS_MAX];    /* 0 after the first ends the list */
} seed_apis[] = {
	{ KP_API_PRODUCE, "produce", seed_produce, { 3, 7, 9, 11 } },
	{ KP_API_FETCH, "fetch", seed_fetch, { 4, 4, 11, 11, 12, 12 } },
	{ KP_API_LIST_OFFSETS, "list_offsets", seed_list_offsets, { 1, 5, 7 } },
	{ KP_API_OFFSET_FOR_LEADER_EPOCH, "offset_for_leader_epoch",
	  seed_offset_for_leader_epoch, { 2, 4 } },
	{ KP_API_METADATA, "metadata", seed_metadata, { 1, 9, 12 } },
	{ KP_API_INIT_PRODUCER_ID, "init_producer_id", seed_init_producer_id, { 0, 4 } },
	{ KP_API_DESCRIBE_PRODUCERS, "describe_producers", seed_describe_producers, { 0 } },
};

static void
seeds_dispatch(void)
{
	for (size_t a = 0; a < sizeof(seed_apis) / sizeof(seed_apis[0]); a++) {
		for (size_t i = 0; i < SEED_VERSIONS_MAX; i++) {
			int16_t version = seed_apis[a].versions[i];
			struct kp_writer w;
			char name[96];

			if (i > 0 && version == 0)
				break;
			w = seed_begin(seed_apis[a].key, version);
			seed_apis[a].body(&w, version, i);
			snprintf(name, sizeof(name), "dispatch-%s-%zu-v%d", seed_apis[a].name, i,
				 version);
			seed_end(&w, name);
		}
	}
}

int
main(int argc, char **argv)
{
	uint8_t *arena_buf = malloc(SEED_ARENA_BYTES);
	uint8_t *batch = malloc(SEED_BATCH_BYTES_MAX);
	FILE *f;

	if (argc != 3 || arena_buf == NULL || batch == NULL) {
		fprintf(stderr, "usage: make_seeds DIR RECORD_BATCH_FILE\n");
		return 2;
	}
	seed_dir = argv[1];
	f = fopen(argv[2], "rb");
	if (f == NULL) {
		perror(argv[2]);
		return 1;
	}
	seed_batch = batch;
	seed_batch_len = fread(batch, 1, SEED_BATCH_BYTES_MAX, f);
	fclose(f);
	seeds_fill(arena_buf);
	seeds_dispatch();
	free(batch);
	free(arena_buf);
	return 0;
}
