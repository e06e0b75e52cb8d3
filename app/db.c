#include "config.h"
#include "db.h"
#include "arena.h"
#include "log.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_MAX_PREPARED 256

static char *conninfo;
static PGconn *conn;
static const char *prepared[DB_MAX_PREPARED]; /* SQL text pointers; index = statement name */
static char *prepared_text[DB_MAX_PREPARED];   /* what they pointed to when prepared */
static int nprepared;
static char last_state[6];
static char last_error[512];

void db_setup(const char *ci)
{
	free(conninfo);
	conninfo = xstrdup(ci ? ci : "");
}

static struct {
	char *sql; /* NULL: free slot */
	unsigned long used;
} texts[DB_MAX_TEXTS];
static unsigned long texts_clock;

static void forget_prepared(void)
{
	for (int i = 0; i < nprepared; i++) {
		free(prepared_text[i]);
		prepared_text[i] = NULL;
	}
	nprepared = 0;
	for (size_t i = 0; i < DB_MAX_TEXTS; i++) {
		free(texts[i].sql);
		texts[i].sql = NULL;
	}
}

static void notice_quiet(void *arg, const char *msg)
{
	(void)arg;
	log_debug("postgres: %.*s", (int)strcspn(msg, "\n"), msg);
}

PGconn *db_conn(void)
{
	if (conn && PQstatus(conn) == CONNECTION_OK)
		return conn;
	if (conn) {
		log_warn("database connection lost; reconnecting");
		PQreset(conn);
		forget_prepared();
		if (PQstatus(conn) == CONNECTION_OK)
			return conn;
		PQfinish(conn);
		conn = NULL;
	}
	conn = PQconnectdb(conninfo ? conninfo : "");
	if (PQstatus(conn) != CONNECTION_OK) {
		snprintf(last_error, sizeof(last_error), "%s", PQerrorMessage(conn));
		last_error[strcspn(last_error, "\n")] = '\0';
		log_err("cannot connect to PostgreSQL: %s", last_error);
		PQfinish(conn);
		conn = NULL;
		return NULL;
	}
	PQsetNoticeProcessor(conn, notice_quiet, NULL);
	forget_prepared();
	return conn;
}

void db_close(void)
{
	if (conn)
		PQfinish(conn);
	conn = NULL;
	forget_prepared();
	free(conninfo);
	conninfo = NULL;
}

static void pqclear(void *p)
{
	PQclear(p);
}

static PGresult *check(struct arena *a, PGresult *res, const char *sql)
{
	ExecStatusType st = PQresultStatus(res);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK || st == PGRES_COPY_IN) {
		last_state[0] = '\0';
		return a ? arena_cleanup_add(a, pqclear, res) : res;
	}
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	snprintf(last_state, sizeof(last_state), "%s", state ? state : "");
	snprintf(last_error, sizeof(last_error), "%s",
		 res ? PQresultErrorMessage(res) : (conn ? PQerrorMessage(conn) : "no connection"));
	last_error[strcspn(last_error, "\n")] = '\0';
	/* unique violations are expected (duplicates); the caller decides how loud */
	if (strcmp(last_state, "23505") != 0)
		log_err("sql failed (%s): %s [%.60s]", last_state, last_error, sql);
	PQclear(res);
	return NULL;
}

PGresult *db_query_once(struct arena *a, const char *sql, int n, const char *const *params)
{
	PGconn *c = db_conn();
	if (!c) {
		snprintf(last_state, sizeof(last_state), "08006");
		return NULL;
	}
	return check(a, PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0), sql);
}

/* The statement's index among the prepared ones, preparing it on first use;
 * -1 when the table is full (run unprepared), -2 on failure: *err is the
 * failed result, or NULL when the connection broke and a retry may help. */
static int prepare(PGconn *c, const char *sql, int n, PGresult **err)
{
	for (int i = 0; i < nprepared; i++)
		if (prepared[i] == sql) {
			if (strcmp(prepared_text[i], sql) == 0)
				return i;
			/* the same address, another text: SQL built at run time was
			 * passed in (a bug; db_query_text is for that). Run it
			 * unprepared rather than as the wrong statement. */
			log_err("db_query: the SQL at one address changed (use db_query_text): %.80s", sql);
			return -1;
		}
	if (nprepared >= DB_MAX_PREPARED)
		return -1;
	char name[16];
	snprintf(name, sizeof(name), "s%d", nprepared);
	PGresult *pr = PQprepare(c, name, sql, n, NULL);
	if (PQresultStatus(pr) != PGRES_COMMAND_OK) {
		if (PQstatus(c) != CONNECTION_OK) {
			PQclear(pr);
			pr = NULL;
		}
		*err = pr;
		return -2;
	}
	PQclear(pr);
	prepared[nprepared] = sql;
	prepared_text[nprepared] = xstrdup(sql);
	return nprepared++;
}

PGresult *db_query(struct arena *a, const char *sql, int n, const char *const *params)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		PGconn *c = db_conn();
		if (!c) {
			snprintf(last_state, sizeof(last_state), "08006");
			return NULL;
		}
		PGresult *perr = NULL;
		int idx = prepare(c, sql, n, &perr);
		if (idx == -2) {
			if (!perr && attempt == 0)
				continue; /* the connection broke: reconnect once */
			return check(a, perr, sql);
		}
		PGresult *res;
		if (idx < 0) {
			res = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
		} else {
			char name[16];
			snprintf(name, sizeof(name), "s%d", idx);
			res = PQexecPrepared(c, name, n, params, NULL, NULL, 0);
		}
		if (!res || (PQresultStatus(res) == PGRES_FATAL_ERROR && PQstatus(c) != CONNECTION_OK &&
			     attempt == 0 && PQtransactionStatus(c) != PQTRANS_INERROR)) {
			PQclear(res);
			continue;
		}
		return check(a, res, sql);
	}
	return NULL;
}

PGresult *db_query_text(struct arena *a, const char *sql, int n, const char *const *params)
{
	PGconn *c = db_conn();
	if (!c) {
		snprintf(last_state, sizeof(last_state), "08006");
		return NULL;
	}
	size_t slot = DB_MAX_TEXTS, oldest = 0;
	for (size_t i = 0; i < DB_MAX_TEXTS; i++) {
		if (texts[i].sql && strcmp(texts[i].sql, sql) == 0) {
			slot = i;
			break;
		}
		if (!texts[i].sql || (texts[oldest].sql && texts[i].used < texts[oldest].used))
			oldest = i;
	}
	char name[32];
	if (slot == DB_MAX_TEXTS) {
		slot = oldest;
		snprintf(name, sizeof(name), "t%zu", slot);
		if (texts[slot].sql) {
			free(texts[slot].sql);
			texts[slot].sql = NULL;
			char dealloc[48];
			snprintf(dealloc, sizeof(dealloc), "DEALLOCATE %s", name);
			PQclear(PQexec(c, dealloc));
		}
		PGresult *pr = PQprepare(c, name, sql, n, NULL);
		if (PQresultStatus(pr) != PGRES_COMMAND_OK)
			return check(a, pr, sql);
		PQclear(pr);
		texts[slot].sql = xstrdup(sql);
	}
	snprintf(name, sizeof(name), "t%zu", slot);
	texts[slot].used = ++texts_clock;
	return check(a, PQexecPrepared(c, name, n, params, NULL, NULL, 0), sql);
}

/* Reads the results of n statements and the sync; 0, -1 when a statement
 * failed (the transaction rolled back), -2 when the connection broke before
 * any statement answered. */
static int pipeline_results(struct arena *a, PGconn *c, struct db_stmt *s, int n)
{
	int rc = 0;
	bool answered = false;
	for (int i = 0; i < n; i++) {
		PGresult *res = PQgetResult(c);
		if (!res || PQstatus(c) != CONNECTION_OK) {
			if (!answered) {
				PQclear(res);
				return -2;
			}
			if (rc == 0) {
				(void)check(a, res, s[i].sql);
				rc = -1;
			} else {
				PQclear(res);
			}
			return rc;
		}
		if (PQresultStatus(res) == PGRES_PIPELINE_ABORTED) {
			PQclear(res); /* skipped after an earlier failure */
		} else {
			answered = true;
			s[i].res = check(a, res, s[i].sql);
			if (!s[i].res)
				rc = -1;
		}
		while ((res = PQgetResult(c)) != NULL) /* up to the NULL that ends this statement */
			PQclear(res);
	}
	PGresult *sync = PQgetResult(c); /* PGRES_PIPELINE_SYNC: committed unless one failed */
	if (PQresultStatus(sync) != PGRES_PIPELINE_SYNC) {
		if (rc == 0) {
			(void)check(NULL, sync, "pipeline sync");
			return -1;
		}
		PQclear(sync);
		return rc;
	}
	PQclear(sync);
	return rc;
}

static void drop_connection(void)
{
	PQfinish(conn);
	conn = NULL;
	forget_prepared();
}

int db_pipeline(struct arena *a, struct db_stmt *s, int n)
{
	if (n < 1 || n > DB_PIPELINE_MAX)
		return -1;
	for (int attempt = 0; attempt < 2; attempt++) {
		PGconn *c = db_conn();
		if (!c) {
			snprintf(last_state, sizeof(last_state), "08006");
			return -1;
		}
		/* inside the caller's transaction a new connection would lose it: no retry */
		if (PQtransactionStatus(c) != PQTRANS_IDLE)
			attempt = 1;
		int idx[DB_PIPELINE_MAX];
		bool broke = false;
		for (int i = 0; i < n; i++) {
			s[i].res = NULL;
			PGresult *perr = NULL;
			idx[i] = prepare(c, s[i].sql, s[i].nparams, &perr);
			if (idx[i] == -2) {
				if (perr || attempt > 0) {
					(void)check(a, perr, s[i].sql);
					return -1;
				}
				broke = true;
				break;
			}
		}
		if (broke)
			continue; /* the connection broke: reconnect once */
		if (!PQenterPipelineMode(c)) {
			(void)check(a, NULL, "enter pipeline mode");
			return -1;
		}
		bool sent = true;
		for (int i = 0; i < n && sent; i++) {
			if (idx[i] < 0) {
				sent = PQsendQueryParams(c, s[i].sql, s[i].nparams, NULL, s[i].params, NULL, NULL, 0) == 1;
			} else {
				char name[16];
				snprintf(name, sizeof(name), "s%d", idx[i]);
				sent = PQsendQueryPrepared(c, name, s[i].nparams, s[i].params, NULL, NULL, 0) == 1;
			}
		}
		int rc = sent && PQpipelineSync(c) == 1 ? pipeline_results(a, c, s, n) : -2;
		if (rc == -2 && attempt > 0)
			(void)check(NULL, NULL, "pipeline"); /* last_error: the connection's message */
		if (PQstatus(c) != CONNECTION_OK || !PQexitPipelineMode(c)) {
			/* broken, or results left over: start afresh with a new connection */
			if (PQstatus(c) == CONNECTION_OK)
				log_err("leaving pipeline mode failed: %s", PQerrorMessage(c));
			drop_connection();
			if (rc == 0)
				rc = -1;
		}
		if (rc == -2 && attempt == 0)
			continue; /* the connection broke before anything ran: reconnect once */
		return rc < 0 ? -1 : 0;
	}
	return -1;
}

const char *db_last_sqlstate(void) { return last_state; }
const char *db_last_error(void) { return last_error; }

bool db_ping(void)
{
	PGconn *c = db_conn();
	if (!c)
		return false;
	PGresult *r = PQexec(c, "SELECT 1");
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
	PQclear(r);
	if (!ok && PQstatus(c) != CONNECTION_OK) {
		c = db_conn();
		if (!c)
			return false;
		r = PQexec(c, "SELECT 1");
		ok = PQresultStatus(r) == PGRES_TUPLES_OK;
		PQclear(r);
	}
	return ok;
}

static int simple(const char *sql)
{
	PGconn *c = db_conn();
	if (!c)
		return -1;
	PGresult *r = PQexec(c, sql);
	int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
	if (rc < 0)
		log_err("%s failed: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	return rc;
}

int db_begin(void) { return simple("BEGIN"); }
int db_commit(void) { return simple("COMMIT"); }
void db_rollback(void) { (void)simple("ROLLBACK"); }
