#include "config.h"
#include "db_job.h"
#include "arena.h"
#include "db.h"
#include "job.h"
#include "jsonio.h"

#include <stdio.h>
#include <stdlib.h>

static const char sql_insert[] =
	"INSERT INTO job (job_id, cluster, subcluster, cluster_partition, project, hpc_user, shared, job_state, "
	"submit_time, start_time, duration, walltime, num_nodes, num_hwthreads, num_acc, smt, monitoring_status, "
	"energy, energy_footprint, footprint, meta_data, resources, statistics, array_job_id, requested_memory, preview) "
	"VALUES ($1::bigint, $2, $3, $4, $5, $6, $7, $8, $9::bigint, $10::bigint, $11::int, $12::int, $13::int, "
	"$14::int, $15::int, $16::int, $17::smallint, $18::float8, $19::jsonb, $20::jsonb, $21::jsonb, $22::jsonb, "
	"$23::jsonb, $24::bigint, $25::bigint, $26::jsonb) RETURNING id";

static const char *js(struct json_object *o)
{
	return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
}

static const char *num(struct arena *a, int64_t v)
{
	return arena_printf(a, "%lld", (long long)v);
}

int db_job_insert(struct arena *a, const struct job *j, struct json_object *footprint,
		  struct json_object *energy_footprint, double energy, const char *preview, int64_t *id)
{
	struct json_object *res = arena_cleanup_add(a, jsonio_put, job_resources_json(j));
	const char *p[26] = {
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
	PGresult *r = db_query(a, sql_insert, 26, p);
	if (!r)
		return -1;
	*id = atoll(PQgetvalue(r, 0, 0));
	return 0;
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
