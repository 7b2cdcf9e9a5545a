#!/usr/bin/env bash
# stability: do the timing-dependent selftest variants get the same verdicts
# on every run, with the machine busy?
#
#   scripts/stability.sh            # STABILITY_RUNS=10 by default
#   STABILITY_RUNS=3 scripts/stability.sh
#
# Runs the selftest in stability mode (TestStability in
# suites/selftest/stability_test.go, selected by TOLLGATE_STABILITY_RUNS):
# the expiry mutants with the clock moved and waited out, the revocation and
# introspection defects that are polled for, the timed conformant
# variations (revocation-delay, rate-limit) and the correct mock, each
# STABILITY_RUNS times, while one busy loop per core competes for the CPU.
# Prints per variant how often it was caught or passed and how often each
# check named for it got each verdict, e.g.
#
#   expiry-slides/no-control   simple  caught 10/10   EXP-010 FAIL 10/10
#
# Exit status: 0 when every mutant was caught and every conformant variant
# passed in every run, with no check's verdict changing from run to run;
# 1 otherwise; 3 when the script could not run. The busy loops are stopped
# on exit, and stop by themselves if this script dies. Every mock and
# every check listen and connect on 127.0.0.1 only. Not part of make test
# or CI: it takes minutes and keeps the machine busy.
set -euo pipefail

cd "$(dirname "$0")/.."

readonly RUNS=${STABILITY_RUNS:-10}
readonly CACHE=.cache/stability

log() { printf 'stability: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 3
}

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "STABILITY_RUNS=$RUNS: want a whole number of runs, at least 1"
command -v go >/dev/null || die "needs go on PATH"
cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
# A bound on the whole run: about five minutes a round on a busy two-core
# machine, and ten to spare.
readonly TIMEOUT=$((RUNS * 5 + 10))m

mkdir -p "$CACHE"
# Compile first, so that the busy loops slow the checks, not the compiler
# (the selftest's own go build of cmd/tollgate then finds it cached).
go build -o "$CACHE/tollgate" ./cmd/tollgate || die "go build failed"
go test -c -o "$CACHE/selftest.test" ./suites/selftest || die "go test -c failed"

busy=()
stop_busy() {
	local pid
	for pid in "${busy[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${busy[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	busy=()
}
# The selftest runs in a process group of its own, so that an interrupted
# run takes the tollgate checks it started down with it.
test_pid=
stop_all() {
	if [[ -n $test_pid ]]; then
		kill -TERM -- "-$test_pid" 2>/dev/null || true
		wait "$test_pid" 2>/dev/null || true
		test_pid=
	fi
	stop_busy
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One busy loop per core; each checks that this script is alive, so none
# outlives it even when it is killed without a chance to clean up.
readonly parent=$$
for ((i = 0; i < cores; i++)); do
	(while kill -0 "$parent" 2>/dev/null; do :; done) &
	busy+=($!)
done
log "$RUNS runs of each timed variant beside $cores busy loop(s); at most $TIMEOUT"

table=$PWD/$CACHE/table.txt
rm -f "$table"
status=0
# The selftest builds its own tollgate with go build (../../cmd/tollgate),
# from the package directory, as go test runs it.
set -m # a background job in its own process group
(cd suites/selftest && TOLLGATE_STABILITY_RUNS=$RUNS TOLLGATE_STABILITY_REPORT=$table \
	exec "../../$CACHE/selftest.test" -test.run '^TestStability$' -test.count=1 -test.timeout "$TIMEOUT") >"$CACHE/test.log" 2>&1 &
test_pid=$!
set +m
wait "$test_pid" || status=$?
test_pid=
stop_busy

if [[ ! -s $table ]]; then
	tail -n 40 "$CACHE/test.log" >&2
	die "no table: the selftest stopped early (exit $status); the whole log is $CACHE/test.log"
fi
printf 'stability over %s runs, %s busy loop(s):\n\n' "$RUNS" "$cores"
cat "$table"
if ((status != 0)); then
	echo
	grep -E '^\s+stability_test\.go:[0-9]+: ' "$CACHE/test.log" | grep -v 'stability over' | sed 's/^\s*//' || true
	log "unstable: see above, and $CACHE/test.log"
	exit 1
fi
log "every mutant caught and every conformant variant passed in each of $RUNS runs"
