#!/usr/bin/env bash
# Installs Debian packages for `make e2e`'s scripts: apt-get as root, or
# through sudo when there; never prompts (DEBIAN_FRONTEND=noninteractive,
# sudo -n, stdin closed). Usage: apt-install.sh WHAT PACKAGE...; WHAT names
# the caller in messages.
set -euo pipefail

what=$1
shift
as_root=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		as_root=(sudo -n)
	else
		echo "$what: this is not root and has no sudo; install the Debian packages $*" >&2
		exit 1
	fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "$what: there is no apt-get; install the Debian packages $* (or their equivalents)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "$what: installing the Debian packages $*" >&2
"${as_root[@]}" apt-get update -qq </dev/null
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "$@" </dev/null
