#!/usr/bin/env bash
# peer-check: run `tollgate check` against a third-party auth server, the npm
# package oauth2-mock-server, started on 127.0.0.1 for the run.
#
#   scripts/peer-check.sh [extra `tollgate check` flags, e.g. --verbose]
#
# Environment:
#   PEER_FLOW     flow to check: a built-in name or a document path
#                 (default testdata/flows/oauth2-mock-server.yaml)
#   PEER_TIMEOUT  seconds the `tollgate check` run may take (default 600)
#
# Everything lives in .cache/peer/: the npm install (reused when the pinned
# version is there), the tollgate binary, server.log, summary.txt,
# junit.xml and report.json. docs/peer-check.md lists the verdicts.
#
# Exit status: 0 when tollgate ran and judged the server (its exit 0 or 1:
# failed checks against a third-party server are findings, not errors of
# this script); otherwise non-zero: tollgate's 2 (configuration or
# preflight), a crash, a timeout, or a setup step that failed.
set -euo pipefail

cd "$(dirname "$0")/.."

readonly PEER_PACKAGE=oauth2-mock-server
readonly PEER_VERSION=9.3.0
readonly CACHE=.cache/peer
readonly FLOW=${PEER_FLOW:-testdata/flows/oauth2-mock-server.yaml}
readonly CHECK_TIMEOUT=${PEER_TIMEOUT:-600}
readonly START_TIMEOUT=20 # seconds for the server to answer
readonly PEER_DIR=$CACHE/npm/node_modules/$PEER_PACKAGE

log() { printf 'peer-check: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 3
}

for tool in node npm go curl timeout; do
	command -v "$tool" >/dev/null || die "needs $tool on PATH"
done
mkdir -p "$CACHE/npm"

# 1. Install the pinned peer, or reuse the install already there.
installed=$(node -p "try { require('./$PEER_DIR/package.json').version } catch { '' }")
if [[ $installed != "$PEER_VERSION" ]]; then
	log "installing $PEER_PACKAGE@$PEER_VERSION into $CACHE/npm"
	timeout 300 npm install --prefix "$CACHE/npm" --no-save --ignore-scripts \
		--no-audit --no-fund --silent "$PEER_PACKAGE@$PEER_VERSION" ||
		die "npm install $PEER_PACKAGE@$PEER_VERSION failed (exit $?)"
fi

# 2. Build tollgate from this checkout.
log "building $CACHE/tollgate"
timeout 300 go build -o "$CACHE/tollgate" ./cmd/tollgate || die "go build failed (exit $?)"

# 3. Start the peer on 127.0.0.1 on a port the kernel picks (-p 0), so no
# other process can take it between choosing and binding; the port is read
# from the server's "listening on" line. The trap stops it however we leave.
server_log=$CACHE/server.log
server_pid= check_pid=
cleanup() {
	local pid
	for pid in $check_pid $server_pid; do
		if kill -0 "$pid" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

(cd "$CACHE" && exec node "npm/node_modules/$PEER_PACKAGE/dist/oauth2-mock-server.mjs" -a 127.0.0.1 -p 0) \
	>"$server_log" 2>&1 &
server_pid=$!

port= ready=
for ((i = 0; i < START_TIMEOUT * 4; i++)); do
	kill -0 "$server_pid" 2>/dev/null || die "$PEER_PACKAGE exited at start; see $server_log: $(tail -n 3 "$server_log")"
	# The "issuer" line follows the "listening" one, so once it is there the
	# port number cannot be half written.
	if grep -q '^OAuth 2 issuer is ' "$server_log"; then
		port=$(sed -n 's|^OAuth 2 server listening on http://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' "$server_log")
	fi
	if [[ -n $port ]] && curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$port/.well-known/openid-configuration"; then
		ready=1
		break
	fi
	sleep 0.25
done
[[ -n $ready ]] || die "$PEER_PACKAGE did not answer on 127.0.0.1${port:+:$port} within ${START_TIMEOUT}s; see $server_log"
# Check it under its own issuer identifier (http://localhost:PORT, from its
# log), the URL its discovery document names: RFC 8414 §3.3 and OpenID
# Discovery §4.3 forbid using metadata whose issuer differs from the URL it
# was fetched under. localhost is loopback; the server listens on 127.0.0.1.
target=$(sed -n "s|^OAuth 2 issuer is \(http://localhost:$port\)\$|\1|p" "$server_log")
target=${target:-http://127.0.0.1:$port}
log "$PEER_PACKAGE $PEER_VERSION (node $(node --version)) answers on $target"

# 4. Check it. The peer accepts any client and secret; unset every other
# TOLLGATE_* variable so the caller's environment cannot change the run.
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^TOLLGATE_' || true)
export TOLLGATE_CLIENT_ID=peer-check-client
export TOLLGATE_CLIENT_SECRET=peer-check-secret-0123456789

log "tollgate check --target $target --flow $FLOW"
# In the background, so that a signal to this script stops it at once (bash
# runs traps only after a foreground command ends, but interrupts `wait`).
timeout "$CHECK_TIMEOUT" "$CACHE/tollgate" check --target "$target" --flow "$FLOW" \
	--junit-report "$CACHE/junit.xml" --json-report "$CACHE/report.json" "$@" \
	> >(tee "$CACHE/summary.txt") &
check_pid=$!
rc=0
wait "$check_pid" || rc=$?
check_pid=

case $rc in
0) log "tollgate found no failed MUST check" ;;
1) log "tollgate reported failed checks: findings about $PEER_PACKAGE, see docs/peer-check.md" ;;
124) log "tollgate check ran past ${CHECK_TIMEOUT}s"; exit "$rc" ;;
2) log "tollgate exited 2: configuration or preflight error (or a Go panic), see above"; exit "$rc" ;;
*) log "tollgate exited $rc: it crashed"; exit "$rc" ;;
esac
log "reports: $CACHE/summary.txt, $CACHE/junit.xml, $CACHE/report.json; server log: $server_log"
exit 0
