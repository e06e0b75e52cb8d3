/* /search?searchId=...: the navbar's search box (COMPAT g), answered with a
 * 302 to the page that shows what was asked for.
 *
 *   jobId:X       /monitoring/jobs/?jobId=X
 *   jobName:X     /monitoring/jobs/?jobName=X&startTime=last30d
 *   projectId:X   /monitoring/jobs/?projectMatch=eq&project=X
 *   arrayJobId:X  /monitoring/jobs/?arrayJobId=X&startTime=last30d
 *   username:X    /monitoring/users/?user=X&startTime=last30d (manager+, else 403)
 *   name:X        /monitoring/users/?name=X (users whose real name matches; manager+, else 403)
 *   a number      as jobId:
 *   another term  the first of: a user the viewer may see -> that user's page;
 *                 (manager+) a user whose real name contains it -> users page;
 *                 a project with a job the viewer may see -> project filter;
 *                 else a job name search over the last 30 days.
 *
 * Look-ups go through the viewer's role filter, so the answer never tells a
 * plain user that another user or project exists. */
#include "config.h"
#include "handlers.h"
#include "../app/arena.h"
#include "../app/auth.h"
#include "../app/buf.h"
#include "../app/db.h"
#include "../app/html.h"
#include "../app/jobquery.h"
#include "../app/req.h"
#include "../app/resp.h"
#include "../app/stats.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#define SEARCH_MAX 256

/* a copy of s[0..n) without leading and trailing white space */
static char *trim(struct arena *a, const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return arena_strndup(a, s, n);
}

static bool all_digits(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 18)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* 302 to path?k1=v1[&k2=v2] with the values percent-encoded */
static int go(struct req *r, struct resp *w, const char *path, const char *k1, const char *v1,
	      const char *k2, const char *v2)
{
	struct buf b;
	buf_init_arena(&b, r->a);
	buf_adds(&b, path);
	if (k1) {
		buf_addf(&b, "?%s=", k1);
		html_url_encode(&b, v1, strlen(v1));
	}
	if (k2) {
		buf_addf(&b, "%c%s=", k1 ? '&' : '?', k2);
		html_url_encode(&b, v2, strlen(v2));
	}
	resp_redirect(w, 302, b.data);
	return 302;
}

static bool manager_or_more(const struct req *r)
{
	return r->user && auth_level(r->user->roles) >= ROLE_MANAGER;
}

static int missing_rights(struct resp *w)
{
	w->error = "Missing Access Rights";
	return 403;
}

/* 1 when the query (already with a WHERE) finds a row, 0 when not, -1 on error */
static int exists(struct req *r, struct sqlq *q)
{
	buf_adds(&q->sql, " LIMIT 1");
	PGresult *res = db_query_once(r->a, q->sql.data, q->nparams, q->params);
	if (!res)
		return -1;
	return PQntuples(res) > 0;
}

/* a user the viewer may see whose real name contains term */
static int real_name_matches(struct req *r, const char *term)
{
	struct job_filter f;
	jobquery_filter_all(&f);
	struct sqlq q;
	sqlq_init(&q, r->a);
	buf_adds(&q.sql, "SELECT 1 FROM hpc_user u WHERE strpos(lower(coalesce(u.name, '')), lower(");
	sqlq_param(&q, term, NULL);
	buf_adds(&q.sql, ")) > 0 AND EXISTS (SELECT 1 FROM job WHERE job.hpc_user = u.username");
	jobquery_where(&q, &f, r->user);
	buf_adds(&q.sql, ")");
	return exists(r, &q);
}

/* a project with at least one job the viewer may see */
static int project_exists(struct req *r, const char *term)
{
	struct job_filter f;
	jobquery_filter_all(&f);
	f.project = term;
	f.project_match = MATCH_EQ;
	struct sqlq q;
	sqlq_init(&q, r->a);
	buf_adds(&q.sql, "SELECT 1 FROM job WHERE true");
	jobquery_where(&q, &f, r->user);
	return exists(r, &q);
}

static int db_down(struct resp *w)
{
	w->error = "The database does not answer; try again in a moment.";
	return 503;
}

static int bare_term(struct req *r, struct resp *w, const char *term)
{
	if (all_digits(term))
		return go(r, w, "/monitoring/jobs/", "jobId", term, NULL, NULL);
	int found = stats_user_visible(r->a, r->user, term);
	if (found < 0)
		return db_down(w);
	if (found) {
		if (strchr(term, '/')) /* no user page for such a name: the user's jobs */
			return go(r, w, "/monitoring/jobs/", "userMatch", "eq", "user", term);
		struct buf b;
		buf_init_arena(&b, r->a);
		buf_adds(&b, "/monitoring/user/");
		html_url_encode(&b, term, strlen(term));
		resp_redirect(w, 302, b.data);
		return 302;
	}
	if (manager_or_more(r)) {
		found = real_name_matches(r, term);
		if (found < 0)
			return db_down(w);
		if (found)
			return go(r, w, "/monitoring/users/", "name", term, NULL, NULL);
	}
	found = project_exists(r, term);
	if (found < 0)
		return db_down(w);
	if (found)
		return go(r, w, "/monitoring/jobs/", "projectMatch", "eq", "project", term);
	return go(r, w, "/monitoring/jobs/", "jobName", term, "startTime", "last30d");
}

int h_search_redirect(struct req *r, struct resp *w)
{
	const char *raw = req_param(r, "searchId");
	if (!raw)
		raw = "";
	if (strlen(raw) > SEARCH_MAX) {
		w->error = "The search term is too long (at most 256 characters).";
		return 400;
	}
	char *term = trim(r->a, raw, strlen(raw));
	if (!*term)
		return go(r, w, "/monitoring/jobs/", NULL, NULL, NULL, NULL);
	const char *colon = strchr(term, ':');
	if (colon) {
		size_t kn = (size_t)(colon - term);
		const char *v = trim(r->a, colon + 1, strlen(colon + 1));
#define KEY(s) (kn == sizeof(s) - 1 && strncmp(term, s, kn) == 0)
		bool known = KEY("jobId") || KEY("jobName") || KEY("projectId") || KEY("arrayJobId") ||
			     KEY("username") || KEY("name");
		if (known && !*v)
			return go(r, w, "/monitoring/jobs/", NULL, NULL, NULL, NULL);
		if (KEY("jobId"))
			return go(r, w, "/monitoring/jobs/", "jobId", v, NULL, NULL);
		if (KEY("jobName"))
			return go(r, w, "/monitoring/jobs/", "jobName", v, "startTime", "last30d");
		if (KEY("projectId"))
			return go(r, w, "/monitoring/jobs/", "projectMatch", "eq", "project", v);
		if (KEY("arrayJobId"))
			return go(r, w, "/monitoring/jobs/", "arrayJobId", v, "startTime", "last30d");
		if (KEY("username"))
			return manager_or_more(r) ? go(r, w, "/monitoring/users/", "user", v, "startTime", "last30d")
						  : missing_rights(w);
		if (KEY("name"))
			return manager_or_more(r) ? go(r, w, "/monitoring/users/", "name", v, NULL, NULL)
						  : missing_rights(w);
#undef KEY
		/* an unknown prefix: the whole text is a bare term (job names may hold ':') */
	}
	return bare_term(r, w, term);
}
