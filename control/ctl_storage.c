/* SPDX-License-Identifier: Apache-2.0 */
/* Control's side of storage: each topic's log settings resolved from its
 * overrides and the broker config, the partition logs opened, created and
 * deleted in step with the topic store, and the start-up sweep of
 * directories the store does not know. @thread control */
#include <errno.h>
#include <stdio.h>
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
ctl_storage_log_config(const struct config *cfg, const struct kp_topic_config *o, int32_t n,
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
	topic_config_get_text(cfg, o, n, "cleanup.policy", text, sizeof(text));
	lc->compact = strstr(text, "compact") != NULL;
	lc->delete_policy = strstr(text, "delete") != NULL;
	lc->delete_retention_ms = topic_config_get_i64(cfg, o, n, "delete.retention.ms");
	lc->min_compaction_lag_ms = topic_config_get_i64(cfg, o, n, "min.compaction.lag.ms");
	lc->max_compaction_lag_ms = topic_config_get_i64(cfg, o, n, "max.compaction.lag.ms");
	lc->min_cleanable_dirty_ratio = strtod(topic_config_get_text(cfg, o, n,
								     "min.cleanable.dirty.ratio",
								     text, sizeof(text)), NULL);
	lc->producer_id_expiration_ms = cfg->producer_id_expiration_ms;
}

int32_t
ctl_storage_topic_max_message_bytes(const struct config *cfg, const struct md_topic *t)
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
	ctl_storage_log_config(ctl->cfg, o, t->config_count, &lc);
	free(o);
	rc = st_partitions_open(ctl->st, t->id.b, t->name, from, t->partition_count, &lc);
	if (rc != 0)
		log_error("control", "topic %s: cannot open partitions %d..%d: %d", t->name, from,
			  t->partition_count - 1, rc);
	return rc;
}

void
ctl_storage_reconfigure(struct ctl *ctl, const struct md_topic *t)
{
	struct kp_topic_config *o;
	struct st_log_config lc;
	int rc;

	if (ctl->st == NULL)
		return;
	o = ctl_storage_overrides(t);
	if (o == NULL) {
		log_error("control", "topic %s: settings not applied: out of memory", t->name);
		return;
	}
	ctl_storage_log_config(ctl->cfg, o, t->config_count, &lc);
	free(o);
	rc = st_topic_configure(ctl->st, t->id.b, t->partition_count, &lc);
	if (rc != 0)
		log_error("control", "topic %s: settings not applied: %s", t->name, strerror(-rc));
}

/* A NUL-terminated copy of a topic name from the wire (validated by the
 * handler: at most 249 legal characters). */
static void
ctl_storage_name(struct kp_str name, char *buf, size_t size)
{
	snprintf(buf, size, "%.*s", (int)(name.len < 0 ? 0 : name.len), name.ptr);
}

int
ctl_storage_create(struct ctl *ctl, struct kp_str name, const struct kp_uuid *id, int32_t from,
		   int32_t to, const struct kp_topic_config *configs, int32_t config_count)
{
	struct st_log_config lc;
	char text[256];
	int rc;

	if (ctl->st == NULL)
		return 0;
	ctl_storage_name(name, text, sizeof(text));
	ctl_storage_log_config(ctl->cfg, configs, config_count, &lc);
	rc = st_partitions_create(ctl->st, id->b, text, from, to, &lc);
	if (rc != 0)
		log_error("control", "topic %s: cannot create partitions %d..%d (%s); the "
			  "partitions of this request were removed again", text, from, to - 1,
			  strerror(-rc));
	return rc;
}

void
ctl_storage_remove(struct ctl *ctl, struct kp_str name, const struct kp_uuid *id,
		   int32_t from, int32_t to)
{
	char text[256];
	int rc;

	if (ctl->st == NULL)
		return;
	ctl_storage_name(name, text, sizeof(text));
	rc = st_partitions_delete(ctl->st, id->b, text, from, to);
	if (rc != 0)
		log_warn("control", "topic %s: removing partitions %d..%d failed: %s", text, from,
			 to - 1, strerror(-rc));
}

/* The store's topics sorted by name, for the start-up sweep's lookups
 * (one per directory in the log dir). */
struct ctl_storage_index {
	const struct md_topic **topics;
	int32_t count;
};

static int
ctl_storage_topic_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct md_topic *const *)a)->name,
		      (*(const struct md_topic *const *)b)->name);
}

static bool
ctl_storage_known(void *arg, const char *topic, int32_t partition)
{
	const struct ctl_storage_index *ix = arg;
	int32_t lo = 0, hi = ix->count;

	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ix->topics[mid]->name, topic);

		if (c == 0)
			return partition < ix->topics[mid]->partition_count;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Remove the directories of partitions the store does not know (a create
 * or delete that a crash interrupted, a topic deleted while its directory
 * could not be) before opening the ones it does. A failure only leaves
 * them there, so start-up goes on. */
static void
ctl_storage_clean(struct ctl *ctl)
{
	struct ctl_storage_index ix = { .count = ctl->store.topic_count };
	int rc;

	ix.topics = calloc((size_t)ix.count + 1, sizeof(*ix.topics));
	if (ix.topics == NULL) {
		log_warn("control", "log dir sweep skipped: out of memory");
		return;
	}
	for (int32_t i = 0; i < ix.count; i++)
		ix.topics[i] = &ctl->store.topics[i];
	qsort(ix.topics, (size_t)ix.count, sizeof(*ix.topics), ctl_storage_topic_cmp);
	rc = st_log_dir_clean(ctl->st, ctl_storage_known, &ix);
	if (rc != 0)
		log_warn("control", "log dir sweep failed: %s", strerror(-rc));
	free(ix.topics);
}

int
ctl_storage_open_all(struct ctl *ctl)
{
	if (ctl->st != NULL)
		ctl_storage_clean(ctl);
	for (int32_t i = 0; i < ctl->store.topic_count; i++) {
		int rc = ctl_storage_open(ctl, &ctl->store.topics[i], 0);

		if (rc != 0)
			return rc;
	}
	return 0;
}
