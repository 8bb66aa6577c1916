/* SPDX-License-Identifier: Apache-2.0 */
/* SCRAM (RFC 5802, RFC 7677) for the broker side: credentials derived from
 * a salted password (only the stored key and server key are kept, never
 * the password), and one exchange's server state: client-first ->
 * server-first, client-final -> server-final. All cryptography is
 * OpenSSL's (PBKDF2, HMAC, digests, constant-time compare, random bytes).
 * @thread control */
#ifndef CONTROL_SCRAM_H
#define CONTROL_SCRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kafka's ScramMechanism ids (AlterUserScramCredentials' mechanism byte
 * is this + 1). */
enum scram_mech {
	SCRAM_SHA_256 = 0,
	SCRAM_SHA_512 = 1,
	SCRAM_MECHS = 2,
};

#define SCRAM_KEY_BYTES_MAX 64          /* SHA-512 */
#define SCRAM_SALT_BYTES_MAX 128
#define SCRAM_SALTED_BYTES_MAX 1024     /* a salted password as the client sends it */
#define SCRAM_NAME_BYTES_MAX 256        /* a user name (after unescaping) */
/* Kafka's ScramMechanism: minimum 4096 iterations; Kafka's controller
 * refuses more than 16384. */
#define SCRAM_ITERATIONS_MIN 4096
#define SCRAM_ITERATIONS_MAX 16384
/* Longest client message read (RFC 5802 messages are a few hundred bytes). */
#define SCRAM_MSG_BYTES_MAX 2048

struct scram_cred {
	uint8_t mech;                   /* enum scram_mech */
	int32_t iterations;
	uint32_t salt_len;
	uint8_t salt[SCRAM_SALT_BYTES_MAX];
	uint8_t stored_key[SCRAM_KEY_BYTES_MAX];
	uint8_t server_key[SCRAM_KEY_BYTES_MAX];
};

/* "SCRAM-SHA-256", "SCRAM-SHA-512". */
const char *scram_mech_name(enum scram_mech mech);
/* The mechanism named name[0..len), or -1. */
int scram_mech_from_name(const char *name, size_t len);
/* Digest (and key) bytes: 32 or 64. */
size_t scram_key_bytes(enum scram_mech mech);

/* Credentials from an already salted password (Hi(password, salt, i), as
 * AlterUserScramCredentials carries it). 0 or -1 (OpenSSL failed). */
int scram_cred_from_salted(enum scram_mech mech, const uint8_t *salted, size_t salted_len,
			   const uint8_t *salt, size_t salt_len, int32_t iterations,
			   struct scram_cred *cred);
/* Credentials from a password: PBKDF2 over salt, then as above. */
int scram_cred_from_password(enum scram_mech mech, const char *password, size_t password_len,
			     const uint8_t *salt, size_t salt_len, int32_t iterations,
			     struct scram_cred *cred);

/* Where a server exchange is. */
enum scram_stage {
	SCRAM_STAGE_FIRST = 0,          /* waiting for client-first */
	SCRAM_STAGE_FINAL,              /* server-first sent, waiting for client-final */
	SCRAM_STAGE_DONE,               /* succeeded: server-final sent */
	SCRAM_STAGE_FAILED,
};

#define SCRAM_NONCE_BYTES_MAX 160

struct scram_server {
	uint8_t mech;
	uint8_t stage;                  /* enum scram_stage */
	char user[SCRAM_NAME_BYTES_MAX + 1];    /* unescaped, NUL-terminated */
	uint32_t user_len;
	char gs2[SCRAM_NAME_BYTES_MAX + 16];    /* the gs2 header ("n,,") */
	uint32_t gs2_len;
	char nonce[SCRAM_NONCE_BYTES_MAX];      /* client nonce + server nonce */
	uint32_t nonce_len;
	/* client-first-bare "," server-first, for the AuthMessage */
	char auth[SCRAM_MSG_BYTES_MAX + 512];
	uint32_t auth_len;
	struct scram_cred cred;
};

/* Server nonce bytes used by scram_server_first() when not NULL (tests:
 * RFC 7677's fixed nonce); else RAND_bytes. */
extern const char *scram_test_server_nonce;

/* Read client-first (msg, len) and find the user: lookup(arg, user)
 * fills cred and returns true when the user has credentials for mech.
 * On success writes server-first into out (out_size >= 512) and returns
 * its length; -1 when the message is malformed, the user unknown or the
 * exchange in the wrong stage (it is FAILED then). */
typedef bool scram_lookup_fn(void *arg, const char *user, size_t user_len, enum scram_mech mech,
			     struct scram_cred *cred);
int scram_server_first(struct scram_server *s, enum scram_mech mech, const char *msg,
		       size_t len, scram_lookup_fn *lookup, void *arg, char *out, size_t out_size);
/* Read client-final and check the proof; on success writes server-final
 * into out (out_size >= 256) and returns its length (stage DONE); -1 on a
 * wrong nonce, channel binding or proof, or a replay (stage FAILED). */
int scram_server_final(struct scram_server *s, const char *msg, size_t len, char *out,
		       size_t out_size);

/* Base64 (standard alphabet, padded) of in into out (NUL-terminated);
 * returns its length, -1 when out is too small. */
int scram_b64_encode(const uint8_t *in, size_t len, char *out, size_t out_size);
/* Decode base64; returns the byte count, -1 when invalid or too long. */
int scram_b64_decode(const char *in, size_t len, uint8_t *out, size_t out_size);

#endif
