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
#include "../handlers/handlers.h"

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
		w->error = "no user for secured check";
		return 401;
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
	if (status >= 500) {
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
		log_info("%s %.200s: %d (%s)", r.method_name, r.uri, status, r.error);
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
