#!/usr/bin/env bash
# Installs Debian's chromium for `make e2e` (the HTML report's browser test)
# when /usr/bin/chromium is absent. Uses sudo only when not root and sudo is
# there; never prompts (DEBIAN_FRONTEND=noninteractive, sudo -n).
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
	exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		as_root=(sudo -n)
	else
		echo "install-chromium: $CHROMIUM is missing and this is not root and has no sudo; install the Debian package chromium" >&2
		exit 1
	fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-chromium: $CHROMIUM is missing and there is no apt-get; install Chromium and set CHROMIUM=/path/to/it" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-chromium: installing the Debian package chromium" >&2
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium </dev/null
if [ ! -x "$CHROMIUM" ]; then
	echo "install-chromium: apt-get installed chromium but $CHROMIUM is still missing" >&2
	exit 1
fi
