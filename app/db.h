/* db: this process's PostgreSQL connection.
 *
 * One connection per worker, opened lazily after fork and reset when it
 * breaks.  Queries are parameterised only: db_query prepares each distinct SQL
 * text once per connection (keyed by the string's address, so pass static
 * string constants; SQL built at run time goes to db_query_text, and a text
 * that changed at a known address runs unprepared, logged as the bug it is)
 * and registers the PGresult in the request arena. */
#ifndef JOBSCOPE_DB_H
#define JOBSCOPE_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

struct arena;

/* Remember the conninfo ("" = PG* environment); connects on first use. */
void db_setup(const char *conninfo);
/* The connection, (re)connected if needed; NULL when the server does not answer. */
PGconn *db_conn(void);
void db_close(void);
/* Run a parameterised statement; NULL on failure (logged with the SQLSTATE).
 * Text parameters; a NULL entry is SQL NULL. */
PGresult *db_query(struct arena *a, const char *sql, int nparams, const char *const *params);
/* The same for SQL built at run time (filters): prepared once per distinct
 * text, keeping the DB_MAX_TEXTS most recently used per connection (the
 * least recently used is deallocated), so a repeated query is neither
 * parsed nor, once PostgreSQL settles on a generic plan, planned again. */
#define DB_MAX_TEXTS 64
PGresult *db_query_text(struct arena *a, const char *sql, int nparams, const char *const *params);
/* The same without preparing (for one-off statements such as migrations). */
PGresult *db_query_once(struct arena *a, const char *sql, int nparams, const char *const *params);
/* Statements sent together in one round trip (libpq pipeline mode) and run
 * as one transaction, committed at the end: when one fails, the rest are
 * skipped and nothing is committed.  Each statement gets its own snapshot
 * (READ COMMITTED), so a statement sees what committed while an earlier one
 * waited for a lock.  0 with every res set (registered in the arena), or -1
 * with db_last_sqlstate/db_last_error of the failure and res set for the
 * statements that ran before it.  When the connection is found broken before
 * any statement answered, it reconnects and sends them again once: with a
 * broken connection a commit cannot be ruled out, so the statements must give
 * a sensible answer when run twice.  At most DB_PIPELINE_MAX statements. */
#define DB_PIPELINE_MAX 8
struct db_stmt {
	const char *sql; /* a static string constant, as for db_query */
	int nparams;
	const char *const *params;
	PGresult *res;
};
int db_pipeline(struct arena *a, struct db_stmt *s, int n);
/* SQLSTATE of the last failed statement ("" if none), e.g. "23505" unique violation. */
const char *db_last_sqlstate(void);
const char *db_last_error(void);
bool db_ping(void);
/* BEGIN / COMMIT / ROLLBACK on this connection; -1 on failure. */
int db_begin(void);
int db_commit(void);
void db_rollback(void);

#endif
