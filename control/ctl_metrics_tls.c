/* SPDX-License-Identifier: Apache-2.0 */
/* The TLS families of /metrics: handshakes completed and failed by listener
 * (summed over the cores), and file-region reads for TLS that missed the
 * page cache. Only the SSL and SASL_SSL listeners are listed. @thread control */
#include <stdio.h>

#include "control/ctl_int.h"
#include "control/mx.h"
#include "protocol/kp_session.h"

void
ctl_metrics_tls(struct ctl *ctl, struct mx_buf *b)
{
	const struct config *cfg = ctl->cfg;
	struct dp_stats s;

	dp_stats_read(ctl->dp, &s);
	mx_family(b, "spillway_tls_handshakes_total", "counter",
		  "TLS handshakes completed, by listener.");
	for (int i = 0; i < cfg->listener_count && i < DP_LISTENERS_MAX; i++) {
		const char *l[] = { "listener", cfg->listeners[i].name, NULL };

		if (kp_sec_is_tls(cfg->listeners[i].protocol))
			mx_sample(b, "spillway_tls_handshakes_total", l,
				  (double)s.tls_handshakes[i]);
	}
	mx_family(b, "spillway_tls_handshakes_failed_total", "counter",
		  "TLS handshakes failed (not TLS, refused certificate, no rule of "
		  "ssl.principal.mapping.rules applying, spillway.ssl.handshake.timeout.ms), "
		  "by listener.");
	for (int i = 0; i < cfg->listener_count && i < DP_LISTENERS_MAX; i++) {
		const char *l[] = { "listener", cfg->listeners[i].name, NULL };

		if (kp_sec_is_tls(cfg->listeners[i].protocol))
			mx_sample(b, "spillway_tls_handshakes_failed_total", l,
				  (double)s.tls_handshakes_failed[i]);
	}
	mx_family(b, "spillway_tls_file_reads_async_total", "counter",
		  "File region slices of a TLS Fetch that were not in the page cache and were "
		  "read through io_uring (the core did not wait for the disk).");
	mx_sample(b, "spillway_tls_file_reads_async_total", NULL,
		  (double)s.tls_file_reads_async);
}
