/* SPDX-License-Identifier: Apache-2.0 */
/* Control's side of storage: each topic's log settings resolved from its
 * overrides and the broker config, and the partition logs opened, grown and
 * deleted in step with the topic store. @thread control */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "control/config.h"
#include "control/ctl_int.h"
#include "control/topic_config.h"
#include "storage/st.h"

/* A topic's overrides as kp_topic_config views; free() the result. */
static struct kp_topic_config *
ctl_storage_overrides(const struct md_topic *t)
{
	struct kp_topic_config *o = calloc((size_t)t->config_count + 1, sizeof(*o));

	for (int32_t i = 0; o != NULL && i < t->config_count; i++) {
		o[i].name = kp_str_c(t->configs[i].name);
		o[i].value = kp_str_c(t->configs[i].value);
	}
	return o;
}

void
ctl_log_config(const struct config *cfg, const struct kp_topic_config *o, int32_t n,
	       struct st_log_config *lc)
{
	char text[64];

	memset(lc, 0, sizeof(*lc));
	lc->segment_bytes = topic_config_get_i64(cfg, o, n, "segment.bytes");
	lc->segment_ms = topic_config_get_i64(cfg, o, n, "segment.ms");
	lc->retention_ms = topic_config_get_i64(cfg, o, n, "retention.ms");
	lc->retention_bytes = topic_config_get_i64(cfg, o, n, "retention.bytes");
	lc->max_message_bytes = (int32_t)topic_config_get_i64(cfg, o, n, "max.message.bytes");
	lc->index_interval_bytes = (int32_t)topic_config_get_i64(cfg, o, n,
								 "index.interval.bytes");
	lc->segment_index_bytes = (int32_t)topic_config_get_i64(cfg, o, n, "segment.index.bytes");
	lc->flush_messages = topic_config_get_i64(cfg, o, n, "flush.messages");
	lc->flush_ms = topic_config_get_i64(cfg, o, n, "flush.ms");
	lc->log_append_time = strcmp(topic_config_get_text(cfg, o, n, "message.timestamp.type",
							   text, sizeof(text)),
				     "LogAppendTime") == 0;
	lc->compact = strstr(topic_config_get_text(cfg, o, n, "cleanup.policy", text,
						   sizeof(text)), "compact") != NULL;
	lc->producer_id_expiration_ms = cfg->producer_id_expiration_ms;
}

int32_t
ctl_topic_max_message_bytes(const struct config *cfg, const struct md_topic *t)
{
	struct kp_topic_config *o = ctl_storage_overrides(t);
	int32_t v;

	v = (int32_t)topic_config_get_i64(cfg, o, o == NULL ? 0 : t->config_count,
					  "max.message.bytes");
	free(o);
	return v;
}

int
ctl_storage_open(struct ctl *ctl, const struct md_topic *t, int32_t from)
{
	struct kp_topic_config *o = ctl_storage_overrides(t);
	struct st_log_config lc;
	int rc;

	if (ctl->st == NULL)
		return 0;
	if (o == NULL)
		return -12;     /* -ENOMEM */
	ctl_log_config(ctl->cfg, o, t->config_count, &lc);
	free(o);
	rc = st_partitions_open(ctl->st, t->id.b, t->name, from, t->partition_count, &lc);
	if (rc != 0)
		log_error("control", "topic %s: cannot open partitions %d..%d: %d", t->name, from,
			  t->partition_count - 1, rc);
	return rc;
}

int
ctl_storage_open_all(struct ctl *ctl)
{
	for (int32_t i = 0; i < ctl->store.topic_count; i++) {
		int rc = ctl_storage_open(ctl, &ctl->store.topics[i], 0);

		if (rc != 0)
			return rc;
	}
	return 0;
}
