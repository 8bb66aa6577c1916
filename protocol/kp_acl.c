/* SPDX-License-Identifier: Apache-2.0 */
/* The ACL matcher (kp_acl.h): builds the sorted, immutable index control
 * puts into each metadata snapshot, and answers checks from it with binary
 * searches only: the literal name, each of its prefixes when the resource
 * type has PREFIXED ACLs, and the "*" literal. Safe on any thread holding
 * the snapshot; never allocates on a check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "protocol/kp.h"
#include "protocol/kp_acl.h"

struct kp_acl_denials kp_acl_denials;

static int
acl_str_cmp(struct kp_str a, struct kp_str b)
{
	int32_t n = a.len < b.len ? a.len : b.len;
	int r = n > 0 ? memcmp(a.ptr, b.ptr, (size_t)n) : 0;

	if (r != 0)
		return r;
	return (a.len > b.len) - (a.len < b.len);
}

int
kp_acl_cmp(const struct kp_acl *a, const struct kp_acl *b)
{
	int r;

	if (a->rtype != b->rtype)
		return a->rtype < b->rtype ? -1 : 1;
	r = acl_str_cmp(a->name, b->name);
	if (r != 0)
		return r;
	if (a->pattern != b->pattern)
		return a->pattern < b->pattern ? -1 : 1;
	r = acl_str_cmp(a->principal, b->principal);
	if (r == 0)
		r = acl_str_cmp(a->host, b->host);
	if (r == 0 && a->op != b->op)
		r = a->op < b->op ? -1 : 1;
	if (r == 0 && a->perm != b->perm)
		r = a->perm < b->perm ? -1 : 1;
	return r;
}

static int
acl_qsort_cmp(const void *a, const void *b)
{
	return kp_acl_cmp(a, b);
}

static struct kp_str
acl_put(char **pos, struct kp_str s)
{
	struct kp_str r = { *pos, s.len < 0 ? 0 : s.len };

	if (r.len > 0)
		memcpy(*pos, s.ptr, (size_t)r.len);
	*pos += r.len;
	return r;
}

struct kp_acl_index *
kp_acl_index_build(const struct kp_acl *acls, int32_t count, const struct kp_str *supers,
		   int32_t super_count, bool allow_if_no_acl)
{
	size_t strings = 0;
	struct kp_acl_index *ix;
	struct kp_acl *out;
	struct kp_str *sup;
	char *pos;

	ASSERT(count >= 0 && super_count >= 0);
	for (int32_t i = 0; i < count; i++)
		strings += (size_t)acls[i].name.len + (size_t)acls[i].principal.len +
			   (size_t)acls[i].host.len;
	for (int32_t i = 0; i < super_count; i++)
		strings += (size_t)supers[i].len;
	ix = calloc(1, sizeof(*ix) + (size_t)count * sizeof(*out) +
			       (size_t)super_count * sizeof(*sup) + strings + 1);
	if (ix == NULL)
		return NULL;
	out = (struct kp_acl *)(ix + 1);
	sup = (struct kp_str *)(out + count);
	pos = (char *)(sup + super_count);
	for (int32_t i = 0; i < count; i++) {
		out[i] = acls[i];
		out[i].name = acl_put(&pos, acls[i].name);
		out[i].principal = acl_put(&pos, acls[i].principal);
		out[i].host = acl_put(&pos, acls[i].host);
		if (out[i].pattern == KP_PAT_PREFIXED && out[i].rtype >= 0 &&
		    out[i].rtype < KP_RES_TYPES) {
			uint32_t k = (uint32_t)out[i].name.len;

			if (k >= KP_ACL_PREFIX_LENS)
				k = 0;
			ix->prefixed_types |= (uint8_t)(1u << out[i].rtype);
			ix->prefix_lens[out[i].rtype][k / 64] |= 1ull << (k % 64);
		}
	}
	for (int32_t i = 0; i < super_count; i++)
		sup[i] = acl_put(&pos, supers[i]);
	qsort(out, (size_t)count, sizeof(*out), acl_qsort_cmp);
	ix->refs = 1;
	ix->allow_if_no_acl = allow_if_no_acl;
	ix->super_count = super_count;
	ix->supers = sup;
	ix->count = count;
	ix->acls = out;
	ASSERT(pos == (char *)(sup + super_count) + strings);
	return ix;
}

void
kp_acl_index_ref(struct kp_acl_index *ix)
{
	ASSERT(ix->refs > 0);
	ix->refs++;
}

void
kp_acl_index_unref(struct kp_acl_index *ix)
{
	if (ix == NULL)
		return;
	ASSERT(ix->refs > 0);
	if (--ix->refs == 0)
		free(ix);
}

/* The first ACL of (rtype, name), or ix->count when there is none. */
static int32_t
acl_lower(const struct kp_acl_index *ix, int rtype, struct kp_str name)
{
	int32_t lo = 0;
	int32_t hi = ix->count;

	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;
		const struct kp_acl *a = &ix->acls[mid];
		int r = a->rtype != rtype ? (a->rtype < rtype ? -1 : 1)
					  : acl_str_cmp(a->name, name);

		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* What a scan found: Kafka's MatchingRuleBuilder. */
struct acl_rule {
	bool has_acls;          /* the resource has ACLs (of anyone) */
	bool allow;
	bool deny;
};

static bool
acl_principal_matches(struct kp_str acl, struct kp_str principal)
{
	return kp_str_eq(acl, principal) || kp_str_eq(acl, kp_str_c("User:*"));
}

/* Kafka's findResult for one ACL: its permission when it applies. */
static void
acl_apply(const struct kp_acl *a, struct kp_str principal, struct kp_str host, int op,
	  struct acl_rule *rule)
{
	rule->has_acls = true;
	if (!acl_principal_matches(a->principal, principal))
		return;
	if (!kp_str_eq(a->host, kp_str_c("*")) && !kp_str_eq(a->host, host))
		return;
	if (a->op != KP_ACL_ALL && a->op != op) {
		/* READ, WRITE, DELETE, ALTER imply DESCRIBE, ALTER_CONFIGS implies
		 * DESCRIBE_CONFIGS; only for ALLOW. */
		if (a->perm != KP_PERM_ALLOW)
			return;
		if (op == KP_ACL_DESCRIBE) {
			if (a->op != KP_ACL_READ && a->op != KP_ACL_WRITE &&
			    a->op != KP_ACL_DELETE && a->op != KP_ACL_ALTER)
				return;
		} else if (op != KP_ACL_DESCRIBE_CONFIGS || a->op != KP_ACL_ALTER_CONFIGS) {
			return;
		}
	}
	if (a->perm == KP_PERM_DENY)
		rule->deny = true;
	else if (a->perm == KP_PERM_ALLOW)
		rule->allow = true;
}

/* Every ACL of (rtype, name); only the PREFIXED ones unless all. */
static void
acl_scan(const struct kp_acl_index *ix, int rtype, struct kp_str name, int pattern_only,
	 struct kp_str principal, struct kp_str host, int op, struct acl_rule *rule)
{
	for (int32_t i = acl_lower(ix, rtype, name); i < ix->count && !rule->deny; i++) {
		const struct kp_acl *a = &ix->acls[i];

		if (a->rtype != rtype || !kp_str_eq(a->name, name))
			break;
		if (pattern_only == 0 || a->pattern == pattern_only)
			acl_apply(a, principal, host, op, rule);
	}
}

/* The PREFIXED ACLs on proper prefixes of name: only the lengths some
 * PREFIXED name of the type has. */
static void
acl_scan_prefixes(const struct kp_acl_index *ix, int rtype, struct kp_str name,
		  struct kp_str principal, struct kp_str host, int op, struct acl_rule *rule)
{
	const uint64_t *lens = ix->prefix_lens[rtype];
	bool long_ones = (lens[0] & 1) != 0;

	for (int32_t k = name.len - 1; k > 0 && !rule->deny; k--) {
		if (k < KP_ACL_PREFIX_LENS ? !(lens[k / 64] & (1ull << (k % 64))) : !long_ones)
			continue;
		acl_scan(ix, rtype, (struct kp_str){ name.ptr, k }, KP_PAT_PREFIXED, principal,
			 host, op, rule);
	}
}

static struct kp_str
acl_principal(const struct kp_session *s)
{
	return s != NULL ? (struct kp_str){ s->principal, s->principal_len }
			 : kp_str_c(KP_PRINCIPAL_ANONYMOUS);
}

static bool
acl_super(const struct kp_acl_index *ix, struct kp_str principal)
{
	for (int32_t i = 0; i < ix->super_count; i++)
		if (kp_str_eq(ix->supers[i], principal))
			return true;
	return false;
}

bool
kp_acl_allowed(const struct kp_acl_index *ix, const struct kp_session *s, int op, int rtype,
	       struct kp_str name)
{
	struct acl_rule rule = { false, false, false };
	struct kp_str principal, host;

	if (ix == NULL)
		return true;            /* no authorizer: nothing more on the hot path */
	principal = acl_principal(s);
	host = kp_str_c(s != NULL ? s->host : "");
	if (acl_super(ix, principal))
		return true;
	if (name.len < 0)
		name.len = 0;
	acl_scan(ix, rtype, name, 0, principal, host, op, &rule);
	if (rtype >= 0 && rtype < KP_RES_TYPES && (ix->prefixed_types & (1u << rtype)))
		acl_scan_prefixes(ix, rtype, name, principal, host, op, &rule);
	if (!rule.deny && !kp_str_eq(name, kp_str_c("*")))
		acl_scan(ix, rtype, kp_str_c("*"), KP_PAT_LITERAL, principal, host, op, &rule);
	if (rule.deny)
		return false;
	if (rule.allow)
		return true;
	return !rule.has_acls && ix->allow_if_no_acl;
}

/* Whether a DENY of the principal for op covers the ALLOW's pattern (the
 * same literal, or a PREFIXED DENY on a prefix of its name). */
static bool
acl_prefix_denied(const struct kp_acl_index *ix, const struct kp_acl *allow, int op,
		  struct kp_str principal, struct kp_str host)
{
	for (int32_t i = 0; i < ix->count; i++) {
		const struct kp_acl *d = &ix->acls[i];
		struct acl_rule rule = { false, false, false };

		if (d->rtype != allow->rtype || d->perm != KP_PERM_DENY)
			continue;
		if (d->op != op && d->op != KP_ACL_ALL)
			continue;
		acl_apply(d, principal, host, op, &rule);
		if (!rule.deny)
			continue;
		if (d->pattern == KP_PAT_LITERAL && allow->pattern == KP_PAT_LITERAL &&
		    kp_str_eq(d->name, allow->name))
			return true;
		if (d->pattern == KP_PAT_PREFIXED && d->name.len <= allow->name.len &&
		    memcmp(d->name.ptr, allow->name.ptr, (size_t)d->name.len) == 0)
			return true;
	}
	return false;
}

/* Kafka's Authorizer.authorizeByResourceType: allowed on a hard-coded
 * name, else some ALLOW (op or ALL, no implication) of the principal whose
 * pattern no DENY covers; a DENY on the "*" literal denies all. Scans the
 * type's ACLs: only InitProducerId asks, once per producer. */
bool
kp_acl_allowed_any(const struct kp_acl_index *ix, const struct kp_session *s, int op, int rtype)
{
	struct kp_str principal = acl_principal(s);
	struct kp_str host = kp_str_c(s != NULL ? s->host : "");
	bool wildcard_allow = false;

	if (ix == NULL || kp_acl_allowed(ix, s, op, rtype, kp_str_c("hardcode")))
		return true;
	for (int32_t i = acl_lower(ix, rtype, kp_str_c("")); i < ix->count; i++) {
		const struct kp_acl *a = &ix->acls[i];
		struct acl_rule rule = { false, false, false };

		if (a->rtype != rtype)
			break;
		if (a->op != op && a->op != KP_ACL_ALL)
			continue;
		acl_apply(a, principal, host, op, &rule);
		if (rule.deny && a->pattern == KP_PAT_LITERAL && kp_str_eq(a->name, kp_str_c("*")))
			return false;
		if (rule.allow && a->pattern == KP_PAT_LITERAL && kp_str_eq(a->name, kp_str_c("*")))
			wildcard_allow = true;
	}
	if (wildcard_allow)
		return true;
	for (int32_t i = acl_lower(ix, rtype, kp_str_c("")); i < ix->count; i++) {
		const struct kp_acl *a = &ix->acls[i];
		struct acl_rule rule = { false, false, false };

		if (a->rtype != rtype)
			break;
		if (a->perm != KP_PERM_ALLOW || (a->op != op && a->op != KP_ACL_ALL))
			continue;
		acl_apply(a, principal, host, op, &rule);
		if (rule.allow && !acl_prefix_denied(ix, a, op, principal, host))
			return true;
	}
	return false;
}

int32_t
kp_acl_ops(const struct kp_acl_index *ix, const struct kp_session *s, int rtype,
	   struct kp_str name, int32_t mask)
{
	int32_t r = 0;

	for (int op = KP_ACL_READ; op < KP_ACL_OPS; op++)
		if ((mask & (1 << op)) && kp_acl_allowed(ix, s, op, rtype, name))
			r |= 1 << op;
	return r;
}

static bool
acl_filter_str(struct kp_str f, struct kp_str v)
{
	return f.len < 0 || kp_str_eq(f, v);
}

bool
kp_acl_filter_matches(const struct kp_acl_filter *f, const struct kp_acl *acl)
{
	if (f->rtype != KP_RES_ANY && f->rtype != acl->rtype)
		return false;
	if (f->pattern != KP_PAT_ANY && f->pattern != KP_PAT_MATCH && f->pattern != acl->pattern)
		return false;
	if (f->name.len >= 0) {
		if (f->pattern == KP_PAT_ANY || f->pattern == acl->pattern) {
			if (!kp_str_eq(f->name, acl->name))
				return false;
		} else if (acl->pattern == KP_PAT_LITERAL) {
			if (!kp_str_eq(f->name, acl->name) &&
			    !kp_str_eq(acl->name, kp_str_c("*")))
				return false;
		} else if (acl->name.len > f->name.len ||
			   memcmp(f->name.ptr, acl->name.ptr, (size_t)acl->name.len) != 0) {
			return false;
		}
	}
	return acl_filter_str(f->principal, acl->principal) && acl_filter_str(f->host, acl->host) &&
	       (f->op == KP_ACL_OP_ANY || f->op == acl->op) &&
	       (f->perm == KP_PERM_ANY || f->perm == acl->perm);
}

static const char *
acl_name(const char *const *names, int n, int code)
{
	return code >= 0 && code < n && names[code] != NULL ? names[code] : "UNKNOWN";
}

const char *
kp_acl_op_name(int op)
{
	static const char *const names[] = {
		"UNKNOWN", "ANY", "ALL", "READ", "WRITE", "CREATE", "DELETE", "ALTER",
		"DESCRIBE", "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS",
		"IDEMPOTENT_WRITE", "CREATE_TOKENS", "DESCRIBE_TOKENS",
	};
	return acl_name(names, (int)(sizeof(names) / sizeof(names[0])), op);
}

const char *
kp_acl_rtype_name(int rtype)
{
	static const char *const names[] = {
		"UNKNOWN", "ANY", "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID",
		"DELEGATION_TOKEN", "USER",
	};
	return acl_name(names, (int)(sizeof(names) / sizeof(names[0])), rtype);
}

const char *
kp_acl_pattern_name(int pattern)
{
	static const char *const names[] = { "UNKNOWN", "ANY", "MATCH", "LITERAL", "PREFIXED" };
	return acl_name(names, (int)(sizeof(names) / sizeof(names[0])), pattern);
}

const char *
kp_acl_perm_name(int perm)
{
	static const char *const names[] = { "UNKNOWN", "ANY", "DENY", "ALLOW" };
	return acl_name(names, (int)(sizeof(names) / sizeof(names[0])), perm);
}

bool
kp_authorize(const struct kp_env *env, int op, int rtype, struct kp_str name)
{
	if (kp_acl_allowed(env->md->acl, env->session, op, rtype, name))
		return true;
	kp_acl_denied_count(op, rtype);
	return false;
}

void
kp_acl_denied_count(int op, int rtype)
{
	if (op < 0 || op >= KP_ACL_OPS || rtype < 0 || rtype >= KP_RES_TYPES)
		return;
	/* Relaxed: a counter read by the metrics page only; denials are the
	 * cold path, so cores share the table. */
	__atomic_fetch_add(&kp_acl_denials.count[rtype][op], 1, __ATOMIC_RELAXED);
}

int16_t
kp_acl_validate(const struct kp_acl *acl, char *msg, size_t msg_size)
{
	const char *what = NULL;

	if (acl->rtype <= KP_RES_ANY || acl->rtype >= KP_RES_TYPES) {
		snprintf(msg, msg_size, "Invalid resourceType %s", kp_acl_rtype_name(acl->rtype));
		what = "resourceType";
	} else if (acl->pattern != KP_PAT_LITERAL && acl->pattern != KP_PAT_PREFIXED) {
		snprintf(msg, msg_size, "Invalid patternType %s",
			 kp_acl_pattern_name(acl->pattern));
		what = "patternType";
	} else if (acl->op <= KP_ACL_OP_ANY || acl->op >= KP_ACL_OPS) {
		snprintf(msg, msg_size, "Invalid operation %s", kp_acl_op_name(acl->op));
		what = "operation";
	} else if (acl->perm != KP_PERM_DENY && acl->perm != KP_PERM_ALLOW) {
		snprintf(msg, msg_size, "Invalid permissionType %s", kp_acl_perm_name(acl->perm));
		what = "permissionType";
	} else if (acl->name.len <= 0) {
		snprintf(msg, msg_size, "Resource name should not be empty");
		what = "name";
	} else if (acl->name.len > KP_ACL_STRING_BYTES_MAX ||
		   acl->principal.len > KP_ACL_STRING_BYTES_MAX ||
		   acl->host.len > KP_ACL_STRING_BYTES_MAX) {
		snprintf(msg, msg_size, "ACL strings are limited to %d bytes",
			 KP_ACL_STRING_BYTES_MAX);
		what = "length";
	} else if (acl->principal.len < 0 || memchr(acl->principal.ptr, ':',
						   (size_t)acl->principal.len) == NULL) {
		/* SecurityUtils.parseKafkaPrincipal needs "Type:name". */
		snprintf(msg, msg_size, "Could not parse principal from `%.*s` "
			 "(no colon is present separating the principal type from name)",
			 acl->principal.len < 0 ? 0 : (int)acl->principal.len,
			 acl->principal.ptr);
		what = "principal";
	} else if (acl->host.len < 0) {
		snprintf(msg, msg_size, "Invalid null host");
		what = "host";
	}
	return what == NULL ? KP_ERR_NONE : KP_ERR_INVALID_REQUEST;
}

int16_t
kp_acl_config_check(const struct kp_env *env, int op, int8_t config_type, struct kp_str name,
		    const char **msg)
{
	/* ConfigResource.Type: TOPIC 2, BROKER 4, BROKER_LOGGER 8. */
	if (config_type == 2) {
		if (kp_authorize(env, op, KP_RES_TOPIC, name))
			return KP_ERR_NONE;
		*msg = "Topic authorization failed.";
		return KP_ERR_TOPIC_AUTHORIZATION_FAILED;
	}
	if (config_type == 4 || config_type == 8) {
		if (kp_authorize(env, op, KP_RES_CLUSTER, kp_str_c(KP_ACL_CLUSTER_NAME)))
			return KP_ERR_NONE;
		*msg = "Cluster authorization failed.";
		return KP_ERR_CLUSTER_AUTHORIZATION_FAILED;
	}
	return KP_ERR_NONE;
}
