#!/usr/bin/env bash
# bench-compare: what does the mock's request path cost, and is `tollgate
# load` a fair load generator? In one run, on loopback, with wrk at the same
# concurrency throughout, it measures
#   1. a bare net/http route (scripts/bareserver: the same answer, no
#      checks), without a header and with each token's Authorization header;
#   2. the mock's protected routes with those tokens, UUID
#      (GET /api/collections, flow simple) and JWT with its verification
#      cached (GET /api/markets, flow oauth2), on a `tollgate serve --quiet`
#      and on a `tollgate serve` with its default request log (stderr to a
#      file, truncated after each measurement);
#   3. `tollgate load` on the quiet UUID route, as wrk does it.
# Targets: protected / bare route with the same header >= 0.95 (UUID and
# JWT), logged / quiet >= 0.90, tollgate load / wrk >= 0.8.
# Each round measures everything back to back (in reverse order every other
# round); the ratios are taken within each round, where the machine's other
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
# sudo when not root). Everything runs on 127.0.0.1; the servers are stopped
# on exit.
set -euo pipefail

cd "$(dirname "$0")/.."

readonly CONC=${CONC:-64}
readonly DURATION=${DURATION:-5s}
readonly THREADS=${THREADS:-$(nproc)}
readonly ROUNDS=${ROUNDS:-5}
readonly OUT=${OUT:-docs/benchmarks.md}
readonly WORK=.cache/bench
readonly UUID_PATH=/api/collections # flow simple
readonly JWT_PATH=/api/markets      # flow oauth2
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
go build -o "$WORK/bareserver" ./scripts/bareserver

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

# start NAME CMD...: starts a server (stdout to $WORK/NAME.out, stderr
# appended to $WORK/NAME.log, so that truncating it works) and waits for
# its "listening on" line; sets url.
start() {
	local name=$1
	shift
	: >"$WORK/$name.log"
	"$@" >"$WORK/$name.out" 2>>"$WORK/$name.log" &
	pids+=($!)
	url=
	for _ in $(seq 100); do
		url=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$WORK/$name.out" | head -1 | sed 's/^listening on //') || true
		[ -n "$url" ] && return
		sleep 0.1
	done
	die "$name did not start: $(cat "$WORK/$name.out" "$WORK/$name.log")"
}

start bare "$WORK/bareserver" -addr 127.0.0.1:0
bare=$url
start quiet "$WORK/tollgate" serve --addr 127.0.0.1:0 --quiet
quiet=$url
start logged "$WORK/tollgate" serve --addr 127.0.0.1:0
logged=$url
log "bare route at $bare; mock at $quiet (--quiet) and at $logged (request log to $WORK/logged.log)"

# uuid_token BASE, jwt_token BASE: the seed client's tokens from a mock.
uuid_token() {
	curl -fsS -X POST "$1/token" -H 'Content-Type: application/json' \
		-d '{"clientId":"testClient","secret":"superSecret"}' | sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p'
}
jwt_token() {
	curl -fsS -X POST "$1/oauth/token" -H 'Content-Type: application/json' \
		-d '{"grant_type":"client_credentials","client_id":"testClient","client_secret":"superSecret"}' |
		sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}
uuid_quiet=$(uuid_token "$quiet")
jwt_quiet=$(jwt_token "$quiet")
uuid_logged=$(uuid_token "$logged")
jwt_logged=$(jwt_token "$logged")
printf '%s\n' "$uuid_quiet" >"$WORK/token"
# check URL TOKEN: the token opens the route (and warms the JWT cache).
check() {
	[ -n "$2" ] || die "no token for $1"
	curl -fsS -o /dev/null -H "Authorization: Bearer $2" "$1" || die "GET $1 with its token failed"
}
check "$quiet$UUID_PATH" "$uuid_quiet"
check "$quiet$JWT_PATH" "$jwt_quiet"
check "$logged$UUID_PATH" "$uuid_logged"
check "$logged$JWT_PATH" "$jwt_logged"
check "$bare$UUID_PATH" "$uuid_quiet"
check "$bare$JWT_PATH" "$jwt_quiet"

# wrk_run URL [TOKEN] -> "rps p50_ms p99_ms"
wrk_run() {
	local out
	local header=()
	if [ -n "${2:-}" ]; then
		header=(-H "Authorization: Bearer $2")
	fi
	out=$(wrk -t"$THREADS" -c"$CONC" -d"$DURATION" --latency "${header[@]}" "$1")
	printf '%s\n' "$out" >>"$WORK/wrk.log"
	: >"$WORK/logged.log" # drop the request lines so far: bounded disk use
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
		--target "$quiet" --flow simple --operation listCollections --token-file "$WORK/token" \
		--concurrency "$CONC" --duration "$DURATION" --requests 1000000000 --quiet --json "$WORK/load.json" >>"$WORK/load.log"
	awk '
		/"achieved_rps"/ { gsub(/[",]/, "", $2); rps = $2 }
		/"p50":/ { gsub(/,/, "", $2); p50 = $2 }
		/"p99":/ { gsub(/,/, "", $2); p99 = $2 }
		END { printf "%.1f %.3f %.3f\n", rps, p50, p99 }' "$WORK/load.json"
}

# The measurements of a round, in the order of the table and of the
# columns of $WORK/rounds.
names=(bare bare_uuid uuid uuid_logged bare_jwt jwt jwt_logged load)
measure() {
	case $1 in
	bare) wrk_run "$bare$UUID_PATH" ;;
	bare_uuid) wrk_run "$bare$UUID_PATH" "$uuid_quiet" ;;
	uuid) wrk_run "$quiet$UUID_PATH" "$uuid_quiet" ;;
	uuid_logged) wrk_run "$logged$UUID_PATH" "$uuid_logged" ;;
	bare_jwt) wrk_run "$bare$JWT_PATH" "$jwt_quiet" ;;
	jwt) wrk_run "$quiet$JWT_PATH" "$jwt_quiet" ;;
	jwt_logged) wrk_run "$logged$JWT_PATH" "$jwt_logged" ;;
	load) load_run ;;
	esac
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

: >"$WORK/wrk.log"
: >"$WORK/load.log"
: >"$WORK/rounds"
declare -A got
for round in $(seq "$ROUNDS"); do
	order=("${names[@]}")
	if [ $((round % 2)) -eq 0 ]; then
		order=()
		for ((k = ${#names[@]} - 1; k >= 0; k--)); do order+=("${names[k]}"); done
	fi
	log "round $round/$ROUNDS: ${order[*]} ($DURATION each, $CONC connections)"
	for name in "${order[@]}"; do
		got[$name]=$(measure "$name")
	done
	line=
	for name in "${names[@]}"; do line="$line ${got[$name]}"; done
	# 3 columns (rps p50 p99) per measurement, then the six ratios
	printf '%s\n' "${line# }" | awk '{
		printf "%s %.3f %.3f %.3f %.3f %.3f %.3f\n", $0, $7 / $4, $16 / $13, $10 / $7, $19 / $16, $22 / $7, $4 / $1
	}' | tee -a "$WORK/rounds" >&2
done

col() { awk -v c="$1" '{ print $c }' "$WORK/rounds" | median; }
ratio() { col "$1" | awk '{ printf "%.2f", $1 }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t) ? "meets" : "MISSES" }'; }
# row LABEL INDEX: the medians of measurement INDEX (0-based)
row() {
	local c=$(($2 * 3 + 1))
	printf '| %s | %s | %s ms | %s ms |\n' "$1" "$(col "$c")" "$(col $((c + 1)))" "$(col $((c + 2)))"
}
r_uuid=$(ratio 25)
r_jwt=$(ratio 26)
r_uuid_log=$(ratio 27)
r_jwt_log=$(ratio 28)
r_load=$(ratio 29)
r_header=$(ratio 30)

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || echo unknown)
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
summary=$(
	cat <<EOF
| measurement (GET, ${CONC} connections, ${DURATION}, median of ${ROUNDS}) | req/s | p50 | p99 |
|---|---:|---:|---:|
$(row "wrk, bare route, no header" 0)
$(row "wrk, bare route, the UUID's header" 1)
$(row "wrk, protected \`${UUID_PATH}\` (UUID), \`--quiet\`" 2)
$(row "wrk, protected \`${UUID_PATH}\` (UUID), request log on" 3)
$(row "wrk, bare route, the JWT's header" 4)
$(row "wrk, protected \`${JWT_PATH}\` (JWT, cached), \`--quiet\`" 5)
$(row "wrk, protected \`${JWT_PATH}\` (JWT, cached), request log on" 6)
$(row "tollgate load, protected \`${UUID_PATH}\` (UUID), \`--quiet\`" 7)

Medians of the per-round ratios:

- protected ÷ bare route with the same header, UUID: **${r_uuid}×** ($(verdict "$r_uuid" 0.95) the 0.95× target)
- protected ÷ bare route with the same header, JWT (verification cached): **${r_jwt}×** ($(verdict "$r_jwt" 0.95) the 0.95× target)
- request log on ÷ \`--quiet\`, UUID: **${r_uuid_log}×** ($(verdict "$r_uuid_log" 0.90) the 0.90× target)
- request log on ÷ \`--quiet\`, JWT: **${r_jwt_log}×** ($(verdict "$r_jwt_log" 0.90) the 0.90× target)
- tollgate load ÷ wrk, same route and token: **${r_load}×** ($(verdict "$r_load" 0.8) the 0.8× target)
- bare route with the UUID's header ÷ without (the cost of sending it): **${r_header}×**
EOF
)
printf '%s\n' "$summary"

{
	cat <<EOF
# Benchmarks

Written by \`make bench-compare\` (scripts/bench-compare.sh); run it again to
refresh. Every figure below comes from one run on one machine: the load
generator and the servers share its cores, so compare the ratios, which are
measured in the same run, rather than the absolute rates.

- date: $(date -u +%Y-%m-%dT%H:%MZ)
- machine: $(nproc) CPUs (nproc), ${cpu}
- load average (1, 5, 15 min) before the run: ${load_before}; after: ${load_after}. Above
  nproc, other work shared the cores and the per-round ratios below scatter
  accordingly; run again on a quiet machine for tighter figures.
- $(go version | sed 's/^go version //'), $(wrk --version 2>&1 | head -1 | awk '{ print "wrk " $2 }'), wrk threads ${THREADS}

${summary}

How it is measured: three servers run side by side on 127.0.0.1. The bare
route is \`scripts/bareserver\`, a plain net/http handler that writes the
same documented answer as the mock's route and checks nothing, behind an
\`http.Server\` with the timeouts \`tollgate serve\` sets. The mock runs twice:
\`tollgate serve --quiet\`, and \`tollgate serve\` with its default request
log (text, stderr appended to a file that is emptied after each
measurement). Every round measures each line of the table once, wrk with
\`-t${THREADS} -c${CONC} -d${DURATION}\`, in reverse order every other round;
each ratio is taken within a round, and the median over the rounds is
reported. The protected routes run the mock's whole path (routing, CORS,
Bearer header parse, token store lookup or cached JWT verdict and its
revocation check, expiry and scope, the control API's request capture and
fault table (empty), the request log) before a precomputed body. \`make bench\` measures the same routes in-process
(\`BenchmarkRouteWire\`, a wrk-like client) and prints the same ratios.

Per-round figures: rps, p50, p99 of bare, bare with the UUID's header, UUID
quiet, UUID logged, bare with the JWT's header, JWT quiet, JWT logged and
tollgate load; then the ratios UUID ÷ bare, JWT ÷ bare, UUID logged ÷ quiet,
JWT logged ÷ quiet, tollgate load ÷ wrk, and the header's cost.

\`\`\`
$(cat "$WORK/rounds")
\`\`\`
EOF
} >"$OUT"
log "wrote $OUT"
