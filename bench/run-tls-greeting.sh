#!/bin/bash
# Implicit-TLS greeting latency, Cairn versus Dovecot, on this machine.
#
#   bench/run-tls-greeting.sh [N] [C]
#
# Starts Cairn from the build tree and a private Dovecot instance, both on
# free 127.0.0.1 ports with the same self-signed EC P-256 certificate and 8
# pre-spawned login processes, warms each up with 50 connections, then makes
# N (default 1000) measured connections to each with bench/tls_greeting.py
# (C threads, default 1), in the order cairn, dovecot, dovecot, cairn with N/2
# each. Prints both results and the ratios cairn/dovecot; stops both servers.
#
# Environment: CAIRN_BUILDDIR (default ./build), POOL (8),
# DOVECOT_SERVICE_COUNT (imap-login service_count; 1, Dovecot's default, is
# one connection per process, 0 is Dovecot's "high-performance" mode),
# QUICKACK=1 passes --quickack to tls_greeting.py (diagnostic, see there),
# KEEP=1 keeps the temporary directory with the logs.
# Must run as root (Dovecot drops to its accounts dovecot and dovenull).
# Installs nothing; exits 1 on failure, 2 when not root.
set -euo pipefail

N=${1:-1000}
C=${2:-1}
POOL=${POOL:-8}
SERVICE_COUNT=${DOVECOT_SERVICE_COUNT:-1}
CLIENT_OPTS=()
[ "${QUICKACK:-}" = 1 ] && CLIENT_OPTS=(--quickack)
WARMUP=50
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${CAIRN_BUILDDIR:-$(dirname "$here")/build}
DOVECOT=/usr/sbin/dovecot

BENCH=run-tls-greeting
. "$here/lib.sh"

[[ $N =~ ^[0-9]+$ && $N -ge 2 && $((N % 2)) -eq 0 ]] || die "N must be an even number >= 2, not '$N'"
[[ $C =~ ^[0-9]+$ && $C -ge 1 && $C -le $((N / 2)) ]] || die "C must be from 1 to N/2, not '$C'"
[[ $POOL =~ ^[0-9]+$ && $POOL -ge 1 ]] || die "POOL must be a positive number"
[[ $SERVICE_COUNT =~ ^[0-9]+$ ]] || die "DOVECOT_SERVICE_COUNT must be a number"
if [ "$(id -u)" -ne 0 ]; then
	echo "run-tls-greeting: run as root: Dovecot needs root to drop to its accounts" \
		"dovecot and dovenull (Cairn alone would run as any user)" >&2
	exit 2
fi

# Dependencies: say everything that is missing, then stop.
missing=()
for cmd in python3 openssl pgrep; do
	command -v "$cmd" >/dev/null || missing+=("command $cmd")
done
[ -x "$DOVECOT" ] || missing+=("$DOVECOT (apt-get install dovecot-imapd)")
for f in master/cairnd imapd/cairn-imapd authd/cairn-authd; do
	[ -x "$BUILD/$f" ] || missing+=("$BUILD/$f (build Cairn first)")
done
for u in cairn cairn-auth dovecot dovenull; do
	id "$u" >/dev/null 2>&1 || missing+=("account $u")
done
if [ ${#missing[@]} -gt 0 ]; then
	printf 'run-tls-greeting: missing: %s\n' "${missing[@]}" >&2
	[[ ${missing[*]} == *account* ]] && echo "Cairn's accounts: useradd --system --user-group" \
		"--home-dir /nonexistent --shell /usr/sbin/nologin cairn (and cairn-auth);" \
		"Dovecot's come with the package dovecot-core" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/cairn-bench.XXXXXX)
chmod 755 "$tmp" # the login processes of both servers must reach their sockets
cpid="" dpid="" bpid="" ok=""

cleanup() { bench_finish "$bpid" "$cpid" "$dpid"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

copy_cairn "$BUILD" "$tmp/bin"
make_cert "$tmp"
read -r cport dport <<<"$(free_ports 2)"

cat >"$tmp/cairn.conf" <<EOF
bind-addr = {"127.0.0.1"}
bind-port = 0
bind-port-tls = $cport
cert-path = "$tmp/cert.pem"
key-path = "$tmp/key.pem"
worker-pool-size = $POOL
log-level = warn
data-dir = "$tmp/cairn-data"
run-dir = "$tmp/cairn-run"
EOF

mkdir -m 700 "$tmp/mail"
echo "unused:{PLAIN}$(openssl rand -hex 16):65534:65534::$tmp/mail/unused::" >"$tmp/passwd"
cat >"$tmp/dovecot.conf" <<EOF
instance_name = cairn-bench-dovecot
base_dir = $tmp/dovecot-run
state_dir = $tmp/dovecot-state
log_path = $tmp/dovecot.log
protocols = imap
listen = 127.0.0.1
login_trusted_networks =
ssl = required
ssl_cert = <$tmp/cert.pem
ssl_key = <$tmp/key.pem
ssl_min_protocol = TLSv1.2
mail_location = maildir:$tmp/mail/%u
passdb {
  driver = passwd-file
  args = $tmp/passwd
}
userdb {
  driver = passwd-file
  args = $tmp/passwd
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $dport
    ssl = yes
  }
  process_min_avail = $POOL
  service_count = $SERVICE_COUNT
}
EOF
mkdir -m 755 "$tmp/dovecot-state"

start_cairnd "$tmp"
"$DOVECOT" -F -c "$tmp/dovecot.conf" >"$tmp/dovecot.out" 2>&1 &
dpid=$!
wait_ready cairn "$cpid" "$cport" cairn-imapd
wait_ready dovecot "$dpid" "$dport" imap-login

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
	"$(openssl version | cut -d' ' -f1-2), Python $(python3 -c 'import platform; print(platform.python_version())')"
echo "servers: cairn (pool $POOL) on 127.0.0.1:$cport, Dovecot $("$DOVECOT" --version | cut -d' ' -f1)" \
	"(process_min_avail $POOL, service_count $SERVICE_COUNT) on 127.0.0.1:$dport"
echo "run: $WARMUP warm-up connections each, then $N measured each, concurrency $C ${CLIENT_OPTS[*]}"

bench() { # bench PORT [ARGS...]: run tls_greeting.py quietly, show its errors
	local port=$1
	shift
	# in the background, so that a signal to this script stops the run at once
	python3 "$here/tls_greeting.py" "$port" -c "$C" "${CLIENT_OPTS[@]}" "$@" >"$tmp/bench.out" 2>&1 &
	bpid=$!
	wait "$bpid" || { cat "$tmp/bench.out" >&2; die "the benchmark against port $port failed"; }
	bpid=""
}
bench "$cport" -n "$WARMUP"
bench "$dport" -n "$WARMUP"
half=$((N / 2))
bench "$cport" -n "$half" --save "$tmp/cairn1.json"
bench "$dport" -n "$half" --save "$tmp/dovecot1.json"
bench "$dport" -n "$half" --save "$tmp/dovecot2.json"
bench "$cport" -n "$half" --save "$tmp/cairn2.json"
echo
python3 "$here/tls_greeting.py" --summary "cairn=$tmp/cairn1.json,$tmp/cairn2.json" \
	"dovecot=$tmp/dovecot1.json,$tmp/dovecot2.json" || die "a measured connection failed"
kill -0 "$cpid" 2>/dev/null || die "cairnd exited during the run"
kill -0 "$dpid" 2>/dev/null || die "dovecot exited during the run"
ok=1
