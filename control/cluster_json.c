/* SPDX-License-Identifier: Apache-2.0 */
/* The JSON of Kafka's ZooKeeper-mode znodes (broker registration,
 * controller, partition state, topic assignment, topic config, producer id
 * block), with jansson. Decoders are strict about types and bound every
 * count by what the view can hold; an unreadable znode is an error. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "common/uuid.h"
#include "control/cluster_int.h"
#include "protocol/kp_session.h"

static const char *const sec_names[] = { "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL" };

static char *
dump(json_t *j)
{
	char *s;

	ASSERT(j != NULL);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	ASSERT(s != NULL);
	return s;
}

static char *
ms_text(void)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, cluster_now_ms());
	return strdup(buf);
}

char *
cj_broker_encode(const struct cluster *cl)
{
	json_t *j = json_object(), *map = json_object(), *eps = json_array();
	char *ts = ms_text();

	for (int32_t i = 0; i < cl->endpoint_count; i++) {
		const struct md_cluster_endpoint *e = &cl->endpoints[i];
		bool v6 = strchr(e->host, ':') != NULL;
		char buf[512];

		ASSERT(e->protocol < 4);
		snprintf(buf, sizeof(buf), "%s://%s%s%s:%d", e->listener, v6 ? "[" : "", e->host,
			 v6 ? "]" : "", e->port);
		json_array_append_new(eps, json_string(buf));
		json_object_set_new(map, e->listener, json_string(sec_names[e->protocol]));
	}
	json_object_set_new(j, "features", json_object());
	json_object_set_new(j, "listener_security_protocol_map", map);
	json_object_set_new(j, "endpoints", eps);
	json_object_set_new(j, "jmx_port", json_integer(-1));
	json_object_set_new(j, "port", json_integer(cl->endpoint_count > 0 ?
						    cl->endpoints[0].port : -1));
	json_object_set_new(j, "host", json_string(cl->endpoint_count > 0 ?
						   cl->endpoints[0].host : ""));
	json_object_set_new(j, "version", json_integer(5));
	json_object_set_new(j, "timestamp", json_string(ts));
	if (cl->rack != NULL)
		json_object_set_new(j, "rack", json_string(cl->rack));
	free(ts);
	return dump(j);
}

static int
sec_parse(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, sec_names[i]) == 0)
			return i;
	return -1;
}

/* "LISTENER://host:port" or "LISTENER://[v6]:port". */
static int
endpoint_parse(const char *text, json_t *map, struct md_cluster_endpoint *e)
{
	const char *sep = strstr(text, "://"), *host, *colon;
	json_t *proto;
	char *end;
	long port;
	size_t host_len;

	if (sep == NULL || sep == text)
		return -1;
	host = sep + 3;
	colon = strrchr(host, ':');
	if (colon == NULL)
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 0 || port > 65535)
		return -1;
	host_len = (size_t)(colon - host);
	if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
		host++;
		host_len -= 2;
	}
	e->listener = strndup(text, (size_t)(sep - text));
	e->host = strndup(host, host_len);
	e->port = (int32_t)port;
	proto = json_object_get(map, e->listener);
	e->protocol = KP_SEC_PLAINTEXT;
	if (json_is_string(proto) && sec_parse(json_string_value(proto)) >= 0)
		e->protocol = (uint8_t)sec_parse(json_string_value(proto));
	else if (sec_parse(e->listener) >= 0)
		e->protocol = (uint8_t)sec_parse(e->listener);
	return 0;
}

int
cj_broker_decode(const char *json, struct md_cluster_broker *out)
{
	json_t *j = json_loads(json, 0, NULL), *eps, *map, *rack;
	size_t i;
	int rc = 0;

	if (j == NULL)
		return -1;
	eps = json_object_get(j, "endpoints");
	map = json_object_get(j, "listener_security_protocol_map");
	rack = json_object_get(j, "rack");
	out->rack = json_is_string(rack) ? strdup(json_string_value(rack)) : NULL;
	out->endpoint_count = 0;
	if (!json_is_array(eps) || json_array_size(eps) > KP_LISTENERS_MAX)
		rc = -1;
	for (i = 0; rc == 0 && i < json_array_size(eps); i++) {
		json_t *e = json_array_get(eps, i);

		if (!json_is_string(e) ||
		    endpoint_parse(json_string_value(e), map,
				   &out->endpoints[out->endpoint_count]) != 0) {
			rc = -1;
			break;
		}
		out->endpoint_count++;
	}
	json_decref(j);
	return rc;
}

char *
cj_controller_encode(int32_t broker_id)
{
	json_t *j = json_object();
	char *ts = ms_text();

	json_object_set_new(j, "version", json_integer(2));
	json_object_set_new(j, "brokerid", json_integer(broker_id));
	json_object_set_new(j, "timestamp", json_string(ts));
	json_object_set_new(j, "kraftControllerEpoch", json_integer(-1));
	free(ts);
	return dump(j);
}

int32_t
cj_controller_decode(const char *json)
{
	json_t *j = json_loads(json, 0, NULL), *id;
	int32_t r = -1;

	if (j == NULL)
		return -1;
	id = json_object_get(j, "brokerid");
	if (json_is_integer(id))
		r = (int32_t)json_integer_value(id);
	json_decref(j);
	return r;
}

static json_t *
ids_json(const int32_t *ids, int32_t n)
{
	json_t *a = json_array();

	for (int32_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer(ids[i]));
	return a;
}

/* An array of at most KP_REPLICAS_MAX integers; -1 if not. */
static int32_t
ids_parse(json_t *a, int32_t *ids)
{
	size_t i;

	if (!json_is_array(a) || json_array_size(a) > KP_REPLICAS_MAX)
		return -1;
	for (i = 0; i < json_array_size(a); i++) {
		json_t *v = json_array_get(a, i);

		if (!json_is_integer(v))
			return -1;
		ids[i] = (int32_t)json_integer_value(v);
	}
	return (int32_t)i;
}

char *
cj_state_encode(const struct md_cluster_partition *p)
{
	json_t *j = json_object();

	json_object_set_new(j, "controller_epoch", json_integer(p->controller_epoch));
	json_object_set_new(j, "leader", json_integer(p->leader));
	json_object_set_new(j, "version", json_integer(1));
	json_object_set_new(j, "leader_epoch", json_integer(p->leader_epoch));
	json_object_set_new(j, "isr", ids_json(p->isr, p->isr_count));
	return dump(j);
}

int
cj_state_decode(const char *json, struct md_cluster_partition *p)
{
	json_t *j = json_loads(json, 0, NULL), *ce, *l, *le;
	int rc = -1;

	if (j == NULL)
		return -1;
	ce = json_object_get(j, "controller_epoch");
	l = json_object_get(j, "leader");
	le = json_object_get(j, "leader_epoch");
	if (json_is_integer(ce) && json_is_integer(l) && json_is_integer(le)) {
		int32_t n = ids_parse(json_object_get(j, "isr"), p->isr);

		if (n >= 0) {
			p->isr_count = n;
			p->controller_epoch = (int32_t)json_integer_value(ce);
			p->leader = (int32_t)json_integer_value(l);
			p->leader_epoch = (int32_t)json_integer_value(le);
			rc = 0;
		}
	}
	json_decref(j);
	return rc;
}

char *
cj_topic_encode(const struct kp_uuid *id, int32_t partition_count,
		const int32_t *replica_counts, const int32_t *replicas)
{
	json_t *j = json_object(), *parts = json_object();
	char text[UUID_TEXT_BYTES];

	for (int32_t p = 0; p < partition_count; p++) {
		char key[16];

		snprintf(key, sizeof(key), "%d", p);
		json_object_set_new(parts, key, ids_json(replicas + (size_t)p * KP_REPLICAS_MAX,
							 replica_counts[p]));
	}
	uuid_to_text(id->b, text);
	json_object_set_new(j, "version", json_integer(3));
	json_object_set_new(j, "topic_id", json_string(text));
	json_object_set_new(j, "partitions", parts);
	json_object_set_new(j, "adding_replicas", json_object());
	json_object_set_new(j, "removing_replicas", json_object());
	return dump(j);
}

/* adding_replicas / removing_replicas: {"<p>":[ids]} for the partitions
 * being reassigned (absent or empty: none). */
static int
topic_moving_decode(json_t *obj, struct md_cluster_topic *t, bool adding)
{
	const char *key;
	json_t *ids;

	if (obj == NULL || json_is_null(obj))
		return 0;
	if (!json_is_object(obj))
		return -1;
	json_object_foreach(obj, key, ids) {
		char *end;
		long p = strtol(key, &end, 10);
		struct md_cluster_partition *mp;
		int32_t n;

		if (*end != '\0' || p < 0 || p >= t->partition_count)
			return -1;
		mp = &t->partitions[p];
		n = ids_parse(ids, adding ? mp->adding : mp->removing);
		if (n < 0)
			return -1;
		if (adding)
			mp->adding_count = n;
		else
			mp->removing_count = n;
	}
	return 0;
}

static json_t *
topic_moving_json(const struct md_cluster_topic *t, bool adding)
{
	json_t *o = json_object();

	for (int32_t p = 0; p < t->partition_count; p++) {
		const struct md_cluster_partition *mp = &t->partitions[p];
		int32_t n = adding ? mp->adding_count : mp->removing_count;
		char key[16];

		if (n == 0)
			continue;
		snprintf(key, sizeof(key), "%d", p);
		json_object_set_new(o, key, ids_json(adding ? mp->adding : mp->removing, n));
	}
	return o;
}

char *
cj_topic_encode_view(const struct md_cluster_topic *t)
{
	json_t *j = json_object(), *parts = json_object();
	char text[UUID_TEXT_BYTES];

	for (int32_t p = 0; p < t->partition_count; p++) {
		char key[16];

		snprintf(key, sizeof(key), "%d", p);
		json_object_set_new(parts, key, ids_json(t->partitions[p].replicas,
							 t->partitions[p].replica_count));
	}
	uuid_to_text(t->id.b, text);
	json_object_set_new(j, "version", json_integer(3));
	json_object_set_new(j, "topic_id", json_string(text));
	json_object_set_new(j, "partitions", parts);
	json_object_set_new(j, "adding_replicas", topic_moving_json(t, true));
	json_object_set_new(j, "removing_replicas", topic_moving_json(t, false));
	return dump(j);
}

/* The partitions object: keys "0".."n-1", each a replica list. */
static int
topic_parts_decode(json_t *parts, struct md_cluster_topic *t)
{
	size_t n = json_object_size(parts);

	if (n == 0 || n > (size_t)CL_DATA_MAX / 4)
		return -1;
	t->partitions = calloc(n, sizeof(*t->partitions));
	ASSERT(t->partitions != NULL);
	t->partition_count = (int32_t)n;
	for (size_t p = 0; p < n; p++) {
		struct md_cluster_partition *mp = &t->partitions[p];
		char key[24];

		snprintf(key, sizeof(key), "%zu", p);
		mp->replica_count = ids_parse(json_object_get(parts, key), mp->replicas);
		if (mp->replica_count <= 0)
			return -1;
		mp->leader = -1;
	}
	return 0;
}

int
cj_topic_decode(const char *json, struct md_cluster_topic *t)
{
	json_t *j = json_loads(json, 0, NULL), *id, *parts;
	int rc = -1;

	if (j == NULL)
		return -1;
	id = json_object_get(j, "topic_id");
	parts = json_object_get(j, "partitions");
	memset(&t->id, 0, sizeof(t->id));
	if ((id == NULL || (json_is_string(id) &&
			    cj_uuid_parse(json_string_value(id), &t->id) == 0)) &&
	    json_is_object(parts))
		rc = topic_parts_decode(parts, t);
	if (rc == 0 && topic_moving_decode(json_object_get(j, "adding_replicas"), t, true) != 0)
		rc = -1;
	if (rc == 0 && topic_moving_decode(json_object_get(j, "removing_replicas"), t, false) != 0)
		rc = -1;
	json_decref(j);
	return rc;
}

char *
cj_config_encode(const struct md_config *configs, int32_t count)
{
	json_t *j = json_object(), *c = json_object();

	for (int32_t i = 0; i < count; i++)
		if (configs[i].value != NULL)
			json_object_set_new(c, configs[i].name, json_string(configs[i].value));
	json_object_set_new(j, "version", json_integer(1));
	json_object_set_new(j, "config", c);
	return dump(j);
}

int
cj_config_decode(const char *json, struct cl_topic_configs *out)
{
	json_t *j = json_loads(json, 0, NULL), *c, *v;
	const char *k;
	int32_t n = 0;

	out->count = 0;
	out->configs = NULL;
	if (j == NULL)
		return -1;
	c = json_object_get(j, "config");
	if (!json_is_object(c)) {
		json_decref(j);
		return -1;
	}
	out->configs = calloc(json_object_size(c) + 1, sizeof(*out->configs));
	ASSERT(out->configs != NULL);
	json_object_foreach(c, k, v) {
		if (!json_is_string(v))
			continue;
		out->configs[n].name = strdup(k);
		out->configs[n].value = strdup(json_string_value(v));
		n++;
	}
	out->count = n;
	json_decref(j);
	return 0;
}

char *
cj_pid_block_encode(int32_t broker_id, int64_t start, int64_t end)
{
	json_t *j = json_object();
	char s[24], e[24];

	snprintf(s, sizeof(s), "%" PRId64, start);
	snprintf(e, sizeof(e), "%" PRId64, end);
	json_object_set_new(j, "version", json_integer(1));
	json_object_set_new(j, "broker", json_integer(broker_id));
	json_object_set_new(j, "block_start", json_string(s));
	json_object_set_new(j, "block_end", json_string(e));
	return dump(j);
}

int
cj_pid_block_decode(const char *json, int64_t *end)
{
	json_t *j = json_loads(json, 0, NULL), *e;
	int rc = -1;

	if (j == NULL)
		return -1;
	e = json_object_get(j, "block_end");
	if (json_is_string(e)) {
		char *stop;
		long long v = strtoll(json_string_value(e), &stop, 10);

		if (*stop == '\0' && v >= 0) {
			*end = v;
			rc = 0;
		}
	} else if (json_is_integer(e) && json_integer_value(e) >= 0) {
		*end = json_integer_value(e);
		rc = 0;
	}
	json_decref(j);
	return rc;
}

int
cj_cluster_id_decode(const char *json, char *out, size_t out_size)
{
	json_t *j = json_loads(json, 0, NULL), *id;
	int rc = -1;

	if (j == NULL)
		return -1;
	id = json_object_get(j, "id");
	if (json_is_string(id) && strlen(json_string_value(id)) < out_size &&
	    json_string_value(id)[0] != '\0') {
		snprintf(out, out_size, "%s", json_string_value(id));
		rc = 0;
	}
	json_decref(j);
	return rc;
}

static int
b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int
cj_uuid_parse(const char *text, struct kp_uuid *out)
{
	uint32_t acc = 0;
	int bits = 0, n = 0;

	if (strlen(text) != UUID_TEXT_BYTES - 1)
		return -1;
	for (int i = 0; i < UUID_TEXT_BYTES - 1; i++) {
		int v = b64url_value(text[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n < UUID_BYTES)
				out->b[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return n == UUID_BYTES ? 0 : -1;
}
