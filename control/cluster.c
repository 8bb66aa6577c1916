/* SPDX-License-Identifier: Apache-2.0 */
/* The cluster handle: the ZooKeeper session (connect, chroot, expiry and
 * re-registration), /cluster/id, this broker's ephemeral registration, the
 * watches that only flag events and write the eventfd, and cluster_poll(),
 * which re-reads what changed and lets the controller act. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/assert.h"
#include "common/log.h"
#include "common/uuid.h"
#include "control/cluster_int.h"

int64_t
cluster_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
cluster_flag(struct cluster *cl, uint32_t events)
{
	uint64_t one = 1;

	atomic_fetch_or(&cl->events, events);
	/* A full counter still leaves the fd readable: nothing is lost. */
	if (write(cl->efd, &one, sizeof(one)) < 0)
		return;
}

static bool
is_state_path(const char *path)
{
	size_t n = strlen(path);

	return strncmp(path, "/brokers/topics/", 16) == 0 && n > 6 &&
	       strcmp(path + n - 6, "/state") == 0;
}

/* @thread libzookeeper's completion thread. */
static uint32_t
dirty_add(struct cluster *cl, const char *path)
{
	uint32_t ev = CL_EV_STATES;

	pthread_mutex_lock(&cl->dirty_lock);
	if (cl->dirty_count < CL_DIRTY_MAX)
		cl->dirty[cl->dirty_count++] = strdup(path);
	else
		ev = CL_EV_TOPICS;      /* too many: read everything */
	pthread_mutex_unlock(&cl->dirty_lock);
	return ev;
}

/* Take the changed state paths (the caller frees them). */
static int32_t
dirty_take(struct cluster *cl, char **out)
{
	int32_t n;

	pthread_mutex_lock(&cl->dirty_lock);
	n = cl->dirty_count;
	memcpy(out, cl->dirty, sizeof(char *) * (size_t)n);
	cl->dirty_count = 0;
	pthread_mutex_unlock(&cl->dirty_lock);
	return n;
}

/* @thread libzookeeper's completion thread: flags only. */
void
cluster_zk_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	struct cluster *cl = ctx;
	uint32_t ev = CL_EV_TOPICS;

	(void)zh;
	(void)state;
	if (type == ZOO_SESSION_EVENT)
		ev = CL_EV_SESSION;
	else if (path != NULL && strcmp(path, "/brokers/ids") == 0)
		ev = CL_EV_BROKERS;
	else if (path != NULL && strcmp(path, "/controller") == 0)
		ev = CL_EV_CONTROLLER;
	else if (path != NULL && strcmp(path, "/admin/delete_topics") == 0)
		ev = CL_EV_DELETE;
	else if (path != NULL && is_state_path(path) && type != ZOO_DELETED_EVENT)
		ev = dirty_add(cl, path);
	cluster_flag(cl, ev);
}

int
cluster_zk_mkdirs(zhandle_t *zh, const char *path)
{
	char buf[CL_PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(buf) || path[0] != '/')
		return ZBADARGUMENTS;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		int rc;

		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		rc = zoo_create(zh, buf, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
		if (rc != ZOK && rc != ZNODEEXISTS)
			return rc;
		buf[i] = path[i];
	}
	return ZOK;
}

int
cluster_zk_get(struct cluster *cl, const char *path, bool watch, char **out, struct Stat *stat)
{
	int len = 4096, rc;

	for (;;) {
		char *buf = malloc((size_t)len + 1);
		int got = len;

		ASSERT(buf != NULL);
		rc = zoo_wget(cl->zh, path, watch ? cluster_zk_watcher : NULL, cl, buf, &got, stat);
		if (rc != ZOK) {
			free(buf);
			return rc;
		}
		if (stat->dataLength > len && stat->dataLength <= CL_DATA_MAX) {
			free(buf);
			len = stat->dataLength;
			continue;
		}
		buf[got < 0 ? 0 : got] = '\0';
		*out = buf;
		return ZOK;
	}
}

void
cluster_changes_expire(struct cluster *cl, const char *dir)
{
	struct String_vector kids = { 0 };
	struct timespec ts;
	int64_t now_ms;

	if (zoo_get_children(cl->zh, dir, 0, &kids) != ZOK)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	for (int32_t i = 0; i < kids.count; i++) {
		char path[CL_PATH_MAX];
		struct Stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, kids.data[i]);
		if (zoo_exists(cl->zh, path, 0, &st) == ZOK &&
		    now_ms - st.ctime > cl->change_expiration_ms)
			(void)zoo_delete(cl->zh, path, -1);
	}
	deallocate_String_vector(&kids);
}

/* libzookeeper's own lines (errors only, see cluster_open) as ours.
 * @thread libzookeeper's threads */
static void
zk_log(const char *message)
{
	const char *tail = strstr(message, "ZOO_");  /* past its own time stamp */

	log_warn("zookeeper", "%s", tail != NULL ? tail : message);
}

/* Connect to hosts, waiting up to the connection timeout. */
static zhandle_t *
zk_connect(struct cluster *cl, const char *hosts, char *err, size_t err_size)
{
	int64_t deadline = mono_ms() + cl->connection_timeout_ms;
	zhandle_t *zh = zookeeper_init2(hosts, cluster_zk_watcher, cl->session_timeout_ms, NULL,
					cl, 0, zk_log);

	if (zh == NULL) {
		snprintf(err, err_size, "zookeeper.connect %s: %s", hosts, strerror(errno));
		return NULL;
	}
	while (zoo_state(zh) != ZOO_CONNECTED_STATE) {
		if (mono_ms() > deadline) {
			snprintf(err, err_size, "zookeeper.connect %s: no session within "
				 "zookeeper.connection.timeout.ms %d", hosts,
				 cl->connection_timeout_ms);
			zookeeper_close(zh);
			return NULL;
		}
		usleep(10000);
	}
	return zh;
}

/* zookeeper.connect "h:p,h:p/chroot": create the chroot first, as Kafka. */
static int
zk_open(struct cluster *cl, char *err, size_t err_size)
{
	const char *chroot = strchr(cl->connect, '/');

	if (chroot != NULL && chroot[1] != '\0') {
		char *hosts = strndup(cl->connect, (size_t)(chroot - cl->connect));
		zhandle_t *zh = zk_connect(cl, hosts, err, err_size);
		int rc = zh != NULL ? cluster_zk_mkdirs(zh, chroot) : ZCONNECTIONLOSS;

		free(hosts);
		if (zh != NULL)
			zookeeper_close(zh);
		if (rc != ZOK) {
			if (zh != NULL)
				snprintf(err, err_size, "zookeeper.connect chroot %s: %s", chroot,
					 zerror(rc));
			return -1;
		}
	}
	cl->zh = zk_connect(cl, cl->connect, err, err_size);
	return cl->zh != NULL ? 0 : -1;
}

static int
cluster_id_check(struct cluster *cl, const char *want, char *err, size_t err_size)
{
	struct Stat st;
	char *data = NULL, text[UUID_TEXT_BYTES], json[128];
	int rc = cluster_zk_get(cl, "/cluster/id", false, &data, &st);

	if (rc == ZNONODE) {
		const char *id_text = want;

		/* No id of our own: a fresh one, unless another broker's
		 * create wins the race (then its id is the cluster's). */
		if (id_text == NULL || id_text[0] == '\0') {
			struct kp_uuid id;

			md_uuid_random(&id);
			uuid_to_text(id.b, text);
			id_text = text;
		}
		snprintf(json, sizeof(json), "{\"version\":\"1\",\"id\":\"%s\"}", id_text);
		(void)cluster_zk_mkdirs(cl->zh, "/cluster");
		rc = zoo_create(cl->zh, "/cluster/id", json, (int)strlen(json),
				&ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
		if (rc == ZOK || rc == ZNODEEXISTS)
			rc = cluster_zk_get(cl, "/cluster/id", false, &data, &st);
	}
	if (rc != ZOK) {
		snprintf(err, err_size, "/cluster/id: %s", zerror(rc));
		return -1;
	}
	rc = cj_cluster_id_decode(data, cl->cluster_id, sizeof(cl->cluster_id));
	if (rc != 0)
		snprintf(err, err_size, "/cluster/id: unreadable %s", data);
	else if (want != NULL && want[0] != '\0' && strcmp(want, cl->cluster_id) != 0) {
		snprintf(err, err_size, "The Cluster ID %s doesn't match stored clusterId %s in "
			 "meta.properties. The broker is trying to join the wrong cluster. "
			 "Configured zookeeper.connect may be wrong.", cl->cluster_id, want);
		rc = -1;
	}
	free(data);
	return rc;
}

static int
register_broker(struct cluster *cl, char *err, size_t err_size)
{
	char path[64], *json = cj_broker_encode(cl);
	int rc;

	snprintf(path, sizeof(path), "/brokers/ids/%d", cl->broker_id);
	rc = zoo_create(cl->zh, path, json, (int)strlen(json), &ZOO_OPEN_ACL_UNSAFE,
			ZOO_EPHEMERAL, NULL, 0);
	/* A registration left by this id's previous process (killed before
	 * its session ended) goes with that session: wait for it, bounded by
	 * the session timeout, rather than fail a quick restart. A live
	 * broker with the same id keeps it, and the start fails below. */
	for (int64_t end = mono_ms() + cl->session_timeout_ms + 2000;
	     rc == ZNODEEXISTS && mono_ms() < end;) {
		struct Stat st;

		if (zoo_exists(cl->zh, path, 0, &st) == ZOK &&
		    st.ephemeralOwner == zoo_client_id(cl->zh)->client_id) {
			rc = ZOK;       /* our own, from before a reconnect */
			break;
		}
		usleep(200000);
		rc = zoo_create(cl->zh, path, json, (int)strlen(json), &ZOO_OPEN_ACL_UNSAFE,
				ZOO_EPHEMERAL, NULL, 0);
	}
	free(json);
	if (rc == ZNODEEXISTS) {
		/* Ours already, when an answer was lost (Kafka checks the same). */
		struct Stat st;

		if (zoo_exists(cl->zh, path, 0, &st) == ZOK &&
		    st.ephemeralOwner == zoo_client_id(cl->zh)->client_id)
			rc = ZOK;
	}
	if (rc == ZNODEEXISTS)
		snprintf(err, err_size, "broker.id %d is already registered in ZooKeeper at %s "
			 "(another broker with this id is running)", cl->broker_id, path);
	else if (rc != ZOK)
		snprintf(err, err_size, "registering %s: %s", path, zerror(rc));
	return rc == ZOK ? 0 : -1;
}

static const char *const base_paths[] = {
	"/brokers/ids", "/brokers/topics", "/admin/delete_topics", "/config/topics",
	"/config/changes",
};

static int
session_start(struct cluster *cl, char *err, size_t err_size)
{
	for (size_t i = 0; i < sizeof(base_paths) / sizeof(base_paths[0]); i++) {
		int rc = cluster_zk_mkdirs(cl->zh, base_paths[i]);

		if (rc != ZOK) {
			snprintf(err, err_size, "%s: %s", base_paths[i], zerror(rc));
			return -1;
		}
	}
	if (register_broker(cl, err, err_size) != 0)
		return -1;
	cl->controller = false;
	if (cluster_ctl_elect(cl) != ZOK || cluster_view_read(cl) != ZOK) {
		snprintf(err, err_size, "reading the cluster state from ZooKeeper failed");
		return -1;
	}
	cluster_ctl_act(cl);
	return 0;
}

static void
copy_config(struct cluster *cl, const struct cluster_config *cfg)
{
	cl->connect = strdup(cfg->connect);
	cl->session_timeout_ms = cfg->session_timeout_ms > 0 ? cfg->session_timeout_ms : 18000;
	cl->connection_timeout_ms = cfg->connection_timeout_ms > 0 ? cfg->connection_timeout_ms
								   : cl->session_timeout_ms;
	cl->broker_id = cfg->broker_id;
	cl->change_expiration_ms = cfg->change_expiration_ms > 0 ? cfg->change_expiration_ms
								 : CL_CHANGE_EXPIRATION_MS;
	cl->rack = cfg->rack != NULL && cfg->rack[0] != '\0' ? strdup(cfg->rack) : NULL;
	cl->unclean_leader_election = cfg->unclean_leader_election;
	ASSERT(cfg->endpoint_count >= 0 && cfg->endpoint_count <= KP_LISTENERS_MAX);
	cl->endpoint_count = cfg->endpoint_count;
	for (int32_t i = 0; i < cfg->endpoint_count; i++) {
		cl->endpoints[i] = cfg->endpoints[i];
		cl->endpoints[i].listener = strdup(cfg->endpoints[i].listener);
		cl->endpoints[i].host = strdup(cfg->endpoints[i].host);
	}
	cl->view.controller_id = -1;
}

struct cluster *
cluster_open(const struct cluster_config *cfg, char *err, size_t err_size)
{
	struct cluster *cl = calloc(1, sizeof(*cl));

	ASSERT(cl != NULL);
	ASSERT(cfg->connect != NULL);
	pthread_mutex_init(&cl->dirty_lock, NULL);
	zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
	copy_config(cl, cfg);
	cl->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (cl->efd < 0) {
		snprintf(err, err_size, "eventfd: %s", strerror(errno));
		cluster_close(cl);
		return NULL;
	}
	if (zk_open(cl, err, err_size) != 0 ||
	    cluster_id_check(cl, cfg->cluster_id, err, err_size) != 0 ||
	    session_start(cl, err, err_size) != 0) {
		cluster_close(cl);
		return NULL;
	}
	return cl;
}

void
cluster_close(struct cluster *cl)
{
	if (cl == NULL)
		return;
	if (cl->zh != NULL)
		zookeeper_close(cl->zh);
	if (cl->efd >= 0)
		close(cl->efd);
	for (int32_t i = 0; i < cl->dirty_count; i++)
		free(cl->dirty[i]);
	pthread_mutex_destroy(&cl->dirty_lock);
	cluster_view_free(&cl->view, cl->config_topics, cl->config_topic_count);
	free(cl->epochs);
	free(cl->seen);
	free(cl->bounced);
	for (int32_t i = 0; i < cl->endpoint_count; i++) {
		free(cl->endpoints[i].listener);
		free(cl->endpoints[i].host);
	}
	free(cl->connect);
	free(cl->rack);
	free(cl);
}

int
cluster_fd(const struct cluster *cl)
{
	return cl->efd;
}

const struct md_cluster *
cluster_view(const struct cluster *cl)
{
	return &cl->view;
}

const char *
cluster_id(const struct cluster *cl)
{
	return cl->cluster_id;
}

bool
cluster_is_controller(const struct cluster *cl)
{
	return cl->controller;
}

/* The session expired: a new one, registered again, a new election. */
static void
session_renew(struct cluster *cl)
{
	char err[256];

	if (cl->zh != NULL)
		zookeeper_close(cl->zh);
	cl->zh = NULL;
	cl->controller = false;
	if (zk_open(cl, err, sizeof(err)) == 0 && session_start(cl, err, sizeof(err)) == 0)
		return;
	log_error("cluster", "re-registering after session expiry: %s", err);
	/* From scratch on the next poll (a half-started session included). */
	if (cl->zh != NULL)
		zookeeper_close(cl->zh);
	cl->zh = NULL;
	cluster_flag(cl, CL_EV_SESSION);
}

/* Read what ev says changed: everything, or only the changed states. */
static bool
poll_read(struct cluster *cl, uint32_t ev)
{
	char *paths[CL_DIRTY_MAX];
	int32_t n = dirty_take(cl, paths);
	bool changed = false;

	if ((ev & ~(uint32_t)CL_EV_STATES) != 0) {
		changed = cluster_view_read(cl) == ZOK;
	} else {
		for (int32_t i = 0; i < n; i++)
			changed |= cluster_view_read_state(cl, paths[i]) == ZOK;
	}
	for (int32_t i = 0; i < n; i++)
		free(paths[i]);
	return changed;
}

bool
cluster_poll(struct cluster *cl)
{
	uint64_t n;
	uint32_t ev;
	bool changed = false;

	while (read(cl->efd, &n, sizeof(n)) > 0)
		;
	ev = atomic_exchange(&cl->events, 0);
	if (cl->zh == NULL || zoo_state(cl->zh) == ZOO_EXPIRED_SESSION_STATE) {
		session_renew(cl);
		return true;
	}
	if (zoo_state(cl->zh) != ZOO_CONNECTED_STATE)
		return false;   /* the client reconnects; a session event follows */
	/* Bounded: each round re-reads what the previous one wrote. */
	for (int round = 0; round < 4 && ev != 0; round++) {
		if ((ev & CL_EV_CONTROLLER) != 0 || cl->view.controller_id < 0)
			(void)cluster_ctl_elect(cl);
		changed |= poll_read(cl, ev);
		if (!cl->controller)
			break;
		cluster_ctl_act(cl);
		ev = atomic_exchange(&cl->events, 0);
	}
	if (ev != 0 && cl->controller)
		cluster_flag(cl, ev);   /* still more: the next poll */
	return changed;
}
