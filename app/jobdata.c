#include "config.h"
#include "jobdata.h"
#include "buf.h"
#include "xalloc.h"

#include <errno.h>
#include <float.h>
#include <json-c/json.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <zlib.h>

const struct jobdata_limits jobdata_limits_default = {
	.max_metrics = 4096,
	.max_series = 65536,
	.max_total_series = (size_t)1 << 21,
	.max_points = (size_t)1 << 21,        /* 24 days at 1 s */
	.max_total_points = (size_t)1 << 26, /* 512 MiB of doubles */
	.max_string = 4096,
	.max_depth = 64,
};

#define ALIGN16(n) (((n) + 15) & ~(size_t)15)

/* ------------------------------------------------------------------------
 * Chunks: memory added to a jobdata after parsing (builder, statistics
 * series).  Small requests share 64 KiB chunks; big ones get their own so
 * that the shared chunk's free space is not thrown away. */

struct jobdata_chunk {
	struct jobdata_chunk *next;
	size_t size, used;
};

#define CHUNK_HDR ALIGN16(sizeof(struct jobdata_chunk))
#define CHUNK_SIZE ((size_t)64 * 1024)

static void *jd_alloc(struct jobdata *d, size_t n)
{
	n = ALIGN16(n ? n : 1);
	struct jobdata_chunk *c = d->chunks;
	if (c && c->size - c->used >= n) {
		void *p = (char *)c + c->used;
		c->used += n;
		return p;
	}
	if (n > CHUNK_SIZE / 4) {
		if (n > SIZE_MAX - CHUNK_HDR)
			xdie("jobdata: allocation of %zu bytes overflows", n);
		struct jobdata_chunk *big = xmalloc(CHUNK_HDR + n);
		big->size = big->used = CHUNK_HDR + n;
		d->chunk_bytes += big->size;
		if (c) { /* behind the head, which keeps serving small requests */
			big->next = c->next;
			c->next = big;
		} else {
			big->next = NULL;
			d->chunks = big;
		}
		return (char *)big + CHUNK_HDR;
	}
	c = xmalloc(CHUNK_SIZE);
	c->size = CHUNK_SIZE;
	c->used = CHUNK_HDR + n;
	c->next = d->chunks;
	d->chunks = c;
	d->chunk_bytes += CHUNK_SIZE;
	return (char *)c + CHUNK_HDR;
}

static char *jd_strdup(struct jobdata *d, const char *s)
{
	size_t n = strlen(s);
	char *p = jd_alloc(d, n + 1);
	memcpy(p, s, n + 1);
	return p;
}

/* ------------------------------------------------------------------------
 * Parser.  One pass over the bytes; everything goes into scratch vectors
 * addressed by offsets (numbers, series, metrics, percentiles, string bytes)
 * and becomes one block at the end.  The numbers vector is the bulk of it,
 * so the block is that vector realloc'ed to its final size with the small
 * parts appended: with the generous first reservation the doubles are
 * written once and not copied again. */

#define NO_STR SIZE_MAX
#define EMPTY_STR 0 /* the string scratch starts with a NUL: "" */

struct s_vec {
	size_t off, len;
	bool present;
};

struct s_series {
	size_t host, id; /* string offsets; id NO_STR = none */
	size_t data, len;
	struct jobdata_stats st;
};

struct s_pct {
	int p;
	struct s_vec v;
};

struct s_metric {
	size_t name, scope, base, prefix;
	int timestep;
	size_t ser_first, nser;
	bool has_ss, live;
	struct s_vec mean, median, min, max;
	size_t pct_first, npct;
};

struct jp {
	const unsigned char *beg, *p, *end;
	const struct jobdata_limits *lim;
	char *err;
	size_t errlen;
	double *num;
	size_t nnum, capnum;
	struct s_series *ser;
	size_t nser, capser;
	struct s_metric *met;
	size_t nmet, capmet, nlive;
	struct s_pct *pct;
	size_t npct, cappct;
	char *str;
	size_t nstr, capstr;
};

static void *grow_vec(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	size_t c = *cap ? *cap : 16;
	while (c < need) {
		if (c > SIZE_MAX / 2 / elem)
			xdie("jobdata: scratch of %zu elements overflows", need);
		c *= 2;
	}
	*cap = c;
	return xrealloc(p, c * elem);
}

static void describe_byte(const struct jp *jp, const unsigned char *at, char *out, size_t n)
{
	if (at >= jp->end)
		snprintf(out, n, "end of input");
	else if (*at >= 0x20 && *at < 0x7f)
		snprintf(out, n, "'%c'", *at);
	else
		snprintf(out, n, "byte 0x%02x", *at);
}

/* "expected X, got Y" */
static int fail(struct jp *jp, const unsigned char *at, const char *expected)
{
	char got[32];
	describe_byte(jp, at, got, sizeof(got));
	if (jp->err && jp->errlen)
		snprintf(jp->err, jp->errlen, "data.json: offset %zu: expected %s, got %s",
			 (size_t)(at - jp->beg), expected, got);
	return -1;
}

__attribute__((format(printf, 3, 4)))
static int failf(struct jp *jp, const unsigned char *at, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (jp->err && jp->errlen)
		snprintf(jp->err, jp->errlen, "data.json: offset %zu: %s", (size_t)(at - jp->beg), msg);
	return -1;
}

static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

static inline void ws(struct jp *jp)
{
	jp->p = skip_ws(jp->p, jp->end);
}

static int str_put(struct jp *jp, const void *s, size_t n, size_t start)
{
	if (jp->nstr - start + n > jp->lim->max_string)
		return -1;
	jp->str = grow_vec(jp->str, &jp->capstr, jp->nstr + n + 1, 1);
	memcpy(jp->str + jp->nstr, s, n);
	jp->nstr += n;
	return 0;
}

/* Length of the UTF-8 sequence at p (RFC 3629: no overlongs, surrogates or
 * code points above U+10FFFF), 0 when invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n;
	unsigned lo = 0x80, hi = 0xbf;
	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0) {
		n = 2;
	} else if (c < 0xf0) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c < 0xf5) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

static size_t utf8_put(unsigned cp, unsigned char *o)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *out)
{
	unsigned v = 0;
	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* The string at jp->p ('"'), unescaped and validated, appended to the string
 * scratch with a NUL.  *off is where it starts; drop it with jp->nstr = *off. */
static int parse_string(struct jp *jp, size_t *off, size_t *len)
{
	const unsigned char *p = jp->p + 1, *end = jp->end;
	size_t start = jp->nstr;
	for (;;) {
		const unsigned char *q = p;
		while (q < end && *q != '"' && *q != '\\' && *q >= 0x20 && *q < 0x80)
			q++;
		if (q > p && str_put(jp, p, (size_t)(q - p), start) < 0)
			return failf(jp, jp->p, "string longer than %zu bytes", jp->lim->max_string);
		p = q;
		if (p >= end)
			return fail(jp, p, "'\"' to end the string");
		if (*p == '"') {
			p++;
			break;
		}
		if (*p < 0x20)
			return failf(jp, p, "control character 0x%02x in string", *p);
		if (*p == '\\') {
			unsigned char tmp[4];
			size_t tn = 1;
			if (p + 1 >= end)
				return fail(jp, p + 1, "an escape character");
			switch (p[1]) {
			case '"': tmp[0] = '"'; break;
			case '\\': tmp[0] = '\\'; break;
			case '/': tmp[0] = '/'; break;
			case 'b': tmp[0] = '\b'; break;
			case 'f': tmp[0] = '\f'; break;
			case 'n': tmp[0] = '\n'; break;
			case 'r': tmp[0] = '\r'; break;
			case 't': tmp[0] = '\t'; break;
			case 'u': {
				unsigned cp, lo;
				if (hex4(p + 2, end, &cp) < 0)
					return fail(jp, p + 2, "four hex digits after \\u");
				p += 4;
				if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 8 && p[2] == '\\' && p[3] == 'u' &&
				    hex4(p + 4, end, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					p += 6;
				} else if (cp >= 0xd800 && cp < 0xe000) {
					cp = 0xfffd; /* lone surrogate: U+FFFD as Go's decoder */
				}
				if (cp == 0)
					return failf(jp, p - 4, "\\u0000 is not allowed in strings");
				tn = utf8_put(cp, tmp);
				break;
			}
			default:
				return fail(jp, p + 1, "an escape character");
			}
			p += 2;
			if (str_put(jp, tmp, tn, start) < 0)
				return failf(jp, jp->p, "string longer than %zu bytes", jp->lim->max_string);
			continue;
		}
		size_t n = utf8_len(p, end);
		if (!n)
			return failf(jp, p, "invalid UTF-8 in string");
		if (str_put(jp, p, n, start) < 0)
			return failf(jp, jp->p, "string longer than %zu bytes", jp->lim->max_string);
		p += n;
	}
	jp->str = grow_vec(jp->str, &jp->capstr, jp->nstr + 1, 1);
	jp->str[jp->nstr++] = '\0';
	*off = start;
	*len = jp->nstr - start - 1;
	jp->p = p;
	return 0;
}

/* Go's decoder matches struct field names without regard to (ASCII) case. */
static bool key_is(const struct jp *jp, size_t off, size_t len, const char *name)
{
	size_t n = strlen(name);
	return len == n && strncasecmp(jp->str + off, name, n) == 0;
}

static int literal(struct jp *jp, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n) != 0) {
		char exp[16];
		snprintf(exp, sizeof(exp), "'%s'", word);
		return fail(jp, jp->p, exp);
	}
	jp->p += n;
	return 0;
}

static const double pow10_exact[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* strtod in the C locale: JSON's decimal point is '.' whatever LC_NUMERIC says. */
static double strtod_c(const char *s, char **end)
{
	static locale_t c_locale;
	if (!c_locale)
		c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	locale_t old = c_locale ? uselocale(c_locale) : (locale_t)0;
	double v = strtod(s, end);
	if (c_locale)
		uselocale(old);
	return v;
}

__attribute__((noinline))
static const unsigned char *parse_num_slow(struct jp *jp, const unsigned char *s, const unsigned char *e,
					   double *out)
{
	char tmp[401];
	size_t n = (size_t)(e - s);
	if (n >= sizeof(tmp)) {
		failf(jp, s, "number longer than %zu characters", sizeof(tmp) - 1);
		return NULL;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	char *end;
	errno = 0;
	double v = strtod_c(tmp, &end);
	if (end != tmp + n) {
		fail(jp, s + (end - tmp), "a number");
		return NULL;
	}
	if (errno == ERANGE && isinf(v)) {
		failf(jp, s, "number out of range");
		return NULL;
	}
	*out = v;
	return e;
}

/* A JSON number at p.  Up to 19 significant digits are collected exactly;
 * when the mantissa fits 53 bits and the decimal exponent is within +-22 one
 * multiplication or division by an exact power of ten is correctly rounded
 * (Clinger's fast path), which covers every value a metric collector writes.
 * Anything else goes through strtod.  NULL on error. */
static inline const unsigned char *parse_num(struct jp *jp, const unsigned char *p, double *out)
{
	const unsigned char *s = p, *end = jp->end;
	bool neg = false, lost = false;
	uint64_t m = 0;
	int nd = 0, e10 = 0;
	unsigned d;

	if (*p == '-') {
		neg = true;
		p++;
	}
	if (p >= end || (d = (unsigned)*p - '0') > 9) {
		fail(jp, p, "a digit");
		return NULL;
	}
	if (d == 0) {
		p++;
	} else {
		do {
			if (nd < 19) {
				m = m * 10 + d;
				nd++;
			} else {
				if (e10 < 100000) /* past that it is out of range anyway */
					e10++;
				lost |= d != 0;
			}
			p++;
		} while (p < end && (d = (unsigned)*p - '0') <= 9);
	}
	if (p < end && *p == '.') {
		p++;
		if (p >= end || (d = (unsigned)*p - '0') > 9) {
			fail(jp, p, "a digit after '.'");
			return NULL;
		}
		do {
			if (nd < 19) {
				if (m || d) {
					m = m * 10 + d;
					nd++;
				}
				if (e10 > -100000)
					e10--;
			} else {
				lost |= d != 0;
			}
			p++;
		} while (p < end && (d = (unsigned)*p - '0') <= 9);
	}
	if (p < end && (*p | 0x20) == 'e') {
		bool eneg = false;
		int ex = 0;
		p++;
		if (p < end && (*p == '+' || *p == '-')) {
			eneg = *p == '-';
			p++;
		}
		if (p >= end || (d = (unsigned)*p - '0') > 9) {
			fail(jp, p, "a digit in the exponent");
			return NULL;
		}
		do {
			if (ex < 100000)
				ex = ex * 10 + (int)d;
			p++;
		} while (p < end && (d = (unsigned)*p - '0') <= 9);
		e10 += eneg ? -ex : ex;
	}
	if (!lost && m <= ((uint64_t)1 << 53)) {
		if (m == 0) {
			*out = neg ? -0.0 : 0.0;
			return p;
		}
		if (e10 >= -22 && e10 <= 22) {
			double v = (double)m;
			v = e10 < 0 ? v / pow10_exact[-e10] : v * pow10_exact[e10];
			*out = neg ? -v : v;
			return p;
		}
	}
	return parse_num_slow(jp, s, p, out);
}

static int skip_value(struct jp *jp, int depth);

/* Objects and arrays: call with *first = true after the opening bracket;
 * returns 1 with a key (object) or an element ahead, 0 after the closing
 * bracket, -1 on error. */
static int obj_next(struct jp *jp, bool *first, const char *ctx, size_t *koff, size_t *klen)
{
	char exp[96];
	ws(jp);
	if (*first) {
		*first = false;
		if (jp->p < jp->end && *jp->p == '}') {
			jp->p++;
			return 0;
		}
	} else {
		if (jp->p < jp->end && *jp->p == '}') {
			jp->p++;
			return 0;
		}
		if (jp->p >= jp->end || *jp->p != ',') {
			snprintf(exp, sizeof(exp), "',' or '}' in %s", ctx);
			return fail(jp, jp->p, exp);
		}
		jp->p++;
		ws(jp);
	}
	if (jp->p >= jp->end || *jp->p != '"') {
		snprintf(exp, sizeof(exp), "'\"' to start a key in %s", ctx);
		return fail(jp, jp->p, exp);
	}
	if (parse_string(jp, koff, klen) < 0)
		return -1;
	ws(jp);
	if (jp->p >= jp->end || *jp->p != ':') {
		snprintf(exp, sizeof(exp), "':' after a key in %s", ctx);
		return fail(jp, jp->p, exp);
	}
	jp->p++;
	ws(jp);
	return 1;
}

static int arr_next(struct jp *jp, bool *first, const char *ctx)
{
	char exp[96];
	ws(jp);
	if (*first) {
		*first = false;
		if (jp->p < jp->end && *jp->p == ']') {
			jp->p++;
			return 0;
		}
		return 1;
	}
	if (jp->p < jp->end && *jp->p == ']') {
		jp->p++;
		return 0;
	}
	if (jp->p >= jp->end || *jp->p != ',') {
		snprintf(exp, sizeof(exp), "',' or ']' in %s", ctx);
		return fail(jp, jp->p, exp);
	}
	jp->p++;
	ws(jp);
	return 1;
}

static int skip_value(struct jp *jp, int depth)
{
	size_t off, len;
	bool first = true;
	int r;
	double v;

	if (jp->p >= jp->end)
		return fail(jp, jp->p, "a value");
	switch (*jp->p) {
	case '"':
		if (parse_string(jp, &off, &len) < 0)
			return -1;
		jp->nstr = off;
		return 0;
	case '{':
		if (depth >= jp->lim->max_depth)
			return failf(jp, jp->p, "nesting deeper than %d", jp->lim->max_depth);
		jp->p++;
		while ((r = obj_next(jp, &first, "object", &off, &len)) == 1) {
			jp->nstr = off;
			if (skip_value(jp, depth + 1) < 0)
				return -1;
		}
		return r;
	case '[':
		if (depth >= jp->lim->max_depth)
			return failf(jp, jp->p, "nesting deeper than %d", jp->lim->max_depth);
		jp->p++;
		while ((r = arr_next(jp, &first, "array")) == 1)
			if (skip_value(jp, depth + 1) < 0)
				return -1;
		return r;
	case 't':
		return literal(jp, "true");
	case 'f':
		return literal(jp, "false");
	case 'n':
		return literal(jp, "null");
	case 'N':
		return literal(jp, "NaN");
	default:
		if (*jp->p == '-' || (*jp->p >= '0' && *jp->p <= '9')) {
			const unsigned char *e = parse_num(jp, jp->p, &v);
			if (!e)
				return -1;
			jp->p = e;
			return 0;
		}
		return fail(jp, jp->p, "a value");
	}
}

static bool at_null(struct jp *jp)
{
	return jp->p < jp->end && *jp->p == 'n';
}

/* A string value or null (-> EMPTY_STR, or NO_STR when null_absent). */
static int parse_str_value(struct jp *jp, const char *what, bool null_absent, size_t *out)
{
	size_t len;
	if (at_null(jp)) {
		*out = null_absent ? NO_STR : EMPTY_STR;
		return literal(jp, "null");
	}
	if (jp->p >= jp->end || *jp->p != '"') {
		char exp[64];
		snprintf(exp, sizeof(exp), "a string for %s", what);
		return fail(jp, jp->p, exp);
	}
	return parse_string(jp, out, &len);
}

/* A number, null or NaN for statistics. */
static int parse_stat_value(struct jp *jp, const char *what, double *out)
{
	if (jp->p < jp->end && *jp->p == 'n') {
		*out = NAN;
		return literal(jp, "null");
	}
	if (jp->p < jp->end && *jp->p == 'N') {
		*out = NAN;
		return literal(jp, "NaN");
	}
	if (jp->p < jp->end && (*jp->p == '-' || (*jp->p >= '0' && *jp->p <= '9'))) {
		const unsigned char *e = parse_num(jp, jp->p, out);
		if (!e)
			return -1;
		jp->p = e;
		return 0;
	}
	char exp[64];
	snprintf(exp, sizeof(exp), "a number or null for %s", what);
	return fail(jp, jp->p, exp);
}

/* The hot loop: an array of numbers / null / NaN straight into the numbers
 * scratch.  null (or a bare NaN as old archives may have) becomes NaN. */
static int parse_numbers(struct jp *jp, const char *ctx, struct s_vec *out)
{
	const unsigned char *p = jp->p, *end = jp->end;
	size_t start = jp->nnum, n = start;
	size_t limit = jp->lim->max_total_points;
	char exp[96];

	if (p >= end || *p != '[') {
		if (p < end && *p == 'n') {
			out->present = false;
			out->off = start;
			out->len = 0;
			return literal(jp, "null");
		}
		snprintf(exp, sizeof(exp), "'[' or null for %s", ctx);
		return fail(jp, p, exp);
	}
	if (jp->lim->max_points < limit - start)
		limit = start + jp->lim->max_points;
	p = skip_ws(p + 1, end);
	if (p < end && *p == ']') {
		p++;
		goto done;
	}
	for (;;) {
		if (n >= jp->capnum) {
			if (n >= limit) {
				jp->nnum = n;
				if (n - start >= jp->lim->max_points)
					return failf(jp, p, "more than %zu values in %s", jp->lim->max_points, ctx);
				return failf(jp, p, "more than %zu values in the document",
					     jp->lim->max_total_points);
			}
			size_t want = jp->capnum ? jp->capnum * 2 : 4096;
			if (want > jp->lim->max_total_points)
				want = jp->lim->max_total_points;
			if (want <= n)
				want = n + 1;
			jp->num = xrealloc(jp->num, want * sizeof(double));
			jp->capnum = want;
		} else if (n >= limit) {
			if (n - start >= jp->lim->max_points)
				return failf(jp, p, "more than %zu values in %s", jp->lim->max_points, ctx);
			return failf(jp, p, "more than %zu values in the document", jp->lim->max_total_points);
		}
		if (p >= end) {
			snprintf(exp, sizeof(exp), "a number or null in %s", ctx);
			return fail(jp, p, exp);
		}
		unsigned c = *p;
		if (c - '0' <= 9 || c == '-') {
			p = parse_num(jp, p, &jp->num[n]);
			if (!p)
				return -1;
			n++;
		} else if (c == 'n' && end - p >= 4 && memcmp(p, "null", 4) == 0) {
			jp->num[n++] = NAN;
			p += 4;
		} else if (c == 'N' && end - p >= 3 && memcmp(p, "NaN", 3) == 0) {
			jp->num[n++] = NAN;
			p += 3;
		} else {
			snprintf(exp, sizeof(exp), "a number or null in %s", ctx);
			return fail(jp, p, exp);
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == ']') {
			p++;
			break;
		}
		snprintf(exp, sizeof(exp), "',' or ']' in %s", ctx);
		return fail(jp, p, exp);
	}
done:
	jp->nnum = n;
	jp->p = p;
	out->off = start;
	out->len = n - start;
	out->present = true;
	return 0;
}

static int parse_statistics(struct jp *jp, struct jobdata_stats *st)
{
	size_t k, kl;
	bool first = true;
	int r;
	if (at_null(jp))
		return literal(jp, "null");
	if (jp->p >= jp->end || *jp->p != '{')
		return fail(jp, jp->p, "'{' or null for statistics");
	jp->p++;
	while ((r = obj_next(jp, &first, "statistics", &k, &kl)) == 1) {
		double *dst = NULL;
		if (key_is(jp, k, kl, "min"))
			dst = &st->min;
		else if (key_is(jp, k, kl, "avg"))
			dst = &st->avg;
		else if (key_is(jp, k, kl, "max"))
			dst = &st->max;
		jp->nstr = k;
		if (dst ? parse_stat_value(jp, "a statistic", dst) : skip_value(jp, 1))
			return -1;
	}
	return r;
}

static int parse_series(struct jp *jp, struct s_series *s)
{
	size_t k, kl;
	bool first = true;
	int r;
	jp->p++; /* '{' */
	while ((r = obj_next(jp, &first, "series entry", &k, &kl)) == 1) {
		if (key_is(jp, k, kl, "hostname")) {
			jp->nstr = k;
			if (parse_str_value(jp, "hostname", false, &s->host) < 0)
				return -1;
		} else if (key_is(jp, k, kl, "id")) {
			jp->nstr = k;
			if (parse_str_value(jp, "id", true, &s->id) < 0)
				return -1;
		} else if (key_is(jp, k, kl, "statistics")) {
			jp->nstr = k;
			if (parse_statistics(jp, &s->st) < 0)
				return -1;
		} else if (key_is(jp, k, kl, "data")) {
			struct s_vec v;
			jp->nstr = k;
			if (parse_numbers(jp, "series data", &v) < 0)
				return -1;
			s->data = v.off;
			s->len = v.len;
		} else {
			jp->nstr = k;
			if (skip_value(jp, 1) < 0)
				return -1;
		}
	}
	return r;
}

static int parse_series_array(struct jp *jp, struct s_metric *m)
{
	bool first = true;
	int r;
	m->ser_first = jp->nser;
	m->nser = 0;
	if (at_null(jp))
		return literal(jp, "null");
	if (jp->p >= jp->end || *jp->p != '[')
		return fail(jp, jp->p, "'[' or null for series");
	jp->p++;
	while ((r = arr_next(jp, &first, "series")) == 1) {
		if (jp->p >= jp->end || *jp->p != '{')
			return fail(jp, jp->p, "'{' to start a series entry");
		if (m->nser >= jp->lim->max_series)
			return failf(jp, jp->p, "more than %zu series in one metric", jp->lim->max_series);
		if (jp->nser >= jp->lim->max_total_series)
			return failf(jp, jp->p, "more than %zu series in the document",
				     jp->lim->max_total_series);
		struct s_series s = {
			.host = EMPTY_STR, .id = NO_STR, .data = jp->nnum, .len = 0,
			.st = { NAN, NAN, NAN },
		};
		if (parse_series(jp, &s) < 0)
			return -1;
		/* nested values never add series, so this metric's stay contiguous */
		jp->ser = grow_vec(jp->ser, &jp->capser, jp->nser + 1, sizeof(*jp->ser));
		jp->ser[jp->nser++] = s;
		m->nser++;
	}
	return r;
}

static int parse_unit(struct jp *jp, struct s_metric *m)
{
	size_t k, kl;
	bool first = true;
	int r;
	if (at_null(jp))
		return literal(jp, "null");
	if (jp->p >= jp->end || *jp->p != '{')
		return fail(jp, jp->p, "'{' or null for unit");
	jp->p++;
	while ((r = obj_next(jp, &first, "unit", &k, &kl)) == 1) {
		if (key_is(jp, k, kl, "base")) {
			jp->nstr = k;
			if (parse_str_value(jp, "unit base", false, &m->base) < 0)
				return -1;
		} else if (key_is(jp, k, kl, "prefix")) {
			jp->nstr = k;
			if (parse_str_value(jp, "unit prefix", false, &m->prefix) < 0)
				return -1;
		} else {
			jp->nstr = k;
			if (skip_value(jp, 1) < 0)
				return -1;
		}
	}
	return r;
}

static int parse_timestep(struct jp *jp, int *out)
{
	const unsigned char *p = jp->p;
	long long v = 0;
	if (at_null(jp))
		return literal(jp, "null");
	if (p >= jp->end || *p < '0' || *p > '9')
		return fail(jp, p, "a non-negative integer timestep");
	if (*p == '0') {
		p++; /* JSON has no leading zeros: "07" fails at the '7' */
	} else {
		while (p < jp->end && *p >= '0' && *p <= '9') {
			v = v * 10 + (*p - '0');
			if (v > INT_MAX)
				return failf(jp, jp->p, "timestep out of range");
			p++;
		}
	}
	if (p < jp->end && (*p == '.' || *p == 'e' || *p == 'E'))
		return fail(jp, p, "an integer timestep");
	*out = (int)v;
	jp->p = p;
	return 0;
}

static int parse_percentiles(struct jp *jp, struct s_metric *m)
{
	size_t k, kl;
	bool first = true;
	int r;
	m->pct_first = jp->npct;
	m->npct = 0;
	if (at_null(jp))
		return literal(jp, "null");
	if (jp->p >= jp->end || *jp->p != '{')
		return fail(jp, jp->p, "'{' or null for percentiles");
	jp->p++;
	while ((r = obj_next(jp, &first, "percentiles", &k, &kl)) == 1) {
		const char *key = jp->str + k;
		int p = 0;
		if (kl == 0 || kl > 3)
			return failf(jp, jp->p, "percentile key \"%.8s\" is not an integer 0..100", key);
		for (size_t i = 0; i < kl; i++) {
			if (key[i] < '0' || key[i] > '9')
				return failf(jp, jp->p, "percentile key \"%.8s\" is not an integer 0..100", key);
			p = p * 10 + (key[i] - '0');
		}
		if (p > 100)
			return failf(jp, jp->p, "percentile key \"%.8s\" is not an integer 0..100", key);
		jp->nstr = k;
		if (m->npct >= 101)
			return failf(jp, jp->p, "more than 101 percentiles");
		struct s_pct pc = { .p = p };
		if (parse_numbers(jp, "statisticsSeries percentiles", &pc.v) < 0)
			return -1;
		jp->pct = grow_vec(jp->pct, &jp->cappct, jp->npct + 1, sizeof(*jp->pct));
		jp->pct[jp->npct++] = pc;
		m->npct++;
	}
	return r;
}

static int parse_stats_series(struct jp *jp, struct s_metric *m)
{
	size_t k, kl;
	bool first = true;
	int r;
	if (at_null(jp)) {
		m->has_ss = false;
		return literal(jp, "null");
	}
	if (jp->p >= jp->end || *jp->p != '{')
		return fail(jp, jp->p, "'{' or null for statisticsSeries");
	jp->p++;
	m->has_ss = true;
	memset(&m->mean, 0, sizeof(m->mean));
	m->median = m->min = m->max = m->mean;
	m->npct = 0;
	while ((r = obj_next(jp, &first, "statisticsSeries", &k, &kl)) == 1) {
		struct s_vec *dst = NULL;
		if (key_is(jp, k, kl, "mean"))
			dst = &m->mean;
		else if (key_is(jp, k, kl, "median"))
			dst = &m->median;
		else if (key_is(jp, k, kl, "min"))
			dst = &m->min;
		else if (key_is(jp, k, kl, "max"))
			dst = &m->max;
		if (dst) {
			jp->nstr = k;
			if (parse_numbers(jp, "statisticsSeries", dst) < 0)
				return -1;
		} else if (key_is(jp, k, kl, "percentiles")) {
			jp->nstr = k;
			if (parse_percentiles(jp, m) < 0)
				return -1;
		} else {
			jp->nstr = k;
			if (skip_value(jp, 1) < 0)
				return -1;
		}
	}
	return r;
}

static int parse_metric(struct jp *jp, size_t name, size_t scope)
{
	size_t k, kl;
	bool first = true;
	int r;
	const unsigned char *at = jp->p;
	struct s_metric m = {
		.name = name, .scope = scope, .base = EMPTY_STR, .prefix = EMPTY_STR,
		.ser_first = jp->nser, .live = true,
	};
	jp->p++; /* '{' */
	while ((r = obj_next(jp, &first, "metric", &k, &kl)) == 1) {
		int rc;
		bool unit = key_is(jp, k, kl, "unit"), ts = key_is(jp, k, kl, "timestep");
		bool ser = key_is(jp, k, kl, "series"), ss = key_is(jp, k, kl, "statisticsSeries");
		jp->nstr = k;
		if (unit)
			rc = parse_unit(jp, &m);
		else if (ts)
			rc = parse_timestep(jp, &m.timestep);
		else if (ser)
			rc = parse_series_array(jp, &m);
		else if (ss)
			rc = parse_stats_series(jp, &m);
		else
			rc = skip_value(jp, 1);
		if (rc < 0)
			return -1;
	}
	if (r < 0)
		return -1;
	/* a repeated (metric, scope) pair replaces the earlier one, as a Go map would */
	for (size_t i = 0; i < jp->nmet; i++) {
		struct s_metric *o = &jp->met[i];
		if (o->live && strcmp(jp->str + o->name, jp->str + name) == 0 &&
		    strcmp(jp->str + o->scope, jp->str + scope) == 0) {
			o->live = false;
			jp->nlive--;
		}
	}
	if (jp->nlive >= jp->lim->max_metrics)
		return failf(jp, at, "more than %zu metric scopes", jp->lim->max_metrics);
	jp->met = grow_vec(jp->met, &jp->capmet, jp->nmet + 1, sizeof(*jp->met));
	jp->met[jp->nmet++] = m;
	jp->nlive++;
	return 0;
}

static int parse_scopes(struct jp *jp, size_t name)
{
	size_t k, kl;
	bool first = true;
	int r;
	jp->p++; /* '{' */
	while ((r = obj_next(jp, &first, "metric scopes", &k, &kl)) == 1) {
		/* the scope name stays in the string scratch: the metric refers to it */
		if (jp->p < jp->end && *jp->p == '{') {
			if (parse_metric(jp, name, k) < 0)
				return -1;
		} else {
			jp->nstr = k; /* null or another type: nothing to keep */
			if (skip_value(jp, 2) < 0)
				return -1;
		}
	}
	return r;
}

static int parse_document(struct jp *jp)
{
	size_t k, kl;
	bool first = true;
	int r;
	ws(jp);
	if (at_null(jp)) {
		if (literal(jp, "null") < 0)
			return -1;
	} else {
		if (jp->p >= jp->end || *jp->p != '{')
			return fail(jp, jp->p, "'{' to start the document");
		jp->p++;
		while ((r = obj_next(jp, &first, "document", &k, &kl)) == 1) {
			if (jp->p < jp->end && *jp->p == '{') {
				if (parse_scopes(jp, k) < 0)
					return -1;
			} else {
				/* e.g. the schema's "filesystems" array: not a metric we model */
				jp->nstr = k;
				if (skip_value(jp, 1) < 0)
					return -1;
			}
		}
		if (r < 0)
			return -1;
	}
	ws(jp);
	if (jp->p < jp->end)
		return fail(jp, jp->p, "end of input after the document");
	return 0;
}

static void jp_release(struct jp *jp)
{
	free(jp->num);
	free(jp->ser);
	free(jp->met);
	free(jp->pct);
	free(jp->str);
}

static int pct_cmp(const void *a, const void *b)
{
	const struct jobdata_percentile *x = a, *y = b;
	return (x->p > y->p) - (x->p < y->p);
}

/* Turn the scratch into one block: [numbers][struct jobdata][metric pointers]
 * [metrics][series][statistics series][percentiles][strings]. */
static struct jobdata *jp_finish(struct jp *jp)
{
	size_t nm = 0, ns = 0, nss = 0, np = 0;
	for (size_t i = 0; i < jp->nmet; i++) {
		const struct s_metric *m = &jp->met[i];
		if (!m->live)
			continue;
		nm++;
		ns += m->nser;
		if (m->has_ss) {
			nss++;
			np += m->npct;
		}
	}
	size_t o_d = ALIGN16(jp->nnum * sizeof(double));
	size_t o_mp = o_d + ALIGN16(sizeof(struct jobdata));
	size_t o_m = o_mp + ALIGN16(nm * sizeof(struct jobdata_metric *));
	size_t o_s = o_m + ALIGN16(nm * sizeof(struct jobdata_metric));
	size_t o_ss = o_s + ALIGN16(ns * sizeof(struct jobdata_series));
	size_t o_p = o_ss + ALIGN16(nss * sizeof(struct jobdata_stats_series));
	size_t o_str = o_p + ALIGN16(np * sizeof(struct jobdata_percentile));
	size_t total = o_str + jp->nstr;

	char *block = xrealloc(jp->num, total);
	jp->num = NULL;
	double *num = (double *)block;
	const char *str = block + o_str;
	memcpy(block + o_str, jp->str, jp->nstr);

	struct jobdata *d = (struct jobdata *)(block + o_d);
	memset(d, 0, sizeof(*d));
	d->block = block;
	d->block_size = total;
	d->metrics = (struct jobdata_metric **)(block + o_mp);
	d->nmetrics = nm;
	d->metrics_cap = 0;

	struct jobdata_metric *mo = (struct jobdata_metric *)(block + o_m);
	struct jobdata_series *so = (struct jobdata_series *)(block + o_s);
	struct jobdata_stats_series *sso = (struct jobdata_stats_series *)(block + o_ss);
	struct jobdata_percentile *po = (struct jobdata_percentile *)(block + o_p);

#define VEC(sv) ((struct jobdata_vec){ (sv).present ? num + (sv).off : NULL, (sv).present ? (sv).len : 0 })
	size_t mi = 0;
	for (size_t i = 0; i < jp->nmet; i++) {
		const struct s_metric *m = &jp->met[i];
		if (!m->live)
			continue;
		struct jobdata_metric *dm = &mo[mi];
		d->metrics[mi++] = dm;
		dm->name = str + m->name;
		dm->scope = str + m->scope;
		dm->unit.base = str + m->base;
		dm->unit.prefix = str + m->prefix;
		dm->timestep = m->timestep;
		dm->series = so;
		dm->nseries = m->nser;
		for (size_t j = 0; j < m->nser; j++) {
			const struct s_series *s = &jp->ser[m->ser_first + j];
			so->hostname = str + s->host;
			so->id = s->id == NO_STR ? NULL : str + s->id;
			so->stats = s->st;
			so->data = s->len ? num + s->data : NULL;
			so->len = s->len;
			so++;
		}
		dm->stats_series = NULL;
		if (m->has_ss) {
			struct jobdata_stats_series *ss = sso++;
			ss->mean = VEC(m->mean);
			ss->median = VEC(m->median);
			ss->min = VEC(m->min);
			ss->max = VEC(m->max);
			ss->percentiles = po;
			ss->npercentiles = 0;
			/* a repeated key wins over the earlier one, as in a Go map */
			for (size_t j = m->npct; j-- > 0;) {
				const struct s_pct *pc = &jp->pct[m->pct_first + j];
				bool dup = false;
				for (size_t t = 0; t < ss->npercentiles; t++)
					dup |= ss->percentiles[t].p == pc->p;
				if (dup)
					continue;
				ss->percentiles[ss->npercentiles].p = pc->p;
				ss->percentiles[ss->npercentiles].data = VEC(pc->v);
				ss->npercentiles++;
			}
			qsort(ss->percentiles, ss->npercentiles, sizeof(*ss->percentiles), pct_cmp);
			po += ss->npercentiles;
			dm->stats_series = ss;
		}
	}
#undef VEC
	return d;
}

/* Fresh memory costs a page fault per 4 KiB, which on virtual machines can
 * cost more than parsing the numbers that fill it.  Transparent huge pages
 * (when the system offers them on request) take one fault per 2 MiB. */
static void advise_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
	const uintptr_t huge = (uintptr_t)2 << 20;
	if (n < 2 * huge)
		return;
	uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
	uintptr_t e = ((uintptr_t)p + n) & ~(huge - 1);
	if (e > a)
		madvise((void *)a, e - a, MADV_HUGEPAGE); /* advice only: failure is fine */
#else
	(void)p;
	(void)n;
#endif
}

struct jobdata *jobdata_parse(const char *text, size_t len, const struct jobdata_limits *lim,
			      char *err, size_t errlen)
{
	struct jp jp;
	memset(&jp, 0, sizeof(jp));
	jp.beg = jp.p = (const unsigned char *)text;
	jp.end = jp.beg + len;
	jp.lim = lim ? lim : &jobdata_limits_default;
	jp.err = err;
	jp.errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
	/* Room for len / 4 numbers: compact files spend ~7 bytes per number,
	 * pretty-printed ones ~30, so growing (and copying) is rare.  Pages never
	 * touched cost nothing, and the block is trimmed to size at the end. */
	size_t guess = len / 4 + 64;
	if (guess > jp.lim->max_total_points)
		guess = jp.lim->max_total_points;
	if (guess > (size_t)1 << 24)
		guess = (size_t)1 << 24; /* 128 MiB; beyond that grow on demand */
	jp.num = xmalloc(guess * sizeof(double));
	jp.capnum = guess;
	advise_huge(jp.num, guess * sizeof(double));
	jp.str = grow_vec(NULL, &jp.capstr, 4096, 1);
	jp.str[jp.nstr++] = '\0'; /* EMPTY_STR */

	if (parse_document(&jp) < 0) {
		jp_release(&jp);
		return NULL;
	}
	struct jobdata *d = jp_finish(&jp);
	jp_release(&jp);
	return d;
}

struct jobdata *jobdata_decode(const void *bytes, size_t len, const struct jobdata_limits *lim,
			       char *err, size_t errlen)
{
	const unsigned char *b = bytes;
	if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
		struct buf raw = BUF_INIT;
		if (jobdata_gunzip(bytes, len, &raw, JOBDATA_GUNZIP_MAX, err, errlen) < 0) {
			buf_release(&raw);
			return NULL;
		}
		struct jobdata *d = jobdata_parse(raw.data, raw.len, lim, err, errlen);
		buf_release(&raw);
		return d;
	}
	return jobdata_parse(bytes, len, lim, err, errlen);
}

void jobdata_free(struct jobdata *d)
{
	if (!d)
		return;
	struct jobdata_chunk *c = d->chunks;
	while (c) {
		struct jobdata_chunk *next = c->next;
		free(c);
		c = next;
	}
	if (d->block)
		free(d->block); /* d lives inside it */
	else
		free(d);
}

size_t jobdata_size(const struct jobdata *d)
{
	if (!d)
		return 0;
	return (d->block ? d->block_size : sizeof(*d)) + d->chunk_bytes;
}

struct jobdata_metric *jobdata_find(const struct jobdata *d, const char *metric, const char *scope)
{
	for (size_t i = 0; i < d->nmetrics; i++) {
		struct jobdata_metric *m = d->metrics[i];
		if (strcmp(m->name, metric) == 0 && strcmp(m->scope, scope) == 0)
			return m;
	}
	return NULL;
}

/* ------------------------------------------------------------------------
 * Building */

struct jobdata *jobdata_new(void)
{
	return xcalloc(1, sizeof(struct jobdata));
}

struct jobdata_metric *jobdata_add_metric(struct jobdata *d, const char *name, const char *scope,
					  const char *unit_base, const char *unit_prefix, int timestep,
					  size_t nseries)
{
	if (d->nmetrics >= d->metrics_cap) {
		/* the parsed array has no spare room (cap 0); move to a chunk */
		size_t cap = d->nmetrics < 8 ? 16 : d->nmetrics * 2;
		struct jobdata_metric **mv = jd_alloc(d, cap * sizeof(*mv));
		if (d->nmetrics)
			memcpy(mv, d->metrics, d->nmetrics * sizeof(*mv));
		d->metrics = mv;
		d->metrics_cap = cap;
	}
	struct jobdata_metric *m = jd_alloc(d, sizeof(*m));
	m->name = jd_strdup(d, name);
	m->scope = jd_strdup(d, scope);
	m->unit.base = jd_strdup(d, unit_base ? unit_base : "");
	m->unit.prefix = jd_strdup(d, unit_prefix ? unit_prefix : "");
	m->timestep = timestep;
	m->nseries = nseries;
	m->series = NULL;
	m->stats_series = NULL;
	if (nseries) {
		if (nseries > SIZE_MAX / sizeof(*m->series))
			xdie("jobdata_add_metric: %zu series", nseries);
		m->series = jd_alloc(d, nseries * sizeof(*m->series));
		for (size_t i = 0; i < nseries; i++) {
			m->series[i] = (struct jobdata_series){
				.hostname = "", .id = NULL, .stats = { NAN, NAN, NAN }, .data = NULL, .len = 0,
			};
		}
	}
	d->metrics[d->nmetrics++] = m;
	return m;
}

double *jobdata_set_series(struct jobdata *d, struct jobdata_metric *m, size_t i,
			   const char *hostname, const char *id, size_t len)
{
	if (i >= m->nseries)
		xdie("jobdata_set_series: series %zu of %zu", i, m->nseries);
	if (len > SIZE_MAX / sizeof(double))
		xdie("jobdata_set_series: %zu values", len);
	struct jobdata_series *s = &m->series[i];
	s->hostname = jd_strdup(d, hostname ? hostname : "");
	s->id = id ? jd_strdup(d, id) : NULL;
	s->stats = (struct jobdata_stats){ NAN, NAN, NAN };
	s->len = len;
	s->data = len ? jd_alloc(d, len * sizeof(double)) : NULL;
	for (size_t j = 0; j < len; j++)
		s->data[j] = NAN;
	return s->data;
}

/* ------------------------------------------------------------------------
 * Writing.  Numbers follow cc-lib: statistics and statisticsSeries values
 * are strconv.AppendFloat(v, 'f', 2, 64), series data AppendFloat(v, 'f', 2,
 * 32), i.e. the value rounded to float32 first.  Go rounds the exact binary
 * value half-to-even, which is what the code below and glibc's printf do. */

static char *put_u64(char *o, uint64_t v)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*o++ = tmp[--n];
	return o;
}

/* cents = the value times 100, already rounded */
static size_t put_cents(char *out, bool neg, uint64_t cents)
{
	char *o = out;
	if (neg)
		*o++ = '-';
	o = put_u64(o, cents / 100);
	unsigned f = (unsigned)(cents % 100);
	*o++ = '.';
	*o++ = (char)('0' + f / 10);
	*o++ = (char)('0' + f % 10);
	return (size_t)(o - out);
}

size_t jobdata_format_data(double v, char *out)
{
	/* NaN is null; so are values float32 cannot hold, which Go would print
	 * as "+Inf" and then fail to encode */
	if (!(fabs(v) <= FLT_MAX)) {
		memcpy(out, "null", 4);
		return 4;
	}
	double x = (double)(float)v;
	/* a float32 has 24 significant bits and 100 needs 7: x * 100 is exact,
	 * so rounding it to an integer (half-even, by the 2^52 trick) rounds the
	 * exact value as Go does */
	double a = fabs(x * 100.0);
	if (a < 0x1p52) {
		double r = (a + 0x1p52) - 0x1p52;
		return put_cents(out, signbit(x), (uint64_t)r);
	}
	return (size_t)snprintf(out, 48, "%.2f", x);
}

size_t jobdata_format_stat(double v, char *out)
{
	if (!isfinite(v)) {
		memcpy(out, "null", 4);
		return 4;
	}
	/* v * 100 is off the exact product by at most 2^-22 below 2^32; away
	 * from a .5 tie that cannot change the rounded result */
	double a = fabs(v * 100.0);
	if (a < 0x1p32) {
		double fl = (double)(uint64_t)a;
		double fr = a - fl;
		if (fabs(fr - 0.5) > 0x1p-18)
			return put_cents(out, signbit(v), (uint64_t)fl + (fr > 0.5));
	}
	return (size_t)snprintf(out, 400, "%.2f", v);
}

/* A JSON string as Go's encoder writes it (HTML-safe: < > & as \u003c...,
 * U+2028/2029 escaped, invalid UTF-8 as U+FFFD). */
static void put_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	const unsigned char *end = p + n;
	buf_grow(b, n + 2);
	buf_addch(b, '"');
	while (p < end) {
		const unsigned char *q = p;
		while (q < end && *q >= 0x20 && *q < 0x80 && *q != '"' && *q != '\\' && *q != '<' &&
		       *q != '>' && *q != '&')
			q++;
		if (q > p)
			buf_add(b, p, (size_t)(q - p));
		p = q;
		if (p >= end)
			break;
		unsigned c = *p;
		if (c < 0x80) {
			char e[6] = { '\\', 0, 0, 0, 0, 0 };
			switch (c) {
			case '"': buf_add(b, "\\\"", 2); break;
			case '\\': buf_add(b, "\\\\", 2); break;
			case '\b': buf_add(b, "\\b", 2); break;
			case '\f': buf_add(b, "\\f", 2); break;
			case '\n': buf_add(b, "\\n", 2); break;
			case '\r': buf_add(b, "\\r", 2); break;
			case '\t': buf_add(b, "\\t", 2); break;
			default:
				e[1] = 'u';
				e[2] = '0';
				e[3] = '0';
				e[4] = hex[c >> 4];
				e[5] = hex[c & 15];
				buf_add(b, e, 6);
			}
			p++;
			continue;
		}
		size_t l = utf8_len(p, end);
		if (!l) {
			buf_add(b, "\\ufffd", 6);
			p++;
		} else if (l == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
			buf_add(b, p[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
			p += 3;
		} else {
			buf_add(b, p, l);
			p += l;
		}
	}
	buf_addch(b, '"');
}

static void put_stat(struct buf *b, double v)
{
	char tmp[400];
	buf_add(b, tmp, jobdata_format_stat(v, tmp));
}

static void put_vec(struct buf *b, const struct jobdata_vec *v)
{
	if (!v->v) {
		buf_add(b, "null", 4);
		return;
	}
	buf_addch(b, '[');
	for (size_t i = 0; i < v->len; i++) {
		if (i)
			buf_addch(b, ',');
		put_stat(b, v->v[i]);
	}
	buf_addch(b, ']');
}

static void put_data(struct buf *b, const double *v, size_t n)
{
	buf_addch(b, '[');
	size_t i = 0;
	while (i < n) {
		/* reserve for a batch, then write without per-number checks */
		size_t batch = n - i < 1024 ? n - i : 1024;
		buf_grow(b, batch * 49);
		char *o = b->data + b->len;
		for (size_t e = i + batch; i < e; i++) {
			if (i)
				*o++ = ',';
			o += jobdata_format_data(v[i], o);
		}
		b->len = (size_t)(o - b->data);
		b->data[b->len] = '\0';
	}
	buf_addch(b, ']');
}

static void put_series(struct buf *b, const struct jobdata_series *s)
{
	buf_adds(b, "{\"hostname\":");
	put_str(b, s->hostname ? s->hostname : "");
	if (s->id) {
		buf_adds(b, ",\"id\":");
		put_str(b, s->id);
	}
	buf_adds(b, ",\"statistics\":{\"min\":");
	put_stat(b, s->stats.min);
	buf_adds(b, ",\"avg\":");
	put_stat(b, s->stats.avg);
	buf_adds(b, ",\"max\":");
	put_stat(b, s->stats.max);
	buf_adds(b, "},\"data\":");
	put_data(b, s->data, s->len);
	buf_addch(b, '}');
}

/* Go sorts map[int] keys by their decimal strings: "10" < "25" < "5" < "50" */
static int pct_str_cmp(const void *a, const void *b)
{
	char x[16], y[16];
	snprintf(x, sizeof(x), "%d", (*(const struct jobdata_percentile *const *)a)->p);
	snprintf(y, sizeof(y), "%d", (*(const struct jobdata_percentile *const *)b)->p);
	return strcmp(x, y);
}

static void put_stats_series(struct buf *b, const struct jobdata_stats_series *ss)
{
	buf_addch(b, '{');
	if (ss->npercentiles) {
		const struct jobdata_percentile **order = xmalloc(ss->npercentiles * sizeof(*order));
		for (size_t i = 0; i < ss->npercentiles; i++)
			order[i] = &ss->percentiles[i];
		qsort(order, ss->npercentiles, sizeof(*order), pct_str_cmp);
		buf_adds(b, "\"percentiles\":{");
		for (size_t i = 0; i < ss->npercentiles; i++) {
			if (i)
				buf_addch(b, ',');
			buf_addf(b, "\"%d\":", order[i]->p);
			put_vec(b, &order[i]->data);
		}
		buf_adds(b, "},");
		free(order);
	}
	buf_adds(b, "\"mean\":");
	put_vec(b, &ss->mean);
	buf_adds(b, ",\"median\":");
	put_vec(b, &ss->median);
	buf_adds(b, ",\"min\":");
	put_vec(b, &ss->min);
	buf_adds(b, ",\"max\":");
	put_vec(b, &ss->max);
	buf_addch(b, '}');
}

static void put_metric(struct buf *b, const struct jobdata_metric *m)
{
	buf_adds(b, "{\"unit\":{\"base\":");
	put_str(b, m->unit.base ? m->unit.base : "");
	if (m->unit.prefix && *m->unit.prefix) {
		buf_adds(b, ",\"prefix\":");
		put_str(b, m->unit.prefix);
	}
	buf_addf(b, "},\"timestep\":%d,\"series\":[", m->timestep);
	for (size_t i = 0; i < m->nseries; i++) {
		if (i)
			buf_addch(b, ',');
		put_series(b, &m->series[i]);
	}
	buf_addch(b, ']');
	if (m->stats_series) {
		buf_adds(b, ",\"statisticsSeries\":");
		put_stats_series(b, m->stats_series);
	}
	buf_addch(b, '}');
}

static int metric_cmp(const void *a, const void *b)
{
	const struct jobdata_metric *x = *(const struct jobdata_metric *const *)a;
	const struct jobdata_metric *y = *(const struct jobdata_metric *const *)b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->scope, y->scope);
}

/* the metrics sorted by (name, scope) as Go's map encoding orders them */
static struct jobdata_metric **sorted_metrics(const struct jobdata *d)
{
	struct jobdata_metric **v = xmalloc((d->nmetrics ? d->nmetrics : 1) * sizeof(*v));
	if (d->nmetrics)
		memcpy(v, d->metrics, d->nmetrics * sizeof(*v));
	qsort(v, d->nmetrics, sizeof(*v), metric_cmp);
	return v;
}

void jobdata_write(const struct jobdata *d, struct buf *out)
{
	size_t est = 2;
	for (size_t i = 0; i < d->nmetrics; i++) {
		const struct jobdata_metric *m = d->metrics[i];
		est += 96;
		for (size_t j = 0; j < m->nseries; j++)
			est += 96 + m->series[j].len * 7;
	}
	buf_grow(out, est);

	struct jobdata_metric **v = sorted_metrics(d);
	buf_addch(out, '{');
	for (size_t i = 0; i < d->nmetrics;) {
		const char *name = v[i]->name;
		if (i)
			buf_addch(out, ',');
		put_str(out, name);
		buf_add(out, ":{", 2);
		size_t j = i;
		for (; j < d->nmetrics && strcmp(v[j]->name, name) == 0; j++) {
			if (j > i)
				buf_addch(out, ',');
			put_str(out, v[j]->scope);
			buf_addch(out, ':');
			put_metric(out, v[j]);
		}
		buf_addch(out, '}');
		i = j;
	}
	buf_addch(out, '}');
	free(v);
}

int jobdata_encode_archive(const struct jobdata *d, struct buf *out, bool *gzipped,
			   char *err, size_t errlen)
{
	struct buf raw = BUF_INIT;
	jobdata_write(d, &raw);
	buf_addch(&raw, '\n');
	int rc = 0;
	if (raw.len > JOBDATA_GZIP_THRESHOLD) {
		*gzipped = true;
		rc = jobdata_gzip(raw.data, raw.len, out, err, errlen);
	} else {
		*gzipped = false;
		buf_add(out, raw.data, raw.len);
	}
	buf_release(&raw);
	return rc;
}

/* ------------------------------------------------------------------------
 * gzip */

__attribute__((format(printf, 3, 4)))
static int gz_fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int jobdata_gunzip(const void *in, size_t n, struct buf *out, size_t max, char *err, size_t errlen)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return gz_fail(err, errlen, "data.json.gz: cannot start zlib: %s", z.msg ? z.msg : "?");
	const unsigned char *src = in;
	size_t left = n, produced = 0, start = out->len;
	int rc = 0;
	/* these files compress ~15:1; start near that (within reason) and double */
	size_t first = n < max / 16 ? n * 16 : max;
	if (first > (size_t)64 << 20)
		first = (size_t)64 << 20;
	buf_grow(out, (first < 65536 ? 65536 : first) + 1);
	for (;;) {
		if (z.avail_in == 0 && left) {
			uInt c = left > UINT_MAX ? UINT_MAX : (uInt)left;
			z.next_in = (Bytef *)(uintptr_t)src;
			z.avail_in = c;
			src += c;
			left -= c;
		}
		if (out->cap - out->len - 1 < 4096)
			buf_grow(out, out->len - start < 65536 ? 65536 : out->len - start);
		size_t space = out->cap - out->len - 1;
		size_t allow = max - produced + 1; /* one byte past the cap shows the overflow */
		if (space > allow)
			space = allow;
		if (space > UINT_MAX)
			space = UINT_MAX;
		z.next_out = (Bytef *)out->data + out->len;
		z.avail_out = (uInt)space;
		int r = inflate(&z, Z_NO_FLUSH);
		size_t got = space - z.avail_out;
		out->len += got;
		produced += got;
		if (produced > max) {
			rc = gz_fail(err, errlen, "data.json.gz: decompressed size exceeds %zu bytes", max);
			break;
		}
		if (r == Z_STREAM_END) {
			if (z.avail_in == 0 && left) {
				uInt c = left > UINT_MAX ? UINT_MAX : (uInt)left;
				z.next_in = (Bytef *)(uintptr_t)src;
				z.avail_in = c;
				src += c;
				left -= c;
			}
			if (z.avail_in == 0)
				break;
			/* another gzip member follows (Go's reader reads them all) */
			if (z.avail_in < 2 || z.next_in[0] != 0x1f || z.next_in[1] != 0x8b) {
				rc = gz_fail(err, errlen,
					     "data.json.gz: invalid compressed data (garbage after the gzip stream)");
				break;
			}
			inflateReset(&z);
			continue;
		}
		if (r == Z_BUF_ERROR) {
			if (z.avail_in == 0 && left == 0) {
				rc = gz_fail(err, errlen,
					     "data.json.gz: invalid compressed data (unexpected end of input)");
				break;
			}
			continue; /* needs more output room */
		}
		if (r != Z_OK) {
			rc = gz_fail(err, errlen, "data.json.gz: invalid compressed data (%s)",
				     z.msg ? z.msg : (r == Z_MEM_ERROR ? "out of memory" : "corrupt stream"));
			break;
		}
	}
	inflateEnd(&z);
	if (rc < 0)
		out->len = start;
	out->data[out->len] = '\0';
	return rc;
}

int jobdata_gzip(const void *in, size_t n, struct buf *out, char *err, size_t errlen)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	/* level 6 as Go's gzip.DefaultCompression; header OS "unknown" (255) and
	 * no mtime, byte for byte what Go's gzip.Writer puts in front */
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return gz_fail(err, errlen, "gzip: cannot start zlib: %s", z.msg ? z.msg : "?");
	gz_header h;
	memset(&h, 0, sizeof(h));
	h.os = 255;
	deflateSetHeader(&z, &h);
	const unsigned char *src = in;
	size_t left = n, start = out->len;
	buf_grow(out, (size_t)deflateBound(&z, (uLong)(n < ULONG_MAX ? n : ULONG_MAX)) + 64);
	int rc = 0;
	for (;;) {
		if (z.avail_in == 0 && left) {
			uInt c = left > UINT_MAX ? UINT_MAX : (uInt)left;
			z.next_in = (Bytef *)(uintptr_t)src;
			z.avail_in = c;
			src += c;
			left -= c;
		}
		if (out->cap - out->len - 1 < 4096)
			buf_grow(out, 65536);
		size_t space = out->cap - out->len - 1;
		if (space > UINT_MAX)
			space = UINT_MAX;
		z.next_out = (Bytef *)out->data + out->len;
		z.avail_out = (uInt)space;
		int r = deflate(&z, left || z.avail_in > 0 ? Z_NO_FLUSH : Z_FINISH);
		out->len += space - z.avail_out;
		if (r == Z_STREAM_END)
			break;
		if (r != Z_OK && r != Z_BUF_ERROR) {
			rc = gz_fail(err, errlen, "gzip: compression failed (%s)", z.msg ? z.msg : "?");
			break;
		}
	}
	deflateEnd(&z);
	if (rc < 0)
		out->len = start;
	out->data[out->len] = '\0';
	return rc;
}

/* ------------------------------------------------------------------------
 * Statistics */

void jobdata_series_stats(const double *v, size_t n, struct jobdata_stats *out)
{
	double min = INFINITY, max = -INFINITY, sum = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		double x = v[i];
		if (isnan(x))
			continue;
		sum += x;
		k++;
		if (x < min)
			min = x;
		if (x > max)
			max = x;
	}
	if (!k) {
		out->min = out->avg = out->max = NAN;
		return;
	}
	out->min = min;
	out->max = max;
	out->avg = sum / (double)k;
}

static bool stats_missing(const struct jobdata_stats *s)
{
	return isnan(s->min) && isnan(s->avg) && isnan(s->max);
}

void jobdata_fill_stats(struct jobdata *d, bool overwrite)
{
	for (size_t i = 0; i < d->nmetrics; i++) {
		struct jobdata_metric *m = d->metrics[i];
		for (size_t j = 0; j < m->nseries; j++) {
			struct jobdata_series *s = &m->series[j];
			if (overwrite || stats_missing(&s->stats))
				jobdata_series_stats(s->data, s->len, &s->stats);
		}
	}
}

/* math.Round(x*100)/100 as cc-backend writes it: halves away from zero */
static double round2(double x)
{
	return round(x * 100) / 100;
}

int jobdata_job_stat(const struct jobdata_metric *m, int num_nodes, struct jobdata_stats *out)
{
	double sum = 0, min = INFINITY, max = -INFINITY;
	size_t used = 0;
	for (size_t j = 0; j < m->nseries; j++) {
		const struct jobdata_series *s = &m->series[j];
		struct jobdata_stats st = s->stats;
		if (stats_missing(&st))
			jobdata_series_stats(s->data, s->len, &st);
		/* upstream's loader rounds series statistics (RoundMetricStats)
		 * before the archiver sums them; for values read from data.json
		 * (two decimals already) this changes nothing */
		st.min = round2(st.min);
		st.avg = round2(st.avg);
		st.max = round2(st.max);
		if (!isnan(st.avg)) {
			sum += st.avg;
			used++;
		}
		if (!isnan(st.min) && st.min < min)
			min = st.min;
		if (!isnan(st.max) && st.max > max)
			max = st.max;
	}
	if (!used)
		return -1;
	double nodes = num_nodes > 0 ? (double)num_nodes : (double)m->nseries;
	out->avg = round2(sum / nodes);
	out->min = isinf(min) ? NAN : min;
	out->max = isinf(max) ? NAN : max;
	return 0;
}

struct json_object *jobdata_statistics_json(const struct jobdata *d, int num_nodes)
{
	struct json_object *o = json_object_new_object();
	struct jobdata_metric **v = sorted_metrics(d);
	for (size_t i = 0; i < d->nmetrics; i++) {
		const struct jobdata_metric *m = v[i];
		struct jobdata_stats st;
		if (strcmp(m->scope, "node") != 0 || jobdata_job_stat(m, num_nodes, &st) < 0)
			continue;
		struct json_object *s = json_object_new_object();
		struct json_object *u = json_object_new_object();
		json_object_object_add(u, "base", json_object_new_string(m->unit.base ? m->unit.base : ""));
		if (m->unit.prefix && *m->unit.prefix)
			json_object_object_add(u, "prefix", json_object_new_string(m->unit.prefix));
		json_object_object_add(s, "unit", u);
		json_object_object_add(s, "avg", json_object_new_double(st.avg));
		json_object_object_add(s, "min", json_object_new_double(isnan(st.min) ? 0 : st.min));
		json_object_object_add(s, "max", json_object_new_double(isnan(st.max) ? 0 : st.max));
		json_object_object_add(o, m->name, s);
	}
	free(v);
	return o;
}

/* k-th smallest of v[0..n) (v is reordered so that v[0..k) <= v[k]).
 * Quickselect with branchless Lomuto partitions: the comparisons of metric
 * values are unpredictable, and a mispredicted branch per element costs more
 * than the unconditional swap.  A second pass gathers the values equal to
 * the pivot, so runs of equal values (idle nodes report 0) stay linear. */
static double select_kth(double *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n;
	while (hi - lo > 16) {
		double a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi - 1];
		double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
		size_t i = lo;
		for (size_t j = lo; j < hi; j++) {
			double x = v[j];
			size_t lt = x < pivot;
			v[j] = v[i];
			v[i] = x;
			i += lt;
		}
		if (k < i) {
			hi = i;
			continue;
		}
		size_t e = i;
		for (size_t j = i; j < hi; j++) {
			double x = v[j];
			size_t eq = x <= pivot;
			v[j] = v[e];
			v[e] = x;
			e += eq;
		}
		if (k < e)
			return pivot; /* v[i..e) all equal the pivot */
		lo = e;
	}
	for (size_t i = lo + 1; i < hi; i++) {
		double x = v[i];
		size_t j = i;
		for (; j > lo && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return v[k];
}

static double median_of(double *v, size_t n)
{
	double hi = select_kth(v, n, n / 2);
	if (n % 2)
		return hi;
	/* after the selection everything below n/2 is <= v[n/2]: the other middle
	 * value is the largest of them */
	double lo = v[0];
	for (size_t i = 1; i < n / 2; i++)
		if (v[i] > lo)
			lo = v[i];
	return (lo + hi) / 2;
}

static void stats_series_compute(struct jobdata *d, struct jobdata_metric *m)
{
	size_t n = 0;
	for (size_t j = 0; j < m->nseries; j++)
		if (m->series[j].len > n)
			n = m->series[j].len;
	struct jobdata_stats_series *ss = jd_alloc(d, sizeof(*ss));
	memset(ss, 0, sizeof(*ss));
	size_t bytes = (n ? n : 1) * sizeof(double);
	ss->min = (struct jobdata_vec){ jd_alloc(d, bytes), n };
	ss->median = (struct jobdata_vec){ jd_alloc(d, bytes), n };
	ss->max = (struct jobdata_vec){ jd_alloc(d, bytes), n };
	ss->mean = (struct jobdata_vec){ jd_alloc(d, bytes), n };
	double *tmp = xmalloc((m->nseries ? m->nseries : 1) * sizeof(double));
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		double sum = 0, mn = INFINITY, mx = -INFINITY;
		for (size_t j = 0; j < m->nseries; j++) {
			const struct jobdata_series *s = &m->series[j];
			if (i >= s->len || isnan(s->data[i]))
				continue;
			double x = s->data[i];
			tmp[k++] = x;
			sum += x;
			if (x < mn)
				mn = x;
			if (x > mx)
				mx = x;
		}
		if (k < 3) {
			ss->min.v[i] = ss->median.v[i] = ss->max.v[i] = ss->mean.v[i] = NAN;
			continue;
		}
		ss->min.v[i] = mn;
		ss->max.v[i] = mx;
		ss->mean.v[i] = sum / (double)k;
		ss->median.v[i] = median_of(tmp, k);
	}
	free(tmp);
	m->stats_series = ss;
}

void jobdata_add_stats_series(struct jobdata *d, size_t min_series)
{
	for (size_t i = 0; i < d->nmetrics; i++) {
		struct jobdata_metric *m = d->metrics[i];
		if (!m->stats_series && m->nseries >= min_series && m->nseries > 0)
			stats_series_compute(d, m);
	}
}

/* ------------------------------------------------------------------------
 * LTTB */

static size_t lttb_core(const double *y, size_t n, size_t target, size_t *idx, unsigned char *nanavg)
{
	if (n == 0)
		return 0;
	if (target >= n || n <= 2) {
		for (size_t i = 0; i < n; i++) {
			idx[i] = i;
			if (nanavg)
				nanavg[i] = 0;
		}
		return n;
	}
	if (target < 3) {
		/* cc-lib keeps first and last however small the target */
		idx[0] = 0;
		idx[1] = n - 1;
		if (nanavg)
			nanavg[0] = nanavg[1] = 0;
		return 2;
	}
	double bs = (double)(n - 2) / (double)(target - 2);
	size_t k = 0, low = 1, mid = (size_t)floor(bs) + 1, anchor = 0;
	idx[k] = 0;
	if (nanavg)
		nanavg[k] = 0;
	k++;
	for (size_t i = 0; i < target - 2; i++) {
		size_t high = (size_t)floor((double)(i + 2) * bs) + 1;
		if (high >= n - 1)
			high = n - 2;
		double ax, ay;
		if (mid <= high) {
			double sx = 0, sy = 0;
			for (size_t j = mid; j <= high; j++) {
				sx += (double)j;
				sy += y[j]; /* NaN in, NaN out */
			}
			double l = (double)(high - mid + 1);
			ax = sx / l;
			ay = sy / l;
		} else {
			ax = (double)(n - 1);
			ay = y[n - 1];
		}
		double px = (double)anchor, py = y[anchor];
		double best = -1.0;
		size_t pick = low < mid ? low : (low < n - 1 ? low : n - 2);
		for (size_t j = low; j < mid; j++) {
			double area = fabs(((px - (double)j) * (ay - py) - (px - ax) * (y[j] - py)) * 0.5);
			if (area > best) { /* false for NaN */
				best = area;
				pick = j;
			}
		}
		idx[k] = pick;
		if (nanavg)
			nanavg[k] = isnan(ay);
		k++;
		if (!isnan(y[pick]))
			anchor = pick;
		low = mid;
		mid = high;
	}
	idx[k] = n - 1;
	if (nanavg)
		nanavg[k] = 0;
	return k + 1;
}

size_t lttb_select(const double *y, size_t n, size_t target, size_t *idx)
{
	return lttb_core(y, n, target, idx, NULL);
}

/* cc-backend's conditions; the factor when resampling applies, else 0.  They
 * are checked once per metric (on its longest series) so that all its series
 * end up at the same timestep; upstream checks each series. */
static size_t resample_factor(const struct jobdata_metric *m, int new_timestep, size_t minimum_points)
{
	int old = m->timestep;
	if (old <= 0 || new_timestep <= 0 || new_timestep <= old || new_timestep % old != 0)
		return 0;
	size_t factor = (size_t)(new_timestep / old), longest = 0;
	for (size_t j = 0; j < m->nseries; j++)
		if (m->series[j].len > longest)
			longest = m->series[j].len;
	if (longest < minimum_points || longest / factor == 0 || longest / factor >= longest)
		return 0;
	return factor;
}

int jobdata_resample(struct jobdata_metric *m, int new_timestep, size_t minimum_points)
{
	size_t factor = resample_factor(m, new_timestep, minimum_points), room = 2;
	if (!factor)
		return m->timestep;
	for (size_t j = 0; j < m->nseries; j++)
		if (m->series[j].len / factor > room)
			room = m->series[j].len / factor;
	size_t *idx = xmalloc(room * sizeof(*idx));
	unsigned char *nanavg = xmalloc(room);
	for (size_t j = 0; j < m->nseries; j++) {
		struct jobdata_series *s = &m->series[j];
		size_t target = s->len / factor;
		if (target == 0 || target >= s->len)
			continue; /* a short series keeps its few values */
		size_t k = lttb_core(s->data, s->len, target, idx, nanavg);
		/* in place: idx ascends and idx[i] >= i, so no source is overwritten early */
		for (size_t i = 0; i < k; i++)
			s->data[i] = nanavg[i] ? NAN : s->data[idx[i]];
		s->len = k;
	}
	free(idx);
	free(nanavg);
	m->timestep = new_timestep;
	m->stats_series = NULL;
	return new_timestep;
}

static struct jobdata_vec copy_vec(struct jobdata *d, const struct jobdata_vec *v)
{
	struct jobdata_vec c = { NULL, 0 };
	if (v->v) {
		c.v = jd_alloc(d, (v->len ? v->len : 1) * sizeof(double));
		c.len = v->len;
		if (v->len)
			memcpy(c.v, v->v, v->len * sizeof(double));
	}
	return c;
}

struct jobdata *jobdata_resampled(const struct jobdata *src, int new_timestep, size_t minimum_points)
{
	struct jobdata *d = jobdata_new();
	size_t *idx = NULL;
	unsigned char *nanavg = NULL;
	size_t room = 0;
	for (size_t i = 0; i < src->nmetrics; i++) {
		const struct jobdata_metric *m = src->metrics[i];
		size_t factor = resample_factor(m, new_timestep, minimum_points);
		struct jobdata_metric *c = jobdata_add_metric(d, m->name, m->scope, m->unit.base, m->unit.prefix,
							      factor ? new_timestep : m->timestep, m->nseries);
		for (size_t j = 0; j < m->nseries; j++) {
			const struct jobdata_series *s = &m->series[j];
			size_t target = factor ? s->len / factor : 0;
			if (target == 0 || target >= s->len) {
				double *v = jobdata_set_series(d, c, j, s->hostname, s->id, s->len);
				if (s->len)
					memcpy(v, s->data, s->len * sizeof(double));
			} else {
				if (target + 2 > room) {
					room = target + 2;
					idx = xrealloc(idx, room * sizeof(*idx));
					nanavg = xrealloc(nanavg, room);
				}
				size_t k = lttb_core(s->data, s->len, target, idx, nanavg);
				double *v = jobdata_set_series(d, c, j, s->hostname, s->id, k);
				for (size_t t = 0; t < k; t++)
					v[t] = nanavg[t] ? NAN : s->data[idx[t]];
			}
			c->series[j].stats = s->stats;
		}
		if (m->stats_series && !factor) {
			const struct jobdata_stats_series *ss = m->stats_series;
			struct jobdata_stats_series *cs = jd_alloc(d, sizeof(*cs));
			cs->mean = copy_vec(d, &ss->mean);
			cs->median = copy_vec(d, &ss->median);
			cs->min = copy_vec(d, &ss->min);
			cs->max = copy_vec(d, &ss->max);
			cs->npercentiles = ss->npercentiles;
			cs->percentiles = jd_alloc(d, (ss->npercentiles ? ss->npercentiles : 1) *
							   sizeof(*cs->percentiles));
			for (size_t t = 0; t < ss->npercentiles; t++) {
				cs->percentiles[t].p = ss->percentiles[t].p;
				cs->percentiles[t].data = copy_vec(d, &ss->percentiles[t].data);
			}
			c->stats_series = cs;
		}
	}
	free(idx);
	free(nanavg);
	return d;
}

struct jobdata *jobdata_clone(const struct jobdata *src)
{
	return jobdata_resampled(src, 0, 0);
}

size_t jobdata_reduce(const double *y, size_t n, size_t max_points, double *xo, double *yo)
{
	if (n <= max_points) {
		for (size_t i = 0; i < n; i++) {
			xo[i] = (double)i;
			yo[i] = y[i];
		}
		return n;
	}
	size_t room = max_points < 2 ? 2 : max_points;
	size_t *idx = xmalloc(room * sizeof(*idx));
	unsigned char *nanavg = xmalloc(room);
	size_t k = lttb_core(y, n, max_points, idx, nanavg);
	for (size_t i = 0; i < k; i++) {
		xo[i] = (double)idx[i];
		yo[i] = nanavg[i] ? NAN : y[idx[i]];
	}
	free(idx);
	free(nanavg);
	return k;
}

/* ------------------------------------------------------------------------
 * Preview */

size_t jobdata_node_average(const struct jobdata_metric *m, double *out)
{
	size_t n = 0;
	for (size_t j = 0; j < m->nseries; j++)
		if (m->series[j].len > n)
			n = m->series[j].len;
	if (!n)
		return 0;
	unsigned *cnt = xcalloc(n, sizeof(*cnt));
	for (size_t i = 0; i < n; i++)
		out[i] = 0;
	/* series by series: each array is read front to back once */
	for (size_t j = 0; j < m->nseries; j++) {
		const struct jobdata_series *s = &m->series[j];
		for (size_t i = 0; i < s->len; i++) {
			if (!isnan(s->data[i])) {
				out[i] += s->data[i];
				cnt[i]++;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		out[i] = cnt[i] ? out[i] / cnt[i] : NAN;
	free(cnt);
	return n;
}

static bool listed(const char *const *metrics, const char *name)
{
	if (!metrics)
		return true;
	for (; *metrics; metrics++)
		if (strcmp(*metrics, name) == 0)
			return true;
	return false;
}

void jobdata_preview(const struct jobdata *d, const char *const *metrics, size_t max_points,
		     struct buf *out)
{
	struct jobdata_metric **v = sorted_metrics(d);
	bool any = false;
	buf_addch(out, '{');
	for (size_t i = 0; i < d->nmetrics; i++) {
		const struct jobdata_metric *m = v[i];
		if (strcmp(m->scope, "node") != 0 || !listed(metrics, m->name))
			continue;
		size_t n = 0;
		for (size_t j = 0; j < m->nseries; j++)
			if (m->series[j].len > n)
				n = m->series[j].len;
		double *avg = xmalloc((n ? n : 1) * sizeof(double));
		n = jobdata_node_average(m, avg);
		size_t room = max_points < 2 ? 2 : max_points;
		if (room > n)
			room = n ? n : 1;
		double *xo = xmalloc(room * sizeof(double) + 2 * sizeof(double));
		double *yo = xmalloc(room * sizeof(double) + 2 * sizeof(double));
		size_t k = jobdata_reduce(avg, n, max_points, xo, yo);
		if (any)
			buf_addch(out, ',');
		any = true;
		put_str(out, m->name);
		buf_addf(out, ":{\"t\":%d,\"n\":%zu,", m->timestep, n);
		if (k < n) {
			buf_adds(out, "\"i\":[");
			for (size_t t = 0; t < k; t++)
				buf_addf(out, t ? ",%zu" : "%zu", (size_t)xo[t]);
			buf_adds(out, "],");
		}
		buf_adds(out, "\"v\":[");
		for (size_t t = 0; t < k; t++) {
			if (t)
				buf_addch(out, ',');
			put_stat(out, yo[t]);
		}
		buf_adds(out, "]}");
		free(avg);
		free(xo);
		free(yo);
	}
	buf_addch(out, '}');
	free(v);
}
