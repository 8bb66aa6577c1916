/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the protocol core (kp_core.c, kp_pending.c, kp_heap.c,
 * kp_sub.c): the per-core state behind kp_core_int.h, and the functions
 * those files call in each other. @thread dataplane */
#ifndef PROTOCOL_KP_CORE_PRIV_H
#define PROTOCOL_KP_CORE_PRIV_H

#include "protocol/kp_core_int.h"

/* A region release waiting for ring room. */
struct kp_release {
	uint8_t topic_id[16];
	int32_t partition;
	uint32_t ref;
};

/* A long-poll subscription: the parts of waiting requests on one partition
 * of this core, and the one storage WATCH that wakes them all when the
 * partition's high watermark passes `offset`. A subscription whose waiters
 * all left stays (idle) until its watch fires, so the next waiter on the
 * partition reuses the watch instead of adding another. */
struct kp_sub {
	uint8_t topic_id[16];
	int32_t partition;
	uint16_t gen;           /* in the watch token: stale firings drop */
	bool used;
	bool armed;             /* the WATCH is submitted and has not fired */
	bool to_arm;            /* waiting for ring room (on the arm list) */
	/* Followers' fetches: offset is a fetch position, the WATCH waits for
	 * the log end to pass it (consumers': the high watermark). */
	bool replica;
	int32_t replica_id;
	int64_t offset;
	struct kp_part *waiters;
	uint32_t hnext;         /* hash chain / free list */
	uint32_t anext;         /* arm list */
};

struct kp_core {
	struct st *st;
	int core;
	uint32_t slot_count;
	struct kp_pending *pending;     /* [slot_count], by reply slot */
	uint32_t used;                  /* records not FREE */
	/* The lists of records (enum kp_list), oldest first. */
	struct kp_pending *head[KP_LISTS];
	struct kp_pending *tail[KP_LISTS];
	/* Region releases not yet accepted by a ring: a ring of rel_cap, as
	 * many as storage has references for this core, so it cannot fill
	 * (kp_core_create); a full storage ring leaves them here until the
	 * next flush. */
	struct kp_release *rel;
	uint32_t rel_cap;
	uint32_t rel_head;
	uint32_t rel_count;
	/* Deadline heap of WAITING records (slot indexes): one entry per
	 * slot at most, allocated for all slots up front (kp_heap.c). */
	uint32_t *heap;
	uint32_t heap_count;
	/* Subscriptions: a pool, a hash on (topic id, partition), a free list
	 * and the list of subscriptions whose WATCH awaits ring room. Bound
	 * and full policy in kp_sub.c. */
	struct kp_sub *subs;
	uint32_t sub_cap;
	uint32_t sub_used;
	uint32_t sub_free;
	uint32_t *sub_hash;
	uint32_t sub_hash_mask;
	uint32_t arm_head;
	uint32_t arm_tail;
	/* Client quota rates of this core's clients (kp_quota.c). */
	struct kp_quota_table *quota;
	/* The last all-topics Metadata response body (kp_core_md_*). */
	uint64_t md_epoch;
	uint32_t md_key;
	uint8_t *md_body;
	size_t md_len;
};

int kp_sub_init(struct kp_core *kc);
void kp_sub_fini(struct kp_core *kc);
/* Join pt to its partition's subscription, armed at hw (the high watermark
 * pt last saw). Sets *ready when the partition already has data past hw.
 * False when out of memory (the caller answers at once instead). */
bool kp_sub_join(struct kp_core *kc, struct kp_part *pt, int64_t hw, bool *ready);
/* Take pt off its subscription (no-op when it is on none). */
void kp_sub_leave(struct kp_core *kc, struct kp_part *pt);
/* A WATCH completion: wake every record waiting on the subscription. */
void kp_sub_fired(struct kp_core *kc, const struct st_cpl *cpl);
/* Submit the WATCHes that waited for ring room. */
void kp_sub_flush(struct kp_core *kc);

/* End p's wait (data arrived, or final: its deadline passed) and start its
 * next round. */
void kp_pending_wake(struct kp_core *kc, struct kp_pending *p, bool final);
/* Append p to list l (no-op when it is on it already). */
void kp_pending_list_push(struct kp_core *kc, enum kp_list l, struct kp_pending *p);
/* Take p off list l (no-op when it is not on it). */
void kp_pending_list_remove(struct kp_core *kc, enum kp_list l, struct kp_pending *p);
/* Submit p's parts from next_submit on; false when a ring was full. */
bool kp_pending_submit_some(struct kp_core *kc, struct kp_pending *p);

/* Queue a region release for the next flush (kp_core.c). */
void kp_core_release_push(struct kp_core *kc, const uint8_t topic_id[16], int32_t partition,
			  uint32_t ref);

/* The deadline heap (min by deadline_ns) of WAITING records (kp_heap.c). */
void kp_heap_push(struct kp_core *kc, struct kp_pending *p);
/* Take p off the heap (no-op when it is not on it). */
void kp_heap_remove(struct kp_core *kc, struct kp_pending *p);

#endif
