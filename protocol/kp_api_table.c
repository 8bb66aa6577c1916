/* SPDX-License-Identifier: Apache-2.0 */
/* The one table of supported APIs: {api_key, advertised min, max, where,
 * handler}. ApiVersions answers from it, so what is advertised cannot drift
 * from what is handled. Ranges follow the requirements table in
 * shared/reference/kafka-protocol-requirements.md section 9. */
#include "common/compiler.h"
#include "protocol/gen/kp_api.h"
#include "protocol/kp_int.h"

const struct kp_api_row kp_api_table[] = {
	{ KP_API_METADATA, 0, 12, KP_ON_CORE, kp_handle_metadata },
	{ KP_API_API_VERSIONS, 0, 4, KP_ON_CORE, kp_handle_api_versions },
	{ KP_API_CREATE_TOPICS, 2, 7, KP_ON_CONTROL, kp_handle_create_topics },
	{ KP_API_DELETE_TOPICS, 1, 6, KP_ON_CONTROL, kp_handle_delete_topics },
	{ KP_API_DESCRIBE_CONFIGS, 1, 4, KP_ON_CONTROL, kp_handle_describe_configs },
	{ KP_API_CREATE_PARTITIONS, 0, 3, KP_ON_CONTROL, kp_handle_create_partitions },
	{ KP_API_DESCRIBE_CLUSTER, 0, 1, KP_ON_CORE, kp_handle_describe_cluster },
};

const int kp_api_table_len = (int)ARRAY_LEN(kp_api_table);
