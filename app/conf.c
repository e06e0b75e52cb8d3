#include "config.h"
#include "conf.h"
#include "jsonio.h"
#include "log.h"
#include "metrics.h"
#include "str.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef JOBSCOPE_PKGDATADIR
#define JOBSCOPE_PKGDATADIR "/usr/local/share/jobscope"
#endif

#define CONF_MAX_FILE (4 * 1024 * 1024)

enum ktype { K_ANY, K_STR, K_BOOL, K_INT, K_NUM, K_OBJ, K_ARR, K_DUR, K_STRARR };

struct keyspec {
	const char *name;
	enum ktype type;
	const struct keyspec *sub; /* K_OBJ: strict keys of the object; K_ARR: keys of each element */
};

static const struct keyspec db_config_keys[] = {
	{"cache-size-mb", K_INT, NULL}, {"soft-heap-limit-mb", K_INT, NULL},
	{"max-open-connections", K_INT, NULL}, {"max-idle-connections", K_INT, NULL},
	{"max-idle-time-minutes", K_INT, NULL}, {"busy-timeout-ms", K_INT, NULL},
	{NULL, K_ANY, NULL},
};
static const struct keyspec resampling_keys[] = {
	{"minimum-points", K_INT, NULL}, {"trigger", K_INT, NULL}, {"resolutions", K_ARR, NULL},
	{NULL, K_ANY, NULL},
};
static const struct keyspec api_subjects_keys[] = {
	{"subject-job-event", K_STR, NULL}, {"subject-node-state", K_STR, NULL},
	{"job-concurrency", K_INT, NULL}, {"node-concurrency", K_INT, NULL},
	{NULL, K_ANY, NULL},
};
static const struct keyspec nodestate_retention_keys[] = {
	{"policy", K_STR, NULL}, {"age", K_INT, NULL}, {"target-kind", K_STR, NULL},
	{"target-path", K_STR, NULL}, {"target-endpoint", K_STR, NULL},
	{"target-bucket", K_STR, NULL}, {"target-access-key", K_STR, NULL},
	{"target-secret-key", K_STR, NULL}, {"target-region", K_STR, NULL},
	{"target-use-path-style", K_BOOL, NULL}, {"max-file-size-mb", K_INT, NULL},
	{NULL, K_ANY, NULL},
};

/* main.prometheus[]: jobscope's Prometheus repositories (metrics.h); queries: metric -> PromQL */
static const struct keyspec prometheus_keys[] = {
	{"scope", K_STR, NULL}, {"url", K_STR, NULL}, {"token", K_STR, NULL},
	{"host-label", K_STR, NULL}, {"queries", K_OBJ, NULL},
	{NULL, K_ANY, NULL},
};

/* main: cc-backend's keys, then jobscope's own (documented in README.md) */
static const struct keyspec main_keys[] = {
	{"addr", K_STR, NULL}, {"api-allowed-ips", K_STRARR, NULL},
	{"user", K_STR, NULL}, {"group", K_STR, NULL},
	{"disable-authentication", K_BOOL, NULL}, {"embed-static-files", K_BOOL, NULL},
	{"static-files", K_STR, NULL}, {"db", K_STR, NULL},
	{"db-config", K_OBJ, db_config_keys}, {"enable-job-taggers", K_BOOL, NULL},
	{"validate", K_BOOL, NULL}, {"session-max-age", K_DUR, NULL},
	{"https-cert-file", K_STR, NULL}, {"https-key-file", K_STR, NULL},
	{"redirect-http-to", K_STR, NULL}, {"machine-state-dir", K_STR, NULL},
	{"stop-jobs-exceeding-walltime", K_INT, NULL},
	{"short-running-jobs-duration", K_INT, NULL}, {"emission-constant", K_NUM, NULL},
	{"resampling", K_OBJ, resampling_keys}, {"systemd-unit", K_STR, NULL},
	{"api-subjects", K_OBJ, api_subjects_keys},
	{"nodestate-retention", K_OBJ, nodestate_retention_keys},
	/* jobscope */
	{"workers", K_INT, NULL}, {"fcgi-socket", K_STR, NULL},
	{"templates-dir", K_STR, NULL}, {"static-dir", K_STR, NULL},
	{"sql-dir", K_STR, NULL}, {"max-body-size", K_INT, NULL},
	{"home-counts-ttl", K_INT, NULL},
	{"prometheus", K_ARR, prometheus_keys},
	{NULL, K_ANY, NULL},
};
static const struct keyspec jwts_keys[] = {
	{"max-age", K_DUR, NULL}, {"cookie-name", K_STR, NULL}, {"validate-user", K_BOOL, NULL},
	{"trusted-issuer", K_STR, NULL}, {"sync-user-on-login", K_BOOL, NULL},
	{"update-user-on-login", K_BOOL, NULL},
	{NULL, K_ANY, NULL},
};
static const struct keyspec ldap_keys[] = {
	{"url", K_STR, NULL}, {"user-base", K_STR, NULL}, {"search-dn", K_STR, NULL},
	{"user-bind", K_STR, NULL}, {"user-filter", K_STR, NULL}, {"username-attr", K_STR, NULL},
	{"uid-attr", K_STR, NULL}, {"sync-interval", K_DUR, NULL},
	{"sync-del-old-users", K_BOOL, NULL}, {"sync-user-on-login", K_BOOL, NULL},
	{"update-user-on-login", K_BOOL, NULL},
	{NULL, K_ANY, NULL},
};
static const struct keyspec oidc_keys[] = {
	{"provider", K_STR, NULL}, {"sync-user-on-login", K_BOOL, NULL},
	{"update-user-on-login", K_BOOL, NULL},
	{NULL, K_ANY, NULL},
};
static const struct keyspec auth_keys[] = {
	{"jwts", K_OBJ, jwts_keys}, {"ldap", K_OBJ, ldap_keys}, {"oidc", K_OBJ, oidc_keys},
	{NULL, K_ANY, NULL},
};
static const struct keyspec cron_keys[] = {
	{"commit-job-worker", K_DUR, NULL}, {"duration-worker", K_DUR, NULL},
	{"footprint-worker", K_DUR, NULL},
	{NULL, K_ANY, NULL},
};
static const struct keyspec nats_keys[] = {
	{"address", K_STR, NULL}, {"username", K_STR, NULL}, {"password", K_STR, NULL},
	{"creds-file-path", K_STR, NULL},
	{NULL, K_ANY, NULL},
};
static const struct keyspec mse_keys[] = {
	{"scope", K_STR, NULL}, {"url", K_STR, NULL}, {"token", K_STR, NULL},
	{NULL, K_ANY, NULL},
};

struct section {
	const char *name;
	enum ktype type;
	const struct keyspec *keys; /* strict sections only */
};
static const struct section sections[] = {
	{"main", K_OBJ, main_keys},
	{"auth", K_OBJ, auth_keys},
	{"archive", K_OBJ, NULL},       /* schema-checked upstream, not strict */
	{"nats", K_OBJ, nats_keys},
	{"metric-store", K_OBJ, NULL},
	{"metric-store-external", K_ARR, mse_keys},
	{"cron", K_OBJ, cron_keys},
	{"ui", K_OBJ, NULL},
	{NULL, K_ANY, NULL},
};

static const char *type_want(enum ktype t)
{
	switch (t) {
	case K_STR: return "a string";
	case K_BOOL: return "true or false";
	case K_INT: return "an integer";
	case K_NUM: return "a number";
	case K_OBJ: return "an object";
	case K_ARR: return "an array";
	case K_DUR: return "a duration such as \"168h\" or \"30m\"";
	case K_STRARR: return "an array of strings";
	case K_ANY: break;
	}
	return "a value";
}

static int check_value(const char *file, const char *key, struct json_object *v,
		       enum ktype t, const struct keyspec *sub, char *err, size_t errlen);

static int check_object(const char *file, const char *prefix, struct json_object *o,
			const struct keyspec *keys, char *err, size_t errlen)
{
	json_object_object_foreach(o, k, v) {
		const struct keyspec *ks = keys;
		while (ks->name && strcmp(ks->name, k) != 0)
			ks++;
		char full[256];
		snprintf(full, sizeof(full), "%s.%s", prefix, k);
		if (!ks->name) {
			snprintf(err, errlen, "%s: %s: unknown key (this section is strict; check the spelling, keys are kebab-case)", file, full);
			return -1;
		}
		if (check_value(file, full, v, ks->type, ks->sub, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int check_value(const char *file, const char *key, struct json_object *v,
		       enum ktype t, const struct keyspec *sub, char *err, size_t errlen)
{
	bool ok = true;
	int64_t secs;
	switch (t) {
	case K_ANY: break;
	case K_STR: ok = json_object_is_type(v, json_type_string); break;
	case K_BOOL: ok = json_object_is_type(v, json_type_boolean); break;
	case K_INT: ok = json_object_is_type(v, json_type_int); break;
	case K_NUM: ok = json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double); break;
	case K_OBJ: ok = json_object_is_type(v, json_type_object); break;
	case K_ARR: ok = json_object_is_type(v, json_type_array); break;
	case K_DUR:
		ok = json_object_is_type(v, json_type_string) &&
		     str_duration(json_object_get_string(v), &secs) == 0;
		break;
	case K_STRARR:
		ok = json_object_is_type(v, json_type_array);
		for (size_t i = 0; ok && i < json_object_array_length(v); i++)
			ok = json_object_is_type(json_object_array_get_idx(v, i), json_type_string);
		break;
	}
	if (!ok) {
		snprintf(err, errlen, "%s: %s: expected %s, got %s%s%s%s", file, key, type_want(t),
			 jsonio_type_name(v), json_object_is_type(v, json_type_string) ? " \"" : "",
			 json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "",
			 json_object_is_type(v, json_type_string) ? "\"" : "");
		return -1;
	}
	if (sub && t == K_OBJ)
		return check_object(file, key, v, sub, err, errlen);
	if (sub && t == K_ARR) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *e = json_object_array_get_idx(v, i);
			char full[256];
			snprintf(full, sizeof(full), "%s[%zu]", key, i);
			if (!json_object_is_type(e, json_type_object)) {
				snprintf(err, errlen, "%s: %s: expected an object, got %s", file, full, jsonio_type_name(e));
				return -1;
			}
			if (check_object(file, full, e, sub, err, errlen) < 0)
				return -1;
		}
	}
	return 0;
}

static char *get_str(struct json_object *sec, const char *key, const char *def)
{
	const char *s = jsonio_str(sec, key);
	return s ? xstrdup(s) : def ? xstrdup(def) : NULL;
}

static int64_t get_int(struct json_object *sec, const char *key, int64_t def)
{
	struct json_object *v = jsonio_get(sec, key);
	return v ? json_object_get_int64(v) : def;
}

static int64_t get_dur(struct json_object *sec, const char *key, int64_t def)
{
	const char *s = jsonio_str(sec, key);
	int64_t secs;
	return s && str_duration(s, &secs) == 0 ? secs : def;
}

/* Does a main.db value look like libpq's? cc-backend configs carry a SQLite path. */
static bool looks_like_conninfo(const char *s)
{
	return *s == '\0' || strchr(s, '=') || str_starts(s, "postgresql://") ||
	       str_starts(s, "postgres://");
}

static int extract(struct conf *c, char *err, size_t errlen)
{
	struct json_object *m = jsonio_get(c->root, "main");
	c->addr = get_str(m, "addr", "localhost:8080");
	struct json_object *v = jsonio_get(m, "disable-authentication");
	c->disable_authentication = v && json_object_get_boolean(v);
	v = jsonio_get(m, "validate");
	c->validate = v && json_object_get_boolean(v);
	c->session_max_age = get_dur(m, "session-max-age", 168 * 3600);
	c->short_running_jobs_duration = get_int(m, "short-running-jobs-duration", 300);

	struct json_object *ips = jsonio_get(m, "api-allowed-ips");
	if (ips && json_object_array_length(ips) > 0 &&
	    strcmp(json_object_get_string(json_object_array_get_idx(ips, 0)), "*") != 0) {
		size_t n = json_object_array_length(ips);
		c->api_allowed_ips = xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			c->api_allowed_ips[i] = xstrdup(json_object_get_string(json_object_array_get_idx(ips, i)));
	}

	const char *db = jsonio_str(m, "db");
	if (db && !looks_like_conninfo(db)) {
		log_warn("%s: main.db \"%s\" looks like cc-backend's SQLite path; jobscope uses PostgreSQL, so it is ignored and the PG* environment variables apply", c->path, db);
		db = NULL;
	}
	c->db = xstrdup(db ? db : "");
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	c->workers = (int)get_int(m, "workers", cores > 0 ? cores : 2);
	if (c->workers < 1 || c->workers > 1024) {
		snprintf(err, errlen, "%s: main.workers: expected 1 to 1024, got %d", c->path, c->workers);
		return -1;
	}
	c->fcgi_socket = get_str(m, "fcgi-socket", "/run/jobscope/fcgi.sock");
	c->templates_dir = conf_data_dir(jsonio_str(m, "templates-dir"), "templates");
	c->static_dir = conf_data_dir(jsonio_str(m, "static-dir"), "static");
	c->sql_dir = conf_data_dir(jsonio_str(m, "sql-dir"), "sql");
	c->max_body_size = get_int(m, "max-body-size", 32 * 1024 * 1024);
	c->home_counts_ttl = get_int(m, "home-counts-ttl", 60);
	if (c->home_counts_ttl < 0 || c->home_counts_ttl > 86400) {
		snprintf(err, errlen, "%s: main.home-counts-ttl: expected 0 to 86400 seconds, got %lld", c->path, (long long)c->home_counts_ttl);
		return -1;
	}
	if (c->max_body_size < 1024 || c->max_body_size > (int64_t)1 << 32) {
		snprintf(err, errlen, "%s: main.max-body-size: expected 1024 to 4294967296 bytes, got %lld",
			 c->path, (long long)c->max_body_size);
		return -1;
	}
	if (c->session_max_age <= 0) {
		snprintf(err, errlen, "%s: main.session-max-age: must be positive", c->path);
		return -1;
	}

	struct json_object *a = jsonio_get(c->root, "archive");
	c->archive_kind = get_str(a, "kind", "file");
	if (strcmp(c->archive_kind, "file") != 0 && strcmp(c->archive_kind, "s3") != 0) {
		snprintf(err, errlen, "%s: archive.kind: expected \"file\" or \"s3\", got \"%s\"%s", c->path,
			 c->archive_kind, strcmp(c->archive_kind, "sqlite") == 0 ? " (the SQLite archive backend is not supported)" : "");
		return -1;
	}
	c->archive_path = get_str(a, "path", "./var/job-archive");

	struct json_object *jwts = jsonio_get(jsonio_get(c->root, "auth"), "jwts");
	c->jwt_max_age = get_dur(jwts, "max-age", 0);

	c->metric_repos = metrics_repos_from_conf(c->root, c->path, err, errlen);
	if (!c->metric_repos)
		return -1;
	return 0;
}

/* Resolve top-level "X-file" keys: section X is read from the named file. */
static int resolve_includes(struct conf *c, char *err, size_t errlen)
{
	struct json_object *adds = json_object_new_object();
	struct json_object *dels = json_object_new_array();
	int rc = 0;
	json_object_object_foreach(c->root, k, v) {
		size_t n = strlen(k);
		if (n <= 5 || strcmp(k + n - 5, "-file") != 0)
			continue;
		char name[128];
		snprintf(name, sizeof(name), "%.*s", (int)(n - 5), k);
		const struct section *s = sections;
		while (s->name && strcmp(s->name, name) != 0)
			s++;
		if (!s->name)
			continue; /* unknown keys are reported by the section check */
		if (!json_object_is_type(v, json_type_string)) {
			snprintf(err, errlen, "%s: %s: expected a file name, got %s", c->path, k, jsonio_type_name(v));
			rc = -1;
			break;
		}
		if (jsonio_get(c->root, name)) {
			snprintf(err, errlen, "%s: %s: section \"%s\" is given both inline and as a file", c->path, k, name);
			rc = -1;
			break;
		}
		char ierr[512];
		struct json_object *sec = jsonio_parse_file(json_object_get_string(v), CONF_MAX_FILE, ierr, sizeof(ierr));
		if (!sec) {
			snprintf(err, errlen, "%s: %s: %s", c->path, k, ierr);
			rc = -1;
			break;
		}
		json_object_object_add(adds, name, sec);
		json_object_array_add(dels, json_object_new_string(k));
	}
	if (rc == 0) {
		json_object_object_foreach(adds, k2, v2) json_object_object_add(c->root, k2, json_object_get(v2));
		for (size_t i = 0; i < json_object_array_length(dels); i++)
			json_object_object_del(c->root, json_object_get_string(json_object_array_get_idx(dels, i)));
	}
	json_object_put(adds);
	json_object_put(dels);
	return rc;
}

struct conf *conf_load(const char *path, char *err, size_t errlen)
{
	struct conf *c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(path);
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		c->root = json_object_new_object(); /* as cc-backend: a missing file is an empty config */
	} else {
		c->root = jsonio_parse_file(path, CONF_MAX_FILE, err, errlen);
		if (!c->root)
			goto fail;
		if (!json_object_is_type(c->root, json_type_object)) {
			snprintf(err, errlen, "%s: expected a JSON object at the top, got %s", path, jsonio_type_name(c->root));
			goto fail;
		}
		if (resolve_includes(c, err, errlen) < 0)
			goto fail;
	}
	json_object_object_foreach(c->root, k, v) {
		const struct section *s = sections;
		while (s->name && strcmp(s->name, k) != 0)
			s++;
		if (!s->name) {
			snprintf(err, errlen, "%s: %s: unknown section (known: main, auth, archive, nats, metric-store, metric-store-external, cron, ui, and X-file includes)", path, k);
			goto fail;
		}
		if (check_value(path, k, v, s->type, s->keys, err, errlen) < 0)
			goto fail;
	}
	if (extract(c, err, errlen) < 0)
		goto fail;
	return c;
fail:
	conf_free(c);
	return NULL;
}

int conf_read_env_file(const char *path, char *err, size_t errlen)
{
	size_t len;
	char *data = jsonio_read_file(path, 1024 * 1024, &len, err, errlen);
	if (!data)
		return -1;
	int lineno = 0, rc = 0;
	char *save = NULL;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '#' || *p == '\0')
			continue;
		if (strncmp(p, "export ", 7) == 0)
			p += 7;
		char *eq = strchr(p, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected NAME=value", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		char *name = p, *val = eq + 1;
		for (char *e = eq - 1; e >= name && isspace((unsigned char)*e); e--)
			*e = '\0';
		while (isspace((unsigned char)*val))
			val++;
		size_t vl = strlen(val);
		while (vl && (val[vl - 1] == '\r' || isspace((unsigned char)val[vl - 1])))
			val[--vl] = '\0';
		if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
			val[vl - 1] = '\0';
			val++;
		} else {
			char *hash = strstr(val, " #"); /* unquoted values may end in a comment */
			if (hash)
				*hash = '\0';
		}
		if (!*name) {
			snprintf(err, errlen, "%s:%d: empty variable name", path, lineno);
			rc = -1;
			break;
		}
		setenv(name, val, 0); /* the real environment wins, as godotenv */
	}
	free(data);
	return rc;
}

int conf_load_env(struct conf *c, char *err, size_t errlen)
{
	char *dir = xstrdup(c->path), *slash = strrchr(dir, '/');
	char beside[PATH_MAX];
	if (slash) {
		*slash = '\0';
		snprintf(beside, sizeof(beside), "%s/.env", dir);
	} else {
		snprintf(beside, sizeof(beside), "./.env");
	}
	free(dir);
	const char *path = access("./.env", R_OK) == 0 ? "./.env" : beside;
	if (access(path, R_OK) != 0) {
		if (c->disable_authentication)
			return 0;
		snprintf(err, errlen, "no .env found (looked for ./.env and %s): it must hold SESSION_KEY (and JWT_PUBLIC_KEY/JWT_PRIVATE_KEY for the API); `jobscope -init` writes one", beside);
		return -1;
	}
	if (conf_read_env_file(path, err, errlen) < 0)
		return -1;
	free(c->env_path);
	c->env_path = xstrdup(path);
	const char *sk = getenv("SESSION_KEY");
	if (!sk || !*sk) {
		if (c->disable_authentication)
			return 0;
		snprintf(err, errlen, "%s: SESSION_KEY is missing or empty (standard base64 of random bytes)", path);
		return -1;
	}
	unsigned char key[256];
	size_t klen;
	if (strlen(sk) > 300 || b64_decode(sk, strlen(sk), key, &klen) < 0 || klen < 16) {
		snprintf(err, errlen, "%s: SESSION_KEY: expected standard base64 of at least 16 random bytes", path);
		return -1;
	}
	if (klen > sizeof(c->session_key))
		klen = sizeof(c->session_key);
	memcpy(c->session_key, key, klen);
	c->session_key_len = klen;
	return 0;
}

char *conf_data_dir(const char *explicit, const char *name)
{
	if (explicit)
		return xstrdup(explicit);
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			char cand[PATH_MAX + 64];
			struct stat st;
			/* an uninstalled build: the program sits at the top of the source tree */
			snprintf(cand, sizeof(cand), "%s/%s", exe, name);
			if (stat(cand, &st) == 0 && S_ISDIR(st.st_mode))
				return xstrdup(cand);
		}
	}
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s/%s", JOBSCOPE_PKGDATADIR, name);
	return xstrdup(buf);
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	free(c->path);
	if (c->root)
		json_object_put(c->root);
	free(c->addr);
	if (c->api_allowed_ips) {
		for (char **p = c->api_allowed_ips; *p; p++)
			free(*p);
		free(c->api_allowed_ips);
	}
	free(c->db);
	free(c->fcgi_socket);
	free(c->templates_dir);
	free(c->static_dir);
	free(c->sql_dir);
	free(c->archive_kind);
	free(c->archive_path);
	metrics_repos_free(c->metric_repos);
	free(c->env_path);
	free(c);
}
