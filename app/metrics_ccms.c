/* metrics_ccms: the external cc-metric-store's query API, version 2
 * (COMPAT d.3, i).
 *
 *   GET <url>/api/query?version=v2   Authorization: Bearer <token>
 *   {"cluster":"c","from":1,"to":2,"with-stats":true,"with-data":true,
 *    "queries":[{"metric":"m","host":"h","type":"core","type-ids":["0","1"],
 *                "resolution":60,"aggreg":false}, ...]}
 * answers
 *   {"results":[[{"data":[1.5,null,...],"from":1,"to":2,"resolution":60,
 *                 "avg":1.5,"min":1.5,"max":1.5}, ...], ...]}
 * with one inner array per query: one element per type-id, or one when the
 * query is aggregated or has no type; an element may be {"error":"..."}.
 * Missing values are null (or NaN).  One request per metric keeps answers
 * (and the parse tree) bounded. */
#include "config.h"
#include "metrics.h"
#include "archive.h"
#include "arena.h"
#include "buf.h"
#include "jsonio.h"
#include "log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CCMS_MAX_QUERIES 2048
#define CCMS_MAX_ANSWER ((size_t)ARCHIVE_MAX_JSON)

void ccms_request_json(const struct metrics_plan *p, size_t first, size_t count, struct buf *out)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "cluster", json_object_new_string(p->cluster));
	json_object_object_add(o, "from", json_object_new_int64(p->from));
	json_object_object_add(o, "to", json_object_new_int64(p->to));
	json_object_object_add(o, "with-stats", json_object_new_boolean(1));
	json_object_object_add(o, "with-data", json_object_new_boolean(!p->stats_only));
	struct json_object *qs = json_object_new_array();
	for (size_t i = first; i < first + count && i < p->n; i++) {
		const struct metrics_query *q = &p->q[i];
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "metric", json_object_new_string(q->mc->name));
		json_object_object_add(e, "host", json_object_new_string(q->host));
		if (q->type) {
			json_object_object_add(e, "type", json_object_new_string(q->type));
			struct json_object *ids = json_object_new_array();
			for (size_t k = 0; k < q->ntype_ids; k++)
				json_object_array_add(ids, json_object_new_string(q->type_ids[k]));
			json_object_object_add(e, "type-ids", ids);
		}
		json_object_object_add(e, "resolution",
				       json_object_new_int(p->resolution > 0 ? p->resolution : q->mc->timestep));
		json_object_object_add(e, "aggreg", json_object_new_boolean(q->aggregate));
		json_object_array_add(qs, e);
	}
	json_object_object_add(o, "queries", qs);
	buf_adds(out, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* A number, null or NaN as a double; false for anything else. */
static bool num(struct json_object *v, double *out)
{
	if (!v) {
		*out = NAN;
		return true;
	}
	if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)) {
		*out = json_object_get_double(v);
		return true;
	}
	return false;
}

/* Parse a repository answer leniently (NaN and Infinity allowed) with a depth limit. */
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
	enum json_tokener_error e = json_tokener_get_error(tok);
	if (!o)
		snprintf(err, errlen, "not JSON: %s", e == json_tokener_continue ? "unexpected end of input"
								    : json_tokener_error_desc(e));
	json_tokener_free(tok);
	return o;
}

static void parse_result(struct arena *a, struct json_object *e, struct metrics_result *res, size_t qi, size_t k,
			 char *err, size_t errlen)
{
	res->done = true;
	if (!json_object_is_type(e, json_type_object)) {
		res->error = arena_printf(a, "results[%zu][%zu]: expected an object, got %s", qi, k, jsonio_type_name(e));
		return;
	}
	struct json_object *x;
	if (json_object_object_get_ex(e, "error", &x) && x) {
		res->error = arena_strdup(a, json_object_is_type(x, json_type_string) ? json_object_get_string(x) : "error");
		return;
	}
	(void)err;
	(void)errlen;
	double v;
	if (json_object_object_get_ex(e, "resolution", &x) && num(x, &v) && v >= 1 && v <= 86400 * 366)
		res->resolution = (int)v;
	const char *names[3] = {"min", "avg", "max"};
	double *dst[3] = {&res->stats.min, &res->stats.avg, &res->stats.max};
	for (int s = 0; s < 3; s++) {
		*dst[s] = NAN;
		if (json_object_object_get_ex(e, names[s], &x) && !num(x, dst[s]))
			*dst[s] = NAN;
	}
	struct json_object *data = NULL;
	if (!json_object_object_get_ex(e, "data", &data) || !data)
		return; /* statistics only */
	if (!json_object_is_type(data, json_type_array)) {
		res->error = arena_printf(a, "results[%zu][%zu].data: expected an array, got %s", qi, k, jsonio_type_name(data));
		return;
	}
	size_t n = json_object_array_length(data);
	res->data = n ? arena_alloc(a, n * sizeof(double)) : NULL;
	res->len = n;
	for (size_t i = 0; i < n; i++) {
		if (!num(json_object_array_get_idx(data, i), &res->data[i])) {
			res->error = arena_printf(a, "results[%zu][%zu].data[%zu]: expected a number or null", qi, k, i);
			return;
		}
	}
}

int ccms_parse_response(struct metrics_plan *p, size_t first, size_t count, const char *body, size_t len,
			char *err, size_t errlen)
{
	struct json_object *o = parse_answer(body, len, err, errlen);
	if (!o)
		return -1;
	int rc = -1;
	struct json_object *results;
	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "results", &results) ||
	    !json_object_is_type(results, json_type_array)) {
		struct json_object *e;
		if (json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, "error", &e) &&
		    json_object_is_type(e, json_type_string))
			snprintf(err, errlen, "the store answered an error: %.300s", json_object_get_string(e));
		else
			snprintf(err, errlen, "expected {\"results\":[[...]...]}, got %s", json_object_is_type(o, json_type_object) ? "an object without results" : jsonio_type_name(o));
		goto out;
	}
	if (json_object_array_length(results) != count) {
		snprintf(err, errlen, "asked %zu queries, got %zu results", count, json_object_array_length(results));
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		struct metrics_query *q = &p->q[first + i];
		struct json_object *r = json_object_array_get_idx(results, i);
		if (!json_object_is_type(r, json_type_array)) {
			snprintf(err, errlen, "results[%zu]: expected an array, got %s", i, jsonio_type_name(r));
			goto out;
		}
		size_t got = json_object_array_length(r);
		if (got == 1 && q->nresults > 1) {
			/* one element for many ids: the store's error for the whole query */
			struct json_object *e = json_object_array_get_idx(r, 0), *x;
			if (json_object_is_type(e, json_type_object) && json_object_object_get_ex(e, "error", &x)) {
				for (size_t k = 0; k < q->nresults; k++)
					parse_result(p->a, e, &q->results[k], i, 0, err, errlen);
				continue;
			}
		}
		for (size_t k = 0; k < q->nresults; k++) {
			if (k >= got) {
				q->results[k].done = true;
				q->results[k].error = arena_printf(p->a, "results[%zu]: %zu series asked, %zu answered", i, q->nresults, got);
				continue;
			}
			parse_result(p->a, json_object_array_get_idx(r, k), &q->results[k], i, k, err, errlen);
		}
	}
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

/* printable start of an error body */
static void snippet(const struct buf *b, char *out, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < b->len && k + 1 < n && i < 200; i++) {
		unsigned char c = (unsigned char)b->data[i];
		out[k++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
	}
	while (k > 0 && out[k - 1] == ' ')
		k--;
	out[k] = '\0';
}

int ccms_load(const struct metrics_repo *r, struct metrics_plan *p, char *err, size_t errlen)
{
	char shown[512], url[2048];
	metrics_url_display(r->url, shown, sizeof(shown));
	snprintf(url, sizeof(url), "%s/api/query?version=v2", r->url);
	struct buf body = BUF_INIT, resp = BUF_INIT;
	int rc = 0;
	for (size_t i = 0; i < p->n;) {
		size_t end = i;
		while (end < p->n && end - i < CCMS_MAX_QUERIES && p->q[end].mc == p->q[i].mc)
			end++;
		buf_reset(&body);
		ccms_request_json(p, i, end - i, &body);
		long status = 0;
		if (metrics_http("metric store", "GET", url, r->token, "application/json", body.data, body.len,
				 CCMS_TIMEOUT, CCMS_MAX_ANSWER, &resp, &status, err, errlen) < 0) {
			rc = -1;
			break;
		}
		if (status != 200) {
			char sn[256];
			snippet(&resp, sn, sizeof(sn));
			snprintf(err, errlen, "metric store %s: HTTP %ld: %s", shown, status, *sn ? sn : "(empty answer)");
			rc = -1;
			break;
		}
		char perr[512];
		if (ccms_parse_response(p, i, end - i, resp.data, resp.len, perr, sizeof(perr)) < 0) {
			snprintf(err, errlen, "metric store %s: bad answer for %s: %s", shown, p->q[i].mc->name, perr);
			rc = -1;
			break;
		}
		i = end;
	}
	buf_release(&body);
	buf_release(&resp);
	return rc;
}
