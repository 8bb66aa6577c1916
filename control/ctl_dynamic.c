/* SPDX-License-Identifier: Apache-2.0 */
/* Dynamic broker configs (AlterConfigs on a BROKER resource): this broker's
 * own and the cluster-wide default's settings, persisted in their own file
 * in the log directory (rewritten whole and atomically on every change),
 * loaded at start-up, and applied live: the config's dynamic layers, every
 * topic's storage settings, the snapshot's per-topic limits and the log
 * level. @thread control */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/atomic_file.h"
#include "common/log.h"
#include "control/config.h"
#include "control/ctl_int.h"

#define CTL_DYN_FILE "__spillway_broker_configs"
#define CTL_DYN_MAGIC "spillway-broker-configs v1"

struct ctl_dyn {
	struct ctl_dyn_set set[2];      /* [0] this broker's, [1] the default */
};

static void
ctl_dyn_set_clear(struct ctl_dyn_set *s)
{
	for (int32_t i = 0; i < s->count; i++) {
		free(s->e[i].name);
		free(s->e[i].value);
	}
	s->count = 0;
}

/* Heap copies of e into out (empty); -ENOMEM leaves out freeable. */
static int
ctl_dyn_set_copy(struct ctl_dyn_set *out, const struct config_dyn_entry *e, int32_t n)
{
	for (int32_t i = 0; i < n && i < CTL_DYN_MAX; i++) {
		char *name = strdup(e[i].name);
		char *value = strdup(e[i].value);

		if (name == NULL || value == NULL) {
			free(name);
			free(value);
			return -ENOMEM;
		}
		out->e[out->count].name = name;
		out->e[out->count].value = value;
		out->count++;
	}
	return 0;
}

static void
ctl_dyn_write_escaped(FILE *f, const char *s)
{
	fputc('=', f);          /* never empty, even for "" */
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

static char *
ctl_dyn_unescape(char *s)
{
	char *out = s;
	char *r = s + 1;

	if (*s != '=')
		return NULL;
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
ctl_dyn_save(const char *dir, const struct ctl_dyn_set *sets)
{
	static const char *const tags[2] = { "broker", "default" };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (f == NULL)
		return -errno;
	fprintf(f, "%s\n", CTL_DYN_MAGIC);
	for (int s = 0; s < 2; s++) {
		for (int32_t i = 0; i < sets[s].count; i++) {
			fprintf(f, "%s ", tags[s]);
			ctl_dyn_write_escaped(f, sets[s].e[i].name);
			fputc(' ', f);
			ctl_dyn_write_escaped(f, sets[s].e[i].value);
			fputc('\n', f);
		}
	}
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	rc = atomic_file_write(dir, CTL_DYN_FILE, text, len);
	free(text);
	return rc;
}

static int
ctl_dyn_parse_line(struct ctl_dyn *d, char *line)
{
	char *tag = strtok(line, " \n");
	char *name = strtok(NULL, " \n");
	char *value = strtok(NULL, " \n");
	struct config_dyn_entry e;
	int s;

	if (tag == NULL || name == NULL || value == NULL)
		return -EINVAL;
	s = strcmp(tag, "broker") == 0 ? 0 : strcmp(tag, "default") == 0 ? 1 : -1;
	e.name = ctl_dyn_unescape(name);
	e.value = ctl_dyn_unescape(value);
	if (s < 0 || e.name == NULL || e.value == NULL || d->set[s].count >= CTL_DYN_MAX)
		return -EINVAL;
	return ctl_dyn_set_copy(&d->set[s], &e, 1);
}

static int
ctl_dyn_read(struct ctl_dyn *d, const char *dir, char *err, size_t err_size)
{
	char path[4096];
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, CTL_DYN_FILE);
	f = fopen(path, "r");
	if (f == NULL)
		return errno == ENOENT ? 0 : -errno;
	if (getline(&line, &cap, f) < 0 || strncmp(line, CTL_DYN_MAGIC, strlen(CTL_DYN_MAGIC)))
		rc = -EINVAL;
	while (rc == 0 && getline(&line, &cap, f) >= 0)
		rc = ctl_dyn_parse_line(d, line);
	free(line);
	fclose(f);
	if (rc != 0)
		snprintf(err, err_size, "%s: unreadable (%s)", path, strerror(-rc));
	return rc;
}

/* Lay the sets over the config and make everything that reads it see the
 * change: storage (every topic's settings, recomputed from its overrides
 * and the new broker values), the snapshot (max.message.bytes) and the
 * log level. */
static int
ctl_dyn_apply(struct ctl *ctl)
{
	struct config *cfg = ctl->cfg_rw;
	const struct ctl_dyn_set *s = ctl->dyn->set;
	int rc = config_dynamic_apply(cfg, s[0].e, s[0].count, s[1].e, s[1].count);

	if (rc != 0)
		return rc;
	log_set_level(cfg->log_level);
	ctl->md_dirty = true;
	for (int32_t i = 0; i < ctl->store.topic_count; i++)
		ctl_storage_reconfigure(ctl, &ctl->store.topics[i]);
	return 0;
}

int
ctl_dyn_open(struct ctl *ctl, char *err, size_t err_size)
{
	int rc;

	ctl->dyn = calloc(1, sizeof(*ctl->dyn));
	if (ctl->dyn == NULL) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	rc = ctl_dyn_read(ctl->dyn, ctl->cfg->log_dir, err, err_size);
	if (rc == 0)
		rc = ctl_dyn_apply(ctl);
	if (rc == 0 && ctl->dyn->set[0].count + ctl->dyn->set[1].count > 0)
		log_info("control", "%d dynamic broker config(s), %d cluster default(s)",
			 ctl->dyn->set[0].count, ctl->dyn->set[1].count);
	return rc;
}

void
ctl_dyn_close(struct ctl *ctl)
{
	if (ctl->dyn == NULL)
		return;
	ctl_dyn_set_clear(&ctl->dyn->set[0]);
	ctl_dyn_set_clear(&ctl->dyn->set[1]);
	free(ctl->dyn);
	ctl->dyn = NULL;
}

const struct ctl_dyn_set *
ctl_dyn_get(const struct ctl *ctl, bool per_broker)
{
	return &ctl->dyn->set[per_broker ? 0 : 1];
}

int
ctl_dyn_replace(struct ctl *ctl, bool per_broker, const struct config_dyn_entry *e, int32_t n)
{
	struct ctl_dyn_set *next = calloc(1, sizeof(*next));
	struct ctl_dyn_set sets[2];
	int idx = per_broker ? 0 : 1;
	int rc;

	if (next == NULL)
		return -ENOMEM;
	rc = ctl_dyn_set_copy(next, e, n);
	/* Disk first: the old sets stay in memory when the file cannot be
	 * written. */
	memcpy(sets, ctl->dyn->set, sizeof(sets));
	sets[idx] = *next;
	if (rc == 0)
		rc = ctl_dyn_save(ctl->cfg->log_dir, sets);
	if (rc == 0) {
		ctl_dyn_set_clear(&ctl->dyn->set[idx]);
		ctl->dyn->set[idx] = *next;
		next->count = 0;
		rc = ctl_dyn_apply(ctl);
	}
	ctl_dyn_set_clear(next);
	free(next);
	return rc;
}
