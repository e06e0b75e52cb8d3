/* /login, /logout and the login page shown to anonymous page requests. */
#include "config.h"
#include "handlers.h"
#include "../app/arena.h"
#include "../app/auth.h"
#include "../app/db.h"
#include "../app/log.h"
#include "../app/page.h"
#include "../app/password.h"
#include "../app/req.h"
#include "../app/resp.h"
#include "../app/session.h"
#include "../app/str.h"

#include <stdlib.h>
#include <string.h>

#define REDIRECT_MAX 2048

/* Only a path on this site: "/x...", not "//host", not "/\host", no control characters. */
static bool relative_target(const char *s)
{
	if (!s || s[0] != '/' || s[1] == '/' || s[1] == '\\' || strlen(s) > REDIRECT_MAX)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			return false;
	return true;
}

static int login_page(struct req *r, struct resp *w, int status, const char *message,
		      const char *alert, const char *redirect, const char *username)
{
	struct json_object *m = page_model(r, w, "Login");
	if (message)
		json_object_object_add(m, "message", json_object_new_string(message));
	if (alert)
		json_object_object_add(m, "alert", json_object_new_string(alert));
	if (redirect && relative_target(redirect))
		json_object_object_add(m, "redirect", json_object_new_string(redirect));
	if (username)
		json_object_object_add(m, "username", json_object_new_string(username));
	return page_render(r, w, status, "login", m);
}

int h_auth_login_form(struct req *r, struct resp *w)
{
	return login_page(r, w, 200, NULL, NULL, req_param(r, "redirect"), NULL);
}

int h_auth_login_required(struct req *r, struct resp *w)
{
	/* as cc-backend: 401 with the login page, the wanted URI in a hidden field */
	return login_page(r, w, 401, NULL, NULL, r->uri, NULL);
}

static const char sql_user[] =
	"SELECT password, auth_source, cardinality(roles) FROM hpc_user WHERE username = $1";

int h_auth_login(struct req *r, struct resp *w)
{
	const char *user = req_form(r, "username");
	const char *pw = req_form(r, "password");
	const char *redirect = req_form(r, "redirect");
	if (!user || !pw || !*pw || !auth_username_valid(user) || strlen(pw) > 1024) {
		return login_page(r, w, 400, NULL, "Enter a username (1 to 100 characters) and a password.",
				  redirect, NULL);
	}
	const char *p[] = {user};
	PGresult *res = db_query(r->a, sql_user, 1, p);
	if (!res) {
		w->error = "The database does not answer; try again in a moment.";
		return 503;
	}
	bool found = PQntuples(res) == 1;
	const char *hash = found && !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : NULL;
	int source = found ? atoi(PQgetvalue(res, 0, 1)) : -1;
	bool has_roles = found && atoi(PQgetvalue(res, 0, 2)) > 0;
	/* always one bcrypt, whether the user exists or not */
	bool ok = password_verify(pw, source == AUTH_SOURCE_LOCAL ? hash : NULL);
	if (!ok || !has_roles) {
		log_info("login failed for user \"%s\" from %s", user, r->remote_addr);
		return login_page(r, w, 401, NULL, "Invalid username or password.", redirect, user);
	}
	if (session_create(r, w, user) < 0) {
		w->error = "Could not start a session.";
		return 500;
	}
	log_info("user \"%s\" logged in from %s", user, r->remote_addr);
	resp_redirect(w, 302, relative_target(redirect) ? redirect : "/");
	return 302;
}

int h_auth_logout(struct req *r, struct resp *w)
{
	const char *who = r->user ? arena_strdup(r->a, r->user->username) : "";
	session_destroy(r, w);
	log_info("user \"%s\" logged out", who);
	return login_page(r, w, 200, "Logout successful.", NULL, NULL, NULL);
}
