#include "config.h"
#include "testlib.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *test_srcdir(void)
{
	const char *s = getenv("JOBSCOPE_SRCDIR");
	return s && *s ? s : ".";
}

const char *test_path(const char *rel)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s/%s", test_srcdir(), rel);
	return buf;
}

char *test_tmpdir(void)
{
	char tmpl[] = "/tmp/jobscope-test-XXXXXX";
	char *d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void test_rmtree(const char *dir)
{
	if (dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int test_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

bool test_have_reference(const char *what, const char *envvar, char *dir, size_t dirlen)
{
	const char *d = getenv(envvar);
	struct stat st;
	if (d && stat(d, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(dir, dirlen, "%s", d);
		return true;
	}
	printf("skipped: %s (%s %s not found)\n", what, envvar, d ? d : "(unset)");
	return false;
}
