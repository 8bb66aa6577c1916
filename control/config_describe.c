/* SPDX-License-Identifier: Apache-2.0 */
/* The DescribeConfigs view of the broker: one entry per key with its
 * effective value, source and Kafka's synonym list. */
#include "control/config_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/assert.h"
#include "common/compiler.h"

/* Kafka's synonym list (ConfigHelper.configSynonyms): layer by layer,
 * most specific first, the group members each layer sets; then the leading
 * entries named otherwise than the described key are dropped (a key set
 * only through a less specific synonym lists none). The cluster default
 * resource lists its own layer only, as Kafka answers. */
static void
config_describe_synonyms(const struct config *cfg, const char *name, const char *const *names,
			 int count, bool per_broker, struct kp_config_entry *e)
{
	int first = per_broker ? CONFIG_LAYER_DYN_BROKER : CONFIG_LAYER_DYN_DEFAULT;
	int last = per_broker ? CONFIG_LAYER_COUNT : CONFIG_LAYER_DYN_DEFAULT + 1;
	bool found = false;

	for (int layer = first; layer < last; layer++) {
		for (int m = 0; m < count && names[m] != NULL; m++) {
			const char *v = config_layer_text(cfg, names[m], (enum config_layer)layer);
			int32_t n = e->synonym_count;

			if (v == NULL)
				continue;
			found = found || strcmp(names[m], name) == 0;
			if (!found || n == (int32_t)ARRAY_LEN(e->synonyms))
				continue;
			e->synonyms[n].name = names[m];
			e->synonyms[n].value = v;
			e->synonyms[n].source = config_layer_source((enum config_layer)layer);
			e->synonym_count++;
		}
	}
}

static void
config_describe_one(const struct config *cfg, int i, bool per_broker, bool include_synonyms,
		    bool include_docs, kp_config_entry_fn *fn, void *arg)
{
	const struct config_key *k = &config_keys[i];
	const char *const *group = config_keys_group_of(k->name);
	struct kp_config_entry e;
	char value[32];

	memset(&e, 0, sizeof(e));
	e.name = k->name;
	e.value = per_broker ? config_text(cfg, i) : cfg->dyn_default[i];
	/* The ms keys show their own text only (null when set through their
	 * minutes or hours synonyms, or not at all), as Kafka 3.9 does; the
	 * ids show the resolved node id. */
	if ((k->flags & CFG_F_EFFECTIVE) && per_broker && k->off >= 0)
		e.value = config_set_text(cfg, i);
	if ((k->flags & CFG_F_EFFECTIVE) && per_broker && k->off < 0) {
		snprintf(value, sizeof(value), "%" PRId32, cfg->node_id);
		e.value = value;
	}
	/* The source is the first synonym's, computed with the list. */
	if (group != NULL)
		config_describe_synonyms(cfg, k->name, group, CONFIG_GROUP_MAX, per_broker, &e);
	else
		config_describe_synonyms(cfg, k->name, &k->name, 1, per_broker, &e);
	e.source = e.synonym_count > 0 ? e.synonyms[0].source : KP_CONFIG_SOURCE_DEFAULT;
	if (!include_synonyms)
		e.synonym_count = 0;
	e.type = config_keys_kp_type(k->type);
	e.read_only = !config_key_dynamic(k->name);
	e.is_default = e.source == KP_CONFIG_SOURCE_DEFAULT;
	e.sensitive = false;
	e.documentation = include_docs ? k->doc : NULL;
	fn(arg, &e);
}

static bool
config_describe_wanted(const struct config *cfg, size_t i, bool per_broker)
{
	return config_keys[i].type != CFG_IGNORED && (per_broker || cfg->dyn_default[i] != NULL);
}

static void
config_describe_rows(const struct config *cfg, const struct kp_str *names, int32_t name_count,
		     bool per_broker, bool include_synonyms, bool include_docs,
		     kp_config_entry_fn *fn, void *arg)
{
	ASSERT(cfg != NULL);
	ASSERT(fn != NULL);
	if (names == NULL) {
		for (size_t i = 0; i < config_keys_count; i++) {
			if (config_describe_wanted(cfg, i, per_broker))
				config_describe_one(cfg, (int)i, per_broker, include_synonyms,
						    include_docs, fn, arg);
		}
		return;
	}
	for (int32_t n = 0; n < name_count; n++) {
		for (size_t i = 0; i < config_keys_count; i++) {
			if (names[n].len < 0 || !config_describe_wanted(cfg, i, per_broker) ||
			    strlen(config_keys[i].name) != (size_t)names[n].len ||
			    memcmp(config_keys[i].name, names[n].ptr, (size_t)names[n].len) != 0)
				continue;
			config_describe_one(cfg, (int)i, per_broker, include_synonyms,
					    include_docs, fn, arg);
		}
	}
}

void
config_describe_broker_default(const struct config *cfg, const struct kp_str *names,
			       int32_t name_count, bool include_synonyms, bool include_docs,
			       kp_config_entry_fn *fn, void *arg)
{
	config_describe_rows(cfg, names, name_count, false, include_synonyms, include_docs, fn,
			     arg);
}

void
config_describe_broker(const struct config *cfg, const struct kp_str *names,
		       int32_t name_count, bool include_synonyms, bool include_docs,
		       kp_config_entry_fn *fn, void *arg)
{
	config_describe_rows(cfg, names, name_count, true, include_synonyms, include_docs, fn,
			     arg);
}
