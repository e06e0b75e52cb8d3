/* /monitoring/users/, /monitoring/projects/ (aggregated per user / project,
 * manager and above; the route table gates the role) and /monitoring/user/{id}
 * (one user's info, statistics, distributions and job list).  COMPAT g. */
#include "config.h"
#include "handlers.h"
#include "../app/app.h"
#include "../app/archive.h"
#include "../app/arena.h"
#include "../app/auth.h"
#include "../app/buf.h"
#include "../app/conf.h"
#include "../app/db.h"
#include "../app/html.h"
#include "../app/joblist.h"
#include "../app/jobquery.h"
#include "../app/page.h"
#include "../app/req.h"
#include "../app/resp.h"
#include "../app/stats.h"
#include "../app/svg.h"
#include "../app/tmpl.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* rows shown (and exported) at most; the page says when there are more */
#define STATS_ROW_CAP 1000

static void add_s(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void add_b(struct json_object *o, const char *k, bool v)
{
	if (v)
		json_object_object_add(o, k, json_object_new_boolean(1));
}

static const char *hours(struct arena *a, double h)
{
	return arena_printf(a, "%.2f", h);
}

/* path?<current parameters minus the skipped keys>, ready for more "&k=v" */
static void url_keep(struct buf *b, struct req *r, const char *path, const char *const *skip)
{
	buf_adds(b, path);
	char sep = '?';
	for (size_t i = 0; i < r->params.n; i++) {
		const char *k = r->params.v[i].key;
		bool drop = false;
		for (size_t s = 0; skip[s]; s++)
			if (strcmp(k, skip[s]) == 0)
				drop = true;
		if (drop)
			continue;
		buf_addch(b, sep);
		sep = '&';
		html_url_encode(b, k, strlen(k));
		buf_addch(b, '=');
		html_url_encode(b, r->params.v[i].val, strlen(r->params.v[i].val));
	}
	if (sep == '?')
		buf_addch(b, '?');
	else
		buf_addch(b, '&');
}

static void url_param(struct buf *b, const char *k, const char *v, bool last)
{
	buf_adds(b, k);
	buf_addch(b, '=');
	html_url_encode(b, v, strlen(v));
	if (!last)
		buf_addch(b, '&');
}

/* a user's page; a username with '/' cannot be one path segment, so its jobs instead */
static const char *user_url(struct arena *a, const char *username)
{
	struct buf b;
	buf_init_arena(&b, a);
	if (strchr(username, '/')) {
		buf_adds(&b, "/monitoring/jobs/?userMatch=eq&");
		url_param(&b, "user", username, true);
	} else {
		buf_adds(&b, "/monitoring/user/");
		html_url_encode(&b, username, strlen(username));
	}
	return b.data;
}

/* cluster choices of the archive, plus the current one if the archive lacks it */
static struct json_object *cluster_choices(const char *current)
{
	struct json_object *arr = json_object_new_array();
	const struct archive *ar = the_app->archive;
	bool seen = false;
	for (size_t i = 0; ar && i < ar->nclusters; i++) {
		struct json_object *c = json_object_new_object();
		add_s(c, "name", ar->clusters[i].name);
		if (current && strcmp(current, ar->clusters[i].name) == 0) {
			add_b(c, "selected", true);
			seen = true;
		}
		json_object_array_add(arr, c);
	}
	if (current && *current && !seen) {
		struct json_object *c = json_object_new_object();
		add_s(c, "name", current);
		add_b(c, "selected", true);
		json_object_array_add(arr, c);
	}
	return arr;
}

static struct json_object *start_choices(const struct job_filter *f)
{
	static const char *const presets[] = {"", "last6h", "last24h", "last7d", "last30d"};
	struct json_object *arr = json_object_new_array();
	const char *cur = f->start_time_name ? f->start_time_name : "";
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
		struct json_object *o = json_object_new_object();
		add_s(o, "value", presets[i]);
		add_s(o, "label", i == 0 ? "any time" : presets[i]);
		add_b(o, "selected", strcmp(cur, presets[i]) == 0);
		json_object_array_add(arr, o);
	}
	return arr;
}

/* ---- CSV ---- */

/* RFC 4180 field, always quoted; a leading = + - @ (or tab / CR) gets a ' so
 * that a spreadsheet does not run it as a formula */
static void csv_field(struct buf *b, const char *s)
{
	buf_addch(b, '"');
	if (*s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r')
		buf_addch(b, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			buf_addch(b, '"');
		buf_addch(b, *p);
	}
	buf_addch(b, '"');
}

static int write_csv(struct req *r, struct resp *w, enum stats_group g, const struct stats_result *res)
{
	bool users = g == STATS_BY_USER;
	buf_reset(&w->body);
	struct buf *b = &w->body;
	if (users)
		buf_adds(b, "\"User\",\"Name\",");
	else
		buf_adds(b, "\"Project\",");
	buf_adds(b, "\"Total Jobs\",\"Short Jobs\",\"Total Walltime [h]\",\"Total Core Hours\","
		 "\"Total Accelerator Hours\"\r\n");
	for (size_t i = 0; i < res->n; i++) {
		const struct stats_row *row = &res->rows[i];
		csv_field(b, row->key);
		buf_addch(b, ',');
		if (users) {
			csv_field(b, row->name);
			buf_addch(b, ',');
		}
		buf_addf(b, "%lld,%lld,%.2f,%.2f,%.2f\r\n", (long long)row->total_jobs,
			 (long long)row->short_jobs, row->walltime_h, row->core_h, row->acc_h);
	}
	w->status = 200;
	w->content_type = "text/csv; charset=utf-8";
	resp_header(w, "Content-Disposition", arena_printf(r->a, "attachment; filename=\"%s.csv\"",
							    users ? "users" : "projects"));
	return 200;
}

/* ---- users and projects ---- */

static const char *const col_labels[STATS_COL__COUNT] = {
	[STATS_COL_KEY] = NULL,
	[STATS_COL_NAME] = "Name",
	[STATS_COL_TOTAL_JOBS] = "Total Jobs",
	[STATS_COL_SHORT_JOBS] = "Short Jobs",
	[STATS_COL_WALLTIME] = "Total Walltime [h]",
	[STATS_COL_CORE_HOURS] = "Total Core Hours",
	[STATS_COL_ACC_HOURS] = "Total Accelerator Hours",
};

static struct json_object *header_model(struct req *r, enum stats_group g, const struct stats_sort *s)
{
	static const char *const skip[] = {"sort", "order", "format", NULL};
	struct json_object *cols = json_object_new_array();
	for (int c = 0; c < STATS_COL__COUNT; c++) {
		const char *name = stats_col_name(g, (enum stats_col)c);
		if (!name)
			continue;
		bool text = c == STATS_COL_KEY || c == STATS_COL_NAME;
		bool current = s->col == (enum stats_col)c;
		/* a click sorts descending (numbers) or ascending (names), a second click turns it round */
		bool desc = current ? !s->desc : !text;
		struct buf b;
		buf_init_arena(&b, r->a);
		url_keep(&b, r, r->path, skip);
		url_param(&b, "sort", name, false);
		url_param(&b, "order", desc ? "desc" : "asc", true);
		struct json_object *o = json_object_new_object();
		add_s(o, "label", c == STATS_COL_KEY ? (g == STATS_BY_USER ? "Username" : "Project Name")
						   : col_labels[c]);
		add_s(o, "url", b.data);
		add_b(o, "numeric", !text);
		if (current) {
			add_s(o, "arrow", s->desc ? "▼" : "▲");
			add_s(o, "aria_sort", s->desc ? "descending" : "ascending");
		}
		json_object_array_add(cols, o);
	}
	return cols;
}

/* the filter form: name filter, cluster, start time; every other parameter rides along hidden */
static struct json_object *form_model(struct req *r, enum stats_group g, const struct job_filter *f)
{
	bool users = g == STATS_BY_USER;
	struct json_object *form = json_object_new_object();
	const char *key = users ? "user" : "project";
	add_s(form, "key_param", key);
	add_s(form, "key_value", req_param(r, key));
	if (users)
		add_s(form, "name_value", req_param(r, "name"));
	json_object_object_add(form, "clusters", cluster_choices(f->cluster));
	json_object_object_add(form, "start_presets", start_choices(f));
	struct json_object *hidden = json_object_new_array();
	for (size_t i = 0; i < r->params.n; i++) {
		const char *k = r->params.v[i].key;
		if (strcmp(k, key) == 0 || strcmp(k, "cluster") == 0 || strcmp(k, "startTime") == 0 ||
		    strcmp(k, "format") == 0 || (users && strcmp(k, "name") == 0))
			continue;
		struct json_object *o = json_object_new_object();
		add_s(o, "name", k);
		add_s(o, "value", r->params.v[i].val);
		json_object_array_add(hidden, o);
	}
	json_object_object_add(form, "hidden", hidden);
	return form;
}

static int stats_page(struct req *r, struct resp *w, enum stats_group g)
{
	bool users = g == STATS_BY_USER;
	struct job_filter f;
	struct stats_sort s;
	char err[256];
	if (jobquery_filter_from_params(r->a, &r->params, (int64_t)time(NULL), &f, err, sizeof(err)) < 0 ||
	    stats_sort_from_params(&r->params, g, &s, err, sizeof(err)) < 0) {
		w->error = arena_strdup(r->a, err);
		return 400;
	}
	/* the project box filters by "contains" unless projectMatch says otherwise */
	if (!users && f.project && !req_param(r, "projectMatch"))
		f.project_match = MATCH_CONTAINS;
	const char *format = req_param(r, "format");
	bool csv = format && strcmp(format, "csv") == 0;
	if (format && !csv && strcmp(format, "html") != 0) {
		w->error = arena_printf(r->a, "invalid value for format: \"%.40s\" (expected csv or html)", format);
		return 400;
	}
	struct stats_result res;
	if (stats_grouped(r->a, &f, r->user, g, users ? req_param(r, "name") : NULL, &s,
			  the_app->conf->short_running_jobs_duration, STATS_ROW_CAP, &res, err, sizeof(err)) < 0) {
		w->error = "The statistics could not be read from the database.";
		return 503;
	}
	if (csv)
		return write_csv(r, w, g, &res);

	struct json_object *m = page_model(r, w, users ? "Users" : "Projects");
	add_b(m, "is_users", users);
	json_object_object_add(m, "form", form_model(r, g, &f));
	json_object_object_add(m, "columns", header_model(r, g, &s));
	static const char *const skip_jobs[] = {"sort", "order", "format", "name", "user", "userMatch",
						"project", "projectMatch", NULL};
	struct json_object *rows = json_object_new_array_ext((int)res.n);
	for (size_t i = 0; i < res.n; i++) {
		const struct stats_row *row = &res.rows[i];
		struct json_object *o = json_object_new_object();
		add_s(o, "key", row->key);
		if (users) {
			add_s(o, "key_url", user_url(r->a, row->key));
		} else {
			struct buf b;
			buf_init_arena(&b, r->a);
			buf_adds(&b, "/monitoring/jobs/?projectMatch=eq&");
			url_param(&b, "project", row->key, true);
			add_s(o, "key_url", b.data);
		}
		add_s(o, "name", row->name);
		/* the jobs behind the numbers: this row's user/project with the page's filters */
		struct buf jb;
		buf_init_arena(&jb, r->a);
		url_keep(&jb, r, "/monitoring/jobs/", skip_jobs);
		if (users) {
			buf_adds(&jb, "userMatch=eq&");
			url_param(&jb, "user", row->key, true);
		} else {
			buf_adds(&jb, "projectMatch=eq&");
			url_param(&jb, "project", row->key, true);
		}
		add_s(o, "jobs_url", jb.data);
		json_object_object_add(o, "total_jobs", json_object_new_int64(row->total_jobs));
		json_object_object_add(o, "short_jobs", json_object_new_int64(row->short_jobs));
		add_s(o, "walltime", hours(r->a, row->walltime_h));
		add_s(o, "core_hours", hours(r->a, row->core_h));
		add_s(o, "acc_hours", hours(r->a, row->acc_h));
		json_object_array_add(rows, o);
	}
	json_object_object_add(m, "rows", rows);
	json_object_object_add(m, "count", json_object_new_int64((int64_t)res.n));
	if (res.capped)
		json_object_object_add(m, "capped", json_object_new_int(STATS_ROW_CAP));
	static const char *const skip_csv[] = {"format", NULL};
	struct buf cb;
	buf_init_arena(&cb, r->a);
	url_keep(&cb, r, r->path, skip_csv);
	url_param(&cb, "format", "csv", true);
	add_s(m, "csv_url", cb.data);
	return page_render(r, w, 200, "users", m);
}

int h_users_list(struct req *r, struct resp *w)
{
	return stats_page(r, w, STATS_BY_USER);
}

/* the projects table is the users table grouped by project */
int h_projects_list(struct req *r, struct resp *w)
{
	return stats_page(r, w, STATS_BY_PROJECT);
}

/* ---- one user ---- */

static const char sql_user_info[] =
	"SELECT username, coalesce(name, ''), coalesce(email, '') FROM hpc_user WHERE username = $1";

static struct json_object *histogram(struct arena *a, const char *title, const char *x_title,
				     const char *const *labels, const double *counts, size_t n)
{
	struct buf b;
	buf_init_arena(&b, a);
	struct svg_hist h = {
		.title = title, .x_title = x_title, .y_title = "Number of jobs",
		.width = 480, .height = 240, .labels = labels, .counts = counts, .n = n,
	};
	svg_histogram(&b, &h);
	return tmpl_markup_new(b.data, b.len);
}

int h_users_show(struct req *r, struct resp *w)
{
	const char *username = r->path_args[0];
	char err[256];
	int vis = stats_user_visible(r->a, r->user, username);
	if (vis < 0) {
		w->error = "The database does not answer; try again in a moment.";
		return 503;
	}
	if (vis == 0) {
		/* the same answer for "no such user" and "not yours": no existence oracle */
		w->error = "There is no user page at this address.";
		return 404;
	}
	struct job_filter f;
	struct job_sort js;
	struct joblist_page p;
	if (jobquery_filter_from_params(r->a, &r->params, (int64_t)time(NULL), &f, err, sizeof(err)) < 0 ||
	    jobquery_sort_from_params(&r->params, &js, err, sizeof(err)) < 0 ||
	    joblist_page_from_params(&r->params, &p, err, sizeof(err)) < 0) {
		w->error = arena_strdup(r->a, err);
		return 400;
	}
	f.users[0] = username;
	f.nusers = 1;
	f.user_match = MATCH_EQ;

	struct json_object *m = page_model(r, w, arena_printf(r->a, "User %s", username));
	struct json_object *info = json_object_new_object();
	add_s(info, "username", username);
	const char *p1[] = {username};
	PGresult *ures = db_query(r->a, sql_user_info, 1, p1);
	if (!ures) {
		w->error = "The database does not answer; try again in a moment.";
		return 503;
	}
	if (PQntuples(ures) == 1) {
		add_s(info, "name", PQgetvalue(ures, 0, 1));
		add_s(info, "email", PQgetvalue(ures, 0, 2));
	}
	json_object_object_add(m, "info", info);

	struct stats_sort ss = {STATS_COL_TOTAL_JOBS, true};
	struct stats_result res;
	if (stats_grouped(r->a, &f, r->user, STATS_BY_USER, NULL, &ss,
			  the_app->conf->short_running_jobs_duration, 1, &res, err, sizeof(err)) < 0) {
		w->error = "The statistics could not be read from the database.";
		return 503;
	}
	struct stats_row zero = {.key = username, .name = ""};
	const struct stats_row *row = res.n ? &res.rows[0] : &zero;
	struct json_object *st = json_object_new_object();
	json_object_object_add(st, "total_jobs", json_object_new_int64(row->total_jobs));
	json_object_object_add(st, "short_jobs", json_object_new_int64(row->short_jobs));
	add_s(st, "walltime", hours(r->a, row->walltime_h));
	add_s(st, "core_hours", hours(r->a, row->core_h));
	add_s(st, "acc_hours", hours(r->a, row->acc_h));
	json_object_object_add(m, "stats", st);

	double dur[STATS_DURATION_BINS], nodes[STATS_NODES_BINS];
	if (stats_histograms(r->a, &f, r->user, dur, nodes, err, sizeof(err)) < 0) {
		w->error = "The distributions could not be read from the database.";
		return 503;
	}
	json_object_object_add(m, "hist_duration", histogram(r->a, "Duration distribution", "Duration",
							     stats_duration_labels, dur, STATS_DURATION_BINS));
	json_object_object_add(m, "hist_nodes", histogram(r->a, "Number of nodes distribution", "Nodes",
							  stats_nodes_labels, nodes, STATS_NODES_BINS));

	struct json_object *form = json_object_new_object();
	add_s(form, "action", user_url(r->a, username));
	json_object_object_add(form, "clusters", cluster_choices(f.cluster));
	json_object_object_add(form, "start_presets", start_choices(&f));
	json_object_object_add(m, "form", form);

	if (joblist_fill(r, &f, &js, &p, m, err, sizeof(err)) < 0) {
		w->error = "The job list could not be read from the database.";
		return 503;
	}
	return page_render(r, w, 200, "user", m);
}
