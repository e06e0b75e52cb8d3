/* archive: the job archive (COMPAT c), behind one interface.
 *
 * A backend stores objects under keys that mirror the file layout
 * ("version.txt", "<cluster>/cluster.json", "<cluster>/<l1>/<l2>/<start>/meta.json"):
 * the file backend (archive_fs) now, S3 later.  Nothing outside a backend
 * touches the file system for archive data.  Names that come from data
 * (cluster, host, ids) are checked with str_safe_name before they form a key. */
#ifndef JOBSCOPE_ARCHIVE_H
#define JOBSCOPE_ARCHIVE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARCHIVE_VERSION 3
#define ARCHIVE_MAX_JSON (256u * 1024 * 1024)

struct archive;

struct archive_ops {
	/* object bytes (heap, NUL-terminated) or NULL with err; missing -> errno ENOENT */
	char *(*read)(struct archive *ar, const char *key, size_t max, size_t *len, char *err, size_t errlen);
	/* replace an object atomically */
	int (*write)(struct archive *ar, const char *key, const void *data, size_t len, char *err, size_t errlen);
	/* names directly below prefix ("" = the root), hidden ones left out; heap array, NULL-terminated */
	char **(*list)(struct archive *ar, const char *prefix, char *err, size_t errlen);
	void (*close)(struct archive *ar);
};

struct cluster;

struct archive_cluster {
	char *name;
	struct json_object *config; /* cluster.json as read (the API serves it) */
	struct cluster *model;      /* parsed and derived (cluster.h) */
};

struct archive {
	const struct archive_ops *ops;
	char *location;               /* for messages: the path or the bucket */
	void *backend;
	struct archive_cluster *clusters;
	size_t nclusters;
};

/* Open the archive named by the config ("file" kind now), check version.txt
 * (bootstrapping an empty directory as cc-backend does) and load every
 * cluster's cluster.json.  NULL with a sentence in err. */
struct conf;
struct archive *archive_open(const struct conf *c, char *err, size_t errlen);
struct archive *archive_fs_open(const char *root, char *err, size_t errlen);
void archive_close(struct archive *ar);
const struct archive_cluster *archive_cluster(const struct archive *ar, const char *name);
void archive_strv_free(char **v);

/* "<cluster>/<jobId/1000>/<jobId%1000 as %03d>/<startTime>"; -1 when the
 * cluster name is not safe for a path or an id is negative */
int archive_job_key(const char *cluster, int64_t job_id, int64_t start_time, char *out, size_t n);
/* Every job directory key of every cluster (sorted), NULL-terminated heap
 * array; *count gets the number.  Directory entries that do not look like
 * <number>/<3 digits>/<number> are skipped and counted in *skipped. */
char **archive_job_keys(struct archive *ar, size_t *count, size_t *skipped, char *err, size_t errlen);
/* The same walk in two steps, so that several threads can list an archive:
 * the units "<cluster>/<jobId/1000>" (sorted, NULL-terminated heap array,
 * NULL with err when the root cannot be listed), then the job keys of one
 * unit, handed in order to fn (which owns each key).  Both add the entries
 * they skip to *skipped. */
char **archive_job_units(struct archive *ar, size_t *count, size_t *skipped, char *err, size_t errlen);
void archive_unit_job_keys(struct archive *ar, const char *unit, void (*fn)(void *ctx, char *key), void *ctx,
			   size_t *skipped);
/* The data file of a job key as stored: data.json.gz when it exists (the
 * gzip bytes), else data.json.  Heap bytes; NULL with err (errno ENOENT when
 * neither exists). */
char *archive_read_data(struct archive *ar, const char *jobkey, size_t *len, char *err, size_t errlen);
/* Write meta.json and the data file (name by gzipped) of a job. */
int archive_write_job(struct archive *ar, const char *jobkey, const char *meta, size_t metalen,
		      const char *data, size_t datalen, bool gzipped, char *err, size_t errlen);
/* meta.json of a job key (heap, NUL-terminated) */
char *archive_read_meta(struct archive *ar, const char *jobkey, size_t *len, char *err, size_t errlen);

#endif
