#!/bin/sh
# Cairn quick start.
#
#   ./quickstart.sh demo   install build dependencies (as root, with apt-get),
#                          build, and run a demo server in the foreground
#   ./quickstart.sh test   the same set-up, then the whole test suite, once
#                          normally and once under ASan/UBSan, then every
#                          fuzz harness for FUZZ_SECONDS (default 30) each
#
# .ci/run runs "./quickstart.sh test".
set -eu

top=$(cd "$(dirname "$0")" && pwd)
cd "$top"
mode=${1:-}
jobs=$(nproc 2>/dev/null || echo 2)

# Debian packages: build, unit tests, integration tests.
BUILD_DEPS="build-essential autoconf automake libtool pkg-config libssl-dev \
libconfuse-dev libsqlite3-dev libcrypt-dev zlib1g-dev libseccomp-dev check"
# postfix: tests/integration/test_postfix.py runs a private instance of it;
# preseeded "No configuration", it writes no main.cf and starts no system
# Postfix (nothing listens on port 25).
# dovecot-imapd (with dovecot-core's dovecot-lda): test_import.py and
# test_export.py run a private Dovecot instance of their own.
TEST_DEPS="python3 openssl procps util-linux isync postfix dovecot-imapd"
# tests/integration/test_package.py builds the .deb, checks it with
# lintian, and installs, runs and purges it (systemd: systemd-analyze
# verify of the unit; nothing is started).
TEST_DEPS="$TEST_DEPS debhelper fakeroot lintian systemd libseccomp-dev"
# clang, libclang-rt-14-dev: the libFuzzer harnesses (make fuzz; Debian 12's
# clang 14 and its fuzzer runtime).
TEST_DEPS="$TEST_DEPS clang libclang-rt-14-dev"

say() { printf '\n== %s\n' "$*"; }

install_deps() {
	missing=""
	for p in $BUILD_DEPS $TEST_DEPS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	# The imapflow test runs Node's imapflow; any node and npm will do
	# (NodeSource's nodejs package carries its own npm).
	if [ "$mode" = test ] && ! { command -v node && command -v npm; } >/dev/null 2>&1; then
		missing="$missing nodejs npm"
	fi
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing Debian packages:$missing" >&2
		echo "install them as root: apt-get install$missing" >&2
		exit 1
	fi
	say "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	case " $missing " in
	*" postfix "*)
		echo "postfix postfix/main_mailer_type select No configuration" |
			debconf-set-selections
		;;
	esac
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
}

# As root the daemons drop to these accounts; create them once.
make_accounts() {
	[ "$(id -u)" -eq 0 ] || return 0
	for u in cairn cairn-auth; do
		id "$u" >/dev/null 2>&1 && continue
		say "creating system account $u"
		useradd --system --user-group --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$u"
	done
}

# build DIR [configure options...]
build() {
	dir=$1
	shift
	[ -x configure ] || ./autogen.sh
	mkdir -p "$dir"
	say "configure $dir $*"
	(cd "$dir" && "$top/configure" --enable-werror "$@" >configure.out 2>&1) || {
		cat "$dir/configure.out"
		exit 1
	}
	say "make -C $dir"
	make -C "$dir" -j"$jobs"
}

# check DIR: make check, then Check's summaries, each suite's count and a total.
check() {
	dir=$1
	rc=0
	make -C "$dir" -j"$jobs" check || rc=$?
	# A failing suite's own log first, right after make's FAIL lines, so
	# that a reader who sees only the part of the output around them
	# still sees why; the last 150 lines hold the failure.
	if [ "$rc" -ne 0 ]; then
		for log in "$dir"/tests/check_*.log "$dir"/tests/integration/*.log; do
			grep -qE '^:test-result: (FAIL|ERROR|XPASS)' "${log%.log}.trs" 2>/dev/null &&
				{ say "failed: $log (its last 150 lines)"; tail -n 150 "$log"; }
		done
	fi
	say "results in $dir"
	passed=0
	failed=0
	for log in "$dir"/tests/check_*.log "$dir"/tests/integration/*.log; do
		[ -f "$log" ] || continue
		name=${log#"$dir"/}
		# exit 77 (automake's SKIP: e.g. test_package.py in the
		# sanitizer build) has no result line and is not a failure
		if grep -q '^:test-result: SKIP' "${log%.log}.trs" 2>/dev/null; then
			echo "$name: skipped ($(grep -m1 '^SKIP' "$log" || echo exit 77))"
			continue
		fi
		line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -n 1)
		if [ -n "$line" ]; then
			echo "$name: $line"
			n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2 \3/')
			set -- $n
			passed=$((passed + $1 - $2 - $3))
			failed=$((failed + $2 + $3))
			continue
		fi
		line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
		if [ -n "$line" ]; then
			echo "$name: $line"
			set -- $(echo "$line" | sed -E 's/^([0-9]+) passed, ([0-9]+) failed.*/\1 \2/')
			passed=$((passed + $1))
			failed=$((failed + $2))
		else
			echo "$name: no result line (crashed?)"
			failed=$((failed + 1))
		fi
	done
	echo "$dir: $passed passed, $failed failed"
	total_passed=$((total_passed + passed))
	total_failed=$((total_failed + failed))
	[ "$failed" -eq 0 ] || rc=1
	return "$rc"
}

demo() {
	d="$top/demo"
	mkdir -p "$d"
	if [ ! -f "$d/cert.pem" ]; then
		say "self-signed certificate in demo/"
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-days 365 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
			-keyout "$d/key.pem" -out "$d/cert.pem" \
			2>/dev/null
		chmod 600 "$d/key.pem"
	fi
	cat >"$d/cairn.conf" <<CONF
# Demo configuration written by quickstart.sh: loopback only.
bind-addr = {"127.0.0.1"}
bind-port = 1143
bind-port-tls = 1993
cert-path = "$d/cert.pem"
key-path = "$d/key.pem"
log-level = info
worker-pool-size = 2
data-dir = "$d/data"
run-dir = "$d/run"
CONF
	# The chroot must be root-owned and not writable by others: demo/ too.
	chmod 755 "$d"
	# The demo user: made once, its password kept in demo/password.
	ctl="$top/build/ctl/cairnctl"
	if [ ! -f "$d/password" ] || ! "$ctl" -c "$d/cairn.conf" user show demo >/dev/null 2>&1; then
		openssl rand -base64 12 | tr -d '/+=' >"$d/password"
		chmod 600 "$d/password"
		"$ctl" -c "$d/cairn.conf" user del demo --yes >/dev/null 2>&1 || true
		"$ctl" -c "$d/cairn.conf" user add demo <"$d/password"
	fi
	password=$(cat "$d/password")
	cat <<INFO

Cairn demo
  config     demo/cairn.conf
  clear text 127.0.0.1:1143 (STARTTLS)
  TLS        127.0.0.1:1993 (self-signed certificate demo/cert.pem)
  login      user demo, password $password
  try        openssl s_client -connect 127.0.0.1:1993 -quiet
             then type:  a LOGIN demo $password
                         b CAPABILITY
                         c LOGOUT
  add users  build/ctl/cairnctl -c demo/cairn.conf user add alice
  stop       Ctrl-C
INFO
	export CAIRN_IMAPD_PATH="$top/build/imapd/cairn-imapd"
	export CAIRN_AUTHD_PATH="$top/build/authd/cairn-authd"
	exec "$top/build/master/cairnd" -F -c "$d/cairn.conf"
}

case "$mode" in
demo)
	install_deps
	make_accounts
	build build
	demo
	;;
test)
	install_deps
	make_accounts
	# --enable-test-hooks: the confinement tests' XCAIRNTEST command;
	# never in a build for production (the demo's, below, has none)
	build build --enable-test-hooks
	status=0
	total_passed=0
	total_failed=0
	check build || status=1
	build build-san --enable-sanitizers --enable-test-hooks
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	export ASAN_OPTIONS UBSAN_OPTIONS
	check build-san || status=1
	# The libFuzzer harnesses (tests/fuzz/README.md), each on a copy of its
	# corpus.  30 s each, not make's 60: nine harnesses, about 5 minutes
	# with the build, against the 20-30 of the two make checks.
	fuzz_status=0
	say "fuzz: make fuzz-run, ${FUZZ_SECONDS:-30} s per harness"
	make -C build -j"$jobs" fuzz || fuzz_status=1
	[ "$fuzz_status" -ne 0 ] ||
		make -C build fuzz-run FUZZ_SECONDS="${FUZZ_SECONDS:-30}" || fuzz_status=1
	[ "$fuzz_status" -eq 0 ] || { say "fuzz: FAILED"; status=1; }
	if [ "$status" -eq 0 ]; then say "all tests passed"; else say "TESTS FAILED"; fi
	echo "total: $total_passed passed, $total_failed failed"
	[ "$fuzz_status" -eq 0 ] && echo "fuzz: no findings" || echo "fuzz: findings (see above)"
	exit "$status"
	;;
*)
	echo "usage: $0 demo|test" >&2
	exit 2
	;;
esac
