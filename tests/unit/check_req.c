#include "config.h"
#include "suites.h"
#include "../../app/arena.h"
#include "../../app/auth.h"
#include "../../app/req.h"
#include "../../app/router.h"

#include <stdlib.h>
#include <string.h>

/* envp is char ** as FastCGI hands it over; the literals here are never written */
#pragma GCC diagnostic ignored "-Wdiscarded-qualifiers"

struct body {
	const char *data;
	size_t len, pos;
	int reads;
};

static long read_body(void *ctx, char *buf, size_t n)
{
	struct body *b = ctx;
	b->reads++;
	size_t left = b->len - b->pos;
	if (n > left)
		n = left;
	memcpy(buf, b->data + b->pos, n);
	b->pos += n;
	return (long)n;
}

START_TEST(parses_path_query_cookies_and_form)
{
	struct arena a;
	arena_init(&a, 4096);
	char *env[] = {
		"REQUEST_METHOD=POST", "REQUEST_URI=/monitoring/jobs/?cluster=fritz&state=running&q=a%20b",
		"CONTENT_TYPE=application/x-www-form-urlencoded", "CONTENT_LENGTH=23",
		"HTTP_COOKIE=session=abc; jobscope_csrf=\"xyz\"", "HTTP_X_AUTH_TOKEN=tok",
		"REMOTE_ADDR=10.1.2.3", "HTTPS=on", NULL,
	};
	struct body b = {"username=a%3Cb&password=", 23, 0, 0};
	struct req r;
	ck_assert_int_eq(req_parse(&r, &a, env, read_body, &b, 1024), 0);
	ck_assert_int_eq(r.method, M_POST);
	ck_assert_str_eq(r.path, "/monitoring/jobs/");
	ck_assert_str_eq(req_param(&r, "cluster"), "fritz");
	ck_assert_str_eq(req_param(&r, "q"), "a b");
	ck_assert_str_eq(req_cookie(&r, "session"), "abc");
	ck_assert_str_eq(req_cookie(&r, "jobscope_csrf"), "xyz");
	ck_assert_str_eq(req_form(&r, "username"), "a<b");
	ck_assert_str_eq(req_form(&r, "password"), "");
	ck_assert_str_eq(req_header(&r, "x-auth-token"), "tok"); /* any letter case */
	ck_assert(r.https);
	arena_release(&a);
}
END_TEST

START_TEST(caps_give_the_right_status_before_reading)
{
	struct arena a;
	arena_init(&a, 4096);
	struct req r;
	struct body b = {"", 0, 0, 0};
	char *big = malloc(REQ_MAX_URI + 40);
	strcpy(big, "REQUEST_URI=/");
	memset(big + 13, 'a', REQ_MAX_URI);
	big[13 + REQ_MAX_URI] = '\0';
	char *env1[] = {"REQUEST_METHOD=GET", big, NULL};
	ck_assert_int_eq(req_parse(&r, &a, env1, read_body, &b, 1024), 414);

	char *cookie = malloc(REQ_MAX_COOKIE + 40);
	strcpy(cookie, "HTTP_COOKIE=x=");
	memset(cookie + 14, 'c', REQ_MAX_COOKIE);
	cookie[14 + REQ_MAX_COOKIE] = '\0';
	char *env2[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/", cookie, NULL};
	ck_assert_int_eq(req_parse(&r, &a, env2, read_body, &b, 1024), 431);

	char *env3[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/api/jobs/start_job/", "CONTENT_LENGTH=999999", NULL};
	ck_assert_int_eq(req_parse(&r, &a, env3, read_body, &b, 1024), 413);
	ck_assert_int_eq(b.reads, 0); /* refused before reading a byte */

	char *env4[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/", "CONTENT_LENGTH=12x", NULL};
	ck_assert_int_eq(req_parse(&r, &a, env4, read_body, &b, 1024), 400);

	char *env5[] = {"REQUEST_METHOD=GET", "REQUEST_URI=/x?a=%00", NULL};
	ck_assert_int_eq(req_parse(&r, &a, env5, read_body, &b, 1024), 400);

	/* a JSON body labelled as a form: refused on pages, read as JSON by the API */
	struct body json = {"{\"jobScript\":\"#SBATCH -o %j.out\"}", 33, 0, 0};
	char *env7[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/login", "CONTENT_LENGTH=33",
			"CONTENT_TYPE=application/x-www-form-urlencoded", NULL};
	ck_assert_int_eq(req_parse(&r, &a, env7, read_body, &json, 1024), 400);
	json.pos = 0;
	char *env8[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/api/jobs/start_job/", "CONTENT_LENGTH=33",
			"CONTENT_TYPE=application/x-www-form-urlencoded", NULL};
	ck_assert_int_eq(req_parse(&r, &a, env8, read_body, &json, 1024), 0);
	ck_assert_uint_eq(r.body_len, 33);

	struct body shortb = {"abc", 3, 0, 0};
	char *env6[] = {"REQUEST_METHOD=POST", "REQUEST_URI=/", "CONTENT_LENGTH=10", NULL};
	ck_assert_int_eq(req_parse(&r, &a, env6, read_body, &shortb, 1024), 400);
	free(big);
	free(cookie);
	arena_release(&a);
}
END_TEST

static int dummy(struct req *r, struct resp *w)
{
	(void)r;
	(void)w;
	return 200;
}

START_TEST(router_matches_segments_and_reports_methods)
{
	static const struct route table[] = {
		{M_GET, "/", dummy, FMT_HTML, AUTH_PAGE, 0, 0},
		{M_GET, "/monitoring/job/{id}", dummy, FMT_HTML, AUTH_PAGE, 0, 0},
		{M_POST | M_PUT, "/api/jobs/start_job/", dummy, FMT_JSON, AUTH_API, 0, 0},
		{M_DELETE, "/api/jobs/tag_job/{id}", dummy, FMT_JSON, AUTH_API, 0, 0},
		{M_POST, "/api/jobs/tag_job/{id}", dummy, FMT_JSON, AUTH_API, 0, 0},
	};
	const char *args[4];
	char scratch[256];
	unsigned allowed;
	const struct route *rt = router_match(table, 5, M_GET, "/monitoring/job/42", args, 4, scratch, &allowed);
	ck_assert_ptr_eq(rt, &table[1]);
	ck_assert_str_eq(args[0], "42");
	ck_assert_ptr_eq(router_match(table, 5, M_HEAD, "/", args, 4, scratch, &allowed), &table[0]);
	ck_assert_ptr_null(router_match(table, 5, M_GET, "/api/jobs/start_job/", args, 4, scratch, &allowed));
	ck_assert_uint_eq(allowed, M_POST | M_PUT);
	ck_assert_ptr_eq(router_match(table, 5, M_POST, "/api/jobs/tag_job/7", args, 4, scratch, &allowed), &table[4]);
	ck_assert_ptr_null(router_match(table, 5, M_GET, "/monitoring/job/", args, 4, scratch, &allowed));
	ck_assert_uint_eq(allowed, 0);
	ck_assert_ptr_null(router_match(table, 5, M_GET, "/monitoring/job/1/x", args, 4, scratch, &allowed));
	ck_assert(router_json_path("/api/x"));
	ck_assert(router_json_path("/frontend/jwt/"));
	ck_assert(!router_json_path("/apix"));
}
END_TEST

START_TEST(every_route_in_the_table_is_sound)
{
	/* the audit the table promises: unsafe HTML routes carry a CSRF flag */
	for (size_t i = 0; i < routes_count; i++) {
		const struct route *rt = &routes[i];
		ck_assert_msg(rt->pattern[0] == '/', "route %zu", i);
		ck_assert_ptr_nonnull(rt->handler);
		bool unsafe = rt->methods & ~(unsigned)(M_GET | M_HEAD | M_OPTIONS);
		if (unsafe && rt->fmt == FMT_HTML)
			ck_assert_msg(rt->flags & (ROUTE_CSRF | ROUTE_CSRF_PRE), "%s lacks a CSRF flag", rt->pattern);
	}
}
END_TEST

START_TEST(roles)
{
	unsigned r;
	ck_assert_int_eq(roles_parse_list("admin,api", &r), 0);
	ck_assert_uint_eq(r, ROLE_ADMIN | ROLE_API);
	ck_assert_uint_eq(auth_level(r), ROLE_ADMIN);
	ck_assert_int_eq(roles_parse_list("admin,root", &r), -1);
	ck_assert_int_eq(roles_parse_list("", &r), -1);
	ck_assert_int_eq(roles_parse_list("user,", &r), -1);
	struct arena a;
	arena_init(&a, 256);
	ck_assert_str_eq(roles_pg_array(&a, ROLE_USER | ROLE_MANAGER), "{user,manager}");
	arena_release(&a);
	ck_assert(auth_username_valid("x"));
	ck_assert(!auth_username_valid(""));
	ck_assert(!auth_username_valid("a\nb"));
}
END_TEST

Suite *req_suite(void)
{
	Suite *s = suite_create("req");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, parses_path_query_cookies_and_form);
	tcase_add_test(tc, caps_give_the_right_status_before_reading);
	tcase_add_test(tc, router_matches_segments_and_reports_methods);
	tcase_add_test(tc, every_route_in_the_table_is_sound);
	tcase_add_test(tc, roles);
	suite_add_tcase(s, tc);
	return s;
}
