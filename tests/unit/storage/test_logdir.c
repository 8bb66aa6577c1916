/* SPDX-License-Identifier: Apache-2.0 */
/* Tests storage/logdir.c on the simulated sio: which names are partition
 * directories, moving a directory aside under a "-delete" name and removing
 * it, and the start-up sweep (unknown partitions and interrupted deletes go,
 * known partitions and anything not shaped like ours stay). The reaper
 * thread is exercised on real files by test_st.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "storage/logdir_int.h"
#include "tests/sim/sio_sim.h"

static struct sio *sio;

static void
setup(void)
{
	sio = sio_sim_create(3);
	cr_assert_eq(sio_mkdir(sio, "/data", 0755), 0);
}

static void
teardown(void)
{
	sio_destroy(sio);
}

TestSuite(logdir, .init = setup, .fini = teardown);

static void
make_dir(const char *name, int files)
{
	char path[256];

	snprintf(path, sizeof(path), "/data/%s", name);
	cr_assert_eq(sio_mkdir(sio, path, 0755), 0);
	for (int i = 0; i < files; i++) {
		snprintf(path, sizeof(path), "/data/%s/f%d", name, i);
		int fd = sio_open(sio, path, O_RDWR | O_CREAT, 0644);

		cr_assert_geq(fd, 0);
		sio_close(sio, fd);
	}
}

static bool
exists(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/data/%s", name);
	return sio_sim_exists(sio, path);
}

static uint32_t
entries(void)
{
	uint32_t n;

	cr_assert_eq(logdir_count(sio, "/data", &n), 0);
	return n;
}

Test(logdir, partition_names)
{
	char topic[256];
	int32_t p;

	cr_assert(logdir_partition_name("orders-0", topic, sizeof(topic), &p));
	cr_assert_str_eq(topic, "orders");
	cr_assert_eq(p, 0);
	cr_assert(logdir_partition_name("a-b.c_d-2147483647", topic, sizeof(topic), &p));
	cr_assert_str_eq(topic, "a-b.c_d");
	cr_assert_eq(p, 2147483647);
	cr_assert_not(logdir_partition_name("t-2147483648", topic, sizeof(topic), &p));
	cr_assert_not(logdir_partition_name("t-01", topic, sizeof(topic), &p));
	cr_assert_not(logdir_partition_name("t-", topic, sizeof(topic), &p));
	cr_assert_not(logdir_partition_name("-3", topic, sizeof(topic), &p));
	cr_assert_not(logdir_partition_name("meta.properties", topic, sizeof(topic), &p));
	cr_assert_not(logdir_partition_name("t-0.abc-delete", topic, sizeof(topic), &p));
	cr_assert_not(logdir_partition_name("sp ace-1", topic, sizeof(topic), &p));
	cr_assert_not(logdir_partition_name("..-1", topic, sizeof(topic), &p));
	cr_assert_not(logdir_partition_name("t-1", topic, 1, &p), "does not fit");
}

Test(logdir, trash_moves_aside_then_removes)
{
	make_dir("t-0", 3);
	cr_assert_eq(logdir_trash(sio, NULL, "/data/t-0"), 0);
	cr_assert_not(exists("t-0"));
	cr_assert_eq(entries(), 0, "the -delete directory is removed too");
	cr_assert_eq(logdir_trash(sio, NULL, "/data/t-0"), -ENOENT);
}

/* Known: topic "keep" with 2 partitions. */
static bool
known(void *arg, const char *topic, int32_t partition)
{
	(*(int *)arg)++;
	return strcmp(topic, "keep") == 0 && partition < 2;
}

Test(logdir, clean_removes_unknown_and_interrupted)
{
	struct logdir_clean_stats cs;
	int asked = 0, fd;

	make_dir("keep-0", 2);
	make_dir("keep-1", 1);
	make_dir("keep-2", 1);                  /* beyond the partition count */
	make_dir("gone-0", 4);                  /* a topic metadata does not know */
	make_dir("gone-0.00ff-delete", 2);      /* an interrupted delete */
	make_dir("not-a-partition", 1);         /* not our shape: stays */
	fd = sio_open(sio, "/data/file-7", O_RDWR | O_CREAT, 0644);     /* a file: stays */
	sio_close(sio, fd);
	fd = sio_open(sio, "/data/meta.properties", O_RDWR | O_CREAT, 0644);
	sio_close(sio, fd);

	cr_assert_eq(logdir_clean(sio, NULL, "/data", known, &asked, &cs), 0);
	cr_assert_eq(cs.trashed, 2);
	cr_assert_eq(cs.finished, 1);
	cr_assert_eq(cs.failed, 0);
	cr_assert(exists("keep-0"));
	cr_assert(exists("keep-0/f1"));
	cr_assert(exists("keep-1"));
	cr_assert_not(exists("keep-2"));
	cr_assert_not(exists("gone-0"));
	cr_assert_not(exists("gone-0.00ff-delete"));
	cr_assert(exists("not-a-partition"));
	cr_assert(exists("file-7"));
	cr_assert(exists("meta.properties"));
	cr_assert_eq(entries(), 5);
	cr_assert_eq(asked, 5, "asked about every partition-shaped name");
	cr_assert_eq(sio_sim_fds_open(sio), 0);
}
