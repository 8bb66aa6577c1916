/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: bytes -> size-prefixed frames, each run two ways.
 * (1) The broker's path: kp_dispatch() as a dataplane core calls it, over a
 * small metadata snapshot and the storage double of fake_st.c, driving
 * requests that wait on storage to their answer through kp_core_poll()
 * (advancing a fake clock past long-poll deadlines), and forwarded frames
 * through kp_dispatch_control() over an admin double. (2) The codec: the
 * request header (the same decoder dispatch uses) and the body with every
 * generated decoder. Oracles: no crash or sanitizer report; a pending
 * request finishes, under its own tag, and hands back every file region
 * it took; a body that decodes must re-encode, and re-encoding its decode
 * must give the same bytes (the codec reaches a fixed point after one pass). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_header.h"
#include "protocol/kp.h"
#include "tests/unit/protocol/fake_st.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_POLL_TURNS_MAX 64          /* a pending request finishes within */
#define FUZZ_DONE_BURST 8

/* ---- the environment kp_dispatch() runs in ---- */

/* Sorted by name; ids ascending in the same order. golden-topic is the
 * topic of the golden client frames, alpha and beta of the dispatch seeds. */
/* A single broker's partitions: leader 1, replicas and isr {1}. */
static const int32_t fuzz_self = 1;
#define FUZZ_PART { .leader = 1, .replica_count = 1, .isr_count = 1, .replicas = &fuzz_self, \
		    .isr = &fuzz_self, .offline = &fuzz_self }
static const struct kp_md_partition fuzz_parts[] = { FUZZ_PART, FUZZ_PART, FUZZ_PART };
static const struct kp_md_topic fuzz_topics[] = {
	{ .name = { "alpha", 5 }, .id = { { 1 } }, .partition_count = 3,
	  .max_message_bytes = 1048588, .min_insync_replicas = 1, .partitions = fuzz_parts },
	{ .name = { "beta", 4 }, .id = { { 2 } }, .partition_count = 1,
	  .max_message_bytes = 1048588, .min_insync_replicas = 1, .partitions = fuzz_parts },
	{ .name = { "golden-topic", 12 }, .id = { { 3 } }, .partition_count = 2,
	  .max_message_bytes = 1048588, .min_insync_replicas = 1, .partitions = fuzz_parts },
};
static const struct kp_md_broker fuzz_brokers[] = {
	{ .id = 1, .endpoint_count = 1, .endpoints = { { "PLAINTEXT", "127.0.0.1", 9092, 0 } } },
};
static const struct kp_md_topic *const fuzz_by_id[] = {
	&fuzz_topics[0], &fuzz_topics[1], &fuzz_topics[2],
};
/* A default client-id quota, so Produce and Fetch run the quota paths. */
static const struct kp_md_quota fuzz_quotas[] = {
	{ .entity = { .present = 1u << KP_QUOTA_CLIENT_ID,
		      .name = { { NULL, -1 }, { NULL, -1 }, { NULL, -1 } } },
	  .values = { .set = (1u << KP_QUOTA_PRODUCER_BYTE_RATE) |
			     (1u << KP_QUOTA_CONSUMER_BYTE_RATE),
		      .value = { [KP_QUOTA_PRODUCER_BYTE_RATE] = 1e6,
				 [KP_QUOTA_CONSUMER_BYTE_RATE] = 1e6 } } },
};
static const struct kp_md fuzz_md = {
	.broker_id = 1, .controller_id = 1, .cluster_id = "AAAAAAAAAAAAAAAAAAAAAA",
	.endpoint_count = 1, .endpoints = { { "PLAINTEXT", "127.0.0.1", 9092, 0 } },
	.broker_count = 1, .brokers = fuzz_brokers,
	.auto_create_topics = true,
	.num_partitions = 1, .default_replication_factor = 1,
	.topic_count = (int32_t)(sizeof(fuzz_topics) / sizeof(fuzz_topics[0])),
	.topics = fuzz_topics, .by_id = fuzz_by_id, .epoch = 1,
	.quota_count = 1, .quotas = fuzz_quotas,
};
static struct kp_core *fuzz_kc;
static uint64_t fuzz_now_ns;
static uint64_t fuzz_tag;

/* The admin double: answers like control would for a broker whose topics
 * never change (a fuzz run must not grow state from input to input). */
static const struct kp_md *
fuzz_admin_md(void *ctx)
{
	(void)ctx;
	return &fuzz_md;
}

static int16_t
fuzz_admin_create(void *ctx, const struct kp_topic_spec *spec, bool validate_only,
		  struct kp_uuid *id, char *msg, size_t n)
{
	(void)ctx; (void)validate_only;
	if (kp_md_topic_by_name(&fuzz_md, spec->name) != NULL) {
		snprintf(msg, n, "exists");
		return KP_ERR_TOPIC_ALREADY_EXISTS;
	}
	memset(id->b, 0x42, sizeof(id->b));
	return KP_ERR_NONE;
}

static int16_t
fuzz_admin_delete(void *ctx, const struct kp_md_topic *t, char *msg, size_t n)
{
	(void)ctx; (void)t; (void)msg; (void)n;
	return KP_ERR_NONE;
}

static int16_t
fuzz_admin_partitions(void *ctx, const struct kp_md_topic *t, int32_t count,
		      bool validate_only, char *msg, size_t n)
{
	(void)ctx; (void)t; (void)count; (void)validate_only; (void)msg; (void)n;
	return KP_ERR_NONE;
}

static void
fuzz_admin_spec_configs(void *ctx, const struct kp_topic_spec *spec, kp_config_entry_fn *fn,
			void *arg)
{
	struct kp_config_entry e = { .name = "retention.ms", .value = "604800000",
				     .source = KP_CONFIG_SOURCE_DEFAULT, .is_default = true };

	(void)ctx; (void)spec;
	fn(arg, &e);
}

static int16_t
fuzz_admin_configs(void *ctx, int8_t type, struct kp_str res, const struct kp_str *names,
		   int32_t n, bool syn, bool docs, kp_config_entry_fn *fn, void *arg,
		   char *msg, size_t msg_size)
{
	(void)type; (void)res; (void)names; (void)n; (void)syn; (void)docs;
	(void)msg; (void)msg_size;
	fuzz_admin_spec_configs(ctx, NULL, fn, arg);
	return KP_ERR_NONE;
}

/* Reads every op as control would, so the fuzzer checks the bounds. */
static int16_t
fuzz_admin_configs_alter(void *ctx, int8_t type, struct kp_str res,
			 const struct kp_config_op *ops, int32_t n, bool incremental,
			 bool validate_only, char *msg, size_t msg_size)
{
	size_t sum = 0;

	(void)ctx; (void)type; (void)res; (void)incremental; (void)validate_only;
	for (int32_t i = 0; i < n; i++) {
		for (int32_t b = 0; b < ops[i].name.len; b++)
			sum += (unsigned char)ops[i].name.ptr[b];
		for (int32_t b = 0; b < ops[i].value.len; b++)
			sum += (unsigned char)ops[i].value.ptr[b];
	}
	snprintf(msg, msg_size, "%zu", sum);
	return sum % 2 == 0 ? KP_ERR_NONE : KP_ERR_INVALID_CONFIG;
}

static int16_t
fuzz_admin_auto_create(void *ctx, struct kp_str name, char *msg, size_t n)
{
	(void)ctx; (void)name; (void)msg; (void)n;
	return KP_ERR_NONE;
}

static int16_t
fuzz_admin_producer_id(void *ctx, int64_t *pid)
{
	(void)ctx;
	*pid = 1000;
	return KP_ERR_NONE;
}

/* Every partition of the snapshot, newest topic first (not sorted). */
static int16_t
fuzz_admin_log_dir(void *ctx, struct kp_log_dir *dir, kp_log_dir_part_fn *fn, void *arg)
{
	(void)ctx;
	snprintf(dir->path, sizeof(dir->path), "/fuzz");
	dir->total_bytes = 1 << 30;
	dir->usable_bytes = 1 << 29;
	for (int32_t t = fuzz_md.topic_count; t-- > 0;)
		for (int32_t p = 0; p < fuzz_md.topics[t].partition_count; p++)
			fn(arg, &fuzz_md.topics[t], p, 100 * p, 0);
	return KP_ERR_NONE;
}

static int16_t
fuzz_admin_quotas_describe(void *ctx, const struct kp_quota_filter *f, int32_t n, bool strict,
			   kp_quota_entry_fn *fn, void *arg, char *msg, size_t msg_size)
{
	(void)ctx; (void)f; (void)n; (void)strict; (void)msg; (void)msg_size;
	fn(arg, &fuzz_quotas[0].entity, &fuzz_quotas[0].values);
	return KP_ERR_NONE;
}

static int16_t
fuzz_admin_quota_alter(void *ctx, const struct kp_quota_entity *e, struct kp_str bad_type,
		       const struct kp_quota_op *ops, int32_t n, bool validate_only, char *msg,
		       size_t msg_size)
{
	(void)ctx; (void)e; (void)ops; (void)n; (void)validate_only;
	if (bad_type.len < 0)
		return KP_ERR_NONE;
	snprintf(msg, msg_size, "Unhandled client quota entity type: %.*s", (int)bad_type.len,
		 bad_type.ptr);
	return KP_ERR_INVALID_REQUEST;
}

/* SASL: the listener offers PLAIN; a token is read whole and echoed. */
static int16_t
fuzz_admin_sasl_handshake(void *ctx, const struct kp_session *session, int16_t version,
			  struct kp_str mech, struct kp_sasl_mechs *mechs)
{
	(void)ctx; (void)session; (void)version;
	mechs->count = 1;
	mechs->names[0] = "PLAIN";
	return kp_str_eq(mech, kp_str_c("PLAIN")) ? KP_ERR_NONE : KP_ERR_UNSUPPORTED_SASL_MECHANISM;
}

static int16_t
fuzz_admin_sasl_authenticate(void *ctx, const struct kp_session *session, int16_t version,
			     struct kp_bytes token, struct kp_sasl_reply *reply, char *msg,
			     size_t msg_size)
{
	(void)ctx; (void)session;
	reply->token_len = token.len > 0 ? (uint32_t)token.len : 0;
	if (reply->token_len > sizeof(reply->token))
		reply->token_len = sizeof(reply->token);
	if (reply->token_len > 0)
		memcpy(reply->token, token.ptr, reply->token_len);
	reply->session_lifetime_ms = version;
	reply->raw = version == 0 && reply->token_len % 2 == 1;
	snprintf(msg, msg_size, "fuzz");
	return reply->token_len % 3 == 0 ? KP_ERR_NONE : KP_ERR_SASL_AUTHENTICATION_FAILED;
}

static bool
fuzz_admin_scram_user(void *ctx, struct kp_str name, struct kp_scram_user *user)
{
	(void)ctx;
	if (name.len <= 0 || name.len % 2 == 1)
		return false;
	user->name = name;
	user->count = 1;
	user->info[0].mechanism = 1;
	user->info[0].iterations = 4096;
	return true;
}

static bool
fuzz_admin_scram_user_at(void *ctx, int32_t index, struct kp_scram_user *user)
{
	return index < 2 && fuzz_admin_scram_user(ctx, kp_str_c("fz"), user);
}

static int16_t
fuzz_admin_scram_alter(void *ctx, const struct kp_scram_op *op, bool check_only, char *msg,
		       size_t msg_size)
{
	size_t sum = 0;

	(void)ctx; (void)check_only;
	for (int32_t b = 0; b < op->name.len; b++)
		sum += (unsigned char)op->name.ptr[b];
	for (int32_t b = 0; b < op->salt.len; b++)
		sum += op->salt.ptr[b];
	for (int32_t b = 0; b < op->salted_password.len; b++)
		sum += op->salted_password.ptr[b];
	snprintf(msg, msg_size, "%zu", sum);
	return sum % 2 == 0 ? KP_ERR_NONE : KP_ERR_UNACCEPTABLE_CREDENTIAL;
}

/* ElectLeaders: answers vary with the partition, every code the handler
 * has a message for. */
static void
fuzz_admin_leaders_elect(void *ctx, int8_t type, struct kp_elect *parts, int32_t count,
			 int32_t timeout_ms)
{
	static const int16_t errs[] = {
		KP_ERR_NONE, KP_ERR_ELECTION_NOT_NEEDED, KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE,
		KP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE, KP_ERR_REQUEST_TIMED_OUT,
		KP_ERR_UNKNOWN_SERVER_ERROR,
	};

	(void)ctx; (void)timeout_ms;
	for (int32_t i = 0; i < count; i++)
		parts[i].error = errs[((uint32_t)parts[i].partition + (uint32_t)type) %
				      (sizeof(errs) / sizeof(errs[0]))];
}

/* AlterPartitionReassignments: answers vary with the partition and its
 * replica count; a top-level NOT_CONTROLLER now and then. */
static int16_t
fuzz_admin_reassign(void *ctx, struct kp_reassign *parts, int32_t count, int32_t timeout_ms)
{
	static const int16_t errs[] = {
		KP_ERR_NONE, KP_ERR_INVALID_REPLICA_ASSIGNMENT, KP_ERR_NO_REASSIGNMENT_IN_PROGRESS,
		KP_ERR_UNKNOWN_TOPIC_OR_PARTITION, KP_ERR_REQUEST_TIMED_OUT,
	};

	(void)ctx;
	if (timeout_ms == 41)
		return KP_ERR_NOT_CONTROLLER;
	for (int32_t i = 0; i < count; i++) {
		uint32_t k = (uint32_t)parts[i].partition + (uint32_t)parts[i].replica_count;
		uint32_t sum = 0;       /* wraps: any ids from the wire */

		for (int32_t j = 0; j < parts[i].replica_count; j++)
			sum += (uint32_t)parts[i].replicas[j];
		parts[i].error = errs[k % (sizeof(errs) / sizeof(errs[0]))];
		parts[i].message[0] = '\0';
		if (k % 2)
			snprintf(parts[i].message, sizeof(parts[i].message), "%u", sum);
	}
	return KP_ERR_NONE;
}

/* ListPartitionReassignments: two ongoing moves of topic "t". */
static int16_t
fuzz_admin_reassign_list(void *ctx, struct kp_reassign_state **out, int32_t *count)
{
	(void)ctx;
	*out = calloc(2, sizeof(**out));
	*count = 0;
	if (*out == NULL)
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	for (int32_t i = 0; i < 2; i++) {
		struct kp_reassign_state *s = &(*out)[(*count)++];

		snprintf(s->topic, sizeof(s->topic), "t");
		s->partition = i;
		s->replica_count = 3;
		s->replicas[0] = 1;
		s->replicas[1] = 2;
		s->replicas[2] = 3;
		s->adding_count = 1;
		s->adding[0] = 1;
		s->removing_count = i;
		s->removing[0] = 3;
	}
	return KP_ERR_NONE;
}

static const struct kp_admin_ops fuzz_admin = {
	.topic_create = fuzz_admin_create, .topic_delete = fuzz_admin_delete,
	.partitions_create = fuzz_admin_partitions, .configs_describe = fuzz_admin_configs,
	.configs_alter = fuzz_admin_configs_alter,
	.topic_spec_configs = fuzz_admin_spec_configs,
	.topic_auto_create = fuzz_admin_auto_create,
	.producer_id_next = fuzz_admin_producer_id,
	.md = fuzz_admin_md, .md_fresh = fuzz_admin_md,
	.log_dir_describe = fuzz_admin_log_dir,
	.quotas_describe = fuzz_admin_quotas_describe, .quota_alter = fuzz_admin_quota_alter,
	.sasl_handshake = fuzz_admin_sasl_handshake,
	.sasl_authenticate = fuzz_admin_sasl_authenticate,
	.scram_user = fuzz_admin_scram_user, .scram_user_at = fuzz_admin_scram_user_at,
	.scram_alter = fuzz_admin_scram_alter,
	.leaders_elect = fuzz_admin_leaders_elect,
	.reassign = fuzz_admin_reassign, .reassign_list = fuzz_admin_reassign_list,
};

static void
fuzz_env_init(void)
{
	if (fuzz_kc != NULL)
		return;
	/* Partition 0 has data below offset 16, up to 100 bytes a read. */
	fuzz_kc = kp_core_create(fake_st_reset(), 0, 1);
	fake_st.log_end = 0;
	fake_st.read_len = 100;
	fake_st.read_end = 16;
	if (fuzz_kc == NULL)
		abort();
}

static void
fuzz_done_free(const struct kp_done *done, uint64_t tag)
{
	if (done->tag != tag)
		abort();        /* an answer under another request's tag */
	if (done->verdict == KP_VERDICT_REPLY)
		free(done->resp.data);
	else if (done->resp.data != NULL || done->piece_count != 0)
		abort();        /* a body for a request that gets none */
	if (done->piece_count > 0)
		kp_core_pieces_release(fuzz_kc, done->pieces, done->piece_count);
	else
		free(done->pieces);
}

/* Poll the core until the pending request under tag is answered, moving
 * the clock to the next long-poll deadline when nothing else happens. */
static void
fuzz_pending_finish(const struct kp_env *env)
{
	for (int turn = 0; turn < FUZZ_POLL_TURNS_MAX; turn++) {
		struct kp_done done[FUZZ_DONE_BURST];
		unsigned n = kp_core_poll(fuzz_kc, env, fuzz_now_ns, done, FUZZ_DONE_BURST);

		if (n > 1)
			abort();        /* only one request is in flight */
		if (n == 1) {
			fuzz_done_free(&done[0], env->tag);
			kp_core_flush(fuzz_kc);
			return;
		}
		uint64_t deadline_ns = kp_core_deadline(fuzz_kc);

		if (deadline_ns != UINT64_MAX && deadline_ns > fuzz_now_ns)
			fuzz_now_ns = deadline_ns;
	}
	abort();        /* a request that never finishes */
}

/* Control answers, never forwards nor waits. */
static void
fuzz_control(const uint8_t *frame, uint32_t len)
{
	struct kp_env env = { .md = &fuzz_md, .request_bytes_max = 100u << 20,
			      .admin = &fuzz_admin };
	struct kp_out out;
	enum kp_verdict verdict;

	memset(&out, 0, sizeof(out));
	verdict = kp_dispatch_control(&env, frame, len, &out);
	if (verdict == KP_VERDICT_REPLY)
		free(out.resp.data);
	else if (verdict != KP_VERDICT_NO_REPLY && verdict != KP_VERDICT_CLOSE)
		abort();
}

static void
fuzz_dispatch(const uint8_t *frame, uint32_t len)
{
	struct kp_env env = { .md = &fuzz_md, .request_bytes_max = 100u << 20,
			      .kc = fuzz_kc, .slot = 0, .conn = 0 };
	struct kp_out out;

	env.tag = ++fuzz_tag;
	env.frame_tag = env.tag;
	env.frame_keep = (env.tag & 1) != 0;   /* both ways of holding the frame */
	memset(&out, 0, sizeof(out));
	switch (kp_dispatch(&env, frame, len, &out)) {
	case KP_VERDICT_REPLY:
		free(out.resp.data);
		break;
	case KP_VERDICT_FORWARD:
		fuzz_control(out.fwd.data, out.fwd.len);
		free(out.fwd.data);
		break;
	case KP_VERDICT_PENDING:
		fuzz_pending_finish(&env);
		break;
	case KP_VERDICT_NO_REPLY:
	case KP_VERDICT_CLOSE:
	case KP_VERDICT_PARKED:         /* control only */
		break;
	}
	kp_core_flush(fuzz_kc);
	if (fake_st.refs_held != 0)
		abort();        /* a file region never handed back */
}

/* ---- the codec ---- */

static void
fuzz_check_fixed_point(int16_t key, int16_t version, const uint8_t *body, size_t len,
		       bool response)
{
	struct kp_cursor c = kp_cursor_make(body, len);
	struct kp_writer w1, w2;
	int rc;

	rc = response ? kp_response_decode_any(key, version, &c)
		      : kp_request_decode_any(key, version, &c);
	if (rc != 0)
		return;
	kp_writer_init(&w1, 0);
	kp_writer_init(&w2, 0);
	c = kp_cursor_make(body, len);
	rc = response ? kp_response_roundtrip_any(key, version, &c, &w1)
		      : kp_request_roundtrip_any(key, version, &c, &w1);
	if (rc != 0)
		abort();        /* decoded but could not be encoded again */
	c = kp_cursor_make(w1.buf, w1.len);
	rc = response ? kp_response_roundtrip_any(key, version, &c, &w2)
		      : kp_request_roundtrip_any(key, version, &c, &w2);
	if (rc != 0 || kp_cursor_left(&c) != 0 || w1.len != w2.len ||
	    (w1.len > 0 && memcmp(w1.buf, w2.buf, w1.len) != 0))
		abort();        /* not a fixed point */
	kp_writer_free(&w1);
	kp_writer_free(&w2);
}

static void
fuzz_codec(const uint8_t *frame, size_t len)
{
	struct kp_cursor c = kp_cursor_make(frame, len);
	struct kp_request_header h;
	int16_t hv = 1;

	if (len >= 4) {
		int16_t key = (int16_t)((frame[0] << 8) | frame[1]);
		int16_t version = (int16_t)((frame[2] << 8) | frame[3]);
		int16_t v = kp_request_header_version(key, version);
		if (v >= 0)
			hv = v;
	}
	if (kp_request_header_decode(&c, hv, &h) != 0)
		return;
	fuzz_check_fixed_point(h.request_api_key, h.request_api_version, c.pos,
			       kp_cursor_left(&c), false);
	/* The same bytes as a response body widen coverage for free. */
	fuzz_check_fixed_point(h.request_api_key, h.request_api_version, c.pos,
			       kp_cursor_left(&c), true);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_env_init();
	while (size >= 4) {
		uint32_t n = ((uint32_t)data[0] << 24) | ((uint32_t)data[1] << 16) |
			     ((uint32_t)data[2] << 8) | data[3];
		data += 4;
		size -= 4;
		if (n > size)
			n = (uint32_t)size;
		/* An exactly-sized copy, so ASan sees reads past the frame. */
		uint8_t *frame = malloc(n > 0 ? n : 1);
		if (frame == NULL)
			return 0;
		memcpy(frame, data, n);
		fuzz_dispatch(frame, n);
		fuzz_codec(frame, n);
		free(frame);
		data += n;
		size -= n;
	}
	return 0;
}
