/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka's topic-name rules, with the messages the Java broker gives, so that
 * clients show the same text for the same mistake. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/kp_int.h"

/* Kafka's limit: 255 minus room for a partition suffix and a ".deleted" tag. */
#define KP_TOPIC_NAME_BYTES_MAX 249

static bool
kp_topic_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

/* Kafka 3.9's Topic.validate wording: "Topic name is invalid: <reason>". */
int16_t
kp_topic_name_check(struct kp_str name, char *msg, size_t msg_size)
{
	if (name.len <= 0) {
		snprintf(msg, msg_size, "Topic name is invalid: the empty string is not allowed");
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	}
	if ((name.len == 1 && name.ptr[0] == '.') ||
	    (name.len == 2 && name.ptr[0] == '.' && name.ptr[1] == '.')) {
		snprintf(msg, msg_size, "Topic name is invalid: '%.*s' is not allowed",
			 (int)name.len, name.ptr);
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	}
	if (name.len > KP_TOPIC_NAME_BYTES_MAX) {
		snprintf(msg, msg_size, "Topic name is invalid: the length of '%.*s' is longer "
			 "than the max allowed length %d", (int)name.len, name.ptr,
			 KP_TOPIC_NAME_BYTES_MAX);
		return KP_ERR_INVALID_TOPIC_EXCEPTION;
	}
	for (int32_t i = 0; i < name.len; i++) {
		if (!kp_topic_char_ok(name.ptr[i])) {
			snprintf(msg, msg_size, "Topic name is invalid: '%.*s' contains one or "
				 "more characters other than ASCII alphanumerics, '.', '_' and "
				 "'-'", (int)name.len, name.ptr);
			return KP_ERR_INVALID_TOPIC_EXCEPTION;
		}
	}
	return KP_ERR_NONE;
}

bool
kp_topic_internal(struct kp_str name)
{
	return kp_str_eq(name, kp_str_c("__consumer_offsets")) ||
	       kp_str_eq(name, kp_str_c("__transaction_state")) ||
	       kp_str_eq(name, kp_str_c("__share_group_state"));
}

struct kp_names_sort {
	const struct kp_str *names;
};

static int
kp_names_cmp(const void *a, const void *b, void *arg)
{
	const struct kp_str *names = ((const struct kp_names_sort *)arg)->names;
	struct kp_str x = names[*(const int32_t *)a];
	struct kp_str y = names[*(const int32_t *)b];
	int32_t n = x.len < y.len ? x.len : y.len;
	int r = n > 0 ? memcmp(x.ptr, y.ptr, (size_t)n) : 0;

	if (r == 0)
		r = (x.len > y.len) - (x.len < y.len);
	/* Equal names by position, so each run starts with its first copy. */
	return r != 0 ? r : (*(const int32_t *)a > *(const int32_t *)b) -
			    (*(const int32_t *)a < *(const int32_t *)b);
}

int
kp_topic_names_mark_dups(const struct kp_str *names, int32_t count, uint8_t *flags)
{
	int32_t *order = malloc(sizeof(*order) * (size_t)(count > 0 ? count : 1));
	struct kp_names_sort sort = { names };

	if (order == NULL)
		return -1;
	for (int32_t i = 0; i < count; i++) {
		order[i] = i;
		flags[i] = 0;
	}
	qsort_r(order, (size_t)count, sizeof(*order), kp_names_cmp, &sort);
	for (int32_t i = 1; i < count; i++) {
		if (!kp_str_eq(names[order[i - 1]], names[order[i]]))
			continue;
		if (flags[order[i - 1]] == 0)
			flags[order[i - 1]] = KP_NAME_DUP | KP_NAME_DUP_FIRST;
		flags[order[i]] = KP_NAME_DUP;
	}
	free(order);
	return 0;
}

uint8_t *
kp_topic_array_name_dups(const struct kp_array *arr, int16_t version, kp_next_name_fn *next_name)
{
	int32_t count = kp_count0(arr->count);
	struct kp_str *names = malloc(sizeof(*names) * (size_t)(count + 1));
	uint8_t *dup = malloc(sizeof(*dup) * (size_t)(count + 1));
	struct kp_cursor it = kp_array_cursor(arr);

	for (int32_t i = 0; names != NULL && dup != NULL && i < count; i++)
		names[i] = next_name(&it, version);
	if (names == NULL || dup == NULL || kp_topic_names_mark_dups(names, count, dup) != 0) {
		free(dup);
		dup = NULL;
	}
	free(names);
	return dup;
}
