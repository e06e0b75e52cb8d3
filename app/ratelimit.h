/* ratelimit: the login rate limit, shared by every worker and host through
 * PostgreSQL's login_attempt table (COMPAT f; sql/001_init.up.sql explains the
 * table).
 *
 * A token bucket per (client address, username): burst RATELIMIT_BURST, one
 * token back every RATELIMIT_REFILL_SECONDS, i.e. 5 attempts per 15 minutes.
 * Every attempt takes a token before the password is looked at, in one atomic
 * statement; when there is none the attempt is refused unseen.  A successful
 * login gives its token back, so the limit counts failures only (cc-backend
 * counts successes too; refusing a user who keeps typing the right password
 * protects nothing). */
#ifndef JOBSCOPE_RATELIMIT_H
#define JOBSCOPE_RATELIMIT_H

struct arena;

#define RATELIMIT_BURST 5
#define RATELIMIT_REFILL_SECONDS 180

enum ratelimit_result { RATELIMIT_OK, RATELIMIT_LIMITED, RATELIMIT_ERROR };

/* Take a token for an attempt.  LIMITED sets *retry_minutes (>= 1): when the
 * next attempt will be let through.  ERROR: the database did not answer. */
enum ratelimit_result ratelimit_login_take(struct arena *a, const char *addr, const char *username,
					   int *retry_minutes);
/* Give the token of a successful attempt back. */
void ratelimit_login_refund(struct arena *a, const char *addr, const char *username);
/* Drop rows that have refilled completely (older than 15 minutes); number or -1. */
long ratelimit_sweep(void);

#endif
