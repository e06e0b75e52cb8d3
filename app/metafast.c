#include "config.h"
#include "metafast.h"
#include "arena.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Deeper documents are left to json-c (its own limit is JSONIO_MAX_DEPTH). */
#define MAX_DEPTH 24
/* Objects we re-serialise are checked for duplicate keys (json-c keeps one,
 * so its text would differ); larger objects are left to json-c. */
#define MAX_KEYS 64

struct p {
	const char *s, *end;
	struct arena *a;
	struct buf *out;
	int depth;
};

static void ws(struct p *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\n' || *p->s == '\t' || *p->s == '\r'))
		p->s++;
}

/* Length of the valid UTF-8 sequence at s (lead byte >= 0x80), 0 if invalid:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const unsigned char *s, const unsigned char *e)
{
	unsigned char c = s[0];
	if (c >= 0xC2 && c <= 0xDF)
		return e - s >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (e - s < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F))
			return 0;
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (e - s < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
			return 0;
		return 4;
	}
	return 0;
}

static int hex4(const unsigned char *s, unsigned *cp)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*cp = v;
	return 0;
}

/* The string at p->s (on its quote): validated, its raw body in [*raw, *raw + *rawlen),
 * *esc if it has escapes.  \u0000 and surrogates are left to json-c. */
static int scan_string(struct p *p, const char **raw, size_t *rawlen, bool *esc)
{
	const unsigned char *start = (const unsigned char *)p->s + 1, *s = start, *e = (const unsigned char *)p->end;
	bool has = false;
	while (s < e) {
		unsigned char c = *s;
		if (c == '"') {
			*raw = (const char *)start;
			*rawlen = (size_t)(s - start);
			*esc = has;
			p->s = (const char *)s + 1;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			has = true;
			if (e - s < 2)
				return -1;
			switch (s[1]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				s += 2;
				continue;
			case 'u': {
				unsigned cp;
				if (e - s < 6 || hex4(s + 2, &cp) < 0 || cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
					return -1;
				s += 6;
				continue;
			}
			default:
				return -1;
			}
		}
		if (c < 0x80) {
			s++;
			continue;
		}
		size_t n = utf8_len(s, e);
		if (!n)
			return -1;
		s += n;
	}
	return -1;
}

/* The decoded text of a validated string body with escapes, in the arena. */
static char *unescape(struct arena *a, const char *raw, size_t n, size_t *outlen)
{
	char *d = arena_alloc(a, n + 1), *o = d;
	for (size_t i = 0; i < n; i++) {
		if (raw[i] != '\\') {
			*o++ = raw[i];
			continue;
		}
		char c = raw[++i];
		switch (c) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': {
			unsigned cp = 0;
			hex4((const unsigned char *)raw + i + 1, &cp);
			i += 4;
			if (cp < 0x80) {
				*o++ = (char)cp;
			} else if (cp < 0x800) {
				*o++ = (char)(0xC0 | (cp >> 6));
				*o++ = (char)(0x80 | (cp & 0x3F));
			} else {
				*o++ = (char)(0xE0 | (cp >> 12));
				*o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
				*o++ = (char)(0x80 | (cp & 0x3F));
			}
			break;
		}
		default: *o++ = c; break; /* " \ / */
		}
	}
	*o = '\0';
	*outlen = (size_t)(o - d);
	return d;
}

/* A string value: json-c's text of it appended to out when emit, its decoded
 * NUL-terminated copy in the arena when dec. */
static int string_value(struct p *p, bool emit, const char **dec, size_t *declen)
{
	const char *raw;
	size_t n;
	bool esc;
	if (scan_string(p, &raw, &n, &esc) < 0)
		return -1;
	if (!esc) {
		/* nothing json-c would escape: its text is the raw text */
		if (emit) {
			buf_addch(p->out, '"');
			buf_add(p->out, raw, n);
			buf_addch(p->out, '"');
		}
		if (dec) {
			*dec = arena_strndup(p->a, raw, n);
			if (declen)
				*declen = n;
		}
		return 0;
	}
	size_t dn;
	char *d = unescape(p->a, raw, n, &dn);
	if (emit)
		metafast_json_string(p->out, d, dn);
	if (dec) {
		*dec = d;
		if (declen)
			*declen = dn;
	}
	return 0;
}

/* A key: a string without escapes (else json-c decides), followed by ':'. */
static int key(struct p *p, const char **k, size_t *kn)
{
	bool esc;
	if (p->s >= p->end || *p->s != '"' || scan_string(p, k, kn, &esc) < 0 || esc)
		return -1;
	ws(p);
	if (p->s >= p->end || *p->s != ':')
		return -1;
	p->s++;
	ws(p);
	return 0;
}

static bool key_is(const char *k, size_t kn, const char *name)
{
	return strlen(name) == kn && memcmp(k, name, kn) == 0;
}

/* the key matches name only case-insensitively: json-c's decoders would take it */
static bool key_like(const char *k, size_t kn, const char *name)
{
	return strlen(name) == kn && strncasecmp(k, name, kn) == 0 && memcmp(k, name, kn) != 0;
}

/* A number as JSON's grammar has it.  Integers of up to 18 digits (json-c
 * prints those as written, except "-0"); others are left to json-c. */
static int number(struct p *p, bool emit, bool *is_int, int64_t *iv, double *dv)
{
	const char *s = p->s, *e = p->end, *start = s;
	bool neg = false, isint = true;
	if (s < e && *s == '-') {
		neg = true;
		s++;
	}
	if (s >= e || *s < '0' || *s > '9')
		return -1;
	const char *digits = s;
	if (*s == '0')
		s++;
	else
		while (s < e && *s >= '0' && *s <= '9')
			s++;
	size_t ndigits = (size_t)(s - digits);
	if (s < e && *s == '.') {
		isint = false;
		s++;
		if (s >= e || *s < '0' || *s > '9')
			return -1;
		while (s < e && *s >= '0' && *s <= '9')
			s++;
	}
	if (s < e && (*s == 'e' || *s == 'E')) {
		isint = false;
		s++;
		if (s < e && (*s == '+' || *s == '-'))
			s++;
		if (s >= e || *s < '0' || *s > '9')
			return -1;
		while (s < e && *s >= '0' && *s <= '9')
			s++;
	}
	size_t n = (size_t)(s - start);
	if (isint) {
		if (ndigits > 18 || (neg && ndigits == 1 && *digits == '0'))
			return -1;
		int64_t v = 0;
		for (const char *d = digits; d < digits + ndigits; d++)
			v = v * 10 + (*d - '0');
		v = neg ? -v : v;
		if (iv)
			*iv = v;
		if (dv)
			*dv = (double)v;
	} else if (dv) {
		char tmp[64];
		if (n >= sizeof(tmp))
			return -1;
		memcpy(tmp, start, n);
		tmp[n] = '\0';
		*dv = strtod(tmp, NULL);
		if (!isfinite(*dv))
			return -1;
	}
	if (is_int)
		*is_int = isint;
	/* json-c prints integers with %lld (the same digits here) and parsed
	 * doubles as their original text */
	if (emit)
		buf_add(p->out, start, n);
	p->s = s;
	return 0;
}

static int literal(struct p *p, const char *word, bool emit)
{
	size_t n = strlen(word);
	if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n) != 0)
		return -1;
	if (emit)
		buf_add(p->out, word, n);
	p->s += n;
	return 0;
}

static bool is_null(struct p *p)
{
	if (p->end - p->s >= 4 && memcmp(p->s, "null", 4) == 0) {
		p->s += 4;
		return true;
	}
	return false;
}

struct keyset {
	size_t off[MAX_KEYS], len[MAX_KEYS];
	size_t n;
};

/* Record an emitted key (its text starts at out offset off); -1 if it was there before. */
static int keyset_add(struct p *p, struct keyset *ks, size_t off, size_t len)
{
	if (ks->n == MAX_KEYS)
		return -1;
	for (size_t i = 0; i < ks->n; i++)
		if (ks->len[i] == len && memcmp(p->out->data + ks->off[i], p->out->data + off, len) == 0)
			return -1;
	ks->off[ks->n] = off;
	ks->len[ks->n] = len;
	ks->n++;
	return 0;
}

static int value(struct p *p, bool emit);

/* An object member's key, emitted (with duplicate check) when emit. */
static int member_key(struct p *p, bool emit, struct keyset *ks, bool first, const char **k, size_t *kn)
{
	if (key(p, k, kn) < 0)
		return -1;
	if (emit) {
		if (!first)
			buf_addch(p->out, ',');
		buf_addch(p->out, '"');
		size_t off = p->out->len;
		buf_add(p->out, *k, *kn);
		buf_adds(p->out, "\":");
		if (keyset_add(p, ks, off, *kn) < 0)
			return -1;
	}
	return 0;
}

/* After a member or element: ',' (1, more follow) or the closing bracket (0). */
static int next(struct p *p, char close)
{
	ws(p);
	if (p->s < p->end && *p->s == ',') {
		p->s++;
		ws(p);
		return 1;
	}
	if (p->s < p->end && *p->s == close) {
		p->s++;
		return 0;
	}
	return -1;
}

/* Opening bracket: 1 if the container has members, 0 if empty, -1 on error. */
static int enter(struct p *p, char o, char close, bool emit)
{
	if (p->s >= p->end || *p->s != o || ++p->depth > MAX_DEPTH)
		return -1;
	p->s++;
	if (emit)
		buf_addch(p->out, o);
	ws(p);
	if (p->s < p->end && *p->s == close) {
		p->s++;
		p->depth--;
		if (emit)
			buf_addch(p->out, close);
		return 0;
	}
	return 1;
}

static int leave(struct p *p, char close, bool emit)
{
	p->depth--;
	if (emit)
		buf_addch(p->out, close);
	return 0;
}

/* Any value, validated, json-c's text of it appended when emit. */
static int value(struct p *p, bool emit)
{
	if (p->s >= p->end)
		return -1;
	switch (*p->s) {
	case '{': {
		int r = enter(p, '{', '}', emit);
		if (r <= 0)
			return r;
		struct keyset ks;
		ks.n = 0;
		for (bool first = true;; first = false) {
			const char *k;
			size_t kn;
			if (member_key(p, emit, &ks, first, &k, &kn) < 0 || value(p, emit) < 0)
				return -1;
			if ((r = next(p, '}')) < 0)
				return -1;
			if (r == 0)
				return leave(p, '}', emit);
		}
	}
	case '[': {
		int r = enter(p, '[', ']', emit);
		if (r <= 0)
			return r;
		for (bool first = true;; first = false) {
			if (!first && emit)
				buf_addch(p->out, ',');
			if (value(p, emit) < 0)
				return -1;
			if ((r = next(p, ']')) < 0)
				return -1;
			if (r == 0)
				return leave(p, ']', emit);
		}
	}
	case '"':
		return string_value(p, emit, NULL, NULL);
	case 't':
		return literal(p, "true", emit);
	case 'f':
		return literal(p, "false", emit);
	case 'n':
		return literal(p, "null", emit);
	default:
		return number(p, emit, NULL, NULL, NULL);
	}
}

/* An object of numbers (footprint, energyFootprint: only validated, as check_map does). */
static int number_map(struct p *p)
{
	int r = enter(p, '{', '}', false);
	if (r <= 0)
		return r;
	for (;;) {
		const char *k;
		size_t kn;
		double d;
		if (key(p, &k, &kn) < 0 || number(p, false, NULL, NULL, &d) < 0)
			return -1;
		if ((r = next(p, '}')) < 0)
			return -1;
		if (r == 0)
			return leave(p, '}', false);
	}
}

/* metaData: an object of strings, re-serialised. */
static int string_map(struct p *p)
{
	int r = enter(p, '{', '}', true);
	if (r <= 0)
		return r;
	struct keyset ks;
	ks.n = 0;
	for (bool first = true;; first = false) {
		const char *k;
		size_t kn;
		if (member_key(p, true, &ks, first, &k, &kn) < 0)
			return -1;
		if (p->s >= p->end || *p->s != '"' || string_value(p, true, NULL, NULL) < 0)
			return -1;
		if ((r = next(p, '}')) < 0)
			return -1;
		if (r == 0)
			return leave(p, '}', true);
	}
}

/* statistics: re-serialised, and avg/min/max of each object member collected
 * as cluster_stats_from_json does (numbers, else 0). */
static int statistics(struct p *p, struct metafast *mf)
{
	int r = enter(p, '{', '}', true);
	if (r <= 0)
		return r;
	struct keyset ks;
	ks.n = 0;
	size_t cap = 0;
	for (bool first = true;; first = false) {
		const char *k;
		size_t kn;
		if (member_key(p, true, &ks, first, &k, &kn) < 0)
			return -1;
		if (p->s < p->end && *p->s == '{') {
			if (mf->nstats == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				struct metric_stats *s = arena_alloc(p->a, ncap * sizeof(*s));
				if (cap)
					memcpy(s, mf->stats, cap * sizeof(*s));
				mf->stats = s;
				cap = ncap;
			}
			struct metric_stats *ms = &mf->stats[mf->nstats++];
			ms->name = arena_strndup(p->a, k, kn);
			ms->avg = ms->min = ms->max = 0;
			int r2 = enter(p, '{', '}', true);
			if (r2 < 0)
				return -1;
			struct keyset ks2;
			ks2.n = 0;
			for (bool first2 = true; r2 > 0; first2 = false) {
				const char *k2;
				size_t kn2;
				if (member_key(p, true, &ks2, first2, &k2, &kn2) < 0)
					return -1;
				double *dst = key_is(k2, kn2, "avg") ? &ms->avg : key_is(k2, kn2, "min") ? &ms->min :
					      key_is(k2, kn2, "max") ? &ms->max : NULL;
				if (!dst && (key_like(k2, kn2, "avg") || key_like(k2, kn2, "min") || key_like(k2, kn2, "max")))
					return -1;
				bool num = p->s < p->end && (*p->s == '-' || (*p->s >= '0' && *p->s <= '9'));
				if (dst && num) {
					if (number(p, true, NULL, NULL, dst) < 0)
						return -1;
				} else if (value(p, true) < 0) {
					return -1;
				}
				if ((r2 = next(p, '}')) < 0)
					return -1;
				if (r2 == 0)
					leave(p, '}', true);
			}
		} else if (value(p, true) < 0) {
			return -1;
		}
		if ((r = next(p, '}')) < 0)
			return -1;
		if (r == 0)
			return leave(p, '}', true);
	}
}

static int int_range(struct p *p, int64_t min, int64_t max, int64_t *out)
{
	bool isint;
	int64_t v;
	if (number(p, false, &isint, &v, NULL) < 0 || !isint || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int string_field(struct p *p, const char **dst)
{
	if (p->s >= p->end || *p->s != '"')
		return -1;
	return string_value(p, false, dst, NULL);
}

static int tags(struct p *p, struct job *j)
{
	int r = enter(p, '[', ']', false);
	if (r < 0)
		return -1;
	size_t cap = 0;
	while (r > 0) {
		if (j->ntags == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct job_tag *t = arena_calloc(p->a, ncap, sizeof(*t));
			if (cap)
				memcpy(t, j->tags, cap * sizeof(*t));
			j->tags = t;
			cap = ncap;
		}
		struct job_tag *t = &j->tags[j->ntags++];
		int ro = enter(p, '{', '}', false);
		if (ro < 0)
			return -1;
		unsigned seen = 0;
		while (ro > 0) {
			const char *k;
			size_t kn;
			if (key(p, &k, &kn) < 0)
				return -1;
			unsigned bit = key_is(k, kn, "id") ? 1 : key_is(k, kn, "type") ? 2 : key_is(k, kn, "name") ? 4 :
				       key_is(k, kn, "scope") ? 8 : 0;
			if (!bit && (key_like(k, kn, "id") || key_like(k, kn, "type") || key_like(k, kn, "name") ||
				     key_like(k, kn, "scope")))
				return -1;
			if (bit & seen)
				return -1;
			seen |= bit;
			if (!bit) {
				if (value(p, false) < 0)
					return -1;
			} else if (!is_null(p)) {
				if (bit == 1 ? int_range(p, 0, INT64_MAX, &t->id) < 0 :
				    string_field(p, bit == 2 ? &t->type : bit == 4 ? &t->name : &t->scope) < 0)
					return -1;
			}
			if ((ro = next(p, '}')) < 0)
				return -1;
			if (ro == 0)
				leave(p, '}', false);
		}
		if (!t->type)
			t->type = "";
		if (!t->name)
			t->name = "";
		if (!t->scope || !*t->scope)
			t->scope = "global";
		if ((r = next(p, ']')) < 0)
			return -1;
	}
	if (!j->tags)
		j->tags = arena_calloc(p->a, 1, sizeof(*j->tags));
	else
		leave(p, ']', false); /* a non-empty array: enter() left it open */
	return 0;
}

static int resource(struct p *p, struct job_resource *res)
{
	int r = enter(p, '{', '}', false);
	if (r < 0)
		return -1;
	unsigned seen = 0;
	while (r > 0) {
		const char *k;
		size_t kn;
		if (key(p, &k, &kn) < 0)
			return -1;
		unsigned bit = key_is(k, kn, "hostname") ? 1 : key_is(k, kn, "hwthreads") ? 2 :
			       key_is(k, kn, "accelerators") ? 4 : key_is(k, kn, "configuration") ? 8 : 0;
		if (!bit && (key_like(k, kn, "hostname") || key_like(k, kn, "hwthreads") ||
			     key_like(k, kn, "accelerators") || key_like(k, kn, "configuration")))
			return -1;
		if (bit & seen)
			return -1;
		seen |= bit;
		if (!bit) {
			if (value(p, false) < 0)
				return -1;
		} else if (!is_null(p)) {
			if (bit == 1 || bit == 8) {
				if (string_field(p, bit == 1 ? &res->hostname : &res->configuration) < 0)
					return -1;
			} else {
				int ra = enter(p, '[', ']', false);
				if (ra < 0)
					return -1;
				size_t cap = 0, n = 0;
				int32_t *hw = NULL;
				const char **acc = NULL;
				while (ra > 0) {
					if (n == cap) {
						size_t ncap = cap ? cap * 2 : 16;
						if (bit == 2) {
							int32_t *x = arena_alloc(p->a, ncap * sizeof(*x));
							if (cap)
								memcpy(x, hw, cap * sizeof(*x));
							hw = x;
						} else {
							const char **x = arena_alloc(p->a, ncap * sizeof(*x));
							if (cap)
								memcpy(x, acc, cap * sizeof(*x));
							acc = x;
						}
						cap = ncap;
					}
					if (bit == 2) {
						int64_t v;
						if (int_range(p, 0, INT32_MAX, &v) < 0)
							return -1;
						hw[n++] = (int32_t)v;
					} else if (string_field(p, &acc[n++]) < 0) {
						return -1;
					}
					if ((ra = next(p, ']')) < 0)
						return -1;
				}
				if (ra == 0 && cap)
					leave(p, ']', false);
				/* json-c's decoder allocates at least one element */
				if (bit == 2) {
					res->hwthreads = hw ? hw : arena_calloc(p->a, 1, sizeof(int32_t));
					res->nhwthreads = n;
				} else {
					res->accelerators = acc ? acc : arena_calloc(p->a, 1, sizeof(char *));
					res->naccelerators = n;
				}
			}
		}
		if ((r = next(p, '}')) < 0)
			return -1;
		if (r == 0)
			leave(p, '}', false);
	}
	if (!res->hostname)
		res->hostname = "";
	return 0;
}

static int resources(struct p *p, struct job *j)
{
	int r = enter(p, '[', ']', false);
	if (r < 0)
		return -1;
	size_t cap = 0;
	while (r > 0) {
		if (j->nresources == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct job_resource *x = arena_calloc(p->a, ncap, sizeof(*x));
			if (cap)
				memcpy(x, j->resources, cap * sizeof(*x));
			j->resources = x;
			cap = ncap;
		}
		if (resource(p, &j->resources[j->nresources++]) < 0)
			return -1;
		if ((r = next(p, ']')) < 0)
			return -1;
	}
	if (!j->resources)
		j->resources = arena_calloc(p->a, 1, sizeof(*j->resources));
	if (cap)
		leave(p, ']', false);
	return 0;
}

enum fkind { K_STR, K_I64, K_I32, K_F64, K_STATE, K_SHARED, K_TAGS, K_RES, K_META, K_NUMMAP, K_STATS, K_IGNORE };

#define O(m) offsetof(struct job, m)
static const struct {
	const char *name;
	enum fkind kind;
	size_t off;
} fields[] = {
	/* the fields of job.c's decoder, in the order generated files use */
	{"cluster", K_STR, O(cluster)},
	{"subCluster", K_STR, O(subcluster)},
	{"partition", K_STR, O(partition)},
	{"project", K_STR, O(project)},
	{"user", K_STR, O(user)},
	{"shared", K_SHARED, 0},
	{"jobState", K_STATE, 0},
	{"tags", K_TAGS, 0},
	{"resources", K_RES, 0},
	{"energyFootprint", K_NUMMAP, 0},
	{"footprint", K_NUMMAP, 0},
	{"metaData", K_META, 0},
	{"concurrentJobs", K_IGNORE, 0},
	{"energy", K_F64, O(energy)},
	{"arrayJobId", K_I64, O(array_job_id)},
	{"walltime", K_I64, O(walltime)},
	{"requestedMemory", K_I64, O(requested_memory)},
	{"jobId", K_I64, O(job_id)},
	{"duration", K_I32, O(duration)},
	{"smt", K_I32, O(smt)},
	{"monitoringStatus", K_I32, O(monitoring_status)},
	{"numAcc", K_I32, O(num_acc)},
	{"numHwthreads", K_I32, O(num_hwthreads)},
	{"numNodes", K_I32, O(num_nodes)},
	{"statistics", K_STATS, 0},
	{"id", K_I64, O(id)},
	{"submitTime", K_I64, O(submit_time)},
	{"startTime", K_I64, O(start_time)},
	/* legacy: mapped by job.c; rare, left to it */
	{"exclusive", K_IGNORE, 1},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static int field_value(struct p *p, size_t fi, struct metafast *mf)
{
	struct job *j = &mf->job;
	char *base = (char *)j;
	int64_t x;
	const char *s;
	if (fields[fi].off == 1 && fields[fi].kind == K_IGNORE)
		return -1; /* "exclusive" */
	if (is_null(p))
		return 0; /* as job.c: null leaves the field alone */
	switch (fields[fi].kind) {
	case K_STR:
		return string_field(p, (const char **)(base + fields[fi].off));
	case K_I64:
		if (int_range(p, INT64_MIN, INT64_MAX, &x) < 0)
			return -1;
		*(int64_t *)(base + fields[fi].off) = x;
		if (fields[fi].off == O(start_time))
			j->has_start_time = true;
		return 0;
	case K_I32:
		if (int_range(p, INT32_MIN, INT32_MAX, &x) < 0)
			return -1;
		*(int32_t *)(base + fields[fi].off) = (int32_t)x;
		if (fields[fi].off == O(monitoring_status))
			j->has_monitoring_status = true;
		return 0;
	case K_F64:
		return number(p, false, NULL, NULL, (double *)(base + fields[fi].off));
	case K_STATE:
		if (string_field(p, &s) < 0)
			return -1;
		if (!*s)
			return 0;
		if (job_state_parse(s, &j->state) < 0)
			return -1;
		j->has_state = true;
		return 0;
	case K_SHARED:
		if (string_field(p, &s) < 0)
			return -1;
		if (!*s)
			return 0;
		if (job_shared_parse(s, &j->shared) < 0)
			return -1;
		j->has_shared = true;
		return 0;
	case K_TAGS:
		return tags(p, j);
	case K_RES:
		return resources(p, j);
	case K_NUMMAP:
		return number_map(p);
	case K_META:
		mf->has_meta = true;
		mf->meta_off = p->out->len;
		if (string_map(p) < 0)
			return -1;
		mf->meta_len = p->out->len - mf->meta_off;
		return 0;
	case K_STATS:
		if (p->s >= p->end || *p->s != '{')
			return -1;
		mf->has_stats = true;
		mf->stats_off = p->out->len;
		if (statistics(p, mf) < 0)
			return -1;
		mf->stats_len = p->out->len - mf->stats_off;
		return 0;
	case K_IGNORE:
		return value(p, false);
	}
	return -1;
}

int metafast_parse(struct arena *a, const char *text, size_t len, struct buf *text_out, struct metafast *out)
{
	memset(out, 0, sizeof(*out));
	out->job.smt = 1;
	struct p p = {.s = text, .end = text + len, .a = a, .out = text_out, .depth = 0};
	/* anything but an object (a byte order mark, an array, ...) is left to json-c */
	ws(&p);
	int r = enter(&p, '{', '}', false);
	if (r < 0)
		return -1;
	uint64_t seen = 0;
	while (r > 0) {
		const char *k;
		size_t kn;
		if (key(&p, &k, &kn) < 0)
			return -1;
		size_t fi = 0;
		for (; fi < NFIELDS; fi++)
			if (key_is(k, kn, fields[fi].name))
				break;
		if (fi == NFIELDS) {
			for (size_t i = 0; i < NFIELDS; i++)
				if (key_like(k, kn, fields[i].name))
					return -1; /* job.c would take it: leave it to job.c */
			if (value(&p, false) < 0)
				return -1;
		} else {
			/* a field twice: json-c keeps the last value, at the first position */
			if (seen & ((uint64_t)1 << fi))
				return -1;
			seen |= (uint64_t)1 << fi;
			if (field_value(&p, fi, out) < 0)
				return -1;
		}
		if ((r = next(&p, '}')) < 0)
			return -1;
	}
	p.depth--;
	ws(&p);
	return p.s == p.end ? 0 : -1;
}

/* ------------------------------------------------------------ serialisers */

void metafast_json_string(struct buf *b, const char *s, size_t n)
{
	/* json-c's json_escape_str with JSON_C_TO_STRING_NOSLASHESCAPE */
	static const char hex[] = "0123456789abcdef";
	buf_addch(b, '"');
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *rep = NULL;
		char u[7];
		switch (c) {
		case '\b': rep = "\\b"; break;
		case '\n': rep = "\\n"; break;
		case '\r': rep = "\\r"; break;
		case '\t': rep = "\\t"; break;
		case '\f': rep = "\\f"; break;
		case '"': rep = "\\\""; break;
		case '\\': rep = "\\\\"; break;
		default:
			if (c >= 0x20)
				continue;
			u[0] = '\\';
			u[1] = 'u';
			u[2] = '0';
			u[3] = '0';
			u[4] = hex[c >> 4];
			u[5] = hex[c & 0xF];
			u[6] = '\0';
			rep = u;
		}
		buf_add(b, s + run, i - run);
		buf_adds(b, rep);
		run = i + 1;
	}
	buf_add(b, s + run, n - run);
	buf_addch(b, '"');
}

void metafast_json_double(struct buf *b, double d)
{
	/* json-c's json_object_double_to_json_string_format with the global
	 * format jsonio_init sets ("%.15g"): ".0" appended to integral values */
	char tmp[64];
	if (isnan(d)) {
		buf_adds(b, "NaN");
		return;
	}
	if (isinf(d)) {
		buf_adds(b, d > 0 ? "Infinity" : "-Infinity");
		return;
	}
	int n = snprintf(tmp, sizeof(tmp), "%.15g", d);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		buf_adds(b, "0");
		return;
	}
	char *dot = strchr(tmp, ',');
	if (dot)
		*dot = '.';
	else
		dot = strchr(tmp, '.');
	bool numeric = (tmp[0] >= '0' && tmp[0] <= '9') || (n > 1 && tmp[0] == '-' && tmp[1] >= '0' && tmp[1] <= '9');
	buf_add(b, tmp, (size_t)n);
	if (n < (int)sizeof(tmp) - 2 && numeric && !dot && !strchr(tmp, 'e'))
		buf_adds(b, ".0");
}

void metafast_resources_json(struct buf *b, const struct job *j)
{
	buf_addch(b, '[');
	for (size_t i = 0; i < j->nresources; i++) {
		const struct job_resource *r = &j->resources[i];
		if (i)
			buf_addch(b, ',');
		buf_adds(b, "{\"hostname\":");
		metafast_json_string(b, r->hostname, strlen(r->hostname));
		if (r->nhwthreads) {
			buf_adds(b, ",\"hwthreads\":[");
			for (size_t t = 0; t < r->nhwthreads; t++)
				buf_addf(b, t ? ",%d" : "%d", (int)r->hwthreads[t]);
			buf_addch(b, ']');
		}
		if (r->naccelerators) {
			buf_adds(b, ",\"accelerators\":[");
			for (size_t t = 0; t < r->naccelerators; t++) {
				if (t)
					buf_addch(b, ',');
				metafast_json_string(b, r->accelerators[t], strlen(r->accelerators[t]));
			}
			buf_addch(b, ']');
		}
		if (r->configuration && *r->configuration) {
			buf_adds(b, ",\"configuration\":");
			metafast_json_string(b, r->configuration, strlen(r->configuration));
		}
		buf_addch(b, '}');
	}
	buf_addch(b, ']');
}

/* json-c's object of (key, number) pairs added in order: a key added again
 * replaces the value at the key's first position. */
static void number_object(struct buf *b, size_t n, const char *(*key_of)(const void *, size_t),
			  double (*val)(const void *, size_t), const void *arr)
{
	buf_addch(b, '{');
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		const char *k = key_of(arr, i);
		bool dup = false;
		for (size_t e = 0; e < i && !dup; e++)
			dup = strcmp(key_of(arr, e), k) == 0;
		if (dup)
			continue;
		double v = val(arr, i);
		for (size_t l = i + 1; l < n; l++)
			if (strcmp(key_of(arr, l), k) == 0)
				v = val(arr, l);
		if (!first)
			buf_addch(b, ',');
		first = false;
		metafast_json_string(b, k, strlen(k));
		buf_addch(b, ':');
		metafast_json_double(b, v);
	}
	buf_addch(b, '}');
}

static const char *fp_key(const void *a, size_t i) { return ((const struct footprint_value *)a)[i].key; }
static double fp_val(const void *a, size_t i) { return ((const struct footprint_value *)a)[i].value; }
static const char *en_key(const void *a, size_t i) { return ((const struct energy_value *)a)[i].metric; }
static double en_val(const void *a, size_t i) { return ((const struct energy_value *)a)[i].kwh; }

void metafast_footprint_json(struct buf *b, const struct cluster_footprint *fp)
{
	number_object(b, fp->nfootprint, fp_key, fp_val, fp->footprint);
}

void metafast_energy_json(struct buf *b, const struct cluster_footprint *fp)
{
	number_object(b, fp->nenergy, en_key, en_val, fp->energy);
}
