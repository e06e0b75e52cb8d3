/* metrics_prom: Prometheus as a metric repository (jobscope's own addition).
 *
 * One PromQL expression per metric (configured in main.prometheus[].queries,
 * else a built-in one for node-exporter metrics), with "$host" standing for
 * the job's hosts as a regex alternation.  For each metric and batch of hosts:
 *   POST <url>/api/v1/query_range  query=...&start=<from>&end=<to>&step=<timestep>
 * The series of the answer are assigned to hosts by their host label
 * (default "instance"): equal to a host or starting with it and then '.' or
 * ':'.  Everything is node scope. */
#include "config.h"
#include "metrics.h"
#include "arena.h"
#include "buf.h"
#include "jsonio.h"
#include "log.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROM_MAX_ANSWER ((size_t)256 << 20)

struct default_query {
	const char *metric, *expr;
};

/* node-exporter metrics in base units */
static const struct default_query defaults[] = {
	{"cpu_load", "node_load1{$label=~\"$host\"}"},
	{"cpu_user", "100 * avg by ($label) (rate(node_cpu_seconds_total{mode=\"user\",$label=~\"$host\"}[$rate]))"},
	{"mem_used", "node_memory_MemTotal_bytes{$label=~\"$host\"} - node_memory_MemAvailable_bytes{$label=~\"$host\"}"},
	{"net_bw", "sum by ($label) (rate(node_network_receive_bytes_total{device!=\"lo\",$label=~\"$host\"}[$rate]) + "
		   "rate(node_network_transmit_bytes_total{device!=\"lo\",$label=~\"$host\"}[$rate]))"},
	{"file_bw", "sum by ($label) (rate(node_disk_read_bytes_total{$label=~\"$host\"}[$rate]) + "
		    "rate(node_disk_written_bytes_total{$label=~\"$host\"}[$rate]))"},
	{NULL, NULL},
};

const char *prom_default_query(const char *metric)
{
	for (const struct default_query *d = defaults; d->metric; d++)
		if (strcmp(d->metric, metric) == 0)
			return d->expr;
	return NULL;
}

void prom_escape_host(const char *host, struct buf *out)
{
	static const char meta[] = "\\.+*?()|[]{}^$";
	for (const unsigned char *p = (const unsigned char *)host; *p; p++) {
		if (*p && strchr(meta, *p))
			buf_adds(out, "\\\\"); /* a regex backslash, escaped for the string */
		if (*p == '\\')
			buf_adds(out, "\\\\");
		else if (*p == '"')
			buf_adds(out, "\\\"");
		else if (*p < 0x20 || *p >= 0x7f)
			buf_addf(out, "\\x%02x", *p);
		else
			buf_addch(out, (char)*p);
	}
}

void prom_expand(const char *tmpl, const char *label, const char *const *hosts, size_t nhosts, int step,
		 struct buf *out)
{
	for (const char *p = tmpl; *p;) {
		if (strncmp(p, "$host", 5) == 0) {
			buf_adds(out, "(?:");
			for (size_t i = 0; i < nhosts; i++) {
				if (i)
					buf_addch(out, '|');
				prom_escape_host(hosts[i], out);
			}
			buf_adds(out, ")(?:[.:].*)?");
			p += 5;
		} else if (strncmp(p, "$rate", 5) == 0) {
			int r = 4 * step > 60 ? 4 * step : 60;
			buf_addf(out, "%ds", r);
			p += 5;
		} else if (strncmp(p, "$label", 6) == 0) {
			buf_adds(out, label);
			p += 6;
		} else {
			buf_addch(out, *p++);
		}
	}
}

int prom_match_host(const char *label, const char *const *hosts, size_t nhosts)
{
	int best = -1;
	size_t bestlen = 0;
	for (size_t i = 0; i < nhosts; i++) {
		size_t n = strlen(hosts[i]);
		if (strncmp(label, hosts[i], n) == 0 && (label[n] == '\0' || label[n] == '.' || label[n] == ':') &&
		    (best < 0 || n > bestlen)) {
			best = (int)i;
			bestlen = n;
		}
	}
	return best;
}

static struct json_object *parse_answer(const char *body, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new_ex(16);
	if (!tok || len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "answer too large");
		if (tok)
			json_tokener_free(tok);
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *o = json_tokener_parse_ex(tok, body, (int)len);
	if (!o)
		snprintf(err, errlen, "not JSON: %s", json_tokener_error_desc(json_tokener_get_error(tok)));
	json_tokener_free(tok);
	return o;
}

/* Prometheus' own error answer, if o is one: "bad_data: parse error ..." */
static bool prom_error(struct json_object *o, char *err, size_t errlen)
{
	const char *st = jsonio_str(o, "status");
	if (!st || strcmp(st, "success") == 0)
		return false;
	const char *type = jsonio_str(o, "errorType"), *msg = jsonio_str(o, "error");
	snprintf(err, errlen, "%s: %.400s", type ? type : st, msg ? msg : "(no message)");
	return true;
}

int prom_parse_response(const char *body, size_t len, const char *host_label, const char *const *hosts,
			size_t nhosts, int64_t from, int step, size_t npoints, enum metric_aggregation agg,
			double scale, double **out, bool *seen, char *err, size_t errlen)
{
	struct json_object *o = parse_answer(body, len, err, errlen);
	if (!o)
		return -1;
	int rc = -1;
	size_t *count = calloc(nhosts * (npoints ? npoints : 1), sizeof(size_t));
	if (!count) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t h = 0; h < nhosts; h++) {
		seen[h] = false;
		for (size_t i = 0; i < npoints; i++)
			out[h][i] = NAN;
	}
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "expected an object, got %s", jsonio_type_name(o));
		goto out;
	}
	if (prom_error(o, err, errlen))
		goto out;
	struct json_object *data = jsonio_get(o, "data"), *result = jsonio_get(data, "result");
	const char *rtype = jsonio_str(data, "resultType");
	if (!result || !json_object_is_type(result, json_type_array) || !rtype || strcmp(rtype, "matrix") != 0) {
		snprintf(err, errlen, "expected data.resultType \"matrix\" and a data.result array");
		goto out;
	}
	for (size_t r = 0; r < json_object_array_length(result); r++) {
		struct json_object *s = json_object_array_get_idx(result, r);
		const char *lv = jsonio_str(jsonio_get(s, "metric"), host_label);
		struct json_object *values = jsonio_get(s, "values");
		if (!lv || !values || !json_object_is_type(values, json_type_array))
			continue; /* a series without the host label cannot be placed */
		int h = prom_match_host(lv, hosts, nhosts);
		if (h < 0)
			continue;
		seen[h] = true;
		for (size_t i = 0; i < json_object_array_length(values); i++) {
			struct json_object *pt = json_object_array_get_idx(values, i);
			if (!json_object_is_type(pt, json_type_array) || json_object_array_length(pt) != 2)
				continue;
			double t = json_object_get_double(json_object_array_get_idx(pt, 0));
			const char *vs = json_object_get_string(json_object_array_get_idx(pt, 1));
			char *end;
			double v = vs ? strtod(vs, &end) : NAN;
			if (!vs || end == vs || *end || !isfinite(v) || !isfinite(t))
				continue;
			double k = round((t - (double)from) / step);
			if (k < 0 || k >= (double)npoints)
				continue;
			size_t idx = (size_t)k;
			double *cell = &out[h][idx];
			size_t *c = &count[(size_t)h * npoints + idx];
			*cell = *c ? *cell + v * scale : v * scale;
			(*c)++;
		}
	}
	if (agg != AGGREGATION_SUM)
		for (size_t h = 0; h < nhosts; h++)
			for (size_t i = 0; i < npoints; i++)
				if (count[h * npoints + i] > 1)
					out[h][i] /= (double)count[h * npoints + i];
	rc = 0;
out:
	free(count);
	json_object_put(o);
	return rc;
}

static void form_escape(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
			buf_addch(b, (char)*p);
		else
			buf_addf(b, "%%%02X", *p);
	}
}

/* 10^-exponent of the unit prefix: built-in queries give base units */
static double unit_scale(const struct metric_config *mc)
{
	int e = 0;
	if (unit_prefix_exponent(mc->unit.prefix, &e) < 0)
		return 1.0;
	return pow(10.0, -e);
}

static const char *query_for(const struct metrics_repo *r, const struct metric_config *mc, double *scale)
{
	for (size_t i = 0; i < r->nqueries; i++)
		if (strcmp(r->queries[i].metric, mc->name) == 0) {
			*scale = 1.0;
			return r->queries[i].expr;
		}
	*scale = unit_scale(mc);
	return prom_default_query(mc->name);
}

/* One query_range request for the hosts of queries idx[0..n) (same metric). */
static int fetch(const struct metrics_repo *r, struct metrics_plan *p, const char *expr, double scale,
		 size_t *idx, size_t n, int step, char *err, size_t errlen)
{
	struct arena *a = p->a;
	const struct metric_config *mc = p->q[idx[0]].mc;
	const char **hosts = arena_calloc(a, n, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		hosts[i] = p->q[idx[i]].host;
	int64_t span = p->to - p->from;
	size_t npoints = (size_t)(span / step) + 1;
	struct buf q = BUF_INIT, body = BUF_INIT, resp = BUF_INIT;
	prom_expand(expr, r->host_label, hosts, n, step, &q);
	buf_adds(&body, "query=");
	form_escape(&body, q.data);
	buf_addf(&body, "&start=%lld&end=%lld&step=%d", (long long)p->from, (long long)p->to, step);
	char url[2048], shown[512];
	snprintf(url, sizeof(url), "%s/api/v1/query_range", r->url);
	metrics_url_display(r->url, shown, sizeof(shown));
	long status = 0;
	int rc = -1;
	if (metrics_http("Prometheus", "POST", url, r->token, "application/x-www-form-urlencoded", body.data, body.len,
			 PROM_TIMEOUT, PROM_MAX_ANSWER, &resp, &status, err, errlen) < 0)
		goto out;
	double **vals = arena_calloc(a, n, sizeof(double *));
	bool *seen = arena_calloc(a, n, sizeof(bool));
	for (size_t i = 0; i < n; i++)
		vals[i] = arena_alloc(a, npoints * sizeof(double));
	char perr[512];
	if (prom_parse_response(resp.data, resp.len, r->host_label, hosts, n, p->from, step, npoints, mc->aggregation,
				scale, vals, seen, perr, sizeof(perr)) < 0) {
		if (status != 200)
			snprintf(err, errlen, "Prometheus %s: HTTP %ld for %s: %s", shown, status, mc->name, perr);
		else
			snprintf(err, errlen, "Prometheus %s: bad answer for %s: %s", shown, mc->name, perr);
		goto out;
	}
	if (status != 200) {
		snprintf(err, errlen, "Prometheus %s: HTTP %ld for %s", shown, status, mc->name);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct metrics_result *res = &p->q[idx[i]].results[0];
		res->done = true;
		res->resolution = step;
		if (!seen[i]) {
			res->error = arena_printf(a, "Prometheus has no %s series for host %s", mc->name, hosts[i]);
			continue;
		}
		res->data = vals[i];
		res->len = p->stats_only ? 0 : npoints;
		jobdata_series_stats(vals[i], npoints, &res->stats);
	}
	rc = 0;
out:
	buf_release(&q);
	buf_release(&body);
	buf_release(&resp);
	return rc;
}

int prom_load(const struct metrics_repo *r, struct metrics_plan *p, char *err, size_t errlen)
{
	size_t *idx = arena_calloc(p->a, p->n ? p->n : 1, sizeof(size_t));
	for (size_t i = 0; i < p->n;) {
		size_t end = i;
		while (end < p->n && p->q[end].mc == p->q[i].mc)
			end++;
		const struct metric_config *mc = p->q[i].mc;
		double scale = 1.0;
		const char *expr = query_for(r, mc, &scale);
		size_t n = 0;
		for (size_t k = i; k < end; k++) {
			struct metrics_query *q = &p->q[k];
			/* Prometheus has node-level series only */
			if (!expr || q->scope != SCOPE_NODE) {
				for (size_t x = 0; x < q->nresults; x++)
					q->results[x].skip = true;
				continue;
			}
			idx[n++] = k;
		}
		int ts = p->resolution > 0 ? p->resolution : mc->timestep;
		int step = ts;
		int64_t span = p->to - p->from;
		if (span / step + 1 > PROM_MAX_POINTS) { /* coarser, in whole timesteps */
			int64_t need = span / (PROM_MAX_POINTS - 1) + 1;
			step = (int)(((need + ts - 1) / ts) * ts);
		}
		for (size_t k = 0; k < n; k += PROM_HOSTS_PER_QUERY) {
			size_t m = n - k < PROM_HOSTS_PER_QUERY ? n - k : PROM_HOSTS_PER_QUERY;
			if (fetch(r, p, expr, scale, idx + k, m, step, err, errlen) < 0)
				return -1;
		}
		i = end;
	}
	return 0;
}
