#include "config.h"
#include "suites.h"
#include "../lib/testlib.h"
#include "../../app/arena.h"
#include "../../app/archive.h"
#include "../../app/buf.h"
#include "../../app/conf.h"
#include "../../app/generate.h"
#include "../../app/importer.h"
#include "../../app/job.h"
#include "../../app/jsonio.h"
#include "../../app/metafast.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Both paths of -init-db on one meta.json text: the same COPY row (and tags)
 * byte for byte, or the same failure.  Returns whether metafast took it. */
static bool same_row(struct archive *ar, const char *key, const char *text, size_t len)
{
	struct buf fast = BUF_INIT, slow = BUF_INIT;
	char whyf[512] = "", whys[512] = "";
	int rf = importer_meta_row(ar, key, text, len, true, &fast, whyf, sizeof(whyf));
	int rs = importer_meta_row(ar, key, text, len, false, &slow, whys, sizeof(whys));
	ck_assert_msg(rf == rs, "%s: fast %d (%s), json-c %d (%s)\n%.*s", key, rf, whyf, rs, whys, (int)len, text);
	if (rf == 0)
		ck_assert_msg(fast.len == slow.len && memcmp(fast.data, slow.data, fast.len) == 0,
			      "%s: rows differ\nfast:   %s\njson-c: %s", key, fast.data, slow.data);
	else
		ck_assert_str_eq(whyf, whys);
	buf_release(&fast);
	buf_release(&slow);
	struct arena a;
	arena_init(&a, 4096);
	struct buf out = BUF_INIT;
	struct metafast mf;
	bool took = metafast_parse(&a, text, len, &out, &mf) == 0;
	buf_release(&out);
	arena_release(&a);
	return took;
}

/* Every job of an archive; returns how many metafast took. */
static size_t same_rows_archive(struct archive *ar, size_t *total)
{
	size_t n = 0, bad = 0, took = 0;
	char err[512];
	char **keys = archive_job_keys(ar, &n, &bad, err, sizeof(err));
	ck_assert_msg(keys != NULL, "%s", err);
	for (size_t i = 0; i < n; i++) {
		size_t len;
		char *text = archive_read_meta(ar, keys[i], &len, err, sizeof(err));
		ck_assert_msg(text != NULL, "%s", err);
		took += same_row(ar, keys[i], text, len);
		free(text);
	}
	archive_strv_free(keys);
	*total = n;
	return took;
}

START_TEST(generated_archive_rows_identical)
{
	char *dir = test_tmpdir();
	char root[4096], heron[4096], lynx[4096], err[512];
	snprintf(root, sizeof(root), "%s/archive", dir);
	snprintf(heron, sizeof(heron), "%s", test_path("tests/data/archive/heron/cluster.json"));
	snprintf(lynx, sizeof(lynx), "%s", test_path("tests/data/archive/lynx/cluster.json"));
	const char *clusters[] = {heron, lynx};
	struct gen_options o;
	gen_options_init(&o);
	o.archive = root;
	o.clusters = clusters;
	o.nclusters = 2;
	o.jobs = 400;
	o.seed = 7;
	o.end = 1717200000;
	o.meta_only = true;
	struct gen_summary sum;
	ck_assert_msg(gen_run(&o, &sum, err, sizeof(err)) == 0, "%s", err);
	struct archive *ar = open_archive(root);
	size_t total;
	size_t took = same_rows_archive(ar, &total);
	ck_assert_uint_eq(total, 400);
	ck_assert_uint_eq(took, total); /* generated files never need json-c */
	archive_close(ar);
	test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(reference_archive_rows_identical)
{
	char dir[4096], root[8192], err[512];
	if (!test_have_reference("metafast reference archive", "CCBACKEND_REF_DIR", dir, sizeof(dir)))
		return;
	snprintf(root, sizeof(root), "%s/cc-backend/pkg/archive/testdata/archive", dir);
	struct archive *ar = open_archive(root);
	size_t total;
	size_t took = same_rows_archive(ar, &total);
	ck_assert_uint_gt(total, 0);
	ck_assert_uint_gt(took, 0);
	archive_close(ar);

	/* the importer's inputs, placed at a job directory of the test archive */
	static const char *const files[] = {
		"cc-backend/internal/importer/testdata/meta-fritzMinimal.input",
		"cc-backend/internal/importer/testdata/meta-fritzError.input",
		"cc-backend/configs/startJobPayload.json",
	};
	ar = open_archive(root);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[8192];
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		size_t len;
		char *text = jsonio_read_file(path, 1 << 24, &len, err, sizeof(err));
		if (!text)
			continue;
		struct arena a;
		arena_init(&a, 4096);
		struct job j;
		char key[1024] = "emmy/0/000/0";
		if (job_parse(&a, text, len, 0, &j, err, sizeof(err)) == 0 && j.cluster)
			archive_job_key(j.cluster, j.job_id, j.start_time, key, sizeof(key));
		same_row(ar, key, text, len);
		arena_release(&a);
		free(text);
	}
	archive_close(ar);
}
END_TEST

/* Hand-made documents around every rule of the fast path (heron: tests/data/archive). */
static const char *const crafted[] = {
	/* plain */
	"{\"cluster\":\"heron\",\"jobId\":1001,\"startTime\":1700000000,\"user\":\"u\",\"project\":\"p\","
	"\"resources\":[{\"hostname\":\"h0001\",\"hwthreads\":[0,1],\"accelerators\":[\"a\",\"b\"],\"configuration\":\"c\"}],"
	"\"duration\":3600,\"numNodes\":1,\"statistics\":{\"cpu_power\":{\"unit\":{\"base\":\"W\"},\"avg\":100.5,\"min\":1,\"max\":1e3},"
	"\"mem_used\":{\"avg\":2,\"min\":-1.5E-3,\"max\":\"x\"},\"odd\":[1,2,{\"a\":null}],\"flops_any\":{}}}",
	/* whitespace everywhere, escapes, unicode, controls as escapes, slash */
	" {\n \"cluster\" : \"heron\" ,\t\"jobId\":1002,\"startTime\":1700000000,\"user\":\"\\u00fcser\\/x\",\"project\":\"p\\tq\","
	"\"resources\":[ { \"hostname\" : \"h0001\" } ],\"metaData\":{\"jobScript\":\"#!/bin/sh\\n\\techo \\\"hi\\\" \\\\ \\b\\f\\r\\u0001\\u001f\\u007f\\u20AC\","
	"\"name\":\"ä€𝄞\",\"k\\u0065y\":\"v\"},\"tags\":[{\"type\":\"app\",\"name\":\"x\\\\y\",\"scope\":\"\"},{\"id\":3,\"type\":\"\",\"name\":\"n\"}]}\r\n",
	/* escaped key in metaData (json-c), duplicate keys (json-c), case-variant keys (json-c) */
	"{\"cluster\":\"heron\",\"jobId\":1003,\"startTime\":1700000000,\"user\":\"u\",\"project\":\"p\",\"resources\":[{\"hostname\":\"h0001\"}],"
	"\"metaData\":{\"a\":\"1\",\"a\":\"2\"}}",
	"{\"cluster\":\"heron\",\"jobId\":1004,\"startTime\":1700000000,\"user\":\"u\",\"project\":\"p\",\"resources\":[{\"hostname\":\"h0001\"}],"
	"\"USER\":\"v\"}",
	"{\"cluster\":\"heron\",\"jobId\":1005,\"startTime\":1700000000,\"user\":\"u\",\"user\":\"w\",\"project\":\"p\",\"resources\":[{\"hostname\":\"h0001\"}]}",
	"{\"cluster\":\"heron\",\"jobId\":1006,\"startTime\":1700000000,\"user\":\"u\",\"project\":\"p\",\"resources\":[{\"HostName\":\"h0001\"}]}",
	"{\"cluster\":\"heron\",\"jobId\":1007,\"startTime\":1700000000,\"user\":\"u\",\"project\":\"p\",\"resources\":[{\"hostname\":\"h0001\"}],"
	"\"statistics\":{\"cpu_power\":{\"AVG\":5,\"avg\":6}}}",
	"{\"cluster\":\"heron\",\"jobId\":1008,\"startTime\":1700000000,\"user\":\"u\",\"project\":\"p\",\"resources\":[{\"hostname\":\"h0001\"}],"
	"\"statistics\":{\"cpu_power\":{\"avg\":5,\"avg\":6}}}",
	/* nulls, legacy exclusive, numbers json-c prints differently, big integers */
	"{\"cluster\":\"heron\",\"jobId\":1009,\"startTime\":1700000000,\"user\":\"u\",\"project\":\"p\",\"resources\":[{\"hostname\":\"h0001\",\"hwthreads\":null}],"
	"\"partition\":null,\"metaData\":null,\"statistics\":null,\"tags\":null,\"footprint\":null,\"exclusive\":1}",
	"{\"cluster\":\"heron\",\"jobId\":1010,\"startTime\":1700000000,\"user\":\"u\",\"project\":\"p\",\"resources\":[{\"hostname\":\"h0001\"}],"
	"\"statistics\":{\"x\":{\"avg\":-0,\"min\":-0.0,\"max\":12345678901234567890}}}",
	"{\"cluster\":\"heron\",\"jobId\":1011,\"startTime\":1700000000,\"user\":\"u\",\"project\":\"p\",\"resources\":[{\"hostname\":\"h0001\"}],"
	"\"energy\":12,\"arrayJobId\":77,\"walltime\":9999999999,\"smt\":2,\"numAcc\":-1,\"jobState\":\"failed\",\"shared\":\"single_user\","
	"\"submitTime\":-5,\"metaData\":{},\"statistics\":{},\"footprint\":{\"a\":1,\"b\":2.5},\"concurrentJobs\":{\"items\":[{\"x\":[[[]]]}],\"count\":true}}",
	/* errors: wrong types, bad state, bad JSON, trailing data, invalid UTF-8, surrogates, \u0000 */
	"{\"cluster\":\"heron\",\"jobId\":\"1012\",\"startTime\":1700000000}",
	"{\"cluster\":\"heron\",\"jobId\":1013,\"startTime\":1700000000,\"jobState\":\"weird\"}",
	"{\"cluster\":\"heron\",\"jobId\":1014,\"startTime\":1700000000,\"metaData\":{\"a\":1}}",
	"{\"cluster\":\"heron\",\"jobId\":1015,\"startTime\":1700000000,",
	"{\"cluster\":\"heron\",\"jobId\":1016,\"startTime\":1700000000} x",
	"{\"cluster\":\"heron\",\"jobId\":1017,\"startTime\":1700000000,\"user\":\"\xff\",\"project\":\"p\",\"resources\":[{\"hostname\":\"h0001\"}]}",
	"{\"cluster\":\"heron\",\"jobId\":1018,\"startTime\":1700000000,\"user\":\"\\ud834\\udd1e\",\"project\":\"p\",\"resources\":[{\"hostname\":\"h0001\"}]}",
	"{\"cluster\":\"heron\",\"jobId\":1019,\"startTime\":1700000000,\"user\":\"u\",\"project\":\"p\",\"resources\":[{\"hostname\":\"h0001\"}],\"metaData\":{\"a\":\"\\u0000\"}}",
	"{\"cluster\":\"heron\",\"jobId\":1020,\"startTime\":1700000000,\"user\":\"u\",\"project\":\"p\",\"resources\":[],\"numNodes\":1.0}",
	"{\"cluster\":\"heron\",\"jobId\":1021,\"startTime\":1700000000,\"user\":\"u\",\"project\":\"p\",\"resources\":[{\"hostname\":\"h0001\",\"hwthreads\":[-1]}]}",
	"{\"cluster\":\"heron\",\"jobId\":1022,\"startTime\":1700000000,\"user\":\"u\",\"project\":\"p\",\"resources\":[{\"hostname\":\"h0001\"}],\"tags\":[{\"type\":\"a\",\"name\":\"b\",\"color\":[1,{}]},{}]}",
	"{\"cluster\":\"heron\",\"jobId\":1023,\"startTime\":1700000000,\"user\":\"u\",\"project\":\"p\",\"resources\":[{\"hostname\":\"h0001\"}],\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	"[1]",
	"",
	"{}",
};

START_TEST(crafted_rows_identical)
{
	char err[512];
	struct archive *ar = open_archive(test_path("tests/data/archive"));
	size_t took = 0;
	for (size_t i = 0; i < sizeof(crafted) / sizeof(crafted[0]); i++) {
		const char *t = crafted[i];
		struct arena a;
		arena_init(&a, 4096);
		struct job j;
		char key[1024] = "heron/0/000/0";
		if (job_parse(&a, t, strlen(t), 0, &j, err, sizeof(err)) == 0 && j.cluster)
			archive_job_key(j.cluster, j.job_id, j.start_time, key, sizeof(key));
		took += same_row(ar, key, t, strlen(t));
		arena_release(&a);
	}
	ck_assert_uint_ge(took, 3); /* the first two, 1011 at least */
	archive_close(ar);
}
END_TEST

START_TEST(doubles_as_json_c)
{
	static const double v[] = {0, -0.0, 1, -1, 0.1, 1.5, 100, 1e15, 1e16, 1e17, 1e21, 1e-5, 1e-7, 123456789012345.0,
				   0.30000000000000004, 2.675, 1.0 / 3, -1e300, 5e-324, NAN, INFINITY, -INFINITY};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct json_object *o = json_object_new_double(v[i]);
		const char *want = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		struct buf b = BUF_INIT;
		metafast_json_double(&b, v[i]);
		ck_assert_str_eq(b.data, want);
		buf_release(&b);
		json_object_put(o);
	}
	/* strings: every byte below 0x80 */
	char s[128];
	for (int c = 1; c < 128; c++)
		s[c - 1] = (char)c;
	s[127] = '\0';
	struct json_object *o = json_object_new_string(s);
	struct buf b = BUF_INIT;
	metafast_json_string(&b, s, strlen(s));
	ck_assert_str_eq(b.data, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	buf_release(&b);
	json_object_put(o);
}
END_TEST

Suite *metafast_suite(void)
{
	Suite *s = suite_create("metafast");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, doubles_as_json_c);
	tcase_add_test(tc, crafted_rows_identical);
	tcase_add_test(tc, reference_archive_rows_identical);
	tcase_add_test(tc, generated_archive_rows_identical);
	suite_add_tcase(s, tc);
	return s;
}
