/* SPDX-License-Identifier: Apache-2.0 */
/* Tests control/scram.c (RFC 7677's SCRAM-SHA-256 exchange, SHA-512,
 * malformed and replayed messages), control/jaas.c (Kafka's JAAS syntax)
 * and control/scram_store.c (upsert, delete, persistence) in a temp dir. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "control/jaas.h"
#include "control/scram.h"
#include "control/scram_store.h"
#include "tests/unit/control/tdir.h"

/* RFC 7677 section 3. */
#define RFC_CLIENT_FIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_SERVER_FIRST \
	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC_CLIENT_FINAL \
	"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
	"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static bool
rfc_lookup(void *arg, const char *user, size_t len, enum scram_mech mech,
	   struct scram_cred *cred)
{
	uint8_t salt[16];
	int n = scram_b64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt, sizeof(salt));

	(void)arg;
	if (len != 4 || memcmp(user, "user", 4) != 0 || n != 16)
		return false;
	return scram_cred_from_password(mech, "pencil", 6, salt, 16, 4096, cred) == 0;
}

static void
rfc_first(struct scram_server *s)
{
	char out[512];
	int n;

	scram_test_server_nonce = RFC_SNONCE;
	n = scram_server_first(s, SCRAM_SHA_256, RFC_CLIENT_FIRST, strlen(RFC_CLIENT_FIRST),
			       rfc_lookup, NULL, out, sizeof(out));
	scram_test_server_nonce = NULL;
	cr_assert_eq(n, (int)strlen(RFC_SERVER_FIRST));
	cr_assert_str_eq(out, RFC_SERVER_FIRST);
}

Test(scram, rfc7677_vector)
{
	struct scram_server s;
	char out[256];
	int n;

	rfc_first(&s);
	n = scram_server_final(&s, RFC_CLIENT_FINAL, strlen(RFC_CLIENT_FINAL), out, sizeof(out));
	cr_assert_eq(n, (int)strlen(RFC_SERVER_FINAL));
	cr_assert_str_eq(out, RFC_SERVER_FINAL);
	cr_assert_eq(s.stage, SCRAM_STAGE_DONE);
	/* A replayed client-final is refused. */
	cr_assert_eq(scram_server_final(&s, RFC_CLIENT_FINAL, strlen(RFC_CLIENT_FINAL), out,
					sizeof(out)), -1);
}

Test(scram, bad_proof_nonce_binding)
{
	static const char *const bad[] = {
		/* proof changed in one char */
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
		"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVA=",
		/* nonce without the server part */
		"c=biws,r=rOprNGfwEbeRWgbNEkqO,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		/* channel binding differs from the gs2 header ("y,,") */
		"c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
		"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		/* proof too short, no proof, garbage */
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAA",
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
		"\x01\x02garbage", "",
	};
	struct scram_server s;
	char out[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rfc_first(&s);
		cr_assert_eq(scram_server_final(&s, bad[i], strlen(bad[i]), out, sizeof(out)), -1,
			     "case %zu", i);
		/* After a failure even the right proof is refused. */
		cr_assert_eq(scram_server_final(&s, RFC_CLIENT_FINAL, strlen(RFC_CLIENT_FINAL), out,
						sizeof(out)), -1);
	}
}

Test(scram, bad_client_first)
{
	static const char *const bad[] = {
		"n,,n=nobody,r=abc",            /* unknown user */
		"p=tls-unique,,n=user,r=abc",   /* channel binding */
		"n,a=other,n=user,r=abc",       /* authzid is not the user */
		"n,,m=ext,n=user,r=abc",
		"n,,n=user",
		"n,,n=us=ZZer,r=abc",
		"n,,n=user,r=abc,tokenauth=true",
		"n,,r=abc,n=user",
		"x", "", "n,,n=,r=abc",
	};
	struct scram_server s;
	char out[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(scram_server_first(&s, SCRAM_SHA_256, bad[i], strlen(bad[i]),
						rfc_lookup, NULL, out, sizeof(out)), -1,
			     "case %zu", i);
	cr_assert_gt(scram_server_first(&s, SCRAM_SHA_256, "n,a=user,n=user,r=abc", 21,
					rfc_lookup, NULL, out, sizeof(out)), 0);
	cr_assert_eq(strncmp(out, "r=abc", 5), 0);
}

Test(scram, escaped_name_and_sha512)
{
	struct scram_cred c;
	uint8_t salt[4] = { 1, 2, 3, 4 };

	cr_assert_eq(scram_cred_from_password(SCRAM_SHA_512, "pw", 2, salt, 4, 4096, &c), 0);
	cr_assert_eq(c.mech, SCRAM_SHA_512);
	cr_assert_eq(scram_mech_from_name("SCRAM-SHA-512", 13), SCRAM_SHA_512);
	cr_assert_eq(scram_mech_from_name("PLAIN", 5), -1);
	cr_assert_eq(scram_key_bytes(SCRAM_SHA_512), 64);
}

Test(scram, base64)
{
	uint8_t out[16];
	char txt[32];

	cr_assert_eq(scram_b64_decode("biws", 4, out, sizeof(out)), 3);
	cr_assert_eq(memcmp(out, "n,,", 3), 0);
	cr_assert_eq(scram_b64_decode("YQ==", 4, out, sizeof(out)), 1);
	cr_assert_eq(scram_b64_decode("Y===", 4, out, sizeof(out)), -1);
	cr_assert_eq(scram_b64_decode("Y*==", 4, out, sizeof(out)), -1);
	cr_assert_eq(scram_b64_decode("abc", 3, out, sizeof(out)), -1);
	cr_assert_eq(scram_b64_encode((const uint8_t *)"n,,", 3, txt, sizeof(txt)), 4);
	cr_assert_str_eq(txt, "biws");
}

Test(jaas, plain_users)
{
	struct jaas_plain jp;
	char err[256];

	cr_assert_eq(jaas_plain_parse(
		"org.apache.kafka.common.security.plain.PlainLoginModule required\n"
		"  username=\"admin\" password=\"admin-secret\"\n"
		"  user_admin=\"admin-secret\" user_alice=\"al\\\"ice\" user_bob=bare;",
		&jp, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(jp.module, "org.apache.kafka.common.security.plain.PlainLoginModule");
	cr_assert_eq(jp.count, 3);
	cr_assert(jaas_plain_check(&jp, "alice", 5, "al\"ice", 6));
	cr_assert(jaas_plain_check(&jp, "bob", 3, "bare", 4));
	cr_assert(!jaas_plain_check(&jp, "bob", 3, "bar", 3));
	cr_assert(!jaas_plain_check(&jp, "carol", 5, "bare", 4));
	jaas_plain_free(&jp);
}

Test(jaas, errors)
{
	static const char *const bad[] = {
		"", "Module", "Module required user_a=\"x\"", "Module maybe;",
		"Module required user_a=\"x;", "Module required user_a;",
		"Module required user_a=x; Other required;", "Module required user_a=;",
	};
	struct jaas_plain jp;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(jaas_plain_parse(bad[i], &jp, err, sizeof(err)), -1, "case %zu", i);
		cr_assert_neq(err[0], '\0');
	}
	cr_assert_eq(jaas_plain_parse("M optional;", &jp, err, sizeof(err)), 0);
	cr_assert_eq(jp.count, 0);
	jaas_plain_free(&jp);
}

TestSuite(scram_store, .init = tdir_setup, .fini = tdir_teardown);

Test(scram_store, upsert_delete_persist)
{
	struct scram_store ss;
	struct scram_cred c;
	uint8_t salt[8] = { 9, 8, 7, 6, 5, 4, 3, 2 };
	char err[256], path[512], text[4096];
	FILE *f;
	size_t n;

	cr_assert_eq(scram_store_open(&ss, tdir_path, err, sizeof(err)), 0);
	cr_assert_eq(scram_cred_from_password(SCRAM_SHA_256, "alice-secret", 12, salt, 8, 8192,
					      &c), 0);
	cr_assert_eq(scram_store_upsert(&ss, "alice", 5, &c), 0);
	cr_assert_eq(scram_cred_from_password(SCRAM_SHA_512, "alice-secret", 12, salt, 8, 4096,
					      &c), 0);
	cr_assert_eq(scram_store_upsert(&ss, "alice", 5, &c), 0);
	cr_assert_eq(scram_store_upsert(&ss, "bob", 3, &c), 0);
	cr_assert_eq(scram_store_delete(&ss, "bob", 3, SCRAM_SHA_256), -ENOENT);
	cr_assert_eq(scram_store_delete(&ss, "bob", 3, SCRAM_SHA_512), 0);
	cr_assert_null(scram_store_user(&ss, "bob", 3));
	cr_assert_eq(scram_store_upsert(&ss, "", 0, &c), -EINVAL);
	scram_store_close(&ss);

	/* Nothing in clear in the file. */
	snprintf(path, sizeof(path), "%s/%s", tdir_path, SCRAM_STORE_FILE);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	cr_assert_null(strstr(text, "alice-secret"));

	cr_assert_eq(scram_store_open(&ss, tdir_path, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ss.count, 1);
	cr_assert_not_null(scram_store_get(&ss, "alice", 5, SCRAM_SHA_256));
	cr_assert_eq(scram_store_get(&ss, "alice", 5, SCRAM_SHA_256)->iterations, 8192);
	cr_assert_eq(scram_store_get(&ss, "alice", 5, SCRAM_SHA_512)->iterations, 4096);
	scram_store_close(&ss);
}

Test(scram_store, damaged_file)
{
	struct scram_store ss;
	char err[256], path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tdir_path, SCRAM_STORE_FILE);
	f = fopen(path, "w");
	fputs("c 616c 0 4096 00 zz zz\n", f);
	fclose(f);
	cr_assert_lt(scram_store_open(&ss, tdir_path, err, sizeof(err)), 0);
	cr_assert_neq(err[0], '\0');
}
