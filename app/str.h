/* str: checked parsing and small string helpers for untrusted input. */
#ifndef JOBSCOPE_STR_H
#define JOBSCOPE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;

/* Whole string must be a decimal integer in [min, max]; no spaces, no sign tricks. */
int str_to_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Go-style duration ("168h", "90m", "1h30m", "45s", "2000h"); result in seconds. */
int str_duration(const char *s, int64_t *seconds);
bool str_utf8_valid(const char *s, size_t len);
/* Constant-time comparison of two byte strings (length difference returns false, in constant time for the content). */
bool str_ct_eq(const void *a, size_t alen, const void *b, size_t blen);
bool str_starts(const char *s, const char *prefix);
bool str_ends(const char *s, const char *suffix);
/* Percent-decoding ('+' is a space when plus_space); NULL on bad escapes, %00 or invalid UTF-8. */
char *str_url_decode(struct arena *a, const char *s, size_t len, bool plus_space);
/* A name that may become part of a file path: non-empty, at most 255 bytes,
 * no '/', '\\', NUL, no ".." and not "." */
bool str_safe_name(const char *s);

/* base64 (standard with padding, or URL-safe without padding) */
size_t b64_encoded_len(size_t n, bool url);
char *b64_encode(struct arena *a, const void *p, size_t n, bool url);
/* decodes standard or URL-safe input, padding optional; -1 on garbage. out must hold n*3/4+3 bytes */
int b64_decode(const char *s, size_t n, unsigned char *out, size_t *outlen);
void hex_encode(const unsigned char *p, size_t n, char *out); /* out: 2n+1 */

#endif
