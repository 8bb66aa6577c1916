/* SPDX-License-Identifier: Apache-2.0 */
/* Core <-> control plumbing: the two SPSC rings of struct dp_msg per core,
 * the eventfds that wake each side, and metadata snapshot publication (RCU,
 * liburcu QSBR). Control never writes core state: it only pushes messages
 * and swaps the snapshot pointer. A one-way dependency: dp_core.c calls in
 * here and applies what it pops; nothing here calls back into dp_core.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "common/efd.h"
#include "dataplane/dp_int.h"

/* Ring sizing: every forwarded request holds one in-flight slot, so
 * connections_max x inflight_max requests can be outstanding per core; the
 * rings hold that many, capped at DP_CTL_RING_MAX.
 * Full policy, both directions backpressure:
 *  - core -> control (to_ctl): the core parses no more frames while fewer
 *    than a conn's per-turn frame budget of slots are free (dp_ctl_room(),
 *    checked in dp_core_rx()); the conns' bytes wait unparsed, their reads
 *    stop, and TCP pushes back on the clients.
 *  - control -> core (from_ctl): dp_ctl_send() returns false and control
 *    keeps the answer in its bounded per-core backlog (ctl_sched.c); with
 *    that full, control stops taking the core's requests, which fills
 *    to_ctl (above). */
static uint32_t
dp_ctl_ring_capacity(const struct dp_config *cfg)
{
	uint64_t want = (uint64_t)cfg->connections_max * cfg->inflight_max;

	return (uint32_t)MIN(MAX(want, 64u), (uint64_t)DP_CTL_RING_MAX);
}

/* @thread control (startup). Returns 0 or -errno. */
int
dp_ctl_init(struct dp_core *core)
{
	uint32_t capacity = dp_ctl_ring_capacity(&core->dp->cfg);
	int rc;

	core->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (core->wake_fd < 0)
		return -errno;
	rc = spsc_init(&core->to_ctl, capacity, sizeof(struct dp_msg));
	if (rc < 0)
		return rc;
	return spsc_init(&core->from_ctl, capacity, sizeof(struct dp_msg));
}

/* Free whatever is still queued in either direction, then the rings.
 * @thread control, after the core thread has exited */
void
dp_ctl_fini(struct dp_core *core)
{
	struct dp_msg msg;

	if (core->to_ctl.slots != NULL) {
		while (spsc_pop_dp_msg(&core->to_ctl, &msg))
			free(msg.buf.data);
		spsc_fini(&core->to_ctl);
	}
	if (core->from_ctl.slots != NULL) {
		while (spsc_pop_dp_msg(&core->from_ctl, &msg))
			free(msg.buf.data);
		spsc_fini(&core->from_ctl);
	}
	if (core->wake_fd >= 0)
		close(core->wake_fd);
	core->wake_fd = -1;
}

/* @thread control */
bool
dp_ctl_recv(struct dp *dp, int core, struct dp_msg *msg)
{
	ASSERT(core >= 0 && core < dp->core_count);
	return spsc_pop_dp_msg(&dp->cores[core].to_ctl, msg);
}

/* Push, then wake the core. The eventfd write only wakes the core's
 * outstanding read; the message itself is ordered by the ring's commit
 * (release) and the core's ck_ring_size() load in dp_ctl_pop(). A core
 * that drains before the push and then sleeps is woken by this write.
 * @thread control */
bool
dp_ctl_send(struct dp *dp, int core, const struct dp_msg *msg)
{
	ASSERT(core >= 0 && core < dp->core_count);
	ASSERT(msg->type >= DP_MSG_REPLY && msg->type <= DP_MSG_REPLY_AUTH);
	if (!spsc_push_dp_msg(&dp->cores[core].from_ctl, msg))
		return false;
	efd_kick(dp->cores[core].wake_fd);
	return true;
}

/* @thread any */
int
dp_ctl_eventfd(const struct dp *dp)
{
	return dp->ctl_efd;
}

/* "/" and the peer's address as Java prints an InetAddress (an
 * IPv4-mapped IPv6 address as IPv4); "" (0) when unknown. @thread any */
int
dp_peer_format(const struct dp_peer *in, char text[DP_PEER_TEXT_MAX])
{
	static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct dp_peer peer = *in;
	int af;

	text[0] = '\0';
	if (peer.family == DP_PEER_IPV6 && memcmp(peer.addr, v4_mapped, 12) == 0) {
		memmove(peer.addr, peer.addr + 12, 4);  /* Java's Inet4Address */
		peer.family = DP_PEER_IPV4;
	}
	if (peer.family == DP_PEER_IPV4)
		af = AF_INET;
	else if (peer.family == DP_PEER_IPV6)
		af = AF_INET6;
	else
		return 0;
	text[0] = '/';
	if (inet_ntop(af, peer.addr, text + 1, DP_PEER_TEXT_MAX - 1) == NULL) {
		text[0] = '\0';
		return 0;
	}
	return (int)strlen(text);
}

/* @thread control */
int
dp_ctl_peer_format(const struct dp_msg *req, char text[DP_PEER_TEXT_MAX])
{
	struct dp_peer peer;

	ASSERT(req->type == DP_MSG_REQUEST && req->buf.data != NULL);
	memcpy(&peer, req->buf.data + req->buf.len, sizeof(peer));
	return dp_peer_format(&peer, text);
}

/* @thread control */
void
dp_ctl_session(const struct dp_msg *req, struct kp_session *session)
{
	ASSERT(req->type == DP_MSG_REQUEST && req->buf.data != NULL);
	memcpy(session, req->buf.data + req->buf.len + sizeof(struct dp_peer), sizeof(*session));
	session->principal[KP_PRINCIPAL_MAX] = '\0';
}

/* rcu_assign_pointer() (a release store) pairs with rcu_dereference() in
 * dp_core_main(); synchronize_rcu() returns once every registered core has
 * passed a quiescent state (or is offline), so none still reads the old
 * snapshot. @thread control */
void
dp_ctl_md_publish(struct dp *dp, const struct kp_md *md)
{
	/* liburcu's out-of-line rcu_set_pointer() takes void *; the union drops
	 * const without a cast. Nothing writes through dp->md. */
	union { const struct kp_md *ro; struct kp_md *rw; } ptr = { .ro = md };

	ASSERT(md != NULL);
	rcu_assign_pointer(dp->md, ptr.rw);
	synchronize_rcu();
}

void
dp_tls_publish(struct dp *dp, int listener, struct dp_tls_ctx *ctx)
{
	struct dp_tls_ctx *old;

	ASSERT(listener >= 0 && listener < DP_LISTENERS_MAX);
	old = rcu_xchg_pointer(&dp->tls[listener], ctx);
	synchronize_rcu();      /* no core is between its load and its ref */
	dp_tls_ctx_unref(old);
}

/* Queue a forwarded request for control, with the conn's peer address
 * and session behind the frame (struct dp_peer, then struct kp_session,
 * past fwd.len). Returns false when the
 * ring is full, which dp_core_rx() prevents by parsing only while ctl_room
 * allows, or when out of memory (the caller then closes the connection);
 * fwd.data is the caller's to free then (it may have moved: *fwd is
 * updated). Forwarded requests are control's slow path; the one realloc()
 * here is not on the data path. @thread dataplane */
bool
dp_ctl_forward(struct dp_core *core, struct conn *conn, uint32_t seq, struct kp_buf *fwd)
{
	uint8_t *data = realloc(fwd->data, (size_t)fwd->len + sizeof(struct dp_peer) +
					   sizeof(struct kp_session));
	struct dp_msg msg = {
		.type = DP_MSG_REQUEST,
		.conn_id = conn->id,
		.conn_gen = conn->gen,
		.seq = seq,
	};

	if (data == NULL)
		return false;
	fwd->data = data;
	memcpy(data + fwd->len, &conn->peer, sizeof(conn->peer));
	memcpy(data + fwd->len + sizeof(conn->peer), &conn->session, sizeof(conn->session));
	msg.buf = *fwd;
	if (!spsc_push_dp_msg(&core->to_ctl, &msg))
		return false;
	core->ctl_posted++;
	if (core->ctl_room > 0)
		core->ctl_room--;
	return true;
}

/* One load of control's consumer index per turn, not per frame.
 * @thread dataplane */
void
dp_ctl_room(struct dp_core *core)
{
	core->ctl_room = core->to_ctl.slot_count - 1 - spsc_count(&core->to_ctl);
}

/* Take the next message control sent this core; false when none. The
 * core applies it (dp_core.c): this file only moves messages.
 * @thread dataplane */
bool
dp_ctl_pop(struct dp_core *core, struct dp_msg *msg)
{
	return spsc_pop_dp_msg(&core->from_ctl, msg);
}

/* Wake control once per turn if requests were pushed. @thread dataplane */
void
dp_ctl_notify(struct dp_core *core)
{
	if (core->ctl_posted == 0)
		return;
	core->ctl_posted = 0;
	efd_kick(core->dp->ctl_efd);
}
