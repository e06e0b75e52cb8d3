#include "config.h"
#include "ratelimit.h"
#include "arena.h"
#include "crypto.h"
#include "db.h"
#include "log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)
#define BURST STR(RATELIMIT_BURST)
#define REFILL STR(RATELIMIT_REFILL_SECONDS)

/* the statement of 001_init.up.sql: no row back means "no token left" */
static const char sql_take[] =
	"INSERT INTO login_attempt AS a (addr, username, tokens, updated) "
	"VALUES ($1, $2, " BURST " - 1, now()) "
	"ON CONFLICT (addr, username) DO UPDATE "
	"SET tokens = least(" BURST ", a.tokens + extract(epoch FROM now() - a.updated) / " REFILL ") - 1, "
	"updated = now() "
	"WHERE least(" BURST ", a.tokens + extract(epoch FROM now() - a.updated) / " REFILL ") >= 1 "
	"RETURNING tokens";
/* seconds until the bucket holds one token again */
static const char sql_wait[] =
	"SELECT greatest(0, (1 - least(" BURST ", tokens + extract(epoch FROM now() - updated) / " REFILL ")) * " REFILL ") "
	"FROM login_attempt WHERE addr = $1 AND username = $2";
static const char sql_refund[] =
	"UPDATE login_attempt SET tokens = least(" BURST ", tokens + 1) WHERE addr = $1 AND username = $2";
static const char sql_sweep[] =
	"DELETE FROM login_attempt WHERE updated < now() - make_interval(secs => " BURST " * " REFILL ")";

#define ADDR_MAX 64 /* an IPv6 address with a zone fits; longer is no address nginx passes */

static const char *addr_key(struct arena *a, const char *addr)
{
	if (!addr)
		return "";
	return arena_strndup(a, addr, strnlen(addr, ADDR_MAX));
}

enum ratelimit_result ratelimit_login_take(struct arena *a, const char *addr, const char *username,
					   int *retry_minutes)
{
	const char *p[] = {addr_key(a, addr), username};
	/* now and then, the rows that have refilled go (the table stays small without a task) */
	unsigned char coin;
	if (crypto_random(&coin, 1) == 0 && coin < 4)
		ratelimit_sweep();
	PGresult *res = db_query(a, sql_take, 2, p);
	if (!res)
		return RATELIMIT_ERROR;
	if (PQntuples(res) == 1)
		return RATELIMIT_OK;
	res = db_query(a, sql_wait, 2, p);
	double secs = res && PQntuples(res) == 1 ? atof(PQgetvalue(res, 0, 0)) : RATELIMIT_REFILL_SECONDS;
	int m = (int)ceil(secs / 60.0);
	*retry_minutes = m < 1 ? 1 : m;
	return RATELIMIT_LIMITED;
}

void ratelimit_login_refund(struct arena *a, const char *addr, const char *username)
{
	const char *p[] = {addr_key(a, addr), username};
	if (!db_query(a, sql_refund, 2, p))
		log_warn("login rate limit: could not give the token of a successful login back");
}

long ratelimit_sweep(void)
{
	PGresult *res = db_query_once(NULL, sql_sweep, 0, NULL);
	if (!res)
		return -1;
	long n = atol(PQcmdTuples(res));
	PQclear(res);
	return n;
}
