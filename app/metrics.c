/* metrics: configuration, routing, query plans, HTTP and the assembly of a
 * job's data; the repositories' own protocols are in metrics_ccms.c and
 * metrics_prom.c. */
#include "config.h"
#include "metrics.h"
#include "app.h"
#include "archive.h"
#include "arena.h"
#include "buf.h"
#include "conf.h"
#include "job.h"
#include "jsonio.h"
#include "log.h"
#include "str.h"
#include "xalloc.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define METRICS_MAX_EXPR 4096

/* ------------------------------------------------------------ configuration */

static bool valid_url(const char *u)
{
	return (str_starts(u, "http://") && u[7]) || (str_starts(u, "https://") && u[8]);
}

static char *url_dup(const char *u)
{
	char *s = xstrdup(u);
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

static bool valid_metric_name(const char *s)
{
	if (!*s || strlen(s) > 128)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

static bool valid_label_name(const char *s)
{
	if (!*s || strlen(s) > 128 || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static struct metrics_repo *repo_add(struct metrics_repos *r)
{
	r->repo = xrealloc(r->repo, (r->n + 1) * sizeof(*r->repo));
	struct metrics_repo *m = &r->repo[r->n++];
	memset(m, 0, sizeof(*m));
	return m;
}

/* scope, url (and token) of one entry */
static int common_keys(struct json_object *e, const char *file, const char *key, bool token_required,
		       struct metrics_repo *m, char *err, size_t errlen)
{
	const char *scope = jsonio_str(e, "scope"), *url = jsonio_str(e, "url"), *token = jsonio_str(e, "token");
	if (!scope || !*scope) {
		snprintf(err, errlen, "%s: %s.scope: required: \"<cluster>-<subcluster>\", \"<cluster>\" or \"*\"", file, key);
		return -1;
	}
	if (!url || !valid_url(url)) {
		snprintf(err, errlen, "%s: %s.url: expected an http:// or https:// URL, got \"%.200s\"", file, key, url ? url : "");
		return -1;
	}
	if (token_required && !token) {
		snprintf(err, errlen, "%s: %s.token: required (the JWT the metric store accepts)", file, key);
		return -1;
	}
	m->scope = xstrdup(scope);
	m->url = url_dup(url);
	m->token = xstrdup(token ? token : "");
	return 0;
}

struct metrics_repos *metrics_repos_from_conf(struct json_object *root, const char *file, char *err, size_t errlen)
{
	struct metrics_repos *r = xcalloc(1, sizeof(*r));
	struct json_object *mse = jsonio_get(root, "metric-store-external");
	if (mse && json_object_is_type(mse, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(mse); i++) {
			char key[64];
			snprintf(key, sizeof(key), "metric-store-external[%zu]", i);
			struct metrics_repo *m = repo_add(r);
			m->kind = METRICS_CCMS;
			if (common_keys(json_object_array_get_idx(mse, i), file, key, true, m, err, errlen) < 0)
				goto fail;
		}
	}
	struct json_object *prom = jsonio_get(jsonio_get(root, "main"), "prometheus");
	if (prom && json_object_is_type(prom, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(prom); i++) {
			char key[64];
			snprintf(key, sizeof(key), "main.prometheus[%zu]", i);
			struct json_object *e = json_object_array_get_idx(prom, i);
			struct metrics_repo *m = repo_add(r);
			m->kind = METRICS_PROM;
			if (common_keys(e, file, key, false, m, err, errlen) < 0)
				goto fail;
			const char *hl = jsonio_str(e, "host-label");
			if (hl && !valid_label_name(hl)) {
				snprintf(err, errlen, "%s: %s.host-label: expected a Prometheus label name, got \"%.100s\"", file, key, hl);
				goto fail;
			}
			m->host_label = xstrdup(hl ? hl : "instance");
			struct json_object *qs = jsonio_get(e, "queries");
			if (!qs)
				continue;
			m->queries = xcalloc((size_t)json_object_object_length(qs) + 1, sizeof(*m->queries));
			json_object_object_foreach(qs, name, v) {
				if (!valid_metric_name(name)) {
					snprintf(err, errlen, "%s: %s.queries: \"%.100s\" is not a metric name", file, key, name);
					goto fail;
				}
				const char *x = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
				if (!x || !*x || strlen(x) > METRICS_MAX_EXPR) {
					snprintf(err, errlen, "%s: %s.queries.%s: expected a PromQL expression of 1 to %d bytes, got %s",
						 file, key, name, METRICS_MAX_EXPR, x ? "a longer string" : jsonio_type_name(v));
					goto fail;
				}
				if (!strstr(x, "$host")) {
					snprintf(err, errlen, "%s: %s.queries.%s: the expression must select the job's hosts with \"$host\" in a regex matcher, e.g. {instance=~\"$host\"}",
						 file, key, name);
					goto fail;
				}
				m->queries[m->nqueries].metric = xstrdup(name);
				m->queries[m->nqueries].expr = xstrdup(x);
				m->nqueries++;
			}
		}
	}
	return r;
fail:
	metrics_repos_free(r);
	return NULL;
}

void metrics_repos_free(struct metrics_repos *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		struct metrics_repo *m = &r->repo[i];
		free(m->scope);
		free(m->url);
		free(m->token);
		free(m->host_label);
		for (size_t k = 0; k < m->nqueries; k++) {
			free(m->queries[k].metric);
			free(m->queries[k].expr);
		}
		free(m->queries);
	}
	free(r->repo);
	free(r);
}

const struct metrics_repo *metrics_route(const struct metrics_repos *r, const char *cluster, const char *subcluster)
{
	if (!r || !cluster)
		return NULL;
	char key[512];
	snprintf(key, sizeof(key), "%s-%s", cluster, subcluster ? subcluster : "");
	const char *keys[] = {subcluster && *subcluster ? key : NULL, cluster, "*"};
	for (size_t k = 0; k < 3; k++) {
		if (!keys[k])
			continue;
		for (int kind = METRICS_CCMS; kind <= METRICS_PROM; kind++)
			for (size_t i = 0; i < r->n; i++)
				if ((int)r->repo[i].kind == kind && strcmp(r->repo[i].scope, keys[k]) == 0)
					return &r->repo[i];
	}
	return NULL;
}

/* -------------------------------------------------------------------- plan */

/* A unit of a CPU scope on one host: its index and its hwthreads. */
struct cpu_unit {
	int index;
	const int *hw;
	size_t nhw;
};

static bool intersects(const int *a, size_t na, const int *b, size_t nb)
{
	for (size_t i = 0; i < na; i++)
		for (size_t k = 0; k < nb; k++)
			if (a[i] == b[k])
				return true;
	return false;
}

/* The units of scope s that hold any of the job's hwthreads hw; arena array. */
static struct cpu_unit *units_of(struct arena *a, const struct topology *t, enum metric_scope s,
			     const int *hw, size_t nhw, size_t *n)
{
	const struct topo_groups *g = NULL;
	struct cpu_unit *u;
	*n = 0;
	switch (s) {
	case SCOPE_NODE:
		u = arena_alloc(a, sizeof(*u));
		u[0] = (struct cpu_unit){0, hw, nhw};
		*n = 1;
		return u;
	case SCOPE_HWTHREAD:
		u = arena_calloc(a, nhw ? nhw : 1, sizeof(*u));
		for (size_t i = 0; i < nhw; i++)
			u[(*n)++] = (struct cpu_unit){hw[i], &hw[i], 1};
		return u;
	case SCOPE_CORE: g = &t->core; break;
	case SCOPE_SOCKET: g = &t->socket; break;
	case SCOPE_MEMORY_DOMAIN: g = &t->memory_domain; break;
	default: return NULL;
	}
	u = arena_calloc(a, g->n ? g->n : 1, sizeof(*u));
	for (size_t i = 0; i < g->n; i++)
		if (intersects(g->group[i].id, g->group[i].n, hw, nhw))
			u[(*n)++] = (struct cpu_unit){(int)i, g->group[i].id, g->group[i].n};
	return u;
}

static struct metrics_query *plan_add(struct metrics_plan *p)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct metrics_query *q = arena_calloc(p->a, cap, sizeof(*q));
		if (p->n)
			memcpy(q, p->q, p->n * sizeof(*q));
		p->q = q;
		p->cap = cap;
	}
	struct metrics_query *q = &p->q[p->n++];
	memset(q, 0, sizeof(*q));
	return q;
}

static const char *itoa_a(struct arena *a, int v)
{
	return arena_printf(a, "%d", v);
}

static void set_results(struct arena *a, struct metrics_query *q)
{
	q->results = arena_calloc(a, q->nresults ? q->nresults : 1, sizeof(*q->results));
	for (size_t i = 0; i < q->nresults; i++)
		q->results[i].stats = (struct jobdata_stats){NAN, NAN, NAN};
}

/* The queries of metric mc at scope want on one host. */
static void plan_host(struct metrics_plan *p, const struct metric_config *mc, enum metric_scope want,
		      const struct job_resource *res, const struct topology *topo)
{
	struct arena *a = p->a;
	enum metric_scope native = mc->scope;
	if (native == SCOPE_ACCELERATOR || want == SCOPE_ACCELERATOR) {
		if (native != SCOPE_ACCELERATOR || (want != SCOPE_ACCELERATOR && want != SCOPE_NODE) ||
		    res->naccelerators == 0)
			return;
		struct metrics_query *q = plan_add(p);
		q->mc = mc;
		q->scope = want;
		q->host = res->hostname;
		q->type = scope_name(SCOPE_ACCELERATOR);
		q->type_ids = arena_calloc(a, res->naccelerators, sizeof(char *));
		for (size_t i = 0; i < res->naccelerators; i++)
			q->type_ids[i] = res->accelerators[i];
		q->ntype_ids = res->naccelerators;
		q->aggregate = want == SCOPE_NODE;
		q->nresults = q->aggregate ? 1 : q->ntype_ids;
		q->series_ids = arena_calloc(a, q->nresults, sizeof(char *));
		if (!q->aggregate)
			for (size_t i = 0; i < q->nresults; i++)
				q->series_ids[i] = q->type_ids[i];
		set_results(a, q);
		return;
	}
	if (scope_cmp(want, native) < 0)
		return; /* the store has nothing finer than the native scope */
	if (native == SCOPE_NODE) {
		struct metrics_query *q = plan_add(p);
		q->mc = mc;
		q->scope = SCOPE_NODE;
		q->host = res->hostname;
		q->nresults = 1;
		q->series_ids = arena_calloc(a, 1, sizeof(char *));
		set_results(a, q);
		return;
	}
	/* the job's hwthreads on this host: its own list, else the whole node */
	const int *hw;
	size_t nhw;
	if (res->nhwthreads) {
		int *v = arena_calloc(a, res->nhwthreads, sizeof(int));
		for (size_t i = 0; i < res->nhwthreads; i++)
			v[i] = res->hwthreads[i];
		hw = v;
		nhw = res->nhwthreads;
	} else {
		hw = topo->node.id;
		nhw = topo->node.n;
	}
	size_t nn, nw;
	struct cpu_unit *un = units_of(a, topo, native, hw, nhw, &nn);
	struct cpu_unit *uw = units_of(a, topo, want, hw, nhw, &nw);
	if (nn == 0 || nw == 0)
		return;
	if (want == native || want == SCOPE_NODE) {
		struct metrics_query *q = plan_add(p);
		q->mc = mc;
		q->scope = want;
		q->host = res->hostname;
		q->type = scope_name(native);
		q->type_ids = arena_calloc(a, nn, sizeof(char *));
		for (size_t i = 0; i < nn; i++)
			q->type_ids[i] = itoa_a(a, un[i].index);
		q->ntype_ids = nn;
		q->aggregate = want == SCOPE_NODE;
		q->nresults = q->aggregate ? 1 : nn;
		q->series_ids = arena_calloc(a, q->nresults, sizeof(char *));
		if (!q->aggregate)
			for (size_t i = 0; i < nn; i++)
				q->series_ids[i] = q->type_ids[i];
		set_results(a, q);
		return;
	}
	/* a coarser unit made of native units: one aggregated query each */
	for (size_t w = 0; w < nw; w++) {
		const char **ids = arena_calloc(a, nn, sizeof(char *));
		size_t k = 0;
		for (size_t i = 0; i < nn; i++) {
			/* a native unit belongs to the coarser one that holds its hwthreads (and the job's) */
			if (intersects(un[i].hw, un[i].nhw, uw[w].hw, uw[w].nhw) &&
			    (native == SCOPE_HWTHREAD || intersects(un[i].hw, un[i].nhw, hw, nhw)))
				ids[k++] = itoa_a(a, un[i].index);
		}
		if (!k)
			continue;
		struct metrics_query *q = plan_add(p);
		q->mc = mc;
		q->scope = want;
		q->host = res->hostname;
		q->type = scope_name(native);
		q->type_ids = ids;
		q->ntype_ids = k;
		q->aggregate = true;
		q->nresults = 1;
		q->series_ids = arena_calloc(a, 1, sizeof(char *));
		q->series_ids[0] = itoa_a(a, uw[w].index);
		set_results(a, q);
	}
}

static bool wanted(const char *const *metrics, const char *name)
{
	if (!metrics)
		return true;
	for (; *metrics; metrics++)
		if (strcmp(*metrics, name) == 0)
			return true;
	return false;
}

int metrics_plan_build(struct arena *a, const struct job *j, const struct subcluster *sc,
		       const struct metrics_request *rq, struct metrics_plan *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->a = a;
	out->cluster = j->cluster ? j->cluster : "";
	out->from = rq->from;
	out->to = rq->to;
	out->resolution = rq->resolution;
	out->stats_only = rq->stats_only;
	if (j->nresources == 0) {
		snprintf(err, errlen, "job %lld has no hosts (resources is empty)", (long long)j->job_id);
		return -1;
	}
	unsigned scopes = rq->scopes ? rq->scopes : METRICS_SCOPE(SCOPE_NODE);
	for (size_t m = 0; m < sc->nmetrics; m++) {
		const struct metric_config *mc = &sc->metrics[m];
		if (!wanted(rq->metrics, mc->name))
			continue;
		for (int s = 0; s < SCOPE__MAX; s++) {
			if (!(scopes & METRICS_SCOPE(s)))
				continue;
			for (size_t h = 0; h < j->nresources; h++)
				if (j->resources[h].hostname && *j->resources[h].hostname)
					plan_host(out, mc, (enum metric_scope)s, &j->resources[h], &sc->topology);
		}
	}
	return 0;
}

/* ----------------------------------------------------------------- assembly */

struct jobdata *metrics_assemble(const struct metrics_plan *p, size_t *missing, const char **first_error)
{
	struct jobdata *d = jobdata_new();
	*missing = 0;
	if (first_error)
		*first_error = NULL;
	for (size_t i = 0; i < p->n;) {
		/* one (metric, scope) pair: consecutive queries */
		size_t end = i;
		while (end < p->n && p->q[end].mc == p->q[i].mc && p->q[end].scope == p->q[i].scope)
			end++;
		size_t good = 0;
		int step = 0;
		for (size_t k = i; k < end; k++)
			for (size_t r = 0; r < p->q[k].nresults; r++) {
				const struct metrics_result *res = &p->q[k].results[r];
				if (res->skip)
					continue;
				if (res->done && !res->error) {
					good++;
					if (!step && res->resolution > 0)
						step = res->resolution;
				} else {
					(*missing)++;
					if (first_error && !*first_error)
						*first_error = res->error ? res->error : "no answer";
				}
			}
		if (good) {
			const struct metric_config *mc = p->q[i].mc;
			if (!step)
				step = p->resolution > 0 ? p->resolution : mc->timestep;
			struct jobdata_metric *jm = jobdata_add_metric(d, mc->name, scope_name(p->q[i].scope), mc->unit.base,
								       mc->unit.prefix, step, good);
			size_t s = 0;
			for (size_t k = i; k < end; k++)
				for (size_t r = 0; r < p->q[k].nresults; r++) {
					const struct metrics_result *res = &p->q[k].results[r];
					if (res->skip || !res->done || res->error)
						continue;
					double *v = jobdata_set_series(d, jm, s, p->q[k].host, p->q[k].series_ids[r], res->len);
					if (res->len)
						memcpy(v, res->data, res->len * sizeof(double));
					jm->series[s].stats = res->stats;
					s++;
				}
		}
		i = end;
	}
	if (d->nmetrics == 0) {
		jobdata_free(d);
		return NULL;
	}
	jobdata_fill_stats(d, false);
	return d;
}

/* -------------------------------------------------------------------- HTTP */

void metrics_url_display(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://");
	const char *host = p ? p + 3 : url;
	size_t scheme = p ? (size_t)(host - url) : 0;
	const char *end = host + strcspn(host, "?#");
	const char *at = memchr(host, '@', (size_t)(end - host));
	const char *slash = memchr(host, '/', (size_t)(end - host));
	if (at && (!slash || at < slash))
		host = at + 1;
	snprintf(out, n, "%.*s%.*s", (int)scheme, url, (int)(end - host), host);
}

static volatile sig_atomic_t *abort_flag;

void metrics_set_abort_flag(volatile sig_atomic_t *flag)
{
	abort_flag = flag;
}

struct sink {
	struct buf *b;
	size_t max;
	bool over;
};

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;
	size_t len = size * n;
	if (s->b->len + len > s->max) {
		s->over = true;
		return 0;
	}
	buf_add(s->b, p, len);
	return len;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)ctx; (void)dt; (void)dn; (void)ut; (void)un;
	return abort_flag && *abort_flag ? 1 : 0;
}

int metrics_http(const char *what, const char *method, const char *url, const char *token,
		 const char *content_type, const char *body, size_t bodylen, long timeout_s, size_t max_bytes,
		 struct buf *resp, long *status, char *err, size_t errlen)
{
	char shown[512];
	metrics_url_display(url, shown, sizeof(shown));
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "%s %s: cannot set up an HTTP client (libcurl)", what, shown);
		return -1;
	}
	struct curl_slist *h = NULL;
	struct buf auth = BUF_INIT;
	if (token && *token) {
		buf_addf(&auth, "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth.data);
	}
	if (content_type) {
		char ct[128];
		snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
		h = curl_slist_append(h, ct);
	}
	h = curl_slist_append(h, "Accept: application/json");
	h = curl_slist_append(h, "Expect:");
	char ebuf[CURL_ERROR_SIZE] = "";
	struct sink s = {resp, max_bytes, false};
	buf_reset(resp);
	curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout_s < 5 ? timeout_s : 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "jobscope/" PACKAGE_VERSION);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bodylen);
	}
	if (method && strcmp(method, body ? "POST" : "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	CURLcode rc = curl_easy_perform(c);
	int ret = 0;
	if (rc != CURLE_OK) {
		long oserr = 0;
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
		if (rc == CURLE_OPERATION_TIMEDOUT)
			snprintf(err, errlen, "%s %s: timeout after %ld s", what, shown, timeout_s);
		else if (rc == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED)
			snprintf(err, errlen, "%s %s: connection refused", what, shown);
		else if (rc == CURLE_WRITE_ERROR && s.over)
			snprintf(err, errlen, "%s %s: response larger than %zu bytes", what, shown, max_bytes);
		else if (rc == CURLE_ABORTED_BY_CALLBACK)
			snprintf(err, errlen, "%s %s: aborted (shutting down)", what, shown);
		else
			snprintf(err, errlen, "%s %s: %s", what, shown, *ebuf ? ebuf : curl_easy_strerror(rc));
		ret = -1;
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	}
	curl_slist_free_all(h);
	/* the header held the token: wipe our copy */
	if (auth.len)
		memset(auth.data, 0, auth.len);
	buf_release(&auth);
	curl_easy_cleanup(c);
	return ret;
}

/* ------------------------------------------------------------------ loading */

int metrics_load(const struct job *j, const struct metrics_request *rq, struct jobdata **out,
		 char *err, size_t errlen)
{
	*out = NULL;
	err[0] = '\0';
	const struct archive_cluster *ac = the_app && the_app->archive && j->cluster
						   ? archive_cluster(the_app->archive, j->cluster) : NULL;
	if (!ac) {
		snprintf(err, errlen, "cluster \"%s\" is not in the job archive (no cluster.json)", j->cluster ? j->cluster : "");
		return METRICS_UNAVAILABLE;
	}
	const struct subcluster *sc = j->subcluster && *j->subcluster ? cluster_subcluster(ac->model, j->subcluster) : NULL;
	if (!sc && j->nresources)
		sc = cluster_subcluster_for_host(ac->model, j->resources[0].hostname);
	if (!sc) {
		snprintf(err, errlen, "cluster %s has no subcluster \"%s\"", j->cluster, j->subcluster ? j->subcluster : "");
		return METRICS_UNAVAILABLE;
	}
	const struct metrics_repo *r = metrics_route(the_app->conf->metric_repos, j->cluster, sc->name);
	if (!r) {
		snprintf(err, errlen, "no metric repository is configured for cluster %s (subcluster %s): add a metric-store-external or main.prometheus entry with scope \"%s-%s\", \"%s\" or \"*\"",
			 j->cluster, sc->name, j->cluster, sc->name, j->cluster);
		return METRICS_UNAVAILABLE;
	}
	if (rq->to <= rq->from) {
		snprintf(err, errlen, "job %lld: empty time range [%lld, %lld]", (long long)j->job_id,
			 (long long)rq->from, (long long)rq->to);
		return METRICS_UNAVAILABLE;
	}
	struct arena a;
	arena_init(&a, 64 * 1024);
	struct metrics_plan p;
	int rc = METRICS_OK;
	if (metrics_plan_build(&a, j, sc, rq, &p, err, errlen) < 0) {
		rc = METRICS_UNAVAILABLE;
		goto done;
	}
	if (p.n == 0) {
		snprintf(err, errlen, "none of the requested metrics exists on %s/%s", j->cluster, sc->name);
		rc = METRICS_UNAVAILABLE;
		goto done;
	}
	int lrc = r->kind == METRICS_CCMS ? ccms_load(r, &p, err, errlen) : prom_load(r, &p, err, errlen);
	if (lrc < 0) {
		rc = METRICS_ERROR;
		goto done;
	}
	size_t missing, offered = 0;
	for (size_t i = 0; i < p.n; i++)
		for (size_t k = 0; k < p.q[i].nresults; k++)
			offered += !p.q[i].results[k].skip;
	char shown[512];
	metrics_url_display(r->url, shown, sizeof(shown));
	if (!offered) {
		snprintf(err, errlen, "Prometheus %s offers none of the requested metrics of %s (no PromQL in main.prometheus[].queries and no built-in one)",
			 shown, j->cluster);
		rc = METRICS_UNAVAILABLE;
		goto done;
	}
	const char *first = NULL;
	*out = metrics_assemble(&p, &missing, &first);
	if (!*out) {
		snprintf(err, errlen, "%s %s: no data for job %lld on %s: %s", r->kind == METRICS_CCMS ? "metric store" : "Prometheus",
			 shown, (long long)j->job_id, j->cluster, first ? first : "no series");
		rc = METRICS_ERROR;
	} else if (missing) {
		snprintf(err, errlen, "%zu series could not be loaded (first: %s)", missing, first ? first : "no answer");
	}
done:
	arena_release(&a);
	return rc;
}

int metrics_load_running(const struct job *j, const char *const *metrics, unsigned scopes, int resolution,
			 struct jobdata **out, char *err, size_t errlen)
{
	struct metrics_request rq = {
		.metrics = metrics,
		.scopes = scopes,
		.from = j->start_time,
		.to = (int64_t)time(NULL),
		.resolution = resolution,
	};
	if (rq.to <= rq.from)
		rq.to = rq.from + 1;
	return metrics_load(j, &rq, out, err, errlen);
}
