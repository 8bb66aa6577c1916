/* SPDX-License-Identifier: Apache-2.0 */
/* The high-watermark checkpoint of cluster mode, as Kafka's
 * replication-offset-checkpoint: one file per log dir ("0" version line,
 * entry count, "topic partition offset" lines), written by control every
 * replica.high.watermark.checkpoint.interval.ms and at shutdown with the
 * high watermark of every partition the dir holds, atomically (synced
 * temporary file, rename, synced directory). It is read once, at
 * st_create(); a partition's first role starts its high watermark there
 * (capped at the log end), so that a broker leading right after a restart
 * never shows consumers records the ISR did not have. @thread control
 * (st_worker_hws: storage) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "storage/st_int.h"

#define ST_HWCK_FILE_MAX (64u << 20)    /* bytes read from one checkpoint */
#define ST_HWCK_TOPIC_MAX 249           /* Kafka's longest topic name */

void
st_hwck_free(struct st_hwck *h)
{
	for (uint32_t i = 0; i < h->count; i++)
		free(h->e[i].topic);
	free(h->e);
	memset(h, 0, sizeof(*h));
}

static int
st_hwck_push(struct st_hwck *h, int dir, const char *topic, size_t topic_len,
	     int32_t partition, int64_t offset)
{
	struct st_hwck_entry *grown, *e;

	if (h->count == h->cap) {
		uint32_t cap = h->cap ? h->cap * 2 : 64;

		grown = realloc(h->e, sizeof(*grown) * cap);
		if (grown == NULL)
			return -ENOMEM;
		h->e = grown;
		h->cap = cap;
	}
	e = &h->e[h->count];
	e->topic = strndup(topic, topic_len);
	if (e->topic == NULL)
		return -ENOMEM;
	e->dir = dir;
	e->partition = partition;
	e->offset = offset;
	h->count++;
	return 0;
}

static int
st_hwck_key_cmp(int dir, const char *topic, int32_t partition, const struct st_hwck_entry *y)
{
	int c;

	if (dir != y->dir)
		return dir < y->dir ? -1 : 1;
	c = strcmp(topic, y->topic);
	if (c != 0)
		return c;
	return partition < y->partition ? -1 : partition > y->partition;
}

static int
st_hwck_cmp(const void *a, const void *b)
{
	const struct st_hwck_entry *x = a;

	return st_hwck_key_cmp(x->dir, x->topic, x->partition, b);
}

/* The whole file, NUL-terminated, malloc'd; NULL (with *err, 0 when the
 * file is missing). */
static char *
st_hwck_read(const char *path, int *err)
{
	struct stat sb;
	char *buf = NULL;
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*err = fd < 0 ? (errno == ENOENT ? 0 : -errno) : 0;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) < 0)
		*err = -errno;
	else if (sb.st_size > (off_t)ST_HWCK_FILE_MAX)
		*err = -EFBIG;
	else if ((buf = malloc((size_t)sb.st_size + 1)) == NULL)
		*err = -ENOMEM;
	else if ((n = pread(fd, buf, (size_t)sb.st_size, 0)) != (ssize_t)sb.st_size)
		*err = n < 0 ? -errno : -EIO;
	close(fd);
	if (*err != 0) {
		free(buf);
		return NULL;
	}
	buf[sb.st_size] = '\0';
	return buf;
}

/* Parse one dir's file into h. 0, -EINVAL (malformed: what it added is
 * dropped by the caller) or -ENOMEM. */
static int
st_hwck_parse(struct st_hwck *h, int dir, const char *text)
{
	const char *p = text, *sp;
	long long version, count, partition, offset;
	int n, rc;

	if (sscanf(p, "%lld\n%lld\n%n", &version, &count, &n) != 2 || version != 0 ||
	    count < 0 || count > (long long)ST_HWCK_FILE_MAX)
		return -EINVAL;
	p += n;
	for (long long i = 0; i < count; i++) {
		sp = strchr(p, ' ');
		if (sp == NULL || sp == p || sp - p > ST_HWCK_TOPIC_MAX ||
		    memchr(p, '\n', (size_t)(sp - p)) != NULL)
			return -EINVAL;
		if (sscanf(sp, " %lld %lld%n", &partition, &offset, &n) != 2 || sp[n] != '\n' ||
		    partition < 0 || partition > INT32_MAX || offset < 0)
			return -EINVAL;
		rc = st_hwck_push(h, dir, p, (size_t)(sp - p), (int32_t)partition, offset);
		if (rc < 0)
			return rc;
		p = sp + n + 1;
	}
	return *p == '\0' ? 0 : -EINVAL;
}

int
st_hwck_load(struct st *st)
{
	char path[4096];
	uint32_t before;
	char *text;
	int err, rc;

	for (int i = 0; i < st->dirs.count; i++) {
		if (st_dirs_is_offline(&st->dirs, i))
			continue;
		snprintf(path, sizeof(path), "%s/%s", st->dirs.paths[i], ST_HWCK_FILE);
		text = st_hwck_read(path, &err);
		if (text == NULL) {
			if (err != 0)
				log_warn("storage", "%s: %s (high watermarks start at 0)", path,
					 strerror(-err));
			continue;
		}
		before = st->hwck.count;
		rc = st_hwck_parse(&st->hwck, i, text);
		free(text);
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0) {
			while (st->hwck.count > before)
				free(st->hwck.e[--st->hwck.count].topic);
			log_warn("storage", "%s: malformed (high watermarks start at 0)", path);
		}
	}
	if (st->hwck.count > 1)
		qsort(st->hwck.e, st->hwck.count, sizeof(*st->hwck.e), st_hwck_cmp);
	return 0;
}

int64_t
st_hwck_find(const struct st *st, int dir, const char *topic, int32_t partition)
{
	uint32_t lo = 0, hi = st->hwck.count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = st_hwck_key_cmp(dir, topic, partition, &st->hwck.e[mid]);

		if (c == 0)
			return st->hwck.e[mid].offset;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* ---- writing: the workers' high watermarks, then one file per dir ---- */

int
st_worker_hws(struct st_worker *w, struct st_admin *call)
{
	struct plog *plog;
	const char *base, *dash;
	int64_t hw;
	int rc;

	for (uint32_t b = 0; b < w->table_slots; b++) {
		for (plog = w->table[b]; plog != NULL; plog = plog->hash_next) {
			hw = plog->repl != NULL ? plog->repl->hw : plog->ck_hw;
			base = strrchr(plog->dir, '/');
			base = base != NULL ? base + 1 : plog->dir;
			dash = strrchr(base, '-');
			if (hw < 0 || dash == NULL || dash == base)
				continue;
			rc = st_hwck_push(call->hws, plog->dir_index, base, (size_t)(dash - base),
					  plog->partition, hw);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static char *
st_hwck_format(const struct st_hwck *h, int dir, size_t *len)
{
	size_t cap = 32, off;
	uint32_t n = 0;
	char *buf;

	for (uint32_t i = 0; i < h->count; i++)
		if (h->e[i].dir == dir) {
			cap += strlen(h->e[i].topic) + 48;
			n++;
		}
	buf = malloc(cap);
	if (buf == NULL)
		return NULL;
	off = (size_t)snprintf(buf, cap, "0\n%u\n", n);
	for (uint32_t i = 0; i < h->count; i++)
		if (h->e[i].dir == dir)
			off += (size_t)snprintf(buf + off, cap - off, "%s %d %" PRId64 "\n",
						h->e[i].topic, (int)h->e[i].partition,
						h->e[i].offset);
	*len = off;
	return buf;
}

/* path.tmp written and synced, renamed over path, the directory synced. */
static int
st_hwck_replace(const char *dir, const char *path, const char *buf, size_t len)
{
	char tmp[4096 + 8];
	ssize_t n;
	int fd, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = write(fd, buf, len);
	if (n != (ssize_t)len)
		rc = n < 0 ? -errno : -EIO;
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		(void)unlink(tmp);
		return rc;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	return 0;
}

int
st_hw_checkpoint(struct st *st)
{
	struct st_hwck all = { 0 };
	char path[4096], *buf;
	size_t len;
	int rc = 0, r;

	for (int i = 0; i < st->cfg.worker_count && rc == 0; i++) {
		struct st_admin call = { .type = ST_ADMIN_HWS, .hws = &all };

		st_admin_one(st, i, &call);
		rc = call.result;
	}
	for (int d = 0; d < st->dirs.count && rc == 0; d++) {
		if (st_dirs_is_offline(&st->dirs, d))
			continue;
		buf = st_hwck_format(&all, d, &len);
		if (buf == NULL) {
			rc = -ENOMEM;
			break;
		}
		snprintf(path, sizeof(path), "%s/%s", st->dirs.paths[d], ST_HWCK_FILE);
		r = st_hwck_replace(st->dirs.paths[d], path, buf, len);
		free(buf);
		if (r < 0) {
			log_warn("storage", "%s: %s", path, strerror(-r));
			rc = r;
		}
	}
	st_hwck_free(&all);
	return rc;
}
