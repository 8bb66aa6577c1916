/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: see tkafka.h. */
#include "tests/unit/control/tkafka.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/rbatch.h"
#include "protocol/gen/kp_api.h"
#include "protocol/gen/kp_msg_create_topics.h"
#include "protocol/gen/kp_msg_fetch.h"
#include "protocol/gen/kp_msg_header.h"
#include "protocol/gen/kp_msg_metadata.h"
#include "protocol/gen/kp_msg_produce.h"
#include "tests/unit/storage/tbatch.h"

static int
tk_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &al) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

int
tk_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

int
tk_broker_start(struct tk_broker *b)
{
	const char *bin = getenv("SPILLWAY_BIN");
	char listeners[96], logdirs[96], log[128];
	int i, fd;

	if (bin == NULL)
		return -1;
	if (b->port == 0)
		b->port = tk_free_port();
	if (b->dir[0] == '\0') {
		snprintf(b->dir, sizeof(b->dir), "/tmp/rf-leader-XXXXXX");
		if (mkdtemp(b->dir) == NULL)
			return -1;
	}
	snprintf(listeners, sizeof(listeners), "listeners=PLAINTEXT://127.0.0.1:%d", b->port);
	snprintf(logdirs, sizeof(logdirs), "log.dirs=%s/data", b->dir);
	snprintf(log, sizeof(log), "%s/broker.log", b->dir);
	b->pid = fork();
	if (b->pid == 0) {
		int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		dup2(out, 1);
		dup2(out, 2);
		execl(bin, bin, "--override", listeners, "--override", logdirs, "--override",
		      "spillway.metrics.listen=", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 600; i++) {
		fd = tk_connect(b->port);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (waitpid(b->pid, NULL, WNOHANG) == b->pid)
			return -1;
		usleep(50000);
	}
	return -1;
}

void
tk_broker_kill(struct tk_broker *b)
{
	if (b->pid > 0) {
		kill(b->pid, SIGKILL);
		waitpid(b->pid, NULL, 0);
	}
	b->pid = 0;
}

static int
tk_read_full(int fd, void *p, size_t n)
{
	uint8_t *b = p;

	while (n > 0) {
		ssize_t k = read(fd, b, n);

		if (k <= 0)
			return -1;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

int
tk_call(int fd, int16_t api, int16_t version, const uint8_t *body, size_t len,
	uint8_t **resp, const uint8_t **rbody, size_t *rlen)
{
	static int32_t corr;
	struct kp_request_header h;
	struct kp_response_header rh;
	struct kp_cursor c;
	struct kp_writer w;
	uint8_t szb[4];
	uint32_t sz;
	int rc;

	kp_request_header_init(&h);
	h.request_api_key = api;
	h.request_api_version = version;
	h.correlation_id = ++corr;
	h.client_id = kp_str_c("rf-test");
	kp_writer_init(&w, 64 + len);
	kp_write_i32(&w, 0);
	kp_request_header_encode(&w, kp_request_header_version(api, version), &h);
	kp_write_raw(&w, body, len);
	kp_write_put_i32(&w, 0, (int32_t)(w.len - 4));
	rc = write(fd, w.buf, w.len) == (ssize_t)w.len ? 0 : -1;
	kp_writer_free(&w);
	if (rc < 0 || tk_read_full(fd, szb, 4) < 0)
		return -1;
	sz = ((uint32_t)szb[0] << 24) | ((uint32_t)szb[1] << 16) | ((uint32_t)szb[2] << 8) | szb[3];
	if (sz > (64u << 20) || (*resp = malloc(sz)) == NULL)
		return -1;
	if (tk_read_full(fd, *resp, sz) < 0)
		return -1;
	c = kp_cursor_make(*resp, sz);
	if (kp_response_header_decode(&c, kp_response_header_version(api, version), &rh) < 0 ||
	    rh.correlation_id != corr)
		return -1;
	*rbody = c.pos;
	*rlen = kp_cursor_left(&c);
	return 0;
}

int
tk_create_topic(int fd, const char *name, int32_t partitions)
{
	struct kp_create_topics_request_creatable_topic t;
	struct kp_create_topics_response_creatable_topic_result r;
	struct kp_create_topics_request req;
	struct kp_create_topics_response resp;
	const uint8_t *body;
	struct kp_cursor c, it;
	struct kp_writer w;
	uint8_t *frame = NULL;
	size_t len;
	int rc = -1;

	kp_create_topics_request_creatable_topic_init(&t);
	t.name = kp_str_c(name);
	t.num_partitions = partitions;
	t.replication_factor = 1;
	kp_create_topics_request_init(&req);
	req.topics.count = 1;
	req.topics.items = &t;
	req.timeout_ms = 10000;
	kp_writer_init(&w, 128);
	kp_create_topics_request_encode(&w, 5, &req);
	if (tk_call(fd, KP_API_CREATE_TOPICS, 5, w.buf, w.len, &frame, &body, &len) == 0) {
		c = kp_cursor_make(body, len);
		if (kp_create_topics_response_decode(&c, 5, &resp) == 0 && resp.topics.count == 1) {
			it = kp_array_cursor(&resp.topics);
			rc = kp_create_topics_response_creatable_topic_result_decode(&it, 5, &r);
			if (rc == 0)
				rc = r.error_code;
		}
	}
	kp_writer_free(&w);
	free(frame);
	return rc;
}

int
tk_topic_id(int fd, const char *name, uint8_t id[16])
{
	struct kp_metadata_request_metadata_request_topic t;
	struct kp_metadata_response_metadata_response_topic rt;
	struct kp_metadata_request req;
	struct kp_metadata_response resp;
	const uint8_t *body;
	struct kp_cursor c, it;
	struct kp_writer w;
	uint8_t *frame = NULL;
	size_t len;
	int rc = -1;

	kp_metadata_request_metadata_request_topic_init(&t);
	t.name = kp_str_c(name);
	kp_metadata_request_init(&req);
	req.topics.count = 1;
	req.topics.items = &t;
	kp_writer_init(&w, 128);
	kp_metadata_request_encode(&w, 12, &req);
	if (tk_call(fd, KP_API_METADATA, 12, w.buf, w.len, &frame, &body, &len) == 0) {
		c = kp_cursor_make(body, len);
		if (kp_metadata_response_decode(&c, 12, &resp) == 0 && resp.topics.count == 1) {
			it = kp_array_cursor(&resp.topics);
			rc = kp_metadata_response_metadata_response_topic_decode(&it, 12, &rt);
			if (rc == 0 && rt.error_code != 0)
				rc = -1;
			if (rc == 0)
				memcpy(id, rt.topic_id.b, 16);
		}
	}
	kp_writer_free(&w);
	free(frame);
	return rc;
}

int64_t
tk_produce(int fd, const char *topic, int32_t partition, int records, uint8_t fill)
{
	struct kp_produce_request_partition_produce_data pd;
	struct kp_produce_request_topic_produce_data td;
	struct kp_produce_response_topic_produce_response rt;
	struct kp_produce_response_partition_produce_response rp;
	struct tbatch_spec spec = tbatch_spec(records, 100, (int64_t)time(NULL) * 1000);
	struct kp_produce_request req;
	struct kp_produce_response resp;
	const uint8_t *body;
	struct kp_cursor c, it, pit;
	struct kp_writer w;
	uint8_t *frame = NULL, *batch;
	uint32_t blen;
	size_t len;
	int64_t base = -1;

	spec.fill = fill;
	batch = tbatch_build(&spec, &blen);
	kp_produce_request_partition_produce_data_init(&pd);
	pd.index = partition;
	pd.records.ptr = batch;
	pd.records.len = (int32_t)blen;
	kp_produce_request_topic_produce_data_init(&td);
	td.name = kp_str_c(topic);
	td.partition_data.count = 1;
	td.partition_data.items = &pd;
	kp_produce_request_init(&req);
	req.acks = 1;
	req.timeout_ms = 10000;
	req.topic_data.count = 1;
	req.topic_data.items = &td;
	kp_writer_init(&w, 256 + blen);
	kp_produce_request_encode(&w, 9, &req);
	if (tk_call(fd, KP_API_PRODUCE, 9, w.buf, w.len, &frame, &body, &len) == 0) {
		c = kp_cursor_make(body, len);
		if (kp_produce_response_decode(&c, 9, &resp) == 0 && resp.responses.count == 1) {
			it = kp_array_cursor(&resp.responses);
			(void)kp_produce_response_topic_produce_response_decode(&it, 9, &rt);
			pit = kp_array_cursor(&rt.partition_responses);
			if (kp_produce_response_partition_produce_response_decode(&pit, 9, &rp) < 0)
				rp.error_code = -1;
			if (rp.error_code == 0)
				base = rp.base_offset;
		}
	}
	kp_writer_free(&w);
	free(frame);
	free(batch);
	return base;
}

/* Append the whole batches of records to *out; the offset after them. */
static int64_t
tk_take_batches(const struct kp_bytes *rec, int64_t next, uint8_t **out, size_t *out_len)
{
	size_t pos = 0, len = rec->len > 0 ? (size_t)rec->len : 0;

	while (len - pos >= RBATCH_HEADER_BYTES) {
		struct rbatch_header h;
		size_t total;

		rbatch_header_parse(rec->ptr + pos, len - pos, &h);
		total = (size_t)rbatch_total_bytes(&h);
		if (total > len - pos)
			break;
		*out = realloc(*out, *out_len + total);
		memcpy(*out + *out_len, rec->ptr + pos, total);
		*out_len += total;
		pos += total;
		next = h.base_offset + h.last_offset_delta + 1;
	}
	return next;
}

/* One Fetch v12 from offset; appends the whole batches to *out. Returns
 * the next offset, or -1. */
static int64_t
tk_fetch_once(int fd, const char *topic, int32_t partition, int64_t offset, uint8_t **out,
	      size_t *out_len)
{
	struct kp_fetch_request_fetch_partition fp;
	struct kp_fetch_request_fetch_topic ft;
	struct kp_fetch_response_fetchable_topic_response rt;
	struct kp_fetch_response_partition_data pd;
	struct kp_fetch_request req;
	struct kp_fetch_response resp;
	const uint8_t *body;
	struct kp_cursor c, it, pit;
	struct kp_writer w;
	uint8_t *frame = NULL;
	size_t len;
	int64_t next = -1;

	kp_fetch_request_fetch_partition_init(&fp);
	fp.partition = partition;
	fp.fetch_offset = offset;
	fp.partition_max_bytes = 1 << 20;
	kp_fetch_request_fetch_topic_init(&ft);
	ft.topic = kp_str_c(topic);
	ft.partitions.count = 1;
	ft.partitions.items = &fp;
	kp_fetch_request_init(&req);
	req.max_wait_ms = 0;
	req.min_bytes = 0;
	req.topics.count = 1;
	req.topics.items = &ft;
	kp_writer_init(&w, 128);
	kp_fetch_request_encode(&w, 12, &req);
	if (tk_call(fd, KP_API_FETCH, 12, w.buf, w.len, &frame, &body, &len) == 0) {
		c = kp_cursor_make(body, len);
		if (kp_fetch_response_decode(&c, 12, &resp) == 0 && resp.responses.count == 1) {
			it = kp_array_cursor(&resp.responses);
			(void)kp_fetch_response_fetchable_topic_response_decode(&it, 12, &rt);
			pit = kp_array_cursor(&rt.partitions);
			if (kp_fetch_response_partition_data_decode(&pit, 12, &pd) == 0 &&
			    pd.error_code == 0)
				next = tk_take_batches(&pd.records, offset, out, out_len);
		}
	}
	kp_writer_free(&w);
	free(frame);
	return next;
}

uint8_t *
tk_read_all(int fd, const char *topic, int32_t partition, size_t *len)
{
	uint8_t *out = malloc(1);
	int64_t off = 0, next;

	*len = 0;
	for (;;) {
		next = tk_fetch_once(fd, topic, partition, off, &out, len);
		if (next < 0) {
			free(out);
			return NULL;
		}
		if (next == off)
			return out;
		off = next;
	}
}
