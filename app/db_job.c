#include "config.h"
#include "db_job.h"
#include "arena.h"
#include "auth.h"
#include "db.h"
#include "job.h"
#include "jobquery.h"
#include "jsonio.h"
#include "log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INSERT_COLUMNS                                                                                        \
	"INSERT INTO job (job_id, cluster, subcluster, cluster_partition, project, hpc_user, shared, job_state, "   \
	"submit_time, start_time, duration, walltime, num_nodes, num_hwthreads, num_acc, smt, monitoring_status, " \
	"energy, energy_footprint, footprint, meta_data, resources, statistics, array_job_id, requested_memory, preview) "
#define INSERT_VALUES                                                                                         \
	"$1::bigint, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::bigint, "          \
	"$10::bigint, $11::int, $12::int, $13::int, $14::int, $15::int, $16::int, $17::smallint, $18::float8, "    \
	"$19::jsonb, $20::jsonb, $21::jsonb, $22::jsonb, $23::json, $24::bigint, $25::bigint, $26::json"
#define INSERT_NPARAMS 26

static const char sql_insert[] = INSERT_COLUMNS "VALUES (" INSERT_VALUES ") RETURNING id";

static const char *js(struct json_object *o)
{
	return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
}

static const char *num(struct arena *a, int64_t v)
{
	return arena_printf(a, "%lld", (long long)v);
}

/* the INSERT_VALUES parameters of j */
static void insert_params(struct arena *a, const struct job *j, struct json_object *footprint,
			  struct json_object *energy_footprint, double energy, const char *preview,
			  const char *p[INSERT_NPARAMS])
{
	struct json_object *res = arena_cleanup_add(a, jsonio_put, job_resources_json(j));
	const char *v[INSERT_NPARAMS] = {
		num(a, j->job_id), j->cluster, j->subcluster ? j->subcluster : "",
		j->partition && *j->partition ? j->partition : NULL, j->project ? j->project : "",
		j->user ? j->user : "", job_shared_name(j->shared), job_state_name(j->state),
		num(a, j->submit_time > 0 ? j->submit_time : 0), num(a, j->start_time),
		num(a, j->duration > 0 ? j->duration : 0),
		num(a, j->walltime > 0 && j->walltime < INT32_MAX ? j->walltime : 0), num(a, j->num_nodes),
		num(a, j->num_hwthreads > 0 ? j->num_hwthreads : 0), num(a, j->num_acc > 0 ? j->num_acc : 0),
		num(a, j->smt >= 0 ? j->smt : 1), num(a, j->monitoring_status), arena_printf(a, "%.2f", energy),
		js(energy_footprint), js(footprint), js(j->meta_data), js(res), js(j->statistics),
		j->array_job_id > 0 ? num(a, j->array_job_id) : NULL,
		j->requested_memory > 0 ? num(a, j->requested_memory) : NULL, preview,
	};
	memcpy(p, v, sizeof(v));
}

int db_job_insert(struct arena *a, const struct job *j, struct json_object *footprint,
		  struct json_object *energy_footprint, double energy, const char *preview, int64_t *id)
{
	const char *p[INSERT_NPARAMS];
	insert_params(a, j, footprint, energy_footprint, energy, preview, p);
	PGresult *r = db_query(a, sql_insert, INSERT_NPARAMS, p);
	if (!r)
		return -1;
	*id = atoll(PQgetvalue(r, 0, 0));
	return 0;
}

/* start_job (COMPAT a.5 step 3): the advisory lock on (cluster, jobId) first,
 * so that the second statement, with its own snapshot, sees every start of
 * that job that committed while it waited.  The duplicate rule is upstream's,
 * one-sided: an existing job with existing.startTime > startTime - 86400. */
static const char sql_start_lock[] = "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))";
static const char sql_start[] =
	"WITH dup AS (SELECT id FROM job WHERE job_id = $1::bigint AND cluster = $2::text "
	"AND start_time > $10::bigint - 86400 ORDER BY id LIMIT 1), "
	"ins AS (" INSERT_COLUMNS "SELECT " INSERT_VALUES " WHERE NOT EXISTS (SELECT FROM dup) RETURNING id) "
	"SELECT id, true FROM ins UNION ALL SELECT id, false FROM dup";

int db_job_start(struct arena *a, const struct job *j, int64_t *id)
{
	const char *p[INSERT_NPARAMS];
	insert_params(a, j, j->footprint, j->energy_footprint, j->energy, NULL, p);
	const char *lk[] = {j->cluster, p[0]};
	struct db_stmt st[] = {{sql_start_lock, 2, lk, NULL}, {sql_start, INSERT_NPARAMS, p, NULL}};
	if (db_pipeline(a, st, 2) < 0)
		return -1;
	if (PQntuples(st[1].res) != 1) {
		log_err("start_job: the insert answered %d rows", PQntuples(st[1].res));
		return -1;
	}
	*id = atoll(PQgetvalue(st[1].res, 0, 0));
	return PQgetvalue(st[1].res, 0, 1)[0] == 't' ? 1 : 0;
}

static const char sql_tag[] =
	"WITH t AS (INSERT INTO tag (tag_type, tag_name, tag_scope) VALUES ($2, $3, $4) "
	"ON CONFLICT (tag_type, tag_name, tag_scope) DO UPDATE SET tag_type = EXCLUDED.tag_type RETURNING id) "
	"INSERT INTO jobtag (job_id, tag_id) SELECT $1::bigint, id FROM t ON CONFLICT DO NOTHING";

int db_job_add_tags(struct arena *a, int64_t id, const struct job *j)
{
	for (size_t i = 0; i < j->ntags; i++) {
		const struct job_tag *t = &j->tags[i];
		if (!*t->type || !*t->name)
			continue;
		const char *p[] = {num(a, id), t->type, t->name, t->scope && *t->scope ? t->scope : "global"};
		if (!db_query(a, sql_tag, 4, p))
			return -1;
	}
	return 0;
}

/* The row as cc-backend's Job JSON (keys as job_from_json reads them) */
#define JOB_JSON                                                                                     \
	"jsonb_build_object('id', job.id, 'jobId', job.job_id, 'cluster', job.cluster, "             \
	"'subCluster', job.subcluster, 'partition', job.cluster_partition, 'project', job.project, " \
	"'user', job.hpc_user, 'shared', job.shared, 'jobState', job.job_state, "                    \
	"'resources', job.resources, 'energyFootprint', job.energy_footprint, "                      \
	"'footprint', job.footprint, 'metaData', job.meta_data, 'energy', job.energy, "              \
	"'arrayJobId', job.array_job_id, 'walltime', job.walltime, "                                 \
	"'requestedMemory', job.requested_memory, "                                                  \
	"'duration', CASE WHEN job.job_state = 'running' THEN "                                      \
	"least(2147483647, greatest(0, extract(epoch FROM now())::bigint - job.start_time)) "        \
	"ELSE job.duration END, "                                                                    \
	"'smt', job.smt, 'monitoringStatus', job.monitoring_status, 'numAcc', job.num_acc, "         \
	"'numHwthreads', job.num_hwthreads, 'numNodes', job.num_nodes, "                             \
	"'statistics', job.statistics, 'submitTime', job.submit_time, 'startTime', job.start_time"

void db_job_select(struct sqlq *q, const struct user *viewer, unsigned flags)
{
	buf_adds(&q->sql, "SELECT " JOB_JSON);
	if (flags & DB_JOB_TAGS) {
		buf_adds(&q->sql, ", 'tags', (SELECT jsonb_agg(jsonb_build_object('id', t.id, 'type', t.tag_type, "
			 "'name', t.tag_name, 'scope', t.tag_scope) ORDER BY jt.insert_ts, t.id) "
			 "FROM jobtag jt JOIN tag t ON t.id = jt.tag_id WHERE jt.job_id = job.id");
		jobquery_tag_readable(q, viewer, "t");
		buf_addch(&q->sql, ')');
	}
	buf_adds(&q->sql, ")::text FROM job WHERE true");
}

int db_job_decode(struct arena *a, const char *text, size_t len, struct job *out, char *err, size_t errlen)
{
	return job_parse(a, text, len, 0, out, err, errlen);
}

static int fetch_one(struct arena *a, struct sqlq *q, struct job *out)
{
	PGresult *res = db_query_once(a, q->sql.data, q->nparams, q->params);
	if (!res)
		return -1;
	if (PQntuples(res) != 1)
		return 0;
	char err[256];
	if (db_job_decode(a, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), out, err, sizeof(err)) < 0) {
		log_err("job row cannot be decoded: %s", err);
		return -1;
	}
	return 1;
}

int db_job_get(struct arena *a, int64_t id, const struct user *viewer, unsigned flags, struct job *out)
{
	struct sqlq q;
	sqlq_init(&q, a);
	db_job_select(&q, viewer, flags);
	buf_adds(&q.sql, " AND job.id = ");
	sqlq_param(&q, num(a, id), "::bigint");
	if (viewer)
		jobquery_viewer_where(&q, viewer);
	if (flags & DB_JOB_FOR_UPDATE)
		buf_adds(&q.sql, " FOR UPDATE OF job");
	return fetch_one(a, &q, out);
}

int db_job_find(struct arena *a, int64_t job_id, const char *cluster, const int64_t *start_time,
		unsigned flags, struct job *out)
{
	struct sqlq q;
	sqlq_init(&q, a);
	db_job_select(&q, NULL, flags);
	buf_adds(&q.sql, " AND job.job_id = ");
	sqlq_param(&q, num(a, job_id), "::bigint");
	if (cluster) {
		buf_adds(&q.sql, " AND job.cluster = ");
		sqlq_param(&q, cluster, "::text");
	}
	if (start_time) {
		buf_adds(&q.sql, " AND job.start_time = ");
		sqlq_param(&q, num(a, *start_time), "::bigint");
	}
	buf_adds(&q.sql, " ORDER BY job.id DESC LIMIT 1");
	if (flags & DB_JOB_FOR_UPDATE)
		buf_adds(&q.sql, " FOR UPDATE OF job");
	return fetch_one(a, &q, out);
}
