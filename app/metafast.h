/* metafast: a single-pass reader of meta.json for -init-db.
 *
 * -init-db reads every meta.json of an archive (100,000s of files).  Decoding
 * them with json-c (job_parse) builds and frees a tree of small objects per
 * file and serialises metaData/statistics back to text for the COPY row; that
 * dominated the load.  metafast walks the text once, decodes the scalar
 * fields, resources and tags into a struct job, and writes metaData and
 * statistics as the very bytes json-c would have produced
 * (json_object_to_json_string_ext(PLAIN | NOSLASHESCAPE)), without a tree.
 *
 * It handles a strict subset only: anything unusual (an error json-c would
 * report, escaped keys, duplicate keys, keys that match a field only
 * case-insensitively, "exclusive", "-0", integers of 19+ digits, \u0000,
 * surrogates, deep nesting, invalid UTF-8, ...) makes it return -1, and the
 * caller then takes the json-c path (job_parse), so results and messages
 * stay exactly those of that path.  tests/unit/check_metafast.c compares the
 * two on real and generated files. */
#ifndef JOBSCOPE_METAFAST_H
#define JOBSCOPE_METAFAST_H

#include "buf.h"
#include "cluster.h"
#include "job.h"

#include <stddef.h>

struct arena;

struct metafast {
	/* as job_parse(flags 0) would fill it; meta_data, statistics,
	 * footprint and energy_footprint stay NULL (see below) */
	struct job job;
	/* json-c's text of metaData / statistics in the caller's buffer
	 * (offsets, as the buffer may move), len 0 when absent or null */
	size_t meta_off, meta_len, stats_off, stats_len;
	bool has_meta, has_stats;
	/* as cluster_stats_from_json(statistics) would return (arena memory) */
	struct metric_stats *stats;
	size_t nstats;
};

/* 0 with *out filled (strings and arrays in a, JSON text appended to text_out),
 * or -1: not handled here, use job_parse (text_out may hold garbage). */
int metafast_parse(struct arena *a, const char *text, size_t len, struct buf *text_out, struct metafast *out);

/* json-c's serialisation (PLAIN | NOSLASHESCAPE) of ... */
/* ... a string (with its quotes) */
void metafast_json_string(struct buf *b, const char *s, size_t n);
/* ... a double, with jsonio's global "%.15g" format */
void metafast_json_double(struct buf *b, double d);
/* ... job_resources_json(j) */
void metafast_resources_json(struct buf *b, const struct job *j);
/* ... the two objects of cluster_footprint_json(fp) */
void metafast_footprint_json(struct buf *b, const struct cluster_footprint *fp);
void metafast_energy_json(struct buf *b, const struct cluster_footprint *fp);

#endif
