#!/bin/bash
# Issue 5 ("Modern clients") against Dovecot, in one run, on this machine,
# over plain TCP on loopback: QRESYNC resynchronisation, SORT and THREAD,
# and body search, on one big mailbox of threaded mail.
#
#   bench/run-modern.sh              # BIG = 100 000 messages
#   SMALL=1 bench/run-modern.sh      # 2000 messages, fewer repetitions: a check
#
# Builds bench/imapload.c with cc into the temporary directory, starts Cairn
# from the build tree and a private Dovecot instance (maildir:~/Maildir) on
# free 127.0.0.1 ports, fills the INBOX of the user "big" on both with the
# same BIG messages (imapload's generator with --threads: Date, Subject,
# Message-ID, In-Reply-To and References as mail clients write them, so
# that conversations exist), then runs the rows, each in the order cairn,
# dovecot, dovecot, cairn (each run doing half the repetitions), merges the
# halves and prints the ratio cairn/dovecot:
#
#   sort      SORT (DATE) UTF-8 ALL, SORT (SUBJECT) UTF-8 ALL,
#             SORT (REVERSE ARRIVAL) UTF-8 ALL: time per command, warm
#             (after an unmeasured one), SORT_N per run; the answers of the
#             two servers are compared (DATE and ARRIVAL must be identical)
#   thread    THREAD REFERENCES UTF-8 ALL, THREAD ORDEREDSUBJECT UTF-8 ALL,
#             likewise
#   search    SEARCH BODY and SEARCH TEXT of a rare word ("xylophone", in
#             0.5 % of the bodies) and of a common one ("meeting", in most
#             messages), BSEARCH_N per run; every answer must be the same
#             on every server.  Dovecot runs twice: without a full-text
#             index (it reads every message), and, when Debian's
#             dovecot-fts-xapian is installed, with it (the user "bigfts":
#             the same maildir, hard-linked, indexed with doveadm index
#             before anything is timed)
#   qresync   a client knows UIDVALIDITY and HIGHESTMODSEQ (SELECT
#             (CONDSTORE)); another session flags CHANGES messages and
#             expunges EXPUNGES (UID EXPUNGE), scattered at random, the
#             same UIDs on both servers; then ENABLE QRESYNC + SELECT INBOX
#             (QRESYNC (uidvalidity modseq)) is timed until its tagged OK,
#             QRESYNC_N per run, on a new connection each, without and with
#             known-uids (1:UIDNEXT-1), with the bytes it returned.  Every
#             answer must hold exactly a FETCH for each flagged UID and a
#             VANISHED (EARLIER) of exactly the expunged ones.  It changes
#             the mailbox, so it runs last.
#
# Loading: Cairn over IMAP (imapload populate: one connection, 64
# pipelined LITERAL+ APPENDs in flight).  Dovecot's maildir is written
# directly (imapload maildir: the same messages, as the files Dovecot's
# own APPEND would save, named so that Dovecot gives them the same UIDs)
# and indexed by a first SELECT that is not measured; filling it over IMAP
# took 77 minutes for 100 000 messages (bench/README.md, run 1).  The
# load is checked: both servers must say BIG EXISTS and return the
# generator's bytes for 50 random messages.
#
# Other engineers build and test on this machine: before each row the
# script waits (up to CALM_WAIT seconds) for the 1-minute load average to
# fall below CALM, and it prints the load before and after each row.
#
# Environment: CAIRN_BUILDDIR (default ./build), SMALL=1, BIG (100000),
# ROWS ("sort thread search qresync"), SORT_N (5), BSEARCH_N (2), QRESYNC_N
# (5), CHANGES (1000), EXPUNGES (100), FTS (1 when the fts_xapian plugin is
# installed; 0: Dovecot without an index only), CALM (1.5), CALM_WAIT (600),
# POOL (8), KEEP=1 keeps the temporary directory (logs, answers, both
# stores), HOLD=1 leaves both servers running at the end.  Must run as root.
# Installs nothing; exits 1 on failure (any error or disagreement that
# must not be), 2 when not root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
BUILD=${CAIRN_BUILDDIR:-$src/build}
DOVECOT=/usr/sbin/dovecot
DOVECONF=/usr/bin/doveconf
DOVEADM=/usr/bin/doveadm
XAPIAN_PLUGIN=/usr/lib/dovecot/modules/lib21_fts_xapian_plugin.so
MAIL_ACCOUNT=nobody # owner of Dovecot's mail
POOL=${POOL:-8}
if [ "${SMALL:-}" = 1 ]; then
	BIG=${BIG:-2000} SORT_N=${SORT_N:-3} BSEARCH_N=${BSEARCH_N:-2} QRESYNC_N=${QRESYNC_N:-3}
	CHANGES=${CHANGES:-100} EXPUNGES=${EXPUNGES:-10}
else
	BIG=${BIG:-100000} SORT_N=${SORT_N:-5} BSEARCH_N=${BSEARCH_N:-2} QRESYNC_N=${QRESYNC_N:-5}
	CHANGES=${CHANGES:-1000} EXPUNGES=${EXPUNGES:-100}
fi
ROWS=${ROWS:-sort thread search qresync}
CALM=${CALM:-1.5}
CALM_WAIT=${CALM_WAIT:-600}
if [ -z "${FTS:-}" ]; then
	FTS=0
	[ -f "$XAPIAN_PLUGIN" ] && FTS=1
fi
RARE=xylophone
COMMON=meeting

BENCH=run-modern
. "$here/lib.sh"
has_row() { [[ " $ROWS " == *" $1 "* ]]; }

for v in BIG POOL SORT_N BSEARCH_N QRESYNC_N CHANGES EXPUNGES CALM_WAIT; do
	[[ ${!v} =~ ^[0-9]+$ && ${!v} -ge 1 ]] || die "$v must be a positive number"
done
[[ $CALM =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "CALM must be a number"
[ $((CHANGES + EXPUNGES)) -le "$BIG" ] || die "CHANGES + EXPUNGES must be at most BIG"
for r in $ROWS; do
	[[ " sort thread search qresync " == *" $r "* ]] || die "ROWS: unknown row '$r'"
done
if [ "$(id -u)" -ne 0 ]; then
	echo "run-modern: run as root: Dovecot needs root to drop to its accounts" \
		"dovecot and dovenull, and Cairn to cairn and cairn-auth" >&2
	exit 2
fi

missing=()
for cmd in cc openssl pgrep python3 sync du; do
	command -v "$cmd" >/dev/null || missing+=("command $cmd")
done
[ -f /usr/include/openssl/ssl.h ] || missing+=("OpenSSL headers (apt-get install libssl-dev)")
[ -x "$DOVECOT" ] || missing+=("$DOVECOT (apt-get install dovecot-imapd)")
[ -x "$DOVECONF" ] || missing+=("$DOVECONF (apt-get install dovecot-core)")
[ "$FTS" = 0 ] || [ -f "$XAPIAN_PLUGIN" ] ||
	missing+=("$XAPIAN_PLUGIN (apt-get install dovecot-fts-xapian, or FTS=0)")
for f in master/cairnd imapd/cairn-imapd authd/cairn-authd ctl/cairnctl; do
	[ -x "$BUILD/$f" ] || missing+=("$BUILD/$f (build Cairn first: make in $BUILD)")
done
for u in cairn cairn-auth dovecot dovenull "$MAIL_ACCOUNT"; do
	id "$u" >/dev/null 2>&1 || missing+=("account $u")
done
if [ ${#missing[@]} -gt 0 ]; then
	printf 'run-modern: missing: %s\n' "${missing[@]}" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/cairn-bench-modern.XXXXXX)
chmod 755 "$tmp" # the servers' unprivileged processes must reach below it
cpid="" dpid="" ok="" failed=()
trap 'bench_finish "$cpid" "$dpid"' EXIT
trap 'exit 1' INT TERM HUP
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

cc -std=c11 -O2 -Wall -Wextra -Wshadow -Wformat=2 -Wvla -Wno-unused-parameter -pthread \
	-o "$tmp/imapload" "$here/imapload.c" -lssl -lcrypto -lm || die "cannot build imapload"

copy_cairn "$BUILD" "$tmp/bin"
make_cert "$tmp"
read -r cport dport <<<"$(free_ports 2)"

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
EOF
ctl() { "$tmp/bin/cairnctl" -c "$tmp/cairn.conf" "$@"; }

password=$(openssl rand -hex 12)
hash=$(openssl passwd -6 -stdin <<<"$password") || die "openssl passwd -6 failed"
export IMAPLOAD_PASSWORD=$password
ctl user add big --hash "$hash" >/dev/null || die "cairnctl user add big failed"

# Dovecot: "big" without a full-text index; "bigfts" (the same messages)
# with fts = xapian, set for that user alone (the plugins are loaded for
# both, and without an fts setting the fts plugin does nothing)
mkdir -m 700 "$tmp/dovecot-mail"
chown "$MAIL_ACCOUNT:" "$tmp/dovecot-mail"
mail_uid=$(id -u "$MAIL_ACCOUNT") mail_gid=$(id -g "$MAIL_ACCOUNT")
{
	echo "big:{CRYPT}$hash:$mail_uid:$mail_gid::$tmp/dovecot-mail/big::"
	[ "$FTS" = 0 ] ||
		echo "bigfts:{CRYPT}$hash:$mail_uid:$mail_gid::$tmp/dovecot-mail/bigfts::userdb_fts=xapian"
} >"$tmp/dovecot.passwd"
chown root:dovecot "$tmp/dovecot.passwd"
chmod 640 "$tmp/dovecot.passwd"
mkdir -m 755 "$tmp/dovecot-state"
fts_conf=""
if [ "$FTS" != 0 ]; then
	fts_conf="mail_plugins = \$mail_plugins fts fts_xapian
plugin {
  fts_xapian = partial=3 full=20 verbose=0
  fts_autoindex = no
}"
fi
cat >"$tmp/dovecot.conf" <<EOF
instance_name = cairn-bench-modern
base_dir = $tmp/dovecot-run
state_dir = $tmp/dovecot-state
log_path = $tmp/dovecot.log
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
$fts_conf
passdb {
  driver = passwd-file
  args = scheme=CRYPT $tmp/dovecot.passwd
}
userdb {
  driver = passwd-file
  args = $tmp/dovecot.passwd
}
default_process_limit = 2000
default_client_limit = 10000
protocol imap {
  mail_max_userip_connections = 10000
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
load1() { cut -d' ' -f1 /proc/loadavg; }
loads() { cut -d' ' -f1-3 /proc/loadavg; }
# calm: wait until the 1-minute load average is below CALM (at most CALM_WAIT s)
calm() {
	local t0=$SECONDS
	while awk -v l="$(load1)" -v c="$CALM" 'BEGIN { exit !(l >= c) }' &&
		[ $((SECONDS - t0)) -lt "$CALM_WAIT" ]; do
		sleep 10
	done
	[ $((SECONDS - t0)) -lt 10 ] || echo "  (waited $((SECONDS - t0)) s for the load to fall: $(loads))"
}

started=$(date -u '+%F %H:%M:%S UTC')
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
	"$(awk '/MemTotal/ { printf "%.0f GB RAM", $2 / 1048576 }' /proc/meminfo)," \
	"$(uname -sr), $(df -T "$tmp" | awk 'NR == 2 { print $2 }') under $tmp"
echo "cairn build: binaries of $(date -u -r "$(ls -t "$BUILD/master/cairnd" "$BUILD/imapd/cairn-imapd" \
	"$BUILD/authd/cairn-authd" | head -n 1)" '+%F %TZ') from $BUILD; source tree now at" \
	"$(git -C "$src" describe --always --dirty 2>/dev/null || echo 'no git')"
echo "dovecot $("$DOVECOT" --version | cut -d' ' -f1): maildir, mail_fsync" \
	"$("$DOVECONF" -c "$tmp/dovecot.conf" -h mail_fsync 2>/dev/null);" \
	"$([ "$FTS" != 0 ] && echo "fts_xapian $(dpkg-query -W -f '${Version}' dovecot-fts-xapian 2>/dev/null) for bigfts" || echo "no full-text index")"
echo "messages: $(L sizes "$BIG" --threads | tr '\n' ' ')"
echo "rows: $ROWS; start: $started; $(uptime | sed 's/^ *//')"
echo

# ---- load ----
echo "loading: Cairn over IMAP (populate, 64 in flight); Dovecot's maildir written directly"
t0=$SECONDS
L populate -p "$cport" -u big -n "$BIG" --window 64 --threads --label cairn-populate \
	>"$tmp/pop.cairn" 2>&1 &
pc=$!
maildir=$tmp/dovecot-mail/big/Maildir
mkdir -p "$maildir"
L maildir "$maildir" "$BIG" --threads >"$tmp/pop.dovecot" 2>&1 || {
	cat "$tmp/pop.dovecot" >&2
	die "writing Dovecot's maildir failed"
}
if [ "$FTS" != 0 ]; then
	# hard links: the same files, Dovecot's index and UIDs of its own
	mkdir -p "$tmp/dovecot-mail/bigfts"
	cp -al "$maildir" "$tmp/dovecot-mail/bigfts/Maildir"
fi
chown -R "$MAIL_ACCOUNT:" "$tmp/dovecot-mail"
wait "$pc" || { cat "$tmp/pop.cairn" >&2; die "populating Cairn failed"; }
sync
sed 's/^/    /' "$tmp/pop.cairn" "$tmp/pop.dovecot"
echo "  ($((SECONDS - t0)) s)"

# warm NAME PORT USER WORKLOAD ARGS...: unmeasured, must succeed
warm() {
	local name=$1 port=$2 user=$3 wl=$4
	shift 4
	L "$wl" -p "$port" -u "$user" --label "$name-warmup" --threads "$@" >"$tmp/warm.out" 2>&1 ||
		{ cat "$tmp/warm.out" >&2; die "warm-up $wl on $name failed"; }
	cat "$tmp/warm.out" >>"$tmp/warm.log"
}
# servers: NAME PORT USER for every server of the search rows
servers=("cairn $cport big" "dovecot $dport big")
[ "$FTS" = 0 ] || servers+=("dovecot-fts $dport bigfts")
for s in "${servers[@]}"; do
	set -- $s
	t0=$SECONDS
	warm "$1" "$2" "$3" select -n 1 --expect-exists "$BIG"
	echo "first SELECT on $1 ($3): $((SECONDS - t0)) s (Dovecot: reading cur/, giving UIDs, building its index)"
	warm "$1" "$2" "$3" fetch-body -n 50 --verify --expect-exists "$BIG"
done
if [ "$FTS" != 0 ]; then
	t0=$SECONDS
	"$DOVEADM" -c "$tmp/dovecot.conf" index -u bigfts INBOX 2>"$tmp/doveadm.err" ||
		{ cat "$tmp/doveadm.err" >&2; die "doveadm index -u bigfts INBOX failed"; }
	echo "doveadm index of bigfts's INBOX (fts_xapian): $((SECONDS - t0)) s"
fi
sync
sleep 3 # Dovecot trusts cur/'s mtime only once it is a few seconds old
for s in "${servers[@]}"; do
	set -- $s
	warm "$1" "$2" "$3" select -n 1 --expect-exists "$BIG"
done
cstore=$tmp/cairn-data/mail/big
echo "sizes: Cairn index.db $(du -sm "$cstore/index.db" | cut -f1) MB (with its full-text index)," \
	"blobs $(du -sm "$cstore/blobs" | cut -f1) MB; Dovecot maildir files $(du -sm "$maildir/cur" | cut -f1) MB," \
	"its index files $(du -cm "$maildir"/dovecot* | tail -n 1 | cut -f1) MB$([ "$FTS" = 0 ] ||
		echo ", xapian index of bigfts $(du -sm "$tmp/dovecot-mail/bigfts/Maildir/xapian-indexes" | cut -f1) MB")"
echo

mkdir "$tmp/res" "$tmp/ans"
: >"$tmp/report.txt"
: >"$tmp/warm.log"

# run NAME PORT USER KEY HALF WORKLOAD ARGS...: one run, saved as res/KEY.NAME.HALF
run() {
	local name=$1 port=$2 user=$3 key=$4 half=$5 wl=$6
	shift 6
	if ! L "$wl" -p "$port" -u "$user" --label "$name" --save "$tmp/res/$key.$name.$half" \
		--threads "$@" >"$tmp/run.out" 2>&1; then
		cat "$tmp/run.out" >&2
		echo "run-modern: $key: errors in the $name run (see above)" >&2
		failed+=("$key/$name")
	fi
	sed 's/^/    /' "$tmp/run.out"
	kill -0 "$cpid" 2>/dev/null || die "cairnd exited during the run"
	kill -0 "$dpid" 2>/dev/null || die "dovecot exited during the run"
}
# report KEY TITLE A B: the merged ratio A/B of the row's runs (names as in run)
report() {
	local key=$1 title=$2 a=$3 b=$4
	if ! L report "$title" "$a=$tmp/res/$key.$a.1,$tmp/res/$key.$a.2" \
		"$b=$tmp/res/$key.$b.1,$tmp/res/$key.$b.2" >"$tmp/report.out"; then
		failed+=("$key:$a/$b")
	fi
	tee -a "$tmp/report.txt" <"$tmp/report.out"
}
# row_start TITLE / row_end: the load before and after, into the report
row_start() {
	calm
	row_t0=$SECONDS row_load=$(loads)
	echo "$1 (load $row_load):"
}
row_end() {
	echo "  load $row_load -> $(loads), $((SECONDS - row_t0)) s" | tee -a "$tmp/report.txt"
}

# compare_answers KEY KIND: the first answers of both servers (ans/KEY.*),
# same or how they differ; KIND "must" makes a difference a failure
compare_answers() {
	local key=$1 kind=$2 out
	out=$(python3 - "$tmp/ans/$key.cairn" "$tmp/ans/$key.dovecot" <<'EOF'
import re, sys
def answer(path):
    words = open(path).read().split(None, 2)  # "*", "SORT" or "THREAD", the rest
    return words[2].strip() if len(words) > 2 else ""
a, b = answer(sys.argv[1]), answer(sys.argv[2])
if a == b:
    print("identical answers")
    sys.exit(0)
if "(" not in a + b:
    x, y = a.split(), b.split()
    diff = [i for i in range(min(len(x), len(y))) if x[i] != y[i]]
    print("answers DIFFER: %d and %d numbers, same set: %s, %d positions differ%s"
          % (len(x), len(y), set(x) == set(y), len(diff) + abs(len(x) - len(y)),
             "; first at %d: cairn %s, dovecot %s" % (diff[0], " ".join(x[diff[0]:diff[0] + 5]),
                                                   " ".join(y[diff[0]:diff[0] + 5])) if diff else ""))
else:
    def groups(s):
        out, depth, cur = [], 0, ""
        for ch in s:
            if ch == "(":
                depth += 1
            cur += ch
            if ch == ")":
                depth -= 1
                if depth == 0:
                    out.append(cur)
                    cur = ""
        return out
    ga, gb = groups(a), groups(b)
    sa, sb = set(ga), set(gb)
    same_order = [g for g, h in zip(ga, gb) if g == h]
    print("answers DIFFER: %d and %d threads; %d threads identical on both, %d only in "
          "cairn's, %d only in dovecot's; %d in the same place" % (len(ga), len(gb), len(sa & sb),
                                                                 len(sa - sb), len(sb - sa), len(same_order)))
sys.exit(1)
EOF
	) && { echo "  $out" | tee -a "$tmp/report.txt"; return 0; }
	echo "  $out" | tee -a "$tmp/report.txt"
	[ "$kind" = must ] && failed+=("$key: answers differ")
	return 0
}

# 1, 2. SORT and THREAD
sort_rows=()
has_row sort && sort_rows+=("sort-date|SORT (DATE) UTF-8 ALL|must"
	"sort-subject|SORT (SUBJECT) UTF-8 ALL|may"
	"sort-arrival|SORT (REVERSE ARRIVAL) UTF-8 ALL|must")
has_row thread && sort_rows+=("thread-refs|THREAD REFERENCES UTF-8 ALL|may"
	"thread-subj|THREAD ORDEREDSUBJECT UTF-8 ALL|may")
for spec in "${sort_rows[@]}"; do
	IFS='|' read -r key cmd kind <<<"$spec"
	row_start "$cmd, $BIG messages"
	for s in "cairn $cport big" "dovecot $dport big"; do
		set -- $s
		warm "$1" "$2" "$3" sort -n 1 --command "$cmd" --dump "$tmp/ans/$key.$1"
		sed 's/^/    (not measured) /' "$tmp/warm.out"
	done
	run cairn "$cport" big "$key" 1 sort -n "$SORT_N" --command "$cmd"
	run dovecot "$dport" big "$key" 1 sort -n "$SORT_N" --command "$cmd"
	run dovecot "$dport" big "$key" 2 sort -n "$SORT_N" --command "$cmd"
	run cairn "$cport" big "$key" 2 sort -n "$SORT_N" --command "$cmd"
	# each server's runs must agree among themselves; between the two,
	# compare_answers says whether and how they differ
	for n in cairn dovecot; do
		L report "$cmd ($n, both runs)" "a=$tmp/res/$key.$n.1" "b=$tmp/res/$key.$n.2" \
			>/dev/null || failed+=("$key: $n's answers changed between runs")
	done
	for n in cairn dovecot; do
		sed -i "s/^check .*/check -/" "$tmp/res/$key.$n.1" "$tmp/res/$key.$n.2"
	done
	report "$key" "$cmd" cairn dovecot
	compare_answers "$key" "$kind"
	row_end
done

# 3. body search
if has_row search; then
	for k in "BODY $RARE" "BODY $COMMON" "TEXT $RARE" "TEXT $COMMON"; do
		key=search-${k// /-}
		row_start "SEARCH $k, $BIG messages"
		for s in "${servers[@]}"; do
			set -- $s
			warm "$1" "$2" "$3" search -n 1 --search "$k"
		done
		run cairn "$cport" big "$key" 1 search -n "$BSEARCH_N" --search "$k"
		run dovecot "$dport" big "$key" 1 search -n "$BSEARCH_N" --search "$k"
		[ "$FTS" = 0 ] || run dovecot-fts "$dport" bigfts "$key" 1 search -n "$BSEARCH_N" --search "$k"
		[ "$FTS" = 0 ] || run dovecot-fts "$dport" bigfts "$key" 2 search -n "$BSEARCH_N" --search "$k"
		run dovecot "$dport" big "$key" 2 search -n "$BSEARCH_N" --search "$k"
		run cairn "$cport" big "$key" 2 search -n "$BSEARCH_N" --search "$k"
		report "$key" "SEARCH $k" cairn dovecot
		if [ "$FTS" != 0 ]; then
			# Cairn and Dovecot without an index must agree (above); with
			# fts_xapian Dovecot answers from its index alone, and what it
			# finds is compared with that exact answer, not taken for one
			exact=$(sed -n 's/^check //p' "$tmp/res/$key.cairn.1")
			fts=$(sed -n 's/^check //p' "$tmp/res/$key.dovecot-fts.1")
			[ "$(sed -n 's/^check //p' "$tmp/res/$key.dovecot-fts.2")" = "$fts" ] ||
				failed+=("$key: dovecot-fts's answers changed between runs")
			sed -i 's/^check .*/check -/' "$tmp/res/$key.dovecot-fts.1" \
				"$tmp/res/$key.dovecot-fts.2" "$tmp/res/$key.cairn.1" "$tmp/res/$key.cairn.2"
			report "$key" "SEARCH $k" cairn dovecot-fts
			if [ "$fts" = "$exact" ]; then
				echo "  dovecot-fts: the exact answer ($fts)" | tee -a "$tmp/report.txt"
			else
				echo "  dovecot-fts: ${fts%%:*} found, the exact answer is ${exact%%:*}:" \
					"fts_xapian answers differently (count:hash $fts, exact $exact)" |
					tee -a "$tmp/report.txt"
			fi
		fi
		row_end
	done
fi

# 4. QRESYNC (last: it changes the mailbox)
if has_row qresync; then
	row_start "QRESYNC: $CHANGES flagged and $EXPUNGES expunged by another session, $BIG messages"
	for s in "cairn $cport" "dovecot $dport"; do
		set -- $s
		L qresync-prep -p "$2" -u big --label "$1" --changes "$CHANGES" --expunges "$EXPUNGES" \
			--state "$tmp/qstate.$1" >"$tmp/prep.out" 2>&1 ||
			{ cat "$tmp/prep.out" >&2; die "qresync-prep on $1 failed"; }
		sed 's/^/    /' "$tmp/prep.out" | tee -a "$tmp/report.txt"
	done
	# the same UIDs before, the same ones flagged and expunged
	for f in uids uidnext exists flagged expunged; do
		[ "$(grep "^$f " "$tmp/qstate.cairn")" = "$(grep "^$f " "$tmp/qstate.dovecot")" ] ||
			die "qresync-prep: the two servers differ in $f"
	done
	echo "  both servers: the same UIDs; the same $CHANGES flagged and $EXPUNGES expunged"
	# the client comes back later: while cur/'s mtime is a few seconds old,
	# Dovecot's maildir reads all of cur/ again at every sync (the same
	# wait as after run-store.sh's populate)
	sleep 3
	for variant in "qresync||ENABLE QRESYNC + SELECT (QRESYNC (v m))" \
		"qresync-known|--known-uids|ENABLE QRESYNC + SELECT (QRESYNC (v m 1:N))"; do
		IFS='|' read -r key opt title <<<"$variant"
		run cairn "$cport" big "$key" 1 qresync -n "$QRESYNC_N" --state "$tmp/qstate.cairn" $opt
		run dovecot "$dport" big "$key" 1 qresync -n "$QRESYNC_N" --state "$tmp/qstate.dovecot" $opt
		run dovecot "$dport" big "$key" 2 qresync -n "$QRESYNC_N" --state "$tmp/qstate.dovecot" $opt
		run cairn "$cport" big "$key" 2 qresync -n "$QRESYNC_N" --state "$tmp/qstate.cairn" $opt
		report "$key" "$title" cairn dovecot
	done
	row_end
fi

echo
echo "=== results (rate: commands per second; ratio cairn/dovecot: above 1, Cairn is faster;" \
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
