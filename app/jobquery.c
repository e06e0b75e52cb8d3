#include "config.h"
#include "jobquery.h"
#include "arena.h"
#include "auth.h"
#include "job.h"
#include "req.h"
#include "str.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sqlq_init(struct sqlq *q, struct arena *a)
{
	q->a = a;
	buf_init_arena(&q->sql, a);
	q->nparams = 0;
}

void sqlq_param(struct sqlq *q, const char *value, const char *cast)
{
	if (q->nparams >= (int)(sizeof(q->params) / sizeof(q->params[0]))) {
		buf_adds(&q->sql, "NULL"); /* cannot happen with the caps below; fail closed */
		return;
	}
	q->params[q->nparams++] = value;
	buf_addf(&q->sql, "$%d%s", q->nparams, cast ? cast : "");
}

static int parse_match(const char *s, enum match *m)
{
	static const struct {
		const char *name;
		enum match m;
	} names[] = {
		{"eq", MATCH_EQ}, {"contains", MATCH_CONTAINS}, {"in", MATCH_IN},
		{"startsWith", MATCH_STARTS_WITH}, {"endsWith", MATCH_ENDS_WITH}, {"neq", MATCH_NE},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0) {
			*m = names[i].m;
			return 0;
		}
	return -1;
}

static int parse_number(const char *s, double *out)
{
	char *end;
	if (!*s || isspace((unsigned char)*s))
		return -1;
	double v = strtod(s, &end);
	if (*end || !isfinite(v) || v < 0)
		return -1;
	*out = v;
	return 0;
}

/* "from-to", "lessthan-N", "morethan-N" */
static int parse_range(const char *s, struct qrange *r)
{
	double a, b;
	memset(r, 0, sizeof(*r));
	if (str_starts(s, "lessthan-")) {
		if (parse_number(s + 9, &b) < 0)
			return -1;
		r->to = b;
	} else if (str_starts(s, "morethan-")) {
		if (parse_number(s + 9, &a) < 0)
			return -1;
		r->from = a;
	} else {
		const char *dash = strchr(s, '-');
		if (!dash)
			return -1;
		char left[64];
		size_t n = (size_t)(dash - s);
		if (n == 0 || n >= sizeof(left))
			return -1;
		memcpy(left, s, n);
		left[n] = '\0';
		if (parse_number(left, &a) < 0 || parse_number(dash + 1, &b) < 0)
			return -1;
		r->from = a;
		r->to = b;
	}
	r->set = r->from > 0 || r->to > 0;
	return 0;
}

bool jobquery_footprint_key_ok(const char *key)
{
	size_t n = strlen(key);
	if (n < 5 || n > 64)
		return false;
	for (const char *p = key; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      (*p >= 'A' && *p <= 'Z')))
			return false;
	return str_ends(key, "_avg") || str_ends(key, "_min") || str_ends(key, "_max");
}

static int bad(char *err, size_t errlen, const char *key, const char *val, const char *want)
{
	snprintf(err, errlen, "invalid value for %s: \"%.60s\" (expected %s)", key, val, want);
	return -1;
}

int jobquery_filter_from_params(struct arena *a, const struct kvlist *params, int64_t now,
				struct job_filter *f, char *err, size_t errlen)
{
	(void)a;
	jobquery_filter_all(f);
	f->project_match = MATCH_CONTAINS;
	f->node_match = MATCH_EQ;
	bool user_match_given = false, jobid_match_given = false, project_match_given = false;
	for (size_t i = 0; i < params->n; i++) {
		const char *k = params->v[i].key, *v = params->v[i].val;
		int64_t x;
		if (strcmp(k, "cluster") == 0) {
			f->cluster = v;
		} else if (strcmp(k, "subCluster") == 0) {
			f->subcluster = v;
		} else if (strcmp(k, "partition") == 0) {
			f->partition = v;
		} else if (strcmp(k, "project") == 0) {
			f->project = v;
			if (!project_match_given)
				f->project_match = MATCH_EQ; /* as cc-backend's server preset */
		} else if (strcmp(k, "projectMatch") == 0) {
			if (parse_match(v, &f->project_match) < 0)
				return bad(err, errlen, k, v, "eq, contains, startsWith, endsWith or neq");
			project_match_given = true;
		} else if (strcmp(k, "user") == 0) {
			if (f->nusers >= JOBQUERY_MAX_VALUES)
				return bad(err, errlen, k, v, "at most 64 values");
			f->users[f->nusers++] = v;
		} else if (strcmp(k, "userMatch") == 0) {
			if (parse_match(v, &f->user_match) < 0)
				return bad(err, errlen, k, v, "eq, contains, in, startsWith, endsWith or neq");
			user_match_given = true;
		} else if (strcmp(k, "jobId") == 0) {
			if (str_to_i64(v, 0, INT64_MAX, &x) < 0)
				return bad(err, errlen, k, v, "a job id (a number)");
			if (f->njob_ids >= JOBQUERY_MAX_VALUES)
				return bad(err, errlen, k, v, "at most 64 values");
			f->job_ids[f->njob_ids++] = x;
		} else if (strcmp(k, "jobIdMatch") == 0) {
			jobid_match_given = true; /* eq / in are the same for numbers */
		} else if (strcmp(k, "arrayJobId") == 0) {
			if (str_to_i64(v, 1, INT64_MAX, &f->array_job_id) < 0)
				return bad(err, errlen, k, v, "a positive number");
		} else if (strcmp(k, "jobName") == 0) {
			f->job_name = v;
		} else if (strcmp(k, "state") == 0) {
			enum job_state s;
			if (job_state_parse(v, &s) < 0)
				return bad(err, errlen, k, v, "a job state such as running or completed");
			f->states |= 1u << s;
		} else if (strcmp(k, "shared") == 0) {
			enum job_shared sh;
			if (job_shared_parse(v, &sh) < 0)
				return bad(err, errlen, k, v, "none, single_user or multi_user");
			f->shared = (int)sh;
		} else if (strcmp(k, "schedule") == 0) {
			if (strcmp(v, "interactive") == 0)
				f->schedule = 1;
			else if (strcmp(v, "batch") == 0)
				f->schedule = 2;
			else
				return bad(err, errlen, k, v, "interactive or batch");
		} else if (strcmp(k, "tag") == 0) {
			if (str_to_i64(v, 1, INT64_MAX, &x) < 0)
				return bad(err, errlen, k, v, "a tag id");
			if (f->ntags >= JOBQUERY_MAX_VALUES)
				return bad(err, errlen, k, v, "at most 64 values");
			f->tags[f->ntags++] = x;
		} else if (strcmp(k, "duration") == 0 || strcmp(k, "numNodes") == 0 ||
			   strcmp(k, "numHWThreads") == 0 || strcmp(k, "numAccelerators") == 0 ||
			   strcmp(k, "energy") == 0) {
			struct qrange *r = strcmp(k, "duration") == 0 ? &f->duration :
					   strcmp(k, "numNodes") == 0 ? &f->num_nodes :
					   strcmp(k, "numHWThreads") == 0 ? &f->num_hwthreads :
					   strcmp(k, "numAccelerators") == 0 ? &f->num_acc : &f->energy;
			if (parse_range(v, r) < 0)
				return bad(err, errlen, k, v, "from-to, lessthan-N or morethan-N");
		} else if (strcmp(k, "startTime") == 0) {
			static const struct {
				const char *name;
				int64_t secs;
			} named[] = {{"last6h", 6 * 3600}, {"last24h", 86400}, {"last7d", 7 * 86400}, {"last30d", 30 * 86400}};
			bool done = false;
			for (size_t n = 0; n < sizeof(named) / sizeof(named[0]); n++)
				if (strcmp(v, named[n].name) == 0) {
					f->start_time = (struct qrange){true, (double)(now - named[n].secs), 0};
					f->start_time_name = named[n].name;
					done = true;
				}
			if (!done && parse_range(v, &f->start_time) < 0)
				return bad(err, errlen, k, v, "<from>-<to> in epoch seconds, or last6h, last24h, last7d, last30d");
		} else if (strcmp(k, "node") == 0) {
			f->node = v;
		} else if (strcmp(k, "nodeMatch") == 0) {
			if (parse_match(v, &f->node_match) < 0)
				return bad(err, errlen, k, v, "eq or contains");
		} else if (strcmp(k, "stat") == 0) {
			/* <footprintKey>-from-to | -lessthan-N | -morethan-N; the key itself has no '-' */
			const char *dash = strchr(v, '-');
			if (!dash || f->nstats >= sizeof(f->stats) / sizeof(f->stats[0]))
				return bad(err, errlen, k, v, "<metric>_<avg|min|max>-<from>-<to>");
			char *key = arena_strndup(a, v, (size_t)(dash - v));
			struct stat_filter *sf = &f->stats[f->nstats];
			if (!jobquery_footprint_key_ok(key) || parse_range(dash + 1, &sf->r) < 0)
				return bad(err, errlen, k, v, "<metric>_<avg|min|max>-<from>-<to>");
			sf->key = key;
			f->nstats++;
		} else if (strcmp(k, "dbId") == 0) {
			if (str_to_i64(v, 1, INT64_MAX, &x) < 0)
				return bad(err, errlen, k, v, "a database id");
			if (f->ndb_ids >= JOBQUERY_MAX_VALUES)
				return bad(err, errlen, k, v, "at most 64 values");
			f->db_ids[f->ndb_ids++] = x;
		}
	}
	if (!user_match_given)
		f->user_match = f->nusers > 1 ? MATCH_IN : MATCH_CONTAINS;
	(void)jobid_match_given;
	return 0;
}

int jobquery_sort_from_params(const struct kvlist *params, struct job_sort *s, char *err, size_t errlen)
{
	s->key = SORT_START_TIME;
	s->footprint = NULL;
	s->desc = true;
	for (size_t i = 0; i < params->n; i++) {
		const char *k = params->v[i].key, *v = params->v[i].val;
		if (strcmp(k, "sort") == 0) {
			if (strcmp(v, "startTime") == 0)
				s->key = SORT_START_TIME;
			else if (strcmp(v, "duration") == 0)
				s->key = SORT_DURATION;
			else if (strcmp(v, "numNodes") == 0)
				s->key = SORT_NUM_NODES;
			else if (strcmp(v, "numHWThreads") == 0)
				s->key = SORT_NUM_HWTHREADS;
			else if (strcmp(v, "numAcc") == 0 || strcmp(v, "numAccelerators") == 0)
				s->key = SORT_NUM_ACC;
			else if (strcmp(v, "energy") == 0)
				s->key = SORT_ENERGY;
			else if (jobquery_footprint_key_ok(v)) {
				s->key = SORT_FOOTPRINT;
				s->footprint = v;
			} else
				return bad(err, errlen, k, v, "startTime, duration, numNodes, numHWThreads, numAcc, energy or a footprint metric such as flops_any_avg");
		} else if (strcmp(k, "order") == 0) {
			if (strcmp(v, "asc") == 0)
				s->desc = false;
			else if (strcmp(v, "desc") == 0)
				s->desc = true;
			else
				return bad(err, errlen, k, v, "asc or desc");
		}
	}
	return 0;
}

/* duration as the client sees it: running jobs count up to now */
#define DURATION_SQL "(CASE WHEN job.job_state = 'running' THEN greatest(0, extract(epoch FROM now())::bigint - job.start_time) ELSE job.duration END)"

const char *jobquery_sort_expr(struct arena *a, const struct job_sort *s)
{
	switch (s->key) {
	case SORT_START_TIME: return "job.start_time";
	case SORT_DURATION: return DURATION_SQL;
	case SORT_NUM_NODES: return "job.num_nodes";
	case SORT_NUM_HWTHREADS: return "coalesce(job.num_hwthreads, 0)";
	case SORT_NUM_ACC: return "coalesce(job.num_acc, 0)";
	case SORT_ENERGY: return "job.energy";
	case SORT_FOOTPRINT:
		/* the key passed jobquery_footprint_key_ok: [A-Za-z0-9_] only */
		return arena_printf(a, "coalesce((job.footprint->>'%s')::float8, -1)", s->footprint);
	}
	return "job.start_time";
}

static const char *num(struct arena *a, double v)
{
	return arena_printf(a, "%.17g", v);
}

static void add_range(struct sqlq *q, const char *expr, const struct qrange *r)
{
	if (!r->set)
		return;
	if (r->from > 0 && r->to > 0) {
		buf_addf(&q->sql, " AND %s BETWEEN ", expr);
		sqlq_param(q, num(q->a, r->from), "::float8");
		buf_adds(&q->sql, " AND ");
		sqlq_param(q, num(q->a, r->to), "::float8");
	} else if (r->from > 0) {
		buf_addf(&q->sql, " AND %s >= ", expr);
		sqlq_param(q, num(q->a, r->from), "::float8");
	} else {
		buf_addf(&q->sql, " AND %s <= ", expr);
		sqlq_param(q, num(q->a, r->to), "::float8");
	}
}

/* text match; "contains" and friends by strpos, so that % and _ in the value are plain characters */
static void add_text(struct sqlq *q, const char *expr, enum match m, const char *v)
{
	switch (m) {
	case MATCH_EQ:
	case MATCH_IN:
		buf_addf(&q->sql, " AND %s = ", expr);
		sqlq_param(q, v, NULL);
		break;
	case MATCH_NE:
		buf_addf(&q->sql, " AND %s <> ", expr);
		sqlq_param(q, v, NULL);
		break;
	case MATCH_CONTAINS:
		buf_addf(&q->sql, " AND strpos(lower(%s), lower(", expr);
		sqlq_param(q, v, NULL);
		buf_adds(&q->sql, ")) > 0");
		break;
	case MATCH_STARTS_WITH:
		buf_addf(&q->sql, " AND left(%s, length(", expr);
		sqlq_param(q, v, NULL);
		buf_adds(&q->sql, ")) = ");
		sqlq_param(q, v, NULL);
		break;
	case MATCH_ENDS_WITH:
		buf_addf(&q->sql, " AND right(%s, length(", expr);
		sqlq_param(q, v, NULL);
		buf_adds(&q->sql, ")) = ");
		sqlq_param(q, v, NULL);
		break;
	}
}

/* a PostgreSQL array literal of integers */
static const char *int_array(struct arena *a, const int64_t *v, size_t n)
{
	struct buf b;
	buf_init_arena(&b, a);
	buf_addch(&b, '{');
	for (size_t i = 0; i < n; i++)
		buf_addf(&b, "%s%lld", i ? "," : "", (long long)v[i]);
	buf_addch(&b, '}');
	return b.data;
}

/* a PostgreSQL text[] literal; elements quoted and escaped */
static const char *text_array(struct arena *a, const char *const *v, size_t n)
{
	struct buf b;
	buf_init_arena(&b, a);
	buf_addch(&b, '{');
	for (size_t i = 0; i < n; i++) {
		buf_adds(&b, i ? ",\"" : "\"");
		for (const char *p = v[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				buf_addch(&b, '\\');
			buf_addch(&b, *p);
		}
		buf_addch(&b, '"');
	}
	buf_addch(&b, '}');
	return b.data;
}

bool jobquery_sees_all(const struct user *u)
{
	unsigned lvl = u ? auth_level(u->roles) : 0;
	return lvl == ROLE_ADMIN || lvl == ROLE_SUPPORT || lvl == ROLE_API; /* an api-only user too, COMPAT f */
}

static void add_role_filter(struct sqlq *q, const struct user *u)
{
	if (!u) {
		buf_adds(&q->sql, " AND false");
		return;
	}
	if (jobquery_sees_all(u))
		return;
	unsigned lvl = auth_level(u->roles);
	if (lvl == ROLE_MANAGER && u->projects && u->projects[0]) {
		size_t n = 0;
		while (u->projects[n])
			n++;
		buf_adds(&q->sql, " AND (job.hpc_user = ");
		sqlq_param(q, u->username, NULL);
		buf_adds(&q->sql, " OR job.project = ANY(");
		sqlq_param(q, text_array(q->a, u->projects, n), "::text[]");
		buf_adds(&q->sql, "))");
		return;
	}
	if (lvl == ROLE_MANAGER || lvl == ROLE_USER) {
		buf_adds(&q->sql, " AND job.hpc_user = ");
		sqlq_param(q, u->username, NULL);
		return;
	}
	buf_adds(&q->sql, " AND false"); /* no known role: nothing */
}

void jobquery_tag_readable(struct sqlq *q, const struct user *viewer, const char *alias)
{
	if (!viewer)
		return;
	/* COMPAT f: global for everyone, admin for admin and support, a username for that user */
	buf_addf(&q->sql, " AND (%s.tag_scope = 'global' OR %s.tag_scope = ", alias, alias);
	sqlq_param(q, viewer->username, "::text");
	if (viewer->roles & (ROLE_ADMIN | ROLE_SUPPORT))
		buf_addf(&q->sql, " OR %s.tag_scope = 'admin'", alias);
	buf_addch(&q->sql, ')');
}

void jobquery_on_host(struct sqlq *q, const char *host)
{
	buf_adds(&q->sql, " AND jsonb_path_query_array(job.resources, '$[*].hostname') @> jsonb_build_array(");
	sqlq_param(q, host, "::text");
	buf_addch(&q->sql, ')');
}

void jobquery_filter_all(struct job_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->shared = -1;
}

void jobquery_viewer_where(struct sqlq *q, const struct user *viewer)
{
	struct job_filter all;
	jobquery_filter_all(&all);
	jobquery_where(q, &all, viewer);
}

void jobquery_where(struct sqlq *q, const struct job_filter *f, const struct user *viewer)
{
	add_role_filter(q, viewer);
	if (f->cluster) {
		buf_adds(&q->sql, " AND job.cluster = ");
		sqlq_param(q, f->cluster, NULL);
	}
	if (f->subcluster) {
		buf_adds(&q->sql, " AND job.subcluster = ");
		sqlq_param(q, f->subcluster, NULL);
	}
	if (f->partition) {
		buf_adds(&q->sql, " AND job.cluster_partition = ");
		sqlq_param(q, f->partition, NULL);
	}
	if (f->project)
		add_text(q, "job.project", f->project_match, f->project);
	if (f->nusers == 1 && f->user_match != MATCH_IN) {
		add_text(q, "job.hpc_user", f->user_match, f->users[0]);
	} else if (f->nusers > 0) {
		buf_adds(&q->sql, " AND job.hpc_user = ANY(");
		sqlq_param(q, text_array(q->a, f->users, f->nusers), "::text[]");
		buf_addch(&q->sql, ')');
	}
	if (f->njob_ids == 1) {
		buf_adds(&q->sql, " AND job.job_id = ");
		sqlq_param(q, arena_printf(q->a, "%lld", (long long)f->job_ids[0]), "::bigint");
	} else if (f->njob_ids > 1) {
		buf_adds(&q->sql, " AND job.job_id = ANY(");
		sqlq_param(q, int_array(q->a, f->job_ids, f->njob_ids), "::bigint[]");
		buf_addch(&q->sql, ')');
	}
	if (f->ndb_ids) {
		buf_adds(&q->sql, " AND job.id = ANY(");
		sqlq_param(q, int_array(q->a, f->db_ids, f->ndb_ids), "::bigint[]");
		buf_addch(&q->sql, ')');
	}
	if (f->array_job_id) {
		buf_adds(&q->sql, " AND job.array_job_id = ");
		sqlq_param(q, arena_printf(q->a, "%lld", (long long)f->array_job_id), "::bigint");
		buf_adds(&q->sql, " AND job.array_job_id > 0");
	}
	if (f->job_name)
		add_text(q, "coalesce(job.meta_data->>'jobName', '')", MATCH_CONTAINS, f->job_name);
	if (f->states) {
		if (f->states == 1u << JOB_RUNNING) {
			/* the literal lets the partial running-jobs index serve */
			buf_adds(&q->sql, " AND job.job_state = 'running'");
		} else {
			const char *names[JOB_STATE__MAX];
			size_t n = 0;
			for (int s = 0; s < JOB_STATE__MAX; s++)
				if (f->states & (1u << s))
					names[n++] = job_state_name((enum job_state)s);
			if (n == 1) {
				/* "=", not "= ANY": then job_state_start gives the
				 * matching jobs in start-time order */
				buf_adds(&q->sql, " AND job.job_state = ");
				sqlq_param(q, names[0], NULL);
			} else {
				buf_adds(&q->sql, " AND job.job_state = ANY(");
				sqlq_param(q, text_array(q->a, names, n), "::text[]");
				buf_addch(&q->sql, ')');
			}
		}
	}
	if (f->shared >= 0) {
		buf_adds(&q->sql, " AND job.shared = ");
		sqlq_param(q, job_shared_name((enum job_shared)f->shared), NULL);
	}
	if (f->schedule == 1)
		buf_adds(&q->sql, " AND job.meta_data->>'jobName' = 'interactive'");
	else if (f->schedule == 2)
		buf_adds(&q->sql, " AND coalesce(job.meta_data->>'jobName', '') <> 'interactive'");
	if (f->ntags) {
		/* only tags the viewer may read: a private or admin tag's id is no probe of who tagged what */
		buf_adds(&q->sql, " AND EXISTS (SELECT 1 FROM jobtag jt JOIN tag t ON t.id = jt.tag_id "
			 "WHERE jt.job_id = job.id AND jt.tag_id = ANY(");
		sqlq_param(q, int_array(q->a, f->tags, f->ntags), "::bigint[]");
		buf_addch(&q->sql, ')');
		jobquery_tag_readable(q, viewer, "t");
		buf_addch(&q->sql, ')');
	}
	add_range(q, DURATION_SQL, &f->duration);
	add_range(q, "job.num_nodes", &f->num_nodes);
	add_range(q, "coalesce(job.num_hwthreads, 0)", &f->num_hwthreads);
	add_range(q, "coalesce(job.num_acc, 0)", &f->num_acc);
	add_range(q, "job.energy", &f->energy);
	add_range(q, "job.start_time", &f->start_time);
	if (f->node) {
		if (f->node_match == MATCH_EQ) {
			jobquery_on_host(q, f->node);
		} else {
			buf_adds(&q->sql, " AND EXISTS (SELECT 1 FROM jsonb_array_elements(job.resources) e WHERE strpos(e->>'hostname', ");
			sqlq_param(q, f->node, NULL);
			buf_adds(&q->sql, ") > 0)");
		}
	}
	for (size_t i = 0; i < f->nstats; i++) {
		/* the key passed jobquery_footprint_key_ok; still a parameter, not text */
		buf_adds(&q->sql, " AND (job.footprint->>");
		sqlq_param(q, f->stats[i].key, NULL);
		buf_adds(&q->sql, ")::float8 IS NOT NULL");
		struct qrange r = f->stats[i].r;
		char expr[48];
		snprintf(expr, sizeof(expr), "(job.footprint->>$%d)::float8", q->nparams);
		add_range(q, expr, &r);
	}
}
