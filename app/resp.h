/* resp: a buffered response; nothing reaches nginx before resp_serialize. */
#ifndef JOBSCOPE_RESP_H
#define JOBSCOPE_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct arena;
struct json_object;

struct resp {
	struct arena *a;
	int status;
	const char *content_type;
	struct buf headers;   /* "Name: value\r\n" lines added by handlers */
	struct buf body;
	const char *error;    /* message for the error page / error JSON */
};

void resp_init(struct resp *w, struct arena *a);
/* Add a header; names and values with CR, LF or NUL are refused (-1). */
int resp_header(struct resp *w, const char *name, const char *value);
enum cookie_flags { COOKIE_SECURE = 1, COOKIE_STRICT = 2 };
/* Set-Cookie with HttpOnly, Path=/ and SameSite=Lax (Strict with COOKIE_STRICT);
 * max_age < 0 deletes the cookie, 0 makes a browser-session cookie. */
void resp_cookie(struct resp *w, const char *name, const char *value, int64_t max_age, unsigned flags);
void resp_redirect(struct resp *w, int status, const char *location);
/* Put a json-c value as the body with application/json and a final newline. */
void resp_json(struct resp *w, int status, struct json_object *o);
/* Standard reason phrase ("Not Found"), as Go's http.StatusText. */
const char *resp_status_text(int status);
/* CGI response: Status, headers, security headers, Content-Length, body. HEAD drops the body. */
void resp_serialize(const struct resp *w, bool https, bool head, struct buf *out);

#endif
