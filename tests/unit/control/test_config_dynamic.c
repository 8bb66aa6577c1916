/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/config_dynamic.c and the dynamic layers' part in config.c,
 * config_describe.c and topic_config.c: Kafka's checks of a dynamic value,
 * the layers' precedence over the static config (key by key, then ms over
 * minutes over hours), and DescribeConfigs sources and synonyms. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "control/config.h"
#include "control/topic_config.h"
#include "tests/unit/control/cfg_capture.h"

/* A config_dyn_entry of writable copies of two literals. */
#define E(n, v) { (char[]){ n }, (char[]){ v } }

static struct config cfg;
static struct cfg_capture cap;
static char err[256];

static void
load(int n, const char *const *ov)
{
	cr_assert_eq(config_load(&cfg, NULL, n, ov, err, sizeof(err)), 0, "%s", err);
}

static void
fini(void)
{
	config_free(&cfg);
}

TestSuite(config_dynamic, .fini = fini);

static void
check_msg(const char *key, const char *value, const char *want)
{
	char msg[256] = "";

	cr_assert_eq(config_dynamic_check(key, value, msg, sizeof(msg)), want ? -EINVAL : 0,
		     "%s=%s: %s", key, value, msg);
	if (want != NULL)
		cr_assert_str_eq(msg, want);
}

Test(config_dynamic, values_checked_as_kafka)
{
	check_msg("log.retention.ms", "abc", "Invalid value abc for configuration "
		  "log.retention.ms: Not a number of type LONG");
	check_msg("log.segment.bytes", "1",
		  "Invalid value 1 for configuration log.segment.bytes: Value must be at least 14");
	check_msg("message.max.bytes", "99999999999", "Invalid value 99999999999 for "
		  "configuration message.max.bytes: Not a number of type INT");
	check_msg("log.preallocate", "yes", "Invalid value yes for configuration "
		  "log.preallocate: Expected value to be either true or false");
	check_msg("log.cleanup.policy", "delete,nope", "Invalid value delete,nope for "
		  "configuration log.cleanup.policy: String must be one of: compact, delete");
	check_msg("log.retention.ms", " 1000 ", NULL);
	check_msg("log.cleanup.policy", "compact,delete", NULL);
	check_msg("no.such.key", "anything", NULL);    /* Kafka keeps unknown keys */
}

Test(config_dynamic, which_keys_are_dynamic)
{
	cr_assert(config_key_dynamic("log.retention.ms"));
	cr_assert(config_key_dynamic("message.max.bytes"));
	cr_assert(config_key_dynamic("spillway.log.level"));
	cr_assert_not(config_key_dynamic("log.retention.hours"));      /* Kafka: read-only */
	cr_assert_not(config_key_dynamic("num.partitions"));
	cr_assert_not(config_key_dynamic("log.message.format.version"));
	cr_assert(config_key_list("log.cleanup.policy"));
	cr_assert_not(config_key_list("log.retention.ms"));
}

Test(config_dynamic, layers_win_key_by_key_and_go_away)
{
	const char *ov[] = { "log.retention.ms=5000", "log.segment.bytes=100000" };
	struct config_dyn_entry b[] = { E("log.segment.bytes", "200000"),
					E("spillway.log.level", "debug") };
	struct config_dyn_entry d[] = { E("log.segment.bytes", "300000"),
					E("message.max.bytes", "4000"),
					E("log.retention.hours", "1") };

	load(2, ov);
	cr_assert_eq(config_dynamic_apply(&cfg, b, 2, d, 3), 0);
	cr_assert_eq(cfg.log_segment_bytes, 200000);            /* this broker's */
	cr_assert_eq(cfg.message_max_bytes, 4000);              /* the default's */
	cr_assert_eq(cfg.log_level, LOG_DEBUG);
	/* hours is not dynamic (skipped); the static ms wins anyway. */
	cr_assert_eq(cfg.log_retention_ms, 5000);
	cr_assert_eq(config_dynamic_apply(&cfg, NULL, 0, NULL, 0), 0);
	cr_assert_eq(cfg.log_segment_bytes, 100000);
	cr_assert_eq(cfg.message_max_bytes, 1048588);
	cr_assert_eq(cfg.log_level, LOG_INFO);
}

Test(config_dynamic, broker_describe_sources_and_synonyms)
{
	const char *ov[] = { "log.retention.hours=2" };
	struct config_dyn_entry b[] = { E("log.retention.ms", "1000") };
	struct config_dyn_entry d[] = { E("log.retention.ms", "2000"),
					E("log.segment.bytes", "300000") };
	const struct cfg_capture_item *it;

	load(1, ov);
	cr_assert_eq(config_dynamic_apply(&cfg, b, 1, d, 2), 0);
	cr_assert_eq(cfg.log_retention_ms, 1000);
	cfg_capture_reset(&cap);
	config_describe_broker(&cfg, NULL, 0, true, false, cfg_capture_fn, &cap);
	it = cfg_capture_expect(&cap, "log.retention.ms", "1000",
				KP_CONFIG_SOURCE_DYNAMIC_BROKER);
	cr_assert_not(it->read_only);
	cfg_capture_expect_synonyms(it, 4, (struct cfg_capture_syn[]){
		{ "log.retention.ms", "1000", KP_CONFIG_SOURCE_DYNAMIC_BROKER },
		{ "log.retention.ms", "2000", KP_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER },
		{ "log.retention.hours", "2", KP_CONFIG_SOURCE_STATIC_BROKER },
		{ "log.retention.hours", "168", KP_CONFIG_SOURCE_DEFAULT } });
	/* Kafka drops the synonyms listed before the key's own name. */
	it = cfg_capture_expect(&cap, "log.retention.hours", "2",
				KP_CONFIG_SOURCE_STATIC_BROKER);
	cr_assert(it->read_only);
	cfg_capture_expect_synonyms(it, 2, (struct cfg_capture_syn[]){
		{ "log.retention.hours", "2", KP_CONFIG_SOURCE_STATIC_BROKER },
		{ "log.retention.hours", "168", KP_CONFIG_SOURCE_DEFAULT } });
	cfg_capture_expect(&cap, "log.segment.bytes", "300000",
			   KP_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER);
	/* The cluster default resource: only its own settings. */
	cfg_capture_reset(&cap);
	config_describe_broker_default(&cfg, NULL, 0, true, false, cfg_capture_fn, &cap);
	cr_assert_eq(cap.count, 2);
	it = cfg_capture_expect(&cap, "log.retention.ms", "2000",
				KP_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER);
	cfg_capture_expect_synonyms(it, 1, (struct cfg_capture_syn[]){
		{ "log.retention.ms", "2000", KP_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER } });
}

Test(config_dynamic, topics_inherit_dynamic_values)
{
	struct config_dyn_entry b[] = { E("log.retention.ms", "1000") };
	struct config_dyn_entry d[] = { E("log.retention.ms", "2000"),
					E("message.max.bytes", "5000") };
	struct kp_topic_config o[] = { { { "segment.bytes", 13 }, { "16384", 5 } } };
	const struct cfg_capture_item *it;

	load(0, NULL);
	cr_assert_eq(config_dynamic_apply(&cfg, b, 1, d, 2), 0);
	cr_assert_eq(topic_config_get_i64(&cfg, o, 1, "retention.ms"), 1000);
	cr_assert_eq(topic_config_get_i64(&cfg, o, 1, "max.message.bytes"), 5000);
	cfg_capture_reset(&cap);
	topic_config_describe(&cfg, o, 1, NULL, -1, true, false, cfg_capture_fn, &cap);
	it = cfg_capture_expect(&cap, "retention.ms", "1000", KP_CONFIG_SOURCE_DYNAMIC_BROKER);
	cfg_capture_expect_synonyms(it, 3, (struct cfg_capture_syn[]){
		{ "log.retention.ms", "1000", KP_CONFIG_SOURCE_DYNAMIC_BROKER },
		{ "log.retention.ms", "2000", KP_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER },
		{ "log.retention.hours", "168", KP_CONFIG_SOURCE_DEFAULT } });
	it = cfg_capture_expect(&cap, "max.message.bytes", "5000",
				KP_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER);
	it = cfg_capture_expect(&cap, "segment.bytes", "16384", KP_CONFIG_SOURCE_DYNAMIC_TOPIC);
	cr_assert_eq(it->syn_count, 2);
	/* Nothing set for retention.ms: Kafka lists no synonym at all (the
	 * hours default comes after the ms key, which has no default). */
	cr_assert_eq(config_dynamic_apply(&cfg, NULL, 0, NULL, 0), 0);
	cfg_capture_reset(&cap);
	topic_config_describe(&cfg, NULL, 0, NULL, -1, true, false, cfg_capture_fn, &cap);
	it = cfg_capture_expect(&cap, "retention.ms", "604800000", KP_CONFIG_SOURCE_DEFAULT);
	cr_assert_eq(it->syn_count, 0);
}
