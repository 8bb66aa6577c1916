/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/config.c: defaults, the properties reader (written to a temp
 * file), override precedence, Kafka's ms/minutes/hours precedence, listener
 * parsing, that every error names its key, ignored Kafka keys, and the
 * DescribeConfigs view of the broker (captured through the callback). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/config.h"
#include "tests/unit/control/cfg_capture.h"

static struct config cfg;
static char err[512];

static void
cleanup(void)
{
	config_free(&cfg);
}

TestSuite(config, .fini = cleanup);

/* Write text to a fresh temp file; the caller unlinks it. */
static char *
write_temp(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/spillway_cfg_XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static int
load_file(const char *text, int n, const char *const *overrides)
{
	char *path = write_temp(text);
	int rc = config_load(&cfg, path, n, overrides, err, sizeof(err));

	unlink(path);
	return rc;
}

static int
load1(const char *override)
{
	const char *ov[1] = { override };

	return config_load(&cfg, NULL, 1, ov, err, sizeof(err));
}

/* The load fails with -EINVAL and the message names key and holds part. */
static void
expect_error(const char *override, const char *key, const char *part)
{
	cr_assert_eq(load1(override), -EINVAL, "%s loaded", override);
	cr_assert(strstr(err, key) != NULL, "'%s' does not name %s", err, key);
	cr_assert(strstr(err, part) != NULL, "'%s' lacks '%s'", err, part);
}

/* After loading what (named in failures): the host and port listened on and
 * advertised; advertised_host "*": the canonical host name (anything
 * non-empty); advertised_port 0: not checked. */
static void
expect_listen(const char *what, const char *host, int port, const char *advertised_host,
	      int advertised_port)
{
	const struct config_endpoint *ep = &cfg.listeners[0];

	cr_assert_eq(cfg.listener_count, 1, "%s", what);
	cr_assert_str_eq(ep->host, host, "%s", what);
	cr_assert_eq(ep->port, port, "%s", what);
	if (strcmp(advertised_host, "*") != 0)
		cr_assert_str_eq(ep->advertised_host, advertised_host, "%s", what);
	else
		cr_assert_neq(ep->advertised_host[0], '\0', "%s: canonical host name expected",
			      what);
	if (advertised_port != 0)
		cr_assert_eq(ep->advertised_port, advertised_port, "%s", what);
}

Test(config, defaults)
{
	cr_assert_eq(config_load(&cfg, NULL, 0, NULL, err, sizeof(err)), 0, "%s", err);
	expect_listen("defaults", "127.0.0.1", 9092, "127.0.0.1", 9092);
	cr_assert_str_eq(cfg.log_dir, "./data");
	cr_assert_eq(cfg.node_id, 1);
	cr_assert_eq(cfg.num_partitions, 1);
	cr_assert_eq(cfg.default_replication_factor, 1);
	cr_assert(cfg.auto_create_topics_enable);
	cr_assert(cfg.delete_topic_enable);
	cr_assert_eq(cfg.socket_request_max_bytes, 104857600);
	cr_assert_eq(cfg.message_max_bytes, 1048588);
	cr_assert_eq(cfg.log_segment_bytes, 1073741824);
	cr_assert_eq(cfg.log_roll_ms, 168LL * 3600 * 1000);
	cr_assert_eq(cfg.log_retention_ms, 168LL * 3600 * 1000);
	cr_assert_eq(cfg.log_retention_bytes, -1);
	cr_assert_eq(cfg.log_flush_interval_messages, INT64_MAX);
	cr_assert_eq(cfg.log_flush_interval_ms, INT64_MAX);
	cr_assert_eq(cfg.log_cleanup_policy, CONFIG_CLEANUP_DELETE);
	cr_assert_eq(cfg.compression_type, CONFIG_COMPRESSION_PRODUCER);
	cr_assert_eq(cfg.log_message_timestamp_type, CONFIG_TIMESTAMP_CREATE_TIME);
	cr_assert_eq(cfg.min_insync_replicas, 1);
	cr_assert_eq(cfg.producer_id_expiration_ms, 86400000);
	cr_assert_eq(cfg.offsets_topic_num_partitions, 50);
	cr_assert_eq(cfg.group_initial_rebalance_delay_ms, 3000);
	cr_assert_eq(cfg.group_min_session_timeout_ms, 6000);
	cr_assert_eq(cfg.group_max_session_timeout_ms, 1800000);
	cr_assert_null(cfg.cluster_id);
	cr_assert_eq(cfg.backend, CONFIG_BACKEND_URING);
	cr_assert_eq(cfg.dataplane_cores, 1);
	cr_assert_eq(cfg.dataplane_cpu_count, 0);
	cr_assert_eq(cfg.storage_workers, 1);
	cr_assert_str_eq(cfg.metrics_host, "127.0.0.1");
	cr_assert_eq(cfg.metrics_port, 9644);
	cr_assert_str_eq(cfg.dpdk_eal_args, "");
	cr_assert_eq(cfg.connection_inflight_max, 64);
	cr_assert_eq(cfg.connections_max, 4096);
	cr_assert_eq(cfg.log_level, LOG_INFO);
	cr_assert_eq(cfg.warning_count, 0);
}

Test(config, dpdk_keys)
{
	const char *ok[] = { "spillway.backend=dpdk", "spillway.dpdk.ipv4=10.0.1.20/24",
			     "spillway.dpdk.gateway=10.0.1.1", "spillway.dpdk.mtu=9001",
			     "spillway.dpdk.port=1", "spillway.dpdk.idle.sleep.us=200",
			     "listeners=PLAINTEXT://0.0.0.0:9093" };
	const char *other_host[] = { "spillway.backend=dpdk", "spillway.dpdk.ipv4=10.0.1.20/24",
				     "listeners=PLAINTEXT://10.0.1.21:9092" };
	const char *bad_ip[] = { "spillway.dpdk.ipv4=10.0.1.20/33" };
	const char *bad_gw[] = { "spillway.dpdk.gateway=10.0.1" };
	const char *no_ip[] = { "spillway.backend=dpdk" };

	cr_assert_eq(config_load(&cfg, NULL, 7, ok, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg.listeners[0].advertised_host, "10.0.1.20",
			 "a wildcard listener advertises it");
	cr_assert_eq(cfg.listeners[0].advertised_port, 9093);
	cr_assert_eq(cfg.dpdk_ipv4, 0x0a000114u);
	cr_assert_eq(cfg.dpdk_prefix_len, 24);
	cr_assert_eq(cfg.dpdk_gateway, 0x0a000101u);
	cr_assert_eq(cfg.dpdk_mtu, 9001);
	cr_assert_eq(cfg.dpdk_port, 1);
	cr_assert_eq(cfg.dpdk_idle_sleep_us, 200);
	config_free(&cfg);
	cr_assert_eq(config_load(&cfg, NULL, 1, bad_ip, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "spillway.dpdk.ipv4") != NULL, "%s", err);
	cr_assert_eq(config_load(&cfg, NULL, 1, bad_gw, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "spillway.dpdk.gateway") != NULL, "%s", err);
	cr_assert_eq(config_load(&cfg, NULL, 3, other_host, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "listeners") != NULL, "%s", err);
	cr_assert_eq(config_load(&cfg, NULL, 1, no_ip, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "spillway.dpdk.ipv4") != NULL, "%s", err);
}

Test(config, file_syntax)
{
	const char *text =
		"# a comment\n"
		"! another comment\n"
		"\n"
		"num.partitions=3\n"
		"  default.replication.factor : 2  \n"
		"log.dirs /var/lib/spillway\r\n"
		"spillway.dpdk.eal.args = -l 1-2 \\\n"
		"     --file-prefix spillway \\\n"
		"     --in-memory\n"
		"spillway.log.level=de\\u0062ug\n"
		"auto.create.topics.enable=FALSE\n"
		"num.partitions=4\n"
		"spillway.dpdk.ipv4=10.0.1.20/24\n"
		"listeners=PLAINTEXT://10.0.1.20:9092\n"
		"spillway.backend=dpdk";

	cr_assert_eq(load_file(text, 0, NULL), 0, "%s", err);
	cr_assert_eq(cfg.num_partitions, 4, "the later line wins");
	cr_assert_eq(cfg.default_replication_factor, 2);
	cr_assert_str_eq(cfg.log_dir, "/var/lib/spillway");
	cr_assert_str_eq(cfg.dpdk_eal_args, "-l 1-2 --file-prefix spillway --in-memory");
	cr_assert_eq(cfg.log_level, LOG_DEBUG);
	cr_assert_not(cfg.auto_create_topics_enable);
	cr_assert_eq(cfg.backend, CONFIG_BACKEND_DPDK);
	cr_assert_str_eq(config_given(&cfg, "auto.create.topics.enable"), "false");
	cr_assert_null(config_given(&cfg, "log.segment.bytes"));
}

Test(config, file_error_has_line)
{
	cr_assert_eq(load_file("num.partitions=1\n\n# x\nnum.partitions=x\n", 0, NULL), -EINVAL);
	cr_assert(strstr(err, ":4: num.partitions: invalid value 'x' (expected an integer >= 1)")
		  != NULL, "%s", err);
}

Test(config, missing_file)
{
	cr_assert_eq(config_load(&cfg, "/nonexistent/server.properties", 0, NULL, err,
				 sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "/nonexistent/server.properties") != NULL, "%s", err);
}

Test(config, overrides_win)
{
	const char *ov[] = { "num.partitions=7", "log.segment.bytes = 1048576",
			     "num.partitions=8" };

	cr_assert_eq(load_file("num.partitions=3\nmessage.max.bytes=2000\n", 3, ov), 0, "%s",
		     err);
	cr_assert_eq(cfg.num_partitions, 8);
	cr_assert_eq(cfg.log_segment_bytes, 1048576);
	cr_assert_eq(cfg.message_max_bytes, 2000);
}

Test(config, retention_precedence)
{
	const char *hours[] = { "log.retention.hours=24" };
	const char *minutes[] = { "log.retention.hours=24", "log.retention.minutes=30" };
	const char *ms[] = { "log.retention.minutes=30", "log.retention.ms=1234",
			     "log.retention.hours=1" };
	const char *unlimited[] = { "log.retention.hours=-1" };

	cr_assert_eq(config_load(&cfg, NULL, 1, hours, err, sizeof(err)), 0);
	cr_assert_eq(cfg.log_retention_ms, 24LL * 3600 * 1000);
	config_free(&cfg);
	cr_assert_eq(config_load(&cfg, NULL, 2, minutes, err, sizeof(err)), 0);
	cr_assert_eq(cfg.log_retention_ms, 30LL * 60 * 1000);
	config_free(&cfg);
	cr_assert_eq(config_load(&cfg, NULL, 3, ms, err, sizeof(err)), 0);
	cr_assert_eq(cfg.log_retention_ms, 1234);
	config_free(&cfg);
	cr_assert_eq(config_load(&cfg, NULL, 1, unlimited, err, sizeof(err)), 0);
	cr_assert_eq(cfg.log_retention_ms, -1);
	config_free(&cfg);
	cr_assert_eq(load1("log.retention.ms=-1"), 0);
	cr_assert_eq(cfg.log_retention_ms, -1);
}

Test(config, roll_and_flush)
{
	const char *ov[] = { "log.roll.hours=2", "log.flush.scheduler.interval.ms=500" };

	cr_assert_eq(config_load(&cfg, NULL, 2, ov, err, sizeof(err)), 0);
	cr_assert_eq(cfg.log_roll_ms, 2LL * 3600 * 1000);
	cr_assert_eq(cfg.log_flush_interval_ms, 500);
	config_free(&cfg);
	cr_assert_eq(load1("log.roll.ms=1000"), 0);
	cr_assert_eq(cfg.log_roll_ms, 1000);
}

/* One listeners= override and what expect_listen() should find. Strings
 * are held inline: Criterion's workers cannot follow pointers into the
 * runner's memory. */
struct listener_case {
	char override[48];
	char listen_host[16];
	int listen_port;
	char advertised_host[16];
	int advertised_port;
};

static struct listener_case listener_cases[] = {
	{ "listeners=PLAINTEXT://10.1.2.3:19092", "10.1.2.3", 19092, "10.1.2.3", 19092 },
	{ "listeners=PLAINTEXT://[::1]:9092", "::1", 9092, "::1", 0 },
	{ "listeners=PLAINTEXT://:9093", "", 9093, "*", 9093 },
};

ParameterizedTestParameters(config, listeners)
{
	return cr_make_param_array(struct listener_case, listener_cases,
				   sizeof(listener_cases) / sizeof(listener_cases[0]));
}

ParameterizedTest(struct listener_case *lc, config, listeners)
{
	cr_assert_eq(load1(lc->override), 0, "%s: %s", lc->override, err);
	expect_listen(lc->override, lc->listen_host, lc->listen_port, lc->advertised_host,
		      lc->advertised_port);
}

Test(config, advertised_listeners)
{
	const char *ov[] = { "listeners=PLAINTEXT://0.0.0.0:9092",
			     "advertised.listeners=PLAINTEXT://broker1.example:29092" };

	cr_assert_eq(config_load(&cfg, NULL, 2, ov, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(cfg.listeners[0].host, "0.0.0.0");
	cr_assert_str_eq(cfg.listeners[0].advertised_host, "broker1.example");
	cr_assert_eq(cfg.listeners[0].advertised_port, 29092);
}

/* Kafka's stock KRaft server.properties, trimmed: it must start. */
Test(config, kafka_stock_file)
{
	const char *text =
		"process.roles=broker,controller\n"
		"node.id=1\n"
		"controller.quorum.voters=1@localhost:9093\n"
		"listeners=PLAINTEXT://:9092,CONTROLLER://:9093\n"
		"inter.broker.listener.name=PLAINTEXT\n"
		"advertised.listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093\n"
		"controller.listener.names=CONTROLLER\n"
		"listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,"
		"SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL\n"
		"num.network.threads=3\n"
		"num.io.threads=8\n"
		"socket.send.buffer.bytes=102400\n"
		"socket.receive.buffer.bytes=102400\n"
		"socket.request.max.bytes=104857600\n"
		"log.dirs=/tmp/kraft-combined-logs\n"
		"num.partitions=1\n"
		"num.recovery.threads.per.data.dir=1\n"
		"offsets.topic.replication.factor=1\n"
		"transaction.state.log.replication.factor=1\n"
		"transaction.state.log.min.isr=1\n"
		"log.retention.hours=168\n"
		"log.segment.bytes=1073741824\n"
		"log.retention.check.interval.ms=300000\n";

	cr_assert_eq(load_file(text, 0, NULL), 0, "%s", err);
	cr_assert_eq(cfg.listener_count, 1, "the controller's listener is not ours");
	cr_assert_str_eq(cfg.listeners[0].name, "PLAINTEXT");
	cr_assert_str_eq(cfg.listeners[0].host, "");
	cr_assert_eq(cfg.listeners[0].port, 9092);
	cr_assert_str_eq(cfg.listeners[0].advertised_host, "localhost");
	cr_assert_str_eq(cfg.log_dir, "/tmp/kraft-combined-logs");
	/* the protocol map and inter.broker.listener.name are read */
	cr_assert_eq(cfg.warning_count, 9);
	for (int i = 0; i < cfg.warning_count; i++)
		cr_assert(strstr(cfg.warnings[i], ": ignored") != NULL);
	cr_assert(strstr(cfg.warnings[0], "process.roles") == cfg.warnings[0]);
}

/* JBOD: every entry in order, trimmed, empties dropped (Kafka's
 * Csv.parseCsvList); the first is the broker-wide one. */
Test(config, log_dirs_list)
{
	cr_assert_eq(load_file("log.dirs= /d1 ,/d2,,/d3\nlog.dir=/ignored\n", 0, NULL), 0,
		     "%s", err);
	cr_assert_eq(cfg.log_dir_count, 3);
	cr_assert_str_eq(cfg.log_dirs[0], "/d1");
	cr_assert_str_eq(cfg.log_dirs[1], "/d2");
	cr_assert_str_eq(cfg.log_dirs[2], "/d3");
	cr_assert_str_eq(cfg.log_dir, "/d1");
}

Test(config, log_dir_alone)
{
	cr_assert_eq(load_file("log.dir=/only\n", 0, NULL), 0, "%s", err);
	cr_assert_eq(cfg.log_dir_count, 1);
	cr_assert_str_eq(cfg.log_dirs[0], "/only");
}

Test(config, ids)
{
	const char *same[] = { "node.id=5", "broker.id=5" };

	cr_assert_eq(load1("broker.id=3"), 0);
	cr_assert_eq(cfg.node_id, 3);
	config_free(&cfg);
	cr_assert_eq(config_load(&cfg, NULL, 2, same, err, sizeof(err)), 0);
	cr_assert_eq(cfg.node_id, 5);
}

Test(config, ids_disagree)
{
	const char *ov[] = { "node.id=1", "broker.id=2" };

	cr_assert_eq(config_load(&cfg, NULL, 2, ov, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "node.id") != NULL && strstr(err, "broker.id") != NULL, "%s", err);
}

/* Each override fails to load, naming key, with part in the message. */
static const struct {
	const char *override, *key, *part;
} bad_overrides[] = {
	{ "num.partitions=x", "num.partitions", "invalid value 'x' (expected an integer >= 1)" },
	{ "num.partitions=0", "num.partitions", "invalid value '0'" },
	{ "foo.bar=1", "'foo.bar'", "unknown config key" },
	{ "auto.create.topics.enable=yes", "auto.create.topics.enable", "true or false" },
	{ "spillway.backend=xdp", "spillway.backend", "one of uring, dpdk" },
	{ "spillway.dataplane.cores=65", "spillway.dataplane.cores", "1..64" },
	{ "spillway.log.level=trace", "spillway.log.level", "error" },
	{ "listeners=127.0.0.1:9092", "listeners", "NAME://host:port" },
	{ "listeners=PLAINTEXT://::1:9092", "listeners", "invalid value" },
	{ "listeners=PLAINTEXT://h:70000", "listeners", "invalid value" },
	{ "listeners=PLAINTEXT://:1,PLAINTEXT://:2", "listeners", "different name" },
	{ "log.dirs=/a,/b,/a", "log.dirs", "listed twice" },
	{ "log.dirs= , ", "log.dirs", "expected a comma list" },
	{ "log.dir=", "log.dir", "invalid value ''" },
	{ "log.retention.ms=-2", "log.retention.ms", "invalid value '-2'" },
	{ "log.segment.bytes=99999999999", "log.segment.bytes", "invalid value" },
	{ "log.cleanup.policy=remove", "log.cleanup.policy", "delete, compact" },
	{ "compression.type=brotli", "compression.type", "one of" },
	{ "spillway.metrics.listen=9644", "spillway.metrics.listen", "HOST:PORT" },
	{ "spillway.dataplane.cpus=1,1", "spillway.dataplane.cpus", "distinct" },
	{ "spillway.cluster.id=short", "spillway.cluster.id", "22 characters" },
	{ "log.cleaner.min.cleanable.ratio=1.5", "log.cleaner.min.cleanable.ratio", "0..1" },
	{ "advertised.listeners=PLAINTEXT://0.0.0.0:9092", "advertised.listeners", "meta-address" },
	{ "advertised.listeners=OTHER://h:1", "advertised.listeners", "OTHER" },
	{ "group.min.session.timeout.ms=2000000", "group.min.session.timeout.ms",
	  "group.max.session.timeout.ms" },
	{ "num.partitions", "num.partitions", "expected key=value" },
	{ "socket.send.buffer.bytes=-2", "socket.send.buffer.bytes", "'-2'" },
	{ "socket.receive.buffer.bytes=x", "socket.receive.buffer.bytes", "'x'" },
};

Test(config, errors_name_the_key)
{
	for (size_t i = 0; i < sizeof(bad_overrides) / sizeof(bad_overrides[0]); i++)
		expect_error(bad_overrides[i].override, bad_overrides[i].key,
			     bad_overrides[i].part);
}

/* Kafka's defaults (100 KB each, which the listener's accepted sockets
 * inherit); -1 keeps the OS's autotuned sizes. */
Test(config, socket_buffers)
{
	const char *ov[2] = { "socket.send.buffer.bytes=-1", "socket.receive.buffer.bytes=65536" };

	cr_assert_eq(config_load(&cfg, NULL, 0, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.socket_send_buffer_bytes, 102400);
	cr_assert_eq(cfg.socket_receive_buffer_bytes, 102400);
	config_free(&cfg);
	cr_assert_eq(config_load(&cfg, NULL, 2, ov, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.socket_send_buffer_bytes, -1);
	cr_assert_eq(cfg.socket_receive_buffer_bytes, 65536);
	cr_assert_eq(cfg.warning_count, 0);
}

Test(config, cpus_match_cores)
{
	const char *good[] = { "spillway.dataplane.cores=2", "spillway.dataplane.cpus=3, 5" };
	const char *bad[] = { "spillway.dataplane.cores=2", "spillway.dataplane.cpus=3" };

	cr_assert_eq(config_load(&cfg, NULL, 2, good, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.dataplane_cpu_count, 2);
	cr_assert_eq(cfg.dataplane_cpus[0], 3);
	cr_assert_eq(cfg.dataplane_cpus[1], 5);
	config_free(&cfg);
	cr_assert_eq(config_load(&cfg, NULL, 2, bad, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "spillway.dataplane.cpus") != NULL, "%s", err);
}

Test(config, cleanup_policy_and_misc)
{
	const char *ov[] = { "log.cleanup.policy=compact, delete",
			     "spillway.metrics.listen=[::]:9100",
			     "spillway.cluster.id=MkU3OEVBNTcwNTJENDM2Qk",
			     "compression.gzip.level=-1" };

	cr_assert_eq(config_load(&cfg, NULL, 4, ov, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.log_cleanup_policy, CONFIG_CLEANUP_DELETE | CONFIG_CLEANUP_COMPACT);
	cr_assert_str_eq(cfg.metrics_host, "::");
	cr_assert_eq(cfg.metrics_port, 9100);
	cr_assert_str_eq(cfg.cluster_id, "MkU3OEVBNTcwNTJENDM2Qk");
	cr_assert_str_eq(config_given(&cfg, "log.cleanup.policy"), "compact,delete");
}

Test(config, ignored_prefix_warns)
{
	cr_assert_eq(load1("zookeeper.ssl.client.enable=false"), 0, "%s", err);
	cr_assert_eq(cfg.warning_count, 1);
	cr_assert_str_eq(cfg.warnings[0],
			 "zookeeper.ssl.client.enable: ignored (does not apply to Spillway)");
}

/* ---- describe ---- */

static struct cfg_capture cap;

Test(config, describe_all_defaults)
{
	const struct cfg_capture_item *s;

	cfg_capture_reset(&cap);
	cr_assert_eq(config_load(&cfg, NULL, 0, NULL, err, sizeof(err)), 0);
	config_describe_broker(&cfg, NULL, 0, false, true, cfg_capture_fn, &cap);
	cr_assert_gt(cap.count, 50);
	for (int i = 0; i < cap.count; i++) {
		/* Read-only unless AlterConfigs may change it. */
		cr_assert_eq(cap.items[i].read_only, !config_key_dynamic(cap.items[i].name), "%s",
			     cap.items[i].name);
		cr_assert(cap.items[i].is_default, "%s", cap.items[i].name);
		cr_assert_eq(cap.items[i].source, KP_CONFIG_SOURCE_DEFAULT);
		cr_assert(cap.items[i].has_doc);
		cr_assert_eq(cap.items[i].syn_count, 0);
		cr_assert_neq(strcmp(cap.items[i].name, "num.io.threads"), 0);
	}
	s = cfg_capture_find(&cap, "num.partitions");
	cr_assert_str_eq(s->value, "1");
	cr_assert_eq(s->type, KP_CONFIG_TYPE_INT);
	/* Kafka: null unless the key itself is set. */
	s = cfg_capture_find(&cap, "log.retention.ms");
	cr_assert(s->null_value);
	cr_assert_eq(s->type, KP_CONFIG_TYPE_LONG);
	s = cfg_capture_find(&cap, "log.dirs");
	cr_assert(s->null_value);
	s = cfg_capture_find(&cap, "auto.create.topics.enable");
	cr_assert_str_eq(s->value, "true");
	cr_assert_eq(s->type, KP_CONFIG_TYPE_BOOLEAN);
	s = cfg_capture_find(&cap, "listeners");
	cr_assert_eq(s->type, KP_CONFIG_TYPE_LIST);
}

Test(config, describe_sources_and_synonyms)
{
	const char *ov[] = { "log.retention.hours=24", "log.retention.minutes=90",
			     "num.partitions=6" };
	struct kp_str names[] = { { "log.retention.ms", 16 }, { "num.partitions", 14 },
				  { "no.such.key", 11 }, { "log.retention.hours", 19 } };
	/* The most specific first, Kafka's default last; those before the
	 * key's own name dropped (Kafka 3.9 answers so). */
	static const struct cfg_capture_syn retention_synonyms[] = {
		{ "log.retention.minutes", "90", KP_CONFIG_SOURCE_STATIC_BROKER },
		{ "log.retention.hours", "24", KP_CONFIG_SOURCE_STATIC_BROKER },
		{ "log.retention.hours", "168", KP_CONFIG_SOURCE_DEFAULT },
	};
	struct kp_str minutes = { "log.retention.minutes", 21 };
	const struct cfg_capture_item *s;

	cfg_capture_reset(&cap);
	cr_assert_eq(config_load(&cfg, NULL, 3, ov, err, sizeof(err)), 0);
	config_describe_broker(&cfg, names, 4, true, false, cfg_capture_fn, &cap);
	cr_assert_eq(cap.count, 3, "the unknown name is skipped");

	/* Set only through its synonyms: the resolved value, from no source. */
	s = cfg_capture_expect(&cap, "log.retention.ms", "", KP_CONFIG_SOURCE_DEFAULT);
	cr_assert(s->null_value);
	cr_assert_not(s->has_doc);
	cr_assert_eq(s->syn_count, 0);

	s = cfg_capture_expect(&cap, "num.partitions", "6", KP_CONFIG_SOURCE_STATIC_BROKER);
	cr_assert_eq(s->syn_count, 2);
	cfg_capture_expect_synonym(s, 0, "num.partitions", NULL, KP_CONFIG_SOURCE_STATIC_BROKER);
	cr_assert_str_eq(s->syn_value[1], "1");
	cr_assert_eq(s->syn_source[1], KP_CONFIG_SOURCE_DEFAULT);

	s = cfg_capture_expect(&cap, "log.retention.hours", "24", KP_CONFIG_SOURCE_STATIC_BROKER);
	cr_assert_eq(s->syn_count, 2);

	cfg_capture_reset(&cap);
	config_describe_broker(&cfg, &minutes, 1, true, false, cfg_capture_fn, &cap);
	s = cfg_capture_expect(&cap, "log.retention.minutes", "90",
			       KP_CONFIG_SOURCE_STATIC_BROKER);
	cfg_capture_expect_synonyms(s, 3, retention_synonyms);
}

Test(config, usage_lists_keys)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	cr_assert_not_null(out);
	config_usage(out);
	fclose(out);
	cr_assert(strstr(buf, "num.partitions") != NULL);
	cr_assert(strstr(buf, "spillway.backend") != NULL);
	cr_assert(strstr(buf, "default: uring") != NULL);
	free(buf);
}
