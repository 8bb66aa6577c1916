/* SPDX-License-Identifier: Apache-2.0 */
/* Open-file cache of one storage worker: file descriptors and memory maps
 * are budgeted, not held for a partition's life. Owners (segments) embed an
 * fcache_entry per group of files they open and close together; an entry
 * that is open and unpinned sits on an LRU list and is closed (evicted)
 * when the worker needs room. Pinned entries (IO in flight, a region being
 * sent, a lookup running) are never evicted. Knows nothing about files:
 * the owner opens them and the entry's evict callback closes them.
 * Internal to storage/. @thread storage (the owning worker) */
#ifndef STORAGE_FCACHE_INT_H
#define STORAGE_FCACHE_INT_H

#include <stdbool.h>
#include <stdint.h>

struct fcache_entry;

/* Close the entry's files. Called by the cache only, on an unpinned open
 * entry that the cache has already taken off its list and uncounted. */
typedef void fcache_evict_fn(struct fcache_entry *e);

struct fcache_entry {
	struct fcache_entry *prev;      /* LRU neighbours while open and unpinned */
	struct fcache_entry *next;
	fcache_evict_fn *evict;
	uint32_t pins;
	uint16_t fds;                   /* held while open */
	uint16_t maps;
	bool open;
};

struct fcache {
	struct fcache_entry lru;        /* sentinel: lru.next is the most recent */
	uint32_t fds_open;              /* held by open entries, pinned or not */
	uint32_t maps_open;
	uint32_t fds_max;               /* budgets: unpinned entries are evicted above */
	uint32_t maps_max;
	uint32_t entries_open;
	uint64_t hits;                  /* pins of an entry that was open */
	uint64_t misses;                /* opens (fcache_opened) */
	uint64_t evictions;
};

void fcache_init(struct fcache *fc, uint32_t fds_max, uint32_t maps_max);
/* Every entry must have been closed (fcache_closed or evicted). */
void fcache_fini(struct fcache *fc);
void fcache_entry_init(struct fcache_entry *e, fcache_evict_fn *evict);

/* Evict least recently used entries until fds more descriptors and maps
 * more maps fit in the budget (or nothing unpinned is left). Call before
 * opening an entry's files. */
void fcache_reserve(struct fcache *fc, uint32_t fds, uint32_t maps);
/* Evict every unpinned entry: an open failed with EMFILE/ENFILE/ENOMEM and
 * is about to be retried once. Returns how many were evicted. */
uint32_t fcache_shrink(struct fcache *fc);
/* The owner opened e's files, holding fds descriptors and maps maps: e is
 * open and pinned once. */
void fcache_opened(struct fcache *fc, struct fcache_entry *e, uint32_t fds, uint32_t maps);
/* Pin an open entry (a hit): it cannot be evicted until unpinned. */
void fcache_pin(struct fcache *fc, struct fcache_entry *e);
/* Drop a pin; the last one makes e the most recently used, and the cache
 * evicts down to its budget. */
void fcache_unpin(struct fcache *fc, struct fcache_entry *e);
/* The owner closed e's files itself (e unpinned, or its owner is going
 * away with it pinned by nobody else). */
void fcache_closed(struct fcache *fc, struct fcache_entry *e);

#endif
