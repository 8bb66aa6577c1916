/* SPDX-License-Identifier: Apache-2.0 */
/* The one table of supported APIs: {api_key, advertised min, max, where,
 * handler}. ApiVersions answers from it, so what is advertised cannot drift
 * from what is handled. Ranges follow the requirements table in
 * shared/reference/kafka-protocol-requirements.md section 9. */
#include "common/compiler.h"
#include "protocol/gen/kp_api.h"
#include "protocol/kp_int.h"

/* Produce is advertised from v0 but handled from v3: librdkafka before
 * 2.11.1 turns compression off unless v0 is advertised (KAFKA-18659), and
 * Kafka 4 closes the connection for v0-2 as we do. */
const struct kp_api_row kp_api_table[] = {
	{ KP_API_PRODUCE, 0, 3, 11, KP_ON_CORE, kp_handle_produce },
	{ KP_API_FETCH, 4, 4, 17, KP_ON_CORE, kp_handle_fetch },
	{ KP_API_LIST_OFFSETS, 1, 1, 7, KP_ON_CORE, kp_handle_list_offsets },
	{ KP_API_METADATA, 0, 0, 12, KP_ON_CORE, kp_handle_metadata },
	{ KP_API_API_VERSIONS, 0, 0, 4, KP_ON_CORE, kp_handle_api_versions },
	{ KP_API_CREATE_TOPICS, 2, 2, 7, KP_ON_CONTROL, kp_handle_create_topics },
	{ KP_API_DELETE_TOPICS, 1, 1, 6, KP_ON_CONTROL, kp_handle_delete_topics },
	{ KP_API_INIT_PRODUCER_ID, 0, 0, 5, KP_ON_CONTROL, kp_handle_init_producer_id },
	{ KP_API_OFFSET_FOR_LEADER_EPOCH, 2, 2, 4, KP_ON_CORE,
	  kp_handle_offset_for_leader_epoch },
	{ KP_API_DESCRIBE_CONFIGS, 1, 1, 4, KP_ON_CONTROL, kp_handle_describe_configs },
	{ KP_API_CREATE_PARTITIONS, 0, 0, 3, KP_ON_CONTROL, kp_handle_create_partitions },
	{ KP_API_DESCRIBE_CLUSTER, 0, 0, 1, KP_ON_CORE, kp_handle_describe_cluster },
	/* The group coordinator, on control (kp_admin_ops.group). OffsetCommit
	 * and OffsetFetch are advertised from where Kafka 4.0 starts them, but
	 * older versions are handled as Kafka 3.9 does: v0 is answered
	 * UNSUPPORTED_VERSION per partition, OffsetCommit v1 works. */
	{ KP_API_OFFSET_COMMIT, 2, 0, 9, KP_ON_CONTROL, kp_handle_group },
	{ KP_API_OFFSET_FETCH, 1, 0, 9, KP_ON_CONTROL, kp_handle_group },
	{ KP_API_FIND_COORDINATOR, 0, 0, 6, KP_ON_CONTROL, kp_handle_group },
	{ KP_API_JOIN_GROUP, 0, 0, 9, KP_ON_CONTROL, kp_handle_group },
	{ KP_API_HEARTBEAT, 0, 0, 4, KP_ON_CONTROL, kp_handle_group },
	{ KP_API_LEAVE_GROUP, 0, 0, 5, KP_ON_CONTROL, kp_handle_group },
	{ KP_API_SYNC_GROUP, 0, 0, 5, KP_ON_CONTROL, kp_handle_group },
	{ KP_API_DESCRIBE_GROUPS, 0, 0, 5, KP_ON_CONTROL, kp_handle_group },
	{ KP_API_LIST_GROUPS, 0, 0, 5, KP_ON_CONTROL, kp_handle_group },
	{ KP_API_DELETE_GROUPS, 0, 0, 2, KP_ON_CONTROL, kp_handle_group },
	{ KP_API_OFFSET_DELETE, 0, 0, 0, KP_ON_CONTROL, kp_handle_group },
	{ KP_API_DELETE_RECORDS, 0, 0, 2, KP_ON_CORE, kp_handle_delete_records },
	{ KP_API_DESCRIBE_LOG_DIRS, 0, 0, 4, KP_ON_CONTROL, kp_handle_describe_log_dirs },
	{ KP_API_ALTER_CONFIGS, 0, 0, 2, KP_ON_CONTROL, kp_handle_alter_configs },
	{ KP_API_INCREMENTAL_ALTER_CONFIGS, 0, 0, 1, KP_ON_CONTROL,
	  kp_handle_incremental_alter_configs },
	/* Client quotas: the store is control's (control/quota.c). */
	{ KP_API_DESCRIBE_CLIENT_QUOTAS, 0, 0, 1, KP_ON_CONTROL,
	  kp_handle_describe_client_quotas },
	{ KP_API_ALTER_CLIENT_QUOTAS, 0, 0, 1, KP_ON_CONTROL, kp_handle_alter_client_quotas },
	/* SASL and SCRAM credentials: control's (control/ctl_sasl.c). */
	{ KP_API_SASL_HANDSHAKE, 0, 0, 1, KP_ON_CONTROL, kp_handle_sasl_handshake },
	{ KP_API_SASL_AUTHENTICATE, 0, 0, 2, KP_ON_CONTROL, kp_handle_sasl_authenticate },
	{ KP_API_DESCRIBE_USER_SCRAM_CREDENTIALS, 0, 0, 0, KP_ON_CONTROL,
	  kp_handle_describe_user_scram_credentials },
	{ KP_API_ALTER_USER_SCRAM_CREDENTIALS, 0, 0, 0, KP_ON_CONTROL,
	  kp_handle_alter_user_scram_credentials },
	{ KP_API_DESCRIBE_PRODUCERS, 0, 0, 0, KP_ON_CORE, kp_handle_describe_producers },
	/* ACLs: the store is control's (control/acl.c). */
	{ KP_API_DESCRIBE_ACLS, 0, 0, 3, KP_ON_CONTROL, kp_handle_describe_acls },
	{ KP_API_CREATE_ACLS, 0, 0, 3, KP_ON_CONTROL, kp_handle_create_acls },
	{ KP_API_DELETE_ACLS, 0, 0, 3, KP_ON_CONTROL, kp_handle_delete_acls },
	/* ElectLeaders: control writes the elections (cluster mode). */
	{ KP_API_ELECT_LEADERS, 0, 0, 2, KP_ON_CONTROL, kp_handle_elect_leaders },
	/* Reassignments: the controller's (cluster mode). */
	{ KP_API_ALTER_PARTITION_REASSIGNMENTS, 0, 0, 0, KP_ON_CONTROL,
	  kp_handle_alter_partition_reassignments },
	{ KP_API_LIST_PARTITION_REASSIGNMENTS, 0, 0, 0, KP_ON_CONTROL,
	  kp_handle_list_partition_reassignments },
};

const int kp_api_table_len = (int)ARRAY_LEN(kp_api_table);
