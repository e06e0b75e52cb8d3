#include "config.h"
#include "cluster.h"
#include "jsonio.h"
#include "log.h"
#include "xalloc.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Only the isnan/NAN macros of math.h are used: the module needs no libm. */

static double dabs(double x)
{
	return x < 0 ? -x : x;
}

/* Go's math.Round: half away from zero.  Done by hand because x + 0.5 then
 * truncating is wrong for 0.49999999999999994, and libm is not linked. */
static double round_half_away(double x)
{
	/* NaN, infinities and |x| >= 2^52 (already integral) stay as they are */
	if (!(x > -4503599627370496.0 && x < 4503599627370496.0))
		return x;
	double t = (double)(int64_t)x; /* toward zero */
	double frac = x - t;           /* exact in this range */
	if (frac >= 0.5)
		t += 1.0;
	else if (frac <= -0.5)
		t -= 1.0;
	return t;
}

static double round2(double x)
{
	return round_half_away(x * 100.0) / 100.0;
}

/* ================================================================== scopes */

static const char *const scope_names[SCOPE__MAX] = {
	[SCOPE_NODE] = "node",
	[SCOPE_SOCKET] = "socket",
	[SCOPE_MEMORY_DOMAIN] = "memoryDomain",
	[SCOPE_CORE] = "core",
	[SCOPE_HWTHREAD] = "hwthread",
	[SCOPE_ACCELERATOR] = "accelerator",
};

static const int scope_gran[SCOPE__MAX] = {
	[SCOPE_NODE] = 10,
	[SCOPE_SOCKET] = 5,
	[SCOPE_MEMORY_DOMAIN] = 4,
	[SCOPE_CORE] = 3,
	[SCOPE_HWTHREAD] = 2,
	[SCOPE_ACCELERATOR] = 1,
};

const char *scope_name(enum metric_scope s)
{
	return (unsigned)s < SCOPE__MAX ? scope_names[s] : "invalid_scope";
}

int scope_parse(const char *s, enum metric_scope *out)
{
	if (!s)
		return -1;
	if (!*s) {
		*out = SCOPE_NODE; /* cc-backend: "for backwards compatibility" */
		return 0;
	}
	for (int i = 0; i < SCOPE__MAX; i++) {
		if (strcmp(s, scope_names[i]) == 0) {
			*out = (enum metric_scope)i;
			return 0;
		}
	}
	return -1;
}

int scope_granularity(enum metric_scope s)
{
	return (unsigned)s < SCOPE__MAX ? scope_gran[s] : -1;
}

int scope_cmp(enum metric_scope a, enum metric_scope b)
{
	return scope_granularity(a) - scope_granularity(b);
}

enum metric_scope scope_coarser(enum metric_scope a, enum metric_scope b)
{
	return scope_cmp(a, b) >= 0 ? a : b;
}

/* =================================================================== units */

static const struct {
	const char *prefix;
	int exp;
} prefix_table[] = {
	{"", 0}, {"K", 3}, {"k", 3}, {"M", 6}, {"G", 9}, {"T", 12}, {"P", 15}, {"E", 18},
	{"m", -3}, {"u", -6}, {"n", -9},
};

/* index exp / 3 for exp in 0..18 */
static const char *const up_prefixes[] = {"", "K", "M", "G", "T", "P", "E"};

int unit_prefix_exponent(const char *prefix, int *exp)
{
	if (!prefix)
		prefix = "";
	for (size_t i = 0; i < sizeof(prefix_table) / sizeof(prefix_table[0]); i++) {
		if (strcmp(prefix, prefix_table[i].prefix) == 0) {
			*exp = prefix_table[i].exp;
			return 0;
		}
	}
	return -1;
}

/* snprintf's int result as a size_t; a negative result (never for these
 * formats) counts as nothing written. */
static size_t fmt_len(int r)
{
	return r < 0 ? 0 : (size_t)r;
}

size_t unit_string(const struct unit *u, char *out, size_t n)
{
	return fmt_len(snprintf(out, n, "%s%s", u->prefix, u->base));
}

size_t unit_format(double value, const struct unit *u, char *out, size_t n)
{
	if (isnan(value))
		return fmt_len(snprintf(out, n, "-"));

	const char *prefix = u->prefix;
	int exp;
	if (unit_prefix_exponent(u->prefix, &exp) == 0 && exp >= 0 && exp <= 18 && exp % 3 == 0) {
		/* 999.5 and 0.9995 are where "%.3g" flips to the next power of 1000 */
		while (exp < 18 && dabs(value) >= 999.5) {
			value /= 1000.0;
			exp += 3;
		}
		while (exp > 0 && value != 0 && dabs(value) < 0.9995) {
			value *= 1000.0;
			exp -= 3;
		}
		prefix = up_prefixes[exp / 3];
	}
	if (!*prefix && !*u->base)
		return fmt_len(snprintf(out, n, "%.3g", value));
	return fmt_len(snprintf(out, n, "%.3g %s%s", value, prefix, u->base));
}

/* ========================================================= enum names */

static const char *const aggregation_names[AGGREGATION__MAX] = {
	[AGGREGATION_NONE] = "", [AGGREGATION_SUM] = "sum", [AGGREGATION_AVG] = "avg",
};
static const char *const footprint_names[FOOTPRINT__MAX] = {
	[FOOTPRINT_NONE] = "", [FOOTPRINT_AVG] = "avg", [FOOTPRINT_MIN] = "min", [FOOTPRINT_MAX] = "max",
};
static const char *const energy_names[ENERGY__MAX] = {
	[ENERGY_NONE] = "", [ENERGY_POWER] = "power", [ENERGY_ENERGY] = "energy",
};

const char *cluster_aggregation_name(enum metric_aggregation a)
{
	return (unsigned)a < AGGREGATION__MAX ? aggregation_names[a] : "";
}

const char *cluster_footprint_name(enum footprint_stat f)
{
	return (unsigned)f < FOOTPRINT__MAX ? footprint_names[f] : "";
}

const char *cluster_energy_name(enum energy_kind e)
{
	return (unsigned)e < ENERGY__MAX ? energy_names[e] : "";
}

/* ============================================================== node lists */

/* A bracket alternative: numbers of exactly `digits` digits in [lo, hi]. */
struct nl_range {
	uint64_t lo, hi;
	unsigned digits;
};

/* Either a literal run (lit != NULL) or a bracket group. */
struct nl_elem {
	char *lit;
	size_t litlen;
	struct nl_range *ranges;
	size_t nranges;
};

struct nl_term {
	struct nl_elem *elems;
	size_t nelems;
};

struct nodelist {
	bool all;
	struct nl_term *terms;
	size_t nterms;
};

/* 18 digits always fit in uint64_t; longer numbers are no host numbers */
#define NL_MAX_DIGITS 18

static bool nl_literal_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

static bool nl_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int nl_fail(const char *expr, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int nl_fail(const char *expr, char *err, size_t errlen, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* the expression is echoed, but not without bound */
	snprintf(err, errlen, "node list \"%.80s%s\": %s", expr, strlen(expr) > 80 ? "..." : "", msg);
	return -1;
}

/* Describe the character at s[i] for an error message. */
static const char *nl_char(const char *s, size_t i, char *buf, size_t n)
{
	unsigned char c = (unsigned char)s[i];
	if (!c)
		snprintf(buf, n, "the end");
	else if (isprint(c))
		snprintf(buf, n, "'%c'", c);
	else
		snprintf(buf, n, "byte 0x%02x", c);
	return buf;
}

static void nl_elem_push(struct nl_term *t, size_t *cap, const struct nl_elem *e)
{
	if (t->nelems == *cap) {
		*cap = *cap ? 2 * *cap : 4;
		t->elems = xrealloc(t->elems, *cap * sizeof(*t->elems));
	}
	t->elems[t->nelems++] = *e;
}

/* Parse one run of digits at expr[*i]; the caller has seen at least one digit. */
static int nl_number(const char *expr, size_t *i, uint64_t *val, unsigned *digits, char *err, size_t errlen)
{
	size_t start = *i;
	uint64_t v = 0;
	while (nl_digit(expr[*i])) {
		if (*i - start >= NL_MAX_DIGITS)
			return nl_fail(expr, err, errlen, "number at offset %zu has more than %d digits",
				       start, NL_MAX_DIGITS);
		v = v * 10 + (uint64_t)(expr[*i] - '0');
		(*i)++;
	}
	*val = v;
	*digits = (unsigned)(*i - start);
	return 0;
}

/* expr[*i] == '['; parse up to and including the matching ']'. */
static int nl_group(const char *expr, size_t *i, struct nl_elem *e, char *err, size_t errlen)
{
	size_t open = *i;
	size_t cap = 0;
	char cb[16];
	(*i)++;
	for (;;) {
		size_t part = *i;
		if (!nl_digit(expr[*i])) {
			if (expr[*i] == '\0')
				return nl_fail(expr, err, errlen, "unclosed '[' at offset %zu", open);
			if (expr[*i] == ',' || expr[*i] == ']')
				return nl_fail(expr, err, errlen, "empty range at offset %zu in '[...]'", part);
			if (expr[*i] == '[')
				return nl_fail(expr, err, errlen, "'[' at offset %zu inside '[...]' (groups do not nest)", *i);
			return nl_fail(expr, err, errlen, "expected a number at offset %zu inside '[...]', got %s",
				       *i, nl_char(expr, *i, cb, sizeof(cb)));
		}
		struct nl_range r;
		unsigned d2;
		uint64_t hi;
		if (nl_number(expr, i, &r.lo, &r.digits, err, errlen) < 0)
			return -1;
		r.hi = r.lo;
		if (expr[*i] == '-') {
			(*i)++;
			if (expr[*i] == '\0')
				return nl_fail(expr, err, errlen, "unclosed '[' at offset %zu", open);
			if (!nl_digit(expr[*i]))
				return nl_fail(expr, err, errlen, "expected the upper bound of a range at offset %zu, got %s",
					       *i, nl_char(expr, *i, cb, sizeof(cb)));
			if (nl_number(expr, i, &hi, &d2, err, errlen) < 0)
				return -1;
			if (d2 != r.digits)
				return nl_fail(expr, err, errlen,
					       "range %.*s at offset %zu: both bounds need the same number of digits, got %u and %u",
					       (int)(*i - part), expr + part, part, r.digits, d2);
			if (hi < r.lo)
				return nl_fail(expr, err, errlen, "range %.*s at offset %zu goes backwards",
					       (int)(*i - part), expr + part, part);
			r.hi = hi;
		}
		if (e->nranges == cap) {
			cap = cap ? 2 * cap : 4;
			e->ranges = xrealloc(e->ranges, cap * sizeof(*e->ranges));
		}
		e->ranges[e->nranges++] = r;
		if (expr[*i] == ',') {
			(*i)++;
			continue;
		}
		if (expr[*i] == ']') {
			(*i)++;
			return 0;
		}
		if (expr[*i] == '\0')
			return nl_fail(expr, err, errlen, "unclosed '[' at offset %zu", open);
		return nl_fail(expr, err, errlen, "expected '-', ',' or ']' at offset %zu, got %s", *i,
			       nl_char(expr, *i, cb, sizeof(cb)));
	}
}

static void nl_free_terms(struct nodelist *nl)
{
	for (size_t t = 0; t < nl->nterms; t++) {
		struct nl_term *term = &nl->terms[t];
		for (size_t e = 0; e < term->nelems; e++) {
			free(term->elems[e].lit);
			free(term->elems[e].ranges);
		}
		free(term->elems);
	}
	free(nl->terms);
}

void nodelist_free(struct nodelist *nl)
{
	if (!nl)
		return;
	nl_free_terms(nl);
	free(nl);
}

struct nodelist *nodelist_parse(const char *expr, char *err, size_t errlen)
{
	char cb[16];
	if (!expr || !*expr) {
		snprintf(err, errlen, "node list is empty (expected \"*\" or terms such as \"n[001-064]\")");
		return NULL;
	}
	struct nodelist *nl = xcalloc(1, sizeof(*nl));
	if (strcmp(expr, "*") == 0) {
		nl->all = true;
		return nl;
	}

	size_t tcap = 0, i = 0;
	for (;;) {
		/* one term, up to a top-level ',' or the end */
		if (nl->nterms == tcap) {
			tcap = tcap ? 2 * tcap : 4;
			nl->terms = xrealloc(nl->terms, tcap * sizeof(*nl->terms));
		}
		struct nl_term *term = &nl->terms[nl->nterms++];
		memset(term, 0, sizeof(*term));
		size_t ecap = 0, tstart = i;

		while (expr[i] && expr[i] != ',') {
			struct nl_elem e = {0};
			if (nl_literal_char(expr[i])) {
				size_t j = i;
				while (nl_literal_char(expr[j]))
					j++;
				e.lit = xstrndup(expr + i, j - i);
				e.litlen = j - i;
				i = j;
				nl_elem_push(term, &ecap, &e);
			} else if (expr[i] == '[') {
				int r = nl_group(expr, &i, &e, err, errlen);
				nl_elem_push(term, &ecap, &e); /* pushed even on error so that it is freed */
				if (r < 0)
					goto fail;
			} else if (expr[i] == ']') {
				nl_fail(expr, err, errlen, "']' at offset %zu without '['", i);
				goto fail;
			} else if (expr[i] == '*') {
				nl_fail(expr, err, errlen, "'*' at offset %zu: \"*\" must be the whole node list", i);
				goto fail;
			} else {
				nl_fail(expr, err, errlen, "invalid character %s at offset %zu (expected letters, digits, '-', '[', ']' or ',')",
					nl_char(expr, i, cb, sizeof(cb)), i);
				goto fail;
			}
		}
		if (term->nelems == 0) {
			nl_fail(expr, err, errlen, "empty term at offset %zu", tstart);
			goto fail;
		}
		if (!expr[i])
			break;
		i++; /* ',' */
		if (!expr[i]) {
			nl_fail(expr, err, errlen, "empty term at offset %zu (trailing ',')", i);
			goto fail;
		}
	}
	return nl;

fail:
	nodelist_free(nl);
	return NULL;
}

/* Does s[0..len) match elements e[0..n)?  Literals must match exactly; a group
 * tries each of its ranges on exactly that many digits and backtracks, so
 * "[1-9,10-99]x" works for both "5x" and "15x". */
static bool nl_match(const struct nl_elem *e, size_t n, const char *s, size_t len)
{
	if (n == 0)
		return len == 0;
	if (e->lit) {
		if (len < e->litlen || memcmp(s, e->lit, e->litlen) != 0)
			return false;
		return nl_match(e + 1, n - 1, s + e->litlen, len - e->litlen);
	}
	for (size_t r = 0; r < e->nranges; r++) {
		const struct nl_range *rg = &e->ranges[r];
		if (len < rg->digits)
			continue;
		uint64_t v = 0;
		unsigned d;
		for (d = 0; d < rg->digits && nl_digit(s[d]); d++)
			v = v * 10 + (uint64_t)(s[d] - '0');
		if (d < rg->digits || v < rg->lo || v > rg->hi)
			continue;
		if (nl_match(e + 1, n - 1, s + rg->digits, len - rg->digits))
			return true;
	}
	return false;
}

bool nodelist_contains(const struct nodelist *nl, const char *host)
{
	if (!nl || !host)
		return false;
	if (nl->all)
		return true;
	size_t len = strlen(host);
	for (size_t t = 0; t < nl->nterms; t++) {
		if (nl_match(nl->terms[t].elems, nl->terms[t].nelems, host, len))
			return true;
	}
	return false;
}

bool nodelist_is_all(const struct nodelist *nl)
{
	return nl && nl->all;
}

/* ========================================================= JSON reading */

struct pctx {
	char *err;
	size_t errlen;
	const char *cluster; /* once known */
};

static int fail(struct pctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct pctx *p, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->cluster)
		snprintf(p->err, p->errlen, "cluster %s: %s", p->cluster, msg);
	else
		snprintf(p->err, p->errlen, "cluster.json: %s", msg);
	return -1;
}

/* Go's decoder matches keys exactly first, then case-insensitively; null
 * leaves a field at its default, so it reads as absent here. */
static struct json_object *field(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (json_object_object_get_ex(o, key, &v))
		return v;
	json_object_object_foreach(o, k, val) {
		if (strcasecmp(k, key) == 0)
			return val;
	}
	return NULL;
}

static bool is_type(struct json_object *o, enum json_type t)
{
	return o && json_object_is_type(o, t);
}

/* The get_* helpers: 0 with the default when absent, -1 on a wrong type. */
static int get_string(struct pctx *p, struct json_object *o, const char *ctx, const char *key, const char **out)
{
	struct json_object *v = field(o, key);
	*out = NULL;
	if (!v)
		return 0;
	if (!is_type(v, json_type_string))
		return fail(p, "%s: %s: expected a string, got %s", ctx, key, jsonio_type_name(v));
	*out = json_object_get_string(v);
	return 0;
}

static int get_int(struct pctx *p, struct json_object *o, const char *ctx, const char *key, int min, int *out,
		   bool *present)
{
	struct json_object *v = field(o, key);
	*out = 0;
	if (present)
		*present = v != NULL;
	if (!v)
		return 0;
	if (!is_type(v, json_type_int))
		return fail(p, "%s: %s: expected an integer, got %s", ctx, key, jsonio_type_name(v));
	int64_t x = json_object_get_int64(v);
	if (x < min)
		return fail(p, "%s: %s must be >= %d, got %lld", ctx, key, min, (long long)x);
	if (x > INT_MAX)
		return fail(p, "%s: %s is too large (at most %d), got %lld", ctx, key, INT_MAX, (long long)x);
	*out = (int)x;
	return 0;
}

static int get_number(struct pctx *p, struct json_object *o, const char *ctx, const char *key, double *out)
{
	struct json_object *v = field(o, key);
	*out = NAN;
	if (!v)
		return 0;
	if (!is_type(v, json_type_int) && !is_type(v, json_type_double))
		return fail(p, "%s: %s: expected a number, got %s", ctx, key, jsonio_type_name(v));
	*out = json_object_get_double(v);
	return 0;
}

static int get_bool(struct pctx *p, struct json_object *o, const char *ctx, const char *key, bool *out,
		    bool *present)
{
	struct json_object *v = field(o, key);
	*out = false;
	if (present)
		*present = v != NULL;
	if (!v)
		return 0;
	if (!is_type(v, json_type_boolean))
		return fail(p, "%s: %s: expected true or false, got %s", ctx, key, jsonio_type_name(v));
	*out = json_object_get_boolean(v);
	return 0;
}

/* A string from names[0..n) ("" = names[0] = none); absent means none. */
static int get_enum(struct pctx *p, struct json_object *o, const char *ctx, const char *key,
		    const char *const *names, int n, int *out)
{
	const char *s;
	*out = 0;
	if (get_string(p, o, ctx, key, &s) < 0)
		return -1;
	if (!s)
		return 0;
	for (int i = 0; i < n; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	char allowed[128] = "";
	size_t len = 0;
	for (int i = 1; i < n; i++)
		len += fmt_len(snprintf(allowed + len, len < sizeof(allowed) ? sizeof(allowed) - len : 0,
					"%s\"%s\"", i > 1 ? ", " : "", names[i]));
	return fail(p, "%s: %s: expected one of %s, got \"%.64s\"", ctx, key, allowed, s);
}

static int get_array(struct pctx *p, struct json_object *o, const char *ctx, const char *key,
		     struct json_object **out)
{
	struct json_object *v = field(o, key);
	*out = NULL;
	if (!v)
		return 0;
	if (!is_type(v, json_type_array))
		return fail(p, "%s: %s: expected an array, got %s", ctx, key, jsonio_type_name(v));
	*out = v;
	return 0;
}

static int get_object(struct pctx *p, struct json_object *o, const char *ctx, const char *key,
		      struct json_object **out)
{
	struct json_object *v = field(o, key);
	*out = NULL;
	if (!v)
		return 0;
	if (!is_type(v, json_type_object))
		return fail(p, "%s: %s: expected an object, got %s", ctx, key, jsonio_type_name(v));
	*out = v;
	return 0;
}

/* {"base": "B/s", "prefix": "G"}; absent means no unit. */
static int get_unit(struct pctx *p, struct json_object *o, const char *ctx, const char *key, struct unit *u)
{
	struct json_object *uo;
	const char *base, *prefix;
	char uctx[256];
	memset(u, 0, sizeof(*u));
	if (get_object(p, o, ctx, key, &uo) < 0)
		return -1;
	if (!uo)
		return 0;
	snprintf(uctx, sizeof(uctx), "%s: %s", ctx, key);
	if (get_string(p, uo, uctx, "base", &base) < 0 || get_string(p, uo, uctx, "prefix", &prefix) < 0)
		return -1;
	if (base && strlen(base) >= sizeof(u->base))
		return fail(p, "%s: base \"%.32s\" is too long (at most %zu bytes)", uctx, base, sizeof(u->base) - 1);
	if (prefix && strlen(prefix) >= sizeof(u->prefix))
		return fail(p, "%s: prefix \"%.32s\" is too long (at most %zu bytes)", uctx, prefix,
			    sizeof(u->prefix) - 1);
	if (base)
		memcpy(u->base, base, strlen(base) + 1);
	if (prefix)
		memcpy(u->prefix, prefix, strlen(prefix) + 1);
	return 0;
}

/* {"unit": {...}, "value": 409.6}; absent means 0 (what Go's decoder leaves). */
static int get_unit_value(struct pctx *p, struct json_object *o, const char *ctx, const char *key,
			  struct unit_value *uv)
{
	struct json_object *vo;
	char vctx[256];
	memset(uv, 0, sizeof(*uv));
	if (get_object(p, o, ctx, key, &vo) < 0)
		return -1;
	if (!vo)
		return 0;
	snprintf(vctx, sizeof(vctx), "%s: %s", ctx, key);
	if (get_unit(p, vo, vctx, "unit", &uv->unit) < 0 || get_number(p, vo, vctx, "value", &uv->value) < 0)
		return -1;
	if (isnan(uv->value))
		uv->value = 0;
	return 0;
}

/* ================================================================ parsing */

static void metric_release(struct metric_config *m)
{
	free(m->name);
	for (size_t i = 0; i < m->noverrides; i++)
		free(m->overrides[i].name);
	free(m->overrides);
}

static int parse_thresholds(struct pctx *p, struct json_object *o, const char *ctx, double *peak,
			    double *normal, double *caution, double *alert)
{
	if (get_number(p, o, ctx, "peak", peak) < 0 || get_number(p, o, ctx, "normal", normal) < 0 ||
	    get_number(p, o, ctx, "caution", caution) < 0 || get_number(p, o, ctx, "alert", alert) < 0)
		return -1;
	return 0;
}

static int parse_override(struct pctx *p, struct json_object *o, const char *mctx, size_t j,
			  struct metric_override *ov)
{
	char ctx[320];
	const char *name;
	int fp, en;
	snprintf(ctx, sizeof(ctx), "%s: subClusters[%zu]", mctx, j);
	if (!is_type(o, json_type_object))
		return fail(p, "%s: expected an object, got %s", ctx, jsonio_type_name(o));
	if (get_string(p, o, ctx, "name", &name) < 0)
		return -1;
	if (!name || !*name)
		return fail(p, "%s: name is missing or empty (expected the subcluster it applies to)", ctx);
	ov->name = xstrdup(name);
	if (parse_thresholds(p, o, ctx, &ov->peak, &ov->normal, &ov->caution, &ov->alert) < 0 ||
	    get_enum(p, o, ctx, "footprint", footprint_names, FOOTPRINT__MAX, &fp) < 0 ||
	    get_enum(p, o, ctx, "energy", energy_names, ENERGY__MAX, &en) < 0 ||
	    get_bool(p, o, ctx, "lowerIsBetter", &ov->lower_is_better, NULL) < 0 ||
	    get_bool(p, o, ctx, "restrict", &ov->restricted, &ov->has_restrict) < 0 ||
	    get_bool(p, o, ctx, "remove", &ov->remove, NULL) < 0)
		return -1;
	ov->footprint = (enum footprint_stat)fp;
	ov->energy = (enum energy_kind)en;
	return 0;
}

static int parse_metric(struct pctx *p, struct json_object *o, size_t i, struct metric_config *m)
{
	char ctx[256];
	const char *name, *scope;
	bool has_timestep;
	int agg, fp, en;
	struct json_object *ovs;

	snprintf(ctx, sizeof(ctx), "metricConfig[%zu]", i);
	if (!is_type(o, json_type_object))
		return fail(p, "%s: expected an object, got %s", ctx, jsonio_type_name(o));
	if (get_string(p, o, ctx, "name", &name) < 0)
		return -1;
	if (!name || !*name)
		return fail(p, "%s: name is missing or empty", ctx);
	m->name = xstrdup(name);
	snprintf(ctx, sizeof(ctx), "metricConfig[%zu] (%.64s)", i, name);

	if (get_unit(p, o, ctx, "unit", &m->unit) < 0 || get_string(p, o, ctx, "scope", &scope) < 0)
		return -1;
	if (scope_parse(scope ? scope : "", &m->scope) < 0)
		return fail(p, "%s: scope: expected one of \"node\", \"socket\", \"memoryDomain\", \"core\", "
			    "\"hwthread\", \"accelerator\", got \"%.64s\"", ctx, scope);

	if (get_int(p, o, ctx, "timestep", 1, &m->timestep, &has_timestep) < 0)
		return -1;
	if (!has_timestep)
		return fail(p, "%s: timestep is missing (expected an integer >= 1, in seconds)", ctx);

	if (get_enum(p, o, ctx, "aggregation", aggregation_names, AGGREGATION__MAX, &agg) < 0 ||
	    parse_thresholds(p, o, ctx, &m->peak, &m->normal, &m->caution, &m->alert) < 0 ||
	    get_enum(p, o, ctx, "footprint", footprint_names, FOOTPRINT__MAX, &fp) < 0 ||
	    get_enum(p, o, ctx, "energy", energy_names, ENERGY__MAX, &en) < 0 ||
	    get_bool(p, o, ctx, "lowerIsBetter", &m->lower_is_better, NULL) < 0 ||
	    get_bool(p, o, ctx, "restrict", &m->restricted, NULL) < 0 ||
	    get_array(p, o, ctx, "subClusters", &ovs) < 0)
		return -1;
	m->aggregation = (enum metric_aggregation)agg;
	m->footprint = (enum footprint_stat)fp;
	m->energy = (enum energy_kind)en;

	if (ovs && json_object_array_length(ovs) > 0) {
		size_t n = json_object_array_length(ovs);
		m->overrides = xcalloc(n, sizeof(*m->overrides));
		m->noverrides = n; /* all zeroed, so a partial parse frees cleanly */
		for (size_t j = 0; j < n; j++) {
			if (parse_override(p, json_object_array_get_idx(ovs, j), ctx, j, &m->overrides[j]) < 0)
				return -1;
		}
	}
	return 0;
}

static int parse_topo_list(struct pctx *p, struct json_object *arr, const char *ctx, struct topo_list *l)
{
	size_t n = json_object_array_length(arr);
	l->id = xcalloc(n, sizeof(*l->id));
	l->n = n;
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		if (!is_type(v, json_type_int))
			return fail(p, "%s[%zu]: expected a hwthread id (integer), got %s", ctx, i,
				    v ? jsonio_type_name(v) : "null");
		int64_t x = json_object_get_int64(v);
		if (x < 0 || x > INT_MAX)
			return fail(p, "%s[%zu]: hwthread id must be in 0..%d, got %lld", ctx, i, INT_MAX, (long long)x);
		l->id[i] = (int)x;
	}
	return 0;
}

static int parse_topo_groups(struct pctx *p, struct json_object *topo, const char *tctx, const char *key,
			     struct topo_groups *g)
{
	struct json_object *arr;
	char ctx[320];
	if (get_array(p, topo, tctx, key, &arr) < 0)
		return -1;
	if (!arr)
		return 0;
	size_t n = json_object_array_length(arr);
	g->group = xcalloc(n, sizeof(*g->group));
	g->n = n;
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		snprintf(ctx, sizeof(ctx), "%s: %s[%zu]", tctx, key, i);
		if (!is_type(v, json_type_array))
			return fail(p, "%s: expected a list of hwthread ids, got %s", ctx,
				    v ? jsonio_type_name(v) : "null");
		if (parse_topo_list(p, v, ctx, &g->group[i]) < 0)
			return -1;
	}
	return 0;
}

static int parse_topology(struct pctx *p, struct json_object *o, const char *sctx, struct topology *t)
{
	struct json_object *topo, *arr;
	char ctx[320], actx[360];
	if (get_object(p, o, sctx, "topology", &topo) < 0)
		return -1;
	if (!topo)
		return 0;
	snprintf(ctx, sizeof(ctx), "%s: topology", sctx);

	if (get_array(p, topo, ctx, "node", &arr) < 0)
		return -1;
	if (arr) {
		snprintf(actx, sizeof(actx), "%s: node", ctx);
		if (parse_topo_list(p, arr, actx, &t->node) < 0)
			return -1;
	}
	if (parse_topo_groups(p, topo, ctx, "socket", &t->socket) < 0 ||
	    parse_topo_groups(p, topo, ctx, "memoryDomain", &t->memory_domain) < 0 ||
	    parse_topo_groups(p, topo, ctx, "die", &t->die) < 0 ||
	    parse_topo_groups(p, topo, ctx, "core", &t->core) < 0 ||
	    get_array(p, topo, ctx, "accelerators", &arr) < 0)
		return -1;
	if (arr) {
		size_t n = json_object_array_length(arr);
		t->accelerators = xcalloc(n, sizeof(*t->accelerators));
		t->naccelerators = n;
		for (size_t i = 0; i < n; i++) {
			struct json_object *a = json_object_array_get_idx(arr, i);
			struct accelerator *acc = &t->accelerators[i];
			const char *id, *type, *model;
			snprintf(actx, sizeof(actx), "%s: accelerators[%zu]", ctx, i);
			if (!is_type(a, json_type_object))
				return fail(p, "%s: expected an object, got %s", actx, a ? jsonio_type_name(a) : "null");
			if (get_string(p, a, actx, "id", &id) < 0 || get_string(p, a, actx, "type", &type) < 0 ||
			    get_string(p, a, actx, "model", &model) < 0)
				return -1;
			if (!id || !*id)
				return fail(p, "%s: id is missing or empty (expected the device id, e.g. a PCI address)", actx);
			acc->id = xstrdup(id);
			acc->type = xstrdup(type ? type : "");
			acc->model = xstrdup(model ? model : "");
		}
	}
	return 0;
}

static int parse_subcluster(struct pctx *p, struct json_object *o, size_t i, struct subcluster *sc)
{
	char ctx[256], nlerr[512];
	const char *name, *nodes, *ptype;

	snprintf(ctx, sizeof(ctx), "subClusters[%zu]", i);
	if (!is_type(o, json_type_object))
		return fail(p, "%s: expected an object, got %s", ctx, jsonio_type_name(o));
	if (get_string(p, o, ctx, "name", &name) < 0)
		return -1;
	if (!name || !*name)
		return fail(p, "%s: name is missing or empty", ctx);
	sc->name = xstrdup(name);
	snprintf(ctx, sizeof(ctx), "subClusters[%zu] (%.64s)", i, name);

	if (get_string(p, o, ctx, "nodes", &nodes) < 0)
		return -1;
	sc->nodes = xstrdup(nodes ? nodes : "");
	if (*sc->nodes && strcmp(sc->nodes, "*") != 0) {
		sc->nodelist = nodelist_parse(sc->nodes, nlerr, sizeof(nlerr));
		if (!sc->nodelist)
			return fail(p, "%s: nodes: %s", ctx, nlerr);
	}

	if (get_string(p, o, ctx, "processorType", &ptype) < 0)
		return -1;
	sc->processor_type = xstrdup(ptype ? ptype : "");
	if (get_int(p, o, ctx, "socketsPerNode", 0, &sc->sockets_per_node, NULL) < 0 ||
	    get_int(p, o, ctx, "coresPerSocket", 0, &sc->cores_per_socket, NULL) < 0 ||
	    get_int(p, o, ctx, "threadsPerCore", 0, &sc->threads_per_core, NULL) < 0 ||
	    get_unit_value(p, o, ctx, "flopRateScalar", &sc->flop_rate_scalar) < 0 ||
	    get_unit_value(p, o, ctx, "flopRateSimd", &sc->flop_rate_simd) < 0 ||
	    get_unit_value(p, o, ctx, "memoryBandwidth", &sc->memory_bandwidth) < 0 ||
	    parse_topology(p, o, ctx, &sc->topology) < 0)
		return -1;
	return 0;
}

/* The override of metric mc for subcluster name; with several, the last one
 * wins (cc-backend builds a map from the list). */
static const struct metric_override *find_override(const struct metric_config *mc, const char *name)
{
	const struct metric_override *found = NULL;
	for (size_t i = 0; i < mc->noverrides; i++) {
		if (strcmp(mc->overrides[i].name, name) == 0)
			found = &mc->overrides[i];
	}
	return found;
}

static char *footprint_key(const char *metric, enum footprint_stat f)
{
	const char *stat = cluster_footprint_name(f);
	size_t ml = strlen(metric), sl = strlen(stat);
	char *k = xmalloc(ml + 1 + sl + 1);
	memcpy(k, metric, ml);
	k[ml] = '_';
	memcpy(k + ml + 1, stat, sl + 1);
	return k;
}

/* The subcluster's own metric list, footprint and energy footprint. */
static void derive_subcluster(const struct cluster *c, struct subcluster *sc)
{
	sc->metrics = xcalloc(c->nmetrics, sizeof(*sc->metrics));
	for (size_t i = 0; i < c->nmetrics; i++) {
		const struct metric_config *mc = &c->metrics[i];
		const struct metric_override *ov = find_override(mc, sc->name);
		if (ov && ov->remove)
			continue;
		struct metric_config *m = &sc->metrics[sc->nmetrics++];
		*m = *mc;
		m->name = xstrdup(mc->name);
		m->overrides = NULL;
		m->noverrides = 0;
		if (!ov)
			continue;
		if (!isnan(ov->peak))
			m->peak = ov->peak;
		if (!isnan(ov->normal))
			m->normal = ov->normal;
		if (!isnan(ov->caution))
			m->caution = ov->caution;
		if (!isnan(ov->alert))
			m->alert = ov->alert;
		m->footprint = ov->footprint;
		m->energy = ov->energy;
		m->lower_is_better = ov->lower_is_better;
		if (ov->has_restrict)
			m->restricted = ov->restricted;
	}

	/* The lists point into sc->metrics, which no longer moves. */
	sc->footprint = xcalloc(sc->nmetrics, sizeof(*sc->footprint));
	sc->energy_footprint = xcalloc(sc->nmetrics, sizeof(*sc->energy_footprint));
	for (size_t i = 0; i < sc->nmetrics; i++) {
		const struct metric_config *m = &sc->metrics[i];
		if (m->footprint != FOOTPRINT_NONE) {
			sc->footprint[sc->nfootprint].metric = m;
			sc->footprint[sc->nfootprint].key = footprint_key(m->name, m->footprint);
			sc->nfootprint++;
		}
		if (m->energy != ENERGY_NONE)
			sc->energy_footprint[sc->nenergy++] = m;
	}
}

static void topo_groups_release(struct topo_groups *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->group[i].id);
	free(g->group);
}

static void subcluster_release(struct subcluster *sc)
{
	free(sc->name);
	free(sc->nodes);
	nodelist_free(sc->nodelist);
	free(sc->processor_type);
	free(sc->topology.node.id);
	topo_groups_release(&sc->topology.socket);
	topo_groups_release(&sc->topology.memory_domain);
	topo_groups_release(&sc->topology.die);
	topo_groups_release(&sc->topology.core);
	for (size_t i = 0; i < sc->topology.naccelerators; i++) {
		free(sc->topology.accelerators[i].id);
		free(sc->topology.accelerators[i].type);
		free(sc->topology.accelerators[i].model);
	}
	free(sc->topology.accelerators);
	for (size_t i = 0; i < sc->nmetrics; i++)
		metric_release(&sc->metrics[i]);
	free(sc->metrics);
	for (size_t i = 0; i < sc->nfootprint; i++)
		free(sc->footprint[i].key);
	free(sc->footprint);
	free(sc->energy_footprint);
}

void cluster_free(struct cluster *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nmetrics; i++)
		metric_release(&c->metrics[i]);
	free(c->metrics);
	for (size_t i = 0; i < c->nsubclusters; i++)
		subcluster_release(&c->subclusters[i]);
	free(c->subclusters);
	free(c->name);
	free(c);
}

static int check_unique(struct cluster *c, struct pctx *p)
{
	for (size_t i = 0; i < c->nmetrics; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(c->metrics[i].name, c->metrics[j].name) == 0)
				return fail(p, "metricConfig[%zu]: metric %s is already defined in metricConfig[%zu]",
					    i, c->metrics[i].name, j);
		}
	}
	for (size_t i = 0; i < c->nsubclusters; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(c->subclusters[i].name, c->subclusters[j].name) == 0)
				return fail(p, "subClusters[%zu]: subcluster %s is already defined in subClusters[%zu]",
					    i, c->subclusters[i].name, j);
		}
	}
	return 0;
}

/* Overrides for subclusters that do not exist are ignored, as upstream, but a
 * typo there is worth a line in the log. */
static void warn_unknown_overrides(const struct cluster *c)
{
	for (size_t i = 0; i < c->nmetrics; i++) {
		const struct metric_config *m = &c->metrics[i];
		for (size_t j = 0; j < m->noverrides; j++) {
			if (!cluster_subcluster(c, m->overrides[j].name))
				log_warn("cluster %s: metricConfig[%zu] (%s): subClusters[%zu]: no subcluster named %s; ignored",
					 c->name, i, m->name, j, m->overrides[j].name);
		}
	}
}

struct cluster *cluster_parse(struct json_object *cfg, char *err, size_t errlen)
{
	struct pctx p = {err, errlen, NULL};
	struct json_object *mcs, *scs;
	const char *name;

	if (!is_type(cfg, json_type_object)) {
		fail(&p, "expected an object, got %s", cfg ? jsonio_type_name(cfg) : "null");
		return NULL;
	}
	if (get_string(&p, cfg, "top level", "name", &name) < 0)
		return NULL;
	if (!name || !*name) {
		fail(&p, "name is missing or empty (expected the cluster's name)");
		return NULL;
	}

	struct cluster *c = xcalloc(1, sizeof(*c));
	c->name = xstrdup(name);
	p.cluster = c->name;

	if (get_array(&p, cfg, "top level", "metricConfig", &mcs) < 0 ||
	    get_array(&p, cfg, "top level", "subClusters", &scs) < 0)
		goto fail;
	if (!mcs || json_object_array_length(mcs) == 0) {
		fail(&p, "metricConfig: expected at least one metric, got %s", mcs ? "an empty list" : "none");
		goto fail;
	}
	if (!scs || json_object_array_length(scs) == 0) {
		fail(&p, "subClusters: expected at least one subcluster, got %s", scs ? "an empty list" : "none");
		goto fail;
	}

	/* Arrays are zeroed at full size first, so cluster_free copes with a
	 * parse that stops halfway. */
	c->nmetrics = json_object_array_length(mcs);
	c->metrics = xcalloc(c->nmetrics, sizeof(*c->metrics));
	for (size_t i = 0; i < c->nmetrics; i++) {
		if (parse_metric(&p, json_object_array_get_idx(mcs, i), i, &c->metrics[i]) < 0)
			goto fail;
	}
	c->nsubclusters = json_object_array_length(scs);
	c->subclusters = xcalloc(c->nsubclusters, sizeof(*c->subclusters));
	for (size_t i = 0; i < c->nsubclusters; i++) {
		if (parse_subcluster(&p, json_object_array_get_idx(scs, i), i, &c->subclusters[i]) < 0)
			goto fail;
	}
	if (check_unique(c, &p) < 0)
		goto fail;
	warn_unknown_overrides(c);
	for (size_t i = 0; i < c->nsubclusters; i++)
		derive_subcluster(c, &c->subclusters[i]);
	return c;

fail:
	cluster_free(c);
	return NULL;
}

/* ================================================================ lookups */

const struct subcluster *cluster_subcluster(const struct cluster *c, const char *name)
{
	if (!c || !name)
		return NULL;
	for (size_t i = 0; i < c->nsubclusters; i++) {
		if (strcmp(c->subclusters[i].name, name) == 0)
			return &c->subclusters[i];
	}
	return NULL;
}

const struct subcluster *cluster_subcluster_for_host(const struct cluster *c, const char *host)
{
	if (!c || !host)
		return NULL;
	for (size_t i = 0; i < c->nsubclusters; i++) {
		if (c->subclusters[i].nodelist && nodelist_contains(c->subclusters[i].nodelist, host))
			return &c->subclusters[i];
	}
	for (size_t i = 0; i < c->nsubclusters; i++) {
		if (!c->subclusters[i].nodelist)
			return &c->subclusters[i];
	}
	return NULL;
}

const struct subcluster *cluster_assign_subcluster(const struct cluster *c, const char *requested,
						   const char *host0, char *err, size_t errlen)
{
	/* The messages, typo included, are what cc-backend answers with a 400. */
	if (requested && *requested) {
		const struct subcluster *sc = cluster_subcluster(c, requested);
		if (!sc)
			snprintf(err, errlen, "ARCHIVE/CLUSTERCONFIG > already assigned subcluster %s unkown (cluster: %s)",
				 requested, c->name);
		return sc;
	}
	if (!host0 || !*host0) {
		snprintf(err, errlen, "ARCHIVE/CLUSTERCONFIG > job without any resources/hosts");
		return NULL;
	}
	const struct subcluster *sc = cluster_subcluster_for_host(c, host0);
	if (!sc)
		snprintf(err, errlen, "ARCHIVE/CLUSTERCONFIG > no subcluster found for cluster %s and host %s",
			 c->name, host0);
	return sc;
}

static const struct metric_config *find_metric(const struct metric_config *m, size_t n, const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(m[i].name, name) == 0)
			return &m[i];
	}
	return NULL;
}

const struct metric_config *cluster_metric(const struct cluster *c, const char *metric)
{
	return c ? find_metric(c->metrics, c->nmetrics, metric) : NULL;
}

const struct metric_config *subcluster_metric(const struct subcluster *sc, const char *metric)
{
	return sc ? find_metric(sc->metrics, sc->nmetrics, metric) : NULL;
}

int cluster_max_timestep(const struct cluster *c)
{
	int max = 0;
	for (size_t i = 0; c && i < c->nmetrics; i++) {
		if (c->metrics[i].timestep > max)
			max = c->metrics[i].timestep;
	}
	return max;
}

/* ==================================================== footprint and energy */

static const struct metric_stats *find_stats(const struct metric_stats *s, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i].name && strcmp(s[i].name, name) == 0)
			return &s[i];
	}
	return NULL;
}

static double pick_stat(const struct metric_stats *st, enum footprint_stat f)
{
	switch (f) {
	case FOOTPRINT_MIN: return st->min;
	case FOOTPRINT_MAX: return st->max;
	case FOOTPRINT_AVG:
	case FOOTPRINT_NONE:
	case FOOTPRINT__MAX: break;
	}
	return st->avg;
}

void subcluster_footprint(const struct subcluster *sc, const struct metric_stats *stats, size_t nstats,
			  int64_t num_nodes, int64_t duration, struct cluster_footprint *out)
{
	memset(out, 0, sizeof(*out));
	out->footprint = xcalloc(sc->nfootprint, sizeof(*out->footprint));
	out->nfootprint = sc->nfootprint;
	for (size_t i = 0; i < sc->nfootprint; i++) {
		const struct footprint_metric *fm = &sc->footprint[i];
		const struct metric_stats *st = find_stats(stats, nstats, fm->metric->name);
		struct footprint_value *v = &out->footprint[i];
		v->key = fm->key;
		v->value = st ? pick_stat(st, fm->metric->footprint) : 0;
		/* a NaN would make the stored JSON invalid; upstream's 0 stands in */
		v->missing = !st || isnan(v->value);
		if (v->missing)
			v->value = 0;
	}

	out->energy = xcalloc(sc->nenergy, sizeof(*out->energy));
	out->nenergy = sc->nenergy;
	double total = 0;
	for (size_t i = 0; i < sc->nenergy; i++) {
		const struct metric_config *m = sc->energy_footprint[i];
		const struct metric_stats *st = find_stats(stats, nstats, m->name);
		struct energy_value *e = &out->energy[i];
		e->metric = m->name;
		e->kwh = 0;
		/* energy:"energy" metrics are 0 upstream too (it would need a sum) */
		if (m->energy == ENERGY_POWER && st && !isnan(st->avg)) {
			/* the same operation order as cc-backend, for the same doubles */
			double raw = ((st->avg * (double)num_nodes) * ((double)duration / 3600.0)) / 1000.0;
			e->kwh = round2(raw);
		}
		total += e->kwh;
	}
	out->energy_total = round2(total);
}

void cluster_footprint_release(struct cluster_footprint *fp)
{
	if (!fp)
		return;
	free(fp->footprint);
	free(fp->energy);
	memset(fp, 0, sizeof(*fp));
}

void cluster_footprint_json(const struct cluster_footprint *fp, struct json_object **footprint,
			    struct json_object **energy_footprint)
{
	if (footprint) {
		*footprint = json_object_new_object();
		for (size_t i = 0; i < fp->nfootprint; i++)
			json_object_object_add(*footprint, fp->footprint[i].key,
					       json_object_new_double(fp->footprint[i].value));
	}
	if (energy_footprint) {
		*energy_footprint = json_object_new_object();
		for (size_t i = 0; i < fp->nenergy; i++)
			json_object_object_add(*energy_footprint, fp->energy[i].metric,
					       json_object_new_double(fp->energy[i].kwh));
	}
}

static double number_or_zero(struct json_object *o, const char *key)
{
	struct json_object *v = field(o, key);
	if (is_type(v, json_type_int) || is_type(v, json_type_double))
		return json_object_get_double(v);
	return 0;
}

size_t cluster_stats_from_json(struct json_object *statistics, struct metric_stats **out)
{
	*out = NULL;
	if (!is_type(statistics, json_type_object))
		return 0;
	size_t n = 0, cap = (size_t)json_object_object_length(statistics);
	if (cap == 0)
		return 0;
	struct metric_stats *s = xcalloc(cap, sizeof(*s));
	json_object_object_foreach(statistics, name, st) {
		if (!is_type(st, json_type_object))
			continue;
		s[n].name = name;
		s[n].avg = number_or_zero(st, "avg");
		s[n].min = number_or_zero(st, "min");
		s[n].max = number_or_zero(st, "max");
		n++;
	}
	if (n == 0) {
		free(s);
		s = NULL;
	}
	*out = s;
	return n;
}
