#!/bin/sh
# Debian's gsoap source, for the lean gSOAP runtime (Makefile: GSOAP_LEAN): fetch the source
# package of the installed libgsoap-dev into DIR once (apt-get source, Debian's patches
# applied) and print the directory that holds its stdsoap2.c. Prints nothing and fails when it
# cannot be had (no deb-src line, no network, not root for the tools): the build then links
# Debian's libgsoapssl instead. Never copies the source into the repository.
set -u
dir=${1:?usage: gsoap-src.sh DIR}
here=$(dirname "$0")
found() {
	for d in "$dir"/gsoap-*/gsoap; do
		if [ -f "$d/stdsoap2.c" ] && [ -f "$d/dom.c" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}
found && exit 0
# dpkg-dev unpacks the source package; libgsoap-dev says which version to fetch.
sh "$here/deb-install.sh" dpkg-dev libgsoap-dev >/dev/null 2>&1 || exit 1
ver=$(dpkg-query -W -f='${Version}' libgsoap-dev 2>/dev/null) || exit 1
mkdir -p "$dir" || exit 1
(cd "$dir" && apt-get source -q "gsoap=$ver") >/dev/null 2>&1 || exit 1
found
