/* SPDX-License-Identifier: Apache-2.0 */
/* The control loop: take forwarded requests from every core's ring, run them
 * one at a time with the admin operations, round-robin over the connections
 * that sent them (ctl_sched.c), send replies back in the core's ring, and
 * publish a new metadata snapshot after any change. Group requests may park
 * (ctl_park.c) and are answered later; control's own storage operations
 * (ctl_log.c) and the group coordinator's timers run from the same loop.
 * May block; never runs on a core. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/clock.h"
#include "common/log.h"
#include "control/config.h"
#include "control/ctl_cluster.h"
#include "control/ctl_int.h"
#include "control/ctl_log.h"
#include "control/ctl_sasl.h"
#include "control/meta_file.h"
#include "control/ctl_sched.h"
#include "control/group/grp.h"
#include "control/metrics.h"
#include "storage/st.h"

/* How long the loop sleeps when idle; bounds the reaction to a stop signal. */
#define CTL_IDLE_WAIT_MS 100
/* How long it sleeps while replies wait for room in a core's ring. */
#define CTL_BACKLOG_WAIT_MS 1
/* How long shutdown waits for control's storage operations to finish. */
#define CTL_LOG_QUIESCE_NS (5ull * 1000000000ull)

const struct kp_md *
ctl_md_rebuild(struct ctl *ctl)
{
	struct kp_md *md;

	if (!ctl->md_dirty || ctl->retired_count == CTL_RETIRED_MAX)
		return ctl->md;
	md = md_snapshot_build(&ctl->store, &ctl->broker, ++ctl->md_epoch);
	if (md == NULL)
		return ctl->md;         /* out of memory: keep serving the old one */
	ctl->retired[ctl->retired_count++] = ctl->md;
	ctl->md = md;
	ctl->md_dirty = false;
	return md;
}

const struct kp_md *
ctl_md(struct ctl *ctl)
{
	return ctl->in_request ? ctl->md : ctl_md_rebuild(ctl);
}

/* Does the log dir lack meta.properties (a broker's first start)? */
static bool
ctl_meta_missing(const char *dir)
{
	char path[4200];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/meta.properties", dir);
	return stat(path, &sb) != 0 && errno == ENOENT;
}

/* Free what ctl_create() made before the metadata store opened. */
static void
ctl_free_parts(struct ctl *ctl)
{
	ctl_log_destroy(ctl->log);
	ctl_parks_destroy(ctl->parks);
	ctl_sched_destroy(ctl->sched);
	free(ctl);
}

/* Each client listener's advertised endpoint, for the snapshots. */
static void
ctl_endpoints(struct ctl *ctl, const struct config *cfg)
{
	STATIC_ASSERT(CONFIG_LISTENERS_MAX <= KP_LISTENERS_MAX, "a snapshot holds every listener");
	ctl->broker.endpoint_count = cfg->listener_count;
	for (int i = 0; i < cfg->listener_count; i++) {
		const struct config_endpoint *ep = &cfg->listeners[i];

		ctl->broker.endpoints[i] = (struct kp_md_endpoint){
			.listener = ep->name,
			.host = ep->advertised_host,
			.port = ep->advertised_port,
			.protocol = ep->protocol,
		};
	}
}

struct ctl *
ctl_create(struct config *cfg, char *err, size_t err_size)
{
	struct ctl *ctl = calloc(1, sizeof(*ctl));
	int rc;

	if (ctl == NULL) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	ctl->cfg = cfg;
	ctl->cfg_rw = cfg;
	ctl->meta_fresh = ctl_meta_missing(cfg->log_dir);
	ctl->sched = ctl_sched_create(cfg->dataplane_cores);
	ctl->parks = ctl_parks_create(cfg->dataplane_cores);
	/* Control's ring pair follows the cores' in storage (main.c). */
	ctl->log = ctl_log_create(cfg->dataplane_cores);
	if (ctl->sched == NULL || ctl->parks == NULL || ctl->log == NULL) {
		snprintf(err, err_size, "out of memory");
		ctl_free_parts(ctl);
		return NULL;
	}
	rc = md_store_open(&ctl->store, cfg->log_dir, cfg->node_id, cfg->cluster_id, err,
			   err_size);
	if (rc == 0 && cfg->log_dir_count > 1 &&
	    meta_file_open_more((const char *const *)cfg->log_dirs + 1, cfg->log_dir_count - 1,
				cfg->node_id, ctl->store.cluster_id, err, err_size) != 0) {
		md_store_close(&ctl->store);
		rc = -EINVAL;
	}
	if (rc != 0) {
		ctl_free_parts(ctl);
		return NULL;
	}
	/* Before anything reads the config's dynamic keys. */
	rc = ctl_dyn_open(ctl, err, err_size);
	if (rc != 0) {
		ctl_dyn_close(ctl);
		md_store_close(&ctl->store);
		ctl_free_parts(ctl);
		return NULL;
	}
	ctl_endpoints(ctl, cfg);
	ctl->broker.auto_create_topics = cfg->auto_create_topics_enable;
	ctl->broker.num_partitions = cfg->num_partitions;
	ctl->broker.default_replication_factor = cfg->default_replication_factor;
	ctl->broker.cfg = cfg;
	if (pid_alloc_open(&ctl->pids, cfg->log_dir, err, err_size) != 0) {
		ctl_dyn_close(ctl);
		md_store_close(&ctl->store);
		ctl_free_parts(ctl);
		return NULL;
	}
	/* quota_store_close() is safe after a failed open (the store is empty). */
	if (quota_store_open(&ctl->quotas, cfg->log_dir, err, err_size) != 0 ||
	    ctl_acl_open(ctl, err, err_size) != 0) {
		md_store_close(&ctl->store);
		pid_alloc_close(&ctl->pids);
		quota_store_close(&ctl->quotas);
		ctl_free_parts(ctl);
		return NULL;
	}
	ctl->broker.quotas = &ctl->quotas;
	ctl->broker.rack = cfg->broker_rack[0] != '\0' ? cfg->broker_rack : NULL;
	if (ctl_sasl_open(ctl, err, err_size) != 0 ||
	    (ctl_cluster_configured(cfg) && ctl_cluster_create(ctl, err, err_size) != 0)) {
		ctl_cluster_destroy(ctl);
		md_store_close(&ctl->store);
		pid_alloc_close(&ctl->pids);
		quota_store_close(&ctl->quotas);
		ctl_sasl_close(ctl);
		ctl_free_parts(ctl);
		return NULL;
	}
	ctl->md = md_snapshot_build(&ctl->store, &ctl->broker, ++ctl->md_epoch);
	if (ctl->md != NULL)
		ctl->groups = grp_coord_create(ctl, cfg);
	if (ctl->md == NULL || ctl->groups == NULL) {
		snprintf(err, err_size, "out of memory");
		md_snapshot_free(ctl->md);
		ctl_cluster_destroy(ctl);
		ctl_dyn_close(ctl);
		md_store_close(&ctl->store);
		pid_alloc_close(&ctl->pids);
		quota_store_close(&ctl->quotas);
		ctl_acl_close(ctl);
		ctl_free_parts(ctl);
		return NULL;
	}
	log_info("control", "cluster %s, node %d, %d topic(s) in %s", ctl->store.cluster_id,
		 cfg->node_id, ctl->store.topic_count, cfg->log_dir);
	return ctl;
}

int
ctl_attach_storage_ring(struct ctl *ctl, struct st *st, char *err, size_t err_size)
{
	st_attach_core(st, ctl->cfg->dataplane_cores, ctl_log_eventfd(ctl->log));
	return ctl->cluster != NULL ? ctl_cluster_attach_ring(ctl, st, err, err_size) : 0;
}

bool
ctl_cluster_mode(const struct ctl *ctl)
{
	return ctl->cluster != NULL;
}

int
ctl_attach_storage(struct ctl *ctl, struct st *st)
{
	int rc;

	ctl->st = st;
	if (ctl->cluster != NULL)
		return 0;       /* the replicas open when the cluster is joined */
	rc = ctl_storage_open_all(ctl);
	if (rc == 0)
		grp_coord_start(ctl->groups);   /* loads __consumer_offsets */
	return rc;
}

/* ctl_sched_send_fn over the core rings. */
static bool
ctl_send(void *arg, int core, const struct dp_msg *msg)
{
	struct ctl *ctl = arg;

	return dp_ctl_send(ctl->dp, core, msg);
}

static void ctl_publish(struct ctl *ctl);

int
ctl_attach(struct ctl *ctl, struct dp *dp)
{
	ASSERT(dp_core_count(dp) <= ctl->cfg->dataplane_cores);      /* ctl->sched's cores */
	ctl->dp = dp;
	ctl->send = ctl_send;
	ctl->send_arg = ctl;
	/* A port-0 listener advertises the port it was given, as Kafka does. */
	for (int32_t i = 0; i < ctl->broker.endpoint_count; i++) {
		if (ctl->broker.endpoints[i].port == 0) {
			ctl->broker.endpoints[i].port = dp_listener_port(dp, (int)i);
			ctl->md_dirty = true;
		}
	}
	if (ctl->cluster != NULL) {
		int rc = ctl_cluster_start(ctl);

		if (rc != 0)
			return rc;
	}
	dp_ctl_md_publish(dp, ctl->md);
	ctl_publish(ctl);
	return 0;
}

/* Publish the current snapshot if a request replaced it, then free what it
 * replaced: after dp_ctl_md_publish() no core can still hold those. */
static void
ctl_publish(struct ctl *ctl)
{
	ctl_md_rebuild(ctl);    /* if the request changed the store */
	if (ctl->retired_count == 0 || ctl->dp == NULL)
		return;
	dp_ctl_md_publish(ctl->dp, ctl->md);
	for (int i = 0; i < ctl->retired_count; i++)
		md_snapshot_free(ctl->retired[i]);
	ctl->retired_count = 0;
}

/* Move requests from the cores' rings into the scheduler, one per core in
 * turn so that a busy core does not crowd out the others, while there is
 * room. A core whose reply backlog is full keeps its requests in its ring
 * (backpressure: once the ring fills, the core parses no more frames
 * until it drains, see dataplane/dp_ctl.c). */
static void
ctl_take(struct ctl *ctl)
{
	bool took;

	do {
		took = false;
		for (int core = 0; core < dp_core_count(ctl->dp); core++) {
			struct dp_msg msg;

			if (!ctl_sched_can_take(ctl->sched, core) ||
			    !dp_ctl_recv(ctl->dp, core, &msg))
				continue;
			ctl_sched_push(ctl->sched, core, &msg);
			took = true;
		}
	} while (took);
}

/* What ctl_park_take() captures of the request about to run: who gets the
 * reply, and the frame's api key, version and correlation id (the first 8
 * bytes; a shorter frame is closed by dispatch and never parks). */
static void
ctl_handle_begin(struct ctl *ctl, int core, const struct dp_msg *req)
{
	const uint8_t *f = req->buf.data;

	ctl->cur = (struct ctl_park){ .core = core, .conn_id = req->conn_id,
				      .conn_gen = req->conn_gen, .seq = req->seq };
	if (req->buf.len >= 8) {
		ctl->cur.api_key = (int16_t)(f[0] << 8 | f[1]);
		ctl->cur.api_version = (int16_t)(f[2] << 8 | f[3]);
		ctl->cur.correlation_id = (int32_t)((uint32_t)f[4] << 24 | (uint32_t)f[5] << 16 |
						    (uint32_t)f[6] << 8 | f[7]);
	}
	ctl->cur_parked = false;
	ctl->in_request = true;
}

/* Put the session change of a SASL exchange behind the reply's bytes
 * (DP_MSG_REPLY_AUTH); false when out of memory (the reply then goes
 * without it and the client fails to authenticate). */
static bool
ctl_handle_auth(struct kp_buf *resp, const struct dp_auth *auth)
{
	uint8_t *grown = realloc(resp->data, resp->len + sizeof(*auth));

	if (grown == NULL)
		return false;
	memcpy(grown + resp->len, auth, sizeof(*auth));
	resp->data = grown;
	return true;
}

static void
ctl_handle(struct ctl *ctl, int core, struct dp_msg *req)
{
	char host[DP_PEER_TEXT_MAX];
	struct kp_session session;
	struct kp_env env = {
		.md = ctl_md(ctl),
		.request_bytes_max = (uint32_t)ctl->cfg->socket_request_max_bytes,
		.admin = &ctl_admin_ops,
		.admin_ctx = ctl,
	};
	struct kp_out out = { { NULL, 0 }, { NULL, 0 } };
	struct dp_msg reply = *req;
	enum kp_verdict verdict;
	struct dp_auth auth;

	ASSERT(req->type == DP_MSG_REQUEST);
	env.client_host.len = dp_ctl_peer_format(req, host);
	env.client_host.ptr = host;
	dp_ctl_session(req, &session);
	env.session = &session;
	ctl_handle_begin(ctl, core, req);
	verdict = kp_dispatch_control(&env, req->buf.data, req->buf.len, &out);
	ctl->in_request = false;
	free(req->buf.data);
	/* A handle taken means the handler answers later, and only then. */
	ASSERT(ctl->cur_parked == (verdict == KP_VERDICT_PARKED));
	ctl_publish(ctl);
	if (verdict == KP_VERDICT_PARKED) {
		/* Nothing now; the reply slot goes back so this core's other
		 * requests are not held up by the parked one. */
		ctl_sched_park(ctl->sched, core);
		return;
	}
	reply.buf.data = NULL;
	reply.buf.len = 0;
	if (ctl_sasl_take_auth(ctl, &auth) && verdict == KP_VERDICT_REPLY &&
	    ctl_handle_auth(&out.resp, &auth)) {
		reply.type = DP_MSG_REPLY_AUTH;
		reply.buf = out.resp;
	} else if (verdict == KP_VERDICT_REPLY) {
		reply.type = DP_MSG_REPLY;
		reply.buf = out.resp;
	} else if (verdict == KP_VERDICT_NO_REPLY) {
		reply.type = DP_MSG_NO_REPLY;
	} else {
		reply.type = DP_MSG_CLOSE;
	}
	ctl_sched_reply(ctl->sched, core, &reply, ctl->send, ctl->send_arg);
}

int
ctl_metrics_listen(struct ctl *ctl, const char *host, uint16_t port, char *err,
		   size_t err_size)
{
	ASSERT(ctl->metrics == NULL);    /* served from ctl_run(), after ctl_attach() */
	ctl->metrics = metrics_create(host, port, ctl_metrics_render, ctl, err, err_size);
	return ctl->metrics != NULL ? 0 : -1;
}

/* Sleep until a core posts, a metrics socket is ready, or wait_ms ends (0:
 * just look); then serve the metrics sockets. */
static void
ctl_wait(struct ctl *ctl, int wait_ms)
{
	struct pollfd pfd[3 + METRICS_POLLFDS];
	uint64_t count;
	int n = 3;

	pfd[0] = (struct pollfd){ .fd = dp_ctl_eventfd(ctl->dp), .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = ctl_log_eventfd(ctl->log), .events = POLLIN };
	/* ZooKeeper's events: cluster_poll() reads its descriptor itself. */
	pfd[2] = (struct pollfd){ .fd = ctl_cluster_fd(ctl), .events = POLLIN };
	if (ctl->metrics != NULL)
		n += metrics_pollfds(ctl->metrics, pfd + 3);
	if (poll(pfd, (nfds_t)n, wait_ms) > 0) {
		for (int i = 0; i < 2; i++)
			if ((pfd[i].revents & POLLIN) &&
			    read(pfd[i].fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
				log_warn("control", "eventfd read: %s", strerror(errno));
	}
	if (ctl->metrics != NULL)
		metrics_serve(ctl->metrics, pfd + 3, n - 3);
}

/* Refused connections are logged at most every CTL_REFUSED_LOG_NS: a flood
 * of connection attempts must not become a flood of log lines. */
#define CTL_REFUSED_LOG_NS (10ull * 1000000000ull)

static void
ctl_refusals_log(struct ctl *ctl)
{
	uint64_t now = clock_mono_ns();
	uint64_t sum[3] = { 0, 0, 0 };

	if (ctl->dp == NULL || now < ctl->refused_check_ns ||
	    (ctl->refused_log_ns != 0 && now - ctl->refused_log_ns < CTL_REFUSED_LOG_NS))
		return;
	ctl->refused_check_ns = now + 1000000000ull;
	for (int c = 0; c < dp_core_count(ctl->dp); c++) {
		struct dp_stats s;

		dp_core_stats_read(ctl->dp, c, &s);
		sum[0] += s.rejected_max;
		sum[1] += s.rejected_per_ip;
		sum[2] += s.rejected_table_full;
	}
	if (sum[0] == ctl->refused_logged[0] && sum[1] == ctl->refused_logged[1] &&
	    sum[2] == ctl->refused_logged[2])
		return;
	log_warn("control", "connections refused since the last report: %" PRIu64
		 " over max.connections (%d), %" PRIu64 " over max.connections.per.ip (%d), %"
		 PRIu64 " with a core's table full (spillway.connections.max %d)",
		 sum[0] - ctl->refused_logged[0], ctl->cfg->max_connections,
		 sum[1] - ctl->refused_logged[1], ctl->cfg->max_connections_per_ip,
		 sum[2] - ctl->refused_logged[2], ctl->cfg->connections_max);
	memcpy(ctl->refused_logged, sum, sizeof(sum));
	ctl->refused_log_ns = now;
}

/* Milliseconds from now to deadline_ns, rounded up, at most max_ms. */
static int
ctl_ms_until(uint64_t deadline_ns, uint64_t now_ns, int max_ms)
{
	uint64_t ms;

	if (deadline_ns <= now_ns)
		return 0;
	ms = (deadline_ns - now_ns + 999999) / 1000000;
	return ms < (uint64_t)max_ms ? (int)ms : max_ms;
}

/* One request per turn, from the connection whose turn it is (see
 * ctl_run()), then the replies, the parked replies, control's storage
 * completions and the coordinator's timers. Returns how long the loop may
 * sleep (ms) before the next turn. */
int
ctl_step(struct ctl *ctl)
{
	struct ctl_sched_item item;
	uint32_t backlog;
	uint64_t now;
	bool busy;
	int wait;

	if (ctl->dp != NULL)
		ctl_take(ctl);
	if (ctl_sched_pop(ctl->sched, &item))
		ctl_handle(ctl, item.core, &item.msg);
	backlog = ctl_sched_flush(ctl->sched, ctl->send, ctl->send_arg);
	backlog += ctl_park_flush(ctl);
	busy = ctl_log_poll(ctl);
	now = clock_mono_ns();
	grp_coord_tick(ctl->groups, now);
	wait = ctl_cluster_step(ctl, CTL_IDLE_WAIT_MS);
	ctl_publish(ctl);       /* if storage callbacks, timers or the cluster changed it */
	if (busy || (ctl_sched_request_count(ctl->sched) > 0 && backlog == 0))
		return 0;
	return ctl_ms_until(grp_coord_deadline(ctl->groups), now,
			    backlog > 0 ? CTL_BACKLOG_WAIT_MS : wait);
}

/* One request per turn, from the connection whose turn it is: a connection
 * with many queued requests waits a full round between two of them, so
 * another client's request waits for at most one request of each other
 * connection. Between requests the loop takes new ones in, sends replies and
 * serves /metrics without sleeping; it sleeps at most until the group
 * coordinator's next timer. */
void
ctl_run(struct ctl *ctl, volatile sig_atomic_t *stop)
{
	while (!*stop) {
		int wait_ms = ctl_step(ctl);

		ctl_refusals_log(ctl);
		ctl_wait(ctl, wait_ms);
	}
	/* The cores still serve: clients move to the new leaders. */
	ctl_cluster_shutdown(ctl);
}

void
ctl_destroy(struct ctl *ctl)
{
	/* The coordinator goes first, while the storage workers still run
	 * (main.c stops them after this): its appends and loads finish, then
	 * it drops its parked requests (each a close to its core, whose rings
	 * still exist). */
	if (ctl->st != NULL)
		ctl_log_quiesce(ctl, CTL_LOG_QUIESCE_NS);
	grp_coord_destroy(ctl->groups);
	/* The fetcher stops and the broker leaves ZooKeeper before storage. */
	ctl_cluster_destroy(ctl);
	ctl_park_flush(ctl);
	ctl_parks_destroy(ctl->parks);
	ctl_log_destroy(ctl->log);
	metrics_destroy(ctl->metrics);
	ctl_sched_destroy(ctl->sched);
	for (int i = 0; i < ctl->retired_count; i++)
		md_snapshot_free(ctl->retired[i]);
	md_snapshot_free(ctl->md);
	ctl_dyn_close(ctl);
	md_store_close(&ctl->store);
	pid_alloc_close(&ctl->pids);
	quota_store_close(&ctl->quotas);
	ctl_acl_close(ctl);
	ctl_sasl_close(ctl);
	free(ctl);
}
