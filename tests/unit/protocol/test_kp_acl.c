/* SPDX-License-Identifier: Apache-2.0 */
/* Tests protocol/kp_acl.c: StandardAuthorizer's decisions from an index
 * built in the test (DENY beats ALLOW, LITERAL / PREFIXED / "*" patterns,
 * User:* and host matching, implied DESCRIBE and DESCRIBE_CONFIGS, super
 * users, allow.everyone.if.no.acl.found), authorizeByResourceType, the
 * authorized-operation sets and Kafka's filter matching. Sessions are
 * made with kp_session_init / kp_session_set_principal as the cores do. */
#include <criterion/criterion.h>
#include <string.h>

#include "protocol/kp_acl.h"

#define S(s) kp_str_c(s)

static struct kp_acl
acl(int rtype, const char *name, int pattern, const char *principal, const char *host, int op,
    int perm)
{
	return (struct kp_acl){ (int8_t)rtype, (int8_t)pattern, (int8_t)op, (int8_t)perm,
				S(name), S(principal), S(host) };
}

static struct kp_session
session(const char *principal, const char *host)
{
	struct kp_session s;

	kp_session_init(&s, 0, 0);
	cr_assert(kp_session_set_principal(&s, principal, strlen(principal)));
	strcpy(s.host, host);
	return s;
}

static struct kp_acl_index *
index_of(const struct kp_acl *acls, int n, bool allow_if_none)
{
	struct kp_str supers[] = { S("User:admin") };
	struct kp_acl_index *ix = kp_acl_index_build(acls, n, supers, 1, allow_if_none);

	cr_assert_not_null(ix);
	return ix;
}

Test(kp_acl, no_authorizer_allows_everything)
{
	struct kp_session s = session("User:bob", "10.0.0.1");

	cr_assert(kp_acl_allowed(NULL, &s, KP_ACL_WRITE, KP_RES_TOPIC, S("t")));
	cr_assert_eq(kp_acl_ops(NULL, &s, KP_RES_TOPIC, S("t"), KP_ACL_TOPIC_OPS),
		     KP_ACL_TOPIC_OPS);
}

Test(kp_acl, literal_allow_and_no_acl_found)
{
	struct kp_acl a[] = {
		acl(KP_RES_TOPIC, "t", KP_PAT_LITERAL, "User:bob", "*", KP_ACL_READ, KP_PERM_ALLOW),
	};
	struct kp_acl_index *ix = index_of(a, 1, false);
	struct kp_session bob = session("User:bob", "10.0.0.1");
	struct kp_session eve = session("User:eve", "10.0.0.1");

	cr_assert(kp_acl_allowed(ix, &bob, KP_ACL_READ, KP_RES_TOPIC, S("t")));
	cr_assert_not(kp_acl_allowed(ix, &bob, KP_ACL_WRITE, KP_RES_TOPIC, S("t")));
	cr_assert_not(kp_acl_allowed(ix, &eve, KP_ACL_READ, KP_RES_TOPIC, S("t")));
	/* Literal "t" does not cover "tt", nor a GROUP named "t". */
	cr_assert_not(kp_acl_allowed(ix, &bob, KP_ACL_READ, KP_RES_TOPIC, S("tt")));
	cr_assert_not(kp_acl_allowed(ix, &bob, KP_ACL_READ, KP_RES_GROUP, S("t")));
	kp_acl_index_unref(ix);
	/* allow.everyone.if.no.acl.found: a resource with no ACL at all is
	 * open, one with ACLs of someone else is not. */
	ix = index_of(a, 1, true);
	cr_assert(kp_acl_allowed(ix, &eve, KP_ACL_WRITE, KP_RES_TOPIC, S("other")));
	cr_assert_not(kp_acl_allowed(ix, &eve, KP_ACL_READ, KP_RES_TOPIC, S("t")));
	kp_acl_index_unref(ix);
}

Test(kp_acl, deny_beats_allow)
{
	struct kp_acl a[] = {
		acl(KP_RES_TOPIC, "*", KP_PAT_LITERAL, "User:*", "*", KP_ACL_ALL, KP_PERM_ALLOW),
		acl(KP_RES_TOPIC, "sec", KP_PAT_PREFIXED, "User:bob", "*", KP_ACL_READ,
		    KP_PERM_DENY),
	};
	struct kp_acl_index *ix = index_of(a, 2, false);
	struct kp_session bob = session("User:bob", "10.0.0.1");

	cr_assert(kp_acl_allowed(ix, &bob, KP_ACL_READ, KP_RES_TOPIC, S("public")));
	cr_assert_not(kp_acl_allowed(ix, &bob, KP_ACL_READ, KP_RES_TOPIC, S("secret")));
	cr_assert_not(kp_acl_allowed(ix, &bob, KP_ACL_READ, KP_RES_TOPIC, S("sec")));
	/* A DENY of READ does not deny DESCRIBE (no implication for DENY). */
	cr_assert(kp_acl_allowed(ix, &bob, KP_ACL_DESCRIBE, KP_RES_TOPIC, S("secret")));
	cr_assert(kp_acl_allowed(ix, &bob, KP_ACL_WRITE, KP_RES_TOPIC, S("secret")));
	kp_acl_index_unref(ix);
}

Test(kp_acl, prefixed_patterns)
{
	struct kp_acl a[] = {
		acl(KP_RES_TOPIC, "app.", KP_PAT_PREFIXED, "User:bob", "*", KP_ACL_WRITE,
		    KP_PERM_ALLOW),
		acl(KP_RES_TOPIC, "app.a", KP_PAT_LITERAL, "User:eve", "*", KP_ACL_WRITE,
		    KP_PERM_ALLOW),
		acl(KP_RES_TOPIC, "ap", KP_PAT_LITERAL, "User:bob", "*", KP_ACL_READ,
		    KP_PERM_ALLOW),
	};
	struct kp_acl_index *ix = index_of(a, 3, false);
	struct kp_session bob = session("User:bob", "h");

	cr_assert(kp_acl_allowed(ix, &bob, KP_ACL_WRITE, KP_RES_TOPIC, S("app.a")));
	cr_assert(kp_acl_allowed(ix, &bob, KP_ACL_WRITE, KP_RES_TOPIC, S("app.")));
	cr_assert(kp_acl_allowed(ix, &bob, KP_ACL_WRITE, KP_RES_TOPIC, S("app.zzz")));
	cr_assert_not(kp_acl_allowed(ix, &bob, KP_ACL_WRITE, KP_RES_TOPIC, S("app")));
	/* The literal "ap" is not a prefix pattern. */
	cr_assert_not(kp_acl_allowed(ix, &bob, KP_ACL_READ, KP_RES_TOPIC, S("app.a")));
	cr_assert(kp_acl_allowed(ix, &bob, KP_ACL_READ, KP_RES_TOPIC, S("ap")));
	kp_acl_index_unref(ix);
}

Test(kp_acl, hosts_and_principal_wildcard)
{
	struct kp_acl a[] = {
		acl(KP_RES_TOPIC, "t", KP_PAT_LITERAL, "User:*", "127.0.0.1", KP_ACL_READ,
		    KP_PERM_ALLOW),
	};
	struct kp_acl_index *ix = index_of(a, 1, false);
	struct kp_session local = session("User:ANONYMOUS", "127.0.0.1");
	struct kp_session remote = session("User:ANONYMOUS", "10.1.1.1");

	cr_assert(kp_acl_allowed(ix, &local, KP_ACL_READ, KP_RES_TOPIC, S("t")));
	cr_assert_not(kp_acl_allowed(ix, &remote, KP_ACL_READ, KP_RES_TOPIC, S("t")));
	/* No session: User:ANONYMOUS without a host. */
	cr_assert_not(kp_acl_allowed(ix, NULL, KP_ACL_READ, KP_RES_TOPIC, S("t")));
	kp_acl_index_unref(ix);
}

Test(kp_acl, implied_operations_and_ops_mask)
{
	struct kp_acl a[] = {
		acl(KP_RES_TOPIC, "t", KP_PAT_LITERAL, "User:bob", "*", KP_ACL_WRITE,
		    KP_PERM_ALLOW),
		acl(KP_RES_TOPIC, "t", KP_PAT_LITERAL, "User:bob", "*", KP_ACL_ALTER_CONFIGS,
		    KP_PERM_ALLOW),
	};
	struct kp_acl_index *ix = index_of(a, 2, false);
	struct kp_session bob = session("User:bob", "h");
	int32_t want = (1 << KP_ACL_WRITE) | (1 << KP_ACL_DESCRIBE) |
		       (1 << KP_ACL_ALTER_CONFIGS) | (1 << KP_ACL_DESCRIBE_CONFIGS);

	cr_assert_eq(kp_acl_ops(ix, &bob, KP_RES_TOPIC, S("t"), KP_ACL_TOPIC_OPS), want);
	kp_acl_index_unref(ix);
}

Test(kp_acl, super_users_bypass)
{
	struct kp_acl a[] = {
		acl(KP_RES_TOPIC, "*", KP_PAT_LITERAL, "User:*", "*", KP_ACL_ALL, KP_PERM_DENY),
	};
	struct kp_acl_index *ix = index_of(a, 1, false);
	struct kp_session admin = session("User:admin", "h");
	struct kp_session bob = session("User:bob", "h");

	cr_assert(kp_acl_allowed(ix, &admin, KP_ACL_DELETE, KP_RES_TOPIC, S("t")));
	cr_assert_not(kp_acl_allowed(ix, &bob, KP_ACL_DESCRIBE, KP_RES_TOPIC, S("t")));
	kp_acl_index_unref(ix);
}

Test(kp_acl, authorize_by_resource_type)
{
	struct kp_acl a[] = {
		acl(KP_RES_TOPIC, "x", KP_PAT_PREFIXED, "User:bob", "*", KP_ACL_WRITE,
		    KP_PERM_ALLOW),
		acl(KP_RES_TOPIC, "xy", KP_PAT_LITERAL, "User:eve", "*", KP_ACL_WRITE,
		    KP_PERM_ALLOW),
		acl(KP_RES_TOPIC, "x", KP_PAT_PREFIXED, "User:eve", "*", KP_ACL_WRITE,
		    KP_PERM_DENY),
	};
	struct kp_acl_index *ix = index_of(a, 3, false);
	struct kp_session bob = session("User:bob", "h");
	struct kp_session eve = session("User:eve", "h");
	struct kp_session ann = session("User:ann", "h");

	cr_assert(kp_acl_allowed_any(ix, &bob, KP_ACL_WRITE, KP_RES_TOPIC));
	cr_assert_not(kp_acl_allowed_any(ix, &eve, KP_ACL_WRITE, KP_RES_TOPIC));
	cr_assert_not(kp_acl_allowed_any(ix, &ann, KP_ACL_WRITE, KP_RES_TOPIC));
	kp_acl_index_unref(ix);
}

Test(kp_acl, filter_matching)
{
	struct kp_acl lit = acl(KP_RES_TOPIC, "t", KP_PAT_LITERAL, "User:bob", "*", KP_ACL_READ,
				KP_PERM_ALLOW);
	struct kp_acl star = acl(KP_RES_TOPIC, "*", KP_PAT_LITERAL, "User:bob", "*",
				 KP_ACL_READ, KP_PERM_ALLOW);
	struct kp_acl pre = acl(KP_RES_TOPIC, "t", KP_PAT_PREFIXED, "User:bob", "*",
				KP_ACL_READ, KP_PERM_ALLOW);
	struct kp_acl_filter any = { KP_RES_ANY, KP_PAT_ANY, KP_ACL_OP_ANY, KP_PERM_ANY,
				     { NULL, -1 }, { NULL, -1 }, { NULL, -1 } };
	struct kp_acl_filter f = any;

	cr_assert(kp_acl_filter_matches(&any, &lit));
	f.name = S("tx");
	cr_assert_not(kp_acl_filter_matches(&f, &pre));    /* ANY: exact name */
	f.pattern = KP_PAT_MATCH;                           /* MATCH: what applies to tx */
	cr_assert(kp_acl_filter_matches(&f, &pre));
	cr_assert(kp_acl_filter_matches(&f, &star));
	cr_assert_not(kp_acl_filter_matches(&f, &lit));
	f.pattern = KP_PAT_LITERAL;
	f.name = S("t");
	cr_assert(kp_acl_filter_matches(&f, &lit));
	cr_assert_not(kp_acl_filter_matches(&f, &pre));
	f = any;
	f.principal = S("User:eve");
	cr_assert_not(kp_acl_filter_matches(&f, &lit));
	f = any;
	f.op = KP_ACL_WRITE;
	cr_assert_not(kp_acl_filter_matches(&f, &lit));
}
