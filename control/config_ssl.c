/* SPDX-License-Identifier: Apache-2.0 */
/* The TLS keys of a broker config, kept as text for control/ctl_tls.c,
 * which checks them when it builds a listener's context at startup (or on
 * a reload): Kafka's ssl.* keys that Spillway reads, their
 * listener.name.<listener>.ssl.* per-listener forms, and
 * spillway.ssl.handshake.timeout.ms. Other ssl.* keys (JVM key managers,
 * secure random) are accepted with a warning as before. */
#include "control/config_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"

/* The ssl.* keys read (their listener.name.<l>. forms too). */
const char *const config_ssl_keys[] = {
	"ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.certificate.chain",
	"ssl.keystore.key", "ssl.keystore.password", "ssl.key.password",
	"ssl.truststore.type", "ssl.truststore.location", "ssl.truststore.certificates",
	"ssl.truststore.password", "ssl.enabled.protocols", "ssl.protocol", "ssl.cipher.suites",
	"ssl.client.auth", "ssl.principal.mapping.rules",
	"ssl.endpoint.identification.algorithm",
};
const size_t config_ssl_key_count = ARRAY_LEN(config_ssl_keys);

static bool
config_ssl_known(const char *key)
{
	if (strcmp(key, CONFIG_SSL_HANDSHAKE_TIMEOUT_KEY) == 0)
		return true;
	if (strncmp(key, "listener.name.", 14) == 0) {
		key = strchr(key + 14, '.');    /* past <listener> */
		if (key == NULL)
			return false;
		key++;
	}
	for (size_t i = 0; i < ARRAY_LEN(config_ssl_keys); i++) {
		if (strcmp(key, config_ssl_keys[i]) == 0)
			return true;
	}
	return false;
}

int
config_ssl_set(struct config *cfg, const char *key, const char *value)
{
	struct config_ssl *cs = &cfg->ssl;
	char *k, *v;

	if (!config_ssl_known(key))
		return 0;
	v = strdup(value);
	if (v == NULL)
		return -ENOMEM;
	for (int i = 0; i < cs->count; i++) {
		if (strcmp(cs->key[i], key) == 0) {
			free(cs->value[i]);
			cs->value[i] = v;
			return 1;
		}
	}
	k = strdup(key);
	if (k == NULL || cs->count >= CONFIG_SSL_KEYS_MAX) {
		free(k);
		free(v);
		return k == NULL ? -ENOMEM : -ENOSPC;
	}
	cs->key[cs->count] = k;
	cs->value[cs->count] = v;
	cs->count++;
	return 1;
}

const char *
config_ssl_get(const struct config *cfg, const char *key)
{
	for (int i = 0; i < cfg->ssl.count; i++) {
		if (strcmp(cfg->ssl.key[i], key) == 0)
			return cfg->ssl.value[i];
	}
	return NULL;
}

void
config_ssl_free(struct config *cfg)
{
	for (int i = 0; i < cfg->ssl.count; i++) {
		free(cfg->ssl.key[i]);
		free(cfg->ssl.value[i]);
		cfg->ssl.key[i] = NULL;
		cfg->ssl.value[i] = NULL;
	}
	cfg->ssl.count = 0;
}
