/* SPDX-License-Identifier: Apache-2.0 */
/* DeleteGroups v0-2 (Kafka's GroupCoordinator.handleDeleteGroups): a group
 * without members loses its offsets (offsets writes their tombstones) and
 * then its metadata (a group tombstone); the request is answered, parked,
 * once every named group is done. Groups with members: NON_EMPTY_GROUP;
 * unknown ones: GROUP_ID_NOT_FOUND. @thread control */
#include "control/group/grp_coord.h"

#include <stdlib.h>

#include "control/ctl_park.h"
#include "protocol/gen/kp_msg_delete_groups.h"

enum kp_verdict grp_delete_handle(struct grp_coord *c, struct kp_group_call *call);

struct grp_delete_item {
	struct grp_delete_item *next;
	struct grp_delete_req *req;
	char *group_id;
	int16_t error;
};

/* One request: its groups in order, and how many are still being deleted
 * (one more while the handler runs, so a synchronous done cannot answer
 * early). */
struct grp_delete_req {
	struct grp_coord *c;
	struct ctl_park *park;
	struct grp_delete_item *items;
	struct grp_delete_item **tail;
	int32_t count;
	int32_t outstanding;
};

static void
grp_delete_finish(struct grp_delete_req *d)
{
	struct kp_delete_groups_response resp;
	struct kp_writer w, sub;

	if (--d->outstanding > 0)
		return;
	kp_writer_init(&sub, 64);
	for (struct grp_delete_item *it = d->items; it != NULL; it = it->next) {
		struct kp_delete_groups_response_deletable_group_result e;

		kp_delete_groups_response_deletable_group_result_init(&e);
		e.group_id = kp_str_c(it->group_id != NULL ? it->group_id : "");
		e.error_code = it->error;
		kp_delete_groups_response_deletable_group_result_encode(&sub, d->park->api_version,
									&e);
	}
	kp_delete_groups_response_init(&resp);
	resp.results = kp_array_wire(d->count, &sub);
	ctl_park_begin(d->park, &w);
	kp_delete_groups_response_encode(&w, d->park->api_version, &resp);
	ctl_park_send(d->c->ctl, d->park, &w);
	kp_writer_free(&sub);
	while (d->items != NULL) {
		struct grp_delete_item *it = d->items;

		d->items = it->next;
		free(it->group_id);
		free(it);
	}
	free(d);
}

static void
grp_delete_tombstoned(void *arg, int16_t error)
{
	struct grp_delete_item *it = arg;
	struct grp_coord *c = it->req->c;
	struct grp *g = grp_find(c, kp_str_c(it->group_id));

	it->error = error;
	if (g != NULL && g->state == GRP_DEAD && g->member_count == 0)
		grp_free(c, g);
	grp_delete_finish(it->req);
}

static void
grp_delete_offsets_done(void *arg, int16_t error)
{
	struct grp_delete_item *it = arg;
	struct grp_coord *c = it->req->c;
	struct grp *g = grp_find(c, kp_str_c(it->group_id));

	if (g == NULL || error != KP_ERR_NONE) {
		it->error = error != KP_ERR_NONE ? error : KP_ERR_NONE;
		if (g != NULL && g->state == GRP_DEAD)
			g->state = GRP_EMPTY;
		grp_delete_finish(it->req);
		return;
	}
	grp_store(c, g, true, grp_delete_tombstoned, it);
}

static void
grp_delete_one(struct grp_coord *c, struct grp_delete_item *it, struct kp_str id)
{
	it->error = grp_check_id(c, id, true);
	if (it->error != KP_ERR_NONE)
		return;
	struct grp *g = grp_find(c, id);

	if (g == NULL || g->state == GRP_DEAD) {
		it->error = KP_ERR_GROUP_ID_NOT_FOUND;
		return;
	}
	if (g->state != GRP_EMPTY || g->member_count > 0) {
		it->error = KP_ERR_NON_EMPTY_GROUP;
		return;
	}
	/* Dead from here: joins answer COORDINATOR_NOT_AVAILABLE meanwhile. */
	g->state = GRP_DEAD;
	it->req->outstanding++;
	off_group_delete_all(c, g, grp_delete_offsets_done, it);
}

static bool
grp_delete_seen(const struct grp_delete_req *d, struct kp_str id)
{
	for (const struct grp_delete_item *it = d->items; it != NULL; it = it->next)
		if (it->group_id != NULL && grp_str_is(it->group_id, id))
			return true;
	return false;
}

enum kp_verdict
grp_delete_handle(struct grp_coord *c, struct kp_group_call *call)
{
	struct kp_delete_groups_request r;
	struct grp_delete_req *d;
	int16_t v = call->api_version;

	if (kp_delete_groups_request_decode(&call->body, v, &r) != 0)
		return KP_VERDICT_CLOSE;
	if (r.groups_names.count > GRP_BATCH_GROUPS_MAX)
		return KP_VERDICT_CLOSE;        /* far above any admin client's batch */
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return KP_VERDICT_CLOSE;
	d->park = ctl_park_take(c->ctl);
	if (d->park == NULL) {
		free(d);
		return KP_VERDICT_CLOSE;
	}
	d->c = c;
	d->tail = &d->items;
	d->outstanding = 1;
	struct kp_cursor cur = kp_array_cursor(&r.groups_names);

	for (int32_t i = 0; i < r.groups_names.count; i++) {
		struct kp_str id = kp_read_string(&cur, v >= 2);

		/* Kafka answers each distinct group once. */
		if (cur.err == 0 && grp_delete_seen(d, id))
			continue;
		struct grp_delete_item *it = calloc(1, sizeof(*it));

		if (it == NULL)
			break;
		it->req = d;
		it->group_id = grp_strdup(id);
		*d->tail = it;
		d->tail = &it->next;
		d->count++;
		if (cur.err != 0 || (id.len >= 0 && it->group_id == NULL))
			it->error = KP_ERR_INVALID_REQUEST;
		else
			grp_delete_one(c, it, id);
	}
	grp_delete_finish(d);
	return KP_VERDICT_PARKED;
}
