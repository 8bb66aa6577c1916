/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/cluster*.c against a real ZooKeeper (tzk.c) with several
 * struct cluster instances in one process as brokers 1..3 (each its own
 * session): registration, one controller, partition states of new topics,
 * leader election from the ISR when a leader's broker goes, a new
 * controller with a higher epoch and a deposed controller fenced, ISR
 * changes conditional on the version, rack-aware assignment, partitions
 * added, config changes seen by every broker, topic deletion, controlled
 * shutdown and producer id blocks. Kafka's assignment examples without a
 * server. Skipped when java or the zookeeper jars are missing. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control/cluster_int.h"
#include "tests/unit/control/tzk.h"

#define BROKERS 3
#define WAIT_MS 30000
#define KAFKA_WAIT_MS 120000   /* a JVM broker on a loaded machine */

static struct tzk zk;
static char connect_str[96];
static struct md_cluster_endpoint eps[BROKERS + 2];
static char hosts[] = "127.0.0.1";
static char listener[] = "PLAINTEXT";
static int port_base = 9090;    /* broker n advertises port_base + n */

static void
zk_setup(void)
{
	/* A chroot, created by cluster_open as Kafka does. */
	tzk_setup(&zk, "/spillway/test", connect_str, sizeof(connect_str));
}

static void
zk_teardown(void)
{
	tzk_stop(&zk);
}

static struct cluster *
broker_open(int32_t id, const char *rack)
{
	struct cluster_config cfg = {
		.connect = connect_str, .session_timeout_ms = 4000,
		.connection_timeout_ms = 20000, .broker_id = id, .rack = rack,
		.endpoint_count = 1, .endpoints = &eps[id],
	};
	char err[256] = "";
	struct cluster *cl;

	eps[id] = (struct md_cluster_endpoint){ .listener = listener, .host = hosts,
						 .port = port_base + id, .protocol = 0 };
	cl = cluster_open(&cfg, err, sizeof(err));
	cr_assert_not_null(cl, "broker %d: %s", id, err);
	return cl;
}

typedef bool (*settled_fn)(struct cluster *const *cls, const void *arg);

/* Poll every open instance until settled says so (bounded). */
static int64_t wait_ms = WAIT_MS;

static void
poll_until(struct cluster *const *cls, settled_fn settled, const void *arg, const char *what)
{
	int64_t deadline = tzk_mono_ms() + wait_ms;

	for (;;) {
		for (int i = 0; i < BROKERS; i++)
			if (cls[i] != NULL)
				(void)cluster_poll(cls[i]);
		if (settled(cls, arg))
			return;
		cr_assert_lt(tzk_mono_ms(), deadline, "timed out waiting for %s", what);
		usleep(20000);
	}
}

static bool
all_see_brokers(struct cluster *const *cls, const void *arg)
{
	int32_t want = *(const int32_t *)arg, controller = -2;

	for (int i = 0; i < BROKERS; i++) {
		const struct md_cluster *v;

		if (cls[i] == NULL)
			continue;
		v = cluster_view(cls[i]);
		if (v->broker_count != want || v->controller_id < 0)
			return false;
		if (controller != -2 && v->controller_id != controller)
			return false;
		controller = v->controller_id;
	}
	return true;
}

/* Every instance sees topic arg with a state for every partition. */
static bool
all_see_states(struct cluster *const *cls, const void *arg)
{
	for (int i = 0; i < BROKERS; i++) {
		const struct md_cluster_topic *t;

		if (cls[i] == NULL)
			continue;
		t = md_cluster_topic(cluster_view(cls[i]),
				     (struct kp_str){ arg, (int32_t)strlen(arg) });
		if (t == NULL)
			return false;
		for (int32_t p = 0; p < t->partition_count; p++)
			if (!t->partitions[p].has_state)
				return false;
	}
	return true;
}

static const struct md_cluster_topic *
topic_of(const struct cluster *cl, const char *name)
{
	return md_cluster_topic(cluster_view(cl), (struct kp_str){ name, (int32_t)strlen(name) });
}

static int
controller_index(struct cluster *const *cls)
{
	int found = -1;

	for (int i = 0; i < BROKERS; i++) {
		if (cls[i] != NULL && cluster_is_controller(cls[i])) {
			cr_assert_eq(found, -1, "two controllers");
			found = i;
		}
	}
	return found;
}

static struct kp_uuid
some_id(uint8_t b)
{
	struct kp_uuid id;

	memset(id.b, b, sizeof(id.b));
	return id;
}

static void
create_topic(struct cluster *cl, const char *name, int32_t partitions, int16_t rf)
{
	struct kp_uuid id = some_id(7);
	char msg[256];
	int16_t err = cluster_topic_create(cl, name, &id, partitions, rf, NULL, 0, false, msg,
					   sizeof(msg));

	cr_assert_eq(err, KP_ERR_NONE, "create %s: %d %s", name, err, msg);
}

TestSuite(cluster, .init = zk_setup, .fini = zk_teardown, .timeout = 240);

struct leader_gone {
	const char *topic;
	int32_t partition;
	int32_t dead;
};

static bool
leader_moved(struct cluster *const *cls, const void *arg)
{
	const struct leader_gone *g = arg;

	for (int i = 0; i < BROKERS; i++) {
		const struct md_cluster_topic *t;

		if (cls[i] == NULL)
			continue;
		t = topic_of(cls[i], g->topic);
		if (t == NULL || t->partitions[g->partition].leader == g->dead ||
		    t->partitions[g->partition].leader < 0 ||
		    cluster_view(cls[i])->broker_count != BROKERS - 1)
			return false;
	}
	return true;
}

/* Every view: every partition of g's topic past g->dead (epoch 1). */
static bool
all_moved(struct cluster *const *cls, const void *arg)
{
	const struct leader_gone *g = arg;

	if (!leader_moved(cls, arg))
		return false;
	for (int i = 0; i < BROKERS; i++) {
		const struct md_cluster_topic *t;

		if (cls[i] == NULL)
			continue;
		t = topic_of(cls[i], g->topic);
		for (int32_t p = 0; p < t->partition_count; p++)
			if (t->partitions[p].leader_epoch != 1 ||
			    t->partitions[p].leader == g->dead)
				return false;
	}
	return true;
}

static void
check_new_states(const struct md_cluster_topic *t)
{
	for (int32_t p = 0; p < t->partition_count; p++) {
		const struct md_cluster_partition *mp = &t->partitions[p];

		cr_assert_eq(mp->replica_count, 3);
		cr_assert_eq(mp->leader, mp->replicas[0], "leader: first replica");
		cr_assert_eq(mp->isr_count, 3);
		cr_assert_arr_eq(mp->isr, mp->replicas, sizeof(int32_t) * 3);
		cr_assert_eq(mp->leader_epoch, 0);
		cr_assert_eq(mp->partition_epoch, 0);
	}
}

/* After broker dead went: its partitions' new states. */
static void
check_after_death(const struct md_cluster_topic *before, const struct md_cluster_topic *t,
		  int32_t dead)
{
	for (int32_t p = 0; p < t->partition_count; p++) {
		const struct md_cluster_partition *old = &before->partitions[p];
		const struct md_cluster_partition *mp = &t->partitions[p];
		int32_t want = old->leader;

		if (old->leader == dead)    /* first live ISR member in assignment order */
			want = old->replicas[0] != dead ? old->replicas[0] : old->replicas[1];
		cr_assert_eq(mp->leader, want, "p%d leader %d, want %d", p, mp->leader, want);
		cr_assert_eq(mp->isr_count, 2);
		cr_assert_neq(mp->isr[0], dead);
		cr_assert_neq(mp->isr[1], dead);
		cr_assert_eq(mp->leader_epoch, 1, "Kafka bumps the epoch for followers too");
	}
}

/* A second broker 1, and a broker of another cluster, do not start. */
static void
refused_starts(void)
{
	struct cluster_config cfg = {
		.connect = connect_str, .session_timeout_ms = 4000,
		.connection_timeout_ms = 20000, .broker_id = 1, .endpoint_count = 1,
		.endpoints = &eps[1],
	};
	char err[256] = "";

	cr_assert_null(cluster_open(&cfg, err, sizeof(err)));
	cr_assert(strstr(err, "already registered") != NULL, "%s", err);
	cfg.broker_id = 4;
	cfg.cluster_id = "AAAAAAAAAAAAAAAAAAAAAA";
	cr_assert_null(cluster_open(&cfg, err, sizeof(err)));
	cr_assert(strstr(err, "doesn't match stored clusterId AAAAAAAAAAAAAAAAAAAAAA") != NULL,
		  "%s", err);
}

/* A controller that lost the answer to its winning multi finds
 * /controller its own and takes the role with that epoch. */
static void
controller_adopted(struct cluster *cl)
{
	int32_t epoch = cl->controller_epoch;

	cl->controller = false;
	cluster_flag(cl, CL_EV_CONTROLLER);
	(void)cluster_poll(cl);
	cr_assert(cluster_is_controller(cl));
	cr_assert_eq(cl->controller_epoch, epoch);
}

/* The one broker left leads every partition of t1, alone in the ISR. */
static bool
survivor_leads_all(struct cluster *const *cls, const void *arg)
{
	(void)arg;
	for (int i = 0; i < BROKERS; i++) {
		const struct md_cluster_topic *t;

		if (cls[i] == NULL)
			continue;
		t = topic_of(cls[i], "t1");
		for (int32_t p = 0; p < t->partition_count; p++)
			if (t->partitions[p].leader != i + 1 || t->partitions[p].isr_count != 1)
				return false;
	}
	return true;
}

Test(cluster, membership_controller_and_failover)
{
	struct cluster *cls[BROKERS] = { 0 };
	struct md_cluster_partition old_states[4];
	struct md_cluster_topic before = { .partition_count = 4, .partitions = old_states };
	struct leader_gone g = { .topic = "t1" };
	const struct md_cluster_topic *t;
	int32_t three = BROKERS, two = BROKERS - 1;
	int ci, dead = -1, epoch_before;

	for (int i = 0; i < BROKERS; i++)
		cls[i] = broker_open(i + 1, NULL);
	poll_until(cls, all_see_brokers, &three, "3 brokers and a controller");
	ci = controller_index(cls);
	cr_assert_geq(ci, 0, "exactly one controller");
	cr_assert_eq(cluster_view(cls[0])->controller_id, ci + 1);
	for (int i = 0; i < BROKERS; i++) {
		const struct md_cluster_broker *b = &cluster_view(cls[0])->brokers[i];

		cr_assert_eq(b->id, i + 1);
		cr_assert_eq(b->endpoint_count, 1);
		cr_assert_str_eq(b->endpoints[0].listener, "PLAINTEXT");
		cr_assert_str_eq(b->endpoints[0].host, "127.0.0.1");
		cr_assert_eq(b->endpoints[0].port, 9091 + i);
	}
	cr_assert_str_eq(cluster_id(cls[0]), cluster_id(cls[2]));
	cr_assert_eq(strlen(cluster_id(cls[0])), 22);
	refused_starts();
	controller_adopted(cls[ci]);

	create_topic(cls[(ci + 1) % BROKERS], "t1", 4, 3);
	poll_until(cls, all_see_states, "t1", "t1's states");
	t = topic_of(cls[0], "t1");
	check_new_states(t);
	memcpy(old_states, t->partitions, sizeof(old_states));

	/* A broker that leads something and is not the controller goes. */
	for (int32_t p = 0; p < 4 && dead < 0; p++)
		if (old_states[p].leader != ci + 1) {
			dead = old_states[p].leader;
			g.partition = p;
		}
	cr_assert_gt(dead, 0);
	g.dead = dead;
	cluster_close(cls[dead - 1]);
	cls[dead - 1] = NULL;
	poll_until(cls, all_moved, &g, "the controller's elections");
	check_after_death(&before, topic_of(cls[ci], "t1"), dead);

	/* The controller goes: the other one takes over with a higher epoch. */
	epoch_before = cls[ci]->controller_epoch;
	cluster_close(cls[ci]);
	cls[ci] = NULL;
	two = 1;
	poll_until(cls, all_see_brokers, &two, "a new controller");
	poll_until(cls, survivor_leads_all, NULL, "the survivor leading everything");
	for (int i = 0; i < BROKERS; i++) {
		if (cls[i] == NULL)
			continue;
		cr_assert(cluster_is_controller(cls[i]));
		cr_assert_gt(cls[i]->controller_epoch, epoch_before);
		t = topic_of(cls[i], "t1");
		for (int32_t p = 0; p < 4; p++) {
			cr_assert_eq(t->partitions[p].leader, i + 1, "the last ISR member leads");
			cr_assert_eq(t->partitions[p].isr_count, 1);
		}
		cluster_close(cls[i]);
	}
}

/* A raw session for what the test itself reads or breaks. */
static zhandle_t *
raw_open(void)
{
	zhandle_t *zh = zookeeper_init(connect_str, NULL, 4000, NULL, NULL, 0);
	int64_t deadline = tzk_mono_ms() + WAIT_MS;

	cr_assert_not_null(zh);
	while (zoo_state(zh) != ZOO_CONNECTED_STATE) {
		cr_assert_lt(tzk_mono_ms(), deadline, "raw session");
		usleep(10000);
	}
	return zh;
}

static bool
sees_controller_other_than(struct cluster *const *cls, const void *arg)
{
	int32_t old = *(const int32_t *)arg;

	for (int i = 0; i < BROKERS; i++) {
		if (cls[i] == NULL)
			continue;
		if (cluster_view(cls[i])->controller_id < 0 ||
		    cluster_view(cls[i])->controller_id == old)
			return false;
	}
	return true;
}

static bool
isr_at_epoch(struct cluster *const *cls, const void *arg)
{
	for (int i = 0; i < BROKERS; i++) {
		const struct md_cluster_topic *t = topic_of(cls[i], "isr");

		if (t == NULL || t->partitions[0].partition_epoch != *(const int32_t *)arg)
			return false;
	}
	return true;
}

Test(cluster, stale_controller_fenced_and_isr_change_by_version)
{
	struct cluster *cls[BROKERS] = { 0 }, *stale;
	struct md_cluster_partition mp, next;
	const struct md_cluster_topic *t;
	int32_t three = BROKERS, old_id, isr1[1], want_epoch;
	char *json;
	zhandle_t *zh;
	int ci, li, rc;

	for (int i = 0; i < BROKERS; i++)
		cls[i] = broker_open(i + 1, NULL);
	poll_until(cls, all_see_brokers, &three, "3 brokers and a controller");
	create_topic(cls[0], "isr", 1, 3);
	poll_until(cls, all_see_states, "isr", "isr's states");

	/* ISR change by the leader, conditional on the state's version. */
	t = topic_of(cls[0], "isr");
	mp = t->partitions[0];
	li = mp.leader - 1;
	isr1[0] = mp.leader;
	cr_assert_eq(cluster_isr_change(cls[(li + 1) % BROKERS], "isr", 0, mp.leader_epoch,
					mp.partition_epoch, isr1, 1),
		     KP_ERR_NOT_LEADER_OR_FOLLOWER);
	cr_assert_eq(cluster_isr_change(cls[li], "isr", 0, mp.leader_epoch, mp.partition_epoch,
					isr1, 1), KP_ERR_NONE);
	cr_assert_eq(cluster_isr_change(cls[li], "isr", 0, mp.leader_epoch, mp.partition_epoch,
					mp.isr, mp.isr_count),
		     KP_ERR_INVALID_UPDATE_VERSION, "a stale version fails");
	cr_assert_eq(cluster_isr_change(cls[li], "isr", 0, mp.leader_epoch, mp.partition_epoch + 1,
					mp.isr, mp.isr_count), KP_ERR_NONE, "expand back");
	want_epoch = mp.partition_epoch + 2;
	poll_until(cls, isr_at_epoch, &want_epoch, "the ISR changes");
	t = topic_of(cls[(li + 1) % BROKERS], "isr");
	cr_assert_eq(t->partitions[0].isr_count, 3);
	cr_assert_eq(t->partitions[0].leader_epoch, mp.leader_epoch, "leader epoch unchanged");

	/* /controller goes while its owner does not look: another broker wins
	 * with a higher epoch and the deposed one's writes are fenced. */
	ci = controller_index(cls);
	cr_assert_geq(ci, 0);
	stale = cls[ci];
	old_id = ci + 1;
	zh = raw_open();
	cr_assert_eq(zoo_delete(zh, "/controller", -1), ZOK);
	cls[ci] = NULL;
	poll_until(cls, sees_controller_other_than, &old_id, "a new controller");
	cr_assert(cluster_is_controller(stale), "the stale one has not looked yet");
	next = topic_of(cls[(ci + 1) % BROKERS], "isr")->partitions[0];
	next.leader_epoch++;
	json = cj_state_encode(&next);
	rc = cluster_ctl_set(stale, "/brokers/topics/isr/partitions/0/state", json,
			     next.partition_epoch, NULL);
	free(json);
	cr_assert_eq(rc, CL_FENCED, "a deposed controller's write fails");
	cr_assert_not(cluster_is_controller(stale));
	cls[ci] = stale;
	for (int i = 0; i < BROKERS; i++)
		(void)cluster_poll(cls[i]);
	cr_assert_eq(controller_index(cls) + 1, cluster_view(stale)->controller_id);
	cr_assert_neq(cluster_view(stale)->controller_id, old_id);
	zookeeper_close(zh);
	for (int i = 0; i < BROKERS; i++)
		cluster_close(cls[i]);
}

static bool
topic_gone(struct cluster *const *cls, const void *arg)
{
	for (int i = 0; i < BROKERS; i++)
		if (cls[i] != NULL && topic_of(cls[i], arg) != NULL)
			return false;
	return true;
}

static bool
config_seen(struct cluster *const *cls, const void *arg)
{
	(void)arg;
	for (int i = 0; i < BROKERS; i++) {
		const struct md_config *c = cluster_topic_configs(cls[i], "racks");

		if (cluster_topic_config_count(cls[i], "racks") != 1 ||
		    strcmp(c[0].name, "retention.ms") != 0 || strcmp(c[0].value, "1000") != 0)
			return false;
	}
	return true;
}

static bool
racks_has_9(struct cluster *const *cls, const void *arg)
{
	(void)arg;
	for (int i = 0; i < BROKERS; i++) {
		const struct md_cluster_topic *t = topic_of(cls[i], "racks");

		if (t == NULL || t->partition_count != 9)
			return false;
	}
	return all_see_states(cls, "racks");
}

/* Config change: every broker sees it through /config/changes, of which
 * the newest 100 stay. */
static void
config_change(struct cluster *const *cls)
{
	char name[] = "retention.ms", value[] = "1000";
	struct md_config mc = { .name = name, .value = value };
	struct String_vector changes = { 0 };
	zhandle_t *zh;

	for (int i = 0; i < 105; i++)
		cr_assert_eq(cluster_topic_configs_set(cls[0], "racks", &mc, 1), KP_ERR_NONE);
	poll_until(cls, config_seen, NULL, "the config change");
	zh = raw_open();
	cr_assert_eq(zoo_get_children(zh, "/config/changes", 0, &changes), ZOK);
	cr_assert_eq(changes.count, 100);
	deallocate_String_vector(&changes);
	zookeeper_close(zh);
}

static void
check_racks(const struct md_cluster_topic *t)
{
	for (int32_t p = 0; p < t->partition_count; p++) {
		const struct md_cluster_partition *mp = &t->partitions[p];
		bool a = false, b = false;

		cr_assert_eq(mp->replica_count, 2);
		cr_assert_neq(mp->replicas[0], mp->replicas[1]);
		for (int i = 0; i < 2; i++) {
			a = a || mp->replicas[i] <= 2;  /* brokers 1, 2: rack a */
			b = b || mp->replicas[i] == 3;  /* broker 3: rack b */
		}
		cr_assert(a && b, "p%d spreads over both racks", p);
	}
}

Test(cluster, topics_racks_configs_partitions_delete)
{
	static const char *const racks[BROKERS] = { "a", "a", "b" };
	struct cluster *cls[BROKERS] = { 0 };
	struct kp_topic_config tc = { { "cleanup.policy", 14 }, { "compact", 7 } };
	struct kp_uuid id = some_id(9);
	int32_t three = BROKERS;
	char msg[256];
	zhandle_t *zh;
	struct Stat st;

	for (int i = 0; i < BROKERS; i++)
		cls[i] = broker_open(i + 1, racks[i]);
	poll_until(cls, all_see_brokers, &three, "3 brokers and a controller");
	cr_assert_str_eq(cluster_view(cls[1])->brokers[2].rack, "b");
	cr_assert_eq(cluster_topic_create(cls[1], "racks", &id, 6, 2, &tc, 1, false, msg,
					  sizeof(msg)), KP_ERR_NONE, "%s", msg);
	cr_assert_eq(cluster_topic_create(cls[2], "racks", &id, 6, 2, NULL, 0, false, msg,
					  sizeof(msg)), KP_ERR_TOPIC_ALREADY_EXISTS);
	cr_assert_str_eq(msg, "Topic 'racks' already exists.");
	cr_assert_eq(cluster_topic_create(cls[2], "big", &id, 1, 4, NULL, 0, false, msg,
					  sizeof(msg)), KP_ERR_INVALID_REPLICATION_FACTOR);
	cr_assert_str_eq(msg, "Replication factor: 4 larger than available brokers: 3.");
	poll_until(cls, all_see_states, "racks", "racks' states");
	cr_assert_eq(cluster_topic_create(cls[2], "rack.s", &id, 1, 1, NULL, 0, false, msg,
					  sizeof(msg)), KP_ERR_NONE, "%s", msg);
	poll_until(cls, all_see_states, "rack.s", "rack.s' state");
	cr_assert_eq(cluster_topic_create(cls[2], "rack_s", &id, 1, 1, NULL, 0, false, msg,
					  sizeof(msg)), KP_ERR_INVALID_TOPIC_EXCEPTION);
	cr_assert_str_eq(msg, "Topic 'rack_s' collides with existing topic: rack.s");
	cr_assert_eq(cluster_topic_create(cls[2], "dry", &id, 1, 3, NULL, 0, true, msg,
					  sizeof(msg)), KP_ERR_NONE);
	poll_until(cls, all_see_states, "racks", "racks' states");
	cr_assert_null(topic_of(cls[0], "dry"), "validate_only writes nothing");
	check_racks(topic_of(cls[0], "racks"));
	cr_assert_eq(memcmp(topic_of(cls[0], "racks")->id.b, id.b, 16), 0, "topic_id kept");
	cr_assert_eq(cluster_topic_config_count(cls[0], "racks"), 1);
	cr_assert_str_eq(cluster_topic_configs(cls[0], "racks")[0].value, "compact");

	config_change(cls);

	/* Partitions added get assignments and states. */
	cr_assert_eq(cluster_partitions_add(cls[2], "racks", 5, false, msg, sizeof(msg)),
		     KP_ERR_INVALID_PARTITIONS);
	cr_assert_eq(cluster_partitions_add(cls[2], "racks", 9, false, msg, sizeof(msg)),
		     KP_ERR_NONE, "%s", msg);
	poll_until(cls, racks_has_9, NULL, "new partitions' states");
	cr_assert_eq(topic_of(cls[1], "racks")->partition_count, 9);
	check_racks(topic_of(cls[1], "racks"));

	/* Deletion by the controller removes every znode of the topic. */
	cr_assert_eq(cluster_topic_delete(cls[1], "nope", msg, sizeof(msg)),
		     KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	cr_assert_eq(cluster_topic_delete(cls[1], "racks", msg, sizeof(msg)), KP_ERR_NONE);
	/* Until the controller has looked: marked, not gone. */
	cr_assert_eq(cluster_topic_create(cls[2], "racks", &id, 1, 1, NULL, 0, false, msg,
					  sizeof(msg)), KP_ERR_TOPIC_ALREADY_EXISTS);
	cr_assert_str_eq(msg, "Topic 'racks' is marked for deletion.");
	cr_assert_eq(cluster_partitions_add(cls[2], "racks", 12, false, msg, sizeof(msg)),
		     KP_ERR_INVALID_TOPIC_EXCEPTION);
	poll_until(cls, topic_gone, "racks", "the deletion");
	zh = raw_open();
	cr_assert_eq(zoo_exists(zh, "/brokers/topics/racks", 0, &st), ZNONODE);
	cr_assert_eq(zoo_exists(zh, "/config/topics/racks", 0, &st), ZNONODE);
	cr_assert_eq(zoo_exists(zh, "/admin/delete_topics/racks", 0, &st), ZNONODE);
	zookeeper_close(zh);
	for (int i = 0; i < BROKERS; i++)
		cluster_close(cls[i]);
}

static bool
leads_nothing(struct cluster *const *cls, const void *arg)
{
	int32_t id = *(const int32_t *)arg;

	for (int i = 0; i < BROKERS; i++) {
		const struct md_cluster_topic *t;

		if (cls[i] == NULL)
			continue;
		t = topic_of(cls[i], "cs");
		for (int32_t p = 0; t != NULL && p < t->partition_count; p++) {
			const struct md_cluster_partition *mp = &t->partitions[p];

			if (mp->leader == id || mp->leader < 0)
				return false;
			for (int32_t k = 0; k < mp->isr_count; k++)
				if (mp->isr[k] == id)
					return false;
		}
	}
	return true;
}

Test(cluster, controlled_shutdown_and_producer_id_blocks)
{
	struct cluster *cls[BROKERS] = { 0 };
	int64_t firsts[BROKERS * 8];
	int32_t three = BROKERS, id = 2;
	const struct md_cluster_topic *t;

	for (int i = 0; i < BROKERS; i++)
		cls[i] = broker_open(i + 1, NULL);
	poll_until(cls, all_see_brokers, &three, "3 brokers and a controller");
	create_topic(cls[0], "cs", 6, 3);
	poll_until(cls, all_see_states, "cs", "cs' states");
	cr_assert_eq(cluster_controlled_shutdown(cls[1], 10000), 0);
	poll_until(cls, leads_nothing, &id, "broker 2 neither leader nor in an ISR");
	t = topic_of(cls[0], "cs");
	for (int32_t p = 0; p < t->partition_count; p++) {
		cr_assert_eq(t->partitions[p].isr_count, 2, "broker 2 out of every ISR");
		cr_assert_neq(t->partitions[p].isr[0], 2);
		cr_assert_neq(t->partitions[p].isr[1], 2);
	}

	/* Blocks from interleaved brokers never overlap. */
	for (int k = 0; k < 8; k++) {
		for (int i = 0; i < BROKERS; i++) {
			int64_t count = 0;

			cr_assert_eq(cluster_producer_id_block(cls[i], &firsts[k * BROKERS + i],
							       &count), 0);
			cr_assert_eq(count, 1000);
		}
	}
	for (int a = 0; a < BROKERS * 8; a++) {
		cr_assert_eq(firsts[a] % 1000, 0);
		for (int b = a + 1; b < BROKERS * 8; b++)
			cr_assert(firsts[a] + 1000 <= firsts[b] || firsts[b] + 1000 <= firsts[a],
				  "blocks at %ld and %ld overlap", (long)firsts[a],
				  (long)firsts[b]);
	}
	for (int i = 0; i < BROKERS; i++)
		cluster_close(cls[i]);
}

/* ---- Assignment, as Kafka's AdminUtils tests expect (no server) ---- */

Test(cluster_assign, rack_unaware_fixed_start)
{
	static const int32_t want[10][3] = {
		{ 0, 1, 2 }, { 1, 2, 3 }, { 2, 3, 4 }, { 3, 4, 0 }, { 4, 0, 1 },
		{ 0, 2, 3 }, { 1, 3, 4 }, { 2, 4, 0 }, { 3, 0, 1 }, { 4, 1, 2 },
	};
	int32_t ids[5] = { 0, 1, 2, 3, 4 }, replicas[10 * KP_REPLICAS_MAX];

	cluster_assign(ids, NULL, 5, 10, 3, 0, 0, replicas);
	for (int p = 0; p < 10; p++)
		for (int i = 0; i < 3; i++)
			cr_assert_eq(replicas[p * KP_REPLICAS_MAX + i], want[p][i], "p%d r%d", p,
				     i);
}

Test(cluster_assign, rack_alternated)
{
	/* Brokers 0..5 on racks 1,3,3,2,2,1: alternated list 0,3,1,5,4,2. */
	static const int32_t want[7][3] = {
		{ 0, 3, 1 }, { 3, 1, 5 }, { 1, 5, 4 }, { 5, 4, 2 }, { 4, 2, 0 }, { 2, 0, 3 },
		{ 0, 4, 2 },
	};
	static const char *const racks[6] = { "rack1", "rack3", "rack3", "rack2", "rack2",
					      "rack1" };
	int32_t ids[6] = { 0, 1, 2, 3, 4, 5 }, replicas[7 * KP_REPLICAS_MAX];

	cluster_assign(ids, racks, 6, 7, 3, 0, 0, replicas);
	for (int p = 0; p < 7; p++)
		for (int i = 0; i < 3; i++)
			cr_assert_eq(replicas[p * KP_REPLICAS_MAX + i], want[p][i], "p%d r%d", p,
				     i);
}

Test(cluster_assign, random_start_spreads_leaders)
{
	int32_t ids[3] = { 1, 2, 3 }, replicas[3 * KP_REPLICAS_MAX], led[4] = { 0 };

	cluster_assign(ids, NULL, 3, 3, 3, -1, 0, replicas);
	for (int p = 0; p < 3; p++)
		led[replicas[p * KP_REPLICAS_MAX]]++;
	cr_assert(led[1] == 1 && led[2] == 1 && led[3] == 1);
}

Test(cluster_json, state_round_trip)
{
	struct md_cluster_partition p = { .controller_epoch = 3, .leader = 2, .leader_epoch = 7,
					  .isr_count = 2, .isr = { 2, 1 } }, q = { 0 };
	char *json = cj_state_encode(&p);

	cr_assert_str_eq(json, "{\"controller_epoch\":3,\"leader\":2,\"version\":1,"
			 "\"leader_epoch\":7,\"isr\":[2,1]}");
	cr_assert_eq(cj_state_decode(json, &q), 0);
	cr_assert_eq(q.leader, 2);
	cr_assert_eq(q.isr_count, 2);
	cr_assert_eq(q.isr[1], 1);
	free(json);
	cr_assert_neq(cj_state_decode("{\"leader\":\"x\"}", &q), 0);
}

static bool
lonely_state(struct cluster *const *cls, const void *arg)
{
	const int32_t *want = arg;  /* leader, leader epoch (-1: any), brokers */

	for (int i = 0; i < BROKERS; i++) {
		const struct md_cluster_topic *t;

		if (cls[i] == NULL)
			continue;
		t = topic_of(cls[i], "lonely");
		if (t == NULL || !t->partitions[0].has_state ||
		    t->partitions[0].leader != want[0] ||
		    (want[1] >= 0 && t->partitions[0].leader_epoch != want[1]) ||
		    cluster_view(cls[i])->broker_count != want[2])
			return false;
	}
	return true;
}

/* Close the session cid from a second handle: its owner's expires. */
static void
kill_session(const clientid_t *cid)
{
	clientid_t copy = *cid;
	zhandle_t *zh = zookeeper_init(connect_str, NULL, 4000, &copy, NULL, 0);
	int64_t deadline = tzk_mono_ms() + WAIT_MS;

	cr_assert_not_null(zh);
	while (zoo_state(zh) != ZOO_CONNECTED_STATE) {
		if (zoo_state(zh) == ZOO_EXPIRED_SESSION_STATE || tzk_mono_ms() > deadline)
			break;      /* already gone */
		usleep(10000);
	}
	zookeeper_close(zh);
}

/* A session that expires is re-established and registered again; a
 * leaderless partition's replica that comes back is elected. */
Test(cluster, session_expiry_and_leaderless_comeback)
{
	struct cluster *cls[BROKERS] = { 0 };
	const struct md_cluster_partition *mp;
	int32_t three = BROKERS, want[3], b;
	int64_t old_session;

	for (int i = 0; i < BROKERS; i++)
		cls[i] = broker_open(i + 1, NULL);
	poll_until(cls, all_see_brokers, &three, "3 brokers and a controller");
	create_topic(cls[0], "lonely", 1, 1);
	poll_until(cls, all_see_states, "lonely", "lonely's state");
	b = topic_of(cls[0], "lonely")->partitions[0].replicas[0];

	/* Expire b's session: a second handle on it closes it (again, should
	 * b's own client win the session back first). */
	old_session = zoo_client_id(cls[b - 1]->zh)->client_id;
	for (int64_t deadline = tzk_mono_ms() + WAIT_MS, next_kill = 0;;) {
		if (tzk_mono_ms() >= next_kill) {
			kill_session(zoo_client_id(cls[b - 1]->zh));
			next_kill = tzk_mono_ms() + 3000;
		}
		for (int i = 0; i < BROKERS; i++)
			(void)cluster_poll(cls[i]);
		if (zoo_state(cls[b - 1]->zh) == ZOO_CONNECTED_STATE &&
		    zoo_client_id(cls[b - 1]->zh)->client_id != old_session)
			break;
		cr_assert_lt(tzk_mono_ms(), deadline, "a new session for broker %d", b);
		usleep(20000);
	}
	poll_until(cls, all_see_brokers, &three, "broker re-registered");
	want[0] = b;
	want[1] = -1;
	want[2] = BROKERS;
	poll_until(cls, lonely_state, want, "b leads again");

	/* b goes: leader -1, b stays the ISR; b comes back: elected. */
	cluster_close(cls[b - 1]);
	cls[b - 1] = NULL;
	mp = &topic_of(cls[b % BROKERS], "lonely")->partitions[0];
	want[0] = -1;
	want[1] = mp->leader_epoch + 1;
	want[2] = BROKERS - 1;
	poll_until(cls, lonely_state, want, "leader -1");
	mp = &topic_of(cls[b % BROKERS], "lonely")->partitions[0];
	cr_assert_eq(mp->isr_count, 1);
	cr_assert_eq(mp->isr[0], b, "Kafka keeps the last leader in the ISR");
	cls[b - 1] = broker_open(b, NULL);
	want[0] = b;
	want[1]++;
	want[2] = BROKERS;
	poll_until(cls, lonely_state, want, "the comeback election");
	for (int i = 0; i < BROKERS; i++)
		cluster_close(cls[i]);
}

/* ---- The controller's election rule (no server) ---- */

static struct md_cluster_broker live_brokers[2] = { { .id = 1 }, { .id = 3 } };

static struct md_cluster_partition
part(int32_t leader, int32_t epoch, int32_t isr_count, const int32_t *isr)
{
	struct md_cluster_partition p = { .leader = leader, .leader_epoch = epoch,
					  .replica_count = 3, .replicas = { 2, 3, 1 },
					  .isr_count = isr_count, .has_state = true };

	memcpy(p.isr, isr, sizeof(int32_t) * (size_t)isr_count);
	return p;
}

Test(cluster_elect, kafka_rules)
{
	struct cluster cl = { .controller_epoch = 5,
			      .view = { .broker_count = 2, .brokers = live_brokers } };
	struct md_cluster_partition cur, next;
	bool unclean = false;

	/* Leader 2 died: the first live ISR member in assignment order (3). */
	cur = part(2, 4, 3, (const int32_t[]){ 1, 2, 3 });
	cr_assert(cluster_ctl_elect_state(&cl, &cur, unclean, &next));
	cr_assert_eq(next.leader, 3);
	cr_assert_eq(next.leader_epoch, 5);
	cr_assert_eq(next.controller_epoch, 5);
	cr_assert_eq(next.isr_count, 2);
	cr_assert(next.isr[0] == 1 && next.isr[1] == 3);
	/* A follower died: ISR shrinks, the epoch moves. */
	cur = part(3, 4, 2, (const int32_t[]){ 3, 2 });
	cr_assert(cluster_ctl_elect_state(&cl, &cur, unclean, &next));
	cr_assert_eq(next.leader, 3);
	cr_assert_eq(next.isr_count, 1);
	cr_assert_eq(next.leader_epoch, 5);
	/* All alive: nothing to do. */
	cur = part(3, 4, 2, (const int32_t[]){ 3, 1 });
	cr_assert_not(cluster_ctl_elect_state(&cl, &cur, unclean, &next));
	/* No live ISR member: leader -1, the last leader kept in the ISR. */
	cur = part(2, 4, 1, (const int32_t[]){ 2 });
	cr_assert(cluster_ctl_elect_state(&cl, &cur, unclean, &next));
	cr_assert_eq(next.leader, -1);
	cr_assert_eq(next.isr_count, 1);
	cr_assert_eq(next.isr[0], 2);
	cur = next;
	cr_assert_not(cluster_ctl_elect_state(&cl, &cur, unclean, &next),
		      "stays until 2 comes back");
	/* unclean.leader.election.enable: a live replica outside the ISR. */
	unclean = true;
	cr_assert(cluster_ctl_elect_state(&cl, &cur, unclean, &next));
	cr_assert_eq(next.leader, 3);
	cr_assert_eq(next.isr_count, 1);
	cr_assert_eq(next.isr[0], 3);
}

/* ---- The same znodes mean the same to Apache Kafka (ZooKeeper mode) ---- */

static pid_t
kafka_start(const char *libs, int port)
{
	char dir[160], props[200], cp[200], out[200];
	FILE *f;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/kafka", zk.dir);
	cr_assert_eq(mkdir(dir, 0755), 0);
	snprintf(props, sizeof(props), "%s/server.properties", dir);
	f = fopen(props, "w");
	cr_assert_not_null(f);
	fprintf(f, "broker.id=1\nzookeeper.connect=%s\nlisteners=PLAINTEXT://127.0.0.1:%d\n"
		"log.dirs=%s/logs\nzookeeper.session.timeout.ms=6000\n"
		"offsets.topic.replication.factor=1\n", connect_str, port, dir);
	fclose(f);
	snprintf(cp, sizeof(cp), "%s/*", libs);
	snprintf(out, sizeof(out), "%s/stdout.log", dir);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("java", "java", "-Xmx512m", "-XX:TieredStopAtLevel=1", "-cp", cp,
		       "kafka.Kafka", props, (char *)NULL);
		_exit(127);
	}
	return pid;
}

struct bounce {
	int32_t b, epoch;
};

static bool
bounce_handled(struct cluster *const *cls, const void *arg)
{
	const struct bounce *w = arg;

	for (int i = 0; i < BROKERS; i++) {
		const struct md_cluster_topic *t = topic_of(cls[i], "bounce");

		if (cluster_view(cls[i])->broker_count != BROKERS)
			return false;
		for (int32_t p = 0; p < t->partition_count; p++) {
			const struct md_cluster_partition *mp = &t->partitions[p];

			if (mp->leader == w->b || mp->leader < 0 || mp->isr_count != 2 ||
			    mp->leader_epoch != w->epoch)
				return false;
		}
	}
	return true;
}

/* A broker that goes and comes back between two looks of the controller
 * (a newer registration czxid) is handled as a failure, as Kafka's
 * controller does for bounced brokers: its leaderships move, it leaves
 * the ISRs, the epochs move. */
Test(cluster, bounced_broker)
{
	struct cluster *cls[BROKERS] = { 0 };
	int32_t three = BROKERS;
	struct bounce w;
	int ci, bi;

	for (int i = 0; i < BROKERS; i++)
		cls[i] = broker_open(i + 1, NULL);
	poll_until(cls, all_see_brokers, &three, "3 brokers and a controller");
	ci = controller_index(cls);
	create_topic(cls[0], "bounce", 1, 3);
	poll_until(cls, all_see_states, "bounce", "bounce's state");
	/* Bounce the leader; when that is the controller, a follower. */
	w.b = topic_of(cls[0], "bounce")->partitions[0].leader;
	if (w.b == ci + 1)
		w.b = topic_of(cls[0], "bounce")->partitions[0].replicas[1];
	bi = w.b - 1;
	w.epoch = 1;
	cluster_close(cls[bi]);
	cls[bi] = broker_open(w.b, NULL);   /* the controller has not polled */
	poll_until(cls, bounce_handled, &w, "the bounce handled");
	for (int i = 0; i < BROKERS; i++)
		cluster_close(cls[i]);
}

static bool
leader_moved_2(struct cluster *const *cls, const void *arg)
{
	const struct leader_gone *g = arg;
	const struct md_cluster_topic *t = topic_of(cls[2], g->topic);

	for (int32_t p = 0; t != NULL && p < t->partition_count; p++)
		if (t->partitions[p].leader == g->dead || t->partitions[p].leader < 0 ||
		    t->partitions[p].isr_count != 2)
			return false;
	return t != NULL;
}

/* Kafka's registration as read here. */
static void
check_kafka_broker(const struct cluster *cl, int port)
{
	const struct md_cluster_broker *k = &cluster_view(cl)->brokers[0];

	cr_assert_eq(k->id, 1);
	cr_assert_eq(k->endpoint_count, 1);
	cr_assert_str_eq(k->endpoints[0].listener, "PLAINTEXT");
	cr_assert_str_eq(k->endpoints[0].host, "127.0.0.1");
	cr_assert_eq(k->endpoints[0].port, port);
}

/* Until Kafka's /controller is there (looked at without any broker here). */
static void
wait_kafka_controller(void)
{
	zhandle_t *zh = raw_open();

	for (int64_t deadline = tzk_mono_ms() + KAFKA_WAIT_MS;;) {
		char buf[256];
		int len = sizeof(buf) - 1;
		struct Stat st;

		if (zoo_get(zh, "/controller", 0, buf, &len, &st) == ZOK && len > 0) {
			buf[len] = '\0';
			cr_assert_eq(cj_controller_decode(buf), 1, "%s", buf);
			break;
		}
		cr_assert_lt(tzk_mono_ms(), deadline, "Kafka's controller");
		usleep(20000);
	}
	zookeeper_close(zh);
}

/* Apache Kafka 3.9 in ZooKeeper mode (broker 1) joins a cluster this code
 * controls (brokers 2, 3): each reads the other's registration; the
 * controller (2) goes and Kafka's controller takes over from the
 * /controller_epoch, topic and state znodes written here, and moves the
 * leaderships of broker 2 as this code's controller would. */
TestSuite(cluster_kafka, .fini = zk_teardown, .timeout = 240);

Test(cluster_kafka, kafka_takes_over_our_controller)
{
	const char *libs = getenv("SPILLWAY_KAFKA_LIBS");
	struct cluster *cls[BROKERS] = { 0 };
	struct md_cluster_partition before[3];
	const struct md_cluster_topic *t;
	struct leader_gone g = { .topic = "mixed", .dead = 2 };
	char jar[300];
	int32_t three = BROKERS;
	int port;
	pid_t pid;

	snprintf(jar, sizeof(jar), "%s/kafka_2.13-3.9.1.jar", libs != NULL ? libs : "");
	if (libs == NULL || access(jar, R_OK) != 0)
		cr_skip_test("no Apache Kafka jars (SPILLWAY_KAFKA_LIBS)");
	zk_setup();     /* after the skip: a skipped test runs no .fini */
	wait_ms = KAFKA_WAIT_MS;
	port_base = tzk_free_port() - 3;
	cls[1] = broker_open(2, NULL);
	cls[2] = broker_open(3, NULL);
	cr_assert(cluster_is_controller(cls[1]));
	port = tzk_free_port();
	pid = kafka_start(libs, port);
	poll_until(cls, all_see_brokers, &three, "Kafka registered");
	cr_assert_eq(cluster_view(cls[1])->controller_id, 2);
	check_kafka_broker(cls[2], port);
	create_topic(cls[1], "mixed", 3, 3);
	poll_until(cls, all_see_states, "mixed", "mixed's states");
	memcpy(before, topic_of(cls[2], "mixed")->partitions, sizeof(before));
	for (int32_t p = 0; p < 3; p++)
		if (before[p].leader == 2)
			g.partition = p;
	cr_assert_eq(before[g.partition].leader, 2);

	/* Only broker 3 is looked at from here on, and it does not stand
	 * for controller while Kafka holds /controller. */
	cluster_close(cls[1]);
	cls[1] = NULL;
	wait_kafka_controller();
	poll_until(cls, leader_moved_2, &g, "Kafka's election");
	t = topic_of(cls[2], "mixed");
	for (int32_t p = 0; p < 3; p++) {
		const struct md_cluster_partition *mp = &t->partitions[p];

		cr_assert_neq(mp->leader, 2);
		cr_assert_eq(mp->isr_count, 2, "Kafka drops the dead broker from the ISR");
		/* Kafka's failover marks the dead replicas offline (leader -1,
		 * epoch + 1) before it elects (epoch + 1 again). */
		cr_assert_gt(mp->leader_epoch, before[p].leader_epoch);
		if (before[p].leader != 2)
			cr_assert_eq(mp->leader, before[p].leader);
		else    /* the first live ISR member in assignment order */
			cr_assert_eq(mp->leader, before[p].replicas[before[p].replicas[0] == 2]);
	}
	cluster_close(cls[2]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* No ZooKeeper: the start stops after zookeeper.connection.timeout.ms. */
Test(cluster_open, no_zookeeper_is_a_start_error)
{
	struct md_cluster_endpoint ep = { .listener = listener, .host = hosts, .port = 9092 };
	char connect[64], err[256] = "";
	struct cluster_config cfg = {
		.connect = connect, .session_timeout_ms = 2000, .connection_timeout_ms = 500,
		.broker_id = 1, .endpoint_count = 1, .endpoints = &ep,
	};
	int64_t t0 = tzk_mono_ms();

	snprintf(connect, sizeof(connect), "127.0.0.1:%d", tzk_free_port());
	cr_assert_null(cluster_open(&cfg, err, sizeof(err)));
	cr_assert(strstr(err, "zookeeper.connection.timeout.ms 500") != NULL, "%s", err);
	cr_assert_lt(tzk_mono_ms() - t0, 5000);
}

struct unc_want {
	const char *topic;
	int32_t leader, dead;
};

static bool
unc_state(struct cluster *const *cls, const void *arg)
{
	const struct unc_want *w = arg;

	for (int i = 0; i < BROKERS; i++) {
		const struct md_cluster_topic *t;

		if (cls[i] == NULL)
			continue;
		t = topic_of(cls[i], w->topic);
		if (t == NULL || t->partitions[0].leader != w->leader ||
		    cluster_view(cls[i])->broker_count != BROKERS - 1)
			return false;
		if (w->leader >= 0 && (t->partitions[0].isr_count != 1 ||
				       t->partitions[0].isr[0] != w->leader))
			return false;
	}
	return true;
}

/* The topic override unclean.leader.election.enable=true elects a live
 * replica outside the ISR (without it the partition would stay leaderless,
 * as session_expiry_and_leaderless_comeback shows). */
Test(cluster, unclean_election_by_topic_config)
{
	struct kp_topic_config tc = { { "unclean.leader.election.enable", 30 },
				      { "true", 4 } };
	struct cluster *cls[BROKERS] = { 0 };
	const struct md_cluster_partition *mp;
	int32_t three = BROKERS, b;
	struct unc_want w = { .topic = "unc" };
	char msg[256];

	for (int i = 0; i < BROKERS; i++)
		cls[i] = broker_open(i + 1, NULL);
	poll_until(cls, all_see_brokers, &three, "3 brokers and a controller");
	cr_assert_eq(cluster_topic_create(cls[0], "unc", NULL, 1, 3, &tc, 1, false, msg,
					  sizeof(msg)), KP_ERR_NONE, "%s", msg);
	poll_until(cls, all_see_states, "unc", "unc's state");
	/* Its leader b alone in the ISR (shrunk as a leader would), then gone. */
	b = topic_of(cls[0], "unc")->partitions[0].leader;
	mp = &topic_of(cls[b - 1], "unc")->partitions[0];
	cr_assert_eq(cluster_isr_change(cls[b - 1], "unc", 0, mp->leader_epoch,
					mp->partition_epoch, &b, 1), KP_ERR_NONE);
	w.dead = b;
	w.leader = mp->replicas[1];     /* the first live one in assignment order */
	cluster_close(cls[b - 1]);
	cls[b - 1] = NULL;
	poll_until(cls, unc_state, &w, "the unclean election");
	for (int i = 0; i < BROKERS; i++)
		cluster_close(cls[i]);
}

/* ---- ElectLeaders from any broker (cluster_leader_elect) ---- */

struct le_want {
	const char *topic;
	int32_t partition;
	int32_t leader;
	int32_t epoch;
};

static bool
le_shown(struct cluster *const *cls, const void *arg)
{
	const struct le_want *w = arg;

	for (int i = 0; i < BROKERS; i++) {
		const struct md_cluster_topic *t;

		if (cls[i] == NULL)
			continue;
		t = topic_of(cls[i], w->topic);
		if (t == NULL || t->partitions[w->partition].leader != w->leader ||
		    t->partitions[w->partition].leader_epoch != w->epoch)
			return false;
	}
	return true;
}

/* Broker *arg leads no partition of "le" and is in no ISR of it. */
static bool
leads_nothing_le(struct cluster *const *cls, const void *arg)
{
	int32_t id = *(const int32_t *)arg;

	for (int i = 0; i < BROKERS; i++) {
		const struct md_cluster_topic *t = cls[i] == NULL ? NULL : topic_of(cls[i], "le");

		for (int32_t p = 0; t != NULL && p < t->partition_count; p++) {
			const struct md_cluster_partition *mp = &t->partitions[p];

			if (mp->leader == id || mp->leader < 0)
				return false;
			for (int32_t k = 0; k < mp->isr_count; k++)
				if (mp->isr[k] == id)
					return false;
		}
	}
	return true;
}

Test(cluster, leader_elect_preferred_and_unclean)
{
	struct cluster *cls[BROKERS] = { 0 };
	int32_t three = BROKERS, leader = -1, epoch = -1, isr[BROKERS], n = 0, pref, other;
	const struct md_cluster_partition *mp;
	struct le_want w = { .topic = "le" };

	for (int i = 0; i < BROKERS; i++)
		cls[i] = broker_open(i + 1, NULL);
	poll_until(cls, all_see_brokers, &three, "3 brokers and a controller");
	create_topic(cls[0], "le", 3, 3);
	poll_until(cls, all_see_states, "le", "le's states");
	/* New partitions are led by their preferred replicas: nothing to do. */
	for (int32_t p = 0; p < 3; p++) {
		cr_assert_eq(cluster_leader_elect(cls[2], "le", p, false, &leader, &epoch),
			     KP_ERR_ELECTION_NOT_NEEDED);
		cr_assert_eq(cluster_leader_elect(cls[2], "le", p, true, &leader, &epoch),
			     KP_ERR_ELECTION_NOT_NEEDED);
	}
	cr_assert_eq(cluster_leader_elect(cls[0], "le", 3, false, &leader, &epoch),
		     KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	cr_assert_eq(cluster_leader_elect(cls[0], "nosuch", 0, false, &leader, &epoch),
		     KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	/* Partition 0's preferred replica hands leadership over and leaves
	 * the ISR (controlled shutdown): it cannot be elected. */
	mp = &topic_of(cls[0], "le")->partitions[0];
	pref = mp->replicas[0];
	cr_assert_eq(cluster_controlled_shutdown(cls[pref - 1], 10000), 0);
	poll_until(cls, leads_nothing_le, &pref, "the preferred replica out");
	cr_assert_eq(cluster_leader_elect(cls[pref - 1], "le", 0, false, &leader, &epoch),
		     KP_ERR_PREFERRED_LEADER_NOT_AVAILABLE);
	/* Back in the ISR (as its leader would take it back), elected from
	 * a broker that is neither. */
	mp = &topic_of(cls[0], "le")->partitions[0];
	other = mp->leader;
	for (int32_t i = 0; i < mp->isr_count; i++)
		isr[n++] = mp->isr[i];
	isr[n++] = pref;
	cr_assert_eq(cluster_isr_change(cls[other - 1], "le", 0, mp->leader_epoch,
					mp->partition_epoch, isr, n), KP_ERR_NONE);
	w.epoch = mp->leader_epoch + 1;
	for (int i = 0; i < BROKERS; i++)
		if (i + 1 != pref && i + 1 != other)
			cr_assert_eq(cluster_leader_elect(cls[i], "le", 0, false, &leader, &epoch),
				     KP_ERR_NONE);
	cr_assert_eq(leader, pref);
	cr_assert_eq(epoch, w.epoch);
	w.leader = pref;
	poll_until(cls, le_shown, &w, "the preferred leader back everywhere");
	cr_assert_eq(cluster_leader_elect(cls[0], "le", 0, false, &leader, &epoch),
		     KP_ERR_ELECTION_NOT_NEEDED);
	for (int i = 0; i < BROKERS; i++)
		cluster_close(cls[i]);
}
