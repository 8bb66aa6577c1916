/* SPDX-License-Identifier: Apache-2.0 */
/* The JAAS config parser for PLAIN users (jaas.h). Kafka reads these
 * values with Java's StreamTokenizer: words, '"'-quoted strings with
 * backslash escapes, '=' and ';' as tokens. */
#include "control/jaas.h"

#include <ctype.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jaas_lex {
	const char *p;
	char *err;
	size_t err_size;
};

static void __attribute__((format(printf, 2, 3)))
jaas_err(struct jaas_lex *lx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lx->err, lx->err_size, fmt, ap);
	va_end(ap);
}

static void
jaas_skip(struct jaas_lex *lx)
{
	while (isspace((unsigned char)*lx->p))
		lx->p++;
}

/* The next word or quoted string, malloc()ed; NULL at a separator or the
 * end (*lx->p tells which) or on a bad quote (err set). */
static char *
jaas_token(struct jaas_lex *lx)
{
	size_t n = 0, cap = strlen(lx->p) + 1;
	char *out;

	jaas_skip(lx);
	if (*lx->p == '\0' || *lx->p == '=' || *lx->p == ';')
		return NULL;
	out = malloc(cap);
	if (out == NULL) {
		jaas_err(lx, "out of memory");
		return NULL;
	}
	if (*lx->p == '"') {
		for (lx->p++; *lx->p != '"'; lx->p++) {
			if (*lx->p == '\0') {
				jaas_err(lx, "unterminated quoted value");
				free(out);
				return NULL;
			}
			if (*lx->p == '\\' && lx->p[1] != '\0')
				lx->p++;
			out[n++] = *lx->p;
		}
		lx->p++;
	} else {
		while (*lx->p != '\0' && !isspace((unsigned char)*lx->p) && *lx->p != '=' &&
		       *lx->p != ';' && *lx->p != '"')
			out[n++] = *lx->p++;
	}
	out[n] = '\0';
	return out;
}

static bool
jaas_flag_ok(const char *flag)
{
	static const char *const flags[] = { "required", "requisite", "sufficient", "optional" };

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strcasecmp(flag, flags[i]) == 0)
			return true;
	return false;
}

/* Keep option key=value: user_<name> becomes a user. Takes both. */
static int
jaas_option(struct jaas_lex *lx, struct jaas_plain *out, char *key, char *value)
{
	struct jaas_user *u;

	if (strncmp(key, "user_", 5) != 0 || key[5] == '\0') {
		free(key);
		free(value);
		return 0;
	}
	if (out->count >= JAAS_USERS_MAX) {
		jaas_err(lx, "more than %d users", JAAS_USERS_MAX);
		goto fail;
	}
	u = realloc(out->users, sizeof(*u) * (size_t)(out->count + 1));
	if (u == NULL) {
		jaas_err(lx, "out of memory");
		goto fail;
	}
	out->users = u;
	memmove(key, key + 5, strlen(key + 5) + 1);
	out->users[out->count++] = (struct jaas_user){ key, value };
	return 0;
fail:
	free(key);
	free(value);
	return -1;
}

static int
jaas_options(struct jaas_lex *lx, struct jaas_plain *out)
{
	for (;;) {
		char *key = jaas_token(lx), *value;

		if (key == NULL)
			break;
		jaas_skip(lx);
		if (*lx->p != '=') {
			jaas_err(lx, "option '%s' has no '=value'", key);
			free(key);
			return -1;
		}
		lx->p++;
		value = jaas_token(lx);
		if (value == NULL) {
			if (lx->err[0] == '\0')
				jaas_err(lx, "option '%s' has no value", key);
			free(key);
			return -1;
		}
		if (jaas_option(lx, out, key, value) != 0)
			return -1;
	}
	return lx->err[0] != '\0' ? -1 : 0;
}

int
jaas_plain_parse(const char *text, struct jaas_plain *out, char *err, size_t err_size)
{
	struct jaas_lex lx = { text, err, err_size };
	char *flag;

	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	if (strlen(text) > JAAS_TEXT_BYTES_MAX) {
		jaas_err(&lx, "longer than %d bytes", JAAS_TEXT_BYTES_MAX);
		return -1;
	}
	out->module = jaas_token(&lx);
	if (out->module == NULL) {
		if (err[0] == '\0')
			jaas_err(&lx, "expected a login module name");
		return -1;
	}
	flag = jaas_token(&lx);
	if (flag == NULL || !jaas_flag_ok(flag)) {
		jaas_err(&lx, "login module control flag is not available in the JAAS config");
		free(flag);
		goto fail;
	}
	free(flag);
	if (jaas_options(&lx, out) != 0)
		goto fail;
	jaas_skip(&lx);
	if (*lx.p != ';') {
		jaas_err(&lx, "expected ';' after the login module's options");
		goto fail;
	}
	lx.p++;
	jaas_skip(&lx);
	if (*lx.p != '\0') {
		jaas_err(&lx, "must contain exactly one login module");
		goto fail;
	}
	return 0;
fail:
	jaas_plain_free(out);
	return -1;
}

void
jaas_plain_free(struct jaas_plain *jp)
{
	for (int i = 0; i < jp->count; i++) {
		OPENSSL_cleanse(jp->users[i].password, strlen(jp->users[i].password));
		free(jp->users[i].name);
		free(jp->users[i].password);
	}
	free(jp->users);
	free(jp->module);
	memset(jp, 0, sizeof(*jp));
}

bool
jaas_plain_check(const struct jaas_plain *jp, const char *name, size_t name_len,
		 const char *password, size_t password_len)
{
	for (int i = 0; i < jp->count; i++) {
		const struct jaas_user *u = &jp->users[i];

		if (strlen(u->name) != name_len || memcmp(u->name, name, name_len) != 0)
			continue;
		return strlen(u->password) == password_len &&
		       CRYPTO_memcmp(u->password, password, password_len) == 0;
	}
	return false;
}
