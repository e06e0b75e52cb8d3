/* generate: archives written by the generator read back with the real
 * readers (job_parse, jobdata_decode, the cluster model). */
#include "config.h"
#include "suites.h"
#include "../../app/archive.h"
#include "../../app/arena.h"
#include "../../app/cluster.h"
#include "../../app/conf.h"
#include "../../app/generate.h"
#include "../../app/job.h"
#include "../../app/jobdata.h"
#include "../../app/jsonio.h"
#include "../lib/testlib.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define END_TIME 1717200000 /* fixed, so that runs compare */

static int generate(const char *dir, const char *const *files, size_t nfiles, int64_t jobs, uint64_t seed,
		    bool meta_only, int threads, char *err, size_t errlen)
{
	struct gen_options o;
	gen_options_init(&o);
	o.archive = dir;
	o.clusters = files;
	o.nclusters = nfiles;
	o.jobs = jobs;
	o.seed = seed;
	o.days = 7;
	o.end = END_TIME;
	o.users = 25;
	o.projects = 8;
	o.meta_only = meta_only;
	o.threads = threads;
	struct gen_summary s;
	int rc = gen_run(&o, &s, err, errlen);
	if (rc == 0) {
		ck_assert_int_eq(s.jobs, jobs);
		ck_assert_int_eq(s.files, meta_only ? jobs : 2 * jobs);
	}
	return rc;
}

static struct archive *open_archive(const char *dir)
{
	struct conf c;
	memset(&c, 0, sizeof(c));
	char kind[] = "file";
	c.archive_kind = kind;
	c.archive_path = (char *)(uintptr_t)dir;
	char err[1024];
	struct archive *ar = archive_open(&c, err, sizeof(err));
	ck_assert_msg(ar != NULL, "archive_open: %s", err);
	return ar;
}

/* AppTagger patterns: app name and compiled "^[^#]*<line>" per line */
struct tagger {
	char name[64];
	regex_t re[16];
	size_t nre;
};

static size_t load_tagger(const char *dir, struct tagger *t, size_t max)
{
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "%s: %s", dir, strerror(errno));
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < max) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".txt") != 0)
			continue;
		snprintf(t[n].name, sizeof(t[n].name), "%.*s", (int)(len - 4), e->d_name);
		char path[4600], line[512];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "r");
		ck_assert_ptr_nonnull(f);
		t[n].nre = 0;
		while (fgets(line, sizeof(line), f) && t[n].nre < 16) {
			line[strcspn(line, "\r\n")] = '\0';
			if (!*line)
				continue;
			char pat[600];
			snprintf(pat, sizeof(pat), "^[^#]*%s", line);
			ck_assert_int_eq(regcomp(&t[n].re[t[n].nre], pat, REG_EXTENDED | REG_NEWLINE | REG_NOSUB), 0);
			t[n].nre++;
		}
		fclose(f);
		n++;
	}
	closedir(d);
	return n;
}

static void free_tagger(struct tagger *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < t[i].nre; k++)
			regfree(&t[i].re[k]);
}

static bool has_tag(const struct job *j, const char *type, const char *name)
{
	for (size_t i = 0; i < j->ntags; i++)
		if (strcmp(j->tags[i].type, type) == 0 && strcmp(j->tags[i].name, name) == 0)
			return true;
	return false;
}

struct counts {
	size_t jobs, gpu_jobs, shared_jobs, data_files, states[JOB_STATE__MAX];
};

/* Every job of the archive read back and checked against its cluster. */
static void check_archive(const char *dir, bool meta_only, const struct tagger *tg, size_t ntg, struct counts *cnt)
{
	memset(cnt, 0, sizeof(*cnt));
	struct archive *ar = open_archive(dir);
	char err[1024];
	size_t nkeys, skipped;
	char **keys = archive_job_keys(ar, &nkeys, &skipped, err, sizeof(err));
	ck_assert_msg(keys != NULL, "%s", err);
	ck_assert_int_eq(skipped, 0);
	struct arena a;
	arena_init(&a, 8192);
	for (size_t ki = 0; ki < nkeys; ki++) {
		const char *key = keys[ki];
		size_t len;
		char *meta = archive_read_meta(ar, key, &len, err, sizeof(err));
		ck_assert_msg(meta != NULL, "%s: %s", key, err);
		ck_assert_msg(len > 0 && meta[len - 1] == '\n', "%s: meta.json ends without a newline", key);
		struct job j, strict;
		ck_assert_msg(job_parse(&a, meta, len, 0, &j, err, sizeof(err)) == 0, "%s: %s", key, err);
		ck_assert_msg(job_parse(&a, meta, len, JOB_STRICT, &strict, err, sizeof(err)) == 0,
			      "%s: strict: %s", key, err);
		free(meta);
		char want[1024];
		ck_assert_int_eq(archive_job_key(j.cluster, j.job_id, j.start_time, want, sizeof(want)), 0);
		ck_assert_str_eq(want, key);
		cnt->jobs++;
		cnt->states[j.state]++;

		const struct archive_cluster *ac = archive_cluster(ar, j.cluster);
		ck_assert_ptr_nonnull(ac);
		const struct subcluster *sc = cluster_subcluster(ac->model, j.subcluster);
		ck_assert_msg(sc != NULL, "%s: unknown subcluster %s", key, j.subcluster);
		ck_assert_int_ge(j.num_nodes, 1);
		ck_assert_int_eq((size_t)j.num_nodes, j.nresources);
		ck_assert_int_le(j.num_nodes, 64);
		ck_assert_int_eq(j.monitoring_status, 3);
		ck_assert(j.has_state && j.has_shared && j.has_start_time);
		ck_assert(j.user && *j.user && j.project && *j.project);
		ck_assert(j.submit_time > 0 && j.submit_time <= j.start_time);
		ck_assert(j.start_time + j.duration <= END_TIME);
		ck_assert(j.duration >= 0 && j.walltime > 0);
		if (j.state == JOB_TIMEOUT)
			ck_assert_int_ge(j.duration, j.walltime);
		ck_assert_ptr_nonnull(j.statistics);
		ck_assert_ptr_nonnull(job_meta(&j, "jobScript"));
		ck_assert_ptr_nonnull(job_meta(&j, "jobName"));
		ck_assert_ptr_nonnull(job_meta(&j, "slurmInfo"));
		ck_assert(strncmp(job_meta(&j, "jobScript"), "#!/bin/bash", 11) == 0);

		/* resources: distinct hosts of the subcluster, devices of its topology */
		int hw = 0, acc = 0;
		for (size_t r = 0; r < j.nresources; r++) {
			const struct job_resource *res = &j.resources[r];
			ck_assert_msg(cluster_subcluster_for_host(ac->model, res->hostname) == sc,
				      "%s: host %s is not in subcluster %s", key, res->hostname, sc->name);
			for (size_t q = 0; q < r; q++)
				ck_assert_str_ne(j.resources[q].hostname, res->hostname);
			hw += (int)res->nhwthreads;
			for (size_t t = 0; t < res->naccelerators; t++) {
				bool found = false;
				for (size_t k = 0; k < sc->topology.naccelerators; k++)
					found |= strcmp(sc->topology.accelerators[k].id, res->accelerators[t]) == 0;
				ck_assert_msg(found, "%s: accelerator %s not in the topology", key, res->accelerators[t]);
				acc++;
			}
			if (j.shared != JOB_SHARED_NONE)
				ck_assert_msg(res->nhwthreads > 0, "%s: a shared job without hwthreads", key);
		}
		ck_assert_int_eq(acc, j.num_acc);
		if (j.num_acc) {
			ck_assert_uint_gt(sc->topology.naccelerators, 0);
			cnt->gpu_jobs++;
		}
		if (j.shared != JOB_SHARED_NONE) {
			cnt->shared_jobs++;
			ck_assert_int_eq(j.num_nodes, 1);
			ck_assert_int_eq(j.num_hwthreads, hw);
		} else {
			ck_assert_int_eq(j.num_hwthreads, j.num_nodes * (int)sc->topology.node.n);
		}

		/* app tags as cc-backend's AppTagger would set them from the script */
		for (size_t t = 0; t < ntg; t++) {
			char *script = strdup(job_meta(&j, "jobScript"));
			for (char *c = script; *c; c++)
				*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
			bool match = false;
			for (size_t k = 0; k < tg[t].nre && !match; k++)
				match = regexec(&tg[t].re[k], script, 0, NULL, 0) == 0;
			free(script);
			ck_assert_msg(match == has_tag(&j, "app", tg[t].name), "%s: app tag %s: tagger %d, meta.json %d\n%s",
				      key, tg[t].name, match, has_tag(&j, "app", tg[t].name), job_meta(&j, "jobScript"));
		}

		/* statistics: the subcluster's metrics, within the hardware */
		struct json_object *st = j.statistics;
		ck_assert_msg(jsonio_get(st, "cpu_load") && jsonio_get(st, "mem_used"), "%s: no cpu_load or mem_used statistics", key);
		for (size_t m = 0; m < sc->nmetrics; m++) {
			const struct metric_config *mc = &sc->metrics[m];
			struct json_object *ms = jsonio_get(st, mc->name);
			if (mc->scope == SCOPE_ACCELERATOR && !j.num_acc) {
				ck_assert_ptr_null(ms);
				continue;
			}
			ck_assert_msg(ms != NULL, "%s: no statistics for %s", key, mc->name);
			if (!ms || mc->scope == SCOPE_ACCELERATOR || !isfinite(mc->peak))
				continue;
			double max = json_object_get_double(jsonio_get(ms, "max"));
			double min = json_object_get_double(jsonio_get(ms, "min"));
			ck_assert_msg(min >= 0 && max <= mc->peak, "%s: %s max %g over the peak %g", key, mc->name, max, mc->peak);
		}
		for (size_t k = 0; k < ac->model->nmetrics; k++) /* removed metrics stay out */
			if (!subcluster_metric(sc, ac->model->metrics[k].name))
				ck_assert_ptr_null(jsonio_get(st, ac->model->metrics[k].name));

		size_t dlen;
		errno = 0;
		char *data = archive_read_data(ar, key, &dlen, err, sizeof(err));
		if (meta_only) {
			ck_assert_msg(data == NULL && errno == ENOENT, "%s: -meta-only wrote a data file", key);
			arena_reset(&a);
			continue;
		}
		ck_assert_msg(data != NULL, "%s: %s", key, err);
		cnt->data_files++;
		struct jobdata *d = jobdata_decode(data, dlen, NULL, err, sizeof(err));
		ck_assert_msg(d != NULL, "%s: %s", key, err);
		if (dlen > 2 && (unsigned char)data[0] == 0x1f)
			ck_assert_uint_gt(dlen, 0);
		free(data);
		struct json_object *again = jobdata_statistics_json(d, j.num_nodes);
		ck_assert_msg(json_object_equal(again, st), "%s: statistics differ:\nmeta %s\ndata %s", key,
			      json_object_to_json_string(st), json_object_to_json_string(again));
		json_object_put(again);
		for (size_t m = 0; m < d->nmetrics; m++) {
			const struct jobdata_metric *x = d->metrics[m];
			const struct metric_config *mc = subcluster_metric(sc, x->name);
			ck_assert_msg(mc != NULL, "%s: %s is not a metric of %s", key, x->name, sc->name);
			ck_assert_int_eq(x->timestep, mc->timestep);
			if (strcmp(x->scope, "node") == 0) {
				ck_assert_int_eq(x->nseries, j.num_nodes);
				if (isfinite(mc->peak) && mc->scope != SCOPE_ACCELERATOR)
					for (size_t s = 0; s < x->nseries; s++)
						for (size_t k = 0; k < x->series[s].len; k++)
							ck_assert(!(x->series[s].data[k] > mc->peak));
			} else if (strcmp(x->scope, "accelerator") == 0) {
				ck_assert_int_eq(x->nseries, j.num_acc);
			} else {
				ck_assert_msg(j.num_nodes <= 8, "%s: %s scope on %d nodes", key, x->scope, j.num_nodes);
				enum metric_scope xs;
				ck_assert_int_eq(scope_parse(x->scope, &xs), 0);
				ck_assert(scope_cmp(xs, SCOPE_CORE) >= 0 && scope_cmp(xs, mc->scope) >= 0);
			}
		}
		for (size_t m = 0; m < sc->nmetrics; m++) {
			const struct metric_config *mc = &sc->metrics[m];
			bool want_acc = mc->scope == SCOPE_ACCELERATOR && j.num_acc > 0;
			if (mc->scope != SCOPE_ACCELERATOR || want_acc)
				ck_assert_ptr_nonnull(jobdata_find(d, mc->name, "node"));
			if (want_acc)
				ck_assert_ptr_nonnull(jobdata_find(d, mc->name, "accelerator"));
			if (j.num_nodes <= 8 && (mc->scope == SCOPE_CORE || mc->scope == SCOPE_HWTHREAD))
				ck_assert_ptr_nonnull(jobdata_find(d, mc->name, "core"));
		}
		jobdata_free(d);
		arena_reset(&a);
	}
	arena_release(&a);
	archive_strv_free(keys);
	archive_close(ar);
}

static void cluster_files(const char *out[2])
{
	static char h[4096], l[4096];
	snprintf(h, sizeof(h), "%s", test_path("tests/data/archive/heron/cluster.json"));
	snprintf(l, sizeof(l), "%s", test_path("tests/data/archive/lynx/cluster.json"));
	out[0] = h;
	out[1] = l;
}

START_TEST(expand_nodes)
{
	char **h;
	size_t n;
	char err[256];
	ck_assert_int_eq(gen_expand_nodes("h[0001-0003],x5", 100, &h, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(h[0], "h0001");
	ck_assert_str_eq(h[2], "h0003");
	ck_assert_str_eq(h[3], "x5");
	for (size_t i = 0; i < n; i++)
		free(h[i]);
	free(h);
	ck_assert_int_eq(gen_expand_nodes("a[01-02]b[7,9]", 100, &h, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(h[0], "a01b7");
	ck_assert_str_eq(h[1], "a01b9");
	ck_assert_str_eq(h[3], "a02b9");
	for (size_t i = 0; i < n; i++)
		free(h[i]);
	free(h);
	ck_assert_int_eq(gen_expand_nodes("h[0001-9999]", 10, &h, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 10);
	for (size_t i = 0; i < n; i++)
		free(h[i]);
	free(h);
	ck_assert_int_eq(gen_expand_nodes("*", 10, &h, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(gen_expand_nodes("h[1-", 10, &h, &n, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "unclosed"));
}
END_TEST

START_TEST(heron_and_lynx)
{
	const char *files[2];
	cluster_files(files);
	char *dir = test_tmpdir();
	char err[1024];
	ck_assert_msg(generate(dir, files, 2, 40, 42, false, 2, err, sizeof(err)) == 0, "%s", err);
	struct counts c;
	check_archive(dir, false, NULL, 0, &c);
	ck_assert_uint_eq(c.jobs, 40);
	ck_assert_uint_eq(c.data_files, 40);
	ck_assert_uint_gt(c.states[JOB_COMPLETED], 15);
	/* the clusters came along: cluster.json copied byte for byte */
	char p[4096];
	snprintf(p, sizeof(p), "%s/lynx/cluster.json", dir);
	size_t a, b;
	char *x = jsonio_read_file(p, 1 << 24, &a, err, sizeof(err)), *y = jsonio_read_file(files[1], 1 << 24, &b, err, sizeof(err));
	ck_assert(x && y && a == b && memcmp(x, y, a) == 0);
	free(x);
	free(y);
	test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(gpu_jobs)
{
	const char *files[2];
	cluster_files(files);
	char *dir = test_tmpdir();
	char err[1024];
	ck_assert_msg(generate(dir, files + 1, 1, 16, 7, false, 2, err, sizeof(err)) == 0, "%s", err);
	struct counts c;
	check_archive(dir, false, NULL, 0, &c);
	ck_assert_uint_eq(c.jobs, 16);
	ck_assert_uint_ge(c.gpu_jobs, 5);
	/* a second run adds to the archive with the clusters that are there */
	struct gen_options o;
	gen_options_init(&o);
	o.archive = dir;
	o.jobs = 4;
	o.seed = 8;
	o.end = END_TIME;
	o.days = 7;
	o.meta_only = true;
	struct gen_summary s;
	ck_assert_msg(gen_run(&o, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(s.jobs, 4);
	ck_assert_str_eq(s.clusters[0], "lynx");
	test_rmtree(dir);
	free(dir);
}
END_TEST

/* every file of two archives, compared byte for byte; returns the number compared */
static size_t compare_trees(const char *a, const char *b, bool *same)
{
	struct archive *x = open_archive(a), *y = open_archive(b);
	char err[512];
	size_t nx, ny, sk;
	char **kx = archive_job_keys(x, &nx, &sk, err, sizeof(err));
	char **ky = archive_job_keys(y, &ny, &sk, err, sizeof(err));
	*same = nx == ny;
	size_t compared = 0;
	for (size_t i = 0; *same && i < nx; i++) {
		*same = strcmp(kx[i], ky[i]) == 0;
		size_t la, lb;
		char *ma = archive_read_meta(x, kx[i], &la, err, sizeof(err));
		char *mb = *same ? archive_read_meta(y, ky[i], &lb, err, sizeof(err)) : NULL;
		*same = *same && ma && mb && la == lb && memcmp(ma, mb, la) == 0;
		free(ma);
		free(mb);
		errno = 0;
		char *da = archive_read_data(x, kx[i], &la, err, sizeof(err));
		char *db = archive_read_data(y, kx[i], &lb, err, sizeof(err));
		*same = *same && (da == NULL) == (db == NULL) && (!da || (la == lb && memcmp(da, db, la) == 0));
		free(da);
		free(db);
		compared++;
	}
	archive_strv_free(kx);
	archive_strv_free(ky);
	archive_close(x);
	archive_close(y);
	return compared;
}

START_TEST(deterministic)
{
	const char *files[2];
	cluster_files(files);
	char *d1 = test_tmpdir(), *d2 = test_tmpdir(), *d3 = test_tmpdir();
	char err[1024];
	/* the thread count must not matter */
	ck_assert_msg(generate(d1, files, 2, 24, 99, false, 1, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(generate(d2, files, 2, 24, 99, false, 3, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(generate(d3, files, 2, 24, 100, false, 2, err, sizeof(err)) == 0, "%s", err);
	bool same;
	ck_assert_uint_eq(compare_trees(d1, d2, &same), 24);
	ck_assert_msg(same, "same seed, different files");
	compare_trees(d1, d3, &same);
	ck_assert_msg(!same, "different seeds, same files");
	test_rmtree(d1);
	test_rmtree(d2);
	test_rmtree(d3);
	free(d1);
	free(d2);
	free(d3);
}
END_TEST

START_TEST(meta_only)
{
	const char *files[2];
	cluster_files(files);
	char *dir = test_tmpdir();
	char err[1024];
	ck_assert_msg(generate(dir, files, 2, 300, 5, true, 2, err, sizeof(err)) == 0, "%s", err);
	struct counts c;
	check_archive(dir, true, NULL, 0, &c);
	ck_assert_uint_eq(c.jobs, 300);
	ck_assert_uint_eq(c.data_files, 0);
	/* the mix: several states, shared and big jobs */
	int states = 0;
	for (int s = 0; s < JOB_STATE__MAX; s++)
		states += c.states[s] > 0;
	ck_assert_int_ge(states, 5);
	ck_assert_uint_gt(c.shared_jobs, 10);
	ck_assert_uint_gt(c.states[JOB_COMPLETED], 150);
	test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(bad_input)
{
	char *dir = test_tmpdir();
	char err[1024];
	const char *missing[] = {"/nonexistent/cluster.json"};
	ck_assert_int_eq(generate(dir, missing, 1, 3, 1, false, 1, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/cluster.json"));
	ck_assert_int_eq(generate(dir, NULL, 0, 3, 1, false, 1, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "no clusters"));
	const char *files[2];
	cluster_files(files);
	const char *twice[] = {files[0], files[0]};
	ck_assert_int_eq(generate(dir, twice, 2, 3, 1, false, 1, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "both describe cluster heron"));
	test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(reference_clusters)
{
	char ref[4096];
	if (!test_have_reference("generator on the reference fritz and alex clusters", "CCBACKEND_REF_DIR", ref, sizeof(ref)))
		return;
	char f[4200], a[4200], tdir[4200];
	snprintf(f, sizeof(f), "%s/cc-backend/pkg/archive/testdata/archive/fritz/cluster.json", ref);
	snprintf(a, sizeof(a), "%s/cc-backend/pkg/archive/testdata/archive/alex/cluster.json", ref);
	snprintf(tdir, sizeof(tdir), "%s/cc-backend/configs/tagger/apps", ref);
	const char *files[] = {f, a};
	char *dir = test_tmpdir();
	char err[1024];
	ck_assert_msg(generate(dir, files, 2, 30, 3, false, 2, err, sizeof(err)) == 0, "%s", err);
	static struct tagger tg[32];
	size_t ntg = load_tagger(tdir, tg, 32);
	ck_assert_uint_gt(ntg, 10);
	struct counts c;
	check_archive(dir, false, tg, ntg, &c);
	ck_assert_uint_eq(c.jobs, 30);
	/* the tags in many more scripts, without data */
	char *dir2 = test_tmpdir();
	ck_assert_msg(generate(dir2, files, 2, 400, 4, true, 2, err, sizeof(err)) == 0, "%s", err);
	check_archive(dir2, true, tg, ntg, &c);
	ck_assert_uint_gt(c.gpu_jobs, 0);
	free_tagger(tg, ntg);
	test_rmtree(dir);
	test_rmtree(dir2);
	free(dir);
	free(dir2);
}
END_TEST

Suite *generate_suite(void)
{
	Suite *s = suite_create("generate");
	TCase *tc = tcase_create("generate");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, expand_nodes);
	tcase_add_test(tc, heron_and_lynx);
	tcase_add_test(tc, gpu_jobs);
	tcase_add_test(tc, deterministic);
	tcase_add_test(tc, meta_only);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, reference_clusters);
	suite_add_tcase(s, tc);
	return s;
}
