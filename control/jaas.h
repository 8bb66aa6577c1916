/* SPDX-License-Identifier: Apache-2.0 */
/* Kafka's JAAS configuration syntax (sasl.jaas.config values), as far as
 * a broker's PLAIN users need it:
 *   org.apache.kafka.common.security.plain.PlainLoginModule required
 *       username="admin" password="admin-secret" user_alice="alice-secret";
 * one login module, a control flag, key=value options (quoted or bare),
 * ending with ';'. The user_<name>="<password>" options are the users
 * PLAIN accepts (Kafka's PlainServerCallbackHandler). @thread control */
#ifndef CONTROL_JAAS_H
#define CONTROL_JAAS_H

#include <stdbool.h>
#include <stddef.h>

#define JAAS_TEXT_BYTES_MAX 65536
#define JAAS_USERS_MAX 4096

struct jaas_user {
	char *name;
	char *password;
};

struct jaas_plain {
	char *module;                   /* the login module's class name */
	int count;
	struct jaas_user *users;
};

/* Parse text; 0 with out filled (release with jaas_plain_free()), or -1
 * with err naming the problem (nothing to free). */
int jaas_plain_parse(const char *text, struct jaas_plain *out, char *err, size_t err_size);
void jaas_plain_free(struct jaas_plain *jp);
/* True when name has password (compared in constant time). */
bool jaas_plain_check(const struct jaas_plain *jp, const char *name, size_t name_len,
		      const char *password, size_t password_len);

#endif
