#include "config.h"
#include "usercfg.h"
#include "app.h"
#include "arena.h"
#include "auth.h"
#include "conf.h"
#include "db.h"
#include "jsonio.h"
#include "log.h"
#include "req.h"
#include "str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* each value wrapped in an array: jsonio_parse takes no bare scalars (a number may go on) */
static const char sql_load[] =
	"SELECT confkey, jsonb_build_array(value)::text FROM configuration WHERE username = $1 ORDER BY confkey";

/* one JSON value of any kind (also a bare number or null), parsed inside "[...]"
 * (wrapped: s is that array already); 0 with *out (NULL for null), or -1 with err */
static int parse_value(const char *s, size_t len, bool wrapped, struct json_object **out, char *err, size_t errlen)
{
	struct json_object *arr;
	*out = NULL;
	if (wrapped) {
		arr = jsonio_parse(s, len, err, errlen);
	} else {
		char *w = malloc(len + 3);
		if (!w) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		w[0] = '[';
		memcpy(w + 1, s, len);
		w[len + 1] = ']';
		w[len + 2] = '\0';
		arr = jsonio_parse(w, len + 2, err, errlen);
		free(w);
	}
	if (!arr)
		return -1;
	if (!json_object_is_type(arr, json_type_array) || json_object_array_length(arr) != 1) {
		snprintf(err, errlen, "expected exactly one JSON value");
		json_object_put(arr);
		return -1;
	}
	*out = json_object_get(json_object_array_get_idx(arr, 0));
	json_object_put(arr);
	return 0;
}

/* the settings that session_load read with the session: [[key, value], ...] */
static void load_prefetched(struct json_object *o, const char *text)
{
	char err[128];
	struct json_object *arr = jsonio_parse(text, strlen(text), err, sizeof(err));
	size_t n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *kv = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(kv, json_type_array) || json_object_array_length(kv) != 2)
			continue;
		struct json_object *k = json_object_array_get_idx(kv, 0), *v = json_object_array_get_idx(kv, 1);
		/* a JSON null stays out, as if the key were not set */
		if (json_object_is_type(k, json_type_string) && v)
			json_object_object_add(o, json_object_get_string(k), json_object_get(v));
	}
	if (arr)
		json_object_put(arr);
}

struct json_object *usercfg_load(struct req *r)
{
	if (r->usercfg)
		return r->usercfg;
	struct json_object *o = arena_cleanup_add(r->a, jsonio_put, json_object_new_object());
	r->usercfg = o;
	if (!r->user)
		return o;
	if (r->usercfg_text) {
		load_prefetched(o, r->usercfg_text);
		return o;
	}
	const char *p[] = {r->user->username};
	PGresult *res = db_query(r->a, sql_load, 1, p);
	for (int i = 0; res && i < PQntuples(res); i++) {
		char err[128];
		struct json_object *v;
		/* a JSON null stays out, as if the key were not set */
		if (parse_value(PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1), true, &v, err, sizeof(err)) == 0 && v)
			json_object_object_add(o, PQgetvalue(res, i, 0), v);
	}
	return o;
}

bool usercfg_key_valid(const char *key)
{
	size_t n = strlen(key);
	if (n < 1 || n > USERCFG_MAX_KEY || !str_utf8_valid(key, n))
		return false;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* a new key only while the user has fewer than USERCFG_MAX_KEYS; an existing one always */
static const char sql_set[] =
	"INSERT INTO configuration (username, confkey, value) "
	"SELECT $1, $2, $3::jsonb "
	"WHERE (SELECT count(*) FROM configuration WHERE username = $1) < " "200"
	" OR EXISTS (SELECT 1 FROM configuration WHERE username = $1 AND confkey = $2) "
	"ON CONFLICT (username, confkey) DO UPDATE SET value = excluded.value";
_Static_assert(USERCFG_MAX_KEYS == 200, "sql_set has the cap written out");
static const char sql_delete[] = "DELETE FROM configuration WHERE username = $1 AND confkey = $2";

enum usercfg_status usercfg_set(struct arena *a, const char *username, const char *key,
				const char *value, char *err, size_t errlen)
{
	if (!usercfg_key_valid(key)) {
		snprintf(err, errlen, "invalid key: expected 1 to %d characters without control characters", USERCFG_MAX_KEY);
		return USERCFG_INVALID;
	}
	size_t len = strlen(value);
	if (len > USERCFG_MAX_VALUE) {
		snprintf(err, errlen, "the value is %zu bytes long; at most %d are kept", len, USERCFG_MAX_VALUE);
		return USERCFG_INVALID;
	}
	char jerr[160];
	struct json_object *v;
	if (parse_value(value, len, false, &v, jerr, sizeof(jerr)) < 0) {
		snprintf(err, errlen, "the value is not a JSON text: %s", jerr);
		return USERCFG_INVALID;
	}
	json_object_put(v);
	const char *p[] = {username, key, value};
	PGresult *res = db_query(a, sql_set, 3, p);
	if (!res) {
		snprintf(err, errlen, "%s", db_last_error());
		return USERCFG_DB;
	}
	if (atol(PQcmdTuples(res)) == 0) {
		snprintf(err, errlen, "a user keeps at most %d settings", USERCFG_MAX_KEYS);
		return USERCFG_FULL;
	}
	return USERCFG_OK;
}

int usercfg_delete(struct arena *a, const char *username, const char *key)
{
	const char *p[] = {username, key};
	return db_query(a, sql_delete, 2, p) ? 0 : -1;
}

/* a number, or a string holding one (frontends have stored both) */
static bool number_of(struct json_object *v, long *out)
{
	if (json_object_is_type(v, json_type_int)) {
		*out = (long)json_object_get_int64(v);
		return true;
	}
	if (json_object_is_type(v, json_type_string)) {
		int64_t n;
		if (str_to_i64(json_object_get_string(v), -1000000, 1000000, &n) == 0) {
			*out = (long)n;
			return true;
		}
	}
	return false;
}

static bool bool_of(struct json_object *v, bool *out)
{
	if (json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get_boolean(v);
		return true;
	}
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
			*out = s[0] == 't';
			return true;
		}
	}
	return false;
}

static struct json_object *ui_plot_config(const char *key)
{
	struct json_object *ui = jsonio_get(the_app && the_app->conf ? the_app->conf->root : NULL, "ui");
	return jsonio_get(jsonio_get(ui, "plot-configuration"), key);
}

bool usercfg_plots_per_row_valid(long n)
{
	return (n >= 1 && n <= 4) || n == 6;
}

bool usercfg_jobs_per_page_valid(long n)
{
	return n == 10 || n == 25 || n == 50 || n == 100;
}

int usercfg_plots_per_row(struct json_object *cfg)
{
	long n;
	if (number_of(jsonio_get(cfg, USERCFG_PLOTS_PER_ROW), &n) && usercfg_plots_per_row_valid(n))
		return (int)n;
	if (number_of(ui_plot_config("plots-per-row"), &n) && usercfg_plots_per_row_valid(n))
		return (int)n;
	return 3;
}

bool usercfg_color_background(struct json_object *cfg)
{
	bool b;
	if (bool_of(jsonio_get(cfg, USERCFG_COLOR_BACKGROUND), &b))
		return b;
	if (bool_of(ui_plot_config("color-background"), &b))
		return b;
	return true;
}

int usercfg_jobs_per_page(struct json_object *cfg)
{
	long n;
	if (number_of(jsonio_get(cfg, USERCFG_JOBS_PER_PAGE), &n) && usercfg_jobs_per_page_valid(n))
		return (int)n;
	return 10;
}

const char *usercfg_plot_col_class(int per_row)
{
	switch (per_row) {
	case 1: return "col-12";
	case 2: return "col-lg-6";
	case 4: return "col-xxl-3 col-lg-4 col-md-6";
	case 6: return "col-xxl-2 col-lg-4 col-md-6";
	default: return "col-xxl-4 col-lg-6";
	}
}

const char *usercfg_job_list_key(struct arena *a, const char *cluster)
{
	if (!cluster)
		return USERCFG_JOB_LIST_METRICS;
	return arena_printf(a, "%s:%s", USERCFG_JOB_LIST_METRICS, cluster);
}

const char **usercfg_job_list_metrics(struct arena *a, struct json_object *cfg, const char *cluster, size_t max)
{
	struct json_object *arr = jsonio_get(cfg, usercfg_job_list_key(a, cluster));
	if (!arr || !json_object_is_type(arr, json_type_array))
		return NULL;
	const char **out = arena_calloc(a, max + 1, sizeof(char *));
	size_t n = 0;
	for (size_t i = 0; i < json_object_array_length(arr) && n < max; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		if (json_object_is_type(e, json_type_string) && *json_object_get_string(e))
			out[n++] = arena_strdup(a, json_object_get_string(e));
	}
	return n ? out : NULL;
}

const char **usercfg_default_job_list_metrics(struct arena *a, const char *cluster, size_t max)
{
	static const char *const dflt[] = {"cpu_load", "flops_any", "mem_bw", "mem_used"};
	struct json_object *ui = jsonio_get(the_app && the_app->conf ? the_app->conf->root : NULL, "ui");
	struct json_object *mc = jsonio_get(ui, "metric-config");
	struct json_object *arr = jsonio_get(mc, "job-list-metrics");
	struct json_object *clusters = jsonio_get(mc, "clusters");
	if (cluster && clusters && json_object_is_type(clusters, json_type_array))
		for (size_t i = 0; i < json_object_array_length(clusters); i++) {
			struct json_object *c = json_object_array_get_idx(clusters, i);
			const char *name = jsonio_str(c, "name");
			if (name && strcmp(name, cluster) == 0 && jsonio_get(c, "job-list-metrics"))
				arr = jsonio_get(c, "job-list-metrics");
		}
	const char **out = arena_calloc(a, max + 1, sizeof(char *));
	size_t n = 0;
	for (size_t i = 0; arr && json_object_is_type(arr, json_type_array) && i < json_object_array_length(arr) &&
			   n < max; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		if (json_object_is_type(e, json_type_string))
			out[n++] = arena_strdup(a, json_object_get_string(e));
	}
	if (n == 0)
		for (size_t i = 0; i < sizeof(dflt) / sizeof(dflt[0]) && i < max; i++)
			out[i] = dflt[i];
	return out;
}
