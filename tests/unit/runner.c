/* Runs every unit suite (no services needed).  Exit status 0 only when all pass. */
#include "config.h"
#include "suites.h"
#include "../../app/jsonio.h"

#include <stdlib.h>

int main(void)
{
	jsonio_init();
	SRunner *sr = srunner_create(NULL);
#define ADD_SUITE(name) srunner_add_suite(sr, name##_suite());
	UNIT_SUITES(ADD_SUITE)
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
