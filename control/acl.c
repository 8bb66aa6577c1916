/* SPDX-License-Identifier: Apache-2.0 */
/* The ACL store (acl.h): Kafka's controller-side validation, add and
 * remove with one atomic rewrite of <log.dir>/acls each, and the index
 * built for the snapshots. The file has one binding per line:
 * "acl <type> <pattern> <op> <perm> <name> <principal> <host>", codes as on
 * the wire, strings percent-encoded (bytes outside '!'..'~' and '%').
 * @thread control */
#include "control/acl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/atomic_file.h"

/* A copy of acl whose strings live in one heap buffer. */
static int
acl_entry_make(struct acl_entry *e, const struct kp_acl *acl)
{
	size_t n = (size_t)acl->name.len + (size_t)acl->principal.len + (size_t)acl->host.len;
	char *p = malloc(n + 1);

	if (p == NULL)
		return -ENOMEM;
	e->acl = *acl;
	e->buf = p;
	memcpy(p, acl->name.ptr, (size_t)acl->name.len);
	e->acl.name.ptr = p;
	p += acl->name.len;
	memcpy(p, acl->principal.ptr, (size_t)acl->principal.len);
	e->acl.principal.ptr = p;
	p += acl->principal.len;
	memcpy(p, acl->host.ptr, (size_t)acl->host.len);
	e->acl.host.ptr = p;
	return 0;
}

/* The position of acl in the sorted entries; *found when present. */
static int32_t
acl_find(const struct acl_store *as, const struct kp_acl *acl, bool *found)
{
	int32_t lo = 0;
	int32_t hi = as->count;

	*found = false;
	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;
		int r = kp_acl_cmp(&as->entries[mid].acl, acl);

		if (r == 0) {
			*found = true;
			return mid;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
acl_reserve(struct acl_store *as, int32_t more)
{
	int32_t cap = as->cap;
	struct acl_entry *e;

	if (as->count + more <= as->cap)
		return 0;
	if (as->count + more > ACL_BINDINGS_MAX)
		return -ENOSPC;
	while (cap < as->count + more)
		cap = cap == 0 ? 64 : cap * 2;
	e = realloc(as->entries, (size_t)cap * sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	as->entries = e;
	as->cap = cap;
	return 0;
}

/* Insert a copy at its sorted place unless present. 1 added, 0 present,
 * or -errno. */
static int
acl_insert(struct acl_store *as, const struct kp_acl *acl)
{
	bool found;
	int32_t at = acl_find(as, acl, &found);
	struct acl_entry e;
	int rc;

	if (found)
		return 0;
	rc = acl_reserve(as, 1);
	if (rc == 0)
		rc = acl_entry_make(&e, acl);
	if (rc != 0)
		return rc;
	memmove(&as->entries[at + 1], &as->entries[at],
		(size_t)(as->count - at) * sizeof(as->entries[0]));
	as->entries[at] = e;
	as->count++;
	return 1;
}

static void
acl_put_str(FILE *f, struct kp_str s)
{
	fputc(' ', f);
	if (s.len == 0)
		fputs("%", f);  /* a lone '%': the empty string */
	for (int32_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];

		if (c > ' ' && c <= '~' && c != '%')
			fputc(c, f);
		else
			fprintf(f, "%%%02X", c);
	}
}

/* Rewrite the file from the entries. 0 or -errno. */
static int
acl_persist(const struct acl_store *as)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (as->dir[0] == '\0')
		return 0;       /* in memory only: cluster mode keeps ACLs in ZooKeeper */
	f = open_memstream(&buf, &len);
	if (f == NULL)
		return -ENOMEM;
	fputs("# Spillway ACLs: acl <type> <pattern> <op> <perm> <name> <principal> <host>\n", f);
	for (int32_t i = 0; i < as->count; i++) {
		const struct kp_acl *a = &as->entries[i].acl;

		fprintf(f, "acl %d %d %d %d", a->rtype, a->pattern, a->op, a->perm);
		acl_put_str(f, a->name);
		acl_put_str(f, a->principal);
		acl_put_str(f, a->host);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	rc = atomic_file_write(as->dir, ACL_FILE, buf, len);
	free(buf);
	return rc;
}

/* Decode one percent-encoded token in place; its length or -1. */
static int32_t
acl_token(char *tok)
{
	int32_t n = 0;

	if (strcmp(tok, "%") == 0)
		return 0;
	for (char *p = tok; *p != '\0'; p++) {
		unsigned v;

		if (*p == '%') {
			if (sscanf(p + 1, "%2x", &v) != 1 || p[1] == '\0' || p[2] == '\0')
				return -1;
			tok[n++] = (char)v;
			p += 2;
		} else {
			tok[n++] = *p;
		}
	}
	return n > KP_ACL_STRING_BYTES_MAX ? -1 : n;
}

static int
acl_parse_line(struct acl_store *as, char *line)
{
	char *save = NULL;
	char *tok[8];
	int codes[4];
	struct kp_acl acl;
	int32_t len[3];
	char msg[256];

	for (int i = 0; i < 8; i++) {
		tok[i] = strtok_r(i == 0 ? line : NULL, " \n", &save);
		if (tok[i] == NULL)
			return -EINVAL;
	}
	if (strcmp(tok[0], "acl") != 0 || strtok_r(NULL, " \n", &save) != NULL)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		char *end;
		long v = strtol(tok[1 + i], &end, 10);

		if (*end != '\0' || v < 0 || v > 127)
			return -EINVAL;
		codes[i] = (int)v;
	}
	for (int i = 0; i < 3; i++) {
		len[i] = acl_token(tok[5 + i]);
		if (len[i] < 0)
			return -EINVAL;
	}
	acl = (struct kp_acl){ (int8_t)codes[0], (int8_t)codes[1], (int8_t)codes[2],
			       (int8_t)codes[3], { tok[5], len[0] }, { tok[6], len[1] },
			       { tok[7], len[2] } };
	if (kp_acl_validate(&acl, msg, sizeof(msg)) != KP_ERR_NONE)
		return -EINVAL;
	return acl_insert(as, &acl) < 0 ? -ENOMEM : 0;
}

int
acl_store_open(struct acl_store *as, const char *log_dir, char *err, size_t err_size)
{
	char path[PATH_MAX + 32];
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	FILE *f;

	memset(as, 0, sizeof(*as));
	if ((size_t)snprintf(as->dir, sizeof(as->dir), "%s", log_dir) >= sizeof(as->dir)) {
		snprintf(err, err_size, "acls: log dir path too long: %s", log_dir);
		return -ENAMETOOLONG;
	}
	snprintf(path, sizeof(path), "%s/%s", log_dir, ACL_FILE);
	f = fopen(path, "re");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, err_size, "acls: cannot read %s: %s", path, strerror(-rc));
		return rc;
	}
	while (rc == 0 && getline(&line, &cap, f) > 0) {
		if (line[0] != '#')
			rc = acl_parse_line(as, line);
	}
	free(line);
	fclose(f);
	if (rc != 0) {
		snprintf(err, err_size, "acls: %s is damaged (%s); fix or remove it", path,
			 strerror(-rc));
		acl_store_close(as);
	}
	return rc;
}

void
acl_store_close(struct acl_store *as)
{
	for (int32_t i = 0; i < as->count; i++)
		free(as->entries[i].buf);
	free(as->entries);
	as->entries = NULL;
	as->count = 0;
	as->cap = 0;
}

/* Take out one binding a failed acl_store_add inserted. */
static void
acl_drop(struct acl_store *as, const struct kp_acl *acl)
{
	bool found;
	int32_t at = acl_find(as, acl, &found);

	if (!found)
		return;
	free(as->entries[at].buf);
	memmove(&as->entries[at], &as->entries[at + 1],
		(size_t)(as->count - at - 1) * sizeof(as->entries[0]));
	as->count--;
}

int
acl_store_add(struct acl_store *as, const struct kp_acl *acls, int32_t count, bool *changed)
{
	bool *added = calloc((size_t)count + 1, sizeof(*added));
	int rc = 0;

	*changed = false;
	if (added == NULL)
		return -ENOMEM;
	for (int32_t i = 0; i < count && rc == 0; i++) {
		int r = acl_insert(as, &acls[i]);

		if (r < 0)
			rc = r;
		added[i] = r == 1;
		*changed = *changed || r == 1;
	}
	if (rc == 0 && *changed)
		rc = acl_persist(as);
	if (rc != 0) {
		for (int32_t i = 0; i < count; i++)
			if (added[i])
				acl_drop(as, &acls[i]);
		*changed = false;
	}
	free(added);
	return rc;
}

void
acl_store_each(const struct acl_store *as, const struct kp_acl_filter *filter, kp_acl_fn *fn,
	       void *arg)
{
	for (int32_t i = 0; i < as->count; i++)
		if (kp_acl_filter_matches(filter, &as->entries[i].acl))
			fn(arg, &as->entries[i].acl);
}

static bool
acl_matched(const struct kp_acl_filter *filters, const bool *skip, int32_t count,
	    const struct kp_acl *acl)
{
	for (int32_t f = 0; f < count; f++)
		if (!skip[f] && kp_acl_filter_matches(&filters[f], acl))
			return true;
	return false;
}

int
acl_store_remove(struct acl_store *as, const struct kp_acl_filter *filters, const bool *skip,
		 int32_t count, kp_acl_removed_fn *fn, void *arg, bool *changed)
{
	struct acl_store kept = *as;
	int32_t old_count = as->count;
	int32_t n = 0;
	int rc;

	*changed = false;
	kept.entries = malloc(((size_t)as->count + 1) * sizeof(*kept.entries));
	if (kept.entries == NULL)
		return -ENOMEM;
	for (int32_t i = 0; i < as->count; i++)
		if (!acl_matched(filters, skip, count, &as->entries[i].acl))
			kept.entries[n++] = as->entries[i];
	kept.count = n;
	if (n == as->count) {
		free(kept.entries);
		return 0;
	}
	rc = acl_persist(&kept);
	if (rc != 0) {
		free(kept.entries);
		return rc;
	}
	for (int32_t f = 0; f < count; f++)
		for (int32_t i = 0; i < as->count && !skip[f]; i++)
			if (kp_acl_filter_matches(&filters[f], &as->entries[i].acl))
				fn(arg, f, &as->entries[i].acl);
	for (int32_t i = 0; i < as->count; i++)
		if (acl_matched(filters, skip, count, &as->entries[i].acl))
			free(as->entries[i].buf);
	free(as->entries);
	as->entries = kept.entries;
	as->count = n;
	as->cap = old_count + 1;
	*changed = true;
	return 0;
}

struct kp_acl_index *
acl_store_index(const struct acl_store *as, const char *super_users, bool allow_if_no_acl)
{
	struct kp_acl *acls = malloc(((size_t)as->count + 1) * sizeof(*acls));
	struct kp_str supers[256];
	int32_t super_count = 0;
	struct kp_acl_index *ix = NULL;
	const char *p = super_users != NULL ? super_users : "";

	if (acls == NULL)
		return NULL;
	for (int32_t i = 0; i < as->count; i++)
		acls[i] = as->entries[i].acl;
	/* super.users: "User:a;User:b", blanks around each name ignored. */
	while (*p != '\0' && super_count < (int32_t)(sizeof(supers) / sizeof(supers[0]))) {
		const char *end = strchr(p, ';');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		const char *s = p;

		while (n > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			n--;
		}
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n > 0)
			supers[super_count++] = (struct kp_str){ s, (int32_t)n };
		p = end != NULL ? end + 1 : p + strlen(p);
	}
	ix = kp_acl_index_build(acls, as->count, supers, super_count, allow_if_no_acl);
	free(acls);
	return ix;
}
