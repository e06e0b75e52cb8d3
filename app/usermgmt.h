/* usermgmt: user administration as the settings page and the /config/
 * helpers do it, with cc-backend's rules and messages (COMPAT a.2, a.5).
 * Each call returns a status and sets *msg to a sentence (arena) for the
 * answer; the handlers turn statuses into HTTP codes. */
#ifndef JOBSCOPE_USERMGMT_H
#define JOBSCOPE_USERMGMT_H

struct arena;

enum usermgmt_status {
	UM_OK,
	UM_INVALID,    /* the request is malformed (cc-backend: 400) */
	UM_REFUSED,    /* the database or a rule refused it (cc-backend: 422) */
	UM_NOT_FOUND,  /* no such user (cc-backend answers 200 for a delete, 422 for an update) */
	UM_UNAVAILABLE, /* the server cannot do it (no JWT_PRIVATE_KEY) */
};

struct usermgmt_new {
	const char *username, *password, *role, *name, *email, *project; /* NULL = "" */
};

/* POST /config/users/: a local user with one role (and one project for a manager). */
enum usermgmt_status usermgmt_create(struct arena *a, const struct usermgmt_new *u, const char **msg);
/* DELETE /config/users/: the user goes, and with it (FK cascade) their sessions and settings. */
enum usermgmt_status usermgmt_delete(struct arena *a, const char *username, const char **msg);

enum usermgmt_op { UM_ADD_ROLE, UM_REMOVE_ROLE, UM_ADD_PROJECT, UM_REMOVE_PROJECT };
/* POST /config/user/{id}: one change; a role taken away ends the user's sessions.
 * On success *msg is cc-backend's "Add Role Success" etc. */
enum usermgmt_status usermgmt_update(struct arena *a, const char *username, enum usermgmt_op op,
				     const char *value, const char **msg);

/* A JWT as cc-backend's -jwt and /frontend/jwt/ make it: the user's roles
 * from the database, exp = now + auth.jwts.max-age, signed with
 * JWT_PRIVATE_KEY.  NULL with *st UM_NOT_FOUND or UM_UNAVAILABLE and *msg. */
const char *usermgmt_jwt(struct arena *a, const char *username, enum usermgmt_status *st, const char **msg);

#endif
