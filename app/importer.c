#include "config.h"
#include "importer.h"
#include "archive.h"
#include "arena.h"
#include "buf.h"
#include "cluster.h"
#include "db.h"
#include "db_job.h"
#include "jobdata.h"
#include "job.h"
#include "jsonio.h"
#include "log.h"
#include "metafast.h"
#include "str.h"
#include "xalloc.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define FLUSH_BYTES (512 * 1024)
#define MAX_REASONS 16

static double now_s(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* COPY text format: backslash, tab, newline and carriage return escaped */
static void copy_text(struct buf *b, const char *s)
{
	if (!s) {
		buf_adds(b, "\\N");
		return;
	}
	size_t run = 0, i = 0;
	for (; s[i]; i++) {
		const char *rep = NULL;
		switch (s[i]) {
		case '\\': rep = "\\\\"; break;
		case '\t': rep = "\\t"; break;
		case '\n': rep = "\\n"; break;
		case '\r': rep = "\\r"; break;
		default: continue;
		}
		buf_add(b, s + run, i - run);
		buf_adds(b, rep);
		run = i + 1;
	}
	buf_add(b, s + run, i - run);
}

struct reason {
	char text[160];
	size_t count;
	char example[256];
};

struct tagrow {
	int64_t job;
	char *type, *name;
};

#define TAKE_KEYS 32
#define SCANNERS 4

struct initdb {
	struct archive *ar;
	/* job directory keys in archive order; the scanner appends while the
	 * workers take them (key i becomes job id i + 1) */
	pthread_mutex_t qlock;
	pthread_cond_t more;
	char **keys;
	size_t nkeys, capkeys, next;
	bool scan_done;
	size_t bad_dirs;
	double t_scan0, scan_s;
	/* the units (<cluster>/<jobId/1000>) the scanners list in parallel; a
	 * unit's keys are published once the units before it are */
	char **units;
	size_t nunits, published;
	atomic_size_t next_unit;
	struct unit_keys *ukeys;
	atomic_size_t done;
	atomic_int running;        /* workers not yet finished */
	pthread_mutex_t lock;      /* the COPY stream, tags and reasons */
	PGconn *conn;
	bool fast;                 /* metafast first (JOBSCOPE_INITDB_JSONC=1 turns it off) */
	bool copy_failed;
	struct reason reasons[MAX_REASONS];
	size_t nreasons, skipped;
	struct tagrow *tags;
	size_t ntags, captags;
};

static void skip(struct initdb *st, const char *key, const char *why)
{
	pthread_mutex_lock(&st->lock);
	st->skipped++;
	/* group by the reason without its variable tail */
	char text[160];
	snprintf(text, sizeof(text), "%.150s", why);
	char *colon = strstr(text, ": ");
	if (colon && strncmp(text, "line ", 5) == 0)
		*colon = '\0';
	size_t i = 0;
	for (; i < st->nreasons; i++)
		if (strcmp(st->reasons[i].text, text) == 0)
			break;
	if (i == st->nreasons && st->nreasons < MAX_REASONS) {
		snprintf(st->reasons[i].text, sizeof(st->reasons[i].text), "%s", text);
		snprintf(st->reasons[i].example, sizeof(st->reasons[i].example), "%s", key);
		st->nreasons++;
	}
	if (i < st->nreasons)
		st->reasons[i].count++;
	pthread_mutex_unlock(&st->lock);
}

static void flush(struct initdb *st, struct buf *rows)
{
	if (!rows->len)
		return;
	pthread_mutex_lock(&st->lock);
	if (!st->copy_failed && PQputCopyData(st->conn, rows->data, (int)rows->len) != 1) {
		log_err("-init-db: COPY failed: %s", PQerrorMessage(st->conn));
		st->copy_failed = true;
	}
	pthread_mutex_unlock(&st->lock);
	buf_reset(rows);
}

/* The COPY text of a JSON value (NULL: \N). */
static void copy_json_text(struct buf *b, const char *json, size_t len)
{
	if (!json) {
		buf_adds(b, "\\N");
		return;
	}
	/* JSON text holds no raw tab, newline or CR (json-c and metafast
	 * escape them in strings), so of COPY's specials only the backslash occurs */
	const char *p = json, *e = json + len, *q;
	while ((q = memchr(p, '\\', (size_t)(e - p)))) {
		buf_add(b, p, (size_t)(q + 1 - p));
		buf_addch(b, '\\');
		p = q + 1;
	}
	buf_add(b, p, (size_t)(e - p));
}

/* One meta.json (text) into one COPY row; 0, or -1 with why.  fast: try
 * metafast first (json-c decides whatever it does not take); scratch holds
 * the JSON text metafast writes. */
static int meta_row(struct archive *ar, struct arena *a, const char *key, const char *text, size_t len,
		    int64_t dbid, bool fast, struct buf *scratch, struct buf *row, struct tagrow **tags, size_t *ntags,
		    char *why, size_t whylen)
{
	char err[512];
	struct job j;
	struct metafast mf;
	buf_reset(scratch);
	fast = fast && metafast_parse(a, text, len, scratch, &mf) == 0;
	if (fast) {
		j = mf.job;
	} else {
		buf_reset(scratch);
		if (job_parse(a, text, len, 0, &j, err, sizeof(err)) < 0) {
			snprintf(why, whylen, "meta.json: %.300s", err);
			return -1;
		}
	}
	/* the directory says which cluster, job and start the file belongs to */
	char want[1024];
	if (!j.cluster || archive_job_key(j.cluster, j.job_id, j.start_time, want, sizeof(want)) < 0 ||
	    strcmp(want, key) != 0) {
		snprintf(why, whylen, "meta.json does not match its directory (cluster, jobId, startTime)");
		return -1;
	}
	const struct archive_cluster *ac = archive_cluster(ar, j.cluster);
	if (!ac) {
		snprintf(why, whylen, "unknown cluster");
		return -1;
	}
	if (!j.user || !*j.user || !j.project || j.nresources == 0) {
		snprintf(why, whylen, "meta.json lacks user, project or resources");
		return -1;
	}
	const struct subcluster *sc = j.subcluster && *j.subcluster ? cluster_subcluster(ac->model, j.subcluster) : NULL;
	if (!sc)
		sc = cluster_subcluster_for_host(ac->model, j.resources[0].hostname);
	if (!sc) {
		snprintf(why, whylen, "no subcluster for host");
		return -1;
	}
	if (!j.subcluster || !*j.subcluster)
		j.subcluster = sc->name;
	if (!j.has_state)
		j.state = JOB_COMPLETED;
	if (j.num_nodes <= 0)
		j.num_nodes = (int32_t)j.nresources;

	/* JSON columns: (text, length), NULL for \N */
	const char *efp = NULL, *fp = NULL, *meta = NULL, *res = NULL, *stats = NULL;
	size_t efplen = 0, fplen = 0, metalen = 0, reslen = 0, statslen = 0;
	double energy = j.energy;
	if (fast) {
		size_t efpoff = 0, fpoff = 0, resoff;
		if (mf.has_stats) {
			struct cluster_footprint cf;
			subcluster_footprint(sc, mf.stats, mf.nstats, j.num_nodes, j.duration, &cf);
			efpoff = scratch->len;
			metafast_energy_json(scratch, &cf);
			efplen = scratch->len - efpoff;
			fpoff = scratch->len;
			metafast_footprint_json(scratch, &cf);
			fplen = scratch->len - fpoff;
			energy = cf.energy_total;
			cluster_footprint_release(&cf);
		}
		resoff = scratch->len;
		metafast_resources_json(scratch, &j);
		reslen = scratch->len - resoff;
		/* pointers only now: the buffer may have moved while it grew */
		if (mf.has_stats) {
			efp = scratch->data + efpoff;
			fp = scratch->data + fpoff;
			stats = scratch->data + mf.stats_off;
			statslen = mf.stats_len;
		}
		if (mf.has_meta) {
			meta = scratch->data + mf.meta_off;
			metalen = mf.meta_len;
		}
		res = scratch->data + resoff;
	} else {
		struct json_object *fpo = NULL, *efpo = NULL;
		if (j.statistics) {
			struct metric_stats *ms = NULL;
			size_t n = cluster_stats_from_json(j.statistics, &ms);
			struct cluster_footprint cf;
			subcluster_footprint(sc, ms, n, j.num_nodes, j.duration, &cf);
			cluster_footprint_json(&cf, &fpo, &efpo);
			energy = cf.energy_total;
			cluster_footprint_release(&cf);
			free(ms);
			arena_cleanup_add(a, jsonio_put, fpo);
			arena_cleanup_add(a, jsonio_put, efpo);
		}
		struct json_object *reso = arena_cleanup_add(a, jsonio_put, job_resources_json(&j));
		const unsigned fl = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
		if (efpo)
			efp = json_object_to_json_string_length(efpo, fl, &efplen);
		if (fpo)
			fp = json_object_to_json_string_length(fpo, fl, &fplen);
		if (j.meta_data)
			meta = json_object_to_json_string_length(j.meta_data, fl, &metalen);
		res = json_object_to_json_string_length(reso, fl, &reslen);
		if (j.statistics)
			stats = json_object_to_json_string_length(j.statistics, fl, &statslen);
	}

	buf_addf(row, "%lld\t%lld\t", (long long)dbid, (long long)j.job_id);
	copy_text(row, j.cluster);
	buf_addch(row, '\t');
	copy_text(row, j.subcluster);
	buf_addch(row, '\t');
	copy_text(row, j.partition && *j.partition ? j.partition : NULL);
	buf_addch(row, '\t');
	copy_text(row, j.project);
	buf_addch(row, '\t');
	copy_text(row, j.user);
	buf_addf(row, "\t%s\t%s\t%lld\t%lld\t%d\t%lld\t%d\t%d\t%d\t%d\t3\t%.2f\t",
		 job_shared_name(j.shared), job_state_name(j.state),
		 (long long)(j.submit_time > 0 ? j.submit_time : 0), (long long)j.start_time,
		 j.duration > 0 ? j.duration : 0,
		 (long long)(j.walltime > 0 && j.walltime < INT32_MAX ? j.walltime : 0),
		 j.num_nodes, j.num_hwthreads > 0 ? j.num_hwthreads : 0, j.num_acc > 0 ? j.num_acc : 0,
		 j.smt >= 0 ? j.smt : 1, isfinite(energy) ? energy : 0.0);
	copy_json_text(row, efp, efplen);
	buf_addch(row, '\t');
	copy_json_text(row, fp, fplen);
	buf_addch(row, '\t');
	copy_json_text(row, meta, metalen);
	buf_addch(row, '\t');
	copy_json_text(row, res, reslen);
	buf_addch(row, '\t');
	copy_json_text(row, stats, statslen);
	buf_addch(row, '\t');
	if (j.array_job_id > 0)
		buf_addf(row, "%lld", (long long)j.array_job_id);
	else
		buf_adds(row, "\\N");
	buf_addch(row, '\n');

	size_t n = 0;
	for (size_t i = 0; i < j.ntags; i++)
		n += *j.tags[i].type && *j.tags[i].name;
	*ntags = n;
	*tags = NULL;
	if (n) {
		*tags = arena_alloc(a, n * sizeof(**tags));
		n = 0;
		for (size_t i = 0; i < j.ntags; i++)
			if (*j.tags[i].type && *j.tags[i].name)
				(*tags)[n++] = (struct tagrow){dbid, (char *)j.tags[i].type, (char *)j.tags[i].name};
	}
	return 0;
}

int importer_meta_row(struct archive *ar, const char *key, const char *text, size_t len, bool fast,
		      struct buf *row, char *why, size_t whylen)
{
	struct arena a;
	arena_init(&a, 64 * 1024);
	struct buf scratch = BUF_INIT;
	struct tagrow *tags;
	size_t ntags;
	int rc = meta_row(ar, &a, key, text, len, 1, fast, &scratch, row, &tags, &ntags, why, whylen);
	for (size_t i = 0; rc == 0 && i < ntags; i++)
		buf_addf(row, "tag\t%s\t%s\n", tags[i].type, tags[i].name);
	buf_release(&scratch);
	arena_release(&a);
	return rc;
}

/* One job directory into one COPY row; 0, or -1 with why. */
static int job_row(struct initdb *st, struct arena *a, const char *key, int64_t dbid, struct buf *scratch,
		   struct buf *row, char *why, size_t whylen)
{
	char err[512];
	size_t len;
	char *text = archive_read_meta(st->ar, key, &len, err, sizeof(err));
	if (!text) {
		snprintf(why, whylen, "meta.json unreadable: %.300s", err);
		return -1;
	}
	arena_cleanup_add(a, free, text);
	struct tagrow *tags;
	size_t ntags;
	if (meta_row(st->ar, a, key, text, len, dbid, st->fast, scratch, row, &tags, &ntags, why, whylen) < 0)
		return -1;
	if (ntags) {
		pthread_mutex_lock(&st->lock);
		for (size_t i = 0; i < ntags; i++) {
			if (st->ntags == st->captags) {
				st->captags = st->captags ? st->captags * 2 : 256;
				st->tags = xrealloc(st->tags, st->captags * sizeof(*st->tags));
			}
			st->tags[st->ntags++] = (struct tagrow){dbid, xstrdup(tags[i].type), xstrdup(tags[i].name)};
		}
		pthread_mutex_unlock(&st->lock);
	}
	return 0;
}

struct unit_keys {
	char **v;
	size_t n, cap, skipped;
	bool done;
};

static void unit_key(void *ctx, char *key)
{
	struct unit_keys *u = ctx;
	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 64;
		u->v = xrealloc(u->v, u->cap * sizeof(char *));
	}
	u->v[u->n++] = key;
}

/* Several scanners list units at once (listing waits on the disk more than
 * on the CPU when the directories are not cached); the keys still reach
 * the workers in archive order. */
static void *scanner(void *arg)
{
	struct initdb *st = arg;
	for (;;) {
		size_t i = atomic_fetch_add(&st->next_unit, 1);
		if (i >= st->nunits)
			break;
		struct unit_keys u = {NULL, 0, 0, 0, true};
		archive_unit_job_keys(st->ar, st->units[i], unit_key, &u, &u.skipped);
		pthread_mutex_lock(&st->qlock);
		st->ukeys[i] = u;
		bool more = false;
		while (st->published < st->nunits && st->ukeys[st->published].done) {
			struct unit_keys *p = &st->ukeys[st->published++];
			if (st->nkeys + p->n > st->capkeys) {
				st->capkeys = st->capkeys ? st->capkeys * 2 : 4096;
				if (st->capkeys < st->nkeys + p->n)
					st->capkeys = st->nkeys + p->n;
				st->keys = xrealloc(st->keys, st->capkeys * sizeof(char *));
			}
			if (p->n)
				memcpy(st->keys + st->nkeys, p->v, p->n * sizeof(char *));
			st->nkeys += p->n;
			st->bad_dirs += p->skipped;
			free(p->v);
			p->v = NULL;
			more = true;
		}
		if (st->published == st->nunits && !st->scan_done) {
			st->scan_done = true;
			st->scan_s = now_s() - st->t_scan0;
		}
		if (more)
			pthread_cond_broadcast(&st->more);
		pthread_mutex_unlock(&st->qlock);
	}
	return NULL;
}

/* Up to TAKE_KEYS keys for a worker (their ids follow from the first);
 * 0 when the scan is over and every key was taken. */
static size_t take_keys(struct initdb *st, char **keys, size_t *first)
{
	pthread_mutex_lock(&st->qlock);
	while (st->next >= st->nkeys && !st->scan_done)
		pthread_cond_wait(&st->more, &st->qlock);
	size_t k = st->nkeys - st->next;
	if (k > TAKE_KEYS)
		k = TAKE_KEYS;
	memcpy(keys, st->keys + st->next, k * sizeof(char *));
	*first = st->next;
	st->next += k;
	pthread_mutex_unlock(&st->qlock);
	return k;
}

static void *worker(void *arg)
{
	struct initdb *st = arg;
	struct arena a;
	arena_init(&a, 64 * 1024);
	struct buf rows = BUF_INIT, row = BUF_INIT, scratch = BUF_INIT;
	char *keys[TAKE_KEYS];
	size_t first, k;
	while ((k = take_keys(st, keys, &first)) > 0) {
		for (size_t i = 0; i < k; i++) {
			char why[512];
			buf_reset(&row);
			if (job_row(st, &a, keys[i], (int64_t)(first + i) + 1, &scratch, &row, why, sizeof(why)) == 0)
				buf_add(&rows, row.data, row.len);
			else
				skip(st, keys[i], why);
			arena_reset(&a);
			atomic_fetch_add(&st->done, 1);
			if (rows.len >= FLUSH_BYTES)
				flush(st, &rows);
		}
	}
	flush(st, &rows);
	buf_release(&rows);
	buf_release(&row);
	buf_release(&scratch);
	arena_release(&a);
	atomic_fetch_sub(&st->running, 1);
	return NULL;
}

static int exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType s = PQresultStatus(r);
	int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? 0 : -1;
	if (rc < 0)
		log_err("-init-db: %.80s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	return rc;
}

/* What the load drops and puts back afterwards, as (drop, create) SQL pairs
 * in the order of the drops; the creates run in the reverse order:
 *   1. the foreign keys that point at job (archive_queue's: its table was
 *      emptied with job) and jobtag's (checked by one join at the end
 *      instead of two lookups per tag row);
 *   2. job's primary and unique keys;
 *   3. the other indexes of job and jobtag.
 * Keys and indexes are built once from the whole table instead of row by
 * row during the COPY; a duplicate (job_id, cluster, start_time) still fails
 * the load, when its key is put back.  The definitions come from the
 * catalog, so they are whatever the migrations made. */
static char **rebuild_plan(PGconn *c)
{
	PGresult *r = PQexec(c,
		"SELECT d, a FROM ("
		"SELECT 1 AS o, conname::text AS n, format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname) AS d, "
		"format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) AS a "
		"FROM pg_constraint WHERE contype = 'f' AND (conrelid = 'jobtag'::regclass OR confrelid = 'job'::regclass) "
		"UNION ALL "
		"SELECT 2, conname::text, format('ALTER TABLE %s DROP CONSTRAINT %I', conrelid::regclass, conname), "
		"format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid)) "
		"FROM pg_constraint WHERE conrelid = 'job'::regclass AND contype IN ('p', 'u') "
		"UNION ALL "
		"SELECT 3, i.indexrelid::regclass::text, format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid) "
		"FROM pg_index i WHERE i.indrelid IN ('job'::regclass, 'jobtag'::regclass) "
		"AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))"
		") s ORDER BY o, n");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_err("-init-db: reading the indexes: %s", PQresultErrorMessage(r));
		PQclear(r);
		return NULL;
	}
	int n = PQntuples(r);
	char **plan = xcalloc(2 * (size_t)n + 1, sizeof(char *));
	for (int i = 0; i < n; i++) {
		plan[2 * i] = xstrdup(PQgetvalue(r, i, 0));
		plan[2 * i + 1] = xstrdup(PQgetvalue(r, i, 1));
	}
	PQclear(r);
	return plan;
}

static int load_tags(struct initdb *st, PGconn *c, FILE *out, double t0)
{
	if (!st->ntags)
		return 0;
	/* tags from the archive are global (COMPAT b) */
	if (exec(c, "CREATE TEMP TABLE import_tag (job_id bigint, tag_type text, tag_name text) ON COMMIT DROP") < 0)
		return -1;
	PGresult *r = PQexec(c, "COPY import_tag FROM STDIN");
	bool ok = PQresultStatus(r) == PGRES_COPY_IN;
	PQclear(r);
	if (!ok)
		return -1;
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < st->ntags; i++) {
		buf_addf(&b, "%lld\t", (long long)st->tags[i].job);
		copy_text(&b, st->tags[i].type);
		buf_addch(&b, '\t');
		copy_text(&b, st->tags[i].name);
		buf_addch(&b, '\n');
		if (b.len > FLUSH_BYTES || i + 1 == st->ntags) {
			PQputCopyData(c, b.data, (int)b.len);
			buf_reset(&b);
		}
	}
	buf_release(&b);
	PQputCopyEnd(c, NULL);
	r = PQgetResult(c);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	while ((r = PQgetResult(c)))
		PQclear(r);
	if (!ok)
		return -1;
	if (exec(c, "INSERT INTO tag (tag_type, tag_name, tag_scope) SELECT DISTINCT tag_type, tag_name, 'global' FROM import_tag") < 0 ||
	    exec(c, "INSERT INTO jobtag (job_id, tag_id) SELECT DISTINCT i.job_id, t.id FROM import_tag i "
		    "JOIN tag t ON t.tag_type = i.tag_type AND t.tag_name = i.tag_name AND t.tag_scope = 'global'") < 0)
		return -1;
	fprintf(out, "  %zu tag assignments loaded (%.1f s)\n", st->ntags, now_s() - t0);
	return 0;
}

int importer_init_db(struct archive *ar, int nthreads, FILE *out)
{
	struct initdb st;
	memset(&st, 0, sizeof(st));
	st.ar = ar;
	st.fast = !getenv("JOBSCOPE_INITDB_JSONC");
	pthread_mutex_init(&st.lock, NULL);
	pthread_mutex_init(&st.qlock, NULL);
	pthread_cond_init(&st.more, NULL);
	double t0 = now_s();
	int rc = -1;
	char **plan = NULL;
	PGconn *c = db_conn();
	if (!c)
		goto out;
	st.conn = c;
	if (exec(c, "BEGIN") < 0)
		goto out;
	/* start from nothing: jobs, tags and their queues (cc-backend deletes them too) */
	if (exec(c, "TRUNCATE jobtag, tag, archive_queue, job RESTART IDENTITY") < 0)
		goto rollback;
	/* With metafast the client keeps up; the COPY backend is the bottleneck,
	 * and a third of its time went to pglz compressing the jsonb values of
	 * each row.  lz4 (when the server has it) compresses several times
	 * faster; it changes how values are stored, not what they are, and only
	 * for this transaction (SET LOCAL).  The index builds get memory enough
	 * for PostgreSQL's parallel workers (it gives each 32 MB). */
	PGresult *lz = PQexec(c, "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)");
	bool have_lz4 = PQresultStatus(lz) == PGRES_TUPLES_OK && PQntuples(lz) == 1;
	PQclear(lz);
	if (have_lz4 && exec(c, "SET LOCAL default_toast_compression = lz4") < 0)
		goto rollback;
	if (exec(c, "SELECT set_config('maintenance_work_mem', '256MB', true) FROM pg_settings "
		    "WHERE name = 'maintenance_work_mem' AND setting::bigint < 262144") < 0)
		goto rollback;
	plan = rebuild_plan(c);
	if (!plan)
		goto rollback;
	for (char **d = plan; *d; d += 2)
		if (exec(c, d[0]) < 0)
			goto rollback;
	/* FREEZE: the table was emptied in this transaction, so its rows go in
	 * frozen and all-visible; no later pass rewrites each page for hint bits. */
	PGresult *r = PQexec(c, "COPY job (id, job_id, cluster, subcluster, cluster_partition, project, hpc_user, "
				"shared, job_state, submit_time, start_time, duration, walltime, num_nodes, num_hwthreads, "
				"num_acc, smt, monitoring_status, energy, energy_footprint, footprint, meta_data, resources, "
				"statistics, array_job_id) FROM STDIN WITH (FREEZE)");
	bool copying = PQresultStatus(r) == PGRES_COPY_IN;
	if (!copying)
		log_err("-init-db: COPY: %s", PQresultErrorMessage(r));
	PQclear(r);
	if (!copying)
		goto rollback;

	/* scanners list the archive; the workers parse the jobs found so far
	 * and stream their rows */
	fprintf(out, "scanning and loading job archive %s ...\n", ar->location);
	fflush(out);
	st.t_scan0 = now_s();
	char err[512];
	st.units = archive_job_units(ar, &st.nunits, &st.bad_dirs, err, sizeof(err));
	if (!st.units) {
		fprintf(out, "%s\n", err);
		PQputCopyEnd(c, "no archive");
		while ((r = PQgetResult(c)))
			PQclear(r);
		goto rollback;
	}
	st.ukeys = xcalloc(st.nunits + 1, sizeof(*st.ukeys));
	st.scan_done = st.nunits == 0;
	/* threads beyond the cores: file reads wait on the disk when the
	 * archive is not in the page cache */
	if (nthreads < 4)
		nthreads = 4;
	if (nthreads > 64)
		nthreads = 64;
	int nscan = SCANNERS;
	pthread_t scan_th[SCANNERS], *th = xcalloc((size_t)nthreads, sizeof(pthread_t));
	double tload = now_s();
	atomic_store(&st.running, nthreads);
	for (int i = 0; i < nscan; i++)
		pthread_create(&scan_th[i], NULL, scanner, &st);
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker, &st);
	bool tty = isatty(fileno(out));
	while (tty && atomic_load(&st.running) > 0) {
		usleep(250000);
		size_t d = atomic_load(&st.done);
		pthread_mutex_lock(&st.qlock);
		size_t n = st.nkeys;
		bool all = st.scan_done;
		pthread_mutex_unlock(&st.qlock);
		double dt = now_s() - tload;
		if (all)
			fprintf(out, "\r  %zu / %zu jobs (%.0f%%), %.0f jobs/s   ", d, n, n ? 100.0 * (double)d / (double)n : 100.0,
				dt > 0 ? (double)d / dt : 0.0);
		else
			fprintf(out, "\r  %zu jobs of %zu found so far, %.0f jobs/s   ", d, n, dt > 0 ? (double)d / dt : 0.0);
		fflush(out);
	}
	for (int i = 0; i < nscan; i++)
		pthread_join(scan_th[i], NULL);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	free(th);
	if (tty)
		fprintf(out, "\r%60s\r", "");
	fprintf(out, "  %zu job directories in %zu clusters (listed in %.1f s)\n", st.nkeys, ar->nclusters, st.scan_s);
	if (st.copy_failed) {
		PQputCopyEnd(c, "a worker failed");
	} else if (PQputCopyEnd(c, NULL) != 1) {
		st.copy_failed = true;
	}
	r = PQgetResult(c);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(out, "loading the jobs failed: %s", PQresultErrorMessage(r));
		st.copy_failed = true;
	}
	PQclear(r);
	while ((r = PQgetResult(c)))
		PQclear(r);
	if (st.copy_failed)
		goto rollback;
	size_t loaded = st.nkeys - st.skipped;
	double tparsed = now_s();
	fprintf(out, "  %zu jobs loaded (%.1f s, %.0f jobs/s)\n", loaded, tparsed - tload,
		tparsed > tload ? (double)loaded / (tparsed - tload) : 0.0);
	double ttags = now_s();
	if (load_tags(&st, c, out, ttags) < 0)
		goto rollback;
	fprintf(out, "  building indexes ...\n");
	fflush(out);
	double tidx = now_s();
	size_t nplan = 0;
	while (plan[2 * nplan])
		nplan++;
	for (size_t i = nplan; i-- > 0;)
		if (exec(c, plan[2 * i + 1]) < 0)
			goto rollback;
	if (exec(c, "SELECT setval(pg_get_serial_sequence('job', 'id'), greatest(1, (SELECT max(id) FROM job)))") < 0 ||
	    exec(c, "COMMIT") < 0)
		goto out;
	double tan = now_s();
	exec(c, "ANALYZE job");
	double t1 = now_s();
	fprintf(out, "  indexes and keys %.1f s, ANALYZE %.1f s\n", tan - tidx, t1 - tan);
	fprintf(out, "init-db: %zu jobs in %.1f s (%.0f jobs/s), %zu skipped\n", loaded, t1 - t0,
		t1 > t0 ? (double)loaded / (t1 - t0) : 0.0, st.skipped + st.bad_dirs);
	if (st.bad_dirs)
		fprintf(out, "  %zu entries in the archive are not job directories\n", st.bad_dirs);
	for (size_t i = 0; i < st.nreasons; i++)
		fprintf(out, "  skipped %zu: %s (e.g. %s)\n", st.reasons[i].count, st.reasons[i].text, st.reasons[i].example);
	fprintf(out, "  the task runner computes the job-list previews from data.json in the background\n");
	rc = 0;
	goto out;
rollback:
	exec(c, "ROLLBACK");
	fprintf(out, "init-db failed; the database is unchanged\n");
out:
	archive_strv_free(plan);
	archive_strv_free(st.units);
	free(st.ukeys);
	for (size_t i = 0; i < st.nkeys; i++)
		free(st.keys[i]);
	free(st.keys);
	for (size_t i = 0; i < st.ntags; i++) {
		free(st.tags[i].type);
		free(st.tags[i].name);
	}
	free(st.tags);
	pthread_cond_destroy(&st.more);
	pthread_mutex_destroy(&st.qlock);
	pthread_mutex_destroy(&st.lock);
	return rc;
}

/* One meta.json:data.json pair into the archive and the database. */
static int import_one(struct archive *ar, const char *meta_path, const char *data_path, FILE *out)
{
	struct arena a;
	arena_init(&a, 64 * 1024);
	char err[1024];
	int rc = -1;
	size_t mlen, dlen;
	char *mtext = NULL, *dtext = NULL;
	struct jobdata *d = NULL;
	struct buf archived = BUF_INIT, preview = BUF_INIT;
	mtext = jsonio_read_file(meta_path, 64 * 1024 * 1024, &mlen, err, sizeof(err));
	if (!mtext)
		goto fail;
	dtext = jsonio_read_file(data_path, ARCHIVE_MAX_JSON, &dlen, err, sizeof(err));
	if (!dtext)
		goto fail;
	struct job j;
	char jerr[512];
	/* as cc-backend: the meta file is decoded strictly */
	if (job_parse(&a, mtext, mlen, JOB_STRICT, &j, jerr, sizeof(jerr)) < 0) {
		snprintf(err, sizeof(err), "%s: %s", meta_path, jerr);
		goto fail;
	}
	d = jobdata_decode(dtext, dlen, NULL, jerr, sizeof(jerr));
	if (!d) {
		snprintf(err, sizeof(err), "%s: %s", data_path, jerr);
		goto fail;
	}
	const struct archive_cluster *ac = j.cluster ? archive_cluster(ar, j.cluster) : NULL;
	if (!ac) {
		snprintf(err, sizeof(err), "%s: no such cluster: %s", meta_path, j.cluster ? j.cluster : "(none)");
		goto fail;
	}
	if (!j.user || !*j.user || j.nresources == 0) {
		snprintf(err, sizeof(err), "%s: 'resources' and 'user' should not be empty", meta_path);
		goto fail;
	}
	if (j.num_nodes != (int32_t)j.nresources) {
		snprintf(err, sizeof(err), "%s: len(resources) does not equal numNodes (%zu vs %d)", meta_path, j.nresources, j.num_nodes);
		goto fail;
	}
	const struct subcluster *sc = j.subcluster && *j.subcluster ? cluster_subcluster(ac->model, j.subcluster)
								    : cluster_subcluster_for_host(ac->model, j.resources[0].hostname);
	if (!sc) {
		snprintf(err, sizeof(err), "%s: no subcluster found for cluster %s and host %s", meta_path, j.cluster, j.resources[0].hostname);
		goto fail;
	}
	j.subcluster = sc->name;
	if (!j.project)
		j.project = "";
	if (!j.has_state)
		j.state = JOB_COMPLETED;
	if (!j.statistics) /* computed from the data, as the archiver does */
		j.statistics = arena_cleanup_add(&a, jsonio_put, jobdata_statistics_json(d, j.num_nodes));
	j.monitoring_status = 3;

	struct metric_stats *stats = NULL;
	size_t n = cluster_stats_from_json(j.statistics, &stats);
	struct cluster_footprint cf;
	subcluster_footprint(sc, stats, n, j.num_nodes, j.duration, &cf);
	struct json_object *fp = NULL, *efp = NULL;
	cluster_footprint_json(&cf, &fp, &efp);
	double energy = cf.energy_total;
	cluster_footprint_release(&cf);
	free(stats);
	arena_cleanup_add(&a, jsonio_put, fp);
	arena_cleanup_add(&a, jsonio_put, efp);
	jobdata_preview(d, NULL, JOBDATA_PREVIEW_POINTS, &preview);

	char key[1024];
	if (archive_job_key(j.cluster, j.job_id, j.start_time, key, sizeof(key)) < 0) {
		snprintf(err, sizeof(err), "%s: cluster, jobId or startTime cannot name an archive directory", meta_path);
		goto fail;
	}
	/* database first: a duplicate must not overwrite the archive */
	if (db_begin() < 0) {
		snprintf(err, sizeof(err), "no database");
		goto fail;
	}
	int64_t id;
	if (db_job_insert(&a, &j, fp, efp, energy, preview.len ? preview.data : NULL, &id) < 0) {
		snprintf(err, sizeof(err), "%s: %s", meta_path,
			 strcmp(db_last_sqlstate(), "23505") == 0 ? "a job with that jobId, cluster and startTime exists already" : db_last_error());
		db_rollback();
		goto fail;
	}
	if (db_job_add_tags(&a, id, &j) < 0) {
		snprintf(err, sizeof(err), "%s: adding tags failed: %s", meta_path, db_last_error());
		db_rollback();
		goto fail;
	}
	struct json_object *meta = arena_cleanup_add(&a, jsonio_put, job_to_json(&j, JOB_WITH_STATISTICS | JOB_WITH_META));
	struct buf mb = BUF_INIT;
	buf_adds(&mb, json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	buf_addch(&mb, '\n');
	bool gz;
	char aerr[512];
	int wrc = jobdata_encode_archive(d, &archived, &gz, aerr, sizeof(aerr));
	if (wrc == 0)
		wrc = archive_write_job(ar, key, mb.data, mb.len, archived.data, archived.len, gz, aerr, sizeof(aerr));
	buf_release(&mb);
	if (wrc < 0) {
		snprintf(err, sizeof(err), "writing the archive failed: %s", aerr);
		db_rollback();
		goto fail;
	}
	if (db_commit() < 0) {
		snprintf(err, sizeof(err), "commit failed: %s", db_last_error());
		goto fail;
	}
	fprintf(out, "imported job %lld on %s (id %lld) into %s\n", (long long)j.job_id, j.cluster, (long long)id, key);
	rc = 0;
	goto done;
fail:
	fprintf(out, "import failed: %s\n", err);
done:
	jobdata_free(d);
	free(mtext);
	free(dtext);
	buf_release(&archived);
	buf_release(&preview);
	arena_release(&a);
	return rc;
}

int importer_import_jobs(struct archive *ar, const char *spec, FILE *out)
{
	char *copy = xstrdup(spec), *save = NULL;
	int failed = 0, done = 0;
	for (char *pair = strtok_r(copy, ",", &save); pair; pair = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(pair, ':');
		if (!colon || colon == pair || !colon[1]) {
			fprintf(out, "import failed: \"%s\": expected meta.json:data.json\n", pair);
			failed++;
			continue;
		}
		*colon = '\0';
		if (import_one(ar, pair, colon + 1, out) < 0)
			failed++;
		else
			done++;
	}
	free(copy);
	fprintf(out, "import-job: %d imported, %d failed\n", done, failed);
	return failed ? -1 : 0;
}
