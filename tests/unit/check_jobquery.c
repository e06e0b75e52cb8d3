#include "config.h"
#include "suites.h"
#include "../../app/arena.h"
#include "../../app/auth.h"
#include "../../app/job.h"
#include "../../app/jobquery.h"
#include "../../app/req.h"

#include <stdio.h>
#include <string.h>

static int parse(struct arena *a, const char *query, struct kvlist *kv)
{
	memset(kv, 0, sizeof(*kv));
	return req_parse_urlencoded(a, query, strlen(query), kv);
}

START_TEST(filters_parse_and_become_parameters)
{
	struct arena a;
	arena_init(&a, 8192);
	struct kvlist kv;
	ck_assert_int_eq(parse(&a, "cluster=fritz&state=running&state=completed&user=a&user=b&duration=morethan-3600"
			       "&numNodes=2-8&startTime=last24h&stat=flops_any_avg-10-100&tag=3&node=f0101&jobName=x%27%3B--", &kv), 0);
	struct job_filter f;
	char err[256];
	ck_assert_msg(jobquery_filter_from_params(&a, &kv, 1000000, &f, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(f.cluster, "fritz");
	ck_assert_uint_eq(f.nusers, 2);
	ck_assert_int_eq(f.user_match, MATCH_IN);
	ck_assert(f.duration.set && f.duration.from == 3600 && f.duration.to == 0);
	ck_assert(f.start_time.set && f.start_time.from == 1000000 - 86400);
	ck_assert_uint_eq(f.nstats, 1);
	struct user admin = {.username = "root", .roles = ROLE_ADMIN};
	struct sqlq q;
	sqlq_init(&q, &a);
	buf_adds(&q.sql, "SELECT 1 FROM job WHERE true");
	jobquery_where(&q, &f, &admin);
	/* values never appear in the SQL text */
	ck_assert_ptr_null(strstr(q.sql.data, "fritz"));
	ck_assert_ptr_null(strstr(q.sql.data, "--"));
	ck_assert_ptr_null(strstr(q.sql.data, "f0101"));
	ck_assert_ptr_nonnull(strstr(q.sql.data, "jsonb_path_query_array(job.resources, '$[*].hostname') @> jsonb_build_array($"));
	bool found = false;
	for (int i = 0; i < q.nparams; i++)
		if (strcmp(q.params[i], "x';--") == 0)
			found = true;
	ck_assert(found);
	arena_release(&a);
}
END_TEST

START_TEST(bad_values_are_refused_with_the_parameter_named)
{
	struct arena a;
	arena_init(&a, 4096);
	static const char *const bad[] = {
		"state=out-of-memory", "duration=abc", "numNodes=lessthan-x", "jobId=12a", "tag=-1",
		"startTime=yesterday", "stat=flops_any_avg'--10-20", "stat=nodash", "shared=1", "projectMatch=like",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kvlist kv;
		ck_assert_int_eq(parse(&a, bad[i], &kv), 0);
		struct job_filter f;
		char err[256];
		ck_assert_msg(jobquery_filter_from_params(&a, &kv, 0, &f, err, sizeof(err)) == -1, "%s accepted", bad[i]);
		char key[32];
		snprintf(key, sizeof(key), "%.*s", (int)strcspn(bad[i], "="), bad[i]);
		ck_assert_msg(strstr(err, key), "%s: %s", bad[i], err);
	}
	arena_release(&a);
}
END_TEST

START_TEST(role_filter)
{
	struct arena a;
	arena_init(&a, 4096);
	struct job_filter f;
	jobquery_filter_all(&f);
	const char *projects[] = {"p1", "p\"2", NULL};
	struct user mgr = {.username = "m", .roles = ROLE_MANAGER | ROLE_USER, .projects = projects};
	struct user usr = {.username = "u", .roles = ROLE_USER};
	struct user none = {.username = "n", .roles = 0};
	struct sqlq q;
	sqlq_init(&q, &a);
	jobquery_where(&q, &f, &mgr);
	ck_assert_ptr_nonnull(strstr(q.sql.data, "job.project = ANY("));
	ck_assert_str_eq(q.params[1], "{\"p1\",\"p\\\"2\"}");
	sqlq_init(&q, &a);
	jobquery_where(&q, &f, &usr);
	ck_assert_ptr_nonnull(strstr(q.sql.data, "job.hpc_user = $1"));
	sqlq_init(&q, &a);
	jobquery_where(&q, &f, &none);
	ck_assert_str_eq(q.sql.data, " AND false");
	sqlq_init(&q, &a);
	jobquery_where(&q, &f, NULL);
	ck_assert_str_eq(q.sql.data, " AND false");
	arena_release(&a);
}
END_TEST

/* The spellings the indexes need (sql/003_list_order.up.sql): one state is
 * "=", which job_state_start can serve in start-time order; several are
 * "= ANY"; running alone is a literal, for the partial index job_running. */
START_TEST(state_filter_spelling)
{
	struct arena a;
	arena_init(&a, 4096);
	struct job_filter f;
	jobquery_filter_all(&f);
	struct user admin = {.username = "root", .roles = ROLE_ADMIN};
	struct sqlq q;
	f.states = 1u << JOB_OUT_OF_MEMORY;
	sqlq_init(&q, &a);
	jobquery_where(&q, &f, &admin);
	ck_assert_str_eq(q.sql.data, " AND job.job_state = $1");
	ck_assert_int_eq(q.nparams, 1);
	ck_assert_str_eq(q.params[0], "out_of_memory");
	f.states = 1u << JOB_FAILED | 1u << JOB_TIMEOUT;
	sqlq_init(&q, &a);
	jobquery_where(&q, &f, &admin);
	ck_assert_str_eq(q.sql.data, " AND job.job_state = ANY($1::text[])");
	ck_assert_ptr_nonnull(strstr(q.params[0], "failed"));
	ck_assert_ptr_nonnull(strstr(q.params[0], "timeout"));
	f.states = 1u << JOB_RUNNING;
	sqlq_init(&q, &a);
	jobquery_where(&q, &f, &admin);
	ck_assert_str_eq(q.sql.data, " AND job.job_state = 'running'");
	ck_assert_int_eq(q.nparams, 0);
	arena_release(&a);
}
END_TEST

START_TEST(sorting)
{
	struct arena a;
	arena_init(&a, 4096);
	struct kvlist kv;
	struct job_sort s;
	char err[256];
	ck_assert_int_eq(parse(&a, "sort=flops_any_avg&order=asc", &kv), 0);
	ck_assert_int_eq(jobquery_sort_from_params(&kv, &s, err, sizeof(err)), 0);
	ck_assert(!s.desc);
	ck_assert_str_eq(jobquery_sort_expr(&a, &s), "coalesce((job.footprint->>'flops_any_avg')::float8, -1)");
	ck_assert_int_eq(parse(&a, "sort=x');drop", &kv), 0);
	ck_assert_int_eq(jobquery_sort_from_params(&kv, &s, err, sizeof(err)), -1);
	ck_assert(!jobquery_footprint_key_ok("a'_avg"));
	ck_assert(jobquery_footprint_key_ok("mem_bw_max"));
	arena_release(&a);
}
END_TEST

Suite *jobquery_suite(void)
{
	Suite *s = suite_create("jobquery");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, filters_parse_and_become_parameters);
	tcase_add_test(tc, bad_values_are_refused_with_the_parameter_named);
	tcase_add_test(tc, role_filter);
	tcase_add_test(tc, state_filter_spelling);
	tcase_add_test(tc, sorting);
	suite_add_tcase(s, tc);
	return s;
}
