/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration-test driver: librdkafka admin API (Debian librdkafka-dev 2.0.2).
 *
 *   rdkafka_admin BOOTSTRAP OP ARGS...   -> one JSON object on stdout
 *
 * OPs follow tests/integration/scenarios.py (cluster, create, list, describe,
 * configs, partitions, delete) plus:
 *   metadata TOPIC auto|noauto   Metadata request for one topic from a handle
 *                                that does / does not allow auto-creation;
 *                                {"error":E, "partitions":N}
 *   delete-records TOPIC P:OFFSET...  rd_kafka_DeleteRecords;
 *                                {"error":E, "partitions":[{"partition":P,
 *                                "offset":LOW_WATERMARK, "error":E}..]}
 * Error names are Kafka's (TOPIC_ALREADY_EXISTS, ...); librdkafka's own names
 * are used only for codes that have no Kafka name here.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "bench_client.h"
#include "bench_rdk.h"

#define TIMEOUT_MS 30000

static const char *
kafka_err_name(rd_kafka_resp_err_t err)
{
	switch ((int)err) {
	case 0: return NULL;
	case 3: return "UNKNOWN_TOPIC_OR_PARTITION";
	case 7: return "REQUEST_TIMED_OUT";
	case 17: return "INVALID_TOPIC_EXCEPTION";
	case 35: return "UNSUPPORTED_VERSION";
	case 36: return "TOPIC_ALREADY_EXISTS";
	case 37: return "INVALID_PARTITIONS";
	case 38: return "INVALID_REPLICATION_FACTOR";
	case 39: return "INVALID_REPLICA_ASSIGNMENT";
	case 40: return "INVALID_CONFIG";
	case 41: return "NOT_CONTROLLER";
	case 42: return "INVALID_REQUEST";
	case 1: return "OFFSET_OUT_OF_RANGE";
	case 44: return "POLICY_VIOLATION";
	case 100: return "UNKNOWN_TOPIC_ID";
	default: return rd_kafka_err2name(err);
	}
}

static void
json_str(const char *s)
{
	if (s == NULL) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void
print_error_only(rd_kafka_resp_err_t err)
{
	fputs("{\"error\": ", stdout);
	json_str(kafka_err_name(err));
	fputs("}\n", stdout);
}

static rd_kafka_t *
new_handle(const char *bootstrap, rd_kafka_type_t type, const char *auto_create)
{
	char errstr[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	bench_rdk_must_set(conf, "bootstrap.servers", bootstrap);
	if (auto_create != NULL)
		bench_rdk_must_set(conf, "allow.auto.create.topics", auto_create);
	rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
	if (rk == NULL)
		bench_client_die("rd_kafka_new", errstr);
	return rk;
}

/* Runs one admin call on a private queue and returns its result event. */
static rd_kafka_event_t *
wait_result(rd_kafka_queue_t *q, rd_kafka_event_type_t type)
{
	for (;;) {
		rd_kafka_event_t *ev = rd_kafka_queue_poll(q, TIMEOUT_MS + 5000);
		if (ev == NULL)
			bench_client_die("admin", "timed out waiting for the result");
		if (rd_kafka_event_type(ev) == type)
			return ev;
		if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_ERROR)
			fprintf(stderr, "rdkafka_admin: error event: %s\n",
				rd_kafka_event_error_string(ev));
		rd_kafka_event_destroy(ev);
	}
}

static rd_kafka_AdminOptions_t *
options(rd_kafka_t *rk, rd_kafka_admin_op_t op, int validate_only)
{
	char errstr[256];
	rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);

	rd_kafka_AdminOptions_set_request_timeout(o, TIMEOUT_MS, errstr, sizeof(errstr));
	if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS ||
	    op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
	    op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS)
		rd_kafka_AdminOptions_set_operation_timeout(o, TIMEOUT_MS, errstr,
							    sizeof(errstr));
	if (validate_only &&
	    rd_kafka_AdminOptions_set_validate_only(o, 1, errstr, sizeof(errstr)))
		bench_client_die("validate_only", errstr);
	return o;
}

/* The request-level error, else the single topic's error. */
static rd_kafka_resp_err_t
topic_result_err(rd_kafka_event_t *ev, const rd_kafka_topic_result_t **res, size_t n)
{
	if (rd_kafka_event_error(ev))
		return rd_kafka_event_error(ev);
	if (n != 1)
		bench_client_die("admin", "expected one topic result");
	return rd_kafka_topic_result_error(res[0]);
}

/* One admin call: its private queue and options, then its result event. */
struct admin {
	rd_kafka_queue_t *q;
	rd_kafka_AdminOptions_t *o;
	rd_kafka_event_t *ev;
};

static struct admin
admin_begin(rd_kafka_t *rk, rd_kafka_admin_op_t op, int validate_only)
{
	return (struct admin){ rd_kafka_queue_new(rk), options(rk, op, validate_only), NULL };
}

static rd_kafka_event_t *
admin_wait(struct admin *a, rd_kafka_event_type_t type)
{
	a->ev = wait_result(a->q, type);
	return a->ev;
}

static void
admin_end(struct admin *a)
{
	rd_kafka_event_destroy(a->ev);
	rd_kafka_AdminOptions_destroy(a->o);
	rd_kafka_queue_destroy(a->q);
}

/* Prints {"error": ...} for a CreateTopics, DeleteTopics or CreatePartitions
 * result of one topic. */
static void
print_topic_result(rd_kafka_event_t *ev)
{
	size_t n = 0;
	const rd_kafka_topic_result_t **res = NULL;

	switch (rd_kafka_event_type(ev)) {
	case RD_KAFKA_EVENT_CREATETOPICS_RESULT:
		res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev),
							  &n);
		break;
	case RD_KAFKA_EVENT_DELETETOPICS_RESULT:
		res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev),
							  &n);
		break;
	default:
		res = rd_kafka_CreatePartitions_result_topics(
			rd_kafka_event_CreatePartitions_result(ev), &n);
		break;
	}
	print_error_only(topic_result_err(ev, res, n));
}

static int
op_create(rd_kafka_t *rk, int argc, char **argv)
{
	char errstr[512];
	int validate = 0;
	const char *assign = NULL;

	if (argc < 3)
		bench_client_die("usage",
				 "create NAME PARTS RF [--validate-only] [--assign ..] [k=v..]");
	rd_kafka_NewTopic_t *nt;
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--validate-only") == 0)
			validate = 1;
		else if (strcmp(argv[i], "--assign") == 0 && i + 1 < argc)
			assign = argv[++i];
	}
	if (assign != NULL) {
		int parts = 1;
		for (const char *p = assign; *p; p++)
			parts += *p == ';';
		nt = rd_kafka_NewTopic_new(argv[0], parts, -1, errstr, sizeof(errstr));
		if (nt == NULL)
			bench_client_die("NewTopic", errstr);
		char *copy = strdup(assign), *save = NULL;
		int part = 0;
		for (char *p = strtok_r(copy, ";", &save); p; p = strtok_r(NULL, ";", &save)) {
			int32_t ids[16];
			size_t n = 0;
			char *s2 = NULL;
			char *b = strtok_r(p, ",", &s2);

			for (; b != NULL && n < 16; b = strtok_r(NULL, ",", &s2))
				ids[n++] = (int32_t)atoi(b);
			if (rd_kafka_NewTopic_set_replica_assignment(nt, part++, ids, n, errstr,
								     sizeof(errstr)))
				bench_client_die("set_replica_assignment", errstr);
		}
		free(copy);
	} else {
		nt = rd_kafka_NewTopic_new(argv[0], atoi(argv[1]), atoi(argv[2]), errstr,
					   sizeof(errstr));
		if (nt == NULL)
			bench_client_die("NewTopic", errstr);
	}
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--assign") == 0) {
			i++;
			continue;
		}
		char *eq = strchr(argv[i], '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		if (rd_kafka_NewTopic_set_config(nt, argv[i], eq + 1))
			bench_client_die("set_config", argv[i]);
	}

	struct admin a = admin_begin(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, validate);
	rd_kafka_CreateTopics(rk, &nt, 1, a.o, a.q);
	print_topic_result(admin_wait(&a, RD_KAFKA_EVENT_CREATETOPICS_RESULT));
	admin_end(&a);
	rd_kafka_NewTopic_destroy(nt);
	return 0;
}

static int
op_delete(rd_kafka_t *rk, const char *name)
{
	rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(name);
	struct admin a = admin_begin(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS, 0);
	rd_kafka_DeleteTopics(rk, &dt, 1, a.o, a.q);
	print_topic_result(admin_wait(&a, RD_KAFKA_EVENT_DELETETOPICS_RESULT));
	admin_end(&a);
	rd_kafka_DeleteTopic_destroy(dt);
	return 0;
}

static int
op_partitions(rd_kafka_t *rk, const char *name, int total)
{
	char errstr[512];
	rd_kafka_NewPartitions_t *np =
		rd_kafka_NewPartitions_new(name, (size_t)total, errstr, sizeof(errstr));
	if (np == NULL)
		bench_client_die("NewPartitions", errstr);
	struct admin a = admin_begin(rk, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, 0);
	rd_kafka_CreatePartitions(rk, &np, 1, a.o, a.q);
	print_topic_result(admin_wait(&a, RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT));
	admin_end(&a);
	rd_kafka_NewPartitions_destroy(np);
	return 0;
}

static int
op_configs(rd_kafka_t *rk, const char *type, const char *name)
{
	rd_kafka_ResourceType_t rt = strcmp(type, "broker") == 0 ? RD_KAFKA_RESOURCE_BROKER
								 : RD_KAFKA_RESOURCE_TOPIC;
	rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(rt, name);
	struct admin a = admin_begin(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, 0);
	rd_kafka_DescribeConfigs(rk, &cr, 1, a.o, a.q);
	rd_kafka_event_t *ev = admin_wait(&a, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT);
	rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
	size_t n = 0;
	const rd_kafka_ConfigResource_t **res = NULL;
	if (!err) {
		res = rd_kafka_DescribeConfigs_result_resources(
			rd_kafka_event_DescribeConfigs_result(ev), &n);
		if (n != 1)
			bench_client_die("DescribeConfigs", "expected one resource");
		err = rd_kafka_ConfigResource_error(res[0]);
	}
	fputs("{\"error\": ", stdout);
	json_str(kafka_err_name(err));
	fputs(", \"configs\": {", stdout);
	if (!err) {
		size_t ne = 0;
		const rd_kafka_ConfigEntry_t **e = rd_kafka_ConfigResource_configs(res[0], &ne);
		for (size_t i = 0; i < ne; i++) {
			if (i)
				fputs(", ", stdout);
			json_str(rd_kafka_ConfigEntry_name(e[i]));
			fputs(": {\"value\": ", stdout);
			json_str(rd_kafka_ConfigEntry_value(e[i]));
			fputs(", \"source\": ", stdout);
			json_str(rd_kafka_ConfigSource_name(rd_kafka_ConfigEntry_source(e[i])));
			printf(", \"default\": %s}",
			       rd_kafka_ConfigEntry_is_default(e[i]) ? "true" : "false");
		}
	}
	fputs("}}\n", stdout);
	admin_end(&a);
	rd_kafka_ConfigResource_destroy(cr);
	return 0;
}

static const struct rd_kafka_metadata *
metadata(rd_kafka_t *rk, const char *topic)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = topic ? rd_kafka_topic_new(rk, topic, NULL) : NULL;
	rd_kafka_resp_err_t err = rd_kafka_metadata(rk, rkt == NULL, rkt, &md, TIMEOUT_MS);
	if (rkt)
		rd_kafka_topic_destroy(rkt);
	if (err)
		bench_client_die("metadata", rd_kafka_err2str(err));
	return md;
}

static int
op_list(rd_kafka_t *rk)
{
	const struct rd_kafka_metadata *md = metadata(rk, NULL);
	int first = 1;
	fputs("{\"topics\": [", stdout);
	for (int i = 0; i < md->topic_cnt; i++) {
		if (strncmp(md->topics[i].topic, "__", 2) == 0)
			continue;
		if (!first)
			fputs(", ", stdout);
		first = 0;
		json_str(md->topics[i].topic);
	}
	fputs("]}\n", stdout);
	rd_kafka_metadata_destroy(md);
	return 0;
}

static int
op_cluster(rd_kafka_t *rk)
{
	const struct rd_kafka_metadata *md = metadata(rk, NULL);
	fputs("{\"brokers\": [", stdout);
	for (int i = 0; i < md->broker_cnt; i++)
		printf("%s%" PRId32, i ? ", " : "", md->brokers[i].id);
	char *cid = rd_kafka_clusterid(rk, TIMEOUT_MS);
	int32_t ctrl = rd_kafka_controllerid(rk, TIMEOUT_MS);
	fputs("], \"controller\": ", stdout);
	if (ctrl >= 0)
		printf("%" PRId32, ctrl);
	else
		fputs("null", stdout);
	fputs(", \"cluster_id\": ", stdout);
	json_str(cid);
	fputs("}\n", stdout);
	if (cid)
		rd_kafka_mem_free(rk, cid);
	rd_kafka_metadata_destroy(md);
	return 0;
}

/* Metadata for one topic; the handle decides AllowAutoTopicCreation. */
static int
op_describe(rd_kafka_t *rk, const char *topic, int with_id)
{
	const struct rd_kafka_metadata *md = metadata(rk, topic);
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
	int parts = 0;
	for (int i = 0; i < md->topic_cnt; i++) {
		if (strcmp(md->topics[i].topic, topic) == 0) {
			err = md->topics[i].err;
			parts = md->topics[i].partition_cnt;
		}
	}
	fputs("{\"error\": ", stdout);
	json_str(kafka_err_name(err));
	printf(", \"partitions\": %d%s}\n", parts, with_id ? ", \"id\": null" : "");
	rd_kafka_metadata_destroy(md);
	return 0;
}

static int
op_delete_records(rd_kafka_t *rk, int argc, char **argv)
{
	rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(argc);
	const rd_kafka_topic_partition_list_t *res = NULL;

	for (int i = 1; i < argc; i++) {
		int32_t part = (int32_t)atoi(argv[i]);
		const char *colon = strchr(argv[i], ':');

		if (colon == NULL)
			bench_client_die("usage", "delete-records TOPIC P:OFFSET...");
		rd_kafka_topic_partition_list_add(offsets, argv[0], part)->offset =
			strtoll(colon + 1, NULL, 10);
	}
	rd_kafka_DeleteRecords_t *dr = rd_kafka_DeleteRecords_new(offsets);
	struct admin a = admin_begin(rk, RD_KAFKA_ADMIN_OP_DELETERECORDS, 0);
	rd_kafka_DeleteRecords(rk, &dr, 1, a.o, a.q);
	rd_kafka_event_t *ev = admin_wait(&a, RD_KAFKA_EVENT_DELETERECORDS_RESULT);
	rd_kafka_resp_err_t err = rd_kafka_event_error(ev);

	if (!err)
		res = rd_kafka_DeleteRecords_result_offsets(
			rd_kafka_event_DeleteRecords_result(ev));
	fputs("{\"error\": ", stdout);
	json_str(kafka_err_name(err));
	fputs(", \"partitions\": [", stdout);
	for (int i = 0; res != NULL && i < res->cnt; i++) {
		printf("%s{\"partition\": %" PRId32 ", \"offset\": %" PRId64 ", \"error\": ",
		       i ? ", " : "", res->elems[i].partition, res->elems[i].offset);
		json_str(kafka_err_name(res->elems[i].err));
		putchar('}');
	}
	puts("]}");
	admin_end(&a);
	rd_kafka_DeleteRecords_destroy(dr);
	rd_kafka_topic_partition_list_destroy(offsets);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s BOOTSTRAP OP ARGS...\n", argv[0]);
		return 2;
	}
	const char *bootstrap = argv[1], *op = argv[2];
	int nargs = argc - 3;
	char **args = argv + 3;
	rd_kafka_t *rk;
	int rc = 1;

	if (strcmp(op, "describe") == 0 && nargs == 1) {
		/* A consumer-type handle: AllowAutoTopicCreation=false. */
		rk = new_handle(bootstrap, RD_KAFKA_CONSUMER, "false");
		rc = op_describe(rk, args[0], 1);
	} else if (strcmp(op, "metadata") == 0 && nargs == 2) {
		int autoc = strcmp(args[1], "auto") == 0;
		rk = new_handle(bootstrap, RD_KAFKA_CONSUMER, autoc ? "true" : "false");
		rc = op_describe(rk, args[0], 0);
	} else {
		rk = new_handle(bootstrap, RD_KAFKA_PRODUCER, NULL);
		if (strcmp(op, "cluster") == 0)
			rc = op_cluster(rk);
		else if (strcmp(op, "list") == 0)
			rc = op_list(rk);
		else if (strcmp(op, "create") == 0)
			rc = op_create(rk, nargs, args);
		else if (strcmp(op, "delete") == 0 && nargs == 1)
			rc = op_delete(rk, args[0]);
		else if (strcmp(op, "partitions") == 0 && nargs == 2)
			rc = op_partitions(rk, args[0], atoi(args[1]));
		else if (strcmp(op, "configs") == 0 && nargs == 2)
			rc = op_configs(rk, args[0], args[1]);
		else if (strcmp(op, "delete-records") == 0 && nargs >= 2)
			rc = op_delete_records(rk, nargs, args);
		else
			bench_client_die("unsupported op", op);
	}
	fflush(stdout);
	rd_kafka_destroy(rk);
	return rc;
}
