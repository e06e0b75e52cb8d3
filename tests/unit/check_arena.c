#include "config.h"
#include "suites.h"
#include "../../app/arena.h"

#include <stdint.h>
#include <string.h>

static int cleanups_run;
static int order[4];
static void note(void *p)
{
	order[cleanups_run++] = *(int *)p;
}

START_TEST(alloc_aligned_and_distinct)
{
	struct arena a;
	arena_init(&a, 1024);
	char *p = arena_alloc(&a, 3), *q = arena_alloc(&a, 5);
	ck_assert_ptr_ne(p, q);
	ck_assert_uint_eq((uintptr_t)p % 16, 0);
	ck_assert_uint_eq((uintptr_t)q % 16, 0);
	memset(p, 'x', 3);
	memset(q, 'y', 5);
	ck_assert_int_eq(p[2], 'x');
	/* larger than a block: still works */
	char *big = arena_alloc(&a, 10000);
	memset(big, 1, 10000);
	ck_assert_int_eq(big[9999], 1);
	arena_release(&a);
}
END_TEST

START_TEST(cleanups_run_in_reverse_on_reset)
{
	struct arena a;
	arena_init(&a, 256);
	static int one = 1, two = 2, three = 3;
	cleanups_run = 0;
	arena_cleanup_add(&a, note, &one);
	arena_cleanup_add(&a, note, &two);
	arena_cleanup_add(&a, note, &three);
	ck_assert_ptr_null(arena_cleanup_add(&a, note, NULL)); /* a failed constructor registers nothing */
	arena_reset(&a);
	ck_assert_int_eq(cleanups_run, 3);
	ck_assert_int_eq(order[0], 3);
	ck_assert_int_eq(order[2], 1);
	arena_reset(&a);
	ck_assert_int_eq(cleanups_run, 3); /* not twice */
	arena_release(&a);
}
END_TEST

START_TEST(strings_and_printf)
{
	struct arena a;
	arena_init(&a, 64);
	ck_assert_str_eq(arena_strdup(&a, "hello"), "hello");
	ck_assert_str_eq(arena_strndup(&a, "hello", 3), "hel");
	ck_assert_str_eq(arena_printf(&a, "%s-%d", "job", 42), "job-42");
	char *z = arena_calloc(&a, 10, 10);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(z[i], 0);
	for (int i = 0; i < 1000; i++) /* many blocks */
		arena_printf(&a, "%0100d", i);
	ck_assert_uint_gt(a.total, 100000);
	arena_reset(&a);
	ck_assert_uint_eq(a.total, 0);
	arena_release(&a);
}
END_TEST

Suite *arena_suite(void)
{
	Suite *s = suite_create("arena");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, alloc_aligned_and_distinct);
	tcase_add_test(tc, cleanups_run_in_reverse_on_reset);
	tcase_add_test(tc, strings_and_printf);
	suite_add_tcase(s, tc);
	return s;
}
