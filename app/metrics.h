/* metrics: a job's metric data from the metric repositories (COMPAT d.3, i).
 *
 * Two kinds of repository:
 *  - cc-metric-store (metrics_ccms.c), configured as cc-backend does in the
 *    top-level "metric-store-external" array of {scope, url, token}; queried
 *    with GET <url>/api/query?version=v2 and a JSON body;
 *  - Prometheus (metrics_prom.c), jobscope's own "main.prometheus" array of
 *    {scope, url, token?, host-label?, queries?}; queried with
 *    POST <url>/api/v1/query_range, one PromQL expression per metric with the
 *    job's hosts in place of "$host".
 * A job is routed by "<cluster>-<subcluster>", then "<cluster>", then "*";
 * at each key a cc-metric-store entry wins over a Prometheus one.
 *
 * Loading builds a plan (which series of which metric on which host, at
 * which scope: the cc-metric-store "type"/"type-ids"/"aggreg" of each query,
 * derived from the subcluster topology and the job's hwthreads and
 * accelerators), asks the repository, and assembles a jobdata: units from
 * cluster.json, series statistics from the store or measured from the data.
 *
 * Tokens are sent, never logged; URLs in messages have no user info. */
#ifndef JOBSCOPE_METRICS_H
#define JOBSCOPE_METRICS_H

#include <json-c/json.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "jobdata.h"

struct arena;
struct buf;
struct job;

/* ------------------------------------------------------------ configuration */

enum metrics_kind { METRICS_CCMS, METRICS_PROM };

struct metrics_prom_query {
	char *metric; /* "cpu_load" */
	char *expr;   /* PromQL with "$host" (and optionally "$rate") */
};

struct metrics_repo {
	enum metrics_kind kind;
	char *scope;      /* "<cluster>-<subcluster>", "<cluster>" or "*" */
	char *url;        /* no trailing slash */
	char *token;      /* Bearer token, "" = none */
	/* Prometheus only */
	char *host_label; /* label that names the host, default "instance" */
	struct metrics_prom_query *queries;
	size_t nqueries;
};

struct metrics_repos {
	struct metrics_repo *repo; /* metric-store-external entries first, then main.prometheus */
	size_t n;
};

/* Read "metric-store-external" and "main.prometheus" from a loaded config
 * root (sections already type-checked by conf); NULL with "file: key: reason"
 * in err.  An absent section is an empty list. */
struct metrics_repos *metrics_repos_from_conf(struct json_object *root, const char *file, char *err, size_t errlen);
void metrics_repos_free(struct metrics_repos *r);
/* The repository for a job: "<cluster>-<subcluster>", "<cluster>", "*"; NULL if none. */
const struct metrics_repo *metrics_route(const struct metrics_repos *r, const char *cluster, const char *subcluster);

/* ----------------------------------------------------------------- loading */

#define METRICS_SCOPE(s) (1u << (s))

/* Return values of the loaders. */
enum {
	METRICS_OK = 0,
	METRICS_ERROR = -1,       /* transient: the repository failed (HTTP, timeout, bad answer) */
	METRICS_UNAVAILABLE = -2, /* permanent: no repository, unknown cluster or subcluster, no hosts */
};

struct metrics_request {
	const char *const *metrics; /* NULL-terminated; NULL = every metric of the subcluster */
	unsigned scopes;            /* METRICS_SCOPE bits; 0 = node only */
	int64_t from, to;           /* epoch seconds; to <= from is an error */
	int resolution;             /* seconds; 0 = each metric's timestep */
	bool stats_only;            /* statistics without data where the store can (footprints) */
};

/* Load a job's metrics over [from, to] from the repository its cluster and
 * subcluster route to, using the_app's configuration and cluster.json.
 * Metrics that the subcluster removed, or that a repository does not know, are
 * left out; a requested scope finer than a metric's native scope gives no
 * series for that metric.  On METRICS_OK *out is the data (the caller frees
 * it) and err is "" or, when some series could not be loaded (error entries
 * of the store), a sentence about them: the data is partial.  Otherwise *out
 * is NULL and err says why, naming the store's URL:
 *   "metric store http://127.0.0.1:8082: HTTP 401: ..."
 *   "metric store http://127.0.0.1:8082: timeout after 10 s" */
int metrics_load(const struct job *j, const struct metrics_request *rq, struct jobdata **out,
		 char *err, size_t errlen);

/* For the job view of a running job: [startTime, now] at resolution (0 =
 * native) for metrics (NULL = all) at scopes (0 = node).  Same results as
 * metrics_load.  Each call asks the repository: cache the answer briefly
 * (cc-backend keeps running-job data 2 minutes). */
int metrics_load_running(const struct job *j, const char *const *metrics, unsigned scopes, int resolution,
			 struct jobdata **out, char *err, size_t errlen);

/* A flag that aborts transfers in progress when it becomes non-zero (the task
 * runner's SIGTERM flag), so that a slow repository cannot delay shutdown. */
void metrics_set_abort_flag(volatile sig_atomic_t *flag);

/* ------------------------------------------------ internals (unit-tested) */

/* The outcome of one series of one query. */
struct metrics_result {
	double *data;             /* arena; NULL with len 0 when there is none */
	size_t len;
	struct jobdata_stats stats; /* NaN when the store gave none */
	int resolution;           /* seconds as answered; 0 = as asked */
	const char *error;        /* non-NULL: this series failed (the store's error entry) */
	bool done;                /* an answer arrived */
	bool skip;                /* the repository does not offer it: left out, not an error */
};

/* One query of the plan: cc-metric-store's {metric, host, type?, type-ids?, aggreg}. */
struct metrics_query {
	const struct metric_config *mc;
	enum metric_scope scope; /* the scope the series belong to in data.json */
	const char *host;
	const char *type;        /* NULL: node level, no type */
	const char **type_ids;
	size_t ntype_ids;
	bool aggregate;          /* the store combines all type-ids into one series */
	const char **series_ids; /* nresults ids (NULL entries at node scope) */
	size_t nresults;         /* 1 if aggregated or node level, else ntype_ids */
	struct metrics_result *results;
};

struct metrics_plan {
	struct arena *a;
	const char *cluster;
	int64_t from, to;
	int resolution;          /* 0 = each metric's timestep */
	bool stats_only;
	struct metrics_query *q; /* grouped by metric, in the subcluster's metric order */
	size_t n, cap;
};

/* Plan the queries for a job on subcluster sc (all memory from a).
 * A host's hwthreads are its resource's "hwthreads", or all of the node's
 * when the job has none; accelerator queries use the resource's
 * "accelerators".  -1 with err when the job has no hosts. */
int metrics_plan_build(struct arena *a, const struct job *j, const struct subcluster *sc,
		       const struct metrics_request *rq, struct metrics_plan *out, char *err, size_t errlen);
/* The jobdata of a plan whose results are in: one (metric, scope) entry per
 * planned pair that has at least one series without error.  *missing gets
 * the number of failed or unanswered series and first_error (may be NULL)
 * the first error text.  NULL when no series at all could be loaded. */
struct jobdata *metrics_assemble(const struct metrics_plan *p, size_t *missing, const char **first_error);

/* The display form of a URL: scheme://host[:port][/path], without user
 * info, query or fragment. */
void metrics_url_display(const char *url, char *out, size_t n);

/* One HTTP exchange with timeouts and a response cap.  method "GET" with a
 * body is what cc-metric-store wants.  0 with *status and the body in resp;
 * -1 with "what url: timeout after N s" / "...: connection refused" / "...:
 * response larger than N bytes" in err. */
int metrics_http(const char *what, const char *method, const char *url, const char *token,
		 const char *content_type, const char *body, size_t bodylen, long timeout_s, size_t max_bytes,
		 struct buf *resp, long *status, char *err, size_t errlen);

/* cc-metric-store (metrics_ccms.c) */
#define CCMS_TIMEOUT 10
/* The v2 query body for queries [first, first+count) of the plan. */
void ccms_request_json(const struct metrics_plan *p, size_t first, size_t count, struct buf *out);
/* Fill the results of queries [first, first+count) from a v2 answer
 * {"results":[[{data,from,to,resolution,avg,min,max,error?}...]...]}.
 * -1 with err when the answer does not have that shape. */
int ccms_parse_response(struct metrics_plan *p, size_t first, size_t count, const char *body, size_t len,
			char *err, size_t errlen);
int ccms_load(const struct metrics_repo *r, struct metrics_plan *p, char *err, size_t errlen);

/* Prometheus (metrics_prom.c) */
#define PROM_TIMEOUT 10
#define PROM_MAX_POINTS 10000 /* Prometheus refuses more than 11000 points per series */
#define PROM_HOSTS_PER_QUERY 64
/* The built-in PromQL for node-exporter metrics (cpu_load, cpu_user,
 * mem_used, net_bw, file_bw), in base units (scaled to the prefix of the
 * metric's cluster.json unit when used); NULL for other metrics. */
const char *prom_default_query(const char *metric);
/* Append host escaped for a regex matcher inside a double-quoted PromQL
 * string: regex metacharacters get a backslash, then '\\' and '"' are escaped
 * for the string and control bytes written as \xNN. */
void prom_escape_host(const char *host, struct buf *out);
/* Expand a template: "$host" becomes (?:h1|h2|...)(?:[.:].*)? of the
 * escaped hosts (Prometheus anchors regexes; the tail admits "h1:9100" and
 * "h1.example.org"), "$label" the host label, "$rate" the range of rate()
 * windows (max(4 * step, 60) seconds, as "120s"). */
void prom_expand(const char *tmpl, const char *label, const char *const *hosts, size_t nhosts, int step,
		 struct buf *out);
/* The host a series belongs to: its host label equals a host or starts with
 * it followed by '.' or ':'; -1 if none. */
int prom_match_host(const char *label, const char *const *hosts, size_t nhosts);
/* Parse a query_range answer into one array of npoints per host (NaN where
 * no value; several series of one host combined with the metric's
 * aggregation: sum, else average), scaled by scale.  out[h] are filled;
 * *seen[h] tells whether any series matched host h.  -1 with err on an error
 * answer ("Prometheus: bad_data: ...") or a bad shape. */
int prom_parse_response(const char *body, size_t len, const char *host_label, const char *const *hosts,
			size_t nhosts, int64_t from, int step, size_t npoints, enum metric_aggregation agg,
			double scale, double **out, bool *seen, char *err, size_t errlen);
int prom_load(const struct metrics_repo *r, struct metrics_plan *p, char *err, size_t errlen);

#endif
