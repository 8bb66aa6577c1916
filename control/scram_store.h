/* SPDX-License-Identifier: Apache-2.0 */
/* The SCRAM credential store: per user and mechanism the salt, iteration
 * count, stored key and server key (RFC 5802), never a password. Kept in
 * <log.dir>/scram-credentials, replaced atomically on every change
 * (common/atomic_file.h). AlterUserScramCredentials writes it,
 * DescribeUserScramCredentials and SCRAM/PLAIN authentication read it.
 * @thread control */
#ifndef CONTROL_SCRAM_STORE_H
#define CONTROL_SCRAM_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/scram.h"

#define SCRAM_STORE_FILE "scram-credentials"
#define SCRAM_STORE_USERS_MAX 65536

struct scram_user {
	char name[SCRAM_NAME_BYTES_MAX + 1];
	uint32_t name_len;
	uint8_t has;                            /* bit 1 << mech */
	struct scram_cred cred[SCRAM_MECHS];
};

struct scram_store {
	char dir[PATH_MAX];
	int32_t count;
	int32_t cap;
	struct scram_user *users;
};

/* Load the store from log_dir (none yet: empty). 0, or -errno with err. */
int scram_store_open(struct scram_store *ss, const char *log_dir, char *err, size_t err_size);
void scram_store_close(struct scram_store *ss);
/* The user's entry, or NULL. */
const struct scram_user *scram_store_user(const struct scram_store *ss, const char *name,
					  size_t len);
/* The credential of user for mech, or NULL. */
const struct scram_cred *scram_store_get(const struct scram_store *ss, const char *name,
					 size_t len, enum scram_mech mech);
/* Set (insert or replace) or delete one credential, durably: 0, -ENOENT
 * (delete of one that does not exist), -ENOSPC (too many users), -EINVAL
 * (name) or the write's -errno (then nothing changed). */
int scram_store_upsert(struct scram_store *ss, const char *name, size_t len,
		       const struct scram_cred *cred);
int scram_store_delete(struct scram_store *ss, const char *name, size_t len,
		       enum scram_mech mech);

#endif
