#!/usr/bin/env bash
# with-postgres.sh COMMAND...: run COMMAND against a throw-away PostgreSQL.
#
# The cluster lives in a fresh temporary directory, listens only on a unix
# socket there (no TCP port to collide with), runs as the postgres user when
# started by root, and is removed afterwards whatever COMMAND does.  COMMAND
# gets PGHOST, PGPORT, PGUSER and PGDATABASE=postgres in its environment.
# Several runs may go on at once.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "with-postgres.sh: no PostgreSQL server installed (apt-get install postgresql)" >&2; exit 1; }
dir=$(mktemp -d /tmp/jobscope-pg.XXXXXX)
chmod 755 "$dir"
owner=$(id -un)
run() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
	owner=postgres
	chown postgres "$dir"
	run() { runuser -u postgres -- "$@"; }
fi
cleanup() {
	run "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT
run "$bin/initdb" -D "$dir/data" -U "$owner" --auth=trust -E UTF8 --no-sync >/dev/null
run "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
	-o "-k $dir -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
	start >/dev/null || { cat "$dir/log" >&2; exit 1; }
export PGHOST=$dir PGPORT=5432 PGUSER=$owner PGDATABASE=postgres
set +e
"$@"
rc=$?
exit $rc
