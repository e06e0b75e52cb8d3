/* api: what the REST handlers (h_api_*.c) share: JSON bodies in with caps and
 * strict decoding, cc-backend's JSON answers and error JSON out, the tag scope
 * rules (COMPAT f) and the rewrite of a finished job's meta.json.
 *
 * Every writer here fills w completely and returns the HTTP status, so that a
 * handler can say "return api_error(w, 400, ...)". */
#ifndef JOBSCOPE_API_H
#define JOBSCOPE_API_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct buf;
struct job;
struct req;
struct resp;
struct user;

/* cc-backend's error JSON {"status":"<StatusText>","error":"<message>"} + newline */
int api_error(struct resp *w, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* {"msg":"<message>"} */
int api_msg(struct resp *w, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* o as the body (application/json, final newline); o stays the caller's */
int api_json(struct resp *w, int status, struct json_object *o);
/* a finished JSON text as the body (a newline is added) */
int api_json_text(struct resp *w, int status, const char *text, size_t len);

/* The request body as JSON (depth-limited, UTF-8 checked, owned by the request
 * arena).  NULL with err set: "EOF" for an empty body, as Go's decoder says,
 * else "line L, column C: reason". */
struct json_object *api_body(struct req *r, char *err, size_t errlen);
/* Is the body the JSON literal null (Go decodes it into a nil slice)? */
bool api_body_null(const struct req *r);
/* a multipart body that does not parse: the 400 error JSON sent, its status returned; 0: fine */
int api_bad_form(struct req *r, struct resp *w);

/* Strict decoding of a flat JSON object into C values, as Go's decoder with
 * DisallowUnknownFields: keys match case-insensitively, null leaves a field
 * absent, a wrong type or an unknown key is an error
 * ("jobId: expected an integer, got a string", "json: unknown field \"x\""). */
enum api_ftype { AF_I64, AF_STR, AF_OBJ, AF_ARR };
struct api_field {
	const char *name;
	enum api_ftype type;
	void *dst;        /* int64_t *, const char ** (arena copy), struct json_object ** (borrowed) */
	bool *present;    /* may be NULL */
};
int api_decode(struct arena *a, struct json_object *o, const struct api_field *f, size_t n,
	       char *err, size_t errlen);

/* A tag list [{"type","name","scope"}] (strictly decoded; scope as given, "" when absent) */
struct api_tag {
	const char *type, *name, *scope;
};
int api_decode_tags(struct arena *a, struct json_object *o, struct api_tag **out, size_t *n,
		    char *err, size_t errlen);

/* A path segment as a database id or timestamp: -1 with Go's strconv text in err */
int api_parse_i64(const char *s, int64_t *out, char *err, size_t errlen);

/* COMPAT f: may this user attach tags of this scope? admin: admin or api-only;
 * global: admin, support or api-only; a username: that user. */
bool api_tag_writable(const struct user *u, const char *scope);
/* May this user read admin-scope tags? (admin, support) */
bool api_tag_admin_readable(const struct user *u);

/* Replace one top-level key of a finished job's archived meta.json (tags on
 * tag changes, metaData on edit_meta) through the archive interface.  A job
 * that is running or has no meta.json is left alone (0).  -1 with err. */
int api_archive_set_meta(struct arena *a, const struct job *j, const char *key, struct json_object *value,
			 char *err, size_t errlen);
/* The same with the job's tags as the database has them now (all scopes). */
int api_archive_sync_tags(struct arena *a, const struct job *j, char *err, size_t errlen);

#endif
