/* SPDX-License-Identifier: Apache-2.0 */
/* The per-core poll loop and what it does with connections: accept, parse
 * received chunks into frames, dispatch them, queue replies in request order,
 * send, and close. Runs on one pinned thread per core: no locks, no logging,
 * no allocation except frame assembly (frame.c) and the responses protocol/
 * mallocs. Control state is reached only through dp_ctl.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include "dataplane/dp_int.h"
#include "protocol/gen/kp_api.h"

/* ---- connection lifecycle ---- */

/* The session's host: the peer's address without Java's leading "/".
 * Formatted once, at accept. */
static void
dp_core_session_host(struct conn *conn)
{
	char text[DP_PEER_TEXT_MAX];
	int len = dp_peer_format(&conn->peer, text);

	conn->session.host[0] = '\0';
	if (len > 1 && (size_t)len - 1 < sizeof(conn->session.host))
		memcpy(conn->session.host, text + 1, (size_t)len);
}

/* Take a new connection into a free table entry; NULL (counted) when the
 * table is full, and the caller refuses it. @thread dataplane */
struct conn *
dp_conn_accept(struct dp_core *core, uint8_t listener, int fd, uint32_t handle,
	       uint64_t ip_key, const struct dp_peer *peer)
{
	struct conn *conn;
	enum dp_refusal why;

	if (unlikely(core->free_count == 0)) {
		dp_stat_add(&core->stats.connections_rejected, 1);
		dp_stat_add(&core->stats.rejected_table_full, 1);
		return NULL;
	}
	why = dp_limits_admit(core, ip_key);
	if (unlikely(why != DP_ADMITTED)) {
		dp_stat_add(&core->stats.connections_rejected, 1);
		dp_stat_add(why == DP_REFUSED_MAX ? &core->stats.rejected_max
						  : &core->stats.rejected_per_ip, 1);
		return NULL;
	}
	conn = &core->conns[core->free_ids[--core->free_count]];
	conn_open(conn, fd);
	conn->handle = handle;
	conn->ip_key = ip_key;
	conn->peer = *peer;
	ASSERT_HOT(listener < core->dp->listener_count);
	kp_session_init(&conn->session, listener, core->dp->listeners[listener].protocol);
	dp_core_session_host(conn);
	if (unlikely(!dp_tls_conn_open(core, conn))) {
		/* No TLS context or no memory: refused like a full table. */
		dp_stat_add(&core->stats.connections_rejected, 1);
		conn_reset(conn, dp_pieces_release, core);
		dp_limits_release(core, ip_key);
		core->free_ids[core->free_count++] = conn->id;
		return NULL;
	}
	conn->admitted = true;
	conn->active_ns = core->turn_ns;
	dp_stat_add(&core->stats.connections_accepted, 1);
	dp_stat_add(&core->stats.connections_open, 1);
	dp_list_add(&core->arm, conn);
	return conn;
}

static void dp_frame_tag_release(struct dp_core *core, uint64_t tag);

/* Cancel the conn's requests that wait on storage: a long poll stops at
 * once; one that storage still works on finishes in kp_core_poll() and is
 * dropped there (dp_core_done). */
static void
dp_conn_cancel_waiting(struct dp_core *core, struct conn *conn)
{
	if (conn->waiting == 0 || core->kc == NULL)
		return;
	for (uint32_t seq = conn->seq_head; seq != conn->seq_next; seq++) {
		struct kp_done done;

		if (!conn_slot_pending(conn, seq))
			continue;
		if (!kp_core_cancel(core->kc, (uint32_t)dp_slot_index(core, conn, seq), &done))
			continue;
		ASSERT(conn->waiting > 0);
		conn->waiting--;
		dp_stat_add(&core->stats.requests_waiting, (uint64_t)-1);
		if (done.frame_kept)
			dp_frame_tag_release(core, done.frame_tag);
	}
}

/* Start closing: no more reads or dispatches, late control replies drop
 * (generation bump), received chunks go back to the buffer ring. The entry
 * is freed at the end of the turn once no recv or send is outstanding.
 * @thread dataplane */
void
dp_conn_close(struct dp_core *core, struct conn *conn)
{
	if (!conn->open)
		return;
	conn->open = false;
	conn->gen++;
	dp_conn_cancel_waiting(core, conn);
	core->net->shutdown(core, conn);
	while (conn->rx_head != CONN_BUF_NONE) {
		uint16_t bid = conn->rx_head;

		conn->rx_head = core->buf_next[bid];
		dp_buf_parsed(core, bid);
	}
	conn->rx_tail = CONN_BUF_NONE;
	dp_stat_add(&core->stats.connections_closed, 1);
	dp_stat_add(&core->stats.connections_open, (uint64_t)-1);
	dp_conn_ops_check(core, conn);
}

void
dp_conn_eof(struct dp_core *core, struct conn *conn)
{
	if (!conn->open)
		return;
	conn->eof = true;
	dp_list_add(&core->rx, conn);
}

/* A closing conn with nothing outstanding in the kernel can be freed. */
void
dp_conn_ops_check(struct dp_core *core, struct conn *conn)
{
	ASSERT_HOT(!conn->open);
	if (conn->recv == CONN_RECV_IDLE && !conn->send_busy && conn->fd >= 0 &&
	    conn->waiting == 0)
		dp_list_add(&core->closed, conn);
}

/* Append a received chunk to the conn's list of unparsed chunks. */
void
dp_conn_rx_push(struct dp_core *core, struct conn *conn, uint16_t bid, uint32_t len)
{
	ASSERT_HOT(len <= DP_RX_BUF_BYTES);
	conn->active_ns = core->turn_ns;
	core->buf_len[bid] = len;
	core->buf_next[bid] = CONN_BUF_NONE;
	if (conn->rx_tail == CONN_BUF_NONE)
		conn->rx_head = bid;
	else
		core->buf_next[conn->rx_tail] = bid;
	conn->rx_tail = bid;
	dp_list_add(&core->rx, conn);
}

/* ---- frame memory held by pending requests ---- */

void
dp_buf_parsed(struct dp_core *core, uint16_t bid)
{
	if (core->buf_refs[bid] > 0) {
		core->buf_parsed[bid] = true;   /* returned by the last release */
		return;
	}
	core->net->buf_put(core, bid);
}

static void
dp_frame_tag_release(struct dp_core *core, uint64_t tag)
{
	uint16_t bid;

	if (!tag_frame_is_buf(tag)) {
		free(tag_frame_ptr(tag));
		return;
	}
	bid = tag_frame_bid(tag);
	ASSERT(bid < core->buf_count && core->buf_refs[bid] > 0);
	if (--core->buf_refs[bid] > 0)
		return;
	core->bufs_pinned--;
	if (core->buf_parsed[bid]) {
		core->buf_parsed[bid] = false;
		core->net->buf_put(core, bid);
	}
}

void
dp_pieces_release(void *arg, struct kp_piece *pieces, uint32_t count)
{
	struct dp_core *core = arg;

	ASSERT(core->kc != NULL);
	kp_core_pieces_release(core->kc, pieces, count);
}

/* Count a finished request under its api_key, with its latency since
 * dispatch. Only counters are bumped here: control formats them. */
static void
dp_req_done(struct dp_core *core, const struct conn *conn, uint32_t seq, bool failed)
{
	size_t i = dp_slot_index(core, conn, seq);
	int16_t api = core->slot_api[i];
	struct dp_api_stats *a;

	if (api < 0 || api >= DP_API_KEYS)
		return;
	a = &core->api[api];
	dp_stat_add(&a->requests, 1);
	if (failed)
		dp_stat_add(&a->errors, 1);
	hist_add(&a->latency, clock_mono_ns() - core->slot_t0[i]);
}

/* How a request ended, for dp_req_finish(). */
enum dp_req_end {
	DP_REQ_REPLY,           /* resp (and pieces) go out in the request's turn */
	DP_REQ_NO_REPLY,        /* nothing to send (acks=0) */
	DP_REQ_FAILED,          /* the conn closes */
};

/* The one place a request of an open conn completes, whether answered at
 * dispatch, after storage (dp_core_done) or by control (dp_core_ctl_apply):
 * count it per API, then fill its reply slot in order, or close the conn.
 * The slot takes resp and pieces; FAILED and NO_REPLY pass none. */
static void
dp_req_finish(struct dp_core *core, struct conn *conn, uint32_t seq, enum dp_req_end end,
	      struct kp_buf resp, struct kp_piece *pieces, uint32_t piece_count)
{
	dp_req_done(core, conn, seq, end == DP_REQ_FAILED);
	if (end == DP_REQ_FAILED) {
		dp_conn_close(core, conn);
		return;
	}
	conn_slot_done(conn, seq, resp.data, resp.len, pieces, piece_count);
	dp_list_add(&core->tx, conn);
}

static const struct kp_buf dp_no_resp;

/* A client quota throttled conn's request: its reply goes out as usual,
 * and then nothing more is read from the conn for throttle_ms (KIP-219's
 * channel mute), so a throttled client holds no more memory than its
 * stash of bytes already received. */
static void
dp_conn_mute(struct dp_core *core, struct conn *conn, int32_t throttle_ms)
{
	uint64_t until;

	if (throttle_ms <= 0 || !conn->open)
		return;
	until = clock_mono_ns() + (uint64_t)throttle_ms * 1000000u;
	conn->mute_until_ns = MAX(conn->mute_until_ns, until);
	core->mute_next_ns = MIN(core->mute_next_ns, conn->mute_until_ns);
}

/* Resume the conns whose mute ended, once the earliest one did: a scan of
 * the table, only while quotas throttle someone. */
static void
dp_core_unmute(struct dp_core *core)
{
	uint64_t next = UINT64_MAX;

	if (core->turn_ns < core->mute_next_ns)
		return;
	for (uint32_t id = 0; id < core->conn_count; id++) {
		struct conn *conn = &core->conns[id];

		if (conn->mute_until_ns == 0)
			continue;
		if (conn->open && conn->mute_until_ns > core->turn_ns) {
			next = MIN(next, conn->mute_until_ns);
			continue;
		}
		conn->mute_until_ns = 0;
		if (conn->open) {
			dp_list_add(&core->rx, conn);
			dp_list_add(&core->arm, conn);
		}
	}
	core->mute_next_ns = next;
}

/* A request that waited on storage finished: fill its slot, or drop the
 * reply when its connection closed meanwhile. */
static void
dp_core_done(struct dp_core *core, struct kp_done *done)
{
	uint32_t id = tag_reply_conn(done->tag);
	struct conn *conn = &core->conns[id];
	bool ours;

	ASSERT(id < core->conn_count);
	if (done->frame_kept)
		dp_frame_tag_release(core, done->frame_tag);
	/* The entry is not reused while it has records waiting, so id names
	 * this request's conn, open or closing. */
	ASSERT(conn->waiting > 0);
	conn->waiting--;
	dp_stat_add(&core->stats.requests_waiting, (uint64_t)-1);
	ours = conn->open && tag_reply_gen_of(conn->gen) == tag_reply_gen(done->tag);
	if (!ours || done->verdict == KP_VERDICT_CLOSE) {
		free(done->resp.data);
		if (done->piece_count > 0)
			dp_pieces_release(core, done->pieces, done->piece_count);
		if (!conn->open)
			dp_conn_ops_check(core, conn);
		else if (ours)
			dp_req_finish(core, conn, tag_reply_seq(done->tag, conn->seq_head),
				      DP_REQ_FAILED, dp_no_resp, NULL, 0);
		return;
	}
	dp_conn_mute(core, conn, done->throttle_ms);
	if (done->verdict == KP_VERDICT_REPLY) {
		uint32_t seq = tag_reply_seq(done->tag, conn->seq_head);
		struct dp_slot_stage *ss = &core->slot_stage[dp_slot_index(core, conn, seq)];

		ss->count = done->stage_count;
		ss->acks = done->stage_acks;
		ss->done_ns = done->stage_done_ns;
		dp_req_finish(core, conn, seq, DP_REQ_REPLY, done->resp, done->pieces,
			      done->piece_count);
	}
	else
		dp_req_finish(core, conn, tag_reply_seq(done->tag, conn->seq_head),
			      DP_REQ_NO_REPLY, dp_no_resp, NULL, 0);
}

/* Finish requests whose storage work completed. */
static void
dp_core_storage(struct dp_core *core, const struct kp_env *env)
{
	struct kp_done done[64];
	unsigned n;

	if (core->kc == NULL)
		return;
	/* At most a few bursts per turn: what is left waits for the next turn
	 * (kp_core_deadline() then says so), after the other conns. */
	for (int round = 0; round < 2; round++) {
		n = kp_core_poll(core->kc, env, clock_mono_ns(), done, ARRAY_LEN(done));
		for (unsigned i = 0; i < n; i++)
			dp_core_done(core, &done[i]);
		if (n < ARRAY_LEN(done))
			break;
	}
	core->storage_more = n == ARRAY_LEN(done);
}

/* Apply one message from control to its connection, or drop it (freeing the
 * buffer) when the connection was closed since (generation mismatch). */
static void
dp_core_ctl_apply(struct dp_core *core, struct dp_msg *msg)
{
	struct dp_slot_throttle *th;
	struct conn *conn;

	ASSERT(msg->conn_id < core->conn_count);
	conn = &core->conns[msg->conn_id];
	if (conn->gen != msg->conn_gen || !conn->open) {
		free(msg->buf.data);
		return;
	}
	th = &core->slot_throttle[dp_slot_index(core, conn, msg->seq)];
	switch (msg->type) {
	case DP_MSG_REPLY_AUTH:
		dp_sasl_apply(core, conn, msg->buf.data + msg->buf.len);
		__attribute__((fallthrough));   /* then the reply itself */
	case DP_MSG_REPLY:
		ASSERT(msg->buf.data != NULL && msg->buf.len >= 4);
		kp_throttle_raise(&msg->buf, th->site, th->ms);
		dp_req_finish(core, conn, msg->seq, DP_REQ_REPLY, msg->buf, NULL, 0);
		dp_conn_mute(core, conn, th->ms);
		break;
	case DP_MSG_NO_REPLY:
		free(msg->buf.data);
		dp_req_finish(core, conn, msg->seq, DP_REQ_NO_REPLY, dp_no_resp, NULL, 0);
		dp_conn_mute(core, conn, th->ms);
		break;
	case DP_MSG_CLOSE:
		free(msg->buf.data);
		dp_req_finish(core, conn, msg->seq, DP_REQ_FAILED, dp_no_resp, NULL, 0);
		break;
	default:
		PANIC("bad dp_msg type from control");
	}
}

/* Apply what control answered. */
static void
dp_core_ctl(struct dp_core *core)
{
	struct dp_msg msg;

	while (dp_ctl_pop(core, &msg))
		dp_core_ctl_apply(core, &msg);
}

/* ---- frames -> dispatch ---- */

/* Frames one conn may dispatch per loop turn: a client pipelining costly
 * requests (Metadata, Fetch over many partitions) waits its turn behind
 * the others instead of holding the core for all of its in-flight ones. */
#define DP_FRAMES_PER_TURN 2u
/* Frames all conns together dispatch per loop turn, so a turn stays short
 * however many conns flood the core (the rest go first next turn). Every
 * hop of another client's request (parse, storage completion, reply, a
 * consumer's wake) waits up to a turn: with 150 conns pipelining Metadata,
 * 256 per turn gave a bystander's produce->consume p99 25-49 ms, 64 gives
 * 6-13 ms (tests/hostile/test_unread_responses.py). */
#define DP_FRAMES_PER_LOOP 64u

/* Remember when a request was dispatched and its api_key (the frame's
 * first two bytes, big-endian; -1 when the frame is too short). */
static void
dp_req_start(struct dp_core *core, const struct conn *conn, uint32_t seq,
	     const struct frame *frame)
{
	size_t i = dp_slot_index(core, conn, seq);

	core->slot_api[i] = frame->len >= 2 ? (int16_t)(frame->data[0] << 8 | frame->data[1])
					    : -1;
	core->slot_t0[i] = clock_mono_ns();
	core->slot_stage[i].count = 0;
}

/* Dispatch one frame and act on the verdict. Returns false if the conn was
 * closed. */
static bool
dp_core_dispatch(struct dp_core *core, struct kp_env *env, struct conn *conn,
		 struct frame *frame, uint16_t bid)
{
	struct kp_out out;
	uint32_t seq = conn_slot_open(conn);

	memset(&out, 0, sizeof(out));
	dp_stat_add(&core->stats.requests, 1);
	dp_req_start(core, conn, seq, frame);
	env->tag = tag_reply(conn->gen, conn->id, seq);
	env->frame_tag = frame->owned != NULL ? tag_frame_heap(frame->owned) : tag_frame_buf(bid);
	env->slot = (uint32_t)dp_slot_index(core, conn, seq);
	env->conn = conn->id;
	env->session = &conn->session;
	env->t0_ns = core->slot_t0[env->slot];  /* the frame is complete: stages start */
	/* A request that waits keeps its frame by reference when the frame is
	 * its own heap copy, or a Produce (storage writes the batches from
	 * it) while most chunks are free; else it copies what it needs and
	 * the chunk goes back at once. */
	env->frame_keep = frame->owned != NULL ||
			  (core->slot_api[env->slot] == KP_API_PRODUCE && bid != CONN_BUF_NONE &&
			   core->bufs_pinned < core->buf_count / 4);
	switch (kp_dispatch(env, frame->data, frame->len, &out)) {
	case KP_VERDICT_REPLY:
		ASSERT_HOT(out.resp.data != NULL && out.resp.len >= 4);
		dp_req_finish(core, conn, seq, DP_REQ_REPLY, out.resp, NULL, 0);
		dp_conn_mute(core, conn, out.throttle_ms);
		return true;
	case KP_VERDICT_NO_REPLY:
		dp_req_finish(core, conn, seq, DP_REQ_NO_REPLY, dp_no_resp, NULL, 0);
		dp_conn_mute(core, conn, out.throttle_ms);
		return true;
	case KP_VERDICT_PENDING:
		dp_conn_mute(core, conn, out.throttle_ms);   /* again once answered */
		conn->waiting++;
		dp_stat_add(&core->stats.requests_waiting, 1);
		conn_slot_hold(conn, seq, out.held_bytes);
		if (!out.frame_kept)
			return true;
		/* The frame's memory now belongs to the request (dp_core_done). */
		if (frame->owned != NULL)
			frame->owned = NULL;
		else if (core->buf_refs[bid]++ == 0)
			core->bufs_pinned++;
		return true;
	case KP_VERDICT_FORWARD:
		core->slot_throttle[env->slot].ms = out.throttle_ms;
		core->slot_throttle[env->slot].site = out.throttle_site;
		if (likely(dp_ctl_forward(core, conn, seq, &out.fwd)))
			return true;
		free(out.fwd.data);
		break;
	case KP_VERDICT_CLOSE:
	default:
		dp_stat_add(&core->stats.protocol_errors, 1);
		break;
	}
	dp_req_finish(core, conn, seq, DP_REQ_FAILED, dp_no_resp, NULL, 0);
	return false;
}

/* Move every received byte not yet parsed into the conn's heap stash and
 * give the chunks back: a conn stopped by its in-flight limit must not hold
 * provided buffers that every other conn on the core needs. */
void
dp_conn_stash(struct dp_core *core, struct conn *conn)
{
	uint32_t old = conn->stash_len - conn->stash_off;
	uint32_t total = old;
	uint8_t *stash;
	uint16_t bid;

	if (conn->tls != NULL) {        /* chunks are ciphertext: into the SSL */
		(void)dp_tls_conn_feed(core, conn, true);
		return;
	}
	for (bid = conn->rx_head; bid != CONN_BUF_NONE; bid = core->buf_next[bid])
		total += core->buf_len[bid] - (bid == conn->rx_head ? conn->rx_off : 0);
	if (total == old)
		return;
	stash = malloc(total);
	if (stash == NULL) {
		dp_conn_close(core, conn);
		return;
	}
	if (old > 0)
		memcpy(stash, conn->stash + conn->stash_off, old);
	total = old;
	while (conn->rx_head != CONN_BUF_NONE) {
		uint32_t off = conn->rx_off;

		bid = conn->rx_head;
		memcpy(stash + total, dp_buf(core, bid) + off, core->buf_len[bid] - off);
		total += core->buf_len[bid] - off;
		conn->rx_head = core->buf_next[bid];
		conn->rx_off = 0;
		dp_buf_parsed(core, bid);
	}
	conn->rx_tail = CONN_BUF_NONE;
	free(conn->stash);
	conn->stash = stash;
	conn->stash_len = total;
	conn->stash_off = 0;
}

/* The frame's SASL step, then its dispatch; releases the frame. Returns
 * false if the conn was closed. */
static bool
dp_core_frame_go(struct dp_core *core, struct kp_env *env, struct conn *conn,
		 struct frame *frame, uint16_t bid)
{
	bool ok;

	if (unlikely(conn->sasl_flags != 0 || conn->auth_expire_ns != 0) &&
	    !dp_sasl_frame(core, conn, frame)) {
		frame_release(frame);
		dp_conn_close(core, conn);
		return false;
	}
	ok = dp_core_dispatch(core, env, conn, frame, bid);
	frame_release(frame);
	return ok;
}

/* Set a Metadata request aside until every earlier reply is out (see
 * conn->held): a heap copy, the frame released. Returns false if the
 * conn was closed (no memory). */
static bool
dp_core_hold(struct dp_core *core, struct conn *conn, struct frame *frame)
{
	uint8_t *copy = frame->owned;

	if (copy == NULL) {
		copy = malloc(frame->len);
		if (copy == NULL) {
			dp_conn_close(core, conn);
			return false;
		}
		memcpy(copy, frame->data, frame->len);
	}
	frame->owned = NULL;
	conn->held = copy;
	conn->held_len = frame->len;
	frame_release(frame);
	return true;
}

/* The held Metadata request once its turn came: nothing earlier unsent.
 * Returns false if the conn was closed. */
static bool
dp_core_held_go(struct dp_core *core, struct kp_env *env, struct conn *conn)
{
	struct frame frame = {.data = conn->held, .len = conn->held_len, .owned = conn->held};

	conn->held = NULL;
	conn->held_len = 0;
	return dp_core_frame_go(core, env, conn, &frame, CONN_BUF_NONE);
}

/* Parse and dispatch one frame from [*pos, end); false if the conn closed.
 * bid: the chunk the bytes are in, CONN_BUF_NONE for the stash (whose
 * frames are copied out, since the stash is freed once parsed). */
static bool
dp_core_parse_one(struct dp_core *core, struct kp_env *env, struct conn *conn,
		  const uint8_t **pos, const uint8_t *end, uint16_t bid)
{
	struct frame frame;
	enum frame_result r = frame_next(&conn->frx, pos, end, &frame);

	if (r == FRAME_MORE)
		return true;
	if (r != FRAME_READY) {
		dp_stat_add(&core->stats.protocol_errors, 1);
		dp_conn_close(core, conn);
		return false;
	}
	/* TLS plaintext stays put until parsed in full, and a request kept
	 * waiting copies what it needs (frame_keep is false): in place. */
	if (bid == CONN_BUF_NONE && frame.owned == NULL && conn->tls == NULL) {
		frame.owned = malloc(frame.len);
		if (frame.owned == NULL) {
			dp_conn_close(core, conn);
			return false;
		}
		memcpy(frame.owned, frame.data, frame.len);
		frame.data = frame.owned;
	}
	if (unlikely(frame.len >= 2 && frame.data[0] == 0 && frame.data[1] == KP_API_METADATA) &&
	    conn_inflight(conn) > 0)
		return dp_core_hold(core, conn, &frame);
	return dp_core_frame_go(core, env, conn, &frame, bid);
}

/* Parse and dispatch the conn's stash, then its chunks, until they run out
 * or the in-flight limit is reached; in the latter case stash the rest and
 * stop the recv so the socket, not this process, buffers what comes next. */
static bool
dp_core_rx_conn(struct dp_core *core, struct kp_env *env, struct conn *conn)
{
	uint32_t budget = DP_FRAMES_PER_TURN;
	bool more;

	if (unlikely(conn->held != NULL) && conn->open && conn_inflight(conn) == 0 &&
	    conn->mute_until_ns == 0) {
		if (!dp_core_held_go(core, env, conn))
			return false;
		budget--;
	}
	/* A large frame received in place: hand it out (an empty range). */
	if (conn->open && frame_rx_complete(&conn->frx) && conn_can_dispatch(conn)) {
		const uint8_t *none = conn->frx.body;

		if (!dp_core_parse_one(core, env, conn, &none, none, CONN_BUF_NONE))
			return false;
		budget--;
	}
	while (conn->open && conn_can_dispatch(conn) && budget > 0) {
		const uint8_t *pos, *end;

		/* TLS: the stash is refilled with plaintext as it empties. */
		if (conn->stash == NULL && (conn->tls == NULL || !dp_tls_conn_rx(core, conn)))
			break;
		pos = conn->stash + conn->stash_off;
		end = conn->stash + conn->stash_len;
		if (!dp_core_parse_one(core, env, conn, &pos, end, CONN_BUF_NONE))
			return false;
		budget--;
		conn->stash_off = (uint32_t)(pos - conn->stash);
		if (pos == end) {
			if (conn->tls == NULL)
				free(conn->stash);
			conn->stash = NULL;
			conn->stash_len = 0;
			conn->stash_off = 0;
		}
	}
	while (conn->open && conn->tls == NULL && conn->stash == NULL &&
	       conn->rx_head != CONN_BUF_NONE &&
	       conn_can_dispatch(conn) && budget > 0) {
		uint16_t bid = conn->rx_head;
		const uint8_t *base = dp_buf(core, bid);
		const uint8_t *pos = base + conn->rx_off;
		const uint8_t *end = base + core->buf_len[bid];

		if (!dp_core_parse_one(core, env, conn, &pos, end, bid))
			return false;   /* closed: chunks already returned */
		budget--;
		conn->rx_off = (uint32_t)(pos - base);
		if (pos == end) {       /* chunk used up */
			conn->rx_head = core->buf_next[bid];
			if (conn->rx_head == CONN_BUF_NONE)
				conn->rx_tail = CONN_BUF_NONE;
			conn->rx_off = 0;
			dp_buf_parsed(core, bid);
		}
	}
	if (conn->open && conn->eof && conn->rx_head == CONN_BUF_NONE && conn->stash == NULL &&
	    conn->held == NULL &&
	    (conn->tls == NULL || (!conn->tls->deferred && (!dp_tls_rx_more(conn->tls) ||
				   (budget > 0 && conn_can_dispatch(conn)))))) {
		dp_conn_close(core, conn);      /* every received request went out */
		return false;
	}
	/* Out of budget with frames left: the next turn, after the others. */
	more = conn->open && budget == 0 && conn_can_dispatch(conn) &&
	       (conn->stash != NULL || conn->rx_head != CONN_BUF_NONE ||
		(conn->tls != NULL && dp_tls_rx_more(conn->tls)));
	more = more || (conn->open && conn->tls != NULL && conn->tls->deferred);
	if (conn->open) {
		core->net->rx_after(core, conn);
		/* Reads stopped for a backlog resume once it is parsed. */
		if (conn->recv == CONN_RECV_IDLE && !more)
			dp_list_add(&core->arm, conn);
	}
	return more;
}

static void
dp_core_rx(struct dp_core *core, struct kp_env *env)
{
	uint64_t start = core->stats.requests;
	uint32_t i, kept = 0, left;

	/* Conns left with frames (their budget ran out) and conns this turn's
	 * budget did not reach stay listed for the next turn: those not
	 * reached first, so every conn gets its turn. A conn is reached only
	 * while the ring to control has room for all its frames of the turn
	 * (backpressure, dp_ctl.c). */
	dp_ctl_room(core);
	core->tls_steps_left = DP_TLS_HANDSHAKES_PER_TURN;
	for (i = 0; i < core->rx.count && core->stats.requests - start < DP_FRAMES_PER_LOOP &&
		    core->ctl_room >= DP_FRAMES_PER_TURN; i++) {
		uint32_t id = core->rx.ids[i];
		struct conn *conn = &core->conns[id];

		conn->lists &= ~CONN_ON_RX;
		if (dp_core_rx_conn(core, env, conn) && !(conn->lists & CONN_ON_RX)) {
			conn->lists |= CONN_ON_RX;
			core->rx_spare[kept++] = id;
		}
	}
	left = core->rx.count - i;
	memmove(core->rx.ids, core->rx.ids + i, sizeof(*core->rx.ids) * left);
	for (uint32_t k = 0; k < kept; k++) {
		if (core->conns[core->rx_spare[k]].lists & CONN_ON_RX)
			core->rx.ids[left++] = core->rx_spare[k];
	}
	core->rx.count = left;
}

/* ---- tx, arming, freeing ---- */

/* Send the contiguous ready prefix of each conn's reply queue, one sendmsg
 * per conn; empty (no-reply) slots at the head are released first. */
void
dp_conn_sent(struct dp_core *core, struct conn *conn, uint32_t bytes)
{
	if (conn->tls != NULL && bytes > 0) {   /* ciphertext */
		dp_tls_conn_sent(core, conn, bytes);
		return;
	}
	if (bytes > 0)
		conn->active_ns = core->turn_ns;
	if (conn_tx_done(conn, bytes, dp_pieces_release, core) > 0) {
		/* The in-flight count dropped: parsing and reading may resume. */
		dp_list_add(&core->rx, conn);
		dp_list_add(&core->arm, conn);
	}
}

/* The replies about to go out (the ready prefix of conn's queue) end their
 * Produce's send and total stages; *now_ns is read once per tx pass, on
 * the first reply that has stages. */
static void
dp_core_tx_stages(struct dp_core *core, const struct conn *conn, uint64_t *now_ns)
{
	for (uint32_t seq = conn->seq_head; seq != conn->seq_next; seq++) {
		size_t i = dp_slot_index(core, conn, seq);
		struct dp_slot_stage *ss = &core->slot_stage[i];

		if (conn->slots[seq & conn->slot_mask].state != CONN_SLOT_DONE)
			break;
		if (ss->count == 0)
			continue;
		if (*now_ns == 0)
			*now_ns = clock_mono_ns();
		stage_add_n(&core->stages, ss->acks, STAGE_SEND, ss->done_ns, *now_ns, ss->count);
		stage_add_n(&core->stages, ss->acks, STAGE_TOTAL, core->slot_t0[i], *now_ns,
			    ss->count);
		ss->count = 0;
	}
}

static void
dp_core_tx(struct dp_core *core)
{
	struct conn_tx tx;
	uint64_t now_ns = 0;
	uint32_t i;

	for (i = 0; i < core->tx.count; i++) {
		struct conn *conn = &core->conns[core->tx.ids[i]];

		conn->lists &= ~CONN_ON_TX;
		if (!conn->open || conn->send_busy)
			continue;       /* the send completion re-lists it */
		dp_conn_sent(core, conn, 0);    /* release no-reply slots at the head */
		if (unlikely(conn->sasl_flags & CONN_SASL_CLOSE) && conn_inflight(conn) == 0 &&
		    (conn->tls == NULL || dp_tls_conn_drained(conn))) {
			dp_conn_close(core, conn);      /* a failed SASL exchange, answered */
			continue;
		}
		if (conn->tls != NULL) {
			dp_core_tx_stages(core, conn, &now_ns);
			dp_tls_conn_tx(core, conn);
			continue;
		}
		for (;;) {
			uint64_t queued = conn->tx_queued;

			conn_tx_prepare(conn, conn->iov, CONN_IOV_MAX, &tx);
			if (tx.iov_count > 0) {
				dp_core_tx_stages(core, conn, &now_ns);
				core->net->send(core, conn, tx.iov_count);
				/* dpdk queues synchronously: what follows (a file
				 * region) goes now, not after the peer's ACK. */
				if (conn->open && !conn->send_busy && conn->tx_queued > queued)
					continue;
			} else if (tx.file_fd >= 0 &&
				   core->net->send_file(core, conn, tx.file_fd, tx.file_pos,
							tx.file_len) != 0) {
				dp_conn_close(core, conn);
			}
			break;
		}
	}
	core->tx.count = 0;
}

/* Free closed entries whose kernel operations have all completed. */
static void
dp_core_free_closed(struct dp_core *core)
{
	uint32_t i;

	for (i = 0; i < core->closed.count; i++) {
		struct conn *conn = &core->conns[core->closed.ids[i]];

		conn->lists &= ~CONN_ON_CLOSED;
		ASSERT(!conn->open && conn->recv == CONN_RECV_IDLE && !conn->send_busy);
		core->net->release(core, conn);
		dp_tls_conn_free(conn);
		conn_reset(conn, dp_pieces_release, core);
		if (conn->admitted)
			dp_limits_release(core, conn->ip_key);
		conn->admitted = false;
		core->free_ids[core->free_count++] = conn->id;
	}
	core->closed.count = 0;
}

/* Exit path: close every socket and free every reply (the backend's
 * teardown cancels whatever is still outstanding). */
static void
dp_core_close_all(struct dp_core *core)
{
	uint32_t id;

	for (id = 0; id < core->conn_count; id++) {
		struct conn *conn = &core->conns[id];

		if (conn->fd < 0)
			continue;
		dp_conn_close(core, conn);
		core->net->release(core, conn);
		conn->recv = CONN_RECV_IDLE;
		dp_tls_conn_free(conn);
		conn_reset(conn, dp_pieces_release, core);
		if (conn->admitted)
			dp_limits_release(core, conn->ip_key);
		conn->admitted = false;
	}
}

/* The loop: reap completions -> frames -> dispatch -> control replies -> tx
 * -> arm -> wake control -> quiescent state -> submit once and wait.
 * @thread dataplane */
void *
dp_core_main(void *arg)
{
	struct dp_core *core = arg;
	struct dp *dp = core->dp;
	struct kp_env env = { .request_bytes_max = dp->cfg.request_bytes_max, .kc = core->kc,
			      .stages = &core->stages };

	int rc;

	rcu_register_thread();
	/* An operating error, not a bug: the core reports it and exits, and
	 * dp_start() logs it and fails the startup instead of an abort. */
	rc = core->net->enable(core);
	__atomic_store_n(&core->enable_rc, rc < 0 ? rc : 0, __ATOMIC_RELEASE);
	if (rc < 0) {
		core->net->leave(core);
		rcu_unregister_thread();
		return NULL;
	}
	/* Acquire pairs with the release store in dp_stop(). */
	while (!__atomic_load_n(&dp->stop, __ATOMIC_ACQUIRE)) {
		env.md = rcu_dereference(dp->md);
		core->turn_ns = clock_mono_ns();
		core->net->reap(core);
		dp_core_unmute(core);
		dp_core_rx(core, &env);
		dp_core_storage(core, &env);
		dp_core_ctl(core);
		dp_core_tx(core);
		core->net->arm(core);
		dp_limits_expire(core, core->turn_ns);
		dp_tls_conn_expire(core);
		dp_core_free_closed(core);
		dp_ctl_notify(core);
		if (core->kc != NULL)
			kp_core_flush(core->kc);
		rcu_quiescent_state();
		/* Block unless tx released slots and left chunks to parse. */
		core->net->wait(core, core->rx.count == 0 && !core->storage_more,
				MIN(core->kc != NULL ? kp_core_deadline(core->kc) : UINT64_MAX,
				    core->mute_next_ns));
	}
	dp_core_close_all(core);
	core->net->leave(core);
	rcu_unregister_thread();
	return NULL;
}
