/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/acl.c in a temp directory: Kafka's validation of a new
 * binding, add (duplicates kept once), filter, remove with the removed
 * bindings reported per filter, the index built for the snapshots
 * (super.users parsing included), the store surviving a restart with
 * strings that need escaping, and a damaged file refused at start. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "control/acl.h"
#include "tests/unit/control/tdir.h"

TestSuite(acl, .init = tdir_setup, .fini = tdir_teardown);

#define S(s) kp_str_c(s)

static struct kp_acl
acl(int rtype, const char *name, int pattern, const char *principal, const char *host, int op,
    int perm)
{
	return (struct kp_acl){ (int8_t)rtype, (int8_t)pattern, (int8_t)op, (int8_t)perm,
				S(name), S(principal), S(host) };
}

static const struct kp_acl_filter any = {
	KP_RES_ANY, KP_PAT_ANY, KP_ACL_OP_ANY, KP_PERM_ANY,
	{ NULL, -1 }, { NULL, -1 }, { NULL, -1 },
};

static void
count_fn(void *arg, const struct kp_acl *a)
{
	(void)a;
	(*(int *)arg)++;
}

static int
count(const struct acl_store *as, const struct kp_acl_filter *f)
{
	int n = 0;

	acl_store_each(as, f, count_fn, &n);
	return n;
}

struct removed {
	int per_filter[4];
};

static void
removed_fn(void *arg, int32_t filter, const struct kp_acl *a)
{
	(void)a;
	((struct removed *)arg)->per_filter[filter]++;
}

Test(acl, validate_like_kafka)
{
	char msg[256];
	struct kp_acl a = acl(KP_RES_ANY, "t", KP_PAT_LITERAL, "User:a", "*", KP_ACL_READ,
			      KP_PERM_ALLOW);

	cr_assert_eq(kp_acl_validate(&a, msg, sizeof(msg)), KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "Invalid resourceType ANY");
	a.rtype = KP_RES_TOPIC;
	a.pattern = KP_PAT_MATCH;
	cr_assert_eq(kp_acl_validate(&a, msg, sizeof(msg)), KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "Invalid patternType MATCH");
	a.pattern = KP_PAT_PREFIXED;
	a.op = KP_ACL_OP_ANY;
	cr_assert_eq(kp_acl_validate(&a, msg, sizeof(msg)), KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "Invalid operation ANY");
	a.op = KP_ACL_READ;
	a.perm = KP_PERM_ANY;
	cr_assert_eq(kp_acl_validate(&a, msg, sizeof(msg)), KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "Invalid permissionType ANY");
	a.perm = KP_PERM_DENY;
	a.principal = S("nocolon");
	cr_assert_eq(kp_acl_validate(&a, msg, sizeof(msg)), KP_ERR_INVALID_REQUEST);
	a.principal = S("User:a");
	cr_assert_eq(kp_acl_validate(&a, msg, sizeof(msg)), KP_ERR_NONE);
}

Test(acl, add_filter_remove_reload)
{
	struct acl_store as;
	char err[256];
	bool changed;
	struct kp_acl add[] = {
		acl(KP_RES_TOPIC, "t", KP_PAT_LITERAL, "User:a", "*", KP_ACL_READ, KP_PERM_ALLOW),
		acl(KP_RES_TOPIC, "t", KP_PAT_LITERAL, "User:a", "*", KP_ACL_READ, KP_PERM_ALLOW),
		acl(KP_RES_TOPIC, "p.", KP_PAT_PREFIXED, "User:b", "10.0.0.1", KP_ACL_WRITE,
		    KP_PERM_DENY),
		/* Bytes the file must escape: a space, '%', a newline. */
		acl(KP_RES_GROUP, "g 1%\n", KP_PAT_LITERAL, "User:x y", "*", KP_ACL_ALL,
		    KP_PERM_ALLOW),
	};
	struct kp_acl_filter f = any;
	struct removed rm = { { 0 } };

	cr_assert_eq(acl_store_open(&as, tdir_path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(acl_store_add(&as, add, 4, &changed), 0);
	cr_assert(changed);
	cr_assert_eq(as.count, 3);
	cr_assert_eq(acl_store_add(&as, add, 1, &changed), 0);
	cr_assert_not(changed);
	f.pattern = KP_PAT_MATCH;
	f.rtype = KP_RES_TOPIC;
	f.name = S("p.x");
	cr_assert_eq(count(&as, &f), 1);
	acl_store_close(&as);

	cr_assert_eq(acl_store_open(&as, tdir_path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(as.count, 3);
	f = any;
	f.name = S("g 1%\n");
	f.principal = S("User:x y");
	cr_assert_eq(count(&as, &f), 1);
	{
		struct kp_acl_filter del[2] = { any, any };
		bool skip[2] = { false, true };

		del[0].rtype = KP_RES_TOPIC;
		cr_assert_eq(acl_store_remove(&as, del, skip, 2, removed_fn, &rm, &changed), 0);
	}
	cr_assert(changed);
	cr_assert_eq(rm.per_filter[0], 2);
	cr_assert_eq(rm.per_filter[1], 0);
	cr_assert_eq(as.count, 1);
	acl_store_close(&as);
	cr_assert_eq(acl_store_open(&as, tdir_path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(as.count, 1);
	cr_assert_eq(as.entries[0].acl.rtype, KP_RES_GROUP);
	acl_store_close(&as);
}

Test(acl, index_and_super_users)
{
	struct acl_store as;
	struct kp_acl_index *ix;
	struct kp_session s;
	char err[256];
	bool changed;
	struct kp_acl add[] = {
		acl(KP_RES_TOPIC, "*", KP_PAT_LITERAL, "User:*", "*", KP_ACL_ALL, KP_PERM_DENY),
	};

	cr_assert_eq(acl_store_open(&as, tdir_path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(acl_store_add(&as, add, 1, &changed), 0);
	ix = acl_store_index(&as, " User:admin ; User:ops;;", false);
	cr_assert_not_null(ix);
	cr_assert_eq(ix->super_count, 2);
	kp_session_init(&s, 0, 0);
	cr_assert_not(kp_acl_allowed(ix, &s, KP_ACL_READ, KP_RES_TOPIC, S("t")));
	cr_assert(kp_session_set_principal(&s, "User:ops", 8));
	cr_assert(kp_acl_allowed(ix, &s, KP_ACL_READ, KP_RES_TOPIC, S("t")));
	kp_acl_index_unref(ix);
	acl_store_close(&as);
}

Test(acl, damaged_file_is_refused)
{
	struct acl_store as;
	char path[512], err[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tdir_path, ACL_FILE);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("acl 2 3 3 3 t\n", f);
	fclose(f);
	cr_assert_neq(acl_store_open(&as, tdir_path, err, sizeof(err)), 0);
	cr_assert(strstr(err, "damaged") != NULL, "%s", err);
}
