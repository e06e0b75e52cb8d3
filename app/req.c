#include "config.h"
#include "req.h"
#include "arena.h"
#include "str.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum method m;
} methods[] = {
	{"GET", M_GET}, {"HEAD", M_HEAD}, {"POST", M_POST}, {"PUT", M_PUT},
	{"PATCH", M_PATCH}, {"DELETE", M_DELETE}, {"OPTIONS", M_OPTIONS},
};

const char *method_name(enum method m)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (methods[i].m == m)
			return methods[i].name;
	return "OTHER";
}

static void kv_add(struct arena *a, struct kvlist *l, const char *k, const char *v)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct kv *nv = arena_alloc(a, cap * sizeof(*nv));
		if (l->n)
			memcpy(nv, l->v, l->n * sizeof(*nv));
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n].key = k;
	l->v[l->n].val = v;
	l->n++;
}

static const char *kv_get(const struct kvlist *l, const char *k)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, k) == 0)
			return l->v[i].val;
	return NULL;
}

const char *req_env(const struct req *r, const char *name)
{
	size_t n = strlen(name);
	for (char **e = r->envp; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

const char *req_header(const struct req *r, const char *name)
{
	/* CGI spells headers HTTP_UPPER_CASE_WITH_UNDERSCORES */
	char key[128] = "HTTP_";
	size_t n = strlen(name);
	if (n + 6 > sizeof(key))
		return NULL;
	for (size_t i = 0; i < n; i++)
		key[5 + i] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
	key[5 + n] = '\0';
	if (strcmp(key, "HTTP_CONTENT_TYPE") == 0)
		return req_env(r, "CONTENT_TYPE");
	return req_env(r, key);
}

const char *req_param(const struct req *r, const char *key) { return kv_get(&r->params, key); }
const char *req_form(const struct req *r, const char *key) { return kv_get(&r->form, key); }
const char *req_cookie(const struct req *r, const char *name) { return kv_get(&r->cookies, name); }

int req_parse_urlencoded(struct arena *a, const char *s, size_t len, struct kvlist *out)
{
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && s[end] != '&')
			end++;
		if (end > i) {
			size_t eq = i;
			while (eq < end && s[eq] != '=')
				eq++;
			if (out->n >= REQ_MAX_FIELDS)
				return -1;
			char *k = str_url_decode(a, s + i, eq - i, true);
			char *v = eq < end ? str_url_decode(a, s + eq + 1, end - eq - 1, true) : arena_strdup(a, "");
			if (!k || !v)
				return -1;
			kv_add(a, out, k, v);
		}
		i = end + 1;
	}
	return 0;
}

static void parse_cookies(struct req *r, const char *h)
{
	/* "a=1; b=2": values are opaque tokens, not decoded */
	const char *p = h;
	while (*p) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *eq = strchr(p, '='), *semi = strchr(p, ';');
		if (!semi)
			semi = p + strlen(p);
		if (!eq || eq > semi) {
			p = semi;
			continue;
		}
		const char *k = arena_strndup(r->a, p, (size_t)(eq - p));
		const char *v = eq + 1;
		size_t vl = (size_t)(semi - v);
		if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
			v++;
			vl -= 2;
		}
		if (r->cookies.n < REQ_MAX_FIELDS)
			kv_add(r->a, &r->cookies, k, arena_strndup(r->a, v, vl));
		p = semi;
	}
}

int req_parse(struct req *r, struct arena *a, char **envp, req_read_fn read_fn,
	      void *read_ctx, int64_t max_body)
{
	memset(r, 0, sizeof(*r));
	r->a = a;
	r->envp = envp;

	const char *m = req_env(r, "REQUEST_METHOD");
	r->method = M_OTHER;
	r->method_name = m ? m : "";
	for (size_t i = 0; m && i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(m, methods[i].name) == 0)
			r->method = methods[i].m;
	r->remote_addr = req_env(r, "REMOTE_ADDR");
	if (!r->remote_addr)
		r->remote_addr = "";
	const char *https = req_env(r, "HTTPS");
	const char *xfp = req_header(r, "X-Forwarded-Proto");
	r->https = (https && (strcasecmp(https, "on") == 0 || strcmp(https, "1") == 0)) ||
		   (xfp && strcasecmp(xfp, "https") == 0);
	r->request_id = req_env(r, "REQUEST_ID");
	const char *ct = req_env(r, "CONTENT_TYPE");
	r->content_type = ct ? ct : "";
	r->path = "/";
	r->query = "";
	r->uri = "";

	/* 431: header fields and cookies */
	size_t hdr = 0;
	for (char **e = envp; e && *e; e++)
		if (strncmp(*e, "HTTP_", 5) == 0)
			hdr += strlen(*e);
	const char *cookie = req_env(r, "HTTP_COOKIE");
	if (hdr > REQ_MAX_HEADERS || (cookie && strlen(cookie) > REQ_MAX_COOKIE)) {
		r->error = "The request's header fields are too large.";
		return 431;
	}
	if (cookie)
		parse_cookies(r, cookie);

	/* 414 and the path */
	const char *uri = req_env(r, "REQUEST_URI");
	if (!uri)
		uri = req_env(r, "DOCUMENT_URI");
	if (!uri)
		uri = "/";
	if (strlen(uri) > REQ_MAX_URI) {
		r->error = "The request URI is too long.";
		return 414;
	}
	r->uri = uri;
	const char *q = strchr(uri, '?');
	size_t plen = q ? (size_t)(q - uri) : strlen(uri);
	char *path = str_url_decode(a, uri, plen, false);
	if (!path || path[0] != '/') {
		r->error = "The request path is not valid.";
		return 400;
	}
	r->path = path;
	if (q) {
		r->query = q + 1;
		if (req_parse_urlencoded(a, r->query, strlen(r->query), &r->params) < 0) {
			r->error = "The query string is not valid (bad percent-encoding, NUL, invalid UTF-8, or too many parameters).";
			return 400;
		}
	}

	/* 413 before reading anything */
	const char *cl = req_env(r, "CONTENT_LENGTH");
	int64_t len = 0;
	if (cl && *cl && str_to_i64(cl, 0, INT64_MAX, &len) < 0) {
		r->error = "Content-Length is not a number.";
		return 400;
	}
	if (len > max_body) {
		r->error = "The request body is too large.";
		return 413;
	}
	if (len > 0) {
		char *body = arena_alloc(a, (size_t)len + 1);
		size_t got = 0;
		while (got < (size_t)len) {
			long n = read_fn ? read_fn(read_ctx, body + got, (size_t)len - got) : -1;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (got != (size_t)len) {
			r->error = "The request body ended early.";
			return 400;
		}
		body[got] = '\0';
		r->body = body;
		r->body_len = got;
	} else {
		r->body = "";
	}
	if (strncasecmp(r->content_type, "application/x-www-form-urlencoded", 33) == 0) {
		if (memchr(r->body, '\0', r->body_len) ||
		    req_parse_urlencoded(a, r->body, r->body_len, &r->form) < 0) {
			/* REST clients (curl -d) label JSON bodies as forms; a job script with
			 * "%j" is no form.  The API reads the body as JSON, so only pages and
			 * the session helpers refuse a broken form. */
			if (str_starts(r->path, "/api/") || str_starts(r->path, "/userapi/")) {
				r->form.n = 0;
			} else {
				r->error = "The form data is not valid (bad percent-encoding, NUL, invalid UTF-8, or too many fields).";
				return 400;
			}
		}
	}
	return 0;
}
