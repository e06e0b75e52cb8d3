#!/bin/bash
# bench/http.sh: HTTP benchmark of jobscope through the demo's nginx.
#
# Start the demo first (./demo.sh: nginx + jobscope on loopback), then run
#     bench/http.sh
# It prints requests/s and p50/p99 latency for the bare route /ping, the home page / (as
# a logged-in user) and one static file, then the memory (RSS) of every jobscope-worker
# after 10,000 and 100,000 home-page requests. See bench/README.md for the meaning of
# the figures. Not part of "make check".
#
# Settings (environment):
#   BASE_URL        http://127.0.0.1:8080   loopback only (localhost, 127.0.0.0/8, [::1])
#   THREADS         2                       wrk threads
#   CONNECTIONS     16                      open connections, shared by the threads
#   DURATION        10s                     per timed run (N, Ns or Nm; at most 10m)
#   RSS_STEPS       "10000 100000"          cumulative home-page request counts for RSS
#   COUNT_TIMEOUT   600                     seconds a fixed-count run may take at most
#   BENCH_USER      demo                    login for the home page
#   BENCH_PASSWORD  demo
#   SESSION_COOKIE  session                 cookie set by POST /login
#   CSRF_COOKIE     jobscope_csrf           cookie set by GET /login
#   BENCH_ONLY      "ping home static rss"  subset to run, e.g. BENCH_ONLY=static
#   MASTER_PID      (unset)                 count only workers whose parent is this PID
#   GZIP            0                       1: send Accept-Encoding: gzip like a browser
#   VERBOSE         0                       1: show wrk's own output

set -euo pipefail

BASE_URL=${BASE_URL:-http://127.0.0.1:8080}
BASE_URL=${BASE_URL%/}                               # no trailing slash: paths are appended
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
DURATION=${DURATION:-10s}
RSS_STEPS=${RSS_STEPS:-"10000 100000"}
COUNT_TIMEOUT=${COUNT_TIMEOUT:-600}
BENCH_USER=${BENCH_USER:-demo}
BENCH_PASSWORD=${BENCH_PASSWORD:-demo}
SESSION_COOKIE=${SESSION_COOKIE:-session}
CSRF_COOKIE=${CSRF_COOKIE:-jobscope_csrf}
BENCH_ONLY=${BENCH_ONLY:-"ping home static rss"}
MASTER_PID=${MASTER_PID:-}
GZIP=${GZIP:-0}
VERBOSE=${VERBOSE:-0}

STATIC_PATH=/static/bootstrap5/css/bootstrap.min.css
WRK_TIMEOUT=10s                                      # a single request slower than this counts as a timeout

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
LUA=$BENCH_DIR/http.lua

die() { printf 'bench/http.sh: %s\n' "$*" >&2; exit 2; }
note() { printf '%s\n' "$*" >&2; }
wants() { case " $BENCH_ONLY " in *" $1 "*) return 0 ;; esac; return 1; }

# --- check the settings ------------------------------------------------------------------
is_uint() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ]; }
is_uint "$THREADS" && [ "$THREADS" -le 64 ] || die "THREADS must be 1..64, not '$THREADS'"
is_uint "$CONNECTIONS" && [ "$CONNECTIONS" -le 4096 ] || die "CONNECTIONS must be 1..4096, not '$CONNECTIONS'"
[ "$CONNECTIONS" -ge "$THREADS" ] || die "CONNECTIONS ($CONNECTIONS) must be at least THREADS ($THREADS)"
is_uint "$COUNT_TIMEOUT" && [ "$COUNT_TIMEOUT" -le 3600 ] || die "COUNT_TIMEOUT must be 1..3600 seconds"
if [[ $DURATION =~ ^([0-9]+)(s?)$ ]]; then duration_s=${BASH_REMATCH[1]}
elif [[ $DURATION =~ ^([0-9]+)m$ ]]; then duration_s=$(( BASH_REMATCH[1] * 60 ))
else die "DURATION must look like 10, 10s or 2m, not '$DURATION'"; fi
[ "$duration_s" -ge 1 ] && [ "$duration_s" -le 600 ] || die "DURATION must be 1s..10m"
prev=0
for n in $RSS_STEPS; do                              # counts must rise: each step adds requests
    is_uint "$n" && [ "$n" -gt "$prev" ] && [ "$n" -le 10000000 ] ||
        die "RSS_STEPS must be rising request counts (at most 10,000,000), not '$RSS_STEPS'"
    prev=$n
done
for w in $BENCH_ONLY; do
    case $w in ping|home|static|rss) ;; *) die "BENCH_ONLY: unknown part '$w' (ping home static rss)" ;; esac
done

# Loopback only: this tool generates load as fast as it can.
case $BASE_URL in
    http://*|https://*) ;;
    *) die "BASE_URL must start with http:// or https://, not '$BASE_URL'" ;;
esac
hostport=${BASE_URL#*://}
hostport=${hostport%%/*}
if [[ $hostport == \[* ]]; then host=${hostport%%]*}]   # [::1]:8080 -> [::1]
else host=${hostport%%:*}; fi
if ! [[ $host == localhost || $host == '[::1]' || $host =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]]; then
    die "BASE_URL must point to this machine's loopback (localhost, 127.x.x.x, [::1]), not '$host'"
fi
[[ $BASE_URL =~ ^https?://[][A-Za-z0-9.:]+(/[A-Za-z0-9._/-]*)?$ ]] || die "BASE_URL has unexpected characters: '$BASE_URL'"

# --- tools -------------------------------------------------------------------------------
command -v curl >/dev/null || die "curl is needed (apt-get install -y curl)"
if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        note "wrk is missing: installing the Debian package wrk"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null || die "apt-get install wrk failed"
    else
        die "wrk is needed: sudo apt-get install -y wrk"
    fi
fi

tmp=$(mktemp -d)
wrk_pid=                                             # the wrk run in progress, if any
# On any exit (also Ctrl-C or a failed check): stop a running wrk, remove the temp files.
trap '[ -n "$wrk_pid" ] && kill "$wrk_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# curl for the set-up requests: quiet, bounded, -k because a loopback https is self-signed.
c() { curl -sS -k --max-time 10 "$@"; }

gzip_hdr=()
[ "$GZIP" = 1 ] && gzip_hdr=(-H "Accept-Encoding: gzip")

# --- is the demo running? ----------------------------------------------------------------
code=$(c -o /dev/null -w '%{http_code}' "$BASE_URL$STATIC_PATH" 2>/dev/null || true)
case $code in
    200) ;;
    000|'') die "nothing answers at $BASE_URL. Start ./demo.sh first (it runs nginx and jobscope), or set BASE_URL." ;;
    *) die "$BASE_URL$STATIC_PATH answers HTTP $code, expected 200. Is this the demo's nginx (with Debian's libjs-bootstrap5 installed)?" ;;
esac

if wants ping || wants home || wants rss; then
    code=$(c -o "$tmp/ping" -w '%{http_code}' "$BASE_URL/ping" || true)
    case $code in
        200) grep -q pong "$tmp/ping" || note "warning: /ping answered 200 without 'pong'" ;;
        502|504) die "nginx answers but jobscope does not (HTTP $code on /ping): is ./demo.sh fully started? (BENCH_ONLY=static runs the static-file row alone)" ;;
        *) die "/ping answered HTTP $code, expected 200" ;;
    esac
fi

# --- log in (home page and RSS runs) -----------------------------------------------------
cookie_hdr=
if wants home || wants rss; then
    # GET /login: the form's hidden csrf_token and the matching cookie.
    code=$(c -D "$tmp/h1" -o "$tmp/login.html" -w '%{http_code}' "$BASE_URL/login") || die "GET /login failed"
    [ "$code" = 200 ] || die "GET /login answered HTTP $code, expected 200"
    # Cookie values are read from the Set-Cookie headers, not from a cookie jar: curl
    # would drop a cookie marked Secure on a plain-HTTP demo.
    csrf_cookie=$(tr -d '\r' <"$tmp/h1" | sed -n "s/^set-cookie: *$CSRF_COOKIE=\([^;]*\).*/\1/Ip" | tail -n 1)
    [ -n "$csrf_cookie" ] || die "GET /login set no '$CSRF_COOKIE' cookie"
    # <input type="hidden" name="csrf_token" value="..."> in any attribute order.
    csrf_token=$(grep -o '<input[^>]*name="csrf_token"[^>]*>' "$tmp/login.html" | head -n 1 |
                 sed -n 's/.*value="\([^"]*\)".*/\1/p')
    [ -n "$csrf_token" ] || die "the /login form has no hidden csrf_token input"

    # POST /login: expect a redirect that sets the session cookie. (Counts against the
    # rate limit on /login: a few runs a minute are fine.)
    code=$(c -D "$tmp/h2" -o /dev/null -w '%{http_code}' \
             -H "Cookie: $CSRF_COOKIE=$csrf_cookie" \
             --data-urlencode "username=$BENCH_USER" \
             --data-urlencode "password=$BENCH_PASSWORD" \
             --data-urlencode "csrf_token=$csrf_token" \
             "$BASE_URL/login") || die "POST /login failed"
    case $code in
        302|303) ;;
        429) die "POST /login answered 429: nginx's login rate limit; wait a minute and retry" ;;
        *) die "POST /login answered HTTP $code, expected 302 (user '$BENCH_USER' in the demo database?)" ;;
    esac
    session=$(tr -d '\r' <"$tmp/h2" | sed -n "s/^set-cookie: *$SESSION_COOKIE=\([^;]*\).*/\1/Ip" | tail -n 1)
    [ -n "$session" ] || die "POST /login set no '$SESSION_COOKIE' cookie"
    cookie_hdr="Cookie: $SESSION_COOKIE=$session"

    # The home page must really be the logged-in page, or we would measure redirects.
    code=$(c -o /dev/null -w '%{http_code}' -H "$cookie_hdr" "$BASE_URL/") || die "GET / failed"
    [ "$code" = 200 ] || die "GET / with the session cookie answered HTTP $code, expected 200"
fi

# --- wrk runs ----------------------------------------------------------------------------
# run_wrk NAME PATH DURATION STOP_AFTER EXPECT [HEADER]
# Runs wrk and leaves the values of its WRKRESULT line in r_* variables.
run_wrk() {
    local name=$1 path=$2 dur=$3 stop_after=$4 expect=$5 hdr=${6:-}
    local args=(-t "$THREADS" -c "$CONNECTIONS" -d "$dur" --timeout "$WRK_TIMEOUT" -s "$LUA")
    [ -n "$hdr" ] && args+=(-H "$hdr")
    args+=("${gzip_hdr[@]}")
    local done_dir=$tmp/$name.done
    rm -rf "$done_dir" && mkdir "$done_dir"
    # timeout(1) as a last bound in case wrk hangs: the run's duration plus a minute. A
    # signal sent to timeout is passed on to wrk.
    WRK_STOP_AFTER=$stop_after WRK_EXPECT=$expect WRK_DONE_DIR=$done_dir \
        timeout --signal=INT --kill-after=10 "$(( ${dur%s} + 60 ))" \
        wrk "${args[@]}" "$BASE_URL$path" >"$tmp/$name.out" 2>&1 &
    wrk_pid=$!
    local pid=$wrk_pid
    if [ "$stop_after" -gt 0 ]; then
        # Fixed count: once every thread has left its done file, SIGINT makes wrk stop
        # sleeping out -d and print its results (see http.lua).
        while kill -0 "$pid" 2>/dev/null; do
            if [ "$(find "$done_dir" -name 'done.*' | wc -l)" -ge "$THREADS" ]; then
                kill -INT "$pid" 2>/dev/null || true
                break
            fi
            sleep 0.2
        done
    fi
    wait "$pid" || { wrk_pid=; cat "$tmp/$name.out" >&2; die "wrk failed on $path"; }
    wrk_pid=
    [ "$VERBOSE" = 1 ] && cat "$tmp/$name.out" >&2
    local line
    line=$(grep '^WRKRESULT ' "$tmp/$name.out") || { cat "$tmp/$name.out" >&2; die "no result line from wrk on $path"; }
    # requests=1 duration_us=2 ... -> r_requests=1 r_duration_us=2 ... (digits only)
    local kv
    for kv in ${line#WRKRESULT }; do
        [[ $kv =~ ^([a-z0-9_]+)=([0-9]+)$ ]] || die "bad wrk result field '$kv'"
        printf -v "r_${BASH_REMATCH[1]}" '%s' "${BASH_REMATCH[2]}"
    done
}

row_fmt='%-42s %10s %9s %9s %10s %8s %8s\n'
rows=()
failed_rows=()                                       # rows whose figures include failed requests

# bench_row LABEL NAME PATH EXPECT [HEADER]
bench_row() {
    local label=$1 name=$2 path=$3 expect=$4 hdr=${5:-}
    note "running: $label ($DURATION)"
    run_wrk "$name" "$path" "${duration_s}s" 0 "$expect" "$hdr"
    local bad=$r_status_errors
    [ -n "$expect" ] && bad=$r_unexpected            # with EXPECT: every other status is "not OK"
    if [ "$bad" != 0 ] || [ "$r_socket_errors" != 0 ]; then
        failed_rows+=("$label")
    fi
    rows+=("$(LC_ALL=C awk -v l="$label" -v n="$r_requests" -v d="$r_duration_us" \
                  -v p50="$r_p50_us" -v p99="$r_p99_us" -v bad="$bad" -v se="$r_socket_errors" \
                  -v f="$row_fmt" 'BEGIN {
        printf f, l, sprintf("%.1f", n / (d / 1e6)), sprintf("%.3f", p50 / 1000),
                 sprintf("%.3f", p99 / 1000), n, bad, se }')")
}

wants ping   && bench_row "/ping (bare route)" ping /ping ""
wants home   && bench_row "/ (home page, logged in)" home / 200 "$cookie_hdr"
wants static && bench_row "$STATIC_PATH" static "$STATIC_PATH" ""

echo
echo "jobscope HTTP benchmark: $BASE_URL  (wrk, $THREADS threads, $CONNECTIONS connections, ${duration_s}s per run$([ "$GZIP" = 1 ] && echo ', gzip'))"
echo
if [ ${#rows[@]} -gt 0 ]; then
    printf "$row_fmt" "target" "req/s" "p50 ms" "p99 ms" "requests" "not OK" "sock err"
    printf '%s\n' "${rows[@]}"
    echo
    for l in "${failed_rows[@]}"; do
        note "warning: '$l' had failed requests (not OK / socket errors): its figures measure errors, not pages"
    done
fi

# --- RSS of the workers under a fixed number of home-page requests -----------------------
# worker_pids: PIDs whose /proc/PID/comm is jobscope-worker (optionally children of MASTER_PID).
worker_pids() {
    local d pid
    for d in /proc/[0-9]*; do
        [ "$(cat "$d/comm" 2>/dev/null)" = jobscope-worker ] || continue
        pid=${d#/proc/}
        if [ -n "$MASTER_PID" ]; then
            [ "$(awk '/^PPid:/ {print $2}' "$d/status" 2>/dev/null)" = "$MASTER_PID" ] || continue
        fi
        echo "$pid"
    done | sort -n
}
# snapshot FILE: "PID RSS_KiB" lines
snapshot() {
    local pid rss
    for pid in $(worker_pids); do
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
        [ -n "$rss" ] && echo "$pid $rss"
    done >"$1"
}

if wants rss; then
    snapshot "$tmp/rss.0"
    [ -s "$tmp/rss.0" ] || die "no jobscope-worker process visible in /proc (is jobscope running in this PID namespace? MASTER_PID=$MASTER_PID)"
    done_n=0
    steps=(0)
    for target in $RSS_STEPS; do
        need=$(( target - done_n ))
        per_thread=$(( (need + THREADS - 1) / THREADS ))   # each thread stops after its share
        note "running: home page until $target requests in total ($need more)"
        run_wrk "rss$target" / "${COUNT_TIMEOUT}s" "$per_thread" 200 "$cookie_hdr"
        done_n=$(( done_n + r_requests ))
        [ "$r_requests" -ge "$need" ] ||
            note "warning: only $r_requests of $need requests done within COUNT_TIMEOUT=${COUNT_TIMEOUT}s"
        [ "$r_unexpected" = 0 ] || note "warning: $r_unexpected home-page answers were not 200"
        [ "$r_socket_errors" = 0 ] || note "warning: $r_socket_errors socket errors"
        snapshot "$tmp/rss.$target"
        steps+=("$target")
    done

    echo "jobscope-worker RSS (VmRSS, KiB), by home-page requests sent in this phase:"
    # One row per PID seen in any snapshot, one column per snapshot; "-" = not running then.
    header=$(printf '%8s' PID; for s in "${steps[@]}"; do
        if [ "$s" = 0 ]; then printf '%14s' start; else printf '%14s' "after $s"; fi; done)
    echo "$header"
    all_pids=$(cat "$tmp"/rss.* | awk '{print $1}' | sort -nu)
    for pid in $all_pids; do
        printf '%8s' "$pid"
        for s in "${steps[@]}"; do
            v=$(awk -v p="$pid" '$1 == p {print $2}' "$tmp/rss.$s")
            printf '%14s' "${v:--}"
        done
        echo
    done
    printf '%8s' total
    for s in "${steps[@]}"; do
        printf '%14s' "$(awk '{t += $2} END {print t + 0}' "$tmp/rss.$s")"
    done
    echo
    # A PID that appears or disappears means a worker died and the master started another.
    first=$(awk '{print $1}' "$tmp/rss.0" | tr '\n' ' ')
    last=$(awk '{print $1}' "$tmp/rss.${steps[-1]}" | tr '\n' ' ')
    [ "$first" = "$last" ] || note "warning: the set of worker PIDs changed during the run (a worker exited and was replaced)"
fi
