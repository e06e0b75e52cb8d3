/* jsonio: JSON parsing of untrusted text with limits, and small typed getters. */
#ifndef JOBSCOPE_JSONIO_H
#define JOBSCOPE_JSONIO_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONIO_MAX_DEPTH 32

/* Process-wide json-c settings (doubles as %.15g, not %.17g's 0.10000000000000001). */
void jsonio_init(void);
/* json_object_put for arena_cleanup_add */
void jsonio_put(void *o);

/* Parse exactly one JSON value (trailing garbage other than white space is an
 * error) with a depth limit and UTF-8 validation.  On error returns NULL and
 * writes "line L, column C: reason" into err.  The caller owns the result. */
struct json_object *jsonio_parse(const char *s, size_t len, char *err, size_t errlen);
/* Read a whole file (at most max bytes) and parse it; err gets "path: ..." */
struct json_object *jsonio_parse_file(const char *path, size_t max, char *err, size_t errlen);
/* Read a whole file into a heap string (NUL-terminated); NULL with err set. */
char *jsonio_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen);

const char *jsonio_type_name(struct json_object *o);
/* borrowed getters; NULL / default when absent or of another type */
struct json_object *jsonio_get(struct json_object *o, const char *key);
const char *jsonio_str(struct json_object *o, const char *key);

#endif
