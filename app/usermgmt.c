#include "config.h"
#include "usermgmt.h"
#include "app.h"
#include "arena.h"
#include "auth.h"
#include "conf.h"
#include "db.h"
#include "jsonio.h"
#include "log.h"
#include "password.h"
#include "session.h"
#include "str.h"
#include "token.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIELD_MAX 255

static const char *nz(const char *s)
{
	return s ? s : "";
}

static const char sql_create[] =
	"INSERT INTO hpc_user (username, password, auth_source, name, email, roles, projects) "
	"VALUES ($1, $2, 0, nullif($3, ''), nullif($4, ''), ARRAY[$5]::text[], "
	"CASE WHEN $6 = '' THEN '{}'::text[] ELSE ARRAY[$6]::text[] END)";

enum usermgmt_status usermgmt_create(struct arena *a, const struct usermgmt_new *u, const char **msg)
{
	const char *name = nz(u->username), *pw = nz(u->password), *role = nz(u->role);
	const char *project = nz(u->project), *real = nz(u->name), *email = nz(u->email);
	if (!auth_username_valid(name)) {
		*msg = "username must be 1 to 100 characters without control characters";
		return UM_INVALID;
	}
	if (!*pw && strcmp(role, "api") != 0) {
		*msg = "Only API users are allowed to have a blank password (login will be impossible)";
		return UM_INVALID;
	}
	if (*project && strcmp(role, "manager") != 0) {
		*msg = "only managers require a project (can be changed later)";
		return UM_INVALID;
	}
	if (!*project && strcmp(role, "manager") == 0) {
		*msg = "managers require a project to manage (can be changed later)";
		return UM_INVALID;
	}
	if (strlen(real) > FIELD_MAX || strlen(email) > FIELD_MAX || strlen(project) > FIELD_MAX) {
		*msg = arena_printf(a, "name, email and project are at most %d bytes long", FIELD_MAX);
		return UM_INVALID;
	}
	unsigned r = role_parse(role);
	if (!r || strcmp(role_name(r), role) != 0) {
		*msg = arena_printf(a, "invalid role: \"%.40s\" (expected api, user, manager, support or admin)", role);
		return UM_REFUSED;
	}
	char hash[PASSWORD_HASH_MAX];
	if (*pw && password_hash(pw, hash) < 0) {
		*msg = arena_printf(a, "the password cannot be hashed (at most %d bytes)", PASSWORD_MAX_LEN);
		return UM_REFUSED;
	}
	const char *p[] = {name, *pw ? hash : NULL, real, email, role, project};
	PGresult *res = db_query(a, sql_create, 6, p);
	explicit_bzero(hash, sizeof(hash));
	if (!res) {
		if (strcmp(db_last_sqlstate(), "23505") == 0)
			*msg = arena_printf(a, "user %s exists already", name);
		else
			*msg = arena_strdup(a, db_last_error());
		return UM_REFUSED;
	}
	log_info("user \"%s\" created with role %s", name, role);
	*msg = arena_printf(a, "User %s successfully created!", name);
	return UM_OK;
}

static const char sql_delete[] = "DELETE FROM hpc_user WHERE username = $1";

enum usermgmt_status usermgmt_delete(struct arena *a, const char *username, const char **msg)
{
	const char *p[] = {username};
	PGresult *res = db_query(a, sql_delete, 1, p);
	if (!res) {
		*msg = arena_strdup(a, db_last_error());
		return UM_REFUSED;
	}
	if (atol(PQcmdTuples(res)) == 0) {
		*msg = arena_printf(a, "there is no user %s", username);
		return UM_NOT_FOUND;
	}
	log_info("user \"%s\" deleted (sessions and settings with it)", username);
	*msg = arena_printf(a, "User %s deleted", username);
	return UM_OK;
}

static const char sql_user_lock[] =
	"SELECT array_to_string(roles, ','), array_to_json(projects)::text FROM hpc_user WHERE username = $1 FOR UPDATE";
static const char sql_role_add[] = "UPDATE hpc_user SET roles = array_append(roles, $2) WHERE username = $1";
static const char sql_role_del[] = "UPDATE hpc_user SET roles = array_remove(roles, $2) WHERE username = $1";
static const char sql_proj_add[] = "UPDATE hpc_user SET projects = array_append(projects, $2) WHERE username = $1";
static const char sql_proj_del[] = "UPDATE hpc_user SET projects = array_remove(projects, $2) WHERE username = $1";

/* inside a transaction: check and apply; NULL or the reason */
static const char *update_tx(struct arena *a, const char *name, enum usermgmt_op op, const char *value,
			     bool *missing)
{
	const char *p[] = {name, value};
	PGresult *res = db_query(a, sql_user_lock, 1, p);
	if (!res)
		return db_last_error();
	if (PQntuples(res) != 1) {
		*missing = true;
		return arena_printf(a, "there is no user %s", name);
	}
	unsigned roles = 0;
	const char *rl = PQgetvalue(res, 0, 0);
	if (*rl && roles_parse_list(rl, &roles) < 0)
		return "the user's roles cannot be read";
	struct json_object *projects = jsonio_parse(PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1), NULL, 0);
	if (!projects)
		return "the user's projects cannot be read";
	arena_cleanup_add(a, jsonio_put, projects);
	size_t np = json_object_array_length(projects);
	bool has_project = false;
	for (size_t i = 0; i < np; i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(projects, i)), value) == 0)
			has_project = true;
	const char *sql = NULL;
	unsigned role = role_parse(value);
	switch (op) {
	case UM_ADD_ROLE:
		if (!role)
			return arena_printf(a, "supplied role is no valid option : %s", value);
		if (roles & role)
			return arena_printf(a, "user %s already has role %s", name, value);
		sql = sql_role_add;
		break;
	case UM_REMOVE_ROLE:
		if (!role)
			return arena_printf(a, "supplied role is no valid option : %s", value);
		if (!(roles & role))
			return arena_printf(a, "role already deleted for user '%s': %s", name, value);
		if (role == ROLE_MANAGER && np)
			return arena_printf(a, "cannot remove role 'manager' while user %s still has assigned project(s) : %s",
					    name, PQgetvalue(res, 0, 1));
		sql = sql_role_del;
		break;
	case UM_ADD_PROJECT:
		if (strlen(value) > FIELD_MAX)
			return arena_printf(a, "a project name is at most %d bytes long", FIELD_MAX);
		if (!(roles & ROLE_MANAGER))
			return arena_printf(a, "user '%s' is not a manager", name);
		if (has_project)
			return arena_printf(a, "user '%s' already manages project '%s'", name, value);
		sql = sql_proj_add;
		break;
	case UM_REMOVE_PROJECT:
		if (!(roles & ROLE_MANAGER))
			return arena_printf(a, "user '%s' is not a manager", name);
		if (!has_project)
			return arena_printf(a, "user '%s': Cannot remove project '%s' - Does not match", name, value);
		sql = sql_proj_del;
		break;
	}
	if (!db_query(a, sql, 2, p))
		return db_last_error();
	/* a role taken away ends the user's sessions: nobody keeps a page open with old rights */
	if (op == UM_REMOVE_ROLE && session_end_user(a, name) < 0)
		return db_last_error();
	return NULL;
}

enum usermgmt_status usermgmt_update(struct arena *a, const char *username, enum usermgmt_op op,
				     const char *value, const char **msg)
{
	static const char *const what[] = {"adding role", "removing role", "adding project", "removing project"};
	static const char *const done[] = {"Add Role Success", "Remove Role Success", "Add Project Success",
					   "Remove Project Success"};
	if (op == UM_ADD_ROLE || op == UM_REMOVE_ROLE) { /* roles are stored lower-case */
		char *lc = arena_strdup(a, value);
		for (char *c = lc; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		value = lc;
	}
	if (db_begin() < 0) {
		*msg = arena_printf(a, "%s failed: %s", what[op], db_last_error());
		return UM_REFUSED;
	}
	bool missing = false;
	const char *why = update_tx(a, username, op, value, &missing);
	if (why) {
		why = arena_strdup(a, why);
		db_rollback();
		*msg = arena_printf(a, "%s failed: %s", what[op], why);
		return missing ? UM_NOT_FOUND : UM_REFUSED;
	}
	if (db_commit() < 0) {
		*msg = arena_printf(a, "%s failed: %s", what[op], db_last_error());
		return UM_REFUSED;
	}
	log_info("user \"%s\": %s %s", username, what[op], value);
	*msg = done[op];
	return UM_OK;
}

static const char sql_roles[] = "SELECT array_to_string(roles, ',') FROM hpc_user WHERE username = $1";

const char *usermgmt_jwt(struct arena *a, const char *username, enum usermgmt_status *st, const char **msg)
{
	const char *p[] = {username};
	PGresult *res = db_query(a, sql_roles, 1, p);
	if (!res) {
		*st = UM_UNAVAILABLE;
		*msg = arena_strdup(a, db_last_error());
		return NULL;
	}
	if (PQntuples(res) != 1) {
		*st = UM_NOT_FOUND;
		*msg = arena_printf(a, "user %s not found", username);
		return NULL;
	}
	if (!the_app->tokens || !token_keys_have(the_app->tokens, TOKEN_KEY_PRIVATE)) {
		*st = UM_UNAVAILABLE;
		*msg = "no private key configured (JWT_PRIVATE_KEY in .env) to sign tokens with";
		return NULL;
	}
	unsigned roles = 0;
	const char *rl = PQgetvalue(res, 0, 0);
	if (*rl)
		roles_parse_list(rl, &roles);
	const char *names[8];
	size_t n = 0;
	for (unsigned bit = 1; bit <= ROLE_ADMIN; bit <<= 1)
		if (roles & bit)
			names[n++] = role_name(bit);
	char err[256];
	char *t = token_sign(the_app->tokens, username, names, n, (int64_t)time(NULL), the_app->conf->jwt_max_age,
			     err, sizeof(err));
	if (!t) {
		*st = UM_UNAVAILABLE;
		*msg = arena_strdup(a, err);
		return NULL;
	}
	const char *out = arena_strdup(a, t);
	explicit_bzero(t, strlen(t));
	free(t);
	*st = UM_OK;
	return out;
}
