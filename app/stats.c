#include "config.h"
#include "stats.h"
#include "arena.h"
#include "auth.h"
#include "buf.h"
#include "db.h"
#include "jobquery.h"
#include "req.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* duration as the job lists show it: running jobs count up to now */
#define DUR "(CASE WHEN job.job_state = 'running' " \
	"THEN greatest(0, extract(epoch FROM now())::bigint - job.start_time) ELSE job.duration END)"

static const char *const col_names[STATS_COL__COUNT] = {
	[STATS_COL_KEY] = NULL, /* "user" or "project" */
	[STATS_COL_NAME] = "name",
	[STATS_COL_TOTAL_JOBS] = "totalJobs",
	[STATS_COL_SHORT_JOBS] = "shortJobs",
	[STATS_COL_WALLTIME] = "totalWalltime",
	[STATS_COL_CORE_HOURS] = "totalCoreHours",
	[STATS_COL_ACC_HOURS] = "totalAccHours",
};

/* ORDER BY expressions of the outer query (fixed text, never from the request) */
static const char *const col_exprs[STATS_COL__COUNT] = {
	[STATS_COL_KEY] = "s.k",
	[STATS_COL_NAME] = "coalesce(u.name, '') COLLATE \"C\"", /* byte order, as the identifier columns */
	[STATS_COL_TOTAL_JOBS] = "s.total",
	[STATS_COL_SHORT_JOBS] = "s.short",
	[STATS_COL_WALLTIME] = "s.wall",
	[STATS_COL_CORE_HOURS] = "s.core",
	[STATS_COL_ACC_HOURS] = "s.acc",
};

const char *stats_col_name(enum stats_group g, enum stats_col c)
{
	if (c == STATS_COL_KEY)
		return g == STATS_BY_USER ? "user" : "project";
	if ((unsigned)c >= STATS_COL__COUNT || (c == STATS_COL_NAME && g != STATS_BY_USER))
		return NULL;
	return col_names[c];
}

int stats_sort_from_params(const struct kvlist *params, enum stats_group g, struct stats_sort *s,
			   char *err, size_t errlen)
{
	s->col = STATS_COL_TOTAL_JOBS;
	s->desc = true;
	for (size_t i = 0; i < params->n; i++) {
		const char *k = params->v[i].key, *v = params->v[i].val;
		if (strcmp(k, "sort") == 0) {
			int found = 0;
			for (int c = 0; c < STATS_COL__COUNT; c++) {
				const char *name = stats_col_name(g, (enum stats_col)c);
				if (name && strcmp(name, v) == 0) {
					s->col = (enum stats_col)c;
					found = 1;
				}
			}
			if (!found) {
				snprintf(err, errlen, "invalid value for sort: \"%.60s\" (expected %s%s, totalJobs, "
					 "shortJobs, totalWalltime, totalCoreHours or totalAccHours)", v,
					 stats_col_name(g, STATS_COL_KEY), g == STATS_BY_USER ? ", name" : "");
				return -1;
			}
		} else if (strcmp(k, "order") == 0) {
			if (strcmp(v, "asc") == 0) {
				s->desc = false;
			} else if (strcmp(v, "desc") == 0) {
				s->desc = true;
			} else {
				snprintf(err, errlen, "invalid value for order: \"%.60s\" (expected asc or desc)", v);
				return -1;
			}
		}
	}
	return 0;
}

int stats_grouped(struct arena *a, const struct job_filter *f, const struct user *viewer,
		  enum stats_group g, const char *name_contains, const struct stats_sort *s,
		  int64_t short_secs, size_t limit, struct stats_result *out, char *err, size_t errlen)
{
	bool users = g == STATS_BY_USER;
	const char *keycol = users ? "job.hpc_user" : "job.project";
	struct sqlq q;
	sqlq_init(&q, a);
	buf_addf(&q.sql, "SELECT s.k, %s, s.total, s.short, s.running, s.wall, s.core, s.acc FROM ("
		 "SELECT %s AS k, count(*) AS total, count(*) FILTER (WHERE " DUR " < ",
		 users ? "coalesce(u.name, '')" : "''::text", keycol);
	sqlq_param(&q, arena_printf(a, "%lld", (long long)short_secs), "::bigint");
	buf_adds(&q.sql, ") AS short, "
		 "count(*) FILTER (WHERE job.job_state = 'running') AS running, "
		 "coalesce(sum(" DUR "::float8), 0) / 3600 AS wall, "
		 "coalesce(sum(" DUR "::float8 * coalesce(job.num_hwthreads, 0)), 0) / 3600 AS core, "
		 "coalesce(sum(" DUR "::float8 * coalesce(job.num_acc, 0)), 0) / 3600 AS acc "
		 "FROM job WHERE true");
	jobquery_where(&q, f, viewer);
	buf_addf(&q.sql, " GROUP BY %s) s", keycol);
	if (users) {
		/* the display name joins the groups, not every job */
		buf_adds(&q.sql, " LEFT JOIN hpc_user u ON u.username = s.k");
		if (name_contains && *name_contains) {
			buf_adds(&q.sql, " WHERE strpos(lower(coalesce(u.name, '')), lower(");
			sqlq_param(&q, name_contains, NULL);
			buf_adds(&q.sql, ")) > 0");
		}
	}
	enum stats_col col = s->col;
	if ((unsigned)col >= STATS_COL__COUNT || (col == STATS_COL_NAME && !users))
		col = STATS_COL_TOTAL_JOBS;
	buf_addf(&q.sql, " ORDER BY %s %s, s.k ASC LIMIT %zu", col_exprs[col], s->desc ? "DESC" : "ASC",
		 limit + 1);
	PGresult *res = db_query_once(a, q.sql.data, q.nparams, q.params);
	if (!res) {
		snprintf(err, errlen, "the statistics query failed: %s", db_last_error());
		return -1;
	}
	size_t n = (size_t)PQntuples(res);
	out->capped = n > limit;
	if (out->capped)
		n = limit;
	out->n = n;
	out->rows = arena_calloc(a, n ? n : 1, sizeof(*out->rows));
	for (size_t i = 0; i < n; i++) {
		struct stats_row *row = &out->rows[i];
		int k = (int)i;
		row->key = PQgetvalue(res, k, 0);
		row->name = PQgetvalue(res, k, 1);
		row->total_jobs = strtoll(PQgetvalue(res, k, 2), NULL, 10);
		row->short_jobs = strtoll(PQgetvalue(res, k, 3), NULL, 10);
		row->running_jobs = strtoll(PQgetvalue(res, k, 4), NULL, 10);
		row->walltime_h = strtod(PQgetvalue(res, k, 5), NULL);
		row->core_h = strtod(PQgetvalue(res, k, 6), NULL);
		row->acc_h = strtod(PQgetvalue(res, k, 7), NULL);
	}
	return 0;
}

const char *const stats_duration_labels[STATS_DURATION_BINS] = {
	"< 10m", "10–30m", "30m–1h", "1–2h", "2–4h", "4–8h", "8–12h", "12–24h", "1–2d", "≥ 2d",
};
const char *const stats_nodes_labels[STATS_NODES_BINS] = {
	"1", "2", "3–4", "5–8", "9–16", "17–32", "33–64", "65–128", "> 128",
};

int stats_histograms(struct arena *a, const struct job_filter *f, const struct user *viewer,
		     double duration[STATS_DURATION_BINS], double nodes[STATS_NODES_BINS],
		     char *err, size_t errlen)
{
	memset(duration, 0, STATS_DURATION_BINS * sizeof(double));
	memset(nodes, 0, STATS_NODES_BINS * sizeof(double));
	/* width_bucket against the lower bounds of bins 1..n-1: 0 below the first,
	 * n-1 at or above the last; both distributions in one scan */
	struct sqlq q;
	sqlq_init(&q, a);
	buf_adds(&q.sql, "SELECT GROUPING(x.db), x.db, x.nb, count(*) FROM (SELECT "
		 "width_bucket(" DUR "::float8, "
		 "ARRAY[600, 1800, 3600, 7200, 14400, 28800, 43200, 86400, 172800]::float8[]) AS db, "
		 "width_bucket(job.num_nodes::float8, ARRAY[2, 3, 5, 9, 17, 33, 65, 129]::float8[]) AS nb "
		 "FROM job WHERE true");
	jobquery_where(&q, f, viewer);
	buf_adds(&q.sql, ") x GROUP BY GROUPING SETS ((x.db), (x.nb))");
	PGresult *res = db_query_once(a, q.sql.data, q.nparams, q.params);
	if (!res) {
		snprintf(err, errlen, "the histogram query failed: %s", db_last_error());
		return -1;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		bool is_duration = strcmp(PQgetvalue(res, i, 0), "0") == 0;
		long bin = strtol(PQgetvalue(res, i, is_duration ? 1 : 2), NULL, 10);
		double c = strtod(PQgetvalue(res, i, 3), NULL);
		if (is_duration && bin >= 0 && bin < STATS_DURATION_BINS)
			duration[bin] = c;
		else if (!is_duration && bin >= 0 && bin < STATS_NODES_BINS)
			nodes[bin] = c;
	}
	return 0;
}

static const char sql_user_exists[] =
	"SELECT EXISTS (SELECT 1 FROM hpc_user WHERE username = $1) "
	"OR EXISTS (SELECT 1 FROM job WHERE hpc_user = $1)";

int stats_user_visible(struct arena *a, const struct user *viewer, const char *username)
{
	if (!viewer || !username || !*username)
		return 0;
	if (strcmp(viewer->username, username) == 0)
		return 1;
	unsigned lvl = auth_level(viewer->roles);
	if (lvl == ROLE_ADMIN || lvl == ROLE_SUPPORT || lvl == ROLE_API) {
		const char *p[] = {username};
		PGresult *res = db_query(a, sql_user_exists, 1, p);
		if (!res)
			return -1;
		return strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	}
	if (lvl != ROLE_MANAGER)
		return 0;
	/* a manager: some job of that user that the manager's role filter lets through */
	struct job_filter f;
	jobquery_filter_all(&f);
	f.users[0] = username;
	f.nusers = 1;
	f.user_match = MATCH_EQ;
	struct sqlq q;
	sqlq_init(&q, a);
	buf_adds(&q.sql, "SELECT 1 FROM job WHERE true");
	jobquery_where(&q, &f, viewer);
	buf_adds(&q.sql, " LIMIT 1");
	PGresult *res = db_query_once(a, q.sql.data, q.nparams, q.params);
	if (!res)
		return -1;
	return PQntuples(res) > 0;
}
