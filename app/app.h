/* app: what one process (master, worker or task runner) holds for its lifetime. */
#ifndef JOBSCOPE_APP_H
#define JOBSCOPE_APP_H

#include <stdbool.h>
#include <time.h>

struct conf;
struct tmpl_set;
struct archive;
struct token_keys;
struct dir_conf;

struct app {
	struct conf *conf;
	struct tmpl_set *tmpl;
	struct archive *archive;    /* NULL when the archive could not be opened */
	char *archive_error;        /* why, for the home page and the log */
	struct token_keys *tokens;  /* JWT keys from .env; none configured: API tokens refused */
	bool validate_user;         /* auth.jwts.validate-user */
	struct dir_conf *ldap;      /* auth.ldap (dir.h); NULL when not configured */
	const char *version;
};

extern struct app *the_app;

/* Load templates and open the archive for conf; -1 with err. */
int app_init(struct app *app, struct conf *conf, char *err, size_t errlen);
void app_release(struct app *app);

#endif
