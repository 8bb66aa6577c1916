/* SPDX-License-Identifier: Apache-2.0 */
/* The coordinator's log in cluster mode, as Kafka's GroupMetadataManager
 * loads and unloads: a partition of __consumer_offsets is this broker's
 * while it leads it. Control says so (grp_log_partition_lead); its scan
 * from the log start (what the replica fetcher kept current while this
 * broker followed) feeds grp_load_group / off_load_offset while its groups
 * answer COORDINATOR_LOAD_IN_PROGRESS; once loaded they are served. On
 * resignation they answer NOT_COORDINATOR again and membership drops them.
 * A role older than the latest leader epoch seen is ignored (Kafka's
 * coordinator epoch). A reload waits until the batches appended for the
 * partition's previous groups have run their callbacks, so that those
 * find them gone rather than the reloaded groups. Scans share the
 * single-broker scan slots (GRP_LOG_SCANS_MAX). @thread control */
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/log.h"
#include "control/ctl_int.h"
#include "control/ctl_log.h"
#include "control/group/grp_log_int.h"

/* Partitions of __consumer_offsets we keep state for (Kafka caps
 * offsets.topic.num.partitions far lower). */
#define GRP_LOG_CPARTS_MAX 100000

void
grp_log_set_cluster(struct grp_log *l)
{
	ASSERT(!l->started);
	l->cluster = true;
}

/* The state of partition (NULL past what was ever led). */
static struct grp_log_cpart *
grp_log_cpart(const struct grp_log *l, int32_t partition)
{
	if (partition < 0 || partition >= l->cpart_cap)
		return NULL;
	return &l->cparts[partition];
}

/* Room for partition in cparts; false when out of memory or past the bound. */
static bool
grp_log_cparts_reserve(struct grp_log *l, int32_t partition)
{
	int32_t cap;
	struct grp_log_cpart *p;

	if (partition < 0 || partition >= GRP_LOG_CPARTS_MAX)
		return false;
	if (partition < l->cpart_cap)
		return true;
	cap = l->cpart_cap == 0 ? 64 : l->cpart_cap;
	while (cap <= partition)
		cap *= 2;
	p = realloc(l->cparts, (size_t)cap * sizeof(*p));
	if (p == NULL)
		return false;
	memset(p + l->cpart_cap, 0, (size_t)(cap - l->cpart_cap) * sizeof(*p));
	for (int32_t i = l->cpart_cap; i < cap; i++)
		p[i].state = GRP_LOG_PART_UNOWNED;
	l->cparts = p;
	l->cpart_cap = cap;
	return true;
}

/* Whether a role at leader_epoch is current (and remember the epoch). */
static bool
grp_log_epoch_current(struct grp_log_cpart *cp, int32_t leader_epoch)
{
	if (leader_epoch < 0)
		return true;    /* no epoch given: always applies */
	if (cp->has_epoch && leader_epoch < cp->epoch)
		return false;
	cp->has_epoch = true;
	cp->epoch = leader_epoch;
	return true;
}

static void grp_log_cluster_scan_more(struct grp_log *l);

static void
grp_log_cluster_scan_batch(void *arg, const uint8_t *batch, uint32_t len)
{
	struct grp_log_scan *s = arg;
	struct grp_log *l = s->l;
	const struct grp_log_cpart *cp = grp_log_cpart(l, s->partition);

	if (l->destroyed || cp == NULL || cp->gen != s->epoch)
		return;         /* unloaded (and maybe led again) since */
	grp_log_load_batch(l->c, s->partition, batch, len);
}

static void
grp_log_cluster_scan_end(void *arg, int16_t error, int64_t end_offset)
{
	struct grp_log_scan *s = arg;
	struct grp_log *l = s->l;
	struct grp_log_cpart *cp = grp_log_cpart(l, s->partition);

	ASSERT(s->busy);
	ASSERT(l->scans_inflight > 0);
	if (!l->destroyed && cp != NULL && cp->gen == s->epoch) {
		if (error != KP_ERR_NONE && ++s->tries < GRP_LOG_SCAN_TRIES_MAX) {
			log_warn("group", "__consumer_offsets-%d: loading failed (error %d), "
				 "again", s->partition, error);
			ctl_log_scan(l->ctl, s->topic_id, s->partition,
				     grp_log_cluster_scan_batch, grp_log_cluster_scan_end, s);
			return;
		}
		if (error != KP_ERR_NONE) {
			log_error("group", "__consumer_offsets-%d: loading failed (error %d); its "
				  "groups are unavailable", s->partition, error);
			cp->state = GRP_LOG_PART_FAILED;
		} else {
			cp->state = GRP_LOG_PART_LOADED;
			log_info("group", "__consumer_offsets-%d loaded up to offset %lld "
				 "(leader epoch %d)", s->partition, (long long)end_offset,
				 cp->epoch);
		}
	}
	s->busy = false;
	l->scans_inflight--;
	if (l->destroyed)
		grp_log_maybe_free(l);
	else
		grp_log_cluster_scan_more(l);
}

/* The next partition waiting to load that may start now, or -1. */
static int32_t
grp_log_cluster_next(struct grp_log *l)
{
	for (int32_t n = 0; n < l->cpart_cap; n++) {
		int32_t p = (l->cscan_next + n) % l->cpart_cap;
		const struct grp_log_cpart *cp = &l->cparts[p];

		if (cp->state == GRP_LOG_PART_WAITING && cp->appends == 0) {
			l->cscan_next = (p + 1) % l->cpart_cap;
			return p;
		}
	}
	return -1;
}

static void
grp_log_cluster_scan_more(struct grp_log *l)
{
	const struct md_topic *t;

	if (!l->started || l->destroyed || l->scans_inflight >= GRP_LOG_SCANS_MAX)
		return;         /* not started: no storage yet (grp_log_cluster_start) */
	t = grp_log_topic(l);
	if (t == NULL)
		return;         /* not in the store yet: the next ready() looks again */
	for (int i = 0; i < GRP_LOG_SCANS_MAX; i++) {
		struct grp_log_scan *s = &l->scans[i];
		int32_t p;

		if (s->busy)
			continue;
		p = grp_log_cluster_next(l);
		if (p < 0)
			return;
		s->l = l;
		s->busy = true;
		s->tries = 0;
		s->partition = p;
		s->epoch = l->cparts[p].gen;
		memcpy(s->topic_id, t->id.b, sizeof(s->topic_id));
		l->cparts[p].state = GRP_LOG_PART_LOADING;
		l->scans_inflight++;
		log_info("group", "loading __consumer_offsets-%d (leader epoch %d)", p,
			 l->cparts[p].epoch);
		ctl_log_scan(l->ctl, s->topic_id, p, grp_log_cluster_scan_batch,
			     grp_log_cluster_scan_end, s);
	}
}

void
grp_log_cluster_start(struct grp_log *l)
{
	grp_log_cluster_scan_more(l);
}

void
grp_log_partition_lead(struct grp_log *l, int32_t partition, int32_t leader_epoch)
{
	const struct md_topic *t = grp_log_topic(l);
	struct grp_log_cpart *cp;

	ASSERT(l->cluster);
	if (!grp_log_cparts_reserve(l, partition)) {
		log_error("group", "__consumer_offsets-%d: cannot keep its state; its groups "
			  "stay unavailable here", partition);
		return;
	}
	cp = &l->cparts[partition];
	if (!grp_log_epoch_current(cp, leader_epoch)) {
		log_info("group", "__consumer_offsets-%d: not loading for leader epoch %d, "
			 "older than %d", partition, leader_epoch, cp->epoch);
		return;
	}
	if (t != NULL)
		l->cpart_topic_count = t->partition_count;
	/* Kafka loads a partition it does not own yet; a failed load is
	 * tried again with the new leadership. */
	if (cp->state != GRP_LOG_PART_UNOWNED && cp->state != GRP_LOG_PART_FAILED)
		return;
	cp->state = GRP_LOG_PART_WAITING;
	cp->gen++;
	grp_log_cluster_scan_more(l);
}

int32_t
grp_log_partition_resign(struct grp_log *l, int32_t partition, int32_t leader_epoch)
{
	const struct md_topic *t = grp_log_topic(l);
	struct grp_log_cpart *cp = grp_log_cpart(l, partition);

	ASSERT(l->cluster);
	if (cp == NULL || !grp_log_epoch_current(cp, leader_epoch) ||
	    cp->state == GRP_LOG_PART_UNOWNED)
		return -1;
	log_info("group", "__consumer_offsets-%d: no longer led here (leader epoch %d): "
		 "unloading its groups", partition, leader_epoch);
	cp->state = GRP_LOG_PART_UNOWNED;
	cp->gen++;              /* a scan under way loads nothing more */
	if (t != NULL)
		return t->partition_count;
	return l->cpart_topic_count > partition ? l->cpart_topic_count : -1;
}

int16_t
grp_log_cluster_ready(struct grp_log *l, struct kp_str group_id)
{
	const struct md_topic *t = grp_log_topic(l);
	const struct grp_log_cpart *cp;

	if (t == NULL)
		return KP_ERR_NOT_COORDINATOR;
	cp = grp_log_cpart(l, grp_log_partition_of(group_id, t->partition_count));
	switch (cp != NULL ? cp->state : GRP_LOG_PART_UNOWNED) {
	case GRP_LOG_PART_LOADED:
		return KP_ERR_NONE;
	case GRP_LOG_PART_FAILED:
		return KP_ERR_COORDINATOR_NOT_AVAILABLE;
	case GRP_LOG_PART_WAITING:
		grp_log_cluster_scan_more(l);  /* the topic may have reached the store */
		return KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
	case GRP_LOG_PART_LOADING:
		return KP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
	default:
		return KP_ERR_NOT_COORDINATOR;
	}
}

bool
grp_log_loading(const struct grp_log *l)
{
	for (int32_t p = 0; l->cluster && p < l->cpart_cap; p++)
		if (l->cparts[p].state == GRP_LOG_PART_WAITING ||
		    l->cparts[p].state == GRP_LOG_PART_LOADING)
			return true;
	return false;
}

void
grp_log_cluster_appends(struct grp_log *l, int32_t partition, int32_t delta)
{
	struct grp_log_cpart *cp = grp_log_cpart(l, partition);

	if (!l->cluster || l->destroyed)
		return;
	if (cp == NULL) {
		/* Never led: counted only so that a later reload waits. */
		if (delta < 0 || !grp_log_cparts_reserve(l, partition))
			return;
		cp = &l->cparts[partition];
	}
	cp->appends += delta;
	ASSERT(cp->appends >= 0);
	if (cp->appends == 0 && cp->state == GRP_LOG_PART_WAITING)
		grp_log_cluster_scan_more(l);
}
