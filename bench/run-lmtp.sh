#!/bin/bash
# The delivery benchmark of issue 6: LMTP deliveries per second into Cairn
# (cairn-lmtpd on lmtp-socket) and into Dovecot (dovecot-lmtpd, maildir
# like run-store.sh's), in the same run, on this machine, each over its
# Unix socket.
#
#   bench/run-lmtp.sh              # the issue's rows (a few minutes)
#   SMALL=1 bench/run-lmtp.sh      # a quick check
#
# Builds bench/lmtpload.c with cc into the temporary directory, starts
# Cairn from the build tree and a private Dovecot instance, and for each
# message size in SIZES (1 KB, 100 KB, 10 MB) and each number of parallel
# connections in CONNS (1, 8) runs bench/lmtpload: every connection one
# LMTP session delivering message after message (MAIL, RCPT, DATA
# pipelined as both servers offer PIPELINING, the message, its reply),
# each connection to its own user (bench1 .. benchC).  Each row runs in
# the order cairn, dovecot, dovecot, cairn (each run half of the row's
# messages), and the halves are merged: deliveries per second for each
# server and the ratio cairn/dovecot (above 1, Cairn is faster).
#
# Then the fsyncs: for each server, strace -f -y records fsync, fdatasync,
# sync_file_range, syncfs and msync in every process of the server
# (attached to all of them, children started meanwhile followed) over
# FSYNC_N deliveries of 1 KB on one connection; they are counted, divided
# by FSYNC_N, in all and by the file they were made on (names made
# generic).  The strace run is not a timed one.
#
# Last, every user's INBOX is counted over IMAP on both servers (STATUS
# INBOX (MESSAGES)) against the deliveries made to it: every delivered
# message must have arrived.
#
# Both servers keep their durability defaults: Cairn has no setting
# (blob file and directory fsynced, index.db WAL with synchronous=FULL);
# Dovecot's mail_fsync = optimized (each maildir file fsynced before its
# rename into new/).  Neither has a quota.
#
# Environment: CAIRN_BUILDDIR (default ./build), SMALL=1, SIZES ("1k 100k
# 10m"), CONNS ("1 8"), N_1K (4000 messages per row: two runs of 2000 on
# each server), N_100K (2000), N_10M (128), FSYNC_N (200), POOL (8:
# worker-pool-size and Dovecot's process_min_avail), KEEP=1 keeps the
# temporary directory (logs, both stores), HOLD=1 leaves both servers
# running at the end, until the script is stopped (for perf, strace).  Must run as root (Dovecot drops to its accounts; Cairn to
# cairn/cairn-auth).  Installs nothing; exits 1 on failure (any error in
# any row, or a message missing), 2 when not root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
BUILD=${CAIRN_BUILDDIR:-$src/build}
DOVECOT=/usr/sbin/dovecot
DOVECOT_LMTP=/usr/lib/dovecot/lmtp
MAIL_ACCOUNT=nobody # owner of Dovecot's mail
POOL=${POOL:-8}
SIZES=${SIZES:-1k 100k 10m}
CONNS=${CONNS:-1 8}
if [ "${SMALL:-}" = 1 ]; then
	N_1K=${N_1K:-400} N_100K=${N_100K:-100} N_10M=${N_10M:-16} FSYNC_N=${FSYNC_N:-50}
else
	N_1K=${N_1K:-4000} N_100K=${N_100K:-2000} N_10M=${N_10M:-128} FSYNC_N=${FSYNC_N:-200}
fi

BENCH=run-lmtp
. "$here/lib.sh"

for v in N_1K N_100K N_10M FSYNC_N POOL; do
	[[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || die "$v must be a positive number"
done
max_conns=1
for c in $CONNS; do
	[[ $c =~ ^[0-9]+$ && $c -ge 1 && $c -le 64 ]] || die "CONNS: '$c' is not from 1 to 64"
	[ "$c" -gt "$max_conns" ] && max_conns=$c
done
for z in $SIZES; do
	[[ $z == 1k || $z == 100k || $z == 10m ]] || die "SIZES: '$z' is not 1k, 100k or 10m"
done
if [ "$(id -u)" -ne 0 ]; then
	echo "run-lmtp: run as root: Dovecot needs root to drop to its accounts" \
		"dovecot and dovenull, and Cairn to cairn and cairn-auth" >&2
	exit 2
fi

missing=()
for cmd in cc openssl pgrep python3 strace sync; do
	command -v "$cmd" >/dev/null || missing+=("command $cmd")
done
[ -x "$DOVECOT" ] || missing+=("$DOVECOT (apt-get install dovecot-imapd)")
[ -x "$DOVECOT_LMTP" ] || missing+=("$DOVECOT_LMTP (apt-get install dovecot-lmtpd)")
for f in master/cairnd imapd/cairn-imapd authd/cairn-authd lmtpd/cairn-lmtpd ctl/cairnctl; do
	[ -x "$BUILD/$f" ] || missing+=("$BUILD/$f (build Cairn first: make in $BUILD)")
done
for u in cairn cairn-auth dovecot dovenull "$MAIL_ACCOUNT"; do
	id "$u" >/dev/null 2>&1 || missing+=("account $u")
done
if [ ${#missing[@]} -gt 0 ]; then
	printf 'run-lmtp: missing: %s\n' "${missing[@]}" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/cairn-bench-lmtp.XXXXXX)
chmod 755 "$tmp" # the servers' unprivileged processes must reach below it
cpid="" dpid="" ok="" failed=()
trap 'bench_finish "$cpid" "$dpid"' EXIT
trap 'exit 1' INT TERM HUP

cc -std=c11 -O2 -Wall -Wextra -Wshadow -Wformat=2 -Wvla -Wno-unused-parameter -pthread \
	-o "$tmp/lmtpload" "$here/lmtpload.c" || die "cannot build lmtpload"

copy_cairn "$BUILD" "$tmp/bin"
make_cert "$tmp"
read -r cport dport <<<"$(free_ports 2)"

csock=$tmp/cairn-run/lmtp
cat >"$tmp/cairn.conf" <<EOF
bind-addr = {"127.0.0.1"}
bind-port = $cport
bind-port-tls = 0
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
lmtp-socket = "$csock"
EOF
ctl() { "$tmp/bin/cairnctl" -c "$tmp/cairn.conf" "$@"; }

password=$(openssl rand -hex 12)
hash=$(openssl passwd -6 -stdin <<<"$password") || die "openssl passwd -6 failed"
users=()
for ((i = 1; i <= max_conns; i++)); do users+=("bench$i"); done
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
dsock=$tmp/dovecot-run/lmtp
cat >"$tmp/dovecot.conf" <<EOF
instance_name = cairn-bench-lmtp
base_dir = $tmp/dovecot-run
state_dir = $tmp/dovecot-state
log_path = $tmp/dovecot.log
info_log_path = /dev/null
protocols = imap lmtp
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
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $dport
  }
  inet_listener imaps {
    port = 0
  }
  process_min_avail = 1
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
  process_min_avail = $POOL
}
EOF

start_cairnd "$tmp"
"$DOVECOT" -F -c "$tmp/dovecot.conf" >>"$tmp/dovecot.out" 2>&1 &
dpid=$!
POOL=1 wait_ready dovecot "$dpid" "$dport" imap-login
wait_ready cairn "$cpid" "$cport" cairn-imapd
for ((i = 0; i < 100; i++)); do
	[ -S "$csock" ] && [ -S "$dsock" ] && break
	sleep 0.1
done
[ -S "$csock" ] || die "no LMTP socket $csock after 10 s"
[ -S "$dsock" ] || die "no LMTP socket $dsock after 10 s"

L() { "$tmp/lmtpload" "$@"; }
# expected[user] = deliveries made to it, for the count at the end
declare -A expected
# count_deliveries N C: N messages over C connections, user i on connection i
count_deliveries() {
	local n=$1 c=$2 i
	for ((i = 1; i <= c; i++)); do
		expected[bench$i]=$((${expected[bench$i]:-0} + n / c + (i - 1 < n % c ? 1 : 0)))
	done
}
# both servers get every delivery: the counts are the same for both
warm() { # unmeasured: the users' stores and mailboxes exist after it
	local s
	for s in "cairn $csock" "dovecot $dsock"; do
		set -- $s
		L -s "$2" -c "$max_conns" -n $((4 * max_conns)) -z 1024 -u 'bench%d' \
			--first 900000000 --label "$1-warmup" >"$tmp/warm.out" 2>&1 ||
			{ cat "$tmp/warm.out" >&2; die "warm-up delivery to $1 failed"; }
	done
	count_deliveries $((4 * max_conns)) "$max_conns"
}
warm

dc() { doveconf -c "$tmp/dovecot.conf" -h "$1" 2>/dev/null || echo '?'; }
started=$(date -u '+%F %H:%M:%S UTC')
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
	"$(awk '/MemTotal/ { printf "%.0f GB RAM", $2 / 1048576 }' /proc/meminfo)," \
	"$(uname -sr), $(df -T "$tmp" | awk 'NR == 2 { print $2 }') under $tmp"
echo "cairn build: binaries of $(date -u -r "$(ls -t "$BUILD/master/cairnd" "$BUILD/lmtpd/cairn-lmtpd" \
	| head -n 1)" '+%F %TZ') from $BUILD; source tree now at" \
	"$(git -C "$src" describe --always --dirty 2>/dev/null || echo 'no git')"
echo "cairn: lmtp-socket $csock, worker-pool-size $POOL; blobs and index.db (WAL, synchronous=FULL) fsynced"
echo "dovecot $("$DOVECOT" --version | cut -d' ' -f1): lmtp socket $dsock, mail_location" \
	"$(dc mail_location), mail_fsync $(dc mail_fsync), lmtp process_min_avail $POOL"
echo "rows: sizes $SIZES, connections $CONNS; messages per run 1k $N_1K, 100k $N_100K, 10m $N_10M"
echo "start: $started; $(uptime | sed 's/^ *//')"
echo

mkdir "$tmp/res"
: >"$tmp/report.txt"
first=0

# run NAME SOCKET KEY HALF N C BYTES: one timed run, its RESULT line saved
run() {
	local name=$1 sock=$2 key=$3 half=$4 n=$5 c=$6 z=$7
	sync
	if ! L -s "$sock" -c "$c" -n "$n" -z "$z" -u 'bench%d' --first "$first" \
		--label "$name" >"$tmp/run.out" 2>&1; then
		cat "$tmp/run.out" >&2
		echo "run-lmtp: $key: errors in the $name run (see above)" >&2
		failed+=("$key/$name")
	fi
	first=$((first + n))
	grep -v '^RESULT' "$tmp/run.out" | sed 's/^/    /'
	grep '^RESULT' "$tmp/run.out" >"$tmp/res/$key.$name.$half" || true
	kill -0 "$cpid" 2>/dev/null || die "cairnd exited during the run"
	kill -0 "$dpid" 2>/dev/null || die "dovecot exited during the run"
}
# merged KEY NAME: "rate p50" over both halves (p50: the mean of the two)
merged() {
	cat "$tmp/res/$1.$2.1" "$tmp/res/$1.$2.2" 2>/dev/null |
		awk '{ n += $3; t += $4; p += $5; k++ }
			END { if (k != 2 || t == 0) print "0 0"; else printf "%.1f %.2f\n", n / t, p / k }'
}
bytes_of() { case $1 in 1k) echo 1024 ;; 100k) echo 102400 ;; 10m) echo 10485760 ;; esac; }
count_of() { case $1 in 1k) echo "$N_1K" ;; 100k) echo "$N_100K" ;; 10m) echo "$N_10M" ;; esac; }
label_of() { case $1 in 1k) echo "1 KB" ;; 100k) echo "100 KB" ;; 10m) echo "10 MB" ;; esac; }

for z in $SIZES; do
	for c in $CONNS; do
		n=$(count_of "$z")
		[ $((n / 2)) -ge "$c" ] || n=$((2 * c))
		half=$((n / 2))
		key=$z-$c
		t0=$SECONDS
		echo "$(label_of "$z"), $c connection$([ "$c" = 1 ] || echo s), $half per run:"
		run cairn "$csock" "$key" 1 "$half" "$c" "$(bytes_of "$z")"
		run dovecot "$dsock" "$key" 1 "$half" "$c" "$(bytes_of "$z")"
		run dovecot "$dsock" "$key" 2 "$half" "$c" "$(bytes_of "$z")"
		run cairn "$csock" "$key" 2 "$half" "$c" "$(bytes_of "$z")"
		count_deliveries "$half" "$c"
		count_deliveries "$half" "$c"
		read -r cr cp <<<"$(merged "$key" cairn)"
		read -r dr dp <<<"$(merged "$key" dovecot)"
		ratio=$(awk -v a="$cr" -v b="$dr" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }')
		printf '| %s | %d | %s | %s | %s | %s | **%s** |\n' "$(label_of "$z")" "$c" "$cr" \
			"$cp" "$dr" "$dp" "$ratio" | tee -a "$tmp/report.txt"
		echo "  ($((SECONDS - t0)) s)"
	done
done

# fsyncs NAME PID SOCKET: fsync-like calls per delivery in every process
# of the server, in all and by the file they were made on
fsyncs() {
	local name=$1 root=$2 sock=$3 pids=() p q i spid
	pids=("$root")
	i=0
	while [ $i -lt ${#pids[@]} ]; do
		for q in $(pgrep -P "${pids[$i]}" || true); do pids+=("$q"); done
		i=$((i + 1))
	done
	args=()
	for p in "${pids[@]}"; do args+=(-p "$p"); done
	strace -f -y -qq -e trace=fsync,fdatasync,sync_file_range,syncfs,msync \
		-o "$tmp/strace.$name" "${args[@]}" 2>"$tmp/strace.$name.err" &
	spid=$!
	sleep 2 # strace attaches to each process
	L -s "$sock" -c 1 -n "$FSYNC_N" -z 1024 -u 'bench%d' --first "$first" \
		--label "$name-fsync" >"$tmp/fsync.out" 2>&1 ||
		{ cat "$tmp/fsync.out" >&2; failed+=("fsync/$name"); }
	first=$((first + FSYNC_N))
	sleep 1
	kill -INT "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	# "PID syscall(FD</path>...) = 0": the path made generic (numbers and
	# hex names as N), then counted
	sed -nE 's/^[0-9]+ +(fsync|fdatasync|sync_file_range|syncfs|msync)\([0-9]+<([^>]*)>.*/\1 \2/p' \
		"$tmp/strace.$name" |
		sed -E "s|$tmp/||; s|/blobs/[0-9a-f]{2}\$|/blobs/XX|; s/[0-9a-f]{8,}/N/g; s/[0-9]+/N/g" |
		sort | uniq -c | sort -rn >"$tmp/fsync.$name"
	awk -v n="$FSYNC_N" -v name="$name" '
		{ total += $1; by[$2] += $1; what[++k] = sprintf("%.2f %s %s", $1 / n, $2, $3) }
		END {
			printf "%s: %.2f fsync-like calls per delivery (%d in %d deliveries;", name,
				total / n, total, n
			for (s in by) printf " %s %d", s, by[s]
			print ")"
			for (i = 1; i <= k; i++) print "    " what[i] " per delivery"
		}' "$tmp/fsync.$name"
}
echo
echo "fsyncs (strace -f on every process of each server, $FSYNC_N deliveries of 1 KB, 1 connection):"
fsyncs cairn "$cpid" "$csock" | tee -a "$tmp/report.txt"
fsyncs dovecot "$dpid" "$dsock" | tee -a "$tmp/report.txt"
# each server had FSYNC_N more for bench1
count_deliveries "$FSYNC_N" 1

# Every delivery arrived: each user's INBOX, over IMAP, on both servers.
echo
echo "messages in each INBOX (STATUS over IMAP) against the deliveries made to each server:"
for u in "${users[@]}"; do echo "$u ${expected[$u]:-0}"; done >"$tmp/expected"
cat >"$tmp/count.py" <<'PY'
import imaplib, sys
cport, dport, password = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
bad = 0
for line in open(sys.argv[4]):
    user, want = line.split()
    for name, port in (("cairn", cport), ("dovecot", dport)):
        m = imaplib.IMAP4("127.0.0.1", port)
        m.login(user, password)
        typ, data = m.status("INBOX", "(MESSAGES)")
        m.logout()
        got = int(data[0].decode().split("MESSAGES ")[1].rstrip(")"))
        print("  %s %s: %d messages, %s delivered%s" % (
            name, user, got, want, "" if got == int(want) else "  <-- MISMATCH"))
        bad += got != int(want)
sys.exit(1 if bad else 0)
PY
python3 "$tmp/count.py" "$cport" "$dport" "$password" "$tmp/expected" | tee -a "$tmp/count.out" ||
	failed+=("count")

echo
echo "=== results (deliveries per second, merged over two runs each; p50: ms per delivery," \
	"mean of the two runs' medians; ratio cairn/dovecot: above 1, Cairn is faster)"
echo "| size | connections | Cairn /s | Cairn p50 ms | Dovecot /s | Dovecot p50 ms | ratio |"
echo "|---|---|---|---|---|---|---|"
grep '^|' "$tmp/report.txt"
grep -v '^|' "$tmp/report.txt"
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
	echo "  cairnd pid $cpid, LMTP $csock, IMAP port $cport; dovecot pid $dpid," \
		"LMTP $dsock, IMAP port $dport; tool $tmp/lmtpload, IMAP password $password"
	while kill -0 "$cpid" 2>/dev/null && kill -0 "$dpid" 2>/dev/null; do sleep 1; done
fi
