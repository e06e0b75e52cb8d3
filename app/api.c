#include "config.h"
#include "api.h"
#include "app.h"
#include "archive.h"
#include "arena.h"
#include "auth.h"
#include "buf.h"
#include "db.h"
#include "job.h"
#include "jsonio.h"
#include "log.h"
#include "multipart.h"
#include "req.h"
#include "resp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void put_text(struct resp *w, int status, const char *fmt, va_list ap, const char *key, bool error)
{
	struct buf msg;
	buf_init_arena(&msg, w->a);
	buf_vaddf(&msg, fmt, ap);
	struct json_object *o = arena_cleanup_add(w->a, jsonio_put, json_object_new_object());
	if (error)
		json_object_object_add(o, "status", json_object_new_string(resp_status_text(status)));
	json_object_object_add(o, key, json_object_new_string_len(msg.data, (int)msg.len));
	resp_json(w, status, o);
	if (error)
		w->error = msg.data;
}

int api_error(struct resp *w, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	put_text(w, status, fmt, ap, "error", true);
	va_end(ap);
	return status;
}

int api_msg(struct resp *w, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	put_text(w, status, fmt, ap, "msg", false);
	va_end(ap);
	return status;
}

int api_json(struct resp *w, int status, struct json_object *o)
{
	resp_json(w, status, o);
	return status;
}

int api_json_text(struct resp *w, int status, const char *text, size_t len)
{
	w->status = status;
	w->content_type = "application/json";
	buf_reset(&w->body);
	buf_add(&w->body, text, len);
	buf_addch(&w->body, '\n');
	return status;
}

struct json_object *api_body(struct req *r, char *err, size_t errlen)
{
	size_t i = 0;
	while (i < r->body_len && strchr(" \t\r\n", r->body[i]))
		i++;
	if (i == r->body_len) {
		snprintf(err, errlen, "EOF");
		return NULL;
	}
	struct json_object *o = jsonio_parse(r->body, r->body_len, err, errlen);
	if (!o)
		return NULL;
	return arena_cleanup_add(r->a, jsonio_put, o);
}

bool api_body_null(const struct req *r)
{
	const char *s = r->body, *e = r->body + r->body_len;
	while (s < e && strchr(" \t\r\n", *s))
		s++;
	while (e > s && strchr(" \t\r\n", e[-1]))
		e--;
	return e - s == 4 && memcmp(s, "null", 4) == 0;
}

static int type_err(char *err, size_t errlen, const char *key, const char *want, struct json_object *v)
{
	snprintf(err, errlen, "%s: expected %s, got %s", key, want, jsonio_type_name(v));
	return -1;
}

int api_decode(struct arena *a, struct json_object *o, const struct api_field *f, size_t n,
	       char *err, size_t errlen)
{
	if (!json_object_is_type(o, json_type_object))
		return type_err(err, errlen, "body", "a JSON object", o);
	json_object_object_foreach(o, k, v) {
		const struct api_field *fld = NULL;
		for (size_t i = 0; i < n; i++)
			if (strcasecmp(k, f[i].name) == 0) {
				fld = &f[i];
				break;
			}
		if (!fld) {
			snprintf(err, errlen, "json: unknown field \"%.60s\"", k);
			return -1;
		}
		if (json_object_is_type(v, json_type_null))
			continue;
		switch (fld->type) {
		case AF_I64:
			if (!json_object_is_type(v, json_type_int))
				return type_err(err, errlen, fld->name, "an integer", v);
			errno = 0;
			*(int64_t *)fld->dst = json_object_get_int64(v);
			if (errno) {
				snprintf(err, errlen, "%s: number out of range", fld->name);
				return -1;
			}
			break;
		case AF_STR:
			if (!json_object_is_type(v, json_type_string))
				return type_err(err, errlen, fld->name, "a string", v);
			*(const char **)fld->dst = arena_strndup(a, json_object_get_string(v),
								 (size_t)json_object_get_string_len(v));
			break;
		case AF_OBJ:
			if (!json_object_is_type(v, json_type_object))
				return type_err(err, errlen, fld->name, "an object", v);
			*(struct json_object **)fld->dst = v;
			break;
		case AF_ARR:
			if (!json_object_is_type(v, json_type_array))
				return type_err(err, errlen, fld->name, "an array", v);
			*(struct json_object **)fld->dst = v;
			break;
		}
		if (fld->present)
			*fld->present = true;
	}
	return 0;
}

int api_decode_tags(struct arena *a, struct json_object *o, struct api_tag **out, size_t *n,
		    char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	if (json_object_is_type(o, json_type_null))
		return 0;
	if (!json_object_is_type(o, json_type_array))
		return type_err(err, errlen, "body", "an array of tags", o);
	size_t len = json_object_array_length(o);
	struct api_tag *t = arena_calloc(a, len ? len : 1, sizeof(*t));
	for (size_t i = 0; i < len; i++) {
		t[i].type = t[i].name = t[i].scope = "";
		const struct api_field f[] = {
			{"type", AF_STR, &t[i].type, NULL},
			{"name", AF_STR, &t[i].name, NULL},
			{"scope", AF_STR, &t[i].scope, NULL},
		};
		struct json_object *e = json_object_array_get_idx(o, i);
		if (json_object_is_type(e, json_type_null))
			continue;
		if (!json_object_is_type(e, json_type_object))
			return type_err(err, errlen, "tags[]", "an object", e);
		if (api_decode(a, e, f, 3, err, errlen) < 0)
			return -1;
	}
	*out = t;
	*n = len;
	return 0;
}

int api_parse_i64(const char *s, int64_t *out, char *err, size_t errlen)
{
	const char *p = *s == '-' || *s == '+' ? s + 1 : s;
	if (!*p || strspn(p, "0123456789") != strlen(p)) {
		snprintf(err, errlen, "strconv.ParseInt: parsing \"%.40s\": invalid syntax", s);
		return -1;
	}
	errno = 0;
	long long v = strtoll(s, NULL, 10);
	if (errno == ERANGE) {
		snprintf(err, errlen, "strconv.ParseInt: parsing \"%.40s\": value out of range", s);
		return -1;
	}
	*out = v;
	return 0;
}

bool api_tag_writable(const struct user *u, const char *scope)
{
	if (!u)
		return false;
	bool api_only = u->roles == ROLE_API;
	if (strcmp(scope, "admin") == 0)
		return (u->roles & ROLE_ADMIN) || api_only;
	if (strcmp(scope, "global") == 0)
		return (u->roles & (ROLE_ADMIN | ROLE_SUPPORT)) || api_only;
	return strcmp(scope, u->username) == 0;
}

bool api_tag_admin_readable(const struct user *u)
{
	return u && (u->roles & (ROLE_ADMIN | ROLE_SUPPORT));
}

int api_archive_set_meta(struct arena *a, const struct job *j, const char *key, struct json_object *value,
			 char *err, size_t errlen)
{
	struct archive *ar = the_app->archive;
	char jobkey[1024], metakey[1100];
	if (j->state == JOB_RUNNING || !ar)
		return 0;
	if (archive_job_key(j->cluster, j->job_id, j->start_time, jobkey, sizeof(jobkey)) < 0)
		return 0; /* a cluster name no archive could hold: nothing there */
	size_t len;
	errno = 0;
	char *text = archive_read_meta(ar, jobkey, &len, err, errlen);
	if (!text)
		return errno == ENOENT ? 0 : -1; /* not archived (yet): nothing to rewrite */
	struct json_object *meta = jsonio_parse(text, len, err, errlen);
	free(text);
	if (!meta)
		return -1;
	arena_cleanup_add(a, jsonio_put, meta);
	if (!json_object_is_type(meta, json_type_object)) {
		snprintf(err, errlen, "%s/meta.json is not a JSON object", jobkey);
		return -1;
	}
	json_object_object_add(meta, key, json_object_get(value));
	size_t outlen;
	const char *out = json_object_to_json_string_length(meta, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &outlen);
	struct buf b;
	buf_init_arena(&b, a);
	buf_add(&b, out, outlen);
	buf_addch(&b, '\n'); /* as Go's encoder ends the file */
	snprintf(metakey, sizeof(metakey), "%s/meta.json", jobkey);
	return ar->ops->write(ar, metakey, b.data, b.len, err, errlen);
}

static const char sql_all_tags[] =
	"SELECT t.tag_type, t.tag_name, t.tag_scope FROM jobtag jt JOIN tag t ON t.id = jt.tag_id "
	"WHERE jt.job_id = $1::bigint ORDER BY jt.insert_ts, t.id";

int api_archive_sync_tags(struct arena *a, const struct job *j, char *err, size_t errlen)
{
	if (j->state == JOB_RUNNING || !the_app->archive)
		return 0;
	const char *p[] = {arena_printf(a, "%lld", (long long)j->id)};
	PGresult *res = db_query(a, sql_all_tags, 1, p);
	if (!res) {
		snprintf(err, errlen, "reading the job's tags failed: %s", db_last_error());
		return -1;
	}
	struct json_object *tags = arena_cleanup_add(a, jsonio_put, json_object_new_array());
	for (int i = 0; i < PQntuples(res); i++) {
		struct json_object *t = json_object_new_object();
		json_object_object_add(t, "type", json_object_new_string(PQgetvalue(res, i, 0)));
		json_object_object_add(t, "name", json_object_new_string(PQgetvalue(res, i, 1)));
		json_object_object_add(t, "scope", json_object_new_string(PQgetvalue(res, i, 2)));
		json_object_array_add(tags, t);
	}
	return api_archive_set_meta(a, j, "tags", tags, err, errlen);
}

/* a multipart body that does not parse is a 400, not a form without fields */
int api_bad_form(struct req *r, struct resp *w)
{
	struct multipart m;
	char err[160];
	if (multipart_is(r) && multipart_parse(r->a, r->content_type, r->body, r->body_len, &m, err, sizeof(err)) < 0)
		return api_error(w, 400, "the form could not be read: %s", err);
	return 0;
}

