/* SPDX-License-Identifier: Apache-2.0 */
/* What a config value's text may be: each key type's check (text in,
 * normalized text or what was expected out) and the small parsers the
 * resolution reuses (integers, host:port, listeners, comma lists). */
#include "control/config_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

char *
config_value_trim(char *s)
{
	char *end;

	while (*s != '\0' && isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

/* Parse a whole decimal integer (surrounding blanks trimmed by the caller). */
bool
config_value_i64(const char *text, int64_t *out)
{
	char *end;
	long long v;

	if (*text == '\0')
		return false;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0' || end == text)
		return false;
	*out = v;
	return true;
}

static void
config_value_expect_int(const struct config_key *k, char *buf, size_t size)
{
	const char *what = k->type == CFG_LONG ? "a long integer" : "an integer";
	int64_t type_max = k->type == CFG_LONG ? INT64_MAX :
			   k->type == CFG_SHORT ? INT16_MAX : INT32_MAX;

	if (k->flags & CFG_F_MINUS1)
		snprintf(buf, size, "-1 or an integer in %" PRId64 "..%" PRId64, k->min, k->max);
	else if (k->max >= type_max)
		snprintf(buf, size, "%s >= %" PRId64, what, k->min);
	else
		snprintf(buf, size, "%s in %" PRId64 "..%" PRId64, what, k->min, k->max);
}

static void
config_value_expect_choices(const char *const *choices, char *buf, size_t size)
{
	size_t used = 0;
	int i;

	used += (size_t)snprintf(buf, size, "one of");
	for (i = 0; choices[i] != NULL && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s %s", i ? "," : "",
					 choices[i]);
}

int
config_value_choice(const char *const *choices, const char *text)
{
	int i;

	for (i = 0; choices[i] != NULL; i++) {
		if (strcmp(choices[i], text) == 0)
			return i;
	}
	return -1;
}

/* Split "host:port" or "[v6]:port" (host may be empty). */
bool
config_value_hostport(const char *text, char *host, size_t host_size, uint16_t *port)
{
	const char *colon;
	const char *h = text;
	size_t hlen;
	int64_t p;

	if (*text == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || close[1] != ':')
			return false;
		h = text + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (colon == NULL)
			return false;
		hlen = (size_t)(colon - text);
		if (memchr(text, ':', hlen) != NULL)
			return false;   /* a bare IPv6 address needs brackets */
	}
	if (hlen >= host_size)
		return false;
	for (size_t i = 0; i < hlen; i++) {
		unsigned char c = (unsigned char)h[i];

		if (!isalnum(c) && strchr("-._:%", c) == NULL)
			return false;
	}
	if (!config_value_i64(colon + 1, &p) || p < 0 || p > 65535)
		return false;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)p;
	return true;
}

/* Parse one "NAME://host:port" entry. */
bool
config_value_listener(const char *text, struct config_listener *l)
{
	const char *sep = strstr(text, "://");
	size_t nlen;

	if (sep == NULL || sep == text)
		return false;
	nlen = (size_t)(sep - text);
	if (nlen >= sizeof(l->name))
		return false;
	for (size_t i = 0; i < nlen; i++) {
		if (!isalnum((unsigned char)text[i]) && text[i] != '_' && text[i] != '-')
			return false;
	}
	memcpy(l->name, text, nlen);
	l->name[nlen] = '\0';
	for (size_t i = 0; i < nlen; i++)
		l->name[i] = (char)toupper((unsigned char)l->name[i]);
	return config_value_hostport(sep + 3, l->host, sizeof(l->host), &l->port);
}

/* Call each comma-separated, trimmed, non-empty item of text; stop at the
 * first nonzero return and pass it on. */
int
config_value_items(const char *text, int (*fn)(void *arg, char *item), void *arg)
{
	char *copy = strdup(text);
	char *save = NULL;
	char *tok;
	int rc = 0;

	if (copy == NULL)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok != NULL && rc == 0;
	     tok = strtok_r(NULL, ",", &save)) {
		char *item = config_value_trim(tok);

		if (*item != '\0')
			rc = fn(arg, item);
	}
	free(copy);
	return rc;
}

struct config_value_list {
	enum config_type type;
	int count;
	int32_t cpus[CONFIG_CORES_MAX];
	char *norm;
	size_t norm_size;
	size_t norm_len;
};

static int
config_value_list_item(void *arg, char *item)
{
	struct config_value_list *lc = arg;
	struct config_listener l;
	int64_t v;

	if (lc->type == CFG_LISTENERS && !config_value_listener(item, &l))
		return 1;
	if (lc->type == CFG_POLICY && strcmp(item, "delete") != 0 && strcmp(item, "compact") != 0)
		return 1;
	if (lc->type == CFG_CPULIST) {
		if (!config_value_i64(item, &v) || v < 0 || v > 4095 ||
		    lc->count >= CONFIG_CORES_MAX)
			return 1;
		for (int i = 0; i < lc->count; i++) {
			if (lc->cpus[i] == v)
				return 1;
		}
		lc->cpus[lc->count] = (int32_t)v;
	}
	lc->count++;
	lc->norm_len += (size_t)snprintf(lc->norm + lc->norm_len, lc->norm_size - lc->norm_len,
					 "%s%s", lc->count > 1 ? "," : "", item);
	return lc->norm_len >= lc->norm_size ? 1 : 0;
}

static const char *
config_value_list_expect(enum config_type type)
{
	switch (type) {
	case CFG_LISTENERS:
		return "a comma list of NAME://host:port, IPv6 hosts in brackets";
	case CFG_POLICY:
		return "a comma list of delete, compact";
	case CFG_CPULIST:
		return "a comma list of distinct CPU ids in 0..4095, at most 64";
	default:
		return "a comma list of directories";
	}
}

static bool
config_value_check_list(const struct config_key *k, const char *text, char *norm, size_t norm_size)
{
	struct config_value_list lc = { .type = k->type, .norm = norm, .norm_size = norm_size };

	norm[0] = '\0';
	if (config_value_items(text, config_value_list_item, &lc) != 0)
		return false;
	return lc.count > 0;
}

static bool
config_value_cluster_id(const char *text)
{
	size_t n = strlen(text);

	if (n != 22)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isalnum((unsigned char)text[i]) && text[i] != '-' && text[i] != '_')
			return false;
	}
	return true;
}

/* Check text against k. On success writes the normalized text to norm and
 * returns true; else writes what was expected to expect. */
bool
config_value_check(const struct config_key *k, const char *text, char *norm,
		   size_t norm_size, char *expect, size_t expect_size)
{
	int64_t v;
	char *end;
	double d;

	switch (k->type) {
	case CFG_BOOL:
		snprintf(expect, expect_size, "true or false");
		if (strcasecmp(text, "true") != 0 && strcasecmp(text, "false") != 0)
			return false;
		snprintf(norm, norm_size, "%s", strcasecmp(text, "true") == 0 ? "true" : "false");
		return true;
	case CFG_INT:
	case CFG_SHORT:
	case CFG_LONG:
		config_value_expect_int(k, expect, expect_size);
		if (!config_value_i64(text, &v))
			return false;
		if ((v < k->min || v > k->max) && !((k->flags & CFG_F_MINUS1) && v == -1))
			return false;
		snprintf(norm, norm_size, "%" PRId64, v);
		return true;
	case CFG_DOUBLE:
		snprintf(expect, expect_size, "a number in %" PRId64 "..%" PRId64, k->min, k->max);
		errno = 0;
		d = strtod(text, &end);
		if (errno != 0 || *end != '\0' || end == text || !(d >= (double)k->min) ||
		    !(d <= (double)k->max))
			return false;
		snprintf(norm, norm_size, "%s", text);
		return true;
	case CFG_ENUM:
		config_value_expect_choices(k->choices, expect, expect_size);
		if (config_value_choice(k->choices, text) < 0)
			return false;
		snprintf(norm, norm_size, "%s", text);
		return true;
	case CFG_HOSTPORT: {
		char host[CONFIG_HOST_MAX];
		uint16_t port;

		snprintf(expect, expect_size, "HOST:PORT, IPv6 hosts in brackets");
		if (text[0] == '\0' &&
		    strcmp(k->name, "spillway.metrics.listen") == 0) {
			norm[0] = '\0'; /* empty: the endpoint is disabled */
			return true;
		}
		if (!config_value_hostport(text, host, sizeof(host), &port) || port == 0)
			return false;
		snprintf(norm, norm_size, "%s", text);
		return true;
	}
	case CFG_LISTENERS:
	case CFG_POLICY:
	case CFG_CPULIST:
	case CFG_PATHLIST:
		snprintf(expect, expect_size, "%s", config_value_list_expect(k->type));
		return config_value_check_list(k, text, norm, norm_size);
	case CFG_CLUSTER_ID:
		snprintf(expect, expect_size, "22 characters of A-Z a-z 0-9 - _");
		if (!config_value_cluster_id(text))
			return false;
		snprintf(norm, norm_size, "%s", text);
		return true;
	case CFG_STRING:
	case CFG_IGNORED:
		snprintf(norm, norm_size, "%s", text);
		return true;
	}
	return false;
}
