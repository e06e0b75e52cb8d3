/* db_job: job rows and their tags in PostgreSQL. */
#ifndef JOBSCOPE_DB_JOB_H
#define JOBSCOPE_DB_JOB_H

#include <stddef.h>
#include <stdint.h>

struct arena;
struct job;
struct json_object;
struct sqlq;
struct user;

/* Insert a job (all columns from j; footprint/energy_footprint/preview may be
 * NULL).  0 with *id set; -1 on failure, where db_last_sqlstate() is "23505"
 * for a duplicate (jobId, cluster, startTime). */
int db_job_insert(struct arena *a, const struct job *j, struct json_object *footprint,
		  struct json_object *energy_footprint, double energy, const char *preview, int64_t *id);
/* start_job's insert with the duplicate check (COMPAT a.5): in one round trip
 * and one transaction (committed, unless the caller has one open), under an
 * advisory lock on (cluster, jobId), insert j unless a job with that jobId and
 * cluster starts after j.startTime - 24 h.  1: inserted, *id the new job;
 * 0: a duplicate, *id the existing job; -1: failure, db_last_sqlstate()
 * "23505" when the UNIQUE key refused it. */
int db_job_start(struct arena *a, const struct job *j, int64_t *id);
/* Attach the job's tags (created when missing, in their scope; default global). */
int db_job_add_tags(struct arena *a, int64_t id, const struct job *j);

/* ---- reading job rows as Job objects (REST API) ---- */

enum db_job_flags {
	DB_JOB_TAGS = 1 << 0,       /* with the tags the viewer may read (COMPAT f) */
	DB_JOB_FOR_UPDATE = 1 << 1, /* lock the row (inside a transaction) */
};

/* Append "SELECT <the row as Job JSON text> FROM job WHERE true" to q; the
 * caller adds conditions and ORDER BY.  Running jobs report duration = now -
 * startTime.  With DB_JOB_TAGS the tags readable by viewer are included
 * (viewer NULL: all tags). */
void db_job_select(struct sqlq *q, const struct user *viewer, unsigned flags);
/* Decode one row of db_job_select into out (strings in the arena); -1 with err. */
int db_job_decode(struct arena *a, const char *text, size_t len, struct job *out, char *err, size_t errlen);
/* A job by database id, seen by viewer (the role filter of COMPAT f; viewer
 * NULL: no filter).  1 found, 0 not there or not visible, -1 database error. */
int db_job_get(struct arena *a, int64_t id, const struct user *viewer, unsigned flags, struct job *out);
/* The newest job (highest id) with this jobId, [cluster], [startTime] (stop_job,
 * edit_meta/, delete_job/).  cluster NULL and start_time NULL match any.
 * 1 / 0 / -1 as db_job_get. */
int db_job_find(struct arena *a, int64_t job_id, const char *cluster, const int64_t *start_time,
		unsigned flags, struct job *out);

#endif
