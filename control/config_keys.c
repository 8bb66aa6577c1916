/* SPDX-License-Identifier: Apache-2.0 */
/* The broker's config key table: every key with its type, Kafka's default
 * text, range, struct config field and one-line doc; the Kafka keys that are
 * accepted and ignored; Kafka's synonym groups; and look-ups by name. */
#include "control/config_int.h"

#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"

#define FIELD(f) ((ptrdiff_t)offsetof(struct config, f))
#define NO_FIELD ((ptrdiff_t)-1)
#define I32_MAX ((int64_t)INT32_MAX)
#define LONG_MAX_TEXT "9223372036854775807"
#define IGNORED_KEY(name) { name, CFG_IGNORED, 0, NULL, 0, 0, NULL, NO_FIELD, NULL }

static const char *const backend_choices[] = { "uring", "dpdk", NULL };
static const char *const compression_choices[] = {
	"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer", NULL
};
static const char *const timestamp_choices[] = { "CreateTime", "LogAppendTime", NULL };
static const char *const log_level_choices[] = { "error", "warn", "info", "debug", NULL };
static const char *const flush_mode_choices[] = { "auto", "syncfs", "fdatasync", NULL };
/* Kafka's two authorizers both select Spillway's (StandardAuthorizer's
 * semantics); "" leaves authorization off. */
static const char *const authorizer_choices[] = {
	"", "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
	"kafka.security.authorizer.AclAuthorizer", NULL
};

STATIC_ASSERT(CONFIG_BACKEND_DPDK == 1, "backend_choices order");
STATIC_ASSERT(CONFIG_COMPRESSION_PRODUCER == 5, "compression_choices order");
STATIC_ASSERT(CONFIG_TIMESTAMP_LOG_APPEND_TIME == 1, "timestamp_choices order");
STATIC_ASSERT(LOG_DEBUG == 3 && LOG_ERROR == 0, "log_level_choices order");
STATIC_ASSERT(CONFIG_FLUSH_FDATASYNC == 2, "flush_mode_choices order");
STATIC_ASSERT(CONFIG_AUTHORIZER_ACL == 2, "authorizer_choices order");
STATIC_ASSERT(sizeof(enum config_authorizer) == sizeof(int), "enum field size");
/* config_resolve_store() writes enum fields through an int pointer. */
STATIC_ASSERT(sizeof(enum config_backend) == sizeof(int), "enum field size");
STATIC_ASSERT(sizeof(enum config_compression) == sizeof(int), "enum field size");
STATIC_ASSERT(sizeof(enum config_timestamp_type) == sizeof(int), "enum field size");
STATIC_ASSERT(sizeof(enum log_level) == sizeof(int), "enum field size");

/* The key table. Rows keep Kafka's names, defaults and ranges (Kafka 3.9)
 * except where a comment says otherwise. The maxima of the keys that size
 * thread-crossing tags come from common/limits.h, which asserts they fit. */
const struct config_key config_keys[] = {
	{ "listeners", CFG_LISTENERS, 0, "PLAINTEXT://127.0.0.1:9092", 0, 0, NULL, NO_FIELD,
	  "Listeners to serve clients on (at most 8), NAME://host:port; empty host = all." },
	{ "advertised.listeners", CFG_LISTENERS, 0, NULL, 0, 0, NULL, NO_FIELD,
	  "Per listener name, the address given to its clients; default: listeners." },
	{ "listener.security.protocol.map", CFG_STRING, 0,
	  "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT", 0, 0,
	  NULL, NO_FIELD, "NAME:PROTOCOL pairs: the security protocol of each listener name." },
	{ "log.dirs", CFG_PATHLIST, 0, NULL, 0, 0, NULL, NO_FIELD,
	  "Data directories, comma-separated (JBOD); wins over log.dir." },
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
	{ "authorizer.class.name", CFG_ENUM, 0, "", 0, 0, authorizer_choices, FIELD(authorizer),
	  "Kafka's StandardAuthorizer or AclAuthorizer class name turns ACL checks on "
	  "(Spillway's authorizer, StandardAuthorizer semantics); empty: off." },
	{ "super.users", CFG_STRING, 0, "", 0, 0, NULL, FIELD(super_users),
	  "Principals every check allows, semicolon-separated (User:admin;User:ops)." },
	{ "allow.everyone.if.no.acl.found", CFG_BOOL, 0, "false", 0, 0, NULL,
	  FIELD(allow_everyone_if_no_acl_found),
	  "With the authorizer on: allow a resource that has no ACL at all." },
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
	{ "log.cleaner.enable", CFG_BOOL, 0, "true", 0, 0, NULL, FIELD(log_cleaner_enable),
	  "Run the log cleaner thread that compacts cleanup.policy=compact topics." },
	{ "log.cleaner.backoff.ms", CFG_LONG, 0, "15000", 0, INT64_MAX, NULL,
	  FIELD(log_cleaner_backoff_ms), "Sleep of the log cleaner between passes." },
	/* Kafka's type is a double defaulting to Double.MAX_VALUE; a long here,
	 * its maximum meaning unlimited. */
	{ "log.cleaner.io.max.bytes.per.second", CFG_LONG, 0, LONG_MAX_TEXT, 1, INT64_MAX, NULL,
	  FIELD(log_cleaner_io_max_bytes_per_second),
	  "Read plus write budget of the log cleaner." },
	{ "log.cleaner.dedupe.buffer.size", CFG_LONG, 0, "134217728", 1024, INT64_MAX, NULL,
	  FIELD(log_cleaner_dedupe_buffer_size),
	  "Memory of the cleaner's key -> offset map (24 bytes a key)." },
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
	{ "zookeeper.connect", CFG_STRING, 0, "", 0, 0, NULL, FIELD(zookeeper_connect),
	  "Cluster mode: ZooKeeper host:port[,host:port][/chroot]; empty: a single broker." },
	{ "zookeeper.session.timeout.ms", CFG_INT, 0, "18000", 1, I32_MAX, NULL,
	  FIELD(zookeeper_session_timeout_ms), "ZooKeeper session timeout." },
	{ "zookeeper.connection.timeout.ms", CFG_INT, 0, "-1", -1, I32_MAX, NULL,
	  FIELD(zookeeper_connection_timeout_ms),
	  "How long to wait for a ZooKeeper session at start (-1: the session timeout)." },
	{ "broker.rack", CFG_STRING, 0, "", 0, 0, NULL, FIELD(broker_rack),
	  "This broker's rack: replicas of a partition spread over racks." },
	{ "inter.broker.listener.name", CFG_STRING, 0, "", 0, 0, NULL,
	  FIELD(inter_broker_listener_name),
	  "The listener followers fetch from (PLAINTEXT); empty: the first listener." },
	{ "replica.lag.time.max.ms", CFG_LONG, 0, "30000", 1, INT64_MAX, NULL,
	  FIELD(replica_lag_time_max_ms), "A follower behind this long leaves the ISR." },
	{ "replica.fetch.max.bytes", CFG_INT, 0, "1048576", 0, I32_MAX, NULL,
	  FIELD(replica_fetch_max_bytes), "Bytes a follower fetches per partition." },
	{ "replica.fetch.response.max.bytes", CFG_INT, 0, "10485760", 0, I32_MAX, NULL,
	  FIELD(replica_fetch_response_max_bytes), "Bytes a follower fetch answer may hold." },
	{ "replica.fetch.wait.max.ms", CFG_INT, 0, "500", 0, I32_MAX, NULL,
	  FIELD(replica_fetch_wait_max_ms), "How long a follower fetch may wait for data." },
	{ "replica.fetch.min.bytes", CFG_INT, 0, "1", 0, I32_MAX, NULL,
	  FIELD(replica_fetch_min_bytes), "Bytes a follower fetch waits for." },
	{ "replica.fetch.backoff.ms", CFG_INT, 0, "1000", 0, I32_MAX, NULL,
	  FIELD(replica_fetch_backoff_ms), "Pause after a follower fetch failed." },
	{ "replica.socket.timeout.ms", CFG_INT, 0, "30000", 1, I32_MAX, NULL,
	  FIELD(replica_socket_timeout_ms), "Follower connection timeout." },
	{ "replica.high.watermark.checkpoint.interval.ms", CFG_LONG, 0, "5000", 1, INT64_MAX, NULL,
	  FIELD(replica_high_watermark_checkpoint_interval_ms),
	  "How often high watermarks are saved to replication-offset-checkpoint." },
	{ "controlled.shutdown.enable", CFG_BOOL, 0, "true", 0, 0, NULL,
	  FIELD(controlled_shutdown_enable), "Move leadership away before stopping." },
	{ "controlled.shutdown.max.retries", CFG_INT, 0, "3", 0, I32_MAX, NULL,
	  FIELD(controlled_shutdown_max_retries), "Controlled shutdown attempts." },
	{ "controlled.shutdown.retry.backoff.ms", CFG_LONG, 0, "5000", 0, INT64_MAX, NULL,
	  FIELD(controlled_shutdown_retry_backoff_ms), "Pause between those attempts." },
	{ "producer.id.expiration.ms", CFG_LONG, 0, "86400000", 1, I32_MAX, NULL,
	  FIELD(producer_id_expiration_ms), "Idle time before a producer id's state goes." },
	{ "offsets.topic.num.partitions", CFG_INT, 0, "50", 1, I32_MAX, NULL,
	  FIELD(offsets_topic_num_partitions), "Partitions of __consumer_offsets." },
	/* Kafka's default is 3; a single broker could never create the topic. */
	{ "offsets.topic.replication.factor", CFG_SHORT, 0, "1", 1, INT16_MAX, NULL,
	  FIELD(offsets_topic_replication_factor), "Replication factor of __consumer_offsets." },
	{ "offsets.topic.segment.bytes", CFG_INT, 0, "104857600", 1, I32_MAX, NULL,
	  FIELD(offsets_topic_segment_bytes), "Segment size of __consumer_offsets." },
	{ "offsets.retention.minutes", CFG_INT, 0, "10080", 1, I32_MAX, NULL,
	  FIELD(offsets_retention_minutes), "How long an empty group's offsets are kept." },
	{ "offsets.retention.check.interval.ms", CFG_LONG, 0, "600000", 1, INT64_MAX, NULL,
	  FIELD(offsets_retention_check_interval_ms), "How often expired offsets are looked for." },
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
	{ "spillway.storage.flush.mode", CFG_ENUM, 0, "auto", 0, 0, flush_mode_choices,
	  FIELD(storage_flush_mode), "How acks=all data is made durable: auto (each worker "
	  "flushes all its waiting partitions at once: fdatasync for one file, syncfs for "
	  "more), syncfs (always syncfs), fdatasync (each partition its own fdatasyncs)." },
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
	{ "spillway.connection.inflight.max", CFG_INT, 0, "64", 1, LIMITS_INFLIGHT_MAX, NULL,
	  FIELD(connection_inflight_max), "Requests in flight per connection." },
	{ "spillway.connections.max", CFG_INT, 0, "4096", 1, LIMITS_CONNECTIONS_MAX,
	  NULL, FIELD(connections_max), "Connections per dataplane core." },
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
	 * controller.listener.names is read to leave the controller's listener
	 * out. */
	IGNORED_KEY("num.network.threads"), IGNORED_KEY("num.io.threads"),
	IGNORED_KEY("num.replica.fetchers"),
	IGNORED_KEY("num.recovery.threads.per.data.dir"), IGNORED_KEY("process.roles"),
	IGNORED_KEY("controller.listener.names"),
	IGNORED_KEY("log.retention.check.interval.ms"),
	IGNORED_KEY("log.cleaner.threads"),
	IGNORED_KEY("group.coordinator.rebalance.protocols"),
	/* Replication throttles (kafka-reassign-partitions.sh sets and clears
	 * them): stored and described, not enforced yet. */
	IGNORED_KEY("leader.replication.throttled.rate"),
	IGNORED_KEY("follower.replication.throttled.rate"),
	IGNORED_KEY("replica.alter.log.dirs.io.max.bytes.per.second"),
};

STATIC_ASSERT(ARRAY_LEN(config_keys) <= CONFIG_KEYS_MAX, "raise CONFIG_KEYS_MAX");
const size_t config_keys_count = ARRAY_LEN(config_keys);

/* Families of Kafka keys accepted with a warning, matched by prefix. */
const char *const config_keys_ignored_prefixes[] = {
	"controller.", "zookeeper.", "transaction.state.log.", "metadata.", "listener.name.",
	"share.", "ssl.", "sasl.", "remote.log.", "confluent.",
};
const size_t config_keys_ignored_prefix_count = ARRAY_LEN(config_keys_ignored_prefixes);

/* Kafka's synonym groups among broker keys, most specific first. Describing
 * any member lists the whole group, as Kafka's brokerConfigSynonyms() does. */
static const char *const config_keys_synonym_groups[][CONFIG_GROUP_MAX] = {
	{ "log.roll.ms", "log.roll.hours", NULL, NULL },
	{ "log.roll.jitter.ms", "log.roll.jitter.hours", NULL, NULL },
	{ "log.retention.ms", "log.retention.minutes", "log.retention.hours", NULL },
	{ "log.flush.interval.ms", "log.flush.scheduler.interval.ms", NULL, NULL },
};

/* The keys AlterConfigs may change: Kafka's dynamic log configs (the first
 * broker synonym of each topic config but message.format.version, as
 * DynamicLogConfig), producer.id.expiration.ms, and the log level. Kafka's
 * other dynamic keys (cleaner, thread pools, connection quotas, listeners)
 * are read-only here: Spillway sizes those at start-up. */
static const char *const config_keys_dynamic[] = {
	"log.segment.bytes", "log.roll.ms", "log.roll.jitter.ms", "log.index.size.max.bytes",
	"log.flush.interval.messages", "log.flush.interval.ms", "log.retention.bytes",
	"log.retention.ms", "message.max.bytes", "log.index.interval.bytes",
	"log.cleaner.delete.retention.ms", "log.cleaner.min.compaction.lag.ms",
	"log.cleaner.max.compaction.lag.ms", "log.segment.delete.delay.ms",
	"log.cleaner.min.cleanable.ratio", "log.cleanup.policy",
	"unclean.leader.election.enable", "min.insync.replicas", "compression.type",
	"compression.gzip.level", "compression.lz4.level", "compression.zstd.level",
	"log.preallocate", "log.message.timestamp.type",
	"log.message.timestamp.difference.max.ms", "log.message.timestamp.before.max.ms",
	"log.message.timestamp.after.max.ms", "log.message.downconversion.enable",
	"log.local.retention.ms", "log.local.retention.bytes", "producer.id.expiration.ms",
	"spillway.log.level",
	/* Kafka's dynamic thread pool sizes, ignored by Spillway as in the
	 * file: kept and described, with no effect. */
	"num.io.threads", "num.network.threads", "num.replica.fetchers",
	"num.recovery.threads.per.data.dir", "log.cleaner.threads",
	"leader.replication.throttled.rate", "follower.replication.throttled.rate",
	"replica.alter.log.dirs.io.max.bytes.per.second",
};

bool
config_key_dynamic(const char *key)
{
	for (size_t i = 0; i < ARRAY_LEN(config_keys_dynamic); i++) {
		if (strcmp(config_keys_dynamic[i], key) == 0)
			return true;
	}
	return false;
}

bool
config_key_ignored(const char *key)
{
	int i = config_keys_index(key);

	return i >= 0 && config_keys[i].type == CFG_IGNORED;
}

bool
config_key_known(const char *key)
{
	return config_keys_index(key) >= 0;
}

bool
config_key_list(const char *key)
{
	int i = config_keys_index(key);

	return i >= 0 && config_keys_kp_type(config_keys[i].type) == KP_CONFIG_TYPE_LIST;
}

int
config_keys_index(const char *name)
{
	size_t i;

	for (i = 0; i < config_keys_count; i++) {
		if (strcmp(config_keys[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

bool
config_keys_ignored_prefix(const char *key)
{
	for (size_t i = 0; i < config_keys_ignored_prefix_count; i++) {
		const char *prefix = config_keys_ignored_prefixes[i];

		if (strncmp(key, prefix, strlen(prefix)) == 0)
			return true;
	}
	return false;
}

int8_t
config_keys_kp_type(enum config_type type)
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

/* The synonym group of name, or NULL. */
const char *const *
config_keys_group_of(const char *name)
{
	for (size_t g = 0; g < ARRAY_LEN(config_keys_synonym_groups); g++) {
		const char *const *group = config_keys_synonym_groups[g];

		for (size_t m = 0; m < CONFIG_GROUP_MAX && group[m] != NULL; m++) {
			if (strcmp(group[m], name) == 0)
				return group;
		}
	}
	return NULL;
}
