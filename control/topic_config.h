/* SPDX-License-Identifier: Apache-2.0 */
/* Topic-level configs: Kafka's table of topic config names, types, defaults,
 * validators and broker synonyms (as Kafka 3.9 has them), the validation of
 * CreateTopics/AlterConfigs values, and the DescribeConfigs view of a topic.
 * Stores nothing: topic overrides are owned and persisted by control.
 * @thread control */
#ifndef CONTROL_TOPIC_CONFIG_H
#define CONTROL_TOPIC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/config.h"
#include "protocol/kp.h"

/* Check one topic config. Returns KP_ERR_NONE, or KP_ERR_INVALID_CONFIG with
 * a Kafka-style message in msg: "Unknown topic config name: foo", or
 * "Invalid value x for configuration retention.ms: Not a number of type LONG".
 * A null value (len -1) is valid: it means "remove the override". */
int16_t topic_config_validate(struct kp_str name, struct kp_str value, char *msg,
			      size_t msg_size);

/* Report every topic config (names NULL) or the named ones that exist, one
 * fn call each. The value is the topic override if present (source
 * DYNAMIC_TOPIC), else the broker synonym's value if the broker config sets
 * one (STATIC_BROKER, converted to the topic's unit), else Kafka's default
 * (DEFAULT, is_default). Synonyms, when asked for, run from the override
 * through the set broker synonyms to the broker default, as Kafka lists them.
 * overrides must be valid (topic_config_validate()); unknown names in it are
 * ignored. Strings in the entry live until fn returns. */
void topic_config_describe(const struct config *cfg, const struct kp_topic_config *overrides,
			   int32_t override_count, const struct kp_str *names,
			   int32_t name_count, bool include_synonyms, bool include_docs,
			   kp_config_entry_fn *fn, void *arg);

/* The effective value of an integer or boolean (1/0) topic config name, by
 * the same precedence as topic_config_describe(). name must be a known topic
 * config of type INT, LONG, SHORT or BOOLEAN (asserted). */
int64_t topic_config_get_i64(const struct config *cfg, const struct kp_topic_config *overrides,
			     int32_t n, const char *name);
/* The resolved value of any topic config as text (override, else the
 * broker's synonym, else Kafka's default), written into buf. */
const char *topic_config_get_text(const struct config *cfg,
				  const struct kp_topic_config *overrides, int32_t n,
				  const char *name, char *buf, size_t size);

/* True when name is a topic config of type LIST (APPEND/SUBTRACT apply). */
bool topic_config_is_list(const char *name);
/* Kafka's default text of a topic config, or NULL (unknown name). */
const char *topic_config_default(const char *name);

#endif
