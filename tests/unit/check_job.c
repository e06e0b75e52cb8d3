#include "config.h"
#include "suites.h"
#include "../lib/testlib.h"
#include "../../app/arena.h"
#include "../../app/job.h"
#include "../../app/jsonio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a start_job body shaped exactly like cc-slurm-adapter's (COMPAT a.3, last paragraph) */
static const char adapter_start[] =
	"{\"cluster\":\"fritz\",\"subCluster\":\"\",\"partition\":\"singlenode\",\"project\":\"k106eb\","
	"\"user\":\"k106eb10\",\"shared\":\"none\",\"jobState\":\"\",\"resources\":[{\"hostname\":\"f0726\","
	"\"hwthreads\":[0,1,2]}],\"energyFootprint\":null,\"footprint\":null,\"metaData\":{\"jobName\":\"x\"},"
	"\"concurrentJobs\":{\"items\":null,\"count\":0},\"energy\":0,\"walltime\":86400,\"jobId\":123,"
	"\"duration\":0,\"numNodes\":1,\"numHwthreads\":72,\"statistics\":null,\"startTime\":1649723812}";

START_TEST(adapter_payload_decodes_strictly)
{
	struct arena a;
	arena_init(&a, 4096);
	struct job j;
	char err[256];
	ck_assert_msg(job_parse(&a, adapter_start, strlen(adapter_start), JOB_STRICT, &j, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(j.job_id, 123);
	ck_assert_str_eq(j.cluster, "fritz");
	ck_assert_str_eq(j.subcluster, "");
	ck_assert(!j.has_state); /* "" means: not given */
	ck_assert_int_eq(j.nresources, 1);
	ck_assert_uint_eq(j.resources[0].nhwthreads, 3);
	ck_assert_str_eq(job_meta(&j, "jobName"), "x");
	ck_assert_int_eq(j.num_hwthreads, 72);
	ck_assert_int_eq(j.start_time, 1649723812);
	arena_release(&a);
}
END_TEST

START_TEST(strict_rejects_unknown_and_wrong_types)
{
	struct arena a;
	arena_init(&a, 4096);
	struct job j;
	char err[256];
	const char *unknown = "{\"jobId\":1,\"cluster\":\"c\",\"color\":\"red\"}";
	ck_assert_int_eq(job_parse(&a, unknown, strlen(unknown), JOB_STRICT, &j, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "json: unknown field \"color\"");
	/* lenient archive reading ignores it */
	ck_assert_int_eq(job_parse(&a, unknown, strlen(unknown), 0, &j, err, sizeof(err)), 0);
	const char *wrong = "{\"jobId\":\"1\"}";
	ck_assert_int_eq(job_parse(&a, wrong, strlen(wrong), JOB_STRICT, &j, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "jobId") && strstr(err, "integer"), "%s", err);
	const char *big = "{\"numNodes\":4294967296}";
	ck_assert_int_eq(job_parse(&a, big, strlen(big), JOB_STRICT, &j, err, sizeof(err)), -1);
	const char *state = "{\"jobState\":\"out-of-memory\"}"; /* the swagger's wrong spelling */
	ck_assert_int_eq(job_parse(&a, state, strlen(state), JOB_STRICT, &j, err, sizeof(err)), -1);
	const char *meta = "{\"metaData\":{\"a\":1}}";
	ck_assert_int_eq(job_parse(&a, meta, strlen(meta), JOB_STRICT, &j, err, sizeof(err)), -1);
	const char *res = "{\"resources\":[{\"hostname\":\"a\",\"gpu\":1}]}";
	ck_assert_int_eq(job_parse(&a, res, strlen(res), JOB_STRICT, &j, err, sizeof(err)), -1);
	arena_release(&a);
}
END_TEST

START_TEST(keys_match_case_insensitively_and_exclusive_maps)
{
	struct arena a;
	arena_init(&a, 4096);
	struct job j;
	char err[256];
	const char *t = "{\"JOBID\":7,\"NumNodes\":2,\"exclusive\":1}";
	ck_assert_msg(job_parse(&a, t, strlen(t), JOB_STRICT | JOB_LEGACY, &j, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(j.job_id, 7);
	ck_assert_int_eq(j.num_nodes, 2);
	ck_assert_int_eq(j.shared, JOB_SHARED_NONE);
	const char *t0 = "{\"exclusive\":0}";
	ck_assert_int_eq(job_parse(&a, t0, strlen(t0), JOB_STRICT | JOB_LEGACY, &j, err, sizeof(err)), 0);
	ck_assert_int_eq(j.shared, JOB_SHARED_MULTI_USER);
	ck_assert_int_eq(job_parse(&a, t0, strlen(t0), JOB_STRICT, &j, err, sizeof(err)), -1);
	arena_release(&a);
}
END_TEST

START_TEST(encode_order_and_omitempty)
{
	struct arena a;
	arena_init(&a, 4096);
	struct job j;
	char err[256];
	ck_assert_int_eq(job_parse(&a, adapter_start, strlen(adapter_start), JOB_STRICT, &j, err, sizeof(err)), 0);
	j.state = JOB_RUNNING;
	struct json_object *o = job_to_json(&j, JOB_WITH_META);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	ck_assert_msg(strncmp(s, "{\"cluster\":\"fritz\",\"subCluster\":\"\",\"partition\":\"singlenode\"", 58) == 0, "%s", s);
	ck_assert_ptr_nonnull(strstr(s, "\"jobState\":\"running\""));
	ck_assert_ptr_nonnull(strstr(s, "\"concurrentJobs\":{\"items\":null,\"count\":0}"));
	ck_assert_ptr_null(strstr(s, "arrayJobId")); /* omitempty */
	ck_assert_ptr_nonnull(strstr(s, "\"statistics\":null"));
	json_object_put(o);
	arena_release(&a);
}
END_TEST

START_TEST(reference_meta_files_read_leniently)
{
	char dir[4096];
	if (!test_have_reference("meta.json reference tests", "CCBACKEND_REF_DIR", dir, sizeof(dir)))
		return;
	static const char *const files[] = {
		"cc-backend/pkg/archive/testdata/archive/emmy/1403/244/1608923076/meta.json",
		"cc-backend/pkg/archive/testdata/archive/emmy/1404/397/1609300556/meta.json",
		"cc-backend/internal/importer/testdata/meta-fritzMinimal.input",
		"cc-backend/internal/importer/testdata/meta-fritzError.input",
		"cc-backend/configs/startJobPayload.json",
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[8192], err[512];
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		size_t len;
		char *text = jsonio_read_file(path, 1 << 24, &len, err, sizeof(err));
		ck_assert_msg(text != NULL, "%s", err);
		struct arena a;
		arena_init(&a, 4096);
		struct job j;
		ck_assert_msg(job_parse(&a, text, len, 0, &j, err, sizeof(err)) == 0, "%s: %s", files[i], err);
		ck_assert_int_gt(j.job_id, 0);
		ck_assert_ptr_nonnull(j.cluster);
		free(text);
		arena_release(&a);
	}
}
END_TEST

Suite *job_suite(void)
{
	Suite *s = suite_create("job");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, adapter_payload_decodes_strictly);
	tcase_add_test(tc, strict_rejects_unknown_and_wrong_types);
	tcase_add_test(tc, keys_match_case_insensitively_and_exclusive_maps);
	tcase_add_test(tc, encode_order_and_omitempty);
	tcase_add_test(tc, reference_meta_files_read_leniently);
	suite_add_tcase(s, tc);
	return s;
}
