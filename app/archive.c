#include "config.h"
#include "archive.h"
#include "cluster.h"
#include "conf.h"
#include "log.h"
#include "jsonio.h"
#include "str.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void archive_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static int cmp_cluster(const void *a, const void *b)
{
	return strcmp(((const struct archive_cluster *)a)->name, ((const struct archive_cluster *)b)->name);
}

static int load_version(struct archive *ar, char *err, size_t errlen)
{
	char rerr[512];
	size_t len;
	errno = 0;
	char *v = ar->ops->read(ar, "version.txt", 64, &len, rerr, sizeof(rerr));
	if (!v && errno == ENOENT) {
		/* as cc-backend: an empty archive is bootstrapped, anything else is an error */
		char **names = ar->ops->list(ar, "", rerr, sizeof(rerr));
		if (!names) {
			snprintf(err, errlen, "job archive %s: %s", ar->location, rerr);
			return -1;
		}
		bool empty = names[0] == NULL;
		archive_strv_free(names);
		if (!empty) {
			snprintf(err, errlen, "job archive %s: version.txt is missing", ar->location);
			return -1;
		}
		char ver[8];
		snprintf(ver, sizeof(ver), "%d\n", ARCHIVE_VERSION);
		if (ar->ops->write(ar, "version.txt", ver, strlen(ver), rerr, sizeof(rerr)) < 0) {
			snprintf(err, errlen, "job archive %s: %s", ar->location, rerr);
			return -1;
		}
		return 0;
	}
	if (!v) {
		snprintf(err, errlen, "job archive %s: %s", ar->location, rerr);
		return -1;
	}
	int64_t n;
	v[strcspn(v, " \r\n")] = '\0';
	int rc = str_to_i64(v, 0, 1000, &n);
	if (rc < 0 || n != ARCHIVE_VERSION) {
		snprintf(err, errlen, "job archive %s: unsupported version %s, need %d", ar->location, v, ARCHIVE_VERSION);
		free(v);
		return -1;
	}
	free(v);
	return 0;
}

static int load_clusters(struct archive *ar, char *err, size_t errlen)
{
	char rerr[512];
	char **names = ar->ops->list(ar, "", rerr, sizeof(rerr));
	if (!names) {
		snprintf(err, errlen, "job archive %s: %s", ar->location, rerr);
		return -1;
	}
	size_t n = 0;
	for (char **p = names; *p; p++)
		n++;
	ar->clusters = xcalloc(n ? n : 1, sizeof(*ar->clusters));
	int rc = 0;
	for (char **p = names; *p; p++) {
		if (strcmp(*p, "version.txt") == 0 || strcmp(*p, "compress.txt") == 0)
			continue;
		if (!str_safe_name(*p))
			continue;
		char key[512];
		snprintf(key, sizeof(key), "%s/cluster.json", *p);
		size_t len;
		char *data = ar->ops->read(ar, key, 64 * 1024 * 1024, &len, rerr, sizeof(rerr));
		if (!data) {
			snprintf(err, errlen, "job archive %s: cluster %s: %s", ar->location, *p, rerr);
			rc = -1;
			break;
		}
		char perr[256];
		struct json_object *cfg = jsonio_parse(data, len, perr, sizeof(perr));
		free(data);
		const char *name = jsonio_str(cfg, "name");
		if (!cfg || !json_object_is_type(cfg, json_type_object) || !name || !*name) {
			snprintf(err, errlen, "job archive %s: %s: %s", ar->location, key,
				 cfg ? "expected an object with a non-empty \"name\"" : perr);
			if (cfg)
				json_object_put(cfg);
			rc = -1;
			break;
		}
		char cerr[512];
		struct cluster *model = cluster_parse(cfg, cerr, sizeof(cerr));
		if (!model) {
			snprintf(err, errlen, "job archive %s: %s: %s", ar->location, key, cerr);
			json_object_put(cfg);
			rc = -1;
			break;
		}
		if (strcmp(name, *p) != 0) {
			snprintf(err, errlen, "job archive %s: %s names the cluster \"%s\"; it must match its directory", ar->location, key, name);
			cluster_free(model);
			json_object_put(cfg);
			rc = -1;
			break;
		}
		ar->clusters[ar->nclusters].name = xstrdup(name);
		ar->clusters[ar->nclusters].config = cfg;
		ar->clusters[ar->nclusters].model = model;
		ar->nclusters++;
	}
	archive_strv_free(names);
	if (rc == 0)
		qsort(ar->clusters, ar->nclusters, sizeof(*ar->clusters), cmp_cluster);
	return rc;
}

struct archive *archive_open(const struct conf *c, char *err, size_t errlen)
{
	struct archive *ar;
	if (strcmp(c->archive_kind, "file") == 0) {
		ar = archive_fs_open(c->archive_path, err, errlen);
	} else {
		snprintf(err, errlen, "archive.kind \"%s\" is not supported yet", c->archive_kind);
		return NULL;
	}
	if (!ar)
		return NULL;
	if (load_version(ar, err, errlen) < 0 || load_clusters(ar, err, errlen) < 0) {
		archive_close(ar);
		return NULL;
	}
	return ar;
}

const struct archive_cluster *archive_cluster(const struct archive *ar, const char *name)
{
	for (size_t i = 0; ar && i < ar->nclusters; i++)
		if (strcmp(ar->clusters[i].name, name) == 0)
			return &ar->clusters[i];
	return NULL;
}

void archive_close(struct archive *ar)
{
	if (!ar)
		return;
	for (size_t i = 0; i < ar->nclusters; i++) {
		free(ar->clusters[i].name);
		json_object_put(ar->clusters[i].config);
		cluster_free(ar->clusters[i].model);
	}
	free(ar->clusters);
	if (ar->ops && ar->ops->close)
		ar->ops->close(ar);
	free(ar->location);
	free(ar);
}

int archive_job_key(const char *cluster, int64_t job_id, int64_t start_time, char *out, size_t n)
{
	if (!str_safe_name(cluster) || job_id < 0 || start_time < 0)
		return -1;
	int w = snprintf(out, n, "%s/%lld/%03lld/%lld", cluster, (long long)(job_id / 1000),
			 (long long)(job_id % 1000), (long long)start_time);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

static bool all_digits(const char *s, size_t want_len)
{
	size_t n = strlen(s);
	if (n == 0 || n > 19 || (want_len && n != want_len))
		return false;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static void push(char ***v, size_t *n, size_t *cap, char *s)
{
	if (*n + 1 >= *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		*v = xrealloc(*v, *cap * sizeof(char *));
	}
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

char **archive_job_units(struct archive *ar, size_t *count, size_t *skipped, char *err, size_t errlen)
{
	char **units = NULL;
	size_t n = 0, cap = 0;
	*skipped = 0;
	push(&units, &n, &cap, NULL); /* keeps the array non-NULL and terminated */
	n = 0;
	char rerr[512], prefix[1024];
	char **dirs = ar->ops->list(ar, "", rerr, sizeof(rerr));
	if (!dirs) {
		snprintf(err, errlen, "job archive %s: %s", ar->location, rerr);
		free(units);
		return NULL;
	}
	for (char **c = dirs; *c; c++) {
		if (!archive_cluster(ar, *c) && !str_safe_name(*c))
			continue;
		bool known = false;
		for (size_t i = 0; i < ar->nclusters; i++)
			known |= strcmp(ar->clusters[i].name, *c) == 0;
		if (!known)
			continue; /* version.txt, compress.txt, stray files */
		char **l1 = ar->ops->list(ar, *c, rerr, sizeof(rerr));
		for (char **a = l1; a && *a; a++) {
			if (!all_digits(*a, 0)) {
				if (strcmp(*a, "cluster.json") != 0)
					(*skipped)++;
				continue;
			}
			snprintf(prefix, sizeof(prefix), "%s/%s", *c, *a);
			push(&units, &n, &cap, xstrdup(prefix));
		}
		archive_strv_free(l1);
	}
	archive_strv_free(dirs);
	*count = n;
	return units;
}

void archive_unit_job_keys(struct archive *ar, const char *unit, void (*fn)(void *ctx, char *key), void *ctx,
			   size_t *skipped)
{
	char rerr[512], prefix[1024];
	char **l2 = ar->ops->list(ar, unit, rerr, sizeof(rerr));
	for (char **b = l2; b && *b; b++) {
		if (!all_digits(*b, 3)) {
			(*skipped)++;
			continue;
		}
		snprintf(prefix, sizeof(prefix), "%s/%s", unit, *b);
		char **l3 = ar->ops->list(ar, prefix, rerr, sizeof(rerr));
		for (char **t = l3; t && *t; t++) {
			if (!all_digits(*t, 0)) {
				(*skipped)++;
				continue;
			}
			size_t len = strlen(prefix) + strlen(*t) + 2;
			char *k = xmalloc(len);
			snprintf(k, len, "%s/%s", prefix, *t);
			fn(ctx, k);
		}
		archive_strv_free(l3);
	}
	archive_strv_free(l2);
}

struct keyv {
	char **v;
	size_t n, cap;
};

static void keyv_push(void *ctx, char *key)
{
	struct keyv *kv = ctx;
	push(&kv->v, &kv->n, &kv->cap, key);
}

char **archive_job_keys(struct archive *ar, size_t *count, size_t *skipped, char *err, size_t errlen)
{
	struct keyv kv = {NULL, 0, 0};
	push(&kv.v, &kv.n, &kv.cap, NULL); /* keeps keys non-NULL and terminated */
	kv.n = 0;
	size_t nunits;
	char **units = archive_job_units(ar, &nunits, skipped, err, errlen);
	if (!units) {
		free(kv.v);
		return NULL;
	}
	for (char **u = units; *u; u++)
		archive_unit_job_keys(ar, *u, keyv_push, &kv, skipped);
	archive_strv_free(units);
	*count = kv.n;
	return kv.v;
}

char *archive_read_meta(struct archive *ar, const char *jobkey, size_t *len, char *err, size_t errlen)
{
	char key[1024];
	snprintf(key, sizeof(key), "%s/meta.json", jobkey);
	return ar->ops->read(ar, key, 64 * 1024 * 1024, len, err, errlen);
}

char *archive_read_data(struct archive *ar, const char *jobkey, size_t *len, char *err, size_t errlen)
{
	char key[1024];
	snprintf(key, sizeof(key), "%s/data.json.gz", jobkey);
	errno = 0;
	char *d = ar->ops->read(ar, key, ARCHIVE_MAX_JSON, len, err, errlen);
	if (d || errno != ENOENT)
		return d;
	snprintf(key, sizeof(key), "%s/data.json", jobkey);
	errno = 0;
	return ar->ops->read(ar, key, ARCHIVE_MAX_JSON, len, err, errlen);
}

int archive_write_job(struct archive *ar, const char *jobkey, const char *meta, size_t metalen,
		      const char *data, size_t datalen, bool gzipped, char *err, size_t errlen)
{
	char key[1024];
	snprintf(key, sizeof(key), "%s/%s", jobkey, gzipped ? "data.json.gz" : "data.json");
	if (ar->ops->write(ar, key, data, datalen, err, errlen) < 0)
		return -1;
	/* meta.json last: a reader that finds it finds the data too */
	snprintf(key, sizeof(key), "%s/meta.json", jobkey);
	return ar->ops->write(ar, key, meta, metalen, err, errlen);
}
