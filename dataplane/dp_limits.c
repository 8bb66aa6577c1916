/* SPDX-License-Identifier: Apache-2.0 */
/* Connection admission and expiry, Kafka's keys: max.connections (all
 * cores), max.connections.per.ip and connections.max.idle.ms. The counts are
 * shared by the cores through atomics (no lock): a total, and a fixed table
 * of per-address counters keyed by a hash of the peer address. A refused
 * connection is closed at once and counted by reason; control logs the
 * counts, rate-limited (dp_stats). @thread dataplane unless noted */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dataplane/dp_int.h"

/* Per-address counters: addresses beyond this many distinct ones at once
 * (or past the probe bound) are not limited per address. */
#define DP_IP_SLOTS 65536u
#define DP_IP_PROBES 32u

struct dp_ip_slot {
	uint64_t key;           /* 0: free; set once by CAS, never cleared */
	uint32_t count;
};

/* @thread control */
int
dp_limits_init(struct dp *dp)
{
	dp->ip_slots = calloc(DP_IP_SLOTS, sizeof(*dp->ip_slots));
	return dp->ip_slots != NULL ? 0 : -1;
}

/* @thread control */
void
dp_limits_fini(struct dp *dp)
{
	free(dp->ip_slots);
	dp->ip_slots = NULL;
}

void
dp_limits_peer_of_fd(int fd, struct dp_peer *peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(peer, 0, sizeof(*peer));
	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		peer->family = DP_PEER_IPV4;
		memcpy(peer->addr, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	} else if (ss.ss_family == AF_INET6) {
		peer->family = DP_PEER_IPV6;
		memcpy(peer->addr, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
	}
}

uint64_t
dp_limits_peer_key(const struct dp_peer *peer)
{
	size_t n = peer->family == DP_PEER_IPV4 ? 4 : peer->family == DP_PEER_IPV6 ? 16 : 0;
	uint64_t h = 0xcbf29ce484222325ull;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		h = (h ^ peer->addr[i]) * 0x100000001b3ull;
	h ^= n;
	return h != 0 ? h : 1;
}

static struct dp_ip_slot *
dp_ip_slot(struct dp *dp, uint64_t key)
{
	for (uint32_t k = 0; k < DP_IP_PROBES; k++) {
		struct dp_ip_slot *s = &dp->ip_slots[(key + k) & (DP_IP_SLOTS - 1)];
		uint64_t cur = __atomic_load_n(&s->key, __ATOMIC_ACQUIRE);

		if (cur == key)
			return s;
		if (cur == 0 && (__atomic_compare_exchange_n(&s->key, &cur, key, false,
							     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
				 cur == key))
			return s;
	}
	return NULL;
}

bool
dp_limits_full(const struct dp_core *core)
{
	const struct dp *dp = core->dp;

	return dp->cfg.max_connections != 0 &&
	       __atomic_load_n(&dp->conn_total, __ATOMIC_RELAXED) >= dp->cfg.max_connections;
}

enum dp_refusal
dp_limits_admit(struct dp_core *core, uint64_t ip_key)
{
	struct dp *dp = core->dp;
	struct dp_ip_slot *s;

	uint32_t max = dp->cfg.max_connections != 0 ? dp->cfg.max_connections : UINT32_MAX;
	uint32_t per_ip = dp->cfg.max_connections_per_ip != 0 ? dp->cfg.max_connections_per_ip
							      : UINT32_MAX;

	if (__atomic_add_fetch(&dp->conn_total, 1, __ATOMIC_RELAXED) > max) {
		__atomic_sub_fetch(&dp->conn_total, 1, __ATOMIC_RELAXED);
		return DP_REFUSED_MAX;
	}
	if (ip_key == 0 || per_ip >= INT32_MAX)
		return DP_ADMITTED;
	s = dp_ip_slot(dp, ip_key);
	if (s == NULL)
		return DP_ADMITTED;
	if (__atomic_add_fetch(&s->count, 1, __ATOMIC_RELAXED) > per_ip) {
		__atomic_sub_fetch(&s->count, 1, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&dp->conn_total, 1, __ATOMIC_RELAXED);
		return DP_REFUSED_PER_IP;
	}
	return DP_ADMITTED;
}

void
dp_limits_release(struct dp_core *core, uint64_t ip_key)
{
	struct dp *dp = core->dp;
	struct dp_ip_slot *s;

	__atomic_sub_fetch(&dp->conn_total, 1, __ATOMIC_RELAXED);
	if (ip_key == 0 || dp->cfg.max_connections_per_ip == 0 ||
	    dp->cfg.max_connections_per_ip >= INT32_MAX)
		return;
	s = dp_ip_slot(dp, ip_key);
	if (s != NULL)
		__atomic_sub_fetch(&s->count, 1, __ATOMIC_RELAXED);
}

/* Close connections silent for connections.max.idle.ms with nothing in
 * flight; runs about four times per idle period (at most once a second). */
void
dp_limits_expire(struct dp_core *core, uint64_t now_ns)
{
	int32_t idle_ms = core->dp->cfg.idle_ms;
	uint64_t idle_ns;

	if (idle_ms <= 0 || now_ns < core->idle_next_ns)
		return;
	idle_ns = (uint64_t)idle_ms * 1000000ull;
	core->idle_next_ns = now_ns + MAX(MIN(idle_ns / 4, 1000000000ull), 10000000ull);
	for (uint32_t id = 0; id < core->conn_count; id++) {
		struct conn *conn = &core->conns[id];

		/* active_ns may be later than this turn's now_ns (set while the
		 * turn ran): never idle then. */
		/* A large frame's tail received in place completes once, when
		 * whole (MSG_WAITALL): bytes may be arriving meanwhile. */
		if (!conn->open || conn_inflight(conn) > 0 || conn->waiting > 0 ||
		    conn->recv == CONN_RECV_DIRECT ||
		    conn->active_ns >= now_ns || now_ns - conn->active_ns < idle_ns)
			continue;
		dp_stat_add(&core->stats.connections_idle_closed, 1);
		dp_conn_close(core, conn);
	}
}
