/* SPDX-License-Identifier: Apache-2.0 */
/* Reopening a partition log after a crash or a clean stop: CRC-scan only
 * the tail of each segment (from its last offset-index entry, so the work
 * does not grow with the data), cut a torn tail, rebuild missing or stale
 * indexes, and rebuild producer state from the newest snapshot plus the
 * batches after it. Sealed segments are checked too: after a power loss a
 * segment rolled just before it may end in a batch whose sync never ran
 * (plog_roll() asks for one), and a torn batch served to a consumer breaks
 * it. A .txnindex is sanity-checked when its segment opens (a torn entry
 * cut) and here loses the entries whose ABORT marker is no longer in the
 * log; the markers replayed (from the producer-state snapshot on) end their
 * transactions and append the aborts the .txnindex lacks. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "common/log.h"
#include "storage/plog_int.h"
#include "storage/pstate.h"
#include "storage/txn_marker.h"

struct recovery_buf {
	uint8_t *p;
	size_t cap;
};

static bool
recovery_crc_ok(struct plog *plog, struct segment *seg, int64_t pos, int64_t total,
		struct recovery_buf *b)
{
	uint8_t *grown;

	if ((size_t)total > b->cap) {
		grown = realloc(b->p, (size_t)total);
		if (grown == NULL)
			return false;
		b->p = grown;
		b->cap = (size_t)total;
	}
	if (sio_pread(plog->sio, seg->fd, b->p, (size_t)total, pos) != (ssize_t)total)
		return false;
	return rbatch_crc_ok(b->p, (size_t)total) != 0;
}

/* Walk batches from pos, updating seg's bookkeeping and indexes; the batch
 * at pos is already indexed when indexed_first. Returns where valid data
 * ends. */
static int64_t
recovery_scan(struct plog *plog, struct segment *seg, int64_t pos, bool check_crc,
	      bool indexed_first)
{
	struct recovery_buf buf = { 0 };
	int64_t expected_min = seg->base_offset, total, last, file_size = seg->size;
	struct rbatch_header h;

	while (segment_batch_at(plog->sio, seg, pos, file_size, &h) == 0) {
		total = rbatch_total_bytes(&h);
		last = h.base_offset + h.last_offset_delta;
		if (h.base_offset < expected_min || last - seg->base_offset > INT32_MAX)
			break;
		if (check_crc && !recovery_crc_ok(plog, seg, pos, total, &buf))
			break;
		if (indexed_first) {
			if (h.max_timestamp > seg->max_timestamp) {
				seg->max_timestamp = h.max_timestamp;
				seg->max_timestamp_offset = last;
			}
			seg->next_offset = last + 1;
			seg->bytes_since_index = total;
			indexed_first = false;
		} else {
			segment_batch_landed(seg, &h, pos, plog->cfg.index_interval_bytes);
		}
		expected_min = last + 1;
		pos += total;
	}
	free(buf.p);
	seg->size = file_size;
	return pos;
}

/* The last offset-index entry must point at a batch ending at its offset. */
static bool
recovery_index_ok(struct plog *plog, struct segment *seg)
{
	struct rbatch_header h;
	uint32_t rel, pos;

	if (seg->oidx.entry_count == 0)
		return true;
	segment_index_offset_at(&seg->oidx, seg->oidx.entry_count - 1, &rel, &pos);
	if (segment_batch_at(plog->sio, seg, pos, seg->size, &h) != 0)
		return false;
	return h.base_offset + h.last_offset_delta == seg->base_offset + rel;
}

static void
recovery_time_index_trim(struct segment *seg, uint32_t rel_max)
{
	uint32_t n = seg->tidx.entry_count, rel;
	int64_t ts;

	while (n > 0) {
		segment_index_time_at(&seg->tidx, n - 1, &ts, &rel);
		if (rel <= rel_max)
			break;
		n--;
	}
	segment_index_truncate(&seg->tidx, n);
	seg->max_timestamp = -1;
	seg->max_timestamp_offset = -1;
	if (n > 0) {
		segment_index_time_at(&seg->tidx, n - 1, &ts, &rel);
		seg->max_timestamp = ts;
		seg->max_timestamp_offset = seg->base_offset + rel;
	}
}

int
recovery_reindex(struct plog *plog, struct segment *seg)
{
	bool sealed = seg->sealed;
	int rc;

	if (sealed) {
		rc = segment_unseal(seg, plog->cfg.segment_index_bytes);
		if (rc < 0)
			return rc;
	}
	rc = segment_pin(seg);
	if (rc < 0)
		return rc;
	segment_index_truncate(&seg->oidx, 0);
	segment_index_truncate(&seg->tidx, 0);
	seg->max_timestamp = -1;
	seg->max_timestamp_offset = -1;
	seg->bytes_since_index = 0;
	(void)recovery_scan(plog, seg, 0, false, false);
	segment_unpin(seg);
	if (!sealed)
		return 0;
	return segment_seal(plog->sio, seg);
}

/* The active segment: from the last index entry, CRC-check every batch and
 * cut the file after the last good one. */
static int
recovery_tail(struct plog *plog, struct segment *seg)
{
	uint32_t n = seg->oidx.entry_count, rel = 0, pos = 0;
	int64_t end;
	int rc;

	while (n > 0) {
		segment_index_offset_at(&seg->oidx, n - 1, &rel, &pos);
		if (pos < seg->size)
			break;
		n--;
	}
	segment_index_truncate(&seg->oidx, n);
	if (!recovery_index_ok(plog, seg)) {
		segment_index_truncate(&seg->oidx, 0);
		n = 0;
	}
	if (n == 0) {
		rel = 0;
		pos = 0;
		segment_index_truncate(&seg->tidx, 0);
	}
	recovery_time_index_trim(seg, rel);
	seg->next_offset = seg->base_offset;
	seg->bytes_since_index = 0;
	end = recovery_scan(plog, seg, pos, true, n > 0);
	if (end < seg->size) {
		rc = sio_ftruncate(plog->sio, seg->fd, end);
		if (rc < 0)
			return rc;
		seg->size = end;
	}
	seg->synced_size = seg->size;
	return 0;
}

static int
recovery_snapshot_load(struct plog *plog, int64_t offset)
{
	char path[SEGMENT_PATH_MAX];
	uint8_t *buf = NULL;
	int64_t size;
	int fd, rc;

	segment_path(plog->dir, offset, ".snapshot", path, sizeof(path));
	fd = plog_open_file(plog, path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	size = sio_size(plog->sio, fd);
	rc = size <= 0 ? -EINVAL : 0;
	if (rc == 0 && (buf = malloc((size_t)size)) == NULL)
		rc = -ENOMEM;
	if (rc == 0 && sio_pread(plog->sio, fd, buf, (size_t)size, 0) != size)
		rc = -EIO;
	if (rc == 0)
		rc = pstate_snapshot_read(plog->ps, buf, (size_t)size);
	sio_close(plog->sio, fd);
	free(buf);
	return rc;
}

/* The newest snapshot that loads (they are named after segment bases), or
 * the log start with an empty state when none does. Returns where replay
 * starts. */
static int64_t
recovery_snapshot_pick(struct plog *plog)
{
	struct segment *seg;
	size_t producers;
	uint32_t i;
	int rc;

	for (i = plog->seg_count; i-- > 0;) {
		seg = plog->segs[i];
		if (seg->base_offset > plog->next_offset)
			continue;
		rc = recovery_snapshot_load(plog, seg->base_offset);
		if (rc == 0)
			return seg->base_offset;
		/* A torn or corrupt snapshot does not half-load: a failed
		 * pstate_snapshot_read() empties the state again, so the next
		 * older snapshot loads into an empty state with no allocation. */
		producers = pstate_producer_count(plog->ps);
		ASSERT(producers == 0);
	}
	return plog->log_start_offset;
}

/* A marker batch at pos ends its producer's transaction; an ABORT the
 * segment's .txnindex does not hold yet (a torn or missing file, or one
 * the crash came before) is appended to it. True when it was. */
static bool
recovery_replay_marker(struct plog *plog, struct segment *seg, int64_t pos,
		       const struct rbatch_header *h)
{
	uint8_t buf[256];
	struct txn_marker m;
	struct pstate_txn_end end;
	struct txn_aborted txn;
	int64_t total = rbatch_total_bytes(h);

	if (total > (int64_t)sizeof(buf) ||
	    sio_pread(plog->sio, seg->fd, buf, (size_t)total, pos) != (ssize_t)total ||
	    !txn_marker_parse(buf, (size_t)total, &m))
		return false;
	if (pstate_txn_end(plog->ps, m.producer_id, m.producer_epoch, m.coordinator_epoch,
			   h->base_offset, h->max_timestamp, &end) != 0 ||
	    !end.ended || m.type != TXN_MARKER_ABORT || h->base_offset <= seg->txn.last_offset)
		return false;
	txn = (struct txn_aborted){
		.producer_id = m.producer_id, .first_offset = end.first_offset,
		.last_offset = h->base_offset, .last_stable_offset = end.last_stable_offset,
	};
	return segment_txn_append(seg, &txn) == 0;
}

/* One batch's producer state, as its append recorded it; true when it
 * was a marker whose abort went back into the .txnindex. */
static bool
recovery_replay_batch(struct plog *plog, struct segment *seg, int64_t pos,
		      const struct rbatch_header *h)
{
	int64_t last = h->base_offset + h->last_offset_delta;
	int32_t last_seq;

	if (h->attributes & RBATCH_ATTR_CONTROL)
		return recovery_replay_marker(plog, seg, pos, h);
	last_seq = (int32_t)(((int64_t)h->base_sequence + h->last_offset_delta) % 2147483648LL);
	(void)pstate_record(plog->ps, h->producer_id, h->producer_epoch, h->base_sequence,
			    last_seq, h->base_offset, last, h->max_timestamp);
	if (h->attributes & RBATCH_ATTR_TRANSACTIONAL)
		(void)pstate_txn_begin(plog->ps, h->producer_id, h->base_offset);
	return false;
}

static void
recovery_replay(struct plog *plog, int64_t from)
{
	struct rbatch_header h;
	struct segment *seg;
	int64_t pos, last;
	uint32_t i, rebuilt;

	for (i = 0; i < plog->seg_count; i++) {
		seg = plog->segs[i];
		if (i + 1 < plog->seg_count && plog->segs[i + 1]->base_offset <= from)
			continue;
		if (segment_log_pin(seg) < 0)
			continue;       /* their dedup state is lost, as after -ENOMEM */
		pos = 0;
		rebuilt = 0;
		while (segment_batch_at(plog->sio, seg, pos, seg->size, &h) == 0) {
			last = h.base_offset + h.last_offset_delta;
			if (last >= from && h.producer_id >= 0)
				rebuilt += recovery_replay_batch(plog, seg, pos, &h);
			pos += rbatch_total_bytes(&h);
		}
		segment_log_unpin(seg);
		if (rebuilt > 0)
			log_warn("storage", "%s: %u aborted transactions of segment %lld rebuilt "
				 "into its .txnindex from their markers", plog->dir, rebuilt,
				 (long long)seg->base_offset);
	}
}

/* Where the CRC-valid batches from pos end, touching nothing. */
static int64_t
recovery_valid_end(struct plog *plog, struct segment *seg, int64_t pos)
{
	struct recovery_buf buf = { 0 };
	struct rbatch_header h;
	int64_t total;

	while (segment_batch_at(plog->sio, seg, pos, seg->size, &h) == 0) {
		total = rbatch_total_bytes(&h);
		if (!recovery_crc_ok(plog, seg, pos, total, &buf))
			break;
		pos += total;
	}
	free(buf.p);
	return pos;
}

/* A sealed segment's tail, from its last index entry: if it does not end
 * in whole good batches, cut it after the last good one and rebuild its
 * indexes. The lost batches were never acknowledged with acks=all (their
 * sync had not run); their offsets become a gap, as compaction leaves. */
static int
recovery_sealed_tail(struct plog *plog, struct segment *seg)
{
	uint32_t rel = 0, pos = 0;
	bool cut = false;
	int64_t end;
	int rc;

	rc = segment_pin(seg);
	if (rc < 0)
		return rc;
	/* recovery_index_ok() vouched for the last entry's batch. */
	if (seg->oidx.entry_count > 0)
		segment_index_offset_at(&seg->oidx, seg->oidx.entry_count - 1, &rel, &pos);
	end = recovery_valid_end(plog, seg, pos < seg->size ? pos : 0);
	if (end < seg->size) {
		rc = sio_ftruncate(plog->sio, seg->fd, end);
		if (rc == 0) {
			seg->size = end;
			seg->synced_size = MIN(seg->synced_size, end);
			cut = true;
		}
	}
	segment_unpin(seg);
	if (rc < 0 || !cut)
		return rc;
	return recovery_reindex(plog, seg);    /* entries past the cut go */
}

/* Entries whose marker (lastOffset) lies past the segment's recovered end
 * describe a transaction the log no longer ends: they go. Later slices
 * rebuild the index from the markers instead. */
static int
recovery_txn_trim(struct plog *plog, struct segment *seg)
{
	uint32_t before = seg->txn.entry_count;
	int rc = segment_txn_truncate(seg, seg->next_offset);

	if (rc == 0 && seg->txn.entry_count < before)
		log_warn("storage", "%s: %u aborted transactions past offset %lld left the "
			 ".txnindex of segment %lld", plog->dir, before - seg->txn.entry_count,
			 (long long)seg->next_offset, (long long)seg->base_offset);
	return rc;
}

int
recovery_run(struct plog *plog)
{
	struct segment *active, *seg;
	uint32_t i;
	bool ok;
	int rc;

	ASSERT(plog->seg_count > 0);
	for (i = 0; i + 1 < plog->seg_count; i++) {
		seg = plog->segs[i];
		rc = segment_pin(seg);
		if (rc < 0)
			return rc;
		ok = recovery_index_ok(plog, seg);
		segment_unpin(seg);
		if (!ok) {
			rc = recovery_reindex(plog, seg);
			if (rc < 0)
				return rc;
		}
		rc = recovery_sealed_tail(plog, seg);
		if (rc == 0)
			rc = recovery_txn_trim(plog, seg);
		if (rc < 0)
			return rc;
	}
	active = plog_active(plog);
	rc = segment_pin(active);
	if (rc < 0)
		return rc;
	rc = recovery_tail(plog, active);
	segment_unpin(active);
	if (rc == 0)
		rc = recovery_txn_trim(plog, active);
	if (rc < 0)
		return rc;
	plog->log_start_offset = plog->segs[0]->base_offset;
	plog->next_offset = active->next_offset;
	plog->hw = plog->next_offset;
	plog->synced_offset = plog->next_offset;
	plog->write_pos = active->size;
	recovery_replay(plog, recovery_snapshot_pick(plog));
	return 0;
}

void
recovery_pstate_rebuild(struct plog *plog)
{
	struct pstate *ps = pstate_create();

	if (ps == NULL) {
		pstate_truncate(plog->ps, plog->next_offset);   /* the best it can do */
		return;
	}
	pstate_destroy(plog->ps);
	plog->ps = ps;
	recovery_replay(plog, recovery_snapshot_pick(plog));
}
