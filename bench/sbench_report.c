/* SPDX-License-Identifier: Apache-2.0 */
/* spillway-bench's report: CPU samples (broker from /proc, own from
 * getrusage), totals over the load slots, progress lines, the result with
 * its rates and CPU per GB, and its two outputs - the JSON bench/compare
 * parses and the human summary. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sbench.h"

/* Broker CPU seconds (utime + stime of every thread) from /proc/PID/stat. */
static double
proc_cpu_s(long pid)
{
	char path[64];
	char buf[2048];
	char *p;
	size_t n;
	FILE *f;
	unsigned long long utime = 0, stime = 0;

	if (pid <= 0)
		return -1.0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1.0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* After "(comm)": state is field 3, utime 14, stime 15. */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &utime, &stime) != 2)
		return -1.0;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static double
self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

void
sbench_report_cpu(struct cpu_sample *cpu)
{
	cpu->broker_s = proc_cpu_s(g_opts.broker_pid);
	cpu->client_s = self_cpu_s();
}

void
sbench_report_totals(struct totals *t, struct hist *ack, struct hist *e2e)
{
	int i;

	memset(t, 0, sizeof(*t));
	t->recv_min = UINT64_MAX;
	if (ack)
		hist_init(ack);
	if (e2e)
		hist_init(e2e);
	for (i = 0; g_producers && i < g_opts.producers; i++) {
		struct producer *p = &g_producers[i];
		uint64_t last = load_u64(&p->last_ack_us);

		t->sent += load_u64(&p->sent);
		t->acked += load_u64(&p->acked);
		t->failed += load_u64(&p->failed);
		t->acked_window += load_u64(&p->acked_window);
		t->prod_bytes += load_u64(&p->bytes_window);
		t->last_ack_us = last > t->last_ack_us ? last : t->last_ack_us;
		if (ack)
			hist_merge(ack, &p->ack_hist);
	}
	for (i = 0; g_consumers && i < g_opts.consumers; i++) {
		struct consumer *c = &g_consumers[i];
		uint64_t last = load_u64(&c->last_recv_us);
		uint64_t n = load_u64(&c->received);

		t->received += n;
		t->recv_min = n < t->recv_min ? n : t->recv_min;
		t->recv_window += load_u64(&c->received_window);
		t->cons_bytes += load_u64(&c->bytes_window);
		t->cons_errors += load_u64(&c->errors);
		t->last_recv_us = last > t->last_recv_us ? last : t->last_recv_us;
		if (e2e)
			hist_merge(e2e, &c->e2e_hist);
	}
	if (t->recv_min == UINT64_MAX)
		t->recv_min = 0;
}

static struct hist g_progress_hist;

void
sbench_report_progress(uint64_t now, struct totals *prev)
{
	struct totals t;
	int e2e = g_consumers != NULL;

	sbench_report_totals(&t, e2e ? NULL : &g_progress_hist, e2e ? &g_progress_hist : NULL);
	fprintf(stderr, "[%6.1fs]%s", (double)(now - g_t0_us) / 1e6,
		now < g_measure_us ? " warmup" : "");
	if (g_producers)
		fprintf(stderr, " produce %9" PRIu64 " msg/s %8.1f MB/s", t.acked - prev->acked,
			(double)(t.acked - prev->acked) * (double)g_opts.record_bytes / 1e6);
	if (g_consumers)
		fprintf(stderr, " | consume %9" PRIu64 " msg/s %8.1f MB/s",
			t.received - prev->received,
			(double)(t.received - prev->received) * (double)g_opts.record_bytes / 1e6);
	fprintf(stderr, " | %s p99 %" PRIu64 " us\n", e2e ? "e2e" : "ack",
		hist_percentile(&g_progress_hist, 99.0));
	*prev = t;
}

static void
json_hist(FILE *f, const char *name, const struct hist *h)
{
	uint64_t n = hist_count(h), seen = 0;
	size_t i;
	int first = 1;

	fprintf(f, "  \"%s\": {\"count\": %" PRIu64 ", \"mean\": %.1f, \"min\": %" PRIu64
		", \"p50\": %" PRIu64 ", \"p90\": %" PRIu64 ", \"p99\": %" PRIu64
		", \"p99_9\": %" PRIu64 ", \"p99_99\": %" PRIu64 ", \"max\": %" PRIu64
		", \"cdf\": [", name, n, hist_mean(h), n ? h->min : 0,
		hist_percentile(h, 50), hist_percentile(h, 90), hist_percentile(h, 99),
		hist_percentile(h, 99.9), hist_percentile(h, 99.99), n ? h->max : 0);
	for (i = 0; i < HIST_BUCKET_COUNT; i++) {
		uint64_t hi;

		if (!h->counts[i])
			continue;
		seen += h->counts[i];
		hi = hist_bucket_low(i) + hist_bucket_width(i) - 1;
		if (hi > h->max)
			hi = h->max;
		fprintf(f, "%s[%" PRIu64 ", %.6f]", first ? "" : ", ", hi,
			(double)seen / (double)n);
		first = 0;
	}
	fprintf(f, "]},\n");
}

static void
summary_hist(const char *name, const struct hist *h)
{
	if (!hist_count(h))
		return;
	printf("  %-14s us: p50 %" PRIu64 "  p90 %" PRIu64 "  p99 %" PRIu64 "  p99.9 %" PRIu64
	       "  p99.99 %" PRIu64 "  max %" PRIu64 "  mean %.1f  (n=%" PRIu64 ")\n", name,
	       hist_percentile(h, 50), hist_percentile(h, 90), hist_percentile(h, 99),
	       hist_percentile(h, 99.9), hist_percentile(h, 99.99), h->max, hist_mean(h),
	       hist_count(h));
}

static const char *const g_mode_names[] = { "produce", "consume", "e2e" };

void
sbench_report_result(struct result *r, const struct cpu_sample *c0, const struct cpu_sample *c1)
{
	int i;

	sbench_report_totals(&r->t, &r->ack, &r->e2e);
	if (r->t.last_ack_us > g_measure_us)
		r->prod_elapsed_s = (double)(r->t.last_ack_us - g_measure_us) / 1e6;
	if (r->t.last_recv_us > g_measure_us)
		r->cons_elapsed_s = (double)(r->t.last_recv_us - g_measure_us) / 1e6;
	if (r->prod_elapsed_s > 0) {
		r->prod_msgs_s = (double)r->t.acked_window / r->prod_elapsed_s;
		r->prod_mb_s = (double)r->t.prod_bytes / 1e6 / r->prod_elapsed_s;
	}
	if (r->cons_elapsed_s > 0) {
		r->cons_msgs_s = (double)r->t.recv_window / r->cons_elapsed_s;
		r->cons_mb_s = (double)r->t.cons_bytes / 1e6 / r->cons_elapsed_s;
	}
	r->broker_cpu_s = c0->broker_s >= 0 && c1->broker_s >= 0 ? c1->broker_s - c0->broker_s : -1;
	r->client_cpu_s = c1->client_s - c0->client_s;
	r->gb_moved = (double)(r->t.prod_bytes + r->t.cons_bytes) / 1e9;
	r->cpu_s_per_gb = r->broker_cpu_s >= 0 && r->gb_moved > 0 ?
		r->broker_cpu_s / r->gb_moved : -1;
	r->error = NULL;
	for (i = 0; g_producers && i < g_opts.producers && !r->error; i++)
		if (g_producers[i].error[0])
			r->error = g_producers[i].error;
	for (i = 0; g_consumers && i < g_opts.consumers && !r->error; i++)
		if (g_consumers[i].error[0])
			r->error = g_consumers[i].error;
	r->ok = !flag_get(&g_data_path_failed);
	if (g_producers && r->t.acked_window == 0)
		r->ok = 0;
	if (g_consumers && r->t.recv_window == 0)
		r->ok = 0;
}

static void
json_string(FILE *f, const char *key, const char *value)
{
	const char *p;

	fprintf(f, "  \"%s\": ", key);
	if (!value) {
		fprintf(f, "null,\n");
		return;
	}
	fputc('"', f);
	for (p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', f);
		fputc((unsigned char)*p >= 0x20 ? *p : ' ', f);
	}
	fprintf(f, "\",\n");
}

int
sbench_report_json(const char *path, const struct result *r)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "spillway-bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "{\n");
	json_string(f, "mode", g_mode_names[g_opts.mode]);
	json_string(f, "bootstrap", g_opts.bootstrap);
	json_string(f, "topic", g_opts.topic);
	json_string(f, "acks", g_opts.acks);
	json_string(f, "compression", g_opts.compression);
	json_string(f, "error", r->error);
	fprintf(f, "  \"ok\": %s,\n", r->ok ? "true" : "false");
	fprintf(f, "  \"partitions\": %d, \"record_size\": %zu, \"linger_ms\": %d, "
		"\"batch_size\": %d,\n", g_partition_count, g_opts.record_bytes, g_opts.linger_ms,
		g_opts.batch_bytes);
	fprintf(f, "  \"rate_target\": %.1f, \"producers\": %d, \"consumers\": %d, "
		"\"warmup_s\": %.3f, \"duration_s\": %.3f, \"count\": %" PRIu64 ",\n",
		g_opts.rate, g_producers ? g_opts.producers : 0,
		g_consumers ? g_opts.consumers : 0, g_opts.warmup_s, g_opts.duration_s,
		g_opts.count);
	fprintf(f, "  \"produce\": {\"sent\": %" PRIu64 ", \"acked\": %" PRIu64
		", \"failed\": %" PRIu64 ", \"acked_window\": %" PRIu64 ", \"elapsed_s\": %.3f"
		", \"msgs_per_s\": %.1f, \"mb_per_s\": %.3f},\n", r->t.sent, r->t.acked,
		r->t.failed, r->t.acked_window, r->prod_elapsed_s, r->prod_msgs_s, r->prod_mb_s);
	fprintf(f, "  \"consume\": {\"received\": %" PRIu64 ", \"received_min_per_consumer\": %"
		PRIu64 ", \"received_window\": %" PRIu64 ", \"errors\": %" PRIu64
		", \"elapsed_s\": %.3f, \"msgs_per_s\": %.1f, \"mb_per_s\": %.3f},\n",
		r->t.received, r->t.recv_min, r->t.recv_window, r->t.cons_errors,
		r->cons_elapsed_s, r->cons_msgs_s, r->cons_mb_s);
	fprintf(f, "  \"cpu\": {\"broker_pid\": %ld, \"broker_cpu_s\": %.3f, \"client_cpu_s\": %.3f"
		", \"gb_moved\": %.6f, \"broker_cpu_s_per_gb\": %.3f},\n", g_opts.broker_pid,
		r->broker_cpu_s, r->client_cpu_s, r->gb_moved, r->cpu_s_per_gb);
	fprintf(f, "  \"group\": %s%s%s, \"group_join_s\": %.3f,\n",
		g_opts.group ? "\"" : "", g_opts.group ? g_opts.group : "null",
		g_opts.group ? "\"" : "", g_group_join_s);
	json_hist(f, "ack_latency_us", &r->ack);
	json_hist(f, "e2e_latency_us", &r->e2e);
	fprintf(f, "  \"mb\": \"1e6 bytes\"\n}\n");
	return fclose(f) ? -1 : 0;
}

void
sbench_report_summary(const struct result *r)
{
	printf("spillway-bench %s: %s topic %s, %d partitions, %zu B records, acks=%s, %s, "
	       "linger %d ms, rate %s\n", g_mode_names[g_opts.mode], g_opts.bootstrap,
	       g_opts.topic, g_partition_count, g_opts.record_bytes, g_opts.acks,
	       g_opts.compression, g_opts.linger_ms, g_opts.rate > 0 ? "fixed" : "max");
	if (g_producers)
		printf("  produce: %" PRIu64 " acked (%" PRIu64 " failed), %.0f msg/s, "
		       "%.2f MB/s over %.2f s\n", r->t.acked_window, r->t.failed, r->prod_msgs_s,
		       r->prod_mb_s, r->prod_elapsed_s);
	if (g_consumers)
		printf("  consume: %" PRIu64 " received by %d consumer(s), %.0f msg/s, "
		       "%.2f MB/s over %.2f s\n", r->t.recv_window, g_opts.consumers,
		       r->cons_msgs_s, r->cons_mb_s, r->cons_elapsed_s);
	if (g_opts.group)
		printf("  group %s: %d consumers assigned every partition %.3f s after "
		       "subscribing\n", g_opts.group, g_opts.consumers, g_group_join_s);
	summary_hist("ack latency", &r->ack);
	summary_hist("e2e latency", &r->e2e);
	if (r->broker_cpu_s >= 0)
		printf("  broker CPU: %.2f s, %.2f CPU-s per GB moved; client CPU %.2f s\n",
		       r->broker_cpu_s, r->cpu_s_per_gb, r->client_cpu_s);
	else
		printf("  client CPU %.2f s (no --broker-pid)\n", r->client_cpu_s);
	if (!r->ok)
		printf("  FAILED: %s\n", r->error ? r->error : "no data moved");
}
