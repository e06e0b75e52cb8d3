/* /login, /logout, /jwt-login (cross-login by token or cookie, COMPAT f) and
 * the login page shown to anonymous page requests. */
#include "config.h"
#include "handlers.h"
#include "../app/app.h"
#include "../app/conf.h"
#include "../app/arena.h"
#include "../app/auth.h"
#include "../app/db.h"
#include "../app/dir.h"
#include "../app/jsonio.h"
#include "../app/log.h"
#include "../app/page.h"
#include "../app/password.h"
#include "../app/ratelimit.h"
#include "../app/req.h"
#include "../app/resp.h"
#include "../app/session.h"
#include "../app/str.h"
#include "../app/token.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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

static int cookie_login(struct req *r, struct resp *w, const char *redirect);
static bool cookie_login_offered(struct req *r);

int h_auth_login_form(struct req *r, struct resp *w)
{
	if (cookie_login_offered(r))
		return cookie_login(r, w, req_param(r, "redirect"));
	return login_page(r, w, 200, NULL, NULL, req_param(r, "redirect"), NULL);
}

int h_auth_login_required(struct req *r, struct resp *w)
{
	/* a cross-login cookie of a trusted portal logs in and comes back here */
	if ((r->method == M_GET || r->method == M_HEAD) && cookie_login_offered(r))
		return cookie_login(r, w, r->uri);
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
	/* COMPAT f: 5 attempts per 15 minutes per (address, username), taken before
	 * the password is looked at; a successful login gives its token back */
	int wait_min = 0;
	switch (ratelimit_login_take(r->a, r->remote_addr, user, &wait_min)) {
	case RATELIMIT_OK:
		break;
	case RATELIMIT_LIMITED:
		log_info("login of user \"%s\" from %s refused: too many attempts", user, r->remote_addr);
		resp_header(w, "Retry-After", arena_printf(r->a, "%d", wait_min * 60));
		return login_page(r, w, 429, NULL,
				  arena_printf(r->a, "Too many login attempts, try again in %d minute%s.", wait_min,
					       wait_min == 1 ? "" : "s"),
				  redirect, user);
	case RATELIMIT_ERROR:
		w->error = "The database does not answer; try again in a moment.";
		return 503;
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
	ratelimit_login_refund(r->a, r->remote_addr, user);
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

/* ------------------------------------------------------------ cross-login */

static struct json_object *jwts_conf(void)
{
	return jsonio_get(jsonio_get(the_app->conf->root, "auth"), "jwts");
}

static bool jwts_flag(const char *key)
{
	struct json_object *v = jsonio_get(jwts_conf(), key);
	return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

static const char sql_token_user[] =
	"SELECT cardinality(roles) FROM hpc_user WHERE username = $1";
/* projects: a JSON array of strings, empty ones left out */
static const char sql_token_add[] =
	"INSERT INTO hpc_user (username, auth_source, roles, projects, name) "
	"VALUES ($1, 2, $2::text[], "
	"(SELECT coalesce(array_agg(p), '{}') FROM json_array_elements_text($3::json) p WHERE p <> ''), $4) "
	"ON CONFLICT (username) DO NOTHING";
static const char sql_token_update[] =
	"UPDATE hpc_user SET roles = $2::text[], "
	"projects = (SELECT coalesce(array_agg(p), '{}') FROM json_array_elements_text($3::json) p WHERE p <> ''), "
	"name = coalesce($4, name) WHERE username = $1";

/* The user of verified claims (COMPAT f, cross-login): with validate-user the
 * database decides and the user must exist; else the token's roles count, and
 * the user is created (sync-user-on-login) or updated (update-user-on-login).
 * Sessions live in the database, so a user the database does not know cannot
 * have one.  0, or -1 with the alert in *why. */
static int token_user(struct req *r, const struct token_claims *c, const char **why)
{
	if (!auth_username_valid(c->sub)) {
		*why = "The token names no valid user.";
		return -1;
	}
	const char *p[] = {c->sub};
	PGresult *res = db_query(r->a, sql_token_user, 1, p);
	if (!res) {
		*why = "The database does not answer; try again in a moment.";
		return -1;
	}
	bool exists = PQntuples(res) == 1;
	if (the_app->validate_user) {
		if (!exists) {
			*why = "The token's user is not known here.";
			return -1;
		}
		return 0;
	}
	unsigned roles = 0;
	for (size_t i = 0; i < c->nroles; i++)
		roles |= role_parse(c->roles[i]);
	bool sync = jwts_flag("sync-user-on-login"), update = jwts_flag("update-user-on-login");
	if ((!exists && sync) || (exists && update)) {
		if (!roles) {
			*why = "The token carries no known role.";
			return -1;
		}
		struct json_object *pj = arena_cleanup_add(r->a, jsonio_put, json_object_new_array());
		for (size_t i = 0; i < c->nprojects; i++)
			json_object_array_add(pj, json_object_new_string(c->projects[i]));
		const char *q[] = {c->sub, roles_pg_array(r->a, roles), json_object_to_json_string_ext(pj, JSON_C_TO_STRING_PLAIN),
				   c->name && *c->name ? c->name : NULL};
		if (!db_query(r->a, exists ? sql_token_update : sql_token_add, 4, q)) {
			*why = "The user could not be saved.";
			return -1;
		}
		log_info("user \"%s\" %s from a login token", c->sub, exists ? "updated" : "created");
		return 0;
	}
	if (!exists) {
		*why = "The token's user is not known here.";
		log_info("token login of unknown user \"%s\" refused (auth.jwts.sync-user-on-login is off)", c->sub);
		return -1;
	}
	return 0;
}

static int token_session(struct req *r, struct resp *w, const struct token_claims *c, const char *how,
			 const char *redirect)
{
	const char *why = NULL;
	if (token_user(r, c, &why) < 0)
		return login_page(r, w, 401, NULL, why, redirect, NULL);
	if (session_create(r, w, c->sub) < 0) {
		w->error = "Could not start a session.";
		return 500;
	}
	log_info("user \"%s\" logged in from %s by %s", c->sub, r->remote_addr, how);
	resp_redirect(w, 302, relative_target(redirect) ? redirect : "/");
	return 302;
}

/* auth.jwts.cookie-name, when the cookie login is configured (cookie name,
 * trusted issuer and CROSS_LOGIN_JWT_PUBLIC_KEY); else NULL */
static const char *login_cookie_name(void)
{
	const char *name = jsonio_str(jwts_conf(), "cookie-name");
	const char *iss = jsonio_str(jwts_conf(), "trusted-issuer");
	if (!name || !*name || !iss || !*iss || !token_keys_have(the_app->tokens, TOKEN_KEY_CROSS_PUBLIC))
		return NULL;
	return name;
}

static bool cookie_login_offered(struct req *r)
{
	const char *name = the_app->tokens ? login_cookie_name() : NULL;
	const char *v = name ? req_cookie(r, name) : NULL;
	return v && *v;
}

/* (b) the EdDSA cookie of a trusted portal: verified, then deleted, then a session */
static int cookie_login(struct req *r, struct resp *w, const char *redirect)
{
	const char *name = login_cookie_name();
	const char *jwt = req_cookie(r, name);
	resp_cookie(w, name, "", -1, r->https ? COOKIE_SECURE : 0);
	struct token_claims c;
	char err[256];
	if (token_verify_cookie(the_app->tokens, jwt, jsonio_str(jwts_conf(), "trusted-issuer"), (int64_t)time(NULL),
				&c, err, sizeof(err)) < 0) {
		log_info("cookie login from %s refused: %s", r->remote_addr, err);
		return login_page(r, w, 401, NULL, "The login cookie was not accepted; please log in.", redirect, NULL);
	}
	int status = token_session(r, w, &c, "login cookie", redirect);
	token_claims_release(&c);
	return status;
}

/* GET|POST /jwt-login?login-token=<jwt>: (a) HS256/HS512 with
 * CROSS_LOGIN_JWT_HS512_KEY, or an Authorization: Bearer header; without a
 * token, (b) the cookie.  nginx logs this path without its query string. */
int h_auth_jwt_login(struct req *r, struct resp *w)
{
	const char *redirect = req_param(r, "redirect");
	const char *jwt = req_param(r, "login-token");
	if (!jwt)
		jwt = req_form(r, "login-token");
	if (!jwt) {
		const char *h = req_header(r, "Authorization");
		if (h && strncasecmp(h, "Bearer ", 7) == 0)
			jwt = h + 7;
	}
	if (!jwt || !*jwt) {
		if (cookie_login_offered(r))
			return cookie_login(r, w, redirect);
		return login_page(r, w, 401, NULL, "No login token was given.", redirect, NULL);
	}
	if (!the_app->tokens || !token_keys_have(the_app->tokens, TOKEN_KEY_HS)) {
		log_info("token login from %s refused: CROSS_LOGIN_JWT_HS512_KEY is not set", r->remote_addr);
		return login_page(r, w, 401, NULL, "Login by token is not enabled on this server.", redirect, NULL);
	}
	struct token_claims c;
	char err[256];
	if (token_verify_hs(the_app->tokens, jwt, (int64_t)time(NULL), &c, err, sizeof(err)) < 0) {
		log_info("token login from %s refused: %s", r->remote_addr, err);
		return login_page(r, w, 401, NULL, arena_printf(r->a, "The login token was not accepted: %s.", err),
				  redirect, NULL);
	}
	int status = token_session(r, w, &c, "login token", redirect);
	token_claims_release(&c);
	return status;
}
