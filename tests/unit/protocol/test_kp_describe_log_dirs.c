/* SPDX-License-Identifier: Apache-2.0 */
/* Tests protocol/handlers/describe_log_dirs.c through whole frames on the
 * control dispatcher, over an admin double that lists partition logs in no
 * particular order: all topics (null), named partitions only (unknown
 * topics and partitions left out, repeats once, a topic with none left
 * out), one entry per topic sorted by partition, v4's volume sizes and a
 * log dir error answered with no topics. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_describe_log_dirs.h"
#include "protocol/gen/kp_msg_header.h"
#include "protocol/kp.h"
#include "tests/unit/protocol/tmd.h"

static struct kp_md_topic topics[3];
static const struct kp_md_topic *by_id[3];
static struct kp_md md;
static int16_t dir_error;

static void
md_setup(void)
{
	static const char *const names[] = { "alpha", "beta", "gamma" };
	static const int32_t counts[] = { 3, 1, 2 };

	memset(&md, 0, sizeof(md));
	md.broker_id = 1;
	md.cluster_id = "AAAAAAAAAAAAAAAAAAAAAA";
	md.endpoint_count = 1;
	md.endpoints[0] = (struct kp_md_endpoint){ "PLAINTEXT", "127.0.0.1", 9092, 0 };
	for (int i = 0; i < 3; i++) {
		memset(&topics[i], 0, sizeof(topics[i]));
		topics[i].name = kp_str_c(names[i]);
		topics[i].id.b[0] = (uint8_t)(i + 1);
		topics[i].partition_count = counts[i];
		by_id[i] = &topics[i];
	}
	md.topic_count = 3;
	md.topics = topics;
	md.by_id = by_id;
	tmd_single(&md, topics, 3);
	dir_error = KP_ERR_NONE;
}

static const struct kp_md *
admin_md(void *ctx)
{
	(void)ctx;
	return &md;
}

/* Partition logs in hash order, as the workers give them; sizes 100 x
 * topic + partition. */
static int16_t
admin_log_dir(void *ctx, struct kp_log_dir *dir, kp_log_dir_part_fn *fn, void *arg)
{
	static const int order[][2] = { { 2, 1 }, { 0, 2 }, { 1, 0 }, { 0, 0 }, { 2, 0 },
					{ 0, 1 } };

	(void)ctx;
	snprintf(dir->path, sizeof(dir->path), "/var/lib/spillway");
	dir->total_bytes = 1000;
	dir->usable_bytes = 400;
	if (dir_error != KP_ERR_NONE)
		return dir_error;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		fn(arg, &topics[order[i][0]], order[i][1], 100 * order[i][0] + order[i][1], 0);
	return KP_ERR_NONE;
}

static const struct kp_admin_ops admin = { .md = admin_md, .log_dir_describe = admin_log_dir };

TestSuite(log_dirs, .init = md_setup);

struct ld_topic {
	const char *name;
	int n;
	const int32_t *parts;
};

typedef struct kp_describe_log_dirs_response_describe_log_dirs_partition ld_part;

static size_t
ld_part_text(struct kp_cursor *pit, int16_t version, bool comma, char *text, size_t size)
{
	ld_part p;

	kp_describe_log_dirs_response_describe_log_dirs_partition_decode(pit, version, &p);
	return (size_t)snprintf(text, size, "%s%d=%lld/%lld%s", comma ? "," : "",
				p.partition_index, (long long)p.partition_size,
				(long long)p.offset_lag, p.is_future_key ? "f" : "");
}

/* The answer as text: "error dir total usable|topic:p=size,p=size|...". */
static void
ld_run(int16_t version, const struct ld_topic *req_topics, int n, char *text, size_t size)
{
	struct kp_describe_log_dirs_request_describable_log_dir_topic t[4];
	struct kp_describe_log_dirs_request req;
	struct kp_describe_log_dirs_response resp;
	struct kp_describe_log_dirs_response_describe_log_dirs_result res;
	struct kp_env env = { .md = &md, .request_bytes_max = 1 << 20, .admin = &admin };
	struct kp_request_header hdr = { KP_API_DESCRIBE_LOG_DIRS, version, 5, kp_str_c("t") };
	struct kp_cursor c, it, tit;
	struct kp_writer w;
	struct kp_out out;
	size_t len;

	kp_writer_init(&w, 128);
	kp_request_header_encode(&w, version >= 2 ? 2 : 1, &hdr);
	kp_describe_log_dirs_request_init(&req);
	req.topics.count = n;
	for (int i = 0; i < n; i++) {
		kp_describe_log_dirs_request_describable_log_dir_topic_init(&t[i]);
		t[i].topic = kp_str_c(req_topics[i].name);
		t[i].partitions.count = req_topics[i].n;
		t[i].partitions.items = req_topics[i].parts;
	}
	req.topics.items = t;
	kp_describe_log_dirs_request_encode(&w, version, &req);
	memset(&out, 0, sizeof(out));
	cr_assert_eq(kp_dispatch_control(&env, w.buf, (uint32_t)w.len, &out), KP_VERDICT_REPLY);
	kp_writer_free(&w);
	c = kp_cursor_make(out.resp.data, out.resp.len);
	(void)kp_read_i32(&c);
	cr_assert_eq(kp_read_i32(&c), 5);
	if (version >= 2)
		(void)kp_read_uvarint(&c);
	cr_assert_eq(kp_describe_log_dirs_response_decode(&c, version, &resp), 0);
	cr_assert_eq(c.err, 0);
	cr_assert_eq(resp.results.count, 1);
	it = kp_array_cursor(&resp.results);
	kp_describe_log_dirs_response_describe_log_dirs_result_decode(&it, version, &res);
	len = (size_t)snprintf(text, size, "%d %.*s %lld %lld", res.error_code,
			       (int)res.log_dir.len, res.log_dir.ptr, (long long)res.total_bytes,
			       (long long)res.usable_bytes);
	tit = kp_array_cursor(&res.topics);
	for (int32_t i = 0; i < res.topics.count; i++) {
		struct kp_describe_log_dirs_response_describe_log_dirs_topic dt;
		struct kp_cursor pit;

		kp_describe_log_dirs_response_describe_log_dirs_topic_decode(&tit, version, &dt);
		len += (size_t)snprintf(text + len, size - len, "|%.*s:", (int)dt.name.len,
					dt.name.ptr);
		pit = kp_array_cursor(&dt.partitions);
		for (int32_t j = 0; j < dt.partitions.count; j++)
			len += ld_part_text(&pit, version, j > 0, text + len, size - len);
	}
	free(out.resp.data);
}

Test(log_dirs, null_topics_is_all_grouped_and_sorted)
{
	char text[256];

	ld_run(4, NULL, -1, text, sizeof(text));
	cr_assert_str_eq(text, "0 /var/lib/spillway 1000 400|alpha:0=0/0,1=1/0,2=2/0"
			 "|beta:0=100/0|gamma:0=200/0,1=201/0");
	ld_run(1, NULL, -1, text, sizeof(text));
	cr_assert_str_eq(text, "0 /var/lib/spillway -1 -1|alpha:0=0/0,1=1/0,2=2/0"
			 "|beta:0=100/0|gamma:0=200/0,1=201/0", "no volume sizes before v4");
}

Test(log_dirs, named_partitions_only)
{
	static const int32_t a[] = { 2, 0, 2, 9 }, none[] = { 0 }, g[] = { 5 };
	static const struct ld_topic req[] = {
		{ "gamma", 1, g }, { "alpha", 4, a }, { "nope", 1, none }, { "beta", 0, NULL },
	};
	char text[256];

	ld_run(3, req, 4, text, sizeof(text));
	cr_assert_str_eq(text, "0 /var/lib/spillway -1 -1|alpha:0=0/0,2=2/0");
	ld_run(4, req, 0, text, sizeof(text));
	cr_assert_str_eq(text, "0 /var/lib/spillway 1000 400", "an empty list: no topics");
}

Test(log_dirs, log_dir_error_has_no_topics)
{
	char text[256];

	dir_error = KP_ERR_KAFKA_STORAGE_ERROR;
	ld_run(4, NULL, -1, text, sizeof(text));
	cr_assert_str_eq(text, "56 /var/lib/spillway -1 -1");
}

/* JBOD: three dirs; alpha's partitions in /d0 and /d1, the last offline. */
static int16_t
admin_log_dirs3(void *ctx, struct kp_log_dir *dir, kp_log_dir_part_fn *fn, void *arg)
{
	(void)ctx;
	dir->count = 3;
	snprintf(dir->path, sizeof(dir->path), "/d%d", (int)dir->index);
	dir->total_bytes = 1000 + dir->index;
	dir->usable_bytes = 400;
	if (dir->index == 2)
		return KP_ERR_KAFKA_STORAGE_ERROR;
	for (int32_t p = 0; p < 3; p++)
		if (p % 2 == dir->index)
			fn(arg, &topics[0], p, 10 + p, 0);
	return KP_ERR_NONE;
}

Test(log_dirs, every_dir_with_its_own_partitions)
{
	static const struct kp_admin_ops admin3 = { .md = admin_md,
						    .log_dir_describe = admin_log_dirs3 };
	static const int want_parts[3] = { 2, 1, 0 };
	struct kp_env env = { .md = &md, .request_bytes_max = 1 << 20, .admin = &admin3 };
	struct kp_request_header hdr = { KP_API_DESCRIBE_LOG_DIRS, 4, 5, kp_str_c("t") };
	struct kp_describe_log_dirs_response_describe_log_dirs_result res;
	struct kp_describe_log_dirs_response_describe_log_dirs_topic t;
	struct kp_describe_log_dirs_response resp;
	struct kp_describe_log_dirs_request req;
	struct kp_cursor c, it, tit;
	struct kp_writer w;
	struct kp_out out;
	char path[8];

	kp_writer_init(&w, 128);
	kp_request_header_encode(&w, 2, &hdr);
	kp_describe_log_dirs_request_init(&req);
	req.topics.count = -1;
	kp_describe_log_dirs_request_encode(&w, 4, &req);
	memset(&out, 0, sizeof(out));
	cr_assert_eq(kp_dispatch_control(&env, w.buf, (uint32_t)w.len, &out), KP_VERDICT_REPLY);
	kp_writer_free(&w);
	c = kp_cursor_make(out.resp.data, out.resp.len);
	(void)kp_read_i32(&c);
	(void)kp_read_i32(&c);
	(void)kp_read_uvarint(&c);
	cr_assert_eq(kp_describe_log_dirs_response_decode(&c, 4, &resp), 0);
	cr_assert_eq(resp.results.count, 3);
	it = kp_array_cursor(&resp.results);
	for (int i = 0; i < 3; i++) {
		kp_describe_log_dirs_response_describe_log_dirs_result_decode(&it, 4, &res);
		snprintf(path, sizeof(path), "/d%d", i);
		cr_assert_eq((size_t)res.log_dir.len, strlen(path));
		cr_assert_eq(memcmp(res.log_dir.ptr, path, res.log_dir.len), 0);
		cr_assert_eq(res.error_code, i == 2 ? KP_ERR_KAFKA_STORAGE_ERROR : KP_ERR_NONE);
		cr_assert_eq(res.total_bytes, i == 2 ? -1 : 1000 + i, "offline: unknown size");
		cr_assert_eq(res.topics.count, i == 2 ? 0 : 1);
		if (res.topics.count == 0)
			continue;
		tit = kp_array_cursor(&res.topics);
		kp_describe_log_dirs_response_describe_log_dirs_topic_decode(&tit, 4, &t);
		cr_assert_eq(t.partitions.count, want_parts[i], "dir %d", i);
	}
	free(out.resp.data);
}
