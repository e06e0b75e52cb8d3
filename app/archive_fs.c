/* archive_fs: the job archive in a directory tree (archive.kind "file"). */
#include "config.h"
#include "archive.h"
#include "file.h"
#include "jsonio.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int path_of(struct archive *ar, const char *key, char *out, size_t n)
{
	/* keys are built from checked names; refuse anything that climbs anyway */
	if (strstr(key, "..") || key[0] == '/')
		return -1;
	int w = snprintf(out, n, "%s%s%s", (char *)ar->backend, *key ? "/" : "", key);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

static char *fs_read(struct archive *ar, const char *key, size_t max, size_t *len, char *err, size_t errlen)
{
	char path[4096];
	if (path_of(ar, key, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "%s: not a valid archive key", key);
		errno = EINVAL;
		return NULL;
	}
	char *d = jsonio_read_file(path, max, len, err, errlen);
	return d;
}

/* The parent directories of path.  Usually the parent exists (a job's second
 * file, or another job of the same thousand): one stat then, not a mkdir per
 * path component. */
static int mkdirs(char *path)
{
	char *last = strrchr(path, '/');
	struct stat st;
	if (last && last != path) {
		*last = '\0';
		int there = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
		*last = '/';
		if (there)
			return 0;
	}
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		int rc = mkdir(path, 0755);
		*p = '/';
		if (rc < 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

static int fs_write(struct archive *ar, const char *key, const void *data, size_t len, char *err, size_t errlen)
{
	char path[4096];
	if (path_of(ar, key, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "%s: not a valid archive key", key);
		return -1;
	}
	if (mkdirs(path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* as before: no fsync per file (an -init-db rebuild or a generated archive
	 * writes hundreds of thousands); the database row is the durable record */
	return file_write_atomic(path, data, len, false, err, errlen);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **fs_list(struct archive *ar, const char *prefix, char *err, size_t errlen)
{
	char path[4096];
	if (path_of(ar, prefix, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "%s: not a valid archive key", prefix);
		return NULL;
	}
	DIR *d = opendir(path);
	if (!d) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t n = 0, cap = 16;
	char **v = xmalloc(cap * sizeof(char *));
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n + 1 >= cap) {
			cap *= 2;
			v = xrealloc(v, cap * sizeof(char *));
		}
		v[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	v[n] = NULL;
	qsort(v, n, sizeof(char *), cmp_str);
	return v;
}

static void fs_close(struct archive *ar)
{
	free(ar->backend);
}

static const struct archive_ops fs_ops = {
	.read = fs_read, .write = fs_write, .list = fs_list, .close = fs_close,
};

struct archive *archive_fs_open(const char *root, char *err, size_t errlen)
{
	struct stat st;
	if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "job archive %s: %s", root, errno ? strerror(errno) : "not a directory");
		return NULL;
	}
	struct archive *ar = xcalloc(1, sizeof(*ar));
	ar->ops = &fs_ops;
	ar->location = xstrdup(root);
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--;
	ar->backend = xstrndup(root, n);
	return ar;
}
