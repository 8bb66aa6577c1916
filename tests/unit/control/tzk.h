/* SPDX-License-Identifier: Apache-2.0 */
/* A real ZooKeeper for the cluster tests: Debian's zookeeper jars run by
 * java (QuorumPeerMain with a generated zoo.cfg, tickTime 250) on a free
 * loopback port with a temp data dir; ready when "ruok" answers "imok". */
#ifndef TESTS_UNIT_CONTROL_TZK_H
#define TESTS_UNIT_CONTROL_TZK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tzk {
	pid_t pid;
	int port;
	char dir[64];
};

/* False (with why filled) when java or the jars are missing. */
bool tzk_available(char *why, size_t why_size);
/* Start and wait until ready (asserts on failure). */
void tzk_start(struct tzk *zk);
/* A loopback port nothing listens on right now. */
int tzk_free_port(void);
/* Kill the server and remove its directory. */
void tzk_stop(struct tzk *zk);

/* The cluster tests' common steps (control/cluster.h). */
struct cluster;
/* Skip the test when no ZooKeeper can run here; else quiet libzookeeper's
 * log, start one and write "127.0.0.1:<port><chroot>" (chroot "" or
 * "/path") into connect. */
void tzk_setup(struct tzk *zk, const char *chroot, char *connect, size_t connect_size);
/* cluster_open of broker id on connect (4 s sessions), advertising
 * PLAINTEXT://127.0.0.1:port with rack (NULL: none); asserts it opened. */
struct cluster *tzk_broker_open(const char *connect, int32_t id, const char *rack, int port);
/* CLOCK_MONOTONIC in ms. */
int64_t tzk_mono_ms(void);

#endif
