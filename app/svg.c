#include "config.h"
#include "svg.h"
#include "buf.h"
#include "html.h"
#include "xalloc.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const svg_default_colors[] = {
	"#00bfff", "#0000ff", "#ff00ff", "#ff0000", "#ff8000", "#ffff00", "#80ff00",
};
const size_t svg_default_ncolors = sizeof(svg_default_colors) / sizeof(svg_default_colors[0]);

/* Bootstrap-like palette. */
/* The plots' font (11 px, -apple-system, Segoe UI, Roboto, ...) is the .svg-chart rule in
 * static/css/jobscope.css. */
#define C_TEXT "#212529"
#define C_TICK "#495057"
#define C_MUTED "#6c757d"
#define C_GRID "#e9ecef"
#define C_FRAME "#ced4da"
#define C_AXIS "#adb5bd"
#define C_PRIMARY "#0d6efd"
#define C_BAND "#495057"   /* statistics band: neutral on every zone tint */
#define C_MEDIAN "#212529"
#define C_ORANGE "#fd7e14"
#define C_RED "#dc3545"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define CHAR_W 6.3     /* generous average advance of an 11px sans-serif glyph */
#define LEGEND_MAX 8   /* series listed one by one in a legend */

/* ------------------------------------------------------------------ */
/* thresholds */

static bool lower_better(const struct svg_thresholds *t)
{
	return t->lower_is_better ||
	       (isfinite(t->alert) && isfinite(t->caution) && t->alert > t->caution);
}

enum svg_zone svg_zone_of(double v, const struct svg_thresholds *t)
{
	if (!t || !isfinite(v))
		return SVG_ZONE_NONE;
	bool hn = isfinite(t->normal), hc = isfinite(t->caution), ha = isfinite(t->alert);
	if (!hn && !hc && !ha)
		return SVG_ZONE_NONE;
	if (lower_better(t)) {
		if (hn && v <= t->normal)
			return SVG_ZONE_NORMAL;
		if (hc && v <= t->caution)
			return SVG_ZONE_FAIR;
		if (ha && v <= t->alert)
			return SVG_ZONE_CAUTION;
		return ha ? SVG_ZONE_ALERT : hc ? SVG_ZONE_CAUTION : SVG_ZONE_FAIR;
	}
	if (ha && v <= t->alert)
		return SVG_ZONE_ALERT;
	if (hc && v <= t->caution)
		return SVG_ZONE_CAUTION;
	if (hn && v <= t->normal)
		return SVG_ZONE_FAIR;
	return hn ? SVG_ZONE_NORMAL : hc ? SVG_ZONE_FAIR : SVG_ZONE_CAUTION;
}

const char *svg_zone_name(enum svg_zone z)
{
	switch (z) {
	case SVG_ZONE_NORMAL: return "normal";
	case SVG_ZONE_FAIR: return "fair";
	case SVG_ZONE_CAUTION: return "caution";
	case SVG_ZONE_ALERT: return "alert";
	case SVG_ZONE_NONE: break;
	}
	return "";
}

/* Background tint of a zone; NULL: leave white. */
static const char *zone_tint(enum svg_zone z)
{
	switch (z) {
	case SVG_ZONE_NORMAL: return "#d1e7dd";
	case SVG_ZONE_CAUTION: return "#fff3cd";
	case SVG_ZONE_ALERT: return "#f8d7da";
	case SVG_ZONE_FAIR:
	case SVG_ZONE_NONE: break;
	}
	return NULL;
}

static const char *zone_fill(enum svg_zone z)
{
	switch (z) {
	case SVG_ZONE_NORMAL: return "#198754";
	case SVG_ZONE_FAIR: return "#0dcaf0";
	case SVG_ZONE_CAUTION: return "#ffc107";
	case SVG_ZONE_ALERT: return C_RED;
	case SVG_ZONE_NONE: break;
	}
	return C_PRIMARY;
}

static const char *zone_text(enum svg_zone z)
{
	switch (z) {
	case SVG_ZONE_NORMAL: return "#146c43";
	case SVG_ZONE_FAIR: return "#087990";
	case SVG_ZONE_CAUTION: return "#997404";
	case SVG_ZONE_ALERT: return "#b02a37";
	case SVG_ZONE_NONE: break;
	}
	return C_MUTED;
}

/* ------------------------------------------------------------------ */
/* numbers */

/* round(q) when q is an integer but for floating-point noise, else f(q) */
static double snap(double q, double (*f)(double))
{
	double r = nearbyint(q);
	return fabs(q - r) <= 1e-9 * fabs(q) ? r : f(q);
}

size_t svg_nice_ticks(double min, double max, size_t max_ticks, double *ticks)
{
	static const int mant[] = {1, 2, 5};
	if (max_ticks < 2 || !isfinite(min) || !isfinite(max))
		return 0;
	if (min > max) {
		double t = min;
		min = max;
		max = t;
	}
	if (max == min) {
		if (min == 0) {
			max = 1;
		} else {
			double d = fabs(min) * 0.1;
			min -= d;
			max += d;
		}
	}
	double range = max - min;
	if (!isfinite(range) || range <= 0)
		return 0;
	int e = (int)floor(log10(range / (double)(max_ticks - 1))) - 1;
	for (int tries = 0; tries < 40; tries++, e++) {
		double p10 = pow(10.0, e < 0 ? -e : e);
		for (size_t k = 0; k < 3; k++) {
			double step = e < 0 ? mant[k] / p10 : mant[k] * p10;
			double lo = snap(min / step, floor), hi = snap(max / step, ceil);
			if (hi - lo + 1 > (double)max_ticks)
				continue;
			size_t n = 0;
			for (double i = lo; i <= hi; i++) {
				double m = i * mant[k];
				double t = e < 0 ? m / p10 : m * p10;
				ticks[n++] = t == 0 ? 0 : t; /* no -0 */
			}
			return n;
		}
	}
	/* only when two ticks cannot cover a range around 0: -s and s */
	double s = 1, a = fmax(fabs(min), fabs(max));
	while (s < a)
		s *= 10;
	while (s / 10 >= a)
		s /= 10;
	s = s / 5 >= a ? s / 5 : s / 2 >= a ? s / 2 : s;
	ticks[0] = min < 0 ? -s : 0;
	ticks[1] = max > 0 ? s : 0;
	return 2;
}

int svg_format_duration(double seconds, char *out, size_t size)
{
	if (!isfinite(seconds))
		return snprintf(out, size, "?");
	if (fabs(seconds) > 1e15)
		seconds = seconds < 0 ? -1e15 : 1e15;
	long long s = llround(seconds);
	const char *sign = s < 0 ? "-" : "";
	if (s < 0)
		s = -s;
	if (s == 0)
		return snprintf(out, size, "0");
	if (s < 60)
		return snprintf(out, size, "%s%llds", sign, s);
	if (s < 3600) {
		long long m = s / 60, r = s % 60;
		return r ? snprintf(out, size, "%s%lldm%llds", sign, m, r)
			 : snprintf(out, size, "%s%lldm", sign, m);
	}
	if (s < 86400) {
		long long h = s / 3600, m = s % 3600 / 60;
		return m ? snprintf(out, size, "%s%lldh%lldm", sign, h, m)
			 : snprintf(out, size, "%s%lldh", sign, h);
	}
	long long d = s / 86400, h = s % 86400 / 3600;
	return h ? snprintf(out, size, "%s%lldd%lldh", sign, d, h)
		 : snprintf(out, size, "%s%lldd", sign, d);
}

int svg_format_number(double v, double step, char *out, size_t size)
{
	static const char prefixes[] = "kMGTP";
	if (isnan(v))
		return snprintf(out, size, "NaN");
	if (!isfinite(v))
		return snprintf(out, size, v > 0 ? "inf" : "-inf");
	double a = fabs(v), scale = 1;
	char suffix = '\0';
	for (int k = 4; k >= 0; k--) {
		double s = pow(1000.0, k + 1);
		if (a >= s * (1 - 1e-12)) {
			scale = s;
			suffix = prefixes[k];
			break;
		}
	}
	double x = v / scale;
	int d = 0;
	if (step > 0 && isfinite(step)) {
		double s = step / scale;
		while (d < 9) {
			double m = s * pow(10.0, d);
			if (fabs(m - nearbyint(m)) <= 1e-6 * fmax(1, m))
				break;
			d++;
		}
	} else if (x != 0) {
		double l = floor(log10(fabs(x)));
		d = l >= 2 ? 0 : (int)(2 - l);
		if (d > 9)
			d = 9;
	}
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%.*f", d, x);
	if (strchr(tmp, '.')) {
		size_t n = strlen(tmp);
		while (n > 0 && tmp[n - 1] == '0')
			tmp[--n] = '\0';
		if (n > 0 && tmp[n - 1] == '.')
			tmp[--n] = '\0';
	}
	const char *t = tmp;
	if (strcmp(t, "-0") == 0)
		t = "0";
	if (suffix)
		return snprintf(out, size, "%s%c", t, suffix);
	return snprintf(out, size, "%s", t);
}

size_t svg_lttb(const double *v, size_t n, size_t target, size_t *idx)
{
	if (n <= 1) {
		if (n)
			idx[0] = 0;
		return n;
	}
	if (target >= n) {
		for (size_t i = 0; i < n; i++)
			idx[i] = i;
		return n;
	}
	if (target < 3) {
		idx[0] = 0;
		idx[1] = n - 1;
		return 2;
	}
	double every = (double)(n - 2) / (double)(target - 2);
	size_t a = 0, k = 0;
	idx[k++] = 0;
	for (size_t i = 0; i < target - 2; i++) {
		/* average of the next bucket (the last point for the last bucket) */
		size_t ns = (size_t)floor((double)(i + 1) * every) + 1;
		size_t ne = (size_t)floor((double)(i + 2) * every) + 1;
		if (ne > n)
			ne = n;
		if (ns >= ne)
			ns = ne - 1;
		double ax = 0, ay = 0;
		for (size_t j = ns; j < ne; j++) {
			ax += (double)j;
			ay += v[j];
		}
		ax /= (double)(ne - ns);
		ay /= (double)(ne - ns);
		/* the point of this bucket that spans the largest triangle */
		size_t rs = (size_t)floor((double)i * every) + 1;
		size_t re = (size_t)floor((double)(i + 1) * every) + 1;
		if (re > n - 1)
			re = n - 1;
		if (rs >= re)
			rs = re - 1;
		double best = -1;
		size_t pick = rs;
		for (size_t j = rs; j < re; j++) {
			double area = fabs(((double)a - ax) * (v[j] - v[a]) -
					   ((double)a - (double)j) * (ay - v[a]));
			if (area > best) {
				best = area;
				pick = j;
			}
		}
		if (pick <= a) /* defensive: stay strictly increasing */
			continue;
		idx[k++] = pick;
		a = pick;
	}
	idx[k++] = n - 1;
	return k;
}

/* ------------------------------------------------------------------ */
/* low-level output */

static void esc(struct buf *out, const char *s)
{
	if (s)
		html_escape(out, s, strlen(s));
}

static bool empty(const char *s)
{
	return !s || !*s;
}

/* A colour from the caller, or dflt when it does not look like one. */
static const char *safe_color(const char *c, const char *dflt)
{
	if (empty(c) || strlen(c) > 40)
		return dflt;
	for (const char *s = c; *s; s++) {
		char ch = *s;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '#' || ch == '(' || ch == ')' ||
		      ch == ',' || ch == '.' || ch == '%' || ch == ' '))
			return dflt;
	}
	return c;
}

static long tenths(double v)
{
	if (!isfinite(v))
		return 0;
	if (v > 1e8)
		v = 1e8;
	if (v < -1e8)
		v = -1e8;
	return lround(v * 10.0);
}

/* A number in tenths, shortest form: 12, 12.5, .5, -3.2 */
static void put_t(struct buf *b, long t)
{
	char tmp[32];
	char *p = tmp + sizeof(tmp);
	bool neg = t < 0;
	unsigned long u = neg ? 0UL - (unsigned long)t : (unsigned long)t;
	unsigned long ip = u / 10, fp = u % 10;
	if (fp) {
		*--p = (char)('0' + fp);
		*--p = '.';
	}
	if (ip || !fp) {
		do {
			*--p = (char)('0' + ip % 10);
			ip /= 10;
		} while (ip);
	}
	if (neg)
		*--p = '-';
	buf_add(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void put_c(struct buf *b, double v)
{
	put_t(b, tenths(v));
}

/* ' name="v"' */
static void attr(struct buf *b, const char *name, double v)
{
	buf_addch(b, ' ');
	buf_adds(b, name);
	buf_adds(b, "=\"");
	put_c(b, v);
	buf_addch(b, '"');
}

/* <text x y ATTRS>escaped s</text>; attrs is trusted markup (may be ""). */
static void text(struct buf *b, double x, double y, const char *attrs, const char *s)
{
	buf_adds(b, "<text");
	attr(b, "x", x);
	attr(b, "y", y);
	if (*attrs) {
		buf_addch(b, ' ');
		buf_adds(b, attrs);
	}
	buf_addch(b, '>');
	esc(b, s);
	buf_adds(b, "</text>");
}

/* A y axis title, rotated, centred on the plot height. */
static void text_vertical(struct buf *b, double x, double y, const char *s)
{
	buf_adds(b, "<text");
	attr(b, "x", x);
	attr(b, "y", y);
	buf_adds(b, " transform=\"rotate(-90 ");
	put_c(b, x);
	buf_addch(b, ' ');
	put_c(b, y);
	buf_adds(b, ")\" text-anchor=\"middle\" fill=\"" C_TICK "\">");
	esc(b, s);
	buf_adds(b, "</text>");
}

static void rect(struct buf *b, double x, double y, double w, double h, const char *attrs)
{
	buf_adds(b, "<rect");
	attr(b, "x", x);
	attr(b, "y", y);
	attr(b, "width", w < 0 ? 0 : w);
	attr(b, "height", h < 0 ? 0 : h);
	if (*attrs) {
		buf_addch(b, ' ');
		buf_adds(b, attrs);
	}
	buf_adds(b, "/>");
}

static void svg_open(struct buf *b, int w, int h, const char *cls, const char *label)
{
	buf_adds(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"svg-chart ");
	buf_adds(b, cls);
	buf_adds(b, "\" role=\"img\" aria-label=\"");
	esc(b, label);
	/* the font comes from the .svg-chart rule in
	 * static/css/jobscope.css rather than from attributes on every plot: a job
	 * list carries twenty of them */
	buf_addf(b, "\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\"><title>", w, h, w, h);
	esc(b, label);
	buf_adds(b, "</title>");
}

static void svg_close(struct buf *b)
{
	buf_adds(b, "</svg>\n");
}

static void chart_title(struct buf *b, double x, const char *title)
{
	if (!empty(title))
		text(b, x, 15, "font-size=\"12\" font-weight=\"600\" fill=\"" C_TEXT "\"", title);
}

static void no_data(struct buf *b, double cx, double cy, const char *size)
{
	buf_adds(b, "<text");
	attr(b, "x", cx);
	attr(b, "y", cy);
	buf_addf(b, " text-anchor=\"middle\" dominant-baseline=\"middle\" font-size=\"%s\""
		    " fill=\"" C_MUTED "\">No data</text>", size);
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static double text_w(const char *s, double char_w)
{
	return s ? (double)strlen(s) * char_w : 0;
}

/* ------------------------------------------------------------------ */
/* paths in tenths of a pixel, relative after the first point */

struct pathw {
	struct buf *b;
	long x, y;     /* current point */
	long pdx, pdy; /* pending segment, merged with collinear followers */
	bool pending;
	bool in_l;     /* the last command letter was 'l' */
	bool sep;      /* a positive number needs a separator */
	size_t subpaths;
};

static void pw_init(struct pathw *w, struct buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

static void pw_num(struct pathw *w, long t)
{
	if (w->sep && t >= 0)
		buf_addch(w->b, ' ');
	put_t(w->b, t);
	w->sep = true;
}

static void pw_flush(struct pathw *w)
{
	if (!w->pending)
		return;
	if (!w->in_l) {
		buf_addch(w->b, 'l');
		w->sep = false;
		w->in_l = true;
	}
	pw_num(w, w->pdx);
	pw_num(w, w->pdy);
	w->pending = false;
}

static void pw_move(struct pathw *w, double x, double y)
{
	pw_flush(w);
	buf_addch(w->b, 'M');
	w->sep = false;
	w->in_l = false;
	w->x = tenths(x);
	w->y = tenths(y);
	pw_num(w, w->x);
	pw_num(w, w->y);
	w->subpaths++;
}

/* Returns false when the point is where the pen already is. */
static bool pw_line(struct pathw *w, double x, double y)
{
	long nx = tenths(x), ny = tenths(y);
	long dx = nx - w->x, dy = ny - w->y;
	if (dx == 0 && dy == 0)
		return false;
	w->x = nx;
	w->y = ny;
	if (w->pending && (long long)w->pdx * dy == (long long)w->pdy * dx &&
	    (long long)w->pdx * dx + (long long)w->pdy * dy > 0) {
		w->pdx += dx;
		w->pdy += dy;
		return true;
	}
	pw_flush(w);
	w->pdx = dx;
	w->pdy = dy;
	w->pending = true;
	return true;
}

/* A zero-length segment: with round caps it shows as a dot. */
static void pw_dot(struct pathw *w)
{
	pw_flush(w);
	w->pdx = 0;
	w->pdy = 0;
	w->pending = true;
	pw_flush(w);
}

static void pw_close(struct pathw *w)
{
	pw_flush(w);
	buf_addch(w->b, 'Z');
	w->in_l = false;
	w->sep = false;
}

/* ------------------------------------------------------------------ */
/* plot frame: data space to pixels */

struct frame {
	double x, y, w, h;       /* plot area in px */
	double xmin, xmax, ymin, ymax;
};

static double fx(const struct frame *f, double v)
{
	return f->x + (v - f->xmin) / (f->xmax - f->xmin) * f->w;
}

static double fy(const struct frame *f, double v)
{
	double r = (v - f->ymin) / (f->ymax - f->ymin);
	if (r < 0)
		r = 0;
	if (r > 1)
		r = 1;
	return f->y + f->h - r * f->h;
}

/* Crisp 1px lines sit on half pixels. */
static double half(double v)
{
	return floor(v) + 0.5;
}

struct scratch {
	size_t *idx;
	size_t cap;
};

static size_t *scratch_get(struct scratch *s, size_t n)
{
	if (n > s->cap) {
		s->idx = xrealloc(s->idx, n * sizeof(*s->idx));
		s->cap = n;
	}
	return s->idx;
}

/* Runs of finite values of v as subpaths, each reduced with LTTB to about one
 * point per pixel.  Sample i is at x = t0 + i * step. */
static void path_values(struct pathw *w, const struct frame *f, const double *v, size_t n,
			double t0, double step, struct scratch *sc)
{
	size_t i = 0;
	double ppx = step / (f->xmax - f->xmin) * f->w; /* px per sample */
	while (i < n) {
		while (i < n && !isfinite(v[i]))
			i++;
		size_t s = i;
		while (i < n && isfinite(v[i]))
			i++;
		size_t len = i - s;
		if (!len)
			break;
		double span = (double)(len - 1) * ppx;
		size_t target = span < 1e7 ? (size_t)span + 2 : (size_t)1e7;
		if (target < 3)
			target = 3;
		size_t *idx = scratch_get(sc, len < target ? len : target);
		size_t m = svg_lttb(v + s, len, target, idx);
		pw_move(w, fx(f, t0 + (double)(s + idx[0]) * step), fy(f, v[s + idx[0]]));
		bool drawn = false;
		for (size_t k = 1; k < m; k++)
			drawn |= pw_line(w, fx(f, t0 + (double)(s + idx[k]) * step),
					 fy(f, v[s + idx[k]]));
		if (!drawn)
			pw_dot(w);
	}
}

/* The min..max envelope as closed areas, one per run where both are finite;
 * runs wider than the plot are reduced to one bucket per pixel. */
static void path_band(struct pathw *w, const struct frame *f, const struct svg_stats_band *bd,
		      double t0, double step)
{
	size_t n = bd->n, i = 0;
	double ppx = step / (f->xmax - f->xmin) * f->w;
	while (i < n) {
		while (i < n && !(isfinite(bd->min[i]) && isfinite(bd->max[i])))
			i++;
		size_t s = i;
		while (i < n && isfinite(bd->min[i]) && isfinite(bd->max[i]))
			i++;
		size_t len = i - s;
		if (!len)
			break;
		double span = (double)(len - 1) * ppx;
		size_t nb = span < 1e7 ? (size_t)span + 2 : (size_t)1e7;
		if (nb > len)
			nb = len;
		double *xs = xmalloc(nb * 3 * sizeof(double));
		double *lo = xs + nb, *hi = lo + nb;
		for (size_t b = 0; b < nb; b++) {
			size_t bs = s + b * len / nb, be = s + (b + 1) * len / nb;
			double l = INFINITY, h = -INFINITY;
			for (size_t j = bs; j < be; j++) {
				double a = fmin(bd->min[j], bd->max[j]), c = fmax(bd->min[j], bd->max[j]);
				l = fmin(l, a);
				h = fmax(h, c);
			}
			/* the first and last bucket keep the run's true ends */
			double xi = b == 0 ? (double)bs : b == nb - 1 ? (double)(be - 1)
							       : ((double)bs + (double)(be - 1)) / 2;
			xs[b] = fx(f, t0 + xi * step);
			lo[b] = fy(f, l);
			hi[b] = fy(f, h);
		}
		pw_move(w, xs[0], hi[0]);
		for (size_t b = 1; b < nb; b++)
			pw_line(w, xs[b], hi[b]);
		for (size_t b = nb; b-- > 0;)
			pw_line(w, xs[b], lo[b]);
		pw_close(w);
		free(xs);
	}
}

/* Horizontal threshold zones over the plot area. */
static void draw_zones(struct buf *b, const struct frame *f, const struct svg_thresholds *t)
{
	double cuts[5];
	size_t nc = 0;
	cuts[nc++] = f->ymin;
	const double th[3] = {t->normal, t->caution, t->alert};
	for (size_t i = 0; i < 3; i++)
		if (isfinite(th[i]) && th[i] > f->ymin && th[i] < f->ymax)
			cuts[nc++] = th[i];
	cuts[nc++] = f->ymax;
	for (size_t i = 1; i < nc; i++) /* insertion sort */
		for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
			double tmp = cuts[j];
			cuts[j] = cuts[j - 1];
			cuts[j - 1] = tmp;
		}
	for (size_t i = 0; i + 1 < nc; i++) {
		if (cuts[i + 1] <= cuts[i])
			continue;
		enum svg_zone z = svg_zone_of((cuts[i] + cuts[i + 1]) / 2, t);
		const char *tint = zone_tint(z);
		if (!tint)
			continue;
		double top = fy(f, cuts[i + 1]), bot = fy(f, cuts[i]);
		buf_addf(b, "<rect class=\"zone-%s\" fill=\"%s\"", svg_zone_name(z), tint);
		attr(b, "x", f->x);
		attr(b, "y", top);
		attr(b, "width", f->w);
		attr(b, "height", bot - top);
		buf_adds(b, "/>");
	}
}

/* Light grid lines at the given y ticks and x positions, as one path. */
static void draw_grid(struct buf *b, const struct frame *f, const double *yt, size_t nyt,
		      const double *xt, size_t nxt, bool top_line)
{
	struct pathw w;
	pw_init(&w, b);
	/* translucent dark: visible on white and on the zone tints alike */
	buf_adds(b, "<path fill=\"none\" stroke=\"" C_TEXT "\" stroke-opacity=\"0.09\" d=\"");
	for (size_t i = 0; i < nyt; i++) {
		double y = half(fy(f, yt[i]));
		if ((!top_line && y <= f->y + 1) || y >= f->y + f->h - 1)
			continue;
		pw_move(&w, f->x, y);
		pw_line(&w, f->x + f->w, y);
	}
	for (size_t i = 0; i < nxt; i++) {
		double x = half(xt[i]);
		if (x <= f->x + 1 || x >= f->x + f->w - 1)
			continue;
		pw_move(&w, x, f->y);
		pw_line(&w, x, f->y + f->h);
	}
	pw_flush(&w);
	buf_adds(b, "\"/>");
}

static void draw_frame(struct buf *b, const struct frame *f)
{
	rect(b, half(f->x) - 0.5, half(f->y), floor(f->w), floor(f->h),
	     "fill=\"none\" stroke=\"" C_FRAME "\"");
}

/* Y ticks with labels right-aligned at the plot's left edge. */
static void draw_yticks(struct buf *b, const struct frame *f, const double *t, size_t n)
{
	double step = n > 1 ? t[1] - t[0] : 0;
	buf_adds(b, "<g text-anchor=\"end\" fill=\"" C_TICK "\">");
	for (size_t i = 0; i < n; i++) {
		char lbl[32];
		svg_format_number(t[i], step, lbl, sizeof(lbl));
		text(b, f->x - 5, fy(f, t[i]) + 3.5, "", lbl);
	}
	buf_adds(b, "</g>");
}

/* Longest tick label, in px. */
static double ytick_width(const double *t, size_t n)
{
	double step = n > 1 ? t[1] - t[0] : 0, w = 0;
	for (size_t i = 0; i < n; i++) {
		char lbl[32];
		svg_format_number(t[i], step, lbl, sizeof(lbl));
		w = fmax(w, text_w(lbl, CHAR_W));
	}
	return w;
}

/* Ticks for an automatic y range over [lo, hi]; the range grows by half a step
 * when the data touch the outermost tick, so that peaks do not sit on the frame. */
static size_t auto_yticks(double dlo, double dhi, bool tight, size_t maxt, double *ticks)
{
	double lo = dlo, hi = dhi;
	if (!tight) {
		lo = fmin(lo, 0);
		hi = fmax(hi, 0);
	}
	size_t n = svg_nice_ticks(lo, hi, maxt, ticks);
	if (n < 2)
		return n;
	double step = ticks[1] - ticks[0];
	bool grow_hi = dhi != 0 && fabs(ticks[n - 1] - dhi) < 1e-9 * step;
	bool grow_lo = dlo != 0 && fabs(ticks[0] - dlo) < 1e-9 * step;
	if (grow_hi || grow_lo)
		n = svg_nice_ticks(lo - (grow_lo ? step / 2 : 0), hi + (grow_hi ? step / 2 : 0),
				   maxt, ticks);
	return n;
}

/* ------------------------------------------------------------------ */
/* 1. time series */

struct legend_item {
	const char *label;
	const char *color;
	int kind; /* 0 line, 1 area */
};

static void draw_legend(struct buf *b, double x, double y, double maxw,
			const struct legend_item *it, size_t n, size_t more)
{
	double cx = x;
	buf_adds(b, "<g fill=\"" C_TICK "\">");
	for (size_t i = 0; i < n; i++) {
		const char *lbl = empty(it[i].label) ? "?" : it[i].label;
		double w = 18 + text_w(lbl, CHAR_W) + 12;
		size_t left = n - i + more;
		if (cx + w > x + maxw && i > 0) {
			char tmp[48];
			snprintf(tmp, sizeof(tmp), "+%zu more", left);
			text(b, cx, y + 4, "", tmp);
			buf_adds(b, "</g>");
			return;
		}
		if (it[i].kind == 1) {
			buf_addf(b, "<rect fill=\"%s\" fill-opacity=\"0.25\"", it[i].color);
			attr(b, "x", cx);
			attr(b, "y", y - 4);
			buf_adds(b, " width=\"14\" height=\"8\"/>");
		} else {
			buf_addf(b, "<path stroke=\"%s\" stroke-width=\"2.5\" d=\"M", it[i].color);
			put_c(b, cx);
			buf_addch(b, ' ');
			put_c(b, y);
			buf_adds(b, "h14\"/>");
		}
		text(b, cx + 18, y + 4, "", lbl);
		cx += w;
	}
	if (more) {
		char tmp[48];
		snprintf(tmp, sizeof(tmp), "+%zu more", more);
		text(b, cx, y + 4, "", tmp);
	}
	buf_adds(b, "</g>");
}

static const double time_steps[] = {
	1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 14400,
	21600, 43200, 86400, 172800, 345600, 604800, 1209600, 2419200,
};

/* Multiples of a nice duration inside [xmin, xmax]; returns the count. */
static size_t time_ticks(double xmin, double xmax, size_t maxt, double *ticks)
{
	double step = 0;
	for (size_t i = 0; i < sizeof(time_steps) / sizeof(time_steps[0]); i++) {
		double c = floor(xmax / time_steps[i]) - ceil(xmin / time_steps[i]) + 1;
		if (c <= (double)maxt) {
			step = time_steps[i];
			break;
		}
	}
	if (step == 0) {
		step = 2419200;
		while (floor(xmax / step) - ceil(xmin / step) + 1 > (double)maxt)
			step *= 2;
	}
	size_t n = 0;
	for (double t = ceil(xmin / step) * step; t <= xmax + 1e-9 && n < maxt; t += step)
		ticks[n++] = t;
	return n;
}

static void zoom_href(struct buf *b, const char *tmpl, long long from, long long to)
{
	struct buf u = BUF_INIT;
	for (const char *s = tmpl; *s;) {
		if (strncmp(s, "{from}", 6) == 0) {
			buf_addf(&u, "%lld", from);
			s += 6;
		} else if (strncmp(s, "{to}", 4) == 0) {
			buf_addf(&u, "%lld", to);
			s += 4;
		} else {
			buf_addch(&u, *s++);
		}
	}
	html_escape(b, u.data, u.len);
	buf_release(&u);
}

static void draw_zoom(struct buf *b, const struct frame *f, const struct svg_ts *p)
{
	int parts = p->zoom_parts > 0 ? p->zoom_parts : 4;
	double span = f->xmax - f->xmin;
	if (parts > 64)
		parts = 64;
	if (span / parts < 1)
		return;
	buf_adds(b, "<g class=\"svg-zoom\" fill=\"#000\" fill-opacity=\"0\">");
	for (int k = 0; k < parts; k++) {
		double a = f->xmin + span * k / parts, z = f->xmin + span * (k + 1) / parts;
		long long from = (long long)floor(a + p->zoom_base);
		long long to = (long long)ceil(z + p->zoom_base);
		char fa[32], fz[32];
		svg_format_duration(a, fa, sizeof(fa));
		svg_format_duration(z, fz, sizeof(fz));
		buf_adds(b, "<a href=\"");
		zoom_href(b, p->zoom_url, from, to);
		buf_adds(b, "\">");
		rect(b, fx(f, a), f->y, fx(f, z) - fx(f, a), f->h, "");
		buf_addf(b, "<title>Zoom in: %s to %s</title></a>", fa, fz);
	}
	buf_adds(b, "</g>");
}

void svg_timeseries(struct buf *out, const struct svg_ts *p)
{
	int W = p->width > 0 ? p->width : 400, H = p->height > 0 ? p->height : 200;
	double step = p->timestep > 0 && isfinite(p->timestep) ? p->timestep : 60;
	double t0 = isfinite(p->t0) ? p->t0 : 0;
	const struct svg_stats_band *bd = p->band;
	if (bd && (!bd->min || !bd->max))
		bd = NULL;
	bool lines = !(bd && p->band_only) && p->series;
	const char *const *cols = p->colors && p->ncolors ? p->colors : svg_default_colors;
	size_t ncols = p->colors && p->ncolors ? p->ncolors : svg_default_ncolors;

	/* data extent */
	double dmin = INFINITY, dmax = -INFINITY, sum = 0;
	size_t cnt = 0, maxn = 0, drawn_series = 0;
	if (lines) {
		for (size_t s = 0; s < p->nseries; s++) {
			const struct svg_series *se = &p->series[s];
			bool any = false;
			for (size_t i = 0; se->values && i < se->n; i++) {
				double v = se->values[i];
				if (!isfinite(v))
					continue;
				dmin = fmin(dmin, v);
				dmax = fmax(dmax, v);
				sum += v;
				cnt++;
				any = true;
			}
			if (se->values && se->n > maxn)
				maxn = se->n;
			drawn_series += any;
		}
	}
	if (bd) {
		if (bd->n > maxn)
			maxn = bd->n;
		for (size_t i = 0; i < bd->n; i++) {
			const double vs[3] = {bd->min[i], bd->max[i], bd->median ? bd->median[i] : NAN};
			for (size_t k = 0; k < 3; k++)
				if (isfinite(vs[k])) {
					dmin = fmin(dmin, vs[k]);
					dmax = fmax(dmax, vs[k]);
				}
			if (!lines && bd->median && isfinite(bd->median[i])) {
				sum += bd->median[i];
				cnt++;
			}
		}
	}
	bool have = dmin <= dmax;
	double xmin = t0;
	double xmax = t0 + (maxn > 1 ? (double)(maxn - 1) * step : 0);
	if (isfinite(p->t_end) && p->t_end > xmax)
		xmax = p->t_end;
	if (xmax <= xmin)
		xmax = xmin + step;

	/* accessible label */
	struct buf lbl = BUF_INIT;
	buf_adds(&lbl, empty(p->title) ? "Time series" : p->title);
	if (!empty(p->unit))
		buf_addf(&lbl, " [%s]", p->unit);
	char dur[32];
	svg_format_duration(xmax - xmin, dur, sizeof(dur));
	if (have) {
		char a[32], b[32];
		svg_format_number(dmin, 0, a, sizeof(a));
		svg_format_number(dmax, 0, b, sizeof(b));
		if (lines)
			buf_addf(&lbl, ": %zu series", drawn_series);
		else
			buf_adds(&lbl, ": min/median/max band");
		buf_addf(&lbl, " over %s, values %s to %s", dur, a, b);
		if (p->thresholds && cnt) {
			enum svg_zone z = svg_zone_of(sum / (double)cnt, p->thresholds);
			if (z != SVG_ZONE_NONE)
				buf_addf(&lbl, ", average %s", svg_zone_name(z));
		}
	} else {
		buf_adds(&lbl, ": no data");
	}
	svg_open(out, W, H, "svg-ts", lbl.data);
	buf_release(&lbl);

	/* legend items */
	struct legend_item items[LEGEND_MAX + 2];
	size_t nitems = 0, more = 0;
	if (have && bd) {
		items[nitems++] = (struct legend_item){"min–max", C_BAND, 1};
		if (bd->median)
			items[nitems++] = (struct legend_item){"median", C_MEDIAN, 0};
	}
	if (have && lines && drawn_series <= LEGEND_MAX) {
		for (size_t s = 0, c = 0; s < p->nseries; s++, c++) {
			const struct svg_series *se = &p->series[s];
			bool any = false;
			for (size_t i = 0; se->values && i < se->n && !any; i++)
				any = isfinite(se->values[i]);
			if (any)
				items[nitems++] = (struct legend_item){
					se->label, safe_color(cols[c % ncols], C_PRIMARY), 0};
		}
	}
	bool has_title = !empty(p->title);
	double top = has_title ? 26 : 8;
	double bottom = 20 + (nitems ? 18 : 0);
	double ph = fmax(H - top - bottom, 10);

	double yt[16];
	size_t nyt = 0;
	size_t maxt = (size_t)clampi((int)(ph / 28) + 1, 2, 8);
	double ymin = 0, ymax = 1;
	if (have && p->y_max > p->y_min && isfinite(p->y_min) && isfinite(p->y_max)) {
		ymin = p->y_min;
		ymax = p->y_max;
		double tmp[16];
		size_t n = svg_nice_ticks(ymin, ymax, maxt, tmp);
		double eps = (ymax - ymin) * 1e-9;
		for (size_t i = 0; i < n; i++)
			if (tmp[i] >= ymin - eps && tmp[i] <= ymax + eps)
				yt[nyt++] = tmp[i];
	} else if (have) {
		nyt = auto_yticks(dmin, dmax, p->tight_y, maxt, yt);
		if (nyt >= 2) {
			ymin = yt[0];
			ymax = yt[nyt - 1];
		}
	}
	bool has_unit = !empty(p->unit);
	double left = 8 + (has_unit ? 16 : 0) + (have ? ytick_width(yt, nyt) + 6 : 0);
	double right = 16;
	struct frame f = {
		.x = left, .y = top, .w = fmax(W - left - right, 10), .h = ph,
		.xmin = xmin, .xmax = xmax, .ymin = ymin, .ymax = ymax,
	};

	chart_title(out, 8, p->title);
	if (has_title && have && lines && drawn_series > LEGEND_MAX) {
		char tmp[48];
		snprintf(tmp, sizeof(tmp), "%zu series", drawn_series);
		if (8 + text_w(p->title, CHAR_W * 1.1) + 12 + text_w(tmp, CHAR_W) < W - right)
			text(out, W - right, 15, "text-anchor=\"end\" fill=\"" C_MUTED "\"", tmp);
	}
	if (!have) {
		rect(out, half(f.x) - 0.5, half(f.y), floor(f.w), floor(f.h),
		     "fill=\"#f8f9fa\" stroke=\"" C_FRAME "\"");
		no_data(out, f.x + f.w / 2, f.y + f.h / 2, "12");
		svg_close(out);
		return;
	}

	/* background */
	if (p->thresholds && p->bg == SVG_BG_ZONES) {
		draw_zones(out, &f, p->thresholds);
	} else if (p->thresholds && p->bg == SVG_BG_AVERAGE && cnt) {
		enum svg_zone z = svg_zone_of(sum / (double)cnt, p->thresholds);
		const char *tint = zone_tint(z);
		if (tint) {
			buf_addf(out, "<rect class=\"zone-%s\" fill=\"%s\"", svg_zone_name(z), tint);
			attr(out, "x", f.x);
			attr(out, "y", f.y);
			attr(out, "width", f.w);
			attr(out, "height", f.h);
			buf_adds(out, "/>");
		}
	}

	/* grid, ticks, axis titles */
	double xt[64], xpx[64];
	size_t nxt = time_ticks(xmin, xmax, (size_t)clampi((int)(f.w / 64), 2, 60), xt);
	for (size_t i = 0; i < nxt; i++)
		xpx[i] = fx(&f, xt[i]);
	draw_grid(out, &f, yt, nyt, xpx, nxt, false);
	draw_frame(out, &f);
	draw_yticks(out, &f, yt, nyt);
	buf_adds(out, "<g text-anchor=\"middle\" fill=\"" C_TICK "\">");
	for (size_t i = 0; i < nxt; i++) {
		char d[32];
		svg_format_duration(xt[i], d, sizeof(d));
		text(out, xpx[i], f.y + f.h + 14, "", d);
	}
	buf_adds(out, "</g>");
	if (has_unit)
		text_vertical(out, 13, f.y + f.h / 2, p->unit);

	if (p->zoom_url)
		draw_zoom(out, &f, p);

	struct scratch sc = {NULL, 0};
	struct pathw w;
	if (bd) {
		buf_adds(out, "<path class=\"svg-band\" fill=\"" C_BAND "\" fill-opacity=\"0.25\" d=\"");
		pw_init(&w, out);
		path_band(&w, &f, bd, t0, step);
		pw_flush(&w);
		buf_adds(out, "\"><title>min–max</title></path>");
	}
	double lw = p->line_width > 0 && isfinite(p->line_width) ? p->line_width : 1.5;
	if (lines && drawn_series) {
		buf_adds(out, "<g fill=\"none\" stroke-linejoin=\"round\" stroke-linecap=\"round\"");
		attr(out, "stroke-width", lw);
		buf_addch(out, '>');
		for (size_t s = 0; s < p->nseries; s++) {
			const struct svg_series *se = &p->series[s];
			if (!se->values)
				continue;
			size_t mark = out->len;
			buf_addf(out, "<path stroke=\"");
			esc(out, safe_color(cols[s % ncols], C_PRIMARY));
			buf_adds(out, "\" d=\"");
			pw_init(&w, out);
			path_values(&w, &f, se->values, se->n, t0, step, &sc);
			pw_flush(&w);
			if (!w.subpaths) {
				buf_truncate(out, mark);
				continue;
			}
			buf_adds(out, "\"><title>");
			esc(out, empty(se->label) ? "series" : se->label);
			buf_adds(out, "</title></path>");
		}
		buf_adds(out, "</g>");
	}
	if (bd && bd->median) {
		buf_adds(out, "<path class=\"svg-median\" fill=\"none\" stroke=\"" C_MEDIAN "\""
			      " stroke-linejoin=\"round\" stroke-linecap=\"round\"");
		attr(out, "stroke-width", fmax(lw, 2));
		buf_adds(out, " d=\"");
		pw_init(&w, out);
		path_values(&w, &f, bd->median, bd->n, t0, step, &sc);
		pw_flush(&w);
		buf_adds(out, "\"><title>median</title></path>");
	}
	free(sc.idx);

	if (nitems)
		draw_legend(out, f.x, H - 9, W - f.x - 4, items, nitems, more);
	svg_close(out);
}

/* ------------------------------------------------------------------ */
/* 2. sparkline */

void svg_sparkline(struct buf *out, const struct svg_spark *p)
{
	int W = p->width > 0 ? p->width : 120, H = p->height > 0 ? p->height : 24;
	double mn = INFINITY, mx = -INFINITY, sum = 0;
	size_t cnt = 0;
	for (size_t i = 0; p->values && i < p->n; i++) {
		double v = p->values[i];
		if (!isfinite(v))
			continue;
		mn = fmin(mn, v);
		mx = fmax(mx, v);
		sum += v;
		cnt++;
	}
	struct buf lbl = BUF_INIT;
	buf_adds(&lbl, empty(p->label) ? "Sparkline" : p->label);
	double avg = cnt ? sum / (double)cnt : NAN;
	if (cnt) {
		char a[32], m[32], z[32];
		svg_format_number(mn, 0, a, sizeof(a));
		svg_format_number(avg, 0, m, sizeof(m));
		svg_format_number(mx, 0, z, sizeof(z));
		buf_addf(&lbl, ": min %s / avg %s / max %s", a, m, z);
		if (!empty(p->unit))
			buf_addf(&lbl, " %s", p->unit);
	} else {
		buf_adds(&lbl, ": no data");
	}
	svg_open(out, W, H, "svg-spark", lbl.data);
	buf_release(&lbl);
	enum svg_zone z = svg_zone_of(avg, p->thresholds);
	const char *tint = zone_tint(z);
	if (tint) {
		buf_addf(out, "<rect class=\"zone-%s\" fill=\"%s\"", svg_zone_name(z), tint);
		buf_addf(out, " x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" rx=\"2\"/>", W, H);
	}
	if (!cnt) {
		no_data(out, W / 2.0, H / 2.0, "9");
		svg_close(out);
		return;
	}
	double lo = fmin(mn, 0), hi = fmax(mx, 0);
	if (hi <= lo)
		hi = lo + 1;
	double lw = p->line_width > 0 && isfinite(p->line_width) ? p->line_width : 1.25;
	struct frame f = {
		.x = 1.5, .y = 2, .w = W - 3.0, .h = H - 4.0,
		.xmin = 0, .xmax = p->n > 1 ? (double)(p->n - 1) : 1, .ymin = lo, .ymax = hi,
	};
	buf_adds(out, "<path stroke=\"" C_FRAME "\" d=\"M0 ");
	put_c(out, half(fy(&f, 0)));
	buf_addf(out, "h%d\"/>", W);
	buf_adds(out, "<path fill=\"none\" stroke-linejoin=\"round\" stroke-linecap=\"round\" stroke=\"");
	esc(out, safe_color(p->color, C_PRIMARY));
	buf_addch(out, '"');
	attr(out, "stroke-width", lw);
	buf_adds(out, " d=\"");
	struct scratch sc = {NULL, 0};
	struct pathw w;
	pw_init(&w, out);
	path_values(&w, &f, p->values, p->n, 0, 1, &sc);
	pw_flush(&w);
	free(sc.idx);
	buf_adds(out, "\"/>");
	svg_close(out);
}

/* ------------------------------------------------------------------ */
/* 3. histogram */

void svg_histogram(struct buf *out, const struct svg_hist *p)
{
	int W = p->width > 0 ? p->width : 400, H = p->height > 0 ? p->height : 220;
	size_t n = p->counts ? p->n : 0;
	double maxc = 0, total = 0;
	bool integral = true;
	for (size_t i = 0; i < n; i++) {
		double c = isfinite(p->counts[i]) ? p->counts[i] : 0;
		maxc = fmax(maxc, c);
		total += c;
		integral &= c == floor(c);
	}
	struct buf lbl = BUF_INIT;
	buf_adds(&lbl, empty(p->title) ? "Histogram" : p->title);
	if (n) {
		char t[32];
		svg_format_number(total, integral ? 1 : 0, t, sizeof(t));
		buf_addf(&lbl, ": %zu bins, total %s", n, t);
	} else {
		buf_adds(&lbl, ": no data");
	}
	svg_open(out, W, H, "svg-hist", lbl.data);
	buf_release(&lbl);

	bool has_title = !empty(p->title);
	double top = has_title ? 26 : 8;
	double bottom = 20 + (empty(p->x_title) ? 0 : 16);
	double ph = fmax(H - top - bottom, 10);
	double yt[16], tmp[16];
	size_t maxt = (size_t)clampi((int)(ph / 28) + 1, 2, 8);
	size_t nt = svg_nice_ticks(0, fmax(maxc, integral ? 1 : 1e-9), maxt, tmp), nyt = 0;
	for (size_t i = 0; i < nt; i++)
		if (!integral || tmp[i] == floor(tmp[i]))
			yt[nyt++] = tmp[i];
	double ymax = nt ? tmp[nt - 1] : 1;
	if (nyt && yt[nyt - 1] < ymax) /* keep the frame's top on a labelled tick */
		ymax = yt[nyt - 1] + (nyt > 1 ? yt[1] - yt[0] : 1);
	if (nyt && yt[nyt - 1] < ymax && nyt < 16)
		yt[nyt++] = ymax;
	double left = 8 + (empty(p->y_title) ? 0 : 16) + ytick_width(yt, nyt) + 6;
	struct frame f = {
		.x = left, .y = top, .w = fmax(W - left - 10, 10), .h = ph,
		.xmin = 0, .xmax = n ? (double)n : 1, .ymin = 0, .ymax = ymax,
	};
	chart_title(out, 8, p->title);
	if (!n) {
		rect(out, half(f.x) - 0.5, half(f.y), floor(f.w), floor(f.h),
		     "fill=\"#f8f9fa\" stroke=\"" C_FRAME "\"");
		no_data(out, f.x + f.w / 2, f.y + f.h / 2, "12");
		svg_close(out);
		return;
	}
	draw_grid(out, &f, yt, nyt, NULL, 0, true);
	draw_yticks(out, &f, yt, nyt);

	double band = f.w / (double)n;
	double gap = band > 6 ? band * 0.15 : 0.5;
	buf_adds(out, "<g fill=\"");
	esc(out, safe_color(p->color, C_PRIMARY));
	buf_adds(out, "\">");
	for (size_t i = 0; i < n; i++) {
		double c = isfinite(p->counts[i]) ? p->counts[i] : 0;
		if (c <= 0)
			continue;
		double top_y = fy(&f, c);
		double bh = f.y + f.h - top_y;
		if (bh < 1)
			top_y = f.y + f.h - 1, bh = 1;
		buf_adds(out, "<rect");
		attr(out, "x", f.x + (double)i * band + gap / 2);
		attr(out, "y", top_y);
		attr(out, "width", fmax(band - gap, 1));
		attr(out, "height", bh);
		buf_adds(out, "><title>");
		esc(out, p->labels && p->labels[i] ? p->labels[i] : "");
		char t[32];
		svg_format_number(c, integral ? 1 : 0, t, sizeof(t));
		buf_addf(out, ": %s</title></rect>", t);
	}
	buf_adds(out, "</g>");
	/* axis line */
	buf_adds(out, "<path stroke=\"" C_AXIS "\" d=\"M");
	put_c(out, f.x);
	buf_addch(out, ' ');
	put_c(out, half(f.y + f.h));
	buf_adds(out, "h");
	put_c(out, f.w);
	buf_adds(out, "\"/>");

	/* bin labels, thinned to fit */
	double lw = 0;
	for (size_t i = 0; p->labels && i < n; i++)
		lw = fmax(lw, text_w(p->labels[i], CHAR_W));
	size_t every = (size_t)ceil((lw + 8) / band);
	if (every < 1)
		every = 1;
	buf_adds(out, "<g text-anchor=\"middle\" fill=\"" C_TICK "\">");
	for (size_t i = 0; p->labels && i < n; i += every)
		text(out, f.x + ((double)i + 0.5) * band, f.y + f.h + 14, "", p->labels[i]);
	buf_adds(out, "</g>");
	if (!empty(p->x_title))
		text(out, f.x + f.w / 2, H - 6, "text-anchor=\"middle\" fill=\"" C_TICK "\"", p->x_title);
	if (!empty(p->y_title))
		text_vertical(out, 13, f.y + f.h / 2, p->y_title);
	svg_close(out);
}

/* ------------------------------------------------------------------ */
/* 4. roofline */

/* Colour of time t in [0, 1]: dark blue → purple → pink → orange. */
static void time_color(double t, char out[8])
{
	static const unsigned char stops[4][3] = {
		{0x0d, 0x08, 0x87}, {0x7e, 0x03, 0xa8}, {0xcc, 0x47, 0x78}, {0xf8, 0x95, 0x40},
	};
	if (!(t >= 0))
		t = 0;
	if (t > 1)
		t = 1;
	double s = t * 3;
	int k = (int)s;
	if (k > 2)
		k = 2;
	double r = s - k;
	unsigned c[3];
	for (int i = 0; i < 3; i++)
		c[i] = (unsigned)lround(stops[k][i] + (stops[k + 1][i] - stops[k][i]) * r);
	snprintf(out, 8, "#%02x%02x%02x", c[0] & 255, c[1] & 255, c[2] & 255);
}

struct logframe {
	double x, y, w, h;
	double lx0, lx1, ly0, ly1; /* log10 bounds */
};

static double lfx(const struct logframe *f, double v)
{
	double r = (log10(v) - f->lx0) / (f->lx1 - f->lx0);
	return f->x + fmin(fmax(r, 0), 1) * f->w;
}

static double lfy(const struct logframe *f, double v)
{
	double r = (log10(v) - f->ly0) / (f->ly1 - f->ly0);
	return f->y + f->h - fmin(fmax(r, 0), 1) * f->h;
}

static void roof_line(struct buf *b, const struct logframe *f, double xa, double ya, double xb,
		      double yb, const char *attrs)
{
	buf_addf(b, "<path fill=\"none\" %s d=\"M", attrs);
	put_c(b, lfx(f, xa));
	buf_addch(b, ' ');
	put_c(b, lfy(f, ya));
	buf_addch(b, 'L');
	put_c(b, lfx(f, xb));
	buf_addch(b, ' ');
	put_c(b, lfy(f, yb));
	buf_adds(b, "\"/>");
}

void svg_roofline(struct buf *out, const struct svg_roofline *p)
{
	int W = p->width > 0 ? p->width : 400, H = p->height > 0 ? p->height : 300;
	double bw = p->mem_bw > 0 && isfinite(p->mem_bw) ? p->mem_bw : 0;
	double fs = p->flops_scalar > 0 && isfinite(p->flops_scalar) ? p->flops_scalar : 0;
	double fv = p->flops_simd > 0 && isfinite(p->flops_simd) ? p->flops_simd : 0;
	double fpeak = fmax(fs, fv);
	size_t n = p->intensity && p->perf ? p->n : 0, valid = 0;
	double pxmin = INFINITY, pxmax = -INFINITY, pymin = INFINITY, pymax = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		double x = p->intensity[i], y = p->perf[i];
		if (!(isfinite(x) && isfinite(y) && x > 0 && y > 0))
			continue;
		valid++;
		pxmin = fmin(pxmin, x);
		pxmax = fmax(pxmax, x);
		pymin = fmin(pymin, y);
		pymax = fmax(pymax, y);
	}

	struct buf lbl = BUF_INIT;
	buf_adds(&lbl, empty(p->title) ? "Roofline" : p->title);
	buf_addf(&lbl, ": %zu samples", valid);
	if (bw)
		buf_addf(&lbl, ", memory bandwidth %.4g GB/s", bw);
	if (fv)
		buf_addf(&lbl, ", SIMD peak %.4g GFlop/s", fv);
	if (fs)
		buf_addf(&lbl, ", scalar peak %.4g GFlop/s", fs);
	svg_open(out, W, H, "svg-roofline", lbl.data);
	buf_release(&lbl);

	bool has_title = !empty(p->title);
	double top = has_title ? 24 : 8, bottom = 36;
	chart_title(out, 8, p->title);
	if (!valid && !fpeak) {
		struct frame nf = {.x = 52, .y = top, .w = W - 62.0, .h = H - top - bottom};
		rect(out, half(nf.x) - 0.5, half(nf.y), floor(nf.w), floor(nf.h),
		     "fill=\"#f8f9fa\" stroke=\"" C_FRAME "\"");
		no_data(out, nf.x + nf.w / 2, nf.y + nf.h / 2, "12");
		svg_close(out);
		return;
	}

	/* decade ranges */
	double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
	if (valid) {
		xlo = pxmin;
		xhi = pxmax;
		ylo = pymin;
		yhi = pymax;
	}
	if (bw && fpeak) {
		double rs = (fs ? fs : fv) / bw, rv = fpeak / bw;
		xlo = fmin(xlo, rs / 100);
		xhi = fmax(xhi, rv * 10);
	}
	if (fpeak) {
		yhi = fmax(yhi, fpeak);
		ylo = fmin(ylo, fpeak / 1000);
	}
	if (!(xlo <= xhi)) { /* peaks without bandwidth and no points */
		xlo = 0.01;
		xhi = 1000;
	}
	struct logframe f;
	f.lx0 = floor(log10(xlo));
	f.lx1 = ceil(log10(xhi));
	if (f.lx1 <= f.lx0)
		f.lx1 = f.lx0 + 1;
	if (f.lx1 - f.lx0 > 8)
		f.lx0 = f.lx1 - 8;
	if (bw)
		ylo = fmin(ylo, fmax(bw * pow(10, f.lx0), ylo / 10));
	f.ly0 = floor(log10(ylo));
	f.ly1 = ceil(log10(yhi));
	if (f.ly1 <= f.ly0)
		f.ly1 = f.ly0 + 1;
	if (f.ly1 - f.ly0 > 7)
		f.ly0 = f.ly1 - 7;

	double left = 8 + 16, maxlw = 0;
	for (double e = f.ly0; e <= f.ly1; e++) {
		char t[32];
		svg_format_number(pow(10, e), pow(10, e), t, sizeof(t));
		maxlw = fmax(maxlw, text_w(t, CHAR_W));
	}
	left += maxlw + 6;
	f.x = left;
	f.y = top;
	f.w = fmax(W - left - 14, 10);
	f.h = fmax(H - top - bottom, 10);

	/* grid: minor lines at 2..9, major at decades */
	struct pathw w;
	buf_adds(out, "<path fill=\"none\" stroke=\"#f1f3f5\" d=\"");
	pw_init(&w, out);
	for (double e = f.lx0; e < f.lx1; e++)
		for (int m = 2; m <= 9; m++) {
			double x = half(lfx(&f, m * pow(10, e)));
			pw_move(&w, x, f.y);
			pw_line(&w, x, f.y + f.h);
		}
	for (double e = f.ly0; e < f.ly1; e++)
		for (int m = 2; m <= 9; m++) {
			double y = half(lfy(&f, m * pow(10, e)));
			pw_move(&w, f.x, y);
			pw_line(&w, f.x + f.w, y);
		}
	pw_flush(&w);
	buf_adds(out, "\"/><path fill=\"none\" stroke=\"#dee2e6\" d=\"");
	pw_init(&w, out);
	for (double e = f.lx0 + 1; e < f.lx1; e++) {
		double x = half(lfx(&f, pow(10, e)));
		pw_move(&w, x, f.y);
		pw_line(&w, x, f.y + f.h);
	}
	for (double e = f.ly0 + 1; e < f.ly1; e++) {
		double y = half(lfy(&f, pow(10, e)));
		pw_move(&w, f.x, y);
		pw_line(&w, f.x + f.w, y);
	}
	pw_flush(&w);
	buf_adds(out, "\"/>");
	struct frame ff = {.x = f.x, .y = f.y, .w = f.w, .h = f.h};
	draw_frame(out, &ff);

	/* decade labels */
	buf_adds(out, "<g text-anchor=\"middle\" fill=\"" C_TICK "\">");
	for (double e = f.lx0; e <= f.lx1; e++) {
		char t[32];
		svg_format_number(pow(10, e), pow(10, e), t, sizeof(t));
		text(out, lfx(&f, pow(10, e)), f.y + f.h + 14, "", t);
	}
	buf_adds(out, "</g><g text-anchor=\"end\" fill=\"" C_TICK "\">");
	for (double e = f.ly0; e <= f.ly1; e++) {
		char t[32];
		svg_format_number(pow(10, e), pow(10, e), t, sizeof(t));
		text(out, f.x - 5, lfy(&f, pow(10, e)) + 3.5, "", t);
	}
	buf_adds(out, "</g>");
	text(out, f.x + f.w / 2, H - 6, "text-anchor=\"middle\" fill=\"" C_TICK "\"",
	     "Arithmetic intensity [Flop/Byte]");
	text_vertical(out, 13, f.y + f.h / 2, "Performance [GFlop/s]");

	/* ceilings */
	double X0 = pow(10, f.lx0), X1 = pow(10, f.lx1), Y0 = pow(10, f.ly0), Y1 = pow(10, f.ly1);
	buf_adds(out, "<g class=\"svg-roofs\" font-size=\"10\" fill=\"" C_TEXT "\">");
	if (bw) {
		double xa = fmax(X0, Y0 / bw);
		double xb = fmin(fmin(X1, Y1 / bw), fpeak ? fpeak / bw : X1);
		if (xa < xb) {
			roof_line(out, &f, xa, bw * xa, xb, bw * xb,
				  "stroke=\"" C_TEXT "\" stroke-width=\"2\" stroke-linecap=\"round\"");
			/* label along the diagonal, above it */
			double dx = lfx(&f, xb) - lfx(&f, xa), dy = lfy(&f, bw * xb) - lfy(&f, bw * xa);
			double ang = atan2(dy, dx) * 180 / M_PI;
			double lx = lfx(&f, xa) + dx * 0.12, ly = lfy(&f, bw * xa) + dy * 0.12;
			char t[48];
			snprintf(t, sizeof(t), "%.4g GB/s", bw);
			double ox = lx + 5 * sin(ang * M_PI / 180), oy = ly - 5 * cos(ang * M_PI / 180);
			buf_adds(out, "<text");
			attr(out, "x", ox);
			attr(out, "y", oy);
			buf_adds(out, " transform=\"rotate(");
			put_c(out, ang);
			buf_addch(out, ' ');
			put_c(out, ox);
			buf_addch(out, ' ');
			put_c(out, oy);
			buf_adds(out, ")\">");
			esc(out, t);
			buf_adds(out, "</text>");
		}
	}
	const double peaks[2] = {fv, fs};
	const char *names[2] = {"SIMD peak", "scalar peak"};
	for (int k = 0; k < 2; k++) {
		double pk = peaks[k];
		if (!pk || pk < Y0 || pk > Y1 || (k == 1 && fs == fv))
			continue;
		double xa = bw ? fmax(pk / bw, X0) : X0;
		if (xa >= X1)
			continue;
		roof_line(out, &f, xa, pk, X1, pk,
			  k == 0 ? "stroke=\"" C_TEXT "\" stroke-width=\"2\""
				 : "stroke=\"" C_TICK "\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"");
		char t[64];
		snprintf(t, sizeof(t), "%s %.4g GFlop/s", names[k], pk);
		text(out, f.x + f.w - 4, lfy(&f, pk) - 5, "text-anchor=\"end\"", t);
		if (bw && pk / bw > X0) {
			buf_adds(out, "<circle r=\"3.5\" fill=\"#fff\" stroke=\"" C_TEXT "\" stroke-width=\"1.5\"");
			attr(out, "cx", lfx(&f, pk / bw));
			attr(out, "cy", lfy(&f, pk));
			buf_addf(out, "><title>ridge point %.3g Flop/Byte</title></circle>", pk / bw);
		}
	}
	buf_adds(out, "</g>");

	/* samples, early → late */
	if (valid) {
		buf_adds(out, "<g fill-opacity=\"0.85\" stroke=\"#fff\" stroke-width=\"0.5\">");
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			double x = p->intensity[i], y = p->perf[i];
			if (!(isfinite(x) && isfinite(y) && x > 0 && y > 0))
				continue;
			char c[8];
			time_color(valid > 1 ? (double)k / (double)(valid - 1) : 1, c);
			k++;
			buf_adds(out, "<circle r=\"3\"");
			attr(out, "cx", lfx(&f, x));
			attr(out, "cy", lfy(&f, y));
			buf_addf(out, " fill=\"%s\"/>", c);
		}
		buf_adds(out, "</g>");
		/* time legend in the empty corner above the memory roof */
		double lx = f.x + 8, ly = f.y + 8;
		buf_adds(out, "<g font-size=\"10\" fill=\"" C_TICK "\">");
		rect(out, lx - 4, ly - 4, 126, 18, "fill=\"#fff\" fill-opacity=\"0.85\" rx=\"3\"");
		text(out, lx, ly + 9, "", "start");
		for (int i = 0; i < 8; i++) {
			char c[8];
			time_color(i / 7.0, c);
			buf_addf(out, "<rect fill=\"%s\"", c);
			attr(out, "x", lx + 30 + i * 7);
			attr(out, "y", ly + 1);
			buf_adds(out, " width=\"7\" height=\"8\"/>");
		}
		text(out, lx + 90, ly + 9, "", "end");
		buf_adds(out, "</g>");
	} else {
		no_data(out, f.x + f.w / 2, f.y + f.h * 0.75, "12");
	}
	svg_close(out);
}

/* ------------------------------------------------------------------ */
/* 5. polar */

void svg_polar(struct buf *out, const struct svg_polar *p)
{
	int W = p->width > 0 ? p->width : 320, H = p->height > 0 ? p->height : 300;
	size_t n = p->labels ? p->n : 0;
	static const char *const colors[2] = {C_PRIMARY, C_ORANGE};
	struct buf lbl = BUF_INIT;
	buf_adds(&lbl, empty(p->title) ? "Polar plot" : p->title);
	if (n) {
		buf_addf(&lbl, ": %zu metrics relative to peak", n);
		for (int j = 0; j < 2; j++) {
			if (!p->values[j])
				continue;
			buf_addf(&lbl, "; %s", empty(p->names[j]) ? "values" : p->names[j]);
			for (size_t i = 0; i < n; i++)
				buf_addf(&lbl, "%s %s %.0f%%", i ? "," : "",
					 p->labels[i] ? p->labels[i] : "",
					 isfinite(p->values[j][i]) ? p->values[j][i] * 100 : 0.0);
		}
	} else {
		buf_adds(&lbl, ": no data");
	}
	svg_open(out, W, H, "svg-polar", lbl.data);
	buf_release(&lbl);
	bool has_title = !empty(p->title);
	chart_title(out, 8, p->title);
	double top = has_title ? 24 : 6;
	bool legend = (p->values[0] && !empty(p->names[0])) || (p->values[1] && !empty(p->names[1]));
	double bottom = legend ? 22 : 6;
	double cx = W / 2.0, cy = top + (H - top - bottom) / 2;
	if (!n) {
		no_data(out, cx, cy, "12");
		svg_close(out);
		return;
	}
	double lw = 0;
	for (size_t i = 0; i < n; i++)
		lw = fmax(lw, text_w(p->labels[i], CHAR_W));
	double R = fmin(W / 2.0 - lw - 12, (H - top - bottom) / 2 - 14);
	if (R < 20)
		R = 20;
	double r1 = R / 1.1; /* radius of value 1 (= peak) */
	double *ca = xmalloc(n * 2 * sizeof(double)), *sa = ca + n;
	for (size_t i = 0; i < n; i++) {
		double a = -M_PI / 2 + 2 * M_PI * (double)i / (double)n;
		ca[i] = cos(a);
		sa[i] = sin(a);
	}
	/* rings and spokes */
	struct pathw w;
	static const double rings[4] = {0.25, 0.5, 0.75, 1.0};
	for (int k = 0; k < 4; k++) {
		double r = r1 * rings[k];
		if (n >= 3) {
			buf_addf(out, "<path fill=\"%s\" stroke=\"%s\" d=\"", k == 3 ? "#f8f9fa" : "none",
				 k == 3 ? C_AXIS : "#dee2e6");
			pw_init(&w, out);
			pw_move(&w, cx + r * ca[0], cy + r * sa[0]);
			for (size_t i = 1; i < n; i++)
				pw_line(&w, cx + r * ca[i], cy + r * sa[i]);
			pw_close(&w);
			buf_adds(out, "\"/>");
		} else {
			buf_addf(out, "<circle fill=\"%s\" stroke=\"%s\"", k == 3 ? "#f8f9fa" : "none",
				 k == 3 ? C_AXIS : "#dee2e6");
			attr(out, "cx", cx);
			attr(out, "cy", cy);
			attr(out, "r", r);
			buf_adds(out, "/>");
		}
	}
	buf_adds(out, "<path stroke=\"#dee2e6\" d=\"");
	pw_init(&w, out);
	for (size_t i = 0; i < n; i++) {
		pw_move(&w, cx, cy);
		pw_line(&w, cx + r1 * ca[i], cy + r1 * sa[i]);
	}
	pw_flush(&w);
	buf_adds(out, "\"/>");
	buf_adds(out, "<g font-size=\"9\" fill=\"" C_MUTED "\">");
	for (int k = 1; k < 4; k += 2) {
		char t[16];
		snprintf(t, sizeof(t), "%.0f%%", rings[k] * 100);
		text(out, cx + 3, cy - r1 * rings[k] + 9, "", t);
	}
	buf_adds(out, "</g>");
	/* axis labels */
	buf_adds(out, "<g fill=\"" C_TEXT "\">");
	for (size_t i = 0; i < n; i++) {
		double lx = cx + (R + 6) * ca[i], ly = cy + (R + 6) * sa[i];
		const char *anchor = ca[i] > 0.3 ? "text-anchor=\"start\""
				     : ca[i] < -0.3 ? "text-anchor=\"end\"" : "text-anchor=\"middle\"";
		ly += sa[i] > 0.3 ? 9 : sa[i] < -0.3 ? -2 : 4;
		text(out, lx, ly, anchor, p->labels[i]);
	}
	buf_adds(out, "</g>");
	/* polygons: the second (e.g. max) beneath the first (e.g. avg) */
	for (int j = 1; j >= 0; j--) {
		const double *v = p->values[j];
		if (!v)
			continue;
		buf_adds(out, "<g><title>");
		esc(out, empty(p->names[j]) ? "values" : p->names[j]);
		buf_addf(out, "</title><path fill=\"%s\" fill-opacity=\"0.2\" stroke=\"%s\""
			      " stroke-width=\"2\" stroke-linejoin=\"round\" d=\"",
			 colors[j], colors[j]);
		pw_init(&w, out);
		for (size_t i = 0; i < n; i++) {
			double r = isfinite(v[i]) && v[i] > 0 ? fmin(v[i], 1.1) : 0;
			double x = cx + r1 * r * ca[i], y = cy + r1 * r * sa[i];
			if (i == 0)
				pw_move(&w, x, y);
			else
				pw_line(&w, x, y);
		}
		if (n == 1)
			pw_dot(&w);
		pw_close(&w);
		buf_adds(out, "\"/>");
		for (size_t i = 0; i < n; i++) {
			double r = isfinite(v[i]) && v[i] > 0 ? fmin(v[i], 1.1) : 0;
			bool over = isfinite(v[i]) && v[i] > 1;
			buf_addf(out, "<circle r=\"%s\" fill=\"%s\"", over ? "4" : "2.5",
				 over ? C_RED : colors[j]);
			if (over)
				buf_adds(out, " stroke=\"#fff\" stroke-width=\"1\"");
			attr(out, "cx", cx + r1 * r * ca[i]);
			attr(out, "cy", cy + r1 * r * sa[i]);
			buf_adds(out, "><title>");
			esc(out, p->labels[i]);
			buf_addf(out, ": %.0f%% of peak%s</title></circle>",
				 isfinite(v[i]) ? v[i] * 100 : 0.0, over ? " (above peak)" : "");
		}
		buf_adds(out, "</g>");
	}
	free(ca);
	if (legend) {
		double tw = 0;
		for (int j = 0; j < 2; j++)
			if (p->values[j] && !empty(p->names[j]))
				tw += 18 + text_w(p->names[j], CHAR_W) + 14;
		double x = (W - tw) / 2, y = H - 11;
		buf_adds(out, "<g fill=\"" C_TICK "\">");
		for (int j = 0; j < 2; j++) {
			if (!p->values[j] || empty(p->names[j]))
				continue;
			buf_addf(out, "<rect fill=\"%s\" fill-opacity=\"0.35\" stroke=\"%s\"", colors[j],
				 colors[j]);
			attr(out, "x", x);
			attr(out, "y", y - 5);
			buf_adds(out, " width=\"13\" height=\"9\"/>");
			text(out, x + 18, y + 3.5, "", p->names[j]);
			x += 18 + text_w(p->names[j], CHAR_W) + 14;
		}
		buf_adds(out, "</g>");
	}
	svg_close(out);
}

/* ------------------------------------------------------------------ */
/* 6. footprint bars */

#define FP_ROW 40

void svg_footprint_bars(struct buf *out, const struct svg_footprint *p)
{
	int W = p->width > 0 ? p->width : 320;
	size_t n = p->bars ? p->n : 0;
	bool has_title = !empty(p->title);
	double top = has_title ? 24 : 4;
	int H = (int)top + (n ? (int)n * FP_ROW : 28) + 2;
	struct buf lbl = BUF_INIT;
	buf_adds(&lbl, empty(p->title) ? "Footprint" : p->title);
	if (!n)
		buf_adds(&lbl, ": no data");
	for (size_t i = 0; i < n; i++) {
		const struct svg_fp_bar *b = &p->bars[i];
		char v[32];
		svg_format_number(b->value, 0, v, sizeof(v));
		enum svg_zone z = svg_zone_of(b->value, &b->th);
		buf_addf(&lbl, "%s %s %s%s%s", i ? ";" : ":", b->name ? b->name : "",
			 isfinite(b->value) ? v : "no data", empty(b->unit) ? "" : " ",
			 isfinite(b->value) && b->unit ? b->unit : "");
		if (z != SVG_ZONE_NONE)
			buf_addf(&lbl, " (%s)", svg_zone_name(z));
	}
	svg_open(out, W, H, "svg-footprint", lbl.data);
	buf_release(&lbl);
	chart_title(out, 8, p->title);
	if (!n) {
		no_data(out, W / 2.0, top + 14, "12");
		svg_close(out);
		return;
	}
	double bx = 8, bwid = W - 16.0;
	for (size_t i = 0; i < n; i++) {
		const struct svg_fp_bar *b = &p->bars[i];
		double y = top + (double)i * FP_ROW;
		enum svg_zone z = svg_zone_of(b->value, &b->th);
		bool has = isfinite(b->value);
		char v[32];
		svg_format_number(b->value, 0, v, sizeof(v));
		double scale = b->th.peak > 0 && isfinite(b->th.peak) ? b->th.peak : 0;
		if (!scale) {
			const double c[4] = {b->value, b->th.normal, b->th.caution, b->th.alert};
			for (int k = 0; k < 4; k++)
				if (isfinite(c[k]))
					scale = fmax(scale, c[k] * 1.1);
			if (scale <= 0)
				scale = 1;
		}
		buf_adds(out, "<g><title>");
		esc(out, b->name);
		buf_addf(out, ": %s", has ? v : "no data");
		if (has && !empty(b->unit)) {
			buf_addch(out, ' ');
			esc(out, b->unit);
		}
		if (!empty(b->stat)) {
			buf_adds(out, " (");
			esc(out, b->stat);
			buf_addch(out, ')');
		}
		if (z != SVG_ZONE_NONE)
			buf_addf(out, ", %s", svg_zone_name(z));
		if (has && b->th.peak > 0)
			buf_addf(out, ", %.0f%% of peak", b->value / b->th.peak * 100);
		buf_adds(out, "</title>");
		/* label: name bold, then value, unit and statistic */
		buf_adds(out, "<text");
		attr(out, "x", bx);
		attr(out, "y", y + 14);
		buf_adds(out, " fill=\"" C_TEXT "\"><tspan font-weight=\"600\">");
		esc(out, empty(b->name) ? "?" : b->name);
		buf_adds(out, "</tspan>: ");
		if (has) {
			esc(out, v);
			if (!empty(b->unit)) {
				buf_addch(out, ' ');
				esc(out, b->unit);
			}
		} else {
			buf_adds(out, "no data");
		}
		if (!empty(b->stat)) {
			buf_adds(out, " <tspan fill=\"" C_MUTED "\">(");
			esc(out, b->stat);
			buf_adds(out, ")</tspan>");
		}
		buf_adds(out, "</text>");
		if (z != SVG_ZONE_NONE) {
			buf_addf(out, "<text text-anchor=\"end\" font-size=\"10\" font-weight=\"600\" fill=\"%s\"",
				 zone_text(z));
			attr(out, "x", bx + bwid);
			attr(out, "y", y + 14);
			buf_addf(out, ">%s</text>", svg_zone_name(z));
		}
		/* track, bar, threshold ticks */
		rect(out, bx, y + 20, bwid, 10, "rx=\"3\" fill=\"" C_GRID "\"");
		if (has && b->value > 0) {
			double frac = fmin(b->value / scale, 1);
			buf_addf(out, "<rect class=\"zone-%s\" rx=\"3\" fill=\"%s\"",
				 z == SVG_ZONE_NONE ? "none" : svg_zone_name(z), zone_fill(z));
			attr(out, "x", bx);
			attr(out, "y", y + 20);
			attr(out, "width", fmax(bwid * frac, 3));
			buf_adds(out, " height=\"10\"/>");
		}
		const double th[3] = {b->th.normal, b->th.caution, b->th.alert};
		struct pathw w;
		buf_adds(out, "<path stroke=\"" C_TICK "\" stroke-opacity=\"0.6\" d=\"");
		pw_init(&w, out);
		for (int k = 0; k < 3; k++) {
			if (!isfinite(th[k]) || th[k] <= 0 || th[k] >= scale)
				continue;
			double x = half(bx + bwid * th[k] / scale);
			pw_move(&w, x, y + 18);
			pw_line(&w, x, y + 32);
		}
		pw_flush(&w);
		buf_adds(out, "\"/></g>");
	}
	svg_close(out);
}
