#!/usr/bin/env bash
# jobscope demo: PostgreSQL, nginx and jobscope on this machine, all state under ./var.
#
#   ./demo.sh          install what is missing, build, start everything, print the URL
#   ./demo.sh stop     stop jobscope, nginx and PostgreSQL
#   ./demo.sh status   what runs
#   ./demo.sh deps     only install the Debian packages jobscope needs to build and run
#
# Run as root on Debian 12.  Running it twice is harmless.
set -euo pipefail
cd "$(dirname "$0")"
TOP=$PWD
VAR=$TOP/var
RUN=$VAR/run
LOG=$VAR/log
LISTEN=${JOBSCOPE_DEMO_LISTEN:-127.0.0.1:8080}
URL="http://${LISTEN/127.0.0.1/localhost}"

# Debian packages to build and run jobscope (the test suite adds its own)
BUILD_PKGS="build-essential autoconf automake autoconf-archive pkg-config
  libfcgi-dev libpq-dev libjson-c-dev libjwt-dev libldap-dev libmagic-dev check
  libcurl4-openssl-dev libssl-dev libcrypt-dev zlib1g-dev systemd"
RUN_PKGS="postgresql nginx-light libjs-bootstrap5 curl"

say() { printf '==> %s\n' "$*"; }
die() { printf 'demo.sh: %s\n' "$*" >&2; exit 1; }

install_pkgs() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}); run as root to install them"
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

pgbin() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -n "$d" ] || die "PostgreSQL server binaries not found"
	echo "$d"
}

as_postgres() { runuser -u postgres -- "$@"; }

# The postgres user must reach ./var: grant it passage (execute only) where a parent forbids it.
allow_postgres_path() {
	local d=$VAR
	while [ "$d" != "/" ]; do
		if ! runuser -u postgres -- test -x "$d" 2>/dev/null; then
			say "letting the postgres user pass through $d (chmod o+x)"
			chmod o+x "$d"
		fi
		d=$(dirname "$d")
	done
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

build() {
	if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
		say "generating configure"
		./autogen.sh >/dev/null 2>&1 || ./autogen.sh
	fi
	if [ ! -f Makefile ] || [ configure -nt Makefile ]; then
		say "configuring"
		./configure --quiet
	fi
	say "building"
	make -s -j"$(nproc)" jobscope jobscope-generate
}

start_postgres() {
	local bin; bin=$(pgbin)
	mkdir -p "$RUN" "$LOG"
	allow_postgres_path
	chown postgres "$RUN" "$LOG"
	if [ ! -f "$VAR/pgdata/PG_VERSION" ]; then
		say "creating a PostgreSQL cluster in var/pgdata"
		install -d -o postgres -m 0700 "$VAR/pgdata"
		as_postgres "$bin/initdb" -D "$VAR/pgdata" -U postgres --auth=trust -E UTF8 >/dev/null
	fi
	if ! as_postgres "$bin/pg_ctl" -D "$VAR/pgdata" status >/dev/null 2>&1; then
		say "starting PostgreSQL (socket in var/run, no TCP)"
		as_postgres "$bin/pg_ctl" -D "$VAR/pgdata" -l "$LOG/postgres.log" -w \
			-o "-k $RUN -c listen_addresses=''" start >/dev/null
	fi
	as_postgres psql -h "$RUN" -U postgres -Atqc "SELECT 1 FROM pg_database WHERE datname = 'jobscope'" postgres | grep -q 1 ||
		as_postgres psql -h "$RUN" -U postgres -qc "CREATE DATABASE jobscope" postgres
}

write_config() {
	if [ ! -f .env ]; then
		# jobscope -init writes .env with fresh keys; it wants no ./var yet
		local tmp; tmp=$(mktemp -d)
		(cd "$tmp" && "$TOP/jobscope" -init >/dev/null && cp .env "$TOP/.env")
		rm -rf "$tmp"
		chmod 600 .env
	fi
	cat > config.json <<JSON
{
  "main": {
    "addr": "$LISTEN",
    "short-running-jobs-duration": 300,
    "db": "host=$RUN dbname=jobscope user=postgres",
    "fcgi-socket": "$RUN/jobscope.sock",
    "workers": 2,
    "resampling": { "minimum-points": 600, "trigger": 180, "resolutions": [240, 60] }
  },
  "archive": { "kind": "file", "path": "./var/job-archive" },
  "auth": { "jwts": { "max-age": "2000h" } }
}
JSON
	mkdir -p var/job-archive
	[ -f var/job-archive/version.txt ] || echo 3 > var/job-archive/version.txt
	for c in tests/data/archive/*/; do
		c=$(basename "$c")
		[ -f "var/job-archive/$c/cluster.json" ] || { mkdir -p "var/job-archive/$c"; cp "tests/data/archive/$c/cluster.json" "var/job-archive/$c/"; }
	done
}

# The first time (no job directories in the archive yet): synthetic jobs with data from the
# generator (fixed seed, the 30 days before now), then -init-db loads them into the database.
DEMO_JOBS=${JOBSCOPE_DEMO_JOBS:-2500}
demo_jobs() {
	if find var/job-archive -mindepth 4 -maxdepth 4 -type d -print -quit | grep -q .; then
		return
	fi
	local out
	out=$(./jobscope-generate -archive var/job-archive -jobs "$DEMO_JOBS" -seed 1) || die "jobscope-generate failed"
	say "$out"
	out=$(./jobscope -config config.json -init-db) || die "jobscope -init-db failed: $out"
	say "$(printf '%s\n' "$out" | grep 'init-db:' || printf '%s\n' "$out" | tail -n 1)"
}

start_jobscope() {
	./jobscope -migrate-db -config config.json | sed 's/^/    /'
	./jobscope -config config.json -add-user demo:admin,api:demo >/dev/null 2>&1 || true
	demo_jobs
	if pid_alive "$RUN/jobscope.pid"; then
		say "jobscope runs already (pid $(cat "$RUN/jobscope.pid")); reloading it"
		kill -HUP "$(cat "$RUN/jobscope.pid")"
		return
	fi
	say "starting jobscope"
	nohup ./jobscope -server -config config.json >>"$LOG/jobscope.log" 2>&1 &
	echo $! > "$RUN/jobscope.pid"
	for _ in $(seq 50); do [ -S "$RUN/jobscope.sock" ] && return; sleep 0.1; done
	tail -n 20 "$LOG/jobscope.log" >&2
	die "jobscope did not start; see var/log/jobscope.log"
}

start_nginx() {
	mkdir -p "$VAR/nginx"
	sed -e "s|@PREFIX@|$VAR/nginx|g" -e "s|@LISTEN@|$LISTEN|g" -e "s|@SOCKET@|$RUN/jobscope.sock|g" \
	    -e "s|@STATIC_DIR@|$TOP/static|g" -e "s|@BOOTSTRAP_DIR@|/usr/share/javascript/bootstrap5|g" \
	    -e "s|@MIME_TYPES@|/etc/nginx/mime.types|g" -e "s|@FASTCGI_PARAMS@|/etc/nginx/fastcgi_params|g" \
	    nginx/jobscope-demo.conf.in > "$VAR/nginx/nginx.conf"
	if pid_alive "$VAR/nginx/nginx.pid"; then
		nginx -q -c "$VAR/nginx/nginx.conf" -p "$VAR/nginx" -s reload
	else
		if curl -s -o /dev/null --max-time 2 "http://$LISTEN/"; then
			die "$LISTEN is in use by another program; stop it, or choose another address with JOBSCOPE_DEMO_LISTEN=127.0.0.1:PORT ./demo.sh"
		fi
		say "starting nginx on $LISTEN"
		nginx -q -c "$VAR/nginx/nginx.conf" -p "$VAR/nginx"
	fi
}

wait_ready() {
	for _ in $(seq 100); do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$LISTEN/healthz")" = 200 ]; then
			return 0
		fi
		sleep 0.1
	done
	die "no answer from http://$LISTEN/healthz; see var/log/"
}

stop_all() {
	if pid_alive "$RUN/jobscope.pid"; then
		say "stopping jobscope"
		local pid; pid=$(cat "$RUN/jobscope.pid")
		kill -TERM "$pid"
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -f "$RUN/jobscope.pid"
	if pid_alive "$VAR/nginx/nginx.pid"; then
		say "stopping nginx"
		nginx -q -c "$VAR/nginx/nginx.conf" -p "$VAR/nginx" -s quit || true
	fi
	if [ -f "$VAR/pgdata/PG_VERSION" ] && as_postgres "$(pgbin)/pg_ctl" -D "$VAR/pgdata" status >/dev/null 2>&1; then
		say "stopping PostgreSQL"
		as_postgres "$(pgbin)/pg_ctl" -D "$VAR/pgdata" -m fast -w stop >/dev/null
	fi
}

status() {
	pid_alive "$RUN/jobscope.pid" && echo "jobscope: running (pid $(cat "$RUN/jobscope.pid"))" || echo "jobscope: stopped"
	pid_alive "$VAR/nginx/nginx.pid" && echo "nginx: running on $LISTEN" || echo "nginx: stopped"
	[ -f "$VAR/pgdata/PG_VERSION" ] && as_postgres "$(pgbin)/pg_ctl" -D "$VAR/pgdata" status >/dev/null 2>&1 &&
		echo "postgresql: running (socket in var/run)" || echo "postgresql: stopped"
}

case "${1:-start}" in
start)
	install_pkgs $BUILD_PKGS $RUN_PKGS
	build
	start_postgres
	write_config
	start_jobscope
	start_nginx
	wait_ready
	cat <<MSG

jobscope is running:  $URL
log in as:            demo / demo   (roles admin, api)
logs:                 var/log/   stop with: ./demo.sh stop
MSG
	;;
stop) stop_all ;;
status) status ;;
deps) install_pkgs $BUILD_PKGS $RUN_PKGS ;;
*) die "usage: ./demo.sh [start|stop|status|deps]" ;;
esac
