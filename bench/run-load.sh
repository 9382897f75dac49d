#!/bin/bash
# The load benchmark of issue 7, against Cairn and Dovecot in one run, on
# loopback, over clear text (LOGIN allowed without TLS on both):
#
#   1. sessions: N concurrent authenticated sessions (LOGIN, SELECT INBOX)
#      of USERS users, for N in STEPS (default 1000 2000 4000 8000 16000),
#      at most WINDOW being set up at once; per N and server: how many came
#      up, the time until all were, the memory of the server's process tree
#      (Pss/Rss from /proc/PID/smaps_rollup) and the accept latency (from
#      connect() to the greeting's first byte).  A server that fails at one
#      N is not tried at a larger one; no N is tried whose memory (from the
#      last step's Pss per session) would pass MEM_SHARE percent of
#      MemAvailable, or whose processes would not fit under kernel.pid_max.
#   2. mix: CLIENTS clients (of MIX_USERS users, so several share a
#      mailbox) for DURATION seconds per server, a weighted mix of SELECT,
#      EXAMINE, FETCH (flags, headers, bodies), SEARCH, STORE, APPEND,
#      COPY, MOVE, EXPUNGE, NOOP, IDLE and LOGOUT/LOGIN (imapload mix);
#      commands per second and latency per command, protocol errors (must
#      be 0), accept latency at every reconnect, and at the end every
#      appended message checked by its SHA-256 where the workload left it
#      (must all be there).  Runs in the order cairn, dovecot, dovecot,
#      cairn, each DURATION/2 seconds, halves merged.
#
#   bench/run-load.sh            # as root; ~15-25 minutes here
#   SMALL=1 bench/run-load.sh    # 100 sessions, 10 clients, 10 s: ~1 minute
#
# Environment: CAIRN_BUILDDIR (./build), STEPS, USERS (100), WINDOW (100),
# CLIENTS (100), MIX_USERS (25), DURATION (60), MEM_SHARE (60), POOL (8),
# PARTS ("sessions mix"), KEEP=1 keeps the temporary directory.
# Raised for the run (both servers alike): the descriptor limit
# (ulimit -n, inherited by both masters) to 4 N + 10000; Cairn's
# max-connections and max-concurrent; Dovecot's default_process_limit,
# default_client_limit, service imap's process_limit and
# mail_max_userip_connections.  Nothing of the system is changed.
# Stops everything it started on exit.  Exit 1 on any failure of the mixed
# run (protocol error, lost message); a failing sessions step is a result.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
BUILD=${CAIRN_BUILDDIR:-$src/build}
DOVECOT=/usr/sbin/dovecot
MAIL_ACCOUNT=nobody
POOL=${POOL:-8}
if [ "${SMALL:-}" = 1 ]; then
	STEPS=${STEPS:-100} CLIENTS=${CLIENTS:-10} DURATION=${DURATION:-10}
	USERS=${USERS:-10} MIX_USERS=${MIX_USERS:-5}
else
	STEPS=${STEPS:-1000 2000 4000 8000 16000} CLIENTS=${CLIENTS:-100}
	DURATION=${DURATION:-60} USERS=${USERS:-100} MIX_USERS=${MIX_USERS:-25}
fi
WINDOW=${WINDOW:-100}
MEM_SHARE=${MEM_SHARE:-60}
PARTS=${PARTS:-sessions mix}

BENCH=run-load
. "$here/lib.sh"

for v in CLIENTS DURATION USERS MIX_USERS WINDOW MEM_SHARE POOL; do
	[[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || die "$v must be a positive number"
done
maxn=0
for n in $STEPS; do
	[[ $n =~ ^[0-9]+$ && $n -ge 1 && $n -le 100000 ]] || die "STEPS: '$n' is not from 1 to 100000"
	[ "$n" -gt "$maxn" ] && maxn=$n
done
[ "$MIX_USERS" -le "$CLIENTS" ] || die "MIX_USERS must be at most CLIENTS"
if [ "$(id -u)" -ne 0 ]; then
	echo "run-load: run as root: Dovecot drops to dovecot and dovenull, Cairn to cairn" >&2
	exit 2
fi
missing=()
for cmd in cc openssl pgrep python3; do
	command -v "$cmd" >/dev/null || missing+=("command $cmd")
done
[ -x "$DOVECOT" ] || missing+=("$DOVECOT (apt-get install dovecot-imapd)")
for f in master/cairnd imapd/cairn-imapd authd/cairn-authd ctl/cairnctl; do
	[ -x "$BUILD/$f" ] || missing+=("$BUILD/$f (build Cairn first)")
done
for u in cairn cairn-auth dovecot dovenull "$MAIL_ACCOUNT"; do
	id "$u" >/dev/null 2>&1 || missing+=("account $u")
done
[ ${#missing[@]} -eq 0 ] || { printf 'run-load: missing: %s\n' "${missing[@]}" >&2; exit 1; }

tmp=$(mktemp -d /tmp/cairn-bench-load.XXXXXX)
chmod 755 "$tmp"
cpid="" dpid="" ok=""
trap 'bench_finish "$cpid" "$dpid"' EXIT
trap 'exit 1' INT TERM HUP

# Descriptors: the client holds N sockets; each master a few per session.
fds=$((4 * maxn + 10000))
ulimit -Hn "$fds" 2>/dev/null || true
ulimit -n "$fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
nproc_limit=$((maxn + 1000))

cc -std=c11 -O2 -Wall -Wextra -Wshadow -Wformat=2 -Wvla -Wno-unused-parameter -pthread \
	-o "$tmp/imapload" "$here/imapload.c" -lssl -lcrypto -lm || die "cannot build imapload"
copy_cairn "$BUILD" "$tmp/bin"
make_cert "$tmp"
read -r cport ctport dport <<<"$(free_ports 3)"

cat >"$tmp/cairn.conf" <<EOF
bind-addr = {"127.0.0.1"}
bind-port = $cport
bind-port-tls = $ctport
cert-path = "$tmp/cert.pem"
key-path = "$tmp/key.pem"
allow-plain-text-auth = true
worker-pool-size = $POOL
max-connections = $((maxn + 1000))
max-concurrent = 10000
max-unauthenticated-per-address = 0
rate-limit = "1000000/1s"
log-level = warn
data-dir = "$tmp/cairn-data"
run-dir = "$tmp/cairn-run"
EOF
ctl() { "$tmp/bin/cairnctl" -c "$tmp/cairn.conf" "$@"; }

nusers=$((USERS > MIX_USERS ? USERS : MIX_USERS))
password=$(openssl rand -hex 12)
hash=$(openssl passwd -6 -stdin <<<"$password") || die "openssl passwd -6 failed"
export IMAPLOAD_PASSWORD=$password
for ((i = 1; i <= nusers; i++)); do
	ctl user add "load$i" --hash "$hash" >/dev/null || die "cairnctl user add load$i failed"
done

mkdir -m 700 "$tmp/dovecot-mail"
chown "$MAIL_ACCOUNT:" "$tmp/dovecot-mail"
mail_uid=$(id -u "$MAIL_ACCOUNT") mail_gid=$(id -g "$MAIL_ACCOUNT")
for ((i = 1; i <= nusers; i++)); do
	echo "load$i:{CRYPT}$hash:$mail_uid:$mail_gid::$tmp/dovecot-mail/load$i::"
done >"$tmp/dovecot.passwd"
chown root:dovecot "$tmp/dovecot.passwd"
chmod 640 "$tmp/dovecot.passwd"
mkdir -m 755 "$tmp/dovecot-state"
cat >"$tmp/dovecot.conf" <<EOF
instance_name = cairn-bench-load
base_dir = $tmp/dovecot-run
state_dir = $tmp/dovecot-state
log_path = $tmp/dovecot.log
info_log_path = /dev/null
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=CRYPT $tmp/dovecot.passwd
}
userdb {
  driver = passwd-file
  args = $tmp/dovecot.passwd
}
# every session at once: one imap process each
default_process_limit = $nproc_limit
default_client_limit = $((2 * nproc_limit + 1000))
protocol imap {
  mail_max_userip_connections = 10000
}
service imap {
  process_limit = $nproc_limit
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $dport
  }
  inet_listener imaps {
    port = 0
  }
  process_min_avail = $POOL
}
EOF

start_cairnd "$tmp"
"$DOVECOT" -F -c "$tmp/dovecot.conf" >>"$tmp/dovecot.out" 2>&1 &
dpid=$!
wait_ready cairn "$cpid" "$cport" cairn-imapd
wait_ready dovecot "$dpid" "$dport" imap-login

L() { "$tmp/imapload" "$@"; }
for s in "cairn $cport $cpid" "dovecot $dport $dpid"; do
	set -- $s
	for ((i = 0; i < 20; i++)); do
		L sessions -p "$2" -u 'load%d' --users 1 -c 1 --server-pid "$3" --settle 0 \
			--label check >"$tmp/check.out" 2>&1 && break
		sleep 0.5
	done
	[ "$i" -lt 20 ] || { cat "$tmp/check.out" >&2; die "a test login on $1 failed"; }
done

started=$(date -u '+%F %H:%M:%S UTC')
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
	"$(awk '/MemTotal/ { printf "%.0f GB RAM", $2 / 1048576 }' /proc/meminfo), $(uname -sr);" \
	"kernel.pid_max $(cat /proc/sys/kernel/pid_max), ephemeral ports" \
	"$(tr '\t' - </proc/sys/net/ipv4/ip_local_port_range), ulimit -n $(ulimit -n)"
echo "cairn: binaries of $(date -u -r "$BUILD/imapd/cairn-imapd" '+%F %TZ'), source at" \
	"$(git -C "$src" describe --always --dirty 2>/dev/null || echo '?'); 127.0.0.1:$cport," \
	"worker-pool-size $POOL, max-connections $((maxn + 1000)), max-concurrent 10000"
echo "dovecot $("$DOVECOT" --version | cut -d' ' -f1): 127.0.0.1:$dport, maildir," \
	"default_process_limit and imap process_limit $nproc_limit, default_client_limit" \
	"$((2 * nproc_limit + 1000)), process_min_avail $POOL (imap-login service_count 1)"
echo "start: $started; $(uptime | sed 's/^ *//')"
echo
mkdir "$tmp/res"
failed=()

# wait_calm NAME PID PROCESS: until the server has at most POOL + 4 PROCESS
# children again (the last step's sessions have gone), up to 120 s
wait_calm() {
	local i
	for ((i = 0; i < 1200; i++)); do
		[ "$(pgrep -c -P "$2" -x "$3" || true)" -le $((POOL + 4)) ] && return 0
		sleep 0.1
	done
	echo "run-load: $1 still has $(pgrep -c -P "$2" -x "$3") $3 processes after 120 s" >&2
}

if [[ " $PARTS " == *" sessions "* ]]; then
	alive_c=1 alive_d=1 per_session=0 step=0
	for n in $STEPS; do
		avail=$(awk '/MemAvailable/ { print $2 }' /proc/meminfo)
		need=$((per_session * n))
		if [ "$per_session" -gt 0 ] && [ "$need" -gt $((avail * MEM_SHARE / 100)) ]; then
			echo "sessions: N = $n not tried: about $((need / 1024)) MB (${per_session} kB per" \
				"session at the last step) > $MEM_SHARE % of MemAvailable $((avail / 1024)) MB"
			break
		fi
		# (a glob: processes come and go while ls would look)
		procs=(/proc/[0-9]*)
		procs=${#procs[@]}
		if [ $((procs + n + 200)) -gt "$(cat /proc/sys/kernel/pid_max)" ]; then
			echo "sessions: N = $n not tried: $procs processes now, + $n > kernel.pid_max"
			break
		fi
		order="cairn dovecot"
		[ $((step % 2)) -eq 1 ] && order="dovecot cairn"
		step=$((step + 1))
		for name in $order; do
			if [ "$name" = cairn ]; then
				[ "$alive_c" = 1 ] || continue
				port=$cport pid=$cpid proc=cairn-imapd
			else
				[ "$alive_d" = 1 ] || continue
				port=$dport pid=$dpid proc=imap
			fi
			wait_calm "$name" "$pid" "$proc"
			echo "sessions: $n on $name ($(uptime | sed 's/.*load/load/'))"
			if L sessions -p "$port" -u 'load%d' --users "$USERS" -c "$n" --window "$WINDOW" \
				--server-pid "$pid" --settle 3 --timeout 60 --label "$name-$n" \
				--save "$tmp/res/sessions.$n.$name" >"$tmp/run.out" 2>&1; then
				sed 's/^/    /' "$tmp/run.out"
			else
				sed 's/^/    /' "$tmp/run.out"
				echo "    -> $name failed at $n sessions: not tried at more"
				[ "$name" = cairn ] && alive_c=0 || alive_d=0
			fi
			kill -0 "$cpid" 2>/dev/null || die "cairnd exited"
			kill -0 "$dpid" 2>/dev/null || die "dovecot exited"
			ps=$(awk '/^up /{u=$2} /^pss_before/{b=$2} /^pss_after/{a=$2}
				END { if (u > 0) printf "%d", (a - b) / u; else print 0 }' \
				"$tmp/res/sessions.$n.$name")
			[ "$ps" -gt "$per_session" ] && per_session=$ps
		done
		[ "$alive_c" = 1 ] || [ "$alive_d" = 1 ] || break
	done
	wait_calm cairn "$cpid" cairn-imapd
	wait_calm dovecot "$dpid" imap
	echo
fi

if [[ " $PARTS " == *" mix "* ]]; then
	half=$(((DURATION + 1) / 2))
	mixrun() { # NAME PORT HALF
		echo "mix: $1, run $3, $half s ($(uptime | sed 's/.*load/load/'))"
		if ! L mix -p "$2" -u 'load%d' --users "$MIX_USERS" -c "$CLIENTS" --duration "$half" \
			--run "r$3" --timeout 120 --label "$1-$3" --save "$tmp/res/mix.$1.$3" \
			>"$tmp/run.out" 2>&1; then
			failed+=("mix/$1/$3")
		fi
		sed 's/^/    /' "$tmp/run.out"
		kill -0 "$cpid" 2>/dev/null || die "cairnd exited during the mixed run"
		kill -0 "$dpid" 2>/dev/null || die "dovecot exited during the mixed run"
	}
	mixrun cairn "$cport" 1
	mixrun dovecot "$dport" 1
	mixrun dovecot "$dport" 2
	mixrun cairn "$cport" 2
	echo
fi

echo "=== results"
if [[ " $PARTS " == *" sessions "* ]]; then
	python3 "$here/loadreport.py" sessions "$tmp/res"
	echo
fi
if [[ " $PARTS " == *" mix "* ]]; then
	python3 "$here/loadreport.py" mix "$tmp/res" || failed+=("mix check")
fi
echo "start: $started; end: $(date -u '+%F %H:%M:%S UTC'); $(uptime | sed 's/^ *//')"
for log in cairnd.log dovecot.log; do
	grep -v 'master: Warning: Killed with signal 15' "$tmp/$log" >"$tmp/$log.shown" 2>/dev/null || true
	n=$(grep -c . "$tmp/$log.shown" || true)
	echo "$log: ${n:-0} lines at warning level or above"
	[ "${n:-0}" -gt 0 ] && head -n 20 "$tmp/$log.shown" | sed 's/^/  /'
	true
done
[ ${#failed[@]} -eq 0 ] || die "errors in: ${failed[*]}"
ok=1
