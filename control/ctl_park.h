/* SPDX-License-Identifier: Apache-2.0 */
/* Requests that control answers later: a JoinGroup waiting for the
 * rebalance, a SyncGroup waiting for the leader's assignment, an
 * OffsetCommit waiting for its fsync. A parked request keeps its place in
 * its connection's reply order (the core holds the slot) and none of the
 * scheduler's reply reservations, so parked requests never stop control
 * from serving others. Internal to control/. @thread control */
#ifndef CONTROL_CTL_PARK_H
#define CONTROL_CTL_PARK_H

#include <stdint.h>

#include "protocol/kp.h"

struct ctl;

/* Who gets the reply, and how to frame it. */
struct ctl_park {
	int core;
	uint32_t conn_id;
	uint32_t conn_gen;
	uint32_t seq;
	int16_t api_key;
	int16_t api_version;
	int32_t correlation_id;
};

/* Inside ops->group() for the request being handled: take it out of the
 * normal reply path; the handler then returns KP_VERDICT_PARKED and must
 * later pass the handle to exactly one of ctl_park_send() and
 * ctl_park_drop(). NULL when this request cannot be parked (out of memory,
 * or too many parked): answer it now instead. */
struct ctl_park *ctl_park_take(struct ctl *ctl);

/* Start the reply of p in w: kp_writer_init() and the response header;
 * the caller encodes the body into w, then calls ctl_park_send(). */
void ctl_park_begin(const struct ctl_park *p, struct kp_writer *w);
/* Frame and send the reply (the connection is closed instead if the
 * encoder failed), take w's buffer and free p. */
void ctl_park_send(struct ctl *ctl, struct ctl_park *p, struct kp_writer *w);
/* Answer nothing and close the connection (shutdown, or a request that
 * cannot be answered); frees p. */
void ctl_park_drop(struct ctl *ctl, struct ctl_park *p);

/* Parked requests now. */
uint32_t ctl_park_count(const struct ctl *ctl);

#endif
