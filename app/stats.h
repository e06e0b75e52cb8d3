/* stats: grouped job statistics (cc-backend's jobsStatistics, COMPAT g and k)
 * for the Users, Projects and User pages, the duration / node-count
 * distributions of the user page, and who may see whose user page.
 *
 * Every query takes the job list's filters and the viewer's role filter from
 * jobquery, so that all URL filters apply and nobody counts jobs they may not
 * see.  Grouped statistics are one query; sorting is by a fixed column
 * expression picked from a whitelist. */
#ifndef JOBSCOPE_STATS_H
#define JOBSCOPE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arena;
struct job_filter;
struct kvlist;
struct user;

enum stats_group { STATS_BY_USER, STATS_BY_PROJECT };

/* Sortable columns; the URL names are in stats_col_name. */
enum stats_col {
	STATS_COL_KEY,          /* username or project */
	STATS_COL_NAME,         /* display name (users only) */
	STATS_COL_TOTAL_JOBS,
	STATS_COL_SHORT_JOBS,
	STATS_COL_WALLTIME,
	STATS_COL_CORE_HOURS,
	STATS_COL_ACC_HOURS,
	STATS_COL__COUNT
};

struct stats_sort {
	enum stats_col col;
	bool desc;
};

struct stats_row {
	const char *key;        /* username or project */
	const char *name;       /* display name from hpc_user ("" if none; users only) */
	int64_t total_jobs, short_jobs, running_jobs;
	double walltime_h;      /* sum of durations (running jobs: now - start) / 3600 */
	double core_h;          /* duration x num_hwthreads / 3600 */
	double acc_h;           /* duration x num_acc / 3600 */
};

struct stats_result {
	struct stats_row *rows;
	size_t n;
	bool capped;            /* more groups than the limit */
};

/* URL name of a column for a grouping ("user" / "project" for the key). */
const char *stats_col_name(enum stats_group g, enum stats_col c);
/* sort=<column>&order=asc|desc; default totalJobs descending.  -1 with err on
 * an unknown column (the name column only exists for users). */
int stats_sort_from_params(const struct kvlist *params, enum stats_group g, struct stats_sort *s,
			   char *err, size_t errlen);

/* One grouped statistics query over the jobs that f and the viewer's role
 * filter select.  name_contains (users only, may be NULL) keeps users whose
 * display name contains it (case-insensitive).  Jobs shorter than short_secs
 * count as short.  At most limit rows (limit > 0); rows live in arena a.
 * 0, or -1 with err on a database error. */
int stats_grouped(struct arena *a, const struct job_filter *f, const struct user *viewer,
		  enum stats_group g, const char *name_contains, const struct stats_sort *s,
		  int64_t short_secs, size_t limit, struct stats_result *out, char *err, size_t errlen);

/* Fixed-bin distributions of duration and number of nodes over the jobs that
 * f and the viewer's role filter select (one query). */
#define STATS_DURATION_BINS 10
#define STATS_NODES_BINS 9
extern const char *const stats_duration_labels[STATS_DURATION_BINS];
extern const char *const stats_nodes_labels[STATS_NODES_BINS];
int stats_histograms(struct arena *a, const struct job_filter *f, const struct user *viewer,
		     double duration[STATS_DURATION_BINS], double nodes[STATS_NODES_BINS],
		     char *err, size_t errlen);

/* May viewer open username's user page?  Oneself always; support, admin and
 * api-only users anybody who exists (an hpc_user row or jobs); a manager a
 * user with at least one job the manager may see; a plain user nobody else.
 * 1 yes, 0 no (callers answer 404 either way, never 403), -1 database error. */
int stats_user_visible(struct arena *a, const struct user *viewer, const char *username);

#endif
