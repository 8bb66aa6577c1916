/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper shared by the DescribeConfigs tests of control/config.c and
 * control/topic_config.c: a kp_config_entry_fn that copies each entry it is
 * given (name, value, source, type, flags, synonyms) into a fixed table, a
 * lookup by name, and checks of an entry and of one synonym. */
#ifndef TESTS_UNIT_CONTROL_CFG_CAPTURE_H
#define TESTS_UNIT_CONTROL_CFG_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol/kp.h"

#define CFG_CAPTURE_MAX 160

/* One entry as the callback saw it; strings are copied. */
struct cfg_capture_item {
	char name[96];
	char value[128];        /* "" when null_value */
	bool null_value;
	int8_t source;
	int8_t type;
	bool read_only;
	bool is_default;
	bool has_doc;
	int32_t syn_count;
	char syn_name[KP_CONFIG_SYNONYMS_MAX][96];
	char syn_value[KP_CONFIG_SYNONYMS_MAX][64];
	int8_t syn_source[KP_CONFIG_SYNONYMS_MAX];
};

struct cfg_capture {
	int count;
	struct cfg_capture_item items[CFG_CAPTURE_MAX];
};

/* Empty cap before a describe call. */
void cfg_capture_reset(struct cfg_capture *cap);

/* The kp_config_entry_fn: arg is a struct cfg_capture; fails the test past
 * CFG_CAPTURE_MAX entries. */
void cfg_capture_fn(void *arg, const struct kp_config_entry *entry);

/* The entry named name; fails the test when it was not described. */
const struct cfg_capture_item *cfg_capture_find(const struct cfg_capture *cap,
						const char *name);

/* The entry named name, checked to have value from source. */
const struct cfg_capture_item *cfg_capture_expect(const struct cfg_capture *cap,
						  const char *name, const char *value,
						  int8_t source);

/* One expected synonym; value NULL: any value. */
struct cfg_capture_syn {
	const char *name;
	const char *value;
	int8_t source;
};

/* item has exactly count synonyms, in the order of want. */
void cfg_capture_expect_synonyms(const struct cfg_capture_item *item, int count,
				 const struct cfg_capture_syn *want);

/* Synonym i of item is name = value (NULL: any value) from source. */
void cfg_capture_expect_synonym(const struct cfg_capture_item *item, int i, const char *name,
				const char *value, int8_t source);

#endif
