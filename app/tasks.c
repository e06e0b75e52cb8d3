#include "config.h"
#include "tasks.h"
#include "db.h"
#include "log.h"
#include "session.h"

#include <stdbool.h>
#include <stdio.h>
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
		return -1;
	int got = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return got ? 0 : -1;
}

void tasks_run(volatile sig_atomic_t *stop)
{
	bool have_lock = false;
	time_t last_sweep = 0;
	while (!*stop) {
		if (!have_lock) {
			have_lock = take_lock() == 0;
			if (have_lock)
				log_info("task runner: holding the task lock; background tasks run here");
		}
		if (have_lock) {
			/* a lost connection drops the advisory lock: take it again next round */
			if (!db_ping()) {
				have_lock = false;
			} else if (time(NULL) - last_sweep >= SESSION_SWEEP_EVERY) {
				long n = session_sweep();
				if (n > 0)
					log_info("task runner: removed %ld expired sessions", n);
				last_sweep = time(NULL);
			}
		}
		for (int i = 0; i < 10 && !*stop; i++)
			usleep(100000);
	}
}
