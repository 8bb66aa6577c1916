/* SPDX-License-Identifier: Apache-2.0 */
/* Which __consumer_offsets partition holds a group: Kafka's
 * Utils.abs(groupId.hashCode) % partitions, with Java's String.hashCode over
 * the UTF-16 code units of the id (decoded from UTF-8 as Java does, a
 * malformed byte counting as U+FFFD). Pure function, no state. @thread any */
#include <stdint.h>

#include "common/assert.h"
#include "control/group/grp_int.h"

/* One code point from s[*i..len), advancing *i; U+FFFD for a malformed byte. */
static uint32_t
hash_utf8_next(const uint8_t *s, int32_t len, int32_t *i)
{
	uint8_t b = s[*i];
	int32_t need = b >= 0xf0 && b < 0xf5 ? 3 : b >= 0xe0 ? 2 : b >= 0xc2 ? 1 : 0;
	uint32_t cp = need == 3 ? b & 0x07u : need == 2 ? b & 0x0fu : b & 0x1fu;

	if (b < 0x80) {
		(*i)++;
		return b;
	}
	if (need == 0 || b >= 0xf5 || *i + need >= len) {
		(*i)++;
		return 0xfffd;
	}
	for (int32_t k = 1; k <= need; k++) {
		if ((s[*i + k] & 0xc0) != 0x80) {
			(*i)++;
			return 0xfffd;
		}
		cp = (cp << 6) | (s[*i + k] & 0x3fu);
	}
	if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) ||
	    (need == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
		(*i)++;
		return 0xfffd;
	}
	*i += need + 1;
	return cp;
}

int32_t
grp_log_partition_of(struct kp_str group_id, int32_t partitions)
{
	const uint8_t *s = (const uint8_t *)group_id.ptr;
	uint32_t h = 0;         /* Java int arithmetic wraps: unsigned here */
	int32_t i = 0;
	int32_t hs;

	ASSERT(partitions > 0);
	while (i < group_id.len) {
		uint32_t cp = hash_utf8_next(s, group_id.len, &i);

		if (cp >= 0x10000) {
			h = h * 31u + (0xd800u + ((cp - 0x10000u) >> 10));
			h = h * 31u + (0xdc00u + ((cp - 0x10000u) & 0x3ffu));
		} else {
			h = h * 31u + cp;
		}
	}
	hs = (int32_t)h;
	if (hs == INT32_MIN)    /* Kafka's Utils.abs */
		return 0;
	return (hs < 0 ? -hs : hs) % partitions;
}
