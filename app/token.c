#include "config.h"
#include "token.h"
#include "arena.h"
#include "buf.h"
#include "crypto.h"
#include "jsonio.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include <jwt.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ED25519_KEY_LEN 32
#define ED25519_PRIV_LEN 64 /* seed || public key, the Go layout */
#define ED25519_SIG_LEN 64
#define HS_KEY_MAX 4096

/* cc-backend's published demo key (init.go, env-template.txt) */
static const char demo_public_key[] = "kzfYrYy+TzpanWZHJ5qSdMj5uKUWgq74BWhQG6copP0=";

/* base64url of {"alg":"EdDSA","typ":"JWT"}, the header of every token we sign */
static const char eddsa_header_b64[] = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9";

struct token_keys {
	EVP_PKEY *pub;       /* JWT_PUBLIC_KEY */
	EVP_PKEY *priv;      /* JWT_PRIVATE_KEY */
	EVP_PKEY *cross_pub; /* CROSS_LOGIN_JWT_PUBLIC_KEY */
	unsigned char *hs_key; /* CROSS_LOGIN_JWT_HS512_KEY */
	size_t hs_len;
};

enum verify_mode { MODE_API, MODE_HS, MODE_COOKIE };

/* ---- keys ---- */

/* Standard base64 into a fresh heap buffer (wiped and freed by the caller);
 * -1 on invalid base64. */
static int key_decode(const char *s, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(s);
	unsigned char *p = xmalloc(n * 3 / 4 + 3);
	if (b64_decode(s, n, p, outlen) < 0) {
		OPENSSL_cleanse(p, n * 3 / 4 + 3);
		free(p);
		return -1;
	}
	*out = p;
	return 0;
}

static void key_wipe(unsigned char *p, size_t n)
{
	if (p) {
		OPENSSL_cleanse(p, n);
		free(p);
	}
}

static bool is_set(const char *s)
{
	return s && *s;
}

static EVP_PKEY *public_key_load(const char *var, const char *val, unsigned char raw[ED25519_KEY_LEN],
				 char *err, size_t errlen)
{
	unsigned char *p;
	size_t n;
	if (key_decode(val, &p, &n) < 0) {
		snprintf(err, errlen, "%s: expected standard base64 of a 32-byte Ed25519 key, got invalid base64",
			 var);
		return NULL;
	}
	if (n != ED25519_KEY_LEN) {
		snprintf(err, errlen, "%s: expected standard base64 of a 32-byte Ed25519 key, got %zu bytes",
			 var, n);
		key_wipe(p, n);
		return NULL;
	}
	memcpy(raw, p, ED25519_KEY_LEN);
	key_wipe(p, n);
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, ED25519_KEY_LEN);
	if (!k)
		snprintf(err, errlen, "%s: not a usable Ed25519 public key", var);
	return k;
}

/* JWT_PRIVATE_KEY: 64 bytes, seed || public key; the public half must be the seed's. */
static EVP_PKEY *private_key_load(const char *val, unsigned char pub[ED25519_KEY_LEN],
				  char *err, size_t errlen)
{
	unsigned char *p;
	size_t n;
	if (key_decode(val, &p, &n) < 0) {
		snprintf(err, errlen, "JWT_PRIVATE_KEY: expected standard base64 of a 64-byte Ed25519 private key "
			 "(seed and public key), got invalid base64");
		return NULL;
	}
	if (n != ED25519_PRIV_LEN) {
		snprintf(err, errlen, "JWT_PRIVATE_KEY: expected standard base64 of a 64-byte Ed25519 private key "
			 "(seed and public key), got %zu bytes", n);
		key_wipe(p, n);
		return NULL;
	}
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, p, ED25519_KEY_LEN);
	unsigned char derived[ED25519_KEY_LEN];
	size_t dlen = sizeof(derived);
	if (!k || EVP_PKEY_get_raw_public_key(k, derived, &dlen) != 1 || dlen != ED25519_KEY_LEN) {
		snprintf(err, errlen, "JWT_PRIVATE_KEY: not a usable Ed25519 private key");
		EVP_PKEY_free(k);
		key_wipe(p, n);
		return NULL;
	}
	if (memcmp(derived, p + ED25519_KEY_LEN, ED25519_KEY_LEN) != 0) {
		snprintf(err, errlen, "JWT_PRIVATE_KEY: the last 32 bytes are not the public key of the first 32");
		EVP_PKEY_free(k);
		key_wipe(p, n);
		return NULL;
	}
	memcpy(pub, derived, ED25519_KEY_LEN);
	key_wipe(p, n);
	return k;
}

struct token_keys *token_keys_new(const char *public_b64, const char *private_b64,
				  const char *cross_public_b64, const char *hs_b64,
				  char *err, size_t errlen)
{
	struct token_keys *k = xcalloc(1, sizeof(*k));
	unsigned char pub[ED25519_KEY_LEN], priv_pub[ED25519_KEY_LEN], cross[ED25519_KEY_LEN];

	if (is_set(public_b64)) {
		k->pub = public_key_load("JWT_PUBLIC_KEY", public_b64, pub, err, errlen);
		if (!k->pub)
			goto fail;
	}
	if (is_set(private_b64)) {
		k->priv = private_key_load(private_b64, priv_pub, err, errlen);
		if (!k->priv)
			goto fail;
		if (k->pub && memcmp(pub, priv_pub, ED25519_KEY_LEN) != 0) {
			snprintf(err, errlen, "JWT_PRIVATE_KEY: does not belong to JWT_PUBLIC_KEY");
			goto fail;
		}
		if (!k->pub) {
			memcpy(pub, priv_pub, ED25519_KEY_LEN);
			k->pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, ED25519_KEY_LEN);
			if (!k->pub) {
				snprintf(err, errlen, "JWT_PRIVATE_KEY: not a usable Ed25519 private key");
				goto fail;
			}
		}
	}
	if (is_set(cross_public_b64)) {
		k->cross_pub = public_key_load("CROSS_LOGIN_JWT_PUBLIC_KEY", cross_public_b64, cross, err, errlen);
		if (!k->cross_pub)
			goto fail;
	}
	if (is_set(hs_b64)) {
		if (key_decode(hs_b64, &k->hs_key, &k->hs_len) < 0) {
			snprintf(err, errlen, "CROSS_LOGIN_JWT_HS512_KEY: expected standard base64 of an HMAC key, "
				 "got invalid base64");
			goto fail;
		}
		if (k->hs_len == 0 || k->hs_len > HS_KEY_MAX) {
			snprintf(err, errlen, "CROSS_LOGIN_JWT_HS512_KEY: expected standard base64 of an HMAC key "
				 "of 1 to %d bytes, got %zu bytes", HS_KEY_MAX, k->hs_len);
			goto fail;
		}
	}

	if (!k->pub) {
		log_warn("JWT_PUBLIC_KEY is not set: API tokens will not be accepted");
	} else {
		unsigned char demo[ED25519_KEY_LEN + 4];
		size_t dn;
		if (b64_decode(demo_public_key, strlen(demo_public_key), demo, &dn) == 0 &&
		    dn == ED25519_KEY_LEN && memcmp(demo, pub, ED25519_KEY_LEN) == 0)
			log_warn("JWT_PUBLIC_KEY is cc-backend's published demo key: anyone can make valid "
				 "tokens; generate a key pair with -gen-keypair");
	}
	if (k->hs_key && k->hs_len < 32)
		log_warn("CROSS_LOGIN_JWT_HS512_KEY has only %zu bytes; 64 random bytes are recommended",
			 k->hs_len);
	OPENSSL_cleanse(priv_pub, sizeof(priv_pub));
	return k;
fail:
	OPENSSL_cleanse(priv_pub, sizeof(priv_pub));
	token_keys_free(k);
	return NULL;
}

struct token_keys *token_keys_from_env(char *err, size_t errlen)
{
	return token_keys_new(getenv("JWT_PUBLIC_KEY"), getenv("JWT_PRIVATE_KEY"),
			      getenv("CROSS_LOGIN_JWT_PUBLIC_KEY"), getenv("CROSS_LOGIN_JWT_HS512_KEY"),
			      err, errlen);
}

void token_keys_free(struct token_keys *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pub);
	EVP_PKEY_free(k->priv);
	EVP_PKEY_free(k->cross_pub);
	key_wipe(k->hs_key, k->hs_len);
	free(k);
}

bool token_keys_have(const struct token_keys *k, enum token_key_kind kind)
{
	if (!k)
		return false;
	switch (kind) {
	case TOKEN_KEY_PUBLIC: return k->pub != NULL;
	case TOKEN_KEY_PRIVATE: return k->priv != NULL;
	case TOKEN_KEY_CROSS_PUBLIC: return k->cross_pub != NULL;
	case TOKEN_KEY_HS: return k->hs_key != NULL;
	}
	return false;
}

/* ---- verification ---- */

struct parsed {
	const char *tok;
	size_t hlen;      /* header segment: tok[0, hlen) */
	size_t signed_len; /* header "." payload */
	const char *sig;  /* signature segment */
	size_t slen;
	struct json_object *header, *payload;
};

static bool b64url_chars(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return n % 4 != 1;
}

/* A base64url segment holding a JSON object. */
static struct json_object *segment_json(const char *s, size_t n, const char *what, char *err, size_t errlen)
{
	unsigned char *raw = xmalloc(n * 3 / 4 + 3);
	size_t len;
	struct json_object *o = NULL;
	char perr[160];
	if (b64_decode(s, n, raw, &len) < 0) {
		snprintf(err, errlen, "token is malformed: %s is not base64url", what);
	} else if (!(o = jsonio_parse((const char *)raw, len, perr, sizeof(perr)))) {
		snprintf(err, errlen, "token is malformed: %s is not valid JSON", what);
	} else if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "token is malformed: %s is not a JSON object", what);
		json_object_put(o);
		o = NULL;
	}
	free(raw);
	return o;
}

static int token_split(const char *jwt, struct parsed *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	if (!jwt || !*jwt) {
		snprintf(err, errlen, "token is malformed");
		return -1;
	}
	size_t len = strnlen(jwt, TOKEN_MAX_LEN + 1);
	if (len > TOKEN_MAX_LEN) {
		snprintf(err, errlen, "token is longer than %d bytes", TOKEN_MAX_LEN);
		return -1;
	}
	const char *d1 = memchr(jwt, '.', len);
	const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jwt)) : NULL;
	if (!d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jwt))) {
		snprintf(err, errlen, "token is malformed");
		return -1;
	}
	p->tok = jwt;
	p->hlen = (size_t)(d1 - jwt);
	p->signed_len = (size_t)(d2 - jwt);
	p->sig = d2 + 1;
	p->slen = len - p->signed_len - 1;
	size_t plen = p->signed_len - p->hlen - 1;
	/* the signature may be empty here: "none" tokens get their own message */
	if (p->hlen == 0 || plen == 0 || !b64url_chars(jwt, p->hlen) || !b64url_chars(d1 + 1, plen) ||
	    !b64url_chars(p->sig, p->slen)) {
		snprintf(err, errlen, "token is malformed");
		return -1;
	}
	if (!(p->header = segment_json(jwt, p->hlen, "header", err, errlen)))
		return -1;
	if (!(p->payload = segment_json(d1 + 1, plen, "payload", err, errlen)))
		return -1;
	return 0;
}

static void parsed_free(struct parsed *p)
{
	json_object_put(p->header);
	json_object_put(p->payload);
	p->header = p->payload = NULL;
}

/* A string without embedded NULs ("\u0000" would make C see a shorter one). */
static const char *plain_string(struct json_object *o)
{
	if (!json_object_is_type(o, json_type_string))
		return NULL;
	const char *s = json_object_get_string(o);
	if ((size_t)json_object_get_string_len(o) != strlen(s))
		return NULL;
	return s;
}

/* Unsupported algorithm names go into the error text: printable and short. */
static void unsupported_alg(const char *alg, char *err, size_t errlen)
{
	char safe[24];
	size_t i = 0;
	for (; i < sizeof(safe) - 4 && alg[i]; i++) {
		unsigned char c = (unsigned char)alg[i];
		bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			     c == '+' || c == '-' || c == '.' || c == '_';
		safe[i] = plain ? (char)c : '?';
	}
	if (alg[i])
		memcpy(safe + i, "...", 4);
	else
		safe[i] = '\0';
	snprintf(err, errlen, "unsupported signing method %s", safe);
}

/* The header's alg, checked against what the mode accepts; for HS the libjwt algorithm. */
static int check_header(const struct parsed *p, enum verify_mode mode, jwt_alg_t *hs_alg,
			char *err, size_t errlen)
{
	struct json_object *v;
	const char *alg;
	if (!json_object_object_get_ex(p->header, "alg", &v) || !(alg = plain_string(v))) {
		snprintf(err, errlen, "token is malformed: header has no alg");
		return -1;
	}
	if (mode == MODE_HS) {
		if (strcmp(alg, "HS256") == 0) {
			*hs_alg = JWT_ALG_HS256;
		} else if (strcmp(alg, "HS512") == 0) {
			*hs_alg = JWT_ALG_HS512;
		} else {
			unsupported_alg(alg, err, errlen);
			return -1;
		}
	} else if (strcmp(alg, "EdDSA") != 0) {
		unsupported_alg(alg, err, errlen);
		return -1;
	}
	/* libjwt 1.10 refuses a string typ other than "JWT" (any case); say so plainly */
	const char *typ;
	if (mode == MODE_HS && json_object_object_get_ex(p->header, "typ", &v) && (typ = plain_string(v)) &&
	    strcasecmp(typ, "JWT") != 0) {
		snprintf(err, errlen, "unsupported token type (typ must be JWT)");
		return -1;
	}
	/* RFC 7515 4.1.11: extensions we do not understand must not be ignored */
	if (json_object_object_get_ex(p->header, "crit", NULL)) {
		snprintf(err, errlen, "token is malformed: crit header parameters are not supported");
		return -1;
	}
	return 0;
}

static int verify_eddsa(const struct parsed *p, EVP_PKEY *key, char *err, size_t errlen)
{
	unsigned char sig[86 * 3 / 4 + 3];
	size_t n;
	/* 64 bytes are 86 base64url characters; anything else cannot be an Ed25519 signature */
	if (p->slen != 86 || b64_decode(p->sig, p->slen, sig, &n) < 0 || n != ED25519_SIG_LEN) {
		snprintf(err, errlen, "token signature is invalid");
		return -1;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
		 EVP_DigestVerify(ctx, sig, ED25519_SIG_LEN, (const unsigned char *)p->tok, p->signed_len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		snprintf(err, errlen, "token signature is invalid");
		return -1;
	}
	return 0;
}

/* HMAC through libjwt.  Debian's libjwt 1.10.2-1+deb12u1 compares the encoded MAC
 * with a constant-time loop (jwt_strcmp, the CVE-2024-25189 fix).  libjwt parses the
 * header again (with jansson); the algorithm it used must be the one we checked. */
static int verify_hs(const struct parsed *p, const struct token_keys *k, jwt_alg_t want,
		     char *err, size_t errlen)
{
	jwt_t *j = NULL;
	int rc = jwt_decode(&j, p->tok, k->hs_key, (int)k->hs_len);
	bool ok = rc == 0 && j && jwt_get_alg(j) == want;
	jwt_free(j);
	if (!ok) {
		snprintf(err, errlen, "token signature is invalid");
		return -1;
	}
	return 0;
}

/* NumericDate: an integer or a finite number (fractions truncated, as golang-jwt). */
static int claim_time(struct json_object *payload, const char *key, int64_t *out, bool *has,
		      char *err, size_t errlen)
{
	struct json_object *v;
	*has = false;
	if (!json_object_object_get_ex(payload, key, &v))
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v); /* saturates beyond the int64 range */
	} else if (json_object_is_type(v, json_type_double) && isfinite(json_object_get_double(v))) {
		double d = json_object_get_double(v); /* the cast truncates toward zero */
		*out = d >= 9.2e18 ? INT64_MAX : d <= -9.2e18 ? INT64_MIN : (int64_t)d;
	} else {
		snprintf(err, errlen, "token has invalid claims: %s must be a number", key);
		return -1;
	}
	*has = true;
	return 0;
}

/* Absent or null: none; else an array of strings. */
static int claim_strings(struct json_object *payload, const char *key, char ***out, size_t *n,
			 char *err, size_t errlen)
{
	struct json_object *v;
	*out = NULL;
	*n = 0;
	if (!json_object_object_get_ex(payload, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_array))
		goto bad;
	size_t len = json_object_array_length(v);
	for (size_t i = 0; i < len; i++)
		if (!plain_string(json_object_array_get_idx(v, i)))
			goto bad;
	*out = xcalloc(len + 1, sizeof(char *));
	for (size_t i = 0; i < len; i++)
		(*out)[i] = xstrdup(json_object_get_string(json_object_array_get_idx(v, i)));
	*n = len;
	return 0;
bad:
	snprintf(err, errlen, "token has invalid claims: %s must be an array of strings", key);
	return -1;
}

/* "name": a string, or {"values":["First","Last"]} (cc-backend's cross-login form). */
static int claim_name(struct json_object *payload, char **out, char *err, size_t errlen)
{
	struct json_object *v, *vals;
	const char *s;
	*out = NULL;
	if (!json_object_object_get_ex(payload, "name", &v) || !v)
		return 0;
	if ((s = plain_string(v))) {
		*out = xstrdup(s);
		return 0;
	}
	if (!json_object_is_type(v, json_type_object) || !json_object_object_get_ex(v, "values", &vals) ||
	    !json_object_is_type(vals, json_type_array))
		goto bad;
	struct buf b = BUF_INIT;
	size_t len = json_object_array_length(vals);
	for (size_t i = 0; i < len; i++) {
		if (!(s = plain_string(json_object_array_get_idx(vals, i)))) {
			buf_release(&b);
			goto bad;
		}
		if (i)
			buf_addch(&b, ' ');
		buf_adds(&b, s);
	}
	*out = len ? buf_detach(&b, NULL) : xstrdup("");
	return 0;
bad:
	snprintf(err, errlen, "token has invalid claims: name must be a string or {\"values\":[strings]}");
	return -1;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void token_claims_release(struct token_claims *c)
{
	if (!c)
		return;
	free(c->sub);
	free_strings(c->roles, c->nroles);
	free_strings(c->projects, c->nprojects);
	free(c->name);
	free(c->iss);
	memset(c, 0, sizeof(*c));
}

/* Claims of a token whose signature has been verified. */
static int claims_take(struct json_object *payload, int64_t now, struct token_claims *c,
		       char *err, size_t errlen)
{
	struct json_object *v;
	const char *s;
	if (claim_time(payload, "exp", &c->exp, &c->has_exp, err, errlen) < 0)
		return -1;
	if (c->has_exp && now >= c->exp) {
		snprintf(err, errlen, "token is expired");
		return -1;
	}
	if (claim_time(payload, "nbf", &c->nbf, &c->has_nbf, err, errlen) < 0)
		return -1;
	if (c->has_nbf && now < c->nbf) {
		snprintf(err, errlen, "token is not valid yet");
		return -1;
	}
	/* iat is informational (golang-jwt does not check it by default): ignored when odd */
	char ignored[8];
	if (claim_time(payload, "iat", &c->iat, &c->has_iat, ignored, sizeof(ignored)) < 0)
		c->has_iat = false;
	if (!json_object_object_get_ex(payload, "sub", &v) || !(s = plain_string(v)) || !*s) {
		snprintf(err, errlen, "token has no subject");
		return -1;
	}
	c->sub = xstrdup(s);
	if (json_object_object_get_ex(payload, "iss", &v)) {
		if (!(s = plain_string(v))) {
			snprintf(err, errlen, "token has invalid claims: iss must be a string");
			return -1;
		}
		c->iss = xstrdup(s);
	}
	if (claim_strings(payload, "roles", &c->roles, &c->nroles, err, errlen) < 0 ||
	    claim_strings(payload, "projects", &c->projects, &c->nprojects, err, errlen) < 0 ||
	    claim_name(payload, &c->name, err, errlen) < 0)
		return -1;
	return 0;
}

static int token_verify(const struct token_keys *k, enum verify_mode mode, const char *jwt,
			const char *trusted_issuer, int64_t now, struct token_claims *out,
			char *err, size_t errlen)
{
	struct parsed p;
	jwt_alg_t hs_alg = JWT_ALG_NONE;
	int rc = -1;
	memset(out, 0, sizeof(*out));
	if (token_split(jwt, &p, err, errlen) < 0 || check_header(&p, mode, &hs_alg, err, errlen) < 0)
		goto out;

	EVP_PKEY *key = NULL;
	switch (mode) {
	case MODE_API:
		key = k ? k->pub : NULL;
		if (!key) {
			snprintf(err, errlen, "token authentication is not configured (no JWT_PUBLIC_KEY)");
			goto out;
		}
		break;
	case MODE_HS:
		if (!k || !k->hs_key) {
			snprintf(err, errlen, "login tokens are not configured (no CROSS_LOGIN_JWT_HS512_KEY)");
			goto out;
		}
		break;
	case MODE_COOKIE: {
		/* the key depends on the (not yet verified) issuer */
		struct json_object *v;
		const char *iss;
		if (!json_object_object_get_ex(p.payload, "iss", &v)) {
			key = k ? k->pub : NULL;
			if (!key) {
				snprintf(err, errlen, "token authentication is not configured (no JWT_PUBLIC_KEY)");
				goto out;
			}
			break;
		}
		if (!(iss = plain_string(v))) {
			snprintf(err, errlen, "token has invalid claims: iss must be a string");
			goto out;
		}
		if (!is_set(trusted_issuer) || strcmp(iss, trusted_issuer) != 0) {
			snprintf(err, errlen, "token issuer is not trusted");
			goto out;
		}
		key = k ? k->cross_pub : NULL;
		if (!key) {
			snprintf(err, errlen, "cross-login is not configured (no CROSS_LOGIN_JWT_PUBLIC_KEY)");
			goto out;
		}
		break;
	}
	}

	if (mode == MODE_HS ? verify_hs(&p, k, hs_alg, err, errlen) < 0
			    : verify_eddsa(&p, key, err, errlen) < 0)
		goto out;
	if (claims_take(p.payload, now, out, err, errlen) < 0) {
		token_claims_release(out);
		goto out;
	}
	rc = 0;
out:
	parsed_free(&p);
	return rc;
}

int token_verify_api(const struct token_keys *k, const char *jwt, int64_t now,
		     struct token_claims *out, char *err, size_t errlen)
{
	return token_verify(k, MODE_API, jwt, NULL, now, out, err, errlen);
}

int token_verify_hs(const struct token_keys *k, const char *jwt, int64_t now,
		    struct token_claims *out, char *err, size_t errlen)
{
	return token_verify(k, MODE_HS, jwt, NULL, now, out, err, errlen);
}

int token_verify_cookie(const struct token_keys *k, const char *jwt, const char *trusted_issuer,
			int64_t now, struct token_claims *out, char *err, size_t errlen)
{
	return token_verify(k, MODE_COOKIE, jwt, trusted_issuer, now, out, err, errlen);
}

/* ---- signing ---- */

/* A JSON string as Go's encoding/json writes it (HTML-safe escapes included),
 * so that our tokens are byte for byte those of cc-backend. */
static void json_string_go(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	buf_addch(b, '"');
	for (; *p; p++) {
		unsigned char c = *p;
		switch (c) {
		case '"': buf_adds(b, "\\\""); continue;
		case '\\': buf_adds(b, "\\\\"); continue;
		case '\n': buf_adds(b, "\\n"); continue;
		case '\r': buf_adds(b, "\\r"); continue;
		case '\t': buf_adds(b, "\\t"); continue;
		case '\b': buf_adds(b, "\\b"); continue;
		case '\f': buf_adds(b, "\\f"); continue;
		default: break;
		}
		if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			buf_adds(b, "\\u00");
			buf_addch(b, hex[c >> 4]);
			buf_addch(b, hex[c & 15]);
		} else if (c == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
			buf_adds(b, p[2] == 0xa8 ? "\\u2028" : "\\u2029");
			p += 2;
		} else {
			buf_addch(b, (char)c);
		}
	}
	buf_addch(b, '"');
}

static bool sign_string_ok(const char *s)
{
	return s && str_utf8_valid(s, strlen(s));
}

char *token_sign(const struct token_keys *k, const char *sub, const char *const *roles,
		 size_t nroles, int64_t iat, int64_t max_age, char *err, size_t errlen)
{
	if (!k || !k->priv) {
		snprintf(err, errlen, "cannot sign tokens: JWT_PRIVATE_KEY is not set");
		return NULL;
	}
	if (!sign_string_ok(sub) || !*sub) {
		snprintf(err, errlen, "cannot sign a token: the subject must be non-empty UTF-8");
		return NULL;
	}
	for (size_t i = 0; i < nroles; i++) {
		if (!sign_string_ok(roles[i])) {
			snprintf(err, errlen, "cannot sign a token: role %zu is not UTF-8", i + 1);
			return NULL;
		}
	}
	if (max_age > 0 && iat > INT64_MAX - max_age) {
		snprintf(err, errlen, "cannot sign a token: iat + max-age overflows");
		return NULL;
	}

	struct buf claims = BUF_INIT;
	buf_addch(&claims, '{');
	if (max_age > 0)
		buf_addf(&claims, "\"exp\":%lld,", (long long)(iat + max_age));
	buf_addf(&claims, "\"iat\":%lld,\"roles\":[", (long long)iat);
	for (size_t i = 0; i < nroles; i++) {
		if (i)
			buf_addch(&claims, ',');
		json_string_go(&claims, roles[i]);
	}
	buf_adds(&claims, "],\"sub\":");
	json_string_go(&claims, sub);
	buf_addch(&claims, '}');

	struct arena a;
	arena_init(&a, 4096);
	struct buf tok = BUF_INIT;
	buf_adds(&tok, eddsa_header_b64);
	buf_addch(&tok, '.');
	buf_adds(&tok, b64_encode(&a, claims.data, claims.len, true));
	buf_release(&claims);

	unsigned char sig[ED25519_SIG_LEN];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->priv) == 1 &&
		 EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)tok.data, tok.len) == 1 &&
		 siglen == ED25519_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		snprintf(err, errlen, "cannot sign a token: Ed25519 signing failed");
		buf_release(&tok);
		arena_release(&a);
		return NULL;
	}
	buf_addch(&tok, '.');
	buf_adds(&tok, b64_encode(&a, sig, siglen, true));
	arena_release(&a);
	return buf_detach(&tok, NULL);
}

int token_print_keypair(FILE *out)
{
	unsigned char pub[ED25519_KEY_LEN], priv[ED25519_PRIV_LEN];
	if (crypto_ed25519_keypair(pub, priv) < 0)
		return log_err("cannot generate an Ed25519 key pair");
	struct arena a;
	arena_init(&a, 1024);
	char *pub_b64 = b64_encode(&a, pub, sizeof(pub), false);
	char *priv_b64 = b64_encode(&a, priv, sizeof(priv), false);
	OPENSSL_cleanse(priv, sizeof(priv));
	fprintf(out, "JWT_PUBLIC_KEY=\"%s\"\nJWT_PRIVATE_KEY=\"%s\"\n", pub_b64, priv_b64);
	OPENSSL_cleanse(priv_b64, strlen(priv_b64));
	arena_release(&a);
	if (fflush(out) != 0 || ferror(out))
		return log_err("cannot write the key pair");
	return 0;
}
