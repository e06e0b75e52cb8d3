/* metrics: query plans from topology, the cc-metric-store v2 body and
 * answer, routing, configuration errors, PromQL templating and Prometheus
 * answers.  No services: the HTTP side is in tests/http/test_archiving.py. */
#include "config.h"
#include "suites.h"
#include "../lib/testlib.h"
#include "../../app/arena.h"
#include "../../app/buf.h"
#include "../../app/cluster.h"
#include "../../app/job.h"
#include "../../app/jobdata.h"
#include "../../app/jsonio.h"
#include "../../app/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

static struct cluster *pico(void)
{
	char err[512];
	struct json_object *o = jsonio_parse_file(test_path("tests/data/ccms/cluster.json"), 1 << 20, err, sizeof(err));
	ck_assert_msg(o != NULL, "%s", err);
	struct cluster *c = cluster_parse(o, err, sizeof(err));
	json_object_put(o);
	ck_assert_msg(c != NULL, "%s", err);
	return c;
}

/* p01 runs on hwthreads 0,1,4,5 (cores 0 and 1, socket 0) with one GPU;
 * p02 gives no hwthreads (the whole node) and no GPU. */
static const char job_text[] =
	"{\"jobId\":77,\"cluster\":\"pico\",\"subCluster\":\"main\",\"user\":\"u\",\"project\":\"p\","
	"\"startTime\":1700000000,\"duration\":600,\"numNodes\":2,\"numAcc\":1,\"jobState\":\"completed\","
	"\"resources\":[{\"hostname\":\"p01\",\"hwthreads\":[0,1,4,5],\"accelerators\":[\"00000000:01:00.0\"]},"
	"{\"hostname\":\"p02\"}]}";

static void job_of(struct arena *a, const char *text, struct job *j)
{
	char err[256];
	ck_assert_msg(job_parse(a, text, strlen(text), 0, j, err, sizeof(err)) == 0, "%s", err);
}

static const struct metrics_query *find_q(const struct metrics_plan *p, const char *metric, const char *scope,
					  const char *host, size_t nth)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->q[i].mc->name, metric) == 0 && strcmp(scope_name(p->q[i].scope), scope) == 0 &&
		    strcmp(p->q[i].host, host) == 0 && nth-- == 0)
			return &p->q[i];
	return NULL;
}

static void assert_ids(const struct metrics_query *q, const char *want)
{
	char got[256] = "";
	for (size_t i = 0; i < q->ntype_ids; i++) {
		if (i)
			strcat(got, ",");
		strcat(got, q->type_ids[i]);
	}
	ck_assert_msg(strcmp(got, want) == 0, "%s %s on %s: type-ids %s, expected %s", q->mc->name,
		      scope_name(q->scope), q->host, got, want);
}

static size_t count_q(const struct metrics_plan *p, const char *metric)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n; i++)
		n += strcmp(p->q[i].mc->name, metric) == 0;
	return n;
}

static struct metrics_plan plan_for(struct arena *a, struct cluster *c, unsigned scopes, const char *const *metrics)
{
	struct job j;
	job_of(a, job_text, &j);
	struct metrics_request rq = {.metrics = metrics, .scopes = scopes, .from = 1700000000, .to = 1700000600};
	struct metrics_plan p;
	char err[256];
	ck_assert_msg(metrics_plan_build(a, &j, &c->subclusters[0], &rq, &p, err, sizeof(err)) == 0, "%s", err);
	return p;
}

#define ALL_SCOPES (METRICS_SCOPE(SCOPE_NODE) | METRICS_SCOPE(SCOPE_CORE) | METRICS_SCOPE(SCOPE_ACCELERATOR))

/* ------------------------------------------------------------------ plans */

START_TEST(plan_types_and_ids_follow_topology)
{
	struct cluster *c = pico();
	struct arena a;
	arena_init(&a, 4096);
	struct metrics_plan p = plan_for(&a, c, ALL_SCOPES, NULL);

	/* node-scope metric: one untyped query per host, nothing finer */
	const struct metrics_query *q = find_q(&p, "cpu_load", "node", "p01", 0);
	ck_assert_ptr_nonnull(q);
	ck_assert_ptr_null(q->type);
	ck_assert_uint_eq(q->nresults, 1);
	ck_assert_uint_eq(count_q(&p, "cpu_load"), 2);

	/* core metric: node = all the job's cores aggregated, core = one series per core */
	q = find_q(&p, "cpu_user", "node", "p01", 0);
	ck_assert_str_eq(q->type, "core");
	assert_ids(q, "0,1");
	ck_assert(q->aggregate);
	q = find_q(&p, "cpu_user", "core", "p01", 0);
	assert_ids(q, "0,1");
	ck_assert(!q->aggregate);
	ck_assert_uint_eq(q->nresults, 2);
	ck_assert_str_eq(q->series_ids[1], "1");
	q = find_q(&p, "cpu_user", "node", "p02", 0); /* no hwthreads given: the whole node */
	assert_ids(q, "0,1,2,3");

	/* hwthread metric at core scope: one aggregated query per core with its threads */
	q = find_q(&p, "flops_any", "node", "p01", 0);
	ck_assert_str_eq(q->type, "hwthread");
	assert_ids(q, "0,1,4,5");
	q = find_q(&p, "flops_any", "core", "p01", 0);
	ck_assert_str_eq(q->type, "hwthread");
	assert_ids(q, "0,4");
	ck_assert(q->aggregate);
	ck_assert_str_eq(q->series_ids[0], "0");
	q = find_q(&p, "flops_any", "core", "p01", 1);
	assert_ids(q, "1,5");
	ck_assert_str_eq(q->series_ids[0], "1");
	ck_assert_ptr_null(find_q(&p, "flops_any", "core", "p01", 2));
	ck_assert_ptr_nonnull(find_q(&p, "flops_any", "core", "p02", 3));

	/* socket metric: node scope only (core is finer than native) */
	q = find_q(&p, "mem_bw", "node", "p01", 0);
	ck_assert_str_eq(q->type, "socket");
	assert_ids(q, "0");
	q = find_q(&p, "mem_bw", "node", "p02", 0);
	assert_ids(q, "0,1");
	ck_assert_ptr_null(find_q(&p, "mem_bw", "core", "p01", 0));

	/* accelerator metric: only where the job has GPUs */
	q = find_q(&p, "acc_utilization", "accelerator", "p01", 0);
	ck_assert_str_eq(q->type, "accelerator");
	assert_ids(q, "00000000:01:00.0");
	ck_assert(!q->aggregate);
	ck_assert_str_eq(q->series_ids[0], "00000000:01:00.0");
	q = find_q(&p, "acc_utilization", "node", "p01", 0);
	ck_assert(q->aggregate);
	ck_assert_ptr_null(find_q(&p, "acc_utilization", "node", "p02", 0));
	ck_assert_uint_eq(count_q(&p, "acc_utilization"), 2);

	/* a metric list restricts; node only by default */
	static const char *const only[] = {"mem_used", "no_such_metric", NULL};
	struct metrics_plan p2 = plan_for(&a, c, 0, only);
	ck_assert_uint_eq(p2.n, 2);
	ck_assert_str_eq(p2.q[0].mc->name, "mem_used");

	/* no hosts */
	struct job j;
	job_of(&a, "{\"jobId\":1,\"cluster\":\"pico\",\"resources\":[]}", &j);
	struct metrics_request rq = {.from = 1, .to = 2};
	char err[256];
	ck_assert_int_eq(metrics_plan_build(&a, &j, &c->subclusters[0], &rq, &p2, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "job 1 has no hosts (resources is empty)");
	arena_release(&a);
	cluster_free(c);
}
END_TEST

/* -------------------------------------------------------- cc-metric-store */

START_TEST(ccms_request_body_v2)
{
	struct cluster *c = pico();
	struct arena a;
	arena_init(&a, 4096);
	static const char *const m[] = {"flops_any", NULL};
	struct metrics_plan p = plan_for(&a, c, ALL_SCOPES, m);
	struct buf b = BUF_INIT;
	ccms_request_json(&p, 0, p.n, &b);
	char err[256];
	struct json_object *o = jsonio_parse(b.data, b.len, err, sizeof(err));
	ck_assert_msg(o != NULL, "%s: %s", err, b.data);
	ck_assert_str_eq(jsonio_str(o, "cluster"), "pico");
	ck_assert_int_eq(json_object_get_int64(jsonio_get(o, "from")), 1700000000);
	ck_assert_int_eq(json_object_get_int64(jsonio_get(o, "to")), 1700000600);
	ck_assert(json_object_get_boolean(jsonio_get(o, "with-stats")));
	ck_assert(json_object_get_boolean(jsonio_get(o, "with-data")));
	struct json_object *qs = jsonio_get(o, "queries");
	/* per host: node + 2 cores (p01) / 4 cores (p02) */
	ck_assert_uint_eq(json_object_array_length(qs), 3 + 5);
	const char *q0 = json_object_to_json_string_ext(json_object_array_get_idx(qs, 0), JSON_C_TO_STRING_PLAIN);
	ck_assert_str_eq(q0, "{\"metric\":\"flops_any\",\"host\":\"p01\",\"type\":\"hwthread\",\"type-ids\":[\"0\",\"1\",\"4\",\"5\"],\"resolution\":60,\"aggreg\":true}");
	json_object_put(o);

	/* node-level metric: no type; a resolution asked for replaces the timestep; stats only */
	static const char *const m2[] = {"cpu_load", NULL};
	p = plan_for(&a, c, 0, m2);
	p.resolution = 120;
	p.stats_only = true;
	buf_reset(&b);
	ccms_request_json(&p, 1, 1, &b);
	ck_assert_str_eq(b.data, "{\"cluster\":\"pico\",\"from\":1700000000,\"to\":1700000600,\"with-stats\":true,\"with-data\":false,"
				 "\"queries\":[{\"metric\":\"cpu_load\",\"host\":\"p02\",\"resolution\":120,\"aggreg\":false}]}");
	buf_release(&b);
	arena_release(&a);
	cluster_free(c);
}
END_TEST

START_TEST(ccms_answer_into_jobdata)
{
	struct cluster *c = pico();
	struct arena a;
	arena_init(&a, 4096);
	static const char *const m[] = {"cpu_user", NULL};
	struct metrics_plan p = plan_for(&a, c, METRICS_SCOPE(SCOPE_NODE) | METRICS_SCOPE(SCOPE_CORE), m);
	/* order: node p01, node p02, core p01 (2 ids), core p02 (4 ids) */
	ck_assert_uint_eq(p.n, 4);
	static const char answer[] =
		"{\"results\":["
		"[{\"data\":[1,2,null,4],\"from\":1,\"to\":2,\"resolution\":60,\"avg\":2.33,\"min\":1,\"max\":4}],"
		"[{\"error\":\"no data for metric cpu_user on p02\"}],"
		"[{\"data\":[10,NaN,30],\"resolution\":60,\"avg\":null,\"min\":null,\"max\":null},"
		" {\"data\":[5,5,5],\"resolution\":60,\"avg\":5,\"min\":5,\"max\":5}],"
		"[{\"error\":\"timeseries not found\"}]"
		"]}";
	char err[256];
	ck_assert_msg(ccms_parse_response(&p, 0, p.n, answer, strlen(answer), err, sizeof(err)) == 0, "%s", err);
	size_t missing;
	const char *first;
	struct jobdata *d = metrics_assemble(&p, &missing, &first);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(missing, 1 + 4); /* p02 node, and p02's four cores from one error entry */
	ck_assert_str_eq(first, "no data for metric cpu_user on p02");

	struct jobdata_metric *node = jobdata_find(d, "cpu_user", "node");
	ck_assert_ptr_nonnull(node);
	ck_assert_uint_eq(node->nseries, 1);
	ck_assert_str_eq(node->series[0].hostname, "p01");
	ck_assert_ptr_null(node->series[0].id);
	ck_assert_uint_eq(node->series[0].len, 4);
	ck_assert(isnan(node->series[0].data[2]));
	ck_assert_double_eq(node->series[0].stats.avg, 2.33); /* the store's statistics */
	ck_assert_int_eq(node->timestep, 60);
	ck_assert_str_eq(node->unit.base, "");

	struct jobdata_metric *core = jobdata_find(d, "cpu_user", "core");
	ck_assert_uint_eq(core->nseries, 2);
	ck_assert_str_eq(core->series[0].id, "0");
	ck_assert_str_eq(core->series[1].id, "1");
	ck_assert(isnan(core->series[0].data[1])); /* NaN literal */
	ck_assert_double_eq(core->series[0].stats.avg, 20); /* null statistics: measured from the data */
	ck_assert_double_eq(core->series[0].stats.max, 30);
	jobdata_free(d);

	/* shapes that are refused */
	static const char *const bad[] = {
		"{\"results\":[[]]}",
		"{\"error\":\"bad query\"}",
		"[1,2]",
		"{\"results\":[1,2,3,4]}",
		"not json",
	};
	static const char *const why[] = {
		"asked 4 queries, got 1 results",
		"the store answered an error: bad query",
		"expected {\"results\":[[...]...]}, got an array",
		"results[0]: expected an array, got an integer",
		"not JSON",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(ccms_parse_response(&p, 0, p.n, bad[i], strlen(bad[i]), err, sizeof(err)), -1);
		ck_assert_msg(strncmp(err, why[i], strlen(why[i])) == 0, "%s: got \"%s\"", bad[i], err);
	}

	/* nothing usable: no jobdata */
	struct metrics_plan p3 = plan_for(&a, c, 0, m);
	static const char none[] = "{\"results\":[[{\"error\":\"x\"}],[{\"error\":\"y\"}]]}";
	ck_assert_int_eq(ccms_parse_response(&p3, 0, p3.n, none, strlen(none), err, sizeof(err)), 0);
	ck_assert_ptr_null(metrics_assemble(&p3, &missing, &first));
	ck_assert_uint_eq(missing, 2);
	arena_release(&a);
	cluster_free(c);
}
END_TEST

/* ---------------------------------------------------------------- routing */

static struct metrics_repos *repos_from(const char *text, char *err, size_t errlen)
{
	char jerr[256];
	struct json_object *o = jsonio_parse(text, strlen(text), jerr, sizeof(jerr));
	ck_assert_msg(o != NULL, "%s", jerr);
	struct metrics_repos *r = metrics_repos_from_conf(o, "config.json", err, errlen);
	json_object_put(o);
	return r;
}

START_TEST(routing_subcluster_cluster_star)
{
	char err[512] = "";
	struct metrics_repos *r = repos_from(
		"{\"metric-store-external\":["
		"{\"scope\":\"*\",\"url\":\"http://all:8082/\",\"token\":\"t1\"},"
		"{\"scope\":\"emmy\",\"url\":\"http://emmy:8082\",\"token\":\"t2\"},"
		"{\"scope\":\"emmy-gpu\",\"url\":\"https://emmy-gpu:8082\",\"token\":\"t3\"}],"
		"\"main\":{\"prometheus\":[{\"scope\":\"fritz\",\"url\":\"http://prom:9090\"},"
		"{\"scope\":\"emmy\",\"url\":\"http://prom2:9090\",\"host-label\":\"hostname\","
		"\"queries\":{\"cpu_load\":\"node_load1{hostname=~\\\"$host\\\"}\"}}]}}",
		err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_uint_eq(r->n, 5);
	ck_assert_str_eq(metrics_route(r, "emmy", "gpu")->url, "https://emmy-gpu:8082");
	ck_assert_str_eq(metrics_route(r, "emmy", "main")->url, "http://emmy:8082"); /* ccms wins at one key */
	ck_assert_str_eq(metrics_route(r, "emmy", NULL)->url, "http://emmy:8082");
	ck_assert_str_eq(metrics_route(r, "fritz", "main")->url, "http://prom:9090"); /* cluster before "*" */
	const struct metrics_repo *x = metrics_route(r, "alex", "a100");
	ck_assert_str_eq(x->url, "http://all:8082"); /* trailing slash gone */
	ck_assert_str_eq(x->token, "t1");
	ck_assert_int_eq(metrics_route(r, "fritz", "x")->kind, METRICS_PROM);
	ck_assert_str_eq(metrics_route(r, "fritz", "x")->host_label, "instance");
	ck_assert_str_eq(r->repo[4].host_label, "hostname");
	ck_assert_uint_eq(r->repo[4].nqueries, 1);
	metrics_repos_free(r);

	/* without "*" nothing else matches */
	r = repos_from("{\"metric-store-external\":[{\"scope\":\"emmy\",\"url\":\"http://e\",\"token\":\"\"}]}", err, sizeof(err));
	ck_assert_ptr_null(metrics_route(r, "fritz", "main"));
	ck_assert_ptr_null(metrics_route(r, "emmyx", NULL));
	metrics_repos_free(r);
	r = repos_from("{}", err, sizeof(err));
	ck_assert_uint_eq(r->n, 0);
	ck_assert_ptr_null(metrics_route(r, "emmy", "main"));
	metrics_repos_free(r);
}
END_TEST

START_TEST(config_errors_name_the_key)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{"{\"metric-store-external\":[{\"scope\":\"*\",\"url\":\"http://x\"}]}",
		 "config.json: metric-store-external[0].token: required"},
		{"{\"metric-store-external\":[{\"url\":\"http://x\",\"token\":\"t\"}]}",
		 "config.json: metric-store-external[0].scope: required"},
		{"{\"metric-store-external\":[{\"scope\":\"*\",\"url\":\"ftp://x\",\"token\":\"t\"}]}",
		 "config.json: metric-store-external[0].url: expected an http:// or https:// URL, got \"ftp://x\""},
		{"{\"main\":{\"prometheus\":[{\"scope\":\"*\",\"url\":\"http://p\",\"queries\":{\"cpu_load\":\"node_load1\"}}]}}",
		 "config.json: main.prometheus[0].queries.cpu_load: the expression must select the job's hosts with \"$host\""},
		{"{\"main\":{\"prometheus\":[{\"scope\":\"*\",\"url\":\"http://p\",\"queries\":{\"cpu_load\":7}}]}}",
		 "config.json: main.prometheus[0].queries.cpu_load: expected a PromQL expression"},
		{"{\"main\":{\"prometheus\":[{\"scope\":\"*\",\"url\":\"http://p\",\"host-label\":\"in-stance\"}]}}",
		 "config.json: main.prometheus[0].host-label: expected a Prometheus label name"},
		{"{\"main\":{\"prometheus\":[{\"scope\":\"*\",\"url\":\"http://p\",\"queries\":{\"a b\":\"x{i=~\\\"$host\\\"}\"}}]}}",
		 "config.json: main.prometheus[0].queries: \"a b\" is not a metric name"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[512] = "";
		struct metrics_repos *r = repos_from(cases[i].text, err, sizeof(err));
		ck_assert_msg(r == NULL, "accepted: %s", cases[i].text);
		ck_assert_msg(strncmp(err, cases[i].err, strlen(cases[i].err)) == 0, "%s:\n got  %s\n want %s",
			      cases[i].text, err, cases[i].err);
	}
}
END_TEST

START_TEST(url_display_hides_user_info)
{
	char out[256];
	metrics_url_display("http://user:secret@store:8082/base?token=x#f", out, sizeof(out));
	ck_assert_str_eq(out, "http://store:8082/base");
	metrics_url_display("https://store", out, sizeof(out));
	ck_assert_str_eq(out, "https://store");
	metrics_url_display("http://h/p@x", out, sizeof(out));
	ck_assert_str_eq(out, "http://h/p@x");
}
END_TEST

/* ------------------------------------------------------------- Prometheus */

START_TEST(promql_escapes_hostile_hosts)
{
	struct buf b = BUF_INIT;
	prom_escape_host("node01.cluster", &b);
	ck_assert_str_eq(b.data, "node01\\\\.cluster"); /* PromQL text: node01\\.cluster */
	buf_reset(&b);
	prom_escape_host("x\"} or vector(1) or {a=\"", &b);
	ck_assert_str_eq(b.data, "x\\\"\\\\} or vector\\\\(1\\\\) or \\\\{a=\\\"");
	buf_reset(&b);
	prom_escape_host("a\\b$c|d\n", &b);
	ck_assert_str_eq(b.data, "a\\\\\\\\b\\\\$c\\\\|d\\x0a");
	buf_reset(&b);

	const char *hosts[] = {"h1", "h.2"};
	prom_expand("node_load1{$label=~\"$host\"}[$rate] $hostx $other", "instance", hosts, 2, 60, &b);
	ck_assert_str_eq(b.data, "node_load1{instance=~\"(?:h1|h\\\\.2)(?:[.:].*)?\"}[240s] (?:h1|h\\\\.2)(?:[.:].*)?x $other");
	buf_reset(&b);
	prom_expand("[$rate]", "i", hosts, 0, 5, &b);
	ck_assert_str_eq(b.data, "[60s]");
	buf_release(&b);

	ck_assert_ptr_nonnull(prom_default_query("cpu_load"));
	ck_assert_ptr_nonnull(strstr(prom_default_query("mem_used"), "node_memory_MemAvailable_bytes"));
	ck_assert_ptr_null(prom_default_query("flops_any"));

	const char *hs[] = {"node1", "node10", "n"};
	ck_assert_int_eq(prom_match_host("node1", hs, 3), 0);
	ck_assert_int_eq(prom_match_host("node10:9100", hs, 3), 1);
	ck_assert_int_eq(prom_match_host("node1.example.org:9100", hs, 3), 0);
	ck_assert_int_eq(prom_match_host("node2", hs, 3), -1);
	ck_assert_int_eq(prom_match_host("n.x", hs, 3), 2);
}
END_TEST

START_TEST(prometheus_answer_per_host)
{
	const char *hosts[] = {"h1", "h2"};
	/* from 100, step 10, 4 points: 100 110 120 130 */
	static const char answer[] =
		"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
		"{\"metric\":{\"instance\":\"h1:9100\",\"device\":\"a\"},\"values\":[[100,\"1\"],[110,\"2\"],[130,\"NaN\"]]},"
		"{\"metric\":{\"instance\":\"h1:9100\",\"device\":\"b\"},\"values\":[[100,\"3\"],[110.2,\"4\"],[999,\"5\"]]},"
		"{\"metric\":{\"instance\":\"h2.example.org\"},\"values\":[[120,\"2.5e9\"]]},"
		"{\"metric\":{\"instance\":\"h3\"},\"values\":[[100,\"1\"]]},"
		"{\"metric\":{},\"values\":[[100,\"1\"]]}"
		"]}}";
	double v1[4], v2[4];
	double *out[] = {v1, v2};
	bool seen[2];
	char err[256];
	ck_assert_msg(prom_parse_response(answer, strlen(answer), "instance", hosts, 2, 100, 10, 4, AGGREGATION_SUM, 1.0,
					  out, seen, err, sizeof(err)) == 0, "%s", err);
	ck_assert(seen[0] && seen[1]);
	ck_assert_double_eq(v1[0], 4); /* two devices summed */
	ck_assert_double_eq(v1[1], 6);
	ck_assert(isnan(v1[2]));
	ck_assert(isnan(v1[3])); /* NaN is no value */
	ck_assert(isnan(v2[0]));
	ck_assert_double_eq(v2[2], 2.5e9);

	/* average aggregation, scaling (bytes -> GB) */
	ck_assert_int_eq(prom_parse_response(answer, strlen(answer), "instance", hosts, 2, 100, 10, 4, AGGREGATION_AVG, 1e-9,
					     out, seen, err, sizeof(err)), 0);
	ck_assert_double_eq_tol(v1[0], 2e-9, 1e-18);
	ck_assert_double_eq_tol(v2[2], 2.5, 1e-12);

	/* a host without series */
	static const char empty[] = "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}";
	ck_assert_int_eq(prom_parse_response(empty, strlen(empty), "instance", hosts, 2, 100, 10, 4, AGGREGATION_SUM, 1,
					     out, seen, err, sizeof(err)), 0);
	ck_assert(!seen[0] && !seen[1]);

	static const char bad[] = "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"1:12: parse error: unexpected \\\"}\\\"\"}";
	ck_assert_int_eq(prom_parse_response(bad, strlen(bad), "instance", hosts, 2, 100, 10, 4, AGGREGATION_SUM, 1,
					     out, seen, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "bad_data: 1:12: parse error: unexpected \"}\"");
	static const char vec[] = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}";
	ck_assert_int_eq(prom_parse_response(vec, strlen(vec), "instance", hosts, 2, 100, 10, 4, AGGREGATION_SUM, 1,
					     out, seen, err, sizeof(err)), -1);
}
END_TEST

Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, plan_types_and_ids_follow_topology);
	tcase_add_test(tc, ccms_request_body_v2);
	tcase_add_test(tc, ccms_answer_into_jobdata);
	tcase_add_test(tc, routing_subcluster_cluster_star);
	tcase_add_test(tc, config_errors_name_the_key);
	tcase_add_test(tc, url_display_hides_user_info);
	tcase_add_test(tc, promql_escapes_hostile_hosts);
	tcase_add_test(tc, prometheus_answer_per_host);
	suite_add_tcase(s, tc);
	return s;
}
