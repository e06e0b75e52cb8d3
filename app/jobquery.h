/* jobquery: the job list's filters (cc-backend's URL parameters, COMPAT g),
 * the viewer's role filter (COMPAT f), sorting and keyset paging, turned into
 * parameterised SQL.  Used by the job list, the user page, users/projects
 * statistics and the REST job list. */
#ifndef JOBSCOPE_JOBQUERY_H
#define JOBSCOPE_JOBQUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct arena;
struct kvlist;
struct user;

enum match { MATCH_EQ, MATCH_CONTAINS, MATCH_IN, MATCH_STARTS_WITH, MATCH_ENDS_WITH, MATCH_NE };

/* cc-backend's range semantics: from > 0 && to > 0 BETWEEN, only from >=, only to <= */
struct qrange {
	bool set;
	double from, to;
};

struct stat_filter {
	const char *key;            /* footprint key, e.g. flops_any_avg */
	struct qrange r;
};

#define JOBQUERY_MAX_VALUES 64

struct job_filter {
	const char *cluster, *subcluster, *partition;
	const char *project;
	enum match project_match;
	const char *users[JOBQUERY_MAX_VALUES];
	size_t nusers;
	enum match user_match;
	int64_t job_ids[JOBQUERY_MAX_VALUES];
	size_t njob_ids;
	int64_t array_job_id;
	const char *job_name;
	unsigned states;            /* bit (1 << enum job_state) */
	int shared;                 /* -1: any */
	int schedule;               /* 0 any, 1 interactive, 2 batch */
	int64_t tags[JOBQUERY_MAX_VALUES];
	size_t ntags;
	struct qrange duration, num_nodes, num_hwthreads, num_acc, energy, start_time;
	const char *start_time_name; /* "last24h" etc. when given by name */
	const char *node;
	enum match node_match;
	struct stat_filter stats[16];
	size_t nstats;
	int64_t db_ids[JOBQUERY_MAX_VALUES];
	size_t ndb_ids;
};

enum job_sort_key { SORT_START_TIME, SORT_DURATION, SORT_NUM_NODES, SORT_NUM_HWTHREADS, SORT_NUM_ACC,
		    SORT_ENERGY, SORT_FOOTPRINT };

struct job_sort {
	enum job_sort_key key;
	const char *footprint;      /* SORT_FOOTPRINT: the key */
	bool desc;
};

/* SQL text plus its parameters */
struct sqlq {
	struct arena *a;
	struct buf sql;
	const char *params[96];
	int nparams;
};

void sqlq_init(struct sqlq *q, struct arena *a);
/* add a parameter and append "$n" (with an optional cast such as "::bigint[]") */
void sqlq_param(struct sqlq *q, const char *value, const char *cast);

/* A filter that every job passes: no conditions, any sharing. */
void jobquery_filter_all(struct job_filter *f);
/* URL parameters -> filter.  Unknown keys are ignored (pages carry other keys);
 * a bad value is -1 with a sentence naming the parameter. */
int jobquery_filter_from_params(struct arena *a, const struct kvlist *params, int64_t now,
				struct job_filter *f, char *err, size_t errlen);
/* sort=<startTime|duration|numNodes|numHWThreads|numAcc|energy|<footprint key>>, order=asc|desc */
int jobquery_sort_from_params(const struct kvlist *params, struct job_sort *s, char *err, size_t errlen);
/* Append " AND ..." for the filter and the viewer's role to q (the query already has a WHERE). */
void jobquery_where(struct sqlq *q, const struct job_filter *f, const struct user *viewer);
/* The same with no filter: " AND ..." for the viewer's role only. */
void jobquery_viewer_where(struct sqlq *q, const struct user *viewer);
/* " AND <the job ran on host>", spelled as the expression of the index
 * job_hosts_gin (sql/002_job_load.up.sql), which only that spelling uses. */
void jobquery_on_host(struct sqlq *q, const char *host);
/* Does the role filter let this viewer see every job (admin, support, api-only)? */
bool jobquery_sees_all(const struct user *u);
/* " AND (<alias>.tag_scope readable by viewer)"; nothing for viewer NULL (the system itself) */
void jobquery_tag_readable(struct sqlq *q, const struct user *viewer, const char *alias);
/* The ORDER BY expression of a sort (SQL text; footprint keys are checked, never pasted raw). */
const char *jobquery_sort_expr(struct arena *a, const struct job_sort *s);
/* Is the key a safe footprint key (<metric>_<avg|min|max>, [a-z0-9_] only)? */
bool jobquery_footprint_key_ok(const char *key);

#endif
