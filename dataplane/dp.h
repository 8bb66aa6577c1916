/* SPDX-License-Identifier: Apache-2.0 */
/* Public interface of dataplane/: pinned cores that own connections, split
 * frames, call kp_dispatch() and send responses in request order. Control
 * talks to a core only through its two SPSC rings of struct dp_msg and the
 * metadata snapshot published with dp_ctl_md_publish(); it never writes core
 * state. */
#ifndef DATAPLANE_DP_H
#define DATAPLANE_DP_H

#include <stdbool.h>
#include <stdint.h>

#include "common/hist.h"
#include "common/stage.h"
#include "protocol/kp.h"

struct st;

/* spillway.backend=dpdk: the port and the address utcp owns on it. */
struct dp_dpdk_config {
	const char *eal_args;           /* spillway.dpdk.eal.args */
	uint16_t port;                  /* DPDK port id */
	uint32_t ipv4;                  /* host byte order */
	uint8_t prefix_len;
	uint32_t gateway;               /* host byte order; 0: none */
	uint16_t mtu;
	uint32_t idle_sleep_us;         /* 0: busy-poll */
};

/* Client listeners at most; a connection's session names its listener by
 * index (kp_session.listener). */
#define DP_LISTENERS_MAX KP_LISTENERS_MAX

/* One listener: every core accepts on each. */
struct dp_listener {
	const char *name;               /* for logs, e.g. "PLAINTEXT" */
	const char *host;               /* numeric IPv4/IPv6 or a name; "": all */
	uint16_t port;                  /* 0: ephemeral (dp_listener_port()) */
	uint8_t protocol;               /* enum kp_sec_protocol */
};

struct dp_config {
	/* The listeners, in index order. None (listener_count 0): listener 0
	 * is PLAINTEXT on listen_host:listen_port. */
	const struct dp_listener *listeners;
	int listener_count;             /* 0..DP_LISTENERS_MAX */
	const char *listen_host;        /* numeric IPv4/IPv6 or a name, e.g. 127.0.0.1 */
	uint16_t listen_port;
	int core_count;                 /* spillway.dataplane.cores */
	const int *core_cpus;           /* CPU to pin core i to; NULL: i % nproc */
	uint32_t request_bytes_max;     /* socket.request.max.bytes */
	uint32_t inflight_max;          /* requests in flight per connection before reads stop */
	uint32_t connections_max;       /* per core */
	int32_t idle_ms;                /* connections.max.idle.ms; <= 0: never */
	int32_t sndbuf;                 /* socket.send.buffer.bytes; <= 0: OS default */
	int32_t rcvbuf;                 /* socket.receive.buffer.bytes; <= 0: OS default */
	uint32_t max_connections;       /* max.connections, all cores; 0: no limit */
	uint32_t max_connections_per_ip;        /* max.connections.per.ip; 0: no limit */
	int backlog;
	struct st *st;                  /* storage workers; NULL: no data path */
	const struct dp_dpdk_config *dpdk;      /* NULL: the uring backend */
	uint32_t tls_handshake_ms;      /* spillway.ssl.handshake.timeout.ms */
};

/* Fixed-size message on the core <-> control rings. */
enum dp_msg_type {
	DP_MSG_REQUEST = 1,     /* core -> control: a forwarded request frame */
	DP_MSG_REPLY = 2,       /* control -> core: the response for it */
	DP_MSG_NO_REPLY = 3,    /* control -> core: release the slot, send nothing */
	DP_MSG_CLOSE = 4,       /* control -> core: close the connection */
	DP_MSG_REPLY_AUTH = 5,  /* control -> core: a reply that also changes the
				 * connection's SASL state (struct dp_auth
				 * behind the response, past buf.len) */
};

/* What a SASL exchange changes on its connection, applied by the core just
 * before it queues the reply that carries it (so it is ordered with the
 * answer, and dropped with it for a closed connection). */
enum {
	DP_AUTH_SET = 1u << 0,          /* principal and authenticated = true */
	DP_AUTH_RAW_ON = 1u << 1,       /* legacy v0: next frames are bare tokens */
	DP_AUTH_RAW_OFF = 1u << 2,
	DP_AUTH_CLOSE = 1u << 3,        /* failed: close once the reply is sent */
};
struct dp_auth {
	uint8_t flags;                  /* DP_AUTH_* */
	uint8_t sasl_mech;              /* SET: kp_session.sasl_mech */
	uint8_t principal_len;
	char principal[KP_PRINCIPAL_MAX + 1];
	int64_t lifetime_ms;            /* SET: > 0, the session ends then
					 * (connections.max.reauth.ms) */
};

struct dp_msg {
	uint32_t type;
	uint32_t conn_id;       /* index in the core's connection table */
	uint32_t conn_gen;      /* generation: a reply for a closed conn is dropped */
	uint32_t seq;           /* the request's position in the conn's reply order */
	struct kp_buf buf;      /* REQUEST: frame copy, followed in the same
				 * allocation (past len) by the connection's
				 * struct dp_peer and struct kp_session; REPLY: response with size
				 * prefix; malloc()ed, freed by the receiver */
};

/* A connection's peer address, as a forwarded request carries it (the group
 * coordinator shows members' hosts as Kafka does: "/127.0.0.1"). It rides
 * behind the frame in the request's buffer, so struct dp_msg stays 32 bytes. */
enum { DP_PEER_NONE = 0, DP_PEER_IPV4 = 4, DP_PEER_IPV6 = 6 };
struct dp_peer {
	uint8_t family;         /* DP_PEER_* */
	uint8_t addr[16];       /* network order; IPv4 in the first 4 bytes */
};

/* Longest text dp_ctl_peer_format() writes, with its NUL: "/" and an IPv6
 * address (INET6_ADDRSTRLEN 46). */
#define DP_PEER_TEXT_MAX 48

struct dp_stats {
	uint64_t connections_accepted;
	uint64_t connections_closed;
	uint64_t connections_open;
	uint64_t requests;
	uint64_t protocol_errors;
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t connections_rejected;  /* accepted beyond a limit, closed (all reasons) */
	uint64_t rejected_table_full;   /* this core's spillway.connections.max */
	uint64_t rejected_max;          /* max.connections */
	uint64_t rejected_per_ip;       /* max.connections.per.ip */
	uint64_t connections_idle_closed;       /* connections.max.idle.ms */
	uint64_t requests_waiting;      /* gauge: requests waiting on storage */
	/* TLS handshakes completed and failed (bad bytes, refused certificate,
	 * timeout), by listener index (DP_LISTENERS_MAX). */
	uint64_t tls_handshakes[DP_LISTENERS_MAX];
	uint64_t tls_handshakes_failed[DP_LISTENERS_MAX];
	/* File regions read for TLS that missed the page cache (read through
	 * io_uring instead of on the core). */
	uint64_t tls_file_reads_async;
};

/* Per-API request accounting, indexed by the frame's api_key (keys at or
 * above DP_API_KEYS are not counted per API). errors: requests answered
 * with a closed connection (a malformed or refused request). latency: from
 * dispatch to the response being queued for sending. */
#define DP_API_KEYS 96

struct dp_api_stats {
	uint64_t requests;
	uint64_t errors;
	struct hist latency;
};

struct dp;

/* Create the listeners and per-core state (not yet running). NULL on error
 * with a message logged. @thread control */
struct dp *dp_create(const struct dp_config *cfg);
/* Start one pinned thread per core. Returns 0 or -errno. */
int dp_start(struct dp *dp);
/* Ask the cores to stop, join them, close every connection. */
void dp_stop(struct dp *dp);
void dp_destroy(struct dp *dp);
int dp_core_count(const struct dp *dp);
/* The port actually bound by listener 0 (useful when its port was 0). */
uint16_t dp_bound_port(const struct dp *dp);
/* The number of listeners, and the port listener i actually bound. */
int dp_listener_count(const struct dp *dp);
uint16_t dp_listener_port(const struct dp *dp, int listener);

/* Control side of the rings. dp_ctl_recv() returns true and fills msg when
 * core has a message for control; dp_ctl_send() returns false when the ring
 * is full (control retries later). dp_ctl_send() wakes the core.
 * @thread control */
bool dp_ctl_recv(struct dp *dp, int core, struct dp_msg *msg);
bool dp_ctl_send(struct dp *dp, int core, const struct dp_msg *msg);
/* An eventfd that becomes readable when any core posted to control. */
int dp_ctl_eventfd(const struct dp *dp);
/* The peer of a DP_MSG_REQUEST as Kafka prints an InetAddress without a
 * host name ("/127.0.0.1", "/::1"; an IPv4-mapped IPv6 address as IPv4):
 * into text (DP_PEER_TEXT_MAX bytes), returns its length; "" (0) when the
 * core did not know the peer. @thread control */
int dp_ctl_peer_format(const struct dp_msg *req, char text[DP_PEER_TEXT_MAX]);

/* The same for a peer address. @thread any */
int dp_peer_format(const struct dp_peer *peer, char text[DP_PEER_TEXT_MAX]);
/* The session of the connection a DP_MSG_REQUEST came from (a copy).
 * @thread control */
void dp_ctl_session(const struct dp_msg *req, struct kp_session *session);

/* Publish a new immutable snapshot to every core (RCU, liburcu QSBR); the
 * old one may be freed when this returns. Call once before dp_start().
 * @thread control */
void dp_ctl_md_publish(struct dp *dp, const struct kp_md *md);

/* Publish listener's TLS context (dataplane/dp_tls.h; NULL: none) for new
 * connections (RCU): connections keep the one they started with. Takes
 * the caller's reference; the old context's is dropped once no core can
 * still be picking it up. @thread control */
struct dp_tls_ctx;
void dp_tls_publish(struct dp *dp, int listener, struct dp_tls_ctx *ctx);

/* True when this build has the dpdk backend. */
bool dp_dpdk_available(void);

/* One sample of a network backend metric (dpdk: link state, port xstats,
 * utcp counters per core): family is a Prometheus name, samples of one
 * family come together (help and type repeated on each), label is one
 * "key", "value" pair or NULLs. */
typedef void dp_net_stat_fn(void *arg, const char *family, const char *type,
			    const char *help, const char *label_key, const char *label_value,
			    uint64_t value);
/* Report the backend's metrics (nothing for uring). @thread control */
void dp_net_stats(const struct dp *dp, dp_net_stat_fn *fn, void *arg);

void dp_stats_read(const struct dp *dp, struct dp_stats *sum);
/* One core's counters (core < dp_core_count()). @thread any */
void dp_core_stats_read(const struct dp *dp, int core, struct dp_stats *out);
/* Every core's counters for api_key (< DP_API_KEYS), summed. @thread any */
void dp_api_stats_read(const struct dp *dp, int api_key, struct dp_api_stats *sum);
/* Add every core's produce stage histograms (common/stage.h: receive, ack,
 * send, total; the others are the storage workers') into sum.
 * @thread control */
void dp_stage_stats_read(const struct dp *dp, struct stage_hists *sum);

#endif
