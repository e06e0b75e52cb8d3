/* generate: a synthetic job archive (version 3) for demos, benchmarks and
 * tests (jobscope-generate).
 *
 * Jobs are spread over the clusters in proportion to their node counts and
 * over the days before an end time, with the look of a real machine: skewed
 * job sizes and users (Zipf), applications with matching job scripts, all job
 * states, and metric curves with phases, noise, node-to-node variation and
 * gaps, within the limits of each cluster.json.  meta.json carries the
 * statistics computed from the node-scope data, as cc-backend's archiver
 * writes them; data.json[.gz] holds node scope always, the finer native scope
 * (core at most) for jobs of <= 8 nodes and accelerator scope for GPU jobs.
 *
 * Determinism: every job depends only on (seed, job index) and the
 * arguments, never on the thread that makes it, so the same seed, arguments
 * and end time give byte-identical files whatever the thread count.  (The
 * default end time is "now": pass an explicit end for identical output.)
 * Everything is written through the archive interface (archive.h). */
#ifndef JOBSCOPE_GENERATE_H
#define JOBSCOPE_GENERATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct gen_options {
	const char *archive;         /* root directory; created when missing */
	const char *const *clusters; /* cluster.json files to copy in; none: use the archive's clusters */
	size_t nclusters;
	int64_t jobs;
	uint64_t seed;
	int days;                    /* start times fall into the days before end */
	int64_t end;                 /* epoch seconds */
	int users, projects;
	bool meta_only;              /* meta.json with statistics, no data file */
	int threads;                 /* <= 0: one */
	FILE *progress;              /* a "\r"-updated progress line, or NULL */
};

#define GEN_DEFAULT_DAYS 30
#define GEN_DEFAULT_USERS 150
#define GEN_DEFAULT_PROJECTS 40
#define GEN_MAX_JOBS 100000000

struct gen_summary {
	int64_t jobs;
	int64_t files;
	uint64_t bytes;
	double seconds;
	size_t nclusters;
	char clusters[8][64]; /* the first clusters' names with their job counts */
	int64_t cluster_jobs[8];
};

void gen_options_init(struct gen_options *o);
/* Write the archive.  -1 with a sentence in err. */
int gen_run(const struct gen_options *o, struct gen_summary *sum, char *err, size_t errlen);

/* The host names of a node-list expression ("h[0001-0003],x5" -> h0001,
 * h0002, h0003, x5), at most max of them; "*" and "" give none.  A heap
 * array of heap strings (free both); -1 with err on a bad expression. */
int gen_expand_nodes(const char *expr, size_t max, char ***hosts, size_t *n, char *err, size_t errlen);

#endif
