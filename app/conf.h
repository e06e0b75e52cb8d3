/* conf: cc-backend's config.json and .env, plus jobscope's own keys.
 *
 * (The module is "conf" because autoconf owns config.h.)
 * Loading follows cc-backend: top-level sections main, auth, archive, nats,
 * metric-store, metric-store-external, cron, ui; a top-level "X-file" key reads
 * section X from another file; main, auth, cron, nats and metric-store-external
 * are strict (an unknown key stops startup, naming file, key and reason).
 * jobscope's own keys live in "main" and are documented in README.md. */
#ifndef JOBSCOPE_CONF_H
#define JOBSCOPE_CONF_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct metrics_repos;

struct conf {
	char *path;                 /* the config file as given */
	struct json_object *root;   /* all sections, X-file includes resolved */

	/* main (cc-backend) */
	char *addr;
	bool disable_authentication;
	int64_t session_max_age;    /* seconds; "session-max-age", default 168h */
	int64_t short_running_jobs_duration;
	char **api_allowed_ips;     /* NULL-terminated; NULL = allow all */
	bool validate;
	/* main (jobscope) */
	char *db;                   /* libpq conninfo or URI; "" = PG* environment */
	int workers;                /* default: number of cores */
	char *fcgi_socket;
	char *templates_dir, *static_dir, *sql_dir;
	int64_t max_body_size;      /* bytes */
	int64_t home_counts_ttl;    /* seconds the start page keeps its total job counts */

	/* metric-store-external and main.prometheus (metrics.h) */
	struct metrics_repos *metric_repos;

	/* archive */
	char *archive_kind;         /* "file" (default) | "s3" */
	char *archive_path;         /* default ./var/job-archive */

	/* auth.jwts */
	int64_t jwt_max_age;        /* seconds, 0 = none given */

	/* .env */
	unsigned char session_key[64];
	size_t session_key_len;
	char *env_path;             /* which .env was read */
};

/* Load and validate; NULL with "file: key: reason" in err.  A missing config
 * file is an empty config, as in cc-backend.  Does not read .env. */
struct conf *conf_load(const char *path, char *err, size_t errlen);
/* Read .env ("./.env", else beside the config file) into the environment
 * (existing variables win) and take SESSION_KEY; -1 with err. */
int conf_load_env(struct conf *c, char *err, size_t errlen);
/* Parse one .env file into the environment; -1 with err. */
int conf_read_env_file(const char *path, char *err, size_t errlen);
void conf_free(struct conf *c);
/* Directory of data files: explicit key, else <exe dir>/<name> when running
 * from a build tree, else the installed pkgdatadir/<name>. Heap string. */
char *conf_data_dir(const char *explicit, const char *name);

#endif
