#include "config.h"
#include "resp.h"
#include "arena.h"

#include <json-c/json.h>
#include <string.h>

void resp_init(struct resp *w, struct arena *a)
{
	memset(w, 0, sizeof(*w));
	w->a = a;
	w->status = 200;
	buf_init_arena(&w->headers, a);
	buf_init_arena(&w->body, a);
}

static bool header_safe(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

int resp_header(struct resp *w, const char *name, const char *value)
{
	if (!header_safe(name) || !header_safe(value) || strchr(name, ':'))
		return -1;
	buf_addf(&w->headers, "%s: %s\r\n", name, value);
	return 0;
}

void resp_cookie(struct resp *w, const char *name, const char *value, int64_t max_age, unsigned flags)
{
	struct buf c;
	buf_init_arena(&c, w->a);
	buf_addf(&c, "%s=%s; Path=/; HttpOnly; SameSite=%s", name, max_age < 0 ? "" : value,
		 flags & COOKIE_STRICT ? "Strict" : "Lax");
	if (max_age < 0)
		buf_adds(&c, "; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
	else if (max_age > 0)
		buf_addf(&c, "; Max-Age=%lld", (long long)max_age);
	if (flags & COOKIE_SECURE)
		buf_adds(&c, "; Secure");
	resp_header(w, "Set-Cookie", c.data);
}

void resp_redirect(struct resp *w, int status, const char *location)
{
	w->status = status;
	if (resp_header(w, "Location", location) < 0)
		resp_header(w, "Location", "/");
}

void resp_json(struct resp *w, int status, struct json_object *o)
{
	w->status = status;
	w->content_type = "application/json";
	buf_reset(&w->body);
	buf_adds(&w->body, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	buf_addch(&w->body, '\n');
}

const char *resp_status_text(int s)
{
	switch (s) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Request Entity Too Large";
	case 414: return "Request URI Too Long";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	}
	return "Unknown";
}

void resp_serialize(const struct resp *w, bool https, bool head, struct buf *out)
{
	buf_addf(out, "Status: %d %s\r\n", w->status, resp_status_text(w->status));
	/* COMPAT a.1: security headers on every response */
	buf_adds(out, "X-Content-Type-Options: nosniff\r\n"
		      "X-Frame-Options: DENY\r\n"
		      "Referrer-Policy: same-origin\r\n"
		      "Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'\r\n");
	if (https)
		buf_adds(out, "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n");
	if (w->body.len || w->content_type)
		buf_addf(out, "Content-Type: %s\r\n", w->content_type ? w->content_type : "text/plain; charset=utf-8");
	buf_add(out, w->headers.data, w->headers.len);
	buf_addf(out, "Content-Length: %zu\r\n\r\n", w->body.len);
	if (!head)
		buf_add(out, w->body.data, w->body.len);
}
