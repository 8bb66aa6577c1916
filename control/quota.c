/* SPDX-License-Identifier: Apache-2.0 */
/* The client quota store (control/quota.h): Kafka's controller rules for
 * AlterClientQuotas (ClientQuotaControlManager) and its image's filter for
 * DescribeClientQuotas (ClientQuotasImage.describe), over a small array of
 * entities. Every change rewrites <log.dir>/client-quotas atomically before
 * it is answered. @thread control */
#include "control/quota.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/assert.h"
#include "common/atomic_file.h"

enum quota_kind { QUOTA_LONG, QUOTA_DOUBLE, QUOTA_INT };

/* Each key's type (QuotaConfig) and whether it belongs to user/client-id
 * entities (else to ip entities). */
static const struct {
	enum quota_kind kind;
	bool user_client;
} quota_keys[KP_QUOTA_KEYS] = {
	[KP_QUOTA_CONNECTION_CREATION_RATE] = { QUOTA_INT, false },
	[KP_QUOTA_REQUEST_PERCENTAGE] = { QUOTA_DOUBLE, true },
	[KP_QUOTA_PRODUCER_BYTE_RATE] = { QUOTA_LONG, true },
	[KP_QUOTA_CONSUMER_BYTE_RATE] = { QUOTA_LONG, true },
	[KP_QUOTA_CONTROLLER_MUTATION_RATE] = { QUOTA_DOUBLE, true },
};

static bool
quota_str_is(struct kp_str s, const char *c)
{
	return s.len >= 0 && (size_t)s.len == strlen(c) && memcmp(s.ptr, c, (size_t)s.len) == 0;
}

/* ---- validation (ClientQuotaControlManager) ---- */

static bool
quota_ip_valid(struct kp_str ip)
{
	char text[QUOTA_NAME_BYTES_MAX + 1];
	struct addrinfo *res = NULL;
	uint8_t addr[16];

	if (ip.len < 0)
		return true;            /* the default ip entity */
	memcpy(text, ip.ptr, (size_t)ip.len);
	text[ip.len] = '\0';
	if (inet_pton(AF_INET, text, addr) == 1 || inet_pton(AF_INET6, text, addr) == 1)
		return true;
	/* InetAddress.getByName(): a resolvable host name is valid too. */
	if (getaddrinfo(text, NULL, NULL, &res) != 0)
		return false;
	freeaddrinfo(res);
	return true;
}

static int16_t
quota_entity_check(const struct kp_quota_entity *e, struct kp_str bad_type, char *msg,
		   size_t msg_size)
{
	bool ip = e->present & (1u << KP_QUOTA_IP);

	if (e->present == 0 && bad_type.len < 0) {
		snprintf(msg, msg_size, "Invalid empty client quota entity");
		return KP_ERR_INVALID_REQUEST;
	}
	if (bad_type.len >= 0) {
		snprintf(msg, msg_size, "Unhandled client quota entity type: %.*s",
			 (int)bad_type.len, bad_type.ptr);
		return KP_ERR_INVALID_REQUEST;
	}
	for (int t = 0; t < KP_QUOTA_TYPES; t++) {
		if (!(e->present & (1u << t)))
			continue;
		if (e->name[t].len == 0) {
			snprintf(msg, msg_size, "Empty %s not supported",
				 kp_quota_type_name((enum kp_quota_type)t));
			return KP_ERR_INVALID_REQUEST;
		}
		if (e->name[t].len > QUOTA_NAME_BYTES_MAX) {
			snprintf(msg, msg_size, "This broker takes %s names of at most %d bytes",
				 kp_quota_type_name((enum kp_quota_type)t), QUOTA_NAME_BYTES_MAX);
			return KP_ERR_INVALID_REQUEST;
		}
	}
	if (ip && e->present != (1u << KP_QUOTA_IP)) {
		/* Kafka's text, its missing space included. */
		snprintf(msg, msg_size, "Invalid quota entity combination, IP entity should"
			 "not be combined with User or ClientId");
		return KP_ERR_INVALID_REQUEST;
	}
	if (ip && !quota_ip_valid(e->name[KP_QUOTA_IP])) {
		snprintf(msg, msg_size, "%.*s is not a valid IP or resolvable host.",
			 (int)e->name[KP_QUOTA_IP].len, e->name[KP_QUOTA_IP].ptr);
		return KP_ERR_INVALID_REQUEST;
	}
	return KP_ERR_NONE;
}

/* The key's index for this entity, or -1 (Kafka: "Invalid configuration key"). */
static int
quota_key_find(struct kp_str key, bool ip)
{
	for (int k = 0; k < KP_QUOTA_KEYS; k++)
		if (quota_str_is(key, kp_quota_key_name((enum kp_quota_key)k)))
			return quota_keys[k].user_client == !ip ? k : -1;
	return -1;
}

static int16_t
quota_value_check(int k, struct kp_str key, double v, char *msg, size_t msg_size)
{
	static const double long_max = 9223372036854775807.0;   /* as Java compares */
	int n = (int)key.len;

	if (v <= 0.0) {
		snprintf(msg, msg_size, "Quota %.*s must be greater than 0", n, key.ptr);
		return KP_ERR_INVALID_REQUEST;
	}
	if (quota_keys[k].kind == QUOTA_DOUBLE)
		return KP_ERR_NONE;
	if (quota_keys[k].kind == QUOTA_INT && v > 2147483647.0) {
		snprintf(msg, msg_size, "Proposed value for %.*s is too large for an INT.", n,
			 key.ptr);
		return KP_ERR_INVALID_REQUEST;
	}
	if (quota_keys[k].kind == QUOTA_LONG && v > long_max) {
		snprintf(msg, msg_size, "Proposed value for %.*s is too large for a LONG.", n,
			 key.ptr);
		return KP_ERR_INVALID_REQUEST;
	}
	if (fabs(fmod(v, 1.0)) > 1e-6) {
		snprintf(msg, msg_size, "%.*s cannot be a fractional value.", n, key.ptr);
		return KP_ERR_INVALID_REQUEST;
	}
	return KP_ERR_NONE;
}

/* ---- the entity array ---- */

static bool
quota_entity_eq(const struct kp_quota_entity *a, const struct kp_quota_entity *b)
{
	if (a->present != b->present)
		return false;
	for (int t = 0; t < KP_QUOTA_TYPES; t++)
		if ((a->present & (1u << t)) && !kp_str_eq(a->name[t], b->name[t]))
			return false;
	return true;
}

static struct quota_entry *
quota_find(const struct quota_store *qs, const struct kp_quota_entity *e)
{
	for (int32_t i = 0; i < qs->count; i++)
		if (quota_entity_eq(&qs->entries[i].entity, e))
			return &qs->entries[i];
	return NULL;
}

static void
quota_entry_free(struct quota_entry *q)
{
	for (int t = 0; t < KP_QUOTA_TYPES; t++)
		free(q->names[t]);
}

/* A new entry for e (names copied), or NULL when out of memory. */
static struct quota_entry *
quota_add(struct quota_store *qs, const struct kp_quota_entity *e)
{
	struct quota_entry *q;

	if (qs->count == qs->cap) {
		int32_t cap = qs->cap == 0 ? 16 : qs->cap * 2;
		struct quota_entry *n = realloc(qs->entries, sizeof(*n) * (size_t)cap);

		if (n == NULL)
			return NULL;
		qs->entries = n;
		qs->cap = cap;
	}
	q = &qs->entries[qs->count];
	memset(q, 0, sizeof(*q));
	q->entity.present = e->present;
	for (int t = 0; t < KP_QUOTA_TYPES; t++) {
		q->entity.name[t] = (struct kp_str){ NULL, -1 };
		if (!(e->present & (1u << t)) || e->name[t].len < 0)
			continue;
		q->names[t] = strndup(e->name[t].ptr, (size_t)e->name[t].len);
		if (q->names[t] == NULL) {
			quota_entry_free(q);
			return NULL;
		}
		q->entity.name[t] = (struct kp_str){ q->names[t], e->name[t].len };
	}
	qs->count++;
	return q;
}

static void
quota_remove(struct quota_store *qs, struct quota_entry *q)
{
	quota_entry_free(q);
	*q = qs->entries[--qs->count];
	/* entity.name[] points at names[], which moved with the struct. */
}

/* ---- persistence ---- */

static void
quota_put_name(FILE *f, const struct kp_quota_entity *e, int t)
{
	if (!(e->present & (1u << t)))
		fputs(" .", f);
	else if (e->name[t].len < 0)
		fputs(" *", f);
	else {
		fputc(' ', f);
		for (int32_t i = 0; i < e->name[t].len; i++)
			fprintf(f, "%02x", (uint8_t)e->name[t].ptr[i]);
	}
}

static int
quota_save(const struct quota_store *qs)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (qs->dir[0] == '\0')
		return 0;       /* in memory only: cluster mode keeps quotas in ZooKeeper */
	f = open_memstream(&buf, &len);
	if (f == NULL)
		return -ENOMEM;
	fputs("# spillway client quotas 1\n", f);
	for (int32_t i = 0; i < qs->count; i++) {
		const struct quota_entry *q = &qs->entries[i];

		fprintf(f, "q");
		for (int t = 0; t < KP_QUOTA_TYPES; t++)
			quota_put_name(f, &q->entity, t);
		fprintf(f, " %u", q->values.set);
		for (int k = 0; k < KP_QUOTA_KEYS; k++)
			fprintf(f, " %a", q->values.value[k]);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	rc = atomic_file_write(qs->dir, QUOTA_FILE, buf, len);
	free(buf);
	return rc;
}

/* One hex name token into entity type t of e (buf: its bytes). */
static int
quota_parse_name(const char *tok, struct kp_quota_entity *e, int t, char *buf)
{
	size_t n = strlen(tok);

	if (strcmp(tok, ".") == 0)
		return 0;
	e->present |= (uint8_t)(1u << t);
	if (strcmp(tok, "*") == 0) {
		e->name[t] = (struct kp_str){ NULL, -1 };
		return 0;
	}
	if (n == 0 || n % 2 != 0 || n / 2 > QUOTA_NAME_BYTES_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(tok + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		buf[i] = (char)v;
	}
	e->name[t] = (struct kp_str){ buf, (int32_t)(n / 2) };
	return 0;
}

static int
quota_parse_line(struct quota_store *qs, char *line)
{
	static char names[KP_QUOTA_TYPES][QUOTA_NAME_BYTES_MAX];
	struct kp_quota_entity e = { 0 };
	struct kp_quota_values v = { 0 };
	struct quota_entry *q;
	char *save = NULL;
	char *tok = strtok_r(line, " \n", &save);
	unsigned set;

	if (tok == NULL || strcmp(tok, "q") != 0 || qs->count >= QUOTA_ENTITIES_MAX)
		return -EINVAL;
	for (int t = 0; t < KP_QUOTA_TYPES; t++) {
		tok = strtok_r(NULL, " \n", &save);
		if (tok == NULL || quota_parse_name(tok, &e, t, names[t]) != 0)
			return -EINVAL;
	}
	tok = strtok_r(NULL, " \n", &save);
	if (tok == NULL || sscanf(tok, "%u", &set) != 1 || set >= (1u << KP_QUOTA_KEYS))
		return -EINVAL;
	v.set = (uint8_t)set;
	for (int k = 0; k < KP_QUOTA_KEYS; k++) {
		char *end;

		tok = strtok_r(NULL, " \n", &save);
		if (tok == NULL)
			return -EINVAL;
		v.value[k] = strtod(tok, &end);
		if (*end != '\0')
			return -EINVAL;
	}
	if (e.present == 0 || v.set == 0 || quota_find(qs, &e) != NULL)
		return -EINVAL;
	q = quota_add(qs, &e);
	if (q == NULL)
		return -ENOMEM;
	q->values = v;
	return 0;
}

int
quota_store_open(struct quota_store *qs, const char *log_dir, char *err, size_t err_size)
{
	char path[PATH_MAX + 32];
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	FILE *f;

	memset(qs, 0, sizeof(*qs));
	if ((size_t)snprintf(qs->dir, sizeof(qs->dir), "%s", log_dir) >= sizeof(qs->dir)) {
		snprintf(err, err_size, "quotas: log dir path too long: %s", log_dir);
		return -ENAMETOOLONG;
	}
	snprintf(path, sizeof(path), "%s/%s", log_dir, QUOTA_FILE);
	f = fopen(path, "re");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		snprintf(err, err_size, "quotas: cannot read %s: %s", path, strerror(-rc));
		return rc;
	}
	while (rc == 0 && getline(&line, &cap, f) > 0) {
		if (line[0] != '#')
			rc = quota_parse_line(qs, line);
	}
	free(line);
	fclose(f);
	if (rc != 0) {
		snprintf(err, err_size, "quotas: %s is damaged (%s); fix or remove it", path,
			 strerror(-rc));
		quota_store_close(qs);
	}
	return rc;
}

void
quota_store_close(struct quota_store *qs)
{
	for (int32_t i = 0; i < qs->count; i++)
		quota_entry_free(&qs->entries[i]);
	free(qs->entries);
	qs->entries = NULL;
	qs->count = 0;
	qs->cap = 0;
}

/* ---- AlterClientQuotas ---- */

static bool
quota_values_eq(const struct kp_quota_values *a, const struct kp_quota_values *b)
{
	if (a->set != b->set)
		return false;
	for (int k = 0; k < KP_QUOTA_KEYS; k++)
		if ((a->set & (1u << k)) && a->value[k] != b->value[k])
			return false;
	return true;
}

/* The values e would have after ops, or an error with Kafka's message. */
static int16_t
quota_apply_ops(const struct kp_quota_entity *e, const struct kp_quota_op *ops, int32_t op_count,
		struct kp_quota_values *v, char *msg, size_t msg_size)
{
	bool ip = e->present & (1u << KP_QUOTA_IP);

	for (int32_t i = 0; i < op_count; i++) {
		int k = quota_key_find(ops[i].key, ip);
		int16_t rc;

		if (ops[i].remove) {
			/* Removing what is not set, or an unknown key, is a no-op. */
			if (k >= 0)
				v->set &= (uint8_t)~(1u << k);
			continue;
		}
		if (k < 0) {
			snprintf(msg, msg_size, "Invalid configuration key %.*s",
				 (int)ops[i].key.len, ops[i].key.ptr);
			return KP_ERR_INVALID_REQUEST;
		}
		rc = quota_value_check(k, ops[i].key, ops[i].value, msg, msg_size);
		if (rc != KP_ERR_NONE)
			return rc;
		v->set |= (uint8_t)(1u << k);
		v->value[k] = ops[i].value;
	}
	return KP_ERR_NONE;
}

int16_t
quota_store_alter(struct quota_store *qs, const struct kp_quota_entity *entity,
		  struct kp_str bad_type, const struct kp_quota_op *ops, int32_t op_count,
		  bool validate_only, bool *changed, char *msg, size_t msg_size)
{
	struct quota_entry *q;
	struct kp_quota_values v = { 0 };
	int16_t rc;

	*changed = false;
	rc = quota_entity_check(entity, bad_type, msg, msg_size);
	if (rc != KP_ERR_NONE)
		return rc;
	q = quota_find(qs, entity);
	if (q != NULL)
		v = q->values;
	rc = quota_apply_ops(entity, ops, op_count, &v, msg, msg_size);
	if (rc != KP_ERR_NONE || validate_only)
		return rc;
	if ((q == NULL && v.set == 0) || (q != NULL && quota_values_eq(&v, &q->values)))
		return KP_ERR_NONE;
	if (q == NULL && qs->count >= QUOTA_ENTITIES_MAX) {
		snprintf(msg, msg_size, "This broker keeps at most %d quota entities",
			 QUOTA_ENTITIES_MAX);
		return KP_ERR_INVALID_REQUEST;
	}
	if (q == NULL && (q = quota_add(qs, entity)) == NULL) {
		snprintf(msg, msg_size, "out of memory");
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	q->values = v;
	if (v.set == 0)
		quota_remove(qs, q);
	*changed = true;
	if (quota_save(qs) != 0) {
		/* Kept in memory; the next change retries the write. */
		snprintf(msg, msg_size, "The quotas could not be written to %s", qs->dir);
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	return KP_ERR_NONE;
}

/* ---- DescribeClientQuotas (ClientQuotasImage.describe) ---- */

/* The filter as exact[type] (name, len -1 for the default) and the types
 * that must merely be present. */
struct quota_match {
	uint8_t exact;
	uint8_t any;
	struct kp_str name[KP_QUOTA_TYPES];
};

static int
quota_type_find(struct kp_str type)
{
	for (int t = 0; t < KP_QUOTA_TYPES; t++)
		if (quota_str_is(type, kp_quota_type_name((enum kp_quota_type)t)))
			return t;
	return -1;
}

static int16_t
quota_match_one(struct quota_match *m, const struct kp_quota_filter *f, char *msg,
		size_t msg_size)
{
	int t = quota_type_find(f->entity_type);
	int n = f->entity_type.len < 0 ? 0 : (int)f->entity_type.len;

	if (f->entity_type.len <= 0) {
		snprintf(msg, msg_size, "Invalid empty entity type.");
		return KP_ERR_INVALID_REQUEST;
	}
	if (t >= 0 && ((m->exact | m->any) & (1u << t))) {
		snprintf(msg, msg_size, "Entity type %.*s cannot appear more than once in the "
			 "filter.", n, f->entity_type.ptr);
		return KP_ERR_INVALID_REQUEST;
	}
	if (t < 0) {
		snprintf(msg, msg_size, "Unsupported entity type %.*s", n, f->entity_type.ptr);
		return KP_ERR_UNSUPPORTED_VERSION;
	}
	if (f->match_type == 0 && f->match.len < 0) {
		snprintf(msg, msg_size, "Request specified MATCH_TYPE_EXACT, but set match string "
			 "to null.");
		return KP_ERR_INVALID_REQUEST;
	}
	if ((f->match_type == 1 || f->match_type == 2) && f->match.len >= 0) {
		snprintf(msg, msg_size, "Request specified %s, but also specified a match string.",
			 f->match_type == 1 ? "MATCH_TYPE_DEFAULT" : "MATCH_TYPE_SPECIFIED");
		return KP_ERR_INVALID_REQUEST;
	}
	if (f->match_type < 0 || f->match_type > 2) {
		snprintf(msg, msg_size, "Unknown match type %d", f->match_type);
		return KP_ERR_INVALID_REQUEST;
	}
	if (f->match_type == 2)
		m->any |= (uint8_t)(1u << t);
	else {
		m->exact |= (uint8_t)(1u << t);
		m->name[t] = f->match_type == 0 ? f->match : (struct kp_str){ NULL, -1 };
	}
	return KP_ERR_NONE;
}

static bool
quota_matches(const struct kp_quota_entity *e, const struct quota_match *m, bool strict)
{
	if (strict && __builtin_popcount(e->present) != __builtin_popcount(m->exact | m->any))
		return false;
	if ((e->present & (m->exact | m->any)) != (m->exact | m->any))
		return false;
	for (int t = 0; t < KP_QUOTA_TYPES; t++)
		if ((m->exact & (1u << t)) && !kp_str_eq(e->name[t], m->name[t]))
			return false;
	return true;
}

int16_t
quota_store_describe(const struct quota_store *qs, const struct kp_quota_filter *filters,
		     int32_t filter_count, bool strict, kp_quota_entry_fn *fn, void *arg,
		     char *msg, size_t msg_size)
{
	struct quota_match m = { 0 };
	uint8_t ip = 1u << KP_QUOTA_IP;

	for (int32_t i = 0; i < filter_count; i++) {
		int16_t rc = quota_match_one(&m, &filters[i], msg, msg_size);

		if (rc != KP_ERR_NONE)
			return rc;
	}
	if (((m.exact | m.any) & ip) && ((m.exact | m.any) & ~ip)) {
		snprintf(msg, msg_size, "Invalid entity filter component combination. IP filter "
			 "component should not be used with user or clientId filter component.");
		return KP_ERR_INVALID_REQUEST;
	}
	for (int32_t i = 0; i < qs->count; i++)
		if (quota_matches(&qs->entries[i].entity, &m, strict))
			fn(arg, &qs->entries[i].entity, &qs->entries[i].values);
	return KP_ERR_NONE;
}
