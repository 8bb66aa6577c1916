/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/cluster_reassign.c against a real ZooKeeper (tzk.c) with
 * three struct cluster instances in one process as brokers 1..3: the
 * controller's first step (topic znode with replicas = target then the
 * original-only ones, adding_replicas / removing_replicas, leader epoch
 * bumped), the finish once the leader's ISR change shows every target
 * replica (leader moved off a removed replica, ISR cut to the target),
 * NOT_CONTROLLER elsewhere, a cancel, a reassignment finished by the next
 * controller after the first one left, and Kafka's validation messages
 * (no server needed). Skipped when java or the zookeeper jars are missing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control/cluster_int.h"
#include "tests/unit/control/tzk.h"

#define BROKERS 3
#define WAIT_MS 30000

static struct tzk zk;
static char connect_str[96];

static void
zk_setup(void)
{
	tzk_setup(&zk, "/reassign", connect_str, sizeof(connect_str));
}

static struct cluster *
broker_open(int32_t id)
{
	return tzk_broker_open(connect_str, id, NULL, 9190 + id);
}

static void
zk_teardown(void)
{
	tzk_stop(&zk);
}

typedef bool (*settled_fn)(struct cluster *const *cls, const void *arg);

static void
poll_until(struct cluster *const *cls, settled_fn settled, const void *arg, const char *what)
{
	int64_t deadline = tzk_mono_ms() + WAIT_MS;

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

static const struct md_cluster_partition *
part_of(const struct cluster *cl, const char *topic)
{
	struct kp_str name = { topic, (int32_t)strlen(topic) };
	const struct md_cluster_topic *t = md_cluster_topic(cluster_view(cl), name);

	return t != NULL && t->partitions[0].has_state ? &t->partitions[0] : NULL;
}

/* Every open instance sees one controller and, when arg is a topic, its
 * partition 0's state. */
static bool
formed(struct cluster *const *cls, const void *arg)
{
	int32_t controller = -2;

	for (int i = 0; i < BROKERS; i++) {
		const struct md_cluster *v;

		if (cls[i] == NULL)
			continue;
		v = cluster_view(cls[i]);
		if (v->controller_id < 0 || (controller != -2 && v->controller_id != controller))
			return false;
		controller = v->controller_id;
		if (arg != NULL && part_of(cls[i], arg) == NULL)
			return false;
	}
	return true;
}

/* What every instance must see of a topic's partition 0. */
struct want {
	const char *topic;
	int32_t replicas[4], replica_count;
	int32_t adding_count, removing_count;
	int32_t leader;                 /* -2: any */
	int32_t min_epoch;
};

static bool
shows(struct cluster *const *cls, const void *arg)
{
	const struct want *w = arg;

	for (int i = 0; i < BROKERS; i++) {
		const struct md_cluster_partition *p;

		if (cls[i] == NULL)
			continue;
		p = part_of(cls[i], w->topic);
		if (p == NULL || p->replica_count != w->replica_count ||
		    memcmp(p->replicas, w->replicas, sizeof(int32_t) * (size_t)w->replica_count) ||
		    p->adding_count != w->adding_count || p->removing_count != w->removing_count ||
		    (w->leader != -2 && p->leader != w->leader) || p->leader_epoch < w->min_epoch)
			return false;
	}
	return true;
}

static bool
other_controller(struct cluster *const *cls, const void *arg)
{
	int32_t old = *(const int *)arg + 1;

	for (int i = 0; i < BROKERS; i++)
		if (cls[i] != NULL && (cluster_view(cls[i])->controller_id < 0 ||
				       cluster_view(cls[i])->controller_id == old))
			return false;
	return true;
}

static bool
three(struct cluster *const *cls, const void *arg)
{
	for (int i = 0; i < BROKERS; i++)
		if (cluster_view(cls[i])->broker_count != BROKERS)
			return false;
	return formed(cls, arg);
}

/* Every instance sees all three brokers and the topic arg led. */
static bool
all_alive(struct cluster *const *cls, const void *arg)
{
	for (int i = 0; i < BROKERS; i++) {
		const struct md_cluster_partition *p = part_of(cls[i], arg);

		if (cluster_view(cls[i])->broker_count != BROKERS || p == NULL || p->leader < 0)
			return false;
	}
	return formed(cls, arg);
}

static int
controller_index(struct cluster *const *cls)
{
	for (int i = 0; i < BROKERS; i++)
		if (cls[i] != NULL && cluster_is_controller(cls[i]))
			return i;
	return -1;
}

static void
create_topic(struct cluster *cl, const char *name)
{
	struct kp_uuid id;
	char msg[256];

	memset(id.b, 5, sizeof(id.b));
	cr_assert_eq(cluster_topic_create(cl, name, &id, 1, 2, NULL, 0, false, msg, sizeof(msg)),
		     KP_ERR_NONE, "create %s: %s", name, msg);
}

/* The leader adds every replica missing from the ISR, as its ISR timer
 * would once they caught up. */
static void
leader_adds(struct cluster *const *cls, const char *topic)
{
	const struct md_cluster_partition *p = part_of(cls[0], topic);
	int32_t isr[KP_REPLICAS_MAX], n = p->isr_count;
	int li = p->leader - 1;

	memcpy(isr, p->isr, sizeof(int32_t) * (size_t)n);
	for (int32_t i = 0; i < p->replica_count; i++) {
		bool in = false;

		for (int32_t k = 0; k < p->isr_count; k++)
			in |= p->isr[k] == p->replicas[i];
		if (!in)
			isr[n++] = p->replicas[i];
	}
	p = part_of(cls[li], topic);
	cr_assert_eq(cluster_isr_change(cls[li], topic, 0, p->leader_epoch, p->partition_epoch,
					isr, n), KP_ERR_NONE);
}

TestSuite(cluster_reassign, .init = zk_setup, .fini = zk_teardown, .timeout = 240);

/* Start (the full set, adding x, removing r0; r0 still leads), then the
 * finish once x is in the ISR (leadership leaves r0, ISR = the target). */
static void
check_move(struct cluster *const *cls, int ci)
{
	const struct md_cluster_partition *p;
	int32_t r0, r1, x, target[2];
	struct want w;
	char msg[400], *data = NULL;
	struct Stat st;

	create_topic(cls[0], "mv");
	poll_until(cls, formed, "mv", "the topic's state");
	p = part_of(cls[0], "mv");
	r0 = p->replicas[0];
	r1 = p->replicas[1];
	x = 6 - r0 - r1;
	cr_assert_eq(p->leader, r0);
	target[0] = x;
	target[1] = r1;
	cr_assert_eq(cluster_reassign(cls[(ci + 1) % BROKERS], "mv", 0, target, 2, NULL, msg,
				      sizeof(msg)), KP_ERR_NOT_CONTROLLER);
	cr_assert_eq(cluster_reassign(cls[ci], "mv", 0, target, 2, NULL, msg, sizeof(msg)),
		     KP_ERR_NONE, "%s", msg);
	w = (struct want){ "mv", { x, r1, r0 }, 3, 1, 1, r0, 1 };
	poll_until(cls, shows, &w, "the first step");
	cr_assert_eq(cluster_zk_get(cls[0], "/brokers/topics/mv", false, &data, &st), ZOK);
	snprintf(msg, sizeof(msg), "\"adding_replicas\":{\"0\":[%d]}", x);
	cr_assert_not_null(strstr(data, msg), "%s", data);
	snprintf(msg, sizeof(msg), "\"removing_replicas\":{\"0\":[%d]}", r0);
	cr_assert_not_null(strstr(data, msg), "%s", data);
	free(data);
	leader_adds(cls, "mv");
	w = (struct want){ "mv", { x, r1 }, 2, 0, 0, x, 2 };
	poll_until(cls, shows, &w, "the finish");
	p = part_of(cls[1], "mv");
	cr_assert_eq(p->isr_count, 2);
	cr_assert_eq(p->isr[0] + p->isr[1], x + r1);
}

/* RF 2 -> 3 of a new topic: its replicas and the broker added. */
static void
start_grow(struct cluster *const *cls, int ci, const char *topic, int32_t *full)
{
	const struct md_cluster_partition *p;
	char msg[400];

	create_topic(cls[0], topic);
	poll_until(cls, formed, topic, "the topic's state");
	p = part_of(cls[0], topic);
	full[0] = p->replicas[0];
	full[1] = p->replicas[1];
	full[2] = 6 - full[0] - full[1];
	cr_assert_eq(cluster_reassign(cls[ci], topic, 0, full, 3, NULL, msg, sizeof(msg)),
		     KP_ERR_NONE, "%s", msg);
}

/* Cancel: back to the original replicas; then nothing to cancel. */
static void
check_cancel(struct cluster *const *cls, int ci)
{
	int32_t full[3];
	struct want w;
	char msg[400];

	start_grow(cls, ci, "cx", full);
	cr_assert_eq(cluster_reassign(cls[ci], "cx", 0, NULL, -1, NULL, msg, sizeof(msg)),
		     KP_ERR_NONE, "%s", msg);
	w = (struct want){ "cx", { full[0], full[1] }, 2, 0, 0, -2, 2 };
	poll_until(cls, shows, &w, "the cancel");
	cr_assert_eq(cluster_reassign(cls[ci], "cx", 0, NULL, -1, NULL, msg, sizeof(msg)),
		     KP_ERR_NO_REASSIGNMENT_IN_PROGRESS);
}

/* Started by one controller, finished by the next. */
static void
check_failover(struct cluster **cls, int ci)
{
	int32_t full[3];
	struct want w;

	start_grow(cls, ci, "fo", full);
	w = (struct want){ "fo", { full[0], full[1], full[2] }, 3, 1, 0, -2, 1 };
	poll_until(cls, shows, &w, "fo's first step");
	cluster_close(cls[ci]);
	cls[ci] = NULL;
	poll_until(cls, other_controller, &ci, "a new controller");
	cr_assert_neq(controller_index(cls), -1);
	cls[ci] = broker_open(ci + 1);
	poll_until(cls, all_alive, "fo", "the old controller back");
	leader_adds(cls, "fo");
	w = (struct want){ "fo", { full[0], full[1], full[2] }, 3, 0, 0, -2, 2 };
	poll_until(cls, shows, &w, "fo's finish");
}

Test(cluster_reassign, move_cancel_and_controller_failover)
{
	struct cluster *cls[BROKERS] = { 0 };
	int ci;

	for (int i = 0; i < BROKERS; i++)
		cls[i] = broker_open(i + 1);
	poll_until(cls, three, NULL, "three brokers");
	ci = controller_index(cls);
	check_move(cls, ci);
	check_cancel(cls, ci);
	check_failover(cls, ci);
	for (int i = 0; i < BROKERS; i++)
		cluster_close(cls[i]);
}

Test(cluster_reassign_check, kafka_messages)
{
	int32_t live[] = { 1, 2, 3 }, origin[] = { 1, 2 }, many[] = { 1, 2, 3, 4, 5 };
	char msg[400];

	cr_assert_eq(cluster_reassign_validate(NULL, 0, origin, 2, live, 3, msg, sizeof(msg)),
		     KP_ERR_INVALID_REPLICA_ASSIGNMENT);
	cr_assert_str_eq(msg, "Empty replica list specified in partition reassignment.");
	cr_assert_eq(cluster_reassign_validate((int32_t[]){ 2, 2 }, 2, origin, 2, live, 3, msg,
					       sizeof(msg)), KP_ERR_INVALID_REPLICA_ASSIGNMENT);
	cr_assert_str_eq(msg, "Duplicate replica ids in partition reassignment replica list: "
			 "ArrayBuffer(2, 2)");
	cr_assert_eq(cluster_reassign_validate((int32_t[]){ -1, 2 }, 2, origin, 2, live, 3, msg,
					       sizeof(msg)), KP_ERR_INVALID_REPLICA_ASSIGNMENT);
	cr_assert_str_eq(msg, "Invalid broker id in replica list: ArrayBuffer(-1, 2)");
	cr_assert_eq(cluster_reassign_validate((int32_t[]){ 2, 7, 9 }, 3, origin, 2, live, 3, msg,
					       sizeof(msg)), KP_ERR_INVALID_REPLICA_ASSIGNMENT);
	cr_assert_str_eq(msg, "Replica assignment has brokers that are not alive. Replica list: "
			 "ArrayBuffer(7, 9), live broker list: Set(1, 2, 3)");
	cr_assert_eq(cluster_reassign_validate((int32_t[]){ 9 }, 1, origin, 2, many, 5, msg,
					       sizeof(msg)), KP_ERR_INVALID_REPLICA_ASSIGNMENT);
	cr_assert_str_eq(msg, "Replica assignment has brokers that are not alive. Replica list: "
			 "ArrayBuffer(9), live broker list: HashSet(1, 2, 3, 4, 5)");
	/* The original replicas need not be alive; the same set is fine. */
	cr_assert_eq(cluster_reassign_validate((int32_t[]){ 2, 1 }, 2, origin, 2, (int32_t[]){ 3 },
					       1, msg, sizeof(msg)), KP_ERR_NONE);
}
