/* SPDX-License-Identifier: Apache-2.0 */
/* The client listeners: listeners= less controller.listener.names, each
 * with its security protocol from listener.security.protocol.map and its
 * advertised.listeners entry, checked as Kafka 3.9 checks them (distinct
 * names, distinct ports unless one IPv4 and one IPv6 address share one,
 * every name in the map, advertised names a subset of the listeners, no
 * advertised meta-address). @thread control (startup). */
#include "control/config_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/compiler.h"

/* Kafka's SecurityProtocol names, by enum kp_sec_protocol. */
static const char *const config_protocol_names[] = {
	[KP_SEC_PLAINTEXT] = "PLAINTEXT",
	[KP_SEC_SSL] = "SSL",
	[KP_SEC_SASL_PLAINTEXT] = "SASL_PLAINTEXT",
	[KP_SEC_SASL_SSL] = "SASL_SSL",
};

const char *
config_protocol_name(uint8_t protocol)
{
	return protocol < ARRAY_LEN(config_protocol_names) ? config_protocol_names[protocol]
							   : "?";
}

bool
config_host_is_any(const char *host)
{
	return *host == '\0' || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
}

/* True when name is an item of the comma list (case-insensitive, as Kafka
 * upper-cases listener names). */
static bool
config_listeners_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	while (list != NULL && *list != '\0') {
		const char *end;
		size_t len;

		list += strspn(list, " ,");
		end = list + strcspn(list, ",");
		len = (size_t)(end - list);
		while (len > 0 && isspace((unsigned char)list[len - 1]))
			len--;
		if (len == n && strncasecmp(list, name, n) == 0)
			return true;
		list = end;
	}
	return false;
}

/* The parsed listener.security.protocol.map. */
struct config_protocol_map {
	int count;
	char names[CONFIG_LISTENERS_MAX * 2][CONFIG_LISTENER_NAME_MAX];
	uint8_t protocols[CONFIG_LISTENERS_MAX * 2];
	char *err;
	size_t err_size;
};

static int
config_protocol_map_item(void *arg, char *item)
{
	struct config_protocol_map *m = arg;
	char *colon = strchr(item, ':');
	char *name = item, *proto;
	int p;

	if (colon == NULL) {
		config_err(m->err, m->err_size, "listener.security.protocol.map: entry '%s' is "
			   "not LISTENER_NAME:SECURITY_PROTOCOL", item);
		return -EINVAL;
	}
	*colon = '\0';
	name = config_value_trim(name);
	proto = config_value_trim(colon + 1);
	if (*name == '\0' || strlen(name) >= CONFIG_LISTENER_NAME_MAX) {
		config_err(m->err, m->err_size, "listener.security.protocol.map: bad listener "
			   "name '%s'", name);
		return -EINVAL;
	}
	for (char *c = name; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	for (p = 0; p < (int)ARRAY_LEN(config_protocol_names); p++) {
		if (strcasecmp(proto, config_protocol_names[p]) == 0)
			break;
	}
	if (p == (int)ARRAY_LEN(config_protocol_names)) {
		config_err(m->err, m->err_size, "listener.security.protocol.map: unknown "
			   "security protocol '%s' for listener '%s' (expected PLAINTEXT, SSL, "
			   "SASL_PLAINTEXT or SASL_SSL)", proto, name);
		return -EINVAL;
	}
	for (int i = 0; i < m->count; i++) {
		if (strcmp(m->names[i], name) == 0) {
			config_err(m->err, m->err_size, "listener.security.protocol.map: "
				   "duplicate listener name '%s'", name);
			return -EINVAL;
		}
	}
	if (m->count == (int)ARRAY_LEN(m->names)) {
		config_err(m->err, m->err_size, "listener.security.protocol.map: more than %d "
			   "entries", (int)ARRAY_LEN(m->names));
		return -EINVAL;
	}
	snprintf(m->names[m->count], CONFIG_LISTENER_NAME_MAX, "%s", name);
	m->protocols[m->count++] = (uint8_t)p;
	return 0;
}

/* The protocol name maps to, or -1. */
static int
config_protocol_map_find(const struct config_protocol_map *m, const char *name)
{
	for (int i = 0; i < m->count; i++) {
		if (strcmp(m->names[i], name) == 0)
			return m->protocols[i];
	}
	return -1;
}

/* Listeners of a listeners-like key, the controller's left out. */
struct config_listeners_collect {
	const struct config *cfg;
	struct config_listener items[CONFIG_LISTENERS_MAX];
	int count;
};

static int
config_listeners_collect_item(void *arg, char *item)
{
	struct config_listeners_collect *cc = arg;
	struct config_listener l;

	if (!config_value_listener(item, &l))
		return 1;       /* checked when set: cannot happen */
	if (config_listeners_list_has(config_given_any(cc->cfg, "controller.listener.names"),
				      l.name))
		return 0;       /* a KRaft controller listener: not ours */
	if (cc->count == (int)ARRAY_LEN(cc->items))
		return 1;
	cc->items[cc->count++] = l;
	return 0;
}

static void
config_listeners_canonical_host(char *out, size_t size)
{
	struct addrinfo hints = { .ai_flags = AI_CANONNAME, .ai_family = AF_UNSPEC };
	struct addrinfo *res = NULL;
	char name[CONFIG_HOST_MAX];

	if (gethostname(name, sizeof(name)) != 0)
		snprintf(name, sizeof(name), "localhost");
	name[sizeof(name) - 1] = '\0';
	if (getaddrinfo(name, NULL, &hints, &res) == 0 && res != NULL &&
	    res->ai_canonname != NULL)
		snprintf(out, size, "%s", res->ai_canonname);
	else
		snprintf(out, size, "%s", name);
	if (res != NULL)
		freeaddrinfo(res);
}

/* Advertise host:port for ep; an all-interfaces host (the meta-addresses
 * only come from listeners) becomes the canonical host name, as Kafka does. */
static void
config_listeners_advertise(struct config_endpoint *ep, const char *host, uint16_t port)
{
	if (config_host_is_any(host))
		config_listeners_canonical_host(ep->advertised_host, sizeof(ep->advertised_host));
	else
		snprintf(ep->advertised_host, CONFIG_HOST_MAX, "%s", host);
	ep->advertised_port = port;
}

static int
config_listeners_find(const struct config *cfg, const char *name)
{
	for (int i = 0; i < cfg->listener_count; i++) {
		if (strcmp(cfg->listeners[i].name, name) == 0)
			return i;
	}
	return -1;
}

/* Kafka's listener names as a list: "A, B". */
static void
config_listeners_names(const struct config *cfg, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < cfg->listener_count && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s", i > 0 ? ", " : "",
					cfg->listeners[i].name);
}

/* One advertised.listeners entry a: the listener it names gets its address. */
static int
config_listeners_advertised_one(struct config *cfg, const struct config_listener *a,
				bool seen[CONFIG_LISTENERS_MAX], const char *text, char *err,
				size_t err_size)
{
	char names[CONFIG_LISTENERS_MAX * CONFIG_LISTENER_NAME_MAX];
	int at = config_listeners_find(cfg, a->name);

	if (at < 0) {
		config_listeners_names(cfg, names, sizeof(names));
		config_err(err, err_size, "advertised.listeners: listener names must be "
			   "equal to or a subset of the ones defined in listeners. Found %s. "
			   "The valid options based on currently configured listeners are %s",
			   a->name, names);
		return -EINVAL;
	}
	if (seen[at]) {
		config_err(err, err_size, "advertised.listeners: each listener must have a "
			   "different name, listeners: %s", text);
		return -EINVAL;
	}
	if (strcmp(a->host, "0.0.0.0") == 0 || strcmp(a->host, "::") == 0) {
		config_err(err, err_size, "advertised.listeners: cannot use the nonroutable "
			   "meta-address %s. Use a routable IP address.", a->host);
		return -EINVAL;
	}
	seen[at] = true;
	config_listeners_advertise(&cfg->listeners[at], a->host, a->port);
	return 0;
}

static int
config_listeners_advertised(struct config *cfg, char *err, size_t err_size)
{
	struct config_listeners_collect cc = { .cfg = cfg };
	const char *text = config_given_any(cfg, "advertised.listeners");
	bool seen[CONFIG_LISTENERS_MAX] = { false };

	if (text == NULL) {
		for (int i = 0; i < cfg->listener_count; i++)
			config_listeners_advertise(&cfg->listeners[i], cfg->listeners[i].host,
						   cfg->listeners[i].port);
		return 0;
	}
	if (config_value_items(text, config_listeners_collect_item, &cc) != 0) {
		config_err(err, err_size, "advertised.listeners: more than %d listeners in '%s'",
			   CONFIG_LISTENERS_MAX, text);
		return -EINVAL;
	}
	for (int i = 0; i < cc.count; i++) {
		if (config_listeners_advertised_one(cfg, &cc.items[i], seen, text, err,
						    err_size) != 0)
			return -EINVAL;
	}
	for (int i = 0; i < cfg->listener_count; i++) {
		if (!seen[i]) {
			config_err(err, err_size, "advertised.listeners: no entry for listener "
				   "'%s' (Spillway advertises every listener)",
				   cfg->listeners[i].name);
			return -EINVAL;
		}
	}
	return 0;
}

/* Kafka lets two listeners share a port when exactly two do and one has an
 * IPv4 address, the other an IPv6 one. */
static bool
config_listeners_port_shared_ok(const struct config_listener *a, const struct config_listener *b,
				int sharing)
{
	struct in6_addr v6;
	struct in_addr v4;

	if (sharing != 2)
		return false;
	return (inet_pton(AF_INET, a->host, &v4) == 1 && inet_pton(AF_INET6, b->host, &v6) == 1) ||
	       (inet_pton(AF_INET6, a->host, &v6) == 1 && inet_pton(AF_INET, b->host, &v4) == 1);
}

/* Distinct names, and distinct ports (0 aside) but for the IPv4/IPv6 pair. */
static int
config_listeners_distinct(const struct config_listeners_collect *cc, const char *text,
			  char *err, size_t err_size)
{
	for (int i = 0; i < cc->count; i++) {
		const struct config_listener *a = &cc->items[i];
		int sharing = 1, other = -1;

		for (int j = 0; j < cc->count; j++) {
			if (j != i && strcmp(cc->items[j].name, a->name) == 0) {
				config_err(err, err_size, "listeners: each listener must have a "
					   "different name, listeners: %s", text);
				return -EINVAL;
			}
			if (j != i && a->port != 0 && cc->items[j].port == a->port) {
				sharing++;
				other = j;
			}
		}
		if (other >= 0 && !config_listeners_port_shared_ok(a, &cc->items[other], sharing)) {
			config_err(err, err_size, "listeners: each listener must have a different "
				   "port unless exactly one listener has an IPv4 address and the "
				   "other IPv6 address, listeners: %s, port: %u", text, a->port);
			return -EINVAL;
		}
	}
	return 0;
}

static int
config_listeners_map(const struct config *cfg, struct config_protocol_map *m)
{
	/* Given, else the default: each protocol maps its own name. */
	const char *text = config_text(cfg, config_keys_index("listener.security.protocol.map"));

	return config_value_items(text, config_protocol_map_item, m) != 0 ? -EINVAL : 0;
}

int
config_resolve_listeners(struct config *cfg, char *err, size_t err_size)
{
	struct config_listeners_collect cc = { .cfg = cfg };
	const char *text = config_text(cfg, config_keys_index("listeners"));
	struct config_protocol_map map = { .err = err, .err_size = err_size };

	if (config_listeners_map(cfg, &map) != 0)
		return -EINVAL;
	if (config_value_items(text, config_listeners_collect_item, &cc) != 0) {
		config_err(err, err_size, "listeners: more than %d client listeners in '%s'",
			   CONFIG_LISTENERS_MAX, text);
		return -EINVAL;
	}
	if (cc.count == 0) {
		config_err(err, err_size, "listeners: no client listener in '%s' (all are in "
			   "controller.listener.names)", text);
		return -EINVAL;
	}
	if (config_listeners_distinct(&cc, text, err, err_size) != 0)
		return -EINVAL;
	cfg->listener_count = 0;
	for (int i = 0; i < cc.count; i++) {
		struct config_endpoint *ep = &cfg->listeners[cfg->listener_count++];
		int protocol = config_protocol_map_find(&map, cc.items[i].name);

		if (protocol < 0) {
			config_err(err, err_size, "listeners: no security protocol defined for "
				   "listener %s (add it to listener.security.protocol.map)",
				   cc.items[i].name);
			return -EINVAL;
		}
		snprintf(ep->name, sizeof(ep->name), "%s", cc.items[i].name);
		snprintf(ep->host, sizeof(ep->host), "%s", cc.items[i].host);
		ep->port = cc.items[i].port;
		ep->protocol = (uint8_t)protocol;
	}
	return config_listeners_advertised(cfg, err, err_size);
}
