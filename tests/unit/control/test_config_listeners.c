/* SPDX-License-Identifier: Apache-2.0 */
/* Several client listeners (control/config_listeners.c): listeners= with
 * names mapped to security protocols by listener.security.protocol.map,
 * advertised.listeners per name, and Kafka's checks, each failure naming
 * its key. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "control/config.h"
#include "protocol/kp_session.h"

static struct config cfg;
static char err[512];

static void
cleanup(void)
{
	config_free(&cfg);
}

TestSuite(config_listeners, .fini = cleanup);

static int
load(int n, const char *const *ov)
{
	return config_load(&cfg, NULL, n, ov, err, sizeof(err));
}

/* Loading ov fails with -EINVAL and a message naming key and holding part. */
static void
expect_error(int n, const char *const *ov, const char *key, const char *part)
{
	cr_assert_eq(load(n, ov), -EINVAL, "%s loaded", ov[0]);
	cr_assert(strstr(err, key) != NULL, "'%s' does not name %s", err, key);
	cr_assert(strstr(err, part) != NULL, "'%s' lacks '%s'", err, part);
	config_free(&cfg);
}

Test(config_listeners, default_map_and_order)
{
	const char *ov[] = { "listeners=PLAINTEXT://127.0.0.1:9092,sasl_plaintext://:9095" };

	cr_assert_eq(load(1, ov), 0, "%s", err);
	cr_assert_eq(cfg.listener_count, 2);
	cr_assert_str_eq(cfg.listeners[0].name, "PLAINTEXT");
	cr_assert_eq(cfg.listeners[0].protocol, KP_SEC_PLAINTEXT);
	cr_assert_str_eq(cfg.listeners[1].name, "SASL_PLAINTEXT", "names are upper-cased");
	cr_assert_eq(cfg.listeners[1].protocol, KP_SEC_SASL_PLAINTEXT);
	cr_assert_str_eq(cfg.listeners[1].host, "");
	cr_assert_eq(cfg.listeners[1].port, 9095);
	/* An all-interfaces host advertises the canonical host name. */
	cr_assert_neq(cfg.listeners[1].advertised_host[0], '\0');
	cr_assert_eq(cfg.listeners[1].advertised_port, 9095);
	cr_assert_str_eq(cfg.listeners[0].advertised_host, "127.0.0.1");
}

Test(config_listeners, custom_names_and_advertised)
{
	static const char map[] = "listener.security.protocol.map=INTERNAL:PLAINTEXT,"
				  "external:sasl_plaintext,CONTROLLER:PLAINTEXT";
	const char *ov[] = {
		"listeners=INTERNAL://127.0.0.1:0, EXTERNAL://0.0.0.0:9094,CONTROLLER://:9093",
		map,
		"advertised.listeners=EXTERNAL://ext.example:29094,INTERNAL://10.0.0.5:0",
		"controller.listener.names=CONTROLLER",
	};

	cr_assert_eq(load(4, ov), 0, "%s", err);
	cr_assert_eq(cfg.listener_count, 2, "the controller's listener is left out");
	cr_assert_str_eq(cfg.listeners[0].name, "INTERNAL");
	cr_assert_eq(cfg.listeners[0].protocol, KP_SEC_PLAINTEXT);
	cr_assert_eq(cfg.listeners[0].port, 0);
	cr_assert_str_eq(cfg.listeners[0].advertised_host, "10.0.0.5");
	cr_assert_eq(cfg.listeners[0].advertised_port, 0, "0: the bound port, once known");
	cr_assert_str_eq(cfg.listeners[1].name, "EXTERNAL");
	cr_assert_eq(cfg.listeners[1].protocol, KP_SEC_SASL_PLAINTEXT);
	cr_assert_str_eq(cfg.listeners[1].host, "0.0.0.0");
	cr_assert_str_eq(cfg.listeners[1].advertised_host, "ext.example");
	cr_assert_eq(cfg.listeners[1].advertised_port, 29094);
	cr_assert_str_eq(config_protocol_name(cfg.listeners[1].protocol), "SASL_PLAINTEXT");
}

/* Kafka lets exactly one IPv4 and one IPv6 listener share a port; port 0
 * never clashes. */
Test(config_listeners, shared_ports)
{
	const char *v4v6[] = { "listeners=A://127.0.0.1:9092,B://[::1]:9092",
			       "listener.security.protocol.map=A:PLAINTEXT,B:PLAINTEXT" };
	const char *zeros[] = { "listeners=A://127.0.0.1:0,B://127.0.0.1:0",
				"listener.security.protocol.map=A:PLAINTEXT,B:PLAINTEXT" };

	cr_assert_eq(load(2, v4v6), 0, "%s", err);
	cr_assert_eq(cfg.listener_count, 2);
	config_free(&cfg);
	cr_assert_eq(load(2, zeros), 0, "%s", err);
	cr_assert_eq(cfg.listener_count, 2);
}

Test(config_listeners, eight_at_most)
{
	const char *ok[] = { "listeners=PLAINTEXT://:1,SSL_X://:2,A://:3,B://:4,C://:5,D://:6,"
			     "E://:7,F://:8",
			     "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL_X:PLAINTEXT,"
			     "A:PLAINTEXT,B:PLAINTEXT,C:PLAINTEXT,D:PLAINTEXT,E:PLAINTEXT,"
			     "F:PLAINTEXT,G:PLAINTEXT" };
	const char *nine[] = { "listeners=PLAINTEXT://:1,SSL_X://:2,A://:3,B://:4,C://:5,D://:6,"
			       "E://:7,F://:8,G://:9",
			       ok[1] };

	cr_assert_eq(load(2, ok), 0, "%s", err);
	cr_assert_eq(cfg.listener_count, CONFIG_LISTENERS_MAX);
	config_free(&cfg);
	expect_error(2, nine, "listeners", "more than 8");
}

/* With dpdk every listener is on the port's one address; a wildcard one
 * advertises it. */
Test(config_listeners, dpdk_listeners)
{
	const char *ov[] = { "spillway.backend=dpdk", "spillway.dpdk.ipv4=10.0.1.20/24",
			     "listeners=PLAINTEXT://0.0.0.0:9092,SASL_PLAINTEXT://10.0.1.20:9095" };

	cr_assert_eq(load(3, ov), 0, "%s", err);
	cr_assert_eq(cfg.listener_count, 2);
	cr_assert_str_eq(cfg.listeners[0].advertised_host, "10.0.1.20");
	cr_assert_str_eq(cfg.listeners[1].advertised_host, "10.0.1.20");
	cr_assert_eq(cfg.listeners[1].port, 9095);
}

Test(config_listeners, errors_name_the_key)
{
	const char *dup_name[] = { "listeners=PLAINTEXT://:1,plaintext://:2" };
	const char *dup_port[] = { "listeners=PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://:9092" };
	const char *v4v4[] = { "listeners=A://127.0.0.1:9092,B://127.0.0.2:9092",
			       "listener.security.protocol.map=A:PLAINTEXT,B:PLAINTEXT" };
	const char *not_mapped[] = { "listeners=CLIENT://:9092" };
	const char *map_drops[] = { "listeners=PLAINTEXT://:9092",
				    "listener.security.protocol.map=CLIENT:PLAINTEXT" };
	const char *bad_proto[] = { "listeners=CLIENT://:9092",
				    "listener.security.protocol.map=CLIENT:KERBEROS" };
	const char *bad_entry[] = { "listeners=CLIENT://:9092",
				    "listener.security.protocol.map=CLIENT" };
	const char *map_dup[] = { "listener.security.protocol.map=A:SSL,a:PLAINTEXT" };
	const char *adv_unknown[] = { "listeners=PLAINTEXT://:9092",
				      "advertised.listeners=PLAINTEXT://h:1,CLIENT://h:2" };
	const char *adv_dup[] = { "listeners=PLAINTEXT://:9092",
				  "advertised.listeners=PLAINTEXT://h:1,PLAINTEXT://h:2" };
	const char *adv_missing[] = { "listeners=PLAINTEXT://:9092,SASL_PLAINTEXT://:9095",
				      "advertised.listeners=PLAINTEXT://h:1" };
	const char *adv_meta[] = { "advertised.listeners=PLAINTEXT://[::]:1" };
	const char *only_controller[] = { "listeners=CONTROLLER://:9093",
					  "controller.listener.names=CONTROLLER",
					  "listener.security.protocol.map=CONTROLLER:PLAINTEXT" };
	const char *dpdk_other[] = {
		"spillway.backend=dpdk", "spillway.dpdk.ipv4=10.0.1.20/24",
		"listeners=PLAINTEXT://:9092,SASL_PLAINTEXT://10.0.1.21:9095",
	};

	expect_error(1, dup_name, "listeners", "different name");
	expect_error(1, dup_port, "listeners", "different port");
	expect_error(2, v4v4, "listeners", "port: 9092");
	expect_error(1, not_mapped, "listeners", "no security protocol defined for listener "
		     "CLIENT");
	expect_error(2, map_drops, "listeners", "PLAINTEXT");
	expect_error(2, bad_proto, "listener.security.protocol.map", "KERBEROS");
	expect_error(2, bad_entry, "listener.security.protocol.map", "LISTENER_NAME:");
	expect_error(1, map_dup, "listener.security.protocol.map", "duplicate listener name 'A'");
	expect_error(2, adv_unknown, "advertised.listeners", "Found CLIENT");
	expect_error(2, adv_dup, "advertised.listeners", "different name");
	expect_error(2, adv_missing, "advertised.listeners", "SASL_PLAINTEXT");
	expect_error(1, adv_meta, "advertised.listeners", "meta-address");
	expect_error(3, only_controller, "listeners", "no client listener");
	expect_error(3, dpdk_other, "listeners", "listener 'SASL_PLAINTEXT' is not "
		     "spillway.dpdk.ipv4");
}
