/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator's log: the __consumer_offsets topic, created on the first
 * FindCoordinator as Kafka does (offsets.topic.num.partitions, compacted,
 * internal), and loaded at start-up: every partition scanned through
 * ctl_log (at most GRP_LOG_SCANS_MAX at once), each record handed to
 * membership or offsets in offset order. A group's requests wait
 * (COORDINATOR_LOAD_IN_PROGRESS) until its partition is loaded; before the
 * topic exists they get NOT_COORDINATOR, as from Kafka. Cluster mode
 * (partitions loaded with leadership): grp_log_cluster.c; appends:
 * grp_log_batch.c; decoding: grp_log_load.c. @thread control */
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/log.h"
#include "control/config.h"
#include "control/ctl_int.h"
#include "control/ctl_log.h"
#include "control/group/grp_log_int.h"

struct grp_log *
grp_log_create(struct grp_coord *c)
{
	struct grp_log *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->c = c;
	l->ctl = grp_coord_ctl(c);
	l->store_index = -1;
	l->oom_batch.l = l;
	l->oom_batch.oom = true;
	l->oom_batch.error = KP_ERR_UNKNOWN_SERVER_ERROR;
	return l;
}

void
grp_log_maybe_free(struct grp_log *l)
{
	if (!l->destroyed || l->scans_inflight > 0 || l->appends_inflight > 0 ||
	    l->kick_inflight)
		return;
	while (l->failed_head != NULL) {
		struct grp_log_batch *b = l->failed_head;

		l->failed_head = b->next;
		grp_log_batch_free(b);
	}
	free(l->part_state);
	free(l->cparts);
	free(l);
}

void
grp_log_destroy(struct grp_log *l)
{
	if (l == NULL)
		return;
	/* Callbacks still to come find l destroyed and run no one's done:
	 * the coordinator is going away. The last of them frees l. */
	l->destroyed = true;
	if (l->scans_inflight > 0 || l->appends_inflight > 0 || l->kick_inflight)
		log_warn("group", "__consumer_offsets: %d scan(s) and %d append(s) unfinished "
			 "at shutdown", l->scans_inflight, l->appends_inflight);
	grp_log_maybe_free(l);
}

const struct md_topic *
grp_log_topic(struct grp_log *l)
{
	struct md_store *st = &l->ctl->store;
	const struct md_topic *t;

	/* Every group request asks: remember where the topic sits in the
	 * store's array (names are unique) instead of walking every topic. */
	if (l->store_index >= 0 && l->store_index < st->topic_count &&
	    strcmp(st->topics[l->store_index].name, GRP_LOG_TOPIC) == 0)
		return &st->topics[l->store_index];
	t = md_store_find(st, kp_str_c(GRP_LOG_TOPIC));
	l->store_index = t != NULL ? (int32_t)(t - st->topics) : -1;
	return t;
}

/* Make the partition table describe t: a topic not the one loaded at
 * start was created since, so all of its partitions are empty (loaded). */
static void
grp_log_track(struct grp_log *l, const struct md_topic *t)
{
	if (l->known && memcmp(l->id.b, t->id.b, sizeof(l->id.b)) == 0)
		return;
	if (l->known)
		log_warn("group", "__consumer_offsets was replaced: its new partitions start "
			 "empty");
	l->known = true;
	l->id = t->id;
	l->epoch++;             /* scans of the old topic no longer count */
	free(l->part_state);
	l->part_state = NULL;
	l->part_count = 0;      /* past part_count: loaded */
	l->scan_next = 0;
}

static void grp_log_scan_more(struct grp_log *l);

static void
grp_log_scan_batch(void *arg, const uint8_t *batch, uint32_t len)
{
	struct grp_log_scan *s = arg;
	struct grp_log *l = s->l;

	if (l->destroyed || s->epoch != l->epoch)
		return;
	grp_log_load_batch(l->c, s->partition, batch, len);
}

static void
grp_log_scan_end(void *arg, int16_t error, int64_t end_offset)
{
	struct grp_log_scan *s = arg;
	struct grp_log *l = s->l;

	ASSERT(s->busy);
	ASSERT(l->scans_inflight > 0);
	if (l->destroyed || s->epoch != l->epoch) {
		s->busy = false;
		l->scans_inflight--;
		if (l->destroyed)
			grp_log_maybe_free(l);
		else
			grp_log_scan_more(l);
		return;
	}
	ASSERT(s->partition < l->part_count);
	if (error != KP_ERR_NONE && ++s->tries < GRP_LOG_SCAN_TRIES_MAX) {
		/* Loading again from the start replays the same records in the
		 * same order: the last one still wins. */
		log_warn("group", "__consumer_offsets-%d: loading failed (error %d), again",
			 s->partition, error);
		ctl_log_scan(l->ctl, l->id.b, s->partition, grp_log_scan_batch, grp_log_scan_end,
			     s);
		return;
	}
	if (error != KP_ERR_NONE) {
		log_error("group", "__consumer_offsets-%d: loading failed (error %d); its "
			  "groups are unavailable", s->partition, error);
		l->part_state[s->partition] = GRP_LOG_PART_FAILED;
	} else {
		l->part_state[s->partition] = GRP_LOG_PART_LOADED;
		log_debug("group", "__consumer_offsets-%d loaded up to offset %lld", s->partition,
			  (long long)end_offset);
	}
	if (++l->loaded_count == l->part_count)
		log_info("group", "__consumer_offsets: %d partition(s) loaded", l->part_count);
	s->busy = false;
	l->scans_inflight--;
	grp_log_scan_more(l);
}

static void
grp_log_scan_more(struct grp_log *l)
{
	for (int i = 0; i < GRP_LOG_SCANS_MAX && l->scan_next < l->part_count; i++) {
		struct grp_log_scan *s = &l->scans[i];

		if (s->busy)
			continue;
		s->l = l;
		s->busy = true;
		s->tries = 0;
		s->epoch = l->epoch;
		s->partition = l->scan_next++;
		l->part_state[s->partition] = GRP_LOG_PART_LOADING;
		l->scans_inflight++;
		ctl_log_scan(l->ctl, l->id.b, s->partition, grp_log_scan_batch, grp_log_scan_end,
			     s);
	}
}

void
grp_log_start(struct grp_log *l)
{
	const struct md_topic *t = grp_log_topic(l);

	ASSERT(!l->started);
	l->started = true;
	if (l->cluster) {
		log_info("group", "cluster mode: __consumer_offsets partitions load as this "
			 "broker becomes their leader");
		grp_log_cluster_start(l);
		return;
	}
	if (t == NULL)
		return;         /* created on the first FindCoordinator */
	l->known = true;
	l->id = t->id;
	l->part_state = calloc((size_t)t->partition_count, 1);
	if (l->part_state == NULL)
		PANIC("group: out of memory loading __consumer_offsets");
	l->part_count = t->partition_count;
	log_info("group", "loading __consumer_offsets (%d partition(s))", l->part_count);
	grp_log_scan_more(l);
}

int16_t
grp_log_ensure(struct grp_log *l)
{
	char msg[256];
	int16_t err;

	if (grp_log_topic(l) != NULL)
		return KP_ERR_NONE;
	if (!l->started)
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;        /* no storage yet */
	/* Kafka answers the FindCoordinator that creates the topic with
	 * COORDINATOR_NOT_AVAILABLE; the client asks again. */
	msg[0] = '\0';
	err = ctl_admin_ops.topic_auto_create(l->ctl, kp_str_c(GRP_LOG_TOPIC), msg, sizeof(msg));
	if (err != KP_ERR_NONE)
		log_error("group", "cannot create __consumer_offsets (error %d): %s", err, msg);
	return KP_ERR_COORDINATOR_NOT_AVAILABLE;
}

int16_t
grp_log_ready(struct grp_log *l, struct kp_str group_id)
{
	const struct md_topic *t;
	int32_t p;

	if (!l->started)
		return KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
	if (l->cluster)
		return grp_log_cluster_ready(l, group_id);
	t = grp_log_topic(l);
	if (t == NULL)
		/* Kafka: no partition of the topic is this broker's, so it is
		 * no group's coordinator; only FindCoordinator creates it. */
		return KP_ERR_NOT_COORDINATOR;
	grp_log_track(l, t);
	p = grp_log_partition_of(group_id, t->partition_count);
	if (p >= l->part_count)
		return KP_ERR_NONE;     /* a partition created after start: empty */
	switch (l->part_state[p]) {
	case GRP_LOG_PART_LOADED: return KP_ERR_NONE;
	case GRP_LOG_PART_FAILED: return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	default: return KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
	}
}
