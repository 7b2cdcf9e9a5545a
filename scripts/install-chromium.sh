#!/usr/bin/env bash
# Installs Debian's chromium for `make e2e` (the HTML report's and the
# CORS tests' browser) when /usr/bin/chromium is absent, through
# scripts/apt-install.sh (root or sudo -n, never a prompt).
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
	exit 0
fi
bash "$(dirname "$0")/apt-install.sh" install-chromium chromium
if [ ! -x "$CHROMIUM" ]; then
	echo "install-chromium: apt-get installed chromium but $CHROMIUM is still missing; set CHROMIUM=/path/to/it" >&2
	exit 1
fi
