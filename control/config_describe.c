/* SPDX-License-Identifier: Apache-2.0 */
/* The DescribeConfigs view of the broker: one entry per key with its
 * effective value, source and Kafka's synonym list. */
#include "control/config_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"

/* Kafka's synonym order: the members set (in group order), then the members
 * that have a default. */
static void
config_describe_synonyms(const struct config *cfg, const char *const *names, int count,
			 struct kp_config_entry *e)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int m = 0; m < count && names[m] != NULL; m++) {
			int i = config_keys_index(names[m]);
			const char *v = pass == 0 ? cfg->given[i] : config_keys[i].def;
			int32_t n = e->synonym_count;

			if (v == NULL || n == (int32_t)ARRAY_LEN(e->synonyms))
				continue;
			e->synonyms[n].name = config_keys[i].name;
			e->synonyms[n].value = v;
			e->synonyms[n].source = pass == 0 ? KP_CONFIG_SOURCE_STATIC_BROKER :
							    KP_CONFIG_SOURCE_DEFAULT;
			e->synonym_count++;
		}
	}
}

static void
config_describe_one(const struct config *cfg, int i, bool include_synonyms,
		    bool include_docs, kp_config_entry_fn *fn, void *arg)
{
	const struct config_key *k = &config_keys[i];
	const char *const *group = config_keys_group_of(k->name);
	struct kp_config_entry e;
	char value[32];
	bool set = cfg->given[i] != NULL;

	memset(&e, 0, sizeof(e));
	e.name = k->name;
	e.value = config_text(cfg, i);
	if (k->flags & CFG_F_EFFECTIVE) {
		int64_t v = k->off >= 0 ? *(const int64_t *)((const char *)cfg + k->off) :
					  cfg->node_id;

		snprintf(value, sizeof(value), "%" PRId64, v);
		e.value = value;
		for (int m = 0; group != NULL && m < CONFIG_GROUP_MAX && group[m] != NULL; m++)
			set = set || config_given_any(cfg, group[m]) != NULL;
	}
	e.source = set ? KP_CONFIG_SOURCE_STATIC_BROKER : KP_CONFIG_SOURCE_DEFAULT;
	e.type = config_keys_kp_type(k->type);
	e.read_only = true;
	e.is_default = !set;
	e.sensitive = false;
	e.documentation = include_docs ? k->doc : NULL;
	if (include_synonyms && group != NULL)
		config_describe_synonyms(cfg, group, CONFIG_GROUP_MAX, &e);
	else if (include_synonyms)
		config_describe_synonyms(cfg, &k->name, 1, &e);
	fn(arg, &e);
}

void
config_describe_broker(const struct config *cfg, const struct kp_str *names,
		       int32_t name_count, bool include_synonyms, bool include_docs,
		       kp_config_entry_fn *fn, void *arg)
{
	ASSERT(cfg != NULL);
	ASSERT(fn != NULL);
	if (names == NULL) {
		for (size_t i = 0; i < config_keys_count; i++) {
			if (config_keys[i].type != CFG_IGNORED)
				config_describe_one(cfg, (int)i, include_synonyms, include_docs,
						    fn, arg);
		}
		return;
	}
	for (int32_t n = 0; n < name_count; n++) {
		for (size_t i = 0; i < config_keys_count; i++) {
			if (names[n].len < 0 || config_keys[i].type == CFG_IGNORED ||
			    strlen(config_keys[i].name) != (size_t)names[n].len ||
			    memcmp(config_keys[i].name, names[n].ptr, (size_t)names[n].len) != 0)
				continue;
			config_describe_one(cfg, (int)i, include_synonyms, include_docs, fn, arg);
		}
	}
}
