/* SPDX-License-Identifier: Apache-2.0 */
/* request_percentage on a dataplane core (Kafka's ClientRequestQuotaManager):
 * the time the core spent on a client's request, from the frame's dispatch
 * (env->t0_ns, read anyway) to the handler's return, is counted in the
 * client's per-core rate; over the quota, the response's throttle_time_ms
 * is raised to Kafka's throttle (the larger of it and a byte quota's, as
 * KafkaApis does for Produce and Fetch) and the connection is muted for
 * it. Costs nothing while the snapshot has no quotas; one clock read per
 * request of a client that has a request quota. @thread dataplane */
#include "protocol/kp_req_quota.h"

#include "common/clock.h"
#include "common/compiler.h"
#include "protocol/gen/kp_api.h"
#include "protocol/kp_core_priv.h"
#include "protocol/kp_quota.h"
#include "protocol/kp_int.h"

/* SASL is answered by Kafka's authenticator before quotas (Spillway has
 * no SASL yet): never counted, never throttled. ApiVersions is not exempt:
 * Kafka 3.9's KafkaApis answers it with sendResponseMaybeThrottle. */
static bool
kp_req_quota_exempt(int16_t api_key)
{
	return api_key == KP_API_SASL_HANDSHAKE || api_key == KP_API_SASL_AUTHENTICATE;
}

/* ApiVersions v1+ has throttle_time_ms after error_code and the api_keys
 * array (header v0, entries of three int16 and, v3+, an empty tag
 * section as our encoder writes them). 0 when it cannot be found. */
static int32_t
kp_throttle_site_api_versions(const struct kp_buf *resp, int16_t version)
{
	struct kp_cursor c;
	int64_t n;

	if (version < 1 || resp->len < 10)
		return 0;
	c = kp_cursor_make(resp->data + 10, resp->len - 10);
	n = version >= 3 ? (int64_t)kp_read_uvarint(&c) - 1 : kp_read_i32(&c);
	if (c.err != 0 || n < 0 || n > KP_ARRAY_COUNT_MAX)
		return 0;
	return (int32_t)(resp->len - kp_cursor_left(&c) + (uint64_t)n * (version >= 3 ? 7 : 6));
}

/* The first version whose response has throttle_time_ms, where it is its
 * first field (the schemas' "versions" of ThrottleTimeMs); -1: none. */
static int16_t
kp_throttle_first_version(int16_t api_key)
{
	switch (api_key) {
	case KP_API_DELETE_RECORDS: case KP_API_INIT_PRODUCER_ID: case KP_API_ADD_PARTITIONS_TO_TXN:
	case KP_API_ADD_OFFSETS_TO_TXN: case KP_API_END_TXN: case KP_API_TXN_OFFSET_COMMIT:
	case KP_API_DESCRIBE_CONFIGS: case KP_API_ALTER_CONFIGS: case KP_API_DESCRIBE_LOG_DIRS:
	case KP_API_CREATE_PARTITIONS: case KP_API_DELETE_GROUPS:
	case KP_API_INCREMENTAL_ALTER_CONFIGS: case KP_API_DESCRIBE_CLIENT_QUOTAS:
	case KP_API_ALTER_CLIENT_QUOTAS: case KP_API_DESCRIBE_USER_SCRAM_CREDENTIALS:
	case KP_API_DESCRIBE_CLUSTER: case KP_API_DESCRIBE_PRODUCERS:
		return 0;
	case KP_API_FETCH: case KP_API_DELETE_TOPICS: case KP_API_FIND_COORDINATOR:
	case KP_API_HEARTBEAT: case KP_API_LEAVE_GROUP: case KP_API_SYNC_GROUP:
	case KP_API_DESCRIBE_GROUPS: case KP_API_LIST_GROUPS:
		return 1;
	case KP_API_LIST_OFFSETS: case KP_API_CREATE_TOPICS: case KP_API_OFFSET_FOR_LEADER_EPOCH:
	case KP_API_JOIN_GROUP:
		return 2;
	case KP_API_METADATA: case KP_API_OFFSET_COMMIT: case KP_API_OFFSET_FETCH:
		return 3;
	default:
		return -1;
	}
}

int32_t
kp_throttle_site(int16_t api_key, int16_t version)
{
	int16_t first = kp_throttle_first_version(api_key);
	int32_t head;

	if (first < 0 && api_key != KP_API_PRODUCE && api_key != KP_API_OFFSET_DELETE)
		return 0;
	head = 8 + (kp_response_header_flexible(api_key, version) ? 1 : 0);
	if (api_key == KP_API_PRODUCE)          /* last, before v9+'s empty tag section */
		return version < 1 ? 0 : version >= 9 ? -5 : -4;
	if (api_key == KP_API_OFFSET_DELETE)    /* after error_code */
		return head + 2;
	return version >= first ? head : 0;
}

void
kp_throttle_raise(struct kp_buf *resp, int32_t site, int32_t ms)
{
	uint32_t at;
	uint8_t *b;
	int32_t old;

	if (site == 0 || ms <= 0 || resp->data == NULL)
		return;
	if (site < 0 && (uint32_t)-site > resp->len)
		return;
	at = site < 0 ? resp->len - (uint32_t)-site : (uint32_t)site;
	if (at < 8 || at + 4 > resp->len)
		return;
	b = resp->data + at;
	old = (int32_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]);
	if (old >= ms)
		return;
	b[0] = (uint8_t)((uint32_t)ms >> 24);
	b[1] = (uint8_t)((uint32_t)ms >> 16);
	b[2] = (uint8_t)((uint32_t)ms >> 8);
	b[3] = (uint8_t)ms;
}

/* The client's request_percentage quota, from the request's header. */
static bool
kp_req_quota_hit(const struct kp_env *env, const uint8_t *frame, uint32_t len,
		 int16_t api_key, int16_t version, struct kp_quota_hit *hit, struct kp_str *client)
{
	struct kp_cursor c = kp_cursor_make(frame, len);
	struct kp_request_header hdr;

	if (kp_request_header_decode(&c, kp_request_header_version(api_key, version), &hdr) != 0)
		return false;
	*client = hdr.client_id;
	return kp_quota_resolve(env->md, KP_QUOTA_REQUEST_PERCENTAGE, hdr.client_id, &hit->bound,
				&hit->tags_user, &hit->tags_client);
}

void
kp_req_quota_apply(const struct kp_env *env, const struct kp_api_row *row, int16_t version,
		   const uint8_t *frame, uint32_t len, enum kp_verdict verdict, struct kp_out *out)
{
	int16_t api_key = row->api_key;
	struct kp_quota_hit hit;
	struct kp_str client;
	uint64_t now;
	int32_t ms;

	if (env->kc == NULL || env->t0_ns == 0 || kp_req_quota_exempt(api_key) ||
	    !kp_req_quota_hit(env, frame, len, api_key, version, &hit, &client))
		return;
	now = clock_mono_ns();
	ms = kp_quota_record_request(env->kc->quota, &hit, client,
				     now > env->t0_ns ? now - env->t0_ns : 0,
				     (int64_t)(now / 1000000u));
	if (ms <= 0)
		return;
	switch (verdict) {
	case KP_VERDICT_REPLY:
		if (api_key == KP_API_API_VERSIONS)     /* a version we lack: v0 answer */
			kp_throttle_raise(&out->resp, version > row->version_max ? 0 :
					  kp_throttle_site_api_versions(&out->resp, version), ms);
		else
			kp_throttle_raise(&out->resp, kp_throttle_site(api_key, version), ms);
		break;
	case KP_VERDICT_PENDING:        /* the encoder writes it (kp_pending_reply) */
		ASSERT_HOT(env->slot < env->kc->slot_count);
		env->kc->pending[env->slot].req_throttle_ms = ms;
		break;
	case KP_VERDICT_FORWARD:        /* raised in control's reply (kp_throttle_site) */
		out->throttle_site = kp_throttle_site(api_key, version);
		break;
	case KP_VERDICT_NO_REPLY:       /* acks=0: no response, the mute still */
		break;
	default:
		return;
	}
	out->throttle_ms = MAX(out->throttle_ms, ms);
}
