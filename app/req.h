/* req: one HTTP request as nginx hands it over FastCGI, parsed with caps. */
#ifndef JOBSCOPE_REQ_H
#define JOBSCOPE_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct app;
struct route;
struct user;

enum method {
	M_GET = 1 << 0, M_HEAD = 1 << 1, M_POST = 1 << 2, M_PUT = 1 << 3,
	M_PATCH = 1 << 4, M_DELETE = 1 << 5, M_OPTIONS = 1 << 6, M_OTHER = 1 << 7,
};

struct kv {
	const char *key, *val;
};
struct kvlist {
	struct kv *v;
	size_t n, cap;
};

/* limits; nginx enforces its own too, these hold when it is configured looser */
#define REQ_MAX_URI 8192
#define REQ_MAX_HEADERS 16384   /* all HTTP_* parameters together */
#define REQ_MAX_COOKIE 8192
#define REQ_MAX_FIELDS 256      /* query + form pairs */
#define REQ_MAX_PATH_ARGS 4

typedef long (*req_read_fn)(void *ctx, char *buf, size_t n);

struct req {
	struct arena *a;
	struct app *app;
	char **envp;
	enum method method;
	const char *method_name;
	const char *uri;           /* REQUEST_URI as sent */
	const char *path;          /* decoded path, no query */
	const char *query;         /* raw query string ("" if none) */
	struct kvlist params;      /* decoded query parameters, in order */
	struct kvlist form;        /* decoded x-www-form-urlencoded body */
	struct kvlist cookies;
	const char *content_type;  /* "" if none */
	const char *body;
	size_t body_len;
	const char *remote_addr;
	bool https;
	const char *request_id;
	const char *path_args[REQ_MAX_PATH_ARGS];
	const struct route *route;
	struct user *user;         /* set by auth; NULL when anonymous */
	const char *session_id;    /* raw session cookie when it named a live session */
	const char *csrf_pre;      /* pre-login CSRF secret created during this request */
	const char *usercfg_text;  /* the user's settings as read with the session (usercfg.c) */
	struct json_object *usercfg; /* usercfg_load's answer, read once per request */
	const char *error;         /* set on parse failure: a sentence for the error page */
};

/* Parse envp (+ body through read_fn).  Returns 0, or an HTTP status (400,
 * 413, 414, 431) with r->error set; the body is not read when it is too large. */
int req_parse(struct req *r, struct arena *a, char **envp, req_read_fn read_fn,
	      void *read_ctx, int64_t max_body);
const char *req_env(const struct req *r, const char *name);
/* HTTP header by name ("X-Auth-Token"; case-insensitive), or NULL. */
const char *req_header(const struct req *r, const char *name);
const char *req_param(const struct req *r, const char *key);  /* first value */
const char *req_form(const struct req *r, const char *key);
const char *req_cookie(const struct req *r, const char *name);
/* Parse "a=1&b=2" into list; -1 on bad encoding or too many fields. */
int req_parse_urlencoded(struct arena *a, const char *s, size_t len, struct kvlist *out);
const char *method_name(enum method m);

#endif
