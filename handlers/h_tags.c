/* /monitoring/tags/: tags grouped by type with scope and number of jobs, each
 * linked to the job list filtered by the tag.  Visibility (COMPAT f):
 * support and above see every tag and count every job; users and managers see
 * global tags used by at least one job they may see, plus their own private
 * tags, and count only the jobs they may see.  Admin-scope tags are for admin
 * and support only. */
#include "config.h"
#include "handlers.h"
#include "../app/arena.h"
#include "../app/auth.h"
#include "../app/buf.h"
#include "../app/db.h"
#include "../app/jobquery.h"
#include "../app/page.h"
#include "../app/req.h"
#include "../app/resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* tags listed at most; the page says when there are more */
#define TAGS_CAP 5000

static void add_s(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

/* "<id>, type, name, scope, count" of the tags the viewer may see */
static PGresult *query_tags(struct req *r)
{
	const struct user *u = r->user;
	unsigned lvl = u ? auth_level(u->roles) : 0;
	struct sqlq q;
	sqlq_init(&q, r->a);
	buf_adds(&q.sql, "SELECT t.id, t.tag_type, t.tag_name, t.tag_scope, count(job.id) "
		 "FROM tag t LEFT JOIN jobtag jt ON jt.tag_id = t.id "
		 "LEFT JOIN job ON job.id = jt.job_id");
	if (lvl == ROLE_ADMIN || lvl == ROLE_SUPPORT || lvl == ROLE_API) {
		buf_adds(&q.sql, " GROUP BY t.id");
	} else {
		/* the role filter is part of the join: only visible jobs are counted */
		jobquery_viewer_where(&q, u);
		buf_adds(&q.sql, " WHERE (t.tag_scope = 'global' OR t.tag_scope = ");
		const char *me = u ? u->username : "";
		sqlq_param(&q, me, NULL);
		buf_adds(&q.sql, ") GROUP BY t.id HAVING count(job.id) > 0 OR t.tag_scope = ");
		sqlq_param(&q, me, NULL);
	}
	buf_addf(&q.sql, " ORDER BY t.tag_type, t.tag_name, t.tag_scope, t.id LIMIT %d", TAGS_CAP + 1);
	return db_query_once(r->a, q.sql.data, q.nparams, q.params);
}

int h_tags_list(struct req *r, struct resp *w)
{
	PGresult *res = query_tags(r);
	if (!res) {
		w->error = "The tags could not be read from the database.";
		return 503;
	}
	struct json_object *m = page_model(r, w, "Tags");
	struct json_object *types = json_object_new_array();
	struct json_object *cur = NULL, *cur_tags = NULL;
	const char *cur_type = NULL;
	int n = PQntuples(res);
	if (n > TAGS_CAP) {
		n = TAGS_CAP;
		json_object_object_add(m, "capped", json_object_new_int(TAGS_CAP));
	}
	for (int i = 0; i < n; i++) {
		const char *type = PQgetvalue(res, i, 1);
		if (!cur_type || strcmp(cur_type, type) != 0) {
			cur = json_object_new_object();
			add_s(cur, "type", type);
			cur_tags = json_object_new_array();
			json_object_object_add(cur, "tags", cur_tags);
			json_object_array_add(types, cur);
			cur_type = type;
		}
		const char *id = PQgetvalue(res, i, 0);
		const char *scope = PQgetvalue(res, i, 3);
		struct json_object *t = json_object_new_object();
		add_s(t, "id", id);
		add_s(t, "name", PQgetvalue(res, i, 2));
		add_s(t, "scope", scope);
		if (strcmp(scope, "global") == 0)
			add_s(t, "scope_class", "secondary");
		else if (strcmp(scope, "admin") == 0)
			add_s(t, "scope_class", "danger");
		else
			add_s(t, "scope_class", "info");
		json_object_object_add(t, "count", json_object_new_int64(strtoll(PQgetvalue(res, i, 4), NULL, 10)));
		add_s(t, "url", arena_printf(r->a, "/monitoring/jobs/?tag=%s", id)); /* id: digits from the database */
		json_object_array_add(cur_tags, t);
	}
	json_object_object_add(m, "types", types);
	json_object_object_add(m, "count", json_object_new_int(n));
	return page_render(r, w, 200, "tags", m);
}
