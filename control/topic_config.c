/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka's topic-level configs (Kafka 3.9's LogConfig): names, types, defaults,
 * validators and the broker keys each one falls back to, with Kafka's
 * validation messages and DescribeConfigs source/synonym rules. Holds no
 * state: overrides come from the caller, broker values from struct config. */
#include "control/topic_config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"
#include "control/config_int.h"

enum tc_check {
	TC_ANY,         /* no validator beyond the type */
	TC_RANGE,       /* min..max */
	TC_RANGE_M1,    /* min..max or -1 (compression.gzip.level) */
	TC_CHOICE,      /* one of choices */
	TC_CHOICE_LIST, /* comma list of choices */
};

/* A broker key a topic config falls back to; factor converts its unit. */
struct tc_synonym {
	const char *name;
	int64_t factor;
};

struct tc_key {
	const char *name;
	int8_t type;                    /* KP_CONFIG_TYPE_* */
	enum tc_check check;
	const char *def;                /* Kafka's default text */
	int64_t min;
	int64_t max;
	const char *const *choices;     /* NULL-terminated */
	struct tc_synonym syn[3];       /* most specific first; name NULL ends */
	const char *doc;
};

#define L_MAX INT64_MAX
#define I_MAX ((int64_t)INT32_MAX)
#define LONG_MAX_TEXT "9223372036854775807"
#define HOUR_MS ((int64_t)3600 * 1000)
#define MINUTE_MS ((int64_t)60 * 1000)

static const char *const tc_policies[] = { "compact", "delete", NULL };
static const char *const tc_compressions[] = {
	"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer", NULL
};
static const char *const tc_timestamp_types[] = { "CreateTime", "LogAppendTime", NULL };

/* Sorted by name. */
static const struct tc_key tc_keys[] = {
	{ "cleanup.policy", KP_CONFIG_TYPE_LIST, TC_CHOICE_LIST, "delete", 0, 0, tc_policies,
	  { { "log.cleanup.policy", 1 } }, "delete and/or compact old segments." },
	{ "compression.gzip.level", KP_CONFIG_TYPE_INT, TC_RANGE_M1, "-1", 1, 9, NULL,
	  { { "compression.gzip.level", 1 } }, "gzip level when compression.type=gzip." },
	{ "compression.lz4.level", KP_CONFIG_TYPE_INT, TC_RANGE, "9", 1, 17, NULL,
	  { { "compression.lz4.level", 1 } }, "lz4 level when compression.type=lz4." },
	{ "compression.type", KP_CONFIG_TYPE_STRING, TC_CHOICE, "producer", 0, 0,
	  tc_compressions, { { "compression.type", 1 } },
	  "Stored compression; producer keeps the producer's codec." },
	{ "compression.zstd.level", KP_CONFIG_TYPE_INT, TC_RANGE, "3", -131072, 22, NULL,
	  { { "compression.zstd.level", 1 } }, "zstd level when compression.type=zstd." },
	{ "delete.retention.ms", KP_CONFIG_TYPE_LONG, TC_RANGE, "86400000", 0, L_MAX, NULL,
	  { { "log.cleaner.delete.retention.ms", 1 } }, "How long tombstones are kept." },
	{ "file.delete.delay.ms", KP_CONFIG_TYPE_LONG, TC_RANGE, "60000", 0, L_MAX, NULL,
	  { { "log.segment.delete.delay.ms", 1 } }, "Delay before a segment's files go." },
	{ "flush.messages", KP_CONFIG_TYPE_LONG, TC_RANGE, LONG_MAX_TEXT, 1, L_MAX, NULL,
	  { { "log.flush.interval.messages", 1 } }, "Messages appended before an fsync." },
	{ "flush.ms", KP_CONFIG_TYPE_LONG, TC_RANGE, LONG_MAX_TEXT, 0, L_MAX, NULL,
	  { { "log.flush.interval.ms", 1 }, { "log.flush.scheduler.interval.ms", 1 } },
	  "Time before an fsync." },
	{ "follower.replication.throttled.replicas", KP_CONFIG_TYPE_LIST, TC_ANY, "", 0, 0,
	  NULL, { { NULL, 0 } }, "Replicas throttled on the follower side." },
	{ "index.interval.bytes", KP_CONFIG_TYPE_INT, TC_RANGE, "4096", 0, I_MAX, NULL,
	  { { "log.index.interval.bytes", 1 } }, "Bytes between offset index entries." },
	{ "leader.replication.throttled.replicas", KP_CONFIG_TYPE_LIST, TC_ANY, "", 0, 0,
	  NULL, { { NULL, 0 } }, "Replicas throttled on the leader side." },
	{ "local.retention.bytes", KP_CONFIG_TYPE_LONG, TC_RANGE, "-2", -2, L_MAX, NULL,
	  { { "log.local.retention.bytes", 1 } }, "Tiered storage: local size limit." },
	{ "local.retention.ms", KP_CONFIG_TYPE_LONG, TC_RANGE, "-2", -2, L_MAX, NULL,
	  { { "log.local.retention.ms", 1 } }, "Tiered storage: local time limit." },
	{ "max.compaction.lag.ms", KP_CONFIG_TYPE_LONG, TC_RANGE, LONG_MAX_TEXT, 1, L_MAX, NULL,
	  { { "log.cleaner.max.compaction.lag.ms", 1 } }, "Longest a record waits to compact." },
	{ "max.message.bytes", KP_CONFIG_TYPE_INT, TC_RANGE, "1048588", 0, I_MAX, NULL,
	  { { "message.max.bytes", 1 } }, "Largest record batch accepted." },
	{ "message.downconversion.enable", KP_CONFIG_TYPE_BOOLEAN, TC_ANY, "true", 0, 0, NULL,
	  { { "log.message.downconversion.enable", 1 } }, "Down-convert for old fetchers." },
	{ "message.format.version", KP_CONFIG_TYPE_STRING, TC_ANY, "3.0-IV1", 0, 0, NULL,
	  { { "log.message.format.version", 1 } }, "Deprecated: batches are always v2." },
	{ "message.timestamp.after.max.ms", KP_CONFIG_TYPE_LONG, TC_RANGE, LONG_MAX_TEXT, 0,
	  L_MAX, NULL, { { "log.message.timestamp.after.max.ms", 1 } },
	  "How far in the future a record timestamp may be." },
	{ "message.timestamp.before.max.ms", KP_CONFIG_TYPE_LONG, TC_RANGE, LONG_MAX_TEXT, 0,
	  L_MAX, NULL, { { "log.message.timestamp.before.max.ms", 1 } },
	  "How far in the past a record timestamp may be." },
	{ "message.timestamp.difference.max.ms", KP_CONFIG_TYPE_LONG, TC_RANGE, LONG_MAX_TEXT,
	  0, L_MAX, NULL, { { "log.message.timestamp.difference.max.ms", 1 } },
	  "Deprecated: before.max.ms and after.max.ms." },
	{ "message.timestamp.type", KP_CONFIG_TYPE_STRING, TC_CHOICE, "CreateTime", 0, 0,
	  tc_timestamp_types, { { "log.message.timestamp.type", 1 } },
	  "CreateTime or LogAppendTime." },
	{ "min.cleanable.dirty.ratio", KP_CONFIG_TYPE_DOUBLE, TC_RANGE, "0.5", 0, 1, NULL,
	  { { "log.cleaner.min.cleanable.ratio", 1 } }, "Dirty ratio that triggers compaction." },
	{ "min.compaction.lag.ms", KP_CONFIG_TYPE_LONG, TC_RANGE, "0", 0, L_MAX, NULL,
	  { { "log.cleaner.min.compaction.lag.ms", 1 } }, "Youngest record compaction touches." },
	{ "min.insync.replicas", KP_CONFIG_TYPE_INT, TC_RANGE, "1", 1, I_MAX, NULL,
	  { { "min.insync.replicas", 1 } }, "Replicas that must ack for acks=all." },
	{ "preallocate", KP_CONFIG_TYPE_BOOLEAN, TC_ANY, "false", 0, 0, NULL,
	  { { "log.preallocate", 1 } }, "Preallocate segment files." },
	{ "remote.log.copy.disable", KP_CONFIG_TYPE_BOOLEAN, TC_ANY, "false", 0, 0, NULL,
	  { { NULL, 0 } }, "Tiered storage: stop copying to remote." },
	{ "remote.log.delete.on.disable", KP_CONFIG_TYPE_BOOLEAN, TC_ANY, "false", 0, 0, NULL,
	  { { NULL, 0 } }, "Tiered storage: delete remote data when disabled." },
	{ "remote.storage.enable", KP_CONFIG_TYPE_BOOLEAN, TC_ANY, "false", 0, 0, NULL,
	  { { NULL, 0 } }, "Tiered storage (not supported by Spillway)." },
	{ "retention.bytes", KP_CONFIG_TYPE_LONG, TC_ANY, "-1", 0, 0, NULL,
	  { { "log.retention.bytes", 1 } }, "Partition size before old segments go." },
	{ "retention.ms", KP_CONFIG_TYPE_LONG, TC_RANGE, "604800000", -1, L_MAX, NULL,
	  { { "log.retention.ms", 1 }, { "log.retention.minutes", MINUTE_MS },
	    { "log.retention.hours", HOUR_MS } }, "Segment age before it goes; -1 unlimited." },
	{ "segment.bytes", KP_CONFIG_TYPE_INT, TC_RANGE, "1073741824", 14, I_MAX, NULL,
	  { { "log.segment.bytes", 1 } }, "Segment size before a roll." },
	{ "segment.index.bytes", KP_CONFIG_TYPE_INT, TC_RANGE, "10485760", 4, I_MAX, NULL,
	  { { "log.index.size.max.bytes", 1 } }, "Offset index size per segment." },
	{ "segment.jitter.ms", KP_CONFIG_TYPE_LONG, TC_RANGE, "0", 0, L_MAX, NULL,
	  { { "log.roll.jitter.ms", 1 }, { "log.roll.jitter.hours", HOUR_MS } },
	  "Random jitter subtracted from segment.ms." },
	{ "segment.ms", KP_CONFIG_TYPE_LONG, TC_RANGE, "604800000", 1, L_MAX, NULL,
	  { { "log.roll.ms", 1 }, { "log.roll.hours", HOUR_MS } }, "Segment age before a roll." },
	{ "unclean.leader.election.enable", KP_CONFIG_TYPE_BOOLEAN, TC_ANY, "false", 0, 0, NULL,
	  { { "unclean.leader.election.enable", 1 } }, "Allow an out-of-sync leader." },
};

static bool
tc_str_eq(struct kp_str s, const char *c)
{
	return s.len >= 0 && strlen(c) == (size_t)s.len && memcmp(s.ptr, c, (size_t)s.len) == 0;
}

static const struct tc_key *
tc_find(struct kp_str name)
{
	for (size_t i = 0; i < ARRAY_LEN(tc_keys); i++) {
		if (tc_str_eq(name, tc_keys[i].name))
			return &tc_keys[i];
	}
	return NULL;
}

static const char *
tc_type_name(int8_t type)
{
	switch (type) {
	case KP_CONFIG_TYPE_INT:
		return "INT";
	case KP_CONFIG_TYPE_LONG:
		return "LONG";
	case KP_CONFIG_TYPE_SHORT:
		return "SHORT";
	default:
		return "DOUBLE";
	}
}

/* Copy value to buf, trimmed; false when it does not fit. */
static bool
tc_trimmed(struct kp_str value, char *buf, size_t size)
{
	const char *p = value.ptr;
	size_t n = (size_t)value.len;

	while (n > 0 && isspace((unsigned char)*p)) {
		p++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	if (n >= size)
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return true;
}

static bool
tc_in(const char *const *choices, const char *s, size_t len)
{
	for (int i = 0; choices[i] != NULL; i++) {
		if (strlen(choices[i]) == len && strncmp(choices[i], s, len) == 0)
			return true;
	}
	return false;
}

/* Check the text against the key's type; reason gets Kafka's wording. */
static bool
tc_check_number(const struct tc_key *k, const char *text, char *reason, size_t size)
{
	char *end;
	long long v;
	double d;

	errno = 0;
	if (k->type == KP_CONFIG_TYPE_DOUBLE) {
		d = strtod(text, &end);
		v = 0;
	} else {
		v = strtoll(text, &end, 10);
		d = (double)v;
	}
	if (*text == '\0' || *end != '\0' || errno != 0 ||
	    (k->type == KP_CONFIG_TYPE_INT && (v < INT32_MIN || v > INT32_MAX))) {
		snprintf(reason, size, "Not a number of type %s", tc_type_name(k->type));
		return false;
	}
	if (k->check == TC_RANGE_M1 && v == -1)
		return true;
	if (k->check == TC_RANGE_M1 && (v < k->min || v > k->max)) {
		snprintf(reason, size, "Value must be between %" PRId64 " and %" PRId64 " or -1",
			 k->min, k->max);
		return false;
	}
	if (k->check == TC_RANGE && d < (double)k->min) {
		snprintf(reason, size, "Value must be at least %" PRId64, k->min);
		return false;
	}
	if (k->check == TC_RANGE && d > (double)k->max) {
		snprintf(reason, size, "Value must be no more than %" PRId64, k->max);
		return false;
	}
	return true;
}

static void
tc_choices_text(const char *const *choices, char *buf, size_t size)
{
	size_t used = (size_t)snprintf(buf, size, "String must be one of: ");

	for (int i = 0; choices[i] != NULL && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
					 choices[i]);
}

static bool
tc_check_value(const struct tc_key *k, const char *text, char *reason, size_t size)
{
	const char *p = text;

	switch (k->type) {
	case KP_CONFIG_TYPE_BOOLEAN:
		if (strcasecmp(text, "true") == 0 || strcasecmp(text, "false") == 0)
			return true;
		snprintf(reason, size, "Expected value to be either true or false");
		return false;
	case KP_CONFIG_TYPE_INT:
	case KP_CONFIG_TYPE_LONG:
	case KP_CONFIG_TYPE_DOUBLE:
		return tc_check_number(k, text, reason, size);
	default:
		break;
	}
	if (k->check == TC_CHOICE && !tc_in(k->choices, text, strlen(text))) {
		tc_choices_text(k->choices, reason, size);
		return false;
	}
	while (k->check == TC_CHOICE_LIST) {
		size_t len = strcspn(p, ",");
		const char *item = p;
		size_t n = len;

		while (n > 0 && isspace((unsigned char)*item)) {
			item++;
			n--;
		}
		while (n > 0 && isspace((unsigned char)item[n - 1]))
			n--;
		if (!tc_in(k->choices, item, n)) {
			tc_choices_text(k->choices, reason, size);
			return false;
		}
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	return true;
}

int16_t
topic_config_validate(struct kp_str name, struct kp_str value, char *msg, size_t msg_size)
{
	const struct tc_key *k = tc_find(name);
	char text[1024];
	char reason[160];

	if (msg != NULL && msg_size > 0)
		msg[0] = '\0';
	if (k == NULL) {
		config_err(msg, msg_size, "Unknown topic config name: %.*s",
			   name.len < 0 ? 0 : name.len, name.len < 0 ? "" : name.ptr);
		return KP_ERR_INVALID_CONFIG;
	}
	if (value.len < 0)
		return KP_ERR_NONE;
	if (!tc_trimmed(value, text, sizeof(text))) {
		config_err(msg, msg_size,
			   "Invalid value for configuration %s: longer than %zu bytes", k->name,
			   sizeof(text) - 1);
		return KP_ERR_INVALID_CONFIG;
	}
	if (!tc_check_value(k, text, reason, sizeof(reason))) {
		config_err(msg, msg_size, "Invalid value %.*s for configuration %s: %s", value.len,
			   value.ptr, k->name, reason);
		return KP_ERR_INVALID_CONFIG;
	}
	return KP_ERR_NONE;
}

/* The last non-null override of k, or NULL. */
static const struct kp_topic_config *
tc_override(const struct tc_key *k, const struct kp_topic_config *overrides, int32_t n)
{
	const struct kp_topic_config *found = NULL;

	for (int32_t i = 0; i < n; i++) {
		if (overrides[i].value.len >= 0 && tc_str_eq(overrides[i].name, k->name))
			found = &overrides[i];
	}
	return found;
}

/* The first broker synonym the broker config sets (in any layer: dynamic
 * ones win key by key, then Kafka's ms > minutes > hours), or NULL. */
static const struct tc_synonym *
tc_broker_synonym(const struct config *cfg, const struct tc_key *k, const char **text)
{
	for (int s = 0; s < 3 && k->syn[s].name != NULL; s++) {
		*text = config_set_text_of(cfg, k->syn[s].name);
		if (*text != NULL)
			return &k->syn[s];
	}
	return NULL;
}

/* A broker value in the topic's unit (numbers scaled, -1 kept). */
static void
tc_convert(const struct tc_key *k, const struct tc_synonym *s, const char *text, char *buf,
	   size_t size)
{
	long long v;

	if (s->factor == 1 || (k->type != KP_CONFIG_TYPE_LONG && k->type != KP_CONFIG_TYPE_INT)) {
		snprintf(buf, size, "%s", text);
		return;
	}
	v = strtoll(text, NULL, 10);
	snprintf(buf, size, "%lld", v < 0 ? v : v * s->factor);
}

static void
tc_add_synonym(struct kp_config_entry *e, const char *name, const char *value, int8_t source)
{
	int32_t n = e->synonym_count;

	if (n == (int32_t)ARRAY_LEN(e->synonyms))
		return;         /* the override plus three set synonyms: default dropped */
	e->synonyms[n].name = name;
	e->synonyms[n].value = value;
	e->synonyms[n].source = source;
	e->synonym_count++;
}

/* Kafka's broker synonyms of a topic config: layer by layer, most specific
 * first, those each layer sets; leading entries not named like the first
 * (primary) synonym are dropped, as ConfigHelper.configSynonyms does. */
static void
tc_broker_synonyms(const struct config *cfg, const struct tc_key *k, struct kp_config_entry *e)
{
	bool found = false;

	for (int layer = 0; layer < CONFIG_LAYER_COUNT; layer++) {
		for (int s = 0; s < 3 && k->syn[s].name != NULL; s++) {
			const char *v = config_layer_text(cfg, k->syn[s].name,
							  (enum config_layer)layer);

			found = found || (v != NULL && s == 0);
			if (v != NULL && found)
				tc_add_synonym(e, k->syn[s].name, v,
					       config_layer_source((enum config_layer)layer));
		}
	}
}

static void
tc_describe_one(const struct config *cfg, const struct tc_key *k,
		const struct kp_topic_config *overrides, int32_t override_count,
		bool include_synonyms, bool include_docs, kp_config_entry_fn *fn, void *arg)
{
	const struct kp_topic_config *o = tc_override(k, overrides, override_count);
	const char *broker_text = NULL;
	const struct tc_synonym *bs = tc_broker_synonym(cfg, k, &broker_text);
	struct kp_config_entry e;
	char converted[64];
	char *own = NULL;

	memset(&e, 0, sizeof(e));
	e.name = k->name;
	e.type = k->type;
	e.documentation = include_docs ? k->doc : NULL;
	if (o != NULL) {
		own = strndup(o->value.ptr, (size_t)o->value.len);
		e.value = own != NULL ? own : "";
		tc_add_synonym(&e, k->name, e.value, KP_CONFIG_SOURCE_DYNAMIC_TOPIC);
	} else if (bs != NULL) {
		tc_convert(k, bs, broker_text, converted, sizeof(converted));
		e.value = converted;
	} else {
		e.value = k->def;
	}
	tc_broker_synonyms(cfg, k, &e);
	/* The source is the first synonym's (the override's, when there is
	 * one); none left after the drop means DEFAULT. */
	e.source = e.synonym_count > 0 ? e.synonyms[0].source : KP_CONFIG_SOURCE_DEFAULT;
	e.is_default = e.source == KP_CONFIG_SOURCE_DEFAULT;
	if (!include_synonyms)
		e.synonym_count = 0;
	fn(arg, &e);
	free(own);
}

void
topic_config_describe(const struct config *cfg, const struct kp_topic_config *overrides,
		      int32_t override_count, const struct kp_str *names, int32_t name_count,
		      bool include_synonyms, bool include_docs, kp_config_entry_fn *fn, void *arg)
{
	ASSERT(cfg != NULL);
	ASSERT(fn != NULL);
	ASSERT(override_count == 0 || overrides != NULL);
	if (names == NULL) {
		for (size_t i = 0; i < ARRAY_LEN(tc_keys); i++)
			tc_describe_one(cfg, &tc_keys[i], overrides, override_count,
					include_synonyms, include_docs, fn, arg);
		return;
	}
	for (int32_t n = 0; n < name_count; n++) {
		const struct tc_key *k = tc_find(names[n]);

		if (k != NULL)
			tc_describe_one(cfg, k, overrides, override_count, include_synonyms,
					include_docs, fn, arg);
	}
}

static int64_t
tc_parse_i64(const struct tc_key *k, const char *text)
{
	if (k->type == KP_CONFIG_TYPE_BOOLEAN)
		return strcasecmp(text, "true") == 0 ? 1 : 0;
	return strtoll(text, NULL, 10);
}

int64_t
topic_config_get_i64(const struct config *cfg, const struct kp_topic_config *overrides,
		     int32_t n, const char *name)
{
	struct kp_str key = { name, (int32_t)strlen(name) };
	const struct tc_key *k = tc_find(key);
	const struct kp_topic_config *o;
	const struct tc_synonym *bs;
	const char *broker_text = NULL;
	char text[64];
	int64_t v;

	ASSERT(k != NULL);
	ASSERT(k->type == KP_CONFIG_TYPE_INT || k->type == KP_CONFIG_TYPE_LONG ||
	       k->type == KP_CONFIG_TYPE_SHORT || k->type == KP_CONFIG_TYPE_BOOLEAN);
	o = tc_override(k, overrides, n);
	if (o != NULL && tc_trimmed(o->value, text, sizeof(text)))
		return tc_parse_i64(k, text);
	bs = tc_broker_synonym(cfg, k, &broker_text);
	if (bs == NULL)
		return tc_parse_i64(k, k->def);
	v = tc_parse_i64(k, broker_text);
	return v < 0 ? v : v * bs->factor;
}

const char *
topic_config_get_text(const struct config *cfg, const struct kp_topic_config *overrides,
		      int32_t n, const char *name, char *buf, size_t size)
{
	struct kp_str key = { name, (int32_t)strlen(name) };
	const struct tc_key *k = tc_find(key);
	const struct kp_topic_config *o;
	const char *broker_text = NULL;

	ASSERT(k != NULL);
	o = tc_override(k, overrides, n);
	if (o != NULL && tc_trimmed(o->value, buf, size))
		return buf;
	if (tc_broker_synonym(cfg, k, &broker_text) != NULL && broker_text != NULL) {
		snprintf(buf, size, "%s", broker_text);
		return buf;
	}
	snprintf(buf, size, "%s", k->def != NULL ? k->def : "");
	return buf;
}

bool
topic_config_is_list(const char *name)
{
	const struct tc_key *k = tc_find(kp_str_c(name));

	return k != NULL && k->type == KP_CONFIG_TYPE_LIST;
}

const char *
topic_config_default(const char *name)
{
	const struct tc_key *k = tc_find(kp_str_c(name));

	return k != NULL ? k->def : NULL;
}
