/* The REST API's non-job endpoints (COMPAT a.2, a.5): users and their roles
 * and projects, cluster configurations, scheduler node states (also reached
 * as the metric-store group's /api/healthcheck) and global tag deletion. */
#include "config.h"
#include "handlers.h"
#include "../app/api.h"
#include "../app/app.h"
#include "../app/archive.h"
#include "../app/arena.h"
#include "../app/auth.h"
#include "../app/buf.h"
#include "../app/cluster.h"
#include "../app/db.h"
#include "../app/db_job.h"
#include "../app/job.h"
#include "../app/jsonio.h"
#include "../app/log.h"
#include "../app/req.h"
#include "../app/resp.h"
#include "../app/usermgmt.h"
#include "../app/str.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *num(struct arena *a, int64_t v)
{
	return arena_printf(a, "%lld", (long long)v);
}

/* ----------------------------------------------------------------- users */

static const char sql_users[] =
	"SELECT username, coalesce(name, ''), coalesce(email, ''), array_to_json(roles)::text, "
	"array_to_json(projects)::text, auth_source FROM hpc_user ORDER BY username";
static const char sql_users_special[] =
	"SELECT username, coalesce(name, ''), coalesce(email, ''), array_to_json(roles)::text, "
	"array_to_json(projects)::text, auth_source FROM hpc_user "
	"WHERE roles <> '{user}'::text[] AND roles <> '{}'::text[] ORDER BY username";

/* the parsed text, else an empty array */
static struct json_object *json_array_or_empty(const char *text)
{
	char err[64];
	struct json_object *o = jsonio_parse(text, strlen(text), err, sizeof(err));
	return o ? o : json_object_new_array();
}

int h_api_users_list(struct req *r, struct resp *w)
{
	if (!r->user || !(r->user->roles & ROLE_ADMIN))
		return api_error(w, 403, "only admins are allowed to fetch a list of users");
	const char *nju = req_param(r, "not-just-user");
	PGresult *res = db_query(r->a, nju && strcmp(nju, "true") == 0 ? sql_users_special : sql_users, 0, NULL);
	if (!res)
		return api_error(w, 500, "listing users failed: %s", db_last_error());
	struct json_object *list = arena_cleanup_add(r->a, jsonio_put, json_object_new_array());
	for (int i = 0; i < PQntuples(res); i++) {
		struct json_object *u = json_object_new_object();
		json_object_object_add(u, "username", json_object_new_string(PQgetvalue(res, i, 0)));
		json_object_object_add(u, "name", json_object_new_string(PQgetvalue(res, i, 1)));
		json_object_object_add(u, "email", json_object_new_string(PQgetvalue(res, i, 2)));
		json_object_object_add(u, "roles", json_array_or_empty(PQgetvalue(res, i, 3)));
		json_object_object_add(u, "projects", json_array_or_empty(PQgetvalue(res, i, 4)));
		json_object_object_add(u, "authType", json_object_new_int(0));
		json_object_object_add(u, "authSource", json_object_new_int(atoi(PQgetvalue(res, i, 5))));
		json_object_array_add(list, u);
	}
	return api_json(w, 200, list);
}

int h_api_user_update(struct req *r, struct resp *w)
{
	if (!r->user || !(r->user->roles & ROLE_ADMIN))
		return api_error(w, 403, "only admins are allowed to update a user");
	const char *name = r->path_args[0];
	const char *v[4] = {"", "", "", ""};
	static const char *const keys[4] = {"add-role", "remove-role", "add-project", "remove-project"};
	size_t i = 0;
	while (i < r->body_len && isspace((unsigned char)r->body[i]))
		i++;
	if (i < r->body_len && r->body[i] == '{') {
		/* COMPAT a.5: a JSON body */
		char err[512];
		struct json_object *body = api_body(r, err, sizeof(err));
		const struct api_field f[] = {
			{keys[0], AF_STR, &v[0], NULL}, {keys[1], AF_STR, &v[1], NULL},
			{keys[2], AF_STR, &v[2], NULL}, {keys[3], AF_STR, &v[3], NULL},
		};
		if (!body || api_decode(r->a, body, f, 4, err, sizeof(err)) < 0)
			return api_error(w, 400, "parsing request body failed: %s", err);
	} else {
		/* what upstream's handler reads: form fields, else the query */
		for (size_t k = 0; k < 4; k++) {
			const char *x = req_form(r, keys[k]);
			if (!x)
				x = req_param(r, keys[k]);
			v[k] = x ? x : "";
		}
	}
	/* the rules are the settings page's (usermgmt), so both also end the
	 * sessions of a user who loses a role; only the wording is the API's */
	static const char *const what[4] = {"adding role", "removing role", "adding project", "removing project"};
	for (size_t k = 0; k < 4; k++) {
		if (!*v[k])
			continue;
		const char *msg;
		switch (usermgmt_update(r->a, name, (enum usermgmt_op)k, v[k], &msg)) {
		case UM_OK:
			return api_msg(w, 200, "%s for user %s", msg, name);
		case UM_NOT_FOUND: /* cc-backend's words for an unknown user */
			return api_error(w, 422, "%s failed: sql: no rows in result set", what[k]);
		default:
			return api_error(w, 422, "%s", msg);
		}
	}
	return api_error(w, 400, "no operation specified: must provide add-role, remove-role, add-project, or remove-project");
}

/* -------------------------------------------------------------- clusters */

int h_api_clusters(struct req *r, struct resp *w)
{
	if (r->user && !(r->user->roles & ROLE_API))
		return api_error(w, 403, "missing role: api");
	struct archive *ar = the_app->archive;
	struct json_object *o = arena_cleanup_add(r->a, jsonio_put, json_object_new_object());
	struct json_object *list = json_object_new_array();
	json_object_object_add(o, "clusters", list);
	const char *want = NULL;
	for (size_t i = 0; i < r->params.n; i++)
		if (strcmp(r->params.v[i].key, "cluster") == 0) {
			want = r->params.v[i].val;
			break;
		}
	if (want) {
		const struct archive_cluster *ac = ar ? archive_cluster(ar, want) : NULL;
		if (!ac)
			return api_error(w, 400, "unknown cluster: %s", want);
		json_object_array_add(list, json_object_get(ac->config));
	} else {
		for (size_t i = 0; ar && i < ar->nclusters; i++)
			json_object_array_add(list, json_object_get(ar->clusters[i].config));
	}
	return api_json(w, 200, o);
}

/* ------------------------------------------------------------ node state */

/* COMPAT a.5: one state from the scheduler's list, case-insensitive */
static const char *reduce_state(struct json_object *states)
{
	bool allocated = false, reserved = false, idle = false, down = false, mixed = false;
	size_t n = states ? json_object_array_length(states) : 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(states, i));
		allocated |= strcasecmp(s, "allocated") == 0;
		reserved |= strcasecmp(s, "reserved") == 0;
		idle |= strcasecmp(s, "idle") == 0;
		down |= strcasecmp(s, "down") == 0;
		mixed |= strcasecmp(s, "mixed") == 0;
	}
	if (allocated)
		return "allocated";
	if (reserved)
		return "reserved";
	if (idle && down)
		return "down";
	if (idle)
		return "idle";
	if (down)
		return "down";
	if (mixed)
		return "mixed";
	return "unknown";
}

/* a PostgreSQL array literal of texts (NULL elements as NULL) */
static void pg_array_add(struct buf *b, const char *s)
{
	if (b->len > 1) /* past the opening brace */
		buf_addch(b, ',');
	if (!s) {
		buf_adds(b, "NULL");
		return;
	}
	buf_addch(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_addch(b, '\\');
		buf_addch(b, *s);
	}
	buf_addch(b, '"');
}

/* All nodes of one push in one statement: new nodes get a node row (when
 * their subcluster is known: subcluster NULL skips them), every known node a
 * new node_state row. */
static const char sql_nodestate[] =
	"WITH input AS (SELECT DISTINCT ON (hostname) * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], "
	"$6::int[], $7::bigint[], $8::int[], $9::int[]) WITH ORDINALITY "
	"AS t(hostname, subcluster, node_state, health_state, cpus, mem, gpus, jobs, ord) ORDER BY hostname, ord), "
	"ins AS (INSERT INTO node (hostname, cluster, subcluster) SELECT i.hostname, $1, i.subcluster FROM input i "
	"WHERE i.subcluster IS NOT NULL AND NOT EXISTS (SELECT 1 FROM node n WHERE n.cluster = $1 AND n.hostname = i.hostname) "
	"ON CONFLICT (cluster, hostname) DO NOTHING RETURNING id, hostname), "
	"ids AS (SELECT id, hostname FROM ins UNION ALL "
	"SELECT n.id, n.hostname FROM node n WHERE n.cluster = $1 AND n.hostname = ANY($2::text[])) "
	"INSERT INTO node_state (time_stamp, node_state, health_state, cpus_allocated, memory_allocated, "
	"gpus_allocated, jobs_running, node_id) "
	"SELECT $10::bigint, i.node_state, i.health_state, i.cpus, i.mem, i.gpus, i.jobs, ids.id "
	"FROM input i JOIN ids ON ids.hostname = i.hostname";

int h_api_nodestate(struct req *r, struct resp *w)
{
	char err[512];
	int64_t now = (int64_t)time(NULL);
	const char *cluster = "";
	struct json_object *nodes = NULL;
	const struct api_field f[] = {{"cluster", AF_STR, &cluster, NULL}, {"nodes", AF_ARR, &nodes, NULL}};
	struct json_object *body = api_body(r, err, sizeof(err));
	if (!body || api_decode(r->a, body, f, 2, err, sizeof(err)) < 0)
		return api_error(w, 400, "parsing request body failed: %s", err);
	size_t n = nodes ? json_object_array_length(nodes) : 0;
	const struct archive_cluster *ac = the_app->archive ? archive_cluster(the_app->archive, cluster) : NULL;
	struct buf col[8];
	for (size_t k = 0; k < 8; k++) {
		buf_init_arena(&col[k], r->a);
		buf_addch(&col[k], '{');
	}
	size_t used = 0;
	for (size_t i = 0; i < n; i++) {
		const char *host = "";
		struct json_object *states = NULL;
		int64_t cpus = 0, mem = 0, gpus = 0, jobs = 0;
		const struct api_field nf[] = {
			{"hostname", AF_STR, &host, NULL}, {"states", AF_ARR, &states, NULL},
			{"cpusAllocated", AF_I64, &cpus, NULL}, {"memoryAllocated", AF_I64, &mem, NULL},
			{"gpusAllocated", AF_I64, &gpus, NULL}, {"jobsRunning", AF_I64, &jobs, NULL},
		};
		struct json_object *e = json_object_array_get_idx(nodes, i);
		if (!json_object_is_type(e, json_type_object) || api_decode(r->a, e, nf, 6, err, sizeof(err)) < 0)
			return api_error(w, 400, "parsing request body failed: nodes[%zu]: %s", i,
					 json_object_is_type(e, json_type_object) ? err : "expected an object");
		for (size_t s = 0; states && s < json_object_array_length(states); s++)
			if (!json_object_is_type(json_object_array_get_idx(states, s), json_type_string))
				return api_error(w, 400, "parsing request body failed: nodes[%zu].states: expected strings", i);
		if (cpus < INT32_MIN || cpus > INT32_MAX || gpus < INT32_MIN || gpus > INT32_MAX || jobs < INT32_MIN ||
		    jobs > INT32_MAX)
			return api_error(w, 400, "parsing request body failed: nodes[%zu]: a count is out of range", i);
		if (!*host)
			continue; /* (a hostname listed twice: the statement keeps the first entry) */
		const char *state = reduce_state(states);
		/* no metric store is configured: health is unknown, i.e. failed; down nodes are "full" */
		const char *health = strcmp(state, "down") == 0 ? "full" : "failed";
		const struct subcluster *sc = ac ? cluster_subcluster_for_host(ac->model, host) : NULL;
		const char *vals[8] = {host, sc ? sc->name : NULL, state, health, num(r->a, cpus), num(r->a, mem),
				       num(r->a, gpus), num(r->a, jobs)};
		for (size_t k = 0; k < 8; k++)
			pg_array_add(&col[k], vals[k]);
		used++;
	}
	if (used) {
		const char *p[10] = {cluster};
		for (size_t k = 0; k < 8; k++) {
			buf_addch(&col[k], '}');
			p[k + 1] = col[k].data;
		}
		p[9] = num(r->a, now);
		/* upstream answers 200 whatever the database says */
		if (!db_query(r->a, sql_nodestate, 10, p))
			log_err("nodestate: cluster %s: %zu nodes not recorded: %s", cluster, used, db_last_error());
	}
	w->status = 200;
	return 200;
}

/* ------------------------------------------------------------------ tags */

static const char sql_tag_id[] = "SELECT id FROM tag WHERE tag_type = $1 AND tag_name = $2 AND tag_scope = $3";
static const char sql_tag_jobs[] =
	"SELECT jt.job_id FROM jobtag jt JOIN job ON job.id = jt.job_id WHERE jt.tag_id = $1::bigint "
	"AND job.job_state <> 'running'";
static const char sql_tag_delete[] = "DELETE FROM tag WHERE id = $1::bigint";

int h_api_tags_delete(struct req *r, struct resp *w)
{
	char err[512];
	struct json_object *body = api_body(r, err, sizeof(err));
	struct api_tag *tags = NULL;
	size_t n = 0, done = 0;
	if (!api_body_null(r) && (!body || api_decode_tags(r->a, body, &tags, &n, err, sizeof(err)) < 0))
		return api_error(w, 400, "decoding request failed: %s", err);
	for (size_t i = 0; i < n; i++) {
		const struct api_tag *t = &tags[i];
		/* upstream: only global and admin tags, private ones are skipped */
		if (strcmp(t->scope, "global") != 0 && strcmp(t->scope, "admin") != 0) {
			log_info("tags: cannot delete private tag %s:%s: skipped", t->type, t->name);
			continue;
		}
		const char *p[] = {t->type, t->name, t->scope};
		PGresult *res = db_query(r->a, sql_tag_id, 3, p);
		if (!res)
			return api_error(w, 500, "removing tag failed: %s", db_last_error());
		if (PQntuples(res) == 0)
			return api_error(w, 500, "removing tag failed: tag does not exist (name, type, scope): %s, %s, %s",
					 t->name, t->type, t->scope);
		const char *id[] = {PQgetvalue(res, 0, 0)};
		PGresult *jobs = db_query(r->a, sql_tag_jobs, 1, id);
		if (!jobs || !db_query(r->a, sql_tag_delete, 1, id))
			return api_error(w, 500, "removing tag failed: %s", db_last_error());
		done++;
		/* finished jobs: their meta.json loses the tag too */
		for (int k = 0; k < PQntuples(jobs); k++) {
			struct job j;
			if (db_job_get(r->a, atoll(PQgetvalue(jobs, k, 0)), NULL, 0, &j) == 1 &&
			    api_archive_sync_tags(r->a, &j, err, sizeof(err)) < 0)
				log_warn("job %lld: updating the tags in the archive's meta.json failed: %s", (long long)j.id, err);
		}
	}
	w->status = 200;
	w->content_type = "text/plain; charset=utf-8";
	buf_addf(&w->body, "Deleted Tags from DB: %zu successfull of %zu requested\n", done, n);
	return 200;
}
