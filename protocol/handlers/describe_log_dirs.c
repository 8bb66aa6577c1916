/* SPDX-License-Identifier: Apache-2.0 */
/* DescribeLogDirs (key 35), versions 0-4, on the control thread
 * (kafka-log-dirs.sh, AdminClient.describeLogDirs): every log dir with
 * the size of each partition log in it asked for (null topics: all of them), as
 * Kafka's ReplicaManager.describeLogDirs: partitions and topics it does not
 * have are left out, a topic with no partition left is left out, offset lag
 * is 0 (a single broker's log end is its high watermark), and v4 adds the
 * volume's total and usable bytes. */
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_msg_describe_log_dirs.h"
#include "protocol/kp_int.h"

#define KP_LOG_DIRS_MAX 64              /* log.dirs entries (CONFIG_LOG_DIRS_MAX) */

struct log_dirs_part {
	const struct kp_md_topic *topic;        /* in the request's snapshot */
	int32_t partition;
	bool wanted;
	int64_t size;
	int64_t lag;
};

struct log_dirs_list {
	struct log_dirs_part *parts;
	size_t count;
	size_t cap;
	bool oom;
};

static void
log_dirs_add(void *arg, const struct kp_md_topic *topic, int32_t partition, int64_t size,
	     int64_t lag)
{
	struct log_dirs_list *l = arg;

	if (l->count == l->cap) {
		size_t cap = l->cap == 0 ? 64 : l->cap * 2;
		struct log_dirs_part *p = realloc(l->parts, cap * sizeof(*p));

		if (p == NULL) {
			l->oom = true;
			return;
		}
		l->parts = p;
		l->cap = cap;
	}
	l->parts[l->count++] = (struct log_dirs_part){ topic, partition, false, size, lag };
}

/* By topic (the snapshot's topics are one array sorted by name, so their
 * addresses sort by name), then partition. */
static int
log_dirs_cmp(const void *x, const void *y)
{
	const struct log_dirs_part *a = x, *b = y;

	if (a->topic != b->topic)
		return a->topic < b->topic ? -1 : 1;
	return (a->partition > b->partition) - (a->partition < b->partition);
}

static struct log_dirs_part *
log_dirs_find(struct log_dirs_list *l, const struct kp_md_topic *topic, int32_t partition)
{
	struct log_dirs_part key = { .topic = topic, .partition = partition };

	return bsearch(&key, l->parts, l->count, sizeof(key), log_dirs_cmp);
}

/* Mark what the request names (the topics' partition lists, repeats
 * once); all when topics is null. */
static void
log_dirs_select(struct log_dirs_list *l, const struct kp_md *md, int16_t version,
		const struct kp_array *topics)
{
	struct kp_cursor it = kp_array_cursor(topics);

	if (topics->count < 0) {
		for (size_t i = 0; i < l->count; i++)
			l->parts[i].wanted = true;
		return;
	}
	for (int32_t i = 0; i < topics->count; i++) {
		struct kp_describe_log_dirs_request_describable_log_dir_topic t;
		const struct kp_md_topic *topic;
		struct kp_cursor pit;

		kp_describe_log_dirs_request_describable_log_dir_topic_decode(&it, version, &t);
		topic = kp_md_topic_by_name(md, t.topic);
		if (topic == NULL)
			continue;
		pit = kp_array_cursor(&t.partitions);
		for (int32_t k = 0; k < t.partitions.count; k++) {
			struct log_dirs_part *p = log_dirs_find(l, topic, kp_read_i32(&pit));

			if (p != NULL)
				p->wanted = true;
		}
	}
}

static void
log_dirs_encode_part(struct kp_writer *w, int16_t version, const struct log_dirs_part *lp)
{
	struct kp_describe_log_dirs_response_describe_log_dirs_partition r;

	kp_describe_log_dirs_response_describe_log_dirs_partition_init(&r);
	r.partition_index = lp->partition;
	r.partition_size = lp->size;
	r.offset_lag = lp->lag;
	r.is_future_key = false;
	kp_describe_log_dirs_response_describe_log_dirs_partition_encode(w, version, &r);
}

static void
log_dirs_encode_topic(struct kp_writer *w, int16_t version, struct kp_str name, int32_t n,
		      const struct kp_writer *parts)
{
	struct kp_describe_log_dirs_response_describe_log_dirs_topic t;

	kp_describe_log_dirs_response_describe_log_dirs_topic_init(&t);
	t.name = name;
	t.partitions = kp_array_wire(n, parts);
	kp_describe_log_dirs_response_describe_log_dirs_topic_encode(w, version, &t);
}

/* The topics array of the log dir's result: one entry per topic with a
 * partition wanted. Returns the topic count. */
static int32_t
log_dirs_topics(const struct log_dirs_list *l, int16_t version, struct kp_writer *w)
{
	int32_t topic_count = 0;
	size_t i = 0, j;

	while (i < l->count) {
		struct kp_writer parts;
		int32_t n = 0;

		kp_writer_init(&parts, 64);
		for (j = i; j < l->count && l->parts[j].topic == l->parts[i].topic; j++) {
			if (l->parts[j].wanted) {
				log_dirs_encode_part(&parts, version, &l->parts[j]);
				n++;
			}
		}
		if (n > 0) {
			log_dirs_encode_topic(w, version, l->parts[i].topic->name, n, &parts);
			topic_count++;
		}
		kp_writer_free(&parts);
		i = j;
	}
	return topic_count;
}

/* One log dir's result; its topics are written into topics. */
static void
log_dirs_result(struct kp_call *call, const struct kp_describe_log_dirs_request *req,
		struct kp_log_dir *dir, struct kp_writer *topics,
		struct kp_describe_log_dirs_response_describe_log_dirs_result *res)
{
	int16_t version = call->hdr.request_api_version;
	const struct kp_admin_ops *admin = call->env->admin;
	struct log_dirs_list l = { 0 };
	int16_t err;

	err = admin->log_dir_describe(call->env->admin_ctx, dir, log_dirs_add, &l);
	if (err == KP_ERR_NONE && l.oom)
		err = KP_ERR_KAFKA_STORAGE_ERROR;
	kp_describe_log_dirs_response_describe_log_dirs_result_init(res);
	res->error_code = err;
	res->log_dir = kp_str_c(dir->path);
	res->topics.count = 0;
	if (err == KP_ERR_NONE) {
		if (l.count > 0)
			qsort(l.parts, l.count, sizeof(*l.parts), log_dirs_cmp);
		log_dirs_select(&l, admin->md(call->env->admin_ctx), version, &req->topics);
		res->topics = kp_array_wire(log_dirs_topics(&l, version, topics), topics);
		if (version >= 4) {
			res->total_bytes = dir->total_bytes;
			res->usable_bytes = dir->usable_bytes;
		}
	}
	free(l.parts);
}

/* Every log dir in log.dirs order, each with its own partitions; an
 * offline one with KAFKA_STORAGE_ERROR alone (ReplicaManager.describeLogDirs). */
enum kp_verdict
kp_handle_describe_log_dirs(struct kp_call *call)
{
	int16_t version = call->hdr.request_api_version;
	struct kp_describe_log_dirs_response_describe_log_dirs_result res[KP_LOG_DIRS_MAX];
	struct kp_writer topics[KP_LOG_DIRS_MAX];
	struct kp_describe_log_dirs_response resp;
	struct kp_describe_log_dirs_request req;
	struct kp_log_dir *dirs;
	int32_t n = 1;

	if (kp_describe_log_dirs_request_decode(&call->body, version, &req) != 0)
		return KP_VERDICT_CLOSE;
	if (!kp_authorize(call->env, KP_ACL_DESCRIBE, KP_RES_CLUSTER,
			  kp_str_c(KP_ACL_CLUSTER_NAME))) {
		/* No results, the error at the top (v3+), as Kafka. */
		kp_describe_log_dirs_response_init(&resp);
		resp.error_code = KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
		resp.results.count = 0;
		kp_describe_log_dirs_response_encode(call->w, version, &resp);
		return KP_VERDICT_REPLY;
	}
	dirs = calloc(KP_LOG_DIRS_MAX, sizeof(*dirs));
	if (dirs == NULL)
		return KP_VERDICT_CLOSE;
	for (int32_t i = 0; i < n; i++) {
		dirs[i].index = i;
		kp_writer_init(&topics[i], 256);
		log_dirs_result(call, &req, &dirs[i], &topics[i], &res[i]);
		if (i == 0 && dirs[0].count > 1)
			n = dirs[0].count < KP_LOG_DIRS_MAX ? dirs[0].count : KP_LOG_DIRS_MAX;
	}
	kp_describe_log_dirs_response_init(&resp);
	resp.results.count = n;
	resp.results.items = res;
	kp_describe_log_dirs_response_encode(call->w, version, &resp);
	for (int32_t i = 0; i < n; i++)
		kp_writer_free(&topics[i]);
	free(dirs);
	return KP_VERDICT_REPLY;
}
