/* tmpl: the official Mustache spec files (read from MUSTACHE_SPEC_DIR at test
 * time) plus our own rules: escaping, no raw output in production, compile
 * errors with lines, tmpl_set_check, tmpl_set_load and the render caps. */
#include "config.h"
#include "suites.h"

#include "../../app/buf.h"
#include "../../app/tmpl.h"

#include <json-c/json.h>

#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- spec files */

static const char *const spec_files[] = {
	"comments", "delimiters", "interpolation", "inverted", "partials", "sections",
	"~inheritance",
};

static const char *spec_dir(void)
{
	const char *d = getenv("MUSTACHE_SPEC_DIR");
	return d && *d ? d : "../shared/reference/mustache-spec";
}

static int spec_dir_exists(void)
{
	struct stat st;
	return stat(spec_dir(), &st) == 0 && S_ISDIR(st.st_mode);
}

/* Print s as a JSON string so that newlines and tabs are visible. */
static void show(const char *label, const char *s, size_t n)
{
	struct json_object *o = json_object_new_string_len(s, (int)n);
	fprintf(stderr, "  %-9s %s\n", label,
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static const char *str_of(struct json_object *obj, const char *key, size_t *len)
{
	struct json_object *v;
	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string)) {
		*len = 0;
		return NULL;
	}
	*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

/* Runs one spec test; returns 1 when it passes, printing the details when not. */
static int run_spec_test(const char *file, struct json_object *test)
{
	static const char main_name[] = "(spec template)";
	size_t name_len, tpl_len, exp_len;
	const char *name = str_of(test, "name", &name_len);
	const char *tpl = str_of(test, "template", &tpl_len);
	const char *expected = str_of(test, "expected", &exp_len);
	struct json_object *data = NULL, *partials = NULL;
	json_object_object_get_ex(test, "data", &data);
	json_object_object_get_ex(test, "partials", &partials);
	char err[256] = "";
	int ok = 0;

	struct buf out = BUF_INIT;
	struct tmpl_set *s = tmpl_set_new(TMPL_ALLOW_RAW);
	if (!name || !tpl || !expected) {
		snprintf(err, sizeof(err), "malformed spec test");
		goto done;
	}
	if (tmpl_set_add(s, main_name, tpl, tpl_len, err, sizeof(err)))
		goto done;
	if (partials) {
		json_object_object_foreach(partials, pname, pval) {
			if (tmpl_set_add(s, pname, json_object_get_string(pval),
					 (size_t)json_object_get_string_len(pval), err, sizeof(err)))
				goto done;
		}
	}
	if (tmpl_render(s, main_name, data, &out)) {
		snprintf(err, sizeof(err), "tmpl_render failed");
		goto done;
	}
	ok = out.len == exp_len && !memcmp(out.data, expected, exp_len);
done:
	if (!ok) {
		fprintf(stderr, "spec %s: \"%s\" failed%s%s\n", file, name ? name : "?",
			*err ? ": " : "", err);
		if (tpl)
			show("template:", tpl, tpl_len);
		if (expected)
			show("expected:", expected, exp_len);
		show("actual:", out.data, out.len);
	}
	buf_release(&out);
	tmpl_set_free(s);
	return ok;
}

START_TEST(test_spec)
{
	const char *file = spec_files[_i];
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s.json", spec_dir(), file);
	struct json_object *root = json_object_from_file(path);
	ck_assert_msg(root != NULL, "cannot read %s", path);
	struct json_object *tests;
	ck_assert(json_object_object_get_ex(root, "tests", &tests));
	size_t n = json_object_array_length(tests), failed = 0;
	ck_assert_uint_gt(n, 0);
	for (size_t i = 0; i < n; i++)
		if (!run_spec_test(file, json_object_array_get_idx(tests, i)))
			failed++;
	json_object_put(root);
	ck_assert_msg(failed == 0, "%zu of %zu spec tests in %s.json failed", failed, n, file);
}
END_TEST

/* ---------------------------------------------------------------- helpers */

static struct json_object *ctx_of(const char *json)
{
	struct json_object *o = json_tokener_parse(json);
	ck_assert_msg(o != NULL, "bad test JSON: %s", json);
	return o;
}

/* Compile tpl alone and render it with json; the result must be expected. */
static void check_render(const char *tpl, const char *json, const char *expected)
{
	char err[256] = "";
	struct tmpl_set *s = tmpl_set_new(0);
	int rc = tmpl_set_add(s, "t", tpl, strlen(tpl), err, sizeof(err));
	ck_assert_msg(rc == 0, "compile %s: %s", tpl, err);
	struct json_object *ctx = json ? ctx_of(json) : NULL;
	struct buf out = BUF_INIT;
	ck_assert_int_eq(tmpl_render(s, "t", ctx, &out), 0);
	ck_assert_str_eq(out.data, expected);
	buf_release(&out);
	json_object_put(ctx);
	tmpl_set_free(s);
}

/* Compile tpl without TMPL_ALLOW_RAW; it must fail with exactly message. */
static void check_compile_error(const char *tpl, const char *message)
{
	char err[256] = "";
	struct tmpl_set *s = tmpl_set_new(0);
	ck_assert_int_eq(tmpl_set_add(s, "t", tpl, strlen(tpl), err, sizeof(err)), -1);
	ck_assert_str_eq(err, message);
	ck_assert(!tmpl_set_has(s, "t"));
	tmpl_set_free(s);
}

/* ---------------------------------------------------------------- own rules */

START_TEST(test_escape_all_five)
{
	check_render("<p title=\"{{x}}\">{{x}}</p>", "{\"x\": \"a&b<c>d\\\"e'f\"}",
		     "<p title=\"a&amp;b&lt;c&gt;d&quot;e&#39;f\">a&amp;b&lt;c&gt;d&quot;e&#39;f</p>");
	check_render("{{x}}", "{\"x\": \"&&<<\"}", "&amp;&amp;&lt;&lt;");
	check_render("{{x}}", "{\"x\": \"gr\\u00fc\\u00df plain\"}", "gr\xc3\xbc\xc3\x9f plain");
}
END_TEST

START_TEST(test_values)
{
	check_render("{{i}} {{n}} {{u}} {{d}} {{w}} {{p}} {{t}} {{f}} [{{z}}] [{{missing}}] [{{o}}] [{{a}}]",
		     "{\"i\": 42, \"n\": -7, \"u\": 18446744073709551615, \"d\": 1.21, \"w\": 1.0,"
		     " \"p\": 0.30000000000000004, \"t\": true, \"f\": false, \"z\": null,"
		     " \"o\": {\"k\": 1}, \"a\": [1]}",
		     "42 -7 18446744073709551615 1.21 1 0.30000000000000004 true false [] [] [] []");
	check_render("{{a.b.c}}|{{#a}}{{b.c}}{{/a}}|{{a.x.c}}", "{\"a\": {\"b\": {\"c\": \"deep\"}}}",
		     "deep|deep|");
	check_render("{{x}}", NULL, "");
}
END_TEST

START_TEST(test_truthiness)
{
	check_render("{{#e}}E{{/e}}{{^e}}!e{{/e}}{{#s}}S{{/s}}{{#zero}}Z{{/zero}}"
		     "{{#o}}O{{/o}}{{^a}}!a{{/a}}{{^nul}}!n{{/nul}}{{^f}}!f{{/f}}",
		     "{\"e\": \"\", \"s\": \"x\", \"zero\": 0, \"o\": {}, \"a\": [], \"nul\": null,"
		     " \"f\": false}",
		     "!eSZO!a!n!f");
	check_render("<ul>\n{{#jobs}}\n  <li>{{id}} {{user}}</li>\n{{/jobs}}\n</ul>\n",
		     "{\"user\": \"outer\", \"jobs\": [{\"id\": 1, \"user\": \"ann\"}, {\"id\": 2}]}",
		     "<ul>\n  <li>1 ann</li>\n  <li>2 outer</li>\n</ul>\n");
}
END_TEST

START_TEST(test_raw_rejected)
{
	check_compile_error("line one\n{{{x}}}\n", "t:2: raw interpolation is not allowed");
	check_compile_error("{{&x}}", "t:1: raw interpolation is not allowed");
	check_compile_error("{{=<% %>=}}\n<%{x}%>", "t:2: raw interpolation is not allowed");

	/* the spec tests' flag lets them through */
	char err[256];
	struct tmpl_set *s = tmpl_set_new(TMPL_ALLOW_RAW);
	ck_assert_int_eq(tmpl_set_add(s, "t", "{{{x}}}{{&x}}", 13, err, sizeof(err)), 0);
	struct json_object *ctx = ctx_of("{\"x\": \"<b>\"}");
	struct buf out = BUF_INIT;
	ck_assert_int_eq(tmpl_render(s, "t", ctx, &out), 0);
	ck_assert_str_eq(out.data, "<b><b>");
	buf_release(&out);
	json_object_put(ctx);
	tmpl_set_free(s);
}
END_TEST

START_TEST(test_syntax_errors)
{
	check_compile_error("a\n{{#s}}\nb\n", "t:2: unclosed section 's'");
	check_compile_error("{{#a}}\n{{#b}}\n{{/a}}",
			    "t:3: closing tag 'a' does not match 'b' opened on line 2");
	check_compile_error("x\n\n{{/a}}", "t:3: closing tag 'a' without an open section");
	check_compile_error("{{<layout}}\n{{$content}}\n{{/layout}}",
			    "t:3: closing tag 'layout' does not match 'content' opened on line 2");
	check_compile_error("x\n{{=a=}}", "t:2: bad set-delimiter tag");
	check_compile_error("{{= a b c =}}", "t:1: bad set-delimiter tag");
	check_compile_error("{{=a=b c=}}", "t:1: bad set-delimiter tag");
	check_compile_error("ok\nok {{name\n", "t:2: unclosed tag");
	check_compile_error("{{}}", "t:1: empty tag");
	check_compile_error("{{# }}{{/ }}", "t:1: empty tag");
	check_compile_error("{{a b}}", "t:1: blank inside tag name 'a b'");
	check_compile_error("{{a..b}}", "t:1: bad name 'a..b'");
	check_compile_error("{{#a.}}{{/a.}}", "t:1: bad name 'a.'");
}
END_TEST

START_TEST(test_nesting_cap)
{
	struct buf src = BUF_INIT;
	for (int i = 0; i < TMPL_MAX_NESTING; i++)
		buf_adds(&src, "{{#a}}");
	for (int i = 0; i < TMPL_MAX_NESTING; i++)
		buf_adds(&src, "{{/a}}");
	char err[256] = "";
	struct tmpl_set *s = tmpl_set_new(0);
	ck_assert_int_eq(tmpl_set_add(s, "ok", src.data, src.len, err, sizeof(err)), 0);

	buf_reset(&src);
	for (int i = 0; i <= TMPL_MAX_NESTING; i++)
		buf_adds(&src, "{{#a}}\n");
	ck_assert_int_eq(tmpl_set_add(s, "deep", src.data, src.len, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "deep:65: sections nested deeper than 64");
	buf_release(&src);
	tmpl_set_free(s);
}
END_TEST

START_TEST(test_check_partials)
{
	char err[256] = "";
	struct tmpl_set *s = tmpl_set_new(0);
	ck_assert_int_eq(tmpl_set_add(s, "page", "x\n{{>missing}}\n", 15, err, sizeof(err)), 0);
	ck_assert_int_eq(tmpl_set_check(s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "page:2: unknown partial 'missing'");

	/* rendering still works: a missing partial is empty (spec) */
	struct buf out = BUF_INIT;
	ck_assert_int_eq(tmpl_render(s, "page", NULL, &out), 0);
	ck_assert_str_eq(out.data, "x\n");

	ck_assert_int_eq(tmpl_set_add(s, "missing", "m", 1, err, sizeof(err)), 0);
	ck_assert_int_eq(tmpl_set_check(s, err, sizeof(err)), 0);

	const char *child = "{{<lay}}{{$b}}x{{/b}}{{/lay}}";
	ck_assert_int_eq(tmpl_set_add(s, "child", child, strlen(child), err, sizeof(err)), 0);
	ck_assert_int_eq(tmpl_set_check(s, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "child:1: unknown partial 'lay'");

	/* unknown names, replacement, appending to out */
	ck_assert_int_eq(tmpl_render(s, "nope", NULL, &out), -1);
	ck_assert_str_eq(out.data, "x\n");
	ck_assert_int_eq(tmpl_set_add(s, "missing", "M", 1, err, sizeof(err)), 0);
	ck_assert_uint_eq(tmpl_set_count(s), 3);
	ck_assert_int_eq(tmpl_render(s, "page", NULL, &out), 0);
	ck_assert_str_eq(out.data, "x\nx\nM");
	buf_release(&out);
	tmpl_set_free(s);
}
END_TEST

START_TEST(test_recursion_stops)
{
	char err[256];
	struct tmpl_set *s = tmpl_set_new(0);
	ck_assert_int_eq(tmpl_set_add(s, "r", "x{{>r}}", 7, err, sizeof(err)), 0);
	struct buf out = BUF_INIT;
	ck_assert_int_eq(tmpl_render(s, "r", NULL, &out), 0);
	ck_assert_uint_eq(out.len, TMPL_MAX_PARTIAL_DEPTH + 1);

	/* doubling self-inclusion would take 2^32 expansions without the budget */
	ck_assert_int_eq(tmpl_set_add(s, "e", "a{{>e}}{{>e}}", 13, err, sizeof(err)), 0);
	buf_reset(&out);
	ck_assert_int_eq(tmpl_render(s, "e", NULL, &out), 0);
	ck_assert_uint_eq(out.len, TMPL_MAX_EXPANSIONS + 1);

	/* a block override that contains the block it overrides */
	ck_assert_int_eq(tmpl_set_add(s, "p", "{{$a}}{{/a}}", 12, err, sizeof(err)), 0);
	const char *child = "{{<p}}{{$a}}[{{$a}}x{{/a}}]{{/a}}{{/p}}";
	ck_assert_int_eq(tmpl_set_add(s, "c", child, strlen(child), err, sizeof(err)), 0);
	buf_reset(&out);
	ck_assert_int_eq(tmpl_render(s, "c", NULL, &out), 0);
	ck_assert_uint_eq(out.len, 2 * (TMPL_MAX_PARTIAL_DEPTH - 1)); /* p itself is one level */

	/* recursion driven by data stops at the same depth */
	ck_assert_int_eq(tmpl_set_add(s, "node", "({{#n}}{{>node}}{{/n}})", 23, err, sizeof(err)), 0);
	struct json_object *ctx = json_object_new_int(1);
	for (int i = 0; i < 100; i++) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "n", ctx);
		ctx = o;
	}
	buf_reset(&out);
	ck_assert_int_eq(tmpl_render(s, "node", ctx, &out), 0);
	ck_assert_uint_eq(out.len, 2 * (TMPL_MAX_PARTIAL_DEPTH + 1));
	json_object_put(ctx);
	buf_release(&out);
	tmpl_set_free(s);
}
END_TEST

/* ---------------------------------------------------------------- loading */

static void put_file(const char *dir, const char *rel, const char *text)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	/* create parent directories */
	for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		ck_assert_msg(mkdir(path, 0700) == 0 || errno == EEXIST, "mkdir %s", path);
		*p = '/';
	}
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "fopen %s", path);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void remove_tree(const char *path)
{
	DIR *d = opendir(path);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			char sub[4096];
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			remove_tree(sub);
		}
		closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static char *temp_dir(void)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	size_t n = strlen(base) + sizeof("/check_tmpl.XXXXXX");
	char *dir = malloc(n);
	ck_assert(dir != NULL);
	snprintf(dir, n, "%s/check_tmpl.XXXXXX", base);
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
	return dir;
}

START_TEST(test_load_tree)
{
	char *dir = temp_dir();
	put_file(dir, "layout.html",
		 "<html><title>{{$title}}jobscope{{/title}}</title>\n"
		 "<body>\n"
		 "  {{>partials/navbar}}\n"
		 "  {{$content}}\n"
		 "  {{/content}}\n"
		 "</body></html>\n");
	put_file(dir, "partials/navbar.html", "<nav>{{user.name}}</nav>\n");
	put_file(dir, "partials/deep/x.html", "x");
	put_file(dir, "errors/404.html",
		 "{{<layout}}\n"
		 "{{$title}}Not found{{/title}}\n"
		 "{{$content}}\n"
		 "<p>No job {{id}}</p>\n"
		 "{{/content}}\n"
		 "{{/layout}}\n");
	put_file(dir, ".hidden.html", "{{{not loaded}}}");
	put_file(dir, ".git/x.html", "{{{not loaded}}}");
	put_file(dir, "notes.txt", "{{#not a template");

	char err[512] = "";
	struct tmpl_set *s = tmpl_set_load(dir, err, sizeof(err));
	ck_assert_msg(s != NULL, "load: %s", err);
	ck_assert_uint_eq(tmpl_set_count(s), 4);
	ck_assert(tmpl_set_has(s, "layout"));
	ck_assert(tmpl_set_has(s, "partials/navbar"));
	ck_assert(tmpl_set_has(s, "partials/deep/x"));
	ck_assert(tmpl_set_has(s, "errors/404"));
	ck_assert(!tmpl_set_has(s, "notes"));
	ck_assert(!tmpl_set_has(s, ".hidden"));

	struct json_object *ctx = ctx_of("{\"user\": {\"name\": \"<ann>\"}, \"id\": 42}");
	struct buf out = BUF_INIT;
	ck_assert_int_eq(tmpl_render(s, "errors/404", ctx, &out), 0);
	ck_assert_str_eq(out.data,
			 "<html><title>Not found</title>\n"
			 "<body>\n"
			 "  <nav>&lt;ann&gt;</nav>\n"
			 "  <p>No job 42</p>\n"
			 "</body></html>\n");
	buf_reset(&out);
	ck_assert_int_eq(tmpl_render(s, "layout", ctx, &out), 0);
	ck_assert_str_eq(out.data,
			 "<html><title>jobscope</title>\n"
			 "<body>\n"
			 "  <nav>&lt;ann&gt;</nav>\n"
			 "</body></html>\n");
	buf_release(&out);
	json_object_put(ctx);
	tmpl_set_free(s);
	remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(test_load_errors)
{
	char err[512] = "", want[600];
	char *dir = temp_dir();

	put_file(dir, "a/ok.html", "fine");
	put_file(dir, "a/bad.html", "ok\n{{{x}}}\n");
	ck_assert(tmpl_set_load(dir, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "%s/a/bad.html:2: raw interpolation is not allowed", dir);
	ck_assert_str_eq(err, want);

	put_file(dir, "a/bad.html", "ok\n{{#open}}\n");
	ck_assert(tmpl_set_load(dir, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "%s/a/bad.html:2: unclosed section 'open'", dir);
	ck_assert_str_eq(err, want);

	put_file(dir, "a/bad.html", "a\n\n{{>partials/nope}}\n");
	ck_assert(tmpl_set_load(dir, err, sizeof(err)) == NULL);
	snprintf(want, sizeof(want), "%s/a/bad.html:3: unknown partial 'partials/nope'", dir);
	ck_assert_str_eq(err, want);

	put_file(dir, "a/bad.html", "{{>a/ok}}");
	struct tmpl_set *s = tmpl_set_load(dir, err, sizeof(err));
	ck_assert_msg(s != NULL, "load: %s", err);
	tmpl_set_free(s);

	snprintf(want, sizeof(want), "%s/none", dir);
	ck_assert(tmpl_set_load(want, err, sizeof(err)) == NULL);
	ck_assert_msg(strstr(err, "none: No such file") != NULL, "%s", err);

	remove_tree(dir);
	free(dir);
}
END_TEST

Suite *tmpl_suite(void)
{
	Suite *s = suite_create("tmpl");

	if (spec_dir_exists()) {
		for (size_t i = 0; i < sizeof(spec_files) / sizeof(spec_files[0]); i++) {
			const char *name = spec_files[i][0] == '~' ? spec_files[i] + 1 : spec_files[i];
			TCase *tc = tcase_create(name);
			tcase_add_loop_test(tc, test_spec, (int)i, (int)i + 1);
			suite_add_tcase(s, tc);
		}
	} else {
		printf("skipped: mustache spec tests (MUSTACHE_SPEC_DIR %s not found)\n", spec_dir());
		fflush(stdout);
	}

	TCase *tc = tcase_create("render");
	tcase_add_test(tc, test_escape_all_five);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_truthiness);
	tcase_add_test(tc, test_recursion_stops);
	suite_add_tcase(s, tc);

	tc = tcase_create("compile");
	tcase_add_test(tc, test_raw_rejected);
	tcase_add_test(tc, test_syntax_errors);
	tcase_add_test(tc, test_nesting_cap);
	tcase_add_test(tc, test_check_partials);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_add_test(tc, test_load_tree);
	tcase_add_test(tc, test_load_errors);
	suite_add_tcase(s, tc);
	return s;
}
