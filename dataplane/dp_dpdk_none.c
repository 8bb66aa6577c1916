/* SPDX-License-Identifier: Apache-2.0 */
/* The dpdk backend in a build without DPDK (libdpdk-dev missing at
 * configure time): selecting it fails at startup with a clear message. */
#include "common/log.h"
#include "dataplane/dp_int.h"

bool
dp_dpdk_available(void)
{
	return false;
}

const struct dp_net *
dp_dpdk_net_get(void)
{
	return NULL;
}

int
dp_dpdk_setup(struct dp *dp)
{
	(void)dp;
	log_error("dp", "spillway.backend: this build has no DPDK (install libdpdk-dev and "
		  "rebuild)");
	return -1;
}

int
dp_dpdk_port_start(struct dp *dp)
{
	(void)dp;
	return -1;
}

void
dp_dpdk_teardown(struct dp *dp)
{
	(void)dp;
}

void
dp_net_stats(const struct dp *dp, dp_net_stat_fn *fn, void *arg)
{
	(void)dp;
	(void)fn;
	(void)arg;
}
