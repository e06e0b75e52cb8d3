/* /config: the settings page, its form actions (/config/form/...), the
 * /config/ helpers of COMPAT a.2 (what cc-backend's settings page calls;
 * admin sessions only) and /img/logo.
 *
 * The page works without JavaScript: every form posts to a /config/form/
 * route with its csrf_token, which answers 303 back to /config/?done=<what>,
 * or the page again with an alert and the error's status.  Pages that show a
 * fresh token are answered directly (the token is shown once, never stored). */
#include "config.h"
#include "handlers.h"
#include "../app/api.h"
#include "../app/app.h"
#include "../app/archive.h"
#include "../app/arena.h"
#include "../app/auth.h"
#include "../app/buf.h"
#include "../app/cluster.h"
#include "../app/conf.h"
#include "../app/db.h"
#include "../app/jsonio.h"
#include "../app/log.h"
#include "../app/multipart.h"
#include "../app/page.h"
#include "../app/req.h"
#include "../app/resp.h"
#include "../app/str.h"
#include "../app/token.h"
#include "../app/upload.h"
#include "../app/usercfg.h"
#include "../app/usermgmt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define USERS_SHOWN 200
#define NOTICE_MAX 10000
#define NOTICE_PATH "./var/notice.txt"

/* cc-backend's two taggers; jobscope runs none yet */
static const char *const taggers[][2] = {{"AppTagger", "start"}, {"JobClassTagger", "stop"}};
#define NTAGGERS (sizeof(taggers) / sizeof(taggers[0]))

static void add_s(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void add_b(struct json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

/* a text/plain answer, as cc-backend writes its success texts */
static int text_answer(struct resp *w, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int text_answer(struct resp *w, int status, const char *fmt, ...)
{
	buf_reset(&w->body);
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&w->body, fmt, ap);
	va_end(ap);
	w->status = status;
	w->content_type = "text/plain; charset=utf-8";
	return status;
}

static const char *auth_source_name(int s)
{
	switch (s) {
	case AUTH_SOURCE_LOCAL: return "local";
	case AUTH_SOURCE_LDAP: return "LDAP";
	case AUTH_SOURCE_TOKEN: return "token";
	case AUTH_SOURCE_OIDC: return "OIDC";
	}
	return "?";
}

static const char *const role_names[] = {"api", "user", "manager", "support", "admin"};

/* ------------------------------------------------------------- notice */

/* ./var/notice.txt, replaced atomically; 0 or -1 with err */
static int notice_write(const char *text, char *err, size_t errlen)
{
	char tmp[64];
	snprintf(tmp, sizeof(tmp), NOTICE_PATH ".%ld", (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s: %s", tmp, n < 0 ? strerror(errno) : "short write");
			close(fd);
			unlink(tmp);
			return -1;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0 || rename(tmp, NOTICE_PATH) < 0) {
		snprintf(err, errlen, "%s: %s", NOTICE_PATH, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------- the page */

struct page_extra {
	const char *done;      /* a success sentence */
	const char *alert;     /* an error sentence */
	const char *api_token; /* the viewer's fresh token */
	const char *jwt_user, *jwt; /* an admin's fresh token for another user */
};

static const char *done_text(const char *code)
{
	static const char *const map[][2] = {
		{"settings", "Your settings are saved."},
		{"user-added", "The user was created."},
		{"user-deleted", "The user was deleted."},
		{"user-updated", "The user was changed."},
		{"notice", "The notice is saved."},
		{"notice-empty", "The notice is removed."},
		{"logo", "The logo is saved."},
		{"logo-removed", "The logo is removed; the built-in one is shown again."},
	};
	for (size_t i = 0; code && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(code, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

static bool in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* one row of the job-list metric chooser: a cluster, or all clusters (name NULL) */
static struct json_object *metric_row(struct req *r, struct json_object *cfg, const char *cluster,
				      const char *const *metrics, size_t nmetrics, size_t row)
{
	const char **mine = usercfg_job_list_metrics(r->a, cfg, cluster, USERCFG_MAX_LIST_METRICS);
	const char **sel = mine ? mine : usercfg_default_job_list_metrics(r->a, cluster, USERCFG_MAX_LIST_METRICS);
	struct json_object *o = json_object_new_object();
	add_s(o, "name", cluster ? cluster : "All clusters");
	add_s(o, "field", cluster ? arena_printf(r->a, "jlm:%s", cluster) : "jlm");
	add_b(o, "custom", mine != NULL);
	struct json_object *ms = json_object_new_array();
	for (size_t i = 0; i < nmetrics; i++) {
		struct json_object *m = json_object_new_object();
		add_s(m, "name", metrics[i]);
		add_s(m, "id", arena_printf(r->a, "m%zu-%zu", row, i));
		if (in_list(sel, metrics[i]))
			add_b(m, "checked", true);
		json_object_array_add(ms, m);
	}
	json_object_object_add(o, "metrics", ms);
	return o;
}

/* the metric names of every cluster, in order of first appearance */
static const char **all_metrics(struct req *r, size_t *n)
{
	struct archive *ar = the_app->archive;
	size_t cap = 0;
	for (size_t c = 0; ar && c < ar->nclusters; c++)
		cap += ar->clusters[c].model ? ar->clusters[c].model->nmetrics : 0;
	const char **out = arena_calloc(r->a, cap + 1, sizeof(char *));
	*n = 0;
	for (size_t c = 0; ar && c < ar->nclusters; c++) {
		const struct cluster *cl = ar->clusters[c].model;
		for (size_t i = 0; cl && i < cl->nmetrics; i++)
			if (!in_list(out, cl->metrics[i].name))
				out[(*n)++] = cl->metrics[i].name;
	}
	return out;
}

static const char **cluster_metrics(struct req *r, const struct cluster *cl, size_t *n)
{
	const char **out = arena_calloc(r->a, (cl ? cl->nmetrics : 0) + 1, sizeof(char *));
	*n = 0;
	for (size_t i = 0; cl && i < cl->nmetrics; i++)
		out[(*n)++] = cl->metrics[i].name;
	return out;
}

static struct json_object *options(const int *values, size_t n, int selected)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "value", json_object_new_int(values[i]));
		if (values[i] == selected)
			add_b(o, "selected", true);
		json_object_array_add(a, o);
	}
	return a;
}

static const int per_row_values[] = {1, 2, 3, 4, 6};
static const int per_page_values[] = {10, 25, 50, 100};

static struct json_object *settings_model(struct req *r)
{
	struct json_object *cfg = usercfg_load(r);
	struct json_object *s = json_object_new_object();
	struct json_object *rows = json_object_new_array();
	struct archive *ar = the_app->archive;
	size_t row = 0, n;
	for (size_t c = 0; ar && c < ar->nclusters; c++) {
		const char **ms = cluster_metrics(r, ar->clusters[c].model, &n);
		json_object_array_add(rows, metric_row(r, cfg, ar->clusters[c].name, ms, n, row++));
	}
	if (ar && ar->nclusters > 1) {
		const char **ms = all_metrics(r, &n);
		json_object_array_add(rows, metric_row(r, cfg, NULL, ms, n, row++));
	}
	json_object_object_add(s, "clusters", rows);
	json_object_object_add(s, "max_list_metrics", json_object_new_int(USERCFG_MAX_LIST_METRICS));
	json_object_object_add(s, "plots_per_row", options(per_row_values, 5, usercfg_plots_per_row(cfg)));
	json_object_object_add(s, "jobs_per_page", options(per_page_values, 4, usercfg_jobs_per_page(cfg)));
	add_b(s, "color_background", usercfg_color_background(cfg));
	return s;
}

static const char sql_users[] =
	"SELECT username, coalesce(name, ''), coalesce(email, ''), array_to_string(roles, ', '), "
	"array_to_string(projects, ', '), auth_source FROM hpc_user "
	"WHERE $1 = '' OR strpos(username, $1) > 0 OR strpos(coalesce(name, ''), $1) > 0 "
	"ORDER BY username LIMIT " "201";
_Static_assert(USERS_SHOWN == 200, "sql_users has the limit written out");

static struct json_object *admin_model(struct req *r)
{
	struct json_object *a = json_object_new_object();
	const char *filter = req_param(r, "users");
	if (!filter || strlen(filter) > 100)
		filter = "";
	add_s(a, "users_filter", filter);
	const char *p[] = {filter};
	PGresult *res = db_query(r->a, sql_users, 1, p);
	struct json_object *users = json_object_new_array();
	int n = res ? PQntuples(res) : 0;
	if (!res)
		add_s(a, "users_error", "The user list could not be read from the database.");
	for (int i = 0; i < n && i < USERS_SHOWN; i++) {
		struct json_object *u = json_object_new_object();
		add_s(u, "username", PQgetvalue(res, i, 0));
		add_s(u, "name", PQgetvalue(res, i, 1));
		add_s(u, "email", PQgetvalue(res, i, 2));
		add_s(u, "roles", PQgetvalue(res, i, 3));
		add_s(u, "projects", PQgetvalue(res, i, 4));
		add_s(u, "auth_source", auth_source_name(atoi(PQgetvalue(res, i, 5))));
		add_b(u, "is_self", strcmp(PQgetvalue(res, i, 0), r->user->username) == 0);
		json_object_array_add(users, u);
	}
	json_object_object_add(a, "users", users);
	if (n > USERS_SHOWN)
		add_b(a, "users_more", true);
	struct json_object *roles = json_object_new_array();
	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		json_object_array_add(roles, json_object_new_string(role_names[i]));
	json_object_object_add(a, "roles", roles);
	const char *notice = page_var_text(r, "notice.txt", NOTICE_MAX);
	add_s(a, "notice", notice);
	json_object_object_add(a, "notice_max", json_object_new_int(NOTICE_MAX));
	struct stat st;
	if (upload_logo_path(&st)) {
		struct json_object *l = json_object_new_object();
		add_s(l, "url", upload_logo_url(r->a));
		json_object_object_add(a, "logo", l);
	}
	json_object_object_add(a, "logo_max_kb", json_object_new_int(UPLOAD_LOGO_MAX / 1024));
	struct json_object *tg = json_object_new_array();
	for (size_t i = 0; i < NTAGGERS; i++) {
		struct json_object *t = json_object_new_object();
		add_s(t, "name", taggers[i][0]);
		add_s(t, "type", taggers[i][1]);
		json_object_array_add(tg, t);
	}
	json_object_object_add(a, "taggers", tg);
	return a;
}

static int config_page(struct req *r, struct resp *w, int status, const struct page_extra *x)
{
	struct json_object *m = page_model(r, w, "Settings");
	struct user *u = r->user;
	add_s(m, "done", x->done);
	if (x->alert)
		add_s(m, "alert", x->alert);
	json_object_object_add(m, "settings", settings_model(r));
	if (u->roles & ROLE_API) {
		struct json_object *api = json_object_new_object();
		bool can = the_app->tokens && token_keys_have(the_app->tokens, TOKEN_KEY_PRIVATE);
		add_b(api, "can_sign", can);
		int64_t age = the_app->conf->jwt_max_age;
		if (age > 0)
			add_s(api, "max_age", arena_printf(r->a, "%lld hours", (long long)(age / 3600)));
		if (x->api_token)
			add_s(api, "token", x->api_token);
		json_object_object_add(m, "api", api);
	}
	if (u->roles & ROLE_ADMIN) {
		struct json_object *a = admin_model(r);
		if (x->jwt) {
			add_s(a, "jwt_user", x->jwt_user);
			add_s(a, "jwt", x->jwt);
		}
		json_object_object_add(m, "admin", a);
	}
	if (x->api_token || x->jwt)
		resp_header(w, "Cache-Control", "no-store");
	return page_render(r, w, status, "config", m);
}

int h_config_show(struct req *r, struct resp *w)
{
	struct page_extra x = {.done = done_text(req_param(r, "done"))};
	return config_page(r, w, 200, &x);
}

static int back(struct resp *w, const char *done, const char *anchor)
{
	resp_redirect(w, 303, arena_printf(w->a, "/config/?done=%s#%s", done, anchor));
	return 303;
}

static int page_alert(struct req *r, struct resp *w, int status, const char *alert)
{
	struct page_extra x = {.alert = alert};
	return config_page(r, w, status, &x);
}

/* ------------------------------------------------- /config/form/settings */

/* the values of every form field named key (checkboxes repeat) */
static size_t form_values(struct req *r, const char *key, const char **out, size_t max, bool *too_many)
{
	size_t n = 0;
	*too_many = false;
	for (size_t i = 0; i < r->form.n; i++) {
		if (strcmp(r->form.v[i].key, key) != 0)
			continue;
		if (n == max) {
			*too_many = true;
			break;
		}
		out[n++] = r->form.v[i].val;
	}
	out[n] = NULL;
	return n;
}

static bool same_set(const char *const *a, const char *const *b)
{
	size_t na = 0, nb = 0;
	while (a[na])
		na++;
	while (b[nb])
		nb++;
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!in_list(b, a[i]))
			return false;
	return true;
}

/* check one metric row of the form; NULL or the alert */
static const char *metric_choice(struct req *r, const char *cluster, const char *const *allowed,
				 const char ***chosen)
{
	const char *field = cluster ? arena_printf(r->a, "jlm:%s", cluster) : "jlm";
	const char **v = arena_calloc(r->a, USERCFG_MAX_LIST_METRICS + 1, sizeof(char *));
	bool too_many;
	form_values(r, field, v, USERCFG_MAX_LIST_METRICS, &too_many);
	if (too_many)
		return arena_printf(r->a, "Choose at most %d job-list metrics for %s.", USERCFG_MAX_LIST_METRICS,
				    cluster ? cluster : "all clusters");
	for (size_t i = 0; v[i]; i++)
		if (!in_list(allowed, v[i]))
			return arena_printf(r->a, "%s has no metric \"%.60s\".", cluster ? cluster : "No cluster", v[i]);
	*chosen = v;
	return NULL;
}

/* store a metric row: the user's choice, or nothing when it is the default */
static int metric_store(struct req *r, const char *cluster, const char *const *chosen, char *err, size_t errlen)
{
	const char *key = usercfg_job_list_key(r->a, cluster);
	const char **dflt = usercfg_default_job_list_metrics(r->a, cluster, USERCFG_MAX_LIST_METRICS);
	if (!chosen[0] || same_set(chosen, dflt))
		return usercfg_delete(r->a, r->user->username, key);
	struct json_object *arr = arena_cleanup_add(r->a, jsonio_put, json_object_new_array());
	for (size_t i = 0; chosen[i]; i++)
		json_object_array_add(arr, json_object_new_string(chosen[i]));
	const char *text = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN);
	return usercfg_set(r->a, r->user->username, key, text, err, errlen) == USERCFG_OK ? 0 : -1;
}

static int number_store(struct req *r, const char *key, long v, long dflt, char *err, size_t errlen)
{
	if (v == dflt)
		return usercfg_delete(r->a, r->user->username, key);
	return usercfg_set(r->a, r->user->username, key, arena_printf(r->a, "%ld", v), err, errlen) == USERCFG_OK ? 0 : -1;
}

int h_config_form_settings(struct req *r, struct resp *w)
{
	struct archive *ar = the_app->archive;
	size_t nc = ar ? ar->nclusters : 0;
	const char ***chosen = arena_calloc(r->a, nc + 1, sizeof(*chosen));
	size_t n;
	for (size_t c = 0; c < nc; c++) {
		const char **allowed = cluster_metrics(r, ar->clusters[c].model, &n);
		const char *why = metric_choice(r, ar->clusters[c].name, allowed, &chosen[c]);
		if (why)
			return page_alert(r, w, 400, why);
	}
	const char **all_chosen = NULL;
	if (nc > 1) {
		const char *why = metric_choice(r, NULL, all_metrics(r, &n), &all_chosen);
		if (why)
			return page_alert(r, w, 400, why);
	}
	int64_t per_row, per_page;
	const char *pr = req_form(r, "plots_per_row"), *pp = req_form(r, "jobs_per_page");
	if (!pr || str_to_i64(pr, 1, 6, &per_row) < 0 || !usercfg_plots_per_row_valid((long)per_row))
		return page_alert(r, w, 400, "Plots per row must be 1, 2, 3, 4 or 6.");
	if (!pp || str_to_i64(pp, 10, 100, &per_page) < 0 || !usercfg_jobs_per_page_valid((long)per_page))
		return page_alert(r, w, 400, "Jobs per page must be 10, 25, 50 or 100.");
	const char *cb = req_form(r, "color_background");
	bool color = cb && strcmp(cb, "true") == 0;

	char err[256] = "";
	struct json_object *none = arena_cleanup_add(r->a, jsonio_put, json_object_new_object());
	if (db_begin() < 0)
		return page_alert(r, w, 503, "The database does not answer; try again in a moment.");
	int rc = 0;
	for (size_t c = 0; c < nc && rc == 0; c++)
		rc = metric_store(r, ar->clusters[c].name, chosen[c], err, sizeof(err));
	if (rc == 0 && all_chosen)
		rc = metric_store(r, NULL, all_chosen, err, sizeof(err));
	if (rc == 0)
		rc = number_store(r, USERCFG_PLOTS_PER_ROW, (long)per_row, usercfg_plots_per_row(none), err, sizeof(err));
	if (rc == 0)
		rc = number_store(r, USERCFG_JOBS_PER_PAGE, (long)per_page, usercfg_jobs_per_page(none), err, sizeof(err));
	if (rc == 0) {
		if (color == usercfg_color_background(none))
			rc = usercfg_delete(r->a, r->user->username, USERCFG_COLOR_BACKGROUND);
		else if (usercfg_set(r->a, r->user->username, USERCFG_COLOR_BACKGROUND, color ? "true" : "false",
				     err, sizeof(err)) != USERCFG_OK)
			rc = -1;
	}
	if (rc < 0 || db_commit() < 0) {
		if (rc < 0)
			db_rollback();
		log_warn("settings of user \"%s\" not saved: %s", r->user->username, *err ? err : db_last_error());
		return page_alert(r, w, 422, arena_printf(r->a, "Your settings could not be saved: %s",
							 *err ? err : "the database refused them"));
	}
	return back(w, "settings", "settings");
}

/* ------------------------------------------------------- API tokens */

int h_config_form_token(struct req *r, struct resp *w)
{
	enum usermgmt_status st;
	const char *msg = NULL;
	const char *t = usermgmt_jwt(r->a, r->user->username, &st, &msg);
	if (!t)
		return page_alert(r, w, st == UM_NOT_FOUND ? 404 : 500, msg);
	log_info("user \"%s\" generated an API token for themselves", r->user->username);
	struct page_extra x = {.done = "A new API token was generated. Copy it now: it is not shown again.", .api_token = t};
	return config_page(r, w, 200, &x);
}

int h_config_form_user_jwt(struct req *r, struct resp *w)
{
	const char *name = req_form(r, "username");
	if (!name || !*name)
		return page_alert(r, w, 400, "Which user's token? The form had no username.");
	enum usermgmt_status st;
	const char *msg = NULL;
	const char *t = usermgmt_jwt(r->a, name, &st, &msg);
	if (!t)
		return page_alert(r, w, st == UM_NOT_FOUND ? 404 : 500, msg);
	log_info("admin \"%s\" generated a token for user \"%s\"", r->user->username, name);
	struct page_extra x = {.done = "A token was generated. Copy it now: it is not shown again.", .jwt_user = name, .jwt = t};
	return config_page(r, w, 200, &x);
}

/* ----------------------------------------------------- user administration */

static int um_status(enum usermgmt_status st)
{
	switch (st) {
	case UM_OK: return 200;
	case UM_INVALID: return 400;
	case UM_REFUSED: return 422;
	case UM_NOT_FOUND: return 404;
	case UM_UNAVAILABLE: return 500;
	}
	return 500;
}

static void new_user_from(struct req *r, struct usermgmt_new *u)
{
	u->username = multipart_form_value(r, "username");
	u->password = multipart_form_value(r, "password");
	u->role = multipart_form_value(r, "role");
	u->name = multipart_form_value(r, "name");
	u->email = multipart_form_value(r, "email");
	u->project = multipart_form_value(r, "project");
}

int h_config_form_user_add(struct req *r, struct resp *w)
{
	struct usermgmt_new u;
	new_user_from(r, &u);
	const char *msg;
	enum usermgmt_status st = usermgmt_create(r->a, &u, &msg);
	if (st != UM_OK)
		return page_alert(r, w, um_status(st), msg);
	return back(w, "user-added", "users");
}

int h_config_form_user_delete(struct req *r, struct resp *w)
{
	const char *name = req_form(r, "username");
	if (!name || !*name)
		return page_alert(r, w, 400, "Which user? The form had no username.");
	if (strcmp(name, r->user->username) == 0)
		return page_alert(r, w, 400, "You cannot delete your own account here; ask another administrator.");
	const char *msg;
	enum usermgmt_status st = usermgmt_delete(r->a, name, &msg);
	if (st != UM_OK)
		return page_alert(r, w, um_status(st), msg);
	return back(w, "user-deleted", "users");
}

static const char *const op_fields[] = {"add-role", "remove-role", "add-project", "remove-project"};

int h_config_form_user_edit(struct req *r, struct resp *w)
{
	const char *name = req_form(r, "username"), *op = req_form(r, "op"), *value = req_form(r, "value");
	if (!name || !*name || !op || !value || !*value)
		return page_alert(r, w, 400, "Choose a change and give a role or project.");
	for (size_t k = 0; k < 4; k++) {
		if (strcmp(op, op_fields[k]) != 0)
			continue;
		const char *msg;
		enum usermgmt_status st = usermgmt_update(r->a, name, (enum usermgmt_op)k, value, &msg);
		if (st != UM_OK)
			return page_alert(r, w, um_status(st), msg);
		return back(w, "user-updated", "users");
	}
	return page_alert(r, w, 400, "Unknown change; expected add-role, remove-role, add-project or remove-project.");
}

/* ------------------------------------------------------- notice and logo */

int h_config_form_notice(struct req *r, struct resp *w)
{
	const char *text = req_form(r, "new-content");
	if (!text)
		text = "";
	if (strlen(text) > NOTICE_MAX)
		return page_alert(r, w, 400, arena_printf(r->a, "The notice is %zu bytes long; at most %d fit.",
							 strlen(text), NOTICE_MAX));
	char err[256];
	if (notice_write(text, err, sizeof(err)) < 0) {
		log_err("notice not saved: %s", err);
		return page_alert(r, w, 500, "The notice could not be saved; the log says why.");
	}
	log_info("admin \"%s\" %s the notice", r->user->username, *text ? "changed" : "removed");
	return back(w, *text ? "notice" : "notice-empty", "notice");
}

int h_config_form_logo(struct req *r, struct resp *w)
{
	struct multipart m;
	char err[256];
	if (!multipart_is(r))
		return page_alert(r, w, 400, "The logo form must be sent as multipart/form-data.");
	if (multipart_parse(r->a, r->content_type, r->body, r->body_len, &m, err, sizeof(err)) < 0)
		return page_alert(r, w, 400, arena_printf(r->a, "The upload could not be read: %s", err));
	const struct multipart_part *p = multipart_get(&m, "logo");
	if (!p || !p->filename || p->len == 0)
		return page_alert(r, w, 400, "Choose an image file (PNG, SVG or JPEG) to upload.");
	if (p->len > UPLOAD_LOGO_MAX)
		return page_alert(r, w, 413, arena_printf(r->a, "The image is %zu KB; at most %d KB are accepted.",
							 (p->len + 1023) / 1024, UPLOAD_LOGO_MAX / 1024));
	const char *mime = upload_mime_type(p->data, p->len);
	if (!mime)
		return page_alert(r, w, 500, "The file type cannot be checked on this server (libmagic failed); the log says why.");
	const char *ext = upload_logo_ext(mime);
	if (!ext)
		return page_alert(r, w, 415, arena_printf(r->a, "The file is %.80s, not a PNG, SVG or JPEG image.", mime));
	if (upload_logo_store(p->data, p->len, ext, err, sizeof(err)) < 0) {
		log_err("logo not saved: %s", err);
		return page_alert(r, w, 500, "The logo could not be saved; the log says why.");
	}
	log_info("admin \"%s\" uploaded a logo (%s, %zu bytes)", r->user->username, mime, p->len);
	return back(w, "logo", "logo");
}

int h_config_form_logo_delete(struct req *r, struct resp *w)
{
	char err[256];
	if (upload_logo_remove(err, sizeof(err)) < 0) {
		log_err("logo not removed: %s", err);
		return page_alert(r, w, 500, "The logo could not be removed; the log says why.");
	}
	return back(w, "logo-removed", "logo");
}

/* GET /img/logo: the uploaded logo, its type checked again from its bytes */
int h_config_logo(struct req *r, struct resp *w)
{
	struct stat st;
	const char *path = upload_logo_path(&st);
	if (!path) {
		w->error = "There is no uploaded logo.";
		return 404;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > UPLOAD_LOGO_MAX) {
		if (fd >= 0)
			close(fd);
		log_warn("%s: not served (unreadable, not a file, or larger than %d bytes)", path, UPLOAD_LOGO_MAX);
		w->error = "There is no uploaded logo.";
		return 404;
	}
	size_t len = (size_t)st.st_size, got = 0;
	char *data = arena_alloc(r->a, len + 1);
	while (got < len) {
		ssize_t n = read(fd, data + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	const char *mime = got == len ? upload_mime_type(data, len) : NULL;
	if (!mime || !upload_logo_ext(mime)) {
		log_warn("%s: not served: %s", path, mime ? mime : "unreadable");
		w->error = "There is no uploaded logo.";
		return 404;
	}
	buf_reset(&w->body);
	buf_add(&w->body, data, len);
	w->content_type = arena_strdup(r->a, mime);
	if (strcmp(mime, "image/svg+xml") == 0) /* opened on its own, an SVG runs nothing */
		resp_header(w, "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox");
	resp_header(w, "Cache-Control", req_param(r, "v") ? "public, max-age=86400" : "no-cache");
	return 200;
}

/* ------------------------------------------- /config/... (COMPAT a.2, JSON) */

int h_config_roles(struct req *r, struct resp *w)
{
	struct json_object *a = arena_cleanup_add(r->a, jsonio_put, json_object_new_array());
	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		json_object_array_add(a, json_object_new_string(role_names[i]));
	return api_json(w, 200, a);
}

int h_config_users_list(struct req *r, struct resp *w)
{
	/* the same list as GET /api/users/ (?not-just-user=true: users with more than "user") */
	return h_api_users_list(r, w);
}

int h_config_users_create(struct req *r, struct resp *w)
{
	int bad = api_bad_form(r, w);
	if (bad)
		return bad;
	struct usermgmt_new u;
	new_user_from(r, &u);
	const char *msg;
	enum usermgmt_status st = usermgmt_create(r->a, &u, &msg);
	if (st != UM_OK)
		return api_error(w, um_status(st), "%s", msg);
	return text_answer(w, 200, "%s\n", msg);
}

int h_config_users_delete(struct req *r, struct resp *w)
{
	int bad = api_bad_form(r, w);
	if (bad)
		return bad;
	const char *name = multipart_form_value(r, "username");
	if (!name || !*name)
		return api_error(w, 400, "missing username");
	const char *msg;
	enum usermgmt_status st = usermgmt_delete(r->a, name, &msg);
	if (st == UM_REFUSED)
		return api_error(w, 422, "%s", msg);
	/* cc-backend answers 200 with an empty body, whether the user existed or not */
	return text_answer(w, 200, "%s", "");
}

int h_config_user_update(struct req *r, struct resp *w)
{
	int bad = api_bad_form(r, w);
	if (bad)
		return bad;
	const char *name = r->path_args[0];
	for (size_t k = 0; k < 4; k++) {
		const char *v = multipart_form_value(r, op_fields[k]);
		if (!v || !*v)
			continue;
		const char *msg;
		enum usermgmt_status st = usermgmt_update(r->a, name, (enum usermgmt_op)k, v, &msg);
		if (st != UM_OK)
			return api_error(w, 422, "%s", msg);
		return api_msg(w, 200, "%s", msg);
	}
	return api_error(w, 400, "no operation specified: must provide add-role, remove-role, add-project, or remove-project");
}

int h_config_notice(struct req *r, struct resp *w)
{
	int bad = api_bad_form(r, w);
	if (bad)
		return bad;
	const char *text = multipart_form_value(r, "new-content");
	if (!text)
		text = "";
	if (strlen(text) > NOTICE_MAX)
		return api_error(w, 400, "notice content exceeds maximum length of %d characters", NOTICE_MAX);
	char err[256];
	if (notice_write(text, err, sizeof(err)) < 0)
		return api_error(w, 422, "%s", err);
	log_info("admin \"%s\" %s the notice", r->user->username, *text ? "changed" : "removed");
	return text_answer(w, 200, "%s", *text ? "Update Notice Content Success" : "Empty Notice Content Success");
}

int h_config_taggers(struct req *r, struct resp *w)
{
	struct json_object *a = arena_cleanup_add(r->a, jsonio_put, json_object_new_array());
	for (size_t i = 0; i < NTAGGERS; i++) {
		struct json_object *t = json_object_new_object();
		add_s(t, "name", taggers[i][0]);
		add_s(t, "type", taggers[i][1]);
		add_b(t, "running", false);
		json_object_array_add(a, t);
	}
	return api_json(w, 200, a);
}

int h_config_taggers_run(struct req *r, struct resp *w)
{
	int bad = api_bad_form(r, w);
	if (bad)
		return bad;
	const char *name = multipart_form_value(r, "name");
	if (!name || !*name)
		return api_error(w, 400, "missing tagger name");
	for (size_t i = 0; i < NTAGGERS; i++)
		if (strcmp(name, taggers[i][0]) == 0)
			return api_error(w, 409, "tagger %s not available: jobscope does not run taggers yet", name);
	return api_error(w, 409, "unknown tagger: %.100s", name);
}
