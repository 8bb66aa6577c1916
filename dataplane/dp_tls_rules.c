/* SPDX-License-Identifier: Apache-2.0 */
/* ssl.principal.mapping.rules, as Kafka's SslPrincipalMapper reads and
 * applies them: a comma-separated list of DEFAULT (the DN as is) and
 * RULE:pattern/replacement/[LU] (when pattern matches the whole DN, every
 * match of it is replaced, Java's replaceAll; $n names a group, a $n past
 * the group count is literal; then lower or upper case). The first rule
 * that applies wins; none applying fails the authentication. Patterns are
 * PCRE2, which reads Java's regex syntax for what DN rules use (lazy
 * quantifiers, classes, anchors). Parsed on control, applied on a core
 * after a handshake (immutable, shared). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "common/assert.h"
#include "dataplane/dp_tls.h"

#define DP_TLS_RULES_MAX 32
#define DP_TLS_RULE_TEXT_MAX 1024

struct dp_tls_rule {
	bool is_default;
	char case_fold;         /* 'L', 'U' or 0 */
	pcre2_code *re;
	uint32_t group_count;
	char *replacement;
};

struct dp_tls_rules {
	uint32_t count;
	struct dp_tls_rule rule[DP_TLS_RULES_MAX];
};

static void __attribute__((format(printf, 3, 4)))
dp_tls_rules_err(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
}

void
dp_tls_rules_free(struct dp_tls_rules *rules)
{
	if (rules == NULL)
		return;
	for (uint32_t i = 0; i < rules->count; i++) {
		pcre2_code_free(rules->rule[i].re);
		free(rules->rule[i].replacement);
	}
	free(rules);
}

/* Kafka's (\\.|[^\\/])*: up to an unescaped '/', escapes kept verbatim.
 * Returns the end, or NULL when no '/' closes it. */
static const char *
dp_tls_rules_part(const char *p, char *out, size_t out_size)
{
	size_t n = 0;

	while (*p != '\0' && *p != '/') {
		size_t take = p[0] == '\\' && p[1] != '\0' ? 2 : 1;

		if (n + take >= out_size)
			return NULL;
		memcpy(out + n, p, take);
		n += take;
		p += take;
	}
	out[n] = '\0';
	return *p == '/' ? p + 1 : NULL;
}

static int
dp_tls_rules_compile(struct dp_tls_rule *rule, const char *pattern, char *err,
		     size_t err_size)
{
	int code;
	PCRE2_SIZE at;

	rule->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code,
				 &at, NULL);
	if (rule->re == NULL) {
		PCRE2_UCHAR msg[128];

		pcre2_get_error_message(code, msg, sizeof(msg));
		dp_tls_rules_err(err, err_size, "bad pattern '%s' at %zu: %s", pattern,
				 (size_t)at, (const char *)msg);
		return -1;
	}
	pcre2_pattern_info(rule->re, PCRE2_INFO_CAPTURECOUNT, &rule->group_count);
	return 0;
}

/* One rule's text (blanks trimmed, not empty) into rule. */
static int
dp_tls_rules_one(struct dp_tls_rule *rule, const char *text, char *err, size_t err_size)
{
	char pattern[DP_TLS_RULE_TEXT_MAX], replacement[DP_TLS_RULE_TEXT_MAX];
	const char *p;

	memset(rule, 0, sizeof(*rule));
	if (strcmp(text, "DEFAULT") == 0) {
		rule->is_default = true;
		return 0;
	}
	if (strncmp(text, "RULE:", 5) != 0 ||
	    (p = dp_tls_rules_part(text + 5, pattern, sizeof(pattern))) == NULL ||
	    (p = dp_tls_rules_part(p, replacement, sizeof(replacement))) == NULL) {
		dp_tls_rules_err(err, err_size, "invalid rule: %s", text);
		return -1;
	}
	if (*p == 'L' || *p == 'U')
		rule->case_fold = *p++;
	if (*p != '\0') {
		dp_tls_rules_err(err, err_size, "invalid rule: `%s`, unmatched substring: `%s`",
				 text, p);
		return -1;
	}
	rule->replacement = strdup(replacement);
	if (rule->replacement == NULL) {
		dp_tls_rules_err(err, err_size, "out of memory");
		return -1;
	}
	return dp_tls_rules_compile(rule, pattern, err, err_size);
}

/* The end of the rule starting at p: the first ',' outside a RULE's
 * pattern and replacement (which may hold commas and escaped '/'). */
static const char *
dp_tls_rules_end(const char *p)
{
	if (strncmp(p, "RULE:", 5) == 0) {
		const char *q = p + 5;

		for (int slashes = 0; *q != '\0' && slashes < 2; q++) {
			if (q[0] == '\\' && q[1] != '\0')
				q++;
			else if (*q == '/')
				slashes++;
		}
		p = q;
	}
	while (*p != '\0' && *p != ',')
		p++;
	return p;
}

struct dp_tls_rules *
dp_tls_rules_parse(const char *text, char *err, size_t err_size)
{
	struct dp_tls_rules *rules = calloc(1, sizeof(*rules));
	const char *p = text != NULL ? text : "DEFAULT";

	if (rules == NULL) {
		dp_tls_rules_err(err, err_size, "out of memory");
		return NULL;
	}
	while (*p != '\0') {
		const char *end;
		char one[DP_TLS_RULE_TEXT_MAX * 2 + 16];
		size_t len;

		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		end = dp_tls_rules_end(p);
		len = (size_t)(end - p);
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			len--;
		if (len >= sizeof(one)) {
			dp_tls_rules_err(err, err_size, "rule too long");
			goto fail;
		}
		memcpy(one, p, len);
		one[len] = '\0';
		p = end;
		if (len == 0)
			continue;       /* empty rules are ignored, as in Kafka */
		if (rules->count == DP_TLS_RULES_MAX) {
			dp_tls_rules_err(err, err_size, "more than %d rules", DP_TLS_RULES_MAX);
			goto fail;
		}
		if (dp_tls_rules_one(&rules->rule[rules->count], one, err, err_size) != 0) {
			rules->count++;         /* free what it compiled */
			goto fail;
		}
		rules->count++;
	}
	return rules;
fail:
	dp_tls_rules_free(rules);
	return NULL;
}

/* Append n bytes to out at *len; false when it does not fit. */
static bool
dp_tls_rules_put(char *out, size_t out_size, size_t *len, const char *s, size_t n)
{
	if (*len + n >= out_size)
		return false;
	memcpy(out + *len, s, n);
	*len += n;
	return true;
}

/* Java's Matcher.appendReplacement: $n (digits taken while the number is a
 * group; a first digit past the groups is literal, as Kafka escapes it)
 * and \c for a literal c. */
static bool
dp_tls_rules_expand(const struct dp_tls_rule *rule, const char *dn, const PCRE2_SIZE *ov,
		    char *out, size_t out_size, size_t *len)
{
	const char *r = rule->replacement;

	while (*r != '\0') {
		if (r[0] == '\\' && r[1] != '\0') {
			if (!dp_tls_rules_put(out, out_size, len, r + 1, 1))
				return false;
			r += 2;
		} else if (r[0] == '$' && isdigit((unsigned char)r[1]) &&
			   (uint32_t)(r[1] - '0') <= rule->group_count) {
			uint32_t g = (uint32_t)(r[1] - '0');

			r += 2;
			while (isdigit((unsigned char)*r) &&
			       g * 10 + (uint32_t)(*r - '0') <= rule->group_count)
				g = g * 10 + (uint32_t)(*r++ - '0');
			if (ov[2 * g] != PCRE2_UNSET &&
			    !dp_tls_rules_put(out, out_size, len, dn + ov[2 * g],
					      ov[2 * g + 1] - ov[2 * g]))
				return false;
		} else {
			if (!dp_tls_rules_put(out, out_size, len, r, 1))
				return false;
			r++;
		}
	}
	return true;
}

/* Java's String.replaceAll(pattern, replacement) over dn. */
static int
dp_tls_rules_replace_all(const struct dp_tls_rule *rule, const char *dn,
			 pcre2_match_data *md, char *out, size_t out_size)
{
	size_t dn_len = strlen(dn), at = 0, len = 0;

	while (at <= dn_len) {
		const PCRE2_SIZE *ov;
		int rc = pcre2_match(rule->re, (PCRE2_SPTR)dn, dn_len, at, 0, md, NULL);

		if (rc < 0)
			break;
		ov = pcre2_get_ovector_pointer(md);
		if (!dp_tls_rules_put(out, out_size, &len, dn + at, ov[0] - at) ||
		    !dp_tls_rules_expand(rule, dn, ov, out, out_size, &len))
			return -1;
		if (ov[1] == ov[0]) {   /* empty match: copy one char, move on */
			if (ov[1] < dn_len && !dp_tls_rules_put(out, out_size, &len, dn + ov[1], 1))
				return -1;
			at = ov[1] + 1;
		} else {
			at = ov[1];
		}
	}
	if (at < dn_len && !dp_tls_rules_put(out, out_size, &len, dn + at, dn_len - at))
		return -1;
	out[len] = '\0';
	return (int)len;
}

static int
dp_tls_rule_apply(const struct dp_tls_rule *rule, const char *dn, pcre2_match_data *md,
		  char *out, size_t out_size)
{
	int len;

	if (rule->is_default) {
		len = (int)strlen(dn);
		if ((size_t)len >= out_size)
			return -1;
		memcpy(out, dn, (size_t)len + 1);
		return len;
	}
	/* Matcher.matches(): the whole DN. */
	if (pcre2_match(rule->re, (PCRE2_SPTR)dn, strlen(dn), 0,
			PCRE2_ANCHORED | PCRE2_ENDANCHORED, md, NULL) < 0)
		return -1;
	len = dp_tls_rules_replace_all(rule, dn, md, out, out_size);
	for (int i = 0; i < len && rule->case_fold != 0; i++) {
		unsigned char c = (unsigned char)out[i];

		out[i] = (char)(rule->case_fold == 'L' ? tolower(c) : toupper(c));
	}
	return len;
}

int
dp_tls_rules_apply(const struct dp_tls_rules *rules, const char *dn, char *out,
		   size_t out_size)
{
	pcre2_match_data *md = NULL;
	int len = -1;

	for (uint32_t i = 0; i < rules->count && len < 0; i++) {
		const struct dp_tls_rule *rule = &rules->rule[i];

		if (!rule->is_default && md == NULL) {
			md = pcre2_match_data_create(DP_TLS_RULES_MAX + 1, NULL);
			if (md == NULL)
				return -1;
		}
		len = dp_tls_rule_apply(rule, dn, md, out, out_size);
	}
	pcre2_match_data_free(md);
	return len;
}
