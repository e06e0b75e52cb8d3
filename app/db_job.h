/* db_job: job rows and their tags in PostgreSQL. */
#ifndef JOBSCOPE_DB_JOB_H
#define JOBSCOPE_DB_JOB_H

#include <stdint.h>

struct arena;
struct job;
struct json_object;

/* Insert a job (all columns from j; footprint/energy_footprint/preview may be
 * NULL).  0 with *id set; -1 on failure, where db_last_sqlstate() is "23505"
 * for a duplicate (jobId, cluster, startTime). */
int db_job_insert(struct arena *a, const struct job *j, struct json_object *footprint,
		  struct json_object *energy_footprint, double energy, const char *preview, int64_t *id);
/* Attach the job's tags (created when missing, in their scope; default global). */
int db_job_add_tags(struct arena *a, int64_t id, const struct job *j);

#endif
