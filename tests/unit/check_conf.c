#include "config.h"
#include "suites.h"
#include "../lib/testlib.h"
#include "../../app/conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dir;
static char path[512];

static void setup(void)
{
	dir = test_tmpdir();
	snprintf(path, sizeof(path), "%s/config.json", dir);
}

static void teardown(void)
{
	test_rmtree(dir);
	free(dir);
}

static struct conf *load(const char *text, char *err, size_t n)
{
	ck_assert_int_eq(test_write_file(path, text), 0);
	return conf_load(path, err, n);
}

START_TEST(reference_style_config_loads)
{
	char err[1024] = "";
	struct conf *c = load("{\"main\":{\"addr\":\"127.0.0.1:8080\",\"api-allowed-ips\":[\"*\"],"
			      "\"short-running-jobs-duration\":300,\"session-max-age\":\"24h\","
			      "\"resampling\":{\"minimum-points\":600,\"trigger\":180,\"resolutions\":[240,60]}},"
			      "\"auth\":{\"jwts\":{\"max-age\":\"2000h\"}},"
			      "\"cron\":{\"commit-job-worker\":\"1m\"},"
			      "\"metric-store-external\":[{\"scope\":\"*\",\"url\":\"http://x\",\"token\":\"t\"}],"
			      "\"archive\":{\"kind\":\"file\",\"path\":\"./var/job-archive\"}}",
			      err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->addr, "127.0.0.1:8080");
	ck_assert_int_eq(c->session_max_age, 24 * 3600);
	ck_assert_int_eq(c->jwt_max_age, 2000 * 3600);
	ck_assert_ptr_null(c->api_allowed_ips); /* "*" = everyone */
	ck_assert_str_eq(c->db, "");             /* PG* environment */
	ck_assert_int_ge(c->workers, 1);
	conf_free(c);
}
END_TEST

START_TEST(unknown_key_in_strict_section_names_file_and_key)
{
	char err[1024] = "";
	struct conf *c = load("{\"main\":{\"addr\":\"x\",\"adress\":\"y\"}}", err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err, "config.json") && strstr(err, "main.adress") && strstr(err, "unknown key"), "%s", err);
	c = load("{\"auth\":{\"jwts\":{\"maxAge\":\"1h\"}}}", err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err, "auth.jwts.maxAge"), "%s", err);
	c = load("{\"metric-store-external\":[{\"scope\":\"*\",\"url\":\"u\",\"token\":\"t\",\"x\":1}]}", err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err, "metric-store-external[0].x"), "%s", err);
	c = load("{\"mian\":{}}", err, sizeof(err));
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err, "mian") && strstr(err, "unknown section"), "%s", err);
}
END_TEST

START_TEST(wrong_types_and_bad_values)
{
	char err[1024] = "";
	ck_assert_ptr_null(load("{\"main\":{\"workers\":\"four\"}}", err, sizeof(err)));
	ck_assert_msg(strstr(err, "main.workers") && strstr(err, "expected an integer"), "%s", err);
	ck_assert_ptr_null(load("{\"main\":{\"session-max-age\":\"7 days\"}}", err, sizeof(err)));
	ck_assert_msg(strstr(err, "main.session-max-age") && strstr(err, "duration"), "%s", err);
	ck_assert_ptr_null(load("{\"main\":{\"workers\":0}}", err, sizeof(err)));
	ck_assert_msg(strstr(err, "main.workers"), "%s", err);
	ck_assert_ptr_null(load("{\"archive\":{\"kind\":\"sqlite\"}}", err, sizeof(err)));
	ck_assert_msg(strstr(err, "archive.kind"), "%s", err);
	ck_assert_ptr_null(load("{\"main\": {,}}", err, sizeof(err)));
	ck_assert_msg(strstr(err, "line 1"), "%s", err);
	ck_assert_ptr_null(load("[1,2]", err, sizeof(err)));
}
END_TEST

START_TEST(x_file_include_and_sqlite_path)
{
	char ui[600], text[1200], err[1024] = "";
	snprintf(ui, sizeof(ui), "%s/ui-config.json", dir);
	ck_assert_int_eq(test_write_file(ui, "{\"plot-configuration\":{\"plots-per-row\":2}}"), 0);
	snprintf(text, sizeof(text), "{\"main\":{\"db\":\"./var/job.db\"},\"ui-file\":\"%s\"}", ui);
	struct conf *c = load(text, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->db, ""); /* cc-backend's SQLite path is ignored with a warning */
	struct json_object *sec;
	ck_assert(json_object_object_get_ex(c->root, "ui", &sec));
	ck_assert(!json_object_object_get_ex(c->root, "ui-file", &sec));
	conf_free(c);
	snprintf(text, sizeof(text), "{\"ui-file\":\"%s/missing.json\"}", dir);
	ck_assert_ptr_null(load(text, err, sizeof(err)));
	ck_assert_msg(strstr(err, "ui-file") && strstr(err, "missing.json"), "%s", err);
}
END_TEST

START_TEST(missing_file_is_empty_config)
{
	char err[256];
	struct conf *c = conf_load("/nonexistent/jobscope/config.json", err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->archive_path, "./var/job-archive");
	conf_free(c);
}
END_TEST

START_TEST(env_file_parsing)
{
	char env[600], err[512];
	snprintf(env, sizeof(env), "%s/.env", dir);
	ck_assert_int_eq(test_write_file(env,
		"# comment\n\nJS_TEST_A=\"quoted value\"\nexport JS_TEST_B=plain # trailing\nJS_TEST_C='x=y'\n"), 0);
	unsetenv("JS_TEST_A");
	unsetenv("JS_TEST_B");
	setenv("JS_TEST_C", "from the environment", 1);
	ck_assert_int_eq(conf_read_env_file(env, err, sizeof(err)), 0);
	ck_assert_str_eq(getenv("JS_TEST_A"), "quoted value");
	ck_assert_str_eq(getenv("JS_TEST_B"), "plain");
	ck_assert_str_eq(getenv("JS_TEST_C"), "from the environment"); /* the environment wins */
	ck_assert_int_eq(test_write_file(env, "NOEQUALS\n"), 0);
	ck_assert_int_eq(conf_read_env_file(env, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":1:"), "%s", err);
}
END_TEST

START_TEST(session_key_required)
{
	char err[1024];
	struct conf *c = load("{}", err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	char env[600], cwd[4096];
	snprintf(env, sizeof(env), "%s/.env", dir);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(dir), 0); /* ./.env is looked for first */
	unsetenv("SESSION_KEY");
	ck_assert_int_eq(test_write_file(env, "JWT_PUBLIC_KEY=\"x\"\n"), 0);
	ck_assert_int_eq(conf_load_env(c, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "SESSION_KEY"), "%s", err);
	ck_assert_int_eq(test_write_file(env, "SESSION_KEY=\"67d829bf61dc5f87a73fd814e2c9f629\"\n"), 0);
	ck_assert_int_eq(conf_load_env(c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c->session_key_len, 24); /* cc-backend's template key decodes to 24 bytes */
	ck_assert_int_eq(chdir(cwd), 0);
	unsetenv("SESSION_KEY");
	conf_free(c);
}
END_TEST

Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reference_style_config_loads);
	tcase_add_test(tc, unknown_key_in_strict_section_names_file_and_key);
	tcase_add_test(tc, wrong_types_and_bad_values);
	tcase_add_test(tc, x_file_include_and_sqlite_path);
	tcase_add_test(tc, missing_file_is_empty_config);
	tcase_add_test(tc, env_file_parsing);
	tcase_add_test(tc, session_key_required);
	suite_add_tcase(s, tc);
	return s;
}
