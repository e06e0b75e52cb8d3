/* page: the parts every HTML page shares (layout model, error page). */
#ifndef JOBSCOPE_PAGE_H
#define JOBSCOPE_PAGE_H

#include <json-c/json.h>

struct req;
struct resp;

/* A new page model (owned by the request arena) with title and the layout's
 * fields: user, roles, csrf_token, version, notice. */
struct json_object *page_model(struct req *r, struct resp *w, const char *title);
/* Render template name with model into w as text/html; returns status, or 500 if the template fails. */
int page_render(struct req *r, struct resp *w, int status, const char *name, struct json_object *model);
/* The error page (HTML) or error JSON for status, per the route / path. */
void page_error(struct req *r, struct resp *w, int status, const char *message);
/* A var/ file's text (notice.txt) or NULL; cached by mtime. */
const char *page_var_text(struct req *r, const char *name, size_t max);

#endif
