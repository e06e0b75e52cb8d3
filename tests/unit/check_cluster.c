#include "config.h"
#include "suites.h"
#include "../lib/testlib.h"
#include "../../app/cluster.h"
#include "../../app/jsonio.h"
#include "../../app/log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CLUSTER_FILE (16 * 1024 * 1024)

/* also declared by suites.h once the suite is listed there */
Suite *cluster_suite(void);

/* ---------------------------------------------------------------- helpers */

static struct cluster *load_file(const char *path)
{
	char err[1024] = "";
	struct json_object *o = jsonio_parse_file(path, MAX_CLUSTER_FILE, err, sizeof(err));
	ck_assert_msg(o != NULL, "%s", err);
	struct cluster *c = cluster_parse(o, err, sizeof(err));
	json_object_put(o);
	ck_assert_msg(c != NULL, "%s: %s", path, err);
	return c;
}

static struct cluster *load_project(const char *name)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "tests/data/archive/%s/cluster.json", name);
	return load_file(test_path(rel));
}

static char ref_dir[4096];
static bool have_ref;

static struct cluster *load_ref(const char *rel)
{
	char path[8192];
	snprintf(path, sizeof(path), "%s/%s", ref_dir, rel);
	return load_file(path);
}

/* Parse JSON text; err gets the message when cluster_parse fails. */
static struct cluster *parse_text(const char *text, char *err, size_t errlen)
{
	char jerr[256];
	struct json_object *o = jsonio_parse(text, strlen(text), jerr, sizeof(jerr));
	ck_assert_msg(o != NULL, "test JSON: %s: %s", jerr, text);
	struct cluster *c = cluster_parse(o, err, errlen);
	json_object_put(o);
	return c;
}

static const char *sc_for(const struct cluster *c, const char *host)
{
	const struct subcluster *sc = cluster_subcluster_for_host(c, host);
	return sc ? sc->name : "(none)";
}

static void assert_host(const struct cluster *c, const char *host, const char *want)
{
	const char *got = sc_for(c, host);
	ck_assert_msg(strcmp(got, want) == 0, "%s: host %s: expected subcluster %s, got %s", c->name, host,
		      want, got);
}

/* keys: NULL-terminated list of "<metric>_<stat>" in order */
static void assert_footprint(const struct subcluster *sc, const char *const *keys)
{
	size_t n = 0;
	while (keys[n])
		n++;
	ck_assert_msg(sc->nfootprint == n, "%s: expected %zu footprint metrics, got %zu", sc->name, n,
		      sc->nfootprint);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(sc->footprint[i].key, keys[i]);
}

static void assert_energy(const struct subcluster *sc, const char *const *names)
{
	size_t n = 0;
	while (names[n])
		n++;
	ck_assert_msg(sc->nenergy == n, "%s: expected %zu energy metrics, got %zu", sc->name, n, sc->nenergy);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(sc->energy_footprint[i]->name, names[i]);
}

static const struct subcluster *need_sc(const struct cluster *c, const char *name)
{
	const struct subcluster *sc = cluster_subcluster(c, name);
	ck_assert_msg(sc != NULL, "%s: no subcluster %s", c->name, name);
	return sc;
}

/* ------------------------------------------------------------------ scope */

START_TEST(test_scope_names)
{
	enum metric_scope s;
	for (int i = 0; i < SCOPE__MAX; i++) {
		ck_assert_int_eq(scope_parse(scope_name((enum metric_scope)i), &s), 0);
		ck_assert_int_eq(s, i);
	}
	ck_assert_str_eq(scope_name(SCOPE_MEMORY_DOMAIN), "memoryDomain");
	s = SCOPE_CORE;
	ck_assert_int_eq(scope_parse("", &s), 0); /* empty is node, as in cc-backend */
	ck_assert_int_eq(s, SCOPE_NODE);
	ck_assert_int_eq(scope_parse("die", &s), -1); /* a topology list, not a scope */
	ck_assert_int_eq(scope_parse("Node", &s), -1);
	ck_assert_int_eq(scope_parse("memorydomain", &s), -1);
	ck_assert_int_eq(scope_parse(NULL, &s), -1);
}
END_TEST

START_TEST(test_scope_order)
{
	ck_assert_int_gt(scope_cmp(SCOPE_NODE, SCOPE_SOCKET), 0);
	ck_assert_int_gt(scope_cmp(SCOPE_SOCKET, SCOPE_MEMORY_DOMAIN), 0);
	ck_assert_int_gt(scope_cmp(SCOPE_MEMORY_DOMAIN, SCOPE_CORE), 0);
	ck_assert_int_gt(scope_cmp(SCOPE_CORE, SCOPE_HWTHREAD), 0);
	ck_assert_int_gt(scope_cmp(SCOPE_HWTHREAD, SCOPE_ACCELERATOR), 0);
	ck_assert_int_eq(scope_cmp(SCOPE_CORE, SCOPE_CORE), 0);
	ck_assert_int_eq(scope_coarser(SCOPE_CORE, SCOPE_SOCKET), SCOPE_SOCKET);
	ck_assert_int_eq(scope_coarser(SCOPE_NODE, SCOPE_HWTHREAD), SCOPE_NODE);
	ck_assert_int_eq(scope_coarser(SCOPE_ACCELERATOR, SCOPE_HWTHREAD), SCOPE_HWTHREAD);
	ck_assert_int_eq(scope_granularity(SCOPE_NODE), 10);
}
END_TEST

/* ------------------------------------------------------------------- unit */

static void assert_fmt(double v, const char *base, const char *prefix, const char *want)
{
	struct unit u;
	char out[64];
	memset(&u, 0, sizeof(u));
	snprintf(u.base, sizeof(u.base), "%s", base);
	snprintf(u.prefix, sizeof(u.prefix), "%s", prefix);
	size_t n = unit_format(v, &u, out, sizeof(out));
	ck_assert_msg(strcmp(out, want) == 0, "unit_format(%g, %s%s): expected \"%s\", got \"%s\"", v, prefix,
		      base, want, out);
	ck_assert_uint_eq(n, strlen(want));
}

START_TEST(test_unit_format)
{
	assert_fmt(5530, "F/s", "G", "5.53 TF/s");
	assert_fmt(512, "B", "G", "512 GB");
	assert_fmt(2048, "B", "G", "2.05 TB");
	assert_fmt(0.01, "B/s", "G", "10 MB/s");
	assert_fmt(0.0005, "B/s", "M", "500 B/s");
	assert_fmt(0.5, "B/s", "", "0.5 B/s"); /* never below the base unit */
	assert_fmt(0.5, "", "", "0.5");
	assert_fmt(1500, "", "", "1.5 K");
	assert_fmt(250, "W", "", "250 W");
	assert_fmt(999.6, "B", "", "1 KB"); /* rounds up across the boundary */
	assert_fmt(0, "B", "G", "0 GB");
	assert_fmt(-2500, "W", "", "-2.5 KW");
	assert_fmt(12, "B", "X", "12 XB"); /* unknown prefix: as is */
	assert_fmt(NAN, "B", "G", "-");

	struct unit u = {"B/s", "G"};
	char out[8];
	ck_assert_uint_eq(unit_string(&u, out, sizeof(out)), 4);
	ck_assert_str_eq(out, "GB/s");
	ck_assert_uint_eq(unit_format(1.5, &u, out, 4), strlen("1.5 GB/s")); /* truncates safely */
	ck_assert_str_eq(out, "1.5");

	int e = 99;
	ck_assert_int_eq(unit_prefix_exponent("T", &e), 0);
	ck_assert_int_eq(e, 12);
	ck_assert_int_eq(unit_prefix_exponent("", &e), 0);
	ck_assert_int_eq(e, 0);
	ck_assert_int_eq(unit_prefix_exponent("Q", &e), -1);
}
END_TEST

/* -------------------------------------------------------------- nodelist */

static struct nodelist *nl_ok(const char *expr)
{
	char err[512] = "";
	struct nodelist *nl = nodelist_parse(expr, err, sizeof(err));
	ck_assert_msg(nl != NULL, "nodelist_parse(\"%s\"): %s", expr, err);
	return nl;
}

static void nl_yes(const struct nodelist *nl, const char *host)
{
	ck_assert_msg(nodelist_contains(nl, host), "expected %s to match", host);
}

static void nl_no(const struct nodelist *nl, const char *host)
{
	ck_assert_msg(!nodelist_contains(nl, host), "expected %s not to match", host);
}

START_TEST(test_nodelist_literals_and_ranges)
{
	struct nodelist *nl = nl_ok("hallo,wel123t,emmy[01-99],fritz[005-500],woody[100-200]");
	nl_yes(nl, "hallo");
	nl_yes(nl, "wel123t");
	nl_yes(nl, "emmy01");
	nl_yes(nl, "emmy42");
	nl_yes(nl, "emmy99");
	nl_yes(nl, "fritz005");
	nl_yes(nl, "fritz500");
	nl_yes(nl, "woody100");
	nl_yes(nl, "woody199");
	nl_no(nl, "hello");
	nl_no(nl, "hall");
	nl_no(nl, "hallo1");
	nl_no(nl, "woody");
	nl_no(nl, "woody201");
	nl_no(nl, "fritz004");
	nl_no(nl, "fritz501");
	nl_no(nl, "");
	nl_no(nl, NULL);
	ck_assert(!nodelist_is_all(nl));
	nodelist_free(nl);
}
END_TEST

START_TEST(test_nodelist_zero_padding)
{
	struct nodelist *nl = nl_ok("emmy[01-99]");
	nl_yes(nl, "emmy01");
	nl_yes(nl, "emmy09");
	nl_no(nl, "emmy1");   /* exactly two digits */
	nl_no(nl, "emmy001");
	nl_no(nl, "emmy00");
	nl_no(nl, "emmy100");
	nl_no(nl, "emmyab");
	nodelist_free(nl);

	nl = nl_ok("fritz[005-500]");
	nl_no(nl, "fritz1");
	nl_no(nl, "fritz9");
	nl_no(nl, "fritz5");
	nl_yes(nl, "fritz010");
	nodelist_free(nl);
}
END_TEST

START_TEST(test_nodelist_lists_in_brackets)
{
	struct nodelist *nl = nl_ok("a[1000-2000,2010-2090,3000-5000]");
	nl_yes(nl, "a1001");
	nl_yes(nl, "a2000");
	nl_yes(nl, "a2042");
	nl_yes(nl, "a3000");
	nl_yes(nl, "a4321");
	nl_no(nl, "a0");
	nl_no(nl, "a0000");
	nl_no(nl, "a2005");
	nl_no(nl, "a5001");
	nodelist_free(nl);

	nl = nl_ok("x[1,3,5-7]");
	nl_yes(nl, "x1");
	nl_yes(nl, "x3");
	nl_yes(nl, "x6");
	nl_no(nl, "x2");
	nl_no(nl, "x8");
	nodelist_free(nl);

	/* dashes in literals; commas inside and outside brackets */
	nl = nl_ok("cn-0010,cn0011,cn-00[13-18,22-24]");
	nl_yes(nl, "cn-0010");
	nl_yes(nl, "cn0011");
	nl_yes(nl, "cn-0013");
	nl_yes(nl, "cn-0018");
	nl_yes(nl, "cn-0022");
	nl_no(nl, "cn-0019");
	nl_no(nl, "cn-0011");
	nodelist_free(nl);
}
END_TEST

START_TEST(test_nodelist_several_groups)
{
	struct nodelist *nl = nl_ok("r[1-4]n[001-100]");
	nl_yes(nl, "r1n001");
	nl_yes(nl, "r4n100");
	nl_yes(nl, "r2n050");
	nl_no(nl, "r5n001");
	nl_no(nl, "r1n101");
	nl_no(nl, "r1n01");
	nl_no(nl, "r1n");
	nl_no(nl, "rn001");
	nodelist_free(nl);

	nl = nl_ok("[01-10]x[1-2][5-6]"); /* groups first and back to back */
	nl_yes(nl, "01x15");
	nl_yes(nl, "10x26");
	nl_no(nl, "11x15");
	nl_no(nl, "01x17");
	nodelist_free(nl);

	/* alternatives of different widths need backtracking */
	nl = nl_ok("a[1-9,10-99]b");
	nl_yes(nl, "a5b");
	nl_yes(nl, "a15b");
	nl_no(nl, "a100b");
	nl_no(nl, "a05b");
	nodelist_free(nl);
}
END_TEST

START_TEST(test_nodelist_star_and_large_ranges)
{
	struct nodelist *nl = nl_ok("*");
	ck_assert(nodelist_is_all(nl));
	nl_yes(nl, "anything");
	nl_yes(nl, "");
	nodelist_free(nl);

	/* compiled, never expanded: a huge range costs nothing */
	nl = nl_ok("h[0001-9999],big[000000000000000001-999999999999999999]");
	nl_yes(nl, "h0001");
	nl_yes(nl, "h5000");
	nl_yes(nl, "h9999");
	nl_no(nl, "h10000");
	nl_no(nl, "h0000");
	nl_no(nl, "h000");
	nl_yes(nl, "big123456789012345678");
	nl_no(nl, "big000000000000000000");
	int hits = 0;
	char host[32];
	for (int i = 0; i < 200000; i++) {
		snprintf(host, sizeof(host), "h%04d", i % 12000);
		hits += nodelist_contains(nl, host);
	}
	ck_assert_int_gt(hits, 0);
	nodelist_free(nl);
}
END_TEST

static const struct {
	const char *expr;
	const char *want; /* substring of the message */
} bad_nodelists[] = {
	{"", "empty"},
	{"h[1-", "unclosed '['"},
	{"h[1-2", "unclosed '['"},
	{"h[1-2,3", "unclosed '['"},
	{"h1-2]", "']' at offset 4 without '['"},
	{"h[[1-2]]", "do not nest"},
	{"h[1-10]", "same number of digits, got 1 and 2"},
	{"h[10-05]", "goes backwards"},
	{"a,,b", "empty term at offset 2"},
	{",a", "empty term at offset 0"},
	{"a,", "trailing ','"},
	{"h[]", "empty range"},
	{"h[1-2,]", "empty range"},
	{"h[a-b]", "expected a number"},
	{"h[1-b]", "upper bound"},
	{"h[1-2)", "expected '-', ',' or ']'"},
	{"h 1", "invalid character ' '"},
	{"h.example.org", "invalid character '.'"},
	{"a,*", "must be the whole node list"},
	{"h[1234567890123456789]", "more than 18 digits"},
};

START_TEST(test_nodelist_malformed)
{
	char err[512];
	for (size_t i = 0; i < sizeof(bad_nodelists) / sizeof(bad_nodelists[0]); i++) {
		err[0] = '\0';
		struct nodelist *nl = nodelist_parse(bad_nodelists[i].expr, err, sizeof(err));
		ck_assert_msg(nl == NULL, "nodelist_parse(\"%s\") should fail", bad_nodelists[i].expr);
		ck_assert_msg(strstr(err, bad_nodelists[i].want) != NULL, "nodelist_parse(\"%s\"): expected \"%s\" in \"%s\"",
			      bad_nodelists[i].expr, bad_nodelists[i].want, err);
		ck_assert_msg(strstr(err, "node list") != NULL, "%s", err);
	}
}
END_TEST

/* ---------------------------------------------------- project archive data */

START_TEST(test_heron)
{
	struct cluster *c = load_project("heron");
	ck_assert_str_eq(c->name, "heron");
	ck_assert_uint_eq(c->nmetrics, 12);
	ck_assert_uint_eq(c->nsubclusters, 2);
	ck_assert_int_eq(cluster_max_timestep(c), 60);

	assert_host(c, "h0001", "main");
	assert_host(c, "h0992", "main");
	assert_host(c, "h1001", "bigmem");
	assert_host(c, "h1064", "bigmem");
	assert_host(c, "h0999", "(none)");
	assert_host(c, "h1065", "(none)");
	assert_host(c, "h1", "(none)");
	assert_host(c, "h00001", "(none)");

	const struct metric_config *m = cluster_metric(c, "cpu_power");
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(m->scope, SCOPE_SOCKET);
	ck_assert_int_eq(m->timestep, 30);
	ck_assert_int_eq(m->aggregation, AGGREGATION_SUM);
	ck_assert_int_eq(m->energy, ENERGY_POWER);
	ck_assert_str_eq(m->unit.base, "W");
	ck_assert_str_eq(m->unit.prefix, "");
	m = cluster_metric(c, "mem_used");
	ck_assert_str_eq(m->unit.base, "B");
	ck_assert_str_eq(m->unit.prefix, "G");
	ck_assert_int_eq(m->footprint, FOOTPRINT_MAX);
	ck_assert_uint_eq(m->noverrides, 1);
	ck_assert_ptr_null(cluster_metric(c, "nope"));

	const struct subcluster *main_sc = need_sc(c, "main"), *big = need_sc(c, "bigmem");
	ck_assert_ptr_null(cluster_subcluster(c, "nope"));
	ck_assert_uint_eq(main_sc->nmetrics, 12);
	ck_assert_uint_eq(big->nmetrics, 11);
	ck_assert_ptr_nonnull(subcluster_metric(main_sc, "mem_power"));
	ck_assert_ptr_null(subcluster_metric(big, "mem_power")); /* remove: true */

	/* mem_used thresholds overridden for bigmem only */
	const struct metric_config *mm = subcluster_metric(main_sc, "mem_used");
	const struct metric_config *bm = subcluster_metric(big, "mem_used");
	ck_assert_double_eq(mm->peak, 256);
	ck_assert_double_eq(mm->normal, 128);
	ck_assert_double_eq(mm->caution, 48);
	ck_assert_double_eq(mm->alert, 16);
	ck_assert_double_eq(bm->peak, 1024);
	ck_assert_double_eq(bm->normal, 512);
	ck_assert_double_eq(bm->caution, 256);
	ck_assert_double_eq(bm->alert, 128);
	ck_assert_int_eq(bm->footprint, FOOTPRINT_MAX);
	ck_assert_ptr_null(bm->overrides);
	ck_assert_double_eq(subcluster_metric(big, "ib_bw")->peak, 12.5);

	static const char *const fp[] = {"cpu_load_avg", "mem_used_max", "flops_any_avg", "mem_bw_avg", NULL};
	assert_footprint(main_sc, fp);
	assert_footprint(big, fp);
	ck_assert_ptr_eq(main_sc->footprint[1].metric, subcluster_metric(main_sc, "mem_used"));
	static const char *const en_main[] = {"cpu_power", "mem_power", NULL};
	static const char *const en_big[] = {"cpu_power", NULL};
	assert_energy(main_sc, en_main);
	assert_energy(big, en_big);

	ck_assert_str_eq(main_sc->nodes, "h[0001-0992]");
	ck_assert_str_eq(main_sc->processor_type, "Intel(R) Xeon(R) Platinum 8360Y CPU @ 2.40GHz");
	ck_assert_int_eq(main_sc->sockets_per_node, 2);
	ck_assert_int_eq(main_sc->cores_per_socket, 36);
	ck_assert_int_eq(main_sc->threads_per_core, 1);
	ck_assert_double_eq(main_sc->flop_rate_simd.value, 5529.6);
	ck_assert_str_eq(main_sc->flop_rate_simd.unit.base, "F/s");
	ck_assert_str_eq(main_sc->memory_bandwidth.unit.prefix, "G");
	ck_assert_double_eq(main_sc->memory_bandwidth.value, 409.6);
	const struct topology *t = &main_sc->topology;
	ck_assert_uint_eq(t->node.n, 72);
	ck_assert_int_eq(t->node.id[71], 71);
	ck_assert_uint_eq(t->socket.n, 2);
	ck_assert_uint_eq(t->socket.group[1].n, 36);
	ck_assert_int_eq(t->socket.group[1].id[0], 36);
	ck_assert_uint_eq(t->memory_domain.n, 4);
	ck_assert_uint_eq(t->die.n, 2);
	ck_assert_uint_eq(t->core.n, 72);
	ck_assert_uint_eq(t->naccelerators, 0);

	char err[256];
	ck_assert_ptr_eq(cluster_assign_subcluster(c, NULL, "h1010", err, sizeof(err)), big);
	ck_assert_ptr_eq(cluster_assign_subcluster(c, "main", "h1010", err, sizeof(err)), main_sc);
	ck_assert_ptr_null(cluster_assign_subcluster(c, "gpu", "h0001", err, sizeof(err)));
	ck_assert_str_eq(err, "ARCHIVE/CLUSTERCONFIG > already assigned subcluster gpu unkown (cluster: heron)");
	ck_assert_ptr_null(cluster_assign_subcluster(c, "", NULL, err, sizeof(err)));
	ck_assert_str_eq(err, "ARCHIVE/CLUSTERCONFIG > job without any resources/hosts");
	ck_assert_ptr_null(cluster_assign_subcluster(c, "", "x1", err, sizeof(err)));
	ck_assert_str_eq(err, "ARCHIVE/CLUSTERCONFIG > no subcluster found for cluster heron and host x1");
	cluster_free(c);
}
END_TEST

START_TEST(test_lynx)
{
	struct cluster *c = load_project("lynx");
	ck_assert_str_eq(c->name, "lynx");
	ck_assert_uint_eq(c->nsubclusters, 1);
	assert_host(c, "l064", "a100");
	assert_host(c, "l001", "a100");
	assert_host(c, "l065", "(none)");
	assert_host(c, "l000", "(none)");

	const struct subcluster *sc = need_sc(c, "a100");
	ck_assert_uint_eq(sc->nmetrics, c->nmetrics);
	static const char *const fp[] = {"cpu_load_avg", "mem_used_max", "acc_utilization_avg",
					 "acc_mem_used_max", NULL};
	static const char *const en[] = {"cpu_power", "acc_power", NULL};
	assert_footprint(sc, fp);
	assert_energy(sc, en);
	ck_assert(subcluster_metric(sc, "nv_temp")->lower_is_better);
	ck_assert(!subcluster_metric(sc, "mem_used")->lower_is_better);
	ck_assert_str_eq(subcluster_metric(sc, "nv_temp")->unit.base, "°C");
	ck_assert_int_eq(subcluster_metric(sc, "acc_utilization")->scope, SCOPE_ACCELERATOR);
	ck_assert_uint_eq(sc->topology.naccelerators, 8);
	ck_assert_str_eq(sc->topology.accelerators[0].id, "00000000:07:00.0");
	ck_assert_str_eq(sc->topology.accelerators[0].type, "Nvidia GPU");
	ck_assert_str_eq(sc->topology.accelerators[0].model, "NVIDIA A100-SXM4-80GB");
	ck_assert_uint_eq(sc->topology.die.n, 0); /* no "die" key */
	ck_assert_uint_eq(sc->topology.node.n, 128);
	cluster_free(c);
}
END_TEST

/* -------------------------------------------------- cc-backend's test data */

START_TEST(test_ref_fritz)
{
	struct cluster *c = load_ref("cc-backend/pkg/archive/testdata/archive/fritz/cluster.json");
	ck_assert_str_eq(c->name, "fritz");
	ck_assert_uint_eq(c->nmetrics, 19);
	const struct subcluster *main_sc = need_sc(c, "main"), *s1 = need_sc(c, "spr1tb"),
				*s2 = need_sc(c, "spr2tb");

	ck_assert_uint_eq(main_sc->nmetrics, 19);
	ck_assert_uint_eq(s1->nmetrics, 15);
	ck_assert_uint_eq(s2->nmetrics, 14);
	ck_assert_uint_eq(s1->nfootprint, 3);
	static const char *const fp_main[] = {"cpu_load_avg", "mem_used_max", "flops_any_avg", "mem_bw_avg", NULL};
	static const char *const fp_s1[] = {"cpu_load_avg", "mem_used_max", "flops_any_avg", NULL};
	static const char *const fp_s2[] = {"cpu_load_avg", "mem_used_max", NULL};
	static const char *const en[] = {"cpu_power", "mem_power", NULL};
	assert_footprint(main_sc, fp_main);
	assert_footprint(s1, fp_s1);
	assert_footprint(s2, fp_s2);
	assert_energy(s1, en);
	assert_energy(s2, en);
	ck_assert_ptr_null(subcluster_metric(s2, "flops_any"));
	ck_assert_ptr_nonnull(subcluster_metric(s1, "flops_any"));
	ck_assert_ptr_null(subcluster_metric(s1, "mem_bw"));
	ck_assert_double_eq(subcluster_metric(s2, "mem_used")->peak, 2048);
	ck_assert(subcluster_metric(s2, "mem_used")->lower_is_better);
	ck_assert_double_eq(subcluster_metric(s1, "cpu_load")->peak, 104);
	ck_assert_str_eq(cluster_metric(c, "flops_any")->unit.base, "Flops/s"); /* outside the schema's enum */

	assert_host(c, "f0101", "main");
	assert_host(c, "f0188", "main");
	assert_host(c, "f1256", "main");
	assert_host(c, "f1157", "(none)");
	assert_host(c, "f0189", "(none)");
	assert_host(c, "f2157", "spr1tb");
	assert_host(c, "f2288", "spr1tb");
	/* spr2tb's nodes all lie inside spr1tb's list: the first match wins */
	assert_host(c, "f2185", "spr1tb");
	assert_host(c, "f2200", "(none)");
	/* the data has a typo: hwthreads 51 and 52 appear as one id 5152 */
	ck_assert_uint_eq(s1->topology.node.n, 103);
	cluster_free(c);
}
END_TEST

START_TEST(test_ref_alex)
{
	struct cluster *c = load_ref("cc-backend/pkg/archive/testdata/archive/alex/cluster.json");
	ck_assert_uint_eq(c->nsubclusters, 3);
	assert_host(c, "a0121", "a40");
	assert_host(c, "a0522", "a40");
	assert_host(c, "a1724", "(none)");
	assert_host(c, "a1722", "a40");
	assert_host(c, "a0603", "a100");
	assert_host(c, "a0905", "a100");
	assert_host(c, "a0831", "a100m80"); /* a plain literal term */
	assert_host(c, "a0934", "a100m80");
	assert_host(c, "a0530", "(none)");
	const struct subcluster *sc = need_sc(c, "a40");
	static const char *const fp[] = {"cpu_load_avg", "mem_used_max", "flops_any_avg", "mem_bw_avg",
					 "acc_utilization_avg", NULL};
	static const char *const en[] = {"core_power", "acc_power", "cpu_power", NULL};
	assert_footprint(sc, fp);
	assert_energy(sc, en);
	ck_assert_uint_eq(sc->topology.naccelerators, 8);
	ck_assert_str_eq(sc->topology.accelerators[0].model, "A40");
	ck_assert_uint_eq(sc->topology.core.n, 127); /* the data lists 127 of 128 cores */
	cluster_free(c);
}
END_TEST

START_TEST(test_ref_emmy)
{
	struct cluster *c = load_ref("cc-backend/pkg/archive/testdata/archive/emmy/cluster.json");
	ck_assert_uint_eq(c->nmetrics, 13);
	ck_assert_uint_eq(need_sc(c, "haswell")->nmetrics, 9); /* no cpu_user, no nfs4_* */
	ck_assert_uint_eq(need_sc(c, "skylake")->nmetrics, 12);
	ck_assert_uint_eq(need_sc(c, "kabylake")->nmetrics, 13);
	ck_assert_uint_eq(need_sc(c, "icelake")->nmetrics, 13);
	ck_assert_double_eq(subcluster_metric(need_sc(c, "icelake"), "cpu_load")->peak, 32);
	ck_assert_double_eq(subcluster_metric(need_sc(c, "kabylake"), "clock")->peak, 3700);
	ck_assert_uint_eq(need_sc(c, "icelake")->nfootprint, 0);
	ck_assert_uint_eq(need_sc(c, "icelake")->nenergy, 0);
	assert_host(c, "w1127", "haswell");
	assert_host(c, "w1172", "haswell");
	assert_host(c, "w1146", "(none)");
	assert_host(c, "w1201", "skylake");
	assert_host(c, "w1356", "skylake");
	assert_host(c, "w1332", "(none)");
	assert_host(c, "w1406", "kabylake");
	assert_host(c, "w1506", "(none)");
	assert_host(c, "w1507", "kabylake");
	assert_host(c, "w2235", "icelake");
	assert_host(c, "w2335", "icelake");
	assert_host(c, "w2236", "(none)");
	cluster_free(c);
}
END_TEST

START_TEST(test_ref_importer_fritz)
{
	struct cluster *c = load_ref("cc-backend/internal/importer/testdata/cluster-fritz.json");
	ck_assert_str_eq(c->name, "fritz");
	const struct subcluster *sc = need_sc(c, "main");
	static const char *const fp[] = {"cpu_load_avg", "mem_used_max", "flops_any_avg", "mem_bw_avg", NULL};
	assert_footprint(sc, fp);
	ck_assert_uint_eq(sc->nenergy, 0);
	assert_host(c, "f0101", "main");
	assert_host(c, "f0301", "main"); /* its list names f03[01-88] twice */
	assert_host(c, "f1156", "main");
	assert_host(c, "f1157", "(none)");
	cluster_free(c);
}
END_TEST

/* -------------------------------------------------------------- bad input */

/* A minimal valid cluster with hooks: %s is replaced in order by the name
 * member, the metric's extra members and the subclusters' extra members. */
static char *make_cluster(const char *name_member, const char *metric_extra, const char *sc_extra)
{
	static char text[4096];
	snprintf(text, sizeof(text),
		 "{%s\"metricConfig\":[{\"name\":\"m\",\"unit\":{\"base\":\"B\"},\"scope\":\"node\","
		 "\"aggregation\":\"sum\",\"peak\":4,\"normal\":3,\"caution\":2,\"alert\":1%s}],"
		 "\"subClusters\":[{\"name\":\"s\",\"nodes\":\"n[01-10]\"%s}]}",
		 name_member, metric_extra, sc_extra);
	return text;
}

static const struct {
	const char *name_member, *metric_extra, *sc_extra;
	const char *want1, *want2;
} bad_clusters[] = {
	{"", ",\"timestep\":60", "", "cluster.json: name is missing", NULL},
	{"\"name\":\"\",", ",\"timestep\":60", "", "name is missing or empty", NULL},
	{"\"name\":7,", ",\"timestep\":60", "", "name: expected a string, got an integer", NULL},
	{"\"name\":\"x\",", ",\"timestep\":0", "", "cluster x: metricConfig[0] (m): timestep must be >= 1, got 0", NULL},
	{"\"name\":\"x\",", ",\"timestep\":-5", "", "metricConfig[0] (m): timestep must be >= 1", NULL},
	{"\"name\":\"x\",", "", "", "cluster x: metricConfig[0] (m): timestep is missing", NULL},
	{"\"name\":\"x\",", ",\"timestep\":\"60\"", "", "timestep: expected an integer, got a string", NULL},
	{"\"name\":\"x\",", ",\"timestep\":60.0", "", "timestep: expected an integer, got a number", NULL},
	{"\"name\":\"x\",", ",\"timestep\":60,\"scope\":\"die\"", "", "cluster x: metricConfig[0] (m)", "scope: expected one of"},
	{"\"name\":\"x\",", ",\"timestep\":60,\"aggregation\":\"median\"", "", "aggregation: expected one of \"sum\", \"avg\", got \"median\"", NULL},
	{"\"name\":\"x\",", ",\"timestep\":60,\"footprint\":\"mean\"", "", "footprint: expected one of \"avg\", \"min\", \"max\"", NULL},
	{"\"name\":\"x\",", ",\"timestep\":60,\"energy\":\"watts\"", "", "energy: expected one of", NULL},
	{"\"name\":\"x\",", ",\"timestep\":60,\"peak\":\"high\"", "", "peak: expected a number, got a string", NULL},
	{"\"name\":\"x\",", ",\"timestep\":60,\"lowerIsBetter\":1", "", "lowerIsBetter: expected true or false", NULL},
	{"\"name\":\"x\",", ",\"timestep\":60,\"unit\":{\"base\":\"ThisIsWayTooLongForAUnit\"}", "", "unit: base", "too long"},
	{"\"name\":\"x\",", ",\"timestep\":60,\"subClusters\":[{\"peak\":1}]", "", "metricConfig[0] (m): subClusters[0]: name is missing", NULL},
	{"\"name\":\"x\",", ",\"timestep\":60,\"subClusters\":{}", "", "subClusters: expected an array, got an object", NULL},
	{"\"name\":\"x\",", ",\"timestep\":60", ",\"nodes\":\"n[1-\"", "cluster x: subClusters[0] (s): nodes: node list \"n[1-\"", "unclosed"},
	{"\"name\":\"x\",", ",\"timestep\":60", ",\"nodes\":\"n[1-10]\"", "subClusters[0] (s): nodes", "same number of digits"},
	{"\"name\":\"x\",", ",\"timestep\":60", ",\"socketsPerNode\":-1", "socketsPerNode must be >= 0", NULL},
	{"\"name\":\"x\",", ",\"timestep\":60", ",\"topology\":{\"node\":[0,\"a\"]}", "subClusters[0] (s): topology: node[1]", "expected a hwthread id"},
	{"\"name\":\"x\",", ",\"timestep\":60", ",\"topology\":{\"core\":[[0],1]}", "topology: core[1]", "expected a list of hwthread ids"},
	{"\"name\":\"x\",", ",\"timestep\":60", ",\"topology\":{\"accelerators\":[{\"type\":\"Nvidia GPU\"}]}", "accelerators[0]: id is missing", NULL},
	{"\"name\":\"x\",", ",\"timestep\":60", ",\"flopRateSimd\":9216", "flopRateSimd: expected an object, got an integer", NULL},
};

START_TEST(test_bad_input)
{
	char err[1024];
	for (size_t i = 0; i < sizeof(bad_clusters) / sizeof(bad_clusters[0]); i++) {
		const char *text = make_cluster(bad_clusters[i].name_member, bad_clusters[i].metric_extra,
						bad_clusters[i].sc_extra);
		err[0] = '\0';
		struct cluster *c = parse_text(text, err, sizeof(err));
		ck_assert_msg(c == NULL, "case %zu should fail: %s", i, text);
		ck_assert_msg(strstr(err, bad_clusters[i].want1) != NULL, "case %zu: expected \"%s\" in \"%s\"", i,
			      bad_clusters[i].want1, err);
		ck_assert_msg(!bad_clusters[i].want2 || strstr(err, bad_clusters[i].want2) != NULL,
			      "case %zu: expected \"%s\" in \"%s\"", i, bad_clusters[i].want2, err);
	}
}
END_TEST

START_TEST(test_bad_structure)
{
	char err[512];
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"[]", "cluster.json: expected an object, got an array"},
		{"{\"name\":\"x\",\"subClusters\":[{\"name\":\"s\"}]}", "cluster x: metricConfig: expected at least one metric, got none"},
		{"{\"name\":\"x\",\"metricConfig\":[],\"subClusters\":[{\"name\":\"s\"}]}", "cluster x: metricConfig: expected at least one metric, got an empty list"},
		{"{\"name\":\"x\",\"metricConfig\":[{\"name\":\"m\",\"timestep\":1}]}", "cluster x: subClusters: expected at least one subcluster, got none"},
		{"{\"name\":\"x\",\"metricConfig\":[{\"name\":\"m\",\"timestep\":1}],\"subClusters\":[]}", "cluster x: subClusters: expected at least one subcluster"},
		{"{\"name\":\"x\",\"metricConfig\":[{\"name\":\"m\",\"timestep\":1}],\"subClusters\":[{}]}", "cluster x: subClusters[0]: name is missing"},
		{"{\"name\":\"x\",\"metricConfig\":[{\"timestep\":1}],\"subClusters\":[{\"name\":\"s\"}]}", "cluster x: metricConfig[0]: name is missing"},
		{"{\"name\":\"x\",\"metricConfig\":[7],\"subClusters\":[{\"name\":\"s\"}]}", "cluster x: metricConfig[0]: expected an object, got an integer"},
		{"{\"name\":\"x\",\"metricConfig\":{},\"subClusters\":[{\"name\":\"s\"}]}", "cluster x: top level: metricConfig: expected an array, got an object"},
		{"{\"name\":\"x\",\"metricConfig\":[{\"name\":\"m\",\"timestep\":1},{\"name\":\"m\",\"timestep\":1}],\"subClusters\":[{\"name\":\"s\"}]}",
		 "cluster x: metricConfig[1]: metric m is already defined in metricConfig[0]"},
		{"{\"name\":\"x\",\"metricConfig\":[{\"name\":\"m\",\"timestep\":1}],\"subClusters\":[{\"name\":\"s\"},{\"name\":\"s\"}]}",
		 "cluster x: subClusters[1]: subcluster s is already defined in subClusters[0]"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		struct cluster *c = parse_text(cases[i].text, err, sizeof(err));
		ck_assert_msg(c == NULL, "case %zu should fail", i);
		ck_assert_msg(strstr(err, cases[i].want) != NULL, "case %zu: expected \"%s\" in \"%s\"", i, cases[i].want,
			      err);
	}
	ck_assert_ptr_null(cluster_parse(NULL, err, sizeof(err)));
}
END_TEST

/* ------------------------------------------------ derivation and defaults */

START_TEST(test_defaults_and_fallback)
{
	char err[512] = "";
	/* scope "" is node; absent thresholds are NaN; absent unit is empty;
	 * keys match case-insensitively; unknown keys are ignored; the
	 * wildcard subcluster is only a fallback, even when listed first */
	struct cluster *c = parse_text(
		"{\"Name\":\"x\",\"future\":1,\"metricConfig\":[{\"name\":\"m\",\"scope\":\"\",\"Timestep\":10}],"
		"\"subClusters\":[{\"name\":\"any\",\"nodes\":\"*\"},{\"name\":\"gpu\",\"nodes\":\"g[1-4]\","
		"\"metricConfig\":[{\"name\":\"bogus\"}],\"footprint\":[\"bogus\"]}]}",
		err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->name, "x");
	const struct metric_config *m = cluster_metric(c, "m");
	ck_assert_int_eq(m->scope, SCOPE_NODE);
	ck_assert_int_eq(m->timestep, 10);
	ck_assert(isnan(m->peak) && isnan(m->normal) && isnan(m->caution) && isnan(m->alert));
	ck_assert_str_eq(m->unit.base, "");
	ck_assert_int_eq(m->aggregation, AGGREGATION_NONE);
	assert_host(c, "g3", "gpu");
	assert_host(c, "other", "any");
	ck_assert_ptr_null(need_sc(c, "any")->nodelist);
	/* the file's subcluster-level metricConfig/footprint are not taken over */
	ck_assert_uint_eq(need_sc(c, "gpu")->nmetrics, 1);
	ck_assert_uint_eq(need_sc(c, "gpu")->nfootprint, 0);
	cluster_free(c);

	/* empty nodes is a fallback too; without any fallback, nothing matches */
	c = parse_text("{\"name\":\"y\",\"metricConfig\":[{\"name\":\"m\",\"timestep\":1}],"
		       "\"subClusters\":[{\"name\":\"a\",\"nodes\":\"a1\"},{\"name\":\"b\",\"nodes\":\"\"}]}",
		       err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	assert_host(c, "a1", "a");
	assert_host(c, "zz", "b");
	cluster_free(c);
	c = parse_text("{\"name\":\"y\",\"metricConfig\":[{\"name\":\"m\",\"timestep\":1}],"
		       "\"subClusters\":[{\"name\":\"a\",\"nodes\":\"a1\"}]}",
		       err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	assert_host(c, "zz", "(none)");
	ck_assert_ptr_null(cluster_subcluster_for_host(c, NULL));
	cluster_free(c);
}
END_TEST

START_TEST(test_override_semantics)
{
	char err[512] = "";
	/* the override for "nosuch" is logged as a warning; keep the output quiet */
	enum log_level saved = log_get_level();
	log_set_level(LOG_ERR);
	struct cluster *c = parse_text(
		"{\"name\":\"x\",\"metricConfig\":["
		/* an override without footprint takes the metric out of the footprint
		 * (cc-backend replaces the value); its thresholds are inherited */
		"{\"name\":\"load\",\"timestep\":60,\"peak\":10,\"normal\":8,\"caution\":4,\"alert\":1,"
		" \"footprint\":\"avg\",\"lowerIsBetter\":true,\"restrict\":true,"
		" \"subClusters\":[{\"name\":\"b\",\"peak\":20},{\"name\":\"c\",\"footprint\":\"max\",\"restrict\":false}]},"
		/* energy from an override; the last override for a subcluster wins */
		"{\"name\":\"pw\",\"timestep\":60,\"unit\":{\"base\":\"W\"},"
		" \"subClusters\":[{\"name\":\"c\",\"energy\":\"energy\"},{\"name\":\"c\",\"energy\":\"power\"},"
		"  {\"name\":\"nosuch\",\"remove\":true}]},"
		"{\"name\":\"gone\",\"timestep\":60,\"energy\":\"power\",\"subClusters\":[{\"name\":\"a\",\"remove\":true}]}"
		"],\"subClusters\":[{\"name\":\"a\",\"nodes\":\"a1\"},{\"name\":\"b\",\"nodes\":\"b1\"},{\"name\":\"c\",\"nodes\":\"c1\"}]}",
		err, sizeof(err));
	log_set_level(saved);
	ck_assert_msg(c != NULL, "%s", err);
	const struct subcluster *a = need_sc(c, "a"), *b = need_sc(c, "b"), *sc = need_sc(c, "c");

	const struct metric_config *la = subcluster_metric(a, "load");
	ck_assert_double_eq(la->peak, 10);
	ck_assert_int_eq(la->footprint, FOOTPRINT_AVG);
	ck_assert(la->lower_is_better && la->restricted);

	const struct metric_config *lb = subcluster_metric(b, "load");
	ck_assert_double_eq(lb->peak, 20);
	ck_assert_double_eq(lb->normal, 8); /* inherited */
	ck_assert_int_eq(lb->footprint, FOOTPRINT_NONE);
	ck_assert(!lb->lower_is_better);
	ck_assert(lb->restricted); /* inherited */

	const struct metric_config *lc = subcluster_metric(sc, "load");
	ck_assert_int_eq(lc->footprint, FOOTPRINT_MAX);
	ck_assert(!lc->restricted);

	static const char *const fp_a[] = {"load_avg", NULL};
	static const char *const fp_b[] = {NULL};
	static const char *const fp_c[] = {"load_max", NULL};
	assert_footprint(a, fp_a);
	assert_footprint(b, fp_b);
	assert_footprint(sc, fp_c);
	static const char *const en_a[] = {NULL};
	static const char *const en_b[] = {"gone", NULL};
	static const char *const en_c[] = {"pw", "gone", NULL};
	assert_energy(a, en_a);
	assert_energy(b, en_b);
	assert_energy(sc, en_c);
	ck_assert_int_eq(subcluster_metric(sc, "pw")->energy, ENERGY_POWER);
	ck_assert_ptr_null(subcluster_metric(a, "gone"));
	ck_assert_uint_eq(a->nmetrics, 2);
	ck_assert_uint_eq(sc->nmetrics, 3);
	cluster_free(c);
}
END_TEST

/* ------------------------------------------------- footprint and energy */

START_TEST(test_footprint_energy_heron)
{
	struct cluster *c = load_project("heron");
	const struct subcluster *sc = need_sc(c, "main");
	const struct metric_stats stats[] = {
		{"cpu_load", 50, 10, 70},   {"mem_used", 100, 20, 200}, {"flops_any", 300, 5, 900},
		{"cpu_power", 250, 200, 300}, {"mem_power", 40, 30, 50}, {"ipc", 1, 1, 1},
	};
	struct cluster_footprint fp;
	subcluster_footprint(sc, stats, sizeof(stats) / sizeof(stats[0]), 4, 3600, &fp);

	ck_assert_uint_eq(fp.nfootprint, 4);
	ck_assert_str_eq(fp.footprint[0].key, "cpu_load_avg");
	ck_assert_double_eq(fp.footprint[0].value, 50);
	ck_assert_str_eq(fp.footprint[1].key, "mem_used_max"); /* footprint "max" */
	ck_assert_double_eq(fp.footprint[1].value, 200);
	ck_assert_str_eq(fp.footprint[2].key, "flops_any_avg");
	ck_assert_double_eq(fp.footprint[2].value, 300);
	ck_assert_str_eq(fp.footprint[3].key, "mem_bw_avg"); /* no statistics: 0 */
	ck_assert_double_eq(fp.footprint[3].value, 0);
	ck_assert(fp.footprint[3].missing && !fp.footprint[0].missing);

	/* 250 W x 4 nodes x 1 h = 1 kWh; 40 W x 4 x 1 h = 0.16 kWh */
	ck_assert_uint_eq(fp.nenergy, 2);
	ck_assert_str_eq(fp.energy[0].metric, "cpu_power");
	ck_assert_double_eq_tol(fp.energy[0].kwh, 1.0, 1e-12);
	ck_assert_str_eq(fp.energy[1].metric, "mem_power");
	ck_assert_double_eq_tol(fp.energy[1].kwh, 0.16, 1e-12);
	ck_assert_double_eq_tol(fp.energy_total, 1.16, 1e-12);

	struct json_object *fo, *eo;
	cluster_footprint_json(&fp, &fo, &eo);
	ck_assert_int_eq(json_object_object_length(fo), 4);
	ck_assert_double_eq(json_object_get_double(json_object_object_get(fo, "mem_used_max")), 200);
	ck_assert_double_eq_tol(json_object_get_double(json_object_object_get(eo, "cpu_power")), 1.0, 1e-12);
	json_object_put(fo);
	json_object_put(eo);
	cluster_footprint_release(&fp);

	/* bigmem has no mem_power: only cpu_power counts */
	subcluster_footprint(need_sc(c, "bigmem"), stats, sizeof(stats) / sizeof(stats[0]), 4, 3600, &fp);
	ck_assert_uint_eq(fp.nenergy, 1);
	ck_assert_double_eq_tol(fp.energy_total, 1.0, 1e-12);
	cluster_footprint_release(&fp);

	/* rounding to 2 decimals, half away from zero: 450 W for 1000 s = 0.125 kWh */
	const struct metric_stats half[] = {{"cpu_power", 450, 0, 0}, {"mem_power", 333.333, 0, 0}};
	subcluster_footprint(sc, half, 2, 1, 1000, &fp);
	ck_assert_double_eq_tol(fp.energy[0].kwh, 0.13, 1e-12);
	ck_assert_double_eq_tol(fp.energy[1].kwh, 0.09, 1e-12);
	ck_assert_double_eq_tol(fp.energy_total, 0.22, 1e-12);
	ck_assert(fp.footprint[0].missing);
	cluster_footprint_release(&fp);

	/* no statistics at all: zeros, as cc-backend stores them */
	subcluster_footprint(sc, NULL, 0, 2, 100, &fp);
	ck_assert_uint_eq(fp.nfootprint, 4);
	ck_assert_double_eq(fp.energy_total, 0);
	cluster_footprint_release(&fp);
	cluster_free(c);
}
END_TEST

START_TEST(test_footprint_energy_kind_and_min)
{
	char err[512] = "";
	struct cluster *c = parse_text(
		"{\"name\":\"x\",\"metricConfig\":["
		"{\"name\":\"temp\",\"timestep\":60,\"footprint\":\"min\"},"
		"{\"name\":\"joules\",\"timestep\":60,\"energy\":\"energy\"},"
		"{\"name\":\"watts\",\"timestep\":60,\"energy\":\"power\",\"footprint\":\"max\"}],"
		"\"subClusters\":[{\"name\":\"s\",\"nodes\":\"*\"}]}",
		err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	const struct subcluster *sc = need_sc(c, "s");
	static const char *const keys[] = {"temp_min", "watts_max", NULL};
	assert_footprint(sc, keys);

	const struct metric_stats stats[] = {{"temp", 50, 31.5, 80}, {"joules", 1e6, 0, 0}, {"watts", 100, 0, 500}};
	struct cluster_footprint fp;
	subcluster_footprint(sc, stats, 3, 2, 7200, &fp);
	ck_assert_double_eq(fp.footprint[0].value, 31.5);
	ck_assert_double_eq(fp.footprint[1].value, 500);
	ck_assert_str_eq(fp.energy[0].metric, "joules");
	ck_assert_double_eq(fp.energy[0].kwh, 0); /* not implemented upstream either */
	ck_assert_double_eq_tol(fp.energy[1].kwh, 0.4, 1e-12); /* 100 W x 2 x 2 h */
	ck_assert_double_eq_tol(fp.energy_total, 0.4, 1e-12);
	cluster_footprint_release(&fp);
	cluster_free(c);
}
END_TEST

START_TEST(test_stats_from_json)
{
	char err[256];
	const char *text = "{\"cpu_power\":{\"unit\":{\"base\":\"W\"},\"avg\":250,\"min\":200.5,\"max\":300},"
			   "\"mem_used\":{\"avg\":1.5},\"junk\":5}";
	struct json_object *o = jsonio_parse(text, strlen(text), err, sizeof(err));
	ck_assert_ptr_nonnull(o);
	struct metric_stats *s;
	size_t n = cluster_stats_from_json(o, &s);
	ck_assert_uint_eq(n, 2);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s[i].name, "cpu_power") == 0) {
			ck_assert_double_eq(s[i].avg, 250);
			ck_assert_double_eq(s[i].min, 200.5);
			ck_assert_double_eq(s[i].max, 300);
		} else {
			ck_assert_str_eq(s[i].name, "mem_used");
			ck_assert_double_eq(s[i].avg, 1.5);
			ck_assert_double_eq(s[i].max, 0);
		}
	}
	free(s);
	json_object_put(o);
	ck_assert_uint_eq(cluster_stats_from_json(NULL, &s), 0);
	ck_assert_ptr_null(s);
}
END_TEST

/* ------------------------------------------------------------------ suite */

Suite *cluster_suite(void)
{
	Suite *s = suite_create("cluster");

	TCase *tc = tcase_create("scope_unit");
	tcase_add_test(tc, test_scope_names);
	tcase_add_test(tc, test_scope_order);
	tcase_add_test(tc, test_unit_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("nodelist");
	tcase_add_test(tc, test_nodelist_literals_and_ranges);
	tcase_add_test(tc, test_nodelist_zero_padding);
	tcase_add_test(tc, test_nodelist_lists_in_brackets);
	tcase_add_test(tc, test_nodelist_several_groups);
	tcase_add_test(tc, test_nodelist_star_and_large_ranges);
	tcase_add_test(tc, test_nodelist_malformed);
	suite_add_tcase(s, tc);

	tc = tcase_create("project_data");
	tcase_add_test(tc, test_heron);
	tcase_add_test(tc, test_lynx);
	suite_add_tcase(s, tc);

	have_ref = test_have_reference("cluster.json reference tests", "CCBACKEND_REF_DIR", ref_dir, sizeof(ref_dir));
	if (have_ref) {
		tc = tcase_create("reference_data");
		tcase_add_test(tc, test_ref_fritz);
		tcase_add_test(tc, test_ref_alex);
		tcase_add_test(tc, test_ref_emmy);
		tcase_add_test(tc, test_ref_importer_fritz);
		suite_add_tcase(s, tc);
	}

	tc = tcase_create("parse");
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_bad_structure);
	tcase_add_test(tc, test_defaults_and_fallback);
	tcase_add_test(tc, test_override_semantics);
	suite_add_tcase(s, tc);

	tc = tcase_create("footprint");
	tcase_add_test(tc, test_footprint_energy_heron);
	tcase_add_test(tc, test_footprint_energy_kind_and_min);
	tcase_add_test(tc, test_stats_from_json);
	suite_add_tcase(s, tc);
	return s;
}
