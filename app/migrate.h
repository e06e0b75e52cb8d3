/* migrate: the database schema, versioned by the files in sql/.
 *
 * sql/NNN_name.up.sql and .down.sql; each applied in its own transaction
 * together with the version bump in schema_migrations(version, dirty). */
#ifndef JOBSCOPE_MIGRATE_H
#define JOBSCOPE_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* the schema version this jobscope needs */
#define DB_SCHEMA_VERSION 3

/* Current version (0 for an empty database); -1 when the database cannot be read. */
int migrate_version(int *version, bool *dirty);
/* 0 when the database is at DB_SCHEMA_VERSION; else -1 and a sentence that says which command fixes it. */
int migrate_check(char *err, size_t errlen);
/* Apply every missing up migration up to DB_SCHEMA_VERSION, reporting each on out. */
int migrate_up(const char *sql_dir, FILE *out);
/* Apply down migrations until the database is at target. */
int migrate_down(const char *sql_dir, int target, FILE *out);

#endif
