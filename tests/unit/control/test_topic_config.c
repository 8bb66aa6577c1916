/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/topic_config.c: Kafka-worded validation messages, and the
 * DescribeConfigs view of a topic (value, source and synonyms for a topic
 * override, a broker synonym and Kafka's default), captured through the
 * callback; plus topic_config_get_i64()'s precedence. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "control/topic_config.h"
#include "tests/unit/control/cfg_capture.h"

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

static struct cfg_capture cap;

Test(topic_config, describe_defaults)
{
	const struct cfg_capture_item *s;

	cfg_capture_reset(&cap);
	cr_assert_eq(config_load(&cfg, NULL, 0, NULL, err, sizeof(err)), 0);
	topic_config_describe(&cfg, NULL, 0, NULL, 0, true, false, cfg_capture_fn, &cap);
	cr_assert_geq(cap.count, 30);
	for (int i = 0; i < cap.count; i++) {
		cr_assert_eq(cap.items[i].source, KP_CONFIG_SOURCE_DEFAULT, "%s",
			     cap.items[i].name);
		cr_assert(cap.items[i].is_default);
		cr_assert_not(cap.items[i].read_only);
	}
	s = cfg_capture_find(&cap, "retention.ms");
	cr_assert_str_eq(s->value, "604800000");
	cr_assert_eq(s->type, KP_CONFIG_TYPE_LONG);
	/* Kafka drops the synonyms before log.retention.ms, which has no
	 * default: none are left. */
	cr_assert_eq(s->syn_count, 0);
	s = cfg_capture_find(&cap, "flush.ms");
	cr_assert_eq(s->syn_count, 0);
	s = cfg_capture_find(&cap, "max.message.bytes");
	cr_assert_str_eq(s->value, "1048588");
	cr_assert_str_eq(s->syn_name[0], "message.max.bytes");
	s = cfg_capture_find(&cap, "remote.storage.enable");
	cr_assert_eq(s->syn_count, 0);
	cr_assert_str_eq(s->value, "false");
	s = cfg_capture_find(&cap, "cleanup.policy");
	cr_assert_eq(s->type, KP_CONFIG_TYPE_LIST);
	s = cfg_capture_find(&cap, "min.cleanable.dirty.ratio");
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
	/* The topic's own value first, then the broker's keys, Kafka's default last. */
	static const struct cfg_capture_syn retention_synonyms[] = {
		{ "retention.ms", NULL, KP_CONFIG_SOURCE_DYNAMIC_TOPIC },
		{ "log.retention.ms", "3600000", KP_CONFIG_SOURCE_STATIC_BROKER },
		{ "log.retention.hours", "24", KP_CONFIG_SOURCE_STATIC_BROKER },
		{ "log.retention.hours", "168", KP_CONFIG_SOURCE_DEFAULT },
	};
	const struct cfg_capture_item *s;

	cfg_capture_reset(&cap);
	cr_assert_eq(config_load(&cfg, NULL, 4, ov, err, sizeof(err)), 0, "%s", err);
	topic_config_describe(&cfg, topic, 2, names, 5, true, true, cfg_capture_fn, &cap);
	cr_assert_eq(cap.count, 4);

	s = cfg_capture_expect(&cap, "retention.ms", "1000", KP_CONFIG_SOURCE_DYNAMIC_TOPIC);
	cr_assert_not(s->is_default);
	cfg_capture_expect_synonyms(s, 4, retention_synonyms);

	s = cfg_capture_expect(&cap, "segment.bytes", "1048576", KP_CONFIG_SOURCE_STATIC_BROKER);
	cr_assert_eq(s->syn_count, 2);
	cr_assert_str_eq(s->syn_name[0], "log.segment.bytes");
	cr_assert_str_eq(s->syn_value[1], "1073741824");

	/* log.roll.hours converted to ms; set only through that synonym, so
	 * Kafka names no source (its synonyms before log.roll.ms dropped). */
	s = cfg_capture_expect(&cap, "segment.ms", "3600000", KP_CONFIG_SOURCE_DEFAULT);
	cr_assert_eq(s->syn_count, 0);

	s = cfg_capture_expect(&cap, "cleanup.policy", "compact", KP_CONFIG_SOURCE_DYNAMIC_TOPIC);
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
