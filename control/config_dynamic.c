/* SPDX-License-Identifier: Apache-2.0 */
/* Dynamic broker configs inside struct config: the Kafka-style check of a
 * value AlterConfigs sets, and the dynamic layers (this broker's, the
 * cluster default's) laid over the static config with the dynamic keys'
 * fields resolved again. Storing them is control's (ctl_dynamic.c). */
#include "control/config_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/assert.h"
#include "common/compiler.h"

static const char *
config_dynamic_type_name(enum config_type type)
{
	switch (type) {
	case CFG_INT:
		return "INT";
	case CFG_SHORT:
		return "SHORT";
	case CFG_LONG:
		return "LONG";
	default:
		return "DOUBLE";
	}
}

/* Kafka's ConfigDef wording for why text does not fit k ("" when it fits). */
static void
config_dynamic_reason(const struct config_key *k, const char *text, char *why, size_t size)
{
	char norm[1024];
	char expect[256];
	int64_t v = 0;

	why[0] = '\0';
	if (k->type == CFG_BOOL) {
		if (strcasecmp(text, "true") != 0 && strcasecmp(text, "false") != 0)
			snprintf(why, size, "Expected value to be either true or false");
		return;
	}
	if (k->type == CFG_INT || k->type == CFG_SHORT || k->type == CFG_LONG) {
		bool fits = config_value_i64(text, &v);

		fits = fits && (k->type != CFG_INT || (v >= INT32_MIN && v <= INT32_MAX));
		fits = fits && (k->type != CFG_SHORT || (v >= INT16_MIN && v <= INT16_MAX));
		if (!fits)
			snprintf(why, size, "Not a number of type %s",
				 config_dynamic_type_name(k->type));
		else if ((k->flags & CFG_F_MINUS1) && v == -1)
			return;
		else if (v < k->min)
			snprintf(why, size, "Value must be at least %" PRId64, k->min);
		else if (v > k->max)
			snprintf(why, size, "Value must be no more than %" PRId64, k->max);
		return;
	}
	if (config_value_check(k, text, norm, sizeof(norm), expect, sizeof(expect)))
		return;
	if (k->type == CFG_DOUBLE)
		snprintf(why, size, "Not a number of type DOUBLE");
	else if (k->type == CFG_POLICY)
		snprintf(why, size, "String must be one of: compact, delete");
	else if (k->type == CFG_ENUM)
		snprintf(why, size, "String must be one of: %s", expect);
	else
		snprintf(why, size, "expected %s", expect);
}

int
config_dynamic_check(const char *key, const char *value, char *msg, size_t msg_size)
{
	int i = config_keys_index(key);
	char text[1024];
	char why[320];

	if (i < 0)
		return 0;       /* unknown keys are kept as Kafka keeps them */
	if (strlen(value) >= sizeof(text)) {
		config_err(msg, msg_size, "Invalid value for configuration %s: longer than %zu "
			   "bytes", key, sizeof(text) - 1);
		return -EINVAL;
	}
	snprintf(text, sizeof(text), "%s", value);
	config_dynamic_reason(&config_keys[i], config_value_trim(text), why, sizeof(why));
	if (why[0] == '\0')
		return 0;
	config_err(msg, msg_size, "Invalid value %s for configuration %s: %s", value, key, why);
	return -EINVAL;
}

/* A layer's texts by row, normalized as the file's are; false: no memory.
 * Keys that are not dynamic (or not known) are skipped. */
static bool
config_dynamic_layer(const struct config_dyn_entry *e, int32_t n, char **out)
{
	for (int32_t j = 0; j < n; j++) {
		int i = config_keys_index(e[j].name);
		char text[1024];
		char norm[1024];
		char expect[256];

		if (i < 0 || !config_key_dynamic(e[j].name) || strlen(e[j].value) >= sizeof(text))
			continue;
		snprintf(text, sizeof(text), "%s", e[j].value);
		if (!config_value_check(&config_keys[i], config_value_trim(text), norm,
					sizeof(norm), expect, sizeof(expect)))
			continue;       /* checked when set; a hand-edited file */
		free(out[i]);
		out[i] = strdup(norm);
		if (out[i] == NULL)
			return false;
	}
	return true;
}

static void
config_dynamic_free(char **layer)
{
	for (size_t i = 0; i < CONFIG_KEYS_MAX; i++)
		free(layer[i]);
}

int
config_dynamic_apply(struct config *cfg, const struct config_dyn_entry *broker,
		     int32_t broker_count, const struct config_dyn_entry *def, int32_t def_count)
{
	char *b[CONFIG_KEYS_MAX] = { NULL };
	char *d[CONFIG_KEYS_MAX] = { NULL };

	if (!config_dynamic_layer(broker, broker_count, b) ||
	    !config_dynamic_layer(def, def_count, d)) {
		config_dynamic_free(b);
		config_dynamic_free(d);
		return -ENOMEM;
	}
	config_dynamic_free(cfg->dyn_broker);
	config_dynamic_free(cfg->dyn_default);
	memcpy(cfg->dyn_broker, b, sizeof(b));
	memcpy(cfg->dyn_default, d, sizeof(d));
	return config_resolve_dynamic(cfg);
}
