#!/usr/bin/env bash
# shellcheck disable=SC2317 # start_SERVER, fail and the trap handler are called indirectly
# peer-check: run `tollgate check` against three auth servers Tollgate did
# not write, each started on 127.0.0.1 for the run:
#
#   oauth2-mock-server  the npm package oauth2-mock-server 9.3.0
#   go-oauth2           github.com/go-oauth2/oauth2/v4 v4.5.4's example server
#                       (token endpoint and its protected route /test)
#   zitadel-oidc        github.com/zitadel/oidc/v3 v3.52.0's example OP
#
#   scripts/peer-check.sh [extra `tollgate check` flags, e.g. --verbose]
#
# Environment:
#   PEER_SERVERS  the servers to check, space-separated, in that order
#                 (default: all three, as above)
#   PEER_TIMEOUT  seconds one `tollgate check` run may take (default 600)
#
# Everything lives in .cache/peer/: the npm install and the Go builds (reused
# when the pinned version is there), the tollgate binary, and per server
# .cache/peer/SERVER/ with server.log, summary.txt, summary.json, junit.xml
# and report.json. docs/peer-check.md lists the verdicts.
#
# The Go servers are built from the Go module proxy only: the small main
# packages in scripts/peer/_SERVER/main.go are copied into
# .cache/peer/SERVER/build/ next to a go.mod that requires the pinned module.
#
# Exit status: 0 when tollgate ran and judged every selected server (its exit
# 0 or 1: failed checks against a third-party server are findings, not errors
# of this script); otherwise the first non-zero status: tollgate's 2
# (configuration or preflight), a crash, a timeout (124), or a setup step
# that failed (3). A server whose setup fails does not stop the others.
set -euo pipefail

cd "$(dirname "$0")/.."

readonly ALL_SERVERS="oauth2-mock-server go-oauth2 zitadel-oidc"
readonly SERVERS=${PEER_SERVERS:-$ALL_SERVERS}
readonly CACHE=.cache/peer
readonly CHECK_TIMEOUT=${PEER_TIMEOUT:-600}
readonly START_TIMEOUT=20  # seconds for a server to answer
readonly BUILD_TIMEOUT=300 # seconds for one install or build step

readonly NPM_PACKAGE=oauth2-mock-server
readonly NPM_VERSION=9.3.0
readonly GO_OAUTH2_MODULE=github.com/go-oauth2/oauth2/v4
readonly GO_OAUTH2_VERSION=v4.5.4
readonly ZITADEL_MODULE=github.com/zitadel/oidc/v3
readonly ZITADEL_VERSION=v3.52.0

log() { printf 'peer-check: %s\n' "$*" >&2; }

# fail reports a setup failure of the current server; the caller returns 3.
fail() {
	log "$*"
	return 3
}

for tool in go curl timeout; do
	command -v "$tool" >/dev/null || {
		log "needs $tool on PATH"
		exit 3
	}
done
for server in $SERVERS; do
	case " $ALL_SERVERS " in
	*" $server "*) ;;
	*)
		log "unknown server \"$server\" in PEER_SERVERS; known: $ALL_SERVERS"
		exit 3
		;;
	esac
done

# The process of the running server and of the running check; the trap stops
# them however the script ends.
server_pid='' check_pid=''
stop_processes() {
	local pid
	for pid in $check_pid $server_pid; do
		if kill -0 "$pid" 2>/dev/null; then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	check_pid='' server_pid=''
}
trap stop_processes EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_ready LOG PATTERN PROBE_PATH: wait until the server's log has a line
# matching the sed PATTERN (whose \1 is the base URL) and the server answers
# PROBE_PATH with any HTTP status. Sets target.
wait_ready() {
	local log_file=$1 pattern=$2 probe=$3 i
	target=''
	for ((i = 0; i < START_TIMEOUT * 4; i++)); do
		kill -0 "$server_pid" 2>/dev/null ||
			fail "the server exited at start; see $log_file: $(tail -n 3 "$log_file")" || return
		[[ -n $target ]] || target=$(sed -n "s|$pattern|\1|p" "$log_file" | head -n 1)
		if [[ -n $target ]] && curl -s -o /dev/null --max-time 2 "${target%/}$probe"; then
			return 0
		fi
		sleep 0.25
	done
	fail "the server did not answer${target:+ on $target} within ${START_TIMEOUT}s; see $log_file"
}

# build_go_server NAME MODULE VERSION: build scripts/peer/_NAME/main.go against
# MODULE@VERSION from the Go module proxy into $CACHE/NAME/server.
build_go_server() {
	local name=$1 module=$2 version=$3
	local dir=$CACHE/$name/build
	mkdir -p "$dir"
	cp "scripts/peer/_$name/main.go" "$dir/main.go"
	if ! grep -qs "^require $module $version\$" "$dir/go.mod"; then
		log "resolving $module@$version into $dir"
		rm -f "$dir/go.mod" "$dir/go.sum"
		(
			cd "$dir" &&
				GOWORK=off go mod init "peer-check/$name" 2>/dev/null &&
				GOWORK=off timeout "$BUILD_TIMEOUT" go get "$module@$version" &&
				GOWORK=off timeout "$BUILD_TIMEOUT" go mod tidy
		) || fail "resolving $module@$version failed" || return
	fi
	log "building $name from $module@$version"
	(cd "$dir" && GOWORK=off GOFLAGS=-mod=mod timeout "$BUILD_TIMEOUT" go build -o ../server .) ||
		fail "go build of $name failed" || return
}

# Each start_SERVER installs or builds the server, starts it in the
# background (server_pid), waits for it and sets target, flow, client_id and
# client_secret for the check.

start_oauth2-mock-server() {
	local dir=$CACHE/oauth2-mock-server log_file=$CACHE/oauth2-mock-server/server.log
	local package_dir=$CACHE/npm/node_modules/$NPM_PACKAGE installed
	command -v node >/dev/null && command -v npm >/dev/null || fail "oauth2-mock-server needs node and npm on PATH" || return
	mkdir -p "$CACHE/npm"
	installed=$(node -p "try { require('./$package_dir/package.json').version } catch { '' }")
	if [[ $installed != "$NPM_VERSION" ]]; then
		log "installing $NPM_PACKAGE@$NPM_VERSION into $CACHE/npm"
		timeout "$BUILD_TIMEOUT" npm install --prefix "$CACHE/npm" --no-save --ignore-scripts \
			--no-audit --no-fund --silent "$NPM_PACKAGE@$NPM_VERSION" ||
			fail "npm install $NPM_PACKAGE@$NPM_VERSION failed" || return
	fi
	# -p 0: the kernel picks the port, so no other process can take it
	# between choosing and binding. The issuer line follows the listening
	# one, so once it is there the port number cannot be half written.
	(cd "$CACHE" && exec node "npm/node_modules/$NPM_PACKAGE/dist/oauth2-mock-server.mjs" -a 127.0.0.1 -p 0) \
		>"$log_file" 2>&1 &
	server_pid=$!
	# Check it under its own issuer identifier (http://localhost:PORT, from its
	# log), the URL its discovery document names: RFC 8414 §3.3 and OpenID
	# Discovery §4.3 forbid using metadata whose issuer differs from the URL it
	# was fetched under. localhost is loopback; the server listens on 127.0.0.1.
	wait_ready "$log_file" '^OAuth 2 issuer is \(http://localhost:[0-9][0-9]*\)$' /.well-known/openid-configuration || return
	grep -q '^OAuth 2 server listening on http://127\.0\.0\.1:' "$log_file" ||
		fail "oauth2-mock-server does not listen on 127.0.0.1; see $log_file" || return
	log "$NPM_PACKAGE $NPM_VERSION (node $(node --version)) answers on $target; see $dir"
	flow=testdata/flows/oauth2-mock-server.yaml
	# The server accepts any client and secret.
	client_id=peer-check-client client_secret=peer-check-secret-0123456789
}

start_go-oauth2() {
	local log_file=$CACHE/go-oauth2/server.log
	build_go_server go-oauth2 "$GO_OAUTH2_MODULE" "$GO_OAUTH2_VERSION" || return
	"$CACHE/go-oauth2/server" >"$log_file" 2>&1 &
	server_pid=$!
	wait_ready "$log_file" '^listening on \(http://127\.0\.0\.1:[0-9][0-9]*\)$' /test || return
	log "go-oauth2 $GO_OAUTH2_VERSION example server answers on $target"
	flow=testdata/flows/go-oauth2.yaml
	# The example's only client (its -i and -s defaults).
	client_id=222222 client_secret=22222222
}

start_zitadel-oidc() {
	local log_file=$CACHE/zitadel-oidc/server.log
	build_go_server zitadel-oidc "$ZITADEL_MODULE" "$ZITADEL_VERSION" || return
	"$CACHE/zitadel-oidc/server" >"$log_file" 2>&1 &
	server_pid=$!
	# The example's issuer is http://localhost:PORT/ (it listens on 127.0.0.1).
	wait_ready "$log_file" '^listening on \(http://localhost:[0-9][0-9]*\)/$' /.well-known/openid-configuration || return
	log "zitadel-oidc $ZITADEL_VERSION example OP answers on $target"
	flow=testdata/flows/zitadel-oidc.yaml
	# The example storage's service user, the one client allowed the client
	# credentials grant.
	client_id=sid1 client_secret=verysecret
}

# check_server NAME [tollgate flags]: start NAME, check it, stop it. Returns
# 0 when tollgate judged it (exit 0 or 1), else the status the script exits
# with.
check_server() {
	local name=$1 dir=$CACHE/$1 rc=0 var
	shift
	mkdir -p "$dir"
	# Remove the last run's files first: the server's log is opened by its
	# background job, so an old one could otherwise be read for the new address.
	rm -f "$dir/server.log" "$dir/summary.txt" "$dir/summary.json" "$dir/junit.xml" "$dir/report.json"
	target='' flow='' client_id='' client_secret=''
	"start_$name" || return

	# Unset every other TOLLGATE_* variable so the caller's environment cannot
	# change the run.
	while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^TOLLGATE_' || true)
	log "$name: tollgate check --target $target --flow $flow"
	# In the background, so that a signal to this script stops it at once
	# (bash runs traps only after a foreground command ends, but interrupts
	# `wait`).
	TOLLGATE_CLIENT_ID=$client_id TOLLGATE_CLIENT_SECRET=$client_secret \
		timeout "$CHECK_TIMEOUT" "$CACHE/tollgate" check --target "$target" --flow "$flow" \
		--junit-report "$dir/junit.xml" --json-report "$dir/report.json" \
		--summary-json "$dir/summary.json" "$@" \
		> >(tee "$dir/summary.txt") &
	check_pid=$!
	wait "$check_pid" || rc=$?
	check_pid=''
	stop_processes

	case $rc in
	0) log "$name: tollgate found no failed MUST check" ;;
	1) log "$name: tollgate reported failed checks: findings about the server, see docs/peer-check.md" ;;
	124) log "$name: tollgate check ran past ${CHECK_TIMEOUT}s" ;;
	2) log "$name: tollgate exited 2: configuration or preflight error (or a Go panic), see above" ;;
	*) log "$name: tollgate exited $rc: it crashed" ;;
	esac
	log "$name: reports in $dir (summary.txt, summary.json, junit.xml, report.json, server.log)"
	[[ $rc == 0 || $rc == 1 ]] || return "$rc"
}

log "building $CACHE/tollgate"
mkdir -p "$CACHE"
timeout "$BUILD_TIMEOUT" go build -o "$CACHE/tollgate" ./cmd/tollgate || {
	log "go build of tollgate failed"
	exit 3
}

status=0 results=()
for server in $SERVERS; do
	rc=0
	check_server "$server" "$@" || rc=$?
	stop_processes
	if [[ $rc == 0 ]]; then
		results+=("$server: judged")
	else
		results+=("$server: not judged (status $rc)")
		[[ $status != 0 ]] || status=$rc
	fi
done
for line in "${results[@]}"; do log "$line"; done
exit "$status"
