/* SPDX-License-Identifier: Apache-2.0 */
/* Parked requests (ctl_park.h): a handle per request the group coordinator
 * answers later, and per core an ordered queue of the late replies the
 * core's ring refused, retried every loop turn (ctl_park_flush). The
 * reply waits in the handle's own allocation, so sending never allocates
 * and never fails; handles and queued replies together are bounded by
 * CTL_PARK_MAX. This file never runs a request. @thread control */
#include <stdlib.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "control/ctl_int.h"
#include "control/ctl_park.h"

/* Parked requests plus replies waiting for a core's ring, at most. A
 * connection has at most spillway.connection.inflight.max requests in
 * flight, so this is far above what real group members park (one
 * JoinGroup or SyncGroup each); past it a request is answered at once. */
#define CTL_PARK_MAX 65536u

/* A handle, and the reply it becomes once sent (queued when the ring is
 * full). */
struct ctl_park_node {
	struct ctl_park p;
	struct dp_msg msg;
	struct ctl_park_node *next;     /* in its core's queue */
};

struct ctl_park_queue {
	struct ctl_park_node *head;
	struct ctl_park_node *tail;
};

struct ctl_parks {
	int core_count;
	uint32_t parked;                /* handles taken, not yet sent or dropped */
	uint32_t queued;                /* replies waiting for a core's ring */
	struct ctl_park_queue queues[]; /* core_count */
};

struct ctl_parks *
ctl_parks_create(int core_count)
{
	struct ctl_parks *pk;

	ASSERT(core_count >= 1);
	pk = calloc(1, sizeof(*pk) + sizeof(pk->queues[0]) * (size_t)core_count);
	if (pk == NULL)
		return NULL;
	pk->core_count = core_count;
	return pk;
}

void
ctl_parks_destroy(struct ctl_parks *pk)
{
	if (pk == NULL)
		return;
	for (int c = 0; c < pk->core_count; c++) {
		struct ctl_park_node *n = pk->queues[c].head;

		while (n != NULL) {
			struct ctl_park_node *next = n->next;

			free(n->msg.buf.data);
			free(n);
			n = next;
		}
	}
	/* Handles still out are the coordinator's bug (it drops them all in
	 * grp_coord_destroy()); they leak rather than dangle. */
	ASSERT(pk->parked == 0);
	free(pk);
}

struct ctl_park *
ctl_park_take(struct ctl *ctl)
{
	struct ctl_parks *pk = ctl->parks;
	struct ctl_park_node *n;

	ASSERT(ctl->in_request);        /* only inside ops->group() */
	ASSERT(!ctl->cur_parked);       /* once per request */
	if (pk->parked + pk->queued >= CTL_PARK_MAX)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->p = ctl->cur;
	pk->parked++;
	ctl->cur_parked = true;
	return &n->p;
}

void
ctl_park_begin(const struct ctl_park *p, struct kp_writer *w)
{
	kp_writer_init(w, 256);
	kp_reply_begin(w, p->api_key, p->api_version, p->correlation_id);
}

/* Send n's reply now if its core's queue is empty and the ring takes it,
 * else queue it behind the others (it is freed once sent). */
static void
ctl_park_post(struct ctl *ctl, struct ctl_park_node *n)
{
	struct ctl_parks *pk = ctl->parks;
	struct ctl_park_queue *q;
	int core = n->p.core;

	ASSERT(core >= 0 && core < pk->core_count);
	ASSERT(pk->parked > 0);
	pk->parked--;
	q = &pk->queues[core];
	if (q->head == NULL && ctl->send != NULL && ctl->send(ctl->send_arg, core, &n->msg)) {
		free(n);
		return;
	}
	n->next = NULL;
	if (q->tail == NULL)
		q->head = n;
	else
		q->tail->next = n;
	q->tail = n;
	pk->queued++;
}

static struct ctl_park_node *
ctl_park_node(struct ctl_park *p)
{
	return container_of(p, struct ctl_park_node, p);
}

void
ctl_park_send(struct ctl *ctl, struct ctl_park *p, struct kp_writer *w)
{
	struct ctl_park_node *n = ctl_park_node(p);
	struct kp_buf buf;

	n->msg = (struct dp_msg){ .conn_id = p->conn_id, .conn_gen = p->conn_gen,
				  .seq = p->seq };
	if (kp_reply_end(w, &buf)) {
		ASSERT(buf.data != NULL && buf.len >= 8);
		n->msg.type = DP_MSG_REPLY;
		n->msg.buf = buf;
	} else {
		/* The encoder failed (out of memory): close, as a request that
		 * cannot be answered. kp_reply_end() freed w. */
		n->msg.type = DP_MSG_CLOSE;
	}
	ctl_park_post(ctl, n);
}

void
ctl_park_drop(struct ctl *ctl, struct ctl_park *p)
{
	struct ctl_park_node *n = ctl_park_node(p);

	n->msg = (struct dp_msg){ .type = DP_MSG_CLOSE, .conn_id = p->conn_id,
				  .conn_gen = p->conn_gen, .seq = p->seq };
	ctl_park_post(ctl, n);
}

uint32_t
ctl_park_count(const struct ctl *ctl)
{
	return ctl->parks->parked;
}

uint32_t
ctl_park_flush(struct ctl *ctl)
{
	struct ctl_parks *pk = ctl->parks;

	for (int c = 0; pk->queued > 0 && c < pk->core_count && ctl->send != NULL; c++) {
		struct ctl_park_queue *q = &pk->queues[c];

		while (q->head != NULL && ctl->send(ctl->send_arg, c, &q->head->msg)) {
			struct ctl_park_node *n = q->head;

			q->head = n->next;
			if (q->head == NULL)
				q->tail = NULL;
			pk->queued--;
			free(n);
		}
	}
	return pk->queued;
}
