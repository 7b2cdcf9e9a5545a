#!/usr/bin/env bash
# bench-compare: is `tollgate load` a fair load generator, and what does the
# mock's Bearer check cost? On one loopback `tollgate serve`, in the same
# run, it measures
#   1. the same protected route (GET /api/collections, flow simple) with the
#      same valid token, by wrk and by `tollgate load`, at the same
#      concurrency: tollgate load should reach >= 0.8x wrk's rate;
#   2. the mock's protected route vs its unauthenticated baseline route
#      (mockserver.HealthPath, /_tollgate/health) under the same wrk load:
#      the Bearer check should keep >= 0.85x of the baseline's rate.
# Each round measures all three back to back (alternating which goes
# first); the ratios are taken within each round, where the machine's other
# load is most alike, and the medians over ROUNDS rounds are reported.
# The figures, the machine (nproc) and the date go to docs/benchmarks.md.
#
#   make bench-compare            (or scripts/bench-compare.sh)
#
# Environment: CONC (connections / requests in flight, default 64),
# DURATION (per measurement, default 5s), THREADS (wrk threads, default
# nproc), ROUNDS (default 5), OUT (default docs/benchmarks.md).
#
# wrk is installed from Debian when missing (apt-get install -y wrk, with
# sudo when not root). Everything runs on 127.0.0.1; the server is stopped
# on exit.
set -euo pipefail

cd "$(dirname "$0")/.."

readonly CONC=${CONC:-64}
readonly DURATION=${DURATION:-5s}
readonly THREADS=${THREADS:-$(nproc)}
readonly ROUNDS=${ROUNDS:-5}
readonly OUT=${OUT:-docs/benchmarks.md}
readonly WORK=.cache/bench
readonly HEALTH_PATH=/_tollgate/health # mockserver.HealthPath
readonly PROTECTED_PATH=/api/collections

log() { printf 'bench-compare: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 3
}

install_wrk() {
	command -v wrk >/dev/null && return
	log "wrk is missing: installing it from Debian (apt-get install -y wrk)"
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || die "wrk is missing and there is no sudo: install wrk (apt-get install -y wrk) and run again"
		sudo=(sudo)
	fi
	"${sudo[@]}" apt-get install -y wrk || { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y wrk; } ||
		die "could not install wrk: install it (apt-get install -y wrk) and run again"
}

for tool in go curl awk sort; do
	command -v "$tool" >/dev/null || die "needs $tool on PATH"
done
install_wrk

mkdir -p "$WORK"
go build -o "$WORK/tollgate" ./cmd/tollgate

"$WORK/tollgate" serve --addr 127.0.0.1:0 --quiet >"$WORK/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
url=
for _ in $(seq 50); do
	url=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$WORK/serve.log" | head -1 | sed 's/^listening on //') || true
	[ -n "$url" ] && break
	sleep 0.1
done
[ -n "$url" ] || die "tollgate serve did not start: $(cat "$WORK/serve.log")"
log "mock at $url"

# One valid token, shared by wrk and tollgate load.
token=$(curl -fsS -X POST "$url/token" -H 'Content-Type: application/json' \
	-d '{"clientId":"testClient","secret":"superSecret"}' | sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || die "no token from $url/token"
printf '%s\n' "$token" >"$WORK/token"
curl -fsS -o /dev/null -H "Authorization: Bearer $token" "$url$PROTECTED_PATH" || die "the token does not open $PROTECTED_PATH"

# wrk_run PATH -> "rps p50_ms p99_ms"
wrk_run() {
	local out
	out=$(wrk -t"$THREADS" -c"$CONC" -d"$DURATION" --latency -H "Authorization: Bearer $token" "$url$1")
	printf '%s\n' "$out" >>"$WORK/wrk.log"
	printf '%s\n' "$out" | awk '
		function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
		/Requests\/sec:/ { rps = $2 }
		$1 == "50%" { p50 = ms($2) }
		$1 == "99%" { p99 = ms($2) }
		/Non-2xx/ { bad = $NF }
		END { if (bad > 0) { print "non-2xx answers: " bad > "/dev/stderr"; exit 1 }; printf "%.1f %.3f %.3f\n", rps, p50, p99 }'
}

# load_run -> "rps p50_ms p99_ms"
load_run() {
	TOLLGATE_CLIENT_ID=testClient TOLLGATE_CLIENT_SECRET=superSecret "$WORK/tollgate" load \
		--target "$url" --flow simple --operation listCollections --token-file "$WORK/token" \
		--concurrency "$CONC" --duration "$DURATION" --requests 1000000000 --quiet --json "$WORK/load.json" >>"$WORK/load.log"
	awk '
		/"achieved_rps"/ { gsub(/[",]/, "", $2); rps = $2 }
		/"p50":/ { gsub(/,/, "", $2); p50 = $2 }
		/"p99":/ { gsub(/,/, "", $2); p99 = $2 }
		END { printf "%.1f %.3f %.3f\n", rps, p50, p99 }' "$WORK/load.json"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

: >"$WORK/wrk.log"
: >"$WORK/load.log"
: >"$WORK/rounds"
for round in $(seq "$ROUNDS"); do
	log "round $round/$ROUNDS: wrk protected, tollgate load protected, wrk baseline ($DURATION each, $CONC connections)"
	if [ $((round % 2)) -eq 1 ]; then
		protected=$(wrk_run "$PROTECTED_PATH")
		ours=$(load_run)
		baseline=$(wrk_run "$HEALTH_PATH")
	else
		baseline=$(wrk_run "$HEALTH_PATH")
		ours=$(load_run)
		protected=$(wrk_run "$PROTECTED_PATH")
	fi
	printf '%s %s %s\n' "$protected" "$ours" "$baseline" |
		awk '{ printf "%s %.3f %.3f\n", $0, $4 / $1, $1 / $7 }' | tee -a "$WORK/rounds" >&2
done

col() { awk -v c="$1" '{ print $c }' "$WORK/rounds" | median; }
wrk_rps=$(col 1) wrk_p50=$(col 2) wrk_p99=$(col 3)
load_rps=$(col 4) load_p50=$(col 5) load_p99=$(col 6)
base_rps=$(col 7) base_p50=$(col 8) base_p99=$(col 9)
load_ratio=$(col 10 | awk '{ printf "%.2f", $1 }')
route_ratio=$(col 11 | awk '{ printf "%.2f", $1 }')
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t) ? "meets" : "MISSES" }'; }

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)
summary=$(
	cat <<EOF
| measurement (GET, ${CONC} connections, ${DURATION}, median of ${ROUNDS}) | req/s | p50 | p99 |
|---|---:|---:|---:|
| wrk, protected route \`${PROTECTED_PATH}\` | ${wrk_rps} | ${wrk_p50} ms | ${wrk_p99} ms |
| tollgate load, same route, same token | ${load_rps} | ${load_p50} ms | ${load_p99} ms |
| wrk, baseline route \`${HEALTH_PATH}\` (no auth) | ${base_rps} | ${base_p50} ms | ${base_p99} ms |

- tollgate load / wrk: **${load_ratio}×** ($(verdict "$load_ratio" 0.8) the 0.8× target; median of the per-round ratios)
- protected / baseline route: **${route_ratio}×** ($(verdict "$route_ratio" 0.85) the 0.85× target; median of the per-round ratios)
EOF
)
printf '%s\n' "$summary"

{
	cat <<EOF
# Benchmarks

Written by \`make bench-compare\` (scripts/bench-compare.sh); run it again to
refresh. Every figure below comes from one run on one machine: the load
generator and \`tollgate serve\` share its cores, so compare the ratios, which
are measured in the same run, rather than the absolute rates.

- date: $(date -u +%Y-%m-%dT%H:%MZ)
- machine: $(nproc) CPUs (nproc), ${cpu}
- $(go version | sed 's/^go version //'), $(wrk --version 2>&1 | head -1 | awk '{ print "wrk " $2 }'), wrk threads ${THREADS}

${summary}

How to read it: wrk and \`tollgate load\` are both closed-model here (a fixed
number of requests in flight), so their rates are comparable; the latency
percentiles differ in method (wrk samples per thread, tollgate keeps an HDR
histogram of every request). The protected route runs the mock's whole Bearer
path (header parse, token store lookup, expiry and scope checks) before a
precomputed body; the baseline route serves a precomputed body with no auth.
See docs/load.md for what each figure means.

Per-round figures (wrk protected rps/p50/p99, tollgate load rps/p50/p99, wrk
baseline rps/p50/p99, tollgate/wrk, protected/baseline):

\`\`\`
$(cat "$WORK/rounds")
\`\`\`
EOF
} >"$OUT"
log "wrote $OUT"
