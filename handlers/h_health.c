/* /healthz (is the database there?) and /ping (the bare route for benchmarks). */
#include "config.h"
#include "handlers.h"
#include "../app/buf.h"
#include "../app/db.h"
#include "../app/resp.h"

int h_health_show(struct req *r, struct resp *w)
{
	(void)r;
	w->content_type = "text/plain; charset=utf-8";
	if (!db_ping()) {
		buf_adds(&w->body, "database unavailable\n");
		return 503;
	}
	buf_adds(&w->body, "ok\n");
	return 200;
}

int h_health_ping(struct req *r, struct resp *w)
{
	(void)r;
	/* touches neither the database nor templates: the floor for benchmarks */
	w->content_type = "text/plain; charset=utf-8";
	buf_adds(&w->body, "pong\n");
	return 200;
}
