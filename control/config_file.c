/* SPDX-License-Identifier: Apache-2.0 */
/* The Java-properties reader: logical lines (continuations, comments),
 * escapes, key/value separators; each pair goes to config_set() with its
 * "file:line". */
#include "control/config_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
config_file_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The four hex digits at s as *cp; false unless all four are hex. */
static bool
config_file_hex4(const char *s, unsigned *cp)
{
	*cp = 0;
	for (int i = 0; i < 4; i++) {
		int d = config_file_hex(s[i]);

		if (d < 0)
			return false;
		*cp = *cp << 4 | (unsigned)d;
	}
	return true;
}

/* Undo Java-properties escapes in place: \t \n \r \f, \uXXXX (as UTF-8) and
 * \x -> x for any other x. */
static void
config_file_unescape(char *s)
{
	char *out = s;
	unsigned cp;

	while (*s != '\0') {
		if (*s != '\\' || s[1] == '\0') {
			*out++ = *s++;
			continue;
		}
		s++;
		if (*s == 'u' && config_file_hex4(s + 1, &cp)) {
			if (cp < 0x80) {
				*out++ = (char)cp;
			} else if (cp < 0x800) {
				*out++ = (char)(0xc0 | cp >> 6);
				*out++ = (char)(0x80 | (cp & 0x3f));
			} else {
				*out++ = (char)(0xe0 | cp >> 12);
				*out++ = (char)(0x80 | ((cp >> 6) & 0x3f));
				*out++ = (char)(0x80 | (cp & 0x3f));
			}
			s += 5;
			continue;
		}
		*out++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s == 'r' ? '\r' :
			 *s == 'f' ? '\f' : *s;
		s++;
	}
	*out = '\0';
}

/* One logical line "key[=: ]value": split, unescape, trim, set. */
static int
config_file_line(struct config *cfg, char *line, const char *where, char *err, size_t err_size)
{
	char *p = line;
	char *value;

	while (*p != '\0' && strchr("=: \t\f", *p) == NULL) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		p++;
	}
	value = p;
	while (*value == ' ' || *value == '\t' || *value == '\f')
		value++;
	if (*value == '=' || *value == ':')
		value++;
	*p = '\0';
	config_file_unescape(line);
	config_file_unescape(value);
	return config_set(cfg, config_value_trim(line), config_value_trim(value), where, err,
			  err_size);
}

/* Parse text (NUL-terminated, owned by the caller, modified). */
static int
config_file_parse(struct config *cfg, const char *path, char *text, char *err, size_t err_size)
{
	char *logical = malloc(strlen(text) + 1);
	char where[PATH_MAX + 32];
	size_t len = 0;
	int line_no = 0;
	int start_no = 0;
	char *phys;
	char *next;
	int rc = 0;

	if (logical == NULL)
		return -ENOMEM;
	for (phys = text; phys != NULL && rc == 0; phys = next) {
		char *nl = strchr(phys, '\n');
		size_t n;
		size_t slashes = 0;

		next = nl != NULL ? nl + 1 : NULL;
		if (nl != NULL)
			*nl = '\0';
		line_no++;
		phys += strspn(phys, " \t\f");
		n = strcspn(phys, "\r");
		phys[n] = '\0';
		if (len == 0 && (n == 0 || *phys == '#' || *phys == '!'))
			continue;
		if (len == 0)
			start_no = line_no;
		while (slashes < n && phys[n - 1 - slashes] == '\\')
			slashes++;
		memcpy(logical + len, phys, n);
		len += n;
		if (slashes % 2 == 1) {
			len--;  /* drop the continuation backslash */
			continue;
		}
		logical[len] = '\0';
		snprintf(where, sizeof(where), "%s:%d", path, start_no);
		rc = config_file_line(cfg, logical, where, err, err_size);
		len = 0;
	}
	if (rc == 0 && len > 0) {
		logical[len] = '\0';
		snprintf(where, sizeof(where), "%s:%d", path, start_no);
		rc = config_file_line(cfg, logical, where, err, err_size);
	}
	free(logical);
	return rc;
}

#define CONFIG_FILE_BYTES_MAX (4u << 20)

int
config_file_read(struct config *cfg, const char *path, char *err, size_t err_size)
{
	FILE *f = fopen(path, "r");
	char *text;
	size_t n;
	int rc;

	if (f == NULL) {
		rc = -errno;
		config_err(err, err_size, "%s: %s", path, strerror(-rc));
		return rc;
	}
	text = malloc(CONFIG_FILE_BYTES_MAX + 1);
	if (text == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(text, 1, CONFIG_FILE_BYTES_MAX + 1, f);
	rc = ferror(f) ? -EIO : 0;
	fclose(f);
	if (rc == 0 && n > CONFIG_FILE_BYTES_MAX) {
		config_err(err, err_size, "%s: larger than %u bytes", path, CONFIG_FILE_BYTES_MAX);
		rc = -EFBIG;
	} else if (rc != 0) {
		config_err(err, err_size, "%s: read error", path);
	}
	if (rc == 0) {
		text[n] = '\0';
		rc = config_file_parse(cfg, path, text, err, err_size);
	}
	free(text);
	return rc;
}
