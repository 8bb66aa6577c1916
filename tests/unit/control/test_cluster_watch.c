/* SPDX-License-Identifier: Apache-2.0 */
/* A broker's ZooKeeper view against the watch race that left a new
 * topic's partition without a leader on one broker for good (the cluster
 * suite's netpart test, once in CI): the view's get of a partition state
 * finds no node, the controller creates it, and only then does the view's
 * exists call run; ZooKeeper answers that exists call with ZOK and a watch
 * for the node's next change, so no event ever tells of the creation.
 *
 * The test is linked with -Wl,--wrap=zoo_wexists: the wrapper creates the
 * watched node through a second session just before the real exists call,
 * which makes the race happen every time. Against a real ZooKeeper
 * (tzk.c); skipped when java or the jars are missing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control/cluster_int.h"
#include "tests/unit/control/tzk.h"

#define WAIT_MS 30000

static struct tzk zk;
static char connect_str[96];
static zhandle_t *raw;
/* The node the wrapper creates on the next zoo_wexists of it, and its data. */
static const char *race_path;
static const char *race_data;

int __real_zoo_wexists(zhandle_t *zh, const char *path, watcher_fn watcher, void *ctx,
		       struct Stat *stat);
int __wrap_zoo_wexists(zhandle_t *zh, const char *path, watcher_fn watcher, void *ctx,
		       struct Stat *stat);

int
__wrap_zoo_wexists(zhandle_t *zh, const char *path, watcher_fn watcher, void *ctx,
		   struct Stat *stat)
{
	if (race_path != NULL && zh != raw && strcmp(path, race_path) == 0) {
		int rc = zoo_create(raw, race_path, race_data, (int)strlen(race_data),
				    &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);

		cr_assert_eq(rc, ZOK, "create %s: %s", race_path, zerror(rc));
		race_path = NULL;
	}
	return __real_zoo_wexists(zh, path, watcher, ctx, stat);
}

static void
zk_setup(void)
{
	int64_t deadline;

	tzk_setup(&zk, "", connect_str, sizeof(connect_str));
	raw = zookeeper_init(connect_str, NULL, 4000, NULL, NULL, 0);
	cr_assert_not_null(raw);
	deadline = tzk_mono_ms() + WAIT_MS;
	while (zoo_state(raw) != ZOO_CONNECTED_STATE) {
		cr_assert_lt(tzk_mono_ms(), deadline, "raw session");
		usleep(10000);
	}
}

static void
zk_teardown(void)
{
	if (raw != NULL)
		zookeeper_close(raw);
	tzk_stop(&zk);
}

static void
raw_create(const char *path, const char *data, int flags)
{
	int rc = zoo_create(raw, path, data, data != NULL ? (int)strlen(data) : -1,
			    &ZOO_OPEN_ACL_UNSAFE, flags, NULL, 0);

	cr_assert(rc == ZOK || rc == ZNODEEXISTS, "create %s: %s", path, zerror(rc));
}

TestSuite(cluster_watch, .init = zk_setup, .fini = zk_teardown, .timeout = 120);

Test(cluster_watch, state_created_between_get_and_exists_is_read)
{
	const char *topic_json = "{\"version\":2,\"partitions\":{\"0\":[1]},"
				 "\"adding_replicas\":{},\"removing_replicas\":{}}";
	const char *state_json = "{\"controller_epoch\":1,\"leader\":1,\"version\":1,"
				 "\"leader_epoch\":3,\"isr\":[1]}";
	const struct md_cluster_topic *t = NULL;
	struct cluster *cl;
	int64_t deadline;

	/* Another broker (99, the raw session) is the controller, so this one
	 * writes no state itself. */
	raw_create("/controller", "{\"version\":1,\"brokerid\":99,\"timestamp\":\"0\"}",
		   ZOO_EPHEMERAL);
	cl = tzk_broker_open(connect_str, 1, NULL, 9091);
	deadline = tzk_mono_ms() + WAIT_MS;
	while (cluster_view(cl)->broker_count != 1 || cluster_view(cl)->controller_id != 99) {
		(void)cluster_poll(cl);
		cr_assert_lt(tzk_mono_ms(), deadline, "registration and the controller");
		usleep(20000);
	}

	/* The topic without its state; the state appears inside the race. */
	raw_create("/brokers/topics/race", topic_json, ZOO_PERSISTENT);
	raw_create("/brokers/topics/race/partitions", NULL, ZOO_PERSISTENT);
	raw_create("/brokers/topics/race/partitions/0", NULL, ZOO_PERSISTENT);
	race_data = state_json;
	race_path = "/brokers/topics/race/partitions/0/state";
	deadline = tzk_mono_ms() + WAIT_MS;
	while ((t = md_cluster_topic(cluster_view(cl), (struct kp_str){ "race", 4 })) == NULL) {
		(void)cluster_poll(cl);
		cr_assert_lt(tzk_mono_ms(), deadline, "the topic in the view");
		usleep(20000);
	}
	cr_assert_null(race_path, "the race did not happen: the view read the state first");
	/* Read at once, in the same view; and no later event would bring it. */
	cr_assert(t->partitions[0].has_state, "the state created in the race was never read");
	cr_assert_eq(t->partitions[0].leader, 1);
	cr_assert_eq(t->partitions[0].leader_epoch, 3);
	cluster_close(cl);
}
