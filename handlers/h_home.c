/* / : the notice banner and the clusters of the job archive with their job counts. */
#include "config.h"
#include "handlers.h"
#include "../app/app.h"
#include "../app/archive.h"
#include "../app/conf.h"
#include "../app/buf.h"
#include "../app/db.h"
#include "../app/html.h"
#include "../app/jobquery.h"
#include "../app/page.h"
#include "../app/req.h"
#include "../app/resp.h"
#include "../app/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The counts are those of the jobs the viewer may see (COMPAT f, as cc-backend's
 * JobCountGrouped).  For those who see everything, running jobs are counted live (a
 * partial index covers them) and the total per cluster, a full count, is kept by each
 * worker for main.home-counts-ttl seconds (default 60).  Users and managers get both
 * counts live from one query over their own share. */

static const char sql_running[] =
	"SELECT cluster, count(*) FROM job WHERE job_state = 'running' GROUP BY cluster";
static const char sql_totals[] = "SELECT cluster, count(*) FROM job GROUP BY cluster";

struct total {
	char *cluster;
	long long n;
};
static struct total *totals;
static size_t ntotals;
static time_t totals_at;

static void refresh_totals(struct req *r)
{
	time_t now = time(NULL);
	if (totals && now - totals_at < the_app->conf->home_counts_ttl)
		return;
	PGresult *res = db_query(r->a, sql_totals, 0, NULL);
	if (!res)
		return;
	for (size_t i = 0; i < ntotals; i++)
		free(totals[i].cluster);
	free(totals);
	ntotals = (size_t)PQntuples(res);
	totals = xcalloc(ntotals ? ntotals : 1, sizeof(*totals));
	for (size_t i = 0; i < ntotals; i++) {
		totals[i].cluster = xstrdup(PQgetvalue(res, (int)i, 0));
		totals[i].n = atoll(PQgetvalue(res, (int)i, 1));
	}
	totals_at = now;
}

static long long lookup(PGresult *res, const char *cluster, int col)
{
	for (int i = 0; res && i < PQntuples(res); i++)
		if (strcmp(PQgetvalue(res, i, 0), cluster) == 0)
			return atoll(PQgetvalue(res, i, col));
	return 0;
}

/* cluster, running, total of the viewer's own share */
static PGresult *own_counts(struct req *r)
{
	struct sqlq q;
	sqlq_init(&q, r->a);
	buf_adds(&q.sql, "SELECT job.cluster, count(*) FILTER (WHERE job.job_state = 'running'), count(*) FROM job WHERE true");
	jobquery_viewer_where(&q, r->user);
	buf_adds(&q.sql, " GROUP BY job.cluster");
	return db_query_text(r->a, q.sql.data, q.nparams, q.params);
}

static const char *jobs_link(struct req *r, const char *cluster, bool running)
{
	struct buf b;
	buf_init_arena(&b, r->a);
	buf_adds(&b, "/monitoring/jobs/?cluster=");
	html_url_encode(&b, cluster, strlen(cluster));
	if (running)
		buf_adds(&b, "&state=running");
	return b.data;
}

int h_home_show(struct req *r, struct resp *w)
{
	struct json_object *m = page_model(r, w, "jobscope");
	const char *notice = page_var_text(r, "notice.txt", 10000);
	if (notice && *notice)
		json_object_object_add(m, "notice", json_object_new_string(notice));

	bool all = jobquery_sees_all(r->user);
	PGresult *running = all ? db_query(r->a, sql_running, 0, NULL) : own_counts(r);
	if (all)
		refresh_totals(r);
	if (!running)
		json_object_object_add(m, "db_error", json_object_new_string("The database does not answer; job counts are missing."));

	struct json_object *clusters = json_object_new_array();
	const struct archive *ar = the_app->archive;
	for (size_t i = 0; ar && i < ar->nclusters; i++) {
		const char *name = ar->clusters[i].name;
		long long total = 0;
		if (!all)
			total = lookup(running, name, 2);
		for (size_t k = 0; all && k < ntotals; k++)
			if (strcmp(totals[k].cluster, name) == 0)
				total = totals[k].n;
		struct json_object *c = json_object_new_object();
		json_object_object_add(c, "name", json_object_new_string(name));
		json_object_object_add(c, "running", json_object_new_int64(lookup(running, name, 1)));
		json_object_object_add(c, "total", json_object_new_int64(total));
		json_object_object_add(c, "running_url", json_object_new_string(jobs_link(r, name, true)));
		json_object_object_add(c, "total_url", json_object_new_string(jobs_link(r, name, false)));
		json_object_array_add(clusters, c);
	}
	json_object_object_add(m, "clusters", clusters);
	return page_render(r, w, 200, "home", m);
}
