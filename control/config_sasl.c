/* SPDX-License-Identifier: Apache-2.0 */
/* The SASL keys of a broker config, kept as text for control/ctl_sasl.c:
 * sasl.enabled.mechanisms, sasl.jaas.config, connections.max.reauth.ms and
 * their listener.name.<listener>.[<mechanism>.] forms, which Kafka reads
 * per listener (and per mechanism for JAAS). */
#include "control/config_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const config_sasl_keys[] = {
	"sasl.enabled.mechanisms", "sasl.jaas.config", "connections.max.reauth.ms",
};

static bool
config_sasl_ends(const char *key, const char *suffix)
{
	size_t k = strlen(key), n = strlen(suffix);

	return k > n && key[k - n - 1] == '.' && strcmp(key + k - n, suffix) == 0;
}

bool
config_sasl_key(const char *key)
{
	for (size_t i = 0; i < sizeof(config_sasl_keys) / sizeof(config_sasl_keys[0]); i++) {
		if (strcmp(key, config_sasl_keys[i]) == 0)
			return true;
		if (strncmp(key, "listener.name.", 14) == 0 &&
		    config_sasl_ends(key + 14, config_sasl_keys[i]))
			return true;
	}
	return false;
}

int
config_sasl_set(struct config *cfg, const char *key, const char *value)
{
	struct config_sasl *cs = &cfg->sasl;
	char *k, *v;

	if (!config_sasl_key(key))
		return 0;
	for (int i = 0; i < cs->count; i++) {
		if (strcmp(cs->key[i], key) == 0) {
			v = strdup(value);
			if (v == NULL)
				return -ENOMEM;
			free(cs->value[i]);
			cs->value[i] = v;
			return 1;
		}
	}
	if (cs->count >= CONFIG_SASL_KEYS_MAX)
		return -ENOSPC;
	k = strdup(key);
	v = strdup(value);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	cs->key[cs->count] = k;
	cs->value[cs->count] = v;
	cs->count++;
	return 1;
}

const char *
config_sasl_get(const struct config *cfg, const char *key)
{
	for (int i = 0; i < cfg->sasl.count; i++)
		if (strcmp(cfg->sasl.key[i], key) == 0)
			return cfg->sasl.value[i];
	return NULL;
}

void
config_sasl_free(struct config *cfg)
{
	for (int i = 0; i < cfg->sasl.count; i++) {
		free(cfg->sasl.key[i]);
		free(cfg->sasl.value[i]);
		cfg->sasl.key[i] = NULL;
		cfg->sasl.value[i] = NULL;
	}
	cfg->sasl.count = 0;
}
