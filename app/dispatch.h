/* dispatch: one request from parsed input to a finished (buffered) response. */
#ifndef JOBSCOPE_DISPATCH_H
#define JOBSCOPE_DISPATCH_H

#include "req.h"

struct resp;
struct buf;

/* Parse envp/body, route, authenticate, check CSRF, run the handler, render
 * errors; the CGI response (status line, headers, body) is appended to out. */
void dispatch_request(struct arena *a, char **envp, req_read_fn read_fn, void *read_ctx,
		      struct buf *out);

#endif
