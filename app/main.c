/* jobscope: command line (cc-backend's flags where they apply) and startup. */
#include "config.h"
#include "app.h"
#include "archive.h"
#include "arena.h"
#include "auth.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "flags.h"
#include "dir.h"
#include "importer.h"
#include "jsonio.h"
#include "log.h"
#include "migrate.h"
#include "password.h"
#include "router.h"
#include "server.h"
#include "str.h"
#include "token.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct flags {
	const char *config;
	const char *loglevel;
	bool logdate, version, init, migrate_db, server, help, init_db, gen_keypair, sync_ldap, routes;
	const char *jwt;
	const char *import_job;
	const char *add_user;
	const char *del_user;
};

static struct flags fl = {.config = "./config.json", .loglevel = "info"};

static const struct flag flagdefs[] = {
	{"config", FLAG_STR, &fl.config, 0, 0, "FILE: the configuration (default ./config.json)"},
	{"loglevel", FLAG_STR, &fl.loglevel, 0, 0, "debug|info|warn|err|crit (default info)"},
	{"logdate", FLAG_BOOL, &fl.logdate, 0, 0, "accepted for cc-backend compatibility; lines always carry a UTC time"},
	{"version", FLAG_BOOL, &fl.version, 0, 0, "print the version, database schema version and job archive version"},
	{"init", FLAG_BOOL, &fl.init, 0, 0, "create ./var, config.json and .env with fresh keys; refuses if ./var exists"},
	{"migrate-db", FLAG_BOOL, &fl.migrate_db, 0, 0, "bring the database schema to this version"},
	{"add-user", FLAG_STR, &fl.add_user, 0, 0, "NAME:ROLE[,ROLE...]:PASSWORD: add a local user"},
	{"del-user", FLAG_STR, &fl.del_user, 0, 0, "NAME: delete a user"},
	{"sync-ldap", FLAG_BOOL, &fl.sync_ldap, 0, 0, "add the directory's users (auth.ldap), delete vanished ones if sync-del-old-users"},
	{"init-db", FLAG_BOOL, &fl.init_db, 0, 0, "rebuild jobs and tags from the job archive (running jobs are lost)"},
	{"import-job", FLAG_STR, &fl.import_job, 0, 0, "META.json:DATA.json[,...]: import jobs into the archive and the database"},
	{"jwt", FLAG_STR, &fl.jwt, 0, 0, "NAME: print an API token (JWT) for a user"},
	{"gen-keypair", FLAG_BOOL, &fl.gen_keypair, 0, 0, "print a fresh Ed25519 key pair as the two .env lines"},
	{"server", FLAG_BOOL, &fl.server, 0, 0, "run the FastCGI server"},
	{"routes", FLAG_BOOL, &fl.routes, 0, 0, "print the route table (method, path, format, auth group, roles, CSRF) and exit"},
	{"help", FLAG_BOOL, &fl.help, 0, 0, "this text"},
};
#define NFLAGS (sizeof(flagdefs) / sizeof(flagdefs[0]))

static void usage(FILE *f)
{
	flags_usage(f, "jobscope [flags]", flagdefs, NFLAGS);
}

static int parse_flags(int argc, char **argv)
{
	if (flags_parse("jobscope", flagdefs, NFLAGS, argc, argv) < 0)
		return -1;
	if (log_level_parse(fl.loglevel) < 0) {
		fprintf(stderr, "jobscope: -loglevel expects debug, info, warn, err or crit, got \"%s\"\n", fl.loglevel);
		return -1;
	}
	return 0;
}

static int write_new_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		fprintf(stderr, "jobscope -init: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t len = strlen(text);
	ssize_t w = write(fd, text, len);
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

static const char init_config[] =
	"{\n"
	"  \"main\": {\n"
	"    \"addr\": \"127.0.0.1:8080\",\n"
	"    \"short-running-jobs-duration\": 300,\n"
	"    \"resampling\": {\n"
	"      \"minimum-points\": 600,\n"
	"      \"trigger\": 180,\n"
	"      \"resolutions\": [240, 60]\n"
	"    },\n"
	"    \"db\": \"dbname=jobscope\",\n"
	"    \"fcgi-socket\": \"./var/jobscope.sock\"\n"
	"  },\n"
	"  \"archive\": {\n"
	"    \"kind\": \"file\",\n"
	"    \"path\": \"./var/job-archive\"\n"
	"  },\n"
	"  \"auth\": {\n"
	"    \"jwts\": {\n"
	"      \"max-age\": \"2000h\"\n"
	"    }\n"
	"  }\n"
	"}\n";

static int do_init(void)
{
	struct stat st;
	if (stat("./var", &st) == 0) {
		fprintf(stderr, "jobscope -init: ./var exists already; nothing done\n");
		return 1;
	}
	if (stat("./config.json", &st) == 0 || stat("./.env", &st) == 0) {
		fprintf(stderr, "jobscope -init: config.json or .env exists already; nothing done\n");
		return 1;
	}
	unsigned char pub[32], priv[64], sk[32];
	if (crypto_ed25519_keypair(pub, priv) < 0 || crypto_random(sk, sizeof(sk)) < 0) {
		fprintf(stderr, "jobscope -init: cannot generate keys\n");
		return 1;
	}
	struct arena a;
	arena_init(&a, 4096);
	char *env = arena_printf(&a,
		"# Written by jobscope -init.  Keep this file secret (mode 0600).\n"
		"# Ed25519 key pair for API tokens (standard base64 of the raw keys, as cc-backend)\n"
		"JWT_PUBLIC_KEY=\"%s\"\n"
		"JWT_PRIVATE_KEY=\"%s\"\n"
		"# Secret for session cookies and CSRF tokens (standard base64)\n"
		"SESSION_KEY=\"%s\"\n"
		"# Password of the LDAP search user (auth.ldap.search-dn), if LDAP is used\n"
		"# LDAP_ADMIN_PASSWORD=\"\"\n",
		b64_encode(&a, pub, 32, false), b64_encode(&a, priv, 64, false), b64_encode(&a, sk, 32, false));
	int rc = 1;
	if (mkdir("./var", 0750) == 0 && mkdir("./var/job-archive", 0755) == 0 &&
	    write_new_file("./var/job-archive/version.txt", "3\n", 0644) == 0 &&
	    write_new_file("./config.json", init_config, 0640) == 0 &&
	    write_new_file("./.env", env, 0600) == 0) {
		printf("created ./var, ./var/job-archive, ./config.json and ./.env (fresh keys)\n"
		       "next: point main.db in config.json at your PostgreSQL database, then\n"
		       "  jobscope -migrate-db\n"
		       "  jobscope -add-user admin:admin,api:<password>\n"
		       "  jobscope -server\n");
		rc = 0;
	} else {
		fprintf(stderr, "jobscope -init: %s\n", strerror(errno));
	}
	explicit_bzero(priv, sizeof(priv));
	explicit_bzero(sk, sizeof(sk));
	arena_release(&a);
	return rc;
}

static int do_add_user(const char *spec)
{
	const char *c1 = strchr(spec, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1 || !c2) {
		fprintf(stderr, "jobscope: -add-user expects NAME:ROLE[,ROLE...]:PASSWORD, got \"%s\"\n", spec);
		return 2;
	}
	struct arena a;
	arena_init(&a, 4096);
	char *name = arena_strndup(&a, spec, (size_t)(c1 - spec));
	char *roles_s = arena_strndup(&a, c1 + 1, (size_t)(c2 - c1 - 1));
	const char *pw = c2 + 1;
	unsigned roles;
	int rc = 1;
	char hash[PASSWORD_HASH_MAX];
	if (!auth_username_valid(name) || !str_utf8_valid(name, strlen(name))) {
		fprintf(stderr, "jobscope: -add-user: the name must be 1 to 100 characters without control characters\n");
		rc = 2;
	} else if (roles_parse_list(roles_s, &roles) < 0) {
		fprintf(stderr, "jobscope: -add-user: roles must be a comma-separated list of api, user, manager, support, admin; got \"%s\"\n", roles_s);
		rc = 2;
	} else if (!*pw && roles != ROLE_API) {
		fprintf(stderr, "jobscope: -add-user: a password is required unless the only role is api\n");
		rc = 2;
	} else if (*pw && password_hash(pw, hash) < 0) {
		fprintf(stderr, "jobscope: -add-user: cannot hash the password (at most %d bytes)\n", PASSWORD_MAX_LEN);
	} else {
		const char *p[] = {name, *pw ? hash : NULL, roles_pg_array(&a, roles)};
		PGresult *r = db_query_once(&a,
			"INSERT INTO hpc_user (username, password, auth_source, roles) VALUES ($1, $2, 0, $3::text[])",
			3, p);
		if (r) {
			printf("added user %s with roles %s\n", name, roles_s);
			rc = 0;
		} else if (strcmp(db_last_sqlstate(), "23505") == 0) {
			fprintf(stderr, "jobscope: -add-user: user %s exists already\n", name);
		} else {
			fprintf(stderr, "jobscope: -add-user: %s\n", db_last_error());
		}
	}
	explicit_bzero(hash, sizeof(hash));
	arena_release(&a);
	return rc;
}

static int do_del_user(const char *name)
{
	struct arena a;
	arena_init(&a, 1024);
	const char *p[] = {name};
	PGresult *r = db_query_once(&a, "DELETE FROM hpc_user WHERE username = $1", 1, p);
	int rc = 1;
	if (!r)
		fprintf(stderr, "jobscope: -del-user: %s\n", db_last_error());
	else if (strcmp(PQcmdTuples(r), "0") == 0)
		fprintf(stderr, "jobscope: -del-user: no user %s\n", name);
	else {
		printf("deleted user %s (and their sessions)\n", name);
		rc = 0;
	}
	arena_release(&a);
	return rc;
}

/* cc-backend's -sync-ldap: one directory sync, each change on stdout */
static int do_sync_ldap(const struct conf *conf)
{
	char err[2048];
	struct dir_conf *dc;
	if (dir_conf_load(conf->root, conf->path, &dc, err, sizeof(err)) < 0) {
		fprintf(stderr, "jobscope: %s\n", err);
		return 1;
	}
	if (!dc) {
		fprintf(stderr, "jobscope: -sync-ldap: %s has no auth.ldap section\n", conf->path);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN); /* a directory that hangs up is an error message, not a dead process */
	struct dir_sync_report rep;
	int rc = dir_sync(dc, &rep, stdout, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "jobscope: -sync-ldap: %s\n", err);
	} else {
		char sum[512];
		dir_sync_summary(&rep, sum, sizeof(sum));
		printf("LDAP sync: %s\n", sum);
	}
	dir_conf_free(dc);
	return rc < 0 ? 1 : 0;
}

/* cc-backend's -jwt: a token with the user's roles, exp = now + auth.jwts.max-age */
static int do_jwt(const struct conf *conf, const char *name)
{
	char err[512];
	struct token_keys *k = token_keys_from_env(err, sizeof(err));
	if (!k) {
		fprintf(stderr, "jobscope: -jwt: %s\n", err);
		return 1;
	}
	int rc = 1;
	struct arena a;
	arena_init(&a, 1024);
	const char *p[] = {name};
	PGresult *r = db_query_once(&a, "SELECT array_to_string(roles, ',') FROM hpc_user WHERE username = $1", 1, p);
	unsigned roles = 0;
	if (!token_keys_have(k, TOKEN_KEY_PRIVATE)) {
		fprintf(stderr, "jobscope: -jwt: JWT_PRIVATE_KEY is not set in .env (jobscope -gen-keypair makes one)\n");
	} else if (!r || PQntuples(r) != 1) {
		fprintf(stderr, "jobscope: -jwt: no user %s\n", name);
	} else if (roles_parse_list(PQgetvalue(r, 0, 0), &roles) < 0) {
		fprintf(stderr, "jobscope: -jwt: user %s has no roles\n", name);
	} else {
		const char *names[8];
		size_t n = 0;
		for (unsigned bit = 1; bit <= ROLE_ADMIN; bit <<= 1)
			if (roles & bit)
				names[n++] = role_name(bit);
		if (!(roles & ROLE_API))
			fprintf(stderr, "jobscope: warning: user %s has no api role; the REST API will refuse this token\n", name);
		char *t = token_sign(k, name, names, n, (int64_t)time(NULL), conf->jwt_max_age, err, sizeof(err));
		if (t) {
			printf("%s\n", t);
			free(t);
			rc = 0;
		} else {
			fprintf(stderr, "jobscope: -jwt: %s\n", err);
		}
	}
	arena_release(&a);
	token_keys_free(k);
	return rc;
}

int main(int argc, char **argv)
{
	if (parse_flags(argc, argv) < 0)
		return 2;
	jsonio_init();
	if (fl.help) {
		usage(stdout);
		return 0;
	}
	log_set_level((enum log_level)log_level_parse(fl.loglevel));
	if (fl.version) {
		printf("jobscope %s\ndatabase schema version %d\njob archive version %d\n", PACKAGE_VERSION,
		       DB_SCHEMA_VERSION, ARCHIVE_VERSION);
		return 0;
	}
	if (fl.routes) {
		router_print(stdout, routes, routes_count);
		return 0;
	}
	if (fl.init)
		return do_init();
	if (fl.gen_keypair)
		return token_print_keypair(stdout) == 0 ? 0 : 1;

	char err[2048];
	struct conf *conf = conf_load(fl.config, err, sizeof(err));
	if (!conf) {
		fprintf(stderr, "jobscope: %s\n", err);
		return 1;
	}
	if (conf_load_env(conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "jobscope: %s\n", err);
		conf_free(conf);
		return 1;
	}
	db_setup(conf->db);
	int rc = 0;
	if (fl.migrate_db) {
		rc = migrate_up(conf->sql_dir, stdout) == 0 ? 0 : 1;
		goto out;
	}
	if (!db_conn()) {
		fprintf(stderr, "jobscope: cannot connect to PostgreSQL (main.db \"%s\" or the PG* environment): %s\n",
			conf->db, db_last_error());
		rc = 1;
		goto out;
	}
	if (migrate_check(err, sizeof(err)) < 0) {
		fprintf(stderr, "jobscope: %s\n", err);
		rc = 1;
		goto out;
	}
	if (fl.add_user && (rc = do_add_user(fl.add_user)) != 0)
		goto out;
	if (fl.del_user && (rc = do_del_user(fl.del_user)) != 0)
		goto out;
	if (fl.sync_ldap && (rc = do_sync_ldap(conf)) != 0)
		goto out;
	if (fl.jwt && (rc = do_jwt(conf, fl.jwt)) != 0)
		goto out;
	if (fl.init_db || fl.import_job) {
		struct archive *ar = archive_open(conf, err, sizeof(err));
		if (!ar) {
			fprintf(stderr, "jobscope: %s\n", err);
			rc = 1;
			goto out;
		}
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		if (fl.init_db)
			rc = importer_init_db(ar, cores > 0 ? (int)cores : 2, stdout) == 0 ? 0 : 1;
		if (rc == 0 && fl.import_job)
			rc = importer_import_jobs(ar, fl.import_job, stdout) == 0 ? 0 : 1;
		archive_close(ar);
		if (rc)
			goto out;
	}
	if (!fl.server) {
		if (!fl.add_user && !fl.del_user && !fl.sync_ldap && !fl.init_db && !fl.import_job && !fl.jwt)
			printf("No errors, server flag not set\n");
		goto out;
	}
	db_close(); /* the master holds no connection: each child opens its own */
	the_app = xcalloc(1, sizeof(*the_app));
	if (app_init(the_app, conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "jobscope: %s\n", err);
		free(the_app);
		conf_free(conf);
		return 1;
	}
	rc = server_run(fl.config, conf);
	conf = the_app->conf; /* a reload may have replaced it */
	app_release(the_app);
	free(the_app);
out:
	db_close();
	conf_free(conf);
	return rc;
}
