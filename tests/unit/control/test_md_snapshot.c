/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/md_snapshot.c's brokers and partitions: a single broker
 * leads every partition alone; in cluster mode the snapshot carries
 * ZooKeeper's view (a synthetic md_cluster: three brokers, one of them
 * dead, several topics with many partitions and mixed leaders, a topic
 * without cluster state yet, one whose states are not written yet). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/metadata.h"
#include "tests/unit/control/tdir.h"

TestSuite(md_snapshot, .init = tdir_setup, .fini = tdir_teardown);

static const struct md_broker single = {
	.endpoint_count = 2,
	.endpoints = { { "PLAINTEXT", "localhost", 9092, 0 }, { "EXT", "ext.example", 29092, 2 } },
	.num_partitions = 1, .default_replication_factor = 1, .rack = "r1",
};

static void
store_open(struct md_store *st, int32_t node_id)
{
	char err[256];

	cr_assert_eq(md_store_open(st, tdir_path, node_id, NULL, err, sizeof(err)), 0, "%s", err);
}

static void
topic_add(struct md_store *st, const char *name, int32_t partitions)
{
	struct kp_uuid id;

	md_uuid_random(&id);
	cr_assert_eq(md_store_topic_add(st, kp_str_c(name), &id, partitions, NULL, 0), 0);
}

Test(md_snapshot, single_broker_leads_everything)
{
	struct md_store st;
	struct kp_md *md;

	store_open(&st, 5);
	topic_add(&st, "b", 7);
	topic_add(&st, "a", 3);
	md = md_snapshot_build(&st, &single, 1);
	cr_assert_not_null(md);
	cr_assert(!md->cluster);
	cr_assert_eq(md->controller_id, 5);
	cr_assert_str_eq(md->rack, "r1");
	cr_assert_eq(md->broker_count, 1);
	cr_assert_eq(md->brokers[0].id, 5);
	cr_assert_str_eq(md->brokers[0].rack, "r1");
	cr_assert_eq(md->brokers[0].endpoint_count, 2);
	cr_assert_str_eq(md->brokers[0].endpoints[1].host, "ext.example");
	cr_assert_eq(kp_md_broker(md, 5), &md->brokers[0]);
	cr_assert_null(kp_md_broker(md, 4));
	for (int32_t i = 0; i < md->topic_count; i++) {
		const struct kp_md_topic *t = &md->topics[i];

		cr_assert_not_null(t->partitions);
		cr_assert_eq(t->min_insync_replicas, 1);
		cr_assert_eq(t->max_message_bytes, 1048588);
		for (int32_t p = 0; p < t->partition_count; p++) {
			const struct kp_md_partition *mp = kp_md_partition(t, p);

			cr_assert_eq(mp->leader, 5);
			cr_assert_eq(mp->leader_epoch, 0);
			cr_assert_eq(mp->replica_count, 1);
			cr_assert_eq(mp->replicas[0], 5);
			cr_assert_eq(mp->isr_count, 1);
			cr_assert_eq(mp->isr[0], 5);
			cr_assert_eq(mp->offline_count, 0);
			cr_assert(kp_md_is_leader(md, t, p));
		}
		cr_assert_null(kp_md_partition(t, t->partition_count));
		cr_assert_null(kp_md_partition(t, -1));
	}
	md_snapshot_free(md);
	md_store_close(&st);
}

/* ---- a synthetic cluster: brokers 1 (self), 2 and 4 registered, 3 dead ---- */

#define CL_TOPICS 3
#define CL_PARTS 40

static struct md_cluster_broker cl_brokers[3];
static struct md_cluster_topic cl_topics[CL_TOPICS];
static struct md_cluster_partition cl_parts[CL_TOPICS][CL_PARTS];
static struct md_cluster cl;

/* Replicas of partition p: three of brokers 1..4 from p % 4 on, leader the
 * first live one, ISR the live ones. */
static void
cl_partition(struct md_cluster_partition *cp, int32_t p, bool state)
{
	memset(cp, 0, sizeof(*cp));
	cp->replica_count = 3;
	for (int32_t r = 0; r < 3; r++) {
		int32_t id = (p + r) % 4 + 1;

		cp->replicas[r] = id;
		if (id != 3)
			cp->isr[cp->isr_count++] = id;
	}
	cp->leader = cp->isr[0];
	cp->leader_epoch = p % 5;
	cp->partition_epoch = p % 7 + 1;
	cp->has_state = state;
}

static void
cl_setup(void)
{
	static char names[CL_TOPICS][8] = { "events", "orders", "pending" };
	static const int32_t ids[3] = { 1, 2, 4 };

	memset(&cl, 0, sizeof(cl));
	for (int i = 0; i < 3; i++) {
		struct md_cluster_broker *b = &cl_brokers[i];
		char host[32];

		snprintf(host, sizeof(host), "zk-host-%d", ids[i]);
		*b = (struct md_cluster_broker){ .id = ids[i], .endpoint_count = 2 };
		b->rack = ids[i] == 2 ? strdup("rack-b") : NULL;
		b->endpoints[0] = (struct md_cluster_endpoint){ strdup("PLAINTEXT"), strdup(host),
								 9090 + ids[i], 0 };
		b->endpoints[1] = (struct md_cluster_endpoint){ strdup("EXT"), strdup(host),
								 29090 + ids[i], 2 };
	}
	for (int t = 0; t < CL_TOPICS; t++) {
		cl_topics[t] = (struct md_cluster_topic){ .name = names[t],
							  .partition_count = CL_PARTS,
							  .partitions = cl_parts[t] };
		for (int32_t p = 0; p < CL_PARTS; p++)
			cl_partition(&cl_parts[t][p], p + t, t != 2);
	}
	cl.controller_id = 2;
	cl.broker_count = 3;
	cl.brokers = cl_brokers;
	cl.topic_count = CL_TOPICS;
	cl.topics = cl_topics;
}

static void
cl_teardown(void)
{
	for (int i = 0; i < 3; i++) {
		free(cl_brokers[i].rack);
		for (int e = 0; e < 2; e++) {
			free(cl_brokers[i].endpoints[e].listener);
			free(cl_brokers[i].endpoints[e].host);
		}
	}
}

static struct kp_md *
cl_build(struct md_store *st, const struct md_cluster *c)
{
	struct md_broker b = single;

	b.cluster = c;
	store_open(st, 1);
	topic_add(st, "orders", CL_PARTS);
	topic_add(st, "events", CL_PARTS);
	topic_add(st, "pending", CL_PARTS);
	topic_add(st, "fresh", 4);      /* in the store, not yet in ZooKeeper */
	return md_snapshot_build(st, &b, 9);
}

Test(md_snapshot, cluster_brokers_and_controller)
{
	struct md_store st;
	struct kp_md *md;

	cl_setup();
	md = cl_build(&st, &cl);
	cr_assert_not_null(md);
	cr_assert(md->cluster);
	cr_assert_eq(md->controller_id, 2);
	cr_assert_eq(md->broker_count, 3);
	cr_assert_eq(md->brokers[0].id, 1);
	cr_assert_eq(md->brokers[1].id, 2);
	cr_assert_eq(md->brokers[2].id, 4);
	/* Self with its own endpoints and rack, the others as registered and
	 * copied into the snapshot. */
	cr_assert_str_eq(md->brokers[0].endpoints[0].host, "localhost");
	cr_assert_str_eq(md->brokers[0].rack, "r1");
	cr_assert_str_eq(md->brokers[1].rack, "rack-b");
	cr_assert_neq(md->brokers[1].rack, cl_brokers[1].rack);
	cr_assert_null(md->brokers[2].rack);
	cr_assert_str_eq(md->brokers[2].endpoints[1].listener, "EXT");
	cr_assert_str_eq(md->brokers[2].endpoints[1].host, "zk-host-4");
	cr_assert_eq(md->brokers[2].endpoints[1].port, 29094);
	cr_assert_null(kp_md_broker(md, 3));
	cr_assert_eq(kp_md_broker(md, 4), &md->brokers[2]);
	md_snapshot_free(md);
	md_store_close(&st);
	cl_teardown();
}

Test(md_snapshot, cluster_partition_states)
{
	struct md_store st;
	struct kp_md *md;

	cl_setup();
	md = cl_build(&st, &cl);
	for (int t = 0; t < 2; t++) {
		const struct kp_md_topic *mt = kp_md_topic_by_name(md, kp_str_c(cl_topics[t].name));

		cr_assert_not_null(mt);
		for (int32_t p = 0; p < CL_PARTS; p++) {
			const struct kp_md_partition *mp = kp_md_partition(mt, p);
			const struct md_cluster_partition *cp = &cl_parts[t][p];
			int32_t dead = 0;

			cr_assert_eq(mp->leader, cp->leader);
			cr_assert_eq(mp->leader_epoch, cp->leader_epoch);
			cr_assert_eq(mp->partition_epoch, cp->partition_epoch);
			cr_assert_eq(mp->replica_count, 3);
			cr_assert_eq(memcmp(mp->replicas, cp->replicas, 3 * sizeof(int32_t)), 0);
			cr_assert_eq(mp->isr_count, cp->isr_count);
			cr_assert_eq(memcmp(mp->isr, cp->isr, (size_t)cp->isr_count * 4), 0);
			for (int r = 0; r < 3; r++)
				dead += cp->replicas[r] == 3;
			cr_assert_eq(mp->offline_count, dead, "%s-%d", cl_topics[t].name, p);
			if (dead)
				cr_assert_eq(mp->offline[0], 3);
			cr_assert_eq(kp_md_is_leader(md, mt, p), cp->leader == 1);
		}
	}
	md_snapshot_free(md);
	md_store_close(&st);
	cl_teardown();
}

Test(md_snapshot, cluster_partitions_without_state)
{
	struct md_store st;
	struct kp_md *md;
	const struct kp_md_topic *t;

	cl_setup();
	md = cl_build(&st, &cl);
	/* Assigned, no state znode yet: no leader, the assignment's replicas. */
	t = kp_md_topic_by_name(md, kp_str_c("pending"));
	for (int32_t p = 0; p < CL_PARTS; p++) {
		const struct kp_md_partition *mp = kp_md_partition(t, p);

		cr_assert_eq(mp->leader, -1);
		cr_assert_eq(mp->replica_count, 3);
		cr_assert_eq(mp->replicas[0], cl_parts[2][p].replicas[0]);
		cr_assert_eq(mp->isr_count, 0);
		cr_assert(!kp_md_is_leader(md, t, p));
	}
	/* Not in ZooKeeper at all: no leader, no replicas known. */
	t = kp_md_topic_by_name(md, kp_str_c("fresh"));
	cr_assert_eq(t->partition_count, 4);
	for (int32_t p = 0; p < 4; p++) {
		cr_assert_eq(t->partitions[p].leader, -1);
		cr_assert_eq(t->partitions[p].replica_count, 0);
		cr_assert_eq(t->partitions[p].offline_count, 0);
	}
	md_snapshot_free(md);
	md_store_close(&st);
	cl_teardown();
}

Test(md_snapshot, cluster_self_listed_before_registration)
{
	struct md_cluster empty = { .controller_id = -1 };
	struct md_store st;
	struct kp_md *md;

	md = cl_build(&st, &empty);
	cr_assert_eq(md->controller_id, -1);
	cr_assert_eq(md->broker_count, 1);
	cr_assert_eq(md->brokers[0].id, 1);
	cr_assert_eq(md->brokers[0].endpoint_count, 2);
	md_snapshot_free(md);
	md_store_close(&st);
}

Test(md_snapshot, cluster_topic_lookup)
{
	cl_setup();
	cr_assert_eq(md_cluster_topic(&cl, kp_str_c("orders")), &cl_topics[1]);
	cr_assert_eq(md_cluster_topic(&cl, kp_str_c("events")), &cl_topics[0]);
	cr_assert_eq(md_cluster_topic(&cl, kp_str_c("pending")), &cl_topics[2]);
	cr_assert_null(md_cluster_topic(&cl, kp_str_c("order")));
	cr_assert_null(md_cluster_topic(&cl, kp_str_c("ordersx")));
	cr_assert_null(md_cluster_topic(NULL, kp_str_c("orders")));
	cl_teardown();
}
