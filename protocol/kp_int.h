/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to protocol/: the request header, the handler call context and the
 * dispatch table. Not included from outside protocol/. */
#ifndef PROTOCOL_KP_INT_H
#define PROTOCOL_KP_INT_H

#include "protocol/gen/kp_msg_header.h"
#include "protocol/kp.h"

/* Partitions a topic may have (CreateTopics, CreatePartitions); each
 * becomes a log with open files. */
#define KP_TOPIC_PARTITIONS_MAX 10000

/* Smallest frame that holds api_key, api_version and correlation_id. */
#define KP_FRAME_BYTES_MIN 8

/* Where a handler runs. */
enum kp_where {
	KP_ON_CORE = 0,         /* answered from the core's metadata snapshot */
	KP_ON_CONTROL = 1,      /* forwarded to the control thread */
};

/* One request being handled. The handler decodes call->body at
 * call->hdr.request_api_version and encodes the response body into call->w, after the
 * response header that dispatch already wrote. */
struct kp_call {
	const struct kp_env *env;
	const uint8_t *frame;           /* the request (after the size prefix) */
	uint32_t frame_len;
	struct kp_out *out;
	struct kp_request_header hdr;   /* client_id points into the frame */
	struct kp_cursor body;
	struct kp_cursor body_start;    /* body before the handler read it */
	struct kp_writer *w;
};

/* Returns KP_VERDICT_REPLY (body written), KP_VERDICT_NO_REPLY,
 * KP_VERDICT_FORWARD (only on a core: run me on control instead) or
 * KP_VERDICT_CLOSE (undecodable body: Kafka closes the connection). */
typedef enum kp_verdict kp_handler_fn(struct kp_call *call);

struct kp_api_row {
	int16_t api_key;
	int16_t version_min;    /* advertised minimum */
	int16_t accept_min;     /* lowest version handled (Produce: 3, KAFKA-18659) */
	int16_t version_max;
	enum kp_where where;
	kp_handler_fn *handler;
};

/* The one table: ApiVersions is answered from it (kp_api_table.c). */
extern const struct kp_api_row kp_api_table[];
extern const int kp_api_table_len;
const struct kp_api_row *kp_dispatch_row_get(int16_t api_key);

/* Response framing (kp_response.c) for requests finished later (pending on storage): size
 * placeholder, correlation id and the header's tagged fields; then patch the
 * size (which counts the writer's holes) and hand over the buffer. */
void kp_response_begin(struct kp_writer *w, const struct kp_request_header *hdr);
/* Whether the response header of this API and version has tagged fields
 * (never for ApiVersions, KIP-511). */
bool kp_response_header_flexible(int16_t api_key, int16_t version);
bool kp_response_end(struct kp_writer *w, struct kp_buf *out);

/* Whether the handler runs on control (call->env->admin is set). */
static inline bool
kp_call_on_control(const struct kp_call *call)
{
	return call->env->admin != NULL;
}

/* A decoded count with null (-1) read as zero. */
static inline int32_t
kp_count0(int32_t count)
{
	return count < 0 ? 0 : count;
}

/* Kafka's topic-name rules (Topic.validate). Returns KP_ERR_NONE or
 * KP_ERR_INVALID_TOPIC_EXCEPTION with Kafka's message in msg. */
int16_t kp_topic_name_check(struct kp_str name, char *msg, size_t msg_size);

/* Whether name is one of Kafka's internal topics (Topic.isInternal:
 * __consumer_offsets, __transaction_state, __share_group_state). */
bool kp_topic_internal(struct kp_str name);

/* Bytes of results an admin request (DescribeConfigs, CreateTopics) may
 * build in full; past it, the remaining resources get a short error instead
 * (Kafka has no such bound: DescribeConfigs naming the broker 10,000 times
 * answers 142 MB). Large enough for a few thousand topics' configs with
 * documentation. */
#define KP_ADMIN_RESPONSE_BYTES_MAX (8u << 20)

/* Flags of kp_topic_names_mark_dups(): a name listed more than once, and the
 * first (lowest index) of its copies. */
enum {
	KP_NAME_DUP = 1,
	KP_NAME_DUP_FIRST = 2,
};

/* Set flags[i] (KP_NAME_*) for every name listed more than once, in
 * O(n log n) (admin requests may list very many topics); 0 for the others.
 * 0, or -1 when out of memory. */
int kp_topic_names_mark_dups(const struct kp_str *names, int32_t count, uint8_t *flags);

/* Decode the next element of a name-keyed array and return its name. */
typedef struct kp_str kp_next_name_fn(struct kp_cursor *it, int16_t version);

/* KP_NAME_* flags for each element of arr by its name; NULL when out of
 * memory. The caller frees it. */
uint8_t *kp_topic_array_name_dups(const struct kp_array *arr, int16_t version,
			    kp_next_name_fn *next_name);

/* kp_alter_configs.c, for the AlterConfigs and IncrementalAlterConfigs
 * handlers: dup[i] for each resource whose type and name another resource
 * of the request has too (0, or -1 when out of memory); and one resource's
 * answer: Kafka's broker-side checks, then control's configs_alter. msg
 * gets the message ("" for none). ops NULL with op_count above
 * KP_CONFIG_OPS_MAX: too many to decode. */
#define KP_CONFIG_OPS_MAX 1024
int kp_ac_mark_dups(const int8_t *types, const struct kp_str *names, int32_t count, bool *dup);
int16_t kp_ac_resource(struct kp_call *call, int8_t type, struct kp_str name,
		       const struct kp_config_op *ops, int32_t op_count, bool incremental,
		       bool validate_only, bool dup, char *msg, size_t msg_size);

/* Handlers, one file each under protocol/handlers/. */
kp_handler_fn kp_handle_api_versions;
kp_handler_fn kp_handle_metadata;
kp_handler_fn kp_handle_create_topics;
kp_handler_fn kp_handle_delete_topics;
kp_handler_fn kp_handle_create_partitions;
kp_handler_fn kp_handle_describe_configs;
kp_handler_fn kp_handle_alter_configs;
kp_handler_fn kp_handle_incremental_alter_configs;
kp_handler_fn kp_handle_describe_cluster;
kp_handler_fn kp_handle_produce;
kp_handler_fn kp_handle_fetch;
kp_handler_fn kp_handle_list_offsets;
kp_handler_fn kp_handle_offset_for_leader_epoch;
kp_handler_fn kp_handle_delete_records;
kp_handler_fn kp_handle_describe_producers;
kp_handler_fn kp_handle_describe_log_dirs;
kp_handler_fn kp_handle_init_producer_id;
kp_handler_fn kp_handle_group;            /* every group coordinator API */
kp_handler_fn kp_handle_describe_client_quotas;
kp_handler_fn kp_handle_alter_client_quotas;
kp_handler_fn kp_handle_describe_user_scram_credentials;
kp_handler_fn kp_handle_elect_leaders;
kp_handler_fn kp_handle_alter_partition_reassignments;
kp_handler_fn kp_handle_list_partition_reassignments;
kp_handler_fn kp_handle_describe_acls;
kp_handler_fn kp_handle_create_acls;
kp_handler_fn kp_handle_delete_acls;
kp_handler_fn kp_handle_alter_user_scram_credentials;
kp_handler_fn kp_handle_sasl_handshake;
kp_handler_fn kp_handle_sasl_authenticate;

#endif
