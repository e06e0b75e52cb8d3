/* router: the route table's type and the matcher.  The table itself is in
 * routes.c, the one place where every route's method, path, role and CSRF
 * flag can be audited. */
#ifndef JOBSCOPE_ROUTER_H
#define JOBSCOPE_ROUTER_H

#include <stddef.h>
#include <stdio.h>

struct req;
struct resp;

enum route_fmt { FMT_HTML, FMT_JSON, FMT_TEXT };

enum route_auth {
	AUTH_PUBLIC,   /* anyone; a session is still looked up for the navbar */
	AUTH_PAGE,     /* logged in (session); else 401 with the login page */
	AUTH_API,      /* JWT, /api group (issue: REST API) */
	AUTH_USERAPI,  /* JWT, /userapi group */
	AUTH_METRICSTORE, /* JWT, /api/write, /api/free, /api/debug, /api/healthcheck */
	AUTH_CONFIG,   /* session with admin (/config/...) */
	AUTH_FRONTEND, /* any session (/frontend/...) */
};

enum route_flags {
	ROUTE_CSRF = 1 << 0,     /* unsafe methods need the session's csrf_token */
	ROUTE_CSRF_PRE = 1 << 1, /* the form is filled before login (pre-login token) */
};

typedef int (*handler_fn)(struct req *r, struct resp *w);

struct route {
	unsigned methods;      /* enum method bits */
	const char *pattern;   /* "/monitoring/job/{id}": {x} is one path segment */
	handler_fn handler;
	enum route_fmt fmt;
	enum route_auth auth;
	unsigned roles;        /* one of these roles is needed (0: any logged-in user) */
	unsigned flags;
};

extern const struct route routes[];
extern const size_t routes_count;

/* Match path against the table; on success fills args (captured segments) and
 * returns the route.  Otherwise NULL with *allowed = the methods that some
 * route for this path takes (0: no route at all -> 404; else 405). */
const struct route *router_match(const struct route *table, size_t n, unsigned method,
				 const char *path, const char **args, size_t nargs,
				 char *scratch, unsigned *allowed);
/* One line per route, tab-separated: methods (comma-separated), pattern, format
 * (html|json|text), auth group, roles (comma-separated, "-" for any), csrf|csrf-pre|-.
 * What `jobscope -routes` prints; the security tests walk every route from it. */
void router_print(FILE *f, const struct route *table, size_t n);
/* Is the path one whose errors are JSON (/api/, /userapi/, /config/, /frontend/)? */
int router_json_path(const char *path);

#endif
