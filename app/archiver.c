/* archiver: archiving queued jobs and the periodic job tasks (see archiver.h). */
#include "config.h"
#include "archiver.h"
#include "app.h"
#include "archive.h"
#include "arena.h"
#include "buf.h"
#include "cluster.h"
#include "conf.h"
#include "db.h"
#include "job.h"
#include "jobdata.h"
#include "jsonio.h"
#include "log.h"
#include "metrics.h"
#include "str.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t *stop_flag;

void archiver_setup(volatile sig_atomic_t *stop)
{
	stop_flag = stop;
	metrics_set_abort_flag(stop);
}

static bool stopping(void)
{
	return stop_flag && *stop_flag;
}

static double now_s(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* ------------------------------------------------------------- the job row */

static const char sql_job[] =
	"SELECT jsonb_build_object("
	"'id', j.id, 'jobId', j.job_id, 'cluster', j.cluster, 'subCluster', j.subcluster, "
	"'partition', coalesce(j.cluster_partition, ''), 'project', j.project, 'user', j.hpc_user, "
	"'shared', j.shared, 'jobState', j.job_state, 'resources', j.resources, 'metaData', j.meta_data, "
	"'arrayJobId', coalesce(j.array_job_id, 0), 'walltime', j.walltime, "
	"'requestedMemory', coalesce(j.requested_memory, 0), 'duration', j.duration, 'smt', j.smt, "
	"'monitoringStatus', j.monitoring_status, 'numAcc', coalesce(j.num_acc, 0), "
	"'numHwthreads', coalesce(j.num_hwthreads, 0), 'numNodes', j.num_nodes, "
	"'submitTime', j.submit_time, 'startTime', j.start_time, 'energy', j.energy, "
	"'footprint', j.footprint, 'energyFootprint', j.energy_footprint, "
	"'tags', coalesce((SELECT jsonb_agg(jsonb_build_object('id', t.id, 'type', t.tag_type, "
	"'name', t.tag_name, 'scope', t.tag_scope) ORDER BY t.id) "
	"FROM jobtag jt JOIN tag t ON t.id = jt.tag_id WHERE jt.job_id = j.id), '[]'::jsonb))::text, "
	"greatest(0, extract(epoch FROM now())::bigint - j.start_time) "
	"FROM job j WHERE j.id = $1::bigint";

int archiver_load_job(struct arena *a, int64_t id, struct job *out, char *err, size_t errlen)
{
	char ids[24];
	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	const char *p[] = {ids};
	PGresult *r = db_query(a, sql_job, 1, p);
	if (!r) {
		snprintf(err, errlen, "loading job %lld: %s", (long long)id, db_last_error());
		return -1;
	}
	if (PQntuples(r) != 1)
		return 0;
	const char *text = PQgetvalue(r, 0, 0);
	char jerr[512];
	if (job_parse(a, text, strlen(text), 0, out, jerr, sizeof(jerr)) < 0) {
		snprintf(err, errlen, "job %lld: the row does not decode as a Job: %s", (long long)id, jerr);
		return -1;
	}
	/* a running job's duration is its age */
	if (out->state == JOB_RUNNING)
		out->duration = (int32_t)atoll(PQgetvalue(r, 0, 1));
	return 1;
}

static const struct subcluster *job_subcluster(const struct job *j, const struct archive_cluster **acp)
{
	const struct archive_cluster *ac = the_app->archive && j->cluster ? archive_cluster(the_app->archive, j->cluster) : NULL;
	*acp = ac;
	if (!ac)
		return NULL;
	const struct subcluster *sc = j->subcluster && *j->subcluster ? cluster_subcluster(ac->model, j->subcluster) : NULL;
	if (!sc && j->nresources)
		sc = cluster_subcluster_for_host(ac->model, j->resources[0].hostname);
	return sc;
}

static const char *json_text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* ---------------------------------------------------------------- archiving */

static const char sql_take[] =
	"WITH next AS (SELECT job_id FROM archive_queue WHERE not_before <= now() "
	"ORDER BY enqueued, job_id LIMIT 1 FOR UPDATE SKIP LOCKED) "
	"UPDATE archive_queue q SET attempts = q.attempts + 1 FROM next WHERE q.job_id = next.job_id "
	"RETURNING q.job_id, q.attempts, coalesce(q.last_error, '')";

static const char sql_done[] =
	"WITH q AS (DELETE FROM archive_queue WHERE job_id = $1::bigint AND attempts = $2::int RETURNING job_id) "
	"UPDATE job SET statistics = $3::json, footprint = $4::jsonb, energy = $5::float8, "
	"energy_footprint = $6::jsonb, preview = $7::json, monitoring_status = 3, archive_error = NULL "
	"FROM q WHERE job.id = q.job_id RETURNING job.id";

static const char sql_retry[] =
	"UPDATE archive_queue SET last_error = $3, not_before = now() + make_interval(secs => $4::int) "
	"WHERE job_id = $1::bigint AND attempts = $2::int";

static const char sql_give_up[] =
	"WITH q AS (DELETE FROM archive_queue WHERE job_id = $1::bigint AND attempts = $2::int RETURNING job_id) "
	"UPDATE job SET monitoring_status = 2, archive_error = $3 FROM q WHERE job.id = q.job_id";

static const char sql_drop[] = "DELETE FROM archive_queue WHERE job_id = $1::bigint AND attempts = $2::int";

/* A failed attempt: retry later, or give up (permanent, or the last attempt). */
static void attempt_failed(struct arena *a, const char *id, int attempts, bool permanent, const char *why,
			   const struct job *j)
{
	char att[16];
	snprintf(att, sizeof(att), "%d", attempts);
	char what[256];
	if (j)
		snprintf(what, sizeof(what), "job %lld on %s (id %s)", (long long)j->job_id, j->cluster, id);
	else
		snprintf(what, sizeof(what), "job id %s", id);
	if (permanent || attempts >= ARCHIVER_MAX_ATTEMPTS) {
		const char *reason = permanent ? why : arena_printf(a, "%s (gave up after %d attempts)", why, attempts);
		const char *p[] = {id, att, reason};
		if (db_query(a, sql_give_up, 3, p))
			log_err("archiver: %s not archived (monitoring status 2): %s", what, reason);
		return;
	}
	int delay = ARCHIVER_BACKOFF << (attempts - 1);
	char ds[16];
	snprintf(ds, sizeof(ds), "%d", delay);
	const char *p[] = {id, att, why, ds};
	if (db_query(a, sql_retry, 4, p))
		log_warn("archiver: %s: attempt %d of %d failed: %s; next attempt in %d s", what, attempts,
			 ARCHIVER_MAX_ATTEMPTS, why, delay);
}

static void archive_job(struct arena *a, const char *id, int attempts)
{
	char err[2048];
	struct job j;
	int found = archiver_load_job(a, atoll(id), &j, err, sizeof(err));
	if (found < 0) {
		attempt_failed(a, id, attempts, false, err, NULL);
		return;
	}
	char att[16];
	snprintf(att, sizeof(att), "%d", attempts);
	if (found == 0) { /* deleted meanwhile (the row would have gone with it) */
		const char *p[] = {id, att};
		db_query(a, sql_drop, 2, p);
		return;
	}
	double t0 = now_s();
	const struct archive_cluster *ac;
	const struct subcluster *sc = job_subcluster(&j, &ac);
	if (!the_app->archive) {
		attempt_failed(a, id, attempts, false, "the job archive is not open", &j);
		return;
	}
	if (!ac || !sc) {
		snprintf(err, sizeof(err), !ac ? "cluster \"%s\" is not in the job archive (no cluster.json)"
					       : "cluster %s has no subcluster for this job", j.cluster ? j.cluster : "");
		attempt_failed(a, id, attempts, true, err, &j);
		return;
	}
	j.subcluster = sc->name;

	unsigned scopes = METRICS_SCOPE(SCOPE_NODE);
	if (j.num_nodes <= 8)
		scopes |= METRICS_SCOPE(SCOPE_CORE);
	if (j.num_acc > 0)
		scopes |= METRICS_SCOPE(SCOPE_ACCELERATOR);
	int64_t duration = j.duration > 0 ? j.duration : 0;
	struct metrics_request rq = {
		.metrics = NULL,
		.scopes = scopes,
		.from = j.start_time,
		.to = j.start_time + (duration > 0 ? duration : 1),
	};
	struct jobdata *d = NULL;
	int mrc = metrics_load(&j, &rq, &d, err, sizeof(err));
	if (mrc != METRICS_OK) {
		attempt_failed(a, id, attempts, mrc == METRICS_UNAVAILABLE, err, &j);
		return;
	}
	if (*err)
		log_warn("archiver: job %lld on %s (id %s): partial data: %s", (long long)j.job_id, j.cluster, id, err);

	/* statistics, footprint, energy, preview */
	struct json_object *stats = arena_cleanup_add(a, jsonio_put, jobdata_statistics_json(d, j.num_nodes));
	struct metric_stats *ms = NULL;
	size_t nms = cluster_stats_from_json(stats, &ms);
	struct cluster_footprint cf;
	subcluster_footprint(sc, ms, nms, j.num_nodes, duration, &cf);
	struct json_object *fp = NULL, *efp = NULL;
	cluster_footprint_json(&cf, &fp, &efp);
	double energy = isfinite(cf.energy_total) ? cf.energy_total : 0;
	cluster_footprint_release(&cf);
	free(ms);
	arena_cleanup_add(a, jsonio_put, fp);
	arena_cleanup_add(a, jsonio_put, efp);
	struct buf preview = BUF_INIT, data = BUF_INIT, meta = BUF_INIT;
	jobdata_preview(d, NULL, JOBDATA_PREVIEW_POINTS, &preview);

	/* meta.json: the job as stored, with what archiving adds (unlike upstream,
	 * monitoringStatus 3, footprint and energy are in it: a re-import keeps them) */
	j.statistics = stats;
	j.footprint = fp;
	j.energy_footprint = efp;
	j.energy = energy;
	j.monitoring_status = 3;
	struct json_object *mj = arena_cleanup_add(a, jsonio_put, job_to_json(&j, JOB_WITH_STATISTICS | JOB_WITH_META));
	buf_adds(&meta, json_text(mj));
	buf_addch(&meta, '\n');
	char key[1024], aerr[1024];
	bool gz = false;
	int rc = archive_job_key(j.cluster, j.job_id, j.start_time, key, sizeof(key));
	if (rc < 0)
		snprintf(aerr, sizeof(aerr), "cluster, jobId or startTime cannot name an archive directory");
	else if ((rc = jobdata_encode_archive(d, &data, &gz, aerr, sizeof(aerr))) == 0)
		rc = archive_write_job(the_app->archive, key, meta.data, meta.len, data.data, data.len, gz, aerr, sizeof(aerr));
	size_t nmetrics = d->nmetrics, bytes = data.len;
	jobdata_free(d);
	if (rc < 0) {
		snprintf(err, sizeof(err), "writing the archive failed: %s", aerr);
		attempt_failed(a, id, attempts, false, err, &j);
		goto out;
	}
	char es[64];
	snprintf(es, sizeof(es), "%.17g", energy);
	const char *p[] = {id, att, json_text(stats), json_text(fp), es, json_text(efp),
			   preview.len ? preview.data : "{}"};
	PGresult *r = db_query(a, sql_done, 7, p);
	if (!r) {
		log_err("archiver: job %lld on %s (id %s): archive written, database update failed: %s; it will be tried again",
			(long long)j.job_id, j.cluster, id, db_last_error());
	} else if (PQntuples(r) == 0) {
		log_warn("archiver: job %lld on %s (id %s): the queue entry changed meanwhile (taken again or removed); left alone",
			 (long long)j.job_id, j.cluster, id);
	} else {
		log_info("archiver: job %lld on %s (id %s) archived to %s in %.2f s (%zu metric/scope pairs, %s %zu bytes)",
			 (long long)j.job_id, j.cluster, id, key, now_s() - t0, nmetrics, gz ? "data.json.gz" : "data.json", bytes);
	}
out:
	buf_release(&preview);
	buf_release(&data);
	buf_release(&meta);
}

int archiver_archive_next(void)
{
	struct arena a;
	arena_init(&a, 64 * 1024);
	PGresult *r = db_query(&a, sql_take, 0, NULL);
	if (!r) {
		arena_release(&a);
		return -1;
	}
	if (PQntuples(r) == 0) {
		arena_release(&a);
		return 0;
	}
	const char *id = arena_strdup(&a, PQgetvalue(r, 0, 0));
	int attempts = atoi(PQgetvalue(r, 0, 1));
	const char *last = PQgetvalue(r, 0, 2);
	if (attempts > ARCHIVER_MAX_ATTEMPTS) {
		/* earlier attempts ended without a verdict: the runner died on them */
		const char *why = *last ? last : "the task runner stopped while archiving this job (killed or crashed)";
		attempt_failed(&a, id, attempts, true,
			       arena_printf(&a, "%s (gave up after %d attempts)", why, attempts - 1), NULL);
	} else {
		archive_job(&a, id, attempts);
	}
	arena_release(&a);
	return 1;
}

/* ------------------------------------------------------------ periodic tasks */

static const char sql_durations[] =
	"UPDATE job SET duration = least(2147483647, greatest(0, extract(epoch FROM now())::bigint - start_time)) "
	"WHERE job_state = 'running' "
	"AND duration <> least(2147483647, greatest(0, extract(epoch FROM now())::bigint - start_time))";

long archiver_update_durations(void)
{
	struct arena a;
	arena_init(&a, 4096);
	PGresult *r = db_query(&a, sql_durations, 0, NULL);
	long n = r ? atol(PQcmdTuples(r)) : -1;
	arena_release(&a);
	return n;
}

static const char sql_running_old[] =
	"SELECT id FROM job WHERE job_state = 'running' AND start_time < extract(epoch FROM now())::bigint - $1::bigint "
	"ORDER BY cluster, id";

static const char sql_set_footprint[] =
	"UPDATE job SET footprint = $2::jsonb, energy_footprint = $3::jsonb, energy = $4::float8 "
	"WHERE id = $1::bigint AND job_state = 'running'";

struct fp_update {
	const char *id, *cluster, *fp, *efp, *energy;
};

static int write_footprints(struct arena *a, struct fp_update *u, size_t n)
{
	if (n == 0)
		return 0;
	if (db_begin() < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *p[] = {u[i].id, u[i].fp, u[i].efp, u[i].energy};
		if (!db_query(a, sql_set_footprint, 4, p)) {
			db_rollback();
			return -1;
		}
	}
	return db_commit();
}

long archiver_update_footprints(void)
{
	/* without a metric repository there is nothing to ask: not even the
	 * running jobs are loaded */
	const struct metrics_repos *mr = the_app->conf->metric_repos;
	if (!mr || mr->n == 0)
		return 0;
	struct arena a;
	arena_init(&a, 64 * 1024);
	char age[16];
	snprintf(age, sizeof(age), "%d", ARCHIVER_FOOTPRINT_MIN_AGE);
	const char *p[] = {age};
	PGresult *r = db_query(&a, sql_running_old, 1, p);
	if (!r) {
		arena_release(&a);
		return -1;
	}
	int n = PQntuples(r);
	struct fp_update *u = arena_calloc(&a, (size_t)n + 1, sizeof(*u));
	size_t nu = 0, skipped = 0;
	long done = 0;
	int failures = 0;
	for (int i = 0; i < n && !stopping(); i++) {
		char err[2048];
		struct job j;
		const char *id = PQgetvalue(r, i, 0);
		if (archiver_load_job(&a, atoll(id), &j, err, sizeof(err)) != 1)
			continue;
		const struct archive_cluster *ac;
		const struct subcluster *sc = job_subcluster(&j, &ac);
		if (!sc || !metrics_route(the_app->conf->metric_repos, j.cluster, sc->name) ||
		    sc->nfootprint + sc->nenergy == 0) {
			skipped++;
			continue;
		}
		/* one batch per cluster */
		if (nu && strcmp(u[nu - 1].cluster, j.cluster) != 0) {
			if (write_footprints(&a, u, nu) == 0)
				done += (long)nu;
			nu = 0;
		}
		const char **names = arena_calloc(&a, sc->nfootprint + sc->nenergy + 1, sizeof(char *));
		size_t k = 0;
		for (size_t f = 0; f < sc->nfootprint; f++)
			names[k++] = sc->footprint[f].metric->name;
		for (size_t e = 0; e < sc->nenergy; e++)
			names[k++] = sc->energy_footprint[e]->name;
		j.subcluster = sc->name;
		struct metrics_request rq = {
			.metrics = names,
			.scopes = METRICS_SCOPE(SCOPE_NODE),
			.from = j.start_time,
			.to = j.start_time + (j.duration > 0 ? j.duration : 1),
			.stats_only = true,
		};
		struct jobdata *d = NULL;
		int mrc = metrics_load(&j, &rq, &d, err, sizeof(err));
		if (mrc != METRICS_OK) {
			log_debug("footprint of job %lld on %s: %s", (long long)j.job_id, j.cluster, err);
			/* a repository that is down would cost a timeout per job: stop the round */
			if (mrc == METRICS_ERROR && ++failures >= 3) {
				log_warn("footprint update stopped after %d failures; last: %s", failures, err);
				break;
			}
			continue;
		}
		failures = 0;
		struct json_object *stats = jobdata_statistics_json(d, j.num_nodes);
		jobdata_free(d);
		struct metric_stats *ms = NULL;
		size_t nms = cluster_stats_from_json(stats, &ms);
		struct cluster_footprint cf;
		subcluster_footprint(sc, ms, nms, j.num_nodes, j.duration, &cf);
		struct json_object *fp = NULL, *efp = NULL;
		cluster_footprint_json(&cf, &fp, &efp);
		u[nu].id = id;
		u[nu].cluster = arena_strdup(&a, j.cluster);
		u[nu].fp = arena_strdup(&a, json_text(fp));
		u[nu].efp = arena_strdup(&a, json_text(efp));
		u[nu].energy = arena_printf(&a, "%.17g", isfinite(cf.energy_total) ? cf.energy_total : 0.0);
		nu++;
		cluster_footprint_release(&cf);
		free(ms);
		json_object_put(fp);
		json_object_put(efp);
		json_object_put(stats);
	}
	if (write_footprints(&a, u, nu) == 0)
		done += (long)nu;
	if (skipped)
		log_debug("footprint update: %zu running jobs without a metric repository or footprint metrics", skipped);
	arena_release(&a);
	return done;
}

static const char sql_walltime[] =
	"UPDATE job SET job_state = 'failed', duration = 0, monitoring_status = 2, "
	"archive_error = 'stopped by jobscope: still running ' || $1::bigint || ' s after its walltime ended (main.stop-jobs-exceeding-walltime)' "
	"WHERE job_state = 'running' AND walltime > 0 "
	"AND start_time < extract(epoch FROM now())::bigint - $1::bigint - walltime";

long archiver_stop_exceeding_walltime(int64_t grace)
{
	struct arena a;
	arena_init(&a, 4096);
	char g[24];
	snprintf(g, sizeof(g), "%lld", (long long)grace);
	const char *p[] = {g};
	PGresult *r = db_query(&a, sql_walltime, 1, p);
	long n = r ? atol(PQcmdTuples(r)) : -1;
	arena_release(&a);
	return n;
}

/* ------------------------------------------------------------------ schedule */

static time_t next_duration, next_footprint, next_walltime;

void archiver_reset(void)
{
	next_duration = next_footprint = next_walltime = 0;
}

static int64_t cron_interval(const char *key, int64_t def)
{
	const char *s = jsonio_str(jsonio_get(the_app->conf->root, "cron"), key);
	int64_t secs;
	return s && str_duration(s, &secs) == 0 && secs > 0 ? secs : def;
}

static time_t next_3am(time_t now)
{
	struct tm tm;
	localtime_r(&now, &tm);
	tm.tm_hour = 3;
	tm.tm_min = 0;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	if (t <= now) {
		tm.tm_mday++;
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	return t;
}

int archiver_tick(void)
{
	time_t now = time(NULL);
	if (now >= next_duration) {
		long n = archiver_update_durations();
		if (n > 0)
			log_debug("duration worker: %ld running jobs updated", n);
		next_duration = now + cron_interval("duration-worker", 300);
	}
	if (now >= next_walltime) {
		struct json_object *v = jsonio_get(jsonio_get(the_app->conf->root, "main"), "stop-jobs-exceeding-walltime");
		int64_t grace = v ? json_object_get_int64(v) : 0;
		if (grace > 0) {
			long n = archiver_stop_exceeding_walltime(grace);
			if (n > 0)
				log_info("stopped %ld running jobs that exceeded their walltime by more than %lld s", n, (long long)grace);
		}
		next_walltime = next_3am(now);
	}
	if (now >= next_footprint) {
		double t0 = now_s();
		long n = archiver_update_footprints();
		if (n > 0)
			log_info("footprint worker: footprints of %ld running jobs updated in %.1f s", n, now_s() - t0);
		next_footprint = time(NULL) + cron_interval("footprint-worker", 600);
	}
	if (stopping())
		return 0;
	return archiver_archive_next() > 0 ? 1 : 0;
}
