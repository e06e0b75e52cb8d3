#include "config.h"
#include "multipart.h"
#include "arena.h"
#include "req.h"
#include "str.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define BOUNDARY_MAX 70

bool multipart_is(const struct req *r)
{
	return r->content_type && strncasecmp(r->content_type, "multipart/form-data", 19) == 0 &&
	       (r->content_type[19] == ';' || r->content_type[19] == ' ' || r->content_type[19] == '\0');
}

static const char *skip_ows(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

static bool tchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* One parameter "; key=value" of a header value starting at *sp; the value is
 * a token or a quoted string.  0 with key/value (arena), 1 at the end, -1 on
 * bad syntax. */
static int next_param(struct arena *a, const char **sp, const char *end, const char **key, const char **val)
{
	const char *s = skip_ows(*sp, end);
	if (s == end)
		return 1;
	if (*s != ';')
		return -1;
	s = skip_ows(s + 1, end);
	const char *k = s;
	while (s < end && tchar(*s))
		s++;
	if (s == k)
		return -1;
	size_t klen = (size_t)(s - k);
	s = skip_ows(s, end);
	if (s == end || *s != '=')
		return -1;
	s = skip_ows(s + 1, end);
	char *v;
	if (s < end && *s == '"') {
		v = arena_alloc(a, (size_t)(end - s) + 1);
		size_t n = 0;
		s++;
		for (;;) {
			if (s == end)
				return -1; /* unterminated */
			if (*s == '"')
				break;
			if (*s == '\\' && s + 1 < end)
				s++;
			v[n++] = *s++;
		}
		v[n] = '\0';
		s++;
	} else {
		const char *vs = s;
		while (s < end && tchar(*s))
			s++;
		if (s == vs)
			return -1;
		v = arena_strndup(a, vs, (size_t)(s - vs));
	}
	*key = arena_strndup(a, k, klen);
	*val = v;
	*sp = s;
	return 0;
}

/* "multipart/form-data; boundary=..." -> the boundary (arena) or NULL */
static const char *boundary_of(struct arena *a, const char *ct)
{
	const char *s = strchr(ct, ';');
	if (!s)
		return NULL;
	const char *end = ct + strlen(ct);
	const char *k, *v;
	int rc;
	while ((rc = next_param(a, &s, end, &k, &v)) == 0)
		if (strcasecmp(k, "boundary") == 0)
			return v;
	return NULL;
}

static bool boundary_ok(const char *b)
{
	size_t n = strlen(b);
	if (n < 1 || n > BOUNDARY_MAX || b[n - 1] == ' ')
		return false;
	for (const char *p = b; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      strchr("'()+_,-./:=? ", *p)))
			return false;
	return true;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	return n <= MULTIPART_MAX_NAME && str_utf8_valid(s, n);
}

/* The part's header block [h, hend): Content-Disposition and Content-Type. */
static int part_headers(struct arena *a, const char *h, const char *hend, struct multipart_part *p,
			char *why, size_t whylen)
{
	bool have_cd = false;
	while (h < hend) {
		const char *eol = memmem(h, (size_t)(hend - h), "\r\n", 2);
		const char *le = eol ? eol : hend;
		if (*h == ' ' || *h == '\t') {
			snprintf(why, whylen, "folded header lines are not accepted");
			return -1;
		}
		const char *colon = memchr(h, ':', (size_t)(le - h));
		if (!colon || colon == h) {
			snprintf(why, whylen, "a header line has no name");
			return -1;
		}
		size_t nlen = (size_t)(colon - h);
		const char *v = skip_ows(colon + 1, le);
		if (nlen == 19 && strncasecmp(h, "Content-Disposition", 19) == 0) {
			if (have_cd) {
				snprintf(why, whylen, "two Content-Disposition headers");
				return -1;
			}
			have_cd = true;
			const char *s = v;
			while (s < le && tchar(*s))
				s++;
			if ((size_t)(s - v) != 9 || strncasecmp(v, "form-data", 9) != 0) {
				snprintf(why, whylen, "Content-Disposition is not form-data");
				return -1;
			}
			const char *k, *val;
			int rc;
			while ((rc = next_param(a, &s, le, &k, &val)) == 0) {
				if (strcasecmp(k, "name") == 0)
					p->name = val;
				else if (strcasecmp(k, "filename") == 0)
					p->filename = val;
			}
			if (rc < 0) {
				snprintf(why, whylen, "Content-Disposition has bad syntax");
				return -1;
			}
		} else if (nlen == 12 && strncasecmp(h, "Content-Type", 12) == 0) {
			const char *ve = le;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			p->content_type = arena_strndup(a, v, (size_t)(ve - v));
		}
		h = eol ? eol + 2 : hend;
	}
	if (!p->name) {
		snprintf(why, whylen, "it has no Content-Disposition with a name");
		return -1;
	}
	if (!name_ok(p->name) || (p->filename && !name_ok(p->filename))) {
		snprintf(why, whylen, "its name or file name is longer than %d bytes or not UTF-8", MULTIPART_MAX_NAME);
		return -1;
	}
	if (!str_utf8_valid(p->content_type, strlen(p->content_type))) {
		snprintf(why, whylen, "its Content-Type is not UTF-8");
		return -1;
	}
	return 0;
}

int multipart_parse(struct arena *a, const char *content_type, const char *body, size_t len,
		    struct multipart *out, char *err, size_t errlen)
{
	out->parts = NULL;
	out->n = 0;
	const char *b = boundary_of(a, content_type ? content_type : "");
	if (!b || !boundary_ok(b)) {
		snprintf(err, errlen, "multipart/form-data needs a boundary of 1 to %d characters", BOUNDARY_MAX);
		return -1;
	}
	size_t bl = strlen(b);
	char *delim = arena_alloc(a, bl + 5);
	snprintf(delim, bl + 5, "\r\n--%s", b);
	size_t dl = bl + 4; /* with the leading CRLF */
	const char *end = body + len;
	/* the first delimiter: at the start, or after a preamble and CRLF */
	const char *pos;
	if (len >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0)
		pos = body + dl - 2;
	else {
		const char *f = memmem(body, len, delim, dl);
		if (!f) {
			snprintf(err, errlen, "the body has no boundary line");
			return -1;
		}
		pos = f + dl;
	}
	out->parts = arena_calloc(a, MULTIPART_MAX_PARTS, sizeof(*out->parts));
	for (size_t k = 1;; k++) {
		/* after a delimiter: "--" closes, else optional padding and CRLF */
		if (end - pos >= 2 && pos[0] == '-' && pos[1] == '-')
			return 0;
		pos = skip_ows(pos, end);
		if (end - pos < 2 || pos[0] != '\r' || pos[1] != '\n') {
			snprintf(err, errlen, "part %zu: the boundary line does not end with CRLF", k);
			return -1;
		}
		pos += 2;
		if (out->n == MULTIPART_MAX_PARTS) {
			snprintf(err, errlen, "more than %d parts", MULTIPART_MAX_PARTS);
			return -1;
		}
		const char *hend, *data;
		if (end - pos >= 2 && pos[0] == '\r' && pos[1] == '\n') {
			hend = pos; /* no headers */
			data = pos + 2;
		} else {
			size_t look = (size_t)(end - pos);
			if (look > MULTIPART_MAX_HEADER + 4)
				look = MULTIPART_MAX_HEADER + 4;
			const char *e = memmem(pos, look, "\r\n\r\n", 4);
			if (!e) {
				snprintf(err, errlen, "part %zu: its header block is larger than %d bytes or does not end",
					 k, MULTIPART_MAX_HEADER);
				return -1;
			}
			hend = e;
			data = e + 4;
		}
		struct multipart_part *p = &out->parts[out->n];
		p->content_type = "";
		char why[128];
		if (part_headers(a, pos, hend, p, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "part %zu: %s", k, why);
			return -1;
		}
		const char *next = memmem(data, (size_t)(end - data), delim, dl);
		if (!next) {
			snprintf(err, errlen, "part %zu: the body ends before the closing boundary", k);
			return -1;
		}
		p->data = data;
		p->len = (size_t)(next - data);
		out->n++;
		pos = next + dl;
	}
}

const struct multipart_part *multipart_get(const struct multipart *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->parts[i].name, name) == 0)
			return &m->parts[i];
	return NULL;
}

const char *multipart_text(struct arena *a, const struct multipart_part *p)
{
	if (memchr(p->data, '\0', p->len) || !str_utf8_valid(p->data, p->len))
		return NULL;
	return arena_strndup(a, p->data, p->len);
}

const char *multipart_field(struct req *r, const char *name)
{
	struct multipart m;
	char err[160];
	if (!multipart_is(r) || multipart_parse(r->a, r->content_type, r->body, r->body_len, &m, err, sizeof(err)) < 0)
		return NULL;
	const struct multipart_part *p = multipart_get(&m, name);
	if (!p || p->filename)
		return NULL;
	return multipart_text(r->a, p);
}

const char *multipart_form_value(struct req *r, const char *name)
{
	const char *v = req_form(r, name);
	if (!v && multipart_is(r))
		v = multipart_field(r, name);
	if (!v)
		v = req_param(r, name);
	return v;
}
