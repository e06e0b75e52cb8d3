/* cluster: a cluster.json turned into the structures the program works with
 * (job pages, statistics, start_job validation, footprint and energy, metric
 * queries), plus the node-list grammar that assigns hosts to subclusters.
 *
 * Everything here is process-lifetime data from xmalloc, freed by
 * cluster_free / nodelist_free.  Reading is lenient where cc-backend's is
 * (unknown keys are ignored, keys match case-insensitively as Go's decoder
 * does, absent optional values take their defaults) and strict where a
 * mistake would silently change results (wrong JSON types, unknown scope,
 * aggregation, footprint or energy values, timestep < 1, bad node lists,
 * duplicate metric or subcluster names).
 *
 * Derived per-subcluster metric lists follow cc-backend: every cluster-level
 * metric is copied into every subcluster unless that subcluster's override
 * says "remove": true.  An override replaces footprint, energy and
 * lowerIsBetter outright (absent means none / false, exactly as upstream, so
 * an override without "footprint" takes the metric out of that subcluster's
 * footprint).  Thresholds and restrict absent from an override are inherited
 * from the cluster level (upstream would zero the thresholds and drop
 * restrict).  The subcluster keys "metricConfig", "footprint" and
 * "energyFootprint" in a file are ignored: the lists are always derived, so a
 * cluster.json written back by cc-backend does not double them. */
#ifndef JOBSCOPE_CLUSTER_H
#define JOBSCOPE_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/* ------------------------------------------------------------------ scopes */

/* cc-lib's scopes; there is no "die" scope (the schema's enum has none), only
 * a "die" topology list. */
enum metric_scope {
	SCOPE_NODE,
	SCOPE_SOCKET,
	SCOPE_MEMORY_DOMAIN,
	SCOPE_CORE,
	SCOPE_HWTHREAD,
	SCOPE_ACCELERATOR,
	SCOPE__MAX
};

const char *scope_name(enum metric_scope s); /* "node", "memoryDomain", ... */
/* Exact names; "" means node, as in cc-backend.  -1 if unknown. */
int scope_parse(const char *s, enum metric_scope *out);
/* cc-lib's granularity: node 10, socket 5, memoryDomain 4, core 3, hwthread 2,
 * accelerator 1 (below hwthread so that no CPU scope converts into it). */
int scope_granularity(enum metric_scope s);
/* > 0 if a is coarser than b, 0 if equal, < 0 if finer */
int scope_cmp(enum metric_scope a, enum metric_scope b);
enum metric_scope scope_coarser(enum metric_scope a, enum metric_scope b);

/* ------------------------------------------------------------------- units */

struct unit {
	char base[16];  /* "B", "F/s", "°C", "" (real files also use "Flops/s", "packets/s") */
	char prefix[4]; /* "", "K", "M", "G", "T", "P", "E" */
};

struct unit_value {
	struct unit unit;
	double value;
};

/* Decimal exponent of a prefix: "" 0, K/k 3, M 6, G 9, T 12, P 15, E 18,
 * m -3, u -6, n -9.  -1 with *exp untouched if unknown. */
int unit_prefix_exponent(const char *prefix, int *exp);
/* "GB/s"; returns the length snprintf would have written. */
size_t unit_string(const struct unit *u, char *out, size_t n);
/* An axis label: value (given in the unit's prefix) moved to the SI prefix
 * that puts it in [1, 1000) with 3 significant digits: 1500 GF/s -> "1.5 TF/s",
 * 0.01 GB/s -> "10 MB/s", 0.5 with no prefix -> "0.5" (never below the base:
 * no milli-loads).  Unknown prefixes are printed unscaled.  NaN -> "-".
 * Returns the length snprintf would have written. */
size_t unit_format(double value, const struct unit *u, char *out, size_t n);

/* --------------------------------------------------------- metric configs */

enum metric_aggregation { AGGREGATION_NONE, AGGREGATION_SUM, AGGREGATION_AVG, AGGREGATION__MAX };
enum footprint_stat { FOOTPRINT_NONE, FOOTPRINT_AVG, FOOTPRINT_MIN, FOOTPRINT_MAX, FOOTPRINT__MAX };
enum energy_kind { ENERGY_NONE, ENERGY_POWER, ENERGY_ENERGY, ENERGY__MAX };

/* "" for the _NONE values */
const char *cluster_aggregation_name(enum metric_aggregation a);
const char *cluster_footprint_name(enum footprint_stat f);
const char *cluster_energy_name(enum energy_kind e);

/* One entry of a metric's "subClusters" list, as written in the file. */
struct metric_override {
	char *name;
	double peak, normal, caution, alert; /* NaN: absent, inherited */
	enum footprint_stat footprint;       /* replaces the cluster value */
	enum energy_kind energy;             /* replaces the cluster value */
	bool lower_is_better;                /* replaces the cluster value */
	bool has_restrict, restricted;
	bool remove;
};

struct metric_config {
	char *name;
	struct unit unit;
	enum metric_scope scope;
	int timestep; /* seconds, >= 1 */
	enum metric_aggregation aggregation;
	double peak, normal, caution, alert; /* NaN when absent */
	enum footprint_stat footprint;
	enum energy_kind energy;
	bool lower_is_better;
	bool restricted; /* JSON "restrict": hidden from plain users */
	/* cluster level only (NULL/0 in derived subcluster lists) */
	struct metric_override *overrides;
	size_t noverrides;
};

/* -------------------------------------------------------------- node lists */

/* Grammar: "*", or comma-separated terms; a term is a sequence of literal runs
 * [A-Za-z0-9-]+ and bracket groups "[a-b,c-d,e]" of zero-padded numbers whose
 * range bounds have equal digit counts; a host matches a group only with
 * exactly that many digits ("emmy[01-99]" matches emmy01, not emmy1).
 * Matching walks the compiled terms (with backtracking), so "h[0001-9999]"
 * costs a few bytes, not 9999 strings. */
struct nodelist;

/* NULL with a sentence in err: "node list \"h[1-\": unclosed '[' at offset 1". */
struct nodelist *nodelist_parse(const char *expr, char *err, size_t errlen);
bool nodelist_contains(const struct nodelist *nl, const char *host);
bool nodelist_is_all(const struct nodelist *nl); /* "*" */
void nodelist_free(struct nodelist *nl);

/* ------------------------------------------------------------- subclusters */

struct topo_list { /* hwthread ids */
	int *id;
	size_t n;
};

struct topo_groups { /* one hwthread list per socket, memory domain, die or core */
	struct topo_list *group;
	size_t n;
};

struct accelerator {
	char *id, *type, *model;
};

struct topology {
	struct topo_list node;
	struct topo_groups socket, memory_domain, die, core;
	struct accelerator *accelerators;
	size_t naccelerators;
};

struct footprint_metric {
	const struct metric_config *metric; /* points into the subcluster's metrics */
	char *key;                          /* "<metric>_<stat>", e.g. "mem_used_max" */
};

struct subcluster {
	char *name;
	char *nodes;               /* as written; "*" or "" make the subcluster a fallback */
	struct nodelist *nodelist; /* NULL for "*" and "" */
	char *processor_type;
	int sockets_per_node, cores_per_socket, threads_per_core;
	struct unit_value flop_rate_scalar, flop_rate_simd, memory_bandwidth;
	struct topology topology;

	/* derived from the cluster's metricConfig, in its order */
	struct metric_config *metrics;
	size_t nmetrics;
	struct footprint_metric *footprint; /* metrics with a footprint stat */
	size_t nfootprint;
	const struct metric_config **energy_footprint; /* metrics with an energy kind */
	size_t nenergy;
};

struct cluster {
	char *name;
	struct metric_config *metrics; /* cluster level, as written (scope "" -> node) */
	size_t nmetrics;
	struct subcluster *subclusters;
	size_t nsubclusters;
};

/* NULL with a sentence in err that names the cluster and the field:
 * "cluster heron: metricConfig[3] (flops_any): timestep must be >= 1, got 0". */
struct cluster *cluster_parse(struct json_object *cfg, char *err, size_t errlen);
void cluster_free(struct cluster *c);

const struct subcluster *cluster_subcluster(const struct cluster *c, const char *name);
/* The first subcluster (in file order) whose node list contains host, else the
 * first one whose nodes is "*" or "", else NULL.  (cc-backend walks a Go map,
 * so with overlapping lists, as in its own fritz test data, its answer is
 * random; ours is the first in the file.) */
const struct subcluster *cluster_subcluster_for_host(const struct cluster *c, const char *host);
/* start_job's assignment with cc-backend's exact messages: a requested
 * subcluster must exist ("ARCHIVE/CLUSTERCONFIG > already assigned subcluster X
 * unkown (cluster: C)"), host0 NULL or "" means no resources ("... job without
 * any resources/hosts"), else by host ("... no subcluster found for cluster C
 * and host H"). */
const struct subcluster *cluster_assign_subcluster(const struct cluster *c, const char *requested,
						   const char *host0, char *err, size_t errlen);
const struct metric_config *cluster_metric(const struct cluster *c, const char *metric);
const struct metric_config *subcluster_metric(const struct subcluster *sc, const char *metric);
/* The coarsest (largest) metric timestep of the cluster; REST full-job loads use it. */
int cluster_max_timestep(const struct cluster *c);

/* --------------------------------------------------- footprint and energy */

/* Node-scope job statistics of one metric, as in meta.json "statistics". */
struct metric_stats {
	const char *name;
	double avg, min, max;
};

struct footprint_value {
	const char *key; /* "<metric>_<stat>", borrowed from the subcluster */
	double value;    /* the statistic as is; 0 when the job has none (as upstream) */
	bool missing;
};

struct energy_value {
	const char *metric; /* borrowed from the subcluster */
	double kwh;         /* rounded to 2 decimals; 0 for energy:"energy" or no statistics */
};

struct cluster_footprint {
	struct footprint_value *footprint; /* in the subcluster's footprint order */
	size_t nfootprint;
	struct energy_value *energy; /* in the subcluster's energyFootprint order */
	size_t nenergy;
	double energy_total; /* sum of the rounded values, rounded to 2 decimals */
};

/* Footprint and energy of a finished (or running) job on subcluster sc, as
 * cc-backend stores them: footprint "<metric>_<stat>" = that statistic; for
 * energy:"power" metrics kWh = avg_W * num_nodes * duration_s / 3600 / 1000,
 * rounded half away from zero to 2 decimals.  out is filled with heap arrays;
 * release it with cluster_footprint_release. */
void subcluster_footprint(const struct subcluster *sc, const struct metric_stats *stats, size_t nstats,
			  int64_t num_nodes, int64_t duration, struct cluster_footprint *out);
void cluster_footprint_release(struct cluster_footprint *fp);
/* New json-c objects {"<metric>_<stat>": value} and {"<metric>": kWh}; the
 * caller owns both. */
void cluster_footprint_json(const struct cluster_footprint *fp, struct json_object **footprint,
			    struct json_object **energy_footprint);
/* Read a meta.json "statistics" object ({"<metric>": {"avg":..,"min":..,"max":..}})
 * into a heap array (names borrowed from the object; free() the array).
 * Entries that are not objects are skipped; absent or non-numeric statistics
 * read as 0, as Go's decoder leaves them. */
size_t cluster_stats_from_json(struct json_object *statistics, struct metric_stats **out);

#endif
