#!/bin/bash
# bench/initdb.sh: how fast a large job archive is made and loaded into PostgreSQL.
#
# 1. jobscope-generate writes a -meta-only archive of JOBS jobs (default 100,000) for the
#    clusters heron and lynx into a temporary directory (meta.json with statistics, no data
#    files: -init-db reads meta.json only);
# 2. on a throw-away PostgreSQL (tests/lib/with-postgres.sh) it creates a database, runs
#    jobscope -migrate-db, then jobscope -init-db on that archive.
# It prints the time and jobs/s of steps 1 and 2, the CPU seconds of step 2 (jobscope's
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
# CPU ticks of the server: the postmaster's own, those of its children that have exited
# (backends, parallel workers: cutime, cstime) and of the ones still running
pm=$(head -n 1 "$PGHOST/data/postmaster.pid" 2>/dev/null || true)
pg_ticks() {
	[ -n "$pm" ] && [ -r "/proc/$pm/stat" ] || { echo 0; return; }
	local t c
	t=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")
	for c in $(cat "/proc/$pm/task/$pm/children" 2>/dev/null); do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}
psql -qXc CHECKPOINT "$db" >/dev/null
c2=$(pg_ticks)
t2=$(now)
(cd "$work" && TIMEFORMAT='%U %S' && { time "$BUILD_DIR/jobscope" -config config.json -init-db >"$work/initdb.log" 2>&1; } 2>"$work/cpu") ||
	{ cat "$work/initdb.log" >&2; die "jobscope -init-db failed"; }
t3=$(now)
sleep 1 # the backend's exit reaches the postmaster's cutime
c3=$(pg_ticks)
rows=$(psql -qXAtc "SELECT count(*) FROM job" "$db")
[ "$rows" -eq "$JOBS" ] || { cat "$work/initdb.log" >&2; die "the job table has $rows rows, expected $JOBS"; }

printf 'jobscope-generate -meta-only  %s\n' "$(rate "$JOBS" "$t0" "$t1")"
printf 'jobscope -init-db             %s  (%d rows in job)\n' "$(rate "$JOBS" "$t2" "$t3")" "$rows"
read -r cu cs <"$work/cpu"
awk -v u="$cu" -v s="$cs" -v p="$((c3 - c2))" -v hz="$(getconf CLK_TCK)" 'BEGIN {
	printf "  CPU: jobscope %.1f s (user %.1f, sys %.1f), postgres %.1f s, total %.1f s\n", u + s, u, s, p / hz, u + s + p / hz }'
printf 'jobscope-generate said:\n'
sed 's/^/    /' "$work/generate.log"
printf 'jobscope -init-db said:\n'
sed 's/^/    /' "$work/initdb.log"
