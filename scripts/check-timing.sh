#!/usr/bin/env bash
# check-timing: how long `tollgate check` takes against `tollgate serve`
# with the default clients, for both built-in flows, as README shows it.
#
#   scripts/check-timing.sh [extra `tollgate check` flags, e.g. --no-control]
#
# Builds tollgate into .cache/timing/, starts `tollgate serve` on a free
# loopback port, runs `tollgate check --flow simple` and `--flow oauth2`
# one after the other, and prints each run's verdict line and wall seconds,
# then the total. The figure is for docs/check.md and reviews, not a test:
# it depends on the machine and its load.
#
# Exit status: 0 when both checks exit 0; else the first non-zero exit.
set -euo pipefail

cd "$(dirname "$0")/.."

readonly CACHE=.cache/timing
readonly START_TIMEOUT=20 # seconds for the server to answer

log() { printf 'check-timing: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 3
}

for tool in go curl date; do
	command -v "$tool" >/dev/null || die "needs $tool on PATH"
done
mkdir -p "$CACHE"
go build -o "$CACHE/tollgate" ./cmd/tollgate || die "go build failed"

server_log=$CACHE/server.log
server_pid=
cleanup() {
	if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Port 0: the kernel picks a free port; the "listening on" line names it.
"$CACHE/tollgate" serve --addr 127.0.0.1:0 >"$server_log" 2>"$CACHE/server.err" &
server_pid=$!
target=
for ((i = 0; i < START_TIMEOUT * 10; i++)); do
	kill -0 "$server_pid" 2>/dev/null || die "tollgate serve exited at start; see $server_log"
	target=$(sed -n 's|^listening on \(http://127\.0\.0\.1:[0-9][0-9]*\)$|\1|p' "$server_log")
	if [[ -n $target ]] && curl -sf -o /dev/null --max-time 2 "$target/.well-known/oauth-authorization-server"; then
		break
	fi
	target=
	sleep 0.1
done
[[ -n $target ]] || die "tollgate serve did not answer within ${START_TIMEOUT}s; see $server_log"

while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^TOLLGATE_' || true)
export TOLLGATE_CLIENT_ID=testClient TOLLGATE_CLIENT_SECRET=superSecret

now() { date +%s.%N; }
rc=0 total_start=$(now)
for flow in simple oauth2; do
	start=$(now)
	frc=0
	"$CACHE/tollgate" check --target "$target" --flow "$flow" "$@" >"$CACHE/$flow.txt" 2>&1 || frc=$?
	end=$(now)
	verdicts=$(grep -E '^[0-9]+ checks: ' "$CACHE/$flow.txt" || echo "no summary (see $CACHE/$flow.txt)")
	printf '%-7s exit %d  %6.2fs  %s\n' "$flow" "$frc" "$(echo "$end - $start" | bc)" "$verdicts"
	grep -E '^expiry: ' "$CACHE/$flow.txt" | sed 's/^/        /' || true
	[[ $rc -ne 0 || $frc -eq 0 ]] || rc=$frc
done
printf 'total   %6.2fs wall (both flows; outputs in %s/)\n' "$(echo "$(now) - $total_start" | bc)" "$CACHE"
exit "$rc"
