#include "config.h"
#include "suites.h"
#include "../../app/buf.h"
#include "../../app/svg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* a small XML well-formedness and safety checker */

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == ':' || c == '.';
}

static bool is_entity(const char *p)
{
	static const char *const named[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (strncmp(p, named[i], strlen(named[i])) == 0)
			return true;
	if (p[1] != '#')
		return false;
	const char *q = p + 2;
	bool hex = *q == 'x';
	if (hex)
		q++;
	const char *d = q;
	while ((*q >= '0' && *q <= '9') || (hex && ((*q >= 'a' && *q <= 'f') || (*q >= 'A' && *q <= 'F'))))
		q++;
	return q > d && *q == ';';
}

static bool forbidden_element(const char *n, size_t l)
{
	static const char *const bad[] = {"script", "style", "foreignObject", "iframe", "image",
					  "use", "object", "embed", "animate", "set", "feImage"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strlen(bad[i]) == l && strncasecmp(n, bad[i], l) == 0)
			return true;
	return false;
}

/* NULL when s is one well-formed, safe XML element; else what is wrong. */
static const char *xml_error(const char *s)
{
	const char *stack[256];
	size_t lens[256], depth = 0;
	int roots = 0;
	const char *p = s;
	while (*p) {
		if (*p != '<') {
			if (*p == '&' && !is_entity(p))
				return "raw & in text";
			if (!depth && *p != '\n' && *p != ' ')
				return "text outside the root";
			p++;
			continue;
		}
		if (strncmp(p, "<!--", 4) == 0) {
			const char *e = strstr(p, "-->");
			if (!e)
				return "unterminated comment";
			p = e + 3;
			continue;
		}
		if (p[1] == '/') {
			p += 2;
			const char *n = p;
			while (is_name_char(*p))
				p++;
			size_t l = (size_t)(p - n);
			if (*p != '>')
				return "bad end tag";
			if (!depth || lens[depth - 1] != l || strncmp(stack[depth - 1], n, l) != 0)
				return "mismatched end tag";
			depth--;
			p++;
			continue;
		}
		p++;
		const char *n = p;
		while (is_name_char(*p))
			p++;
		size_t l = (size_t)(p - n);
		if (!l)
			return "raw < or empty tag name";
		if (forbidden_element(n, l))
			return "forbidden element";
		if (!depth)
			roots++;
		for (;;) {
			while (*p == ' ' || *p == '\n' || *p == '\t')
				p++;
			if (p[0] == '/' && p[1] == '>') {
				p += 2;
				break;
			}
			if (*p == '>') {
				if (depth == 256)
					return "too deep";
				stack[depth] = n;
				lens[depth++] = l;
				p++;
				break;
			}
			const char *an = p;
			while (is_name_char(*p))
				p++;
			size_t al = (size_t)(p - an);
			if (!al)
				return "bad attribute name";
			if (al >= 2 && strncasecmp(an, "on", 2) == 0)
				return "event handler attribute";
			if (al == 5 && strncasecmp(an, "style", 5) == 0)
				return "style attribute";
			if (*p++ != '=')
				return "attribute without value";
			char q = *p++;
			if (q != '"' && q != '\'')
				return "unquoted attribute";
			const char *v = p;
			while (*p && *p != q) {
				if (*p == '<')
					return "< in attribute value";
				if (*p == '&' && !is_entity(p))
					return "raw & in attribute value";
				p++;
			}
			if (!*p)
				return "unterminated attribute";
			if (strncasecmp(v, "javascript:", 11) == 0)
				return "javascript: URL";
			p++;
		}
	}
	if (depth)
		return "unclosed element";
	if (roots != 1)
		return "not exactly one root element";
	return NULL;
}

/* xmllint when installed (Debian: libxml2-utils) as a second opinion. */
static void xmllint_ok(const struct buf *b)
{
	if (access("/usr/bin/xmllint", X_OK) != 0)
		return;
	FILE *f = popen("/usr/bin/xmllint --noout - 2>&1 >/dev/null", "w");
	ck_assert_ptr_nonnull(f);
	fwrite(b->data, 1, b->len, f);
	int st = pclose(f);
	ck_assert_msg(st == 0, "xmllint rejects: %.300s", b->data);
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0, l = strlen(needle);
	for (const char *p = strstr(s, needle); p; p = strstr(p + l, needle))
		n++;
	return n;
}

/* needle at the start of a word, case-insensitive ("nan" but not "dominant") */
static bool has_word(const char *s, const char *needle)
{
	size_t l = strlen(needle);
	for (const char *p = s; *p; p++)
		if (strncasecmp(p, needle, l) == 0 &&
		    (p == s || !((p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= 'A' && p[-1] <= 'Z'))))
			return true;
	return false;
}

/* Every chart: well-formed, accessible, sized, no NaN or inf printed. */
static void check_svg(const struct buf *b)
{
	const char *err = xml_error(b->data);
	ck_assert_msg(err == NULL, "%s in: %.400s", err ? err : "", b->data);
	xmllint_ok(b);
	ck_assert(strncmp(b->data, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
	ck_assert_ptr_nonnull(strstr(b->data, " role=\"img\""));
	ck_assert_ptr_nonnull(strstr(b->data, " aria-label=\""));
	ck_assert_ptr_nonnull(strstr(b->data, " viewBox=\"0 0 "));
	ck_assert_ptr_nonnull(strstr(b->data, " width=\""));
	ck_assert_ptr_nonnull(strstr(b->data, " height=\""));
	ck_assert_ptr_nonnull(strstr(b->data, "><title>"));
	ck_assert_ptr_null(strstr(b->data, "<script"));
	ck_assert_msg(!has_word(b->data, "nan") && !has_word(b->data, "inf"), "NaN/inf printed");
	ck_assert_ptr_null(strstr(b->data, " id=\""));
	ck_assert(b->len > 7 && strcmp(b->data + b->len - 7, "</svg>\n") == 0);
}

/* The d attribute of the first path after marker, copied to out. */
static void path_d_after(const char *s, const char *marker, char *out, size_t size)
{
	const char *p = strstr(s, marker);
	ck_assert_ptr_nonnull(p);
	p = strstr(p, " d=\"");
	ck_assert_ptr_nonnull(p);
	p += 4;
	const char *e = strchr(p, '"');
	size_t l = (size_t)(e - p);
	ck_assert_uint_lt(l, size);
	memcpy(out, p, l);
	out[l] = '\0';
}

/* The numeric attribute name of the first element after marker. */
static double attr_after(const char *s, const char *marker, const char *name)
{
	const char *p = strstr(s, marker);
	ck_assert_msg(p != NULL, "no %s", marker);
	char pat[32];
	snprintf(pat, sizeof(pat), " %s=\"", name);
	p = strstr(p, pat);
	ck_assert_ptr_nonnull(p);
	return strtod(p + strlen(pat), NULL);
}

static const char *hostile[] = {"<script>alert(1)</script>", "\"onload=\"x", "\" onload=\"x",
				"a&b<c>'d"};

/* ------------------------------------------------------------------ */
/* helpers */

static void assert_ticks(double mn, double mx, size_t maxt, const double *want, size_t nwant)
{
	double t[32];
	size_t n = svg_nice_ticks(mn, mx, maxt, t);
	ck_assert_uint_eq(n, nwant);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(fabs(t[i] - want[i]) < 1e-12, "tick %zu: %.17g != %.17g", i, t[i], want[i]);
}

START_TEST(nice_ticks)
{
	assert_ticks(0, 97, 6, (const double[]){0, 20, 40, 60, 80, 100}, 6);
	assert_ticks(0, 97, 11, (const double[]){0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100}, 11);
	assert_ticks(0.001, 0.0047, 6, (const double[]){0.001, 0.002, 0.003, 0.004, 0.005}, 5);
	assert_ticks(-97, -3, 6, (const double[]){-100, -80, -60, -40, -20, 0}, 6);
	assert_ticks(-5, 5, 6, (const double[]){-5, 0, 5}, 3);
	assert_ticks(97, 0, 6, (const double[]){0, 20, 40, 60, 80, 100}, 6); /* swapped */
	assert_ticks(0, 0, 6, (const double[]){0, 0.2, 0.4, 0.6, 0.8, 1}, 6);
	assert_ticks(1e6, 4.2e6, 5, (const double[]){1e6, 2e6, 3e6, 4e6, 5e6}, 5);
	/* exact decimals, not 0.30000000000000004 */
	double t[32];
	ck_assert_uint_eq(svg_nice_ticks(0, 0.3, 4, t), 4);
	ck_assert(t[3] == 0.3);
	/* constant: widened around the value */
	size_t n = svg_nice_ticks(5, 5, 6, t);
	ck_assert_uint_ge(n, 2);
	ck_assert(t[0] < 5 && t[n - 1] > 5);
	/* every range: covered, within budget, evenly spaced */
	for (double mx = 0.013; mx < 1e7; mx *= 3.7) {
		for (size_t mt = 2; mt <= 10; mt++) {
			n = svg_nice_ticks(-mx / 3, mx, mt, t);
			ck_assert_uint_ge(n, 2);
			ck_assert_uint_le(n, mt);
			ck_assert(t[0] <= -mx / 3 && t[n - 1] >= mx);
			for (size_t i = 2; i < n; i++)
				ck_assert(fabs((t[i] - t[i - 1]) - (t[1] - t[0])) < 1e-9 * mx);
		}
	}
	ck_assert_uint_eq(svg_nice_ticks(NAN, 1, 5, t), 0);
	ck_assert_uint_eq(svg_nice_ticks(0, INFINITY, 5, t), 0);
	ck_assert_uint_eq(svg_nice_ticks(0, 1, 1, t), 0);
}
END_TEST

START_TEST(durations_and_numbers)
{
	static const struct {
		double s;
		const char *want;
	} d[] = {
		{0, "0"}, {0.4, "0"}, {45, "45s"}, {60, "1m"}, {90, "1m30s"}, {2700, "45m"},
		{3600, "1h"}, {5400, "1h30m"}, {7200, "2h"}, {7230, "2h"}, {86400, "1d"},
		{187200, "2d4h"}, {259200, "3d"}, {-5400, "-1h30m"}, {NAN, "?"},
	};
	char out[32];
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		svg_format_duration(d[i].s, out, sizeof(out));
		ck_assert_str_eq(out, d[i].want);
	}
	static const struct {
		double v, step;
		const char *want;
	} n[] = {
		{1250, 250, "1.25k"}, {1000, 250, "1k"}, {750, 250, "750"}, {0.003, 0.001, "0.003"},
		{100, 20, "100"}, {2e6, 1e6, "2M"}, {0, 0.5, "0"}, {1.5, 0.5, "1.5"},
		{23.456, 0, "23.5"}, {-1500, 500, "-1.5k"}, {1e9, 0, "1G"}, {9216, 0, "9.22k"},
		{0.01, 0.01, "0.01"}, {-0.0, 1, "0"}, {0.5, 0, "0.5"}, {3e15, 1e15, "3P"},
	};
	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
		svg_format_number(n[i].v, n[i].step, out, sizeof(out));
		ck_assert_msg(strcmp(out, n[i].want) == 0, "%g/%g: %s != %s", n[i].v, n[i].step, out,
			      n[i].want);
	}
}
END_TEST

START_TEST(lttb)
{
	double v[1000];
	size_t idx[1000];
	for (size_t i = 0; i < 1000; i++)
		v[i] = sin((double)i / 30.0);
	v[503] = 50; /* a spike survives */
	size_t n = svg_lttb(v, 1000, 100, idx);
	ck_assert_uint_le(n, 100);
	ck_assert_uint_ge(n, 90);
	ck_assert_uint_eq(idx[0], 0);
	ck_assert_uint_eq(idx[n - 1], 999);
	bool spike = false;
	for (size_t i = 1; i < n; i++) {
		ck_assert_uint_gt(idx[i], idx[i - 1]);
		spike |= idx[i] == 503;
	}
	ck_assert(spike);
	ck_assert_uint_eq(svg_lttb(v, 10, 100, idx), 10);
	ck_assert_uint_eq(idx[9], 9);
	ck_assert_uint_eq(svg_lttb(v, 10, 2, idx), 2);
	ck_assert_uint_eq(svg_lttb(v, 1, 2, idx), 1);
	ck_assert_uint_eq(svg_lttb(v, 0, 2, idx), 0);
}
END_TEST

START_TEST(zones)
{
	struct svg_thresholds hi = {9216, 1000, 200, 50, false};
	ck_assert_int_eq(svg_zone_of(2000, &hi), SVG_ZONE_NORMAL);
	ck_assert_int_eq(svg_zone_of(500, &hi), SVG_ZONE_FAIR);
	ck_assert_int_eq(svg_zone_of(100, &hi), SVG_ZONE_CAUTION);
	ck_assert_int_eq(svg_zone_of(10, &hi), SVG_ZONE_ALERT);
	ck_assert_int_eq(svg_zone_of(NAN, &hi), SVG_ZONE_NONE);
	ck_assert_int_eq(svg_zone_of(1, NULL), SVG_ZONE_NONE);
	struct svg_thresholds lo = {512, 128, 200, 240, true};
	ck_assert_int_eq(svg_zone_of(100, &lo), SVG_ZONE_NORMAL);
	ck_assert_int_eq(svg_zone_of(150, &lo), SVG_ZONE_FAIR);
	ck_assert_int_eq(svg_zone_of(220, &lo), SVG_ZONE_CAUTION);
	ck_assert_int_eq(svg_zone_of(250, &lo), SVG_ZONE_ALERT);
	lo.lower_is_better = false; /* cluster.json's mem_used: direction from the order */
	ck_assert_int_eq(svg_zone_of(250, &lo), SVG_ZONE_ALERT);
	ck_assert_int_eq(svg_zone_of(100, &lo), SVG_ZONE_NORMAL);
	struct svg_thresholds none = {NAN, NAN, NAN, NAN, false};
	ck_assert_int_eq(svg_zone_of(1, &none), SVG_ZONE_NONE);
	ck_assert_str_eq(svg_zone_name(SVG_ZONE_ALERT), "alert");
}
END_TEST

/* ------------------------------------------------------------------ */
/* time series */

static double *walk(size_t n, unsigned seed, double base)
{
	double *v = malloc(n * sizeof(double));
	double x = base;
	srand(seed);
	for (size_t i = 0; i < n; i++) {
		x += ((double)rand() / RAND_MAX - 0.5) * base * 0.1;
		if (x < 0)
			x = 0;
		v[i] = x;
	}
	return v;
}

START_TEST(ts_basic_and_thresholds)
{
	double *v[4];
	struct svg_series s[4];
	for (int i = 0; i < 4; i++) {
		v[i] = walk(240, (unsigned)i + 1, 300);
		s[i] = (struct svg_series){"node0001", v[i], 240};
	}
	struct svg_thresholds th = {600, 200, 100, 50, false};
	struct svg_ts p = {.title = "flops_any", .unit = "GFlop/s", .width = 500, .height = 220,
			   .timestep = 60, .series = s, .nseries = 4, .thresholds = &th};
	struct buf b = BUF_INIT;
	svg_timeseries(&b, &p);
	check_svg(&b);
	ck_assert_ptr_nonnull(strstr(b.data, "class=\"zone-normal\""));
	ck_assert_ptr_nonnull(strstr(b.data, ">flops_any</text>"));
	ck_assert_ptr_nonnull(strstr(b.data, ">GFlop/s</text>"));
	ck_assert_ptr_nonnull(strstr(b.data, ">1h</text>")); /* elapsed-time ticks */
	ck_assert_uint_eq(count(b.data, "<title>node0001</title>"), 4);
	ck_assert_ptr_nonnull(strstr(b.data, "stroke=\"#00bfff\"")); /* default scheme */
	ck_assert_ptr_nonnull(strstr(b.data, "stroke=\"#ff00ff\""));
	ck_assert_ptr_null(strstr(b.data, "<a "));
	buf_reset(&b);
	p.thresholds = NULL;
	svg_timeseries(&b, &p);
	check_svg(&b);
	ck_assert_ptr_null(strstr(b.data, "zone-"));
	buf_reset(&b);
	p.thresholds = &th;
	p.bg = SVG_BG_AVERAGE; /* average ~300 > normal: one green area */
	svg_timeseries(&b, &p);
	check_svg(&b);
	ck_assert_uint_eq(count(b.data, "class=\"zone-"), 1);
	ck_assert_ptr_nonnull(strstr(b.data, "class=\"zone-normal\""));
	buf_release(&b);
	for (int i = 0; i < 4; i++)
		free(v[i]);
}
END_TEST

START_TEST(ts_lower_is_better_inverts_zones)
{
	double v[50];
	for (int i = 0; i < 50; i++)
		v[i] = 10 + 5 * i; /* 10 .. 255 */
	struct svg_series s = {"h", v, 50};
	struct svg_thresholds hi = {300, 200, 150, 100, false};
	struct svg_ts p = {.title = "m", .width = 400, .height = 200, .timestep = 30,
			   .series = &s, .nseries = 1, .thresholds = &hi};
	struct buf b = BUF_INIT;
	svg_timeseries(&b, &p);
	check_svg(&b);
	double alert_y = attr_after(b.data, "class=\"zone-alert\"", "y");
	double normal_y = attr_after(b.data, "class=\"zone-normal\"", "y");
	ck_assert(alert_y > normal_y); /* red at the bottom */
	buf_reset(&b);
	struct svg_thresholds lo = {300, 100, 150, 200, true};
	p.thresholds = &lo;
	svg_timeseries(&b, &p);
	check_svg(&b);
	alert_y = attr_after(b.data, "class=\"zone-alert\"", "y");
	normal_y = attr_after(b.data, "class=\"zone-normal\"", "y");
	ck_assert(alert_y < normal_y); /* red at the top */
	buf_release(&b);
}
END_TEST

START_TEST(ts_nan_gaps_split_paths)
{
	double v[] = {1, 2, NAN, 4, 5, NAN, NAN, 7, 8, 9, NAN, 3, NAN};
	struct svg_series s = {"gappy", v, sizeof(v) / sizeof(v[0])};
	struct svg_ts p = {.title = "x", .width = 300, .height = 150, .timestep = 10,
			   .series = &s, .nseries = 1};
	struct buf b = BUF_INIT;
	svg_timeseries(&b, &p);
	check_svg(&b);
	char d[4096];
	path_d_after(b.data, "<path stroke=\"#00bfff\"", d, sizeof(d));
	ck_assert_uint_eq(count(d, "M"), 4); /* 1-2, 4-5, 7-9, 3 */
	ck_assert_uint_eq(count(d, "l0 0"), 1); /* the lone sample is a dot */
	buf_release(&b);
}
END_TEST

START_TEST(ts_empty_and_degenerate)
{
	struct buf b = BUF_INIT;
	/* no series at all */
	struct svg_ts p = {.title = "cpu_load", .width = 300, .height = 150};
	svg_timeseries(&b, &p);
	check_svg(&b);
	ck_assert_ptr_nonnull(strstr(b.data, ">No data</text>"));
	/* all-NaN, NULL values, zero length */
	double nan3[] = {NAN, NAN, NAN};
	struct svg_series s[3] = {{"a", nan3, 3}, {"b", NULL, 5}, {"c", nan3, 0}};
	p.series = s;
	p.nseries = 3;
	buf_reset(&b);
	svg_timeseries(&b, &p);
	check_svg(&b);
	ck_assert_ptr_nonnull(strstr(b.data, ">No data</text>"));
	/* a single point */
	double one[] = {42};
	struct svg_series s1 = {"a", one, 1};
	p.series = &s1;
	p.nseries = 1;
	buf_reset(&b);
	svg_timeseries(&b, &p);
	check_svg(&b);
	ck_assert_ptr_null(strstr(b.data, "No data"));
	ck_assert_ptr_nonnull(strstr(b.data, "l0 0"));
	/* constant series: the line is inside the plot, not on its frame */
	double c[100];
	for (int i = 0; i < 100; i++)
		c[i] = 5;
	struct svg_series sc = {"a", c, 100};
	p.series = &sc;
	buf_reset(&b);
	svg_timeseries(&b, &p);
	check_svg(&b);
	char d[4096];
	path_d_after(b.data, "<path stroke=\"#00bfff\"", d, sizeof(d));
	double y = strtod(strchr(d, ' ') + 1, NULL);
	ck_assert_msg(y > 26 + 2 && y < 150 - 20 - 2, "constant line at y=%g", y);
	ck_assert_uint_eq(count(d, "l"), 1); /* one merged horizontal segment */
	/* constant zero and constant negative */
	for (int i = 0; i < 100; i++)
		c[i] = 0;
	buf_reset(&b);
	svg_timeseries(&b, &p);
	check_svg(&b);
	for (int i = 0; i < 100; i++)
		c[i] = -3;
	buf_reset(&b);
	svg_timeseries(&b, &p);
	check_svg(&b);
	/* a tiny size and garbage options do not crash */
	p.width = 5;
	p.height = 5;
	p.timestep = NAN;
	p.line_width = -1;
	p.zoom_url = "/z?from={from}&to={to}";
	buf_reset(&b);
	svg_timeseries(&b, &p);
	check_svg(&b);
	/* fixed y range, values outside are clamped */
	p.width = 300;
	p.height = 150;
	p.y_min = -1;
	p.y_max = -2; /* not a range: automatic */
	buf_reset(&b);
	svg_timeseries(&b, &p);
	check_svg(&b);
	p.y_min = 0;
	p.y_max = 1;
	buf_reset(&b);
	svg_timeseries(&b, &p);
	check_svg(&b);
	buf_release(&b);
}
END_TEST

START_TEST(ts_hostile_input_is_escaped)
{
	double v[] = {1, 2, 3};
	struct svg_series s[4];
	for (int i = 0; i < 4; i++)
		s[i] = (struct svg_series){hostile[i], v, 3};
	const char *colors[] = {"red\" onload=\"x", "#00ff00", "url(javascript:x)", "<b>"};
	struct svg_ts p = {.title = hostile[0], .unit = hostile[1], .width = 400, .height = 200,
			   .timestep = 60, .series = s, .nseries = 4, .colors = colors, .ncolors = 4,
			   .zoom_url = "/job/1?x=<a>&from={from}&to={to}\"onclick=\"y"};
	struct buf b = BUF_INIT;
	svg_timeseries(&b, &p);
	check_svg(&b);
	ck_assert_ptr_nonnull(strstr(b.data, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	ck_assert_ptr_nonnull(strstr(b.data, "&quot;onload=&quot;x"));
	ck_assert_ptr_null(strstr(b.data, "onload=\""));
	ck_assert_ptr_null(strstr(b.data, "javascript"));
	ck_assert_ptr_nonnull(strstr(b.data, "stroke=\"#00ff00\""));
	ck_assert_ptr_nonnull(strstr(b.data, "x=&lt;a&gt;&amp;from=0&amp;to=30&quot;onclick"));
	buf_release(&b);
}
END_TEST

START_TEST(ts_zoom_links)
{
	double v[61];
	for (int i = 0; i <= 60; i++)
		v[i] = i;
	struct svg_series s = {"h", v, 61};
	struct svg_ts p = {.title = "x", .width = 400, .height = 200, .timestep = 60,
			   .series = &s, .nseries = 1, .zoom_url = "/monitoring/job/7?from={from}&to={to}"};
	struct buf b = BUF_INIT;
	svg_timeseries(&b, &p);
	check_svg(&b);
	ck_assert_uint_eq(count(b.data, "<a href=\""), 4);
	ck_assert_ptr_nonnull(strstr(b.data, "href=\"/monitoring/job/7?from=0&amp;to=900\""));
	ck_assert_ptr_nonnull(strstr(b.data, "href=\"/monitoring/job/7?from=2700&amp;to=3600\""));
	ck_assert_ptr_nonnull(strstr(b.data, "Zoom in: 45m to 1h"));
	buf_reset(&b);
	p.zoom_parts = 2;
	p.zoom_base = 1700000000; /* epoch values */
	p.t0 = 600;
	svg_timeseries(&b, &p);
	check_svg(&b);
	ck_assert_uint_eq(count(b.data, "<a href=\""), 2);
	ck_assert_ptr_nonnull(strstr(b.data, "from=1700000600&amp;to=1700002400\""));
	buf_release(&b);
}
END_TEST

START_TEST(ts_statistics_band)
{
	enum { NS = 16, N = 300 };
	double *v[NS], mn[N], md[N], mx[N];
	struct svg_series s[NS];
	char names[NS][16];
	for (int i = 0; i < NS; i++) {
		v[i] = walk(N, (unsigned)i + 10, 100);
		snprintf(names[i], sizeof(names[i]), "host%02d", i);
		s[i] = (struct svg_series){names[i], v[i], N};
	}
	for (int t = 0; t < N; t++) {
		mn[t] = INFINITY;
		mx[t] = -INFINITY;
		double sum = 0;
		for (int i = 0; i < NS; i++) {
			mn[t] = fmin(mn[t], v[i][t]);
			mx[t] = fmax(mx[t], v[i][t]);
			sum += v[i][t];
		}
		md[t] = sum / NS;
	}
	mn[100] = mx[100] = md[100] = NAN; /* a gap splits the band */
	struct svg_stats_band band = {mn, md, mx, N};
	struct svg_ts p = {.title = "mem_bw", .unit = "GB/s", .width = 500, .height = 220,
			   .timestep = 60, .series = s, .nseries = NS, .band = &band, .band_only = true};
	struct buf b = BUF_INIT;
	svg_timeseries(&b, &p);
	check_svg(&b);
	ck_assert_ptr_nonnull(strstr(b.data, "class=\"svg-band\""));
	ck_assert_ptr_nonnull(strstr(b.data, "class=\"svg-median\""));
	ck_assert_ptr_null(strstr(b.data, "<title>host03</title>"));
	char d[65536];
	path_d_after(b.data, "class=\"svg-band\"", d, sizeof(d));
	ck_assert_uint_eq(count(d, "M"), 2);
	ck_assert_uint_eq(count(d, "Z"), 2);
	buf_reset(&b);
	p.band_only = false; /* band beneath the lines */
	svg_timeseries(&b, &p);
	check_svg(&b);
	ck_assert_ptr_nonnull(strstr(b.data, "class=\"svg-band\""));
	ck_assert_ptr_nonnull(strstr(b.data, "<title>host03</title>"));
	ck_assert_ptr_nonnull(strstr(b.data, ">16 series</text>"));
	buf_release(&b);
	for (int i = 0; i < NS; i++)
		free(v[i]);
}
END_TEST

START_TEST(ts_size_64x600)
{
	enum { NS = 64, N = 600 };
	double *v[NS];
	struct svg_series s[NS];
	char names[NS][16];
	for (int i = 0; i < NS; i++) {
		v[i] = walk(N, (unsigned)i + 100, 50 + i);
		snprintf(names[i], sizeof(names[i]), "f%04d", i);
		s[i] = (struct svg_series){names[i], v[i], N};
	}
	struct svg_thresholds th = {128, 100, 50, 10, false};
	struct svg_ts p = {.title = "cpu_load", .unit = "load", .width = 600, .height = 260,
			   .timestep = 60, .series = s, .nseries = NS, .thresholds = &th,
			   .zoom_url = "/monitoring/job/1?from={from}&to={to}"};
	struct buf b = BUF_INIT;
	svg_timeseries(&b, &p);
	check_svg(&b);
	fprintf(stderr, "svg: 64 series x 600 points at 600x260: %zu bytes\n", b.len);
	ck_assert_uint_lt(b.len, 400 * 1024);
	buf_release(&b);
	for (int i = 0; i < NS; i++)
		free(v[i]);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the other charts */

START_TEST(sparkline)
{
	double v[] = {1, 2, NAN, 4, 8, 2};
	struct svg_thresholds th = {10, 5, 4, 1, false};
	struct svg_spark p = {.label = "flops_any", .unit = "GFlop/s", .values = v, .n = 6,
			      .thresholds = &th};
	struct buf b = BUF_INIT;
	svg_sparkline(&b, &p);
	check_svg(&b);
	ck_assert_ptr_nonnull(strstr(b.data, "<title>flops_any: min 1 / avg 3.4 / max 8 GFlop/s</title>"));
	ck_assert_ptr_nonnull(strstr(b.data, "width=\"120\" height=\"24\""));
	ck_assert_ptr_nonnull(strstr(b.data, "class=\"zone-caution\"")); /* avg 3.4 in 1..4 */
	buf_reset(&b);
	p.thresholds = NULL;
	p.label = hostile[0];
	p.unit = hostile[2];
	p.color = hostile[1];
	svg_sparkline(&b, &p);
	check_svg(&b);
	ck_assert_ptr_null(strstr(b.data, "zone-"));
	buf_reset(&b);
	double nan2[] = {NAN, NAN};
	p.values = nan2;
	p.n = 2;
	svg_sparkline(&b, &p);
	check_svg(&b);
	ck_assert_ptr_nonnull(strstr(b.data, "No data"));
	buf_reset(&b);
	p.values = NULL;
	svg_sparkline(&b, &p);
	check_svg(&b);
	buf_release(&b);
}
END_TEST

START_TEST(histogram)
{
	const char *labels[] = {"0-1h", "1-2h", "2-4h", "4-8h", "8-12h", "12-24h", hostile[0]};
	double counts[] = {120, 45, 30, 3, 0, 7, 1};
	struct svg_hist p = {.title = "Duration distribution", .x_title = "Duration",
			     .y_title = "Number of jobs", .labels = labels, .counts = counts, .n = 7};
	struct buf b = BUF_INIT;
	svg_histogram(&b, &p);
	check_svg(&b);
	ck_assert_ptr_nonnull(strstr(b.data, "<title>1-2h: 45</title>"));
	ck_assert_ptr_nonnull(strstr(b.data, ">Number of jobs</text>"));
	ck_assert_ptr_nonnull(strstr(b.data, "&lt;script&gt;"));
	/* small counts: integer ticks only */
	double small[] = {1, 2, 1};
	p.counts = small;
	p.n = 3;
	buf_reset(&b);
	svg_histogram(&b, &p);
	check_svg(&b);
	ck_assert_ptr_null(strstr(b.data, ">0.5</text>"));
	ck_assert_ptr_nonnull(strstr(b.data, ">2</text>"));
	p.n = 0;
	buf_reset(&b);
	svg_histogram(&b, &p);
	check_svg(&b);
	ck_assert_ptr_nonnull(strstr(b.data, "No data"));
	/* many bins: labels thinned */
	const char *many[100];
	double mc[100];
	char names[100][8];
	for (int i = 0; i < 100; i++) {
		snprintf(names[i], sizeof(names[i]), "%d", i * 10);
		many[i] = names[i];
		mc[i] = i % 7;
	}
	p.labels = many;
	p.counts = mc;
	p.n = 100;
	buf_reset(&b);
	svg_histogram(&b, &p);
	check_svg(&b);
	ck_assert_ptr_nonnull(strstr(b.data, ">0</text>"));
	ck_assert_ptr_null(strstr(b.data, ">10</text>"));
	buf_release(&b);
}
END_TEST

START_TEST(roofline)
{
	enum { N = 200 };
	double x[N], y[N];
	for (int i = 0; i < N; i++) {
		x[i] = 0.05 * pow(1.02, i);
		y[i] = fmin(400 * x[i], 432) * (0.2 + 0.6 * (i % 10) / 10.0);
	}
	x[5] = NAN;
	y[6] = 0;
	struct svg_roofline p = {.title = "Roofline", .mem_bw = 400, .flops_scalar = 432,
				 .flops_simd = 9216, .intensity = x, .perf = y, .n = N};
	struct buf b = BUF_INIT;
	svg_roofline(&b, &p);
	check_svg(&b);
	ck_assert_uint_eq(count(b.data, "<circle r=\"3\""), N - 2);
	ck_assert_ptr_nonnull(strstr(b.data, ">400 GB/s</text>"));
	ck_assert_ptr_nonnull(strstr(b.data, "SIMD peak 9216 GFlop/s"));
	ck_assert_ptr_nonnull(strstr(b.data, "ridge point"));
	ck_assert_ptr_nonnull(strstr(b.data, ">0.01</text>"));
	ck_assert_ptr_nonnull(strstr(b.data, ">1k</text>"));
	buf_reset(&b);
	p.n = 0;
	svg_roofline(&b, &p);
	check_svg(&b);
	ck_assert_ptr_nonnull(strstr(b.data, "No data"));
	buf_reset(&b);
	p = (struct svg_roofline){.title = hostile[0]};
	svg_roofline(&b, &p);
	check_svg(&b);
	ck_assert_ptr_nonnull(strstr(b.data, "No data"));
	buf_reset(&b);
	p = (struct svg_roofline){.intensity = x, .perf = y, .n = N}; /* points only */
	svg_roofline(&b, &p);
	check_svg(&b);
	buf_release(&b);
}
END_TEST

START_TEST(polar)
{
	const char *labels[] = {"flops_any", "mem_bw", "cpu_load", "mem_used", hostile[1]};
	double avg[] = {0.2, 0.5, 0.9, 1.4, NAN};
	double max[] = {0.4, 0.8, 1.0, 2.0, 0.3};
	struct svg_polar p = {.title = "Footprint", .labels = labels, .n = 5,
			      .values = {avg, max}, .names = {"avg", "max"}};
	struct buf b = BUF_INIT;
	svg_polar(&b, &p);
	check_svg(&b);
	ck_assert_uint_eq(count(b.data, "fill=\"#dc3545\""), 2); /* 1.4 and 2.0; 1.0 is not above */
	ck_assert_ptr_nonnull(strstr(b.data, "mem_used: 140% of peak (above peak)"));
	ck_assert_ptr_nonnull(strstr(b.data, "&quot;onload=&quot;x"));
	ck_assert_ptr_nonnull(strstr(b.data, ">avg</text>"));
	for (size_t n = 0; n <= 2; n++) {
		p.n = n;
		buf_reset(&b);
		svg_polar(&b, &p);
		check_svg(&b);
		if (!n)
			ck_assert_ptr_nonnull(strstr(b.data, "No data"));
	}
	p.n = 5;
	p.values[1] = NULL;
	p.names[0] = hostile[0];
	buf_reset(&b);
	svg_polar(&b, &p);
	check_svg(&b);
	buf_release(&b);
}
END_TEST

START_TEST(footprint_bars)
{
	struct svg_fp_bar bars[] = {
		{"flops_any", "GFlop/s", "avg", 23.4, {9216, 1000, 200, 50, false}},
		{"mem_bw", "GB/s", "avg", 180, {350, 100, 50, 10, false}},
		{"mem_used", "GB", "max", 230, {512, 128, 200, 240, true}},
		{"cpu_load", "", "avg", NAN, {128, 128, 10, 5, false}},
		{hostile[0], hostile[1], hostile[2], 1e9, {NAN, NAN, NAN, NAN, false}},
	};
	struct svg_footprint p = {.title = "Footprint", .width = 320, .bars = bars, .n = 5};
	struct buf b = BUF_INIT;
	svg_footprint_bars(&b, &p);
	check_svg(&b);
	ck_assert_ptr_nonnull(strstr(b.data, "<rect class=\"zone-alert\"")); /* 23.4 < 50 */
	ck_assert_ptr_nonnull(strstr(b.data, "<rect class=\"zone-normal\"")); /* 180 > 100 */
	ck_assert_ptr_nonnull(strstr(b.data, "<rect class=\"zone-caution\"")); /* 230 in 200..240 */
	ck_assert_ptr_nonnull(strstr(b.data, "flops_any</tspan>: 23.4 GFlop/s"));
	ck_assert_ptr_nonnull(strstr(b.data, "no data"));
	ck_assert_ptr_nonnull(strstr(b.data, "&lt;script&gt;"));
	/* lower_is_better turns a good value bad */
	bars[1].th = (struct svg_thresholds){350, 10, 50, 100, true};
	buf_reset(&b);
	svg_footprint_bars(&b, &p);
	check_svg(&b);
	ck_assert_ptr_null(strstr(b.data, "<rect class=\"zone-normal\""));
	ck_assert_uint_eq(count(b.data, "<rect class=\"zone-alert\""), 2);
	p.n = 0;
	buf_reset(&b);
	svg_footprint_bars(&b, &p);
	check_svg(&b);
	ck_assert_ptr_nonnull(strstr(b.data, "No data"));
	buf_release(&b);
}
END_TEST

Suite *svg_suite(void); /* also in suites.h once wired in */

Suite *svg_suite(void)
{
	Suite *s = suite_create("svg");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, nice_ticks);
	tcase_add_test(tc, durations_and_numbers);
	tcase_add_test(tc, lttb);
	tcase_add_test(tc, zones);
	tcase_add_test(tc, ts_basic_and_thresholds);
	tcase_add_test(tc, ts_lower_is_better_inverts_zones);
	tcase_add_test(tc, ts_nan_gaps_split_paths);
	tcase_add_test(tc, ts_empty_and_degenerate);
	tcase_add_test(tc, ts_hostile_input_is_escaped);
	tcase_add_test(tc, ts_zoom_links);
	tcase_add_test(tc, ts_statistics_band);
	tcase_add_test(tc, ts_size_64x600);
	tcase_add_test(tc, sparkline);
	tcase_add_test(tc, histogram);
	tcase_add_test(tc, roofline);
	tcase_add_test(tc, polar);
	tcase_add_test(tc, footprint_bars);
	suite_add_tcase(s, tc);
	return s;
}
