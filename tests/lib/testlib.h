/* Helpers shared by the Check suites. */
#ifndef JOBSCOPE_TESTLIB_H
#define JOBSCOPE_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>

/* $JOBSCOPE_SRCDIR (set by make check) or "." */
const char *test_srcdir(void);
/* A path below the source tree, in a static buffer that the next call reuses. */
const char *test_path(const char *rel);
/* A fresh temporary directory (removed by test_rmtree). */
char *test_tmpdir(void);
void test_rmtree(const char *dir);
int test_write_file(const char *path, const char *text);
/* Is ../shared/reference available?  Prints one "skipped: ..." line when it is not. */
bool test_have_reference(const char *what, const char *envvar, char *dir, size_t dirlen);

#endif
