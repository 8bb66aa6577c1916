/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/cluster_acl.c and cluster_entity.c against a real
 * ZooKeeper (tzk.c), two struct cluster instances in one process as
 * brokers 1 and 2: ACL bindings written by one are read back by the other
 * in Kafka's znode layout and JSON, each change announced by a sequential
 * notification the other's watch sees; a delete by filter; entity configs
 * (SCRAM and quota keys sharing /config/users/<u>), sanitized names and the
 * default entity. Skipped when java or the zookeeper jars are missing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control/cluster_int.h"
#include "control/cluster_sec.h"
#include "tests/unit/control/tzk.h"

static struct tzk zk;
static char connect_str[96];

static void
zk_setup(void)
{
	tzk_setup(&zk, "", connect_str, sizeof(connect_str));
}

static struct cluster *
broker_open(int32_t id)
{
	return tzk_broker_open(connect_str, id, NULL, 9190 + id);
}

static void
zk_teardown(void)
{
	tzk_stop(&zk);
}

/* Wait (bounded) until cl's watches flag bits. */
static void
wait_flag(struct cluster *cl, uint32_t bits)
{
	for (int i = 0; i < 1500; i++) {
		(void)cluster_poll(cl);
		if ((cluster_sec_take(cl) & bits) != 0)
			return;
		usleep(20000);
	}
	cr_assert_fail("no change notification seen");
}

static char *
zget(struct cluster *cl, const char *path)
{
	struct Stat st;
	char *out = NULL;
	int rc = cluster_zk_get(cl, path, false, &out, &st);

	return rc == ZOK ? out : NULL;
}

static struct kp_str
S(const char *s)
{
	return (struct kp_str){ s, (int32_t)strlen(s) };
}

static struct kp_acl
acl(int8_t pattern, const char *name, const char *principal, int8_t op, int8_t perm)
{
	return (struct kp_acl){ .rtype = KP_RES_TOPIC, .pattern = pattern, .op = op,
				.perm = perm, .name = S(name), .principal = S(principal),
				.host = S("*") };
}

static void
count_removed(void *arg, int32_t filter, const struct kp_acl *a)
{
	(void)filter;
	(void)a;
	(*(int *)arg)++;
}

/* The znodes as Kafka's ZooKeeper mode writes them. */
static void
check_znodes(struct cluster *b1)
{
	char *json;

	json = zget(b1, "/kafka-acl/Topic/orders");
	cr_assert_not_null(json);
	cr_assert_not_null(strstr(json, "\"version\":1"), "%s", json);
	cr_assert_not_null(strstr(json, "{\"principal\":\"User:alice\",\"permissionType\":"
				  "\"Allow\",\"operation\":\"Read\",\"host\":\"*\"}"), "%s", json);
	cr_assert_not_null(strstr(json, "\"operation\":\"DescribeConfigs\""), "%s", json);
	free(json);
	json = zget(b1, "/kafka-acl-extended/prefixed/Topic/ord");
	cr_assert_not_null(json);
	cr_assert_not_null(strstr(json, "\"permissionType\":\"Deny\""), "%s", json);
	free(json);
	json = zget(b1, "/kafka-acl-changes/acl_changes_0000000000");
	cr_assert_not_null(json);
	cr_assert_str_eq(json, "TOPIC:orders");
	free(json);
	json = zget(b1, "/kafka-acl-extended-changes/acl_changes_0000000000");
	cr_assert_not_null(json);
	cr_assert_not_null(strstr(json, "\"patternType\":\"PREFIXED\""), "%s", json);
	free(json);
}

TestSuite(cluster_sec, .init = zk_setup, .fini = zk_teardown, .timeout = 240);

Test(cluster_sec, acls_written_by_one_read_by_other_then_deleted)
{
	struct cluster *b1 = broker_open(1), *b2 = broker_open(2);
	struct acl_store as = { 0 };
	struct kp_acl a[3] = {
		acl(KP_PAT_LITERAL, "orders", "User:alice", KP_ACL_READ, KP_PERM_ALLOW),
		acl(KP_PAT_PREFIXED, "ord", "User:bob", KP_ACL_WRITE, KP_PERM_DENY),
		acl(KP_PAT_LITERAL, "orders", "User:carol", KP_ACL_DESCRIBE_CONFIGS,
		    KP_PERM_ALLOW),
	};
	struct kp_acl_filter all = { .rtype = KP_RES_ANY, .pattern = KP_PAT_ANY,
				     .op = KP_ACL_OP_ANY, .perm = KP_PERM_ANY,
				     .name = { NULL, -1 }, .principal = { NULL, -1 },
				     .host = { NULL, -1 } };
	bool skip = false;
	int removed = 0;
	char msg[256] = "";

	cr_assert_eq(cluster_acl_load(b2, &as), 0);
	cr_assert_eq(as.count, 0);
	(void)cluster_sec_take(b2);
	/* Two writes of the same resource: the second keeps the first's. */
	cr_assert_eq(cluster_acl_create(b1, a, 2, msg, sizeof(msg)), KP_ERR_NONE, "%s", msg);
	cr_assert_eq(cluster_acl_create(b1, &a[2], 1, msg, sizeof(msg)), KP_ERR_NONE, "%s",
		     msg);
	wait_flag(b2, CLUSTER_SEC_ACL);
	/* Broker 2 applies the notifications to what it loaded (nothing). */
	cr_assert_eq(cluster_acl_apply_changes(b2, &as), 0);
	cr_assert_eq(as.count, 3);
	cr_assert_eq(cluster_acl_apply_changes(b2, &as), 0);
	cr_assert_eq(as.count, 3);
	check_znodes(b1);
	/* A name ZooKeeper cannot hold is refused. */
	a[0].name = S("a/b");
	cr_assert_eq(cluster_acl_create(b1, a, 1, msg, sizeof(msg)), KP_ERR_INVALID_REQUEST);
	/* Broker 1 watches too once it loaded; delete everything through
	 * broker 2: the znodes go. */
	{
		struct acl_store mine = { 0 };

		cr_assert_eq(cluster_acl_load(b1, &mine), 0);
		cr_assert_eq(mine.count, 3);
		acl_store_close(&mine);
		(void)cluster_sec_take(b1);
	}
	cr_assert_eq(cluster_acl_delete(b2, &as, &all, &skip, 1, count_removed, &removed, msg,
					sizeof(msg)), KP_ERR_NONE, "%s", msg);
	cr_assert_eq(removed, 3);
	cr_assert_null(zget(b1, "/kafka-acl/Topic/orders"));
	cr_assert_null(zget(b1, "/kafka-acl-extended/prefixed/Topic/ord"));
	wait_flag(b1, CLUSTER_SEC_ACL);
	cr_assert_eq(cluster_acl_apply_changes(b1, &as), 0);
	cr_assert_eq(as.count, 0);
	cr_assert_eq(cluster_acl_load(b1, &as), 0);
	cr_assert_eq(as.count, 0);
	acl_store_close(&as);
	cluster_close(b1);
	cluster_close(b2);
}

struct seen {
	char keys[8][160];
	int n;
};

static void
seen_add(void *arg, const struct cluster_entity *e)
{
	struct seen *s = arg;

	for (int32_t i = 0; i < e->count && s->n < 8; i++)
		snprintf(s->keys[s->n++], sizeof(s->keys[0]), "%s|%s|%s|%s=%s",
			 e->user ? e->user : "-", e->client ? e->client : "-",
			 e->ip ? e->ip : "-", e->kv[i].key, e->kv[i].value);
}

static bool
seen_has(const struct seen *s, const char *want)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->keys[i], want) == 0)
			return true;
	return false;
}

Test(cluster_sec, entity_configs_shared_sanitized_and_default)
{
	struct cluster *b1 = broker_open(1), *b2 = broker_open(2);
	struct cluster_kv scram = { "SCRAM-SHA-256", "salt=c2FsdA==,iterations=4096" };
	struct cluster_kv quota = { "producer_byte_rate", "1024" };
	struct cluster_kv gone = { "producer_byte_rate", NULL };
	struct cluster_kv rate = { "request_percentage", "50.0" };
	struct seen s = { 0 };
	char *json;

	cr_assert_eq(cluster_entity_load(b2, seen_add, &s), 0);
	cr_assert_eq(s.n, 0);
	(void)cluster_sec_take(b2);
	cr_assert_eq(cluster_entity_alter(b1, &(struct cluster_entity){
		.user = "alice", .count = 1, .kv = &scram }), 0);
	cr_assert_eq(cluster_entity_alter(b1, &(struct cluster_entity){
		.user = "alice", .count = 1, .kv = &quota }), 0);
	cr_assert_eq(cluster_entity_alter(b1, &(struct cluster_entity){
		.user = "a b*", .client = "<default>", .count = 1, .kv = &rate }), 0);
	cr_assert_eq(cluster_entity_alter(b1, &(struct cluster_entity){
		.ip = "10.0.0.1", .count = 1, .kv = &quota }), 0);
	wait_flag(b2, CLUSTER_SEC_ENTITY);
	json = zget(b1, "/config/users/alice");
	cr_assert_not_null(json);
	cr_assert_str_eq(json, "{\"config\":{\"SCRAM-SHA-256\":\"salt=c2FsdA==,iterations=4096\","
			 "\"producer_byte_rate\":\"1024\"},\"version\":1}");
	free(json);
	json = zget(b1, "/config/users/a%20b%2A/clients/<default>");
	cr_assert_not_null(json);
	free(json);
	json = zget(b1, "/config/changes/config_change_0000000000");
	cr_assert_not_null(json);
	cr_assert_str_eq(json, "{\"version\":2,\"entity_path\":\"users/alice\"}");
	free(json);
	cr_assert_eq(cluster_entity_load(b2, seen_add, &s), 0);
	cr_assert_eq(s.n, 4);
	cr_assert(seen_has(&s, "alice|-|-|SCRAM-SHA-256=salt=c2FsdA==,iterations=4096"));
	cr_assert(seen_has(&s, "alice|-|-|producer_byte_rate=1024"));
	cr_assert(seen_has(&s, "a b*|<default>|-|request_percentage=50.0"));
	cr_assert(seen_has(&s, "-|-|10.0.0.1|producer_byte_rate=1024"));
	/* Removing a key keeps the others. */
	cr_assert_eq(cluster_entity_alter(b2, &(struct cluster_entity){
		.user = "alice", .count = 1, .kv = &gone }), 0);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(cluster_entity_load(b1, seen_add, &s), 0);
	cr_assert_eq(s.n, 3);
	cr_assert(!seen_has(&s, "alice|-|-|producer_byte_rate=1024"));
	cluster_close(b1);
	cluster_close(b2);
}

static int32_t
children(struct cluster *cl, const char *path)
{
	struct String_vector kids = { 0 };
	int32_t n;

	cr_assert_eq(zoo_get_children(cl->zh, path, 0, &kids), ZOK, "%s", path);
	n = kids.count;
	deallocate_String_vector(&kids);
	return n;
}

/* Change notifications older than the expiration go once a later write
 * is done, as Kafka's listener purges obsolete ones (15 minutes there;
 * 1.5 s here); the newest stay for the brokers that have not read them. */
Test(cluster_sec, old_change_notifications_expire)
{
	struct md_cluster_endpoint ep = { .listener = (char[]){ "PLAINTEXT" },
					  .host = (char[]){ "127.0.0.1" }, .port = 9195 };
	struct cluster_config cfg = {
		.connect = connect_str, .session_timeout_ms = 4000,
		.connection_timeout_ms = 20000, .broker_id = 5, .endpoint_count = 1,
		.endpoints = &ep, .change_expiration_ms = 1500,
	};
	struct kp_acl a[2] = {
		acl(KP_PAT_LITERAL, "old", "User:alice", KP_ACL_READ, KP_PERM_ALLOW),
		acl(KP_PAT_LITERAL, "new", "User:alice", KP_ACL_READ, KP_PERM_ALLOW),
	};
	struct cluster_kv quota = { "producer_byte_rate", "1024" };
	char err[256] = "", msg[256] = "", *json;
	struct cluster *cl = cluster_open(&cfg, err, sizeof(err));

	cr_assert_not_null(cl, "%s", err);
	cr_assert_eq(cluster_acl_create(cl, &a[0], 1, msg, sizeof(msg)), KP_ERR_NONE, "%s", msg);
	cr_assert_eq(cluster_entity_alter(cl, &(struct cluster_entity){
		.user = "old", .count = 1, .kv = &quota }), 0);
	cr_assert_eq(children(cl, "/kafka-acl-changes"), 1);
	cr_assert_eq(children(cl, "/config/changes"), 1);
	usleep(1800 * 1000);
	cr_assert_eq(cluster_acl_create(cl, &a[1], 1, msg, sizeof(msg)), KP_ERR_NONE, "%s", msg);
	cr_assert_eq(cluster_entity_alter(cl, &(struct cluster_entity){
		.user = "new", .count = 1, .kv = &quota }), 0);
	cr_assert_eq(children(cl, "/kafka-acl-changes"), 1, "the old ACL notification stays");
	json = zget(cl, "/kafka-acl-changes/acl_changes_0000000001");
	cr_assert_not_null(json);
	cr_assert_str_eq(json, "TOPIC:new");
	free(json);
	cr_assert_eq(children(cl, "/config/changes"), 1, "the old config notification stays");
	json = zget(cl, "/config/changes/config_change_0000000001");
	cr_assert_not_null(json);
	cr_assert_str_eq(json, "{\"version\":2,\"entity_path\":\"users/new\"}");
	free(json);
	cluster_close(cl);
}
