/* crypto: the few primitives jobscope needs, through OpenSSL's libcrypto. */
#ifndef JOBSCOPE_CRYPTO_H
#define JOBSCOPE_CRYPTO_H

#include <stddef.h>

#define SHA256_LEN 32

int crypto_random(void *out, size_t n); /* 0, or -1 if the system RNG fails */
void crypto_sha256(const void *p, size_t n, unsigned char out[SHA256_LEN]);
void crypto_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
			unsigned char out[SHA256_LEN]);
/* A fresh Ed25519 key pair as raw bytes: pub 32, priv 64 (seed || pub, the Go/cc-backend layout). */
int crypto_ed25519_keypair(unsigned char pub[32], unsigned char priv[64]);

#endif
