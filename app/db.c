#include "config.h"
#include "db.h"
#include "arena.h"
#include "log.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_MAX_PREPARED 256

static char *conninfo;
static PGconn *conn;
static const char *prepared[DB_MAX_PREPARED]; /* SQL text pointers; index = statement name */
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

PGresult *db_query(struct arena *a, const char *sql, int n, const char *const *params)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		PGconn *c = db_conn();
		if (!c) {
			snprintf(last_state, sizeof(last_state), "08006");
			return NULL;
		}
		int idx = -1;
		for (int i = 0; i < nprepared; i++)
			if (prepared[i] == sql) {
				idx = i;
				break;
			}
		char name[16];
		if (idx < 0 && nprepared < DB_MAX_PREPARED) {
			snprintf(name, sizeof(name), "s%d", nprepared);
			PGresult *pr = PQprepare(c, name, sql, n, NULL);
			if (PQresultStatus(pr) != PGRES_COMMAND_OK) {
				if (PQstatus(c) != CONNECTION_OK && attempt == 0) {
					PQclear(pr);
					continue; /* the connection broke: reconnect once */
				}
				return check(a, pr, sql);
			}
			PQclear(pr);
			idx = nprepared;
			prepared[nprepared++] = sql;
		}
		PGresult *res;
		if (idx < 0) {
			res = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
		} else {
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
