/* SPDX-License-Identifier: Apache-2.0 */
/* AlterConfigs and IncrementalAlterConfigs on the control thread: the
 * checks Kafka 3.9 makes (its broker's ConfigAdminManager, then its
 * controller's ConfigurationControlManager), in Kafka's order and with its
 * error codes and messages, then the change: a topic's override set in the
 * topic store, or this broker's / the cluster default's dynamic settings
 * (ctl_dynamic.c), each persisted before it is applied live. @thread control */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"
#include "common/log.h"
#include "control/config.h"
#include "control/ctl_cluster.h"
#include "control/ctl_int.h"
#include "control/ctl_tls.h"
#include "control/topic_config.h"

#define AC_TOPIC 2
#define AC_BROKER 4
#define AC_BROKER_LOGGER 8
#define AC_CLIENT_METRICS 16
/* Configs one resource may name in a request (Kafka has a few hundred). */
#define AC_OPS_MAX 1024
/* Bounds on a stored name and value, as for CreateTopics. */
#define AC_NAME_BYTES_MAX 255
#define AC_VALUE_BYTES_MAX 1024

/* A resource's settings while a request changes them: heap strings. */
struct ac_set {
	int32_t count;
	int32_t cap;
	struct config_dyn_entry *e;
};

static void
ac_set_free(struct ac_set *s)
{
	for (int32_t i = 0; i < s->count; i++) {
		free(s->e[i].name);
		free(s->e[i].value);
	}
	free(s->e);
	memset(s, 0, sizeof(*s));
}

static int32_t
ac_set_find(const struct ac_set *s, const char *name)
{
	for (int32_t i = 0; i < s->count; i++) {
		if (strcmp(s->e[i].name, name) == 0)
			return i;
	}
	return -1;
}

/* Set name to value (NULL: remove); takes value. -ENOMEM on failure. */
static int
ac_set_put(struct ac_set *s, const char *name, char *value)
{
	int32_t i = ac_set_find(s, name);

	if (i >= 0) {
		free(s->e[i].value);
		if (value != NULL) {
			s->e[i].value = value;
			return 0;
		}
		free(s->e[i].name);
		s->e[i] = s->e[--s->count];
		return 0;
	}
	if (value == NULL)
		return 0;
	if (s->count == s->cap) {
		int32_t cap = s->cap == 0 ? 16 : s->cap * 2;
		struct config_dyn_entry *e = realloc(s->e, sizeof(*e) * (size_t)cap);

		if (e == NULL) {
			free(value);
			return -ENOMEM;
		}
		s->e = e;
		s->cap = cap;
	}
	s->e[s->count].name = strdup(name);
	s->e[s->count].value = value;
	if (s->e[s->count].name == NULL) {
		free(value);
		return -ENOMEM;
	}
	s->count++;
	return 0;
}

static char *
ac_strdup(struct kp_str s)
{
	return strndup(s.len < 0 ? "" : s.ptr, (size_t)(s.len < 0 ? 0 : s.len));
}

/* Kafka's broker-side checks of every resource: the config names are
 * distinct, and only DELETE (incremental) may have a null value. */
static int16_t
ac_precheck(const struct kp_config_op *ops, int32_t n, bool incremental, char *msg,
	    size_t msg_size)
{
	size_t used;

	if (n > AC_OPS_MAX) {
		snprintf(msg, msg_size, "At most %d configs per resource", AC_OPS_MAX);
		return KP_ERR_INVALID_REQUEST;
	}
	for (int32_t i = 0; i < n; i++) {
		for (int32_t j = 0; j < i; j++) {
			if (kp_str_eq(ops[i].name, ops[j].name)) {
				snprintf(msg, msg_size, "Error due to duplicate config keys");
				return KP_ERR_INVALID_REQUEST;
			}
		}
	}
	used = (size_t)snprintf(msg, msg_size, "Null value not supported for : ");
	for (int32_t i = 0, nulls = 0; i < n; i++) {
		if (ops[i].value.len >= 0 || (incremental && ops[i].op == KP_CONFIG_OP_DELETE))
			continue;
		if (used < msg_size)
			used += (size_t)snprintf(msg + used, msg_size - used, "%s%.*s",
						 nulls++ ? ", " : "", (int)MAX(ops[i].name.len, 0),
						 ops[i].name.ptr);
	}
	if (used > strlen("Null value not supported for : "))
		return KP_ERR_INVALID_REQUEST;
	msg[0] = '\0';
	return KP_ERR_NONE;
}

/* APPEND or SUBTRACT items of the comma list opv to the list cur (NULL:
 * the key's default), as Kafka's controller does: empty items dropped,
 * APPEND adds only items not there yet, SUBTRACT removes one of each. */
static char *
ac_list_op(const char *cur, const char *opv, bool append)
{
	char *items = strdup(cur != NULL ? cur : "");
	char *out = calloc(1, strlen(items) + strlen(opv) + 2);
	char *save = NULL;
	char *tok;

	if (items == NULL || out == NULL) {
		free(items);
		free(out);
		return NULL;
	}
	for (tok = strtok_r(items, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		sprintf(out + strlen(out), "%s%s", out[0] ? "," : "", tok);
	free(items);
	items = strdup(opv);
	for (tok = items == NULL ? NULL : strtok_r(items, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(tok);
		char *at = out;

		while ((at = strstr(at, tok)) != NULL &&
		       !((at == out || at[-1] == ',') && (at[n] == ',' || at[n] == '\0')))
			at++;
		if (append && at == NULL)
			sprintf(out + strlen(out), "%s%s", out[0] ? "," : "", tok);
		if (!append && at != NULL) {
			size_t skip = n + (at[n] == ',' ? 1 : 0);

			memmove(at, at + skip, strlen(at + skip) + 1);
			if (at > out && *at == '\0')
				at[-1] = '\0';     /* the last item went: its comma too */
		}
	}
	free(items);
	return out;
}

/* The resource's settings after the ops. from: its current settings. For
 * a topic (broker false) Kafka's controller answers a bad operation;
 * for a broker its broker does, with other words. */
static int16_t
ac_apply_ops(struct ac_set *s, const struct kp_config_op *ops, int32_t n, bool incremental,
	     bool broker, char *msg, size_t msg_size)
{
	for (int32_t i = 0; i < n; i++) {
		const struct kp_config_op *o = &ops[i];
		char name[AC_NAME_BYTES_MAX + 1];
		const char *cur;
		int32_t at;
		bool list;
		int8_t op = incremental ? o->op : KP_CONFIG_OP_SET;
		char *v = NULL;
		char *next;

		snprintf(name, sizeof(name), "%.*s", (int)MAX(o->name.len, 0), o->name.ptr);
		if (op == KP_CONFIG_OP_SET || op == KP_CONFIG_OP_DELETE) {
			if (op == KP_CONFIG_OP_SET && (v = ac_strdup(o->value)) == NULL)
				return KP_ERR_UNKNOWN_SERVER_ERROR;
			if (ac_set_put(s, name, v) != 0)
				return KP_ERR_UNKNOWN_SERVER_ERROR;
			continue;
		}
		if (op != KP_CONFIG_OP_APPEND && op != KP_CONFIG_OP_SUBTRACT)
			return KP_ERR_UNKNOWN_SERVER_ERROR;     /* Kafka: null message */
		if (broker && !config_key_known(name))
			return KP_ERR_UNKNOWN_SERVER_ERROR;     /* Kafka: a failed lookup */
		list = broker ? config_key_list(name) : topic_config_is_list(name);
		if (!list && broker) {
			snprintf(msg, msg_size, "Config value %s is not allowed for config key: %s",
				 op == KP_CONFIG_OP_APPEND ? "append" : "subtract", name);
			return KP_ERR_INVALID_CONFIG;
		}
		if (!list) {
			snprintf(msg, msg_size, "Can't %s to key %s because its type is not LIST.",
				 op == KP_CONFIG_OP_APPEND ? "APPEND" : "SUBTRACT", name);
			return KP_ERR_INVALID_CONFIG;
		}
		at = ac_set_find(s, name);
		cur = at >= 0 ? s->e[at].value
		      : broker ? config_default_text(name) : topic_config_default(name);
		v = ac_strdup(o->value);
		if (v == NULL)
			return KP_ERR_UNKNOWN_SERVER_ERROR;
		next = ac_list_op(cur, v, op == KP_CONFIG_OP_APPEND);
		free(v);
		if (next == NULL || ac_set_put(s, name, next) != 0)
			return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	return KP_ERR_NONE;
}

/* ---- topics ---- */

static int16_t
ac_topic_check(const struct ac_set *s, char *msg, size_t msg_size)
{
	for (int32_t i = 0; i < s->count; i++) {
		const char *name = s->e[i].name;
		const char *value = s->e[i].value;
		int16_t err;

		if (strlen(name) > AC_NAME_BYTES_MAX || strlen(value) > AC_VALUE_BYTES_MAX) {
			snprintf(msg, msg_size, "Config %.64s: name or value too long (at most %d "
				 "and %d bytes)", name, AC_NAME_BYTES_MAX, AC_VALUE_BYTES_MAX);
			return KP_ERR_INVALID_CONFIG;
		}
		/* Kafka's list validator takes an empty list (SUBTRACT of all). */
		if (value[0] == '\0' && topic_config_is_list(name))
			continue;
		err = topic_config_validate(kp_str_c(name), kp_str_c(value), msg, msg_size);
		if (err != KP_ERR_NONE)
			return err;
	}
	return KP_ERR_NONE;
}

static int16_t
ac_topic(struct ctl *ctl, struct kp_str resource, const struct kp_config_op *ops, int32_t n,
	 bool incremental, bool validate_only, char *msg, size_t msg_size)
{
	struct md_topic *t = md_store_find(&ctl->store, resource);
	struct kp_topic_config *views = NULL;
	struct ac_set s = { 0 };
	int16_t err = KP_ERR_NONE;
	int rc = 0;

	/* AlterConfigs starts from nothing: its set replaces the old one. */
	for (int32_t i = 0; t != NULL && incremental && err == KP_ERR_NONE &&
	     i < t->config_count; i++) {
		char *v = t->configs[i].value != NULL ? strdup(t->configs[i].value) : NULL;

		if ((t->configs[i].value != NULL && v == NULL) ||
		    ac_set_put(&s, t->configs[i].name, v) != 0)
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	if (err == KP_ERR_NONE)
		err = ac_apply_ops(&s, ops, n, incremental, false, msg, msg_size);
	if (err == KP_ERR_NONE)
		err = ac_topic_check(&s, msg, msg_size);
	if (err == KP_ERR_NONE && t == NULL) {
		snprintf(msg, msg_size, "The topic '%.*s' does not exist.", (int)resource.len,
			 resource.ptr);
		err = KP_ERR_UNKNOWN_TOPIC_OR_PARTITION;
	}
	if (err == KP_ERR_NONE && !validate_only) {
		views = calloc((size_t)s.count + 1, sizeof(*views));
		for (int32_t i = 0; views != NULL && i < s.count; i++) {
			views[i].name = kp_str_c(s.e[i].name);
			views[i].value = kp_str_c(s.e[i].value);
		}
		/* Cluster mode: ZooKeeper first, so every broker gets it. */
		err = views == NULL || ctl->cluster == NULL ? KP_ERR_NONE
			: ctl_cluster_topic_configs_set(ctl, t, views, s.count);
		rc = views == NULL ? -ENOMEM : err != KP_ERR_NONE ? -EIO
			: md_store_topic_configs_set(&ctl->store, &t->id, views, s.count);
		if (rc == -EIO) {
			snprintf(msg, msg_size, "Could not write the configs to ZooKeeper.");
		} else if (rc != 0) {
			snprintf(msg, msg_size, "Could not persist topic metadata: %s",
				 strerror(-rc));
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
		} else {
			ctl->md_dirty = true;   /* max.message.bytes lives in the snapshot */
			ctl_storage_reconfigure(ctl, t);
			log_info("control", "topic %s: %d config override(s) now", t->name,
				 t->config_count);
		}
	}
	free(views);
	ac_set_free(&s);
	return err;
}

/* ---- brokers ---- */

/* Kafka's check that a resource names this node. */
static int16_t
ac_node_check(struct ctl *ctl, struct kp_str resource, char *msg, size_t msg_size)
{
	char text[16];
	char *end;
	long id;

	snprintf(text, sizeof(text), "%.*s", (int)MIN(MAX(resource.len, 0), 15), resource.ptr);
	id = strtol(text, &end, 10);
	if (resource.len <= 0 || resource.len >= 12 || *end != '\0' ||
	    !(text[0] == '-' || text[0] == '+' || (text[0] >= '0' && text[0] <= '9'))) {
		snprintf(msg, msg_size, "Node id must be an integer, but it is: %.*s",
			 (int)MAX(resource.len, 0), resource.ptr);
		return KP_ERR_INVALID_REQUEST;
	}
	if (id != ctl->cfg->node_id) {
		snprintf(msg, msg_size, "Unexpected broker id, expected %d, but received %.*s",
			 ctl->cfg->node_id, (int)resource.len, resource.ptr);
		return KP_ERR_INVALID_REQUEST;
	}
	return KP_ERR_NONE;
}

/* DynamicBrokerConfig.validate: only dynamic keys (or keys unknown to the
 * broker, which Kafka keeps), then each value against its type. */
static int16_t
ac_broker_check(const struct ac_set *s, char *msg, size_t msg_size)
{
	size_t used = (size_t)snprintf(msg, msg_size, "Cannot update these configs "
				       "dynamically: Set(");
	int bad = 0;

	for (int32_t i = 0; i < s->count; i++) {
		const char *name = s->e[i].name;

		if (config_key_known(name) && !config_key_dynamic(name) && used < msg_size)
			used += (size_t)snprintf(msg + used, msg_size - used, "%s%s",
						 bad++ ? ", " : "", name);
	}
	if (bad > 0) {
		if (used < msg_size)
			snprintf(msg + used, msg_size - used, ")");
		return KP_ERR_INVALID_REQUEST;
	}
	msg[0] = '\0';
	if (s->count > CTL_DYN_MAX) {
		snprintf(msg, msg_size, "At most %d dynamic configs per broker resource",
			 CTL_DYN_MAX);
		return KP_ERR_INVALID_REQUEST;
	}
	for (int32_t i = 0; i < s->count; i++) {
		if (strlen(s->e[i].name) > AC_NAME_BYTES_MAX ||
		    strlen(s->e[i].value) > AC_VALUE_BYTES_MAX) {
			snprintf(msg, msg_size, "Config %.64s: name or value too long (at most "
				 "%d and %d bytes)", s->e[i].name, AC_NAME_BYTES_MAX,
				 AC_VALUE_BYTES_MAX);
			return KP_ERR_INVALID_REQUEST;
		}
		if (config_dynamic_check(s->e[i].name, s->e[i].value, msg, msg_size) != 0)
			return KP_ERR_INVALID_REQUEST;
	}
	return KP_ERR_NONE;
}

/* A change to a TLS key (a new key store, or the same path to re-read it)
 * rebuilds the TLS listeners' contexts from the configs as they would
 * become; one that fails to load refuses the change (Kafka validates a new
 * key store before it takes it). */
static int16_t
ac_broker_tls(struct ctl *ctl, bool per_broker, const struct ac_set *s,
	      const struct kp_config_op *ops, int32_t n, struct dp_tls_ctx **tls, char *msg,
	      size_t msg_size)
{
	char why[384];
	bool touched = false;
	const struct ctl_dyn_set *cur = ctl_dyn_get(ctl, per_broker);

	/* Named by an op, or in the layer before or after (AlterConfigs, not
	 * incremental, names only what stays). */
	for (int32_t i = 0; i < n && !touched; i++)
		touched = ctl_tls_key(ops[i].name.ptr, (size_t)MAX(ops[i].name.len, 0));
	for (int32_t i = 0; i < s->count && !touched; i++)
		touched = ctl_tls_key(s->e[i].name, strlen(s->e[i].name));
	for (int32_t i = 0; i < cur->count && !touched; i++)
		touched = ctl_tls_key(cur->e[i].name, strlen(cur->e[i].name));
	if (!touched || ctl->dp == NULL)
		return KP_ERR_NONE;
	if (ctl_tls_prepare(ctl, per_broker, s->e, s->count, tls, why, sizeof(why)) == 0)
		return KP_ERR_NONE;
	snprintf(msg, msg_size, "Validation of dynamic config update of SSLFactory failed: %s",
		 why);
	return KP_ERR_INVALID_CONFIG;
}

static int16_t
ac_broker(struct ctl *ctl, struct kp_str resource, const struct kp_config_op *ops, int32_t n,
	  bool incremental, bool validate_only, char *msg, size_t msg_size)
{
	bool per_broker = resource.len > 0;
	const struct ctl_dyn_set *cur = ctl_dyn_get(ctl, per_broker);
	struct ac_set s = { 0 };
	struct dp_tls_ctx *tls[CONFIG_LISTENERS_MAX] = { 0 };
	int16_t err = KP_ERR_NONE;
	int rc;

	if (per_broker && (err = ac_node_check(ctl, resource, msg, msg_size)) != KP_ERR_NONE)
		return err;
	for (int32_t i = 0; incremental && i < n; i++) {
		if (ops[i].op < KP_CONFIG_OP_SET || ops[i].op > KP_CONFIG_OP_SUBTRACT) {
			snprintf(msg, msg_size, "Unknown operations type %d", ops[i].op);
			return KP_ERR_INVALID_REQUEST;
		}
	}
	for (int32_t i = 0; incremental && err == KP_ERR_NONE && i < cur->count; i++) {
		char *v = strdup(cur->e[i].value);

		if (v == NULL || ac_set_put(&s, cur->e[i].name, v) != 0)
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	if (err == KP_ERR_NONE)
		err = ac_apply_ops(&s, ops, n, incremental, true, msg, msg_size);
	if (err == KP_ERR_NONE)
		err = ac_broker_check(&s, msg, msg_size);
	if (err == KP_ERR_NONE)
		err = ac_broker_tls(ctl, per_broker, &s, ops, n, tls, msg, msg_size);
	if (err == KP_ERR_NONE && !validate_only) {
		rc = ctl_dyn_replace(ctl, per_broker, s.e, s.count);
		if (rc != 0) {
			snprintf(msg, msg_size, "Could not persist the broker configs: %s",
				 strerror(-rc));
			err = KP_ERR_UNKNOWN_SERVER_ERROR;
		} else {
			log_info("control", "%s dynamic broker configs: %d setting(s) now",
				 per_broker ? "this broker's" : "the cluster default", s.count);
			ctl_tls_commit(ctl->dp, tls);   /* new connections take them */
		}
	}
	ctl_tls_discard(tls);
	ac_set_free(&s);
	return err;
}

int16_t
admin_configs_alter(void *ctx, int8_t resource_type, struct kp_str resource,
		    const struct kp_config_op *ops, int32_t op_count, bool incremental,
		    bool validate_only, char *msg, size_t msg_size)
{
	struct ctl *ctl = ctx;
	int16_t err = ac_precheck(ops, op_count, incremental, msg, msg_size);

	if (err != KP_ERR_NONE)
		return err;
	switch (resource_type) {
	case AC_TOPIC:
		return ac_topic(ctl, resource, ops, op_count, incremental, validate_only, msg,
				msg_size);
	case AC_BROKER:
		return ac_broker(ctl, resource, ops, op_count, incremental, validate_only, msg,
				 msg_size);
	case AC_BROKER_LOGGER:
		if (!incremental)
			break;
		err = ac_node_check(ctl, resource, msg, msg_size);
		if (err != KP_ERR_NONE || op_count == 0)
			return err;
		/* Spillway has none of Kafka's log4j loggers. */
		snprintf(msg, msg_size, "Logger %.*s does not exist!",
			 (int)MAX(ops[0].name.len, 0), ops[0].name.ptr);
		return KP_ERR_INVALID_CONFIG;
	case AC_CLIENT_METRICS:
		snprintf(msg, msg_size, "Client metrics subscriptions are not supported by "
			 "Spillway.");
		return KP_ERR_INVALID_REQUEST;
	default:
		break;
	}
	snprintf(msg, msg_size, "Unknown resource type %d", resource_type);
	return KP_ERR_INVALID_REQUEST;
}

/* Name filter of a describe: names NULL means every name. */
static bool
ac_named(const char *name, const struct kp_str *names, int32_t count)
{
	for (int32_t i = 0; names != NULL && i < count; i++) {
		if (kp_str_eq(names[i], kp_str_c(name)))
			return true;
	}
	return names == NULL;
}

static const char *
ac_dyn_value(const struct ctl_dyn_set *s, const char *name)
{
	for (int32_t i = 0; i < s->count; i++) {
		if (strcmp(s->e[i].name, name) == 0)
			return s->e[i].value;
	}
	return NULL;
}

/* Kafka's LONG keys among the ignored ones (DynamicConfig.Broker). */
static bool
ac_long_key(const char *name)
{
	return strcmp(name, "leader.replication.throttled.rate") == 0 ||
	       strcmp(name, "follower.replication.throttled.rate") == 0 ||
	       strcmp(name, "replica.alter.log.dirs.io.max.bytes.per.second") == 0;
}

static bool
ac_dyn_has(const struct ctl_dyn_set *s, const char *name)
{
	return ac_dyn_value(s, name) != NULL;
}

void
admin_configs_describe_unknown(struct ctl *ctl, bool per_broker, const struct kp_str *names,
			       int32_t name_count, bool synonyms, kp_config_entry_fn *fn,
			       void *arg)
{
	const struct ctl_dyn_set *b = ctl_dyn_get(ctl, true);
	const struct ctl_dyn_set *d = ctl_dyn_get(ctl, false);

	/* Kafka keeps keys it does not know and describes them as it does a
	 * config of unknown type: sensitive, so without a value. Kafka's
	 * thread pool keys Spillway ignores come here too. */
	for (int pass = per_broker ? 0 : 1; pass < 2; pass++) {
		const struct ctl_dyn_set *s = pass == 0 ? b : d;

		for (int32_t i = 0; i < s->count; i++) {
			const char *name = s->e[i].name;
			struct kp_config_entry e;
			bool in_b = ac_dyn_has(b, name);
			bool in_d = ac_dyn_has(d, name);
			bool ignored = config_key_ignored(name);

			if ((config_key_known(name) && !ignored) ||
			    !ac_named(name, names, name_count) ||
			    (pass == 1 && per_broker && in_b))
				continue;
			memset(&e, 0, sizeof(e));
			e.name = name;
			e.source = pass == 0 ? KP_CONFIG_SOURCE_DYNAMIC_BROKER
					     : KP_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER;
			/* An ignored Kafka key is shown as Kafka shows it (an INT;
			 * the replication throttles a LONG). */
			e.value = ignored ? s->e[i].value : NULL;
			e.type = !ignored ? KP_CONFIG_TYPE_UNKNOWN
				 : ac_long_key(name) ? KP_CONFIG_TYPE_LONG : KP_CONFIG_TYPE_INT;
			e.read_only = !ignored;
			e.sensitive = !ignored;
			for (int l = pass; synonyms && l < 2; l++) {
				if (l == 0 || in_d) {
					e.synonyms[e.synonym_count].name = name;
					e.synonyms[e.synonym_count].value =
						!ignored ? NULL : l == 0 ? s->e[i].value
						: ac_dyn_value(d, name);
					e.synonyms[e.synonym_count++].source =
						l == 0 ? KP_CONFIG_SOURCE_DYNAMIC_BROKER
						       : KP_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER;
				}
			}
			fn(arg, &e);
		}
	}
}
