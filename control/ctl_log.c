/* SPDX-License-Identifier: Apache-2.0 */
/* Control's appends to and scans of partition logs (ctl_log.h) through its
 * own ring pair to the storage workers. Every operation is a heap record
 * named by the request token; requests a worker's ring refused wait in one
 * FIFO and go first next turn (backpressure, nothing is dropped); callbacks
 * run only from ctl_log_poll(). A scan preads each region storage hands
 * back (control may block) and always releases it. @thread control */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/clock.h"
#include "common/compiler.h"
#include "common/log.h"
#include "common/rbatch.h"
#include "control/ctl_int.h"
#include "control/ctl_log.h"
#include "protocol/kp_error.h"
#include "storage/st.h"

/* Bytes a scan asks for per read (the first batch comes whole anyway). */
#define CTL_LOG_READ_BYTES (1 << 20)
/* Completions taken per st_reap() call. */
#define CTL_LOG_REAP_MAX 64u

enum ctl_log_kind { CTL_LOG_APPEND = 1, CTL_LOG_SCAN = 2 };

/* A request waiting for room in a worker's ring. */
struct ctl_log_sub {
	struct st_req req;
	struct ctl_log_sub *next;
};

struct ctl_log_op {
	enum ctl_log_kind kind;
	uint8_t topic_id[16];
	int32_t partition;
	int16_t error;                  /* finished without storage: this error */
	struct ctl_log_op *next;        /* on the finished list */
	/* Two request slots: a scan's RELEASE and its next READ may wait in
	 * the FIFO together; an append uses the first. */
	struct ctl_log_sub subs[2];
	void *arg;
	/* CTL_LOG_APPEND */
	uint8_t *batch;
	ctl_log_append_fn *done;
	/* CTL_LOG_SCAN */
	int64_t next_offset;            /* the next offset to read */
	int64_t end_offset;             /* log end when the scan began; -1 unknown */
	bool restarted;                 /* moved up to the log start once */
	ctl_log_batch_fn *batch_fn;
	ctl_log_scan_end_fn *end_fn;
};

struct ctl_log_state {
	int index;                      /* control's ring pair in storage */
	int efd;
	uint32_t inflight;              /* ops started, callback not yet run */
	bool flush;                     /* requests submitted since st_flush() */
	struct ctl_log_sub *wait_head;  /* refused by a ring, oldest first */
	struct ctl_log_sub *wait_tail;
	struct ctl_log_op *done_head;   /* finished without storage */
	struct ctl_log_op *done_tail;
};

struct ctl_log_state *
ctl_log_create(int storage_index)
{
	struct ctl_log_state *lg = calloc(1, sizeof(*lg));

	if (lg == NULL)
		return NULL;
	lg->index = storage_index;
	lg->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (lg->efd < 0) {
		free(lg);
		return NULL;
	}
	return lg;
}

void
ctl_log_destroy(struct ctl_log_state *lg)
{
	if (lg == NULL)
		return;
	/* Ops still in flight (storage stopped before answering) leak: the
	 * workers may still point into their batches. */
	if (lg->inflight > 0)
		log_warn("control", "%u storage operation(s) unfinished at shutdown",
			 lg->inflight);
	close(lg->efd);
	free(lg);
}

int
ctl_log_eventfd(const struct ctl_log_state *lg)
{
	return lg->efd;
}

uint32_t
ctl_log_inflight(const struct ctl *ctl)
{
	return ctl->log->inflight;
}

static struct ctl_log_op *
ctl_log_op_new(struct ctl *ctl, enum ctl_log_kind kind, const uint8_t topic_id[16],
	       int32_t partition, void *arg)
{
	struct ctl_log_op *op = calloc(1, sizeof(*op));

	if (op == NULL)
		PANIC("control: out of memory for a storage operation");
	op->kind = kind;
	memcpy(op->topic_id, topic_id, 16);
	op->partition = partition;
	op->arg = arg;
	ctl->log->inflight++;
	return op;
}

/* Finish op with error from the next ctl_log_poll() (no storage, or a
 * request that could not be made). */
static void
ctl_log_fail(struct ctl *ctl, struct ctl_log_op *op, int16_t error)
{
	struct ctl_log_state *lg = ctl->log;

	op->error = error;
	op->next = NULL;
	if (lg->done_tail == NULL)
		lg->done_head = op;
	else
		lg->done_tail->next = op;
	lg->done_tail = op;
}

/* Submit sub's request, or queue it behind the ones already waiting. */
static void
ctl_log_submit(struct ctl *ctl, struct ctl_log_sub *sub)
{
	struct ctl_log_state *lg = ctl->log;

	if (lg->wait_head == NULL && st_submit(ctl->st, lg->index, &sub->req)) {
		lg->flush = true;
		return;
	}
	sub->next = NULL;
	if (lg->wait_tail == NULL)
		lg->wait_head = sub;
	else
		lg->wait_tail->next = sub;
	lg->wait_tail = sub;
}

static void
ctl_log_req_init(struct st_req *req, const struct ctl_log_op *op, uint8_t type)
{
	memset(req, 0, sizeof(*req));
	req->type = type;
	req->partition = op->partition;
	memcpy(req->topic_id, op->topic_id, 16);
	req->token = (uint64_t)(uintptr_t)op;
}

void
ctl_log_append(struct ctl *ctl, const uint8_t topic_id[16], int32_t partition,
	       uint8_t *batch, uint32_t len, ctl_log_append_fn *done, void *arg)
{
	struct ctl_log_op *op = ctl_log_op_new(ctl, CTL_LOG_APPEND, topic_id, partition, arg);
	struct st_req *req = &op->subs[0].req;

	ASSERT(batch != NULL && len >= RBATCH_HEADER_BYTES);
	op->batch = batch;
	op->done = done;
	if (ctl->st == NULL) {
		ctl_log_fail(ctl, op, KP_ERR_KAFKA_STORAGE_ERROR);
		return;
	}
	ctl_log_req_init(req, op, ST_REQ_APPEND);
	req->acks = -1;         /* acks=all: completes after fdatasync */
	req->append.batch = batch;
	req->append.len = len;
	ctl_log_submit(ctl, &op->subs[0]);
}

/* Ask for the region from op->next_offset (the READ slot is subs[1]). */
static void
ctl_log_read_next(struct ctl *ctl, struct ctl_log_op *op)
{
	struct st_req *req = &op->subs[1].req;

	ctl_log_req_init(req, op, ST_REQ_READ);
	req->read.offset = op->next_offset;
	req->read.replica_id = ST_READ_LOG_END;  /* as Kafka's coordinator loads */
	req->read.max_bytes = CTL_LOG_READ_BYTES;
	ctl_log_submit(ctl, &op->subs[1]);
}

void
ctl_log_scan(struct ctl *ctl, const uint8_t topic_id[16], int32_t partition,
	     ctl_log_batch_fn *batch, ctl_log_scan_end_fn *end, void *arg)
{
	struct ctl_log_op *op = ctl_log_op_new(ctl, CTL_LOG_SCAN, topic_id, partition, arg);

	op->batch_fn = batch;
	op->end_fn = end;
	op->next_offset = 0;    /* storage answers OFFSET_OUT_OF_RANGE below the start */
	op->end_offset = -1;
	if (ctl->st == NULL) {
		ctl_log_fail(ctl, op, KP_ERR_KAFKA_STORAGE_ERROR);
		return;
	}
	ctl_log_read_next(ctl, op);
}

/* Run op's final callback and free it. */
static void
ctl_log_finish(struct ctl *ctl, struct ctl_log_op *op, int16_t error, int64_t offset)
{
	ASSERT(ctl->log->inflight > 0);
	ctl->log->inflight--;
	if (op->kind == CTL_LOG_APPEND) {
		free(op->batch);
		op->done(op->arg, error, error == KP_ERR_NONE ? offset : -1);
	} else {
		op->end_fn(op->arg, error, error == KP_ERR_NONE ? op->end_offset : -1);
	}
	free(op);
}

/* pread len bytes at pos of fd into a new buffer; NULL on error. */
static uint8_t *
ctl_log_pread(int fd, int64_t pos, uint32_t len)
{
	uint8_t *buf = malloc(len);
	uint32_t got = 0;

	if (buf == NULL)
		return NULL;
	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(pos + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("control", "reading a log region: %s",
				 n < 0 ? strerror(errno) : "short file");
			free(buf);
			return NULL;
		}
		got += (uint32_t)n;
	}
	return buf;
}

/* Hand the whole batches of buf to the scan, up to its end offset.
 * Returns KP_ERR_NONE, or CORRUPT_MESSAGE when the region holds no whole
 * batch where one must start. */
static int16_t
ctl_log_split(struct ctl_log_op *op, const uint8_t *buf, uint32_t len)
{
	uint32_t at = 0;
	bool any = false;

	while (len - at >= RBATCH_HEADER_BYTES && op->next_offset < op->end_offset) {
		struct rbatch_header h;
		int64_t total;

		rbatch_header_parse(buf + at, len - at, &h);
		total = rbatch_total_bytes(&h);
		if (h.batch_length < RBATCH_HEADER_BYTES - RBATCH_LOG_OVERHEAD ||
		    total > (int64_t)(len - at) || h.last_offset_delta < 0)
			break;
		if (h.base_offset + h.last_offset_delta >= op->next_offset) {
			op->batch_fn(op->arg, buf + at, (uint32_t)total);
			op->next_offset = h.base_offset + h.last_offset_delta + 1;
		}
		any = true;
		at += (uint32_t)total;
	}
	return any ? KP_ERR_NONE : KP_ERR_CORRUPT_MESSAGE;
}

/* A READ completion of a scan: deliver, release, go on or finish. */
static void
ctl_log_scan_read(struct ctl *ctl, struct ctl_log_op *op, const struct st_cpl *cpl)
{
	int16_t error = cpl->error;
	uint8_t *buf;

	if (error == KP_ERR_OFFSET_OUT_OF_RANGE && !op->restarted &&
	    op->next_offset < cpl->log_start_offset) {
		op->restarted = true;   /* below the log start: begin there */
		op->next_offset = cpl->log_start_offset;
		ctl_log_read_next(ctl, op);
		return;
	}
	if (error != KP_ERR_NONE) {
		ctl_log_finish(ctl, op, error, -1);
		return;
	}
	if (op->end_offset < 0)
		op->end_offset = cpl->high_watermark;   /* the log end now */
	if (cpl->read.len <= 0) {       /* nothing more up to the log end */
		ctl_log_finish(ctl, op, KP_ERR_NONE, op->end_offset);
		return;
	}
	if (op->next_offset < op->end_offset) {
		int64_t from = op->next_offset;

		buf = ctl_log_pread(cpl->read.fd, cpl->read.pos, (uint32_t)cpl->read.len);
		error = buf == NULL ? KP_ERR_KAFKA_STORAGE_ERROR
				    : ctl_log_split(op, buf, (uint32_t)cpl->read.len);
		free(buf);
		if (error == KP_ERR_NONE && op->next_offset == from)
			error = KP_ERR_CORRUPT_MESSAGE;         /* no progress: stop */
	}
	/* Always give the region back, whatever happened to it. */
	ctl_log_req_init(&op->subs[0].req, op, ST_REQ_RELEASE);
	op->subs[0].req.release.ref = cpl->read.ref;
	ctl_log_submit(ctl, &op->subs[0]);
	if (error != KP_ERR_NONE || op->next_offset >= op->end_offset)
		ctl_log_finish(ctl, op, error, op->end_offset);
	else
		ctl_log_read_next(ctl, op);
}

static void
ctl_log_complete(struct ctl *ctl, const struct st_cpl *cpl)
{
	struct ctl_log_op *op = (struct ctl_log_op *)(uintptr_t)cpl->token;

	ASSERT(op != NULL);
	if (op->kind == CTL_LOG_APPEND) {
		ASSERT(cpl->type == ST_REQ_APPEND);
		ctl_log_finish(ctl, op, cpl->error, cpl->append.base_offset);
		return;
	}
	ASSERT(cpl->type == ST_REQ_READ);
	ctl_log_scan_read(ctl, op, cpl);
}

bool
ctl_log_poll(struct ctl *ctl)
{
	struct ctl_log_state *lg = ctl->log;
	struct st_cpl cpls[CTL_LOG_REAP_MAX];
	bool did = false;
	unsigned n;

	while (lg->done_head != NULL) {
		struct ctl_log_op *op = lg->done_head;

		lg->done_head = op->next;
		if (lg->done_head == NULL)
			lg->done_tail = NULL;
		ctl_log_finish(ctl, op, op->error, -1);
		did = true;
	}
	if (ctl->st == NULL)
		return did;
	/* What waited goes first, in order, while the rings take it. */
	while (lg->wait_head != NULL && st_submit(ctl->st, lg->index, &lg->wait_head->req)) {
		lg->wait_head = lg->wait_head->next;
		if (lg->wait_head == NULL)
			lg->wait_tail = NULL;
		lg->flush = true;
	}
	/* Completions are reaped into a local array and run after, so a
	 * callback that starts new operations never runs inside the reaper. */
	do {
		n = st_reap(ctl->st, lg->index, cpls, CTL_LOG_REAP_MAX);
		for (unsigned i = 0; i < n; i++)
			ctl_log_complete(ctl, &cpls[i]);
		did |= n > 0;
	} while (n == CTL_LOG_REAP_MAX);
	if (lg->flush) {
		lg->flush = false;
		st_flush(ctl->st, lg->index);
	}
	return did;
}

/* Shutdown: let the operations in flight finish (their callbacks run), for
 * at most timeout_ns; the storage workers must still run. */
void
ctl_log_quiesce(struct ctl *ctl, uint64_t timeout_ns)
{
	uint64_t until = clock_mono_ns() + timeout_ns;

	while (ctl->log->inflight > 0 && clock_mono_ns() < until) {
		struct pollfd pfd = { .fd = ctl->log->efd, .events = POLLIN };
		uint64_t count;

		if (ctl_log_poll(ctl))
			continue;
		if (poll(&pfd, 1, 10) > 0 && read(pfd.fd, &count, sizeof(count)) < 0 &&
		    errno != EAGAIN)
			log_warn("control", "eventfd read: %s", strerror(errno));
	}
}
