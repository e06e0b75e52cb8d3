#include "config.h"
#include "joblist.h"
#include "arena.h"
#include "app.h"
#include "archive.h"
#include "auth.h"
#include "cluster.h"
#include "conf.h"
#include "buf.h"
#include "db.h"
#include "html.h"
#include "jsonio.h"
#include "log.h"
#include "req.h"
#include "str.h"
#include "svg.h"
#include "tmpl.h"
#include "usercfg.h"
#include "xalloc.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int joblist_page_from_params(const struct kvlist *params, struct joblist_page *p, char *err, size_t errlen)
{
	p->items_per_page = 10;
	p->after = p->before = NULL;
	for (size_t i = 0; i < params->n; i++) {
		const char *k = params->v[i].key, *v = params->v[i].val;
		if (strcmp(k, "itemsPerPage") == 0) {
			int64_t n;
			if (str_to_i64(v, 1, 1000, &n) < 0 || (n != 10 && n != 25 && n != 50 && n != 100)) {
				snprintf(err, errlen, "invalid value for itemsPerPage: \"%.20s\" (expected 10, 25, 50 or 100)", v);
				return -1;
			}
			p->items_per_page = (int)n;
		} else if (strcmp(k, "after") == 0) {
			p->after = v;
		} else if (strcmp(k, "before") == 0) {
			p->before = v;
		}
	}
	return 0;
}

void joblist_format_duration(int64_t s, char *out, size_t n)
{
	if (s < 0)
		s = 0;
	int64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
	if (d)
		snprintf(out, n, "%lldd %lldh %lldm", (long long)d, (long long)h, (long long)m);
	else if (h)
		snprintf(out, n, "%lldh %lldm", (long long)h, (long long)m);
	else if (m)
		snprintf(out, n, "%lldm %llds", (long long)m, (long long)(s % 60));
	else
		snprintf(out, n, "%llds", (long long)s);
}

void joblist_format_time(int64_t epoch, char *out, size_t n)
{
	time_t t = (time_t)epoch;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M UTC", &tm);
}

const char *joblist_state_class(const char *s)
{
	if (strcmp(s, "running") == 0)
		return "primary";
	if (strcmp(s, "completed") == 0)
		return "success";
	if (strcmp(s, "failed") == 0 || strcmp(s, "node_fail") == 0 || strcmp(s, "boot_fail") == 0 ||
	    strcmp(s, "out_of_memory") == 0)
		return "danger";
	if (strcmp(s, "timeout") == 0 || strcmp(s, "deadline") == 0 || strcmp(s, "cancelled") == 0 ||
	    strcmp(s, "preempted") == 0)
		return "warning";
	return "secondary";
}

/* integer sort columns compare as bigint (so the start_time index serves), others as float8 */
static bool sort_is_integer(const struct job_sort *s)
{
	return s->key == SORT_START_TIME || s->key == SORT_DURATION || s->key == SORT_NUM_NODES ||
	       s->key == SORT_NUM_HWTHREADS || s->key == SORT_NUM_ACC;
}

/* "<value>:<id>" -> checked strings, or -1 */
static int parse_cursor(struct arena *a, const char *c, bool integer, const char **val, const char **id)
{
	const char *colon = strrchr(c, ':');
	if (!colon || colon == c || strlen(c) > 64)
		return -1;
	char *v = arena_strndup(a, c, (size_t)(colon - c));
	int64_t x;
	if (str_to_i64(colon + 1, 1, INT64_MAX, &x) < 0)
		return -1;
	if (integer) {
		if (str_to_i64(v, INT64_MIN, INT64_MAX, &x) < 0)
			return -1;
	} else {
		char *end;
		double d = strtod(v, &end);
		if (*end || !isfinite(d))
			return -1;
	}
	*val = v;
	*id = colon + 1;
	return 0;
}

/* this path with the current query, cursor parameters replaced */
static const char *page_url(struct req *r, const char *cursor_key, const char *cursor)
{
	struct buf b;
	buf_init_arena(&b, r->a);
	buf_adds(&b, r->path);
	char sep = '?';
	for (size_t i = 0; i < r->params.n; i++) {
		const char *k = r->params.v[i].key;
		if (strcmp(k, "after") == 0 || strcmp(k, "before") == 0)
			continue;
		buf_addch(&b, sep);
		sep = '&';
		html_url_encode(&b, k, strlen(k));
		buf_addch(&b, '=');
		html_url_encode(&b, r->params.v[i].val, strlen(r->params.v[i].val));
	}
	buf_addch(&b, sep);
	buf_adds(&b, cursor_key);
	buf_addch(&b, '=');
	html_url_encode(&b, cursor, strlen(cursor));
	return b.data;
}

#define LIST_COLUMNS                                                                              \
	"job.id, job.job_id, job.cluster, job.subcluster, coalesce(job.cluster_partition, ''), "  \
	"job.project, job.hpc_user, job.shared, job.job_state, job.start_time, "                  \
	"(CASE WHEN job.job_state = 'running' THEN greatest(0, extract(epoch FROM now())::bigint - job.start_time) ELSE job.duration END), " \
	"job.walltime, job.num_nodes, coalesce(job.num_hwthreads, 0), coalesce(job.num_acc, 0), " \
	"job.energy, coalesce(job.array_job_id, 0), coalesce(job.meta_data->>'jobName', ''), "    \
	"coalesce(job.footprint::text, '{}'), coalesce(job.preview::text, ''), job.monitoring_status, "
/* then the sort value, then the row's tags that the viewer may see (tags_join) */
enum { C_ID, C_JOBID, C_CLUSTER, C_SUB, C_PART, C_PROJECT, C_USER, C_SHARED, C_STATE, C_START,
       C_DURATION, C_WALLTIME, C_NODES, C_HWT, C_ACC, C_ENERGY, C_ARRAY, C_NAME, C_FOOTPRINT,
       C_PREVIEW, C_MSTATUS, C_SORTVAL, C_TAGS };

static void add_s(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

/* cc-backend's default job-list metrics */
static const char *const default_list_metrics[] = {"cpu_load", "flops_any", "mem_bw", "mem_used", NULL};
#define MAX_LIST_METRICS 8

/* ui.metric-config.job-list-metrics: the cluster's list when the list shows one
 * cluster and the config has one for it, else the global list, else the default. */
static const char **list_metrics_for(struct req *r, const char *cluster)
{
	/* the viewer's own choice first (settings page, metricConfig_jobListMetrics[:cluster]) */
	const char **mine = usercfg_job_list_metrics(r->a, usercfg_load(r), cluster, MAX_LIST_METRICS);
	if (mine)
		return mine;
	struct json_object *mc = jsonio_get(jsonio_get(the_app->conf->root, "ui"), "metric-config");
	struct json_object *arr = jsonio_get(mc, "job-list-metrics");
	struct json_object *clusters = jsonio_get(mc, "clusters");
	for (size_t i = 0; cluster && clusters && json_object_is_type(clusters, json_type_array) &&
			   i < json_object_array_length(clusters); i++) {
		struct json_object *c = json_object_array_get_idx(clusters, i);
		const char *name = jsonio_str(c, "name");
		if (name && strcmp(name, cluster) == 0 && jsonio_get(c, "job-list-metrics"))
			arr = jsonio_get(c, "job-list-metrics");
	}
	const char **out = arena_calloc(r->a, MAX_LIST_METRICS + 1, sizeof(char *));
	size_t n = 0;
	for (size_t i = 0; arr && json_object_is_type(arr, json_type_array) && i < json_object_array_length(arr) &&
			   n < MAX_LIST_METRICS; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		if (json_object_is_type(e, json_type_string))
			out[n++] = json_object_get_string(e);
	}
	if (n == 0)
		return (const char **)default_list_metrics;
	return out;
}

static struct svg_thresholds thresholds_of(const struct metric_config *mc)
{
	struct svg_thresholds t = {mc->peak, mc->normal, mc->caution, mc->alert, mc->lower_is_better};
	return t;
}

/* Footprint bars and sparklines of one row, from the stored footprint and preview. */
static void row_plots(struct req *r, struct json_object *o, const char *cluster, const char *subcluster,
		      struct json_object *fp, struct json_object *preview, const char *const *list_metrics)
{
	const struct archive_cluster *ac = archive_cluster(the_app->archive, cluster);
	const struct subcluster *sc = ac ? cluster_subcluster(ac->model, subcluster) : NULL;
	struct buf b;
	buf_init_arena(&b, r->a);
	if (sc && sc->nfootprint && fp) {
		struct svg_fp_bar *bars = arena_calloc(r->a, sc->nfootprint, sizeof(*bars));
		for (size_t i = 0; i < sc->nfootprint; i++) {
			const struct metric_config *mc = sc->footprint[i].metric;
			struct json_object *v = jsonio_get(fp, sc->footprint[i].key);
			bars[i] = (struct svg_fp_bar){mc->name, arena_printf(r->a, "%s%s", mc->unit.prefix, mc->unit.base),
						      cluster_footprint_name(mc->footprint), v ? json_object_get_double(v) : NAN,
						      thresholds_of(mc)};
		}
		svg_footprint_bars(&b, &(struct svg_footprint){.width = 240, .bars = bars, .n = sc->nfootprint});
		json_object_object_add(o, "footprint_svg", tmpl_markup_new(b.data, b.len));
	}
	struct json_object *sparks = json_object_new_array();
	for (size_t k = 0; list_metrics[k]; k++) {
		struct json_object *p = jsonio_get(preview, list_metrics[k]), *cell = json_object_new_object();
		struct json_object *vals = jsonio_get(p, "v");
		size_t n = vals && json_object_is_type(vals, json_type_array) ? json_object_array_length(vals) : 0;
		if (n) {
			double *v = arena_alloc(r->a, n * sizeof(double));
			for (size_t i = 0; i < n; i++) {
				struct json_object *e = json_object_array_get_idx(vals, i);
				v[i] = e ? json_object_get_double(e) : NAN;
			}
			const struct metric_config *mc = sc ? subcluster_metric(sc, list_metrics[k]) : NULL;
			struct svg_thresholds th;
			if (mc)
				th = thresholds_of(mc);
			buf_reset(&b);
			svg_sparkline(&b, &(struct svg_spark){.label = list_metrics[k],
				.unit = mc ? arena_printf(r->a, "%s%s", mc->unit.prefix, mc->unit.base) : "",
				.values = v, .n = n, .width = 140, .height = 32, .thresholds = mc ? &th : NULL});
			json_object_object_add(cell, "svg", tmpl_markup_new(b.data, b.len));
		}
		json_object_array_add(sparks, cell);
	}
	json_object_object_add(o, "sparklines", sparks);
}

/* A row's footprint bars and sparklines, kept per worker: they follow from
 * the row's cluster, subcluster, footprint and preview and the list's
 * metrics, which make the key, so a changed row (a preview computed, new
 * footprint values) misses and is drawn anew.  Thresholds come from the
 * cluster configuration, which a reload gives to new workers.  One slot per
 * job id modulo the table size; keys (mostly the preview text) beyond
 * PLOTS_MAX_KEY bytes are not kept, which bounds the memory. */
#define PLOTS_SLOTS 1024
#define PLOTS_MAX_KEY 8192
struct plots_slot {
	char *key;
	size_t keylen;
	struct json_object *footprint, *sparklines; /* shared read-only with the page models */
};
static struct plots_slot plots_cache[PLOTS_SLOTS];

static void plots_slot_clear(struct plots_slot *ps)
{
	free(ps->key);
	if (ps->footprint)
		json_object_put(ps->footprint);
	if (ps->sparklines)
		json_object_put(ps->sparklines);
	memset(ps, 0, sizeof(*ps));
}

static const char *plots_key(struct req *r, PGresult *res, int i, const char *const *list_metrics, size_t *len)
{
	struct buf k;
	buf_init_arena(&k, r->a);
	static const int cols[] = {C_CLUSTER, C_SUB, C_FOOTPRINT, C_PREVIEW};
	for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++)
		buf_add(&k, PQgetvalue(res, i, cols[c]), (size_t)PQgetlength(res, i, cols[c]) + 1);
	for (size_t m = 0; list_metrics[m]; m++)
		buf_add(&k, list_metrics[m], strlen(list_metrics[m]) + 1);
	*len = k.len;
	return k.data;
}

static struct json_object *row_model(struct req *r, PGresult *res, int i, const char *const *list_metrics)
{
	struct json_object *o = json_object_new_object();
	char buf[64];
	add_s(o, "id", PQgetvalue(res, i, C_ID));
	add_s(o, "job_id", PQgetvalue(res, i, C_JOBID));
	add_s(o, "cluster", PQgetvalue(res, i, C_CLUSTER));
	add_s(o, "subcluster", PQgetvalue(res, i, C_SUB));
	add_s(o, "partition", PQgetvalue(res, i, C_PART));
	add_s(o, "project", PQgetvalue(res, i, C_PROJECT));
	add_s(o, "user", PQgetvalue(res, i, C_USER));
	const char *shared = PQgetvalue(res, i, C_SHARED);
	if (strcmp(shared, "none") != 0)
		add_s(o, "shared", shared);
	const char *state = PQgetvalue(res, i, C_STATE);
	add_s(o, "state", state);
	add_s(o, "state_class", joblist_state_class(state));
	if (strcmp(state, "running") == 0)
		json_object_object_add(o, "running", json_object_new_boolean(1));
	int64_t start = atoll(PQgetvalue(res, i, C_START));
	joblist_format_time(start, buf, sizeof(buf));
	add_s(o, "start", buf);
	joblist_format_duration(atoll(PQgetvalue(res, i, C_DURATION)), buf, sizeof(buf));
	add_s(o, "duration", buf);
	int64_t wall = atoll(PQgetvalue(res, i, C_WALLTIME));
	if (wall > 0) {
		joblist_format_duration(wall, buf, sizeof(buf));
		add_s(o, "walltime", buf);
	}
	json_object_object_add(o, "num_nodes", json_object_new_int(atoi(PQgetvalue(res, i, C_NODES))));
	int hwt = atoi(PQgetvalue(res, i, C_HWT)), acc = atoi(PQgetvalue(res, i, C_ACC));
	if (hwt)
		json_object_object_add(o, "num_hwthreads", json_object_new_int(hwt));
	if (acc)
		json_object_object_add(o, "num_acc", json_object_new_int(acc));
	double energy = atof(PQgetvalue(res, i, C_ENERGY));
	if (energy > 0) {
		snprintf(buf, sizeof(buf), "%.2f", energy);
		add_s(o, "energy", buf);
	}
	const char *arr = PQgetvalue(res, i, C_ARRAY);
	if (strcmp(arr, "0") != 0)
		add_s(o, "array_job_id", arr);
	const char *name = PQgetvalue(res, i, C_NAME);
	if (*name) {
		size_t n = strlen(name);
		if (n > 40) {
			/* shorten on a UTF-8 boundary */
			size_t cut = 37;
			while (cut > 0 && ((unsigned char)name[cut] & 0xc0) == 0x80)
				cut--;
			add_s(o, "job_name", arena_printf(r->a, "%.*s…", (int)cut, name));
			add_s(o, "job_name_full", name);
		} else {
			add_s(o, "job_name", name);
		}
	}
	const char *fp = PQgetvalue(res, i, C_FOOTPRINT), *pv = PQgetvalue(res, i, C_PREVIEW);
	size_t klen;
	const char *key = plots_key(r, res, i, list_metrics, &klen);
	struct plots_slot *ps = &plots_cache[(uint64_t)atoll(PQgetvalue(res, i, C_ID)) % PLOTS_SLOTS];
	if (ps->key && ps->keylen == klen && memcmp(ps->key, key, klen) == 0) {
		if (ps->footprint)
			json_object_object_add(o, "footprint_svg", json_object_get(ps->footprint));
		json_object_object_add(o, "sparklines", json_object_get(ps->sparklines));
		return o;
	}
	char err[128];
	struct json_object *fpo = jsonio_parse(fp, strlen(fp), err, sizeof(err));
	struct json_object *pvo = *pv ? jsonio_parse(pv, strlen(pv), err, sizeof(err)) : NULL;
	row_plots(r, o, PQgetvalue(res, i, C_CLUSTER), PQgetvalue(res, i, C_SUB), fpo, pvo, list_metrics);
	if (fpo)
		json_object_put(fpo);
	if (pvo)
		json_object_put(pvo);
	if (klen <= PLOTS_MAX_KEY) {
		plots_slot_clear(ps);
		ps->key = xmalloc(klen);
		memcpy(ps->key, key, klen);
		ps->keylen = klen;
		ps->footprint = jsonio_get(o, "footprint_svg") ? json_object_get(jsonio_get(o, "footprint_svg")) : NULL;
		ps->sparklines = json_object_get(jsonio_get(o, "sparklines"));
	}
	return o;
}

/* The tags of the page's rows, as [[id, type, name, scope], ...] per row in
 * the list query's own result (one round trip fewer than a query of their
 * own; the list query is prepared, so the planning is paid once): global ones,
 * the viewer's private ones, admin ones for support and admin.  The page's
 * rows (the "page" CTE) are looked up in jobtag in one pass and joined back,
 * rather than by a subquery per row: a correlated subquery rescans its join
 * and aggregate for every row, which cost about as much as the rest of the
 * query together. */
static void tags_join(struct sqlq *q, const struct user *viewer)
{
	unsigned lvl = viewer ? auth_level(viewer->roles) : 0;
	buf_adds(&q->sql, ", tg AS (SELECT jt.job_id, jsonb_agg(jsonb_build_array(t.id::text, t.tag_type, "
			  "t.tag_name, t.tag_scope) ORDER BY t.tag_type, t.tag_name)::text AS tags "
			  "FROM jobtag jt JOIN tag t ON t.id = jt.tag_id "
			  "WHERE jt.job_id IN (SELECT id FROM page) AND (t.tag_scope = 'global' OR t.tag_scope = ");
	sqlq_param(q, viewer ? viewer->username : "", NULL);
	buf_adds(&q->sql, " OR (t.tag_scope = 'admin' AND ");
	sqlq_param(q, lvl >= ROLE_SUPPORT ? "t" : "f", "::bool");
	buf_adds(&q->sql, ")) GROUP BY jt.job_id) "
			  "SELECT page.*, tg.tags FROM page LEFT JOIN tg ON tg.job_id = page.id");
}

static void row_tags(struct json_object *row, const char *text)
{
	if (!*text)
		return;
	char err[64];
	struct json_object *arr = jsonio_parse(text, strlen(text), err, sizeof(err));
	size_t n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	struct json_object *tags = n ? json_object_new_array_ext((int)n) : NULL;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(e, json_type_array) || json_object_array_length(e) != 4)
			continue;
		struct json_object *t = json_object_new_object();
		static const char *const keys[] = {"id", "type", "name", "scope"};
		for (size_t k = 0; k < 4; k++)
			add_s(t, keys[k], json_object_get_string(json_object_array_get_idx(e, k)));
		json_object_array_add(tags, t);
	}
	if (tags)
		json_object_object_add(row, "tags", tags);
	if (arr)
		json_object_put(arr);
}

/* The planner's estimate of a filter's size, kept a while per worker: the
 * page marks it as an estimate anyway, and asking costs a round trip and a
 * plan per page.  The key is the count query with its parameters, so the
 * viewer's role scope is part of it. */
#define ESTIMATE_SLOTS 64
#define ESTIMATE_SECONDS 60
static struct {
	char *key;
	size_t keylen;
	time_t at;
	double estimate;
} estimates[ESTIMATE_SLOTS];

static const char *estimate_key(const struct sqlq *q, size_t *len)
{
	struct buf k;
	buf_init_arena(&k, q->a);
	buf_add(&k, q->sql.data, q->sql.len + 1);
	for (int i = 0; i < q->nparams; i++) {
		if (q->params[i])
			buf_add(&k, q->params[i], strlen(q->params[i]) + 1);
		else
			buf_add(&k, "\377", 1); /* SQL NULL: no text has this byte (UTF-8) */
	}
	*len = k.len;
	return k.data;
}

static double estimate_lookup(const char *key, size_t len, time_t now)
{
	for (size_t i = 0; i < ESTIMATE_SLOTS; i++)
		if (estimates[i].key && estimates[i].keylen == len && now - estimates[i].at < ESTIMATE_SECONDS &&
		    now >= estimates[i].at && memcmp(estimates[i].key, key, len) == 0)
			return estimates[i].estimate;
	return -1;
}

static void estimate_store(const char *key, size_t len, time_t now, double estimate)
{
	size_t slot = 0;
	for (size_t i = 0; i < ESTIMATE_SLOTS; i++) {
		if (!estimates[i].key || (estimates[i].keylen == len && memcmp(estimates[i].key, key, len) == 0)) {
			slot = i;
			break;
		}
		if (estimates[i].at < estimates[slot].at)
			slot = i; /* else the oldest goes */
	}
	free(estimates[slot].key);
	estimates[slot].key = xmalloc(len);
	memcpy(estimates[slot].key, key, len);
	estimates[slot].keylen = len;
	estimates[slot].at = now;
	estimates[slot].estimate = estimate;
}

static double plan_estimate(struct req *r, const struct sqlq *c)
{
	size_t klen;
	const char *key = estimate_key(c, &klen);
	time_t now = time(NULL);
	double estimate = estimate_lookup(key, klen, now);
	if (estimate >= 0)
		return estimate;
	PGresult *eres = db_query_once(r->a, c->sql.data, c->nparams, c->params);
	if (eres && PQntuples(eres) == 1) {
		char perr[64];
		const char *plan = PQgetvalue(eres, 0, 0);
		struct json_object *pj = jsonio_parse(plan, strlen(plan), perr, sizeof(perr));
		struct json_object *plan_rows = jsonio_get(jsonio_get(pj ? json_object_array_get_idx(pj, 0) : NULL, "Plan"), "Plan Rows");
		if (plan_rows)
			estimate = json_object_get_double(plan_rows);
		if (pj)
			json_object_put(pj);
	}
	if (estimate >= 0)
		estimate_store(key, klen, now, estimate);
	return estimate;
}

int joblist_fill(struct req *r, const struct job_filter *f, const struct job_sort *s,
		 const struct joblist_page *p, struct json_object *model, char *err, size_t errlen)
{
	bool integer = sort_is_integer(s);
	const char *expr = jobquery_sort_expr(r->a, s);
	const char *cv = NULL, *cid = NULL;
	bool backwards = false;
	if (p->before && parse_cursor(r->a, p->before, integer, &cv, &cid) == 0)
		backwards = true;
	else if (p->after && parse_cursor(r->a, p->after, integer, &cv, &cid) < 0)
		cv = NULL;
	/* walking backwards flips the comparison and the order, then the rows */
	bool desc = s->desc != backwards;

	struct sqlq q;
	sqlq_init(&q, r->a);
	buf_adds(&q.sql, "WITH page AS MATERIALIZED (SELECT " LIST_COLUMNS);
	buf_addf(&q.sql, "%s AS sortval FROM job WHERE true", expr);
	jobquery_where(&q, f, r->user);
	if (cv) {
		buf_addf(&q.sql, " AND (%s, job.id) %c (", expr, desc ? '<' : '>');
		sqlq_param(&q, cv, integer ? "::bigint" : "::float8");
		buf_adds(&q.sql, ", ");
		sqlq_param(&q, cid, "::bigint");
		buf_adds(&q.sql, ")");
	}
	buf_addf(&q.sql, " ORDER BY %s %s, job.id %s LIMIT %d)", expr, desc ? "DESC" : "ASC",
		 desc ? "DESC" : "ASC", p->items_per_page + 1);
	tags_join(&q, r->user);
	buf_addf(&q.sql, " ORDER BY page.sortval %s, page.id %s", desc ? "DESC" : "ASC", desc ? "DESC" : "ASC");
	/* A prepared statement saves planning every page (about 0.5 ms of
	 * server CPU, more than running it).  Not with a node: after five runs
	 * PostgreSQL may keep a generic plan, which cannot know that a host ran
	 * only a few old jobs and walks job_start_time from the newest job to
	 * meet them (a second per page at a million jobs); planned for the host,
	 * the hosts index finds them.  Cluster, state, user, project and array
	 * job have an index that leads with them and gives the start-time order
	 * for any value (sql/003_list_order.up.sql). */
	PGresult *res = f->node ? db_query_once(r->a, q.sql.data, q.nparams, q.params)
				: db_query_text(r->a, q.sql.data, q.nparams, q.params);
	if (!res) {
		snprintf(err, errlen, "the job list query failed: %s", db_last_error());
		return -1;
	}
	int n = PQntuples(res);
	bool more = n > p->items_per_page;
	if (more)
		n = p->items_per_page;
	const char *const *list_metrics = list_metrics_for(r, f->cluster);
	struct json_object *rows = json_object_new_array_ext(n);
	for (int k = 0; k < n; k++) {
		int i = backwards ? n - 1 - k : k;
		struct json_object *row = row_model(r, res, i, list_metrics);
		row_tags(row, PQgetvalue(res, i, C_TAGS));
		json_object_array_add(rows, row);
	}
	json_object_object_add(model, "jobs", rows);
	struct json_object *lm = json_object_new_array();
	for (size_t k = 0; list_metrics[k]; k++)
		json_object_array_add(lm, json_object_new_string(list_metrics[k]));
	json_object_object_add(model, "list_metrics", lm);
	if (n > 0) {
		int first = backwards ? n - 1 : 0, last = backwards ? 0 : n - 1;
		const char *first_c = arena_printf(r->a, "%s:%s", PQgetvalue(res, first, C_SORTVAL), PQgetvalue(res, first, C_ID));
		const char *last_c = arena_printf(r->a, "%s:%s", PQgetvalue(res, last, C_SORTVAL), PQgetvalue(res, last, C_ID));
		bool has_next = backwards ? cv != NULL : more;
		bool has_prev = backwards ? more : cv != NULL;
		if (has_next)
			add_s(model, "next_url", page_url(r, "after", last_c));
		if (has_prev)
			add_s(model, "prev_url", page_url(r, "before", first_c));
	}

	/* The count.  An exact count of a large set is a scan of it (tens of ms
	 * at a million jobs), so the planner's estimate comes first: large sets
	 * show "about N" (marked as an estimate), small ones are counted exactly
	 * up to the cap, beyond which the page says "more than". */
	struct sqlq c;
	sqlq_init(&c, r->a);
	buf_adds(&c.sql, "EXPLAIN (FORMAT JSON) SELECT 1 FROM job WHERE true");
	jobquery_where(&c, f, r->user);
	double estimate = plan_estimate(r, &c);
	if (estimate > JOBLIST_COUNT_CAP) {
		/* two significant digits: the estimate is no more precise than that */
		double mag = pow(10, floor(log10(estimate)) - 1);
		json_object_object_add(model, "count", json_object_new_int64((int64_t)(round(estimate / mag) * mag)));
		json_object_object_add(model, "count_estimated", json_object_new_boolean(1));
		return 0;
	}
	sqlq_init(&c, r->a);
	buf_adds(&c.sql, "SELECT count(*) FROM (SELECT 1 FROM job WHERE true");
	jobquery_where(&c, f, r->user);
	buf_addf(&c.sql, " LIMIT %d) s", JOBLIST_COUNT_CAP + 1);
	PGresult *cres = db_query_once(r->a, c.sql.data, c.nparams, c.params);
	if (cres) {
		long long total = atoll(PQgetvalue(cres, 0, 0));
		if (total > JOBLIST_COUNT_CAP) {
			json_object_object_add(model, "count", json_object_new_int(JOBLIST_COUNT_CAP));
			json_object_object_add(model, "count_capped", json_object_new_boolean(1));
		} else {
			json_object_object_add(model, "count", json_object_new_int64(total));
		}
	}
	return 0;
}
