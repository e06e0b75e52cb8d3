/* token: JSON Web Tokens as cc-backend uses them.
 *
 * API tokens and the cross-login cookie are EdDSA (Ed25519), verified and
 * signed through OpenSSL (Debian's libjwt 1.10 has no EdDSA).  The /jwt-login
 * tokens are HS256/HS512, verified through libjwt with CROSS_LOGIN_JWT_HS512_KEY
 * (Debian's libjwt 1.10.2-1+deb12u1 compares the MAC in constant time, the
 * CVE-2024-25189 fix).
 *
 * Every verifier parses the JOSE header and the claims itself (jsonio_parse:
 * strict, depth-limited, UTF-8 checked), accepts only its own algorithms
 * (never "none"), caps the token at TOKEN_MAX_LEN, enforces exp and nbf
 * against the caller's clock without leeway (valid while now < exp and
 * now >= nbf, as golang-jwt v5), and requires a non-empty string "sub".
 * Error texts are short and safe for the 401 error JSON; keys and tokens are
 * never logged. */
#ifndef JOBSCOPE_TOKEN_H
#define JOBSCOPE_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TOKEN_MAX_LEN 8192

struct token_keys;

/* Keys from the environment as loaded from .env: JWT_PUBLIC_KEY, JWT_PRIVATE_KEY,
 * CROSS_LOGIN_JWT_PUBLIC_KEY, CROSS_LOGIN_JWT_HS512_KEY (standard base64 of the raw
 * keys: 32-byte Ed25519 public keys, 64-byte private key = seed || public key; any
 * length of HMAC key).  Unset or empty variables disable what needs them (with a
 * warning when JWT_PUBLIC_KEY is missing); a public key missing next to a private
 * key is taken from the private key.  Bad base64, a wrong length or a private key
 * that does not match the public key -> NULL and err, e.g.
 * "JWT_PUBLIC_KEY: expected standard base64 of a 32-byte Ed25519 key, got 31 bytes".
 * cc-backend's published demo key pair loads with a warning. */
struct token_keys *token_keys_from_env(char *err, size_t errlen);
/* The same from explicit values (NULL or "" = unset); err names the variable. */
struct token_keys *token_keys_new(const char *public_b64, const char *private_b64,
				  const char *cross_public_b64, const char *hs_b64,
				  char *err, size_t errlen);
void token_keys_free(struct token_keys *k);

enum token_key_kind {
	TOKEN_KEY_PUBLIC,       /* API tokens and issuer-less cookies can be verified */
	TOKEN_KEY_PRIVATE,      /* token_sign works */
	TOKEN_KEY_CROSS_PUBLIC, /* cookie tokens of the trusted issuer can be verified */
	TOKEN_KEY_HS,           /* /jwt-login tokens can be verified */
};
bool token_keys_have(const struct token_keys *k, enum token_key_kind kind);

/* Verified claims; every string and array is heap memory owned by the struct. */
struct token_claims {
	char *sub;
	char **roles;       /* "roles": array of strings (absent or null: none) */
	size_t nroles;
	char **projects;    /* "projects": array of strings (absent or null: none) */
	size_t nprojects;
	char *name;         /* "name": a string, or {"values":[...]} joined with spaces; NULL if absent */
	char *iss;          /* NULL if absent */
	int64_t iat, exp, nbf;
	bool has_iat, has_exp, has_nbf;
};

/* API token (X-Auth-Token / Authorization: Bearer): alg must be "EdDSA", verified
 * with JWT_PUBLIC_KEY.  0, or -1 with a reason such as "token is expired",
 * "token signature is invalid", "token has no subject",
 * "unsupported signing method HS256".  out is zeroed on failure. */
int token_verify_api(const struct token_keys *k, const char *jwt, int64_t now,
		     struct token_claims *out, char *err, size_t errlen);
/* /jwt-login token: alg HS256 or HS512, verified with CROSS_LOGIN_JWT_HS512_KEY. */
int token_verify_hs(const struct token_keys *k, const char *jwt, int64_t now,
		    struct token_claims *out, char *err, size_t errlen);
/* Cross-login cookie: alg "EdDSA"; iss == trusted_issuer -> CROSS_LOGIN_JWT_PUBLIC_KEY,
 * no iss -> JWT_PUBLIC_KEY, any other iss -> "token issuer is not trusted". */
int token_verify_cookie(const struct token_keys *k, const char *jwt, const char *trusted_issuer,
			int64_t now, struct token_claims *out, char *err, size_t errlen);
void token_claims_release(struct token_claims *c);

/* A token as cc-backend's -jwt and /frontend/jwt/ make it, byte for byte:
 * header {"alg":"EdDSA","typ":"JWT"}, claims {"exp","iat","roles","sub"} in that
 * order (exp = iat + max_age; omitted when max_age <= 0), signed with
 * JWT_PRIVATE_KEY.  Heap string (free()), or NULL with err. */
char *token_sign(const struct token_keys *k, const char *sub, const char *const *roles,
		 size_t nroles, int64_t iat, int64_t max_age, char *err, size_t errlen);

/* -gen-keypair: a fresh Ed25519 pair as the two .env lines
 * JWT_PUBLIC_KEY="..." and JWT_PRIVATE_KEY="...".  0 or -1. */
int token_print_keypair(FILE *out);

#endif
