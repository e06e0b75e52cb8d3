#!/usr/bin/env bash
# ./test.sh: install what is missing, build from scratch (ASan + UBSan, -Werror)
# and run every suite: unit (no services), database (a real PostgreSQL) and
# HTTP (real nginx + jobscope), then `make distcheck`.  Run as root on Debian 12.
#
#   ./test.sh            everything
#   ./test.sh quick      skip distcheck
set -euo pipefail
cd "$(dirname "$0")"
TOP=$PWD
START=$(date +%s)

step() { printf '\n==> %s (%ds)\n' "$*" "$(( $(date +%s) - START ))"; }

step "packages"
./demo.sh deps
# what the suites need beyond building and running
TEST_PKGS="python3 python3-pytest python3-requests python3-jwt python3-cryptography python3-websocket tidy libfcgi-bin procps chromium libxml2-utils prometheus prometheus-node-exporter slapd ldap-utils"
missing=()
for p in $TEST_PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

step "build from scratch with ASan + UBSan and -Werror"
./autogen.sh >/dev/null 2>&1 || ./autogen.sh
rm -rf _build
mkdir _build
cd _build
../configure --quiet --enable-asan --enable-werror
make -s -j"$(nproc)"

# ASan: fail on the first error; leaks are errors too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

step "unit, database and HTTP suites (against a throw-away PostgreSQL)"
PG="$TOP/tests/lib/with-postgres.sh"
if ! "$PG" make -s check; then
	for f in tests/unit/check_unit.log tests/db/check_db.log tests/http/run.sh.log; do
		[ -f "$f" ] && { echo "---- $f"; tail -n 80 "$f"; }
	done
	exit 1
fi
for f in tests/unit/check_unit.log tests/db/check_db.log tests/http/run.sh.log; do
	grep -hE '^[0-9]+%: Checks|passed|failed' "$f" | tail -n 2 | sed "s|^|$(basename "$f" .log): |"
done
# one total over the three suites, for whoever reads only the last line
checks=$(grep -hoE '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' tests/unit/check_unit.log tests/db/check_db.log |
	awk -F'[:,] *' '{c += $3; f += $5 + $7} END {printf "%d %d", c - f, f}' || true)
py=$(grep -hoE '[0-9]+ passed' tests/http/run.sh.log | tail -n 1 | awk '{print $1}' || true)
pyf=$(grep -hoE '[0-9]+ failed' tests/http/run.sh.log | tail -n 1 | awk '{print $1}' || true)
SUMMARY="$(( ${checks% *} + ${py:-0} )) passed, $(( ${checks#* } + ${pyf:-0} )) failed"

if [ "${1:-}" != quick ]; then
	step "make distcheck (tarball builds, tests pass, installs with DESTDIR)"
	unset ASAN_OPTIONS UBSAN_OPTIONS
	if ! "$PG" make -s distcheck >distcheck.log 2>&1; then
		tail -n 60 distcheck.log
		# the suites' own logs inside the unpacked tarball say which test failed and why
		for f in jobscope-*/_build/sub/tests/*/*.log; do
			[ -f "$f" ] || continue
			case $f in *test-suite.log) continue ;; esac
			grep -qE '^(FAIL|ERROR)|[1-9][0-9]* failed|Failures: [1-9]|Errors: [1-9]' "$f" || continue
			echo "---- distcheck: $f"
			grep -E '^(FAILED|ERROR) |^[0-9]+%: Checks' "$f" | head -n 40
			tail -n 150 "$f"
		done
		exit 1
	fi
	grep -E "archives ready|\.tar\.gz" distcheck.log | head -n 3
fi

step "all suites passed"
echo "tests: $SUMMARY"
