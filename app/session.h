/* session: login sessions in PostgreSQL and CSRF tokens.
 *
 * The cookie "session" holds 32 random bytes (base64url); the database keeps
 * only their SHA-256, so a copy of the database does not log anybody in.
 * CSRF tokens are HMAC-SHA256(SESSION_KEY, purpose || secret): for a logged-in
 * user the secret is the session id, before login it is a random
 * "jobscope_csrf" cookie.  Tokens need no storage and cannot be derived
 * without both the HttpOnly cookie and the server key. */
#ifndef JOBSCOPE_SESSION_H
#define JOBSCOPE_SESSION_H

#include <stdbool.h>

struct arena;
struct req;
struct resp;

#define SESSION_COOKIE "session"
#define CSRF_COOKIE "jobscope_csrf"

/* Look the session cookie up; sets r->user and r->session_id when it is live. 0, or -1 on a database error. */
int session_load(struct req *r);
/* New session for username (fresh id every login); sets the cookie. */
int session_create(struct req *r, struct resp *w, const char *username);
/* End the current session (database row and cookie). */
void session_destroy(struct req *r, struct resp *w);
/* End every session of username (roles taken away, user disabled); number ended or -1. */
long session_end_user(struct arena *a, const char *username);
/* The token a form on this page must carry; sets the pre-login cookie if needed. */
const char *csrf_token(struct req *r, struct resp *w);
/* Check the request's CSRF token for this session; constant time.  The token is
 * the form field csrf_token (urlencoded or multipart/form-data), else the
 * X-CSRF-Token header (script calls of our own pages). */
bool csrf_valid(struct req *r);
/* Remove expired sessions; number removed or -1. */
long session_sweep(void);

#endif
