/* SPDX-License-Identifier: Apache-2.0 */
/* Resolution: the given or default text of every key into struct config's
 * typed fields, with Kafka's synonym rules (ms > minutes > hours,
 * node.id/broker.id, log.dirs/log.dir), the client listener and its
 * advertised address, and the checks that span several keys. */
#include "control/config_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/compiler.h"

/* Store the text of a row that has a plain field. */
static int
config_resolve_store(struct config *cfg, const struct config_key *k, const char *text)
{
	void *field = (char *)cfg + k->off;
	unsigned bits = 0;

	switch (k->type) {
	case CFG_BOOL:
		*(bool *)field = strcmp(text, "true") == 0;
		break;
	case CFG_INT:
		*(int32_t *)field = (int32_t)strtoll(text, NULL, 10);
		break;
	case CFG_SHORT:
		*(int16_t *)field = (int16_t)strtoll(text, NULL, 10);
		break;
	case CFG_LONG:
		*(int64_t *)field = strtoll(text, NULL, 10);
		break;
	case CFG_ENUM:
		*(int *)field = config_value_choice(k->choices, text);
		break;
	case CFG_POLICY:
		bits |= strstr(text, "delete") != NULL ? CONFIG_CLEANUP_DELETE : 0;
		bits |= strstr(text, "compact") != NULL ? CONFIG_CLEANUP_COMPACT : 0;
		*(unsigned *)field = bits;
		break;
	case CFG_STRING:
		*(char **)field = strdup(text);
		if (*(char **)field == NULL)
			return -ENOMEM;
		break;
	default:
		PANIC("config: row type has no plain field");
	}
	return 0;
}

/* The given value of an integer key, or its default, or fallback. */
static int64_t
config_resolve_i64(const struct config *cfg, const char *key, int64_t fallback, bool *given)
{
	int i = config_keys_index(key);
	const char *text;

	ASSERT(i >= 0);
	text = config_text(cfg, i);
	if (given != NULL)
		*given = config_set_text(cfg, i) != NULL;
	return text != NULL ? strtoll(text, NULL, 10) : fallback;
}

/* Kafka's precedence among ms / minutes / hours keys (any may be NULL). */
static int64_t
config_resolve_ms(const struct config *cfg, const char *ms_key, const char *min_key,
		  const char *hours_key)
{
	bool given = false;
	int64_t v;

	if (ms_key != NULL) {
		v = config_resolve_i64(cfg, ms_key, 0, &given);
		if (given)
			return v;
	}
	if (min_key != NULL) {
		v = config_resolve_i64(cfg, min_key, 0, &given);
		if (given)
			return v < 0 ? v : v * 60 * 1000;
	}
	v = config_resolve_i64(cfg, hours_key, 0, NULL);
	return v < 0 ? v : v * 3600 * 1000;
}

static int
config_resolve_times(struct config *cfg, char *err, size_t err_size)
{
	bool given = false;

	cfg->log_roll_ms = config_resolve_ms(cfg, "log.roll.ms", NULL, "log.roll.hours");
	cfg->log_roll_jitter_ms = config_resolve_ms(cfg, "log.roll.jitter.ms", NULL,
						    "log.roll.jitter.hours");
	cfg->log_retention_ms = config_resolve_ms(cfg, "log.retention.ms", "log.retention.minutes",
						  "log.retention.hours");
	if (cfg->log_retention_ms < 0)
		cfg->log_retention_ms = -1;
	cfg->log_flush_interval_ms = config_resolve_i64(cfg, "log.flush.interval.ms", 0, &given);
	if (!given)
		cfg->log_flush_interval_ms =
			config_resolve_i64(cfg, "log.flush.scheduler.interval.ms", 0, NULL);
	if (cfg->group_min_session_timeout_ms > cfg->group_max_session_timeout_ms) {
		config_err(err, err_size, "group.min.session.timeout.ms: %d is above "
			   "group.max.session.timeout.ms %d", cfg->group_min_session_timeout_ms,
			   cfg->group_max_session_timeout_ms);
		return -EINVAL;
	}
	return 0;
}

static int
config_resolve_ids(struct config *cfg, char *err, size_t err_size)
{
	bool node_given = false;
	bool broker_given = false;
	int64_t node = config_resolve_i64(cfg, "node.id", 1, &node_given);
	int64_t broker = config_resolve_i64(cfg, "broker.id", 1, &broker_given);

	if (node_given && broker_given && node != broker) {
		config_err(err, err_size, "node.id: %" PRId64 " does not match broker.id %" PRId64,
			   node, broker);
		return -EINVAL;
	}
	cfg->node_id = (int32_t)(node_given || !broker_given ? node : broker);
	return 0;
}

/* The items of log.dirs, in order: Kafka's Csv.parseCsvList (trimmed,
 * empties dropped), a duplicate refused as LogManager refuses one. */
static int
config_resolve_dir_add(struct config *cfg, const char *item)
{
	char **grown;

	if (cfg->log_dir_count >= CONFIG_LOG_DIRS_MAX)
		return -E2BIG;
	for (int i = 0; i < cfg->log_dir_count; i++)
		if (strcmp(cfg->log_dirs[i], item) == 0)
			return -EEXIST;
	grown = realloc(cfg->log_dirs, sizeof(*grown) * (size_t)(cfg->log_dir_count + 1));
	if (grown == NULL)
		return -ENOMEM;
	cfg->log_dirs = grown;
	if ((cfg->log_dirs[cfg->log_dir_count] = strdup(item)) == NULL)
		return -ENOMEM;
	cfg->log_dir_count++;
	return 0;
}

static int
config_resolve_dir_item(void *arg, char *item)
{
	return config_resolve_dir_add(arg, item);
}

static int
config_resolve_dirs(struct config *cfg, char *err, size_t err_size)
{
	const char *dirs = config_given_any(cfg, "log.dirs");
	int rc;

	if (dirs != NULL) {
		rc = config_value_items(dirs, config_resolve_dir_item, cfg);
		if (rc == -EEXIST || rc == -E2BIG || (rc == 0 && cfg->log_dir_count == 0)) {
			config_err(err, err_size, "log.dirs: invalid value '%s' (%s)", dirs,
				   rc == -EEXIST ? "a directory is listed twice"
				   : rc == -E2BIG ? "more than 64 directories"
				   : "expected directories");
			return -EINVAL;
		}
		if (rc != 0)
			return rc;
	} else {
		const char *dir = config_text(cfg, config_keys_index("log.dir"));

		if (*dir == '\0') {
			config_err(err, err_size,
				   "log.dir: invalid value '' (expected a directory)");
			return -EINVAL;
		}
		if ((rc = config_resolve_dir_add(cfg, dir)) != 0)
			return rc;
	}
	/* The first one holds the broker-wide files (metadata, producer ids),
	 * as Kafka keeps its metadata log in the first of log.dirs. */
	cfg->log_dir = strdup(cfg->log_dirs[0]);
	return cfg->log_dir == NULL ? -ENOMEM : 0;
}

static int
config_resolve_cpu_item(void *arg, char *item)
{
	struct config *cfg = arg;

	cfg->dataplane_cpus[cfg->dataplane_cpu_count++] = (int32_t)strtol(item, NULL, 10);
	return 0;
}

/* "a.b.c.d" into *addr (host order); false unless exactly that. */
static bool
config_resolve_ipv4(const char *text, uint32_t *addr)
{
	struct in_addr in;

	if (inet_pton(AF_INET, text, &in) != 1)
		return false;
	*addr = ntohl(in.s_addr);
	return true;
}

/* "a.b.c.d" or "a.b.c.d/n" (n in 1..32, else 32) into *addr (host order,
 * never 0) and *prefix_len; false unless exactly that. */
static bool
config_resolve_ipv4_prefix(const char *text, uint32_t *addr, uint8_t *prefix_len)
{
	const char *slash = strchr(text, '/');
	size_t n = slash != NULL ? (size_t)(slash - text) : strlen(text);
	char ip[INET_ADDRSTRLEN];
	char *end;
	long prefix = 32;

	if (slash != NULL) {
		errno = 0;
		prefix = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || errno != 0 || prefix < 1 || prefix > 32)
			return false;
	}
	if (n >= sizeof(ip))
		return false;
	memcpy(ip, text, n);
	ip[n] = '\0';
	if (!config_resolve_ipv4(ip, addr) || *addr == 0)
		return false;
	*prefix_len = (uint8_t)prefix;
	return true;
}

static int
config_resolve_dpdk(struct config *cfg, char *err, size_t err_size)
{
	const char *ip = config_text(cfg, config_keys_index("spillway.dpdk.ipv4"));
	const char *gw = config_text(cfg, config_keys_index("spillway.dpdk.gateway"));

	if (ip[0] != '\0' &&
	    !config_resolve_ipv4_prefix(ip, &cfg->dpdk_ipv4, &cfg->dpdk_prefix_len)) {
		config_err(err, err_size, "spillway.dpdk.ipv4: '%s' is not an IPv4 "
			   "address/prefix (e.g. 10.0.1.20/24)", ip);
		return -EINVAL;
	}
	if (gw[0] != '\0' && !config_resolve_ipv4(gw, &cfg->dpdk_gateway)) {
		config_err(err, err_size, "spillway.dpdk.gateway: '%s' is not an IPv4 address", gw);
		return -EINVAL;
	}
	if (cfg->backend != CONFIG_BACKEND_DPDK)
		return 0;
	if (cfg->dpdk_ipv4 == 0) {
		config_err(err, err_size, "spillway.dpdk.ipv4: required with spillway.backend=dpdk "
			   "(the address clients connect to, e.g. 10.0.1.20/24)");
		return -EINVAL;
	}
	/* A listener's host, when named, is the dpdk address; a wildcard
	 * listener advertises it. */
	for (int i = 0; i < cfg->listener_count; i++) {
		struct config_endpoint *ep = &cfg->listeners[i];
		struct in_addr in = { .s_addr = htonl(cfg->dpdk_ipv4) };
		uint32_t host;

		if (config_host_is_any(ep->host)) {
			if (config_given_any(cfg, "advertised.listeners") == NULL)
				inet_ntop(AF_INET, &in, ep->advertised_host, CONFIG_HOST_MAX);
		} else if (!config_resolve_ipv4(ep->host, &host) || host != cfg->dpdk_ipv4) {
			config_err(err, err_size, "listeners: host '%s' of listener '%s' is not "
				   "spillway.dpdk.ipv4 (with spillway.backend=dpdk, use that "
				   "address or 0.0.0.0)", ep->host, ep->name);
			return -EINVAL;
		}
	}
	return 0;
}

static int
config_resolve_spillway(struct config *cfg, char *err, size_t err_size)
{
	const char *cpus = config_given_any(cfg, "spillway.dataplane.cpus");
	const char *id = config_given_any(cfg, "spillway.cluster.id");
	const char *text;
	bool ok;

	if (cpus != NULL) {
		if (config_value_items(cpus, config_resolve_cpu_item, cfg) != 0)
			return -ENOMEM;
		if (cfg->dataplane_cpu_count != cfg->dataplane_cores) {
			config_err(err, err_size, "spillway.dataplane.cpus: %d CPUs listed but "
				   "spillway.dataplane.cores is %d", cfg->dataplane_cpu_count,
				   cfg->dataplane_cores);
			return -EINVAL;
		}
	}
	/* Every reply slot has a pending-request record, indexed by the storage
	 * token's slot field (common/limits.h). */
	if ((int64_t)cfg->connections_max * cfg->connection_inflight_max > LIMITS_SLOTS_MAX) {
		config_err(err, err_size, "spillway.connections.max: %d connections x "
			   "spillway.connection.inflight.max %d exceeds %u request slots "
			   "per core",
			   cfg->connections_max, cfg->connection_inflight_max, LIMITS_SLOTS_MAX);
		return -EINVAL;
	}
	text = config_text(cfg, config_keys_index("spillway.metrics.listen"));
	ok = text[0] == '\0' ? true       /* disabled: port 0 */
			     : config_value_hostport(text, cfg->metrics_host,
						     sizeof(cfg->metrics_host), &cfg->metrics_port);
	ASSERT(ok);     /* the default is valid and a given value was checked */
	if (config_resolve_dpdk(cfg, err, err_size) != 0)
		return -EINVAL;
	if (id != NULL) {
		cfg->cluster_id = strdup(id);
		if (cfg->cluster_id == NULL)
			return -ENOMEM;
	}
	return 0;
}

int
config_resolve(struct config *cfg, char *err, size_t err_size)
{
	int rc;

	for (size_t i = 0; i < config_keys_count; i++) {
		const char *text = config_text(cfg, (int)i);

		if (config_keys[i].off < 0 || text == NULL)
			continue;
		rc = config_resolve_store(cfg, &config_keys[i], text);
		if (rc != 0)
			return rc;
	}
	rc = config_resolve_ids(cfg, err, err_size);
	if (rc == 0)
		rc = config_resolve_times(cfg, err, err_size);
	if (rc == 0)
		rc = config_resolve_dirs(cfg, err, err_size);
	if (rc == 0)
		rc = config_resolve_listeners(cfg, err, err_size);
	if (rc == 0)
		rc = config_resolve_spillway(cfg, err, err_size);
	return rc;
}

int
config_resolve_dynamic(struct config *cfg)
{
	for (size_t i = 0; i < config_keys_count; i++) {
		const char *text = config_text(cfg, (int)i);
		int rc;

		if (config_keys[i].off < 0 || text == NULL ||
		    !config_key_dynamic(config_keys[i].name))
			continue;
		rc = config_resolve_store(cfg, &config_keys[i], text);
		if (rc != 0)
			return rc;
	}
	/* The ms keys' precedence over their minutes and hours synonyms;
	 * the session bounds it also checks are not dynamic. */
	return config_resolve_times(cfg, NULL, 0);
}
