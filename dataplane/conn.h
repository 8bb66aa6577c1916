/* SPDX-License-Identifier: Apache-2.0 */
/* One client connection on a dataplane core: rx assembly state, the queue of
 * received chunks not yet parsed, and the in-order reply queue (one slot per
 * request, by sequence number). conn.c owns the reply queue logic; it does no
 * I/O and knows nothing about io_uring. Internal to dataplane/. */
#ifndef DATAPLANE_CONN_H
#define DATAPLANE_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "dataplane/dp.h"
#include "dataplane/frame.h"
#include "protocol/kp.h"

struct dp_tls;

#define CONN_NONE UINT32_MAX
#define CONN_IOV_MAX 16         /* responses gathered into one sendmsg */
#define CONN_BUF_NONE UINT16_MAX

enum conn_slot_state {
	CONN_SLOT_FREE = 0,     /* not in [seq_head, seq_next) */
	CONN_SLOT_PENDING,      /* dispatched, reply not ready (e.g. at control) */
	CONN_SLOT_DONE,         /* reply ready (len 0: nothing to send) */
};

/* A reply: its encoded bytes with file regions (Fetch records) to splice in
 * at given offsets. The bytes on the wire are data[0, at0), piece 0,
 * data[at0, at1), piece 1, ..., data[at_last, len). */
struct conn_slot {
	uint8_t *data;          /* complete response frame, malloc()ed, or NULL */
	uint32_t len;
	uint32_t state;         /* enum conn_slot_state */
	uint32_t piece_count;
	struct kp_piece *pieces;        /* malloc()ed, ascending at; NULL if none */
	uint64_t held;                  /* PENDING: memory its waiting request holds */
};

/* Memory one connection may hold in requests waiting on storage and replies
 * not yet sent before it stops reading (as Kafka mutes a channel until its
 * response is out): a client that never reads costs at most this, plus one
 * request or reply above it. File regions (Fetch records) do not count. */
#define CONN_MEM_BYTES_MAX (1ull << 20)

/* What to send next: either iovecs over memory, or one file region. */
struct conn_tx {
	uint32_t iov_count;     /* > 0: send these */
	int file_fd;            /* >= 0: splice this region instead */
	int64_t file_pos;
	uint32_t file_len;
};

/* Called for the pieces of replies that were sent or dropped. */
typedef void conn_pieces_fn(void *arg, struct kp_piece *pieces, uint32_t count);

enum conn_recv_state {
	CONN_RECV_IDLE = 0,
	CONN_RECV_ARMED,        /* multishot recv outstanding */
	CONN_RECV_CANCELING,    /* cancel submitted, final CQE not reaped yet */
	CONN_RECV_DIRECT,       /* a plain recv into a large frame's own buffer */
};

/* Bits of conn->lists: which per-core work lists hold this conn. They survive
 * the conn being closed and reused so an id is never listed twice. */
enum {
	CONN_ON_RX = 1u << 0,
	CONN_ON_TX = 1u << 1,
	CONN_ON_ARM = 1u << 2,
	CONN_ON_BUFWAIT = 1u << 3,
	CONN_ON_CLOSED = 1u << 4,
};

/* Bits of conn->sasl_flags. */
enum {
	CONN_SASL_RAW = 1u << 0,        /* legacy v0: frames are bare SASL tokens */
	CONN_SASL_CLOSE = 1u << 1,      /* failed: close once the reply is sent */
};

struct conn {
	int fd;                 /* -1 when the slot is free (dpdk: 0 when in use) */
	uint32_t handle;        /* dpdk: the utcp connection */
	uint32_t id;            /* index in the core's table */
	uint32_t gen;           /* bumped on close: stale control replies drop */
	uint32_t lists;         /* CONN_ON_* */
	bool open;              /* accepted and not closing */
	bool send_busy;         /* a sendmsg is outstanding */
	bool eof;               /* the peer shut down its side: close once parsed */
	uint8_t recv;           /* enum conn_recv_state */
	/* Requests with a record in the core's kp_core (waiting on storage):
	 * the entry is not reused until they are all done or cancelled,
	 * since their records are indexed by this entry's reply slots. */
	uint32_t waiting;
	uint64_t mem_bytes;     /* held by waiting requests + unsent replies */
	uint64_t active_ns;     /* last bytes in or out (connections.max.idle.ms) */
	/* A client quota throttled it (KIP-219): no frame is parsed and no
	 * byte read until then (CLOCK_MONOTONIC ns; 0: not muted). */
	uint64_t mute_until_ns;
	uint64_t ip_key;        /* admitted under this peer key (dp_limits.c) */
	struct dp_peer peer;    /* forwarded requests carry it to control */
	struct kp_session session;      /* listener and principal; forwarded too */
	uint8_t sasl_flags;             /* CONN_SASL_* (dp_sasl.c) */
	uint64_t auth_expire_ns;        /* the SASL session ends then (0: never) */
	/* SSL and SASL_SSL listeners: the TLS state (dp_tls.h); NULL else.
	 * Its plaintext buffer is the stash while that holds bytes. */
	struct dp_tls *tls;
	bool admitted;          /* counted in the admission totals */

	/* In-order reply queue: seqs in [seq_head, seq_next) are in flight. */
	struct conn_slot *slots;
	uint32_t slot_mask;     /* slots has slot_mask + 1 entries */
	uint32_t inflight_max;
	uint32_t seq_next;      /* seq of the next request dispatched */
	uint32_t seq_head;      /* oldest request not fully sent */
	uint32_t tx_off;        /* bytes of the head reply already sent */
	/* Bytes after tx_off handed to the transport and not yet reported
	 * sent (dpdk: queued in TCP, waiting for the ACK); conn_tx_prepare()
	 * starts after them. Always 0 on uring (one send at a time). */
	uint64_t tx_queued;

	/* Received chunks (provided-buffer ids) not yet fully parsed, linked
	 * through the core's buf_next[] array; rx_off is into the head one. */
	uint16_t rx_head;
	uint16_t rx_tail;
	uint32_t rx_off;
	struct frame_rx frx;

	struct msghdr msg;      /* the outstanding sendmsg; iov below */
	struct iovec iov[CONN_IOV_MAX];

	/* Bytes received but set aside when the in-flight limit stopped
	 * parsing, so the provided buffers go back to the ring (one slow
	 * reader must not drain the core's pool). Parsed before new chunks. */
	uint8_t *stash;
	uint32_t stash_len;
	uint32_t stash_off;

	/* A Metadata request that came while earlier replies were unsent: a
	 * heap copy, dispatched once they are all out, so its answer is the
	 * view as of its turn (Kafka reads a connection's next request only
	 * after the previous reply went out; an answer computed early and
	 * held behind a slow acks=all Produce can name a leader that moved
	 * meanwhile). Nothing after it is parsed until then. */
	uint8_t *held;
	uint32_t held_len;

	/* File regions go file -> pipe -> socket (splice). */
	int pipe_rd;            /* -1 until the first file region */
	int pipe_wr;
	uint32_t pipe_bytes;    /* spliced in, not yet out */
	int splice_fd;          /* the region being sent */
	int64_t splice_pos;
	uint32_t splice_left;   /* of the region, not yet spliced in */
};

/* Prepare a table entry; slots has at least inflight_max entries rounded up
 * to a power of two (conn_slot_count()). @thread control (startup) */
void conn_init(struct conn *conn, uint32_t id, struct conn_slot *slots,
	       uint32_t inflight_max, uint32_t request_bytes_max);
uint32_t conn_slot_count(uint32_t inflight_max);
/* Take a fresh socket into a free entry. @thread dataplane */
void conn_open(struct conn *conn, int fd);
/* Free every reply and partial frame (pieces go to release); the entry
 * becomes free (fd -1). @thread dataplane */
void conn_reset(struct conn *conn, conn_pieces_fn *release, void *arg);

static inline uint32_t
conn_inflight(const struct conn *conn)
{
	return conn->seq_next - conn->seq_head;
}

/* True when another request may be dispatched (the in-flight limit, not
 * muted by a quota, no held request waiting for its turn). */
static inline bool
conn_can_dispatch(const struct conn *conn)
{
	return conn->mute_until_ns == 0 && conn->held == NULL &&
	       conn_inflight(conn) < conn->inflight_max &&
	       (conn->mem_bytes < CONN_MEM_BYTES_MAX || conn_inflight(conn) == 0);
}

/* A dispatched request waits on storage holding bytes of memory. */
void conn_slot_hold(struct conn *conn, uint32_t seq, uint64_t bytes);

/* Reserve the next reply slot; returns its seq. Requires conn_can_dispatch(). */
uint32_t conn_slot_open(struct conn *conn);
/* True when seq is in flight and still waiting for its reply. */
bool conn_slot_pending(const struct conn *conn, uint32_t seq);
/* Store the reply for seq (data NULL / len 0: nothing to send). Takes
 * ownership of data and pieces. Requires conn_slot_pending(). */
void conn_slot_done(struct conn *conn, uint32_t seq, uint8_t *data, uint32_t len,
		    struct kp_piece *pieces, uint32_t piece_count);
/* What to send next from the contiguous prefix of ready replies: up to
 * iov_max memory iovecs (stopping before a file region), or the file region
 * at the head. Both counts zero: nothing sendable yet. */
void conn_tx_prepare(const struct conn *conn, struct iovec *iov, uint32_t iov_max,
		     struct conn_tx *tx);
/* bytes of the prepared data (memory or file) were sent: free the replies
 * sent in full (their pieces go to release), and release empty (no-reply)
 * slots that reached the head. Returns how many slots were released. */
uint32_t conn_tx_done(struct conn *conn, uint32_t bytes, conn_pieces_fn *release, void *arg);

#endif
