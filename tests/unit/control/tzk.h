/* SPDX-License-Identifier: Apache-2.0 */
/* A real ZooKeeper for the cluster tests: Debian's zookeeper jars run by
 * java (QuorumPeerMain with a generated zoo.cfg, tickTime 250) on a free
 * loopback port with a temp data dir; ready when "ruok" answers "imok". */
#ifndef TESTS_UNIT_CONTROL_TZK_H
#define TESTS_UNIT_CONTROL_TZK_H

#include <stdbool.h>
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

#endif
