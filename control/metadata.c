/* SPDX-License-Identifier: Apache-2.0 */
/* Topic store persistence and snapshot building. The topic file is rewritten
 * whole on every change (write a temp file, fsync, rename, fsync the
 * directory), so a crash leaves either the old or the new list. Admin changes
 * are rare; a full rewrite keeps the format trivially consistent. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/atomic_file.h"
#include "control/metadata.h"
#include "control/meta_file.h"

#define MD_TOPICS_FILE "__spillway_topics"
#define MD_TOPICS_MAGIC "spillway-topics v1"

static char *
md_strndup(const char *s, int32_t len)
{
	char *r = malloc((size_t)len + 1);

	if (r != NULL) {
		memcpy(r, s, (size_t)len);
		r[len] = '\0';
	}
	return r;
}

static void
md_topic_free(struct md_topic *t)
{
	for (int32_t i = 0; i < t->config_count; i++) {
		free(t->configs[i].name);
		free(t->configs[i].value);
	}
	free(t->configs);
	free(t->name);
}

void
md_uuid_random(struct kp_uuid *out)
{
	for (;;) {
		size_t got = 0;

		while (got < sizeof(out->b)) {
			ssize_t n = getrandom(out->b + got, sizeof(out->b) - got, 0);

			ASSERT(n > 0 || errno == EINTR);
			if (n > 0)
				got += (size_t)n;
		}
		/* Base64url's first char is the top 6 bits; 62 encodes '-'. */
		if ((out->b[0] >> 2) == 62 || kp_uuid_is_zero(out))
			continue;
		bool is_one = out->b[15] == 1;

		for (int i = 0; i < 15; i++)
			is_one = is_one && out->b[i] == 0;
		if (!is_one)
			return;
	}
}

static int
md_store_grow(struct md_store *st)
{
	int32_t cap = st->topic_cap == 0 ? 16 : st->topic_cap * 2;
	struct md_topic *t;

	if (st->topic_count < st->topic_cap)
		return 0;
	t = realloc(st->topics, sizeof(*t) * (size_t)cap);
	if (t == NULL)
		return -ENOMEM;
	st->topics = t;
	st->topic_cap = cap;
	return 0;
}

/* ---- the topic file ---- */

static void
md_write_escaped(FILE *f, const char *s)
{
	if (s == NULL) {
		fputc('~', f);
		return;
	}
	if (*s == '\0')
		fputs("%", f);     /* a lone '%' stands for the empty string */
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';

		if (plain)
			fputc(ch, f);
		else
			fprintf(f, "%%%02x", ch);
	}
}

/* Decode in place; returns NULL for '~' (null). */
static char *
md_unescape(char *s)
{
	char *out = s;
	char *r = s;

	if (strcmp(s, "~") == 0)
		return NULL;
	if (strcmp(s, "%") == 0) {
		*s = '\0';
		return s;
	}
	while (*r != '\0') {
		unsigned int v;

		if (*r == '%' && sscanf(r + 1, "%2x", &v) == 1) {
			*out++ = (char)v;
			r += 3;
		} else {
			*out++ = *r++;
		}
	}
	*out = '\0';
	return s;
}

static int
md_store_save(const struct md_store *st)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	f = open_memstream(&text, &len);
	if (f == NULL)
		return -errno;
	fprintf(f, "%s\n", MD_TOPICS_MAGIC);
	for (int32_t i = 0; i < st->topic_count; i++) {
		const struct md_topic *t = &st->topics[i];

		fprintf(f, "topic %s ", t->name);
		for (int b = 0; b < 16; b++)
			fprintf(f, "%02x", t->id.b[b]);
		fprintf(f, " %d %d\n", t->partition_count, t->config_count);
		for (int32_t c = 0; c < t->config_count; c++) {
			fputs("config ", f);
			md_write_escaped(f, t->configs[c].name);
			fputc(' ', f);
			md_write_escaped(f, t->configs[c].value);
			fputc('\n', f);
		}
	}
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	rc = atomic_file_write(st->dir, MD_TOPICS_FILE, text, len);
	free(text);
	return rc;
}

static int
md_parse_topic_line(struct md_store *st, char *line, int32_t *configs_left)
{
	char name[256];
	char idhex[33];
	int32_t parts;
	int32_t ncfg;
	struct md_topic *t;

	if (sscanf(line, "topic %255s %32s %d %d", name, idhex, &parts, &ncfg) != 4 ||
	    strlen(idhex) != 32 || parts <= 0 || ncfg < 0 || ncfg > 1024)
		return -EINVAL;
	if (md_store_grow(st) != 0)
		return -ENOMEM;
	t = &st->topics[st->topic_count];
	memset(t, 0, sizeof(*t));
	for (int b = 0; b < 16; b++) {
		unsigned int v;

		if (sscanf(idhex + 2 * b, "%2x", &v) != 1)
			return -EINVAL;
		t->id.b[b] = (uint8_t)v;
	}
	t->name = strdup(name);
	t->partition_count = parts;
	t->configs = calloc((size_t)(ncfg > 0 ? ncfg : 1), sizeof(*t->configs));
	if (t->name == NULL || t->configs == NULL) {
		md_topic_free(t);
		return -ENOMEM;
	}
	st->topic_count++;
	*configs_left = ncfg;
	return 0;
}

static int
md_parse_config_line(struct md_store *st, char *line)
{
	struct md_topic *t = &st->topics[st->topic_count - 1];
	char *name = strtok(line + strlen("config "), " \n");
	char *value = strtok(NULL, " \n");

	if (name == NULL || value == NULL)
		return -EINVAL;
	name = md_unescape(name);
	value = md_unescape(value);
	if (name == NULL)
		return -EINVAL;
	t->configs[t->config_count].name = strdup(name);
	t->configs[t->config_count].value = value == NULL ? NULL : strdup(value);
	if (t->configs[t->config_count].name == NULL)
		return -ENOMEM;
	t->config_count++;
	return 0;
}

static int
md_store_load(struct md_store *st, char *err, size_t err_size)
{
	char path[4096];
	char *line = NULL;
	size_t line_cap = 0;
	int32_t configs_left = 0;
	int lineno = 0;
	int rc = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", st->dir, MD_TOPICS_FILE);
	f = fopen(path, "r");
	if (f == NULL)
		return errno == ENOENT ? 0 : -errno;
	/* getline(): a line is as long as its escaped config value, which
	 * admin.c bounds; no fixed buffer can split it. */
	while (rc == 0 && getline(&line, &line_cap, f) > 0) {
		lineno++;
		if (lineno == 1) {
			rc = strncmp(line, MD_TOPICS_MAGIC, strlen(MD_TOPICS_MAGIC)) == 0
			     ? 0 : -EINVAL;
		} else if (strncmp(line, "topic ", 6) == 0 && configs_left == 0) {
			rc = md_parse_topic_line(st, line, &configs_left);
		} else if (strncmp(line, "config ", 7) == 0 && configs_left > 0) {
			rc = md_parse_config_line(st, line);
			configs_left--;
		} else {
			rc = -EINVAL;
		}
	}
	free(line);
	fclose(f);
	if (rc == 0 && configs_left != 0)
		rc = -EINVAL;
	if (rc != 0)
		snprintf(err, err_size, "%s: line %d: %s", path, lineno,
			 rc == -EINVAL ? "malformed topic metadata" : strerror(-rc));
	return rc;
}

int
md_store_open(struct md_store *st, const char *dir, int32_t node_id,
	      const char *cluster_id_cfg, char *err, size_t err_size)
{
	int rc;

	memset(st, 0, sizeof(*st));
	st->node_id = node_id;
	st->dir = strdup(dir);
	if (st->dir == NULL)
		return -ENOMEM;
	rc = meta_file_open(dir, node_id, cluster_id_cfg, st->cluster_id, err, err_size);
	if (rc == 0)
		rc = md_store_load(st, err, err_size);
	if (rc != 0)
		md_store_close(st);
	return rc;
}

void
md_store_close(struct md_store *st)
{
	for (int32_t i = 0; i < st->topic_count; i++)
		md_topic_free(&st->topics[i]);
	free(st->topics);
	free(st->dir);
	memset(st, 0, sizeof(*st));
}

struct md_topic *
md_store_find(struct md_store *st, struct kp_str name)
{
	for (int32_t i = 0; i < st->topic_count; i++) {
		struct md_topic *t = &st->topics[i];

		if ((int32_t)strlen(t->name) == name.len &&
		    memcmp(t->name, name.ptr, (size_t)name.len) == 0)
			return t;
	}
	return NULL;
}

struct md_topic *
md_store_find_colliding(struct md_store *st, struct kp_str name)
{
	for (int32_t i = 0; i < st->topic_count; i++) {
		struct md_topic *t = &st->topics[i];
		bool same = (int32_t)strlen(t->name) == name.len;

		for (int32_t c = 0; same && c < name.len; c++) {
			char a = t->name[c] == '.' ? '_' : t->name[c];
			char b = name.ptr[c] == '.' ? '_' : name.ptr[c];

			same = a == b;
		}
		if (same)
			return t;
	}
	return NULL;
}

static struct md_topic *
md_store_by_id(struct md_store *st, const struct kp_uuid *id)
{
	for (int32_t i = 0; i < st->topic_count; i++)
		if (memcmp(st->topics[i].id.b, id->b, 16) == 0)
			return &st->topics[i];
	return NULL;
}

/* Heap copies of configs into t (t->configs empty); -ENOMEM leaves t
 * holding what was copied, for md_topic_free(). */
static int
md_topic_configs_copy(struct md_topic *t, const struct kp_topic_config *configs,
		      int32_t config_count)
{
	t->config_count = 0;
	t->configs = calloc((size_t)(config_count > 0 ? config_count : 1), sizeof(*t->configs));
	if (t->configs == NULL)
		return -ENOMEM;
	for (int32_t i = 0; i < config_count; i++) {
		struct md_config *c = &t->configs[i];

		c->name = md_strndup(configs[i].name.ptr, configs[i].name.len);
		c->value = configs[i].value.len < 0 ? NULL
			 : md_strndup(configs[i].value.ptr, configs[i].value.len);
		t->config_count++;
		if (c->name == NULL || (configs[i].value.len >= 0 && c->value == NULL))
			return -ENOMEM;
	}
	return 0;
}

int
md_store_topic_add(struct md_store *st, struct kp_str name, const struct kp_uuid *id,
		   int32_t partition_count, const struct kp_topic_config *configs,
		   int32_t config_count)
{
	struct md_topic *t;
	int rc;

	ASSERT(partition_count > 0);
	ASSERT(name.len > 0);
	if (md_store_grow(st) != 0)
		return -ENOMEM;
	t = &st->topics[st->topic_count];
	memset(t, 0, sizeof(*t));
	t->name = md_strndup(name.ptr, name.len);
	t->id = *id;
	t->partition_count = partition_count;
	rc = md_topic_configs_copy(t, configs, config_count);
	if (t->name == NULL)
		rc = -ENOMEM;
	st->topic_count++;
	if (rc == 0)
		rc = md_store_save(st);
	if (rc != 0) {
		st->topic_count--;
		md_topic_free(t);
	}
	return rc;
}

int
md_store_topic_remove(struct md_store *st, const struct kp_uuid *id)
{
	struct md_topic *t = md_store_by_id(st, id);
	struct md_topic removed;
	int rc;

	if (t == NULL)
		return -ENOENT;
	removed = *t;
	*t = st->topics[st->topic_count - 1];
	st->topic_count--;
	rc = md_store_save(st);
	if (rc != 0) {
		/* Put it back (at the end; order does not matter). */
		st->topics[st->topic_count] = *t;
		*t = removed;
		st->topic_count++;
		return rc;
	}
	md_topic_free(&removed);
	return 0;
}

int
md_store_partitions_set(struct md_store *st, const struct kp_uuid *id, int32_t count)
{
	struct md_topic *t = md_store_by_id(st, id);
	int32_t old;
	int rc;

	if (t == NULL)
		return -ENOENT;
	ASSERT(count > t->partition_count);
	old = t->partition_count;
	t->partition_count = count;
	rc = md_store_save(st);
	if (rc != 0)
		t->partition_count = old;
	return rc;
}

int
md_store_topic_configs_set(struct md_store *st, const struct kp_uuid *id,
			   const struct kp_topic_config *configs, int32_t config_count)
{
	struct md_topic *t = md_store_by_id(st, id);
	struct md_topic next;
	struct md_topic old;
	int rc;

	if (t == NULL)
		return -ENOENT;
	/* Build the new set aside, swap it in for the save, and swap back on
	 * failure: memory and disk change together or not at all. */
	memset(&next, 0, sizeof(next));
	rc = md_topic_configs_copy(&next, configs, config_count);
	if (rc == 0) {
		old = *t;
		t->configs = next.configs;
		t->config_count = next.config_count;
		rc = md_store_save(st);
		if (rc != 0) {
			*t = old;
		} else {
			next.configs = old.configs;
			next.config_count = old.config_count;
		}
	}
	md_topic_free(&next);
	return rc;
}
