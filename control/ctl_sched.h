/* SPDX-License-Identifier: Apache-2.0 */
/* What the control thread has taken from the cores and still owes them:
 * forwarded requests in one FIFO per connection, served round-robin over the
 * connections that have requests queued, and per core a bounded backlog of
 * replies the core's ring refused. Fixed capacity, allocated once; it never
 * runs a request itself and never talks to a core except through the send
 * callback of ctl_sched_flush(). Internal to control/. */
#ifndef CONTROL_CTL_SCHED_H
#define CONTROL_CTL_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/dp.h"

/* Requests control holds at once, over all connections. Each one holds at
 * most socket.request.max.bytes of frame; a connection has at most
 * spillway.connection.inflight.max of them in flight, so this takes in
 * 64 connections' full pipelines before a core's ring has to hold the
 * rest. */
#define CTL_SCHED_REQUESTS_MAX 4096u
/* Replies per core that wait for room in the core's ring. A core drains its
 * ring every loop turn, so this only fills when a core stalls; then control
 * takes no more requests from that core (backpressure) until it drains. */
#define CTL_SCHED_BACKLOG_MAX 256u

struct ctl_sched;

/* A forwarded request as taken from a core's ring (msg.type REQUEST). */
struct ctl_sched_item {
	int core;
	struct dp_msg msg;
};

/* Push one reply to core's ring: false when the ring is full. */
typedef bool ctl_sched_send_fn(void *arg, int core, const struct dp_msg *msg);

/* A scheduler for core_count cores (1..64). NULL when out of memory.
 * @thread control */
struct ctl_sched *ctl_sched_create(int core_count);
/* Free it, with the frames and responses still queued in it. */
void ctl_sched_destroy(struct ctl_sched *s);

/* Whether a request from core may be taken now: there is room for it, and
 * for its reply in the core's backlog. When false, leave it in the core's
 * ring. */
bool ctl_sched_can_take(const struct ctl_sched *s, int core);
/* Queue a request behind the earlier ones of its connection (core,
 * msg->conn_id); takes ownership of msg->buf. Precondition:
 * ctl_sched_can_take(s, core). */
void ctl_sched_push(struct ctl_sched *s, int core, const struct dp_msg *msg);
/* The next request to run: the oldest one of the connection whose turn it
 * is, skipping connections of cores whose backlog has no room for a reply
 * (one slot is reserved until ctl_sched_reply()). The connection then goes
 * to the back of the round. False when nothing can run now. */
bool ctl_sched_pop(struct ctl_sched *s, struct ctl_sched_item *out);
/* Queue the reply of a popped request of core: sent at once through send
 * when the core's backlog is empty and its ring takes it, else kept in
 * order in the reserved backlog slot. */
void ctl_sched_reply(struct ctl_sched *s, int core, const struct dp_msg *reply,
		     ctl_sched_send_fn *send, void *arg);
/* The popped request of core was parked (control/ctl_park.h): give back the
 * backlog slot pop() reserved, so that core's other requests run now; the
 * parked reply is sent later outside the backlog (ctl_park.c). */
void ctl_sched_park(struct ctl_sched *s, int core);
/* Send backlogged replies, oldest first per core, until each core's ring
 * refuses. Returns how many replies are still backlogged. */
uint32_t ctl_sched_flush(struct ctl_sched *s, ctl_sched_send_fn *send, void *arg);

/* Requests queued, connections with requests queued, replies backlogged. */
uint32_t ctl_sched_request_count(const struct ctl_sched *s);
uint32_t ctl_sched_conn_count(const struct ctl_sched *s);
uint32_t ctl_sched_backlog_count(const struct ctl_sched *s);

#endif
