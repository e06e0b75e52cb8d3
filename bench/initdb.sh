#!/bin/bash
# bench/initdb.sh: how fast a large job archive is made and loaded into PostgreSQL.
#
# 1. jobscope-generate writes a -meta-only archive of JOBS jobs (default 100,000) for the
#    clusters heron and lynx into a temporary directory (meta.json with statistics, no data
#    files: -init-db reads meta.json only);
# 2. on a throw-away PostgreSQL (tests/lib/with-postgres.sh) it creates a database, runs
#    jobscope -migrate-db, then jobscope -init-db on that archive;
# 3. the floor: PostgreSQL alone loads the rows that -init-db made (written to a file)
#    with COPY FREEZE into an empty table shaped like job, without indexes, and rolls back.
# It prints the time and jobs/s of steps 1 to 3, the CPU seconds of steps 2 and 3 (jobscope's
# user+sys, and the PostgreSQL server's: its backends and parallel workers), and removes
# everything afterwards.  On a busy machine the CPU seconds are the steadier figure.
# Not a test: it neither passes nor fails on numbers, and it never runs in make check.
#
#     BUILD_DIR=/path/to/build bench/initdb.sh
#
# Settings (environment):
#   BUILD_DIR   the source dir   where ./jobscope and ./jobscope-generate were built
#                                (use an optimised build: a sanitizer build measures ASan)
#   JOBS        100000           jobs to generate and load
#   SEED        1                generator seed
#   THREADS     (cores)          generator threads
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(cd "${BUILD_DIR:-$SRC}" && pwd)
JOBS=${JOBS:-100000}
SEED=${SEED:-1}
THREADS=${THREADS:-$(nproc)}

die() { printf 'bench/initdb.sh: %s\n' "$*" >&2; exit 2; }

[[ $JOBS =~ ^[0-9]+$ ]] && [ "$JOBS" -ge 1 ] || die "JOBS must be a positive number, not '$JOBS'"
[[ $SEED =~ ^[0-9]+$ ]] || die "SEED must be a number, not '$SEED'"
[[ $THREADS =~ ^[0-9]+$ ]] && [ "$THREADS" -ge 1 ] || die "THREADS must be a positive number, not '$THREADS'"
for p in jobscope jobscope-generate; do
	[ -x "$BUILD_DIR/$p" ] || die "$BUILD_DIR/$p is missing: build it (make) or set BUILD_DIR"
done

# Outside the throw-away PostgreSQL: start one and come back in.
if [ "${JOBSCOPE_INITDB_BENCH:-}" != inner ]; then
	exec env JOBSCOPE_INITDB_BENCH=inner BUILD_DIR="$BUILD_DIR" JOBS="$JOBS" SEED="$SEED" THREADS="$THREADS" \
		"$SRC/tests/lib/with-postgres.sh" "$0" "$@"
fi

work=$(mktemp -d /tmp/jobscope-initdb.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { d = b - a; printf "%8.1f s  %10.0f jobs/s", d, (d > 0 ? n / d : 0) }'; }

printf 'jobs: %d (clusters heron, lynx), build: %s, %d cores\n' "$JOBS" "$BUILD_DIR" "$(nproc)"

# 1. the archive
t0=$(now)
"$BUILD_DIR/jobscope-generate" -archive "$work/archive" \
	-cluster "$SRC/tests/data/archive/heron/cluster.json" -cluster "$SRC/tests/data/archive/lynx/cluster.json" \
	-jobs "$JOBS" -seed "$SEED" -end 1717200000 -meta-only -threads "$THREADS" >"$work/generate.log" 2>&1 ||
	{ cat "$work/generate.log" >&2; die "jobscope-generate failed"; }
t1=$(now)

# 2. a database, its schema, and -init-db
db=jobscope_bench
psql -qXc "CREATE DATABASE $db" >/dev/null
(cd "$work" && "$BUILD_DIR/jobscope" -init >/dev/null) # .env with fresh keys
cat >"$work/config.json" <<JSON
{
  "main": { "db": "dbname=$db", "sql-dir": "$SRC/sql" },
  "archive": { "kind": "file", "path": "$work/archive" }
}
JSON
(cd "$work" && "$BUILD_DIR/jobscope" -config config.json -migrate-db >"$work/migrate.log" 2>&1) ||
	{ cat "$work/migrate.log" >&2; die "jobscope -migrate-db failed"; }
# CPU ticks of the server (tree_cpu): the postmaster's own, and those of its children,
# running or exited (backends, parallel workers)
# shellcheck source=bench/cpu.sh
. "$SRC/bench/cpu.sh"
pm=$(head -n 1 "$PGHOST/data/postmaster.pid")
psql -qXc CHECKPOINT "$db" >/dev/null
c2=$(tree_cpu "$pm")
t2=$(now)
(cd "$work" && TIMEFORMAT='%U %S' && { time "$BUILD_DIR/jobscope" -config config.json -init-db >"$work/initdb.log" 2>&1; } 2>"$work/cpu") ||
	{ cat "$work/initdb.log" >&2; die "jobscope -init-db failed"; }
t3=$(now)
sleep 1 # the backend's exit reaches the postmaster's cutime
c3=$(tree_cpu "$pm")
rows=$(psql -qXAtc "SELECT count(*) FROM job" "$db")
[ "$rows" -eq "$JOBS" ] || { cat "$work/initdb.log" >&2; die "the job table has $rows rows, expected $JOBS"; }

# 3. the floor: PostgreSQL alone loads the same rows, from a file through psql, into an
#    empty table shaped like job (defaults, CHECK constraints, storage) without indexes,
#    with COPY FREEZE and lz4 as -init-db uses them, in a transaction that is rolled back.
#    All columns: those -init-db leaves out hold their defaults (mostly NULL) here too.
psql -qXc "\\copy job TO '$work/job.copy'" "$db"
copy_bytes=$(stat -c %s "$work/job.copy")
c4=$(tree_cpu "$pm")
t4=$(now)
psql -qX -v ON_ERROR_STOP=1 "$db" >/dev/null <<SQL
BEGIN;
SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings
 WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals);
CREATE TABLE job_floor (LIKE job INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION);
\\copy job_floor FROM '$work/job.copy' WITH (FREEZE)
ROLLBACK;
SQL
t5=$(now)
sleep 1
c5=$(tree_cpu "$pm")

printf 'jobscope-generate -meta-only  %s\n' "$(rate "$JOBS" "$t0" "$t1")"
printf 'jobscope -init-db             %s  (%d rows in job)\n' "$(rate "$JOBS" "$t2" "$t3")" "$rows"
read -r cu cs <"$work/cpu"
awk -v u="$cu" -v s="$cs" -v p="$((c3 - c2))" -v hz="$TCK" 'BEGIN {
	printf "  CPU: jobscope %.1f s (user %.1f, sys %.1f), postgres %.1f s, total %.1f s\n", u + s, u, s, p / hz, u + s + p / hz }'
printf 'COPY alone, no indexes        %s  (the same rows: %d MB of COPY text)\n' "$(rate "$JOBS" "$t4" "$t5")" \
	$((copy_bytes / 1000000))
awk -v p="$((c5 - c4))" -v hz="$TCK" 'BEGIN { printf "  CPU: postgres %.1f s\n", p / hz }'
awk -v a="$t2" -v b="$t3" -v c="$t4" -v d="$t5" 'BEGIN {
	printf "-init-db at %.0f %% of the rate of that COPY alone\n", 100 * (d - c) / (b - a) }'
printf 'jobscope-generate said:\n'
sed 's/^/    /' "$work/generate.log"
printf 'jobscope -init-db said:\n'
sed 's/^/    /' "$work/initdb.log"
