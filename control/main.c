/* SPDX-License-Identifier: Apache-2.0 */
/* Process entry: parse the command line (Kafka's --override convention),
 * load and validate the config, open the metadata store, start the
 * dataplane cores and run the control loop on this thread until SIGINT or
 * SIGTERM. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"
#include "common/fd_table.h"
#include "common/log.h"
#include "control/config.h"
#include "control/ctl.h"
#include "control/ctl_tls.h"
#include "dataplane/dp.h"
#include "storage/st.h"

STATIC_ASSERT((int)CONFIG_FLUSH_AUTO == (int)ST_FLUSH_AUTO &&
	      (int)CONFIG_FLUSH_SYNCFS == (int)ST_FLUSH_SYNCFS &&
	      (int)CONFIG_FLUSH_FDATASYNC == (int)ST_FLUSH_FDATASYNC, "flush mode values");

/* Command-line overrides accepted; more is surely a mistake. */
#define MAIN_OVERRIDES_MAX 256

static volatile sig_atomic_t main_stop;

static void
main_on_signal(int sig)
{
	(void)sig;
	main_stop = 1;
}

static void
main_usage(FILE *out)
{
	fprintf(out,
		"Usage: spillway [--config FILE] [--override KEY=VALUE]... \n"
		"       spillway --version | --help\n\n"
		"Spillway, a Kafka-wire-compatible broker. FILE is a Kafka-style\n"
		"server.properties; each --override sets one key and wins over the file.\n\n"
		"Configuration keys (default in brackets):\n");
	config_usage(out);
}

struct main_args {
	const char *config_path;
	int override_count;
	const char *overrides[MAIN_OVERRIDES_MAX];
};

/* 0: run; 1: done (printed version/help); -1: usage error. */
static int
main_parse(int argc, char **argv, struct main_args *args)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0) {
			printf("spillway %s\n", SPILLWAY_VERSION);
			return 1;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			main_usage(stdout);
			return 1;
		}
		if ((strcmp(a, "--config") == 0 || strcmp(a, "--override") == 0) && i + 1 >= argc) {
			fprintf(stderr, "spillway: %s needs an argument\n", a);
			return -1;
		}
		if (strcmp(a, "--config") == 0) {
			args->config_path = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			args->config_path = a + 9;
		} else if (strcmp(a, "--override") == 0 || strncmp(a, "--override=", 11) == 0) {
			const char *kv = a[10] == '=' ? a + 11 : argv[++i];

			if (args->override_count == MAIN_OVERRIDES_MAX) {
				fprintf(stderr, "spillway: more than %d --override options\n",
					MAIN_OVERRIDES_MAX);
				return -1;
			}
			args->overrides[args->override_count++] = kv;
		} else {
			fprintf(stderr, "spillway: unknown argument '%s' (see --help)\n", a);
			return -1;
		}
	}
	return 0;
}

static struct dp *
main_dataplane(const struct config *cfg, struct st *st)
{
	struct dp_dpdk_config dpdk = {
		.eal_args = cfg->dpdk_eal_args,
		.port = (uint16_t)cfg->dpdk_port,
		.ipv4 = cfg->dpdk_ipv4,
		.prefix_len = cfg->dpdk_prefix_len,
		.gateway = cfg->dpdk_gateway,
		.mtu = (uint16_t)cfg->dpdk_mtu,
		.idle_sleep_us = (uint32_t)cfg->dpdk_idle_sleep_us,
	};
	char err[256];
	int handshake_ms = ctl_tls_handshake_ms(cfg, err, sizeof(err));  /* checked */
	struct dp_listener listeners[CONFIG_LISTENERS_MAX];
	struct dp_config dc = {
		.listeners = listeners,
		.listener_count = cfg->listener_count,
		.core_count = cfg->dataplane_cores,
		.core_cpus = cfg->dataplane_cpu_count > 0 ? cfg->dataplane_cpus : NULL,
		.request_bytes_max = (uint32_t)cfg->socket_request_max_bytes,
		.inflight_max = (uint32_t)cfg->connection_inflight_max,
		.connections_max = (uint32_t)cfg->connections_max,
		.idle_ms = cfg->connections_max_idle_ms,
		.sndbuf = cfg->socket_send_buffer_bytes,
		.rcvbuf = cfg->socket_receive_buffer_bytes,
		.max_connections = (uint32_t)cfg->max_connections,
		.max_connections_per_ip = (uint32_t)cfg->max_connections_per_ip,
		.backlog = 1024,
		.st = st,
		.dpdk = cfg->backend == CONFIG_BACKEND_DPDK ? &dpdk : NULL,
		.tls_handshake_ms = (uint32_t)MAX(handshake_ms, 1),
	};

	STATIC_ASSERT(CONFIG_LISTENERS_MAX <= DP_LISTENERS_MAX, "the dataplane takes every one");
	for (int i = 0; i < cfg->listener_count; i++) {
		const struct config_endpoint *ep = &cfg->listeners[i];

		listeners[i] = (struct dp_listener){
			.name = ep->name, .host = ep->host, .port = ep->port,
			.protocol = ep->protocol,
		};
	}
	return dp_create(&dc);
}

/* Grow the descriptor table now, while the process is still alone, to what
 * the cores' connections (a socket and a splice pipe's two ends each), the
 * storage workers' open files and control may use: growing it later stalls
 * the thread that accepted or opened for an RCU grace period
 * (common/fd_table.h). */
static void
main_fd_table(const struct config *cfg)
{
	uint64_t files = cfg->storage_open_files_max > 0 ?
			 (uint64_t)cfg->storage_open_files_max : UINT32_MAX;
	int64_t n = fd_table_reserve((uint64_t)cfg->dataplane_cores *
				     (uint64_t)cfg->connections_max * 3u + files + 1024u);

	if (n < 0)
		log_warn("main", "descriptor table not grown ahead: %s; accepting new "
			 "connections may stall a core while it grows", strerror((int)-n));
	else
		log_info("main", "descriptor table sized for %lld descriptors", (long long)n);
}

static struct st *
main_storage(const struct config *cfg)
{
	struct st_config sc = {
		.log_dir = cfg->log_dir,
		.log_dirs = (const char *const *)cfg->log_dirs,
		.log_dir_count = cfg->log_dir_count,
		.worker_count = cfg->storage_workers,
		.open_files_max = (uint32_t)cfg->storage_open_files_max,
		.flush_mode = (int)cfg->storage_flush_mode,  /* enum st_flush_mode */
		.core_count = cfg->dataplane_cores + 1,  /* + control's own (ctl_log.c) */
		/* + the replica fetcher's, in cluster mode (ctl_cluster.c) */
		.replica_ring = cfg->zookeeper_connect[0] != '\0',
		.ring_slots = 4096,
		.cleaner = {
			.enable = cfg->log_cleaner_enable,
			.backoff_ms = cfg->log_cleaner_backoff_ms,
			.io_bytes_per_sec =
				cfg->log_cleaner_io_max_bytes_per_second == INT64_MAX
					? 0 : (uint64_t)cfg->log_cleaner_io_max_bytes_per_second,
			.dedupe_buffer_bytes = (uint64_t)cfg->log_cleaner_dedupe_buffer_size,
		},
	};
	char err[512] = "";
	struct st *st = st_create(&sc, err, sizeof(err));

	if (st == NULL)
		log_error("main", "storage: %s", err);
	return st;
}

/* The metrics endpoint, unless spillway.metrics.listen is empty. A bind
 * failure stops startup. It listens before the Kafka listener exists, so
 * once the Kafka port accepts, /metrics does too (scrapers and tests wait
 * for that one signal); scrapes queue until ctl_run() serves them. */
static int
main_metrics(struct ctl *ctl, const struct config *cfg)
{
	char err[512] = "";

	if (cfg->metrics_port == 0)
		return 0;
	if (ctl_metrics_listen(ctl, cfg->metrics_host, cfg->metrics_port, err,
			       sizeof(err)) != 0) {
		log_error("main", "spillway.metrics.listen: cannot listen on %s", err);
		return -EADDRINUSE;
	}
	log_info("main", "metrics on http://%s:%u/metrics", cfg->metrics_host,
		 cfg->metrics_port);
	return 0;
}

/* Storage workers start after the cores attached their wake-ups
 * (dp_create), and the logs open before any core takes a request. */
static int
main_start(struct ctl *ctl, struct st *st, struct dp *dp)
{
	int rc;

	char err[512] = "";

	if (ctl_attach_storage_ring(ctl, st, err, sizeof(err)) != 0) {
		log_error("main", "%s", err);
		return -EINVAL;
	}
	rc = st_start(st);
	if (rc != 0) {
		log_error("main", "cannot start storage workers: %s", strerror(-rc));
		return rc;
	}
	rc = ctl_attach_storage(ctl, st);
	if (rc != 0) {
		log_error("main", "cannot open the partition logs: %s", strerror(-rc));
		return rc;
	}
	rc = ctl_attach(ctl, dp);
	if (rc != 0)
		return rc;
	rc = dp_start(dp);
	if (rc != 0) {
		log_error("main", "cannot start dataplane cores: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

/* One line per listener (tests read the bound port of a port-0 listener
 * from it), then the summary. */
static void
main_log_listeners(const struct config *cfg, const struct dp *dp)
{
	for (int i = 0; i < cfg->listener_count; i++) {
		const struct config_endpoint *ep = &cfg->listeners[i];
		uint16_t port = dp_listener_port(dp, i);
		bool v6 = strchr(ep->host, ':') != NULL;

		log_info("main", "listener %s (%s) on %s%s%s:%u, advertised as %s:%u", ep->name,
			 config_protocol_name(ep->protocol), v6 ? "[" : "",
			 ep->host[0] ? ep->host : "*", v6 ? "]" : "", port, ep->advertised_host,
			 ep->advertised_port != 0 ? ep->advertised_port : port);
	}
	log_info("main", "spillway %s listening on %s:%u (backend %s, %d core(s)), "
		 "advertised as %s:%u", SPILLWAY_VERSION,
		 cfg->listeners[0].host[0] ? cfg->listeners[0].host : "*", dp_bound_port(dp),
		 cfg->backend == CONFIG_BACKEND_DPDK ? "dpdk" : "uring", cfg->dataplane_cores,
		 cfg->listeners[0].advertised_host, cfg->listeners[0].advertised_port != 0
		 ? cfg->listeners[0].advertised_port : dp_bound_port(dp));
}

static int
main_serve(struct config *cfg)
{
	struct sigaction sa = { .sa_handler = main_on_signal };
	char err[512] = "";
	struct ctl *ctl;
	struct st *st;
	struct dp *dp;
	int rc;

	if (cfg->backend == CONFIG_BACKEND_DPDK && !dp_dpdk_available()) {
		fprintf(stderr, "spillway: spillway.backend: 'dpdk' is not available in this "
			"build (libdpdk-dev was missing when it was configured); use 'uring'\n");
		return 2;
	}
	main_fd_table(cfg);
	ctl = ctl_create(cfg, err, sizeof(err));
	if (ctl == NULL) {
		fprintf(stderr, "spillway: %s\n", err);
		return 1;
	}
	if (ctl_tls_handshake_ms(cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "spillway: %s\n", err);
		ctl_destroy(ctl);
		return 1;
	}
	if (main_metrics(ctl, cfg) != 0) {
		ctl_destroy(ctl);
		return 1;
	}
	st = main_storage(cfg);
	dp = st == NULL ? NULL : main_dataplane(cfg, st);
	if (dp == NULL) {
		if (st != NULL)
			st_destroy(st);
		ctl_destroy(ctl);
		return 1;
	}
	if (ctl_tls_publish(dp, ctl, err, sizeof(err)) != 0) {
		fprintf(stderr, "spillway: %s\n", err);
		dp_destroy(dp);
		st_destroy(st);
		ctl_destroy(ctl);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = main_start(ctl, st, dp);
	if (rc != 0) {
		dp_stop(dp);
		ctl_destroy(ctl);
		dp_destroy(dp);
		st_stop(st);
		ctl_storage_stopped();
		st_destroy(st);
		return 1;
	}
	main_log_listeners(cfg, dp);
	ctl_run(ctl, &main_stop);
	log_info("main", "stopping");
	/* Control goes before the rings and the storage workers it uses. */
	dp_stop(dp);
	ctl_destroy(ctl);
	dp_destroy(dp);
	st_stop(st);
	ctl_storage_stopped();
	st_destroy(st);
	return 0;
}

int
main(int argc, char **argv)
{
	struct main_args args = { 0 };
	struct config cfg;
	char err[512] = "";
	int rc = main_parse(argc, argv, &args);

	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (config_load(&cfg, args.config_path, args.override_count, args.overrides, err,
			sizeof(err)) != 0) {
		fprintf(stderr, "spillway: config error: %s\n", err);
		return 2;
	}
	log_set_level(cfg.log_level);
	for (int i = 0; i < cfg.warning_count && i < CONFIG_WARNINGS_MAX; i++)
		log_warn("config", "%s", cfg.warnings[i]);
	rc = main_serve(&cfg);
	config_free(&cfg);
	return rc;
}
