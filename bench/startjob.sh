#!/bin/bash
# bench/startjob.sh: start_job throughput through nginx beside raw INSERTs.
#
# With JOBS (1,000,000) rows already in the job table, it measures, in one run:
#   - POST /api/jobs/start_job/ through nginx with 16 parallel clients (wrk),
#     every request a new job (unique jobId), with an EdDSA token;
#   - the same kind of rows INSERTed directly, autocommitted, by 16 parallel
#     clients (pgbench), into the same table;
# and prints both rates and their ratio.  Not a test.
# Settings: BUILD_DIR (default: the checkout), JOBS, CLIENTS (16), DURATION (10s),
# WORKERS (default: jobscope's own, one per CPU core), PERF (a file: record a
# perf profile of this run's jobscope, PostgreSQL and nginx processes).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${PGHOST:-}" ]; then
	exec "$SRC/tests/lib/with-postgres.sh" "$0" "$@"
fi
BUILD=${BUILD_DIR:-$SRC}
JOBS=${JOBS:-1000000}
CLIENTS=${CLIENTS:-16}
DURATION=${DURATION:-10s}
JS=$BUILD/jobscope
[ -x "$JS" ] || { echo "bench/startjob.sh: no $JS; build first (make)" >&2; exit 2; }
for p in wrk pgbench; do
	command -v $p >/dev/null || [ -x "$(ls /usr/lib/postgresql/*/bin/$p 2>/dev/null | tail -n 1)" ] ||
		{ echo "bench/startjob.sh: $p is missing" >&2; exit 2; }
done
PGBENCH=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench | tail -n 1)

# shellcheck source=bench/cpu.sh
. "$SRC/bench/cpu.sh"

T=$(mktemp -d /tmp/jobscope-bench.XXXXXX)
cleanup() {
	[ -f "$T/nginx/nginx.pid" ] && kill "$(cat "$T/nginx/nginx.pid")" 2>/dev/null || true
	[ -n "${MASTER:-}" ] && kill -TERM "$MASTER" 2>/dev/null && wait "$MASTER" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/run" "$T/var" "$T/nginx" "$T/init"
cp -r "$SRC/tests/data/archive" "$T/var/job-archive"
(cd "$T/init" && "$JS" -init >/dev/null && cp .env "$T/.env")
DB=jobscope_bench
psql -q -c "CREATE DATABASE $DB" postgres
cat > "$T/config.json" <<JSON
{"main": {"db": "dbname=$DB", "fcgi-socket": "$T/run/jobscope.sock",${WORKERS:+ \"workers\": $WORKERS,}
          "templates-dir": "$SRC/templates", "static-dir": "$SRC/static", "sql-dir": "$SRC/sql"},
 "archive": {"kind": "file", "path": "./var/job-archive"},
 "auth": {"jwts": {"max-age": "2h"}}}
JSON
cd "$T"
"$JS" -migrate-db >/dev/null
"$JS" -add-user bench:api: >/dev/null
TOKEN=$("$JS" -jwt bench 2>/dev/null)

echo "inserting $JOBS jobs ..."
# preview '{}' as the task runner would set it for jobs without data: otherwise
# it would fill previews for the million rows during the timed runs
psql -q -v ON_ERROR_STOP=1 -d $DB <<SQL
INSERT INTO job (job_id, cluster, subcluster, start_time, duration, hpc_user, project, job_state,
                 resources, num_nodes, shared, monitoring_status, preview)
SELECT g, 'heron', 'main', 1600000000 + g, 3600, 'user' || (g % 997), 'p' || (g % 211),
       CASE WHEN g % 50 = 0 THEN 'running' ELSE 'completed' END,
       jsonb_build_array(jsonb_build_object('hostname', 'h' || lpad((1 + g % 992)::text, 4, '0'))), 1, 'none', 3, '{}'
FROM generate_series(1::bigint, $JOBS) g;
ANALYZE job;
SQL

STARTED=$(date +%s)
"$JS" -server > "$T/jobscope.log" 2>&1 &
MASTER=$!
for _ in $(seq 100); do [ -S "$T/run/jobscope.sock" ] && break; sleep 0.1; done
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -e "s|@PREFIX@|$T/nginx|g" -e "s|@LISTEN@|127.0.0.1:$PORT|g" -e "s|@SOCKET@|$T/run/jobscope.sock|g" \
    -e "s|@STATIC_DIR@|$SRC/static|g" -e "s|@BOOTSTRAP_DIR@|/usr/share/javascript/bootstrap5|g" \
    -e "s|@MIME_TYPES@|/etc/nginx/mime.types|g" -e "s|@FASTCGI_PARAMS@|/etc/nginx/fastcgi_params|g" \
    "$SRC/nginx/jobscope-demo.conf.in" > "$T/nginx/nginx.conf"
nginx -q -c "$T/nginx/nginx.conf" -p "$T/nginx"
B=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -sf -o /dev/null "$B/healthz" && break; sleep 0.1; done

# every request a new job: thread number and a counter make the jobId
cat > "$T/start.lua" <<'LUA'
local threads = 0
function setup(thread)
	thread:set("tid", threads)
	threads = threads + 1
end
function init(args)
	n = 0
	token = os.getenv("BENCH_TOKEN")
end
function request()
	n = n + 1
	local id = 100000000 + tid * 10000000 + n
	local body = string.format('{"jobId":%d,"cluster":"heron","subCluster":"main","user":"user7","project":"p7",' ..
		'"startTime":%d,"numNodes":1,"resources":[{"hostname":"h0007"}],"shared":"none"}', id, 1700000000 + n)
	return wrk.format("POST", "/api/jobs/start_job/", {["Content-Type"] = "application/json", ["X-Auth-Token"] = token}, body)
end
function response(status)
	if status ~= 201 then
		errors = (errors or 0) + 1
	end
end
LUA
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' \
	-d '{"jobId":99,"cluster":"heron","user":"u","project":"p","startTime":1700000000,"numNodes":1,"resources":[{"hostname":"h0001"}]}' \
	"$B/api/jobs/start_job/")
[ "$code" = 201 ] || { echo "bench/startjob.sh: start_job answers $code" >&2; tail "$T/jobscope.log" >&2; exit 1; }

# the task runner's first round at start-up (the durations and footprints of
# the 20,000 running jobs) keeps it and PostgreSQL busy for a while: the timed
# runs begin once both idle (at most 2 clock ticks in a second)
PGMASTER=$(head -n 1 "$(psql -Atq -c 'SHOW data_directory')/postmaster.pid")
prev=-100
for _ in $(seq 300); do
	now=$(( $(tree_cpu "$MASTER") + $(tree_cpu "$PGMASTER") ))
	[ $((now - prev)) -le 2 ] && break
	prev=$now
	sleep 1
done
echo "task runner and PostgreSQL idle after $(( $(date +%s) - STARTED )) s"
# Autovacuum off for the job table during the timed runs: the 50,000 or so rows each run
# adds would otherwise start a vacuum and analyze of the million-row table at a random
# moment of one run or the other (seen: the raw rate from 3,000 to 7,900 rows/s between
# runs); a checkpoint before each run for the same reason.
psql -q -d $DB -c "ALTER TABLE job SET (autovacuum_enabled = off)" -c CHECKPOINT
before=$(psql -Atq -d $DB -c "SELECT count(*) FROM job")
NGINX=$(cat "$T/nginx/nginx.pid")
c0_js=$(tree_cpu "$MASTER") c0_pg=$(tree_cpu "$PGMASTER") c0_ng=$(tree_cpu "$NGINX")
if [ -n "${PERF:-}" ]; then
	# a profile of this run's jobscope, PostgreSQL and nginx processes
	pids=$(for p in "$MASTER" "$PGMASTER" "$NGINX"; do echo "$p"; cat /proc/"$p"/task/*/children; done | tr -s ' \n' ',,')
	perf record -q -g -o "$PERF" -p "${pids%,}" -- sleep "${DURATION%s}" >/dev/null 2>&1 &
	PERF_PID=$!
fi
out=$(BENCH_TOKEN=$TOKEN wrk -t 2 -c "$CLIENTS" -d "$DURATION" --latency -s "$T/start.lua" "$B")
c1_js=$(tree_cpu "$MASTER") c1_pg=$(tree_cpu "$PGMASTER") c1_ng=$(tree_cpu "$NGINX")
after=$(psql -Atq -d $DB -c "SELECT count(*) FROM job")
[ -n "${PERF_PID:-}" ] && wait "$PERF_PID"
http_rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")

cat > "$T/insert.sql" <<'SQL'
\set n random(1, 2000000000)
INSERT INTO job (job_id, cluster, subcluster, start_time, hpc_user, project, job_state, resources, num_nodes, shared, monitoring_status)
VALUES (:n::bigint + 3000000000, 'heron', 'main', :n::bigint + 1700000000, 'user7', 'p7', 'running', '[{"hostname":"h0007"}]', 1, 'none', 1)
ON CONFLICT DO NOTHING;
SQL
dur=${DURATION%s}
psql -q -d $DB -c CHECKPOINT
before_raw=$(psql -Atq -d $DB -c "SELECT count(*) FROM job")
c2_pg=$(tree_cpu "$PGMASTER")
raw=$("$PGBENCH" -n -c "$CLIENTS" -j 2 -T "$dur" -f "$T/insert.sql" $DB 2>"$T/pgbench.err" | awk '/^tps/ {print $3; exit}') ||
	{ echo "bench/startjob.sh: pgbench failed:" >&2; cat "$T/pgbench.err" >&2; exit 1; }

c3_pg=$(tree_cpu "$PGMASTER")
after_raw=$(psql -Atq -d $DB -c "SELECT count(*) FROM job")
rows=$((after - before)) rows_raw=$((after_raw - before_raw))

printf '\n%s jobs in the table, %d parallel clients, %s each\n\n' "$before" "$CLIENTS" "$DURATION"
printf '%-52s %10s\n' "start_job through nginx (201s/s)" "$http_rps"
printf '%-52s %10s\n' "  p50 latency" "$p50"
printf '%-52s %10s\n' "  rows added / non-2xx answers" "$((after - before)) / ${non2xx:-0}"
# CPU microseconds per row added
printf '%-52s %10s\n' "  CPU us per job: jobscope" "$(per_item $((c1_js - c0_js)) $rows)"
printf '%-52s %10s\n' "  CPU us per job: PostgreSQL" "$(per_item $((c1_pg - c0_pg)) $rows)"
printf '%-52s %10s\n' "  CPU us per job: nginx" "$(per_item $((c1_ng - c0_ng)) $rows)"
printf '%-52s %10s\n' "raw autocommitted INSERT (pgbench, rows/s)" "$raw"
printf '%-52s %10s\n' "  rows added" "$rows_raw"
printf '%-52s %10s\n' "  CPU us per row: PostgreSQL" "$(per_item $((c3_pg - c2_pg)) $rows_raw)"
printf '\nstart_job at %.0f %% of the raw INSERT rate\n' "$(echo "100 * $http_rps / $raw" | bc -l)"
