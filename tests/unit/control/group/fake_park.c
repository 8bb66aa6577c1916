/* SPDX-License-Identifier: Apache-2.0 */
/* Test double for control/ctl_park.c: parked requests are remembered with
 * the call that parked them, and every reply (parked or immediate, see
 * grp_harness.c) is recorded as bytes the tests decode with the generated
 * codec. */
#include <stdlib.h>
#include <string.h>

#include "control/ctl_park.h"
#include "tests/unit/control/group/grp_harness.h"

struct th_state th;

struct ctl_park *
ctl_park_take(struct ctl *ctl)
{
	(void)ctl;
	if (th.park_refuse)
		return NULL;
	struct ctl_park *p = calloc(1, sizeof(*p));

	p->api_key = th.cur_api;
	p->api_version = th.cur_version;
	p->correlation_id = th.cur_corr;
	th.parked++;
	return p;
}

void
ctl_park_begin(const struct ctl_park *p, struct kp_writer *w)
{
	(void)p;
	kp_writer_init(w, 64);  /* body only: no frame header in tests */
}

void
th_record(int16_t api, int16_t version, int32_t corr, const struct kp_writer *w, bool dropped)
{
	if (th.reply_count == TH_REPLIES_MAX)
		abort();
	struct th_reply *r = &th.replies[th.reply_count++];

	r->api = api;
	r->version = version;
	r->corr = corr;
	r->dropped = dropped;
	r->len = w != NULL ? w->len : 0;
	r->err = w != NULL ? w->err : 0;
	r->data = malloc(r->len + 1);
	if (r->len > 0)
		memcpy(r->data, w->buf, r->len);
}

void
ctl_park_send(struct ctl *ctl, struct ctl_park *p, struct kp_writer *w)
{
	(void)ctl;
	th_record(p->api_key, p->api_version, p->correlation_id, w, false);
	kp_writer_free(w);
	th.parked--;
	free(p);
}

void
ctl_park_drop(struct ctl *ctl, struct ctl_park *p)
{
	(void)ctl;
	th_record(p->api_key, p->api_version, p->correlation_id, NULL, true);
	th.parked--;
	free(p);
}

uint32_t
ctl_park_count(const struct ctl *ctl)
{
	(void)ctl;
	return (uint32_t)th.parked;
}
