/* Database suite: the migrations and what the schema must refuse, against a
 * real PostgreSQL (PG* environment, as ./test.sh provides with pg_virtualenv).
 * Each test runs in a database of its own, made from sql/ and dropped after. */
#include "config.h"
#include "../lib/testlib.h"
#include "../../app/archive.h"
#include "../../app/auth.h"
#include "../../app/conf.h"
#include "../../app/importer.h"
#include "../../app/jsonio.h"
#include "../../app/db.h"
#include "../../app/migrate.h"
#include "../../app/password.h"

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dbname[64];

static PGresult *admin_exec(const char *sql)
{
	PGconn *c = PQconnectdb("dbname=postgres");
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "PostgreSQL: %s", PQerrorMessage(c));
	PGresult *r = PQexec(c, sql);
	PQfinish(c);
	return r;
}

static void setup(void)
{
	snprintf(dbname, sizeof(dbname), "jobscope_check_%ld", (long)getpid());
	char sql[160];
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
	PGresult *r = admin_exec(sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQresultErrorMessage(r));
	PQclear(r);
	char ci[128];
	snprintf(ci, sizeof(ci), "dbname=%s", dbname);
	db_setup(ci);
}

static void teardown(void)
{
	db_close();
	char sql[160];
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", dbname);
	PQclear(admin_exec(sql));
}

static int exec_ok(const char *sql)
{
	PGresult *r = db_query_once(NULL, sql, 0, NULL);
	if (!r)
		return 0;
	PQclear(r);
	return 1;
}

static const char *sql_dir(void)
{
	static char d[4096];
	snprintf(d, sizeof(d), "%s/sql", test_srcdir());
	return d;
}

START_TEST(migrate_up_from_empty_and_report)
{
	int v;
	bool dirty;
	ck_assert_int_eq(migrate_version(&v, &dirty), 0);
	ck_assert_int_eq(v, 0);
	char err[512];
	ck_assert_int_eq(migrate_check(err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "-migrate-db"), "%s", err);
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	ck_assert_int_eq(migrate_up(sql_dir(), f), 0);
	fclose(f);
	ck_assert_msg(strstr(out, "applying 001_init.up.sql ... done"), "%s", out);
	ck_assert_msg(strstr(out, "applying 002_job_load.up.sql ... done"), "%s", out);
	ck_assert_msg(strstr(out, "applying 003_list_order.up.sql ... done"), "%s", out);
	ck_assert_msg(strstr(out, "now at version 3"), "%s", out);
	free(out);
	ck_assert_int_eq(migrate_version(&v, &dirty), 0);
	ck_assert_int_eq(v, DB_SCHEMA_VERSION);
	ck_assert_int_eq(migrate_check(err, sizeof(err)), 0);
	/* a second run changes nothing */
	f = open_memstream(&out, &outlen);
	ck_assert_int_eq(migrate_up(sql_dir(), f), 0);
	fclose(f);
	ck_assert_msg(strstr(out, "nothing to do"), "%s", out);
	free(out);
}
END_TEST

START_TEST(down_and_up_again)
{
	FILE *f = fopen("/dev/null", "w");
	ck_assert_int_eq(migrate_up(sql_dir(), f), 0);
	ck_assert_int_eq(migrate_down(sql_dir(), 0, f), 0);
	int v;
	bool dirty;
	ck_assert_int_eq(migrate_version(&v, &dirty), 0);
	ck_assert_int_eq(v, 0);
	ck_assert(!exec_ok("SELECT 1 FROM job"));
	ck_assert_int_eq(migrate_up(sql_dir(), f), 0);
	ck_assert(exec_ok("SELECT 1 FROM job"));
	fclose(f);
}
END_TEST

static char *query1(const char *sql);

/* The plan of sql as one text (EXPLAIN's lines joined); free() it. */
static char *plan_of(const char *sql)
{
	char q[1024];
	snprintf(q, sizeof(q), "EXPLAIN (COSTS OFF) %s", sql);
	PGresult *r = db_query_once(NULL, q, 0, NULL);
	ck_assert_msg(r != NULL, "%s: %s", q, db_last_error());
	size_t len = 1;
	for (int i = 0; i < PQntuples(r); i++)
		len += strlen(PQgetvalue(r, i, 0)) + 1;
	char *out = calloc(1, len);
	ck_assert_ptr_nonnull(out);
	for (int i = 0; i < PQntuples(r); i++) {
		strcat(out, PQgetvalue(r, i, 0));
		strcat(out, "\n");
	}
	PQclear(r);
	return out;
}

/* true when the plan of sql names index */
static bool plan_uses(const char *sql, const char *index)
{
	char *plan = plan_of(sql);
	bool found = strstr(plan, index) != NULL;
	free(plan);
	return found;
}

static void ck_query1(const char *sql, const char *want)
{
	char *v = query1(sql);
	ck_assert_msg(strcmp(v, want) == 0, "%s: '%s', expected '%s'", sql, v, want);
	free(v);
}

#define HOSTS_EXPR "jsonb_path_query_array(resources, '$[*].hostname')"

/* A version 1 database with a job goes to version 2 (json statistics and
 * preview, the hosts index on built-in functions) and back, keeping the row. */
START_TEST(v1_data_up_to_2_and_back)
{
	FILE *f = fopen("/dev/null", "w");
	ck_assert_int_eq(migrate_up(sql_dir(), f), 0);
	ck_assert_int_eq(migrate_down(sql_dir(), 1, f), 0);
	ck_assert(exec_ok("INSERT INTO job (job_id, cluster, subcluster, hpc_user, project, job_state, num_nodes, "
			  "resources, statistics, preview) VALUES (7, 'c', 's', 'u', 'p', 'completed', 2, "
			  "'[{\"hostname\": \"n1\", \"hwthreads\": [0, 1]}, {\"hostname\": \"n2\"}]', "
			  "'{\"mem_bw\": {\"avg\": 1.5, \"unit\": {\"base\": \"B/s\"}}}', "
			  "'{\"m\": {\"timestep\": 60, \"data\": [1, 2]}}')"));
	ck_query1("SELECT job_hostnames(resources)::text FROM job", "{n1,n2}");
	ck_assert_int_eq(migrate_up(sql_dir(), f), 0);
	int v;
	bool dirty;
	ck_assert_int_eq(migrate_version(&v, &dirty), 0);
	ck_assert_int_eq(v, DB_SCHEMA_VERSION);
	ck_query1("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
		  "WHERE attrelid = 'job'::regclass AND attname = 'statistics'", "json");
	ck_query1("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
		  "WHERE attrelid = 'job'::regclass AND attname = 'preview'", "json");
	ck_query1("SELECT to_regprocedure('job_hostnames(jsonb)') IS NULL", "t");
	ck_query1("SELECT statistics->'mem_bw'->>'avg' FROM job", "1.5");
	ck_query1("SELECT preview->'m'->'data'->>1 FROM job", "2");
	ck_query1("SELECT " HOSTS_EXPR "::text FROM job", "[\"n1\", \"n2\"]");
	ck_query1("SELECT count(*) FROM job WHERE " HOSTS_EXPR " @> jsonb_build_array('n2'::text)", "1");
	ck_query1("SELECT count(*) FROM job WHERE " HOSTS_EXPR " @> jsonb_build_array('n'::text)", "0");
	/* the node filter's and the concurrent jobs' condition can use the index */
	ck_assert(exec_ok("SET enable_seqscan = off"));
	ck_assert(plan_uses("SELECT id FROM job WHERE " HOSTS_EXPR " @> jsonb_build_array('n2'::text)", "job_hosts_gin"));
	/* the task runner's look for previews to compute (app/tasks.c) */
	ck_assert(plan_uses("SELECT id FROM job WHERE id > 0 AND preview IS NULL AND monitoring_status = 3 "
			    "ORDER BY id LIMIT 100", "job_preview_todo"));
	ck_assert(exec_ok("RESET enable_seqscan"));
	/* the shape checks still hold */
	ck_assert(!exec_ok("UPDATE job SET statistics = '[1]'"));
	ck_assert(!exec_ok("UPDATE job SET preview = '\"x\"'"));
	ck_assert(!exec_ok("UPDATE job SET statistics = '{'"));
	ck_assert(exec_ok("UPDATE job SET preview = '{\"m\": {\"timestep\": 60, \"data\": [3]}}'"));
	/* and back to version 1 */
	ck_assert_int_eq(migrate_down(sql_dir(), 1, f), 0);
	ck_query1("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
		  "WHERE attrelid = 'job'::regclass AND attname = 'statistics'", "jsonb");
	ck_query1("SELECT statistics->'mem_bw'->>'avg' FROM job", "1.5");
	ck_query1("SELECT preview->'m'->'data'->>0 FROM job", "3");
	ck_query1("SELECT count(*) FROM job WHERE job_hostnames(resources) @> ARRAY['n1']::text[]", "1");
	ck_assert(exec_ok("SET enable_seqscan = off"));
	ck_assert(plan_uses("SELECT id FROM job WHERE job_hostnames(resources) @> ARRAY['n1']::text[]", "job_hosts_gin"));
	ck_assert(exec_ok("RESET enable_seqscan"));
	ck_assert_int_eq(migrate_up(sql_dir(), f), 0);
	fclose(f);
}
END_TEST

/* Version 3: a job list filtered by one cluster or one state gets its jobs in
 * start-time order from an index that leads with that column, also in the
 * generic plan of a prepared statement, which does not know the value (so
 * that a rare value does not walk the whole start-time index); and node
 * searches read no pending list. */
START_TEST(v3_list_orders_from_the_filtered_column)
{
	FILE *f = fopen("/dev/null", "w");
	ck_assert_int_eq(migrate_up(sql_dir(), f), 0);
	fclose(f);
	ck_query1("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'job_hosts_gin'", "fastupdate=off");
	static const struct {
		const char *where, *param, *index;
		bool sorted; /* the plan has to sort: no index gives the order */
	} cases[] = {
		{"job.cluster = $1", "text", "job_cluster_start", false},
		{"job.job_state = $1", "text", "job_state_start", false},
		{"job.cluster = $1 AND job.job_state = $1", "text", "job_cluster_state", false},
		/* why the list writes one state with "=": ANY cannot give the order */
		{"job.job_state = ANY($1)", "text[]", NULL, true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* without the start-time index and with sorts and scans of the
		 * table priced out, only an index that gives the order avoids a Sort */
		ck_assert(exec_ok("BEGIN"));
		ck_assert(exec_ok("DROP INDEX job_start_time"));
		ck_assert(exec_ok("SET LOCAL enable_sort = off"));
		ck_assert(exec_ok("SET LOCAL enable_seqscan = off"));
		ck_assert(exec_ok("SET LOCAL plan_cache_mode = force_generic_plan"));
		char sql[512];
		snprintf(sql, sizeof(sql), "PREPARE l(%s) AS SELECT job.id FROM job WHERE %s "
			 "ORDER BY job.start_time DESC, job.id DESC LIMIT 11", cases[i].param, cases[i].where);
		ck_assert(exec_ok(sql));
		char *plan = plan_of(strcmp(cases[i].param, "text") == 0 ? "EXECUTE l('x')" : "EXECUTE l('{x}')");
		if (cases[i].index)
			ck_assert_msg(strstr(plan, cases[i].index), "%s: %s", cases[i].where, plan);
		ck_assert_msg((strstr(plan, "Sort") != NULL) == cases[i].sorted, "%s: %s", cases[i].where, plan);
		free(plan);
		ck_assert(exec_ok("ROLLBACK"));
		ck_assert(exec_ok("DEALLOCATE l"));
	}
}
END_TEST

START_TEST(other_versions_are_refused_with_the_fix)
{
	FILE *f = fopen("/dev/null", "w");
	ck_assert_int_eq(migrate_up(sql_dir(), f), 0);
	fclose(f);
	char err[512];
	ck_assert(exec_ok("UPDATE schema_migrations SET version = 99"));
	ck_assert_int_eq(migrate_check(err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "version 99") && strstr(err, "newer"), "%s", err);
	ck_assert(exec_ok("UPDATE schema_migrations SET version = 1, dirty = true"));
	ck_assert_int_eq(migrate_check(err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "dirty"), "%s", err);
	f = fopen("/dev/null", "w");
	ck_assert_int_eq(migrate_up(sql_dir(), f), -1); /* refuses to touch a dirty schema */
	fclose(f);
}
END_TEST

START_TEST(schema_refuses_bad_rows)
{
	FILE *f = fopen("/dev/null", "w");
	ck_assert_int_eq(migrate_up(sql_dir(), f), 0);
	fclose(f);
	char h[PASSWORD_HASH_MAX];
	ck_assert_int_eq(password_hash("pw", h), 0);
	const char *p[] = {"alice", h, "{user,manager}"};
	PGresult *r = db_query_once(NULL, "INSERT INTO hpc_user (username, password, roles) VALUES ($1, $2, $3::text[])", 3, p);
	ck_assert_ptr_nonnull(r);
	PQclear(r);
	const char *bad[] = {"bob", h, "{user,root}"};
	ck_assert_ptr_null(db_query_once(NULL, "INSERT INTO hpc_user (username, password, roles) VALUES ($1, $2, $3::text[])", 3, bad));
	const char *plain[] = {"carol", "secret", "{user}"};
	ck_assert_ptr_null(db_query_once(NULL, "INSERT INTO hpc_user (username, password, roles) VALUES ($1, $2, $3::text[])", 3, plain));
	/* a hostile name is stored as it is, and only as data */
	const char *evil[] = {"x'); DROP TABLE job; --<b>", h, "{user}"};
	r = db_query_once(NULL, "INSERT INTO hpc_user (username, password, roles) VALUES ($1, $2, $3::text[])", 3, evil);
	ck_assert_ptr_nonnull(r);
	PQclear(r);
	ck_assert(exec_ok("SELECT 1 FROM job"));
	ck_assert(exec_ok("INSERT INTO job (job_id, cluster, subcluster, start_time, hpc_user, project, job_state, resources, num_nodes, shared) "
			  "VALUES (1, 'c', 's', 100, 'u', 'p', 'running', '[{\"hostname\":\"n1\"}]', 1, 'none')"));
	ck_assert(!exec_ok("INSERT INTO job (job_id, cluster, subcluster, start_time, hpc_user, project, job_state, resources, num_nodes, shared) "
			   "VALUES (1, 'c', 's', 100, 'u', 'p', 'running', '[{\"hostname\":\"n1\"}]', 1, 'none')"));
	ck_assert_str_eq(db_last_sqlstate(), "23505");
	ck_assert(!exec_ok("INSERT INTO job (job_id, cluster, subcluster, start_time, hpc_user, project, job_state, resources, num_nodes, shared) "
			   "VALUES (2, 'c', 's', 100, 'u', 'p', 'out-of-memory', '[{\"hostname\":\"n1\"}]', 1, 'none')"));
	/* deleting a user ends their sessions */
	ck_assert(exec_ok("INSERT INTO session (id_hash, username, expires) VALUES (sha256('x'), 'alice', now() + interval '1 hour')"));
	ck_assert(exec_ok("DELETE FROM hpc_user WHERE username = 'alice'"));
	r = db_query_once(NULL, "SELECT count(*) FROM session", 0, NULL);
	ck_assert_str_eq(PQgetvalue(r, 0, 0), "0");
	PQclear(r);
}
END_TEST

static struct archive *open_archive(const char *path)
{
	struct conf c;
	memset(&c, 0, sizeof(c));
	char kind[] = "file";
	c.archive_kind = kind;
	c.archive_path = (char *)(uintptr_t)path;
	char err[512];
	struct archive *ar = archive_open(&c, err, sizeof(err));
	ck_assert_msg(ar != NULL, "%s", err);
	return ar;
}

static char *query1(const char *sql)
{
	PGresult *r = db_query_once(NULL, sql, 0, NULL);
	ck_assert_msg(r && PQntuples(r) == 1, "%s: %s", sql, db_last_error());
	char *v = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

START_TEST(init_db_loads_the_reference_archive)
{
	char ref[4096];
	if (!test_have_reference("-init-db of the reference archive", "CCBACKEND_REF_DIR", ref, sizeof(ref)))
		return;
	FILE *f = fopen("/dev/null", "w");
	ck_assert_int_eq(migrate_up(sql_dir(), f), 0);
	char path[4200];
	snprintf(path, sizeof(path), "%s/cc-backend/pkg/archive/testdata/archive", ref);
	struct archive *ar = open_archive(path);
	char *out = NULL;
	size_t outlen = 0;
	FILE *o = open_memstream(&out, &outlen);
	ck_assert_int_eq(importer_init_db(ar, 2, o), 0);
	fclose(o);
	ck_assert_msg(strstr(out, "init-db: 2 jobs"), "%s", out);
	free(out);
	/* exactly its jobs, with the fields of their meta.json */
	char *n = query1("SELECT count(*) FROM job");
	ck_assert_str_eq(n, "2");
	free(n);
	static const char *const metas[] = {"emmy/1403/244/1608923076", "emmy/1404/397/1609300556"};
	for (size_t i = 0; i < 2; i++) {
		char file[4400], err[256];
		snprintf(file, sizeof(file), "%s/%s/meta.json", path, metas[i]);
		struct json_object *m = jsonio_parse_file(file, 1 << 20, err, sizeof(err));
		ck_assert_msg(m != NULL, "%s", err);
		char sql[512];
		snprintf(sql, sizeof(sql),
			 "SELECT concat_ws('|', job_id, cluster, subcluster, hpc_user, project, num_nodes, duration, "
			 "start_time, job_state, shared, jsonb_array_length(resources), monitoring_status, "
			 "statistics->'mem_bw'->>'avg') FROM job WHERE job_id = %lld",
			 (long long)json_object_get_int64(jsonio_get(m, "jobId")));
		char *row = query1(sql);
		char want[512];
		snprintf(want, sizeof(want), "%lld|%s|%s|%s|%s|%d|%d|%lld|%s|%s|%zu|3|%s",
			 (long long)json_object_get_int64(jsonio_get(m, "jobId")), jsonio_str(m, "cluster"),
			 jsonio_str(m, "subCluster"), jsonio_str(m, "user"), jsonio_str(m, "project"),
			 json_object_get_int(jsonio_get(m, "numNodes")), json_object_get_int(jsonio_get(m, "duration")),
			 (long long)json_object_get_int64(jsonio_get(m, "startTime")), jsonio_str(m, "jobState"),
			 jsonio_str(m, "shared"), json_object_array_length(jsonio_get(m, "resources")),
			 json_object_get_string(jsonio_get(jsonio_get(jsonio_get(m, "statistics"), "mem_bw"), "avg")));
		ck_assert_str_eq(row, want);
		free(row);
		json_object_put(m);
	}
	/* the secondary indexes came back */
	char *idx = query1("SELECT count(*) FROM pg_indexes WHERE tablename = 'job'");
	ck_assert_int_ge(atoi(idx), 8);
	free(idx);
	/* a second run replaces, not duplicates */
	o = fopen("/dev/null", "w");
	ck_assert_int_eq(importer_init_db(ar, 1, o), 0);
	fclose(o);
	n = query1("SELECT count(*) FROM job");
	ck_assert_str_eq(n, "2");
	free(n);
	archive_close(ar);
	fclose(f);
}
END_TEST

START_TEST(init_db_skips_broken_files_with_reasons)
{
	FILE *f = fopen("/dev/null", "w");
	ck_assert_int_eq(migrate_up(sql_dir(), f), 0);
	fclose(f);
	char *dir = test_tmpdir();
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "cp -r '%s/tests/data/archive/.' '%s/' && mkdir -p %s/heron/1/002/1700000000 %s/heron/1/003/1700000000 %s/heron/x/001/5",
		 test_srcdir(), dir, dir, dir, dir);
	ck_assert_int_eq(system(cmd), 0);
	char p[4096];
	snprintf(p, sizeof(p), "%s/heron/1/002/1700000000/meta.json", dir);
	ck_assert_int_eq(test_write_file(p, "{\"jobId\":1002,\"cluster\":\"heron\",\"user\":\"u<script>\",\"project\":\"p'; DROP TABLE job;--\","
					   "\"startTime\":1700000000,\"duration\":60,\"numNodes\":1,\"jobState\":\"completed\","
					   "\"resources\":[{\"hostname\":\"h0001\"}],\"tags\":[{\"type\":\"app\",\"name\":\"vasp\"}]}"), 0);
	snprintf(p, sizeof(p), "%s/heron/1/003/1700000000/meta.json", dir);
	ck_assert_int_eq(test_write_file(p, "{\"jobId\": 1003, \"cluster\": "), 0);
	struct archive *ar = open_archive(dir);
	char *out = NULL;
	size_t outlen = 0;
	FILE *o = open_memstream(&out, &outlen);
	ck_assert_int_eq(importer_init_db(ar, 2, o), 0);
	fclose(o);
	ck_assert_msg(strstr(out, "init-db: 1 jobs") && strstr(out, "2 skipped") && strstr(out, "1 entries in the archive are not job directories") && strstr(out, "heron/1/003/1700000000"), "%s", out);
	free(out);
	char *v = query1("SELECT hpc_user || '|' || project || '|' || subcluster FROM job");
	ck_assert_str_eq(v, "u<script>|p'; DROP TABLE job;--|main");
	free(v);
	v = query1("SELECT t.tag_type || ':' || t.tag_name || ':' || t.tag_scope FROM jobtag jt JOIN tag t ON t.id = jt.tag_id");
	ck_assert_str_eq(v, "app:vasp:global");
	free(v);
	archive_close(ar);
	test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(import_job_as_the_importer_golden_files)
{
	char ref[4096];
	if (!test_have_reference("-import-job of cc-backend's importer test data", "CCBACKEND_REF_DIR", ref, sizeof(ref)))
		return;
	FILE *f = fopen("/dev/null", "w");
	ck_assert_int_eq(migrate_up(sql_dir(), f), 0);
	fclose(f);
	char *dir = test_tmpdir();
	char cmd[8192], td[4200];
	snprintf(td, sizeof(td), "%s/cc-backend/internal/importer/testdata", ref);
	snprintf(cmd, sizeof(cmd), "echo 3 > '%s/version.txt' && mkdir '%s/fritz' && cp '%s/cluster-fritz.json' '%s/fritz/cluster.json'",
		 dir, dir, td, dir);
	ck_assert_int_eq(system(cmd), 0);
	struct archive *ar = open_archive(dir);
	static const char *const names[] = {"fritzMinimal", "fritzError"};
	for (size_t i = 0; i < 2; i++) {
		char spec[9000], golden[4400], err[256];
		snprintf(spec, sizeof(spec), "%s/meta-%s.input:%s/data-%s.json", td, names[i], td, names[i]);
		FILE *o = fopen("/dev/null", "w");
		ck_assert_int_eq(importer_import_jobs(ar, spec, o), 0);
		fclose(o);
		snprintf(golden, sizeof(golden), "%s/%s-golden.json", td, names[i]);
		struct json_object *g = jsonio_parse_file(golden, 1 << 20, err, sizeof(err));
		ck_assert_msg(g != NULL, "%s", err);
		char sql[512];
		snprintf(sql, sizeof(sql), "SELECT concat_ws('|', job_id, cluster, start_time, duration, monitoring_status) FROM job WHERE job_id = %lld",
			 (long long)json_object_get_int64(jsonio_get(g, "jobId")));
		char *row = query1(sql), want[256];
		snprintf(want, sizeof(want), "%lld|%s|%lld|%d|3", (long long)json_object_get_int64(jsonio_get(g, "jobId")),
			 jsonio_str(g, "cluster"), (long long)json_object_get_int64(jsonio_get(g, "startTime")),
			 json_object_get_int(jsonio_get(g, "duration")));
		ck_assert_str_eq(row, want);
		free(row);
		/* written into the archive as well */
		char key[512], file[8192];
		archive_job_key("fritz", json_object_get_int64(jsonio_get(g, "jobId")), json_object_get_int64(jsonio_get(g, "startTime")), key, sizeof(key));
		snprintf(file, sizeof(file), "%s/%s/meta.json", dir, key);
		ck_assert_msg(access(file, R_OK) == 0, "%s missing", file);
		json_object_put(g);
		/* a second import of the same job is refused and changes nothing */
		o = fopen("/dev/null", "w");
		ck_assert_int_eq(importer_import_jobs(ar, spec, o), -1);
		fclose(o);
	}
	char *n = query1("SELECT count(*) FROM job");
	ck_assert_str_eq(n, "2");
	free(n);
	/* footprint and preview were computed at import */
	n = query1("SELECT count(*) FROM job WHERE footprint ? 'flops_any_avg' AND preview IS NOT NULL");
	ck_assert_str_eq(n, "2");
	free(n);
	/* bad pairs: unknown files, no colon */
	FILE *o = fopen("/dev/null", "w");
	ck_assert_int_eq(importer_import_jobs(ar, "nometa", o), -1);
	ck_assert_int_eq(importer_import_jobs(ar, "/nonexistent/meta.json:/nonexistent/data.json", o), -1);
	fclose(o);
	archive_close(ar);
	test_rmtree(dir);
	free(dir);
}
END_TEST

/* db_query prepares by the SQL's address: text built at run time in a
 * reused buffer must not run as the statement prepared for its old text */
START_TEST(db_query_same_address_other_text)
{
	char sql[64];
	snprintf(sql, sizeof(sql), "SELECT $1::int");
	const char *p1[] = {"1"};
	PGresult *r = db_query(NULL, sql, 1, p1);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(PQgetvalue(r, 0, 0), "1");
	PQclear(r);
	snprintf(sql, sizeof(sql), "SELECT $1::int + $2::int");
	const char *p2[] = {"1", "2"};
	r = db_query(NULL, sql, 2, p2);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(PQgetvalue(r, 0, 0), "3");
	PQclear(r);
}
END_TEST

static Suite *db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("migrations");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, migrate_up_from_empty_and_report);
	tcase_add_test(tc, down_and_up_again);
	tcase_add_test(tc, v1_data_up_to_2_and_back);
	tcase_add_test(tc, v3_list_orders_from_the_filtered_column);
	tcase_add_test(tc, other_versions_are_refused_with_the_fix);
	tcase_add_test(tc, schema_refuses_bad_rows);
	tcase_add_test(tc, db_query_same_address_other_text);
	TCase *ti = tcase_create("init-db");
	tcase_set_timeout(ti, 120);
	tcase_add_checked_fixture(ti, setup, teardown);
	tcase_add_test(ti, init_db_loads_the_reference_archive);
	tcase_add_test(ti, init_db_skips_broken_files_with_reasons);
	tcase_add_test(ti, import_job_as_the_importer_golden_files);
	suite_add_tcase(s, ti);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (!getenv("PGHOST") && !getenv("PGDATABASE") && !getenv("PGPORT")) {
		fprintf(stderr, "check_db: no PostgreSQL in the environment (PGHOST/PGPORT unset); run it through ./test.sh, which starts one\n");
		return 1;
	}
	jsonio_init();
	SRunner *sr = srunner_create(db_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
