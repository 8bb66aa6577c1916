/* SPDX-License-Identifier: Apache-2.0 */
/* The control loop: take forwarded requests from every core's ring, run them
 * one at a time with the admin operations, round-robin over the connections
 * that sent them (ctl_sched.c), send replies back in the core's ring, and
 * publish a new metadata snapshot after any change. May block; never runs on
 * a core. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/clock.h"
#include "common/log.h"
#include "control/config.h"
#include "control/ctl_int.h"
#include "control/ctl_sched.h"
#include "control/metrics.h"

/* How long the loop sleeps when idle; bounds the reaction to a stop signal. */
#define CTL_IDLE_WAIT_MS 100
/* How long it sleeps while replies wait for room in a core's ring. */
#define CTL_BACKLOG_WAIT_MS 1

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

struct ctl *
ctl_create(const struct config *cfg, char *err, size_t err_size)
{
	struct ctl *ctl = calloc(1, sizeof(*ctl));
	int rc;

	if (ctl == NULL) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	ctl->cfg = cfg;
	ctl->sched = ctl_sched_create(cfg->dataplane_cores);
	if (ctl->sched == NULL) {
		snprintf(err, err_size, "out of memory");
		free(ctl);
		return NULL;
	}
	rc = md_store_open(&ctl->store, cfg->log_dir, cfg->node_id, cfg->cluster_id, err,
			   err_size);
	if (rc != 0) {
		ctl_sched_destroy(ctl->sched);
		free(ctl);
		return NULL;
	}
	ctl->broker.host = cfg->advertised_host;
	ctl->broker.port = cfg->advertised_port;
	ctl->broker.auto_create_topics = cfg->auto_create_topics_enable;
	ctl->broker.num_partitions = cfg->num_partitions;
	ctl->broker.default_replication_factor = cfg->default_replication_factor;
	ctl->broker.cfg = cfg;
	if (pid_alloc_open(&ctl->pids, cfg->log_dir, err, err_size) != 0) {
		md_store_close(&ctl->store);
		ctl_sched_destroy(ctl->sched);
		free(ctl);
		return NULL;
	}
	ctl->md = md_snapshot_build(&ctl->store, &ctl->broker, ++ctl->md_epoch);
	if (ctl->md == NULL) {
		snprintf(err, err_size, "out of memory");
		md_store_close(&ctl->store);
		pid_alloc_close(&ctl->pids);
		ctl_sched_destroy(ctl->sched);
		free(ctl);
		return NULL;
	}
	log_info("control", "cluster %s, node %d, %d topic(s) in %s", ctl->store.cluster_id,
		 cfg->node_id, ctl->store.topic_count, cfg->log_dir);
	return ctl;
}

int
ctl_attach_storage(struct ctl *ctl, struct st *st)
{
	ctl->st = st;
	return ctl_storage_open_all(ctl);
}

void
ctl_attach(struct ctl *ctl, struct dp *dp)
{
	ASSERT(dp_core_count(dp) <= ctl->cfg->dataplane_cores);      /* ctl->sched's cores */
	ctl->dp = dp;
	dp_ctl_md_publish(dp, ctl->md);
}

/* Publish the current snapshot if a request replaced it, then free what it
 * replaced: after dp_ctl_md_publish() no core can still hold those. */
static void
ctl_publish(struct ctl *ctl)
{
	ctl_md_rebuild(ctl);    /* if the request changed the store */
	if (ctl->retired_count == 0)
		return;
	dp_ctl_md_publish(ctl->dp, ctl->md);
	for (int i = 0; i < ctl->retired_count; i++)
		md_snapshot_free(ctl->retired[i]);
	ctl->retired_count = 0;
}

/* ctl_sched_send_fn over the core rings. */
static bool
ctl_send(void *arg, int core, const struct dp_msg *msg)
{
	struct ctl *ctl = arg;

	return dp_ctl_send(ctl->dp, core, msg);
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

static void
ctl_handle(struct ctl *ctl, int core, struct dp_msg *req)
{
	struct kp_env env = {
		.md = ctl_md(ctl),
		.request_bytes_max = (uint32_t)ctl->cfg->socket_request_max_bytes,
		.admin = &ctl_admin_ops,
		.admin_ctx = ctl,
	};
	struct kp_out out = { { NULL, 0 }, { NULL, 0 } };
	struct dp_msg reply = *req;
	enum kp_verdict verdict;

	ASSERT(req->type == DP_MSG_REQUEST);
	ctl->in_request = true;
	verdict = kp_dispatch_control(&env, req->buf.data, req->buf.len, &out);
	ctl->in_request = false;
	free(req->buf.data);
	reply.buf.data = NULL;
	reply.buf.len = 0;
	if (verdict == KP_VERDICT_REPLY) {
		reply.type = DP_MSG_REPLY;
		reply.buf = out.resp;
	} else if (verdict == KP_VERDICT_NO_REPLY) {
		reply.type = DP_MSG_NO_REPLY;
	} else {
		reply.type = DP_MSG_CLOSE;
	}
	ctl_publish(ctl);
	ctl_sched_reply(ctl->sched, core, &reply, ctl_send, ctl);
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
	struct pollfd pfd[1 + METRICS_POLLFDS];
	uint64_t count;
	int n = 1;

	pfd[0] = (struct pollfd){ .fd = dp_ctl_eventfd(ctl->dp), .events = POLLIN };
	if (ctl->metrics != NULL)
		n += metrics_pollfds(ctl->metrics, pfd + 1);
	if (poll(pfd, (nfds_t)n, wait_ms) > 0 &&
	    (pfd[0].revents & POLLIN) && read(pfd[0].fd, &count, sizeof(count)) < 0 &&
	    errno != EAGAIN)
		log_warn("control", "eventfd read: %s", strerror(errno));
	if (ctl->metrics != NULL)
		metrics_serve(ctl->metrics, pfd + 1, n - 1);
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

/* One request per turn, from the connection whose turn it is: a connection
 * with many queued requests waits a full round between two of them, so
 * another client's request waits for at most one request of each other
 * connection. Between requests the loop takes new ones in, sends replies and
 * serves /metrics without sleeping. */
void
ctl_run(struct ctl *ctl, volatile sig_atomic_t *stop)
{
	struct ctl_sched_item item;

	while (!*stop) {
		uint32_t backlog;

		ctl_take(ctl);
		if (ctl_sched_pop(ctl->sched, &item))
			ctl_handle(ctl, item.core, &item.msg);
		backlog = ctl_sched_flush(ctl->sched, ctl_send, ctl);
		ctl_refusals_log(ctl);
		if (ctl_sched_request_count(ctl->sched) > 0 && backlog == 0)
			ctl_wait(ctl, 0);
		else
			ctl_wait(ctl, backlog > 0 ? CTL_BACKLOG_WAIT_MS : CTL_IDLE_WAIT_MS);
	}
}

void
ctl_destroy(struct ctl *ctl)
{
	metrics_destroy(ctl->metrics);
	ctl_sched_destroy(ctl->sched);
	for (int i = 0; i < ctl->retired_count; i++)
		md_snapshot_free(ctl->retired[i]);
	md_snapshot_free(ctl->md);
	md_store_close(&ctl->store);
	pid_alloc_close(&ctl->pids);
	free(ctl);
}
