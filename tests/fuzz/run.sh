#!/bin/sh
# Run the libFuzzer harnesses (make fuzz-run, make fuzz-replay, quickstart.sh).
#
#   run.sh BINDIR SRCDIR NAME...
#
# For each NAME: BINDIR/fuzz_NAME on a copy of SRCDIR/corpus/NAME (the
# committed corpus never grows here), with SRCDIR/NAME.dict when there is
# one, for FUZZ_SECONDS seconds (default 60).  FUZZ_SECONDS=0 only replays
# the corpus: every committed input once, the regression run.  Prints the
# executions of each harness and their total; exits 1 on any finding
# (crash, leak, UB, timeout, out of memory), the input that caused it kept
# in FUZZ_ARTIFACTS (default: a directory printed at the end).
set -u

bindir=$1
srcdir=$2
shift 2
seconds=${FUZZ_SECONDS:-60}
# A fresh store per input: on tmpfs its fsyncs cost nothing.
if [ -z "${FUZZ_TMPDIR:-}" ]; then
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then FUZZ_TMPDIR=/dev/shm; else FUZZ_TMPDIR=${TMPDIR:-/tmp}; fi
fi
work=$(mktemp -d "$FUZZ_TMPDIR/cairn-fuzz.XXXXXX") || exit 1
artifacts=${FUZZ_ARTIFACTS:-$work/artifacts}
mkdir -p "$artifacts"
# abort_on_error off: libFuzzer reports and writes the input itself.
ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=1}
UBSAN_OPTIONS=${FUZZ_UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

status=0
total=0
count=$#
for name in "$@"; do
	bin=$bindir/fuzz_$name
	corpus=$work/corpus-$name
	log=$work/$name.log
	mkdir -p "$corpus"
	if [ -d "$srcdir/corpus/$name" ]; then
		cp "$srcdir/corpus/$name"/* "$corpus"/ 2>/dev/null
	fi
	set -- -print_final_stats=1 -timeout=30 -rss_limit_mb=2048 \
	    -artifact_prefix="$artifacts/$name-"
	[ -f "$srcdir/$name.dict" ] && set -- "$@" -dict="$srcdir/$name.dict"
	if [ "$seconds" -eq 0 ]; then
		set -- "$@" -runs=0
	else
		set -- "$@" -max_total_time="$seconds"
	fi
	rc=0
	TMPDIR=$work "$bin" "$@" "$corpus" >"$log" 2>&1 || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	execs=${execs:-0}
	total=$((total + execs))
	inputs=$(ls "$srcdir/corpus/$name" 2>/dev/null | wc -l)
	if [ "$rc" -eq 0 ]; then
		echo "fuzz $name: ok, $execs executions ($inputs corpus inputs)"
	else
		status=1
		echo "fuzz $name: FAILED (exit $rc) after $execs executions; its log:"
		grep -E -A 40 '^==[0-9]+==|^SUMMARY|runtime error|fuzz_[a-z]+:' "$log" | head -n 80
		echo "fuzz $name: the input is in $artifacts/$name-*"
	fi
	rm -rf "$corpus"
done
echo "fuzz total: $total executions, $count harnesses, ${seconds}s each"
if [ "$status" -eq 0 ]; then
	rm -rf "$work"
else
	echo "fuzz: FINDINGS; logs and inputs in $work"
fi
exit "$status"
