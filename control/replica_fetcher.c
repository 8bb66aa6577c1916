/* SPDX-License-Identifier: Apache-2.0 */
/* The replica fetcher thread (see replica_fetcher.h): control's changes
 * arrive through a mutex-guarded queue and an eventfd; the thread polls
 * them, storage's completion eventfd and one socket per leader.
 *
 * A partition's steps on every new leader or epoch (Kafka's
 * AbstractFetcherThread with KIP-279 truncation):
 *   RF_EPOCH_LOCAL  ST_REQ_EPOCH(-1): latest local epoch E and log end;
 *                   none cached: truncate to the high watermark
 *   RF_EPOCH_LEADER OffsetForLeaderEpoch(E) to the leader -> (E', O);
 *                   UNDEFINED: truncate to the high watermark; E' == E:
 *                   to min(O, log end)
 *   RF_EPOCH_OWN    else ST_REQ_EPOCH(E'): truncate to min(O, our end of E');
 *                   when we never had E', to the end of our largest
 *                   epoch below it and ask the leader again
 *   RF_TRUNCATE     ST_REQ_TRUNCATE when that is below the log end
 *                   (ST_REQ_TRUNCATE_FULL when a fetch found the log end
 *                   below the leader's log start: start over there)
 *   RF_FETCH        Fetch from the log end; each answer's batches appended
 *                   in order (ST_APPEND_REPLICA), then ST_REQ_REPLICA_HW;
 *                   the next fetch once they completed
 * Storage requests of a partition never overlap steps: a step is
 * submitted only when nothing of it is pending, and every change from
 * control bumps the partition's generation so late answers are ignored. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/clock.h"
#include "common/efd.h"
#include "common/kafka_errors.h"
#include "common/log.h"
#include "common/rbatch.h"
#include "control/rf_int.h"
#include "protocol/gen/kp_api.h"

#define RF_REAP_BURST 64
#define RF_POLL_MAX_MS 1000
#define RF_STATS_EVERY_NS 100000000ull
#define RF_STOP_DRAIN_NS 10000000000ull

uint64_t
rf_backoff_ns(const struct rf *rf)
{
	return (uint64_t)rf->cfg.backoff_ms * 1000000ull;
}

struct rf_part *
rf_part_find(struct rf *rf, const uint8_t topic_id[16], int32_t partition)
{
	uint32_t i;

	for (i = 0; i < rf->part_cap; i++) {
		struct rf_part *p = &rf->parts[i];

		if (p->used && p->state != RF_GONE && p->partition == partition &&
		    memcmp(p->topic_id, topic_id, 16) == 0)
			return p;
	}
	return NULL;
}

static uint32_t
rf_slot(const struct rf *rf, const struct rf_part *p)
{
	return (uint32_t)(p - rf->parts);
}

bool
rf_submit(struct rf *rf, struct rf_part *p, uint32_t slot, struct st_req *req,
	  enum rf_kind kind)
{
	req->partition = p->partition;
	memcpy(req->topic_id, p->topic_id, 16);
	req->token = rf_token(slot, kind, p->gen);
	if (!st_submit(rf->st, rf->cfg.ring, req))
		return false;
	p->pending++;
	rf->st_dirty = true;
	return true;
}

/* Drop what is not yet submitted; the buffer goes once nothing is pending. */
static void
rf_part_drop_batches(struct rf_part *p)
{
	p->buf_pos = p->buf_len;
	p->hw_due = false;
	if (p->buf != NULL && p->pending == 0) {
		free(p->buf);
		p->buf = NULL;
		p->buf_len = 0;
		p->buf_pos = 0;
	}
}

void
rf_part_restart(struct rf *rf, struct rf_part *p, uint64_t delay_ns)
{
	p->gen++;
	p->state = RF_EPOCH_LOCAL;
	p->trunc_full = false;
	p->in_request = false;
	p->append_failed = false;
	p->retry_ns = delay_ns == 0 ? 0 : clock_mono_ns() + delay_ns;
	rf_part_drop_batches(p);
	(void)rf;
}

void
rf_part_truncate_to(struct rf_part *p, int64_t offset, bool again)
{
	if (offset < 0)
		offset = 0;
	p->trunc_again = again;
	p->trunc_full = false;
	if (offset < p->local_leo || again) {
		p->trunc_offset = offset < p->local_leo ? offset : p->local_leo;
		p->state = RF_TRUNCATE;
	} else {
		p->fetch_offset = p->local_leo;
		p->state = RF_FETCH;
	}
}

void
rf_part_truncate_full(struct rf_part *p, int64_t leader_start)
{
	p->trunc_again = false;
	p->trunc_full = true;
	p->trunc_offset = leader_start;
	p->state = RF_TRUNCATE;
}

static int64_t
rf_min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* ---- storage ---- */

static void
rf_cpl_epoch(struct rf *rf, struct rf_part *p, const struct st_cpl *cpl)
{
	if (p->state == RF_EPOCH_LOCAL) {
		p->local_epoch = cpl->epoch.leader_epoch;
		/* A log end of -1: no epoch cache; the high watermark is the
		 * log end of a log that never followed. */
		p->local_leo = cpl->epoch.end_offset >= 0 ? cpl->epoch.end_offset
							  : cpl->high_watermark;
		if (p->local_epoch < 0)
			rf_part_truncate_to(p, p->local_hw, false);
		else
			p->state = RF_EPOCH_LEADER;
	} else if (p->state == RF_EPOCH_OWN) {
		/* Kafka's getOffsetTruncationState: our (epoch, end) for the
		 * leader's epoch E'. None: the leader's end; another epoch (we
		 * never had E'): its end, then ask again; E': the smaller end. */
		int32_t own_epoch = cpl->epoch.leader_epoch;
		int64_t own_end = cpl->epoch.end_offset;

		if (own_epoch < 0 || own_end < 0)
			rf_part_truncate_to(p, rf_min64(p->leader_div_offset, p->local_leo), false);
		else if (own_epoch != p->leader_div_epoch)
			rf_part_truncate_to(p, rf_min64(own_end, p->local_leo), true);
		else
			rf_part_truncate_to(p, rf_min64(own_end, p->leader_div_offset), false);
	}
	(void)rf;
}

static void
rf_cpl(struct rf *rf, const struct st_cpl *cpl)
{
	uint32_t slot = (uint32_t)(cpl->token >> 32);
	enum rf_kind kind = (enum rf_kind)((cpl->token >> 24) & 0xff);
	struct rf_part *p;

	ASSERT(slot < rf->part_cap);
	p = &rf->parts[slot];
	ASSERT(p->used && p->pending > 0);
	p->pending--;
	if ((p->gen & 0xffffffu) != (cpl->token & 0xffffffu) || p->state == RF_GONE)
		return;
	if (kind == RF_K_START) {
		/* Best effort: the next answer asks again. */
		if (cpl->error == KP_ERR_NONE)
			p->log_start_offset = cpl->log_start_offset;
		return;
	}
	if (cpl->error != KP_ERR_NONE) {
		log_warn("rf", "%s-%d: storage request %d failed: error %d", p->topic,
			 p->partition, kind, cpl->error);
		if (kind == RF_K_APPEND)
			p->append_failed = true;
		else
			rf_part_restart(rf, p, rf_backoff_ns(rf));
		return;
	}
	p->local_hw = cpl->high_watermark;
	p->log_start_offset = cpl->log_start_offset;
	if (kind == RF_K_EPOCH) {
		rf_cpl_epoch(rf, p, cpl);
	} else if (kind == RF_K_TRUNCATE && p->state == RF_TRUNCATE) {
		p->local_leo = cpl->truncate.log_end_offset;
		/* Batches kept across a full truncation: fetch after them. */
		if (p->buf == NULL)
			p->fetch_offset = p->local_leo;
		p->state = p->trunc_again ? RF_EPOCH_LOCAL : RF_FETCH;
	}
}

static void
rf_reap(struct rf *rf)
{
	struct st_cpl cpl[RF_REAP_BURST];
	unsigned n, i;

	do {
		n = st_reap(rf->st, rf->cfg.ring, cpl, RF_REAP_BURST);
		for (i = 0; i < n; i++)
			rf_cpl(rf, &cpl[i]);
	} while (n == RF_REAP_BURST);
}

/* The leader's log start moved past ours (retention, DeleteRecords) and
 * we have records up to it: move ours up too, as Kafka's follower does. */
static bool
rf_pump_start(struct rf *rf, struct rf_part *p, uint32_t slot)
{
	struct st_req req;

	if (p->state != RF_FETCH || p->leader_start <= p->log_start_offset ||
	    p->leader_start > p->fetch_offset || p->leader_start > p->leader_hw)
		return true;
	memset(&req, 0, sizeof(req));
	req.type = ST_REQ_DELETE_RECORDS;
	req.delete_records.offset = p->leader_start;
	if (!rf_submit(rf, p, slot, &req, RF_K_START))
		return false;
	p->log_start_offset = p->leader_start;  /* asked once per move */
	return true;
}

/* Submit the appends left of the last answer, then the high watermark. */
static bool
rf_pump_appends(struct rf *rf, struct rf_part *p, uint32_t slot)
{
	struct st_req req;

	while (p->buf_pos < p->buf_len) {
		struct rbatch_header h;

		(void)rbatch_header_parse(p->buf + p->buf_pos, p->buf_len - p->buf_pos, &h);
		memset(&req, 0, sizeof(req));
		req.type = ST_REQ_APPEND;
		req.acks = 1;
		req.flags = ST_APPEND_REPLICA;
		req.append.batch = p->buf + p->buf_pos;
		req.append.len = (uint32_t)rbatch_total_bytes(&h);
		if (!rf_submit(rf, p, slot, &req, RF_K_APPEND))
			return false;
		p->buf_pos += req.append.len;
	}
	if (p->pending > 0)
		return true;
	free(p->buf);
	p->buf = NULL;
	p->buf_len = p->buf_pos = 0;
	if (p->append_failed && p->state != RF_GONE) {
		rf_part_restart(rf, p, rf_backoff_ns(rf));
		return true;
	}
	if (p->hw_due && p->state == RF_FETCH && p->leader_hw >= 0) {
		memset(&req, 0, sizeof(req));
		req.type = ST_REQ_REPLICA_HW;
		req.hw.offset = p->leader_hw;
		if (!rf_submit(rf, p, slot, &req, RF_K_HW))
			return false;
		p->hw_due = false;
	}
	return rf_pump_start(rf, p, slot);
}

/* Move one partition on as far as storage allows; false when its ring is
 * full (try again next turn). */
static bool
rf_pump(struct rf *rf, struct rf_part *p, uint64_t now_ns)
{
	uint32_t slot = rf_slot(rf, p);
	struct st_req req;

	if ((p->buf != NULL || (p->hw_due && p->pending == 0)) && p->state != RF_TRUNCATE)
		return rf_pump_appends(rf, p, slot);
	if (p->pending > 0 || p->retry_ns > now_ns)
		return true;
	memset(&req, 0, sizeof(req));
	switch (p->state) {
	case RF_EPOCH_LOCAL:
		req.type = ST_REQ_EPOCH;
		req.epoch.leader_epoch = -1;
		return rf_submit(rf, p, slot, &req, RF_K_EPOCH);
	case RF_EPOCH_OWN:
		req.type = ST_REQ_EPOCH;
		req.epoch.leader_epoch = p->leader_div_epoch;
		return rf_submit(rf, p, slot, &req, RF_K_EPOCH);
	case RF_TRUNCATE:
		req.type = p->trunc_full ? ST_REQ_TRUNCATE_FULL : ST_REQ_TRUNCATE;
		req.truncate.offset = p->trunc_offset;
		return rf_submit(rf, p, slot, &req, RF_K_TRUNCATE);
	case RF_GONE:
		free(p->topic);
		memset(p, 0, sizeof(*p));
		return true;
	default:
		return true;
	}
}

/* ---- control's changes ---- */

static struct rf_part *
rf_part_alloc(struct rf *rf)
{
	uint32_t i, cap;
	struct rf_part *parts;

	for (i = 0; i < rf->part_cap; i++)
		if (!rf->parts[i].used)
			return &rf->parts[i];
	cap = rf->part_cap == 0 ? 64 : rf->part_cap * 2;
	parts = realloc(rf->parts, cap * sizeof(*parts));
	if (parts == NULL)
		return NULL;
	memset(parts + rf->part_cap, 0, (cap - rf->part_cap) * sizeof(*parts));
	rf->parts = parts;
	i = rf->part_cap;
	rf->part_cap = cap;
	return &rf->parts[i];
}

static void
rf_part_remove(struct rf *rf, struct rf_part *p)
{
	if (p->conn != NULL)
		rf_conn_put(rf, p->conn);
	p->conn = NULL;
	p->gen++;
	p->state = RF_GONE;
	p->in_request = false;
	p->append_failed = false;
	rf_part_drop_batches(p);
}

static void
rf_part_add(struct rf *rf, const struct rf_partition *c)
{
	struct rf_part *p = rf_part_alloc(rf);

	if (p == NULL || (p->topic = strdup(c->topic)) == NULL) {
		log_error("rf", "out of memory following %s-%d", c->topic, c->partition);
		return;
	}
	p->used = true;
	memcpy(p->topic_id, c->topic_id, 16);
	p->partition = c->partition;
	p->leader_id = c->leader_id;
	p->leader_epoch = c->leader_epoch;
	p->conn = rf_conn_get(rf, c->leader_id, c->host, c->port);
	p->fetch_offset = -1;
	p->leader_hw = -1;
	p->leader_start = -1;
	p->local_hw = -1;
	p->log_start_offset = -1;
	p->local_epoch = -1;
	rf_part_restart(rf, p, 0);
	if (p->conn == NULL)
		rf_part_remove(rf, p);
}

static void
rf_change_apply(struct rf *rf, const struct rf_partition *c)
{
	struct rf_part *p = rf_part_find(rf, c->topic_id, c->partition);
	struct rf_conn *conn;

	if (c->leader_id < 0) {
		if (p != NULL)
			rf_part_remove(rf, p);
		return;
	}
	if (p == NULL) {
		rf_part_add(rf, c);
		return;
	}
	conn = p->conn;
	if (p->leader_id == c->leader_id && p->leader_epoch == c->leader_epoch &&
	    conn->port == c->port && strcmp(conn->host, c->host) == 0)
		return;
	p->conn = rf_conn_get(rf, c->leader_id, c->host, c->port);
	rf_conn_put(rf, conn);
	p->leader_id = c->leader_id;
	p->leader_epoch = c->leader_epoch;
	p->last_error = KP_ERR_NONE;
	rf_part_restart(rf, p, 0);
	if (p->conn == NULL)
		rf_part_remove(rf, p);
}

static void
rf_change_free(struct rf_change *ch)
{
	free(ch->topic);
	free(ch->host);
}

/* Apply what control queued; under rf->lock. */
static void
rf_changes_take(struct rf *rf)
{
	struct rf_waiter *wt;
	uint32_t i;

	for (i = 0; i < rf->change_count; i++) {
		rf_change_apply(rf, &rf->changes[i].p);
		rf_change_free(&rf->changes[i]);
	}
	rf->change_count = 0;
	for (wt = rf->waiters; wt != NULL; wt = wt->next) {
		struct rf_part *p;

		if (wt->taken)
			continue;
		p = rf_part_find(rf, wt->topic_id, wt->partition);
		if (p != NULL)
			rf_part_remove(rf, p);
		wt->taken = true;
	}
}

/* Removals whose partition has drained; under rf->lock. */
static void
rf_waiters_check(struct rf *rf)
{
	struct rf_waiter *wt;
	bool woke = false;

	for (wt = rf->waiters; wt != NULL; wt = wt->next) {
		uint32_t i;
		bool busy = false;

		if (!wt->taken || wt->done)
			continue;
		for (i = 0; i < rf->part_cap && !busy; i++) {
			const struct rf_part *p = &rf->parts[i];

			busy = p->used && p->partition == wt->partition &&
			       memcmp(p->topic_id, wt->topic_id, 16) == 0 && p->pending > 0;
		}
		if (!busy) {
			wt->done = true;
			woke = true;
		}
	}
	if (woke)
		pthread_cond_broadcast(&rf->cond);
}

/* ---- statistics ---- */

static void
rf_stats_publish(struct rf *rf)
{
	struct rf_partition_stats *s;
	uint32_t i, n = 0;

	s = calloc(rf->part_cap == 0 ? 1 : rf->part_cap, sizeof(*s));
	if (s == NULL)
		return;
	for (i = 0; i < rf->part_cap; i++) {
		const struct rf_part *p = &rf->parts[i];

		if (!p->used || p->state == RF_GONE)
			continue;
		memcpy(s[n].topic_id, p->topic_id, 16);
		s[n].partition = p->partition;
		s[n].leader_id = p->leader_id;
		s[n].leader_epoch = p->leader_epoch;
		s[n].fetch_offset = p->fetch_offset;
		s[n].leader_high_watermark = p->leader_hw;
		s[n].truncating = p->state < RF_FETCH;
		s[n].last_error = p->last_error;
		n++;
	}
	pthread_mutex_lock(&rf->lock);
	free(rf->stats);
	rf->stats = s;
	rf->stats_count = n;
	pthread_mutex_unlock(&rf->lock);
}

void
rf_stats(struct rf *rf, void (*fn)(void *arg, const struct rf_partition_stats *ps), void *arg)
{
	struct rf_partition_stats *copy = NULL;
	uint32_t i, n;

	pthread_mutex_lock(&rf->lock);
	n = rf->stats_count;
	if (n > 0 && (copy = malloc(n * sizeof(*copy))) != NULL)
		memcpy(copy, rf->stats, n * sizeof(*copy));
	pthread_mutex_unlock(&rf->lock);
	for (i = 0; copy != NULL && i < n; i++)
		fn(arg, &copy[i]);
	free(copy);
}

/* ---- the thread ---- */

static uint64_t
rf_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Step every partition and connection; the next deadline (CLOCK_MONOTONIC
 * ns) at which one needs a turn without an event. */
static uint64_t
rf_step(struct rf *rf, uint64_t now)
{
	uint64_t next = now + (uint64_t)RF_POLL_MAX_MS * 1000000ull;
	uint32_t i;

	for (i = 0; i < rf->part_cap; i++) {
		struct rf_part *p = &rf->parts[i];

		if (!p->used)
			continue;
		if (!rf_pump(rf, p, now))
			next = rf_min(next, now + 1000000ull);  /* ring full */
		else if (p->used && p->retry_ns > now)
			next = rf_min(next, p->retry_ns);
	}
	for (i = 0; i < rf->conn_cap; i++) {
		struct rf_conn *c = &rf->conns[i];

		if (!c->used)
			continue;
		if (c->state == RF_C_DOWN) {
			rf_conn_open(rf, c, now);
			if (c->state == RF_C_DOWN)
				next = rf_min(next, c->retry_ns);
		}
		if ((c->inflight_api >= 0 || c->state == RF_C_CONNECTING) && now > c->deadline_ns)
			rf_conn_fail(rf, c, c->state == RF_C_CONNECTING ? "connect timed out"
									: "request timed out");
		if (c->state == RF_C_CONNECTING)
			next = rf_min(next, c->deadline_ns);
		if (c->state == RF_C_READY && c->inflight_api < 0)
			rf_fetch_send(rf, c, now);
		if (c->inflight_api >= 0)
			next = rf_min(next, c->deadline_ns);
	}
	if (rf->st_dirty) {
		st_flush(rf->st, rf->cfg.ring);
		rf->st_dirty = false;
	}
	return next;
}

static void
rf_conn_input(struct rf *rf, struct rf_conn *c, uint64_t now)
{
	const uint8_t *body;
	size_t len;

	if (c->state == RF_C_CONNECTING) {
		rf_conn_connected(rf, c);
		return;
	}
	if (c->inflight_api < 0) {
		rf_conn_fail(rf, c, "unexpected data");
		return;
	}
	if (rf_conn_read(rf, c, &body, &len) != 1)
		return;
	if (c->inflight_api == KP_API_API_VERSIONS)
		(void)rf_conn_versions(rf, c, body, len);
	else
		(void)rf_fetch_answer(rf, c, body, len, now);
}

static void
rf_drain_fd(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) == sizeof(v))
		;
}

static void
rf_wait_events(struct rf *rf, uint64_t next)
{
	struct pollfd pfd[2 + RF_CONNS_MAX];
	struct rf_conn *who[2 + RF_CONNS_MAX];
	uint64_t now = clock_mono_ns();
	int n = 2, i, ms, rc;
	uint32_t c;

	pfd[0] = (struct pollfd){ .fd = rf->wake_fd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = rf->st_fd, .events = POLLIN };
	for (c = 0; c < rf->conn_cap; c++) {
		if (!rf->conns[c].used || rf->conns[c].fd < 0)
			continue;
		short ev = rf->conns[c].state == RF_C_CONNECTING ? POLLOUT : POLLIN;

		who[n] = &rf->conns[c];
		pfd[n++] = (struct pollfd){ .fd = rf->conns[c].fd, .events = ev };
	}
	ms = next <= now ? 0 : (int)((next - now + 999999u) / 1000000u);
	rc = poll(pfd, (nfds_t)n, ms);
	if (rc <= 0)
		return;
	if (pfd[0].revents != 0)
		rf_drain_fd(rf->wake_fd);
	if (pfd[1].revents != 0)
		rf_drain_fd(rf->st_fd);
	now = clock_mono_ns();
	for (i = 2; i < n; i++)
		if (pfd[i].revents != 0 && who[i]->fd == pfd[i].fd)
			rf_conn_input(rf, who[i], now);
}

static bool
rf_turn(struct rf *rf, uint64_t *stats_ns)
{
	uint64_t now, next;
	bool stop;

	pthread_mutex_lock(&rf->lock);
	stop = rf->stop;
	rf_changes_take(rf);
	pthread_mutex_unlock(&rf->lock);
	if (stop)
		return false;
	rf_reap(rf);
	now = clock_mono_ns();
	next = rf_step(rf, now);
	pthread_mutex_lock(&rf->lock);
	rf_waiters_check(rf);
	pthread_mutex_unlock(&rf->lock);
	if (now >= *stats_ns) {
		rf_stats_publish(rf);
		*stats_ns = now + RF_STATS_EVERY_NS;
	}
	rf_wait_events(rf, rf_min(next, *stats_ns));
	return true;
}

/* Forget everything: connections closed, storage requests waited for (a
 * bounded time: an append still writing from a buffer keeps it). */
static void
rf_forget_all(struct rf *rf)
{
	uint64_t deadline = clock_mono_ns() + RF_STOP_DRAIN_NS;
	uint32_t i, pending;

	for (i = 0; i < rf->part_cap; i++)
		if (rf->parts[i].used && rf->parts[i].state != RF_GONE)
			rf_part_remove(rf, &rf->parts[i]);
	do {
		pending = 0;
		rf_reap(rf);
		for (i = 0; i < rf->part_cap; i++) {
			struct rf_part *p = &rf->parts[i];

			if (!p->used)
				continue;
			rf_part_drop_batches(p);
			if (p->pending == 0)
				(void)rf_pump(rf, p, 0);
			else
				pending += p->pending;
		}
		if (pending > 0 && rf->st_fd >= 0) {
			struct pollfd pfd = { .fd = rf->st_fd, .events = POLLIN };

			if (poll(&pfd, 1, 10) > 0)
				rf_drain_fd(rf->st_fd);
		}
	} while (pending > 0 && clock_mono_ns() < deadline);
	if (pending > 0)
		log_error("rf", "%u storage requests still pending at stop; their buffers leak",
			  pending);
}

static void *
rf_main(void *arg)
{
	struct rf *rf = arg;
	uint64_t stats_ns = 0;

	while (rf_turn(rf, &stats_ns))
		;
	pthread_mutex_lock(&rf->lock);
	rf_changes_take(rf);
	pthread_mutex_unlock(&rf->lock);
	rf_forget_all(rf);
	rf_stats_publish(rf);
	pthread_mutex_lock(&rf->lock);
	rf_waiters_check(rf);
	pthread_mutex_unlock(&rf->lock);
	return NULL;
}

/* ---- control's side ---- */

struct rf *
rf_create(struct st *st, const struct rf_config *cfg, char *err, size_t err_size)
{
	struct rf *rf = calloc(1, sizeof(*rf));

	if (rf == NULL) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	rf->st = st;
	rf->cfg = *cfg;
	rf->client_id = strdup(cfg->client_id != NULL ? cfg->client_id : "replica-fetcher");
	rf->cfg.client_id = rf->client_id;
	rf->conns = calloc(RF_CONNS_MAX, sizeof(*rf->conns));
	rf->conn_cap = RF_CONNS_MAX;
	rf->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	rf->st_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&rf->lock, NULL);
	pthread_cond_init(&rf->cond, NULL);
	if (rf->client_id == NULL || rf->conns == NULL || rf->wake_fd < 0 || rf->st_fd < 0 ||
	    cfg->fetch_max_bytes <= 0 || cfg->partition_max_bytes <= 0 ||
	    cfg->socket_timeout_ms <= 0 || cfg->backoff_ms < 0 || cfg->fetch_wait_max_ms < 0) {
		snprintf(err, err_size, "replica fetcher: %s",
			 rf->wake_fd < 0 || rf->st_fd < 0 ? strerror(errno) : "bad configuration");
		rf_destroy(rf);
		return NULL;
	}
	st_attach_core(st, cfg->ring, rf->st_fd);
	return rf;
}

int
rf_start(struct rf *rf)
{
	int rc;

	ASSERT(!rf->running);
	rf->stop = false;
	rc = pthread_create(&rf->thread, NULL, rf_main, rf);
	if (rc != 0)
		return -rc;
	rf->running = true;
	return 0;
}

void
rf_stop(struct rf *rf)
{
	if (!rf->running)
		return;
	pthread_mutex_lock(&rf->lock);
	rf->stop = true;
	pthread_mutex_unlock(&rf->lock);
	efd_kick(rf->wake_fd);
	pthread_join(rf->thread, NULL);
	rf->running = false;
}

void
rf_destroy(struct rf *rf)
{
	uint32_t i;

	if (rf == NULL)
		return;
	rf_stop(rf);
	for (i = 0; i < rf->change_count; i++)
		rf_change_free(&rf->changes[i]);
	for (i = 0; i < rf->part_cap; i++)
		if (rf->parts[i].used && rf->parts[i].pending == 0) {
			free(rf->parts[i].topic);
			free(rf->parts[i].buf);
		}
	for (i = 0; rf->conns != NULL && i < rf->conn_cap; i++) {
		if (rf->conns[i].fd > 0)
			close(rf->conns[i].fd);
		free(rf->conns[i].refs);
		free(rf->conns[i].rx);
	}
	if (rf->wake_fd >= 0)
		close(rf->wake_fd);
	if (rf->st_fd >= 0)
		close(rf->st_fd);
	pthread_mutex_destroy(&rf->lock);
	pthread_cond_destroy(&rf->cond);
	free(rf->changes);
	free(rf->stats);
	free(rf->parts);
	free(rf->conns);
	free(rf->client_id);
	free(rf);
}

static bool
rf_change_copy(struct rf_change *ch, const struct rf_partition *p)
{
	ch->p = *p;
	ch->topic = strdup(p->topic != NULL ? p->topic : "");
	ch->host = strdup(p->host != NULL ? p->host : "");
	ch->p.topic = ch->topic;
	ch->p.host = ch->host;
	if (ch->topic != NULL && ch->host != NULL)
		return true;
	rf_change_free(ch);
	return false;
}

void
rf_update(struct rf *rf, const struct rf_partition *parts, int32_t count)
{
	int32_t i;

	pthread_mutex_lock(&rf->lock);
	for (i = 0; i < count; i++) {
		if (rf->change_count == rf->change_cap) {
			uint32_t cap = rf->change_cap == 0 ? 64 : rf->change_cap * 2;
			struct rf_change *c = realloc(rf->changes, cap * sizeof(*c));

			if (c == NULL)
				break;
			rf->changes = c;
			rf->change_cap = cap;
		}
		if (rf_change_copy(&rf->changes[rf->change_count], &parts[i]))
			rf->change_count++;
		else
			log_error("rf", "out of memory: change of %s-%d lost", parts[i].topic,
				  parts[i].partition);
	}
	pthread_mutex_unlock(&rf->lock);
	efd_kick(rf->wake_fd);
}

void
rf_remove_sync(struct rf *rf, const uint8_t topic_id[16], int32_t partition)
{
	struct rf_waiter wt = { .partition = partition }, **pp;

	memcpy(wt.topic_id, topic_id, 16);
	pthread_mutex_lock(&rf->lock);
	wt.next = rf->waiters;
	rf->waiters = &wt;
	if (!rf->running) {
		/* Nothing runs: apply here (changes first, in their order). */
		uint32_t i;

		rf_changes_take(rf);
		for (i = 0; i < rf->part_cap; i++)
			if (rf->parts[i].used && rf->parts[i].state == RF_GONE &&
			    rf->parts[i].pending == 0)
				(void)rf_pump(rf, &rf->parts[i], 0);
		wt.done = true;
	}
	efd_kick(rf->wake_fd);
	while (!wt.done)
		pthread_cond_wait(&rf->cond, &rf->lock);
	for (pp = &rf->waiters; *pp != &wt; pp = &(*pp)->next)
		;
	*pp = wt.next;
	pthread_mutex_unlock(&rf->lock);
}
