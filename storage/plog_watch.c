/* SPDX-License-Identifier: Apache-2.0 */
/* Long-poll watches on a partition log: a Fetch waiting for data registers
 * one and hears when the high watermark passes its offset, when its
 * deadline passes, or when the partition goes away. */
#include "storage/plog_int.h"

/* What a watch waits to pass: the high watermark, or for a follower's
 * fetch the log end. */
static int64_t
plog_watch_limit(const struct plog *plog, const struct plog_watch *w)
{
	return w->replica ? plog->hw : plog_hw_visible(plog);
}

void
plog_watch(struct plog *plog, struct plog_watch *w)
{
	if (plog_watch_limit(plog, w) > w->offset) {
		w->next = NULL;
		plog->ops->watch_done(plog->ops_ctx, plog, w);
		return;
	}
	w->next = plog->watches;
	plog->watches = w;
}

/* Complete the watches that are due: by the high watermark, or (expire)
 * by their deadline, as expired. */
static void
plog_watch_complete_due(struct plog *plog, bool expire, uint64_t now_ns)
{
	struct plog_watch **pw = &plog->watches, *w;

	while ((w = *pw) != NULL) {
		if (expire ? w->deadline_ns > now_ns : plog_watch_limit(plog, w) <= w->offset) {
			pw = &w->next;
			continue;
		}
		*pw = w->next;
		w->next = NULL;
		if (expire)
			w->offset = -1;         /* tells the worker: expired, no reply */
		plog->ops->watch_done(plog->ops_ctx, plog, w);
	}
}

void
plog_watch_check(struct plog *plog)
{
	plog_watch_complete_due(plog, false, 0);
}

void
plog_watch_expire(struct plog *plog, uint64_t now_ns)
{
	plog_watch_complete_due(plog, true, now_ns);
}

void
plog_watch_drop_all(struct plog *plog)
{
	while (plog->watches != NULL) {
		struct plog_watch *w = plog->watches;

		plog->watches = w->next;
		w->offset = PLOG_WATCH_GONE;    /* the waiter must hear of it */
		plog->ops->watch_done(plog->ops_ctx, plog, w);
	}
}
