/* SPDX-License-Identifier: Apache-2.0 */
/* Removing committed offsets: OffsetDelete v0 (Kafka's
 * GroupCoordinator.handleDeleteOffsets), DeleteGroups' part
 * (off_group_delete_all) and expiry's (off_tombstone). As in Kafka's
 * cleanupGroupMetadata the offsets leave memory at once (with any commit
 * still pending for them) and their tombstones go to the log in one
 * batch; a group left without members and offsets goes too, with its
 * group tombstone. Requests are answered once the tombstones are durable.
 * @thread control */
#include "control/group/off_int.h"

#include <stdlib.h>
#include <string.h>

#include "control/ctl_int.h"
#include "control/ctl_park.h"
#include "protocol/gen/kp_msg_offset_delete.h"

/* Tombstone e (when it holds a value) into *b, then remove it. */
static int32_t
off_remove_entry(struct grp_coord *c, struct kp_str group_id, struct grp_log_batch **b,
		 struct off_group *o, struct off_entry *e)
{
	int32_t n = 0;

	if (e->committed) {
		if (*b == NULL)
			*b = grp_log_batch_begin(grp_coord_log(c), group_id);
		struct kp_str topic = { e->topic->name, e->topic->name_len };

		if (*b != NULL)
			grp_log_batch_offset(*b, topic, e->partition, NULL);
		n = 1;
	}
	off_entry_remove(o, e);
	return n;
}

/* After removing offsets of g (named by id, a copy): remove g when it has
 * neither members nor offsets, adding its tombstone to *b. */
static void
off_remove_group(struct grp_coord *c, struct grp *g, struct kp_str id, struct grp_log_batch **b)
{
	off_group_drop_if_unused(g);
	if (!grp_is_empty(g) || off_group_has_offsets(off_group_of(g, false)))
		return;
	grp_maybe_remove(c, g);
	if (grp_find(c, id) != NULL)
		return;
	if (*b == NULL)
		*b = grp_log_batch_begin(grp_coord_log(c), id);
	if (*b != NULL)
		grp_log_batch_group(*b, NULL);
}

static void
off_done_ignore(void *arg, int16_t error)
{
	(void)arg;
	(void)error;
}

int32_t
off_tombstone(struct grp_coord *c, struct grp *g,
	      bool (*expired)(void *arg, const struct off_entry *e), void *earg, bool remove_group,
	      void (*done)(void *arg, int16_t error), void *arg)
{
	struct off_group *o = off_group_of(g, false);
	struct grp_log_batch *b = NULL;
	char *id = strdup(grp_id(g));
	struct kp_str sid = kp_str_c(id);
	int32_t n = 0;

	if (done == NULL)
		done = off_done_ignore;
	if (id == NULL) {
		done(arg, KP_ERR_COORDINATOR_NOT_AVAILABLE);
		return 0;
	}
	for (uint32_t bk = 0; o != NULL && bk < o->topic_buckets; bk++) {
		struct off_topic *t = o->topics[bk];

		while (t != NULL) {
			struct off_topic *tnext = t->hnext;
			struct off_entry *e = t->parts;

			/* Removing a topic's last entry frees the topic. */
			while (e != NULL) {
				struct off_entry *enext = e->tnext;

				if (expired == NULL || (e->committed && expired(earg, e)))
					n += off_remove_entry(c, sid, &b, o, e);
				e = enext;
			}
			t = tnext;
		}
	}
	if (remove_group)
		off_remove_group(c, g, sid, &b);
	else
		off_group_drop_if_unused(g);
	if (b != NULL)
		grp_log_batch_commit(b, done, arg);
	else
		done(arg, n > 0 ? KP_ERR_COORDINATOR_NOT_AVAILABLE : KP_ERR_NONE);
	free(id);
	return n;
}

void
off_group_delete_all(struct grp_coord *c, struct grp *g, void (*done)(void *arg, int16_t error),
		     void *arg)
{
	/* The group's own tombstone is membership's (grp_delete.c). */
	(void)off_tombstone(c, g, NULL, NULL, false, done, arg);
}

/* ---- OffsetDelete ---- */

struct off_delete {
	struct grp_coord *c;
	struct ctl_park *park;
	struct kp_writer body;          /* the response, built before the append */
};

static void
off_delete_done(void *arg, int16_t error)
{
	struct off_delete *d = arg;
	struct kp_writer w;

	/* Kafka answers without waiting for its tombstones, so their
	 * outcome does not change the answer; we only wait for them. */
	(void)error;
	ctl_park_begin(d->park, &w);
	kp_write_raw(&w, d->body.buf, d->body.len);
	ctl_park_send(grp_coord_ctl(d->c), d->park, &w);
	kp_writer_free(&d->body);
	free(d);
}

/* The group-level answer, or KP_ERR_NONE with *gp set. */
static int16_t
off_delete_group(struct grp_coord *c, struct kp_str group_id, struct grp **gp)
{
	int16_t err = off_check_id(c, group_id, false);

	if (err != KP_ERR_NONE)
		return err;
	struct grp *g = grp_find(c, group_id);

	if (g == NULL)
		return KP_ERR_GROUP_ID_NOT_FOUND;
	/* Members of a group that is not a consumer group: Kafka cannot
	 * tell what they use. */
	if (!grp_is_empty(g) && !kp_str_eq(grp_protocol_type(g), kp_str_c("consumer")))
		return KP_ERR_NON_EMPTY_GROUP;
	*gp = g;
	return KP_ERR_NONE;
}

static int16_t
off_delete_one(struct grp_coord *c, struct grp *g, struct kp_str topic, int32_t partition,
	       struct grp_log_batch **b, int32_t *tombstones)
{
	const struct kp_md_topic *t = kp_md_topic_by_name(ctl_md(grp_coord_ctl(c)), topic);

	if (!grp_allowed(c, KP_ACL_READ, KP_RES_TOPIC, topic))
		return KP_ERR_TOPIC_AUTHORIZATION_FAILED;
	if (t == NULL || partition < 0 || partition >= t->partition_count)
		return KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	if (!grp_is_empty(g) && grp_subscription_of(g, topic) != GRP_SUB_NO)
		return KP_ERR_GROUP_SUBSCRIBED_TO_TOPIC;       /* also when unknown, as Kafka */
	struct off_group *o = off_group_of(g, false);
	struct off_entry *e = off_entry_find(o, topic, partition);

	if (e != NULL)
		*tombstones += off_remove_entry(c, kp_str_c(grp_id(g)), b, o, e);
	return KP_ERR_NONE;
}

/* Each named partition, answered into topics (encoded request topics, in
 * request order); returns how many topics. */
static int32_t
off_delete_topics(struct grp_coord *c, struct grp *g, const struct kp_offset_delete_request *r,
		  struct kp_writer *topics, struct grp_log_batch **b, int32_t *tombstones)
{
	struct kp_writer parts;
	struct kp_cursor tc = kp_array_cursor(&r->topics);
	int32_t topic_count = 0;
	int16_t v = 0;

	kp_writer_init(topics, 256);
	kp_writer_init(&parts, 256);
	for (int32_t i = 0; i < r->topics.count; i++) {
		struct kp_offset_delete_request_offset_delete_request_topic rt;
		struct kp_offset_delete_response_offset_delete_response_topic et;

		if (kp_offset_delete_request_offset_delete_request_topic_decode(&tc, v, &rt) != 0)
			break;
		struct kp_cursor pc = kp_array_cursor(&rt.partitions);

		parts.len = 0;
		for (int32_t p = 0; p < rt.partitions.count; p++) {
			struct kp_offset_delete_request_offset_delete_request_partition rp;
			struct kp_offset_delete_response_offset_delete_response_partition ep;

			if (kp_offset_delete_request_offset_delete_request_partition_decode(
				    &pc, v, &rp) != 0)
				break;
			kp_offset_delete_response_offset_delete_response_partition_init(&ep);
			ep.partition_index = rp.partition_index;
			ep.error_code = off_delete_one(c, g, rt.name, rp.partition_index, b,
						       tombstones);
			kp_offset_delete_response_offset_delete_response_partition_encode(&parts, v,
											  &ep);
		}
		kp_offset_delete_response_offset_delete_response_topic_init(&et);
		et.name = rt.name;
		et.partitions = kp_array_wire(rt.partitions.count, &parts);
		kp_offset_delete_response_offset_delete_response_topic_encode(topics, v, &et);
		topic_count++;
	}
	kp_writer_free(&parts);
	return topic_count;
}

enum kp_verdict
off_delete_handle(struct grp_coord *c, struct kp_group_call *call)
{
	struct kp_offset_delete_request r;
	struct kp_offset_delete_response resp;
	struct grp *g = NULL;
	struct grp_log_batch *b = NULL;
	int32_t tombstones = 0;
	int16_t v = call->api_version;

	if (kp_offset_delete_request_decode(&call->body, v, &r) != 0)
		return KP_VERDICT_CLOSE;
	kp_offset_delete_response_init(&resp);
	resp.error_code = off_delete_group(c, r.group_id, &g);
	if (resp.error_code != KP_ERR_NONE) {
		kp_offset_delete_response_encode(call->w, v, &resp);
		return KP_VERDICT_REPLY;
	}
	struct off_delete *d = calloc(1, sizeof(*d));
	char *id = strdup(grp_id(g));

	if (d == NULL || id == NULL) {
		free(d);
		free(id);
		return KP_VERDICT_CLOSE;
	}
	struct kp_writer topics;
	int32_t topic_count = off_delete_topics(c, g, &r, &topics, &b, &tombstones);

	if (tombstones > 0)
		off_remove_group(c, g, kp_str_c(id), &b);
	free(id);
	resp.topics = kp_array_wire(topic_count, &topics);
	d->c = c;
	d->park = b != NULL ? ctl_park_take(grp_coord_ctl(c)) : NULL;
	enum kp_verdict verdict = d->park == NULL ? KP_VERDICT_REPLY : KP_VERDICT_PARKED;

	if (d->park == NULL) {
		kp_offset_delete_response_encode(call->w, v, &resp);
		if (b != NULL)
			grp_log_batch_commit(b, off_done_ignore, NULL);
		free(d);
	} else {
		kp_writer_init(&d->body, 256);
		kp_offset_delete_response_encode(&d->body, v, &resp);
		grp_log_batch_commit(b, off_delete_done, d);
	}
	kp_writer_free(&topics);
	return verdict;
}
