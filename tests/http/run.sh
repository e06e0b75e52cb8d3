#!/bin/sh
# HTTP suite: a real nginx and `jobscope -server` in front of a real PostgreSQL,
# driven over HTTP (and over FastCGI directly) by pytest.  `make check` runs it
# with JOBSCOPE_SRCDIR and JOBSCOPE_BUILDDIR set; PostgreSQL comes from the
# environment (PGHOST/PGPORT/PGUSER/PGPASSWORD as `pg_virtualenv` exports them).
#
# Debian packages it needs (./test.sh installs them):
#   python3 python3-pytest python3-requests nginx-light libjs-bootstrap5 tidy
#   postgresql-client (psql; comes with postgresql) postgresql-common (pg_virtualenv)
# (FastCGI is spoken by jshelpers.py itself: libfcgi-bin's cgi-fcgi is not needed.)
#
# Manual run:  JOBSCOPE_SRCDIR=$PWD JOBSCOPE_BUILDDIR=$PWD/_build pg_virtualenv tests/http/run.sh [pytest args]
# KEEP_TMP=1 keeps the temporary directory (logs, configs) for a look afterwards.
set -eu

if [ -z "${PGHOST:-}" ] || [ -z "${PGPORT:-}" ]; then
	echo "tests/http/run.sh: FAIL: PGHOST and PGPORT are not set; run the suite under pg_virtualenv (as ./test.sh does)" >&2
	exit 1
fi
SRCDIR=${JOBSCOPE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILDDIR=${JOBSCOPE_BUILDDIR:-$SRCDIR}
if [ ! -x "$BUILDDIR/jobscope" ]; then
	echo "tests/http/run.sh: FAIL: no built program at $BUILDDIR/jobscope (set JOBSCOPE_BUILDDIR)" >&2
	exit 1
fi

# Debian's python3 has python3-pytest; a python3 earlier on PATH (pyenv, venv) may not.
PY=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import pytest, requests' 2>/dev/null; then
		PY=$p
		break
	fi
done
if [ -z "$PY" ]; then
	echo "tests/http/run.sh: FAIL: no python3 with pytest and requests (apt-get install python3-pytest python3-requests)" >&2
	exit 1
fi
for tool in nginx psql tidy; do
	if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
		echo "tests/http/run.sh: FAIL: $tool is not installed (see the package list at the top of this script)" >&2
		exit 1
	fi
done
PATH=$PATH:/usr/sbin:/sbin

# Everything the suite writes goes below one temporary directory; nothing into
# the source tree (read-only under distcheck): no bytecode, no pytest cache.
T=$(mktemp -d "${TMPDIR:-/tmp}/jobscope-http.XXXXXX")
cleanup() {
	# A pytest that died halfway may leave its servers running: stop them by the pid
	# files in $T (jobscope's are removed by the suite, nginx's by nginx, once stopped).
	for f in "$T"/site/jobscope.pid "$T"/extra-*/site/jobscope.pid "$T"/site/nginx/nginx.pid "$T"/nginx-*/nginx.pid; do
		if [ -s "$f" ]; then
			kill -TERM "$(cat "$f")" 2>/dev/null || true
		fi
	done
	if [ -n "${KEEP_TMP:-}" ]; then
		echo "tests/http/run.sh: kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export JOBSCOPE_SRCDIR="$SRCDIR" JOBSCOPE_BUILDDIR="$BUILDDIR" JOBSCOPE_HTTP_TMP="$T" PATH
export PYTHONDONTWRITEBYTECODE=1
cd "$SRCDIR"
set +e
"$PY" -m pytest -q -p no:cacheprovider -c "$SRCDIR/tests/http/pytest.ini" --rootdir="$SRCDIR/tests/http" \
	--basetemp="$T/pytest" "$SRCDIR/tests/http" "$@"
rc=$?
set -e
exit $rc
