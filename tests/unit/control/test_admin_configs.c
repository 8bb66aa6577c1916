/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/admin_configs.c and ctl_dynamic.c through the admin op on
 * a real ctl in a temp dir: Kafka's checks and messages, the change of a
 * topic's overrides and of the dynamic broker settings, and that both are
 * still there after the ctl is created again (a restart). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "control/config.h"
#include "control/ctl_int.h"
#include "tests/unit/control/tdir.h"

static struct config cfg;
static struct ctl *ctl;
static char msg[512];

static void
open_ctl(void)
{
	char dirs[300], err[256];
	const char *ov[1] = { dirs };

	snprintf(dirs, sizeof(dirs), "log.dirs=%s", tdir_path);
	cr_assert_eq(config_load(&cfg, NULL, 1, ov, err, sizeof(err)), 0, "%s", err);
	ctl = ctl_create(&cfg, err, sizeof(err));
	cr_assert_not_null(ctl, "%s", err);
}

static void
close_ctl(void)
{
	ctl_destroy(ctl);
	config_free(&cfg);
}

static void
setup(void)
{
	tdir_setup();
	open_ctl();
}

static void
teardown(void)
{
	close_ctl();
	tdir_teardown();
}

TestSuite(admin_configs, .init = setup, .fini = teardown);

static struct kp_config_op
op(const char *name, int8_t o, const char *value)
{
	return (struct kp_config_op){ kp_str_c(name), o, value ? kp_str_c(value)
							       : (struct kp_str){ NULL, -1 } };
}

static int16_t
alter(int8_t type, const char *res, const struct kp_config_op *ops, int32_t n, bool incr)
{
	msg[0] = '\0';
	return ctl_admin_ops.configs_alter(ctl, type, kp_str_c(res), ops, n, incr, false, msg,
					   sizeof(msg));
}

static void
make_topic(const char *name)
{
	struct kp_topic_spec spec = { .name = kp_str_c(name), .partition_count = 1,
				      .replication_factor = 1 };
	struct kp_uuid id;

	cr_assert_eq(ctl_admin_ops.topic_create(ctl, &spec, false, &id, msg, sizeof(msg)), 0,
		     "%s", msg);
}

Test(admin_configs, checks_answer_as_kafka)
{
	struct kp_config_op dup[] = { op("retention.ms", 0, "1"), op("retention.ms", 0, "2") };
	struct kp_config_op nul[] = { op("retention.ms", 0, NULL), op("segment.ms", 0, NULL) };
	struct kp_config_op ro[] = { op("num.partitions", 0, "3"), op("log.dirs", 0, "/x") };
	struct kp_config_op app[] = { op("retention.ms", KP_CONFIG_OP_APPEND, "1") };
	struct kp_config_op bad_op[] = { op("log.retention.ms", 9, "1") };

	make_topic("t");
	cr_assert_eq(alter(2, "t", dup, 2, true), KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "Error due to duplicate config keys");
	cr_assert_eq(alter(2, "t", nul, 2, false), KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "Null value not supported for : retention.ms, segment.ms");
	cr_assert_eq(alter(4, "1", ro, 2, true), KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "Cannot update these configs dynamically: Set(num.partitions, "
			 "log.dirs)");
	cr_assert_eq(alter(2, "t", app, 1, true), KP_ERR_INVALID_CONFIG);
	cr_assert_str_eq(msg, "Can't APPEND to key retention.ms because its type is not LIST.");
	cr_assert_eq(alter(4, "", bad_op, 1, true), KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "Unknown operations type 9");
	cr_assert_eq(alter(4, "x", bad_op, 1, true), KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "Node id must be an integer, but it is: x");
	cr_assert_eq(alter(4, "2", bad_op, 1, true), KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "Unexpected broker id, expected 1, but received 2");
	cr_assert_eq(alter(2, "nope", app, 0, true), KP_ERR_UNKNOWN_TOPIC_OR_PARTITION);
	cr_assert_str_eq(msg, "The topic 'nope' does not exist.");
	cr_assert_eq(alter(9, "x", app, 0, true), KP_ERR_INVALID_REQUEST);
	cr_assert_str_eq(msg, "Unknown resource type 9");
}

Test(admin_configs, changes_apply_and_survive_a_restart)
{
	struct kp_config_op t1[] = { op("retention.ms", 0, "1000"),
				     op("cleanup.policy", KP_CONFIG_OP_APPEND, "compact") };
	struct kp_config_op t2[] = { op("cleanup.policy", KP_CONFIG_OP_SUBTRACT, "delete") };
	struct kp_config_op b[] = { op("message.max.bytes", 0, "5000"),
				    op("unknown.kept", 0, "x") };
	struct kp_config_op d[] = { op("log.segment.bytes", 0, "300000") };
	const struct md_topic *t;

	make_topic("t");
	cr_assert_eq(alter(2, "t", t1, 2, true), 0, "%s", msg);
	cr_assert_eq(alter(2, "t", t2, 1, true), 0, "%s", msg);
	cr_assert_eq(alter(4, "1", b, 2, true), 0, "%s", msg);
	cr_assert_eq(alter(4, "", d, 1, false), 0, "%s", msg);
	cr_assert_eq(cfg.message_max_bytes, 5000);
	cr_assert_eq(cfg.log_segment_bytes, 300000);
	/* The snapshot's per-topic limit follows at once. */
	cr_assert_eq(ctl_md(ctl)->topics[0].max_message_bytes, 5000);
	close_ctl();
	open_ctl();
	cr_assert_eq(cfg.message_max_bytes, 5000);
	cr_assert_eq(cfg.log_segment_bytes, 300000);
	cr_assert_eq(ctl_dyn_get(ctl, true)->count, 2);
	t = md_store_find(&ctl->store, kp_str_c("t"));
	cr_assert_not_null(t);
	cr_assert_eq(t->config_count, 2);
	for (int32_t i = 0; i < t->config_count; i++) {
		if (strcmp(t->configs[i].name, "cleanup.policy") == 0)
			cr_assert_str_eq(t->configs[i].value, "compact");
		else
			cr_assert_str_eq(t->configs[i].value, "1000");
	}
	/* AlterConfigs replaces this broker's whole set. */
	cr_assert_eq(alter(4, "1", NULL, 0, false), 0, "%s", msg);
	cr_assert_eq(cfg.message_max_bytes, 1048588);
	cr_assert_eq(ctl_dyn_get(ctl, true)->count, 0);
}
