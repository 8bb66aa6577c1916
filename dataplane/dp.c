/* SPDX-License-Identifier: Apache-2.0 */
/* dataplane lifecycle: validate the config, create one SO_REUSEPORT listener
 * and all fixed-capacity per-core state up front, start and pin one thread per
 * core, stop and tear down. Runs on the control thread only; after dp_start()
 * it never touches core state except through dp_ctl.c and the stats. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/efd.h"
#include "common/log.h"
#include "dataplane/dp_int.h"
#include "storage/st.h"

#define DP_CORES_MAX 256
#define DP_CONNECTIONS_MAX (1u << 20)
#define DP_INFLIGHT_MAX 4096u
#define DP_BACKLOG_DEFAULT 1024

static bool
dp_config_ok(const struct dp_config *cfg)
{
	if (cfg->core_count < 1 || cfg->core_count > DP_CORES_MAX)
		return false;
	if (cfg->listener_count < 0 || cfg->listener_count > DP_LISTENERS_MAX ||
	    (cfg->listener_count == 0 && cfg->listen_host == NULL))
		return false;
	for (int i = 0; i < cfg->listener_count; i++) {
		if (cfg->listeners[i].host == NULL || cfg->listeners[i].name == NULL)
			return false;
	}
	if (cfg->request_bytes_max < FRAME_BYTES_MIN || cfg->request_bytes_max > INT32_MAX)
		return false;
	if (cfg->inflight_max < 1 || cfg->inflight_max > DP_INFLIGHT_MAX)
		return false;
	if (cfg->connections_max < 1 || cfg->connections_max > DP_CONNECTIONS_MAX)
		return false;
	/* Every reply slot has its pending-request record (kp_core_create). */
	return (uint64_t)cfg->connections_max * conn_slot_count(cfg->inflight_max) <=
	       KP_CORE_SLOTS_MAX;
}

/* Kafka's socket.send.buffer.bytes / socket.receive.buffer.bytes on a
 * listener, which accepted sockets inherit (the receive size before listen(),
 * so that the window scale offered in the SYN-ACK fits it). A fixed size turns
 * the kernel's autotuning off: a client that sends requests and never reads
 * the responses gets the broker to build only as many as these buffers and
 * the connection's own bound hold, not the megabytes autotuning would grant
 * each socket. <= 0 keeps the OS default. */
static int
dp_listen_bufs(int fd, const struct dp_config *cfg)
{
	if (cfg->sndbuf > 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cfg->sndbuf, sizeof(cfg->sndbuf)) < 0)
		return -errno;
	if (cfg->rcvbuf > 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cfg->rcvbuf, sizeof(cfg->rcvbuf)) < 0)
		return -errno;
	return 0;
}

/* One listening socket on ai's address with the given port (0: ephemeral).
 * Returns the fd or -errno. */
static int
dp_listen_one(const struct addrinfo *ai, uint16_t port, int backlog,
	      const struct dp_config *cfg)
{
	struct sockaddr_storage addr;
	int one = 1;
	int fd, err;

	memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
	if (ai->ai_family == AF_INET)
		((struct sockaddr_in *)&addr)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&addr)->sin6_port = htons(port);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    dp_listen_bufs(fd, cfg) < 0 ||
	    bind(fd, (struct sockaddr *)&addr, ai->ai_addrlen) < 0 ||
	    listen(fd, backlog) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static uint16_t
dp_sock_port(int fd)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);

	if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0)
		return 0;
	if (addr.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&addr)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
}

/* Resolve listener l's host and give every core its own socket on one
 * port: the first binds (an ephemeral port when the port is 0), the rest
 * share it through SO_REUSEPORT, so the kernel spreads connections across
 * cores. */
static int
dp_listen(struct dp *dp, int l)
{
	const struct dp_listener *li = &dp->listeners[l];
	/* "" means all interfaces: getaddrinfo(NULL) with AI_PASSIVE. */
	const char *host = li->host[0] != '\0' ? li->host : NULL;
	struct addrinfo hints, *res, *ai;
	int backlog = dp->cfg.backlog > 0 ? dp->cfg.backlog : DP_BACKLOG_DEFAULT;
	int rc, fd = -EADDRNOTAVAIL, i;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host, "0", &hints, &res);
	if (rc != 0) {
		log_error("dp", "listener %s: cannot resolve listen host %s: %s", li->name,
			  li->host, gai_strerror(rc));
		return -EADDRNOTAVAIL;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		fd = dp_listen_one(ai, li->port, backlog, &dp->cfg);
		if (fd >= 0)
			break;
	}
	if (fd < 0) {
		freeaddrinfo(res);
		log_error("dp", "listener %s: cannot listen on %s:%u: %s", li->name, li->host,
			  li->port, strerror(-fd));
		return fd;
	}
	dp->cores[0].listen_fds[l] = fd;
	dp->ports[l] = dp_sock_port(fd);
	for (i = 1; i < dp->core_count; i++) {
		fd = dp_listen_one(ai, dp->ports[l], backlog, &dp->cfg);
		if (fd < 0) {
			freeaddrinfo(res);
			log_error("dp", "listener %s: cannot add core %d's socket on port %u: %s",
				  li->name, i, dp->ports[l], strerror(-fd));
			return fd;
		}
		dp->cores[i].listen_fds[l] = fd;
	}
	freeaddrinfo(res);
	return 0;
}

/* The listeners of cfg, or listener 0 PLAINTEXT on listen_host:listen_port
 * when it names none. */
static void
dp_listeners_copy(struct dp *dp, const struct dp_config *cfg)
{
	if (cfg->listener_count == 0) {
		dp->listeners[0] = (struct dp_listener){
			.name = "PLAINTEXT", .host = cfg->listen_host,
			.port = cfg->listen_port, .protocol = KP_SEC_PLAINTEXT,
		};
		dp->listener_count = 1;
	} else {
		memcpy(dp->listeners, cfg->listeners,
		       sizeof(*cfg->listeners) * (size_t)cfg->listener_count);
		dp->listener_count = cfg->listener_count;
	}
	dp->cfg.listeners = dp->listeners;
	dp->cfg.listener_count = dp->listener_count;
}

static struct dp_list
dp_list_make(uint32_t count, uint32_t bit)
{
	struct dp_list list = { .ids = calloc(count, sizeof(uint32_t)), .bit = bit };

	return list;
}

/* Allocate everything one core will ever use: the connection table and its
 * reply slots (connections_max x inflight_max rounded up to a power of two),
 * the work lists, the control rings and the io_uring ring with its buffers. */
static int
dp_core_create(struct dp *dp, struct dp_core *core)
{
	uint32_t slot_count = conn_slot_count(dp->cfg.inflight_max);
	uint32_t n = dp->cfg.connections_max;
	uint32_t id;
	int rc;

	core->conn_count = n;
	core->conns = calloc(n, sizeof(*core->conns));
	core->slots = calloc((size_t)n * slot_count, sizeof(*core->slots));
	core->free_ids = calloc(n, sizeof(uint32_t));
	core->slot_t0 = calloc((size_t)n * slot_count, sizeof(*core->slot_t0));
	core->slot_api = calloc((size_t)n * slot_count, sizeof(*core->slot_api));
	core->slot_stage = calloc((size_t)n * slot_count, sizeof(*core->slot_stage));
	core->slot_throttle = calloc((size_t)n * slot_count, sizeof(*core->slot_throttle));
	core->rx = dp_list_make(n, CONN_ON_RX);
	core->tx = dp_list_make(n, CONN_ON_TX);
	core->arm = dp_list_make(n, CONN_ON_ARM);
	core->bufwait = dp_list_make(n, CONN_ON_BUFWAIT);
	core->closed = dp_list_make(n, CONN_ON_CLOSED);
	core->rx_spare = calloc(n, sizeof(*core->rx_spare));
	if (core->conns == NULL || core->slots == NULL || core->free_ids == NULL ||
	    core->slot_t0 == NULL || core->slot_api == NULL || core->slot_stage == NULL ||
	    core->slot_throttle == NULL ||
	    core->rx.ids == NULL || core->tx.ids == NULL || core->arm.ids == NULL ||
	    core->bufwait.ids == NULL || core->closed.ids == NULL || core->rx_spare == NULL)
		return -ENOMEM;
	for (id = 0; id < n; id++) {
		conn_init(&core->conns[id], id, core->slots + (size_t)id * slot_count,
			  dp->cfg.inflight_max, dp->cfg.request_bytes_max);
		core->free_ids[id] = n - 1 - id;        /* pop low ids first */
	}
	core->free_count = n;
	rc = dp_ctl_init(core);
	if (rc < 0)
		return rc;
	core->net = dp->cfg.dpdk != NULL ? dp_dpdk_net_get() : &dp_uring_net;
	core->mute_next_ns = UINT64_MAX;        /* no conn muted */
	core->tls_next_ns = UINT64_MAX;         /* no handshake under way */
	if (dp->cfg.st != NULL) {
		/* Storage completions wake the core through its control eventfd. */
		core->kc = kp_core_create(dp->cfg.st, core->index, n * slot_count);
		if (core->kc == NULL)
			return -ENOMEM;
		st_attach_core(dp->cfg.st, core->index, core->wake_fd);
	}
	return core->net->core_init(core);
}

/* @thread control */
int
dp_core_bufs_alloc(struct dp_core *core, uint32_t count)
{
	ASSERT(count > 0 && count < CONN_BUF_NONE);
	core->buf_count = count;
	core->buf_ptr = calloc(count, sizeof(*core->buf_ptr));
	core->buf_next = calloc(count, sizeof(*core->buf_next));
	core->buf_len = calloc(count, sizeof(*core->buf_len));
	core->buf_refs = calloc(count, sizeof(*core->buf_refs));
	core->buf_parsed = calloc(count, sizeof(*core->buf_parsed));
	if (core->buf_ptr == NULL || core->buf_next == NULL || core->buf_len == NULL ||
	    core->buf_refs == NULL || core->buf_parsed == NULL)
		return -ENOMEM;
	return 0;
}

static void
dp_core_bufs_free(struct dp_core *core)
{
	free(core->buf_ptr);
	free(core->buf_next);
	free(core->buf_len);
	free(core->buf_refs);
	free(core->buf_parsed);
}

/* @thread control */
struct dp *
dp_create(const struct dp_config *cfg)
{
	struct dp *dp;
	int i, rc;

	if (!dp_config_ok(cfg)) {
		log_error("dp", "invalid dataplane config");
		return NULL;
	}
	dp = calloc(1, sizeof(*dp));
	if (dp == NULL)
		return NULL;
	dp->cfg = *cfg;
	dp_listeners_copy(dp, cfg);
	dp->core_count = cfg->core_count;
	dp->cores = aligned_alloc(CACHE_LINE, sizeof(*dp->cores) * (size_t)cfg->core_count);
	dp->ctl_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dp->cores == NULL || dp->ctl_efd < 0 || dp_limits_init(dp) != 0) {
		dp->core_count = dp->cores == NULL ? 0 : dp->core_count;
		goto fail;
	}
	memset(dp->cores, 0, sizeof(*dp->cores) * (size_t)cfg->core_count);
	for (i = 0; i < dp->core_count; i++) {
		dp->cores[i].dp = dp;
		dp->cores[i].index = i;
		for (int l = 0; l < DP_LISTENERS_MAX; l++)
			dp->cores[i].listen_fds[l] = -1;
		dp->cores[i].wake_fd = -1;
	}
	if (cfg->dpdk != NULL) {
		if (dp_dpdk_setup(dp) < 0)
			goto fail;
	} else {
		for (i = 0; i < dp->listener_count; i++) {
			if (dp_listen(dp, i) < 0)
				goto fail;
		}
	}
	for (i = 0; i < dp->core_count; i++) {
		rc = dp_core_create(dp, &dp->cores[i]);
		if (rc < 0) {
			log_error("dp", "core %d setup failed: %s", i, strerror(-rc));
			goto fail;
		}
	}
	if (cfg->dpdk != NULL && dp_dpdk_port_start(dp) < 0)
		goto fail;
	return dp;
fail:
	dp_destroy(dp);
	return NULL;
}

/* Wait until every core thread has enabled its backend (a syscall or two,
 * so a short poll); the first failure is logged and returned as -errno.
 * @thread control */
static int
dp_start_wait(struct dp *dp)
{
	const struct timespec poll = { .tv_nsec = 100000 };
	int i, rc, first = 0;

	for (i = 0; i < dp->core_count; i++) {
		struct dp_core *core = &dp->cores[i];

		/* Acquire pairs with the release store in dp_core_main(). */
		while ((rc = __atomic_load_n(&core->enable_rc, __ATOMIC_ACQUIRE)) ==
		       DP_ENABLE_PENDING)
			nanosleep(&poll, NULL);
		if (rc < 0) {
			log_error("dp", "core %d: cannot enable the %s backend: %s", i,
				  core->net->name, strerror(-rc));
			if (first == 0)
				first = rc;
		}
	}
	return first;
}

/* @thread control */
int
dp_start(struct dp *dp)
{
	long nproc = sysconf(_SC_NPROCESSORS_ONLN);
	int i, rc;

	ASSERT(!dp->started);
	ASSERT(dp->md != NULL);         /* dp_ctl_md_publish() comes first */
	for (i = 0; i < dp->core_count; i++) {
		struct dp_core *core = &dp->cores[i];
		int cpu = dp->cfg.core_cpus != NULL ? dp->cfg.core_cpus[i]
						    : (int)(i % (nproc > 0 ? nproc : 1));
		cpu_set_t set;

		core->enable_rc = DP_ENABLE_PENDING;
		rc = pthread_create(&core->thread, NULL, dp_core_main, core);
		if (rc != 0) {
			log_error("dp", "cannot start core %d: %s", i, strerror(rc));
			dp->started = true;
			dp_stop(dp);
			return -rc;
		}
		core->thread_started = true;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		rc = pthread_setaffinity_np(core->thread, sizeof(set), &set);
		if (rc != 0)
			log_warn("dp", "core %d: cannot pin to cpu %d: %s", i, cpu, strerror(rc));
	}
	dp->started = true;
	rc = dp_start_wait(dp);
	if (rc < 0)
		dp_stop(dp);
	return rc;
}

/* @thread control */
void
dp_stop(struct dp *dp)
{
	int i;

	if (!dp->started)
		return;
	/* Release pairs with the acquire load at the top of each loop turn. */
	__atomic_store_n(&dp->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < dp->core_count; i++)
		if (dp->cores[i].thread_started)
			efd_kick(dp->cores[i].wake_fd);
	for (i = 0; i < dp->core_count; i++) {
		if (!dp->cores[i].thread_started)
			continue;
		pthread_join(dp->cores[i].thread, NULL);
		dp->cores[i].thread_started = false;
	}
	dp->started = false;
}

/* @thread control */
void
dp_destroy(struct dp *dp)
{
	int i;

	if (dp == NULL)
		return;
	dp_stop(dp);
	for (i = 0; i < DP_LISTENERS_MAX; i++)
		dp_tls_ctx_unref(dp->tls[i]);   /* the cores' conns are closed */
	for (i = 0; i < dp->core_count; i++) {
		struct dp_core *core = &dp->cores[i];

		if (core->net != NULL)
			core->net->core_fini(core);
		dp_core_bufs_free(core);
		for (int l = 0; l < DP_LISTENERS_MAX; l++) {
			if (core->listen_fds[l] >= 0)
				close(core->listen_fds[l]);
		}
		dp_ctl_fini(core);
		kp_core_destroy(core->kc);
		free(core->conns);
		free(core->slots);
		free(core->slot_t0);
		free(core->slot_api);
		free(core->slot_stage);
		free(core->slot_throttle);
		free(core->free_ids);
		free(core->rx.ids);
		free(core->tx.ids);
		free(core->arm.ids);
		free(core->bufwait.ids);
		free(core->closed.ids);
		free(core->rx_spare);
	}
	if (dp->ctl_efd >= 0)
		close(dp->ctl_efd);
	if (dp->cfg.dpdk != NULL)
		dp_dpdk_teardown(dp);
	free(dp->cores);
	dp_limits_fini(dp);
	free(dp);
}

int
dp_core_count(const struct dp *dp)
{
	return dp->core_count;
}

uint16_t
dp_bound_port(const struct dp *dp)
{
	return dp->ports[0];
}

int
dp_listener_count(const struct dp *dp)
{
	return dp->listener_count;
}

uint16_t
dp_listener_port(const struct dp *dp, int listener)
{
	ASSERT(listener >= 0 && listener < dp->listener_count);
	return dp->ports[listener];
}

/* Relaxed load pairs with the relaxed store in dp_stat_add(): each counter
 * is read whole, and the sum is a snapshot only approximately. */
static uint64_t
dp_stat_load(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/* struct dp_stats is a run of uint64_t counters, read as one array so that
 * a new counter needs no reader code. */
#define DP_STATS_COUNTERS (sizeof(struct dp_stats) / sizeof(uint64_t))
STATIC_ASSERT(offsetof(struct dp_stats, tls_file_reads_async) ==
	      (DP_STATS_COUNTERS - 1) * sizeof(uint64_t), "dp_stats is only uint64_t counters");

/* Add one core's counters into sum. */
static void
dp_stats_add(const struct dp_stats *s, struct dp_stats *sum)
{
	const uint64_t *from = &s->connections_accepted;
	uint64_t *to = &sum->connections_accepted;

	for (size_t i = 0; i < DP_STATS_COUNTERS; i++)
		to[i] += dp_stat_load(&from[i]);
}

/* Sum every core's counters. @thread any */
void
dp_stats_read(const struct dp *dp, struct dp_stats *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (int i = 0; i < dp->core_count; i++)
		dp_stats_add(&dp->cores[i].stats, sum);
}

void
dp_core_stats_read(const struct dp *dp, int core, struct dp_stats *out)
{
	ASSERT(core >= 0 && core < dp->core_count);
	memset(out, 0, sizeof(*out));
	dp_stats_add(&dp->cores[core].stats, out);
}

/* Relaxed loads pair with dp_stat_add() and hist_add() on the cores. */
void
dp_api_stats_read(const struct dp *dp, int api_key, struct dp_api_stats *sum)
{
	ASSERT(api_key >= 0 && api_key < DP_API_KEYS);
	memset(sum, 0, sizeof(*sum));
	for (int i = 0; i < dp->core_count; i++) {
		const struct dp_api_stats *a = &dp->cores[i].api[api_key];

		sum->requests += dp_stat_load(&a->requests);
		sum->errors += dp_stat_load(&a->errors);
		hist_read_add(&sum->latency, &a->latency);
	}
}

/* Relaxed loads pair with hist_add() on the cores (stage_add()). */
void
dp_stage_stats_read(const struct dp *dp, struct stage_hists *sum)
{
	for (int i = 0; i < dp->core_count; i++)
		stage_read_add(sum, &dp->cores[i].stages);
}
