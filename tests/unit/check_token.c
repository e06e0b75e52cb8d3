/* token: JWT verification and signing.  Most tokens come from
 * tests/data/jwt/fixtures.json, minted by PyJWT (make_fixtures.py), not by us. */
#include "config.h"
#include "suites.h"
#include "../lib/testlib.h"
#include "../../app/arena.h"
#include "../../app/crypto.h"
#include "../../app/jsonio.h"
#include "../../app/str.h"
#include "../../app/token.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEMO_PUB "kzfYrYy+TzpanWZHJ5qSdMj5uKUWgq74BWhQG6copP0="
#define DEMO_PRIV "dtPC/6dWJFKZK7KZ78CvWuynylOmjBFyMsUWArwmodOTN9itjL5POlqdZkcnmpJ0yPm4pRaCrvgFaFAbpyik/Q=="

static struct json_object *fix;  /* the fixture document */
static struct token_keys *keys;  /* its keys */
static const char *trusted;      /* its trusted issuer */
static struct arena a;
static char err[256];

static const char *fix_key(const char *name)
{
	const char *s = jsonio_str(jsonio_get(fix, "keys"), name);
	ck_assert_msg(s != NULL, "fixtures.json: keys.%s missing", name);
	return s;
}

static void setup(void)
{
	char perr[512];
	fix = jsonio_parse_file(test_path("tests/data/jwt/fixtures.json"), 1 << 20, perr, sizeof(perr));
	ck_assert_msg(fix != NULL, "%s", perr);
	keys = token_keys_new(fix_key("JWT_PUBLIC_KEY"), fix_key("JWT_PRIVATE_KEY"),
			      fix_key("CROSS_LOGIN_JWT_PUBLIC_KEY"), fix_key("CROSS_LOGIN_JWT_HS512_KEY"),
			      err, sizeof(err));
	ck_assert_msg(keys != NULL, "%s", err);
	trusted = fix_key("trusted_issuer");
	arena_init(&a, 4096);
	err[0] = '\0';
}

static void teardown(void)
{
	token_keys_free(keys);
	keys = NULL;
	json_object_put(fix);
	fix = NULL;
	arena_release(&a);
}

static int64_t now(void)
{
	return (int64_t)time(NULL);
}

/* ---- tokens minted here with plain OpenSSL (for claim shapes PyJWT cases do not cover) ---- */

static char *b64url(const void *p, size_t n)
{
	return b64_encode(&a, p, n, true);
}

static char *b64s(const char *s)
{
	return b64url(s, strlen(s));
}

static char *mint_eddsa_with(const char *priv_b64, const char *header, const char *payload)
{
	unsigned char raw[100];
	size_t n;
	ck_assert_int_eq(b64_decode(priv_b64, strlen(priv_b64), raw, &n), 0);
	ck_assert_uint_eq(n, 64);
	char *input = arena_printf(&a, "%s.%s", b64url(header, strlen(header)), b64url(payload, strlen(payload)));
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[64];
	size_t slen = sizeof(sig);
	ck_assert(k && ctx);
	ck_assert_int_eq(EVP_DigestSignInit(ctx, NULL, NULL, NULL, k), 1);
	ck_assert_int_eq(EVP_DigestSign(ctx, sig, &slen, (const unsigned char *)input, strlen(input)), 1);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
	return arena_printf(&a, "%s.%s", input, b64url(sig, slen));
}

static char *mint(const char *payload)
{
	return mint_eddsa_with(fix_key("JWT_PRIVATE_KEY"), "{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}", payload);
}

static char *mint_hs(const EVP_MD *md, const char *header, const char *payload)
{
	const char *kb64 = fix_key("CROSS_LOGIN_JWT_HS512_KEY");
	unsigned char key[100], mac[EVP_MAX_MD_SIZE];
	size_t klen;
	unsigned int mlen = sizeof(mac);
	ck_assert_int_eq(b64_decode(kb64, strlen(kb64), key, &klen), 0);
	char *input = arena_printf(&a, "%s.%s", b64url(header, strlen(header)), b64url(payload, strlen(payload)));
	ck_assert_ptr_nonnull(HMAC(md, key, (int)klen, (const unsigned char *)input, strlen(input), mac, &mlen));
	return arena_printf(&a, "%s.%s", input, b64url(mac, mlen));
}

static int verify(const char *jwt, struct token_claims *c)
{
	return token_verify_api(keys, jwt, now(), c, err, sizeof(err));
}

static void expect_api_error(const char *jwt, const char *reason)
{
	struct token_claims c;
	ck_assert_int_eq(verify(jwt, &c), -1);
	ck_assert_str_eq(err, reason);
	ck_assert_ptr_null(c.sub);
}

/* ---- the PyJWT fixtures ---- */

static void check_strings(const char *name, const char *what, struct json_object *want,
			  char **got, size_t ngot)
{
	size_t n = want ? json_object_array_length(want) : 0;
	ck_assert_msg(ngot == n, "%s: %zu %s, expected %zu", name, ngot, what, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(strcmp(got[i], json_object_get_string(json_object_array_get_idx(want, i))) == 0,
			      "%s: %s[%zu] is %s", name, what, i, got[i]);
}

static void check_time(const char *name, const char *what, struct json_object *want, bool has, int64_t got)
{
	ck_assert_msg(has == (want != NULL), "%s: %s %s", name, what, has ? "present" : "missing");
	if (want)
		ck_assert_msg(got == json_object_get_int64(want), "%s: %s is %lld", name, what, (long long)got);
}

static void check_opt_string(const char *name, const char *what, const char *want, const char *got)
{
	if (!want)
		ck_assert_msg(got == NULL, "%s: unexpected %s %s", name, what, got);
	else
		ck_assert_msg(got && strcmp(got, want) == 0, "%s: %s is %s, expected %s", name, what,
			      got ? got : "(null)", want);
}

START_TEST(pyjwt_fixture_cases)
{
	struct json_object *cases = jsonio_get(fix, "cases");
	size_t n = json_object_array_length(cases);
	ck_assert_uint_ge(n, 20);
	for (size_t i = 0; i < n; i++) {
		struct json_object *tc = json_object_array_get_idx(cases, i);
		const char *name = jsonio_str(tc, "name"), *mode = jsonio_str(tc, "mode");
		const char *jwt = jsonio_str(tc, "token");
		bool want_ok = json_object_get_boolean(jsonio_get(tc, "ok"));
		struct token_claims c;
		int rc;
		err[0] = '\0';
		if (strcmp(mode, "api") == 0)
			rc = token_verify_api(keys, jwt, now(), &c, err, sizeof(err));
		else if (strcmp(mode, "hs") == 0)
			rc = token_verify_hs(keys, jwt, now(), &c, err, sizeof(err));
		else
			rc = token_verify_cookie(keys, jwt, trusted, now(), &c, err, sizeof(err));
		if (!want_ok) {
			ck_assert_msg(rc == -1, "%s: accepted", name);
			ck_assert_msg(strcmp(err, jsonio_str(tc, "error")) == 0, "%s: reason \"%s\", expected \"%s\"",
				      name, err, jsonio_str(tc, "error"));
			ck_assert_msg(c.sub == NULL && c.roles == NULL, "%s: claims left behind", name);
			continue;
		}
		ck_assert_msg(rc == 0, "%s: rejected: %s", name, err);
		struct json_object *w = jsonio_get(tc, "claims");
		check_opt_string(name, "sub", jsonio_str(w, "sub"), c.sub);
		check_opt_string(name, "name", jsonio_str(w, "name"), c.name);
		check_opt_string(name, "iss", jsonio_str(w, "iss"), c.iss);
		check_strings(name, "roles", jsonio_get(w, "roles"), c.roles, c.nroles);
		check_strings(name, "projects", jsonio_get(w, "projects"), c.projects, c.nprojects);
		check_time(name, "exp", jsonio_get(w, "exp"), c.has_exp, c.exp);
		check_time(name, "iat", jsonio_get(w, "iat"), c.has_iat, c.iat);
		ck_assert_msg(!c.has_nbf, "%s: nbf", name);
		token_claims_release(&c);
		ck_assert_ptr_null(c.sub);
	}
	printf("token: %zu PyJWT fixture cases checked\n", n);
}
END_TEST

START_TEST(signer_matches_pyjwt_byte_for_byte)
{
	struct json_object *s = jsonio_get(fix, "sign");
	struct json_object *jr = jsonio_get(s, "roles");
	const char *roles[8];
	size_t nroles = json_object_array_length(jr);
	ck_assert_uint_le(nroles, 8);
	for (size_t i = 0; i < nroles; i++)
		roles[i] = json_object_get_string(json_object_array_get_idx(jr, i));
	int64_t iat = json_object_get_int64(jsonio_get(s, "iat"));
	char *tok = token_sign(keys, jsonio_str(s, "sub"), roles, nroles, iat,
			       json_object_get_int64(jsonio_get(s, "max_age")), err, sizeof(err));
	ck_assert_msg(tok != NULL, "%s", err);
	ck_assert_str_eq(tok, jsonio_str(s, "token"));
	struct token_claims c;
	ck_assert_int_eq(token_verify_api(keys, tok, iat, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.sub, "alice");
	token_claims_release(&c);
	free(tok);
}
END_TEST

/* ---- our own signer ---- */

START_TEST(sign_verify_round_trip)
{
	const char *roles[] = { "admin", "a\"b\\c</script>&", "tab\tnl\ncr\r\x01", "\xc3\xa9t\xc3\xa9 \xe2\x80\xa8" };
	int64_t t = now();
	char *tok = token_sign(keys, "j\xc3\xb6rg", roles, 4, t, 3600, err, sizeof(err));
	ck_assert_msg(tok != NULL, "%s", err);
	/* Go's escaping: <, >, & and U+2028 as \u escapes */
	const char *payload = strchr(tok, '.') + 1;
	unsigned char raw[1024];
	size_t n;
	ck_assert_int_eq(b64_decode(payload, (size_t)(strchr(payload, '.') - payload), raw, &n), 0);
	raw[n] = '\0';
	ck_assert_ptr_nonnull(strstr((char *)raw, "\"a\\\"b\\\\c\\u003c/script\\u003e\\u0026\""));
	ck_assert_ptr_nonnull(strstr((char *)raw, "\"tab\\tnl\\ncr\\r\\u0001\""));
	ck_assert_ptr_nonnull(strstr((char *)raw, "\\u2028"));

	struct token_claims c;
	ck_assert_int_eq(token_verify_api(keys, tok, t, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.sub, "j\xc3\xb6rg");
	ck_assert_uint_eq(c.nroles, 4);
	for (size_t i = 0; i < 4; i++)
		ck_assert_str_eq(c.roles[i], roles[i]);
	ck_assert(c.has_iat && c.iat == t && c.has_exp && c.exp == t + 3600);
	token_claims_release(&c);
	/* exp is exclusive: valid until the second before */
	ck_assert_int_eq(token_verify_api(keys, tok, t + 3599, &c, err, sizeof(err)), 0);
	token_claims_release(&c);
	ck_assert_int_eq(token_verify_api(keys, tok, t + 3600, &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "token is expired");
	/* the cookie path takes issuer-less tokens with the main key */
	ck_assert_int_eq(token_verify_cookie(keys, tok, trusted, t, &c, err, sizeof(err)), 0);
	token_claims_release(&c);
	free(tok);

	/* max-age 0: no exp, never expires; no roles: [] */
	tok = token_sign(keys, "bob", NULL, 0, t, 0, err, sizeof(err));
	ck_assert_ptr_nonnull(tok);
	ck_assert_int_eq(token_verify_api(keys, tok, INT64_MAX, &c, err, sizeof(err)), 0);
	ck_assert(!c.has_exp);
	ck_assert_uint_eq(c.nroles, 0);
	token_claims_release(&c);
	free(tok);

	ck_assert_ptr_null(token_sign(keys, "", NULL, 0, t, 60, err, sizeof(err)));
	ck_assert_ptr_null(token_sign(keys, "x\xff", NULL, 0, t, 60, err, sizeof(err)));
	ck_assert_ptr_null(token_sign(keys, "x", NULL, 0, INT64_MAX - 5, 60, err, sizeof(err)));
	struct token_keys *pubonly = token_keys_new(fix_key("JWT_PUBLIC_KEY"), NULL, NULL, NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(pubonly);
	ck_assert(!token_keys_have(pubonly, TOKEN_KEY_PRIVATE));
	ck_assert_ptr_null(token_sign(pubonly, "x", NULL, 0, t, 60, err, sizeof(err)));
	ck_assert_str_eq(err, "cannot sign tokens: JWT_PRIVATE_KEY is not set");
	token_keys_free(pubonly);
}
END_TEST

START_TEST(generated_key_pair_loads_and_works)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(token_print_keypair(f), 0);
	fclose(f);
	char pub[100], priv[100];
	ck_assert_int_eq(sscanf(text, "JWT_PUBLIC_KEY=\"%99[^\"]\"\nJWT_PRIVATE_KEY=\"%99[^\"]\"\n", pub, priv), 2);
	ck_assert_uint_eq(strlen(pub), 44);
	ck_assert_uint_eq(strlen(priv), 88);
	free(text);
	struct token_keys *k = token_keys_new(pub, priv, NULL, NULL, err, sizeof(err));
	ck_assert_msg(k != NULL, "%s", err);
	const char *roles[] = { "api" };
	char *tok = token_sign(k, "svc", roles, 1, now(), 60, err, sizeof(err));
	ck_assert_ptr_nonnull(tok);
	struct token_claims c;
	ck_assert_int_eq(token_verify_api(k, tok, now(), &c, err, sizeof(err)), 0);
	token_claims_release(&c);
	/* and not with another key */
	ck_assert_int_eq(token_verify_api(keys, tok, now(), &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "token signature is invalid");
	free(tok);
	token_keys_free(k);
}
END_TEST

/* ---- keys ---- */

START_TEST(demo_key_pair_loads)
{
	struct token_keys *k = token_keys_new(DEMO_PUB, DEMO_PRIV, NULL, NULL, err, sizeof(err));
	ck_assert_msg(k != NULL, "%s", err);
	ck_assert(token_keys_have(k, TOKEN_KEY_PUBLIC) && token_keys_have(k, TOKEN_KEY_PRIVATE));
	ck_assert(!token_keys_have(k, TOKEN_KEY_CROSS_PUBLIC) && !token_keys_have(k, TOKEN_KEY_HS));
	token_keys_free(k);
	/* the private key alone also gives the public key */
	k = token_keys_new(NULL, DEMO_PRIV, "", "", err, sizeof(err));
	ck_assert_ptr_nonnull(k);
	ck_assert(token_keys_have(k, TOKEN_KEY_PUBLIC));
	token_keys_free(k);
}
END_TEST

START_TEST(reference_demo_token)
{
	char dir[1024];
	if (!test_have_reference("cc-backend demo token", "CCBACKEND_REF_DIR", dir, sizeof(dir)))
		return;
	char path[1200], perr[512];
	snprintf(path, sizeof(path), "%s/cc-backend/configs/config-demo.json", dir);
	struct json_object *cfg = jsonio_parse_file(path, 1 << 20, perr, sizeof(perr));
	if (!cfg) {
		printf("skipped: cc-backend demo token (%s)\n", perr);
		return;
	}
	struct json_object *ext = jsonio_get(cfg, "metric-store-external");
	const char *tok = jsonio_str(json_object_array_get_idx(ext, 0), "token");
	ck_assert_ptr_nonnull(tok);
	struct token_keys *k = token_keys_new(DEMO_PUB, DEMO_PRIV, NULL, NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(k);
	struct token_claims c;
	/* signature good, but it expired on 2026-04-09 */
	ck_assert_int_eq(token_verify_api(k, tok, now(), &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "token is expired");
	ck_assert_int_eq(token_verify_api(k, tok, 1775778843, &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.sub, "demo");
	ck_assert_uint_eq(c.nroles, 2);
	ck_assert_str_eq(c.roles[0], "admin");
	ck_assert_str_eq(c.roles[1], "api");
	ck_assert(c.iat == 1768578844 && c.exp == 1775778844);
	token_claims_release(&c);
	/* with another key the signature fails */
	ck_assert_int_eq(token_verify_api(keys, tok, 1775778843, &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "token signature is invalid");
	/* and our signer makes the very same token */
	const char *roles[] = { "admin", "api" };
	char *mine = token_sign(k, "demo", roles, 2, 1768578844, 7200000, err, sizeof(err));
	ck_assert_ptr_nonnull(mine);
	ck_assert_str_eq(mine, tok);
	free(mine);
	token_keys_free(k);
	json_object_put(cfg);
}
END_TEST

static void expect_key_error(const char *pub, const char *priv, const char *cross, const char *hs,
			     const char *reason)
{
	struct token_keys *k = token_keys_new(pub, priv, cross, hs, err, sizeof(err));
	ck_assert_ptr_null(k);
	ck_assert_str_eq(err, reason);
}

START_TEST(key_errors)
{
	/* 31 bytes */
	expect_key_error("kzfYrYy+TzpanWZHJ5qSdMj5uKUWgq74BWhQG6copA==", NULL, NULL, NULL,
			 "JWT_PUBLIC_KEY: expected standard base64 of a 32-byte Ed25519 key, got 31 bytes");
	expect_key_error("kzfYrYy+TzpanWZHJ5qSdMj5uKUW gq74BWhQG6copP0=", NULL, NULL, NULL,
			 "JWT_PUBLIC_KEY: expected standard base64 of a 32-byte Ed25519 key, got invalid base64");
	/* the public key given as the private key */
	expect_key_error(NULL, DEMO_PUB, NULL, NULL,
			 "JWT_PRIVATE_KEY: expected standard base64 of a 64-byte Ed25519 private key "
			 "(seed and public key), got 32 bytes");
	expect_key_error(DEMO_PUB, fix_key("JWT_PRIVATE_KEY"), NULL, NULL,
			 "JWT_PRIVATE_KEY: does not belong to JWT_PUBLIC_KEY");
	/* seed of one pair, public half of another */
	char *mixed = arena_printf(&a, "%.44s%s", fix_key("JWT_PRIVATE_KEY"), &DEMO_PRIV[44]);
	unsigned char raw[100];
	size_t n;
	ck_assert_int_eq(b64_decode(mixed, strlen(mixed), raw, &n), 0);
	ck_assert_uint_eq(n, 64);
	expect_key_error(NULL, mixed, NULL, NULL,
			 "JWT_PRIVATE_KEY: the last 32 bytes are not the public key of the first 32");
	expect_key_error(DEMO_PUB, DEMO_PRIV, DEMO_PRIV, NULL,
			 "CROSS_LOGIN_JWT_PUBLIC_KEY: expected standard base64 of a 32-byte Ed25519 key, got 64 bytes");
	expect_key_error(DEMO_PUB, DEMO_PRIV, NULL, "not*base64",
			 "CROSS_LOGIN_JWT_HS512_KEY: expected standard base64 of an HMAC key, got invalid base64");

	/* from the environment; empty means unset (env-template has CROSS_LOGIN_JWT_PUBLIC_KEY="") */
	setenv("JWT_PUBLIC_KEY", "AAAA", 1);
	setenv("JWT_PRIVATE_KEY", "", 1);
	setenv("CROSS_LOGIN_JWT_PUBLIC_KEY", "", 1);
	unsetenv("CROSS_LOGIN_JWT_HS512_KEY");
	ck_assert_ptr_null(token_keys_from_env(err, sizeof(err)));
	ck_assert_str_eq(err, "JWT_PUBLIC_KEY: expected standard base64 of a 32-byte Ed25519 key, got 3 bytes");
	setenv("JWT_PUBLIC_KEY", DEMO_PUB, 1);
	setenv("JWT_PRIVATE_KEY", DEMO_PRIV, 1);
	setenv("CROSS_LOGIN_JWT_HS512_KEY", fix_key("CROSS_LOGIN_JWT_HS512_KEY"), 1);
	struct token_keys *k = token_keys_from_env(err, sizeof(err));
	ck_assert_msg(k != NULL, "%s", err);
	ck_assert(token_keys_have(k, TOKEN_KEY_HS) && !token_keys_have(k, TOKEN_KEY_CROSS_PUBLIC));
	token_keys_free(k);
	unsetenv("JWT_PUBLIC_KEY");
	unsetenv("JWT_PRIVATE_KEY");
	unsetenv("CROSS_LOGIN_JWT_PUBLIC_KEY");
	unsetenv("CROSS_LOGIN_JWT_HS512_KEY");
}
END_TEST

START_TEST(nothing_configured)
{
	struct token_keys *k = token_keys_new(NULL, NULL, NULL, NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(k);
	struct token_claims c;
	const char *valid = jsonio_str(json_object_array_get_idx(jsonio_get(fix, "cases"), 0), "token");
	ck_assert_int_eq(token_verify_api(k, valid, now(), &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "token authentication is not configured (no JWT_PUBLIC_KEY)");
	ck_assert_int_eq(token_verify_hs(k, mint_hs(EVP_sha512(), "{\"alg\":\"HS512\"}", "{\"sub\":\"x\"}"),
					 now(), &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "login tokens are not configured (no CROSS_LOGIN_JWT_HS512_KEY)");
	ck_assert_int_eq(token_verify_cookie(k, mint("{\"sub\":\"x\",\"iss\":\"https://sso.example.org\"}"),
					     trusted, now(), &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "cross-login is not configured (no CROSS_LOGIN_JWT_PUBLIC_KEY)");
	ck_assert_ptr_null(token_sign(k, "x", NULL, 0, 0, 0, err, sizeof(err)));
	token_keys_free(k);
}
END_TEST

/* ---- hostile and odd tokens ---- */

START_TEST(malformed_tokens)
{
	const char *valid = jsonio_str(json_object_array_get_idx(jsonio_get(fix, "cases"), 0), "token");
	expect_api_error("", "token is malformed");
	expect_api_error(NULL, "token is malformed");
	expect_api_error("abc", "token is malformed");
	expect_api_error("a.b.c.d", "token is malformed");
	expect_api_error("..", "token is malformed");
	expect_api_error(arena_printf(&a, "%s.", valid), "token is malformed");
	expect_api_error(arena_printf(&a, "%s=", valid), "token is malformed"); /* padding */
	expect_api_error(arena_printf(&a, " %s", valid), "token is malformed");
	char *plus = arena_strdup(&a, valid);
	*strrchr(plus, '.') = '+';
	expect_api_error(plus, "token is malformed");

	char *huge = arena_alloc(&a, TOKEN_MAX_LEN + 2);
	memset(huge, 'A', TOKEN_MAX_LEN + 1);
	huge[TOKEN_MAX_LEN + 1] = '\0';
	expect_api_error(huge, "token is longer than 8192 bytes");

	/* headers */
	const char *pl = b64s("{\"sub\":\"x\"}");
	expect_api_error(arena_printf(&a, "%s.%s.AAAA", b64s("nope"), pl),
			 "token is malformed: header is not valid JSON");
	expect_api_error(arena_printf(&a, "%s.%s.AAAA", b64s("[1]"), pl),
			 "token is malformed: header is not a JSON object");
	expect_api_error(arena_printf(&a, "%s.%s.AAAA", b64s("{}"), pl),
			 "token is malformed: header has no alg");
	expect_api_error(arena_printf(&a, "%s.%s.AAAA", b64s("{\"alg\":5}"), pl),
			 "token is malformed: header has no alg");
	expect_api_error(arena_printf(&a, "%s.%s.AAAA", b64s("{\"alg\":\"RS256\"}"), pl),
			 "unsupported signing method RS256");
	expect_api_error(arena_printf(&a, "%s.%s.AAAA", b64s("{\"alg\":\"ES256\"}"), pl),
			 "unsupported signing method ES256");
	expect_api_error(arena_printf(&a, "%s.%s.", b64s("{\"alg\":\"None\"}"), pl),
			 "unsupported signing method None");
	expect_api_error(arena_printf(&a, "%s.%s.", b64s("{\"alg\":\"\\\"x\\\"<b>aaaaaaaaaaaaaaaaaaaa\"}"), pl),
			 "unsupported signing method ?x??b?aaaaaaaaaaaaaa...");
	/* duplicate keys: the last one counts, as in Go and jansson */
	expect_api_error(arena_printf(&a, "%s.%s.", b64s("{\"alg\":\"EdDSA\",\"alg\":\"none\"}"), pl),
			 "unsupported signing method none");
	expect_api_error(mint_eddsa_with(fix_key("JWT_PRIVATE_KEY"), "{\"alg\":\"EdDSA\",\"crit\":[\"b64\"],\"b64\":false}",
					 "{\"sub\":\"x\"}"),
			 "token is malformed: crit header parameters are not supported");
	/* a header without typ is fine */
	struct token_claims c;
	ck_assert_int_eq(verify(mint_eddsa_with(fix_key("JWT_PRIVATE_KEY"), "{\"alg\":\"EdDSA\"}", "{\"sub\":\"x\"}"), &c), 0);
	token_claims_release(&c);

	/* payloads (validly signed) */
	expect_api_error(mint("[\"sub\"]"), "token is malformed: payload is not a JSON object");
	expect_api_error(mint("{\"sub\":\"x\",}"), "token is malformed: payload is not valid JSON");
	expect_api_error(mint("{\"sub\":\"x\"} {}"), "token is malformed: payload is not valid JSON");
	expect_api_error(mint("{\"sub\":\"\xff\"}"), "token is malformed: payload is not valid JSON");
	char *deep = arena_alloc(&a, 200);
	strcpy(deep, "{\"sub\":\"x\",\"d\":");
	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	for (int i = 0; i < 40; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	expect_api_error(mint(deep), "token is malformed: payload is not valid JSON");
}
END_TEST

START_TEST(claim_shapes)
{
	struct token_claims c;
	/* an embedded NUL must not shorten the subject to "admin" */
	expect_api_error(mint("{\"sub\":\"admin\\u0000x\"}"), "token has no subject");
	expect_api_error(mint("{\"sub\":42}"), "token has no subject");
	expect_api_error(mint("{\"sub\":null}"), "token has no subject");
	expect_api_error(mint("{\"sub\":\"x\",\"roles\":[\"api\",1]}"),
			 "token has invalid claims: roles must be an array of strings");
	expect_api_error(mint("{\"sub\":\"x\",\"roles\":[\"ad\\u0000min\"]}"),
			 "token has invalid claims: roles must be an array of strings");
	expect_api_error(mint("{\"sub\":\"x\",\"projects\":\"p\"}"),
			 "token has invalid claims: projects must be an array of strings");
	expect_api_error(mint("{\"sub\":\"x\",\"exp\":null}"), "token has invalid claims: exp must be a number");
	expect_api_error(mint("{\"sub\":\"x\",\"nbf\":true}"), "token has invalid claims: nbf must be a number");
	expect_api_error(mint("{\"sub\":\"x\",\"iss\":7}"), "token has invalid claims: iss must be a string");
	expect_api_error(mint("{\"sub\":\"x\",\"name\":{\"values\":[\"a\",2]}}"),
			 "token has invalid claims: name must be a string or {\"values\":[strings]}");
	expect_api_error(mint("{\"sub\":\"x\",\"name\":[\"a\"]}"),
			 "token has invalid claims: name must be a string or {\"values\":[strings]}");
	expect_api_error(mint("{\"sub\":\"x\",\"exp\":1e400}"), "token has invalid claims: exp must be a number");

	/* roles null (Go marshals a nil slice so), iat of an odd type ignored, fractional exp */
	ck_assert_int_eq(verify(mint("{\"sub\":\"x\",\"roles\":null,\"iat\":\"yesterday\",\"exp\":4102444800.9,"
				     "\"nbf\":1.5,\"name\":{\"values\":[]}}"), &c), 0);
	ck_assert_uint_eq(c.nroles, 0);
	ck_assert(!c.has_iat);
	ck_assert(c.has_exp && c.exp == 4102444800);
	ck_assert(c.has_nbf && c.nbf == 1);
	ck_assert_str_eq(c.name, "");
	token_claims_release(&c);

	/* nbf is inclusive, exp exclusive; huge values saturate */
	const char *t = mint("{\"sub\":\"x\",\"nbf\":1000,\"exp\":2000}");
	ck_assert_int_eq(token_verify_api(keys, t, 999, &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "token is not valid yet");
	ck_assert_int_eq(token_verify_api(keys, t, 1000, &c, err, sizeof(err)), 0);
	token_claims_release(&c);
	ck_assert_int_eq(token_verify_api(keys, t, 1999, &c, err, sizeof(err)), 0);
	token_claims_release(&c);
	ck_assert_int_eq(token_verify_api(keys, t, 2000, &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "token is expired");
	ck_assert_int_eq(verify(mint("{\"sub\":\"x\",\"exp\":99999999999999999999}"), &c), 0);
	ck_assert(c.exp == INT64_MAX);
	token_claims_release(&c);
	expect_api_error(mint("{\"sub\":\"x\",\"exp\":-99999999999999999999}"), "token is expired");
}
END_TEST

START_TEST(hs_login_tokens)
{
	struct token_claims c;
	/* no typ in the header, HS256 and HS512 */
	ck_assert_int_eq(token_verify_hs(keys, mint_hs(EVP_sha256(), "{\"alg\":\"HS256\"}", "{\"sub\":\"x\"}"),
					 now(), &c, err, sizeof(err)), 0);
	token_claims_release(&c);
	ck_assert_int_eq(token_verify_hs(keys, mint_hs(EVP_sha512(), "{\"alg\":\"HS512\",\"typ\":\"jwt\"}",
						       "{\"sub\":\"x\",\"roles\":[\"user\"]}"),
					 now(), &c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.roles[0], "user");
	token_claims_release(&c);
	/* libjwt 1.10 wants typ JWT when typ is a string */
	ck_assert_int_eq(token_verify_hs(keys, mint_hs(EVP_sha512(), "{\"alg\":\"HS512\",\"typ\":\"at+jwt\"}",
						       "{\"sub\":\"x\"}"),
					 now(), &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unsupported token type (typ must be JWT)");
	/* a MAC of the right algorithm but labelled as the other */
	ck_assert_int_eq(token_verify_hs(keys, mint_hs(EVP_sha256(), "{\"alg\":\"HS512\"}", "{\"sub\":\"x\"}"),
					 now(), &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "token signature is invalid");
	/* every single-character change of the MAC is refused */
	char *tok = mint_hs(EVP_sha512(), "{\"alg\":\"HS512\"}", "{\"sub\":\"x\"}");
	char *sig = strrchr(tok, '.') + 1;
	for (size_t i = 0; sig[i]; i++) {
		char saved = sig[i];
		sig[i] = saved == 'A' ? 'B' : 'A';
		ck_assert_int_eq(token_verify_hs(keys, tok, now(), &c, err, sizeof(err)), -1);
		ck_assert_str_eq(err, "token signature is invalid");
		sig[i] = saved;
	}
	sig[strlen(sig) - 1] = '\0'; /* truncated MAC */
	ck_assert_int_eq(token_verify_hs(keys, tok, now(), &c, err, sizeof(err)), -1);
	/* a good MAC does not excuse bad claims */
	ck_assert_int_eq(token_verify_hs(keys, mint_hs(EVP_sha512(), "{\"alg\":\"HS512\"}", "{\"roles\":[]}"),
					 now(), &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "token has no subject");
	/* an HS token is never an API token, even signed with the public key's bytes */
	const char *pub = fix_key("JWT_PUBLIC_KEY");
	struct token_keys *confused = token_keys_new(pub, NULL, NULL, pub, err, sizeof(err));
	ck_assert_ptr_nonnull(confused);
	struct json_object *cases = jsonio_get(fix, "cases");
	for (size_t i = 0; i < json_object_array_length(cases); i++) {
		struct json_object *tc = json_object_array_get_idx(cases, i);
		if (strcmp(jsonio_str(tc, "name"), "HS256 with the public key as secret") != 0)
			continue;
		ck_assert_int_eq(token_verify_api(confused, jsonio_str(tc, "token"), now(), &c, err, sizeof(err)), -1);
		ck_assert_str_eq(err, "unsupported signing method HS256");
	}
	token_keys_free(confused);
}
END_TEST

START_TEST(cookie_issuers)
{
	struct token_claims c;
	const char *cross_signed = NULL;
	struct json_object *cases = jsonio_get(fix, "cases");
	for (size_t i = 0; i < json_object_array_length(cases); i++) {
		struct json_object *tc = json_object_array_get_idx(cases, i);
		if (strcmp(jsonio_str(tc, "name"), "cookie from the trusted issuer") == 0)
			cross_signed = jsonio_str(tc, "token");
	}
	ck_assert_ptr_nonnull(cross_signed);
	/* without a trusted issuer configured every iss is foreign */
	ck_assert_int_eq(token_verify_cookie(keys, cross_signed, NULL, now(), &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "token issuer is not trusted");
	ck_assert_int_eq(token_verify_cookie(keys, cross_signed, "", now(), &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "token issuer is not trusted");
	/* a prefix of the issuer is not the issuer */
	ck_assert_int_eq(token_verify_cookie(keys, cross_signed, "https://sso.example", now(), &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "token issuer is not trusted");
	/* the API path never takes the cross-login key */
	ck_assert_int_eq(token_verify_api(keys, cross_signed, now(), &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "token signature is invalid");
	/* an HS token in the cookie */
	ck_assert_int_eq(token_verify_cookie(keys, mint_hs(EVP_sha256(), "{\"alg\":\"HS256\"}", "{\"sub\":\"x\"}"),
					     trusted, now(), &c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unsupported signing method HS256");
}
END_TEST

Suite *token_suite(void)
{
	Suite *s = suite_create("token");
	TCase *tc = tcase_create("token");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, pyjwt_fixture_cases);
	tcase_add_test(tc, signer_matches_pyjwt_byte_for_byte);
	tcase_add_test(tc, sign_verify_round_trip);
	tcase_add_test(tc, generated_key_pair_loads_and_works);
	tcase_add_test(tc, demo_key_pair_loads);
	tcase_add_test(tc, reference_demo_token);
	tcase_add_test(tc, key_errors);
	tcase_add_test(tc, nothing_configured);
	tcase_add_test(tc, malformed_tokens);
	tcase_add_test(tc, claim_shapes);
	tcase_add_test(tc, hs_login_tokens);
	tcase_add_test(tc, cookie_issuers);
	suite_add_tcase(s, tc);
	return s;
}
