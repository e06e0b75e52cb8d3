/* The unit suites: one line per app module tested without services.
 * check_<module>.c defines Suite *<module>_suite(void). */
#ifndef JOBSCOPE_TEST_SUITES_H
#define JOBSCOPE_TEST_SUITES_H
#include <check.h>

#define UNIT_SUITES(X) \
	X(arena)       \
	X(str)         \
	X(conf)        \
	X(req)         \
	X(password)    \
	X(job)         \
	X(jobdata)     \
	X(jobquery)    \
	X(metrics)     \
	X(buf)         \
	X(cluster)     \
	X(svg)          \
	X(tmpl)         \
	X(token)         \
	X(generate)     \
	X(metafast)

#define DECLARE_SUITE(name) Suite *name##_suite(void);
UNIT_SUITES(DECLARE_SUITE)

#endif
