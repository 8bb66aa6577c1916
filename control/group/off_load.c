/* SPDX-License-Identifier: Apache-2.0 */
/* Loading committed offsets back from __consumer_offsets at start-up
 * (Kafka's GroupMetadataManager.doLoadGroupsAndOffsets): the log calls
 * off_load_offset for every offset record in offset order; the last one
 * wins and a tombstone removes the offset. A group known only from its
 * offsets is a simple group (no protocol type), as Kafka makes it.
 * @thread control */
#include "control/group/off_int.h"

void
off_load_offset(struct grp_coord *c, struct kp_str group_id, struct kp_str topic,
		int32_t partition, const struct grp_rec_offset *value)
{
	if (value == NULL) {
		struct grp *g = grp_find(c, group_id);
		struct off_group *o = g != NULL ? off_group_of(g, false) : NULL;
		struct off_entry *e = off_entry_find(o, topic, partition);

		if (e == NULL)
			return;
		off_entry_remove(o, e);
		off_group_drop_if_unused(g);
		/* Only a group that exists through its offsets goes: one
		 * with metadata stays until expiry or its own tombstone. */
		if (grp_protocol_type(g).len < 0)
			grp_maybe_remove(c, g);
		return;
	}
	struct grp *g = grp_find_or_create(c, group_id);
	struct off_group *o = g != NULL ? off_group_of(g, true) : NULL;
	int16_t err = KP_ERR_NONE;
	struct off_entry *e = o != NULL ? off_entry_get(o, topic, partition, &err) : NULL;

	/* Past a bound or out of memory the offset is not kept (as if it
	 * had expired): the broker still starts. */
	if (e != NULL && !off_entry_set(e, value))
		off_entry_maybe_remove(o, e);
	if (g != NULL) {
		off_group_drop_if_unused(g);
		if (!off_group_has_offsets(off_group_of(g, false)) && grp_protocol_type(g).len < 0)
			grp_maybe_remove(c, g);
	}
}
