#!/bin/sh
# Install the Debian packages named as arguments that are not installed yet.
# As root: apt-get update (once) and apt-get install -y. Otherwise: say what is missing and fail.
set -eu
missing=""
for p in "$@"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "tskey: missing Debian packages:$missing" >&2
	echo "tskey: run as root, or: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "tskey: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
