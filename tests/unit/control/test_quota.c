/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/quota.c in a temp directory: AlterClientQuotas validation
 * with Kafka's messages, set / change / remove, validate_only, the
 * DescribeClientQuotas filter (exact, default, specified, strict) and its
 * errors, and the store surviving a restart. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "control/quota.h"
#include "tests/unit/control/tdir.h"

TestSuite(quota, .init = tdir_setup, .fini = tdir_teardown);

static struct kp_quota_entity
ent(const char *user, const char *client)
{
	struct kp_quota_entity e;

	memset(&e, 0, sizeof(e));
	for (int t = 0; t < KP_QUOTA_TYPES; t++)
		e.name[t] = (struct kp_str){ NULL, -1 };
	if (user != NULL) {
		e.present |= 1u << KP_QUOTA_USER;
		e.name[KP_QUOTA_USER] = strcmp(user, "<default>") == 0
			? (struct kp_str){ NULL, -1 } : kp_str_c(user);
	}
	if (client != NULL) {
		e.present |= 1u << KP_QUOTA_CLIENT_ID;
		e.name[KP_QUOTA_CLIENT_ID] = strcmp(client, "<default>") == 0
			? (struct kp_str){ NULL, -1 } : kp_str_c(client);
	}
	return e;
}

static const struct kp_str none = { NULL, -1 };

static int16_t
set1(struct quota_store *qs, struct kp_quota_entity e, const char *key, double v, bool remove,
     char *msg)
{
	struct kp_quota_op op = { kp_str_c(key), v, remove };
	bool changed;

	msg[0] = '\0';
	return quota_store_alter(qs, &e, none, &op, 1, false, &changed, msg, 256);
}

struct seen {
	int count;
	char last[128];
	double value;
};

static void
collect(void *arg, const struct kp_quota_entity *e, const struct kp_quota_values *v)
{
	struct seen *s = arg;

	s->count++;
	kp_quota_entity_format(e, s->last, sizeof(s->last));
	s->value = v->value[KP_QUOTA_PRODUCER_BYTE_RATE];
}

Test(quota, validation_messages_as_kafka)
{
	struct quota_store qs;
	char err[256], msg[256];
	struct kp_quota_entity empty = ent(NULL, NULL);
	bool changed;

	cr_assert_eq(quota_store_open(&qs, tdir_path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(set1(&qs, ent(NULL, "a"), "producer_byte_rate", 1.5, false, msg),
		     KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "producer_byte_rate cannot be a fractional value.");
	cr_assert_eq(set1(&qs, ent(NULL, "a"), "producer_byte_rate", 0, false, msg),
		     KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "Quota producer_byte_rate must be greater than 0");
	cr_assert_eq(set1(&qs, ent(NULL, "a"), "bogus", 1, false, msg), KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "Invalid configuration key bogus");
	cr_assert_eq(set1(&qs, ent(NULL, "a"), "connection_creation_rate", 1, false, msg),
		     KP_ERR_INVALID_REQUEST);
	cr_assert_eq(set1(&qs, ent(NULL, ""), "producer_byte_rate", 1, false, msg),
		     KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "Empty client-id not supported");
	cr_assert_eq(quota_store_alter(&qs, &empty, none, NULL, 0, false, &changed, msg, 256),
		     KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "Invalid empty client quota entity");
	cr_assert_eq(quota_store_alter(&qs, &empty, kp_str_c("group"), NULL, 0, false, &changed,
				       msg, 256), KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "Unhandled client quota entity type: group");
	/* request_percentage is a DOUBLE: fractions are fine. */
	cr_assert_eq(set1(&qs, ent(NULL, "a"), "request_percentage", 12.5, false, msg), 0);
	cr_assert_eq(qs.count, 1);
	quota_store_close(&qs);
}

Test(quota, set_change_remove_and_restart)
{
	struct quota_store qs;
	struct kp_quota_op op = { kp_str_c("producer_byte_rate"), 1024, false };
	struct kp_quota_entity e = ent("alice", "app");
	struct seen s = { 0 };
	char err[256], msg[256];
	bool changed;

	cr_assert_eq(quota_store_open(&qs, tdir_path, err, sizeof(err)), 0, "%s", err);
	/* validate_only changes nothing. */
	cr_assert_eq(quota_store_alter(&qs, &e, none, &op, 1, true, &changed, msg, 256), 0);
	cr_assert_not(changed);
	cr_assert_eq(qs.count, 0);
	cr_assert_eq(quota_store_alter(&qs, &e, none, &op, 1, false, &changed, msg, 256), 0);
	cr_assert(changed);
	/* The same value again is no change. */
	cr_assert_eq(quota_store_alter(&qs, &e, none, &op, 1, false, &changed, msg, 256), 0);
	cr_assert_not(changed);
	cr_assert_eq(set1(&qs, ent(NULL, "<default>"), "consumer_byte_rate", 5000, false, msg), 0);
	quota_store_close(&qs);

	cr_assert_eq(quota_store_open(&qs, tdir_path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(qs.count, 2);
	cr_assert_eq(quota_store_describe(&qs, NULL, 0, false, collect, &s, msg, 256), 0);
	cr_assert_eq(s.count, 2);
	/* Removing the last key removes the entity, durably. */
	cr_assert_eq(set1(&qs, e, "producer_byte_rate", 0, true, msg), 0);
	cr_assert_eq(qs.count, 1);
	quota_store_close(&qs);
	cr_assert_eq(quota_store_open(&qs, tdir_path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(qs.count, 1);
	quota_store_close(&qs);
}

static int
describe(struct quota_store *qs, const struct kp_quota_filter *f, int n, bool strict,
	 struct seen *s, char *msg)
{
	memset(s, 0, sizeof(*s));
	return quota_store_describe(qs, f, n, strict, collect, s, msg, 256);
}

Test(quota, describe_filters_as_kafka)
{
	struct quota_store qs;
	struct seen s;
	char err[256], msg[256];

	cr_assert_eq(quota_store_open(&qs, tdir_path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(set1(&qs, ent(NULL, "app"), "producer_byte_rate", 1, false, msg), 0);
	cr_assert_eq(set1(&qs, ent(NULL, "<default>"), "producer_byte_rate", 2, false, msg), 0);
	cr_assert_eq(set1(&qs, ent("bob", "app"), "producer_byte_rate", 3, false, msg), 0);
	cr_assert_eq(set1(&qs, ent("bob", NULL), "producer_byte_rate", 4, false, msg), 0);

	struct kp_quota_filter exact = { kp_str_c("client-id"), 0, kp_str_c("app") };
	struct kp_quota_filter dflt = { kp_str_c("client-id"), 1, none };
	struct kp_quota_filter any_user = { kp_str_c("user"), 2, none };

	cr_assert_eq(describe(&qs, &exact, 1, false, &s, msg), 0);
	cr_assert_eq(s.count, 2);               /* app, and bob + app */
	cr_assert_eq(describe(&qs, &exact, 1, true, &s, msg), 0);
	cr_assert_eq(s.count, 1);
	cr_assert_str_eq(s.last, "ClientQuotaEntity(entries={client-id=app})");
	cr_assert_eq(describe(&qs, &dflt, 1, false, &s, msg), 0);
	cr_assert_eq(s.count, 1);
	cr_assert_float_eq(s.value, 2, 1e-9);
	cr_assert_eq(describe(&qs, &any_user, 1, false, &s, msg), 0);
	cr_assert_eq(s.count, 2);
	cr_assert_eq(describe(&qs, &any_user, 1, true, &s, msg), 0);
	cr_assert_eq(s.count, 1);
	cr_assert_float_eq(s.value, 4, 1e-9);

	struct kp_quota_filter bad_exact = { kp_str_c("user"), 0, none };
	struct kp_quota_filter bad_type = { kp_str_c("group"), 2, none };
	struct kp_quota_filter twice[2] = { exact, dflt };
	struct kp_quota_filter ip_user[2] = { { kp_str_c("ip"), 2, none }, any_user };

	cr_assert_eq(describe(&qs, &bad_exact, 1, false, &s, msg), KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "Request specified MATCH_TYPE_EXACT, but set match string to null.");
	cr_assert_eq(describe(&qs, &bad_type, 1, false, &s, msg), KP_ERR_UNSUPPORTED_VERSION);
	cr_assert_str_eq(msg, "Unsupported entity type group");
	cr_assert_eq(describe(&qs, twice, 2, false, &s, msg), KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "Entity type client-id cannot appear more than once in the filter.");
	cr_assert_eq(describe(&qs, ip_user, 2, false, &s, msg), KP_ERR_INVALID_REQUEST);
	quota_store_close(&qs);
}
