/* svg: charts written as inline SVG markup on the server.
 *
 * Every function appends one complete <svg> element to a struct buf.  The
 * markup is XML (well-formed, no DOCTYPE, no XML declaration) so that it can be
 * inlined in an HTML page or served as image/svg+xml.  Guarantees:
 *
 * - no script, no event handler attributes, no style attributes or elements,
 *   no external resources and no id attributes (many charts share one page);
 *   styling uses presentation attributes plus a class on the root and on a few
 *   parts (svg-zoom, zone-normal, ...) for the page's stylesheet;
 * - every string that comes from the caller (titles, labels, units, colours,
 *   URLs) is escaped with html_escape; colours that do not look like a colour
 *   are replaced by a default;
 * - the root has role="img", an aria-label, a <title>, a viewBox and explicit
 *   width and height in px;
 * - coordinates carry at most one decimal; long series are reduced with LTTB to
 *   about one point per horizontal pixel; NaN marks a gap in a series.
 *
 * The input structs hold plain C arrays so that this module depends on no other
 * module's data structures.  A zero-initialised struct plus the data gives
 * sensible defaults; pointers to strings may be NULL (= empty).
 * Nothing here keeps a pointer after the call returns. */
#ifndef JOBSCOPE_SVG_H
#define JOBSCOPE_SVG_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

/* cc-backend's default `plot-configuration.color-scheme`. */
extern const char *const svg_default_colors[];
extern const size_t svg_default_ncolors;

/* ---- thresholds (cluster.json metricConfig peak/normal/caution/alert) ---- */

/* Where a value lies relative to a metric's thresholds, best first.  The names
 * follow cc-backend's footprint colours: normal = success (green),
 * fair = info (neutral), caution = warning (yellow), alert = danger (red). */
enum svg_zone {
	SVG_ZONE_NONE = 0, /* no thresholds or value NaN */
	SVG_ZONE_NORMAL,   /* better than `normal` */
	SVG_ZONE_FAIR,     /* between `normal` and `caution` */
	SVG_ZONE_CAUTION,  /* between `caution` and `alert` */
	SVG_ZONE_ALERT,    /* at or beyond `alert` */
};

struct svg_thresholds {
	double peak;    /* hardware peak; NaN or <= 0: unknown */
	double normal;  /* each threshold: NaN = not set (ignored) */
	double caution;
	double alert;
	/* Lower values are better (e.g. mem_used).  Also assumed when alert > caution,
	 * the order cc-backend's plots use to infer the direction. */
	bool lower_is_better;
};

/* The zone of value v; SVG_ZONE_NONE when t is NULL, v is NaN or no threshold
 * is set.  Boundaries as cc-backend's footprint: higher-is-better
 * v <= alert → alert, v <= caution → caution, v <= normal → fair, else normal;
 * lower-is-better v <= normal → normal, v <= caution → fair,
 * v <= alert → caution, else alert. */
enum svg_zone svg_zone_of(double v, const struct svg_thresholds *t);
/* "normal", "fair", "caution", "alert" or "" for NONE. */
const char *svg_zone_name(enum svg_zone z);

/* ---- helpers (public because they are worth testing) ---- */

/* Up to max_ticks "nice" tick values (1, 2 or 5 times a power of ten) that
 * cover [min, max] (the first tick <= min, the last >= max), written to ticks
 * (room for max_ticks values).  min > max is swapped; min == max is widened
 * (to [0, 1] for 0, else by 10 % of |min| each side).  Returns the count, 0 for
 * non-finite input or max_ticks < 2.  (0, 97, 6) gives 0 20 40 60 80 100. */
size_t svg_nice_ticks(double min, double max, size_t max_ticks, double *ticks);

/* Elapsed time, compactly: "0", "45s", "1m30s", "45m", "1h30m", "2h", "2d4h",
 * "3d".  Units below the two largest are dropped (hours: no seconds; days: no
 * minutes); seconds are rounded; negative values get a '-'.  Returns what
 * snprintf returns. */
int svg_format_duration(double seconds, char *out, size_t size);

/* A tick label: SI prefix for |v| >= 1000 (k M G T P), no prefix below; the
 * decimals are as many as step (the tick distance) needs, trailing zeros
 * dropped: (1250, 250) → "1.25k", (0.003, 0.001) → "0.003".  step <= 0 means
 * three significant digits.  Returns what snprintf returns. */
int svg_format_number(double v, double step, char *out, size_t size);

/* Largest-Triangle-Three-Buckets: choose at most target indices of v[0..n)
 * (finite values at x = index) that keep the visual shape; the first and last
 * are always kept.  Writes them ascending to idx (room for min(n, target),
 * at least 2) and returns the count.  target >= n keeps everything. */
size_t svg_lttb(const double *v, size_t n, size_t target, size_t *idx);

/* ---- 1. time series ---- */

struct svg_series {
	const char *label;    /* hostname or "hostname:id"; tooltip and legend */
	const double *values; /* values[i] at t0 + i * timestep; NaN = gap */
	size_t n;
};

/* Statistics over many series at each time step (cc-backend's statisticsSeries). */
struct svg_stats_band {
	const double *min;    /* n values each; NaN = gap */
	const double *median; /* may be NULL: no median line */
	const double *max;
	size_t n;
};

/* How thresholds colour the plot background. */
enum svg_bg {
	SVG_BG_ZONES = 0, /* horizontal zones in value space: green above normal,
	                   * yellow between caution and alert, red beyond alert
	                   * (upside down when lower is better), fair left white */
	SVG_BG_AVERAGE,   /* the whole plot area tinted by the zone of the average
	                   * of all values (cc-backend's color-background) */
	SVG_BG_NONE,      /* thresholds known but no colouring */
};

struct svg_ts {
	const char *title;   /* metric name, drawn top left; NULL/"": no title row */
	const char *unit;    /* already prefixed, e.g. "GFlop/s"; y axis title */
	int width, height;   /* px; <= 0: 400 x 200 */
	double t0;           /* seconds since job start of values[0] */
	double timestep;     /* seconds between samples; <= 0: 60 */
	double t_end;        /* x axis end when later than the last sample (the job's
	                      * duration, a zoom's `to`); 0: the last sample */
	const struct svg_series *series;
	size_t nseries;
	/* Optional statistics band, drawn as a shaded min..max area with a median
	 * line (same t0 and timestep as the series). */
	const struct svg_stats_band *band;
	bool band_only;      /* with band: draw no individual series lines */
	/* Optional thresholds: NULL (e.g. color-background off) draws no colouring. */
	const struct svg_thresholds *thresholds;
	enum svg_bg bg;
	const char *const *colors; /* series colours, cycled; NULL: svg_default_colors */
	size_t ncolors;
	double line_width;   /* px; <= 0: 1.5 */
	double y_min, y_max; /* fixed y range when y_max > y_min; else automatic */
	bool tight_y;        /* automatic range: do not stretch it to include 0 */
	/* Optional zoom without JavaScript: the plot area is split into zoom_parts
	 * (<= 0: 4) equal time ranges, each a link to zoom_url with "{from}" and
	 * "{to}" replaced by the range's bounds in whole seconds (plus zoom_base,
	 * e.g. the job's start time for epoch values).  NULL: no links. */
	const char *zoom_url;
	int zoom_parts;
	double zoom_base;
};

void svg_timeseries(struct buf *out, const struct svg_ts *p);

/* ---- 2. sparkline ---- */

struct svg_spark {
	const char *label;   /* metric name, for the <title> */
	const char *unit;
	const double *values; /* NaN = gap */
	size_t n;
	int width, height;   /* px; <= 0: 120 x 24 */
	/* Optional: tints the background by the zone of the average. */
	const struct svg_thresholds *thresholds;
	const char *color;   /* line colour; NULL: #0d6efd */
	double line_width;   /* <= 0: 1.25 */
};

/* No axes; the <title> reads "label: min … / avg … / max … unit". */
void svg_sparkline(struct buf *out, const struct svg_spark *p);

/* ---- 3. histogram ---- */

struct svg_hist {
	const char *title;   /* e.g. "Duration distribution"; NULL: no title row */
	const char *x_title; /* e.g. "Duration" */
	const char *y_title; /* e.g. "Number of jobs" */
	int width, height;   /* px; <= 0: 400 x 220 */
	const char *const *labels; /* n bin labels, left to right */
	const double *counts;      /* n counts (NaN counts as 0) */
	size_t n;
	const char *color;   /* bar colour; NULL: #0d6efd */
};

void svg_histogram(struct buf *out, const struct svg_hist *p);

/* ---- 4. roofline ---- */

struct svg_roofline {
	const char *title;   /* NULL: no title row */
	int width, height;   /* px; <= 0: 400 x 300 */
	double mem_bw;       /* peak memory bandwidth GB/s (diagonal); <= 0: none */
	double flops_scalar; /* peak scalar GFlop/s (horizontal); <= 0: none */
	double flops_simd;   /* peak SIMD GFlop/s (horizontal); <= 0: none */
	/* Samples in time order (coloured early → late); points with a NaN or
	 * non-positive coordinate are skipped. */
	const double *intensity; /* Flop/Byte */
	const double *perf;      /* GFlop/s */
	size_t n;
};

void svg_roofline(struct buf *out, const struct svg_roofline *p);

/* ---- 5. polar (radar) ---- */

struct svg_polar {
	const char *title;   /* NULL: no title row */
	int width, height;   /* px; <= 0: 320 x 300 */
	const char *const *labels; /* n axis names (metric names) */
	size_t n;
	/* Up to two polygons of normalised values (value / peak, so 1 = peak),
	 * one per axis; NULL: absent.  Values above 1 are drawn at most at 1.1
	 * with a red marker; NaN and negatives as 0. */
	const double *values[2];
	const char *names[2]; /* legend names, e.g. "avg", "max" */
};

void svg_polar(struct buf *out, const struct svg_polar *p);

/* ---- 6. footprint bars ---- */

struct svg_fp_bar {
	const char *name;    /* metric name */
	const char *unit;    /* e.g. "GFlop/s" */
	const char *stat;    /* "avg", "max" or "min"; NULL: omitted */
	double value;        /* NaN: "no data" */
	struct svg_thresholds th; /* bar length is value / th.peak; colour by zone */
};

struct svg_footprint {
	const char *title;   /* NULL: no title row */
	int width;           /* px; <= 0: 320; the height follows from n */
	const struct svg_fp_bar *bars;
	size_t n;
};

/* One row per metric: "name: value unit (stat)", the zone's name on the right,
 * a bar coloured by zone with ticks at the thresholds. */
void svg_footprint_bars(struct buf *out, const struct svg_footprint *p);

#endif
