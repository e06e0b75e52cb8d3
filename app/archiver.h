/* archiver: the task runner's job work (COMPAT c, h).
 *
 * Archiving.  stop_job puts the job's id into archive_queue in the same
 * transaction as the stop.  The task runner (the one process holding the task
 * lock) takes the oldest due row with FOR UPDATE SKIP LOCKED and counts the
 * attempt in the same statement, then works without any open transaction:
 * it loads the job's metrics (node scope; core when numNodes <= 8;
 * accelerator when numAcc > 0) from the repository the cluster routes to,
 * computes statistics, footprint, energy and the job-list preview, writes
 * meta.json and data.json(.gz) into the archive (replacing files is
 * idempotent), and finishes with ONE statement that deletes the queue row —
 * only if the attempt count is still its own — and updates the job
 * (statistics, footprint, energy, energy_footprint, preview,
 * monitoring_status 3, archive_error NULL).
 *  - A runner killed midway leaves the row due: its successor (after the
 *    master restarts it, or another host that takes the lock) archives the job
 *    at once.  The attempt was counted, so a job that kills the runner every
 *    time ends after ARCHIVER_MAX_ATTEMPTS.
 *  - A failure of the repository (HTTP error, timeout, bad answer) or of the
 *    archive stores last_error and retries after ARCHIVER_BACKOFF * 2^(n-1)
 *    seconds; after ARCHIVER_MAX_ATTEMPTS the row goes and the job gets
 *    monitoring_status 2 with archive_error = the reason.
 *  - A job that cannot have data (no repository configured for its cluster,
 *    cluster or subcluster unknown, no hosts) gets status 2 at once.
 *
 * Periodic tasks (intervals from the "cron" section):
 *  - durations of running jobs, every duration-worker (default 5m);
 *  - footprints (and energy) of running jobs older than 600 s from the
 *    repositories' statistics, every footprint-worker (default 10m),
 *    written in one transaction per cluster;
 *  - main.stop-jobs-exceeding-walltime (seconds, 0 = off): running jobs with
 *    walltime > 0 and start_time < now - X - walltime become "failed" with
 *    duration 0 and monitoring_status 2, when the lock is taken and then daily
 *    at 03:00 local time. */
#ifndef JOBSCOPE_ARCHIVER_H
#define JOBSCOPE_ARCHIVER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define ARCHIVER_MAX_ATTEMPTS 5
#define ARCHIVER_BACKOFF 30          /* seconds before the second attempt; doubles */
#define ARCHIVER_FOOTPRINT_MIN_AGE 600

struct arena;
struct job;

/* Remember the task runner's stop flag (aborts metric transfers on SIGTERM). */
void archiver_setup(volatile sig_atomic_t *stop);
/* Called by the task runner on every round while it holds the lock: runs
 * what is due.  1 when a queued job was handled and more may wait (call
 * again without a pause), else 0. */
int archiver_tick(void);
/* Forget the schedule (the lock was lost: everything is due again when it
 * is taken). */
void archiver_reset(void);

/* Archive the oldest due queued job.  1 one was handled (archived, retried
 * later or given up), 0 none is due, -1 database failure. */
int archiver_archive_next(void);
/* The periodic tasks; the number of jobs changed, or -1. */
long archiver_update_durations(void);
long archiver_update_footprints(void);
long archiver_stop_exceeding_walltime(int64_t grace);

/* A job row as the Job object (meta.json fields and its tags), in arena
 * memory.  1 found, 0 no such job, -1 database error (err says). */
int archiver_load_job(struct arena *a, int64_t id, struct job *out, char *err, size_t errlen);

#endif
