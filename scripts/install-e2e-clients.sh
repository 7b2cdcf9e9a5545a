#!/usr/bin/env bash
# Installs what `make e2e`'s real-client tests need, each only when missing:
# Node.js 20 or later with npm; the npm packages pinned in
# e2e/clients/package-lock.json (npm ci, when node_modules is missing or
# older than the lock file); and Debian's libnss-wrapper, which lets one
# node process resolve auth.localhost to 127.0.0.1 from a hosts file of its
# own (LD_PRELOAD, NSS_WRAPPER_HOSTS), without root and without touching
# /etc/hosts or the client's fetch. Debian packages go through
# scripts/apt-install.sh (root or sudo -n, never a prompt).
set -euo pipefail
cd "$(dirname "$0")/.."
clients=e2e/clients

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	bash scripts/apt-install.sh install-e2e-clients nodejs npm
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
	echo "install-e2e-clients: node $(node --version) is too old: openid-client 6 and @commercelayer/js-auth 8 need Node.js 20 or later" >&2
	exit 1
fi

if ! compgen -G '/usr/lib/*/libnss_wrapper.so' >/dev/null && ! compgen -G '/usr/lib*/libnss_wrapper.so' >/dev/null; then
	bash scripts/apt-install.sh install-e2e-clients libnss-wrapper
fi

installed=$clients/node_modules/.package-lock.json # npm ci writes it last
if [ ! -f "$installed" ] || [ "$clients/package-lock.json" -nt "$installed" ]; then
	echo "install-e2e-clients: npm ci in $clients" >&2
	(cd "$clients" && npm ci --no-audit --no-fund --ignore-scripts </dev/null)
fi
