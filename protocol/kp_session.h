/* SPDX-License-Identifier: Apache-2.0 */
/* A connection's security context: the listener it came in on, that
 * listener's security protocol, and the principal it acts as. The core that
 * owns the connection keeps it (struct conn) and hands it to handlers in
 * kp_env; a request forwarded to control carries a copy behind its frame.
 * TLS sets the principal from the client certificate, SASL (through
 * control) from the exchange; ACL checks read it. */
#ifndef PROTOCOL_KP_SESSION_H
#define PROTOCOL_KP_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Kafka's SecurityProtocol names, in its id order. */
enum kp_sec_protocol {
	KP_SEC_PLAINTEXT = 0,
	KP_SEC_SSL = 1,
	KP_SEC_SASL_PLAINTEXT = 2,
	KP_SEC_SASL_SSL = 3,
};

static inline bool
kp_sec_is_sasl(uint8_t protocol)
{
	return protocol == KP_SEC_SASL_PLAINTEXT || protocol == KP_SEC_SASL_SSL;
}

static inline bool
kp_sec_is_tls(uint8_t protocol)
{
	return protocol == KP_SEC_SSL || protocol == KP_SEC_SASL_SSL;
}

/* Longest principal kept ("User:" and a name or a certificate's DN after
 * ssl.principal.mapping.rules); longer ones are refused at authentication. */
#define KP_PRINCIPAL_MAX 255

#define KP_PRINCIPAL_ANONYMOUS "User:ANONYMOUS"

/* INET6_ADDRSTRLEN */
#define KP_SESSION_HOST_MAX 46

/* Plain bytes only (no pointers): it is copied behind forwarded frames. */
struct kp_session {
	uint8_t protocol;               /* enum kp_sec_protocol */
	uint8_t listener;               /* index of the listener accepted on */
	/* False on a SASL listener until SaslAuthenticate succeeded: then only
	 * ApiVersions, SaslHandshake and SaslAuthenticate are served. */
	bool authenticated;
	/* The SASL mechanism that authenticated it (control's enum + 1), 0
	 * for none: a re-authentication must use the same one (KIP-368). */
	uint8_t sasl_mech;
	uint8_t principal_len;
	char principal[KP_PRINCIPAL_MAX + 1];   /* NUL-terminated */
	/* The peer's address as ACL host patterns name it ("127.0.0.1",
	 * "::1"; an IPv4-mapped address as IPv4); "" when unknown. */
	char host[KP_SESSION_HOST_MAX];
};

/* The session of a new connection on a listener of this protocol:
 * User:ANONYMOUS, authenticated unless the listener needs SASL. */
static inline void
kp_session_init(struct kp_session *s, uint8_t listener, uint8_t protocol)
{
	memset(s, 0, sizeof(*s));
	s->listener = listener;
	s->protocol = protocol;
	s->authenticated = !kp_sec_is_sasl(protocol);
	s->principal_len = (uint8_t)(sizeof(KP_PRINCIPAL_ANONYMOUS) - 1);
	memcpy(s->principal, KP_PRINCIPAL_ANONYMOUS, sizeof(KP_PRINCIPAL_ANONYMOUS));
}

/* Set the principal; false (unchanged) when it is empty or too long. */
static inline bool
kp_session_set_principal(struct kp_session *s, const char *p, size_t len)
{
	if (len == 0 || len > KP_PRINCIPAL_MAX || memchr(p, '\0', len) != NULL)
		return false;
	memcpy(s->principal, p, len);
	s->principal[len] = '\0';
	s->principal_len = (uint8_t)len;
	return true;
}

#endif
