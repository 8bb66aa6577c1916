/* SPDX-License-Identifier: Apache-2.0 */
/* Building a listener's TLS context from the ssl.* keys (ctl_tls.c).
 * Internal to control/. @thread control */
#ifndef CONTROL_CTL_TLS_H
#define CONTROL_CTL_TLS_H

#include <stddef.h>

#include "control/config.h"

struct dp;
struct dp_tls_ctx;

/* spillway.ssl.handshake.timeout.ms when unset: a connection of a TLS
 * listener that has not finished its handshake by then is closed (Kafka
 * has no such key; its idle timeout is the nearest). */
#define CTL_TLS_HANDSHAKE_MS_DEFAULT 10000

/* The TLS context of the listener named listener (Kafka's name, e.g. "SSL";
 * listener.name.<name lower-cased>.ssl.* keys win over ssl.*). NULL with
 * err naming the key at fault. */
struct dp_tls_ctx *ctl_tls_build(const struct config *cfg, const char *listener, char *err,
				 size_t err_size);
/* spillway.ssl.handshake.timeout.ms; -1 with err when out of range. */
int ctl_tls_handshake_ms(const struct config *cfg, char *err, size_t err_size);
/* Build the context of every SSL and SASL_SSL listener and publish them to
 * the cores (new connections take them); 0, or -EINVAL with err and
 * nothing published. */
int ctl_tls_publish(struct dp *dp, const struct config *cfg, char *err, size_t err_size);

#endif
