/* SPDX-License-Identifier: Apache-2.0 */
/* The control loop: drain forwarded requests from every core, run them with
 * the admin operations, send replies back in the core's ring, and publish a
 * new metadata snapshot after any change. May block; never runs on a core. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/log.h"
#include "control/config.h"
#include "control/ctl_int.h"
#include "control/metrics.h"

/* How long the loop sleeps when idle; bounds the reaction to a stop signal. */
#define CTL_IDLE_WAIT_MS 100

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
	rc = md_store_open(&ctl->store, cfg->log_dir, cfg->node_id, cfg->cluster_id, err,
			   err_size);
	if (rc != 0) {
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
		free(ctl);
		return NULL;
	}
	ctl->md = md_snapshot_build(&ctl->store, &ctl->broker, ++ctl->md_epoch);
	if (ctl->md == NULL) {
		snprintf(err, err_size, "out of memory");
		md_store_close(&ctl->store);
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
	ctl->dp = dp;
	dp_md_publish(dp, ctl->md);
}

/* Publish the current snapshot if a request replaced it, then free what it
 * replaced: after dp_md_publish() no core can still hold those. */
static void
ctl_publish(struct ctl *ctl)
{
	ctl_md_rebuild(ctl);    /* if the request changed the store */
	if (ctl->retired_count == 0)
		return;
	dp_md_publish(ctl->dp, ctl->md);
	for (int i = 0; i < ctl->retired_count; i++)
		md_snapshot_free(ctl->retired[i]);
	ctl->retired_count = 0;
}

static void
ctl_send(struct ctl *ctl, int core, const struct dp_msg *msg)
{
	struct ctl_pending *p;

	if (ctl->pending_count == 0 && dp_ctl_send(ctl->dp, core, msg))
		return;
	if (ctl->pending_count == ctl->pending_cap) {
		int cap = ctl->pending_cap == 0 ? 64 : ctl->pending_cap * 2;

		p = realloc(ctl->pending, sizeof(*p) * (size_t)cap);
		ASSERT(p != NULL);
		ctl->pending = p;
		ctl->pending_cap = cap;
	}
	ctl->pending[ctl->pending_count].core = core;
	ctl->pending[ctl->pending_count].msg = *msg;
	ctl->pending_count++;
}

/* Retry replies a full ring refused, keeping their order. */
static void
ctl_flush_pending(struct ctl *ctl)
{
	int sent = 0;

	while (sent < ctl->pending_count &&
	       dp_ctl_send(ctl->dp, ctl->pending[sent].core, &ctl->pending[sent].msg))
		sent++;
	if (sent == 0)
		return;
	memmove(ctl->pending, ctl->pending + sent,
		sizeof(*ctl->pending) * (size_t)(ctl->pending_count - sent));
	ctl->pending_count -= sent;
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
	ctl_send(ctl, core, &reply);
}

int
ctl_metrics_listen(struct ctl *ctl, const char *host, uint16_t port, char *err,
		   size_t err_size)
{
	ASSERT(ctl->metrics == NULL);    /* served from ctl_run(), after ctl_attach() */
	ctl->metrics = metrics_create(host, port, ctl_metrics_render, ctl, err, err_size);
	return ctl->metrics != NULL ? 0 : -1;
}

/* Sleep until a core posts, a metrics socket is ready, or the idle wait
 * ends; then serve the metrics sockets. */
static void
ctl_wait(struct ctl *ctl)
{
	struct pollfd pfd[1 + METRICS_POLLFDS];
	uint64_t count;
	int n = 1;

	pfd[0] = (struct pollfd){ .fd = dp_ctl_eventfd(ctl->dp), .events = POLLIN };
	if (ctl->metrics != NULL)
		n += metrics_pollfds(ctl->metrics, pfd + 1);
	if (poll(pfd, (nfds_t)n, ctl->pending_count > 0 ? 1 : CTL_IDLE_WAIT_MS) > 0 &&
	    (pfd[0].revents & POLLIN) && read(pfd[0].fd, &count, sizeof(count)) < 0 &&
	    errno != EAGAIN)
		log_warn("control", "eventfd read: %s", strerror(errno));
	if (ctl->metrics != NULL)
		metrics_serve(ctl->metrics, pfd + 1, n - 1);
}

void
ctl_run(struct ctl *ctl, volatile sig_atomic_t *stop)
{
	struct dp_msg msg;

	while (!*stop) {
		for (int core = 0; core < dp_core_count(ctl->dp); core++)
			while (dp_ctl_recv(ctl->dp, core, &msg))
				ctl_handle(ctl, core, &msg);
		ctl_flush_pending(ctl);
		ctl_wait(ctl);
	}
}

void
ctl_destroy(struct ctl *ctl)
{
	metrics_destroy(ctl->metrics);
	for (int i = 0; i < ctl->pending_count; i++)
		free(ctl->pending[i].msg.buf.data);
	free(ctl->pending);
	for (int i = 0; i < ctl->retired_count; i++)
		md_snapshot_free(ctl->retired[i]);
	md_snapshot_free(ctl->md);
	md_store_close(&ctl->store);
	pid_alloc_close(&ctl->pids);
	free(ctl);
}
