/* SPDX-License-Identifier: Apache-2.0 */
/* Building a listener's TLS context from the ssl.* keys (ctl_tls.c).
 * Internal to control/. @thread control */
#ifndef CONTROL_CTL_TLS_H
#define CONTROL_CTL_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/config.h"

struct ctl;
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
/* Build the context of every SSL and SASL_SSL listener from the config and
 * its dynamic layers, and publish them to the cores (new connections take
 * them); 0, or -EINVAL with err and nothing published. */
int ctl_tls_publish(struct dp *dp, struct ctl *ctl, char *err, size_t err_size);

/* True when a config name is a TLS key (ssl.*, listener.name.<l>.ssl.*):
 * altering one rebuilds the contexts (a reload re-reads the files). */
bool ctl_tls_key(const char *name, size_t len);
/* An AlterConfigs would make e[0, n) the broker's (per_broker) or the
 * cluster default's dynamic configs: build every TLS listener's context
 * from that into ctx[CONFIG_LISTENERS_MAX] (Kafka validates a new key store
 * before it takes it). -EINVAL with err, none built. */
int ctl_tls_prepare(struct ctl *ctl, bool per_broker, const struct config_dyn_entry *e,
		    int32_t n, struct dp_tls_ctx **ctx, char *err, size_t err_size);
/* Publish what ctl_tls_prepare built (old conns keep theirs), or drop it. */
void ctl_tls_commit(struct dp *dp, struct dp_tls_ctx **ctx);
void ctl_tls_discard(struct dp_tls_ctx **ctx);

#endif
