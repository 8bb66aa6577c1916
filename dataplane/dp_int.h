/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to dataplane/: the per-core state, the dp handle, and the calls
 * between dp.c (lifecycle), dp_core.c (loop), dp_uring.c (io_uring) and
 * dp_ctl.c (control rings, metadata). Must not be included from outside
 * dataplane/ (tests excepted). */
#ifndef DATAPLANE_DP_INT_H
#define DATAPLANE_DP_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <liburing.h>

#include "common/assert.h"
#include "common/clock.h"
#include "common/compiler.h"
#include "common/spsc.h"
#include "common/tag.h"
#include "dataplane/conn.h"
#include "dataplane/dp.h"
#include "dataplane/dp_tls.h"

/* Provided receive buffers, per core: DP_RX_BUF_COUNT x DP_RX_BUF_BYTES
 * (8 MiB). 16 KiB holds most non-produce requests whole, so they dispatch in
 * place; 512 of them let ~500 connections each have one recv in the pipe. */
#define DP_RX_BUF_BYTES 16384u
#define DP_RX_BUF_COUNT 512u
#define DP_RX_BGID 0
/* SQ entries per core; the CQ is twice that and overflows into the kernel's
 * backlog (IORING_FEAT_NODROP) rather than losing completions. */
#define DP_URING_ENTRIES 1024u
/* Upper bound on each control ring (dp_msg slots, 32 bytes each). */
#define DP_CTL_RING_MAX 65536u
/* Longest sleep in submit-and-wait: stop requests also wake the core. */
#define DP_WAIT_NS 100000000ll
/* Back-off before re-arming accept after it failed (EMFILE, ENFILE, ENOMEM). */
#define DP_ACCEPT_RETRY_NS 100000000ull
/* dp_core.enable_rc before the core thread has reported (not an -errno). */
#define DP_ENABLE_PENDING 1

STATIC_ASSERT((DP_RX_BUF_COUNT & (DP_RX_BUF_COUNT - 1)) == 0,
	      "buffer ring entries are a power of two");
STATIC_ASSERT(DP_RX_BUF_COUNT < CONN_BUF_NONE, "buffer ids fit in uint16_t");
STATIC_ASSERT(sizeof(struct dp_msg) == 32, "dp_msg stays two per cache line");

SPSC_PROTOTYPE(dp_msg, dp_msg)

/* io_uring user_data (tag_ud()): the op and the conn id (or 0). */
enum dp_op {
	DP_OP_ACCEPT = 1,
	DP_OP_RECV = 2,
	DP_OP_SEND = 3,
	DP_OP_WAKE = 4,
	DP_OP_CANCEL = 5,
	DP_OP_SPLICE_IN = 6,    /* file -> conn pipe */
	DP_OP_SPLICE_OUT = 7,   /* conn pipe -> socket */
	DP_OP_RECV_DIRECT = 8,  /* recv into a large frame's assembly buffer */
	DP_OP_POLLOUT = 9,      /* socket writable again (linked to a splice) */
	DP_OP_FILE_READ = 10,   /* dpdk: file region -> hugepage block */
	DP_OP_TLS_READ = 11,    /* TLS: a file region slice that missed the cache */
	DP_OP_TLS_RECV = 12,    /* TLS: a large frame's ciphertext, one plain recv */
};

/* A frame body missing at least this much is received in place (one plain
 * recv into its own buffer) rather than copied out of provided buffers. */
#define DP_DIRECT_RECV_MIN DP_RX_BUF_BYTES

/* Bytes moved into a conn's pipe per splice (the pipe is sized to it). */
#define DP_PIPE_BYTES (1u << 20)

/* A frame tag (kp_env.frame_tag, common/tag.h) says which memory a pending
 * request's frame lives in: a provided buffer whose return to the kernel
 * waits for the request, or a heap copy to free. */

static inline uint64_t
dp_ud(enum dp_op op, uint32_t id)
{
	return tag_ud(op, id);
}

struct dp_core;

/* A network backend: how a core gets bytes in and out (io_uring sockets or
 * DPDK with utcp). dp_core.c runs the same loop over either; the backend
 * feeds it accepted conns (dp_conn_accept), received chunks
 * (dp_conn_rx_push, memory at core->buf_ptr[bid]), sent bytes
 * (dp_conn_sent) and closes (dp_conn_close). */
struct dp_net {
	const char *name;
	/* Per-core setup and teardown. @thread control */
	int (*core_init)(struct dp_core *core);
	void (*core_fini)(struct dp_core *core);
	/* First thing on the core thread. */
	int (*enable)(struct dp_core *core);
	void (*leave)(struct dp_core *core);
	/* Record completions and received data. */
	void (*reap)(struct dp_core *core);
	/* A chunk was parsed and no pending request reads from it. */
	void (*buf_put)(struct dp_core *core, uint16_t bid);
	/* After parsing a conn: it is open; reads may need stopping (in-flight
	 * limit reached) or redirecting (a large frame's tail). */
	void (*rx_after)(struct dp_core *core, struct conn *conn);
	/* Arm whatever must be armed for the next turn (accept, wake-up,
	 * recv of the conns on core->arm). */
	void (*arm)(struct dp_core *core);
	/* dp_conn_close(): stop I/O; the backend calls dp_conn_ops_check()
	 * when nothing is outstanding any more. */
	void (*shutdown)(struct dp_core *core, struct conn *conn);
	/* The entry is being freed (or the core exits): release the socket. */
	void (*release)(struct dp_core *core, struct conn *conn);
	/* Send conn->iov[0, iov_count) / a file region. */
	void (*send)(struct dp_core *core, struct conn *conn, uint32_t iov_count);
	int (*send_file)(struct dp_core *core, struct conn *conn, int fd, int64_t pos,
			 uint32_t len);
	/* Best effort, before a close: bytes the socket takes at once (a TLS
	 * alert saying why a handshake failed). NULL: not offered (dpdk). */
	void (*send_last)(struct dp_core *core, struct conn *conn, const void *data,
			  uint32_t len);
	/* End of turn: push out what is queued, then sleep if block allows
	 * until deadline_ns (UINT64_MAX: none) or something arrives. */
	void (*wait)(struct dp_core *core, bool block, uint64_t deadline_ns);
};

extern const struct dp_net dp_uring_net;
#ifdef SPILLWAY_DPDK
extern const struct dp_net dp_dpdk_net;
#endif

/* A per-core work list of conn ids; membership is a bit in conn->lists. */
struct dp_list {
	uint32_t *ids;          /* connections_max entries */
	uint32_t count;
	uint32_t bit;           /* CONN_ON_* */
};

/* The send and total stages one reply slot still has to record. */
struct dp_slot_stage {
	uint64_t done_ns;       /* the request completed on the core */
	uint32_t count;         /* samples (partition appends); 0: none */
	int16_t acks;
};

/* One dataplane core. Written only by its own thread once started, except
 * the stats (read by control with relaxed loads) and the SPSC rings. */
struct dp_core {
	struct io_uring ring;
	const struct dp_net *net;
	void *net_state;        /* the backend's per-core state (dpdk) */
	struct dp *dp;
	int index;
	int listen_fds[DP_LISTENERS_MAX];       /* by listener; -1: none (dpdk) */
	int wake_fd;            /* control -> core eventfd */
	uint64_t wake_val;      /* target of the outstanding eventfd read */
	uint32_t accept_armed;  /* bit i: an accept is armed on listener i */
	uint64_t accept_retry_ns; /* after a failed accept (EMFILE...): not before */
	bool wake_armed;
	bool bufs_returned;     /* a provided buffer went back this turn */
	bool ring_ok;
	uint32_t ctl_posted;    /* requests pushed to control this turn */
	uint32_t ctl_room;      /* to_ctl slots known free (dp_ctl_room()) */

	struct io_uring_buf_ring *br;
	size_t br_bytes;
	uint8_t *bufs;          /* uring: DP_RX_BUF_COUNT x DP_RX_BUF_BYTES */
	/* Received chunks by id (buf_count of them, < CONN_BUF_NONE). */
	uint32_t buf_count;
	uint8_t **buf_ptr;      /* where each chunk's bytes are */
	uint16_t *buf_next;     /* per-conn chunk lists */
	uint32_t *buf_len;      /* bytes received into each */
	/* Pending requests whose frame lies in the chunk; a parsed chunk goes
	 * back to the backend only when this drops to zero. */
	uint16_t *buf_refs;
	bool *buf_parsed;
	/* Chunks with buf_refs > 0: a Produce may keep its frame in its chunk
	 * only while fewer than a quarter of the chunks are pinned so. */
	uint32_t bufs_pinned;

	struct kp_core *kc;     /* requests waiting on storage; NULL without */
	uint64_t idle_next_ns;  /* next idle-connection sweep (dp_limits.c) */
	uint64_t turn_ns;       /* when this loop turn started */
	bool storage_more;      /* finished requests left for the next turn */
	/* The earliest conn->mute_until_ns of a muted conn (UINT64_MAX: none
	 * muted); dp_core_unmute() scans the conns once it passes. */
	uint64_t mute_next_ns;
	/* The earliest TLS handshake deadline (UINT64_MAX: none). */
	uint64_t tls_next_ns;
	uint32_t tls_steps_left;        /* handshake steps left this turn */

	struct conn *conns;     /* connections_max entries */
	struct conn_slot *slots;
	uint32_t conn_count;
	uint32_t *free_ids;
	uint32_t free_count;
	struct dp_list rx;      /* chunks to parse */
	uint32_t *rx_spare;     /* dp_core_rx()'s reordering room */
	struct dp_list tx;      /* replies may be sendable */
	struct dp_list arm;     /* recv may need arming */
	struct dp_list bufwait; /* recv stopped on ENOBUFS */
	struct dp_list closed;  /* closing, no ops left: free at end of turn */

	struct spsc to_ctl;     /* core produces, control consumes */
	struct spsc from_ctl;   /* control produces, core consumes */
	struct dp_stats stats;  /* single writer: this core */
	struct dp_api_stats api[DP_API_KEYS];   /* single writer: this core */
	/* Parallel to slots: when each in-flight request was dispatched and
	 * its api_key, for the per-API latency on completion. */
	uint64_t *slot_t0;
	int16_t *slot_api;
	/* Parallel to slots: a Produce's stage samples left for when its
	 * response is handed to the kernel (kp_done.stage_*). */
	struct dp_slot_stage *slot_stage;
	/* Parallel to slots: a forwarded request's request_percentage throttle
	 * and where control's reply carries it (kp_out.throttle_site). */
	struct dp_slot_throttle {
		int32_t ms;
		int32_t site;
	} *slot_throttle;
	struct stage_hists stages;      /* single writer: this core */

	pthread_t thread;
	bool thread_started;
	/* DP_ENABLE_PENDING until the core thread has enabled its backend,
	 * then 0 or -errno: release store in dp_core_main(), acquire load in
	 * dp_start(), which waits for it. */
	int enable_rc;
} CACHE_ALIGNED;

struct dp {
	struct dp_config cfg;
	/* RCU-protected: rcu_assign_pointer() in dp_ctl_md_publish() pairs with
	 * rcu_dereference() once per loop turn in each core. Immutable: the
	 * type is non-const only because liburcu's setter takes void *. */
	struct kp_md *md;
	int stop;               /* release store in dp_stop, acquire load per turn */
	int ctl_efd;            /* core -> control eventfd */
	struct dp_listener listeners[DP_LISTENERS_MAX];     /* cfg's, copied */
	int listener_count;     /* >= 1 */
	uint16_t ports[DP_LISTENERS_MAX];   /* bound, by listener */
	bool started;
	void *dpdk;             /* dp_dpdk.c's port state */
	int core_count;
	struct dp_core *cores;
	/* Admission (dp_limits.c), shared by the cores through atomics. */
	uint32_t conn_total;
	struct dp_ip_slot *ip_slots;
	/* Per listener, RCU-protected (dp_tls_publish()): the TLS context new
	 * connections take a reference on at accept. */
	struct dp_tls_ctx *tls[DP_LISTENERS_MAX];
};

enum dp_refusal {
	DP_ADMITTED = 0,
	DP_REFUSED_MAX,         /* max.connections */
	DP_REFUSED_PER_IP,      /* max.connections.per.ip */
};

int dp_limits_init(struct dp *dp);
void dp_limits_fini(struct dp *dp);
/* A hash of a peer address (0: unknown). */
uint64_t dp_limits_peer_key(const struct dp_peer *peer);
/* fd's peer address (family DP_PEER_NONE: unknown). A syscall: accept time
 * only. */
void dp_limits_peer_of_fd(int fd, struct dp_peer *peer);
enum dp_refusal dp_limits_admit(struct dp_core *core, uint64_t ip_key);
/* max.connections reached: stop accepting (connections wait unanswered). */
bool dp_limits_full(const struct dp_core *core);
void dp_limits_release(struct dp_core *core, uint64_t ip_key);
void dp_limits_expire(struct dp_core *core, uint64_t now_ns);

/* Single-writer counter bump: the owner's plain read of its own counter
 * races with nothing; the relaxed store pairs with dp_stats_read()'s
 * relaxed loads (torn values are impossible, staleness is fine). */
static inline void
dp_stat_add(uint64_t *counter, uint64_t n)
{
	__atomic_store_n(counter, *counter + n, __ATOMIC_RELAXED);
}

/* Where a request's dispatch time and api_key live: the slot's index in
 * the core's slot array. */
static inline size_t
dp_slot_index(const struct dp_core *core, const struct conn *conn, uint32_t seq)
{
	return (size_t)(conn->slots - core->slots) + (seq & conn->slot_mask);
}

/* A conn with received bytes it did not get to parse this turn (its frame
 * budget ran out, or its in-flight limit) stops reading until it has parsed
 * them: it must not keep taking the core's shared receive chunks, which
 * every other conn needs (150 pipelining conns starved the rest for 10 s). */
static inline bool
dp_conn_rx_backlogged(const struct dp_core *core, const struct conn *conn)
{
	(void)core;
	return conn->stash_len > conn->stash_off || conn->rx_head != CONN_BUF_NONE ||
	       (conn->tls != NULL && dp_tls_in_pending(conn->tls) >= DP_TLS_IN_MAX);
}

static inline void
dp_list_add(struct dp_list *list, struct conn *conn)
{
	if (conn->lists & list->bit)
		return;
	conn->lists |= list->bit;
	list->ids[list->count++] = conn->id;
}

/* Move every conn on from to the end of to, emptying from: the conns that
 * waited for a resource (bufwait) go back to work once it returned. */
static inline void
dp_list_move(struct dp_core *core, struct dp_list *from, struct dp_list *to)
{
	for (uint32_t i = 0; i < from->count; i++) {
		struct conn *conn = &core->conns[from->ids[i]];

		conn->lists &= ~from->bit;
		dp_list_add(to, conn);
	}
	from->count = 0;
}

static inline uint8_t *
dp_buf(const struct dp_core *core, uint16_t bid)
{
	ASSERT_HOT(bid < core->buf_count);
	return core->buf_ptr[bid];
}

/* dp_core.c */
void *dp_core_main(void *arg);
void dp_conn_close(struct dp_core *core, struct conn *conn);
/* Take a new connection on listener (its index; fd: its socket, or >= 0
 * for a dpdk conn whose utcp handle is in handle) into a free entry; NULL
 * when the table is full. */
struct conn *dp_conn_accept(struct dp_core *core, uint8_t listener, int fd, uint32_t handle,
			    uint64_t ip_key, const struct dp_peer *peer);
/* The peer sent FIN: requests already received are still dispatched, then
 * the conn closes (an acks=0 producer closes right after its last send). */
void dp_conn_eof(struct dp_core *core, struct conn *conn);
/* Move a stopped conn's unparsed bytes into its heap stash (uring). */
void dp_conn_stash(struct dp_core *core, struct conn *conn);
/* Allocate the per-core chunk tables for count chunks. @thread control */
int dp_core_bufs_alloc(struct dp_core *core, uint32_t count);
void dp_conn_ops_check(struct dp_core *core, struct conn *conn);
void dp_conn_rx_push(struct dp_core *core, struct conn *conn, uint16_t bid, uint32_t len);
/* A conn is done with a received chunk: back to the kernel unless a pending
 * request still reads from it. */
void dp_buf_parsed(struct dp_core *core, uint16_t bid);
/* conn_pieces_fn: hand a reply's file regions back to storage. */
void dp_pieces_release(void *arg, struct kp_piece *pieces, uint32_t count);
/* Sent bytes of a conn's replies: account them and list the conn for more. */
void dp_conn_sent(struct dp_core *core, struct conn *conn, uint32_t bytes);

/* dp_sasl.c: apply control's session change (DP_MSG_REPLY_AUTH: the
 * struct dp_auth at trailer, any alignment) before its reply; and before a
 * frame of a conn with SASL state: false to close it, else the frame to
 * dispatch (a legacy bare token is wrapped). */
void dp_sasl_apply(struct dp_core *core, struct conn *conn, const void *trailer);
bool dp_sasl_frame(struct dp_core *core, struct conn *conn, struct frame *frame);

/* dp_uring.c: the ring alone (no sockets, no provided buffers), also used
 * by the dpdk backend for its control wake-up and file reads. */
int dp_uring_ring_init(struct dp_core *core, bool defer_taskrun);
int dp_uring_ring_enable(struct dp_core *core);
struct io_uring_sqe *dp_uring_sqe(struct dp_core *core);
void dp_uring_arm_wake(struct dp_core *core);
/* Sleep in io_uring until a completion or the timeout (QSBR offline). */
void dp_uring_sleep(struct dp_core *core, uint64_t timeout_ns);

/* dp_dpdk.c (without DPDK in the build: stubs that fail with a message).
 * EAL and port setup before the cores, start after, teardown last.
 * @thread control */
const struct dp_net *dp_dpdk_net_get(void);
int dp_dpdk_setup(struct dp *dp);
int dp_dpdk_port_start(struct dp *dp);
void dp_dpdk_teardown(struct dp *dp);

/* dp_tls_conn.c: TLS on a core's conns (dp_tls.h). */
bool dp_tls_conn_open(struct dp_core *core, struct conn *conn);
void dp_tls_conn_free(struct conn *conn);
bool dp_tls_conn_feed(struct dp_core *core, struct conn *conn, bool all);
bool dp_tls_conn_rx(struct dp_core *core, struct conn *conn);
void dp_tls_conn_tx(struct dp_core *core, struct conn *conn);
void dp_tls_conn_sent(struct dp_core *core, struct conn *conn, uint32_t bytes);
bool dp_tls_conn_drained(const struct conn *conn);
void dp_tls_conn_expire(struct dp_core *core);
/* A DP_OP_TLS_READ completed (res: bytes or -errno). */
void dp_tls_conn_on_read(struct dp_core *core, struct conn *conn, int res);

/* dp_ctl.c */
int dp_ctl_init(struct dp_core *core);
void dp_ctl_fini(struct dp_core *core);
bool dp_ctl_forward(struct dp_core *core, struct conn *conn, uint32_t seq, struct kp_buf *fwd);
/* Refresh core->ctl_room, the to_ctl slots free for dp_ctl_forward(). */
void dp_ctl_room(struct dp_core *core);
/* The next message from control for this core; false when none. */
bool dp_ctl_pop(struct dp_core *core, struct dp_msg *msg);
void dp_ctl_notify(struct dp_core *core);

#endif
