/* SPDX-License-Identifier: Apache-2.0 */
/* Aborted-transaction index of one segment (<base>.txnindex), Kafka's
 * layout (TransactionIndex / AbortedTxn). Reads go through pread in chunks
 * into a stack buffer, so lookups allocate nothing; the file holds one
 * entry per aborted transaction whose marker is in the segment, so it
 * stays small. It never opens files on its own beyond what the caller
 * asks (segment.c keeps the descriptor in the open-file cache). */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>

#include "common/assert.h"
#include "common/be.h"
#include "common/compiler.h"
#include "storage/txn_index.h"

/* Entries read per pread: 2,176 bytes of stack. */
#define TXN_INDEX_CHUNK_ENTRIES 64

void
txn_index_encode(uint8_t buf[TXN_INDEX_ENTRY_BYTES], const struct txn_aborted *txn)
{
	be_write16(buf, TXN_INDEX_VERSION);
	be_write64(buf + 2, (uint64_t)txn->producer_id);
	be_write64(buf + 10, (uint64_t)txn->first_offset);
	be_write64(buf + 18, (uint64_t)txn->last_offset);
	be_write64(buf + 26, (uint64_t)txn->last_stable_offset);
}

bool
txn_index_decode(const uint8_t buf[TXN_INDEX_ENTRY_BYTES], struct txn_aborted *txn)
{
	txn->producer_id = (int64_t)be_read64(buf + 2);
	txn->first_offset = (int64_t)be_read64(buf + 10);
	txn->last_offset = (int64_t)be_read64(buf + 18);
	txn->last_stable_offset = (int64_t)be_read64(buf + 26);
	return be_read16(buf) == TXN_INDEX_VERSION;
}

void
txn_index_init(struct txn_index *ti, int64_t base_offset)
{
	ti->base_offset = base_offset;
	ti->last_offset = -1;
	ti->entry_count = 0;
	ti->fd = -1;
}

int
txn_index_fd_open(struct sio *sio, struct txn_index *ti, const char *path, bool create)
{
	int fd;

	ASSERT(ti->fd < 0);
	fd = sio_open(sio, path, O_RDWR | (create ? O_CREAT : 0), 0644);
	if (fd < 0)
		return fd;
	ti->fd = fd;
	return 0;
}

void
txn_index_fd_close(struct sio *sio, struct txn_index *ti)
{
	if (ti->fd < 0)
		return;
	sio_close(sio, ti->fd);
	ti->fd = -1;
}

/* Read entries [first, first + count) into buf; count <= one chunk. */
static int
txn_index_read(struct sio *sio, const struct txn_index *ti, uint32_t first, uint32_t count,
	       uint8_t *buf)
{
	size_t len = (size_t)count * TXN_INDEX_ENTRY_BYTES;
	ssize_t n;

	ASSERT(ti->fd >= 0 && count <= TXN_INDEX_CHUNK_ENTRIES);
	n = sio_pread(sio, ti->fd, buf, len, (int64_t)first * TXN_INDEX_ENTRY_BYTES);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EIO;
}

/* What the sanity check and append both require of the next entry. */
static bool
txn_index_fits(const struct txn_index *ti, const struct txn_aborted *txn)
{
	return txn->first_offset >= 0 && txn->first_offset <= txn->last_offset &&
	       txn->last_offset >= ti->base_offset && txn->last_offset > ti->last_offset;
}

/* Count the valid leading entries of the `whole` in the file into ti. */
static int
txn_index_count_valid(struct sio *sio, struct txn_index *ti, uint32_t whole)
{
	uint8_t buf[TXN_INDEX_CHUNK_ENTRIES * TXN_INDEX_ENTRY_BYTES];
	struct txn_aborted txn;
	uint32_t i = 0, n, j;
	int rc;

	while (i < whole) {
		n = MIN(whole - i, (uint32_t)TXN_INDEX_CHUNK_ENTRIES);
		rc = txn_index_read(sio, ti, i, n, buf);
		if (rc < 0)
			return rc;
		for (j = 0; j < n; j++, i++) {
			if (!txn_index_decode(buf + (size_t)j * TXN_INDEX_ENTRY_BYTES, &txn) ||
			    !txn_index_fits(ti, &txn))
				return 0;
			ti->last_offset = txn.last_offset;
			ti->entry_count++;
		}
	}
	return 0;
}

int
txn_index_load(struct sio *sio, struct txn_index *ti, const char *path, bool *cut)
{
	int64_t size, keep;
	int rc;

	*cut = false;
	ti->entry_count = 0;
	ti->last_offset = -1;
	rc = txn_index_fd_open(sio, ti, path, false);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	size = sio_size(sio, ti->fd);
	rc = size < 0 ? (int)size : 0;
	/* Far more entries than any segment holds markers for is corruption
	 * too; the count stays a uint32_t. */
	if (rc == 0)
		rc = txn_index_count_valid(sio, ti, (uint32_t)MIN(size / TXN_INDEX_ENTRY_BYTES,
								  (int64_t)INT32_MAX));
	keep = (int64_t)ti->entry_count * TXN_INDEX_ENTRY_BYTES;
	if (rc == 0 && keep != size) {
		rc = sio_ftruncate(sio, ti->fd, keep);
		*cut = rc == 0;
	}
	txn_index_fd_close(sio, ti);
	if (rc < 0) {
		ti->entry_count = 0;
		ti->last_offset = -1;
	}
	return rc;
}

int
txn_index_append(struct sio *sio, struct txn_index *ti, const struct txn_aborted *txn)
{
	uint8_t buf[TXN_INDEX_ENTRY_BYTES];
	int64_t pos = (int64_t)ti->entry_count * TXN_INDEX_ENTRY_BYTES;
	ssize_t n;

	ASSERT(ti->fd >= 0);
	if (!txn_index_fits(ti, txn) || ti->entry_count >= INT32_MAX)
		return -EINVAL;
	txn_index_encode(buf, txn);
	n = sio_pwrite(sio, ti->fd, buf, sizeof(buf), pos);
	if (n != (ssize_t)sizeof(buf)) {
		(void)sio_ftruncate(sio, ti->fd, pos);  /* no torn entry left behind */
		return n < 0 ? (int)n : -EIO;
	}
	ti->entry_count++;
	ti->last_offset = txn->last_offset;
	return 0;
}

int
txn_index_entry_at(struct sio *sio, const struct txn_index *ti, uint32_t i,
		   struct txn_aborted *txn)
{
	uint8_t buf[TXN_INDEX_ENTRY_BYTES];
	int rc;

	ASSERT(i < ti->entry_count);
	rc = txn_index_read(sio, ti, i, 1, buf);
	if (rc == 0 && !txn_index_decode(buf, txn))
		rc = -EIO;
	return rc;
}

int
txn_index_collect(struct sio *sio, const struct txn_index *ti, int64_t fetch_offset,
		  int64_t upper_bound, struct txn_aborted_list *out)
{
	uint8_t buf[TXN_INDEX_CHUNK_ENTRIES * TXN_INDEX_ENTRY_BYTES];
	struct txn_aborted txn;
	uint32_t i = 0, n, j;
	int rc;

	while (i < ti->entry_count) {
		n = MIN(ti->entry_count - i, (uint32_t)TXN_INDEX_CHUNK_ENTRIES);
		rc = txn_index_read(sio, ti, i, n, buf);
		if (rc < 0)
			return rc;
		for (j = 0; j < n; j++, i++) {
			(void)txn_index_decode(buf + (size_t)j * TXN_INDEX_ENTRY_BYTES, &txn);
			if (txn.last_offset >= fetch_offset && txn.first_offset < upper_bound) {
				if (out->count >= out->max)
					return -ENOBUFS;
				out->e[out->count++] = txn;
			}
			if (txn.last_stable_offset >= upper_bound)
				return 1;
		}
	}
	return 0;
}

/* Index of the first entry with lastOffset >= offset (entry_count when
 * none) and the lastOffset of the entry before it (-1 when none). */
static int
txn_index_find(struct sio *sio, const struct txn_index *ti, int64_t offset, uint32_t *at,
	       int64_t *prev_last)
{
	uint8_t buf[TXN_INDEX_CHUNK_ENTRIES * TXN_INDEX_ENTRY_BYTES];
	struct txn_aborted txn;
	uint32_t i = 0, n, j;
	int rc;

	*prev_last = -1;
	while (i < ti->entry_count) {
		n = MIN(ti->entry_count - i, (uint32_t)TXN_INDEX_CHUNK_ENTRIES);
		rc = txn_index_read(sio, ti, i, n, buf);
		if (rc < 0)
			return rc;
		for (j = 0; j < n; j++, i++) {
			(void)txn_index_decode(buf + (size_t)j * TXN_INDEX_ENTRY_BYTES, &txn);
			if (txn.last_offset >= offset) {
				*at = i;
				return 0;
			}
			*prev_last = txn.last_offset;
		}
	}
	*at = i;
	return 0;
}

int
txn_index_truncate(struct sio *sio, struct txn_index *ti, int64_t offset)
{
	int64_t prev_last;
	uint32_t at;
	int rc;

	if (ti->entry_count == 0 || ti->last_offset < offset)
		return 0;
	rc = txn_index_find(sio, ti, offset, &at, &prev_last);
	if (rc == 0)
		rc = sio_ftruncate(sio, ti->fd, (int64_t)at * TXN_INDEX_ENTRY_BYTES);
	if (rc < 0)
		return rc;
	ti->entry_count = at;
	ti->last_offset = prev_last;
	return 0;
}

int
txn_index_sync(struct sio *sio, struct txn_index *ti)
{
	return ti->fd < 0 ? 0 : sio_fsync(sio, ti->fd);
}
