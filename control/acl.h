/* SPDX-License-Identifier: Apache-2.0 */
/* The ACL store (control thread): the bindings CreateAcls added and
 * DeleteAcls did not remove, validated as Kafka's controller validates them
 * (AclControlManager), persisted atomically in <log.dir>/acls and reloaded
 * at start. It never authorizes: acl_store_index() builds the immutable
 * index (kp_acl.h) that each metadata snapshot carries to the cores and to
 * control's handlers. */
#ifndef CONTROL_ACL_H
#define CONTROL_ACL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/kp.h"
#include "protocol/kp_acl.h"

#define ACL_FILE "acls"
/* Bindings the store keeps (Kafka has no bound): each is copied into every
 * index the snapshots carry. */
#define ACL_BINDINGS_MAX 100000

/* One binding; acl's strings point into buf. */
struct acl_entry {
	struct kp_acl acl;
	char *buf;
};

struct acl_store {
	char dir[PATH_MAX];
	struct acl_entry *entries;
	int32_t count;
	int32_t cap;
};

/* Load <log_dir>/acls (absent: none). 0, or -errno with err set. */
int acl_store_open(struct acl_store *as, const char *log_dir, char *err, size_t err_size);
void acl_store_close(struct acl_store *as);

/* Add the bindings (already kp_acl_validate()d; ones present are kept once) and
 * persist. 0, or -errno with the store unchanged. *changed: whether any
 * was new. */
int acl_store_add(struct acl_store *as, const struct kp_acl *acls, int32_t count,
		  bool *changed);
/* Calls fn for every binding the filter matches, in the index order. */
void acl_store_each(const struct acl_store *as, const struct kp_acl_filter *filter,
		    kp_acl_fn *fn, void *arg);
/* Remove every binding matching any of the filters (those with
 * skip[i] set are not applied) and persist; fn(arg, i, acl) for each
 * removed binding under each filter i it matched. 0, or -errno with the
 * store unchanged (fn not called). */
int acl_store_remove(struct acl_store *as, const struct kp_acl_filter *filters,
		     const bool *skip, int32_t count, kp_acl_removed_fn *fn, void *arg,
		     bool *changed);

/* The index for the snapshots: the bindings, super.users (semicolon list)
 * and allow.everyone.if.no.acl.found. NULL when out of memory. */
struct kp_acl_index *acl_store_index(const struct acl_store *as, const char *super_users,
				     bool allow_if_no_acl);

#endif
