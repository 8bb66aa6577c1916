/* SPDX-License-Identifier: Apache-2.0 */
/* The DescribeConfigs capture shared by test_config.c and
 * test_topic_config.c (see cfg_capture.h). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/control/cfg_capture.h"

void
cfg_capture_reset(struct cfg_capture *cap)
{
	memset(cap, 0, sizeof(*cap));
}

void
cfg_capture_fn(void *arg, const struct kp_config_entry *entry)
{
	struct cfg_capture *cap = arg;
	struct cfg_capture_item *s;

	cr_assert(cap->count < CFG_CAPTURE_MAX);
	s = &cap->items[cap->count++];
	snprintf(s->name, sizeof(s->name), "%s", entry->name);
	s->null_value = entry->value == NULL;
	snprintf(s->value, sizeof(s->value), "%s", entry->value != NULL ? entry->value : "");
	s->source = entry->source;
	s->type = entry->type;
	s->read_only = entry->read_only;
	s->is_default = entry->is_default;
	s->has_doc = entry->documentation != NULL;
	s->syn_count = entry->synonym_count;
	for (int i = 0; i < entry->synonym_count; i++) {
		snprintf(s->syn_name[i], sizeof(s->syn_name[i]), "%s", entry->synonyms[i].name);
		snprintf(s->syn_value[i], sizeof(s->syn_value[i]), "%s", entry->synonyms[i].value);
		s->syn_source[i] = entry->synonyms[i].source;
	}
}

const struct cfg_capture_item *
cfg_capture_find(const struct cfg_capture *cap, const char *name)
{
	for (int i = 0; i < cap->count; i++) {
		if (strcmp(cap->items[i].name, name) == 0)
			return &cap->items[i];
	}
	cr_assert_fail("%s not described", name);
	return NULL;
}

void
cfg_capture_expect_synonym(const struct cfg_capture_item *item, int i, const char *name,
			   const char *value, int8_t source)
{
	cr_assert_str_eq(item->syn_name[i], name, "%s synonym %d", item->name, i);
	if (value != NULL)
		cr_assert_str_eq(item->syn_value[i], value, "%s synonym %d (%s)", item->name, i,
				 name);
	cr_assert_eq(item->syn_source[i], source, "%s synonym %d (%s)", item->name, i, name);
}

const struct cfg_capture_item *
cfg_capture_expect(const struct cfg_capture *cap, const char *name, const char *value,
		   int8_t source)
{
	const struct cfg_capture_item *item = cfg_capture_find(cap, name);

	cr_assert_str_eq(item->value, value, "%s", name);
	cr_assert_eq(item->source, source, "%s", name);
	return item;
}

void
cfg_capture_expect_synonyms(const struct cfg_capture_item *item, int count,
			    const struct cfg_capture_syn *want)
{
	cr_assert_eq(item->syn_count, count, "%s synonyms", item->name);
	for (int i = 0; i < count; i++)
		cfg_capture_expect_synonym(item, i, want[i].name, want[i].value, want[i].source);
}
