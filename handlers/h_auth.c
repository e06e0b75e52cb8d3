/* /login, /logout and the login page shown to anonymous page requests. */
#include "config.h"
#include "handlers.h"
#include "../app/app.h"
#include "../app/arena.h"
#include "../app/auth.h"
#include "../app/db.h"
#include "../app/dir.h"
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

static const char sql_ldap_add[] =
	"INSERT INTO hpc_user (username, auth_source, roles, name) VALUES ($1, 1, '{user}', $2) "
	"ON CONFLICT (username) DO NOTHING";
static const char sql_ldap_check[] =
	"SELECT auth_source = 1 AND cardinality(roles) > 0 FROM hpc_user WHERE username = $1";
static const char sql_ldap_name[] =
	"UPDATE hpc_user SET name = $2 WHERE username = $1 AND auth_source = 1 AND name IS DISTINCT FROM $2";

/* LDAP login (COMPAT f): a known LDAP user binds; an unknown one (sync-user-on-login)
 * must be found once in the directory and bind, and is created only then.  A
 * directory that is down is a failed login with its reason in the log. */
static bool login_ldap(struct req *r, const struct dir_conf *dc, const char *user, const char *pw, bool known)
{
	enum dir_login_mode mode = !known ? DIR_FIND_FIRST : dc->update_user_on_login ? DIR_READ_NAME : DIR_BIND_ONLY;
	char *name = NULL, err[1024];
	enum dir_status st = dir_login(dc, user, pw, mode, &name, err, sizeof(err));
	if (st == DIR_UNAVAILABLE) {
		log_warn("LDAP login of user \"%s\" from %s impossible: %s", user, r->remote_addr, err);
		return false;
	}
	if (st == DIR_DENIED) {
		log_info("LDAP login of user \"%s\" from %s refused: %s", user, r->remote_addr, err);
		return false;
	}
	const char *p[] = {user, name};
	bool ok = true;
	if (!known) {
		PGresult *res = db_query(r->a, sql_ldap_add, 2, p);
		res = res ? db_query(r->a, sql_ldap_check, 1, p) : NULL;
		/* a local account of that name created meanwhile wins */
		ok = res && PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
		if (ok)
			log_info("user \"%s\" added from the directory at first login (sync-user-on-login)", user);
	} else if (name) {
		db_query(r->a, sql_ldap_name, 2, p);
	}
	free(name);
	return ok;
}

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
	const struct dir_conf *dc = the_app ? the_app->ldap : NULL;
	bool ok;
	if (dc && (source == AUTH_SOURCE_LDAP || (!found && dc->sync_user_on_login))) {
		ok = login_ldap(r, dc, user, pw, found);
		has_roles = has_roles || !found;
	} else {
		/* always one bcrypt, whether the user exists or not */
		ok = password_verify(pw, source == AUTH_SOURCE_LOCAL ? hash : NULL);
	}
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
