/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/metadata.c, control/md_snapshot.c and control/meta_file.c: the
 * topic store survives a reopen byte for byte (names, ids, partition counts,
 * config values with awkward characters and nulls), meta.properties pins the
 * cluster and node ids, and snapshots sort and look up by name and by id. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/uuid.h"
#include "control/meta_file.h"
#include "control/metadata.h"
#include "tests/unit/control/tdir.h"

TestSuite(metadata, .init = tdir_setup, .fini = tdir_teardown);

static struct kp_str
str(const char *s)
{
	return kp_str_c(s);
}

Test(metadata, cluster_id_is_created_once_and_kept)
{
	struct md_store st;
	char err[256];
	char first[23];

	cr_assert_eq(md_store_open(&st, tdir_path, 1, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(strlen(st.cluster_id), 22);
	memcpy(first, st.cluster_id, sizeof(first));
	md_store_close(&st);
	cr_assert_eq(md_store_open(&st, tdir_path, 1, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(st.cluster_id, first);
	md_store_close(&st);
}

Test(metadata, node_id_mismatch_is_refused)
{
	struct md_store st;
	char err[256];

	cr_assert_eq(md_store_open(&st, tdir_path, 1, NULL, err, sizeof(err)), 0);
	md_store_close(&st);
	cr_assert_neq(md_store_open(&st, tdir_path, 2, NULL, err, sizeof(err)), 0);
	cr_assert_not_null(strstr(err, "node.id"), "%s", err);
}

Test(metadata, topics_survive_reopen)
{
	struct kp_topic_config cfgs[3] = {
		{ str("retention.ms"), str("1000") },
		{ str("odd.value"), str("a b%c=\n~") },
		{ str("empty"), str("") },
	};
	struct kp_uuid id1, id2;
	struct md_store st;
	struct md_topic *t;
	char err[256];

	cr_assert_eq(md_store_open(&st, tdir_path, 1, NULL, err, sizeof(err)), 0);
	md_uuid_random(&id1);
	md_uuid_random(&id2);
	cr_assert_eq(md_store_topic_add(&st, str("orders"), &id1, 3, cfgs, 3), 0);
	cr_assert_eq(md_store_topic_add(&st, str("a.b"), &id2, 1, NULL, 0), 0);
	cr_assert_eq(md_store_partitions_set(&st, &id2, 5), 0);
	md_store_close(&st);

	cr_assert_eq(md_store_open(&st, tdir_path, 1, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(st.topic_count, 2);
	t = md_store_find(&st, str("orders"));
	cr_assert_not_null(t);
	cr_assert_eq(memcmp(t->id.b, id1.b, 16), 0);
	cr_assert_eq(t->partition_count, 3);
	cr_assert_eq(t->config_count, 3);
	cr_assert_str_eq(t->configs[0].value, "1000");
	cr_assert_str_eq(t->configs[1].value, "a b%c=\n~");
	cr_assert_str_eq(t->configs[2].value, "");
	t = md_store_find(&st, str("a.b"));
	cr_assert_eq(t->partition_count, 5);
	cr_assert_not_null(md_store_find_colliding(&st, str("a_b")));
	cr_assert_null(md_store_find_colliding(&st, str("a_c")));
	cr_assert_eq(md_store_topic_remove(&st, &id1), 0);
	md_store_close(&st);

	cr_assert_eq(md_store_open(&st, tdir_path, 1, NULL, err, sizeof(err)), 0);
	cr_assert_eq(st.topic_count, 1);
	cr_assert_null(md_store_find(&st, str("orders")));
	md_store_close(&st);
}

Test(metadata, corrupt_topic_file_is_reported)
{
	char path[300];
	struct md_store st;
	char err[256];
	FILE *f;

	cr_assert_eq(md_store_open(&st, tdir_path, 1, NULL, err, sizeof(err)), 0);
	md_store_close(&st);
	snprintf(path, sizeof(path), "%s/__spillway_topics", tdir_path);
	f = fopen(path, "w");
	fputs("spillway-topics v1\ntopic x 00 1 0\n", f);
	fclose(f);
	cr_assert_neq(md_store_open(&st, tdir_path, 1, NULL, err, sizeof(err)), 0);
	cr_assert_not_null(strstr(err, "__spillway_topics"), "%s", err);
}

Test(metadata, snapshot_lookups)
{
	const char *names[] = { "zeta", "alpha", "mid", "alpha2" };
	struct md_broker broker = {
		.endpoint_count = 2,
		.endpoints = { { "PLAINTEXT", "localhost", 9092, 0 },
			       { "EXT", "ext.example", 29092, 2 } },
		.auto_create_topics = true, .num_partitions = 3, .default_replication_factor = 1,
	};
	struct kp_uuid ids[4];
	struct md_store st;
	struct kp_md *md;
	char err[256];

	cr_assert_eq(md_store_open(&st, tdir_path, 7, NULL, err, sizeof(err)), 0);
	for (int i = 0; i < 4; i++) {
		md_uuid_random(&ids[i]);
		cr_assert_eq(md_store_topic_add(&st, str(names[i]), &ids[i], i + 1, NULL, 0), 0);
	}
	md = md_snapshot_build(&st, &broker, 42);
	cr_assert_not_null(md);
	cr_assert_eq(md->broker_id, 7);
	cr_assert_eq(md->controller_id, 7);
	/* Every listener's endpoint, copied into the snapshot. */
	cr_assert_eq(md->endpoint_count, 2);
	cr_assert_str_eq(md->endpoints[0].host, "localhost");
	cr_assert_str_eq(md->endpoints[1].listener, "EXT");
	cr_assert_str_eq(md->endpoints[1].host, "ext.example");
	cr_assert_neq(md->endpoints[1].host, broker.endpoints[1].host);
	cr_assert_eq(md->endpoints[1].port, 29092);
	cr_assert_eq(md->endpoints[1].protocol, 2);
	cr_assert_eq(kp_md_endpoint(md, NULL), &md->endpoints[0]);
	cr_assert_eq(md->topic_count, 4);
	cr_assert_eq(md->epoch, 42u);
	cr_assert_eq(strncmp(md->topics[0].name.ptr, "alpha", 5), 0);
	for (int i = 0; i < 4; i++) {
		const struct kp_md_topic *t = kp_md_topic_by_name(md, str(names[i]));

		cr_assert_not_null(t);
		cr_assert_eq(t->partition_count, i + 1);
		cr_assert_eq(kp_md_topic_by_id(md, &ids[i]), t);
	}
	cr_assert_null(kp_md_topic_by_name(md, str("alph")));
	md_snapshot_free(md);
	md_store_close(&st);
}

Test(metadata, uuids_are_kafka_valid)
{
	char text[23];

	for (int i = 0; i < 2000; i++) {
		struct kp_uuid id;

		md_uuid_random(&id);
		cr_assert(!kp_uuid_is_zero(&id));
		uuid_to_text(id.b, text);
		cr_assert_eq(strlen(text), 22);
		cr_assert_neq(text[0], '-');
	}
}

Test(metadata, topic_configs_replaced_and_persisted)
{
	struct kp_topic_config first[2] = {
		{ str("retention.ms"), str("1000") },
		{ str("cleanup.policy"), str("compact") },
	};
	struct kp_topic_config next[1] = { { str("segment.bytes"), str("16384") } };
	struct kp_uuid id, other;
	struct md_store st;
	struct md_topic *t;
	char err[256];

	cr_assert_eq(md_store_open(&st, tdir_path, 1, NULL, err, sizeof(err)), 0);
	md_uuid_random(&id);
	md_uuid_random(&other);
	cr_assert_eq(md_store_topic_add(&st, str("t"), &id, 1, first, 2), 0);
	cr_assert_eq(md_store_topic_configs_set(&st, &other, next, 1), -ENOENT);
	cr_assert_eq(md_store_topic_configs_set(&st, &id, next, 1), 0);
	t = md_store_find(&st, str("t"));
	cr_assert_eq(t->config_count, 1);
	cr_assert_str_eq(t->configs[0].name, "segment.bytes");
	md_store_close(&st);

	cr_assert_eq(md_store_open(&st, tdir_path, 1, NULL, err, sizeof(err)), 0, "%s", err);
	t = md_store_find(&st, str("t"));
	cr_assert_eq(t->config_count, 1);
	cr_assert_str_eq(t->configs[0].value, "16384");
	cr_assert_eq(md_store_topic_configs_set(&st, &t->id, NULL, 0), 0);
	md_store_close(&st);
	cr_assert_eq(md_store_open(&st, tdir_path, 1, NULL, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(md_store_find(&st, str("t"))->config_count, 0);
	md_store_close(&st);
}

static void
read_meta(const char *dir, char *text, size_t size)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/meta.properties", dir);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	n = fread(text, 1, size - 1, f);
	text[n] = '\0';
	fclose(f);
}

/* JBOD: every other log dir gets meta.properties with the first dir's
 * cluster.id and its own directory.id; one naming another cluster stops
 * the start; one that cannot be used is left to storage (offline). */
Test(metadata, every_log_dir_has_meta_properties)
{
	static const char *cid = "AAAAAAAAAAAAAAAAAAAAAA";
	char d1[300], d2[300], bad[300], t0[512], t1[512], t2[512], err[512];
	const char *dirs[3] = { d1, d2, bad };
	FILE *f;

	snprintf(d1, sizeof(d1), "%s/d1", tdir_path);
	snprintf(d2, sizeof(d2), "%s/d2", tdir_path);
	snprintf(bad, sizeof(bad), "%s/file", tdir_path);
	f = fopen(bad, "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_assert_eq(meta_file_open_more(dirs, 3, 1, cid, err, sizeof(err)), 0, "%s", err);
	read_meta(d1, t1, sizeof(t1));
	read_meta(d2, t2, sizeof(t2));
	cr_assert(strstr(t1, "cluster.id=AAAAAAAAAAAAAAAAAAAAAA\n") != NULL, "%s", t1);
	cr_assert(strstr(t2, "node.id=1\n") != NULL, "%s", t2);
	cr_assert_str_neq(strstr(t1, "directory.id="), strstr(t2, "directory.id="));
	/* Kept as they are on the next start. */
	cr_assert_eq(meta_file_open_more(dirs, 2, 1, cid, err, sizeof(err)), 0, "%s", err);
	read_meta(d1, t0, sizeof(t0));
	cr_assert_str_eq(t0, t1);
	cr_assert_eq(meta_file_open_more(dirs, 2, 1, "BBBBBBBBBBBBBBBBBBBBBB", err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "does not match") != NULL, "%s", err);
}
