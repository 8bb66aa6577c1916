/* SPDX-License-Identifier: Apache-2.0 */
/* Encode and decode the __consumer_offsets records (grp_rec.h). Encoding
 * writes the versions Kafka 3.x writes; decoding reads every version Kafka
 * 4.0 knows, through the bounded cursor, trusting no length. It owns no
 * state and must not know about groups or the log. @thread control */
#include "control/group/grp_rec.h"

#include <stdlib.h>

#include "common/assert.h"

void
grp_rec_offset_key_encode(struct kp_writer *w, struct kp_str group, struct kp_str topic,
			  int32_t partition)
{
	kp_write_i16(w, GRP_REC_KEY_OFFSET_V1);
	kp_write_string(w, group, false);
	kp_write_string(w, topic, false);
	kp_write_i32(w, partition);
}

void
grp_rec_group_key_encode(struct kp_writer *w, struct kp_str group)
{
	kp_write_i16(w, GRP_REC_KEY_GROUP);
	kp_write_string(w, group, false);
}

/* A non-nullable string field: null is malformed. */
static struct kp_str
rec_read_str(struct kp_cursor *c, bool flexible)
{
	struct kp_str s = kp_read_string(c, flexible);

	if (c->err == 0 && s.len < 0)
		kp_cursor_fail(c, KP_WIRE_INVALID);
	return s;
}

int
grp_rec_key_decode(const uint8_t *p, size_t len, struct grp_rec_key *k)
{
	struct kp_cursor c = kp_cursor_make(p, len);

	k->version = kp_read_i16(&c);
	k->topic = (struct kp_str){ NULL, -1 };
	k->partition = -1;
	if (c.err != 0)
		return -2;
	if (k->version < GRP_REC_KEY_OFFSET_V0 || k->version > GRP_REC_KEY_GROUP)
		return -1;
	k->group = rec_read_str(&c, false);
	if (k->version != GRP_REC_KEY_GROUP) {
		k->topic = rec_read_str(&c, false);
		k->partition = kp_read_i32(&c);
	}
	return c.err == 0 ? 0 : -2;
}

void
grp_rec_offset_value_encode(struct kp_writer *w, const struct grp_rec_offset *v)
{
	struct kp_str md = v->metadata.len < 0 ? (struct kp_str){ "", 0 } : v->metadata;

	if (v->expire_timestamp_ms != -1) {
		kp_write_i16(w, 1);
		kp_write_i64(w, v->offset);
		kp_write_string(w, md, false);
		kp_write_i64(w, v->commit_timestamp_ms);
		kp_write_i64(w, v->expire_timestamp_ms);
		return;
	}
	kp_write_i16(w, 3);
	kp_write_i64(w, v->offset);
	kp_write_i32(w, v->leader_epoch);
	kp_write_string(w, md, false);
	kp_write_i64(w, v->commit_timestamp_ms);
}

int
grp_rec_offset_value_decode(const uint8_t *p, size_t len, struct grp_rec_offset *v)
{
	struct kp_cursor c = kp_cursor_make(p, len);
	int16_t version = kp_read_i16(&c);
	bool flexible = version >= 4;

	if (c.err != 0 || version < 0 || version > GRP_REC_VALUE_VERSION_MAX)
		return -1;
	v->offset = kp_read_i64(&c);
	v->leader_epoch = version >= 3 ? kp_read_i32(&c) : -1;
	v->metadata = rec_read_str(&c, flexible);
	v->commit_timestamp_ms = kp_read_i64(&c);
	v->expire_timestamp_ms = version == 1 ? kp_read_i64(&c) : -1;
	if (flexible)
		kp_skip_tagged_fields(&c);
	return c.err == 0 ? 0 : -1;
}

static void
rec_member_encode(struct kp_writer *w, const struct grp_rec_member *m)
{
	kp_write_string(w, m->member_id, false);
	kp_write_string(w, m->instance_id, false);
	kp_write_string(w, m->client_id, false);
	kp_write_string(w, m->client_host, false);
	kp_write_i32(w, m->rebalance_timeout_ms);
	kp_write_i32(w, m->session_timeout_ms);
	kp_write_bytes(w, m->subscription, false);
	kp_write_bytes(w, m->assignment, false);
}

void
grp_rec_group_value_encode(struct kp_writer *w, const struct grp_rec_group *v)
{
	ASSERT(v->member_count >= 0);
	kp_write_i16(w, 3);
	kp_write_string(w, v->protocol_type, false);
	kp_write_i32(w, v->generation);
	kp_write_string(w, v->protocol, false);
	kp_write_string(w, v->leader, false);
	kp_write_i64(w, v->current_state_timestamp);
	kp_write_array_len(w, v->member_count, false);
	for (int32_t i = 0; i < v->member_count; i++)
		rec_member_encode(w, &v->members[i]);
}

static void
rec_member_decode(struct kp_cursor *c, int16_t version, struct grp_rec_member *m)
{
	bool flexible = version >= 4;

	m->member_id = rec_read_str(c, flexible);
	m->instance_id = version >= 3 ? kp_read_string(c, flexible) : (struct kp_str){ NULL, -1 };
	m->client_id = rec_read_str(c, flexible);
	m->client_host = rec_read_str(c, flexible);
	m->rebalance_timeout_ms = version >= 1 ? kp_read_i32(c) : -1;
	m->session_timeout_ms = kp_read_i32(c);
	m->subscription = kp_read_bytes(c, flexible);
	m->assignment = kp_read_bytes(c, flexible);
	if (c->err == 0 && (m->subscription.len < 0 || m->assignment.len < 0))
		kp_cursor_fail(c, KP_WIRE_INVALID);
	if (m->rebalance_timeout_ms == -1)      /* Kafka: v0 takes the session timeout */
		m->rebalance_timeout_ms = m->session_timeout_ms;
	if (flexible)
		kp_skip_tagged_fields(c);
}

int
grp_rec_group_value_decode(const uint8_t *p, size_t len, struct grp_rec_group *v,
			   struct grp_rec_member **members)
{
	struct kp_cursor c = kp_cursor_make(p, len);
	int16_t version = kp_read_i16(&c);
	bool flexible = version >= 4;
	struct grp_rec_member *ms = NULL;
	int32_t count;

	*members = NULL;
	if (c.err != 0 || version < 0 || version > GRP_REC_VALUE_VERSION_MAX)
		return -1;
	v->protocol_type = rec_read_str(&c, flexible);
	v->generation = kp_read_i32(&c);
	v->protocol = kp_read_string(&c, flexible);
	v->leader = kp_read_string(&c, flexible);
	v->current_state_timestamp = version >= 2 ? kp_read_i64(&c) : -1;
	/* Bounded by the bytes left (kp_read_array_len) and by a member count
	 * no real group reaches, before anything is allocated. */
	count = kp_read_array_len(&c, flexible, GRP_REC_MEMBERS_MAX);
	if (c.err != 0 || count < 0)
		return -1;
	if (count > 0) {
		ms = calloc((size_t)count, sizeof(*ms));
		if (ms == NULL)
			return -1;
	}
	for (int32_t i = 0; i < count && c.err == 0; i++)
		rec_member_decode(&c, version, &ms[i]);
	if (flexible)
		kp_skip_tagged_fields(&c);
	if (c.err != 0) {
		free(ms);
		return -1;
	}
	v->member_count = count;
	v->members = ms;
	*members = ms;
	return 0;
}
