/* jobdata: a job's metric data (cc-backend's JobData, data.json; COMPAT a.4, c, h).
 *
 * The model is a flat list of (metric, scope) entries, each with a unit, a
 * timestep and its series of doubles (NaN = missing, JSON null).  data.json
 * is read by a dedicated single-pass parser that writes numbers straight into
 * double arrays (no json-c tree: a 64-node day of 10 metrics is ~920k numbers)
 * and written back the way cc-backend's Go encoder does.
 *
 * Memory: a parsed jobdata lives in one block (numbers, structs and strings);
 * whatever is added later (statistics series, built metrics) comes from a few
 * internal chunks.  jobdata_free releases all of it; jobdata_size is the number
 * of bytes held, for cache budgets.  Pointers inside stay valid until the free,
 * except where a function below says it replaces an array. */
#ifndef JOBSCOPE_JOBDATA_H
#define JOBSCOPE_JOBDATA_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct json_object;

/* statisticsSeries are computed for metrics with at least this many series
 * (COMPAT a.4; upstream's loader uses "more than 15"). */
#define JOBDATA_STATS_SERIES_MIN 8
/* cc-lib's resampler default for minimum-points (configs usually set 600) */
#define JOBDATA_RESAMPLE_MIN_POINTS 1000
/* points per metric in the job-list preview */
#define JOBDATA_PREVIEW_POINTS 60
/* the archive gzips data.json when the encoded JSON is larger than this */
#define JOBDATA_GZIP_THRESHOLD 2000
/* default cap on decompressed data.json */
#define JOBDATA_GUNZIP_MAX ((size_t)1 << 30)

/* Caps on every dimension of a parsed document; exceeding one is an error. */
struct jobdata_limits {
	size_t max_metrics;      /* (metric, scope) pairs */
	size_t max_series;       /* series of one metric */
	size_t max_total_series; /* series in the document */
	size_t max_points;       /* values of one array */
	size_t max_total_points; /* values in the document */
	size_t max_string;       /* bytes of one string after unescaping */
	int max_depth;           /* nesting of skipped (unknown) values */
};
extern const struct jobdata_limits jobdata_limits_default;

struct jobdata_unit {
	const char *base;   /* "" when absent */
	const char *prefix; /* "" when absent (written only when non-empty) */
};

struct jobdata_stats {
	double min, avg, max; /* NaN when unknown */
};

struct jobdata_series {
	const char *hostname;
	const char *id;              /* NULL: the series has no id (node scope) */
	struct jobdata_stats stats;  /* from the document; NaN when it had none */
	double *data;
	size_t len;
};

/* One array of a statisticsSeries; v == NULL means absent (written as null). */
struct jobdata_vec {
	double *v;
	size_t len;
};

struct jobdata_percentile {
	int p;
	struct jobdata_vec data;
};

struct jobdata_stats_series {
	struct jobdata_vec mean, median, min, max;
	struct jobdata_percentile *percentiles; /* ascending p */
	size_t npercentiles;
};

struct jobdata_metric {
	const char *name;  /* "cpu_load" */
	const char *scope; /* "node", "socket", "memoryDomain", "core", "hwthread", "accelerator", ... */
	struct jobdata_unit unit;
	int timestep;      /* seconds */
	struct jobdata_series *series;
	size_t nseries;
	struct jobdata_stats_series *stats_series; /* NULL when absent */
};

struct jobdata_chunk;

struct jobdata {
	struct jobdata_metric **metrics; /* in document order (the writer sorts) */
	size_t nmetrics;
	/* private */
	size_t metrics_cap;   /* 0: the array lives in the block, copy before growing */
	void *block;          /* the parse result; holds this struct when parsed */
	size_t block_size;
	struct jobdata_chunk *chunks;
	size_t chunk_bytes;
};

/* ---- reading and writing ---- */

/* Parse data.json.  Unknown keys are skipped (with their values), field names
 * match case-insensitively as Go's decoder does, a repeated (metric, scope)
 * pair replaces the earlier one; null and the literal NaN become NaN.
 * lim NULL = jobdata_limits_default.  NULL on error with
 * "data.json: offset N: expected X, got Y" in err. */
struct jobdata *jobdata_parse(const char *text, size_t len, const struct jobdata_limits *lim,
			      char *err, size_t errlen);
/* data.json or data.json.gz bytes (gzip recognised by its magic number). */
struct jobdata *jobdata_decode(const void *bytes, size_t len, const struct jobdata_limits *lim,
			       char *err, size_t errlen);
void jobdata_free(struct jobdata *d);
size_t jobdata_size(const struct jobdata *d);
struct jobdata_metric *jobdata_find(const struct jobdata *d, const char *metric, const char *scope);

/* Compact JSON as cc-backend writes it: metrics and scopes in byte order (Go
 * sorts map keys), {unit, timestep, series, statisticsSeries?}, series
 * {hostname, id?, statistics{min,avg,max}, data}; numbers with exactly two
 * decimals (data through float32 as cc-lib does: "18.70", "0.00"), NaN and
 * infinities as null, strings escaped like Go (<, >, & as \u003c...).
 * No trailing newline: archive files written by Go's Encoder end with one. */
void jobdata_write(const struct jobdata *d, struct buf *out);
/* The archive's data file: JSON plus newline, gzipped (level 6) when longer
 * than JOBDATA_GZIP_THRESHOLD; *gzipped tells which name to use.  0 / -1. */
int jobdata_encode_archive(const struct jobdata *d, struct buf *out, bool *gzipped,
			   char *err, size_t errlen);
/* One number as the writer formats it, into out (room for 48 bytes for a
 * data value, 400 for a statistic); returns the length, out not terminated. */
size_t jobdata_format_data(double v, char *out);
size_t jobdata_format_stat(double v, char *out);

/* gzip (RFC 1952) in and out.  gunzip appends to out, accepts concatenated
 * members as Go does, and fails past max output bytes.  0 / -1 with
 * "data.json.gz: invalid compressed data (...)" and the like in err. */
int jobdata_gunzip(const void *in, size_t n, struct buf *out, size_t max, char *err, size_t errlen);
int jobdata_gzip(const void *in, size_t n, struct buf *out, char *err, size_t errlen);

/* ---- building (metric repositories, tests) ---- */

struct jobdata *jobdata_new(void);
/* A new (metric, scope) entry with nseries empty series (hostname "", NaN
 * statistics); strings are copied. */
struct jobdata_metric *jobdata_add_metric(struct jobdata *d, const char *name, const char *scope,
					  const char *unit_base, const char *unit_prefix, int timestep,
					  size_t nseries);
/* Name series i of m and give it len values, all NaN; returns the array to fill. */
double *jobdata_set_series(struct jobdata *d, struct jobdata_metric *m, size_t i,
			   const char *hostname, const char *id, size_t len);

/* ---- statistics ---- */

/* min / avg / max of v ignoring NaN; all NaN when there is no number. */
void jobdata_series_stats(const double *v, size_t n, struct jobdata_stats *out);
/* Fill every series' statistics from its data: all of them (overwrite) or
 * only those the document did not have. */
void jobdata_fill_stats(struct jobdata *d, bool overwrite);
/* A metric's job statistics for meta.json, computed from its (node-scope)
 * series as cc-backend's archiver does: avg = (sum of series avg) / num_nodes
 * rounded to 2 decimals, min = min of series min, max = max of series max.
 * Series without statistics are measured from their data.  num_nodes <= 0
 * means the number of series.  -1 when there is no series with a number. */
int jobdata_job_stat(const struct jobdata_metric *m, int num_nodes, struct jobdata_stats *out);
/* meta.json's "statistics": {"<metric>":{"unit":{...},"avg":..,"min":..,"max":..}}
 * for every node-scope metric, metrics in byte order.  Caller owns the object. */
struct json_object *jobdata_statistics_json(const struct jobdata *d, int num_nodes);
/* statisticsSeries for every metric with >= min_series series that has none:
 * per time index min, median, max and mean of the non-NaN values, NaN where
 * fewer than 3 values exist.  (Upstream's median counts missing values as 0;
 * ours leaves them out.) */
void jobdata_add_stats_series(struct jobdata *d, size_t min_series);

/* ---- LTTB (COMPAT h) ----
 *
 * Largest-Triangle-Three-Buckets with x = index, buckets as cc-lib's resampler
 * cuts them: first and last point kept, target-2 buckets of (n-2)/(target-2)
 * points, bucket i's "next bucket" average taken over [mid, high] inclusive.
 * NaN rules:
 *  - a next-bucket average containing NaN is NaN, which makes every area of
 *    that bucket NaN;
 *  - a NaN area never compares greater, so only finite areas compete (ties go
 *    to the earlier point); when no area is finite the bucket's first point is
 *    chosen;
 *  - the triangle's anchor is the last chosen point with a finite value
 *    (upstream resets it to point 0 after a NaN bucket; we do not);
 *  - an empty next bucket (upstream's target == 3 case) uses the last point.
 * Writes ascending indices to idx and returns how many: n when target >= n,
 * 2 (first, last) when target < 3 and n >= 2, else target.  idx needs room
 * for max(min(n, target), 2) entries. */
size_t lttb_select(const double *y, size_t n, size_t target, size_t *idx);

/* cc-backend's archive resampling of one metric to new_timestep: applies only
 * when new_timestep > timestep, new_timestep is a multiple of it, the longest
 * series has >= minimum_points values and len / factor is in (0, len).  Each
 * series becomes len / factor values picked by LTTB; a bucket whose next-bucket
 * average is NaN yields NaN, as upstream.  Any statisticsSeries is dropped
 * (recompute it).  Returns the metric's timestep afterwards: new_timestep, or
 * the old one when nothing changed. */
int jobdata_resample(struct jobdata_metric *m, int new_timestep, size_t minimum_points);

/* The same for a whole jobdata without touching it (decoded data.json sits
 * in a cache): a new jobdata with every metric resampled where the conditions
 * hold and copied where not.  Series statistics are copied (they describe the
 * full data, as upstream keeps them); statisticsSeries only where nothing was
 * resampled. */
struct jobdata *jobdata_resampled(const struct jobdata *d, int new_timestep, size_t minimum_points);
/* A deep copy (for callers that want to change cached data). */
struct jobdata *jobdata_clone(const struct jobdata *d);

/* For plots: at most max_points (>= 2) points of y, x = index, the same rules
 * (NaN where the resampler would give NaN).  Returns the count; xo and yo need
 * room for max(max_points, 2) values (or n when n <= max_points). */
size_t jobdata_reduce(const double *y, size_t n, size_t max_points, double *xo, double *yo);

/* ---- job-list preview ----
 *
 * Per node-scope metric: the average over all nodes at each time step (NaN
 * left out; NaN where no node has a value), reduced with LTTB to max_points:
 *   {"cpu_load":{"t":60,"n":1441,"i":[0,25,...],"v":[18.2,19.01,...]},...}
 * t = timestep, n = samples before reduction, v = values with 2 decimals
 * (null for NaN), i = the sample index of each value, left out when v holds
 * all n samples.  Metrics in byte order; metrics = NULL-terminated list to
 * restrict to (NULL: all).  Appends to out. */
void jobdata_preview(const struct jobdata *d, const char *const *metrics, size_t max_points,
		     struct buf *out);
/* The per-time-step node average used by the preview; out needs the length
 * of the longest series, which is returned. */
size_t jobdata_node_average(const struct jobdata_metric *m, double *out);

#endif
