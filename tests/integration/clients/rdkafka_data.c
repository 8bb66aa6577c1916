/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration-test data driver: librdkafka producer/consumer (C API, Debian
 * librdkafka-dev 2.0.2). Protocol in tests/integration/data_scenarios.py:
 *
 *   rdkafka_data produce BOOTSTRAP TOPIC SPEC CODEC ACKS [k=v ...]
 *   rdkafka_data consume BOOTSTRAP TOPIC PARTS COUNT OUT   (COUNT -1: to the end)
 *   rdkafka_data seq     BOOTSTRAP TOPIC N [k=v ...]
 *
 * The consumer has no group.id: the simple consumer from offset 0.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "bench_client.h"
#include "bench_rdk.h"

#define MAX_FIELD (1 << 20)

static void
set_extra(rd_kafka_conf_t *conf, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq)
			bench_client_die("bad k=v", argv[i]);
		*eq = '\0';
		bench_rdk_must_set(conf, argv[i], eq + 1);
		*eq = '=';
	}
}

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* -- minimal reader for the spec lines json.dumps writes ------------------ */
struct bytes {
	unsigned char *p;
	size_t len;
	int null;
};

struct hdr {
	char name[256];
	struct bytes val;
};

struct rec {
	int32_t part;
	struct bytes key, val;
	struct hdr *hdrs;
	int nhdrs;
	int64_t ts;
};

static unsigned
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (unsigned)(c - 'A' + 10);
	return 0;
}

static const char *
skip_ws(const char *s)
{
	while (*s == ' ' || *s == ',' || *s == ':')
		s++;
	return s;
}

static const char *
parse_hex(const char *s, struct bytes *b)
{
	s = skip_ws(s);
	if (strncmp(s, "null", 4) == 0) {
		b->p = NULL;
		b->len = 0;
		b->null = 1;
		return s + 4;
	}
	if (*s != '"')
		bench_client_die("spec", "expected string");
	s++;
	const char *e = strchr(s, '"');
	size_t n = (size_t)(e - s) / 2;
	b->p = malloc(n + 1);
	b->len = n;
	b->null = 0;
	/* By hand: sscanf() measures the rest of the string on every call,
	 * which made an 11 MB value take 45 s. */
	for (size_t i = 0; i < n; i++)
		b->p[i] = (unsigned char)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
	return e + 1;
}

static const char *
field(const char *line, const char *name)
{
	char pat[16];
	snprintf(pat, sizeof(pat), "\"%s\":", name);
	const char *f = strstr(line, pat);
	if (!f)
		bench_client_die("spec field missing", name);
	return f + strlen(pat);
}

static void
parse_rec(const char *line, struct rec *r)
{
	r->part = (int32_t)strtol(skip_ws(field(line, "p")), NULL, 10);
	r->ts = strtoll(skip_ws(field(line, "ts")), NULL, 10);
	parse_hex(field(line, "k"), &r->key);
	parse_hex(field(line, "v"), &r->val);
	const char *s = skip_ws(field(line, "h"));
	if (*s != '[')
		bench_client_die("spec", "h not a list");
	s++;
	r->hdrs = NULL;
	r->nhdrs = 0;
	for (;;) {
		s = skip_ws(s);
		if (*s == ']')
			break;
		if (*s != '[')
			bench_client_die("spec", "header not a pair");
		s = skip_ws(s + 1);
		r->hdrs = realloc(r->hdrs, sizeof(*r->hdrs) * (size_t)(r->nhdrs + 1));
		struct hdr *h = &r->hdrs[r->nhdrs++];
		const char *e = strchr(s + 1, '"');
		snprintf(h->name, sizeof(h->name), "%.*s", (int)(e - s - 1), s + 1);
		s = parse_hex(e + 1, &h->val);
		s = skip_ws(s);
		if (*s != ']')
			bench_client_die("spec", "header pair not closed");
		s++;
	}
}

/* -- JSON output ---------------------------------------------------------- */
static void
put_hex(FILE *f, const void *p, size_t len)
{
	if (p == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (size_t i = 0; i < len; i++)
		fprintf(f, "%02x", ((const unsigned char *)p)[i]);
	fputc('"', f);
}

static void
put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* -- produce -------------------------------------------------------------- */
struct dr_state {
	int64_t *offs;
	int32_t *parts;
	char **errs;
	int nerrs;
	int pending;
};

static void
dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	struct dr_state *st = opaque;
	intptr_t i = (intptr_t)m->_private;
	st->pending--;
	if (m->err) {
		char buf[256];
		snprintf(buf, sizeof(buf), "#%ld: %s", (long)i, rd_kafka_err2name(m->err));
		st->errs = realloc(st->errs, sizeof(char *) * (size_t)(st->nerrs + 1));
		st->errs[st->nerrs++] = strdup(buf);
		st->offs[i] = -2;
	} else {
		st->parts[i] = m->partition;
		st->offs[i] = m->offset;
	}
}

static rd_kafka_t *
make_producer(const char *bootstrap, const char *codec, const char *acks, int argc,
	      char **argv, struct dr_state *st)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[512];
	bench_rdk_must_set(conf, "bootstrap.servers", bootstrap);
	if (codec)
		bench_rdk_must_set(conf, "compression.codec", codec);
	if (acks)
		bench_rdk_must_set(conf, "acks", acks);
	bench_rdk_must_set(conf, "linger.ms", "5");
	set_extra(conf, argc, argv);
	rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
	rd_kafka_conf_set_opaque(conf, st);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (!rk)
		bench_client_die("rd_kafka_new", err);
	return rk;
}

static void
send_one(rd_kafka_t *rk, const char *topic, int32_t part, struct bytes *key,
	 struct bytes *val, rd_kafka_headers_t *hdrs, int64_t ts, intptr_t i,
	 struct dr_state *st)
{
	for (;;) {
		rd_kafka_resp_err_t e = rd_kafka_producev(rk,
			RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
			RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
			RD_KAFKA_V_KEY(key ? key->p : NULL, key ? key->len : 0),
			RD_KAFKA_V_VALUE(val->p, val->len),
			RD_KAFKA_V_TIMESTAMP(ts),
			RD_KAFKA_V_HEADERS(hdrs),
			RD_KAFKA_V_OPAQUE((void *)i), RD_KAFKA_V_END);
		if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			rd_kafka_poll(rk, 50);
			continue;
		}
		if (e)
			bench_client_die("producev", rd_kafka_err2str(e));
		st->pending++;
		return;
	}
}

static void
wait_all(rd_kafka_t *rk, struct dr_state *st, double timeout_s)
{
	double end = now_s() + timeout_s;
	while (st->pending > 0 && now_s() < end)
		rd_kafka_poll(rk, 100);
	rd_kafka_flush(rk, 1000);
}

static int
cmd_produce(int argc, char **argv)
{
	const char *bootstrap = argv[0], *topic = argv[1], *spec = argv[2];
	FILE *f = fopen(spec, "r");
	if (!f)
		bench_client_die("open", spec);
	struct rec *recs = NULL;
	int n = 0;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		if (line[0] != '{')
			continue;
		recs = realloc(recs, sizeof(*recs) * (size_t)(n + 1));
		parse_rec(line, &recs[n++]);
	}
	fclose(f);
	struct dr_state st = { calloc((size_t)n + 1, 8), calloc((size_t)n + 1, 4), NULL, 0, 0 };
	rd_kafka_t *rk = make_producer(bootstrap, argv[3], argv[4], argc - 5, argv + 5, &st);
	for (int i = 0; i < n; i++) {
		struct rec *r = &recs[i];
		rd_kafka_headers_t *h = NULL;
		if (r->nhdrs) {
			h = rd_kafka_headers_new((size_t)r->nhdrs);
			for (int j = 0; j < r->nhdrs; j++)
				rd_kafka_header_add(h, r->hdrs[j].name, -1,
						    r->hdrs[j].val.null ? NULL : r->hdrs[j].val.p,
						    (ssize_t)r->hdrs[j].val.len);
		}
		send_one(rk, topic, r->part, &r->key, &r->val, h, r->ts, i, &st);
		rd_kafka_poll(rk, 0);
	}
	wait_all(rk, &st, 60);
	printf("{\"acked\":[");
	int first = 1;
	for (int i = 0; i < n; i++) {
		if (st.offs[i] == -2)
			continue;
		printf("%s[%d,%" PRId64 "]", first ? "" : ",", st.parts[i],
		       st.offs[i] < 0 ? (int64_t)-1 : st.offs[i]);
		first = 0;
	}
	printf("],\"errors\":[");
	for (int i = 0; i < st.nerrs; i++) {
		if (i)
			putchar(',');
		put_str(stdout, st.errs[i]);
	}
	if (st.pending > 0)
		printf("%s\"%d not delivered in time\"", st.nerrs ? "," : "", st.pending);
	printf("]}\n");
	rd_kafka_destroy(rk);
	return 0;
}

static int
cmd_seq(int argc, char **argv)
{
	const char *bootstrap = argv[0], *topic = argv[1];
	int n = atoi(argv[2]);
	struct dr_state st = { calloc((size_t)n + 1, 8), calloc((size_t)n + 1, 4), NULL, 0, 0 };
	for (int i = 0; i < n; i++)
		st.offs[i] = -3; /* not reported */
	rd_kafka_t *rk = make_producer(bootstrap, NULL, NULL, argc - 3, argv + 3, &st);
	for (int i = 0; i < n; i++) {
		char buf[32];
		struct bytes v = { (unsigned char *)buf, 0, 0 };
		v.len = (size_t)snprintf(buf, sizeof(buf), "seq-%08d", i);
		send_one(rk, topic, 0, NULL, &v, NULL, 0, i, &st);
		rd_kafka_poll(rk, 0);
		if (i % 20 == 0)
			rd_kafka_poll(rk, 1); /* spread the load over a few seconds */
	}
	wait_all(rk, &st, 120);
	printf("{\"acked\":[");
	int first = 1;
	for (int i = 0; i < n; i++) {
		if (st.offs[i] < -1)
			continue;
		printf("%s%d", first ? "" : ",", i);
		first = 0;
	}
	printf("],\"errors\":%d,\"first_errors\":[", st.nerrs + st.pending);
	for (int i = 0; i < st.nerrs && i < 5; i++) {
		if (i)
			putchar(',');
		put_str(stdout, st.errs[i]);
	}
	printf("]}\n");
	rd_kafka_destroy(rk);
	return 0;
}

/* -- consume -------------------------------------------------------------- */
static int
cmd_consume(int argc, char **argv)
{
	(void)argc;
	const char *bootstrap = argv[0], *topic = argv[1];
	int parts = atoi(argv[2]);
	long count = atol(argv[3]);
	FILE *out = fopen(argv[4], "w");
	if (!out)
		bench_client_die("open", argv[4]);
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char err[512];
	bench_rdk_must_set(conf, "bootstrap.servers", bootstrap);
	bench_rdk_must_set(conf, "enable.auto.commit", "false");
	if (count < 0) /* read to the end: stop at EOF on every partition */
		bench_rdk_must_set(conf, "enable.partition.eof", "true");
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (!rk)
		bench_client_die("rd_kafka_new", err);
	/* Without a group.id rd_kafka_assign() answers "Unknown group" in 2.0.2:
	 * use the simple (legacy) consumer, which is group-less by design. */
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	for (int p = 0; p < parts; p++)
		if (rd_kafka_consume_start_queue(rkt, p, 0, q) == -1)
			bench_client_die("consume_start", rd_kafka_err2str(rd_kafka_last_error()));
	long got = 0;
	int eofs = 0;
	double end = now_s() + 60;
	while ((count < 0 ? eofs < parts : got < count) && now_s() < end) {
		rd_kafka_message_t *m = rd_kafka_consume_queue(q, 500);
		if (!m)
			continue;
		if (m->err) {
			if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
				eofs++;
			rd_kafka_message_destroy(m);
			continue;
		}
		rd_kafka_timestamp_type_t tt;
		int64_t ts = rd_kafka_message_timestamp(m, &tt);
		fprintf(out, "{\"p\":%d,\"o\":%" PRId64 ",\"k\":", m->partition, m->offset);
		put_hex(out, m->key, m->key_len);
		fputs(",\"v\":", out);
		put_hex(out, m->payload, m->len);
		fputs(",\"h\":[", out);
		rd_kafka_headers_t *h = NULL;
		if (rd_kafka_message_headers(m, &h) == 0) {
			const char *name;
			const void *val;
			size_t sz;
			for (size_t i = 0;
			     rd_kafka_header_get_all(h, i, &name, &val, &sz) == 0; i++) {
				fputs(i ? ",[" : "[", out);
				put_str(out, name);
				fputc(',', out);
				put_hex(out, val, sz);
				fputc(']', out);
			}
		}
		fprintf(out, "],\"ts\":%" PRId64 "}\n", ts);
		got++;
		rd_kafka_message_destroy(m);
	}
	fclose(out);
	for (int p = 0; p < parts; p++)
		rd_kafka_consume_stop(rkt, p);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_queue_destroy(q);
	rd_kafka_destroy(rk);
	printf("{\"count\":%ld}\n", got);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		bench_client_die("usage", "rdkafka_data produce|consume|seq BOOTSTRAP TOPIC ...");
	if (strcmp(argv[1], "produce") == 0 && argc >= 7)
		return cmd_produce(argc - 2, argv + 2);
	if (strcmp(argv[1], "consume") == 0 && argc >= 7)
		return cmd_consume(argc - 2, argv + 2);
	if (strcmp(argv[1], "seq") == 0 && argc >= 5)
		return cmd_seq(argc - 2, argv + 2);
	bench_client_die("usage", "rdkafka_data produce|consume|seq BOOTSTRAP TOPIC ...");
}
