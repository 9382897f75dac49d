# What the bench/run-*.sh drivers share; sourced, not run.  Each driver
# sets before sourcing: BENCH (its name, for messages) and POOL (the login
# processes wait_ready waits for); and then tmp (its temporary directory)
# and ok (non-empty once it succeeded) for bench_finish.

die() { echo "$BENCH: $*" >&2; exit 1; }

stop() { # stop PID: SIGTERM, wait up to 10 s, then SIGKILL
	local pid=$1 i
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# bench_finish PID...: for the EXIT trap: stop the servers, show the ends of
# their logs unless the run succeeded, remove $tmp unless KEEP=1.
bench_finish() {
	local pid log
	for pid in "$@"; do stop "$pid"; done
	if [ -z "$ok" ]; then
		for log in cairnd.log dovecot.log dovecot.out; do
			[ -s "$tmp/$log" ] && { echo "--- $log (last lines)"; tail -n 15 "$tmp/$log"; } >&2
		done
	fi
	if [ "${KEEP:-}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# free_ports N: N different free ports on 127.0.0.1, on one line
free_ports() {
	local ports=() p
	while [ ${#ports[@]} -lt "$1" ]; do
		p=$(free_port)
		[[ " ${ports[*]} " == *" $p "* ]] || ports+=("$p")
	done
	echo "${ports[*]}"
}

# wait_ready NAME PID PORT PROCESS: until PORT accepts and PID has POOL PROCESS children
wait_ready() {
	local i
	for ((i = 0; i < 150; i++)); do
		kill -0 "$2" 2>/dev/null || die "$1 exited during start-up"
		if (exec 3<>"/dev/tcp/127.0.0.1/$3") 2>/dev/null &&
			[ "$(pgrep -c -P "$2" -x "$4" || true)" -ge "$POOL" ]; then
			return 0
		fi
		sleep 0.1
	done
	die "$1 is not ready on 127.0.0.1:$3 with $POOL $4 processes after 15 s"
}

# copy_cairn BUILD DIR: copies of the binaries (cairnctl and cairn-lmtpd
# too when built) into DIR (made 0755): a rebuild of the build tree during
# the run must not change the programs cairnd execs for each new pool
# process.
copy_cairn() {
	local opt=() f
	for f in ctl/cairnctl lmtpd/cairn-lmtpd; do
		[ -x "$1/$f" ] && opt+=("$1/$f")
	done
	mkdir -m 755 "$2"
	cp "$1/master/cairnd" "$1/imapd/cairn-imapd" "$1/authd/cairn-authd" \
		"${opt[@]}" "$2/" || die "cannot copy the Cairn binaries from $1"
}

# start_cairnd DIR: cairnd -F on DIR/cairn.conf in the background, its
# children the copies in DIR/bin (copy_cairn), its log DIR/cairnd.log;
# sets cpid.
start_cairnd() {
	CAIRN_IMAPD_PATH="$1/bin/cairn-imapd" CAIRN_AUTHD_PATH="$1/bin/cairn-authd" \
		CAIRN_LMTPD_PATH="$1/bin/cairn-lmtpd" \
		"$1/bin/cairnd" -F -c "$1/cairn.conf" >>"$1/cairnd.log" 2>&1 &
	cpid=$!
}

# make_cert DIR: DIR/cert.pem and DIR/key.pem, self-signed EC P-256, for both servers
make_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=localhost -keyout "$1/key.pem" -out "$1/cert.pem" >/dev/null 2>&1 ||
		die "openssl could not create the certificate"
	chmod 644 "$1/cert.pem"
	chmod 600 "$1/key.pem"
}
