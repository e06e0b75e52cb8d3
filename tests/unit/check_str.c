#include "config.h"
#include "suites.h"
#include "../../app/arena.h"
#include "../../app/str.h"

#include <string.h>

START_TEST(integers_parse_whole_and_in_range)
{
	int64_t v;
	ck_assert_int_eq(str_to_i64("42", 0, 100, &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(str_to_i64("-5", -10, 10, &v), 0);
	ck_assert_int_eq(v, -5);
	ck_assert_int_eq(str_to_i64("101", 0, 100, &v), -1);
	ck_assert_int_eq(str_to_i64("12abc", 0, 100, &v), -1);
	ck_assert_int_eq(str_to_i64(" 12", 0, 100, &v), -1);
	ck_assert_int_eq(str_to_i64("", 0, 100, &v), -1);
	ck_assert_int_eq(str_to_i64("99999999999999999999", 0, INT64_MAX, &v), -1);
}
END_TEST

START_TEST(go_durations)
{
	int64_t s;
	ck_assert_int_eq(str_duration("168h", &s), 0);
	ck_assert_int_eq(s, 168 * 3600);
	ck_assert_int_eq(str_duration("1h30m", &s), 0);
	ck_assert_int_eq(s, 5400);
	ck_assert_int_eq(str_duration("45s", &s), 0);
	ck_assert_int_eq(s, 45);
	ck_assert_int_eq(str_duration("10", &s), -1); /* Go wants a unit */
	ck_assert_int_eq(str_duration("5d", &s), -1);
	ck_assert_int_eq(str_duration("", &s), -1);
}
END_TEST

START_TEST(utf8_and_constant_time_compare)
{
	ck_assert(str_utf8_valid("héllo ✓", strlen("héllo ✓")));
	ck_assert(!str_utf8_valid("\xc3\x28", 2));
	ck_assert(!str_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
	ck_assert(!str_utf8_valid("\xc0\xaf", 2));     /* overlong '/' */
	ck_assert(str_ct_eq("abc", 3, "abc", 3));
	ck_assert(!str_ct_eq("abc", 3, "abd", 3));
	ck_assert(!str_ct_eq("abc", 3, "abcd", 4));
}
END_TEST

START_TEST(url_decoding_refuses_tricks)
{
	struct arena a;
	arena_init(&a, 1024);
	ck_assert_str_eq(str_url_decode(&a, "a%20b+c", 7, true), "a b c");
	ck_assert_str_eq(str_url_decode(&a, "a+b", 3, false), "a+b");
	ck_assert_ptr_null(str_url_decode(&a, "a%00b", 5, true));
	ck_assert_ptr_null(str_url_decode(&a, "a%zz", 4, true));
	ck_assert_ptr_null(str_url_decode(&a, "a%2", 3, true));
	ck_assert_ptr_null(str_url_decode(&a, "%c3%28", 6, true));
	arena_release(&a);
}
END_TEST

START_TEST(safe_names)
{
	ck_assert(str_safe_name("fritz"));
	ck_assert(str_safe_name("f0101.cluster-1"));
	ck_assert(!str_safe_name(".."));
	ck_assert(!str_safe_name("a/../b"));
	ck_assert(!str_safe_name("a/b"));
	ck_assert(!str_safe_name("a\\b"));
	ck_assert(!str_safe_name(""));
	ck_assert(!str_safe_name("."));
}
END_TEST

START_TEST(base64_roundtrip)
{
	struct arena a;
	arena_init(&a, 1024);
	const char *std = b64_encode(&a, "any carnal pleas", 16, false);
	ck_assert_str_eq(std, "YW55IGNhcm5hbCBwbGVhcw==");
	ck_assert_str_eq(b64_encode(&a, "\xfb\xff", 2, true), "-_8");
	unsigned char out[64];
	size_t n;
	ck_assert_int_eq(b64_decode(std, strlen(std), out, &n), 0);
	ck_assert_uint_eq(n, 16);
	ck_assert(memcmp(out, "any carnal pleas", 16) == 0);
	ck_assert_int_eq(b64_decode("a$b=", 4, out, &n), -1);
	/* cc-backend's demo public key decodes to 32 bytes */
	const char *k = "kzfYrYy+TzpanWZHJ5qSdMj5uKUWgq74BWhQG6copP0=";
	ck_assert_int_eq(b64_decode(k, strlen(k), out, &n), 0);
	ck_assert_uint_eq(n, 32);
	arena_release(&a);
}
END_TEST

Suite *str_suite(void)
{
	Suite *s = suite_create("str");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, integers_parse_whole_and_in_range);
	tcase_add_test(tc, go_durations);
	tcase_add_test(tc, utf8_and_constant_time_compare);
	tcase_add_test(tc, url_decoding_refuses_tricks);
	tcase_add_test(tc, safe_names);
	tcase_add_test(tc, base64_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}
