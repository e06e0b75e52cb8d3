#include "config.h"
#include "tasks.h"
#include "app.h"
#include "archive.h"
#include "archiver.h"
#include "arena.h"
#include "buf.h"
#include "db.h"
#include "dir.h"
#include "jobdata.h"
#include "log.h"
#include "ratelimit.h"
#include "session.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define SESSION_SWEEP_EVERY 600

static int take_lock(void)
{
	char key[24];
	snprintf(key, sizeof(key), "%d", TASKS_LOCK_KEY);
	const char *p[] = {key};
	PGresult *r = db_query_once(NULL, "SELECT pg_try_advisory_lock($1::bigint)", 1, p);
	if (!r)
		return -2; /* no database */
	int got = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return got ? 0 : -1;
}

/* ---- previews: the sparkline series of archived jobs that have none yet
 * (after -init-db, which reads only meta.json).  A cursor over the primary key
 * keeps each round cheap; "{}" marks a job without readable data. */

#define PREVIEW_BATCH 100

static int64_t preview_cursor;
static size_t preview_done;
static double preview_started, preview_busy;

static double now_s(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static const char sql_todo[] =
	"SELECT id, cluster, job_id, start_time FROM job WHERE id > $1::bigint AND preview IS NULL "
	"AND monitoring_status = 3 ORDER BY id LIMIT 100";
static const char sql_set[] = "UPDATE job SET preview = $2::json WHERE id = $1::bigint";

/* one batch; the number of jobs handled, or -1 */
static int preview_batch(void)
{
	struct arena a;
	arena_init(&a, 64 * 1024);
	char cur[24];
	snprintf(cur, sizeof(cur), "%lld", (long long)preview_cursor);
	const char *p[] = {cur};
	PGresult *r = db_query(&a, sql_todo, 1, p);
	if (!r) {
		arena_release(&a);
		return -1;
	}
	int n = PQntuples(r);
	double t0 = now_s();
	struct buf out = BUF_INIT;
	for (int i = 0; i < n; i++) {
		char key[1024], err[512];
		buf_reset(&out);
		if (archive_job_key(PQgetvalue(r, i, 1), atoll(PQgetvalue(r, i, 2)), atoll(PQgetvalue(r, i, 3)), key, sizeof(key)) == 0) {
			size_t len;
			char *raw = archive_read_data(the_app->archive, key, &len, err, sizeof(err));
			struct jobdata *d = raw ? jobdata_decode(raw, len, NULL, err, sizeof(err)) : NULL;
			free(raw);
			if (d)
				jobdata_preview(d, NULL, JOBDATA_PREVIEW_POINTS, &out);
			else
				log_debug("preview of %s: %s", key, err);
			jobdata_free(d);
		}
		const char *u[] = {PQgetvalue(r, i, 0), out.len ? out.data : "{}"};
		db_query(&a, sql_set, 2, u);
		preview_cursor = atoll(PQgetvalue(r, i, 0));
	}
	buf_release(&out);
	arena_release(&a);
	preview_busy += now_s() - t0;
	return n;
}

void tasks_run(volatile sig_atomic_t *stop)
{
	bool have_lock = false, told_waiting = false;
	time_t last_sweep = 0, preview_next = 0, ldap_next = 0;
	archiver_setup(stop);
	while (!*stop) {
		if (!have_lock) {
			int got = take_lock();
			have_lock = got == 0;
			if (have_lock) {
				log_info("task runner: holding the task lock; background tasks run here");
				archiver_reset();
				told_waiting = false;
			} else if (got == -1 && !told_waiting) {
				log_info("task runner: another process holds the task lock; standing by");
				told_waiting = true;
			}
		}
		if (have_lock) {
			/* a lost connection drops the advisory lock: take it again next round */
			if (!db_ping()) {
				have_lock = false;
			} else {
				if (time(NULL) - last_sweep >= SESSION_SWEEP_EVERY) {
					long n = session_sweep();
					if (n > 0)
						log_info("task runner: removed %ld expired sessions", n);
					ratelimit_sweep(); /* login attempts older than the window */
					last_sweep = time(NULL);
				}
				/* LDAP sync: when the lock is taken, then every auth.ldap.sync-interval */
				if (the_app->ldap && the_app->ldap->sync_interval > 0 && time(NULL) >= ldap_next) {
					dir_sync_logged(the_app->ldap);
					ldap_next = time(NULL) + the_app->ldap->sync_interval;
				}
				/* archiving queue and periodic job tasks (archiver.h) */
				if (archiver_tick() > 0)
					continue; /* more queued jobs may wait: no pause */
				if (time(NULL) >= preview_next) {
					int n = preview_batch();
					if (n > 0) {
						if (!preview_done)
							preview_started = now_s();
						preview_done += (size_t)n;
						continue; /* more may wait: no pause */
					}
					if (preview_done) {
						log_info("task runner: job-list previews for %zu jobs in %.1f s (%.0f jobs/s)",
							 preview_done, now_s() - preview_started,
							 preview_busy > 0 ? (double)preview_done / preview_busy : 0.0);
						preview_done = 0;
						preview_busy = 0;
					}
					/* nothing left: look again from the start in a minute */
					preview_cursor = 0;
					preview_next = time(NULL) + 60;
				}
			}
		}
		for (int i = 0; i < 10 && !*stop; i++)
			usleep(100000);
	}
}
