/* SPDX-License-Identifier: Apache-2.0 */
/* SASL on the control thread: SaslHandshake / SaslAuthenticate exchanges
 * (PLAIN against JAAS users or the SCRAM store, SCRAM-SHA-256/512), the
 * SCRAM credential admin operations, and the authentication counters.
 * A successful (or failed) exchange leaves a struct dp_auth that the
 * control loop sends to the core with the reply (DP_MSG_REPLY_AUTH).
 * @thread control */
#ifndef CONTROL_CTL_SASL_H
#define CONTROL_CTL_SASL_H

#include <stdbool.h>
#include <stddef.h>

#include "protocol/kp.h"

struct ctl;
struct dp_auth;
struct mx_buf;
struct ctl_sasl;

/* Open the SCRAM store under the log dir and check the SASL config (JAAS
 * texts, mechanism names). 0, or -errno / -EINVAL with err. */
int ctl_sasl_open(struct ctl *ctl, char *err, size_t err_size);
void ctl_sasl_close(struct ctl *ctl);

/* What the request just handled changes on its connection: true (auth
 * filled, the pending change cleared) or false when nothing. */
bool ctl_sasl_take_auth(struct ctl *ctl, struct dp_auth *auth);

/* The spillway_sasl_authentications_total family. */
void ctl_sasl_metrics(struct ctl *ctl, struct mx_buf *b);

/* kp_admin_ops members. */
int16_t ctl_sasl_handshake(void *ctx, const struct kp_session *session, int16_t version,
			   struct kp_str mechanism, struct kp_sasl_mechs *mechs);
int16_t ctl_sasl_authenticate(void *ctx, const struct kp_session *session, int16_t version,
			      struct kp_bytes token, struct kp_sasl_reply *reply, char *msg,
			      size_t msg_size);
bool ctl_scram_user(void *ctx, struct kp_str name, struct kp_scram_user *user);
bool ctl_scram_user_at(void *ctx, int32_t index, struct kp_scram_user *user);
int16_t ctl_scram_alter(void *ctx, const struct kp_scram_op *op, bool check_only, char *msg,
			size_t msg_size);

#endif
