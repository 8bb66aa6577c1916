/* SPDX-License-Identifier: Apache-2.0 */
/* The SCRAM credential store (scram_store.h). File format, one line per
 * credential, hex fields:
 *   c <name> <mech> <iterations> <salt> <stored key> <server key>
 * written whole to a temp file and renamed over the old one. */
#include "control/scram_store.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/atomic_file.h"

static void
scram_hex_put(FILE *f, const void *data, size_t len)
{
	const uint8_t *p = data;

	fputc(' ', f);
	if (len == 0)
		fputc('-', f);
	for (size_t i = 0; i < len; i++)
		fprintf(f, "%02x", p[i]);
}

/* Hex token into out; the byte count or -1. */
static int
scram_hex_get(const char *tok, uint8_t *out, size_t out_size)
{
	size_t n = strlen(tok);

	if (strcmp(tok, "-") == 0)
		return 0;
	if (n == 0 || n % 2 != 0 || n / 2 > out_size)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(tok + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return (int)(n / 2);
}

static int
scram_store_save(const struct scram_store *ss)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (ss->dir[0] == '\0')
		return 0;       /* in memory only: cluster mode keeps them in ZooKeeper */
	f = open_memstream(&buf, &len);
	if (f == NULL)
		return -ENOMEM;
	fputs("# Spillway SCRAM credentials: name mech iterations salt stored_key server_key\n",
	      f);
	for (int32_t i = 0; i < ss->count; i++) {
		const struct scram_user *u = &ss->users[i];

		for (int m = 0; m < SCRAM_MECHS; m++) {
			const struct scram_cred *c = &u->cred[m];
			size_t kb = scram_key_bytes((enum scram_mech)m);

			if (!(u->has & (1u << m)))
				continue;
			fputc('c', f);
			scram_hex_put(f, u->name, u->name_len);
			fprintf(f, " %d %d", m, (int)c->iterations);
			scram_hex_put(f, c->salt, c->salt_len);
			scram_hex_put(f, c->stored_key, kb);
			scram_hex_put(f, c->server_key, kb);
			fputc('\n', f);
		}
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	rc = atomic_file_write(ss->dir, SCRAM_STORE_FILE, buf, len);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return rc;
}

static struct scram_user *
scram_store_find(const struct scram_store *ss, const char *name, size_t len)
{
	for (int32_t i = 0; i < ss->count; i++)
		if (ss->users[i].name_len == len && memcmp(ss->users[i].name, name, len) == 0)
			return &ss->users[i];
	return NULL;
}

const struct scram_user *
scram_store_user(const struct scram_store *ss, const char *name, size_t len)
{
	return scram_store_find(ss, name, len);
}

const struct scram_cred *
scram_store_get(const struct scram_store *ss, const char *name, size_t len,
		enum scram_mech mech)
{
	const struct scram_user *u = scram_store_find(ss, name, len);

	return u != NULL && mech < SCRAM_MECHS && (u->has & (1u << mech)) ? &u->cred[mech] : NULL;
}

static struct scram_user *
scram_store_add(struct scram_store *ss, const char *name, size_t len)
{
	struct scram_user *u;

	if (len == 0 || len > SCRAM_NAME_BYTES_MAX || memchr(name, '\0', len) != NULL)
		return NULL;
	if (ss->count == ss->cap) {
		int32_t cap = ss->cap == 0 ? 16 : ss->cap * 2;

		u = realloc(ss->users, sizeof(*u) * (size_t)cap);
		if (u == NULL)
			return NULL;
		ss->users = u;
		ss->cap = cap;
	}
	u = &ss->users[ss->count++];
	memset(u, 0, sizeof(*u));
	memcpy(u->name, name, len);
	u->name_len = (uint32_t)len;
	return u;
}

/* Remove user entry u (it has no credential left). */
static void
scram_store_drop(struct scram_store *ss, struct scram_user *u)
{
	int32_t i = (int32_t)(u - ss->users);

	OPENSSL_cleanse(u, sizeof(*u));
	memmove(u, u + 1, sizeof(*u) * (size_t)(ss->count - i - 1));
	ss->count--;
}

int
scram_store_upsert(struct scram_store *ss, const char *name, size_t len,
		   const struct scram_cred *cred)
{
	struct scram_user *u = scram_store_find(ss, name, len);
	struct scram_cred old;
	bool added = false;
	uint8_t had;
	int rc;

	if (cred->mech >= SCRAM_MECHS)
		return -EINVAL;
	if (u == NULL) {
		if (ss->count >= SCRAM_STORE_USERS_MAX)
			return -ENOSPC;
		if (len == 0 || len > SCRAM_NAME_BYTES_MAX || memchr(name, '\0', len) != NULL)
			return -EINVAL;
		u = scram_store_add(ss, name, len);
		if (u == NULL)
			return -ENOMEM;
		added = true;
	}
	old = u->cred[cred->mech];
	had = u->has;
	u->cred[cred->mech] = *cred;
	u->has |= (uint8_t)(1u << cred->mech);
	rc = scram_store_save(ss);
	if (rc != 0) {
		u->cred[cred->mech] = old;
		u->has = had;
		if (added)
			scram_store_drop(ss, u);
	}
	OPENSSL_cleanse(&old, sizeof(old));
	return rc;
}

int
scram_store_delete(struct scram_store *ss, const char *name, size_t len, enum scram_mech mech)
{
	struct scram_user *u = scram_store_find(ss, name, len);
	int rc;

	if (u == NULL || mech >= SCRAM_MECHS || !(u->has & (1u << mech)))
		return -ENOENT;
	u->has &= (uint8_t)~(1u << mech);      /* a user without any is not written */
	rc = scram_store_save(ss);
	if (rc != 0) {
		u->has |= (uint8_t)(1u << mech);
		return rc;
	}
	OPENSSL_cleanse(&u->cred[mech], sizeof(u->cred[mech]));
	if (u->has == 0)
		scram_store_drop(ss, u);
	return 0;
}

static int
scram_store_parse_line(struct scram_store *ss, char *line)
{
	char *save = NULL, *tok[7];
	uint8_t name[SCRAM_NAME_BYTES_MAX];
	struct scram_user *u;
	struct scram_cred c;
	int n, m, it, kb;

	for (int i = 0; i < 7; i++) {
		tok[i] = strtok_r(i == 0 ? line : NULL, " \n", &save);
		if (tok[i] == NULL)
			return -EINVAL;
	}
	memset(&c, 0, sizeof(c));
	n = scram_hex_get(tok[1], name, sizeof(name));
	if (strcmp(tok[0], "c") != 0 || n <= 0 || sscanf(tok[2], "%d", &m) != 1 || m < 0 ||
	    m >= SCRAM_MECHS || sscanf(tok[3], "%d", &it) != 1 || it <= 0)
		return -EINVAL;
	kb = (int)scram_key_bytes((enum scram_mech)m);
	c.mech = (uint8_t)m;
	c.iterations = it;
	n = scram_hex_get(tok[4], c.salt, sizeof(c.salt));
	if (n < 0 || scram_hex_get(tok[5], c.stored_key, sizeof(c.stored_key)) != kb ||
	    scram_hex_get(tok[6], c.server_key, sizeof(c.server_key)) != kb)
		return -EINVAL;
	c.salt_len = (uint32_t)n;
	n = scram_hex_get(tok[1], name, sizeof(name));
	u = scram_store_find(ss, (const char *)name, (size_t)n);
	if (u == NULL) {
		if (ss->count >= SCRAM_STORE_USERS_MAX)
			return -EINVAL;
		u = scram_store_add(ss, (const char *)name, (size_t)n);
		if (u == NULL)
			return -EINVAL;
	}
	u->cred[m] = c;
	u->has |= (uint8_t)(1u << m);
	return 0;
}

int
scram_store_open(struct scram_store *ss, const char *log_dir, char *err, size_t err_size)
{
	char path[PATH_MAX + 32];
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	FILE *f;

	memset(ss, 0, sizeof(*ss));
	if ((size_t)snprintf(ss->dir, sizeof(ss->dir), "%s", log_dir) >= sizeof(ss->dir)) {
		snprintf(err, err_size, "scram: log dir path too long: %s", log_dir);
		return -ENAMETOOLONG;
	}
	snprintf(path, sizeof(path), "%s/%s", log_dir, SCRAM_STORE_FILE);
	f = fopen(path, "re");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, err_size, "scram: cannot read %s: %s", path, strerror(-rc));
		return rc;
	}
	while (rc == 0 && getline(&line, &cap, f) > 0) {
		if (line[0] != '#')
			rc = scram_store_parse_line(ss, line);
	}
	if (line != NULL)
		OPENSSL_cleanse(line, cap);
	free(line);
	fclose(f);
	if (rc != 0) {
		snprintf(err, err_size, "scram: %s is damaged; fix or remove it", path);
		scram_store_close(ss);
	}
	return rc;
}

void
scram_store_close(struct scram_store *ss)
{
	if (ss->users != NULL)
		OPENSSL_cleanse(ss->users, sizeof(*ss->users) * (size_t)ss->cap);
	free(ss->users);
	ss->users = NULL;
	ss->count = 0;
	ss->cap = 0;
}
