#!/bin/bash
# Logins per second over implicit TLS, Cairn versus Dovecot, on this machine.
#
#   bench/run-logins.sh [SECONDS] [THREADS]
#
# Starts Cairn from the build tree and a private Dovecot instance, both on
# free 127.0.0.1 ports with the same self-signed EC P-256 certificate, 8
# pre-spawned login processes and the same password hashes, then runs
# bench/logins.py (THREADS client threads, default 8, each logging in as its
# own user bench1..benchN, so per-user limits and penalties never interfere)
# against each: a warm-up of WARMUP seconds, then measured runs of SECONDS
# (default 20) each in the order cairn, dovecot, dovecot, cairn. Prints every
# run and the ratio cairn/dovecot of logins per second.
#
# Users are made with `cairnctl user add` (yescrypt, Cairn's default); their
# hashes are read back from users.db and given to Dovecot's passwd-file passdb
# as {CRYPT}<hash>: Dovecot's CRYPT scheme calls crypt(3) (libxcrypt), so
# both servers verify the very same yescrypt hashes. The script checks that
# with `doveadm pw -t`; should it fail, both servers get SHA-512-crypt ($6$)
# hashes instead (cairnctl user add --hash) and the script says so.
#
# Dovecot: auth_cache_size = 0 (its default: every login hashes, as in Cairn),
# auth_worker_max_count at its default (30), imap-login in its default
# one-connection-per-process mode with process_min_avail = 8. The script
# counts Dovecot's auth processes after its runs: with the passwd-file passdb
# no auth-worker is started, so every password check runs in the one auth
# process (see bench/logins.md). With CACHE=1 a second Dovecot instance with
# auth_cache_size = 10M is measured too, after the main runs, labelled
# "dovecot+cache".
#
# Environment: CAIRN_BUILDDIR (default ./build), WARMUP (seconds, 5),
# QUICKACK=1 passes --quickack to logins.py (diagnostic, see there),
# CACHE (1: also measure dovecot+cache; 0, the default: don't), KEEP=1 keeps the
# temporary directory with the logs and the saved samples.
# Must run as root (Dovecot drops to its accounts; Cairn to cairn/cairn-auth).
# Installs nothing; exits 1 on failure, 2 when not root.
set -euo pipefail

SECONDS_PER_RUN=${1:-20}
THREADS=${2:-8}
WARMUP=${WARMUP:-5}
CACHE=${CACHE:-0}
CLIENT_OPTS=()
[ "${QUICKACK:-}" = 1 ] && CLIENT_OPTS=(--quickack)
POOL=8
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${CAIRN_BUILDDIR:-$(dirname "$here")/build}
DOVECOT=/usr/sbin/dovecot
DOVEADM=/usr/bin/doveadm
MAIL_ACCOUNT=nobody # owner of Dovecot's (empty) mailboxes

BENCH=run-logins
. "$here/lib.sh"

[[ $SECONDS_PER_RUN =~ ^[0-9]+$ && $SECONDS_PER_RUN -ge 1 && $SECONDS_PER_RUN -le 600 ]] ||
	die "SECONDS must be a number from 1 to 600, not '$SECONDS_PER_RUN'"
[[ $THREADS =~ ^[0-9]+$ && $THREADS -ge 1 && $THREADS -le 64 ]] ||
	die "THREADS must be a number from 1 to 64, not '$THREADS'"
[[ $WARMUP =~ ^[0-9]+$ && $WARMUP -le 600 ]] || die "WARMUP must be a number of seconds"
if [ "$(id -u)" -ne 0 ]; then
	echo "run-logins: run as root: Dovecot needs root to drop to its accounts" \
		"dovecot and dovenull, and Cairn to cairn and cairn-auth" >&2
	exit 2
fi

# Dependencies: say everything that is missing, then stop.
missing=()
for cmd in python3 openssl pgrep; do
	command -v "$cmd" >/dev/null || missing+=("command $cmd")
done
python3 -c 'import sqlite3, ssl' 2>/dev/null || missing+=("python3 modules sqlite3 and ssl")
[ -x "$DOVECOT" ] || missing+=("$DOVECOT (apt-get install dovecot-imapd)")
[ -x "$DOVEADM" ] || missing+=("$DOVEADM (apt-get install dovecot-core)")
for f in master/cairnd imapd/cairn-imapd authd/cairn-authd ctl/cairnctl; do
	[ -x "$BUILD/$f" ] || missing+=("$BUILD/$f (build Cairn first: make in $BUILD)")
done
for u in cairn cairn-auth dovecot dovenull "$MAIL_ACCOUNT"; do
	id "$u" >/dev/null 2>&1 || missing+=("account $u")
done
if [ ${#missing[@]} -gt 0 ]; then
	printf 'run-logins: missing: %s\n' "${missing[@]}" >&2
	echo "Cairn's accounts: useradd --system --user-group --home-dir /nonexistent" \
		"--shell /usr/sbin/nologin cairn (and cairn-auth); Dovecot's come with dovecot-core" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/cairn-bench-logins.XXXXXX)
chmod 755 "$tmp" # the servers' unprivileged processes must reach below it
cpid="" dpid="" ok=""

cleanup() { bench_finish "$cpid" "$dpid"; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

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
max-connections = 10000
max-concurrent = 1000
max-unauthenticated-per-address = 0
rate-limit = "1000000/1s"
auth-max-failures = 3
log-level = warn
data-dir = "$tmp/cairn-data"
run-dir = "$tmp/cairn-run"
EOF
ctl() { "$tmp/bin/cairnctl" -c "$tmp/cairn.conf" "$@"; }

# Users: bench1..benchN with random passwords, made by cairnctl (yescrypt).
: >"$tmp/credentials"
chmod 600 "$tmp/credentials"
for ((i = 1; i <= THREADS; i++)); do
	pw=$(openssl rand -hex 12)
	echo "bench$i $pw" >>"$tmp/credentials"
	printf '%s\n' "$pw" | ctl user add "bench$i" >/dev/null || die "cairnctl user add bench$i failed"
done
# name<TAB>hash of every user, straight from users.db (cairnctl never prints a hash)
hashes() {
	python3 - "$tmp/cairn-data/auth/users.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for name, h in db.execute("SELECT name, hash FROM users ORDER BY name"):
    print("%s\t%s" % (name, h))
EOF
}

mkdir -m 700 "$tmp/dovecot-mail"
chown "$MAIL_ACCOUNT:" "$tmp/dovecot-mail"
mail_uid=$(id -u "$MAIL_ACCOUNT") mail_gid=$(id -g "$MAIL_ACCOUNT")
mkdir -m 755 "$tmp/dovecot-state"
# dovecot_conf FILE INSTANCE CACHE_SIZE
dovecot_conf() {
	cat >"$1" <<EOF
instance_name = $2
base_dir = $tmp/$2-run
state_dir = $tmp/dovecot-state
log_path = $tmp/dovecot.log
# Cairn runs at log-level warn: no line per login on either side
info_log_path = /dev/null
protocols = imap
listen = 127.0.0.1
login_trusted_networks =
disable_plaintext_auth = yes
ssl = required
ssl_cert = <$tmp/cert.pem
ssl_key = <$tmp/key.pem
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain login
auth_cache_size = $3
auth_cache_ttl = 1 hour
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=CRYPT username_format=%u $tmp/dovecot.passwd
}
userdb {
  driver = static
  args = uid=$mail_uid gid=$mail_gid home=$tmp/dovecot-mail/%u
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
}
EOF
}
dovecot_conf "$tmp/dovecot.conf" cairn-bench-dovecot 0

scheme=yescrypt
hashes >"$tmp/hashes"
read -r first_user first_hash <"$tmp/hashes"
first_pw=$(sed -n 's/^bench1 //p' "$tmp/credentials")
[[ $first_hash == '$y$'* ]] || die "cairnctl made '${first_hash:0:8}...', not a yescrypt hash"
if ! "$DOVEADM" -c "$tmp/dovecot.conf" pw -t "{CRYPT}$first_hash" -p "$first_pw" >"$tmp/doveadm.out" 2>&1; then
	echo "run-logins: Dovecot's {CRYPT} cannot verify yescrypt here ($(head -c 200 "$tmp/doveadm.out"));" \
		"falling back to SHA-512-crypt (\$6\$) for BOTH servers" >&2
	scheme=sha512-crypt
	while read -r user pw; do
		ctl user del "$user" --yes >/dev/null || die "cairnctl user del $user failed"
		h=$(openssl passwd -6 -stdin <<<"$pw") || die "openssl passwd -6 failed"
		ctl user add "$user" --hash "$h" >/dev/null || die "cairnctl user add $user --hash failed"
	done <"$tmp/credentials"
	hashes >"$tmp/hashes"
fi
[ "$(wc -l <"$tmp/hashes")" -eq "$THREADS" ] || die "users.db does not hold the $THREADS users"
while IFS=$'\t' read -r user h; do
	echo "$user:{CRYPT}$h"
done <"$tmp/hashes" >"$tmp/dovecot.passwd"
chown root:dovecot "$tmp/dovecot.passwd"
chmod 640 "$tmp/dovecot.passwd"
hash_params=$(cut -f2 "$tmp/hashes" | sed 's/\$[^$]*$//; s/\$[^$]*$//' | sort -u | tr '\n' ' ')

start_cairn() {
	start_cairnd "$tmp"
	wait_ready cairn "$cpid" "$cport" cairn-imapd
}
start_dovecot() { # start_dovecot CONFIG
	"$DOVECOT" -F -c "$1" >>"$tmp/dovecot.out" 2>&1 &
	dpid=$!
	wait_ready dovecot "$dpid" "$dport" imap-login
}
start_cairn
start_dovecot "$tmp/dovecot.conf"
authd0=$(pgrep -P "$cpid" -x cairn-authd || true)

# One login on each (retried for up to 10 s: cairn-authd may still be starting).
verify() { # verify NAME PORT
	local i
	for ((i = 0; i < 20; i++)); do
		verify_once "$2" >"$tmp/verify.out" 2>&1 && { cat "$tmp/verify.out"; return 0; }
		sleep 0.5
	done
	cat "$tmp/verify.out" >&2
	die "a test login on $1 (port $2) failed"
}
verify_once() { # verify_once PORT
	python3 - "$1" "$first_user" "$first_pw" <<'EOF'
import socket, ssl, sys
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
f = s.makefile("rwb")
def cmd(line, tag):
    f.write(line.encode() + b"\r\n"); f.flush()
    while True:
        r = f.readline().decode().rstrip("\r\n")
        if r.startswith(tag + " "):
            return r
greeting = f.readline().decode().rstrip()
login = cmd("a LOGIN %s %s" % (user, pw), "a")
bad = cmd("b LOGOUT", "b")
print("  %s %s; %s" % (s.version(), s.cipher()[0], login[:70]))
sys.exit(0 if greeting.startswith("* OK") and login.startswith("a OK") and bad.startswith("b OK") else 1)
EOF
}

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
	"$(openssl version | cut -d' ' -f1-2), $(ldd "$tmp/bin/cairn-authd" | grep -o 'libcrypt\.so[^ ]*' | head -n 1)," \
	"Python $(python3 -c 'import platform; print(platform.python_version())')"
src=$(dirname "$here")
echo "cairn build: $(git -C "$src" describe --always --dirty 2>/dev/null || echo 'no git')" \
	"(-dirty: the working tree differs from the commit), binaries of $(date -u -r \
	"$(ls -t "$tmp"/bin/* | head -n 1)" '+%F %TZ'), sha256" \
	"$(cat "$tmp"/bin/cairnd "$tmp"/bin/cairn-imapd "$tmp"/bin/cairn-authd | sha256sum | cut -c1-12)"
echo "servers: cairn (worker-pool-size $POOL) on 127.0.0.1:$cport;" \
	"Dovecot $("$DOVECOT" --version | cut -d' ' -f1) (imap-login process_min_avail $POOL," \
	"auth_cache_size 0, auth_worker_max_count default) on 127.0.0.1:$dport"
echo "hashes: $scheme, parameters $hash_params(the same $THREADS hashes on both servers)"
echo "test logins:"
verify cairn "$cport"
verify dovecot "$dport"
echo "run: $THREADS threads, one user each; ${WARMUP}s warm-up each, then ${SECONDS_PER_RUN}s runs" \
	"in the order cairn, dovecot, dovecot, cairn$([ "$CACHE" = 1 ] && echo ', then dovecot+cache twice')" \
	"${CLIENT_OPTS[*]}"

bench() { # bench NAME PORT PID [ARGS...]
	local name=$1 port=$2 pid=$3
	shift 3
	python3 "$here/logins.py" "$port" --credentials "$tmp/credentials" -c "$THREADS" \
		--server-pid "$pid" --label "$name" "${CLIENT_OPTS[@]}" "$@" >"$tmp/bench.out" 2>&1 ||
		{ cat "$tmp/bench.out" >&2; die "the benchmark against $name (port $port) failed"; }
	echo "  $name: $(sed -n 2p "$tmp/bench.out" | tr -s ' ')" >&2
}
if [ "$WARMUP" -gt 0 ]; then
	bench cairn-warmup "$cport" "$cpid" -d "$WARMUP"
	bench dovecot-warmup "$dport" "$dpid" -d "$WARMUP"
fi
bench cairn "$cport" "$cpid" -d "$SECONDS_PER_RUN" --save "$tmp/cairn1.json"
bench dovecot "$dport" "$dpid" -d "$SECONDS_PER_RUN" --save "$tmp/dovecot1.json"
bench dovecot "$dport" "$dpid" -d "$SECONDS_PER_RUN" --save "$tmp/dovecot2.json"
bench cairn "$cport" "$cpid" -d "$SECONDS_PER_RUN" --save "$tmp/cairn2.json"
kill -0 "$cpid" 2>/dev/null || die "cairnd exited during the run"
kill -0 "$dpid" 2>/dev/null || die "dovecot exited during the run"
authd1=$(pgrep -P "$cpid" -x cairn-authd || true)
authd_threads=$(ls "/proc/$authd1/task" 2>/dev/null | wc -l)
pool1=$(pgrep -c -P "$cpid" -x cairn-imapd || true)
dovecot_auth=$(pgrep -c -P "$dpid" -x auth || true)

cache_specs=()
if [ "$CACHE" = 1 ]; then
	stop "$dpid"
	dpid=""
	dovecot_conf "$tmp/dovecot-cache.conf" cairn-bench-dovecot-cache 10M
	start_dovecot "$tmp/dovecot-cache.conf"
	verify dovecot+cache "$dport" >/dev/null
	[ "$WARMUP" -gt 0 ] && bench dovecot+cache-warmup "$dport" "$dpid" -d "$WARMUP"
	bench dovecot+cache "$dport" "$dpid" -d "$SECONDS_PER_RUN" --save "$tmp/dcache1.json"
	bench dovecot+cache "$dport" "$dpid" -d "$SECONDS_PER_RUN" --save "$tmp/dcache2.json"
	kill -0 "$dpid" 2>/dev/null || die "dovecot (cache) exited during the run"
	cache_specs=("dovecot+cache=$tmp/dcache1.json,$tmp/dcache2.json")
fi

echo
status=0
python3 "$here/logins.py" --summary "cairn=$tmp/cairn1.json,$tmp/cairn2.json" \
	"dovecot=$tmp/dovecot1.json,$tmp/dovecot2.json" || status=1
if [ ${#cache_specs[@]} -gt 0 ]; then
	echo
	python3 "$here/logins.py" --summary "cairn=$tmp/cairn1.json,$tmp/cairn2.json" \
		"${cache_specs[@]}" | grep -E '^(run |dovecot\+cache|ratio)' || status=1
fi
echo
echo "cairn: cairn-authd pid $authd0 before, $authd1 after$([ "$authd0" != "$authd1" ] && echo ' (RESTARTED)')," \
	"$authd_threads threads; $pool1 idle cairn-imapd at the end (pool $POOL)"
echo "dovecot: $dovecot_auth auth processes after its runs (1 means no auth workers were started)"
# Dovecot's master warns when it is stopped (the cache run stops the first
# instance): that line is expected, anything else is shown.
for log in cairnd.log dovecot.log; do
	grep -v 'master: Warning: Killed with signal 15' "$tmp/$log" >"$tmp/$log.shown" 2>/dev/null || true
	n=$(grep -c . "$tmp/$log.shown" || true)
	echo "$log: ${n:-0} lines at warning level or above"
	[ "${n:-0}" -gt 0 ] && head -n 20 "$tmp/$log.shown" | sed 's/^/  /'
	true
done
[ "$status" = 0 ] || die "some cycles failed (see above)"
ok=1
