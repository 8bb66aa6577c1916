/* SPDX-License-Identifier: Apache-2.0 */
/* The dpdk backend's port: EAL start from spillway.dpdk.eal.args, one
 * RX/TX queue pair per dataplane core with RSS spreading client flows,
 * offloads chosen from what the device reports (checksums, TSO, chained
 * mbufs; utcp computes in software what the device cannot), start, stop,
 * and the link/xstats/utcp counters for the metrics endpoint.
 * @thread control */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "common/log.h"
#include "dataplane/dp_dpdk_int.h"

#define DPK_EAL_ARGS_MAX 64
#define DPK_DESC 1024

bool
dp_dpdk_available(void)
{
	return true;
}

/* Split the EAL argument string on blanks ('...' and "..." group) into
 * argv[1..]; argv[0] is the program name. Returns argc or -1. */
static int
dpk_split_args(char *text, char **argv, int max)
{
	static char prog[] = "spillway";
	int argc = 0;
	char *p = text;

	argv[argc++] = prog;
	while (*p != '\0') {
		char *out;
		char quote = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (argc >= max - 1)
			return -1;
		argv[argc++] = out = p;
		while (*p != '\0' && (quote != 0 || (*p != ' ' && *p != '\t'))) {
			if (quote == 0 && (*p == '\'' || *p == '"'))
				quote = *p++;
			else if (quote != 0 && *p == quote)
				quote = 0, p++;
			else
				*out++ = *p++;
		}
		if (*p != '\0')
			p++;
		*out = '\0';
	}
	argv[argc] = NULL;
	return argc;
}

static int
dpk_eal_init(struct dpk_port *pt)
{
	char *argv[DPK_EAL_ARGS_MAX + 1];
	char *copy = strdup(pt->cfg.eal_args != NULL ? pt->cfg.eal_args : "");
	cpu_set_t cpus;
	int argc, rc;

	if (copy == NULL)
		return -ENOMEM;
	argc = dpk_split_args(copy, argv, DPK_EAL_ARGS_MAX);
	if (argc < 0) {
		log_error("dpdk", "spillway.dpdk.eal.args: more than %d arguments",
			  DPK_EAL_ARGS_MAX);
		free(copy);
		return -EINVAL;
	}
	pt->eal_argv_text = copy;
	/* EAL keeps pointers into argv: copy stays allocated for the
	 * process's life (one EAL per process). EAL pins the calling thread
	 * to its main lcore; the control thread (and the storage workers it
	 * starts, which inherit its mask) keep the CPUs they had. */
	if (pthread_getaffinity_np(pthread_self(), sizeof(cpus), &cpus) != 0)
		CPU_ZERO(&cpus);
	rc = rte_eal_init(argc, argv);
	if (CPU_COUNT(&cpus) > 0)
		pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	if (rc < 0) {
		log_error("dpdk", "spillway.dpdk.eal.args: EAL init failed: %s (args '%s')",
			  rte_strerror(rte_errno), pt->cfg.eal_args);
		return -EINVAL;
	}
	pt->eal_ready = true;
	return 0;
}

/* Offloads from the device's capabilities. Checksums the device cannot
 * compute utcp computes; TSO needs chained mbufs as well. */
static void
dpk_pick_offloads(struct dpk_port *pt, const struct rte_eth_dev_info *info)
{
	uint64_t tx = info->tx_offload_capa;
	uint64_t rx = info->rx_offload_capa;

	pt->tx_offloads = 0;
	pt->utcp_tx_offloads = 0;
	if (tx & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) {
		pt->tx_offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
		pt->multi_seg = true;
	}
	if (tx & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
		pt->tx_offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
		pt->utcp_tx_offloads |= UTCP_TX_IP_CSUM;
	}
	if (tx & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) {
		pt->tx_offloads |= RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
		pt->utcp_tx_offloads |= UTCP_TX_TCP_CSUM;
	}
	if ((tx & RTE_ETH_TX_OFFLOAD_TCP_TSO) && pt->multi_seg &&
	    (pt->utcp_tx_offloads & UTCP_TX_TCP_CSUM)) {
		pt->tx_offloads |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
		pt->utcp_tx_offloads |= UTCP_TX_TCP_TSO;
	}
	pt->rx_offloads = rx & (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM);
	pt->seg_max = info->tx_desc_lim.nb_seg_max > 0 ? info->tx_desc_lim.nb_seg_max : 1;
	if (info->tx_desc_lim.nb_mtu_seg_max > 0 && info->tx_desc_lim.nb_mtu_seg_max < pt->seg_max)
		pt->seg_max = info->tx_desc_lim.nb_mtu_seg_max;
	if (pt->seg_max > UTCP_TX_SLICES_MAX + 1)
		pt->seg_max = UTCP_TX_SLICES_MAX + 1;
	if (!pt->multi_seg)
		pt->seg_max = 1;
	pt->tso_clamp = strcmp(info->driver_name, "net_tap") == 0;
	/* DPDK 22.11's net_tap sums the TCP checksum of a chained mbuf per
	 * segment and gets it wrong when a segment has an odd length (seen
	 * as "cksum incorrect" at every hugepage block boundary of a Fetch),
	 * and its TSO goes through the same code: utcp sums TCP itself. */
	if (pt->tso_clamp && pt->multi_seg) {
		pt->tx_offloads &= ~(uint64_t)(RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
					       RTE_ETH_TX_OFFLOAD_TCP_TSO);
		pt->utcp_tx_offloads &= ~(uint32_t)(UTCP_TX_TCP_CSUM | UTCP_TX_TCP_TSO);
	}
}

static int
dpk_configure(struct dpk_port *pt, int queues)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	int rc;

	if (!rte_eth_dev_is_valid_port(pt->port_id)) {
		log_error("dpdk", "spillway.dpdk.port: port %u not found (%u port(s) available; "
			  "check spillway.dpdk.eal.args: -a <pci> or --vdev=...)", pt->port_id,
			  rte_eth_dev_count_avail());
		return -ENODEV;
	}
	rc = rte_eth_dev_info_get(pt->port_id, &info);
	if (rc != 0)
		return rc;
	snprintf(pt->driver, sizeof(pt->driver), "%s", info.driver_name);
	if (queues > info.max_rx_queues || queues > info.max_tx_queues) {
		log_error("dpdk", "spillway.dataplane.cores: %d cores need %d queue pairs but "
			  "port %u (%s) has %u rx / %u tx (af_packet: add qpairs=N to the vdev)",
			  queues, queues, pt->port_id, pt->driver, info.max_rx_queues,
			  info.max_tx_queues);
		return -EINVAL;
	}
	if (pt->cfg.mtu > info.max_mtu || pt->cfg.mtu < info.min_mtu) {
		log_error("dpdk", "spillway.dpdk.mtu: %u is outside %u..%u for port %u (%s)",
			  pt->cfg.mtu, info.min_mtu, info.max_mtu, pt->port_id, pt->driver);
		return -EINVAL;
	}
	dpk_pick_offloads(pt, &info);
	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mtu = pt->cfg.mtu;
	conf.rxmode.offloads = pt->rx_offloads;
	conf.txmode.offloads = pt->tx_offloads;
	/* RSS even with one queue where the device has it, so the NIC
	 * computes the flow hash; the RETA is set once and never changed
	 * (that would move flows between cores). */
	if (info.flow_type_rss_offloads != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
	} else if (queues > 1) {
		log_warn("dpdk", "port %u (%s) reports no RSS: the driver spreads flows itself",
			 pt->port_id, pt->driver);
	}
	rc = rte_eth_dev_configure(pt->port_id, (uint16_t)queues, (uint16_t)queues, &conf);
	if (rc != 0) {
		log_error("dpdk", "port %u (%s): configure failed: %s", pt->port_id, pt->driver,
			  rte_strerror(-rc));
		return rc;
	}
	pt->configured = true;
	pt->nb_rxd = DPK_DESC;
	pt->nb_txd = DPK_DESC;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(pt->port_id, &pt->nb_rxd, &pt->nb_txd);
	if (rc != 0)
		return rc;
	rc = rte_eth_dev_set_mtu(pt->port_id, pt->cfg.mtu);
	if (rc != 0 && rc != -ENOTSUP)
		log_warn("dpdk", "port %u: cannot set MTU %u: %s", pt->port_id, pt->cfg.mtu,
			 rte_strerror(-rc));
	rte_eth_macaddr_get(pt->port_id, &pt->mac);
	pt->socket = rte_eth_dev_socket_id(pt->port_id);
	if (pt->socket < 0)
		pt->socket = 0;
	pt->queues = (uint16_t)queues;
	pt->mtu = pt->cfg.mtu;
	return 0;
}

/* EAL, then the port (queues are set up per core by dpk_core_init()). */
int
dp_dpdk_setup(struct dp *dp)
{
	struct dpk_port *pt;
	int rc;

	/* utcp listens on each listener's port: fixed, and one per listener
	 * (the host is the port's one address). */
	for (int l = 0; l < dp->listener_count; l++) {
		for (int m = 0; m < l; m++) {
			if (dp->listeners[m].port == dp->listeners[l].port) {
				log_error("dp", "listeners %s and %s share port %u: the dpdk "
					  "backend has one address", dp->listeners[m].name,
					  dp->listeners[l].name, dp->listeners[l].port);
				return -EINVAL;
			}
		}
		if (dp->listeners[l].port == 0) {
			log_error("dp", "listener %s: the dpdk backend needs a fixed port",
				  dp->listeners[l].name);
			return -EINVAL;
		}
		dp->ports[l] = dp->listeners[l].port;
	}
	pt = calloc(1, sizeof(*pt));
	if (pt == NULL)
		return -ENOMEM;
	dp->dpdk = pt;
	pt->cfg = *dp->cfg.dpdk;
	pt->port_id = pt->cfg.port;
	if (getrandom(pt->isn_key, sizeof(pt->isn_key), 0) != sizeof(pt->isn_key))
		return -EIO;
	rc = dpk_eal_init(pt);
	if (rc == 0)
		rc = dpk_configure(pt, dp->core_count);
	if (rc != 0)
		return rc < 0 ? rc : -rc;
	return 0;
}

const struct dp_net *
dp_dpdk_net_get(void)
{
	return &dp_dpdk_net;
}

int
dp_dpdk_port_start(struct dp *dp)
{
	struct dpk_port *pt = dp->dpdk;
	struct rte_eth_link link;
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	int rc = rte_eth_dev_start(pt->port_id);

	if (rc != 0) {
		log_error("dpdk", "port %u (%s): start failed: %s", pt->port_id, pt->driver,
			  rte_strerror(-rc));
		return rc;
	}
	pt->started = true;
	rte_ether_format_addr(mac, sizeof(mac), &pt->mac);
	memset(&link, 0, sizeof(link));
	rte_eth_link_get_nowait(pt->port_id, &link);
	log_info("dpdk", "port %u (%s) %s: %u queue pair(s), mtu %u, link %s %u Mbps, "
		 "offloads:%s%s%s%s%s", pt->port_id, pt->driver, mac, pt->queues, pt->mtu,
		 link.link_status ? "up" : "down", link.link_speed,
		 (pt->utcp_tx_offloads & UTCP_TX_IP_CSUM) ? " tx-ip-csum" : "",
		 (pt->utcp_tx_offloads & UTCP_TX_TCP_CSUM) ? " tx-tcp-csum" : "",
		 (pt->utcp_tx_offloads & UTCP_TX_TCP_TSO) ? " tso" : "",
		 pt->rx_offloads != 0 ? " rx-csum" : "",
		 pt->multi_seg ? " multi-seg" : " (single-segment frames: payload copied)");
	return 0;
}

void
dp_dpdk_teardown(struct dp *dp)
{
	struct dpk_port *pt = dp->dpdk;

	if (pt == NULL)
		return;
	if (pt->started)
		rte_eth_dev_stop(pt->port_id);
	if (pt->configured)
		rte_eth_dev_close(pt->port_id);
	if (pt->eal_ready)
		rte_eal_cleanup();
	free(pt->eal_argv_text);
	free(pt);
	dp->dpdk = NULL;
}

/* Prometheus names allow [a-zA-Z0-9_:]; xstat names are close to that. */
static void
dpk_metric_label(char *out, size_t size, const char *in)
{
	size_t i;

	for (i = 0; i + 1 < size && in[i] != '\0'; i++)
		out[i] = (char)((in[i] >= 'a' && in[i] <= 'z') || (in[i] >= 'A' && in[i] <= 'Z') ||
				(in[i] >= '0' && in[i] <= '9') ? in[i] : '_');
	out[i] = '\0';
}

static void
dpk_stats_xstats(const struct dpk_port *pt, dp_net_stat_fn *fn, void *arg)
{
	static const char fam[] = "spillway_dpdk_xstat";
	static const char help[] = "DPDK extended port statistics (rte_eth_xstats), by name "
				   "(ENA: *_allowance_exceeded are EC2 shaping).";
	struct rte_eth_xstat_name *names;
	struct rte_eth_xstat *vals;
	int n = rte_eth_xstats_get_names(pt->port_id, NULL, 0);

	if (n <= 0)
		return;
	names = calloc((size_t)n, sizeof(*names));
	vals = calloc((size_t)n, sizeof(*vals));
	if (names != NULL && vals != NULL &&
	    rte_eth_xstats_get_names(pt->port_id, names, (unsigned)n) == n &&
	    rte_eth_xstats_get(pt->port_id, vals, (unsigned)n) == n) {
		for (int i = 0; i < n; i++) {
			char label[RTE_ETH_XSTATS_NAME_SIZE];

			if (vals[i].id >= (uint64_t)n)
				continue;
			dpk_metric_label(label, sizeof(label), names[vals[i].id].name);
			fn(arg, fam, "counter", help, "name", label, vals[i].value);
		}
	}
	free(names);
	free(vals);
}

#define DPK_UTCP_STAT(field, type, help) \
	{ "spillway_utcp_" #field, type, help, offsetof(struct utcp_stats, field) }

static void
dpk_stats_utcp(const struct dp *dp, dp_net_stat_fn *fn, void *arg)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} f[] = {
		DPK_UTCP_STAT(segs_in, "counter", "TCP segments received, by core."),
		DPK_UTCP_STAT(segs_out, "counter", "TCP segments sent, by core."),
		DPK_UTCP_STAT(retransmits, "counter", "TCP segments retransmitted, by core."),
		DPK_UTCP_STAT(fast_retransmits, "counter", "Fast retransmits, by core."),
		DPK_UTCP_STAT(rto_expired, "counter", "Retransmission timeouts, by core."),
		DPK_UTCP_STAT(zero_window_probes, "counter", "Zero-window probes sent, by core."),
		DPK_UTCP_STAT(ooo_queued, "counter", "Out-of-order segments queued, by core."),
		DPK_UTCP_STAT(ooo_dropped, "counter", "Out-of-order segments dropped, by core."),
		DPK_UTCP_STAT(csum_bad, "counter", "Frames with a bad checksum, by core."),
		DPK_UTCP_STAT(rst_in, "counter", "RSTs received, by core."),
		DPK_UTCP_STAT(rst_out, "counter", "RSTs sent, by core."),
		DPK_UTCP_STAT(challenge_acks, "counter", "RFC 5961 challenge ACKs, by core."),
		DPK_UTCP_STAT(syn_dropped_backlog, "counter",
			      "SYNs dropped at the half-open limit, by core."),
		DPK_UTCP_STAT(frames_dropped_tx, "counter",
			      "Frames the NIC queue refused, by core."),
		DPK_UTCP_STAT(conns_open, "gauge", "TCP connections open, by core."),
		DPK_UTCP_STAT(syn_rcvd_open, "gauge", "Half-open connections, by core."),
		DPK_UTCP_STAT(time_wait_open, "gauge", "Connections in TIME_WAIT, by core."),
	};
	char core[12];

	for (size_t i = 0; i < ARRAY_LEN(f); i++) {
		for (int c = 0; c < dp->core_count; c++) {
			const struct dpk_core *kc = dp->cores[c].net_state;
			uint64_t v;

			if (kc == NULL || kc->utcp == NULL)
				continue;
			memcpy(&v, (const char *)utcp_stats(kc->utcp) + f[i].off, sizeof(v));
			snprintf(core, sizeof(core), "%d", c);
			fn(arg, f[i].name, f[i].type, f[i].help, "core", core,
			   __atomic_load_n(&v, __ATOMIC_RELAXED));
		}
	}
}

void
dp_net_stats(const struct dp *dp, dp_net_stat_fn *fn, void *arg)
{
	const struct dpk_port *pt = dp->dpdk;
	struct rte_eth_link link;
	struct rte_eth_stats st;

	if (pt == NULL || !pt->started)
		return;
	memset(&link, 0, sizeof(link));
	rte_eth_link_get_nowait(pt->port_id, &link);
	fn(arg, "spillway_dpdk_link_up", "gauge", "1 when the DPDK port's link is up.", NULL,
	   NULL, link.link_status);
	fn(arg, "spillway_dpdk_link_speed_mbps", "gauge", "DPDK port link speed.", NULL, NULL,
	   link.link_speed);
	if (rte_eth_stats_get(pt->port_id, &st) == 0) {
		fn(arg, "spillway_dpdk_rx_missed_total", "counter",
		   "Packets the NIC dropped for lack of rx descriptors.", NULL, NULL, st.imissed);
		fn(arg, "spillway_dpdk_rx_nombuf_total", "counter",
		   "Receive mbuf allocation failures.", NULL, NULL, st.rx_nombuf);
	}
	dpk_stats_xstats(pt, fn, arg);
	dpk_stats_utcp(dp, fn, arg);
}
