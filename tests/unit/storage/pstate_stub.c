/* SPDX-License-Identifier: Apache-2.0 */
/* Stand-in for storage/pstate.c, linked into storage tests only while that
 * file has not landed: keeps no state, so every batch appends. */
#include <stdlib.h>

#include "storage/pstate.h"

struct pstate {
	int unused;
};

struct pstate *
pstate_create(void)
{
	return calloc(1, sizeof(struct pstate));
}

void
pstate_destroy(struct pstate *ps)
{
	free(ps);
}

enum pstate_verdict
pstate_check(const struct pstate *ps, int64_t producer_id, int16_t epoch, int32_t first_seq,
	     int32_t last_seq, struct pstate_dup *dup, int16_t *error)
{
	(void)ps, (void)producer_id, (void)epoch, (void)first_seq, (void)last_seq;
	(void)dup, (void)error;
	return PSTATE_APPEND;
}

int
pstate_record(struct pstate *ps, int64_t producer_id, int16_t epoch, int32_t first_seq,
	      int32_t last_seq, int64_t base_offset, int64_t last_offset, int64_t timestamp_ms)
{
	(void)ps, (void)producer_id, (void)epoch, (void)first_seq, (void)last_seq;
	(void)base_offset, (void)last_offset, (void)timestamp_ms;
	return 0;
}

void
pstate_truncate(struct pstate *ps, int64_t offset)
{
	(void)ps, (void)offset;
}

void
pstate_expire(struct pstate *ps, int64_t now_ms, int64_t expiration_ms)
{
	(void)ps, (void)now_ms, (void)expiration_ms;
}

size_t
pstate_snapshot_size(const struct pstate *ps)
{
	(void)ps;
	return 4;
}

void
pstate_snapshot_write(const struct pstate *ps, uint8_t *buf)
{
	(void)ps;
	buf[0] = 'S', buf[1] = 'T', buf[2] = 'U', buf[3] = 'B';
}

int
pstate_snapshot_read(struct pstate *ps, const uint8_t *buf, size_t len)
{
	(void)ps, (void)buf;
	return len == 4 ? 0 : -22;
}

size_t
pstate_producer_count(const struct pstate *ps)
{
	(void)ps;
	return 0;
}
