#include "config.h"
#include "suites.h"
#include "../../app/password.h"

#include <string.h>

START_TEST(known_2a_vector_verifies)
{
	/* the classic crypt_blowfish test vector; cc-backend (Go) writes $2a$ hashes */
	ck_assert(password_verify("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
	ck_assert(!password_verify("U*V", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
}
END_TEST

START_TEST(hash_then_verify)
{
	char h[PASSWORD_HASH_MAX];
	ck_assert_int_eq(password_hash("demo", h), 0);
	ck_assert(strncmp(h, "$2b$10$", 7) == 0);
	ck_assert_uint_eq(strlen(h), 60);
	ck_assert(password_verify("demo", h));
	ck_assert(!password_verify("Demo", h));
	ck_assert(!password_verify("demo", NULL));
	ck_assert(!password_verify("demo", ""));
	char longpw[100];
	memset(longpw, 'x', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	ck_assert_int_eq(password_hash(longpw, h), -1); /* not silently cut at 72 */
}
END_TEST

Suite *password_suite(void)
{
	Suite *s = suite_create("password");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, known_2a_vector_verifies);
	tcase_add_test(tc, hash_then_verify);
	suite_add_tcase(s, tc);
	return s;
}
