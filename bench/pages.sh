#!/bin/bash
# bench/pages.sh: the job list and the job view with 1,000,000 jobs in the database.
#
# Starts its own stack on loopback in a temporary directory (PostgreSQL from
# tests/lib/with-postgres.sh, jobscope -server, nginx from the demo template),
# inserts 1,000,000 job rows directly with SQL (running ones only among the
# newest, within their walltime, as on a real cluster: a year of "running"
# jobs would keep the task runner's periodic running-job work busy during the
# runs), imports one 64-node, 24-hour, 10-metric job with `jobscope
# -import-job`, and measures with wrk, in one run:
#   /ping                                   the bare route (baseline), sent
#                                           without the session cookie: with
#                                           it, /ping looks the session up too
#                                           (a public route shows who is
#                                           logged in), which is no bare route
#   /monitoring/jobs/                       the default job list
#   /monitoring/jobs/?cluster=…&state=…     the job list with two filters
#   /monitoring/jobs/?node=h9999            a rare filter value: a node with three
#                                           jobs, 200 days old (a plan that walks
#                                           the start-time index to find them takes
#                                           a second per page)
#   /monitoring/job/<id>                    the job view of the big job
# Prints req/s, p50, p99 and the CPU microseconds per request of jobscope (master,
# workers, task runner), PostgreSQL (all its processes) and nginx per row, and the job
# list's share of the bare route.
# Not a test.  Settings: BUILD_DIR (where ./jobscope is; default: the checkout),
# JOBS (1000000), THREADS (2), CONNECTIONS (16), DURATION (10s), PERF (a file:
# record a perf profile of jobscope, PostgreSQL and nginx during the default list),
# SAVE (a directory: keep the measured pages there, to see what they weigh).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${PGHOST:-}" ]; then
	exec "$SRC/tests/lib/with-postgres.sh" "$0" "$@"
fi
BUILD=${BUILD_DIR:-$SRC}
JOBS=${JOBS:-1000000}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
DURATION=${DURATION:-10s}
JS=$BUILD/jobscope
[ -x "$JS" ] || { echo "bench/pages.sh: no $JS; build first (make)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench/pages.sh: wrk is missing (apt-get install wrk)" >&2; exit 2; }
PY=/usr/bin/python3
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
{"main": {"db": "dbname=$DB", "fcgi-socket": "$T/run/jobscope.sock", "workers": 2,
          "templates-dir": "$SRC/templates", "static-dir": "$SRC/static", "sql-dir": "$SRC/sql"},
 "archive": {"kind": "file", "path": "./var/job-archive"}}
JSON
cd "$T"
"$JS" -migrate-db >/dev/null
"$JS" -add-user bench:admin,api:bench >/dev/null

echo "inserting $JOBS jobs ..."
t0=$(date +%s.%N)
psql -q -v ON_ERROR_STOP=1 -d $DB <<SQL
INSERT INTO job (job_id, cluster, subcluster, start_time, duration, walltime, hpc_user, project, job_state,
                 resources, num_nodes, num_hwthreads, num_acc, shared, monitoring_status, energy, footprint,
                 meta_data, preview)
SELECT 1000000 + g,
       CASE WHEN g % 5 = 0 THEN 'lynx' ELSE 'heron' END,
       CASE WHEN g % 5 = 0 THEN 'a100' WHEN g % 17 = 0 THEN 'bigmem' ELSE 'main' END,
       extract(epoch FROM now())::bigint - (g * 37) % (365 * 86400) - 60,
       (g * 7919) % 86400 + 60, 86400,
       'user' || lpad(((g * g) % 997)::text, 3, '0'), 'p' || lpad(((g * 31) % 211)::text, 4, '0'),
       CASE WHEN g % 8 = 7 AND g > 2000 THEN 'completed'
            ELSE (ARRAY['completed','completed','completed','completed','failed','cancelled','timeout','running'])[1 + g % 8] END,
       jsonb_build_array(jsonb_build_object('hostname', CASE WHEN g % 5 = 0 THEN 'l' || lpad((1 + g % 64)::text, 3, '0')
                                                              ELSE 'h' || lpad((1 + g % 992)::text, 4, '0') END)),
       1 + (g % 4), 72 * (1 + (g % 4)), CASE WHEN g % 5 = 0 THEN 8 ELSE 0 END, 'none', 3,
       round(((g % 1000) / 100.0)::numeric, 2),
       jsonb_build_object('cpu_load_avg', (g % 72)::float8, 'flops_any_avg', (g % 3000)::float8,
                          'mem_bw_avg', (g % 400)::float8, 'mem_used_max', (g % 256)::float8),
       jsonb_build_object('jobName', 'run-' || (g % 5000)),
       jsonb_build_object('cpu_load', jsonb_build_object('t', 60, 'n', 60,
           'v', to_jsonb(ARRAY[(g%72)::float8, (g%70)::float8, (g%60)::float8, (g%72)::float8, (g%50)::float8, (g%72)::float8])))
FROM generate_series(1::bigint, $JOBS) g;
-- a node that ran three jobs, 200 days ago: a rare filter value
INSERT INTO job (job_id, cluster, subcluster, start_time, duration, walltime, hpc_user, project, job_state,
                 resources, num_nodes, num_hwthreads, num_acc, shared, monitoring_status, footprint, meta_data)
SELECT 9000000 + g, 'heron', 'main', extract(epoch FROM now())::bigint - 200 * 86400 - g * 1000, 3600, 86400,
       'user001', 'p0001', 'completed', '[{"hostname": "h9999"}]', 1, 72, 0, 'none', 3,
       '{"cpu_load_avg": 1}', '{"jobName": "rare"}'
FROM generate_series(1, 3) g;
ANALYZE job;
SQL
printf '  %.1f s\n' "$(echo "$(date +%s.%N) - $t0" | bc)"

echo "writing and importing a 64-node, 24-hour, 10-metric job ..."
"$PY" - "$T" <<'PYEOF'
import json, math, random, sys, time
T = sys.argv[1]
random.seed(7)
start = int(time.time()) - 90000
hosts = ["h%04d" % (i + 1) for i in range(64)]
meta = {"jobId": 42, "user": "user001", "project": "p0001", "cluster": "heron", "subCluster": "main",
        "numNodes": 64, "numHwthreads": 64 * 72, "shared": "none", "jobState": "completed",
        "duration": 86400, "walltime": 86400, "startTime": start, "resources": [{"hostname": h} for h in hosts],
        "metaData": {"jobName": "big-64-node-day"}}
metrics = [("cpu_load", "", "", 72), ("cpu_user", "", "", 100), ("mem_used", "B", "G", 200),
           ("flops_any", "F/s", "G", 3000), ("mem_bw", "B/s", "G", 300), ("clock", "Hz", "M", 3000),
           ("ipc", "IPC", "", 3), ("cpu_power", "W", "", 500), ("ib_bw", "B/s", "G", 20), ("file_bw", "B/s", "M", 500)]
data = {}
for name, base, prefix, peak in metrics:
    series = []
    for k, h in enumerate(hosts):
        v = [round(peak * (0.55 + 0.3 * math.sin(t / 90.0 + k) + 0.05 * random.random()), 2) for t in range(1441)]
        series.append({"hostname": h, "statistics": {"min": min(v), "avg": round(sum(v) / len(v), 2), "max": max(v)}, "data": v})
    unit = {"base": base}
    if prefix:
        unit["prefix"] = prefix
    data[name] = {"node": {"unit": unit, "timestep": 60, "series": series}}
json.dump(meta, open(T + "/big-meta.json", "w"))
json.dump(data, open(T + "/big-data.json", "w"))
PYEOF
"$JS" -import-job "$T/big-meta.json:$T/big-data.json" | tail -n 1
BIG=$(psql -Atq -d $DB -c "SELECT id FROM job WHERE job_id = 42 AND cluster = 'heron'")

"$JS" -server > "$T/jobscope.log" 2>&1 &
MASTER=$!
PGPID=$(head -n 1 "$(psql -Atq -c 'SHOW data_directory')/postmaster.pid")
for _ in $(seq 100); do [ -S "$T/run/jobscope.sock" ] && break; sleep 0.1; done
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -e "s|@PREFIX@|$T/nginx|g" -e "s|@LISTEN@|127.0.0.1:$PORT|g" -e "s|@SOCKET@|$T/run/jobscope.sock|g" \
    -e "s|@STATIC_DIR@|$SRC/static|g" -e "s|@BOOTSTRAP_DIR@|/usr/share/javascript/bootstrap5|g" \
    -e "s|@MIME_TYPES@|/etc/nginx/mime.types|g" -e "s|@FASTCGI_PARAMS@|/etc/nginx/fastcgi_params|g" \
    "$SRC/nginx/jobscope-demo.conf.in" > "$T/nginx/nginx.conf"
nginx -q -c "$T/nginx/nginx.conf" -p "$T/nginx"
B=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -sf -o /dev/null "$B/healthz" && break; sleep 0.1; done

# log in: the pre-login CSRF cookie and token, then the session cookie
csrf_cookie=$(curl -s -D - -o "$T/login.html" "$B/login" | sed -n 's/^Set-Cookie: jobscope_csrf=\([^;]*\).*/\1/Ip' | tr -d '\r')
token=$(sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' "$T/login.html" | head -n 1)
session=$(curl -s -D - -o /dev/null -b "jobscope_csrf=$csrf_cookie" --data-urlencode "username=bench" \
	--data-urlencode "password=bench" --data-urlencode "csrf_token=$token" "$B/login" |
	sed -n 's/^Set-Cookie: session=\([^;]*\).*/\1/Ip' | tr -d '\r')
[ -n "$session" ] || { echo "bench/pages.sh: login failed" >&2; tail "$T/jobscope.log" >&2; exit 1; }
H="Cookie: session=$session"

LIST2="/monitoring/jobs/?cluster=heron&state=completed"
RARE="/monitoring/jobs/?node=h9999"
for path in /monitoring/jobs/ "$LIST2" "$RARE" "/monitoring/job/$BIG"; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "$H" "$B$path")
	[ "$code" = 200 ] || { echo "bench/pages.sh: $path answers $code" >&2; exit 1; }
	curl -s -o /dev/null -H "$H" "$B$path" # warm the workers' caches
	[ -z "${SAVE:-}" ] || curl -s -o "$SAVE/$(printf '%s' "$path" | tr -c 'A-Za-z0-9.\n' _).html" -H "$H" "$B$path"
	curl -s -o /dev/null -H "$H" "$B$path"
done

NGINX=$(cat "$T/nginx/nginx.pid")
run() { # label path name [header] -> "label req/s p50 p99 CPU-us-per-request..."
	local out rps p50 p99 perf_pid= c0_js c0_pg c0_ng n
	if [ -n "${PERF:-}" ] && [ "$3" = list ]; then
		# a profile of jobscope, PostgreSQL and nginx while the default list runs
		local pids
		pids=$(for p in "$MASTER" "$PGPID" "$(cat "$T/nginx/nginx.pid")"; do echo "$p"; cat /proc/"$p"/task/*/children; done | tr -s ' \n' ',,')
		perf record -q -g -o "$PERF" -p "${pids%,}" -- sleep "${DURATION%s}" >/dev/null 2>&1 &
		perf_pid=$!
	fi
	c0_js=$(tree_cpu "$MASTER") c0_pg=$(tree_cpu "$PGPID") c0_ng=$(tree_cpu "$NGINX")
	out=$(wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --latency -H "${4-$H}" "$B$2")
	n=$(awk '/requests in/ {print $1}' <<<"$out")
	rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
	p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	[ -z "$perf_pid" ] || wait "$perf_pid"
	printf '%-44s %10s %10s %10s %9s %9s %9s\n' "$1" "$rps" "$p50" "$p99" \
		"$(per_item $(($(tree_cpu "$MASTER") - c0_js)) "$n")" "$(per_item $(($(tree_cpu "$PGPID") - c0_pg)) "$n")" \
		"$(per_item $(($(tree_cpu "$NGINX") - c0_ng)) "$n")"
	echo "$rps" > "$T/rps.$3"
}
printf '\n%s jobs in the database; %d wrk threads, %d connections, %s per row\n\n' "$JOBS" "$THREADS" "$CONNECTIONS" "$DURATION"
printf '%-44s %10s %10s %10s %29s\n' "" "" "" "" "CPU us per request"
printf '%-44s %10s %10s %10s %9s %9s %9s\n' "route" "req/s" "p50" "p99" "jobscope" "postgres" "nginx"
run "/ping (bare route)" /ping ping "X-Bench: no-cookie"
run "/ping with the session cookie" /ping pingc
run "/monitoring/jobs/ (default list)" /monitoring/jobs/ list
run "/monitoring/jobs/ (cluster + state)" "$LIST2" list2
run "/monitoring/jobs/?node= (3 jobs, 200 days old)" "$RARE" rare
run "/monitoring/job/<id> (64 nodes, 24 h, 10 metrics)" "/monitoring/job/$BIG" view
# the job view alone, one request at a time: its own latency without queueing
out=$(wrk -t 1 -c 1 -d "$DURATION" --latency -H "$H" "$B/monitoring/job/$BIG")
printf '%-44s %10s %10s %10s\n' "/monitoring/job/<id>, one client" "$(awk '/^Requests\/sec/ {print $2}' <<<"$out")" \
	"$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")"
ping=$(cat "$T/rps.ping")
printf '\njob list at %.0f %% (default) and %.0f %% (two filters) of the bare route\n' \
	"$(echo "100 * $(cat "$T/rps.list") / $ping" | bc -l)" "$(echo "100 * $(cat "$T/rps.list2") / $ping" | bc -l)"
pingc=$(cat "$T/rps.pingc")
printf '(%.0f %% and %.0f %% of /ping with the session cookie)\n' \
	"$(echo "100 * $(cat "$T/rps.list") / $pingc" | bc -l)" "$(echo "100 * $(cat "$T/rps.list2") / $pingc" | bc -l)"
