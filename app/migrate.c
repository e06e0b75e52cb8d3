#include "config.h"
#include "migrate.h"
#include "db.h"
#include "jsonio.h"
#include "log.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static const char create_table[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL, dirty boolean NOT NULL)";

int migrate_version(int *version, bool *dirty)
{
	PGconn *c = db_conn();
	if (!c)
		return -1;
	*version = 0;
	*dirty = false;
	PGresult *r = PQexec(c, "SELECT to_regclass('schema_migrations') IS NOT NULL");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_err("reading the schema version failed: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	bool exists = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (!exists)
		return 0;
	r = PQexec(c, "SELECT version, dirty FROM schema_migrations LIMIT 1");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_err("reading the schema version failed: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	if (PQntuples(r) == 1) {
		*version = atoi(PQgetvalue(r, 0, 0));
		*dirty = PQgetvalue(r, 0, 1)[0] == 't';
	}
	PQclear(r);
	return 0;
}

int migrate_check(char *err, size_t errlen)
{
	int v;
	bool dirty;
	if (migrate_version(&v, &dirty) < 0) {
		snprintf(err, errlen, "cannot read the database schema version: %s", db_last_error());
		return -1;
	}
	if (dirty) {
		snprintf(err, errlen, "the database schema is marked dirty at version %d (a migration failed halfway); repair it, then run `jobscope -migrate-db`", v);
		return -1;
	}
	if (v < DB_SCHEMA_VERSION) {
		snprintf(err, errlen, "the database schema is at version %d, this jobscope needs version %d: run `jobscope -migrate-db`", v, DB_SCHEMA_VERSION);
		return -1;
	}
	if (v > DB_SCHEMA_VERSION) {
		snprintf(err, errlen, "the database schema is at version %d, newer than this jobscope's %d: run the newer jobscope, or `jobscope -migrate-db` of that version to go back", v, DB_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

/* Find sql_dir/NNN_*.<kind>.sql for version; heap path or NULL. */
static char *find_file(const char *dir, int version, const char *kind)
{
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	char prefix[16], suffix[32];
	snprintf(prefix, sizeof(prefix), "%03d_", version);
	snprintf(suffix, sizeof(suffix), ".%s.sql", kind);
	char *found = NULL;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name), m = strlen(suffix);
		if (strncmp(e->d_name, prefix, 4) == 0 && n > m && strcmp(e->d_name + n - m, suffix) == 0) {
			size_t len = strlen(dir) + n + 2;
			found = malloc(len);
			if (found)
				snprintf(found, len, "%s/%s", dir, e->d_name);
			break;
		}
	}
	closedir(d);
	return found;
}

static double now(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* One migration file and the version bump, in one transaction. */
static int apply(const char *dir, int version, const char *kind, int new_version, FILE *out)
{
	char *path = find_file(dir, version, kind);
	if (!path) {
		fprintf(out, "no %03d_*.%s.sql in %s\n", version, kind, dir);
		return -1;
	}
	char err[512];
	size_t len;
	char *sql = jsonio_read_file(path, 16 * 1024 * 1024, &len, err, sizeof(err));
	if (!sql) {
		fprintf(out, "%s\n", err);
		free(path);
		return -1;
	}
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	fprintf(out, "%s %s ... ", strcmp(kind, "up") == 0 ? "applying" : "reverting", base);
	fflush(out);
	double t0 = now();
	PGconn *c = db_conn();
	int rc = -1;
	if (c && db_begin() == 0) {
		PGresult *r = PQexec(c, sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
			fprintf(out, "failed\n%s: %s", base, PQresultErrorMessage(r));
			PQclear(r);
			db_rollback();
		} else {
			PQclear(r);
			char v[16];
			snprintf(v, sizeof(v), "%d", new_version);
			const char *p[] = {v};
			r = PQexec(c, create_table);
			PQclear(r);
			r = PQexec(c, "DELETE FROM schema_migrations");
			PQclear(r);
			r = PQexecParams(c, "INSERT INTO schema_migrations (version, dirty) VALUES ($1, false)", 1, NULL, p, NULL, NULL, 0);
			bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
			PQclear(r);
			if (ok && db_commit() == 0) {
				fprintf(out, "done (%.2f s)\n", now() - t0);
				rc = 0;
			} else {
				fprintf(out, "failed to record version %d\n", new_version);
				db_rollback();
			}
		}
	} else {
		fprintf(out, "failed: no database connection\n");
	}
	free(sql);
	free(path);
	return rc;
}

int migrate_up(const char *dir, FILE *out)
{
	int v;
	bool dirty;
	if (migrate_version(&v, &dirty) < 0) {
		fprintf(out, "cannot read the schema version: %s\n", db_last_error());
		return -1;
	}
	if (dirty) {
		fprintf(out, "the schema is marked dirty at version %d; repair it by hand first\n", v);
		return -1;
	}
	if (v > DB_SCHEMA_VERSION) {
		fprintf(out, "the database is at version %d, newer than this jobscope (%d); nothing done\n", v, DB_SCHEMA_VERSION);
		return -1;
	}
	if (v == DB_SCHEMA_VERSION) {
		fprintf(out, "database schema is at version %d; nothing to do\n", v);
		return 0;
	}
	for (int next = v + 1; next <= DB_SCHEMA_VERSION; next++)
		if (apply(dir, next, "up", next, out) < 0)
			return -1;
	fprintf(out, "database schema is now at version %d\n", DB_SCHEMA_VERSION);
	return 0;
}

int migrate_down(const char *dir, int target, FILE *out)
{
	int v;
	bool dirty;
	if (migrate_version(&v, &dirty) < 0)
		return -1;
	for (; v > target; v--)
		if (apply(dir, v, "down", v - 1, out) < 0)
			return -1;
	fprintf(out, "database schema is now at version %d\n", v);
	return 0;
}
