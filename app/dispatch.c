#include "config.h"
#include "dispatch.h"
#include "app.h"
#include "arena.h"
#include "auth.h"
#include "buf.h"
#include "conf.h"
#include "crypto.h"
#include "log.h"
#include "page.h"
#include "resp.h"
#include "router.h"
#include "session.h"
#include "str.h"
#include "token.h"
#include "db.h"
#include "xalloc.h"
#include "../handlers/handlers.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static bool unsafe_method(enum method m)
{
	return !(m & (M_GET | M_HEAD | M_OPTIONS));
}

static void allow_header(struct resp *w, unsigned allowed)
{
	struct buf b;
	buf_init_arena(&b, w->a);
	for (unsigned bit = 1; bit < M_OTHER; bit <<= 1) {
		if (!(allowed & bit))
			continue;
		if (b.len)
			buf_adds(&b, ", ");
		buf_adds(&b, method_name((enum method)bit));
	}
	resp_header(w, "Allow", b.data);
}

/* The API token: X-Auth-Token (any letter case) or Authorization: Bearer. */
static const char *api_token(struct req *r)
{
	const char *t = req_header(r, "X-Auth-Token");
	if (t && *t)
		return t;
	const char *h = req_header(r, "Authorization");
	if (h && strncasecmp(h, "Bearer ", 7) == 0)
		return h + 7;
	return NULL;
}

/* COMPAT a.1: the client address the allow-list compares, as cc-backend picks it */
static const char *client_ip(struct req *r)
{
	const char *ip = req_header(r, "X-Real-Ip");
	if (!ip || !*ip)
		ip = req_header(r, "X-Forwarded-For");
	if (!ip || !*ip)
		ip = r->remote_addr;
	return ip;
}

static bool ip_allowed(const char *ip)
{
	char **list = the_app->conf->api_allowed_ips;
	if (!list)
		return true;
	for (; *list; list++)
		if (strcmp(*list, ip) == 0)
			return true;
	return false;
}

/* the role gates of the API groups (COMPAT a.1), quirks included */
static bool api_roles_pass(enum route_auth kind, unsigned roles)
{
	if (roles == ROLE_API)
		return true;
	if (!(roles & ROLE_API))
		return false;
	switch (kind) {
	case AUTH_API: return (roles & ROLE_ADMIN) != 0;
	case AUTH_METRICSTORE: return (roles & (ROLE_USER | ROLE_MANAGER | ROLE_ADMIN)) != 0;
	case AUTH_USERAPI: return (roles & (ROLE_USER | ROLE_MANAGER | ROLE_SUPPORT | ROLE_ADMIN)) != 0;
	default: return false;
	}
}

static const char sql_user_roles[] =
	"SELECT array_to_string(roles, ','), coalesce(array_to_json(projects)::text, '[]'), coalesce(name, ''), auth_source "
	"FROM hpc_user WHERE username = $1";

/* Per worker, the API tokens verified in the last TOKEN_CACHE_TTL_MS: a batch
 * system's adapter sends the same token with every request, and checking its
 * Ed25519 signature (and, with validate-user, reading the user's row) costs
 * more than the rest of a start_job request.  The key is the SHA-256 of the
 * token; an entry holds what authentication found (user, roles, projects) and
 * serves until the token expires or the TTL ends, whichever comes first.  The
 * TTL bounds how long a deleted user or a changed role keeps its old access
 * through the API: one second, as the database cannot tell the workers.
 * Failures are never cached.  Direct-mapped, TOKEN_CACHE_SLOTS entries. */
#define TOKEN_CACHE_SLOTS 64
#define TOKEN_CACHE_TTL_MS 1000

struct token_cache_entry {
	unsigned char key[SHA256_LEN];
	bool used;
	int64_t until_ms;  /* CLOCK_MONOTONIC */
	bool has_exp;
	int64_t exp;       /* the token's exp, wall-clock seconds */
	unsigned roles;
	char *username, *name;
	char **projects;   /* NULL-terminated */
};

static struct token_cache_entry token_cache[TOKEN_CACHE_SLOTS];

static int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void token_cache_clear(struct token_cache_entry *e)
{
	free(e->username);
	free(e->name);
	if (e->projects)
		for (char **p = e->projects; *p; p++)
			free(*p);
	free(e->projects);
	memset(e, 0, sizeof(*e));
}

static struct token_cache_entry *token_cache_slot(const unsigned char key[SHA256_LEN])
{
	return &token_cache[key[0] % TOKEN_CACHE_SLOTS];
}

/* the cached user of this token, in the request's arena, or NULL */
static struct user *token_cache_get(struct req *r, const unsigned char key[SHA256_LEN])
{
	struct token_cache_entry *e = token_cache_slot(key);
	if (!e->used || CRYPTO_memcmp(e->key, key, SHA256_LEN) != 0)
		return NULL;
	if (monotonic_ms() >= e->until_ms || (e->has_exp && (int64_t)time(NULL) >= e->exp)) {
		token_cache_clear(e);
		return NULL;
	}
	struct user *u = arena_calloc(r->a, 1, sizeof(*u));
	u->username = arena_strdup(r->a, e->username);
	u->name = arena_strdup(r->a, e->name);
	u->email = "";
	u->auth_source = AUTH_SOURCE_TOKEN;
	u->roles = e->roles;
	size_t n = 0;
	while (e->projects[n])
		n++;
	u->projects = arena_calloc(r->a, n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		u->projects[i] = arena_strdup(r->a, e->projects[i]);
	return u;
}

static void token_cache_put(const unsigned char key[SHA256_LEN], const struct token_claims *c, const struct user *u)
{
	struct token_cache_entry *e = token_cache_slot(key);
	token_cache_clear(e);
	memcpy(e->key, key, SHA256_LEN);
	e->until_ms = monotonic_ms() + TOKEN_CACHE_TTL_MS;
	e->has_exp = c->has_exp;
	e->exp = c->exp;
	e->roles = u->roles;
	e->username = xstrdup(u->username);
	e->name = xstrdup(u->name ? u->name : "");
	size_t n = 0;
	while (u->projects[n])
		n++;
	e->projects = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		e->projects[i] = xstrdup(u->projects[i]);
	e->used = true;
}

/* JWT authentication of the API groups; 0 or a status with w->error set */
static int authenticate_token(struct req *r, struct resp *w, enum route_auth kind)
{
	if (kind == AUTH_API) {
		const char *ip = client_ip(r);
		if (!ip_allowed(ip)) {
			w->error = arena_printf(r->a, "unknown ip: %.64s", ip);
			return 401;
		}
	}
	const char *jwt = api_token(r);
	if (!jwt) {
		w->error = "no user for secured check";
		return 401;
	}
	unsigned char key[SHA256_LEN];
	crypto_sha256(jwt, strlen(jwt), key);
	struct user *cached = token_cache_get(r, key);
	if (cached) {
		if (!api_roles_pass(kind, cached->roles)) {
			w->error = "unauthorized";
			return 401;
		}
		r->user = cached;
		return 0;
	}
	struct token_claims c;
	char err[256];
	if (token_verify_api(the_app->tokens, jwt, (int64_t)time(NULL), &c, err, sizeof(err)) < 0) {
		w->error = arena_strdup(r->a, err);
		return 401;
	}
	struct user *u = arena_calloc(r->a, 1, sizeof(*u));
	u->username = arena_strdup(r->a, c.sub);
	u->name = u->email = "";
	u->auth_source = AUTH_SOURCE_TOKEN;
	if (the_app->validate_user) {
		/* the database decides who the user is and which roles they have */
		const char *p[] = {u->username};
		PGresult *res = db_query(r->a, sql_user_roles, 1, p);
		if (!res || PQntuples(res) != 1 || roles_parse_list(PQgetvalue(res, 0, 0), &u->roles) < 0) {
			token_claims_release(&c);
			w->error = res ? "unauthorized" : "database unavailable";
			return res ? 401 : 503;
		}
		u->name = PQgetvalue(res, 0, 2);
	} else {
		for (size_t i = 0; i < c.nroles; i++)
			u->roles |= role_parse(c.roles[i]);
	}
	u->projects = arena_calloc(r->a, c.nprojects + 1, sizeof(char *));
	for (size_t i = 0; i < c.nprojects; i++)
		u->projects[i] = arena_strdup(r->a, c.projects[i]);
	token_cache_put(key, &c, u);
	token_claims_release(&c);
	if (!api_roles_pass(kind, u->roles)) {
		w->error = "unauthorized";
		return 401;
	}
	r->user = u;
	return 0;
}

/* Authentication and role gate; returns 0 to go on, or a status. */
static int authenticate(struct req *r, struct resp *w)
{
	const struct route *rt = r->route;
	bool have_cookie = req_cookie(r, SESSION_COOKIE) != NULL;
	switch (rt->auth) {
	case AUTH_PUBLIC:
		if (have_cookie && session_load(r) < 0)
			r->user = NULL; /* public pages render even when the database is away */
		return 0;
	case AUTH_PAGE:
	case AUTH_CONFIG:
	case AUTH_FRONTEND:
		if (have_cookie && session_load(r) < 0) {
			w->error = "The database does not answer; try again in a moment.";
			return 503;
		}
		if (!r->user) {
			if (rt->fmt == FMT_JSON) {
				w->error = "no user for secured check";
				return 401;
			}
			return h_auth_login_required(r, w);
		}
		if (rt->auth == AUTH_CONFIG && !(r->user->roles & ROLE_ADMIN)) {
			w->error = "only administrators may do this";
			return 403;
		}
		if (rt->roles && !(r->user->roles & rt->roles)) {
			w->error = "Your roles do not allow this page.";
			return 403;
		}
		return 0;
	case AUTH_API:
	case AUTH_USERAPI:
	case AUTH_METRICSTORE:
		return authenticate_token(r, w, rt->auth);
	}
	return 500;
}

static void route_and_run(struct req *r, struct resp *w)
{
	/* COMPAT a.1: unsafe cross-site requests are refused outright */
	const char *sfs = req_header(r, "Sec-Fetch-Site");
	if (unsafe_method(r->method) && sfs && strcasecmp(sfs, "cross-site") == 0) {
		w->status = 403;
		w->content_type = "text/plain; charset=utf-8";
		buf_adds(&w->body, "cross-site request blocked\n");
		return;
	}
	char *scratch = arena_alloc(r->a, strlen(r->path) + 1);
	unsigned allowed;
	r->route = router_match(routes, routes_count, r->method, r->path, r->path_args,
				REQ_MAX_PATH_ARGS, scratch, &allowed);
	if (!r->route) {
		if (allowed) {
			allow_header(w, allowed);
			page_error(r, w, 405, "This address does not take that method.");
		} else {
			page_error(r, w, 404, router_json_path(r->path) ? NULL : "There is no page at this address.");
		}
		return;
	}
	int status = authenticate(r, w);
	if (status == 0 && (r->route->flags & (ROUTE_CSRF | ROUTE_CSRF_PRE)) &&
	    unsafe_method(r->method) && !csrf_valid(r)) {
		w->error = "The form's security token is missing or wrong. Reload the page and try again.";
		status = 403;
	}
	if (status == 0)
		status = r->route->handler(r, w);
	if (status == 500) {
		/* never half a page: whatever the handler wrote goes */
		buf_reset(&w->body);
		page_error(r, w, status, w->error ? w->error : "Something went wrong on our side; the request id above is in the log.");
	} else if (status >= 400 && w->body.len == 0)
		page_error(r, w, status, w->error);
	else
		w->status = status;
}

void dispatch_request(struct arena *a, char **envp, req_read_fn read_fn, void *read_ctx,
		      struct buf *out)
{
	struct req r;
	struct resp w;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	resp_init(&w, a);
	int status = req_parse(&r, a, envp, read_fn, read_ctx, the_app->conf->max_body_size);
	if (!r.request_id || !*r.request_id || strlen(r.request_id) > 64) {
		unsigned char id[8];
		char hex[17];
		if (crypto_random(id, sizeof(id)) < 0)
			memset(id, 0, sizeof(id));
		hex_encode(id, sizeof(id), hex);
		r.request_id = arena_strdup(a, hex);
	}
	log_set_request(r.request_id);
	if (status) {
		/* the path only: a query string may carry a credential (/jwt-login?login-token=) */
		log_info("%s %.200s%s: %d (%s)", r.method_name, r.path ? r.path : "(no path)", r.query ? "?..." : "",
			 status, r.error);
		page_error(&r, &w, status, r.error);
	} else {
		route_and_run(&r, &w);
	}
	if (w.status >= 500)
		log_err("%s %.200s: %d %s", r.method_name, r.path, w.status, w.error ? w.error : "");
	resp_header(&w, "X-Request-Id", r.request_id);
	resp_serialize(&w, r.https, r.method == M_HEAD, out);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_debug("%s %.200s %d %zu bytes %.3f ms", r.method_name, r.path, w.status, w.body.len,
		  (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	log_set_request(NULL);
}
