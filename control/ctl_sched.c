/* SPDX-License-Identifier: Apache-2.0 */
/* The control thread's fair queue (see ctl_sched.h): requests live in a
 * fixed array, linked per connection; connections with requests form one
 * round-robin list and are found by an open-addressing hash of (core,
 * conn_id). Replies a core's ring refused wait in a ring buffer per core.
 * Nothing here is sized by what a client sends. @thread control */
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "common/tag.h"
#include "control/ctl_sched.h"

/* Hash slots: twice the most connections that can have requests queued (one
 * request each), so linear probing stays short. */
#define CTL_SCHED_SLOTS (2 * CTL_SCHED_REQUESTS_MAX)
#define CTL_SCHED_NONE (-1)

STATIC_ASSERT((CTL_SCHED_SLOTS & (CTL_SCHED_SLOTS - 1)) == 0, "slot count is a power of two");
STATIC_ASSERT((CTL_SCHED_BACKLOG_MAX & (CTL_SCHED_BACKLOG_MAX - 1)) == 0,
	      "backlog ring size is a power of two");
STATIC_ASSERT(CTL_SCHED_REQUESTS_MAX < INT32_MAX / 2, "indexes fit in int32_t");

struct ctl_sched_req {
	struct dp_msg msg;
	int32_t core;
	int32_t next;           /* next request of the connection, or free list */
};

struct ctl_sched_conn {
	uint64_t key;           /* tag_sched(core, conn_id) */
	int32_t head;           /* oldest request */
	int32_t tail;
	int32_t next;           /* next connection in the round, or free list */
};

struct ctl_sched_backlog {
	uint32_t head;
	uint32_t count;
	bool reserved;          /* a popped request's reply is owed */
	struct dp_msg msgs[CTL_SCHED_BACKLOG_MAX];
};

struct ctl_sched {
	int core_count;
	uint32_t req_count;
	uint32_t conn_count;
	uint32_t backlog_count;
	int32_t req_free;
	int32_t conn_free;
	int32_t round_head;     /* the connection whose turn it is */
	int32_t round_tail;
	struct ctl_sched_req reqs[CTL_SCHED_REQUESTS_MAX];
	struct ctl_sched_conn conns[CTL_SCHED_REQUESTS_MAX];
	int32_t slots[CTL_SCHED_SLOTS];
	struct ctl_sched_backlog backlogs[];    /* core_count */
};

struct ctl_sched *
ctl_sched_create(int core_count)
{
	struct ctl_sched *s;

	ASSERT(core_count >= 1 && core_count <= 64);
	s = calloc(1, sizeof(*s) + sizeof(s->backlogs[0]) * (size_t)core_count);
	if (s == NULL)
		return NULL;
	s->core_count = core_count;
	s->round_head = s->round_tail = CTL_SCHED_NONE;
	for (uint32_t i = 0; i < CTL_SCHED_REQUESTS_MAX; i++) {
		s->reqs[i].next = i + 1 < CTL_SCHED_REQUESTS_MAX ? (int32_t)i + 1 : CTL_SCHED_NONE;
		s->conns[i].next = s->reqs[i].next;
	}
	s->req_free = s->conn_free = 0;
	for (uint32_t i = 0; i < CTL_SCHED_SLOTS; i++)
		s->slots[i] = CTL_SCHED_NONE;
	return s;
}

void
ctl_sched_destroy(struct ctl_sched *s)
{
	if (s == NULL)
		return;
	for (int32_t c = s->round_head; c != CTL_SCHED_NONE; c = s->conns[c].next)
		for (int32_t r = s->conns[c].head; r != CTL_SCHED_NONE; r = s->reqs[r].next)
			free(s->reqs[r].msg.buf.data);
	for (int c = 0; c < s->core_count; c++) {
		struct ctl_sched_backlog *b = &s->backlogs[c];

		for (uint32_t i = 0; i < b->count; i++)
			free(b->msgs[(b->head + i) % CTL_SCHED_BACKLOG_MAX].buf.data);
	}
	free(s);
}

static uint64_t
ctl_sched_key(int core, uint32_t conn_id)
{
	return tag_sched((uint32_t)core, conn_id);
}

static uint32_t
ctl_sched_home(uint64_t key)
{
	/* Fibonacci hashing: the top bits of key x 2^64/phi. */
	return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 51) & (CTL_SCHED_SLOTS - 1);
}

STATIC_ASSERT(CTL_SCHED_SLOTS == 1u << 13, "ctl_sched_home() keeps 13 bits");

/* The slot holding key, or the empty slot where it would go. */
static uint32_t
ctl_sched_slot(const struct ctl_sched *s, uint64_t key)
{
	uint32_t i = ctl_sched_home(key);

	while (s->slots[i] != CTL_SCHED_NONE && s->conns[s->slots[i]].key != key)
		i = (i + 1) & (CTL_SCHED_SLOTS - 1);
	return i;
}

/* Remove slot i, moving later entries of the same probe run back so that
 * every lookup still finds them (backward-shift deletion). */
static void
ctl_sched_slot_clear(struct ctl_sched *s, uint32_t i)
{
	uint32_t j = i;

	s->slots[i] = CTL_SCHED_NONE;
	for (;;) {
		uint32_t home;

		j = (j + 1) & (CTL_SCHED_SLOTS - 1);
		if (s->slots[j] == CTL_SCHED_NONE)
			return;
		home = ctl_sched_home(s->conns[s->slots[j]].key);
		/* Entry j may move to i unless its home lies cyclically in (i, j]. */
		if (((j - home) & (CTL_SCHED_SLOTS - 1)) < ((j - i) & (CTL_SCHED_SLOTS - 1)))
			continue;
		s->slots[i] = s->slots[j];
		s->slots[j] = CTL_SCHED_NONE;
		i = j;
	}
}

static void
ctl_sched_round_append(struct ctl_sched *s, int32_t c)
{
	s->conns[c].next = CTL_SCHED_NONE;
	if (s->round_tail == CTL_SCHED_NONE)
		s->round_head = c;
	else
		s->conns[s->round_tail].next = c;
	s->round_tail = c;
}

bool
ctl_sched_can_take(const struct ctl_sched *s, int core)
{
	const struct ctl_sched_backlog *b;

	ASSERT(core >= 0 && core < s->core_count);
	b = &s->backlogs[core];
	return s->req_count < CTL_SCHED_REQUESTS_MAX && b->count < CTL_SCHED_BACKLOG_MAX;
}

void
ctl_sched_push(struct ctl_sched *s, int core, const struct dp_msg *msg)
{
	uint64_t key = ctl_sched_key(core, msg->conn_id);
	uint32_t slot = ctl_sched_slot(s, key);
	int32_t r = s->req_free;
	int32_t c;

	ASSERT(ctl_sched_can_take(s, core));
	ASSERT(msg->type == DP_MSG_REQUEST);
	ASSERT(r != CTL_SCHED_NONE);
	s->req_free = s->reqs[r].next;
	s->reqs[r] = (struct ctl_sched_req){ .msg = *msg, .core = core, .next = CTL_SCHED_NONE };
	s->req_count++;
	c = s->slots[slot];
	if (c != CTL_SCHED_NONE) {
		s->reqs[s->conns[c].tail].next = r;
		s->conns[c].tail = r;
		return;
	}
	c = s->conn_free;
	ASSERT(c != CTL_SCHED_NONE);        /* at most one connection per request */
	s->conn_free = s->conns[c].next;
	s->conns[c] = (struct ctl_sched_conn){ .key = key, .head = r, .tail = r };
	s->slots[slot] = c;
	s->conn_count++;
	ctl_sched_round_append(s, c);
}

bool
ctl_sched_pop(struct ctl_sched *s, struct ctl_sched_item *out)
{
	int32_t prev = CTL_SCHED_NONE;
	int32_t c = s->round_head;
	int32_t r;
	int core;

	/* The first connection in the round whose core can take a reply. */
	while (c != CTL_SCHED_NONE) {
		core = s->reqs[s->conns[c].head].core;
		if (!s->backlogs[core].reserved &&
		    s->backlogs[core].count < CTL_SCHED_BACKLOG_MAX)
			break;
		prev = c;
		c = s->conns[c].next;
	}
	if (c == CTL_SCHED_NONE)
		return false;
	if (prev == CTL_SCHED_NONE)
		s->round_head = s->conns[c].next;
	else
		s->conns[prev].next = s->conns[c].next;
	if (s->round_tail == c)
		s->round_tail = prev;
	r = s->conns[c].head;
	out->core = s->reqs[r].core;
	out->msg = s->reqs[r].msg;
	s->conns[c].head = s->reqs[r].next;
	s->reqs[r].next = s->req_free;
	s->req_free = r;
	s->req_count--;
	s->backlogs[out->core].reserved = true;
	if (s->conns[c].head != CTL_SCHED_NONE) {
		ctl_sched_round_append(s, c);   /* its next request waits a round */
		return true;
	}
	ctl_sched_slot_clear(s, ctl_sched_slot(s, s->conns[c].key));
	s->conns[c].next = s->conn_free;
	s->conn_free = c;
	s->conn_count--;
	return true;
}

void
ctl_sched_reply(struct ctl_sched *s, int core, const struct dp_msg *reply,
		ctl_sched_send_fn *send, void *arg)
{
	struct ctl_sched_backlog *b;

	ASSERT(core >= 0 && core < s->core_count);
	b = &s->backlogs[core];
	ASSERT(b->reserved);                    /* pop() reserved this slot */
	ASSERT(b->count < CTL_SCHED_BACKLOG_MAX);
	b->reserved = false;
	if (b->count == 0 && send(arg, core, reply))
		return;
	b->msgs[(b->head + b->count) % CTL_SCHED_BACKLOG_MAX] = *reply;
	b->count++;
	s->backlog_count++;
}

void
ctl_sched_park(struct ctl_sched *s, int core)
{
	ASSERT(core >= 0 && core < s->core_count);
	ASSERT(s->backlogs[core].reserved);     /* pop() reserved this slot */
	s->backlogs[core].reserved = false;
}

uint32_t
ctl_sched_flush(struct ctl_sched *s, ctl_sched_send_fn *send, void *arg)
{
	for (int c = 0; s->backlog_count > 0 && c < s->core_count; c++) {
		struct ctl_sched_backlog *b = &s->backlogs[c];

		while (b->count > 0 && send(arg, c, &b->msgs[b->head])) {
			b->head = (b->head + 1) % CTL_SCHED_BACKLOG_MAX;
			b->count--;
			s->backlog_count--;
		}
	}
	return s->backlog_count;
}

uint32_t
ctl_sched_request_count(const struct ctl_sched *s)
{
	return s->req_count;
}

uint32_t
ctl_sched_conn_count(const struct ctl_sched *s)
{
	return s->conn_count;
}

uint32_t
ctl_sched_backlog_count(const struct ctl_sched *s)
{
	return s->backlog_count;
}
