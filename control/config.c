/* SPDX-License-Identifier: Apache-2.0 */
/* Broker configuration: loading (file, then overrides, then resolution),
 * recording each key's given text, the warnings for ignored keys, and the
 * public look-ups and usage listing. The key table is config_keys.c, the
 * value checks config_value.c, the file reader config_file.c, resolution
 * into typed fields config_resolve.c, DescribeConfigs config_describe.c.
 * Nothing here opens sockets or data directories; it only reads one file. */
#include "control/config_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"

void
config_err(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err_size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
}

const char *
config_given_any(const struct config *cfg, const char *name)
{
	int i = config_keys_index(name);

	return i < 0 ? NULL : cfg->given[i];
}

const char *
config_given(const struct config *cfg, const char *key)
{
	int i = config_keys_index(key);

	if (i < 0 || config_keys[i].type == CFG_IGNORED)
		return NULL;
	return cfg->given[i];
}

const char *
config_default_text(const char *key)
{
	int i = config_keys_index(key);

	return i < 0 ? NULL : config_keys[i].def;
}

static void
config_warn(struct config *cfg, const char *key)
{
	char line[256];

	snprintf(line, sizeof(line), "%s: ignored (does not apply to Spillway)", key);
	if (cfg->warning_count < CONFIG_WARNINGS_MAX) {
		cfg->warnings[cfg->warning_count] = strdup(line);
		if (cfg->warnings[cfg->warning_count] == NULL)
			return;
	}
	cfg->warning_count++;
}

/* Record key=value from where (a "file:line" or "--override"). */
int
config_set(struct config *cfg, const char *key, const char *value, const char *where,
	   char *err, size_t err_size)
{
	char expect[160];
	char *norm;
	size_t norm_size = strlen(value) + 2;
	int i = config_keys_index(key);

	if (i < 0) {
		int taken = config_sasl_set(cfg, key, value);

		if (taken == 0)
			taken = config_ssl_set(cfg, key, value);
		if (taken != 0)
			return taken < 0 ? taken : 0;
		if (config_keys_ignored_prefix(key)) {
			config_warn(cfg, key);
			return 0;
		}
		config_err(err, err_size, "%s: unknown config key '%s'", where, key);
		return -EINVAL;
	}
	norm = malloc(norm_size);
	if (norm == NULL)
		return -ENOMEM;
	if (!config_value_check(&config_keys[i], value, norm, norm_size, expect, sizeof(expect))) {
		config_err(err, err_size, "%s: %s: invalid value '%s' (expected %s)", where, key,
			   value, expect);
		free(norm);
		return -EINVAL;
	}
	if (config_keys[i].type == CFG_IGNORED && cfg->given[i] == NULL)
		config_warn(cfg, key);
	free(cfg->given[i]);
	cfg->given[i] = norm;
	return 0;
}

/* The text in effect for row i without the default: the dynamic layers
 * first (Kafka merges dynamic over static key by key), NULL if unset. */
const char *
config_set_text(const struct config *cfg, int i)
{
	if (cfg->dyn_broker[i] != NULL)
		return cfg->dyn_broker[i];
	return cfg->dyn_default[i] != NULL ? cfg->dyn_default[i] : cfg->given[i];
}

const char *
config_set_text_of(const struct config *cfg, const char *key)
{
	int i = config_keys_index(key);

	return i < 0 || config_keys[i].type == CFG_IGNORED ? NULL : config_set_text(cfg, i);
}

const char *
config_text(const struct config *cfg, int i)
{
	const char *t = config_set_text(cfg, i);

	return t != NULL ? t : config_keys[i].def;
}

const char *
config_layer_text(const struct config *cfg, const char *key, enum config_layer layer)
{
	int i = config_keys_index(key);

	if (i < 0 || config_keys[i].type == CFG_IGNORED)
		return NULL;
	switch (layer) {
	case CONFIG_LAYER_DYN_BROKER:
		return cfg->dyn_broker[i];
	case CONFIG_LAYER_DYN_DEFAULT:
		return cfg->dyn_default[i];
	case CONFIG_LAYER_STATIC:
		return cfg->given[i];
	default:
		return config_keys[i].def;
	}
}

int8_t
config_layer_source(enum config_layer layer)
{
	static const int8_t sources[CONFIG_LAYER_COUNT] = {
		KP_CONFIG_SOURCE_DYNAMIC_BROKER, KP_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER,
		KP_CONFIG_SOURCE_STATIC_BROKER, KP_CONFIG_SOURCE_DEFAULT,
	};

	return sources[layer];
}


static int
config_override(struct config *cfg, const char *kv, char *err, size_t err_size)
{
	char *copy = strdup(kv);
	char *eq;
	int rc;

	if (copy == NULL)
		return -ENOMEM;
	eq = strchr(copy, '=');
	if (eq == NULL) {
		config_err(err, err_size, "--override '%s': expected key=value", kv);
		free(copy);
		return -EINVAL;
	}
	*eq = '\0';
	rc = config_set(cfg, config_value_trim(copy), config_value_trim(eq + 1), "--override",
			err, err_size);
	free(copy);
	return rc;
}

int
config_load(struct config *cfg, const char *path, int override_count,
	    const char *const *overrides, char *err, size_t err_size)
{
	int rc = 0;

	ASSERT(cfg != NULL);
	ASSERT(override_count == 0 || overrides != NULL);
	memset(cfg, 0, sizeof(*cfg));
	if (err != NULL && err_size > 0)
		err[0] = '\0';
	if (path != NULL)
		rc = config_file_read(cfg, path, err, err_size);
	for (int i = 0; i < override_count && rc == 0; i++)
		rc = config_override(cfg, overrides[i], err, err_size);
	if (rc == 0)
		rc = config_resolve(cfg, err, err_size);
	if (rc != 0) {
		if (err != NULL && err_size > 0 && err[0] == '\0')
			config_err(err, err_size, "config: %s", strerror(-rc));
		config_free(cfg);
	}
	return rc;
}

void
config_free(struct config *cfg)
{
	for (size_t i = 0; i < CONFIG_KEYS_MAX; i++) {
		free(cfg->given[i]);
		free(cfg->dyn_broker[i]);
		free(cfg->dyn_default[i]);
		cfg->given[i] = NULL;
		cfg->dyn_broker[i] = NULL;
		cfg->dyn_default[i] = NULL;
	}
	for (size_t i = 0; i < CONFIG_WARNINGS_MAX; i++) {
		free(cfg->warnings[i]);
		cfg->warnings[i] = NULL;
	}
	config_sasl_free(cfg);
	config_ssl_free(cfg);
	free(cfg->log_dir);
	for (int i = 0; i < cfg->log_dir_count; i++)
		free(cfg->log_dirs[i]);
	free(cfg->log_dirs);
	cfg->log_dirs = NULL;
	cfg->log_dir_count = 0;
	free(cfg->cluster_id);
	free(cfg->dpdk_eal_args);
	free(cfg->super_users);
	cfg->super_users = NULL;
	free(cfg->zookeeper_connect);
	cfg->zookeeper_connect = NULL;
	free(cfg->broker_rack);
	cfg->broker_rack = NULL;
	free(cfg->inter_broker_listener_name);
	cfg->inter_broker_listener_name = NULL;
	cfg->log_dir = NULL;
	cfg->cluster_id = NULL;
	cfg->dpdk_eal_args = NULL;
	cfg->warning_count = 0;
}

void
config_usage(FILE *out)
{
	static const char *const type_names[] = {
		[KP_CONFIG_TYPE_BOOLEAN] = "boolean", [KP_CONFIG_TYPE_STRING] = "string",
		[KP_CONFIG_TYPE_INT] = "int", [KP_CONFIG_TYPE_SHORT] = "short",
		[KP_CONFIG_TYPE_LONG] = "long", [KP_CONFIG_TYPE_DOUBLE] = "double",
		[KP_CONFIG_TYPE_LIST] = "list",
	};

	fprintf(out, "Configuration keys (--config FILE, --override key=value):\n");
	for (size_t i = 0; i < config_keys_count; i++) {
		const struct config_key *k = &config_keys[i];

		if (k->type == CFG_IGNORED)
			continue;
		fprintf(out, "  %-40s %-8s default: %s\n      %s\n", k->name,
			type_names[config_keys_kp_type(k->type)], k->def == NULL ? "(none)" :
			*k->def == '\0' ? "\"\"" : k->def, k->doc);
	}
	fprintf(out, "TLS keys (see README; each also as listener.name.<l>.ssl.*):\n ");
	for (size_t i = 0; i < config_ssl_key_count; i++)
		fprintf(out, " %s", config_ssl_keys[i]);
	fprintf(out, " %s\n", CONFIG_SSL_HANDSHAKE_TIMEOUT_KEY);
	fprintf(out, "Accepted and ignored (Kafka keys that do not apply; other ssl.* keys):\n ");
	for (size_t i = 0; i < config_keys_count; i++) {
		if (config_keys[i].type == CFG_IGNORED)
			fprintf(out, " %s", config_keys[i].name);
	}
	for (size_t i = 0; i < config_keys_ignored_prefix_count; i++)
		fprintf(out, " %s*", config_keys_ignored_prefixes[i]);
	fprintf(out, "\n");
}
