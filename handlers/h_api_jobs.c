/* The job endpoints of the REST API (COMPAT a.2, a.5): /api/jobs/... for
 * batch-system adapters and scripts, /userapi/jobs/... with the token user's
 * visibility (COMPAT f).  Bodies, status codes and messages are cc-backend's;
 * what is better than upstream:
 *  - start_job writes the job table at once (no job_cache) and the database
 *    decides duplicates: the 24 h rule runs in one transaction under an
 *    advisory lock on (cluster, jobId), and the UNIQUE key backs it, so
 *    identical concurrent starts give exactly one 201 (db_job_start: one
 *    round trip);
 *  - stop_job queues the job for archiving durably (archive_queue, in the
 *    same transaction as the state change);
 *  - multi-tag requests are all-or-nothing. */
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
#include "../app/jobdata.h"
#include "../app/jobquery.h"
#include "../app/jsonio.h"
#include "../app/log.h"
#include "../app/req.h"
#include "../app/resp.h"
#include "../app/str.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NO_ROWS "sql: no rows in result set"

static const char *num(struct arena *a, int64_t v)
{
	return arena_printf(a, "%lld", (long long)v);
}

static const char *json_text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* the Job JSON (owned by the request) */
static struct json_object *job_json(struct req *r, const struct job *j, unsigned flags)
{
	return arena_cleanup_add(r->a, jsonio_put, job_to_json(j, flags));
}

static int db_down(struct resp *w, const char *what)
{
	return api_error(w, 500, "%s: %s", what, *db_last_error() ? db_last_error() : "the database does not answer");
}

/* ------------------------------------------------------------ start_job */

static const char sql_same[] =
	"SELECT id FROM job WHERE job_id = $1::bigint AND cluster = $2 AND start_time = $3::bigint";

enum start_result { START_OK, START_DUP, START_UNIQUE, START_DB, START_TAG };

/* Without tags one round trip (db_job_start commits); with tags in a
 * transaction: upstream inserts the job before it checks the tag scopes, and
 * the id of the job it would have been is in the refusal */
static enum start_result start_db(struct req *r, struct job *j, int64_t *id, const char **bad_scope)
{
	if (j->ntags && db_begin() < 0)
		return START_DB;
	enum start_result sr = START_OK;
	int n = db_job_start(r->a, j, id);
	if (n < 0)
		sr = strcmp(db_last_sqlstate(), "23505") == 0 ? START_UNIQUE : START_DB;
	else if (n == 0)
		sr = START_DUP;
	for (size_t i = 0; sr == START_OK && i < j->ntags; i++)
		if (!api_tag_writable(r->user, j->tags[i].scope)) {
			*bad_scope = j->tags[i].scope;
			sr = START_TAG;
		}
	if (sr == START_OK && j->ntags && db_job_add_tags(r->a, *id, j) < 0)
		sr = START_DB;
	if (j->ntags) {
		if (sr == START_OK && db_commit() < 0)
			sr = START_DB;
		else if (sr != START_OK)
			db_rollback();
	}
	return sr;
}

int h_api_start_job(struct req *r, struct resp *w)
{
	char err[512];
	struct json_object *body = api_body(r, err, sizeof(err));
	if (!body)
		return api_error(w, 400, "parsing request body failed: %s", err);
	struct job j;
	if (job_from_json(r->a, body, JOB_STRICT | JOB_LEGACY, &j, err, sizeof(err)) < 0)
		return api_error(w, 400, "parsing request body failed: %s", err);
	/* the server decides these (cc-slurm-adapter sends jobState "", duration 0, ...) */
	j.state = JOB_RUNNING;
	if (!j.has_monitoring_status)
		j.monitoring_status = 1;
	j.id = 0;
	j.duration = 0;
	j.statistics = NULL;

	/* cc-backend's sanity checks, in its order and words */
	const struct archive_cluster *ac = the_app->archive && j.cluster ? archive_cluster(the_app->archive, j.cluster) : NULL;
	if (!ac)
		return api_error(w, 400, "no such cluster: %s", j.cluster ? j.cluster : "");
	const struct subcluster *sc = cluster_assign_subcluster(ac->model, j.subcluster,
								 j.nresources ? j.resources[0].hostname : NULL, err, sizeof(err));
	if (!sc)
		return api_error(w, 400, "%s", err);
	j.subcluster = sc->name;
	if (j.nresources == 0 || !j.user || !*j.user)
		return api_error(w, 400, "'resources' and 'user' should not be empty");
	if (j.num_acc < 0 || j.num_hwthreads < 0 || j.num_nodes < 1)
		return api_error(w, 400, "'numNodes', 'numAcc' or 'numHWThreads' invalid");
	if ((size_t)j.num_nodes != j.nresources)
		return api_error(w, 400, "len(resources) does not equal numNodes (%zu vs %d)", j.nresources, j.num_nodes);
	/* what the database would refuse with a 500 */
	if (j.monitoring_status < 0 || j.monitoring_status > 3)
		return api_error(w, 400, "monitoringStatus: expected 0, 1, 2 or 3, got %d", j.monitoring_status);
	if (j.start_time < 0 || j.smt < 0)
		return api_error(w, 400, "'startTime' and 'smt' must not be negative");
	for (size_t i = 0; i < j.ntags; i++)
		if (!*j.tags[i].type || !*j.tags[i].name)
			return api_error(w, 400, "tags[%zu]: type and name must not be empty", i);

	int64_t id = 0;
	const char *bad_scope = NULL;
	enum start_result sr = start_db(r, &j, &id, &bad_scope);
	switch (sr) {
	case START_OK:
		log_info("start_job: new job (id %lld): cluster=%s, jobId=%lld, user=%s, startTime=%lld",
			 (long long)id, j.cluster, (long long)j.job_id, j.user, (long long)j.start_time);
		return api_msg(w, 201, "success");
	case START_UNIQUE: {
		/* the same (jobId, cluster, startTime) committed meanwhile: the UNIQUE key answered */
		const char *p[] = {num(r->a, j.job_id), j.cluster, num(r->a, j.start_time)};
		PGresult *res = db_query(r->a, sql_same, 3, p);
		id = res && PQntuples(res) ? atoll(PQgetvalue(res, 0, 0)) : 0;
	}
		/* fall through */
	case START_DUP:
		return api_error(w, 422, "a job with that jobId, cluster and startTime already exists: dbid: %lld, jobid: %lld",
				 (long long)id, (long long)j.job_id);
	case START_TAG:
		return api_error(w, 500, "adding tag to new job %lld failed: cannot write tag scope with current authorization",
				 (long long)id);
	case START_DB:
		break;
	}
	return db_down(w, "insert into database failed");
}

/* ------------------------------------------------------------- stop_job */

static const char sql_stop[] = "UPDATE job SET job_state = $2, duration = $3::int WHERE id = $1::bigint";
static const char sql_enqueue[] = "INSERT INTO archive_queue (job_id) VALUES ($1::bigint) ON CONFLICT (job_id) DO NOTHING";

int h_api_stop_job(struct req *r, struct resp *w)
{
	char err[512];
	struct json_object *body = api_body(r, err, sizeof(err));
	int64_t job_id = 0, start = 0, stop = 0;
	const char *cluster = NULL, *state = NULL;
	bool has_id = false, has_start = false;
	const struct api_field f[] = {
		{"jobId", AF_I64, &job_id, &has_id},
		{"cluster", AF_STR, &cluster, NULL},
		{"startTime", AF_I64, &start, &has_start},
		{"jobState", AF_STR, &state, NULL},
		{"stopTime", AF_I64, &stop, NULL},
	};
	if (!body || api_decode(r->a, body, f, sizeof(f) / sizeof(f[0]), err, sizeof(err)) < 0)
		return api_error(w, 400, "parsing request body failed: %s", err);
	if (!has_id)
		return api_error(w, 400, "the field 'jobId' is required");

	if (db_begin() < 0)
		return db_down(w, "finding job failed");
	struct job j;
	int found = db_job_find(r->a, job_id, cluster, has_start ? &start : NULL, DB_JOB_FOR_UPDATE, &j);
	int status = 0;
	enum job_state ns = JOB_COMPLETED;
	int64_t duration = 0;
	if (found < 0)
		status = db_down(w, "finding job failed");
	else if (found == 0)
		status = api_error(w, 404, "finding job failed: " NO_ROWS);
	else if (j.state != JOB_RUNNING)
		status = api_error(w, 422, "jobId %lld (id %lld) on %s : job has already been stopped (state is: %s)",
				   (long long)j.job_id, (long long)j.id, j.cluster, job_state_name(j.state));
	else if (j.start_time > stop)
		status = api_error(w, 400, "jobId %lld (id %lld) on %s : stopTime %lld must be larger/equal than startTime %lld",
				   (long long)j.job_id, (long long)j.id, j.cluster, (long long)stop, (long long)j.start_time);
	else if (state && *state && (job_state_parse(state, &ns) < 0 || ns == JOB_RUNNING))
		status = api_error(w, 400, "jobId %lld (id %lld) on %s : invalid requested job state: \"%.40s\"",
				   (long long)j.job_id, (long long)j.id, j.cluster, state);
	else if ((duration = stop - j.start_time) > INT32_MAX)
		status = api_error(w, 400, "jobId %lld (id %lld) on %s : duration %lld s is out of range",
				   (long long)j.job_id, (long long)j.id, j.cluster, (long long)duration);
	if (status) {
		db_rollback();
		return status;
	}
	const char *p[] = {num(r->a, j.id), job_state_name(ns), num(r->a, duration)};
	bool ok = db_query(r->a, sql_stop, 3, p) != NULL;
	/* durable: the task runner archives what this table holds (monitoringStatus 0: nothing to archive) */
	if (ok && j.monitoring_status != 0)
		ok = db_query(r->a, sql_enqueue, 1, p) != NULL;
	if (!ok || db_commit() < 0) {
		if (!ok)
			db_rollback();
		return api_error(w, 500, "jobId %lld (id %lld) on %s : marking job as '%s' (duration: %lld) in DB failed: %s",
				 (long long)j.job_id, (long long)j.id, j.cluster, job_state_name(ns), (long long)duration,
				 db_last_error());
	}
	j.state = ns;
	j.duration = (int32_t)duration;
	log_info("stop_job: archiving job (dbid: %lld): cluster=%s, jobId=%lld, user=%s, startTime=%lld, duration=%lld, state=%s",
		 (long long)j.id, j.cluster, (long long)j.job_id, j.user, (long long)j.start_time, (long long)duration,
		 job_state_name(ns));
	return api_json(w, 200, job_json(r, &j, 0));
}

/* ------------------------------------------------------------ job lists */

static int atoi_err(struct resp *w, const char *v)
{
	return api_error(w, 400, "strconv.Atoi: parsing \"%.40s\": invalid syntax", v);
}

int h_api_jobs_list(struct req *r, struct resp *w)
{
	struct job_filter f;
	jobquery_filter_all(&f);
	int64_t page = 1, ipp = 25;
	bool with_meta = false, seen_cluster = false, seen_project = false, seen_time = false, seen_page = false,
	     seen_ipp = false;
	char err[128];
	for (size_t i = 0; i < r->params.n; i++) {
		const char *k = r->params.v[i].key, *v = r->params.v[i].val;
		/* like Go's url.Values: the first value of a key counts (state: all of them) */
		if (strcmp(k, "state") == 0) {
			enum job_state s;
			if (job_state_parse(v, &s) < 0)
				return api_error(w, 400, "invalid query parameter value: state");
			f.states |= 1u << s;
		} else if (strcmp(k, "cluster") == 0) {
			if (!seen_cluster)
				f.cluster = v;
			seen_cluster = true;
		} else if (strcmp(k, "project") == 0) {
			if (!seen_project) {
				f.project = v;
				f.project_match = MATCH_EQ;
			}
			seen_project = true;
		} else if (strcmp(k, "start-time") == 0) {
			if (seen_time)
				continue;
			seen_time = true;
			const char *dash = strchr(v, '-');
			if (!dash || strchr(dash + 1, '-'))
				return api_error(w, 400, "invalid query parameter value: startTime");
			int64_t from, to;
			char *a = arena_strndup(r->a, v, (size_t)(dash - v));
			if (api_parse_i64(a, &from, err, sizeof(err)) < 0 || api_parse_i64(dash + 1, &to, err, sizeof(err)) < 0)
				return api_error(w, 400, "%s", err);
			f.start_time.set = true;
			f.start_time.from = (double)from;
			f.start_time.to = (double)to;
		} else if (strcmp(k, "page") == 0) {
			if (seen_page)
				continue;
			seen_page = true;
			if (api_parse_i64(v, &page, err, sizeof(err)) < 0)
				return atoi_err(w, v);
			if (page < 1)
				return api_error(w, 400, "invalid query parameter value: page");
		} else if (strcmp(k, "items-per-page") == 0) {
			if (seen_ipp)
				continue;
			seen_ipp = true;
			if (api_parse_i64(v, &ipp, err, sizeof(err)) < 0)
				return atoi_err(w, v);
			if (ipp < 1)
				return api_error(w, 400, "invalid query parameter value: items-per-page");
		} else if (strcmp(k, "with-metadata") == 0) {
			with_meta = true; /* presence alone, as upstream: =false loads it too */
		} else {
			return api_error(w, 400, "invalid query parameter: %s", k);
		}
	}

	struct json_object *o = arena_cleanup_add(r->a, jsonio_put, json_object_new_object());
	struct json_object *jobs = json_object_new_array();
	json_object_object_add(o, "jobs", jobs);
	json_object_object_add(o, "items", json_object_new_int64(ipp));
	json_object_object_add(o, "page", json_object_new_int64(page));
	if (page - 1 > INT64_MAX / ipp)
		return api_json(w, 200, o); /* past any table */

	struct sqlq q;
	sqlq_init(&q, r->a);
	db_job_select(&q, r->user, DB_JOB_TAGS);
	jobquery_where(&q, &f, r->user);
	buf_adds(&q.sql, " ORDER BY job.start_time DESC, job.id DESC LIMIT ");
	sqlq_param(&q, num(r->a, ipp), "::bigint");
	buf_adds(&q.sql, " OFFSET ");
	sqlq_param(&q, num(r->a, (page - 1) * ipp), "::bigint");
	PGresult *res = db_query_once(r->a, q.sql.data, q.nparams, q.params);
	if (!res)
		return db_down(w, "listing jobs failed");
	for (int i = 0; i < PQntuples(res); i++) {
		struct job j;
		char derr[256];
		if (db_job_decode(r->a, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0), &j, derr, sizeof(derr)) < 0)
			return api_error(w, 500, "listing jobs failed: %s", derr);
		unsigned flags = (with_meta ? JOB_WITH_META : 0) | (j.monitoring_status == 3 ? JOB_WITH_STATISTICS : 0);
		json_object_array_add(jobs, job_to_json(&j, flags));
	}
	return api_json(w, 200, o);
}

/* ----------------------------------------------------------- used_nodes */

static const char sql_used[] =
	"SELECT DISTINCT job.cluster, (e->>'hostname') COLLATE \"C\" FROM job CROSS JOIN LATERAL jsonb_array_elements(job.resources) AS e "
	"WHERE job.job_state = 'running' AND job.start_time < $1::bigint ORDER BY 1, 2";

int h_api_used_nodes(struct req *r, struct resp *w)
{
	if (r->user && !(r->user->roles & ROLE_API))
		return api_error(w, 403, "missing role: api");
	const char *ts = req_param(r, "ts");
	if (!ts || !*ts)
		return api_error(w, 400, "missing required query parameter: ts");
	int64_t t;
	char err[128];
	if (api_parse_i64(ts, &t, err, sizeof(err)) < 0)
		return api_error(w, 400, "invalid timestamp format: %s", err);
	const char *p[] = {num(r->a, t)};
	PGresult *res = db_query(r->a, sql_used, 1, p);
	if (!res)
		return db_down(w, "getting used nodes failed");
	struct json_object *o = arena_cleanup_add(r->a, jsonio_put, json_object_new_object());
	struct json_object *used = json_object_new_object(), *hosts = NULL;
	json_object_object_add(o, "usedNodes", used);
	const char *cur = NULL;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *c = PQgetvalue(res, i, 0);
		if (!cur || strcmp(cur, c) != 0) {
			hosts = json_object_new_array();
			json_object_object_add(used, c, hosts);
			cur = c;
		}
		json_object_array_add(hosts, json_object_new_string(PQgetvalue(res, i, 1)));
	}
	return api_json(w, 200, o);
}

/* ------------------------------------------------------------------ tags */

static const char sql_tag_id[] = "SELECT id FROM tag WHERE tag_type = $1 AND tag_name = $2 AND tag_scope = $3";
static const char sql_tag_create[] =
	"WITH ins AS (INSERT INTO tag (tag_type, tag_name, tag_scope) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id) "
	"SELECT id FROM ins UNION ALL SELECT id FROM tag WHERE tag_type = $1 AND tag_name = $2 AND tag_scope = $3";
static const char sql_jobtag_add[] = "INSERT INTO jobtag (job_id, tag_id) VALUES ($1::bigint, $2::bigint)";
static const char sql_jobtag_del[] = "DELETE FROM jobtag WHERE job_id = $1::bigint AND tag_id = $2::bigint";

/* the job of a /tag_job/{id} or /edit_meta/{id} path: 0 or an answered status */
static int job_by_path(struct req *r, struct resp *w, unsigned flags, struct job *j)
{
	int64_t id;
	char err[128];
	if (api_parse_i64(r->path_args[0], &id, err, sizeof(err)) < 0)
		return api_error(w, 400, "parsing job ID failed: %s", err);
	int found = db_job_get(r->a, id, r->user, flags, j);
	if (found < 0)
		return db_down(w, "finding job failed");
	if (found == 0)
		return api_error(w, 404, "finding job failed: " NO_ROWS);
	return 0;
}

static void sync_archive_tags(struct req *r, const struct job *j)
{
	char err[512];
	if (api_archive_sync_tags(r->a, j, err, sizeof(err)) < 0)
		log_warn("job %lld: updating the tags in the archive's meta.json failed: %s", (long long)j->id, err);
}

/* tag_job and its DELETE: the job of the path (with its tags) and the tags of the body */
static int tag_request(struct req *r, struct resp *w, struct job *j, struct api_tag **tags, size_t *n)
{
	int st = job_by_path(r, w, DB_JOB_TAGS, j);
	if (st)
		return st;
	char err[512];
	struct json_object *body = api_body(r, err, sizeof(err));
	*tags = NULL;
	*n = 0;
	if (!api_body_null(r) && (!body || api_decode_tags(r->a, body, tags, n, err, sizeof(err)) < 0))
		return api_error(w, 400, "decoding request failed: %s", err);
	return 0;
}

int h_api_tag_job(struct req *r, struct resp *w)
{
	struct job j;
	struct api_tag *tags;
	size_t n;
	int st = tag_request(r, w, &j, &tags, &n);
	if (st)
		return st;
	for (size_t i = 0; i < n; i++) {
		if (!*tags[i].scope)
			tags[i].scope = "global";
		if (!*tags[i].type || !*tags[i].name)
			return api_error(w, 400, "decoding request failed: tags[%zu]: type and name must not be empty", i);
	}
	struct job_tag *all = arena_calloc(r->a, j.ntags + n + 1, sizeof(*all));
	if (j.ntags)
		memcpy(all, j.tags, j.ntags * sizeof(*all));
	if (db_begin() < 0)
		return db_down(w, "adding tag failed");
	st = 0;
	for (size_t i = 0; i < n && !st; i++) {
		const struct api_tag *t = &tags[i];
		if (!api_tag_writable(r->user, t->scope)) {
			st = api_error(w, 500, "adding tag failed: cannot write tag scope with current authorization");
			break;
		}
		const char *p[] = {t->type, t->name, t->scope};
		PGresult *res = db_query(r->a, sql_tag_create, 3, p);
		if (res && PQntuples(res) == 0) /* created by someone else this instant */
			res = db_query(r->a, sql_tag_id, 3, p);
		if (!res || PQntuples(res) == 0) {
			st = db_down(w, "adding tag failed");
			break;
		}
		const char *tid = PQgetvalue(res, 0, 0);
		const char *jp[] = {num(r->a, j.id), tid};
		if (!db_query(r->a, sql_jobtag_add, 2, jp)) {
			/* upstream: the PK of jobtag refuses a tag the job has already */
			if (strcmp(db_last_sqlstate(), "23505") == 0)
				st = api_error(w, 500, "adding tag failed: the job already has the tag (name, type, scope): %s, %s, %s",
					       t->name, t->type, t->scope);
			else
				st = db_down(w, "adding tag failed");
			break;
		}
		all[j.ntags + i] = (struct job_tag){atoll(tid), t->type, t->name, t->scope};
	}
	if (st) {
		db_rollback();
		return st;
	}
	if (db_commit() < 0)
		return db_down(w, "adding tag failed");
	j.tags = all;
	j.ntags += n;
	sync_archive_tags(r, &j);
	return api_json(w, 200, job_json(r, &j, 0));
}

int h_api_untag_job(struct req *r, struct resp *w)
{
	struct job j;
	struct api_tag *tags;
	size_t n;
	int st = tag_request(r, w, &j, &tags, &n);
	if (st)
		return st;
	if (db_begin() < 0)
		return db_down(w, "removing tag failed");
	for (size_t i = 0; i < n && !st; i++) {
		const struct api_tag *t = &tags[i];
		/* upstream: only global and admin tags, private ones are skipped */
		if (strcmp(t->scope, "global") != 0 && strcmp(t->scope, "admin") != 0) {
			log_info("tag_job: cannot delete private tag %s:%s of job %lld: skipped", t->type, t->name, (long long)j.job_id);
			continue;
		}
		const char *p[] = {t->type, t->name, t->scope};
		PGresult *res = db_query(r->a, sql_tag_id, 3, p);
		if (!res) {
			st = db_down(w, "removing tag failed");
		} else if (PQntuples(res) == 0) {
			st = api_error(w, 500, "removing tag failed: tag does not exist (name, type, scope): %s, %s, %s",
				       t->name, t->type, t->scope);
		} else {
			const char *jp[] = {num(r->a, j.id), PQgetvalue(res, 0, 0)};
			if (!db_query(r->a, sql_jobtag_del, 2, jp))
				st = db_down(w, "removing tag failed");
		}
	}
	if (st) {
		db_rollback();
		return st;
	}
	if (db_commit() < 0)
		return db_down(w, "removing tag failed");
	int found = db_job_get(r->a, j.id, r->user, DB_JOB_TAGS, &j);
	if (found <= 0)
		return found < 0 ? db_down(w, "getting tags failed") : api_error(w, 404, "finding job failed: " NO_ROWS);
	sync_archive_tags(r, &j);
	return api_json(w, 200, job_json(r, &j, 0));
}

/* ------------------------------------------------------------ edit_meta */

static const char sql_set_meta[] =
	"UPDATE job SET meta_data = jsonb_set(coalesce(meta_data, '{}'::jsonb), ARRAY[$2::text], to_jsonb($3::text)) "
	"WHERE id = $1::bigint RETURNING meta_data::text";

/* set one key; 0, or -1 with err (the job's meta_data is updated in j) */
static int set_meta(struct req *r, struct job *j, const char *key, const char *value, char *err, size_t errlen)
{
	const char *p[] = {num(r->a, j->id), key, value};
	PGresult *res = db_query(r->a, sql_set_meta, 3, p);
	if (!res || PQntuples(res) != 1) {
		snprintf(err, errlen, "%s", res ? NO_ROWS : db_last_error());
		return -1;
	}
	struct json_object *m = jsonio_parse(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), err, errlen);
	if (!m)
		return -1;
	j->meta_data = arena_cleanup_add(r->a, jsonio_put, m);
	/* a finished job's meta.json says the same */
	return api_archive_set_meta(r->a, j, "metaData", j->meta_data, err, errlen);
}

int h_api_edit_meta_id(struct req *r, struct resp *w)
{
	struct job j;
	int st = job_by_path(r, w, 0, &j);
	if (st)
		return st;
	char err[512];
	const char *key = "", *value = "";
	const struct api_field f[] = {{"key", AF_STR, &key, NULL}, {"value", AF_STR, &value, NULL}};
	struct json_object *body = api_body(r, err, sizeof(err));
	if (!body || api_decode(r->a, body, f, 2, err, sizeof(err)) < 0)
		return api_error(w, 400, "decoding request failed: %s", err);
	if (set_meta(r, &j, key, value, err, sizeof(err)) < 0)
		return api_error(w, 500, "updating metadata failed: %s", err);
	return api_json(w, 200, job_json(r, &j, JOB_WITH_META));
}

int h_api_edit_meta(struct req *r, struct resp *w)
{
	char err[512];
	int64_t job_id = 0, start = 0;
	const char *cluster = NULL, *key = "", *value = "";
	bool has_id = false, has_start = false;
	struct json_object *payload = NULL;
	const struct api_field f[] = {
		{"jobId", AF_I64, &job_id, &has_id},
		{"cluster", AF_STR, &cluster, NULL},
		{"startTime", AF_I64, &start, &has_start},
		{"payload", AF_OBJ, &payload, NULL},
	};
	const struct api_field pf[] = {{"key", AF_STR, &key, NULL}, {"value", AF_STR, &value, NULL}};
	struct json_object *body = api_body(r, err, sizeof(err));
	if (!body || api_decode(r->a, body, f, sizeof(f) / sizeof(f[0]), err, sizeof(err)) < 0 ||
	    (payload && api_decode(r->a, payload, pf, 2, err, sizeof(err)) < 0))
		return api_error(w, 400, "parsing request body failed: %s", err);
	if (!has_id)
		return api_error(w, 400, "the field 'jobId' is required");
	struct job j;
	int found = db_job_find(r->a, job_id, cluster, has_start ? &start : NULL, 0, &j);
	if (found < 0)
		return db_down(w, "finding job failed");
	if (found == 0)
		return api_error(w, 422, "finding job failed: " NO_ROWS);
	if (set_meta(r, &j, key, value, err, sizeof(err)) < 0) /* (upstream: the bare message as text/plain) */
		return api_error(w, 500, "updating metadata failed: %s", err);
	return api_json(w, 200, job_json(r, &j, JOB_WITH_META));
}

/* ------------------------------------------------------------ delete_job */

static const char sql_delete_id[] = "DELETE FROM job WHERE id = $1::bigint";
static const char sql_delete_before[] = "DELETE FROM job WHERE start_time < $1::bigint";
static const char sql_delete_before_all[] =
	"DELETE FROM job WHERE start_time < $1::bigint AND NOT EXISTS (SELECT 1 FROM jobtag jt WHERE jt.job_id = job.id)";
static const char sql_delete_before_user[] =
	"DELETE FROM job WHERE start_time < $1::bigint AND NOT EXISTS (SELECT 1 FROM jobtag jt JOIN tag t ON t.id = jt.tag_id "
	"WHERE jt.job_id = job.id AND t.tag_type NOT IN ('app', 'jobClass'))";

int h_api_delete_job_id(struct req *r, struct resp *w)
{
	int64_t id;
	char err[128];
	if (api_parse_i64(r->path_args[0], &id, err, sizeof(err)) < 0)
		return api_error(w, 400, "integer expected in path for id: %s", err);
	const char *p[] = {num(r->a, id)};
	if (!db_query(r->a, sql_delete_id, 1, p))
		return api_error(w, 422, "deleting job failed: %s", db_last_error());
	return api_msg(w, 200, "Successfully deleted job %lld", (long long)id);
}

int h_api_delete_job(struct req *r, struct resp *w)
{
	char err[512];
	int64_t job_id = 0, start = 0;
	const char *cluster = NULL;
	bool has_id = false, has_start = false;
	const struct api_field f[] = {
		{"jobId", AF_I64, &job_id, &has_id},
		{"cluster", AF_STR, &cluster, NULL},
		{"startTime", AF_I64, &start, &has_start},
	};
	struct json_object *body = api_body(r, err, sizeof(err));
	if (!body || api_decode(r->a, body, f, sizeof(f) / sizeof(f[0]), err, sizeof(err)) < 0)
		return api_error(w, 400, "parsing request body failed: %s", err);
	if (!has_id)
		return api_error(w, 400, "the field 'jobId' is required");
	struct job j;
	int found = db_job_find(r->a, job_id, cluster, has_start ? &start : NULL, 0, &j);
	if (found < 0)
		return db_down(w, "finding job failed");
	if (found == 0)
		return api_error(w, 422, "finding job failed: " NO_ROWS);
	const char *p[] = {num(r->a, j.id)};
	if (!db_query(r->a, sql_delete_id, 1, p))
		return api_error(w, 422, "deleting job failed: %s", db_last_error());
	return api_msg(w, 200, "Successfully deleted job %lld", (long long)j.id);
}

int h_api_delete_job_before(struct req *r, struct resp *w)
{
	int64_t ts;
	char err[128];
	if (api_parse_i64(r->path_args[0], &ts, err, sizeof(err)) < 0)
		return api_error(w, 400, "integer expected in path for ts: %s", err);
	const char *omit = req_param(r, "omit-tagged");
	const char *sql = sql_delete_before;
	if (omit && *omit && strcmp(omit, "none") != 0) {
		if (strcmp(omit, "all") == 0)
			sql = sql_delete_before_all;
		else if (strcmp(omit, "user") == 0)
			sql = sql_delete_before_user;
		else
			return api_error(w, 400, "omit-tagged must be one of: none, all, user");
	}
	const char *p[] = {num(r->a, ts)};
	PGresult *res = db_query(r->a, sql, 1, p);
	if (!res)
		return api_error(w, 422, "deleting jobs failed: %s", db_last_error());
	return api_msg(w, 200, "Successfully deleted %s jobs", PQcmdTuples(res));
}

/* ------------------------------------------------------------ job data */

static void jd_free(void *p)
{
	jobdata_free(p);
}

static int cmp_metric(const void *a, const void *b)
{
	const struct jobdata_metric *x = *(struct jobdata_metric *const *)a, *y = *(struct jobdata_metric *const *)b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->scope, y->scope);
}

static bool in_list(const char *s, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, v[i]) == 0)
			return true;
	return false;
}

/* A finished job's metric data from the archive, as cc-backend's LoadData
 * gives it: only the named metrics (all when metrics == NULL); a metric
 * stored at several scopes keeps only the requested ones (all when none of
 * them is there); resampled to resolution (s, 0 = native); statisticsSeries
 * added for metrics with many series; sorted by metric and scope.  NULL with
 * err when there is nothing to give (running jobs need a metric store). */
static struct jobdata *load_data(struct req *r, const struct job *j, const char *const *metrics, size_t nmetrics,
				 const char *const *scopes, size_t nscopes, int resolution, char *err, size_t errlen)
{
	char key[1024];
	if (j->state == JOB_RUNNING) {
		snprintf(err, errlen, "job %lld is running: its metric data comes from a metric store, and none is configured",
			 (long long)j->id);
		return NULL;
	}
	if (!the_app->archive || archive_job_key(j->cluster, j->job_id, j->start_time, key, sizeof(key)) < 0) {
		snprintf(err, errlen, "job %lld: no job archive", (long long)j->id);
		return NULL;
	}
	size_t len;
	char *raw = archive_read_data(the_app->archive, key, &len, err, errlen);
	if (!raw)
		return NULL;
	struct jobdata *d = jobdata_decode(raw, len, NULL, err, errlen);
	free(raw);
	if (!d)
		return NULL;
	arena_cleanup_add(r->a, jd_free, d);

	/* the selection, as a view on d */
	struct jobdata view;
	memset(&view, 0, sizeof(view));
	view.metrics = arena_calloc(r->a, d->nmetrics + 1, sizeof(*view.metrics));
	for (size_t i = 0; i < d->nmetrics; i++) {
		struct jobdata_metric *m = d->metrics[i];
		if (metrics && !in_list(m->name, metrics, nmetrics))
			continue;
		size_t nscope = 0, nwanted = 0;
		for (size_t k = 0; k < d->nmetrics; k++)
			if (strcmp(d->metrics[k]->name, m->name) == 0) {
				nscope++;
				nwanted += in_list(d->metrics[k]->scope, scopes, nscopes);
			}
		if (nscope > 1 && nwanted > 0 && !in_list(m->scope, scopes, nscopes))
			continue;
		view.metrics[view.nmetrics++] = m;
	}
	struct jobdata *out = jobdata_resampled(&view, resolution, JOBDATA_RESAMPLE_MIN_POINTS);
	arena_cleanup_add(r->a, jd_free, out);
	jobdata_add_stats_series(out, JOBDATA_STATS_SERIES_MIN);
	qsort(out->metrics, out->nmetrics, sizeof(*out->metrics), cmp_metric);
	return out;
}

static void put_str(struct req *r, struct buf *b, const char *s)
{
	struct json_object *o = arena_cleanup_add(r->a, jsonio_put, json_object_new_string(s));
	buf_adds(b, json_text(o));
}

/* one JobMetric object as jobdata_write formats it */
static void put_metric(struct buf *b, struct jobdata_metric *m)
{
	struct jobdata one;
	memset(&one, 0, sizeof(one));
	struct jobdata_metric *v[1] = {m};
	one.metrics = v;
	one.nmetrics = 1;
	struct buf t = BUF_INIT;
	jobdata_write(&one, &t);
	/* t = {"<name>":{"<scope>":<metric>}}: skip the two keys */
	const char *p = t.data + 1;
	for (int key = 0; key < 2; key++) {
		p++; /* opening quote */
		while (*p != '"')
			p += *p == '\\' ? 2 : 1;
		p += key == 0 ? 3 : 2; /* '":{' or '":' */
	}
	size_t len = t.len - (size_t)(p - t.data) - 2;
	buf_add(b, p, len);
	buf_release(&t);
}

/* the data of /api/jobs/{id} (GET or POST) and /api/jobs/metrics/{id}: lookup of path id */
static int job_for_data(struct req *r, struct resp *w, struct job *j)
{
	int64_t id;
	char err[128];
	if (api_parse_i64(r->path_args[0], &id, err, sizeof(err)) < 0)
		return api_error(w, 400, "integer expected in path for id: %s", err);
	int found = db_job_get(r->a, id, r->user, DB_JOB_TAGS, j);
	if (found < 0)
		return db_down(w, "finding job failed");
	if (found == 0)
		return api_error(w, 422, "finding job with db id %s failed: " NO_ROWS, r->path_args[0]);
	return 0;
}

static const char *default_scope(const struct job *j)
{
	return j->num_nodes == 1 ? "core" : "node";
}

int h_api_job_get(struct req *r, struct resp *w)
{
	struct job j;
	int st = job_for_data(r, w, &j);
	if (st)
		return st;
	struct buf b;
	buf_init_arena(&b, r->a);
	buf_adds(&b, "{\"Meta\":");
	buf_adds(&b, json_text(job_json(r, &j, JOB_WITH_META)));
	buf_adds(&b, ",\"Data\":");
	const char *all = req_param(r, "all-metrics");
	struct jobdata *d = NULL;
	if (all && strcmp(all, "true") == 0) {
		char err[512];
		const char *scope = default_scope(&j);
		const struct archive_cluster *ac = the_app->archive ? archive_cluster(the_app->archive, j.cluster) : NULL;
		d = load_data(r, &j, NULL, 0, &scope, 1, ac ? cluster_max_timestep(ac->model) : 0, err, sizeof(err));
		if (!d)
			log_info("job %lld: no metric data for the REST answer: %s", (long long)j.id, err);
	}
	if (d)
		jobdata_write(d, &b);
	else
		buf_adds(&b, "null");
	buf_addch(&b, '}');
	return api_json_text(w, 200, b.data, b.len);
}

int h_api_job_post(struct req *r, struct resp *w)
{
	struct job j;
	int st = job_for_data(r, w, &j);
	if (st)
		return st;
	char err[512];
	const char **names = NULL;
	size_t n = 0;
	if (!api_body_null(r)) { /* null: all metrics */
		struct json_object *body = api_body(r, err, sizeof(err));
		if (!body)
			return api_error(w, 400, "decoding request failed: %s", err);
		if (!json_object_is_type(body, json_type_array))
			return api_error(w, 400, "decoding request failed: expected an array of metric names, got %s",
					 jsonio_type_name(body));
		n = json_object_array_length(body);
		names = arena_calloc(r->a, n + 1, sizeof(*names));
		for (size_t i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(body, i);
			if (!json_object_is_type(e, json_type_string))
				return api_error(w, 400, "decoding request failed: metric names must be strings, got %s",
						 jsonio_type_name(e));
			names[i] = json_object_get_string(e);
		}
	}
	struct buf b;
	buf_init_arena(&b, r->a);
	buf_adds(&b, "{\"Meta\":");
	buf_adds(&b, json_text(job_json(r, &j, JOB_WITH_META)));
	buf_adds(&b, ",\"Data\":");
	const char *scope = default_scope(&j);
	struct jobdata *d = load_data(r, &j, names, n, &scope, 1, 0, err, sizeof(err));
	if (!d) {
		log_info("job %lld: no metric data for the REST answer: %s", (long long)j.id, err);
		buf_adds(&b, "null");
	} else {
		buf_addch(&b, '[');
		for (size_t i = 0; i < d->nmetrics; i++) {
			if (i)
				buf_addch(&b, ',');
			buf_adds(&b, "{\"metric\":");
			put_metric(&b, d->metrics[i]);
			buf_adds(&b, ",\"name\":");
			put_str(r, &b, d->metrics[i]->name);
			buf_adds(&b, ",\"scope\":");
			put_str(r, &b, d->metrics[i]->scope);
			buf_addch(&b, '}');
		}
		buf_addch(&b, ']');
	}
	buf_addch(&b, '}');
	return api_json_text(w, 200, b.data, b.len);
}

/* GET /api/jobs/metrics/{id}?metric=..&scope=..: always 200 with a GraphQL-like envelope */
int h_api_job_metrics(struct req *r, struct resp *w)
{
	const char **metrics = arena_calloc(r->a, r->params.n + 1, sizeof(char *));
	const char **scopes = arena_calloc(r->a, r->params.n + 1, sizeof(char *));
	size_t nm = 0, ns = 0;
	for (size_t i = 0; i < r->params.n; i++) {
		const char *k = r->params.v[i].key, *v = r->params.v[i].val;
		if (strcmp(k, "metric") == 0) {
			metrics[nm++] = v;
		} else if (strcmp(k, "scope") == 0) {
			enum metric_scope s;
			if (!*v || scope_parse(v, &s) < 0) {
				w->content_type = "text/plain; charset=utf-8";
				buf_addf(&w->body, "%.60s is not a valid MetricScope\n", v);
				return 400;
			}
			scopes[ns++] = v;
		}
	}
	char err[512];
	struct jobdata *d = NULL;
	int64_t id;
	struct job j;
	if (api_parse_i64(r->path_args[0], &id, err, sizeof(err)) == 0) {
		int found = db_job_get(r->a, id, r->user, 0, &j);
		if (found < 0)
			snprintf(err, sizeof(err), "%s", db_last_error());
		else if (found == 0)
			snprintf(err, sizeof(err), NO_ROWS);
		else
			d = load_data(r, &j, nm ? metrics : NULL, nm, scopes, ns, 0, err, sizeof(err));
	}
	struct buf b;
	buf_init_arena(&b, r->a);
	if (!d) {
		buf_adds(&b, "{\"data\":null,\"error\":{\"message\":");
		put_str(r, &b, err);
		buf_adds(&b, "}}");
		return api_json_text(w, 200, b.data, b.len);
	}
	buf_adds(&b, "{\"data\":{\"jobMetrics\":[");
	for (size_t i = 0; i < d->nmetrics; i++) {
		if (i)
			buf_addch(&b, ',');
		buf_adds(&b, "{\"name\":");
		put_str(r, &b, d->metrics[i]->name);
		buf_adds(&b, ",\"scope\":");
		put_str(r, &b, d->metrics[i]->scope);
		buf_adds(&b, ",\"metric\":");
		put_metric(&b, d->metrics[i]);
		buf_addch(&b, '}');
	}
	buf_adds(&b, "]},\"error\":null}");
	return api_json_text(w, 200, b.data, b.len);
}
