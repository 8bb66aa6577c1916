/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/topic_config.c: Kafka-worded validation messages, and the
 * DescribeConfigs view of a topic (value, source and synonyms for a topic
 * override, a broker synonym and Kafka's default), captured through the
 * callback; plus topic_config_get_i64()'s precedence. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "control/topic_config.h"

static struct config cfg;
static char err[512];

static void
cleanup(void)
{
	config_free(&cfg);
}

TestSuite(topic_config, .fini = cleanup);

static struct kp_str
S(const char *s)
{
	struct kp_str k = { s, (int32_t)strlen(s) };

	return k;
}

static int16_t
validate(const char *name, const char *value, char *msg, size_t size)
{
	return topic_config_validate(S(name), S(value), msg, size);
}

static void
expect_invalid(const char *name, const char *value, const char *message)
{
	char msg[256];

	cr_assert_eq(validate(name, value, msg, sizeof(msg)), KP_ERR_INVALID_CONFIG,
		     "%s=%s accepted", name, value);
	cr_assert_str_eq(msg, message);
}

static void
expect_valid(const char *name, const char *value)
{
	char msg[256];

	cr_assert_eq(validate(name, value, msg, sizeof(msg)), KP_ERR_NONE, "%s=%s: %s", name,
		     value, msg);
}

Test(topic_config, validate_messages)
{
	expect_invalid("foo", "1", "Unknown topic config name: foo");
	expect_invalid("retention.ms", "x",
		       "Invalid value x for configuration retention.ms: Not a number of type LONG");
	expect_invalid("segment.bytes", "10",
		       "Invalid value 10 for configuration segment.bytes: "
		       "Value must be at least 14");
	expect_invalid("segment.bytes", "3000000000", "Invalid value 3000000000 for "
		       "configuration segment.bytes: Not a number of type INT");
	expect_invalid("retention.ms", "-2",
		       "Invalid value -2 for configuration retention.ms: "
		       "Value must be at least -1");
	expect_invalid("preallocate", "yes", "Invalid value yes for configuration preallocate: "
		       "Expected value to be either true or false");
	expect_invalid("cleanup.policy", "compact,remove", "Invalid value compact,remove for "
		       "configuration cleanup.policy: String must be one of: compact, delete");
	expect_invalid("message.timestamp.type", "Now", "Invalid value Now for configuration "
		       "message.timestamp.type: String must be one of: CreateTime, LogAppendTime");
	expect_invalid("min.cleanable.dirty.ratio", "1.5", "Invalid value 1.5 for configuration "
		       "min.cleanable.dirty.ratio: Value must be no more than 1");
	expect_invalid("min.cleanable.dirty.ratio", "half", "Invalid value half for "
		       "configuration min.cleanable.dirty.ratio: Not a number of type DOUBLE");
	expect_invalid("compression.gzip.level", "0", "Invalid value 0 for configuration "
		       "compression.gzip.level: Value must be between 1 and 9 or -1");
	expect_invalid("compression.type", "brotli", "Invalid value brotli for configuration "
		       "compression.type: String must be one of: uncompressed, zstd, lz4, "
		       "snappy, gzip, producer");
}

Test(topic_config, validate_accepts)
{
	expect_valid("retention.ms", "-1");
	expect_valid("retention.ms", " 86400000 ");
	expect_valid("retention.bytes", "-5");
	expect_valid("cleanup.policy", "compact, delete");
	expect_valid("preallocate", "TRUE");
	expect_valid("min.cleanable.dirty.ratio", "0.25");
	expect_valid("compression.gzip.level", "-1");
	expect_valid("compression.zstd.level", "-5");
	expect_valid("max.message.bytes", "0");
	expect_valid("local.retention.ms", "-2");
	expect_valid("message.downconversion.enable", "false");
	expect_valid("leader.replication.throttled.replicas", "0:1,1:2");
	cr_assert_eq(topic_config_validate(S("retention.ms"), (struct kp_str){ NULL, -1 },
					   NULL, 0), KP_ERR_NONE);
}

/* ---- describe ---- */

struct seen {
	char name[96];
	char value[128];
	int8_t source;
	int8_t type;
	bool read_only;
	bool is_default;
	int32_t syn_count;
	char syn_name[4][96];
	char syn_value[4][64];
	int8_t syn_source[4];
};

struct capture {
	int count;
	struct seen items[64];
};

static struct capture cap;

static void
capture_fn(void *arg, const struct kp_config_entry *e)
{
	struct capture *c = arg;
	struct seen *s;

	cr_assert(c->count < 64);
	s = &c->items[c->count++];
	snprintf(s->name, sizeof(s->name), "%s", e->name);
	snprintf(s->value, sizeof(s->value), "%s", e->value != NULL ? e->value : "(null)");
	s->source = e->source;
	s->type = e->type;
	s->read_only = e->read_only;
	s->is_default = e->is_default;
	s->syn_count = e->synonym_count;
	for (int i = 0; i < e->synonym_count; i++) {
		snprintf(s->syn_name[i], sizeof(s->syn_name[i]), "%s", e->synonyms[i].name);
		snprintf(s->syn_value[i], sizeof(s->syn_value[i]), "%s", e->synonyms[i].value);
		s->syn_source[i] = e->synonyms[i].source;
	}
}

static const struct seen *
find(const char *name)
{
	for (int i = 0; i < cap.count; i++) {
		if (strcmp(cap.items[i].name, name) == 0)
			return &cap.items[i];
	}
	cr_assert_fail("%s not described", name);
	return NULL;
}

Test(topic_config, describe_defaults)
{
	const struct seen *s;

	memset(&cap, 0, sizeof(cap));
	cr_assert_eq(config_load(&cfg, NULL, 0, NULL, err, sizeof(err)), 0);
	topic_config_describe(&cfg, NULL, 0, NULL, 0, true, false, capture_fn, &cap);
	cr_assert_geq(cap.count, 30);
	for (int i = 0; i < cap.count; i++) {
		cr_assert_eq(cap.items[i].source, KP_CONFIG_SOURCE_DEFAULT, "%s",
			     cap.items[i].name);
		cr_assert(cap.items[i].is_default);
		cr_assert_not(cap.items[i].read_only);
	}
	s = find("retention.ms");
	cr_assert_str_eq(s->value, "604800000");
	cr_assert_eq(s->type, KP_CONFIG_TYPE_LONG);
	cr_assert_eq(s->syn_count, 1);
	cr_assert_str_eq(s->syn_name[0], "log.retention.hours");
	cr_assert_str_eq(s->syn_value[0], "168");
	cr_assert_eq(s->syn_source[0], KP_CONFIG_SOURCE_DEFAULT);
	s = find("flush.ms");
	cr_assert_str_eq(s->syn_name[0], "log.flush.scheduler.interval.ms");
	s = find("max.message.bytes");
	cr_assert_str_eq(s->value, "1048588");
	cr_assert_str_eq(s->syn_name[0], "message.max.bytes");
	s = find("remote.storage.enable");
	cr_assert_eq(s->syn_count, 0);
	cr_assert_str_eq(s->value, "false");
	s = find("cleanup.policy");
	cr_assert_eq(s->type, KP_CONFIG_TYPE_LIST);
	s = find("min.cleanable.dirty.ratio");
	cr_assert_eq(s->type, KP_CONFIG_TYPE_DOUBLE);
}

Test(topic_config, describe_broker_and_topic_sources)
{
	const char *ov[] = { "log.retention.hours=24", "log.retention.ms=3600000",
			     "log.segment.bytes=1048576", "log.roll.hours=1" };
	struct kp_topic_config topic[] = {
		{ { "retention.ms", 12 }, { "1000", 4 } },
		{ { "cleanup.policy", 14 }, { "compact", 7 } },
	};
	struct kp_str names[] = { S("retention.ms"), S("segment.bytes"), S("segment.ms"),
				  S("cleanup.policy"), S("bogus") };
	const struct seen *s;

	memset(&cap, 0, sizeof(cap));
	cr_assert_eq(config_load(&cfg, NULL, 4, ov, err, sizeof(err)), 0, "%s", err);
	topic_config_describe(&cfg, topic, 2, names, 5, true, true, capture_fn, &cap);
	cr_assert_eq(cap.count, 4);

	s = find("retention.ms");
	cr_assert_str_eq(s->value, "1000");
	cr_assert_eq(s->source, KP_CONFIG_SOURCE_DYNAMIC_TOPIC);
	cr_assert_not(s->is_default);
	cr_assert_eq(s->syn_count, 4);
	cr_assert_str_eq(s->syn_name[0], "retention.ms");
	cr_assert_eq(s->syn_source[0], KP_CONFIG_SOURCE_DYNAMIC_TOPIC);
	cr_assert_str_eq(s->syn_name[1], "log.retention.ms");
	cr_assert_str_eq(s->syn_value[1], "3600000");
	cr_assert_eq(s->syn_source[1], KP_CONFIG_SOURCE_STATIC_BROKER);
	cr_assert_str_eq(s->syn_name[2], "log.retention.hours");
	cr_assert_str_eq(s->syn_value[2], "24");
	cr_assert_eq(s->syn_source[2], KP_CONFIG_SOURCE_STATIC_BROKER);
	cr_assert_str_eq(s->syn_name[3], "log.retention.hours");
	cr_assert_str_eq(s->syn_value[3], "168");
	cr_assert_eq(s->syn_source[3], KP_CONFIG_SOURCE_DEFAULT);

	s = find("segment.bytes");
	cr_assert_str_eq(s->value, "1048576");
	cr_assert_eq(s->source, KP_CONFIG_SOURCE_STATIC_BROKER);
	cr_assert_eq(s->syn_count, 2);
	cr_assert_str_eq(s->syn_name[0], "log.segment.bytes");
	cr_assert_str_eq(s->syn_value[1], "1073741824");

	s = find("segment.ms");
	cr_assert_str_eq(s->value, "3600000", "log.roll.hours converted to ms");
	cr_assert_eq(s->source, KP_CONFIG_SOURCE_STATIC_BROKER);
	cr_assert_str_eq(s->syn_name[0], "log.roll.hours");
	cr_assert_str_eq(s->syn_value[0], "1");

	s = find("cleanup.policy");
	cr_assert_str_eq(s->value, "compact");
	cr_assert_eq(s->source, KP_CONFIG_SOURCE_DYNAMIC_TOPIC);
}

Test(topic_config, get_i64)
{
	const char *ov[] = { "log.retention.minutes=10", "log.preallocate=true" };
	struct kp_topic_config topic[] = {
		{ { "segment.bytes", 13 }, { " 2048 ", 6 } },
		{ { "retention.bytes", 15 }, { NULL, -1 } },
	};

	cr_assert_eq(config_load(&cfg, NULL, 2, ov, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(topic_config_get_i64(&cfg, topic, 2, "segment.bytes"), 2048);
	cr_assert_eq(topic_config_get_i64(&cfg, topic, 2, "retention.ms"), 600000);
	cr_assert_eq(topic_config_get_i64(&cfg, topic, 2, "retention.bytes"), -1);
	cr_assert_eq(topic_config_get_i64(&cfg, topic, 2, "preallocate"), 1);
	cr_assert_eq(topic_config_get_i64(&cfg, NULL, 0, "flush.messages"), INT64_MAX);
	cr_assert_eq(topic_config_get_i64(&cfg, NULL, 0, "local.retention.ms"), -2);
}
