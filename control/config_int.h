/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the broker configuration (control/config*.c): the key table's row
 * type and the functions its files share. Not for use outside control/'s
 * config library (topic_config.c shares config_err()).
 * @thread control (config_load() runs once at startup, before the cores). */
#ifndef CONTROL_CONFIG_INT_H
#define CONTROL_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/config.h"

/* How a key's text is checked and stored. */
enum config_type {
	CFG_BOOL,       /* true|false, any case; field: bool */
	CFG_INT,        /* field: int32_t */
	CFG_SHORT,      /* field: int16_t */
	CFG_LONG,       /* field: int64_t */
	CFG_DOUBLE,     /* min..max; field: double (none stored today) */
	CFG_STRING,     /* any text; field: char * (heap) */
	CFG_ENUM,       /* one of choices (case-sensitive, as Kafka); field: an enum */
	CFG_POLICY,     /* comma list of delete|compact; field: unsigned bits */
	CFG_LISTENERS,  /* NAME://host:port[,...]; resolved by config_resolve_listeners() */
	CFG_HOSTPORT,   /* host:port or [v6]:port */
	CFG_CPULIST,    /* comma list of distinct CPU ids */
	CFG_PATHLIST,   /* comma list of paths (log.dirs) */
	CFG_CLUSTER_ID, /* 22 characters of URL-safe base64, as Kafka's */
	CFG_IGNORED,    /* a Kafka key that does not apply: accepted with a warning */
};

/* Row flags. */
#define CFG_F_EFFECTIVE 1u      /* describe shows the resolved value (ms heads) */
#define CFG_F_MINUS1 2u         /* -1 is accepted besides min..max (gzip level) */

struct config_key {
	const char *name;
	enum config_type type;
	unsigned flags;
	const char *def;        /* default text, as Kafka prints it; NULL: none */
	int64_t min;            /* numeric range, inclusive */
	int64_t max;
	const char *const *choices;     /* CFG_ENUM: NULL-terminated */
	ptrdiff_t off;          /* field in struct config, or -1 */
	const char *doc;
};

#define CONFIG_GROUP_MAX 4      /* members of a synonym group, NULL-padded */

/* config_keys.c: the table, in usage and describe order. */
extern const struct config_key config_keys[];
extern const size_t config_keys_count;
/* Families of Kafka keys accepted with a warning, matched by prefix. */
extern const char *const config_keys_ignored_prefixes[];
extern const size_t config_keys_ignored_prefix_count;

/* The row of name, or -1. */
int config_keys_index(const char *name);
/* True when key starts with one of config_keys_ignored_prefixes. */
bool config_keys_ignored_prefix(const char *key);
/* The KP_CONFIG_TYPE_* that DescribeConfigs reports for type. */
int8_t config_keys_kp_type(enum config_type type);
/* The synonym group of name (CONFIG_GROUP_MAX entries, NULL-padded), or NULL. */
const char *const *config_keys_group_of(const char *name);

/* config_value.c */
struct config_listener {
	char name[CONFIG_LISTENER_NAME_MAX];
	char host[CONFIG_HOST_MAX];
	uint16_t port;
};

/* Trim blanks on both ends in place; returns the new start. */
char *config_value_trim(char *s);
/* Parse a whole decimal integer (surrounding blanks trimmed by the caller). */
bool config_value_i64(const char *text, int64_t *out);
/* The index of text in the NULL-terminated choices, or -1. */
int config_value_choice(const char *const *choices, const char *text);
/* Split "host:port" or "[v6]:port" (host may be empty). */
bool config_value_hostport(const char *text, char *host, size_t host_size, uint16_t *port);
/* Parse one "NAME://host:port" entry; the name is upper-cased. */
bool config_value_listener(const char *text, struct config_listener *l);
/* Call fn on each comma-separated, trimmed, non-empty item of text; stop at
 * the first nonzero return and pass it on (-ENOMEM: no memory). */
int config_value_items(const char *text, int (*fn)(void *arg, char *item), void *arg);
/* Check text against k. On success writes the normalized text to norm and
 * returns true; else writes what was expected to expect. */
bool config_value_check(const struct config_key *k, const char *text, char *norm,
			size_t norm_size, char *expect, size_t expect_size);

/* config.c */
/* Format one line into err (err may be NULL or err_size 0). */
void config_err(char *err, size_t err_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The text in effect for row i (dynamic layers, then the file or an
 * override), NULL when none sets it. */
const char *config_set_text(const struct config *cfg, int i);
/* The text in effect for row i, else its default (may be NULL). */
const char *config_text(const struct config *cfg, int i);
/* The given text of any key, ignored ones included, or NULL. */
const char *config_given_any(const struct config *cfg, const char *name);
/* Record key=value from where (a "file:line" or "--override"). */
int config_set(struct config *cfg, const char *key, const char *value, const char *where,
	       char *err, size_t err_size);

/* config_file.c: read and set every key of the properties file at path. */
int config_file_read(struct config *cfg, const char *path, char *err, size_t err_size);

/* config_listeners.c: fill cfg->listeners from listeners,
 * listener.security.protocol.map and advertised.listeners. 0 or -EINVAL
 * with err naming the key. */
int config_resolve_listeners(struct config *cfg, char *err, size_t err_size);
/* True for an all-interfaces host: "", 0.0.0.0 or ::. */
bool config_host_is_any(const char *host);

/* config_resolve.c: fill cfg's typed fields from the given and default texts. */
int config_resolve(struct config *cfg, char *err, size_t err_size);
/* Fill again the fields of the dynamic keys (their layers changed). 0 or
 * -ENOMEM. */
int config_resolve_dynamic(struct config *cfg);

/* config_sasl.c: true when key is a SASL key kept as text; keep it (1),
 * not one (0), or -errno. */
bool config_sasl_key(const char *key);
int config_sasl_set(struct config *cfg, const char *key, const char *value);
void config_sasl_free(struct config *cfg);
/* config_ssl.c: keep key if it is a TLS key (1), not one (0), or -errno. */
int config_ssl_set(struct config *cfg, const char *key, const char *value);
void config_ssl_free(struct config *cfg);

#endif
