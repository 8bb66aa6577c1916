/* SPDX-License-Identifier: Apache-2.0 */
/* The ACL admin operations (kp_admin_ops) over control's ACL store, and
 * the index the snapshots carry: rebuilt on every change (authorizer on)
 * and handed to md_snapshot_build through ctl->broker.acl, so the next
 * publish brings the new ACLs to the cores without a restart.
 * @thread control */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "control/cluster_sec.h"
#include "control/ctl_cluster.h"
#include "control/ctl_cluster_int.h"
#include "control/ctl_int.h"

/* Cluster mode: ZooKeeper holds the ACLs; ctl->acls is its in-memory copy. */
static struct cluster *
ctl_acl_zk(const struct ctl *ctl)
{
	return ctl->cluster != NULL ? ctl->cluster->cl : NULL;
}

/* Replace the index with one of the store's current bindings. */
static int
ctl_acl_reindex(struct ctl *ctl)
{
	struct kp_acl_index *ix;

	if (ctl->cfg->authorizer == CONFIG_AUTHORIZER_NONE)
		return 0;
	ix = acl_store_index(&ctl->acls, ctl->cfg->super_users,
			     ctl->cfg->allow_everyone_if_no_acl_found);
	if (ix == NULL)
		return -ENOMEM;
	kp_acl_index_unref(ctl->broker.acl);
	ctl->broker.acl = ix;
	ctl->md_dirty = true;
	return 0;
}

int
ctl_acl_changes(struct ctl *ctl)
{
	int rc;

	if (ctl_acl_zk(ctl) == NULL)
		return 0;
	rc = cluster_acl_apply_changes(ctl_acl_zk(ctl), &ctl->acls);
	if (rc != 0)
		return ctl_acl_sync(ctl);
	return ctl_acl_reindex(ctl);
}

int
ctl_acl_sync(struct ctl *ctl)
{
	struct acl_store fresh = { 0 };
	int rc;

	if (ctl_acl_zk(ctl) == NULL)
		return 0;
	rc = cluster_acl_load(ctl_acl_zk(ctl), &fresh);
	if (rc != 0)
		return rc;
	acl_store_close(&ctl->acls);
	ctl->acls = fresh;
	rc = ctl_acl_reindex(ctl);
	if (rc == 0 && ctl->broker.acl != NULL)
		log_info("control", "ACLs from ZooKeeper: %d", ctl->broker.acl->count);
	return rc;
}

int
ctl_acl_open(struct ctl *ctl, char *err, size_t err_size)
{
	int rc = 0;

	/* Cluster mode: the local file is not used; ZooKeeper's ACLs come at
	 * ctl_cluster_start (ctl_acl_sync), none until then. */
	if (ctl_cluster_configured(ctl->cfg))
		memset(&ctl->acls, 0, sizeof(ctl->acls));
	else
		rc = acl_store_open(&ctl->acls, ctl->cfg->log_dir, err, err_size);
	if (rc != 0)
		return rc;
	rc = ctl_acl_reindex(ctl);
	if (rc != 0) {
		snprintf(err, err_size, "acls: out of memory");
		acl_store_close(&ctl->acls);
		return rc;
	}
	if (ctl->broker.acl != NULL)
		log_info("control", "authorizer on: %d ACL(s), %d super user(s)",
			 ctl->broker.acl->count, ctl->broker.acl->super_count);
	return 0;
}

void
ctl_acl_close(struct ctl *ctl)
{
	kp_acl_index_unref(ctl->broker.acl);
	ctl->broker.acl = NULL;
	acl_store_close(&ctl->acls);
}

int16_t
ctl_acl_create(void *ctx, const struct kp_acl *acls, int32_t count, char *msg, size_t msg_size)
{
	struct ctl *ctl = ctx;
	bool changed = false;
	int rc;

	if (ctl_acl_zk(ctl) != NULL) {
		int16_t err = cluster_acl_create(ctl_acl_zk(ctl), acls, count, msg, msg_size);

		(void)ctl_acl_changes(ctl);
		return err;
	}
	rc = acl_store_add(&ctl->acls, acls, count, &changed);
	if (rc == 0 && changed)
		rc = ctl_acl_reindex(ctl);
	if (rc == -ENOSPC) {
		snprintf(msg, msg_size, "The broker keeps at most %d ACLs", ACL_BINDINGS_MAX);
		return KP_ERR_POLICY_VIOLATION;
	}
	if (rc != 0) {
		snprintf(msg, msg_size, "Cannot store the ACLs: %s", strerror(-rc));
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	return KP_ERR_NONE;
}

void
ctl_acl_describe(void *ctx, const struct kp_acl_filter *filter, kp_acl_fn *fn, void *arg)
{
	struct ctl *ctl = ctx;

	acl_store_each(&ctl->acls, filter, fn, arg);
}

int16_t
ctl_acl_delete(void *ctx, const struct kp_acl_filter *filters, const bool *skip, int32_t count,
	       kp_acl_removed_fn *fn, void *arg, char *msg, size_t msg_size)
{
	struct ctl *ctl = ctx;
	bool changed = false;
	int rc;

	if (ctl_acl_zk(ctl) != NULL) {
		int16_t err = cluster_acl_delete(ctl_acl_zk(ctl), &ctl->acls, filters, skip,
						 count, fn, arg, msg, msg_size);

		(void)ctl_acl_changes(ctl);
		return err;
	}
	rc = acl_store_remove(&ctl->acls, filters, skip, count, fn, arg, &changed);
	if (rc == 0 && changed)
		rc = ctl_acl_reindex(ctl);
	if (rc != 0) {
		snprintf(msg, msg_size, "Cannot store the ACLs: %s", strerror(-rc));
		return KP_ERR_UNKNOWN_SERVER_ERROR;
	}
	return KP_ERR_NONE;
}
