/* SPDX-License-Identifier: Apache-2.0 */
/* The scrape behind /metrics: the cores' counters (relaxed loads), the
 * network backend's, the storage workers' statistics (asked for, blocking),
 * and the control thread's queue, rendered as Prometheus families. Runs on
 * the control thread only, as metrics.c's render callback. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "common/log.h"
#include "control/ctl_int.h"
#include "control/ctl_metrics_stages.h"
#include "control/ctl_sasl.h"
#include "control/ctl_sched.h"
#include "control/metrics.h"
#include "protocol/gen/kp_api.h"
#include "storage/st.h"

struct ctl_metrics_part {
	const struct kp_md_topic *topic;        /* NULL: not in the snapshot (deleted) */
	struct st_partition_stats ps;
};

struct ctl_metrics_scrape {
	const struct kp_md *md;
	struct ctl_metrics_part *parts;
	size_t part_count;
	size_t part_cap;
	struct st_worker_stats *workers;
	int worker_count;
	bool oom;
};

/* A family whose samples are one integer field (4 or 8 bytes) of a
 * statistics struct. */
struct ctl_metrics_family {
	const char *name, *type, *help;
	size_t off;
	size_t size;
};

#define CTL_METRICS_FIELD(stats, field) \
	offsetof(struct stats, field), sizeof(((struct stats *)NULL)->field)

/* The family's field in stats: a uint32_t or a uint64_t (an int64_t field
 * comes back as its bits; cast it back). */
static uint64_t
ctl_metrics_value(const void *stats, const struct ctl_metrics_family *f)
{
	const char *p = (const char *)stats + f->off;
	uint32_t v32;
	uint64_t v64;

	if (f->size == sizeof(v32)) {
		memcpy(&v32, p, sizeof(v32));
		return v32;
	}
	ASSERT_HOT(f->size == sizeof(v64));
	memcpy(&v64, p, sizeof(v64));
	return v64;
}

static void
ctl_metrics_part_add(void *arg, const struct st_partition_stats *ps)
{
	struct ctl_metrics_scrape *s = arg;
	struct kp_uuid id;

	if (s->part_count == s->part_cap) {
		size_t cap = s->part_cap == 0 ? 64 : s->part_cap * 2;
		struct ctl_metrics_part *p = realloc(s->parts, cap * sizeof(*p));

		if (p == NULL) {
			s->oom = true;
			return;
		}
		s->parts = p;
		s->part_cap = cap;
	}
	memcpy(id.b, ps->topic_id, sizeof(id.b));
	s->parts[s->part_count].topic = kp_md_topic_by_id(s->md, &id);
	s->parts[s->part_count].ps = *ps;
	s->part_count++;
}

static void
ctl_metrics_worker_add(void *arg, const struct st_worker_stats *ws)
{
	struct ctl_metrics_scrape *s = arg;

	ASSERT(ws->worker >= 0 && ws->worker < s->worker_count);
	s->workers[ws->worker] = *ws;
}

/* By topic name, then partition: families list their samples in order. */
static int
ctl_metrics_part_cmp(const void *a, const void *b)
{
	const struct ctl_metrics_part *x = a, *y = b;
	int32_t n = x->topic->name.len < y->topic->name.len ? x->topic->name.len
							    : y->topic->name.len;
	int c = memcmp(x->topic->name.ptr, y->topic->name.ptr, (size_t)n);

	if (c != 0)
		return c;
	if (x->topic->name.len != y->topic->name.len)
		return x->topic->name.len < y->topic->name.len ? -1 : 1;
	return x->ps.partition < y->ps.partition ? -1 : x->ps.partition > y->ps.partition;
}

static void
ctl_metrics_api(struct ctl *ctl, struct mx_buf *b)
{
	static const struct ctl_metrics_family f[] = {
		{ "spillway_requests_total", "counter",
		  "Requests answered, by API (api_key for APIs without a name).",
		  CTL_METRICS_FIELD(dp_api_stats, requests) },
		{ "spillway_request_errors_total", "counter",
		  "Requests answered by closing the connection (malformed, unsupported or "
		  "refused), by API. Kafka error codes inside responses are not counted.",
		  CTL_METRICS_FIELD(dp_api_stats, errors) },
		{ "spillway_request_duration_seconds", "histogram",
		  "Time from dispatch to the response being queued, by API.",
		  CTL_METRICS_FIELD(dp_api_stats, latency) },
	};
	static struct dp_api_stats api[DP_API_KEYS];    /* control only: not reentrant */
	char key[8];

	for (int k = 0; k < DP_API_KEYS; k++)
		dp_api_stats_read(ctl->dp, k, &api[k]);
	for (size_t i = 0; i < ARRAY_LEN(f); i++) {
		mx_family(b, f[i].name, f[i].type, f[i].help);
		for (int k = 0; k < DP_API_KEYS; k++) {
			const struct kp_api_info *info = kp_api_info_get((int16_t)k);
			const char *l[] = { "api", key, NULL };

			if (api[k].requests == 0)
				continue;
			snprintf(key, sizeof(key), "%d", k);
			if (info != NULL)
				l[1] = info->name;
			if (f[i].off == offsetof(struct dp_api_stats, latency))
				mx_histogram(b, f[i].name, l, &api[k].latency);
			else
				mx_sample(b, f[i].name, l,
					  (double)ctl_metrics_value(&api[k], &f[i]));
		}
	}
}

static void
ctl_metrics_cores(struct ctl *ctl, struct mx_buf *b)
{
	static const struct ctl_metrics_family f[] = {
		{ "spillway_connections_open", "gauge", "Client connections open, by core.",
		  CTL_METRICS_FIELD(dp_stats, connections_open) },
		{ "spillway_connections_accepted_total", "counter",
		  "Client connections accepted, by core.",
		  CTL_METRICS_FIELD(dp_stats, connections_accepted) },
		{ "spillway_connections_closed_total", "counter",
		  "Client connections closed, by core.",
		  CTL_METRICS_FIELD(dp_stats, connections_closed) },
		{ "spillway_connections_rejected_total", "counter",
		  "Connections closed at once by a limit (any reason), by core.",
		  CTL_METRICS_FIELD(dp_stats, connections_rejected) },
		{ "spillway_connections_rejected_max_connections_total", "counter",
		  "Connections refused over max.connections, by core.",
		  CTL_METRICS_FIELD(dp_stats, rejected_max) },
		{ "spillway_connections_rejected_per_ip_total", "counter",
		  "Connections refused over max.connections.per.ip, by core.",
		  CTL_METRICS_FIELD(dp_stats, rejected_per_ip) },
		{ "spillway_connections_rejected_table_full_total", "counter",
		  "Connections refused because the core's table (spillway.connections.max) was "
		  "full, by core.", CTL_METRICS_FIELD(dp_stats, rejected_table_full) },
		{ "spillway_connections_idle_closed_total", "counter",
		  "Connections closed after connections.max.idle.ms without traffic, by core.",
		  CTL_METRICS_FIELD(dp_stats, connections_idle_closed) },
		{ "spillway_requests_waiting", "gauge",
		  "Requests waiting on storage or a long poll, by core.",
		  CTL_METRICS_FIELD(dp_stats, requests_waiting) },
		{ "spillway_network_received_bytes_total", "counter",
		  "Bytes received from clients, by core.", CTL_METRICS_FIELD(dp_stats, bytes_in) },
		{ "spillway_network_sent_bytes_total", "counter",
		  "Bytes sent to clients, by core.", CTL_METRICS_FIELD(dp_stats, bytes_out) },
		{ "spillway_protocol_errors_total", "counter",
		  "Connections closed for a malformed frame or request, by core.",
		  CTL_METRICS_FIELD(dp_stats, protocol_errors) },
	};
	int cores = dp_core_count(ctl->dp);
	char core[12];

	for (size_t i = 0; i < ARRAY_LEN(f); i++) {
		mx_family(b, f[i].name, f[i].type, f[i].help);
		for (int c = 0; c < cores; c++) {
			const char *l[] = { "core", core, NULL };
			struct dp_stats s;

			dp_core_stats_read(ctl->dp, c, &s);
			snprintf(core, sizeof(core), "%d", c);
			mx_sample(b, f[i].name, l, (double)ctl_metrics_value(&s, &f[i]));
		}
	}
}

/* A topic name as a NUL-terminated label value (names are <= 249 bytes). */
static const char *
ctl_metrics_topic_name(const struct kp_md_topic *t, char *buf, size_t size)
{
	snprintf(buf, size, "%.*s", (int)t->name.len, t->name.ptr);
	return buf;
}

static void
ctl_metrics_partitions(struct ctl_metrics_scrape *s, struct mx_buf *b)
{
	static const struct ctl_metrics_family f[] = {
		{ "spillway_log_start_offset", "gauge", "First offset kept in the partition log.",
		  CTL_METRICS_FIELD(st_partition_stats, log_start_offset) },
		{ "spillway_log_end_offset", "gauge",
		  "Offset after the last record written (the high watermark).",
		  CTL_METRICS_FIELD(st_partition_stats, log_end_offset) },
		{ "spillway_log_size_bytes", "gauge", "Bytes in the partition's segments.",
		  CTL_METRICS_FIELD(st_partition_stats, size_bytes) },
	};
	char name[256], part[12];

	for (size_t i = 0; i < ARRAY_LEN(f); i++) {
		mx_family(b, f[i].name, f[i].type, f[i].help);
		for (size_t k = 0; k < s->part_count; k++) {
			const char *l[] = { "topic", name, "partition", part, NULL };
			int64_t v = (int64_t)ctl_metrics_value(&s->parts[k].ps, &f[i]);

			ctl_metrics_topic_name(s->parts[k].topic, name, sizeof(name));
			snprintf(part, sizeof(part), "%d", s->parts[k].ps.partition);
			mx_sample(b, f[i].name, l, (double)v);
		}
	}
}

/* Per-topic sums over the (sorted) partitions. */
static void
ctl_metrics_topics(struct ctl_metrics_scrape *s, struct mx_buf *b)
{
	static const struct ctl_metrics_family f[] = {
		{ "spillway_topic_bytes_in_total", "counter",
		  "Record batch bytes appended, by topic.",
		  CTL_METRICS_FIELD(st_partition_stats, bytes_in) },
		{ "spillway_topic_records_in_total", "counter", "Records appended, by topic.",
		  CTL_METRICS_FIELD(st_partition_stats, records_in) },
		{ "spillway_topic_bytes_out_total", "counter",
		  "Log bytes handed to fetches, by topic.",
		  CTL_METRICS_FIELD(st_partition_stats, bytes_out) },
	};
	char name[256];

	for (size_t i = 0; i < ARRAY_LEN(f); i++) {
		mx_family(b, f[i].name, f[i].type, f[i].help);
		for (size_t k = 0; k < s->part_count;) {
			const struct kp_md_topic *t = s->parts[k].topic;
			const char *l[] = { "topic", name, NULL };
			uint64_t sum = 0;

			ctl_metrics_topic_name(t, name, sizeof(name));
			for (; k < s->part_count && s->parts[k].topic == t; k++)
				sum += ctl_metrics_value(&s->parts[k].ps, &f[i]);
			mx_sample(b, f[i].name, l, (double)sum);
		}
	}
}

static void
ctl_metrics_workers(struct ctl_metrics_scrape *s, struct mx_buf *b)
{
	static const struct ctl_metrics_family f[] = {
		{ "spillway_storage_queue_depth", "gauge",
		  "Requests waiting in the rings from the cores to a storage worker.",
		  CTL_METRICS_FIELD(st_worker_stats, queued) },
		{ "spillway_storage_appends_inflight", "gauge",
		  "Appends a storage worker took and has not completed.",
		  CTL_METRICS_FIELD(st_worker_stats, appends_inflight) },
		{ "spillway_storage_partitions", "gauge",
		  "Partition logs open on a storage worker.",
		  CTL_METRICS_FIELD(st_worker_stats, partitions) },
		{ "spillway_storage_flush_rounds_total", "counter",
		  "Group-commit rounds of a storage worker: one fdatasync or syncfs covering "
		  "every partition that waited (spillway.storage.flush.mode auto or syncfs).",
		  CTL_METRICS_FIELD(st_worker_stats, flush_rounds) },
		{ "spillway_storage_flush_syncfs_total", "counter",
		  "Group-commit rounds that flushed with syncfs (several files waiting).",
		  CTL_METRICS_FIELD(st_worker_stats, flush_syncfs) },
		{ "spillway_storage_flush_partitions_total", "counter",
		  "Partition syncs the group-commit rounds covered (divided by the rounds: "
		  "partitions per device flush).",
		  CTL_METRICS_FIELD(st_worker_stats, flush_partitions) },
	};
	char w[12];

	for (size_t i = 0; i < ARRAY_LEN(f); i++) {
		mx_family(b, f[i].name, f[i].type, f[i].help);
		for (int k = 0; k < s->worker_count; k++) {
			const char *l[] = { "worker", w, NULL };

			snprintf(w, sizeof(w), "%d", k);
			mx_sample(b, f[i].name, l,
				  (double)ctl_metrics_value(&s->workers[k], &f[i]));
		}
	}
	mx_family(b, "spillway_storage_fsync_duration_seconds", "histogram",
		  "Flush latency (group-commit rounds, or each partition's fdatasyncs with "
		  "spillway.storage.flush.mode=fdatasync), by storage worker.");
	for (int k = 0; k < s->worker_count; k++) {
		const char *l[] = { "worker", w, NULL };

		snprintf(w, sizeof(w), "%d", k);
		mx_histogram(b, "spillway_storage_fsync_duration_seconds", l,
			     &s->workers[k].fsync);
	}
}

/* The produce stages: the cores' (dp_stage_stats_read) plus the workers'
 * (taken with the scrape's worker statistics). */
static void
ctl_metrics_stages(struct ctl *ctl, const struct ctl_metrics_scrape *s, struct mx_buf *b)
{
	static struct stage_hists sum;  /* control only: not reentrant; 3 KB off the stack */

	memset(&sum, 0, sizeof(sum));
	dp_stage_stats_read(ctl->dp, &sum);
	for (int k = 0; k < s->worker_count; k++)
		stage_read_add(&sum, &s->workers[k].stages);
	ctl_metrics_stages_render(b, &sum);
}

/* The log cleaner's counters (all zero while log.cleaner.enable=false). */
static void
ctl_metrics_cleaner(const struct st *st, struct mx_buf *b)
{
	struct st_cleaner_stats cs;
	const struct {
		const char *name, *type, *help;
	} f[] = {
		{ "spillway_log_cleaner_runs_total", "counter",
		  "Compacted partitions the log cleaner cleaned." },
		{ "spillway_log_cleaner_passes_total", "counter",
		  "Passes of the log cleaner over every compacted partition." },
		{ "spillway_log_cleaner_segments_cleaned_total", "counter",
		  "Segments the log cleaner replaced by compacted copies." },
		{ "spillway_log_cleaner_bytes_reclaimed_total", "counter",
		  "Segment bytes removed by compaction." },
		{ "spillway_log_cleaner_bytes_read_total", "counter",
		  "Segment bytes the log cleaner read." },
		{ "spillway_log_cleaner_bytes_written_total", "counter",
		  "Bytes the log cleaner wrote." },
		{ "spillway_log_cleaner_records_removed_total", "counter",
		  "Records compaction removed." },
		{ "spillway_log_cleaner_errors_total", "counter",
		  "Cleanings of a partition that failed." },
		{ "spillway_log_cleaner_max_dirty_ratio", "gauge",
		  "Largest dirty ratio among compacted partitions at the last pass." },
	};
	double v[ARRAY_LEN(f)];

	st_cleaner_stats_get(st, &cs);
	v[0] = (double)cs.runs;
	v[1] = (double)cs.passes;
	v[2] = (double)cs.segments_cleaned;
	v[3] = (double)cs.bytes_reclaimed;
	v[4] = (double)cs.bytes_read;
	v[5] = (double)cs.bytes_written;
	v[6] = (double)cs.records_removed;
	v[7] = (double)cs.errors;
	v[8] = cs.max_dirty_ratio;
	for (size_t i = 0; i < ARRAY_LEN(f); i++) {
		mx_family(b, f[i].name, f[i].type, f[i].help);
		mx_sample(b, f[i].name, NULL, v[i]);
	}
}

/* dp_net_stat_fn: one sample of the network backend; a family's TYPE and
 * HELP go out before its first sample. */
struct ctl_metrics_net {
	struct mx_buf *b;
	const char *family;
};

static void
ctl_metrics_net_one(void *arg, const char *family, const char *type, const char *help,
		    const char *label_key, const char *label_value, uint64_t value)
{
	struct ctl_metrics_net *r = arg;
	const char *l[] = { label_key, label_value, NULL };

	if (r->family == NULL || strcmp(r->family, family) != 0) {
		mx_family(r->b, family, type, help);
		r->family = family;
	}
	mx_sample(r->b, family, label_key != NULL ? l : NULL, (double)value);
}

/* Authorization denials (kp_acl.c), counted where the checks ran (cores
 * and control), by operation and resource type; pairs seen only. */
static void
ctl_metrics_acl(struct mx_buf *b)
{
	mx_family(b, "spillway_authorization_denials_total", "counter",
		  "Requests (or their topics, groups) the authorizer denied, by operation and "
		  "resource type.");
	for (int r = 0; r < KP_RES_TYPES; r++) {
		for (int op = 0; op < KP_ACL_OPS; op++) {
			/* Relaxed: pairs with the cores' relaxed increments. */
			uint64_t n = __atomic_load_n(&kp_acl_denials.count[r][op],
						     __ATOMIC_RELAXED);
			const char *l[] = { "operation", kp_acl_op_name(op), "resource_type",
					    kp_acl_rtype_name(r), NULL };

			if (n > 0)
				mx_sample(b, "spillway_authorization_denials_total", l, (double)n);
		}
	}
}

/* The control thread's queue (ctl_sched.c): both return to 0 when idle. */
static void
ctl_metrics_control(struct ctl *ctl, struct mx_buf *b)
{
	mx_family(b, "spillway_control_requests_queued", "gauge",
		  "Forwarded (admin) requests taken from the cores, waiting for the control "
		  "thread.");
	mx_sample(b, "spillway_control_requests_queued", NULL,
		  ctl_sched_request_count(ctl->sched));
	mx_family(b, "spillway_control_replies_backlogged", "gauge",
		  "Control replies waiting for room in a core's ring.");
	mx_sample(b, "spillway_control_replies_backlogged", NULL,
		  ctl_sched_backlog_count(ctl->sched));
}

/* The log end offset of topic's partition in the sorted scrape, -1 when
 * storage did not report it (ctl_metrics_log_end_fn). */
static int64_t
ctl_metrics_log_end(void *arg, const char *topic, int32_t partition)
{
	const struct ctl_metrics_scrape *s = arg;
	size_t lo = 0, hi = s->part_count, tlen = strlen(topic);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ctl_metrics_part *p = &s->parts[mid];
		size_t n = (size_t)p->topic->name.len;
		int c = memcmp(p->topic->name.ptr, topic, n < tlen ? n : tlen);

		if (c == 0)
			c = n < tlen ? -1 : n > tlen;
		if (c == 0)
			c = p->ps.partition < partition ? -1 : p->ps.partition > partition;
		if (c == 0)
			return p->ps.log_end_offset;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void
ctl_metrics_render(void *arg, struct mx_buf *b)
{
	struct ctl *ctl = arg;
	struct ctl_metrics_scrape s = { .md = ctl_md(ctl) };
	size_t kept = 0;
	int rc = 0;

	struct ctl_metrics_net net = { .b = b };

	ctl_metrics_api(ctl, b);
	ctl_sasl_metrics(ctl, b);
	ctl_metrics_cores(ctl, b);
	ctl_metrics_acl(b);
	ctl_metrics_tls(ctl, b);
	ctl_metrics_cluster(ctl, b);
	dp_net_stats(ctl->dp, ctl_metrics_net_one, &net);
	if (ctl->st != NULL) {
		s.worker_count = st_worker_count(ctl->st);
		s.workers = calloc((size_t)s.worker_count, sizeof(*s.workers));
		rc = s.workers == NULL ? -ENOMEM
				       : st_stats_collect(ctl->st, ctl_metrics_part_add,
							  ctl_metrics_worker_add, &s);
	}
	if (rc != 0 || s.oom) {
		log_warn("metrics", "storage statistics: %s", strerror(rc != 0 ? -rc : ENOMEM));
		s.part_count = 0;
		s.worker_count = 0;
	}
	for (size_t k = 0; k < s.part_count; k++)       /* drop deleted topics */
		if (s.parts[k].topic != NULL)
			s.parts[kept++] = s.parts[k];
	s.part_count = kept;
	if (s.part_count > 0)
		qsort(s.parts, s.part_count, sizeof(*s.parts), ctl_metrics_part_cmp);
	ctl_metrics_partitions(&s, b);
	ctl_metrics_topics(&s, b);
	ctl_metrics_workers(&s, b);
	ctl_metrics_stages(ctl, &s, b);
	if (ctl->st != NULL)
		ctl_metrics_cleaner(ctl->st, b);
	ctl_metrics_control(ctl, b);
	ctl_metrics_groups(ctl, b, ctl_metrics_log_end, &s);
	free(s.parts);
	free(s.workers);
}
