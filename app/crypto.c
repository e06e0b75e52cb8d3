#include "config.h"
#include "crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>

int crypto_random(void *out, size_t n)
{
	return RAND_bytes(out, (int)n) == 1 ? 0 : -1;
}

void crypto_sha256(const void *p, size_t n, unsigned char out[SHA256_LEN])
{
	SHA256(p, n, out);
}

void crypto_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
			unsigned char out[SHA256_LEN])
{
	unsigned int len = SHA256_LEN;
	HMAC(EVP_sha256(), key, (int)keylen, p, n, out, &len);
}

int crypto_ed25519_keypair(unsigned char pub[32], unsigned char priv[64])
{
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	int rc = -1;
	size_t plen = 32, slen = 32;
	if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &k) != 1)
		goto out;
	if (EVP_PKEY_get_raw_private_key(k, priv, &slen) != 1 || slen != 32)
		goto out;
	if (EVP_PKEY_get_raw_public_key(k, pub, &plen) != 1 || plen != 32)
		goto out;
	memcpy(priv + 32, pub, 32);
	rc = 0;
out:
	EVP_PKEY_free(k);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}
