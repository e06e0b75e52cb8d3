#include "config.h"
#include "suites.h"
#include "../../app/arena.h"
#include "../../app/buf.h"
#include "../../app/html.h"

#include <stdlib.h>
#include <string.h>

START_TEST(empty_buf_is_valid_string)
{
	struct buf b = BUF_INIT;
	ck_assert_ptr_nonnull(b.data);
	ck_assert_str_eq(b.data, "");
	ck_assert_uint_eq(b.len, 0);
	buf_release(&b);
}
END_TEST

START_TEST(append_and_grow)
{
	struct buf b = BUF_INIT;
	for (int i = 0; i < 1000; i++)
		buf_addf(&b, "%d,", i);
	ck_assert(strncmp(b.data, "0,1,2,", 6) == 0);
	ck_assert_uint_eq(strlen(b.data), b.len);
	buf_add(&b, "a\0b", 3); /* embedded NUL kept, len is the truth */
	ck_assert_int_eq(b.data[b.len - 2], '\0');
	buf_truncate(&b, 2);
	ck_assert_str_eq(b.data, "0,");
	size_t len;
	char *d = buf_detach(&b, &len);
	ck_assert_uint_eq(len, 2);
	ck_assert_str_eq(b.data, "");
	free(d);
	/* a long formatted string takes the slow path */
	char big[1000];
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_addf(&b, "<%s>", big);
	ck_assert_uint_eq(b.len, 1001);
	buf_release(&b);
}
END_TEST

START_TEST(arena_backed)
{
	struct arena a;
	arena_init(&a, 128);
	struct buf b;
	buf_init_arena(&b, &a);
	for (int i = 0; i < 100; i++)
		buf_adds(&b, "0123456789");
	ck_assert_uint_eq(b.len, 1000);
	arena_release(&a);
}
END_TEST

START_TEST(html_escaping)
{
	struct buf b = BUF_INIT;
	const char *evil = "<script>alert('x')</script>&\"";
	html_escape(&b, evil, strlen(evil));
	ck_assert_str_eq(b.data, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;");
	buf_reset(&b);
	html_url_encode(&b, "a b&c=d/é", strlen("a b&c=d/é"));
	ck_assert_str_eq(b.data, "a%20b%26c%3Dd%2F%C3%A9");
	buf_reset(&b);
	html_json_for_script(&b, "{\"a\":\"</script>\"}", 17);
	ck_assert_ptr_null(strstr(b.data, "</"));
	buf_release(&b);
}
END_TEST

Suite *buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, empty_buf_is_valid_string);
	tcase_add_test(tc, append_and_grow);
	tcase_add_test(tc, arena_backed);
	tcase_add_test(tc, html_escaping);
	suite_add_tcase(s, tc);
	return s;
}
