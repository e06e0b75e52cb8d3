/* auth: users, roles and who is calling (COMPAT f). */
#ifndef JOBSCOPE_AUTH_H
#define JOBSCOPE_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct req;

enum role {
	ROLE_API = 1 << 0,
	ROLE_USER = 1 << 1,
	ROLE_MANAGER = 1 << 2,
	ROLE_SUPPORT = 1 << 3,
	ROLE_ADMIN = 1 << 4,
};
#define ROLE__ALL (ROLE_API | ROLE_USER | ROLE_MANAGER | ROLE_SUPPORT | ROLE_ADMIN)

enum auth_source { AUTH_SOURCE_LOCAL = 0, AUTH_SOURCE_LDAP = 1, AUTH_SOURCE_TOKEN = 2, AUTH_SOURCE_OIDC = 3 };

struct user {
	const char *username;
	const char *name;
	const char *email;
	unsigned roles;
	const char **projects;   /* NULL-terminated */
	int auth_source;
};

/* "admin" -> ROLE_ADMIN, 0 when unknown */
unsigned role_parse(const char *s);
const char *role_name(unsigned role);
/* comma-separated list ("admin,api"); -1 on an unknown or empty name */
int roles_parse_list(const char *s, unsigned *roles);
/* the roles as a PostgreSQL text[] literal ("{admin,api}") */
const char *roles_pg_array(struct arena *a, unsigned roles);
/* highest role (cc-backend's auth level): ROLE_ADMIN > SUPPORT > MANAGER > USER > API */
unsigned auth_level(unsigned roles);
/* cc-backend's username rule: 1..100 characters, no control characters. */
bool auth_username_valid(const char *s);

#endif
