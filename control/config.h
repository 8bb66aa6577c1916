/* SPDX-License-Identifier: Apache-2.0 */
/* Broker configuration: a Java-properties file plus --override key=value pairs
 * -> struct config, typed and validated, immutable once the broker starts.
 * Kafka's server.properties key names where Kafka has one, spillway.* for ours.
 * This module only parses and reports; it never opens sockets or data files.
 * @thread control (config_load() runs once at startup, before the cores). */
#ifndef CONTROL_CONFIG_H
#define CONTROL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/limits.h"
#include "common/log.h"
#include "protocol/kp.h"

#define CONFIG_KEYS_MAX 128         /* rows in config_keys.c's table, with room */
#define CONFIG_WARNINGS_MAX 64      /* warnings kept; more are counted only */
#define CONFIG_LOG_DIRS_MAX 64      /* log.dirs entries */
#define CONFIG_HOST_MAX 256         /* a DNS name is at most 253 bytes */
#define CONFIG_CORES_MAX LIMITS_CORES_MAX /* spillway.dataplane.cores upper bound */
#define CONFIG_LISTENERS_MAX 8      /* client listeners (listeners, less the controller's) */
#define CONFIG_LISTENER_NAME_MAX 64 /* a listener name's bytes, with its NUL */

/* authorizer.class.name: which of Kafka's names selected the authorizer. */
enum config_authorizer {
	CONFIG_AUTHORIZER_NONE = 0,
	CONFIG_AUTHORIZER_STANDARD = 1,     /* ...metadata.authorizer.StandardAuthorizer */
	CONFIG_AUTHORIZER_ACL = 2,          /* kafka.security.authorizer.AclAuthorizer */
};

enum config_backend {
	CONFIG_BACKEND_URING = 0,   /* kernel sockets through io_uring */
	CONFIG_BACKEND_DPDK = 1,    /* DPDK poll-mode driver + our userspace TCP */
};

/* spillway.storage.flush.mode, in config_keys.c's choice order. */
enum config_flush_mode {
	CONFIG_FLUSH_AUTO = 0,          /* one flush per round: fdatasync or syncfs */
	CONFIG_FLUSH_SYNCFS = 1,        /* one syncfs per round */
	CONFIG_FLUSH_FDATASYNC = 2,     /* each partition its own fdatasyncs (io-wq) */
};

/* Kafka's compression.type values, in config_keys.c's choice order. */
enum config_compression {
	CONFIG_COMPRESSION_UNCOMPRESSED = 0,
	CONFIG_COMPRESSION_ZSTD = 1,
	CONFIG_COMPRESSION_LZ4 = 2,
	CONFIG_COMPRESSION_SNAPPY = 3,
	CONFIG_COMPRESSION_GZIP = 4,
	CONFIG_COMPRESSION_PRODUCER = 5,
};

enum config_timestamp_type {
	CONFIG_TIMESTAMP_CREATE_TIME = 0,       /* "CreateTime" */
	CONFIG_TIMESTAMP_LOG_APPEND_TIME = 1,   /* "LogAppendTime" */
};

/* Bits of log.cleanup.policy (a list of "delete" and "compact"). */
#define CONFIG_CLEANUP_DELETE 1u
#define CONFIG_CLEANUP_COMPACT 2u

/* The SASL keys as given (config_sasl.c): sasl.enabled.mechanisms,
 * sasl.jaas.config, connections.max.reauth.ms and their
 * listener.name.<listener>.[<mechanism>.] forms. */
#define CONFIG_SASL_KEYS_MAX 64
struct config_sasl {
	int count;
	char *key[CONFIG_SASL_KEYS_MAX];
	char *value[CONFIG_SASL_KEYS_MAX];
};

/* The TLS keys as given (config_ssl.c): Kafka's ssl.* keys that Spillway
 * reads, their listener.name.<listener>.ssl.* forms, and
 * spillway.ssl.handshake.timeout.ms. */
#define CONFIG_SSL_KEYS_MAX 96
#define CONFIG_SSL_HANDSHAKE_TIMEOUT_KEY "spillway.ssl.handshake.timeout.ms"
struct config_ssl {
	int count;
	char *key[CONFIG_SSL_KEYS_MAX];
	char *value[CONFIG_SSL_KEYS_MAX];
};

/* One client listener of listeners=, with its security protocol (from
 * listener.security.protocol.map) and its advertised.listeners entry. */
struct config_endpoint {
	char name[CONFIG_LISTENER_NAME_MAX];    /* upper-cased, as Kafka's ListenerName */
	char host[CONFIG_HOST_MAX];             /* "" = all interfaces; IPv6 without [] */
	uint16_t port;                          /* 0: ephemeral (tests) */
	uint8_t protocol;                       /* enum kp_sec_protocol */
	/* advertised.listeners (default: the listener; an all-interfaces host
	 * becomes the canonical host name, as Kafka does). Port 0: the port
	 * bound, once known. */
	char advertised_host[CONFIG_HOST_MAX];
	uint16_t advertised_port;
};

/* The loaded configuration. Every field holds the effective value: the
 * override, else the file, else the default, already converted (hours and
 * minutes to ms) and range-checked. The struct owns heap strings: pass it by
 * pointer, never copy it by value, and release it with config_free(). */
struct config {
	/* listeners, in their order there (a connection's session names its
	 * listener by this index), less controller.listener.names. */
	struct config_endpoint listeners[CONFIG_LISTENERS_MAX];
	int listener_count;                     /* 1..CONFIG_LISTENERS_MAX */
	char *log_dir;                          /* the first of log_dirs */
	char **log_dirs;                        /* log.dirs (JBOD) else log.dir */
	int log_dir_count;                      /* 1..CONFIG_LOG_DIRS_MAX */
	int32_t node_id;                        /* node.id == broker.id */
	int32_t num_partitions;                 /* num.partitions: auto-create default */
	int16_t default_replication_factor;     /* default.replication.factor */
	bool auto_create_topics_enable;         /* auto.create.topics.enable */
	bool delete_topic_enable;               /* delete.topic.enable */
	enum config_authorizer authorizer;      /* authorizer.class.name */
	char *super_users;                      /* super.users, never NULL */
	bool allow_everyone_if_no_acl_found;    /* allow.everyone.if.no.acl.found */
	int32_t socket_request_max_bytes;       /* socket.request.max.bytes: frame limit */
	int32_t message_max_bytes;              /* message.max.bytes: record batch limit */
	int32_t log_segment_bytes;              /* log.segment.bytes */
	int64_t log_roll_ms;                    /* log.roll.ms, else log.roll.hours */
	int64_t log_roll_jitter_ms;             /* log.roll.jitter.ms, else .hours */
	int64_t log_retention_ms;               /* ms > minutes > hours; -1 = unlimited */
	int64_t log_retention_bytes;            /* log.retention.bytes; -1 = unlimited */
	int64_t log_flush_interval_messages;    /* log.flush.interval.messages */
	int64_t log_flush_interval_ms;          /* log.flush.interval.ms, else
						 * log.flush.scheduler.interval.ms */
	int32_t log_index_size_max_bytes;       /* log.index.size.max.bytes */
	int32_t log_index_interval_bytes;       /* log.index.interval.bytes */
	int64_t log_segment_delete_delay_ms;    /* log.segment.delete.delay.ms */
	bool log_preallocate;                   /* log.preallocate */
	unsigned log_cleanup_policy;            /* CONFIG_CLEANUP_* bits, never 0 */
	bool log_cleaner_enable;                /* log.cleaner.enable */
	int64_t log_cleaner_backoff_ms;         /* log.cleaner.backoff.ms */
	int64_t log_cleaner_io_max_bytes_per_second; /* INT64_MAX: unlimited */
	int64_t log_cleaner_dedupe_buffer_size; /* log.cleaner.dedupe.buffer.size */
	enum config_compression compression_type;               /* compression.type */
	enum config_timestamp_type log_message_timestamp_type;  /* log.message.timestamp.type */
	int64_t log_message_timestamp_before_max_ms;
	int64_t log_message_timestamp_after_max_ms;
	bool unclean_leader_election_enable;    /* unclean.leader.election.enable */
	int32_t min_insync_replicas;            /* min.insync.replicas */
	/* Cluster mode (control/ctl_cluster.c): empty zookeeper.connect
	 * runs a single broker. Strings are heap, never NULL. */
	char *zookeeper_connect;                /* zookeeper.connect */
	int32_t zookeeper_session_timeout_ms;   /* zookeeper.session.timeout.ms */
	int32_t zookeeper_connection_timeout_ms; /* -1: the session timeout */
	char *broker_rack;                      /* broker.rack ("" unset) */
	char *inter_broker_listener_name;       /* "" the first listener */
	int64_t replica_lag_time_max_ms;        /* replica.lag.time.max.ms */
	int32_t replica_fetch_max_bytes;        /* replica.fetch.max.bytes */
	int32_t replica_fetch_response_max_bytes; /* replica.fetch.response.max.bytes */
	int32_t replica_fetch_wait_max_ms;      /* replica.fetch.wait.max.ms */
	int32_t replica_fetch_min_bytes;        /* replica.fetch.min.bytes */
	int32_t replica_fetch_backoff_ms;       /* replica.fetch.backoff.ms */
	int32_t replica_socket_timeout_ms;      /* replica.socket.timeout.ms */
	/* replica.high.watermark.checkpoint.interval.ms */
	int64_t replica_high_watermark_checkpoint_interval_ms;
	bool controlled_shutdown_enable;        /* controlled.shutdown.enable */
	int32_t controlled_shutdown_max_retries; /* controlled.shutdown.max.retries */
	int64_t controlled_shutdown_retry_backoff_ms; /* ...retry.backoff.ms */
	int64_t producer_id_expiration_ms;      /* producer.id.expiration.ms */
	int32_t offsets_topic_num_partitions;   /* offsets.topic.num.partitions */
	int16_t offsets_topic_replication_factor; /* offsets.topic.replication.factor */
	int32_t offsets_topic_segment_bytes;    /* offsets.topic.segment.bytes */
	int32_t offsets_retention_minutes;      /* offsets.retention.minutes */
	int64_t offsets_retention_check_interval_ms; /* offsets.retention.check.interval.ms */
	int32_t group_initial_rebalance_delay_ms;
	int32_t group_min_session_timeout_ms;   /* <= group_max_session_timeout_ms */
	int32_t group_max_session_timeout_ms;
	int32_t group_max_size;
	int32_t transaction_max_timeout_ms;     /* transaction.max.timeout.ms */
	int32_t transactional_id_expiration_ms; /* transactional.id.expiration.ms */
	int32_t transaction_state_log_num_partitions; /* transaction.state.log.num.partitions */
	char *cluster_id;                       /* spillway.cluster.id; NULL: control
						 * generates and persists one */
	enum config_backend backend;            /* spillway.backend */
	int32_t dataplane_cores;                /* spillway.dataplane.cores, 1..64 */
	int32_t dataplane_cpu_count;            /* 0 (unpinned) or dataplane_cores */
	int32_t dataplane_cpus[CONFIG_CORES_MAX]; /* spillway.dataplane.cpus */
	int32_t storage_workers;                /* spillway.storage.workers */
	int32_t storage_open_files_max;         /* spillway.storage.open.files.max; 0: auto */
	enum config_flush_mode storage_flush_mode;      /* spillway.storage.flush.mode */
	char metrics_host[CONFIG_HOST_MAX];     /* spillway.metrics.listen host */
	uint16_t metrics_port;                  /* spillway.metrics.listen port */
	struct config_ssl ssl;                  /* TLS keys, read by control/ctl_tls.c */
	char *dpdk_eal_args;                    /* spillway.dpdk.eal.args, never NULL */
	int32_t dpdk_port;                      /* spillway.dpdk.port */
	uint32_t dpdk_ipv4;                     /* spillway.dpdk.ipv4, host order; 0: unset */
	uint8_t dpdk_prefix_len;                /* its /prefix (32 when not given) */
	uint32_t dpdk_gateway;                  /* spillway.dpdk.gateway, host order; 0: none */
	int32_t dpdk_mtu;                       /* spillway.dpdk.mtu */
	int32_t dpdk_idle_sleep_us;             /* spillway.dpdk.idle.sleep.us */
	int32_t connection_inflight_max;        /* spillway.connection.inflight.max */
	int32_t connections_max;                /* spillway.connections.max, per core */
	int32_t connections_max_idle_ms;        /* connections.max.idle.ms, -1: never */
	int32_t socket_send_buffer_bytes;       /* socket.send.buffer.bytes, <= 0: OS default */
	int32_t socket_receive_buffer_bytes;    /* socket.receive.buffer.bytes, <= 0: OS default */
	int32_t max_connections;                /* max.connections, whole broker */
	int32_t max_connections_per_ip;         /* max.connections.per.ip */
	enum log_level log_level;               /* spillway.log.level */
	struct config_sasl sasl;                /* SASL keys, read by control/ctl_sasl.c */

	/* Bookkeeping for describe and the startup log. */
	char *given[CONFIG_KEYS_MAX];           /* per key-table row: the text set by
						 * the file or an override (trimmed,
						 * booleans lower-cased), NULL if unset */
	/* Dynamic broker configs (AlterConfigs), per key-table row: this
	 * broker's own and the cluster-wide default's text, NULL if unset.
	 * They win over given[] (this broker's first); control sets them at
	 * runtime with config_dynamic_apply(). */
	char *dyn_broker[CONFIG_KEYS_MAX];
	char *dyn_default[CONFIG_KEYS_MAX];
	int32_t warning_count;                  /* warnings issued, may exceed the max */
	char *warnings[CONFIG_WARNINGS_MAX];    /* "key: ignored (...)" lines */
};

/* Load path (NULL: no file) then apply overrides ("key=value", later wins
 * over earlier and over the file). cfg needs no initialisation.
 * Returns 0 with cfg filled (release with config_free()), or -EINVAL for a
 * bad key or value, or -errno when the file cannot be read; then err holds
 * one line naming the key (or file) and the problem, and cfg holds nothing to
 * free. Keys of Kafka's that do not apply to Spillway are accepted and
 * listed in cfg->warnings. */
int config_load(struct config *cfg, const char *path, int override_count,
		const char *const *overrides, char *err, size_t err_size);

/* The text of a SASL key (config_sasl.c), or NULL when not set. */
const char *config_sasl_get(const struct config *cfg, const char *key);
/* The text of a TLS key (config_ssl.c), or NULL when not set. */
const char *config_ssl_get(const struct config *cfg, const char *key);
/* The ssl.* keys Spillway reads (without listener.name.<l>.). */
extern const char *const config_ssl_keys[];
extern const size_t config_ssl_key_count;

/* Release the strings cfg owns; cfg may be loaded, zeroed or freed already. */
void config_free(struct config *cfg);

/* Print every key with its type, default and a one-line description. */
void config_usage(FILE *out);
/* Kafka's name of a security protocol (enum kp_sec_protocol): "SASL_SSL". */
const char *config_protocol_name(uint8_t protocol);

/* The text the file or an override set for key, or NULL when the key is not
 * set or not a known key. */
const char *config_given(const struct config *cfg, const char *key);

/* Where a broker value comes from, most specific first (DescribeConfigs
 * lists synonyms in this order). */
enum config_layer {
	CONFIG_LAYER_DYN_BROKER = 0,    /* DYNAMIC_BROKER_CONFIG */
	CONFIG_LAYER_DYN_DEFAULT = 1,   /* DYNAMIC_DEFAULT_BROKER_CONFIG */
	CONFIG_LAYER_STATIC = 2,        /* STATIC_BROKER_CONFIG: file or --override */
	CONFIG_LAYER_DEFAULT = 3,       /* DEFAULT_CONFIG: Kafka's default */
	CONFIG_LAYER_COUNT = 4,
};

/* The text key has in one layer, or NULL (unset there, or not a key). */
const char *config_layer_text(const struct config *cfg, const char *key, enum config_layer layer);
/* The KP_CONFIG_SOURCE_* of a layer. */
int8_t config_layer_source(enum config_layer layer);
/* The text that is in effect for key, dynamic layers first, without the
 * default: NULL when no layer sets it. */
const char *config_set_text_of(const struct config *cfg, const char *key);

/* True when key is a broker config AlterConfigs may change at runtime. */
bool config_key_dynamic(const char *key);
/* True when key is a key of the table (one Spillway reads or ignores). */
bool config_key_known(const char *key);
/* True when key is one of Kafka's that Spillway accepts and ignores. */
bool config_key_ignored(const char *key);
/* True when key's Kafka type is LIST (APPEND and SUBTRACT apply). */
bool config_key_list(const char *key);
/* Check value for the dynamic key as Kafka's ConfigDef does. 0, or -EINVAL
 * with Kafka's message ("Invalid value x for configuration k: ...") in msg. */
int config_dynamic_check(const char *key, const char *value, char *msg, size_t msg_size);
/* One dynamic setting: name and value (NUL-terminated, never NULL). */
struct config_dyn_entry {
	char *name;
	char *value;
};
/* Replace the dynamic layers with these entries (unknown keys are skipped:
 * they do nothing) and re-resolve every dynamic key's field. 0, or -ENOMEM
 * (cfg keeps the layers it had). */
int config_dynamic_apply(struct config *cfg, const struct config_dyn_entry *broker,
			 int32_t broker_count, const struct config_dyn_entry *def,
			 int32_t def_count);

/* Kafka-style default text of key, or NULL (no default or unknown key). */
const char *config_default_text(const char *key);

/* Report broker configs for DescribeConfigs, one fn call per key, in table
 * order. names NULL: every key; else only the named keys that exist.
 * Entries are read-only unless dynamic, never sensitive; the source is the
 * most specific layer that sets the key (or, for the ms keys, one of their
 * synonyms), else DEFAULT. The entry's strings live until fn returns. */
void config_describe_broker(const struct config *cfg, const struct kp_str *names,
			    int32_t name_count, bool include_synonyms, bool include_docs,
			    kp_config_entry_fn *fn, void *arg);
/* The same for the cluster-wide default resource (name ""): only the keys
 * with a dynamic default, each with its default's value and the synonyms
 * but this broker's own layer, as Kafka describes it. */
void config_describe_broker_default(const struct config *cfg, const struct kp_str *names,
				    int32_t name_count, bool include_synonyms,
				    bool include_docs, kp_config_entry_fn *fn, void *arg);

#endif
