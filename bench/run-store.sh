#!/bin/bash
# The store benchmark of issue 4: the same IMAP workload against Cairn and
# against Dovecot, on this machine, over plain TCP on loopback.
#
#   bench/run-store.sh               # the issue's sizes (1 h 45 min here, 77 min of
#                                    # it Dovecot taking the 100 000 messages)
#   SMALL=1 bench/run-store.sh       # a quick check (about 3 minutes)
#
# Builds bench/imapload.c with cc into the temporary directory, starts Cairn
# from the build tree and a private Dovecot instance (maildir:~/Maildir) on
# free 127.0.0.1 ports, and runs every row with bench/imapload, each in the
# order cairn, dovecot, dovecot, cairn (each run does half of the row's
# work), then merges the halves and prints the ratio cairn/dovecot:
#
#   append       APPEND of MSGS mixed-size messages (LITERAL+, one at a time
#                per client), 1, 10 and 100 clients, each client its own user
#                (bench1..benchC) appending to its own INBOX
#   populate     BIG messages into the INBOX of the user "big", pipelined on
#                one connection, both servers at once (not a measurement:
#                its time is printed for information)
#   select       SELECT of that mailbox, repeated
#   fetch-flags  FETCH 1:* (FLAGS UID)
#   fetch-body   FETCH n (BODY.PEEK[]), random n
#   search       SEARCH SUBJECT "invoice", FROM "ophelia", BODY "xylophone"
#   store        STORE lo:hi +FLAGS (\Flagged) then -FLAGS; client i on its
#                own range of min(5000, BIG/C) messages of the big mailbox
#   mem          MEM_N connections LOGIN, SELECT INBOX and stay idle: Pss and
#                Rss of every server process, before and after, per
#                connection; once with MEM_N users (bench1..), once with
#                MEM_N sessions of "big" (the BIG-message INBOX selected),
#                once with MEM_N users over implicit TLS (port 993's
#                listener of each server: Dovecot then adds an imap-login
#                process per connection, Cairn's session does TLS itself)
#   idle         issue 5: IDLE_N sessions of the one user "idler" LOGIN,
#                SELECT INBOX and IDLE; Pss and Rss per session as in mem;
#                then another session of idler APPENDs IDLE_APPENDS
#                messages one by one, and every idling session's time until
#                it reads the new EXISTS is taken; once per N in IDLE_N and
#                per mode in IDLE_MODES: "select", "examine" (EXAMINE
#                INBOX: a read-only view, which claims no \Recent message)
#                and "tls" (SELECT over implicit TLS, the 993 listeners)
#
# Rows select .. store use 1, 10 and 100 clients (CLIENTS), all logged in
# as "big" and on its INBOX; the read rows run while nothing writes.
#
# Both servers get the same users and the same SHA-512-crypt hash (login
# cost is not measured: logins happen before the timed part), the same
# self-signed certificate (unused: the clients log in over plain TCP, with
# allow-plain-text-auth = true and disable_plaintext_auth = no, so that TLS
# does not hide the store), and limits that allow every client at once.
# Dovecot's durability settings stay at their defaults (mail_fsync =
# optimized); Cairn has no such setting (index.db synchronous = FULL, blob
# files and directories fsynced).
#
# Every session in IDLE holds an inotify instance in both servers, and
# fs.inotify.max_user_instances (128 by default) counts them per user
# (Cairn's sessions all run as cairn, Dovecot's here as nobody).  A woken
# Dovecot session that waits for the maildir's dotlock takes a second one
# for the wait (dotlock_wait: a temporary ioloop with io_add_notify), so
# the idle row raises the limit to twice the largest IDLE_N + 64 for the
# run and puts the old value back at the end.  IDLE_RAISE=0 leaves it as
# it is, to see what both servers do without.
#
# Environment: CAIRN_BUILDDIR (default ./build), SMALL=1 (MSGS 1000, BIG
# 2000, MEM_N 20, IDLE_N 20, fewer operations per row), MSGS (10000), BIG
# (100000), MEM_N (100), IDLE_N ("100 1000"), IDLE_APPENDS (5 per run, 10
# per server), IDLE_MODES ("select examine tls"), IDLE_RAISE (1), IDLE_TIMEOUT
# (120: seconds an APPEND may take to reach every session), CLIENTS ("1 10
# 100"), ROWS (the rows to run, default all: "append select fetch-flags
# fetch-body search store mem idle"), POOL (8),
# BODY_CLIENTS (the CLIENTS up to 10: 100 body searches at once without an
# index would each read the whole mailbox), KEEP=1 keeps the temporary
# directory (logs, saved runs, both stores), HOLD=1 leaves both servers
# running at the end, until the script is stopped (for perf, strace).
# Must run as root (Dovecot drops to its accounts; Cairn to cairn/cairn-auth).
# Installs nothing; exits 1 on failure (any error in any row), 2 when not
# root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
BUILD=${CAIRN_BUILDDIR:-$src/build}
DOVECOT=/usr/sbin/dovecot
DOVECONF=/usr/bin/doveconf
MAIL_ACCOUNT=nobody # owner of Dovecot's mail
POOL=${POOL:-8}
if [ "${SMALL:-}" = 1 ]; then
	MSGS=${MSGS:-1000} BIG=${BIG:-2000} MEM_N=${MEM_N:-20} IDLE_N=${IDLE_N:-20}
else
	MSGS=${MSGS:-10000} BIG=${BIG:-100000} MEM_N=${MEM_N:-100} IDLE_N=${IDLE_N:-100 1000}
fi
IDLE_APPENDS=${IDLE_APPENDS:-5}
IDLE_MODES=${IDLE_MODES:-select examine tls}
IDLE_RAISE=${IDLE_RAISE:-1}
IDLE_TIMEOUT=${IDLE_TIMEOUT:-120}
CLIENTS=${CLIENTS:-1 10 100}
# 100 body searches at once would scan 100 x 2.3 GB without an index
BODY_CLIENTS=${BODY_CLIENTS:-$(for c in $CLIENTS; do [ "$c" -gt 10 ] || printf '%s ' "$c"; done)}
ROWS=${ROWS:-append select fetch-flags fetch-body search store mem idle}

BENCH=run-store
. "$here/lib.sh"
has_row() { [[ " $ROWS " == *" $1 "* ]]; }

for v in MSGS BIG MEM_N POOL IDLE_APPENDS IDLE_TIMEOUT; do
	[[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || die "$v must be a positive number"
done
[ $((MSGS % 2)) -eq 0 ] || die "MSGS must be even (two runs per server)"
for c in $CLIENTS $BODY_CLIENTS; do
	[[ $c =~ ^[0-9]+$ && $c -ge 1 && $c -le 1000 ]] || die "CLIENTS: '$c' is not from 1 to 1000"
	[ $((MSGS / 2)) -ge "$c" ] || die "MSGS/2 must be at least the number of clients ($c)"
done
max_clients=1
for c in $CLIENTS $BODY_CLIENTS; do [ "$c" -gt "$max_clients" ] && max_clients=$c; done
max_idle=0
for n in $IDLE_N; do
	[[ $n =~ ^[0-9]+$ && $n -ge 1 && $n -le 5000 ]] || die "IDLE_N: '$n' is not from 1 to 5000"
	[ "$n" -gt "$max_idle" ] && max_idle=$n
done
for m in $IDLE_MODES; do
	[[ $m == select || $m == examine || $m == tls ]] ||
		die "IDLE_MODES: '$m' is not select, examine or tls"
done
# Dovecot: an imap process per session, over TLS an imap-login as well
# (imap has its own default process_limit, 1024)
dproc=$((max_idle + 100 > 2000 ? max_idle + 100 : 2000))
NUSERS=$((max_clients > MEM_N ? max_clients : MEM_N))
if [ "$(id -u)" -ne 0 ]; then
	echo "run-store: run as root: Dovecot needs root to drop to its accounts" \
		"dovecot and dovenull, and Cairn to cairn and cairn-auth" >&2
	exit 2
fi

missing=()
for cmd in cc openssl pgrep python3 sync; do
	command -v "$cmd" >/dev/null || missing+=("command $cmd")
done
[ -f /usr/include/openssl/ssl.h ] || missing+=("OpenSSL headers (apt-get install libssl-dev)")
[ -x "$DOVECOT" ] || missing+=("$DOVECOT (apt-get install dovecot-imapd)")
[ -x "$DOVECONF" ] || missing+=("$DOVECONF (apt-get install dovecot-core)")
for f in master/cairnd imapd/cairn-imapd authd/cairn-authd ctl/cairnctl; do
	[ -x "$BUILD/$f" ] || missing+=("$BUILD/$f (build Cairn first: make in $BUILD)")
done
for u in cairn cairn-auth dovecot dovenull "$MAIL_ACCOUNT"; do
	id "$u" >/dev/null 2>&1 || missing+=("account $u")
done
if [ ${#missing[@]} -gt 0 ]; then
	printf 'run-store: missing: %s\n' "${missing[@]}" >&2
	echo "Cairn's accounts: useradd --system --user-group --home-dir /nonexistent" \
		"--shell /usr/sbin/nologin cairn (and cairn-auth); Dovecot's come with dovecot-core" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/cairn-bench-store.XXXXXX)
chmod 755 "$tmp" # the servers' unprivileged processes must reach below it
cpid="" dpid="" ok="" failed=()
inotify=/proc/sys/fs/inotify/max_user_instances inotify_old=""

cleanup() {
	bench_finish "$cpid" "$dpid"
	if [ -n "$inotify_old" ] && echo "$inotify_old" >"$inotify"; then
		echo "run-store: fs.inotify.max_user_instances back at $inotify_old"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# Both servers may have a few hundred connections and processes.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# Each session in IDLE holds an inotify instance (see the header).
if has_row idle && [ "$IDLE_RAISE" != 0 ]; then
	cur=$(cat "$inotify") || die "cannot read $inotify"
	want=$((2 * max_idle + 64))
	if [ "$cur" -lt "$want" ]; then
		echo "$want" >"$inotify" || die "cannot raise $inotify"
		inotify_old=$cur
		echo "run-store: fs.inotify.max_user_instances raised from $cur to $want" \
			"for this run (put back at the end)"
	fi
fi

# The load tool, with the project's warning flags.
cc -std=c11 -O2 -Wall -Wextra -Wshadow -Wformat=2 -Wvla -Wno-unused-parameter -pthread \
	-o "$tmp/imapload" "$here/imapload.c" -lssl -lcrypto -lm || die "cannot build imapload"

copy_cairn "$BUILD" "$tmp/bin"
make_cert "$tmp"
read -r cport dport ctport dtport <<<"$(free_ports 4)"

cat >"$tmp/cairn.conf" <<EOF
bind-addr = {"127.0.0.1"}
bind-port = $cport
bind-port-tls = $ctport
cert-path = "$tmp/cert.pem"
key-path = "$tmp/key.pem"
allow-plain-text-auth = true
worker-pool-size = $POOL
max-connections = 10000
max-concurrent = 10000
max-unauthenticated-per-address = 0
rate-limit = "1000000/1s"
log-level = warn
data-dir = "$tmp/cairn-data"
run-dir = "$tmp/cairn-run"
EOF
ctl() { "$tmp/bin/cairnctl" -c "$tmp/cairn.conf" "$@"; }

# One password and one SHA-512-crypt hash for every user of both servers.
password=$(openssl rand -hex 12)
hash=$(openssl passwd -6 -stdin <<<"$password") || die "openssl passwd -6 failed"
export IMAPLOAD_PASSWORD=$password
users=(big idler)
for ((i = 1; i <= NUSERS; i++)); do users+=("bench$i"); done
for u in "${users[@]}"; do
	ctl user add "$u" --hash "$hash" >/dev/null || die "cairnctl user add $u failed"
done

mkdir -m 700 "$tmp/dovecot-mail"
chown "$MAIL_ACCOUNT:" "$tmp/dovecot-mail"
mail_uid=$(id -u "$MAIL_ACCOUNT") mail_gid=$(id -g "$MAIL_ACCOUNT")
for u in "${users[@]}"; do
	echo "$u:{CRYPT}$hash:$mail_uid:$mail_gid::$tmp/dovecot-mail/$u::"
done >"$tmp/dovecot.passwd"
chown root:dovecot "$tmp/dovecot.passwd"
chmod 640 "$tmp/dovecot.passwd"
mkdir -m 755 "$tmp/dovecot-state"
cat >"$tmp/dovecot.conf" <<EOF
instance_name = cairn-bench-store
base_dir = $tmp/dovecot-run
state_dir = $tmp/dovecot-state
log_path = $tmp/dovecot.log
# Cairn runs at log-level warn: no line per login on either side
info_log_path = /dev/null
protocols = imap
listen = 127.0.0.1
login_trusted_networks =
ssl = yes
ssl_cert = <$tmp/cert.pem
ssl_key = <$tmp/key.pem
ssl_min_protocol = TLSv1.2
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
# every client at once, from one address, many as one user
default_process_limit = $dproc
default_client_limit = 10000
protocol imap {
  mail_max_userip_connections = 10000
}
service imap {
  process_limit = $dproc
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $dport
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $dtport
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
# check_login NAME PORT: one LOGIN (retried for 10 s: cairn-authd may still be starting)
check_login() {
	local i
	for ((i = 0; i < 20; i++)); do
		L select -p "$2" -u bench1 -n 1 --label "$1" >"$tmp/check.out" 2>&1 && return 0
		sleep 0.5
	done
	cat "$tmp/check.out" >&2
	die "a test login on $1 (port $2) failed"
}
check_login cairn "$cport"
check_login dovecot "$dport"

dc() { "$DOVECONF" -c "$tmp/dovecot.conf" -h "$1" 2>/dev/null || echo '?'; }
started=$(date -u '+%F %H:%M:%S UTC')
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
	"$(awk '/MemTotal/ { printf "%.0f GB RAM", $2 / 1048576 }' /proc/meminfo)," \
	"$(uname -sr), $(df -T "$tmp" | awk 'NR == 2 { print $2 }') under $tmp"
echo "cairn build: binaries of $(date -u -r "$(ls -t "$BUILD/master/cairnd" "$BUILD/imapd/cairn-imapd" \
	"$BUILD/authd/cairn-authd" | head -n 1)" '+%F %TZ') from $BUILD; source tree now at" \
	"$(git -C "$src" describe --always --dirty 2>/dev/null || echo 'no git')" \
	"(-dirty: the working tree differs from the commit)"
echo "cairn: 127.0.0.1:$cport, worker-pool-size $POOL, max-concurrent 10000," \
	"allow-plain-text-auth; index.db WAL synchronous=FULL, blobs fsynced"
echo "dovecot $("$DOVECOT" --version | cut -d' ' -f1): 127.0.0.1:$dport, mail_location" \
	"$(dc mail_location | sed "s|$tmp|TMP|"), mail_fsync $(dc mail_fsync)," \
	"mmap_disable $(dc mmap_disable), maildir_very_dirty_syncs $(dc maildir_very_dirty_syncs)," \
	"imap_hibernate_timeout $(dc imap_hibernate_timeout), process_min_avail $POOL"
echo "messages: APPEND rows $("$tmp/imapload" sizes "$MSGS" | sed 's/;.*//') per server and level;" \
	"big mailbox: $("$tmp/imapload" sizes "$BIG")"
echo "clients: $CLIENTS (SEARCH BODY: $BODY_CLIENTS); IDLE sessions: $IDLE_N; rows: $ROWS"
echo "start: $started; $(uptime | sed 's/^ *//')"
echo

mkdir "$tmp/res"
: >"$tmp/report.txt"

# run NAME PORT KEY HALF WORKLOAD ARGS...: one run, saved as res/KEY.NAME.HALF
run() {
	local name=$1 port=$2 key=$3 half=$4 wl=$5
	shift 5
	sync
	if ! L "$wl" -p "$port" --label "$name" --save "$tmp/res/$key.$name.$half" "$@" \
		>"$tmp/run.out" 2>&1; then
		cat "$tmp/run.out" >&2
		echo "run-store: $key: errors in the $name run (see above)" >&2
		failed+=("$key/$name")
	fi
	sed 's/^/    /' "$tmp/run.out"
	kill -0 "$cpid" 2>/dev/null || die "cairnd exited during the run"
	kill -0 "$dpid" 2>/dev/null || die "dovecot exited during the run"
}
# measure KEY TITLE WORKLOAD CLIENTS COUNT_PER_RUN ARGS...: the four runs and the ratio
measure() {
	local key=$1 title=$2 wl=$3 c=$4 n=$5 t0=$SECONDS
	shift 5
	echo "$title ($c client$([ "$c" = 1 ] || echo s), $n per run):"
	run cairn "$cport" "$key" 1 "$wl" -c "$c" -n "$n" --first 0 "$@"
	run dovecot "$dport" "$key" 1 "$wl" -c "$c" -n "$n" --first 0 "$@"
	run dovecot "$dport" "$key" 2 "$wl" -c "$c" -n "$n" --first "$n" "$@"
	run cairn "$cport" "$key" 2 "$wl" -c "$c" -n "$n" --first "$n" "$@"
	if ! L report "$title, $c cl." "cairn=$tmp/res/$key.cairn.1,$tmp/res/$key.cairn.2" \
		"dovecot=$tmp/res/$key.dovecot.1,$tmp/res/$key.dovecot.2" >"$tmp/report.out"; then
		failed+=("$key")
	fi
	cat "$tmp/report.out" | tee -a "$tmp/report.txt"
	echo "  ($((SECONDS - t0)) s)"
}
# warm NAME PORT WORKLOAD ARGS...: unmeasured, must succeed
warm() {
	local name=$1 port=$2 wl=$3
	shift 3
	L "$wl" -p "$port" --label "$name-warmup" "$@" >"$tmp/warm.out" 2>&1 ||
		{ cat "$tmp/warm.out" >&2; die "warm-up $wl on $name failed"; }
}
# per_run BASE PER_CLIENT CLIENTS: operations per run, at least one per client
per_run() { local n=$(($2 * $3)); echo $((n > $1 ? n : $1)); }

if [ "${SMALL:-}" = 1 ]; then
	SELECT_N=10 FFLAGS_N=10 FBODY_N=200 SEARCH_N=4 BSEARCH_N=2 STORE_N=10
else
	SELECT_N=20 FFLAGS_N=10 FBODY_N=1000 SEARCH_N=4 BSEARCH_N=2 STORE_N=20
fi

# 1. APPEND, each client its own user and INBOX
if has_row append; then
	for c in $CLIENTS; do
		measure "append-$c" "APPEND msgs" append "$c" $((MSGS / 2)) -u 'bench%d'
	done
fi

need_big=""
for r in select fetch-flags fetch-body search store mem; do has_row "$r" && need_big=1; done
if [ -n "$need_big" ]; then
	echo "populating: $BIG messages into big's INBOX on both servers at once (pipelined, one connection each)"
	t0=$SECONDS
	L populate -p "$cport" -u big -n "$BIG" --window 64 --label cairn-populate >"$tmp/pop.cairn" 2>&1 &
	pc=$!
	L populate -p "$dport" -u big -n "$BIG" --window 64 --label dovecot-populate >"$tmp/pop.dovecot" 2>&1 &
	pd=$!
	wait "$pc" || { cat "$tmp/pop.cairn" >&2; die "populating Cairn failed"; }
	wait "$pd" || { cat "$tmp/pop.dovecot" >&2; die "populating Dovecot failed"; }
	sed 's/^/    /' "$tmp/pop.cairn" "$tmp/pop.dovecot"
	echo "  ($((SECONDS - t0)) s)"
	# first SELECTs (Dovecot moves new/ to cur/ and rewrites its index,
	# Cairn claims \Recent) and a full check of a few bodies, unmeasured
	for s in "cairn $cport" "dovecot $dport"; do
		set -- $s
		warm "$1" "$2" select -u big -n 10 --expect-exists "$BIG"
		warm "$1" "$2" fetch-flags -u big -n 2 --expect-exists "$BIG"
		warm "$1" "$2" fetch-body -u big -n 50 --verify --expect-exists "$BIG"
	done
	sync
	# Dovecot's maildir reads the whole cur/ again on every SELECT while
	# the directory's mtime is less than a few seconds old (it cannot trust
	# it yet): 4 ms instead of 0.15 per SELECT of 2000 messages.  Wait, and
	# let one more SELECT record the settled state.
	sleep 3
	for s in "cairn $cport" "dovecot $dport"; do
		set -- $s
		warm "$1" "$2" select -u big -n 1 --expect-exists "$BIG"
	done
fi
big=(-u big --expect-exists "$BIG")

if has_row select; then
	for c in $CLIENTS; do
		measure "select-$c" "SELECT ${BIG}" select "$c" "$(per_run "$SELECT_N" 2 "$c")" "${big[@]}"
	done
fi
if has_row fetch-flags; then
	for c in $CLIENTS; do
		measure "fflags-$c" "FETCH 1:* (FLAGS UID)" fetch-flags "$c" \
			"$(per_run "$FFLAGS_N" 1 "$c")" "${big[@]}"
	done
fi
if has_row fetch-body; then
	for c in $CLIENTS; do
		measure "fbody-$c" "FETCH n (BODY.PEEK[])" fetch-body "$c" \
			"$(per_run "$FBODY_N" 10 "$c")" "${big[@]}"
	done
fi
if has_row search; then
	for k in 'SUBJECT "invoice"' 'FROM "ophelia"' 'BODY "xylophone"'; do
		n=$SEARCH_N
		[[ $k == BODY* ]] && n=$BSEARCH_N
		for s in "cairn $cport" "dovecot $dport"; do
			set -- $s
			warm "$1" "$2" search -u big -n 1 --search "$k"
		done
		cl=$CLIENTS
		[[ $k == BODY* ]] && cl=$BODY_CLIENTS
		for c in $cl; do
			measure "search-${k%% *}-$c" "SEARCH $k" search "$c" "$(per_run "$n" 1 "$c")" \
				"${big[@]}" --search "$k"
		done
	done
fi
if has_row store; then
	for c in $CLIENTS; do
		range=$((BIG / c < 5000 ? BIG / c : 5000))
		measure "store-$c" "STORE +/-FLAGS ${range} msgs" store "$c" \
			"$(per_run "$STORE_N" 2 "$c")" "${big[@]}" --range "$range"
	done
fi
if has_row mem; then
	echo "memory: $MEM_N idle connections (LOGIN, SELECT INBOX), Pss/Rss of the whole process tree"
	for spec in "mem-users|$MEM_N users, own INBOX|bench%d||" \
		"mem-big|$MEM_N sessions of big ($BIG msgs)|big|$BIG|" \
		"mem-tls|$MEM_N users over TLS (993), own INBOX|bench%d||tls"; do
		IFS='|' read -r key title user exists tls <<<"$spec"
		args=(-c "$MEM_N" -u "$user" --settle 3)
		[ -n "$exists" ] && args+=(--expect-exists "$exists")
		cp=$cport dp=$dport
		if [ -n "$tls" ]; then
			args+=(--tls)
			cp=$ctport dp=$dtport
		fi
		echo "$title:"
		run cairn "$cp" "$key" 1 mem --server-pid "$cpid" "${args[@]}"
		run dovecot "$dp" "$key" 1 mem --server-pid "$dpid" "${args[@]}"
		run dovecot "$dp" "$key" 2 mem --server-pid "$dpid" "${args[@]}"
		run cairn "$cp" "$key" 2 mem --server-pid "$cpid" "${args[@]}"
		L report "idle conn., $title" "cairn=$tmp/res/$key.cairn.1,$tmp/res/$key.cairn.2" \
			"dovecot=$tmp/res/$key.dovecot.1,$tmp/res/$key.dovecot.2" >"$tmp/report.out" ||
			failed+=("$key")
		tee -a "$tmp/report.txt" <"$tmp/report.out"
	done
fi
# no_inotify: how many processes of each server have logged that they got
# no inotify instance (Cairn: a session that then looks every 500 ms;
# Dovecot: an IDLE or a dotlock wait without one), as "CAIRN DOVECOT"
no_inotify() {
	echo "$(grep -c 'inotify.*falls back' "$tmp/cairnd.log" || true)" \
		"$(grep -c 'Inotify instance limit' "$tmp/dovecot.log" || true)"
}
if has_row idle; then
	for n in $IDLE_N; do
		for mode in $IDLE_MODES; do
			key=idle-$mode-$n
			read -r ci0 di0 <<<"$(no_inotify)"
			args=(-c "$n" -u idler -n "$IDLE_APPENDS" --settle 3 --timeout "$IDLE_TIMEOUT")
			cp=$cport dp=$dport
			[ "$mode" = examine ] && args+=(--examine)
			if [ "$mode" = tls ]; then
				args+=(--tls)
				cp=$ctport dp=$dtport
			fi
			echo "IDLE: $n sessions of idler ($mode INBOX), $IDLE_APPENDS APPENDs per run," \
				"fs.inotify.max_user_instances $(cat "$inotify"):"
			run cairn "$cp" "$key" 1 idle --server-pid "$cpid" --first 0 "${args[@]}"
			run dovecot "$dp" "$key" 1 idle --server-pid "$dpid" --first 0 "${args[@]}"
			run dovecot "$dp" "$key" 2 idle --server-pid "$dpid" \
				--first "$IDLE_APPENDS" "${args[@]}"
			run cairn "$cp" "$key" 2 idle --server-pid "$cpid" \
				--first "$IDLE_APPENDS" "${args[@]}"
			L report "IDLE ($mode), $n sessions" \
				"cairn=$tmp/res/$key.cairn.1,$tmp/res/$key.cairn.2" \
				"dovecot=$tmp/res/$key.dovecot.1,$tmp/res/$key.dovecot.2" \
				>"$tmp/report.out" || failed+=("$key")
			read -r ci1 di1 <<<"$(no_inotify)"
			# The limit counts every process of the user on the machine:
			# another one (tests/integration/test_idle.py takes them all)
			# changes what this row measures.
			echo "  no inotify instance: $((ci1 - ci0)) Cairn sessions (polling every" \
				"500 ms instead), $((di1 - di0)) Dovecot warnings" >>"$tmp/report.out"
			tee -a "$tmp/report.txt" <"$tmp/report.out"
		done
	done
fi

echo
echo "=== results (rate: operations per second; ratio cairn/dovecot: above 1, Cairn is faster;" \
	"p50 ratio: below 1, Cairn is faster)"
cat "$tmp/report.txt"
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
if [ "${HOLD:-}" = 1 ]; then
	echo "HOLD=1: both servers keep running until this script gets SIGTERM or Ctrl-C:"
	echo "  cairnd pid $cpid port $cport, dovecot pid $dpid port $dport, tool $tmp/imapload," \
		"IMAPLOAD_PASSWORD=$password"
	while kill -0 "$cpid" 2>/dev/null && kill -0 "$dpid" 2>/dev/null; do sleep 1; done
fi
