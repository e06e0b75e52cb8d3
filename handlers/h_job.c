/* /monitoring/job/{id}: one job — info, footprint, roofline, energy, the
 * metric grid as SVG, statistics per host, script and metadata (COMPAT g). */
#include "config.h"
#include "handlers.h"
#include "../app/app.h"
#include "../app/archive.h"
#include "../app/arena.h"
#include "../app/auth.h"
#include "../app/buf.h"
#include "../app/cluster.h"
#include "../app/conf.h"
#include "../app/db.h"
#include "../app/job.h"
#include "../app/jobdata.h"
#include "../app/joblist.h"
#include "../app/jobquery.h"
#include "../app/html.h"
#include "../app/jsonio.h"
#include "../app/log.h"
#include "../app/metrics.h"
#include "../app/db_job.h"
#include "../app/page.h"
#include "../app/req.h"
#include "../app/resp.h"
#include "../app/str.h"
#include "../app/svg.h"
#include "../app/tmpl.h"
#include "../app/usercfg.h"
#include "../app/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PLOT_WIDTH 460
#define PLOT_HEIGHT 220
#define ROOFLINE_MAX_POINTS 3000

/* ---- decoded data.json, kept per worker (COMPAT k: cc-backend keeps 128 MB for 1 h) ---- */

#define CACHE_ENTRIES 16
#define CACHE_BYTES ((size_t)256 << 20)
#define RUNNING_CACHE_SECONDS 60

/* The rendered plots, statistics table and roofline of the data, per view
 * (zoom, scope, background): the data of an entry never changes while it
 * is kept, so neither do they, and rendering them is most of a page's cost. */
#define VIEWS_PER_ENTRY 8

struct view {
	char *key;                 /* "from|to|scope|background" */
	struct json_object *model; /* the keys data_model adds, shared read-only */
	size_t bytes;
	unsigned long used;
};

struct cached {
	char key[1024];
	struct jobdata *d;
	size_t bytes;        /* the data and its views */
	unsigned long used;
	time_t expires;      /* 0: never (archived data does not change) */
	struct view views[VIEWS_PER_ENTRY];
};
static struct cached cache[CACHE_ENTRIES];
static unsigned long cache_clock;

static void cache_drop(struct cached *c)
{
	jobdata_free(c->d);
	for (size_t v = 0; v < VIEWS_PER_ENTRY; v++) {
		free(c->views[v].key);
		if (c->views[v].model)
			json_object_put(c->views[v].model);
	}
	memset(c, 0, sizeof(*c));
}

static struct cached *cache_entry_of(const struct jobdata *d)
{
	for (size_t i = 0; i < CACHE_ENTRIES; i++)
		if (cache[i].d == d)
			return &cache[i];
	return NULL;
}

static struct json_object *view_get(struct cached *c, const char *key)
{
	for (size_t v = 0; c && v < VIEWS_PER_ENTRY; v++)
		if (c->views[v].key && strcmp(c->views[v].key, key) == 0) {
			c->views[v].used = ++cache_clock;
			return c->views[v].model;
		}
	return NULL;
}

/* keep model (a reference is taken) unless the data budget is spent */
static void view_put(struct cached *c, const char *key, struct json_object *model, size_t bytes)
{
	if (!c)
		return;
	size_t total = 0;
	for (size_t i = 0; i < CACHE_ENTRIES; i++)
		total += cache[i].bytes;
	if (total + bytes > CACHE_BYTES)
		return;
	struct view *slot = &c->views[0];
	for (size_t v = 0; v < VIEWS_PER_ENTRY; v++) {
		if (!c->views[v].key) {
			slot = &c->views[v];
			break;
		}
		if (c->views[v].used < slot->used)
			slot = &c->views[v];
	}
	if (slot->key) {
		c->bytes -= slot->bytes;
		free(slot->key);
		json_object_put(slot->model);
	}
	slot->key = xstrdup(key);
	slot->model = json_object_get(model);
	slot->bytes = bytes;
	slot->used = ++cache_clock;
	c->bytes += bytes;
}

static struct jobdata *cache_get(const char *key)
{
	for (size_t i = 0; i < CACHE_ENTRIES; i++)
		if (cache[i].d && strcmp(cache[i].key, key) == 0) {
			if (cache[i].expires && time(NULL) >= cache[i].expires) {
				cache_drop(&cache[i]);
				return NULL;
			}
			cache[i].used = ++cache_clock;
			return cache[i].d;
		}
	return NULL;
}

static void cache_put(const char *key, struct jobdata *d, time_t expires)
{
	size_t bytes = jobdata_size(d), total = bytes;
	for (size_t i = 0; i < CACHE_ENTRIES; i++)
		total += cache[i].bytes;
	/* evict least recently used entries until it fits */
	for (;;) {
		size_t victim = CACHE_ENTRIES, empty = CACHE_ENTRIES;
		for (size_t i = 0; i < CACHE_ENTRIES; i++) {
			if (!cache[i].d) {
				empty = i;
				continue;
			}
			if (victim == CACHE_ENTRIES || cache[i].used < cache[victim].used)
				victim = i;
		}
		if (empty < CACHE_ENTRIES && total <= CACHE_BYTES) {
			snprintf(cache[empty].key, sizeof(cache[empty].key), "%s", key);
			cache[empty].d = d;
			cache[empty].bytes = bytes;
			cache[empty].used = ++cache_clock;
			cache[empty].expires = expires;
			return;
		}
		if (victim == CACHE_ENTRIES) {
			jobdata_free(d); /* larger than the whole budget: not kept */
			return;
		}
		total -= cache[victim].bytes;
		cache_drop(&cache[victim]);
	}
}

/* ---- the job row ---- */

struct jobrow {
	const char *id, *job_id, *cluster, *subcluster, *partition, *project, *user, *shared, *state;
	int64_t start, duration, walltime, submit;
	int num_nodes, num_hwthreads, num_acc, smt, monitoring_status;
	double energy;
	const char *energy_footprint, *footprint, *meta_data, *resources, *statistics, *array_job_id,
		*archive_error, *user_name;
};

#define JOB_COLUMNS                                                                                  \
	"job.id, job.job_id, job.cluster, job.subcluster, coalesce(job.cluster_partition, ''), "    \
	"job.project, job.hpc_user, job.shared, job.job_state, job.start_time, "                    \
	"(CASE WHEN job.job_state = 'running' THEN greatest(0, extract(epoch FROM now())::bigint - job.start_time) ELSE job.duration END), " \
	"job.walltime, job.submit_time, job.num_nodes, coalesce(job.num_hwthreads, 0), coalesce(job.num_acc, 0), " \
	"job.smt, job.monitoring_status, job.energy, coalesce(job.energy_footprint::text, '{}'), "   \
	"coalesce(job.footprint::text, '{}'), coalesce(job.meta_data::text, '{}'), job.resources::text, " \
	"coalesce(job.statistics::text, '{}'), coalesce(job.array_job_id, 0), coalesce(job.archive_error, ''), " \
	"coalesce((SELECT u.name FROM hpc_user u WHERE u.username = job.hpc_user), '')"

/* 1 found, 0 not there or not visible to this viewer, -1 database error */
static int load_row(struct req *r, int64_t id, struct jobrow *j)
{
	struct sqlq q;
	sqlq_init(&q, r->a);
	buf_adds(&q.sql, "SELECT " JOB_COLUMNS " FROM job WHERE job.id = ");
	sqlq_param(&q, arena_printf(r->a, "%lld", (long long)id), "::bigint");
	jobquery_viewer_where(&q, r->user);
	PGresult *res = db_query_once(r->a, q.sql.data, q.nparams, q.params);
	if (!res)
		return -1;
	if (PQntuples(res) != 1)
		return 0;
	int c = 0;
#define S() PQgetvalue(res, 0, c++)
#define I() atoll(PQgetvalue(res, 0, c++))
	j->id = S(); j->job_id = S(); j->cluster = S(); j->subcluster = S(); j->partition = S();
	j->project = S(); j->user = S(); j->shared = S(); j->state = S(); j->start = I();
	j->duration = I(); j->walltime = I(); j->submit = I(); j->num_nodes = (int)I();
	j->num_hwthreads = (int)I(); j->num_acc = (int)I(); j->smt = (int)I();
	j->monitoring_status = (int)I(); j->energy = atof(S()); j->energy_footprint = S();
	j->footprint = S(); j->meta_data = S(); j->resources = S(); j->statistics = S();
	j->array_job_id = S(); j->archive_error = S(); j->user_name = S();
#undef S
#undef I
	return 1;
}

static struct json_object *parse_json(struct req *r, const char *s)
{
	char err[128];
	struct json_object *o = jsonio_parse(s, strlen(s), err, sizeof(err));
	return o ? arena_cleanup_add(r->a, jsonio_put, o) : NULL;
}

static void add_s(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void add_markup(struct json_object *o, const char *k, const struct buf *b)
{
	json_object_object_add(o, k, tmpl_markup_new(b->data, b->len));
}

static struct svg_thresholds thresholds_of(const struct metric_config *mc)
{
	struct svg_thresholds t = {mc->peak, mc->normal, mc->caution, mc->alert, mc->lower_is_better};
	return t;
}

/* unit text such as "GF/s" */
static const char *unit_text(struct req *r, const char *base, const char *prefix)
{
	return arena_printf(r->a, "%s%s", prefix ? prefix : "", base ? base : "");
}

/* "0-35,72-107": hwthread lists compressed into ranges */
static const char *ranges(struct req *r, struct json_object *arr)
{
	struct buf b;
	buf_init_arena(&b, r->a);
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n;) {
		int64_t first = json_object_get_int64(json_object_array_get_idx(arr, i)), last = first;
		size_t k = i + 1;
		while (k < n && json_object_get_int64(json_object_array_get_idx(arr, k)) == last + 1) {
			last++;
			k++;
		}
		if (b.len)
			buf_addch(&b, ',');
		if (last > first)
			buf_addf(&b, "%lld-%lld", (long long)first, (long long)last);
		else
			buf_addf(&b, "%lld", (long long)first);
		i = k;
	}
	return b.data;
}

static const char sql_tags[] =
	"SELECT t.id, t.tag_type, t.tag_name, t.tag_scope FROM jobtag jt JOIN tag t ON t.id = jt.tag_id "
	"WHERE jt.job_id = $1::bigint AND (t.tag_scope = 'global' OR t.tag_scope = $2 OR "
	"(t.tag_scope = 'admin' AND $3::bool)) ORDER BY t.tag_type, t.tag_name";

/* other jobs on the first host overlapping in time (200 s tolerance, as cc-backend) */
/* other jobs on the first host in the job's time (200 s tolerance), those the viewer may see
 * (as cc-backend's FindConcurrentJobs, behind the same role filter as every job query) */
static void concurrent_query(struct req *r, const struct jobrow *j, const char *host, struct sqlq *qp)
{
	struct sqlq q;
	sqlq_init(&q, r->a);
	/* the host's jobs in that time first, then the order: with ORDER BY and
	 * LIMIT on the same level, the planner may walk the start-time index
	 * from the oldest job hoping to meet 50 matches soon, and on a busy
	 * host with few overlapping jobs it meets them only at the end (half a
	 * second at a million jobs); the hosts index finds them in milliseconds */
	buf_adds(&q.sql, "WITH c AS MATERIALIZED (SELECT job.id, job.job_id, job.start_time FROM job WHERE job.id <> ");
	sqlq_param(&q, j->id, "::bigint");
	jobquery_on_host(&q, host);
	buf_adds(&q.sql, " AND job.start_time < ");
	sqlq_param(&q, arena_printf(r->a, "%lld", (long long)(j->start + j->duration)), "::bigint");
	buf_adds(&q.sql, " + 200 AND (job.job_state = 'running' OR job.start_time + job.duration > ");
	sqlq_param(&q, arena_printf(r->a, "%lld", (long long)j->start), "::bigint");
	buf_adds(&q.sql, " + 200)");
	jobquery_viewer_where(&q, r->user);
	buf_adds(&q.sql, ") SELECT c.id, c.job_id FROM c ORDER BY c.start_time, c.id LIMIT 50");
	*qp = q;
}

/* Its answers, kept a minute per worker for jobs that have ended: the
 * search goes through every job that ever ran on the host (a millisecond
 * and more at a million jobs), and what it finds changes only when jobs
 * are added to that host's past.  The key is the query with its role filter
 * and all its parameters, so each viewer scope has its own entry. */
#define CONCURRENT_SLOTS 64
#define CONCURRENT_SECONDS 60
static struct {
	char *key;
	time_t at;
	struct json_object *list;
} concurrent_cache[CONCURRENT_SLOTS];

static struct json_object *concurrent_jobs(struct req *r, const struct jobrow *j, const char *host, bool cacheable)
{
	struct sqlq q;
	concurrent_query(r, j, host, &q);
	struct buf kb;
	buf_init_arena(&kb, r->a);
	buf_adds(&kb, q.sql.data);
	for (int i = 0; i < q.nparams; i++) {
		buf_adds(&kb, "\x1f");
		buf_adds(&kb, q.params[i] ? q.params[i] : "\x1e");
	}
	const char *key = kb.data;
	time_t now = time(NULL);
	size_t slot = 0;
	for (size_t i = 0; cacheable && i < CONCURRENT_SLOTS; i++) {
		if (concurrent_cache[i].key && strcmp(concurrent_cache[i].key, key) == 0) {
			if (now >= concurrent_cache[i].at && now - concurrent_cache[i].at < CONCURRENT_SECONDS)
				return json_object_get(concurrent_cache[i].list);
			slot = i;
			break;
		}
		if (!concurrent_cache[i].key || concurrent_cache[i].at < concurrent_cache[slot].at)
			slot = i;
	}
	/* planned for this host each time: a generic plan, not knowing how many
	 * jobs ran there, may walk the start-time index from the oldest job */
	PGresult *cr = db_query_once(r->a, q.sql.data, q.nparams, q.params);
	if (!cr)
		return NULL;
	struct json_object *cj = json_object_new_array();
	for (int i = 0; i < PQntuples(cr); i++) {
		struct json_object *o = json_object_new_object();
		add_s(o, "id", PQgetvalue(cr, i, 0));
		add_s(o, "job_id", PQgetvalue(cr, i, 1));
		json_object_array_add(cj, o);
	}
	if (cacheable) {
		free(concurrent_cache[slot].key);
		if (concurrent_cache[slot].list)
			json_object_put(concurrent_cache[slot].list);
		concurrent_cache[slot].key = xstrdup(key);
		concurrent_cache[slot].at = now;
		concurrent_cache[slot].list = json_object_get(cj);
	}
	return cj;
}

static void info_model(struct req *r, const struct jobrow *j, struct json_object *m,
		       struct json_object *meta, struct json_object *res)
{
	char buf[64];
	struct json_object *info = json_object_new_object();
	add_s(info, "id", j->id);
	add_s(info, "job_id", j->job_id);
	add_s(info, "cluster", j->cluster);
	add_s(info, "subcluster", j->subcluster);
	add_s(info, "partition", j->partition);
	add_s(info, "project", j->project);
	add_s(info, "user", j->user);
	add_s(info, "user_name", j->user_name);
	add_s(info, "state", j->state);
	add_s(info, "state_class", joblist_state_class(j->state));
	if (strcmp(j->shared, "none") != 0)
		add_s(info, "shared", j->shared);
	joblist_format_time(j->start, buf, sizeof(buf));
	add_s(info, "start", buf);
	joblist_format_duration(j->duration, buf, sizeof(buf));
	add_s(info, "duration", buf);
	if (j->walltime > 0) {
		joblist_format_duration(j->walltime, buf, sizeof(buf));
		add_s(info, "walltime", buf);
	}
	json_object_object_add(info, "num_nodes", json_object_new_int(j->num_nodes));
	if (j->num_hwthreads)
		json_object_object_add(info, "num_hwthreads", json_object_new_int(j->num_hwthreads));
	if (j->num_acc)
		json_object_object_add(info, "num_acc", json_object_new_int(j->num_acc));
	if (strcmp(j->array_job_id, "0") != 0)
		add_s(info, "array_job_id", j->array_job_id);
	const char *name = jsonio_str(meta, "jobName");
	if (name)
		add_s(info, "job_name", name);
	static const char *const ms[] = {"disabled", "running / being archived", "archiving failed", "archived"};
	add_s(info, "monitoring", j->monitoring_status >= 0 && j->monitoring_status < 4 ? ms[j->monitoring_status] : "?");
	/* why archiving failed: admins only */
	if (r->user && (r->user->roles & ROLE_ADMIN) && *j->archive_error)
		add_s(info, "archive_error", j->archive_error);
	json_object_object_add(m, "job", info);

	/* script, scheduler info, admin note; everything shown escaped */
	const char *script = jsonio_str(meta, "jobScript"), *slurm = jsonio_str(meta, "slurmInfo"),
		   *note = jsonio_str(meta, "message");
	if (script)
		add_s(m, "job_script", script);
	if (slurm)
		add_s(m, "slurm_info", slurm);
	if (note)
		add_s(m, "admin_note", note);

	struct json_object *rl = json_object_new_array();
	for (size_t i = 0; res && i < json_object_array_length(res); i++) {
		struct json_object *e = json_object_array_get_idx(res, i), *o = json_object_new_object();
		add_s(o, "hostname", jsonio_str(e, "hostname"));
		struct json_object *hw = jsonio_get(e, "hwthreads"), *acc = jsonio_get(e, "accelerators");
		if (hw && json_object_is_type(hw, json_type_array))
			add_s(o, "hwthreads", ranges(r, hw));
		if (acc && json_object_is_type(acc, json_type_array)) {
			struct buf b;
			buf_init_arena(&b, r->a);
			for (size_t k = 0; k < json_object_array_length(acc); k++)
				buf_addf(&b, "%s%s", k ? ", " : "", json_object_get_string(json_object_array_get_idx(acc, k)));
			add_s(o, "accelerators", b.data);
		}
		json_object_array_add(rl, o);
	}
	json_object_object_add(m, "resources", rl);

	unsigned lvl = r->user ? auth_level(r->user->roles) : 0;
	const char *tp[] = {j->id, r->user ? r->user->username : "", lvl >= ROLE_SUPPORT ? "t" : "f"};
	PGresult *tr = db_query(r->a, sql_tags, 3, tp);
	struct json_object *tags = json_object_new_array();
	for (int i = 0; tr && i < PQntuples(tr); i++) {
		struct json_object *t = json_object_new_object();
		add_s(t, "id", PQgetvalue(tr, i, 0));
		add_s(t, "type", PQgetvalue(tr, i, 1));
		add_s(t, "name", PQgetvalue(tr, i, 2));
		add_s(t, "scope", PQgetvalue(tr, i, 3));
		json_object_array_add(tags, t);
	}
	json_object_object_add(m, "has_tags", json_object_new_boolean(json_object_array_length(tags) > 0));
	json_object_object_add(m, "tags", tags);

	const char *first = res && json_object_array_length(res) ? jsonio_str(json_object_array_get_idx(res, 0), "hostname") : NULL;
	if (first) {
		struct json_object *cj = concurrent_jobs(r, j, first, strcmp(j->state, "running") != 0);
		if (cj && json_object_array_length(cj)) {
			json_object_object_add(m, "concurrent", cj);
			json_object_object_add(m, "has_concurrent", json_object_new_boolean(1));
		} else if (cj)
			json_object_put(cj);
	}
}

/* footprint bars and the polar plot from the stored footprint */
static void footprint_model(struct req *r, const struct jobrow *j, const struct subcluster *sc,
			    struct json_object *m, struct json_object *fp, struct json_object *stats)
{
	if (!sc || !sc->nfootprint)
		return;
	struct svg_fp_bar *bars = arena_calloc(r->a, sc->nfootprint, sizeof(*bars));
	const char **labels = arena_calloc(r->a, sc->nfootprint, sizeof(char *));
	double *avg = arena_calloc(r->a, sc->nfootprint, sizeof(double));
	double *max = arena_calloc(r->a, sc->nfootprint, sizeof(double));
	bool have_max = false;
	size_t n = 0;
	for (size_t i = 0; i < sc->nfootprint; i++) {
		const struct footprint_metric *f = &sc->footprint[i];
		const struct metric_config *mc = f->metric;
		struct json_object *v = jsonio_get(fp, f->key);
		struct svg_fp_bar *b = &bars[n];
		b->name = mc->name;
		b->unit = unit_text(r, mc->unit.base, mc->unit.prefix);
		b->stat = cluster_footprint_name(mc->footprint);
		b->value = v ? json_object_get_double(v) : NAN;
		b->th = thresholds_of(mc);
		labels[n] = mc->name;
		avg[n] = isfinite(b->value) && mc->peak > 0 ? b->value / mc->peak : NAN;
		struct json_object *st = jsonio_get(stats, mc->name);
		struct json_object *mx = jsonio_get(st, "max");
		max[n] = mx && mc->peak > 0 ? json_object_get_double(mx) / mc->peak : NAN;
		have_max |= mx != NULL;
		n++;
	}
	(void)j;
	struct buf b;
	buf_init_arena(&b, r->a);
	svg_footprint_bars(&b, &(struct svg_footprint){.title = "Footprint", .width = 380, .bars = bars, .n = n});
	add_markup(m, "footprint_svg", &b);
	if (n >= 3) {
		buf_reset(&b);
		svg_polar(&b, &(struct svg_polar){.title = "Footprint relative to peak", .labels = labels, .n = n,
						 .values = {avg, have_max ? max : NULL}, .names = {"avg", "max"}});
		add_markup(m, "polar_svg", &b);
	}
}

static void energy_model(struct req *r, const struct jobrow *j, struct json_object *m, struct json_object *efp)
{
	if (!efp || json_object_object_length(efp) == 0)
		return;
	struct json_object *list = json_object_new_array();
	json_object_object_foreach(efp, k, v) {
		struct json_object *o = json_object_new_object();
		add_s(o, "metric", k);
		add_s(o, "kwh", arena_printf(r->a, "%.2f", json_object_get_double(v)));
		json_object_array_add(list, o);
	}
	struct json_object *e = json_object_new_object();
	json_object_object_add(e, "metrics", list);
	add_s(e, "total", arena_printf(r->a, "%.2f", j->energy));
	struct json_object *ec = jsonio_get(jsonio_get(the_app->conf->root, "main"), "emission-constant");
	if (ec)
		add_s(e, "co2", arena_printf(r->a, "%.0f", j->energy * json_object_get_double(ec)));
	json_object_object_add(m, "energy", e);
}

/* the k-th smallest of v[0..n) (Hoare's selection; v is reordered) */
static double select_kth(double *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;
	while (lo < hi) {
		double pivot = v[lo + (hi - lo) / 2];
		size_t i = lo, j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				double x = v[i];
				v[i] = v[j];
				v[j] = x;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

/* per time index min / median / max across series, NaN with fewer than 3 values;
 * linear per index (selection, not sorting): 64 nodes x a day x 10 metrics stays cheap */
static void band_of(struct req *r, const struct svg_series *s, size_t ns, size_t len, struct svg_stats_band *band)
{
	double *mn = arena_alloc(r->a, len * sizeof(double)), *md = arena_alloc(r->a, len * sizeof(double)),
	       *mx = arena_alloc(r->a, len * sizeof(double)), *tmp = arena_alloc(r->a, ns * sizeof(double));
	for (size_t t = 0; t < len; t++) {
		size_t k = 0;
		double lo = INFINITY, hi = -INFINITY;
		for (size_t i = 0; i < ns; i++) {
			if (t < s[i].n && isfinite(s[i].values[t])) {
				double v = s[i].values[t];
				tmp[k++] = v;
				lo = v < lo ? v : lo;
				hi = v > hi ? v : hi;
			}
		}
		if (k < 3) {
			mn[t] = md[t] = mx[t] = NAN;
			continue;
		}
		mn[t] = lo;
		mx[t] = hi;
		double upper = select_kth(tmp, k, k / 2);
		if (k % 2) {
			md[t] = upper;
		} else {
			/* the lower middle is the largest of the values below the upper one */
			double lower = -INFINITY;
			for (size_t i = 0; i < k / 2; i++)
				lower = tmp[i] > lower ? tmp[i] : lower;
			md[t] = (lower + upper) / 2;
		}
	}
	*band = (struct svg_stats_band){mn, md, mx, len};
}

static const char *const default_order[] = {"cpu_load", "flops_any", "mem_bw", "mem_used", "acc_utilization", NULL};

static int metric_rank(const char *name)
{
	for (int i = 0; default_order[i]; i++)
		if (strcmp(default_order[i], name) == 0)
			return i;
	return 100;
}

static int cmp_metric(const void *a, const void *b)
{
	const struct jobdata_metric *x = *(struct jobdata_metric *const *)a, *y = *(struct jobdata_metric *const *)b;
	int rx = metric_rank(x->name), ry = metric_rank(y->name);
	if (rx != ry)
		return rx - ry;
	return strcmp(x->name, y->name);
}

/* the plots, the statistics table and the roofline of one view, into m */
static size_t data_render(struct req *r, const struct jobrow *j, const struct subcluster *sc, struct jobdata *d,
			  struct json_object *m, int64_t from, int64_t to, const char *want_scope, bool color_bg)
{
	size_t bytes = 0;
	/* one entry per metric: the wanted scope, else node, else the coarsest there is */
	struct jobdata_metric **pick = arena_calloc(r->a, d->nmetrics + 1, sizeof(*pick));
	size_t np = 0;
	for (size_t i = 0; i < d->nmetrics; i++) {
		struct jobdata_metric *mt = d->metrics[i];
		size_t k = 0;
		for (; k < np; k++)
			if (strcmp(pick[k]->name, mt->name) == 0)
				break;
		bool better;
		if (k == np) {
			pick[np++] = mt;
			continue;
		}
		enum metric_scope have, cand;
		if (scope_parse(pick[k]->scope, &have) < 0 || scope_parse(mt->scope, &cand) < 0)
			continue;
		if (want_scope && strcmp(mt->scope, want_scope) == 0)
			better = true;
		else if (want_scope && strcmp(pick[k]->scope, want_scope) == 0)
			better = false;
		else
			better = scope_cmp(cand, have) > 0; /* coarser wins by default */
		if (better)
			pick[k] = mt;
	}
	qsort(pick, np, sizeof(*pick), cmp_metric);

	struct json_object *plots = json_object_new_array();
	struct buf b;
	buf_init_arena(&b, r->a);
	for (size_t i = 0; i < np; i++) {
		struct jobdata_metric *mt = pick[i];
		int ts = mt->timestep > 0 ? mt->timestep : 60;
		size_t i0 = (size_t)(from / ts), i1 = to ? (size_t)(to / ts) + 1 : SIZE_MAX;
		struct svg_series *ser = arena_calloc(r->a, mt->nseries ? mt->nseries : 1, sizeof(*ser));
		size_t maxlen = 0;
		for (size_t s = 0; s < mt->nseries; s++) {
			struct jobdata_series *js = &mt->series[s];
			size_t a = i0 < js->len ? i0 : js->len, e = i1 < js->len ? i1 : js->len;
			ser[s].values = js->data + a;
			ser[s].n = e - a;
			ser[s].label = js->id ? arena_printf(r->a, "%s:%s", js->hostname, js->id) : js->hostname;
			if (ser[s].n > maxlen)
				maxlen = ser[s].n;
		}
		const struct metric_config *mc = sc ? subcluster_metric(sc, mt->name) : NULL;
		struct svg_thresholds th;
		if (mc)
			th = thresholds_of(mc);
		struct svg_stats_band band;
		bool many = mt->nseries >= JOBDATA_STATS_SERIES_MIN;
		if (many)
			band_of(r, ser, mt->nseries, maxlen, &band);
		/* zoom links keep the other parameters and set from/to */
		struct buf zu;
		buf_init_arena(&zu, r->a);
		buf_addf(&zu, "/monitoring/job/%s?from={from}&to={to}", j->id);
		if (want_scope) {
			buf_adds(&zu, "&scope=");
			html_url_encode(&zu, want_scope, strlen(want_scope));
		}
		buf_reset(&b);
		svg_timeseries(&b, &(struct svg_ts){
			.title = mt->name, .unit = unit_text(r, mt->unit.base, mt->unit.prefix),
			.width = PLOT_WIDTH, .height = PLOT_HEIGHT, .t0 = (double)i0 * ts, .timestep = ts,
			.series = ser, .nseries = mt->nseries, .band = many ? &band : NULL, .band_only = many && mt->nseries > 16,
			.thresholds = mc && color_bg ? &th : NULL, .zoom_url = zu.data, .zoom_base = 0,
		});
		struct json_object *p = json_object_new_object();
		add_s(p, "name", mt->name);
		add_s(p, "scope", mt->scope);
		add_markup(p, "svg", &b);
		bytes += b.len + 128;
		json_object_array_add(plots, p);
	}
	json_object_object_add(m, "has_plots", json_object_new_boolean(json_object_array_length(plots) > 0));
	json_object_object_add(m, "plots", plots);

	/* scope choices that the data offers */
	struct json_object *scopes = json_object_new_array();
	static const char *const all[] = {"node", "socket", "memoryDomain", "core", "hwthread", "accelerator"};
	for (size_t s = 0; s < 6; s++) {
		bool have = false;
		for (size_t i = 0; i < d->nmetrics && !have; i++)
			have = strcmp(d->metrics[i]->scope, all[s]) == 0;
		if (!have)
			continue;
		struct json_object *o = json_object_new_object();
		add_s(o, "name", all[s]);
		if (want_scope && strcmp(want_scope, all[s]) == 0)
			json_object_object_add(o, "selected", json_object_new_boolean(1));
		json_object_array_add(scopes, o);
	}
	json_object_object_add(m, "scopes", scopes);

	/* statistics per host (node scope) */
	struct json_object *hosts = json_object_new_array(), *cols = json_object_new_array();
	struct jobdata_metric *nodes[64];
	size_t nn = 0;
	for (size_t i = 0; i < np && nn < 64; i++)
		if (strcmp(pick[i]->scope, "node") == 0) {
			nodes[nn++] = pick[i];
			json_object_array_add(cols, json_object_new_string(pick[i]->name));
		}
	if (nn) {
		struct jobdata_metric *first = nodes[0];
		for (size_t h = 0; h < first->nseries; h++) {
			struct json_object *row = json_object_new_object(), *cells = json_object_new_array();
			add_s(row, "host", first->series[h].hostname);
			for (size_t k = 0; k < nn; k++) {
				struct jobdata_stats st = {NAN, NAN, NAN};
				for (size_t s = 0; s < nodes[k]->nseries; s++)
					if (strcmp(nodes[k]->series[s].hostname, first->series[h].hostname) == 0) {
						st = nodes[k]->series[s].stats;
						if (!isfinite(st.avg))
							jobdata_series_stats(nodes[k]->series[s].data, nodes[k]->series[s].len, &st);
					}
				struct json_object *c = json_object_new_object();
				add_s(c, "min", isfinite(st.min) ? arena_printf(r->a, "%.2f", st.min) : "–");
				add_s(c, "avg", isfinite(st.avg) ? arena_printf(r->a, "%.2f", st.avg) : "–");
				add_s(c, "max", isfinite(st.max) ? arena_printf(r->a, "%.2f", st.max) : "–");
				json_object_array_add(cells, c);
				bytes += 160;
			}
			json_object_object_add(row, "cells", cells);
			json_object_array_add(hosts, row);
		}
	}
	json_object_object_add(m, "stat_columns", cols);
	json_object_object_add(m, "stat_hosts", hosts);

	/* roofline: flops_any over arithmetic intensity, per node and time step */
	struct jobdata_metric *fl = jobdata_find(d, "flops_any", "node"), *bw = jobdata_find(d, "mem_bw", "node");
	if (fl && bw && sc) {
		size_t cap = ROOFLINE_MAX_POINTS, n = 0, total = 0;
		for (size_t s = 0; s < fl->nseries; s++)
			total += fl->series[s].len;
		size_t stride = total / cap + 1;
		double *x = arena_alloc(r->a, cap * sizeof(double)), *y = arena_alloc(r->a, cap * sizeof(double));
		for (size_t s = 0; s < fl->nseries && s < bw->nseries; s++) {
			size_t len = fl->series[s].len < bw->series[s].len ? fl->series[s].len : bw->series[s].len;
			for (size_t t = s % stride; t < len && n < cap; t += stride) {
				double f = fl->series[s].data[t], mb = bw->series[s].data[t];
				if (isfinite(f) && isfinite(mb) && f > 0 && mb > 0) {
					x[n] = f / mb;
					y[n] = f;
					n++;
				}
			}
		}
		int e;
		double scale_bw = unit_prefix_exponent(sc->memory_bandwidth.unit.prefix, &e) == 0 ? pow(10, e - 9) : 1;
		double scale_fs = unit_prefix_exponent(sc->flop_rate_scalar.unit.prefix, &e) == 0 ? pow(10, e - 9) : 1;
		double scale_fv = unit_prefix_exponent(sc->flop_rate_simd.unit.prefix, &e) == 0 ? pow(10, e - 9) : 1;
		buf_reset(&b);
		svg_roofline(&b, &(struct svg_roofline){
			.title = "Roofline (flops_any over mem_bw)", .width = 420, .height = 300,
			.mem_bw = sc->memory_bandwidth.value * scale_bw,
			.flops_scalar = sc->flop_rate_scalar.value * scale_fs,
			.flops_simd = sc->flop_rate_simd.value * scale_fv, .intensity = x, .perf = y, .n = n});
		add_markup(m, "roofline_svg", &b);
		bytes += b.len;
	}
	return bytes;
}

/* the data part of the page: rendered once per view and kept with the data */
static void data_model(struct req *r, const struct jobrow *j, const struct subcluster *sc,
		       struct jobdata *d, struct json_object *m)
{
	/* zoom: from/to in seconds since the start */
	int64_t from = 0, to = 0, v;
	const char *pf = req_param(r, "from"), *pt = req_param(r, "to");
	if (pf && str_to_i64(pf, 0, INT32_MAX, &v) == 0)
		from = v;
	if (pt && str_to_i64(pt, 1, INT32_MAX, &v) == 0 && v > from)
		to = v;
	if (from || to) {
		json_object_object_add(m, "zoomed", json_object_new_boolean(1));
		add_s(m, "zoom_range", arena_printf(r->a, "%llds – %llds", (long long)from, (long long)to));
	}
	const char *want_scope = req_param(r, "scope");
	/* the viewer's settings: plots per row, threshold background */
	struct json_object *ucfg = usercfg_load(r);
	bool color_bg = usercfg_color_background(ucfg);
	add_s(m, "plot_col_class", usercfg_plot_col_class(usercfg_plots_per_row(ucfg)));

	/* the job's id is in the zoom links: part of the key with the view */
	const char *key = arena_printf(r->a, "%s|%lld|%lld|%s|%d", j->id, (long long)from, (long long)to,
				       want_scope ? want_scope : "", color_bg);
	struct cached *ce = cache_entry_of(d);
	struct json_object *dm = view_get(ce, key);
	if (!dm) {
		dm = arena_cleanup_add(r->a, jsonio_put, json_object_new_object());
		size_t bytes = data_render(r, j, sc, d, dm, from, to, want_scope, color_bg);
		view_put(ce, key, dm, bytes + strlen(key));
	}
	json_object_object_foreach(dm, k, val)
		json_object_object_add(m, k, json_object_get(val));
}

int h_job_show(struct req *r, struct resp *w)
{
	int64_t id;
	if (str_to_i64(r->path_args[0], 1, INT64_MAX, &id) < 0) {
		w->error = "There is no job with this id.";
		return 404;
	}
	struct jobrow j;
	int found = load_row(r, id, &j);
	if (found < 0) {
		w->error = "The database does not answer; try again in a moment.";
		return 503;
	}
	if (!found) {
		/* unknown and not visible look the same (COMPAT f: 404, not 403) */
		w->error = "There is no job with this id, or you may not see it.";
		return 404;
	}
	struct json_object *m = page_model(r, w, arena_printf(r->a, "Job %s", j.job_id));
	struct json_object *meta = parse_json(r, j.meta_data), *res = parse_json(r, j.resources);
	info_model(r, &j, m, meta, res);

	const struct archive_cluster *ac = archive_cluster(the_app->archive, j.cluster);
	const struct subcluster *sc = ac ? cluster_subcluster(ac->model, j.subcluster) : NULL;
	footprint_model(r, &j, sc, m, parse_json(r, j.footprint), parse_json(r, j.statistics));
	energy_model(r, &j, m, parse_json(r, j.energy_footprint));

	/* metric data: from the archive once the job is archived */
	if (strcmp(j.state, "running") == 0) {
		/* a running job's metrics come from its metric repository, kept a minute */
		char key[64], err[512] = "";
		snprintf(key, sizeof(key), "running:%s", j.id);
		struct jobdata *d = cache_get(key);
		if (!d) {
			struct job job;
			if (db_job_get(r->a, id, r->user, 0, &job) == 1 &&
			    metrics_load_running(&job, NULL, 0, 0, &d, err, sizeof(err)) == METRICS_OK && d) {
				cache_put(key, d, time(NULL) + RUNNING_CACHE_SECONDS);
				d = cache_get(key);
			} else {
				add_s(m, "data_note", arena_printf(r->a, "This job is running; its metrics cannot be shown now: %s",
								 *err ? err : "no metric repository answers for it"));
			}
		}
		if (d)
			data_model(r, &j, sc, d, m);
	} else {
		char key[1024], err[512];
		struct jobdata *d = NULL;
		if (archive_job_key(j.cluster, atoll(j.job_id), j.start, key, sizeof(key)) == 0) {
			d = cache_get(key);
			if (!d) {
				size_t len;
				char *raw = archive_read_data(the_app->archive, key, &len, err, sizeof(err));
				if (raw) {
					d = jobdata_decode(raw, len, NULL, err, sizeof(err));
					free(raw);
					if (d)
						cache_put(key, d, 0);
					d = cache_get(key);
				}
				if (!d) {
					/* this job's page only: an error card, not a 500 */
					log_warn("job %s: metric data unreadable: %s", j.id, err);
					add_s(m, "data_error", arena_printf(r->a, "The metric data of this job cannot be read: %s", err));
				}
			}
		}
		if (d)
			data_model(r, &j, sc, d, m);
	}
	return page_render(r, w, 200, "job", m);
}
