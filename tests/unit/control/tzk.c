/* SPDX-License-Identifier: Apache-2.0 */
/* The test ZooKeeper server (see tzk.h). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control/cluster_int.h"
#include "tests/unit/control/tzk.h"

#define TZK_CLASSPATH "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:" \
	"/usr/share/java/zookeeper-jute.jar:/usr/share/java/slf4j-api.jar:" \
	"/usr/share/java/log4j-1.2.jar:/usr/share/java/netty.jar"

bool
tzk_available(char *why, size_t why_size)
{
	if (system("command -v java >/dev/null 2>&1") != 0) {
		snprintf(why, why_size, "java is not installed");
		return false;
	}
	if (access("/usr/share/java/zookeeper.jar", R_OK) != 0) {
		snprintf(why, why_size, "the zookeeper jars are missing (package zookeeper)");
		return false;
	}
	return true;
}

int
tzk_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* "ruok" -> "imok". */
static bool
ruok(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char buf[8] = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = false;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && write(fd, "ruok", 4) == 4)
		ok = read(fd, buf, 4) == 4 && memcmp(buf, "imok", 4) == 0;
	close(fd);
	return ok;
}

void
tzk_start(struct tzk *zk)
{
	char cfg[128], log[128], logdir[96];
	FILE *f;

	snprintf(zk->dir, sizeof(zk->dir), "/tmp/spillway-zk-XXXXXX");
	cr_assert_not_null(mkdtemp(zk->dir));
	zk->port = tzk_free_port();
	snprintf(cfg, sizeof(cfg), "%s/zoo.cfg", zk->dir);
	f = fopen(cfg, "w");
	cr_assert_not_null(f);
	fprintf(f, "tickTime=250\ndataDir=%s/data\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
		"admin.enableServer=false\n4lw.commands.whitelist=*\n", zk->dir, zk->port);
	fclose(f);
	snprintf(log, sizeof(log), "%s/zk.out", zk->dir);
	snprintf(logdir, sizeof(logdir), "-Dzookeeper.log.dir=%s", zk->dir);
	zk->pid = fork();
	cr_assert_geq(zk->pid, 0);
	if (zk->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		/* Dies with the test, even when the test crashes. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("java", "java", "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", TZK_CLASSPATH,
		       logdir, "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg,
		       (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 600; i++) {     /* 60 s: a loaded machine starts slowly */
		if (ruok(zk->port))
			return;
		cr_assert_eq(waitpid(zk->pid, NULL, WNOHANG), 0, "zookeeper exited; see %s", log);
		usleep(100000);
	}
	cr_assert_fail("zookeeper did not answer ruok on port %d; see %s", zk->port, log);
}

void
tzk_stop(struct tzk *zk)
{
	char cmd[128];

	if (zk->pid > 0) {
		kill(zk->pid, SIGKILL);
		waitpid(zk->pid, NULL, 0);
		zk->pid = 0;
	}
	if (zk->dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", zk->dir);
		(void)system(cmd);
		zk->dir[0] = '\0';
	}
}

void
tzk_setup(struct tzk *zk, const char *chroot, char *connect, size_t connect_size)
{
	char why[128];

	if (!tzk_available(why, sizeof(why)))
		cr_skip_test("cluster tests need a real ZooKeeper: %s", why);
	zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
	tzk_start(zk);
	snprintf(connect, connect_size, "127.0.0.1:%d%s", zk->port, chroot);
}

struct cluster *
tzk_broker_open(const char *connect, int32_t id, const char *rack, int port)
{
	/* cluster_open copies the endpoint and its strings. */
	static char listener[] = "PLAINTEXT", host[] = "127.0.0.1";
	struct md_cluster_endpoint ep = { .listener = listener, .host = host, .port = port,
					  .protocol = 0 };
	struct cluster_config cfg = {
		.connect = connect, .session_timeout_ms = 4000,
		.connection_timeout_ms = 20000, .broker_id = id, .rack = rack,
		.endpoint_count = 1, .endpoints = &ep,
	};
	char err[256] = "";
	struct cluster *cl = cluster_open(&cfg, err, sizeof(err));

	cr_assert_not_null(cl, "broker %d: %s", id, err);
	return cl;
}

int64_t
tzk_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
