/* SPDX-License-Identifier: Apache-2.0 */
/* Broker configuration: the key table (name, type, default, range), the
 * Java-properties reader, per-value validation, resolution of Kafka's
 * synonym keys (ms > minutes > hours, node.id/broker.id, log.dirs/log.dir)
 * into struct config, and the DescribeConfigs view of the broker.
 * Nothing here opens sockets or data directories; it only reads one file. */
#include "control/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/compiler.h"

/* How a key's text is checked and stored. */
enum cfg_type {
	CFG_BOOL,       /* true|false, any case; field: bool */
	CFG_INT,        /* field: int32_t */
	CFG_SHORT,      /* field: int16_t */
	CFG_LONG,       /* field: int64_t */
	CFG_DOUBLE,     /* min..max; field: double (none stored today) */
	CFG_STRING,     /* any text; field: char * (heap) */
	CFG_ENUM,       /* one of choices (case-sensitive, as Kafka); field: an enum */
	CFG_POLICY,     /* comma list of delete|compact; field: unsigned bits */
	CFG_LISTENERS,  /* NAME://host:port[,...]; resolved by config_resolve_listeners() */
	CFG_HOSTPORT,   /* host:port or [v6]:port */
	CFG_CPULIST,    /* comma list of distinct CPU ids */
	CFG_PATHLIST,   /* comma list of paths (log.dirs) */
	CFG_CLUSTER_ID, /* 22 characters of URL-safe base64, as Kafka's */
	CFG_IGNORED,    /* a Kafka key that does not apply: accepted with a warning */
};

/* Row flags. */
#define CFG_F_EFFECTIVE 1u      /* describe shows the resolved value (ms heads) */
#define CFG_F_MINUS1 2u         /* -1 is accepted besides min..max (gzip level) */

struct cfg_key {
	const char *name;
	enum cfg_type type;
	unsigned flags;
	const char *def;        /* default text, as Kafka prints it; NULL: none */
	int64_t min;            /* numeric range, inclusive */
	int64_t max;
	const char *const *choices;     /* CFG_ENUM: NULL-terminated */
	ptrdiff_t off;          /* field in struct config, or -1 */
	const char *doc;
};

#define FIELD(f) ((ptrdiff_t)offsetof(struct config, f))
#define NO_FIELD ((ptrdiff_t)-1)
#define I32_MAX ((int64_t)INT32_MAX)
#define LONG_MAX_TEXT "9223372036854775807"

static const char *const backend_choices[] = { "uring", "dpdk", NULL };
static const char *const compression_choices[] = {
	"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer", NULL
};
static const char *const timestamp_choices[] = { "CreateTime", "LogAppendTime", NULL };
static const char *const log_level_choices[] = { "error", "warn", "info", "debug", NULL };

STATIC_ASSERT(CONFIG_BACKEND_DPDK == 1, "backend_choices order");
STATIC_ASSERT(CONFIG_COMPRESSION_PRODUCER == 5, "compression_choices order");
STATIC_ASSERT(CONFIG_TIMESTAMP_LOG_APPEND_TIME == 1, "timestamp_choices order");
STATIC_ASSERT(LOG_DEBUG == 3 && LOG_ERROR == 0, "log_level_choices order");
/* cfg_store() writes enum fields through an int pointer. */
STATIC_ASSERT(sizeof(enum config_backend) == sizeof(int), "enum field size");
STATIC_ASSERT(sizeof(enum config_compression) == sizeof(int), "enum field size");
STATIC_ASSERT(sizeof(enum config_timestamp_type) == sizeof(int), "enum field size");
STATIC_ASSERT(sizeof(enum log_level) == sizeof(int), "enum field size");

/* The key table. Rows keep Kafka's names, defaults and ranges (Kafka 3.9)
 * except where a comment says otherwise. */
static const struct cfg_key cfg_keys[] = {
	{ "listeners", CFG_LISTENERS, 0, "PLAINTEXT://127.0.0.1:9092", 0, 0, NULL, NO_FIELD,
	  "Listener to serve clients on; only PLAINTEXT, one listener, empty host = all." },
	{ "advertised.listeners", CFG_LISTENERS, 0, NULL, 0, 0, NULL, NO_FIELD,
	  "Listener given to clients in Metadata; default: listeners." },
	{ "log.dirs", CFG_PATHLIST, 0, NULL, 0, 0, NULL, NO_FIELD,
	  "Data directory (one entry for now); wins over log.dir." },
	{ "log.dir", CFG_STRING, 0, "./data", 0, 0, NULL, NO_FIELD,
	  "Data directory when log.dirs is not set." },
	{ "node.id", CFG_INT, CFG_F_EFFECTIVE, "1", 0, I32_MAX, NULL, NO_FIELD,
	  "This broker's id; must equal broker.id when both are set." },
	{ "broker.id", CFG_INT, CFG_F_EFFECTIVE, "1", 0, I32_MAX, NULL, NO_FIELD,
	  "Same as node.id (ZooKeeper-era name)." },
	{ "num.partitions", CFG_INT, 0, "1", 1, I32_MAX, NULL, FIELD(num_partitions),
	  "Partitions of an auto-created topic." },
	{ "default.replication.factor", CFG_SHORT, 0, "1", 1, INT16_MAX, NULL,
	  FIELD(default_replication_factor), "Replication factor of an auto-created topic." },
	{ "auto.create.topics.enable", CFG_BOOL, 0, "true", 0, 0, NULL,
	  FIELD(auto_create_topics_enable), "Create unknown topics on Metadata/Produce." },
	{ "delete.topic.enable", CFG_BOOL, 0, "true", 0, 0, NULL, FIELD(delete_topic_enable),
	  "Allow DeleteTopics." },
	{ "socket.request.max.bytes", CFG_INT, 0, "104857600", 1, I32_MAX, NULL,
	  FIELD(socket_request_max_bytes), "Largest request frame accepted." },
	{ "socket.send.buffer.bytes", CFG_INT, 0, "102400", -1, I32_MAX, NULL,
	  FIELD(socket_send_buffer_bytes), "SO_SNDBUF of client connections (uring backend); "
	  "-1 or 0: the OS default, autotuned." },
	{ "socket.receive.buffer.bytes", CFG_INT, 0, "102400", -1, I32_MAX, NULL,
	  FIELD(socket_receive_buffer_bytes), "SO_RCVBUF of client connections (uring backend); "
	  "-1 or 0: the OS default, autotuned." },
	{ "message.max.bytes", CFG_INT, 0, "1048588", 0, I32_MAX, NULL, FIELD(message_max_bytes),
	  "Largest record batch accepted (topic: max.message.bytes)." },
	{ "log.segment.bytes", CFG_INT, 0, "1073741824", 14, I32_MAX, NULL,
	  FIELD(log_segment_bytes), "Segment size before a roll." },
	{ "log.roll.ms", CFG_LONG, CFG_F_EFFECTIVE, NULL, 1, INT64_MAX, NULL, FIELD(log_roll_ms),
	  "Segment age before a roll; wins over log.roll.hours." },
	{ "log.roll.hours", CFG_INT, 0, "168", 1, I32_MAX, NULL, NO_FIELD,
	  "Segment age before a roll, in hours." },
	{ "log.roll.jitter.ms", CFG_LONG, CFG_F_EFFECTIVE, NULL, 0, INT64_MAX, NULL,
	  FIELD(log_roll_jitter_ms), "Random jitter subtracted from the roll time." },
	{ "log.roll.jitter.hours", CFG_INT, 0, "0", 0, I32_MAX, NULL, NO_FIELD,
	  "Roll jitter in hours." },
	{ "log.retention.ms", CFG_LONG, CFG_F_EFFECTIVE, NULL, -1, INT64_MAX, NULL,
	  FIELD(log_retention_ms), "Retention time; -1 unlimited; wins over minutes and hours." },
	{ "log.retention.minutes", CFG_INT, 0, NULL, -1, I32_MAX, NULL, NO_FIELD,
	  "Retention time in minutes; wins over hours." },
	{ "log.retention.hours", CFG_INT, 0, "168", -1, I32_MAX, NULL, NO_FIELD,
	  "Retention time in hours." },
	{ "log.retention.bytes", CFG_LONG, 0, "-1", -1, INT64_MAX, NULL,
	  FIELD(log_retention_bytes), "Partition size before old segments go; -1 unlimited." },
	{ "log.flush.interval.messages", CFG_LONG, 0, LONG_MAX_TEXT, 1, INT64_MAX, NULL,
	  FIELD(log_flush_interval_messages), "Messages appended before an fsync." },
	{ "log.flush.interval.ms", CFG_LONG, CFG_F_EFFECTIVE, NULL, 0, INT64_MAX, NULL,
	  FIELD(log_flush_interval_ms), "Time before an fsync; default the scheduler interval." },
	{ "log.flush.scheduler.interval.ms", CFG_LONG, 0, LONG_MAX_TEXT, 0, INT64_MAX, NULL,
	  NO_FIELD, "Fallback for log.flush.interval.ms." },
	{ "log.index.size.max.bytes", CFG_INT, 0, "10485760", 4, I32_MAX, NULL,
	  FIELD(log_index_size_max_bytes), "Offset index size per segment." },
	{ "log.index.interval.bytes", CFG_INT, 0, "4096", 0, I32_MAX, NULL,
	  FIELD(log_index_interval_bytes), "Bytes between offset index entries." },
	{ "log.segment.delete.delay.ms", CFG_LONG, 0, "60000", 0, INT64_MAX, NULL,
	  FIELD(log_segment_delete_delay_ms), "Delay before a deleted segment's files go." },
	{ "log.preallocate", CFG_BOOL, 0, "false", 0, 0, NULL, FIELD(log_preallocate),
	  "Preallocate segment files." },
	{ "log.cleanup.policy", CFG_POLICY, 0, "delete", 0, 0, NULL, FIELD(log_cleanup_policy),
	  "delete and/or compact." },
	{ "log.cleaner.delete.retention.ms", CFG_LONG, 0, "86400000", 0, INT64_MAX, NULL,
	  NO_FIELD, "How long compaction keeps tombstones." },
	{ "log.cleaner.min.compaction.lag.ms", CFG_LONG, 0, "0", 0, INT64_MAX, NULL, NO_FIELD,
	  "Minimum age of a record before compaction." },
	{ "log.cleaner.max.compaction.lag.ms", CFG_LONG, 0, LONG_MAX_TEXT, 1, INT64_MAX, NULL,
	  NO_FIELD, "Maximum age of a record before compaction." },
	{ "log.cleaner.min.cleanable.ratio", CFG_DOUBLE, 0, "0.5", 0, 1, NULL, NO_FIELD,
	  "Dirty ratio that makes a log eligible for compaction." },
	{ "compression.type", CFG_ENUM, 0, "producer", 0, 0, compression_choices,
	  FIELD(compression_type), "Stored compression; producer keeps the producer's." },
	{ "compression.gzip.level", CFG_INT, CFG_F_MINUS1, "-1", 1, 9, NULL, NO_FIELD,
	  "gzip level when recompressing." },
	{ "compression.lz4.level", CFG_INT, 0, "9", 1, 17, NULL, NO_FIELD,
	  "lz4 level when recompressing." },
	{ "compression.zstd.level", CFG_INT, 0, "3", -131072, 22, NULL, NO_FIELD,
	  "zstd level when recompressing." },
	{ "log.message.timestamp.type", CFG_ENUM, 0, "CreateTime", 0, 0, timestamp_choices,
	  FIELD(log_message_timestamp_type), "CreateTime or LogAppendTime." },
	{ "log.message.timestamp.before.max.ms", CFG_LONG, 0, LONG_MAX_TEXT, 0, INT64_MAX, NULL,
	  FIELD(log_message_timestamp_before_max_ms), "Oldest record timestamp accepted." },
	{ "log.message.timestamp.after.max.ms", CFG_LONG, 0, LONG_MAX_TEXT, 0, INT64_MAX, NULL,
	  FIELD(log_message_timestamp_after_max_ms), "Newest record timestamp accepted." },
	{ "log.message.timestamp.difference.max.ms", CFG_LONG, 0, LONG_MAX_TEXT, 0, INT64_MAX,
	  NULL, NO_FIELD, "Deprecated by Kafka; kept for topic describe." },
	{ "log.message.format.version", CFG_STRING, 0, "3.0-IV1", 0, 0, NULL, NO_FIELD,
	  "Deprecated by Kafka; record batches are always v2." },
	{ "log.message.downconversion.enable", CFG_BOOL, 0, "true", 0, 0, NULL, NO_FIELD,
	  "Down-convert for old fetchers (Spillway never down-converts)." },
	{ "log.local.retention.ms", CFG_LONG, 0, "-2", -2, INT64_MAX, NULL, NO_FIELD,
	  "Tiered storage: local retention time (-2: retention.ms)." },
	{ "log.local.retention.bytes", CFG_LONG, 0, "-2", -2, INT64_MAX, NULL, NO_FIELD,
	  "Tiered storage: local retention size (-2: retention.bytes)." },
	{ "unclean.leader.election.enable", CFG_BOOL, 0, "false", 0, 0, NULL,
	  FIELD(unclean_leader_election_enable), "Allow an out-of-sync leader." },
	{ "min.insync.replicas", CFG_INT, 0, "1", 1, I32_MAX, NULL, FIELD(min_insync_replicas),
	  "Replicas that must ack for acks=all." },
	{ "producer.id.expiration.ms", CFG_LONG, 0, "86400000", 1, I32_MAX, NULL,
	  FIELD(producer_id_expiration_ms), "Idle time before a producer id's state goes." },
	{ "offsets.topic.num.partitions", CFG_INT, 0, "50", 1, I32_MAX, NULL,
	  FIELD(offsets_topic_num_partitions), "Partitions of __consumer_offsets." },
	/* Kafka's default is 3; a single broker could never create the topic. */
	{ "offsets.topic.replication.factor", CFG_SHORT, 0, "1", 1, INT16_MAX, NULL,
	  FIELD(offsets_topic_replication_factor), "Replication factor of __consumer_offsets." },
	{ "offsets.retention.minutes", CFG_INT, 0, "10080", 1, I32_MAX, NULL,
	  FIELD(offsets_retention_minutes), "How long an empty group's offsets are kept." },
	{ "group.initial.rebalance.delay.ms", CFG_INT, 0, "3000", 0, I32_MAX, NULL,
	  FIELD(group_initial_rebalance_delay_ms), "Wait for more members of a new group." },
	{ "group.min.session.timeout.ms", CFG_INT, 0, "6000", 0, I32_MAX, NULL,
	  FIELD(group_min_session_timeout_ms), "Smallest session timeout a member may ask." },
	{ "group.max.session.timeout.ms", CFG_INT, 0, "1800000", 0, I32_MAX, NULL,
	  FIELD(group_max_session_timeout_ms), "Largest session timeout a member may ask." },
	{ "group.max.size", CFG_INT, 0, "2147483647", 1, I32_MAX, NULL, FIELD(group_max_size),
	  "Members per consumer group." },
	{ "transaction.max.timeout.ms", CFG_INT, 0, "900000", 1, I32_MAX, NULL,
	  FIELD(transaction_max_timeout_ms), "Largest transaction timeout a producer may ask." },
	{ "transactional.id.expiration.ms", CFG_INT, 0, "604800000", 1, I32_MAX, NULL,
	  FIELD(transactional_id_expiration_ms), "Idle time before a transactional id expires." },
	{ "transaction.state.log.num.partitions", CFG_INT, 0, "50", 1, I32_MAX, NULL,
	  FIELD(transaction_state_log_num_partitions), "Partitions of __transaction_state." },
	{ "spillway.cluster.id", CFG_CLUSTER_ID, 0, NULL, 0, 0, NULL, NO_FIELD,
	  "Fixed cluster id (22 chars); default: generated at first start and persisted." },
	{ "spillway.backend", CFG_ENUM, 0, "uring", 0, 0, backend_choices, FIELD(backend),
	  "Network backend: uring (kernel sockets) or dpdk." },
	{ "spillway.dataplane.cores", CFG_INT, 0, "1", 1, CONFIG_CORES_MAX, NULL,
	  FIELD(dataplane_cores), "Dataplane cores." },
	{ "spillway.dataplane.cpus", CFG_CPULIST, 0, NULL, 0, 0, NULL, NO_FIELD,
	  "CPU ids to pin the cores to, one per core; default: unpinned." },
	{ "spillway.storage.workers", CFG_INT, 0, "1", 1, CONFIG_CORES_MAX, NULL,
	  FIELD(storage_workers), "Storage worker threads." },
	{ "spillway.storage.open.files.max", CFG_INT, 0, "0", 0, 16777216, NULL,
	  FIELD(storage_open_files_max), "Segment file descriptors the storage workers keep "
	  "open together (closed least recently used first); 0: half of RLIMIT_NOFILE." },
	{ "spillway.metrics.listen", CFG_HOSTPORT, 0, "127.0.0.1:9644", 0, 0, NULL, NO_FIELD,
	  "HOST:PORT of the Prometheus metrics endpoint." },
	{ "spillway.dpdk.eal.args", CFG_STRING, 0, "", 0, 0, NULL, FIELD(dpdk_eal_args),
	  "DPDK EAL arguments, e.g. -l 1-2 --file-prefix spillway --in-memory." },
	{ "spillway.dpdk.port", CFG_INT, 0, "0", 0, 1023, NULL, FIELD(dpdk_port),
	  "DPDK port id of the NIC (or vdev) clients reach." },
	{ "spillway.dpdk.ipv4", CFG_STRING, 0, "", 0, 0, NULL, NO_FIELD,
	  "IPv4 address/prefix the dpdk backend owns, e.g. 10.0.1.20/24." },
	{ "spillway.dpdk.gateway", CFG_STRING, 0, "", 0, 0, NULL, NO_FIELD,
	  "IPv4 next hop for clients outside the subnet; empty: none." },
	{ "spillway.dpdk.mtu", CFG_INT, 0, "1500", 576, 9216, NULL, FIELD(dpdk_mtu),
	  "IP MTU of the dpdk port (9001 on EC2 inside a VPC)." },
	{ "spillway.dpdk.idle.sleep.us", CFG_INT, 0, "0", 0, 100000, NULL,
	  FIELD(dpdk_idle_sleep_us),
	  "0: busy-poll; > 0: sleep up to this long per idle loop turn (shared machines)." },
	{ "spillway.connection.inflight.max", CFG_INT, 0, "64", 1, 4096, NULL,
	  FIELD(connection_inflight_max), "Requests in flight per connection." },
	{ "spillway.connections.max", CFG_INT, 0, "4096", 1, 1048576, NULL,
	  FIELD(connections_max), "Connections per dataplane core." },
	{ "connections.max.idle.ms", CFG_INT, 0, "600000", -1, I32_MAX, NULL,
	  FIELD(connections_max_idle_ms), "Close a connection with no bytes in or out and no "
	  "request in flight for this long; -1 (or 0): never." },
	{ "max.connections", CFG_INT, 0, "2147483647", 1, I32_MAX, NULL,
	  FIELD(max_connections), "Client connections the broker accepts in all; more are "
	  "closed at once (counted and logged)." },
	{ "max.connections.per.ip", CFG_INT, 0, "2147483647", 1, I32_MAX, NULL,
	  FIELD(max_connections_per_ip), "Client connections accepted from one IP address; "
	  "more are closed at once (counted and logged)." },
	{ "spillway.log.level", CFG_ENUM, 0, "info", 0, 0, log_level_choices, FIELD(log_level),
	  "error, warn, info or debug." },

	/* Kafka keys that a copied server.properties carries but that do not
	 * apply to Spillway. Accepted with a warning; the values of
	 * controller.listener.names and listener.security.protocol.map are read
	 * to pick the client listener. */
	{ "num.network.threads", CFG_IGNORED, 0, NULL, 0, 0, NULL, NO_FIELD, NULL },
	{ "num.io.threads", CFG_IGNORED, 0, NULL, 0, 0, NULL, NO_FIELD, NULL },
	{ "num.replica.fetchers", CFG_IGNORED, 0, NULL, 0, 0, NULL, NO_FIELD, NULL },
	{ "num.recovery.threads.per.data.dir", CFG_IGNORED, 0, NULL, 0, 0, NULL, NO_FIELD, NULL },
	{ "process.roles", CFG_IGNORED, 0, NULL, 0, 0, NULL, NO_FIELD, NULL },
	{ "controller.listener.names", CFG_IGNORED, 0, NULL, 0, 0, NULL, NO_FIELD, NULL },
	{ "inter.broker.listener.name", CFG_IGNORED, 0, NULL, 0, 0, NULL, NO_FIELD, NULL },
	{ "listener.security.protocol.map", CFG_IGNORED, 0, NULL, 0, 0, NULL, NO_FIELD, NULL },
	{ "log.retention.check.interval.ms", CFG_IGNORED, 0, NULL, 0, 0, NULL, NO_FIELD, NULL },
	{ "log.cleaner.enable", CFG_IGNORED, 0, NULL, 0, 0, NULL, NO_FIELD, NULL },
	{ "log.cleaner.threads", CFG_IGNORED, 0, NULL, 0, 0, NULL, NO_FIELD, NULL },
	{ "replica.lag.time.max.ms", CFG_IGNORED, 0, NULL, 0, 0, NULL, NO_FIELD, NULL },
	{ "group.coordinator.rebalance.protocols", CFG_IGNORED, 0, NULL, 0, 0, NULL, NO_FIELD,
	  NULL },
};

STATIC_ASSERT(ARRAY_LEN(cfg_keys) <= CONFIG_KEYS_MAX, "raise CONFIG_KEYS_MAX");

/* Families of Kafka keys accepted with a warning, matched by prefix. */
static const char *const cfg_ignored_prefixes[] = {
	"controller.", "zookeeper.", "transaction.state.log.", "metadata.", "listener.name.",
	"share.", "ssl.", "sasl.", "remote.log.", "confluent.",
};

/* Kafka's synonym groups among broker keys, most specific first. Describing
 * any member lists the whole group, as Kafka's brokerConfigSynonyms() does. */
static const char *const cfg_synonym_groups[][4] = {
	{ "log.roll.ms", "log.roll.hours", NULL, NULL },
	{ "log.roll.jitter.ms", "log.roll.jitter.hours", NULL, NULL },
	{ "log.retention.ms", "log.retention.minutes", "log.retention.hours", NULL },
	{ "log.flush.interval.ms", "log.flush.scheduler.interval.ms", NULL, NULL },
};

/* ---- Small helpers ---- */

static void __attribute__((format(printf, 3, 4)))
cfg_err(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err_size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
}

static int
cfg_index(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(cfg_keys); i++) {
		if (strcmp(cfg_keys[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

static const char *
cfg_given_at(const struct config *cfg, const char *name)
{
	int i = cfg_index(name);

	return i < 0 ? NULL : cfg->given[i];
}

const char *
config_given(const struct config *cfg, const char *key)
{
	int i = cfg_index(key);

	if (i < 0 || cfg_keys[i].type == CFG_IGNORED)
		return NULL;
	return cfg->given[i];
}

const char *
config_default_text(const char *key)
{
	int i = cfg_index(key);

	return i < 0 ? NULL : cfg_keys[i].def;
}

static char *
cfg_trim(char *s)
{
	char *end;

	while (*s != '\0' && isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

static void
cfg_warn(struct config *cfg, const char *key)
{
	char line[256];

	snprintf(line, sizeof(line), "%s: ignored (does not apply to Spillway)", key);
	if (cfg->warning_count < CONFIG_WARNINGS_MAX) {
		cfg->warnings[cfg->warning_count] = strdup(line);
		if (cfg->warnings[cfg->warning_count] == NULL)
			return;
	}
	cfg->warning_count++;
}

/* ---- Value checks: text -> normalized text, or a reason ---- */

/* Parse a whole decimal integer (surrounding blanks trimmed by the caller). */
static bool
cfg_parse_i64(const char *text, int64_t *out)
{
	char *end;
	long long v;

	if (*text == '\0')
		return false;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0' || end == text)
		return false;
	*out = v;
	return true;
}

static void
cfg_expect_int(const struct cfg_key *k, char *buf, size_t size)
{
	const char *what = k->type == CFG_LONG ? "a long integer" : "an integer";
	int64_t type_max = k->type == CFG_LONG ? INT64_MAX :
			   k->type == CFG_SHORT ? INT16_MAX : INT32_MAX;

	if (k->flags & CFG_F_MINUS1)
		snprintf(buf, size, "-1 or an integer in %" PRId64 "..%" PRId64, k->min, k->max);
	else if (k->max >= type_max)
		snprintf(buf, size, "%s >= %" PRId64, what, k->min);
	else
		snprintf(buf, size, "%s in %" PRId64 "..%" PRId64, what, k->min, k->max);
}

static void
cfg_expect_choices(const char *const *choices, char *buf, size_t size)
{
	size_t used = 0;
	int i;

	used += (size_t)snprintf(buf, size, "one of");
	for (i = 0; choices[i] != NULL && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s %s", i ? "," : "",
					 choices[i]);
}

static int
cfg_choice(const char *const *choices, const char *text)
{
	int i;

	for (i = 0; choices[i] != NULL; i++) {
		if (strcmp(choices[i], text) == 0)
			return i;
	}
	return -1;
}

/* Split "host:port" or "[v6]:port" (host may be empty). */
static bool
cfg_split_hostport(const char *text, char *host, size_t host_size, uint16_t *port)
{
	const char *colon;
	const char *h = text;
	size_t hlen;
	int64_t p;

	if (*text == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || close[1] != ':')
			return false;
		h = text + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL)
			return false;
		hlen = (size_t)(colon - text);
		if (memchr(text, ':', hlen) != NULL)
			return false;   /* a bare IPv6 address needs brackets */
	}
	if (hlen >= host_size)
		return false;
	for (size_t i = 0; i < hlen; i++) {
		unsigned char c = (unsigned char)h[i];

		if (!isalnum(c) && strchr("-._:%", c) == NULL)
			return false;
	}
	if (!cfg_parse_i64(colon + 1, &p) || p < 0 || p > 65535)
		return false;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)p;
	return true;
}

struct cfg_listener {
	char name[64];
	char host[CONFIG_HOST_MAX];
	uint16_t port;
};

/* Parse one "NAME://host:port" entry. */
static bool
cfg_parse_listener(const char *text, struct cfg_listener *l)
{
	const char *sep = strstr(text, "://");
	size_t nlen;

	if (sep == NULL || sep == text)
		return false;
	nlen = (size_t)(sep - text);
	if (nlen >= sizeof(l->name))
		return false;
	for (size_t i = 0; i < nlen; i++) {
		if (!isalnum((unsigned char)text[i]) && text[i] != '_' && text[i] != '-')
			return false;
	}
	memcpy(l->name, text, nlen);
	l->name[nlen] = '\0';
	for (size_t i = 0; i < nlen; i++)
		l->name[i] = (char)toupper((unsigned char)l->name[i]);
	return cfg_split_hostport(sep + 3, l->host, sizeof(l->host), &l->port);
}

/* Call each comma-separated, trimmed, non-empty item of text; stop at the
 * first nonzero return and pass it on. */
static int
cfg_each_item(const char *text, int (*fn)(void *arg, char *item), void *arg)
{
	char *copy = strdup(text);
	char *save = NULL;
	char *tok;
	int rc = 0;

	if (copy == NULL)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok != NULL && rc == 0;
	     tok = strtok_r(NULL, ",", &save)) {
		char *item = cfg_trim(tok);

		if (*item != '\0')
			rc = fn(arg, item);
	}
	free(copy);
	return rc;
}

struct cfg_list_check {
	enum cfg_type type;
	int count;
	int32_t cpus[CONFIG_CORES_MAX];
	char *norm;
	size_t norm_size;
	size_t norm_len;
};

static int
cfg_check_item(void *arg, char *item)
{
	struct cfg_list_check *lc = arg;
	struct cfg_listener l;
	int64_t v;

	if (lc->type == CFG_LISTENERS && !cfg_parse_listener(item, &l))
		return 1;
	if (lc->type == CFG_POLICY && strcmp(item, "delete") != 0 && strcmp(item, "compact") != 0)
		return 1;
	if (lc->type == CFG_CPULIST) {
		if (!cfg_parse_i64(item, &v) || v < 0 || v > 4095 || lc->count >= CONFIG_CORES_MAX)
			return 1;
		for (int i = 0; i < lc->count; i++) {
			if (lc->cpus[i] == v)
				return 1;
		}
		lc->cpus[lc->count] = (int32_t)v;
	}
	lc->count++;
	lc->norm_len += (size_t)snprintf(lc->norm + lc->norm_len, lc->norm_size - lc->norm_len,
					 "%s%s", lc->count > 1 ? "," : "", item);
	return lc->norm_len >= lc->norm_size ? 1 : 0;
}

static const char *
cfg_list_expect(enum cfg_type type)
{
	switch (type) {
	case CFG_LISTENERS:
		return "a comma list of NAME://host:port, IPv6 hosts in brackets";
	case CFG_POLICY:
		return "a comma list of delete, compact";
	case CFG_CPULIST:
		return "a comma list of distinct CPU ids in 0..4095, at most 64";
	default:
		return "a comma list of directories";
	}
}

static bool
cfg_check_list(const struct cfg_key *k, const char *text, char *norm, size_t norm_size)
{
	struct cfg_list_check lc = { .type = k->type, .norm = norm, .norm_size = norm_size };

	norm[0] = '\0';
	if (cfg_each_item(text, cfg_check_item, &lc) != 0)
		return false;
	return lc.count > 0;
}

static bool
cfg_check_cluster_id(const char *text)
{
	size_t n = strlen(text);

	if (n != 22)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)text[i]) && text[i] != '-' && text[i] != '_')
			return false;
	}
	return true;
}

/* Check text against k. On success writes the normalized text to norm and
 * returns true; else writes what was expected to expect. */
static bool
cfg_check(const struct cfg_key *k, const char *text, char *norm, size_t norm_size,
	  char *expect, size_t expect_size)
{
	int64_t v;
	char *end;
	double d;

	switch (k->type) {
	case CFG_BOOL:
		snprintf(expect, expect_size, "true or false");
		if (strcasecmp(text, "true") != 0 && strcasecmp(text, "false") != 0)
			return false;
		snprintf(norm, norm_size, "%s", strcasecmp(text, "true") == 0 ? "true" : "false");
		return true;
	case CFG_INT:
	case CFG_SHORT:
	case CFG_LONG:
		cfg_expect_int(k, expect, expect_size);
		if (!cfg_parse_i64(text, &v))
			return false;
		if ((v < k->min || v > k->max) && !((k->flags & CFG_F_MINUS1) && v == -1))
			return false;
		snprintf(norm, norm_size, "%" PRId64, v);
		return true;
	case CFG_DOUBLE:
		snprintf(expect, expect_size, "a number in %" PRId64 "..%" PRId64, k->min, k->max);
		errno = 0;
		d = strtod(text, &end);
		if (errno != 0 || *end != '\0' || end == text || !(d >= (double)k->min) ||
		    !(d <= (double)k->max))
			return false;
		snprintf(norm, norm_size, "%s", text);
		return true;
	case CFG_ENUM:
		cfg_expect_choices(k->choices, expect, expect_size);
		if (cfg_choice(k->choices, text) < 0)
			return false;
		snprintf(norm, norm_size, "%s", text);
		return true;
	case CFG_HOSTPORT: {
		char host[CONFIG_HOST_MAX];
		uint16_t port;

		snprintf(expect, expect_size, "HOST:PORT, IPv6 hosts in brackets");
		if (text[0] == '\0' &&
		    strcmp(k->name, "spillway.metrics.listen") == 0) {
			norm[0] = '\0'; /* empty: the endpoint is disabled */
			return true;
		}
		if (!cfg_split_hostport(text, host, sizeof(host), &port) || port == 0)
			return false;
		snprintf(norm, norm_size, "%s", text);
		return true;
	}
	case CFG_LISTENERS:
	case CFG_POLICY:
	case CFG_CPULIST:
	case CFG_PATHLIST:
		snprintf(expect, expect_size, "%s", cfg_list_expect(k->type));
		return cfg_check_list(k, text, norm, norm_size);
	case CFG_CLUSTER_ID:
		snprintf(expect, expect_size, "22 characters of A-Z a-z 0-9 - _");
		if (!cfg_check_cluster_id(text))
			return false;
		snprintf(norm, norm_size, "%s", text);
		return true;
	case CFG_STRING:
	case CFG_IGNORED:
		snprintf(norm, norm_size, "%s", text);
		return true;
	}
	return false;
}

/* ---- Setting keys ---- */

static bool
cfg_ignored_prefix(const char *key)
{
	for (size_t i = 0; i < ARRAY_LEN(cfg_ignored_prefixes); i++) {
		if (strncmp(key, cfg_ignored_prefixes[i], strlen(cfg_ignored_prefixes[i])) == 0)
			return true;
	}
	return false;
}

/* Record key=value from where (a "file:line" or "--override"). */
static int
cfg_set(struct config *cfg, const char *key, const char *value, const char *where,
	char *err, size_t err_size)
{
	char expect[160];
	char *norm;
	size_t norm_size = strlen(value) + 2;
	int i = cfg_index(key);

	if (i < 0) {
		if (cfg_ignored_prefix(key)) {
			cfg_warn(cfg, key);
			return 0;
		}
		cfg_err(err, err_size, "%s: unknown config key '%s'", where, key);
		return -EINVAL;
	}
	norm = malloc(norm_size);
	if (norm == NULL)
		return -ENOMEM;
	if (!cfg_check(&cfg_keys[i], value, norm, norm_size, expect, sizeof(expect))) {
		cfg_err(err, err_size, "%s: %s: invalid value '%s' (expected %s)", where, key,
			value, expect);
		free(norm);
		return -EINVAL;
	}
	if (cfg_keys[i].type == CFG_IGNORED && cfg->given[i] == NULL)
		cfg_warn(cfg, key);
	free(cfg->given[i]);
	cfg->given[i] = norm;
	return 0;
}

/* ---- The properties reader ---- */

static int
cfg_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Undo Java-properties escapes in place: \t \n \r \f, \uXXXX (as UTF-8) and
 * \x -> x for any other x. */
static void
cfg_unescape(char *s)
{
	char *out = s;

	while (*s != '\0') {
		if (*s != '\\' || s[1] == '\0') {
			*out++ = *s++;
			continue;
		}
		s++;
		if (*s == 'u' && cfg_hex(s[1]) >= 0 && cfg_hex(s[2]) >= 0 && cfg_hex(s[3]) >= 0 &&
		    cfg_hex(s[4]) >= 0) {
			unsigned cp = (unsigned)(cfg_hex(s[1]) << 12 | cfg_hex(s[2]) << 8 |
						 cfg_hex(s[3]) << 4 | cfg_hex(s[4]));

			if (cp < 0x80) {
				*out++ = (char)cp;
			} else if (cp < 0x800) {
				*out++ = (char)(0xc0 | cp >> 6);
				*out++ = (char)(0x80 | (cp & 0x3f));
			} else {
				*out++ = (char)(0xe0 | cp >> 12);
				*out++ = (char)(0x80 | ((cp >> 6) & 0x3f));
				*out++ = (char)(0x80 | (cp & 0x3f));
			}
			s += 5;
			continue;
		}
		*out++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s == 'r' ? '\r' :
			 *s == 'f' ? '\f' : *s;
		s++;
	}
	*out = '\0';
}

/* One logical line "key[=: ]value": split, unescape, trim, set. */
static int
cfg_logical_line(struct config *cfg, char *line, const char *where, char *err, size_t err_size)
{
	char *p = line;
	char *value;

	while (*p != '\0' && strchr("=: \t\f", *p) == NULL) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		p++;
	}
	value = p;
	while (*value == ' ' || *value == '\t' || *value == '\f')
		value++;
	if (*value == '=' || *value == ':')
		value++;
	*p = '\0';
	cfg_unescape(line);
	cfg_unescape(value);
	return cfg_set(cfg, cfg_trim(line), cfg_trim(value), where, err, err_size);
}

/* Parse text (NUL-terminated, owned by the caller, modified). */
static int
cfg_parse_text(struct config *cfg, const char *path, char *text, char *err, size_t err_size)
{
	char *logical = malloc(strlen(text) + 1);
	char where[PATH_MAX + 32];
	size_t len = 0;
	int line_no = 0;
	int start_no = 0;
	char *phys;
	char *next;
	int rc = 0;

	if (logical == NULL)
		return -ENOMEM;
	for (phys = text; phys != NULL && rc == 0; phys = next) {
		char *nl = strchr(phys, '\n');
		size_t n;
		size_t slashes = 0;

		next = nl != NULL ? nl + 1 : NULL;
		if (nl != NULL)
			*nl = '\0';
		line_no++;
		phys += strspn(phys, " \t\f");
		n = strcspn(phys, "\r");
		phys[n] = '\0';
		if (len == 0 && (n == 0 || *phys == '#' || *phys == '!'))
			continue;
		if (len == 0)
			start_no = line_no;
		while (slashes < n && phys[n - 1 - slashes] == '\\')
			slashes++;
		memcpy(logical + len, phys, n);
		len += n;
		if (slashes % 2 == 1) {
			len--;  /* drop the continuation backslash */
			continue;
		}
		logical[len] = '\0';
		snprintf(where, sizeof(where), "%s:%d", path, start_no);
		rc = cfg_logical_line(cfg, logical, where, err, err_size);
		len = 0;
	}
	if (rc == 0 && len > 0) {
		logical[len] = '\0';
		snprintf(where, sizeof(where), "%s:%d", path, start_no);
		rc = cfg_logical_line(cfg, logical, where, err, err_size);
	}
	free(logical);
	return rc;
}

#define CFG_FILE_BYTES_MAX (4u << 20)

static int
cfg_read_file(struct config *cfg, const char *path, char *err, size_t err_size)
{
	FILE *f = fopen(path, "r");
	char *text;
	size_t n;
	int rc;

	if (f == NULL) {
		rc = -errno;
		cfg_err(err, err_size, "%s: %s", path, strerror(-rc));
		return rc;
	}
	text = malloc(CFG_FILE_BYTES_MAX + 1);
	if (text == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(text, 1, CFG_FILE_BYTES_MAX + 1, f);
	rc = ferror(f) ? -EIO : 0;
	fclose(f);
	if (rc == 0 && n > CFG_FILE_BYTES_MAX) {
		cfg_err(err, err_size, "%s: larger than %u bytes", path, CFG_FILE_BYTES_MAX);
		rc = -EFBIG;
	} else if (rc != 0) {
		cfg_err(err, err_size, "%s: read error", path);
	}
	if (rc == 0) {
		text[n] = '\0';
		rc = cfg_parse_text(cfg, path, text, err, err_size);
	}
	free(text);
	return rc;
}

/* ---- Resolution: given/default texts -> typed fields ---- */

static const char *
cfg_text(const struct config *cfg, int i)
{
	return cfg->given[i] != NULL ? cfg->given[i] : cfg_keys[i].def;
}

/* Store the text of a row that has a plain field. */
static int
cfg_store(struct config *cfg, const struct cfg_key *k, const char *text)
{
	void *field = (char *)cfg + k->off;
	unsigned bits = 0;

	switch (k->type) {
	case CFG_BOOL:
		*(bool *)field = strcmp(text, "true") == 0;
		break;
	case CFG_INT:
		*(int32_t *)field = (int32_t)strtoll(text, NULL, 10);
		break;
	case CFG_SHORT:
		*(int16_t *)field = (int16_t)strtoll(text, NULL, 10);
		break;
	case CFG_LONG:
		*(int64_t *)field = strtoll(text, NULL, 10);
		break;
	case CFG_ENUM:
		*(int *)field = cfg_choice(k->choices, text);
		break;
	case CFG_POLICY:
		bits |= strstr(text, "delete") != NULL ? CONFIG_CLEANUP_DELETE : 0;
		bits |= strstr(text, "compact") != NULL ? CONFIG_CLEANUP_COMPACT : 0;
		*(unsigned *)field = bits;
		break;
	case CFG_STRING:
		*(char **)field = strdup(text);
		if (*(char **)field == NULL)
			return -ENOMEM;
		break;
	default:
		PANIC("config: row type has no plain field");
	}
	return 0;
}

/* The given value of an integer key, or its default, or fallback. */
static int64_t
cfg_i64(const struct config *cfg, const char *key, int64_t fallback, bool *given)
{
	int i = cfg_index(key);
	const char *text;

	ASSERT(i >= 0);
	text = cfg_text(cfg, i);
	if (given != NULL)
		*given = cfg->given[i] != NULL;
	return text != NULL ? strtoll(text, NULL, 10) : fallback;
}

/* Kafka's precedence among ms / minutes / hours keys (any may be NULL). */
static int64_t
cfg_ms_of(const struct config *cfg, const char *ms_key, const char *min_key,
	  const char *hours_key)
{
	bool given = false;
	int64_t v;

	if (ms_key != NULL) {
		v = cfg_i64(cfg, ms_key, 0, &given);
		if (given)
			return v;
	}
	if (min_key != NULL) {
		v = cfg_i64(cfg, min_key, 0, &given);
		if (given)
			return v < 0 ? v : v * 60 * 1000;
	}
	v = cfg_i64(cfg, hours_key, 0, NULL);
	return v < 0 ? v : v * 3600 * 1000;
}

static int
cfg_resolve_times(struct config *cfg, char *err, size_t err_size)
{
	bool given = false;

	cfg->log_roll_ms = cfg_ms_of(cfg, "log.roll.ms", NULL, "log.roll.hours");
	cfg->log_roll_jitter_ms = cfg_ms_of(cfg, "log.roll.jitter.ms", NULL,
					    "log.roll.jitter.hours");
	cfg->log_retention_ms = cfg_ms_of(cfg, "log.retention.ms", "log.retention.minutes",
					  "log.retention.hours");
	if (cfg->log_retention_ms < 0)
		cfg->log_retention_ms = -1;
	cfg->log_flush_interval_ms = cfg_i64(cfg, "log.flush.interval.ms", 0, &given);
	if (!given)
		cfg->log_flush_interval_ms = cfg_i64(cfg, "log.flush.scheduler.interval.ms", 0,
						     NULL);
	if (cfg->group_min_session_timeout_ms > cfg->group_max_session_timeout_ms) {
		cfg_err(err, err_size, "group.min.session.timeout.ms: %d is above "
			"group.max.session.timeout.ms %d", cfg->group_min_session_timeout_ms,
			cfg->group_max_session_timeout_ms);
		return -EINVAL;
	}
	return 0;
}

static int
cfg_resolve_ids(struct config *cfg, char *err, size_t err_size)
{
	bool node_given = false;
	bool broker_given = false;
	int64_t node = cfg_i64(cfg, "node.id", 1, &node_given);
	int64_t broker = cfg_i64(cfg, "broker.id", 1, &broker_given);

	if (node_given && broker_given && node != broker) {
		cfg_err(err, err_size, "node.id: %" PRId64 " does not match broker.id %" PRId64,
			node, broker);
		return -EINVAL;
	}
	cfg->node_id = (int32_t)(node_given || !broker_given ? node : broker);
	return 0;
}

struct cfg_split {
	char first[PATH_MAX];
	int count;
};

static int
cfg_split_item(void *arg, char *item)
{
	struct cfg_split *sp = arg;

	if (sp->count++ == 0)
		snprintf(sp->first, sizeof(sp->first), "%s", item);
	return 0;
}

static int
cfg_resolve_dirs(struct config *cfg, char *err, size_t err_size)
{
	const char *dirs = cfg_given_at(cfg, "log.dirs");
	struct cfg_split sp = { .count = 0 };
	const char *dir;

	if (dirs != NULL) {
		if (cfg_each_item(dirs, cfg_split_item, &sp) != 0)
			return -ENOMEM;
		if (sp.count > 1) {
			cfg_err(err, err_size, "log.dirs: %d directories given ('%s'); Spillway "
				"supports one log directory for now", sp.count, dirs);
			return -EINVAL;
		}
		dir = sp.first;
	} else {
		dir = cfg_text(cfg, cfg_index("log.dir"));
		if (*dir == '\0') {
			cfg_err(err, err_size, "log.dir: invalid value '' (expected a directory)");
			return -EINVAL;
		}
	}
	cfg->log_dir = strdup(dir);
	return cfg->log_dir == NULL ? -ENOMEM : 0;
}

/* True when name is an item of the comma list (case-insensitive). */
static bool
cfg_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	while (list != NULL && *list != '\0') {
		const char *end;
		size_t len;

		list += strspn(list, " ,");
		end = list + strcspn(list, ",");
		len = (size_t)(end - list);
		while (len > 0 && isspace((unsigned char)list[len - 1]))
			len--;
		if (len == n && strncasecmp(list, name, n) == 0)
			return true;
		list = end;
	}
	return false;
}

/* The security protocol of a listener name: its entry in
 * listener.security.protocol.map, else the name itself. */
static void
cfg_protocol_of(const struct config *cfg, const char *name, char *proto, size_t size)
{
	const char *map = cfg_given_at(cfg, "listener.security.protocol.map");
	size_t n = strlen(name);

	snprintf(proto, size, "%s", name);
	while (map != NULL && *map != '\0') {
		const char *end;

		map += strspn(map, " ,");
		end = map + strcspn(map, ",");
		if (strncasecmp(map, name, n) == 0 && map[n] == ':') {
			size_t len = (size_t)(end - map) - n - 1;

			snprintf(proto, size, "%.*s", (int)len, map + n + 1);
			cfg_trim(proto);
			for (char *p = proto; *p != '\0'; p++)
				*p = (char)toupper((unsigned char)*p);
			return;
		}
		map = end;
	}
}

struct cfg_collect {
	const struct config *cfg;
	struct cfg_listener items[8];
	int count;
};

static int
cfg_collect_item(void *arg, char *item)
{
	struct cfg_collect *cc = arg;
	struct cfg_listener l;

	if (!cfg_parse_listener(item, &l))
		return 1;       /* checked when set: cannot happen */
	if (cfg_list_has(cfg_given_at(cc->cfg, "controller.listener.names"), l.name))
		return 0;       /* a KRaft controller listener: not ours */
	if (cc->count == (int)ARRAY_LEN(cc->items))
		return 1;
	cc->items[cc->count++] = l;
	return 0;
}

static void
cfg_canonical_host(char *out, size_t size)
{
	struct addrinfo hints = { .ai_flags = AI_CANONNAME, .ai_family = AF_UNSPEC };
	struct addrinfo *res = NULL;
	char name[CONFIG_HOST_MAX];

	if (gethostname(name, sizeof(name)) != 0)
		snprintf(name, sizeof(name), "localhost");
	name[sizeof(name) - 1] = '\0';
	if (getaddrinfo(name, NULL, &hints, &res) == 0 && res != NULL &&
	    res->ai_canonname != NULL)
		snprintf(out, size, "%s", res->ai_canonname);
	else
		snprintf(out, size, "%s", name);
	if (res != NULL)
		freeaddrinfo(res);
}

static bool
cfg_host_is_any(const char *host)
{
	return *host == '\0' || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
}

static int
cfg_resolve_advertised(struct config *cfg, const char *name, char *err, size_t err_size)
{
	struct cfg_collect cc = { .cfg = cfg };
	const char *text = cfg_given_at(cfg, "advertised.listeners");
	const struct cfg_listener *pick = NULL;

	if (text == NULL) {
		if (cfg_host_is_any(cfg->listen_host))
			cfg_canonical_host(cfg->advertised_host, sizeof(cfg->advertised_host));
		else
			snprintf(cfg->advertised_host, CONFIG_HOST_MAX, "%s", cfg->listen_host);
		cfg->advertised_port = cfg->listen_port;
		return 0;
	}
	if (cfg_each_item(text, cfg_collect_item, &cc) != 0) {
		cfg_err(err, err_size, "advertised.listeners: too many listeners in '%s'", text);
		return -EINVAL;
	}
	for (int i = 0; i < cc.count; i++) {
		if (strcmp(cc.items[i].name, name) != 0) {
			cfg_err(err, err_size, "advertised.listeners: listener '%s' is not in "
				"listeners", cc.items[i].name);
			return -EINVAL;
		}
		pick = &cc.items[i];
	}
	if (pick == NULL) {
		cfg_err(err, err_size, "advertised.listeners: no entry for listener '%s'", name);
		return -EINVAL;
	}
	if (strcmp(pick->host, "0.0.0.0") == 0 || strcmp(pick->host, "::") == 0) {
		cfg_err(err, err_size, "advertised.listeners: cannot advertise the meta-address "
			"'%s'", pick->host);
		return -EINVAL;
	}
	if (pick->host[0] == '\0')
		cfg_canonical_host(cfg->advertised_host, sizeof(cfg->advertised_host));
	else
		snprintf(cfg->advertised_host, CONFIG_HOST_MAX, "%s", pick->host);
	cfg->advertised_port = pick->port;
	return 0;
}

static int
cfg_resolve_listeners(struct config *cfg, char *err, size_t err_size)
{
	struct cfg_collect cc = { .cfg = cfg };
	const char *text = cfg_text(cfg, cfg_index("listeners"));
	char proto[64];

	if (cfg_each_item(text, cfg_collect_item, &cc) != 0 || cc.count > 1) {
		cfg_err(err, err_size, "listeners: more than one client listener in '%s'; "
			"Spillway serves one for now", text);
		return -EINVAL;
	}
	if (cc.count == 0) {
		cfg_err(err, err_size, "listeners: no client listener in '%s' (all are in "
			"controller.listener.names)", text);
		return -EINVAL;
	}
	cfg_protocol_of(cfg, cc.items[0].name, proto, sizeof(proto));
	if (strcmp(proto, "PLAINTEXT") != 0) {
		cfg_err(err, err_size, "listeners: security protocol %s of listener '%s' is not "
			"supported (only PLAINTEXT)", proto, cc.items[0].name);
		return -EINVAL;
	}
	snprintf(cfg->listen_host, CONFIG_HOST_MAX, "%s", cc.items[0].host);
	cfg->listen_port = cc.items[0].port;
	return cfg_resolve_advertised(cfg, cc.items[0].name, err, err_size);
}

static int
cfg_cpu_item(void *arg, char *item)
{
	struct config *cfg = arg;

	cfg->dataplane_cpus[cfg->dataplane_cpu_count++] = (int32_t)strtol(item, NULL, 10);
	return 0;
}

/* "a.b.c.d" into *addr (host order); false unless exactly that. */
static bool
cfg_parse_ipv4(const char *text, uint32_t *addr)
{
	struct in_addr in;

	if (inet_pton(AF_INET, text, &in) != 1)
		return false;
	*addr = ntohl(in.s_addr);
	return true;
}

static int
cfg_resolve_dpdk(struct config *cfg, char *err, size_t err_size)
{
	const char *ip = cfg_text(cfg, cfg_index("spillway.dpdk.ipv4"));
	const char *gw = cfg_text(cfg, cfg_index("spillway.dpdk.gateway"));
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(ip, '/');
	char *end;
	long prefix = 32;

	if (ip[0] != '\0') {
		size_t n = slash != NULL ? (size_t)(slash - ip) : strlen(ip);

		if (slash != NULL) {
			errno = 0;
			prefix = strtol(slash + 1, &end, 10);
			if (slash[1] == '\0' || *end != '\0' || errno != 0 || prefix < 1 ||
			    prefix > 32)
				n = sizeof(addr);       /* reported below */
		}
		if (n >= sizeof(addr)) {
			cfg_err(err, err_size, "spillway.dpdk.ipv4: '%s' is not an IPv4 "
				"address/prefix (e.g. 10.0.1.20/24)", ip);
			return -EINVAL;
		}
		memcpy(addr, ip, n);
		addr[n] = '\0';
		if (!cfg_parse_ipv4(addr, &cfg->dpdk_ipv4) || cfg->dpdk_ipv4 == 0) {
			cfg_err(err, err_size, "spillway.dpdk.ipv4: '%s' is not an IPv4 "
				"address/prefix (e.g. 10.0.1.20/24)", ip);
			return -EINVAL;
		}
		cfg->dpdk_prefix_len = (uint8_t)prefix;
	}
	if (gw[0] != '\0' && !cfg_parse_ipv4(gw, &cfg->dpdk_gateway)) {
		cfg_err(err, err_size, "spillway.dpdk.gateway: '%s' is not an IPv4 address", gw);
		return -EINVAL;
	}
	if (cfg->backend != CONFIG_BACKEND_DPDK)
		return 0;
	if (cfg->dpdk_ipv4 == 0) {
		cfg_err(err, err_size, "spillway.dpdk.ipv4: required with spillway.backend=dpdk "
			"(the address clients connect to, e.g. 10.0.1.20/24)");
		return -EINVAL;
	}
	/* The listener's host, when named, is the dpdk address; a wildcard
	 * listener advertises it. */
	if (cfg_host_is_any(cfg->listen_host)) {
		struct in_addr in = { .s_addr = htonl(cfg->dpdk_ipv4) };

		if (cfg_given_at(cfg, "advertised.listeners") == NULL)
			inet_ntop(AF_INET, &in, cfg->advertised_host, CONFIG_HOST_MAX);
	} else {
		uint32_t host;

		if (!cfg_parse_ipv4(cfg->listen_host, &host) || host != cfg->dpdk_ipv4) {
			cfg_err(err, err_size, "listeners: host '%s' is not spillway.dpdk.ipv4 "
				"(with spillway.backend=dpdk, use that address or 0.0.0.0)",
				cfg->listen_host);
			return -EINVAL;
		}
	}
	return 0;
}

static int
cfg_resolve_spillway(struct config *cfg, char *err, size_t err_size)
{
	const char *cpus = cfg_given_at(cfg, "spillway.dataplane.cpus");
	const char *id = cfg_given_at(cfg, "spillway.cluster.id");
	const char *text;
	bool ok;

	if (cpus != NULL) {
		if (cfg_each_item(cpus, cfg_cpu_item, cfg) != 0)
			return -ENOMEM;
		if (cfg->dataplane_cpu_count != cfg->dataplane_cores) {
			cfg_err(err, err_size, "spillway.dataplane.cpus: %d CPUs listed but "
				"spillway.dataplane.cores is %d", cfg->dataplane_cpu_count,
				cfg->dataplane_cores);
			return -EINVAL;
		}
	}
	/* Every reply slot has a pending-request record, indexed in 24 bits. */
	if ((int64_t)cfg->connections_max * cfg->connection_inflight_max > (1 << 24)) {
		cfg_err(err, err_size, "spillway.connections.max: %d connections x "
			"spillway.connection.inflight.max %d exceeds 16777216 request slots "
			"per core",
			cfg->connections_max, cfg->connection_inflight_max);
		return -EINVAL;
	}
	text = cfg_text(cfg, cfg_index("spillway.metrics.listen"));
	ok = text[0] == '\0' ? true       /* disabled: port 0 */
			     : cfg_split_hostport(text, cfg->metrics_host,
						  sizeof(cfg->metrics_host), &cfg->metrics_port);
	ASSERT(ok);     /* the default is valid and a given value was checked */
	if (cfg_resolve_dpdk(cfg, err, err_size) != 0)
		return -EINVAL;
	if (id != NULL) {
		cfg->cluster_id = strdup(id);
		if (cfg->cluster_id == NULL)
			return -ENOMEM;
	}
	return 0;
}

static int
cfg_resolve(struct config *cfg, char *err, size_t err_size)
{
	int rc;

	for (size_t i = 0; i < ARRAY_LEN(cfg_keys); i++) {
		const char *text = cfg_text(cfg, (int)i);

		if (cfg_keys[i].off < 0 || text == NULL)
			continue;
		rc = cfg_store(cfg, &cfg_keys[i], text);
		if (rc != 0)
			return rc;
	}
	rc = cfg_resolve_ids(cfg, err, err_size);
	if (rc == 0)
		rc = cfg_resolve_times(cfg, err, err_size);
	if (rc == 0)
		rc = cfg_resolve_dirs(cfg, err, err_size);
	if (rc == 0)
		rc = cfg_resolve_listeners(cfg, err, err_size);
	if (rc == 0)
		rc = cfg_resolve_spillway(cfg, err, err_size);
	return rc;
}

/* ---- Public entry points ---- */

static int
cfg_apply_override(struct config *cfg, const char *kv, char *err, size_t err_size)
{
	char *copy = strdup(kv);
	char *eq;
	int rc;

	if (copy == NULL)
		return -ENOMEM;
	eq = strchr(copy, '=');
	if (eq == NULL) {
		cfg_err(err, err_size, "--override '%s': expected key=value", kv);
		free(copy);
		return -EINVAL;
	}
	*eq = '\0';
	rc = cfg_set(cfg, cfg_trim(copy), cfg_trim(eq + 1), "--override", err, err_size);
	free(copy);
	return rc;
}

int
config_load(struct config *cfg, const char *path, int override_count,
	    const char *const *overrides, char *err, size_t err_size)
{
	int rc = 0;

	ASSERT(cfg != NULL);
	ASSERT(override_count == 0 || overrides != NULL);
	memset(cfg, 0, sizeof(*cfg));
	if (err != NULL && err_size > 0)
		err[0] = '\0';
	if (path != NULL)
		rc = cfg_read_file(cfg, path, err, err_size);
	for (int i = 0; i < override_count && rc == 0; i++)
		rc = cfg_apply_override(cfg, overrides[i], err, err_size);
	if (rc == 0)
		rc = cfg_resolve(cfg, err, err_size);
	if (rc != 0) {
		if (err != NULL && err_size > 0 && err[0] == '\0')
			cfg_err(err, err_size, "config: %s", strerror(-rc));
		config_free(cfg);
	}
	return rc;
}

void
config_free(struct config *cfg)
{
	for (size_t i = 0; i < CONFIG_KEYS_MAX; i++) {
		free(cfg->given[i]);
		cfg->given[i] = NULL;
	}
	for (size_t i = 0; i < CONFIG_WARNINGS_MAX; i++) {
		free(cfg->warnings[i]);
		cfg->warnings[i] = NULL;
	}
	free(cfg->log_dir);
	free(cfg->cluster_id);
	free(cfg->dpdk_eal_args);
	cfg->log_dir = NULL;
	cfg->cluster_id = NULL;
	cfg->dpdk_eal_args = NULL;
	cfg->warning_count = 0;
}

static int8_t
cfg_kp_type(enum cfg_type type)
{
	switch (type) {
	case CFG_BOOL:
		return KP_CONFIG_TYPE_BOOLEAN;
	case CFG_INT:
		return KP_CONFIG_TYPE_INT;
	case CFG_SHORT:
		return KP_CONFIG_TYPE_SHORT;
	case CFG_LONG:
		return KP_CONFIG_TYPE_LONG;
	case CFG_DOUBLE:
		return KP_CONFIG_TYPE_DOUBLE;
	case CFG_LISTENERS:
	case CFG_POLICY:
	case CFG_CPULIST:
	case CFG_PATHLIST:
		return KP_CONFIG_TYPE_LIST;
	default:
		return KP_CONFIG_TYPE_STRING;
	}
}

void
config_usage(FILE *out)
{
	static const char *const type_names[] = {
		[KP_CONFIG_TYPE_BOOLEAN] = "boolean", [KP_CONFIG_TYPE_STRING] = "string",
		[KP_CONFIG_TYPE_INT] = "int", [KP_CONFIG_TYPE_SHORT] = "short",
		[KP_CONFIG_TYPE_LONG] = "long", [KP_CONFIG_TYPE_DOUBLE] = "double",
		[KP_CONFIG_TYPE_LIST] = "list",
	};

	fprintf(out, "Configuration keys (--config FILE, --override key=value):\n");
	for (size_t i = 0; i < ARRAY_LEN(cfg_keys); i++) {
		const struct cfg_key *k = &cfg_keys[i];

		if (k->type == CFG_IGNORED)
			continue;
		fprintf(out, "  %-40s %-8s default: %s\n      %s\n", k->name,
			type_names[cfg_kp_type(k->type)], k->def == NULL ? "(none)" :
			*k->def == '\0' ? "\"\"" : k->def, k->doc);
	}
	fprintf(out, "Accepted and ignored (Kafka keys that do not apply):\n ");
	for (size_t i = 0; i < ARRAY_LEN(cfg_keys); i++) {
		if (cfg_keys[i].type == CFG_IGNORED)
			fprintf(out, " %s", cfg_keys[i].name);
	}
	for (size_t i = 0; i < ARRAY_LEN(cfg_ignored_prefixes); i++)
		fprintf(out, " %s*", cfg_ignored_prefixes[i]);
	fprintf(out, "\n");
}

/* The synonym group of name, or NULL. */
static const char *const *
cfg_group_of(const char *name)
{
	for (size_t g = 0; g < ARRAY_LEN(cfg_synonym_groups); g++) {
		for (size_t m = 0; m < 4 && cfg_synonym_groups[g][m] != NULL; m++) {
			if (strcmp(cfg_synonym_groups[g][m], name) == 0)
				return cfg_synonym_groups[g];
		}
	}
	return NULL;
}

/* Kafka's synonym order: the members set (in group order), then the members
 * that have a default. */
static void
cfg_add_synonyms(const struct config *cfg, const char *const *names, int count,
		 struct kp_config_entry *e)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int m = 0; m < count && names[m] != NULL; m++) {
			int i = cfg_index(names[m]);
			const char *v = pass == 0 ? cfg->given[i] : cfg_keys[i].def;
			int32_t n = e->synonym_count;

			if (v == NULL || n == (int32_t)ARRAY_LEN(e->synonyms))
				continue;
			e->synonyms[n].name = cfg_keys[i].name;
			e->synonyms[n].value = v;
			e->synonyms[n].source = pass == 0 ? KP_CONFIG_SOURCE_STATIC_BROKER :
							    KP_CONFIG_SOURCE_DEFAULT;
			e->synonym_count++;
		}
	}
}

static void
cfg_describe_one(const struct config *cfg, int i, bool include_synonyms, bool include_docs,
		 kp_config_entry_fn *fn, void *arg)
{
	const struct cfg_key *k = &cfg_keys[i];
	const char *const *group = cfg_group_of(k->name);
	struct kp_config_entry e;
	char value[32];
	bool set = cfg->given[i] != NULL;

	memset(&e, 0, sizeof(e));
	e.name = k->name;
	e.value = cfg_text(cfg, i);
	if (k->flags & CFG_F_EFFECTIVE) {
		int64_t v = k->off >= 0 ? *(const int64_t *)((const char *)cfg + k->off) :
					  cfg->node_id;

		snprintf(value, sizeof(value), "%" PRId64, v);
		e.value = value;
		for (int m = 0; group != NULL && m < 4 && group[m] != NULL; m++)
			set = set || cfg_given_at(cfg, group[m]) != NULL;
	}
	e.source = set ? KP_CONFIG_SOURCE_STATIC_BROKER : KP_CONFIG_SOURCE_DEFAULT;
	e.type = cfg_kp_type(k->type);
	e.read_only = true;
	e.is_default = !set;
	e.sensitive = false;
	e.documentation = include_docs ? k->doc : NULL;
	if (include_synonyms && group != NULL)
		cfg_add_synonyms(cfg, group, 4, &e);
	else if (include_synonyms)
		cfg_add_synonyms(cfg, &k->name, 1, &e);
	fn(arg, &e);
}

void
config_describe_broker(const struct config *cfg, const struct kp_str *names,
		       int32_t name_count, bool include_synonyms, bool include_docs,
		       kp_config_entry_fn *fn, void *arg)
{
	ASSERT(cfg != NULL);
	ASSERT(fn != NULL);
	if (names == NULL) {
		for (size_t i = 0; i < ARRAY_LEN(cfg_keys); i++) {
			if (cfg_keys[i].type != CFG_IGNORED)
				cfg_describe_one(cfg, (int)i, include_synonyms, include_docs,
						 fn, arg);
		}
		return;
	}
	for (int32_t n = 0; n < name_count; n++) {
		for (size_t i = 0; i < ARRAY_LEN(cfg_keys); i++) {
			if (names[n].len < 0 || cfg_keys[i].type == CFG_IGNORED ||
			    strlen(cfg_keys[i].name) != (size_t)names[n].len ||
			    memcmp(cfg_keys[i].name, names[n].ptr, (size_t)names[n].len) != 0)
				continue;
			cfg_describe_one(cfg, (int)i, include_synonyms, include_docs, fn, arg);
		}
	}
}
