#include "config.h"
#include "page.h"
#include "app.h"
#include "arena.h"
#include "auth.h"
#include "conf.h"
#include "html.h"
#include "jsonio.h"
#include "log.h"
#include "req.h"
#include "resp.h"
#include "router.h"
#include "session.h"
#include "tmpl.h"
#include "upload.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

struct json_object *page_model(struct req *r, struct resp *w, const char *title)
{
	struct json_object *m = arena_cleanup_add(r->a, jsonio_put, json_object_new_object());
	add_str(m, "title", title);
	add_str(m, "version", the_app->version);
	add_str(m, "csrf_token", csrf_token(r, w));
	add_str(m, "logo_url", upload_logo_url(r->a)); /* an uploaded ./var/img/logo.*, else the built-in */
	if (r->user) {
		struct user *u = r->user;
		struct json_object *ju = json_object_new_object();
		add_str(ju, "username", u->username);
		struct buf enc;
		buf_init_arena(&enc, r->a);
		html_url_encode(&enc, u->username, strlen(u->username));
		add_str(ju, "username_url", enc.data); /* for links: percent-encoded, then HTML-escaped */
		add_str(ju, "name", *u->name ? u->name : u->username);
		unsigned lvl = auth_level(u->roles);
		json_object_object_add(ju, "is_admin", json_object_new_boolean(lvl == ROLE_ADMIN));
		json_object_object_add(ju, "is_support", json_object_new_boolean(lvl >= ROLE_SUPPORT));
		json_object_object_add(ju, "is_manager", json_object_new_boolean(lvl >= ROLE_MANAGER));
		struct json_object *roles = json_object_new_array();
		for (unsigned bit = 1; bit <= ROLE_ADMIN; bit <<= 1)
			if (u->roles & bit)
				json_object_array_add(roles, json_object_new_string(role_name(bit)));
		json_object_object_add(ju, "roles", roles);
		json_object_object_add(m, "user", ju);
	}
	return m;
}

int page_render(struct req *r, struct resp *w, int status, const char *name, struct json_object *model)
{
	(void)r;
	buf_reset(&w->body);
	if (tmpl_render(the_app->tmpl, name, model, &w->body) < 0) {
		log_err("template %s failed to render", name);
		buf_reset(&w->body);
		return 500;
	}
	w->status = status;
	w->content_type = "text/html; charset=utf-8";
	return status;
}

void page_error(struct req *r, struct resp *w, int status, const char *message)
{
	const char *text = resp_status_text(status);
	int json = r->route ? r->route->fmt == FMT_JSON : router_json_path(r->path);
	int plain = r->route && r->route->fmt == FMT_TEXT;
	if (!message)
		message = status == 404 ? "the requested endpoint does not exist" : text;
	if (json) {
		/* cc-backend's error JSON */
		struct json_object *o = arena_cleanup_add(r->a, jsonio_put, json_object_new_object());
		add_str(o, "status", status == 404 ? "Resource not found" : text);
		add_str(o, "error", message);
		resp_json(w, status, o);
		return;
	}
	if (plain || !the_app->tmpl) {
		w->status = status;
		w->content_type = "text/plain; charset=utf-8";
		buf_reset(&w->body);
		buf_addf(&w->body, "%d %s: %s\n", status, text, message);
		return;
	}
	struct json_object *m = page_model(r, w, text);
	json_object_object_add(m, "status", json_object_new_int(status));
	add_str(m, "status_text", text);
	add_str(m, "message", message);
	add_str(m, "request_id", r->request_id);
	if (page_render(r, w, status, "error", m) != status) {
		w->status = status;
		w->content_type = "text/plain; charset=utf-8";
		buf_reset(&w->body);
		buf_addf(&w->body, "%d %s\n", status, text);
	}
}

/* var/ files are read at most once per second per worker and kept until they change */
struct varcache {
	char name[32];
	time_t mtime;
	off_t size;
	ino_t ino;      /* a file replaced by rename() within the same second is still noticed */
	char *text;
};
static struct varcache varcache[4];

const char *page_var_text(struct req *r, const char *name, size_t max)
{
	(void)r;
	char path[512];
	snprintf(path, sizeof(path), "./var/%s", name);
	struct varcache *c = NULL;
	for (size_t i = 0; i < sizeof(varcache) / sizeof(varcache[0]); i++) {
		if (strcmp(varcache[i].name, name) == 0 || !varcache[i].name[0]) {
			c = &varcache[i];
			break;
		}
	}
	struct stat st;
	if (stat(path, &st) < 0) {
		if (c && c->text) {
			free(c->text);
			c->text = NULL;
		}
		return NULL;
	}
	if (c && c->text && c->mtime == st.st_mtime && c->size == st.st_size && c->ino == st.st_ino)
		return c->text;
	char err[256];
	size_t len;
	char *t = jsonio_read_file(path, max, &len, err, sizeof(err));
	if (!t) {
		log_warn("%s", err);
		return NULL;
	}
	if (!c)
		return arena_cleanup_add(r->a, free, t);
	free(c->text);
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->text = t;
	c->mtime = st.st_mtime;
	c->size = st.st_size;
	c->ino = st.st_ino;
	return t;
}
