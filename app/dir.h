/* dir: the directory (LDAP) as a source of users (COMPAT d.3, f).
 *
 * Configuration is cc-backend's auth.ldap section.  The URL (one) decides the
 * transport: "ldap://host[:port]" is plain LDAP, "ldaps://host[:port]" is LDAP
 * over TLS with the certificate checked for the host name and against the
 * system's CAs, or TLS_CACERT in ldap.conf / LDAPTLS_CACERT (which .env may
 * set).  StartTLS is not offered: cc-backend has no key for it and the auth
 * section is strict.
 *
 * Login binds as user-bind with "{username}" replaced by the RFC 4514-escaped
 * name; the sync and sync-user-on-login bind as search-dn with
 * LDAP_ADMIN_PASSWORD from .env.  Values that enter a search filter are
 * escaped.  Connecting (TCP and TLS handshake) has 10 s, each operation 30 s,
 * so a directory that is down or hangs costs LDAP users their login, never the
 * workers. */
#ifndef JOBSCOPE_DIR_H
#define JOBSCOPE_DIR_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DIR_CONNECT_TIMEOUT 10 /* seconds */
#define DIR_OP_TIMEOUT 30      /* seconds */

struct dir_conf {
	char *url;
	char *user_base;
	char *search_dn;
	char *user_bind;        /* holds "{username}" */
	char *user_filter;      /* as configured, with parentheses added if it had none */
	char *username_attr;    /* display name; default "gecos" */
	char *uid_attr;         /* login name; default "uid" */
	int64_t sync_interval;  /* seconds; 0 = no periodic sync */
	bool sync_del_old_users;
	bool sync_user_on_login;
	bool update_user_on_login;
};

/* auth.ldap of a loaded configuration: 0 with *out NULL when there is none,
 * 0 with *out set, or -1 with "file: auth.ldap.key: reason" in err. */
int dir_conf_load(struct json_object *root, const char *path, struct dir_conf **out, char *err, size_t errlen);
void dir_conf_free(struct dir_conf *c);

enum dir_status { DIR_OK = 0, DIR_DENIED = 1, DIR_UNAVAILABLE = -1 };

enum dir_login_mode {
	DIR_BIND_ONLY,  /* a known LDAP user: bind as the user */
	DIR_FIND_FIRST, /* an unknown user (sync-user-on-login): the search account must find exactly
			 * one entry under user-filter whose uid-attr is the name, then bind as the user */
	DIR_READ_NAME,  /* a known user (update-user-on-login): bind, then read the own entry's name */
};

/* Check a password against the directory.  DIR_OK, DIR_DENIED (wrong password,
 * no such user, empty password: never sent) or DIR_UNAVAILABLE (directory down,
 * timeout, configuration); err gets the reason for the log (never the password).
 * *name receives username-attr (heap, NULL when absent or not asked for). */
enum dir_status dir_login(const struct dir_conf *c, const char *user, const char *password,
			  enum dir_login_mode mode, char **name, char *err, size_t errlen);

struct dir_sync_report {
	long found;      /* users read from the directory */
	long added;
	long deleted;
	long stale_kept; /* LDAP users no longer in the directory, kept (sync-del-old-users off) */
	long conflicts;  /* directory names that belong to a non-LDAP account, left alone */
	long skipped;    /* entries without a usable uid-attr value */
};

/* One sync (COMPAT f): bind as search-dn, read every user under user-base with
 * user-filter, add the missing ones (roles {user}, auth source LDAP), delete
 * vanished LDAP users if sync-del-old-users.  Nothing changes unless the
 * directory was read in full.  out (may be NULL) gets a line per change.
 * 0, or -1 with err. */
int dir_sync(const struct dir_conf *c, struct dir_sync_report *rep, FILE *out, char *err, size_t errlen);
/* "12 users in the directory: 2 added, 1 deleted, ..." */
void dir_sync_summary(const struct dir_sync_report *rep, char *buf, size_t len);
/* The task runner's periodic sync: dir_sync with the outcome in the log. */
void dir_sync_logged(const struct dir_conf *c);

/* RFC 4514 escaping of one attribute value for a DN (heap string). */
char *dir_dn_escape(const char *s);

#endif
